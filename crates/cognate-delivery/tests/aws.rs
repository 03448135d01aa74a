//! SMS through SNS `Publish` and email through SES v2 `SendEmail`, against
//! the fake AWS endpoint that verifies SigV4 (configuration passed
//! explicitly, so these tests do not touch process-wide environment).

use std::time::{Duration, Instant};

use cognate_delivery::test_support::{closed_port, sdk_config_for, FakeAws, FakeMode};
use cognate_delivery::{
    Deliverer, DeliveryConfig, DeliveryError, EmailMessage, SmsMessage, SmsSenderKind,
};

const AK: &str = "AKIDCOGNATETEST";
const SK: &str = "cognate/test+secret/KEY";
const REGION: &str = "eu-west-1";

fn sns_cfg(timeout: Duration) -> DeliveryConfig {
    DeliveryConfig {
        sms_sender: SmsSenderKind::Sns,
        timeout,
        ..DeliveryConfig::default()
    }
}

fn sms(to: &str, body: &str) -> SmsMessage {
    SmsMessage {
        to: to.into(),
        body: body.into(),
    }
}

#[tokio::test]
async fn sns_publish_is_signed_and_recorded() {
    let fake = FakeAws::start(AK, SK, REGION).await.unwrap();
    let d = Deliverer::with_sdk_config(
        sns_cfg(Duration::from_secs(5)),
        fake.sdk_config(AK, SK).await,
    )
    .await
    .unwrap();
    assert!(d.has_sms());
    assert!(!d.has_email());

    let receipt = d
        .send_sms(&sms("+447700900123", "Your code is 123456 & that's it"))
        .await
        .unwrap();
    assert_eq!(receipt.provider, "sns");
    let published = fake.publishes();
    assert_eq!(published.len(), 1);
    let p = &published[0];
    assert_eq!(p.phone_number.as_deref(), Some("+447700900123"));
    assert_eq!(p.message, "Your code is 123456 & that's it");
    assert_eq!(p.attribute("AWS.SNS.SMS.SMSType"), Some("Transactional"));
    assert_eq!(receipt.message_id.as_deref(), Some(p.message_id.as_str()));
    assert!(fake.signature_failures().is_empty());

    // A second message reuses the client.
    d.send_sms(&sms("+15550100", "Code 999000")).await.unwrap();
    assert_eq!(fake.publishes().len(), 2);
}

#[tokio::test]
async fn a_wrong_secret_is_detected_by_the_signature_check() {
    let fake = FakeAws::start(AK, SK, REGION).await.unwrap();
    let d = Deliverer::with_sdk_config(
        sns_cfg(Duration::from_secs(5)),
        fake.sdk_config(AK, "not-the-secret").await,
    )
    .await
    .unwrap();
    let err = d.send_sms(&sms("+15550101", "code 1")).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected(ref m) if m.contains("SignatureDoesNotMatch")),
        "{err}"
    );
    let failures = fake.signature_failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0].code, "SignatureDoesNotMatch");
    assert!(fake.publishes().is_empty());

    // An unknown access key.
    let d = Deliverer::with_sdk_config(
        sns_cfg(Duration::from_secs(5)),
        fake.sdk_config("AKIDSOMEONEELSE", SK).await,
    )
    .await
    .unwrap();
    let err = d.send_sms(&sms("+15550101", "code 2")).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected(ref m) if m.contains("InvalidClientTokenId")),
        "{err}"
    );

    // Right keys, wrong region: the scope does not match.
    let sdk = sdk_config_for(&fake.endpoint_url(), "us-east-2", AK, SK).await;
    let d = Deliverer::with_sdk_config(sns_cfg(Duration::from_secs(5)), sdk)
        .await
        .unwrap();
    assert!(matches!(
        d.send_sms(&sms("+15550101", "code 3")).await,
        Err(DeliveryError::Rejected(_))
    ));
    assert!(fake.publishes().is_empty());
    assert_eq!(fake.signature_failures().len(), 3);
}

#[tokio::test]
async fn sns_failures_map_to_rejected_unavailable_and_timeout() {
    let fake = FakeAws::start(AK, SK, REGION).await.unwrap();
    let d = Deliverer::with_sdk_config(
        sns_cfg(Duration::from_secs(1)),
        fake.sdk_config(AK, SK).await,
    )
    .await
    .unwrap();

    fake.set_mode(FakeMode::fail(400, "InvalidParameter"));
    let err = d.send_sms(&sms("+15550102", "code")).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected(ref m) if m.contains("InvalidParameter")),
        "{err}"
    );

    fake.set_mode(FakeMode::fail(500, "InternalError"));
    let err = d.send_sms(&sms("+15550102", "code")).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Unavailable(_)), "{err}");

    fake.set_mode(FakeMode::fail(400, "Throttling"));
    let err = d.send_sms(&sms("+15550102", "code")).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Unavailable(_)), "{err}");

    fake.set_mode(FakeMode::Hang);
    let started = Instant::now();
    let err = d.send_sms(&sms("+15550102", "code")).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, DeliveryError::Timeout);
    assert!(took < Duration::from_millis(2500), "{took:?}");

    // Back to normal: delivery works again.
    fake.set_mode(FakeMode::Normal);
    d.send_sms(&sms("+15550102", "code 42")).await.unwrap();
    assert_eq!(fake.publishes().len(), 1);
    assert_eq!(fake.publishes()[0].message, "code 42");
}

#[tokio::test]
async fn sns_unreachable_is_unavailable() {
    let port = closed_port().unwrap();
    let sdk = sdk_config_for(&format!("http://127.0.0.1:{port}"), REGION, AK, SK).await;
    let d = Deliverer::with_sdk_config(sns_cfg(Duration::from_secs(5)), sdk)
        .await
        .unwrap();
    let started = Instant::now();
    let err = d.send_sms(&sms("+15550103", "code")).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Unavailable(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn invalid_sms_is_rejected_before_sending() {
    let fake = FakeAws::start(AK, SK, REGION).await.unwrap();
    let d = Deliverer::with_sdk_config(
        sns_cfg(Duration::from_secs(5)),
        fake.sdk_config(AK, SK).await,
    )
    .await
    .unwrap();
    let long = "x".repeat(141);
    let err = d.send_sms(&sms("+15550104", &long)).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected(ref m) if m.contains("141")),
        "{err}"
    );
    // Exactly 140 characters (multi-byte ones count once) is fine.
    let ok = "é".repeat(140);
    d.send_sms(&sms("+15550104", &ok)).await.unwrap();
    let err = d.send_sms(&sms("555-0104", "code")).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Rejected(_)), "{err}");
    assert_eq!(fake.publishes().len(), 1);
    assert!(fake.signature_failures().is_empty());
}

fn ses_cfg() -> DeliveryConfig {
    DeliveryConfig {
        ses: true,
        email_from: Some("Cognate <no-reply@cognate.test>".into()),
        timeout: Duration::from_secs(5),
        ..DeliveryConfig::default()
    }
}

#[tokio::test]
async fn ses_send_email_for_developer_account_pools() {
    let fake = FakeAws::start(AK, SK, REGION).await.unwrap();
    let d = Deliverer::with_sdk_config(ses_cfg(), fake.sdk_config(AK, SK).await)
        .await
        .unwrap();
    assert!(d.has_email());

    let msg = EmailMessage {
        to: "grace@example.com".into(),
        subject: "Your code".into(),
        body: "<p>Your code is <b>246810</b></p>".into(),
        from: Some("Pool <pool@example.org>".into()),
        reply_to: Some("help@example.org".into()),
        source_arn: Some("arn:aws:ses:eu-west-1:123456789012:identity/example.org".into()),
        configuration_set: Some("cognate-set".into()),
        developer_account: true,
    };
    let receipt = d.send_email(&msg).await.unwrap();
    assert_eq!(receipt.provider, "ses");
    let emails = fake.emails();
    assert_eq!(emails.len(), 1);
    let e = &emails[0];
    assert_eq!(receipt.message_id.as_deref(), Some(e.message_id.as_str()));
    assert_eq!(e.from, "Pool <pool@example.org>");
    assert_eq!(
        e.from_arn.as_deref(),
        Some("arn:aws:ses:eu-west-1:123456789012:identity/example.org")
    );
    assert_eq!(e.to, vec!["grace@example.com".to_string()]);
    assert_eq!(e.reply_to, vec!["help@example.org".to_string()]);
    assert_eq!(e.subject, "Your code");
    assert_eq!(e.html.as_deref(), Some("<p>Your code is <b>246810</b></p>"));
    assert_eq!(e.text.as_deref(), Some("Your code is 246810"));
    assert_eq!(e.configuration_set.as_deref(), Some("cognate-set"));

    // Plain body, default From.
    let msg = EmailMessage {
        to: "heidi@example.com".into(),
        subject: "Code".into(),
        body: "Your code is 135790".into(),
        developer_account: true,
        ..EmailMessage::default()
    };
    d.send_email(&msg).await.unwrap();
    let e = &fake.emails()[1];
    assert_eq!(e.from, "Cognate <no-reply@cognate.test>");
    assert_eq!(e.text.as_deref(), Some("Your code is 135790"));
    assert_eq!(e.html, None);
    assert_eq!(e.from_arn, None);

    // A COGNITO_DEFAULT pool does not go through SES; with no SMTP there is
    // no provider for it.
    let msg = EmailMessage {
        developer_account: false,
        ..msg
    };
    assert_eq!(d.send_email(&msg).await, Err(DeliveryError::NotConfigured));
    assert_eq!(fake.emails().len(), 2);
    assert!(fake.signature_failures().is_empty());
}

#[tokio::test]
async fn ses_errors_are_mapped() {
    let fake = FakeAws::start(AK, SK, REGION).await.unwrap();
    let d = Deliverer::with_sdk_config(ses_cfg(), fake.sdk_config(AK, "wrong").await)
        .await
        .unwrap();
    let msg = EmailMessage {
        to: "ivan@example.com".into(),
        subject: "s".into(),
        body: "b".into(),
        developer_account: true,
        ..EmailMessage::default()
    };
    let err = d.send_email(&msg).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected(ref m) if m.contains("SignatureDoesNotMatch")),
        "{err}"
    );
    assert_eq!(fake.signature_failures().len(), 1);

    let d = Deliverer::with_sdk_config(ses_cfg(), fake.sdk_config(AK, SK).await)
        .await
        .unwrap();
    fake.set_mode(FakeMode::fail(400, "MessageRejected"));
    let err = d.send_email(&msg).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected(ref m) if m.contains("MessageRejected")),
        "{err}"
    );
    fake.set_mode(FakeMode::fail(503, "ServiceUnavailable"));
    let err = d.send_email(&msg).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Unavailable(_)), "{err}");
    assert!(fake.emails().is_empty());
}
