//! The one place where failures become AWS wire errors: `to_wire` maps every `DomainError`
//! (exhaustively: a new variant does not compile until it has its type and message here), and
//! the `protocol` functions give the errors of the HTTP layer itself. The strings are the exact
//! `__type` and messages clients match on (spec §b, §c, §d).

use cognate_core::delivery::Medium;
use cognate_core::records::AliasKind;
use cognate_core::service::AuthFlow;
use cognate_core::triggers::{TriggerError, TriggerKind};
use cognate_core::{DomainError, Invalid, PasswordRule, SchemaProblem, UrlList, UrlProblem};
use cognate_wire::{ApiError, ErrorKind};

const INTERNAL_MESSAGE: &str = "An internal error occurred while processing the request.";

/// The wire error for a domain failure. Details that are not the caller's to see (store,
/// internal and provider errors) are logged here, with the request id, and left out.
pub fn to_wire(e: DomainError, request_id: &str) -> ApiError {
    use ErrorKind as K;
    match e {
        DomainError::PoolNotFound { pool_id } => ApiError::new(
            K::ResourceNotFoundException,
            format!("User pool {pool_id} does not exist."),
        ),
        DomainError::ClientNotFound { client_id } => ApiError::new(
            K::ResourceNotFoundException,
            format!("User pool client {client_id} does not exist."),
        ),
        DomainError::EventNotFound => {
            ApiError::new(K::ResourceNotFoundException, "Auth event not found.")
        }
        DomainError::AddOnNotEnabled => ApiError::new(
            K::UserPoolAddOnNotEnabledException,
            "The user pool does not have advanced security features enabled.",
        ),
        DomainError::InvalidFeedbackToken => {
            ApiError::new(K::NotAuthorizedException, "Invalid feedback token.")
        }
        DomainError::GroupNotFound => {
            ApiError::new(K::ResourceNotFoundException, "Group not found.")
        }
        // Spec vii.1 and captured answers: AWS says the same whether the pool or the
        // domain is missing.
        DomainError::DomainNotFound => ApiError::new(
            K::InvalidParameterException,
            "No such domain or user pool exists.",
        ),
        DomainError::DomainTaken => ApiError::new(
            K::InvalidParameterException,
            "Domain already associated with another user pool.",
        ),
        DomainError::PoolHasDomain => ApiError::new(
            K::InvalidParameterException,
            "User pool already has a domain configured.",
        ),
        DomainError::ResourceServerNotFound { identifier } => ApiError::new(
            K::ResourceNotFoundException,
            format!("Resource server {identifier} does not exist."),
        ),
        DomainError::ResourceServerExists { identifier } => ApiError::new(
            K::InvalidParameterException,
            format!(
                "A resource server with identifier {identifier} already exists in the user pool."
            ),
        ),
        DomainError::TooManyResourceServers => ApiError::new(
            K::LimitExceededException,
            "A user pool cannot have more than 25 resource servers.",
        ),
        // Spec vii.1: AWS's message as captured (`Invalid scope requested: Cognito`).
        DomainError::ScopeDoesNotExist { scope } => ApiError::new(
            K::ScopeDoesNotExistException,
            format!("Invalid scope requested: {scope}"),
        ),
        DomainError::ClientCredentialsWithoutSecret => ApiError::new(
            K::InvalidOAuthFlowException,
            "client_credentials flow can not be selected if client does not have a client secret.",
        ),
        DomainError::ClientCredentialsNotAlone => ApiError::new(
            K::InvalidOAuthFlowException,
            "client_credentials flow can not be selected along with code flow or implicit flow.",
        ),
        DomainError::GroupExists => ApiError::new(
            K::GroupExistsException,
            "A group with the name already exists.",
        ),
        // AdminAddUserToGroup's model lists no LimitExceededException.
        DomainError::TooManyGroups => ApiError::new(
            K::InvalidParameterException,
            "A user cannot be in more than 100 groups.",
        ),
        DomainError::UserNotFound => {
            ApiError::new(K::UserNotFoundException, "User does not exist.")
        }
        DomainError::UsernameClientNotFound => ApiError::new(
            K::UserNotFoundException,
            "Username/client id combination not found.",
        ),
        DomainError::SecretHashMissing { client_id } => ApiError::new(
            K::NotAuthorizedException,
            format!("Client {client_id} is configured for secret but secret was not received"),
        ),
        DomainError::SecretHashWrong { client_id } => ApiError::new(
            K::NotAuthorizedException,
            format!("Unable to verify secret hash for client {client_id}"),
        ),
        DomainError::SignUpNotPermitted => ApiError::new(
            K::NotAuthorizedException,
            "SignUp is not permitted for this user pool",
        ),
        DomainError::UnauthorizedAttribute => ApiError::new(
            K::NotAuthorizedException,
            "A client attempted to write unauthorized attribute",
        ),
        DomainError::CannotConfirm { status } => ApiError::new(
            K::NotAuthorizedException,
            format!(
                "User cannot be confirmed. Current status is {}",
                status.as_str()
            ),
        ),
        DomainError::UserAccountExists => {
            ApiError::new(K::UsernameExistsException, "User account already exists")
        }
        DomainError::UnsupportedUserState => ApiError::new(
            K::UnsupportedUserStateException,
            "Resend is only possible for a user in FORCE_CHANGE_PASSWORD status.",
        ),
        DomainError::RecoveryAdminOnly => ApiError::new(
            K::NotAuthorizedException,
            "Contact administrator to reset password.",
        ),
        DomainError::CannotResetPassword => ApiError::new(
            K::NotAuthorizedException,
            "User password cannot be reset in the current state.",
        ),
        DomainError::PasswordReused => ApiError::new(
            K::PasswordHistoryPolicyViolationException,
            "Password has previously been used",
        ),
        DomainError::CodeMismatch => ApiError::new(
            K::CodeMismatchException,
            "Invalid verification code provided, please try again.",
        ),
        DomainError::ExpiredCode => ApiError::new(
            K::ExpiredCodeException,
            "Invalid code provided, please request a code again.",
        ),
        DomainError::AttemptLimit => ApiError::new(
            K::LimitExceededException,
            "Attempt limit exceeded, please try after some time.",
        ),
        DomainError::AlreadyConfirmed => {
            ApiError::new(K::InvalidParameterException, "User is already confirmed.")
        }
        DomainError::InitiateAuthMethodNotSupported => ApiError::new(
            K::InvalidParameterException,
            "Initiate Auth method not supported.",
        ),
        DomainError::AuthFlowNotEnabled { flow } => {
            ApiError::new(K::InvalidParameterException, flow_not_enabled(flow))
        }
        DomainError::NotSupportedYet { what } => ApiError::new(
            K::InvalidParameterException,
            format!("{what} is not supported by this Cognate server yet."),
        ),
        DomainError::InvalidSession => {
            ApiError::new(K::NotAuthorizedException, "Invalid session for the user.")
        }
        DomainError::SessionExpired => ApiError::new(
            K::NotAuthorizedException,
            "Invalid session for the user, session is expired.",
        ),
        DomainError::SessionUsed => ApiError::new(
            K::NotAuthorizedException,
            "Invalid session for the user, session can only be used once.",
        ),
        DomainError::CustomAuthNotConfigured => ApiError::new(
            K::InvalidUserPoolConfigurationException,
            "Custom auth lambda trigger is not configured for the user pool.",
        ),
        DomainError::ChallengeNotOffered => ApiError::new(
            K::InvalidParameterException,
            "The ANSWER is not one of the available challenges.",
        ),
        DomainError::InvalidSrpA => {
            ApiError::new(K::InvalidParameterException, "SRP_A is not a valid value.")
        }
        DomainError::MissingParameter { name } => ApiError::new(
            K::InvalidParameterException,
            format!("Missing required parameter {name}"),
        ),
        DomainError::IncorrectCredentials => {
            ApiError::new(K::NotAuthorizedException, "Incorrect username or password.")
        }
        DomainError::UserDisabled => ApiError::new(K::NotAuthorizedException, "User is disabled."),
        DomainError::PasswordAttemptsExceeded => {
            ApiError::new(K::NotAuthorizedException, "Password attempts exceeded")
        }
        DomainError::TemporaryPasswordExpired => ApiError::new(
            K::NotAuthorizedException,
            "Temporary password has expired and must be reset by an administrator.",
        ),
        DomainError::AccessTokenRevoked => {
            ApiError::new(K::NotAuthorizedException, "Access Token has been revoked")
        }
        DomainError::RevocationDisabled => ApiError::new(
            K::UnsupportedOperationException,
            "Token revocation is not enabled for this client.",
        ),
        DomainError::ClientCredentials => {
            ApiError::new(K::UnauthorizedException, "Invalid client credentials.")
        }
        DomainError::UserNotConfirmed => {
            ApiError::new(K::UserNotConfirmedException, "User is not confirmed.")
        }
        DomainError::PasswordResetRequired => ApiError::new(
            K::PasswordResetRequiredException,
            "Password reset required for the user",
        ),
        DomainError::InvalidRefreshToken => {
            ApiError::new(K::NotAuthorizedException, "Invalid Refresh Token.")
        }
        DomainError::RefreshTokenRevoked => {
            ApiError::new(K::NotAuthorizedException, "Refresh Token has been revoked")
        }
        DomainError::RefreshTokenExpired => {
            ApiError::new(K::NotAuthorizedException, "Refresh Token has expired")
        }
        DomainError::RefreshTokenReused => ApiError::new(
            K::RefreshTokenReuseException,
            "Refresh Token has been reused.",
        ),
        DomainError::RefreshTokenRotationOn => ApiError::new(
            K::InvalidParameterException,
            "Refresh token rotation is enabled for this client: use GetTokensFromRefreshToken.",
        ),
        DomainError::InvalidAccessToken => {
            ApiError::new(K::NotAuthorizedException, "Invalid Access Token")
        }
        DomainError::AccessTokenExpired => {
            ApiError::new(K::NotAuthorizedException, "Access Token has expired")
        }
        DomainError::UsernameExists { alias } => ApiError::new(
            K::UsernameExistsException,
            match alias {
                None | Some(AliasKind::PreferredUsername) => "User already exists".to_string(),
                Some(kind) => format!(
                    "An account with the given {} already exists.",
                    kind.as_str()
                ),
            },
        ),
        DomainError::AliasExists { kind } => ApiError::new(
            K::AliasExistsException,
            format!("An account with the {} already exists.", kind.as_str()),
        ),
        DomainError::Invalid(reason) => {
            ApiError::new(K::InvalidParameterException, invalid_message(reason))
        }
        DomainError::InvalidPassword(rule) => ApiError::new(
            K::InvalidPasswordException,
            format!(
                "Password did not conform with policy: {}",
                password_rule(rule)
            ),
        ),
        DomainError::CodeDeliveryFailure => ApiError::new(
            K::CodeDeliveryFailureException,
            "Unable to deliver the verification code.",
        ),
        DomainError::Trigger { kind, failure } => {
            let (kind, message) = trigger_wire(kind, &failure);
            ApiError::new(kind, message)
        }
        DomainError::StoreUnavailable { detail } => {
            tracing::error!(request_id, %detail, "database unavailable");
            crate::metrics::count_store_error();
            ApiError::new(
                K::InternalErrorException,
                "The service is temporarily unable to reach its database.",
            )
        }
        DomainError::Internal { context, detail } => {
            tracing::error!(request_id, %detail, context, "internal error");
            if context == "store" || context == "stored data" {
                crate::metrics::count_store_error();
            }
            ApiError::new(K::InternalErrorException, INTERNAL_MESSAGE)
        }
    }
}

/// AWS's words for a flow the client does not allow (spec i.3; the refresh and USER_AUTH
/// wordings follow the SRP one, as no capture of them is known).
fn flow_not_enabled(flow: AuthFlow) -> &'static str {
    match flow {
        AuthFlow::UserPassword => "USER_PASSWORD_AUTH flow not enabled for this client",
        AuthFlow::AdminUserPassword => "Auth flow not enabled for this client",
        AuthFlow::UserSrp => "USER_SRP_AUTH is not enabled for the client.",
        AuthFlow::Custom => "CUSTOM_AUTH is not enabled for the client.",
        AuthFlow::RefreshToken => "REFRESH_TOKEN_AUTH is not enabled for the client.",
        AuthFlow::UserAuth => "USER_AUTH is not enabled for the client.",
    }
}

fn invalid_message(reason: Invalid) -> String {
    match reason {
        Invalid::SchemaAttributeNameRequired => "Schema attribute name is required.".into(),
        Invalid::CustomAttributeName { name } => format!(
            "Invalid custom attribute name {name}: custom attribute names are 1 to 20 characters."
        ),
        Invalid::AttributeExists { name } => {
            format!("Existing attribute already has name {name}.")
        }
        Invalid::RequiredCustomAttribute => {
            "Required custom attributes are not supported currently.".into()
        }
        Invalid::TooManyCustomAttributes => {
            "A user pool can have at most 50 custom attributes.".into()
        }
        Invalid::AliasAndUsernameAttributes => {
            "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool."
                .into()
        }
        Invalid::SmsMessageWithoutCode => {
            "SmsMessage must contain the code placeholder {####}.".into()
        }
        Invalid::EmailMessageWithoutCode => {
            "EmailMessage must contain the code placeholder {####}.".into()
        }
        Invalid::EmailMessageByLinkRequired => {
            "EmailMessageByLink is required when DefaultEmailOption is CONFIRM_WITH_LINK.".into()
        }
        Invalid::EmailMessageByLinkWithoutLink => {
            "EmailMessageByLink must contain the link placeholder {##...##}.".into()
        }
        Invalid::DeletionProtected => "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.".into(),
        Invalid::MixedAuthFlows => {
            "ExplicitAuthFlows can't have both ALLOW_ and legacy values.".into()
        }
        Invalid::ClientSecretWithoutGenerate => {
            "ClientSecret cannot be set when GenerateSecret is false.".into()
        }
        Invalid::OAuthFlowsAndScopesRequired => "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is allowed to use OAuth flows.".into(),
        Invalid::RedirectUrl { list, url, problem } => {
            let list = match list {
                UrlList::Callback => "Callback",
                UrlList::Logout => "Logout",
            };
            match problem {
                UrlProblem::NotAbsolute => format!("{list} URL {url} is not an absolute URI."),
                UrlProblem::Fragment => format!("{list} URL {url} must not contain a fragment."),
                UrlProblem::Insecure => format!("{list} URL {url} must use HTTPS; HTTP is allowed only for http://localhost, http://127.0.0.1 and http://[::1]."),
            }
        }
        Invalid::DefaultRedirectNotCallback => "DefaultRedirectURI must be one of the CallbackURLs.".into(),
        Invalid::UnknownIdentityProvider { name, pool_id } => {
            format!("The provider {name} does not exist for User Pool {pool_id}")
        }
        Invalid::PaginationToken => "Invalid pagination token.".into(),
        Invalid::ManagedLoginVersion => "ManagedLoginVersion must be 1 or 2.".into(),
        Invalid::CertificateForPrefixDomain => {
            "CustomDomainConfig can only be set for a custom domain.".into()
        }
        Invalid::DuplicateScope { name } => {
            format!("Duplicate scope name {name} in the resource server.")
        }
        Invalid::FilterSyntax => "Error while parsing filter.".into(),
        Invalid::SearchAttribute { name } => format!("Invalid search attribute: {name}"),
        Invalid::PasswordRequired => {
            "Password is required when passwordless sign-in is not enabled for the user pool."
                .into()
        }
        Invalid::CannotAutoVerify { attribute } => {
            format!("Cannot auto-verify {attribute}: the user has no {attribute} attribute.")
        }
        Invalid::AutoVerificationOff => {
            "Cannot resend codes. Auto verification not turned on.".into()
        }
        Invalid::UsernameNotSignInAttribute { email, phone } => match (email, phone) {
            (true, true) => "Username should be either an email or a phone number.",
            (true, false) => "Username should be an email.",
            _ => "Username should be a phone number.",
        }
        .into(),
        Invalid::UsernameLooksLikeAlias { attribute } => {
            let form = if attribute == "email" { "email" } else { "phone" };
            format!(
                "Username cannot be of {form} format, since user pool is configured for {attribute} alias."
            )
        }
        Invalid::UnknownAttribute { name } => format!(
            "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
        ),
        Invalid::Schema { problems } => format!(
            "Attributes did not conform to the schema: {}",
            problems
                .iter()
                .map(schema_problem)
                .collect::<Vec<_>>()
                .join(" ")
        ),
        Invalid::RequiredAttributeMissing { name } => {
            format!("Invalid attributes given, {name} is missing")
        }
        Invalid::NonMutableAttribute { name } => {
            format!("Cannot modify the non-mutable attribute {name}")
        }
        Invalid::EmailFormat => "Invalid email address format.".into(),
        Invalid::PhoneFormat => "Invalid phone number format.".into(),
        Invalid::NoRecoveryContact => "Cannot reset password for the user as there is no registered/verified email or phone_number".into(),
        Invalid::AttributeNotUpdatable { name } => format!("user.{name}: Attribute cannot be updated."),
        Invalid::AttributeNotVerifiable { name } => {
            format!("Attribute {name} cannot be verified: only email and phone_number have verification codes.")
        }
        Invalid::NothingToVerify { name } => format!("The user has no {name} to verify."),
        Invalid::NoDeliveryAddress { medium } => match medium {
            Medium::Email => "No email provided but desired delivery medium was Email".into(),
            Medium::Sms => "No phone_number provided but desired delivery medium was Sms".into(),
        },
    }
}

fn schema_problem(p: &SchemaProblem) -> String {
    match p {
        SchemaProblem::NotANumber { name } => format!("{name}: Number is not valid"),
        SchemaProblem::NotABoolean { name } => format!("{name}: Boolean is not valid"),
        SchemaProblem::TooLong { name, max } => {
            format!("{name}: String must be no longer than {max} characters")
        }
        SchemaProblem::TooShort { name, min } => {
            format!("{name}: String must be no shorter than {min} characters")
        }
        SchemaProblem::Required { name } => format!("{name}: The attribute is required"),
    }
}

fn password_rule(rule: PasswordRule) -> &'static str {
    match rule {
        PasswordRule::TooShort => "Password not long enough",
        PasswordRule::NeedsLowercase => "Password must have lowercase characters",
        PasswordRule::NeedsUppercase => "Password must have uppercase characters",
        PasswordRule::NeedsNumber => "Password must have numeric characters",
        PasswordRule::NeedsSymbol => "Password must have symbol characters",
    }
}

/// The AWS exception and message for a failure of trigger `kind` (spec §d).
pub fn trigger_wire(kind: TriggerKind, failure: &TriggerError) -> (ErrorKind, String) {
    match failure {
        TriggerError::Function { message } => (
            ErrorKind::UserLambdaValidationException,
            format!("{} failed with error {}.", kind.name(), message),
        ),
        TriggerError::Service { code } => (
            ErrorKind::UnexpectedLambdaException,
            format!("{} invocation failed due to error {}", kind.name(), code),
        ),
        TriggerError::InvalidResponse => (
            ErrorKind::InvalidLambdaResponseException,
            "Unrecognizable lambda output".to_string(),
        ),
        // Observed in public reports of `Phone or email cannot be auto verified...`.
        TriggerError::AutoVerifyWithoutConfirm => (
            ErrorKind::InvalidLambdaResponseException,
            "Phone or email cannot be auto verified, when user is not being auto confirmed."
                .to_string(),
        ),
    }
}

/// The errors of the HTTP layer itself (before any operation runs), with AWS's messages.
pub mod protocol {
    use cognate_wire::{ApiError, ErrorKind, Operation};

    pub fn missing_target() -> ApiError {
        ApiError::new(
            ErrorKind::UnknownOperationException,
            "Missing X-Amz-Target header.",
        )
    }

    pub fn unknown_operation(target: &str) -> ApiError {
        // A target of any length is not echoed whole (in the body and a response header).
        const SHOWN: usize = 128;
        let shown: String = target.chars().take(SHOWN).collect();
        let more = if target.chars().count() > SHOWN {
            "…"
        } else {
            ""
        };
        ApiError::new(
            ErrorKind::UnknownOperationException,
            format!("Unknown operation {shown}{more}."),
        )
    }

    pub fn missing_authentication() -> ApiError {
        ApiError::new(
            ErrorKind::MissingAuthenticationTokenException,
            "Request is missing Authentication Token",
        )
    }

    pub fn invalid_signature() -> ApiError {
        ApiError::new(
            ErrorKind::InvalidSignatureException,
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        )
    }

    pub fn unsupported_media_type(given: &str, expected: &str) -> ApiError {
        ApiError::new(
            ErrorKind::UnsupportedMediaTypeException,
            format!("Unsupported Content-Type '{given}': use {expected}."),
        )
    }

    pub fn body_too_large(limit: usize) -> ApiError {
        ApiError::new(
            ErrorKind::RequestEntityTooLargeException,
            format!("Request body is larger than the limit of {limit} bytes."),
        )
    }

    pub fn body_timeout() -> ApiError {
        ApiError::new(
            ErrorKind::RequestTimeoutException,
            "Request body was not received within the read timeout.",
        )
    }

    /// The body's HTTP framing is broken (a bad chunk size, a connection cut mid-body): the
    /// request could not be read, which is not a size problem.
    pub fn malformed_body() -> ApiError {
        ApiError::new(
            ErrorKind::SerializationException,
            "Request body could not be read: malformed HTTP framing.",
        )
    }

    pub fn not_json(detail: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            ErrorKind::SerializationException,
            format!("Request body is not valid JSON: {detail}"),
        )
    }

    pub fn not_an_object() -> ApiError {
        ApiError::new(
            ErrorKind::SerializationException,
            "Request body must be a JSON object.",
        )
    }

    /// A handler returned an error kind the model does not list for its operation: a bug,
    /// answered as an internal error so the wire never carries an unmodelled error.
    pub fn unmodelled(op: Operation, kind: ErrorKind, request_id: &str) -> ApiError {
        tracing::error!(
            request_id,
            operation = op.name(),
            kind = kind.name(),
            "handler returned an error kind the model does not list for this operation"
        );
        ApiError::new(ErrorKind::InternalErrorException, super::INTERNAL_MESSAGE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cognate_core::records::UserStatus;

    fn wire(e: DomainError) -> (ErrorKind, String) {
        let e = to_wire(e, "test");
        (e.kind, e.message)
    }

    fn invalid(reason: Invalid) -> String {
        let (kind, message) = wire(DomainError::Invalid(reason));
        assert_eq!(kind, ErrorKind::InvalidParameterException);
        message
    }

    #[test]
    fn resources() {
        assert_eq!(
            wire(DomainError::PoolNotFound {
                pool_id: "us-east-1_x".into()
            }),
            (
                ErrorKind::ResourceNotFoundException,
                "User pool us-east-1_x does not exist.".into()
            )
        );
        assert_eq!(
            wire(DomainError::ClientNotFound {
                client_id: "abc".into()
            }),
            (
                ErrorKind::ResourceNotFoundException,
                "User pool client abc does not exist.".into()
            )
        );
        assert_eq!(
            wire(DomainError::UserNotFound),
            (
                ErrorKind::UserNotFoundException,
                "User does not exist.".into()
            )
        );
        assert_eq!(
            wire(DomainError::UsernameClientNotFound),
            (
                ErrorKind::UserNotFoundException,
                "Username/client id combination not found.".into()
            )
        );
    }

    #[test]
    fn domains_and_resource_servers() {
        let invalid_parameter = |e| {
            let (kind, message) = wire(e);
            assert_eq!(kind, ErrorKind::InvalidParameterException);
            message
        };
        assert_eq!(
            invalid_parameter(DomainError::DomainNotFound),
            "No such domain or user pool exists."
        );
        assert_eq!(
            invalid_parameter(DomainError::DomainTaken),
            "Domain already associated with another user pool."
        );
        assert_eq!(
            invalid_parameter(DomainError::PoolHasDomain),
            "User pool already has a domain configured."
        );
        assert_eq!(
            invalid_parameter(DomainError::ResourceServerExists {
                identifier: "https://api".into()
            }),
            "A resource server with identifier https://api already exists in the user pool."
        );
        assert_eq!(
            wire(DomainError::ResourceServerNotFound {
                identifier: "https://api".into()
            }),
            (
                ErrorKind::ResourceNotFoundException,
                "Resource server https://api does not exist.".into()
            )
        );
        assert_eq!(
            wire(DomainError::TooManyResourceServers),
            (
                ErrorKind::LimitExceededException,
                "A user pool cannot have more than 25 resource servers.".into()
            )
        );
        assert_eq!(
            invalid(Invalid::ManagedLoginVersion),
            "ManagedLoginVersion must be 1 or 2."
        );
        assert_eq!(
            invalid(Invalid::CertificateForPrefixDomain),
            "CustomDomainConfig can only be set for a custom domain."
        );
        assert_eq!(
            invalid(Invalid::DuplicateScope {
                name: "read".into()
            }),
            "Duplicate scope name read in the resource server."
        );
    }

    #[test]
    fn client_oauth_settings() {
        assert_eq!(
            wire(DomainError::ScopeDoesNotExist {
                scope: "Cognito".into()
            }),
            (
                ErrorKind::ScopeDoesNotExistException,
                "Invalid scope requested: Cognito".into()
            )
        );
        assert_eq!(
            wire(DomainError::ClientCredentialsWithoutSecret),
            (
                ErrorKind::InvalidOAuthFlowException,
                "client_credentials flow can not be selected if client does not have a client secret.".into()
            )
        );
        assert_eq!(
            wire(DomainError::ClientCredentialsNotAlone),
            (
                ErrorKind::InvalidOAuthFlowException,
                "client_credentials flow can not be selected along with code flow or implicit flow.".into()
            )
        );
        assert_eq!(
            invalid(Invalid::OAuthFlowsAndScopesRequired),
            "AllowedOAuthFlows and AllowedOAuthScopes are required if user pool client is allowed to use OAuth flows."
        );
        assert_eq!(
            invalid(Invalid::RedirectUrl {
                list: UrlList::Logout,
                url: "http://a".into(),
                problem: UrlProblem::Insecure
            }),
            "Logout URL http://a must use HTTPS; HTTP is allowed only for http://localhost, http://127.0.0.1 and http://[::1]."
        );
        assert_eq!(
            invalid(Invalid::RedirectUrl {
                list: UrlList::Callback,
                url: "https://a#b".into(),
                problem: UrlProblem::Fragment
            }),
            "Callback URL https://a#b must not contain a fragment."
        );
        assert_eq!(
            invalid(Invalid::RedirectUrl {
                list: UrlList::Callback,
                url: "a".into(),
                problem: UrlProblem::NotAbsolute
            }),
            "Callback URL a is not an absolute URI."
        );
        assert_eq!(
            invalid(Invalid::DefaultRedirectNotCallback),
            "DefaultRedirectURI must be one of the CallbackURLs."
        );
        assert_eq!(
            invalid(Invalid::UnknownIdentityProvider {
                name: "Google".into(),
                pool_id: "us-east-1_x".into()
            }),
            "The provider Google does not exist for User Pool us-east-1_x"
        );
    }

    #[test]
    fn authorisation() {
        assert_eq!(
            wire(DomainError::SecretHashMissing {
                client_id: "abc".into()
            }),
            (
                ErrorKind::NotAuthorizedException,
                "Client abc is configured for secret but secret was not received".into()
            )
        );
        assert_eq!(
            wire(DomainError::SecretHashWrong {
                client_id: "abc".into()
            }),
            (
                ErrorKind::NotAuthorizedException,
                "Unable to verify secret hash for client abc".into()
            )
        );
        assert_eq!(
            wire(DomainError::SignUpNotPermitted),
            (
                ErrorKind::NotAuthorizedException,
                "SignUp is not permitted for this user pool".into()
            )
        );
        assert_eq!(
            wire(DomainError::UnauthorizedAttribute),
            (
                ErrorKind::NotAuthorizedException,
                "A client attempted to write unauthorized attribute".into()
            )
        );
        assert_eq!(
            wire(DomainError::CannotConfirm {
                status: UserStatus::Confirmed
            }),
            (
                ErrorKind::NotAuthorizedException,
                "User cannot be confirmed. Current status is CONFIRMED".into()
            )
        );
    }

    #[test]
    fn codes() {
        assert_eq!(
            wire(DomainError::CodeMismatch),
            (
                ErrorKind::CodeMismatchException,
                "Invalid verification code provided, please try again.".into()
            )
        );
        assert_eq!(
            wire(DomainError::ExpiredCode),
            (
                ErrorKind::ExpiredCodeException,
                "Invalid code provided, please request a code again.".into()
            )
        );
        assert_eq!(
            wire(DomainError::AttemptLimit),
            (
                ErrorKind::LimitExceededException,
                "Attempt limit exceeded, please try after some time.".into()
            )
        );
        assert_eq!(
            wire(DomainError::AlreadyConfirmed),
            (
                ErrorKind::InvalidParameterException,
                "User is already confirmed.".into()
            )
        );
    }

    #[test]
    fn sign_in_and_tokens() {
        let not_authorized = |e| {
            let (kind, message) = wire(e);
            assert_eq!(kind, ErrorKind::NotAuthorizedException);
            message
        };
        assert_eq!(
            not_authorized(DomainError::IncorrectCredentials),
            "Incorrect username or password."
        );
        assert_eq!(
            not_authorized(DomainError::UserDisabled),
            "User is disabled."
        );
        assert_eq!(
            wire(DomainError::RefreshTokenReused),
            (
                ErrorKind::RefreshTokenReuseException,
                "Refresh Token has been reused.".into()
            )
        );
        assert_eq!(
            wire(DomainError::RefreshTokenRotationOn).0,
            ErrorKind::InvalidParameterException
        );
        assert_eq!(
            not_authorized(DomainError::InvalidSession),
            "Invalid session for the user."
        );
        assert_eq!(
            not_authorized(DomainError::SessionExpired),
            "Invalid session for the user, session is expired."
        );
        assert_eq!(
            not_authorized(DomainError::SessionUsed),
            "Invalid session for the user, session can only be used once."
        );
        assert_eq!(
            wire(DomainError::CustomAuthNotConfigured),
            (
                ErrorKind::InvalidUserPoolConfigurationException,
                "Custom auth lambda trigger is not configured for the user pool.".into()
            )
        );
        assert_eq!(
            wire(DomainError::ChallengeNotOffered).0,
            ErrorKind::InvalidParameterException
        );
        assert_eq!(
            wire(DomainError::InvalidSrpA),
            (
                ErrorKind::InvalidParameterException,
                "SRP_A is not a valid value.".into()
            )
        );
        assert_eq!(
            not_authorized(DomainError::PasswordAttemptsExceeded),
            "Password attempts exceeded"
        );
        assert_eq!(
            not_authorized(DomainError::AccessTokenRevoked),
            "Access Token has been revoked"
        );
        assert_eq!(
            not_authorized(DomainError::TemporaryPasswordExpired),
            "Temporary password has expired and must be reset by an administrator."
        );
        assert_eq!(
            wire(DomainError::RevocationDisabled),
            (
                ErrorKind::UnsupportedOperationException,
                "Token revocation is not enabled for this client.".into()
            )
        );
        assert_eq!(
            wire(DomainError::ClientCredentials),
            (
                ErrorKind::UnauthorizedException,
                "Invalid client credentials.".into()
            )
        );
        assert_eq!(
            not_authorized(DomainError::InvalidRefreshToken),
            "Invalid Refresh Token."
        );
        assert_eq!(
            not_authorized(DomainError::RefreshTokenRevoked),
            "Refresh Token has been revoked"
        );
        assert_eq!(
            not_authorized(DomainError::RefreshTokenExpired),
            "Refresh Token has expired"
        );
        assert_eq!(
            not_authorized(DomainError::InvalidAccessToken),
            "Invalid Access Token"
        );
        assert_eq!(
            not_authorized(DomainError::AccessTokenExpired),
            "Access Token has expired"
        );
        assert_eq!(
            wire(DomainError::UserNotConfirmed),
            (
                ErrorKind::UserNotConfirmedException,
                "User is not confirmed.".into()
            )
        );
        assert_eq!(
            wire(DomainError::PasswordResetRequired),
            (
                ErrorKind::PasswordResetRequiredException,
                "Password reset required for the user".into()
            )
        );
        assert_eq!(
            wire(DomainError::InitiateAuthMethodNotSupported),
            (
                ErrorKind::InvalidParameterException,
                "Initiate Auth method not supported.".into()
            )
        );
        assert_eq!(
            wire(DomainError::MissingParameter { name: "USERNAME" }).1,
            "Missing required parameter USERNAME"
        );
        assert_eq!(
            wire(DomainError::NotSupportedYet {
                what: "USER_SRP_AUTH"
            }),
            (
                ErrorKind::InvalidParameterException,
                "USER_SRP_AUTH is not supported by this Cognate server yet.".into()
            )
        );
        for (flow, message) in [
            (
                AuthFlow::UserPassword,
                "USER_PASSWORD_AUTH flow not enabled for this client",
            ),
            (
                AuthFlow::AdminUserPassword,
                "Auth flow not enabled for this client",
            ),
            (
                AuthFlow::UserSrp,
                "USER_SRP_AUTH is not enabled for the client.",
            ),
            (
                AuthFlow::Custom,
                "CUSTOM_AUTH is not enabled for the client.",
            ),
            (
                AuthFlow::RefreshToken,
                "REFRESH_TOKEN_AUTH is not enabled for the client.",
            ),
            (
                AuthFlow::UserAuth,
                "USER_AUTH is not enabled for the client.",
            ),
        ] {
            assert_eq!(
                wire(DomainError::AuthFlowNotEnabled { flow }),
                (ErrorKind::InvalidParameterException, message.into())
            );
        }
    }

    #[test]
    fn uniqueness() {
        assert_eq!(
            wire(DomainError::UsernameExists { alias: None }),
            (
                ErrorKind::UsernameExistsException,
                "User already exists".into()
            )
        );
        assert_eq!(
            wire(DomainError::UsernameExists {
                alias: Some(AliasKind::Email)
            })
            .1,
            "An account with the given email already exists."
        );
        assert_eq!(
            wire(DomainError::UsernameExists {
                alias: Some(AliasKind::PreferredUsername)
            })
            .1,
            "User already exists"
        );
        assert_eq!(
            wire(DomainError::AliasExists {
                kind: AliasKind::Email
            }),
            (
                ErrorKind::AliasExistsException,
                "An account with the email already exists.".into()
            )
        );
    }

    #[test]
    fn recovery_and_attribute_changes() {
        assert_eq!(
            wire(DomainError::RecoveryAdminOnly),
            (
                ErrorKind::NotAuthorizedException,
                "Contact administrator to reset password.".into()
            )
        );
        assert_eq!(
            wire(DomainError::CannotResetPassword),
            (
                ErrorKind::NotAuthorizedException,
                "User password cannot be reset in the current state.".into()
            )
        );
        assert_eq!(
            wire(DomainError::PasswordReused),
            (
                ErrorKind::PasswordHistoryPolicyViolationException,
                "Password has previously been used".into()
            )
        );
        assert_eq!(
            invalid(Invalid::NoRecoveryContact),
            "Cannot reset password for the user as there is no registered/verified email or phone_number"
        );
        assert_eq!(
            invalid(Invalid::AttributeNotUpdatable {
                name: "custom:team".into()
            }),
            "user.custom:team: Attribute cannot be updated."
        );
        assert_eq!(
            invalid(Invalid::NothingToVerify {
                name: "phone_number".into()
            }),
            "The user has no phone_number to verify."
        );
        assert!(invalid(Invalid::AttributeNotVerifiable {
            name: "name".into()
        })
        .contains("name cannot be verified"));
    }

    #[test]
    fn invalid_input_messages() {
        assert_eq!(
            invalid(Invalid::AliasAndUsernameAttributes),
            "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool."
        );
        assert_eq!(
            invalid(Invalid::UsernameNotSignInAttribute {
                email: true,
                phone: true
            }),
            "Username should be either an email or a phone number."
        );
        assert_eq!(
            invalid(Invalid::UsernameLooksLikeAlias {
                attribute: "phone_number"
            }),
            "Username cannot be of phone format, since user pool is configured for phone_number alias."
        );
        assert_eq!(
            invalid(Invalid::UsernameLooksLikeAlias { attribute: "email" }),
            "Username cannot be of email format, since user pool is configured for email alias."
        );
        assert_eq!(
            invalid(Invalid::UnknownAttribute {
                name: "custom:x".into()
            }),
            "Attributes did not conform to the schema: Type for attribute {custom:x} could not be determined"
        );
        assert_eq!(
            invalid(Invalid::Schema {
                problems: vec![
                    SchemaProblem::TooLong {
                        name: "name".into(),
                        max: 2048
                    },
                    SchemaProblem::Required {
                        name: "email".into()
                    },
                ]
            }),
            "Attributes did not conform to the schema: name: String must be no longer than 2048 characters email: The attribute is required"
        );
        assert_eq!(
            invalid(Invalid::SearchAttribute {
                name: "custom:x".into()
            }),
            "Invalid search attribute: custom:x"
        );
        assert_eq!(
            invalid(Invalid::PasswordRequired),
            "Password is required when passwordless sign-in is not enabled for the user pool."
        );
        assert_eq!(
            invalid(Invalid::AutoVerificationOff),
            "Cannot resend codes. Auto verification not turned on."
        );
        assert_eq!(
            invalid(Invalid::FilterSyntax),
            "Error while parsing filter."
        );
        assert_eq!(
            invalid(Invalid::PaginationToken),
            "Invalid pagination token."
        );
        assert_eq!(
            invalid(Invalid::EmailFormat),
            "Invalid email address format."
        );
        assert_eq!(
            invalid(Invalid::RequiredAttributeMissing {
                name: "name".into()
            }),
            "Invalid attributes given, name is missing"
        );
        assert_eq!(
            invalid(Invalid::NonMutableAttribute {
                name: "email_verified".into()
            }),
            "Cannot modify the non-mutable attribute email_verified"
        );
        assert_eq!(
            invalid(Invalid::PhoneFormat),
            "Invalid phone number format."
        );
        for reason in [
            Invalid::SchemaAttributeNameRequired,
            Invalid::CustomAttributeName { name: "x".into() },
            Invalid::RequiredCustomAttribute,
            Invalid::TooManyCustomAttributes,
            Invalid::SmsMessageWithoutCode,
            Invalid::EmailMessageWithoutCode,
            Invalid::EmailMessageByLinkRequired,
            Invalid::EmailMessageByLinkWithoutLink,
            Invalid::DeletionProtected,
            Invalid::MixedAuthFlows,
            Invalid::ClientSecretWithoutGenerate,
            Invalid::CannotAutoVerify {
                attribute: "email".into(),
            },
        ] {
            assert!(!invalid(reason).is_empty());
        }
    }

    #[test]
    fn passwords_in_aws_words() {
        for (rule, text) in [
            (PasswordRule::TooShort, "Password not long enough"),
            (
                PasswordRule::NeedsLowercase,
                "Password must have lowercase characters",
            ),
            (
                PasswordRule::NeedsUppercase,
                "Password must have uppercase characters",
            ),
            (
                PasswordRule::NeedsNumber,
                "Password must have numeric characters",
            ),
            (
                PasswordRule::NeedsSymbol,
                "Password must have symbol characters",
            ),
        ] {
            assert_eq!(
                wire(DomainError::InvalidPassword(rule)),
                (
                    ErrorKind::InvalidPasswordException,
                    format!("Password did not conform with policy: {text}")
                )
            );
        }
    }

    #[test]
    fn collaborators_reveal_nothing_of_their_details() {
        let (kind, message) = wire(DomainError::CodeDeliveryFailure);
        assert_eq!(kind, ErrorKind::CodeDeliveryFailureException);
        assert_eq!(message, "Unable to deliver the verification code.");
        let (kind, message) = wire(DomainError::StoreUnavailable {
            detail: "db.internal:5432 refused".into(),
        });
        assert_eq!(kind, ErrorKind::InternalErrorException);
        assert!(!message.contains("db.internal"));
        let (kind, message) = wire(DomainError::internal("store", "secret detail"));
        assert_eq!(kind, ErrorKind::InternalErrorException);
        assert!(!message.contains("secret"));
    }

    #[test]
    fn triggers() {
        let e = |failure| {
            wire(DomainError::Trigger {
                kind: TriggerKind::PreSignUp,
                failure,
            })
        };
        assert_eq!(
            e(TriggerError::Function {
                message: "no".into()
            }),
            (
                ErrorKind::UserLambdaValidationException,
                "PreSignUp failed with error no.".into()
            )
        );
        assert_eq!(
            e(TriggerError::Service {
                code: "Throttled".into()
            }),
            (
                ErrorKind::UnexpectedLambdaException,
                "PreSignUp invocation failed due to error Throttled".into()
            )
        );
        assert_eq!(
            e(TriggerError::InvalidResponse),
            (
                ErrorKind::InvalidLambdaResponseException,
                "Unrecognizable lambda output".into()
            )
        );
        assert_eq!(
            e(TriggerError::AutoVerifyWithoutConfirm),
            (
                ErrorKind::InvalidLambdaResponseException,
                "Phone or email cannot be auto verified, when user is not being auto confirmed."
                    .into()
            )
        );
    }
}
