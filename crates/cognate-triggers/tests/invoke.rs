//! Invocation through the Lambda Invoke API (against the SigV4-verifying fake)
//! and through webhooks: results, error mapping, retries and timeouts.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cognate_triggers::events::{self, Attrs, EventContext, Metadata};
use cognate_triggers::test_support::{FakeLambda, FakeWebhook, Reply};
use cognate_triggers::{
    TriggerConfig, TriggerError, TriggerInvoker, TriggerKind, CONNECTION_ERROR_CODE,
    TIMEOUT_ERROR_CODE,
};
use serde_json::{json, Value};

fn cfg() -> TriggerConfig {
    TriggerConfig {
        timeout: Duration::from_millis(300),
        ..TriggerConfig::default()
    }
}

fn invoker(lambda: &FakeLambda) -> TriggerInvoker {
    TriggerInvoker::with_sdk_config(cfg(), lambda.sdk_config())
}

fn sign_up_event() -> Value {
    let ctx = EventContext {
        trigger_source: "PreSignUp_SignUp".into(),
        region: "us-east-1".into(),
        user_pool_id: "us-east-1_Test12345".into(),
        user_name: "11111111-2222-3333-4444-555555555555".into(),
        client_id: Some("client123".into()),
        user_agent: Some("aws-sdk-rust/1.3.0 os/linux".into()),
    };
    let attrs: Attrs = [
        ("sub", "11111111-2222-3333-4444-555555555555"),
        ("email", "a@example.com"),
        ("cognito:user_status", "UNCONFIRMED"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let md: Metadata = [("k".to_string(), "v".to_string())].into();
    events::pre_sign_up(&ctx, &attrs, None, Some(&md))
}

#[test]
fn default_config_is_aws() {
    let c = TriggerConfig::default();
    assert_eq!(c.timeout, Duration::from_secs(5));
    assert_eq!(c.max_attempts, 3);
    assert!(c.webhooks.is_empty());
}

#[tokio::test]
async fn lambda_echo_with_response_fields() {
    let lambda = FakeLambda::start().await;
    lambda.script("pre", |_| {
        Reply::echo_with(json!({"autoConfirmUser": true, "autoVerifyEmail": true}))
    });
    let ev = sign_up_event();
    let out = invoker(&lambda)
        .invoke(TriggerKind::PreSignUp, "pre", &ev)
        .await
        .unwrap();
    let parsed = events::parse_pre_sign_up(&out).unwrap();
    assert!(parsed.auto_confirm_user && parsed.auto_verify_email && !parsed.auto_verify_phone);
    // The function received exactly the event, once, synchronously, signed by our key.
    let inv = lambda.invocations("pre");
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0].event, ev);
    assert_eq!(inv[0].invocation_type.as_deref(), Some("RequestResponse"));
    assert_eq!(
        inv[0].access_key_id.as_deref(),
        Some(lambda.credentials.access_key_id.as_str())
    );
    assert_eq!(inv[0].region.as_deref(), Some("us-east-1"));
    assert_eq!(inv[0].event["request"]["clientMetadata"], json!({"k": "v"}));
    assert!(lambda.rejections().is_empty());
}

#[tokio::test]
async fn lambda_invoked_by_arn() {
    // An ARN in the path is percent-encoded by the SDK and double-encoded in
    // the canonical request: the fake's verifier must agree.
    let lambda = FakeLambda::start().await;
    lambda.script("custom-msg", |_| {
        Reply::echo_with(json!({"smsMessage": "Your code: {####}"}))
    });
    let arn = format!("{}:live", lambda.function_arn("custom-msg"));
    let ev = sign_up_event();
    let out = invoker(&lambda)
        .invoke(TriggerKind::CustomMessage, &arn, &ev)
        .await
        .unwrap();
    assert_eq!(out["response"]["smsMessage"], "Your code: {####}");
    let inv = lambda.invocations("custom-msg");
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0].target, arn);
    assert!(lambda.rejections().is_empty(), "{:?}", lambda.rejections());
}

#[tokio::test]
async fn lambda_function_error_is_not_retried() {
    let lambda = FakeLambda::start().await;
    lambda.script("pre", |_| Reply::function_error("Apikey non valida!"));
    let err = invoker(&lambda)
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Function {
            message: "Apikey non valida!".into()
        }
    );
    assert_eq!(
        wire(&err, TriggerKind::PreSignUp),
        (
            "UserLambdaValidationException",
            "PreSignUp failed with error Apikey non valida!.".to_string()
        )
    );
    assert_eq!(lambda.events("pre").len(), 1);
}

#[tokio::test]
async fn lambda_function_error_without_error_message_uses_payload_text() {
    let lambda = FakeLambda::start().await;
    lambda.script("pre", |_| {
        Reply::FunctionErrorRaw("Process exited before completing request".into())
    });
    let err = invoker(&lambda)
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Function {
            message: "Process exited before completing request".into()
        }
    );
    lambda.script("pre", |_| {
        Reply::FunctionErrorRaw(r#"{"errorType":"Runtime.ExitError"}"#.into())
    });
    let err = invoker(&lambda)
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Function {
            message: r#"{"errorType":"Runtime.ExitError"}"#.into()
        }
    );
    assert_eq!(lambda.events("pre").len(), 2);
}

#[tokio::test]
async fn lambda_not_found_maps_to_service_error_without_retry() {
    let lambda = FakeLambda::start().await;
    let err = invoker(&lambda)
        .invoke(TriggerKind::PreSignUp, "missing", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: "ResourceNotFoundException".into()
        }
    );
    assert_eq!(
        wire(&err, TriggerKind::PreSignUp).1,
        "PreSignUp invocation failed due to error ResourceNotFoundException"
    );
    assert!(lambda.events("missing").is_empty());
}

#[tokio::test]
async fn lambda_access_denied_maps_to_service_error_without_retry() {
    let lambda = FakeLambda::start().await;
    lambda.script("pre", |_| Reply::access_denied());
    let err = invoker(&lambda)
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: "AccessDeniedException".into()
        }
    );
    assert_eq!(lambda.events("pre").len(), 1);
}

#[tokio::test]
async fn lambda_throttling_is_retried_then_reported() {
    let lambda = FakeLambda::start().await;
    lambda.script("pre", |_| Reply::throttled());
    let err = invoker(&lambda)
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: "TooManyRequestsException".into()
        }
    );
    assert_eq!(lambda.events("pre").len(), 3);
}

#[tokio::test]
async fn lambda_5xx_is_attempted_three_times() {
    let lambda = FakeLambda::start().await;
    lambda.script("pre", |_| Reply::internal_error());
    let err = invoker(&lambda)
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: "ServiceException".into()
        }
    );
    let events = lambda.events("pre");
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| *e == sign_up_event()));
}

#[tokio::test]
async fn lambda_max_attempts_is_configurable() {
    let lambda = FakeLambda::start().await;
    lambda.script("pre", |_| {
        Reply::service_error(502, "EC2UnexpectedException", "boom")
    });
    let inv = TriggerInvoker::with_sdk_config(
        TriggerConfig {
            max_attempts: 1,
            ..cfg()
        },
        lambda.sdk_config(),
    );
    let err = inv
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: "EC2UnexpectedException".into()
        }
    );
    assert_eq!(lambda.events("pre").len(), 1);
}

#[tokio::test]
async fn lambda_recovers_after_a_transient_error() {
    let lambda = FakeLambda::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    lambda.script("pre", move |_| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::internal_error()
        } else {
            Reply::echo_with(json!({"autoConfirmUser": true}))
        }
    });
    let out = invoker(&lambda)
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap();
    assert!(events::parse_pre_sign_up(&out).unwrap().auto_confirm_user);
    assert_eq!(lambda.events("pre").len(), 2);
}

#[tokio::test]
async fn lambda_timeout_is_retried_and_reported_as_socket_timeout() {
    let lambda = FakeLambda::start().await;
    lambda.script("slow", |_| {
        Reply::sleep(Duration::from_secs(3), Reply::Echo)
    });
    let started = Instant::now();
    let err = invoker(&lambda)
        .invoke(TriggerKind::PostConfirmation, "slow", &sign_up_event())
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(
        err,
        TriggerError::Service {
            code: TIMEOUT_ERROR_CODE.into()
        }
    );
    assert_eq!(
        wire(&err, TriggerKind::PostConfirmation),
        (
            "UnexpectedLambdaException",
            "PostConfirmation invocation failed due to error Socket timeout while invoking Lambda function.".to_string()
        )
    );
    assert_eq!(lambda.events("slow").len(), 3);
    // 3 × 300 ms plus small pauses, far below the function's 3 s.
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
}

#[tokio::test]
async fn lambda_invalid_outputs() {
    let lambda = FakeLambda::start().await;
    let cases: Vec<(&str, Reply)> = vec![
        ("garbage", Reply::Raw("this is not json".into())),
        ("null", Reply::Raw("null".into())),
        ("string", Reply::Json(json!("ok"))),
        (
            "no-response",
            Reply::Json(json!({"version": "1", "request": {}})),
        ),
        ("bad-response", Reply::Json(json!({"response": "yes"}))),
        ("array", Reply::Json(json!([1, 2]))),
    ];
    let inv = invoker(&lambda);
    for (name, reply) in cases {
        lambda.script(name, move |_| reply.clone());
        let err = inv
            .invoke(TriggerKind::PreSignUp, name, &sign_up_event())
            .await
            .unwrap_err();
        assert_eq!(err, TriggerError::InvalidResponse, "{name}");
        assert_eq!(
            lambda.events(name).len(),
            1,
            "{name}: invalid output is not retried"
        );
    }
    // A null response is accepted (and means "nothing set").
    lambda.script("null-response", |ev| {
        let mut out = ev.clone();
        out["response"] = Value::Null;
        Reply::Json(out)
    });
    let out = inv
        .invoke(TriggerKind::PreSignUp, "null-response", &sign_up_event())
        .await
        .unwrap();
    assert_eq!(
        events::parse_pre_sign_up(&out).unwrap(),
        events::PreSignUpResponse::default()
    );
}

#[tokio::test]
async fn wrong_secret_is_rejected_by_signature_check() {
    let lambda = FakeLambda::start().await;
    lambda.script("pre", |_| Reply::Echo);
    let inv =
        TriggerInvoker::with_sdk_config(cfg(), lambda.sdk_config_with_secret("not-the-secret"));
    let err = inv
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: "InvalidSignatureException".into()
        }
    );
    assert!(lambda.events("pre").is_empty());
    let rejections = lambda.rejections();
    assert_eq!(rejections.len(), 1, "a 403 is not retried: {rejections:?}");
    assert!(rejections[0].starts_with("InvalidSignatureException"));

    let inv =
        TriggerInvoker::with_sdk_config(cfg(), lambda.sdk_config_with("AKIAUNKNOWN000000000", "x"));
    let err = inv
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: "UnrecognizedClientException".into()
        }
    );
    assert!(lambda.events("pre").is_empty());
}

#[tokio::test]
async fn unsigned_and_tampered_requests_get_403() {
    let lambda = FakeLambda::start().await;
    lambda.script("pre", |_| Reply::Echo);
    let url = format!(
        "{}/2015-03-31/functions/pre/invocations",
        lambda.endpoint_url
    );
    let http = reqwest::Client::new();
    let resp = http.post(&url).body("{}").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );

    // A syntactically fine signature that was not made with the secret.
    let resp = http
        .post(&url)
        .header("x-amz-date", "20240101T000000Z")
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/20240101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
                lambda.credentials.access_key_id,
                "0".repeat(64)
            ),
        )
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(
        resp.headers()["x-amzn-errortype"],
        "InvalidSignatureException"
    );
    let body: Value = resp.json().await.unwrap();
    assert!(body["message"]
        .as_str()
        .unwrap()
        .starts_with("The request signature we calculated does not match"));
    assert!(lambda.events("pre").is_empty());
}

#[tokio::test]
async fn unreachable_lambda_endpoint() {
    let lambda = FakeLambda::start().await;
    let sdk = lambda.sdk_config();
    drop(lambda); // nothing listens there any more
    let inv = TriggerInvoker::with_sdk_config(cfg(), sdk);
    let err = inv
        .invoke(TriggerKind::PreSignUp, "pre", &sign_up_event())
        .await
        .unwrap_err();
    match err {
        TriggerError::Service { code } => assert!(
            code == CONNECTION_ERROR_CODE || code == TIMEOUT_ERROR_CODE,
            "{code}"
        ),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------- webhooks

fn webhook_invoker(hooks: &[(&str, String)]) -> TriggerInvoker {
    let webhooks: BTreeMap<String, String> = hooks
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    // No Lambda endpoint at all: a webhook must never touch Lambda.
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .build();
    TriggerInvoker::with_sdk_config(TriggerConfig { webhooks, ..cfg() }, sdk)
}

#[tokio::test]
async fn webhook_echo() {
    let hook = FakeWebhook::start().await;
    hook.script("pre", |_| {
        Reply::echo_with(json!({"autoConfirmUser": true}))
    });
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:pre-signup";
    let inv = webhook_invoker(&[(arn, hook.url("pre"))]);
    let ev = sign_up_event();
    let out = inv.invoke(TriggerKind::PreSignUp, arn, &ev).await.unwrap();
    assert!(events::parse_pre_sign_up(&out).unwrap().auto_confirm_user);
    let got = hook.invocations("pre");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].event, ev);
    assert_eq!(got[0].trigger.as_deref(), Some("PreSignUp"));
}

#[tokio::test]
async fn webhook_matched_by_function_name_of_arn() {
    let hook = FakeWebhook::start().await;
    hook.script("h", |_| Reply::Echo);
    let inv = webhook_invoker(&[("pre-signup", hook.url("h"))]);
    assert!(inv
        .webhook_for("arn:aws:lambda:eu-west-1:1:function:pre-signup")
        .is_some());
    assert!(inv.webhook_for("other").is_none());
    inv.invoke(
        TriggerKind::PreSignUp,
        "arn:aws:lambda:eu-west-1:1:function:pre-signup",
        &sign_up_event(),
    )
    .await
    .unwrap();
    assert_eq!(hook.events("h").len(), 1);
}

#[tokio::test]
async fn webhook_function_errors() {
    let hook = FakeWebhook::start().await;
    hook.script("err200", |_| Reply::function_error("Domain not allowed"));
    hook.script("err400json", |_| {
        Reply::service_error(400, "BadRequest", "Invalid invite code")
    });
    hook.script("err403text", |_| Reply::Http {
        status: 403,
        body: "forbidden by policy".into(),
    });
    let inv = webhook_invoker(&[
        ("a", hook.url("err200")),
        ("b", hook.url("err400json")),
        ("c", hook.url("err403text")),
        ("d", hook.url("unscripted")),
    ]);
    let ev = sign_up_event();
    let cases = [
        ("a", "err200", "Domain not allowed"),
        ("b", "err400json", "Invalid invite code"),
        ("c", "err403text", "forbidden by policy"),
        ("d", "unscripted", "no such hook"),
    ];
    for (f, hook_name, msg) in cases {
        let err = inv
            .invoke(TriggerKind::PreSignUp, f, &ev)
            .await
            .unwrap_err();
        assert_eq!(
            err,
            TriggerError::Function {
                message: msg.into()
            },
            "{f}"
        );
        if hook_name != "unscripted" {
            assert_eq!(hook.events(hook_name).len(), 1, "{f}: not retried");
        }
    }
}

#[tokio::test]
async fn webhook_service_errors_are_retried() {
    let hook = FakeWebhook::start().await;
    hook.script("down", |_| Reply::Http {
        status: 503,
        body: "unavailable".into(),
    });
    hook.script("typed", |_| {
        Reply::service_error(500, "KMSAccessDeniedException", "kms")
    });
    hook.script("busy", |_| Reply::throttled());
    let inv = webhook_invoker(&[
        ("down", hook.url("down")),
        ("typed", hook.url("typed")),
        ("busy", hook.url("busy")),
    ]);
    let ev = sign_up_event();
    let err = inv
        .invoke(TriggerKind::CustomMessage, "down", &ev)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: "ServiceException".into()
        }
    );
    assert_eq!(hook.events("down").len(), 3);
    let err = inv
        .invoke(TriggerKind::CustomMessage, "typed", &ev)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: "KMSAccessDeniedException".into()
        }
    );
    assert_eq!(hook.events("typed").len(), 3);
    let err = inv
        .invoke(TriggerKind::CustomMessage, "busy", &ev)
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: "TooManyRequestsException".into()
        }
    );
    assert_eq!(hook.events("busy").len(), 3);
}

#[tokio::test]
async fn webhook_timeout() {
    let hook = FakeWebhook::start().await;
    hook.script("slow", |_| {
        Reply::sleep(Duration::from_secs(3), Reply::Echo)
    });
    let inv = webhook_invoker(&[("slow", hook.url("slow"))]);
    let started = Instant::now();
    let err = inv
        .invoke(TriggerKind::PreSignUp, "slow", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: TIMEOUT_ERROR_CODE.into()
        }
    );
    assert_eq!(hook.events("slow").len(), 3);
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn webhook_connection_refused() {
    let hook = FakeWebhook::start().await;
    let url = hook.url("x");
    drop(hook);
    let inv = webhook_invoker(&[("x", url)]);
    let err = inv
        .invoke(TriggerKind::PreSignUp, "x", &sign_up_event())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        TriggerError::Service {
            code: CONNECTION_ERROR_CODE.into()
        }
    );
}

#[tokio::test]
async fn webhook_invalid_outputs() {
    let hook = FakeWebhook::start().await;
    hook.script("garbage", |_| Reply::Raw("<html>ok</html>".into()));
    hook.script("noresp", |_| Reply::Json(json!({"ok": true})));
    hook.script("badresp", |_| Reply::Json(json!({"response": 5})));
    let inv = webhook_invoker(&[
        ("garbage", hook.url("garbage")),
        ("noresp", hook.url("noresp")),
        ("badresp", hook.url("badresp")),
    ]);
    for name in ["garbage", "noresp", "badresp"] {
        let err = inv
            .invoke(TriggerKind::PreSignUp, name, &sign_up_event())
            .await
            .unwrap_err();
        assert_eq!(err, TriggerError::InvalidResponse, "{name}");
        assert_eq!(hook.events(name).len(), 1);
    }
}

/// The AWS error type name and message the server answers for a trigger failure.
fn wire(e: &TriggerError, kind: TriggerKind) -> (&'static str, String) {
    let (kind, message) = cognate_server::errors::trigger_wire(kind, e);
    (kind.name(), message)
}
