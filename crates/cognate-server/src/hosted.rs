//! Managed login, HTTP side (spec vii.2, vii.5): `GET /oauth2/authorize` and the sign-in
//! form it shows, posted back to the same URL. Served by path (`/{prefix}/oauth2/authorize`)
//! and by host (`/oauth2/authorize` on a host whose first label is the prefix). This module
//! reads the query, the form and the cookies, renders the pages (every value HTML-escaped)
//! and builds the redirects; the checks and the sign-in are `cognate_core::Service`'s.
//!
//! Cookies: `cognate_session` (the managed-login session, 1 hour) and `cognate_csrf` (the
//! form's CSRF token, which the form repeats in a hidden field; the two are compared in
//! constant time). Both are `HttpOnly`, on the domain's path (`/{prefix}` or `/`), the
//! session `SameSite=Lax` (a redirect from the app brings it), the CSRF cookie
//! `SameSite=Strict`; both are `Secure` when `--public-url` is `https://` (the URL browsers
//! are told to use; a TLS-terminating proxy in front of a plain listener sets it so too).

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::response::IntoResponse;

use cognate_core::service::{
    AuthorizeFailure, AuthorizeGrant, AuthorizeRequest, HostedSignIn, LOGIN_SESSION_SECS,
};
use cognate_core::Caller;

use crate::http::AppState;
use crate::oauth::{domain_of_host, form_decode};

const SESSION_COOKIE: &str = "cognate_session";
const CSRF_COOKIE: &str = "cognate_csrf";

/// Where the domain was reached: by path (`/{prefix}`) or by host (`/`).
struct Site {
    domain: String,
    cookie_path: String,
}

impl Site {
    /// Reached as `/{prefix}/...`: the cookies stay under the prefix.
    fn by_path(domain: String) -> Site {
        Site {
            cookie_path: format!("/{domain}"),
            domain,
        }
    }

    /// Reached on the prefix's own host: the cookies cover the host.
    fn by_host(domain: String) -> Site {
        Site {
            domain,
            cookie_path: "/".into(),
        }
    }
}

/// `GET /{prefix}/oauth2/authorize`.
pub(crate) async fn authorize_by_path(
    State(state): State<Arc<AppState>>,
    Path(domain): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    let site = Site::by_path(domain);
    authorize(&state, site, query.as_deref().unwrap_or(""), &headers, None).await
}

/// `GET /oauth2/authorize` on a host whose first label is the prefix.
pub(crate) async fn authorize_by_host(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    let Some(domain) = domain_of_host(&headers) else {
        return error_page(StatusCode::NOT_FOUND, "not_found");
    };
    let site = Site::by_host(domain);
    authorize(&state, site, query.as_deref().unwrap_or(""), &headers, None).await
}

/// `POST /{prefix}/oauth2/authorize`: the sign-in form.
pub(crate) async fn login_by_path(
    State(state): State<Arc<AppState>>,
    Path(domain): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let site = Site::by_path(domain);
    let query = query.unwrap_or_default();
    authorize(&state, site, &query, &headers, Some(&body)).await
}

/// `POST /oauth2/authorize` on a host whose first label is the prefix.
pub(crate) async fn login_by_host(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let Some(domain) = domain_of_host(&headers) else {
        return error_page(StatusCode::NOT_FOUND, "not_found");
    };
    let site = Site::by_host(domain);
    let query = query.unwrap_or_default();
    authorize(&state, site, &query, &headers, Some(&body)).await
}

/// The authorize request checked; then a live session redirects with a code at once, a
/// posted form signs in, and otherwise the form is shown.
async fn authorize(
    state: &AppState,
    site: Site,
    query: &str,
    headers: &HeaderMap,
    form: Option<&[u8]>,
) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let Some(params) = parse_pairs(query) else {
        return error_page(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let request = AuthorizeRequest {
        domain: site.domain.clone(),
        response_type: get("response_type"),
        client_id: get("client_id"),
        redirect_uri: get("redirect_uri"),
        state: get("state"),
        scope: get("scope"),
        nonce: get("nonce"),
        code_challenge: get("code_challenge"),
        code_challenge_method: get("code_challenge_method"),
        identity_provider: get("identity_provider"),
    };
    let service = state.service();
    let grant = match service.authorize(&request).await {
        Ok(grant) => grant,
        Err(AuthorizeFailure::UnknownDomain) => {
            return error_page(StatusCode::NOT_FOUND, "not_found")
        }
        Err(AuthorizeFailure::ErrorPage(code)) => {
            tracing::info!(request_id, answer = code, "GET /oauth2/authorize");
            return error_page(StatusCode::BAD_REQUEST, code);
        }
        Err(AuthorizeFailure::Redirect {
            redirect_uri,
            error,
        }) => {
            tracing::info!(
                request_id,
                client_id = request.client_id.as_deref().unwrap_or_default(),
                answer = error.code(),
                "GET /oauth2/authorize"
            );
            return redirect(
                &redirect_uri,
                &[
                    ("error", Some(error.code())),
                    ("state", request.state.as_deref()),
                ],
                None,
            );
        }
        Err(AuthorizeFailure::Domain(e)) => {
            tracing::error!(request_id, error = %e, "GET /oauth2/authorize failed");
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
        }
    };
    let secure = service.public_url().starts_with("https://");
    let Some(form) = form else {
        // A live session signs in silently.
        if let Some(cookie) = cookie(headers, SESSION_COOKIE) {
            match service.login_session(&grant.pool_id, &cookie).await {
                Ok(Some(session)) => {
                    return code_redirect(state, &grant, &session, request.state.as_deref(), None)
                        .await
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(request_id, error = %e, "GET /oauth2/authorize failed");
                    return error_page(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
                }
            }
        }
        return login_page(StatusCode::OK, &site, None, secure);
    };

    let Some(fields) = std::str::from_utf8(form).ok().and_then(parse_pairs) else {
        return login_page(StatusCode::BAD_REQUEST, &site, Some(GENERIC), secure);
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let csrf_ok = match (cookie(headers, CSRF_COOKIE), field("_csrf")) {
        (Some(c), Some(f)) if !c.is_empty() => {
            c.len() == f.len() && cognate_crypto::codes::digests_equal(c.as_bytes(), f.as_bytes())
        }
        _ => false,
    };
    if !csrf_ok {
        tracing::info!(request_id, answer = "csrf", "POST /oauth2/authorize");
        return login_page(
            StatusCode::FORBIDDEN,
            &site,
            Some("Your sign-in form expired. Please try again."),
            secure,
        );
    }
    let (username, password) = (
        field("username").unwrap_or_default(),
        field("password").unwrap_or_default(),
    );
    if username.is_empty() || password.is_empty() {
        return login_page(
            StatusCode::BAD_REQUEST,
            &site,
            Some("Username and password are required."),
            secure,
        );
    }
    let caller = Caller {
        request_id: request_id.clone(),
        source_ip: None,
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        ..Default::default()
    };
    match service
        .hosted_sign_in(&caller, &grant, username, password)
        .await
    {
        Ok(HostedSignIn::SignedIn { cookie, session }) => {
            tracing::info!(
                request_id,
                client_id = grant.client_id,
                answer = "signed in",
                "POST /oauth2/authorize"
            );
            let set = format!(
                "{SESSION_COOKIE}={cookie}; Path={}; Max-Age={LOGIN_SESSION_SECS}; HttpOnly; SameSite=Lax{}",
                site.cookie_path,
                if secure { "; Secure" } else { "" }
            );
            code_redirect(state, &grant, &session, request.state.as_deref(), Some(set)).await
        }
        Ok(HostedSignIn::NewPasswordRequired) => login_page(
            StatusCode::BAD_REQUEST,
            &site,
            Some("You must choose a new password, which this page cannot do yet. Sign in through the app."),
            secure,
        ),
        Err(e) => {
            let wire = crate::errors::to_wire(e, &request_id);
            tracing::info!(
                request_id,
                client_id = grant.client_id,
                answer = wire.kind.name(),
                "POST /oauth2/authorize"
            );
            if wire.kind == cognate_wire::ErrorKind::InternalErrorException {
                return error_page(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
            }
            login_page(StatusCode::BAD_REQUEST, &site, Some(&wire.message), secure)
        }
    }
}

const GENERIC: &str = "An error was encountered with the requested page.";

/// A new code for the session, and the redirect that carries it.
async fn code_redirect(
    state: &AppState,
    grant: &AuthorizeGrant,
    session: &cognate_core::records::LoginSessionRecord,
    oauth_state: Option<&str>,
    set_cookie: Option<String>,
) -> Response<Body> {
    match state
        .service()
        .issue_authorization_code(grant, session)
        .await
    {
        Ok(code) => redirect(
            &grant.redirect_uri,
            &[("code", Some(&code)), ("state", oauth_state)],
            set_cookie,
        ),
        Err(e) => {
            tracing::error!(error = %e, "issuing an authorization code failed");
            redirect(
                &grant.redirect_uri,
                &[("error", Some("server_error")), ("state", oauth_state)],
                None,
            )
        }
    }
}

/// `302` to `uri` with the parameters added to its query.
fn redirect(
    uri: &str,
    params: &[(&str, Option<&str>)],
    set_cookie: Option<String>,
) -> Response<Body> {
    let mut location = uri.to_string();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (name, value) in params {
        if let Some(value) = value {
            location.push(sep);
            location.push_str(name);
            location.push('=');
            location.push_str(&pct_encode(value));
            sep = '&';
        }
    }
    let mut resp = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(&location) {
        Ok(v) => {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => return error_page(StatusCode::BAD_REQUEST, "invalid_request"),
    }
    if let Some(c) = set_cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
pub(crate) fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A query or form's pairs, decoded; None when one does not decode.
pub(crate) fn parse_pairs(text: &str) -> Option<Vec<(String, String)>> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((form_decode(name)?, form_decode(value)?))
        })
        .collect()
}

/// A cookie's value from the `Cookie` headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.to_string())
}

pub(crate) fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;background:#f4f5f7}\
main{max-width:22rem;margin:3rem auto;padding:1.5rem;background:#fff;border-radius:8px}\
label{display:block;margin-top:1rem}input{width:100%;box-sizing:border-box;padding:.6rem;font-size:1rem}\
button{margin-top:1.5rem;width:100%;padding:.7rem;font-size:1rem}.error{color:#b00020}";

fn page(status: StatusCode, title: &str, body: &str) -> Response<Body> {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        html_escape(title)
    );
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    resp
}

/// The error page of a request that cannot be redirected (spec vii.2).
fn error_page(status: StatusCode, code: &str) -> Response<Body> {
    page(
        status,
        "Error",
        &format!(
            "<h1>Error</h1><p>{}</p><p>error={}</p>",
            html_escape(GENERIC),
            html_escape(code)
        ),
    )
}

/// The sign-in form, posted back to this URL, with a fresh CSRF token in a cookie and in a
/// hidden field.
fn login_page(
    status: StatusCode,
    site: &Site,
    message: Option<&str>,
    secure: bool,
) -> Response<Body> {
    let csrf = cognate_crypto::ids::random_token(32);
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", html_escape(m)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Sign in</h1>{message}<form method=\"post\">\
         <input type=\"hidden\" name=\"_csrf\" value=\"{}\">\
         <label for=\"username\">Username</label>\
         <input id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" required>\
         <label for=\"password\">Password</label>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
         <button type=\"submit\">Sign in</button></form>",
        html_escape(&csrf)
    );
    let mut resp = page(status, "Sign in", &body);
    let set = format!(
        "{CSRF_COOKIE}={csrf}; Path={}; HttpOnly; SameSite=Strict{}",
        site.cookie_path,
        if secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&set) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

/// `GET /{prefix}/logout?client_id=…&logout_uri=…` (spec vii.5).
pub(crate) async fn logout_by_path(
    State(state): State<Arc<AppState>>,
    Path(domain): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    let site = Site::by_path(domain);
    logout(&state, site, query.as_deref().unwrap_or(""), &headers).await
}

/// `GET /logout` on a host whose first label is the prefix.
pub(crate) async fn logout_by_host(
    State(state): State<Arc<AppState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response<Body> {
    let Some(domain) = domain_of_host(&headers) else {
        return error_page(StatusCode::NOT_FOUND, "not_found");
    };
    let site = Site::by_host(domain);
    logout(&state, site, query.as_deref().unwrap_or(""), &headers).await
}

/// The client's registered `logout_uri` checked, the session deleted, its cookie cleared,
/// and a redirect there.
async fn logout(state: &AppState, site: Site, query: &str, headers: &HeaderMap) -> Response<Body> {
    let Some(params) = parse_pairs(query) else {
        return error_page(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let get = |name: &str| {
        params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let service = state.service();
    let target = match service
        .logout_target(&site.domain, get("client_id"), get("logout_uri"))
        .await
    {
        Ok(target) => target,
        Err(AuthorizeFailure::UnknownDomain) => {
            return error_page(StatusCode::NOT_FOUND, "not_found")
        }
        Err(AuthorizeFailure::ErrorPage(code)) => return error_page(StatusCode::BAD_REQUEST, code),
        Err(AuthorizeFailure::Redirect { .. }) => {
            return error_page(StatusCode::BAD_REQUEST, "invalid_request")
        }
        Err(AuthorizeFailure::Domain(e)) => {
            tracing::error!(error = %e, "GET /logout failed");
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
        }
    };
    if let Some(value) = cookie(headers, SESSION_COOKIE) {
        if let Err(e) = service.end_login_session(&value).await {
            tracing::error!(error = %e, "GET /logout failed");
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
        }
    }
    let secure = service.public_url().starts_with("https://");
    let clear = format!(
        "{SESSION_COOKIE}=; Path={}; Max-Age=0; HttpOnly; SameSite=Lax{}",
        site.cookie_path,
        if secure { "; Secure" } else { "" }
    );
    redirect(&target, &[], Some(clear))
}

/// `GET|POST /{prefix}/oauth2/userInfo` (spec vii.4).
pub(crate) async fn user_info_by_path(
    State(state): State<Arc<AppState>>,
    Path(_domain): Path<String>,
    headers: HeaderMap,
) -> Response<Body> {
    user_info(&state, &headers).await
}

/// `GET|POST /oauth2/userInfo` on a domain's host.
pub(crate) async fn user_info_by_host(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> Response<Body> {
    user_info(&state, &headers).await
}

async fn user_info(state: &AppState, headers: &HeaderMap) -> Response<Body> {
    use cognate_core::service::UserInfoFailure;
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string());
    let outcome = match token {
        Some(token) => state.service().user_info(&token).await,
        None => Err(UserInfoFailure::InvalidRequest),
    };
    let (status, challenge) = match outcome {
        Ok(claims) => {
            let mut resp =
                (StatusCode::OK, serde_json::Value::Object(claims).to_string()).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json;charset=UTF-8"),
            );
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return resp;
        }
        Err(UserInfoFailure::InvalidRequest) => (
            StatusCode::BAD_REQUEST,
            "error=\"invalid_request\", error_description=\"Bad OAuth2 request at UserInfo Endpoint\"",
        ),
        Err(UserInfoFailure::InvalidToken) => (
            StatusCode::UNAUTHORIZED,
            "error=\"invalid_token\", error_description=\"Access token is expired, disabled, or deleted, or the user has globally signed out.\"",
        ),
        Err(UserInfoFailure::Domain(e)) => {
            tracing::error!(error = %e, "/oauth2/userInfo failed");
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
        }
    };
    let mut resp = (status, "").into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_encoding() {
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        assert_eq!(pct_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
        assert_eq!(
            parse_pairs("a=1&b=x+y%21&c").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y!".into()),
                ("c".into(), "".into())
            ]
        );
        assert!(parse_pairs("a=%zz").is_none());
    }

    #[test]
    fn cookies_are_read() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; cognate_csrf=xyz"),
        );
        assert_eq!(cookie(&h, CSRF_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, SESSION_COOKIE), None);
    }
}
