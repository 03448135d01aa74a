//! The user-pool triggers and how an invocation can fail, in domain terms. The exact AWS
//! error for each failure is the server's mapping.

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
    /// PreSignUp answered `autoVerifyEmail`/`autoVerifyPhone` without
    /// `autoConfirmUser` (AWS answers this with a message of its own).
    #[error("PreSignUp auto-verifies without auto-confirming")]
    AutoVerifyWithoutConfirm,
}
