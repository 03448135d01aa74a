//! The load driver: N connections, each a closed loop (send, wait, send) or, with a target
//! rate, an open loop paced by a schedule (latency counted from the scheduled send time, so a
//! stalled server is not hidden by the client waiting for it).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Barrier;

use crate::client::{Call, Conn, Endpoint, Reply};
use crate::stats::Outcome;

/// What a workload sends and what it expects. `seq` numbers the requests of one run from 0;
/// `make` returns None when the workload's supply (e.g. users with codes) is used up. A
/// request may be a flow of several calls (an SRP sign-in is two): `step` sees each reply
/// with its call's index in the flow and either ends the request (expected or not) or names
/// the next call. Rates and latencies count whole requests.
pub struct Workload {
    pub make: Box<MakeFn>,
    pub step: Box<StepFn>,
}

pub type MakeFn = dyn Fn(u64) -> Option<Call> + Send + Sync;
pub type StepFn = dyn Fn(u64, usize, &Reply) -> Step + Send + Sync;

/// What follows a reply.
pub enum Step {
    /// The request is over: answered as expected or not.
    Done(bool),
    /// Send this next, on the same connection.
    Then(Call),
}

impl Workload {
    /// One call per request.
    pub fn new(
        make: impl Fn(u64) -> Option<Call> + Send + Sync + 'static,
        check: impl Fn(u64, &Reply) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self {
            make: Box::new(make),
            step: Box::new(move |seq, _, reply| Step::Done(check(seq, reply))),
        }
    }

    /// Requests of one or more calls: `step(seq, call_index, reply)`.
    pub fn flow(
        make: impl Fn(u64) -> Option<Call> + Send + Sync + 'static,
        step: impl Fn(u64, usize, &Reply) -> Step + Send + Sync + 'static,
    ) -> Self {
        Self {
            make: Box::new(make),
            step: Box::new(step),
        }
    }
}

/// Longest flow a request may be (a step function that never ends is a bench bug).
const MAX_CALLS_PER_REQUEST: usize = 16;

#[derive(Clone, Debug)]
pub struct Drive {
    pub endpoint: Endpoint,
    pub connections: usize,
    pub duration: Duration,
    /// Offered requests per second over all connections (open loop); None = closed loop.
    pub rate: Option<f64>,
    pub timeout: Duration,
}

struct WorkerResult {
    latencies_us: Vec<u32>,
    expected: u64,
    unexpected: BTreeMap<String, u64>,
    finished: Instant,
    exhausted: bool,
    connects: u64,
    /// HTTP calls made (more than requests when requests are flows).
    calls: u64,
}

/// Runs `workload` and returns its outcome (target, workload name and mode are left for the
/// caller to fill in).
pub async fn drive(spec: &Drive, workload: Arc<Workload>) -> Outcome {
    let connections = spec.connections.max(1);
    let seq = Arc::new(AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(connections + 1));
    let start_cell = Arc::new(tokio::sync::OnceCell::<Instant>::new());
    let mut handles = Vec::with_capacity(connections);
    for worker in 0..connections {
        let workload = workload.clone();
        let seq = seq.clone();
        let barrier = barrier.clone();
        let start_cell = start_cell.clone();
        let spec = spec.clone();
        handles.push(tokio::spawn(async move {
            let mut conn = Conn::new(spec.endpoint.clone(), spec.timeout);
            // Connect before the clock starts (a failure here shows up as an unexpected
            // response on the first request instead).
            let _ = conn.warm().await;
            conn.connects = 0;
            barrier.wait().await;
            let start = *start_cell.get_or_init(|| async { Instant::now() }).await;
            let deadline = start + spec.duration;
            let interval = spec
                .rate
                .filter(|r| *r > 0.0)
                .map(|r| Duration::from_secs_f64(connections as f64 / r));
            // Spread the connections' schedules evenly over one interval.
            let mut next_at =
                interval.map(|iv| start + iv.mul_f64(worker as f64 / connections as f64));
            let mut out = WorkerResult {
                latencies_us: Vec::with_capacity(4096),
                expected: 0,
                unexpected: BTreeMap::new(),
                finished: start,
                exhausted: false,
                connects: 0,
                calls: 0,
            };
            loop {
                let sent_at = match (interval, next_at) {
                    (Some(iv), Some(at)) => {
                        if at >= deadline {
                            break;
                        }
                        tokio::time::sleep_until(at.into()).await;
                        next_at = Some(at + iv);
                        at
                    }
                    _ => {
                        let now = Instant::now();
                        if now >= deadline {
                            break;
                        }
                        now
                    }
                };
                let n = seq.fetch_add(1, Ordering::Relaxed);
                let Some(mut call) = (workload.make)(n) else {
                    out.exhausted = true;
                    break;
                };
                let mut index = 0;
                loop {
                    match conn.call(&call).await {
                        Ok(reply) => match (workload.step)(n, index, &reply) {
                            Step::Done(true) => out.expected += 1,
                            Step::Done(false) => {
                                *out.unexpected.entry(reply.describe()).or_default() += 1;
                            }
                            Step::Then(next) if index + 1 < MAX_CALLS_PER_REQUEST => {
                                call = next;
                                index += 1;
                                continue;
                            }
                            Step::Then(_) => {
                                *out.unexpected
                                    .entry("bench: flow too long".into())
                                    .or_default() += 1;
                            }
                        },
                        Err(e) => {
                            let text: String = format!("transport: {e}").chars().take(80).collect();
                            *out.unexpected.entry(text).or_default() += 1;
                        }
                    }
                    break;
                }
                out.calls += index as u64 + 1;
                let us = sent_at.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
                out.latencies_us.push(us);
            }
            out.finished = Instant::now();
            out.connects = conn.connects;
            out
        }));
    }
    barrier.wait().await;
    let start = *start_cell.get_or_init(|| async { Instant::now() }).await;
    let mut latencies = Vec::new();
    let mut outcome = Outcome {
        connections,
        mode: match spec.rate {
            Some(r) => format!("{r:.0}/s offered"),
            None => "peak".into(),
        },
        ..Default::default()
    };
    let mut finished = start;
    let mut exhausted = false;
    for h in handles {
        let Ok(r) = h.await else {
            *outcome
                .unexpected_kinds
                .entry("bench worker panicked".into())
                .or_default() += 1;
            continue;
        };
        outcome.expected += r.expected;
        for (k, n) in r.unexpected {
            outcome.unexpected += n;
            *outcome.unexpected_kinds.entry(k).or_default() += n;
        }
        outcome.reconnects += r.connects;
        outcome.calls += r.calls;
        latencies.extend_from_slice(&r.latencies_us);
        finished = finished.max(r.finished);
        exhausted |= r.exhausted;
    }
    outcome.requests = latencies.len() as u64;
    outcome.seconds = finished.duration_since(start).as_secs_f64();
    outcome.set_latencies(&mut latencies);
    if exhausted {
        outcome.note = format!(
            "the prepared supply ran out after {:.1} s of {:.0} s",
            outcome.seconds,
            spec.duration.as_secs_f64()
        );
    }
    outcome
}

/// Runs a finite list of calls as fast as `connections` allow (preparation, not measured).
/// Returns how many were answered as expected.
pub async fn run_all(
    endpoint: &Endpoint,
    connections: usize,
    limit: Duration,
    workload: Workload,
) -> Outcome {
    drive(
        &Drive {
            endpoint: endpoint.clone(),
            connections,
            duration: limit,
            rate: None,
            timeout: Duration::from_secs(60),
        },
        Arc::new(workload),
    )
    .await
}
