//! Challenge sessions are single-use and expire (spec ii.1): whether one may be answered.
//! And the sweep: which expired sign-in rows no rule reads any more.

use crate::records::{AuthSessionRecord, SessionTake, SweepCutoffs};
use crate::rules::limits::ATTEMPT_WINDOW_SECS;
use crate::rules::lockout::MAX_LOCKOUT_SECS;

/// The longest an ID or access token lives (AWS's maximum validity: one day).
pub const LONGEST_ACCESS_TOKEN_SECS: i64 = 86_400;
/// How long an expired challenge session is kept: answering it says "expired" rather than
/// "invalid" for a day.
pub const EXPIRED_SESSION_KEPT_SECS: i64 = 86_400;

/// What a sweep at `now` may delete:
/// - a challenge session a day after it expired (a used one expires like the others);
/// - a refresh token once every access token minted from it has expired as well: access
///   tokens are checked against their refresh token's family (`origin_jti`) for revocation,
///   and the last of them is minted at most at the refresh token's expiry and lives at most
///   a day;
/// - a failure count left alone for the lockout's reset time (it would start afresh anyway);
/// - an attempt counter whose hourly window has passed (its next attempt restarts it; a
///   name of no user tried once would otherwise keep its row for ever).
pub fn sweep_cutoffs(now: i64) -> SweepCutoffs {
    SweepCutoffs {
        sessions_expired_before: now - EXPIRED_SESSION_KEPT_SECS,
        refresh_expired_before: now - LONGEST_ACCESS_TOKEN_SECS,
        failures_before: now - MAX_LOCKOUT_SECS,
        attempt_windows_before: now - ATTEMPT_WINDOW_SECS,
    }
}

/// The outcome of answering `session` at `now` (None: no such session). Only `Taken` marks it
/// used; an expired or used one is refused as it is.
pub fn take(session: Option<AuthSessionRecord>, now: i64) -> SessionTake {
    match session {
        None => SessionTake::Unknown,
        Some(s) if s.used_at.is_some() => SessionTake::AlreadyUsed,
        Some(s) if s.expires_at <= now => SessionTake::Expired,
        Some(s) => SessionTake::Taken(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(used_at: Option<i64>) -> AuthSessionRecord {
        AuthSessionRecord {
            digest: vec![1],
            pool_id: "p".into(),
            client_id: "c".into(),
            name_key: "ann".into(),
            challenge: "PASSWORD_VERIFIER".into(),
            state: "{}".into(),
            created_at: 0,
            expires_at: 180,
            used_at,
        }
    }

    #[test]
    fn the_sweep_keeps_what_a_rule_still_reads() {
        let c = sweep_cutoffs(1_000_000);
        assert_eq!(c.sessions_expired_before, 1_000_000 - 86_400);
        assert_eq!(c.refresh_expired_before, 1_000_000 - 86_400);
        // A failure count older than the reset time neither locks nor counts on.
        let stale = crate::rules::lockout::SignInFailures {
            failures: 20,
            last_failure_at: c.failures_before,
        };
        assert!(!crate::rules::lockout::is_locked(Some(&stale), 1_000_000));
        assert_eq!(
            crate::rules::lockout::after_failure(Some(stale), 1_000_000).failures,
            1
        );
    }

    #[test]
    fn a_session_is_answered_once_and_before_it_expires() {
        assert_eq!(take(None, 0), SessionTake::Unknown);
        assert!(matches!(
            take(Some(session(None)), 179),
            SessionTake::Taken(_)
        ));
        assert_eq!(take(Some(session(None)), 180), SessionTake::Expired);
        assert_eq!(take(Some(session(Some(5))), 10), SessionTake::AlreadyUsed);
    }
}
