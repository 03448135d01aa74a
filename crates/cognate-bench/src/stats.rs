//! Latency percentiles and the per-workload result line (printed, and written as JSON lines
//! for `cognate-bench table`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

/// The `q`-quantile (0..=1) of sorted microsecond samples, nearest-rank.
pub fn percentile_us(sorted: &[u32], q: f64) -> Option<u32> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub target: String,
    pub workload: String,
    /// "peak" (closed loop) or the offered rate of an open-loop run, e.g. "50% = 1200/s".
    pub mode: String,
    pub connections: usize,
    pub seconds: f64,
    pub requests: u64,
    pub expected: u64,
    pub unexpected: u64,
    /// Unexpected responses by kind (status and error name, or transport error).
    pub unexpected_kinds: BTreeMap<String, u64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub rss_kib: Option<u64>,
    pub note: String,
    /// How the endpoint was set up (same for all of a target's results).
    pub setup: String,
    /// The endpoint does not implement the operation.
    pub unsupported: bool,
    pub reconnects: u64,
    /// CPU time (user + system) the server process used during the run, in seconds.
    pub server_cpu_s: Option<f64>,
    /// The pool size the run started with (ladder), if known.
    pub pool_users: Option<u64>,
    /// HTTP calls made, when a request is a flow of several (0: one call per request).
    pub calls: u64,
    /// CPU time (user + system) this load generator used during the run, in seconds.
    pub client_cpu_s: Option<f64>,
}

impl Outcome {
    /// Expected responses per second: a fast error is not a success.
    pub fn ok_rate(&self) -> f64 {
        if self.seconds > 0.0 {
            self.expected as f64 / self.seconds
        } else {
            0.0
        }
    }

    /// Server (or, for hash rates, this process's) CPU time per answered request.
    pub fn cpu_ms_per_request(&self) -> Option<f64> {
        let cpu = self.server_cpu_s?;
        (self.requests > 0).then(|| 1000.0 * cpu / self.requests as f64)
    }

    pub fn set_latencies(&mut self, samples: &mut [u32]) {
        samples.sort_unstable();
        let ms = |q| percentile_us(samples, q).map(|us| f64::from(us) / 1000.0);
        self.p50_ms = ms(0.50);
        self.p90_ms = ms(0.90);
        self.p99_ms = ms(0.99);
    }

    pub fn to_json(&self) -> Value {
        json!({
            "target": self.target,
            "workload": self.workload,
            "mode": self.mode,
            "connections": self.connections,
            "seconds": self.seconds,
            "requests": self.requests,
            "expected": self.expected,
            "unexpected": self.unexpected,
            "unexpected_kinds": self.unexpected_kinds,
            "ok_per_s": self.ok_rate(),
            "p50_ms": self.p50_ms,
            "p90_ms": self.p90_ms,
            "p99_ms": self.p99_ms,
            "rss_kib": self.rss_kib,
            "note": self.note,
            "setup": self.setup,
            "unsupported": self.unsupported,
            "reconnects": self.reconnects,
            "pool_users": self.pool_users,
            "server_cpu_s": self.server_cpu_s,
            "calls": self.calls,
            "client_cpu_s": self.client_cpu_s,
        })
    }

    pub fn from_json(v: &Value) -> Self {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let u = |k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
        let f = |k: &str| v.get(k).and_then(Value::as_f64);
        Outcome {
            target: s("target"),
            workload: s("workload"),
            mode: s("mode"),
            connections: u("connections") as usize,
            seconds: f("seconds").unwrap_or(0.0),
            requests: u("requests"),
            expected: u("expected"),
            unexpected: u("unexpected"),
            unexpected_kinds: v
                .get("unexpected_kinds")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                        .collect()
                })
                .unwrap_or_default(),
            p50_ms: f("p50_ms"),
            p90_ms: f("p90_ms"),
            p99_ms: f("p99_ms"),
            rss_kib: v.get("rss_kib").and_then(Value::as_u64),
            note: s("note"),
            setup: s("setup"),
            unsupported: v
                .get("unsupported")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            reconnects: u("reconnects"),
            pool_users: v.get("pool_users").and_then(Value::as_u64),
            server_cpu_s: f("server_cpu_s"),
            calls: u("calls"),
            client_cpu_s: f("client_cpu_s"),
        }
    }

    /// One human-readable line.
    pub fn line(&self) -> String {
        if self.unsupported {
            return format!(
                "{:<10} {:<22} not implemented by this endpoint ({})",
                self.target, self.workload, self.note
            );
        }
        let ms = |v: Option<f64>| v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "-".into());
        let mut out = format!(
            "{:<10} {:<22} {:<14} {:>10.0} ok/s  p50 {:>7} ms  p90 {:>7} ms  p99 {:>7} ms  {:>8} requests  {:>6} unexpected  {} conns  {:.1} s",
            self.target,
            self.workload,
            self.mode,
            self.ok_rate(),
            ms(self.p50_ms),
            ms(self.p90_ms),
            ms(self.p99_ms),
            self.requests,
            self.unexpected,
            self.connections,
            self.seconds,
        );
        if let Some(ms) = self.cpu_ms_per_request() {
            out.push_str(&format!(
                "  server CPU {ms:.2} ms/request ({:.2} cores)",
                self.server_cpu_s.unwrap_or(0.0) / self.seconds.max(1e-9)
            ));
        }
        if let Some(cpu) = self.client_cpu_s.filter(|_| self.requests > 0) {
            out.push_str(&format!(
                "  bench CPU {:.2} ms/request",
                1000.0 * cpu / self.requests as f64
            ));
        }
        if self.calls > self.requests {
            out.push_str(&format!("  {} calls", self.calls));
        }
        if let Some(rss) = self.rss_kib {
            out.push_str(&format!("  RSS {:.1} MiB", rss as f64 / 1024.0));
        }
        if self.unexpected > 0 {
            let mut kinds: Vec<_> = self.unexpected_kinds.iter().collect();
            kinds.sort_by(|a, b| b.1.cmp(a.1));
            let top: Vec<String> = kinds
                .iter()
                .take(3)
                .map(|(k, n)| format!("{n}× {k}"))
                .collect();
            out.push_str(&format!("\n{:<33} unexpected: {}", "", top.join("; ")));
        }
        if !self.note.is_empty() {
            out.push_str(&format!("\n{:<33} note: {}", "", self.note));
        }
        out
    }
}

/// User + system CPU time of a process so far, in seconds (from /proc/PID/stat; clock ticks
/// of 1/100 s, the Linux default USER_HZ).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which is in parentheses and may contain spaces).
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the state.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) as f64 / 100.0)
}

/// Resident and peak memory of a process, from /proc/PID/status, in KiB.
pub fn rss_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|n| n.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:").unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let samples: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile_us(&samples, 0.5), Some(50));
        assert_eq!(percentile_us(&samples, 0.99), Some(99));
        assert_eq!(percentile_us(&samples, 1.0), Some(100));
        assert_eq!(percentile_us(&[7], 0.99), Some(7));
        assert_eq!(percentile_us(&[], 0.5), None);
    }

    #[test]
    fn outcome_survives_a_json_round_trip() {
        let mut o = Outcome {
            target: "cognate".into(),
            workload: "confirm-wrong".into(),
            mode: "peak".into(),
            connections: 32,
            seconds: 2.0,
            requests: 110,
            expected: 100,
            unexpected: 10,
            ..Default::default()
        };
        o.unexpected_kinds.insert("200 {}".into(), 10);
        let mut lat: Vec<u32> = vec![3000, 1000, 2000];
        o.set_latencies(&mut lat);
        let back = Outcome::from_json(&o.to_json());
        assert_eq!(back.expected, 100);
        assert_eq!(back.unexpected_kinds.get("200 {}"), Some(&10));
        assert_eq!(back.p50_ms, Some(2.0));
        assert!((back.ok_rate() - 50.0).abs() < 1e-9);
    }

    #[test]
    fn reads_this_process_cpu_time() {
        let before = cpu_seconds(std::process::id()).unwrap();
        let mut x = 0u64;
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(300) {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        let after = cpu_seconds(std::process::id()).unwrap();
        assert!(x > 0);
        assert!(after - before >= 0.1, "{before} -> {after}");
    }

    #[test]
    fn reads_this_process_memory() {
        let (rss, peak) = rss_kib(std::process::id()).unwrap();
        assert!(rss > 0 && peak >= rss);
    }
}
