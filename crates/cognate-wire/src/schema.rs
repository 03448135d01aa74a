//! Types of the generated validation metadata ([`crate::SHAPES`],
//! [`crate::PATTERNS`]).

use crate::ShapeId;

/// The model type of a shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShapeKind {
    String,
    Integer,
    Long,
    Boolean,
    /// Epoch seconds as a JSON number.
    Timestamp,
    /// Base64 text.
    Blob,
    Double,
    Float,
    Structure,
    /// A free-form JSON document.
    Document,
    List,
    Map,
}

/// A member of a structure shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberMeta {
    /// Exact JSON member name (`UserPoolId`).
    pub name: &'static str,
    /// Name used in validation paths: first letter lower-cased (`userPoolId`).
    pub path_name: &'static str,
    pub target: ShapeId,
    pub required: bool,
}

impl MemberMeta {
    pub const fn new(
        name: &'static str,
        path_name: &'static str,
        target: ShapeId,
        required: bool,
    ) -> Self {
        MemberMeta {
            name,
            path_name,
            target,
            required,
        }
    }
}

/// A `pattern` constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternMeta {
    /// The Java pattern exactly as in the model (used in error messages).
    pub java: &'static str,
    /// Equivalent `regex` crate syntax (not anchored), or `None` when the
    /// `regex` crate cannot express it (the constraint is then not enforced).
    pub rust: Option<&'static str>,
}

/// Everything validation needs to know about one shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShapeMeta {
    pub id: ShapeId,
    pub name: &'static str,
    pub kind: ShapeKind,
    /// Minimum length (strings: characters, lists/maps: entries, blobs: bytes)
    /// or minimum value (numbers).
    pub min: Option<i64>,
    /// Maximum, with the same meaning as `min`.
    pub max: Option<i64>,
    /// Index into [`crate::PATTERNS`].
    pub pattern: Option<usize>,
    /// Allowed values of an enum string shape, in model order (empty otherwise).
    pub enum_values: &'static [&'static str],
    /// The model marks this shape `sensitive`: its values are never echoed.
    pub sensitive: bool,
    /// This shape or anything nested in it is sensitive.
    pub contains_sensitive: bool,
    /// Structure members in model order.
    pub members: &'static [MemberMeta],
    /// List element shape.
    pub member: Option<ShapeId>,
    /// Map key shape.
    pub key: Option<ShapeId>,
    /// Map value shape.
    pub value: Option<ShapeId>,
    pub exception: bool,
    pub fault: bool,
}

impl ShapeMeta {
    /// The pattern constraint, if any.
    pub fn pattern(&self) -> Option<&'static PatternMeta> {
        self.pattern.and_then(|i| crate::PATTERNS.get(i))
    }
}

/// Stands in for a sensitive value in generated `Debug` output.
pub(crate) struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("*** Sensitive Data Redacted ***")
    }
}
