//! Confirming a sign-up, with a code (ConfirmSignUp) or by an administrator
//! (AdminConfirmSignUp): the order of the checks, the constant-time code comparison, and
//! what a confirmation changes.

use std::collections::BTreeMap;

use crate::records::{
    AliasKind, AttemptOutcome, ConfirmAttempt, ConfirmOutcome, Confirmation, UserStatus,
};
use crate::rules::limits;

/// A user's live code as stored (digest only).
#[derive(Clone, Debug)]
pub struct StoredCode {
    pub digest: Vec<u8>,
    /// The attribute the code was sent to (`email` / `phone_number`).
    pub attribute: Option<String>,
    pub expires_at: i64,
}

/// A user as a confirmation sees it.
#[derive(Clone, Debug)]
pub struct UserState {
    pub status: UserStatus,
    pub attributes: BTreeMap<String, String>,
}

/// An alias a confirmation would claim, and who holds it now (by username key).
#[derive(Clone, Debug)]
pub struct AliasClaim {
    pub kind: AliasKind,
    pub value_key: String,
    pub holder: Option<String>,
}

/// What ConfirmSignUp's transaction loaded: the attempt counter after this attempt's bump,
/// the user, the live code, and the alias the code's attribute would claim.
#[derive(Clone, Debug)]
pub struct ConfirmSnapshot {
    pub attempts: i64,
    pub user: Option<UserState>,
    pub code: Option<StoredCode>,
    pub alias: Option<AliasClaim>,
}

/// What to write.
#[derive(Debug)]
pub enum Decision<Refusal> {
    /// Nothing changes but the counter (and, with `record_failure`, the failed attempt is kept
    /// in the user's history).
    Refuse {
        outcome: Refusal,
        record_failure: bool,
    },
    /// The code is consumed, the alias claimed, the attribute verified, the user CONFIRMED.
    Confirm {
        attributes: BTreeMap<String, String>,
        claim: Option<(AliasKind, String)>,
    },
}

/// The alias a code sent to `attribute` would claim for this user, if that attribute is an
/// alias or sign-in attribute of the pool.
pub fn alias_for_attribute<'a>(
    attempt: &'a ConfirmAttempt,
    attribute: Option<&str>,
) -> Option<(AliasKind, &'a str)> {
    let attribute = attribute?;
    attempt
        .alias_by_attribute
        .iter()
        .find(|(name, _, _)| name == attribute)
        .map(|(_, kind, key)| (*kind, key.as_str()))
}

/// ConfirmSignUp, in AWS's order: the hourly limit, the user, its status, the code (present,
/// unexpired, equal in constant time), then the alias the code's attribute claims.
pub fn decide_confirmation(
    attempt: &ConfirmAttempt,
    snapshot: ConfirmSnapshot,
) -> Decision<AttemptOutcome> {
    let refuse = |outcome, record_failure| Decision::Refuse {
        outcome,
        record_failure,
    };
    if !limits::allows(&attempt.limit, snapshot.attempts) {
        return refuse(AttemptOutcome::LimitExceeded, false);
    }
    let Some(user) = snapshot.user else {
        return refuse(AttemptOutcome::UserGone, false);
    };
    if user.status != UserStatus::Unconfirmed {
        return refuse(AttemptOutcome::WrongStatus(user.status), false);
    }
    let Some(code) = snapshot.code else {
        return refuse(AttemptOutcome::NoCode, false);
    };
    if code.expires_at <= attempt.now {
        return refuse(AttemptOutcome::Expired, false);
    }
    if !cognate_crypto::codes::digests_equal(&code.digest, &attempt.candidate_digest) {
        return refuse(AttemptOutcome::Mismatch, true);
    }
    if let Some(alias) = &snapshot.alias {
        let held_by_another = alias
            .holder
            .as_deref()
            .is_some_and(|h| h != attempt.username_key);
        if held_by_another && !attempt.force_alias {
            return refuse(AttemptOutcome::AliasTaken(alias.kind), false);
        }
    }
    let mut attributes = user.attributes;
    if let Some(attribute) = &code.attribute {
        attributes.insert(format!("{attribute}_verified"), "true".to_string());
    }
    Decision::Confirm {
        attributes,
        claim: snapshot.alias.map(|a| (a.kind, a.value_key)),
    }
}

/// AdminConfirmSignUp: only an UNCONFIRMED user is confirmed; an alias another user holds is
/// taken only when forced.
pub fn decide_admin_confirmation(
    confirmation: &Confirmation,
    user: Option<UserState>,
    alias_holder: Option<&str>,
) -> Decision<ConfirmOutcome> {
    let refuse = |outcome| Decision::Refuse {
        outcome,
        record_failure: false,
    };
    let Some(user) = user else {
        return refuse(ConfirmOutcome::UserGone);
    };
    if user.status != UserStatus::Unconfirmed {
        return refuse(ConfirmOutcome::WrongStatus(user.status));
    }
    if let Some((kind, _)) = &confirmation.alias {
        if !confirmation.force_alias && alias_holder.is_some_and(|h| h != confirmation.username_key)
        {
            return refuse(ConfirmOutcome::AliasTaken(*kind));
        }
    }
    let mut attributes = user.attributes;
    if let Some(attribute) = &confirmation.verify_attribute {
        attributes.insert(format!("{attribute}_verified"), "true".to_string());
    }
    Decision::Confirm {
        attributes,
        claim: confirmation.alias.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{AttemptLimit, EventRecord};

    fn attempt(digest: &[u8]) -> ConfirmAttempt {
        let event = EventRecord {
            event_id: "e".into(),
            event_type: "SignUp".into(),
            outcome: "Pass".into(),
            ip_address: None,
            device_name: None,
            encoded_data: None,
            analytics_endpoint_id: None,
            created_at: 0,
        };
        ConfirmAttempt {
            pool_id: "p".into(),
            username_key: "ann".into(),
            purpose: "sign_up".into(),
            limit: AttemptLimit {
                action: "confirm_sign_up".into(),
                max: 15,
                window_secs: 3600,
            },
            candidate_digest: digest.to_vec(),
            alias_by_attribute: vec![("email".into(), AliasKind::Email, "a@x.com".into())],
            force_alias: false,
            now: 100,
            pass_event: Some(event.clone()),
            fail_event: Some(event),
        }
    }

    fn snapshot() -> ConfirmSnapshot {
        ConfirmSnapshot {
            attempts: 1,
            user: Some(UserState {
                status: UserStatus::Unconfirmed,
                attributes: BTreeMap::from([("email".to_string(), "a@x.com".to_string())]),
            }),
            code: Some(StoredCode {
                digest: b"right".to_vec(),
                attribute: Some("email".into()),
                expires_at: 200,
            }),
            alias: Some(AliasClaim {
                kind: AliasKind::Email,
                value_key: "a@x.com".into(),
                holder: None,
            }),
        }
    }

    fn refusal(d: Decision<AttemptOutcome>) -> (AttemptOutcome, bool) {
        match d {
            Decision::Refuse {
                outcome,
                record_failure,
            } => (outcome, record_failure),
            Decision::Confirm { .. } => panic!("confirmed"),
        }
    }

    #[test]
    fn the_right_code_confirms_verifies_and_claims() {
        match decide_confirmation(&attempt(b"right"), snapshot()) {
            Decision::Confirm { attributes, claim } => {
                assert_eq!(attributes["email_verified"], "true");
                assert_eq!(claim, Some((AliasKind::Email, "a@x.com".to_string())));
            }
            Decision::Refuse { outcome, .. } => panic!("refused: {outcome:?}"),
        }
    }

    #[test]
    fn checks_come_in_aws_order() {
        let over = ConfirmSnapshot {
            attempts: 16,
            ..snapshot()
        };
        assert!(matches!(
            refusal(decide_confirmation(&attempt(b"right"), over)),
            (AttemptOutcome::LimitExceeded, false)
        ));
        let gone = ConfirmSnapshot {
            user: None,
            ..snapshot()
        };
        assert!(matches!(
            refusal(decide_confirmation(&attempt(b"wrong"), gone)).0,
            AttemptOutcome::UserGone
        ));
        let mut confirmed = snapshot();
        if let Some(u) = confirmed.user.as_mut() {
            u.status = UserStatus::Confirmed;
        }
        assert!(matches!(
            refusal(decide_confirmation(&attempt(b"wrong"), confirmed)).0,
            AttemptOutcome::WrongStatus(UserStatus::Confirmed)
        ));
        let no_code = ConfirmSnapshot {
            code: None,
            ..snapshot()
        };
        assert!(matches!(
            refusal(decide_confirmation(&attempt(b"right"), no_code)).0,
            AttemptOutcome::NoCode
        ));
        let mut late = attempt(b"right");
        late.now = 200;
        assert!(matches!(
            refusal(decide_confirmation(&late, snapshot())).0,
            AttemptOutcome::Expired
        ));
        assert!(matches!(
            refusal(decide_confirmation(&attempt(b"wrong"), snapshot())),
            (AttemptOutcome::Mismatch, true)
        ));
    }

    #[test]
    fn an_alias_held_by_another_user_needs_force() {
        let mut held = snapshot();
        if let Some(a) = held.alias.as_mut() {
            a.holder = Some("bob".into());
        }
        assert!(matches!(
            refusal(decide_confirmation(&attempt(b"right"), held.clone())).0,
            AttemptOutcome::AliasTaken(AliasKind::Email)
        ));
        let mut forced = attempt(b"right");
        forced.force_alias = true;
        assert!(matches!(
            decide_confirmation(&forced, held),
            Decision::Confirm { .. }
        ));
    }

    #[test]
    fn admin_confirmation_needs_an_unconfirmed_user() {
        let c = Confirmation {
            pool_id: "p".into(),
            username_key: "ann".into(),
            purpose: "sign_up".into(),
            verify_attribute: None,
            alias: None,
            force_alias: false,
            now: 0,
            event: None,
        };
        let user = |status| {
            Some(UserState {
                status,
                attributes: BTreeMap::new(),
            })
        };
        assert!(matches!(
            decide_admin_confirmation(&c, user(UserStatus::Unconfirmed), None),
            Decision::Confirm { .. }
        ));
        assert!(matches!(
            decide_admin_confirmation(&c, user(UserStatus::Confirmed), None),
            Decision::Refuse {
                outcome: ConfirmOutcome::WrongStatus(UserStatus::Confirmed),
                ..
            }
        ));
        assert!(matches!(
            decide_admin_confirmation(&c, None, None),
            Decision::Refuse {
                outcome: ConfirmOutcome::UserGone,
                ..
            }
        ));
    }
}
