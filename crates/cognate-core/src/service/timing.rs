//! Equal timing for hidden user existence. With `PreventUserExistenceErrors=ENABLED`, a name
//! of no user gets the same answer as a real user (and the same attempt limits), but its
//! answer would come sooner: no code to check, no user row to write, no message to send.
//! Each of the four code operations therefore keeps its recent real-path durations, and a
//! hidden refusal waits until one of them, drawn at random, has passed since the request
//! began. The wait is a timer (and a yield for the last millisecond), not work.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The operations whose missing-user answers are timed like real ones.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Mirrored {
    ConfirmSignUp = 0,
    ResendConfirmationCode = 1,
    ForgotPassword = 2,
    ConfirmForgotPassword = 3,
}

/// An answer is never held longer than this, whatever the samples say (a slow provider
/// outage must not make every hidden refusal slow too).
const MAX_PAD: Duration = Duration::from_secs(2);
/// Real-path durations kept per operation.
const SAMPLES: usize = 32;
/// tokio's timer has millisecond ticks: the last stretch of a wait yields instead.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// The recent real-path durations of each operation, in a ring of atomics (no lock).
pub(crate) struct LatencyMirror {
    samples_us: [[AtomicU64; SAMPLES]; 4],
    next: [AtomicUsize; 4],
}

impl Default for LatencyMirror {
    fn default() -> Self {
        LatencyMirror {
            samples_us: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            next: std::array::from_fn(|_| AtomicUsize::new(0)),
        }
    }
}

impl LatencyMirror {
    /// Records a real path's duration.
    pub(crate) fn observe(&self, op: Mirrored, elapsed: Duration) {
        let sample = u64::try_from(elapsed.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let slot = self.next[op as usize].fetch_add(1, Ordering::Relaxed) % SAMPLES;
        self.samples_us[op as usize][slot].store(sample, Ordering::Relaxed);
    }

    /// A duration drawn from the recent real paths (so a hidden refusal's timing follows
    /// their spread, not just their mean); zero before the first.
    fn draw(&self, op: Mirrored) -> Duration {
        let kept = self.next[op as usize].load(Ordering::Relaxed).min(SAMPLES);
        if kept == 0 {
            return Duration::ZERO;
        }
        let pick = (rand::random::<u32>() as usize) % kept;
        Duration::from_micros(self.samples_us[op as usize][pick].load(Ordering::Relaxed))
    }

    /// Waits until a real path's duration has passed since `started`.
    pub(crate) async fn pad(&self, op: Mirrored, started: Option<Instant>) {
        let Some(started) = started else {
            return;
        };
        let deadline = started + self.draw(op).min(MAX_PAD);
        if let Some(coarse) = deadline.checked_sub(TIMER_TICK) {
            if coarse > Instant::now() {
                tokio::time::sleep_until(coarse.into()).await;
            }
        }
        while Instant::now() < deadline {
            tokio::task::yield_now().await;
        }
    }

    /// Records the real path's duration when dropped, so every return counts.
    pub(crate) fn measure(&self, op: Mirrored, started: Option<Instant>) -> RealPath<'_> {
        RealPath {
            mirror: self,
            op,
            started,
        }
    }
}

pub(crate) struct RealPath<'a> {
    mirror: &'a LatencyMirror,
    op: Mirrored,
    started: Option<Instant>,
}

impl Drop for RealPath<'_> {
    fn drop(&mut self) {
        if let Some(started) = self.started {
            self.mirror.observe(self.op, started.elapsed());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_come_from_the_recent_real_paths() {
        let mirror = LatencyMirror::default();
        assert_eq!(mirror.draw(Mirrored::ConfirmSignUp), Duration::ZERO);
        mirror.observe(Mirrored::ConfirmSignUp, Duration::from_micros(800));
        assert_eq!(
            mirror.draw(Mirrored::ConfirmSignUp),
            Duration::from_micros(800)
        );
        for _ in 0..SAMPLES {
            mirror.observe(Mirrored::ConfirmSignUp, Duration::from_micros(1600));
        }
        // The old sample has left the ring.
        for _ in 0..100 {
            assert_eq!(
                mirror.draw(Mirrored::ConfirmSignUp),
                Duration::from_micros(1600)
            );
        }
        assert_eq!(
            mirror.draw(Mirrored::ResendConfirmationCode),
            Duration::ZERO
        );
    }

    #[tokio::test]
    async fn a_hidden_refusal_waits_for_a_real_duration_since_the_request_began() {
        let mirror = LatencyMirror::default();
        mirror.observe(Mirrored::ForgotPassword, Duration::from_micros(2500));
        let started = Instant::now();
        mirror.pad(Mirrored::ForgotPassword, Some(started)).await;
        let waited = started.elapsed();
        assert!(waited >= Duration::from_micros(2500), "{waited:?}");
        // A request that already took longer is not held further.
        let old = Instant::now() - Duration::from_secs(1);
        let before = Instant::now();
        mirror.pad(Mirrored::ForgotPassword, Some(old)).await;
        assert!(before.elapsed() < Duration::from_millis(20));
    }
}
