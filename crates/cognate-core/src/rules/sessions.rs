//! Challenge sessions are single-use and expire (spec ii.1): whether one may be answered.

use crate::records::{AuthSessionRecord, SessionTake};

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
