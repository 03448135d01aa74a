//! Changing a user's attributes (spec v.5, v.6): UpdateUserAttributes and
//! AdminUpdateUserAttributes, DeleteUserAttributes and AdminDeleteUserAttributes,
//! GetUserAttributeVerificationCode and VerifyUserAttribute. A change is planned here from
//! the user as read (`plan_change`, a plain function) and applied by the store to the locked
//! row in one transaction with its alias claims, codes and outbox messages.

use std::collections::BTreeMap;

use super::hooks::{Metadata, TriggerCall};
use super::messaging::{CodeDelivery, CodeMessage, CodeTarget};
use super::signup::{alias_key, trigger_attributes};
use super::tokens::TokenUser;
use super::{attributes, Caller, Service};
use crate::error::{DomainError, DomainResult, Invalid, SchemaProblem};
use crate::records::{
    AliasKind, AttemptLimit, AttributeUpdate, AttributeVerification, CodeIssue, CodeRefusal,
    UpdateOutcome, UserRecord, VerifyOutcome,
};
use crate::rules::attributes::value_to_verify;
use crate::settings::{ClientSettings, PoolSettings};

/// Attribute verification codes are valid for 24 hours (spec h).
const VERIFY_CODE_TTL_SECS: i64 = 24 * 3600;
const HOUR: i64 = crate::rules::limits::ATTEMPT_WINDOW_SECS;
/// GetUserAttributeVerificationCode calls per user and hour (spec h).
const VERIFICATION_CODES_PER_HOUR: i64 = 5;
/// VerifyUserAttribute calls per user and hour (spec h).
const VERIFY_ATTEMPTS_PER_HOUR: i64 = 15;
/// The attributes that have verification codes.
const VERIFIABLE: [&str; 2] = ["email", "phone_number"];

fn verify_purpose(attribute: &str) -> String {
    format!("verify:{attribute}")
}

fn verifiable(attribute: &str) -> DomainResult<&'static str> {
    VERIFIABLE
        .into_iter()
        .find(|a| *a == attribute)
        .ok_or_else(|| {
            DomainError::Invalid(Invalid::AttributeNotVerifiable {
                name: attribute.to_string(),
            })
        })
}

fn alias_kind(attribute: &'static str) -> AliasKind {
    if attribute == "email" {
        AliasKind::Email
    } else {
        AliasKind::PhoneNumber
    }
}

/// Who changes the attributes: an administrator may also set `email_verified` and
/// `phone_number_verified` (and so verify a value without a code).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Editor {
    User,
    Admin,
}

/// A planned change: the store's update, and where verification codes go.
#[derive(Debug)]
struct Plan {
    update: AttributeUpdate,
    codes: Vec<CodeTarget>,
}

/// What `changes` (an empty value deletes) does to `user` in `pool` (spec v.5, v.6).
fn plan_change(
    pool: &PoolSettings,
    user: &UserRecord,
    editor: Editor,
    changes: &BTreeMap<String, String>,
    now: i64,
) -> DomainResult<Plan> {
    let values: BTreeMap<String, String> = changes
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    attributes::check_values(pool, &values)?;
    let mut flags = BTreeMap::new();
    let mut update = AttributeUpdate {
        pool_id: pool.id.clone(),
        username_key: user.username_key.clone(),
        now,
        ..Default::default()
    };
    for (name, value) in changes {
        if let Some(attribute) = name
            .strip_suffix("_verified")
            .filter(|a| VERIFIABLE.contains(a))
        {
            if editor == Editor::User {
                return Err(DomainError::UnauthorizedAttribute);
            }
            if value.is_empty() {
                update.remove.push(name.clone());
            } else {
                flags.insert(attribute.to_string(), value == "true");
            }
            continue;
        }
        let Some(def) = pool.schema_attribute(name) else {
            return Err(DomainError::Invalid(Invalid::UnknownAttribute {
                name: name.clone(),
            }));
        };
        if !def.mutable {
            return Err(DomainError::Invalid(Invalid::AttributeNotUpdatable {
                name: name.clone(),
            }));
        }
        if !value.is_empty() {
            if !VERIFIABLE.contains(&name.as_str()) {
                update.set.insert(name.clone(), value.clone());
            }
            continue;
        }
        if def.required {
            return Err(DomainError::Invalid(Invalid::Schema {
                problems: vec![SchemaProblem::Required { name: name.clone() }],
            }));
        }
        update.remove.push(name.clone());
    }
    let mut codes = Vec::new();
    for attribute in VERIFIABLE {
        let kind = alias_kind(attribute);
        let sign_in_attribute = pool.is_username_attribute(kind);
        let claims = sign_in_attribute || pool.is_alias(kind);
        let verified_flag = format!("{attribute}_verified");
        let flag = flags.get(attribute).copied();
        let current = user.attributes.get(attribute).filter(|v| !v.is_empty());
        let pending = user.pending_attributes.get(attribute);
        let deleted = changes.get(attribute).is_some_and(|v| v.is_empty());
        if deleted {
            // A sign-in attribute is how the user signs in: it can change, not go.
            if sign_in_attribute && current.is_some() {
                return Err(DomainError::Invalid(Invalid::AttributeNotUpdatable {
                    name: attribute.to_string(),
                }));
            }
            update.remove.push(verified_flag);
            update.pending_remove.push(attribute.to_string());
            update.drop_codes.push(verify_purpose(attribute));
            if claims {
                update.release.push(kind);
            }
            continue;
        }
        let new = values.get(attribute).filter(|v| Some(*v) != current);
        match (new, flag) {
            // An administrator's value that is verified at once: no code.
            (Some(new), Some(true)) => {
                update.set.insert(attribute.to_string(), new.clone());
                update.set.insert(verified_flag, "true".into());
                update.pending_remove.push(attribute.to_string());
                update.drop_codes.push(verify_purpose(attribute));
                if claims {
                    update.claim.push((kind, alias_key(pool, kind, new)));
                }
            }
            // The old value stays in force until the new one is verified.
            (Some(new), _) if pool.verifies_before_update(attribute) && current.is_some() => {
                update
                    .pending_set
                    .insert(attribute.to_string(), new.clone());
                if claims {
                    update.require_free.push((kind, alias_key(pool, kind, new)));
                }
                codes.push(CodeTarget::for_attribute(attribute, new));
            }
            (Some(new), flag) => {
                update.set.insert(attribute.to_string(), new.clone());
                update.set.insert(verified_flag, "false".into());
                update.pending_remove.push(attribute.to_string());
                update.drop_codes.push(verify_purpose(attribute));
                if sign_in_attribute {
                    update.claim.push((kind, alias_key(pool, kind, new)));
                } else if claims {
                    // An unverified value is no alias (spec v.5), but it may not be another
                    // user's.
                    update.release.push(kind);
                    update.require_free.push((kind, alias_key(pool, kind, new)));
                }
                if pool.auto_verifies(attribute) && flag.is_none() {
                    codes.push(CodeTarget::for_attribute(attribute, new));
                }
            }
            (None, Some(true)) => {
                // Verifies the pending value if there is one, else the current value.
                let Some(value) = pending.or(current) else {
                    continue;
                };
                update.set.insert(attribute.to_string(), value.clone());
                update.set.insert(verified_flag, "true".into());
                update.pending_remove.push(attribute.to_string());
                update.drop_codes.push(verify_purpose(attribute));
                if claims {
                    update.claim.push((kind, alias_key(pool, kind, value)));
                }
            }
            (None, Some(false)) => {
                update.set.insert(verified_flag, "false".into());
                if claims && !sign_in_attribute {
                    update.release.push(kind);
                }
            }
            (None, None) => {}
        }
    }
    Ok(Plan { update, codes })
}

impl Service {
    /// UpdateUserAttributes: the signed-in user changes their attributes, within the client's
    /// write permissions; codes go to new email and phone values that need verifying.
    pub async fn update_user_attributes(
        &self,
        caller: &Caller,
        access_token: &str,
        changes: BTreeMap<String, String>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<Vec<CodeDelivery>> {
        let TokenUser { access, user } = self.token_user(access_token).await?;
        attributes::check_client_writable(&access.client, &changes)?;
        self.change_attributes(
            caller,
            Some(&access.client),
            &access.pool,
            &user,
            Editor::User,
            changes,
            client_metadata,
        )
        .await
    }

    pub async fn admin_update_user_attributes(
        &self,
        caller: &Caller,
        pool_id: &str,
        username: &str,
        changes: BTreeMap<String, String>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<()> {
        let (pool, user) = self.admin_user(pool_id, username).await?;
        self.change_attributes(
            caller,
            None,
            &pool,
            &user,
            Editor::Admin,
            changes,
            client_metadata,
        )
        .await
        .map(|_| ())
        .or_else(super::recovery::delivered_later)
    }

    /// DeleteUserAttributes: the signed-in user removes attributes they may write.
    pub async fn delete_user_attributes(
        &self,
        caller: &Caller,
        access_token: &str,
        names: Vec<String>,
    ) -> DomainResult<()> {
        let TokenUser { access, user } = self.token_user(access_token).await?;
        let changes = deletions(names);
        attributes::check_client_writable(&access.client, &changes)?;
        self.change_attributes(
            caller,
            Some(&access.client),
            &access.pool,
            &user,
            Editor::User,
            changes,
            None,
        )
        .await
        .map(|_| ())
    }

    pub async fn admin_delete_user_attributes(
        &self,
        caller: &Caller,
        pool_id: &str,
        username: &str,
        names: Vec<String>,
    ) -> DomainResult<()> {
        self.admin_update_user_attributes(caller, pool_id, username, deletions(names), None)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn change_attributes(
        &self,
        caller: &Caller,
        client: Option<&ClientSettings>,
        pool: &PoolSettings,
        user: &UserRecord,
        editor: Editor,
        changes: BTreeMap<String, String>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<Vec<CodeDelivery>> {
        let now = self.clock.now();
        let Plan { mut update, codes } = plan_change(pool, user, editor, &changes, now)?;
        let (after, _) = crate::rules::attributes::apply(
            user.attributes.clone(),
            user.pending_attributes.clone(),
            &update,
        );
        let attrs = trigger_attributes(user, after, user.status);
        let client_id = client.map(|c| c.client_id.as_str());
        let mut issued = Vec::new();
        for target in &codes {
            let (code, record) = self.new_code_for(
                &verify_purpose(target.attribute),
                VERIFY_CODE_TTL_SECS,
                &pool.id,
                &user.username_key,
                target,
                now,
            );
            update.codes.push(record);
            issued.push(code);
        }
        let messages: Vec<CodeMessage<'_>> = codes
            .iter()
            .zip(&issued)
            .map(|(target, code)| CodeMessage {
                call: TriggerCall {
                    caller,
                    pool,
                    client_id,
                    user_name: &user.username,
                },
                trigger_source: "CustomMessage_UpdateUserAttribute",
                attrs: &attrs,
                target,
                code,
                client_metadata,
                invitation: None,
            })
            .collect();
        let mut in_advance = Vec::new();
        for message in &messages {
            let record = self.outbox_record_in_advance(message).await?;
            in_advance.push(record.is_some());
            update.outbox.extend(record);
        }
        match self.store.update_attributes(update).await? {
            UpdateOutcome::Updated => {}
            UpdateOutcome::UserGone => return Err(DomainError::UserNotFound),
            UpdateOutcome::AliasTaken(kind) => return Err(DomainError::AliasExists { kind }),
        }
        let mut deliveries = Vec::new();
        for (message, recorded) in messages.into_iter().zip(in_advance) {
            deliveries.push(self.send_code_unless_recorded(message, recorded).await?);
        }
        Ok(deliveries)
    }

    /// GetUserAttributeVerificationCode: a code for the attribute's pending value if it has
    /// one, else for its current value.
    pub async fn get_user_attribute_verification_code(
        &self,
        caller: &Caller,
        access_token: &str,
        attribute: &str,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<CodeDelivery> {
        let TokenUser { access, user } = self.token_user(access_token).await?;
        let attribute = verifiable(attribute)?;
        let pool = &access.pool;
        let value = value_to_verify(&user.attributes, &user.pending_attributes, attribute)
            .ok_or_else(|| {
                DomainError::Invalid(Invalid::NothingToVerify {
                    name: attribute.to_string(),
                })
            })?;
        let target = CodeTarget::for_attribute(attribute, value);
        let now = self.clock.now();
        let (code, record) = self.new_code_for(
            &verify_purpose(attribute),
            VERIFY_CODE_TTL_SECS,
            &pool.id,
            &user.username_key,
            &target,
            now,
        );
        let attrs = trigger_attributes(&user, user.attributes.clone(), user.status);
        let message = CodeMessage {
            call: TriggerCall {
                caller,
                pool,
                client_id: Some(&access.client.client_id),
                user_name: &user.username,
            },
            trigger_source: "CustomMessage_VerifyUserAttribute",
            attrs: &attrs,
            target: &target,
            code: &code,
            client_metadata,
            invitation: None,
        };
        self.issue_and_send(
            message,
            CodeIssue {
                pool_id: pool.id.clone(),
                username_key: user.username_key.clone(),
                code: record,
                event: None,
                limit: Some(AttemptLimit {
                    action: "get_user_attribute_verification_code".to_string(),
                    max: VERIFICATION_CODES_PER_HOUR,
                    window_secs: HOUR,
                }),
                outbox: None,
                status: None,
            },
            DomainError::UserNotFound,
        )
        .await
    }

    /// VerifyUserAttribute: the code makes the value (the pending one, if any) verified and,
    /// for an alias or sign-in attribute, the user's to sign in with.
    pub async fn verify_user_attribute(
        &self,
        access_token: &str,
        attribute: &str,
        code: &str,
    ) -> DomainResult<()> {
        let TokenUser { access, user } = self.token_user(access_token).await?;
        let attribute = verifiable(attribute)?;
        let pool = &access.pool;
        let value = value_to_verify(&user.attributes, &user.pending_attributes, attribute)
            .ok_or(DomainError::ExpiredCode)?;
        let kind = alias_kind(attribute);
        let claim = (pool.is_alias(kind) || pool.is_username_attribute(kind))
            .then(|| (kind, alias_key(pool, kind, value)));
        let purpose = verify_purpose(attribute);
        let outcome = self
            .store
            .verify_attribute(AttributeVerification {
                pool_id: pool.id.clone(),
                username_key: user.username_key.clone(),
                attribute: attribute.to_string(),
                candidate_digest: self.code_digest_for(
                    &purpose,
                    &pool.id,
                    &user.username_key,
                    code,
                ),
                purpose,
                value: value.to_string(),
                claim,
                limit: AttemptLimit {
                    action: "verify_user_attribute".to_string(),
                    max: VERIFY_ATTEMPTS_PER_HOUR,
                    window_secs: HOUR,
                },
                now: self.clock.now(),
            })
            .await?;
        match outcome {
            VerifyOutcome::Verified => Ok(()),
            VerifyOutcome::AliasTaken(kind) => Err(DomainError::AliasExists { kind }),
            VerifyOutcome::Refused(refusal) => Err(match refusal {
                CodeRefusal::LimitExceeded => DomainError::AttemptLimit,
                CodeRefusal::UserGone => DomainError::UserNotFound,
                CodeRefusal::NoCode | CodeRefusal::Expired => DomainError::ExpiredCode,
                CodeRefusal::Mismatch => DomainError::CodeMismatch,
            }),
        }
    }
}

/// Attribute names to delete, as changes with empty values.
fn deletions(names: Vec<String>) -> BTreeMap<String, String> {
    names.into_iter().map(|n| (n, String::new())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::UserStatus;

    fn pool(extra: serde_json::Value) -> PoolSettings {
        let mut config = serde_json::json!({
            "Id": "us-east-1_p",
            "SchemaAttributes": crate::config::standard_schema(),
            "AutoVerifiedAttributes": ["email"],
            "AliasAttributes": ["email"],
        });
        if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
            c.extend(e.clone());
        }
        let typed: cognate_wire::UserPoolType = serde_json::from_value(config).unwrap();
        PoolSettings::from(&typed)
    }

    fn user() -> UserRecord {
        UserRecord {
            pool_id: "us-east-1_p".into(),
            username_key: "ann".into(),
            username: "ann".into(),
            sub: "s".into(),
            status: UserStatus::Confirmed,
            enabled: true,
            attributes: BTreeMap::from([
                ("email".into(), "ann@x.com".into()),
                ("email_verified".into(), "true".into()),
                ("name".into(), "Ann".into()),
            ]),
            password_hash: None,
            srp_salt: None,
            srp_verifier: None,
            created_at: 0,
            updated_at: 0,
            password_set_at: None,
            signed_out_at: None,
            pending_attributes: BTreeMap::new(),
        }
    }

    fn changes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_new_email_is_live_unverified_releases_the_alias_and_gets_a_code() {
        let plan = plan_change(
            &pool(serde_json::json!({})),
            &user(),
            Editor::User,
            &changes(&[("email", "new@x.com"), ("name", "")]),
            5,
        )
        .unwrap();
        assert_eq!(plan.update.set.get("email").unwrap(), "new@x.com");
        assert_eq!(plan.update.set.get("email_verified").unwrap(), "false");
        assert_eq!(plan.update.release, vec![AliasKind::Email]);
        assert!(plan.update.claim.is_empty());
        assert_eq!(plan.update.remove, vec!["name".to_string()]);
        assert_eq!(plan.codes.len(), 1);
        assert_eq!(plan.codes[0].to, "new@x.com");
    }

    #[test]
    fn with_verification_before_update_the_new_email_waits() {
        let pool = pool(serde_json::json!({
            "UserAttributeUpdateSettings": {"AttributesRequireVerificationBeforeUpdate": ["email"]}
        }));
        let plan = plan_change(
            &pool,
            &user(),
            Editor::User,
            &changes(&[("email", "new@x.com")]),
            5,
        )
        .unwrap();
        assert!(plan.update.set.is_empty());
        assert_eq!(plan.update.pending_set.get("email").unwrap(), "new@x.com");
        assert!(plan.update.release.is_empty());
        assert_eq!(plan.codes[0].to, "new@x.com");
    }

    #[test]
    fn an_administrator_verifies_a_value_at_once_and_users_may_not() {
        let admin = plan_change(
            &pool(serde_json::json!({})),
            &user(),
            Editor::Admin,
            &changes(&[("email", "New@x.com"), ("email_verified", "true")]),
            5,
        )
        .unwrap();
        assert_eq!(
            admin.update.claim,
            vec![(AliasKind::Email, "new@x.com".to_string())]
        );
        assert!(admin.codes.is_empty());
        let by_user = plan_change(
            &pool(serde_json::json!({})),
            &user(),
            Editor::User,
            &changes(&[("email_verified", "true")]),
            5,
        );
        assert_eq!(by_user.unwrap_err(), DomainError::UnauthorizedAttribute);
    }

    #[test]
    fn immutable_unknown_and_required_attributes_are_refused() {
        let pool = pool(serde_json::json!({}));
        let refused = |pairs: &[(&str, &str)]| {
            plan_change(&pool, &user(), Editor::Admin, &changes(pairs), 5).unwrap_err()
        };
        assert_eq!(
            refused(&[("sub", "x")]),
            DomainError::Invalid(Invalid::AttributeNotUpdatable { name: "sub".into() })
        );
        assert!(matches!(
            refused(&[("custom:nope", "x")]),
            DomainError::Invalid(Invalid::UnknownAttribute { .. })
        ));
        assert_eq!(
            refused(&[("email", "not-an-email")]),
            DomainError::Invalid(Invalid::EmailFormat)
        );
    }
}
