//! Sending a verification code: pick the medium as AWS does, render the pool's template (or
//! the CustomMessage trigger's text), then hand it to the configured provider, or to the
//! developer outbox when none is configured for that medium. A code is reported as sent
//! only after the provider (or the outbox write) accepted it.

use std::collections::BTreeMap;

use super::hooks::{Metadata, TriggerCall};
use super::Service;
use crate::config::defaults::{
    CODE_MESSAGE as DEFAULT_CODE_MESSAGE, CODE_SUBJECT as DEFAULT_SUBJECT,
    INVITE_MESSAGE as DEFAULT_INVITE_MESSAGE, INVITE_SUBJECT as DEFAULT_INVITE_SUBJECT,
    LINK_MESSAGE as DEFAULT_LINK_MESSAGE, LINK_SUBJECT as DEFAULT_LINK_SUBJECT,
};
/// The username placeholder of invitation messages.
pub const USERNAME_PARAMETER: &str = "{username}";
use crate::delivery::{DeliveryError, EmailMessage, Medium, SmsMessage};
use crate::error::{DomainError, DomainResult};
use crate::events::LINK_PARAMETER;
use crate::records::{CodeIssue, IssueOutcome, MessageRecord};
use crate::settings::PoolSettings;
use crate::template;

/// The `provider` of a message that went to the developer outbox.
pub const OUTBOX_PROVIDER: &str = "outbox";

/// Where a code went, as CodeDeliveryDetails reports it (destination masked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeDelivery {
    pub destination: String,
    pub medium: Medium,
    pub attribute: &'static str,
}

#[derive(Clone, Debug)]
pub struct CodeTarget {
    pub attribute: &'static str,
    pub medium: Medium,
    pub to: String,
}

impl CodeTarget {
    /// A code for `attribute` (`email` by email, `phone_number` by SMS) sent to `to`.
    pub fn for_attribute(attribute: &'static str, to: &str) -> Self {
        CodeTarget {
            attribute,
            medium: if attribute == "email" {
                Medium::Email
            } else {
                Medium::Sms
            },
            to: to.to_string(),
        }
    }

    pub fn masked(&self) -> String {
        match self.medium {
            Medium::Email => cognate_crypto::mask::email(&self.to),
            Medium::Sms => cognate_crypto::mask::phone(&self.to),
        }
    }

    pub fn details(&self) -> CodeDelivery {
        CodeDelivery {
            destination: self.masked(),
            medium: self.medium,
            attribute: self.attribute,
        }
    }
}

/// When both email and phone are auto-verified and supplied, the code goes by SMS (§b.1).
pub fn choose_target(pool: &PoolSettings, attrs: &BTreeMap<String, String>) -> Option<CodeTarget> {
    if pool.auto_verifies("phone_number") {
        if let Some(phone) = attrs.get("phone_number").filter(|p| !p.is_empty()) {
            return Some(CodeTarget::for_attribute("phone_number", phone));
        }
    }
    if pool.auto_verifies("email") {
        if let Some(email) = attrs.get("email").filter(|e| !e.is_empty()) {
            return Some(CodeTarget::for_attribute("email", email));
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
    /// An AdminCreateUser invitation for this username (the pool's invitation template,
    /// `{username}` filled in, `code` the temporary password), not a verification code.
    pub invitation: Option<&'a str>,
}

/// A rendered verification message.
struct Composed {
    subject: Option<String>,
    text: String,
}

impl Service {
    async fn send_code(&self, m: CodeMessage<'_>) -> DomainResult<CodeDelivery> {
        let composed = self.compose(&m).await?;
        self.deliver(
            &m.call.caller.request_id,
            m.call.pool,
            m.call.user_name,
            m.target,
            composed,
            m.code,
        )
        .await?;
        Ok(m.target.details())
    }

    /// The outbox record of a code's message when it can be known before the code is stored:
    /// no provider carries the medium and no CustomMessage trigger shapes the text. The caller
    /// then commits it in the same transaction as the code (one write instead of two, and the
    /// code is never stored without its message) and finishes with `send_code_unless_recorded`.
    pub(super) async fn outbox_record_in_advance(
        &self,
        m: &CodeMessage<'_>,
    ) -> DomainResult<Option<MessageRecord>> {
        if self.has_provider(m.target.medium)
            || m.call
                .pool
                .lambda_arn(crate::triggers::TriggerKind::CustomMessage)
                .is_some()
        {
            return Ok(None);
        }
        let composed = self.compose(m).await?;
        Ok(Some(self.outbox_record(
            m.call.pool,
            m.call.user_name,
            m.target,
            composed,
            m.code,
        )))
    }

    /// Stores a new code (`issue`, with the code's outbox message when it can be known in
    /// advance), then sends the message; `user_gone` is the answer when the user vanished.
    pub(super) async fn issue_and_send(
        &self,
        message: CodeMessage<'_>,
        mut issue: CodeIssue,
        user_gone: DomainError,
    ) -> DomainResult<CodeDelivery> {
        issue.outbox = self.outbox_record_in_advance(&message).await?;
        let in_advance = issue.outbox.is_some();
        match self.store.issue_code(issue).await? {
            IssueOutcome::Issued => {}
            IssueOutcome::LimitExceeded => return Err(DomainError::AttemptLimit),
            IssueOutcome::UserGone => return Err(user_gone),
        }
        self.send_code_unless_recorded(message, in_advance).await
    }

    /// After the code's write: sends the message, unless its outbox record went into that
    /// write (`outbox_record_in_advance`).
    pub(super) async fn send_code_unless_recorded(
        &self,
        m: CodeMessage<'_>,
        recorded: bool,
    ) -> DomainResult<CodeDelivery> {
        if !recorded {
            return self.send_code(m).await;
        }
        log_outbox(&m.call.pool.id, m.call.user_name, m.target, m.code);
        Ok(m.target.details())
    }

    fn has_provider(&self, medium: Medium) -> bool {
        match medium {
            Medium::Email => self.sender.carries(Medium::Email),
            Medium::Sms => self.sender.carries(Medium::Sms),
        }
    }

    /// The pool's template for the medium, or the CustomMessage trigger's text, with the code
    /// (and for CONFIRM_WITH_LINK the link) filled in.
    async fn compose(&self, m: &CodeMessage<'_>) -> DomainResult<Composed> {
        let pool = m.call.pool;
        let t = &pool.verification_message_template;
        // Links confirm sign-ups only: reset and attribute codes are always codes.
        let by_link = m.target.medium == Medium::Email
            && pool.confirms_by_link()
            && matches!(
                m.trigger_source,
                "CustomMessage_SignUp" | "CustomMessage_ResendCode"
            );
        let invite = &pool.invite_message_template;
        let (mut subject, mut body) = match m.target.medium {
            Medium::Sms if m.invitation.is_some() => (
                None,
                invite
                    .sms_message
                    .clone()
                    .unwrap_or_else(|| DEFAULT_INVITE_MESSAGE.to_string()),
            ),
            Medium::Email if m.invitation.is_some() => (
                Some(
                    invite
                        .email_subject
                        .clone()
                        .unwrap_or_else(|| DEFAULT_INVITE_SUBJECT.to_string()),
                ),
                invite
                    .email_message
                    .clone()
                    .unwrap_or_else(|| DEFAULT_INVITE_MESSAGE.to_string()),
            ),
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
        let link_parameter = by_link.then_some(LINK_PARAMETER);
        if let Some(custom) = self
            .custom_message(
                &m.call,
                m.trigger_source,
                m.attrs,
                link_parameter,
                m.invitation.map(|_| USERNAME_PARAMETER),
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
        if let Some(username) = m.invitation {
            text = text.replace(USERNAME_PARAMETER, username);
        }
        if by_link {
            let url = template::confirm_link_url(
                &self.settings.link_base_url,
                m.call.client_id.unwrap_or_default(),
                m.call.user_name,
                m.code,
            );
            text = template::render_link(&text, &url);
        }
        Ok(Composed { subject, text })
    }

    async fn deliver(
        &self,
        request_id: &str,
        pool: &PoolSettings,
        username: &str,
        target: &CodeTarget,
        composed: Composed,
        code: &str,
    ) -> DomainResult<()> {
        let sent = match target.medium {
            Medium::Email if self.sender.carries(Medium::Email) => {
                let email = &pool.email_configuration;
                let mut msg = EmailMessage {
                    to: target.to.clone(),
                    subject: composed.subject.clone().unwrap_or_default(),
                    body: composed.text.clone(),
                    from: email.from.clone(),
                    reply_to: email.reply_to_email_address.clone(),
                    source_arn: email.source_arn.clone(),
                    configuration_set: email.configuration_set.clone(),
                    developer_account: pool.developer_email(),
                };
                let mut result = self.sender.send_email(&msg).await;
                if !msg.developer_account && result == Err(DeliveryError::NotConfigured) {
                    // SES is the only email provider (no SMTP): it carries the email of
                    // every pool, not only of EmailSendingAccount=DEVELOPER pools.
                    // (NotConfigured is answered before any provider is contacted.)
                    msg.developer_account = true;
                    result = self.sender.send_email(&msg).await;
                }
                Some(result)
            }
            Medium::Sms if self.sender.carries(Medium::Sms) => {
                let msg = SmsMessage {
                    to: target.to.clone(),
                    body: composed.text.clone(),
                };
                Some(self.sender.send_sms(&msg).await)
            }
            _ => None,
        };
        match sent {
            Some(Ok(receipt)) => {
                // With a real provider the body (which holds the code) is not kept.
                let record = MessageRecord {
                    provider: receipt.provider.to_string(),
                    provider_message_id: receipt.message_id,
                    body: None,
                    code: None,
                    ..self.outbox_record(pool, username, target, composed, code)
                };
                // The message is out: failing to keep its record must not tell the caller
                // that delivery failed (a retry would send a second code).
                if let Err(e) = self.store.insert_message(&record).await {
                    tracing::error!(pool = %pool.id, error = %e, "recording a delivered message");
                }
                Ok(())
            }
            Some(Err(e)) => {
                // The provider's text (hosts, accounts, OS errors) is for the log only; the
                // caller gets a fixed message.
                tracing::warn!(request_id = %request_id, pool = %pool.id, medium = target.medium.as_str(), error = %e, "code delivery failed");
                Err(DomainError::CodeDeliveryFailure)
            }
            None => {
                let record = self.outbox_record(pool, username, target, composed, code);
                self.store.insert_message(&record).await?;
                log_outbox(&pool.id, username, target, code);
                Ok(())
            }
        }
    }

    /// The message as the developer outbox keeps it (body and code included).
    fn outbox_record(
        &self,
        pool: &PoolSettings,
        username: &str,
        target: &CodeTarget,
        composed: Composed,
        code: &str,
    ) -> MessageRecord {
        MessageRecord {
            pool_id: pool.id.clone(),
            username: username.to_string(),
            medium: target.medium.as_str().to_string(),
            destination: target.masked(),
            subject: composed.subject,
            body: Some(composed.text),
            code: Some(code.to_string()),
            provider: OUTBOX_PROVIDER.to_string(),
            provider_message_id: None,
            sent_at: self.clock.now(),
        }
    }
}

/// The log line of a code that went to the outbox (no provider for its medium).
fn log_outbox(pool_id: &str, username: &str, target: &CodeTarget, code: &str) {
    tracing::info!(
        pool = %pool_id, username, medium = target.medium.as_str(),
        destination = %target.masked(), code,
        "outbox: verification code (no provider configured for this medium)"
    );
}
