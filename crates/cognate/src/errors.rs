//! The one place where service-level failures become AWS wire errors: the exact
//! `__type` and message strings clients match on (spec §b, §c), and the mapping of store
//! failures. Handlers call these constructors instead of writing messages inline.

use cognate_wire::{ApiError, ErrorKind};

use crate::store::{AliasKind, Conflict, StoreError};

pub fn invalid_parameter(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidParameterException, message)
}

pub fn not_authorized(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::NotAuthorizedException, message)
}

pub fn pool_not_found(pool_id: &str) -> ApiError {
    ApiError::new(
        ErrorKind::ResourceNotFoundException,
        format!("User pool {pool_id} does not exist."),
    )
}

pub fn client_not_found(client_id: &str) -> ApiError {
    ApiError::new(
        ErrorKind::ResourceNotFoundException,
        format!("User pool client {client_id} does not exist."),
    )
}

pub fn user_not_found() -> ApiError {
    ApiError::new(ErrorKind::UserNotFoundException, "User does not exist.")
}

/// Unknown user on the client-facing code operations in LEGACY mode.
pub fn username_client_not_found() -> ApiError {
    ApiError::new(
        ErrorKind::UserNotFoundException,
        "Username/client id combination not found.",
    )
}

pub fn secret_hash_missing(client_id: &str) -> ApiError {
    not_authorized(format!(
        "Client {client_id} is configured for secret but secret was not received"
    ))
}

pub fn secret_hash_wrong(client_id: &str) -> ApiError {
    not_authorized(format!(
        "Unable to verify secret hash for client {client_id}"
    ))
}

pub fn code_mismatch() -> ApiError {
    ApiError::new(
        ErrorKind::CodeMismatchException,
        "Invalid verification code provided, please try again.",
    )
}

pub fn expired_code() -> ApiError {
    ApiError::new(
        ErrorKind::ExpiredCodeException,
        "Invalid code provided, please request a code again.",
    )
}

pub fn attempt_limit() -> ApiError {
    ApiError::new(
        ErrorKind::LimitExceededException,
        "Attempt limit exceeded, please try after some time.",
    )
}

pub fn cannot_confirm(status: &str) -> ApiError {
    not_authorized(format!(
        "User cannot be confirmed. Current status is {status}"
    ))
}

pub fn username_exists(kind: Option<AliasKind>) -> ApiError {
    let message = match kind {
        None | Some(AliasKind::PreferredUsername) => "User already exists".to_string(),
        Some(k) => format!("An account with the given {} already exists.", k.as_str()),
    };
    ApiError::new(ErrorKind::UsernameExistsException, message)
}

pub fn alias_exists(kind: AliasKind) -> ApiError {
    let what = match kind {
        AliasKind::Email => "email",
        AliasKind::PhoneNumber => "phone_number",
        AliasKind::PreferredUsername => "preferred_username",
    };
    ApiError::new(
        ErrorKind::AliasExistsException,
        format!("An account with the {what} already exists."),
    )
}

pub fn invalid_password(reason: &str) -> ApiError {
    ApiError::new(
        ErrorKind::InvalidPasswordException,
        format!("Password did not conform with policy: {reason}"),
    )
}

pub fn code_delivery_failure(detail: &str) -> ApiError {
    ApiError::new(
        ErrorKind::CodeDeliveryFailureException,
        format!("Unable to deliver the verification code: {detail}"),
    )
}

pub fn internal(context: &str, detail: impl std::fmt::Display) -> ApiError {
    // The detail goes to the log only; clients get a generic message.
    tracing::error!(%detail, context, "internal error");
    ApiError::new(
        ErrorKind::InternalErrorException,
        "An internal error occurred while processing the request.",
    )
}

/// The single mapping of store failures to the wire.
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(Conflict::Username) => username_exists(None),
        StoreError::Conflict(Conflict::Alias(kind)) => username_exists(Some(kind)),
        StoreError::Unavailable(detail) => {
            tracing::error!(%detail, "database unavailable");
            ApiError::new(
                ErrorKind::InternalErrorException,
                "The service is temporarily unable to reach its database.",
            )
        }
        StoreError::Corrupt(detail) | StoreError::Config(detail) | StoreError::Database(detail) => {
            internal("store", detail)
        }
    }
}

/// Extension to write `store.call().await.map_err(store_error)?` as `.or_wire()?`.
pub trait OrWire<T> {
    fn or_wire(self) -> Result<T, ApiError>;
}

impl<T> OrWire<T> for Result<T, StoreError> {
    fn or_wire(self) -> Result<T, ApiError> {
        self.map_err(store_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_map_to_wire() {
        let e = store_error(StoreError::Conflict(Conflict::Username));
        assert_eq!(e.kind, ErrorKind::UsernameExistsException);
        assert_eq!(e.message, "User already exists");
        let e = store_error(StoreError::Conflict(Conflict::Alias(AliasKind::Email)));
        assert_eq!(e.message, "An account with the given email already exists.");
        let e = store_error(StoreError::Unavailable("x".into()));
        assert_eq!(e.kind, ErrorKind::InternalErrorException);
        assert!(!e.message.contains('x'));
        let e = store_error(StoreError::Database("secret detail".into()));
        assert_eq!(e.kind, ErrorKind::InternalErrorException);
        assert!(!e.message.contains("secret"));
    }

    #[test]
    fn messages_match_aws() {
        assert_eq!(
            cannot_confirm("CONFIRMED").message,
            "User cannot be confirmed. Current status is CONFIRMED"
        );
        assert_eq!(
            secret_hash_missing("abc").message,
            "Client abc is configured for secret but secret was not received"
        );
        assert_eq!(
            secret_hash_wrong("abc").message,
            "Unable to verify secret hash for client abc"
        );
        assert_eq!(
            alias_exists(AliasKind::Email).message,
            "An account with the email already exists."
        );
        assert_eq!(
            invalid_password("Password not long enough").message,
            "Password did not conform with policy: Password not long enough"
        );
        assert_eq!(attempt_limit().kind, ErrorKind::LimitExceededException);
    }
}
