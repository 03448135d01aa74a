#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sign-in through the real Rust AWS SDK (issue "Sign-in and tokens", first part): the
//! password flows, refresh, GetUser, the JWKS and the discovery document, with AWS's errors.

mod common;

use std::collections::HashMap;

use aws_sdk_cognitoidentityprovider as cip;
use base64::Engine;
use cip::types::{
    AuthFlowType, ExplicitAuthFlowsType, PreventUserExistenceErrorTypes, VerifiedAttributeType,
};
use common::*;
use serde_json::Value;

const FLOWS: [ExplicitAuthFlowsType; 3] = [
    ExplicitAuthFlowsType::AllowUserPasswordAuth,
    ExplicitAuthFlowsType::AllowAdminUserPasswordAuth,
    ExplicitAuthFlowsType::AllowRefreshTokenAuth,
];

/// A pool that verifies email, with a client allowing the password and refresh flows, and the
/// user "ann", confirmed with the code she was sent (so her email is verified).
async fn pool_with_ann(server: &Server, name: &str) -> Pool {
    let c = &server.client();
    let p = create_pool(
        c,
        name,
        |b| b.auto_verified_attributes(VerifiedAttributeType::Email),
        |b| b.set_explicit_auth_flows(Some(FLOWS.to_vec())),
    )
    .await;
    sign_up(c, &p, "ann", "ann@example.com").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("ann")
        .confirmation_code(server.last_code(&p.id, "ann").await)
        .send()
        .await
        .unwrap();
    p
}

async fn password_auth(
    c: &cip::Client,
    p: &Pool,
    username: &str,
    password: &str,
) -> Result<
    cip::operation::initiate_auth::InitiateAuthOutput,
    cip::error::SdkError<
        cip::operation::initiate_auth::InitiateAuthError,
        cip::config::http::HttpResponse,
    >,
> {
    c.initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
}

fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn header(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

async fn get_json(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_confirmed_user_signs_in_and_the_tokens_say_what_aws_tokens_say() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "signin").await;
    let out = password_auth(&c, &p, "ann", PASSWORD).await.unwrap();
    assert!(out.challenge_name().is_none());
    assert_eq!(out.challenge_parameters().map(HashMap::len), Some(0));
    let result = out.authentication_result().unwrap();
    assert_eq!(result.token_type(), Some("Bearer"));
    assert_eq!(result.expires_in(), 3600);
    let (access, id) = (result.access_token().unwrap(), result.id_token().unwrap());
    assert!(!result.refresh_token().unwrap().is_empty());

    let issuer = format!("{}/{}", server.url, p.id);
    let a = claims(access);
    assert_eq!(a["iss"], issuer.as_str());
    assert_eq!(a["token_use"], "access");
    assert_eq!(a["client_id"], p.client_id.as_str());
    assert_eq!(a["username"], "ann");
    assert_eq!(a["scope"], "aws.cognito.signin.user.admin");
    assert!(a.get("aud").is_none());
    assert_eq!(
        a["exp"].as_i64().unwrap() - a["iat"].as_i64().unwrap(),
        3600
    );
    let i = claims(id);
    assert_eq!(i["iss"], issuer.as_str());
    assert_eq!(i["token_use"], "id");
    assert_eq!(i["aud"], p.client_id.as_str());
    assert_eq!(i["cognito:username"], "ann");
    assert_eq!(i["email"], "ann@example.com");
    assert_eq!(i["email_verified"], true, "a JSON boolean, as AWS types it");
    assert_eq!(i["sub"], a["sub"]);
    assert_eq!(i["origin_jti"], a["origin_jti"]);
    assert_ne!(i["jti"], a["jti"]);
    assert_eq!(i["auth_time"], a["auth_time"]);
    assert!(i["event_id"].is_string());

    // ID and access tokens are signed by different keys, both in the JWKS.
    let (h_access, h_id) = (header(access), header(id));
    assert_eq!(h_access["alg"], "RS256");
    assert_ne!(h_access["kid"], h_id["kid"]);
    let (status, jwks) = get_json(&format!("{issuer}/.well-known/jwks.json")).await;
    assert_eq!(status, 200);
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert_eq!(k["kty"], "RSA");
            assert_eq!(k["alg"], "RS256");
            assert_eq!(k["use"], "sig");
            assert_eq!(k["e"], "AQAB");
            k["kid"].as_str().unwrap()
        })
        .collect();
    assert!(kids.contains(&h_access["kid"].as_str().unwrap()));
    assert!(kids.contains(&h_id["kid"].as_str().unwrap()));

    // The discovery document names the issuer the tokens carry, and the JWKS under it.
    let (status, discovery) = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(status, 200);
    assert_eq!(discovery["issuer"], issuer.as_str());
    assert_eq!(
        discovery["jwks_uri"],
        format!("{issuer}/.well-known/jwks.json").as_str()
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"][0],
        "RS256"
    );
    let (status, _) = get_json(&format!(
        "{}/us-east-1_nothere/.well-known/jwks.json",
        server.url
    ))
    .await;
    assert_eq!(status, 404);

    // GetUser with the access token.
    let me = c.get_user().access_token(access).send().await.unwrap();
    assert_eq!(me.username(), "ann");
    let attrs: HashMap<&str, &str> = me
        .user_attributes()
        .iter()
        .map(|a| (a.name(), a.value().unwrap_or_default()))
        .collect();
    assert_eq!(attrs["sub"], a["sub"].as_str().unwrap());
    assert_eq!(attrs["email"], "ann@example.com");
    assert_eq!(attrs["email_verified"], "true");

    // The admin flow signs in too, and an alias or `sub` names the same user.
    let admin = c
        .admin_initiate_auth()
        .user_pool_id(&p.id)
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "ann")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    assert!(admin.authentication_result().unwrap().id_token().is_some());
    let legacy = c
        .admin_initiate_auth()
        .user_pool_id(&p.id)
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::AdminNoSrpAuth)
        .auth_parameters("USERNAME", a["sub"].as_str().unwrap())
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(
        claims(legacy.authentication_result().unwrap().id_token().unwrap())["cognito:username"],
        "ann"
    );
}

#[tokio::test]
async fn refresh_keeps_the_sign_in_and_refuses_what_it_did_not_issue() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "refresh").await;
    let signed_in = password_auth(&c, &p, "ann", PASSWORD).await.unwrap();
    let first = signed_in.authentication_result().unwrap();
    let refresh = first.refresh_token().unwrap();
    server.advance_clock(5).await;
    for flow in [AuthFlowType::RefreshTokenAuth, AuthFlowType::RefreshToken] {
        let out = c
            .initiate_auth()
            .client_id(&p.client_id)
            .auth_flow(flow)
            .auth_parameters("REFRESH_TOKEN", refresh)
            .send()
            .await
            .unwrap();
        let again = out.authentication_result().unwrap();
        assert!(
            again.refresh_token().is_none(),
            "a refresh issues no refresh token"
        );
        let (before, after) = (
            claims(first.access_token().unwrap()),
            claims(again.access_token().unwrap()),
        );
        assert_eq!(after["auth_time"], before["auth_time"]);
        assert_eq!(after["origin_jti"], before["origin_jti"]);
        assert_ne!(after["jti"], before["jti"]);
        assert!(after["iat"].as_i64() > before["iat"].as_i64());
        c.get_user()
            .access_token(again.access_token().unwrap())
            .send()
            .await
            .unwrap();
    }

    let refresh_with = |token: String, client: String| {
        let c = c.clone();
        async move {
            c.initiate_auth()
                .client_id(client)
                .auth_flow(AuthFlowType::RefreshTokenAuth)
                .auth_parameters("REFRESH_TOKEN", token)
                .send()
                .await
        }
    };
    assert_eq!(
        err_of(refresh_with("not-a-token".into(), p.client_id.clone()).await),
        (
            "NotAuthorizedException".to_string(),
            "Invalid Refresh Token.".to_string()
        )
    );
    let other = c
        .create_user_pool_client()
        .user_pool_id(&p.id)
        .client_name("other")
        .set_explicit_auth_flows(Some(FLOWS.to_vec()))
        .send()
        .await
        .unwrap();
    let other_id = other.user_pool_client().unwrap().client_id().unwrap();
    assert_eq!(
        err_of(refresh_with(refresh.to_string(), other_id.to_string()).await).1,
        "Invalid Refresh Token.",
        "a refresh token works only with the client it was issued to"
    );
    server.advance_clock(30 * 86_400).await;
    assert_eq!(
        err_of(refresh_with(refresh.to_string(), p.client_id.clone()).await),
        (
            "NotAuthorizedException".to_string(),
            "Refresh Token has expired".to_string()
        )
    );
}

#[tokio::test]
async fn sign_in_failures_are_the_ones_aws_answers() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "failures").await;
    let not_authorized = |m: &str| ("NotAuthorizedException".to_string(), m.to_string());

    assert_eq!(
        err_of(password_auth(&c, &p, "ann", "Wr0ng-password").await),
        not_authorized("Incorrect username or password.")
    );
    assert_eq!(
        err_of(password_auth(&c, &p, "nobody", PASSWORD).await),
        (
            "UserNotFoundException".to_string(),
            "User does not exist.".to_string()
        )
    );
    sign_up(&c, &p, "bob", "bob@example.com").await;
    for password in [PASSWORD, "Wr0ng-password"] {
        assert_eq!(
            err_of(password_auth(&c, &p, "bob", password).await),
            (
                "UserNotConfirmedException".to_string(),
                "User is not confirmed.".to_string()
            ),
            "UNCONFIRMED answers so whatever the password"
        );
    }
    assert_eq!(
        err_of(
            c.initiate_auth()
                .client_id(&p.client_id)
                .auth_flow(AuthFlowType::UserPasswordAuth)
                .auth_parameters("USERNAME", "ann")
                .send()
                .await
        ),
        (
            "InvalidParameterException".to_string(),
            "Missing required parameter PASSWORD".to_string()
        )
    );
    assert_eq!(
        err_of(
            c.initiate_auth()
                .client_id(&p.client_id)
                .auth_flow(AuthFlowType::AdminUserPasswordAuth)
                .auth_parameters("USERNAME", "ann")
                .auth_parameters("PASSWORD", PASSWORD)
                .send()
                .await
        ),
        (
            "InvalidParameterException".to_string(),
            "Initiate Auth method not supported.".to_string()
        )
    );
    assert_eq!(
        err_of(
            c.admin_initiate_auth()
                .user_pool_id(&p.id)
                .client_id(&p.client_id)
                .auth_flow(AuthFlowType::UserPasswordAuth)
                .auth_parameters("USERNAME", "ann")
                .auth_parameters("PASSWORD", PASSWORD)
                .send()
                .await
        )
        .1,
        "Initiate Auth method not supported."
    );

    // A client created without ExplicitAuthFlows has only refresh, SRP and custom.
    let plain = c
        .create_user_pool_client()
        .user_pool_id(&p.id)
        .client_name("plain")
        .send()
        .await
        .unwrap();
    let plain = Pool {
        id: p.id.clone(),
        client_id: plain
            .user_pool_client()
            .unwrap()
            .client_id()
            .unwrap()
            .to_string(),
        secret: None,
    };
    assert_eq!(
        err_of(password_auth(&c, &plain, "ann", PASSWORD).await),
        (
            "InvalidParameterException".to_string(),
            "USER_PASSWORD_AUTH flow not enabled for this client".to_string()
        )
    );
    assert_eq!(
        err_of(
            c.admin_initiate_auth()
                .user_pool_id(&p.id)
                .client_id(&plain.client_id)
                .auth_flow(AuthFlowType::AdminUserPasswordAuth)
                .auth_parameters("USERNAME", "ann")
                .auth_parameters("PASSWORD", PASSWORD)
                .send()
                .await
        )
        .1,
        "Auth flow not enabled for this client"
    );
    assert_eq!(
        err_of(
            c.initiate_auth()
                .client_id(&plain.client_id)
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
    assert_eq!(
        err_of(
            c.admin_initiate_auth()
                .user_pool_id("us-east-1_other")
                .client_id(&p.client_id)
                .auth_flow(AuthFlowType::AdminUserPasswordAuth)
                .auth_parameters("USERNAME", "ann")
                .auth_parameters("PASSWORD", PASSWORD)
                .send()
                .await
        )
        .0,
        "ResourceNotFoundException",
        "the client must belong to the pool named"
    );
}

#[tokio::test]
async fn hidden_existence_and_secret_clients() {
    let server = Server::start().await;
    let c = server.client();
    let p = create_pool(
        &c,
        "hidden",
        |b| b.auto_verified_attributes(VerifiedAttributeType::Email),
        |b| {
            b.set_explicit_auth_flows(Some(FLOWS.to_vec()))
                .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
                .generate_secret(true)
        },
    )
    .await;
    let secret = p.secret.clone().unwrap();
    sign_up_with_secret(&c, &p, &secret).await;
    let auth = |username: &str, password: &str, hash: Option<String>| {
        let mut call = c
            .initiate_auth()
            .client_id(&p.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password);
        if let Some(hash) = hash {
            call = call.auth_parameters("SECRET_HASH", hash);
        }
        call.send()
    };
    let hash = |u: &str| Some(secret_hash(&secret, u, &p.client_id));
    let incorrect = (
        "NotAuthorizedException".to_string(),
        "Incorrect username or password.".to_string(),
    );
    assert_eq!(
        err_of(auth("nobody", PASSWORD, hash("nobody")).await),
        incorrect,
        "an unknown user looks like a wrong password"
    );
    assert_eq!(
        err_of(auth("cy", "Wr0ng-password", hash("cy")).await),
        incorrect
    );
    assert_eq!(
        err_of(auth("cy", PASSWORD, None).await).1,
        format!(
            "Client {} is configured for secret but secret was not received",
            p.client_id
        )
    );
    assert_eq!(
        err_of(auth("cy", PASSWORD, hash("someone")).await).1,
        format!("Unable to verify secret hash for client {}", p.client_id)
    );
    let out = auth("cy", PASSWORD, hash("cy")).await.unwrap();
    let refresh = out
        .authentication_result()
        .unwrap()
        .refresh_token()
        .unwrap()
        .to_string();
    // Refresh with a secret client: SECRET_HASH over the internal username.
    c.initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh)
        .auth_parameters("SECRET_HASH", secret_hash(&secret, "cy", &p.client_id))
        .send()
        .await
        .unwrap();
}

async fn sign_up_with_secret(c: &cip::Client, p: &Pool, secret: &str) {
    c.sign_up()
        .client_id(&p.client_id)
        .secret_hash(secret_hash(secret, "cy", &p.client_id))
        .username("cy")
        .password(PASSWORD)
        .user_attributes(attr("email", "cy@example.com"))
        .send()
        .await
        .unwrap();
    c.admin_confirm_sign_up()
        .user_pool_id(&p.id)
        .username("cy")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn get_user_refuses_tampered_foreign_id_and_expired_tokens() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "tokens").await;
    let out = password_auth(&c, &p, "ann", PASSWORD).await.unwrap();
    let result = out.authentication_result().unwrap();
    let access = result.access_token().unwrap().to_string();
    let get_user = |token: String| {
        let c = c.clone();
        async move { c.get_user().access_token(token).send().await }
    };
    let invalid = (
        "NotAuthorizedException".to_string(),
        "Invalid Access Token".to_string(),
    );

    // A claim changed after signing.
    let mut parts: Vec<String> = access.split('.').map(str::to_string).collect();
    let mut forged = claims(&access);
    forged["username"] = "someone-else".into();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(forged.to_string());
    assert_eq!(err_of(get_user(parts.join(".")).await), invalid);
    // alg none, with the signature dropped.
    let none = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
            r#"{{"alg":"none","kid":"{}"}}"#,
            header(&access)["kid"].as_str().unwrap()
        )),
        parts[1]
    );
    assert_eq!(err_of(get_user(none).await), invalid);
    // An ID token is not an access token; garbage is not a token.
    assert_eq!(
        err_of(get_user(result.id_token().unwrap().to_string()).await),
        invalid
    );
    assert_eq!(err_of(get_user("not.a.token".into()).await), invalid);
    // A token of another pool's keys.
    let other = pool_with_ann(&server, "other").await;
    let foreign = password_auth(&c, &other, "ann", PASSWORD).await.unwrap();
    let mut foreign_parts: Vec<String> = foreign
        .authentication_result()
        .unwrap()
        .access_token()
        .unwrap()
        .split('.')
        .map(str::to_string)
        .collect();
    foreign_parts[1] = parts[1].clone();
    assert_eq!(err_of(get_user(foreign_parts.join(".")).await), invalid);

    // Nothing above changed the user; the real token still works, until it expires.
    get_user(access.clone()).await.unwrap();
    server.advance_clock(3601).await;
    assert_eq!(
        err_of(get_user(access).await),
        (
            "NotAuthorizedException".to_string(),
            "Access Token has expired".to_string()
        )
    );
}

/// Seven failed sign-ins, the clock moved past the first two lockouts, so the last failure
/// leaves a 4-second lockout. Every one of them answers `Incorrect username or password.`.
async fn lock_out<F, Fut, T>(server: &Server, mut fail: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<
        Output = Result<
            T,
            cip::error::SdkError<
                cip::operation::initiate_auth::InitiateAuthError,
                cip::config::http::HttpResponse,
            >,
        >,
    >,
    T: std::fmt::Debug,
{
    for failure in 1..=7 {
        assert_eq!(
            err_of(fail().await).1,
            "Incorrect username or password.",
            "failure {failure}"
        );
        if (5..7).contains(&failure) {
            server.advance_clock(1 << (failure - 5)).await;
        }
    }
}

#[tokio::test]
async fn failed_passwords_lock_out_in_the_database() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "lockout").await;
    let locked = (
        "NotAuthorizedException".to_string(),
        "Password attempts exceeded".to_string(),
    );
    // The fifth failure locked for 1 s, the sixth for 2 s, the seventh for 4 s (the clock has
    // whole seconds, so the longer lockout is the one a quick call surely meets).
    lock_out(&server, || password_auth(&c, &p, "ann", "Wr0ng-password")).await;
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", PASSWORD).await),
        locked,
        "locked out even with the right password"
    );
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", PASSWORD).await),
        locked,
        "a check during the lockout does not extend it"
    );
    server.advance_clock(4).await;
    password_auth(&c, &p, "ann", PASSWORD).await.unwrap();
    // The right password started the count afresh: four more failures lock nothing.
    for _ in 0..4 {
        err_of(password_auth(&c, &p, "ann", "Wr0ng-password").await);
    }
    password_auth(&c, &p, "ann", PASSWORD).await.unwrap();

    // A client that hides existence shows a missing user locking out like a real one.
    let hidden = c
        .create_user_pool_client()
        .user_pool_id(&p.id)
        .client_name("hidden")
        .set_explicit_auth_flows(Some(FLOWS.to_vec()))
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .send()
        .await
        .unwrap();
    let hidden = Pool {
        id: p.id.clone(),
        client_id: hidden
            .user_pool_client()
            .unwrap()
            .client_id()
            .unwrap()
            .to_string(),
        secret: None,
    };
    lock_out(&server, || password_auth(&c, &hidden, "nobody", PASSWORD)).await;
    assert_eq!(
        err_of(password_auth(&c, &hidden, "nobody", PASSWORD).await),
        locked
    );
}

#[tokio::test]
async fn revoked_and_signed_out_tokens_are_refused() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "signout").await;
    let session = || async {
        let out = password_auth(&c, &p, "ann", PASSWORD).await.unwrap();
        let r = out.authentication_result().unwrap();
        (
            r.access_token().unwrap().to_string(),
            r.refresh_token().unwrap().to_string(),
        )
    };
    let refresh = |token: String| {
        let c = c.clone();
        let client_id = p.client_id.clone();
        async move {
            c.initiate_auth()
                .client_id(client_id)
                .auth_flow(AuthFlowType::RefreshTokenAuth)
                .auth_parameters("REFRESH_TOKEN", token)
                .send()
                .await
        }
    };
    let get_user = |token: String| {
        let c = c.clone();
        async move { c.get_user().access_token(token).send().await }
    };
    let revoked_access = (
        "NotAuthorizedException".to_string(),
        "Access Token has been revoked".to_string(),
    );
    let revoked_refresh = (
        "NotAuthorizedException".to_string(),
        "Refresh Token has been revoked".to_string(),
    );

    // RevokeToken ends one session and leaves the other.
    let (access_a, refresh_a) = session().await;
    let (access_b, refresh_b) = session().await;
    c.revoke_token()
        .client_id(&p.client_id)
        .token(&refresh_a)
        .send()
        .await
        .unwrap();
    assert_eq!(err_of(refresh(refresh_a.clone()).await), revoked_refresh);
    assert_eq!(err_of(get_user(access_a).await), revoked_access);
    get_user(access_b.clone()).await.unwrap();
    refresh(refresh_b.clone()).await.unwrap();
    // Revoking an unknown or revoked token is no error; a stranger client is refused.
    c.revoke_token()
        .client_id(&p.client_id)
        .token("unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(
        err_of(
            c.revoke_token()
                .client_id("nosuchclient")
                .token(&refresh_b)
                .send()
                .await
        )
        .0,
        "UnauthorizedException"
    );

    // GlobalSignOut ends every session of the user.
    let (access_c, refresh_c) = session().await;
    c.global_sign_out()
        .access_token(&access_b)
        .send()
        .await
        .unwrap();
    assert_eq!(err_of(get_user(access_b.clone()).await), revoked_access);
    assert_eq!(err_of(get_user(access_c).await), revoked_access);
    assert_eq!(err_of(refresh(refresh_b).await), revoked_refresh);
    assert_eq!(err_of(refresh(refresh_c).await), revoked_refresh);
    assert_eq!(
        err_of(c.global_sign_out().access_token(&access_b).send().await),
        revoked_access,
        "a second GlobalSignOut with the same token"
    );

    // So does AdminUserGlobalSignOut; a later sign-in works again.
    let (access_d, _) = session().await;
    c.admin_user_global_sign_out()
        .user_pool_id(&p.id)
        .username("ann")
        .send()
        .await
        .unwrap();
    assert_eq!(err_of(get_user(access_d).await), revoked_access);
    let (access_e, _) = session().await;
    get_user(access_e).await.unwrap();
    assert_eq!(
        err_of(
            c.admin_user_global_sign_out()
                .user_pool_id(&p.id)
                .username("nobody")
                .send()
                .await
        ),
        (
            "UserNotFoundException".to_string(),
            "User does not exist.".to_string()
        )
    );
}

#[tokio::test]
async fn srp_challenges_and_their_refusals() {
    let server = Server::start().await;
    let c = server.client();
    let p = create_pool(
        &c,
        "srp",
        |b| b.auto_verified_attributes(VerifiedAttributeType::Email),
        |b| b.explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth),
    )
    .await;
    sign_up(&c, &p, "ann", "ann@example.com").await;
    let srp = |username: &str, a: &str| {
        c.initiate_auth()
            .client_id(&p.client_id)
            .auth_flow(AuthFlowType::UserSrpAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("SRP_A", a)
            .send()
    };
    assert_eq!(
        err_of(srp("ann", "abc123").await),
        (
            "UserNotConfirmedException".to_string(),
            "User is not confirmed.".to_string()
        )
    );
    c.admin_confirm_sign_up()
        .user_pool_id(&p.id)
        .username("ann")
        .send()
        .await
        .unwrap();
    let out = srp("ann", "abc123").await.unwrap();
    assert_eq!(
        out.challenge_name(),
        Some(&cip::types::ChallengeNameType::PasswordVerifier)
    );
    assert!(out.authentication_result().is_none());
    let params = out.challenge_parameters().unwrap();
    assert_eq!(params["USERNAME"], "ann");
    assert_eq!(params["USER_ID_FOR_SRP"], "ann");
    for key in ["SALT", "SRP_B"] {
        assert!(
            params[key].chars().all(|ch| ch.is_ascii_hexdigit()),
            "{key} is hex"
        );
    }
    let block = &params["SECRET_BLOCK"];
    assert!(base64::engine::general_purpose::STANDARD
        .decode(block)
        .is_ok());

    // SRP_A that is not hex, zero, or a multiple of N is refused before any challenge.
    let n = "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF";
    for bad in ["xyz", "0", "00", n] {
        assert_eq!(
            err_of(srp("ann", bad).await),
            (
                "InvalidParameterException".to_string(),
                "SRP_A is not a valid value.".to_string()
            ),
            "SRP_A {bad:.8}"
        );
    }
    assert_eq!(
        err_of(
            c.initiate_auth()
                .client_id(&p.client_id)
                .auth_flow(AuthFlowType::UserSrpAuth)
                .auth_parameters("USERNAME", "ann")
                .send()
                .await
        )
        .1,
        "Missing required parameter SRP_A"
    );
    assert_eq!(
        err_of(srp("nobody", "abc123").await).0,
        "UserNotFoundException"
    );

    let answer = |block: &str| {
        c.respond_to_auth_challenge()
            .client_id(&p.client_id)
            .challenge_name(cip::types::ChallengeNameType::PasswordVerifier)
            .challenge_responses("USERNAME", "ann")
            .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", block)
            .challenge_responses("PASSWORD_CLAIM_SIGNATURE", "c2lnbmF0dXJl")
            .challenge_responses("TIMESTAMP", "Sun Dec 6 09:00:00 UTC 2026")
            .send()
    };
    assert_eq!(
        err_of(answer("bm90IGEgYmxvY2s=").await),
        (
            "NotAuthorizedException".to_string(),
            "Invalid session for the user.".to_string()
        )
    );
    // A wrong proof fails generically and uses the session up.
    assert_eq!(
        err_of(answer(block).await).1,
        "Incorrect username or password."
    );
    assert_eq!(
        err_of(answer(block).await).1,
        "Invalid session for the user, session can only be used once."
    );
    // A challenge answered after the client's AuthSessionValidity (3 minutes) has expired.
    let late = srp("ann", "abc123").await.unwrap();
    let late_block = late.challenge_parameters().unwrap()["SECRET_BLOCK"].clone();
    server.advance_clock(181).await;
    assert_eq!(
        err_of(answer(&late_block).await).1,
        "Invalid session for the user, session is expired."
    );
}

#[tokio::test]
async fn change_password_and_delete_user_with_the_access_token() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "account").await;
    let access = |out: cip::operation::initiate_auth::InitiateAuthOutput| {
        out.authentication_result()
            .unwrap()
            .access_token()
            .unwrap()
            .to_string()
    };
    let token = access(password_auth(&c, &p, "ann", PASSWORD).await.unwrap());
    let change = |previous: &str, proposed: &str| {
        c.change_password()
            .access_token(&token)
            .previous_password(previous)
            .proposed_password(proposed)
            .send()
    };
    assert_eq!(
        err_of(change("Wr0ng-password", "N3w-password!").await),
        (
            "NotAuthorizedException".to_string(),
            "Incorrect username or password.".to_string()
        )
    );
    assert_eq!(
        err_of(change(PASSWORD, "short").await),
        (
            "InvalidPasswordException".to_string(),
            "Password did not conform with policy: Password not long enough".to_string()
        )
    );
    change(PASSWORD, "N3w-password!").await.unwrap();
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", PASSWORD).await).1,
        "Incorrect username or password."
    );
    let token = access(password_auth(&c, &p, "ann", "N3w-password!").await.unwrap());

    c.delete_user().access_token(&token).send().await.unwrap();
    assert_eq!(
        err_of(c.get_user().access_token(&token).send().await),
        (
            "UserNotFoundException".to_string(),
            "User does not exist.".to_string()
        )
    );
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", "N3w-password!").await).0,
        "UserNotFoundException"
    );
}

#[tokio::test]
async fn get_tokens_from_refresh_token_rotates_when_the_client_asks() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "rotation").await;
    let refresh_token = |p: &Pool| {
        let c = c.clone();
        let p = Pool {
            id: p.id.clone(),
            client_id: p.client_id.clone(),
            secret: p.secret.clone(),
        };
        async move {
            password_auth(&c, &p, "ann", PASSWORD)
                .await
                .unwrap()
                .authentication_result()
                .unwrap()
                .refresh_token()
                .unwrap()
                .to_string()
        }
    };
    // Without rotation: new ID and access tokens, no new refresh token.
    let token = refresh_token(&p).await;
    let out = c
        .get_tokens_from_refresh_token()
        .client_id(&p.client_id)
        .refresh_token(&token)
        .send()
        .await
        .unwrap();
    let result = out.authentication_result().unwrap();
    assert!(result.access_token().is_some() && result.refresh_token().is_none());

    // With rotation: a new refresh token each time; the old one dies after the grace period;
    // REFRESH_TOKEN_AUTH is refused.
    c.update_user_pool_client()
        .user_pool_id(&p.id)
        .client_id(&p.client_id)
        .set_explicit_auth_flows(Some(FLOWS.to_vec()))
        .refresh_token_rotation(
            cip::types::RefreshTokenRotationType::builder()
                .feature(cip::types::FeatureType::Enabled)
                .retry_grace_period_seconds(10)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let first = refresh_token(&p).await;
    let rotate = |token: String| {
        let c = c.clone();
        let client_id = p.client_id.clone();
        async move {
            c.get_tokens_from_refresh_token()
                .client_id(client_id)
                .refresh_token(token)
                .send()
                .await
        }
    };
    let second = rotate(first.clone()).await.unwrap();
    let second = second
        .authentication_result()
        .unwrap()
        .refresh_token()
        .unwrap()
        .to_string();
    assert_ne!(second, first);
    // Within the grace period the old token still refreshes (its successor was handed out).
    assert!(rotate(first.clone())
        .await
        .unwrap()
        .authentication_result()
        .unwrap()
        .refresh_token()
        .is_none());
    server.advance_clock(11).await;
    assert_eq!(
        err_of(rotate(first).await),
        (
            "RefreshTokenReuseException".to_string(),
            "Refresh Token has been reused.".to_string()
        )
    );
    let third = rotate(second).await.unwrap();
    let third = third
        .authentication_result()
        .unwrap()
        .refresh_token()
        .unwrap()
        .to_string();
    assert_eq!(
        err_of(
            c.initiate_auth()
                .client_id(&p.client_id)
                .auth_flow(AuthFlowType::RefreshTokenAuth)
                .auth_parameters("REFRESH_TOKEN", &third)
                .send()
                .await
        )
        .0,
        "InvalidParameterException"
    );
    // Revoking the newest token revokes the whole family.
    c.revoke_token()
        .client_id(&p.client_id)
        .token(&third)
        .send()
        .await
        .unwrap();
    assert_eq!(
        err_of(rotate(third).await).1,
        "Refresh Token has been revoked"
    );
}

#[tokio::test]
async fn user_auth_offers_password_and_srp_and_answers_a_choice() {
    let server = Server::start().await;
    let c = server.client();
    let p = create_pool(
        &c,
        "choice",
        |b| b.auto_verified_attributes(VerifiedAttributeType::Email),
        |b| b.explicit_auth_flows(ExplicitAuthFlowsType::AllowUserAuth),
    )
    .await;
    sign_up(&c, &p, "ann", "ann@example.com").await;
    c.admin_confirm_sign_up()
        .user_pool_id(&p.id)
        .username("ann")
        .send()
        .await
        .unwrap();
    let user_auth = || {
        c.initiate_auth()
            .client_id(&p.client_id)
            .auth_flow(AuthFlowType::UserAuth)
            .auth_parameters("USERNAME", "ann")
    };
    // A preferred factor on offer is used at once.
    let out = user_auth()
        .auth_parameters("PREFERRED_CHALLENGE", "PASSWORD")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    assert!(out
        .authentication_result()
        .unwrap()
        .access_token()
        .is_some());
    let srp = user_auth()
        .auth_parameters("PREFERRED_CHALLENGE", "PASSWORD_SRP")
        .auth_parameters("SRP_A", "abc123")
        .send()
        .await
        .unwrap();
    assert_eq!(
        srp.challenge_name(),
        Some(&cip::types::ChallengeNameType::PasswordVerifier)
    );
    // Without one (or with one not on offer): SELECT_CHALLENGE, then the answer.
    for preferred in [None, Some("EMAIL_OTP")] {
        let mut call = user_auth();
        if let Some(preferred) = preferred {
            call = call.auth_parameters("PREFERRED_CHALLENGE", preferred);
        }
        let select = call.send().await.unwrap();
        assert_eq!(
            select.challenge_name(),
            Some(&cip::types::ChallengeNameType::SelectChallenge)
        );
        assert_eq!(
            select.available_challenges(),
            [
                cip::types::ChallengeNameType::PasswordSrp,
                cip::types::ChallengeNameType::Password
            ]
        );
        let session = select.session().unwrap().to_string();
        let answer = |answer: &str| {
            c.respond_to_auth_challenge()
                .client_id(&p.client_id)
                .challenge_name(cip::types::ChallengeNameType::SelectChallenge)
                .session(&session)
                .challenge_responses("USERNAME", "ann")
                .challenge_responses("ANSWER", answer)
                .challenge_responses("PASSWORD", PASSWORD)
                .send()
        };
        let done = answer("PASSWORD").await.unwrap();
        assert!(done.authentication_result().unwrap().id_token().is_some());
        assert_eq!(
            err_of(answer("PASSWORD").await).1,
            "Invalid session for the user, session can only be used once."
        );
    }
    // Password checks in USER_AUTH are the password flow's.
    assert_eq!(
        err_of(
            user_auth()
                .auth_parameters("PREFERRED_CHALLENGE", "PASSWORD")
                .auth_parameters("PASSWORD", "Wr0ng-password")
                .send()
                .await
        )
        .1,
        "Incorrect username or password."
    );
    // A client without ALLOW_USER_AUTH refuses the flow.
    let other = create_pool(&c, "choice-off", |b| b, |b| b).await;
    assert_eq!(
        err_of(
            c.initiate_auth()
                .client_id(&other.client_id)
                .auth_flow(AuthFlowType::UserAuth)
                .auth_parameters("USERNAME", "ann")
                .send()
                .await
        )
        .1,
        "USER_AUTH is not enabled for the client."
    );
}

#[tokio::test]
async fn a_new_pool_has_its_signing_keys_before_any_token_and_rotation_needs_a_pool() {
    use cognate_core::ports::Directory;
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "keys").await;
    let store = server.open_store().await;
    let keys = store.signing_keys(&p.id).await.unwrap();
    store.close().await;
    let mut uses: Vec<&str> = keys.iter().map(|k| k.token_use.as_str()).collect();
    uses.sort();
    assert_eq!(uses, ["access", "id"], "one live key per token use");
    assert!(keys.iter().all(|k| k.retired_at.is_none()));
    // The first tokens are signed with them.
    let out = password_auth(&c, &p, "ann", PASSWORD).await.unwrap();
    let access = out.authentication_result().unwrap().access_token().unwrap();
    assert!(keys
        .iter()
        .any(|k| Some(k.kid.as_str()) == header(access)["kid"].as_str()));

    let rotated = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args([
            "rotate-signing-keys",
            "--pool",
            "us-east-1_nothere",
            "--database-url",
        ])
        .arg(server.store_url())
        .arg("--master-key-file")
        .arg(server.master_key_file())
        .output()
        .unwrap();
    assert!(!rotated.status.success());
    assert!(String::from_utf8_lossy(&rotated.stderr).contains("no user pool us-east-1_nothere"));
}

#[tokio::test]
async fn rotated_keys_sign_new_tokens_and_the_old_ones_keep_verifying() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "rotate").await;
    let sign_in = || async {
        password_auth(&c, &p, "ann", PASSWORD)
            .await
            .unwrap()
            .authentication_result()
            .unwrap()
            .access_token()
            .unwrap()
            .to_string()
    };
    let old = sign_in().await;
    let rotated = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(["rotate-signing-keys", "--pool", &p.id, "--database-url"])
        .arg(server.store_url())
        .arg("--master-key-file")
        .arg(server.master_key_file())
        .output()
        .unwrap();
    assert!(
        rotated.status.success(),
        "{}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(String::from_utf8_lossy(&rotated.stdout).contains("retired 2 signing key(s)"));
    // A token signed with the new keys verifies at once on a thread still holding the old
    // ones (the unknown kid makes it read them again); every thread signs with the new keys
    // once its copy is KEYS_REREAD_SECS old.
    server
        .advance_clock(cognate_core::service::KEYS_REREAD_SECS)
        .await;
    let new = sign_in().await;
    assert_ne!(header(&old)["kid"], header(&new)["kid"]);
    let jwks_url = format!("{}/{}/.well-known/jwks.json", server.url, p.id);
    let kids = |jwks: Value| -> Vec<String> {
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    let listed = kids(get_json(&jwks_url).await.1);
    assert_eq!(listed.len(), 4, "two new keys and the two retired ones");
    assert!(listed.contains(&header(&old)["kid"].as_str().unwrap().to_string()));
    c.get_user().access_token(&old).send().await.unwrap();
    c.get_user().access_token(&new).send().await.unwrap();
    // A day later the retired keys (and every token they signed) are gone.
    server.advance_clock(86_400).await;
    assert_eq!(kids(get_json(&jwks_url).await.1).len(), 2);
}

#[tokio::test]
async fn a_temporary_password_leads_to_new_password_required() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "newpw").await;
    let set_password = |password: &str, permanent: bool| {
        c.admin_set_user_password()
            .user_pool_id(&p.id)
            .username("ann")
            .password(password)
            .permanent(permanent)
            .send()
    };
    assert_eq!(
        err_of(set_password("short", false).await).0,
        "InvalidPasswordException"
    );
    set_password("Temp0rary-pw!", false).await.unwrap();
    assert_eq!(
        status(&c, &p, "ann").await,
        cip::types::UserStatusType::ForceChangePassword
    );
    let challenge = password_auth(&c, &p, "ann", "Temp0rary-pw!").await.unwrap();
    assert_eq!(
        challenge.challenge_name(),
        Some(&cip::types::ChallengeNameType::NewPasswordRequired)
    );
    let params = challenge.challenge_parameters().unwrap();
    assert_eq!(params["USER_ID_FOR_SRP"], "ann");
    assert_eq!(params["requiredAttributes"], "[]");
    let current: Value = serde_json::from_str(&params["userAttributes"]).unwrap();
    assert_eq!(current["email"], "ann@example.com");
    let respond = |session: &str, extra: Option<(&str, &str)>| {
        let mut call = c
            .respond_to_auth_challenge()
            .client_id(&p.client_id)
            .challenge_name(cip::types::ChallengeNameType::NewPasswordRequired)
            .session(session)
            .challenge_responses("USERNAME", "ann")
            .challenge_responses("NEW_PASSWORD", "Chosen-passw0rd");
        if let Some((k, v)) = extra {
            call = call.challenge_responses(k, v);
        }
        call.send()
    };
    assert_eq!(
        err_of(
            respond(
                challenge.session().unwrap(),
                Some(("userAttributes.email_verified", "true"))
            )
            .await
        ),
        (
            "InvalidParameterException".to_string(),
            "Cannot modify the non-mutable attribute email_verified".to_string()
        )
    );
    // The refused answer used the session up: sign in again.
    let challenge = password_auth(&c, &p, "ann", "Temp0rary-pw!").await.unwrap();
    let done = respond(
        challenge.session().unwrap(),
        Some(("userAttributes.name", "Ann")),
    )
    .await
    .unwrap();
    let id = claims(done.authentication_result().unwrap().id_token().unwrap());
    assert_eq!(id["name"], "Ann");
    assert_eq!(
        status(&c, &p, "ann").await,
        cip::types::UserStatusType::Confirmed
    );
    password_auth(&c, &p, "ann", "Chosen-passw0rd")
        .await
        .unwrap();
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", "Temp0rary-pw!").await).1,
        "Incorrect username or password."
    );
    // A permanent password confirms at once.
    set_password("Perman3nt-pw!", true).await.unwrap();
    assert!(password_auth(&c, &p, "ann", "Perman3nt-pw!")
        .await
        .unwrap()
        .authentication_result()
        .is_some());
    assert_eq!(
        err_of(
            c.admin_set_user_password()
                .user_pool_id(&p.id)
                .username("nobody")
                .password("Perman3nt-pw!")
                .send()
                .await
        ),
        (
            "UserNotFoundException".to_string(),
            "User does not exist.".to_string()
        )
    );
}

#[tokio::test]
async fn a_temporary_password_expires_after_the_pools_validity() {
    let server = Server::start().await;
    let c = server.client();
    let expired = (
        "NotAuthorizedException".to_string(),
        "Temporary password has expired and must be reset by an administrator.".to_string(),
    );
    let set_temporary = |p: &Pool, password: &'static str| {
        c.admin_set_user_password()
            .user_pool_id(&p.id)
            .username("ann")
            .password(password)
            .permanent(false)
            .send()
    };
    let is_new_password_challenge = |out: cip::operation::initiate_auth::InitiateAuthOutput| {
        out.challenge_name() == Some(&cip::types::ChallengeNameType::NewPasswordRequired)
    };

    // The default: seven days.
    let p = pool_with_ann(&server, "temp-default").await;
    set_temporary(&p, "Temp0rary-pw!").await.unwrap();
    server.advance_clock(7 * 86_400).await;
    assert!(is_new_password_challenge(
        password_auth(&c, &p, "ann", "Temp0rary-pw!").await.unwrap()
    ));
    server.advance_clock(1).await;
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", "Temp0rary-pw!").await),
        expired
    );
    // A wrong password still says only that.
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", "Wrong-passw0rd").await).1,
        "Incorrect username or password."
    );
    // A new temporary password starts a new validity.
    set_temporary(&p, "An0ther-temp!").await.unwrap();
    assert!(is_new_password_challenge(
        password_auth(&c, &p, "ann", "An0ther-temp!").await.unwrap()
    ));

    // A pool's own TemporaryPasswordValidityDays.
    let p = create_pool(
        &c,
        "temp-one-day",
        |b| {
            b.policies(
                cip::types::UserPoolPolicyType::builder()
                    .password_policy(
                        cip::types::PasswordPolicyType::builder()
                            .minimum_length(8)
                            .temporary_password_validity_days(1)
                            .build(),
                    )
                    .build(),
            )
        },
        |b| b.set_explicit_auth_flows(Some(FLOWS.to_vec())),
    )
    .await;
    sign_up(&c, &p, "ann", "ann@example.com").await;
    set_temporary(&p, "temporary").await.unwrap();
    server.advance_clock(86_401).await;
    assert_eq!(
        err_of(password_auth(&c, &p, "ann", "temporary").await),
        expired
    );
}

#[tokio::test]
async fn a_global_sign_out_refuses_access_tokens_of_clients_without_revocation() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, "norevoke").await;
    let client_id = c
        .create_user_pool_client()
        .user_pool_id(&p.id)
        .client_name("no-revocation")
        .enable_token_revocation(false)
        .set_explicit_auth_flows(Some(FLOWS.to_vec()))
        .send()
        .await
        .unwrap()
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_string();
    let sign_in = || async {
        c.initiate_auth()
            .client_id(&client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "ann")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .unwrap()
            .authentication_result()
            .unwrap()
            .access_token()
            .unwrap()
            .to_string()
    };
    let before = sign_in().await;
    assert!(claims(&before).get("origin_jti").is_none());
    c.get_user().access_token(&before).send().await.unwrap();
    server.advance_clock(1).await;
    c.admin_user_global_sign_out()
        .user_pool_id(&p.id)
        .username("ann")
        .send()
        .await
        .unwrap();
    assert_eq!(
        err_of(c.get_user().access_token(&before).send().await),
        (
            "NotAuthorizedException".to_string(),
            "Access Token has been revoked".to_string()
        )
    );
    // A sign-in after the sign-out, even within the same second, works.
    let after = sign_in().await;
    c.get_user().access_token(&after).send().await.unwrap();
}

#[tokio::test]
async fn the_sweep_forgets_refresh_tokens_a_day_after_they_expire() {
    let server = Server::builder()
        .arg("--sweep-interval-secs")
        .arg("1")
        .start()
        .await;
    let c = server.client();
    let p = pool_with_ann(&server, "sweep").await;
    let refresh_token = password_auth(&c, &p, "ann", PASSWORD)
        .await
        .unwrap()
        .authentication_result()
        .unwrap()
        .refresh_token()
        .unwrap()
        .to_string();
    let refresh = || {
        c.initiate_auth()
            .client_id(&p.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", &refresh_token)
            .send()
    };
    // Expired (the default validity is 30 days), and still known for a day.
    server.advance_clock(30 * 86_400).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(
        err_of(refresh().await).1,
        "Refresh Token has expired",
        "an expired token is kept while access tokens minted from it may live"
    );
    // A day later the next sweep deletes it: it is then unknown.
    server.advance_clock(86_400).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, message) = err_of(refresh().await);
        if message == "Invalid Refresh Token." {
            break;
        }
        assert_eq!(message, "Refresh Token has expired");
        assert!(std::time::Instant::now() < deadline, "no sweep ran");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
