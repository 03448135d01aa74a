//! `Deliverer::new` takes SNS/SES settings from the standard AWS environment
//! (`AWS_ENDPOINT_URL_SNS`, `AWS_ENDPOINT_URL_SESV2`, `AWS_REGION`, keys).
//! Environment variables are process-wide, so this binary has exactly one
//! test.

use std::time::Duration;

use cognate_delivery::test_support::FakeAws;
use cognate_delivery::{Deliverer, DeliveryConfig, EmailMessage, SmsMessage, SmsSenderKind};

#[tokio::test]
async fn sns_and_ses_settings_come_from_the_standard_aws_environment() {
    let fake = FakeAws::start("AKIDFROMENV", "env-secret", "ap-southeast-2")
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_DEFAULT_REGION",
    ] {
        std::env::remove_var(var);
    }
    std::env::set_var("AWS_CONFIG_FILE", &missing);
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &missing);
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
    std::env::set_var("AWS_REGION", "ap-southeast-2");
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDFROMENV");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "env-secret");
    std::env::set_var("AWS_ENDPOINT_URL_SNS", fake.endpoint_url());
    std::env::set_var("AWS_ENDPOINT_URL_SESV2", fake.endpoint_url());

    let d = Deliverer::new(DeliveryConfig {
        ses: true,
        email_from: Some("no-reply@cognate.test".into()),
        sms_sender: SmsSenderKind::Sns,
        timeout: Duration::from_secs(5),
        ..DeliveryConfig::default()
    })
    .await
    .unwrap();
    let receipt = d
        .send_sms(&SmsMessage {
            to: "+61491570156".into(),
            body: "Your code is 111222".into(),
        })
        .await
        .unwrap();
    assert_eq!(receipt.provider, "sns");
    let receipt = d
        .send_email(&EmailMessage {
            to: "judy@example.com".into(),
            subject: "Code".into(),
            body: "Your code is 333444".into(),
            developer_account: true,
            ..EmailMessage::default()
        })
        .await
        .unwrap();
    assert_eq!(receipt.provider, "ses");

    assert!(
        fake.signature_failures().is_empty(),
        "{:?}",
        fake.signature_failures()
    );
    let published = fake.publishes();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].phone_number.as_deref(), Some("+61491570156"));
    assert_eq!(published[0].message, "Your code is 111222");
    let emails = fake.emails();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].from, "no-reply@cognate.test");
    assert_eq!(emails[0].text.as_deref(), Some("Your code is 333444"));
}
