//! Checking a code a user typed (ConfirmForgotPassword, VerifyUserAttribute): the hourly
//! attempt limit first, then the user, then the live code: present, unexpired, and equal in
//! constant time.

use crate::records::{AttemptLimit, CodeRefusal};
use crate::rules::confirmation::StoredCode;
use crate::rules::limits;

pub fn check(
    limit: &AttemptLimit,
    attempts: i64,
    user_present: bool,
    code: Option<&StoredCode>,
    candidate_digest: &[u8],
    now: i64,
) -> Result<(), CodeRefusal> {
    if !limits::allows(limit, attempts) {
        return Err(CodeRefusal::LimitExceeded);
    }
    if !user_present {
        return Err(CodeRefusal::UserGone);
    }
    let Some(code) = code else {
        return Err(CodeRefusal::NoCode);
    };
    if code.expires_at <= now {
        return Err(CodeRefusal::Expired);
    }
    if !cognate_crypto::codes::digests_equal(&code.digest, candidate_digest) {
        return Err(CodeRefusal::Mismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_then_user_then_code_presence_expiry_and_equality() {
        let limit = AttemptLimit {
            action: "confirm_forgot_password".into(),
            max: 5,
            window_secs: 3600,
        };
        let code = StoredCode {
            digest: b"right".to_vec(),
            attribute: None,
            expires_at: 100,
        };
        let ok = |attempts, user, code: Option<&StoredCode>, digest: &[u8], now| {
            check(&limit, attempts, user, code, digest, now)
        };
        assert_eq!(ok(1, true, Some(&code), b"right", 99), Ok(()));
        assert_eq!(
            ok(6, true, Some(&code), b"right", 99),
            Err(CodeRefusal::LimitExceeded)
        );
        assert_eq!(
            ok(1, false, Some(&code), b"right", 99),
            Err(CodeRefusal::UserGone)
        );
        assert_eq!(ok(1, true, None, b"right", 99), Err(CodeRefusal::NoCode));
        assert_eq!(
            ok(1, true, Some(&code), b"right", 100),
            Err(CodeRefusal::Expired)
        );
        assert_eq!(
            ok(1, true, Some(&code), b"wrong", 99),
            Err(CodeRefusal::Mismatch)
        );
    }
}
