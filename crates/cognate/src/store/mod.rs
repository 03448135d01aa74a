//! Durable state behind a domain-level interface (pools, clients, users, codes, counters,
//! messages). One implementation serves SQLite and PostgreSQL through sqlx's `Any` driver:
//! the SQL is portable (`$N` placeholders, `ON CONFLICT`, `RETURNING`), and the few dialect
//! differences are spelled out where they occur. Uniqueness and counters are enforced by the
//! database (primary keys, unique indexes, atomic upserts, conditional updates), never by
//! in-process locks, so several server instances can share one PostgreSQL database.

mod bulk;
mod error;
mod migrate;
mod records;

pub use error::{Conflict, StoreError};
pub use records::*;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};

type Result<T> = std::result::Result<T, StoreError>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct StoreOptions {
    /// Connections for readers (and, on PostgreSQL, writers too).
    pub max_connections: u32,
    /// Run migrations when opening.
    pub migrate: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            migrate: true,
        }
    }
}

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    readers: AnyPool,
    /// SQLite allows one writer at a time; a single writer connection queues writers in the
    /// pool instead of letting them collide and surface SQLITE_BUSY. On PostgreSQL this is the
    /// same pool as `readers`.
    writer: AnyPool,
}

/// The URL scheme picks the backend; anything else is refused rather than silently creating
/// a new empty SQLite file somewhere.
pub fn backend_for_url(url: &str) -> Result<Backend> {
    if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else {
        Err(StoreError::Config(format!(
            "unsupported database URL scheme in '{}': use sqlite:// or postgres://",
            url.split(':').next().unwrap_or("")
        )))
    }
}

pub fn sqlite_url_for_dir(dir: &Path) -> String {
    format!("sqlite://{}?mode=rwc", dir.join("cognate.db").display())
}

fn sqlite_pool(url: &str, max: u32) -> AnyPoolOptions {
    let _ = url;
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                use sqlx::Executor;
                // WAL lets readers run beside the writer; NORMAL keeps every committed
                // transaction across a process crash (kill -9), fsyncing at checkpoints.
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = NORMAL").await?;
                conn.execute("PRAGMA busy_timeout = 10000").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                Ok(())
            })
        })
}

impl Store {
    pub async fn open(url: &str, opts: &StoreOptions) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = backend_for_url(url)?;
        let store = match backend {
            Backend::Sqlite => {
                // The writer connects first so the file and WAL mode exist before readers open.
                let writer = sqlite_pool(url, 1).connect(url).await?;
                let readers = sqlite_pool(url, opts.max_connections.max(1))
                    .connect(url)
                    .await?;
                Store {
                    backend,
                    readers,
                    writer,
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections.max(1))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await?;
                Store {
                    backend,
                    readers: pool.clone(),
                    writer: pool,
                }
            }
        };
        if opts.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub async fn migrate(&self) -> Result<Vec<String>> {
        migrate::run(&self.writer, self.backend).await
    }

    pub async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }

    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.readers).await?;
        Ok(())
    }

    /// A server-wide secret, created once by whichever instance gets there first.
    pub async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> Result<Vec<u8>> {
        sqlx::query(
            "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(fresh)
        .execute(&self.writer)
        .await?;
        let row = sqlx::query("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.writer)
            .await?;
        Ok(row.try_get::<Vec<u8>, _>("value")?)
    }

    // ---------------------------------------------------------------- user pools

    pub async fn insert_pool(&self, pool: &PoolRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO user_pools (id, name, config, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&pool.id)
        .bind(&pool.name)
        .bind(&pool.config)
        .bind(pool.created_at)
        .bind(pool.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn get_pool(&self, id: &str) -> Result<Option<PoolRecord>> {
        let row = sqlx::query(
            "SELECT id, name, config, created_at, updated_at FROM user_pools WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| PoolRecord::from_row(&r)).transpose()
    }

    /// Replaces a pool's settings; false when the pool is gone.
    pub async fn update_pool(&self, pool: &PoolRecord) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE user_pools SET name = $2, config = $3, updated_at = $4 WHERE id = $1",
        )
        .bind(&pool.id)
        .bind(&pool.name)
        .bind(&pool.config)
        .bind(pool.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_pool(&self, id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM user_pools WHERE id = $1")
            .bind(id)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Pools ordered by id, starting after `after`.
    pub async fn list_pools(&self, after: Option<&str>, limit: i64) -> Result<Vec<PoolRecord>> {
        let rows = sqlx::query(
            "SELECT id, name, config, created_at, updated_at FROM user_pools WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(PoolRecord::from_row).collect()
    }

    pub async fn count_users(&self, pool_id: &str) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE pool_id = $1")
            .bind(pool_id)
            .fetch_one(&self.readers)
            .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    // ---------------------------------------------------------------- app clients

    pub async fn insert_client(&self, client: &ClientRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO user_pool_clients (client_id, pool_id, config, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&client.client_id)
        .bind(&client.pool_id)
        .bind(&client.config)
        .bind(client.created_at)
        .bind(client.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn get_client(&self, client_id: &str) -> Result<Option<ClientRecord>> {
        let row = sqlx::query(
            "SELECT client_id, pool_id, config, created_at, updated_at FROM user_pool_clients WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| ClientRecord::from_row(&r)).transpose()
    }

    /// A client and its pool in one round trip (the hot path of every client-facing call).
    pub async fn get_client_with_pool(
        &self,
        client_id: &str,
    ) -> Result<Option<(ClientRecord, PoolRecord)>> {
        let row = sqlx::query(
            "SELECT c.client_id, c.pool_id, c.config, c.created_at, c.updated_at, \
                    p.id, p.name, p.config AS pool_config, p.created_at AS pool_created_at, p.updated_at AS pool_updated_at \
             FROM user_pool_clients c JOIN user_pools p ON p.id = c.pool_id WHERE c.client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| {
            Ok((
                ClientRecord::from_row(&r)?,
                PoolRecord {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    config: r.try_get("pool_config")?,
                    created_at: r.try_get("pool_created_at")?,
                    updated_at: r.try_get("pool_updated_at")?,
                },
            ))
        })
        .transpose()
    }

    pub async fn update_client(&self, client: &ClientRecord) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE user_pool_clients SET config = $3, updated_at = $4 WHERE client_id = $1 AND pool_id = $2",
        )
        .bind(&client.client_id)
        .bind(&client.pool_id)
        .bind(&client.config)
        .bind(client.updated_at)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_client(&self, pool_id: &str, client_id: &str) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM user_pool_clients WHERE client_id = $1 AND pool_id = $2")
                .bind(client_id)
                .bind(pool_id)
                .execute(&self.writer)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn list_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ClientRecord>> {
        let rows = sqlx::query(
            "SELECT client_id, pool_id, config, created_at, updated_at FROM user_pool_clients WHERE pool_id = $1 AND client_id > $2 ORDER BY client_id LIMIT $3",
        )
        .bind(pool_id)
        .bind(after.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(ClientRecord::from_row).collect()
    }

    // ---------------------------------------------------------------- users

    /// Creates a user with its alias claims, its first code and a history event, atomically.
    /// A taken username or alias claim comes back as `StoreError::Conflict` naming which.
    pub async fn create_user(&self, new: &NewUser) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        let u = &new.user;
        let inserted = sqlx::query(
            "INSERT INTO users (pool_id, username_key, username, sub, status, enabled, attributes, password_hash, srp_salt, srp_verifier, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
        )
        .bind(&u.pool_id)
        .bind(&u.username_key)
        .bind(&u.username)
        .bind(&u.sub)
        .bind(u.status.as_str())
        .bind(i64::from(u.enabled))
        .bind(attrs_to_json(&u.attributes))
        .bind(u.password_hash.as_deref())
        .bind(u.srp_salt.as_deref())
        .bind(u.srp_verifier.as_deref())
        .bind(u.created_at)
        .bind(u.updated_at)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() != 1 {
            return Err(StoreError::Conflict(Conflict::Username));
        }
        for (kind, value_key) in &new.aliases {
            let claimed = sqlx::query(
                "INSERT INTO user_aliases (pool_id, kind, value_key, username_key) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(&u.pool_id)
            .bind(kind.as_str())
            .bind(value_key)
            .bind(&u.username_key)
            .execute(&mut *tx)
            .await?;
            if claimed.rows_affected() != 1 {
                return Err(StoreError::Conflict(Conflict::Alias(*kind)));
            }
        }
        for (kind, value_key) in &new.moved_aliases {
            claim_alias(
                &mut tx,
                &u.pool_id,
                *kind,
                value_key,
                &u.username_key,
                u.created_at,
                self.for_update(),
            )
            .await?;
        }
        if let Some(code) = &new.code {
            insert_code(&mut tx, &u.pool_id, &u.username_key, code).await?;
        }
        if let Some(ev) = &new.event {
            insert_event(&mut tx, &u.pool_id, &u.username_key, ev).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn get_user(&self, pool_id: &str, username_key: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND username_key = $2"
        ))
        .bind(pool_id)
        .bind(username_key)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| UserRecord::from_row(&r)).transpose()
    }

    pub async fn get_user_by_alias(
        &self,
        pool_id: &str,
        kind: AliasKind,
        value_key: &str,
    ) -> Result<Option<UserRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS_U} FROM user_aliases a JOIN users u ON u.pool_id = a.pool_id AND u.username_key = a.username_key \
             WHERE a.pool_id = $1 AND a.kind = $2 AND a.value_key = $3"
        ))
        .bind(pool_id)
        .bind(kind.as_str())
        .bind(value_key)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| UserRecord::from_row(&r)).transpose()
    }

    pub async fn get_user_by_sub(&self, pool_id: &str, sub: &str) -> Result<Option<UserRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND sub = $2"
        ))
        .bind(pool_id)
        .bind(sub)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| UserRecord::from_row(&r)).transpose()
    }

    pub async fn delete_user(&self, pool_id: &str, username_key: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM users WHERE pool_id = $1 AND username_key = $2")
            .bind(pool_id)
            .bind(username_key)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Users ordered by username key, after `after`, optionally filtered.
    pub async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<UserRecord>> {
        let mut sql =
            format!("SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND username_key > $2");
        if let Some(f) = filter {
            let column = match &f.field {
                FilterField::Username => "username".to_string(),
                FilterField::Sub => "sub".to_string(),
                FilterField::UserStatus => "status".to_string(),
                FilterField::Enabled => {
                    "(CASE WHEN enabled = 1 THEN 'Enabled' ELSE 'Disabled' END)".to_string()
                }
                FilterField::Attribute(name) => self.json_text(name),
            };
            match f.op {
                FilterOp::Equals => sql.push_str(&format!(" AND {column} = $4")),
                FilterOp::StartsWith => {
                    sql.push_str(&format!(" AND substr({column}, 1, length($4)) = $4"))
                }
            }
        }
        sql.push_str(" ORDER BY username_key LIMIT $3");
        let mut q = sqlx::query(&sql)
            .bind(pool_id)
            .bind(after.unwrap_or(""))
            .bind(limit);
        if let Some(f) = filter {
            q = q.bind(f.value.clone());
        }
        let rows = q.fetch_all(&self.readers).await?;
        rows.iter().map(UserRecord::from_row).collect()
    }

    /// Text of one attribute inside the JSON attribute map.
    fn json_text(&self, name: &str) -> String {
        // Attribute names reaching here come from a fixed allow-list (ListUsers' searchable
        // standard attributes), so they are safe to inline.
        let safe: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        match self.backend {
            Backend::Sqlite => format!("json_extract(attributes, '$.{safe}')"),
            Backend::Postgres => format!("(attributes::jsonb ->> '{safe}')"),
        }
    }

    /// Adds one to a per-user hourly counter (resetting it when its window has passed) and
    /// returns the new count. Atomic in the database, so the limit holds across instances.
    pub async fn bump_counter(
        &self,
        pool_id: &str,
        username_key: &str,
        action: &str,
        now: i64,
        window_secs: i64,
    ) -> Result<i64> {
        let row = sqlx::query(BUMP_COUNTER)
            .bind(pool_id)
            .bind(username_key)
            .bind(action)
            .bind(now)
            .bind(now - window_secs)
            .fetch_one(&self.writer)
            .await?;
        Ok(row.try_get::<i64, _>("count")?)
    }

    pub async fn get_code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> Result<Option<CodeRecord>> {
        let row = sqlx::query(
            "SELECT digest, attribute, expires_at, created_at FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
        )
        .bind(pool_id)
        .bind(username_key)
        .bind(purpose)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|r| {
            Ok(CodeRecord {
                purpose: purpose.to_string(),
                digest: r.try_get("digest")?,
                attribute: r.try_get("attribute")?,
                expires_at: r.try_get("expires_at")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }

    /// Issues a new code for a user, replacing (and so invalidating) the previous one, and
    /// records the event, atomically. With a `limit`, the user's hourly counter for `action`
    /// is bumped in the same transaction and nothing is issued once it exceeds the limit.
    pub async fn replace_code(
        &self,
        pool_id: &str,
        username_key: &str,
        code: &CodeRecord,
        event: Option<&EventRecord>,
    ) -> Result<bool> {
        Ok(matches!(
            self.issue_code(pool_id, username_key, code, event, None)
                .await?,
            IssueOutcome::Issued
        ))
    }

    pub async fn issue_code(
        &self,
        pool_id: &str,
        username_key: &str,
        code: &CodeRecord,
        event: Option<&EventRecord>,
        limit: Option<(&str, i64, i64)>,
    ) -> Result<IssueOutcome> {
        let mut tx = self.writer.begin().await?;
        let exists =
            sqlx::query("SELECT 1 AS one FROM users WHERE pool_id = $1 AND username_key = $2")
                .bind(pool_id)
                .bind(username_key)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        if !exists {
            return Ok(IssueOutcome::UserGone);
        }
        if let Some((action, max, window_secs)) = limit {
            let count: i64 = sqlx::query(BUMP_COUNTER)
                .bind(pool_id)
                .bind(username_key)
                .bind(action)
                .bind(code.created_at)
                .bind(code.created_at - window_secs)
                .fetch_one(&mut *tx)
                .await?
                .try_get("count")?;
            if count > max {
                tx.commit().await?;
                return Ok(IssueOutcome::LimitExceeded);
            }
        }
        insert_code(&mut tx, pool_id, username_key, code).await?;
        if let Some(ev) = event {
            insert_event(&mut tx, pool_id, username_key, ev).await?;
        }
        tx.commit().await?;
        Ok(IssueOutcome::Issued)
    }

    /// Moves an UNCONFIRMED user to CONFIRMED. With `code_digest`, the live code must still be
    /// the one the caller checked; it is consumed in the same transaction, so of two racing
    /// confirmations with the same code exactly one wins.
    pub async fn confirm_user(&self, c: &Confirmation<'_>) -> Result<ConfirmOutcome> {
        let mut tx = self.writer.begin().await?;
        if let Some(digest) = &c.code_digest {
            let consumed = sqlx::query(
                "DELETE FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3 AND digest = $4",
            )
            .bind(c.pool_id)
            .bind(c.username_key)
            .bind(c.purpose)
            .bind(digest.clone())
            .execute(&mut *tx)
            .await?;
            if consumed.rows_affected() != 1 {
                return Ok(ConfirmOutcome::CodeGone);
            }
        }
        let row = sqlx::query(&format!(
            "SELECT status, attributes FROM users WHERE pool_id = $1 AND username_key = $2{}",
            self.for_update()
        ))
        .bind(c.pool_id)
        .bind(c.username_key)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(ConfirmOutcome::UserGone);
        };
        let status: String = row.try_get("status")?;
        if status != UserStatus::Unconfirmed.as_str() {
            return Ok(ConfirmOutcome::WrongStatus(status));
        }
        let mut attributes = attrs_from_json(&row.try_get::<String, _>("attributes")?)?;
        if let Some(attr) = c.verify_attribute {
            attributes.insert(format!("{attr}_verified"), "true".to_string());
        }
        if let Some((kind, value_key)) = &c.alias {
            if !c.force_alias
                && alias_holder(&mut tx, c.pool_id, *kind, value_key, self.for_update())
                    .await?
                    .is_some_and(|holder| holder != c.username_key)
            {
                return Ok(ConfirmOutcome::AliasTaken(*kind));
            }
            claim_alias(
                &mut tx,
                c.pool_id,
                *kind,
                value_key,
                c.username_key,
                c.now,
                self.for_update(),
            )
            .await?;
        }
        let updated = sqlx::query(
            "UPDATE users SET status = $3, attributes = $4, updated_at = $5 WHERE pool_id = $1 AND username_key = $2 AND status = $6",
        )
        .bind(c.pool_id)
        .bind(c.username_key)
        .bind(UserStatus::Confirmed.as_str())
        .bind(attrs_to_json(&attributes))
        .bind(c.now)
        .bind(UserStatus::Unconfirmed.as_str())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            return Ok(ConfirmOutcome::WrongStatus(status));
        }
        if c.code_digest.is_none() {
            // An admin confirmation leaves no sign-up code behind.
            sqlx::query(
                "DELETE FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
            )
            .bind(c.pool_id)
            .bind(c.username_key)
            .bind(c.purpose)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(ev) = &c.event {
            insert_event(&mut tx, c.pool_id, c.username_key, ev).await?;
        }
        tx.commit().await?;
        Ok(ConfirmOutcome::Confirmed(attributes))
    }

    pub async fn attempt_confirmation(&self, a: &ConfirmAttempt<'_>) -> Result<AttemptOutcome> {
        let mut tx = self.writer.begin().await?;
        let count: i64 = sqlx::query(BUMP_COUNTER)
            .bind(a.pool_id)
            .bind(a.username_key)
            .bind(a.counter_action)
            .bind(a.now)
            .bind(a.now - a.window_secs)
            .fetch_one(&mut *tx)
            .await?
            .try_get("count")?;
        let outcome = 'decide: {
            if count > a.limit {
                break 'decide AttemptOutcome::LimitExceeded;
            }
            let row = sqlx::query(&format!(
                "SELECT status, attributes FROM users WHERE pool_id = $1 AND username_key = $2{}",
                self.for_update()
            ))
            .bind(a.pool_id)
            .bind(a.username_key)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                break 'decide AttemptOutcome::UserGone;
            };
            let status: String = row.try_get("status")?;
            if status != UserStatus::Unconfirmed.as_str() {
                break 'decide AttemptOutcome::WrongStatus(status);
            }
            let code = sqlx::query(
                "SELECT digest, attribute, expires_at FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
            )
            .bind(a.pool_id)
            .bind(a.username_key)
            .bind(a.purpose)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(code) = code else {
                break 'decide AttemptOutcome::NoCode;
            };
            let digest: Vec<u8> = code.try_get("digest")?;
            let attribute: Option<String> = code.try_get("attribute")?;
            if code.try_get::<i64, _>("expires_at")? <= a.now {
                break 'decide AttemptOutcome::Expired;
            }
            if !bool::from(subtle::ConstantTimeEq::ct_eq(
                digest.as_slice(),
                a.candidate_digest.as_slice(),
            )) {
                insert_event(&mut tx, a.pool_id, a.username_key, &a.fail_event).await?;
                break 'decide AttemptOutcome::Mismatch;
            }
            let alias = attribute.as_deref().and_then(|attr| {
                a.alias_by_attribute
                    .iter()
                    .find(|(name, _, _)| name == attr)
                    .map(|(_, kind, key)| (*kind, key.as_str()))
            });
            if let Some((kind, key)) = alias {
                let holder = alias_holder(&mut tx, a.pool_id, kind, key, self.for_update()).await?;
                if !a.force_alias && holder.is_some_and(|h| h != a.username_key) {
                    break 'decide AttemptOutcome::AliasTaken(kind);
                }
            }
            sqlx::query(
                "DELETE FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
            )
            .bind(a.pool_id)
            .bind(a.username_key)
            .bind(a.purpose)
            .execute(&mut *tx)
            .await?;
            if let Some((kind, key)) = alias {
                claim_alias(
                    &mut tx,
                    a.pool_id,
                    kind,
                    key,
                    a.username_key,
                    a.now,
                    self.for_update(),
                )
                .await?;
            }
            let mut attributes = attrs_from_json(&row.try_get::<String, _>("attributes")?)?;
            if let Some(attr) = &attribute {
                attributes.insert(format!("{attr}_verified"), "true".to_string());
            }
            sqlx::query(
                "UPDATE users SET status = $3, attributes = $4, updated_at = $5 WHERE pool_id = $1 AND username_key = $2",
            )
            .bind(a.pool_id)
            .bind(a.username_key)
            .bind(UserStatus::Confirmed.as_str())
            .bind(attrs_to_json(&attributes))
            .bind(a.now)
            .execute(&mut *tx)
            .await?;
            insert_event(&mut tx, a.pool_id, a.username_key, &a.pass_event).await?;
            AttemptOutcome::Confirmed(attributes)
        };
        tx.commit().await?;
        Ok(outcome)
    }

    fn for_update(&self) -> &'static str {
        // SQLite has no row locks (and no FOR UPDATE); its single writer already serialises.
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }

    pub async fn record_event(
        &self,
        pool_id: &str,
        username_key: &str,
        ev: &EventRecord,
    ) -> Result<()> {
        let mut tx = self.writer.begin().await?;
        insert_event(&mut tx, pool_id, username_key, ev).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_events(&self, pool_id: &str, username_key: &str) -> Result<Vec<EventRecord>> {
        let rows = sqlx::query(
            "SELECT event_type, outcome, ip_address, encoded_data, analytics_endpoint_id, created_at FROM user_events \
             WHERE pool_id = $1 AND username_key = $2 ORDER BY id",
        )
        .bind(pool_id)
        .bind(username_key)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(EventRecord {
                    event_type: r.try_get("event_type")?,
                    outcome: r.try_get("outcome")?,
                    ip_address: r.try_get("ip_address")?,
                    encoded_data: r.try_get("encoded_data")?,
                    analytics_endpoint_id: r.try_get("analytics_endpoint_id")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    // ---------------------------------------------------------------- messages

    pub async fn insert_message(&self, m: &MessageRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO messages (pool_id, username, medium, destination, subject, body, code, provider, provider_message_id, sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&m.pool_id)
        .bind(&m.username)
        .bind(&m.medium)
        .bind(&m.destination)
        .bind(m.subject.as_deref())
        .bind(m.body.as_deref())
        .bind(m.code.as_deref())
        .bind(&m.provider)
        .bind(m.provider_message_id.as_deref())
        .bind(m.sent_at)
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    /// Messages oldest first, optionally for one pool and/or username.
    pub async fn list_messages(
        &self,
        pool_id: Option<&str>,
        username: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        let rows = sqlx::query(
            "SELECT pool_id, username, medium, destination, subject, body, code, provider, provider_message_id, sent_at FROM ( \
               SELECT id, pool_id, username, medium, destination, subject, body, code, provider, provider_message_id, sent_at FROM messages \
               WHERE ($1 = '' OR pool_id = $1) AND ($2 = '' OR username = $2) ORDER BY id DESC LIMIT $3) recent ORDER BY id",
        )
        .bind(pool_id.unwrap_or(""))
        .bind(username.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(MessageRecord::from_row).collect()
    }
}

async fn insert_code(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pool_id: &str,
    username_key: &str,
    code: &CodeRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO codes (pool_id, username_key, purpose, digest, attribute, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (pool_id, username_key, purpose) DO UPDATE SET digest = excluded.digest, attribute = excluded.attribute, \
         expires_at = excluded.expires_at, created_at = excluded.created_at",
    )
    .bind(pool_id)
    .bind(username_key)
    .bind(&code.purpose)
    .bind(code.digest.clone())
    .bind(code.attribute.as_deref())
    .bind(code.expires_at)
    .bind(code.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pool_id: &str,
    username_key: &str,
    ev: &EventRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO user_events (pool_id, username_key, event_type, outcome, ip_address, encoded_data, analytics_endpoint_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(pool_id)
    .bind(username_key)
    .bind(&ev.event_type)
    .bind(&ev.outcome)
    .bind(ev.ip_address.as_deref())
    .bind(ev.encoded_data.as_deref())
    .bind(ev.analytics_endpoint_id.as_deref())
    .bind(ev.created_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn alias_holder(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pool_id: &str,
    kind: AliasKind,
    value_key: &str,
    lock: &str,
) -> Result<Option<String>> {
    let row = sqlx::query(&format!(
        "SELECT username_key FROM user_aliases WHERE pool_id = $1 AND kind = $2 AND value_key = $3{lock}"
    ))
    .bind(pool_id)
    .bind(kind.as_str())
    .bind(value_key)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|r| {
        r.try_get::<String, _>("username_key")
            .map_err(StoreError::from)
    })
    .transpose()
}

/// Gives an alias to a user. When another user holds it, it moves: the previous holder keeps
/// the attribute value but it is no longer verified, so it can no longer sign in with it.
async fn claim_alias(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pool_id: &str,
    kind: AliasKind,
    value_key: &str,
    username_key: &str,
    now: i64,
    lock: &str,
) -> Result<()> {
    let previous = alias_holder(tx, pool_id, kind, value_key, lock).await?;
    sqlx::query(
        "INSERT INTO user_aliases (pool_id, kind, value_key, username_key) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (pool_id, kind, value_key) DO UPDATE SET username_key = excluded.username_key",
    )
    .bind(pool_id)
    .bind(kind.as_str())
    .bind(value_key)
    .bind(username_key)
    .execute(&mut **tx)
    .await?;
    if let Some(holder) = previous.filter(|h| h != username_key) {
        unverify_attribute(tx, pool_id, &holder, kind.attribute(), now).await?;
    }
    Ok(())
}

async fn unverify_attribute(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    pool_id: &str,
    username_key: &str,
    attribute: &str,
    now: i64,
) -> Result<()> {
    let row = sqlx::query("SELECT attributes FROM users WHERE pool_id = $1 AND username_key = $2")
        .bind(pool_id)
        .bind(username_key)
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Ok(()) };
    let mut attrs = attrs_from_json(&row.try_get::<String, _>("attributes")?)?;
    attrs.insert(format!("{attribute}_verified"), "false".to_string());
    sqlx::query(
        "UPDATE users SET attributes = $3, updated_at = $4 WHERE pool_id = $1 AND username_key = $2",
    )
    .bind(pool_id)
    .bind(username_key)
    .bind(attrs_to_json(&attrs))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds one to a per-user hourly counter, restarting it when its window has passed.
const BUMP_COUNTER: &str = "INSERT INTO attempt_counters (pool_id, username_key, action, window_start, count) VALUES ($1, $2, $3, $4, 1) \
     ON CONFLICT (pool_id, username_key, action) DO UPDATE SET \
       count = CASE WHEN attempt_counters.window_start <= $5 THEN 1 ELSE attempt_counters.count + 1 END, \
       window_start = CASE WHEN attempt_counters.window_start <= $5 THEN $4 ELSE attempt_counters.window_start END \
     RETURNING count";

const USER_COLUMNS: &str = "pool_id, username_key, username, sub, status, enabled, attributes, password_hash, srp_salt, srp_verifier, created_at, updated_at";
const USER_COLUMNS_U: &str = "u.pool_id, u.username_key, u.username, u.sub, u.status, u.enabled, u.attributes, u.password_hash, u.srp_salt, u.srp_verifier, u.created_at, u.updated_at";

fn attrs_to_json(attrs: &BTreeMap<String, String>) -> String {
    serde_json::to_string(attrs).unwrap_or_else(|_| "{}".to_string())
}

fn attrs_from_json(text: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("user attributes: {e}")))
}

impl UserRecord {
    fn from_row(r: &AnyRow) -> Result<Self> {
        let status: String = r.try_get("status")?;
        Ok(UserRecord {
            pool_id: r.try_get("pool_id")?,
            username_key: r.try_get("username_key")?,
            username: r.try_get("username")?,
            sub: r.try_get("sub")?,
            status: UserStatus::parse(&status)
                .ok_or_else(|| StoreError::Corrupt(format!("user status {status}")))?,
            enabled: r.try_get::<i64, _>("enabled")? != 0,
            attributes: attrs_from_json(&r.try_get::<String, _>("attributes")?)?,
            password_hash: r.try_get("password_hash")?,
            srp_salt: r.try_get("srp_salt")?,
            srp_verifier: r.try_get("srp_verifier")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
        })
    }
}
