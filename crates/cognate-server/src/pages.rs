//! Managed login, HTTP side (spec vii.2, vii.5): `GET /oauth2/authorize` and the pages it
//! leads to: sign-in (`/login`), the new-password challenge (`/newPassword`), sign-up
//! (`/signup`), confirming it (`/confirm`, with "resend"), and the forgotten password
//! (`/forgotPassword`, `/confirmForgotPassword`). Served by path (`/{prefix}/login`) and by
//! host (`/login` on a host whose first label is the prefix). Every page carries the
//! authorize request's parameters in its query and checks them again, so no page acts for a
//! client or redirect URI that the authorize checks would refuse. This module reads the
//! query, the forms and the cookies, renders the pages (every value HTML-escaped) and builds
//! the redirects; the checks, sign-in, sign-up and recovery are `cognate_core::Service`'s.
//!
//! Forms are posted back to their page's URL and answered Post/Redirect/Get: a success
//! redirects (`303`) to the next page, a refusal shows the page again with the message. Each
//! form repeats a CSRF token that is also in a `SameSite=Strict` cookie; the two are compared
//! in constant time.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, Response, StatusCode};
use axum::response::IntoResponse;

use cognate_core::service::{
    AuthorizeFailure, AuthorizeGrant, AuthorizeRequest, HostedPageSettings, HostedSignIn,
    SignInName, LOGIN_SESSION_SECS,
};
use cognate_core::{Caller, DomainError};
use cognate_wire::{ErrorKind, Operation};

use crate::hosted::{
    cookie, error_page, html_escape, page, pair, parse_pairs, pct_encode, redirect, Site,
    CSRF_COOKIE, SESSION_COOKIE,
};
use crate::http::AppState;

/// The pages of a domain, and the path of each under the domain's root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Page {
    Authorize,
    Login,
    NewPassword,
    SignUp,
    Confirm,
    ForgotPassword,
    ConfirmForgotPassword,
}

impl Page {
    pub(crate) const ALL: [Page; 7] = [
        Page::Authorize,
        Page::Login,
        Page::NewPassword,
        Page::SignUp,
        Page::Confirm,
        Page::ForgotPassword,
        Page::ConfirmForgotPassword,
    ];

    pub(crate) fn path(self) -> &'static str {
        match self {
            Page::Authorize => "oauth2/authorize",
            Page::Login => "login",
            Page::NewPassword => "newPassword",
            Page::SignUp => "signup",
            Page::Confirm => "confirm",
            Page::ForgotPassword => "forgotPassword",
            Page::ConfirmForgotPassword => "confirmForgotPassword",
        }
    }
}

/// The authorize parameters every page carries, in the order they are written back.
const OAUTH_PARAMETERS: [&str; 10] = [
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "identity_provider",
    "prompt",
];

/// Notices a redirect may ask the next page to show. Only these keys are accepted, so a link
/// cannot make the page say anything else.
fn notice_text(key: &str) -> Option<&'static str> {
    Some(match key {
        "confirmed" => "Your account is confirmed. Sign in to continue.",
        "password_changed" => "Your password has been changed. Sign in with your new password.",
        "code_sent_email" => "We have sent a code by email. Enter it below.",
        "code_sent_sms" => "We have sent a code by text message. Enter it below.",
        "code_resent" => "We have sent you a new code.",
        "signed_up" => "Your account is ready. Sign in to continue.",
        "confirm_first" => "Your account is not confirmed yet. Enter the code we sent you.",
        "reset_required" => "You must reset your password. We will send you a code.",
        _ => return None,
    })
}

/// One request to a page: where it was reached, its checked grant, and what the page needs.
struct PageRequest<'a> {
    state: &'a AppState,
    site: Site,
    request: AuthorizeRequest,
    grant: AuthorizeGrant,
    params: Vec<(String, String)>,
    caller: Caller,
    secure: bool,
}

impl PageRequest<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        pair(&self.params, name)
    }

    /// The page's URL with the authorize parameters and any `extra` ones.
    fn url(&self, page: Page, extra: &[(&str, &str)]) -> String {
        let mut url = format!("{}/{}", self.site.base, page.path());
        let mut sep = '?';
        let carried = OAUTH_PARAMETERS
            .iter()
            .filter_map(|name| self.param(name).map(|v| (*name, v)));
        for (name, value) in carried.chain(extra.iter().copied()) {
            url.push(sep);
            url.push_str(name);
            url.push('=');
            url.push_str(&pct_encode(value));
            sep = '&';
        }
        url
    }

    /// `303 See Other` to one of the domain's pages.
    fn go(&self, page: Page, extra: &[(&str, &str)]) -> Response<Body> {
        let mut resp = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(&self.url(page, extra)) {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

/// A page request by path (`/{prefix}/{page}`) or by host; `form` is a POST's body.
pub(crate) async fn serve(
    state: &AppState,
    site: Site,
    page: Page,
    query: &str,
    peer: SocketAddr,
    headers: &HeaderMap,
    form: Option<&[u8]>,
) -> Response<Body> {
    let started = std::time::Instant::now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let Some(params) = parse_pairs(query) else {
        return error_page(StatusCode::BAD_REQUEST, "invalid_request");
    };
    let get = |name: &str| pair(&params, name).map(str::to_string);
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
            tracing::info!(
                request_id,
                page = page.path(),
                answer = code,
                "managed login"
            );
            return error_page(StatusCode::BAD_REQUEST, code);
        }
        Err(AuthorizeFailure::Redirect {
            redirect_uri,
            error,
        }) => {
            tracing::info!(
                request_id,
                page = page.path(),
                client_id = request.client_id.as_deref().unwrap_or_default(),
                answer = error.code(),
                "managed login"
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
            tracing::error!(request_id, page = page.path(), error = %e, "managed login failed");
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, "server_error");
        }
    };
    let caller = Caller {
        request_id,
        source_ip: Some(peer.ip().to_string()),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        // Hidden refusals (a name of no user, for a client that hides existence) are held
        // as long as real answers take, from here.
        started: Some(started),
        ..Default::default()
    };
    let req = PageRequest {
        state,
        site,
        request,
        grant,
        params,
        caller,
        secure: service.public_url().starts_with("https://"),
    };
    let Some(body) = form else {
        return show(&req, page, headers).await;
    };
    let Some(fields) = std::str::from_utf8(body).ok().and_then(parse_pairs) else {
        return render(&req, page, None, Message::Error(GENERIC_FORM_ERROR)).await;
    };
    let form = Form(fields);
    if !csrf_matches(headers, &form) {
        tracing::info!(
            request_id = req.caller.request_id,
            page = page.path(),
            answer = "csrf",
            "managed login"
        );
        let mut resp = render(
            &req,
            page_of_post(page),
            None,
            Message::Error("This form expired. Please try again."),
        )
        .await;
        *resp.status_mut() = StatusCode::FORBIDDEN;
        return resp;
    }
    submit(&req, page, &form).await
}

const GENERIC_FORM_ERROR: &str = "Something was wrong with the form. Please try again.";

/// The page a refused form is shown on again.
fn page_of_post(page: Page) -> Page {
    match page {
        Page::Authorize | Page::NewPassword => Page::Login,
        other => other,
    }
}

/// A GET: the authorize endpoint signs a live session in silently or sends the browser to
/// `/login`; `/login` does the same silent sign-in or shows its form; the other pages show
/// their forms (the new-password page only exists as the sign-in's answer).
async fn show(req: &PageRequest<'_>, page: Page, headers: &HeaderMap) -> Response<Body> {
    match page {
        Page::Authorize | Page::Login => {
            // OpenID's `prompt`: `login` asks for the password even with a live session,
            // `none` never shows a page (no session: `error=login_required`); Cognito's
            // `select_account` and `consent` concern federated providers and change nothing
            // here.
            let prompt = req.param("prompt").unwrap_or_default();
            let live = match cookie(headers, SESSION_COOKIE) {
                Some(cookie) if prompt != "login" => cookie,
                _ => String::new(),
            };
            if !live.is_empty() {
                match req
                    .state
                    .service()
                    .login_session(&req.grant.pool_id, &live)
                    .await
                {
                    Ok(Some(session)) => return code_redirect(req, &session, None).await,
                    Ok(None) => {}
                    Err(e) => return failed(req, e),
                }
            }
            if prompt == "none" {
                return redirect(
                    &req.grant.redirect_uri,
                    &[
                        ("error", Some("login_required")),
                        ("state", req.request.state.as_deref()),
                    ],
                    None,
                );
            }
            if page == Page::Authorize {
                let mut resp = req.go(Page::Login, &[]);
                *resp.status_mut() = StatusCode::FOUND;
                return resp;
            }
            render(req, Page::Login, None, Message::None).await
        }
        Page::NewPassword => req.go(Page::Login, &[]),
        other => render(req, other, None, Message::None).await,
    }
}

/// A posted form's fields.
struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, name: &str) -> &str {
        pair(&self.0, name).unwrap_or_default()
    }
}

fn csrf_matches(headers: &HeaderMap, form: &Form) -> bool {
    match cookie(headers, CSRF_COOKIE) {
        Some(c) if !c.is_empty() => {
            let f = form.get("_csrf");
            c.len() == f.len() && cognate_crypto::codes::digests_equal(c.as_bytes(), f.as_bytes())
        }
        _ => false,
    }
}

/// The API operation a page's form performs, whose quota category it counts against.
fn operation_of(page: Page, form: &Form) -> Operation {
    match page {
        Page::Authorize | Page::Login => Operation::InitiateAuth,
        Page::NewPassword => Operation::RespondToAuthChallenge,
        Page::SignUp => Operation::SignUp,
        Page::Confirm if form.get("action") == "resend" => Operation::ResendConfirmationCode,
        Page::Confirm => Operation::ConfirmSignUp,
        Page::ForgotPassword => Operation::ForgotPassword,
        Page::ConfirmForgotPassword => Operation::ConfirmForgotPassword,
    }
}

/// A POST with a valid CSRF token.
async fn submit(req: &PageRequest<'_>, page: Page, form: &Form) -> Response<Body> {
    // With `--quotas`, a form counts against its pool as the API operation it performs.
    let quotas = req.state.quotas();
    if quotas.is_enabled() {
        let op = operation_of(page, form);
        if let Err(throttled) =
            quotas.check_operation(&req.grant.pool_id, op, std::time::Instant::now())
        {
            tracing::info!(
                request_id = req.caller.request_id,
                page = page.path(),
                answer = "throttled",
                category = %throttled.category,
                "managed login"
            );
            let mut resp = render(
                req,
                page_of_post(page),
                Some(form),
                Message::Error("Too many requests. Please wait a moment and try again."),
            )
            .await;
            *resp.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return resp;
        }
    }
    let service = req.state.service();
    let caller = &req.caller;
    let grant = &req.grant;
    let username = form.get("username").trim();
    match page {
        Page::Authorize | Page::Login => {
            let password = form.get("password");
            if username.is_empty() || password.is_empty() {
                return render(
                    req,
                    Page::Login,
                    Some(form),
                    Message::Error("Enter your username and password."),
                )
                .await;
            }
            match service
                .hosted_sign_in(caller, grant, username, password)
                .await
            {
                Ok(outcome) => signed_in(req, outcome, username).await,
                Err(DomainError::UserNotConfirmed) => req.go(
                    Page::Confirm,
                    &[("username", username), ("notice", "confirm_first")],
                ),
                // The right password of a user an administrator reset: a new one by code.
                Err(DomainError::PasswordResetRequired) => req.go(
                    Page::ForgotPassword,
                    &[("username", username), ("notice", "reset_required")],
                ),
                Err(e) => refused(req, Page::Login, form, e).await,
            }
        }
        Page::NewPassword => {
            let (session, password) = (form.get("session"), form.get("password"));
            let required = required_fields(form);
            // What the form itself can tell is checked before the challenge's single-use
            // session is spent, so the person can correct it on the same page.
            let settings = match service.hosted_page_settings(grant).await {
                Ok(s) => s,
                Err(e) => return failed(req, e),
            };
            let precheck = if password != form.get("confirm_password") {
                Some("The passwords do not match.".to_string())
            } else if required
                .iter()
                .any(|n| form.get(&format!("attr.{n}")).trim().is_empty())
            {
                Some("Fill in every field.".to_string())
            } else {
                cognate_core::service::check_password(&settings.password_policy, password)
                    .err()
                    .and_then(|e| wire_message(req, e))
            };
            if let Some(message) = precheck {
                return new_password_page(
                    req,
                    session,
                    username,
                    &required,
                    Message::Owned(message),
                )
                .await;
            }
            let attributes: BTreeMap<String, String> = form
                .0
                .iter()
                .filter_map(|(n, v)| {
                    n.strip_prefix("attr.")
                        .map(|name| (name.to_string(), v.trim().to_string()))
                })
                .collect();
            match service
                .hosted_new_password(caller, grant, session, username, password, attributes)
                .await
            {
                Ok(outcome) => signed_in(req, outcome, username).await,
                // The session is spent (or was already): sign in again for a new one.
                Err(e) => refused(req, Page::Login, form, e).await,
            }
        }
        Page::SignUp => {
            let settings = match service.hosted_page_settings(grant).await {
                Ok(s) => s,
                Err(e) => return failed(req, e),
            };
            if !settings.sign_up_allowed {
                return render(
                    req,
                    Page::SignUp,
                    Some(form),
                    Message::Error(
                        "Sign-up is not available. Ask your administrator for an account.",
                    ),
                )
                .await;
            }
            let name_field = sign_up_name_field(settings.sign_in_name);
            let username = form.get(name_field).trim();
            let password = form.get("password");
            let mut attributes = BTreeMap::new();
            for name in &settings.required_attributes {
                attributes.insert(name.clone(), form.get(name).trim().to_string());
            }
            if name_field != "username" {
                attributes.insert(name_field.to_string(), username.to_string());
            }
            match service
                .hosted_sign_up(caller, grant, username, password, attributes)
                .await
            {
                Ok(done) if done.confirmed => req.go(
                    Page::Login,
                    &[("username", username), ("notice", "signed_up")],
                ),
                Ok(done) => {
                    let notice = match done.delivery.map(|d| d.medium) {
                        Some(cognate_core::delivery::Medium::Sms) => "code_sent_sms",
                        _ => "code_sent_email",
                    };
                    req.go(Page::Confirm, &[("username", username), ("notice", notice)])
                }
                Err(e) => refused(req, Page::SignUp, form, e).await,
            }
        }
        Page::Confirm => {
            if form.get("action") == "resend" {
                return match service.hosted_resend_code(caller, grant, username).await {
                    Ok(_) => req.go(
                        Page::Confirm,
                        &[("username", username), ("notice", "code_resent")],
                    ),
                    Err(e) => refused(req, Page::Confirm, form, e).await,
                };
            }
            let code = form.get("code").trim();
            match service
                .hosted_confirm_sign_up(caller, grant, username, code)
                .await
            {
                Ok(()) => req.go(
                    Page::Login,
                    &[("username", username), ("notice", "confirmed")],
                ),
                Err(e) => refused(req, Page::Confirm, form, e).await,
            }
        }
        Page::ForgotPassword => match service
            .hosted_forgot_password(caller, grant, username)
            .await
        {
            Ok(delivery) => {
                let notice = match delivery.medium {
                    cognate_core::delivery::Medium::Sms => "code_sent_sms",
                    cognate_core::delivery::Medium::Email => "code_sent_email",
                };
                req.go(
                    Page::ConfirmForgotPassword,
                    &[("username", username), ("notice", notice)],
                )
            }
            Err(e) => refused(req, Page::ForgotPassword, form, e).await,
        },
        Page::ConfirmForgotPassword => {
            let (code, password) = (form.get("code").trim(), form.get("password"));
            if password != form.get("confirm_password") {
                return render(
                    req,
                    Page::ConfirmForgotPassword,
                    Some(form),
                    Message::Error("The passwords do not match."),
                )
                .await;
            }
            match service
                .hosted_confirm_forgot_password(caller, grant, username, code, password)
                .await
            {
                Ok(()) => req.go(
                    Page::Login,
                    &[("username", username), ("notice", "password_changed")],
                ),
                Err(e) => refused(req, Page::ConfirmForgotPassword, form, e).await,
            }
        }
    }
}

/// The required attributes a new-password form asked for, as its fields.
fn required_fields(form: &Form) -> Vec<String> {
    form.0
        .iter()
        .filter_map(|(n, _)| n.strip_prefix("attr.").map(str::to_string))
        .collect()
}

/// A sign-in's outcome: the session cookie and a code for the app, or the new-password form.
async fn signed_in(req: &PageRequest<'_>, outcome: HostedSignIn, username: &str) -> Response<Body> {
    match outcome {
        HostedSignIn::SignedIn { cookie, session } => {
            tracing::info!(
                request_id = req.caller.request_id,
                client_id = req.grant.client_id,
                answer = "signed in",
                "managed login"
            );
            let set = format!(
                "{SESSION_COOKIE}={cookie}; Path={}; Max-Age={LOGIN_SESSION_SECS}; HttpOnly; SameSite=Lax{}",
                req.site.cookie_path,
                if req.secure { "; Secure" } else { "" }
            );
            code_redirect(req, &session, Some(set)).await
        }
        HostedSignIn::NewPasswordRequired {
            session,
            required_attributes,
        } => {
            new_password_page(
                req,
                &session,
                username,
                &required_attributes,
                Message::Notice("You must change your password before you continue."),
            )
            .await
        }
    }
}

/// A refused form shown again with the error's message (the API's message for the same
/// refusal); an internal failure is the error page.
async fn refused(req: &PageRequest<'_>, page: Page, form: &Form, e: DomainError) -> Response<Body> {
    match wire_message(req, e) {
        Some(message) => render(req, page, Some(form), Message::Owned(message)).await,
        None => error_page(StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
    }
}

/// The message a person is shown for a refusal; None for an internal failure (logged).
fn wire_message(req: &PageRequest<'_>, e: DomainError) -> Option<String> {
    let wire = crate::errors::to_wire(e, &req.caller.request_id);
    tracing::info!(
        request_id = req.caller.request_id,
        client_id = req.grant.client_id,
        answer = wire.kind.name(),
        "managed login"
    );
    (wire.kind != ErrorKind::InternalErrorException).then_some(wire.message)
}

fn failed(req: &PageRequest<'_>, e: DomainError) -> Response<Body> {
    tracing::error!(request_id = req.caller.request_id, error = %e, "managed login failed");
    error_page(StatusCode::INTERNAL_SERVER_ERROR, "server_error")
}

/// A new code for the session, and the redirect to the app that carries it.
async fn code_redirect(
    req: &PageRequest<'_>,
    session: &cognate_core::records::LoginSessionRecord,
    set_cookie: Option<String>,
) -> Response<Body> {
    let state = req.request.state.as_deref();
    if req.grant.implicit {
        return implicit_redirect(req, session, set_cookie).await;
    }
    match req
        .state
        .service()
        .issue_authorization_code(&req.grant, session)
        .await
    {
        Ok(code) => redirect(
            &req.grant.redirect_uri,
            &[("code", Some(&code)), ("state", state)],
            set_cookie,
        ),
        Err(e) => {
            tracing::error!(error = %e, "issuing an authorization code failed");
            redirect(
                &req.grant.redirect_uri,
                &[("error", Some("server_error")), ("state", state)],
                None,
            )
        }
    }
}

/// The implicit grant's redirect: the tokens in the redirect URI's fragment (spec vii.2),
/// `#access_token=…&id_token=…&token_type=Bearer&expires_in=…&state=…`, the ID token only
/// with `openid`.
async fn implicit_redirect(
    req: &PageRequest<'_>,
    session: &cognate_core::records::LoginSessionRecord,
    set_cookie: Option<String>,
) -> Response<Body> {
    let state = req.request.state.as_deref();
    let granted = match req
        .state
        .service()
        .implicit_tokens(&req.grant, session)
        .await
    {
        Ok(granted) => granted,
        Err(e) => {
            tracing::error!(error = %e, "issuing implicit-grant tokens failed");
            return redirect(
                &req.grant.redirect_uri,
                &[("error", Some("server_error")), ("state", state)],
                None,
            );
        }
    };
    let expires_in = granted.tokens.expires_in.to_string();
    let mut fragment = vec![("access_token", Some(granted.tokens.access_token.as_str()))];
    if granted.openid {
        fragment.push(("id_token", Some(granted.tokens.id_token.as_str())));
    }
    fragment.extend([
        ("token_type", Some("Bearer")),
        ("expires_in", Some(expires_in.as_str())),
        ("state", state),
    ]);
    let mut location = req.grant.redirect_uri.clone();
    let mut sep = '#';
    for (name, value) in fragment {
        if let Some(value) = value {
            location.push(sep);
            location.push_str(name);
            location.push('=');
            location.push_str(&pct_encode(value));
            sep = '&';
        }
    }
    redirect(&location, &[], set_cookie)
}

enum Message {
    None,
    Error(&'static str),
    Owned(String),
    Notice(&'static str),
}

impl Message {
    fn html(&self) -> String {
        match self {
            Message::None => String::new(),
            Message::Error(m) => error_html(m),
            Message::Owned(m) => error_html(m),
            Message::Notice(m) => {
                format!("<p class=\"notice\" role=\"status\">{}</p>", html_escape(m))
            }
        }
    }
}

fn error_html(message: &str) -> String {
    format!(
        "<p class=\"error\" role=\"alert\">{}</p>",
        html_escape(message)
    )
}

/// An input of a form.
struct Field {
    name: String,
    label: String,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
}

impl Field {
    fn new(name: &str, label: &str, kind: &'static str, autocomplete: &'static str) -> Field {
        Field {
            name: name.to_string(),
            label: label.to_string(),
            kind,
            autocomplete,
            value: String::new(),
        }
    }

    /// Keeps what was typed (never for passwords or codes).
    fn filled(mut self, value: &str) -> Field {
        if self.kind != "password" {
            self.value = value.to_string();
        }
        self
    }

    fn html(&self) -> String {
        let id = html_escape(&self.name);
        let extra = match (self.kind, self.autocomplete) {
            ("text" | "email", _) => " autocapitalize=\"none\" spellcheck=\"false\"",
            // A new password's rules are read out with it.
            ("password", "new-password") if self.name == "password" => {
                " aria-describedby=\"password-policy\""
            }
            _ => "",
        };
        format!(
            "<label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{id}\" type=\"{}\" \
             autocomplete=\"{}\" value=\"{}\" required{extra}>",
            html_escape(&self.label),
            self.kind,
            self.autocomplete,
            html_escape(&self.value)
        )
    }
}

/// The sign-up form's field for the sign-in name.
fn sign_up_name_field(name: SignInName) -> &'static str {
    match name {
        SignInName::Email => "email",
        SignInName::PhoneNumber => "phone_number",
        SignInName::Username | SignInName::EmailOrPhoneNumber => "username",
    }
}

fn sign_in_label(name: SignInName) -> &'static str {
    match name {
        SignInName::Username => "Username",
        SignInName::Email => "Email",
        SignInName::PhoneNumber => "Phone number",
        SignInName::EmailOrPhoneNumber => "Email or phone number",
    }
}

/// An attribute's input: its label, type and autocomplete hint.
fn attribute_field(name: &str) -> Field {
    let (label, kind, autocomplete) = match name {
        "email" => ("Email", "email", "email"),
        "phone_number" => ("Phone number (+ and country code)", "tel", "tel"),
        "name" => ("Name", "text", "name"),
        "given_name" => ("Given name", "text", "given-name"),
        "family_name" => ("Family name", "text", "family-name"),
        "middle_name" => ("Middle name", "text", "additional-name"),
        "nickname" => ("Nickname", "text", "nickname"),
        "preferred_username" => ("Preferred username", "text", "username"),
        "birthdate" => ("Birthdate (YYYY-MM-DD)", "text", "bday"),
        "address" => ("Address", "text", "street-address"),
        "gender" => ("Gender", "text", "sex"),
        "locale" => ("Locale", "text", "language"),
        "website" => ("Website", "url", "url"),
        "profile" => ("Profile page", "url", "url"),
        "picture" => ("Picture URL", "url", "photo"),
        "zoneinfo" => ("Time zone", "text", "off"),
        _ => ("", "text", "off"),
    };
    let label = if label.is_empty() {
        name.strip_prefix("custom:")
            .unwrap_or(name)
            .replace('_', " ")
    } else {
        label.to_string()
    };
    Field::new(name, &label, kind, autocomplete)
}

/// The policy, as a sentence the person can follow.
fn policy_text(settings: &HostedPageSettings) -> String {
    let policy = &settings.password_policy;
    let mut needs = Vec::new();
    if policy.require_lowercase {
        needs.push("a lowercase letter");
    }
    if policy.require_uppercase {
        needs.push("an uppercase letter");
    }
    if policy.require_numbers {
        needs.push("a number");
    }
    if policy.require_symbols {
        needs.push("a special character");
    }
    let mut text = format!("Use at least {} characters", policy.minimum_length.max(1));
    if let Some((last, rest)) = needs.split_last() {
        text.push_str(", with ");
        if !rest.is_empty() {
            text.push_str(&rest.join(", "));
            text.push_str(" and ");
        }
        text.push_str(last);
    }
    text.push('.');
    text
}

/// Renders `page` (a refused POST keeps what was typed in `form`).
async fn render(
    req: &PageRequest<'_>,
    page: Page,
    form: Option<&Form>,
    message: Message,
) -> Response<Body> {
    let settings = match req.state.service().hosted_page_settings(&req.grant).await {
        Ok(s) => s,
        Err(e) => return failed(req, e),
    };
    let typed = |name: &str| {
        form.map(|f| f.get(name).to_string())
            .or_else(|| req.param(name).map(str::to_string))
            .unwrap_or_default()
    };
    let message = match (&message, req.param("notice").and_then(notice_text)) {
        (Message::None, Some(notice)) if form.is_none() => Message::Notice(notice),
        _ => message,
    };
    let csrf = cognate_crypto::ids::random_token(32);
    let hidden = format!(
        "<input type=\"hidden\" name=\"_csrf\" value=\"{}\">",
        html_escape(&csrf)
    );
    let name_label = sign_in_label(settings.sign_in_name);
    let username_field =
        || Field::new("username", name_label, "text", "username").filled(&typed("username"));
    let policy = format!(
        "<p class=\"hint\" id=\"password-policy\">{}</p>",
        html_escape(&policy_text(&settings))
    );
    let (title, body) = match page {
        Page::Authorize | Page::Login | Page::NewPassword => {
            let mut links = String::new();
            if settings.recovery_allowed {
                links.push_str(&link(req, Page::ForgotPassword, "Forgot your password?"));
            }
            if settings.sign_up_allowed {
                links.push_str(&format!(
                    "<p>Need an account? {}</p>",
                    anchor(req, Page::SignUp, "Sign up")
                ));
            }
            (
                "Sign in",
                format!(
                    "<form method=\"post\" action=\"{}\">{hidden}{}{}\
                     <button type=\"submit\">Sign in</button></form>{links}",
                    html_escape(&req.url(Page::Login, &[])),
                    username_field().html(),
                    Field::new("password", "Password", "password", "current-password").html(),
                ),
            )
        }
        Page::SignUp => {
            let name_field = sign_up_name_field(settings.sign_in_name);
            let mut fields = vec![if name_field == "username" {
                username_field()
            } else {
                attribute_field(name_field).filled(&typed(name_field))
            }];
            fields.extend(
                settings
                    .required_attributes
                    .iter()
                    .map(|name| attribute_field(name).filled(&typed(name))),
            );
            fields.push(Field::new(
                "password",
                "Password",
                "password",
                "new-password",
            ));
            let inputs: String = fields.iter().map(Field::html).collect();
            (
                "Sign up",
                format!(
                    "<form method=\"post\" action=\"{}\">{hidden}{inputs}{policy}\
                     <button type=\"submit\">Sign up</button></form><p>Already have an account? {}</p>",
                    html_escape(&req.url(Page::SignUp, &[])),
                    anchor(req, Page::Login, "Sign in"),
                ),
            )
        }
        Page::Confirm => {
            let action = html_escape(&req.url(Page::Confirm, &[]));
            let username = typed("username");
            (
                "Confirm your account",
                format!(
                    "<form method=\"post\" action=\"{action}\">{hidden}{}{}\
                     <button type=\"submit\">Confirm account</button></form>\
                     <form method=\"post\" action=\"{action}\" class=\"secondary\">{hidden}\
                     <input type=\"hidden\" name=\"action\" value=\"resend\">\
                     <input type=\"hidden\" name=\"username\" value=\"{}\">\
                     <button type=\"submit\" class=\"link\">Resend the code</button></form>",
                    username_field().html(),
                    Field::new("code", "Confirmation code", "text", "one-time-code").html(),
                    html_escape(&username),
                ),
            )
        }
        Page::ForgotPassword => (
            "Forgot your password?",
            format!(
                "<p>Enter your {} and we will send you a code to reset your password.</p>\
                 <form method=\"post\" action=\"{}\">{hidden}{}\
                 <button type=\"submit\">Reset my password</button></form>{}",
                name_label.to_lowercase(),
                html_escape(&req.url(Page::ForgotPassword, &[])),
                username_field().html(),
                link(req, Page::Login, "Back to sign in"),
            ),
        ),
        Page::ConfirmForgotPassword => (
            "Reset your password",
            format!(
                "<form method=\"post\" action=\"{}\">{hidden}{}{}{}{}{policy}\
                 <button type=\"submit\">Change password</button></form>{}",
                html_escape(&req.url(Page::ConfirmForgotPassword, &[])),
                username_field().html(),
                Field::new("code", "Code", "text", "one-time-code").html(),
                Field::new("password", "New password", "password", "new-password").html(),
                Field::new(
                    "confirm_password",
                    "Enter the new password again",
                    "password",
                    "new-password"
                )
                .html(),
                link(req, Page::ForgotPassword, "Send a new code"),
            ),
        ),
    };
    form_page(req, title, &message, &body, &csrf)
}

/// The new-password challenge's form; the challenge's session rides in a hidden field (it
/// is single use and stored as a digest).
async fn new_password_page(
    req: &PageRequest<'_>,
    session: &str,
    username: &str,
    required: &[String],
    message: Message,
) -> Response<Body> {
    let settings = match req.state.service().hosted_page_settings(&req.grant).await {
        Ok(s) => s,
        Err(e) => return failed(req, e),
    };
    let csrf = cognate_crypto::ids::random_token(32);
    let attributes: String = required
        .iter()
        .map(|name| {
            let mut field = attribute_field(name);
            field.name = format!("attr.{name}");
            field.html()
        })
        .collect();
    let body = format!(
        "<form method=\"post\" action=\"{}\">\
         <input type=\"hidden\" name=\"_csrf\" value=\"{}\">\
         <input type=\"hidden\" name=\"session\" value=\"{}\">\
         <input type=\"hidden\" name=\"username\" value=\"{}\">{}{}{attributes}\
         <p class=\"hint\" id=\"password-policy\">{}</p>\
         <button type=\"submit\">Change password</button></form>",
        html_escape(&req.url(Page::NewPassword, &[])),
        html_escape(&csrf),
        html_escape(session),
        html_escape(username),
        Field::new("password", "New password", "password", "new-password").html(),
        Field::new(
            "confirm_password",
            "Enter the new password again",
            "password",
            "new-password"
        )
        .html(),
        html_escape(&policy_text(&settings)),
    );
    form_page(req, "Change your password", &message, &body, &csrf)
}

fn anchor(req: &PageRequest<'_>, page: Page, text: &str) -> String {
    format!(
        "<a href=\"{}\">{}</a>",
        html_escape(&req.url(page, &[])),
        html_escape(text)
    )
}

fn link(req: &PageRequest<'_>, page: Page, text: &str) -> String {
    format!("<p>{}</p>", anchor(req, page, text))
}

/// A page with forms: the heading, the message, the body, and the CSRF cookie the forms'
/// hidden field repeats.
fn form_page(
    req: &PageRequest<'_>,
    title: &str,
    message: &Message,
    body: &str,
    csrf: &str,
) -> Response<Body> {
    let status = match message {
        Message::Error(_) | Message::Owned(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let mut resp = page(
        status,
        title,
        &format!("<h1>{}</h1>{}{body}", html_escape(title), message.html()),
    );
    let set = format!(
        "{CSRF_COOKIE}={csrf}; Path={}; HttpOnly; SameSite=Strict{}",
        req.site.cookie_path,
        if req.secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&set) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    // Browsers hold a form's redirects to `form-action` too: the sign-in's redirect to the
    // app must be allowed, and nothing else.
    let form_action = match redirect_source(&req.grant.redirect_uri) {
        Some(app) => format!("'self' {app}"),
        None => "'self'".to_string(),
    };
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.headers_mut().insert("content-security-policy", v);
    }
    resp
}

/// The CSP source of a redirect URI: `scheme://host[:port]` for http(s), `scheme:` for an
/// app's own scheme (`myapp://…`); None when it would not be a plain source expression.
fn redirect_source(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once(':')?;
    let plain_scheme = !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !plain_scheme {
        return None;
    }
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Some(format!("{scheme}:"));
    }
    let authority = rest.strip_prefix("//")?;
    let authority = authority
        .split(['/', '?', '#'])
        .next()
        .filter(|a| !a.is_empty() && !a.contains('@'))?;
    authority
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        .then(|| format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cognate_core::settings::PasswordPolicy;

    #[test]
    fn policy_sentences() {
        let mut settings = HostedPageSettings {
            sign_up_allowed: true,
            recovery_allowed: true,
            sign_in_name: SignInName::Username,
            required_attributes: vec![],
            password_policy: PasswordPolicy::default(),
        };
        assert_eq!(
            policy_text(&settings),
            "Use at least 8 characters, with a lowercase letter, an uppercase letter, a number and a special character."
        );
        settings.password_policy = PasswordPolicy {
            minimum_length: 6,
            require_uppercase: false,
            require_lowercase: false,
            require_numbers: true,
            require_symbols: false,
        };
        assert_eq!(
            policy_text(&settings),
            "Use at least 6 characters, with a number."
        );
        settings.password_policy.require_numbers = false;
        assert_eq!(policy_text(&settings), "Use at least 6 characters.");
    }

    #[test]
    fn redirect_sources_for_form_action() {
        assert_eq!(
            redirect_source("http://localhost:8080/callback?x=1").as_deref(),
            Some("http://localhost:8080")
        );
        assert_eq!(
            redirect_source("HTTPS://app.example.com").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            redirect_source("myapp://signed-in").as_deref(),
            Some("myapp:")
        );
        assert_eq!(redirect_source("https://a b;/"), None);
        assert_eq!(redirect_source("https://user@host/"), None);
        assert_eq!(redirect_source("no-scheme"), None);
    }

    #[test]
    fn notices_are_a_fixed_set() {
        assert!(notice_text("confirmed").is_some());
        assert!(notice_text("<script>").is_none());
    }

    #[test]
    fn fields_escape_and_never_keep_passwords() {
        let f = Field::new("username", "User\"name", "text", "username").filled("a\"<b>");
        let html = f.html();
        assert!(html.contains("value=\"a&quot;&lt;b&gt;\""), "{html}");
        assert!(html.contains("<label for=\"username\">User&quot;name</label>"));
        let p = Field::new("password", "Password", "password", "new-password").filled("secret");
        assert!(!p.html().contains("secret"));
        assert_eq!(attribute_field("custom:team_name").label, "team name");
    }
}
