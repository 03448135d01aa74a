//! The SMS webhook sender against a local receiver that checks the HMAC.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cognate_delivery::test_support::{closed_port, BlackHole, FakeMode, WebhookReceiver};
use cognate_delivery::{Deliverer, DeliveryConfig, DeliveryError, SmsMessage, SmsSenderKind};

const SECRET: &str = "whsec-cognate-test";

async fn deliverer(url: String, secret: &str, timeout: Duration) -> Deliverer {
    Deliverer::new(DeliveryConfig {
        sms_sender: SmsSenderKind::Webhook,
        sms_webhook_url: Some(url),
        sms_webhook_secret: Some(secret.into()),
        timeout,
        ..DeliveryConfig::default()
    })
    .await
    .unwrap_or_else(|e| panic!("webhook deliverer: {e}"))
}

fn sms(body: &str) -> SmsMessage {
    SmsMessage {
        to: "+15550199".into(),
        body: body.into(),
    }
}

#[tokio::test]
async fn signed_json_post_is_accepted() {
    let rx = WebhookReceiver::start(SECRET).await.unwrap();
    let d = deliverer(rx.url(), SECRET, Duration::from_secs(5)).await;
    assert!(d.has_sms());
    let receipt = d
        .send_sms(&sms("Your code is 808080 \"ok\""))
        .await
        .unwrap();
    assert_eq!(receipt.provider, "webhook");
    assert_eq!(receipt.message_id.as_deref(), Some("wh-1"));
    let got = rx.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].to, "+15550199");
    assert_eq!(got[0].message, "Your code is 808080 \"ok\"");
    assert_eq!(got[0].id.len(), 36);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(got[0].timestamp.abs_diff(now) <= 5);
    assert_eq!(rx.bad_signatures(), 0);

    // Without a messageId in the answer, the receipt carries our id.
    rx.set_answer_message_id(false);
    let receipt = d.send_sms(&sms("Your code is 909090")).await.unwrap();
    let got = rx.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(receipt.message_id.as_deref(), Some(got[1].id.as_str()));
    assert_ne!(got[0].id, got[1].id);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_by_the_receiver() {
    let rx = WebhookReceiver::start(SECRET).await.unwrap();
    let d = deliverer(rx.url(), "another-secret", Duration::from_secs(5)).await;
    let err = d.send_sms(&sms("code 1")).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected(ref m) if m.contains("401")),
        "{err}"
    );
    assert_eq!(rx.bad_signatures(), 1);
    assert!(rx.messages().is_empty());
}

#[tokio::test]
async fn webhook_failures_map_to_rejected_unavailable_and_timeout() {
    let rx = WebhookReceiver::start(SECRET).await.unwrap();
    let d = deliverer(rx.url(), SECRET, Duration::from_secs(1)).await;

    rx.set_mode(FakeMode::fail(500, "boom"));
    let err = d.send_sms(&sms("code")).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Unavailable(ref m) if m.contains("500")),
        "{err}"
    );

    rx.set_mode(FakeMode::fail(400, "bad number"));
    let err = d.send_sms(&sms("code")).await.unwrap_err();
    assert!(
        matches!(err, DeliveryError::Rejected(ref m) if m.contains("400")),
        "{err}"
    );

    rx.set_mode(FakeMode::Hang);
    let started = Instant::now();
    let err = d.send_sms(&sms("code")).await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err, DeliveryError::Timeout);
    assert!(took < Duration::from_millis(2500), "{took:?}");

    rx.set_mode(FakeMode::Normal);
    d.send_sms(&sms("code 5")).await.unwrap();
    assert_eq!(rx.messages().len(), 1);
    assert_eq!(rx.bad_signatures(), 0);

    // Too long: refused before any request.
    let err = d.send_sms(&sms(&"9".repeat(141))).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Rejected(_)), "{err}");
    assert_eq!(rx.messages().len(), 1);
}

#[tokio::test]
async fn unreachable_or_silent_webhooks() {
    let port = closed_port().unwrap();
    let d = deliverer(
        format!("http://127.0.0.1:{port}/sms"),
        SECRET,
        Duration::from_secs(2),
    )
    .await;
    let err = d.send_sms(&sms("code")).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Unavailable(_)), "{err}");

    let hole = BlackHole::start().await.unwrap();
    let d = deliverer(
        format!("http://127.0.0.1:{}/sms", hole.port),
        SECRET,
        Duration::from_secs(1),
    )
    .await;
    let started = Instant::now();
    let err = d.send_sms(&sms("code")).await.unwrap_err();
    assert_eq!(err, DeliveryError::Timeout);
    assert!(started.elapsed() < Duration::from_millis(2500));
}
