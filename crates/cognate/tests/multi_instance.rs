#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Several `cognate serve` instances sharing one PostgreSQL database behave as one service;
//! and a server killed with SIGKILL under load loses no answered write and leaves no
//! half-created user (SQLite and PostgreSQL).

mod common;

use cognate_core::ports::Directory;
use std::sync::Arc;

use aws_sdk_cognitoidentityprovider as cip;
use cip::types::{UserStatusType, UsernameAttributeType, VerifiedAttributeType};
use common::*;

async fn pool(c: &cip::Client, email_username: bool) -> (String, String) {
    let p = create_pool(
        c,
        "multi",
        |b| {
            let b = b.auto_verified_attributes(VerifiedAttributeType::Email);
            if email_username {
                b.username_attributes(UsernameAttributeType::Email)
            } else {
                b
            }
        },
        |b| b.client_name("m"),
    )
    .await;
    (p.id, p.client_id)
}

async fn two_instances(db: &TestDatabase) -> (Server, Server) {
    let a = Server::builder().database_url(&db.url).start().await;
    let b = Server::builder().database_url(&db.url).start().await;
    (a, b)
}

#[tokio::test]
async fn a_settings_change_on_one_instance_applies_on_the_other() {
    let Some(db) = TestDatabase::create("settings_change").await else {
        return;
    };
    let (a, b) = two_instances(&db).await;
    settings_changes_apply_to_the_next_request(&a.client(), &b.client()).await;
    db.drop_database().await;
}

#[tokio::test]
async fn sign_up_on_one_instance_confirm_on_the_other() {
    let Some(db) = TestDatabase::create("two_instances").await else {
        return;
    };
    let (a, b) = two_instances(&db).await;
    let (ca, cb) = (a.client(), b.client());
    let (pool_id, client_id) = pool(&ca, false).await;
    ca.sign_up()
        .client_id(&client_id)
        .username("shared")
        .password(PASSWORD)
        .user_attributes(attr("email", "shared@example.com"))
        .send()
        .await
        .unwrap();
    // The outbox is in the shared database, so either instance shows the code.
    let code = b.last_code(&pool_id, "shared").await;
    cb.confirm_sign_up()
        .client_id(&client_id)
        .username("shared")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    let user = ca
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username("shared")
        .send()
        .await
        .unwrap();
    assert_eq!(user.user_status(), Some(&UserStatusType::Confirmed));
    drop((a, b));
    db.drop_database().await;
}

#[tokio::test]
async fn resend_limit_holds_across_instances() {
    let Some(db) = TestDatabase::create("resend_across").await else {
        return;
    };
    let (a, b) = two_instances(&db).await;
    let (ca, cb) = (a.client(), b.client());
    let (_pool_id, client_id) = pool(&ca, false).await;
    ca.sign_up()
        .client_id(&client_id)
        .username("lim")
        .password(PASSWORD)
        .user_attributes(attr("email", "lim@example.com"))
        .send()
        .await
        .unwrap();
    for i in 0..5 {
        let c = if i % 2 == 0 { &ca } else { &cb };
        c.resend_confirmation_code()
            .client_id(&client_id)
            .username("lim")
            .send()
            .await
            .unwrap();
    }
    let (code, msg) = err_of(
        cb.resend_confirmation_code()
            .client_id(&client_id)
            .username("lim")
            .send()
            .await,
    );
    assert_eq!(code, "LimitExceededException");
    assert_eq!(msg, "Attempt limit exceeded, please try after some time.");
    let (code, _) = err_of(
        ca.resend_confirmation_code()
            .client_id(&client_id)
            .username("lim")
            .send()
            .await,
    );
    assert_eq!(code, "LimitExceededException");
    drop((a, b));
    db.drop_database().await;
}

#[tokio::test]
async fn racing_confirmations_with_one_code_succeed_once() {
    let Some(db) = TestDatabase::create("confirm_race").await else {
        return;
    };
    let (a, b) = two_instances(&db).await;
    let clients = [a.client(), b.client()];
    let (pool_id, client_id) = pool(&clients[0], false).await;
    clients[0]
        .sign_up()
        .client_id(&client_id)
        .username("racer")
        .password(PASSWORD)
        .user_attributes(attr("email", "racer@example.com"))
        .send()
        .await
        .unwrap();
    let code = a.last_code(&pool_id, "racer").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let c = clients[i % 2].clone();
        let (client_id, code) = (client_id.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            c.confirm_sign_up()
                .client_id(client_id)
                .username("racer")
                .confirmation_code(code)
                .send()
                .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => {
                let code = cip::error::ProvideErrorMetadata::code(&e)
                    .unwrap_or("")
                    .to_string();
                assert!(
                    matches!(
                        code.as_str(),
                        "NotAuthorizedException" | "CodeMismatchException"
                    ),
                    "{code}"
                );
            }
        }
    }
    assert_eq!(ok, 1, "exactly one confirmation wins");
    drop((a, b));
    db.drop_database().await;
}

#[tokio::test]
async fn racing_sign_ups_create_one_user() {
    let Some(db) = TestDatabase::create("signup_race").await else {
        return;
    };
    let (a, b) = two_instances(&db).await;
    let clients = [a.client(), b.client()];
    for email_username in [false, true] {
        let (pool_id, client_id) = pool(&clients[0], email_username).await;
        let username = if email_username {
            "same@example.com"
        } else {
            "same"
        };
        let mut tasks = Vec::new();
        for i in 0..10 {
            let c = clients[i % 2].clone();
            let client_id = client_id.clone();
            tasks.push(tokio::spawn(async move {
                c.sign_up()
                    .client_id(client_id)
                    .username(username)
                    .password(PASSWORD)
                    .user_attributes(attr("email", "same@example.com"))
                    .send()
                    .await
            }));
        }
        let mut ok = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => ok += 1,
                Err(e) => assert_eq!(
                    cip::error::ProvideErrorMetadata::code(&e),
                    Some("UsernameExistsException")
                ),
            }
        }
        assert_eq!(ok, 1);
        let users = clients[1]
            .list_users()
            .user_pool_id(&pool_id)
            .send()
            .await
            .unwrap();
        assert_eq!(users.users().len(), 1);
    }
    drop((a, b));
    db.drop_database().await;
}

/// Sign-ups and confirmations in flight when the server is SIGKILLed: every answered
/// success is there after restart, and every user that exists is whole.
async fn kill_under_load(mut server: Server, store_url: String) {
    let c = server.client();
    let (pool_id, client_id) = pool(&c, false).await;
    // Some users to confirm during the load.
    let mut to_confirm = Vec::new();
    for i in 0..20 {
        let name = format!("pre{i}");
        c.sign_up()
            .client_id(&client_id)
            .username(&name)
            .password(PASSWORD)
            .user_attributes(attr("email", &format!("{name}@example.com")))
            .send()
            .await
            .unwrap();
        to_confirm.push((name.clone(), server.last_code(&pool_id, &name).await));
    }
    let signed_up = Arc::new(std::sync::Mutex::new(Vec::new()));
    let confirmed = Arc::new(std::sync::Mutex::new(Vec::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    for w in 0..8 {
        let (c, client_id, signed_up, stop) = (
            c.clone(),
            client_id.clone(),
            signed_up.clone(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                let name = format!("load{w}x{i}");
                match c
                    .sign_up()
                    .client_id(&client_id)
                    .username(&name)
                    .password(PASSWORD)
                    .user_attributes(attr("email", &format!("{name}@example.com")))
                    .send()
                    .await
                {
                    Ok(_) => signed_up.lock().unwrap().push(name),
                    Err(_) => break,
                }
            }
        }));
    }
    for (name, code) in to_confirm {
        let (c, client_id, confirmed) = (c.clone(), client_id.clone(), confirmed.clone());
        tasks.push(tokio::spawn(async move {
            if c.confirm_sign_up()
                .client_id(&client_id)
                .username(&name)
                .confirmation_code(code)
                .send()
                .await
                .is_ok()
            {
                confirmed.lock().unwrap().push(name);
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    server.kill_and_restart().await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let signed_up = signed_up.lock().unwrap().clone();
    let confirmed = confirmed.lock().unwrap().clone();
    assert!(!signed_up.is_empty(), "the load ran before the kill");
    let c = server.client();
    for name in &signed_up {
        c.admin_get_user()
            .user_pool_id(&pool_id)
            .username(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("answered sign-up {name} lost: {e:?}"));
    }
    for name in &confirmed {
        let u = c
            .admin_get_user()
            .user_pool_id(&pool_id)
            .username(name)
            .send()
            .await
            .unwrap();
        assert_eq!(
            u.user_status(),
            Some(&UserStatusType::Confirmed),
            "answered confirmation of {name} lost"
        );
    }
    // No half-created user: every stored user has its hash, SRP verifier and (unconfirmed) a live code.
    let store = open_store_at(&store_url).await;
    let users = store
        .list_users(&pool_id, None, None, 100_000)
        .await
        .unwrap();
    assert!(users.len() >= signed_up.len() + 20);
    for u in &users {
        assert!(
            u.password_hash.is_some() && u.srp_salt.is_some() && u.srp_verifier.is_some(),
            "{u:?}"
        );
        if u.status == cognate_core::records::UserStatus::Unconfirmed {
            assert!(
                store
                    .get_code(&pool_id, &u.username_key, "sign_up")
                    .await
                    .unwrap()
                    .is_some(),
                "{} has no code",
                u.username
            );
        }
    }
    store.close().await;
}

#[tokio::test]
async fn sigkill_under_load_sqlite() {
    let server = Server::builder().database_url("").start().await;
    let url = server.sqlite_url();
    kill_under_load(server, url).await;
}

#[tokio::test]
async fn sigkill_under_load_postgres() {
    let Some(db) = TestDatabase::create("sigkill_pg").await else {
        return;
    };
    let server = Server::builder().database_url(&db.url).start().await;
    kill_under_load(server, db.url.clone()).await;
    db.drop_database().await;
}

#[tokio::test]
async fn connects_to_postgresql_over_tls() {
    let Some(db) = TestDatabase::create("tls").await else {
        return;
    };
    let url = format!("{}?sslmode=require", db.url);
    let server = Server::builder().database_url(&url).start().await;
    let c = server.client();
    let (pool_id, client_id) = pool(&c, false).await;
    c.sign_up()
        .client_id(&client_id)
        .username("tls")
        .password(PASSWORD)
        .user_attributes(attr("email", "tls@example.com"))
        .send()
        .await
        .unwrap();
    let code = server.last_code(&pool_id, "tls").await;
    c.confirm_sign_up()
        .client_id(&client_id)
        .username("tls")
        .confirmation_code(code)
        .send()
        .await
        .unwrap();
    // The server's own connections to this database are encrypted.
    use sqlx::{Connection, Row};
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let name = db.url.rsplit('/').next().unwrap().to_string();
    let row = sqlx::query(
        "SELECT COUNT(*) FILTER (WHERE s.ssl) AS tls, COUNT(*) AS total FROM pg_stat_ssl s \
         JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.datname = $1 AND a.pid <> pg_backend_pid()",
    )
    .bind(&name)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    let (tls, total): (i64, i64) = (row.get("tls"), row.get("total"));
    assert!(
        total > 0 && tls == total,
        "{tls} of {total} server connections use TLS"
    );
    let _ = admin.close().await;
    drop(server);
    db.drop_database().await;
}

#[tokio::test]
async fn sign_in_state_is_shared_by_the_instances() {
    let Some(db) = TestDatabase::create("sign_in_shared").await else {
        return;
    };
    // Instances behind one address share its URL as the tokens' issuer.
    let instance = || {
        Server::builder()
            .database_url(&db.url)
            .arg("--public-url")
            .arg("https://cognito.example.test")
            .start()
    };
    let (a, b) = (instance().await, instance().await);
    let (ca, cb) = (a.client(), b.client());
    let p = create_pool(
        &ca,
        "multi-signin",
        |p| p.auto_verified_attributes(VerifiedAttributeType::Email),
        |c| {
            c.explicit_auth_flows(cip::types::ExplicitAuthFlowsType::AllowUserPasswordAuth)
                .explicit_auth_flows(cip::types::ExplicitAuthFlowsType::AllowUserSrpAuth)
                .explicit_auth_flows(cip::types::ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        },
    )
    .await;
    sign_up(&ca, &p, "ann", "ann@example.com").await;
    ca.admin_confirm_sign_up()
        .user_pool_id(&p.id)
        .username("ann")
        .send()
        .await
        .unwrap();
    let password_auth = |c: &cip::Client, password: &str| {
        c.initiate_auth()
            .client_id(&p.client_id)
            .auth_flow(cip::types::AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "ann")
            .auth_parameters("PASSWORD", password)
            .send()
    };

    // Tokens signed by one instance are good on the other (same keys, same issuer path).
    let signed_in = password_auth(&ca, PASSWORD).await.unwrap();
    let access = signed_in
        .authentication_result()
        .unwrap()
        .access_token()
        .unwrap()
        .to_string();
    assert_eq!(
        cb.get_user()
            .access_token(&access)
            .send()
            .await
            .unwrap()
            .username(),
        "ann"
    );
    // A sign-out on one instance is refused on the other.
    ca.global_sign_out()
        .access_token(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        err_of(cb.get_user().access_token(&access).send().await).1,
        "Access Token has been revoked"
    );

    // An SRP challenge issued by one instance is answered (once) on the other.
    let challenge = ca
        .initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(cip::types::AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", "ann")
        .auth_parameters("SRP_A", "abc123")
        .send()
        .await
        .unwrap();
    let block = challenge.challenge_parameters().unwrap()["SECRET_BLOCK"].clone();
    let answer = |c: &cip::Client| {
        c.respond_to_auth_challenge()
            .client_id(&p.client_id)
            .challenge_name(cip::types::ChallengeNameType::PasswordVerifier)
            .challenge_responses("USERNAME", "ann")
            .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", &block)
            .challenge_responses("PASSWORD_CLAIM_SIGNATURE", "c2lnbmF0dXJl")
            .challenge_responses("TIMESTAMP", "Sun Dec 6 09:00:00 UTC 2026")
            .send()
    };
    assert_eq!(
        err_of(answer(&cb).await).1,
        "Incorrect username or password.",
        "the other instance found the session (a wrong proof, not an unknown session)"
    );
    assert_eq!(
        err_of(answer(&ca).await).1,
        "Invalid session for the user, session can only be used once."
    );

    // The lockout counts failures made through both instances (the SRP failure above was the
    // first). Both clocks move together, past the first lockouts.
    let (clients, servers) = ([&ca, &cb], [&a, &b]);
    for failure in 2..=7 {
        assert_eq!(
            err_of(password_auth(clients[failure % 2], "Wr0ng-password").await).1,
            "Incorrect username or password.",
            "failure {failure}"
        );
        if (5..7).contains(&failure) {
            for s in servers {
                s.advance_clock(1 << (failure - 5)).await;
            }
        }
    }
    assert_eq!(
        err_of(password_auth(&ca, PASSWORD).await).1,
        "Password attempts exceeded"
    );
    assert_eq!(
        err_of(password_auth(&cb, PASSWORD).await).1,
        "Password attempts exceeded"
    );
    db.drop_database().await;
}

#[tokio::test]
async fn recovery_codes_and_limits_are_shared_by_the_instances() {
    let Some(db) = TestDatabase::create("recovery_shared").await else {
        return;
    };
    // Instances behind one address share its URL as the tokens' issuer.
    let instance = || {
        Server::builder()
            .database_url(&db.url)
            .arg("--public-url")
            .arg("https://cognito.example.test")
            .start()
    };
    let (a, b) = (instance().await, instance().await);
    let (ca, cb) = (a.client(), b.client());
    let p = create_pool(
        &ca,
        "multi-recovery",
        |p| p.auto_verified_attributes(VerifiedAttributeType::Email),
        |c| c.explicit_auth_flows(cip::types::ExplicitAuthFlowsType::AllowUserPasswordAuth),
    )
    .await;
    sign_up(&ca, &p, "ann", "ann@example.com").await;
    cb.confirm_sign_up()
        .client_id(&p.client_id)
        .username("ann")
        .confirmation_code(a.last_code(&p.id, "ann").await)
        .send()
        .await
        .unwrap();
    let forgot = |c: &cip::Client| {
        c.forgot_password()
            .client_id(&p.client_id)
            .username("ann")
            .send()
    };
    // Five requests an hour, counted once for both instances.
    for c in [&ca, &cb, &ca, &cb, &ca] {
        forgot(c).await.unwrap();
    }
    assert_eq!(
        err_of(forgot(&cb).await),
        (
            "LimitExceededException".to_string(),
            "Attempt limit exceeded, please try after some time.".to_string()
        )
    );
    // The code of the last request, sent by one instance, resets the password on the other.
    let code = a.last_code(&p.id, "ann").await;
    cb.confirm_forgot_password()
        .client_id(&p.client_id)
        .username("ann")
        .confirmation_code(&code)
        .password("N3w-Passw0rd!")
        .send()
        .await
        .unwrap();
    let signed_in = ca
        .initiate_auth()
        .client_id(&p.client_id)
        .auth_flow(cip::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ann")
        .auth_parameters("PASSWORD", "N3w-Passw0rd!")
        .send()
        .await
        .unwrap();
    let token = signed_in
        .authentication_result()
        .unwrap()
        .access_token()
        .unwrap()
        .to_string();
    assert_eq!(
        err_of(
            ca.confirm_forgot_password()
                .client_id(&p.client_id)
                .username("ann")
                .confirmation_code(&code)
                .password("Th1rd-Passw0rd!")
                .send()
                .await
        )
        .0,
        "ExpiredCodeException",
        "the code was used on the other instance"
    );

    // An attribute code sent through one instance verifies on the other.
    ca.update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email", "ann@new.example"))
        .send()
        .await
        .unwrap();
    cb.verify_user_attribute()
        .access_token(&token)
        .attribute_name("email")
        .code(b.last_code(&p.id, "ann").await)
        .send()
        .await
        .unwrap();
    let attrs = user(&ca, &p, "ann").await;
    let get = |name: &str| {
        attrs
            .user_attributes()
            .iter()
            .find(|a| a.name() == name)
            .and_then(|a| a.value())
            .map(str::to_string)
    };
    assert_eq!(get("email").as_deref(), Some("ann@new.example"));
    assert_eq!(get("email_verified").as_deref(), Some("true"));
    drop((a, b));
    db.drop_database().await;
}

#[tokio::test]
async fn group_changes_on_one_instance_show_in_the_next_token_from_the_other() {
    let Some(db) = TestDatabase::create("groups_shared").await else {
        return;
    };
    let (a, b) = two_instances(&db).await;
    let (ca, cb) = (a.client(), b.client());
    let p = create_pool(
        &ca,
        "multi-groups",
        |p| p.auto_verified_attributes(VerifiedAttributeType::Email),
        |c| c.explicit_auth_flows(cip::types::ExplicitAuthFlowsType::AllowUserPasswordAuth),
    )
    .await;
    sign_up(&ca, &p, "ann", "ann@example.com").await;
    ca.admin_confirm_sign_up()
        .user_pool_id(&p.id)
        .username("ann")
        .send()
        .await
        .unwrap();
    let groups_in_token = |c: cip::Client| {
        let client_id = p.client_id.clone();
        async move {
            let out = c
                .initiate_auth()
                .client_id(client_id)
                .auth_flow(cip::types::AuthFlowType::UserPasswordAuth)
                .auth_parameters("USERNAME", "ann")
                .auth_parameters("PASSWORD", PASSWORD)
                .send()
                .await
                .unwrap();
            let token = out.authentication_result().unwrap().access_token().unwrap();
            let payload = token.split('.').nth(1).unwrap();
            use base64::Engine;
            let claims: serde_json::Value = serde_json::from_slice(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(payload)
                    .unwrap(),
            )
            .unwrap();
            claims["cognito:groups"].clone()
        }
    };
    for name in ["staff", "admins"] {
        ca.create_group()
            .user_pool_id(&p.id)
            .group_name(name)
            .send()
            .await
            .unwrap();
    }
    ca.admin_add_user_to_group()
        .user_pool_id(&p.id)
        .username("ann")
        .group_name("staff")
        .send()
        .await
        .unwrap();
    assert_eq!(
        groups_in_token(cb.clone()).await,
        serde_json::json!(["staff"])
    );
    cb.admin_add_user_to_group()
        .user_pool_id(&p.id)
        .username("ann")
        .group_name("admins")
        .send()
        .await
        .unwrap();
    cb.admin_remove_user_from_group()
        .user_pool_id(&p.id)
        .username("ann")
        .group_name("staff")
        .send()
        .await
        .unwrap();
    assert_eq!(
        groups_in_token(ca.clone()).await,
        serde_json::json!(["admins"])
    );
    drop((a, b));
    db.drop_database().await;
}
