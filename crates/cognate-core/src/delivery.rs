//! Messages as the domain hands them to a provider (`ports::MessageSender`), and what a
//! provider answers. `Debug` never shows a message's body or full address.

use std::fmt;

/// The medium a code goes out by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Medium {
    Email,
    Sms,
}

impl Medium {
    /// `"EMAIL"` / `"SMS"`, as in Cognito's `DeliveryMedium`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Medium::Email => "EMAIL",
            Medium::Sms => "SMS",
        }
    }
}

impl fmt::Display for Medium {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An email to send. `body` may be HTML (see [`crate::template::looks_like_html`]).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct EmailMessage {
    pub to: String,
    pub subject: String,
    /// May contain HTML; then it goes out as `multipart/alternative`.
    pub body: String,
    /// The pool's `EmailConfiguration.From`; overrides the server default.
    pub from: Option<String>,
    /// The pool's `EmailConfiguration.ReplyToEmailAddress`.
    pub reply_to: Option<String>,
    /// The pool's `EmailConfiguration.SourceArn` (SES `FromEmailAddressIdentityArn`).
    pub source_arn: Option<String>,
    /// The pool's `EmailConfiguration.ConfigurationSet` (SES only).
    pub configuration_set: Option<String>,
    /// `EmailConfiguration.EmailSendingAccount == DEVELOPER`: use SES when enabled.
    pub developer_account: bool,
}

impl fmt::Debug for EmailMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailMessage")
            .field("to", &cognate_crypto::mask::email(&self.to))
            .field("subject", &self.subject)
            .field(
                "body",
                &format_args!("<{} bytes redacted>", self.body.len()),
            )
            .field("from", &self.from)
            .field("reply_to", &self.reply_to)
            .field("source_arn", &self.source_arn)
            .field("configuration_set", &self.configuration_set)
            .field("developer_account", &self.developer_account)
            .finish()
    }
}

/// An SMS to send. `to` is an E.164 number (`+` and up to 15 digits).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SmsMessage {
    pub to: String,
    pub body: String,
}

impl fmt::Debug for SmsMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmsMessage")
            .field("to", &cognate_crypto::mask::phone(&self.to))
            .field(
                "body",
                &format_args!("<{} chars redacted>", self.body.chars().count()),
            )
            .finish()
    }
}

/// What a provider answered for an accepted message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// `"smtp"`, `"ses"`, `"sns"` or `"webhook"`.
    pub provider: &'static str,
    /// SMTP: the `Message-ID` header we set (with its angle brackets);
    /// SES/SNS: the service's `MessageId`; webhook: the receiver's
    /// `messageId` if it answered one, else the `id` we sent.
    pub message_id: Option<String>,
}

/// Why a message was not delivered.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DeliveryError {
    /// The provider (or our own validation) refused the message for good:
    /// SMTP 5xx, an AWS service error other than throttling/5xx, a webhook
    /// 4xx, an invalid address, an SMS over 140 characters.
    #[error("delivery rejected: {0}")]
    Rejected(String),
    /// The provider could not be reached or failed temporarily (connection
    /// refused, DNS, TLS, SMTP 4xx, HTTP 5xx, throttling). Also used by
    /// the provider's constructor for an invalid configuration, with the reason.
    #[error("delivery provider unavailable: {0}")]
    Unavailable(String),
    /// The provider did not answer within the configured timeout.
    #[error("delivery provider timed out")]
    Timeout,
    /// No provider is configured for this medium (or no From address).
    #[error("no delivery provider configured")]
    NotConfigured,
}
