//! What the machine can do at all: a no-work HTTP endpoint measured with the same client
//! (the ceiling), and the Argon2id parameters alone on all cores (SignUp's bound).

use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::client::{Call, Endpoint, JSON_11};
use crate::load::{drive, Drive, Workload};
use crate::stats::Outcome;

/// The trivial endpoint: any POST / answers `{}` as AWS JSON 1.1, GET /health answers ok.
pub fn ceiling_router() -> axum::Router {
    use axum::http::header;
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/",
            post(|| async { ([(header::CONTENT_TYPE, JSON_11)], "{}") }),
        )
        .route("/health", get(|| async { "ok" }))
}

/// Serves the trivial endpoint (run as a child process so it has its own runtime, as a real
/// server would) and prints `listening ADDR` once bound.
pub async fn serve_ceiling(listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    println!("listening {}", listener.local_addr()?);
    axum::serve(listener, ceiling_router()).await?;
    Ok(())
}

/// Spawns `cognate-bench ceiling-server` and returns the child and its endpoint.
pub async fn spawn_ceiling() -> anyhow::Result<(tokio::process::Child, Endpoint)> {
    let exe = std::env::current_exe().context("locating this executable")?;
    let mut child = tokio::process::Command::new(exe)
        .args(["ceiling-server", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("starting the ceiling server")?;
    let stdout = child.stdout.take().context("ceiling server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .context("the ceiling server did not start")??
        .context("the ceiling server exited")?;
    let addr = line
        .strip_prefix("listening ")
        .context("unexpected ceiling server output")?;
    Ok((child, Endpoint::parse(&format!("http://{addr}"))?))
}

/// Measures a no-work endpoint: the built-in one (POST / → `{}`), or `path` (e.g. `/health`)
/// on `endpoint` with GET.
pub async fn ceiling(
    endpoint: Endpoint,
    path: Option<String>,
    connections: usize,
    duration: Duration,
    name: &str,
) -> Outcome {
    let w = match path.clone() {
        Some(path) => Workload::new(
            move |_| Some(Call::Get { path: path.clone() }),
            |_, r| r.status.as_u16() == 200,
        ),
        None => Workload::new(
            |_| Some(Call::op("Ceiling", &serde_json::json!({}))),
            |_, r| r.status.as_u16() == 200 && r.body.as_ref() == b"{}",
        ),
    };
    let mut o = drive(
        &Drive {
            endpoint,
            connections,
            duration,
            rate: None,
            timeout: Duration::from_secs(30),
        },
        Arc::new(w),
    )
    .await;
    o.target = name.to_string();
    o.workload = match path {
        Some(p) => format!("ceiling GET {p}"),
        None => "ceiling".to_string(),
    };
    o
}

#[derive(Clone, Copy, Debug)]
pub struct Argon2Params {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

/// Hashes on `threads` OS threads for `duration` and reports hashes per second. With
/// `with_srp`, each step is what SignUp computes: the Argon2id PHC hash (through
/// cognate-crypto) plus the SRP verifier.
pub fn hash_rate(
    params: Argon2Params,
    threads: usize,
    duration: Duration,
    with_srp: bool,
) -> anyhow::Result<Outcome> {
    let argon_params = argon2::Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
    let hasher =
        cognate_crypto::password::PasswordHasher::new(cognate_crypto::password::Argon2Params {
            memory_kib: params.memory_kib,
            iterations: params.iterations,
            parallelism: params.parallelism,
        })?;
    let done = Arc::new(AtomicU64::new(0));
    let cpu_before = crate::stats::cpu_seconds(std::process::id());
    let start = Instant::now();
    let deadline = start + duration;
    let mut handles = Vec::new();
    for t in 0..threads.max(1) {
        let argon_params = argon_params.clone();
        let hasher = hasher.clone();
        let done = done.clone();
        handles.push(std::thread::spawn(
            move || -> anyhow::Result<(Vec<u32>, Instant)> {
                let argon = argon2::Argon2::new(
                    argon2::Algorithm::Argon2id,
                    argon2::Version::V0x13,
                    argon_params,
                );
                let mut out = [0u8; 32];
                // As the server's hashing threads do: one Argon2 work area per thread, reused.
                let mut work = cognate_crypto::password::HashWorkArea::default();
                let mut lat = Vec::new();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    let password = format!("Bench-Passw0rd!{t}-{i}");
                    if with_srp {
                        hasher.hash_with(&password, &mut work)?;
                        let _ = cognate_crypto::srp::compute_verifier(
                            "abcdefghi",
                            "bench-user",
                            &password,
                        );
                    } else {
                        let salt = *uuid::Uuid::new_v4().as_bytes();
                        argon
                            .hash_password_into(password.as_bytes(), &salt, &mut out)
                            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
                    }
                    lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                Ok((lat, Instant::now()))
            },
        ));
    }
    let mut lat = Vec::new();
    let mut finished = start;
    for h in handles {
        let (l, f) = h
            .join()
            .map_err(|_| anyhow::anyhow!("hash thread panicked"))??;
        lat.extend(l);
        finished = finished.max(f);
    }
    let mut o = Outcome {
        target: "machine".into(),
        workload: if with_srp {
            "signup-crypto".into()
        } else {
            "argon2id".into()
        },
        mode: format!("{threads} threads"),
        connections: threads,
        seconds: finished.duration_since(start).as_secs_f64(),
        requests: done.load(Ordering::Relaxed),
        expected: done.load(Ordering::Relaxed),
        note: format!(
            "m={} KiB t={} p={}{}",
            params.memory_kib,
            params.iterations,
            params.parallelism,
            if with_srp {
                ", Argon2id PHC hash + SRP verifier (what SignUp computes)"
            } else {
                ", raw Argon2id (argon2 crate)"
            }
        ),
        ..Default::default()
    };
    if let (Some(b), Some(a)) = (cpu_before, crate::stats::cpu_seconds(std::process::id())) {
        o.server_cpu_s = Some(a - b);
    }
    o.set_latencies(&mut lat);
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_ceiling_endpoint_answers_and_is_measured() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, ceiling_router()).await.unwrap();
        });
        let endpoint = Endpoint::parse(&format!("http://{addr}")).unwrap();
        let o = ceiling(endpoint.clone(), None, 4, Duration::from_millis(300), "t").await;
        assert!(o.requests > 10, "{o:?}");
        assert_eq!(o.unexpected, 0, "{o:?}");
        assert_eq!(o.expected, o.requests);
        assert!(o.p99_ms.is_some());
        let h = ceiling(
            endpoint.clone(),
            Some("/health".into()),
            2,
            Duration::from_millis(200),
            "t",
        )
        .await;
        assert!(h.expected > 0 && h.unexpected == 0, "{h:?}");
        // A path that answers 404 is unexpected, not a success.
        let bad = ceiling(
            endpoint,
            Some("/nope".into()),
            2,
            Duration::from_millis(200),
            "t",
        )
        .await;
        assert_eq!(bad.expected, 0);
        assert_eq!(bad.unexpected, bad.requests);
        assert!(
            bad.unexpected_kinds.keys().all(|k| k.starts_with("404")),
            "{bad:?}"
        );
    }

    #[test]
    fn hash_rate_counts_hashes() {
        let o = hash_rate(
            Argon2Params {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            },
            2,
            Duration::from_millis(100),
            false,
        )
        .unwrap();
        assert!(o.expected > 0);
        assert!(o.ok_rate() > 0.0);
    }
}
