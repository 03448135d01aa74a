//! JSON <-> typed input/output conversion used by the generated dispatcher.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{ApiError, ErrorKind};

/// An absent body (`null`) means an empty input, `{}`.
pub fn normalize_body(body: serde_json::Value) -> serde_json::Value {
    match body {
        serde_json::Value::Null => serde_json::Value::Object(serde_json::Map::new()),
        other => other,
    }
}

/// Deserialises a (validated) request body; failure is `SerializationException`.
pub fn decode_input<T: DeserializeOwned>(body: serde_json::Value) -> Result<T, ApiError> {
    serde_json::from_value(body).map_err(|e| {
        ApiError::new(
            ErrorKind::SerializationException,
            format!("Cannot deserialize the request body: {e}"),
        )
    })
}

/// Serialises an output; failure (which generated types cannot produce) is
/// `InternalErrorException`.
pub fn encode_output<T: Serialize>(output: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(output).map_err(|e| {
        ApiError::new(
            ErrorKind::InternalErrorException,
            format!("Cannot serialize the response: {e}"),
        )
    })
}

/// The body of an operation without output: `{}`.
pub fn unit_output() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}
