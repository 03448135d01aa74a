//! Request-rate quotas by AWS's quota categories, answered with `TooManyRequestsException`.
//!
//! Amazon Cognito groups the user-pool API into categories (`UserAuthentication`,
//! `UserCreation`, …) and limits the requests per second of each category as a whole.
//! [`category_of`] places every operation of the model in its category, [`Quotas`] holds the
//! configured limit of each category and counts the requests, and [`Throttled`] becomes AWS's
//! error (`TooManyRequestsException`, `Rate exceeded`).
//!
//! Differences from AWS, on purpose:
//! - **Per pool, per instance.** AWS counts a category per account and Region, across all pools;
//!   Cognate counts it per pool (the caller's `pool_key`) and per process. N instances behind a
//!   load balancer allow N times the rate; use the balancer's own limits for a global figure.
//! - **Off by default.** An empty configuration counts nothing and costs one branch per call.
//! - The 5-RPS-per-pool cap AWS puts on each single operation of the `UserPool*` categories is
//!   not modelled; AWS's extra allowance for `RespondToAuthChallenge` and
//!   `AdminRespondToAuthChallenge` (three times the `UserAuthentication` rate, the excess counting
//!   against the category) is, through [`Quotas::check_operation`].
//!
//! The limiter is a token bucket per (pool, category): it holds up to the limit, refills at the
//! limit per second continuously, and a request takes one token. Buckets live in 64 shards, each
//! a `Mutex<HashMap>` picked by the hash of (pool, category) and held for a few instructions;
//! there is no lock shared by all requests. A bucket idle for a minute is dropped (it would be
//! full again anyway), swept lazily inside its shard when the shard has doubled since its last
//! sweep. A shard tracks at most [`MAX_POOLS_PER_SHARD`] pools (so keys from unauthenticated
//! input cannot grow memory without bound); past that a new pool goes uncounted until a sweep,
//! tried at most once a second at the cap, frees room.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::BuildHasher;
use std::str::FromStr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use cognate_wire::{ApiError, ErrorKind, Operation};

/// AWS's request-rate quota categories for user pools, with AWS's default quota of each in
/// requests per second ("Quotas in Amazon Cognito", table "Amazon Cognito user pools API
/// operation categories and request rate quotas").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QuotaCategory {
    UserAuthentication,
    UserCreation,
    UserFederation,
    UserAccountRecovery,
    UserRead,
    UserUpdate,
    UserToken,
    UserResourceRead,
    UserResourceUpdate,
    UserList,
    UserPoolRead,
    UserPoolUpdate,
    UserPoolResourceRead,
    UserPoolResourceUpdate,
    UserPoolClientRead,
    UserPoolClientUpdate,
    ClientAuthentication,
}

/// How many categories there are (the length of [`QuotaCategory::ALL`]).
const CATEGORIES: usize = 17;

impl QuotaCategory {
    /// Every category, in AWS's table order.
    pub const ALL: &'static [QuotaCategory] = &[
        QuotaCategory::UserAuthentication,
        QuotaCategory::UserCreation,
        QuotaCategory::UserFederation,
        QuotaCategory::UserAccountRecovery,
        QuotaCategory::UserRead,
        QuotaCategory::UserUpdate,
        QuotaCategory::UserToken,
        QuotaCategory::UserResourceRead,
        QuotaCategory::UserResourceUpdate,
        QuotaCategory::UserList,
        QuotaCategory::UserPoolRead,
        QuotaCategory::UserPoolUpdate,
        QuotaCategory::UserPoolResourceRead,
        QuotaCategory::UserPoolResourceUpdate,
        QuotaCategory::UserPoolClientRead,
        QuotaCategory::UserPoolClientUpdate,
        QuotaCategory::ClientAuthentication,
    ];

    /// The category's name as AWS spells it (Service Quotas, CloudWatch's `Resource` dimension).
    pub fn name(self) -> &'static str {
        match self {
            QuotaCategory::UserAuthentication => "UserAuthentication",
            QuotaCategory::UserCreation => "UserCreation",
            QuotaCategory::UserFederation => "UserFederation",
            QuotaCategory::UserAccountRecovery => "UserAccountRecovery",
            QuotaCategory::UserRead => "UserRead",
            QuotaCategory::UserUpdate => "UserUpdate",
            QuotaCategory::UserToken => "UserToken",
            QuotaCategory::UserResourceRead => "UserResourceRead",
            QuotaCategory::UserResourceUpdate => "UserResourceUpdate",
            QuotaCategory::UserList => "UserList",
            QuotaCategory::UserPoolRead => "UserPoolRead",
            QuotaCategory::UserPoolUpdate => "UserPoolUpdate",
            QuotaCategory::UserPoolResourceRead => "UserPoolResourceRead",
            QuotaCategory::UserPoolResourceUpdate => "UserPoolResourceUpdate",
            QuotaCategory::UserPoolClientRead => "UserPoolClientRead",
            QuotaCategory::UserPoolClientUpdate => "UserPoolClientUpdate",
            QuotaCategory::ClientAuthentication => "ClientAuthentication",
        }
    }

    /// AWS's default quota for the category, in requests per second (for an account with
    /// fewer than two million monthly active users).
    pub fn aws_default_rps(self) -> u32 {
        match self {
            QuotaCategory::UserAuthentication => 120,
            QuotaCategory::UserCreation => 50,
            QuotaCategory::UserFederation => 25,
            QuotaCategory::UserAccountRecovery => 30,
            QuotaCategory::UserRead => 120,
            QuotaCategory::UserUpdate => 25,
            QuotaCategory::UserToken => 120,
            QuotaCategory::UserResourceRead => 50,
            QuotaCategory::UserResourceUpdate => 25,
            QuotaCategory::UserList => 30,
            QuotaCategory::UserPoolRead => 15,
            QuotaCategory::UserPoolUpdate => 15,
            QuotaCategory::UserPoolResourceRead => 20,
            QuotaCategory::UserPoolResourceUpdate => 15,
            QuotaCategory::UserPoolClientRead => 15,
            QuotaCategory::UserPoolClientUpdate => 15,
            QuotaCategory::ClientAuthentication => 150,
        }
    }

    /// The bucket slot of the category (its position in [`QuotaCategory::ALL`]).
    fn slot(self) -> usize {
        self as usize
    }
}

impl fmt::Display for QuotaCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of AWS's quota categories.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCategory(pub String);

impl fmt::Display for UnknownCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown quota category {:?} (known: ", self.0)?;
        for (i, category) in QuotaCategory::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(category.name())?;
        }
        f.write_str(")")
    }
}

impl std::error::Error for UnknownCategory {}

impl FromStr for QuotaCategory {
    type Err = UnknownCategory;

    /// AWS's spelling; ASCII case is ignored.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        QuotaCategory::ALL
            .iter()
            .copied()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownCategory(s.to_string()))
    }
}

/// The quota category AWS counts `op` against, or `None` for an operation outside every
/// category.
///
/// Source: "Quotas in Amazon Cognito" (Amazon Cognito Developer Guide), table "Amazon Cognito
/// user pools API operation categories and request rate quotas" (anchor `category_operations`;
/// formerly "Category operations" on `limits.html`). The archived guide
/// (awsdocs/amazon-cognito-developer-guide, `doc_source/limits.md`) names UserCreation's four
/// operations and UserAuthentication's four; the other rows' lists exist only on the live page,
/// and were taken from copies of that table (see the report with this module). An operation the
/// table does not name is placed in the closest category by AWS's description of the
/// categories and marked `// inferred`.
///
/// `UserFederation` (the managed login's federation endpoints) and `ClientAuthentication`
/// (`client_credentials` at `/oauth2/token`) hold no operation of the JSON API.
/// `GetProvisionedLimit` and `UpdateProvisionedLimit` are in AWS's `LimitManagement` category
/// (1 RPS, account-wide), which has no counterpart here.
pub fn category_of(op: Operation) -> Option<QuotaCategory> {
    use QuotaCategory as Q;
    let category = match op {
        // UserAuthentication: sign-in.
        Operation::InitiateAuth
        | Operation::AdminInitiateAuth
        | Operation::RespondToAuthChallenge
        | Operation::AdminRespondToAuthChallenge
        | Operation::GetTokensFromRefreshToken => Q::UserAuthentication,

        // UserCreation: create or confirm a native user.
        Operation::SignUp
        | Operation::ConfirmSignUp
        | Operation::AdminCreateUser
        | Operation::AdminConfirmSignUp => Q::UserCreation,

        // UserAccountRecovery: recover an account, change or set a password.
        Operation::ForgotPassword
        | Operation::ConfirmForgotPassword
        | Operation::ChangePassword
        | Operation::AdminSetUserPassword => Q::UserAccountRecovery,
        Operation::AdminResetUserPassword => Q::UserAccountRecovery, // inferred

        // UserRead: read a user.
        Operation::GetUser | Operation::AdminGetUser | Operation::AdminGetUserAuthFactors => {
            Q::UserRead
        }
        Operation::GetUserAuthFactors => Q::UserRead, // inferred

        // UserUpdate: manage users and their attributes.
        Operation::UpdateUserAttributes
        | Operation::AdminUpdateUserAttributes
        | Operation::AdminDeleteUser
        | Operation::AdminDisableUser
        | Operation::AdminLinkProviderForUser
        | Operation::AdminAddUserToGroup
        | Operation::AdminRemoveUserFromGroup
        | Operation::AdminUserGlobalSignOut
        | Operation::GlobalSignOut => Q::UserUpdate,
        Operation::AdminEnableUser => Q::UserUpdate, // inferred
        Operation::AdminDeleteUserAttributes => Q::UserUpdate, // inferred
        Operation::AdminDisableProviderForUser => Q::UserUpdate, // inferred
        Operation::DeleteUser => Q::UserUpdate,      // inferred
        Operation::DeleteUserAttributes => Q::UserUpdate, // inferred

        // UserToken: token management.
        Operation::RevokeToken => Q::UserToken,

        // UserResourceRead: a user's devices, groups, codes and events.
        Operation::GetDevice
        | Operation::AdminGetDevice
        | Operation::ListDevices
        | Operation::AdminListDevices
        | Operation::AdminListGroupsForUser
        | Operation::AdminListUserAuthEvents
        | Operation::GetUserAttributeVerificationCode
        | Operation::ResendConfirmationCode => Q::UserResourceRead,
        Operation::ListWebAuthnCredentials => Q::UserResourceRead, // inferred

        // UserResourceUpdate: a user's devices, MFA and other resources.
        Operation::SetUserMFAPreference
        | Operation::AssociateSoftwareToken
        | Operation::VerifySoftwareToken
        | Operation::ConfirmDevice => Q::UserResourceUpdate,
        Operation::AdminSetUserMFAPreference => Q::UserResourceUpdate, // inferred
        Operation::SetUserSettings => Q::UserResourceUpdate,           // inferred
        Operation::AdminSetUserSettings => Q::UserResourceUpdate,      // inferred
        Operation::ForgetDevice => Q::UserResourceUpdate,              // inferred
        Operation::AdminForgetDevice => Q::UserResourceUpdate,         // inferred
        Operation::UpdateDeviceStatus => Q::UserResourceUpdate,        // inferred
        Operation::AdminUpdateDeviceStatus => Q::UserResourceUpdate,   // inferred
        Operation::VerifyUserAttribute => Q::UserResourceUpdate,       // inferred
        Operation::UpdateAuthEventFeedback => Q::UserResourceUpdate,   // inferred
        Operation::AdminUpdateAuthEventFeedback => Q::UserResourceUpdate, // inferred
        Operation::StartWebAuthnRegistration => Q::UserResourceUpdate, // inferred
        Operation::CompleteWebAuthnRegistration => Q::UserResourceUpdate, // inferred
        Operation::DeleteWebAuthnCredential => Q::UserResourceUpdate,  // inferred

        // UserList: list users.
        Operation::ListUsers | Operation::ListUsersInGroup => Q::UserList,

        // UserPoolRead: read user pools.
        Operation::DescribeUserPool => Q::UserPoolRead, // inferred
        Operation::ListUserPools => Q::UserPoolRead,    // inferred
        Operation::ListUserPoolReplicas => Q::UserPoolRead, // inferred

        // UserPoolUpdate: create, update, delete user pools.
        Operation::CreateUserPool | Operation::UpdateUserPool => Q::UserPoolUpdate,
        Operation::DeleteUserPool => Q::UserPoolUpdate, // inferred
        Operation::CreateUserPoolReplica => Q::UserPoolUpdate, // inferred
        Operation::UpdateUserPoolReplica => Q::UserPoolUpdate, // inferred
        Operation::DeleteUserPoolReplica => Q::UserPoolUpdate, // inferred

        // UserPoolResourceRead: a pool's groups, providers, resource servers, domains, …
        Operation::GetGroup => Q::UserPoolResourceRead, // inferred
        Operation::ListGroups => Q::UserPoolResourceRead, // inferred
        Operation::DescribeIdentityProvider => Q::UserPoolResourceRead, // inferred
        Operation::GetIdentityProviderByIdentifier => Q::UserPoolResourceRead, // inferred
        Operation::ListIdentityProviders => Q::UserPoolResourceRead, // inferred
        Operation::DescribeResourceServer => Q::UserPoolResourceRead, // inferred
        Operation::ListResourceServers => Q::UserPoolResourceRead, // inferred
        Operation::DescribeUserPoolDomain => Q::UserPoolResourceRead, // inferred
        Operation::DescribeRiskConfiguration => Q::UserPoolResourceRead, // inferred
        Operation::GetUserPoolMfaConfig => Q::UserPoolResourceRead, // inferred
        Operation::GetUICustomization => Q::UserPoolResourceRead, // inferred
        Operation::GetSigningCertificate => Q::UserPoolResourceRead, // inferred
        Operation::GetLogDeliveryConfiguration => Q::UserPoolResourceRead, // inferred
        Operation::GetCSVHeader => Q::UserPoolResourceRead, // inferred
        Operation::DescribeUserImportJob => Q::UserPoolResourceRead, // inferred
        Operation::ListUserImportJobs => Q::UserPoolResourceRead, // inferred
        Operation::ListTagsForResource => Q::UserPoolResourceRead, // inferred
        Operation::DescribeManagedLoginBranding => Q::UserPoolResourceRead, // inferred
        Operation::DescribeManagedLoginBrandingByClient => Q::UserPoolResourceRead, // inferred
        Operation::DescribeTerms => Q::UserPoolResourceRead, // inferred
        Operation::ListTerms => Q::UserPoolResourceRead, // inferred

        // UserPoolResourceUpdate: modify a pool's groups, providers, resource servers, …
        Operation::AddCustomAttributes
        | Operation::CreateGroup
        | Operation::DeleteGroup
        | Operation::CreateIdentityProvider
        | Operation::CreateResourceServer
        | Operation::CreateUserPoolDomain
        | Operation::SetUserPoolMfaConfig => Q::UserPoolResourceUpdate,
        Operation::UpdateGroup => Q::UserPoolResourceUpdate, // inferred
        Operation::UpdateIdentityProvider => Q::UserPoolResourceUpdate, // inferred
        Operation::DeleteIdentityProvider => Q::UserPoolResourceUpdate, // inferred
        Operation::UpdateResourceServer => Q::UserPoolResourceUpdate, // inferred
        Operation::DeleteResourceServer => Q::UserPoolResourceUpdate, // inferred
        Operation::UpdateUserPoolDomain => Q::UserPoolResourceUpdate, // inferred
        Operation::DeleteUserPoolDomain => Q::UserPoolResourceUpdate, // inferred
        Operation::SetRiskConfiguration => Q::UserPoolResourceUpdate, // inferred
        Operation::SetUICustomization => Q::UserPoolResourceUpdate, // inferred
        Operation::SetLogDeliveryConfiguration => Q::UserPoolResourceUpdate, // inferred
        Operation::CreateUserImportJob => Q::UserPoolResourceUpdate, // inferred
        Operation::StartUserImportJob => Q::UserPoolResourceUpdate, // inferred
        Operation::StopUserImportJob => Q::UserPoolResourceUpdate, // inferred
        Operation::TagResource => Q::UserPoolResourceUpdate, // inferred
        Operation::UntagResource => Q::UserPoolResourceUpdate, // inferred
        Operation::CreateManagedLoginBranding => Q::UserPoolResourceUpdate, // inferred
        Operation::UpdateManagedLoginBranding => Q::UserPoolResourceUpdate, // inferred
        Operation::DeleteManagedLoginBranding => Q::UserPoolResourceUpdate, // inferred
        Operation::CreateTerms => Q::UserPoolResourceUpdate, // inferred
        Operation::UpdateTerms => Q::UserPoolResourceUpdate, // inferred
        Operation::DeleteTerms => Q::UserPoolResourceUpdate, // inferred

        // UserPoolClientRead: read app clients.
        Operation::DescribeUserPoolClient => Q::UserPoolClientRead, // inferred
        Operation::ListUserPoolClients => Q::UserPoolClientRead,    // inferred
        Operation::ListUserPoolClientSecrets => Q::UserPoolClientRead, // inferred

        // UserPoolClientUpdate: create, update, delete app clients.
        Operation::CreateUserPoolClient => Q::UserPoolClientUpdate, // inferred
        Operation::UpdateUserPoolClient => Q::UserPoolClientUpdate, // inferred
        Operation::DeleteUserPoolClient => Q::UserPoolClientUpdate, // inferred
        Operation::AddUserPoolClientSecret => Q::UserPoolClientUpdate, // inferred
        Operation::DeleteUserPoolClientSecret => Q::UserPoolClientUpdate, // inferred

        // AWS's LimitManagement category: no counterpart here.
        Operation::GetProvisionedLimit | Operation::UpdateProvisionedLimit => return None,
    };
    Some(category)
}

/// A request refused by a quota: the category whose rate it exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub category: QuotaCategory,
}

impl Throttled {
    /// The message AWS sends with a throttled call.
    pub const MESSAGE: &'static str = "Rate exceeded";

    /// AWS's error for a throttled call: `TooManyRequestsException`, `Rate exceeded`. The HTTP
    /// status is `ErrorKind::TooManyRequestsException.http_status()` (400, as Cognito answers;
    /// the Smithy model says 429); SDKs retry the error code with backoff either way.
    pub fn to_api_error(&self) -> ApiError {
        ApiError::new(ErrorKind::TooManyRequestsException, Self::MESSAGE)
    }
}

impl fmt::Display for Throttled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} request rate exceeded", self.category.name())
    }
}

impl std::error::Error for Throttled {}

/// A `--quotas` value that does not parse; the message names the bad part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaSpecError(String);

impl fmt::Display for QuotaSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for QuotaSpecError {}

/// Shards of the bucket table; a power of two.
const SHARDS: usize = 64;
/// A bucket untouched this long is dropped (any bucket idle over a second is full anyway).
pub const IDLE_AFTER: Duration = Duration::from_secs(60);
/// A shard sweeps its idle buckets when it holds twice the pools it held after its last sweep,
/// and never below this many.
const SWEEP_AT_LEAST: usize = 256;
/// The most pools one shard tracks; a new pool past this is not counted until a sweep frees room.
pub const MAX_POOLS_PER_SHARD: usize = 4096;
/// At [`MAX_POOLS_PER_SHARD`], the least time between two sweeps of a shard.
const SWEEP_PAUSE_AT_CAP: Duration = Duration::from_secs(1);
/// Fixed-point units of one token: a bucket of limit L holds up to `L * UNIT` and gains L units
/// per nanosecond, so refills are exact integers.
const UNIT: u64 = 1_000_000_000;
/// The bucket slot of AWS's separate allowance for the challenge responses of
/// `UserAuthentication` (three times the category's rate).
const SLOT_CHALLENGE: usize = CATEGORIES;
/// The bucket slot of `grant_type=authorization_code` at `/oauth2/token`: AWS gives it the
/// `UserAuthentication` rate without drawing on that category.
const SLOT_CODE_GRANT: usize = CATEGORIES + 1;
const SLOTS: usize = CATEGORIES + 2;

/// Per-pool request-rate quotas by category, counted in this process.
///
/// Build it with [`Quotas::new`] or [`Quotas::parse_spec`]; share it (`Arc`) across the
/// request handlers and call [`Quotas::check`] (or [`Quotas::check_operation`]) before an
/// operation runs.
pub struct Quotas {
    limits: BTreeMap<QuotaCategory, u32>,
    /// The limit of each bucket slot (`None`: not counted).
    table: [Option<u32>; SLOTS],
    /// Empty when no category has a limit.
    shards: Box<[Mutex<Shard>]>,
    hasher: RandomState,
}

impl Quotas {
    /// Quotas with `limits` in requests per second; a category without an entry is unlimited,
    /// and a limit of 0 refuses every call of its category. An empty map turns quotas off.
    pub fn new(limits: BTreeMap<QuotaCategory, u32>) -> Self {
        let mut table = [None; SLOTS];
        for (category, limit) in &limits {
            table[category.slot()] = Some(*limit);
        }
        if let Some(limit) = table[QuotaCategory::UserAuthentication.slot()] {
            table[SLOT_CHALLENGE] = Some(limit.saturating_mul(3));
            table[SLOT_CODE_GRANT] = Some(limit);
        }
        let shards = if limits.is_empty() {
            Box::default()
        } else {
            (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect()
        };
        Quotas {
            limits,
            table,
            shards,
            hasher: RandomState::new(),
        }
    }

    /// Quotas off: every check passes.
    pub fn off() -> Self {
        Quotas::new(BTreeMap::new())
    }

    /// Every category at AWS's default quota.
    pub fn aws_defaults() -> Self {
        Quotas::new(
            QuotaCategory::ALL
                .iter()
                .map(|c| (*c, c.aws_default_rps()))
                .collect(),
        )
    }

    /// Parses a `--quotas` value: comma-separated `Category=RPS` items (AWS's category names,
    /// RPS a whole number ≥ 1), and `aws-defaults` for every category at AWS's default figure
    /// (later items override it: `aws-defaults,UserCreation=10`). An empty value or `off` turns
    /// quotas off.
    pub fn parse_spec(spec: &str) -> Result<Self, QuotaSpecError> {
        let spec = spec.trim();
        if spec.is_empty() || spec.eq_ignore_ascii_case("off") {
            return Ok(Quotas::off());
        }
        let mut limits = BTreeMap::new();
        let mut explicit = BTreeMap::new();
        for item in spec.split(',') {
            let item = item.trim();
            if item.is_empty() {
                return Err(QuotaSpecError(format!(
                    "quotas {spec:?}: empty item (expected Category=RPS or aws-defaults)"
                )));
            }
            if item.eq_ignore_ascii_case("aws-defaults") {
                for category in QuotaCategory::ALL {
                    if !explicit.contains_key(category) {
                        limits.insert(*category, category.aws_default_rps());
                    }
                }
                continue;
            }
            let Some((name, value)) = item.split_once('=') else {
                return Err(QuotaSpecError(format!(
                    "quotas item {item:?}: expected Category=RPS or aws-defaults"
                )));
            };
            let category: QuotaCategory = name.trim().parse().map_err(|e: UnknownCategory| {
                QuotaSpecError(format!("quotas item {item:?}: {e}"))
            })?;
            let value = value.trim();
            let rps = match value.parse::<u32>() {
                Ok(rps) if rps >= 1 => rps,
                _ => {
                    return Err(QuotaSpecError(format!(
                        "quotas item {item:?}: {value:?} is not a whole number of requests per second from 1 to {}",
                        u32::MAX
                    )))
                }
            };
            if explicit.insert(category, rps).is_some() {
                return Err(QuotaSpecError(format!(
                    "quotas item {item:?}: {} is given more than once",
                    category.name()
                )));
            }
            limits.insert(category, rps);
        }
        Ok(Quotas::new(limits))
    }

    /// The configured limits, requests per second by category.
    pub fn limits(&self) -> &BTreeMap<QuotaCategory, u32> {
        &self.limits
    }

    /// Whether any category has a limit.
    pub fn is_enabled(&self) -> bool {
        !self.limits.is_empty()
    }

    /// Counts one request of `category` against the pool `pool_key` at `now`: `Err` when the
    /// pool has used the category's rate. A category without a limit always passes, and so
    /// does everything when quotas are off.
    ///
    /// `pool_key` names the pool the request is for (its id); a request without a pool
    /// (`ListUserPools`, `CreateUserPool`) can use a fixed key such as `""`.
    pub fn check(
        &self,
        pool_key: &str,
        category: QuotaCategory,
        now: Instant,
    ) -> Result<(), Throttled> {
        let Some(limit) = self.table[category.slot()] else {
            return Ok(());
        };
        if self.take(pool_key, category.slot(), limit, now) {
            Ok(())
        } else {
            Err(Throttled { category })
        }
    }

    /// [`Quotas::check`] for the category of `op` ([`category_of`]); an operation outside every
    /// category passes. `RespondToAuthChallenge` and `AdminRespondToAuthChallenge` first draw on
    /// AWS's separate allowance of three times the `UserAuthentication` rate, and only past it
    /// on the category itself.
    pub fn check_operation(
        &self,
        pool_key: &str,
        op: Operation,
        now: Instant,
    ) -> Result<(), Throttled> {
        let Some(category) = category_of(op) else {
            return Ok(());
        };
        if matches!(
            op,
            Operation::RespondToAuthChallenge | Operation::AdminRespondToAuthChallenge
        ) {
            if let Some(limit) = self.table[SLOT_CHALLENGE] {
                if self.take(pool_key, SLOT_CHALLENGE, limit, now) {
                    return Ok(());
                }
            }
        }
        self.check(pool_key, category, now)
    }

    /// Counts one `POST /oauth2/token` request of the pool `pool_key` by its `grant_type`, as
    /// AWS counts the token endpoint ("Quotas in Amazon Cognito"; spec vii.3):
    /// `client_credentials` against `ClientAuthentication`, `refresh_token` against
    /// `UserAuthentication` (shared with InitiateAuth), `authorization_code` in a bucket of its
    /// own at the `UserAuthentication` rate (AWS applies that category's limit to it without
    /// drawing on the category). A request without a grant type, or with an unsupported one,
    /// counts against `ClientAuthentication`: it is client traffic at the endpoint all the same.
    pub fn check_token_request(
        &self,
        pool_key: &str,
        grant_type: Option<&str>,
        now: Instant,
    ) -> Result<(), Throttled> {
        match grant_type {
            Some("refresh_token") => self.check(pool_key, QuotaCategory::UserAuthentication, now),
            Some("authorization_code") => match self.table[SLOT_CODE_GRANT] {
                Some(limit) if !self.take(pool_key, SLOT_CODE_GRANT, limit, now) => {
                    Err(Throttled {
                        category: QuotaCategory::UserAuthentication,
                    })
                }
                _ => Ok(()),
            },
            _ => self.check(pool_key, QuotaCategory::ClientAuthentication, now),
        }
    }

    /// Takes one token from the bucket of (`pool_key`, `slot`); false when it is empty.
    fn take(&self, pool_key: &str, slot: usize, limit: u32, now: Instant) -> bool {
        let index = self.hasher.hash_one((pool_key, slot)) as usize & (SHARDS - 1);
        let Some(shard) = self.shards.get(index) else {
            // No shards: quotas are off (no slot has a limit then, so this is not reached).
            return true;
        };
        let mut shard = shard.lock().unwrap_or_else(PoisonError::into_inner);
        shard.take(pool_key, slot, limit, now)
    }

    /// How many buckets are tracked (tests).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let s = s.lock().unwrap_or_else(PoisonError::into_inner);
                s.pools.values().map(Vec::len).sum::<usize>()
            })
            .sum()
    }
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas::off()
    }
}

/// `off`, or the limits as a `--quotas` value (`UserAuthentication=120,UserCreation=50`).
impl fmt::Display for Quotas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.limits.is_empty() {
            return f.write_str("off");
        }
        for (i, (category, limit)) in self.limits.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}={limit}", category.name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for Quotas {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Quotas")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

/// One token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Tokens left, in [`UNIT`]s.
    tokens: u64,
    /// When it was last refilled (and touched).
    last: Instant,
}

impl Bucket {
    fn full(limit: u32, now: Instant) -> Self {
        Bucket {
            tokens: u64::from(limit) * UNIT,
            last: now,
        }
    }

    /// Refills up to `now` and takes one token if there is one.
    fn take(&mut self, limit: u32, now: Instant) -> bool {
        let capacity = u64::from(limit) * UNIT;
        let elapsed = now.saturating_duration_since(self.last).as_nanos();
        let gained = elapsed.saturating_mul(u128::from(limit));
        let tokens = u128::from(self.tokens).saturating_add(gained);
        // Never above capacity (which fits a u64), so the conversion cannot fail.
        self.tokens = u64::try_from(tokens.min(u128::from(capacity))).unwrap_or(capacity);
        // A caller's clock read a moment before another's must not move the bucket back.
        if now > self.last {
            self.last = now;
        }
        if self.tokens >= UNIT {
            self.tokens -= UNIT;
            true
        } else {
            false
        }
    }
}

/// One shard: the buckets of the (pool, slot) pairs that hash here, by pool.
#[derive(Debug, Default)]
struct Shard {
    pools: HashMap<Box<str>, Vec<(usize, Bucket)>>,
    /// Sweep before tracking a new pool once `pools` holds this many.
    sweep_at: usize,
    /// When the shard last swept.
    swept: Option<Instant>,
}

impl Shard {
    fn take(&mut self, pool_key: &str, slot: usize, limit: u32, now: Instant) -> bool {
        if let Some(buckets) = self.pools.get_mut(pool_key) {
            if let Some((_, bucket)) = buckets.iter_mut().find(|(s, _)| *s == slot) {
                return bucket.take(limit, now);
            }
            let mut bucket = Bucket::full(limit, now);
            let taken = bucket.take(limit, now);
            buckets.push((slot, bucket));
            return taken;
        }
        if self.pools.len() >= self.sweep_at.max(SWEEP_AT_LEAST) && self.may_sweep(now) {
            self.sweep(now);
        }
        let mut bucket = Bucket::full(limit, now);
        let taken = bucket.take(limit, now);
        if self.pools.len() < MAX_POOLS_PER_SHARD {
            self.pools.insert(pool_key.into(), vec![(slot, bucket)]);
        }
        taken
    }

    /// Below the cap a shard sweeps each time it has doubled (amortised constant work); at the
    /// cap, where every new pool asks for a sweep, at most once per [`SWEEP_PAUSE_AT_CAP`].
    fn may_sweep(&self, now: Instant) -> bool {
        self.pools.len() < MAX_POOLS_PER_SHARD
            || self
                .swept
                .is_none_or(|t| now.saturating_duration_since(t) >= SWEEP_PAUSE_AT_CAP)
    }

    /// Drops the buckets idle for over [`IDLE_AFTER`], and the pools left without one.
    fn sweep(&mut self, now: Instant) {
        self.pools.retain(|_, buckets| {
            buckets.retain(|(_, b)| now.saturating_duration_since(b.last) <= IDLE_AFTER);
            !buckets.is_empty()
        });
        let kept = self.pools.len();
        if self.pools.capacity() > 4 * kept.max(SWEEP_AT_LEAST) {
            self.pools.shrink_to(2 * kept);
        }
        self.sweep_at = (2 * kept).clamp(SWEEP_AT_LEAST, MAX_POOLS_PER_SHARD);
        self.swept = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    fn limits(pairs: &[(QuotaCategory, u32)]) -> BTreeMap<QuotaCategory, u32> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn categories_are_complete_and_named_as_aws() {
        assert_eq!(QuotaCategory::ALL.len(), CATEGORIES);
        for (i, c) in QuotaCategory::ALL.iter().enumerate() {
            assert_eq!(c.slot(), i, "{c} is out of order");
            assert_eq!(c.name().parse::<QuotaCategory>(), Ok(*c));
            assert_eq!(c.name().to_lowercase().parse::<QuotaCategory>(), Ok(*c));
            assert_eq!(c.to_string(), c.name());
        }
        assert!("UserCreaton".parse::<QuotaCategory>().is_err());
        let expected = [
            ("UserAuthentication", 120),
            ("UserCreation", 50),
            ("UserFederation", 25),
            ("UserAccountRecovery", 30),
            ("UserRead", 120),
            ("UserUpdate", 25),
            ("UserToken", 120),
            ("UserResourceRead", 50),
            ("UserResourceUpdate", 25),
            ("UserList", 30),
            ("UserPoolRead", 15),
            ("UserPoolUpdate", 15),
            ("UserPoolResourceRead", 20),
            ("UserPoolResourceUpdate", 15),
            ("UserPoolClientRead", 15),
            ("UserPoolClientUpdate", 15),
            ("ClientAuthentication", 150),
        ];
        for (name, rps) in expected {
            let c: QuotaCategory = name.parse().expect("known category");
            assert_eq!(c.aws_default_rps(), rps, "{name}");
        }
    }

    #[test]
    fn category_of_covers_every_operation() {
        assert_eq!(Operation::ALL.len(), 129);
        let mut uncategorised = Vec::new();
        for op in Operation::ALL {
            if category_of(*op).is_none() {
                uncategorised.push(op.name());
            }
        }
        assert_eq!(
            uncategorised,
            ["GetProvisionedLimit", "UpdateProvisionedLimit"]
        );
        // Categories with no JSON operation: only the managed login's endpoints count there.
        for category in [
            QuotaCategory::UserFederation,
            QuotaCategory::ClientAuthentication,
        ] {
            assert!(Operation::ALL
                .iter()
                .all(|op| category_of(*op) != Some(category)));
        }
        // Every other category holds at least one operation.
        for category in QuotaCategory::ALL {
            if matches!(
                category,
                QuotaCategory::UserFederation | QuotaCategory::ClientAuthentication
            ) {
                continue;
            }
            assert!(
                Operation::ALL
                    .iter()
                    .any(|op| category_of(*op) == Some(*category)),
                "{category} is empty"
            );
        }
    }

    #[test]
    fn category_of_matches_the_documented_operations() {
        use QuotaCategory as Q;
        let documented = [
            (Operation::SignUp, Q::UserCreation),
            (Operation::ConfirmSignUp, Q::UserCreation),
            (Operation::AdminCreateUser, Q::UserCreation),
            (Operation::AdminConfirmSignUp, Q::UserCreation),
            (Operation::InitiateAuth, Q::UserAuthentication),
            (Operation::AdminInitiateAuth, Q::UserAuthentication),
            (Operation::RespondToAuthChallenge, Q::UserAuthentication),
            (
                Operation::AdminRespondToAuthChallenge,
                Q::UserAuthentication,
            ),
            (Operation::ForgotPassword, Q::UserAccountRecovery),
            (Operation::ConfirmForgotPassword, Q::UserAccountRecovery),
            (Operation::GetUser, Q::UserRead),
            (Operation::AdminGetUser, Q::UserRead),
            (Operation::ListUsers, Q::UserList),
            (Operation::ListUsersInGroup, Q::UserList),
            (Operation::RevokeToken, Q::UserToken),
            (Operation::ResendConfirmationCode, Q::UserResourceRead),
            (Operation::AdminListGroupsForUser, Q::UserResourceRead),
            (Operation::AdminAddUserToGroup, Q::UserUpdate),
            (Operation::CreateGroup, Q::UserPoolResourceUpdate),
            (Operation::DescribeUserPoolClient, Q::UserPoolClientRead),
            (Operation::CreateUserPoolClient, Q::UserPoolClientUpdate),
        ];
        for (op, category) in documented {
            assert_eq!(category_of(op), Some(category), "{}", op.name());
        }
    }

    #[test]
    fn parse_spec_accepts() {
        let q = Quotas::parse_spec("UserAuthentication=120,UserCreation=50").expect("parses");
        assert_eq!(
            q.limits(),
            &limits(&[
                (QuotaCategory::UserAuthentication, 120),
                (QuotaCategory::UserCreation, 50)
            ])
        );
        assert_eq!(q.to_string(), "UserAuthentication=120,UserCreation=50");

        let q = Quotas::parse_spec(" userlist = 3 , UserRead=1 ").expect("parses");
        assert_eq!(
            q.limits(),
            &limits(&[(QuotaCategory::UserRead, 1), (QuotaCategory::UserList, 3)])
        );

        let q = Quotas::parse_spec("aws-defaults").expect("parses");
        assert_eq!(q.limits().len(), QuotaCategory::ALL.len());
        for c in QuotaCategory::ALL {
            assert_eq!(q.limits().get(c), Some(&c.aws_default_rps()));
        }
        assert_eq!(q.limits(), Quotas::aws_defaults().limits());

        // Explicit items win over aws-defaults, whichever comes first.
        for spec in ["aws-defaults,UserCreation=7", "UserCreation=7,aws-defaults"] {
            let q = Quotas::parse_spec(spec).expect("parses");
            assert_eq!(
                q.limits().get(&QuotaCategory::UserCreation),
                Some(&7),
                "{spec}"
            );
            assert_eq!(
                q.limits().get(&QuotaCategory::UserRead),
                Some(&120),
                "{spec}"
            );
        }

        for off in ["", "  ", "off", "OFF"] {
            let q = Quotas::parse_spec(off).expect("parses");
            assert!(!q.is_enabled(), "{off:?}");
            assert_eq!(q.to_string(), "off");
        }
    }

    #[test]
    fn parse_spec_rejects_naming_the_bad_part() {
        let cases = [
            ("UserCreaton=5", "UserCreaton"),
            ("UserCreation=0", "\"0\""),
            ("UserCreation=-1", "\"-1\""),
            ("UserCreation=1.5", "\"1.5\""),
            ("UserCreation=99999999999", "\"99999999999\""),
            ("UserCreation=", "\"\""),
            ("UserCreation", "\"UserCreation\""),
            ("UserRead=5,,UserList=2", "empty item"),
            ("UserRead=5,UserRead=6", "more than once"),
            ("aws-default", "\"aws-default\""),
        ];
        for (spec, named) in cases {
            let err = Quotas::parse_spec(spec).expect_err(spec).to_string();
            assert!(err.contains(named), "{spec}: {err}");
        }
        let err = Quotas::parse_spec("UserRead=5,Bogus=1")
            .expect_err("unknown")
            .to_string();
        assert!(
            err.contains("Bogus=1") && err.contains("UserAuthentication"),
            "{err}"
        );
    }

    #[test]
    fn limit_of_five_allows_five_then_refills() {
        let q = Quotas::new(limits(&[(QuotaCategory::UserCreation, 5)]));
        let t0 = Instant::now();
        for i in 0..5 {
            assert_eq!(
                q.check("pool", QuotaCategory::UserCreation, t0),
                Ok(()),
                "call {i}"
            );
        }
        let refused = q.check("pool", QuotaCategory::UserCreation, t0);
        assert_eq!(
            refused,
            Err(Throttled {
                category: QuotaCategory::UserCreation
            })
        );
        // A fifth of a second later: one token back (refilled continuously).
        let t1 = t0 + Duration::from_millis(200);
        assert_eq!(q.check("pool", QuotaCategory::UserCreation, t1), Ok(()));
        assert!(q.check("pool", QuotaCategory::UserCreation, t1).is_err());
        // A second later: full again, never above the limit.
        let t2 = t1 + Duration::from_secs(10);
        for _ in 0..5 {
            assert_eq!(q.check("pool", QuotaCategory::UserCreation, t2), Ok(()));
        }
        assert!(q.check("pool", QuotaCategory::UserCreation, t2).is_err());
        // A clock read earlier than the bucket's last one neither refills nor panics.
        assert!(q.check("pool", QuotaCategory::UserCreation, t0).is_err());
    }

    #[test]
    fn pools_and_categories_are_independent() {
        let q = Quotas::new(limits(&[
            (QuotaCategory::UserCreation, 2),
            (QuotaCategory::UserRead, 1),
        ]));
        let t = Instant::now();
        for pool in ["eu-west-1_a", "eu-west-1_b"] {
            assert!(q.check(pool, QuotaCategory::UserCreation, t).is_ok());
            assert!(q.check(pool, QuotaCategory::UserCreation, t).is_ok());
            assert!(q.check(pool, QuotaCategory::UserCreation, t).is_err());
            assert!(q.check(pool, QuotaCategory::UserRead, t).is_ok());
            assert!(q.check(pool, QuotaCategory::UserRead, t).is_err());
        }
        // A category without a limit is unlimited.
        for _ in 0..1000 {
            assert!(q.check("eu-west-1_a", QuotaCategory::UserList, t).is_ok());
        }
    }

    #[test]
    fn no_limits_always_pass() {
        let q = Quotas::new(BTreeMap::new());
        assert!(!q.is_enabled());
        let t = Instant::now();
        for _ in 0..10_000 {
            for c in QuotaCategory::ALL {
                assert!(q.check("pool", *c, t).is_ok());
            }
        }
        assert!(Quotas::default()
            .check("pool", QuotaCategory::UserRead, t)
            .is_ok());
    }

    #[test]
    fn a_zero_limit_refuses_everything() {
        let q = Quotas::new(limits(&[(QuotaCategory::UserPoolUpdate, 0)]));
        let t = Instant::now();
        assert!(q.check("", QuotaCategory::UserPoolUpdate, t).is_err());
        assert!(q
            .check(
                "",
                QuotaCategory::UserPoolUpdate,
                t + Duration::from_secs(5)
            )
            .is_err());
    }

    #[test]
    fn concurrent_calls_count_exactly() {
        let q = Arc::new(Quotas::new(limits(&[(QuotaCategory::UserRead, 100)])));
        let now = Instant::now();
        let ok = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(8));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (q, ok, start) = (Arc::clone(&q), Arc::clone(&ok), Arc::clone(&start));
                std::thread::spawn(move || {
                    start.wait();
                    for _ in 0..50 {
                        if q.check("pool", QuotaCategory::UserRead, now).is_ok() {
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
        assert_eq!(ok.load(Ordering::Relaxed), 100);
    }

    #[test]
    fn challenge_responses_have_their_own_allowance() {
        let q = Quotas::new(limits(&[(QuotaCategory::UserAuthentication, 2)]));
        let t = Instant::now();
        // Three times the category's rate for the challenge responses…
        for _ in 0..6 {
            assert!(q
                .check_operation("p", Operation::RespondToAuthChallenge, t)
                .is_ok());
        }
        // …then they count against the category, shared with InitiateAuth.
        assert!(q
            .check_operation("p", Operation::AdminRespondToAuthChallenge, t)
            .is_ok());
        assert!(q.check_operation("p", Operation::InitiateAuth, t).is_ok());
        assert_eq!(
            q.check_operation("p", Operation::InitiateAuth, t),
            Err(Throttled {
                category: QuotaCategory::UserAuthentication
            })
        );
        assert!(q
            .check_operation("p", Operation::RespondToAuthChallenge, t)
            .is_err());
        // Operations outside every category, or in one without a limit, pass.
        assert!(q
            .check_operation("p", Operation::GetProvisionedLimit, t)
            .is_ok());
        assert!(q.check_operation("p", Operation::SignUp, t).is_ok());
    }

    #[test]
    fn token_requests_count_by_grant_type() {
        let q = Quotas::new(limits(&[
            (QuotaCategory::ClientAuthentication, 2),
            (QuotaCategory::UserAuthentication, 3),
        ]));
        let t = Instant::now();
        let client = |q: &Quotas| q.check_token_request("p", Some("client_credentials"), t);
        assert!(client(&q).is_ok());
        // No grant type (or an unknown one) is client traffic too.
        assert!(q.check_token_request("p", None, t).is_ok());
        let throttled = |category| Err(Throttled { category });
        assert_eq!(client(&q), throttled(QuotaCategory::ClientAuthentication));
        assert_eq!(
            q.check_token_request("p", Some("password"), t),
            throttled(QuotaCategory::ClientAuthentication)
        );
        // Another pool has its own bucket.
        assert!(q
            .check_token_request("q", Some("client_credentials"), t)
            .is_ok());
        // The code grant: the UserAuthentication rate in a bucket of its own.
        for _ in 0..3 {
            assert!(q
                .check_token_request("p", Some("authorization_code"), t)
                .is_ok());
        }
        assert_eq!(
            q.check_token_request("p", Some("authorization_code"), t),
            throttled(QuotaCategory::UserAuthentication)
        );
        // Refresh shares UserAuthentication with InitiateAuth (untouched by the codes).
        assert!(q.check_operation("p", Operation::InitiateAuth, t).is_ok());
        assert!(q.check_token_request("p", Some("refresh_token"), t).is_ok());
        assert!(q.check_token_request("p", Some("refresh_token"), t).is_ok());
        assert_eq!(
            q.check_token_request("p", Some("refresh_token"), t),
            throttled(QuotaCategory::UserAuthentication)
        );
        // A second later every bucket has refilled.
        let later = t + Duration::from_secs(1);
        assert!(q
            .check_token_request("p", Some("client_credentials"), later)
            .is_ok());
        // Without limits nothing is counted.
        let off = Quotas::off();
        for _ in 0..10 {
            assert!(off.check_token_request("p", None, t).is_ok());
        }
    }

    #[test]
    fn throttled_is_aws_error() {
        let e = Throttled {
            category: QuotaCategory::UserCreation,
        };
        let api = e.to_api_error();
        assert_eq!(api.kind, ErrorKind::TooManyRequestsException);
        assert_eq!(api.message, "Rate exceeded");
        assert_eq!(
            api.http_status(),
            ErrorKind::TooManyRequestsException.http_status()
        );
        assert_eq!(
            api.to_json(),
            serde_json::json!({"__type": "TooManyRequestsException", "message": "Rate exceeded"})
        );
        assert_eq!(e.to_string(), "UserCreation request rate exceeded");
    }

    #[test]
    fn idle_buckets_are_swept() {
        let q = Quotas::new(limits(&[(QuotaCategory::UserRead, 10)]));
        let t0 = Instant::now();
        const N: usize = 20_000;
        for i in 0..N {
            assert!(q
                .check(&format!("old-{i}"), QuotaCategory::UserRead, t0)
                .is_ok());
        }
        assert_eq!(q.tracked(), N);
        let t1 = t0 + IDLE_AFTER + Duration::from_secs(1);
        for i in 0..N {
            assert!(q
                .check(&format!("new-{i}"), QuotaCategory::UserRead, t1)
                .is_ok());
        }
        // The shards that grew swept the idle pools; without sweeping there would be 2N.
        assert!(q.tracked() < N + N / 2, "{} tracked", q.tracked());
        // A swept pool starts again with a full bucket.
        for _ in 0..10 {
            assert!(q.check("old-0", QuotaCategory::UserRead, t1).is_ok());
        }
        assert!(q.check("old-0", QuotaCategory::UserRead, t1).is_err());
    }

    #[test]
    fn memory_is_bounded_per_shard() {
        let q = Quotas::new(limits(&[(QuotaCategory::UserRead, 1)]));
        let t = Instant::now();
        let n = SHARDS * MAX_POOLS_PER_SHARD + 10_000;
        for i in 0..n {
            // Past the bound a new pool is not tracked, but is still answered.
            assert!(q.check(&i.to_string(), QuotaCategory::UserRead, t).is_ok());
        }
        assert!(q.tracked() <= SHARDS * MAX_POOLS_PER_SHARD);
        // Once the tracked pools have gone idle, the full shards sweep and count new pools again.
        let later = t + IDLE_AFTER + Duration::from_secs(1);
        assert!(q.check("fresh", QuotaCategory::UserRead, later).is_ok());
        assert!(q.check("fresh", QuotaCategory::UserRead, later).is_err());
    }

    #[test]
    fn poisoned_shard_still_counts() {
        let q = Arc::new(Quotas::new(limits(&[(QuotaCategory::UserRead, 1)])));
        for shard in q.shards.iter() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _guard = shard.lock().unwrap_or_else(PoisonError::into_inner);
                panic!("poison");
            }));
            assert!(shard.is_poisoned());
        }
        let t = Instant::now();
        assert!(q.check("p", QuotaCategory::UserRead, t).is_ok());
        assert!(q.check("p", QuotaCategory::UserRead, t).is_err());
    }
}
