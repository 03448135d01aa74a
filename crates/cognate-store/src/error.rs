//! sqlx's errors in the domain's storage terms.

use cognate_core::ports::StoreError;

pub(crate) fn from_sqlx(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(e.to_string())
        }
        sqlx::Error::Configuration(_) => StoreError::Config(e.to_string()),
        other => StoreError::Database(other.to_string()),
    }
}
