//! What a signed-in user does with their access token: ChangePassword and DeleteUser
//! (spec v.1, iii.8).

use serde_json::Value;

use super::tokens::TokenUser;
use super::Service;
use crate::error::{DomainError, DomainResult};
use crate::records::AttemptLimit;
use crate::rules::lockout;

/// ChangePassword calls per user and hour (spec v.1).
const CHANGE_PASSWORD_PER_HOUR: i64 = 5;

impl Service {
    /// The user an access token names (by username and `sub`), or `UserNotFound`.
    pub(super) async fn token_user(&self, access_token: &str) -> DomainResult<TokenUser> {
        let access = self.verify_access_token(access_token).await?;
        let claim = |name: &str| access.claims.get(name).and_then(Value::as_str);
        let username = claim("username").ok_or(DomainError::InvalidAccessToken)?;
        let user = self
            .find_user(&access.pool, username)
            .await?
            .filter(|u| claim("sub") == Some(u.sub.as_str()))
            .ok_or(DomainError::UserNotFound)?;
        if !user.enabled {
            return Err(DomainError::UserDisabled);
        }
        // A global sign-out refuses every access token issued before it, also those without
        // an origin_jti to revoke (clients with token revocation off). Same-second tokens
        // pass: AWS has been seen refusing a sign-in made right after a sign-out, which is
        // the artefact to avoid (spec iii.7); the origin check catches those that have one.
        let issued_at = access.claims.get("iat").and_then(Value::as_i64);
        if let (Some(signed_out), Some(issued)) = (user.signed_out_at, issued_at) {
            if issued < signed_out {
                return Err(DomainError::AccessTokenRevoked);
            }
        }
        Ok(TokenUser { access, user })
    }

    /// ChangePassword: the previous password is checked like a sign-in (wrong ones count
    /// towards the lockout), the new one against the pool's policy.
    pub async fn change_password(
        &self,
        caller: &super::Caller,
        access_token: &str,
        previous: Option<&str>,
        proposed: &str,
    ) -> DomainResult<()> {
        let TokenUser { access, user } = self.token_user(access_token).await?;
        let pool = access.pool;
        let now = self.clock.now();
        // Every call counts, right or wrong (spec v.1: 5 an hour per user).
        let within = self
            .store
            .count_attempt(
                &pool.id,
                &user.username_key,
                &AttemptLimit {
                    action: "change_password".to_string(),
                    max: CHANGE_PASSWORD_PER_HOUR,
                    window_secs: crate::rules::limits::ATTEMPT_WINDOW_SECS,
                },
                now,
            )
            .await?;
        if !within {
            return Err(DomainError::AttemptLimit);
        }
        let failures = self
            .store
            .sign_in_failures(&pool.id, &user.username_key)
            .await?;
        if lockout::is_locked(failures.as_ref(), now) {
            return Err(DomainError::PasswordAttemptsExceeded);
        }
        let matches = match (previous, &user.password_hash) {
            (Some(previous), Some(hash)) => self
                .hashers
                .verify(previous, hash)
                .await
                .map_err(|e| DomainError::internal("password check", e))?,
            _ => false,
        };
        if !matches {
            self.store
                .record_sign_in_failure(&pool.id, &user.username_key, now)
                .await?;
            self.record_auth_event(caller, &pool, &user.username_key, "PasswordChange", "Fail")
                .await?;
            return Err(DomainError::IncorrectCredentials);
        }
        self.store_password(&pool, &user, proposed, None, None)
            .await?;
        self.record_auth_event(caller, &pool, &user.username_key, "PasswordChange", "Pass")
            .await?;
        if failures.is_some() {
            self.store
                .clear_sign_in_failures(&pool.id, &user.username_key)
                .await?;
        }
        Ok(())
    }

    /// DeleteUser: the user deletes themself (their refresh tokens go with them).
    pub async fn delete_user(&self, access_token: &str) -> DomainResult<()> {
        let TokenUser { access, user } = self.token_user(access_token).await?;
        let pool = access.pool;
        if !self.store.delete_user(&pool.id, &user.username_key).await? {
            return Err(DomainError::UserNotFound);
        }
        Ok(())
    }
}
