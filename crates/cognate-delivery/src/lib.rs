//! Code delivery providers for Cognate: email over SMTP (lettre) or Amazon
//! SES v2, SMS through the SNS `Publish` API or a signed HTTPS webhook, and
//! the template rendering Cognito applies to verification messages.
//!
//! The server decides *when* to send and keeps the outbox; this crate only
//! talks to providers. Every provider call is bounded by
//! [`DeliveryConfig::timeout`]; failures are reported as
//! [`DeliveryError::Rejected`] (the provider refused: permanent),
//! [`DeliveryError::Unavailable`] (unreachable or temporarily failing),
//! [`DeliveryError::Timeout`] or [`DeliveryError::NotConfigured`].
//!
//! Secrets (SMTP password, webhook secret, AWS keys) and message bodies
//! (which carry codes) are never logged; `Debug` for the config and the
//! messages redacts them.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

mod aws;
mod smtp;
pub use cognate_core::delivery::{DeliveryError, EmailMessage, Medium, Receipt, SmsMessage};
/// Template rendering is the domain's (it runs before a message is stored); re-exported for
/// the providers' HTML handling.
pub use cognate_core::template;
mod util;
mod webhook;

pub use webhook::{
    SIGNATURE_HEADER as WEBHOOK_SIGNATURE_HEADER, TIMESTAMP_HEADER as WEBHOOK_TIMESTAMP_HEADER,
};

#[cfg(feature = "test-support")]
pub mod test_support;

/// Which SMS sender to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SmsSenderKind {
    #[default]
    None,
    /// SNS `Publish` (SigV4, standard AWS configuration).
    Sns,
    /// JSON POST to [`DeliveryConfig::sms_webhook_url`], HMAC-signed.
    Webhook,
}

impl SmsSenderKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SmsSenderKind::None => "none",
            SmsSenderKind::Sns => "sns",
            SmsSenderKind::Webhook => "webhook",
        }
    }
}

impl std::str::FromStr for SmsSenderKind {
    type Err = String;
    /// `none` (or empty), `sns`, `webhook`; case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "" | "none" | "off" => Ok(SmsSenderKind::None),
            "sns" => Ok(SmsSenderKind::Sns),
            "webhook" => Ok(SmsSenderKind::Webhook),
            other => Err(format!(
                "unknown SMS sender '{other}' (expected none, sns or webhook)"
            )),
        }
    }
}

/// Provider settings. `Debug` redacts the SMTP password (in the URL) and
/// the webhook secret.
#[derive(Clone)]
pub struct DeliveryConfig {
    /// lettre's URL form: `smtp://user:pass@host:587?tls=required`
    /// (STARTTLS), `smtps://user:pass@host` (implicit TLS, port 465),
    /// `smtp://127.0.0.1:2525` (plain). Setting it enables SMTP.
    pub smtp_url: Option<String>,
    /// A file holding the SMTP password (trailing newline trimmed); overrides
    /// the URL's password. The URL must then carry the user name.
    pub smtp_password_file: Option<PathBuf>,
    /// A PEM file of CA certificates trusted for SMTP TLS (STARTTLS or smtps) besides the
    /// public web roots: for a mail server with a private CA.
    pub smtp_ca_file: Option<PathBuf>,
    /// Default From: `"Name <addr>"` or `"addr"`.
    pub email_from: Option<String>,
    /// Use SES v2 `SendEmail` for pools with `EmailSendingAccount=DEVELOPER`.
    pub ses: bool,
    pub sms_sender: SmsSenderKind,
    pub sms_webhook_url: Option<String>,
    pub sms_webhook_secret: Option<String>,
    /// Bound on every provider call (default 5 s).
    pub timeout: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            smtp_url: None,
            smtp_password_file: None,
            smtp_ca_file: None,
            email_from: None,
            ses: false,
            sms_sender: SmsSenderKind::None,
            sms_webhook_url: None,
            sms_webhook_secret: None,
            timeout: Duration::from_secs(5),
        }
    }
}

impl fmt::Debug for DeliveryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeliveryConfig")
            .field("smtp_url", &self.smtp_url.as_deref().map(util::redact_url))
            .field("smtp_password_file", &self.smtp_password_file)
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("email_from", &self.email_from)
            .field("ses", &self.ses)
            .field("sms_sender", &self.sms_sender)
            .field(
                "sms_webhook_url",
                &self.sms_webhook_url.as_deref().map(util::redact_url),
            )
            .field(
                "sms_webhook_secret",
                &self.sms_webhook_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The configured providers. Cheap to share (`Arc` it); all methods take `&self`.
pub struct Deliverer {
    timeout: Duration,
    email_from: Option<lettre::message::Mailbox>,
    smtp: Option<smtp::Smtp>,
    ses: Option<aws_sdk_sesv2::Client>,
    sns: Option<aws_sdk_sns::Client>,
    webhook: Option<webhook::Webhook>,
    sms_sender: SmsSenderKind,
}

impl fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deliverer")
            .field("timeout", &self.timeout)
            .field(
                "email_from",
                &self.email_from.as_ref().map(|m| m.to_string()),
            )
            .field("smtp", &self.smtp.as_ref().map(|s| s.describe()))
            .field("ses", &self.ses.is_some())
            .field("sns", &self.sns.is_some())
            .field("webhook", &self.webhook.as_ref().map(|w| w.describe()))
            .field("sms_sender", &self.sms_sender)
            .finish()
    }
}

impl Deliverer {
    /// Builds the providers and validates the configuration: a bad SMTP URL,
    /// an unreadable password file, an invalid From address, a webhook
    /// without URL or secret, or SNS/SES without an AWS region fail here
    /// (as [`DeliveryError::Unavailable`] with the reason), not at send time.
    ///
    /// When SNS or SES is enabled, the AWS configuration is loaded the
    /// standard way (`aws_config::load_defaults`): `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`, profiles,
    /// `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_SNS`, `AWS_ENDPOINT_URL_SESV2`.
    pub async fn new(cfg: DeliveryConfig) -> Result<Self, DeliveryError> {
        let sdk = if cfg.ses || cfg.sms_sender == SmsSenderKind::Sns {
            Some(aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await)
        } else {
            None
        };
        Self::build(cfg, sdk)
    }

    /// Like [`Deliverer::new`] but with an explicit AWS configuration for
    /// SNS/SES instead of the environment (tests, embedding).
    pub async fn with_sdk_config(
        cfg: DeliveryConfig,
        sdk: aws_config::SdkConfig,
    ) -> Result<Self, DeliveryError> {
        Self::build(cfg, Some(sdk))
    }

    fn build(
        cfg: DeliveryConfig,
        sdk: Option<aws_config::SdkConfig>,
    ) -> Result<Self, DeliveryError> {
        let invalid = |msg: String| DeliveryError::Unavailable(msg);
        if cfg.timeout.is_zero() {
            return Err(invalid("the delivery timeout must be positive".into()));
        }
        let email_from = match cfg.email_from.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => Some(
                s.parse::<lettre::message::Mailbox>()
                    .map_err(|e| invalid(format!("invalid email From address '{s}': {e}")))?,
            ),
            _ => None,
        };
        let smtp = match cfg.smtp_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => Some(smtp::Smtp::new(
                url,
                cfg.smtp_password_file.as_deref(),
                cfg.smtp_ca_file.as_deref(),
                cfg.timeout,
            )?),
            _ => None,
        };
        let needs_aws = cfg.ses || cfg.sms_sender == SmsSenderKind::Sns;
        let sdk = if needs_aws {
            let sdk = sdk.ok_or_else(|| invalid("no AWS configuration".into()))?;
            if sdk.region().is_none() {
                return Err(invalid(
                    "SNS/SES delivery needs an AWS region (set AWS_REGION or a profile region)"
                        .into(),
                ));
            }
            Some(sdk)
        } else {
            None
        };
        let ses = match (&sdk, cfg.ses) {
            (Some(sdk), true) => Some(aws::ses_client(sdk, cfg.timeout)),
            _ => None,
        };
        let sns = match (&sdk, cfg.sms_sender) {
            (Some(sdk), SmsSenderKind::Sns) => Some(aws::sns_client(sdk, cfg.timeout)),
            _ => None,
        };
        let webhook = if cfg.sms_sender == SmsSenderKind::Webhook {
            let url = cfg
                .sms_webhook_url
                .as_deref()
                .filter(|u| !u.trim().is_empty())
                .ok_or_else(|| invalid("the SMS webhook sender needs a webhook URL".into()))?;
            let secret = cfg
                .sms_webhook_secret
                .as_deref()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| invalid("the SMS webhook sender needs a signing secret".into()))?;
            Some(webhook::Webhook::new(url.trim(), secret, cfg.timeout)?)
        } else {
            None
        };
        Ok(Deliverer {
            timeout: cfg.timeout,
            email_from,
            smtp,
            ses,
            sns,
            webhook,
            sms_sender: cfg.sms_sender,
        })
    }

    /// Whether some email provider (SMTP or SES) is configured.
    pub fn has_email(&self) -> bool {
        self.smtp.is_some() || self.ses.is_some()
    }

    /// Whether an SMS sender (SNS or webhook) is configured.
    pub fn has_sms(&self) -> bool {
        self.sns.is_some() || self.webhook.is_some()
    }

    /// Sends an email: through SES when it is enabled and the message is for
    /// a developer-account pool, otherwise through SMTP. `msg.from` (the
    /// pool's From) overrides the configured default; with neither,
    /// [`DeliveryError::NotConfigured`].
    pub async fn send_email(&self, msg: &EmailMessage) -> Result<Receipt, DeliveryError> {
        let result = if let (true, Some(ses)) = (msg.developer_account, &self.ses) {
            let from = self.sender_for(msg)?;
            with_timeout(self.timeout, aws::send_ses(ses, msg, &from)).await
        } else if let Some(smtp) = &self.smtp {
            let from = self.sender_for(msg)?;
            with_timeout(self.timeout, smtp.send(msg, &from)).await
        } else {
            Err(DeliveryError::NotConfigured)
        };
        log_outcome(Medium::Email, &util::mask_email(&msg.to), &result);
        result
    }

    /// Sends an SMS through the configured sender. The body must be at most
    /// 140 characters and `to` an E.164 number, else
    /// [`DeliveryError::Rejected`] without contacting the provider.
    pub async fn send_sms(&self, msg: &SmsMessage) -> Result<Receipt, DeliveryError> {
        let result = self.send_sms_inner(msg).await;
        log_outcome(Medium::Sms, &util::mask_phone(&msg.to), &result);
        result
    }

    async fn send_sms_inner(&self, msg: &SmsMessage) -> Result<Receipt, DeliveryError> {
        if !self.has_sms() {
            return Err(DeliveryError::NotConfigured);
        }
        let len = msg.body.chars().count();
        if len > MAX_SMS_CHARS {
            return Err(DeliveryError::Rejected(format!(
                "SMS message is {len} characters; at most {MAX_SMS_CHARS} are allowed"
            )));
        }
        if msg.body.trim().is_empty() {
            return Err(DeliveryError::Rejected("SMS message is empty".into()));
        }
        if !util::is_e164(&msg.to) {
            return Err(DeliveryError::Rejected(
                "SMS destination is not an E.164 phone number".into(),
            ));
        }
        match (self.sms_sender, &self.sns, &self.webhook) {
            (SmsSenderKind::Sns, Some(sns), _) => {
                with_timeout(self.timeout, aws::publish_sms(sns, msg)).await
            }
            (SmsSenderKind::Webhook, _, Some(hook)) => {
                with_timeout(self.timeout, hook.send(msg)).await
            }
            _ => Err(DeliveryError::NotConfigured),
        }
    }

    fn sender_for(&self, msg: &EmailMessage) -> Result<lettre::message::Mailbox, DeliveryError> {
        match msg.from.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => s
                .parse::<lettre::message::Mailbox>()
                .map_err(|e| DeliveryError::Rejected(format!("invalid From address '{s}': {e}"))),
            _ => self.email_from.clone().ok_or(DeliveryError::NotConfigured),
        }
    }
}

/// Longest SMS body accepted (Cognito's `SmsMessage` limit).
pub const MAX_SMS_CHARS: usize = 140;

async fn with_timeout<F>(timeout: Duration, fut: F) -> Result<Receipt, DeliveryError>
where
    F: std::future::Future<Output = Result<Receipt, DeliveryError>>,
{
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(DeliveryError::Timeout),
    }
}

fn log_outcome(medium: Medium, masked_to: &str, result: &Result<Receipt, DeliveryError>) {
    match result {
        Ok(r) => tracing::info!(
            medium = medium.as_str(),
            provider = r.provider,
            to = masked_to,
            message_id = r.message_id.as_deref().unwrap_or(""),
            "code delivered"
        ),
        Err(e) => tracing::warn!(
            medium = medium.as_str(),
            to = masked_to,
            error = %e,
            "code delivery failed"
        ),
    }
}

/// The domain's port for message delivery.
#[async_trait::async_trait]
impl cognate_core::ports::MessageSender for Deliverer {
    fn carries(&self, medium: Medium) -> bool {
        match medium {
            Medium::Email => self.has_email(),
            Medium::Sms => self.has_sms(),
        }
    }

    async fn send_email(&self, message: &EmailMessage) -> Result<Receipt, DeliveryError> {
        Deliverer::send_email(self, message).await
    }

    async fn send_sms(&self, message: &SmsMessage) -> Result<Receipt, DeliveryError> {
        Deliverer::send_sms(self, message).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_redacts_secrets_and_bodies() {
        let cfg = DeliveryConfig {
            smtp_url: Some("smtp://mailer:hunter2@mail.example.com:587?tls=required".into()),
            sms_webhook_url: Some("https://hooks.example.com/sms".into()),
            sms_webhook_secret: Some("s3cr3t-webhook".into()),
            ..DeliveryConfig::default()
        };
        let dbg = format!("{cfg:?}");
        assert!(!dbg.contains("hunter2"), "{dbg}");
        assert!(!dbg.contains("s3cr3t-webhook"), "{dbg}");
        assert!(dbg.contains("mailer"), "{dbg}");
        assert!(dbg.contains("mail.example.com:587"), "{dbg}");

        let msg = EmailMessage {
            to: "alice@example.com".into(),
            subject: "Your code".into(),
            body: "code 314159".into(),
            ..EmailMessage::default()
        };
        let dbg = format!("{msg:?}");
        assert!(!dbg.contains("314159"), "{dbg}");
        assert!(!dbg.contains("alice@"), "{dbg}");
        let sms = SmsMessage {
            to: "+15551234567".into(),
            body: "code 271828".into(),
        };
        let dbg = format!("{sms:?}");
        assert!(!dbg.contains("271828") && !dbg.contains("5551234"), "{dbg}");
    }

    #[test]
    fn default_config_and_names() {
        let cfg = DeliveryConfig::default();
        assert_eq!(cfg.timeout, Duration::from_secs(5));
        assert_eq!(cfg.sms_sender, SmsSenderKind::None);
        assert!(!cfg.ses && cfg.smtp_url.is_none());
        assert_eq!(Medium::Email.as_str(), "EMAIL");
        assert_eq!(Medium::Sms.as_str(), "SMS");
        assert_eq!("SNS".parse::<SmsSenderKind>(), Ok(SmsSenderKind::Sns));
        assert_eq!(
            "webhook".parse::<SmsSenderKind>(),
            Ok(SmsSenderKind::Webhook)
        );
        assert_eq!("none".parse::<SmsSenderKind>(), Ok(SmsSenderKind::None));
        assert!("pigeon".parse::<SmsSenderKind>().is_err());
    }

    #[tokio::test]
    async fn configuration_is_validated_at_startup() {
        // Unknown scheme.
        let err = Deliverer::new(DeliveryConfig {
            smtp_url: Some("http://mail.example.com".into()),
            ..DeliveryConfig::default()
        })
        .await
        .unwrap_err();
        assert!(
            matches!(err, DeliveryError::Unavailable(ref m) if m.contains("SMTP")),
            "{err}"
        );
        // Not a URL at all.
        assert!(Deliverer::new(DeliveryConfig {
            smtp_url: Some("not a url".into()),
            ..DeliveryConfig::default()
        })
        .await
        .is_err());
        // Bad From.
        assert!(Deliverer::new(DeliveryConfig {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            email_from: Some("not an address".into()),
            ..DeliveryConfig::default()
        })
        .await
        .is_err());
        // Password file that does not exist.
        assert!(Deliverer::new(DeliveryConfig {
            smtp_url: Some("smtp://user@127.0.0.1:2525".into()),
            smtp_password_file: Some("/nonexistent/cognate-smtp-password".into()),
            ..DeliveryConfig::default()
        })
        .await
        .is_err());
        // Webhook without secret.
        assert!(Deliverer::new(DeliveryConfig {
            sms_sender: SmsSenderKind::Webhook,
            sms_webhook_url: Some("http://127.0.0.1:9/sms".into()),
            ..DeliveryConfig::default()
        })
        .await
        .is_err());
        // Webhook with a bad URL.
        assert!(Deliverer::new(DeliveryConfig {
            sms_sender: SmsSenderKind::Webhook,
            sms_webhook_url: Some("ftp://x".into()),
            sms_webhook_secret: Some("k".into()),
            ..DeliveryConfig::default()
        })
        .await
        .is_err());
        // SNS without a region.
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let err = Deliverer::with_sdk_config(
            DeliveryConfig {
                sms_sender: SmsSenderKind::Sns,
                ..DeliveryConfig::default()
            },
            sdk,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, DeliveryError::Unavailable(ref m) if m.contains("region")),
            "{err}"
        );

        // A valid plain configuration.
        let d = Deliverer::new(DeliveryConfig {
            smtp_url: Some("smtp://127.0.0.1:2525".into()),
            email_from: Some("Cognate <no-reply@example.com>".into()),
            ..DeliveryConfig::default()
        })
        .await
        .unwrap();
        assert!(d.has_email());
        assert!(!d.has_sms());
    }

    #[tokio::test]
    async fn nothing_configured_means_not_configured() {
        let d = Deliverer::new(DeliveryConfig::default()).await.unwrap();
        assert!(!d.has_email() && !d.has_sms());
        let email = EmailMessage {
            to: "a@example.com".into(),
            subject: "s".into(),
            body: "b".into(),
            ..EmailMessage::default()
        };
        assert_eq!(
            d.send_email(&email).await,
            Err(DeliveryError::NotConfigured)
        );
        let sms = SmsMessage {
            to: "+15550001111".into(),
            body: "b".into(),
        };
        assert_eq!(d.send_sms(&sms).await, Err(DeliveryError::NotConfigured));
    }

    #[tokio::test]
    async fn smtp_without_any_from_is_not_configured() {
        let d = Deliverer::new(DeliveryConfig {
            smtp_url: Some("smtp://127.0.0.1:9".into()),
            ..DeliveryConfig::default()
        })
        .await
        .unwrap();
        let email = EmailMessage {
            to: "a@example.com".into(),
            subject: "s".into(),
            body: "b".into(),
            ..EmailMessage::default()
        };
        assert_eq!(
            d.send_email(&email).await,
            Err(DeliveryError::NotConfigured)
        );
    }
}
