//! The user event history the way AWS keeps it (spec vi.3): only pools with threat
//! protection (`UserPoolAddOns.AdvancedSecurityMode` `AUDIT` or `ENFORCED`) record
//! authentication events, and they serve them through AdminListUserAuthEvents,
//! AdminUpdateAuthEventFeedback and UpdateAuthEventFeedback. Cognate scores no risk: every
//! event reports `NoRisk` / `Low`.

use super::pools::decode_token;
use super::{Caller, Service};
use crate::error::{DomainError, DomainResult};
use crate::records::AuthEventRecord;
use crate::settings::PoolSettings;

/// Feedback given by an administrator, and through a feedback token.
const ADMIN_PROVIDER: &str = "Admin";
const USER_PROVIDER: &str = "User";

impl Service {
    /// Adds a sign-in or password-change event to the user's history when the pool keeps one.
    pub(super) async fn record_auth_event(
        &self,
        caller: &Caller,
        pool: &PoolSettings,
        username_key: &str,
        event_type: &str,
        outcome: &str,
    ) -> DomainResult<()> {
        if let Some(event) = caller.event(pool, event_type, outcome, self.clock.now()) {
            self.store
                .record_event(&pool.id, username_key, &event)
                .await?;
        }
        Ok(())
    }

    /// AdminListUserAuthEvents: the user's events, newest first.
    pub async fn admin_list_user_auth_events(
        &self,
        pool_id: &str,
        username: &str,
        max_results: Option<i32>,
        token: Option<&str>,
    ) -> DomainResult<(Vec<AuthEventRecord>, Option<String>)> {
        let (pool, username_key) = self.auth_events_user(pool_id, username).await?;
        let before = token
            .map(decode_token)
            .transpose()?
            .map(|t| {
                t.parse::<i64>()
                    .map_err(|_| DomainError::Invalid(crate::error::Invalid::PaginationToken))
            })
            .transpose()?;
        let limit = super::pools::page_limit(max_results);
        let mut events = self
            .store
            .auth_events(&pool.id, &username_key, before, limit + 1)
            .await?;
        let next = super::pools::page_token(&mut events, limit, |e| e.seq.to_string());
        Ok((events, next))
    }

    /// AdminUpdateAuthEventFeedback.
    pub async fn admin_update_auth_event_feedback(
        &self,
        pool_id: &str,
        username: &str,
        event_id: &str,
        value: &str,
    ) -> DomainResult<()> {
        let (pool, username_key) = self.auth_events_user(pool_id, username).await?;
        self.set_feedback(&pool, &username_key, event_id, value, ADMIN_PROVIDER)
            .await
    }

    /// UpdateAuthEventFeedback: feedback with the event's feedback token (a keyed MAC of the
    /// event, checked in constant time; AWS puts it in its risk notifications, which Cognate
    /// does not send).
    pub async fn update_auth_event_feedback(
        &self,
        pool_id: &str,
        username: &str,
        event_id: &str,
        feedback_token: &str,
        value: &str,
    ) -> DomainResult<()> {
        let (pool, username_key) = self.auth_events_user(pool_id, username).await?;
        let expected = self.feedback_token(&pool.id, &username_key, event_id);
        if !cognate_crypto::codes::digests_equal(expected.as_bytes(), feedback_token.as_bytes()) {
            return Err(DomainError::InvalidFeedbackToken);
        }
        self.set_feedback(&pool, &username_key, event_id, value, USER_PROVIDER)
            .await
    }

    /// The feedback token of an event.
    pub fn feedback_token(&self, pool_id: &str, username_key: &str, event_id: &str) -> String {
        use base64::Engine;
        let digest = cognate_crypto::codes::digest(
            &self.code_key,
            "auth_event_feedback",
            &format!("{pool_id}/{username_key}"),
            event_id,
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    }

    /// The pool (which must keep events) and the user the call names.
    async fn auth_events_user(
        &self,
        pool_id: &str,
        username: &str,
    ) -> DomainResult<(PoolSettings, String)> {
        let pool = self.pool_settings(pool_id).await?;
        if !pool.records_auth_events {
            return Err(DomainError::AddOnNotEnabled);
        }
        let user = self
            .find_user(&pool, username)
            .await?
            .ok_or(DomainError::UserNotFound)?;
        Ok((pool, user.username_key))
    }

    async fn set_feedback(
        &self,
        pool: &PoolSettings,
        username_key: &str,
        event_id: &str,
        value: &str,
        provider: &str,
    ) -> DomainResult<()> {
        let now = self.clock.now();
        if !self
            .store
            .set_event_feedback(&pool.id, username_key, event_id, value, provider, now)
            .await?
        {
            return Err(DomainError::EventNotFound);
        }
        Ok(())
    }
}
