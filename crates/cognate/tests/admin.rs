#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Administering users through the real Rust AWS SDK (issue "Administering users", first
//! part): AdminDisableUser and AdminEnableUser, the group operations, and the groups and roles
//! in tokens, with AWS's errors.

mod common;

use aws_sdk_cognitoidentityprovider as cip;
use base64::Engine;
use cip::types::{AuthFlowType, ExplicitAuthFlowsType, LambdaConfigType, VerifiedAttributeType};
use cognate_triggers::test_support::{FakeLambda, Reply};
use common::*;
use serde_json::{json, Value};

/// A pool (shaped by `configure`) with a password client, and `names` signed up and confirmed
/// by an administrator.
async fn pool_with(
    server: &Server,
    names: &[&str],
    configure: impl FnOnce(PoolBuilder) -> PoolBuilder,
) -> Pool {
    let c = &server.client();
    let p = create_pool(
        c,
        "admin",
        |b| configure(b.auto_verified_attributes(VerifiedAttributeType::Email)),
        |b| {
            b.explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        },
    )
    .await;
    for name in names {
        sign_up(c, &p, name, &format!("{name}@example.com")).await;
        c.admin_confirm_sign_up()
            .user_pool_id(&p.id)
            .username(*name)
            .send()
            .await
            .unwrap();
    }
    p
}

async fn tokens(c: &cip::Client, p: &Pool, name: &str) -> cip::types::AuthenticationResultType {
    c.initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", name)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap()
        .authentication_result()
        .cloned()
        .unwrap()
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

fn pair(code: &str, message: &str) -> (String, String) {
    (code.to_string(), message.to_string())
}

async fn create_group(
    c: &cip::Client,
    p: &Pool,
    name: &str,
    precedence: Option<i32>,
    role: Option<&str>,
) -> cip::types::GroupType {
    c.create_group()
        .user_pool_id(&p.id)
        .group_name(name)
        .set_precedence(precedence)
        .set_role_arn(role.map(str::to_string))
        .description(format!("the {name}"))
        .send()
        .await
        .unwrap()
        .group()
        .cloned()
        .unwrap()
}

async fn add(c: &cip::Client, p: &Pool, name: &str, group: &str) {
    c.admin_add_user_to_group()
        .user_pool_id(&p.id)
        .username(name)
        .group_name(group)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in_refresh_or_use_its_tokens() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(&server, &["ann"], |b| b).await;
    let before = tokens(&c, &p, "ann").await;
    let disable = |name: &'static str| {
        c.admin_disable_user()
            .user_pool_id(&p.id)
            .username(name)
            .send()
    };
    let enable = |name: &'static str| {
        c.admin_enable_user()
            .user_pool_id(&p.id)
            .username(name)
            .send()
    };
    disable("ann").await.unwrap();
    disable("ann").await.unwrap();
    let disabled = pair("NotAuthorizedException", "User is disabled.");
    let sign_in = || {
        c.initiate_auth()
            .client_id(&p.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "ann")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
    };
    assert_eq!(err_of(sign_in().await), disabled);
    // Disabling revokes the user's tokens (the model's words), so they answer as revoked.
    let revoked = pair("NotAuthorizedException", "Access Token has been revoked");
    assert_eq!(
        err_of(
            c.get_user()
                .access_token(before.access_token().unwrap())
                .send()
                .await
        ),
        revoked
    );
    assert_eq!(
        err_of(
            c.initiate_auth()
                .client_id(&p.client_id)
                .auth_flow(AuthFlowType::RefreshTokenAuth)
                .auth_parameters("REFRESH_TOKEN", before.refresh_token().unwrap())
                .send()
                .await
        ),
        pair("NotAuthorizedException", "Refresh Token has been revoked")
    );
    let listed = user(&c, &p, "ann").await;
    assert!(!listed.enabled(), "a disabled user is still listed");

    enable("ann").await.unwrap();
    assert!(user(&c, &p, "ann").await.enabled());
    sign_in().await.unwrap();
    // The tokens from before the disablement stay revoked.
    assert_eq!(
        err_of(
            c.get_user()
                .access_token(before.access_token().unwrap())
                .send()
                .await
        ),
        revoked
    );
    let missing = pair("UserNotFoundException", "User does not exist.");
    assert_eq!(err_of(disable("nobody").await), missing);
    assert_eq!(err_of(enable("nobody").await), missing);
}

#[tokio::test]
async fn groups_are_created_read_updated_listed_and_deleted() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(&server, &[], |b| b).await;
    let admins = create_group(&c, &p, "Admins", Some(1), Some("arn:aws:iam::1:role/a")).await;
    assert_eq!(admins.group_name(), Some("Admins"));
    assert_eq!(admins.user_pool_id(), Some(p.id.as_str()));
    assert_eq!(admins.description(), Some("the Admins"));
    assert_eq!(admins.role_arn(), Some("arn:aws:iam::1:role/a"));
    assert_eq!(admins.precedence(), Some(1));
    assert!(admins.creation_date().is_some());
    let exists = pair(
        "GroupExistsException",
        "A group with the name already exists.",
    );
    assert_eq!(
        err_of(
            c.create_group()
                .user_pool_id(&p.id)
                .group_name("admins")
                .send()
                .await
        ),
        exists,
        "names differing only in letter case collide"
    );
    assert_eq!(
        err_of(
            c.create_group()
                .user_pool_id(&p.id)
                .group_name("x")
                .precedence(-1)
                .send()
                .await
        )
        .0,
        "InvalidParameterException"
    );
    assert_eq!(
        err_of(
            c.create_group()
                .user_pool_id("us-east-1_nope")
                .group_name("x")
                .send()
                .await
        )
        .0,
        "ResourceNotFoundException"
    );

    // UpdateGroup changes what it names and keeps the rest.
    let updated = c
        .update_group()
        .user_pool_id(&p.id)
        .group_name("Admins")
        .precedence(3)
        .send()
        .await
        .unwrap();
    let updated = updated.group().unwrap();
    assert_eq!(updated.precedence(), Some(3));
    assert_eq!(updated.role_arn(), Some("arn:aws:iam::1:role/a"));
    assert_eq!(updated.description(), Some("the Admins"));
    let got = c
        .get_group()
        .user_pool_id(&p.id)
        .group_name("Admins")
        .send()
        .await
        .unwrap();
    assert_eq!(got.group().unwrap().precedence(), Some(3));

    for name in ["beta", "Gamma"] {
        create_group(&c, &p, name, None, None).await;
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_groups()
            .user_pool_id(&p.id)
            .limit(2)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        assert!(page.groups().len() <= 2);
        seen.extend(
            page.groups()
                .iter()
                .map(|g| g.group_name().unwrap().to_string()),
        );
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["Admins", "beta", "Gamma"]);

    c.delete_group()
        .user_pool_id(&p.id)
        .group_name("beta")
        .send()
        .await
        .unwrap();
    let not_found = pair("ResourceNotFoundException", "Group not found.");
    for result in [
        err_of(
            c.get_group()
                .user_pool_id(&p.id)
                .group_name("beta")
                .send()
                .await,
        ),
        err_of(
            c.delete_group()
                .user_pool_id(&p.id)
                .group_name("beta")
                .send()
                .await,
        ),
        err_of(
            c.update_group()
                .user_pool_id(&p.id)
                .group_name("beta")
                .description("x")
                .send()
                .await,
        ),
    ] {
        assert_eq!(result, not_found);
    }
}

#[tokio::test]
async fn membership_puts_groups_and_roles_in_the_next_tokens() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(&server, &["ann", "bob"], |b| b).await;
    create_group(&c, &p, "staff", Some(5), None).await;
    create_group(&c, &p, "admins", Some(1), Some("arn:aws:iam::1:role/admin")).await;
    create_group(&c, &p, "readers", None, Some("arn:aws:iam::1:role/read")).await;
    let plain = tokens(&c, &p, "ann").await;
    assert!(claims(plain.id_token().unwrap())
        .get("cognito:groups")
        .is_none());

    for group in ["readers", "staff", "admins"] {
        add(&c, &p, "ann", group).await;
    }
    add(&c, &p, "ann", "admins").await;
    add(&c, &p, "bob", "staff").await;
    let signed_in = tokens(&c, &p, "ann").await;
    let id = claims(signed_in.id_token().unwrap());
    let access = claims(signed_in.access_token().unwrap());
    assert_eq!(id["cognito:groups"], json!(["admins", "staff", "readers"]));
    assert_eq!(access["cognito:groups"], id["cognito:groups"]);
    assert_eq!(
        id["cognito:roles"],
        json!(["arn:aws:iam::1:role/admin", "arn:aws:iam::1:role/read"])
    );
    assert_eq!(id["cognito:preferred_role"], "arn:aws:iam::1:role/admin");
    assert!(access.get("cognito:roles").is_none());
    // Tokens issued before keep what they said.
    assert!(claims(plain.access_token().unwrap())
        .get("cognito:groups")
        .is_none());

    let members = c
        .list_users_in_group()
        .user_pool_id(&p.id)
        .group_name("staff")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = members
        .users()
        .iter()
        .map(|u| u.username().unwrap())
        .collect();
    assert_eq!(names, ["ann", "bob"]);
    let page = c
        .list_users_in_group()
        .user_pool_id(&p.id)
        .group_name("staff")
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.users().len(), 1);
    let rest = c
        .list_users_in_group()
        .user_pool_id(&p.id)
        .group_name("staff")
        .limit(1)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.users()[0].username(), Some("bob"));
    let groups = c
        .admin_list_groups_for_user()
        .user_pool_id(&p.id)
        .username("ann")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = groups
        .groups()
        .iter()
        .map(|g| g.group_name().unwrap())
        .collect();
    assert_eq!(names, ["admins", "readers", "staff"]);

    // A removal and a deleted group show in the next refresh.
    c.admin_remove_user_from_group()
        .user_pool_id(&p.id)
        .username("ann")
        .group_name("admins")
        .send()
        .await
        .unwrap();
    c.delete_group()
        .user_pool_id(&p.id)
        .group_name("readers")
        .send()
        .await
        .unwrap();
    let refreshed = c
        .initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", signed_in.refresh_token().unwrap())
        .send()
        .await
        .unwrap();
    let id = claims(
        refreshed
            .authentication_result()
            .unwrap()
            .id_token()
            .unwrap(),
    );
    assert_eq!(id["cognito:groups"], json!(["staff"]));
    assert!(id.get("cognito:roles").is_none());
    assert!(id.get("cognito:preferred_role").is_none());

    // Unknown users and groups.
    let no_group = pair("ResourceNotFoundException", "Group not found.");
    let no_user = pair("UserNotFoundException", "User does not exist.");
    let add_result = |name: &'static str, group: &'static str| {
        c.admin_add_user_to_group()
            .user_pool_id(&p.id)
            .username(name)
            .group_name(group)
            .send()
    };
    assert_eq!(err_of(add_result("ann", "nope").await), no_group);
    assert_eq!(err_of(add_result("nobody", "staff").await), no_user);
    assert_eq!(
        err_of(
            c.admin_remove_user_from_group()
                .user_pool_id(&p.id)
                .username("ann")
                .group_name("nope")
                .send()
                .await
        ),
        no_group
    );
    assert_eq!(
        err_of(
            c.list_users_in_group()
                .user_pool_id(&p.id)
                .group_name("nope")
                .send()
                .await
        ),
        no_group
    );
    assert_eq!(
        err_of(
            c.admin_list_groups_for_user()
                .user_pool_id(&p.id)
                .username("nobody")
                .send()
                .await
        ),
        no_user
    );
    // A deleted user leaves its groups.
    c.admin_delete_user()
        .user_pool_id(&p.id)
        .username("bob")
        .send()
        .await
        .unwrap();
    let members = c
        .list_users_in_group()
        .user_pool_id(&p.id)
        .group_name("staff")
        .send()
        .await
        .unwrap();
    assert_eq!(members.users().len(), 1);
}

const PRE_TOKEN: &str = "pre-token";

#[tokio::test]
async fn pre_token_generation_sees_the_groups_and_may_replace_them() {
    let lambda = FakeLambda::start().await;
    lambda.script(PRE_TOKEN, |_| {
        Reply::echo_with(json!({"claimsOverrideDetails": {
            "groupOverrideDetails": {"groupsToOverride": ["from-lambda"]}
        }}))
    });
    let mut b = Server::builder();
    for (k, v) in lambda.env_vars() {
        b = b.env(k, v);
    }
    let server = b.start().await;
    let c = server.client();
    let config = LambdaConfigType::builder()
        .pre_token_generation(lambda.function_arn(PRE_TOKEN))
        .build();
    let p = pool_with(&server, &["ann"], |b| b.lambda_config(config)).await;
    create_group(&c, &p, "staff", Some(2), Some("arn:aws:iam::1:role/staff")).await;
    add(&c, &p, "ann", "staff").await;
    let signed_in = tokens(&c, &p, "ann").await;
    let event = lambda.events(PRE_TOKEN).pop().unwrap();
    assert_eq!(
        event["request"]["groupConfiguration"],
        json!({
            "groupsToOverride": ["staff"],
            "iamRolesToOverride": ["arn:aws:iam::1:role/staff"],
            "preferredRole": "arn:aws:iam::1:role/staff"
        })
    );
    let id = claims(signed_in.id_token().unwrap());
    assert_eq!(id["cognito:groups"], json!(["from-lambda"]));
    assert!(id.get("cognito:roles").is_none());
}
