//! Embedded, per-backend migrations, applied in order and recorded in `schema_migrations`.
//! Several instances may start at once against one database; see `run`.

use crate::db::{params, Tx};
use crate::{Backend, StoreError};

const SQLITE: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("migrations/sqlite/0001_initial.sql"),
    ),
    (
        "0002_without_rowid",
        include_str!("migrations/sqlite/0002_without_rowid.sql"),
    ),
    (
        "0003_client_revisions",
        include_str!("migrations/sqlite/0003_client_revisions.sql"),
    ),
    (
        "0004_tokens",
        include_str!("migrations/sqlite/0004_tokens.sql"),
    ),
    (
        "0005_user_token_times",
        include_str!("migrations/sqlite/0005_user_token_times.sql"),
    ),
    (
        "0006_recovery",
        include_str!("migrations/sqlite/0006_recovery.sql"),
    ),
    (
        "0007_groups",
        include_str!("migrations/sqlite/0007_groups.sql"),
    ),
    (
        "0008_auth_events",
        include_str!("migrations/sqlite/0008_auth_events.sql"),
    ),
    (
        "0009_name_attempts",
        include_str!("migrations/sqlite/0009_name_attempts.sql"),
    ),
    (
        "0010_oauth_config",
        include_str!("migrations/sqlite/0010_oauth_config.sql"),
    ),
    (
        "0011_oauth_codes",
        include_str!("migrations/sqlite/0011_oauth_codes.sql"),
    ),
    (
        "0012_refresh_token_scopes",
        include_str!("migrations/sqlite/0012_refresh_token_scopes.sql"),
    ),
];
const POSTGRES: &[(&str, &str)] = &[
    (
        "0001_initial",
        include_str!("migrations/postgres/0001_initial.sql"),
    ),
    (
        "0002_client_revisions",
        include_str!("migrations/postgres/0002_client_revisions.sql"),
    ),
    (
        "0003_tokens",
        include_str!("migrations/postgres/0003_tokens.sql"),
    ),
    (
        "0004_user_token_times",
        include_str!("migrations/postgres/0004_user_token_times.sql"),
    ),
    (
        "0005_recovery",
        include_str!("migrations/postgres/0005_recovery.sql"),
    ),
    (
        "0006_groups",
        include_str!("migrations/postgres/0006_groups.sql"),
    ),
    (
        "0007_auth_events",
        include_str!("migrations/postgres/0007_auth_events.sql"),
    ),
    (
        "0008_name_attempts",
        include_str!("migrations/postgres/0008_name_attempts.sql"),
    ),
    (
        "0009_oauth_config",
        include_str!("migrations/postgres/0009_oauth_config.sql"),
    ),
    (
        "0010_oauth_codes",
        include_str!("migrations/postgres/0010_oauth_codes.sql"),
    ),
    (
        "0011_refresh_token_scopes",
        include_str!("migrations/postgres/0011_refresh_token_scopes.sql"),
    ),
];

pub fn run(tx: &mut dyn Tx, backend: Backend) -> Result<Vec<String>, StoreError> {
    let steps = match backend {
        Backend::Sqlite => SQLITE,
        Backend::Postgres => POSTGRES,
    };
    // The caller runs this in one transaction. On PostgreSQL an advisory lock taken first
    // makes instances that start together migrate one after the other (even CREATE TABLE IF
    // NOT EXISTS races otherwise); SQLite's single writer already serialises.
    if backend == Backend::Postgres {
        tx.fetch_optional("SELECT pg_advisory_xact_lock(724301)", params![])?;
    }
    tx.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        params![],
    )?;
    let mut applied = Vec::new();
    for (version, sql) in steps {
        let done = tx.fetch_optional(
            "SELECT version FROM schema_migrations WHERE version = $1",
            params![*version],
        )?;
        if done.is_some() {
            continue;
        }
        for statement in statements(sql) {
            tx.execute(statement, params![])?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
            params![*version, now],
        )?;
        applied.push((*version).to_string());
    }
    Ok(applied)
}

/// The statements of a migration file (split on `;`, so comments in them hold none).
fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(';').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Param;
    use crate::sqlite::Lite;

    /// A database written by the first schema keeps every row through 0002, and the per-user
    /// tables come out clustered on their keys.
    #[tokio::test]
    async fn sqlite_0002_keeps_rows_and_clusters_the_per_user_tables() {
        let dir = tempfile::tempdir().unwrap();
        let lite = Lite::open(
            &format!("sqlite://{}", dir.path().join("m.db").display()),
            2,
        )
        .unwrap();
        lite.write(|x| {
                x.execute(
                    "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                    vec![],
                )?;
                for statement in statements(SQLITE[0].1) {
                    x.execute(statement, vec![])?;
                }
                for sql in [
                    "INSERT INTO schema_migrations VALUES ('0001_initial', 0)",
                    "INSERT INTO user_pools VALUES ('p', 'pool', '{}', 0, 0)",
                    "INSERT INTO users (pool_id, username_key, username, sub, status, enabled, attributes, created_at, updated_at) \
                     VALUES ('p', 'u', 'u', 's', 'UNCONFIRMED', 1, '{}', 0, 0)",
                    "INSERT INTO codes VALUES ('p', 'u', 'signup', x'0102', 'email', 99, 1)",
                    "INSERT INTO attempt_counters VALUES ('p', 'u', 'confirm', 5, 3)",
                    "INSERT INTO user_aliases VALUES ('p', 'email', 'u@example.com', 'u')",
                ] {
                    x.execute(sql, vec![])?;
                }
                Ok(())
        })
        .await
        .unwrap();

        let applied = lite.write(|x| run(x, Backend::Sqlite)).await.unwrap();
        assert_eq!(
            applied,
            [
                "0002_without_rowid",
                "0003_client_revisions",
                "0004_tokens",
                "0005_user_token_times",
                "0006_recovery",
                "0007_groups",
                "0008_auth_events",
                "0009_name_attempts",
                "0010_oauth_config",
                "0011_oauth_codes",
                "0012_refresh_token_scopes"
            ]
        );

        let read = |sql: &'static str| {
            lite.read(|x| x.fetch_all(sql, vec![]))
                .unwrap()
                .into_iter()
                .map(|r| r.get::<String>("v").unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            read("SELECT hex(digest) || attribute || expires_at || created_at AS v FROM codes"),
            ["0102email991"]
        );
        assert_eq!(
            read("SELECT action || window_start || '/' || count AS v FROM attempt_counters"),
            ["confirm5/3"]
        );
        assert_eq!(
            read("SELECT value_key || '>' || username_key AS v FROM user_aliases"),
            ["u@example.com>u"]
        );
        for table in ["codes", "attempt_counters", "user_aliases"] {
            let sql = lite
                .read(|x| {
                    x.fetch_optional(
                        "SELECT sql AS v FROM sqlite_master WHERE type = 'table' AND name = $1",
                        vec![Param::from(table)],
                    )
                })
                .unwrap()
                .unwrap()
                .get::<String>("v")
                .unwrap();
            assert!(sql.ends_with("WITHOUT ROWID"), "{table}: {sql}");
        }
        assert_eq!(
            read("SELECT name AS v FROM sqlite_master WHERE type = 'index' AND tbl_name = 'user_aliases' AND sql IS NOT NULL"),
            ["user_aliases_user"]
        );
        // Deleting the user still cascades to the rebuilt tables.
        lite.write(|x| x.execute("DELETE FROM users WHERE username_key = 'u'", vec![]))
            .await
            .unwrap();
        assert_eq!(
            read("SELECT CAST((SELECT count(*) FROM codes) + (SELECT count(*) FROM attempt_counters) + (SELECT count(*) FROM user_aliases) AS TEXT) AS v"),
            ["0"]
        );
        lite.close().await;
    }
}
