#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Several `cognate serve` instances sharing one PostgreSQL database behave as one service;
//! and a server killed with SIGKILL again and again under a mixed load (sign-up,
//! confirmation, sign-in, refresh, sign-out) loses no answered write, leaves no half-created
//! user and lets no revoked token work again (SQLite and PostgreSQL).

mod common;

use cognate_core::ports::Directory;
use std::collections::HashSet;
use std::sync::Arc;

use aws_sdk_cognitoidentityprovider as cip;
use cip::error::ProvideErrorMetadata;
use cip::types::{
    AuthFlowType, ExplicitAuthFlowsType, UserStatusType, UsernameAttributeType,
    VerifiedAttributeType,
};
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

/// How many times the crash test kills the server while the load runs.
const KILLS: usize = 4;
/// Load between two kills (and before the first and after the last restart).
const ROUND: std::time::Duration = std::time::Duration::from_millis(700);
/// Users the sign-in load signs in: tokens of `live*` users are never revoked, those of
/// `rev*` users are revoked one by one (RevokeToken), and `gso*` users sign out everywhere.
const SIGN_IN_USERS: [&str; 3] = ["live", "rev", "gso"];
const PER_KIND: usize = 8;

/// What the crash test's workers were told. Only Ok answers are recorded, in the order they
/// arrived, so "acknowledged before a call was sent" is a prefix of `issued`.
#[derive(Default)]
struct Acked {
    signed_up: Vec<String>,
    confirmed: Vec<String>,
    /// Sign-ins and refreshes: (user, access token, the refresh token of its family).
    issued: Vec<(String, String, String)>,
    sign_ins: usize,
    refreshes: usize,
    revocations: usize,
    global_sign_outs: usize,
    /// Refresh tokens a RevokeToken was sent for, answered or not: no longer known live.
    revoke_sent: HashSet<String>,
    /// Families (by refresh token) that must be refused from now on: revoked by an
    /// acknowledged RevokeToken, or issued to a user before an acknowledged GlobalSignOut of
    /// theirs was sent.
    revoked: HashSet<String>,
    refused_during_load: usize,
    /// Calls that got no answer (the server was killed or restarting).
    unanswered: usize,
    /// Of these, calls not refused at connect: in flight at a kill, or sent on a connection
    /// it closed.
    cut_off: usize,
    /// Answers a healthy server never gives here, or that break a promise.
    problems: Vec<String>,
}

impl Acked {
    fn counts(&self) -> [(&'static str, usize); 6] {
        [
            ("sign-ups", self.signed_up.len()),
            ("confirmations", self.confirmed.len()),
            ("sign-ins", self.sign_ins),
            ("refreshes", self.refreshes),
            ("global sign-outs", self.global_sign_outs),
            ("revocations", self.revocations),
        ]
    }
}

type Shared = Arc<std::sync::Mutex<Acked>>;

fn running(stop: &std::sync::atomic::AtomicBool) -> bool {
    !stop.load(std::sync::atomic::Ordering::Relaxed)
}

/// The value of an Ok answer. An answered error is a problem (callers that expect a refusal
/// look at the result themselves); no answer is counted and waited out, since the server may
/// be down: the load goes on.
async fn settle<T, E: cip::error::ProvideErrorMetadata + std::fmt::Debug>(
    acked: &Shared,
    what: impl FnOnce() -> String,
    result: Result<T, cip::error::SdkError<E, cip::config::http::HttpResponse>>,
) -> Option<T> {
    match result {
        Ok(v) => Some(v),
        Err(cip::error::SdkError::ServiceError(e)) => {
            let e = e.err();
            acked.lock().unwrap().problems.push(format!(
                "{}: {}: {}",
                what(),
                e.code().unwrap_or("?"),
                e.message().unwrap_or("?")
            ));
            None
        }
        Err(e) => {
            // A refused connection found the server down; any other failure cut a call off.
            let down = format!("{e:?}").contains("ConnectionRefused");
            {
                let mut a = acked.lock().unwrap();
                a.unanswered += 1;
                a.cut_off += usize::from(!down);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            None
        }
    }
}

async fn password_sign_in(
    c: &cip::Client,
    client_id: &str,
    user: &str,
) -> Result<
    cip::operation::initiate_auth::InitiateAuthOutput,
    cip::error::SdkError<
        cip::operation::initiate_auth::InitiateAuthError,
        cip::config::http::HttpResponse,
    >,
> {
    c.initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", user)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
}

async fn refresh_with(
    c: &cip::Client,
    client_id: &str,
    token: &str,
) -> Result<
    cip::operation::initiate_auth::InitiateAuthOutput,
    cip::error::SdkError<
        cip::operation::initiate_auth::InitiateAuthError,
        cip::config::http::HttpResponse,
    >,
> {
    c.initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", token)
        .send()
        .await
}

/// Signs `user` in and records the tokens; None unless acknowledged.
async fn sign_in_and_record(
    c: &cip::Client,
    client_id: &str,
    user: &str,
    acked: &Shared,
) -> Option<String> {
    let out = settle(
        acked,
        || format!("InitiateAuth {user}"),
        password_sign_in(c, client_id, user).await,
    )
    .await?;
    let r = out.authentication_result().unwrap();
    let access = r.access_token().unwrap().to_string();
    let mut a = acked.lock().unwrap();
    a.issued.push((
        user.to_string(),
        access.clone(),
        r.refresh_token().unwrap().to_string(),
    ));
    a.sign_ins += 1;
    Some(access)
}

/// A mixed load (sign-up, confirmation, sign-in, refresh, RevokeToken, GlobalSignOut)
/// against a server that is SIGKILLed `KILLS` times while it runs. Afterwards every
/// acknowledged write is there, every stored user is whole, every token revoked by an
/// acknowledged call is refused, and tokens never revoked still work.
async fn kill_under_mixed_load(mut server: Server, store_url: String, store: &str) {
    let setup = server.client();
    let p = create_pool(
        &setup,
        "crash",
        |b| b.auto_verified_attributes(VerifiedAttributeType::Email),
        |b| {
            b.client_name("crash").set_explicit_auth_flows(Some(vec![
                ExplicitAuthFlowsType::AllowUserPasswordAuth,
                ExplicitAuthFlowsType::AllowRefreshTokenAuth,
            ]))
        },
    )
    .await;
    let (pool_id, client_id) = (p.id.clone(), p.client_id.clone());
    for kind in SIGN_IN_USERS {
        for i in 0..PER_KIND {
            let name = format!("{kind}{i}");
            sign_up(&setup, &p, &name, &format!("{name}@example.com")).await;
            setup
                .admin_confirm_sign_up()
                .user_pool_id(&pool_id)
                .username(&name)
                .send()
                .await
                .unwrap();
        }
    }
    // Users to confirm during the load, with their codes.
    let mut to_confirm = Vec::new();
    for i in 0..60 {
        let name = format!("pre{i}");
        sign_up(&setup, &p, &name, &format!("{name}@example.com")).await;
        to_confirm.push((name.clone(), server.last_code(&pool_id, &name).await));
    }
    let all_users: Arc<Vec<String>> = Arc::new(
        SIGN_IN_USERS
            .iter()
            .flat_map(|kind| (0..PER_KIND).map(move |i| format!("{kind}{i}")))
            .collect(),
    );

    // No SDK retries: a call the kill cut off stays unacknowledged, and the worker moves on.
    let c = cip::Client::from_conf(
        setup
            .config()
            .to_builder()
            .retry_config(cip::config::retry::RetryConfig::disabled())
            .timeout_config(
                cip::config::timeout::TimeoutConfig::builder()
                    .operation_timeout(std::time::Duration::from_secs(10))
                    .build(),
            )
            .build(),
    );
    let acked: Shared = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut tasks = Vec::new();
    let ctx = || (c.clone(), client_id.clone(), acked.clone(), stop.clone());

    for w in 0..3 {
        let (c, client_id, acked, stop) = ctx();
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while running(&stop) {
                let name = format!("new{w}x{i}");
                i += 1;
                let result = c
                    .sign_up()
                    .client_id(&client_id)
                    .username(&name)
                    .password(PASSWORD)
                    .user_attributes(attr("email", &format!("{name}@example.com")))
                    .send()
                    .await;
                if settle(&acked, || format!("SignUp {name}"), result)
                    .await
                    .is_some()
                {
                    acked.lock().unwrap().signed_up.push(name);
                }
            }
        }));
    }
    for part in to_confirm.chunks(30).map(<[_]>::to_vec) {
        let (c, client_id, acked, stop) = ctx();
        tasks.push(tokio::spawn(async move {
            for (name, code) in part {
                if !running(&stop) {
                    break;
                }
                let result = c
                    .confirm_sign_up()
                    .client_id(&client_id)
                    .username(&name)
                    .confirmation_code(code)
                    .send()
                    .await;
                if settle(&acked, || format!("ConfirmSignUp {name}"), result)
                    .await
                    .is_some()
                {
                    acked.lock().unwrap().confirmed.push(name);
                }
                // Spread the confirmations over the kills.
                tokio::time::sleep(std::time::Duration::from_millis(60)).await;
            }
        }));
    }
    for w in 0..2 {
        let (c, client_id, acked, stop) = ctx();
        let all_users = all_users.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while running(&stop) {
                let user = &all_users[i % all_users.len()];
                i += 1;
                sign_in_and_record(&c, &client_id, user, &acked).await;
            }
        }));
    }
    for w in 0..2 {
        let (c, client_id, acked, stop) = ctx();
        tasks.push(tokio::spawn(async move {
            let mut i: usize = w;
            while running(&stop) {
                i += 1;
                let picked = {
                    let a = acked.lock().unwrap();
                    // Spread over old and new tokens, revoked ones included.
                    let at = i.wrapping_mul(7919) % a.issued.len().max(1);
                    a.issued.get(at).map(|(user, _, refresh)| {
                        (user.clone(), refresh.clone(), a.revoked.contains(refresh))
                    })
                };
                let Some((user, refresh, revoked_before)) = picked else {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                match refresh_with(&c, &client_id, &refresh).await {
                    Ok(out) => {
                        let mut a = acked.lock().unwrap();
                        if revoked_before {
                            a.problems
                                .push(format!("a revoked refresh token of {user} refreshed"));
                        }
                        let result = out.authentication_result().unwrap();
                        let access = result.access_token().unwrap().to_string();
                        a.issued.push((user, access, refresh));
                        a.refreshes += 1;
                    }
                    Err(e) => {
                        // A refusal is right once a revocation was sent, even after this
                        // refresh was: so it is judged at the answer.
                        let expected = e.message() == Some("Refresh Token has been revoked")
                            && (user.starts_with("gso")
                                || acked.lock().unwrap().revoke_sent.contains(&refresh));
                        if expected {
                            acked.lock().unwrap().refused_during_load += 1;
                        } else {
                            settle(&acked, || format!("refresh of {user}"), Err::<(), _>(e)).await;
                        }
                    }
                }
            }
        }));
    }
    {
        let (c, client_id, acked, stop) = ctx();
        tasks.push(tokio::spawn(async move {
            let mut cursor = 0;
            while running(&stop) {
                let picked = {
                    let mut a = acked.lock().unwrap();
                    let found = a.issued[cursor..]
                        .iter()
                        .position(|(u, _, r)| u.starts_with("rev") && !a.revoke_sent.contains(r));
                    found.map(|at| {
                        cursor += at + 1;
                        let refresh = a.issued[cursor - 1].2.clone();
                        a.revoke_sent.insert(refresh.clone());
                        refresh
                    })
                };
                let Some(refresh) = picked else {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    continue;
                };
                let result = c
                    .revoke_token()
                    .client_id(&client_id)
                    .token(&refresh)
                    .send()
                    .await;
                if settle(&acked, || "RevokeToken".to_string(), result)
                    .await
                    .is_some()
                {
                    let mut a = acked.lock().unwrap();
                    a.revoked.insert(refresh);
                    a.revocations += 1;
                }
                tokio::time::sleep(std::time::Duration::from_millis(15)).await;
            }
        }));
    }
    {
        let (c, client_id, acked, stop) = ctx();
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while running(&stop) {
                let user = format!("gso{}", i % PER_KIND);
                i += 1;
                let Some(access) = sign_in_and_record(&c, &client_id, &user, &acked).await else {
                    continue;
                };
                // Let the other workers use (and refresh) the session before it ends.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                let sent_after = acked.lock().unwrap().issued.len();
                let result = c.global_sign_out().access_token(access).send().await;
                if settle(&acked, || format!("GlobalSignOut {user}"), result)
                    .await
                    .is_some()
                {
                    let mut a = acked.lock().unwrap();
                    let families: Vec<String> = a.issued[..sent_after]
                        .iter()
                        .filter(|(u, _, _)| *u == user)
                        .map(|(_, _, r)| r.clone())
                        .collect();
                    a.revoked.extend(families);
                    a.global_sign_outs += 1;
                }
            }
        }));
    }

    for _ in 0..KILLS {
        tokio::time::sleep(ROUND).await;
        server.kill_and_restart().await;
    }
    // Load after the last restart too; on a slow machine until every kind of call has been
    // acknowledged a few times.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    tokio::time::sleep(ROUND).await;
    while acked.lock().unwrap().counts().iter().any(|(_, n)| *n < 3)
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    if !acked.problems.is_empty() {
        let log = server.log();
        let warnings: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("WARN") || l.contains("ERROR"))
            .collect();
        panic!(
            "{} problems during the load, first: {:#?}\n\
             server warnings and errors (last 30): {:#?}",
            acked.problems.len(),
            &acked.problems[..acked.problems.len().min(20)],
            &warnings[warnings.len().saturating_sub(30)..]
        );
    }
    for (what, n) in acked.counts() {
        assert!(n > 0, "the load acknowledged no {what}");
    }

    // Every acknowledged write is there.
    let c = server.client();
    for name in &acked.signed_up {
        let u = c
            .admin_get_user()
            .user_pool_id(&pool_id)
            .username(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("acknowledged sign-up {name} lost: {e:?}"));
        // Nobody confirms the load's own sign-ups.
        assert_eq!(
            u.user_status(),
            Some(&UserStatusType::Unconfirmed),
            "{name}"
        );
    }
    for name in &acked.confirmed {
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
            "acknowledged confirmation of {name} lost"
        );
    }
    // Nothing half-written: every stored user has its attributes, hash and SRP verifier, and
    // an unconfirmed one a live code.
    let db = open_store_at(&store_url).await;
    let stored = db.list_users(&pool_id, None, None, 100_000).await.unwrap();
    assert!(stored.len() >= acked.signed_up.len() + to_confirm.len() + all_users.len());
    for u in &stored {
        assert!(
            u.password_hash.is_some()
                && u.srp_salt.is_some()
                && u.srp_verifier.is_some()
                && !u.sub.is_empty()
                && u.attributes.get("email") == Some(&format!("{}@example.com", u.username)),
            "{u:?}"
        );
        if u.status == cognate_core::records::UserStatus::Unconfirmed {
            assert!(
                db.get_code(&pool_id, &u.username_key, "sign_up")
                    .await
                    .unwrap()
                    .is_some(),
                "{} has no code",
                u.username
            );
        }
    }
    db.close().await;

    // No revoked token works again: neither the refresh token nor any access token of its
    // family, however late it was minted.
    let mut refused = 0;
    for refresh in &acked.revoked {
        assert_eq!(
            err_of(refresh_with(&c, &client_id, refresh).await),
            (
                "NotAuthorizedException".to_string(),
                "Refresh Token has been revoked".to_string()
            ),
            "a revoked refresh token (\"Invalid Refresh Token.\" would mean its row was lost)"
        );
        refused += 1;
    }
    for (user, access, refresh) in &acked.issued {
        if acked.revoked.contains(refresh) {
            assert_eq!(
                err_of(c.get_user().access_token(access).send().await),
                (
                    "NotAuthorizedException".to_string(),
                    "Access Token has been revoked".to_string()
                ),
                "an access token of {user} from a revoked family"
            );
            refused += 1;
        }
    }
    // And the check is not vacuous: tokens no revocation was sent for still work, from
    // before every kill.
    let live: Vec<_> = acked
        .issued
        .iter()
        .filter(|(u, _, r)| !u.starts_with("gso") && !acked.revoke_sent.contains(r))
        .collect();
    let step = (live.len() / 100).max(1);
    let mut still_work = 0;
    for (user, access, refresh) in live.iter().step_by(step) {
        refresh_with(&c, &client_id, refresh)
            .await
            .unwrap_or_else(|e| panic!("an unrevoked refresh token of {user} refused: {e:?}"));
        c.get_user()
            .access_token(access)
            .send()
            .await
            .unwrap_or_else(|e| panic!("an unrevoked access token of {user} refused: {e:?}"));
        still_work += 1;
    }
    assert!(refused > 0 && still_work > 0);

    let line = format!(
        "crash test ({store}): {KILLS} kills, {} sign-ups, {} confirmations, {} sign-ins, \
         {} refreshes, {} global sign-outs, {} revocations acknowledged ({} calls unanswered, \
         {} cut off); all present, {} users whole; {refused} revoked tokens refused ({} \
         refreshes refused during the load); {still_work} live tokens still work",
        acked.signed_up.len(),
        acked.confirmed.len(),
        acked.sign_ins,
        acked.refreshes,
        acked.global_sign_outs,
        acked.revocations,
        acked.unanswered,
        acked.cut_off,
        stored.len(),
        acked.refused_during_load,
    );
    println!("{line}");
    eprintln!("{line}");
}

#[tokio::test]
async fn sigkill_under_mixed_load_sqlite() {
    let server = Server::builder().database_url("").start().await;
    let url = server.sqlite_url();
    kill_under_mixed_load(server, url, "sqlite").await;
}

#[tokio::test]
async fn sigkill_under_mixed_load_postgres() {
    let Some(db) = TestDatabase::create("sigkill_pg").await else {
        return;
    };
    let server = Server::builder().database_url(&db.url).start().await;
    kill_under_mixed_load(server, db.url.clone(), "postgresql").await;
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
