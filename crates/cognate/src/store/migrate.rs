//! Embedded, per-backend migrations, applied in order and recorded in `schema_migrations`.
//! Several instances may start at once against one database; see `run`.

use sqlx::AnyPool;

use super::{Backend, StoreError};

const SQLITE: &[(&str, &str)] = &[(
    "0001_initial",
    include_str!("migrations/sqlite/0001_initial.sql"),
)];
const POSTGRES: &[(&str, &str)] = &[(
    "0001_initial",
    include_str!("migrations/postgres/0001_initial.sql"),
)];

pub async fn run(pool: &AnyPool, backend: Backend) -> Result<Vec<String>, StoreError> {
    let steps = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    // One transaction for the whole run. On PostgreSQL an advisory lock taken first makes
    // instances that start together migrate one after the other (even CREATE TABLE IF NOT
    // EXISTS races otherwise); SQLite's single writer already serialises.
    let mut tx = pool.begin().await?;
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(724301)")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let mut applied = Vec::new();
    for (version, sql) in steps {
        let done = sqlx::query("SELECT version FROM schema_migrations WHERE version = $1")
            .bind(*version)
            .fetch_optional(&mut *tx)
            .await?;
        if done.is_some() {
            continue;
        }
        for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        applied.push((*version).to_string());
    }
    tx.commit().await?;
    Ok(applied)
}
