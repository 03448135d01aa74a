//! Lambda triggers as the sign-up flow sees them: build the event, invoke the pool's
//! function if one is configured, and map failures to the wire (spec §d). ClientMetadata
//! flows through here to the function and nowhere else.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Caller, Service};
use crate::error::{DomainError, DomainResult};
use crate::events::{self, EventContext, CODE_PARAMETER};
use crate::settings::PoolSettings;
use crate::triggers::{TriggerError, TriggerKind};

pub type Metadata = BTreeMap<String, String>;

pub struct TriggerCall<'a> {
    pub caller: &'a Caller,
    pub pool: &'a PoolSettings,
    pub client_id: Option<&'a str>,
    pub user_name: &'a str,
}

fn trigger_error(kind: TriggerKind, failure: TriggerError) -> DomainError {
    DomainError::Trigger { kind, failure }
}

impl Service {
    pub(super) fn event_context(&self, call: &TriggerCall<'_>, source: &str) -> EventContext {
        EventContext {
            trigger_source: source.to_string(),
            region: self.settings.region.clone(),
            user_pool_id: call.pool.id.clone(),
            user_name: call.user_name.to_string(),
            client_id: call.client_id.map(str::to_string),
            user_agent: call.caller.user_agent.clone(),
        }
    }

    pub(super) async fn invoke(
        &self,
        kind: TriggerKind,
        arn: &str,
        event: &Value,
    ) -> DomainResult<Value> {
        self.triggers
            .invoke(kind, arn, event)
            .await
            .map_err(|e| trigger_error(kind, e))
    }

    pub(super) async fn pre_sign_up(
        &self,
        call: &TriggerCall<'_>,
        attrs: &BTreeMap<String, String>,
        validation_data: Option<&BTreeMap<String, String>>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<Option<events::PreSignUpResponse>> {
        self.pre_sign_up_from(
            call,
            "PreSignUp_SignUp",
            attrs,
            validation_data,
            client_metadata,
        )
        .await
    }

    /// PreSignUp with its trigger source (`PreSignUp_AdminCreateUser`, whose answer is
    /// ignored but whose error refuses the user).
    pub(super) async fn pre_sign_up_from(
        &self,
        call: &TriggerCall<'_>,
        source: &str,
        attrs: &BTreeMap<String, String>,
        validation_data: Option<&BTreeMap<String, String>>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<Option<events::PreSignUpResponse>> {
        let Some(arn) = call.pool.lambda_arn(TriggerKind::PreSignUp) else {
            return Ok(None);
        };
        let kind = TriggerKind::PreSignUp;
        let event = events::pre_sign_up(
            &self.event_context(call, source),
            attrs,
            validation_data,
            client_metadata,
        );
        let out = self.invoke(kind, arn, &event).await?;
        events::parse_pre_sign_up(&out)
            .map(Some)
            .map_err(|e| trigger_error(kind, e))
    }

    pub(super) async fn custom_message(
        &self,
        call: &TriggerCall<'_>,
        source: &str,
        attrs: &BTreeMap<String, String>,
        link_parameter: Option<&str>,
        username_parameter: Option<&str>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<Option<events::CustomMessageResponse>> {
        let Some(arn) = call.pool.lambda_arn(TriggerKind::CustomMessage) else {
            return Ok(None);
        };
        let kind = TriggerKind::CustomMessage;
        let event = events::custom_message(
            &self.event_context(call, source),
            attrs,
            CODE_PARAMETER,
            link_parameter,
            username_parameter,
            client_metadata,
        );
        let out = self.invoke(kind, arn, &event).await?;
        events::parse_custom_message(&out, call.pool.developer_email())
            .map(Some)
            .map_err(|e| trigger_error(kind, e))
    }

    /// Runs after the confirmation has committed: a failure is reported, but the user stays
    /// confirmed (as on AWS).
    pub(super) async fn post_confirmation(
        &self,
        call: &TriggerCall<'_>,
        attrs: &BTreeMap<String, String>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<()> {
        self.post_confirmation_from(
            call,
            "PostConfirmation_ConfirmSignUp",
            attrs,
            client_metadata,
        )
        .await
    }

    /// PostConfirmation with its trigger source (`PostConfirmation_ConfirmForgotPassword`
    /// after a password reset).
    pub(super) async fn post_confirmation_from(
        &self,
        call: &TriggerCall<'_>,
        source: &str,
        attrs: &BTreeMap<String, String>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<()> {
        let Some(arn) = call.pool.lambda_arn(TriggerKind::PostConfirmation) else {
            return Ok(());
        };
        let event =
            events::post_confirmation(&self.event_context(call, source), attrs, client_metadata);
        self.invoke(TriggerKind::PostConfirmation, arn, &event)
            .await
            .map(|_| ())
    }

    /// PreAuthentication, before the password or SRP proof is looked at. `user_not_found` is
    /// given (true or false) only for a client that hides user existence.
    pub(super) async fn pre_authentication(
        &self,
        call: &TriggerCall<'_>,
        attrs: &BTreeMap<String, String>,
        client_metadata: Option<&Metadata>,
        user_not_found: Option<bool>,
    ) -> DomainResult<()> {
        let Some(arn) = call.pool.lambda_arn(TriggerKind::PreAuthentication) else {
            return Ok(());
        };
        let event = events::pre_authentication(
            &self.event_context(call, "PreAuthentication_Authentication"),
            attrs,
            client_metadata,
            user_not_found,
        );
        self.invoke(TriggerKind::PreAuthentication, arn, &event)
            .await
            .map(|_| ())
    }

    /// PostAuthentication, after a successful authentication and before tokens; a failure
    /// means no tokens.
    pub(super) async fn post_authentication(
        &self,
        call: &TriggerCall<'_>,
        attrs: &BTreeMap<String, String>,
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<()> {
        let Some(arn) = call.pool.lambda_arn(TriggerKind::PostAuthentication) else {
            return Ok(());
        };
        let event = events::post_authentication(
            &self.event_context(call, "PostAuthentication_Authentication"),
            attrs,
            client_metadata,
        );
        self.invoke(TriggerKind::PostAuthentication, arn, &event)
            .await
            .map(|_| ())
    }

    /// PreTokenGeneration: what the function asks to change in the tokens (nothing when the
    /// pool has none).
    pub(super) async fn pre_token_generation(
        &self,
        call: &TriggerCall<'_>,
        source: &str,
        attrs: &BTreeMap<String, String>,
        groups: &events::GroupOverride,
        scopes: &[String],
        client_metadata: Option<&Metadata>,
    ) -> DomainResult<events::TokenOverrides> {
        let Some((arn, version)) = call.pool.pre_token_generation() else {
            return Ok(events::TokenOverrides::default());
        };
        let kind = TriggerKind::PreTokenGeneration;
        let event = events::pre_token_generation(
            &self.event_context(call, source),
            version,
            attrs,
            groups,
            scopes,
            client_metadata,
        );
        let out = self.invoke(kind, arn, &event).await?;
        events::parse_pre_token_generation(version, &out).map_err(|e| trigger_error(kind, e))
    }
}
