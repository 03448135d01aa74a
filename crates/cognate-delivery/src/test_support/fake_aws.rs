//! A fake AWS endpoint on `127.0.0.1:<random>` serving SNS `Publish`
//! (Query protocol: form-encoded `Action=Publish&…`, XML answer) and SES v2
//! `SendEmail` (`POST /v2/email/outbound-emails`, JSON), checking every
//! request's SigV4 signature with [`super::sigv4`] against known
//! credentials and recording what was published or sent.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use super::sigv4::{self, SigV4Expectation, SigV4Failure, SignedRequest};
use super::{FakeMode, ServerHandle};

/// One SNS `Publish` call that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnsPublish {
    pub phone_number: Option<String>,
    pub topic_arn: Option<String>,
    pub message: String,
    /// `MessageAttributes` as (name, data type, string value).
    pub attributes: Vec<(String, String, String)>,
    /// The `MessageId` answered.
    pub message_id: String,
}

impl SnsPublish {
    /// The string value of a message attribute, e.g. `AWS.SNS.SMS.SMSType`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _, _)| n == name)
            .map(|(_, _, v)| v.as_str())
    }
}

/// One SES v2 `SendEmail` call that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SesEmail {
    pub from: String,
    pub from_arn: Option<String>,
    pub to: Vec<String>,
    pub reply_to: Vec<String>,
    pub subject: String,
    pub text: Option<String>,
    pub html: Option<String>,
    pub configuration_set: Option<String>,
    pub message_id: String,
}

#[derive(Default)]
struct Inner {
    publishes: Vec<SnsPublish>,
    emails: Vec<SesEmail>,
    rejected: Vec<SigV4Failure>,
    mode: FakeMode,
}

struct Shared {
    access_key: String,
    secret_key: String,
    region: String,
    inner: Mutex<Inner>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running fake. Stops when dropped.
pub struct FakeAws {
    pub addr: std::net::SocketAddr,
    shared: Arc<Shared>,
    _server: ServerHandle,
}

impl std::fmt::Debug for FakeAws {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAws").field("addr", &self.addr).finish()
    }
}

impl FakeAws {
    /// Starts the fake; it accepts requests signed with exactly these
    /// credentials for this region (service `sns` or `ses`).
    pub async fn start(access_key: &str, secret_key: &str, region: &str) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            access_key: access_key.to_string(),
            secret_key: secret_key.to_string(),
            region: region.to_string(),
            inner: Mutex::new(Inner::default()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let (addr, server) = ServerHandle::serve(app).await?;
        Ok(FakeAws {
            addr,
            shared,
            _server: server,
        })
    }

    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SNS`,
    /// `AWS_ENDPOINT_URL_SESV2` or [`aws_config::ConfigLoader::endpoint_url`].
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An AWS configuration pointing at this fake with the given
    /// credentials (pass other credentials to test signature failures).
    pub async fn sdk_config(&self, access_key: &str, secret_key: &str) -> aws_config::SdkConfig {
        sdk_config_for(
            &self.endpoint_url(),
            &self.shared.region,
            access_key,
            secret_key,
        )
        .await
    }

    /// The verified `Publish` calls so far.
    pub fn publishes(&self) -> Vec<SnsPublish> {
        self.shared.lock().publishes.clone()
    }

    /// The verified `SendEmail` calls so far.
    pub fn emails(&self) -> Vec<SesEmail> {
        self.shared.lock().emails.clone()
    }

    /// Requests refused because their signature did not verify.
    pub fn signature_failures(&self) -> Vec<SigV4Failure> {
        self.shared.lock().rejected.clone()
    }

    /// How the fake answers verified requests from now on.
    pub fn set_mode(&self, mode: FakeMode) {
        self.shared.lock().mode = mode;
    }
}

/// An `SdkConfig` for an arbitrary endpoint with static credentials (no
/// environment, profile or IMDS lookups that could slow tests down).
pub async fn sdk_config_for(
    endpoint_url: &str,
    region: &str,
    access_key: &str,
    secret_key: &str,
) -> aws_config::SdkConfig {
    let creds =
        aws_sdk_sns::config::Credentials::new(access_key, secret_key, None, None, "cognate-test");
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint_url)
        .region(aws_config::Region::new(region.to_string()))
        .credentials_provider(creds)
        .load()
        .await
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let (service, kind) = if method == Method::POST && path == "/v2/email/outbound-emails" {
        ("ses", Kind::Ses)
    } else if method == Method::POST && path == "/" {
        ("sns", Kind::Sns)
    } else {
        return (
            StatusCode::NOT_FOUND,
            format!("no fake for {method} {path}"),
        )
            .into_response();
    };
    let header_list = sigv4::header_pairs(&headers);
    let req = SignedRequest {
        method: method.as_str(),
        path: &path,
        query: uri.query().unwrap_or(""),
        headers: &header_list,
        body: &body,
    };
    let expect = SigV4Expectation {
        access_key: &shared.access_key,
        secret_key: &shared.secret_key,
        region: Some(&shared.region),
        service,
        now: Some(SystemTime::now()),
    };
    if let Err(failure) = sigv4::verify(&req, &expect) {
        let status = if failure.code == "IncompleteSignature" {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::FORBIDDEN
        };
        let resp = error_response(kind, status, failure.code, &failure.message);
        shared.lock().rejected.push(failure);
        return resp;
    }
    let mode = shared.lock().mode.clone();
    match mode {
        FakeMode::Normal => {}
        FakeMode::Fail { status, code } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return error_response(kind, status, &code, "failure injected by the test");
        }
        FakeMode::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
    }
    match kind {
        Kind::Sns => sns_publish(&shared, &body),
        Kind::Ses => ses_send_email(&shared, &body),
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Sns,
    Ses,
}

fn error_response(kind: Kind, status: StatusCode, code: &str, message: &str) -> Response {
    let request_id = crate::util::new_id();
    match kind {
        Kind::Sns => {
            let sender = if status.is_server_error() {
                "Receiver"
            } else {
                "Sender"
            };
            let xml = format!(
                "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\
                 <Error><Type>{sender}</Type><Code>{}</Code><Message>{}</Message></Error>\
                 <RequestId>{request_id}</RequestId></ErrorResponse>",
                xml_escape(code),
                xml_escape(message)
            );
            (
                status,
                [
                    ("content-type", "text/xml"),
                    ("x-amzn-requestid", request_id.as_str()),
                ],
                xml,
            )
                .into_response()
        }
        Kind::Ses => {
            let json = serde_json::json!({ "message": message }).to_string();
            (
                status,
                [
                    ("content-type", "application/json"),
                    ("x-amzn-errortype", code),
                    ("x-amzn-requestid", request_id.as_str()),
                ],
                json,
            )
                .into_response()
        }
    }
}

fn sns_publish(shared: &Shared, body: &[u8]) -> Response {
    let form = parse_form(body);
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("Action").as_deref() != Some("Publish") {
        return error_response(
            Kind::Sns,
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            "only Publish is implemented by the fake",
        );
    }
    let Some(message) = get("Message") else {
        return error_response(
            Kind::Sns,
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "Invalid parameter: Message",
        );
    };
    let phone_number = get("PhoneNumber");
    let topic_arn = get("TopicArn").or_else(|| get("TargetArn"));
    if phone_number.is_none() && topic_arn.is_none() {
        return error_response(
            Kind::Sns,
            StatusCode::BAD_REQUEST,
            "InvalidParameter",
            "Invalid parameter: PhoneNumber, TopicArn or TargetArn required",
        );
    }
    let mut attributes = Vec::new();
    for n in 1.. {
        let prefix = format!("MessageAttributes.entry.{n}.");
        let Some(name) = get(&format!("{prefix}Name")) else {
            break;
        };
        attributes.push((
            name,
            get(&format!("{prefix}Value.DataType")).unwrap_or_default(),
            get(&format!("{prefix}Value.StringValue")).unwrap_or_default(),
        ));
    }
    let message_id = crate::util::new_id();
    shared.lock().publishes.push(SnsPublish {
        phone_number,
        topic_arn,
        message,
        attributes,
        message_id: message_id.clone(),
    });
    let xml = format!(
        "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">\
         <PublishResult><MessageId>{message_id}</MessageId></PublishResult>\
         <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>\
         </PublishResponse>",
        crate::util::new_id()
    );
    (StatusCode::OK, [("content-type", "text/xml")], xml).into_response()
}

fn ses_send_email(shared: &Shared, body: &[u8]) -> Response {
    let bad =
        |m: &str| error_response(Kind::Ses, StatusCode::BAD_REQUEST, "BadRequestException", m);
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return bad("body is not JSON");
    };
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_string);
    let list = |p: &str| -> Vec<String> {
        v.pointer(p)
            .and_then(|x| x.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let Some(from) = s("/FromEmailAddress") else {
        return bad("FromEmailAddress is required by this fake");
    };
    let Some(subject) = s("/Content/Simple/Subject/Data") else {
        return bad("Content.Simple.Subject is required by this fake");
    };
    let to = list("/Destination/ToAddresses");
    if to.is_empty() {
        return bad("Destination.ToAddresses is required");
    }
    let message_id = format!("0100{}-000000", crate::util::new_id());
    shared.lock().emails.push(SesEmail {
        from,
        from_arn: s("/FromEmailAddressIdentityArn"),
        to,
        reply_to: list("/ReplyToAddresses"),
        subject,
        text: s("/Content/Simple/Body/Text/Data"),
        html: s("/Content/Simple/Body/Html/Data"),
        configuration_set: s("/ConfigurationSetName"),
        message_id: message_id.clone(),
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        serde_json::json!({ "MessageId": message_id }).to_string(),
    )
        .into_response()
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space).
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (form_decode(k), form_decode(v))
        })
        .collect()
}

fn form_decode(s: &str) -> String {
    crate::util::percent_decode(&s.replace('+', " "))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_decoding() {
        assert_eq!(
            parse_form(
                b"Action=Publish&Message=Your+code%3A+12%2B3&PhoneNumber=%2B15551234567&Empty"
            ),
            vec![
                ("Action".to_string(), "Publish".to_string()),
                ("Message".to_string(), "Your code: 12+3".to_string()),
                ("PhoneNumber".to_string(), "+15551234567".to_string()),
                ("Empty".to_string(), String::new()),
            ]
        );
    }
}
