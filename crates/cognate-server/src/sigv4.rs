//! SigV4 on the operations the model marks as signed (spec viii). The expected signature is
//! recomputed with the `aws-sigv4` crate (the signer the AWS SDKs use) from the request as it
//! arrived: the headers the client named in `SignedHeaders`, the body, the time of its
//! `X-Amz-Date` and the credential scope; the two are compared in constant time.
//!
//! With no credentials configured and a loopback listener, any well-formed signature is
//! accepted (a laptop needs no setup); `cognate serve` refuses that mode on other addresses
//! unless told `--insecure-accept-any-credentials`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use axum::http::{HeaderMap, Uri};
use cognate_wire::{ApiError, ErrorKind};

use crate::errors::protocol;

const SERVICE: &str = "cognito-idp";
/// How far `X-Amz-Date` may be from the server's clock (spec viii).
const SKEW: Duration = Duration::from_secs(5 * 60);

/// Access key ids and their secret keys.
#[derive(Clone, Default)]
pub struct Credentials {
    keys: HashMap<String, String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets are never printed; the key ids are not secret.
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("Credentials")
            .field("access_keys", &ids)
            .finish()
    }
}

impl Credentials {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, access_key_id: &str, secret: &str) {
        self.keys
            .insert(access_key_id.to_string(), secret.to_string());
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// A credentials file: one `ACCESS_KEY_ID SECRET` pair a line; blank lines and `#`
    /// comments are skipped. The error names the line, never its content.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut credentials = Self::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(id), Some(secret), None) => credentials.insert(id, secret),
                _ => {
                    return Err(format!(
                        "line {}: expected `ACCESS_KEY_ID SECRET`",
                        number + 1
                    ))
                }
            }
        }
        Ok(credentials)
    }
}

/// How signed operations are authenticated.
pub enum Authenticator {
    /// Any well-formed signature (loopback developer mode, or explicitly insecure).
    AcceptAny,
    /// Signatures are verified against these credentials (replaced whole on reload).
    Verify(ArcSwap<Credentials>),
}

impl Authenticator {
    pub fn verifying(credentials: Credentials) -> Self {
        Authenticator::Verify(ArcSwap::from_pointee(credentials))
    }

    /// Replaces the credentials (SIGHUP); false in accept-any mode.
    pub fn reload(&self, credentials: Credentials) -> bool {
        match self {
            Authenticator::AcceptAny => false,
            Authenticator::Verify(current) => {
                current.store(Arc::new(credentials));
                true
            }
        }
    }

    /// Checks a signed operation's request. The `Authorization` header is known to be
    /// present and well formed (`http::check_auth`).
    pub fn verify(
        &self,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
        region: &str,
        now: SystemTime,
    ) -> Result<(), ApiError> {
        let Authenticator::Verify(credentials) = self else {
            return Ok(());
        };
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let auth = parse_authorization(header("authorization").unwrap_or_default())
            .ok_or_else(protocol::invalid_signature)?;
        let credentials = credentials.load();
        let Some(secret) = credentials.keys.get(auth.access_key_id) else {
            return Err(unrecognized_client());
        };
        if auth.service != SERVICE {
            return Err(signature_error(format!(
                "Credential should be scoped to correct service: '{SERVICE}'. "
            )));
        }
        if auth.region != region {
            return Err(signature_error(
                "Credential should be scoped to a valid region. ".to_string(),
            ));
        }
        let stamp = header("x-amz-date").ok_or_else(protocol::invalid_signature)?;
        let request_time = parse_amz_date(stamp).ok_or_else(protocol::invalid_signature)?;
        if !stamp.starts_with(auth.date) {
            return Err(protocol::invalid_signature());
        }
        check_skew(stamp, request_time, now)?;

        // The signer adds `host` only when it is not given, and always adds `x-amz-date`
        // (from the time) and `x-amz-security-token` (from the credentials), so those two are
        // left out of the headers handed to it.
        let token = header("x-amz-security-token");
        let mut signed = Vec::with_capacity(auth.signed_headers.len());
        for name in &auth.signed_headers {
            if *name == "x-amz-date" || *name == "x-amz-security-token" {
                continue;
            }
            // A signed header that is not there cannot match (nor can a repeated one).
            let mut values = headers.get_all(*name).iter();
            let (Some(value), None) = (values.next(), values.next()) else {
                return Err(mismatch());
            };
            let value = value.to_str().map_err(|_| mismatch())?;
            signed.push((*name, value));
        }
        // HTTP/1.1 names the host in a header; HTTP/2 in the request's authority.
        let host = header("host")
            .or_else(|| uri.authority().map(|a| a.as_str()))
            .unwrap_or("localhost");
        let url = format!(
            "http://{host}{}",
            uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
        );
        let expected = expected_signature(&SigningInput {
            access_key_id: auth.access_key_id,
            secret,
            token,
            region,
            time: request_time,
            url: &url,
            headers: &signed,
            body,
        })
        .ok_or_else(mismatch)?;
        if !cognate_crypto::codes::digests_equal(expected.as_bytes(), auth.signature.as_bytes()) {
            return Err(mismatch());
        }
        Ok(())
    }
}

struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

/// `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b,
/// Signature=hex`.
fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (key, val) = part.trim().split_once('=')?;
        match key {
            "Credential" => credential = Some(val),
            "SignedHeaders" => signed_headers = Some(val),
            "Signature" => signature = Some(val),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let parsed = Authorization {
        access_key_id: scope.next()?,
        date: scope.next()?,
        region: scope.next()?,
        service: scope.next()?,
        signed_headers: signed_headers?.split(';').collect(),
        signature: signature?,
    };
    (scope.next()? == "aws4_request" && scope.next().is_none()).then_some(parsed)
}

struct SigningInput<'a> {
    access_key_id: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    region: &'a str,
    time: SystemTime,
    url: &'a str,
    headers: &'a [(&'a str, &'a str)],
    body: &'a [u8],
}

/// The signature the client should have sent, computed by `aws-sigv4`.
fn expected_signature(input: &SigningInput<'_>) -> Option<String> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;
    let identity = aws_credential_types::Credentials::new(
        input.access_key_id,
        input.secret,
        input.token.map(str::to_string),
        None,
        "cognate",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(input.region)
        .name(SERVICE)
        .time(input.time)
        .settings(SigningSettings::default())
        .build()
        .ok()?
        .into();
    let request = SignableRequest::new(
        "POST",
        input.url,
        input.headers.iter().copied(),
        SignableBody::Bytes(input.body),
    )
    .ok()?;
    let (_, signature) = sign(request, &params).ok()?.into_parts();
    Some(signature)
}

fn check_skew(stamp: &str, request_time: SystemTime, now: SystemTime) -> Result<(), ApiError> {
    if request_time + SKEW < now {
        return Err(signature_error(format!(
            "Signature expired: {stamp} is now earlier than {} ({} - 5 min.)",
            format_amz_date(now - SKEW),
            format_amz_date(now)
        )));
    }
    if request_time > now + SKEW {
        return Err(signature_error(format!(
            "Signature not yet current: {stamp} is still later than {} ({} + 5 min.)",
            format_amz_date(now + SKEW),
            format_amz_date(now)
        )));
    }
    Ok(())
}

fn signature_error(message: String) -> ApiError {
    ApiError::new(ErrorKind::InvalidSignatureException, message)
}

fn mismatch() -> ApiError {
    protocol::invalid_signature()
}

fn unrecognized_client() -> ApiError {
    ApiError::new(
        ErrorKind::UnrecognizedClientException,
        "The security token included in the request is invalid.",
    )
}

/// `yyyyMMdd'T'HHmmss'Z'` as a time.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> { s.get(range)?.parse().ok() };
    let (year, month, day) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hour, minute, second) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second;
    u64::try_from(secs)
        .ok()
        .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
}

fn format_amz_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates_round_trip() {
        let t = parse_amz_date("20261206T154500Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_796_571_900
        );
        assert_eq!(format_amz_date(t), "20261206T154500Z");
        assert_eq!(format_amz_date(UNIX_EPOCH), "19700101T000000Z");
        assert!(parse_amz_date("2026-12-06T15:45:00Z").is_none());
        assert!(parse_amz_date("20261306T154500Z").is_none());
    }

    #[test]
    fn authorization_headers_parse() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/cognito-idp/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc",
        )
        .unwrap();
        assert_eq!(a.access_key_id, "AKID");
        assert_eq!(a.region, "us-east-1");
        assert_eq!(a.service, "cognito-idp");
        assert_eq!(a.signed_headers, ["content-type", "host", "x-amz-date"]);
        assert_eq!(a.signature, "abc");
        assert!(parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/x, Signature=a").is_none());
    }

    #[test]
    fn credentials_files_parse_without_echoing_secrets() {
        let c = Credentials::parse("# admins\nAKID1 s3cret\n\n  AKID2   other \n").unwrap();
        assert_eq!(c.len(), 2);
        let e = Credentials::parse("AKID1 s3cret extra").unwrap_err();
        assert_eq!(e, "line 1: expected `ACCESS_KEY_ID SECRET`");
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    /// A request signed by `aws-sigv4` for a key verifies; the wrong secret, another key, an
    /// old time and a changed body do not.
    #[test]
    fn signatures_verify_against_the_signer() {
        let now = parse_amz_date("20261206T154500Z").unwrap();
        let body = br#"{"MaxResults":1}"#;
        let headers_of = |secret: &str, time: SystemTime, token: Option<&str>| {
            let input = SigningInput {
                access_key_id: "AKID",
                secret,
                token,
                region: "us-east-1",
                time,
                url: "http://127.0.0.1:9229/",
                headers: &[
                    ("content-type", "application/x-amz-json-1.1"),
                    ("host", "127.0.0.1:9229"),
                    (
                        "x-amz-target",
                        "AWSCognitoIdentityProviderService.ListUserPools",
                    ),
                ],
                body,
            };
            let signature = expected_signature(&input).unwrap();
            let mut h = HeaderMap::new();
            h.insert(
                "content-type",
                "application/x-amz-json-1.1".parse().unwrap(),
            );
            h.insert("host", "127.0.0.1:9229".parse().unwrap());
            h.insert(
                "x-amz-target",
                "AWSCognitoIdentityProviderService.ListUserPools"
                    .parse()
                    .unwrap(),
            );
            h.insert("x-amz-date", format_amz_date(time).parse().unwrap());
            let mut names = "content-type;host;x-amz-date;x-amz-target".to_string();
            if let Some(token) = token {
                h.insert("x-amz-security-token", token.parse().unwrap());
                names = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target".into();
            }
            let date = &format_amz_date(time)[..8];
            h.insert(
                "authorization",
                format!(
                    "AWS4-HMAC-SHA256 Credential=AKID/{date}/us-east-1/cognito-idp/aws4_request, SignedHeaders={names}, Signature={signature}"
                )
                .parse()
                .unwrap(),
            );
            h
        };
        let mut credentials = Credentials::new();
        credentials.insert("AKID", "right");
        let auth = Authenticator::verifying(credentials);
        let uri: Uri = "/".parse().unwrap();
        let verify = |h: &HeaderMap, body: &[u8]| {
            auth.verify(&uri, h, body, "us-east-1", now)
                .map_err(|e| (e.kind, e.message))
        };
        assert_eq!(verify(&headers_of("right", now, None), body), Ok(()));
        assert_eq!(
            verify(&headers_of("right", now, Some("session-token")), body),
            Ok(())
        );
        let wrong = verify(&headers_of("wrong", now, None), body).unwrap_err();
        assert_eq!(wrong.0, ErrorKind::InvalidSignatureException);
        assert_eq!(
            verify(&headers_of("right", now, None), b"{}")
                .unwrap_err()
                .0,
            ErrorKind::InvalidSignatureException
        );
        let old = now - Duration::from_secs(301);
        assert_eq!(
            verify(&headers_of("right", old, None), body).unwrap_err(),
            (
                ErrorKind::InvalidSignatureException,
                "Signature expired: 20261206T153959Z is now earlier than 20261206T154000Z (20261206T154500Z - 5 min.)".to_string()
            )
        );
        assert!(auth.reload(Credentials::parse("OTHER right").unwrap()));
        assert_eq!(
            verify(&headers_of("right", now, None), body).unwrap_err(),
            (
                ErrorKind::UnrecognizedClientException,
                "The security token included in the request is invalid.".to_string()
            )
        );
        assert_eq!(
            Authenticator::AcceptAny.verify(&uri, &HeaderMap::new(), body, "us-east-1", now),
            Ok(())
        );
    }
}
