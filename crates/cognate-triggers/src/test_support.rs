//! Test doubles for trigger functions (feature `test-support`).
//!
//! * [`FakeLambda`]: a Lambda-compatible `Invoke` endpoint on a free loopback
//!   port (`POST /2015-03-31/functions/{name}/invocations`). It verifies each
//!   request's SigV4 signature (service `lambda`) against [`TestCredentials`]
//!   with an implementation independent of the AWS SDK (cognate-delivery's,
//!   see [`sigv4`]), records every event,
//!   and answers from a scripted handler per function name.
//! * [`FakeWebhook`]: a webhook receiver (`POST /hooks/{name}`) with the same
//!   scripting and recording.
//!
//! ```ignore
//! let lambda = FakeLambda::start().await;
//! lambda.script("pre-signup", |_ev| Reply::echo_with(json!({"autoConfirmUser": true})));
//! let invoker = TriggerInvoker::with_sdk_config(cfg, lambda.sdk_config());
//! // or, for a server configured from the environment: lambda.env_vars()
//! let out = invoker.invoke(TriggerKind::PreSignUp, &lambda.function_arn("pre-signup"), &event).await?;
//! assert_eq!(lambda.events("pre-signup").len(), 1);
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_lambda::config::{Credentials, Region, SharedCredentialsProvider};
use axum::body::{to_bytes, Body};
use axum::http::{HeaderMap, Method, Request, Response, StatusCode};
use axum::Router;
use serde_json::{json, Value};

/// Access key of the fake endpoint's only identity.
pub const TEST_ACCESS_KEY_ID: &str = "AKIACOGNATETEST00001";
/// Its secret.
pub const TEST_SECRET_ACCESS_KEY: &str = "cognateTestSecretKey/0123456789+abcdefghij";
/// Region used by [`FakeLambda::sdk_config`] / [`FakeLambda::env_vars`].
pub const TEST_REGION: &str = "us-east-1";
/// Account id in [`FakeLambda::function_arn`].
pub const TEST_ACCOUNT_ID: &str = "123456789012";

/// Credentials accepted by [`FakeLambda`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub region: String,
}

impl Default for TestCredentials {
    fn default() -> Self {
        TestCredentials {
            access_key_id: TEST_ACCESS_KEY_ID.to_string(),
            secret_access_key: TEST_SECRET_ACCESS_KEY.to_string(),
            region: TEST_REGION.to_string(),
        }
    }
}

/// What a scripted function answers.
#[derive(Clone, Debug)]
pub enum Reply {
    /// The event, unchanged.
    Echo,
    /// The event with these members set in its `response` object.
    EchoWith(Value),
    /// This JSON as the function's output.
    Json(Value),
    /// This text as the function's output (e.g. not JSON).
    Raw(String),
    /// The function threw. Lambda: 200 + `X-Amz-Function-Error: Unhandled` +
    /// `{"errorMessage","errorType","stackTrace"}`; webhook: 200 +
    /// `{"errorMessage","errorType"}`.
    FunctionError { message: String, error_type: String },
    /// The function failed with this raw payload (Lambda: 200 +
    /// `X-Amz-Function-Error: Unhandled`; webhook: 200 + the text).
    FunctionErrorRaw(String),
    /// A service error: that status, `x-amzn-ErrorType: <error_type>`, and a
    /// JSON body (`{"Type","message"}` for Lambda,
    /// `{"errorType","errorMessage"}` for a webhook).
    ServiceError {
        status: u16,
        error_type: String,
        message: String,
    },
    /// A raw HTTP answer.
    Http { status: u16, body: String },
    /// Wait, then answer.
    Sleep(Duration, Box<Reply>),
}

impl Reply {
    pub fn echo_with(response: Value) -> Reply {
        Reply::EchoWith(response)
    }
    pub fn function_error(message: &str) -> Reply {
        Reply::FunctionError {
            message: message.to_string(),
            error_type: "Error".to_string(),
        }
    }
    pub fn service_error(status: u16, error_type: &str, message: &str) -> Reply {
        Reply::ServiceError {
            status,
            error_type: error_type.to_string(),
            message: message.to_string(),
        }
    }
    /// 429 `TooManyRequestsException`, as Lambda throttles.
    pub fn throttled() -> Reply {
        Reply::service_error(429, "TooManyRequestsException", "Rate Exceeded.")
    }
    /// 500 `ServiceException`.
    pub fn internal_error() -> Reply {
        Reply::service_error(500, "ServiceException", "Internal error")
    }
    /// 403 `AccessDeniedException`.
    pub fn access_denied() -> Reply {
        Reply::service_error(403, "AccessDeniedException", "Access denied")
    }
    pub fn sleep(d: Duration, then: Reply) -> Reply {
        Reply::Sleep(d, Box::new(then))
    }
}

/// A function's behaviour: event in, reply out.
pub type Handler = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

/// One request the fake received (after signature verification for Lambda).
#[derive(Clone, Debug)]
pub struct Invocation {
    /// The function name (the name part of an ARN).
    pub function: String,
    /// The function name or ARN as it appeared in the path (decoded).
    pub target: String,
    /// The request body as JSON (`Value::String` of the text if not JSON).
    pub event: Value,
    /// `X-Amz-Invocation-Type` (Lambda) or `None`.
    pub invocation_type: Option<String>,
    /// The signing access key (Lambda) or `None`.
    pub access_key_id: Option<String>,
    /// The region in the signature scope (Lambda) or `None`.
    pub region: Option<String>,
    /// `x-cognate-trigger` header, when present.
    pub trigger: Option<String>,
}

#[derive(Default)]
struct State {
    handlers: Mutex<HashMap<String, Handler>>,
    invocations: Mutex<Vec<Invocation>>,
    rejected: Mutex<Vec<String>>,
}

impl State {
    fn handler(&self, name: &str) -> Option<Handler> {
        self.handlers.lock().ok()?.get(name).cloned()
    }
    fn record(&self, inv: Invocation) {
        if let Ok(mut v) = self.invocations.lock() {
            v.push(inv);
        }
    }
    fn reject(&self, why: String) {
        if let Ok(mut v) = self.rejected.lock() {
            v.push(why);
        }
    }
    fn invocations(&self, name: &str) -> Vec<Invocation> {
        let key = normalize_function(name);
        self.invocations
            .lock()
            .map(|v| v.iter().filter(|i| i.function == key).cloned().collect())
            .unwrap_or_default()
    }
    fn script(&self, name: &str, handler: Handler) {
        if let Ok(mut h) = self.handlers.lock() {
            h.insert(normalize_function(name), handler);
        }
    }
}

/// Function name of an ARN (`arn:aws:lambda:r:acct:function:NAME[:qual]`), else the input.
fn normalize_function(name: &str) -> String {
    let parts: Vec<&str> = name.split(':').collect();
    if parts.len() >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function" {
        parts[6].to_string()
    } else {
        name.to_string()
    }
}

struct Server {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

async fn serve(router: Router) -> Server {
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(l) => l,
        Err(e) => panic!("test-support: cannot bind a loopback port: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => panic!("test-support: no local address: {e}"),
    };
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Server { addr, task }
}

// ------------------------------------------------------------------ Lambda

/// A Lambda-compatible Invoke endpoint. Stops when dropped.
pub struct FakeLambda {
    /// `http://127.0.0.1:<port>`.
    pub endpoint_url: String,
    pub credentials: TestCredentials,
    state: Arc<State>,
    server: Server,
}

impl Drop for FakeLambda {
    fn drop(&mut self) {
        self.server.task.abort();
    }
}

impl FakeLambda {
    /// Starts on a free loopback port. Unscripted functions answer 404
    /// `ResourceNotFoundException`.
    pub async fn start() -> FakeLambda {
        let credentials = TestCredentials::default();
        let state = Arc::new(State::default());
        let st = state.clone();
        let creds = credentials.clone();
        let router = Router::new().fallback(move |req: Request<Body>| {
            let st = st.clone();
            let creds = creds.clone();
            async move { lambda_handle(st, creds, req).await }
        });
        let server = serve(router).await;
        FakeLambda {
            endpoint_url: format!("http://{}", server.addr),
            credentials,
            state,
            server,
        }
    }

    /// Sets the behaviour of function `name` (a name or an ARN; ARNs are
    /// matched by their name part).
    pub fn script<F>(&self, name: &str, handler: F)
    where
        F: Fn(&Value) -> Reply + Send + Sync + 'static,
    {
        self.state.script(name, Arc::new(handler));
    }

    /// Events received by function `name` (one per attempt), oldest first.
    pub fn events(&self, name: &str) -> Vec<Value> {
        self.invocations(name)
            .into_iter()
            .map(|i| i.event)
            .collect()
    }

    /// Everything recorded about the requests function `name` received.
    pub fn invocations(&self, name: &str) -> Vec<Invocation> {
        self.state.invocations(name)
    }

    /// Why requests were refused before reaching a function (bad signature, ...).
    pub fn rejections(&self) -> Vec<String> {
        self.state
            .rejected
            .lock()
            .map(|v| v.clone())
            .unwrap_or_default()
    }

    /// `arn:aws:lambda:us-east-1:123456789012:function:<name>`.
    pub fn function_arn(&self, name: &str) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.credentials.region, TEST_ACCOUNT_ID, name
        )
    }

    /// An SDK configuration pointing at this endpoint with the test credentials.
    pub fn sdk_config(&self) -> SdkConfig {
        self.sdk_config_with_secret(&self.credentials.secret_access_key)
    }

    /// Same, signing with another secret (to test signature rejection).
    pub fn sdk_config_with_secret(&self, secret_access_key: &str) -> SdkConfig {
        self.sdk_config_with(&self.credentials.access_key_id, secret_access_key)
    }

    /// Same, with any key pair.
    pub fn sdk_config_with(&self, access_key_id: &str, secret_access_key: &str) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(self.credentials.region.clone()))
            .endpoint_url(self.endpoint_url.clone())
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                access_key_id,
                secret_access_key,
                None,
                None,
                "cognate-test-support",
            )))
            .build()
    }

    /// Environment for a process that loads the standard AWS configuration
    /// (e.g. a server using `TriggerInvoker::new`).
    pub fn env_vars(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL_LAMBDA".into(), self.endpoint_url.clone()),
            ("AWS_REGION".into(), self.credentials.region.clone()),
            (
                "AWS_ACCESS_KEY_ID".into(),
                self.credentials.access_key_id.clone(),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                self.credentials.secret_access_key.clone(),
            ),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
        ]
    }
}

fn error_response(status: StatusCode, error_type: &str, message: &str) -> Response<Body> {
    let body = json!({"Type": "User", "message": message}).to_string();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("x-amzn-ErrorType", error_type)
        .body(Body::from(body))
        .unwrap_or_default()
}

async fn lambda_handle(
    state: Arc<State>,
    creds: TestCredentials,
    req: Request<Body>,
) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = match to_bytes(body, 16 * 1024 * 1024).await {
        Ok(b) => b,
        Err(_) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "InvalidRequestContentException",
                "body",
            )
        }
    };
    let raw_path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();

    // Signature first, as Lambda does.
    let auth = match sigv4::verify(
        &parts.method,
        &raw_path,
        &raw_query,
        &parts.headers,
        &body,
        &creds,
        "lambda",
    ) {
        Ok(a) => a,
        Err(rej) => {
            state.reject(format!("{}: {}", rej.error_type, rej.detail));
            return error_response(StatusCode::FORBIDDEN, rej.error_type, rej.message);
        }
    };

    let segments: Vec<&str> = raw_path.split('/').collect();
    let target = match (parts.method == Method::POST, segments.as_slice()) {
        (true, ["", "2015-03-31", "functions", name, "invocations"]) => percent_decode(name),
        _ => {
            return error_response(
                StatusCode::NOT_FOUND,
                "UnknownOperationException",
                "Unknown operation",
            )
        }
    };
    let function = normalize_function(&target);
    let Some(handler) = state.handler(&function) else {
        return error_response(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!(
                "Function not found: arn:aws:lambda:{}:{}:function:{}",
                auth.region, TEST_ACCOUNT_ID, function
            ),
        );
    };
    let event = parse_body(&body);
    state.record(Invocation {
        function,
        target,
        event: event.clone(),
        invocation_type: header(&parts.headers, "x-amz-invocation-type"),
        access_key_id: Some(auth.access_key_id),
        region: Some(auth.region),
        trigger: None,
    });
    let reply = handler(&event);
    render(reply, &event, Flavor::Lambda).await
}

fn parse_body(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[derive(Clone, Copy)]
enum Flavor {
    Lambda,
    Webhook,
}

fn echo_with(event: &Value, response: &Value) -> Value {
    let mut out = event.clone();
    if let Some(obj) = out.as_object_mut() {
        match (obj.get_mut("response"), response) {
            (Some(Value::Object(r)), Value::Object(add)) => {
                for (k, v) in add {
                    r.insert(k.clone(), v.clone());
                }
            }
            _ => {
                obj.insert("response".into(), response.clone());
            }
        }
    }
    out
}

fn render(
    reply: Reply,
    event: &Value,
    flavor: Flavor,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Response<Body>> + Send + '_>> {
    Box::pin(async move {
        let ok_json = |v: String| {
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("x-amz-executed-version", "$LATEST")
                .body(Body::from(v))
                .unwrap_or_default()
        };
        match reply {
            Reply::Echo => ok_json(event.to_string()),
            Reply::EchoWith(r) => ok_json(echo_with(event, &r).to_string()),
            Reply::Json(v) => ok_json(v.to_string()),
            Reply::Raw(s) => ok_json(s),
            Reply::FunctionError {
                message,
                error_type,
            } => match flavor {
                Flavor::Lambda => Response::builder()
                    .status(StatusCode::OK)
                    .header("content-type", "application/json")
                    .header("x-amz-function-error", "Unhandled")
                    .header("x-amz-executed-version", "$LATEST")
                    .body(Body::from(
                        json!({"errorMessage": message, "errorType": error_type, "stackTrace": []})
                            .to_string(),
                    ))
                    .unwrap_or_default(),
                Flavor::Webhook => {
                    ok_json(json!({"errorMessage": message, "errorType": error_type}).to_string())
                }
            },
            Reply::FunctionErrorRaw(body) => match flavor {
                Flavor::Lambda => Response::builder()
                    .status(StatusCode::OK)
                    .header("x-amz-function-error", "Unhandled")
                    .body(Body::from(body))
                    .unwrap_or_default(),
                Flavor::Webhook => ok_json(body),
            },
            Reply::ServiceError {
                status,
                error_type,
                message,
            } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                match flavor {
                    Flavor::Lambda => error_response(status, &error_type, &message),
                    Flavor::Webhook => Response::builder()
                        .status(status)
                        .header("content-type", "application/json")
                        .header("x-amzn-ErrorType", error_type.as_str())
                        .body(Body::from(
                            json!({"errorType": error_type, "errorMessage": message}).to_string(),
                        ))
                        .unwrap_or_default(),
                }
            }
            Reply::Http { status, body } => Response::builder()
                .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
                .body(Body::from(body))
                .unwrap_or_default(),
            Reply::Sleep(d, then) => {
                tokio::time::sleep(d).await;
                render(*then, event, flavor).await
            }
        }
    })
}

// ----------------------------------------------------------------- Webhook

/// A webhook receiver: `POST /hooks/{name}`. Stops when dropped.
/// Unscripted names answer 404 `{"errorMessage": "no such hook"}`.
pub struct FakeWebhook {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    state: Arc<State>,
    server: Server,
}

impl Drop for FakeWebhook {
    fn drop(&mut self) {
        self.server.task.abort();
    }
}

impl FakeWebhook {
    pub async fn start() -> FakeWebhook {
        let state = Arc::new(State::default());
        let st = state.clone();
        let router = Router::new().fallback(move |req: Request<Body>| {
            let st = st.clone();
            async move { webhook_handle(st, req).await }
        });
        let server = serve(router).await;
        FakeWebhook {
            base_url: format!("http://{}", server.addr),
            state,
            server,
        }
    }

    /// The URL of hook `name`: `<base_url>/hooks/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("{}/hooks/{}", self.base_url, name)
    }

    pub fn script<F>(&self, name: &str, handler: F)
    where
        F: Fn(&Value) -> Reply + Send + Sync + 'static,
    {
        self.state.script(name, Arc::new(handler));
    }

    /// Events POSTed to hook `name` (one per attempt), oldest first.
    pub fn events(&self, name: &str) -> Vec<Value> {
        self.invocations(name)
            .into_iter()
            .map(|i| i.event)
            .collect()
    }

    pub fn invocations(&self, name: &str) -> Vec<Invocation> {
        self.state.invocations(name)
    }
}

async fn webhook_handle(state: Arc<State>, req: Request<Body>) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, 16 * 1024 * 1024).await.unwrap_or_default();
    let path = parts.uri.path().to_string();
    let name = match (parts.method == Method::POST, path.strip_prefix("/hooks/")) {
        (true, Some(n)) if !n.is_empty() && !n.contains('/') => percent_decode(n),
        _ => {
            return Response::builder()
                .status(StatusCode::NOT_FOUND)
                .body(Body::from("not found"))
                .unwrap_or_default()
        }
    };
    let Some(handler) = state.handler(&name) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"errorMessage": "no such hook"}).to_string(),
            ))
            .unwrap_or_default();
    };
    let event = parse_body(&body);
    state.record(Invocation {
        function: name.clone(),
        target: name,
        event: event.clone(),
        invocation_type: None,
        access_key_id: None,
        region: None,
        trigger: header(&parts.headers, "x-cognate-trigger"),
    });
    let reply = handler(&event);
    render(reply, &event, Flavor::Webhook).await
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

// ------------------------------------------------------------------- SigV4

/// SigV4 verification for [`FakeLambda`]: the independent verifier of
/// `cognate_delivery::test_support::sigv4`, with its refusals worded as Lambda
/// words them.
pub mod sigv4 {
    use axum::http::{HeaderMap, Method};
    use cognate_delivery::test_support::sigv4::{
        header_pairs, verify as verify_signature, SigV4Expectation, SigV4Failure, SignedRequest,
    };

    use super::TestCredentials;

    /// A verified request's identity.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Verified {
        pub access_key_id: String,
        pub region: String,
        pub service: String,
    }

    /// Why a request was refused: AWS error type, AWS message, and detail for tests.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct Rejection {
        pub error_type: &'static str,
        pub message: &'static str,
        pub detail: String,
    }

    const BAD_SIGNATURE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

    /// Lambda's error type and message for the verifier's (Query-protocol) code.
    fn as_lambda(failure: SigV4Failure) -> Rejection {
        let (error_type, message) = match failure.code {
            "MissingAuthenticationToken" => (
                "MissingAuthenticationTokenException",
                "Missing Authentication Token",
            ),
            "IncompleteSignature" => ("IncompleteSignatureException", "Incomplete signature"),
            "InvalidClientTokenId" => (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ),
            // SignatureDoesNotMatch, RequestExpired, XAmzContentSHA256Mismatch.
            _ => ("InvalidSignatureException", BAD_SIGNATURE),
        };
        Rejection {
            error_type,
            message,
            detail: failure.message,
        }
    }

    /// Verifies an `Authorization: AWS4-HMAC-SHA256 ...` request signed for
    /// `expected_service` with `creds` (in any region; no clock check).
    pub fn verify(
        method: &Method,
        raw_path: &str,
        raw_query: &str,
        headers: &HeaderMap,
        body: &[u8],
        creds: &TestCredentials,
        expected_service: &str,
    ) -> Result<Verified, Rejection> {
        let headers = header_pairs(headers);
        let request = SignedRequest {
            method: method.as_str(),
            path: raw_path,
            query: raw_query,
            headers: &headers,
            body,
        };
        let expect = SigV4Expectation {
            access_key: &creds.access_key_id,
            secret_key: &creds.secret_access_key,
            region: None,
            service: expected_service,
            now: None,
        };
        let auth = verify_signature(&request, &expect).map_err(as_lambda)?;
        Ok(Verified {
            access_key_id: auth.access_key,
            region: auth.region,
            service: auth.service,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS SigV4 test suite, "get-vanilla" (published known answer).
    #[test]
    fn sigv4_known_answer_get_vanilla() {
        let creds = TestCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            region: "us-east-1".into(),
        };
        let mut headers = HeaderMap::new();
        headers.insert("host", "example.amazonaws.com".parse().unwrap());
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        headers.insert(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                .parse()
                .unwrap(),
        );
        let ok = sigv4::verify(&Method::GET, "/", "", &headers, b"", &creds, "service").unwrap();
        assert_eq!(ok.access_key_id, "AKIDEXAMPLE");
        assert_eq!(ok.region, "us-east-1");

        // Any change to what was signed breaks it.
        let err =
            sigv4::verify(&Method::POST, "/", "", &headers, b"", &creds, "service").unwrap_err();
        assert_eq!(err.error_type, "InvalidSignatureException");
        let err =
            sigv4::verify(&Method::GET, "/", "", &headers, b"x", &creds, "service").unwrap_err();
        assert_eq!(err.error_type, "InvalidSignatureException");
        let wrong = TestCredentials {
            secret_access_key: "nope".into(),
            ..creds.clone()
        };
        let err =
            sigv4::verify(&Method::GET, "/", "", &headers, b"", &wrong, "service").unwrap_err();
        assert_eq!(err.error_type, "InvalidSignatureException");
        // Wrong service in scope.
        let err =
            sigv4::verify(&Method::GET, "/", "", &headers, b"", &creds, "lambda").unwrap_err();
        assert_eq!(err.error_type, "InvalidSignatureException");
        // Unknown key.
        let other = TestCredentials {
            access_key_id: "AKIDOTHER".into(),
            ..creds
        };
        let err =
            sigv4::verify(&Method::GET, "/", "", &headers, b"", &other, "service").unwrap_err();
        assert_eq!(err.error_type, "UnrecognizedClientException");
    }

    #[test]
    fn decoded_names() {
        assert_eq!(percent_decode("a%3Ab%2"), "a:b%2");
        assert_eq!(
            normalize_function("arn:aws:lambda:us-east-1:1:function:f:live"),
            "f"
        );
    }
}
