#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The sign-up confirmation flow through the real Rust AWS SDK (issue: "The sign-up
//! confirmation flow, exact to AWS").

mod common;

use aws_sdk_cognitoidentityprovider as cip;
use cip::types::{
    AliasAttributeType, DeliveryMediumType, PreventUserExistenceErrorTypes, UserStatusType,
    UsernameAttributeType, VerifiedAttributeType,
};
use common::*;

/// A pool shaped by `configure` whose client has a secret or not and the given
/// PreventUserExistenceErrors.
async fn pool_with(
    c: &cip::Client,
    configure: impl FnOnce(PoolBuilder) -> PoolBuilder,
    secret: bool,
    prevent: Option<PreventUserExistenceErrorTypes>,
) -> Pool {
    create_pool(c, "signup", configure, |b| {
        b.generate_secret(secret)
            .set_prevent_user_existence_errors(prevent)
    })
    .await
}

async fn email_pool(c: &cip::Client) -> Pool {
    pool_with(
        c,
        |b| b.auto_verified_attributes(VerifiedAttributeType::Email),
        false,
        None,
    )
    .await
}

#[tokio::test]
async fn sign_up_then_confirm_with_the_emailed_code() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    let out = sign_up(&c, &p, "jane", "jane@example.com").await;
    assert!(!out.user_confirmed());
    assert!(uuid::Uuid::parse_str(out.user_sub()).is_ok());
    let details = out.code_delivery_details().unwrap();
    assert_eq!(details.destination(), Some("j***@e***"));
    assert_eq!(details.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(details.attribute_name(), Some("email"));
    assert_eq!(status(&c, &p, "jane").await, UserStatusType::Unconfirmed);

    let msgs = server.outbox(&p.id, "jane").await;
    assert_eq!(msgs.len(), 1);
    let code = msgs[0]["Code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    assert!(code.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(msgs[0]["Subject"], "Your verification code");
    assert_eq!(
        msgs[0]["Body"],
        format!("Your verification code is {code}. ")
    );
    assert_eq!(msgs[0]["Medium"], "EMAIL");

    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("jane")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    assert_eq!(status(&c, &p, "jane").await, UserStatusType::Confirmed);
    assert_eq!(
        attribute(&c, &p, "jane", "email_verified").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        attribute(&c, &p, "jane", "sub").await.as_deref(),
        Some(out.user_sub())
    );
    assert!(
        server.log().contains(&code),
        "the outbox code is printed on the server log"
    );
}

#[tokio::test]
async fn wrong_code_is_code_mismatch_and_changes_nothing() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "wrong", "w@example.com").await;
    let real = server.last_code(&p.id, "wrong").await;
    let bad = if real == "000000" { "111111" } else { "000000" };
    let (code, msg) = err_of(
        c.confirm_sign_up()
            .client_id(&p.client_id)
            .username("wrong")
            .confirmation_code(bad)
            .send()
            .await,
    );
    assert_eq!(code, "CodeMismatchException");
    assert_eq!(msg, "Invalid verification code provided, please try again.");
    assert_eq!(status(&c, &p, "wrong").await, UserStatusType::Unconfirmed);
}

#[tokio::test]
async fn already_confirmed_user_cannot_be_confirmed_again() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "twice", "t@example.com").await;
    let code = server.last_code(&p.id, "twice").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("twice")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    let (ecode, msg) = err_of(
        c.confirm_sign_up()
            .client_id(&p.client_id)
            .username("twice")
            .confirmation_code(&code)
            .send()
            .await,
    );
    assert_eq!(ecode, "NotAuthorizedException");
    assert_eq!(msg, "User cannot be confirmed. Current status is CONFIRMED");
    let (ecode, msg) = err_of(
        c.admin_confirm_sign_up()
            .user_pool_id(&p.id)
            .username("twice")
            .send()
            .await,
    );
    assert_eq!(ecode, "NotAuthorizedException");
    assert_eq!(msg, "User cannot be confirmed. Current status is CONFIRMED");
    let (ecode, msg) = err_of(
        c.resend_confirmation_code()
            .client_id(&p.client_id)
            .username("twice")
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidParameterException");
    assert_eq!(msg, "User is already confirmed.");
}

#[tokio::test]
async fn code_expires_after_24_hours() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "late", "l@example.com").await;
    let code = server.last_code(&p.id, "late").await;
    server.advance_clock(24 * 3600 + 1).await;
    let (ecode, msg) = err_of(
        c.confirm_sign_up()
            .client_id(&p.client_id)
            .username("late")
            .confirmation_code(&code)
            .send()
            .await,
    );
    assert_eq!(ecode, "ExpiredCodeException");
    assert_eq!(msg, "Invalid code provided, please request a code again.");
    // A resend gives a fresh 24-hour window.
    c.resend_confirmation_code()
        .client_id(&p.client_id)
        .username("late")
        .send()
        .await
        .unwrap();
    let fresh = server.last_code(&p.id, "late").await;
    server.advance_clock(23 * 3600).await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("late")
        .confirmation_code(&fresh)
        .send()
        .await
        .unwrap();
    assert_eq!(status(&c, &p, "late").await, UserStatusType::Confirmed);
}

#[tokio::test]
async fn resend_invalidates_the_previous_code() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "again", "a@example.com").await;
    let first = server.last_code(&p.id, "again").await;
    let out = c
        .resend_confirmation_code()
        .client_id(&p.client_id)
        .username("again")
        .send()
        .await
        .unwrap();
    let details = out.code_delivery_details().unwrap();
    assert_eq!(details.destination(), Some("a***@e***"));
    assert_eq!(details.delivery_medium(), Some(&DeliveryMediumType::Email));
    let second = server.last_code(&p.id, "again").await;
    assert_eq!(server.outbox(&p.id, "again").await.len(), 2);
    if first != second {
        let (ecode, _) = err_of(
            c.confirm_sign_up()
                .client_id(&p.client_id)
                .username("again")
                .confirmation_code(&first)
                .send()
                .await,
        );
        assert_eq!(ecode, "CodeMismatchException");
    }
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("again")
        .confirmation_code(&second)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn resend_without_auto_verification_is_refused() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(&c, |b| b, false, None).await;
    let out = sign_up(&c, &p, "noverify", "n@example.com").await;
    assert!(
        out.code_delivery_details().is_none(),
        "no code without auto-verification"
    );
    assert!(server.outbox(&p.id, "noverify").await.is_empty());
    let (ecode, msg) = err_of(
        c.resend_confirmation_code()
            .client_id(&p.client_id)
            .username("noverify")
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidParameterException");
    assert_eq!(msg, "Cannot resend codes. Auto verification not turned on.");
    // An administrator can still confirm, and that verifies nothing.
    c.admin_confirm_sign_up()
        .user_pool_id(&p.id)
        .username("noverify")
        .send()
        .await
        .unwrap();
    assert_eq!(status(&c, &p, "noverify").await, UserStatusType::Confirmed);
    assert_eq!(attribute(&c, &p, "noverify", "email_verified").await, None);
}

#[tokio::test]
async fn confirm_attempts_are_limited_to_15_per_hour() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "guesser", "g@example.com").await;
    let real = server.last_code(&p.id, "guesser").await;
    let bad = if real == "999999" { "888888" } else { "999999" };
    for _ in 0..15 {
        let (ecode, _) = err_of(
            c.confirm_sign_up()
                .client_id(&p.client_id)
                .username("guesser")
                .confirmation_code(bad)
                .send()
                .await,
        );
        assert_eq!(ecode, "CodeMismatchException");
    }
    let (ecode, msg) = err_of(
        c.confirm_sign_up()
            .client_id(&p.client_id)
            .username("guesser")
            .confirmation_code(&real)
            .send()
            .await,
    );
    assert_eq!(ecode, "LimitExceededException");
    assert_eq!(msg, "Attempt limit exceeded, please try after some time.");
    server.advance_clock(3601).await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("guesser")
        .confirmation_code(&real)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn resends_are_limited_to_5_per_hour() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "spammy", "s@example.com").await;
    for _ in 0..5 {
        c.resend_confirmation_code()
            .client_id(&p.client_id)
            .username("spammy")
            .send()
            .await
            .unwrap();
    }
    let (ecode, msg) = err_of(
        c.resend_confirmation_code()
            .client_id(&p.client_id)
            .username("spammy")
            .send()
            .await,
    );
    assert_eq!(ecode, "LimitExceededException");
    assert_eq!(msg, "Attempt limit exceeded, please try after some time.");
    assert_eq!(
        server.outbox(&p.id, "spammy").await.len(),
        6,
        "the refused resend sent nothing"
    );
}

#[tokio::test]
async fn duplicate_username_is_refused() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "taken", "t1@example.com").await;
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("taken")
            .password(PASSWORD)
            .user_attributes(attr("email", "t2@example.com"))
            .send()
            .await,
    );
    assert_eq!(ecode, "UsernameExistsException");
    assert_eq!(msg, "User already exists");
}

#[tokio::test]
async fn case_insensitive_pool_treats_usernames_alike() {
    let server = Server::start().await;
    let c = server.client();
    let cfg = cip::types::UsernameConfigurationType::builder()
        .case_sensitive(false)
        .build()
        .unwrap();
    let p = pool_with(
        &c,
        |b| {
            b.auto_verified_attributes(VerifiedAttributeType::Email)
                .username_configuration(cfg)
        },
        false,
        None,
    )
    .await;
    sign_up(&c, &p, "MixedCase", "m@example.com").await;
    let (ecode, _) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("mixedcase")
            .password(PASSWORD)
            .user_attributes(attr("email", "m2@example.com"))
            .send()
            .await,
    );
    assert_eq!(ecode, "UsernameExistsException");
    let code = server.last_code(&p.id, "MixedCase").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("MIXEDCASE")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn email_as_username() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(
        &c,
        |b| {
            b.username_attributes(UsernameAttributeType::Email)
                .auto_verified_attributes(VerifiedAttributeType::Email)
        },
        false,
        None,
    )
    .await;
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("notanemail")
            .password(PASSWORD)
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidParameterException");
    assert_eq!(msg, "Username should be an email.");

    let out = c
        .sign_up()
        .client_id(&p.client_id)
        .username("Ann@Example.com")
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    let sub = out.user_sub().to_string();
    let user = c
        .admin_get_user()
        .user_pool_id(&p.id)
        .username("ann@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(user.username(), sub, "the internal username is the sub");
    assert_eq!(
        attribute(&c, &p, &sub, "email").await.as_deref(),
        Some("Ann@Example.com")
    );

    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("ann@example.com")
            .password(PASSWORD)
            .send()
            .await,
    );
    assert_eq!(ecode, "UsernameExistsException");
    assert_eq!(msg, "An account with the given email already exists.");

    let code = server.last_code(&p.id, &sub).await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("Ann@Example.com")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    assert_eq!(status(&c, &p, &sub).await, UserStatusType::Confirmed);
}

#[tokio::test]
async fn email_alias_conflict_and_force_alias_creation() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(
        &c,
        |b| {
            b.alias_attributes(AliasAttributeType::Email)
                .auto_verified_attributes(VerifiedAttributeType::Email)
        },
        false,
        None,
    )
    .await;
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("a@b.com")
            .password(PASSWORD)
            .user_attributes(attr("email", "a@b.com"))
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidParameterException");
    assert_eq!(
        msg,
        "Username cannot be of email format, since user pool is configured for email alias."
    );

    sign_up(&c, &p, "first", "shared@example.com").await;
    let code = server.last_code(&p.id, "first").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("first")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    // The verified alias now finds the first user.
    let u = c
        .admin_get_user()
        .user_pool_id(&p.id)
        .username("shared@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(u.username(), "first");

    // A second sign-up with the same email is allowed; the conflict shows at confirmation.
    sign_up(&c, &p, "second", "shared@example.com").await;
    let code2 = server.last_code(&p.id, "second").await;
    let (ecode, msg) = err_of(
        c.confirm_sign_up()
            .client_id(&p.client_id)
            .username("second")
            .confirmation_code(&code2)
            .send()
            .await,
    );
    assert_eq!(ecode, "AliasExistsException");
    assert_eq!(msg, "An account with the email already exists.");
    assert_eq!(
        status(&c, &p, "second").await,
        UserStatusType::Unconfirmed,
        "a failed confirm changes nothing"
    );

    c.resend_confirmation_code()
        .client_id(&p.client_id)
        .username("second")
        .send()
        .await
        .unwrap();
    let code3 = server.last_code(&p.id, "second").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("second")
        .confirmation_code(&code3)
        .force_alias_creation(true)
        .send()
        .await
        .unwrap();
    let u = c
        .admin_get_user()
        .user_pool_id(&p.id)
        .username("shared@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(u.username(), "second", "the alias moved");
    assert_eq!(
        attribute(&c, &p, "first", "email_verified")
            .await
            .as_deref(),
        Some("false")
    );
}

#[tokio::test]
async fn secret_client_requires_a_valid_secret_hash() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(
        &c,
        |b| b.auto_verified_attributes(VerifiedAttributeType::Email),
        true,
        None,
    )
    .await;
    let secret = p.secret.clone().unwrap();
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("sec")
            .password(PASSWORD)
            .user_attributes(attr("email", "s@example.com"))
            .send()
            .await,
    );
    assert_eq!(ecode, "NotAuthorizedException");
    assert_eq!(
        msg,
        format!(
            "Client {} is configured for secret but secret was not received",
            p.client_id
        )
    );
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("sec")
            .password(PASSWORD)
            .secret_hash(secret_hash(&secret, "other", &p.client_id))
            .user_attributes(attr("email", "s@example.com"))
            .send()
            .await,
    );
    assert_eq!(ecode, "NotAuthorizedException");
    assert_eq!(
        msg,
        format!("Unable to verify secret hash for client {}", p.client_id)
    );
    c.sign_up()
        .client_id(&p.client_id)
        .username("sec")
        .password(PASSWORD)
        .secret_hash(secret_hash(&secret, "sec", &p.client_id))
        .user_attributes(attr("email", "s@example.com"))
        .send()
        .await
        .unwrap();
    let code = server.last_code(&p.id, "sec").await;
    // Confirm by the sub, with the hash over the internal username.
    let sub = attribute(&c, &p, "sec", "sub").await.unwrap();
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username(&sub)
        .confirmation_code(&code)
        .secret_hash(secret_hash(&secret, "sec", &p.client_id))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn unknown_users_legacy_and_prevented() {
    let server = Server::start().await;
    let c = server.client();
    let legacy = email_pool(&c).await;
    let (ecode, msg) = err_of(
        c.resend_confirmation_code()
            .client_id(&legacy.client_id)
            .username("ghost")
            .send()
            .await,
    );
    assert_eq!(ecode, "UserNotFoundException");
    assert_eq!(msg, "Username/client id combination not found.");
    let (ecode, msg) = err_of(
        c.confirm_sign_up()
            .client_id(&legacy.client_id)
            .username("ghost")
            .confirmation_code("123456")
            .send()
            .await,
    );
    assert_eq!(ecode, "UserNotFoundException");
    assert_eq!(msg, "User does not exist.");

    let hidden = pool_with(
        &c,
        |b| b.auto_verified_attributes(VerifiedAttributeType::Email),
        false,
        Some(PreventUserExistenceErrorTypes::Enabled),
    )
    .await;
    sign_up(&c, &hidden, "real", "real@example.com").await;
    let real = c
        .resend_confirmation_code()
        .client_id(&hidden.client_id)
        .username("real")
        .send()
        .await
        .unwrap();
    let fake = c
        .resend_confirmation_code()
        .client_id(&hidden.client_id)
        .username("ghost")
        .send()
        .await
        .unwrap();
    let (r, f) = (
        real.code_delivery_details().unwrap(),
        fake.code_delivery_details().unwrap(),
    );
    assert_eq!(r.delivery_medium(), f.delivery_medium());
    assert_eq!(r.attribute_name(), f.attribute_name());
    assert_eq!(
        r.destination().unwrap().len(),
        f.destination().unwrap().len(),
        "same shape: {r:?} vs {f:?}"
    );
    let again = c
        .resend_confirmation_code()
        .client_id(&hidden.client_id)
        .username("ghost")
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.code_delivery_details(),
        Some(f),
        "stable per username"
    );
    let (ecode, _) = err_of(
        c.confirm_sign_up()
            .client_id(&hidden.client_id)
            .username("ghost")
            .confirmation_code("123456")
            .send()
            .await,
    );
    assert_eq!(ecode, "CodeMismatchException");
}

#[tokio::test]
async fn unknown_client_is_resource_not_found() {
    let server = Server::start().await;
    let c = server.client();
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id("nosuchclient")
            .username("x")
            .password(PASSWORD)
            .send()
            .await,
    );
    assert_eq!(ecode, "ResourceNotFoundException");
    assert_eq!(msg, "User pool client nosuchclient does not exist.");
}

#[tokio::test]
async fn password_policy_and_schema_rules() {
    let server = Server::start().await;
    let c = server.client();
    let required_email = cip::types::SchemaAttributeType::builder()
        .name("email")
        .required(true)
        .build();
    let p = pool_with(
        &c,
        |b| {
            b.schema(required_email)
                .auto_verified_attributes(VerifiedAttributeType::Email)
        },
        false,
        None,
    )
    .await;
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("pw")
            .password("short")
            .user_attributes(attr("email", "p@example.com"))
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidPasswordException");
    assert_eq!(
        msg,
        "Password did not conform with policy: Password not long enough"
    );
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("pw")
            .password("alllowercase1!")
            .user_attributes(attr("email", "p@example.com"))
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidPasswordException");
    assert_eq!(
        msg,
        "Password did not conform with policy: Password must have uppercase characters"
    );
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("pw")
            .password(PASSWORD)
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidParameterException");
    assert_eq!(
        msg,
        "Attributes did not conform to the schema: email: The attribute is required"
    );
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("pw")
            .password(PASSWORD)
            .user_attributes(attr("email", "not-an-email"))
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidParameterException");
    assert_eq!(msg, "Invalid email address format.");
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("pw")
            .password(PASSWORD)
            .user_attributes(attr("email", "p@example.com"))
            .user_attributes(attr("custom:nope", "1"))
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidParameterException");
    assert_eq!(msg, "Attributes did not conform to the schema: Type for attribute {custom:nope} could not be determined");
    // None of the refused calls created anything.
    let users = c.list_users().user_pool_id(&p.id).send().await.unwrap();
    assert!(users.users().is_empty());
}

#[tokio::test]
async fn admin_only_pool_refuses_sign_up() {
    let server = Server::start().await;
    let c = server.client();
    let admin_only = cip::types::AdminCreateUserConfigType::builder()
        .allow_admin_create_user_only(true)
        .build();
    let p = pool_with(&c, |b| b.admin_create_user_config(admin_only), false, None).await;
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username("x")
            .password(PASSWORD)
            .send()
            .await,
    );
    assert_eq!(ecode, "NotAuthorizedException");
    assert_eq!(msg, "SignUp is not permitted for this user pool");
}

#[tokio::test]
async fn sms_is_chosen_when_email_and_phone_are_both_auto_verified() {
    let server = Server::start().await;
    let c = server.client();
    let p = pool_with(
        &c,
        |b| {
            b.auto_verified_attributes(VerifiedAttributeType::Email)
                .auto_verified_attributes(VerifiedAttributeType::PhoneNumber)
        },
        false,
        None,
    )
    .await;
    let out = c
        .sign_up()
        .client_id(&p.client_id)
        .username("both")
        .password(PASSWORD)
        .user_attributes(attr("email", "b@example.com"))
        .user_attributes(attr("phone_number", "+12065551234"))
        .send()
        .await
        .unwrap();
    let d = out.code_delivery_details().unwrap();
    assert_eq!(d.delivery_medium(), Some(&DeliveryMediumType::Sms));
    assert_eq!(d.destination(), Some("+*******1234"));
    assert_eq!(d.attribute_name(), Some("phone_number"));
    let code = server.last_code(&p.id, "both").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("both")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    assert_eq!(
        attribute(&c, &p, "both", "phone_number_verified")
            .await
            .as_deref(),
        Some("true")
    );
    assert_eq!(attribute(&c, &p, "both", "email_verified").await, None);
}

#[tokio::test]
async fn list_users_filters_and_pages() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    for name in ["alice", "albert", "bob"] {
        sign_up(&c, &p, name, &format!("{name}@example.com")).await;
    }
    let all = c.list_users().user_pool_id(&p.id).send().await.unwrap();
    assert_eq!(all.users().len(), 3);
    let al = c
        .list_users()
        .user_pool_id(&p.id)
        .filter("username ^= \"al\"")
        .send()
        .await
        .unwrap();
    let mut names: Vec<_> = al
        .users()
        .iter()
        .map(|u| u.username().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["albert", "alice"]);
    let bob = c
        .list_users()
        .user_pool_id(&p.id)
        .filter("email = \"bob@example.com\"")
        .send()
        .await
        .unwrap();
    assert_eq!(bob.users().len(), 1);
    assert_eq!(
        bob.users()[0].user_status(),
        Some(&UserStatusType::Unconfirmed)
    );
    let only_email = c
        .list_users()
        .user_pool_id(&p.id)
        .attributes_to_get("email")
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(only_email.users().len(), 2);
    assert!(only_email.users()[0]
        .attributes()
        .iter()
        .all(|a| a.name() == "email"));
    let next = only_email.pagination_token().unwrap();
    let rest = c
        .list_users()
        .user_pool_id(&p.id)
        .pagination_token(next)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.users().len(), 1);
    let (ecode, _) = err_of(
        c.list_users()
            .user_pool_id(&p.id)
            .filter("custom:x = \"1\"")
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidParameterException");
}

#[tokio::test]
async fn admin_delete_user_and_unknown_user_errors() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "gone", "gone@example.com").await;
    c.admin_delete_user()
        .user_pool_id(&p.id)
        .username("gone")
        .send()
        .await
        .unwrap();
    let (ecode, msg) = err_of(
        c.admin_get_user()
            .user_pool_id(&p.id)
            .username("gone")
            .send()
            .await,
    );
    assert_eq!(ecode, "UserNotFoundException");
    assert_eq!(msg, "User does not exist.");
    let (ecode, _) = err_of(
        c.admin_confirm_sign_up()
            .user_pool_id(&p.id)
            .username("gone")
            .send()
            .await,
    );
    assert_eq!(ecode, "UserNotFoundException");
    // The username is free again.
    sign_up(&c, &p, "gone", "gone@example.com").await;
}

#[tokio::test]
async fn context_data_is_recorded_and_client_metadata_is_not_stored() {
    let server = Server::start().await;
    let c = server.client();
    // Only pools with threat protection keep an event history, as on AWS.
    let p = create_pool(
        &c,
        "audited",
        |b| {
            b.auto_verified_attributes(cip::types::VerifiedAttributeType::Email)
                .user_pool_add_ons(
                    cip::types::UserPoolAddOnsType::builder()
                        .advanced_security_mode(cip::types::AdvancedSecurityModeType::Audit)
                        .build()
                        .unwrap(),
                )
        },
        |b| b,
    )
    .await;
    let marker = format!("marker-{}", uuid::Uuid::new_v4());
    c.sign_up()
        .client_id(&p.client_id)
        .username("ctx")
        .password(PASSWORD)
        .user_attributes(attr("email", "ctx@example.com"))
        .user_context_data(
            cip::types::UserContextDataType::builder()
                .ip_address("203.0.113.7")
                .encoded_data("enc-data")
                .build(),
        )
        .analytics_metadata(
            cip::types::AnalyticsMetadataType::builder()
                .analytics_endpoint_id("endpoint-1")
                .build(),
        )
        .client_metadata("secret-note", &marker)
        .send()
        .await
        .unwrap();
    let code = server.last_code(&p.id, "ctx").await;
    c.confirm_sign_up()
        .client_id(&p.client_id)
        .username("ctx")
        .confirmation_code(&code)
        .client_metadata("again", &marker)
        .send()
        .await
        .unwrap();

    let store = server.open_store().await;
    let events = store.user_events(&p.id, "ctx").await.unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].event_type, "SignUp");
    assert_eq!(events[0].ip_address.as_deref(), Some("203.0.113.7"));
    assert_eq!(events[0].encoded_data.as_deref(), Some("enc-data"));
    assert_eq!(
        events[0].analytics_endpoint_id.as_deref(),
        Some("endpoint-1")
    );
    assert_eq!(
        events[1].event_type, "SignUp",
        "the confirmation of the sign-up"
    );
    assert!(events[0].device_name.is_some(), "the caller's user agent");
    assert_eq!(
        events[1].ip_address.as_deref(),
        Some("127.0.0.1"),
        "falls back to the peer address"
    );
    store.close().await;

    // ClientMetadata is stored nowhere: not in the database, not in the log.
    if let Some(url) = &server.database_url {
        use sqlx::Row;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url).await.unwrap();
        for table in [
            "user_pools",
            "user_pool_clients",
            "users",
            "user_aliases",
            "codes",
            "attempt_counters",
            "user_events",
            "messages",
        ] {
            let rows = sqlx::query(&format!(
                "SELECT CAST(t AS TEXT) AS row_text FROM {table} t"
            ))
            .fetch_all(&pool)
            .await
            .unwrap();
            for row in rows {
                let text: String = row.try_get("row_text").unwrap();
                assert!(!text.contains(&marker), "{table} holds client metadata");
            }
        }
        pool.close().await;
    } else {
        let dir = server.data_dir.path().join("data");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(marker.len()).any(|w| w == marker.as_bytes()));
        }
    }
    assert!(!server.log().contains(&marker));
}

#[tokio::test]
async fn validation_errors_use_aws_format_and_write_nothing() {
    let server = Server::start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    let long = "u".repeat(129);
    let (ecode, msg) = err_of(
        c.sign_up()
            .client_id(&p.client_id)
            .username(&long)
            .password(PASSWORD)
            .send()
            .await,
    );
    assert_eq!(ecode, "InvalidParameterException");
    assert_eq!(msg, "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128");
    let users = c.list_users().user_pool_id(&p.id).send().await.unwrap();
    assert!(users.users().is_empty());
}

#[tokio::test]
async fn confirmation_link_confirms_even_for_a_secret_client() {
    let server = Server::start().await;
    let c = server.client();
    let template = cip::types::VerificationMessageTemplateType::builder()
        .default_email_option(cip::types::DefaultEmailOptionType::ConfirmWithLink)
        .email_message_by_link("Welcome! {##Verify Email##}")
        .email_subject_by_link("Verify")
        .build();
    let p = pool_with(
        &c,
        |b| {
            b.auto_verified_attributes(VerifiedAttributeType::Email)
                .verification_message_template(template)
        },
        true,
        None,
    )
    .await;
    let secret = p.secret.clone().unwrap();
    c.sign_up()
        .client_id(&p.client_id)
        .username("linked")
        .password(PASSWORD)
        .secret_hash(secret_hash(&secret, "linked", &p.client_id))
        .user_attributes(attr("email", "linked@example.com"))
        .send()
        .await
        .unwrap();
    let msgs = server.outbox(&p.id, "linked").await;
    let body = msgs[0]["Body"].as_str().unwrap().to_string();
    assert_eq!(msgs[0]["Subject"], "Verify");
    let start = body.find("href=\"").unwrap() + 6;
    let link = body[start..start + body[start..].find('"').unwrap()].replace("&amp;", "&");
    assert!(
        link.starts_with(&format!("{}/confirmUser?", server.url)),
        "{link}"
    );
    let resp = reqwest::get(&link).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(status(&c, &p, "linked").await, UserStatusType::Confirmed);
    assert_eq!(
        attribute(&c, &p, "linked", "email_verified")
            .await
            .as_deref(),
        Some("true")
    );
    // A second click is refused: the code is spent and the user confirmed.
    assert_eq!(reqwest::get(&link).await.unwrap().status(), 400);
}

#[tokio::test]
async fn settings_file_configures_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cognate.env");
    std::fs::write(&file, "# limits for this test\nCOGNATE_RESEND_PER_HOUR=1\n").unwrap();
    let server = Server::builder()
        .arg("--config")
        .arg(file.display().to_string())
        .start()
        .await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "conf", "conf@example.com").await;
    c.resend_confirmation_code()
        .client_id(&p.client_id)
        .username("conf")
        .send()
        .await
        .unwrap();
    let (ecode, _) = err_of(
        c.resend_confirmation_code()
            .client_id(&p.client_id)
            .username("conf")
            .send()
            .await,
    );
    assert_eq!(
        ecode, "LimitExceededException",
        "the file's limit of 1 applied"
    );
}

#[tokio::test]
async fn outbox_command_prints_the_codes() {
    let server = Server::builder().database_url("").start().await;
    let c = server.client();
    let p = email_pool(&c).await;
    sign_up(&c, &p, "cli-user", "cli@example.com").await;
    let code = server.last_code(&p.id, "cli-user").await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args([
            "outbox",
            "--json",
            "--pool",
            &p.id,
            "--username",
            "cli-user",
            "--data-dir",
        ])
        .arg(server.data_dir.path().join("data"))
        .env_remove("COGNATE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let msgs = json["Messages"].as_array().unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["Code"], code.as_str());
    assert_eq!(msgs[0]["Medium"], "EMAIL");
    assert_eq!(msgs[0]["Destination"], "c***@e***");
    let text = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(["outbox", "--pool", &p.id, "--data-dir"])
        .arg(server.data_dir.path().join("data"))
        .env_remove("COGNATE_DATABASE_URL")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains(&format!("code {code}")), "{text}");
}
