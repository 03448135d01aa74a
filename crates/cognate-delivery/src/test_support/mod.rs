//! Test doubles for delivery (feature `test-support`), reusable by the
//! server's integration tests:
//!
//! * [`FakeAws`]: SNS `Publish` + SES v2 `SendEmail` on `127.0.0.1:<port>`,
//!   verifying SigV4 with an independent implementation ([`sigv4`]);
//! * [`WebhookReceiver`]: an SMS webhook that checks `X-Cognate-Signature`;
//! * [`SmtpSink`]: the aiosmtpd sink (`tests/support/smtp_sink.py`);
//! * [`BlackHole`]: a TCP listener that accepts and never answers (timeouts);
//! * [`closed_port`]: a loopback port with nothing listening.

use std::net::SocketAddr;

mod fake_aws;
pub mod sigv4;
mod smtp_sink;
mod webhook;

pub use fake_aws::{parse_form, sdk_config_for, FakeAws, SesEmail, SnsPublish};
pub use smtp_sink::{
    python_with_aiosmtpd, sink_script, workspace_root, SmtpSink, SmtpSinkOptions, SunkMail,
};
pub use webhook::{WebhookReceiver, WebhookSms};

/// How a fake answers requests that passed its checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FakeMode {
    /// Accept and record.
    #[default]
    Normal,
    /// Answer this HTTP status with this error code (AWS error code for
    /// [`FakeAws`], the body text for [`WebhookReceiver`]); nothing recorded.
    Fail { status: u16, code: String },
    /// Never answer (for timeout tests).
    Hang,
}

impl FakeMode {
    pub fn fail(status: u16, code: &str) -> Self {
        FakeMode::Fail {
            status,
            code: code.to_string(),
        }
    }
}

/// An axum server task on `127.0.0.1:0`, aborted on drop.
pub(crate) struct ServerHandle(tokio::task::JoinHandle<()>);

impl ServerHandle {
    pub(crate) async fn serve(app: axum::Router) -> std::io::Result<(SocketAddr, ServerHandle)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok((addr, ServerHandle(task)))
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A TCP listener on `127.0.0.1:<port>` that accepts connections and never
/// sends a byte (an SMTP server or HTTP endpoint that hangs). Stops on drop.
#[derive(Debug)]
pub struct BlackHole {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl BlackHole {
    pub async fn start() -> std::io::Result<BlackHole> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let task = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                held.push(sock);
            }
        });
        Ok(BlackHole { port, task })
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A loopback port nothing listens on (bound once, then released).
pub fn closed_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = l.local_addr()?.port();
    drop(l);
    Ok(port)
}
