use super::AliasKind;

/// What can go wrong below the service layer. Mapped to the wire once, in `crate::errors`.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("uniqueness conflict: {0:?}")]
    Conflict(Conflict),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database configuration: {0}")]
    Config(String),
    #[error("database error: {0}")]
    Database(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    Username,
    Alias(AliasKind),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(e.to_string())
            }
            sqlx::Error::Configuration(_) => StoreError::Config(e.to_string()),
            other => StoreError::Database(other.to_string()),
        }
    }
}
