//! The one interface every store statement is written against, whichever database runs it.
//! A transaction body is a synchronous closure over `&mut dyn Tx` (run a statement with `$N`
//! parameters, get rows back): it cannot await anything, so nothing but its statements runs
//! while it holds the transaction (on SQLite, the only writer). On SQLite the closure runs on
//! the writer thread over rusqlite (`crate::sqlite`); on PostgreSQL on a blocking thread whose
//! statements wait for sqlx. Reads outside a transaction are `Db`'s async methods.

use std::sync::Arc;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyPool, Row as _};

use crate::error::from_sqlx;
use crate::{Backend, Result, StoreError};

/// A statement parameter, typed even when NULL (PostgreSQL needs the type of a NULL).
#[derive(Clone, Debug)]
pub enum Param {
    Int(Option<i64>),
    Text(Option<String>),
    Blob(Option<Vec<u8>>),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}
impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(Some(v.to_string()))
    }
}
impl From<&String> for Param {
    fn from(v: &String) -> Self {
        Param::Text(Some(v.clone()))
    }
}
impl From<String> for Param {
    fn from(v: String) -> Self {
        Param::Text(Some(v))
    }
}
impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Self {
        Param::Text(v.map(str::to_string))
    }
}
impl From<Option<String>> for Param {
    fn from(v: Option<String>) -> Self {
        Param::Text(v)
    }
}
impl From<&[u8]> for Param {
    fn from(v: &[u8]) -> Self {
        Param::Blob(Some(v.to_vec()))
    }
}
impl From<Vec<u8>> for Param {
    fn from(v: Vec<u8>) -> Self {
        Param::Blob(Some(v))
    }
}

/// `params![a, b, …]`: a parameter list, each converted with `Param::from`.
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::db::Param::from($value)),*]
    };
}
pub(crate) use params;

/// A result row, read by column name.
pub enum Row {
    Any(AnyRow),
    Lite {
        columns: Arc<[String]>,
        values: Vec<rusqlite::types::Value>,
    },
}

impl Row {
    pub fn get<T: Cell>(&self, column: &str) -> Result<T> {
        match self {
            Row::Any(row) => T::from_any(row, column),
            Row::Lite { columns, values } => {
                let at = columns
                    .iter()
                    .position(|c| c == column)
                    .ok_or_else(|| StoreError::Database(format!("no column {column}")))?;
                T::from_lite(&values[at])
                    .ok_or_else(|| StoreError::Corrupt(format!("column {column}: unexpected type")))
            }
        }
    }
}

/// A Rust type a column can be read as.
pub trait Cell: Sized {
    fn from_any(row: &AnyRow, column: &str) -> Result<Self>;
    fn from_lite(value: &rusqlite::types::Value) -> Option<Self>;
}

macro_rules! cell {
    ($ty:ty, $variant:ident, $convert:expr) => {
        impl Cell for $ty {
            fn from_any(row: &AnyRow, column: &str) -> Result<Self> {
                row.try_get::<$ty, _>(column).map_err(from_sqlx)
            }
            fn from_lite(value: &rusqlite::types::Value) -> Option<Self> {
                match value {
                    rusqlite::types::Value::$variant(v) => Some($convert(v)),
                    _ => None,
                }
            }
        }
        impl Cell for Option<$ty> {
            fn from_any(row: &AnyRow, column: &str) -> Result<Self> {
                row.try_get::<Option<$ty>, _>(column).map_err(from_sqlx)
            }
            fn from_lite(value: &rusqlite::types::Value) -> Option<Self> {
                match value {
                    rusqlite::types::Value::Null => Some(None),
                    rusqlite::types::Value::$variant(v) => Some(Some($convert(v))),
                    _ => None,
                }
            }
        }
    };
}
cell!(i64, Integer, |v: &i64| *v);
cell!(String, Text, |v: &String| v.clone());
cell!(Vec<u8>, Blob, |v: &Vec<u8>| v.clone());

/// Statements inside one transaction. Synchronous on purpose: see the module comment.
pub trait Tx {
    fn fetch_optional(&mut self, sql: &str, params: Vec<Param>) -> Result<Option<Row>>;
    fn fetch_all(&mut self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>>;
    /// Returns the number of rows changed.
    fn execute(&mut self, sql: &str, params: Vec<Param>) -> Result<u64>;
}

/// The database behind a store.
#[derive(Clone)]
pub enum Db {
    Sqlite(super::sqlite::Lite),
    Postgres(AnyPool),
}

impl Db {
    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// A read outside any transaction.
    pub async fn fetch_optional(&self, sql: &str, params: Vec<Param>) -> Result<Option<Row>> {
        match self {
            Db::Sqlite(lite) => lite.read(|x| x.fetch_optional(sql, params)),
            Db::Postgres(pool) => Ok(query(sql, params)
                .fetch_optional(pool)
                .await
                .map_err(from_sqlx)?
                .map(Row::Any)),
        }
    }

    /// A read of many rows outside any transaction (on SQLite, off the async threads: a
    /// scan may take a while).
    pub async fn fetch_all(&self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>> {
        match self {
            Db::Sqlite(lite) => {
                let sql = sql.to_string();
                lite.scan(move |x| x.fetch_all(&sql, params)).await
            }
            Db::Postgres(pool) => Ok(query(sql, params)
                .fetch_all(pool)
                .await
                .map_err(from_sqlx)?
                .into_iter()
                .map(Row::Any)
                .collect()),
        }
    }

    /// One statement in a transaction of its own.
    pub async fn execute(&self, sql: &str, params: Vec<Param>) -> Result<u64> {
        match self {
            Db::Sqlite(lite) => {
                let sql = sql.to_string();
                lite.write(move |x| x.execute(&sql, params)).await
            }
            Db::Postgres(pool) => Ok(query(sql, params)
                .execute(pool)
                .await
                .map_err(from_sqlx)?
                .rows_affected()),
        }
    }

    /// Runs `body` in one transaction, committed when it returns `Ok` and rolled back when it
    /// returns `Err`. On SQLite it runs on the writer thread inside the next group commit; on
    /// PostgreSQL on a blocking thread holding a pooled connection's transaction.
    pub async fn transact<T, F>(&self, body: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Tx, Backend) -> Result<T> + Send + 'static,
    {
        match self {
            Db::Sqlite(lite) => lite.write(move |x| body(x, Backend::Sqlite)).await,
            Db::Postgres(pool) => {
                let tx = pool.begin().await.map_err(from_sqlx)?;
                let runtime = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || {
                    let mut tx = PgTx { runtime, tx };
                    let out = body(&mut tx, Backend::Postgres);
                    tx.finish(out)
                })
                .await
                .map_err(|e| StoreError::Database(format!("transaction task: {e}")))?
            }
        }
    }
}

// ------------------------------------------------------------------ PostgreSQL (sqlx)

fn query<'q>(
    sql: &'q str,
    params: Vec<Param>,
) -> sqlx::query::Query<'q, sqlx::Any, AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for p in params {
        q = match p {
            Param::Int(v) => q.bind(v),
            Param::Text(v) => q.bind(v),
            Param::Blob(v) => q.bind(v),
        };
    }
    q
}

/// A PostgreSQL transaction driven from a blocking thread: each statement waits for sqlx on
/// the runtime that began the transaction.
struct PgTx {
    runtime: tokio::runtime::Handle,
    tx: sqlx::Transaction<'static, sqlx::Any>,
}

impl PgTx {
    /// Commits after `Ok`, rolls back after `Err`, and passes the outcome on.
    fn finish<T>(self, out: Result<T>) -> Result<T> {
        let PgTx { runtime, tx } = self;
        match out {
            Ok(v) => {
                runtime.block_on(tx.commit()).map_err(from_sqlx)?;
                Ok(v)
            }
            Err(e) => {
                // The error that made us roll back is the one worth reporting.
                let _ = runtime.block_on(tx.rollback());
                Err(e)
            }
        }
    }
}

impl Tx for PgTx {
    fn fetch_optional(&mut self, sql: &str, params: Vec<Param>) -> Result<Option<Row>> {
        let found = self
            .runtime
            .block_on(query(sql, params).fetch_optional(&mut *self.tx))
            .map_err(from_sqlx)?;
        Ok(found.map(Row::Any))
    }
    fn fetch_all(&mut self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>> {
        let rows = self
            .runtime
            .block_on(query(sql, params).fetch_all(&mut *self.tx))
            .map_err(from_sqlx)?;
        Ok(rows.into_iter().map(Row::Any).collect())
    }
    fn execute(&mut self, sql: &str, params: Vec<Param>) -> Result<u64> {
        let done = self
            .runtime
            .block_on(query(sql, params).execute(&mut *self.tx))
            .map_err(from_sqlx)?;
        Ok(done.rows_affected())
    }
}
