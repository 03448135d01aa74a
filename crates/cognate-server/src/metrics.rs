//! Prometheus metrics (`GET /metrics`): requests by operation and outcome, latency histograms,
//! store errors, delivery errors and trigger latency.
//!
//! The request path takes no lock: every (operation, outcome) counter and every operation's
//! histogram is a handle resolved once (the label lookup of `prometheus`'s vectors sits behind
//! a lock), then updated with atomics.

use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use cognate_wire::{ErrorKind, Operation};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, Opts, Registry,
    TextEncoder,
};

/// Request latency buckets, in seconds: from a cached read to a slow trigger.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Store failures are seen where a domain error becomes a wire error (`errors::to_wire`),
/// which has no handle on the state; one process-wide atomic counter serves every registry.
static STORE_ERRORS: LazyLock<Option<IntCounter>> = LazyLock::new(|| {
    IntCounter::new(
        "cognate_store_errors_total",
        "Requests that failed because the database failed or was unavailable",
    )
    .ok()
});

/// Counts a request that failed in the store.
pub fn count_store_error() {
    if let Some(counter) = STORE_ERRORS.as_ref() {
        counter.inc();
    }
}

pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    /// One cell per (operation, outcome): outcome 0 is success, k+1 is `ErrorKind::ALL[k]`.
    request_cells: Vec<OnceLock<IntCounter>>,
    /// Requests with no known operation (unknown target), by outcome.
    unknown_cells: Vec<OnceLock<IntCounter>>,
    latency_by_operation: Vec<Histogram>,
    latency_unknown: Histogram,
    delivery_errors: IntCounterVec,
    trigger_latency: HistogramVec,
}

fn outcomes() -> usize {
    ErrorKind::ALL.len() + 1
}

fn outcome_index(outcome: Result<(), ErrorKind>) -> usize {
    match outcome {
        Ok(()) => 0,
        Err(kind) => ErrorKind::ALL
            .iter()
            .position(|k| *k == kind)
            .map_or(0, |i| i + 1),
    }
}

fn outcome_name(index: usize) -> &'static str {
    match index {
        0 => "ok",
        i => ErrorKind::ALL.get(i - 1).map_or("unknown", |k| k.name()),
    }
}

impl Metrics {
    pub fn new() -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "cognate_requests_total",
                "API requests by operation and outcome (ok or the AWS error type)",
            ),
            &["operation", "outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "cognate_request_duration_seconds",
                "API request latency by operation",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["operation"],
        )?;
        let delivery_errors = IntCounterVec::new(
            Opts::new(
                "cognate_delivery_errors_total",
                "Messages a delivery provider failed to send, by medium",
            ),
            &["medium"],
        )?;
        let trigger_latency = HistogramVec::new(
            HistogramOpts::new(
                "cognate_trigger_duration_seconds",
                "Lambda trigger invocations by trigger and result",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["trigger", "result"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        if let Some(store_errors) = STORE_ERRORS.as_ref() {
            registry.register(Box::new(store_errors.clone()))?;
        }
        registry.register(Box::new(delivery_errors.clone()))?;
        registry.register(Box::new(trigger_latency.clone()))?;
        let latency_by_operation = Operation::ALL
            .iter()
            .map(|op| latency.with_label_values(&[op.name()]))
            .collect();
        Ok(Metrics {
            registry,
            request_cells: (0..Operation::ALL.len() * outcomes())
                .map(|_| OnceLock::new())
                .collect(),
            unknown_cells: (0..outcomes()).map(|_| OnceLock::new()).collect(),
            latency_unknown: latency.with_label_values(&["-"]),
            latency_by_operation,
            requests,
            delivery_errors,
            trigger_latency,
        })
    }

    /// Counts one API request and its latency.
    pub fn observe_request(
        &self,
        op: Option<Operation>,
        outcome: Result<(), ErrorKind>,
        elapsed: Duration,
    ) {
        let outcome = outcome_index(outcome);
        let position = op.and_then(|op| Operation::ALL.iter().position(|o| *o == op));
        let (cell, histogram, op_name) = match position {
            Some(i) => (
                self.request_cells.get(i * outcomes() + outcome),
                self.latency_by_operation.get(i),
                Operation::ALL[i].name(),
            ),
            None => (
                self.unknown_cells.get(outcome),
                Some(&self.latency_unknown),
                "-",
            ),
        };
        if let Some(cell) = cell {
            cell.get_or_init(|| {
                self.requests
                    .with_label_values(&[op_name, outcome_name(outcome)])
            })
            .inc();
        }
        if let Some(histogram) = histogram {
            histogram.observe(elapsed.as_secs_f64());
        }
    }

    pub fn delivery_error(&self, medium: &str) {
        self.delivery_errors.with_label_values(&[medium]).inc();
    }

    pub fn trigger_call(&self, trigger: &str, ok: bool, elapsed: Duration) {
        self.trigger_latency
            .with_label_values(&[trigger, if ok { "ok" } else { "error" }])
            .observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(error = %e, "encoding metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_operation_and_outcome() {
        let m = Metrics::new().unwrap();
        m.observe_request(Some(Operation::SignUp), Ok(()), Duration::from_millis(3));
        m.observe_request(Some(Operation::SignUp), Ok(()), Duration::from_millis(3));
        m.observe_request(
            Some(Operation::SignUp),
            Err(ErrorKind::UsernameExistsException),
            Duration::from_millis(1),
        );
        m.observe_request(
            None,
            Err(ErrorKind::UnknownOperationException),
            Duration::ZERO,
        );
        count_store_error();
        m.delivery_error("email");
        m.trigger_call("PreSignUp", true, Duration::from_millis(20));
        let text = m.render();
        assert!(text.contains(r#"cognate_requests_total{operation="SignUp",outcome="ok"} 2"#));
        assert!(text.contains(
            r#"cognate_requests_total{operation="SignUp",outcome="UsernameExistsException"} 1"#
        ));
        assert!(text.contains(
            r#"cognate_requests_total{operation="-",outcome="UnknownOperationException"} 1"#
        ));
        assert!(text.contains(r#"cognate_request_duration_seconds_count{operation="SignUp"} 3"#));
        assert!(text.contains("cognate_store_errors_total"));
        assert!(text.contains(r#"cognate_delivery_errors_total{medium="email"} 1"#));
        assert!(text.contains(
            r#"cognate_trigger_duration_seconds_count{result="ok",trigger="PreSignUp"} 1"#
        ));
    }
}
