//! Email over SMTP against a real SMTP server (aiosmtpd, see
//! tests/support/smtp_sink.py), plus the network fault cases.

use std::time::{Duration, Instant};

use cognate_delivery::test_support::{
    closed_port, python_with_aiosmtpd, BlackHole, SmtpSink, SmtpSinkOptions,
};
use cognate_delivery::{Deliverer, DeliveryConfig, DeliveryError, EmailMessage};

fn have_python() -> bool {
    if python_with_aiosmtpd().is_some() {
        true
    } else {
        println!("SKIPPED: no python with aiosmtpd (set COGNATE_TEST_PYTHON or create .venv)");
        false
    }
}

fn cfg(url: String) -> DeliveryConfig {
    DeliveryConfig {
        smtp_url: Some(url),
        email_from: Some("Cognate Test <no-reply@cognate.test>".into()),
        timeout: Duration::from_secs(5),
        ..DeliveryConfig::default()
    }
}

fn message(to: &str, subject: &str, body: &str) -> EmailMessage {
    EmailMessage {
        to: to.into(),
        subject: subject.into(),
        body: body.into(),
        ..EmailMessage::default()
    }
}

#[tokio::test]
async fn plain_text_email_arrives_with_its_headers() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).unwrap();
    let d = Deliverer::new(cfg(sink.url())).await.unwrap();
    assert!(d.has_email());

    let mut msg = message(
        "alice@example.com",
        "Your verification code",
        "Your verification code is 482913.",
    );
    msg.reply_to = Some("Support <support@cognate.test>".into());
    let receipt = d.send_email(&msg).await.unwrap();
    assert_eq!(receipt.provider, "smtp");

    let mails = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    let m = &mails[0];
    assert_eq!(m.mail_from, "no-reply@cognate.test");
    assert_eq!(m.rcpt_tos, vec!["alice@example.com".to_string()]);
    assert_eq!(
        m.header("From"),
        Some("Cognate Test <no-reply@cognate.test>")
    );
    assert_eq!(m.header("To"), Some("alice@example.com"));
    assert_eq!(m.header("Subject"), Some("Your verification code"));
    assert_eq!(m.header("Reply-To"), Some("Support <support@cognate.test>"));
    assert_eq!(m.header("Message-ID"), receipt.message_id.as_deref());
    assert!(m.header("Date").is_some());
    assert_eq!(m.content_type, "text/plain");
    assert_eq!(m.parts.len(), 1);
    assert_eq!(
        m.part("text/plain").map(str::trim_end),
        Some("Your verification code is 482913.")
    );
    // The raw message is there too.
    assert!(
        m.raw.contains("Subject: Your verification code"),
        "{}",
        m.raw
    );

    // The pool's From overrides the default; no Reply-To when none given.
    let mut msg = message("bob@example.net", "Código", "Tu código es 771100");
    msg.from = Some("Pool Sender <pool@example.org>".into());
    let receipt = d.send_email(&msg).await.unwrap();
    let mails = sink.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 2);
    let m = &mails[1];
    assert_eq!(m.mail_from, "pool@example.org");
    assert_eq!(m.header("From"), Some("Pool Sender <pool@example.org>"));
    assert_eq!(
        m.header("Subject"),
        Some("Código"),
        "non-ASCII subject round-trips"
    );
    assert_eq!(m.header("Reply-To"), None);
    assert_eq!(m.header("Message-ID"), receipt.message_id.as_deref());
    assert_eq!(
        m.part("text/plain").map(str::trim_end),
        Some("Tu código es 771100")
    );
}

#[tokio::test]
async fn html_email_is_multipart_alternative_with_both_parts() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path()).unwrap();
    let d = Deliverer::new(cfg(sink.url())).await.unwrap();
    let html = "<html><body><h1>Welcome</h1><p>Your code is <b>905521</b>.</p>\
                <p><a href=\"https://auth.cognate.test/confirmUser?client_id=c&amp;user_name=u&amp;confirmation_code=905521\">Verify</a></p></body></html>";
    d.send_email(&message("carol@example.com", "Welcome", html))
        .await
        .unwrap();
    let mails = sink.wait_for(1, Duration::from_secs(5)).await;
    let m = &mails[0];
    assert_eq!(m.content_type, "multipart/alternative");
    let types: Vec<&str> = m.parts.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(types, vec!["text/plain", "text/html"]);
    let text = m.part("text/plain").unwrap();
    assert!(text.contains("Welcome"), "{text}");
    assert!(text.contains("Your code is 905521."), "{text}");
    assert!(
        text.contains("Verify (https://auth.cognate.test/confirmUser?client_id=c&user_name=u&confirmation_code=905521)"),
        "{text}"
    );
    assert!(!text.contains('<'), "{text}");
    let html_part = m.part("text/html").unwrap();
    assert!(html_part.contains("<b>905521</b>"), "{html_part}");
}

#[tokio::test]
async fn auth_uses_the_password_file_over_the_url_password() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start_with(
        &dir.path().join("mail"),
        &SmtpSinkOptions {
            auth: Some(("mailer@cognate.test".into(), "s3cret pass".into())),
            ..SmtpSinkOptions::default()
        },
    )
    .unwrap();
    let pw_file = dir.path().join("smtp-password");
    std::fs::write(&pw_file, "s3cret pass\n").unwrap();

    // The URL's password is wrong; the file's is right and wins.
    let url = format!("smtp://mailer%40cognate.test:wrong@127.0.0.1:{}", sink.port);
    let mut c = cfg(url.clone());
    c.smtp_password_file = Some(pw_file);
    let d = Deliverer::new(c).await.unwrap();
    d.send_email(&message("dave@example.com", "s", "code 1"))
        .await
        .unwrap();
    let mails = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].auth_login.as_deref(), Some("mailer@cognate.test"));

    // With only the wrong URL password, the server refuses (535): Rejected.
    let d = Deliverer::new(cfg(url)).await.unwrap();
    let err = d
        .send_email(&message("dave@example.com", "s", "code 2"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected(ref m) if m.contains("535")),
        "{err}"
    );

    // Without credentials at all, MAIL is refused (530): Rejected.
    let d = Deliverer::new(cfg(sink.url())).await.unwrap();
    let err = d
        .send_email(&message("dave@example.com", "s", "code 3"))
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Rejected(_)), "{err}");
    assert_eq!(sink.messages().len(), 1);
}

#[tokio::test]
async fn refusing_server_is_rejected_and_4xx_is_unavailable() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start_with(
        &dir.path().join("550"),
        &SmtpSinkOptions {
            fail_code: Some(550),
            ..SmtpSinkOptions::default()
        },
    )
    .unwrap();
    let d = Deliverer::new(cfg(sink.url())).await.unwrap();
    let err = d
        .send_email(&message("eve@example.com", "s", "b"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected(ref m) if m.contains("550")),
        "{err}"
    );
    assert!(sink.messages().is_empty());

    let sink = SmtpSink::start_with(
        &dir.path().join("451"),
        &SmtpSinkOptions {
            fail_code: Some(451),
            ..SmtpSinkOptions::default()
        },
    )
    .unwrap();
    let d = Deliverer::new(cfg(sink.url())).await.unwrap();
    let err = d
        .send_email(&message("eve@example.com", "s", "b"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeliveryError::Unavailable(ref m) if m.contains("451")),
        "{err}"
    );
}

#[tokio::test]
async fn delivery_resumes_when_the_server_comes_back() {
    if !have_python() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut sink = SmtpSink::start(dir.path()).unwrap();
    let port = sink.port;
    let d = Deliverer::new(cfg(sink.url())).await.unwrap();
    sink.stop();
    let err = d
        .send_email(&message("frank@example.com", "s", "first"))
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Unavailable(_)), "{err}");
    let sink = SmtpSink::start_with(
        dir.path(),
        &SmtpSinkOptions {
            port,
            ..SmtpSinkOptions::default()
        },
    )
    .unwrap();
    d.send_email(&message("frank@example.com", "s", "second"))
        .await
        .unwrap();
    let mails = sink.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    assert_eq!(
        mails[0].part("text/plain").map(str::trim_end),
        Some("second")
    );
}

#[tokio::test]
async fn nothing_listening_is_unavailable() {
    let port = closed_port().unwrap();
    let d = Deliverer::new(cfg(format!("smtp://127.0.0.1:{port}")))
        .await
        .unwrap();
    let started = Instant::now();
    let err = d
        .send_email(&message("a@example.com", "s", "b"))
        .await
        .unwrap_err();
    assert!(matches!(err, DeliveryError::Unavailable(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let hole = BlackHole::start().await.unwrap();
    let mut c = cfg(format!("smtp://127.0.0.1:{}", hole.port));
    c.timeout = Duration::from_secs(1);
    let d = Deliverer::new(c).await.unwrap();
    let started = Instant::now();
    let err = d
        .send_email(&message("a@example.com", "s", "b"))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, DeliveryError::Timeout);
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_millis(2500), "{took:?}");
}
