//! Account recovery (spec b.5, b.6, v.2–v.4): ForgotPassword and ConfirmForgotPassword,
//! AdminResetUserPassword, and the password history every new password is checked against.
//! Reset codes are made, stored and checked like sign-up codes: keyed digests bound to their
//! purpose, one live code per user, limits counted by the database.

use super::hooks::{Metadata, TriggerCall};
use super::messaging::{CodeDelivery, CodeMessage, CodeTarget};
use super::signup::trigger_attributes;
use super::timing::Mirrored;
use super::{Caller, Service};
use crate::error::{DomainError, DomainResult, Invalid};
use crate::records::{
    AttemptLimit, CodeIssue, CodeRefusal, PasswordReset, ResetOutcome, UserRecord, UserStatus,
};
use crate::settings::{PoolSettings, Recovery};

pub const FORGOT_PASSWORD_PURPOSE: &str = "forgot_password";
/// A reset code is valid for one hour (spec h).
const RESET_CODE_TTL_SECS: i64 = 3600;
const HOUR: i64 = crate::rules::limits::ATTEMPT_WINDOW_SECS;
/// ForgotPassword requests per user and hour. AWS allows 5 to 20 depending on its risk
/// assessment (spec h); without one, the lowest figure, as for ResendConfirmationCode.
const FORGOT_PASSWORD_PER_HOUR: i64 = 5;
/// ConfirmForgotPassword attempts per user and hour (AWS: 5 to 20, risk-based).
const CONFIRM_FORGOT_PASSWORD_PER_HOUR: i64 = 10;

pub struct ForgotPasswordInput {
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub username: String,
    pub client_metadata: Option<Metadata>,
}

pub struct ConfirmForgotPasswordInput {
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub username: String,
    pub code: String,
    pub password: String,
    pub client_metadata: Option<Metadata>,
}

/// How many replaced passwords the pool's `PasswordHistorySize` keeps (the current password
/// is one of the `n`).
pub(super) fn history_keep(pool: &PoolSettings) -> i64 {
    (pool.password_history_size - 1).max(0)
}

/// Where a reset code goes: the first attribute in the pool's recovery order that the user
/// has, verified (spec b.5).
fn recovery_target(
    pool: &PoolSettings,
    attributes: &std::collections::BTreeMap<String, String>,
) -> Option<CodeTarget> {
    pool.recovery.order().iter().find_map(|&attribute| {
        let verified = attributes
            .get(&format!("{attribute}_verified"))
            .is_some_and(|v| v == "true");
        let value = attributes.get(attribute).filter(|v| !v.is_empty())?;
        verified.then(|| CodeTarget::for_attribute(attribute, value))
    })
}

/// Admin operations whose model lists no `CodeDeliveryFailureException`: the change has
/// committed and the failure is in the log (`messaging::deliver`), so the call succeeds; the
/// user can ask for the code again (ForgotPassword, GetUserAttributeVerificationCode).
pub(super) fn delivered_later(e: DomainError) -> DomainResult<()> {
    match e {
        DomainError::CodeDeliveryFailure => Ok(()),
        other => Err(other),
    }
}

impl Service {
    pub async fn forgot_password(
        &self,
        caller: &Caller,
        input: ForgotPasswordInput,
    ) -> DomainResult<CodeDelivery> {
        let ((client, pool), found) = self
            .named_user(
                &input.client_id,
                input.secret_hash.as_deref(),
                &input.username,
            )
            .await?;
        // A pool setting, answered before anything about the user is looked at.
        if pool.recovery == Recovery::AdminOnly {
            return Err(DomainError::RecoveryAdminOnly);
        }
        let hides = client.hides_user_existence();
        // A simulated answer counts like a real request, so the limit does not tell either.
        let simulated = || async {
            self.hidden_missing_user(
                caller,
                &pool,
                &input.username,
                ("forgot_password", FORGOT_PASSWORD_PER_HOUR),
                Mirrored::ForgotPassword,
            )
            .await?;
            Ok(self.simulated_delivery(&pool, &input.username))
        };
        let user = match found {
            Some(user) => user,
            None => {
                let call = TriggerCall {
                    caller,
                    pool: &pool,
                    client_id: Some(&client.client_id),
                    user_name: &input.username,
                };
                match self
                    .migrate_user_for(&call, None, input.client_metadata.as_ref())
                    .await?
                {
                    Some(user) => user,
                    None if hides => return simulated().await,
                    None => return Err(DomainError::UsernameClientNotFound),
                }
            }
        };
        if !user.enabled {
            return if hides {
                simulated().await
            } else {
                Err(DomainError::UserDisabled)
            };
        }
        if user.status == UserStatus::ForceChangePassword {
            return Err(DomainError::CannotResetPassword);
        }
        let Some(target) = recovery_target(&pool, &user.attributes) else {
            return if hides {
                simulated().await
            } else {
                Err(DomainError::Invalid(Invalid::NoRecoveryContact))
            };
        };
        let _real = self
            .timing
            .measure(Mirrored::ForgotPassword, caller.started);
        let limit = AttemptLimit {
            action: "forgot_password".to_string(),
            max: FORGOT_PASSWORD_PER_HOUR,
            window_secs: HOUR,
        };
        self.send_reset_code(
            caller,
            Some(&client.client_id),
            &pool,
            &user,
            &target,
            Some(limit),
            None,
            input.client_metadata.as_ref(),
        )
        .await
    }

    /// AdminResetUserPassword: the password stops working (RESET_REQUIRED: sign-in answers
    /// `PasswordResetRequiredException`) and a reset code goes to the user's recovery contact.
    pub async fn admin_reset_user_password(
        &self,
        caller: &Caller,
        pool_id: &str,
        username: &str,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<()> {
        let (pool, user) = self.admin_user(pool_id, username).await?;
        if user.status == UserStatus::ForceChangePassword {
            return Err(DomainError::CannotResetPassword);
        }
        // The user finishes with ConfirmForgotPassword, so the pool needs self-service
        // recovery and the user a verified contact.
        let target = recovery_target(&pool, &user.attributes)
            .ok_or(DomainError::Invalid(Invalid::NoRecoveryContact))?;
        self.send_reset_code(
            caller,
            None,
            &pool,
            &user,
            &target,
            None,
            Some(UserStatus::ResetRequired),
            client_metadata,
        )
        .await
        .map(|_| ())
        .or_else(delivered_later)
    }

    /// Stores a new reset code (with the status it leaves the user in) and sends it.
    #[allow(clippy::too_many_arguments)]
    async fn send_reset_code(
        &self,
        caller: &Caller,
        client_id: Option<&str>,
        pool: &PoolSettings,
        user: &UserRecord,
        target: &CodeTarget,
        limit: Option<AttemptLimit>,
        status: Option<UserStatus>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<CodeDelivery> {
        let now = self.clock.now();
        let (code, record) = self.new_code_for(
            FORGOT_PASSWORD_PURPOSE,
            RESET_CODE_TTL_SECS,
            &pool.id,
            &user.username_key,
            target,
            now,
        );
        let attrs = trigger_attributes(user, user.attributes.clone(), user.status);
        let message = CodeMessage {
            call: TriggerCall {
                caller,
                pool,
                client_id,
                user_name: &user.username,
            },
            trigger_source: "CustomMessage_ForgotPassword",
            attrs: &attrs,
            target,
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
                // An administrator's reset is not the user's recovery event.
                event: client_id.and_then(|_| caller.event(pool, "ForgotPassword", "Pass", now)),
                limit,
                outbox: None,
                status,
            },
            DomainError::UserNotFound,
        )
        .await
    }

    pub async fn confirm_forgot_password(
        &self,
        caller: &Caller,
        input: ConfirmForgotPasswordInput,
    ) -> DomainResult<()> {
        let ((client, pool), found) = self
            .named_user(
                &input.client_id,
                input.secret_hash.as_deref(),
                &input.username,
            )
            .await?;
        let hides = client.hides_user_existence();
        let hidden_refusal = || async {
            self.hidden_missing_user(
                caller,
                &pool,
                &input.username,
                ("confirm_forgot_password", CONFIRM_FORGOT_PASSWORD_PER_HOUR),
                Mirrored::ConfirmForgotPassword,
            )
            .await?;
            Err(DomainError::CodeMismatch)
        };
        let Some(user) = found else {
            if hides {
                return hidden_refusal().await;
            }
            return Err(DomainError::UsernameClientNotFound);
        };
        let _real = self
            .timing
            .measure(Mirrored::ConfirmForgotPassword, caller.started);
        if !user.enabled {
            if hides {
                return hidden_refusal().await;
            }
            return Err(DomainError::UserDisabled);
        }
        super::attributes::check_password(&pool.password_policy, &input.password)?;
        // Told only once the code is right: without it nobody learns a previous password.
        let reused = self.password_reused(&pool, &user, &input.password).await?;
        let (password_hash, verifier) = self
            .hash_password(&pool.id, &user.username, &input.password)
            .await?;
        let now = self.clock.now();
        let outcome = self
            .store
            .reset_password(PasswordReset {
                pool_id: pool.id.clone(),
                username_key: user.username_key.clone(),
                purpose: FORGOT_PASSWORD_PURPOSE.to_string(),
                limit: AttemptLimit {
                    action: "confirm_forgot_password".to_string(),
                    max: CONFIRM_FORGOT_PASSWORD_PER_HOUR,
                    window_secs: HOUR,
                },
                candidate_digest: self.code_digest_for(
                    FORGOT_PASSWORD_PURPOSE,
                    &pool.id,
                    &user.username_key,
                    &input.code,
                ),
                password_hash,
                srp_salt: verifier.salt_hex,
                srp_verifier: verifier.verifier_hex,
                history_keep: history_keep(&pool),
                reused,
                now,
                pass_event: caller.event(&pool, "ForgotPassword", "Pass", now),
                fail_event: caller.event(&pool, "ForgotPassword", "Fail", now),
            })
            .await?;
        match outcome {
            ResetOutcome::Reset => {}
            ResetOutcome::PasswordReused => return Err(DomainError::PasswordReused),
            ResetOutcome::Refused(refusal) => {
                return Err(match refusal {
                    CodeRefusal::LimitExceeded => DomainError::AttemptLimit,
                    CodeRefusal::UserGone if hides => DomainError::CodeMismatch,
                    CodeRefusal::UserGone => DomainError::UsernameClientNotFound,
                    CodeRefusal::NoCode | CodeRefusal::Expired => DomainError::ExpiredCode,
                    CodeRefusal::Mismatch => DomainError::CodeMismatch,
                })
            }
        }
        let call = TriggerCall {
            caller,
            pool: &pool,
            client_id: Some(&client.client_id),
            user_name: &user.username,
        };
        self.post_confirmation_from(
            &call,
            "PostConfirmation_ConfirmForgotPassword",
            &trigger_attributes(&user, user.attributes.clone(), UserStatus::Confirmed),
            input.client_metadata.as_ref(),
        )
        .await
    }

    /// Whether `password` is the user's current password or one of the previous ones the
    /// pool's `PasswordHistorySize` remembers.
    pub(super) async fn password_reused(
        &self,
        pool: &PoolSettings,
        user: &UserRecord,
        password: &str,
    ) -> DomainResult<bool> {
        if pool.password_history_size <= 0 {
            return Ok(false);
        }
        let mut hashes: Vec<String> = user.password_hash.iter().cloned().collect();
        let previous = history_keep(pool);
        if previous > 0 {
            hashes.extend(
                self.store
                    .password_history(&pool.id, &user.username_key, previous)
                    .await?,
            );
        }
        for hash in &hashes {
            let matches = self
                .hashers
                .verify(password, hash)
                .await
                .map_err(|e| DomainError::internal("password history check", e))?;
            if matches {
                return Ok(true);
            }
        }
        Ok(false)
    }
}
