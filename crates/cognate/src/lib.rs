//! Cognate: a self-hostable user directory that speaks the Amazon Cognito user-pools API.
//! See ARCHITECTURE.md for the map of crates and how a request flows through them.

pub mod app;
pub mod clock;
pub mod config;
pub mod errors;
pub mod http;
pub mod inbox;
pub mod seed;
pub mod service;
pub mod store;
