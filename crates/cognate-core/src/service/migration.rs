//! UserMigration at sign-in (`UserMigration_Authentication`, spec iv.5): a password sign-in
//! that names no user asks the pool's migration function; a user it knows is created with
//! the attributes it answered and the password that was typed, then signed in (or answers
//! `PasswordResetRequiredException` when the function leaves it `RESET_REQUIRED`).

use std::collections::BTreeMap;

use super::hooks::{Metadata, TriggerCall};
use super::signin::SignIn;
use super::Service;
use crate::error::{DomainError, DomainResult};
use crate::events;
use crate::ports::{Conflict, StoreError};
use crate::records::{AliasKind, NewUser, UserRecord, UserStatus};
use crate::triggers::{TriggerError, TriggerKind};

impl Service {
    /// The user the migration function knows by `name`, now created; `None` when the pool
    /// has no such function or the function knows no such user.
    pub(super) async fn migrate_user(
        &self,
        sign_in: &SignIn<'_>,
        name: &str,
        password: &str,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<Option<UserRecord>> {
        let call = TriggerCall {
            caller: sign_in.caller,
            pool: sign_in.pool,
            client_id: Some(&sign_in.client.client_id),
            user_name: name,
        };
        self.migrate_user_for(&call, Some(password), client_metadata)
            .await
    }

    /// The migration function's user, created: with the password typed at sign-in
    /// (`UserMigration_Authentication`), or without one for ForgotPassword
    /// (`UserMigration_ForgotPassword`: the user is RESET_REQUIRED and sets a password with
    /// the code it is sent).
    pub(super) async fn migrate_user_for(
        &self,
        call: &TriggerCall<'_>,
        password: Option<&str>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<Option<UserRecord>> {
        let pool = call.pool;
        let name = call.user_name;
        let Some(arn) = pool.lambda_arn(TriggerKind::UserMigration) else {
            return Ok(None);
        };
        let kind = TriggerKind::UserMigration;
        let source = if password.is_some() {
            "UserMigration_Authentication"
        } else {
            "UserMigration_ForgotPassword"
        };
        let event =
            events::user_migration(&self.event_context(call, source), password, client_metadata);
        let output = self.invoke(kind, arn, &event).await?;
        let Some(migrated) = events::parse_user_migration(&output)
            .map_err(|failure| DomainError::Trigger { kind, failure })?
        else {
            return Ok(None);
        };
        let mut attributes = migrated.attributes;
        // The server owns `sub`; a migrated user gets a new one, as on AWS.
        attributes.remove("sub");
        let sub = uuid::Uuid::new_v4().to_string();
        let username = if pool.has_username_attributes() {
            sub.clone()
        } else {
            name.to_string()
        };
        super::attributes::check_schema(pool, &attributes)?;
        // Sign-in attributes are always claimed; aliases only once verified.
        let mut claims = Vec::new();
        for kind in [
            AliasKind::Email,
            AliasKind::PhoneNumber,
            AliasKind::PreferredUsername,
        ] {
            let Some(value) = attributes.get(kind.as_str()) else {
                continue;
            };
            let verified = kind == AliasKind::PreferredUsername
                || attributes
                    .get(&format!("{}_verified", kind.as_str()))
                    .map(String::as_str)
                    == Some("true");
            if pool.is_username_attribute(kind) || (pool.is_alias(kind) && verified) {
                claims.push((kind, super::signup::alias_key(pool, kind, value)));
            }
        }
        let hashed = match password {
            Some(password) => Some(self.hash_password(&pool.id, &username, password).await?),
            None => None,
        };
        let now = self.clock.now();
        let user = UserRecord {
            pool_id: pool.id.clone(),
            username_key: pool.username_key(&username),
            username,
            sub,
            status: if migrated.confirmed && password.is_some() {
                UserStatus::Confirmed
            } else {
                UserStatus::ResetRequired
            },
            enabled: true,
            attributes,
            password_set_at: hashed.as_ref().map(|_| now),
            password_hash: hashed.as_ref().map(|(hash, _)| hash.clone()),
            srp_salt: hashed.as_ref().map(|(_, v)| v.salt_hex.clone()),
            srp_verifier: hashed.map(|(_, v)| v.verifier_hex),
            created_at: now,
            updated_at: now,
            signed_out_at: None,
            pending_attributes: BTreeMap::new(),
        };
        let (aliases, moved_aliases) = if migrated.force_alias_creation {
            (Vec::new(), claims)
        } else {
            (claims, Vec::new())
        };
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
            Ok(()) => Ok(Some(user)),
            // Another user holds a sign-in name the function gave (and it did not force the
            // alias): the migration is refused, as a failure of the function's answer.
            Err(StoreError::Conflict(conflict)) => Err(DomainError::Trigger {
                kind,
                failure: TriggerError::Function {
                    message: match conflict {
                        Conflict::Alias(kind) => {
                            format!("An account with the given {} already exists", kind.as_str())
                        }
                        Conflict::Username => "User already exists".to_string(),
                    },
                },
            }),
            Err(e) => Err(e.into()),
        }
    }
}
