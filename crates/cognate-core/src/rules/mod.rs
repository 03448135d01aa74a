//! The rules that decide a write, as plain functions over what the store loaded (and, on
//! PostgreSQL, locked) inside the write's transaction. The store runs them there and writes
//! what they decide; they are tested here without a database.

pub mod attributes;
pub mod codes;
pub mod confirmation;
pub mod limits;
pub mod lockout;
pub mod sessions;
