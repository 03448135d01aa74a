//! The lockout after failed password checks (spec b.8, i.5): five failures in a row lock the
//! user out for 1 s, each further failure doubles it up to 15 minutes (2^(n-5) s after the
//! n-th failure); checks made while locked out fail without counting; 15 quiet minutes, or a
//! correct password, start the count afresh. The database keeps the count, so it holds
//! across instances.

/// Failures in a row before the first lockout.
pub const FREE_FAILURES: i64 = 5;
/// The longest lockout, and the quiet time that resets the count (seconds).
pub const MAX_LOCKOUT_SECS: i64 = 900;

/// The failed checks in a row of one user (or name), as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInFailures {
    pub failures: i64,
    pub last_failure_at: i64,
}

/// Until when these failures lock the user out (None: not locked by them).
pub fn locked_until(state: &SignInFailures) -> Option<i64> {
    if state.failures < FREE_FAILURES {
        return None;
    }
    let exponent = (state.failures - FREE_FAILURES).min(10) as u32;
    Some(state.last_failure_at + (1i64 << exponent).min(MAX_LOCKOUT_SECS))
}

pub fn is_locked(state: Option<&SignInFailures>, now: i64) -> bool {
    state
        .and_then(locked_until)
        .is_some_and(|until| now < until)
}

/// The count after one more failure at `now`.
pub fn after_failure(state: Option<SignInFailures>, now: i64) -> SignInFailures {
    match state {
        Some(s) if now - s.last_failure_at < MAX_LOCKOUT_SECS => SignInFailures {
            failures: s.failures + 1,
            last_failure_at: now,
        },
        _ => SignInFailures {
            failures: 1,
            last_failure_at: now,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_for_a_second_then_doubling_up_to_fifteen_minutes() {
        let mut state = None;
        for n in 1..=4 {
            state = Some(after_failure(state, 100));
            assert!(!is_locked(state.as_ref(), 100), "after {n}");
        }
        state = Some(after_failure(state, 100));
        assert!(is_locked(state.as_ref(), 100));
        assert!(!is_locked(state.as_ref(), 101), "1 s after the fifth");
        state = Some(after_failure(state, 101));
        assert_eq!(locked_until(&state.unwrap()), Some(103));
        let long = SignInFailures {
            failures: 40,
            last_failure_at: 0,
        };
        assert_eq!(locked_until(&long), Some(MAX_LOCKOUT_SECS));
    }

    #[test]
    fn fifteen_quiet_minutes_start_the_count_afresh() {
        let locked = SignInFailures {
            failures: 9,
            last_failure_at: 0,
        };
        assert_eq!(
            after_failure(Some(locked), MAX_LOCKOUT_SECS),
            SignInFailures {
                failures: 1,
                last_failure_at: MAX_LOCKOUT_SECS
            }
        );
        assert_eq!(after_failure(Some(locked), 10).failures, 10);
    }
}
