//! The authorization-code flow of a user-pool domain (spec vii.2, vii.3, vii.5): the checks
//! of `GET /oauth2/authorize`, the managed-login sign-in and its session, the codes, and the
//! `authorization_code` grant of the token endpoint. The server renders the pages, reads and
//! sets the cookies and builds the redirects; this module decides.

use super::signin::SignIn;
use super::tokens::{AuthTokens, OAuthGrantClaims};
use super::{Caller, OAuthError, OAuthFailure, Service};
use crate::config;
use crate::error::{DomainError, DomainResult};
use crate::records::{AuthorizationCodeRecord, CodeTake, LoginSessionRecord};

/// An authorization code lives 5 minutes (spec vii.2).
pub const CODE_VALIDITY_SECS: i64 = 300;
/// A managed-login session lives 1 hour (spec vii.5).
pub const LOGIN_SESSION_SECS: i64 = 3600;
const CODE_PURPOSE: &str = "oauth_code";
const TOKEN_BYTES: usize = 32;
/// The PreTokenGeneration `triggerSource` of tokens from the code flow (AWS's value for
/// managed login).
const TOKENS_FOR_HOSTED_AUTH: &str = "TokenGeneration_HostedAuth";

/// `GET /oauth2/authorize`'s query, as the server read it.
#[derive(Clone, Debug, Default)]
pub struct AuthorizeRequest {
    pub domain: String,
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub identity_provider: Option<String>,
}

/// A checked authorize request: what a code issued for it will grant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizeGrant {
    pub pool_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    /// `response_type=token`: the tokens go straight to the redirect URI's fragment.
    pub implicit: bool,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
}

/// Why an authorize request is refused.
#[derive(Debug, PartialEq)]
pub enum AuthorizeFailure {
    /// No pool holds the domain.
    UnknownDomain,
    /// An unknown client or an unregistered `redirect_uri`: shown as an error page, never
    /// redirected (spec vii.2); the value is the page's error code.
    ErrorPage(&'static str),
    /// Answered by a redirect to the (registered) `redirect_uri` with `error=`.
    Redirect {
        redirect_uri: String,
        error: OAuthError,
    },
    Domain(DomainError),
}

domain_failure_from!(AuthorizeFailure);

/// What `Service::domain_client` found.
pub(super) enum DomainClient {
    UnknownDomain,
    /// No such client, or one of another pool.
    UnknownClient,
    Found {
        pool_id: String,
        client: Box<cognate_wire::UserPoolClientType>,
    },
}

/// Where `/logout` sends the browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogoutTarget {
    /// One of the client's `LogoutURLs`.
    LogoutUri(String),
    /// The sign-in page, with the request's authorize parameters.
    SignIn,
}

/// What the token endpoint answers for a user's grant.
#[derive(Clone, Debug)]
pub struct UserGrantTokens {
    pub tokens: AuthTokens,
    /// Whether the grant has `openid` (the ID token is answered only then).
    pub openid: bool,
}

impl Service {
    /// `GET /oauth2/authorize` (spec vii.2), in order: the domain; the client (unknown, or
    /// of another pool → error page); `redirect_uri`, one of the client's `CallbackURLs`
    /// exactly (else error page); then, redirected: `response_type` (missing →
    /// `invalid_request`, other than `code` → `unsupported_response_type`), the code flow
    /// allowed (`unauthorized_client`), `identity_provider` (only `COGNITO`), PKCE (a
    /// method without a challenge, a challenge without a method, a method other than `S256`
    /// or `plain`, a malformed challenge → `invalid_request`) and the scopes: the ones the
    /// client may not ask for are ignored, `email`, `phone` and `profile` need `openid`,
    /// none asked means all of the client's; nothing left → `invalid_scope`.
    pub async fn authorize(
        &self,
        request: &AuthorizeRequest,
    ) -> Result<AuthorizeGrant, AuthorizeFailure> {
        let client_id = request.client_id.as_deref().filter(|id| !id.is_empty());
        let (pool_id, client) = self.browser_client(&request.domain, client_id).await?;
        let redirect_uri = request
            .redirect_uri
            .as_deref()
            .filter(|uri| client.callback_urls.iter().flatten().any(|c| c == uri))
            .ok_or(AuthorizeFailure::ErrorPage("redirect_mismatch"))?
            .to_string();
        let refuse = |error| AuthorizeFailure::Redirect {
            redirect_uri: redirect_uri.clone(),
            error,
        };
        let (implicit, flow) = match request.response_type.as_deref() {
            None | Some("") => return Err(refuse(OAuthError::InvalidRequest)),
            Some("code") => (false, cognate_wire::OAuthFlowType::Code),
            Some("token") => (true, cognate_wire::OAuthFlowType::Implicit),
            Some(_) => return Err(refuse(OAuthError::UnsupportedResponseType)),
        };
        let flow_allowed = client.allowed_oauth_flows_user_pool_client == Some(true)
            && client
                .allowed_oauth_flows
                .iter()
                .flatten()
                .any(|f| *f == flow);
        if !flow_allowed {
            return Err(refuse(OAuthError::UnauthorizedClient));
        }
        if let Some(idp) = request.identity_provider.as_deref() {
            if idp != "COGNITO" {
                return Err(refuse(OAuthError::InvalidRequest));
            }
        }
        let challenge = request.code_challenge.as_deref().filter(|c| !c.is_empty());
        let method = request
            .code_challenge_method
            .as_deref()
            .filter(|m| !m.is_empty());
        match (challenge, method) {
            (None, None) => {}
            (Some(c), Some("S256" | "plain"))
                if (43..=128).contains(&c.len())
                    && c.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) => {}
            _ => return Err(refuse(OAuthError::InvalidRequest)),
        }
        let allowed: Vec<&String> = client.allowed_oauth_scopes.iter().flatten().collect();
        let mut scopes: Vec<String> = match request.scope.as_deref().map(str::trim) {
            None | Some("") => allowed.iter().map(|s| s.to_string()).collect(),
            Some(scope) => {
                let mut scopes: Vec<String> = Vec::new();
                for s in scope.split_whitespace() {
                    if allowed.iter().any(|a| a.as_str() == s) && !scopes.iter().any(|r| r == s) {
                        scopes.push(s.to_string());
                    }
                }
                scopes
            }
        };
        // Resource-server scopes that no longer exist are not granted.
        let existing = self.custom_scopes(&pool_id).await?;
        scopes.retain(|s| config::is_standard_scope(s) || existing.contains(s));
        if !scopes.iter().any(|s| s == "openid") {
            scopes.retain(|s| !matches!(s.as_str(), "email" | "phone" | "profile"));
        }
        if scopes.is_empty() {
            return Err(refuse(OAuthError::InvalidScope));
        }
        Ok(AuthorizeGrant {
            pool_id,
            client_id: client_id.unwrap_or_default().to_string(),
            redirect_uri,
            scopes,
            nonce: request.nonce.clone(),
            implicit,
            code_challenge: challenge.map(str::to_string),
            code_challenge_method: method.map(str::to_string),
        })
    }

    /// The client a browser endpoint (`/oauth2/authorize`, the pages, `/logout`) names: an
    /// unknown domain, and a missing, unknown or other pool's client, are its error pages.
    async fn browser_client(
        &self,
        domain: &str,
        client_id: Option<&str>,
    ) -> Result<(String, cognate_wire::UserPoolClientType), AuthorizeFailure> {
        // The domain is looked at before the client, as the error pages tell them apart.
        let found = match client_id {
            Some(client_id) => self.domain_client(domain, client_id).await?,
            None if self.endpoint_domain(domain).await?.is_none() => DomainClient::UnknownDomain,
            None => return Err(AuthorizeFailure::ErrorPage("invalid_request")),
        };
        match found {
            DomainClient::UnknownDomain => Err(AuthorizeFailure::UnknownDomain),
            DomainClient::UnknownClient => Err(AuthorizeFailure::ErrorPage("invalid_client")),
            DomainClient::Found { pool_id, client } => Ok((pool_id, *client)),
        }
    }

    /// The managed-login session a cookie names, for this pool, unexpired, of a user who
    /// still exists and is enabled; None otherwise.
    pub async fn login_session(
        &self,
        pool_id: &str,
        cookie: &str,
    ) -> DomainResult<Option<LoginSessionRecord>> {
        let digest = self.login_session_digest(cookie);
        let Some(session) = self
            .store
            .login_session(&digest, self.clock.now())
            .await?
            .filter(|s| s.pool_id == pool_id)
        else {
            return Ok(None);
        };
        let pool = self.pool_settings(pool_id).await?;
        let user = self
            .find_user(&pool, &session.username_key)
            .await?
            .filter(|u| u.username_key == session.username_key && u.enabled);
        Ok(user.map(|_| session))
    }

    /// Deletes the managed-login session a cookie names (`/logout`).
    pub async fn end_login_session(&self, cookie: &str) -> DomainResult<()> {
        let digest = self.login_session_digest(cookie);
        Ok(self.store.delete_login_session(&digest).await?)
    }

    /// A new authorization code for a checked request and a signed-in session (5 minutes,
    /// single use; stored as a keyed digest only).
    pub async fn issue_authorization_code(
        &self,
        grant: &AuthorizeGrant,
        session: &LoginSessionRecord,
    ) -> DomainResult<String> {
        let code = cognate_crypto::ids::random_token(TOKEN_BYTES);
        let now = self.clock.now();
        self.store
            .insert_authorization_code(AuthorizationCodeRecord {
                digest: self.oauth_code_digest(&code),
                pool_id: grant.pool_id.clone(),
                client_id: grant.client_id.clone(),
                username_key: session.username_key.clone(),
                redirect_uri: grant.redirect_uri.clone(),
                scopes: grant.scopes.join(" "),
                nonce: grant.nonce.clone(),
                code_challenge: grant.code_challenge.clone(),
                code_challenge_method: grant.code_challenge_method.clone(),
                auth_time: session.auth_time,
                created_at: now,
                expires_at: now + CODE_VALIDITY_SECS,
                consumed_at: None,
            })
            .await?;
        Ok(code)
    }

    /// The implicit grant (`response_type=token`, spec vii.2): ID and access tokens for a
    /// checked request and a signed-in session, never a refresh token; the ID token only
    /// with `openid`.
    pub async fn implicit_tokens(
        &self,
        grant: &AuthorizeGrant,
        session: &LoginSessionRecord,
    ) -> DomainResult<UserGrantTokens> {
        self.user_grant_tokens(
            &grant.client_id,
            &session.username_key,
            &OAuthGrantClaims {
                scopes: &grant.scopes,
                nonce: grant.nonce.as_deref(),
                auth_time: Some(session.auth_time),
                refresh_token: false,
            },
        )
        .await?
        .ok_or(DomainError::IncorrectCredentials)
    }

    /// Tokens of a user's OAuth grant (PreTokenGeneration with `TokenGeneration_HostedAuth`);
    /// None when the user is gone or disabled.
    async fn user_grant_tokens(
        &self,
        client_id: &str,
        username_key: &str,
        claims: &OAuthGrantClaims<'_>,
    ) -> DomainResult<Option<UserGrantTokens>> {
        let (client, pool) = self.client_context(client_id).await?;
        let Some(user) = self
            .find_user(&pool, username_key)
            .await?
            .filter(|u| u.username_key == username_key && u.enabled)
        else {
            return Ok(None);
        };
        let caller = Caller::default();
        let sign_in = SignIn {
            caller: &caller,
            client: &client,
            pool: &pool,
            client_metadata: None,
        };
        let tokens = self
            .issue_tokens_for(&sign_in, &user, None, TOKENS_FOR_HOSTED_AUTH, Some(claims))
            .await?;
        Ok(Some(UserGrantTokens {
            tokens,
            openid: claims.scopes.iter().any(|s| s == "openid"),
        }))
    }

    fn oauth_code_digest(&self, code: &str) -> Vec<u8> {
        cognate_crypto::codes::digest(&self.code_key, CODE_PURPOSE, "", code)
    }

    /// `grant_type=authorization_code` for an authenticated client (spec vii.3). The code is
    /// taken (consumed) first, whatever follows: a code presented with a wrong
    /// `redirect_uri` or `code_verifier`, or by another client, is spent (RFC 6749 10.5:
    /// codes are single use; an attacker who holds one must not get to retry). Unknown,
    /// expired, used, another client's code, a different `redirect_uri`, a missing or wrong
    /// verifier, a verifier without a challenge, a user gone or disabled → `invalid_grant`.
    pub(super) async fn exchange_code(
        &self,
        client_id: &str,
        code: Option<&str>,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
    ) -> Result<UserGrantTokens, OAuthFailure> {
        let code = code
            .filter(|c| !c.is_empty())
            .ok_or(OAuthError::InvalidRequest)?;
        let redirect_uri = redirect_uri
            .filter(|r| !r.is_empty())
            .ok_or(OAuthError::InvalidRequest)?;
        let now = self.clock.now();
        let record = match self
            .store
            .take_authorization_code(&self.oauth_code_digest(code), now)
            .await?
        {
            CodeTake::Taken(record) => *record,
            CodeTake::Unknown | CodeTake::Expired | CodeTake::AlreadyUsed => {
                return Err(OAuthError::InvalidGrant.into())
            }
        };
        if record.client_id != client_id || record.redirect_uri != redirect_uri {
            return Err(OAuthError::InvalidGrant.into());
        }
        match (
            record.code_challenge.as_deref(),
            record.code_challenge_method.as_deref(),
            code_verifier,
        ) {
            (None, _, None) => {}
            (Some(challenge), Some(method), Some(verifier))
                if cognate_crypto::codes::pkce_matches(method, challenge, verifier) => {}
            _ => return Err(OAuthError::InvalidGrant.into()),
        }
        let scopes: Vec<String> = record
            .scopes
            .split_whitespace()
            .map(str::to_string)
            .collect();
        let claims = OAuthGrantClaims {
            scopes: &scopes,
            nonce: record.nonce.as_deref(),
            auth_time: Some(record.auth_time),
            refresh_token: true,
        };
        self.user_grant_tokens(client_id, &record.username_key, &claims)
            .await?
            .ok_or_else(|| OAuthError::InvalidGrant.into())
    }
}

/// Why `GET /oauth2/userInfo` refuses (spec vii.4).
#[derive(Debug, PartialEq)]
pub enum UserInfoFailure {
    /// 400 `invalid_request`: no token, or one without `openid`.
    InvalidRequest,
    /// 401 `invalid_token`: expired, revoked, of a user gone, disabled or signed out.
    InvalidToken,
    Domain(DomainError),
}

/// The claims of each OpenID scope in `userInfo` (OpenID Connect Core 5.4).
const PROFILE_CLAIMS: &[&str] = &[
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
];

impl Service {
    /// `GET|POST /oauth2/userInfo` (spec vii.4): the access token is checked as for GetUser
    /// (signature, expiry, revocation, global sign-out, user enabled) and must carry `openid`.
    /// Answers `sub`, `username`, and the user's attributes of the token's scopes (`email`:
    /// `email`, `email_verified`; `phone`: `phone_number`, `phone_number_verified`;
    /// `profile`: the OpenID profile claims), those the client may read.
    pub async fn user_info(
        &self,
        access_token: &str,
    ) -> Result<serde_json::Map<String, serde_json::Value>, UserInfoFailure> {
        use serde_json::{json, Value};
        let token_user = match self.token_user(access_token).await {
            Ok(found) => found,
            Err(
                DomainError::InvalidAccessToken
                | DomainError::AccessTokenRevoked
                | DomainError::UserNotFound
                | DomainError::UserDisabled,
            ) => return Err(UserInfoFailure::InvalidToken),
            Err(e) => return Err(UserInfoFailure::Domain(e)),
        };
        let scopes: Vec<&str> = token_user
            .access
            .claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        if !scopes.contains(&"openid") {
            return Err(UserInfoFailure::InvalidRequest);
        }
        let user = &token_user.user;
        let client = &token_user.access.client;
        let readable = |name: &str| {
            client
                .read_attributes
                .as_ref()
                .is_none_or(|r| r.iter().any(|a| a == name))
        };
        let mut claims = serde_json::Map::new();
        claims.insert("sub".into(), json!(user.sub));
        let mut wanted: Vec<&str> = Vec::new();
        if scopes.contains(&"email") {
            wanted.extend(["email", "email_verified"]);
        }
        if scopes.contains(&"phone") {
            wanted.extend(["phone_number", "phone_number_verified"]);
        }
        if scopes.contains(&"profile") {
            wanted.extend(PROFILE_CLAIMS);
        }
        for name in wanted {
            if let Some(value) = user.attributes.get(name).filter(|_| readable(name)) {
                claims.insert(name.into(), json!(value));
            }
        }
        claims.insert("username".into(), json!(user.username));
        Ok(claims)
    }

    /// `POST /oauth2/revoke` (spec vii.5) for an authenticated client of the domain's pool:
    /// RevokeToken's revocation. No token → `invalid_request`; an access or ID token (a
    /// JWT) → `unsupported_token_type`; a wrong secret, or a client of another pool →
    /// `invalid_client`; revocation off → `invalid_request`; an unknown or already revoked
    /// token is accepted.
    pub async fn oauth_revoke(
        &self,
        domain: &str,
        client_id: Option<&str>,
        client_secret: Option<&str>,
        token: Option<&str>,
    ) -> Result<(), OAuthFailure> {
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(OAuthError::InvalidRequest)?;
        let client_id = client_id.filter(|c| !c.is_empty());
        let (_, client) = self.endpoint_client(domain, client_id).await?;
        if client.client_secret.is_none() && client_secret.is_some() {
            return Err(OAuthError::InvalidClient.into());
        }
        if token.split('.').count() == 3 {
            return Err(OAuthError::UnsupportedTokenType.into());
        }
        let client_id = client_id.unwrap_or_default();
        match self.revoke_token(token, client_id, client_secret).await {
            Ok(()) => Ok(()),
            Err(DomainError::ClientCredentials) => Err(OAuthError::InvalidClient.into()),
            Err(DomainError::RevocationDisabled) => Err(OAuthError::InvalidRequest.into()),
            Err(e) => Err(e.into()),
        }
    }

    /// `GET /logout` (spec vii.5): the client's, with either a `logout_uri` among its
    /// `LogoutURLs` (the browser goes there) or a `redirect_uri` among its `CallbackURLs` and
    /// a `response_type` (the browser goes to the sign-in page for a new authorize request).
    /// Anything else is the error page.
    pub async fn logout_target(
        &self,
        domain: &str,
        client_id: Option<&str>,
        logout_uri: Option<&str>,
        redirect_uri: Option<&str>,
        response_type: Option<&str>,
    ) -> Result<LogoutTarget, AuthorizeFailure> {
        let client_id = client_id.filter(|c| !c.is_empty());
        let (_, client) = self.browser_client(domain, client_id).await?;
        match (logout_uri, redirect_uri) {
            (Some(uri), _) => {
                if !client.logout_urls.iter().flatten().any(|u| u == uri) {
                    return Err(AuthorizeFailure::ErrorPage("redirect_mismatch"));
                }
                Ok(LogoutTarget::LogoutUri(uri.to_string()))
            }
            (None, Some(uri)) => {
                if !client.callback_urls.iter().flatten().any(|u| u == uri) {
                    return Err(AuthorizeFailure::ErrorPage("redirect_mismatch"));
                }
                if response_type.is_none_or(str::is_empty) {
                    return Err(AuthorizeFailure::ErrorPage("invalid_request"));
                }
                Ok(LogoutTarget::SignIn)
            }
            (None, None) => Err(AuthorizeFailure::ErrorPage("invalid_request")),
        }
    }

    /// The pool's prefix domain, if it has one (the discovery document's endpoints).
    /// The domain an endpoint was reached on: a prefix (`/{prefix}/...`, or the first label
    /// of a host such as `{prefix}.auth.{region}.{host}`), or a custom domain, whose name is
    /// the whole host. A host is tried whole first, as a custom domain; then its first
    /// label, as a prefix. (The model's `DomainType` allows no dots, so a custom domain's
    /// name is a single-label host, such as a container's or an `/etc/hosts` name.)
    pub async fn endpoint_domain(
        &self,
        name: &str,
    ) -> DomainResult<Option<crate::records::DomainRecord>> {
        if let Some(custom) = self.store.get_domain(name).await?.filter(|d| d.is_custom()) {
            return Ok(Some(custom));
        }
        let prefix = name.split('.').next().unwrap_or_default();
        Ok(self
            .store
            .get_domain(prefix)
            .await?
            .filter(|d| !d.is_custom()))
    }

    /// The app client a domain endpoint names: the domain (`endpoint_domain`), then the
    /// client, which must belong to the domain's pool; its settings as stored.
    pub(super) async fn domain_client(
        &self,
        domain: &str,
        client_id: &str,
    ) -> DomainResult<DomainClient> {
        let Some(domain) = self.endpoint_domain(domain).await? else {
            return Ok(DomainClient::UnknownDomain);
        };
        let Some(record) = self
            .store
            .get_client(client_id)
            .await?
            .filter(|c| c.pool_id == domain.pool_id)
        else {
            return Ok(DomainClient::UnknownClient);
        };
        let client = config::decode_client(&record.config)
            .map_err(|e| DomainError::internal("stored client", e))?;
        Ok(DomainClient::Found {
            pool_id: domain.pool_id,
            client: Box::new(client),
        })
    }

    pub async fn pool_prefix_domain(&self, pool_id: &str) -> DomainResult<Option<String>> {
        Ok(self
            .store
            .pool_domains(pool_id)
            .await?
            .into_iter()
            .find(|d| !d.is_custom())
            .map(|d| d.domain))
    }
}
