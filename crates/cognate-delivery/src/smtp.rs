//! Email over SMTP with lettre (tokio, rustls).

use std::path::Path;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::{template, util, DeliveryError, EmailMessage, Receipt};

pub(crate) struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The URL with its password redacted, for Debug.
    redacted_url: String,
}

impl Smtp {
    pub(crate) fn new(
        url: &str,
        password_file: Option<&Path>,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<Self, DeliveryError> {
        let redacted_url = util::redact_url(url);
        let invalid = |e: String| {
            DeliveryError::Unavailable(format!("invalid SMTP URL '{redacted_url}': {e}"))
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| invalid(e.to_string()))?
            .timeout(Some(timeout));
        if let Some(path) = password_file {
            let password = std::fs::read_to_string(path).map_err(|e| {
                DeliveryError::Unavailable(format!(
                    "cannot read the SMTP password file {}: {e}",
                    path.display()
                ))
            })?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            let user = url_username(url).filter(|u| !u.is_empty()).ok_or_else(|| {
                invalid(
                    "an SMTP password file needs a user name in the URL (smtp://user@host)".into(),
                )
            })?;
            builder = builder.credentials(Credentials::new(user, password));
        }
        if let Some(path) = ca_file {
            builder = builder.tls(tls_with_ca(url, path).map_err(invalid)?);
        }
        Ok(Smtp {
            transport: builder.build(),
            redacted_url,
        })
    }

    pub(crate) fn describe(&self) -> &str {
        &self.redacted_url
    }

    pub(crate) async fn send(
        &self,
        msg: &EmailMessage,
        from: &Mailbox,
    ) -> Result<Receipt, DeliveryError> {
        let (email, message_id) = build_message(msg, from)?;
        match self.transport.send(email).await {
            Ok(_) => Ok(Receipt {
                provider: "smtp",
                message_id: Some(message_id),
            }),
            Err(e) => Err(map_error(&e)),
        }
    }
}

/// The URL's TLS mode, with `ca_file`'s certificates trusted besides the web roots.
fn tls_with_ca(url: &str, ca_file: &Path) -> Result<Tls, String> {
    let pem = std::fs::read(ca_file)
        .map_err(|e| format!("cannot read the SMTP CA file {}: {e}", ca_file.display()))?;
    let cert = Certificate::from_pem(&pem)
        .map_err(|e| format!("invalid SMTP CA file {}: {e}", ca_file.display()))?;
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = authority
        .rsplit_once('@')
        .map(|(_, h)| h)
        .unwrap_or(authority);
    let host = host_port
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(host_port)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let params = TlsParameters::builder(host.to_string())
        .add_root_certificate(cert)
        .build_rustls()
        .map_err(|e| format!("SMTP TLS parameters: {e}"))?;
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    Ok(if url.starts_with("smtps://") {
        Tls::Wrapper(params)
    } else if query.split('&').any(|kv| kv == "tls=required") {
        Tls::Required(params)
    } else if query.split('&').any(|kv| kv == "tls=opportunistic") {
        Tls::Opportunistic(params)
    } else {
        Tls::None
    })
}

/// The percent-decoded user name of `scheme://user[:pass]@host…`.
fn url_username(url: &str) -> Option<String> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let user = userinfo.split(':').next().unwrap_or("");
    Some(util::percent_decode(user))
}

/// Builds the message; returns it with the `Message-ID` we set.
pub(crate) fn build_message(
    msg: &EmailMessage,
    from: &Mailbox,
) -> Result<(Message, String), DeliveryError> {
    let to: Mailbox = msg
        .to
        .trim()
        .parse()
        .map_err(|e| DeliveryError::Rejected(format!("invalid destination address: {e}")))?;
    let domain = from.email.domain().to_string();
    let message_id = format!("<{}@{}>", util::new_id(), domain);
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(msg.subject.as_str())
        .message_id(Some(message_id.clone()));
    if let Some(reply_to) = msg
        .reply_to
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let reply_to: Mailbox = reply_to.parse().map_err(|e| {
            DeliveryError::Rejected(format!("invalid Reply-To address '{reply_to}': {e}"))
        })?;
        builder = builder.reply_to(reply_to);
    }
    let email = if template::looks_like_html(&msg.body) {
        builder.multipart(MultiPart::alternative_plain_html(
            template::html_to_text(&msg.body),
            msg.body.clone(),
        ))
    } else {
        builder
            .header(ContentType::TEXT_PLAIN)
            .body(msg.body.clone())
    }
    .map_err(|e| DeliveryError::Rejected(format!("cannot build the email: {e}")))?;
    Ok((email, message_id))
}

fn map_error(e: &lettre::transport::smtp::Error) -> DeliveryError {
    if e.is_timeout() {
        DeliveryError::Timeout
    } else if e.is_permanent() {
        DeliveryError::Rejected(format!("SMTP server refused the message: {e}"))
    } else if e.is_client() {
        DeliveryError::Rejected(format!("SMTP client error: {e}"))
    } else {
        // Transient (4xx), connection, network, TLS, unexpected response.
        DeliveryError::Unavailable(format!("SMTP: {}", util::error_chain(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_from_url() {
        assert_eq!(
            url_username("smtp://mailer%40example.com:pw@host:587").as_deref(),
            Some("mailer@example.com")
        );
        assert_eq!(url_username("smtp://bob@host").as_deref(), Some("bob"));
        assert_eq!(url_username("smtp://host:25"), None);
    }

    #[test]
    fn plain_and_html_messages() {
        let from: Mailbox = "Cognate <no-reply@example.com>".parse().unwrap();
        let msg = EmailMessage {
            to: "bob@example.net".into(),
            subject: "Your code".into(),
            body: "Your code is 123456".into(),
            reply_to: Some("help@example.com".into()),
            ..EmailMessage::default()
        };
        let (m, id) = build_message(&msg, &from).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(id.starts_with('<') && id.ends_with("@example.com>"));
        assert!(raw.contains(&format!("Message-ID: {id}")), "{raw}");
        assert!(raw.contains("Reply-To: help@example.com"), "{raw}");
        assert!(raw.contains("Content-Type: text/plain"), "{raw}");
        assert!(!raw.contains("multipart"), "{raw}");

        let html = EmailMessage {
            body: "<p>Your code is <b>123456</b></p>".into(),
            ..msg.clone()
        };
        let (m, _) = build_message(&html, &from).unwrap();
        let raw = String::from_utf8(m.formatted()).unwrap();
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("text/html") && raw.contains("text/plain"),
            "{raw}"
        );

        let bad = EmailMessage {
            to: "not an address".into(),
            ..msg
        };
        assert!(matches!(
            build_message(&bad, &from),
            Err(DeliveryError::Rejected(_))
        ));
    }
}
