//! The sign-up confirmation flow: SignUp, ConfirmSignUp, ResendConfirmationCode and
//! AdminConfirmSignUp, exact to AWS (spec §b, §c).

use super::timing::Mirrored;
use std::collections::BTreeMap;

use super::attributes;
use super::hooks::{Metadata, TriggerCall};
use super::messaging::{choose_target, CodeDelivery, CodeMessage, CodeTarget};
use super::{Caller, Service};
use crate::delivery::Medium;
use crate::error::{DomainError, DomainResult, Invalid};
use crate::records::{
    AliasKind, AttemptLimit, AttemptOutcome, CodeIssue, CodeRecord, ConfirmAttempt, ConfirmOutcome,
    Confirmation, NewUser, UserLookup, UserRecord, UserStatus,
};
use crate::settings::{
    cached_client_context, parse_client_context, ClientContext, ClientSettings, PoolSettings,
};

pub const SIGN_UP_PURPOSE: &str = "sign_up";
const CODE_TTL_SECS: i64 = 24 * 3600;
const HOUR: i64 = crate::rules::limits::ATTEMPT_WINDOW_SECS;

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
    pub delivery: Option<CodeDelivery>,
}

pub struct ConfirmSignUpInput {
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub username: String,
    pub code: String,
    pub force_alias: bool,
    pub client_metadata: Option<Metadata>,
}

impl Service {
    /// The client named by a ClientId and its pool.
    pub(super) async fn client_context(&self, client_id: &str) -> DomainResult<ClientContext> {
        let revision = self
            .store
            .client_revision(client_id)
            .await?
            .ok_or_else(|| client_not_found(client_id))?;
        if let Some(parsed) = cached_client_context(client_id, revision) {
            return Ok(parsed);
        }
        let (client, pool, revision) = self
            .store
            .get_client_with_pool(client_id)
            .await?
            .ok_or_else(|| client_not_found(client_id))?;
        parse_client_context(client_id, revision, &client.config, &pool.config)
            .map_err(|e| DomainError::internal("stored client or pool", e))
    }

    /// The pool of an app client, for callers that key something by pool (request quotas);
    /// `None` for an unknown client or a store failure, which the operation itself reports.
    pub async fn pool_of_client(&self, client_id: &str) -> Option<String> {
        self.client_context(client_id)
            .await
            .ok()
            .map(|(_, pool)| pool.id.clone())
    }

    pub(super) async fn pool_settings(&self, pool_id: &str) -> DomainResult<PoolSettings> {
        let record = self
            .store
            .get_pool(pool_id)
            .await?
            .ok_or_else(|| pool_not_found(pool_id))?;
        PoolSettings::parse(&record.config).map_err(|e| DomainError::internal("stored pool", e))
    }

    /// SecretHash check (§c): required for clients with a secret; accepted when computed over
    /// any of the given usernames (the one supplied, or the internal one).
    pub(super) fn check_secret_hash(
        &self,
        client: &ClientSettings,
        supplied: Option<&str>,
        usernames: &[&str],
    ) -> DomainResult<()> {
        let Some(secret) = client.client_secret.as_deref() else {
            return Ok(());
        };
        let Some(hash) = supplied else {
            return Err(DomainError::SecretHashMissing {
                client_id: client.client_id.clone(),
            });
        };
        if cognate_crypto::secret_hash::verify(hash, secret, &client.client_id, usernames) {
            Ok(())
        } else {
            Err(DomainError::SecretHashWrong {
                client_id: client.client_id.clone(),
            })
        }
    }

    /// A user by username, alias, or (where not an alias) `sub`.
    pub async fn find_user(
        &self,
        pool: &PoolSettings,
        username: &str,
    ) -> DomainResult<Option<UserRecord>> {
        let aliases = [
            AliasKind::Email,
            AliasKind::PhoneNumber,
            AliasKind::PreferredUsername,
        ]
        .into_iter()
        .filter(|kind| pool.is_alias(*kind) || pool.is_username_attribute(*kind))
        .map(|kind| (kind, alias_key(pool, kind, username)))
        .collect();
        let lookup = UserLookup {
            username_key: pool.username_key(username),
            aliases,
            sub: uuid::Uuid::parse_str(username)
                .is_ok()
                .then(|| username.to_lowercase()),
        };
        Ok(self.store.find_user(&pool.id, &lookup).await?)
    }

    pub(super) async fn hash_password(
        &self,
        pool_id: &str,
        user_id_for_srp: &str,
        password: &str,
    ) -> DomainResult<(String, cognate_crypto::srp::Verifier)> {
        let pool_name = pool_id.split_once('_').map(|(_, n)| n).unwrap_or(pool_id);
        self.hashers
            .hash(pool_name, user_id_for_srp, password)
            .await
            .map_err(|e| DomainError::internal("password hashing", e))
    }

    fn new_code(
        &self,
        pool_id: &str,
        username_key: &str,
        target: &CodeTarget,
        now: i64,
    ) -> (String, CodeRecord) {
        self.new_code_for(
            SIGN_UP_PURPOSE,
            CODE_TTL_SECS,
            pool_id,
            username_key,
            target,
            now,
        )
    }

    /// A fresh code for `purpose` sent to `target`, and its record (digest only).
    pub(super) fn new_code_for(
        &self,
        purpose: &str,
        ttl_secs: i64,
        pool_id: &str,
        username_key: &str,
        target: &CodeTarget,
        now: i64,
    ) -> (String, CodeRecord) {
        let code = cognate_crypto::codes::generate_code();
        let digest = self.code_digest_for(purpose, pool_id, username_key, &code);
        (
            code,
            CodeRecord {
                purpose: purpose.to_string(),
                digest,
                attribute: Some(target.attribute.to_string()),
                expires_at: now + ttl_secs,
                created_at: now,
            },
        )
    }

    fn code_digest(&self, pool_id: &str, username_key: &str, code: &str) -> Vec<u8> {
        self.code_digest_for(SIGN_UP_PURPOSE, pool_id, username_key, code)
    }

    /// The keyed digest a code of `purpose` is stored and compared as: bound to the purpose,
    /// pool and user, so a code of one kind never passes for another.
    pub(super) fn code_digest_for(
        &self,
        purpose: &str,
        pool_id: &str,
        username_key: &str,
        code: &str,
    ) -> Vec<u8> {
        cognate_crypto::codes::digest(
            &self.code_key,
            purpose,
            &format!("{pool_id}/{username_key}"),
            code,
        )
    }

    pub async fn sign_up(&self, caller: &Caller, input: SignUpInput) -> DomainResult<SignUpOutput> {
        let (client, pool) = self.client_context(&input.client_id).await?;
        self.check_secret_hash(&client, input.secret_hash.as_deref(), &[&input.username])?;
        if pool.allow_admin_create_user_only {
            return Err(DomainError::SignUpNotPermitted);
        }
        let mut attrs = input.attributes;
        attributes::check_client_writable(&client, &attrs)?;
        let sub = uuid::Uuid::new_v4().to_string();
        let mut claims: Vec<(AliasKind, String)> = Vec::new();
        let mut moved_claims: Vec<(AliasKind, String)> = Vec::new();
        let username = if !pool.has_username_attributes() {
            check_username_against_aliases(&pool, &input.username)?;
            input.username.clone()
        } else {
            let kind = username_attribute_kind(&pool, &input.username)?;
            attrs.insert(kind.as_str().to_string(), input.username.clone());
            claims.push((kind, alias_key(&pool, kind, &input.username)));
            sub.clone()
        };
        let Some(password) = input.password.as_deref() else {
            return Err(DomainError::Invalid(Invalid::PasswordRequired));
        };
        attributes::check_password(&pool.password_policy, password)?;
        attributes::check_schema(&pool, &attrs)?;

        let username_key = pool.username_key(&username);
        let call = TriggerCall {
            caller,
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
                        return Err(DomainError::Invalid(Invalid::CannotAutoVerify {
                            attribute: attr.to_string(),
                        }));
                    }
                    attrs.insert(format!("{attr}_verified"), "true".into());
                    let kind = AliasKind::parse(attr).unwrap_or(AliasKind::Email);
                    if pool.is_alias(kind) {
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
            password_set_at: Some(now),
            signed_out_at: None,
            pending_attributes: BTreeMap::new(),
        };
        let message = match (&target, &issued) {
            (Some(target), Some((code, _))) => Some(CodeMessage {
                call: TriggerCall { ..call },
                trigger_source: "CustomMessage_SignUp",
                attrs: &trigger_attrs,
                target,
                code,
                client_metadata: input.client_metadata.as_ref(),
                invitation: None,
            }),
            _ => None,
        };
        let outbox = match &message {
            Some(m) => self.outbox_record_in_advance(m).await?,
            None => None,
        };
        let in_advance = outbox.is_some();
        self.store
            .create_user(NewUser {
                user,
                aliases: claims,
                moved_aliases: moved_claims,
                code: issued.as_ref().map(|(_, rec)| rec.clone()),
                event: caller.event(&pool, "SignUp", "Pass", now),
                outbox,
            })
            .await?;

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

    /// The client and pool of a client-facing call and the user it names (if any), once the
    /// SecretHash checks out: computed over the name given, or the user's internal username.
    pub(super) async fn named_user(
        &self,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
    ) -> DomainResult<(ClientContext, Option<UserRecord>)> {
        let (client, pool) = self.client_context(client_id).await?;
        let user = self.find_user(&pool, username).await?;
        let internal = user
            .as_ref()
            .map(|u| u.username.as_str())
            .unwrap_or(username);
        self.check_secret_hash(&client, secret_hash, &[username, internal])?;
        Ok(((client, pool), user))
    }

    pub async fn confirm_sign_up(
        &self,
        caller: &Caller,
        input: ConfirmSignUpInput,
    ) -> DomainResult<()> {
        let ((client, pool), user) = self
            .named_user(
                &input.client_id,
                input.secret_hash.as_deref(),
                &input.username,
            )
            .await?;
        self.confirm_found_user(
            caller,
            &client,
            &pool,
            user,
            &input.username,
            &input.code,
            input.force_alias,
            input.client_metadata.as_ref(),
        )
        .await
    }

    /// A click on an emailed confirmation link (`CONFIRM_WITH_LINK`): the link itself is the
    /// proof, so no SecretHash is asked for (a browser cannot compute one).
    pub async fn confirm_sign_up_by_link(
        &self,
        caller: &Caller,
        client_id: &str,
        username: &str,
        code: &str,
    ) -> DomainResult<()> {
        let (client, pool) = self.client_context(client_id).await?;
        let user = self.find_user(&pool, username).await?;
        self.confirm_found_user(caller, &client, &pool, user, username, code, false, None)
            .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn confirm_found_user(
        &self,
        caller: &Caller,
        client: &ClientSettings,
        pool: &PoolSettings,
        user: Option<UserRecord>,
        name: &str,
        code: &str,
        force_alias: bool,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<()> {
        let Some(user) = user else {
            if !client.hides_user_existence() {
                return Err(DomainError::UserNotFound);
            }
            self.hidden_missing_user(
                caller,
                pool,
                name,
                ("confirm_sign_up", self.settings.confirm_attempts_per_hour),
                Mirrored::ConfirmSignUp,
            )
            .await?;
            return Err(DomainError::CodeMismatch);
        };
        let _real = self.timing.measure(Mirrored::ConfirmSignUp, caller.started);
        let now = self.clock.now();
        // Aliases this confirmation may claim: the verified attribute, when it is an alias or
        // sign-in attribute of the pool.
        let alias_by_attribute = [AliasKind::Email, AliasKind::PhoneNumber]
            .into_iter()
            .filter(|k| pool.is_alias(*k) || pool.is_username_attribute(*k))
            .filter_map(|k| {
                let value = user.attributes.get(k.as_str())?;
                Some((k.as_str().to_string(), k, alias_key(pool, k, value)))
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
                pass_event: caller.event(pool, "SignUp", "Pass", now),
                fail_event: caller.event(pool, "SignUp", "Fail", now),
            })
            .await?;
        let attrs = match outcome {
            AttemptOutcome::Confirmed(attrs) => attrs,
            AttemptOutcome::LimitExceeded => return Err(DomainError::AttemptLimit),
            AttemptOutcome::UserGone => return Err(DomainError::UserNotFound),
            AttemptOutcome::WrongStatus(status) => {
                return Err(DomainError::CannotConfirm { status })
            }
            AttemptOutcome::NoCode | AttemptOutcome::Expired => {
                return Err(DomainError::ExpiredCode)
            }
            AttemptOutcome::Mismatch => return Err(DomainError::CodeMismatch),
            AttemptOutcome::AliasTaken(kind) => return Err(DomainError::AliasExists { kind }),
        };
        let call = TriggerCall {
            caller,
            pool,
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

    pub async fn resend_confirmation_code(
        &self,
        caller: &Caller,
        client_id: &str,
        secret_hash: Option<&str>,
        username: &str,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<CodeDelivery> {
        let ((client, pool), user) = self.named_user(client_id, secret_hash, username).await?;
        let Some(user) = user else {
            if client.hides_user_existence() {
                self.hidden_missing_user(
                    caller,
                    &pool,
                    username,
                    ("resend_confirmation_code", self.settings.resend_per_hour),
                    Mirrored::ResendConfirmationCode,
                )
                .await?;
                return Ok(self.simulated_delivery(&pool, username));
            }
            return Err(DomainError::UsernameClientNotFound);
        };
        let _real = self
            .timing
            .measure(Mirrored::ResendConfirmationCode, caller.started);
        if user.status == UserStatus::Confirmed {
            return Err(DomainError::AlreadyConfirmed);
        }
        let Some(target) = choose_target(&pool, &user.attributes) else {
            return Err(DomainError::Invalid(Invalid::AutoVerificationOff));
        };
        let now = self.clock.now();
        let (code, record) = self.new_code(&pool.id, &user.username_key, &target, now);
        let attrs = trigger_attributes(&user, user.attributes.clone(), user.status);
        let message = CodeMessage {
            call: TriggerCall {
                caller,
                pool: &pool,
                client_id: Some(&client.client_id),
                user_name: &user.username,
            },
            trigger_source: "CustomMessage_ResendCode",
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
                event: caller.event(&pool, "ResendCode", "Pass", now),
                limit: Some(AttemptLimit {
                    action: "resend_confirmation_code".to_string(),
                    max: self.settings.resend_per_hour,
                    window_secs: HOUR,
                }),
                outbox: None,
                status: None,
            },
            DomainError::UsernameClientNotFound,
        )
        .await
    }

    /// For a client that hides user existence: an attempt for a name of no user counts
    /// towards the same hourly limit a real user's does, so the limits do not tell which
    /// names exist (`LimitExceededException` past it).
    /// A hiding client's answer for a name of no user: counted against the same hourly limit
    /// (`action`, max per hour) as a real user's attempt, and answered no sooner than a real
    /// answer would be.
    pub(super) async fn hidden_missing_user(
        &self,
        caller: &Caller,
        pool: &PoolSettings,
        name: &str,
        (action, max): (&str, i64),
        timed_like: Mirrored,
    ) -> DomainResult<()> {
        let counted = self
            .count_missing_user_attempt(pool, name, action, max)
            .await;
        self.timing.pad(timed_like, caller.started).await;
        counted
    }

    async fn count_missing_user_attempt(
        &self,
        pool: &PoolSettings,
        name: &str,
        action: &str,
        max: i64,
    ) -> DomainResult<()> {
        let limit = AttemptLimit {
            action: action.to_string(),
            max,
            window_secs: HOUR,
        };
        let within = self
            .store
            .count_name_attempt(&pool.id, &pool.username_key(name), &limit, self.clock.now())
            .await?;
        if within {
            Ok(())
        } else {
            Err(DomainError::AttemptLimit)
        }
    }

    /// What ResendConfirmationCode answers for an unknown user when the client prevents
    /// user-existence errors: the same shape as a real delivery, stable per username.
    pub(super) fn simulated_delivery(&self, pool: &PoolSettings, username: &str) -> CodeDelivery {
        let seed = cognate_crypto::codes::digest(&self.code_key, "simulated", &pool.id, username);
        let digits: String = seed
            .iter()
            .take(4)
            .map(|b| char::from(b'0' + b % 10))
            .collect();
        let target = if attributes::looks_like_email(username) {
            CodeTarget {
                attribute: "email",
                medium: Medium::Email,
                to: username.to_string(),
            }
        } else if attributes::looks_like_phone(username) || pool.auto_verifies("phone_number") {
            CodeTarget {
                attribute: "phone_number",
                medium: Medium::Sms,
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
                medium: Medium::Email,
                to: format!("{}@{}.com", letter(seed[4]), letter(seed[5])),
            }
        };
        target.details()
    }

    pub async fn admin_confirm_sign_up(
        &self,
        caller: &Caller,
        pool_id: &str,
        username: &str,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<()> {
        let (pool, user) = self.admin_user(pool_id, username).await?;
        if user.status != UserStatus::Unconfirmed {
            return Err(DomainError::CannotConfirm {
                status: user.status,
            });
        }
        let now = self.clock.now();
        let outcome = self
            .store
            .confirm_user(Confirmation {
                pool_id: pool.id.clone(),
                username_key: user.username_key.clone(),
                purpose: SIGN_UP_PURPOSE.to_string(),
                verify_attribute: None,
                alias: None,
                force_alias: false,
                now,
                event: None,
            })
            .await?;
        let attrs = confirm_outcome(outcome)?;
        let call = TriggerCall {
            caller,
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

fn confirm_outcome(outcome: ConfirmOutcome) -> DomainResult<BTreeMap<String, String>> {
    match outcome {
        ConfirmOutcome::Confirmed(attrs) => Ok(attrs),
        ConfirmOutcome::UserGone => Err(DomainError::UserNotFound),
        ConfirmOutcome::WrongStatus(status) => Err(DomainError::CannotConfirm { status }),
        ConfirmOutcome::AliasTaken(kind) => Err(DomainError::AliasExists { kind }),
    }
}

fn client_not_found(client_id: &str) -> DomainError {
    DomainError::ClientNotFound {
        client_id: client_id.to_string(),
    }
}

pub(super) fn pool_not_found(pool_id: &str) -> DomainError {
    DomainError::PoolNotFound {
        pool_id: pool_id.to_string(),
    }
}

/// A trigger's `userAttributes`: the user's attributes plus `sub` and `cognito:user_status`
/// (the status the user has when the trigger runs).
pub(super) fn trigger_attributes(
    user: &UserRecord,
    mut attrs: BTreeMap<String, String>,
    status: UserStatus,
) -> BTreeMap<String, String> {
    attrs.insert("sub".into(), user.sub.clone());
    attrs.insert("cognito:user_status".into(), status.as_str().into());
    attrs
}

pub fn alias_key(pool: &PoolSettings, kind: AliasKind, value: &str) -> String {
    match kind {
        AliasKind::Email => value.to_lowercase(),
        AliasKind::PhoneNumber => value.to_string(),
        AliasKind::PreferredUsername => pool.username_key(value),
    }
}

/// In email/phone-as-username pools the username must be one of those (§b.1).
pub(super) fn username_attribute_kind(
    pool: &PoolSettings,
    username: &str,
) -> DomainResult<AliasKind> {
    let email = pool.is_username_attribute(AliasKind::Email);
    let phone = pool.is_username_attribute(AliasKind::PhoneNumber);
    if email && attributes::looks_like_email(username) {
        return Ok(AliasKind::Email);
    }
    if phone && attributes::looks_like_phone(username) {
        return Ok(AliasKind::PhoneNumber);
    }
    Err(DomainError::Invalid(Invalid::UsernameNotSignInAttribute {
        email,
        phone,
    }))
}

/// In alias pools a username may not look like an alias value (§b.1).
pub(super) fn check_username_against_aliases(
    pool: &PoolSettings,
    username: &str,
) -> DomainResult<()> {
    if pool.is_alias(AliasKind::Email) && attributes::looks_like_email(username) {
        return Err(DomainError::Invalid(Invalid::UsernameLooksLikeAlias {
            attribute: "email",
        }));
    }
    if pool.is_alias(AliasKind::PhoneNumber) && attributes::looks_like_phone(username) {
        return Err(DomainError::Invalid(Invalid::UsernameLooksLikeAlias {
            attribute: "phone_number",
        }));
    }
    Ok(())
}
