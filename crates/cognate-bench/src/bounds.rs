//! The sign-in workloads' bounds: the CPU work each sign-in or refresh cannot avoid, done
//! in-process on one thread per core with the server's own code (cognate-crypto), so a
//! workload's rate can be read as a fraction of what the machine's cores could do of that
//! work alone.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{ensure, Context};
use cognate_crypto::jwt::PrivateKey;
use cognate_crypto::password::{Argon2Params, PasswordHasher};
use cognate_crypto::srp;
use serde_json::{json, Map, Value};

use crate::scenario::PASSWORD;
use crate::stats::Outcome;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Bound {
    /// `PasswordHasher::verify` of a PHC hash with the server's default parameters (what
    /// USER_PASSWORD_AUTH checks once per sign-in).
    Argon2idVerify,
    /// `srp::server_ephemeral` then `srp::verify_password_claim` (the server's big-number
    /// work for one SRP sign-in: B in the first call, B again, u, S and the proof in the
    /// second).
    SrpServer,
    /// Two `jwt::PrivateKey::sign` calls with the ID and access keys over claims shaped like
    /// the server's (what one refresh signs).
    Rs256Pair,
}

impl Bound {
    pub fn name(self) -> &'static str {
        match self {
            Bound::Argon2idVerify => "argon2id-verify",
            Bound::SrpServer => "srp-server",
            Bound::Rs256Pair => "rs256-pair",
        }
    }

    fn note(self) -> &'static str {
        match self {
            Bound::Argon2idVerify => {
                "PasswordHasher::verify_with in a per-thread work area (as the server's hashing threads), m=19456 KiB t=2 p=1 (the server's default), a matching password"
            }
            Bound::SrpServer => {
                "srp::server_ephemeral + ephemeral hex round trip + srp::verify_password_claim (3072-bit group, 256-bit b)"
            }
            Bound::Rs256Pair => {
                "two jwt::PrivateKey::sign (2048-bit keys from PKCS#8, as stored) over ID- and access-token claims"
            }
        }
    }
}

/// One unit of the bound's work; errors end the measurement.
type Op = Box<dyn FnMut() -> anyhow::Result<()> + Send>;

/// What each thread runs, built once (untimed) and shared.
fn prepare(bound: Bound) -> anyhow::Result<Arc<dyn Fn() -> Op + Send + Sync>> {
    Ok(match bound {
        Bound::Argon2idVerify => {
            let hasher = PasswordHasher::new(Argon2Params::default())?;
            let phc = hasher.hash(PASSWORD)?;
            ensure!(hasher.verify(PASSWORD, &phc), "the hash does not verify");
            Arc::new(move || {
                let (hasher, phc) = (hasher.clone(), phc.clone());
                // Each thread keeps its Argon2 memory, as the server's hashing threads do.
                let mut work = cognate_crypto::password::HashWorkArea::default();
                Box::new(move || {
                    ensure!(
                        hasher.verify_with(PASSWORD, &phc, &mut work),
                        "verify failed"
                    );
                    Ok(())
                })
            })
        }
        Bound::SrpServer => {
            let pool_name = "AbCdEfGhI".to_string();
            let user_id = uuid::Uuid::new_v4().to_string();
            let stored = srp::compute_verifier(&pool_name, &user_id, PASSWORD);
            let client = srp::client::SrpClient::generate();
            let block = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v";
            let timestamp = srp::format_timestamp(1_767_225_600);
            // Once, untimed: a genuine claim passes, so the timed checks do the real work.
            let (b, srp_b) = srp::server_ephemeral(&stored.verifier_hex, None)?;
            let key =
                srp::client::PasswordKey::derive(&pool_name, &user_id, PASSWORD, &stored.salt_hex)?;
            let genuine = client.password_claim(&key, &srp_b, block, &timestamp)?;
            ensure!(
                srp::verify_password_claim(
                    &pool_name,
                    &user_id,
                    &stored.verifier_hex,
                    &b,
                    client.srp_a(),
                    block,
                    &timestamp,
                    &genuine,
                )?,
                "a genuine SRP claim was refused"
            );
            // Timed: a claim for another B, which fails only at the final comparison after
            // the same exponentiations (the server cannot tell before computing S).
            let claim = genuine;
            Arc::new(move || {
                let (pool_name, user_id, verifier) = (
                    pool_name.clone(),
                    user_id.clone(),
                    stored.verifier_hex.clone(),
                );
                let (srp_a, timestamp, claim) =
                    (client.srp_a().to_string(), timestamp.clone(), claim.clone());
                Box::new(move || {
                    let (b, _srp_b) = srp::server_ephemeral(&verifier, None)?;
                    let b = srp::ephemeral_from_hex(&srp::ephemeral_to_hex(&b))?;
                    let ok = srp::verify_password_claim(
                        &pool_name, &user_id, &verifier, &b, &srp_a, block, &timestamp, &claim,
                    )?;
                    std::hint::black_box(ok);
                    Ok(())
                })
            })
        }
        Bound::Rs256Pair => {
            let stored = |kid: &str| -> anyhow::Result<PrivateKey> {
                let key = PrivateKey::generate(kid)?;
                Ok(PrivateKey::from_pkcs8_der(kid, &key.to_pkcs8_der()?)?)
            };
            let id_key = stored("bench-id")?;
            let access_key = stored("bench-access")?;
            let (id, access) = token_claims();
            Arc::new(move || {
                let (id_key, access_key) = (id_key.clone(), access_key.clone());
                let (id, access) = (id.clone(), access.clone());
                Box::new(move || {
                    std::hint::black_box(access_key.sign(&access)?);
                    std::hint::black_box(id_key.sign(&id)?);
                    Ok(())
                })
            })
        }
    })
}

/// ID- and access-token claims of the size and shape the server issues for a seeded user.
fn token_claims() -> (Map<String, Value>, Map<String, Value>) {
    let sub = uuid::Uuid::new_v4().to_string();
    let iss = "http://127.0.0.1:9229/us-east-1_AbCdEfGhI";
    let common = json!({
        "sub": sub, "iss": iss, "event_id": uuid::Uuid::new_v4().to_string(),
        "auth_time": 1_767_225_600, "iat": 1_767_225_600,
        "origin_jti": uuid::Uuid::new_v4().to_string(),
    });
    let Value::Object(common) = common else {
        return (Map::new(), Map::new());
    };
    let mut access = common.clone();
    for (k, v) in [
        ("client_id", json!("1example23456789abcdefghij")),
        ("token_use", json!("access")),
        ("scope", json!("aws.cognito.signin.user.admin")),
        ("exp", json!(1_767_229_200)),
        ("jti", json!(uuid::Uuid::new_v4().to_string())),
        ("username", json!(sub)),
    ] {
        access.insert(k.into(), v);
    }
    let mut id = common;
    for (k, v) in [
        ("aud", json!("1example23456789abcdefghij")),
        ("token_use", json!("id")),
        ("cognito:username", json!(sub)),
        ("exp", json!(1_767_229_200)),
        ("jti", json!(uuid::Uuid::new_v4().to_string())),
        ("email", json!("b1a2b3c4d-p1-000000001@example.com")),
        ("email_verified", json!(true)),
    ] {
        id.insert(k.into(), v);
    }
    (id, access)
}

/// Runs `bound` on `threads` OS threads for `duration`: operations per second over all of
/// them, per-operation latency, and this process's CPU time.
pub fn measure(bound: Bound, threads: usize, duration: Duration) -> anyhow::Result<Outcome> {
    let factory = prepare(bound).with_context(|| format!("preparing {}", bound.name()))?;
    let threads = threads.max(1);
    // Every thread's work is built before the clock starts.
    let ops: Vec<Op> = (0..threads).map(|_| factory()).collect();
    let cpu_before = crate::stats::cpu_seconds(std::process::id());
    let start = Instant::now();
    let deadline = start + duration;
    let handles: Vec<_> = ops
        .into_iter()
        .map(|mut op| {
            std::thread::spawn(move || -> anyhow::Result<(Vec<u32>, Instant)> {
                let mut lat = Vec::new();
                while Instant::now() < deadline {
                    let t0 = Instant::now();
                    op()?;
                    lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                }
                Ok((lat, Instant::now()))
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut finished = start;
    for h in handles {
        let (l, f) = h
            .join()
            .map_err(|_| anyhow::anyhow!("bound thread panicked"))??;
        lat.extend(l);
        finished = finished.max(f);
    }
    let done = lat.len() as u64;
    let mut o = Outcome {
        target: "machine".into(),
        workload: bound.name().into(),
        mode: format!("{threads} threads"),
        connections: threads,
        seconds: finished.duration_since(start).as_secs_f64(),
        requests: done,
        expected: done,
        note: bound.note().into(),
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

    #[test]
    fn the_bounds_run_and_count() {
        for bound in [Bound::SrpServer, Bound::Rs256Pair] {
            let o = measure(bound, 2, Duration::from_millis(200)).unwrap();
            assert!(o.expected > 0, "{o:?}");
            assert_eq!(o.workload, bound.name());
            assert!(o.p50_ms.is_some());
        }
    }
}
