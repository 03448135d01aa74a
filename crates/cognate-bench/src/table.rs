//! Markdown tables from the JSON lines the runs wrote.

use std::fmt::Write as _;

use crate::stats::Outcome;

const ORDER: &[&str] = &[
    "sign-up",
    "resend",
    "resend@50%",
    "confirm-wrong",
    "confirm-wrong@50%",
    "confirm-correct",
    "confirm-correct@50%",
];

fn rate(x: f64) -> String {
    let n = x.round() as u64;
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(v: Option<f64>) -> String {
    match v {
        Some(x) if x < 10.0 => format!("{x:.2}"),
        Some(x) => format!("{x:.1}"),
        None => "-".into(),
    }
}

fn cell(o: Option<&Outcome>) -> String {
    let Some(o) = o else {
        return "not run".into();
    };
    if o.unsupported {
        return "not implemented".into();
    }
    let mut s = format!(
        "{}/s · p50 {} · p99 {} ms",
        rate(o.ok_rate()),
        ms(o.p50_ms),
        ms(o.p99_ms)
    );
    if o.unexpected > 0 {
        let _ = write!(s, " · **{} unexpected**", o.unexpected);
    }
    s
}

fn ratio(base: Option<&Outcome>, peer: Option<&Outcome>) -> String {
    match (base, peer) {
        (Some(b), Some(p)) if !b.unsupported && !p.unsupported => {
            let (b, p) = (b.ok_rate(), p.ok_rate());
            if p > 0.0 {
                format!("{:.1}×", b / p)
            } else {
                "peer: 0 expected".into()
            }
        }
        (_, Some(p)) if p.unsupported => "n/a (not implemented)".into(),
        _ => "n/a".into(),
    }
}

/// The side-by-side table: one row per workload, one column per target, then the baseline's
/// throughput as a multiple of each peer's.
pub fn compare(results: &[Outcome], baseline: &str) -> String {
    let mut targets: Vec<String> = Vec::new();
    for o in results {
        if o.target != "machine" && !targets.contains(&o.target) {
            targets.push(o.target.clone());
        }
    }
    let peers: Vec<&String> = targets.iter().filter(|t| t.as_str() != baseline).collect();
    let find = |t: &str, w: &str| {
        results
            .iter()
            .rev()
            .find(|o| o.target == t && o.workload == w)
    };
    let mut out = String::new();
    out.push_str("| Workload |");
    for t in &targets {
        let _ = write!(out, " {t} |");
    }
    for p in &peers {
        let _ = write!(out, " {baseline} ÷ {p} |");
    }
    out.push_str("\n|---|");
    for _ in 0..targets.len() + peers.len() {
        out.push_str("---|");
    }
    out.push('\n');
    for w in ORDER {
        if !results.iter().any(|o| o.workload == *w) {
            continue;
        }
        let _ = write!(out, "| {w} |");
        for t in &targets {
            let _ = write!(out, " {} |", cell(find(t, w)));
        }
        for p in &peers {
            if w.ends_with("@50%") {
                // Open-loop runs offer half of each target's own peak: compare latencies.
                out.push_str(" (latency only) |");
            } else {
                let _ = write!(out, " {} |", ratio(find(baseline, w), find(p, w)));
            }
        }
        out.push('\n');
    }

    // The machine: ceiling and hash rates, and the baseline as a fraction of them.
    let machine: Vec<&Outcome> = results
        .iter()
        .filter(|o| o.target == "machine" || o.workload.starts_with("ceiling"))
        .collect();
    if !machine.is_empty() {
        out.push_str(
            "\n| Reference | rate | p50 / p99 ms | CPU ms per op | notes |\n|---|---|---|---|---|\n",
        );
        for o in &machine {
            let _ = writeln!(
                out,
                "| {} ({}) | {}/s | {} / {} | {} | {} |",
                o.workload,
                o.target,
                rate(o.ok_rate()),
                ms(o.p50_ms),
                ms(o.p99_ms),
                o.cpu_ms_per_request()
                    .map(|c| format!("{c:.2}"))
                    .unwrap_or_else(|| "-".into()),
                o.note
            );
        }
        let ceiling = machine
            .iter()
            .find(|o| o.workload == "ceiling")
            .map(|o| o.ok_rate());
        // compare.sh measures Argon2id alone before and after the baseline's runs: the rate
        // moves by ±10% within minutes on a shared VM, so one measurement misleads.
        let argon_runs: Vec<&&Outcome> = machine
            .iter()
            .filter(|o| o.workload == "argon2id")
            .collect();
        let argon = mean(argon_runs.iter().map(|o| o.ok_rate()));
        let mut lines = Vec::new();
        for w in ["resend", "confirm-wrong", "confirm-correct"] {
            if let (Some(c), Some(b)) = (ceiling, find(baseline, w)) {
                if c > 0.0 && !b.unsupported {
                    lines.push(format!(
                        "- {baseline} {w}: {:.1}% of the no-work ceiling (target ≥ 25%)",
                        100.0 * b.ok_rate() / c
                    ));
                }
            }
        }
        for w in ["resend@50%", "confirm-wrong@50%", "confirm-correct@50%"] {
            if let Some(b) = find(baseline, w) {
                lines.push(format!(
                    "- {baseline} {w}: p99 {} ms at {} (target < 10 ms)",
                    ms(b.p99_ms),
                    b.mode
                ));
            }
        }
        if let (Some(a), Some(s)) = (argon, find(baseline, "sign-up")) {
            if a > 0.0 {
                let of = if argon_runs.len() > 1 {
                    let each: Vec<String> = argon_runs.iter().map(|o| rate(o.ok_rate())).collect();
                    format!(
                        "the mean Argon2id-alone rate ({}/s; {} runs: {}/s)",
                        rate(a),
                        argon_runs.len(),
                        each.join(", ")
                    )
                } else {
                    "the Argon2id-alone rate".to_string()
                };
                lines.push(format!(
                    "- {baseline} sign-up: {:.1}% of {of} (target ≥ 90%)",
                    100.0 * s.ok_rate() / a
                ));
            }
        }
        let argon_cpu = mean(argon_runs.iter().filter_map(|o| o.cpu_ms_per_request()));
        if let (Some(a), Some(s)) = (
            argon_cpu,
            find(baseline, "sign-up").and_then(|o| o.cpu_ms_per_request()),
        ) {
            lines.push(format!(
                "- {baseline} sign-up CPU: {s:.1} ms of server CPU per SignUp vs {a:.1} ms per bare Argon2id hash: the hash is {:.0}% of SignUp's CPU",
                100.0 * a / s
            ));
        }
        for o in results.iter().filter(|o| o.target == baseline) {
            if let Some(ms) = o.cpu_ms_per_request() {
                lines.push(format!(
                    "- {baseline} {}: {ms:.3} ms of server CPU per request, {:.2} cores busy",
                    o.workload,
                    o.server_cpu_s.unwrap_or(0.0) / o.seconds.max(1e-9)
                ));
            }
        }
        if !lines.is_empty() {
            out.push('\n');
            out.push_str(&lines.join("\n"));
            out.push('\n');
        }
    }

    let mut setups: Vec<String> = Vec::new();
    for t in &targets {
        if let Some(o) = results
            .iter()
            .find(|o| &o.target == t && !o.setup.is_empty())
        {
            setups.push(format!("- {t}: {}", o.setup));
        }
    }
    if !setups.is_empty() {
        out.push_str("\nSetup:\n");
        out.push_str(&setups.join("\n"));
        out.push('\n');
    }
    let notes: Vec<String> = results
        .iter()
        .filter(|o| o.target != "machine" && !o.note.is_empty())
        .map(|o| format!("- {} {}: {}", o.target, o.workload, o.note))
        .collect();
    if !notes.is_empty() {
        out.push_str("\nNotes:\n");
        let mut seen = Vec::new();
        for n in notes {
            if !seen.contains(&n) {
                out.push_str(&n);
                out.push('\n');
                seen.push(n);
            }
        }
    }
    out
}

/// The pool-size ladder: one row per step and workload, with p50 relative to the first step.
pub fn ladder(results: &[Outcome]) -> String {
    let mut out = String::from(
        "| Users in pool | Workload | ok/s | p50 ms | p90 ms | p99 ms | p50 vs first step | unexpected | server RSS MiB |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let steps: Vec<&Outcome> = results.iter().filter(|o| o.pool_users.is_some()).collect();
    for o in &steps {
        let size = o.pool_users.unwrap_or(0);
        let rss = o
            .rss_kib
            .map(|k| format!("{:.1}", k as f64 / 1024.0))
            .unwrap_or_else(|| "-".into());
        if o.workload == "memory" {
            let _ = writeln!(
                out,
                "| {} | memory {} | | | | | | | {rss} ({}) |",
                rate(size as f64),
                o.mode,
                o.note
            );
            continue;
        }
        let first = steps
            .iter()
            .find(|f| f.workload == o.workload && f.pool_users.is_some())
            .and_then(|f| f.p50_ms);
        let change = match (first, o.p50_ms) {
            (Some(f), Some(p)) if f > 0.0 => format!("{:+.0}%", 100.0 * (p - f) / f),
            _ => "-".into(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {rss} |",
            rate(size as f64),
            o.workload,
            rate(o.ok_rate()),
            ms(o.p50_ms),
            ms(o.p90_ms),
            ms(o.p99_ms),
            change,
            o.unexpected
        );
    }
    out
}

/// Each sign-in workload, the bound it is read against and the target fraction of it.
pub const SIGNIN_BOUNDS: &[(&str, &str, &str, f64)] = &[
    (
        "signin-password",
        "argon2id-verify",
        "Argon2id verify rate, all cores",
        0.90,
    ),
    (
        "signin-srp",
        "srp-server",
        "server SRP big-number work per sign-in, all cores",
        0.80,
    ),
    (
        "refresh",
        "rs256-pair",
        "two RS256 signatures, all cores",
        0.80,
    ),
    ("get-user", "ceiling", "no-work ceiling", 0.25),
];

fn cpu(o: &Outcome) -> String {
    o.cpu_ms_per_request()
        .map(|c| format!("{c:.3}"))
        .unwrap_or_else(|| "-".into())
}

/// The sign-in workloads beside their bounds: each bound is the mean of every run of it in
/// the results (the bounds are measured before and after the workloads, as the rate of the
/// same work alone moves on a shared machine).
pub fn signin(results: &[Outcome]) -> String {
    let mut out = String::from(
        "| Workload | ok/s | p50 / p99 ms | server CPU ms/req | bench CPU ms/req | bound | bound CPU ms/op | % of bound | target | met |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (workload, bound, what, target) in SIGNIN_BOUNDS {
        let Some(o) = results
            .iter()
            .rev()
            .find(|o| o.workload == *workload && o.target != "machine")
        else {
            continue;
        };
        let runs: Vec<&Outcome> = results
            .iter()
            .filter(|b| b.target == "machine" && b.workload == *bound)
            .collect();
        let bound_rate = mean(runs.iter().map(|b| b.ok_rate()));
        let bound_cpu = mean(runs.iter().filter_map(|b| b.cpu_ms_per_request()));
        let bound_cell = match bound_rate {
            Some(r) if runs.len() > 1 => format!(
                "{}/s ({what}; mean of {}: {})",
                rate(r),
                runs.len(),
                runs.iter()
                    .map(|b| rate(b.ok_rate()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Some(r) => format!("{}/s ({what})", rate(r)),
            None => format!("not measured ({what})"),
        };
        let share = bound_rate.filter(|r| *r > 0.0).map(|r| o.ok_rate() / r);
        let bench_cpu = o
            .client_cpu_s
            .filter(|_| o.requests > 0)
            .map(|c| format!("{:.3}", 1000.0 * c / o.requests as f64))
            .unwrap_or_else(|| "-".into());
        let mut rate_cell = format!("{}/s", rate(o.ok_rate()));
        if o.unexpected > 0 {
            let _ = write!(rate_cell, " · **{} unexpected**", o.unexpected);
        }
        let _ = writeln!(
            out,
            "| {workload} | {rate_cell} | {} / {} | {} | {bench_cpu} | {bound_cell} | {} | {} | ≥ {:.0}% | {} |",
            ms(o.p50_ms),
            ms(o.p99_ms),
            cpu(o),
            bound_cpu
                .map(|c| format!("{c:.3}"))
                .unwrap_or_else(|| "-".into()),
            share
                .map(|s| format!("{:.1}%", 100.0 * s))
                .unwrap_or_else(|| "-".into()),
            100.0 * target,
            match share {
                Some(s) if s >= *target && o.unexpected == 0 => "yes",
                Some(_) => "**no**",
                None => "-",
            }
        );
    }
    out
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0u32), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / f64::from(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(target: &str, workload: &str, expected: u64, unsupported: bool) -> Outcome {
        Outcome {
            target: target.into(),
            workload: workload.into(),
            mode: "peak".into(),
            seconds: 10.0,
            requests: expected,
            expected,
            unsupported,
            p50_ms: Some(1.0),
            p99_ms: Some(5.0),
            ..Default::default()
        }
    }

    #[test]
    fn ratios_and_unimplemented_peers() {
        let results = vec![
            o("cognate", "resend", 40_000, false),
            o("moto", "resend", 0, true),
            o("cognate", "confirm-correct", 30_000, false),
            o("moto", "confirm-correct", 10_000, false),
            Outcome {
                target: "machine".into(),
                workload: "ceiling".into(),
                seconds: 10.0,
                expected: 1_000_000,
                requests: 1_000_000,
                ..Default::default()
            },
        ];
        let t = compare(&results, "cognate");
        assert!(t.contains("| resend | 4,000/s · p50 1.00 · p99 5.00 ms | not implemented | n/a (not implemented) |"), "{t}");
        assert!(t.contains("| confirm-correct | 3,000/s"), "{t}");
        assert!(t.contains("| 3.0× |"), "{t}");
        assert!(
            t.contains("cognate confirm-correct: 3.0% of the no-work ceiling"),
            "{t}"
        );
    }

    #[test]
    fn ladder_shows_p50_change_from_the_first_step() {
        let mut a = o("cognate@10000", "confirm-correct", 100, false);
        a.pool_users = Some(10_000);
        let mut b = o("cognate@100000", "confirm-correct", 100, false);
        b.pool_users = Some(100_000);
        b.p50_ms = Some(1.1);
        let t = ladder(&[a, b]);
        assert!(
            t.contains("| 100,000 | confirm-correct | 10 | 1.10 |"),
            "{t}"
        );
        assert!(t.contains("| +10% |"), "{t}");
    }

    #[test]
    fn sign_up_is_compared_with_the_mean_of_every_argon2id_run() {
        let argon = |expected: u64| Outcome {
            target: "machine".into(),
            workload: "argon2id".into(),
            seconds: 10.0,
            requests: expected,
            expected,
            ..Default::default()
        };
        let results = vec![
            argon(1_000),
            o("cognate", "sign-up", 1_000, false),
            argon(1_400),
        ];
        let t = compare(&results, "cognate");
        assert!(
            t.contains("cognate sign-up: 83.3% of the mean Argon2id-alone rate (120/s; 2 runs: 100, 140/s)"),
            "{t}"
        );
        let t = compare(&results[..2], "cognate");
        assert!(
            t.contains("cognate sign-up: 100.0% of the Argon2id-alone rate (target"),
            "{t}"
        );
    }

    #[test]
    fn sign_in_rows_read_against_the_mean_bound() {
        let machine = |workload: &str, expected: u64| Outcome {
            target: "machine".into(),
            workload: workload.into(),
            seconds: 10.0,
            requests: expected,
            expected,
            ..Default::default()
        };
        let results = vec![
            machine("argon2id-verify", 1_000),
            machine("ceiling", 1_000_000),
            o("cognate", "signin-password", 950, false),
            o("cognate", "get-user", 20_000, false),
            machine("argon2id-verify", 1_200),
        ];
        let t = signin(&results);
        assert!(
            t.contains("| signin-password | 95/s | 1.00 / 5.00 | - | - | 110/s (Argon2id verify rate, all cores; mean of 2: 100, 120) | - | 86.4% | ≥ 90% | **no** |"),
            "{t}"
        );
        assert!(t.contains("| get-user | 2,000/s |"), "{t}");
        assert!(t.contains("| 2.0% | ≥ 25% | **no** |"), "{t}");
        assert!(!t.contains("signin-srp"), "{t}");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(rate(1234567.0), "1,234,567");
        assert_eq!(rate(999.0), "999");
    }
}
