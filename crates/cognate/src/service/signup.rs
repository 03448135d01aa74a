//! The sign-up confirmation flow: SignUp, ConfirmSignUp, ResendConfirmationCode and
//! AdminConfirmSignUp, exact to AWS (spec §b, §c).

use std::collections::BTreeMap;

use cognate_wire::{ApiError, RequestContext};
use serde_json::Value;

use super::attributes;
use super::hooks::{Metadata, TriggerCall};
use super::messaging::{choose_target, CodeMessage, CodeTarget};
use super::settings::{
    cached_client_context, parse_client_context, ClientContext, ClientSettings, PoolSettings,
};
use super::Service;
use crate::errors::{self, OrWire};
use crate::store::{
    AliasKind, AttemptLimit, AttemptOutcome, CodeIssue, CodeRecord, ConfirmAttempt, ConfirmOutcome,
    Confirmation, EventRecord, IssueOutcome, NewUser, UserLookup, UserRecord, UserStatus,
};

pub const SIGN_UP_PURPOSE: &str = "sign_up";
const CODE_TTL_SECS: i64 = 24 * 3600;
const HOUR: i64 = 3600;

/// What the caller told us about itself, kept in the user's event history.
pub struct Caller<'a> {
    pub ctx: &'a RequestContext,
    pub ip_address: Option<String>,
    pub encoded_data: Option<String>,
    pub analytics_endpoint_id: Option<String>,
    /// A click on an emailed confirmation link: the link itself is the proof, so no
    /// SecretHash is asked for (a browser cannot compute one).
    pub from_link: bool,
}

impl Caller<'_> {
    fn event(&self, event_type: &str, outcome: &str, now: i64) -> EventRecord {
        EventRecord {
            event_type: event_type.to_string(),
            outcome: outcome.to_string(),
            ip_address: self
                .ip_address
                .clone()
                .or_else(|| self.ctx.source_ip.clone()),
            encoded_data: self.encoded_data.clone(),
            analytics_endpoint_id: self.analytics_endpoint_id.clone(),
            created_at: now,
        }
    }
}

pub struct SignUpInput {
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub username: String,
    pub password: Option<String>,
    pub attributes: BTreeMap<String, String>,
    pub validation_data: Option<BTreeMap<String, String>>,
    pub client_metadata: Option<Metadata>,
}

pub struct SignUpOutput {
    pub confirmed: bool,
    pub sub: String,
    pub delivery: Option<Value>,
}

impl Service {
    /// The client named by a ClientId and its pool.
    pub(super) async fn client_context(&self, client_id: &str) -> Result<ClientContext, ApiError> {
        let revision = self
            .store
            .client_revision(client_id)
            .await
            .or_wire()?
            .ok_or_else(|| errors::client_not_found(client_id))?;
        if let Some(parsed) = cached_client_context(client_id, revision) {
            return Ok(parsed);
        }
        let (client, pool, revision) = self
            .store
            .get_client_with_pool(client_id)
            .await
            .or_wire()?
            .ok_or_else(|| errors::client_not_found(client_id))?;
        parse_client_context(client_id, revision, &client.config, &pool.config)
            .map_err(|e| errors::internal("stored client or pool", e))
    }

    pub(super) async fn pool_settings(&self, pool_id: &str) -> Result<PoolSettings, ApiError> {
        let record = self
            .store
            .get_pool(pool_id)
            .await
            .or_wire()?
            .ok_or_else(|| errors::pool_not_found(pool_id))?;
        PoolSettings::parse(&record.config).map_err(|e| errors::internal("stored pool", e))
    }

    /// SecretHash check (§c): required for clients with a secret; accepted when computed over
    /// any of the given usernames (the one supplied, or the internal one).
    pub(super) fn check_secret_hash(
        &self,
        client: &ClientSettings,
        supplied: Option<&str>,
        usernames: &[&str],
    ) -> Result<(), ApiError> {
        let Some(secret) = client.client_secret.as_deref() else {
            return Ok(());
        };
        let Some(hash) = supplied else {
            return Err(errors::secret_hash_missing(&client.client_id));
        };
        if cognate_crypto::secret_hash::verify(hash, secret, &client.client_id, usernames) {
            Ok(())
        } else {
            Err(errors::secret_hash_wrong(&client.client_id))
        }
    }

    /// A user by username, alias, or (where not an alias) `sub`.
    pub async fn find_user(
        &self,
        pool: &PoolSettings,
        username: &str,
    ) -> Result<Option<UserRecord>, ApiError> {
        let aliases = [
            AliasKind::Email,
            AliasKind::PhoneNumber,
            AliasKind::PreferredUsername,
        ]
        .into_iter()
        .filter(|kind| pool.is_alias(kind.as_str()) || pool.is_username_attribute(kind.as_str()))
        .map(|kind| (kind, alias_key(pool, kind, username)))
        .collect();
        let lookup = UserLookup {
            username_key: pool.username_key(username),
            aliases,
            sub: uuid::Uuid::parse_str(username)
                .is_ok()
                .then(|| username.to_lowercase()),
        };
        self.store.find_user(&pool.id, &lookup).await.or_wire()
    }

    async fn hash_password(
        &self,
        pool_id: &str,
        user_id_for_srp: &str,
        password: &str,
    ) -> Result<(String, cognate_crypto::srp::Verifier), ApiError> {
        let pool_name = pool_id.split_once('_').map(|(_, n)| n).unwrap_or(pool_id);
        self.hashers
            .hash(pool_name, user_id_for_srp, password)
            .await
            .map_err(|e| errors::internal("password hashing", e))
    }

    fn new_code(
        &self,
        pool_id: &str,
        username_key: &str,
        target: &CodeTarget,
        now: i64,
    ) -> (String, CodeRecord) {
        let code = cognate_crypto::codes::generate_code();
        let digest = self.code_digest(pool_id, username_key, &code);
        (
            code,
            CodeRecord {
                purpose: SIGN_UP_PURPOSE.to_string(),
                digest,
                attribute: Some(target.attribute.to_string()),
                expires_at: now + CODE_TTL_SECS,
                created_at: now,
            },
        )
    }

    fn code_digest(&self, pool_id: &str, username_key: &str, code: &str) -> Vec<u8> {
        cognate_crypto::codes::digest(
            &self.code_key,
            SIGN_UP_PURPOSE,
            &format!("{pool_id}/{username_key}"),
            code,
        )
    }

    pub async fn sign_up_flow(
        &self,
        caller: &Caller<'_>,
        input: SignUpInput,
    ) -> Result<SignUpOutput, ApiError> {
        let (client, pool) = self.client_context(&input.client_id).await?;
        self.check_secret_hash(&client, input.secret_hash.as_deref(), &[&input.username])?;
        if pool_allows_only_admin(&pool) {
            return Err(errors::not_authorized(
                "SignUp is not permitted for this user pool",
            ));
        }
        let mut attrs = input.attributes;
        attributes::check_client_writable(&client, &attrs)?;
        let sub = uuid::Uuid::new_v4().to_string();
        let mut claims: Vec<(AliasKind, String)> = Vec::new();
        let mut moved_claims: Vec<(AliasKind, String)> = Vec::new();
        let username = if pool.username_attributes.is_empty() {
            check_username_against_aliases(&pool, &input.username)?;
            input.username.clone()
        } else {
            let kind = username_attribute_kind(&pool, &input.username)?;
            attrs.insert(kind.as_str().to_string(), input.username.clone());
            claims.push((kind, alias_key(&pool, kind, &input.username)));
            sub.clone()
        };
        let Some(password) = input.password.as_deref() else {
            return Err(errors::invalid_parameter(
                "Password is required when passwordless sign-in is not enabled for the user pool.",
            ));
        };
        attributes::check_password(&pool.policies.password_policy, password)?;
        attributes::check_schema(&pool, &attrs)?;

        let username_key = pool.username_key(&username);
        let call = TriggerCall {
            ctx: caller.ctx,
            pool: &pool,
            client_id: Some(&client.client_id),
            user_name: &username,
        };
        let mut trigger_attrs = attrs.clone();
        trigger_attrs.insert("sub".into(), sub.clone());
        trigger_attrs.insert("cognito:user_status".into(), "UNCONFIRMED".into());
        let verdict = self
            .pre_sign_up(
                &call,
                &trigger_attrs,
                input.validation_data.as_ref(),
                input.client_metadata.as_ref(),
            )
            .await?;
        let auto_confirm = verdict.as_ref().is_some_and(|v| v.auto_confirm_user);
        if let Some(v) = &verdict {
            for (flag, attr) in [
                (v.auto_verify_email, "email"),
                (v.auto_verify_phone, "phone_number"),
            ] {
                if flag && auto_confirm {
                    if !attrs.contains_key(attr) {
                        return Err(errors::invalid_parameter(format!(
                            "Cannot auto-verify {attr}: the user has no {attr} attribute."
                        )));
                    }
                    attrs.insert(format!("{attr}_verified"), "true".into());
                    if pool.is_alias(attr) {
                        let kind = AliasKind::parse(attr).unwrap_or(AliasKind::Email);
                        let key = alias_key(&pool, kind, &attrs[attr]);
                        // Spec §d.3: an auto-verified alias moves from its previous holder.
                        moved_claims.push((kind, key));
                    }
                }
            }
        }

        let (password_hash, verifier) = self.hash_password(&pool.id, &username, password).await?;
        let now = self.clock.now();
        let target = if auto_confirm {
            None
        } else {
            choose_target(&pool, &attrs)
        };
        let issued = target
            .as_ref()
            .map(|t| self.new_code(&pool.id, &username_key, t, now));
        let user = UserRecord {
            pool_id: pool.id.clone(),
            username_key: username_key.clone(),
            username: username.clone(),
            sub: sub.clone(),
            status: if auto_confirm {
                UserStatus::Confirmed
            } else {
                UserStatus::Unconfirmed
            },
            enabled: true,
            attributes: attrs.clone(),
            password_hash: Some(password_hash),
            srp_salt: Some(verifier.salt_hex),
            srp_verifier: Some(verifier.verifier_hex),
            created_at: now,
            updated_at: now,
        };
        let message = match (&target, &issued) {
            (Some(target), Some((code, _))) => Some(CodeMessage {
                call: TriggerCall { ..call },
                trigger_source: "CustomMessage_SignUp",
                attrs: &trigger_attrs,
                target,
                code,
                client_metadata: input.client_metadata.as_ref(),
            }),
            _ => None,
        };
        let outbox = match &message {
            Some(m) => self.outbox_record_in_advance(m).await?,
            None => None,
        };
        let in_advance = outbox.is_some();
        self.store
            .create_user(&NewUser {
                user,
                aliases: claims,
                moved_aliases: moved_claims,
                code: issued.as_ref().map(|(_, rec)| rec.clone()),
                event: Some(caller.event("SignUp", "Pass", now)),
                outbox,
            })
            .await
            .or_wire()?;

        let mut delivery = None;
        if let Some(message) = message {
            // The user exists from here on: if delivery fails the caller gets
            // CodeDeliveryFailureException and can ResendConfirmationCode later.
            delivery = Some(self.send_code_unless_recorded(message, in_advance).await?);
        }
        if auto_confirm {
            let mut confirmed_attrs = attrs.clone();
            confirmed_attrs.insert("sub".into(), sub.clone());
            confirmed_attrs.insert("cognito:user_status".into(), "CONFIRMED".into());
            self.post_confirmation(&call, &confirmed_attrs, input.client_metadata.as_ref())
                .await?;
        }
        Ok(SignUpOutput {
            confirmed: auto_confirm,
            sub,
            delivery,
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_sign_up_flow(
        &self,
        caller: &Caller<'_>,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        code: &str,
        force_alias: bool,
        client_metadata: Option<&Metadata>,
    ) -> Result<(), ApiError> {
        let (client, pool) = self.client_context(client_id).await?;
        let user = self.find_user(&pool, username).await?;
        let internal = user
            .as_ref()
            .map(|u| u.username.as_str())
            .unwrap_or(username);
        if !caller.from_link {
            self.check_secret_hash(&client, secret_hash, &[username, internal])?;
        }
        let Some(user) = user else {
            return Err(if client.hides_user_existence() {
                errors::code_mismatch()
            } else {
                errors::user_not_found()
            });
        };
        let now = self.clock.now();
        // Aliases this confirmation may claim: the verified attribute, when it is an alias or
        // sign-in attribute of the pool.
        let alias_by_attribute = [AliasKind::Email, AliasKind::PhoneNumber]
            .into_iter()
            .filter(|k| pool.is_alias(k.as_str()) || pool.is_username_attribute(k.as_str()))
            .filter_map(|k| {
                let value = user.attributes.get(k.as_str())?;
                Some((k.as_str().to_string(), k, alias_key(&pool, k, value)))
            })
            .collect();
        let outcome = self
            .store
            .attempt_confirmation(ConfirmAttempt {
                pool_id: pool.id.clone(),
                username_key: user.username_key.clone(),
                purpose: SIGN_UP_PURPOSE.to_string(),
                limit: AttemptLimit {
                    action: "confirm_sign_up".to_string(),
                    max: self.settings.confirm_attempts_per_hour,
                    window_secs: HOUR,
                },
                candidate_digest: self.code_digest(&pool.id, &user.username_key, code),
                alias_by_attribute,
                force_alias,
                now,
                pass_event: caller.event("ConfirmSignUp", "Pass", now),
                fail_event: caller.event("ConfirmSignUp", "Fail", now),
            })
            .await
            .or_wire()?;
        let attrs = match outcome {
            AttemptOutcome::Confirmed(attrs) => attrs,
            AttemptOutcome::LimitExceeded => return Err(errors::attempt_limit()),
            AttemptOutcome::UserGone => return Err(errors::user_not_found()),
            AttemptOutcome::WrongStatus(status) => return Err(errors::cannot_confirm(&status)),
            AttemptOutcome::NoCode | AttemptOutcome::Expired => return Err(errors::expired_code()),
            AttemptOutcome::Mismatch => return Err(errors::code_mismatch()),
            AttemptOutcome::AliasTaken(kind) => return Err(errors::alias_exists(kind)),
        };
        let call = TriggerCall {
            ctx: caller.ctx,
            pool: &pool,
            client_id: Some(&client.client_id),
            user_name: &user.username,
        };
        self.post_confirmation(
            &call,
            &trigger_attributes(&user, attrs, UserStatus::Confirmed),
            client_metadata,
        )
        .await
    }

    pub async fn resend_code_flow(
        &self,
        caller: &Caller<'_>,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        client_metadata: Option<&Metadata>,
    ) -> Result<Value, ApiError> {
        let (client, pool) = self.client_context(client_id).await?;
        let user = self.find_user(&pool, username).await?;
        let internal = user
            .as_ref()
            .map(|u| u.username.as_str())
            .unwrap_or(username);
        self.check_secret_hash(&client, secret_hash, &[username, internal])?;
        let Some(user) = user else {
            if client.hides_user_existence() {
                return Ok(self.simulated_delivery(&pool, username));
            }
            return Err(errors::username_client_not_found());
        };
        if user.status == UserStatus::Confirmed {
            return Err(errors::invalid_parameter("User is already confirmed."));
        }
        let Some(target) = choose_target(&pool, &user.attributes) else {
            return Err(errors::invalid_parameter(
                "Cannot resend codes. Auto verification not turned on.",
            ));
        };
        let now = self.clock.now();
        let (code, record) = self.new_code(&pool.id, &user.username_key, &target, now);
        let attrs = trigger_attributes(&user, user.attributes.clone(), user.status);
        let message = CodeMessage {
            call: TriggerCall {
                ctx: caller.ctx,
                pool: &pool,
                client_id: Some(&client.client_id),
                user_name: &user.username,
            },
            trigger_source: "CustomMessage_ResendCode",
            attrs: &attrs,
            target: &target,
            code: &code,
            client_metadata,
        };
        let outbox = self.outbox_record_in_advance(&message).await?;
        let in_advance = outbox.is_some();
        let issued = self
            .store
            .issue_code(CodeIssue {
                pool_id: pool.id.clone(),
                username_key: user.username_key.clone(),
                code: record,
                event: Some(caller.event("ResendConfirmationCode", "Pass", now)),
                limit: Some(AttemptLimit {
                    action: "resend_confirmation_code".to_string(),
                    max: self.settings.resend_per_hour,
                    window_secs: HOUR,
                }),
                outbox,
            })
            .await
            .or_wire()?;
        match issued {
            IssueOutcome::Issued => {}
            IssueOutcome::LimitExceeded => return Err(errors::attempt_limit()),
            IssueOutcome::UserGone => return Err(errors::username_client_not_found()),
        }
        self.send_code_unless_recorded(message, in_advance).await
    }

    /// What ResendConfirmationCode answers for an unknown user when the client prevents
    /// user-existence errors: the same shape as a real delivery, stable per username.
    fn simulated_delivery(&self, pool: &PoolSettings, username: &str) -> Value {
        let seed = cognate_crypto::codes::digest(&self.code_key, "simulated", &pool.id, username);
        let digits: String = seed
            .iter()
            .take(4)
            .map(|b| char::from(b'0' + b % 10))
            .collect();
        let target = if attributes::looks_like_email(username) {
            CodeTarget {
                attribute: "email",
                medium: cognate_delivery::Medium::Email,
                to: username.to_string(),
            }
        } else if attributes::looks_like_phone(username) || pool.auto_verifies("phone_number") {
            CodeTarget {
                attribute: "phone_number",
                medium: cognate_delivery::Medium::Sms,
                to: if attributes::looks_like_phone(username) {
                    username.to_string()
                } else {
                    format!("+1206555{digits}")
                },
            }
        } else {
            let letter = |b: u8| char::from(b'a' + b % 26);
            CodeTarget {
                attribute: "email",
                medium: cognate_delivery::Medium::Email,
                to: format!("{}@{}.com", letter(seed[4]), letter(seed[5])),
            }
        };
        target.details()
    }

    pub async fn admin_confirm_flow(
        &self,
        ctx: &RequestContext,
        pool_id: &str,
        username: &str,
        client_metadata: Option<&Metadata>,
    ) -> Result<(), ApiError> {
        let pool = self.pool_settings(pool_id).await?;
        let user = self
            .find_user(&pool, username)
            .await?
            .ok_or_else(errors::user_not_found)?;
        if user.status != UserStatus::Unconfirmed {
            return Err(errors::cannot_confirm(user.status.as_str()));
        }
        let now = self.clock.now();
        let caller = Caller {
            ctx,
            ip_address: None,
            encoded_data: None,
            analytics_endpoint_id: None,
            from_link: false,
        };
        let outcome = self
            .store
            .confirm_user(&Confirmation {
                pool_id: pool.id.clone(),
                username_key: user.username_key.clone(),
                purpose: SIGN_UP_PURPOSE.to_string(),
                verify_attribute: None,
                alias: None,
                force_alias: false,
                now,
                event: Some(caller.event("AdminConfirmSignUp", "Pass", now)),
            })
            .await
            .or_wire()?;
        let attrs = confirm_outcome(outcome)?;
        let call = TriggerCall {
            ctx,
            pool: &pool,
            client_id: None,
            user_name: &user.username,
        };
        self.post_confirmation(
            &call,
            &trigger_attributes(&user, attrs, UserStatus::Confirmed),
            client_metadata,
        )
        .await
    }
}

fn confirm_outcome(outcome: ConfirmOutcome) -> Result<BTreeMap<String, String>, ApiError> {
    match outcome {
        ConfirmOutcome::Confirmed(attrs) => Ok(attrs),
        ConfirmOutcome::UserGone => Err(errors::user_not_found()),
        ConfirmOutcome::WrongStatus(status) => Err(errors::cannot_confirm(&status)),
        ConfirmOutcome::AliasTaken(kind) => Err(errors::alias_exists(kind)),
    }
}

/// A trigger's `userAttributes`: the user's attributes plus `sub` and `cognito:user_status`
/// (the status the user has when the trigger runs).
fn trigger_attributes(
    user: &UserRecord,
    mut attrs: BTreeMap<String, String>,
    status: UserStatus,
) -> BTreeMap<String, String> {
    attrs.insert("sub".into(), user.sub.clone());
    attrs.insert("cognito:user_status".into(), status.as_str().into());
    attrs
}

fn pool_allows_only_admin(pool: &PoolSettings) -> bool {
    pool.admin_create_user_config.allow_admin_create_user_only
}

pub fn alias_key(pool: &PoolSettings, kind: AliasKind, value: &str) -> String {
    match kind {
        AliasKind::Email => value.to_lowercase(),
        AliasKind::PhoneNumber => value.to_string(),
        AliasKind::PreferredUsername => pool.username_key(value),
    }
}

/// In email/phone-as-username pools the username must be one of those (§b.1).
fn username_attribute_kind(pool: &PoolSettings, username: &str) -> Result<AliasKind, ApiError> {
    let email = pool.is_username_attribute("email");
    let phone = pool.is_username_attribute("phone_number");
    if email && attributes::looks_like_email(username) {
        return Ok(AliasKind::Email);
    }
    if phone && attributes::looks_like_phone(username) {
        return Ok(AliasKind::PhoneNumber);
    }
    Err(errors::invalid_parameter(match (email, phone) {
        (true, true) => "Username should be either an email or a phone number.",
        (true, false) => "Username should be an email.",
        _ => "Username should be a phone number.",
    }))
}

/// In alias pools a username may not look like an alias value (§b.1).
fn check_username_against_aliases(pool: &PoolSettings, username: &str) -> Result<(), ApiError> {
    if pool.is_alias("email") && attributes::looks_like_email(username) {
        return Err(errors::invalid_parameter(
            "Username cannot be of email format, since user pool is configured for email alias.",
        ));
    }
    if pool.is_alias("phone_number") && attributes::looks_like_phone(username) {
        return Err(errors::invalid_parameter(
            "Username cannot be of phone format, since user pool is configured for phone_number alias.",
        ));
    }
    Ok(())
}
