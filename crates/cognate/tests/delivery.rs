//! Code delivery for real (issue 4), black-box: the real `cognate serve` process with
//! real providers (an aiosmtpd SMTP server, a SigV4-verifying SNS endpoint, an
//! HMAC-checking SMS webhook), driven through the real Rust AWS SDK.
//!
//! SMTP tests need a Python with `aiosmtpd` (`.venv/bin/python` or
//! `$COGNATE_TEST_PYTHON`); without one they print `SKIPPED:` and return.

// Test code: helpers outside #[test] functions unwrap too (clippy.toml only covers the latter).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider as cip;
use cip::types::{
    DefaultEmailOptionType, DeliveryMediumType, EmailConfigurationType, UserStatusType,
    VerificationMessageTemplateType, VerifiedAttributeType,
};
use cognate_core::ports::Directory;
use cognate_core::records::MessageRecord;
use cognate_delivery::test_support::{
    closed_port, python_with_aiosmtpd, BlackHole, FakeAws, FakeMode, SmtpSink, SmtpSinkOptions,
    SunkMail, WebhookReceiver,
};
use common::*;

const SERVER_FROM: &str = "Cognate Test <no-reply@cognate.test>";
const AWS_KEY: &str = "AKIDDELIVERYTEST";
const AWS_SECRET: &str = "delivery-test-secret";
const AWS_REGION: &str = "eu-west-1";
const WEBHOOK_SECRET: &str = "webhook-signing-secret";

fn have_python() -> bool {
    if python_with_aiosmtpd().is_some() {
        true
    } else {
        println!("SKIPPED: no python with aiosmtpd (set COGNATE_TEST_PYTHON or create .venv)");
        false
    }
}

async fn pool_with(c: &cip::Client, configure: impl FnOnce(PoolBuilder) -> PoolBuilder) -> Pool {
    create_pool(c, "delivery", configure, |b| b).await
}

async fn email_pool(c: &cip::Client) -> Pool {
    pool_with(c, |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
            .verification_message_template(
                VerificationMessageTemplateType::builder()
                    .email_subject("Welcome to Example")
                    .email_message("Hello! Your Example code is {####}. Enjoy.")
                    .build(),
            )
    })
    .await
}

async fn sms_pool(c: &cip::Client) -> Pool {
    pool_with(c, |b| {
        b.auto_verified_attributes(VerifiedAttributeType::PhoneNumber)
            .verification_message_template(
                VerificationMessageTemplateType::builder()
                    .sms_message("Example code: {####} (do not share)")
                    .build(),
            )
    })
    .await
}

async fn confirm(c: &cip::Client, p: &Pool, username: &str, code: &str) {
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username(username)
        .confirmation_code(code)
        .send()
        .await
        .unwrap();
}

/// The message rows the server stored for a user (read from its database).
async fn stored_messages(server: &Server, pool: &str, username: &str) -> Vec<MessageRecord> {
    let store = server.open_store().await;
    let rows = store
        .list_messages(Some(pool), Some(username), 100)
        .await
        .unwrap();
    store.close().await;
    rows
}

/// The only run of exactly six ASCII digits in `text` (the code).
fn code_in(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 6 {
                found.push(text[start..i].to_string());
            }
        } else {
            i += 1;
        }
    }
    assert_eq!(found.len(), 1, "expected one 6-digit code in {text:?}");
    found.remove(0)
}

/// A top-level header of a received mail (case-insensitive name, decoded value).
fn raw_header(mail: &SunkMail, name: &str) -> Option<String> {
    mail.header(name).map(str::to_string)
}

/// Environment for a server whose SNS/SES calls go to `fake` and nowhere else.
fn with_fake_aws(b: ServerBuilder, fake: &FakeAws, dir: &std::path::Path) -> ServerBuilder {
    let missing = dir.join("no-aws-config");
    let missing = missing.display().to_string();
    b.env("AWS_REGION", AWS_REGION)
        .env("AWS_ACCESS_KEY_ID", AWS_KEY)
        .env("AWS_SECRET_ACCESS_KEY", AWS_SECRET)
        .env("AWS_ENDPOINT_URL_SNS", fake.endpoint_url())
        .env("AWS_ENDPOINT_URL_SESV2", fake.endpoint_url())
        .env("AWS_CONFIG_FILE", missing.clone())
        .env("AWS_SHARED_CREDENTIALS_FILE", missing)
        .env("AWS_EC2_METADATA_DISABLED", "true")
}

// ---------------------------------------------------------------------------------------
// 1. Email over SMTP
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn sign_up_sends_a_real_email_whose_code_confirms_the_user() {
    if !have_python() {
        return;
    }
    let mail_dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(mail_dir.path()).unwrap();
    let server = Server::builder()
        .arg("--smtp-url")
        .arg(sink.url())
        .arg("--email-from")
        .arg(SERVER_FROM)
        .start()
        .await;
    let c = server.client();
    let p = email_pool(&c).await;

    let out = sign_up(&c, &p, "mia", "mia@example.com").await;
    assert!(!out.user_confirmed());
    let details = out.code_delivery_details().unwrap();
    assert_eq!(details.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(details.destination(), Some("m***@e***"));
    assert_eq!(details.attribute_name(), Some("email"));

    // Delivery happened before SignUp answered: the mail is already there.
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(m.mail_from, "no-reply@cognate.test");
    assert_eq!(m.rcpt_tos, vec!["mia@example.com".to_string()]);
    let from = raw_header(m, "From").unwrap();
    assert!(
        from.contains("Cognate Test") && from.contains("<no-reply@cognate.test>"),
        "{from}"
    );
    assert_eq!(raw_header(m, "To").as_deref(), Some("mia@example.com"));
    assert_eq!(
        raw_header(m, "Subject").as_deref(),
        Some("Welcome to Example")
    );
    assert_eq!(raw_header(m, "Reply-To"), None);
    assert!(
        m.content_type.starts_with("text/plain"),
        "{}",
        m.content_type
    );
    let body = m.part("text/plain").unwrap();
    let code = code_in(body);
    assert_eq!(
        body.trim_end(),
        format!("Hello! Your Example code is {code}. Enjoy.")
    );
    assert_eq!(status(&c, &p, "mia").await, UserStatusType::Unconfirmed);

    confirm(&c, &p, "mia", &code).await;
    assert_eq!(status(&c, &p, "mia").await, UserStatusType::Confirmed);
    assert_eq!(
        attribute(&c, &p, "mia", "email_verified").await.as_deref(),
        Some("true")
    );

    // What was sent is recorded, the body and code are not.
    let rows = stored_messages(&server, &p.id, "mia").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row.provider, "smtp");
    assert_eq!(row.medium, "EMAIL");
    assert_eq!(row.destination, "m***@e***");
    assert_eq!(row.body, None);
    assert_eq!(row.code, None);
    let message_id = row.provider_message_id.clone().unwrap();
    assert_eq!(raw_header(m, "Message-ID").as_deref(), Some(&*message_id));

    // SMS still has no provider, so the outbox is on, but it lists only outbox messages.
    let outbox = server.outbox(&p.id, "mia").await;
    assert!(outbox.is_empty(), "{outbox:?}");
}

#[tokio::test]
async fn the_pools_from_and_reply_to_addresses_are_honoured() {
    if !have_python() {
        return;
    }
    let mail_dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(mail_dir.path()).unwrap();
    let server = Server::builder()
        .arg("--smtp-url")
        .arg(sink.url())
        .arg("--email-from")
        .arg(SERVER_FROM)
        .start()
        .await;
    let c = server.client();
    let p = pool_with(&c, |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
            .email_configuration(
                EmailConfigurationType::builder()
                    .from("Example App <app@example.org>")
                    .reply_to_email_address("help@example.org")
                    .build(),
            )
    })
    .await;
    sign_up(&c, &p, "noah", "noah@example.net").await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(m.mail_from, "app@example.org");
    assert_eq!(m.rcpt_tos, vec!["noah@example.net".to_string()]);
    let from = raw_header(m, "From").unwrap();
    assert!(
        from.contains("Example App") && from.contains("<app@example.org>"),
        "{from}"
    );
    assert_eq!(
        raw_header(m, "Reply-To").as_deref(),
        Some("help@example.org")
    );
    // The pool keeps the default templates.
    assert_eq!(
        raw_header(m, "Subject").as_deref(),
        Some("Your verification code")
    );
    let body = m.part("text/plain").unwrap();
    let code = code_in(body);
    assert_eq!(
        body.trim_end(),
        format!("Your verification code is {code}.")
    );
    confirm(&c, &p, "noah", &code).await;
    assert_eq!(status(&c, &p, "noah").await, UserStatusType::Confirmed);
}

#[tokio::test]
async fn confirm_with_link_sends_html_whose_link_confirms_the_user() {
    if !have_python() {
        return;
    }
    let mail_dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(mail_dir.path()).unwrap();
    // Without --link-base-url the links point at the server itself (its listen address);
    // the setting is covered by the next test.
    let server = Server::builder()
        .arg("--smtp-url")
        .arg(sink.url())
        .arg("--email-from")
        .arg(SERVER_FROM)
        .start()
        .await;
    let c = server.client();
    let p = pool_with(&c, |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
            .verification_message_template(
                VerificationMessageTemplateType::builder()
                    .default_email_option(DefaultEmailOptionType::ConfirmWithLink)
                    .email_subject_by_link("Confirm your Example account")
                    .email_message_by_link(
                        "<p>Welcome, friend &amp; neighbour!</p><p>{##Verify Email##}</p>",
                    )
                    .build(),
            )
    })
    .await;
    let out = sign_up(&c, &p, "olivia+1", "olivia@example.com").await;
    assert_eq!(
        out.code_delivery_details().unwrap().delivery_medium(),
        Some(&DeliveryMediumType::Email)
    );
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let m = &mails[0];
    assert_eq!(
        raw_header(m, "Subject").as_deref(),
        Some("Confirm your Example account")
    );
    assert!(
        m.content_type.starts_with("multipart/alternative"),
        "{}",
        m.content_type
    );
    let html = m.part("text/html").unwrap();
    let text = m.part("text/plain").unwrap();
    assert!(
        html.contains("<p>Welcome, friend &amp; neighbour!</p>"),
        "{html}"
    );
    let start = html.find("<a href=\"").unwrap() + "<a href=\"".len();
    let end = start + html[start..].find('"').unwrap();
    let link = html[start..end].replace("&amp;", "&");
    assert!(html[end..].starts_with("\">Verify Email</a>"), "{html}");
    let prefix = format!(
        "{}/confirmUser?client_id={}&user_name=olivia%2B1&confirmation_code=",
        server.url, p.client_id
    );
    assert!(link.starts_with(&prefix), "{link}");
    let code = &link[prefix.len()..];
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
    assert!(
        text.contains("Welcome, friend & neighbour!"),
        "plain-text alternative: {text}"
    );
    assert!(
        text.contains(&format!("Verify Email ({link})")),
        "plain-text alternative: {text}"
    );
    assert_eq!(
        status(&c, &p, "olivia+1").await,
        UserStatusType::Unconfirmed
    );

    // Clicking the link (a GET) confirms the user.
    let resp = reqwest::get(&link).await.unwrap();
    assert_eq!(resp.status(), 200);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("Your registration has been confirmed."),
        "{page}"
    );
    assert_eq!(status(&c, &p, "olivia+1").await, UserStatusType::Confirmed);
    assert_eq!(
        attribute(&c, &p, "olivia+1", "email_verified")
            .await
            .as_deref(),
        Some("true")
    );
    // A second click does not confirm again.
    let again = reqwest::get(&link).await.unwrap();
    assert_eq!(again.status(), 400);

    let rows = stored_messages(&server, &p.id, "olivia+1").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].provider, "smtp");
    assert_eq!(
        rows[0].subject.as_deref(),
        Some("Confirm your Example account")
    );
    assert_eq!(rows[0].body, None);
    assert_eq!(rows[0].code, None);
    assert_eq!(
        rows[0].provider_message_id.as_deref(),
        raw_header(m, "Message-ID").as_deref()
    );
}

#[tokio::test]
async fn the_link_base_url_setting_is_used_in_confirmation_links() {
    if !have_python() {
        return;
    }
    let mail_dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(mail_dir.path()).unwrap();
    let server = Server::builder()
        .arg("--smtp-url")
        .arg(sink.url())
        .arg("--email-from")
        .arg(SERVER_FROM)
        .arg("--link-base-url")
        .arg("https://auth.example.com/base/")
        .start()
        .await;
    let c = server.client();
    let p = pool_with(&c, |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
            .verification_message_template(
                VerificationMessageTemplateType::builder()
                    .default_email_option(DefaultEmailOptionType::ConfirmWithLink)
                    .email_message_by_link("Please {##confirm##} your address.")
                    .build(),
            )
    })
    .await;
    sign_up(&c, &p, "pat", "pat@example.com").await;
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let html = mails[0].part("text/html").unwrap();
    let href = format!(
        "<a href=\"https://auth.example.com/base/confirmUser?client_id={}&amp;user_name=pat&amp;confirmation_code=",
        p.client_id
    );
    assert!(html.starts_with(&format!("Please {href}")), "{html}");
    let code = code_in(html);
    assert_eq!(
        html,
        format!("Please {href}{code}\">confirm</a> your address.")
    );
    // The same code is valid through the API too.
    confirm(&c, &p, "pat", &code).await;
    assert_eq!(status(&c, &p, "pat").await, UserStatusType::Confirmed);
}

// ---------------------------------------------------------------------------------------
// 2. SMS through SNS
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn sign_up_publishes_the_sms_through_signed_sns_and_its_code_confirms() {
    let fake = FakeAws::start(AWS_KEY, AWS_SECRET, AWS_REGION)
        .await
        .unwrap();
    let env_dir = tempfile::tempdir().unwrap();
    let server = with_fake_aws(Server::builder(), &fake, env_dir.path())
        .arg("--sms-sender")
        .arg("sns")
        .start()
        .await;
    let c = server.client();
    let p = sms_pool(&c).await;

    let out = try_sign_up(&c, &p, "quinn", attr("phone_number", "+15555550123"))
        .await
        .unwrap();
    let details = out.code_delivery_details().unwrap();
    assert_eq!(details.delivery_medium(), Some(&DeliveryMediumType::Sms));
    assert_eq!(details.attribute_name(), Some("phone_number"));
    assert_eq!(details.destination(), Some("+*******0123"));

    assert!(
        fake.signature_failures().is_empty(),
        "{:?}",
        fake.signature_failures()
    );
    let published = fake.publishes();
    assert_eq!(published.len(), 1, "{published:?}");
    let sms = &published[0];
    assert_eq!(sms.phone_number.as_deref(), Some("+15555550123"));
    assert_eq!(sms.topic_arn, None);
    let code = code_in(&sms.message);
    assert_eq!(sms.message, format!("Example code: {code} (do not share)"));
    assert_eq!(sms.attribute("AWS.SNS.SMS.SMSType"), Some("Transactional"));

    confirm(&c, &p, "quinn", &code).await;
    assert_eq!(status(&c, &p, "quinn").await, UserStatusType::Confirmed);
    assert_eq!(
        attribute(&c, &p, "quinn", "phone_number_verified")
            .await
            .as_deref(),
        Some("true")
    );

    let rows = stored_messages(&server, &p.id, "quinn").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].provider, "sns");
    assert_eq!(rows[0].medium, "SMS");
    assert_eq!(rows[0].destination, "+*******0123");
    assert_eq!(rows[0].body, None);
    assert_eq!(rows[0].code, None);
    assert_eq!(
        rows[0].provider_message_id.as_deref(),
        Some(sms.message_id.as_str())
    );
}

// ---------------------------------------------------------------------------------------
// 3. SMS through the signed webhook
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn sign_up_posts_the_sms_to_the_hmac_signed_webhook_and_its_code_confirms() {
    let receiver = WebhookReceiver::start(WEBHOOK_SECRET).await.unwrap();
    let server = Server::builder()
        .arg("--sms-sender")
        .arg("webhook")
        .arg("--sms-webhook-url")
        .arg(receiver.url())
        .arg("--sms-webhook-secret")
        .arg(WEBHOOK_SECRET)
        .start()
        .await;
    let c = server.client();
    let p = sms_pool(&c).await;

    let out = try_sign_up(&c, &p, "rosa", attr("phone_number", "+447700900123"))
        .await
        .unwrap();
    assert_eq!(
        out.code_delivery_details().unwrap().delivery_medium(),
        Some(&DeliveryMediumType::Sms)
    );
    assert_eq!(receiver.bad_signatures(), 0);
    let received = receiver.messages();
    assert_eq!(received.len(), 1, "{received:?}");
    let sms = &received[0];
    assert_eq!(sms.to, "+447700900123");
    let code = code_in(&sms.message);
    assert_eq!(sms.message, format!("Example code: {code} (do not share)"));

    // Resend goes the same way, with a new code that replaces the old one.
    c.resend_confirmation_code()
        .client_id(&p.client_id)
        .username("rosa")
        .send()
        .await
        .unwrap();
    let received = receiver.messages();
    assert_eq!(received.len(), 2, "{received:?}");
    assert_eq!(receiver.bad_signatures(), 0);
    assert_ne!(received[0].id, received[1].id);
    let code2 = code_in(&received[1].message);

    confirm(&c, &p, "rosa", &code2).await;
    assert_eq!(status(&c, &p, "rosa").await, UserStatusType::Confirmed);

    let rows = stored_messages(&server, &p.id, "rosa").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (row, answered) in rows.iter().zip(&received) {
        assert_eq!(row.provider, "webhook");
        assert_eq!(row.medium, "SMS");
        assert_eq!(row.body, None);
        assert_eq!(row.code, None);
        assert_eq!(row.provider_message_id, answered.message_id);
    }
}

#[tokio::test]
async fn a_webhook_with_the_wrong_secret_is_refused_and_reported() {
    let receiver = WebhookReceiver::start(WEBHOOK_SECRET).await.unwrap();
    let server = Server::builder()
        .arg("--sms-sender")
        .arg("webhook")
        .arg("--sms-webhook-url")
        .arg(receiver.url())
        .arg("--sms-webhook-secret")
        .arg("not-the-receivers-secret")
        .start()
        .await;
    let c = server.client();
    let p = sms_pool(&c).await;
    let (code, _) = err_of(try_sign_up(&c, &p, "sam", attr("phone_number", "+15555550199")).await);
    assert_eq!(code, "CodeDeliveryFailureException");
    assert_eq!(receiver.bad_signatures(), 1);
    assert!(receiver.messages().is_empty());
    assert_eq!(status(&c, &p, "sam").await, UserStatusType::Unconfirmed);
    assert!(stored_messages(&server, &p.id, "sam").await.is_empty());
}

// ---------------------------------------------------------------------------------------
// 4. Faults: never lose a code, never claim one was sent
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn smtp_down_at_sign_up_then_resend_succeeds_once_it_is_back() {
    if !have_python() {
        return;
    }
    let port = closed_port().unwrap();
    let server = Server::builder()
        .arg("--smtp-url")
        .arg(format!("smtp://127.0.0.1:{port}"))
        .arg("--email-from")
        .arg(SERVER_FROM)
        .start()
        .await;
    let c = server.client();
    let p = email_pool(&c).await;

    let (code, message) =
        err_of(try_sign_up(&c, &p, "tara", attr("email", "tara@example.com")).await);
    assert_eq!(code, "CodeDeliveryFailureException", "{message}");
    // The user exists, unconfirmed, and nothing is recorded as sent.
    assert_eq!(status(&c, &p, "tara").await, UserStatusType::Unconfirmed);
    assert!(stored_messages(&server, &p.id, "tara").await.is_empty());
    assert!(server.outbox(&p.id, "tara").await.is_empty());
    // Signing up again is refused: the user already exists.
    let (code, _) = err_of(try_sign_up(&c, &p, "tara", attr("email", "tara@example.com")).await);
    assert_eq!(code, "UsernameExistsException");

    // Resending while the provider is still down fails the same way.
    let (code, _) = err_of(
        c.resend_confirmation_code()
            .client_id(&p.client_id)
            .username("tara")
            .send()
            .await,
    );
    assert_eq!(code, "CodeDeliveryFailureException");

    // The provider comes back on the same port.
    let mail_dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start_with(
        mail_dir.path(),
        &SmtpSinkOptions {
            port,
            ..SmtpSinkOptions::default()
        },
    )
    .unwrap();
    assert_eq!(sink.port, port);
    let out = c
        .resend_confirmation_code()
        .client_id(&p.client_id)
        .username("tara")
        .send()
        .await
        .unwrap();
    let details = out.code_delivery_details().unwrap();
    assert_eq!(details.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(details.destination(), Some("t***@e***"));
    let mails = sink.messages();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].rcpt_tos, vec!["tara@example.com".to_string()]);
    let body = mails[0].part("text/plain").unwrap();
    let code = code_in(body);
    confirm(&c, &p, "tara", &code).await;
    assert_eq!(status(&c, &p, "tara").await, UserStatusType::Confirmed);

    let rows = stored_messages(&server, &p.id, "tara").await;
    assert_eq!(
        rows.len(),
        1,
        "only the delivered message is recorded: {rows:?}"
    );
    assert_eq!(rows[0].provider, "smtp");
    assert_eq!(rows[0].code, None);
}

#[tokio::test]
async fn smtp_refusing_the_recipient_is_a_delivery_failure() {
    if !have_python() {
        return;
    }
    let mail_dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start_with(
        mail_dir.path(),
        &SmtpSinkOptions {
            fail_code: Some(550),
            ..SmtpSinkOptions::default()
        },
    )
    .unwrap();
    let server = Server::builder()
        .arg("--smtp-url")
        .arg(sink.url())
        .arg("--email-from")
        .arg(SERVER_FROM)
        .start()
        .await;
    let c = server.client();
    let p = email_pool(&c).await;
    let (code, _) = err_of(try_sign_up(&c, &p, "uma", attr("email", "uma@example.com")).await);
    assert_eq!(code, "CodeDeliveryFailureException");
    assert!(sink.messages().is_empty());
    assert_eq!(status(&c, &p, "uma").await, UserStatusType::Unconfirmed);
    assert!(stored_messages(&server, &p.id, "uma").await.is_empty());
}

#[tokio::test]
async fn a_hanging_smtp_server_fails_the_call_within_the_timeout() {
    let hole = BlackHole::start().await.unwrap();
    let server = Server::builder()
        .arg("--smtp-url")
        .arg(format!("smtp://127.0.0.1:{}", hole.port))
        .arg("--email-from")
        .arg(SERVER_FROM)
        .arg("--delivery-timeout-ms")
        .arg("1000")
        .start()
        .await;
    let c = server.client();
    let p = email_pool(&c).await;

    // Through the wire, to see exactly what the client is told.
    let body = serde_json::json!({
        "ClientId": p.client_id,
        "Username": "vera",
        "Password": PASSWORD,
        "UserAttributes": [{"Name": "email", "Value": "vera@example.com"}],
    });
    let started = Instant::now();
    let (status_code, _, answer) = server
        .raw(
            Some("AWSCognitoIdentityProviderService.SignUp"),
            Some("application/x-amz-json-1.1"),
            body.to_string(),
        )
        .await;
    let elapsed = started.elapsed();
    assert_eq!(status_code, 400, "{answer}");
    assert_eq!(answer["__type"], "CodeDeliveryFailureException", "{answer}");
    assert!(answer.get("CodeDeliveryDetails").is_none(), "{answer}");
    assert!(answer.get("UserSub").is_none(), "{answer}");
    assert!(
        elapsed >= Duration::from_millis(900),
        "the provider was waited for: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(2500),
        "the call is bounded by the delivery timeout: {elapsed:?}"
    );
    assert_eq!(status(&c, &p, "vera").await, UserStatusType::Unconfirmed);

    // And through the SDK, for ResendConfirmationCode.
    let started = Instant::now();
    let (code, _) = err_of(
        c.resend_confirmation_code()
            .client_id(&p.client_id)
            .username("vera")
            .send()
            .await,
    );
    let elapsed = started.elapsed();
    assert_eq!(code, "CodeDeliveryFailureException");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");

    // The server stayed responsive while the provider hung.
    let health = reqwest::get(format!("{}/health", server.url))
        .await
        .unwrap();
    assert!(health.status().is_success());
    assert!(stored_messages(&server, &p.id, "vera").await.is_empty());
    assert!(server.outbox(&p.id, "vera").await.is_empty());
}

#[tokio::test]
async fn sns_failing_with_500_is_a_delivery_failure_and_nothing_is_recorded() {
    let fake = FakeAws::start(AWS_KEY, AWS_SECRET, AWS_REGION)
        .await
        .unwrap();
    fake.set_mode(FakeMode::fail(500, "InternalError"));
    let env_dir = tempfile::tempdir().unwrap();
    let server = with_fake_aws(Server::builder(), &fake, env_dir.path())
        .arg("--sms-sender")
        .arg("sns")
        .start()
        .await;
    let c = server.client();
    let p = sms_pool(&c).await;

    let body = serde_json::json!({
        "ClientId": p.client_id,
        "Username": "wes",
        "Password": PASSWORD,
        "UserAttributes": [{"Name": "phone_number", "Value": "+15555550142"}],
    });
    let (status_code, _, answer) = server
        .raw(
            Some("AWSCognitoIdentityProviderService.SignUp"),
            Some("application/x-amz-json-1.1"),
            body.to_string(),
        )
        .await;
    assert_eq!(status_code, 400, "{answer}");
    assert_eq!(answer["__type"], "CodeDeliveryFailureException", "{answer}");
    assert!(answer.get("CodeDeliveryDetails").is_none(), "{answer}");
    assert!(fake.signature_failures().is_empty());
    assert!(fake.publishes().is_empty());
    assert_eq!(status(&c, &p, "wes").await, UserStatusType::Unconfirmed);
    assert!(stored_messages(&server, &p.id, "wes").await.is_empty());
    assert!(server.outbox(&p.id, "wes").await.is_empty());

    // SNS recovers: the resent code arrives and confirms.
    fake.set_mode(FakeMode::Normal);
    c.resend_confirmation_code()
        .client_id(&p.client_id)
        .username("wes")
        .send()
        .await
        .unwrap();
    let published = fake.publishes();
    assert_eq!(published.len(), 1, "{published:?}");
    let code = code_in(&published[0].message);
    confirm(&c, &p, "wes", &code).await;
    assert_eq!(status(&c, &p, "wes").await, UserStatusType::Confirmed);
}

#[tokio::test]
async fn a_hanging_sns_endpoint_fails_the_call_within_the_timeout() {
    let fake = FakeAws::start(AWS_KEY, AWS_SECRET, AWS_REGION)
        .await
        .unwrap();
    fake.set_mode(FakeMode::Hang);
    let env_dir = tempfile::tempdir().unwrap();
    let server = with_fake_aws(Server::builder(), &fake, env_dir.path())
        .arg("--sms-sender")
        .arg("sns")
        .arg("--delivery-timeout-ms")
        .arg("1000")
        .start()
        .await;
    let c = server.client();
    let p = sms_pool(&c).await;
    let started = Instant::now();
    let (code, _) = err_of(try_sign_up(&c, &p, "xena", attr("phone_number", "+15555550177")).await);
    let elapsed = started.elapsed();
    assert_eq!(code, "CodeDeliveryFailureException");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    assert_eq!(status(&c, &p, "xena").await, UserStatusType::Unconfirmed);
    assert!(stored_messages(&server, &p.id, "xena").await.is_empty());
}

// ---------------------------------------------------------------------------------------
// 5. With real providers for both media the developer outbox is off
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn the_outbox_and_inbox_are_off_when_both_media_have_providers() {
    if !have_python() {
        return;
    }
    let mail_dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(mail_dir.path()).unwrap();
    let receiver = WebhookReceiver::start(WEBHOOK_SECRET).await.unwrap();
    let server = Server::builder()
        .arg("--smtp-url")
        .arg(sink.url())
        .arg("--email-from")
        .arg(SERVER_FROM)
        .arg("--sms-sender")
        .arg("webhook")
        .arg("--sms-webhook-url")
        .arg(receiver.url())
        .arg("--sms-webhook-secret")
        .arg(WEBHOOK_SECRET)
        .start()
        .await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "yara", "yara@example.com").await;
    assert_eq!(sink.messages().len(), 1);

    let http = reqwest::Client::new();
    for path in ["/_cognate/outbox", "/_cognate/inbox"] {
        let resp = http
            .get(format!("{}{path}", server.url))
            .query(&[("pool", p.id.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{path}");
    }

    // With only SMTP configured (SMS falls back to the outbox) they are on.
    let mail_dir2 = tempfile::tempdir().unwrap();
    let sink2 = SmtpSink::start(mail_dir2.path()).unwrap();
    let half = Server::builder()
        .arg("--smtp-url")
        .arg(sink2.url())
        .arg("--email-from")
        .arg(SERVER_FROM)
        .start()
        .await;
    for path in ["/_cognate/outbox", "/_cognate/inbox"] {
        let resp = http
            .get(format!("{}{path}", half.url))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn without_providers_codes_go_to_the_outbox() {
    // The embedded default: no provider, the outbox keeps body and code.
    let server = Server::start().await;
    let c = server.client();
    let p = sms_pool(&c).await;
    try_sign_up(&c, &p, "zed", attr("phone_number", "+15555550100"))
        .await
        .unwrap();
    let rows = stored_messages(&server, &p.id, "zed").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].provider, "outbox");
    let code = rows[0].code.clone().unwrap();
    assert_eq!(
        rows[0].body.as_deref(),
        Some(format!("Example code: {code} (do not share)").as_str())
    );
    assert_eq!(server.last_code(&p.id, "zed").await, code);
}

// ---------------------------------------------------------------------------------------
// Email through Amazon SES v2 for EmailSendingAccount=DEVELOPER pools
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn developer_pools_send_email_through_signed_ses() {
    let fake = FakeAws::start(AWS_KEY, AWS_SECRET, AWS_REGION)
        .await
        .unwrap();
    let env_dir = tempfile::tempdir().unwrap();
    let server = with_fake_aws(Server::builder(), &fake, env_dir.path())
        .arg("--ses")
        .arg("--email-from")
        .arg(SERVER_FROM)
        .start()
        .await;
    let c = server.client();
    let arn = "arn:aws:ses:eu-west-1:000000000000:identity/example.org";
    let p = pool_with(&c, |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
            .email_configuration(
                EmailConfigurationType::builder()
                    .email_sending_account(cip::types::EmailSendingAccountType::Developer)
                    .source_arn(arn)
                    .from("Example App <app@example.org>")
                    .reply_to_email_address("help@example.org")
                    .configuration_set("tracking")
                    .build(),
            )
            .verification_message_template(
                VerificationMessageTemplateType::builder()
                    .email_subject("Welcome to Example")
                    .email_message("Hello! Your Example code is {####}. Enjoy.")
                    .build(),
            )
    })
    .await;
    sign_up(&c, &p, "ada", "ada@example.com").await;
    assert!(
        fake.signature_failures().is_empty(),
        "{:?}",
        fake.signature_failures()
    );
    let emails = fake.emails();
    assert_eq!(emails.len(), 1, "{emails:?}");
    let e = &emails[0];
    assert!(e.from.contains("app@example.org"), "{}", e.from);
    assert_eq!(e.from_arn.as_deref(), Some(arn));
    assert_eq!(e.to, vec!["ada@example.com".to_string()]);
    assert_eq!(e.reply_to, vec!["help@example.org".to_string()]);
    assert_eq!(e.configuration_set.as_deref(), Some("tracking"));
    assert_eq!(e.subject, "Welcome to Example");
    let text = e.text.clone().unwrap();
    let code = code_in(&text);
    assert_eq!(text, format!("Hello! Your Example code is {code}. Enjoy."));
    confirm(&c, &p, "ada", &code).await;
    assert_eq!(status(&c, &p, "ada").await, UserStatusType::Confirmed);

    let rows = stored_messages(&server, &p.id, "ada").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].provider, "ses");
    assert_eq!(rows[0].body, None);
    assert_eq!(rows[0].code, None);
    assert_eq!(
        rows[0].provider_message_id.as_deref(),
        Some(e.message_id.as_str())
    );

    // With SES as the only email provider, a COGNITO_DEFAULT pool's email goes through
    // SES too, from the server's default address.
    let q = email_pool(&c).await;
    sign_up(&c, &q, "bea", "bea@example.com").await;
    let emails = fake.emails();
    assert_eq!(emails.len(), 2, "{emails:?}");
    let e = &emails[1];
    assert!(e.from.contains("no-reply@cognate.test"), "{}", e.from);
    assert_eq!(e.from_arn, None);
    assert!(e.reply_to.is_empty(), "{:?}", e.reply_to);
    assert_eq!(e.to, vec!["bea@example.com".to_string()]);
    let code = code_in(e.text.as_deref().unwrap());
    confirm(&c, &q, "bea", &code).await;
    assert_eq!(status(&c, &q, "bea").await, UserStatusType::Confirmed);
    let rows = stored_messages(&server, &q.id, "bea").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].provider, "ses");
    assert_eq!(rows[0].code, None);
}
