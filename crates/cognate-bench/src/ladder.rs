//! The pool-size ladder: one Cognate server, its store bulk-filled with confirmed users
//! (`cognate seed-users`) to each size in turn, the workloads run at each step, and the
//! server's resident memory read from /proc.

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
    pub template: Options,
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

impl Ladder {
    fn db_args(&self) -> Vec<String> {
        match &self.database_url {
            Some(url) => vec!["--database-url".into(), url.clone()],
            None => vec!["--data-dir".into(), self.data_dir.display().to_string()],
        }
    }

    pub async fn run(self, mut sink: impl FnMut(&Outcome)) -> anyhow::Result<Vec<Outcome>> {
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
        let mut child = cmd.spawn().context("starting cognate")?;
        let pid = child.id().context("cognate pid")?;
        let endpoint = Endpoint::parse(&format!("http://{listen}"))?;
        wait_healthy(&endpoint).await?;
        let seeder = Seeder {
            bin: self.cognate_bin.clone(),
            db_args: self.db_args(),
        };
        let mut opts = self.template.clone();
        opts.endpoint = endpoint.clone();
        opts.seeder = Some(seeder.clone());
        opts.pid = Some(pid);
        // One pool for the whole ladder: the filler users accumulate in it.
        let mut target = Target::setup(opts).await?;
        let pool_id = target.pool_id.clone();
        let mut out = Vec::new();
        let mut filled = 0u64;
        let (rss0, _) = rss_kib(pid).unwrap_or((0, 0));
        eprintln!(
            "ladder: server RSS at start {:.1} MiB",
            rss0 as f64 / 1024.0
        );
        for &size in &self.sizes {
            if size > filled {
                let t = Instant::now();
                let line = seeder.seed(&pool_id, "fill-", filled, size - filled, false)?;
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
            target.opts.name = format!("cognate@{size}");
            let results = run_workloads(&mut target, &self.kinds).await?;
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
        let _ = child.start_kill();
        let _ = child.wait().await;
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
