//! Embedded, per-backend migrations, applied in order and recorded in `schema_migrations`.
//! Several instances may start at once against one database; see `run`.

use super::db::{params, Exec};
use super::{Backend, StoreError};

const SQLITE: &[(&str, &str)] = &[(
    "0001_initial",
    include_str!("migrations/sqlite/0001_initial.sql"),
)];
const POSTGRES: &[(&str, &str)] = &[(
    "0001_initial",
    include_str!("migrations/postgres/0001_initial.sql"),
)];

pub async fn run(tx: &mut impl Exec, backend: Backend) -> Result<Vec<String>, StoreError> {
    let steps = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    // The caller runs this in one transaction. On PostgreSQL an advisory lock taken first
    // makes instances that start together migrate one after the other (even CREATE TABLE IF
    // NOT EXISTS races otherwise); SQLite's single writer already serialises.
    if backend == Backend::Postgres {
        tx.fetch_optional("SELECT pg_advisory_xact_lock(724301)", params![])
            .await?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        params![],
    )
    .await?;
    let mut applied = Vec::new();
    for (version, sql) in steps {
        let done = tx
            .fetch_optional(
                "SELECT version FROM schema_migrations WHERE version = $1",
                params![*version],
            )
            .await?;
        if done.is_some() {
            continue;
        }
        for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            tx.execute(statement, params![]).await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            params![*version, now],
        )
        .await?;
        applied.push((*version).to_string());
    }
    Ok(applied)
}
