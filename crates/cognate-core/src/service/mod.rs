//! The operations' flows: `Service` holds the ports and settings, and each submodule adds the
//! entry points of one family of operations. Entry points take domain inputs (or, for pool and
//! client configuration, the model's typed shapes, see `crate::config`) and return domain
//! outputs or a `DomainError`; the server translates to and from the wire.

/// `From<DomainError>` and `From<StoreError>` for an endpoint's failure type whose
/// `Domain` variant carries a `DomainError`, so `?` works on both inside its flow.
macro_rules! domain_failure_from {
    ($failure:ident) => {
        impl From<crate::error::DomainError> for $failure {
            fn from(e: crate::error::DomainError) -> Self {
                $failure::Domain(e)
            }
        }

        impl From<crate::ports::StoreError> for $failure {
            fn from(e: crate::ports::StoreError) -> Self {
                $failure::Domain(e.into())
            }
        }
    };
}

mod account;
mod attributes;
mod auth_events;
mod authorize;
mod choice;
mod custom;
mod groups;
mod hashing;
mod hooks;
mod housekeeping;
mod invitations;
mod managed_login;
mod messaging;
mod migration;
mod newpassword;
mod oauth;
mod oauth_config;
mod pools;
mod profile;
mod recovery;
mod signin;
mod signout;
mod signup;
mod srp;
mod timing;
mod tokens;
mod users;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use attributes::{check_password, looks_like_email, looks_like_phone};
pub use authorize::{
    AuthorizeFailure, AuthorizeGrant, AuthorizeRequest, LogoutTarget, UserGrantTokens,
    UserInfoFailure, CODE_VALIDITY_SECS, LOGIN_SESSION_SECS,
};
pub use groups::{group_claims, GroupInput};
pub use hooks::Metadata;
pub use invitations::{AdminCreateUserInput, MessageAction};
pub use managed_login::{HostedPageSettings, HostedSignIn, HostedSignUp, SignInName};
pub use messaging::{CodeDelivery, OUTBOX_PROVIDER};
pub use oauth::{OAuthError, OAuthFailure, OAuthTokens, TokenRequest};
pub use oauth_config::{
    cloudfront_distribution, domain_version, DomainDescription, DomainInput, ResourceServerInput,
};
pub use recovery::{ConfirmForgotPasswordInput, ForgotPasswordInput, FORGOT_PASSWORD_PURPOSE};
pub use signin::{AuthFlow, Challenge, InitiateAuthInput, RespondInput, SignInStep};
pub use signup::{ConfirmSignUpInput, SignUpInput, SignUpOutput, SIGN_UP_PURPOSE};
pub use tokens::{new_signing_keys, AuthTokens, ADMIN_SCOPE, KEYS_REREAD_SECS};
pub use users::{parse_filter, visible_attributes};

use crate::error::{DomainError, DomainResult};
use crate::ports::{Clock, Directory, MessageSender, TriggerInvoker};
use crate::records::{EventRecord, MessageRecord};

/// Server settings the flows depend on.
#[derive(Clone, Debug)]
pub struct ServiceSettings {
    pub region: String,
    pub account_id: String,
    pub confirm_attempts_per_hour: i64,
    pub resend_per_hour: i64,
    pub link_base_url: String,
    /// The base URL clients reach this server at: tokens' issuer is `{public_url}/{poolId}`.
    pub public_url: String,
}

/// Who is calling: what the request told about its origin, kept in the user's history and
/// passed to triggers.
#[derive(Clone, Debug, Default)]
pub struct Caller {
    pub request_id: String,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// `UserContextData.IpAddress`, when the client sent it.
    pub ip_address: Option<String>,
    /// `UserContextData.EncodedData`.
    pub encoded_data: Option<String>,
    /// `AnalyticsMetadata.AnalyticsEndpointId`.
    pub analytics_endpoint_id: Option<String>,
    /// When the request began: hidden refusals answer no sooner than real answers do.
    pub started: Option<std::time::Instant>,
}

impl Caller {
    /// The event this call adds to the user's history, for pools that keep one (threat
    /// protection `AUDIT` or `ENFORCED`, as on AWS); None for the others.
    fn event(
        &self,
        pool: &crate::settings::PoolSettings,
        event_type: &str,
        outcome: &str,
        now: i64,
    ) -> Option<EventRecord> {
        pool.records_auth_events.then(|| EventRecord {
            event_id: uuid::Uuid::new_v4().to_string(),
            event_type: event_type.to_string(),
            outcome: outcome.to_string(),
            ip_address: self.ip_address.clone().or_else(|| self.source_ip.clone()),
            device_name: self.user_agent.clone(),
            encoded_data: self.encoded_data.clone(),
            analytics_endpoint_id: self.analytics_endpoint_id.clone(),
            created_at: now,
        })
    }
}

/// The ports a `Service` runs on.
pub struct Ports {
    pub directory: Arc<dyn Directory>,
    pub sender: Arc<dyn MessageSender>,
    pub triggers: Arc<dyn TriggerInvoker>,
    pub clock: Arc<dyn Clock>,
}

pub struct Service {
    store: Arc<dyn Directory>,
    sender: Arc<dyn MessageSender>,
    triggers: Arc<dyn TriggerInvoker>,
    clock: Arc<dyn Clock>,
    settings: ServiceSettings,
    hashers: hashing::HashWorkers,
    code_key: cognate_crypto::codes::CodeKey,
    /// A password hash with the server's Argon2 cost, checked against when a sign-in names no
    /// user, so that a missing user costs the same time as a wrong password.
    dummy_password_hash: String,
    /// How long the code operations' real paths take, so hidden refusals take as long.
    timing: timing::LatencyMirror,
}

impl Service {
    pub async fn new(
        ports: Ports,
        settings: ServiceSettings,
        argon2: cognate_crypto::password::Argon2Params,
    ) -> DomainResult<Self> {
        let hasher = cognate_crypto::password::PasswordHasher::new(argon2)
            .map_err(|e| DomainError::internal("argon2 parameters", e))?;
        // Shared by every instance on the same database, so codes issued by one instance
        // verify on another.
        let key = ports
            .directory
            .server_secret(
                "code_digest_key",
                cognate_crypto::codes::CodeKey::generate()
                    .as_bytes()
                    .to_vec(),
            )
            .await?;
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| DomainError::internal("code key", "stored key has the wrong length"))?;
        let dummy_password_hash = hasher
            .hash(&cognate_crypto::ids::random_token(24))
            .map_err(|e| DomainError::internal("argon2", e))?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Ok(Self {
            store: ports.directory,
            sender: ports.sender,
            triggers: ports.triggers,
            clock: ports.clock,
            settings,
            hashers: hashing::HashWorkers::start(hasher, cores)
                .map_err(|e| DomainError::internal("starting hash workers", e))?,
            code_key: cognate_crypto::codes::CodeKey::from_bytes(key),
            dummy_password_hash,
            timing: timing::LatencyMirror::default(),
        })
    }

    /// Ready to serve: the store answers.
    pub async fn ready(&self) -> DomainResult<()> {
        Ok(self.store.ping().await?)
    }

    /// True while at least one medium has no provider, so its messages go to the outbox.
    pub fn outbox_in_use(&self) -> bool {
        !(self.sender.carries(crate::delivery::Medium::Email)
            && self.sender.carries(crate::delivery::Medium::Sms))
    }

    /// The developer outbox: messages kept with their body and code because no provider
    /// carried them, oldest first.
    pub async fn outbox(
        &self,
        pool_id: Option<&str>,
        username: Option<&str>,
        limit: i64,
    ) -> DomainResult<Vec<MessageRecord>> {
        Ok(self
            .store
            .list_messages(pool_id, username, limit.clamp(1, 1000))
            .await?
            .into_iter()
            .filter(|m| m.provider == messaging::OUTBOX_PROVIDER)
            .collect())
    }
}

/// `[{Name, Value}]` from the wire as a map (a repeated name keeps its last value).
pub fn attribute_map(list: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    list.into_iter().collect()
}
