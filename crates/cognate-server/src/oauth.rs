//! The OAuth 2.0 endpoints of a user-pool domain, HTTP side (spec vii): for now
//! `POST /oauth2/token` (vii.3). A domain is reached on this server in two ways: by path,
//! `POST /{domain-prefix}/oauth2/token`, or by host, `POST /oauth2/token` with a `Host` of
//! `{prefix}.auth.{region}.amazoncognito.com` or any other `{prefix}.…` name. This module
//! reads the form and the client's credentials (Basic authentication or the form) and writes
//! the JSON answer; the flow is `cognate_core::Service::oauth_token`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::response::IntoResponse;
use base64::Engine;
use serde_json::json;

use cognate_core::service::{OAuthError, OAuthFailure, TokenRequest};
use cognate_wire::ErrorKind;

use crate::http::AppState;

/// `POST /{domain}/oauth2/token`.
pub(crate) async fn token_by_path(
    State(state): State<Arc<AppState>>,
    Path(domain): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    token(&state, domain, &headers, body).await
}

/// `POST /oauth2/token` on a host whose first label is the domain prefix.
pub(crate) async fn token_by_host(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    match domain_of_host(&headers) {
        Some(domain) => token(&state, domain, &headers, body).await,
        None => not_found(),
    }
}

async fn token(
    state: &AppState,
    domain: String,
    headers: &HeaderMap,
    body: Body,
) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let body = match read_form_body(state, body).await {
        Ok(body) => body,
        Err(resp) => return resp,
    };
    let request = match parse_request(domain, headers, &body) {
        Ok(request) => request,
        Err(e) => return oauth_error(e),
    };
    let client_id = request.client_id.clone().unwrap_or_default();
    if state.quotas().is_enabled() {
        // Per pool, as the API counts; a domain of no pool gets its own key (and a 404).
        let key = match state.service().pool_of_domain(&request.domain).await {
            Some(pool) => pool,
            None => format!("domain:{}", request.domain),
        };
        let checked = state.quotas().check_token_request(
            &key,
            request.grant_type.as_deref(),
            std::time::Instant::now(),
        );
        if let Err(throttled) = checked {
            tracing::info!(
                request_id,
                client_id,
                answer = "throttled",
                category = %throttled.category,
                "POST /oauth2/token"
            );
            return too_many_requests();
        }
    }
    let outcome = state.service().oauth_token(request).await;
    let answer = match &outcome {
        Ok(_) => "issued",
        Err(OAuthFailure::OAuth(e)) => e.code(),
        Err(OAuthFailure::UnknownDomain) => "unknown domain",
        Err(OAuthFailure::Domain(_)) => "server_error",
    };
    tracing::info!(request_id, client_id, answer, "POST /oauth2/token");
    match outcome {
        Ok(token) => {
            let mut body = json!({
                "access_token": token.access_token,
                "expires_in": token.expires_in,
                "token_type": "Bearer",
            });
            if let Some(id_token) = token.id_token {
                body["id_token"] = json!(id_token);
            }
            if let Some(refresh_token) = token.refresh_token {
                body["refresh_token"] = json!(refresh_token);
            }
            let mut resp = json_response(StatusCode::OK, body);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            resp.headers_mut()
                .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
            resp
        }
        Err(OAuthFailure::OAuth(e)) => oauth_error(e),
        Err(OAuthFailure::UnknownDomain) => not_found(),
        Err(OAuthFailure::Domain(e)) => {
            // The details (store, signing) are for the log only.
            tracing::error!(request_id, error = %e, "POST /oauth2/token failed");
            json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "server_error"}),
            )
        }
    }
}

/// `POST /{domain}/oauth2/revoke` (spec vii.5).
pub(crate) async fn revoke_by_path(
    State(state): State<Arc<AppState>>,
    Path(domain): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    revoke(&state, domain, &headers, body).await
}

/// `POST /oauth2/revoke` on a domain's host.
pub(crate) async fn revoke_by_host(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    match domain_of_host(&headers) {
        Some(domain) => revoke(&state, domain, &headers, body).await,
        None => not_found(),
    }
}

/// 200 with an empty body on success (also for unknown tokens); `invalid_client` is 401.
async fn revoke(
    state: &AppState,
    domain: String,
    headers: &HeaderMap,
    body: Body,
) -> Response<Body> {
    let body = match read_form_body(state, body).await {
        Ok(body) => body,
        Err(resp) => return resp,
    };
    let request = match parse_request(domain, headers, &body) {
        Ok(request) => request,
        Err(e) => return revoke_error(e),
    };
    let outcome = state
        .service()
        .oauth_revoke(
            &request.domain,
            request.client_id.as_deref(),
            request.client_secret.as_deref(),
            request.token.as_deref(),
        )
        .await;
    match outcome {
        Ok(()) => StatusCode::OK.into_response(),
        Err(OAuthFailure::OAuth(e)) => revoke_error(e),
        Err(OAuthFailure::UnknownDomain) => not_found(),
        Err(OAuthFailure::Domain(e)) => {
            tracing::error!(error = %e, "POST /oauth2/revoke failed");
            json_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({"error": "server_error"}),
            )
        }
    }
}

fn revoke_error(e: OAuthError) -> Response<Body> {
    let status = if e == OAuthError::InvalidClient {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::BAD_REQUEST
    };
    json_response(status, json!({ "error": e.code() }))
}

/// Reads the body of an OAuth POST (`/oauth2/token`, `/oauth2/revoke`; the managed-login
/// pages' forms use `hosted::read_page_form`) within the bounds the API's `POST /` has:
/// `--max-body-bytes` and `--body-read-timeout-ms`. Err is the answer to send, in the token
/// endpoint's JSON error form `{"error": "invalid_request"}`: 408 when the body did not
/// arrive in time (RFC 9110's Request Timeout: the client may retry on a new connection),
/// 413 when it is too long, 400 when its framing is broken.
pub(crate) async fn read_form_body(state: &AppState, body: Body) -> Result<Bytes, Response<Body>> {
    state.read_bounded_body(body).await.map_err(|e| {
        let status = match e.kind {
            ErrorKind::RequestTimeoutException => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::RequestEntityTooLargeException => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        tracing::info!(
            status = status.as_u16(),
            error = %e.message,
            "OAuth request body not read"
        );
        let mut resp = json_response(status, json!({"error": OAuthError::InvalidRequest.code()}));
        if status == StatusCode::REQUEST_TIMEOUT {
            // The rest of the body may still come: the connection is not reused.
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    })
}

/// The request's form and client credentials. A form that is not
/// `application/x-www-form-urlencoded`, repeats a field or is not UTF-8, and a request that
/// authenticates both by Basic and by a form secret, are `invalid_request`; a malformed Basic
/// header is `invalid_client`.
fn parse_request(
    domain: String,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenRequest, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::InvalidRequest);
    }
    let mut request = TokenRequest {
        domain,
        ..Default::default()
    };
    let text = std::str::from_utf8(body).map_err(|_| OAuthError::InvalidRequest)?;
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = form_decode(name).ok_or(OAuthError::InvalidRequest)?;
        let value = form_decode(value).ok_or(OAuthError::InvalidRequest)?;
        let slot = match name.as_str() {
            "grant_type" => &mut request.grant_type,
            "client_id" => &mut request.client_id,
            "client_secret" => &mut request.client_secret,
            "scope" => &mut request.scope,
            "code" => &mut request.code,
            "redirect_uri" => &mut request.redirect_uri,
            "code_verifier" => &mut request.code_verifier,
            "refresh_token" => &mut request.refresh_token,
            "token" => &mut request.token,
            _ => continue,
        };
        if slot.is_some() {
            return Err(OAuthError::InvalidRequest);
        }
        *slot = Some(value);
    }
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let (id, secret) = basic_credentials(authorization).ok_or(OAuthError::InvalidClient)?;
        if request.client_secret.is_some() {
            return Err(OAuthError::InvalidRequest);
        }
        if request.client_id.as_ref().is_some_and(|given| *given != id) {
            return Err(OAuthError::InvalidRequest);
        }
        request.client_id = Some(id);
        request.client_secret = Some(secret);
    }
    Ok(request)
}

/// `Basic base64(client_id:client_secret)`, each part form-encoded first (RFC 6749 2.3.1).
fn basic_credentials(value: &HeaderValue) -> Option<(String, String)> {
    let value = value.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// `application/x-www-form-urlencoded` decoding of one name or value: `+` is a space,
/// `%XX` a byte; None for a bad escape or bytes that are not UTF-8.
pub(crate) fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The domain a `Host` names, lowercased and without the port: a custom domain's name, or
/// `{prefix}.…` (`{prefix}.auth.{region}.amazoncognito.com` or any such name), which the
/// service resolves (`Service::endpoint_domain`). None for a host with an empty label.
pub(crate) fn domain_of_host(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let name = name.to_ascii_lowercase();
    name.split('.')
        .all(|label| !label.is_empty())
        .then_some(name)
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    let mut resp = (status, body.to_string()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    resp
}

/// Spec vii.3: every error is 400 with `{"error": "<code>"}`.
fn oauth_error(e: OAuthError) -> Response<Body> {
    json_response(StatusCode::BAD_REQUEST, json!({ "error": e.code() }))
}

/// A token request over the pool's quota (`--quotas`): 429 with `Retry-After: 1` (RFC 6585;
/// OAuth and HTTP client libraries retry it after the pause) and
/// `{"error": "too_many_requests", "error_description": "Rate exceeded"}`. The bucket refills
/// at the limit per second, so a second is always enough for the next request.
fn too_many_requests() -> Response<Body> {
    let mut resp = json_response(
        StatusCode::TOO_MANY_REQUESTS,
        json!({"error": "too_many_requests", "error_description": crate::quota::Throttled::MESSAGE}),
    );
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// No pool holds the domain (or the host names none).
fn not_found() -> Response<Body> {
    json_response(StatusCode::NOT_FOUND, json!({"error": "not_found"}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        h
    }

    const FORM: &str = "application/x-www-form-urlencoded";

    #[test]
    fn form_and_basic_credentials_are_read() {
        let basic = base64::engine::general_purpose::STANDARD.encode("id1:s%2Bc ret");
        let h = headers(&[
            (header::CONTENT_TYPE, FORM),
            (header::AUTHORIZATION, &format!("Basic {basic}")),
        ]);
        let r = parse_request(
            "d".into(),
            &h,
            b"grant_type=client_credentials&scope=a%2Fb+c",
        )
        .unwrap();
        assert_eq!(r.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(r.scope.as_deref(), Some("a/b c"));
        assert_eq!(r.client_id.as_deref(), Some("id1"));
        assert_eq!(r.client_secret.as_deref(), Some("s+c ret"));
        let h = headers(&[(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=UTF-8",
        )]);
        let r = parse_request("d".into(), &h, b"client_id=x&client_secret=y").unwrap();
        assert_eq!(
            (r.client_id.as_deref(), r.client_secret.as_deref()),
            (Some("x"), Some("y"))
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        let form = headers(&[(header::CONTENT_TYPE, FORM)]);
        let json = headers(&[(header::CONTENT_TYPE, "application/json")]);
        let basic = |v: &str| headers(&[(header::CONTENT_TYPE, FORM), (header::AUTHORIZATION, v)]);
        let err = |h: &HeaderMap, body: &[u8]| parse_request("d".into(), h, body).unwrap_err();
        assert_eq!(err(&json, b"grant_type=x"), OAuthError::InvalidRequest);
        assert_eq!(err(&form, b"scope=a&scope=b"), OAuthError::InvalidRequest);
        assert_eq!(err(&form, b"scope=%zz"), OAuthError::InvalidRequest);
        assert_eq!(err(&basic("Bearer x"), b""), OAuthError::InvalidClient);
        assert_eq!(err(&basic("Basic !!!"), b""), OAuthError::InvalidClient);
        let ok = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("a:b")
        );
        assert_eq!(
            err(&basic(&ok), b"client_secret=b"),
            OAuthError::InvalidRequest
        );
        assert_eq!(
            err(&basic(&ok), b"client_id=other"),
            OAuthError::InvalidRequest
        );
    }

    #[test]
    fn the_host_names_the_domain() {
        let host = |h: &str| domain_of_host(&headers(&[(header::HOST, h)]));
        assert_eq!(
            host("my-app.auth.us-east-1.amazoncognito.com").as_deref(),
            Some("my-app.auth.us-east-1.amazoncognito.com")
        );
        assert_eq!(
            host("My-App.localhost:9229").as_deref(),
            Some("my-app.localhost")
        );
        assert_eq!(
            host("auth.Example.com").as_deref(),
            Some("auth.example.com")
        );
        assert_eq!(host("Login:9229").as_deref(), Some("login"));
        assert_eq!(host(".localhost"), None);
        assert_eq!(host(""), None);
    }
}
