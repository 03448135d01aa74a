//! The generic SMS webhook sender.
//!
//! `POST <url>` with `Content-Type: application/json` and the body
//! `{"to": "+1555…", "message": "…", "id": "<uuid>"}`; headers
//! `X-Cognate-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>` and
//! `X-Cognate-Timestamp: <unix seconds>`. A 2xx answer is success (its JSON
//! `messageId`, if any, becomes the receipt's message id, else our `id`);
//! 4xx is a rejection; 5xx, 3xx and connection errors mean unavailable.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{util, DeliveryError, Receipt, SmsMessage};

/// Header carrying `sha256=<hex HMAC>` of the raw request body.
pub const SIGNATURE_HEADER: &str = "X-Cognate-Signature";
/// Header carrying the send time in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "X-Cognate-Timestamp";

pub(crate) struct Webhook {
    client: reqwest::Client,
    url: reqwest::Url,
    secret: Vec<u8>,
}

impl Webhook {
    pub(crate) fn new(url: &str, secret: &str, timeout: Duration) -> Result<Self, DeliveryError> {
        let parsed = reqwest::Url::parse(url).map_err(|e| {
            DeliveryError::Unavailable(format!(
                "invalid SMS webhook URL '{}': {e}",
                util::redact_url(url)
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(DeliveryError::Unavailable(format!(
                "the SMS webhook URL must be http(s), not '{}'",
                parsed.scheme()
            )));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("cognate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| {
                DeliveryError::Unavailable(format!("cannot build the HTTP client: {e}"))
            })?;
        Ok(Webhook {
            client,
            url: parsed,
            secret: secret.as_bytes().to_vec(),
        })
    }

    pub(crate) fn describe(&self) -> String {
        util::redact_url(self.url.as_str())
    }

    pub(crate) async fn send(&self, msg: &SmsMessage) -> Result<Receipt, DeliveryError> {
        let id = util::new_id();
        let body = serde_json::to_vec(&serde_json::json!({
            "to": msg.to,
            "message": msg.body,
            "id": id,
        }))
        .map_err(|e| DeliveryError::Rejected(format!("cannot encode the webhook body: {e}")))?;
        let signature = format!("sha256={}", util::hmac_sha256_hex(&self.secret, &body));
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let resp = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .body(body)
            .send()
            .await
            .map_err(map_error)?;
        let status = resp.status();
        if status.is_success() {
            let message_id = match resp.bytes().await {
                Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| {
                        v.get("messageId")
                            .and_then(|m| m.as_str())
                            .map(str::to_string)
                    }),
                Err(_) => None,
            };
            Ok(Receipt {
                provider: "webhook",
                message_id: Some(message_id.unwrap_or(id)),
            })
        } else if status.is_client_error() {
            Err(DeliveryError::Rejected(format!(
                "SMS webhook answered HTTP {}",
                status.as_u16()
            )))
        } else {
            Err(DeliveryError::Unavailable(format!(
                "SMS webhook answered HTTP {}",
                status.as_u16()
            )))
        }
    }
}

fn map_error(e: reqwest::Error) -> DeliveryError {
    if e.is_timeout() {
        DeliveryError::Timeout
    } else {
        // Strip the URL (it may carry a token) from the message.
        DeliveryError::Unavailable(format!(
            "SMS webhook: {}",
            util::error_chain(&e.without_url())
        ))
    }
}
