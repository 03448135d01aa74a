//! Cognito user-pool Lambda triggers: event construction, invocation and
//! response validation.
//!
//! The server decides *when* a trigger fires. This crate builds the exact
//! event AWS sends (see `events`), invokes the configured function through the
//! real Lambda `Invoke` API (or a webhook, see [`TriggerConfig::webhooks`]),
//! and reports every failure as a [`TriggerError`] (the server maps it to AWS's error).

use std::collections::BTreeMap;
use std::time::Duration;

/// Events and trigger kinds are the domain's; re-exported for this crate's users.
pub use cognate_core::events;
pub use cognate_core::triggers::{
    TriggerError, TriggerKind, CONNECTION_ERROR_CODE, TIMEOUT_ERROR_CODE,
};
mod invoker;

#[cfg(feature = "test-support")]
pub mod test_support;

pub use invoker::TriggerInvoker;

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

/// The domain's port for triggers.
#[async_trait::async_trait]
impl cognate_core::ports::TriggerInvoker for TriggerInvoker {
    async fn invoke(
        &self,
        kind: TriggerKind,
        function: &str,
        event: &serde_json::Value,
    ) -> Result<serde_json::Value, TriggerError> {
        TriggerInvoker::invoke(self, kind, function, event).await
    }
}
