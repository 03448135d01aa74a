//! AdminCreateUser (spec vi.1): a user made by an administrator, with a temporary password
//! (given, or generated to satisfy the pool's policy) that the first sign-in must replace
//! (`NEW_PASSWORD_REQUIRED`), and an invitation carrying it, from the pool's
//! `InviteMessageTemplate` or the `CustomMessage_AdminCreateUser` trigger.

use std::collections::BTreeMap;

use super::hooks::{Metadata, TriggerCall};
use super::messaging::{CodeMessage, CodeTarget};
use super::signup::{
    alias_key, check_username_against_aliases, trigger_attributes, username_attribute_kind,
};
use super::{attributes, Caller, Service};
use crate::delivery::Medium;
use crate::error::{DomainError, DomainResult, Invalid};
use crate::events::CODE_PARAMETER;
use crate::ports::{Conflict, StoreError};
use crate::records::{AliasKind, NewUser, UserRecord, UserStatus};
use crate::settings::PoolSettings;

/// `MessageAction`: send the invitation again (with a new temporary password), or send none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageAction {
    Resend,
    Suppress,
}

pub struct AdminCreateUserInput {
    pub pool_id: String,
    pub username: String,
    pub attributes: BTreeMap<String, String>,
    pub validation_data: Option<BTreeMap<String, String>>,
    pub temporary_password: Option<String>,
    pub force_alias: bool,
    pub message_action: Option<MessageAction>,
    /// `DesiredDeliveryMediums`; empty means AWS's default, SMS.
    pub mediums: Vec<Medium>,
    pub client_metadata: Option<Metadata>,
}

/// Attributes only the server sets, even for an administrator.
const SERVER_OWNED: &[&str] = &["sub", "identities"];

/// Where the invitation goes: each medium asked for. Asked for explicitly, a medium the user
/// has no address for is an error; the default (SMS) is simply skipped without a phone number.
fn invitation_targets(
    input: &AdminCreateUserInput,
    attrs: &BTreeMap<String, String>,
) -> DomainResult<Vec<CodeTarget>> {
    let explicit = !input.mediums.is_empty();
    let mediums = if explicit {
        input.mediums.clone()
    } else {
        vec![Medium::Sms]
    };
    let mut targets = Vec::new();
    for medium in mediums {
        let attribute = match medium {
            Medium::Email => "email",
            Medium::Sms => "phone_number",
        };
        match attrs.get(attribute).filter(|v| !v.is_empty()) {
            Some(to) => targets.push(CodeTarget {
                attribute,
                medium,
                to: to.clone(),
            }),
            None if explicit => {
                return Err(DomainError::Invalid(Invalid::NoDeliveryAddress { medium }))
            }
            None => {}
        }
    }
    Ok(targets)
}

/// A temporary password that meets `pool`'s policy.
fn generated_password(pool: &PoolSettings) -> String {
    let length = usize::try_from(pool.password_policy.minimum_length).unwrap_or(8);
    cognate_crypto::ids::temporary_password(length)
}

impl Service {
    pub async fn admin_create_user(
        &self,
        caller: &Caller,
        input: AdminCreateUserInput,
    ) -> DomainResult<UserRecord> {
        let pool = self.pool_settings(&input.pool_id).await?;
        if input.message_action == Some(MessageAction::Resend) {
            return self.resend_invitation(caller, &pool, &input).await;
        }
        let mut attrs = input.attributes.clone();
        if let Some(name) = attrs.keys().find(|k| SERVER_OWNED.contains(&k.as_str())) {
            return Err(DomainError::Invalid(Invalid::NonMutableAttribute {
                name: name.clone(),
            }));
        }
        let sub = uuid::Uuid::new_v4().to_string();
        let mut sign_in_claims = Vec::new();
        let username = if !pool.has_username_attributes() {
            check_username_against_aliases(&pool, &input.username)?;
            input.username.clone()
        } else {
            let kind = username_attribute_kind(&pool, &input.username)?;
            attrs.insert(kind.as_str().to_string(), input.username.clone());
            sign_in_claims.push((kind, alias_key(&pool, kind, &input.username)));
            sub.clone()
        };
        attributes::check_schema(&pool, &attrs)?;
        // Verified aliases are claimed now; with ForceAliasCreation they move from whoever
        // holds them.
        let verified_aliases: Vec<(AliasKind, String)> = [AliasKind::Email, AliasKind::PhoneNumber]
            .into_iter()
            .filter(|kind| pool.is_alias(*kind))
            .filter(|kind| {
                attrs
                    .get(&format!("{}_verified", kind.as_str()))
                    .is_some_and(|v| v == "true")
            })
            .filter_map(|kind| {
                let value = attrs.get(kind.as_str())?;
                Some((kind, alias_key(&pool, kind, value)))
            })
            .collect();
        let targets = if input.message_action == Some(MessageAction::Suppress) {
            Vec::new()
        } else {
            invitation_targets(&input, &attrs)?
        };
        let password = match &input.temporary_password {
            Some(given) => {
                attributes::check_password(&pool.password_policy, given)?;
                given.clone()
            }
            None => generated_password(&pool),
        };
        let call = TriggerCall {
            caller,
            pool: &pool,
            client_id: None,
            user_name: &username,
        };
        let mut trigger_attrs = attrs.clone();
        trigger_attrs.insert("sub".into(), sub.clone());
        trigger_attrs.insert(
            "cognito:user_status".into(),
            UserStatus::ForceChangePassword.as_str().into(),
        );
        // Its answer does not confirm or verify anything here (spec d.3); its error refuses.
        self.pre_sign_up_from(
            &call,
            "PreSignUp_AdminCreateUser",
            &trigger_attrs,
            input.validation_data.as_ref(),
            input.client_metadata.as_ref(),
        )
        .await?;

        let (password_hash, verifier) = self.hash_password(&pool.id, &username, &password).await?;
        let now = self.clock.now();
        let user = UserRecord {
            pool_id: pool.id.clone(),
            username_key: pool.username_key(&username),
            username: username.clone(),
            sub,
            status: UserStatus::ForceChangePassword,
            enabled: true,
            attributes: attrs,
            password_hash: Some(password_hash),
            srp_salt: Some(verifier.salt_hex),
            srp_verifier: Some(verifier.verifier_hex),
            created_at: now,
            updated_at: now,
            password_set_at: Some(now),
            signed_out_at: None,
            pending_attributes: BTreeMap::new(),
        };
        let (mut aliases, mut moved_aliases) = (sign_in_claims, Vec::new());
        if input.force_alias {
            moved_aliases = verified_aliases;
        } else {
            aliases.extend(verified_aliases);
        }
        let created = self
            .store
            .create_user(NewUser {
                user: user.clone(),
                aliases,
                moved_aliases,
                code: None,
                event: None,
                outbox: None,
            })
            .await;
        match created {
            Ok(()) => {}
            Err(StoreError::Conflict(Conflict::Username)) => {
                return Err(DomainError::UserAccountExists)
            }
            Err(e) => return Err(e.into()),
        }
        // The user exists from here on; a failed delivery is the caller's to retry (RESEND).
        self.send_invitations(&call, &user, &input.username, &targets, &password, &input)
            .await?;
        Ok(user)
    }

    /// `MessageAction=RESEND`: a new temporary password (with a fresh validity) for a user who
    /// has not yet signed in, and the invitation again.
    async fn resend_invitation(
        &self,
        caller: &Caller,
        pool: &PoolSettings,
        input: &AdminCreateUserInput,
    ) -> DomainResult<UserRecord> {
        let user = self
            .find_user(pool, &input.username)
            .await?
            .ok_or(DomainError::UserNotFound)?;
        if user.status != UserStatus::ForceChangePassword {
            return Err(DomainError::UnsupportedUserState);
        }
        let targets = invitation_targets(input, &user.attributes)?;
        let password = input
            .temporary_password
            .clone()
            .unwrap_or_else(|| generated_password(pool));
        self.store_password(
            pool,
            &user,
            &password,
            Some(UserStatus::ForceChangePassword),
            None,
        )
        .await?;
        let call = TriggerCall {
            caller,
            pool,
            client_id: None,
            user_name: &user.username,
        };
        self.send_invitations(&call, &user, &input.username, &targets, &password, input)
            .await?;
        let now = self.clock.now();
        Ok(UserRecord {
            updated_at: now,
            password_set_at: Some(now),
            ..user
        })
    }

    /// The invitation to each target. A template without the password placeholder sends
    /// nothing (spec vi.1: the user could not sign in with it).
    async fn send_invitations(
        &self,
        call: &TriggerCall<'_>,
        user: &UserRecord,
        shown_username: &str,
        targets: &[CodeTarget],
        password: &str,
        input: &AdminCreateUserInput,
    ) -> DomainResult<()> {
        let attrs = trigger_attributes(user, user.attributes.clone(), user.status);
        let template = &call.pool.invite_message_template;
        for target in targets {
            let custom_template = match target.medium {
                Medium::Email => template.email_message.as_deref(),
                Medium::Sms => template.sms_message.as_deref(),
            };
            if custom_template.is_some_and(|t| !t.contains(CODE_PARAMETER)) {
                continue;
            }
            let message = CodeMessage {
                call: TriggerCall {
                    caller: call.caller,
                    pool: call.pool,
                    client_id: call.client_id,
                    user_name: call.user_name,
                },
                trigger_source: "CustomMessage_AdminCreateUser",
                attrs: &attrs,
                target,
                code: password,
                client_metadata: input.client_metadata.as_ref(),
                invitation: Some(shown_username),
            };
            self.send_code_unless_recorded(message, false).await?;
        }
        Ok(())
    }
}
