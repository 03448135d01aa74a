//! The one interface every store query is written against, whichever database runs it:
//! `Exec` (run a statement with `$N` parameters, get rows back), with an implementation over
//! sqlx for PostgreSQL and one over rusqlite for SQLite (`super::sqlite`). Queries and
//! transactions are written once, as async functions generic over `Exec`; on SQLite they run
//! synchronously (their futures are ready at once), on PostgreSQL they await the network.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{AnyPool, Row as _};

use super::{Backend, Result, StoreError};

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
        vec![$($crate::store::db::Param::from($value)),*]
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
                Ok(row.try_get::<$ty, _>(column)?)
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
                Ok(row.try_get::<Option<$ty>, _>(column)?)
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

/// Runs statements: a connection, a pool or a transaction.
pub trait Exec {
    fn fetch_optional(
        &mut self,
        sql: &str,
        params: Vec<Param>,
    ) -> impl Future<Output = Result<Option<Row>>> + Send;
    fn fetch_all(
        &mut self,
        sql: &str,
        params: Vec<Param>,
    ) -> impl Future<Output = Result<Vec<Row>>> + Send;
    /// Returns the number of rows changed.
    fn execute(
        &mut self,
        sql: &str,
        params: Vec<Param>,
    ) -> impl Future<Output = Result<u64>> + Send;
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
            Db::Sqlite(lite) => lite.read(|x| ready(x.fetch_optional(sql, params))),
            Db::Postgres(pool) => PgPool(pool).fetch_optional(sql, params).await,
        }
    }

    /// A read of many rows outside any transaction (on SQLite, off the async threads: a
    /// scan may take a while).
    pub async fn fetch_all(&self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>> {
        match self {
            Db::Sqlite(lite) => {
                let sql = sql.to_string();
                lite.scan(move |x| ready(x.fetch_all(&sql, params))).await
            }
            Db::Postgres(pool) => PgPool(pool).fetch_all(sql, params).await,
        }
    }

    /// One statement in a transaction of its own.
    pub async fn execute(&self, sql: &str, params: Vec<Param>) -> Result<u64> {
        match self {
            Db::Sqlite(lite) => {
                let sql = sql.to_string();
                lite.write(move |x| ready(x.execute(&sql, params))).await
            }
            Db::Postgres(pool) => PgPool(pool).execute(sql, params).await,
        }
    }
}

/// `transact!(db, |tx, dialect| body)`: runs `body` (an expression using `tx: &mut impl
/// Exec` and `dialect: Backend`, evaluating to `Result<T>`) in one transaction, committed when
/// it is `Ok` and rolled back when it is `Err`. On SQLite the body runs on the writer thread
/// (so it may only capture owned values); on PostgreSQL in a pooled transaction.
macro_rules! transact {
    ($db:expr, |$tx:ident, $dialect:ident| $body:expr) => {
        match $db {
            $crate::store::db::Db::Sqlite(lite) => {
                lite.write(move |$tx| {
                    let $dialect = $crate::store::Backend::Sqlite;
                    $crate::store::db::ready(async { $body })
                })
                .await
            }
            $crate::store::db::Db::Postgres(pool) => {
                let mut conn = $crate::store::db::PgTx::begin(pool).await?;
                let out = {
                    let $tx = &mut conn;
                    let $dialect = $crate::store::Backend::Postgres;
                    async { $body }.await
                };
                conn.finish(out).await
            }
        }
    };
}
pub(crate) use transact;

/// The output of a future that completes without waiting, as every future over a SQLite
/// `Exec` does (rusqlite is synchronous).
pub fn ready<T>(future: impl Future<Output = Result<T>>) -> Result<T> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(out) => out,
        Poll::Pending => Err(StoreError::Database(
            "a SQLite statement unexpectedly waited".to_string(),
        )),
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

/// Statements on any connection of a pool.
pub struct PgPool<'p>(pub &'p AnyPool);

impl Exec for PgPool<'_> {
    async fn fetch_optional(&mut self, sql: &str, params: Vec<Param>) -> Result<Option<Row>> {
        Ok(query(sql, params)
            .fetch_optional(self.0)
            .await?
            .map(Row::Any))
    }
    async fn fetch_all(&mut self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>> {
        Ok(query(sql, params)
            .fetch_all(self.0)
            .await?
            .into_iter()
            .map(Row::Any)
            .collect())
    }
    async fn execute(&mut self, sql: &str, params: Vec<Param>) -> Result<u64> {
        Ok(query(sql, params).execute(self.0).await?.rows_affected())
    }
}

/// Statements in one pooled transaction.
pub struct PgTx(sqlx::Transaction<'static, sqlx::Any>);

impl PgTx {
    pub async fn begin(pool: &AnyPool) -> Result<Self> {
        Ok(PgTx(pool.begin().await?))
    }

    /// Commits after `Ok`, rolls back after `Err`, and passes the outcome on.
    pub async fn finish<T>(self, out: Result<T>) -> Result<T> {
        match out {
            Ok(v) => {
                self.0.commit().await?;
                Ok(v)
            }
            Err(e) => {
                // The error that made us roll back is the one worth reporting.
                let _ = self.0.rollback().await;
                Err(e)
            }
        }
    }
}

impl Exec for PgTx {
    async fn fetch_optional(&mut self, sql: &str, params: Vec<Param>) -> Result<Option<Row>> {
        Ok(query(sql, params)
            .fetch_optional(&mut *self.0)
            .await?
            .map(Row::Any))
    }
    async fn fetch_all(&mut self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>> {
        Ok(query(sql, params)
            .fetch_all(&mut *self.0)
            .await?
            .into_iter()
            .map(Row::Any)
            .collect())
    }
    async fn execute(&mut self, sql: &str, params: Vec<Param>) -> Result<u64> {
        Ok(query(sql, params)
            .execute(&mut *self.0)
            .await?
            .rows_affected())
    }
}
