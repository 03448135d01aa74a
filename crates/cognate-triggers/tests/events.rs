//! Event shapes, response validation and the AWS error mapping.

use cognate_triggers::events::{self, Attrs, EventContext, Metadata};
use cognate_triggers::{TriggerError, TriggerKind};
use serde_json::{json, Value};

fn ctx(source: &str, client: Option<&str>, ua: Option<&str>) -> EventContext {
    EventContext {
        trigger_source: source.to_string(),
        region: "eu-west-1".to_string(),
        user_pool_id: "eu-west-1_AbCdEf123".to_string(),
        user_name: "7c4e2a10-1111-2222-3333-444455556666".to_string(),
        client_id: client.map(str::to_string),
        user_agent: ua.map(str::to_string),
    }
}

fn attrs() -> Attrs {
    [
        ("sub", "7c4e2a10-1111-2222-3333-444455556666"),
        ("email", "jane@example.com"),
        ("email_verified", "false"),
        ("cognito:user_status", "UNCONFIRMED"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn map(pairs: &[(&str, &str)]) -> Metadata {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn trigger_names() {
    let all = [
        (TriggerKind::PreSignUp, "PreSignUp"),
        (TriggerKind::CustomMessage, "CustomMessage"),
        (TriggerKind::PostConfirmation, "PostConfirmation"),
        (TriggerKind::PreAuthentication, "PreAuthentication"),
        (TriggerKind::PostAuthentication, "PostAuthentication"),
        (TriggerKind::PreTokenGeneration, "PreTokenGeneration"),
        (TriggerKind::DefineAuthChallenge, "DefineAuthChallenge"),
        (TriggerKind::CreateAuthChallenge, "CreateAuthChallenge"),
        (
            TriggerKind::VerifyAuthChallengeResponse,
            "VerifyAuthChallengeResponse",
        ),
        (TriggerKind::UserMigration, "UserMigration"),
    ];
    for (kind, name) in all {
        assert_eq!(kind.name(), name);
        assert_eq!(kind.to_string(), name);
    }
}

#[test]
fn wire_errors() {
    let f = TriggerError::Function {
        message: "Apikey non valida!".into(),
    };
    assert_eq!(
        wire(&f, TriggerKind::PreSignUp),
        (
            "UserLambdaValidationException",
            "PreSignUp failed with error Apikey non valida!.".to_string()
        )
    );
    let s = TriggerError::Service {
        code: "AccessDeniedException".into(),
    };
    assert_eq!(
        wire(&s, TriggerKind::PreSignUp),
        (
            "UnexpectedLambdaException",
            "PreSignUp invocation failed due to error AccessDeniedException".to_string()
        )
    );
    let t = TriggerError::Service {
        code: cognate_triggers::TIMEOUT_ERROR_CODE.into(),
    };
    assert_eq!(
        wire(&t, TriggerKind::PostConfirmation).1,
        "PostConfirmation invocation failed due to error Socket timeout while invoking Lambda function."
    );
    assert_eq!(
        wire(&TriggerError::InvalidResponse, TriggerKind::CustomMessage),
        (
            "InvalidLambdaResponseException",
            "Unrecognizable lambda output".to_string()
        )
    );
    let m = TriggerError::AutoVerifyWithoutConfirm;
    assert_eq!(
        wire(&m, TriggerKind::PreSignUp),
        (
            "InvalidLambdaResponseException",
            "Phone or email cannot be auto verified, when user is not being auto confirmed."
                .to_string()
        )
    );
}

#[test]
fn sdk_version_from_user_agent() {
    let cases = [
        (
            Some("aws-sdk-rust/1.3.0 os/linux lang/rust/1.95.0"),
            "aws-sdk-rust-1.3.0",
        ),
        (
            Some("aws-sdk-java/1.11.93 Linux/4.9 OpenJDK_64-Bit_Server_VM/25.121"),
            "aws-sdk-java-1.11.93",
        ),
        (
            Some("aws-sdk-java/2.20.43 Linux/5.10 OpenJDK_64-Bit_Server_VM/17"),
            "aws-sdk-java-2.20.43",
        ),
        (
            Some("aws-sdk-nodejs/2.856.0 linux/v14.16.0 exec-env/AWS_Lambda_nodejs14.x"),
            "aws-sdk-nodejs-2.856.0",
        ),
        (
            Some("aws-sdk-js/3.400.0 ua/2.0 os/linux#5.10 lang/js md/nodejs#18.17.0"),
            "aws-sdk-js-3.400.0",
        ),
        (
            Some("Mozilla/5.0 (X11) aws-sdk-js/2.1639.0 promise"),
            "aws-sdk-js-2.1639.0",
        ),
        (
            Some("aws-sdk-go-v2/1.21.0 os/linux lang/go#1.21"),
            "aws-sdk-go-v2-1.21.0",
        ),
        (
            Some("Boto3/1.28.0 md/Botocore#1.31.0 ua/2.0 os/linux#6.1 Python/3.11.4"),
            "aws-sdk-unknown-unknown",
        ),
        (
            Some("aws-cli/2.13.0 Python/3.11.4 Linux/6.1"),
            "aws-sdk-unknown-unknown",
        ),
        (
            Some("Mozilla/5.0 (Macintosh) AppleWebKit/537.36 aws-amplify/6.0.0"),
            "aws-sdk-unknown-unknown",
        ),
        (Some(""), "aws-sdk-unknown-unknown"),
        (Some("aws-sdk-/1.0"), "aws-sdk-unknown-unknown"),
        (Some("aws-sdk-x/"), "aws-sdk-unknown-unknown"),
        (None, "aws-sdk-unknown-unknown"),
    ];
    for (ua, want) in cases {
        assert_eq!(events::aws_sdk_version(ua), want, "{ua:?}");
    }
}

#[test]
fn pre_sign_up_event_shape() {
    let ev = events::pre_sign_up(
        &ctx(
            "PreSignUp_SignUp",
            Some("3n4b5urk1ft4fl3mg5e62d9ado"),
            Some("aws-sdk-rust/1.3.0 os/linux"),
        ),
        &attrs(),
        Some(&map(&[("captcha", "ok")])),
        Some(&map(&[("source", "web"), ("campaign", "x1")])),
    );
    assert_eq!(
        ev,
        json!({
            "version": "1",
            "triggerSource": "PreSignUp_SignUp",
            "region": "eu-west-1",
            "userPoolId": "eu-west-1_AbCdEf123",
            "userName": "7c4e2a10-1111-2222-3333-444455556666",
            "callerContext": {"awsSdkVersion": "aws-sdk-rust-1.3.0", "clientId": "3n4b5urk1ft4fl3mg5e62d9ado"},
            "request": {
                "userAttributes": {
                    "sub": "7c4e2a10-1111-2222-3333-444455556666",
                    "email": "jane@example.com",
                    "email_verified": "false",
                    "cognito:user_status": "UNCONFIRMED"
                },
                "validationData": {"captcha": "ok"},
                "clientMetadata": {"source": "web", "campaign": "x1"}
            },
            "response": {"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false}
        })
    );
}

#[test]
fn pre_sign_up_event_without_optional_data() {
    let ev = events::pre_sign_up(
        &ctx("PreSignUp_AdminCreateUser", None, None),
        &attrs(),
        None,
        None,
    );
    assert_eq!(
        ev["callerContext"],
        json!({"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "CLIENT_ID_NOT_APPLICABLE"})
    );
    assert_eq!(ev["request"]["validationData"], Value::Null);
    let req = ev["request"].as_object().unwrap();
    assert!(
        !req.contains_key("clientMetadata"),
        "clientMetadata must be absent when not given: {ev}"
    );
    assert_eq!(req.len(), 2);
    // An empty ClientMetadata map is passed through as given.
    let ev = events::pre_sign_up(
        &ctx("PreSignUp_SignUp", Some("c"), None),
        &attrs(),
        None,
        Some(&Metadata::new()),
    );
    assert_eq!(ev["request"]["clientMetadata"], json!({}));
}

#[test]
fn custom_message_event_shape() {
    let ev = events::custom_message(
        &ctx(
            "CustomMessage_SignUp",
            Some("client-1"),
            Some("aws-sdk-js/3.400.0 ua/2.0"),
        ),
        &attrs(),
        events::CODE_PARAMETER,
        Some(events::LINK_PARAMETER),
        None,
        Some(&map(&[("lang", "fr")])),
    );
    assert_eq!(
        ev,
        json!({
            "version": "1",
            "triggerSource": "CustomMessage_SignUp",
            "region": "eu-west-1",
            "userPoolId": "eu-west-1_AbCdEf123",
            "userName": "7c4e2a10-1111-2222-3333-444455556666",
            "callerContext": {"awsSdkVersion": "aws-sdk-js-3.400.0", "clientId": "client-1"},
            "request": {
                "userAttributes": {
                    "sub": "7c4e2a10-1111-2222-3333-444455556666",
                    "email": "jane@example.com",
                    "email_verified": "false",
                    "cognito:user_status": "UNCONFIRMED"
                },
                "codeParameter": "{####}",
                "linkParameter": "{##Click Here##}",
                "usernameParameter": null,
                "clientMetadata": {"lang": "fr"}
            },
            "response": {"smsMessage": null, "emailMessage": null, "emailSubject": null}
        })
    );
    let ev = events::custom_message(
        &ctx("CustomMessage_ResendCode", None, None),
        &attrs(),
        "{####}",
        None,
        Some("{username}"),
        None,
    );
    assert_eq!(ev["triggerSource"], "CustomMessage_ResendCode");
    assert_eq!(ev["request"]["linkParameter"], Value::Null);
    assert_eq!(ev["request"]["usernameParameter"], "{username}");
    assert!(ev["request"].get("clientMetadata").is_none());
}

#[test]
fn post_confirmation_event_shape() {
    let mut a = attrs();
    a.insert("cognito:user_status".into(), "CONFIRMED".into());
    a.insert("email_verified".into(), "true".into());
    let ev = events::post_confirmation(
        &ctx(
            "PostConfirmation_ConfirmSignUp",
            None,
            Some("aws-sdk-java/2.20.43 Linux"),
        ),
        &a,
        Some(&map(&[("k", "v")])),
    );
    assert_eq!(
        ev,
        json!({
            "version": "1",
            "triggerSource": "PostConfirmation_ConfirmSignUp",
            "region": "eu-west-1",
            "userPoolId": "eu-west-1_AbCdEf123",
            "userName": "7c4e2a10-1111-2222-3333-444455556666",
            "callerContext": {"awsSdkVersion": "aws-sdk-java-2.20.43", "clientId": "CLIENT_ID_NOT_APPLICABLE"},
            "request": {
                "userAttributes": {
                    "sub": "7c4e2a10-1111-2222-3333-444455556666",
                    "email": "jane@example.com",
                    "email_verified": "true",
                    "cognito:user_status": "CONFIRMED"
                },
                "clientMetadata": {"k": "v"}
            },
            "response": {}
        })
    );
    let ev = events::post_confirmation(
        &ctx("PostConfirmation_ConfirmSignUp", Some("c"), None),
        &a,
        None,
    );
    assert_eq!(ev["request"].as_object().unwrap().len(), 1);
}

fn with_response(ev: &Value, response: Value) -> Value {
    let mut out = ev.clone();
    out["response"] = response;
    out
}

#[test]
fn parse_pre_sign_up_flags() {
    let ev = events::pre_sign_up(
        &ctx("PreSignUp_SignUp", Some("c"), None),
        &attrs(),
        None,
        None,
    );
    // Unchanged event: nothing set.
    assert_eq!(
        events::parse_pre_sign_up(&ev).unwrap(),
        events::PreSignUpResponse::default()
    );
    let r = events::parse_pre_sign_up(&with_response(
        &ev,
        json!({"autoConfirmUser": true, "autoVerifyEmail": true, "autoVerifyPhone": false}),
    ))
    .unwrap();
    assert_eq!(
        r,
        events::PreSignUpResponse {
            auto_confirm_user: true,
            auto_verify_email: true,
            auto_verify_phone: false
        }
    );
    let r = events::parse_pre_sign_up(&with_response(
        &ev,
        json!({"autoConfirmUser": true, "autoVerifyPhone": true}),
    ))
    .unwrap();
    assert!(r.auto_confirm_user && r.auto_verify_phone && !r.auto_verify_email);
    // null / absent members and a null response are all "false".
    let r =
        events::parse_pre_sign_up(&with_response(&ev, json!({"autoConfirmUser": null}))).unwrap();
    assert_eq!(r, events::PreSignUpResponse::default());
    let r = events::parse_pre_sign_up(&with_response(&ev, Value::Null)).unwrap();
    assert_eq!(r, events::PreSignUpResponse::default());
    let r = events::parse_pre_sign_up(&with_response(&ev, json!({}))).unwrap();
    assert_eq!(r, events::PreSignUpResponse::default());
    // Boolean strings are coerced like the Java service does.
    let r =
        events::parse_pre_sign_up(&with_response(&ev, json!({"autoConfirmUser": "true"}))).unwrap();
    assert!(r.auto_confirm_user);
}

#[test]
fn parse_pre_sign_up_rejects() {
    let ev = events::pre_sign_up(
        &ctx("PreSignUp_SignUp", Some("c"), None),
        &attrs(),
        None,
        None,
    );
    for bad in [
        json!({"autoConfirmUser": 1}),
        json!({"autoConfirmUser": "yes"}),
        json!({"autoVerifyEmail": []}),
    ] {
        assert_eq!(
            events::parse_pre_sign_up(&with_response(&ev, bad.clone())),
            Err(TriggerError::InvalidResponse),
            "{bad}"
        );
    }
    for bad in [json!("ok"), json!(true), json!([1])] {
        assert_eq!(
            events::parse_pre_sign_up(&with_response(&ev, bad)),
            Err(TriggerError::InvalidResponse)
        );
    }
    assert_eq!(
        events::parse_pre_sign_up(&json!({"version": "1"})),
        Err(TriggerError::InvalidResponse)
    );
    assert_eq!(
        events::parse_pre_sign_up(&json!(null)),
        Err(TriggerError::InvalidResponse)
    );
    assert_eq!(
        events::parse_pre_sign_up(&json!("event")),
        Err(TriggerError::InvalidResponse)
    );
    // Never verify without confirming.
    for bad in [
        json!({"autoConfirmUser": false, "autoVerifyEmail": true}),
        json!({"autoVerifyPhone": true}),
    ] {
        let err = events::parse_pre_sign_up(&with_response(&ev, bad)).unwrap_err();
        assert_eq!(
            wire(&err, TriggerKind::PreSignUp),
            (
                "InvalidLambdaResponseException",
                "Phone or email cannot be auto verified, when user is not being auto confirmed."
                    .to_string()
            )
        );
    }
}

fn cm_event() -> Value {
    events::custom_message(
        &ctx("CustomMessage_SignUp", Some("c"), None),
        &attrs(),
        "{####}",
        None,
        None,
        None,
    )
}

#[test]
fn parse_custom_message_accepts() {
    let ev = cm_event();
    assert_eq!(
        events::parse_custom_message(&ev, false).unwrap(),
        events::CustomMessageResponse::default()
    );
    assert_eq!(
        events::parse_custom_message(&with_response(&ev, Value::Null), false).unwrap(),
        events::CustomMessageResponse::default()
    );
    let r = events::parse_custom_message(
        &with_response(&ev, json!({"smsMessage": "Code: {####}"})),
        false,
    )
    .unwrap();
    assert_eq!(r.sms_message.as_deref(), Some("Code: {####}"));
    assert_eq!(r.email_message, None);
    let r = events::parse_custom_message(
        &with_response(
            &ev,
            json!({"smsMessage": null, "emailMessage": "<b>Welcome</b> {####}", "emailSubject": "Welcome!"}),
        ),
        true,
    )
    .unwrap();
    assert_eq!(
        r,
        events::CustomMessageResponse {
            sms_message: None,
            email_message: Some("<b>Welcome</b> {####}".into()),
            email_subject: Some("Welcome!".into()),
        }
    );
    // Limits are inclusive and counted in characters, not bytes.
    let sms = format!("{}{{####}}", "é".repeat(140 - 6));
    assert_eq!(sms.chars().count(), 140);
    assert!(
        events::parse_custom_message(&with_response(&ev, json!({"smsMessage": sms})), false)
            .is_ok()
    );
    let email = format!("{}{{####}}", "x".repeat(20_000 - 6));
    assert!(events::parse_custom_message(
        &with_response(&ev, json!({"emailMessage": email})),
        true
    )
    .is_ok());
    let subject = "s".repeat(140);
    assert!(events::parse_custom_message(
        &with_response(&ev, json!({"emailSubject": subject})),
        true
    )
    .is_ok());
}

#[test]
fn parse_custom_message_rejects() {
    let ev = cm_event();
    let bad = |resp: Value, dev: bool| {
        assert_eq!(
            events::parse_custom_message(&with_response(&ev, resp.clone()), dev),
            Err(TriggerError::InvalidResponse),
            "{resp} dev={dev}"
        );
    };
    // No code placeholder.
    bad(json!({"smsMessage": "hello"}), false);
    bad(json!({"smsMessage": ""}), false);
    bad(
        json!({"emailMessage": "no code here", "emailSubject": "s"}),
        true,
    );
    bad(json!({"smsMessage": "code {###}"}), false);
    // Too long.
    bad(
        json!({"smsMessage": format!("{}{{####}}", "x".repeat(135))}),
        false,
    );
    bad(
        json!({"emailMessage": format!("{}{{####}}", "x".repeat(19_995))}),
        true,
    );
    bad(json!({"emailSubject": "s".repeat(141)}), true);
    // Email customisation without a DEVELOPER sending account.
    bad(json!({"emailMessage": "Code {####}"}), false);
    bad(json!({"emailSubject": "Subject"}), false);
    bad(
        json!({"smsMessage": "Code {####}", "emailMessage": "Code {####}", "emailSubject": "S"}),
        false,
    );
    // Wrong types.
    bad(json!({"smsMessage": 12}), false);
    bad(json!({"emailSubject": ["x"]}), true);
    bad(json!("response"), true);
    assert_eq!(
        events::parse_custom_message(&json!({"request": {}}), true),
        Err(TriggerError::InvalidResponse)
    );
    assert_eq!(
        events::parse_custom_message(&json!(42), true),
        Err(TriggerError::InvalidResponse)
    );
}

#[test]
fn envelope_check() {
    assert!(events::check_envelope(&json!({"response": {}})).is_ok());
    assert!(events::check_envelope(&json!({"response": null})).is_ok());
    assert_eq!(
        events::check_envelope(&json!({})),
        Err(TriggerError::InvalidResponse)
    );
    assert_eq!(
        events::check_envelope(&json!({"response": "x"})),
        Err(TriggerError::InvalidResponse)
    );
    assert_eq!(
        events::check_envelope(&json!([{"response": {}}])),
        Err(TriggerError::InvalidResponse)
    );
    assert_eq!(
        events::check_envelope(&Value::Null),
        Err(TriggerError::InvalidResponse)
    );
}

/// The AWS error type name and message the server answers for a trigger failure.
fn wire(e: &TriggerError, kind: TriggerKind) -> (&'static str, String) {
    let (kind, message) = cognate_server::errors::trigger_wire(kind, e);
    (kind.name(), message)
}
