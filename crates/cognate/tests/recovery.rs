#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Account recovery and attribute changes through the real Rust AWS SDK (issue "Account
//! recovery and attribute changes"): ForgotPassword, ConfirmForgotPassword,
//! AdminResetUserPassword, AdminSetUserPassword, the password history, UpdateUserAttributes,
//! AdminUpdateUserAttributes, DeleteUserAttributes, AdminDeleteUserAttributes,
//! GetUserAttributeVerificationCode and VerifyUserAttribute, with their triggers and AWS's
//! errors.

mod common;

use aws_sdk_cognitoidentityprovider as cip;
use base64::Engine;
use cip::types::{
    AccountRecoverySettingType, AliasAttributeType, AuthFlowType, ExplicitAuthFlowsType,
    LambdaConfigType, PasswordPolicyType, PreventUserExistenceErrorTypes, RecoveryOptionNameType,
    RecoveryOptionType, SchemaAttributeType, UserAttributeUpdateSettingsType, UserPoolPolicyType,
    UserStatusType, VerifiedAttributeType,
};
use cognate_triggers::test_support::{FakeLambda, Reply};
use common::*;
use serde_json::{json, Value};

const NEW_PASSWORD: &str = "N3w-Passw0rd!";
const THIRD_PASSWORD: &str = "Th1rd-Passw0rd!";

fn flows(b: ClientBuilder) -> ClientBuilder {
    b.explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
}

/// A pool verifying email (shaped further by `configure`), a password client, and "ann"
/// confirmed with her code (so her email is verified).
async fn pool_with_ann(
    server: &Server,
    configure: impl FnOnce(PoolBuilder) -> PoolBuilder,
    client: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Pool {
    let c = &server.client();
    let p = create_pool(
        c,
        "recovery",
        |b| configure(b.auto_verified_attributes(VerifiedAttributeType::Email)),
        |b| client(flows(b)),
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

async fn sign_in(
    c: &cip::Client,
    p: &Pool,
    username: &str,
    password: &str,
) -> Result<cip::types::AuthenticationResultType, (String, String)> {
    let out = c
        .initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await;
    match out {
        Ok(out) => Ok(out.authentication_result().cloned().expect("tokens")),
        Err(e) => {
            let meta = cip::error::ProvideErrorMetadata::meta(&e);
            Err((
                meta.code().unwrap_or_default().to_string(),
                meta.message().unwrap_or_default().to_string(),
            ))
        }
    }
}

async fn access_token(c: &cip::Client, p: &Pool, username: &str, password: &str) -> String {
    sign_in(c, p, username, password)
        .await
        .unwrap()
        .access_token()
        .unwrap()
        .to_string()
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

fn mismatch() -> (String, String) {
    pair(
        "CodeMismatchException",
        "Invalid verification code provided, please try again.",
    )
}

fn expired() -> (String, String) {
    pair(
        "ExpiredCodeException",
        "Invalid code provided, please request a code again.",
    )
}

fn limit() -> (String, String) {
    pair(
        "LimitExceededException",
        "Attempt limit exceeded, please try after some time.",
    )
}

fn no_contact() -> (String, String) {
    pair(
        "InvalidParameterException",
        "Cannot reset password for the user as there is no registered/verified email or phone_number",
    )
}

fn forgot<'a>(
    c: &'a cip::Client,
    p: &'a Pool,
    username: &'a str,
) -> cip::operation::forgot_password::builders::ForgotPasswordFluentBuilder {
    c.forgot_password()
        .client_id(&p.client_id)
        .username(username)
}

fn confirm_forgot(
    c: &cip::Client,
    p: &Pool,
    username: &str,
    code: &str,
    password: &str,
) -> cip::operation::confirm_forgot_password::builders::ConfirmForgotPasswordFluentBuilder {
    c.confirm_forgot_password()
        .client_id(&p.client_id)
        .username(username)
        .confirmation_code(code)
        .password(password)
}

async fn attributes(c: &cip::Client, p: &Pool, username: &str) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = user(c, p, username)
        .await
        .user_attributes()
        .iter()
        .map(|a| {
            (
                a.name().to_string(),
                a.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    list.sort();
    list
}

fn value(list: &[(String, String)], name: &str) -> Option<String> {
    list.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

#[tokio::test]
async fn forgot_password_resets_the_password_and_signs_the_user_out() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, |b| b, |b| b).await;
    let before = sign_in(&c, &p, "ann", PASSWORD).await.unwrap();
    server.advance_clock(2).await;

    let out = forgot(&c, &p, "ann").send().await.unwrap();
    let details = out.code_delivery_details().unwrap();
    assert_eq!(details.destination(), Some("a***@e***"));
    assert_eq!(
        details.delivery_medium(),
        Some(&cip::types::DeliveryMediumType::Email)
    );
    assert_eq!(details.attribute_name(), Some("email"));
    let message = server.outbox(&p.id, "ann").await.pop().unwrap();
    assert_eq!(message["Destination"], "a***@e***");
    let code = message["Code"].as_str().unwrap().to_string();
    assert!(message["Body"].as_str().unwrap().contains(&code));

    // A wrong code and a password the policy refuses change nothing, and do not use the code.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(
        err_of(
            confirm_forgot(&c, &p, "ann", wrong, NEW_PASSWORD)
                .send()
                .await
        ),
        mismatch()
    );
    assert_eq!(
        err_of(confirm_forgot(&c, &p, "ann", &code, "Ab1!").send().await),
        pair(
            "InvalidPasswordException",
            "Password did not conform with policy: Password not long enough"
        )
    );
    sign_in(&c, &p, "ann", PASSWORD).await.unwrap();

    confirm_forgot(&c, &p, "ann", &code, NEW_PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(
        sign_in(&c, &p, "ann", PASSWORD).await.unwrap_err(),
        pair("NotAuthorizedException", "Incorrect username or password.")
    );
    sign_in(&c, &p, "ann", NEW_PASSWORD).await.unwrap();
    assert_eq!(status(&c, &p, "ann").await, UserStatusType::Confirmed);
    // Signed out everywhere: the tokens from before the reset are dead.
    assert_eq!(
        err_of(
            c.get_user()
                .access_token(before.access_token().unwrap())
                .send()
                .await
        ),
        pair("NotAuthorizedException", "Access Token has been revoked")
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
    // The code is used up; a second request replaces an earlier code.
    assert_eq!(
        err_of(
            confirm_forgot(&c, &p, "ann", &code, THIRD_PASSWORD)
                .send()
                .await
        ),
        expired()
    );
    forgot(&c, &p, "ann").send().await.unwrap();
    let first = server.last_code(&p.id, "ann").await;
    forgot(&c, &p, "ann").send().await.unwrap();
    let second = server.last_code(&p.id, "ann").await;
    if first != second {
        assert_eq!(
            err_of(
                confirm_forgot(&c, &p, "ann", &first, THIRD_PASSWORD)
                    .send()
                    .await
            ),
            mismatch()
        );
    }
    confirm_forgot(&c, &p, "ann", &second, THIRD_PASSWORD)
        .send()
        .await
        .unwrap();
    sign_in(&c, &p, "ann", THIRD_PASSWORD).await.unwrap();
}

#[tokio::test]
async fn reset_codes_expire_after_an_hour_and_the_hourly_limits_hold() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, |b| b, |b| b).await;
    assert_eq!(
        err_of(
            confirm_forgot(&c, &p, "ann", "123456", NEW_PASSWORD)
                .send()
                .await
        ),
        expired(),
        "no code was ever sent"
    );
    forgot(&c, &p, "ann").send().await.unwrap();
    let code = server.last_code(&p.id, "ann").await;
    server.advance_clock(3601).await;
    assert_eq!(
        err_of(
            confirm_forgot(&c, &p, "ann", &code, NEW_PASSWORD)
                .send()
                .await
        ),
        expired()
    );

    server.advance_clock(3601).await;
    for _ in 0..5 {
        forgot(&c, &p, "ann").send().await.unwrap();
    }
    assert_eq!(err_of(forgot(&c, &p, "ann").send().await), limit());
    server.advance_clock(3601).await;
    forgot(&c, &p, "ann").send().await.unwrap();
    let code = server.last_code(&p.id, "ann").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..10 {
        assert_eq!(
            err_of(
                confirm_forgot(&c, &p, "ann", wrong, NEW_PASSWORD)
                    .send()
                    .await
            ),
            mismatch()
        );
    }
    assert_eq!(
        err_of(
            confirm_forgot(&c, &p, "ann", &code, NEW_PASSWORD)
                .send()
                .await
        ),
        limit(),
        "past the limit even the right code is refused"
    );
    sign_in(&c, &p, "ann", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn forgot_password_answers_for_missing_users_as_the_client_asks() {
    let server = Server::start().await;
    let c = server.client();
    let legacy = pool_with_ann(&server, |b| b, |b| b).await;
    let not_found = pair(
        "UserNotFoundException",
        "Username/client id combination not found.",
    );
    assert_eq!(err_of(forgot(&c, &legacy, "ghost").send().await), not_found);
    assert_eq!(
        err_of(
            confirm_forgot(&c, &legacy, "ghost", "123456", NEW_PASSWORD)
                .send()
                .await
        ),
        not_found
    );

    let hiding = pool_with_ann(
        &server,
        |b| b,
        |b| b.prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled),
    )
    .await;
    let out = forgot(&c, &hiding, "ghost@example.com")
        .send()
        .await
        .unwrap();
    let details = out.code_delivery_details().unwrap();
    assert_eq!(details.destination(), Some("g***@e***"));
    assert_eq!(details.attribute_name(), Some("email"));
    assert_eq!(
        err_of(
            confirm_forgot(&c, &hiding, "ghost", "123456", NEW_PASSWORD)
                .send()
                .await
        ),
        mismatch()
    );

    // Pool and status rules.
    let admin_only = pool_with_ann(
        &server,
        |b| {
            b.account_recovery_setting(
                AccountRecoverySettingType::builder()
                    .recovery_mechanisms(
                        RecoveryOptionType::builder()
                            .priority(1)
                            .name(RecoveryOptionNameType::AdminOnly)
                            .build()
                            .unwrap(),
                    )
                    .build(),
            )
        },
        |b| b,
    )
    .await;
    assert_eq!(
        err_of(forgot(&c, &admin_only, "ann").send().await),
        pair(
            "NotAuthorizedException",
            "Contact administrator to reset password."
        )
    );
    sign_up(&c, &legacy, "bob", "bob@example.com").await;
    c.admin_confirm_sign_up()
        .user_pool_id(&legacy.id)
        .username("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(
        err_of(forgot(&c, &legacy, "bob").send().await),
        no_contact(),
        "an admin confirmation verifies no contact"
    );
    c.admin_set_user_password()
        .user_pool_id(&legacy.id)
        .username("ann")
        .password(NEW_PASSWORD)
        .permanent(false)
        .send()
        .await
        .unwrap();
    assert_eq!(
        err_of(forgot(&c, &legacy, "ann").send().await),
        pair(
            "NotAuthorizedException",
            "User password cannot be reset in the current state."
        )
    );
}

#[tokio::test]
async fn admin_reset_requires_a_new_password_set_with_the_code() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, |b| b, |b| b).await;
    let reset = |name: &'static str| {
        c.admin_reset_user_password()
            .user_pool_id(&p.id)
            .username(name)
            .send()
    };
    reset("ann").await.unwrap();
    assert_eq!(status(&c, &p, "ann").await, UserStatusType::ResetRequired);
    assert_eq!(
        sign_in(&c, &p, "ann", PASSWORD).await.unwrap_err(),
        pair(
            "PasswordResetRequiredException",
            "Password reset required for the user"
        )
    );
    let code = server.last_code(&p.id, "ann").await;
    confirm_forgot(&c, &p, "ann", &code, NEW_PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(status(&c, &p, "ann").await, UserStatusType::Confirmed);
    sign_in(&c, &p, "ann", NEW_PASSWORD).await.unwrap();

    assert_eq!(
        err_of(reset("nobody").await),
        pair("UserNotFoundException", "User does not exist.")
    );
    sign_up(&c, &p, "bob", "bob@example.com").await;
    c.admin_confirm_sign_up()
        .user_pool_id(&p.id)
        .username("bob")
        .send()
        .await
        .unwrap();
    assert_eq!(err_of(reset("bob").await), no_contact());
    assert_eq!(status(&c, &p, "bob").await, UserStatusType::Confirmed);
}

#[tokio::test]
async fn admin_set_user_password_and_the_password_history() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(
        &server,
        |b| {
            b.policies(
                UserPoolPolicyType::builder()
                    .password_policy(
                        PasswordPolicyType::builder()
                            .minimum_length(8)
                            .require_uppercase(true)
                            .require_lowercase(true)
                            .require_numbers(true)
                            .require_symbols(true)
                            .password_history_size(2)
                            .build(),
                    )
                    .build(),
            )
        },
        |b| b,
    )
    .await;
    let set = |password: &'static str, permanent: bool| {
        c.admin_set_user_password()
            .user_pool_id(&p.id)
            .username("ann")
            .password(password)
            .permanent(permanent)
            .send()
    };
    let reused = pair(
        "PasswordHistoryPolicyViolationException",
        "Password has previously been used",
    );
    assert_eq!(err_of(set(PASSWORD, true).await), reused);
    assert_eq!(
        err_of(set("short", true).await).0,
        "InvalidPasswordException"
    );
    set(NEW_PASSWORD, true).await.unwrap();
    // History size 2: the current password and the one before it.
    assert_eq!(err_of(set(PASSWORD, true).await), reused);
    let token = access_token(&c, &p, "ann", NEW_PASSWORD).await;
    assert_eq!(
        err_of(
            c.change_password()
                .access_token(&token)
                .previous_password(NEW_PASSWORD)
                .proposed_password(NEW_PASSWORD)
                .send()
                .await
        ),
        reused
    );
    c.change_password()
        .access_token(&token)
        .previous_password(NEW_PASSWORD)
        .proposed_password(THIRD_PASSWORD)
        .send()
        .await
        .unwrap();
    // Two changes later the first password is allowed again.
    set(PASSWORD, true).await.unwrap();
    sign_in(&c, &p, "ann", PASSWORD).await.unwrap();

    // A reset to a remembered password is refused only once the code is right, and the code
    // stays usable.
    forgot(&c, &p, "ann").send().await.unwrap();
    let code = server.last_code(&p.id, "ann").await;
    assert_eq!(
        err_of(
            confirm_forgot(&c, &p, "ann", &code, THIRD_PASSWORD)
                .send()
                .await
        ),
        reused
    );
    confirm_forgot(&c, &p, "ann", &code, NEW_PASSWORD)
        .send()
        .await
        .unwrap();

    // A temporary password: NEW_PASSWORD_REQUIRED, expiring after the pool's validity.
    set("Temp0rary!", false).await.unwrap();
    assert_eq!(
        status(&c, &p, "ann").await,
        UserStatusType::ForceChangePassword
    );
    let challenge = c
        .initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ann")
        .auth_parameters("PASSWORD", "Temp0rary!")
        .send()
        .await
        .unwrap();
    assert_eq!(
        challenge.challenge_name(),
        Some(&cip::types::ChallengeNameType::NewPasswordRequired)
    );
    server.advance_clock(7 * 86_400 + 1).await;
    assert_eq!(
        sign_in(&c, &p, "ann", "Temp0rary!").await.unwrap_err(),
        pair(
            "NotAuthorizedException",
            "Temporary password has expired and must be reset by an administrator."
        )
    );
}

#[tokio::test]
async fn a_changed_email_is_unverified_until_its_code_is_verified() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(
        &server,
        |b| b.alias_attributes(AliasAttributeType::Email),
        |b| b,
    )
    .await;
    let token = access_token(&c, &p, "ann@example.com", PASSWORD).await;
    let out = c
        .update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email", "ann@new.example"))
        .user_attributes(attr("name", "Ann"))
        .send()
        .await
        .unwrap();
    let list = out.code_delivery_details_list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].destination(), Some("a***@n***"));
    assert_eq!(list[0].attribute_name(), Some("email"));
    let now = attributes(&c, &p, "ann").await;
    assert_eq!(value(&now, "email").as_deref(), Some("ann@new.example"));
    assert_eq!(value(&now, "email_verified").as_deref(), Some("false"));
    assert_eq!(value(&now, "name").as_deref(), Some("Ann"));
    // An unverified email is no alias: neither the old nor the new one signs in.
    assert!(sign_in(&c, &p, "ann@example.com", PASSWORD).await.is_err());
    assert!(sign_in(&c, &p, "ann@new.example", PASSWORD).await.is_err());

    let code = server.last_code(&p.id, "ann").await;
    let verify = |code: &str| {
        c.verify_user_attribute()
            .access_token(&token)
            .attribute_name("email")
            .code(code)
            .send()
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(err_of(verify(wrong).await), mismatch());
    verify(&code).await.unwrap();
    let now = attributes(&c, &p, "ann").await;
    assert_eq!(value(&now, "email_verified").as_deref(), Some("true"));
    let tokens = sign_in(&c, &p, "ann@new.example", PASSWORD).await.unwrap();
    assert_eq!(
        claims(tokens.id_token().unwrap())["email"],
        "ann@new.example"
    );
    assert_eq!(
        err_of(verify(&code).await),
        expired(),
        "the code is used up"
    );

    // Another user's verified email cannot be taken, and the refused update changes nothing.
    sign_up(&c, &p, "bob", "bob@example.com").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("bob")
        .confirmation_code(server.last_code(&p.id, "bob").await)
        .send()
        .await
        .unwrap();
    let before = attributes(&c, &p, "ann").await;
    assert_eq!(
        err_of(
            c.update_user_attributes()
                .access_token(&token)
                .user_attributes(attr("email", "Bob@example.com"))
                .send()
                .await
        ),
        pair(
            "AliasExistsException",
            "An account with the email already exists."
        )
    );
    assert_eq!(attributes(&c, &p, "ann").await, before);
}

#[tokio::test]
async fn with_verification_before_update_the_old_email_stays_until_the_new_one_is_verified() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(
        &server,
        |b| {
            b.user_attribute_update_settings(
                UserAttributeUpdateSettingsType::builder()
                    .attributes_require_verification_before_update(VerifiedAttributeType::Email)
                    .build(),
            )
        },
        |b| b,
    )
    .await;
    let token = access_token(&c, &p, "ann", PASSWORD).await;
    c.update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email", "ann@new.example"))
        .send()
        .await
        .unwrap();
    let message = server.outbox(&p.id, "ann").await.pop().unwrap();
    assert_eq!(message["Destination"], "a***@n***");
    let now = attributes(&c, &p, "ann").await;
    assert_eq!(value(&now, "email").as_deref(), Some("ann@example.com"));
    assert_eq!(value(&now, "email_verified").as_deref(), Some("true"));
    let tokens = sign_in(&c, &p, "ann", PASSWORD).await.unwrap();
    assert_eq!(
        claims(tokens.id_token().unwrap())["email"],
        "ann@example.com"
    );
    // A new code goes to the pending value.
    let out = c
        .get_user_attribute_verification_code()
        .access_token(&token)
        .attribute_name("email")
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.code_delivery_details().unwrap().destination(),
        Some("a***@n***")
    );
    c.verify_user_attribute()
        .access_token(&token)
        .attribute_name("email")
        .code(server.last_code(&p.id, "ann").await)
        .send()
        .await
        .unwrap();
    let now = attributes(&c, &p, "ann").await;
    assert_eq!(value(&now, "email").as_deref(), Some("ann@new.example"));
    assert_eq!(value(&now, "email_verified").as_deref(), Some("true"));
}

#[tokio::test]
async fn attribute_writes_follow_permissions_schema_and_requirements() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(
        &server,
        |b| {
            b.schema(
                SchemaAttributeType::builder()
                    .name("team")
                    .attribute_data_type(cip::types::AttributeDataType::String)
                    .mutable(false)
                    .build(),
            )
            .schema(
                SchemaAttributeType::builder()
                    .name("email")
                    .attribute_data_type(cip::types::AttributeDataType::String)
                    .required(true)
                    .mutable(true)
                    .build(),
            )
        },
        |b| b.write_attributes("name").write_attributes("email"),
    )
    .await;
    let token = access_token(&c, &p, "ann", PASSWORD).await;
    let before = attributes(&c, &p, "ann").await;
    let update = |name: &'static str, value: &'static str| {
        c.update_user_attributes()
            .access_token(&token)
            .user_attributes(attr(name, value))
            .send()
    };
    let unauthorized = pair(
        "NotAuthorizedException",
        "A client attempted to write unauthorized attribute",
    );
    assert_eq!(err_of(update("given_name", "Ann").await), unauthorized);
    assert_eq!(err_of(update("email_verified", "true").await), unauthorized);
    assert_eq!(
        err_of(update("email", "not-an-email").await),
        pair("InvalidParameterException", "Invalid email address format.")
    );
    let admin_update = |name: &'static str, value: &'static str| {
        c.admin_update_user_attributes()
            .user_pool_id(&p.id)
            .username("ann")
            .user_attributes(attr(name, value))
            .send()
    };
    assert_eq!(
        err_of(admin_update("custom:team", "red").await),
        pair(
            "InvalidParameterException",
            "user.custom:team: Attribute cannot be updated."
        )
    );
    assert_eq!(
        err_of(admin_update("custom:nope", "x").await).0,
        "InvalidParameterException"
    );
    let required = pair(
        "InvalidParameterException",
        "Attributes did not conform to the schema: email: The attribute is required",
    );
    assert_eq!(
        err_of(
            c.delete_user_attributes()
                .access_token(&token)
                .user_attribute_names("email")
                .send()
                .await
        ),
        required
    );
    assert_eq!(
        err_of(
            c.admin_delete_user_attributes()
                .user_pool_id(&p.id)
                .username("ann")
                .user_attribute_names("email")
                .send()
                .await
        ),
        required
    );
    assert_eq!(attributes(&c, &p, "ann").await, before, "nothing changed");

    // What may change, does.
    update("name", "Ann").await.unwrap();
    c.delete_user_attributes()
        .access_token(&token)
        .user_attribute_names("name")
        .send()
        .await
        .unwrap();
    assert_eq!(attributes(&c, &p, "ann").await, before);
    let messages = server.outbox(&p.id, "ann").await.len();
    c.admin_update_user_attributes()
        .user_pool_id(&p.id)
        .username("ann")
        .user_attributes(attr("email", "ann@admin.example"))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .unwrap();
    let now = attributes(&c, &p, "ann").await;
    assert_eq!(value(&now, "email").as_deref(), Some("ann@admin.example"));
    assert_eq!(value(&now, "email_verified").as_deref(), Some("true"));
    assert_eq!(
        server.outbox(&p.id, "ann").await.len(),
        messages,
        "a value verified by the administrator needs no code"
    );
    c.admin_delete_user_attributes()
        .user_pool_id(&p.id)
        .username("ann")
        .user_attribute_names("email_verified")
        .send()
        .await
        .unwrap();
    assert_eq!(
        value(&attributes(&c, &p, "ann").await, "email_verified"),
        None
    );
    assert_eq!(
        err_of(
            c.admin_update_user_attributes()
                .user_pool_id(&p.id)
                .username("nobody")
                .user_attributes(attr("name", "x"))
                .send()
                .await
        ),
        pair("UserNotFoundException", "User does not exist.")
    );
    assert_eq!(
        err_of(
            c.update_user_attributes()
                .access_token("not-a-token")
                .user_attributes(attr("name", "x"))
                .send()
                .await
        ),
        pair("NotAuthorizedException", "Invalid Access Token")
    );
}

#[tokio::test]
async fn verification_codes_have_their_hourly_limits_and_expire_after_a_day() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, |b| b, |b| b).await;
    let get_code = |token: String, name: &'static str| {
        c.get_user_attribute_verification_code()
            .access_token(token)
            .attribute_name(name)
            .send()
    };
    let verify = |token: String, code: String| {
        c.verify_user_attribute()
            .access_token(token)
            .attribute_name("email")
            .code(code)
            .send()
    };
    let token = access_token(&c, &p, "ann", PASSWORD).await;
    assert_eq!(
        err_of(get_code(token.clone(), "name").await).0,
        "InvalidParameterException"
    );
    assert_eq!(
        err_of(get_code(token.clone(), "phone_number").await),
        pair(
            "InvalidParameterException",
            "The user has no phone_number to verify."
        )
    );
    for _ in 0..5 {
        get_code(token.clone(), "email").await.unwrap();
    }
    assert_eq!(err_of(get_code(token.clone(), "email").await), limit());
    let code = server.last_code(&p.id, "ann").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..15 {
        assert_eq!(
            err_of(verify(token.clone(), wrong.to_string()).await),
            mismatch()
        );
    }
    assert_eq!(err_of(verify(token, code.clone()).await), limit());
    server.advance_clock(3601).await;
    let token = access_token(&c, &p, "ann", PASSWORD).await;
    verify(token.clone(), code).await.unwrap();

    get_code(token, "email").await.unwrap();
    let stale = server.last_code(&p.id, "ann").await;
    server.advance_clock(86_401).await;
    let token = access_token(&c, &p, "ann", PASSWORD).await;
    assert_eq!(err_of(verify(token, stale).await), expired());
}

const CUSTOM_MESSAGE: &str = "custom-message";
const POST_CONFIRMATION: &str = "post-confirmation";
const MIGRATE: &str = "migrate";

#[tokio::test]
async fn recovery_and_attribute_triggers_see_their_sources() {
    let lambda = FakeLambda::start().await;
    lambda.script(CUSTOM_MESSAGE, |event| {
        let source = event["triggerSource"].as_str().unwrap_or_default();
        Reply::echo_with(json!({
            "emailSubject": format!("{source}"),
            "emailMessage": format!("{source}: {{####}}"),
        }))
    });
    lambda.script(POST_CONFIRMATION, |_| Reply::Echo);
    lambda.script(MIGRATE, |event| match event["userName"].as_str() {
        Some("legacy") => Reply::echo_with(json!({
            "userAttributes": {"email": "legacy@example.com", "email_verified": "true"},
            "finalUserStatus": "CONFIRMED",
        })),
        _ => Reply::Echo,
    });
    let mut b = Server::builder();
    for (k, v) in lambda.env_vars() {
        b = b.env(k, v);
    }
    let server = b.start().await;
    let c = server.client();
    let config = LambdaConfigType::builder()
        .custom_message(lambda.function_arn(CUSTOM_MESSAGE))
        .post_confirmation(lambda.function_arn(POST_CONFIRMATION))
        .user_migration(lambda.function_arn(MIGRATE))
        .build();
    // Custom email texts need the pool's own (developer) email account.
    let developer_email = cip::types::EmailConfigurationType::builder()
        .email_sending_account(cip::types::EmailSendingAccountType::Developer)
        .source_arn("arn:aws:ses:us-east-1:123456789012:identity/noreply@example.com")
        .build();
    let p = pool_with_ann(
        &server,
        |b| b.lambda_config(config).email_configuration(developer_email),
        |b| b,
    )
    .await;

    forgot(&c, &p, "ann")
        .client_metadata("why", "forgot")
        .send()
        .await
        .unwrap();
    let message = server.outbox(&p.id, "ann").await.pop().unwrap();
    assert_eq!(message["Subject"], "CustomMessage_ForgotPassword");
    let code = message["Code"].as_str().unwrap().to_string();
    assert_eq!(
        message["Body"],
        format!("CustomMessage_ForgotPassword: {code}")
    );
    let event = lambda.events(CUSTOM_MESSAGE).pop().unwrap();
    assert_eq!(event["request"]["clientMetadata"], json!({"why": "forgot"}));
    confirm_forgot(&c, &p, "ann", &code, NEW_PASSWORD)
        .send()
        .await
        .unwrap();
    let event = lambda.events(POST_CONFIRMATION).pop().unwrap();
    assert_eq!(
        event["triggerSource"],
        "PostConfirmation_ConfirmForgotPassword"
    );
    assert_eq!(event["userName"], "ann");

    let token = access_token(&c, &p, "ann", NEW_PASSWORD).await;
    c.update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email", "ann@new.example"))
        .send()
        .await
        .unwrap();
    let message = server.outbox(&p.id, "ann").await.pop().unwrap();
    assert_eq!(message["Subject"], "CustomMessage_UpdateUserAttribute");
    c.get_user_attribute_verification_code()
        .access_token(&token)
        .attribute_name("email")
        .send()
        .await
        .unwrap();
    let message = server.outbox(&p.id, "ann").await.pop().unwrap();
    assert_eq!(message["Subject"], "CustomMessage_VerifyUserAttribute");

    // An unknown user the migration function knows is created RESET_REQUIRED and sent a code.
    let out = forgot(&c, &p, "legacy").send().await.unwrap();
    assert_eq!(
        out.code_delivery_details().unwrap().destination(),
        Some("l***@e***")
    );
    let event = lambda.events(MIGRATE).pop().unwrap();
    assert_eq!(event["triggerSource"], "UserMigration_ForgotPassword");
    assert!(event["request"].get("password").is_none());
    assert_eq!(
        status(&c, &p, "legacy").await,
        UserStatusType::ResetRequired
    );
    let code = server.last_code(&p.id, "legacy").await;
    confirm_forgot(&c, &p, "legacy", &code, NEW_PASSWORD)
        .send()
        .await
        .unwrap();
    sign_in(&c, &p, "legacy", NEW_PASSWORD).await.unwrap();
    assert_eq!(
        err_of(forgot(&c, &p, "stranger").send().await).0,
        "UserNotFoundException"
    );
}

#[tokio::test]
async fn disabled_users_cannot_recover_and_hiding_clients_do_not_say_why() {
    let server = Server::start().await;
    let c = server.client();
    let legacy = pool_with_ann(&server, |b| b, |b| b).await;
    let hiding = pool_with_ann(
        &server,
        |b| b,
        |b| b.prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled),
    )
    .await;
    for p in [&legacy, &hiding] {
        c.admin_disable_user()
            .user_pool_id(&p.id)
            .username("ann")
            .send()
            .await
            .unwrap();
    }
    let disabled = pair("NotAuthorizedException", "User is disabled.");
    assert_eq!(err_of(forgot(&c, &legacy, "ann").send().await), disabled);
    assert_eq!(
        err_of(
            confirm_forgot(&c, &legacy, "ann", "123456", NEW_PASSWORD)
                .send()
                .await
        ),
        disabled
    );
    let messages = server.outbox(&hiding.id, "ann").await.len();
    let out = forgot(&c, &hiding, "ann").send().await.unwrap();
    assert_eq!(
        out.code_delivery_details().unwrap().attribute_name(),
        Some("email")
    );
    assert_eq!(
        server.outbox(&hiding.id, "ann").await.len(),
        messages,
        "a simulated answer sends nothing"
    );
    assert_eq!(
        err_of(
            confirm_forgot(&c, &hiding, "ann", "123456", NEW_PASSWORD)
                .send()
                .await
        ),
        mismatch()
    );
}

#[tokio::test]
async fn change_password_allows_five_calls_an_hour() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(&server, |b| b, |b| b).await;
    let token = access_token(&c, &p, "ann", PASSWORD).await;
    let change = |previous: &'static str, proposed: &'static str| {
        c.change_password()
            .access_token(&token)
            .previous_password(previous)
            .proposed_password(proposed)
            .send()
    };
    // Wrong previous passwords count too.
    for _ in 0..4 {
        assert_eq!(
            err_of(change("Wr0ng-password!", NEW_PASSWORD).await),
            pair("NotAuthorizedException", "Incorrect username or password.")
        );
    }
    change(PASSWORD, NEW_PASSWORD).await.unwrap();
    assert_eq!(err_of(change(NEW_PASSWORD, THIRD_PASSWORD).await), limit());
    server.advance_clock(3601).await;
    let token = access_token(&c, &p, "ann", NEW_PASSWORD).await;
    c.change_password()
        .access_token(&token)
        .previous_password(NEW_PASSWORD)
        .proposed_password(THIRD_PASSWORD)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn hiding_clients_count_missing_users_against_the_same_limits() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with_ann(
        &server,
        |b| b,
        |b| b.prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled),
    )
    .await;
    // ConfirmSignUp: 15 an hour, then the limit, as for a real user.
    for _ in 0..15 {
        assert_eq!(
            err_of(
                c.confirm_sign_up()
                    .client_id(&p.client_id)
                    .username("ghost")
                    .confirmation_code("123456")
                    .send()
                    .await
            ),
            mismatch()
        );
    }
    assert_eq!(
        err_of(
            c.confirm_sign_up()
                .client_id(&p.client_id)
                .username("ghost")
                .confirmation_code("123456")
                .send()
                .await
        ),
        limit()
    );
    // ResendConfirmationCode and ForgotPassword: 5 an hour.
    for _ in 0..5 {
        c.resend_confirmation_code()
            .client_id(&p.client_id)
            .username("ghost")
            .send()
            .await
            .unwrap();
        forgot(&c, &p, "ghost").send().await.unwrap();
    }
    assert_eq!(
        err_of(
            c.resend_confirmation_code()
                .client_id(&p.client_id)
                .username("ghost")
                .send()
                .await
        ),
        limit()
    );
    assert_eq!(err_of(forgot(&c, &p, "ghost").send().await), limit());
    // ConfirmForgotPassword: 10 an hour.
    for _ in 0..10 {
        assert_eq!(
            err_of(
                confirm_forgot(&c, &p, "ghost", "123456", NEW_PASSWORD)
                    .send()
                    .await
            ),
            mismatch()
        );
    }
    assert_eq!(
        err_of(
            confirm_forgot(&c, &p, "ghost", "123456", NEW_PASSWORD)
                .send()
                .await
        ),
        limit()
    );
    // The window passes for missing names too.
    server.advance_clock(3601).await;
    forgot(&c, &p, "ghost").send().await.unwrap();
}
