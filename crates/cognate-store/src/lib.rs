//! Durable state behind a domain-level interface (pools, clients, users, codes, counters,
//! messages), implementing cognate-core's `Directory` port. Every query and transaction is
//! written once, against `db::Tx` / `db::Db`, and runs on SQLite (rusqlite: synchronous reads,
//! one group-committing writer thread) or PostgreSQL (sqlx). A transaction loads what a rule
//! of `cognate_core::rules` needs, runs the rule, and writes what it decided. The SQL is portable (`$N` placeholders, `ON CONFLICT`, `RETURNING`); the few
//! dialect differences are spelled out where they occur. Uniqueness and counters are
//! enforced by the database (primary keys, unique indexes, atomic upserts, conditional
//! updates), never by in-process locks, so several server instances can share one database.

mod account;
mod bulk;
pub(crate) mod db;
mod error;
mod migrate;
mod secrets;
mod sqlite;

pub use cognate_core::ports::{Conflict, Directory, StoreError};
use cognate_core::records::*;
use cognate_core::rules::confirmation::{
    self, AliasClaim, ConfirmSnapshot, Decision, StoredCode, UserState,
};
use cognate_core::rules::limits;
use cognate_core::rules::lockout::{self, SignInFailures};
use cognate_core::rules::sessions;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use std::path::Path;

use sqlx::any::AnyPoolOptions;

use async_trait::async_trait;
use cognate_crypto::seal::MasterKeys;
pub use secrets::SealReport;

use db::{params, Db, Row, Tx};
use error::from_sqlx;

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
    db: Db,
    /// Seals signing keys and client secrets at rest (`None`: written in plaintext, as tests
    /// and tools without a key file do; sealed values then cannot be read).
    sealer: Option<Arc<MasterKeys>>,
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

/// `FOR UPDATE` where the database has row locks. SQLite has none (and no FOR UPDATE): its
/// single writer already serialises.
fn for_update(dialect: Backend) -> &'static str {
    match dialect {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    }
}

impl Store {
    pub async fn open(url: &str, opts: &StoreOptions) -> Result<Self> {
        let db = match backend_for_url(url)? {
            Backend::Sqlite => Db::Sqlite(sqlite::Lite::open(url, opts.max_connections)?),
            Backend::Postgres => {
                sqlx::any::install_default_drivers();
                Db::Postgres(
                    AnyPoolOptions::new()
                        .max_connections(opts.max_connections.max(1))
                        .acquire_timeout(Duration::from_secs(30))
                        .connect(url)
                        .await
                        .map_err(from_sqlx)?,
                )
            }
        };
        let store = Store { db, sealer: None };
        if opts.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Seals secrets written from now on with `keys`, and opens sealed ones with them.
    pub fn with_master_keys(mut self, keys: Arc<MasterKeys>) -> Self {
        self.sealer = Some(keys);
        self
    }

    pub fn backend(&self) -> Backend {
        self.db.backend()
    }

    pub async fn migrate(&self) -> Result<Vec<String>> {
        self.db.transact(migrate::run).await
    }

    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite(lite) => lite.close().await,
            Db::Postgres(pool) => pool.close().await,
        }
    }

    /// Text of one attribute inside the JSON attribute map.
    fn json_text(&self, name: &str) -> String {
        // Attribute names reaching here come from a fixed allow-list (ListUsers' searchable
        // standard attributes), so they are safe to inline.
        let safe: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        match self.backend() {
            Backend::Sqlite => format!("json_extract(attributes, '$.{safe}')"),
            Backend::Postgres => format!("(attributes::jsonb ->> '{safe}')"),
        }
    }
}

#[async_trait]
impl Directory for Store {
    async fn ping(&self) -> Result<()> {
        self.db.fetch_optional("SELECT 1", params![]).await?;
        Ok(())
    }

    /// A server-wide secret, created once by whichever instance gets there first.
    async fn server_secret(&self, name: &str, fresh: Vec<u8>) -> Result<Vec<u8>> {
        let fresh = secrets::seal_server_secret(self.sealer.as_deref(), name, fresh)?;
        let name_ref = name;
        let name = name.to_string();
        let stored = self.db.transact(move |tx, _dialect| {
            tx.execute(
                "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                params![&name, fresh.as_slice()],
            )?;
            tx.fetch_optional(
                "SELECT value FROM server_secrets WHERE name = $1",
                params![&name],
            )?
            .ok_or_else(|| StoreError::Corrupt(format!("server secret {name} vanished")))?
            .get::<Vec<u8>>("value")
        }).await?;
        secrets::open_server_secret(self.sealer.as_deref(), name_ref, stored)
    }

    // ---------------------------------------------------------------- user pools

    async fn insert_pool(&self, pool: &PoolRecord) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO user_pools (id, name, config, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
                params![&pool.id, &pool.name, &pool.config, pool.created_at, pool.updated_at],
            )
            .await?;
        Ok(())
    }

    async fn get_pool(&self, id: &str) -> Result<Option<PoolRecord>> {
        self.db
            .fetch_optional(
                "SELECT id, name, config, created_at, updated_at FROM user_pools WHERE id = $1",
                params![id],
            )
            .await?
            .map(|r| pool_from_row(&r))
            .transpose()
    }

    /// Replaces a pool's settings (false when the pool is gone) and raises the revision of
    /// each of its clients, so that they see the change (`client_revision`).
    async fn update_pool(&self, pool: &PoolRecord, expected_config: &str) -> Result<PoolUpdate> {
        let (pool, expected) = (pool.clone(), expected_config.to_string());
        self.db
            .transact(move |tx, _dialect| {
                let changed = tx.execute(
                    "UPDATE user_pools SET name = $2, config = $3, updated_at = $4 \
                     WHERE id = $1 AND config = $5",
                    params![
                        &pool.id,
                        &pool.name,
                        &pool.config,
                        pool.updated_at,
                        &expected
                    ],
                )?;
                if changed != 1 {
                    let exists = tx
                        .fetch_optional(
                            "SELECT 1 AS one FROM user_pools WHERE id = $1",
                            params![&pool.id],
                        )?
                        .is_some();
                    return Ok(if exists {
                        PoolUpdate::Changed
                    } else {
                        PoolUpdate::Gone
                    });
                }
                tx.execute(
                    "UPDATE user_pool_clients SET revision = revision + 1 WHERE pool_id = $1",
                    params![&pool.id],
                )?;
                Ok(PoolUpdate::Updated)
            })
            .await
    }

    async fn delete_pool(&self, id: &str) -> Result<bool> {
        let changed = self
            .db
            .execute("DELETE FROM user_pools WHERE id = $1", params![id])
            .await?;
        Ok(changed == 1)
    }

    /// Pools ordered by id, starting after `after`.
    async fn list_pools(&self, after: Option<&str>, limit: i64) -> Result<Vec<PoolRecord>> {
        self.db
            .fetch_all(
                "SELECT id, name, config, created_at, updated_at FROM user_pools WHERE id > $1 ORDER BY id LIMIT $2",
                params![after.unwrap_or(""), limit],
            )
            .await?
            .iter()
            .map(pool_from_row)
            .collect()
    }

    async fn count_users(&self, pool_id: &str) -> Result<i64> {
        self.db
            .fetch_all(
                "SELECT COUNT(*) AS n FROM users WHERE pool_id = $1",
                params![pool_id],
            )
            .await?
            .first()
            .ok_or_else(|| StoreError::Database("COUNT returned no row".to_string()))?
            .get::<i64>("n")
    }

    // ---------------------------------------------------------------- app clients

    async fn insert_client(&self, client: &ClientRecord) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO user_pool_clients (client_id, pool_id, config, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)",
                params![
                    &client.client_id,
                    &client.pool_id,
                    &self.seal_client_config(&client.client_id, &client.config)?,
                    client.created_at,
                    client.updated_at
                ],
            )
            .await?;
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<ClientRecord>> {
        self.db
            .fetch_optional(
                "SELECT client_id, pool_id, config, created_at, updated_at FROM user_pool_clients WHERE client_id = $1",
                params![client_id],
            )
            .await?
            .map(|r| self.client_from_row(&r))
            .transpose()
    }

    /// A client's revision, which every change to its settings or its pool's raises, read from
    /// a covering index (not the settings JSON): the hot path of every client-facing call
    /// checks the settings it parsed against it.
    async fn client_revision(&self, client_id: &str) -> Result<Option<i64>> {
        self.db
            .fetch_optional(
                "SELECT revision FROM user_pool_clients WHERE client_id = $1",
                params![client_id],
            )
            .await?
            .map(|r| r.get("revision"))
            .transpose()
    }

    /// A client and its pool in one round trip, with the client's revision.
    async fn get_client_with_pool(
        &self,
        client_id: &str,
    ) -> Result<Option<(ClientRecord, PoolRecord, i64)>> {
        let row = self
            .db
            .fetch_optional(
                "SELECT c.client_id, c.pool_id, c.config, c.created_at, c.updated_at, c.revision, \
                        p.id, p.name, p.config AS pool_config, p.created_at AS pool_created_at, p.updated_at AS pool_updated_at \
                 FROM user_pool_clients c JOIN user_pools p ON p.id = c.pool_id WHERE c.client_id = $1",
                params![client_id],
            )
            .await?;
        row.map(|r| {
            Ok((
                self.client_from_row(&r)?,
                PoolRecord {
                    id: r.get("id")?,
                    name: r.get("name")?,
                    config: r.get("pool_config")?,
                    created_at: r.get("pool_created_at")?,
                    updated_at: r.get("pool_updated_at")?,
                },
                r.get("revision")?,
            ))
        })
        .transpose()
    }

    async fn update_client(&self, client: &ClientRecord) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE user_pool_clients SET config = $3, updated_at = $4, revision = revision + 1 WHERE client_id = $1 AND pool_id = $2",
                params![
                    &client.client_id,
                    &client.pool_id,
                    &self.seal_client_config(&client.client_id, &client.config)?,
                    client.updated_at
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn delete_client(&self, pool_id: &str, client_id: &str) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "DELETE FROM user_pool_clients WHERE client_id = $1 AND pool_id = $2",
                params![client_id, pool_id],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn list_clients(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ClientRecord>> {
        self.db
            .fetch_all(
                "SELECT client_id, pool_id, config, created_at, updated_at FROM user_pool_clients WHERE pool_id = $1 AND client_id > $2 ORDER BY client_id LIMIT $3",
                params![pool_id, after.unwrap_or(""), limit],
            )
            .await?
            .iter()
            .map(|r| self.client_from_row(r))
            .collect()
    }

    // ---------------------------------------------------------------- users

    /// Creates a user with its alias claims, its first code and a history event, atomically.
    /// A taken username or alias claim comes back as `StoreError::Conflict` naming which.
    async fn create_user(&self, new: NewUser) -> Result<()> {
        self.db
            .transact(move |tx, dialect| create_user_in(tx, dialect, &new))
            .await
    }

    /// The user a name given by a caller refers to, in one query: the user of that username,
    /// else the holder of the first alias in `lookup.aliases` that someone holds, else the user
    /// with that `sub`.
    async fn find_user(&self, pool_id: &str, lookup: &UserLookup) -> Result<Option<UserRecord>> {
        let mut params = params![pool_id, &lookup.username_key];
        for (kind, value_key) in &lookup.aliases {
            params.push(db::Param::from(kind.as_str()));
            params.push(db::Param::from(value_key));
        }
        if let Some(sub) = &lookup.sub {
            params.push(db::Param::from(sub));
        }
        let sql = find_user_sql(lookup.aliases.len(), lookup.sub.is_some());
        self.db
            .fetch_optional(&sql, params)
            .await?
            .map(|r| user_from_row(&r))
            .transpose()
    }

    async fn delete_user(&self, pool_id: &str, username_key: &str) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "DELETE FROM users WHERE pool_id = $1 AND username_key = $2",
                params![pool_id, username_key],
            )
            .await?;
        Ok(changed == 1)
    }

    /// Users ordered by username key, after `after`, optionally filtered.
    async fn list_users(
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
                // The caller passes the username as the pool compares it (its key).
                FilterField::Username => "username_key".to_string(),
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
        let mut params = params![pool_id, after.unwrap_or(""), limit];
        if let Some(f) = filter {
            params.push(db::Param::from(&f.value));
        }
        self.db
            .fetch_all(&sql, params)
            .await?
            .iter()
            .map(user_from_row)
            .collect()
    }

    /// Issues a new code for a user, replacing (and so invalidating) the previous one, and
    /// records the event, atomically. With a `limit`, the user's hourly counter for its
    /// action is bumped in the same transaction and nothing is issued once it is exceeded.
    async fn issue_code(&self, issue: CodeIssue) -> Result<IssueOutcome> {
        self.db
            .transact(move |tx, _dialect| issue_code_in(tx, &issue))
            .await
    }

    /// Moves an UNCONFIRMED user to CONFIRMED without a code (AdminConfirmSignUp), removing
    /// any sign-up code left, marking the attribute verified and claiming the alias.
    async fn confirm_user(&self, c: Confirmation) -> Result<ConfirmOutcome> {
        self.db
            .transact(move |tx, dialect| confirm_user_in(tx, dialect, &c))
            .await
    }

    /// One ConfirmSignUp attempt, decided and applied in one transaction (see `ConfirmAttempt`).
    async fn attempt_confirmation(&self, a: ConfirmAttempt) -> Result<AttemptOutcome> {
        self.db
            .transact(move |tx, dialect| attempt_confirmation_in(tx, dialect, &a))
            .await
    }

    // ---------------------------------------------------------------- messages

    async fn signing_keys(&self, pool_id: &str) -> Result<Vec<SigningKeyRecord>> {
        self.db
            .fetch_all(SELECT_SIGNING_KEYS, params![pool_id])
            .await?
            .iter()
            .map(|r| self.open_signing_key(pool_id, signing_key_from_row(r)?))
            .collect()
    }

    async fn add_signing_keys(
        &self,
        pool_id: &str,
        keys: Vec<SigningKeyRecord>,
    ) -> Result<Vec<SigningKeyRecord>> {
        let keys = self.seal_signing_keys(pool_id, keys)?;
        let pool_id_ref = pool_id;
        let pool_id = pool_id.to_string();
        let stored: Vec<SigningKeyRecord> = self
            .db
            .transact(move |tx, dialect| {
                // The pool row serialises instances that add keys at the same moment.
                tx.fetch_optional(
                    &format!(
                        "SELECT id FROM user_pools WHERE id = $1{}",
                        for_update(dialect)
                    ),
                    params![&pool_id],
                )?;
                let live = tx.fetch_optional(
                    "SELECT kid FROM signing_keys WHERE pool_id = $1 AND retired_at IS NULL LIMIT 1",
                    params![&pool_id],
                )?;
                if live.is_none() {
                    insert_signing_keys_in(tx, &pool_id, &keys)?;
                }
                tx.fetch_all(SELECT_SIGNING_KEYS, params![&pool_id])?
                    .iter()
                    .map(signing_key_from_row)
                    .collect()
            })
            .await?;
        stored
            .into_iter()
            .map(|key| self.open_signing_key(pool_id_ref, key))
            .collect()
    }

    async fn rotate_signing_keys(
        &self,
        pool_id: &str,
        now: i64,
        keys: Vec<SigningKeyRecord>,
    ) -> Result<Option<u64>> {
        let keys = self.seal_signing_keys(pool_id, keys)?;
        let pool_id = pool_id.to_string();
        self.db
            .transact(move |tx, dialect| {
                let pool = tx.fetch_optional(
                    &format!(
                        "SELECT id FROM user_pools WHERE id = $1{}",
                        for_update(dialect)
                    ),
                    params![&pool_id],
                )?;
                if pool.is_none() {
                    return Ok(None);
                }
                let retired = tx.execute(
                    "UPDATE signing_keys SET retired_at = $2 WHERE pool_id = $1 AND retired_at IS NULL",
                    params![&pool_id, now],
                )?;
                insert_signing_keys_in(tx, &pool_id, &keys)?;
                Ok(Some(retired))
            })
            .await
    }

    async fn insert_refresh_token(&self, t: RefreshTokenRecord) -> Result<()> {
        self.db
            .transact(move |tx, _dialect| insert_refresh_token_in(tx, &t))
            .await
    }

    async fn refresh_token(&self, digest: &[u8]) -> Result<Option<RefreshTokenRecord>> {
        self.db
            .fetch_optional(
                "SELECT digest, pool_id, username_key, client_id, origin_jti, auth_time, issued_at, expires_at, revoked_at, scopes \
                 FROM refresh_tokens WHERE digest = $1",
                params![digest],
            )
            .await?
            .map(|r| {
                Ok(RefreshTokenRecord {
                    digest: r.get("digest")?,
                    pool_id: r.get("pool_id")?,
                    username_key: r.get("username_key")?,
                    client_id: r.get("client_id")?,
                    origin_jti: r.get("origin_jti")?,
                    auth_time: r.get("auth_time")?,
                    issued_at: r.get("issued_at")?,
                    expires_at: r.get("expires_at")?,
                    revoked_at: r.get("revoked_at")?,
                    scopes: r.get("scopes")?,
                })
            })
            .transpose()
    }

    async fn revoke_refresh_family(&self, origin_jti: &str, now: i64) -> Result<u64> {
        self.db
            .execute(
                "UPDATE refresh_tokens SET revoked_at = $2 WHERE origin_jti = $1 AND (revoked_at IS NULL OR revoked_at > $2)",
                params![origin_jti, now],
            )
            .await
    }

    async fn rotate_refresh_token(
        &self,
        old_digest: &[u8],
        retire_at: i64,
        new: RefreshTokenRecord,
    ) -> Result<bool> {
        let old_digest = old_digest.to_vec();
        self.db
            .transact(move |tx, _dialect| {
                let retired = tx.execute(
                    "UPDATE refresh_tokens SET revoked_at = $2 WHERE digest = $1 AND revoked_at IS NULL",
                    params![old_digest.as_slice(), retire_at],
                )?;
                if retired != 1 {
                    return Ok(false);
                }
                insert_refresh_token_in(tx, &new)?;
                Ok(true)
            })
            .await
    }

    async fn revoke_user_refresh_tokens(
        &self,
        pool_id: &str,
        username_key: &str,
        now: i64,
    ) -> Result<u64> {
        let (pool_id, username_key) = (pool_id.to_string(), username_key.to_string());
        self.db
            .transact(move |tx, _dialect| account::sign_out_in(tx, &pool_id, &username_key, now))
            .await
    }

    async fn origin_revoked(&self, origin_jti: &str, now: i64) -> Result<Option<bool>> {
        let row = self
            .db
            .fetch_optional(
                "SELECT COUNT(*) AS tokens, COALESCE(SUM(CASE WHEN revoked_at IS NULL OR revoked_at > $2 THEN 1 ELSE 0 END), 0) AS live \
                 FROM refresh_tokens WHERE origin_jti = $1",
                params![origin_jti, now],
            )
            .await?
            .ok_or_else(|| StoreError::Database("COUNT returned no row".to_string()))?;
        let tokens: i64 = row.get("tokens")?;
        let live: i64 = row.get("live")?;
        Ok((tokens > 0).then_some(live == 0))
    }

    async fn set_password(&self, c: PasswordChange) -> Result<bool> {
        self.db
            .transact(move |tx, _dialect| account::set_password_in(tx, &c))
            .await
    }

    async fn password_history(
        &self,
        pool_id: &str,
        username_key: &str,
        limit: i64,
    ) -> Result<Vec<String>> {
        self.db
            .fetch_all(
                "SELECT password_hash FROM password_history WHERE pool_id = $1 AND username_key = $2 \
                 ORDER BY seq DESC LIMIT $3",
                params![pool_id, username_key, limit],
            )
            .await?
            .iter()
            .map(|r| r.get::<String>("password_hash"))
            .collect()
    }

    async fn reset_password(&self, r: PasswordReset) -> Result<ResetOutcome> {
        self.db
            .transact(move |tx, dialect| account::reset_password_in(tx, dialect, &r))
            .await
    }

    async fn update_attributes(&self, u: AttributeUpdate) -> Result<UpdateOutcome> {
        self.db
            .transact(move |tx, dialect| account::update_attributes_in(tx, dialect, &u))
            .await
    }

    async fn verify_attribute(&self, v: AttributeVerification) -> Result<VerifyOutcome> {
        self.db
            .transact(move |tx, dialect| account::verify_attribute_in(tx, dialect, &v))
            .await
    }

    async fn insert_auth_session(&self, a: AuthSessionRecord) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO auth_sessions (digest, pool_id, client_id, name_key, challenge, state, created_at, expires_at, used_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                params![
                    a.digest.as_slice(),
                    &a.pool_id,
                    &a.client_id,
                    &a.name_key,
                    &a.challenge,
                    &a.state,
                    a.created_at,
                    a.expires_at,
                    db::Param::Int(a.used_at)
                ],
            )
            .await?;
        Ok(())
    }

    async fn take_auth_session(&self, digest: &[u8], now: i64) -> Result<SessionTake> {
        let digest = digest.to_vec();
        self.db
            .transact(move |tx, dialect| {
                let found = tx
                    .fetch_optional(
                        &format!(
                            "SELECT digest, pool_id, client_id, name_key, challenge, state, created_at, expires_at, used_at \
                             FROM auth_sessions WHERE digest = $1{}",
                            for_update(dialect)
                        ),
                        params![digest.as_slice()],
                    )?
                    .map(|r| -> Result<AuthSessionRecord> {
                        Ok(AuthSessionRecord {
                            digest: r.get("digest")?,
                            pool_id: r.get("pool_id")?,
                            client_id: r.get("client_id")?,
                            name_key: r.get("name_key")?,
                            challenge: r.get("challenge")?,
                            state: r.get("state")?,
                            created_at: r.get("created_at")?,
                            expires_at: r.get("expires_at")?,
                            used_at: r.get("used_at")?,
                        })
                    })
                    .transpose()?;
                let outcome = sessions::take(found, now);
                if matches!(outcome, SessionTake::Taken(_)) {
                    tx.execute(
                        "UPDATE auth_sessions SET used_at = $2 WHERE digest = $1",
                        params![digest.as_slice(), now],
                    )?;
                }
                Ok(outcome)
            })
            .await
    }

    // ---------------------------------------------------------------- OAuth codes, sessions

    async fn insert_authorization_code(&self, c: AuthorizationCodeRecord) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO oauth_codes (digest, pool_id, client_id, username_key, redirect_uri, scopes, nonce, \
                 code_challenge, code_challenge_method, auth_time, created_at, expires_at, consumed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
                params![
                    c.digest.as_slice(),
                    &c.pool_id,
                    &c.client_id,
                    &c.username_key,
                    &c.redirect_uri,
                    &c.scopes,
                    c.nonce.clone(),
                    c.code_challenge.clone(),
                    c.code_challenge_method.clone(),
                    c.auth_time,
                    c.created_at,
                    c.expires_at,
                    db::Param::Int(c.consumed_at)
                ],
            )
            .await?;
        Ok(())
    }

    async fn take_authorization_code(&self, digest: &[u8], now: i64) -> Result<CodeTake> {
        let digest = digest.to_vec();
        self.db
            .transact(move |tx, _dialect| {
                // The update decides: of two racing exchanges one changes the row, the other
                // (waiting on its lock on PostgreSQL, after it on SQLite's one writer) none.
                let consumed = tx.execute(
                    "UPDATE oauth_codes SET consumed_at = $2 \
                     WHERE digest = $1 AND consumed_at IS NULL AND expires_at > $2",
                    params![digest.as_slice(), now],
                )?;
                let found = tx
                    .fetch_optional(
                        "SELECT digest, pool_id, client_id, username_key, redirect_uri, scopes, nonce, \
                         code_challenge, code_challenge_method, auth_time, created_at, expires_at, consumed_at \
                         FROM oauth_codes WHERE digest = $1",
                        params![digest.as_slice()],
                    )?
                    .map(|r| -> Result<AuthorizationCodeRecord> {
                        Ok(AuthorizationCodeRecord {
                            digest: r.get("digest")?,
                            pool_id: r.get("pool_id")?,
                            client_id: r.get("client_id")?,
                            username_key: r.get("username_key")?,
                            redirect_uri: r.get("redirect_uri")?,
                            scopes: r.get("scopes")?,
                            nonce: r.get("nonce")?,
                            code_challenge: r.get("code_challenge")?,
                            code_challenge_method: r.get("code_challenge_method")?,
                            auth_time: r.get("auth_time")?,
                            created_at: r.get("created_at")?,
                            expires_at: r.get("expires_at")?,
                            consumed_at: r.get("consumed_at")?,
                        })
                    })
                    .transpose()?;
                Ok(match found {
                    None => CodeTake::Unknown,
                    Some(code) if consumed == 1 => CodeTake::Taken(Box::new(code)),
                    Some(code) if code.consumed_at.is_some() => CodeTake::AlreadyUsed,
                    Some(_) => CodeTake::Expired,
                })
            })
            .await
    }

    async fn insert_login_session(&self, s: LoginSessionRecord) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO login_sessions (digest, pool_id, username_key, auth_time, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    s.digest.as_slice(),
                    &s.pool_id,
                    &s.username_key,
                    s.auth_time,
                    s.created_at,
                    s.expires_at
                ],
            )
            .await?;
        Ok(())
    }

    async fn login_session(&self, digest: &[u8], now: i64) -> Result<Option<LoginSessionRecord>> {
        self.db
            .fetch_optional(
                "SELECT digest, pool_id, username_key, auth_time, created_at, expires_at \
                 FROM login_sessions WHERE digest = $1 AND expires_at > $2",
                params![digest, now],
            )
            .await?
            .map(|r| {
                Ok(LoginSessionRecord {
                    digest: r.get("digest")?,
                    pool_id: r.get("pool_id")?,
                    username_key: r.get("username_key")?,
                    auth_time: r.get("auth_time")?,
                    created_at: r.get("created_at")?,
                    expires_at: r.get("expires_at")?,
                })
            })
            .transpose()
    }

    async fn delete_login_session(&self, digest: &[u8]) -> Result<()> {
        self.db
            .execute(
                "DELETE FROM login_sessions WHERE digest = $1",
                params![digest],
            )
            .await?;
        Ok(())
    }

    async fn sign_in_failures(
        &self,
        pool_id: &str,
        name_key: &str,
    ) -> Result<Option<SignInFailures>> {
        self.db
            .fetch_optional(
                "SELECT failures, last_failure_at FROM sign_in_failures WHERE pool_id = $1 AND name_key = $2",
                params![pool_id, name_key],
            )
            .await?
            .map(|r| failures_from_row(&r))
            .transpose()
    }

    async fn record_sign_in_failure(
        &self,
        pool_id: &str,
        name_key: &str,
        now: i64,
    ) -> Result<SignInFailures> {
        let (pool_id, name_key) = (pool_id.to_string(), name_key.to_string());
        self.db
            .transact(move |tx, dialect| {
                let state = tx
                    .fetch_optional(
                        &format!(
                            "SELECT failures, last_failure_at FROM sign_in_failures WHERE pool_id = $1 AND name_key = $2{}",
                            for_update(dialect)
                        ),
                        params![&pool_id, &name_key],
                    )?
                    .map(|r| failures_from_row(&r))
                    .transpose()?;
                let next = lockout::after_failure(state, now);
                tx.execute(
                    "INSERT INTO sign_in_failures (pool_id, name_key, failures, last_failure_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (pool_id, name_key) DO UPDATE SET failures = excluded.failures, last_failure_at = excluded.last_failure_at",
                    params![&pool_id, &name_key, next.failures, next.last_failure_at],
                )?;
                Ok(next)
            })
            .await
    }

    async fn count_attempt(
        &self,
        pool_id: &str,
        username_key: &str,
        limit: &AttemptLimit,
        now: i64,
    ) -> Result<bool> {
        let (pool_id, username_key, limit) =
            (pool_id.to_string(), username_key.to_string(), limit.clone());
        self.db
            .transact(move |tx, _dialect| {
                let exists = tx
                    .fetch_optional(
                        "SELECT 1 AS one FROM users WHERE pool_id = $1 AND username_key = $2",
                        params![&pool_id, &username_key],
                    )?
                    .is_some();
                if !exists {
                    return Ok(false);
                }
                let count = bump_counter(tx, &pool_id, &username_key, &limit, now)?;
                Ok(limits::allows(&limit, count))
            })
            .await
    }

    async fn count_name_attempt(
        &self,
        pool_id: &str,
        name_key: &str,
        limit: &AttemptLimit,
        now: i64,
    ) -> Result<bool> {
        // A write: through the transaction path (SQLite's single writer).
        let params = params![
            pool_id,
            name_key,
            &limit.action,
            now,
            limits::window_expired_before(limit, now)
        ];
        let limit = limit.clone();
        self.db
            .transact(move |tx, _dialect| {
                let count: i64 = tx
                    .fetch_optional(BUMP_NAME_COUNTER, params)?
                    .ok_or_else(|| {
                        StoreError::Database("counter upsert returned no row".to_string())
                    })?
                    .get("count")?;
                Ok(limits::allows(&limit, count))
            })
            .await
    }

    async fn clear_sign_in_failures(&self, pool_id: &str, name_key: &str) -> Result<()> {
        self.db
            .execute(
                "DELETE FROM sign_in_failures WHERE pool_id = $1 AND name_key = $2",
                params![pool_id, name_key],
            )
            .await?;
        Ok(())
    }

    async fn delete_expired(&self, cutoffs: SweepCutoffs, batch: i64) -> Result<Swept> {
        // Each table in its own short statement, at most `batch` rows, so that a sweep never
        // holds the SQLite writer (or PostgreSQL row locks) for long.
        let delete = |table: &str, key: &str, time: &str, cutoff: i64| {
            let sql = format!(
                "DELETE FROM {table} WHERE ({key}) IN \
                 (SELECT {key} FROM {table} WHERE {time} < $1 LIMIT $2)"
            );
            async move { self.db.execute(&sql, params![cutoff, batch]).await }
        };
        Ok(Swept {
            auth_sessions: delete(
                "auth_sessions",
                "digest",
                "expires_at",
                cutoffs.sessions_expired_before,
            )
            .await?,
            refresh_tokens: delete(
                "refresh_tokens",
                "digest",
                "expires_at",
                cutoffs.refresh_expired_before,
            )
            .await?,
            sign_in_failures: delete(
                "sign_in_failures",
                "pool_id, name_key",
                "last_failure_at",
                cutoffs.failures_before,
            )
            .await?,
            oauth_codes: delete(
                "oauth_codes",
                "digest",
                "expires_at",
                cutoffs.sessions_expired_before,
            )
            .await?,
            login_sessions: delete(
                "login_sessions",
                "digest",
                "expires_at",
                cutoffs.sessions_expired_before,
            )
            .await?,
            attempt_counters: delete(
                "attempt_counters",
                "pool_id, username_key, action",
                "window_start",
                cutoffs.attempt_windows_before,
            )
            .await?
                + delete(
                    "name_attempt_counters",
                    "pool_id, name_key, action",
                    "window_start",
                    cutoffs.attempt_windows_before,
                )
                .await?,
        })
    }

    // ---------------------------------------------------------------- auth events

    async fn record_event(
        &self,
        pool_id: &str,
        username_key: &str,
        ev: &EventRecord,
    ) -> Result<()> {
        let (pool_id, username_key, ev) =
            (pool_id.to_string(), username_key.to_string(), ev.clone());
        self.db
            .transact(move |tx, _dialect| {
                let exists = tx
                    .fetch_optional(
                        "SELECT 1 AS one FROM users WHERE pool_id = $1 AND username_key = $2",
                        params![&pool_id, &username_key],
                    )?
                    .is_some();
                if exists {
                    insert_event(tx, &pool_id, &username_key, &ev)?;
                }
                Ok(())
            })
            .await
    }

    async fn auth_events(
        &self,
        pool_id: &str,
        username_key: &str,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<AuthEventRecord>> {
        self.db
            .fetch_all(
                "SELECT id, event_id, device_name, event_type, outcome, ip_address, encoded_data, analytics_endpoint_id, created_at, \
                 feedback_value, feedback_provider, feedback_at FROM user_events \
                 WHERE pool_id = $1 AND username_key = $2 AND id < $3 ORDER BY id DESC LIMIT $4",
                params![pool_id, username_key, before.unwrap_or(i64::MAX), limit],
            )
            .await?
            .iter()
            .map(|r| {
                Ok(AuthEventRecord {
                    seq: r.get("id")?,
                    event: event_from_row(r)?,
                    feedback_value: r.get("feedback_value")?,
                    feedback_provider: r.get("feedback_provider")?,
                    feedback_at: r.get("feedback_at")?,
                })
            })
            .collect()
    }

    async fn set_event_feedback(
        &self,
        pool_id: &str,
        username_key: &str,
        event_id: &str,
        value: &str,
        provider: &str,
        now: i64,
    ) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE user_events SET feedback_value = $4, feedback_provider = $5, feedback_at = $6 \
                 WHERE pool_id = $1 AND username_key = $2 AND event_id = $3",
                params![pool_id, username_key, event_id, value, provider, now],
            )
            .await?;
        Ok(changed > 0)
    }

    // ---------------------------------------------------------------- groups

    async fn insert_group(&self, g: &GroupRecord) -> Result<bool> {
        let inserted = self
            .db
            .execute(
                "INSERT INTO user_groups (pool_id, name_key, name, description, role_arn, precedence, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                params![
                    &g.pool_id,
                    group_key(&g.name),
                    &g.name,
                    g.description.as_deref(),
                    g.role_arn.as_deref(),
                    db::Param::Int(g.precedence),
                    g.created_at,
                    g.updated_at
                ],
            )
            .await?;
        Ok(inserted == 1)
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> Result<Option<GroupRecord>> {
        self.db
            .fetch_optional(
                &format!(
                    "SELECT {GROUP_COLUMNS} FROM user_groups WHERE pool_id = $1 AND name_key = $2"
                ),
                params![pool_id, group_key(name)],
            )
            .await?
            .map(|r| group_from_row(&r))
            .transpose()
    }

    async fn update_group(&self, g: &GroupRecord) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE user_groups SET description = $3, role_arn = $4, precedence = $5, updated_at = $6 \
                 WHERE pool_id = $1 AND name_key = $2",
                params![
                    &g.pool_id,
                    group_key(&g.name),
                    g.description.as_deref(),
                    g.role_arn.as_deref(),
                    db::Param::Int(g.precedence),
                    g.updated_at
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "DELETE FROM user_groups WHERE pool_id = $1 AND name_key = $2",
                params![pool_id, group_key(name)],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn list_groups(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<GroupRecord>> {
        self.db
            .fetch_all(
                &format!(
                    "SELECT {GROUP_COLUMNS} FROM user_groups WHERE pool_id = $1 AND name_key > $2 \
                     ORDER BY name_key LIMIT $3"
                ),
                params![pool_id, after.unwrap_or(""), limit],
            )
            .await?
            .iter()
            .map(group_from_row)
            .collect()
    }

    async fn add_to_group(
        &self,
        pool_id: &str,
        name: &str,
        username_key: &str,
        max_groups: i64,
    ) -> Result<MembershipOutcome> {
        let (pool_id, name_key, username_key) = (
            pool_id.to_string(),
            group_key(name),
            username_key.to_string(),
        );
        self.db
            .transact(move |tx, dialect| {
                let group = tx.fetch_optional(
                    &format!(
                        "SELECT 1 AS one FROM user_groups WHERE pool_id = $1 AND name_key = $2{}",
                        for_update(dialect)
                    ),
                    params![&pool_id, &name_key],
                )?;
                if group.is_none() {
                    return Ok(MembershipOutcome::NoGroup);
                }
                // Locks the user, so that two additions cannot both pass the count.
                let user = tx.fetch_optional(
                    &format!(
                        "SELECT 1 AS one FROM users WHERE pool_id = $1 AND username_key = $2{}",
                        for_update(dialect)
                    ),
                    params![&pool_id, &username_key],
                )?;
                if user.is_none() {
                    return Ok(MembershipOutcome::NoUser);
                }
                let counts = tx
                    .fetch_optional(
                        "SELECT COUNT(*) AS n, SUM(CASE WHEN name_key = $3 THEN 1 ELSE 0 END) AS here \
                         FROM group_members WHERE pool_id = $1 AND username_key = $2",
                        params![&pool_id, &username_key, &name_key],
                    )?
                    .ok_or_else(|| StoreError::Database("COUNT returned no row".to_string()))?;
                let (n, here) = (counts.get::<i64>("n")?, counts.get::<Option<i64>>("here")?);
                if here.unwrap_or(0) > 0 {
                    return Ok(MembershipOutcome::Added);
                }
                if n >= max_groups {
                    return Ok(MembershipOutcome::TooManyGroups);
                }
                tx.execute(
                    "INSERT INTO group_members (pool_id, name_key, username_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    params![&pool_id, &name_key, &username_key],
                )?;
                Ok(MembershipOutcome::Added)
            })
            .await
    }

    async fn remove_from_group(
        &self,
        pool_id: &str,
        name: &str,
        username_key: &str,
    ) -> Result<bool> {
        let (pool_id, name_key, username_key) = (
            pool_id.to_string(),
            group_key(name),
            username_key.to_string(),
        );
        self.db
            .transact(move |tx, _dialect| {
                let group = tx.fetch_optional(
                    "SELECT 1 AS one FROM user_groups WHERE pool_id = $1 AND name_key = $2",
                    params![&pool_id, &name_key],
                )?;
                if group.is_none() {
                    return Ok(false);
                }
                tx.execute(
                    "DELETE FROM group_members WHERE pool_id = $1 AND name_key = $2 AND username_key = $3",
                    params![&pool_id, &name_key, &username_key],
                )?;
                Ok(true)
            })
            .await
    }

    async fn group_members(
        &self,
        pool_id: &str,
        name: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Option<Vec<UserRecord>>> {
        if self.get_group(pool_id, name).await?.is_none() {
            return Ok(None);
        }
        let rows = self
            .db
            .fetch_all(
                &format!(
                    "SELECT {USER_COLUMNS_U} FROM group_members m JOIN users u ON u.pool_id = m.pool_id AND u.username_key = m.username_key \
                     WHERE m.pool_id = $1 AND m.name_key = $2 AND m.username_key > $3 ORDER BY m.username_key LIMIT $4"
                ),
                params![pool_id, group_key(name), after.unwrap_or(""), limit],
            )
            .await?;
        rows.iter()
            .map(user_from_row)
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    async fn user_groups(&self, pool_id: &str, username_key: &str) -> Result<Vec<GroupRecord>> {
        self.db
            .fetch_all(
                &format!(
                    "SELECT {GROUP_COLUMNS_G} FROM group_members m JOIN user_groups g ON g.pool_id = m.pool_id AND g.name_key = m.name_key \
                     WHERE m.pool_id = $1 AND m.username_key = $2 ORDER BY m.name_key"
                ),
                params![pool_id, username_key],
            )
            .await?
            .iter()
            .map(group_from_row)
            .collect()
    }

    // ---------------------------------------------------------------- domains

    async fn insert_domain(&self, d: &DomainRecord) -> Result<DomainInsert> {
        let d = d.clone();
        self.db
            .transact(move |tx, dialect| {
                // Locks the pool, so that a concurrent deletion cannot leave a stray domain.
                let pool = tx.fetch_optional(
                    &format!(
                        "SELECT 1 AS one FROM user_pools WHERE id = $1{}",
                        for_update(dialect)
                    ),
                    params![&d.pool_id],
                )?;
                if pool.is_none() {
                    return Ok(DomainInsert::NoPool);
                }
                // Either key (the name, or the pool and kind) refuses the row; which one is
                // read afterwards.
                let inserted = tx.execute(
                    "INSERT INTO user_pool_domains (domain, pool_id, kind, certificate_arn, security_policy, managed_login_version, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
                    params![
                        &d.domain,
                        &d.pool_id,
                        domain_kind(&d),
                        d.certificate_arn.as_deref(),
                        d.security_policy.as_deref(),
                        d.managed_login_version,
                        d.created_at,
                        d.updated_at
                    ],
                )?;
                if inserted == 1 {
                    return Ok(DomainInsert::Created);
                }
                let holder = tx.fetch_optional(
                    "SELECT pool_id FROM user_pool_domains WHERE domain = $1",
                    params![&d.domain],
                )?;
                match holder {
                    Some(row) if row.get::<String>("pool_id")? != d.pool_id => {
                        Ok(DomainInsert::Taken)
                    }
                    _ => Ok(DomainInsert::PoolHasOne),
                }
            })
            .await
    }

    async fn get_domain(&self, domain: &str) -> Result<Option<DomainRecord>> {
        self.db
            .fetch_optional(
                &format!("SELECT {DOMAIN_COLUMNS} FROM user_pool_domains WHERE domain = $1"),
                params![domain],
            )
            .await?
            .map(|r| domain_from_row(&r))
            .transpose()
    }

    async fn pool_domains(&self, pool_id: &str) -> Result<Vec<DomainRecord>> {
        self.db
            .fetch_all(
                &format!(
                    "SELECT {DOMAIN_COLUMNS} FROM user_pool_domains WHERE pool_id = $1 ORDER BY kind"
                ),
                params![pool_id],
            )
            .await?
            .iter()
            .map(domain_from_row)
            .collect()
    }

    async fn update_domain(&self, d: &DomainRecord) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE user_pool_domains SET certificate_arn = $3, security_policy = $4, \
                 managed_login_version = $5, updated_at = $6 WHERE domain = $1 AND pool_id = $2",
                params![
                    &d.domain,
                    &d.pool_id,
                    d.certificate_arn.as_deref(),
                    d.security_policy.as_deref(),
                    d.managed_login_version,
                    d.updated_at
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn delete_domain(&self, pool_id: &str, domain: &str) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "DELETE FROM user_pool_domains WHERE domain = $1 AND pool_id = $2",
                params![domain, pool_id],
            )
            .await?;
        Ok(changed == 1)
    }

    // ---------------------------------------------------------------- resource servers

    async fn insert_resource_server(
        &self,
        s: &ResourceServerRecord,
        max_per_pool: i64,
    ) -> Result<ResourceServerInsert> {
        let s = s.clone();
        let scopes = scopes_to_json(&s.scopes)?;
        self.db
            .transact(move |tx, dialect| {
                // Locks the pool, so that two creations cannot both pass the count.
                let pool = tx.fetch_optional(
                    &format!(
                        "SELECT 1 AS one FROM user_pools WHERE id = $1{}",
                        for_update(dialect)
                    ),
                    params![&s.pool_id],
                )?;
                if pool.is_none() {
                    return Ok(ResourceServerInsert::NoPool);
                }
                let counts = tx
                    .fetch_optional(
                        "SELECT COUNT(*) AS n, SUM(CASE WHEN identifier = $2 THEN 1 ELSE 0 END) AS here \
                         FROM resource_servers WHERE pool_id = $1",
                        params![&s.pool_id, &s.identifier],
                    )?
                    .ok_or_else(|| StoreError::Database("COUNT returned no row".to_string()))?;
                let (n, here) = (counts.get::<i64>("n")?, counts.get::<Option<i64>>("here")?);
                if here.unwrap_or(0) > 0 {
                    return Ok(ResourceServerInsert::Exists);
                }
                if n >= max_per_pool {
                    return Ok(ResourceServerInsert::TooMany);
                }
                let inserted = tx.execute(
                    "INSERT INTO resource_servers (pool_id, identifier, name, scopes, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                    params![&s.pool_id, &s.identifier, &s.name, scopes, s.created_at, s.updated_at],
                )?;
                Ok(if inserted == 1 {
                    ResourceServerInsert::Created
                } else {
                    ResourceServerInsert::Exists
                })
            })
            .await
    }

    async fn get_resource_server(
        &self,
        pool_id: &str,
        identifier: &str,
    ) -> Result<Option<ResourceServerRecord>> {
        self.db
            .fetch_optional(
                &format!(
                    "SELECT {RESOURCE_SERVER_COLUMNS} FROM resource_servers WHERE pool_id = $1 AND identifier = $2"
                ),
                params![pool_id, identifier],
            )
            .await?
            .map(|r| resource_server_from_row(&r))
            .transpose()
    }

    async fn update_resource_server(&self, s: &ResourceServerRecord) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE resource_servers SET name = $3, scopes = $4, updated_at = $5 \
                 WHERE pool_id = $1 AND identifier = $2",
                params![
                    &s.pool_id,
                    &s.identifier,
                    &s.name,
                    scopes_to_json(&s.scopes)?,
                    s.updated_at
                ],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "DELETE FROM resource_servers WHERE pool_id = $1 AND identifier = $2",
                params![pool_id, identifier],
            )
            .await?;
        Ok(changed == 1)
    }

    async fn list_resource_servers(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<ResourceServerRecord>> {
        self.db
            .fetch_all(
                &format!(
                    "SELECT {RESOURCE_SERVER_COLUMNS} FROM resource_servers WHERE pool_id = $1 AND identifier > $2 \
                     ORDER BY identifier LIMIT $3"
                ),
                params![pool_id, after.unwrap_or(""), limit],
            )
            .await?
            .iter()
            .map(resource_server_from_row)
            .collect()
    }

    async fn set_user_enabled(
        &self,
        pool_id: &str,
        username_key: &str,
        enabled: bool,
        now: i64,
    ) -> Result<bool> {
        let (pool_id, username_key) = (pool_id.to_string(), username_key.to_string());
        self.db
            .transact(move |tx, _dialect| {
                let changed = tx.execute(
                    "UPDATE users SET enabled = $3, updated_at = $4 WHERE pool_id = $1 AND username_key = $2",
                    params![&pool_id, &username_key, i64::from(enabled), now],
                )?;
                if changed == 1 && !enabled {
                    account::sign_out_in(tx, &pool_id, &username_key, now)?;
                }
                Ok(changed == 1)
            })
            .await
    }

    async fn insert_message(&self, m: &MessageRecord) -> Result<()> {
        self.db.execute(INSERT_MESSAGE, message_row(m)).await?;
        Ok(())
    }

    /// Messages oldest first, optionally for one pool and/or username.
    async fn list_messages(
        &self,
        pool_id: Option<&str>,
        username: Option<&str>,
        limit: i64,
    ) -> Result<Vec<MessageRecord>> {
        // Only the filters given appear in the SQL, so the (pool_id, username, id) index
        // serves the lookup instead of a scan of every message.
        let mut filters = Vec::new();
        let mut params = params![limit];
        for (column, value) in [("pool_id", pool_id), ("username", username)] {
            if let Some(value) = value {
                params.push(db::Param::from(value));
                filters.push(format!("{column} = ${}", params.len()));
            }
        }
        let filter = if filters.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", filters.join(" AND "))
        };
        self.db
            .fetch_all(
                &format!(
                    "SELECT pool_id, username, medium, destination, subject, body, code, provider, provider_message_id, sent_at FROM ( \
                       SELECT id, pool_id, username, medium, destination, subject, body, code, provider, provider_message_id, sent_at FROM messages \
                       {filter} ORDER BY id DESC LIMIT $1) recent ORDER BY id"
                ),
                params,
            )
            .await?
            .iter()
            .map(message_from_row)
            .collect()
    }
}

/// Reading stored rows directly, for tests that check what a write left behind.
#[cfg(feature = "test-support")]
impl Store {
    pub async fn get_user(&self, pool_id: &str, username_key: &str) -> Result<Option<UserRecord>> {
        self.db
            .fetch_optional(
                &format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE pool_id = $1 AND username_key = $2"
                ),
                params![pool_id, username_key],
            )
            .await?
            .map(|r| user_from_row(&r))
            .transpose()
    }

    pub async fn get_user_by_alias(
        &self,
        pool_id: &str,
        kind: AliasKind,
        value_key: &str,
    ) -> Result<Option<UserRecord>> {
        self.db
            .fetch_optional(
                &format!(
                    "SELECT {USER_COLUMNS_U} FROM user_aliases a JOIN users u ON u.pool_id = a.pool_id AND u.username_key = a.username_key \
                     WHERE a.pool_id = $1 AND a.kind = $2 AND a.value_key = $3"
                ),
                params![pool_id, kind.as_str(), value_key],
            )
            .await?
            .map(|r| user_from_row(&r))
            .transpose()
    }

    /// The live code of a user for `purpose` (for inspection; confirmations check codes
    /// inside `attempt_confirmation`).
    pub async fn get_code(
        &self,
        pool_id: &str,
        username_key: &str,
        purpose: &str,
    ) -> Result<Option<CodeRecord>> {
        self.db
            .fetch_optional(
                "SELECT digest, attribute, expires_at, created_at FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
                params![pool_id, username_key, purpose],
            )
            .await?
            .map(|r| {
                Ok(CodeRecord {
                    purpose: purpose.to_string(),
                    digest: r.get("digest")?,
                    attribute: r.get("attribute")?,
                    expires_at: r.get("expires_at")?,
                    created_at: r.get("created_at")?,
                })
            })
            .transpose()
    }

    pub async fn user_events(&self, pool_id: &str, username_key: &str) -> Result<Vec<EventRecord>> {
        self.db
            .fetch_all(
                "SELECT id, event_id, device_name, event_type, outcome, ip_address, encoded_data, analytics_endpoint_id, created_at FROM user_events \
                 WHERE pool_id = $1 AND username_key = $2 ORDER BY id",
                params![pool_id, username_key],
            )
            .await?
            .iter()
            .map(event_from_row)
            .collect()
    }
}

// ------------------------------------------------------------------ transactions

fn create_user_in(tx: &mut dyn Tx, dialect: Backend, new: &NewUser) -> Result<()> {
    let u = &new.user;
    let inserted = tx.execute(
        &format!(
            "INSERT INTO users ({USER_COLUMNS}) VALUES {} ON CONFLICT DO NOTHING",
            bulk::placeholders(1, USER_COLUMN_COUNT)
        ),
        user_row(u),
    )?;
    if inserted != 1 {
        return Err(StoreError::Conflict(Conflict::Username));
    }
    for (kind, value_key) in &new.aliases {
        let claimed = tx
            .execute(
                "INSERT INTO user_aliases (pool_id, kind, value_key, username_key) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                params![&u.pool_id, kind.as_str(), value_key, &u.username_key],
            )?;
        if claimed != 1 {
            return Err(StoreError::Conflict(Conflict::Alias(*kind)));
        }
    }
    for (kind, value_key) in &new.moved_aliases {
        claim_alias(
            tx,
            dialect,
            &u.pool_id,
            *kind,
            value_key,
            &u.username_key,
            u.created_at,
        )?;
    }
    if let Some(code) = &new.code {
        insert_code(tx, &u.pool_id, &u.username_key, code)?;
    }
    if let Some(ev) = &new.event {
        insert_event(tx, &u.pool_id, &u.username_key, ev)?;
    }
    if let Some(m) = &new.outbox {
        insert_message_in(tx, m)?;
    }
    Ok(())
}

fn bump_counter(
    tx: &mut dyn Tx,
    pool_id: &str,
    username_key: &str,
    limit: &AttemptLimit,
    now: i64,
) -> Result<i64> {
    tx.fetch_optional(
        BUMP_COUNTER,
        params![
            pool_id,
            username_key,
            &limit.action,
            now,
            limits::window_expired_before(limit, now)
        ],
    )?
    .ok_or_else(|| StoreError::Database("counter upsert returned no row".to_string()))?
    .get::<i64>("count")
}

fn issue_code_in(tx: &mut dyn Tx, issue: &CodeIssue) -> Result<IssueOutcome> {
    let (pool_id, username_key) = (&issue.pool_id, &issue.username_key);
    let exists = tx
        .fetch_optional(
            "SELECT 1 AS one FROM users WHERE pool_id = $1 AND username_key = $2",
            params![pool_id, username_key],
        )?
        .is_some();
    if !exists {
        return Ok(IssueOutcome::UserGone);
    }
    if let Some(limit) = &issue.limit {
        let count = bump_counter(tx, pool_id, username_key, limit, issue.code.created_at)?;
        if !limits::allows(limit, count) {
            return Ok(IssueOutcome::LimitExceeded);
        }
    }
    insert_code(tx, pool_id, username_key, &issue.code)?;
    if let Some(status) = issue.status {
        tx.execute(
            "UPDATE users SET status = $3, updated_at = $4 WHERE pool_id = $1 AND username_key = $2",
            params![pool_id, username_key, status.as_str(), issue.code.created_at],
        )?;
    }
    if let Some(ev) = &issue.event {
        insert_event(tx, pool_id, username_key, ev)?;
    }
    if let Some(m) = &issue.outbox {
        insert_message_in(tx, m)?;
    }
    Ok(IssueOutcome::Issued)
}

/// The user's status and attributes, locked for the rest of the transaction.
fn user_for_update(
    tx: &mut dyn Tx,
    dialect: Backend,
    pool_id: &str,
    username_key: &str,
) -> Result<Option<UserState>> {
    let Some(row) = tx.fetch_optional(
        &format!(
            "SELECT status, attributes FROM users WHERE pool_id = $1 AND username_key = $2{}",
            for_update(dialect)
        ),
        params![pool_id, username_key],
    )?
    else {
        return Ok(None);
    };
    let status: String = row.get("status")?;
    Ok(Some(UserState {
        status: UserStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("user status {status}")))?,
        attributes: attrs_from_json(&row.get::<String>("attributes")?)?,
    }))
}

fn set_confirmed(
    tx: &mut dyn Tx,
    pool_id: &str,
    username_key: &str,
    attributes: &BTreeMap<String, String>,
    now: i64,
) -> Result<()> {
    tx.execute(
        "UPDATE users SET status = $3, attributes = $4, updated_at = $5 WHERE pool_id = $1 AND username_key = $2",
        params![
            pool_id,
            username_key,
            UserStatus::Confirmed.as_str(),
            attrs_to_json(attributes),
            now
        ],
    )?;
    Ok(())
}

fn delete_code(tx: &mut dyn Tx, pool_id: &str, username_key: &str, purpose: &str) -> Result<()> {
    tx.execute(
        "DELETE FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
        params![pool_id, username_key, purpose],
    )?;
    Ok(())
}

fn confirm_user_in(tx: &mut dyn Tx, dialect: Backend, c: &Confirmation) -> Result<ConfirmOutcome> {
    let user = user_for_update(tx, dialect, &c.pool_id, &c.username_key)?;
    let holder = match &c.alias {
        Some((kind, value_key)) if user.is_some() => {
            alias_holder(tx, dialect, &c.pool_id, *kind, value_key)?
        }
        _ => None,
    };
    match confirmation::decide_admin_confirmation(c, user, holder.as_deref()) {
        Decision::Refuse { outcome, .. } => Ok(outcome),
        Decision::Confirm { attributes, claim } => {
            if let Some((kind, value_key)) = &claim {
                claim_alias(
                    tx,
                    dialect,
                    &c.pool_id,
                    *kind,
                    value_key,
                    &c.username_key,
                    c.now,
                )?;
            }
            set_confirmed(tx, &c.pool_id, &c.username_key, &attributes, c.now)?;
            // An admin confirmation leaves no sign-up code behind.
            delete_code(tx, &c.pool_id, &c.username_key, &c.purpose)?;
            if let Some(ev) = &c.event {
                insert_event(tx, &c.pool_id, &c.username_key, ev)?;
            }
            Ok(ConfirmOutcome::Confirmed(attributes))
        }
    }
}

/// ConfirmSignUp's transaction: bump the counter, load the user, its code and the alias the
/// code's attribute would claim, let `rules::confirmation` decide, write what it decided.
fn attempt_confirmation_in(
    tx: &mut dyn Tx,
    dialect: Backend,
    a: &ConfirmAttempt,
) -> Result<AttemptOutcome> {
    let attempts = bump_counter(tx, &a.pool_id, &a.username_key, &a.limit, a.now)?;
    let mut snapshot = ConfirmSnapshot {
        attempts,
        user: None,
        code: None,
        alias: None,
    };
    // Past the limit nothing else is read: the counter bump is all this attempt writes.
    if limits::allows(&a.limit, attempts) {
        snapshot.user = user_for_update(tx, dialect, &a.pool_id, &a.username_key)?;
        snapshot.code = tx
            .fetch_optional(
                "SELECT digest, attribute, expires_at FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
                params![&a.pool_id, &a.username_key, &a.purpose],
            )?
            .map(|row| -> Result<StoredCode> {
                Ok(StoredCode {
                    digest: row.get("digest")?,
                    attribute: row.get("attribute")?,
                    expires_at: row.get("expires_at")?,
                })
            })
            .transpose()?;
        let code_attribute = snapshot.code.as_ref().and_then(|c| c.attribute.as_deref());
        if let Some((kind, key)) = confirmation::alias_for_attribute(a, code_attribute) {
            snapshot.alias = Some(AliasClaim {
                kind,
                value_key: key.to_string(),
                holder: alias_holder(tx, dialect, &a.pool_id, kind, key)?,
            });
        }
    }
    match confirmation::decide_confirmation(a, snapshot) {
        Decision::Refuse {
            outcome,
            record_failure,
        } => {
            if record_failure {
                if let Some(ev) = &a.fail_event {
                    insert_event(tx, &a.pool_id, &a.username_key, ev)?;
                }
            }
            Ok(outcome)
        }
        Decision::Confirm { attributes, claim } => {
            delete_code(tx, &a.pool_id, &a.username_key, &a.purpose)?;
            if let Some((kind, key)) = &claim {
                claim_alias(tx, dialect, &a.pool_id, *kind, key, &a.username_key, a.now)?;
            }
            set_confirmed(tx, &a.pool_id, &a.username_key, &attributes, a.now)?;
            if let Some(ev) = &a.pass_event {
                insert_event(tx, &a.pool_id, &a.username_key, ev)?;
            }
            Ok(AttemptOutcome::Confirmed(attributes))
        }
    }
}

fn insert_code(
    tx: &mut dyn Tx,
    pool_id: &str,
    username_key: &str,
    code: &CodeRecord,
) -> Result<()> {
    tx.execute(
        "INSERT INTO codes (pool_id, username_key, purpose, digest, attribute, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (pool_id, username_key, purpose) DO UPDATE SET digest = excluded.digest, attribute = excluded.attribute, \
         expires_at = excluded.expires_at, created_at = excluded.created_at",
        params![
            pool_id,
            username_key,
            &code.purpose,
            code.digest.as_slice(),
            code.attribute.as_deref(),
            code.expires_at,
            code.created_at
        ],
    )?;
    Ok(())
}

fn insert_event(
    tx: &mut dyn Tx,
    pool_id: &str,
    username_key: &str,
    ev: &EventRecord,
) -> Result<()> {
    tx.execute(
        "INSERT INTO user_events (pool_id, username_key, event_id, event_type, outcome, ip_address, device_name, encoded_data, analytics_endpoint_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![
            pool_id,
            username_key,
            &ev.event_id,
            &ev.event_type,
            &ev.outcome,
            ev.ip_address.as_deref(),
            ev.device_name.as_deref(),
            ev.encoded_data.as_deref(),
            ev.analytics_endpoint_id.as_deref(),
            ev.created_at
        ],
    )?;
    Ok(())
}

fn insert_message_in(tx: &mut dyn Tx, m: &MessageRecord) -> Result<()> {
    tx.execute(INSERT_MESSAGE, message_row(m))?;
    Ok(())
}

const INSERT_MESSAGE: &str = "INSERT INTO messages (pool_id, username, medium, destination, subject, body, code, provider, provider_message_id, sent_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

fn message_row(m: &MessageRecord) -> Vec<db::Param> {
    params![
        &m.pool_id,
        &m.username,
        &m.medium,
        &m.destination,
        m.subject.as_deref(),
        m.body.as_deref(),
        m.code.as_deref(),
        &m.provider,
        m.provider_message_id.as_deref(),
        m.sent_at
    ]
}

fn alias_holder(
    tx: &mut dyn Tx,
    dialect: Backend,
    pool_id: &str,
    kind: AliasKind,
    value_key: &str,
) -> Result<Option<String>> {
    tx.fetch_optional(
        &format!(
            "SELECT username_key FROM user_aliases WHERE pool_id = $1 AND kind = $2 AND value_key = $3{}",
            for_update(dialect)
        ),
        params![pool_id, kind.as_str(), value_key],
    )?
    .map(|r| r.get::<String>("username_key"))
    .transpose()
}

/// Gives an alias to a user. When another user holds it, it moves: the previous holder keeps
/// the attribute value but it is no longer verified, so it can no longer sign in with it.
fn claim_alias(
    tx: &mut dyn Tx,
    dialect: Backend,
    pool_id: &str,
    kind: AliasKind,
    value_key: &str,
    username_key: &str,
    now: i64,
) -> Result<()> {
    let previous = alias_holder(tx, dialect, pool_id, kind, value_key)?;
    if previous.as_deref() == Some(username_key) {
        // Already this user's (claimed at sign-up): rewriting the row would only dirty a page.
        return Ok(());
    }
    tx.execute(
        "INSERT INTO user_aliases (pool_id, kind, value_key, username_key) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (pool_id, kind, value_key) DO UPDATE SET username_key = excluded.username_key",
        params![pool_id, kind.as_str(), value_key, username_key],
    )?;
    if let Some(holder) = previous.filter(|h| h != username_key) {
        unverify_attribute(tx, pool_id, &holder, kind.attribute(), now)?;
    }
    Ok(())
}

fn unverify_attribute(
    tx: &mut dyn Tx,
    pool_id: &str,
    username_key: &str,
    attribute: &str,
    now: i64,
) -> Result<()> {
    let Some(row) = tx.fetch_optional(
        "SELECT attributes FROM users WHERE pool_id = $1 AND username_key = $2",
        params![pool_id, username_key],
    )?
    else {
        return Ok(());
    };
    let mut attrs = attrs_from_json(&row.get::<String>("attributes")?)?;
    attrs.insert(format!("{attribute}_verified"), "false".to_string());
    tx.execute(
        "UPDATE users SET attributes = $3, updated_at = $4 WHERE pool_id = $1 AND username_key = $2",
        params![pool_id, username_key, attrs_to_json(&attrs), now],
    )?;
    Ok(())
}

/// Adds one to a per-user hourly counter, restarting it when its window has passed.
const BUMP_COUNTER: &str = "INSERT INTO attempt_counters (pool_id, username_key, action, window_start, count) VALUES ($1, $2, $3, $4, 1) \
     ON CONFLICT (pool_id, username_key, action) DO UPDATE SET \
       count = CASE WHEN attempt_counters.window_start <= $5 THEN 1 ELSE attempt_counters.count + 1 END, \
       window_start = CASE WHEN attempt_counters.window_start <= $5 THEN $4 ELSE attempt_counters.window_start END \
     RETURNING count";

/// `BUMP_COUNTER` for names of no user.
const BUMP_NAME_COUNTER: &str = "INSERT INTO name_attempt_counters (pool_id, name_key, action, window_start, count) VALUES ($1, $2, $3, $4, 1) \
     ON CONFLICT (pool_id, name_key, action) DO UPDATE SET \
       count = CASE WHEN name_attempt_counters.window_start <= $5 THEN 1 ELSE name_attempt_counters.count + 1 END, \
       window_start = CASE WHEN name_attempt_counters.window_start <= $5 THEN $4 ELSE name_attempt_counters.window_start END \
     RETURNING count";

/// `find_user`'s query for a lookup of that shape. Pools offer at most three alias kinds, so
/// the shapes are few: those are built once, not on every request.
fn find_user_sql(aliases: usize, with_sub: bool) -> Cow<'static, str> {
    const CACHED_ALIASES: usize = 3;
    static SHAPES: OnceLock<Vec<String>> = OnceLock::new();
    if aliases > CACHED_ALIASES {
        return Cow::Owned(build_find_user_sql(aliases, with_sub));
    }
    let shapes = SHAPES.get_or_init(|| {
        (0..=CACHED_ALIASES)
            .flat_map(|n| [build_find_user_sql(n, false), build_find_user_sql(n, true)])
            .collect()
    });
    Cow::Borrowed(&shapes[aliases * 2 + usize::from(with_sub)])
}

/// The user by username ($2), else by the first of `aliases` alias (kind, value) parameter
/// pairs ($3, $4, …) that someone holds, else by `sub` (the last parameter).
fn build_find_user_sql(aliases: usize, with_sub: bool) -> String {
    let mut sql = format!(
        "SELECT {USER_COLUMNS}, 0 AS found_by FROM users WHERE pool_id = $1 AND username_key = $2"
    );
    for rank in 1..=aliases {
        sql.push_str(&format!(
            " UNION ALL SELECT {USER_COLUMNS_U}, {rank} FROM user_aliases a JOIN users u ON u.pool_id = a.pool_id AND u.username_key = a.username_key \
             WHERE a.pool_id = $1 AND a.kind = ${} AND a.value_key = ${}",
            2 * rank + 1,
            2 * rank + 2
        ));
    }
    if with_sub {
        sql.push_str(&format!(
            " UNION ALL SELECT {USER_COLUMNS}, {} FROM users WHERE pool_id = $1 AND sub = ${}",
            aliases + 1,
            2 * aliases + 3
        ));
    }
    sql.push_str(" ORDER BY found_by LIMIT 1");
    sql
}

const USER_COLUMNS: &str = "pool_id, username_key, username, sub, status, enabled, attributes, password_hash, srp_salt, srp_verifier, created_at, updated_at, password_set_at, signed_out_at, pending_attributes";
/// How many columns `USER_COLUMNS` names.
const USER_COLUMN_COUNT: usize = 15;
/// A user's values in `USER_COLUMNS` order.
fn user_row(u: &UserRecord) -> Vec<db::Param> {
    params![
        &u.pool_id,
        &u.username_key,
        &u.username,
        &u.sub,
        u.status.as_str(),
        i64::from(u.enabled),
        attrs_to_json(&u.attributes),
        u.password_hash.as_deref(),
        u.srp_salt.as_deref(),
        u.srp_verifier.as_deref(),
        u.created_at,
        u.updated_at,
        db::Param::Int(u.password_set_at),
        db::Param::Int(u.signed_out_at),
        account::pending_to_json(&u.pending_attributes)
    ]
}

const DOMAIN_COLUMNS: &str = "domain, pool_id, certificate_arn, security_policy, managed_login_version, created_at, updated_at";

/// A pool has at most one domain of each kind: the unique (pool_id, kind) index keeps that.
fn domain_kind(d: &DomainRecord) -> &'static str {
    if d.is_custom() {
        "custom"
    } else {
        "prefix"
    }
}

fn domain_from_row(r: &Row) -> Result<DomainRecord> {
    Ok(DomainRecord {
        domain: r.get("domain")?,
        pool_id: r.get("pool_id")?,
        certificate_arn: r.get("certificate_arn")?,
        security_policy: r.get("security_policy")?,
        managed_login_version: r.get("managed_login_version")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

const RESOURCE_SERVER_COLUMNS: &str = "pool_id, identifier, name, scopes, created_at, updated_at";

fn scopes_to_json(scopes: &[ScopeRecord]) -> Result<String> {
    serde_json::to_string(scopes).map_err(|e| StoreError::Database(format!("scopes: {e}")))
}

fn resource_server_from_row(r: &Row) -> Result<ResourceServerRecord> {
    let scopes: String = r.get("scopes")?;
    Ok(ResourceServerRecord {
        pool_id: r.get("pool_id")?,
        identifier: r.get("identifier")?,
        name: r.get("name")?,
        scopes: serde_json::from_str(&scopes)
            .map_err(|e| StoreError::Corrupt(format!("resource server scopes: {e}")))?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

const GROUP_COLUMNS: &str =
    "pool_id, name, description, role_arn, precedence, created_at, updated_at";
const GROUP_COLUMNS_G: &str =
    "g.pool_id, g.name, g.description, g.role_arn, g.precedence, g.created_at, g.updated_at";

/// Group names are unique whatever their letter case.
fn group_key(name: &str) -> String {
    name.to_lowercase()
}

fn group_from_row(r: &Row) -> Result<GroupRecord> {
    Ok(GroupRecord {
        pool_id: r.get("pool_id")?,
        name: r.get("name")?,
        description: r.get("description")?,
        role_arn: r.get("role_arn")?,
        precedence: r.get("precedence")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

const USER_COLUMNS_U: &str = "u.pool_id, u.username_key, u.username, u.sub, u.status, u.enabled, u.attributes, u.password_hash, u.srp_salt, u.srp_verifier, u.created_at, u.updated_at, u.password_set_at, u.signed_out_at, u.pending_attributes";

fn attrs_to_json(attrs: &BTreeMap<String, String>) -> String {
    serde_json::to_string(attrs).unwrap_or_else(|_| "{}".to_string())
}

fn attrs_from_json(text: &str) -> Result<BTreeMap<String, String>> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("user attributes: {e}")))
}

fn user_from_row(r: &Row) -> Result<UserRecord> {
    let status: String = r.get("status")?;
    Ok(UserRecord {
        pool_id: r.get("pool_id")?,
        username_key: r.get("username_key")?,
        username: r.get("username")?,
        sub: r.get("sub")?,
        status: UserStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("user status {status}")))?,
        enabled: r.get::<i64>("enabled")? != 0,
        attributes: attrs_from_json(&r.get::<String>("attributes")?)?,
        password_hash: r.get("password_hash")?,
        srp_salt: r.get("srp_salt")?,
        srp_verifier: r.get("srp_verifier")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        password_set_at: r.get("password_set_at")?,
        signed_out_at: r.get("signed_out_at")?,
        pending_attributes: account::pending_from_json(r.get("pending_attributes")?)?,
    })
}

const SELECT_SIGNING_KEYS: &str =
    "SELECT kid, token_use, private_key, created_at, retired_at FROM signing_keys \
     WHERE pool_id = $1 ORDER BY created_at DESC, kid";

fn signing_key_from_row(r: &Row) -> Result<SigningKeyRecord> {
    let token_use: String = r.get("token_use")?;
    Ok(SigningKeyRecord {
        kid: r.get("kid")?,
        token_use: TokenUse::parse(&token_use)
            .ok_or_else(|| StoreError::Corrupt(format!("signing key use {token_use}")))?,
        private_key: r.get("private_key")?,
        created_at: r.get("created_at")?,
        retired_at: r.get("retired_at")?,
    })
}

fn insert_signing_keys_in(tx: &mut dyn Tx, pool_id: &str, keys: &[SigningKeyRecord]) -> Result<()> {
    for k in keys {
        tx.execute(
            "INSERT INTO signing_keys (pool_id, kid, token_use, private_key, created_at, retired_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![
                pool_id,
                &k.kid,
                k.token_use.as_str(),
                k.private_key.as_slice(),
                k.created_at,
                db::Param::Int(k.retired_at)
            ],
        )?;
    }
    Ok(())
}

fn insert_refresh_token_in(tx: &mut dyn Tx, t: &RefreshTokenRecord) -> Result<()> {
    tx.execute(
        "INSERT INTO refresh_tokens (digest, pool_id, username_key, client_id, origin_jti, auth_time, issued_at, expires_at, revoked_at, scopes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        params![
            t.digest.as_slice(),
            &t.pool_id,
            &t.username_key,
            &t.client_id,
            &t.origin_jti,
            t.auth_time,
            t.issued_at,
            t.expires_at,
            db::Param::Int(t.revoked_at),
            db::Param::Text(t.scopes.clone())
        ],
    )?;
    Ok(())
}

fn failures_from_row(r: &Row) -> Result<SignInFailures> {
    Ok(SignInFailures {
        failures: r.get("failures")?,
        last_failure_at: r.get("last_failure_at")?,
    })
}

fn pool_from_row(r: &Row) -> Result<PoolRecord> {
    Ok(PoolRecord {
        id: r.get("id")?,
        name: r.get("name")?,
        config: r.get("config")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
    })
}

impl Store {
    fn client_from_row(&self, r: &Row) -> Result<ClientRecord> {
        let client_id: String = r.get("client_id")?;
        let config =
            secrets::open_client_config(self.sealer.as_deref(), &client_id, r.get("config")?)?;
        Ok(ClientRecord {
            client_id,
            pool_id: r.get("pool_id")?,
            config,
            created_at: r.get("created_at")?,
            updated_at: r.get("updated_at")?,
        })
    }

    fn seal_client_config(&self, client_id: &str, config: &str) -> Result<String> {
        secrets::seal_client_config(self.sealer.as_deref(), client_id, config)
    }

    fn seal_signing_keys(
        &self,
        pool_id: &str,
        keys: Vec<SigningKeyRecord>,
    ) -> Result<Vec<SigningKeyRecord>> {
        keys.into_iter()
            .map(|mut key| {
                key.private_key = secrets::seal_private_key(
                    self.sealer.as_deref(),
                    pool_id,
                    &key.kid,
                    key.private_key,
                )?;
                Ok(key)
            })
            .collect()
    }

    fn open_signing_key(
        &self,
        pool_id: &str,
        mut key: SigningKeyRecord,
    ) -> Result<SigningKeyRecord> {
        key.private_key =
            secrets::open_private_key(self.sealer.as_deref(), pool_id, &key.kid, key.private_key)?;
        Ok(key)
    }
}

fn event_from_row(r: &Row) -> Result<EventRecord> {
    let seq: i64 = r.get("id")?;
    Ok(EventRecord {
        // Rows from before events had ids are named by their place.
        event_id: r
            .get::<Option<String>>("event_id")?
            .unwrap_or_else(|| seq.to_string()),
        device_name: r.get("device_name")?,
        event_type: r.get("event_type")?,
        outcome: r.get("outcome")?,
        ip_address: r.get("ip_address")?,
        encoded_data: r.get("encoded_data")?,
        analytics_endpoint_id: r.get("analytics_endpoint_id")?,
        created_at: r.get("created_at")?,
    })
}

fn message_from_row(r: &Row) -> Result<MessageRecord> {
    Ok(MessageRecord {
        pool_id: r.get("pool_id")?,
        username: r.get("username")?,
        medium: r.get("medium")?,
        destination: r.get("destination")?,
        subject: r.get("subject")?,
        body: r.get("body")?,
        code: r.get("code")?,
        provider: r.get("provider")?,
        provider_message_id: r.get("provider_message_id")?,
        sent_at: r.get("sent_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_user_sql_numbers_one_parameter_per_value_of_its_shape() {
        for aliases in 0..=5 {
            for with_sub in [false, true] {
                let sql = find_user_sql(aliases, with_sub);
                let expected = 2 + 2 * aliases + usize::from(with_sub);
                assert!(sql.contains(&format!("${expected}")), "{sql}");
                assert!(!sql.contains(&format!("${}", expected + 1)), "{sql}");
                assert_eq!(
                    sql.matches("UNION ALL").count(),
                    aliases + usize::from(with_sub)
                );
                assert_eq!(sql, build_find_user_sql(aliases, with_sub));
            }
        }
    }
}
