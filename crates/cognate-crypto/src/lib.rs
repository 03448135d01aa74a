//! Cryptographic building blocks for Cognate: SecretHash checks, password storage, Cognito's
//! SRP variant, RS256 tokens, confirmation codes, destination masking and identifier generation.
//!
//! Everything here is pure computation (no IO, no async) so the server can call it from any
//! context and the behaviour can be pinned down by deterministic test vectors.

pub mod codes;
pub mod ids;
pub mod jwt;
pub mod mask;
pub mod password;
pub mod seal;
pub mod secret_hash;
pub mod srp;

mod error;
mod mac;

pub use error::CryptoError;
