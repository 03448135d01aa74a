//! SQLite through rusqlite. Reads run synchronously on the calling thread over a lock-free
//! pool of connections (a point read costs microseconds, less than handing it to another
//! thread); scans run on tokio's blocking threads (`Lite::scan`, used by `Db::fetch_all`), as
//! many at once as the pool keeps readers.
//!
//! Writes go to one writer thread that owns the only writing connection. It takes every write
//! queued at that moment and runs them in one transaction, each inside a savepoint of its own
//! (a failing write rolls back only itself), then commits once and only then answers each
//! caller (group commit): an answered write is committed, and the cost of a commit is shared
//! by all the writes waiting for it. Between batches, when nothing is queued, the same thread
//! checkpoints the WAL into the database file. At debug level the writer reports every 10 s
//! what share of its time went to running writes, committing, checkpointing and waiting.

use std::borrow::Cow;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use rusqlite::types::Value;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::oneshot;

use crate::db::{Param, Row, Tx};
use crate::{Result, StoreError};

/// The most writes committed together; bounds how long the first of them waits.
const MAX_BATCH: usize = 256;
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const WRITER_CACHE_KIB: i64 = 16 * 1024;
/// An idle writer checkpoints once this many writes are uncheckpointed: a checkpoint costs two
/// fsyncs, so at low rates one per write costs more than the writes (SignUp), while a larger
/// number makes each checkpoint, and the writes queued behind it, wait longer (16 gave p99
/// spikes of 20–120 ms at half the peak resend rate; BENCHMARKS.md, session 3)...
const IDLE_CHECKPOINT_WRITES: usize = 4;
/// ...or once the oldest uncheckpointed write is this old.
const IDLE_CHECKPOINT_AFTER: Duration = Duration::from_secs(1);
/// How often the writer reports where its time went (debug level, `WriterTimes`).
const WRITER_REPORT_EVERY: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct Lite {
    shared: Arc<Shared>,
}

struct Shared {
    target: Target,
    writes: mpsc::Sender<Message>,
    readers: ArrayQueue<Connection>,
    /// Scans running at once (`Lite::scan`), as many as the pool keeps readers. Without it each
    /// concurrent scan took a blocking thread of its own with a reader connection and page
    /// cache beyond the pool: 64 clients reading the outbox raised the server's RSS from 47
    /// to 69 MiB with 86 threads (BENCHMARKS.md, session 6).
    scans: tokio::sync::Semaphore,
}

#[derive(Clone, Debug)]
struct Target {
    path: PathBuf,
    create: bool,
}

enum Message {
    Write(Box<dyn WriteJob>),
    Close(oneshot::Sender<()>),
}

impl Target {
    /// `sqlite://PATH[?mode=rw|rwc]` (also `sqlite:PATH`). Without a mode the file is created.
    fn parse(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| StoreError::Config(format!("not a sqlite URL: {url}")))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if path.is_empty() || path.contains(":memory:") {
            return Err(StoreError::Config(
                "SQLite needs a file path (in-memory databases are not supported)".to_string(),
            ));
        }
        let mut create = true;
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair {
                "mode=rwc" => create = true,
                "mode=rw" => create = false,
                other => {
                    return Err(StoreError::Config(format!(
                        "unsupported SQLite URL option '{other}' (use mode=rw or mode=rwc)"
                    )))
                }
            }
        }
        Ok(Target {
            path: PathBuf::from(path),
            create,
        })
    }

    fn open(&self, writer: bool) -> Result<Connection> {
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if writer && self.create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(&self.path, flags)
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", self.path.display())))?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(from_rusqlite)?;
        conn.set_prepared_statement_cache_capacity(64);
        // WAL lets readers run beside the writer; NORMAL keeps every committed transaction
        // across a process crash (kill -9), fsyncing at checkpoints.
        if writer {
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(from_rusqlite)?;
        } else {
            conn.pragma_update(None, "query_only", true)
                .map_err(from_rusqlite)?;
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(from_rusqlite)?;
        if writer {
            // The writer's cache stays valid between its transactions (readers' caches are
            // reset by every commit), so it is the one worth making large: KiB, negative.
            conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
                .map_err(from_rusqlite)?;
        }
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(from_rusqlite)?;
        Ok(conn)
    }
}

impl Lite {
    pub fn open(url: &str, readers: u32) -> Result<Self> {
        let target = Target::parse(url)?;
        // The writer connects first so the file and WAL mode exist before readers open.
        let writer = target.open(true)?;
        let (writes, queue) = mpsc::channel();
        std::thread::Builder::new()
            .name("sqlite-writer".to_string())
            .spawn(move || writer_loop(writer, queue))
            .map_err(|e| StoreError::Unavailable(format!("starting the SQLite writer: {e}")))?;
        let readers = readers.max(1) as usize;
        let shared = Arc::new(Shared {
            target,
            writes,
            readers: ArrayQueue::new(readers),
            scans: tokio::sync::Semaphore::new(readers),
        });
        Ok(Lite { shared })
    }

    /// Runs `read` on a reader connection, on this thread.
    pub fn read<T>(&self, read: impl FnOnce(&mut LiteExec<'_>) -> Result<T>) -> Result<T> {
        let conn = match self.shared.readers.pop() {
            Some(conn) => conn,
            None => self.shared.target.open(false)?,
        };
        let out = read(&mut LiteExec { conn: &conn });
        // A full pool (after a burst) just closes the extra connection.
        let _ = self.shared.readers.push(conn);
        out
    }

    /// Runs `read` on a reader connection off the async threads, for reads that may take a
    /// while; at most as many at once as the pool keeps readers, the rest wait their turn.
    pub async fn scan<T, F>(&self, read: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut LiteExec<'_>) -> Result<T> + Send + 'static,
    {
        let _permit = self.shared.scans.acquire().await.map_err(|_| closed())?;
        let lite = self.clone();
        tokio::task::spawn_blocking(move || lite.read(read))
            .await
            .map_err(|e| StoreError::Database(format!("reader task: {e}")))?
    }

    /// Runs `write` on the writer thread inside the next group commit; answers once committed.
    pub async fn write<T, F>(&self, write: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut LiteExec<'_>) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(PendingWrite {
            work: Some(write),
            out: None,
            reply,
        });
        self.shared
            .writes
            .send(Message::Write(job))
            .map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }

    /// Finishes the writes already queued, then closes the writer; later writes fail.
    pub async fn close(&self) {
        let (ack, done) = oneshot::channel();
        if self.shared.writes.send(Message::Close(ack)).is_ok() {
            let _ = done.await;
        }
        while self.shared.readers.pop().is_some() {}
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable("the SQLite store is closed".to_string())
}

trait WriteJob: Send {
    /// Runs the write; false when it failed (its savepoint is then rolled back).
    fn run(&mut self, x: &mut LiteExec<'_>) -> bool;
    /// Answers the caller once the outcome of the commit is known.
    fn finish(self: Box<Self>, commit: Result<()>);
}

struct PendingWrite<T, F> {
    work: Option<F>,
    out: Option<Result<T>>,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> WriteJob for PendingWrite<T, F>
where
    T: Send,
    F: FnOnce(&mut LiteExec<'_>) -> Result<T> + Send,
{
    fn run(&mut self, x: &mut LiteExec<'_>) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let out = catch_unwind(AssertUnwindSafe(|| work(x)))
            .unwrap_or_else(|_| Err(StoreError::Database("a write panicked".to_string())));
        let ok = out.is_ok();
        self.out = Some(out);
        ok
    }

    fn finish(self: Box<Self>, commit: Result<()>) {
        let out = match (commit, self.out) {
            (Err(e), Some(Ok(_)) | None) => Err(e),
            (_, Some(out)) => out,
            (Ok(()), None) => Err(StoreError::Database("write not run".to_string())),
        };
        // The caller may have gone away (request cancelled); the write stands regardless.
        let _ = self.reply.send(out);
    }
}

/// Runs the write queue. Checkpoints (copying committed WAL pages into the database file, with
/// the fsyncs that `synchronous=NORMAL` puts there) run here too, when the queue is empty and
/// enough has been written since the last one (`IDLE_CHECKPOINT_WRITES`). A checkpoint on
/// another thread would fsync the WAL while this one appends to it, and on ext4 those appends
/// then wait for the flush (measured: commits of 2–4 ms instead of 0.2 ms, and 11–18 ms p99 at
/// half the peak rate instead of 4–9 ms; BENCHMARKS.md, session 3). Under a load that never
/// leaves the queue empty, SQLite's own checkpoint every 1,000 WAL pages keeps the WAL bounded.
fn writer_loop(conn: Connection, queue: mpsc::Receiver<Message>) {
    let mut uncheckpointed = 0;
    let mut oldest_uncheckpointed = Instant::now();
    let mut times = WriterTimes::new(Instant::now());
    loop {
        let first = match next_message(
            &queue,
            &conn,
            &mut uncheckpointed,
            oldest_uncheckpointed,
            &mut times,
        ) {
            Some(message) => message,
            None => return,
        };
        let mut batch: Vec<Box<dyn WriteJob>> = Vec::new();
        let mut close = None;
        match first {
            Message::Write(job) => batch.push(job),
            Message::Close(ack) => close = Some(ack),
        }
        while close.is_none() && batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(Message::Write(job)) => batch.push(job),
                Ok(Message::Close(ack)) => close = Some(ack),
                Err(_) => break,
            }
        }
        if !batch.is_empty() {
            if uncheckpointed == 0 {
                oldest_uncheckpointed = Instant::now();
            }
            uncheckpointed += batch.len();
            commit_batch(&conn, batch, &mut times);
        }
        if times.since.elapsed() >= WRITER_REPORT_EVERY {
            // The report is only formatted when debug logging is on for this module.
            tracing::debug!("{}", times.report(Instant::now()));
            times = WriterTimes::new(Instant::now());
        }
        if let Some(ack) = close {
            drop(conn);
            let _ = ack.send(());
            return;
        }
    }
}

/// The next queued message; while there is none, checkpoints what was committed since the
/// last checkpoint (see `IDLE_CHECKPOINT_WRITES`). None when every sender is gone.
fn next_message(
    queue: &mpsc::Receiver<Message>,
    conn: &Connection,
    uncheckpointed: &mut usize,
    oldest_uncheckpointed: Instant,
    times: &mut WriterTimes,
) -> Option<Message> {
    loop {
        match queue.try_recv() {
            Ok(message) => return Some(message),
            Err(mpsc::TryRecvError::Disconnected) => return None,
            Err(mpsc::TryRecvError::Empty) if *uncheckpointed == 0 => return queue.recv().ok(),
            Err(mpsc::TryRecvError::Empty) => {}
        }
        let wait = IDLE_CHECKPOINT_AFTER.saturating_sub(oldest_uncheckpointed.elapsed());
        if *uncheckpointed >= IDLE_CHECKPOINT_WRITES || wait.is_zero() {
            let started = Instant::now();
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "SQLite checkpoint");
            }
            times.checkpointing += started.elapsed();
            times.checkpoints += 1;
            *uncheckpointed = 0;
            continue;
        }
        match queue.recv_timeout(wait) {
            Ok(message) => return Some(message),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return None,
        }
    }
}

fn commit_batch(conn: &Connection, mut batch: Vec<Box<dyn WriteJob>>, times: &mut WriterTimes) {
    let started = Instant::now();
    times.batches += 1;
    times.writes += batch.len() as u64;
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let e = from_rusqlite(e);
        for job in batch {
            job.finish(Err(e.clone()));
        }
        return;
    }
    let mut x = LiteExec { conn };
    for job in batch.iter_mut() {
        if let Err(e) = step(conn, "SAVEPOINT write") {
            tracing::error!(error = %e, "SQLite savepoint");
            continue;
        }
        if !job.run(&mut x) {
            let _ = step(conn, "ROLLBACK TO write");
        }
        let _ = step(conn, "RELEASE write");
    }
    let committing = Instant::now();
    times.running += committing - started;
    let commit = step(conn, "COMMIT").inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    });
    // A commit includes SQLite's own checkpoint when the WAL passes 1,000 pages.
    times.committing += committing.elapsed();
    for job in batch {
        job.finish(commit.clone());
    }
}

/// Where the writer's wall time went over one report period. Every write waits in this one
/// thread, so these shares say what bounds the write rate (BENCHMARKS.md, session 5): running
/// the writes' statements, committing (the WAL append), checkpointing, or waiting for work.
struct WriterTimes {
    since: Instant,
    batches: u64,
    writes: u64,
    running: Duration,
    committing: Duration,
    checkpointing: Duration,
    checkpoints: u64,
}

impl WriterTimes {
    fn new(since: Instant) -> Self {
        WriterTimes {
            since,
            batches: 0,
            writes: 0,
            running: Duration::ZERO,
            committing: Duration::ZERO,
            checkpointing: Duration::ZERO,
            checkpoints: 0,
        }
    }

    fn report(&self, now: Instant) -> String {
        let period = now.saturating_duration_since(self.since);
        let busy = self.running + self.committing + self.checkpointing;
        let share = |d: Duration| {
            if period.is_zero() {
                0.0
            } else {
                100.0 * d.as_secs_f64() / period.as_secs_f64()
            }
        };
        format!(
            "SQLite writer over {:.1} s: {} writes in {} batches; running writes {:.0}%, \
             committing {:.0}%, checkpointing {:.0}% ({} checkpoints), waiting {:.0}%",
            period.as_secs_f64(),
            self.writes,
            self.batches,
            share(self.running),
            share(self.committing),
            share(self.checkpointing),
            self.checkpoints,
            share(period.saturating_sub(busy)),
        )
    }
}

fn step(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute([]))
        .map_err(from_rusqlite)?;
    Ok(())
}

/// Statements on one SQLite connection.
pub struct LiteExec<'c> {
    conn: &'c Connection,
}

impl LiteExec<'_> {
    fn rows(&mut self, sql: &str, params: Vec<Param>, first_only: bool) -> Result<Vec<Row>> {
        let mut stmt = self
            .conn
            .prepare_cached(&numbered_params(sql))
            .map_err(from_rusqlite)?;
        let columns: Arc<[String]> = stmt.column_names().into_iter().map(String::from).collect();
        let mut rows = stmt
            .query(rusqlite::params_from_iter(params.into_iter().map(value)))
            .map_err(from_rusqlite)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(from_rusqlite)? {
            let values = (0..columns.len())
                .map(|i| row.get::<_, Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(from_rusqlite)?;
            out.push(Row::Lite {
                columns: columns.clone(),
                values,
            });
            if first_only {
                break;
            }
        }
        Ok(out)
    }

    fn changes(&mut self, sql: &str, params: Vec<Param>) -> Result<u64> {
        let mut stmt = self
            .conn
            .prepare_cached(&numbered_params(sql))
            .map_err(from_rusqlite)?;
        let changed = stmt
            .execute(rusqlite::params_from_iter(params.into_iter().map(value)))
            .map_err(from_rusqlite)?;
        Ok(changed as u64)
    }
}

impl Tx for LiteExec<'_> {
    fn fetch_optional(&mut self, sql: &str, params: Vec<Param>) -> Result<Option<Row>> {
        self.rows(sql, params, true)
            .map(|rows| rows.into_iter().next())
    }

    fn fetch_all(&mut self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>> {
        self.rows(sql, params, false)
    }

    fn execute(&mut self, sql: &str, params: Vec<Param>) -> Result<u64> {
        self.changes(sql, params)
    }
}

fn value(p: Param) -> Value {
    match p {
        Param::Int(v) => v.map_or(Value::Null, Value::Integer),
        Param::Text(v) => v.map_or(Value::Null, Value::Text),
        Param::Blob(v) => v.map_or(Value::Null, Value::Blob),
    }
}

/// The store's SQL numbers parameters PostgreSQL's way (`$1`); SQLite reads `$1` as a
/// parameter *named* "$1", numbered by first appearance. Where the parameters first appear in
/// order ($1, then $2, …: nearly every statement) the two numberings agree and the SQL is used
/// as it is; otherwise each becomes `?N` (numbered).
fn numbered_params(sql: &str) -> Cow<'_, str> {
    if parameters_first_appear_in_order(sql) {
        return Cow::Borrowed(sql);
    }
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    // '$' and '?' are ASCII, so byte positions are char boundaries.
    for (at, pair) in bytes.windows(2).enumerate() {
        if pair[0] == b'$' && pair[1].is_ascii_digit() {
            out.push_str(&sql[copied..at]);
            out.push('?');
            copied = at + 1;
        }
    }
    out.push_str(&sql[copied..]);
    Cow::Owned(out)
}

fn parameters_first_appear_in_order(sql: &str) -> bool {
    let bytes = sql.as_bytes();
    let mut next = 1u32;
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'$' && bytes.get(at + 1).is_some_and(u8::is_ascii_digit) {
            let mut n = 0u32;
            at += 1;
            while let Some(d) = bytes.get(at).filter(|b| b.is_ascii_digit()) {
                n = n.saturating_mul(10).saturating_add(u32::from(d - b'0'));
                at += 1;
            }
            if n == next {
                next += 1;
            } else if n > next {
                return false;
            }
        } else {
            at += 1;
        }
    }
    true
}

fn from_rusqlite(e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen) => {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Database(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_times_report_shares_of_the_period() {
        let start = Instant::now();
        let mut times = WriterTimes::new(start);
        times.batches = 3;
        times.writes = 40;
        times.running = Duration::from_millis(250);
        times.committing = Duration::from_millis(200);
        times.checkpointing = Duration::from_millis(500);
        times.checkpoints = 7;
        assert_eq!(
            times.report(start + Duration::from_secs(1)),
            "SQLite writer over 1.0 s: 40 writes in 3 batches; running writes 25%, \
             committing 20%, checkpointing 50% (7 checkpoints), waiting 5%"
        );
        // A clock that has not moved reports zeros rather than dividing by zero.
        assert!(WriterTimes::new(start).report(start).ends_with(
            "running writes 0%, committing 0%, checkpointing 0% (0 checkpoints), waiting 0%"
        ));
    }

    #[test]
    fn dollar_parameters_become_numbered_question_marks() {
        assert_eq!(
            numbered_params("SELECT $2, $1 WHERE a = '$.x' AND b = $10"),
            "SELECT ?2, ?1 WHERE a = '$.x' AND b = ?10"
        );
        assert_eq!(numbered_params("SELECT $1, $3, $2"), "SELECT ?1, ?3, ?2");
        // In first-appearance order SQLite's numbering is already the right one.
        for in_order in [
            "SELECT $1, $2, $1 WHERE a = '$.x' AND b = $3",
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            "SELECT 1",
        ] {
            assert!(
                matches!(numbered_params(in_order), Cow::Borrowed(_)),
                "{in_order}"
            );
        }
    }

    /// What the fast path relies on: SQLite numbers `$N` parameters by first appearance.
    #[test]
    fn sqlite_numbers_dollar_parameters_by_first_appearance() {
        let conn = Connection::open_in_memory().unwrap();
        let got: (i64, i64, i64) = conn
            .query_row(
                &numbered_params("SELECT $1, $2, $1 + $3"),
                rusqlite::params![10, 20, 3],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(got, (10, 20, 13));
        let reordered: (i64, i64) = conn
            .query_row(
                &numbered_params("SELECT $2, $1"),
                rusqlite::params![1, 2],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(reordered, (2, 1));
    }

    #[test]
    fn urls_name_a_file_and_a_mode() {
        let t = Target::parse("sqlite:///tmp/x.db?mode=rw").unwrap();
        assert_eq!(t.path, PathBuf::from("/tmp/x.db"));
        assert!(!t.create);
        assert!(Target::parse("sqlite://rel.db").unwrap().create);
        assert!(Target::parse("sqlite::memory:").is_err());
        assert!(Target::parse("sqlite://x.db?cache=shared").is_err());
    }

    #[tokio::test]
    async fn a_failed_write_rolls_back_alone_and_the_others_commit() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let lite = Lite::open(&url, 2).unwrap();
        lite.write(|x| x.execute("CREATE TABLE t (k TEXT PRIMARY KEY)", vec![]))
            .await
            .unwrap();
        let insert = |k: &'static str| {
            let lite = lite.clone();
            async move {
                lite.write(move |x| {
                    x.execute("INSERT INTO t (k) VALUES ($1)", vec![Param::from(k)])?;
                    if k == "bad" {
                        return Err(StoreError::Database("refused".into()));
                    }
                    Ok(())
                })
                .await
            }
        };
        let (a, b, c) = tokio::join!(insert("a"), insert("bad"), insert("c"));
        assert!(a.is_ok() && b.is_err() && c.is_ok());
        let keys = lite
            .read(|x| x.fetch_all("SELECT k FROM t ORDER BY k", vec![]))
            .unwrap()
            .iter()
            .map(|r| r.get::<String>("k").unwrap())
            .collect::<Vec<_>>();
        assert_eq!(keys, ["a", "c"]);
        lite.close().await;
        assert!(matches!(
            insert("late").await,
            Err(StoreError::Unavailable(_))
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_scans_run_at_once_than_the_pool_keeps_readers() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let lite = Lite::open(&url, 2).unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let scans = (0i64..8)
            .map(|n| {
                let (lite, running, most) = (lite.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    lite.scan(move |x| {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        // Long enough for the other scans to try to start meanwhile.
                        std::thread::sleep(Duration::from_millis(20));
                        let rows = x.fetch_all("SELECT $1 AS n", vec![Param::from(n)]);
                        running.fetch_sub(1, Ordering::SeqCst);
                        rows
                    })
                    .await
                })
            })
            .collect::<Vec<_>>();
        for (n, scan) in scans.into_iter().enumerate() {
            let rows = scan.await.unwrap().unwrap();
            assert_eq!(rows[0].get::<i64>("n").unwrap(), n as i64);
        }
        assert!(
            most.load(Ordering::SeqCst) <= 2,
            "{} scans ran at once",
            most.load(Ordering::SeqCst)
        );
        lite.close().await;
    }

    /// Rows in the database file itself, ignoring the WAL: what checkpoints have copied.
    fn rows_in_main_file(path: &std::path::Path) -> i64 {
        let conn = Connection::open_with_flags(
            format!("file:{}?immutable=1", path.display()),
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
        )
        .unwrap();
        conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap_or(0)
    }

    async fn wait_for_main_file(path: &std::path::Path, rows: i64) {
        for _ in 0..100 {
            if rows_in_main_file(path) == rows {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the database file never held {rows} rows");
    }

    /// Without a checkpoint nothing would reach the database file while the store is open (the
    /// test fails then). It does not tell the count rule from the age rule apart: that would
    /// take a timed assertion.
    #[tokio::test]
    async fn the_idle_writer_checkpoints_what_it_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.db");
        let lite = Lite::open(&format!("sqlite://{}", path.display()), 2).unwrap();
        let write = |sql: &'static str| {
            let lite = lite.clone();
            async move { lite.write(move |x| x.execute(sql, vec![])).await.unwrap() }
        };
        write("CREATE TABLE t (k INTEGER PRIMARY KEY)").await;
        for _ in 0..IDLE_CHECKPOINT_WRITES {
            write("INSERT INTO t DEFAULT VALUES").await;
        }
        wait_for_main_file(&path, IDLE_CHECKPOINT_WRITES as i64).await;
        // A single write, fewer than the count: copied once it is a second old.
        write("INSERT INTO t DEFAULT VALUES").await;
        wait_for_main_file(&path, IDLE_CHECKPOINT_WRITES as i64 + 1).await;
        lite.close().await;
    }
}
