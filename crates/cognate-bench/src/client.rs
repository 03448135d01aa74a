//! One HTTP/1.1 keep-alive connection per worker (hyper's low-level client), reconnecting
//! when the server closes it (moto's development server closes after every response).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{anyhow, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{header, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Any well-formed SigV4 header: emulators accept it, and Cognate checks only its shape.
pub const SIGV4: &str = "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/cognito-idp/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000";
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
pub const JSON_11: &str = "application/x-amz-json-1.1";

#[derive(Clone, Debug)]
pub struct Endpoint {
    pub addr: SocketAddr,
    /// `host:port` for the Host header.
    pub authority: String,
}

impl Endpoint {
    /// `http://127.0.0.1:9229` (a path, if any, is ignored).
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| anyhow!("only http:// endpoints are supported, got {url}"))?;
        let authority = rest.split('/').next().unwrap_or(rest).to_string();
        let addr = std::net::ToSocketAddrs::to_socket_addrs(&authority)
            .with_context(|| format!("resolving {authority}"))?
            .next()
            .ok_or_else(|| anyhow!("{authority} resolves to nothing"))?;
        if !addr.ip().is_loopback() {
            return Err(anyhow!(
                "{addr} is not a loopback address: this benchmark only drives local servers"
            ));
        }
        Ok(Self { addr, authority })
    }
}

/// A finished exchange.
pub struct Reply {
    pub status: StatusCode,
    /// `X-Amzn-ErrorType` header, if any.
    pub error_type: Option<String>,
    pub body: Bytes,
}

/// What to send: a Cognito operation (POST / with X-Amz-Target) or a plain GET.
#[derive(Clone, Debug)]
pub enum Call {
    Op {
        op: &'static str,
        body: Bytes,
        /// Send the SigV4-shaped Authorization header (admin operations).
        signed: bool,
    },
    Get {
        path: String,
    },
}

impl Call {
    pub fn op(op: &'static str, body: &serde_json::Value) -> Self {
        Call::Op {
            op,
            body: Bytes::from(body.to_string()),
            signed: false,
        }
    }

    pub fn admin(op: &'static str, body: &serde_json::Value) -> Self {
        Call::Op {
            op,
            body: Bytes::from(body.to_string()),
            signed: true,
        }
    }
}

pub struct Conn {
    endpoint: Endpoint,
    sender: Option<SendRequest<Full<Bytes>>>,
    pub connects: u64,
    timeout: Duration,
}

impl Conn {
    pub fn new(endpoint: Endpoint, timeout: Duration) -> Self {
        Self {
            endpoint,
            sender: None,
            connects: 0,
            timeout,
        }
    }

    async fn connect(&mut self) -> anyhow::Result<()> {
        let stream = TcpStream::connect(self.endpoint.addr)
            .await
            .with_context(|| format!("connecting to {}", self.endpoint.addr))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        self.sender = Some(sender);
        self.connects += 1;
        Ok(())
    }

    /// A ready sender, reconnecting if the previous connection was closed.
    async fn ready(&mut self) -> anyhow::Result<&mut SendRequest<Full<Bytes>>> {
        let usable = match self.sender.as_mut() {
            Some(s) => !s.is_closed() && s.ready().await.is_ok(),
            None => false,
        };
        if !usable {
            self.sender = None;
            self.connect().await?;
        }
        self.sender.as_mut().ok_or_else(|| anyhow!("no connection"))
    }

    /// Opens the connection ahead of the first request.
    pub async fn warm(&mut self) -> anyhow::Result<()> {
        self.ready().await.map(|_| ())
    }

    fn build(&self, call: &Call) -> anyhow::Result<Request<Full<Bytes>>> {
        let builder = Request::builder().header(header::HOST, self.endpoint.authority.as_str());
        let req = match call {
            Call::Op { op, body, signed } => {
                let mut b = builder
                    .method(Method::POST)
                    .uri("/")
                    .header(header::CONTENT_TYPE, JSON_11)
                    .header("x-amz-target", format!("{TARGET_PREFIX}{op}"))
                    .header("x-amz-date", "20260101T000000Z");
                if *signed {
                    b = b.header(header::AUTHORIZATION, SIGV4);
                }
                b.body(Full::new(body.clone()))?
            }
            Call::Get { path } => builder
                .method(Method::GET)
                .uri(path.as_str())
                .body(Full::new(Bytes::new()))?,
        };
        Ok(req)
    }

    /// Sends one request and reads the whole response. A transport failure drops the
    /// connection (the next call reconnects) and is returned as an error.
    pub async fn call(&mut self, call: &Call) -> anyhow::Result<Reply> {
        let req = self.build(call)?;
        let timeout = self.timeout;
        let result = tokio::time::timeout(timeout, async {
            let sender = self.ready().await?;
            let resp = sender.send_request(req).await?;
            let status = resp.status();
            let close = resp
                .headers()
                .get(header::CONNECTION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("close"));
            let error_type = resp
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = resp.into_body().collect().await?.to_bytes();
            Ok::<_, anyhow::Error>((
                Reply {
                    status,
                    error_type,
                    body,
                },
                close,
            ))
        })
        .await;
        match result {
            Ok(Ok((reply, close))) => {
                if close {
                    self.sender = None;
                }
                Ok(reply)
            }
            Ok(Err(e)) => {
                self.sender = None;
                Err(e)
            }
            Err(_) => {
                self.sender = None;
                Err(anyhow!("no answer within {} s", timeout.as_secs_f64()))
            }
        }
    }
}

impl Reply {
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The AWS error name (`__type` without a namespace, or the X-Amzn-ErrorType header).
    pub fn error_name(&self) -> Option<String> {
        let from_body = self
            .json()
            .and_then(|v| v.get("__type").and_then(|t| t.as_str()).map(str::to_string));
        let raw = from_body.or_else(|| self.error_type.clone())?;
        let name = raw.split(':').next().unwrap_or(&raw);
        Some(name.rsplit('#').next().unwrap_or(name).to_string())
    }

    /// A short description for the unexpected-responses summary.
    pub fn describe(&self) -> String {
        match self.error_name() {
            Some(name) => format!("{} {name}", self.status.as_u16()),
            None => {
                let text = String::from_utf8_lossy(&self.body);
                let text: String = text.chars().take(60).collect();
                format!("{} {}", self.status.as_u16(), text.replace('\n', " "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, header: Option<&str>, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            error_type: header.map(str::to_string),
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn error_names_drop_namespaces_and_header_suffixes() {
        assert_eq!(
            reply(
                400,
                None,
                r#"{"__type":"CodeMismatchException","message":"x"}"#
            )
            .error_name(),
            Some("CodeMismatchException".into())
        );
        assert_eq!(
            reply(
                400,
                None,
                r#"{"__type":"com.amazonaws.cognito#CodeMismatchException"}"#
            )
            .error_name(),
            Some("CodeMismatchException".into())
        );
        assert_eq!(
            reply(400, Some("ExpiredCodeException:http://internal"), "").error_name(),
            Some("ExpiredCodeException".into())
        );
        assert_eq!(reply(200, None, "{}").error_name(), None);
        assert_eq!(
            reply(500, None, "<html>oops</html>").describe(),
            "500 <html>oops</html>"
        );
    }

    #[test]
    fn endpoints_must_be_loopback_http() {
        let e = Endpoint::parse("http://127.0.0.1:9229/").unwrap();
        assert_eq!(e.authority, "127.0.0.1:9229");
        assert!(e.addr.ip().is_loopback());
        assert!(Endpoint::parse("https://127.0.0.1:1").is_err());
        assert!(Endpoint::parse("http://192.0.2.1:80").is_err());
    }
}
