//! Invoking a trigger function: Lambda `Invoke` (SigV4, `RequestResponse`) or
//! a webhook, with a per-attempt timeout and retries on service errors.

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_lambda::config::http::HttpResponse;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::types::InvocationType;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use aws_smithy_types::Blob;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::events::check_envelope;
use crate::{TriggerConfig, TriggerError, TriggerKind, CONNECTION_ERROR_CODE, TIMEOUT_ERROR_CODE};

/// Pause before attempt n+1 (n = 1, 2, ...): 50 ms, 100 ms, 200 ms, ... ≤ 1 s.
fn backoff(attempt: u32) -> Duration {
    let ms = 50u64.saturating_mul(1u64 << attempt.saturating_sub(1).min(5));
    Duration::from_millis(ms.min(1000))
}

/// One attempt's failure, and whether another attempt may help.
struct Failure {
    error: TriggerError,
    retry: bool,
}

impl Failure {
    fn final_(error: TriggerError) -> Self {
        Failure {
            error,
            retry: false,
        }
    }
    fn transient(error: TriggerError) -> Self {
        Failure { error, retry: true }
    }
    fn service(code: impl Into<String>, retry: bool) -> Self {
        Failure {
            error: TriggerError::Service { code: code.into() },
            retry,
        }
    }
}

/// Invokes trigger functions. Cheap to share (`Arc`) across requests.
pub struct TriggerInvoker {
    cfg: TriggerConfig,
    /// `Some` for [`TriggerInvoker::with_sdk_config`]; otherwise the standard
    /// AWS configuration chain is loaded on the first Lambda invocation.
    preset: Option<SdkConfig>,
    lambda: OnceCell<aws_sdk_lambda::Client>,
    http: reqwest::Client,
}

impl std::fmt::Debug for TriggerInvoker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TriggerInvoker")
            .field("cfg", &self.cfg)
            .field("preset_sdk_config", &self.preset.is_some())
            .finish()
    }
}

impl TriggerInvoker {
    /// Uses the standard AWS configuration (`AWS_ENDPOINT_URL_LAMBDA` /
    /// `AWS_ENDPOINT_URL`, `AWS_REGION`, `AWS_ACCESS_KEY_ID` /
    /// `AWS_SECRET_ACCESS_KEY`, profiles, ...), loaded once, on the first
    /// Lambda invocation (a server without triggers never touches it).
    pub async fn new(cfg: TriggerConfig) -> Self {
        Self::build(cfg, None)
    }

    /// Uses the given SDK configuration instead of the process environment.
    pub fn with_sdk_config(cfg: TriggerConfig, sdk: SdkConfig) -> Self {
        Self::build(cfg, Some(sdk))
    }

    fn build(cfg: TriggerConfig, preset: Option<SdkConfig>) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(cfg.timeout)
            .build()
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "webhook HTTP client: falling back to defaults");
                reqwest::Client::new()
            });
        TriggerInvoker {
            cfg,
            preset,
            lambda: OnceCell::new(),
            http,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &TriggerConfig {
        &self.cfg
    }

    /// The webhook URL configured for `function` (by ARN/name, or by the
    /// function-name part of an ARN), if any.
    pub fn webhook_for(&self, function: &str) -> Option<&str> {
        if let Some(url) = self.cfg.webhooks.get(function) {
            return Some(url);
        }
        let name = function_name_of(function)?;
        self.cfg.webhooks.get(name).map(String::as_str)
    }

    /// Sends `event` to `function` and returns the function's output event.
    ///
    /// Errors: the function failed → `Function`; Lambda / the webhook server
    /// could not run it (after up to `max_attempts` attempts for transient
    /// failures: timeouts, connection errors, throttling, 5xx) → `Service`;
    /// output not a JSON object with an object/null `response` → `InvalidResponse`.
    pub async fn invoke(
        &self,
        kind: TriggerKind,
        function: &str,
        event: &Value,
    ) -> Result<Value, TriggerError> {
        let body = serde_json::to_vec(event).map_err(|_| TriggerError::InvalidResponse)?;
        let webhook = self.webhook_for(function).map(str::to_string);
        let attempts = self.cfg.max_attempts.max(1);
        let started = Instant::now();
        let mut last = TriggerError::Service {
            code: CONNECTION_ERROR_CODE.to_string(),
        };
        for attempt in 1..=attempts {
            let result = match &webhook {
                Some(url) => self.attempt_webhook(kind, url, &body).await,
                None => self.attempt_lambda(function, &body).await,
            };
            match result {
                Ok(output) => {
                    tracing::debug!(
                        trigger = kind.name(),
                        function,
                        attempt,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "trigger invoked"
                    );
                    return Ok(output);
                }
                Err(f) => {
                    tracing::warn!(trigger = kind.name(), function, attempt, error = ?f.error, retry = f.retry, "trigger invocation failed");
                    if !f.retry {
                        return Err(f.error);
                    }
                    last = f.error;
                    if attempt < attempts {
                        tokio::time::sleep(backoff(attempt)).await;
                    }
                }
            }
        }
        Err(last)
    }

    async fn lambda_client(&self) -> &aws_sdk_lambda::Client {
        self.lambda
            .get_or_init(|| async {
                let sdk = match &self.preset {
                    Some(sdk) => sdk.clone(),
                    None => aws_config::defaults(BehaviorVersion::latest()).load().await,
                };
                let timeouts = TimeoutConfig::builder()
                    .connect_timeout(self.cfg.timeout)
                    .operation_attempt_timeout(self.cfg.timeout)
                    .operation_timeout(self.cfg.timeout)
                    .build();
                let conf = aws_sdk_lambda::config::Builder::from(&sdk)
                    .timeout_config(timeouts)
                    // Attempts are counted here, not by the SDK.
                    .retry_config(RetryConfig::disabled())
                    .build();
                aws_sdk_lambda::Client::from_conf(conf)
            })
            .await
    }

    async fn attempt_lambda(&self, function: &str, body: &[u8]) -> Result<Value, Failure> {
        let client = self.lambda_client().await;
        let send = client
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::RequestResponse)
            .payload(Blob::new(body.to_vec()))
            .send();
        match tokio::time::timeout(self.cfg.timeout, send).await {
            Err(_) => Err(Failure::service(TIMEOUT_ERROR_CODE, true)),
            Ok(Err(e)) => Err(classify_sdk_error(e)),
            Ok(Ok(out)) => lambda_output(out),
        }
    }

    async fn attempt_webhook(
        &self,
        kind: TriggerKind,
        url: &str,
        body: &[u8],
    ) -> Result<Value, Failure> {
        let exchange = async {
            let resp = self
                .http
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("x-cognate-trigger", kind.name())
                .body(body.to_vec())
                .timeout(self.cfg.timeout)
                .send()
                .await?;
            let status = resp.status().as_u16();
            let error_type = resp
                .headers()
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(|s| s.split(':').next().unwrap_or(s).to_string());
            let text = resp.text().await?;
            Ok::<_, reqwest::Error>((status, error_type, text))
        };
        let (status, error_type, text) = match tokio::time::timeout(self.cfg.timeout, exchange)
            .await
        {
            Err(_) => return Err(Failure::service(TIMEOUT_ERROR_CODE, true)),
            Ok(Err(e)) if e.is_timeout() => return Err(Failure::service(TIMEOUT_ERROR_CODE, true)),
            Ok(Err(e)) => {
                tracing::warn!(url, error = %e, "webhook request failed");
                return Err(Failure::service(CONNECTION_ERROR_CODE, true));
            }
            Ok(Ok(r)) => r,
        };
        let json: Option<Value> = serde_json::from_str(&text).ok();
        match status {
            200..=299 => {
                let Some(out) = json else {
                    return Err(Failure::final_(TriggerError::InvalidResponse));
                };
                if let Some(obj) = out.as_object() {
                    if !obj.contains_key("response") {
                        if let Some(msg) = obj.get("errorMessage") {
                            return Err(Failure::final_(TriggerError::Function {
                                message: message_text(msg),
                            }));
                        }
                    }
                }
                check_envelope(&out).map_err(Failure::final_)?;
                Ok(out)
            }
            429 => Err(Failure::service(
                error_type.unwrap_or_else(|| "TooManyRequestsException".to_string()),
                true,
            )),
            400..=499 => {
                let message = json
                    .as_ref()
                    .and_then(|j| j.get("errorMessage"))
                    .map(message_text)
                    .unwrap_or_else(|| {
                        if text.trim().is_empty() {
                            format!("HTTP {status}")
                        } else {
                            text.clone()
                        }
                    });
                Err(Failure::final_(TriggerError::Function { message }))
            }
            _ => {
                let code = error_type
                    .or_else(|| {
                        let j = json.as_ref()?;
                        j.get("errorType")
                            .or_else(|| j.get("__type"))
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .unwrap_or_else(|| "ServiceException".to_string());
                Err(Failure::service(code, status >= 500))
            }
        }
    }
}

/// `errorMessage` as text (a non-string value as its JSON).
fn message_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The function-name part of a Lambda ARN
/// (`arn:<partition>:lambda:<region>:<account>:function:<name>[:<qualifier>]`).
pub(crate) fn function_name_of(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" {
        Some(parts[6])
    } else {
        None
    }
}

fn lambda_output(out: InvokeOutput) -> Result<Value, Failure> {
    let payload = out.payload().map(|b| b.as_ref()).unwrap_or_default();
    if out.function_error().is_some() {
        let text = String::from_utf8_lossy(payload).into_owned();
        let message = serde_json::from_slice::<Value>(payload)
            .ok()
            .and_then(|v| v.get("errorMessage").map(message_text))
            .unwrap_or(text);
        return Err(Failure::final_(TriggerError::Function { message }));
    }
    let value: Value = serde_json::from_slice(payload)
        .map_err(|_| Failure::final_(TriggerError::InvalidResponse))?;
    check_envelope(&value).map_err(Failure::final_)?;
    Ok(value)
}

/// Codes Lambda uses for transient conditions worth another attempt.
fn transient_code(code: &str) -> bool {
    matches!(
        code,
        "TooManyRequestsException"
            | "ThrottlingException"
            | "ServiceException"
            | "ResourceNotReadyException"
            | "ResourceConflictException"
            | "EC2ThrottledException"
            | "ENILimitReachedException"
    )
}

fn classify_sdk_error(e: SdkError<InvokeError, HttpResponse>) -> Failure {
    match &e {
        SdkError::TimeoutError(_) => Failure::service(TIMEOUT_ERROR_CODE, true),
        SdkError::DispatchFailure(d) if d.is_timeout() => {
            Failure::service(TIMEOUT_ERROR_CODE, true)
        }
        SdkError::DispatchFailure(d) => {
            tracing::warn!(error = ?d, "Lambda endpoint unreachable");
            Failure::service(CONNECTION_ERROR_CODE, true)
        }
        SdkError::ConstructionFailure(c) => {
            // No region, no credentials, bad endpoint: configuration problems.
            tracing::warn!(error = ?c, "Lambda request could not be built (check AWS configuration)");
            Failure::service("ServiceException", false)
        }
        SdkError::ResponseError(r) => {
            tracing::warn!(error = ?r, "unparseable Lambda response");
            Failure::service("ServiceException", true)
        }
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let code = e.code().unwrap_or("ServiceException").to_string();
            let retry = status == 429 || status >= 500 || transient_code(&code);
            Failure::service(code, retry)
        }
        _ => Failure::transient(TriggerError::Service {
            code: "ServiceException".to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_function_names() {
        assert_eq!(
            function_name_of("arn:aws:lambda:us-east-1:123456789012:function:my-fn"),
            Some("my-fn")
        );
        assert_eq!(
            function_name_of("arn:aws:lambda:us-east-1:123456789012:function:my-fn:prod"),
            Some("my-fn")
        );
        assert_eq!(function_name_of("my-fn"), None);
        assert_eq!(function_name_of("arn:aws:s3:::bucket"), None);
    }

    #[test]
    fn backoff_grows_and_is_bounded() {
        assert_eq!(backoff(1), Duration::from_millis(50));
        assert_eq!(backoff(2), Duration::from_millis(100));
        assert_eq!(backoff(30), Duration::from_millis(1000));
    }
}
