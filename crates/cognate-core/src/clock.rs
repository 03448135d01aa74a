//! The wall clock, with a test-only offset. `cognate serve --test-clock` exposes
//! `POST /_cognate/test/clock` to move it forward, so code expiry and hourly limits are tested
//! without sleeping. Never enable it in production.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::ports::Clock;

/// Clones share one offset.
#[derive(Clone, Default)]
pub struct WallClock {
    offset_secs: Arc<AtomicI64>,
}

impl WallClock {
    /// Moves this clock (and every clone) forward; returns the new time.
    pub fn advance(&self, secs: i64) -> i64 {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
        self.now()
    }
}

impl Clock for WallClock {
    fn now(&self) -> i64 {
        let real = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        real + self.offset_secs.load(Ordering::Relaxed)
    }
}
