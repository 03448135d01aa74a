//! The records the domain and its storage port speak in: pools, clients, users, codes,
//! events and messages, and the inputs and outcomes of the store's transactions.

use std::collections::BTreeMap;

#[derive(Clone, Debug)]
pub struct PoolRecord {
    pub id: String,
    pub name: String,
    /// The pool's settings as the JSON of the wire `UserPoolType`.
    pub config: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a conditional pool update found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolUpdate {
    Updated,
    /// The pool is gone.
    Gone,
    /// The settings changed since they were read: read them again.
    Changed,
}

#[derive(Clone, Debug)]
pub struct ClientRecord {
    pub client_id: String,
    pub pool_id: String,
    /// The client's settings as the JSON of the wire `UserPoolClientType` (secret included).
    pub config: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    ForceChangePassword,
    ResetRequired,
    Archived,
    Compromised,
    ExternalProvider,
    Unknown,
}

impl UserStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::ResetRequired => "RESET_REQUIRED",
            UserStatus::Archived => "ARCHIVED",
            UserStatus::Compromised => "COMPROMISED",
            UserStatus::ExternalProvider => "EXTERNAL_PROVIDER",
            UserStatus::Unknown => "UNKNOWN",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "UNCONFIRMED" => UserStatus::Unconfirmed,
            "CONFIRMED" => UserStatus::Confirmed,
            "FORCE_CHANGE_PASSWORD" => UserStatus::ForceChangePassword,
            "RESET_REQUIRED" => UserStatus::ResetRequired,
            "ARCHIVED" => UserStatus::Archived,
            "COMPROMISED" => UserStatus::Compromised,
            "EXTERNAL_PROVIDER" => UserStatus::ExternalProvider,
            "UNKNOWN" => UserStatus::Unknown,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug)]
pub struct UserRecord {
    pub pool_id: String,
    /// The username as compared: lower-cased in case-insensitive pools.
    pub username_key: String,
    /// The internal username as created (the `sub` in email/phone-as-username pools).
    pub username: String,
    pub sub: String,
    pub status: UserStatus,
    pub enabled: bool,
    pub attributes: BTreeMap<String, String>,
    pub password_hash: Option<String>,
    pub srp_salt: Option<String>,
    pub srp_verifier: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the current password was set (a temporary password expires from then).
    pub password_set_at: Option<i64>,
    /// When the user was last signed out everywhere: access tokens issued before are refused.
    pub signed_out_at: Option<i64>,
    /// Values waiting for verification (`AttributesRequireVerificationBeforeUpdate`): the
    /// value in `attributes` stays in force, in sign-in and in tokens, until VerifyUserAttribute
    /// applies the pending one.
    pub pending_attributes: BTreeMap<String, String>,
}

/// A value that identifies a user besides the username: an alias, or in
/// email/phone-as-username pools the sign-in attribute itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AliasKind {
    Email,
    PhoneNumber,
    PreferredUsername,
}

impl AliasKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            AliasKind::Email => "email",
            AliasKind::PhoneNumber => "phone_number",
            AliasKind::PreferredUsername => "preferred_username",
        }
    }

    pub fn attribute(&self) -> &'static str {
        self.as_str()
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(AliasKind::Email),
            "phone_number" => Some(AliasKind::PhoneNumber),
            "preferred_username" => Some(AliasKind::PreferredUsername),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct CodeRecord {
    pub purpose: String,
    /// Keyed hash of the code; the code itself is never stored.
    pub digest: Vec<u8>,
    /// The attribute the code was sent to (`email` / `phone_number`).
    pub attribute: Option<String>,
    pub expires_at: i64,
    pub created_at: i64,
}

/// An authentication event in a user's history (pools with threat protection only): AWS's
/// `EventType` (`SignIn`, `SignUp`, `ForgotPassword`, `PasswordChange`, `ResendCode`) and
/// `EventResponse` (`Pass`, `Fail`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub event_id: String,
    pub event_type: String,
    pub outcome: String,
    pub ip_address: Option<String>,
    pub device_name: Option<String>,
    pub encoded_data: Option<String>,
    pub analytics_endpoint_id: Option<String>,
    pub created_at: i64,
}

/// A stored event with the feedback given on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthEventRecord {
    /// The row's place in the history (pages are cut by it).
    pub seq: i64,
    pub event: EventRecord,
    pub feedback_value: Option<String>,
    pub feedback_provider: Option<String>,
    pub feedback_at: Option<i64>,
}

#[derive(Clone)]
pub struct NewUser {
    pub user: UserRecord,
    /// Alias / sign-in attribute claims that must be unique within the pool.
    pub aliases: Vec<(AliasKind, String)>,
    /// Verified aliases that move to this user if another user holds them (a PreSignUp
    /// trigger auto-verified them); the previous holder's attribute becomes unverified.
    pub moved_aliases: Vec<(AliasKind, String)>,
    pub code: Option<CodeRecord>,
    pub event: Option<EventRecord>,
    /// The code's message, when it goes to the developer outbox: kept in the same transaction.
    pub outbox: Option<MessageRecord>,
}

/// The ways a name given by a caller may refer to a user, in the order they are tried.
#[derive(Clone, Debug)]
pub struct UserLookup {
    pub username_key: String,
    /// (kind, normalised value) of the aliases the pool lets users be found by.
    pub aliases: Vec<(AliasKind, String)>,
    /// The name as a `sub`, when it has a UUID's form.
    pub sub: Option<String>,
}

/// An administrator's confirmation (AdminConfirmSignUp): no code is checked.
#[derive(Clone)]
pub struct Confirmation {
    pub pool_id: String,
    pub username_key: String,
    /// The purpose of the code that the confirmation makes obsolete.
    pub purpose: String,
    /// Attribute to mark verified (`email` / `phone_number`).
    pub verify_attribute: Option<String>,
    /// Alias to claim for this user once confirmed.
    pub alias: Option<(AliasKind, String)>,
    pub force_alias: bool,
    pub now: i64,
    pub event: Option<EventRecord>,
}

#[derive(Debug)]
pub enum ConfirmOutcome {
    Confirmed(BTreeMap<String, String>),
    UserGone,
    WrongStatus(UserStatus),
    AliasTaken(AliasKind),
}

#[derive(Clone, Debug)]
pub enum FilterField {
    Username,
    Sub,
    UserStatus,
    Enabled,
    Attribute(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterOp {
    Equals,
    StartsWith,
}

#[derive(Clone, Debug)]
pub struct UserFilter {
    pub field: FilterField,
    pub op: FilterOp,
    pub value: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct MessageRecord {
    #[serde(rename = "UserPoolId")]
    pub pool_id: String,
    #[serde(rename = "Username")]
    pub username: String,
    #[serde(rename = "Medium")]
    pub medium: String,
    #[serde(rename = "Destination")]
    pub destination: String,
    #[serde(rename = "Subject")]
    pub subject: Option<String>,
    #[serde(rename = "Body")]
    pub body: Option<String>,
    #[serde(rename = "Code")]
    pub code: Option<String>,
    #[serde(rename = "Provider")]
    pub provider: String,
    #[serde(rename = "ProviderMessageId")]
    pub provider_message_id: Option<String>,
    #[serde(rename = "SentAt")]
    pub sent_at: i64,
}

/// One ConfirmSignUp attempt, checked and applied in a single write transaction: the attempt
/// counter, the user's status, the live code (compared in constant time), the alias claim and
/// the status change. Whatever the outcome, the counter bump and the history event commit.
#[derive(Clone)]
pub struct ConfirmAttempt {
    pub pool_id: String,
    pub username_key: String,
    pub purpose: String,
    pub limit: AttemptLimit,
    /// Keyed digest of the code the caller supplied.
    pub candidate_digest: Vec<u8>,
    /// Aliases this user would claim, by the attribute the code was sent to.
    pub alias_by_attribute: Vec<(String, AliasKind, String)>,
    pub force_alias: bool,
    pub now: i64,
    pub pass_event: Option<EventRecord>,
    pub fail_event: Option<EventRecord>,
}

/// A per-user limit on an action within a fixed window, counted in the database.
#[derive(Clone, Debug)]
pub struct AttemptLimit {
    pub action: String,
    pub max: i64,
    pub window_secs: i64,
}

/// A new code for a user, replacing the live one, with its history event and, optionally, a
/// limit on how often codes may be issued (the counter is bumped in the same transaction).
#[derive(Clone)]
pub struct CodeIssue {
    pub pool_id: String,
    pub username_key: String,
    pub code: CodeRecord,
    pub event: Option<EventRecord>,
    pub limit: Option<AttemptLimit>,
    /// The code's message, when it goes to the developer outbox: kept only if the code is.
    pub outbox: Option<MessageRecord>,
    /// The status the user takes with the code (AdminResetUserPassword: RESET_REQUIRED).
    pub status: Option<UserStatus>,
}

#[derive(Debug)]
pub enum AttemptOutcome {
    Confirmed(BTreeMap<String, String>),
    LimitExceeded,
    UserGone,
    WrongStatus(UserStatus),
    NoCode,
    Expired,
    Mismatch,
    AliasTaken(AliasKind),
}

#[derive(Debug, PartialEq, Eq)]
pub enum IssueOutcome {
    Issued,
    LimitExceeded,
    UserGone,
}

/// Which token a signing key signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenUse {
    Id,
    Access,
}

impl TokenUse {
    pub fn as_str(&self) -> &'static str {
        match self {
            TokenUse::Id => "id",
            TokenUse::Access => "access",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "id" => Some(TokenUse::Id),
            "access" => Some(TokenUse::Access),
            _ => None,
        }
    }
}

/// A pool's token-signing key as stored (PKCS#8 DER of the private key: a secret).
#[derive(Clone)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub token_use: TokenUse,
    pub private_key: Vec<u8>,
    pub created_at: i64,
    /// Set when a newer key took over: the key keeps verifying (and stays in the JWKS) but
    /// signs nothing new.
    pub retired_at: Option<i64>,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("token_use", &self.token_use)
            .field("private_key", &"<redacted>")
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish()
    }
}

/// A refresh token as stored: only its keyed digest identifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub digest: Vec<u8>,
    pub pool_id: String,
    pub username_key: String,
    pub client_id: String,
    /// The `origin_jti` of every token minted from this refresh token.
    pub origin_jti: String,
    /// When the user signed in (kept in refreshed tokens' `auth_time`).
    pub auth_time: i64,
    pub issued_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    /// The scopes an OAuth grant gave (space-separated), which refreshed access tokens
    /// carry again; None for a token of the API sign-in flows
    /// (`aws.cognito.signin.user.admin`).
    pub scopes: Option<String>,
}

/// Until when rows are still read (`rules::sessions::sweep_cutoffs`); older ones go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepCutoffs {
    pub sessions_expired_before: i64,
    pub refresh_expired_before: i64,
    pub failures_before: i64,
    /// Attempt counters (of users and of names of no user) whose window began before this.
    pub attempt_windows_before: i64,
}

/// Rows a sweep deleted, per table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Swept {
    pub auth_sessions: u64,
    pub refresh_tokens: u64,
    pub sign_in_failures: u64,
    /// Authorization codes and managed-login sessions (by `sessions_expired_before`).
    pub oauth_codes: u64,
    pub login_sessions: u64,
    /// Attempt counters of users and of names of no user.
    pub attempt_counters: u64,
}

impl Swept {
    pub fn total(&self) -> u64 {
        self.auth_sessions
            + self.refresh_tokens
            + self.sign_in_failures
            + self.oauth_codes
            + self.login_sessions
            + self.attempt_counters
    }
}

/// A challenge between the two calls of a sign-in, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthSessionRecord {
    /// Keyed digest of the opaque token the client echoes back.
    pub digest: Vec<u8>,
    pub pool_id: String,
    pub client_id: String,
    /// The user's username key, or the key of the name given when no user has it.
    pub name_key: String,
    pub challenge: String,
    /// The challenge's server-side state (JSON), e.g. SRP's private `b` and the client's `A`.
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// What taking a challenge session found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionTake {
    /// Marked used now; the caller may answer it.
    Taken(AuthSessionRecord),
    Unknown,
    Expired,
    AlreadyUsed,
}

/// A new password for a user (ChangePassword and, later, resets).
#[derive(Clone)]
pub struct PasswordChange {
    pub pool_id: String,
    pub username_key: String,
    pub password_hash: String,
    pub srp_salt: String,
    pub srp_verifier: String,
    /// The status the password leaves the user in (None: unchanged).
    pub status: Option<UserStatus>,
    /// The user's attributes after the change (None: unchanged).
    pub attributes: Option<BTreeMap<String, String>>,
    /// How many replaced passwords to keep for the pool's `PasswordHistorySize` (0: none).
    pub history_keep: i64,
    pub now: i64,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange")
            .field("pool_id", &self.pool_id)
            .field("username_key", &self.username_key)
            .finish_non_exhaustive()
    }
}

/// Why a code was not accepted (ConfirmForgotPassword, VerifyUserAttribute).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeRefusal {
    LimitExceeded,
    UserGone,
    /// No live code of that purpose (never sent, used, or for another value).
    NoCode,
    Expired,
    Mismatch,
}

/// One ConfirmForgotPassword attempt, checked and applied in one transaction: the attempt
/// counter, the user, the reset code (constant-time), then the new password, CONFIRMED, the
/// code consumed, every refresh token revoked and the lockout count cleared.
#[derive(Clone)]
pub struct PasswordReset {
    pub pool_id: String,
    pub username_key: String,
    pub purpose: String,
    pub limit: AttemptLimit,
    pub candidate_digest: Vec<u8>,
    pub password_hash: String,
    pub srp_salt: String,
    pub srp_verifier: String,
    pub history_keep: i64,
    /// The new password is one the history forbids: refused once the code is right (the code
    /// stays live), so that only the code's holder learns it.
    pub reused: bool,
    pub now: i64,
    pub pass_event: Option<EventRecord>,
    pub fail_event: Option<EventRecord>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum ResetOutcome {
    Reset,
    PasswordReused,
    Refused(CodeRefusal),
}

/// One VerifyUserAttribute attempt: the counter, the user, the attribute's code, then the
/// value (the pending one, else the current one) verified and, where it is an alias or sign-in
/// attribute, claimed.
#[derive(Clone)]
pub struct AttributeVerification {
    pub pool_id: String,
    pub username_key: String,
    pub attribute: String,
    pub purpose: String,
    /// The value the code was sent to, as the caller read it (a different one in the
    /// transaction means the code is for a value no longer there).
    pub value: String,
    /// The alias this value claims, when the attribute is an alias or sign-in attribute.
    pub claim: Option<(AliasKind, String)>,
    pub limit: AttemptLimit,
    pub candidate_digest: Vec<u8>,
    pub now: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum VerifyOutcome {
    Verified,
    Refused(CodeRefusal),
    AliasTaken(AliasKind),
}

/// A change of a user's attributes, applied to the locked row in one transaction (so that
/// concurrent changes of other attributes are not lost): values set and removed, pending
/// values, alias claims released and taken, verification codes and their outbox messages.
#[derive(Clone, Debug, Default)]
pub struct AttributeUpdate {
    pub pool_id: String,
    pub username_key: String,
    pub set: BTreeMap<String, String>,
    pub remove: Vec<String>,
    pub pending_set: BTreeMap<String, String>,
    pub pending_remove: Vec<String>,
    /// This user's alias claims of these kinds are given up.
    pub release: Vec<AliasKind>,
    /// Claimed for this user; one another user holds refuses the whole update.
    pub claim: Vec<(AliasKind, String)>,
    /// Not claimed yet (an unverified value), but one another user holds refuses the update.
    pub require_free: Vec<(AliasKind, String)>,
    pub codes: Vec<CodeRecord>,
    /// Purposes of codes that no longer have a value to verify.
    pub drop_codes: Vec<String>,
    pub outbox: Vec<MessageRecord>,
    pub now: i64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum UpdateOutcome {
    Updated,
    UserGone,
    AliasTaken(AliasKind),
}

/// A user group as stored. Names are unique per pool whatever their letter case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRecord {
    pub pool_id: String,
    pub name: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    /// Lower wins; None ranks below every number.
    pub precedence: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What adding a user to a group found.
#[derive(Debug, PartialEq, Eq)]
pub enum MembershipOutcome {
    Added,
    NoGroup,
    NoUser,
    /// The user is in as many groups as a user may be.
    TooManyGroups,
}

/// A user-pool domain as stored: a prefix domain (`myapp`), or a custom domain when it has a
/// certificate. Domain names are unique across the server (AWS: across a region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainRecord {
    pub domain: String,
    pub pool_id: String,
    /// `CustomDomainConfig.CertificateArn`; None for a prefix domain.
    pub certificate_arn: Option<String>,
    /// `CustomDomainConfig.SecurityPolicy`, as its wire value.
    pub security_policy: Option<String>,
    /// 1: the classic hosted UI, 2: managed login.
    pub managed_login_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl DomainRecord {
    pub fn is_custom(&self) -> bool {
        self.certificate_arn.is_some()
    }
}

/// What storing a new domain found.
#[derive(Debug, PartialEq, Eq)]
pub enum DomainInsert {
    Created,
    NoPool,
    /// Another pool holds the name.
    Taken,
    /// The pool has a domain of that kind (prefix or custom) already.
    PoolHasOne,
}

/// One custom scope of a resource server.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScopeRecord {
    pub name: String,
    pub description: String,
}

/// A resource server as stored: its identifier is unique per pool (letter case counts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceServerRecord {
    pub pool_id: String,
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<ScopeRecord>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What storing a new resource server found.
#[derive(Debug, PartialEq, Eq)]
pub enum ResourceServerInsert {
    Created,
    NoPool,
    Exists,
    /// The pool has as many resource servers as a pool may have.
    TooMany,
}

/// An OAuth 2.0 authorization code (spec vii.2), stored by the keyed digest of the code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizationCodeRecord {
    pub digest: Vec<u8>,
    pub pool_id: String,
    pub client_id: String,
    pub username_key: String,
    /// The `redirect_uri` given at authorize; the exchange must name the same.
    pub redirect_uri: String,
    /// The granted scopes, space-separated.
    pub scopes: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// `S256` or `plain`.
    pub code_challenge_method: Option<String>,
    /// When the user authenticated (the managed-login session's sign-in).
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub consumed_at: Option<i64>,
}

/// What taking an authorization code found: the code, now consumed by this caller, or why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeTake {
    Taken(Box<AuthorizationCodeRecord>),
    Unknown,
    Expired,
    AlreadyUsed,
}

/// A managed-login session (the hosted sign-in page's cookie), stored by the keyed digest of
/// the cookie's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginSessionRecord {
    pub digest: Vec<u8>,
    pub pool_id: String,
    pub username_key: String,
    pub auth_time: i64,
    pub created_at: i64,
    pub expires_at: i64,
}
