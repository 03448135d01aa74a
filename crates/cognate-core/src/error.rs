//! The one error type of the domain. Variants say what went wrong in domain terms and carry
//! the facts a message needs; the exact AWS error type and message for each are written once,
//! in the server's mapping (`cognate_server::errors`), which matches this enum exhaustively.

use crate::records::{AliasKind, UserStatus};
pub use crate::service::AuthFlow;
use crate::triggers::{TriggerError, TriggerKind};

pub type DomainResult<T> = Result<T, DomainError>;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    // ------------------------------------------------------------- what was named is missing
    #[error("user pool {pool_id} not found")]
    PoolNotFound { pool_id: String },
    #[error("app client {client_id} not found")]
    ClientNotFound { client_id: String },
    #[error("group not found")]
    GroupNotFound,
    /// UpdateUserPoolDomain / DeleteUserPoolDomain naming a domain the pool does not hold
    /// (or a pool that does not exist: AWS answers both alike).
    #[error("no such domain or user pool")]
    DomainNotFound,
    #[error("resource server {identifier} not found")]
    ResourceServerNotFound { identifier: String },
    /// Feedback on an event the user's history does not have.
    #[error("auth event not found")]
    EventNotFound,
    /// The auth-event operations in a pool without threat protection.
    #[error("threat protection is off for the pool")]
    AddOnNotEnabled,
    /// UpdateAuthEventFeedback with a token that is not the event's.
    #[error("invalid feedback token")]
    InvalidFeedbackToken,
    /// An unknown user where the caller may learn that (admin calls, LEGACY clients).
    #[error("user not found")]
    UserNotFound,
    /// An unknown user on the client-facing code operations of a LEGACY client.
    #[error("username/client combination not found")]
    UsernameClientNotFound,

    // ------------------------------------------------------------- who may do what
    #[error("client {client_id} has a secret but no SecretHash was sent")]
    SecretHashMissing { client_id: String },
    #[error("SecretHash does not verify for client {client_id}")]
    SecretHashWrong { client_id: String },
    /// SignUp in a pool with `AllowAdminCreateUserOnly`.
    #[error("sign-up is admin-only in this pool")]
    SignUpNotPermitted,
    /// An attribute the client may not write (or nobody may: `sub`, `*_verified`).
    #[error("client may not write an attribute")]
    UnauthorizedAttribute,
    #[error("user cannot be confirmed from status {status:?}")]
    CannotConfirm { status: UserStatus },
    /// ForgotPassword in a pool whose account recovery is `admin_only`.
    #[error("password recovery is admin-only in this pool")]
    RecoveryAdminOnly,
    /// A password reset of a user whose status does not allow one (FORCE_CHANGE_PASSWORD).
    #[error("password cannot be reset in the user's status")]
    CannotResetPassword,
    /// AdminCreateUser `RESEND` for a user who is no longer `FORCE_CHANGE_PASSWORD`.
    #[error("no invitation to resend in the user's status")]
    UnsupportedUserState,

    // ------------------------------------------------------------- codes
    #[error("wrong code")]
    CodeMismatch,
    #[error("expired or missing code")]
    ExpiredCode,
    /// An hourly attempt limit (confirmations, resends) is used up.
    #[error("attempt limit exceeded")]
    AttemptLimit,
    #[error("the user is already confirmed")]
    AlreadyConfirmed,

    // ------------------------------------------------------------- sign-in and tokens
    /// A flow sent to the operation that does not take it (password flows are per operation).
    #[error("auth flow not supported by this operation")]
    InitiateAuthMethodNotSupported,
    /// The client's ExplicitAuthFlows do not allow the flow.
    #[error("{flow:?} not enabled for the client")]
    AuthFlowNotEnabled { flow: AuthFlow },
    /// A flow or challenge this build does not implement yet.
    #[error("{what} is not supported yet")]
    NotSupportedYet { what: &'static str },
    /// A challenge answer with an unknown, foreign or tampered session.
    #[error("invalid session")]
    InvalidSession,
    #[error("session expired")]
    SessionExpired,
    #[error("session already used")]
    SessionUsed,
    /// CUSTOM_AUTH in a pool without the three custom-challenge functions.
    #[error("custom auth triggers not configured")]
    CustomAuthNotConfigured,
    /// A SELECT_CHALLENGE answer that is not one of the challenges offered.
    #[error("challenge not offered")]
    ChallengeNotOffered,
    /// An `SRP_A` that is not hex, not below N, or zero modulo N.
    #[error("invalid SRP_A")]
    InvalidSrpA,
    #[error("missing auth parameter {name}")]
    MissingParameter { name: &'static str },
    /// Wrong password, or (when the client hides existence) an unknown user.
    #[error("incorrect username or password")]
    IncorrectCredentials,
    #[error("user is disabled")]
    UserDisabled,
    /// Locked out after failed password checks (`rules::lockout`).
    #[error("password attempts exceeded")]
    PasswordAttemptsExceeded,
    #[error("user is not confirmed")]
    UserNotConfirmed,
    #[error("password reset required")]
    PasswordResetRequired,
    /// A correct temporary password older than the pool's `TemporaryPasswordValidityDays`.
    #[error("temporary password expired")]
    TemporaryPasswordExpired,
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    #[error("refresh token revoked")]
    RefreshTokenRevoked,
    #[error("refresh token expired")]
    RefreshTokenExpired,
    /// A rotated-out refresh token used after its grace period.
    #[error("refresh token reused")]
    RefreshTokenReused,
    /// REFRESH_TOKEN_AUTH on a client that rotates refresh tokens.
    #[error("refresh through InitiateAuth is off: the client rotates refresh tokens")]
    RefreshTokenRotationOn,
    /// Malformed, badly signed, foreign, or not an access token.
    #[error("invalid access token")]
    InvalidAccessToken,
    #[error("access token expired")]
    AccessTokenExpired,
    /// Signed out globally, or its refresh token was revoked.
    #[error("access token revoked")]
    AccessTokenRevoked,
    /// RevokeToken on a client with `EnableTokenRevocation` off.
    #[error("token revocation is off for the client")]
    RevocationDisabled,
    /// RevokeToken with an unknown client or a wrong client secret.
    #[error("client credentials do not match")]
    ClientCredentials,

    // ------------------------------------------------------------- a client's OAuth settings
    /// An `AllowedOAuthScopes` value that is neither a standard scope nor a scope of one of
    /// the pool's resource servers.
    #[error("scope {scope} does not exist")]
    ScopeDoesNotExist { scope: String },
    /// `client_credentials` on a client without a secret.
    #[error("client_credentials needs a client secret")]
    ClientCredentialsWithoutSecret,
    /// `client_credentials` together with `code` or `implicit`.
    #[error("client_credentials must be the only OAuth flow")]
    ClientCredentialsNotAlone,

    // ------------------------------------------------------------- uniqueness
    /// `alias` names the alias (used as a sign-in name) that is taken; `None`: the username.
    #[error("username exists")]
    UsernameExists { alias: Option<AliasKind> },
    /// A group of that name (in any letter case) exists in the pool.
    #[error("group exists")]
    GroupExists,
    /// The user is in as many groups as a user may be.
    #[error("too many groups for the user")]
    TooManyGroups,
    /// Another pool holds the domain name.
    #[error("domain taken by another pool")]
    DomainTaken,
    /// The pool has a domain of that kind already.
    #[error("pool already has a domain")]
    PoolHasDomain,
    /// A resource server with that identifier exists in the pool.
    #[error("resource server {identifier} exists")]
    ResourceServerExists { identifier: String },
    /// The pool has as many resource servers as a pool may have.
    #[error("too many resource servers")]
    TooManyResourceServers,
    /// AdminCreateUser with a username that exists (AWS words it apart from SignUp's).
    #[error("user account exists")]
    UserAccountExists,
    /// Confirming would move an alias another user holds, and the caller did not force it.
    #[error("alias {kind:?} exists")]
    AliasExists { kind: AliasKind },

    // ------------------------------------------------------------- input the rules refuse
    #[error("invalid input: {0:?}")]
    Invalid(Invalid),
    #[error("password breaks the policy: {0:?}")]
    InvalidPassword(PasswordRule),
    /// One of the user's last `PasswordHistorySize` passwords.
    #[error("password was used before")]
    PasswordReused,

    // ------------------------------------------------------------- collaborators
    /// The provider refused or could not be reached; the detail went to the log only.
    #[error("code delivery failed")]
    CodeDeliveryFailure,
    #[error("{kind} trigger: {failure}")]
    Trigger {
        kind: TriggerKind,
        failure: TriggerError,
    },
    #[error("store unavailable: {detail}")]
    StoreUnavailable { detail: String },
    /// Anything else: a bug or broken stored data. The detail is logged, never answered.
    #[error("internal error ({context}): {detail}")]
    Internal {
        context: &'static str,
        detail: String,
    },
}

impl DomainError {
    pub fn internal(context: &'static str, detail: impl std::fmt::Display) -> Self {
        DomainError::Internal {
            context,
            detail: detail.to_string(),
        }
    }

    pub fn invalid(reason: Invalid) -> Self {
        DomainError::Invalid(reason)
    }
}

/// Why input that the model accepts is still refused (each an `InvalidParameterException`
/// with AWS's message).
#[derive(Debug, Clone, PartialEq)]
pub enum Invalid {
    // pools
    SchemaAttributeNameRequired,
    CustomAttributeName {
        name: String,
    },
    RequiredCustomAttribute,
    /// AddCustomAttributes naming an attribute the schema has.
    AttributeExists {
        name: String,
    },
    TooManyCustomAttributes,
    AliasAndUsernameAttributes,
    SmsMessageWithoutCode,
    EmailMessageWithoutCode,
    EmailMessageByLinkRequired,
    EmailMessageByLinkWithoutLink,
    DeletionProtected,
    // clients
    MixedAuthFlows,
    ClientSecretWithoutGenerate,
    /// `AllowedOAuthFlowsUserPoolClient=true` without flows or without scopes.
    OAuthFlowsAndScopesRequired,
    /// A callback or logout URL that breaks a rule of spec vii.1.
    RedirectUrl {
        list: UrlList,
        url: String,
        problem: UrlProblem,
    },
    /// `DefaultRedirectURI` that is not one of the `CallbackURLs`.
    DefaultRedirectNotCallback,
    /// A `SupportedIdentityProviders` name that is not `COGNITO` (the only provider here).
    UnknownIdentityProvider {
        name: String,
        pool_id: String,
    },
    // paging and searching
    PaginationToken,
    FilterSyntax,
    SearchAttribute {
        name: String,
    },
    // users and their attributes
    PasswordRequired,
    CannotAutoVerify {
        attribute: String,
    },
    AutoVerificationOff,
    UsernameNotSignInAttribute {
        email: bool,
        phone: bool,
    },
    UsernameLooksLikeAlias {
        attribute: &'static str,
    },
    UnknownAttribute {
        name: String,
    },
    /// A NEW_PASSWORD_REQUIRED answer without a required attribute the user lacks.
    RequiredAttributeMissing {
        name: String,
    },
    /// An attribute only the server writes (`email_verified`, …) in a challenge answer.
    NonMutableAttribute {
        name: String,
    },
    Schema {
        problems: Vec<SchemaProblem>,
    },
    EmailFormat,
    PhoneFormat,
    // recovery and attribute changes
    /// No verified email or phone number to send a reset code to.
    NoRecoveryContact,
    /// An immutable attribute, or one the user cannot be without (a sign-in attribute).
    AttributeNotUpdatable {
        name: String,
    },
    /// Only `email` and `phone_number` have verification codes.
    AttributeNotVerifiable {
        name: String,
    },
    /// A verification code for an attribute the user has no value of.
    NothingToVerify {
        name: String,
    },
    /// An invitation asked for by a medium the user has no address for.
    NoDeliveryAddress {
        medium: crate::delivery::Medium,
    },
    // domains and resource servers
    /// `ManagedLoginVersion` other than 1 or 2.
    ManagedLoginVersion,
    /// UpdateUserPoolDomain with a certificate for a prefix domain.
    CertificateForPrefixDomain,
    /// Two scopes of one resource server with the same name.
    DuplicateScope {
        name: String,
    },
}

/// One way an attribute value breaks the pool's schema.
#[derive(Debug, Clone, PartialEq)]
pub enum SchemaProblem {
    NotANumber { name: String },
    NotABoolean { name: String },
    TooLong { name: String, max: usize },
    TooShort { name: String, min: usize },
    Required { name: String },
}

/// The first password rule a password breaks, in AWS's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRule {
    TooShort,
    NeedsLowercase,
    NeedsUppercase,
    NeedsNumber,
    NeedsSymbol,
}

impl From<crate::ports::StoreError> for DomainError {
    fn from(e: crate::ports::StoreError) -> Self {
        use crate::ports::{Conflict, StoreError};
        match e {
            StoreError::Conflict(Conflict::Username) => DomainError::UsernameExists { alias: None },
            StoreError::Conflict(Conflict::Alias(kind)) => {
                DomainError::UsernameExists { alias: Some(kind) }
            }
            StoreError::Unavailable(detail) => DomainError::StoreUnavailable { detail },
            StoreError::Corrupt(detail) => DomainError::internal("stored data", detail),
            StoreError::Config(detail) | StoreError::Database(detail) => {
                DomainError::internal("store", detail)
            }
        }
    }
}

/// Which of a client's URL lists a URL belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlList {
    Callback,
    Logout,
}

/// What is wrong with a callback or logout URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlProblem {
    NotAbsolute,
    Fragment,
    /// `http:` to a host other than `localhost`, `127.0.0.1` or `[::1]`.
    Insecure,
}
