//! What the domain needs from the outside, as traits: user-directory storage, message
//! delivery, Lambda triggers and the clock. `cognate-store`, `cognate-delivery` and
//! `cognate-triggers` implement them; the binary wires one of each into a `Service`.

use async_trait::async_trait;
use serde_json::Value;

use crate::delivery::{DeliveryError, EmailMessage, Medium, Receipt, SmsMessage};
use crate::records::*;
use crate::rules::lockout::SignInFailures;
use crate::triggers::{TriggerError, TriggerKind};

/// What can go wrong in storage, in domain terms (no driver types).
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("uniqueness conflict: {0:?}")]
    Conflict(Conflict),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(String),
}

/// Which uniqueness rule a write broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    Username,
    Alias(AliasKind),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Durable user-directory state. Every method is one read or one atomic write; the rules that
/// decide a write are core's (`crate::rules`), run by the implementation inside its
/// transaction on what it loaded and locked there.
#[async_trait]
pub trait Directory: Send + Sync {
    /// Answers once the database answers (readiness).
    async fn ping(&self) -> StoreResult<()>;
    /// A server-wide secret, created once by whichever instance gets there first.
    async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> StoreResult<Vec<u8>>;

    async fn insert_pool(&self, pool: &PoolRecord) -> StoreResult<()>;
    async fn get_pool(&self, id: &str) -> StoreResult<Option<PoolRecord>>;
    /// Replaces a pool's settings if they are still `expected_config` (what the change was
    /// computed from: a concurrent change is not overwritten) and raises the revision of each
    /// of its clients, so that they see the change.
    async fn update_pool(
        &self,
        pool: &PoolRecord,
        expected_config: &str,
    ) -> StoreResult<PoolUpdate>;
    async fn delete_pool(&self, id: &str) -> StoreResult<bool>;
    /// Pools ordered by id, starting after `after`.
    async fn list_pools(&self, after: Option<&str>, limit: i64) -> StoreResult<Vec<PoolRecord>>;
    async fn count_users(&self, pool_id: &str) -> StoreResult<i64>;

    async fn insert_client(&self, client: &ClientRecord) -> StoreResult<()>;
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<ClientRecord>>;
    /// A client's settings revision, which every change to it or its pool raises.
    async fn client_revision(&self, client_id: &str) -> StoreResult<Option<i64>>;
    /// A client and its pool in one round trip, with the client's revision.
    async fn get_client_with_pool(
        &self,
        client_id: &str,
    ) -> StoreResult<Option<(ClientRecord, PoolRecord, i64)>>;
    async fn update_client(&self, client: &ClientRecord) -> StoreResult<bool>;
    async fn delete_client(&self, pool_id: &str, client_id: &str) -> StoreResult<bool>;
    async fn list_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<ClientRecord>>;

    /// Creates a user with its alias claims, first code, event and outbox message, atomically;
    /// a taken username or alias is `StoreError::Conflict`.
    async fn create_user(&self, new: NewUser) -> StoreResult<()>;
    /// The user a caller's name refers to: by username, else alias, else `sub`.
    async fn find_user(
        &self,
        pool_id: &str,
        lookup: &UserLookup,
    ) -> StoreResult<Option<UserRecord>>;
    async fn delete_user(&self, pool_id: &str, username_key: &str) -> StoreResult<bool>;
    /// Users ordered by username key, after `after`, optionally filtered.
    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<UserRecord>>;

    /// Replaces the user's live code, bumping the issue counter first when limited
    /// (`rules::codes::decide_issue`).
    async fn issue_code(&self, issue: CodeIssue) -> StoreResult<IssueOutcome>;
    /// AdminConfirmSignUp's transaction (`rules::confirmation::decide_admin_confirmation`).
    async fn confirm_user(&self, confirmation: Confirmation) -> StoreResult<ConfirmOutcome>;
    /// ConfirmSignUp's transaction (`rules::confirmation::decide_confirmation`).
    async fn attempt_confirmation(&self, attempt: ConfirmAttempt) -> StoreResult<AttemptOutcome>;

    /// A pool's signing keys, newest first.
    async fn signing_keys(&self, pool_id: &str) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Stores `keys` as the pool's keys unless it has live keys already (another instance got
    /// there first), and returns the pool's keys, newest first.
    async fn add_signing_keys(
        &self,
        pool_id: &str,
        keys: Vec<SigningKeyRecord>,
    ) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Rotation, in one transaction: retires the pool's live signing keys (they keep
    /// verifying but sign nothing new) and stores `keys` as its live keys. Returns how many
    /// it retired, or None when there is no such pool.
    async fn rotate_signing_keys(
        &self,
        pool_id: &str,
        now: i64,
        keys: Vec<SigningKeyRecord>,
    ) -> StoreResult<Option<u64>>;
    async fn insert_refresh_token(&self, token: RefreshTokenRecord) -> StoreResult<()>;
    async fn refresh_token(&self, digest: &[u8]) -> StoreResult<Option<RefreshTokenRecord>>;

    /// Revokes a refresh-token family (every token of one sign-in, and so the access tokens
    /// minted from them); returns how many tokens it revoked.
    async fn revoke_refresh_family(&self, origin_jti: &str, now: i64) -> StoreResult<u64>;
    /// Refresh-token rotation: retires `old_digest` at `retire_at` (after the grace period)
    /// and stores `new` in one transaction; false (nothing stored) when `old_digest` was
    /// already retired or revoked by a concurrent rotation.
    async fn rotate_refresh_token(
        &self,
        old_digest: &[u8],
        retire_at: i64,
        new: RefreshTokenRecord,
    ) -> StoreResult<bool>;
    /// Revokes every refresh token of a user (global sign-out); returns how many.
    async fn revoke_user_refresh_tokens(
        &self,
        pool_id: &str,
        username_key: &str,
        now: i64,
    ) -> StoreResult<u64>;
    /// Whether the refresh-token family of this `origin_jti` is revoked: none of its tokens is
    /// live at `now` (None: no such family, e.g. the user was deleted).
    async fn origin_revoked(&self, origin_jti: &str, now: i64) -> StoreResult<Option<bool>>;
    /// Replaces a user's password hash and SRP verifier (keeping the replaced hash in the
    /// user's password history when `change.history_keep` asks for it).
    async fn set_password(&self, change: PasswordChange) -> StoreResult<bool>;
    /// The user's replaced password hashes, newest first, at most `limit`.
    async fn password_history(
        &self,
        pool_id: &str,
        username_key: &str,
        limit: i64,
    ) -> StoreResult<Vec<String>>;
    /// ConfirmForgotPassword's transaction (`rules::codes::check`, then the new password,
    /// CONFIRMED and a global sign-out).
    async fn reset_password(&self, reset: PasswordReset) -> StoreResult<ResetOutcome>;
    /// An attribute change applied to the locked user (`rules::attributes::apply`); a claim
    /// another user holds refuses it whole.
    async fn update_attributes(&self, update: AttributeUpdate) -> StoreResult<UpdateOutcome>;
    /// VerifyUserAttribute's transaction (`rules::codes::check`, then the value verified and
    /// its alias claimed).
    async fn verify_attribute(
        &self,
        verification: AttributeVerification,
    ) -> StoreResult<VerifyOutcome>;

    async fn insert_auth_session(&self, session: AuthSessionRecord) -> StoreResult<()>;
    /// Takes a challenge session for answering: marks it used in the same transaction that
    /// finds it (`rules::sessions::take`), so it is answered once across instances.
    async fn take_auth_session(&self, digest: &[u8], now: i64) -> StoreResult<SessionTake>;

    async fn insert_authorization_code(&self, code: AuthorizationCodeRecord) -> StoreResult<()>;
    /// Takes an authorization code for its exchange: marks it consumed with an update that
    /// requires it unconsumed, so one exchange wins across instances. An expired code is
    /// not consumed; an unknown one is `Unknown`.
    async fn take_authorization_code(&self, digest: &[u8], now: i64) -> StoreResult<CodeTake>;
    async fn insert_login_session(&self, session: LoginSessionRecord) -> StoreResult<()>;
    /// A managed-login session that has not expired at `now`.
    async fn login_session(
        &self,
        digest: &[u8],
        now: i64,
    ) -> StoreResult<Option<LoginSessionRecord>>;
    async fn delete_login_session(&self, digest: &[u8]) -> StoreResult<()>;

    /// A user's (or a name's) failed password checks in a row.
    async fn sign_in_failures(
        &self,
        pool_id: &str,
        name_key: &str,
    ) -> StoreResult<Option<SignInFailures>>;
    /// Counts one more failed check, atomically (`rules::lockout::after_failure`).
    async fn record_sign_in_failure(
        &self,
        pool_id: &str,
        name_key: &str,
        now: i64,
    ) -> StoreResult<SignInFailures>;
    /// Counts one more attempt of `limit.action` by the user in its window, atomically, and
    /// says whether it is within the limit (false also when the user is gone).
    async fn count_attempt(
        &self,
        pool_id: &str,
        username_key: &str,
        limit: &AttemptLimit,
        now: i64,
    ) -> StoreResult<bool>;
    /// Counts one more attempt of `limit.action` for a name that belongs to no user (clients
    /// that hide user existence), and says whether it is within the limit.
    async fn count_name_attempt(
        &self,
        pool_id: &str,
        name_key: &str,
        limit: &AttemptLimit,
        now: i64,
    ) -> StoreResult<bool>;
    /// Starts the count afresh (a correct password).
    async fn clear_sign_in_failures(&self, pool_id: &str, name_key: &str) -> StoreResult<()>;
    /// Deletes what no rule reads any more (`rules::sessions::sweep_cutoffs`), at most
    /// `batch` rows of each table: challenge sessions that expired before
    /// `cutoffs.sessions_expired_before`, refresh tokens that expired before
    /// `cutoffs.refresh_expired_before`, failure counts last touched before
    /// `cutoffs.failures_before`, authorization codes and managed-login sessions as challenge
    /// sessions, attempt counters (of users and of names of no user) whose window began
    /// before `cutoffs.attempt_windows_before`. Returns how many rows of each it deleted.
    async fn delete_expired(&self, cutoffs: SweepCutoffs, batch: i64) -> StoreResult<Swept>;

    /// Adds an event to a user's history (sign-in and password-change events, which no other
    /// write carries); nothing when the user is gone.
    async fn record_event(
        &self,
        pool_id: &str,
        username_key: &str,
        event: &EventRecord,
    ) -> StoreResult<()>;
    /// A user's events, newest first, those older than `before` (a `seq`), at most `limit`.
    async fn auth_events(
        &self,
        pool_id: &str,
        username_key: &str,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AuthEventRecord>>;
    /// Feedback on one of a user's events; false when the user has no such event.
    async fn set_event_feedback(
        &self,
        pool_id: &str,
        username_key: &str,
        event_id: &str,
        value: &str,
        provider: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Stores a new group; false when the pool has one of that name (in any letter case).
    async fn insert_group(&self, group: &GroupRecord) -> StoreResult<bool>;
    /// A group by name (letter case ignored).
    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<GroupRecord>>;
    /// Replaces a group's description, role and precedence; false when it is gone.
    async fn update_group(&self, group: &GroupRecord) -> StoreResult<bool>;
    /// Deletes a group and its memberships; false when there was none.
    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool>;
    /// Groups ordered by lower-cased name, after `after`.
    async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<GroupRecord>>;
    /// Adds a user to a group (already a member: still `Added`), in one transaction that
    /// checks both exist and the user's group count stays within `max_groups`.
    async fn add_to_group(
        &self,
        pool_id: &str,
        name: &str,
        username_key: &str,
        max_groups: i64,
    ) -> StoreResult<MembershipOutcome>;
    /// Removes a user from a group; false when there is no such group.
    async fn remove_from_group(
        &self,
        pool_id: &str,
        name: &str,
        username_key: &str,
    ) -> StoreResult<bool>;
    /// A group's members ordered by username key, after `after` (None: no such group).
    async fn group_members(
        &self,
        pool_id: &str,
        name: &str,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Option<Vec<UserRecord>>>;
    /// The groups a user is in, ordered by lower-cased name.
    async fn user_groups(&self, pool_id: &str, username_key: &str)
        -> StoreResult<Vec<GroupRecord>>;
    /// Stores a new domain, in one transaction that checks the pool exists, that no pool
    /// holds the name and that the pool has no domain of the same kind (prefix or custom).
    async fn insert_domain(&self, domain: &DomainRecord) -> StoreResult<DomainInsert>;
    /// A domain by name, whichever pool holds it.
    async fn get_domain(&self, domain: &str) -> StoreResult<Option<DomainRecord>>;
    /// A pool's domains (at most one prefix and one custom domain).
    async fn pool_domains(&self, pool_id: &str) -> StoreResult<Vec<DomainRecord>>;
    /// Replaces a domain's certificate, security policy and managed-login version; false when
    /// the pool holds no such domain.
    async fn update_domain(&self, domain: &DomainRecord) -> StoreResult<bool>;
    /// Deletes a pool's domain; false when the pool holds no such domain.
    async fn delete_domain(&self, pool_id: &str, domain: &str) -> StoreResult<bool>;
    /// Stores a new resource server, in one transaction that locks the pool, refuses a taken
    /// identifier and keeps the pool's count within `max_per_pool`.
    async fn insert_resource_server(
        &self,
        server: &ResourceServerRecord,
        max_per_pool: i64,
    ) -> StoreResult<ResourceServerInsert>;
    async fn get_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> StoreResult<Option<ResourceServerRecord>>;
    /// Replaces a resource server's name and scopes; false when it is gone.
    async fn update_resource_server(&self, server: &ResourceServerRecord) -> StoreResult<bool>;
    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool>;
    /// Resource servers ordered by identifier, after `after`.
    async fn list_resource_servers(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<ResourceServerRecord>>;
    /// Enables or disables a user; disabling also signs the user out everywhere (refresh
    /// tokens revoked, access tokens issued before `now` refused). False: no such user.
    async fn set_user_enabled(
        &self,
        pool_id: &str,
        username_key: &str,
        enabled: bool,
        now: i64,
    ) -> StoreResult<bool>;

    async fn insert_message(&self, message: &MessageRecord) -> StoreResult<()>;
    /// Messages oldest first, optionally of one pool and/or username.
    async fn list_messages(
        &self,
        pool_id: Option<&str>,
        username: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<MessageRecord>>;
}

/// Message providers (SMTP, SES, SNS, webhooks).
#[async_trait]
pub trait MessageSender: Send + Sync {
    /// Whether a provider carries this medium (otherwise messages go to the outbox).
    fn carries(&self, medium: Medium) -> bool;
    async fn send_email(&self, message: &EmailMessage) -> Result<Receipt, DeliveryError>;
    async fn send_sms(&self, message: &SmsMessage) -> Result<Receipt, DeliveryError>;
}

/// Lambda functions (or webhooks) behind a pool's `LambdaConfig`.
#[async_trait]
pub trait TriggerInvoker: Send + Sync {
    /// Invokes `function` with `event` and returns its output event.
    async fn invoke(
        &self,
        kind: TriggerKind,
        function: &str,
        event: &Value,
    ) -> Result<Value, TriggerError>;
}

/// Seconds since the Unix epoch.
pub trait Clock: Send + Sync {
    fn now(&self) -> i64;
}
