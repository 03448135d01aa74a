//! The transactions of account recovery and attribute changes: ConfirmForgotPassword's reset,
//! AttributeUpdate and VerifyUserAttribute. Each loads (and on PostgreSQL locks) what its rule
//! needs, lets `cognate_core::rules` decide, and writes the decision.

use std::collections::BTreeMap;

use cognate_core::records::*;
use cognate_core::rules::confirmation::StoredCode;
use cognate_core::rules::{attributes, codes};

use crate::db::{params, Tx};
use crate::{
    alias_holder, attrs_from_json, attrs_to_json, bump_counter, delete_code, for_update,
    insert_code, insert_event, insert_message_in, Backend, Result,
};

/// A user's attributes and pending values, locked for the rest of the transaction.
type Profile = (BTreeMap<String, String>, BTreeMap<String, String>);

fn profile_for_update(
    tx: &mut dyn Tx,
    dialect: Backend,
    pool_id: &str,
    username_key: &str,
) -> Result<Option<Profile>> {
    let Some(row) = tx.fetch_optional(
        &format!(
            "SELECT attributes, pending_attributes FROM users WHERE pool_id = $1 AND username_key = $2{}",
            for_update(dialect)
        ),
        params![pool_id, username_key],
    )?
    else {
        return Ok(None);
    };
    Ok(Some((
        attrs_from_json(&row.get::<String>("attributes")?)?,
        pending_from_json(row.get::<Option<String>>("pending_attributes")?)?,
    )))
}

pub(crate) fn pending_from_json(text: Option<String>) -> Result<BTreeMap<String, String>> {
    match text {
        None => Ok(BTreeMap::new()),
        Some(text) => attrs_from_json(&text),
    }
}

pub(crate) fn pending_to_json(pending: &BTreeMap<String, String>) -> Option<String> {
    (!pending.is_empty()).then(|| attrs_to_json(pending))
}

fn write_profile(
    tx: &mut dyn Tx,
    pool_id: &str,
    username_key: &str,
    (attributes, pending): &Profile,
    now: i64,
) -> Result<()> {
    tx.execute(
        "UPDATE users SET attributes = $3, pending_attributes = $4, updated_at = $5 WHERE pool_id = $1 AND username_key = $2",
        params![
            pool_id,
            username_key,
            attrs_to_json(attributes),
            pending_to_json(pending),
            now
        ],
    )?;
    Ok(())
}

fn live_code(
    tx: &mut dyn Tx,
    pool_id: &str,
    username_key: &str,
    purpose: &str,
) -> Result<Option<StoredCode>> {
    tx.fetch_optional(
        "SELECT digest, attribute, expires_at FROM codes WHERE pool_id = $1 AND username_key = $2 AND purpose = $3",
        params![pool_id, username_key, purpose],
    )?
    .map(|row| -> Result<StoredCode> {
        Ok(StoredCode {
            digest: row.get("digest")?,
            attribute: row.get("attribute")?,
            expires_at: row.get("expires_at")?,
        })
    })
    .transpose()
}

/// Replaces a user's password (and status and attributes when given). With `history_keep`,
/// the replaced hash joins the user's password history, which keeps that many.
pub(crate) fn set_password_in(tx: &mut dyn Tx, c: &PasswordChange) -> Result<bool> {
    if c.history_keep > 0 {
        remember_password(tx, &c.pool_id, &c.username_key, c.history_keep, c.now)?;
    }
    let mut sql = "UPDATE users SET password_hash = $3, srp_salt = $4, srp_verifier = $5, updated_at = $6, password_set_at = $6"
        .to_string();
    let mut params = params![
        &c.pool_id,
        &c.username_key,
        &c.password_hash,
        &c.srp_salt,
        &c.srp_verifier,
        c.now
    ];
    if let Some(status) = c.status {
        params.push(crate::db::Param::from(status.as_str()));
        sql.push_str(&format!(", status = ${}", params.len()));
    }
    if let Some(attributes) = &c.attributes {
        params.push(crate::db::Param::from(attrs_to_json(attributes)));
        sql.push_str(&format!(", attributes = ${}", params.len()));
    }
    sql.push_str(" WHERE pool_id = $1 AND username_key = $2");
    Ok(tx.execute(&sql, params)? == 1)
}

/// Moves the user's current hash into the history and trims it to the `keep` newest.
fn remember_password(
    tx: &mut dyn Tx,
    pool_id: &str,
    username_key: &str,
    keep: i64,
    now: i64,
) -> Result<()> {
    tx.execute(
        "INSERT INTO password_history (pool_id, username_key, password_hash, seq, replaced_at) \
         SELECT u.pool_id, u.username_key, u.password_hash, \
           (SELECT COALESCE(MAX(h.seq), 0) + 1 FROM password_history h WHERE h.pool_id = $1 AND h.username_key = $2), $3 \
         FROM users u WHERE u.pool_id = $1 AND u.username_key = $2 AND u.password_hash IS NOT NULL \
         ON CONFLICT DO NOTHING",
        params![pool_id, username_key, now],
    )?;
    tx.execute(
        "DELETE FROM password_history WHERE pool_id = $1 AND username_key = $2 AND password_hash NOT IN \
         (SELECT password_hash FROM password_history WHERE pool_id = $1 AND username_key = $2 \
          ORDER BY seq DESC LIMIT $3)",
        params![pool_id, username_key, keep],
    )?;
    Ok(())
}

/// Global sign-out: every refresh token revoked, and access tokens issued before `now` refused.
pub(crate) fn sign_out_in(
    tx: &mut dyn Tx,
    pool_id: &str,
    username_key: &str,
    now: i64,
) -> Result<u64> {
    tx.execute(
        "UPDATE users SET signed_out_at = $3 WHERE pool_id = $1 AND username_key = $2",
        params![pool_id, username_key, now],
    )?;
    tx.execute(
        "UPDATE refresh_tokens SET revoked_at = $3 WHERE pool_id = $1 AND username_key = $2 AND revoked_at IS NULL",
        params![pool_id, username_key, now],
    )
}

pub(crate) fn reset_password_in(
    tx: &mut dyn Tx,
    dialect: Backend,
    r: &PasswordReset,
) -> Result<ResetOutcome> {
    let (pool_id, username_key) = (r.pool_id.as_str(), r.username_key.as_str());
    let attempts = bump_counter(tx, pool_id, username_key, &r.limit, r.now)?;
    let (mut present, mut code) = (false, None);
    // Past the limit nothing else is read: the counter bump is all this attempt writes.
    if cognate_core::rules::limits::allows(&r.limit, attempts) {
        present = profile_for_update(tx, dialect, pool_id, username_key)?.is_some();
        code = live_code(tx, pool_id, username_key, &r.purpose)?;
    }
    if let Err(refusal) = codes::check(
        &r.limit,
        attempts,
        present,
        code.as_ref(),
        &r.candidate_digest,
        r.now,
    ) {
        if let Some(ev) = r
            .fail_event
            .as_ref()
            .filter(|_| refusal == CodeRefusal::Mismatch)
        {
            insert_event(tx, pool_id, username_key, ev)?;
        }
        return Ok(ResetOutcome::Refused(refusal));
    }
    if r.reused {
        return Ok(ResetOutcome::PasswordReused);
    }
    delete_code(tx, pool_id, username_key, &r.purpose)?;
    set_password_in(
        tx,
        &PasswordChange {
            pool_id: r.pool_id.clone(),
            username_key: r.username_key.clone(),
            password_hash: r.password_hash.clone(),
            srp_salt: r.srp_salt.clone(),
            srp_verifier: r.srp_verifier.clone(),
            status: Some(UserStatus::Confirmed),
            attributes: None,
            history_keep: r.history_keep,
            now: r.now,
        },
    )?;
    sign_out_in(tx, pool_id, username_key, r.now)?;
    tx.execute(
        "DELETE FROM sign_in_failures WHERE pool_id = $1 AND name_key = $2",
        params![pool_id, username_key],
    )?;
    if let Some(ev) = &r.pass_event {
        insert_event(tx, pool_id, username_key, ev)?;
    }
    Ok(ResetOutcome::Reset)
}

/// Whether another user holds the alias.
fn held_by_another(
    tx: &mut dyn Tx,
    dialect: Backend,
    pool_id: &str,
    (kind, value_key): &(AliasKind, String),
    username_key: &str,
) -> Result<bool> {
    Ok(alias_holder(tx, dialect, pool_id, *kind, value_key)?
        .is_some_and(|holder| holder != username_key))
}

/// Gives this user's claim of `kind` up and takes `value_key` instead (the caller checked
/// that no other user holds it).
fn replace_claim(
    tx: &mut dyn Tx,
    pool_id: &str,
    username_key: &str,
    kind: AliasKind,
    value_key: Option<&str>,
) -> Result<()> {
    tx.execute(
        "DELETE FROM user_aliases WHERE pool_id = $1 AND username_key = $2 AND kind = $3",
        params![pool_id, username_key, kind.as_str()],
    )?;
    if let Some(value_key) = value_key {
        tx.execute(
            "INSERT INTO user_aliases (pool_id, kind, value_key, username_key) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (pool_id, kind, value_key) DO UPDATE SET username_key = excluded.username_key",
            params![pool_id, kind.as_str(), value_key, username_key],
        )?;
    }
    Ok(())
}

pub(crate) fn update_attributes_in(
    tx: &mut dyn Tx,
    dialect: Backend,
    u: &AttributeUpdate,
) -> Result<UpdateOutcome> {
    let (pool_id, username_key) = (u.pool_id.as_str(), u.username_key.as_str());
    let Some((current, pending)) = profile_for_update(tx, dialect, pool_id, username_key)? else {
        return Ok(UpdateOutcome::UserGone);
    };
    // Every claim is checked before anything is written: a refused update changes nothing.
    for claim in u.claim.iter().chain(&u.require_free) {
        if held_by_another(tx, dialect, pool_id, claim, username_key)? {
            return Ok(UpdateOutcome::AliasTaken(claim.0));
        }
    }
    for kind in &u.release {
        if !u.claim.iter().any(|(k, _)| k == kind) {
            replace_claim(tx, pool_id, username_key, *kind, None)?;
        }
    }
    for (kind, value_key) in &u.claim {
        replace_claim(tx, pool_id, username_key, *kind, Some(value_key))?;
    }
    let profile = attributes::apply(current, pending, u);
    write_profile(tx, pool_id, username_key, &profile, u.now)?;
    for purpose in &u.drop_codes {
        delete_code(tx, pool_id, username_key, purpose)?;
    }
    for code in &u.codes {
        insert_code(tx, pool_id, username_key, code)?;
    }
    for message in &u.outbox {
        insert_message_in(tx, message)?;
    }
    Ok(UpdateOutcome::Updated)
}

pub(crate) fn verify_attribute_in(
    tx: &mut dyn Tx,
    dialect: Backend,
    v: &AttributeVerification,
) -> Result<VerifyOutcome> {
    let (pool_id, username_key) = (v.pool_id.as_str(), v.username_key.as_str());
    let attempts = bump_counter(tx, pool_id, username_key, &v.limit, v.now)?;
    let (mut profile, mut code) = (None, None);
    if cognate_core::rules::limits::allows(&v.limit, attempts) {
        profile = profile_for_update(tx, dialect, pool_id, username_key)?;
        code = live_code(tx, pool_id, username_key, &v.purpose)?;
    }
    if let Err(refusal) = codes::check(
        &v.limit,
        attempts,
        profile.is_some(),
        code.as_ref(),
        &v.candidate_digest,
        v.now,
    ) {
        return Ok(VerifyOutcome::Refused(refusal));
    }
    let Some((current, pending)) = profile else {
        return Ok(VerifyOutcome::Refused(CodeRefusal::UserGone));
    };
    // The code was sent to a value that has since been replaced or removed.
    if attributes::value_to_verify(&current, &pending, &v.attribute) != Some(v.value.as_str()) {
        return Ok(VerifyOutcome::Refused(CodeRefusal::NoCode));
    }
    if let Some(claim) = &v.claim {
        if held_by_another(tx, dialect, pool_id, claim, username_key)? {
            return Ok(VerifyOutcome::AliasTaken(claim.0));
        }
        replace_claim(tx, pool_id, username_key, claim.0, Some(&claim.1))?;
    }
    let profile = attributes::verified(current, pending, &v.attribute, &v.value);
    write_profile(tx, pool_id, username_key, &profile, v.now)?;
    delete_code(tx, pool_id, username_key, &v.purpose)?;
    Ok(VerifyOutcome::Verified)
}
