//! The user-pool domain's endpoints besides the pages (those are `pages.rs`): `/logout` and
//! `/oauth2/userInfo`, the route handlers of both, and what the pages share: the site a
//! domain was reached on, cookies, redirects, escaping and the page frame.
//!
//! Cookies: `cognate_session` (the managed-login session, 1 hour) and `cognate_csrf` (the
//! forms' CSRF token, which each form repeats in a hidden field). Both are `HttpOnly`, on the
//! domain's path (`/{prefix}` or `/`), the session `SameSite=Lax` (a redirect from the app
//! brings it), the CSRF cookie `SameSite=Strict`; both are `Secure` when `--public-url` is
//! `https://` (the URL browsers are told to use; a TLS-terminating proxy in front of a plain
//! listener sets it so too).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::response::IntoResponse;

use cognate_core::service::{AuthorizeFailure, LogoutTarget};

use crate::http::AppState;
use crate::oauth::{domain_of_host, form_decode};
use crate::pages::Page;

pub(crate) const SESSION_COOKIE: &str = "cognate_session";
pub(crate) const CSRF_COOKIE: &str = "cognate_csrf";

/// Where the domain was reached: by path (`/{prefix}`) or by host (`/`).
pub(crate) struct Site {
    pub(crate) domain: String,
    /// The pages' root: `/{prefix}` or empty.
    pub(crate) base: String,
    pub(crate) cookie_path: String,
}

impl Site {
    /// Reached as `/{prefix}/...`: the cookies stay under the prefix.
    fn by_path(domain: String) -> Site {
        Site {
            base: format!("/{domain}"),
            cookie_path: format!("/{domain}"),
            domain,
        }
    }

    /// Reached on the prefix's own host: the cookies cover the host.
    fn by_host(domain: String) -> Site {
        Site {
            domain,
            base: String::new(),
            cookie_path: "/".into(),
        }
    }
}

/// A page reached by path: `GET|POST /{prefix}/{page}`.
pub(crate) async fn page_by_path(
    state: Arc<AppState>,
    page: Page,
    domain: String,
    query: Option<String>,
    peer: SocketAddr,
    headers: HeaderMap,
    form: Option<Body>,
) -> Response<Body> {
    let site = Site::by_path(domain);
    let form = match read_page_form(&state, form).await {
        Ok(form) => form,
        Err(resp) => return resp,
    };
    let query = query.unwrap_or_default();
    crate::pages::serve(&state, site, page, &query, peer, &headers, form.as_deref()).await
}

/// A page reached on the prefix's own host: `GET|POST /{page}`.
pub(crate) async fn page_by_host(
    state: Arc<AppState>,
    page: Page,
    query: Option<String>,
    peer: SocketAddr,
    headers: HeaderMap,
    form: Option<Body>,
) -> Response<Body> {
    let Some(domain) = domain_of_host(&headers) else {
        return error_page(StatusCode::NOT_FOUND, "not_found");
    };
    let site = Site::by_host(domain);
    let form = match read_page_form(&state, form).await {
        Ok(form) => form,
        Err(resp) => return resp,
    };
    let query = query.unwrap_or_default();
    crate::pages::serve(&state, site, page, &query, peer, &headers, form.as_deref()).await
}

/// A page form's body, read within the API's bounds (`--max-body-bytes`,
/// `--body-read-timeout-ms`); a body that is too slow, too long or badly framed is the error
/// page with 408, 413 or 400.
async fn read_page_form(
    state: &AppState,
    form: Option<Body>,
) -> Result<Option<Bytes>, Response<Body>> {
    let Some(body) = form else {
        return Ok(None);
    };
    state.read_bounded_body(body).await.map(Some).map_err(|e| {
        use cognate_wire::ErrorKind;
        let status = match e.kind {
            ErrorKind::RequestTimeoutException => StatusCode::REQUEST_TIMEOUT,
            ErrorKind::RequestEntityTooLargeException => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        tracing::info!(status = status.as_u16(), error = %e.message, "page form not read");
        let mut resp = error_page(status, "invalid_request");
        if status == StatusCode::REQUEST_TIMEOUT {
            // The rest of the body may still come: the connection is not reused.
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        resp
    })
}

/// The page routes, by path and by host, for `http::router`.
pub(crate) fn page_routes(mut router: axum::Router<Arc<AppState>>) -> axum::Router<Arc<AppState>> {
    use axum::routing::get;
    for page in Page::ALL {
        let by_path = get(
            move |State(state): State<Arc<AppState>>,
                  Path(domain): Path<String>,
                  RawQuery(query): RawQuery,
                  ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  headers: HeaderMap| {
                page_by_path(state, page, domain, query, peer, headers, None)
            },
        )
        .post(
            move |State(state): State<Arc<AppState>>,
                  Path(domain): Path<String>,
                  RawQuery(query): RawQuery,
                  ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  headers: HeaderMap,
                  body: Body| {
                page_by_path(state, page, domain, query, peer, headers, Some(body))
            },
        );
        let by_host = get(
            move |State(state): State<Arc<AppState>>,
                  RawQuery(query): RawQuery,
                  ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  headers: HeaderMap| {
                page_by_host(state, page, query, peer, headers, None)
            },
        )
        .post(
            move |State(state): State<Arc<AppState>>,
                  RawQuery(query): RawQuery,
                  ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  headers: HeaderMap,
                  body: Body| {
                page_by_host(state, page, query, peer, headers, Some(body))
            },
        );
        router = router
            .route(&format!("/{{pool_id}}/{}", page.path()), by_path)
            .route(&format!("/{}", page.path()), by_host);
    }
    router
}

/// `302` to `uri` with the parameters added to its query.
pub(crate) fn redirect(
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

/// The first value of `name` among decoded pairs (`parse_pairs`).
pub(crate) fn pair<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
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
button{margin-top:1.5rem;width:100%;padding:.7rem;font-size:1rem;border:0;border-radius:4px;\
background:#1f4fd1;color:#fff;cursor:pointer}button:focus,input:focus{outline:3px solid #f5a623}\
button.link{margin-top:.5rem;background:none;color:#1f4fd1;text-decoration:underline;padding:.3rem}\
.error{color:#b00020}.notice{color:#1b5e20}.hint{color:#444;font-size:.9rem}";

pub(crate) fn page(status: StatusCode, title: &str, body: &str) -> Response<Body> {
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

pub(crate) const GENERIC: &str = "An error was encountered with the requested page.";

/// The error page of a request that cannot be redirected (spec vii.2).
pub(crate) fn error_page(status: StatusCode, code: &str) -> Response<Body> {
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
    let get = |name: &str| pair(&params, name);
    let service = state.service();
    let target = match service
        .logout_target(
            &site.domain,
            get("client_id"),
            get("logout_uri"),
            get("redirect_uri"),
            get("response_type"),
        )
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
    match target {
        LogoutTarget::LogoutUri(uri) => redirect(&uri, &[], Some(clear)),
        // A new authorize request, on the sign-in page (whose checks it then passes).
        LogoutTarget::SignIn => {
            let carried = [
                "client_id",
                "response_type",
                "redirect_uri",
                "scope",
                "state",
            ];
            let params: Vec<(&str, Option<&str>)> =
                carried.iter().map(|name| (*name, get(name))).collect();
            redirect(
                &format!("{}/{}", site.base, Page::Login.path()),
                &params,
                Some(clear),
            )
        }
    }
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
