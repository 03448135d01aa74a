//! Wire layer of Cognate: the Amazon Cognito user-pools API (`cognito-idp`
//! 2016-04-18, AWS JSON 1.1) as Rust types, generated from the pinned API
//! model by `cognate-codegen` (see `src/generated/`, regenerate with
//! `cargo run -p cognate-codegen`). It provides one serde struct per
//! structure shape and one enum per string enum, the [`Operation`] and
//! [`ErrorKind`] enums with the model's per-operation metadata (SigV4
//! requirement, modelled errors, input shape), the
//! [`CognitoIdentityProvider`] service trait whose methods default to
//! `NotImplementedException`, the [`dispatch`] function that validates,
//! deserialises, calls and serialises one request, and [`validate_input`],
//! which checks a JSON body against the model's constraints with AWS's exact
//! validation messages. It does no I/O: HTTP, SigV4 and storage live in other
//! crates.

pub mod codec;
pub mod context;
pub mod error;
pub mod generated;
pub mod schema;
pub mod validate;

pub use context::RequestContext;
pub use error::ApiError;
pub use generated::*;
pub use schema::{MemberMeta, PatternMeta, ShapeKind, ShapeMeta};
pub use validate::validate_input;
