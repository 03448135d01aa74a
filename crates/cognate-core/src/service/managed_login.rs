//! The managed-login pages' actions (spec vii.5): sign-in, the new-password challenge,
//! sign-up, confirming and resending its code, and the forgotten password, each on behalf of
//! a checked authorize request's app client. They run the same checks, limits, triggers and
//! deliveries as the API operations of the same names. The page holds the client's
//! authority, not a secret: where the client has one, the SecretHash is computed here (the
//! browser could not), so the API's SecretHash rule is met rather than skipped.

use std::collections::BTreeMap;

use super::newpassword::{missing_required, ATTRIBUTE_PREFIX};
use super::recovery::{ConfirmForgotPasswordInput, ForgotPasswordInput};
use super::signin::{SignIn, SignInStep};
use super::signup::{ConfirmSignUpInput, SignUpInput};
use super::{AuthorizeGrant, Caller, CodeDelivery, Service, LOGIN_SESSION_SECS};
use crate::error::{DomainError, DomainResult};
use crate::records::{AliasKind, LoginSessionRecord, UserRecord, UserStatus};
use crate::settings::{ClientSettings, PasswordPolicy};

const SESSION_PURPOSE: &str = "login_session";
const TOKEN_BYTES: usize = 32;

/// What the managed-login form's sign-in came to.
#[derive(Clone, Debug)]
pub enum HostedSignIn {
    /// Signed in: the session cookie's value and the session.
    SignedIn {
        cookie: String,
        session: LoginSessionRecord,
    },
    /// The password is right, but the user must choose a new one: the challenge's session
    /// (single use, stored as a digest) and the required attributes the user lacks.
    NewPasswordRequired {
        session: String,
        required_attributes: Vec<String>,
    },
}

/// What the sign-in name is, for the pages' labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignInName {
    Username,
    Email,
    PhoneNumber,
    EmailOrPhoneNumber,
}

/// The pool's settings the pages follow.
#[derive(Clone, Debug)]
pub struct HostedPageSettings {
    /// Sign-up is open (not `AllowAdminCreateUserOnly`).
    pub sign_up_allowed: bool,
    /// Whether a user may reset a forgotten password (not admin-only recovery).
    pub recovery_allowed: bool,
    pub sign_in_name: SignInName,
    /// Required attributes a sign-up must give, besides the sign-in name itself.
    pub required_attributes: Vec<String>,
    pub password_policy: PasswordPolicy,
}

/// A sign-up from the page.
#[derive(Clone, Debug)]
pub struct HostedSignUp {
    /// The user is confirmed already (a PreSignUp trigger confirmed it).
    pub confirmed: bool,
    pub delivery: Option<CodeDelivery>,
}

impl Service {
    /// The pool's settings the pages show: sign-up open or not, the sign-in name, the
    /// required attributes and the password policy.
    pub async fn hosted_page_settings(
        &self,
        grant: &AuthorizeGrant,
    ) -> DomainResult<HostedPageSettings> {
        let (_, pool) = self.client_context(&grant.client_id).await?;
        let by_email = pool.is_username_attribute(AliasKind::Email);
        let by_phone = pool.is_username_attribute(AliasKind::PhoneNumber);
        let (sign_in_name, name_attribute) = match (by_email, by_phone) {
            (true, true) => (SignInName::EmailOrPhoneNumber, None),
            (true, false) => (SignInName::Email, Some("email")),
            (false, true) => (SignInName::PhoneNumber, Some("phone_number")),
            (false, false) => (SignInName::Username, None),
        };
        let required_attributes = pool
            .schema_attributes
            .iter()
            .filter(|a| a.required && a.name != "sub" && Some(a.name.as_str()) != name_attribute)
            .map(|a| a.name.clone())
            .collect();
        Ok(HostedPageSettings {
            sign_up_allowed: !pool.allow_admin_create_user_only,
            recovery_allowed: pool.recovery != crate::settings::Recovery::AdminOnly,
            sign_in_name,
            required_attributes,
            password_policy: pool.password_policy.clone(),
        })
    }

    /// The sign-in form: the password checked as USER_PASSWORD_AUTH checks it (UserMigration,
    /// PreAuthentication, lockout, disabled and unconfirmed users; no SecretHash: the client
    /// authenticates at the token endpoint), then, for a CONFIRMED user, PostAuthentication
    /// and a new session. A user with a temporary password gets the new-password challenge;
    /// the other refusals are the sign-in's errors, which the page shows as messages.
    pub async fn hosted_sign_in(
        &self,
        caller: &Caller,
        grant: &AuthorizeGrant,
        username: &str,
        password: &str,
    ) -> DomainResult<HostedSignIn> {
        let (client, pool) = self.client_context(&grant.client_id).await?;
        let sign_in = SignIn {
            caller,
            client: &client,
            pool: &pool,
            client_metadata: None,
        };
        let user = self
            .check_user_password(&sign_in, username, password, None)
            .await?;
        match user.status {
            UserStatus::Confirmed => {}
            UserStatus::ResetRequired => return Err(DomainError::PasswordResetRequired),
            UserStatus::ForceChangePassword => {
                let set_at = user.password_set_at.unwrap_or(user.updated_at);
                if self.clock.now() - set_at > pool.temporary_password_validity_secs {
                    return Err(DomainError::TemporaryPasswordExpired);
                }
                let SignInStep::Challenge(challenge) =
                    self.new_password_challenge(&sign_in, &user).await?
                else {
                    return Err(DomainError::internal(
                        "new-password challenge",
                        "no challenge was made",
                    ));
                };
                let session = challenge
                    .session
                    .ok_or_else(|| DomainError::internal("new-password challenge", "no session"))?;
                return Ok(HostedSignIn::NewPasswordRequired {
                    session,
                    required_attributes: missing_required(&sign_in, &user.attributes),
                });
            }
            UserStatus::Unconfirmed => return Err(DomainError::UserNotConfirmed),
            UserStatus::Archived
            | UserStatus::Compromised
            | UserStatus::ExternalProvider
            | UserStatus::Unknown => return Err(DomainError::IncorrectCredentials),
        }
        self.start_login_session(&sign_in, &user).await
    }

    /// The new-password page: the challenge answered as RespondToAuthChallenge answers it
    /// (session single use, policy, history, required attributes), then a managed-login
    /// session instead of API tokens.
    pub async fn hosted_new_password(
        &self,
        caller: &Caller,
        grant: &AuthorizeGrant,
        session: &str,
        username: &str,
        new_password: &str,
        attributes: BTreeMap<String, String>,
    ) -> DomainResult<HostedSignIn> {
        let (client, pool) = self.client_context(&grant.client_id).await?;
        let sign_in = SignIn {
            caller,
            client: &client,
            pool: &pool,
            client_metadata: None,
        };
        let mut responses: BTreeMap<String, String> = attributes
            .into_iter()
            .map(|(name, value)| (format!("{ATTRIBUTE_PREFIX}{name}"), value))
            .collect();
        responses.insert("NEW_PASSWORD".into(), new_password.into());
        responses.insert("USERNAME".into(), username.into());
        if let Some(hash) = page_secret_hash(&client, username) {
            responses.insert("SECRET_HASH".into(), hash);
        }
        let user = self
            .set_new_password(&sign_in, Some(session), &responses)
            .await?;
        self.start_login_session(&sign_in, &user).await
    }

    /// PostAuthentication, the sign-in event, and a new session: the cookie's value (stored
    /// as a keyed digest only) and the session.
    async fn start_login_session(
        &self,
        sign_in: &SignIn<'_>,
        user: &UserRecord,
    ) -> DomainResult<HostedSignIn> {
        let attrs = super::signup::trigger_attributes(user, user.attributes.clone(), user.status);
        self.post_authentication(&sign_in.trigger_call(&user.username), &attrs, None)
            .await?;
        self.record_auth_event(
            sign_in.caller,
            sign_in.pool,
            &user.username_key,
            "SignIn",
            "Pass",
        )
        .await?;
        let now = self.clock.now();
        let cookie = cognate_crypto::ids::random_token(TOKEN_BYTES);
        let session = LoginSessionRecord {
            digest: self.login_session_digest(&cookie),
            pool_id: sign_in.pool.id.clone(),
            username_key: user.username_key.clone(),
            auth_time: now,
            created_at: now,
            expires_at: now + LOGIN_SESSION_SECS,
        };
        self.store.insert_login_session(session.clone()).await?;
        Ok(HostedSignIn::SignedIn { cookie, session })
    }

    pub(super) fn login_session_digest(&self, cookie: &str) -> Vec<u8> {
        cognate_crypto::codes::digest(&self.code_key, SESSION_PURPOSE, "", cookie)
    }

    /// The sign-up page: SignUp for the grant's client.
    pub async fn hosted_sign_up(
        &self,
        caller: &Caller,
        grant: &AuthorizeGrant,
        username: &str,
        password: &str,
        attributes: BTreeMap<String, String>,
    ) -> DomainResult<HostedSignUp> {
        let client = self.page_client(grant).await?;
        let output = self
            .sign_up(
                caller,
                SignUpInput {
                    client_id: client.client_id.clone(),
                    secret_hash: page_secret_hash(&client, username),
                    username: username.to_string(),
                    password: Some(password.to_string()),
                    attributes,
                    validation_data: None,
                    client_metadata: None,
                },
            )
            .await?;
        Ok(HostedSignUp {
            confirmed: output.confirmed,
            delivery: output.delivery,
        })
    }

    /// The confirmation page: ConfirmSignUp for the grant's client.
    pub async fn hosted_confirm_sign_up(
        &self,
        caller: &Caller,
        grant: &AuthorizeGrant,
        username: &str,
        code: &str,
    ) -> DomainResult<()> {
        let client = self.page_client(grant).await?;
        self.confirm_sign_up(
            caller,
            ConfirmSignUpInput {
                client_id: client.client_id.clone(),
                secret_hash: page_secret_hash(&client, username),
                username: username.to_string(),
                code: code.to_string(),
                force_alias: false,
                client_metadata: None,
            },
        )
        .await
    }

    /// The confirmation page's "resend": ResendConfirmationCode for the grant's client.
    pub async fn hosted_resend_code(
        &self,
        caller: &Caller,
        grant: &AuthorizeGrant,
        username: &str,
    ) -> DomainResult<CodeDelivery> {
        let client = self.page_client(grant).await?;
        self.resend_confirmation_code(
            caller,
            &client.client_id,
            page_secret_hash(&client, username).as_deref(),
            username,
            None,
        )
        .await
    }

    /// The forgotten-password page: ForgotPassword for the grant's client.
    pub async fn hosted_forgot_password(
        &self,
        caller: &Caller,
        grant: &AuthorizeGrant,
        username: &str,
    ) -> DomainResult<CodeDelivery> {
        let client = self.page_client(grant).await?;
        self.forgot_password(
            caller,
            ForgotPasswordInput {
                client_id: client.client_id.clone(),
                secret_hash: page_secret_hash(&client, username),
                username: username.to_string(),
                client_metadata: None,
            },
        )
        .await
    }

    /// The reset page: ConfirmForgotPassword for the grant's client.
    pub async fn hosted_confirm_forgot_password(
        &self,
        caller: &Caller,
        grant: &AuthorizeGrant,
        username: &str,
        code: &str,
        password: &str,
    ) -> DomainResult<()> {
        let client = self.page_client(grant).await?;
        self.confirm_forgot_password(
            caller,
            ConfirmForgotPasswordInput {
                client_id: client.client_id.clone(),
                secret_hash: page_secret_hash(&client, username),
                username: username.to_string(),
                code: code.to_string(),
                password: password.to_string(),
                client_metadata: None,
            },
        )
        .await
    }

    async fn page_client(
        &self,
        grant: &AuthorizeGrant,
    ) -> DomainResult<std::sync::Arc<ClientSettings>> {
        Ok(self.client_context(&grant.client_id).await?.0)
    }
}

/// The SecretHash a client with a secret would send for `username`.
fn page_secret_hash(client: &ClientSettings, username: &str) -> Option<String> {
    client
        .client_secret
        .as_deref()
        .map(|secret| cognate_crypto::secret_hash::compute(secret, username, &client.client_id))
}
