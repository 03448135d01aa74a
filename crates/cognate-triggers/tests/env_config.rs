//! `TriggerInvoker::new` takes endpoint, region and credentials from the
//! standard AWS environment (`AWS_ENDPOINT_URL_LAMBDA`, `AWS_REGION`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`). This binary holds a single
//! test because it changes the process environment.

use cognate_triggers::test_support::{FakeLambda, Reply};
use cognate_triggers::{TriggerConfig, TriggerInvoker, TriggerKind};
use serde_json::json;

#[tokio::test]
async fn standard_environment_configuration() {
    let lambda = FakeLambda::start().await;
    lambda.script("post-confirm", |_| Reply::Echo);
    for var in [
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_DEFAULT_REGION",
    ] {
        std::env::remove_var(var);
    }
    std::env::set_var("AWS_CONFIG_FILE", "/nonexistent/cognate-test/config");
    std::env::set_var(
        "AWS_SHARED_CREDENTIALS_FILE",
        "/nonexistent/cognate-test/credentials",
    );
    for (k, v) in lambda.env_vars() {
        std::env::set_var(k, v);
    }
    let inv = TriggerInvoker::new(TriggerConfig::default()).await;
    let ev = json!({"version": "1", "triggerSource": "PostConfirmation_ConfirmSignUp", "request": {"userAttributes": {}}, "response": {}});
    let out = inv
        .invoke(
            TriggerKind::PostConfirmation,
            &lambda.function_arn("post-confirm"),
            &ev,
        )
        .await
        .unwrap();
    assert_eq!(out, ev);
    let got = lambda.invocations("post-confirm");
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].access_key_id.as_deref(),
        Some(lambda.credentials.access_key_id.as_str())
    );
    assert_eq!(got[0].region.as_deref(), Some("us-east-1"));
    assert!(lambda.rejections().is_empty(), "{:?}", lambda.rejections());
}
