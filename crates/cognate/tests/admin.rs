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

fn create_user<'a>(
    c: &'a cip::Client,
    p: &'a Pool,
    name: &'a str,
) -> cip::operation::admin_create_user::builders::AdminCreateUserFluentBuilder {
    c.admin_create_user().user_pool_id(&p.id).username(name)
}

/// The temporary password in the last invitation to `name` (the outbox keeps it as the
/// message's code).
async fn invited_password(server: &Server, p: &Pool, name: &str) -> String {
    server.last_code(&p.id, name).await
}

async fn password_sign_in(
    c: &cip::Client,
    p: &Pool,
    name: &str,
    password: &str,
) -> Result<cip::operation::initiate_auth::InitiateAuthOutput, (String, String)> {
    c.initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", name)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map_err(|e| err_of::<_, ()>(Err(e)))
}

#[tokio::test]
async fn an_invited_user_signs_in_with_the_temporary_password_and_sets_a_new_one() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(&server, &[], |b| b).await;
    let out = create_user(&c, &p, "ann")
        .user_attributes(attr("email", "ann@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .desired_delivery_mediums(cip::types::DeliveryMediumType::Email)
        .send()
        .await
        .unwrap();
    let created = out.user().unwrap();
    assert_eq!(created.username(), Some("ann"));
    assert_eq!(
        created.user_status(),
        Some(&cip::types::UserStatusType::ForceChangePassword)
    );
    assert!(created.enabled());
    assert!(created.attributes().iter().any(|a| a.name() == "sub"));
    let message = server.outbox(&p.id, "ann").await.pop().unwrap();
    let password = message["Code"].as_str().unwrap().to_string();
    assert_eq!(message["Subject"], "Your temporary password");
    assert_eq!(
        message["Body"],
        format!("Your username is ann and temporary password is {password}. ")
    );
    assert_eq!(message["Destination"], "a***@e***");

    let challenge = password_sign_in(&c, &p, "ann", &password).await.unwrap();
    assert_eq!(
        challenge.challenge_name(),
        Some(&cip::types::ChallengeNameType::NewPasswordRequired)
    );
    let answered = c
        .respond_to_auth_challenge()
        .client_id(&p.client_id)
        .challenge_name(cip::types::ChallengeNameType::NewPasswordRequired)
        .session(challenge.session().unwrap())
        .challenge_responses("USERNAME", "ann")
        .challenge_responses("NEW_PASSWORD", "N3w-Passw0rd!")
        .send()
        .await
        .unwrap();
    assert!(answered.authentication_result().is_some());
    assert_eq!(
        status(&c, &p, "ann").await,
        cip::types::UserStatusType::Confirmed
    );

    assert_eq!(
        err_of(create_user(&c, &p, "ann").send().await),
        pair("UsernameExistsException", "User account already exists")
    );
    assert_eq!(
        err_of(
            create_user(&c, &p, "weak")
                .temporary_password("short")
                .send()
                .await
        ),
        pair(
            "InvalidPasswordException",
            "Password did not conform with policy: Password not long enough"
        )
    );
    assert_eq!(
        err_of(
            create_user(&c, &p, "bob")
                .desired_delivery_mediums(cip::types::DeliveryMediumType::Email)
                .send()
                .await
        ),
        pair(
            "InvalidParameterException",
            "No email provided but desired delivery medium was Email"
        )
    );
    assert_eq!(
        err_of(
            c.admin_get_user()
                .user_pool_id(&p.id)
                .username("bob")
                .send()
                .await
        )
        .0,
        "UserNotFoundException",
        "a refused creation leaves nothing"
    );
}

#[tokio::test]
async fn resend_and_suppress_and_the_temporary_password_validity() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(&server, &["done"], |b| {
        b.policies(
            cip::types::UserPoolPolicyType::builder()
                .password_policy(
                    cip::types::PasswordPolicyType::builder()
                        .minimum_length(9)
                        .require_numbers(true)
                        .temporary_password_validity_days(1)
                        .build(),
                )
                .build(),
        )
    })
    .await;
    create_user(&c, &p, "quiet")
        .user_attributes(attr("email", "quiet@example.com"))
        .message_action(cip::types::MessageActionType::Suppress)
        .temporary_password("Given-Passw0rd")
        .send()
        .await
        .unwrap();
    assert!(server.outbox(&p.id, "quiet").await.is_empty());
    password_sign_in(&c, &p, "quiet", "Given-Passw0rd")
        .await
        .unwrap();

    // Without DesiredDeliveryMediums the default is SMS: to a phone number, if there is one.
    create_user(&c, &p, "phoned")
        .user_attributes(attr("phone_number", "+12065551234"))
        .send()
        .await
        .unwrap();
    let sms = server.outbox(&p.id, "phoned").await.pop().unwrap();
    assert_eq!(sms["Medium"], "SMS");
    let first = sms["Code"].as_str().unwrap().to_string();
    assert!(first.len() >= 9, "generated to the pool's minimum length");

    server.advance_clock(86_401).await;
    assert_eq!(
        password_sign_in(&c, &p, "phoned", &first)
            .await
            .unwrap_err(),
        pair(
            "NotAuthorizedException",
            "Temporary password has expired and must be reset by an administrator."
        )
    );
    create_user(&c, &p, "phoned")
        .message_action(cip::types::MessageActionType::Resend)
        .send()
        .await
        .unwrap();
    let second = invited_password(&server, &p, "phoned").await;
    assert_ne!(first, second);
    assert_eq!(
        password_sign_in(&c, &p, "phoned", &first)
            .await
            .unwrap_err()
            .0,
        "NotAuthorizedException"
    );
    let challenge = password_sign_in(&c, &p, "phoned", &second).await.unwrap();
    assert_eq!(
        challenge.challenge_name(),
        Some(&cip::types::ChallengeNameType::NewPasswordRequired)
    );

    assert_eq!(
        err_of(
            create_user(&c, &p, "nobody")
                .message_action(cip::types::MessageActionType::Resend)
                .send()
                .await
        ),
        pair("UserNotFoundException", "User does not exist.")
    );
    assert_eq!(
        err_of(
            create_user(&c, &p, "done")
                .message_action(cip::types::MessageActionType::Resend)
                .send()
                .await
        )
        .0,
        "UnsupportedUserStateException"
    );
}

#[tokio::test]
async fn invitations_follow_the_pool_template_and_aliases_and_sign_in_attributes() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(&server, &[], |b| {
        b.alias_attributes(cip::types::AliasAttributeType::Email)
            .admin_create_user_config(
                cip::types::AdminCreateUserConfigType::builder()
                    .allow_admin_create_user_only(true)
                    .invite_message_template(
                        cip::types::MessageTemplateType::builder()
                            .sms_message("Hi {username}, your password is {####}")
                            .build(),
                    )
                    .build(),
            )
    })
    .await;
    assert_eq!(
        err_of(try_sign_up(&c, &p, "self", attr("email", "self@example.com")).await),
        pair(
            "NotAuthorizedException",
            "SignUp is not permitted for this user pool"
        )
    );
    create_user(&c, &p, "ann")
        .user_attributes(attr("phone_number", "+12065550100"))
        .user_attributes(attr("email", "shared@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .unwrap();
    let message = server.outbox(&p.id, "ann").await.pop().unwrap();
    assert_eq!(
        message["Body"],
        format!(
            "Hi ann, your password is {}",
            message["Code"].as_str().unwrap()
        )
    );
    // A verified email is claimed as alias at once: another user cannot have it verified too
    // unless the administrator forces the move.
    let taken = create_user(&c, &p, "bob")
        .user_attributes(attr("email", "Shared@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .message_action(cip::types::MessageActionType::Suppress)
        .send()
        .await;
    assert_eq!(
        err_of(taken),
        pair(
            "UsernameExistsException",
            "An account with the given email already exists."
        )
    );
    create_user(&c, &p, "bob")
        .user_attributes(attr("email", "Shared@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .force_alias_creation(true)
        .message_action(cip::types::MessageActionType::Suppress)
        .temporary_password("Temp-Passw0rd!")
        .send()
        .await
        .unwrap();
    let ann = user(&c, &p, "ann").await;
    let verified = ann
        .user_attributes()
        .iter()
        .find(|a| a.name() == "email_verified")
        .and_then(|a| a.value());
    assert_eq!(verified, Some("false"), "the alias moved away from ann");
    let by_alias = password_sign_in(&c, &p, "shared@example.com", "Temp-Passw0rd!")
        .await
        .unwrap();
    assert_eq!(
        by_alias.challenge_parameters().unwrap()["USER_ID_FOR_SRP"],
        "bob"
    );

    // In email-as-username pools the username must be the email; the internal one is the sub.
    let by_email = pool_with(&server, &[], |b| {
        b.username_attributes(cip::types::UsernameAttributeType::Email)
    })
    .await;
    let created = create_user(&c, &by_email, "carol@example.com")
        .message_action(cip::types::MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    let created = created.user().unwrap();
    let sub = created
        .attributes()
        .iter()
        .find(|a| a.name() == "sub")
        .and_then(|a| a.value())
        .unwrap();
    assert_eq!(created.username(), Some(sub));
    assert_eq!(
        err_of(create_user(&c, &by_email, "carol").send().await),
        pair("InvalidParameterException", "Username should be an email.")
    );
}

const PRE_SIGN_UP: &str = "pre-sign-up";
const CUSTOM_MESSAGE: &str = "custom-message";

#[tokio::test]
async fn admin_create_user_runs_pre_sign_up_and_custom_message_with_their_sources() {
    let lambda = FakeLambda::start().await;
    lambda.script(PRE_SIGN_UP, |event| {
        if event["request"]["validationData"]["refuse"] == "yes" {
            Reply::function_error("not on the list")
        } else {
            Reply::Echo
        }
    });
    lambda.script(CUSTOM_MESSAGE, |_| {
        Reply::echo_with(json!({"smsMessage": "Welcome {username}: {####}"}))
    });
    let mut b = Server::builder();
    for (k, v) in lambda.env_vars() {
        b = b.env(k, v);
    }
    let server = b.start().await;
    let c = server.client();
    let config = LambdaConfigType::builder()
        .pre_sign_up(lambda.function_arn(PRE_SIGN_UP))
        .custom_message(lambda.function_arn(CUSTOM_MESSAGE))
        .build();
    let p = pool_with(&server, &[], |b| b.lambda_config(config)).await;
    create_user(&c, &p, "ann")
        .user_attributes(attr("phone_number", "+12065550100"))
        .validation_data(attr("invited_by", "ops"))
        .send()
        .await
        .unwrap();
    let pre = lambda.events(PRE_SIGN_UP).pop().unwrap();
    assert_eq!(pre["triggerSource"], "PreSignUp_AdminCreateUser");
    assert_eq!(
        pre["request"]["validationData"],
        json!({"invited_by": "ops"})
    );
    assert_eq!(
        pre["request"]["userAttributes"]["cognito:user_status"],
        "FORCE_CHANGE_PASSWORD"
    );
    let custom = lambda.events(CUSTOM_MESSAGE).pop().unwrap();
    assert_eq!(custom["triggerSource"], "CustomMessage_AdminCreateUser");
    assert_eq!(custom["request"]["usernameParameter"], "{username}");
    assert_eq!(custom["request"]["codeParameter"], "{####}");
    let message = server.outbox(&p.id, "ann").await.pop().unwrap();
    assert_eq!(
        message["Body"],
        format!("Welcome ann: {}", message["Code"].as_str().unwrap())
    );
    assert_eq!(
        err_of(
            create_user(&c, &p, "bob")
                .validation_data(attr("refuse", "yes"))
                .send()
                .await
        ),
        pair(
            "UserLambdaValidationException",
            "PreSignUp failed with error not on the list."
        )
    );
    assert_eq!(
        err_of(
            c.admin_get_user()
                .user_pool_id(&p.id)
                .username("bob")
                .send()
                .await
        )
        .0,
        "UserNotFoundException"
    );
}

#[tokio::test]
async fn custom_attributes_join_the_schema_and_users_are_listed_by_filter() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(&server, &["ann", "Bob", "carol"], |b| {
        b.username_configuration(
            cip::types::UsernameConfigurationType::builder()
                .case_sensitive(false)
                .build()
                .unwrap(),
        )
    })
    .await;
    let attribute = |name: &str| {
        cip::types::SchemaAttributeType::builder()
            .name(name)
            .attribute_data_type(cip::types::AttributeDataType::String)
            .build()
    };
    c.add_custom_attributes()
        .user_pool_id(&p.id)
        .custom_attributes(attribute("team"))
        .send()
        .await
        .unwrap();
    let described = c
        .describe_user_pool()
        .user_pool_id(&p.id)
        .send()
        .await
        .unwrap();
    let pool = described.user_pool().unwrap();
    assert!(pool
        .schema_attributes()
        .iter()
        .any(|a| a.name() == Some("custom:team")));
    assert_eq!(pool.estimated_number_of_users(), 3);
    assert_eq!(
        err_of(
            c.add_custom_attributes()
                .user_pool_id(&p.id)
                .custom_attributes(attribute("team"))
                .send()
                .await
        ),
        pair(
            "InvalidParameterException",
            "Existing attribute already has name custom:team."
        )
    );
    assert_eq!(
        err_of(
            c.add_custom_attributes()
                .user_pool_id(&p.id)
                .custom_attributes(attribute("a-name-longer-than-twenty"))
                .send()
                .await
        )
        .0,
        "InvalidParameterException"
    );
    // The new attribute is writable at once.
    c.admin_update_user_attributes()
        .user_pool_id(&p.id)
        .username("ann")
        .user_attributes(attr("custom:team", "red"))
        .send()
        .await
        .unwrap();

    let names = |filter: &'static str| {
        let c = c.clone();
        let pool = p.id.clone();
        async move {
            c.list_users()
                .user_pool_id(pool)
                .filter(filter)
                .send()
                .await
                .map(|out| {
                    out.users()
                        .iter()
                        .map(|u| u.username().unwrap().to_string())
                        .collect::<Vec<_>>()
                })
                .map_err(|e| err_of::<_, ()>(Err(e)))
        }
    };
    assert_eq!(names("username = \"bob\"").await.unwrap(), ["Bob"]);
    assert_eq!(names("email ^= \"c\"").await.unwrap(), ["carol"]);
    assert_eq!(
        names("cognito:user_status=\"confirmed\"").await.unwrap(),
        ["ann", "Bob", "carol"]
    );
    assert_eq!(names("status = \"Enabled\"").await.unwrap().len(), 3);
    assert_eq!(
        names("email = \"ann@example.com\" and").await.unwrap_err(),
        pair("InvalidParameterException", "Error while parsing filter.")
    );
    assert_eq!(
        names("custom:team = \"red\"").await.unwrap_err(),
        pair(
            "InvalidParameterException",
            "Invalid search attribute: custom:team"
        )
    );
    // A page token stays good while users are added before and after it.
    let first = c
        .list_users()
        .user_pool_id(&p.id)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(first.users()[0].username(), Some("ann"));
    sign_up(&c, &p, "aaron", "aaron@example.com").await;
    sign_up(&c, &p, "dave", "dave@example.com").await;
    let rest = c
        .list_users()
        .user_pool_id(&p.id)
        .pagination_token(first.pagination_token().unwrap())
        .send()
        .await
        .unwrap();
    let rest: Vec<&str> = rest.users().iter().map(|u| u.username().unwrap()).collect();
    assert_eq!(rest, ["Bob", "carol", "dave"]);
}

#[tokio::test]
async fn pools_with_threat_protection_keep_auth_events_and_take_feedback() {
    let server = Server::start().await;
    let c = server.client();
    let audited = pool_with(&server, &["ann"], |b| {
        b.user_pool_add_ons(
            cip::types::UserPoolAddOnsType::builder()
                .advanced_security_mode(cip::types::AdvancedSecurityModeType::Audit)
                .build()
                .unwrap(),
        )
    })
    .await;
    let signed_in = tokens(&c, &audited, "ann").await;
    assert_eq!(
        password_sign_in(&c, &audited, "ann", "Wr0ng-password!")
            .await
            .unwrap_err()
            .0,
        "NotAuthorizedException"
    );
    c.change_password()
        .access_token(signed_in.access_token().unwrap())
        .previous_password(PASSWORD)
        .proposed_password("N3w-Passw0rd!")
        .send()
        .await
        .unwrap();
    let list = |max: Option<i32>, token: Option<String>| {
        c.admin_list_user_auth_events()
            .user_pool_id(&audited.id)
            .username("ann")
            .set_max_results(max)
            .set_next_token(token)
            .send()
    };
    let all = list(None, None).await.unwrap();
    let seen: Vec<(String, String)> = all
        .auth_events()
        .iter()
        .map(|e| {
            (
                e.event_type().unwrap().as_str().to_string(),
                e.event_response().unwrap().as_str().to_string(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("PasswordChange".to_string(), "Pass".to_string()),
            ("SignIn".to_string(), "Fail".to_string()),
            ("SignIn".to_string(), "Pass".to_string()),
            ("SignUp".to_string(), "Pass".to_string()),
        ],
        "newest first; the administrator's confirmation is no user event"
    );
    let newest = &all.auth_events()[0];
    assert_eq!(
        newest.event_context_data().unwrap().ip_address(),
        Some("127.0.0.1")
    );
    assert_eq!(
        newest.event_risk().unwrap().risk_decision(),
        Some(&cip::types::RiskDecisionType::NoRisk)
    );
    let page = list(Some(2), None).await.unwrap();
    assert_eq!(page.auth_events().len(), 2);
    let rest = list(Some(2), page.next_token().map(str::to_string))
        .await
        .unwrap();
    assert_eq!(rest.auth_events().len(), 2);
    assert_eq!(
        rest.auth_events()[1].event_type(),
        Some(&cip::types::EventType::SignUp)
    );
    let last = list(Some(2), rest.next_token().map(str::to_string)).await;
    assert!(
        rest.next_token().is_none() || last.unwrap().auth_events().is_empty(),
        "nothing after the oldest event"
    );

    let event_id = newest.event_id().unwrap().to_string();
    c.admin_update_auth_event_feedback()
        .user_pool_id(&audited.id)
        .username("ann")
        .event_id(&event_id)
        .feedback_value(cip::types::FeedbackValueType::Invalid)
        .send()
        .await
        .unwrap();
    let again = list(Some(1), None).await.unwrap();
    let feedback = again.auth_events()[0].event_feedback().unwrap();
    assert_eq!(
        feedback.feedback_value(),
        &cip::types::FeedbackValueType::Invalid
    );
    assert_eq!(feedback.provider(), "Admin");
    assert_eq!(
        err_of(
            c.update_auth_event_feedback()
                .user_pool_id(&audited.id)
                .username("ann")
                .event_id(&event_id)
                .feedback_token("forged")
                .feedback_value(cip::types::FeedbackValueType::Valid)
                .send()
                .await
        ),
        pair("NotAuthorizedException", "Invalid feedback token.")
    );
    assert_eq!(
        err_of(
            c.admin_update_auth_event_feedback()
                .user_pool_id(&audited.id)
                .username("ann")
                .event_id("no-such-event")
                .feedback_value(cip::types::FeedbackValueType::Valid)
                .send()
                .await
        )
        .0,
        "ResourceNotFoundException"
    );

    // A pool without threat protection keeps no events and says so.
    let plain = pool_with(&server, &["bob"], |b| b).await;
    tokens(&c, &plain, "bob").await;
    assert_eq!(
        err_of(
            c.admin_list_user_auth_events()
                .user_pool_id(&plain.id)
                .username("bob")
                .send()
                .await
        ),
        pair(
            "UserPoolAddOnNotEnabledException",
            "The user pool does not have advanced security features enabled."
        )
    );
    let store = server.open_store().await;
    assert!(store
        .user_events(&plain.id, "bob")
        .await
        .unwrap()
        .is_empty());
    store.close().await;
}

#[tokio::test]
async fn the_legacy_unused_account_validity_sets_the_temporary_password_validity() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(&server, &[], |b| {
        b.admin_create_user_config(
            cip::types::AdminCreateUserConfigType::builder()
                .unused_account_validity_days(2)
                .build(),
        )
    })
    .await;
    let described = c
        .describe_user_pool()
        .user_pool_id(&p.id)
        .send()
        .await
        .unwrap();
    let policy = described
        .user_pool()
        .unwrap()
        .policies()
        .unwrap()
        .password_policy()
        .unwrap()
        .clone();
    assert_eq!(policy.temporary_password_validity_days(), 2);
    create_user(&c, &p, "ann")
        .temporary_password("Temp-Passw0rd!")
        .message_action(cip::types::MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    server.advance_clock(2 * 86_400 + 1).await;
    assert_eq!(
        password_sign_in(&c, &p, "ann", "Temp-Passw0rd!")
            .await
            .unwrap_err()
            .1,
        "Temporary password has expired and must be reset by an administrator."
    );
}
