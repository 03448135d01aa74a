//! HTTP front: AWS JSON 1.1 routing (`POST /` + `X-Amz-Target`), the auth check, body limits,
//! error rendering, CORS for browser clients, and the developer endpoints under `/_cognate`.
//! Request flow: route → target lookup → auth class → body read/limit → JSON parse →
//! generated `dispatch` (model validation, typed input, handler) → render.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Response, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};

use cognate_core::clock::WallClock;
use cognate_wire::{dispatch, ApiError, Operation, RequestContext};

use crate::api::{plain_caller, Api};
use crate::errors::{self, protocol};
use crate::sigv4::Authenticator;

const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
const JSON_11: &str = "application/x-amz-json-1.1";
const DEFAULT_BODY_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub struct AppState {
    api: Api,
    /// How signed operations are authenticated (shared with the SIGHUP reloader).
    authenticator: Arc<Authenticator>,
    /// The region credential scopes must name.
    region: String,
    max_body_bytes: usize,
    /// A request body must arrive whole within this (a slow sender holds no task forever).
    body_read_timeout: std::time::Duration,
    /// The clock `POST /_cognate/test/clock` moves, when `--test-clock` is on.
    test_clock: Option<WallClock>,
    /// True while at least one medium has no provider, i.e. messages land in the outbox.
    outbox_enabled: bool,
    /// Request-rate quotas by AWS category, per pool and instance (off unless configured).
    quotas: crate::quota::Quotas,
    /// `GET /metrics`; `None` if the registry could not be built.
    metrics: Option<Arc<crate::metrics::Metrics>>,
    /// A loopback listener without admin credentials (the laptop setup): only there are the
    /// outbox and inbox served, since they show every pool's codes to whoever asks.
    developer_mode: bool,
    /// The listener serves TLS itself (the discovery document's endpoints are `https` then).
    tls: bool,
}

impl AppState {
    pub fn new(
        service: std::sync::Arc<cognate_core::Service>,
        authenticator: Arc<Authenticator>,
        region: String,
        max_body_bytes: usize,
        test_clock: Option<WallClock>,
        loopback: bool,
    ) -> Self {
        AppState {
            developer_mode: loopback && matches!(*authenticator, Authenticator::AcceptAny),
            outbox_enabled: service.outbox_in_use(),
            api: Api::new(service),
            authenticator,
            region,
            max_body_bytes,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            test_clock,
            metrics: crate::metrics::Metrics::new().ok().map(Arc::new),
            quotas: crate::quota::Quotas::off(),
            tls: false,
        }
    }

    /// Tells the router the listener serves TLS (`--tls-cert`).
    pub fn with_tls(mut self, tls: bool) -> Self {
        self.tls = tls;
        self
    }

    /// Throttles requests by AWS's quota categories.
    pub fn with_quotas(mut self, quotas: crate::quota::Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// Uses `metrics` (shared with the delivery and trigger decorators) for `GET /metrics`.
    pub fn with_metrics(mut self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Sets how long a request body may take to arrive.
    pub fn with_body_read_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    pub(crate) fn service(&self) -> &cognate_core::Service {
        self.api.service()
    }

    /// The request-rate quotas (the OAuth endpoints count against them too).
    pub(crate) fn quotas(&self) -> &crate::quota::Quotas {
        &self.quotas
    }

    /// Reads a request body within the API's bounds, `--max-body-bytes` and
    /// `--body-read-timeout-ms` (`read_body`'s errors).
    pub(crate) async fn read_bounded_body(&self, body: Body) -> Result<Bytes, ApiError> {
        read_body(body, self.max_body_bytes, self.body_read_timeout).await
    }

    fn signatures_verified(&self) -> bool {
        matches!(*self.authenticator, Authenticator::Verify(_))
    }

    /// Why the outbox and inbox are not served, if they are not.
    fn outbox_refusal(&self) -> Option<&'static str> {
        if !self.outbox_enabled {
            Some("the outbox is off: real delivery providers are configured")
        } else if !self.developer_mode {
            Some("the outbox is served only on a loopback listener without admin credentials")
        } else {
            None
        }
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    crate::hosted::page_routes(Router::new())
        .route("/", post(api).options(preflight))
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/health/ready", get(health))
        .route("/metrics", get(metrics))
        .route("/_cognate/outbox", get(outbox))
        .route("/_cognate/inbox", get(inbox_page))
        .route("/_cognate/test/clock", post(test_clock))
        .route("/confirmUser", get(confirm_link))
        .route("/{pool_id}/.well-known/jwks.json", get(jwks))
        .route("/oauth2/token", post(crate::oauth::token_by_host))
        .route("/oauth2/revoke", post(crate::oauth::revoke_by_host))
        .route(
            "/oauth2/userInfo",
            get(crate::hosted::user_info_by_host).post(crate::hosted::user_info_by_host),
        )
        .route("/logout", get(crate::hosted::logout_by_host))
        // The segment is a domain prefix, not a pool id; the router wants one name per
        // position, so it shares the well-known routes' name.
        .route("/{pool_id}/oauth2/token", post(crate::oauth::token_by_path))
        .route(
            "/{pool_id}/oauth2/revoke",
            post(crate::oauth::revoke_by_path),
        )
        .route(
            "/{pool_id}/oauth2/userInfo",
            get(crate::hosted::user_info_by_path).post(crate::hosted::user_info_by_path),
        )
        .route("/{pool_id}/logout", get(crate::hosted::logout_by_path))
        .route(
            "/{pool_id}/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .with_state(state)
}

/// Headers browser SDKs (Amplify JS) send and read.
const CORS_ALLOW_HEADERS: &str = "content-type, x-amz-target, x-amz-user-agent, cache-control, authorization, x-amz-date, x-amz-security-token, x-amz-content-sha256, amz-sdk-invocation-id, amz-sdk-request";
/// The same without the signing headers: while any signature is accepted, no web page may
/// send a signed (admin) request, or any site open in a developer's browser could drive the
/// server on localhost.
const CORS_ALLOW_UNSIGNED_HEADERS: &str = "content-type, x-amz-target, x-amz-user-agent, cache-control, amz-sdk-invocation-id, amz-sdk-request";
const CORS_EXPOSE_HEADERS: &str = "x-amzn-RequestId, x-amzn-ErrorType, x-amzn-ErrorMessage, Date";

fn add_cors(headers: &mut HeaderMap) {
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(CORS_EXPOSE_HEADERS),
    );
}

async fn preflight(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let mut headers = HeaderMap::new();
    add_cors(&mut headers);
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(if state.signatures_verified() {
            CORS_ALLOW_HEADERS
        } else {
            CORS_ALLOW_UNSIGNED_HEADERS
        }),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    (StatusCode::OK, headers)
}

/// The response. `cors`: whether a browser page may read it (not an admin operation's while
/// any signature is accepted).
fn render(request_id: &str, result: Result<Value, ApiError>, cors: bool) -> Response<Body> {
    let (status, body, error) = match result {
        Ok(v) => (StatusCode::OK, v.to_string(), None),
        Err(e) => {
            let status =
                StatusCode::from_u16(e.kind.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
            let body = json!({"__type": e.kind.name(), "message": e.message}).to_string();
            (status, body, Some(e))
        }
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_11));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert(HeaderName::from_static("x-amzn-requestid"), v);
    }
    if let Some(e) = error {
        if let Ok(v) = HeaderValue::from_str(&format!("{}:", e.kind.name())) {
            h.insert(HeaderName::from_static("x-amzn-errortype"), v);
        }
        if let Ok(v) = HeaderValue::from_str(&e.message) {
            h.insert(HeaderName::from_static("x-amzn-errormessage"), v);
        }
    }
    if cors {
        add_cors(h);
    }
    resp
}

/// The single place that decides whether a request is authenticated enough. For now any
/// well-formed SigV4 Authorization header is accepted for operations that need SigV4 (as
/// local emulators do); operations the model marks `authtype: none` never check it.
pub fn check_auth(op: Operation, headers: &HeaderMap) -> Result<(), ApiError> {
    if !op.requires_sigv4() {
        return Ok(());
    }
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(protocol::missing_authentication());
    };
    let well_formed = auth.starts_with("AWS4-HMAC-SHA256 ")
        && auth.contains("Credential=")
        && auth.contains("SignedHeaders=")
        && auth.contains("Signature=");
    if !well_formed {
        return Err(protocol::invalid_signature());
    }
    Ok(())
}

fn operation_for(headers: &HeaderMap) -> Result<Operation, ApiError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(protocol::missing_target)?;
    target
        .strip_prefix(TARGET_PREFIX)
        .and_then(Operation::from_name)
        .ok_or_else(|| protocol::unknown_operation(target))
}

fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    // JSON 1.0 and plain JSON are tolerated: some hand-written clients send them.
    if matches!(
        mime.as_str(),
        "application/x-amz-json-1.1" | "application/x-amz-json-1.0" | "application/json"
    ) {
        Ok(())
    } else {
        Err(protocol::unsupported_media_type(ct, JSON_11))
    }
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let value: Value = serde_json::from_slice(body).map_err(protocol::not_json)?;
    if !value.is_object() {
        return Err(protocol::not_an_object());
    }
    Ok(value)
}

/// What a request's quota is counted against: its pool (named, or the pool of its app
/// client), else the signing key its token names (one live key per pool), else the account
/// (operations without a pool, such as ListUserPools).
async fn quota_key(state: &AppState, body: &Value) -> String {
    let member = |name: &str| body.get(name).and_then(Value::as_str);
    if let Some(pool) = member("UserPoolId") {
        return pool.to_string();
    }
    if let Some(client) = member("ClientId") {
        return match state.service().pool_of_client(client).await {
            Some(pool) => pool,
            None => format!("client:{client}"),
        };
    }
    let token = member("AccessToken").or_else(|| member("Token"));
    match token.and_then(|t| cognate_crypto::jwt::key_id(t).ok()) {
        Some(kid) => format!("key:{kid}"),
        None => String::new(),
    }
}

/// Reads a request body: too long is `RequestEntityTooLargeException`, too slow or malformed
/// framing (a bad chunk size, a connection cut mid-body) is a malformed request.
async fn read_body(
    body: Body,
    limit: usize,
    within: std::time::Duration,
) -> Result<Bytes, ApiError> {
    match tokio::time::timeout(within, axum::body::to_bytes(body, limit)).await {
        Err(_) => Err(protocol::body_timeout()),
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => {
            let error = e.into_inner();
            if error.is::<http_body_util::LengthLimitError>() {
                Err(protocol::body_too_large(limit))
            } else {
                Err(protocol::malformed_body())
            }
        }
    }
}

async fn api(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    let started = Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let op = operation_for(&headers);
    let op_name = op.as_ref().map(|o| o.name()).unwrap_or("-");
    let result = async {
        let op = op.clone()?;
        check_content_type(&headers)?;
        check_auth(op, &headers)?;
        let bytes = read_body(body, state.max_body_bytes, state.body_read_timeout).await?;
        if op.requires_sigv4() {
            // Real time, not the service's clock: a test clock moved days ahead must not
            // make every SDK's signature look expired.
            state.authenticator.verify(
                &uri,
                &headers,
                &bytes,
                &state.region,
                std::time::SystemTime::now(),
            )?;
        }
        let value = parse_body(&bytes)?;
        if state.quotas.is_enabled() {
            let key = quota_key(&state, &value).await;
            state
                .quotas
                .check_operation(&key, op, Instant::now())
                .map_err(|throttled| throttled.to_api_error())?;
        }
        let ctx = RequestContext {
            request_id: request_id.clone(),
            operation: op,
            source_ip: Some(peer.ip().to_string()),
            user_agent: headers
                .get(header::USER_AGENT)
                .or_else(|| headers.get("x-amz-user-agent"))
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
        };
        dispatch(&state.api, &ctx, value).await
    }
    .await;
    let (outcome, status) = match &result {
        Ok(_) => ("ok", 200),
        Err(e) => (e.kind.name(), e.kind.http_status()),
    };
    if let Some(metrics) = &state.metrics {
        metrics.observe_request(
            op.as_ref().ok().copied(),
            result.as_ref().map(|_| ()).map_err(|e| e.kind),
            started.elapsed(),
        );
    }
    tracing::info!(
        request_id = %request_id,
        operation = op_name,
        outcome,
        status,
        latency_us = started.elapsed().as_micros() as u64,
        "request"
    );
    let cors = state.signatures_verified() || op.as_ref().is_ok_and(|o| !o.requires_sigv4());
    render(&request_id, result, cors)
}

/// Liveness: the process answers. It does not touch the store, so a database outage does not
/// get the process restarted.
async fn live() -> impl IntoResponse {
    axum::Json(json!({"status": "live"}))
}

/// Prometheus text format.
async fn metrics(State(state): State<Arc<AppState>>) -> Response<Body> {
    match &state.metrics {
        Some(metrics) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            metrics.render(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// Readiness (`/health`, `/health/ready`): the store answers.
async fn health(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    match state.service().ready().await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"status": "ok"}))),
        Err(e) => {
            // The detail (a database address, a driver message) is for the log.
            tracing::warn!(error = %e, "health: not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({"status": "unavailable"})),
            )
        }
    }
}

#[derive(Deserialize)]
struct OutboxQuery {
    pool: Option<String>,
    username: Option<String>,
    limit: Option<i64>,
}

async fn outbox(
    State(state): State<Arc<AppState>>,
    Query(q): Query<OutboxQuery>,
) -> Response<Body> {
    if let Some(refusal) = state.outbox_refusal() {
        return (StatusCode::NOT_FOUND, refusal).into_response();
    }
    match state
        .service()
        .outbox(
            q.pool.as_deref().filter(|s| !s.is_empty()),
            q.username.as_deref().filter(|s| !s.is_empty()),
            q.limit.unwrap_or(200),
        )
        .await
    {
        Ok(messages) => {
            let list: Vec<Value> = messages
                .into_iter()
                .map(|m| {
                    json!({"UserPoolId": m.pool_id, "Username": m.username, "Medium": m.medium,
                           "Destination": m.destination, "Subject": m.subject, "Body": m.body,
                           "Code": m.code, "SentAt": m.sent_at})
                })
                .collect();
            // No CORS: only same-origin pages (the inbox) and local tools read the codes.
            axum::Json(json!({ "Messages": list })).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "reading the outbox");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the outbox could not be read",
            )
                .into_response()
        }
    }
}

async fn inbox_page(State(state): State<Arc<AppState>>) -> Response<Body> {
    if let Some(refusal) = state.outbox_refusal() {
        return (StatusCode::NOT_FOUND, refusal).into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        crate::inbox::PAGE,
    )
        .into_response()
}

#[derive(Deserialize)]
struct ClockAdvance {
    #[serde(rename = "AdvanceSeconds")]
    advance_seconds: i64,
}

async fn test_clock(
    State(state): State<Arc<AppState>>,
    axum::Json(req): axum::Json<ClockAdvance>,
) -> Response<Body> {
    let Some(clock) = &state.test_clock else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now = clock.advance(req.advance_seconds);
    axum::Json(json!({ "Now": now })).into_response()
}

#[derive(Deserialize)]
struct ConfirmLink {
    client_id: String,
    user_name: String,
    confirmation_code: String,
}

/// The target of `{##text##}` links in CONFIRM_WITH_LINK emails, as Cognito's hosted
/// `/confirmUser` endpoint.
async fn confirm_link(
    State(state): State<Arc<AppState>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<ConfirmLink>,
) -> Response<Body> {
    let ctx = RequestContext {
        request_id: uuid::Uuid::new_v4().to_string(),
        operation: Operation::ConfirmSignUp,
        source_ip: Some(peer.ip().to_string()),
        user_agent: None,
    };
    let result = state
        .service()
        .confirm_sign_up_by_link(
            &plain_caller(&ctx),
            &q.client_id,
            &q.user_name,
            &q.confirmation_code,
        )
        .await;
    let (status, text) = match result {
        Ok(()) => (
            StatusCode::OK,
            "Your registration has been confirmed.".to_string(),
        ),
        Err(e) => {
            let e = errors::to_wire(e, &ctx.request_id);
            (
                StatusCode::BAD_REQUEST,
                format!("{}: {}", e.kind.name(), e.message),
            )
        }
    };
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html><title>Cognate</title><p>{}</p>",
            html_escape(&text)
        ),
    )
        .into_response()
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `GET /{poolId}/.well-known/jwks.json`: the keys that verify the pool's tokens.
async fn jwks(State(state): State<Arc<AppState>>, Path(pool_id): Path<String>) -> Response<Body> {
    match state.service().jwks(&pool_id).await {
        Ok(keys) => public_json(json!({ "keys": keys })),
        Err(e) => well_known_error(e),
    }
}

/// `GET /{poolId}/.well-known/openid-configuration`, served at the tokens' issuer so that the
/// discovery document's `issuer` and `jwks_uri` equal what the tokens carry. Without a
/// user-pool domain the OAuth endpoints take the issuer-relative form AWS gives such pools.
/// With one, the domain's endpoints are at the origin the request came to (its `Host`, when
/// well-formed), so a browser sent there stays on the name it used; else at `--public-url`.
async fn openid_configuration(
    State(state): State<Arc<AppState>>,
    Path(pool_id): Path<String>,
    headers: HeaderMap,
) -> Response<Body> {
    if let Err(e) = state.service().jwks(&pool_id).await {
        return well_known_error(e);
    }
    let issuer = state.service().issuer(&pool_id);
    let domain = match state.service().pool_prefix_domain(&pool_id).await {
        Ok(domain) => domain,
        Err(e) => return well_known_error(e),
    };
    // With a domain, its endpoints by path at the origin the request named.
    if let Some(domain) = domain {
        let base = format!("{}/{domain}", request_origin(&state, &headers));
        return public_json(json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "authorization_endpoint": format!("{base}/oauth2/authorize"),
            "token_endpoint": format!("{base}/oauth2/token"),
            "userinfo_endpoint": format!("{base}/oauth2/userInfo"),
            "revocation_endpoint": format!("{base}/oauth2/revoke"),
            "end_session_endpoint": format!("{base}/logout"),
            "response_types_supported": ["code", "token"],
            "grant_types_supported": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "scopes_supported": ["openid", "email", "phone", "profile"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        }));
    }
    public_json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userInfo"),
        "response_types_supported": ["code", "token"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

/// The origin a request came to: `{scheme}://{Host}` when the `Host` header is a well-formed
/// host name or IP literal with an optional port (the scheme `https` when this listener serves
/// TLS or `--public-url` is https, else `http`); `--public-url` otherwise.
fn request_origin(state: &AppState, headers: &HeaderMap) -> String {
    let public = state.service().public_url();
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| well_formed_host(h));
    match host {
        Some(host) => {
            let https = state.tls
                || public
                    .get(..8)
                    .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
            format!("{}://{host}", if https { "https" } else { "http" })
        }
        None => public.to_string(),
    }
}

/// `host[:port]`: a DNS name (letters, digits, `-`, `.`, 253 characters at most), an IPv4
/// address, or a bracketed IPv6 literal; the port 1 to 5 digits. Nothing else (no user info,
/// path, spaces or other characters) is taken into a URL.
fn well_formed_host(value: &str) -> bool {
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let Some((literal, after)) = rest.split_once(']') else {
            return false;
        };
        if literal.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("[]", Some(port)),
                None => return false,
            },
        }
    } else {
        match value.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (value, None),
        }
    };
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = host == "[]"
        || (!host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            }));
    port_ok && host_ok
}

/// A public document any origin may read (JWKS and discovery are public on AWS too).
fn public_json(body: Value) -> Response<Body> {
    let mut resp = axum::Json(body).into_response();
    add_cors(resp.headers_mut());
    resp
}

fn well_known_error(e: cognate_core::DomainError) -> Response<Body> {
    let e = errors::to_wire(e, "-");
    let status = if e.kind == cognate_wire::ErrorKind::ResourceNotFoundException {
        StatusCode::NOT_FOUND
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    let mut resp = (
        status,
        axum::Json(json!({"__type": e.kind.name(), "message": e.message})),
    )
        .into_response();
    add_cors(resp.headers_mut());
    resp
}

#[cfg(test)]
mod host_tests {
    use super::well_formed_host;

    #[test]
    fn only_well_formed_hosts_name_the_origin() {
        for good in [
            "localhost",
            "localhost:9229",
            "127.0.0.1:9229",
            "my-app.auth.us-east-1.amazoncognito.com",
            "Auth.Example.COM:443",
            "[::1]:9229",
            "[::1]",
        ] {
            assert!(well_formed_host(good), "{good}");
        }
        for bad in [
            "",
            ":9229",
            "evil.com/x",
            "user@evil.com",
            "a..b",
            "host:",
            "host:123456",
            "host:12a",
            "a b",
            "[::1",
            "[zz]:1",
            "[::1]x",
            "host:1:2",
            "exa\"mple",
        ] {
            assert!(!well_formed_host(bad), "{bad}");
        }
    }
}
