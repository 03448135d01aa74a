//! A local SMS webhook receiver that checks the `X-Cognate-Signature` HMAC
//! of every request and records the messages it accepted.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{FakeMode, ServerHandle};

/// One accepted (correctly signed) webhook call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSms {
    pub to: String,
    pub message: String,
    pub id: String,
    pub timestamp: u64,
    /// The `messageId` answered (absent when answering without one).
    pub message_id: Option<String>,
}

#[derive(Default)]
struct Inner {
    received: Vec<WebhookSms>,
    bad_signatures: usize,
    mode: FakeMode,
    answer_message_id: bool,
}

struct Shared {
    secret: Vec<u8>,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running receiver (any path, POST). Stops when dropped.
pub struct WebhookReceiver {
    pub addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    _server: ServerHandle,
}

impl std::fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("addr", &self.addr)
            .finish()
    }
}

impl WebhookReceiver {
    /// Starts a receiver accepting requests signed with `secret`. A wrongly
    /// signed request gets 401 (and is counted in `bad_signatures`); a
    /// correctly signed one is recorded and answered per the mode (default
    /// 200 with `{"messageId": "wh-<n>"}`).
    pub async fn start(secret: &str) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            secret: secret.as_bytes().to_vec(),
            inner: Mutex::new(Inner {
                answer_message_id: true,
                ..Inner::default()
            }),
        });
        let app = axum::Router::new()
            .fallback(axum::routing::post(handle))
            .with_state(Arc::clone(&shared));
        let (addr, server) = ServerHandle::serve(app).await?;
        Ok(WebhookReceiver {
            addr,
            shared,
            _server: server,
        })
    }

    /// `http://127.0.0.1:<port>/sms`.
    pub fn url(&self) -> String {
        format!("http://{}/sms", self.addr)
    }

    /// Accepted messages, oldest first. With a `Fail` or `Hang` mode
    /// nothing is recorded.
    pub fn messages(&self) -> Vec<WebhookSms> {
        self.shared.lock().received.clone()
    }

    /// Requests whose signature or timestamp did not check out.
    pub fn bad_signatures(&self) -> usize {
        self.shared.lock().bad_signatures
    }

    pub fn set_mode(&self, mode: FakeMode) {
        self.shared.lock().mode = mode;
    }

    /// Whether 2xx answers carry a `messageId` (default true).
    pub fn set_answer_message_id(&self, yes: bool) {
        self.shared.lock().answer_message_id = yes;
    }
}

async fn handle(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let signature_ok = header("x-cognate-signature")
        .and_then(|s| s.strip_prefix("sha256=").map(str::to_string))
        .and_then(|h| hex::decode(h).ok())
        .is_some_and(|given| {
            Hmac::<Sha256>::new_from_slice(&shared.secret)
                .map(|mut mac| {
                    mac.update(&body);
                    mac.verify_slice(&given).is_ok()
                })
                .unwrap_or(false)
        });
    let timestamp = header("x-cognate-timestamp").and_then(|t| t.parse::<u64>().ok());
    let json_ct = header("content-type").is_some_and(|c| c.starts_with("application/json"));
    let (true, Some(timestamp), true) = (signature_ok, timestamp, json_ct) else {
        shared.lock().bad_signatures += 1;
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    };
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not JSON").into_response();
    };
    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    let (Some(to), Some(message), Some(id)) = (field("to"), field("message"), field("id")) else {
        return (StatusCode::BAD_REQUEST, "to, message and id are required").into_response();
    };
    let mode = shared.lock().mode.clone();
    match mode {
        FakeMode::Normal => {}
        FakeMode::Fail { status, code } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, code).into_response();
        }
        FakeMode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
    }
    let mut inner = shared.lock();
    let message_id = inner
        .answer_message_id
        .then(|| format!("wh-{}", inner.received.len() + 1));
    inner.received.push(WebhookSms {
        to,
        message,
        id,
        timestamp,
        message_id: message_id.clone(),
    });
    drop(inner);
    let reply = match message_id {
        Some(m) => serde_json::json!({ "messageId": m }),
        None => serde_json::json!({ "status": "queued" }),
    };
    (StatusCode::OK, axum::Json(reply)).into_response()
}
