//! The pool-size ladder: one Cognate server, its store bulk-filled with confirmed users
//! (`cognate seed-users`) to each size in turn, the workloads run at each step, and the
//! server's resident memory read from /proc. With `fresh_each_step` every step starts its
//! own server on an empty store instead.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::client::{Call, Conn, Endpoint};
use crate::scenario::{run_workloads, Kind, Options, Seeder, Target};
use crate::stats::{rss_kib, Outcome};

pub struct Ladder {
    pub cognate_bin: PathBuf,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub sizes: Vec<u64>,
    pub kinds: Vec<Kind>,
    /// Extra `cognate serve` flags (printed with the results).
    pub serve_args: Vec<String>,
    /// Where the server's log goes (appended), if anywhere.
    pub server_log: Option<PathBuf>,
    /// The server's COGNATE_LOG.
    pub server_log_filter: String,
    /// A new server on an empty store for every step, so a step's pool holds just its size
    /// in users and none of the codes, events and messages earlier steps left.
    pub fresh_each_step: bool,
    pub template: Options,
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// The running server of a ladder (one for the whole ladder, or one per step).
struct Server {
    child: tokio::process::Child,
    pid: u32,
    target: Target,
}

impl Ladder {
    fn db_args(&self) -> Vec<String> {
        match &self.database_url {
            Some(url) => vec!["--database-url".into(), url.clone()],
            None => vec!["--data-dir".into(), self.data_dir.display().to_string()],
        }
    }

    fn seeder(&self) -> Seeder {
        Seeder {
            bin: self.cognate_bin.clone(),
            db_args: self.db_args(),
        }
    }

    /// Starts `cognate serve` on the ladder's store and sets up the pool and client.
    async fn start(&self) -> anyhow::Result<Server> {
        let port = free_port()?;
        let listen = format!("127.0.0.1:{port}");
        std::fs::create_dir_all(&self.data_dir)?;
        let log = match &self.server_log {
            Some(path) => Stdio::from(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .with_context(|| format!("opening {}", path.display()))?,
            ),
            None => Stdio::null(),
        };
        let mut cmd = tokio::process::Command::new(&self.cognate_bin);
        cmd.args(["serve", "--listen", &listen])
            .args(self.db_args())
            .args(&self.serve_args)
            .env("COGNATE_LOG", &self.server_log_filter)
            .stdout(log)
            .kill_on_drop(true);
        eprintln!(
            "ladder: {} serve --listen {listen} {} {}",
            self.cognate_bin.display(),
            self.db_args().join(" "),
            self.serve_args.join(" ")
        );
        let child = cmd.spawn().context("starting cognate")?;
        let pid = child.id().context("cognate pid")?;
        let endpoint = Endpoint::parse(&format!("http://{listen}"))?;
        wait_healthy(&endpoint).await?;
        let mut opts = self.template.clone();
        opts.endpoint = endpoint;
        opts.seeder = Some(self.seeder());
        opts.pid = Some(pid);
        let target = Target::setup(opts).await?;
        let (rss0, _) = rss_kib(pid).unwrap_or((0, 0));
        eprintln!(
            "ladder: server RSS at start {:.1} MiB",
            rss0 as f64 / 1024.0
        );
        Ok(Server { child, pid, target })
    }

    pub async fn run(self, mut sink: impl FnMut(&Outcome)) -> anyhow::Result<Vec<Outcome>> {
        if self.fresh_each_step && self.database_url.is_some() {
            bail!("--fresh-each-step needs the SQLite store (--data-dir)");
        }
        let seeder = self.seeder();
        let mut server: Option<Server> = None;
        let mut out = Vec::new();
        // Users in the current server's pool: the filler users accumulate in one pool unless
        // every step starts on a new store.
        let mut filled = 0u64;
        for &size in &self.sizes {
            if self.fresh_each_step {
                if let Some(mut old) = server.take() {
                    let _ = old.child.start_kill();
                    let _ = old.child.wait().await;
                }
                if self.data_dir.exists() {
                    std::fs::remove_dir_all(&self.data_dir)
                        .with_context(|| format!("removing {}", self.data_dir.display()))?;
                }
                filled = 0;
            }
            let srv = match &mut server {
                Some(srv) => srv,
                None => server.insert(self.start().await?),
            };
            let pid = srv.pid;
            if size > filled {
                let t = Instant::now();
                let line =
                    seeder.seed(&srv.target.pool_id, "fill-", filled, size - filled, false)?;
                eprintln!("ladder: {line} ({:.1} s)", t.elapsed().as_secs_f64());
                filled = size;
            }
            let (rss_before, hwm_before) = rss_kib(pid).unwrap_or((0, 0));
            let before = Outcome {
                target: format!("cognate@{size}"),
                workload: "memory".into(),
                mode: "before the workloads".into(),
                rss_kib: Some(rss_before),
                note: format!("peak so far {:.1} MiB", hwm_before as f64 / 1024.0),
                pool_users: Some(size),
                ..Default::default()
            };
            sink(&before);
            out.push(before);
            srv.target.opts.name = format!("cognate@{size}");
            let results = run_workloads(&mut srv.target, &self.kinds).await?;
            for mut o in results {
                o.pool_users = Some(size);
                sink(&o);
                out.push(o);
            }
            let (rss, hwm) = rss_kib(pid).unwrap_or((0, 0));
            eprintln!(
                "ladder: step {size}: server RSS {:.1} MiB, peak {:.1} MiB",
                rss as f64 / 1024.0,
                hwm as f64 / 1024.0
            );
            let mem = Outcome {
                target: format!("cognate@{size}"),
                workload: "memory".into(),
                mode: "after the workloads".into(),
                rss_kib: Some(rss),
                note: format!("peak so far {:.1} MiB", hwm as f64 / 1024.0),
                pool_users: Some(size),
                ..Default::default()
            };
            sink(&mem);
            out.push(mem);
        }
        if let Some(mut srv) = server {
            let _ = srv.child.start_kill();
            let _ = srv.child.wait().await;
        }
        Ok(out)
    }
}

pub async fn wait_healthy(endpoint: &Endpoint) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut conn = Conn::new(endpoint.clone(), Duration::from_secs(5));
    while started.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = conn
            .call(&Call::Get {
                path: "/health".into(),
            })
            .await
        {
            if r.status.as_u16() == 200 {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("{} did not become healthy within 60 s", endpoint.authority)
}
