//! Sending a verification code: pick the medium as AWS does, render the pool's template (or
//! the CustomMessage trigger's text), then hand it to the configured provider, or to the
//! developer outbox when none is configured for that medium. A code is reported as sent
//! only after the provider (or the outbox write) accepted it.

use std::collections::BTreeMap;

use cognate_delivery::{template, DeliveryError, EmailMessage, Medium, SmsMessage};
use cognate_wire::ApiError;
use serde_json::{json, Value};

use super::hooks::{Metadata, TriggerCall};
use super::settings::PoolSettings;
use super::Service;
use crate::errors::{self, OrWire};
use crate::store::MessageRecord;

const DEFAULT_CODE_MESSAGE: &str = "Your verification code is {####}. ";
const DEFAULT_SUBJECT: &str = "Your verification code";
const DEFAULT_LINK_MESSAGE: &str =
    "Please click the link below to verify your email address. {##Verify Email##} ";
const DEFAULT_LINK_SUBJECT: &str = "Your verification link";

#[derive(Clone, Debug)]
pub struct CodeTarget {
    pub attribute: &'static str,
    pub medium: Medium,
    pub to: String,
}

impl CodeTarget {
    pub fn masked(&self) -> String {
        match self.medium {
            Medium::Email => cognate_crypto::mask::email(&self.to),
            Medium::Sms => cognate_crypto::mask::phone(&self.to),
        }
    }

    pub fn details(&self) -> Value {
        json!({
            "Destination": self.masked(),
            "DeliveryMedium": self.medium.as_str(),
            "AttributeName": self.attribute,
        })
    }
}

/// When both email and phone are auto-verified and supplied, the code goes by SMS (§b.1).
pub fn choose_target(pool: &PoolSettings, attrs: &BTreeMap<String, String>) -> Option<CodeTarget> {
    if pool.auto_verifies("phone_number") {
        if let Some(phone) = attrs.get("phone_number").filter(|p| !p.is_empty()) {
            return Some(CodeTarget {
                attribute: "phone_number",
                medium: Medium::Sms,
                to: phone.clone(),
            });
        }
    }
    if pool.auto_verifies("email") {
        if let Some(email) = attrs.get("email").filter(|e| !e.is_empty()) {
            return Some(CodeTarget {
                attribute: "email",
                medium: Medium::Email,
                to: email.clone(),
            });
        }
    }
    None
}

pub struct CodeMessage<'a> {
    pub call: TriggerCall<'a>,
    pub trigger_source: &'static str,
    pub attrs: &'a BTreeMap<String, String>,
    pub target: &'a CodeTarget,
    pub code: &'a str,
    pub client_metadata: Option<&'a Metadata>,
}

impl Service {
    pub(super) async fn send_code(&self, m: CodeMessage<'_>) -> Result<Value, ApiError> {
        let pool = m.call.pool;
        let t = &pool.verification_message_template;
        let by_link = m.target.medium == Medium::Email
            && t.default_email_option.as_deref() == Some("CONFIRM_WITH_LINK");
        let (mut subject, mut body) = match m.target.medium {
            Medium::Sms => (
                None,
                t.sms_message
                    .clone()
                    .or_else(|| pool.sms_verification_message.clone())
                    .unwrap_or_else(|| DEFAULT_CODE_MESSAGE.to_string()),
            ),
            Medium::Email if by_link => (
                Some(
                    t.email_subject_by_link
                        .clone()
                        .unwrap_or_else(|| DEFAULT_LINK_SUBJECT.to_string()),
                ),
                t.email_message_by_link
                    .clone()
                    .unwrap_or_else(|| DEFAULT_LINK_MESSAGE.to_string()),
            ),
            Medium::Email => (
                Some(
                    t.email_subject
                        .clone()
                        .or_else(|| pool.email_verification_subject.clone())
                        .unwrap_or_else(|| DEFAULT_SUBJECT.to_string()),
                ),
                t.email_message
                    .clone()
                    .or_else(|| pool.email_verification_message.clone())
                    .unwrap_or_else(|| DEFAULT_CODE_MESSAGE.to_string()),
            ),
        };
        let link_parameter = by_link.then_some("{##Click Here##}");
        if let Some(custom) = self
            .custom_message(
                &m.call,
                m.trigger_source,
                m.attrs,
                link_parameter,
                m.client_metadata,
            )
            .await?
        {
            match m.target.medium {
                Medium::Sms => {
                    if let Some(sms) = custom.sms_message {
                        body = sms;
                    }
                }
                Medium::Email => {
                    if let Some(email) = custom.email_message {
                        body = email;
                    }
                    if let Some(s) = custom.email_subject {
                        subject = Some(s);
                    }
                }
            }
        }
        let mut text = template::render_code(&body, m.code);
        if by_link {
            let url = template::confirm_link_url(
                &self.settings.link_base_url,
                m.call.client_id.unwrap_or_default(),
                m.call.user_name,
                m.code,
            );
            text = template::render_link(&text, &url);
        }
        self.deliver(pool, m.call.user_name, m.target, subject, text, m.code)
            .await?;
        Ok(m.target.details())
    }

    async fn deliver(
        &self,
        pool: &PoolSettings,
        username: &str,
        target: &CodeTarget,
        subject: Option<String>,
        body: String,
        code: &str,
    ) -> Result<(), ApiError> {
        let now = self.clock.now();
        let mut record = MessageRecord {
            pool_id: pool.id.clone(),
            username: username.to_string(),
            medium: target.medium.as_str().to_string(),
            destination: target.masked(),
            subject: subject.clone(),
            body: None,
            code: None,
            provider: "outbox".to_string(),
            provider_message_id: None,
            sent_at: now,
        };
        let sent = match target.medium {
            Medium::Email if self.deliverer.has_email() => {
                let email = &pool.email_configuration;
                let mut msg = EmailMessage {
                    to: target.to.clone(),
                    subject: subject.unwrap_or_default(),
                    body: body.clone(),
                    from: email.from.clone(),
                    reply_to: email.reply_to_email_address.clone(),
                    source_arn: email.source_arn.clone(),
                    configuration_set: email.configuration_set.clone(),
                    developer_account: pool.developer_email(),
                };
                let mut result = self.deliverer.send_email(&msg).await;
                if !msg.developer_account && result == Err(DeliveryError::NotConfigured) {
                    // SES is the only email provider (no SMTP): it carries the email of
                    // every pool, not only of EmailSendingAccount=DEVELOPER pools.
                    // (NotConfigured is answered before any provider is contacted.)
                    msg.developer_account = true;
                    result = self.deliverer.send_email(&msg).await;
                }
                Some(result)
            }
            Medium::Sms if self.deliverer.has_sms() => {
                let msg = SmsMessage {
                    to: target.to.clone(),
                    body: body.clone(),
                };
                Some(self.deliverer.send_sms(&msg).await)
            }
            _ => None,
        };
        match sent {
            Some(Ok(receipt)) => {
                // With a real provider the body (which holds the code) is not kept.
                record.provider = receipt.provider.to_string();
                record.provider_message_id = receipt.message_id;
                // The message is out: failing to keep its record must not tell the caller
                // that delivery failed (a retry would send a second code).
                if let Err(e) = self.store.insert_message(&record).await {
                    tracing::error!(pool = %pool.id, error = %e, "recording a delivered message");
                }
                return Ok(());
            }
            Some(Err(e)) => {
                tracing::warn!(pool = %pool.id, medium = target.medium.as_str(), error = %e, "code delivery failed");
                return Err(errors::code_delivery_failure(&e.to_string()));
            }
            None => {
                tracing::info!(
                    pool = %pool.id, username, medium = target.medium.as_str(),
                    destination = %record.destination, code,
                    "outbox: verification code (no provider configured for this medium)"
                );
                record.body = Some(body);
                record.code = Some(code.to_string());
            }
        }
        self.store.insert_message(&record).await.or_wire()
    }
}
