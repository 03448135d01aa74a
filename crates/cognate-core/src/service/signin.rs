//! Sign-in: InitiateAuth and AdminInitiateAuth. The password flows (`USER_PASSWORD_AUTH`,
//! `ADMIN_USER_PASSWORD_AUTH` / `ADMIN_NO_SRP_AUTH`) and refresh (`REFRESH_TOKEN_AUTH` /
//! `REFRESH_TOKEN`) answer tokens; the challenge flows are not built yet and say so.

use std::collections::BTreeMap;

use super::hooks::{Metadata, TriggerCall};
use super::tokens::AuthTokens;
use super::{Caller, Service};
use crate::error::{DomainError, DomainResult};
use crate::records::{UserRecord, UserStatus};
use crate::rules::lockout;
use crate::settings::{ClientSettings, PoolSettings};

/// The flows of `AuthFlow`, with the legacy names folded into the current ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFlow {
    UserPassword,
    /// `ADMIN_USER_PASSWORD_AUTH` and its legacy name `ADMIN_NO_SRP_AUTH`.
    AdminUserPassword,
    UserSrp,
    /// `REFRESH_TOKEN_AUTH` and its synonym `REFRESH_TOKEN`.
    RefreshToken,
    Custom,
    UserAuth,
}

impl AuthFlow {
    /// From the wire value (`None` for a value outside the model's enum).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "USER_PASSWORD_AUTH" => AuthFlow::UserPassword,
            "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => AuthFlow::AdminUserPassword,
            "USER_SRP_AUTH" => AuthFlow::UserSrp,
            "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => AuthFlow::RefreshToken,
            "CUSTOM_AUTH" => AuthFlow::Custom,
            "USER_AUTH" => AuthFlow::UserAuth,
            _ => return None,
        })
    }

    /// The `ExplicitAuthFlows` values that allow this flow (current and legacy names).
    fn allowed_by(&self) -> &'static [&'static str] {
        match self {
            AuthFlow::UserPassword => &["ALLOW_USER_PASSWORD_AUTH", "USER_PASSWORD_AUTH"],
            AuthFlow::AdminUserPassword => &["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ADMIN_NO_SRP_AUTH"],
            AuthFlow::UserSrp => &["ALLOW_USER_SRP_AUTH"],
            AuthFlow::RefreshToken => &["ALLOW_REFRESH_TOKEN_AUTH"],
            AuthFlow::Custom => &["ALLOW_CUSTOM_AUTH", "CUSTOM_AUTH_FLOW_ONLY"],
            AuthFlow::UserAuth => &["ALLOW_USER_AUTH"],
        }
    }

    /// Whether the client lets this flow be used. A client with only legacy values keeps SRP
    /// and refresh (the legacy lists never named them).
    fn enabled_for(&self, client: &ClientSettings) -> bool {
        let flows = &client.explicit_auth_flows;
        let legacy_only = !flows.is_empty() && flows.iter().all(|f| !f.starts_with("ALLOW_"));
        if legacy_only && matches!(self, AuthFlow::UserSrp | AuthFlow::RefreshToken) {
            return true;
        }
        self.allowed_by()
            .iter()
            .any(|f| flows.iter().any(|g| g == f))
    }
}

/// What a sign-in step answers: tokens, or the next challenge.
#[derive(Clone, Debug)]
pub enum SignInStep {
    Tokens(AuthTokens),
    Challenge(Challenge),
}

#[derive(Clone, Debug)]
pub struct Challenge {
    /// The `ChallengeName` wire value.
    pub name: &'static str,
    /// `ChallengeParameters` (all values strings, as on the wire).
    pub parameters: BTreeMap<String, String>,
    pub session: Option<String>,
    /// `AvailableChallenges` (only for `SELECT_CHALLENGE`).
    pub available: Vec<&'static str>,
}

pub struct RespondInput {
    /// The pool of an AdminRespondToAuthChallenge call (`None` for RespondToAuthChallenge).
    pub admin_pool_id: Option<String>,
    pub client_id: String,
    /// The `ChallengeName` wire value.
    pub challenge: String,
    pub session: Option<String>,
    pub responses: BTreeMap<String, String>,
    pub client_metadata: Option<Metadata>,
}

/// PreTokenGeneration's trigger sources for tokens of a sign-in and of a refresh.
const TOKENS_FOR_SIGN_IN: &str = "TokenGeneration_Authentication";
const TOKENS_FOR_REFRESH: &str = "TokenGeneration_RefreshTokens";

/// One sign-in's parties: who calls, through which client of which pool, with which
/// `ClientMetadata` (for the triggers).
pub(super) struct SignIn<'a> {
    pub caller: &'a Caller,
    pub client: &'a ClientSettings,
    pub pool: &'a PoolSettings,
    pub client_metadata: Option<&'a Metadata>,
}

impl SignIn<'_> {
    pub fn trigger_call<'b>(&'b self, user_name: &'b str) -> TriggerCall<'b> {
        TriggerCall {
            caller: self.caller,
            pool: self.pool,
            client_id: Some(&self.client.client_id),
            user_name,
        }
    }
}

pub struct InitiateAuthInput {
    /// The pool of an AdminInitiateAuth call (`None` for InitiateAuth).
    pub admin_pool_id: Option<String>,
    pub client_id: String,
    pub flow: AuthFlow,
    pub parameters: BTreeMap<String, String>,
    pub client_metadata: Option<Metadata>,
}

impl Service {
    pub async fn initiate_auth(
        &self,
        caller: &Caller,
        input: InitiateAuthInput,
    ) -> DomainResult<SignInStep> {
        let (client, pool) = self
            .client_of(&input.client_id, input.admin_pool_id.as_deref())
            .await?;
        let sign_in = SignIn {
            caller,
            client: &client,
            pool: &pool,
            client_metadata: input.client_metadata.as_ref(),
        };
        let admin = input.admin_pool_id.is_some();
        match (input.flow, admin) {
            (AuthFlow::UserPassword, true) | (AuthFlow::AdminUserPassword, false) => {
                return Err(DomainError::InitiateAuthMethodNotSupported)
            }
            _ => {}
        }
        if !input.flow.enabled_for(&client) {
            return Err(DomainError::AuthFlowNotEnabled { flow: input.flow });
        }
        let parameter = |name: &'static str| {
            input
                .parameters
                .get(name)
                .map(String::as_str)
                .ok_or(DomainError::MissingParameter { name })
        };
        match input.flow {
            AuthFlow::UserPassword | AuthFlow::AdminUserPassword => {
                let username = parameter("USERNAME")?;
                let password = parameter("PASSWORD")?;
                self.password_sign_in(
                    &sign_in,
                    username,
                    password,
                    input.parameters.get("SECRET_HASH").map(String::as_str),
                )
                .await
            }
            AuthFlow::RefreshToken => {
                let token = parameter("REFRESH_TOKEN")?;
                self.refresh_sign_in(
                    &sign_in,
                    token,
                    input.parameters.get("SECRET_HASH").map(String::as_str),
                )
                .await
                .map(SignInStep::Tokens)
            }
            AuthFlow::UserSrp => {
                let username = parameter("USERNAME")?;
                let srp_a = parameter("SRP_A")?;
                self.srp_challenge(
                    &sign_in,
                    username,
                    srp_a,
                    input.parameters.get("SECRET_HASH").map(String::as_str),
                )
                .await
            }
            AuthFlow::Custom => self.custom_auth(&sign_in, &input.parameters).await,
            AuthFlow::UserAuth => self.user_auth(&sign_in, &input.parameters).await,
        }
    }

    /// RespondToAuthChallenge / AdminRespondToAuthChallenge.
    pub async fn respond_to_auth_challenge(
        &self,
        caller: &super::Caller,
        input: RespondInput,
    ) -> DomainResult<SignInStep> {
        let (client, pool) = self
            .client_of(&input.client_id, input.admin_pool_id.as_deref())
            .await?;
        let sign_in = SignIn {
            caller,
            client: &client,
            pool: &pool,
            client_metadata: input.client_metadata.as_ref(),
        };
        match input.challenge.as_str() {
            super::srp::PASSWORD_VERIFIER => self.srp_answer(&sign_in, &input.responses).await,
            super::newpassword::NEW_PASSWORD_REQUIRED => {
                self.new_password_answer(&sign_in, input.session.as_deref(), &input.responses)
                    .await
            }
            super::custom::CUSTOM_CHALLENGE => {
                self.custom_answer(&sign_in, input.session.as_deref(), &input.responses)
                    .await
            }
            super::choice::SELECT_CHALLENGE => {
                self.select_challenge_answer(&sign_in, input.session.as_deref(), &input.responses)
                    .await
            }
            _ => Err(DomainError::NotSupportedYet {
                what: "This challenge",
            }),
        }
    }

    /// Takes the challenge session a token names for answering `challenge` through this
    /// client: single-use, unexpired, and issued to this client for this challenge.
    pub(super) async fn take_session(
        &self,
        sign_in: &SignIn<'_>,
        token: &str,
        challenge: &str,
    ) -> DomainResult<crate::records::AuthSessionRecord> {
        use crate::records::SessionTake;
        let now = self.clock.now();
        let record = match self
            .store
            .take_auth_session(&self.session_digest(token), now)
            .await?
        {
            SessionTake::Taken(s) => s,
            SessionTake::Unknown => return Err(DomainError::InvalidSession),
            SessionTake::Expired => return Err(DomainError::SessionExpired),
            SessionTake::AlreadyUsed => return Err(DomainError::SessionUsed),
        };
        if record.client_id != sign_in.client.client_id
            || record.pool_id != sign_in.pool.id
            || record.challenge != challenge
        {
            return Err(DomainError::InvalidSession);
        }
        Ok(record)
    }

    /// The client, and its pool, which must be the pool an admin call names.
    async fn client_of(
        &self,
        client_id: &str,
        admin_pool_id: Option<&str>,
    ) -> DomainResult<(std::sync::Arc<ClientSettings>, std::sync::Arc<PoolSettings>)> {
        let (client, pool) = self.client_context(client_id).await?;
        if admin_pool_id.is_some_and(|id| id != pool.id) {
            return Err(DomainError::ClientNotFound {
                client_id: client_id.to_string(),
            });
        }
        Ok((client, pool))
    }

    /// USER_PASSWORD_AUTH / ADMIN_USER_PASSWORD_AUTH (spec i.4, BEHAV b.8).
    pub(super) async fn password_sign_in(
        &self,
        sign_in: &SignIn<'_>,
        username: &str,
        password: &str,
        secret_hash: Option<&str>,
    ) -> DomainResult<SignInStep> {
        let user = self
            .check_user_password(sign_in, username, password, Some(secret_hash))
            .await?;
        self.tokens_for_status(sign_in, &user).await
    }

    /// The password check of USER_PASSWORD_AUTH and of the managed-login page: SecretHash
    /// (unless `secret_hash` is None: the page's client is authenticated at the token
    /// endpoint), UserMigration, PreAuthentication, the lockout, a disabled or unconfirmed
    /// user, the password. Answers the user whose password it is, whatever their status.
    pub(super) async fn check_user_password(
        &self,
        sign_in: &SignIn<'_>,
        username: &str,
        password: &str,
        secret_hash: Option<Option<&str>>,
    ) -> DomainResult<UserRecord> {
        let (client, pool) = (sign_in.client, sign_in.pool);
        let mut user = self.find_user(pool, username).await?;
        let internal = user
            .as_ref()
            .map(|u| u.username.as_str())
            .unwrap_or(username);
        if let Some(secret_hash) = secret_hash {
            self.check_secret_hash(client, secret_hash, &[username, internal])?;
        }
        if user.is_none() {
            // A user the pool's migration function knows is created now, with this password,
            // and signs in like any other.
            user = self
                .migrate_user(sign_in, username, password, sign_in.client_metadata)
                .await?;
        }
        self.run_pre_authentication(sign_in, user.as_ref(), username)
            .await?;
        // Failures count per user, or per name for a name of no user, so that a client that
        // hides existence shows a missing user locking out like a real one.
        let name_key = match &user {
            Some(u) => u.username_key.clone(),
            None => pool.username_key(username),
        };
        let failures = self.store.sign_in_failures(&pool.id, &name_key).await?;
        let now = self.clock.now();
        if lockout::is_locked(failures.as_ref(), now) {
            return Err(DomainError::PasswordAttemptsExceeded);
        }
        let Some(user) = user else {
            // The same password work as for a real user, so time does not tell either.
            self.password_matches(password, &self.dummy_password_hash)
                .await?;
            if !client.hides_user_existence() {
                return Err(DomainError::UserNotFound);
            }
            self.store
                .record_sign_in_failure(&pool.id, &name_key, now)
                .await?;
            return Err(DomainError::IncorrectCredentials);
        };
        if !user.enabled {
            return Err(DomainError::UserDisabled);
        }
        // AWS answers UNCONFIRMED users so whatever the password (BEHAV b.8).
        if user.status == UserStatus::Unconfirmed {
            return Err(DomainError::UserNotConfirmed);
        }
        let hash = user
            .password_hash
            .as_deref()
            .unwrap_or(&self.dummy_password_hash);
        if !self.password_matches(password, hash).await? || user.password_hash.is_none() {
            self.store
                .record_sign_in_failure(&pool.id, &name_key, now)
                .await?;
            self.record_auth_event(sign_in.caller, pool, &name_key, "SignIn", "Fail")
                .await?;
            return Err(DomainError::IncorrectCredentials);
        }
        if failures.is_some() {
            self.store
                .clear_sign_in_failures(&pool.id, &name_key)
                .await?;
        }
        Ok(user)
    }

    /// PreAuthentication for a sign-in that names `user` (or, for a client that hides
    /// existence, a name of no user).
    pub(super) async fn run_pre_authentication(
        &self,
        sign_in: &SignIn<'_>,
        user: Option<&UserRecord>,
        name_given: &str,
    ) -> DomainResult<()> {
        let hides = sign_in.client.hides_user_existence();
        match user {
            Some(user) => {
                let attrs =
                    super::signup::trigger_attributes(user, user.attributes.clone(), user.status);
                self.pre_authentication(
                    &sign_in.trigger_call(&user.username),
                    &attrs,
                    sign_in.client_metadata,
                    hides.then_some(false),
                )
                .await
            }
            None if hides => {
                self.pre_authentication(
                    &sign_in.trigger_call(name_given),
                    &BTreeMap::new(),
                    sign_in.client_metadata,
                    Some(true),
                )
                .await
            }
            None => Ok(()),
        }
    }

    /// After a correct password: tokens for CONFIRMED users, the status's answer otherwise.
    pub(super) async fn tokens_for_status(
        &self,
        sign_in: &SignIn<'_>,
        user: &UserRecord,
    ) -> DomainResult<SignInStep> {
        match user.status {
            UserStatus::Confirmed => self
                .authenticated(sign_in, user, TOKENS_FOR_SIGN_IN)
                .await
                .map(SignInStep::Tokens),
            UserStatus::ResetRequired => Err(DomainError::PasswordResetRequired),
            UserStatus::ForceChangePassword => {
                let set_at = user.password_set_at.unwrap_or(user.updated_at);
                if self.clock.now() - set_at > sign_in.pool.temporary_password_validity_secs {
                    return Err(DomainError::TemporaryPasswordExpired);
                }
                self.new_password_challenge(sign_in, user).await
            }
            UserStatus::Unconfirmed => Err(DomainError::UserNotConfirmed),
            UserStatus::Archived
            | UserStatus::Compromised
            | UserStatus::ExternalProvider
            | UserStatus::Unknown => Err(DomainError::IncorrectCredentials),
        }
    }

    /// A successful authentication: PostAuthentication, then tokens.
    pub(super) async fn authenticated(
        &self,
        sign_in: &SignIn<'_>,
        user: &UserRecord,
        source: &str,
    ) -> DomainResult<AuthTokens> {
        let attrs = super::signup::trigger_attributes(user, user.attributes.clone(), user.status);
        self.post_authentication(
            &sign_in.trigger_call(&user.username),
            &attrs,
            sign_in.client_metadata,
        )
        .await?;
        let tokens = self.issue_tokens(sign_in, user, None, source).await?;
        self.record_auth_event(
            sign_in.caller,
            sign_in.pool,
            &user.username_key,
            "SignIn",
            "Pass",
        )
        .await?;
        Ok(tokens)
    }

    /// REFRESH_TOKEN_AUTH: new ID and access tokens with the sign-in's `auth_time` and
    /// `origin_jti`, no new refresh token (spec iii.5).
    async fn refresh_sign_in(
        &self,
        sign_in: &SignIn<'_>,
        token: &str,
        secret_hash: Option<&str>,
    ) -> DomainResult<AuthTokens> {
        let (client, pool) = (sign_in.client, sign_in.pool);
        if client.refresh_token_rotation_grace_secs.is_some() {
            return Err(DomainError::RefreshTokenRotationOn);
        }
        let (record, user) = self.checked_refresh_token(client, pool, token).await?;
        // Over the internal username: the client has no other name here (BEHAV c).
        self.check_secret_hash(client, secret_hash, &[&user.username])?;
        self.issue_tokens(sign_in, &user, Some(&record), TOKENS_FOR_REFRESH)
            .await
    }

    /// GetTokensFromRefreshToken: like REFRESH_TOKEN_AUTH, with the plain client secret, and
    /// with rotation on a new refresh token that lives as long as the old one had left, the
    /// old one retiring after the grace period (spec iii.5).
    pub async fn get_tokens_from_refresh_token(
        &self,
        caller: &Caller,
        token: &str,
        client_id: &str,
        client_secret: Option<&str>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<AuthTokens> {
        let (client, pool) = self.client_context(client_id).await?;
        let sign_in = SignIn {
            caller,
            client: &client,
            pool: &pool,
            client_metadata,
        };
        if let Some(secret) = &client.client_secret {
            let given = client_secret.unwrap_or_default();
            if !cognate_crypto::codes::digests_equal(secret.as_bytes(), given.as_bytes()) {
                return Err(DomainError::SecretHashWrong {
                    client_id: client.client_id.clone(),
                });
            }
        }
        let (record, user) = self.checked_refresh_token(&client, &pool, token).await?;
        let mut tokens = self
            .issue_tokens(&sign_in, &user, Some(&record), TOKENS_FOR_REFRESH)
            .await?;
        if let Some(grace) = client.refresh_token_rotation_grace_secs {
            let now = self.clock.now();
            let new_token = cognate_crypto::ids::random_token(super::tokens::REFRESH_TOKEN_BYTES);
            let rotated = self
                .store
                .rotate_refresh_token(
                    &record.digest,
                    now + grace,
                    crate::records::RefreshTokenRecord {
                        digest: self.refresh_digest(&new_token),
                        issued_at: now,
                        revoked_at: None,
                        ..record.clone()
                    },
                )
                .await?;
            // Within the grace period an already rotated token still refreshes, but its
            // successor was handed out already.
            tokens.refresh_token = rotated.then_some(new_token);
        }
        Ok(tokens)
    }

    /// A refresh token this client may use now, and its user.
    async fn checked_refresh_token(
        &self,
        client: &ClientSettings,
        pool: &PoolSettings,
        token: &str,
    ) -> DomainResult<(crate::records::RefreshTokenRecord, UserRecord)> {
        let record = self
            .store
            .refresh_token(&self.refresh_digest(token))
            .await?
            .filter(|r| r.client_id == client.client_id && r.pool_id == pool.id)
            .ok_or(DomainError::InvalidRefreshToken)?;
        let now = self.clock.now();
        if record.revoked_at.is_some_and(|at| at <= now) {
            // A whole family revoked (RevokeToken, sign-out) is revoked; a token that only
            // its rotation retired is being reused.
            return Err(
                if self.store.origin_revoked(&record.origin_jti, now).await? == Some(false) {
                    DomainError::RefreshTokenReused
                } else {
                    DomainError::RefreshTokenRevoked
                },
            );
        }
        if record.expires_at <= now {
            return Err(DomainError::RefreshTokenExpired);
        }
        let user = self
            .find_user(pool, &record.username_key)
            .await?
            .filter(|u| u.username_key == record.username_key)
            .ok_or(DomainError::InvalidRefreshToken)?;
        if !user.enabled {
            return Err(DomainError::UserDisabled);
        }
        Ok((record, user))
    }

    async fn password_matches(&self, password: &str, hash: &str) -> DomainResult<bool> {
        self.hashers
            .verify(password, hash)
            .await
            .map_err(|e| DomainError::internal("password check", e))
    }
}
