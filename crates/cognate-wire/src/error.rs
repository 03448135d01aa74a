//! The error every operation returns on the wire.

use std::fmt;

use crate::{ErrorKind, Operation};

/// An error response: `{"__type": kind.name(), "message": message}` with
/// status `kind.http_status()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ApiError {
            kind,
            message: message.into(),
        }
    }

    /// `NotImplementedException` for an operation Cognate does not implement.
    pub fn not_implemented(op: Operation) -> Self {
        ApiError::new(
            ErrorKind::NotImplementedException,
            format!("Operation {} is not implemented by Cognate.", op.name()),
        )
    }

    /// Shorthand for `self.kind.http_status()`.
    pub fn http_status(&self) -> u16 {
        self.kind.http_status()
    }

    /// The JSON error body: `{"__type": "<Kind>", "message": "<message>"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "__type": self.kind.name(), "message": self.message })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.name(), self.message)
    }
}

impl std::error::Error for ApiError {}
