//! Cognate's domain: what a Cognito user pool is and does, with no HTTP, SQL, SMTP or AWS SDK
//! in sight. `Service` runs each operation's flow over the ports it is given (`ports`):
//! storage, message delivery, triggers and the clock. The rules that decide a write are plain
//! functions (`rules`), run by the store inside its transaction. Failures are `DomainError`s;
//! the server maps them to AWS's wire errors. See ARCHITECTURE.md.

pub mod clock;
pub mod config;
pub mod delivery;
pub mod error;
pub mod events;
pub mod ports;
pub mod records;
pub mod rules;
pub mod service;
pub mod settings;
pub mod template;
pub mod triggers;

pub use error::{
    DomainError, DomainResult, Invalid, PasswordRule, SchemaProblem, UrlList, UrlProblem,
};
pub use service::{Caller, Service, ServiceSettings};
