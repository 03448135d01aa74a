//! Input validation with the messages AWS's Coral framework produces.
//!
//! Two kinds of failure, checked in one pass over the body:
//! - a member whose JSON type does not fit its shape (or a body that is not an
//!   object) is a `SerializationException`, reported at once;
//! - constraint violations (missing required member, length, value range,
//!   pattern, enum) are all collected, in member order, into one
//!   `InvalidParameterException`:
//!   `2 validation errors detected: Value '' at 'confirmationCode' failed to
//!   satisfy constraint: Member must satisfy regular expression pattern:
//!   [\S]+; Value '' at 'confirmationCode' failed to satisfy constraint:
//!   Member must have length greater than or equal to 1`.
//!
//! Values of sensitive shapes are never echoed (`Value at 'password' …`).
//! For one member, the pattern is reported before the length, as Cognito
//! does. Constraints on the elements of a list of scalars, and on map keys
//! and scalar map values, are reported once for the whole collection in
//! Coral's bracketed form (`Member must satisfy constraint: [...]`,
//! `Map keys must satisfy constraint: [...]`,
//! `Map value must satisfy constraint: [...]`), listing every constraint of
//! the element shape. Structures inside lists are validated member by member
//! at `<list>.<n>.member.<member>` (1-based).

use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use crate::schema::{ShapeKind, ShapeMeta};
use crate::{ApiError, ErrorKind, ShapeId, PATTERNS, PATTERN_COUNT};

static REGEXES: [OnceLock<Option<Regex>>; PATTERN_COUNT] =
    [const { OnceLock::new() }; PATTERN_COUNT];

/// Whole-value match of pattern `index`. Patterns the `regex` crate cannot
/// express (see the list in `generated/meta.rs`) always match.
fn pattern_matches(index: usize, value: &str) -> bool {
    let Some(slot) = REGEXES.get(index) else {
        return true;
    };
    let regex = slot.get_or_init(|| {
        PATTERNS
            .get(index)
            .and_then(|p| p.rust)
            .and_then(|src| Regex::new(&format!("^(?:{src})$")).ok())
    });
    regex.as_ref().is_none_or(|re| re.is_match(value))
}

/// Validates `body` against the structure shape `shape`.
pub fn validate_input(shape: ShapeId, body: &Value) -> Result<(), ApiError> {
    let Value::Object(object) = body else {
        return Err(ApiError::new(
            ErrorKind::SerializationException,
            "The request body must be a JSON object.",
        ));
    };
    let mut validator = Validator::default();
    validator.structure(shape.meta(), object, &Loc::default(), false)?;
    validator.finish()
}

/// Where a value sits: the Coral path used in constraint messages
/// (`userAttributes.1.member.name`) and the JSON path used in type errors
/// (`UserAttributes[0].Name`).
#[derive(Default)]
struct Loc {
    coral: String,
    json: String,
}

impl Loc {
    fn member(&self, path_name: &str, name: &str) -> Loc {
        let join = |base: &str, seg: &str| {
            if base.is_empty() {
                seg.to_owned()
            } else {
                format!("{base}.{seg}")
            }
        };
        Loc {
            coral: join(&self.coral, path_name),
            json: join(&self.json, name),
        }
    }

    fn index(&self, i: usize) -> Loc {
        Loc {
            coral: format!("{}.{}.member", self.coral, i + 1),
            json: format!("{}[{i}]", self.json),
        }
    }

    fn key(&self, key: &str) -> Loc {
        Loc {
            coral: format!("{}.{key}.member", self.coral),
            json: format!("{}.{key}", self.json),
        }
    }
}

fn type_error(loc: &Loc, expected: &str) -> ApiError {
    ApiError::new(
        ErrorKind::SerializationException,
        format!(
            "Unexpected JSON type for member '{}': expected {expected}",
            loc.json
        ),
    )
}

/// Java-style rendering of a value, as Coral echoes it.
fn render(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}={}", render(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn length_phrases(meta: &ShapeMeta, len: i64, out: &mut Vec<String>) {
    if let Some(min) = meta.min {
        if len < min {
            out.push(format!(
                "Member must have length greater than or equal to {min}"
            ));
        }
    }
    if let Some(max) = meta.max {
        if len > max {
            out.push(format!(
                "Member must have length less than or equal to {max}"
            ));
        }
    }
}

fn range_phrases(meta: &ShapeMeta, value: f64, out: &mut Vec<String>) {
    if let Some(min) = meta.min {
        if value < min as f64 {
            out.push(format!(
                "Member must have value greater than or equal to {min}"
            ));
        }
    }
    if let Some(max) = meta.max {
        if value > max as f64 {
            out.push(format!(
                "Member must have value less than or equal to {max}"
            ));
        }
    }
}

fn enum_phrase(meta: &ShapeMeta) -> String {
    format!(
        "Member must satisfy enum value set: [{}]",
        meta.enum_values.join(", ")
    )
}

fn pattern_phrase(java: &str) -> String {
    format!("Member must satisfy regular expression pattern: {java}")
}

/// Every constraint of a scalar shape, in Coral's bracketed order
/// (max, min, pattern, enum), for collection-level messages.
fn all_phrases(meta: &ShapeMeta) -> Vec<String> {
    let noun = match meta.kind {
        ShapeKind::String | ShapeKind::Blob => "length",
        _ => "value",
    };
    let mut out = Vec::new();
    if let Some(max) = meta.max {
        out.push(format!(
            "Member must have {noun} less than or equal to {max}"
        ));
    }
    if let Some(min) = meta.min {
        out.push(format!(
            "Member must have {noun} greater than or equal to {min}"
        ));
    }
    if let Some(p) = meta.pattern() {
        out.push(pattern_phrase(p.java));
    }
    if !meta.enum_values.is_empty() {
        out.push(enum_phrase(meta));
    }
    out
}

fn is_scalar(kind: ShapeKind) -> bool {
    !matches!(
        kind,
        ShapeKind::Structure | ShapeKind::List | ShapeKind::Map | ShapeKind::Document
    )
}

#[derive(Default)]
struct Validator {
    errors: Vec<String>,
}

impl Validator {
    fn push(&mut self, loc: &Loc, value: Option<&Value>, redact: bool, phrase: &str) {
        let entry = match value {
            Some(v) if !redact => format!(
                "Value '{}' at '{}' failed to satisfy constraint: {phrase}",
                render(v),
                loc.coral
            ),
            _ => format!(
                "Value at '{}' failed to satisfy constraint: {phrase}",
                loc.coral
            ),
        };
        self.errors.push(entry);
    }

    fn push_null(&mut self, loc: &Loc, redact: bool) {
        let value = if redact { "" } else { " null" };
        self.errors.push(format!(
            "Value{value} at '{}' failed to satisfy constraint: Member must not be null",
            loc.coral
        ));
    }

    fn finish(self) -> Result<(), ApiError> {
        let n = self.errors.len();
        if n == 0 {
            return Ok(());
        }
        let plural = if n == 1 { "" } else { "s" };
        Err(ApiError::new(
            ErrorKind::InvalidParameterException,
            format!(
                "{n} validation error{plural} detected: {}",
                self.errors.join("; ")
            ),
        ))
    }

    fn structure(
        &mut self,
        meta: &ShapeMeta,
        object: &Map<String, Value>,
        loc: &Loc,
        redact: bool,
    ) -> Result<(), ApiError> {
        let redact = redact || meta.sensitive;
        for member in meta.members {
            let target = member.target.meta();
            let member_loc = loc.member(member.path_name, member.name);
            match object.get(member.name) {
                None | Some(Value::Null) => {
                    if member.required {
                        self.push_null(&member_loc, redact || target.contains_sensitive);
                    }
                }
                Some(value) => self.value(target, value, &member_loc, redact)?,
            }
        }
        Ok(())
    }

    /// Constraint phrases violated by a scalar value, in Cognito's order
    /// (enum, pattern, length/range). Type mismatches are errors.
    fn scalar_phrases(meta: &ShapeMeta, value: &Value, loc: &Loc) -> Result<Vec<String>, ApiError> {
        let mut out = Vec::new();
        match meta.kind {
            ShapeKind::String => {
                let s = value.as_str().ok_or_else(|| type_error(loc, "string"))?;
                if !meta.enum_values.is_empty() && !meta.enum_values.contains(&s) {
                    out.push(enum_phrase(meta));
                }
                if let Some(index) = meta.pattern {
                    if !pattern_matches(index, s) {
                        if let Some(p) = meta.pattern() {
                            out.push(pattern_phrase(p.java));
                        }
                    }
                }
                let len = i64::try_from(s.chars().count()).unwrap_or(i64::MAX);
                length_phrases(meta, len, &mut out);
            }
            ShapeKind::Blob => {
                let s = value
                    .as_str()
                    .ok_or_else(|| type_error(loc, "base64 string"))?;
                // Length of the decoded bytes.
                let digits = s.trim_end_matches('=').len();
                let len = i64::try_from(digits * 3 / 4).unwrap_or(i64::MAX);
                length_phrases(meta, len, &mut out);
            }
            ShapeKind::Integer => {
                let n = value
                    .as_i64()
                    .filter(|n| i32::try_from(*n).is_ok())
                    .ok_or_else(|| type_error(loc, "integer"))?;
                range_phrases(meta, n as f64, &mut out);
            }
            ShapeKind::Long => {
                let n = value.as_i64().ok_or_else(|| type_error(loc, "integer"))?;
                range_phrases(meta, n as f64, &mut out);
            }
            ShapeKind::Double | ShapeKind::Float | ShapeKind::Timestamp => {
                let n = value.as_f64().ok_or_else(|| type_error(loc, "number"))?;
                range_phrases(meta, n, &mut out);
            }
            ShapeKind::Boolean => {
                if !value.is_boolean() {
                    return Err(type_error(loc, "boolean"));
                }
            }
            ShapeKind::Structure | ShapeKind::List | ShapeKind::Map | ShapeKind::Document => {}
        }
        Ok(out)
    }

    fn value(
        &mut self,
        meta: &ShapeMeta,
        value: &Value,
        loc: &Loc,
        redact: bool,
    ) -> Result<(), ApiError> {
        let echo_hidden = redact || meta.contains_sensitive;
        match meta.kind {
            ShapeKind::Document => Ok(()),
            ShapeKind::Structure => {
                let object = value.as_object().ok_or_else(|| type_error(loc, "object"))?;
                self.structure(meta, object, loc, redact)
            }
            ShapeKind::List => {
                let items = value.as_array().ok_or_else(|| type_error(loc, "list"))?;
                let mut phrases = Vec::new();
                length_phrases(
                    meta,
                    i64::try_from(items.len()).unwrap_or(i64::MAX),
                    &mut phrases,
                );
                for phrase in &phrases {
                    self.push(loc, Some(value), echo_hidden, phrase);
                }
                let Some(element) = meta.member.map(ShapeId::meta) else {
                    return Ok(());
                };
                let mut element_failed = false;
                for (i, item) in items.iter().enumerate() {
                    let item_loc = loc.index(i);
                    if item.is_null() {
                        self.push_null(&item_loc, redact || element.contains_sensitive);
                    } else if is_scalar(element.kind) {
                        element_failed |=
                            !Self::scalar_phrases(element, item, &item_loc)?.is_empty();
                    } else {
                        self.value(element, item, &item_loc, redact || meta.sensitive)?;
                    }
                }
                if element_failed {
                    let phrase = format!(
                        "Member must satisfy constraint: [{}]",
                        all_phrases(element).join(", ")
                    );
                    self.push(loc, Some(value), echo_hidden, &phrase);
                }
                Ok(())
            }
            ShapeKind::Map => {
                let object = value.as_object().ok_or_else(|| type_error(loc, "object"))?;
                let mut phrases = Vec::new();
                length_phrases(
                    meta,
                    i64::try_from(object.len()).unwrap_or(i64::MAX),
                    &mut phrases,
                );
                for phrase in &phrases {
                    self.push(loc, Some(value), echo_hidden, phrase);
                }
                if let Some(key_meta) = meta.key.map(ShapeId::meta) {
                    let mut key_failed = false;
                    for key in object.keys() {
                        let key_value = Value::String(key.clone());
                        key_failed |=
                            !Self::scalar_phrases(key_meta, &key_value, &loc.key(key))?.is_empty();
                    }
                    if key_failed {
                        let phrase = format!(
                            "Map keys must satisfy constraint: [{}]",
                            all_phrases(key_meta).join(", ")
                        );
                        self.push(loc, Some(value), echo_hidden, &phrase);
                    }
                }
                if let Some(value_meta) = meta.value.map(ShapeId::meta) {
                    let mut value_failed = false;
                    for (key, item) in object {
                        let item_loc = loc.key(key);
                        if item.is_null() {
                            self.push_null(&item_loc, redact || value_meta.contains_sensitive);
                        } else if is_scalar(value_meta.kind) {
                            value_failed |=
                                !Self::scalar_phrases(value_meta, item, &item_loc)?.is_empty();
                        } else {
                            self.value(value_meta, item, &item_loc, redact || meta.sensitive)?;
                        }
                    }
                    if value_failed {
                        let phrase = format!(
                            "Map value must satisfy constraint: [{}]",
                            all_phrases(value_meta).join(", ")
                        );
                        self.push(loc, Some(value), echo_hidden, &phrase);
                    }
                }
                Ok(())
            }
            _ => {
                for phrase in Self::scalar_phrases(meta, value, loc)? {
                    self.push(loc, Some(value), echo_hidden, &phrase);
                }
                Ok(())
            }
        }
    }
}
