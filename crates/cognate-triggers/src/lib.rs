//! Cognito user-pool Lambda triggers: event construction, invocation and
//! response validation.
//!
//! The server decides *when* a trigger fires. This crate builds the exact
//! event AWS sends (see `events`), invokes the configured function through the
//! real Lambda `Invoke` API (or a webhook, see [`TriggerConfig::webhooks`]),
//! and maps every failure to the error AWS reports (see [`TriggerError::to_wire`]).

use std::collections::BTreeMap;
use std::time::Duration;

pub mod events;
mod invoker;

#[cfg(feature = "test-support")]
pub mod test_support;

pub use invoker::TriggerInvoker;

/// The user-pool triggers, named as in `LambdaConfig` and in AWS error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    PreSignUp,
    CustomMessage,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    PreTokenGeneration,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
    UserMigration,
}

impl TriggerKind {
    /// The trigger name AWS uses in `UserLambdaValidationException` /
    /// `UnexpectedLambdaException` messages (`PreSignUp failed with error ...`).
    pub fn name(&self) -> &'static str {
        match self {
            TriggerKind::PreSignUp => "PreSignUp",
            TriggerKind::CustomMessage => "CustomMessage",
            TriggerKind::PostConfirmation => "PostConfirmation",
            TriggerKind::PreAuthentication => "PreAuthentication",
            TriggerKind::PostAuthentication => "PostAuthentication",
            TriggerKind::PreTokenGeneration => "PreTokenGeneration",
            TriggerKind::DefineAuthChallenge => "DefineAuthChallenge",
            TriggerKind::CreateAuthChallenge => "CreateAuthChallenge",
            TriggerKind::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
            TriggerKind::UserMigration => "UserMigration",
        }
    }
}

impl std::fmt::Display for TriggerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How triggers are invoked.
#[derive(Clone, Debug)]
pub struct TriggerConfig {
    /// Function ARN (or plain function name) → `http://` / `https://` URL.
    /// A function listed here is not invoked through Lambda: the event is
    /// POSTed as JSON to the URL, which answers with the event (a webhook).
    /// An ARN is also matched by its function-name part.
    pub webhooks: BTreeMap<String, String>,
    /// Per-attempt timeout (AWS: 5 s).
    pub timeout: Duration,
    /// Attempts on service errors and timeouts (AWS: 3). Function errors
    /// and invalid output are never retried.
    pub max_attempts: u32,
}

impl Default for TriggerConfig {
    fn default() -> Self {
        TriggerConfig {
            webhooks: BTreeMap::new(),
            timeout: Duration::from_secs(5),
            max_attempts: 3,
        }
    }
}

/// The error text AWS reports when a trigger's invocation timed out
/// (`PreSignUp invocation failed due to error Socket timeout while invoking
/// Lambda function.`), observed in several public issue threads.
pub const TIMEOUT_ERROR_CODE: &str = "Socket timeout while invoking Lambda function.";

/// Used when the function endpoint could not be reached at all.
pub const CONNECTION_ERROR_CODE: &str = "Connection error while invoking Lambda function.";

/// Why a trigger did not produce a usable response.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum TriggerError {
    /// The function ran and failed (threw / returned an error).
    #[error("trigger function failed: {message}")]
    Function { message: String },
    /// Lambda (or the webhook's server) could not run the function:
    /// not found, access denied, throttled, timed out, 5xx, ...
    #[error("trigger invocation failed: {code}")]
    Service { code: String },
    /// The function's output is not a usable event.
    #[error("unrecognizable trigger output")]
    InvalidResponse,
    /// The function's output broke a rule for which AWS reports a specific
    /// message, e.g. PreSignUp `autoVerifyEmail` without `autoConfirmUser`.
    #[error("invalid trigger output: {message}")]
    InvalidResponseMessage { message: String },
}

impl TriggerError {
    /// The AWS exception name and message for this failure of trigger `kind`.
    pub fn to_wire(&self, kind: TriggerKind) -> (&'static str, String) {
        match self {
            TriggerError::Function { message } => (
                "UserLambdaValidationException",
                format!("{} failed with error {}.", kind.name(), message),
            ),
            TriggerError::Service { code } => (
                "UnexpectedLambdaException",
                format!("{} invocation failed due to error {}", kind.name(), code),
            ),
            TriggerError::InvalidResponse => (
                "InvalidLambdaResponseException",
                "Unrecognizable lambda output".to_string(),
            ),
            TriggerError::InvalidResponseMessage { message } => {
                ("InvalidLambdaResponseException", message.clone())
            }
        }
    }
}
