//! Per-request information handed to every service method.

use crate::Operation;

/// Who called which operation; built by the HTTP layer before dispatch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The `x-amzn-RequestId` of this request.
    pub request_id: String,
    pub operation: Operation,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestContext {
    /// A context without source IP or user agent.
    pub fn new(request_id: impl Into<String>, operation: Operation) -> Self {
        RequestContext {
            request_id: request_id.into(),
            operation,
            source_ip: None,
            user_agent: None,
        }
    }
}
