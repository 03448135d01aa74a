//! The OAuth 2.0 endpoints of a user-pool domain (spec vii): for now `POST /oauth2/token`
//! with `grant_type=client_credentials` (vii.3). The server parses HTTP (form, Basic
//! authentication, the domain from the path or the host); this module resolves the domain,
//! authenticates the client, checks the grant and the scopes and signs the access token.

use serde_json::{json, Map};

use super::authorize::DomainClient;
use super::Service;
use crate::config;
use crate::error::DomainError;
use crate::records::ResourceServerRecord;
use crate::settings::ClientSettings;

/// The token endpoint's error codes (spec vii.3), answered as `{"error": "<code>"}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    InvalidScope,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    UnsupportedTokenType,
}

impl OAuthError {
    pub fn code(self) -> &'static str {
        match self {
            OAuthError::InvalidRequest => "invalid_request",
            OAuthError::InvalidClient => "invalid_client",
            OAuthError::InvalidGrant => "invalid_grant",
            OAuthError::InvalidScope => "invalid_scope",
            OAuthError::UnauthorizedClient => "unauthorized_client",
            OAuthError::UnsupportedGrantType => "unsupported_grant_type",
            OAuthError::UnsupportedResponseType => "unsupported_response_type",
            OAuthError::UnsupportedTokenType => "unsupported_token_type",
        }
    }
}

/// Why a token request failed: the protocol's answer, no pool holds the domain, or a failure
/// of the server itself (store, signing), which the caller logs and answers as a server error.
#[derive(Debug, PartialEq)]
pub enum OAuthFailure {
    OAuth(OAuthError),
    UnknownDomain,
    Domain(DomainError),
}

domain_failure_from!(OAuthFailure);

impl From<OAuthError> for OAuthFailure {
    fn from(e: OAuthError) -> Self {
        OAuthFailure::OAuth(e)
    }
}

/// A token request as the server parsed it: the domain prefix it came to, the form fields,
/// and the client's credentials from Basic authentication or the form (the server refuses a
/// request that uses both).
#[derive(Clone, Debug, Default)]
pub struct TokenRequest {
    pub domain: String,
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scope: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    /// `/oauth2/revoke`'s token.
    pub token: Option<String>,
}

/// What the token endpoint answers: an access token, and for a user's grant an ID token
/// (with `openid`) and a refresh token (for a code, not for a refresh).
#[derive(Clone, Debug)]
pub struct OAuthTokens {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
}

impl Service {
    /// `POST /oauth2/token` (spec vii.3). Checks, in order: the grant type (missing →
    /// `invalid_request`; other than `client_credentials`, `authorization_code` and
    /// `refresh_token` → `unsupported_grant_type`), the domain, the client's authentication
    /// (unknown client, a client of another pool, a wrong or missing secret, a secret sent
    /// for a client without one → `invalid_client`), the grant (`client_credentials` not
    /// allowed, or OAuth off for the client → `unauthorized_client`) and the scopes (one the
    /// client may not ask for, or none at all → `invalid_scope`). A public client sends only
    /// its `client_id`. `authorization_code` then needs the code flow allowed
    /// (`unauthorized_client`) and is `exchange_code`; `refresh_token` is
    /// GetTokensFromRefreshToken's refresh (an unknown, revoked, expired or reused token,
    /// or a disabled user → `invalid_grant`).
    pub async fn oauth_token(&self, request: TokenRequest) -> Result<OAuthTokens, OAuthFailure> {
        let grant = match request.grant_type.as_deref() {
            None | Some("") => return Err(OAuthError::InvalidRequest.into()),
            Some(grant @ ("client_credentials" | "authorization_code" | "refresh_token")) => {
                grant.to_string()
            }
            Some(_) => return Err(OAuthError::UnsupportedGrantType.into()),
        };
        let client_id = request.client_id.as_deref().filter(|id| !id.is_empty());
        let (pool_id, client) = self.endpoint_client(&request.domain, client_id).await?;
        let client_id = client_id.unwrap_or_default();
        match (&client.client_secret, &request.client_secret) {
            (Some(secret), Some(given)) => {
                if !self.secrets_equal(client_id, secret, given) {
                    return Err(OAuthError::InvalidClient.into());
                }
            }
            (Some(_), None) | (None, Some(_)) => return Err(OAuthError::InvalidClient.into()),
            (None, None) => {}
        }
        let has_flow = |flow| {
            client.allowed_oauth_flows_user_pool_client == Some(true)
                && client
                    .allowed_oauth_flows
                    .iter()
                    .flatten()
                    .any(|f| *f == flow)
        };
        match grant.as_str() {
            "authorization_code" => {
                if !has_flow(cognate_wire::OAuthFlowType::Code) {
                    return Err(OAuthError::UnauthorizedClient.into());
                }
                let granted = self
                    .exchange_code(
                        client_id,
                        request.code.as_deref(),
                        request.redirect_uri.as_deref(),
                        request.code_verifier.as_deref(),
                    )
                    .await?;
                return Ok(OAuthTokens {
                    access_token: granted.tokens.access_token,
                    id_token: granted.openid.then_some(granted.tokens.id_token),
                    refresh_token: granted.tokens.refresh_token,
                    expires_in: granted.tokens.expires_in,
                });
            }
            "refresh_token" => {
                let token = request
                    .refresh_token
                    .as_deref()
                    .filter(|t| !t.is_empty())
                    .ok_or(OAuthError::InvalidRequest)?;
                let refreshed = self
                    .get_tokens_from_refresh_token(
                        &super::Caller::default(),
                        token,
                        client_id,
                        request.client_secret.as_deref(),
                        None,
                    )
                    .await;
                let tokens = match refreshed {
                    Ok(tokens) => tokens,
                    Err(
                        DomainError::InvalidRefreshToken
                        | DomainError::RefreshTokenRevoked
                        | DomainError::RefreshTokenExpired
                        | DomainError::RefreshTokenReused
                        | DomainError::UserDisabled,
                    ) => return Err(OAuthError::InvalidGrant.into()),
                    Err(e) => return Err(e.into()),
                };
                return Ok(OAuthTokens {
                    access_token: tokens.access_token,
                    id_token: tokens.openid.then_some(tokens.id_token),
                    refresh_token: tokens.refresh_token,
                    expires_in: tokens.expires_in,
                });
            }
            _ => {}
        }
        let allowed_flow = has_flow(cognate_wire::OAuthFlowType::ClientCredentials);
        if !allowed_flow || client.client_secret.is_none() {
            return Err(OAuthError::UnauthorizedClient.into());
        }
        let allowed: Vec<&String> = client
            .allowed_oauth_scopes
            .iter()
            .flatten()
            .filter(|s| !config::is_standard_scope(s))
            .collect();
        let existing = self.custom_scopes(&pool_id).await?;
        let requested: Vec<String> = match request.scope.as_deref().map(str::trim) {
            None | Some("") => allowed
                .iter()
                .filter(|s| existing.contains(s.as_str()))
                .map(|s| s.to_string())
                .collect(),
            Some(scope) => {
                let mut requested: Vec<String> = Vec::new();
                for s in scope.split_whitespace() {
                    if !allowed.iter().any(|a| a.as_str() == s) || !existing.contains(s) {
                        return Err(OAuthError::InvalidScope.into());
                    }
                    if !requested.iter().any(|r| r == s) {
                        requested.push(s.to_string());
                    }
                }
                requested
            }
        };
        if requested.is_empty() {
            return Err(OAuthError::InvalidScope.into());
        }

        let settings = ClientSettings::from(&client);
        let now = self.clock.now();
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(client_id));
        claims.insert("token_use".into(), json!("access"));
        claims.insert("scope".into(), json!(requested.join(" ")));
        claims.insert("auth_time".into(), json!(now));
        claims.insert("iss".into(), json!(self.issuer(&pool_id)));
        claims.insert(
            "exp".into(),
            json!(now + settings.access_token_validity_secs),
        );
        claims.insert("iat".into(), json!(now));
        claims.insert("version".into(), json!(2));
        claims.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        claims.insert("client_id".into(), json!(client_id));
        let access_token = self.sign_access_claims(&pool_id, &claims).await?;
        Ok(OAuthTokens {
            access_token,
            id_token: None,
            refresh_token: None,
            expires_in: settings.access_token_validity_secs,
        })
    }

    /// The pool a prefix domain belongs to (None for an unknown or custom domain, or when the
    /// store cannot answer): what the server counts a token request's quota against.
    pub async fn pool_of_domain(&self, domain: &str) -> Option<String> {
        self.endpoint_domain(domain)
            .await
            .ok()
            .flatten()
            .map(|d| d.pool_id)
    }

    /// The client a back-channel endpoint (`/oauth2/token`, `/oauth2/revoke`) names: an
    /// unknown domain is a 404; a missing, unknown or other pool's client `invalid_client`.
    pub(super) async fn endpoint_client(
        &self,
        domain: &str,
        client_id: Option<&str>,
    ) -> Result<(String, cognate_wire::UserPoolClientType), OAuthFailure> {
        // The domain is looked at before the client: an unknown one is a 404 either way.
        let found = match client_id {
            Some(client_id) => self.domain_client(domain, client_id).await?,
            None if self.endpoint_domain(domain).await?.is_none() => DomainClient::UnknownDomain,
            None => return Err(OAuthError::InvalidClient.into()),
        };
        match found {
            DomainClient::UnknownDomain => Err(OAuthFailure::UnknownDomain),
            DomainClient::UnknownClient => Err(OAuthError::InvalidClient.into()),
            DomainClient::Found { pool_id, client } => Ok((pool_id, *client)),
        }
    }

    /// The `<identifier>/<scope>` values of the pool's resource servers as they are now.
    pub(super) async fn custom_scopes(
        &self,
        pool_id: &str,
    ) -> Result<std::collections::HashSet<String>, DomainError> {
        Ok(self
            .store
            .list_resource_servers(pool_id, None, i64::MAX)
            .await?
            .into_iter()
            .flat_map(
                |ResourceServerRecord {
                     identifier, scopes, ..
                 }| {
                    scopes
                        .into_iter()
                        .map(move |scope| format!("{identifier}/{}", scope.name))
                },
            )
            .collect())
    }

    /// The stored and the given client secret compared in constant time: both are first
    /// reduced to keyed digests of one length, so neither content nor length shows.
    fn secrets_equal(&self, client_id: &str, stored: &str, given: &str) -> bool {
        let digest =
            |s: &str| cognate_crypto::codes::digest(&self.code_key, "client_secret", client_id, s);
        cognate_crypto::codes::digests_equal(&digest(stored), &digest(given))
    }
}
