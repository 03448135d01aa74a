//! Hourly attempt limits. The database counts (an atomic upsert that restarts the count when
//! its window has passed); the rule is whether this attempt is still allowed.

use crate::records::AttemptLimit;

/// Every attempt limit counts in a window of one hour (AWS's hourly limits). The sweep
/// deletes counters whose window began longer ago than this: their next attempt would
/// restart them anyway.
pub const ATTEMPT_WINDOW_SECS: i64 = 3600;

/// Whether the attempt that brought the counter to `count` is within the limit.
pub fn allows(limit: &AttemptLimit, count: i64) -> bool {
    count <= limit.max
}

/// Where the window of a counter last started at or before `now - window` restarts.
pub fn window_expired_before(limit: &AttemptLimit, now: i64) -> i64 {
    now - limit.window_secs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attempt_that_reaches_the_maximum_is_allowed_the_next_is_not() {
        let limit = AttemptLimit {
            action: "confirm_sign_up".into(),
            max: 15,
            window_secs: 3600,
        };
        assert!(allows(&limit, 1));
        assert!(allows(&limit, 15));
        assert!(!allows(&limit, 16));
        assert_eq!(window_expired_before(&limit, 10_000), 6_400);
    }
}
