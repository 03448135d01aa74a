//! Lambda triggers of the sign-up family (issue 5; spec §d) end to end: the real server
//! process, called through the real Rust AWS SDK, invoking a Lambda-compatible endpoint
//! (`FakeLambda`, which verifies SigV4 and records every event) configured through the
//! standard AWS environment, and a webhook (`FakeWebhook`) configured with
//! `--trigger-webhook` / `COGNATE_TRIGGER_WEBHOOKS`.

// A test crate: clippy.toml's allow-*-in-tests covers `#[test]` functions only, not the
// helpers here or in `common`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider as cip;
use cip::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use cip::types::{
    DeliveryMediumType, EmailConfigurationType, EmailSendingAccountType, LambdaConfigType,
    UserStatusType, VerificationMessageTemplateType, VerifiedAttributeType,
};
use cognate_triggers::events::CLIENT_ID_NOT_APPLICABLE;
use cognate_triggers::test_support::{
    FakeLambda, FakeWebhook, Reply, TEST_ACCESS_KEY_ID, TEST_REGION,
};
use cognate_triggers::TIMEOUT_ERROR_CODE;
use common::*;
use serde_json::{json, Value};

const PRE: &str = "pre-signup";
const CUSTOM: &str = "custom-message";
const POST: &str = "post-confirmation";

// ------------------------------------------------------------------ fixtures

/// A server configured for `lambda` through the standard AWS environment.
async fn lambda_server(lambda: &FakeLambda, args: &[&str]) -> Server {
    let mut b = Server::builder();
    for (k, v) in lambda.env_vars() {
        b = b.env(k, v);
    }
    for a in args {
        b = b.arg(*a);
    }
    b.start().await
}

/// A FakeLambda whose three functions echo the event, and a server using it.
async fn setup(args: &[&str]) -> (FakeLambda, Server) {
    let lambda = FakeLambda::start().await;
    for f in [PRE, CUSTOM, POST] {
        lambda.script(f, |_| Reply::Echo);
    }
    let server = lambda_server(&lambda, args).await;
    (lambda, server)
}

fn all_triggers(arn: impl Fn(&str) -> String) -> LambdaConfigType {
    LambdaConfigType::builder()
        .pre_sign_up(arn(PRE))
        .custom_message(arn(CUSTOM))
        .post_confirmation(arn(POST))
        .build()
}

/// A pool with these triggers, shaped by `configure`, and its client.
async fn pool_with(
    c: &cip::Client,
    lambda_config: LambdaConfigType,
    configure: impl FnOnce(CreateUserPoolFluentBuilder) -> CreateUserPoolFluentBuilder,
) -> Pool {
    create_pool(
        c,
        "triggers",
        |b| configure(b.lambda_config(lambda_config)),
        |b| b,
    )
    .await
}

/// Email auto-verified, all three triggers on `lambda`.
async fn email_pool(c: &cip::Client, lambda: &FakeLambda) -> Pool {
    pool_with(c, all_triggers(|f| lambda.function_arn(f)), |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
    })
    .await
}

fn developer_email(b: CreateUserPoolFluentBuilder) -> CreateUserPoolFluentBuilder {
    b.auto_verified_attributes(VerifiedAttributeType::Email)
        .email_configuration(
            EmailConfigurationType::builder()
                .email_sending_account(EmailSendingAccountType::Developer)
                .source_arn("arn:aws:ses:us-east-1:123456789012:identity/noreply@example.com")
                .build(),
        )
}

async fn user_count(c: &cip::Client, p: &Pool) -> usize {
    c.list_users()
        .user_pool_id(&p.id)
        .send()
        .await
        .unwrap()
        .users()
        .len()
}

/// Every request reached the endpoint correctly signed with the configured key, in the
/// configured region, as a synchronous invocation of the configured ARN.
fn assert_signed(lambda: &FakeLambda, functions: &[&str]) {
    assert!(
        lambda.rejections().is_empty(),
        "the endpoint refused requests: {:?}",
        lambda.rejections()
    );
    for f in functions {
        for inv in lambda.invocations(f) {
            assert_eq!(inv.access_key_id.as_deref(), Some(TEST_ACCESS_KEY_ID));
            assert_eq!(inv.region.as_deref(), Some(TEST_REGION));
            assert_eq!(inv.invocation_type.as_deref(), Some("RequestResponse"));
            assert_eq!(inv.target, lambda.function_arn(f));
        }
    }
}

fn aws_sdk_version(ev: &Value) -> String {
    ev["callerContext"]["awsSdkVersion"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The envelope fields common to all triggers.
fn assert_envelope(ev: &Value, source: &str, p: &Pool, user_name: &str, client_id: &str) {
    let keys: Vec<&str> = ev.as_object().unwrap().keys().map(String::as_str).collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "callerContext",
            "region",
            "request",
            "response",
            "triggerSource",
            "userName",
            "userPoolId",
            "version"
        ]
    );
    assert_eq!(ev["version"], "1");
    assert_eq!(ev["triggerSource"], source);
    assert_eq!(ev["region"], "us-east-1");
    assert_eq!(ev["userPoolId"], p.id.as_str());
    assert_eq!(ev["userName"], user_name);
    assert_eq!(ev["callerContext"]["clientId"], client_id);
    // The Rust SDK announces itself as `aws-sdk-rust/<version>`.
    let sdk = aws_sdk_version(ev);
    let version = sdk
        .strip_prefix("aws-sdk-rust-")
        .unwrap_or_else(|| panic!("{sdk}"));
    assert!(
        !version.is_empty() && version.chars().all(|c| c.is_ascii_digit() || c == '.'),
        "{sdk}"
    );
    assert_eq!(ev["callerContext"].as_object().unwrap().len(), 2);
}

// ------------------------------------------------------------------ PreSignUp

#[tokio::test]
async fn pre_sign_up_event_carries_every_field() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let out = c
        .sign_up()
        .client_id(&p.client_id)
        .username("ada")
        .password(PASSWORD)
        .user_attributes(attr("email", "ada@example.com"))
        .user_attributes(attr("name", "Ada Lovelace"))
        .validation_data(attr("invite", "X-42"))
        .validation_data(attr("captcha", "ok"))
        .client_metadata("campaign", "spring")
        .client_metadata("locale", "en-GB")
        .send()
        .await
        .unwrap();
    assert!(!out.user_confirmed());

    let events = lambda.events(PRE);
    assert_eq!(events.len(), 1, "{events:?}");
    let ev = &events[0];
    assert_envelope(ev, "PreSignUp_SignUp", &p, "ada", &p.client_id);
    assert_eq!(
        ev["request"],
        json!({
            "userAttributes": {
                "email": "ada@example.com",
                "name": "Ada Lovelace",
                "sub": out.user_sub(),
                "cognito:user_status": "UNCONFIRMED",
            },
            "validationData": {"invite": "X-42", "captcha": "ok"},
            "clientMetadata": {"campaign": "spring", "locale": "en-GB"},
        })
    );
    assert_eq!(
        ev["response"],
        json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false})
    );

    // The echoed (unchanged) answer leaves the normal flow: unconfirmed, code emailed.
    assert_eq!(status(&c, &p, "ada").await, UserStatusType::Unconfirmed);
    assert_eq!(server.outbox(&p.id, "ada").await.len(), 1);
    assert_signed(&lambda, &[PRE, CUSTOM]);
}

#[tokio::test]
async fn pre_sign_up_without_validation_data_or_metadata() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    sign_up(&c, &p, "plain", "plain@example.com").await;
    let ev = &lambda.events(PRE)[0];
    assert_eq!(ev["request"]["validationData"], Value::Null);
    assert!(
        ev["request"].get("clientMetadata").is_none(),
        "no clientMetadata member without ClientMetadata: {ev}"
    );
    assert_signed(&lambda, &[PRE]);
}

#[tokio::test]
async fn auto_confirm_sends_no_code_and_runs_post_confirmation() {
    let (lambda, server) = setup(&[]).await;
    lambda.script(PRE, |_| Reply::echo_with(json!({"autoConfirmUser": true})));
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let out = c
        .sign_up()
        .client_id(&p.client_id)
        .username("auto")
        .password(PASSWORD)
        .user_attributes(attr("email", "auto@example.com"))
        .client_metadata("source", "landing-page")
        .send()
        .await
        .unwrap();
    assert!(out.user_confirmed());
    assert!(out.code_delivery_details().is_none());
    assert_eq!(status(&c, &p, "auto").await, UserStatusType::Confirmed);
    assert_ne!(
        attribute(&c, &p, "auto", "email_verified").await.as_deref(),
        Some("true"),
        "autoConfirmUser alone verifies nothing"
    );
    assert!(
        server.outbox(&p.id, "auto").await.is_empty(),
        "no code is sent"
    );
    assert!(
        lambda.events(CUSTOM).is_empty(),
        "no message, no CustomMessage"
    );

    let posts = lambda.events(POST);
    assert_eq!(posts.len(), 1, "{posts:?}");
    let ev = &posts[0];
    assert_envelope(
        ev,
        "PostConfirmation_ConfirmSignUp",
        &p,
        "auto",
        &p.client_id,
    );
    assert_eq!(ev["request"]["userAttributes"]["sub"], out.user_sub());
    assert_eq!(ev["request"]["userAttributes"]["email"], "auto@example.com");
    assert_eq!(
        ev["request"]["userAttributes"]["cognito:user_status"],
        "CONFIRMED"
    );
    assert_eq!(
        ev["request"]["clientMetadata"],
        json!({"source": "landing-page"})
    );
    assert_signed(&lambda, &[PRE, POST]);
}

#[tokio::test]
async fn auto_verify_email_with_auto_confirm_marks_the_email_verified() {
    let (lambda, server) = setup(&[]).await;
    lambda.script(PRE, |_| {
        Reply::echo_with(json!({"autoConfirmUser": true, "autoVerifyEmail": true}))
    });
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let out = sign_up(&c, &p, "verified", "v@example.com").await;
    assert!(out.user_confirmed());
    assert!(out.code_delivery_details().is_none());
    assert_eq!(status(&c, &p, "verified").await, UserStatusType::Confirmed);
    assert_eq!(
        attribute(&c, &p, "verified", "email_verified")
            .await
            .as_deref(),
        Some("true")
    );
    assert!(server.outbox(&p.id, "verified").await.is_empty());
    let post = &lambda.events(POST)[0];
    assert_eq!(post["request"]["userAttributes"]["email_verified"], "true");
    assert_signed(&lambda, &[PRE, POST]);
}

#[tokio::test]
async fn auto_verify_phone_with_auto_confirm_marks_the_phone_verified() {
    let (lambda, server) = setup(&[]).await;
    lambda.script(PRE, |_| {
        Reply::echo_with(json!({"autoConfirmUser": true, "autoVerifyPhone": true}))
    });
    let c = server.client();
    let p = pool_with(&c, all_triggers(|f| lambda.function_arn(f)), |b| {
        b.auto_verified_attributes(VerifiedAttributeType::PhoneNumber)
    })
    .await;
    let out = c
        .sign_up()
        .client_id(&p.client_id)
        .username("phone")
        .password(PASSWORD)
        .user_attributes(attr("phone_number", "+12065550142"))
        .user_attributes(attr("email", "phone@example.com"))
        .send()
        .await
        .unwrap();
    assert!(out.user_confirmed());
    assert!(out.code_delivery_details().is_none());
    assert_eq!(
        attribute(&c, &p, "phone", "phone_number_verified")
            .await
            .as_deref(),
        Some("true")
    );
    assert_ne!(
        attribute(&c, &p, "phone", "email_verified")
            .await
            .as_deref(),
        Some("true"),
        "only the phone was auto-verified"
    );
    assert!(server.outbox(&p.id, "phone").await.is_empty());
    assert_signed(&lambda, &[PRE, POST]);
}

#[tokio::test]
async fn events_name_the_internal_username_in_email_as_username_pools() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let p = pool_with(&c, all_triggers(|f| lambda.function_arn(f)), |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
            .username_attributes(cip::types::UsernameAttributeType::Email)
    })
    .await;
    let out = c
        .sign_up()
        .client_id(&p.client_id)
        .username("grace@example.com")
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    let sub = out.user_sub().to_string();
    let pre = &lambda.events(PRE)[0];
    assert_envelope(pre, "PreSignUp_SignUp", &p, &sub, &p.client_id);
    assert_eq!(
        pre["request"]["userAttributes"]["email"],
        "grace@example.com"
    );
    assert_eq!(pre["request"]["userAttributes"]["sub"], sub.as_str());
    let custom = &lambda.events(CUSTOM)[0];
    assert_envelope(custom, "CustomMessage_SignUp", &p, &sub, &p.client_id);
    let code = server.last_code(&p.id, &sub).await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("grace@example.com")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    let post = &lambda.events(POST)[0];
    assert_envelope(
        post,
        "PostConfirmation_ConfirmSignUp",
        &p,
        &sub,
        &p.client_id,
    );
    assert_signed(&lambda, &[PRE, CUSTOM, POST]);
}

/// Spec §d.3: an auto-verified alias already held by someone else moves to the new user,
/// and the previous holder's attribute becomes unverified.
#[tokio::test]
async fn auto_verified_alias_moves_from_its_previous_holder() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let p = pool_with(&c, all_triggers(|f| lambda.function_arn(f)), |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
            .alias_attributes(cip::types::AliasAttributeType::Email)
    })
    .await;
    sign_up(&c, &p, "first", "shared@example.com").await;
    let code = server.last_code(&p.id, "first").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("first")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    lambda.script(PRE, |_| {
        Reply::echo_with(json!({"autoConfirmUser": true, "autoVerifyEmail": true}))
    });
    let out = sign_up(&c, &p, "second", "shared@example.com").await;
    assert!(out.user_confirmed());
    assert_eq!(
        attribute(&c, &p, "second", "email_verified")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(
        attribute(&c, &p, "first", "email_verified")
            .await
            .as_deref(),
        Some("false")
    );
    let by_alias = user(&c, &p, "shared@example.com").await;
    assert_eq!(by_alias.username(), "second");
}

#[tokio::test]
async fn auto_verify_without_auto_confirm_is_rejected_and_creates_no_user() {
    let (lambda, server) = setup(&[]).await;
    lambda.script(PRE, |_| Reply::echo_with(json!({"autoVerifyEmail": true})));
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let (code, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("half")
            .password(PASSWORD)
            .user_attributes(attr("email", "half@example.com"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidLambdaResponseException");
    assert_eq!(
        msg,
        "Phone or email cannot be auto verified, when user is not being auto confirmed."
    );
    assert_eq!(user_count(&c, &p).await, 0);
    assert!(server.outbox(&p.id, "half").await.is_empty());
    assert!(lambda.events(POST).is_empty());
    assert_signed(&lambda, &[PRE]);
}

#[tokio::test]
async fn pre_sign_up_function_error_rejects_and_creates_no_user() {
    let (lambda, server) = setup(&[]).await;
    lambda.script(PRE, |_| Reply::function_error("Apikey non valida!"));
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let (code, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("nope")
            .password(PASSWORD)
            .user_attributes(attr("email", "nope@example.com"))
            .send()
            .await,
    );
    assert_eq!(code, "UserLambdaValidationException");
    assert_eq!(msg, "PreSignUp failed with error Apikey non valida!.");
    assert_eq!(
        lambda.events(PRE).len(),
        1,
        "a function error is not retried"
    );
    assert_eq!(user_count(&c, &p).await, 0);
    assert!(server.outbox(&p.id, "nope").await.is_empty());
    assert!(lambda.events(CUSTOM).is_empty());

    // The username is still free: the same sign-up succeeds once the function allows it.
    lambda.script(PRE, |_| Reply::Echo);
    sign_up(&c, &p, "nope", "nope@example.com").await;
    assert_eq!(user_count(&c, &p).await, 1);
    assert_signed(&lambda, &[PRE, CUSTOM]);
}

#[tokio::test]
async fn lambda_service_errors_are_unexpected_lambda_exception() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let cases: [(&str, Option<Reply>, &str, usize); 3] = [
        // Not scripted: the endpoint answers 404 ResourceNotFoundException.
        ("missing-fn", None, "ResourceNotFoundException", 1),
        (
            "throttled-fn",
            Some(Reply::throttled()),
            "TooManyRequestsException",
            3,
        ),
        (
            "denied-fn",
            Some(Reply::access_denied()),
            "AccessDeniedException",
            1,
        ),
    ];
    for (name, reply, error_code, attempts) in cases {
        if let Some(reply) = reply {
            lambda.script(name, move |_| reply.clone());
        }
        let p = pool_with(
            &c,
            LambdaConfigType::builder()
                .pre_sign_up(lambda.function_arn(name))
                .build(),
            |b| b.auto_verified_attributes(VerifiedAttributeType::Email),
        )
        .await;
        let (code, msg) = err_of(
            c.sign_up()
                .client_id(&p.client_id)
                .username("svc")
                .password(PASSWORD)
                .user_attributes(attr("email", "svc@example.com"))
                .send()
                .await,
        );
        assert_eq!(code, "UnexpectedLambdaException", "{name}");
        assert_eq!(
            msg,
            format!("PreSignUp invocation failed due to error {error_code}"),
            "{name}"
        );
        assert_eq!(user_count(&c, &p).await, 0, "{name}");
        assert_eq!(
            lambda.events(name).len(),
            if name == "missing-fn" { 0 } else { attempts },
            "attempts for {name} (throttling is retried up to 3 times)"
        );
    }
    assert_signed(&lambda, &["throttled-fn", "denied-fn"]);
}

#[tokio::test]
async fn garbage_output_is_invalid_lambda_response() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let outputs = [
        Reply::Raw("this is not json".into()),
        Reply::Json(json!([1, 2, 3])),
        Reply::Json(json!({"version": "1", "response": "yes"})),
        Reply::echo_with(json!({"autoConfirmUser": "maybe"})),
    ];
    for (i, reply) in outputs.into_iter().enumerate() {
        lambda.script(PRE, move |_| reply.clone());
        let username = format!("garbage{i}");
        let (code, msg) = err_of(
            c.sign_up()
                .client_id(&p.client_id)
                .username(&username)
                .password(PASSWORD)
                .user_attributes(attr("email", "g@example.com"))
                .send()
                .await,
        );
        assert_eq!(code, "InvalidLambdaResponseException", "output {i}");
        assert_eq!(msg, "Unrecognizable lambda output", "output {i}");
        assert!(server.outbox(&p.id, &username).await.is_empty());
    }
    assert_eq!(lambda.events(PRE).len(), 4, "invalid output is not retried");
    assert_eq!(user_count(&c, &p).await, 0);
    assert_signed(&lambda, &[PRE]);
}

#[tokio::test]
async fn timeout_is_unexpected_lambda_exception_and_returns_promptly() {
    let (lambda, server) = setup(&["--trigger-timeout-ms", "300"]).await;
    lambda.script(PRE, |_| Reply::sleep(Duration::from_secs(5), Reply::Echo));
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let started = Instant::now();
    let (code, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("slow")
            .password(PASSWORD)
            .user_attributes(attr("email", "slow@example.com"))
            .send()
            .await,
    );
    let elapsed = started.elapsed();
    assert_eq!(code, "UnexpectedLambdaException");
    assert_eq!(
        msg,
        format!("PreSignUp invocation failed due to error {TIMEOUT_ERROR_CODE}")
    );
    assert_eq!(
        msg,
        "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function."
    );
    // Three attempts of 300 ms each (plus short pauses), far below the function's 5 s.
    assert_eq!(lambda.events(PRE).len(), 3);
    assert!(elapsed >= Duration::from_millis(900), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(4000), "{elapsed:?}");
    assert_eq!(user_count(&c, &p).await, 0);
    assert_signed(&lambda, &[PRE]);
}

#[tokio::test]
async fn endpoint_rejects_wrongly_signed_requests() {
    // Proof that the endpoint really checks signatures: a server holding the wrong secret
    // is refused, and the refusal is a Lambda service error.
    let lambda = FakeLambda::start().await;
    lambda.script(PRE, |_| Reply::Echo);
    let mut b = Server::builder();
    for (k, v) in lambda.env_vars() {
        let v = if k == "AWS_SECRET_ACCESS_KEY" {
            "not-the-secret".to_string()
        } else {
            v
        };
        b = b.env(k, v);
    }
    let server = b.start().await;
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let (code, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("forged")
            .password(PASSWORD)
            .user_attributes(attr("email", "f@example.com"))
            .send()
            .await,
    );
    assert_eq!(code, "UnexpectedLambdaException");
    assert_eq!(
        msg,
        "PreSignUp invocation failed due to error InvalidSignatureException"
    );
    assert!(lambda.events(PRE).is_empty());
    assert!(!lambda.rejections().is_empty());
    assert_eq!(user_count(&c, &p).await, 0);
}

// -------------------------------------------------------------- CustomMessage

#[tokio::test]
async fn custom_message_sign_up_sms_is_honoured() {
    let (lambda, server) = setup(&[]).await;
    lambda.script(CUSTOM, |_| {
        Reply::echo_with(json!({"smsMessage": "Acme: your code is {####}, welcome!"}))
    });
    let c = server.client();
    let p = pool_with(&c, all_triggers(|f| lambda.function_arn(f)), |b| {
        b.auto_verified_attributes(VerifiedAttributeType::PhoneNumber)
    })
    .await;
    let out = c
        .sign_up()
        .client_id(&p.client_id)
        .username("sms")
        .password(PASSWORD)
        .user_attributes(attr("phone_number", "+12065550100"))
        .client_metadata("brand", "acme")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.code_delivery_details().unwrap().delivery_medium(),
        Some(&DeliveryMediumType::Sms)
    );

    let events = lambda.events(CUSTOM);
    assert_eq!(events.len(), 1, "{events:?}");
    let ev = &events[0];
    assert_envelope(ev, "CustomMessage_SignUp", &p, "sms", &p.client_id);
    assert_eq!(
        ev["request"],
        json!({
            "userAttributes": {
                "phone_number": "+12065550100",
                "sub": out.user_sub(),
                "cognito:user_status": "UNCONFIRMED",
            },
            "codeParameter": "{####}",
            "linkParameter": null,
            "usernameParameter": null,
            "clientMetadata": {"brand": "acme"},
        })
    );
    assert_eq!(
        ev["response"],
        json!({"smsMessage": null, "emailMessage": null, "emailSubject": null})
    );

    let msgs = server.outbox(&p.id, "sms").await;
    assert_eq!(msgs.len(), 1);
    let code = msgs[0]["Code"].as_str().unwrap();
    assert_eq!(code.len(), 6);
    assert_eq!(msgs[0]["Medium"], "SMS");
    assert_eq!(
        msgs[0]["Body"],
        format!("Acme: your code is {code}, welcome!")
    );
    // The substituted code is the real one.
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("sms")
        .confirmation_code(code)
        .send()
        .await
        .unwrap();
    assert_eq!(status(&c, &p, "sms").await, UserStatusType::Confirmed);
    assert_signed(&lambda, &[PRE, CUSTOM, POST]);
}

#[tokio::test]
async fn custom_email_on_a_developer_pool_for_sign_up_and_resend() {
    let (lambda, server) = setup(&[]).await;
    lambda.script(CUSTOM, |ev| {
        let source = ev["triggerSource"].as_str().unwrap_or_default().to_string();
        Reply::echo_with(json!({
            "emailMessage": format!("<p>{source}: use {{####}} to join Acme</p>"),
            "emailSubject": format!("Acme {source}"),
        }))
    });
    let c = server.client();
    let p = pool_with(
        &c,
        all_triggers(|f| lambda.function_arn(f)),
        developer_email,
    )
    .await;
    let out = sign_up(&c, &p, "dev", "dev@example.com").await;

    let msgs = server.outbox(&p.id, "dev").await;
    assert_eq!(msgs.len(), 1);
    let first = msgs[0]["Code"].as_str().unwrap().to_string();
    assert_eq!(msgs[0]["Subject"], "Acme CustomMessage_SignUp");
    assert_eq!(
        msgs[0]["Body"],
        format!("<p>CustomMessage_SignUp: use {first} to join Acme</p>")
    );

    c.resend_confirmation_code()
        .client_id(&p.client_id)
        .username("dev")
        .client_metadata("reason", "lost-mail")
        .send()
        .await
        .unwrap();
    let events = lambda.events(CUSTOM);
    assert_eq!(events.len(), 2);
    let ev = &events[1];
    assert_envelope(ev, "CustomMessage_ResendCode", &p, "dev", &p.client_id);
    assert_eq!(
        ev["request"],
        json!({
            "userAttributes": {
                "email": "dev@example.com",
                "sub": out.user_sub(),
                "cognito:user_status": "UNCONFIRMED",
            },
            "codeParameter": "{####}",
            "linkParameter": null,
            "usernameParameter": null,
            "clientMetadata": {"reason": "lost-mail"},
        })
    );
    let msgs = server.outbox(&p.id, "dev").await;
    assert_eq!(msgs.len(), 2);
    let second = msgs[1]["Code"].as_str().unwrap().to_string();
    assert_eq!(msgs[1]["Subject"], "Acme CustomMessage_ResendCode");
    assert_eq!(
        msgs[1]["Body"],
        format!("<p>CustomMessage_ResendCode: use {second} to join Acme</p>")
    );
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("dev")
        .confirmation_code(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(status(&c, &p, "dev").await, UserStatusType::Confirmed);
    assert_signed(&lambda, &[PRE, CUSTOM, POST]);
}

#[tokio::test]
async fn null_custom_message_fields_fall_back_to_the_pool_template() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let p = pool_with(&c, all_triggers(|f| lambda.function_arn(f)), |b| {
        developer_email(b).verification_message_template(
            VerificationMessageTemplateType::builder()
                .email_message("Pool says {####}.")
                .email_subject("Pool subject")
                .build(),
        )
    })
    .await;
    // All three null (the echoed event): the pool template.
    sign_up(&c, &p, "tmpl", "t@example.com").await;
    let msgs = server.outbox(&p.id, "tmpl").await;
    let code = msgs[0]["Code"].as_str().unwrap();
    assert_eq!(msgs[0]["Subject"], "Pool subject");
    assert_eq!(msgs[0]["Body"], format!("Pool says {code}."));

    // Only a subject: custom subject, template body.
    lambda.script(CUSTOM, |_| {
        Reply::echo_with(json!({"emailSubject": "Just the subject"}))
    });
    c.resend_confirmation_code()
        .client_id(&p.client_id)
        .username("tmpl")
        .send()
        .await
        .unwrap();
    let msgs = server.outbox(&p.id, "tmpl").await;
    let code = msgs[1]["Code"].as_str().unwrap();
    assert_eq!(msgs[1]["Subject"], "Just the subject");
    assert_eq!(msgs[1]["Body"], format!("Pool says {code}."));

    // An SMS text is irrelevant to an email: the template is used.
    lambda.script(CUSTOM, |_| {
        Reply::echo_with(json!({"smsMessage": "sms {####}"}))
    });
    c.resend_confirmation_code()
        .client_id(&p.client_id)
        .username("tmpl")
        .send()
        .await
        .unwrap();
    let msgs = server.outbox(&p.id, "tmpl").await;
    let code = msgs[2]["Code"].as_str().unwrap();
    assert_eq!(msgs[2]["Subject"], "Pool subject");
    assert_eq!(msgs[2]["Body"], format!("Pool says {code}."));
    assert_signed(&lambda, &[PRE, CUSTOM]);
}

#[tokio::test]
async fn custom_email_on_a_cognito_default_pool_is_rejected() {
    let (lambda, server) = setup(&[]).await;
    lambda.script(CUSTOM, |_| {
        Reply::echo_with(json!({"emailMessage": "Code {####}", "emailSubject": "Hi"}))
    });
    let c = server.client();
    let p = email_pool(&c, &lambda).await; // EmailSendingAccount defaults to COGNITO_DEFAULT
    let (code, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("cd")
            .password(PASSWORD)
            .user_attributes(attr("email", "cd@example.com"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidLambdaResponseException");
    assert_eq!(msg, "Unrecognizable lambda output");
    assert!(
        server.outbox(&p.id, "cd").await.is_empty(),
        "nothing is sent"
    );

    // A subject alone is just as unusable there.
    lambda.script(CUSTOM, |_| Reply::echo_with(json!({"emailSubject": "Hi"})));
    let (code, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("cd2")
            .password(PASSWORD)
            .user_attributes(attr("email", "cd2@example.com"))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidLambdaResponseException");
    assert_eq!(msg, "Unrecognizable lambda output");
    assert!(server.outbox(&p.id, "cd2").await.is_empty());

    // Null fields are fine on any pool: the pool's (default) template.
    lambda.script(CUSTOM, |_| Reply::Echo);
    sign_up(&c, &p, "cd3", "cd3@example.com").await;
    let msgs = server.outbox(&p.id, "cd3").await;
    assert_eq!(msgs.len(), 1);
    let code = msgs[0]["Code"].as_str().unwrap();
    assert_eq!(msgs[0]["Subject"], "Your verification code");
    assert_eq!(
        msgs[0]["Body"],
        format!("Your verification code is {code}. ")
    );
    assert_signed(&lambda, &[PRE, CUSTOM]);
}

#[tokio::test]
async fn custom_messages_must_hold_the_code_placeholder_and_fit() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let sms_pool = pool_with(&c, all_triggers(|f| lambda.function_arn(f)), |b| {
        b.auto_verified_attributes(VerifiedAttributeType::PhoneNumber)
    })
    .await;
    let dev_pool = pool_with(
        &c,
        all_triggers(|f| lambda.function_arn(f)),
        developer_email,
    )
    .await;
    let cases: [(&Pool, &str, Value); 4] = [
        (
            &sms_pool,
            "phone_number",
            json!({"smsMessage": "no code here"}),
        ),
        (
            &sms_pool,
            "phone_number",
            json!({"smsMessage": format!("{{####}}{}", "x".repeat(135))}),
        ),
        (&dev_pool, "email", json!({"emailMessage": "no code here"})),
        (
            &dev_pool,
            "email",
            json!({"emailMessage": "{####}", "emailSubject": "s".repeat(141)}),
        ),
    ];
    for (i, (p, attribute, response)) in cases.into_iter().enumerate() {
        lambda.script(CUSTOM, move |_| Reply::echo_with(response.clone()));
        let value = if attribute == "email" {
            format!("r{i}@example.com")
        } else {
            format!("+1206555010{i}")
        };
        let username = format!("rule{i}");
        let (code, msg) = err_of(
            c.sign_up()
                .client_id(&p.client_id)
                .username(&username)
                .password(PASSWORD)
                .user_attributes(attr(attribute, &value))
                .send()
                .await,
        );
        assert_eq!(code, "InvalidLambdaResponseException", "case {i}");
        assert_eq!(msg, "Unrecognizable lambda output", "case {i}");
        assert!(server.outbox(&p.id, &username).await.is_empty(), "case {i}");
    }
    // At the limit is fine: 140 characters including the placeholder.
    let at_limit = format!("{{####}}{}", "x".repeat(134));
    assert_eq!(at_limit.chars().count(), 140);
    let text = at_limit.clone();
    lambda.script(CUSTOM, move |_| {
        Reply::echo_with(json!({"smsMessage": text.clone()}))
    });
    c.sign_up()
        .client_id(&sms_pool.client_id)
        .username("limit")
        .password(PASSWORD)
        .user_attributes(attr("phone_number", "+12065550199"))
        .send()
        .await
        .unwrap();
    let code = server.last_code(&sms_pool.id, "limit").await;
    let msgs = server.outbox(&sms_pool.id, "limit").await;
    assert_eq!(msgs[0]["Body"], at_limit.replace("{####}", &code));
    assert_signed(&lambda, &[PRE, CUSTOM]);
}

// ----------------------------------------------------------- PostConfirmation

#[tokio::test]
async fn post_confirmation_after_confirm_sign_up() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let out = sign_up(&c, &p, "conf", "conf@example.com").await;
    assert!(lambda.events(POST).is_empty(), "not before confirmation");
    let code = server.last_code(&p.id, "conf").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("conf")
        .confirmation_code(&code)
        .client_metadata("plan", "pro")
        .send()
        .await
        .unwrap();
    let events = lambda.events(POST);
    assert_eq!(events.len(), 1, "{events:?}");
    let ev = &events[0];
    assert_envelope(
        ev,
        "PostConfirmation_ConfirmSignUp",
        &p,
        "conf",
        &p.client_id,
    );
    assert_eq!(
        ev["request"],
        json!({
            "userAttributes": {
                "email": "conf@example.com",
                "email_verified": "true",
                "sub": out.user_sub(),
                "cognito:user_status": "CONFIRMED",
            },
            "clientMetadata": {"plan": "pro"},
        })
    );
    assert_eq!(ev["response"], json!({}));
    assert_eq!(status(&c, &p, "conf").await, UserStatusType::Confirmed);
    assert_signed(&lambda, &[PRE, CUSTOM, POST]);
}

#[tokio::test]
async fn post_confirmation_after_admin_confirm_sign_up() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let out = sign_up(&c, &p, "admin", "admin@example.com").await;
    c.admin_confirm_sign_up()
        .user_pool_id(&p.id)
        .username("admin")
        .client_metadata("by", "support-desk")
        .send()
        .await
        .unwrap();
    let events = lambda.events(POST);
    assert_eq!(events.len(), 1, "{events:?}");
    let ev = &events[0];
    assert_envelope(
        ev,
        "PostConfirmation_ConfirmSignUp",
        &p,
        "admin",
        CLIENT_ID_NOT_APPLICABLE,
    );
    assert_eq!(ev["callerContext"]["clientId"], "CLIENT_ID_NOT_APPLICABLE");
    assert_eq!(ev["request"]["userAttributes"]["sub"], out.user_sub());
    assert_eq!(
        ev["request"]["userAttributes"]["email"],
        "admin@example.com"
    );
    assert_eq!(
        ev["request"]["userAttributes"]["cognito:user_status"],
        "CONFIRMED"
    );
    assert_eq!(
        ev["request"]["clientMetadata"],
        json!({"by": "support-desk"})
    );
    assert_eq!(status(&c, &p, "admin").await, UserStatusType::Confirmed);
    assert_signed(&lambda, &[PRE, CUSTOM, POST]);
}

#[tokio::test]
async fn post_confirmation_failure_is_reported_but_the_user_stays_confirmed() {
    let (lambda, server) = setup(&[]).await;
    lambda.script(POST, |_| Reply::function_error("CRM is down"));
    let c = server.client();
    let p = email_pool(&c, &lambda).await;

    // ConfirmSignUp.
    sign_up(&c, &p, "one", "one@example.com").await;
    let code = server.last_code(&p.id, "one").await;
    let (ecode, msg) = err_of(
        c.confirm_sign_up()
            .client_id(&p.client_id)
            .username("one")
            .confirmation_code(&code)
            .send()
            .await,
    );
    assert_eq!(ecode, "UserLambdaValidationException");
    assert_eq!(msg, "PostConfirmation failed with error CRM is down.");
    assert_eq!(status(&c, &p, "one").await, UserStatusType::Confirmed);
    assert_eq!(
        attribute(&c, &p, "one", "email_verified").await.as_deref(),
        Some("true")
    );

    // AdminConfirmSignUp.
    sign_up(&c, &p, "two", "two@example.com").await;
    let (ecode, msg) = err_of(
        c.admin_confirm_sign_up()
            .user_pool_id(&p.id)
            .username("two")
            .send()
            .await,
    );
    assert_eq!(ecode, "UserLambdaValidationException");
    assert_eq!(msg, "PostConfirmation failed with error CRM is down.");
    assert_eq!(status(&c, &p, "two").await, UserStatusType::Confirmed);

    // Auto-confirmation by PreSignUp.
    lambda.script(PRE, |_| Reply::echo_with(json!({"autoConfirmUser": true})));
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("three")
            .password(PASSWORD)
            .user_attributes(attr("email", "three@example.com"))
            .send()
            .await,
    );
    assert_eq!(ecode, "UserLambdaValidationException");
    assert_eq!(msg, "PostConfirmation failed with error CRM is down.");
    assert_eq!(status(&c, &p, "three").await, UserStatusType::Confirmed);

    // A second confirmation attempt sees the committed state.
    let (ecode, _) = err_of(
        c.confirm_sign_up()
            .client_id(&p.client_id)
            .username("one")
            .confirmation_code(&code)
            .send()
            .await,
    );
    assert_eq!(ecode, "NotAuthorizedException");
    assert_eq!(
        lambda.events(POST).len(),
        3,
        "function errors are not retried"
    );
    assert_signed(&lambda, &[PRE, CUSTOM, POST]);
}

// ------------------------------------------------------------ ClientMetadata

/// Fails if `marker` appears in the database (SQLite files, or every table of the
/// PostgreSQL test database) or in the server log.
async fn assert_stored_nowhere(server: &Server, marker: &str) {
    if let Ok(url) = std::env::var("COGNATE_TEST_DATABASE_URL") {
        use sqlx::Row;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&url).await.unwrap();
        let tables = sqlx::query(
            "SELECT CAST(table_name AS TEXT) AS t FROM information_schema.tables \
             WHERE table_schema = current_schema()",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for table in tables {
            let table: String = table.try_get("t").unwrap();
            let rows = sqlx::query(&format!(
                "SELECT CAST(x AS TEXT) AS row_text FROM \"{table}\" x"
            ))
            .fetch_all(&pool)
            .await
            .unwrap();
            for row in rows {
                let text: String = row.try_get("row_text").unwrap();
                assert!(!text.contains(marker), "{table} holds client metadata");
            }
        }
        pool.close().await;
    } else {
        let dir = server.data_dir.path().join("data");
        let mut files = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            files += 1;
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{} holds client metadata",
                path.display()
            );
        }
        assert!(files > 0, "no database files found in {}", dir.display());
    }
    assert!(
        !server.log().contains(marker),
        "the log holds client metadata"
    );
}

#[tokio::test]
async fn client_metadata_reaches_the_functions_and_is_stored_nowhere() {
    let (lambda, server) = setup(&[]).await;
    let c = server.client();
    let p = email_pool(&c, &lambda).await;
    let marker = format!("cm-{}", uuid::Uuid::new_v4());
    c.sign_up()
        .client_id(&p.client_id)
        .username("meta")
        .password(PASSWORD)
        .user_attributes(attr("email", "meta@example.com"))
        .client_metadata("k", format!("{marker}-signup"))
        .send()
        .await
        .unwrap();
    c.resend_confirmation_code()
        .client_id(&p.client_id)
        .username("meta")
        .client_metadata("k", format!("{marker}-resend"))
        .send()
        .await
        .unwrap();
    let code = server.last_code(&p.id, "meta").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("meta")
        .confirmation_code(&code)
        .client_metadata("k", format!("{marker}-confirm"))
        .send()
        .await
        .unwrap();
    sign_up(&c, &p, "meta2", "meta2@example.com").await;
    c.admin_confirm_sign_up()
        .user_pool_id(&p.id)
        .username("meta2")
        .client_metadata("k", format!("{marker}-admin"))
        .send()
        .await
        .unwrap();

    let md = |ev: &Value| {
        ev["request"]["clientMetadata"]["k"]
            .as_str()
            .map(str::to_string)
    };
    let pre = lambda.events(PRE);
    assert_eq!(md(&pre[0]), Some(format!("{marker}-signup")));
    assert_eq!(md(&pre[1]), None, "meta2 was signed up without metadata");
    let custom = lambda.events(CUSTOM);
    assert_eq!(custom.len(), 3);
    assert_eq!(md(&custom[0]), Some(format!("{marker}-signup")));
    assert_eq!(md(&custom[1]), Some(format!("{marker}-resend")));
    let post = lambda.events(POST);
    assert_eq!(post.len(), 2);
    assert_eq!(md(&post[0]), Some(format!("{marker}-confirm")));
    assert_eq!(md(&post[1]), Some(format!("{marker}-admin")));

    assert_stored_nowhere(&server, &marker).await;
    assert_signed(&lambda, &[PRE, CUSTOM, POST]);
}

// ------------------------------------------------------------------- Webhook

const WEBHOOK_ACCOUNT_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function";

fn webhook_arn(f: &str) -> String {
    format!("{WEBHOOK_ACCOUNT_ARN}:{f}")
}

/// A server that sends the three functions' events to `hook`, configured with
/// repeated `--trigger-webhook` flags (`via_env` = false) or with the comma-separated
/// `COGNATE_TRIGGER_WEBHOOKS` variable. No AWS configuration is given at all.
async fn webhook_server(hook: &FakeWebhook, via_env: bool, extra: &[&str]) -> Server {
    let mut b = Server::builder();
    let entries: Vec<String> = [PRE, CUSTOM, POST]
        .iter()
        .map(|f| format!("{}={}", webhook_arn(f), hook.url(f)))
        .collect();
    if via_env {
        b = b.env("COGNATE_TRIGGER_WEBHOOKS", entries.join(","));
    } else {
        for e in entries {
            b = b.arg("--trigger-webhook").arg(e);
        }
    }
    for a in extra {
        b = b.arg(*a);
    }
    b.start().await
}

#[tokio::test]
async fn webhook_transport_happy_path() {
    let hook = FakeWebhook::start().await;
    hook.script(PRE, |_| {
        Reply::echo_with(json!({"autoConfirmUser": true, "autoVerifyEmail": true}))
    });
    hook.script(CUSTOM, |_| Reply::Echo);
    hook.script(POST, |_| Reply::Echo);
    let server = webhook_server(&hook, false, &[]).await;
    let c = server.client();
    let p = pool_with(&c, all_triggers(webhook_arn), |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
    })
    .await;
    let out = c
        .sign_up()
        .client_id(&p.client_id)
        .username("hooked")
        .password(PASSWORD)
        .user_attributes(attr("email", "hooked@example.com"))
        .validation_data(attr("invite", "W-1"))
        .client_metadata("via", "webhook")
        .send()
        .await
        .unwrap();
    assert!(out.user_confirmed());
    assert_eq!(status(&c, &p, "hooked").await, UserStatusType::Confirmed);
    assert_eq!(
        attribute(&c, &p, "hooked", "email_verified")
            .await
            .as_deref(),
        Some("true")
    );
    assert!(server.outbox(&p.id, "hooked").await.is_empty());

    let pre = hook.events(PRE);
    assert_eq!(pre.len(), 1);
    assert_envelope(&pre[0], "PreSignUp_SignUp", &p, "hooked", &p.client_id);
    assert_eq!(
        pre[0]["request"],
        json!({
            "userAttributes": {
                "email": "hooked@example.com",
                "sub": out.user_sub(),
                "cognito:user_status": "UNCONFIRMED",
            },
            "validationData": {"invite": "W-1"},
            "clientMetadata": {"via": "webhook"},
        })
    );
    let post = hook.events(POST);
    assert_eq!(post.len(), 1);
    assert_envelope(
        &post[0],
        "PostConfirmation_ConfirmSignUp",
        &p,
        "hooked",
        &p.client_id,
    );
    assert_eq!(
        post[0]["request"]["clientMetadata"],
        json!({"via": "webhook"})
    );
    let triggers: Vec<Option<String>> = hook
        .invocations(PRE)
        .into_iter()
        .chain(hook.invocations(POST))
        .map(|i| i.trigger)
        .collect();
    assert_eq!(
        triggers,
        [
            Some("PreSignUp".to_string()),
            Some("PostConfirmation".to_string())
        ]
    );

    // The normal flow through the webhook: CustomMessage_SignUp (null fields: the pool
    // template), then ConfirmSignUp reaches PostConfirmation.
    hook.script(PRE, |_| Reply::Echo);
    sign_up(&c, &p, "hooked2", "h2@example.com").await;
    let custom = hook.events(CUSTOM);
    assert_eq!(custom.len(), 1);
    assert_envelope(
        &custom[0],
        "CustomMessage_SignUp",
        &p,
        "hooked2",
        &p.client_id,
    );
    assert_eq!(custom[0]["request"]["codeParameter"], "{####}");
    let code = server.last_code(&p.id, "hooked2").await;
    let msgs = server.outbox(&p.id, "hooked2").await;
    assert_eq!(
        msgs[0]["Body"],
        format!("Your verification code is {code}. ")
    );
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("hooked2")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    assert_eq!(hook.events(POST).len(), 2);
    assert_eq!(hook.events(POST)[1]["userName"], "hooked2");
}

#[tokio::test]
async fn webhook_transport_errors_map_like_lambda() {
    let hook = FakeWebhook::start().await;
    hook.script(CUSTOM, |_| Reply::Echo);
    hook.script(POST, |_| Reply::Echo);
    let server = webhook_server(&hook, true, &["--trigger-timeout-ms", "300"]).await;
    let c = server.client();
    let p = pool_with(&c, all_triggers(webhook_arn), |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
    })
    .await;
    let cases: [(Reply, &str, &str); 4] = [
        (
            Reply::function_error("Not on the guest list"),
            "UserLambdaValidationException",
            "PreSignUp failed with error Not on the guest list.",
        ),
        (
            Reply::Raw("<html>oops</html>".into()),
            "InvalidLambdaResponseException",
            "Unrecognizable lambda output",
        ),
        (
            Reply::internal_error(),
            "UnexpectedLambdaException",
            "PreSignUp invocation failed due to error ServiceException",
        ),
        (
            Reply::sleep(Duration::from_secs(5), Reply::Echo),
            "UnexpectedLambdaException",
            "PreSignUp invocation failed due to error Socket timeout while invoking Lambda function.",
        ),
    ];
    for (i, (reply, want_code, want_msg)) in cases.into_iter().enumerate() {
        hook.script(PRE, move |_| reply.clone());
        let started = Instant::now();
        let (code, msg) = err_of(
            c.sign_up()
                .client_id(&p.client_id)
                .username(format!("w{i}"))
                .password(PASSWORD)
                .user_attributes(attr("email", "w@example.com"))
                .send()
                .await,
        );
        assert_eq!(code, want_code, "case {i}");
        assert_eq!(msg, want_msg, "case {i}");
        assert!(started.elapsed() < Duration::from_secs(4), "case {i}");
    }
    assert_eq!(
        user_count(&c, &p).await,
        0,
        "a PreSignUp failure creates no user"
    );
    // 1 (function error) + 1 (invalid output) + 3 (5xx, retried) + 3 (timeouts, retried).
    assert_eq!(hook.events(PRE).len(), 8);
}
