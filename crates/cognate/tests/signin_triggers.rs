#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sign-in's Lambda triggers through the real Lambda Invoke API (a SigV4-verifying fake):
//! PreAuthentication, PostAuthentication and PreTokenGeneration (versions 1 and 2).

mod common;

use std::collections::HashMap;

use aws_sdk_cognitoidentityprovider as cip;
use base64::Engine;
use cip::types::{
    AuthFlowType, ExplicitAuthFlowsType, LambdaConfigType, PreTokenGenerationLambdaVersionType,
    PreTokenGenerationVersionConfigType, PreventUserExistenceErrorTypes, VerifiedAttributeType,
};
use cognate_triggers::test_support::{FakeLambda, Reply};
use common::*;
use serde_json::{json, Value};

const PRE_AUTH: &str = "pre-auth";
const POST_AUTH: &str = "post-auth";
const PRE_TOKEN: &str = "pre-token";

async fn lambda_server(lambda: &FakeLambda) -> Server {
    let mut b = Server::builder();
    for (k, v) in lambda.env_vars() {
        b = b.env(k, v);
    }
    b.start().await
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap()
}

async fn pool(c: &cip::Client, lambda_config: LambdaConfigType, hide_existence: bool) -> Pool {
    let p = create_pool(
        c,
        "signin-triggers",
        |b| {
            b.auto_verified_attributes(VerifiedAttributeType::Email)
                .lambda_config(lambda_config)
        },
        |b| {
            let b = b
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowCustomAuth);
            if hide_existence {
                b.prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
            } else {
                b
            }
        },
    )
    .await;
    sign_up(c, &p, "ann", "ann@example.com").await;
    c.admin_confirm_sign_up()
        .user_pool_id(&p.id)
        .username("ann")
        .send()
        .await
        .unwrap();
    p
}

fn password_auth(
    c: &cip::Client,
    p: &Pool,
    username: &str,
    password: &str,
) -> cip::operation::initiate_auth::builders::InitiateAuthFluentBuilder {
    c.initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
}

#[tokio::test]
async fn pre_and_post_authentication_see_the_sign_in_and_can_refuse_it() {
    let lambda = FakeLambda::start().await;
    lambda.script(PRE_AUTH, |_| Reply::Echo);
    lambda.script(POST_AUTH, |_| Reply::Echo);
    let server = lambda_server(&lambda).await;
    let c = server.client();
    let config = LambdaConfigType::builder()
        .pre_authentication(lambda.function_arn(PRE_AUTH))
        .post_authentication(lambda.function_arn(POST_AUTH))
        .build();
    let p = pool(&c, config, true).await;
    password_auth(&c, &p, "ann", PASSWORD)
        .client_metadata("app", "web")
        .send()
        .await
        .unwrap();
    let pre = lambda.events(PRE_AUTH);
    assert_eq!(pre.len(), 1);
    assert_eq!(pre[0]["triggerSource"], "PreAuthentication_Authentication");
    assert_eq!(pre[0]["userName"], "ann");
    assert_eq!(pre[0]["callerContext"]["clientId"], p.client_id.as_str());
    assert_eq!(
        pre[0]["request"]["userAttributes"]["email"],
        "ann@example.com"
    );
    assert_eq!(pre[0]["request"]["validationData"], json!({"app": "web"}));
    assert_eq!(pre[0]["request"]["userNotFound"], false);
    let post = lambda.events(POST_AUTH);
    assert_eq!(post.len(), 1);
    assert_eq!(
        post[0]["triggerSource"],
        "PostAuthentication_Authentication"
    );
    assert_eq!(post[0]["request"]["clientMetadata"], json!({"app": "web"}));
    assert_eq!(post[0]["request"]["newDeviceUsed"], false);

    // A wrong password: PreAuthentication ran, PostAuthentication did not.
    err_of(password_auth(&c, &p, "ann", "Wr0ng-password").send().await);
    assert_eq!(lambda.events(PRE_AUTH).len(), 2);
    assert_eq!(lambda.events(POST_AUTH).len(), 1);
    // A name of no user, with existence hidden: PreAuthentication hears userNotFound.
    err_of(password_auth(&c, &p, "nobody", PASSWORD).send().await);
    let pre = lambda.events(PRE_AUTH);
    assert_eq!(pre[2]["request"]["userNotFound"], true);
    assert_eq!(pre[2]["userName"], "nobody");

    // Refusals: no tokens, AWS's errors.
    lambda.script(PRE_AUTH, |_| Reply::function_error("Not today"));
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", PASSWORD).send().await),
        (
            "UserLambdaValidationException".to_string(),
            "PreAuthentication failed with error Not today.".to_string()
        )
    );
    lambda.script(PRE_AUTH, |_| Reply::Echo);
    lambda.script(POST_AUTH, |_| Reply::function_error("Blocked"));
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", PASSWORD).send().await),
        (
            "UserLambdaValidationException".to_string(),
            "PostAuthentication failed with error Blocked.".to_string()
        )
    );
}

#[tokio::test]
async fn pre_token_generation_v1_changes_the_id_token() {
    let lambda = FakeLambda::start().await;
    lambda.script(PRE_TOKEN, |_| {
        Reply::echo_with(json!({"claimsOverrideDetails": {
            "claimsToAddOrOverride": {"tenant": "acme", "email": "hidden@example.com"},
            "claimsToSuppress": ["email_verified"],
            "groupOverrideDetails": {
                "groupsToOverride": ["admins", "staff"],
                "iamRolesToOverride": ["arn:aws:iam::123456789012:role/admin"],
                "preferredRole": "arn:aws:iam::123456789012:role/admin"
            }
        }}))
    });
    let server = lambda_server(&lambda).await;
    let c = server.client();
    let config = LambdaConfigType::builder()
        .pre_token_generation(lambda.function_arn(PRE_TOKEN))
        .build();
    let p = pool(&c, config, false).await;
    let out = password_auth(&c, &p, "ann", PASSWORD).send().await.unwrap();
    let result = out.authentication_result().unwrap();
    let id = claims(result.id_token().unwrap());
    assert_eq!(id["tenant"], "acme");
    assert_eq!(id["email"], "hidden@example.com");
    assert!(id.get("email_verified").is_none());
    let access = claims(result.access_token().unwrap());
    assert!(
        access.get("tenant").is_none(),
        "version 1 changes the ID token only"
    );
    // ...except for the groups, which both tokens carry; the roles are the ID token's.
    assert_eq!(id["cognito:groups"], json!(["admins", "staff"]));
    assert_eq!(access["cognito:groups"], json!(["admins", "staff"]));
    assert_eq!(
        id["cognito:roles"],
        json!(["arn:aws:iam::123456789012:role/admin"])
    );
    assert_eq!(
        id["cognito:preferred_role"],
        "arn:aws:iam::123456789012:role/admin"
    );
    assert!(access.get("cognito:roles").is_none());
    let events = lambda.events(PRE_TOKEN);
    assert_eq!(events[0]["version"], "1");
    assert_eq!(events[0]["triggerSource"], "TokenGeneration_Authentication");
    assert_eq!(
        events[0]["request"]["groupConfiguration"]["groupsToOverride"],
        json!([])
    );

    // On refresh the trigger runs again, with its own source.
    c.initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", result.refresh_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(
        lambda.events(PRE_TOKEN)[1]["triggerSource"],
        "TokenGeneration_RefreshTokens"
    );

    // A protected claim cannot be changed: the answer is refused.
    lambda.script(PRE_TOKEN, |_| {
        Reply::echo_with(json!({"claimsOverrideDetails": {
            "claimsToAddOrOverride": {"sub": "someone-else"}}}))
    });
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", PASSWORD).send().await),
        (
            "InvalidLambdaResponseException".to_string(),
            "Unrecognizable lambda output".to_string()
        )
    );
}

#[tokio::test]
async fn pre_token_generation_v2_changes_both_tokens_and_scopes() {
    let lambda = FakeLambda::start().await;
    lambda.script(PRE_TOKEN, |_| {
        Reply::echo_with(json!({"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {"claimsToAddOrOverride": {"roles": ["admin", "ops"]}},
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"tier": 3},
                "scopesToAdd": ["orders/read"],
                "scopesToSuppress": ["aws.cognito.signin.user.admin"]
            },
            "groupOverrideDetails": {"groupsToOverride": ["readers"], "preferredRole": null}
        }}))
    });
    let server = lambda_server(&lambda).await;
    let c = server.client();
    let config = LambdaConfigType::builder()
        .pre_token_generation_config(
            PreTokenGenerationVersionConfigType::builder()
                .lambda_version(PreTokenGenerationLambdaVersionType::V20)
                .lambda_arn(lambda.function_arn(PRE_TOKEN))
                .build()
                .unwrap(),
        )
        .build();
    let p = pool(&c, config, false).await;
    let out = password_auth(&c, &p, "ann", PASSWORD).send().await.unwrap();
    let result = out.authentication_result().unwrap();
    let id = claims(result.id_token().unwrap());
    assert_eq!(id["roles"], json!(["admin", "ops"]));
    let access = claims(result.access_token().unwrap());
    assert_eq!(access["tier"], 3);
    assert_eq!(access["scope"], "orders/read");
    assert_eq!(id["cognito:groups"], json!(["readers"]));
    assert_eq!(access["cognito:groups"], json!(["readers"]));
    assert!(id.get("cognito:roles").is_none() && id.get("cognito:preferred_role").is_none());
    let event = &lambda.events(PRE_TOKEN)[0];
    assert_eq!(event["version"], "2");
    assert_eq!(
        event["request"]["scopes"],
        json!(["aws.cognito.signin.user.admin"])
    );
    let attrs: HashMap<String, Value> =
        serde_json::from_value(event["request"]["userAttributes"].clone()).unwrap();
    assert_eq!(attrs["cognito:user_status"], "CONFIRMED");
}

const MIGRATE: &str = "migrate";

#[tokio::test]
async fn user_migration_creates_the_user_at_sign_in() {
    let lambda = FakeLambda::start().await;
    lambda.script(MIGRATE, |event| match event["userName"].as_str() {
        Some("legacy") => Reply::echo_with(json!({
            "userAttributes": {"email": "legacy@example.com", "email_verified": "true"},
            "finalUserStatus": "CONFIRMED",
            "messageAction": "SUPPRESS"
        })),
        Some("needs-reset") => Reply::echo_with(json!({
            "userAttributes": {"email": "reset@example.com"}
        })),
        _ => Reply::Echo,
    });
    let server = lambda_server(&lambda).await;
    let c = server.client();
    let config = LambdaConfigType::builder()
        .user_migration(lambda.function_arn(MIGRATE))
        .build();
    let p = pool(&c, config, false).await;

    let out = password_auth(&c, &p, "legacy", "0ld-system-pw")
        .client_metadata("source", "migration-test")
        .send()
        .await
        .unwrap();
    let id = claims(out.authentication_result().unwrap().id_token().unwrap());
    assert_eq!(id["cognito:username"], "legacy");
    assert_eq!(id["email"], "legacy@example.com");
    assert_eq!(id["email_verified"], true);
    let event = &lambda.events(MIGRATE)[0];
    assert_eq!(event["triggerSource"], "UserMigration_Authentication");
    assert_eq!(event["userName"], "legacy");
    assert_eq!(event["request"]["password"], "0ld-system-pw");
    assert_eq!(
        event["request"]["validationData"],
        json!({"source": "migration-test"})
    );
    let user = c
        .admin_get_user()
        .user_pool_id(&p.id)
        .username("legacy")
        .send()
        .await
        .unwrap();
    assert_eq!(
        user.user_status(),
        Some(&cip::types::UserStatusType::Confirmed)
    );
    // The migrated password is the user's now: the next sign-in needs no migration.
    password_auth(&c, &p, "legacy", "0ld-system-pw")
        .send()
        .await
        .unwrap();
    assert_eq!(lambda.events(MIGRATE).len(), 1);

    // Left RESET_REQUIRED (the default), the user must reset the password.
    assert_eq!(
        err_of(
            password_auth(&c, &p, "needs-reset", "whatever")
                .send()
                .await
        ),
        (
            "PasswordResetRequiredException".to_string(),
            "Password reset required for the user".to_string()
        )
    );
    // A name the function does not know stays unknown.
    assert_eq!(
        err_of(password_auth(&c, &p, "stranger", "whatever").send().await).0,
        "UserNotFoundException"
    );
    // A function error is the caller's error, as for any trigger.
    lambda.script(MIGRATE, |_| Reply::function_error("Legacy system down"));
    assert_eq!(
        err_of(password_auth(&c, &p, "another", "whatever").send().await),
        (
            "UserLambdaValidationException".to_string(),
            "UserMigration failed with error Legacy system down.".to_string()
        )
    );
}

const DEFINE: &str = "define";
const CREATE: &str = "create";
const VERIFY: &str = "verify";

#[tokio::test]
async fn custom_auth_runs_define_create_verify_across_rounds() {
    let lambda = FakeLambda::start().await;
    lambda.script(DEFINE, |event| {
        let session = event["request"]["session"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let last_correct = session
            .last()
            .is_some_and(|r| r["challengeResult"] == json!(true));
        if last_correct {
            Reply::echo_with(json!({"issueTokens": true}))
        } else if session.len() >= 2 {
            Reply::echo_with(json!({"failAuthentication": true}))
        } else {
            Reply::echo_with(json!({"challengeName": "CUSTOM_CHALLENGE"}))
        }
    });
    lambda.script(CREATE, |event| {
        let round = event["request"]["session"].as_array().map_or(0, Vec::len);
        Reply::echo_with(json!({
            "publicChallengeParameters": {"question": "2+2"},
            "privateChallengeParameters": {"answer": "4"},
            "challengeMetadata": format!("ROUND-{round}")
        }))
    });
    lambda.script(VERIFY, |event| {
        let correct = event["request"]["challengeAnswer"]
            == event["request"]["privateChallengeParameters"]["answer"];
        Reply::echo_with(json!({"answerCorrect": correct}))
    });
    let server = lambda_server(&lambda).await;
    let c = server.client();
    let config = LambdaConfigType::builder()
        .define_auth_challenge(lambda.function_arn(DEFINE))
        .create_auth_challenge(lambda.function_arn(CREATE))
        .verify_auth_challenge_response(lambda.function_arn(VERIFY))
        .build();
    let p = pool(&c, config, false).await;
    let start = || {
        c.initiate_auth()
            .client_id(&p.client_id)
            .auth_flow(AuthFlowType::CustomAuth)
            .auth_parameters("USERNAME", "ann")
            .send()
    };
    let answer = |session: String, answer: &str| {
        c.respond_to_auth_challenge()
            .client_id(&p.client_id)
            .challenge_name(cip::types::ChallengeNameType::CustomChallenge)
            .session(session)
            .challenge_responses("USERNAME", "ann")
            .challenge_responses("ANSWER", answer)
            .send()
    };

    // Wrong, then right: a second round, then tokens.
    let first = start().await.unwrap();
    assert_eq!(
        first.challenge_name(),
        Some(&cip::types::ChallengeNameType::CustomChallenge)
    );
    let params = first.challenge_parameters().unwrap();
    assert_eq!(params["question"], "2+2");
    assert_eq!(params["USERNAME"], "ann");
    assert!(
        !params.contains_key("answer"),
        "private parameters stay private"
    );
    let first_session = first.session().unwrap().to_string();
    let second = answer(first_session.clone(), "5").await.unwrap();
    assert_eq!(
        second.challenge_name(),
        Some(&cip::types::ChallengeNameType::CustomChallenge)
    );
    assert_eq!(
        err_of(answer(first_session, "4").await).1,
        "Invalid session for the user, session can only be used once.",
        "a failed answer ends its session"
    );
    let done = answer(second.session().unwrap().to_string(), "4")
        .await
        .unwrap();
    assert!(done.authentication_result().unwrap().id_token().is_some());
    let defines = lambda.events(DEFINE);
    assert_eq!(defines.len(), 3);
    assert_eq!(
        defines[0]["triggerSource"],
        "DefineAuthChallenge_Authentication"
    );
    assert_eq!(defines[0]["request"]["session"], json!([]));
    assert_eq!(
        defines[2]["request"]["session"],
        json!([
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": "ROUND-0"},
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "ROUND-1"}
        ])
    );
    assert_eq!(defines[0]["request"]["userNotFound"], false);
    let verify = &lambda.events(VERIFY)[0];
    assert_eq!(verify["request"]["challengeAnswer"], "5");
    assert_eq!(
        verify["request"]["privateChallengeParameters"],
        json!({"answer": "4"})
    );

    // Two wrong answers: Define fails the sign-in.
    let one = start().await.unwrap();
    let two = answer(one.session().unwrap().to_string(), "1")
        .await
        .unwrap();
    assert_eq!(
        err_of(answer(two.session().unwrap().to_string(), "2").await),
        (
            "NotAuthorizedException".to_string(),
            "Incorrect username or password.".to_string()
        )
    );
}

#[tokio::test]
async fn custom_auth_needs_its_three_triggers() {
    let lambda = FakeLambda::start().await;
    let server = lambda_server(&lambda).await;
    let c = server.client();
    let p = pool(&c, LambdaConfigType::builder().build(), false).await;
    assert_eq!(
        err_of(
            c.initiate_auth()
                .client_id(&p.client_id)
                .auth_flow(AuthFlowType::CustomAuth)
                .auth_parameters("USERNAME", "ann")
                .send()
                .await
        ),
        (
            "InvalidUserPoolConfigurationException".to_string(),
            "Custom auth lambda trigger is not configured for the user pool.".to_string()
        )
    );
}
