//! One error type for the fallible primitives, so callers can map every cryptographic failure
//! to a single Cognito error without caring which primitive produced it.

/// Why a cryptographic operation could not be carried out.
///
/// A wrong password, code or signature is not an error: those functions return `false` (or
/// `Ok(false)`). Errors mean the inputs themselves were unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Argon2 parameters out of the range the algorithm accepts.
    #[error("invalid Argon2 parameters: {0}")]
    InvalidArgon2Params(String),
    /// The password hasher failed (e.g. the password is longer than Argon2 accepts).
    #[error("password hashing failed: {0}")]
    Hashing(String),
    /// A value that must be hexadecimal was empty or contained a non-hex character.
    #[error("{0} is not valid hexadecimal")]
    InvalidHex(&'static str),
    /// A value that must be standard Base64 could not be decoded.
    #[error("{0} is not valid base64")]
    InvalidBase64(&'static str),
    /// An SRP value that the protocol forbids (A ≡ 0 mod N, u = 0, B ≡ 0 mod N, b = 0).
    #[error("illegal SRP parameter: {0}")]
    IllegalSrpParameter(&'static str),
    /// An RSA key could not be generated, encoded or decoded.
    #[error("RSA key: {0}")]
    Key(String),
}
