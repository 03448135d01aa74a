//! The sweep: deletes the sign-in rows no rule reads any more (expired challenge sessions,
//! refresh tokens, stale failure and attempt counts; `rules::sessions::sweep_cutoffs`). Every instance may
//! run it: the deletes are idempotent and batched.

use super::Service;
use crate::error::DomainResult;
use crate::records::Swept;
use crate::rules::sessions::sweep_cutoffs;

/// Rows of each table one statement deletes at most.
const SWEEP_BATCH: i64 = 1_000;
/// Batches one sweep runs at most; what is left waits for the next sweep.
const SWEEP_MAX_BATCHES: usize = 100;

impl Service {
    pub async fn sweep_expired(&self) -> DomainResult<Swept> {
        let cutoffs = sweep_cutoffs(self.clock.now());
        let mut swept = Swept::default();
        for _ in 0..SWEEP_MAX_BATCHES {
            let batch = self.store.delete_expired(cutoffs, SWEEP_BATCH).await?;
            swept.auth_sessions += batch.auth_sessions;
            swept.refresh_tokens += batch.refresh_tokens;
            swept.sign_in_failures += batch.sign_in_failures;
            swept.oauth_codes += batch.oauth_codes;
            swept.login_sessions += batch.login_sessions;
            swept.attempt_counters += batch.attempt_counters;
            let full = |n: u64| n >= SWEEP_BATCH as u64;
            if !(full(batch.auth_sessions)
                || full(batch.refresh_tokens)
                || full(batch.sign_in_failures)
                || full(batch.oauth_codes)
                || full(batch.login_sessions)
                || full(batch.attempt_counters))
            {
                break;
            }
        }
        Ok(swept)
    }
}
