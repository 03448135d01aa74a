//! The `cognate` binary's library: the command line and typed configuration (`config`), the
//! wiring of store, providers, triggers and clock into the domain service and the HTTP front
//! (`app`), and bulk seeding for benchmarks (`seed`). See ARCHITECTURE.md for the crates and
//! how a request flows through them.

pub mod app;
pub mod config;
pub mod master_key;
pub mod metered;
pub mod seed;
