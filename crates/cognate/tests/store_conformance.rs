#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One storage conformance suite, run unchanged against SQLite and PostgreSQL: the
//! guarantees the service relies on, including under concurrency (uniqueness, one live code,
//! atomic counters, exactly-once confirmation).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use cognate_core::ports::Directory;
use cognate_core::records::*;
use cognate_store::*;
use common::TestDatabase;

fn pool(id: &str) -> PoolRecord {
    PoolRecord {
        id: id.into(),
        name: "p".into(),
        config: "{}".into(),
        created_at: 1,
        updated_at: 1,
    }
}

fn user(pool_id: &str, name: &str) -> UserRecord {
    UserRecord {
        pool_id: pool_id.into(),
        username_key: name.to_lowercase(),
        username: name.into(),
        sub: uuid::Uuid::new_v4().to_string(),
        status: UserStatus::Unconfirmed,
        enabled: true,
        attributes: BTreeMap::from([("email".to_string(), format!("{name}@example.com"))]),
        password_hash: Some("$argon2id$stub".into()),
        srp_salt: Some("00ab".into()),
        srp_verifier: Some("00cd".into()),
        created_at: 10,
        updated_at: 10,
        password_set_at: Some(10),
        signed_out_at: None,
        pending_attributes: BTreeMap::new(),
    }
}

fn code(digest: &[u8], expires_at: i64) -> CodeRecord {
    CodeRecord {
        purpose: "sign_up".into(),
        digest: digest.to_vec(),
        attribute: Some("email".into()),
        expires_at,
        created_at: 1,
    }
}

fn new_user(u: UserRecord, aliases: Vec<(AliasKind, String)>, c: Option<CodeRecord>) -> NewUser {
    NewUser {
        user: u,
        aliases,
        moved_aliases: vec![],
        code: c,
        event: None,
        outbox: None,
    }
}

fn limit(action: &str, max: i64) -> AttemptLimit {
    AttemptLimit {
        action: action.into(),
        max,
        window_secs: 3600,
    }
}

fn event(event_type: &str, outcome: &str) -> EventRecord {
    EventRecord {
        event_id: format!("{event_type}-{outcome}"),
        event_type: event_type.into(),
        outcome: outcome.into(),
        ip_address: Some("1.2.3.4".into()),
        device_name: Some("test-agent".into()),
        encoded_data: None,
        analytics_endpoint_id: None,
        created_at: 3,
    }
}

/// A ConfirmSignUp attempt with `digest` as the supplied code's digest.
fn attempt(pool_id: &str, key: &str, digest: &[u8]) -> ConfirmAttempt {
    ConfirmAttempt {
        pool_id: pool_id.into(),
        username_key: key.into(),
        purpose: "sign_up".into(),
        limit: limit("confirm", 100),
        candidate_digest: digest.to_vec(),
        alias_by_attribute: vec![],
        force_alias: false,
        now: 20,
        pass_event: Some(event("ConfirmSignUp", "Pass")),
        fail_event: Some(event("ConfirmSignUp", "Fail")),
    }
}

fn issue(pool_id: &str, key: &str, code: CodeRecord) -> CodeIssue {
    CodeIssue {
        pool_id: pool_id.into(),
        username_key: key.into(),
        code,
        event: None,
        limit: None,
        outbox: None,
        status: None,
    }
}

fn admin_confirmation(pool_id: &str, key: &str) -> Confirmation {
    Confirmation {
        pool_id: pool_id.into(),
        username_key: key.into(),
        purpose: "sign_up".into(),
        verify_attribute: Some("email".into()),
        alias: None,
        force_alias: false,
        now: 20,
        event: None,
    }
}

async fn suite(store: Store) {
    let store = Arc::new(store);
    let p = format!(
        "us-east-1_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..9]
    );
    store.insert_pool(&pool(&p)).await.unwrap();
    assert!(
        store.insert_pool(&pool(&p)).await.is_err(),
        "pool ids are unique"
    );
    assert_eq!(store.get_pool(&p).await.unwrap().unwrap().name, "p");

    // Usernames are unique per pool; a conflict names what was taken and writes nothing.
    store
        .create_user(new_user(user(&p, "Ann"), vec![], Some(code(b"d1", 100))))
        .await
        .unwrap();
    let dup = store
        .create_user(new_user(user(&p, "ann"), vec![], None))
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict(Conflict::Username))),
        "{dup:?}"
    );
    store
        .create_user(new_user(
            user(&p, "Bob"),
            vec![(AliasKind::Email, "shared@example.com".into())],
            None,
        ))
        .await
        .unwrap();
    let alias_dup = store
        .create_user(new_user(
            user(&p, "Cy"),
            vec![(AliasKind::Email, "shared@example.com".into())],
            Some(code(b"x", 1)),
        ))
        .await;
    assert!(
        matches!(
            alias_dup,
            Err(StoreError::Conflict(Conflict::Alias(AliasKind::Email)))
        ),
        "{alias_dup:?}"
    );
    assert!(
        store.get_user(&p, "cy").await.unwrap().is_none(),
        "a failed create leaves no user behind"
    );
    assert!(store.get_code(&p, "cy", "sign_up").await.unwrap().is_none());
    assert_eq!(
        store
            .get_user_by_alias(&p, AliasKind::Email, "shared@example.com")
            .await
            .unwrap()
            .unwrap()
            .username,
        "Bob"
    );

    // One live code per user and purpose: a new one replaces the old.
    assert_eq!(
        store
            .get_code(&p, "ann", "sign_up")
            .await
            .unwrap()
            .unwrap()
            .digest,
        b"d1"
    );
    assert_eq!(
        store
            .issue_code(issue(&p, "ann", code(b"d2", 200)))
            .await
            .unwrap(),
        IssueOutcome::Issued
    );
    let live = store.get_code(&p, "ann", "sign_up").await.unwrap().unwrap();
    assert_eq!((live.digest.as_slice(), live.expires_at), (&b"d2"[..], 200));
    assert_eq!(
        store
            .issue_code(issue(&p, "nobody", code(b"d", 1)))
            .await
            .unwrap(),
        IssueOutcome::UserGone
    );

    // The replaced code no longer confirms (and the failure is recorded); the live one
    // confirms exactly once and is consumed.
    assert!(matches!(
        store
            .attempt_confirmation(attempt(&p, "ann", b"d1"))
            .await
            .unwrap(),
        AttemptOutcome::Mismatch
    ));
    assert_eq!(
        store.user_events(&p, "ann").await.unwrap(),
        vec![event("ConfirmSignUp", "Fail")]
    );
    match store
        .attempt_confirmation(attempt(&p, "ann", b"d2"))
        .await
        .unwrap()
    {
        AttemptOutcome::Confirmed(attrs) => assert_eq!(
            attrs.get("email_verified").map(String::as_str),
            Some("true")
        ),
        other => panic!("{other:?}"),
    }
    assert!(store
        .get_code(&p, "ann", "sign_up")
        .await
        .unwrap()
        .is_none());
    assert!(matches!(
        store.attempt_confirmation(attempt(&p, "ann", b"d2")).await.unwrap(),
        AttemptOutcome::WrongStatus(s) if s == UserStatus::Confirmed
    ));
    assert!(
        matches!(store.confirm_user(admin_confirmation(&p, "ann")).await.unwrap(), ConfirmOutcome::WrongStatus(s) if s == UserStatus::Confirmed)
    );
    assert_eq!(
        store.get_user(&p, "ann").await.unwrap().unwrap().status,
        UserStatus::Confirmed
    );

    // Alias claims at confirmation: refused while held, moved with force.
    store
        .create_user(new_user(user(&p, "Dee"), vec![], Some(code(b"dd", 100))))
        .await
        .unwrap();
    let mut a = attempt(&p, "dee", b"dd");
    a.alias_by_attribute = vec![(
        "email".into(),
        AliasKind::Email,
        "shared@example.com".into(),
    )];
    assert!(matches!(
        store.attempt_confirmation(a.clone()).await.unwrap(),
        AttemptOutcome::AliasTaken(AliasKind::Email)
    ));
    assert_eq!(
        store.get_user(&p, "dee").await.unwrap().unwrap().status,
        UserStatus::Unconfirmed,
        "not confirmed"
    );
    assert!(
        store
            .get_code(&p, "dee", "sign_up")
            .await
            .unwrap()
            .is_some(),
        "the code survives a refused confirm"
    );
    a.force_alias = true;
    assert!(matches!(
        store.attempt_confirmation(a.clone()).await.unwrap(),
        AttemptOutcome::Confirmed(_)
    ));
    assert_eq!(
        store
            .get_user_by_alias(&p, AliasKind::Email, "shared@example.com")
            .await
            .unwrap()
            .unwrap()
            .username,
        "Dee"
    );
    let bob = store.get_user(&p, "bob").await.unwrap().unwrap();
    assert_eq!(
        bob.attributes.get("email_verified").map(String::as_str),
        Some("false")
    );

    // Expiry, then an administrator's confirmation, which leaves no code behind.
    store
        .create_user(new_user(user(&p, "Eve"), vec![], Some(code(b"ee", 20))))
        .await
        .unwrap();
    assert!(matches!(
        store
            .attempt_confirmation(attempt(&p, "eve", b"ee"))
            .await
            .unwrap(),
        AttemptOutcome::Expired
    ));
    assert!(matches!(
        store.confirm_user(admin_confirmation(&p, "eve")).await.unwrap(),
        ConfirmOutcome::Confirmed(attrs) if attrs["email_verified"] == "true"
    ));
    assert!(store
        .get_code(&p, "eve", "sign_up")
        .await
        .unwrap()
        .is_none());
    assert!(store.delete_user(&p, "eve").await.unwrap());

    // Hourly attempt limits: counted per user and action, reset once the window has passed;
    // the attempt past the limit changes nothing.
    store
        .create_user(new_user(user(&p, "Fay"), vec![], Some(code(b"ff", 10_000))))
        .await
        .unwrap();
    let mut a = attempt(&p, "fay", b"wrong");
    a.limit = limit("confirm", 2);
    a.now = 1000;
    for _ in 0..2 {
        assert!(matches!(
            store.attempt_confirmation(a.clone()).await.unwrap(),
            AttemptOutcome::Mismatch
        ));
    }
    a.candidate_digest = b"ff".to_vec();
    assert!(matches!(
        store.attempt_confirmation(a.clone()).await.unwrap(),
        AttemptOutcome::LimitExceeded
    ));
    let mut resend = issue(&p, "fay", code(b"ff", 10_000));
    resend.code.created_at = 1000;
    resend.limit = Some(limit("resend", 1));
    assert_eq!(
        store.issue_code(resend.clone()).await.unwrap(),
        IssueOutcome::Issued,
        "limits are per action"
    );
    assert_eq!(
        store.issue_code(resend.clone()).await.unwrap(),
        IssueOutcome::LimitExceeded
    );
    a.now = 1000 + 3600;
    assert!(
        matches!(
            store.attempt_confirmation(a.clone()).await.unwrap(),
            AttemptOutcome::Confirmed(_)
        ),
        "a new window"
    );
    assert!(store.delete_user(&p, "fay").await.unwrap());

    // Listing and filters.
    let all = store.list_users(&p, None, None, 10).await.unwrap();
    assert_eq!(
        all.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(),
        ["Ann", "Bob", "Dee"]
    );
    let f = UserFilter {
        field: FilterField::Attribute("email".into()),
        op: FilterOp::Equals,
        value: "Bob@example.com".into(),
    };
    assert_eq!(
        store
            .list_users(&p, Some(&f), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // Usernames are filtered by their key (the service passes the name as the pool compares
    // it: lower-cased in case-insensitive pools).
    let f = UserFilter {
        field: FilterField::Username,
        op: FilterOp::StartsWith,
        value: "d".into(),
    };
    assert_eq!(
        store.list_users(&p, Some(&f), None, 10).await.unwrap()[0].username,
        "Dee"
    );
    let f = UserFilter {
        field: FilterField::UserStatus,
        op: FilterOp::Equals,
        value: "UNCONFIRMED".into(),
    };
    assert_eq!(
        store
            .list_users(&p, Some(&f), None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let page = store.list_users(&p, None, Some("ann"), 1).await.unwrap();
    assert_eq!(page[0].username, "Bob");
    assert_eq!(store.count_users(&p).await.unwrap(), 3);

    // Concurrency: N racing creates of one username → exactly one user.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = store.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            let mut u = user(&p, "Racer");
            u.sub = format!("sub-{i}");
            s.create_user(new_user(
                u,
                vec![(AliasKind::Email, "racer@example.com".into())],
                Some(code(b"r", 100)),
            ))
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => ok += 1,
            Err(StoreError::Conflict(_)) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(ok, 1);

    // N racing confirmations with the same code → exactly one succeeds.
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let s = store.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            s.attempt_confirmation(attempt(&p, "racer", b"r"))
                .await
                .unwrap()
        }));
    }
    let mut confirmed = 0;
    for t in tasks {
        match t.await.unwrap() {
            AttemptOutcome::Confirmed(_) => confirmed += 1,
            AttemptOutcome::WrongStatus(s) => assert_eq!(s, UserStatus::Confirmed),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(confirmed, 1);

    // N racing limited code issues → every one counted: exactly `max` are issued.
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let s = store.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = issue(&p, "racer", code(b"n", 9000));
            i.code.created_at = 5000;
            i.limit = Some(limit("hits", 16));
            s.issue_code(i).await.unwrap()
        }));
    }
    let mut issued = 0;
    for t in tasks {
        issued += usize::from(t.await.unwrap() == IssueOutcome::Issued);
    }
    assert_eq!(issued, 16);

    // Server secrets: the first writer wins, everyone reads the same value.
    let a = store.server_secret("k", vec![1; 32]).await.unwrap();
    let b = store.server_secret("k", vec![2; 32]).await.unwrap();
    assert_eq!(a, b);

    // Client revisions: every change to a client or to its pool raises the client's.
    let client_id = format!("client-{p}");
    let mut client = ClientRecord {
        client_id: client_id.clone(),
        pool_id: p.clone(),
        config: r#"{"ClientName":"a"}"#.into(),
        created_at: 1,
        updated_at: 1,
    };
    store.insert_client(&client).await.unwrap();
    assert_eq!(store.client_revision(&client_id).await.unwrap(), Some(0));
    client.config = r#"{"ClientName":"b"}"#.into();
    assert!(store.update_client(&client).await.unwrap());
    assert_eq!(store.client_revision(&client_id).await.unwrap(), Some(1));
    let mut changed_pool = pool(&p);
    let first_config = changed_pool.config.clone();
    changed_pool.config = r#"{"Name":"changed"}"#.into();
    // Conditional on the settings read: a stale base is refused, the current one stored.
    assert_eq!(
        store
            .update_pool(&changed_pool, r#"{"Name":"stale"}"#)
            .await
            .unwrap(),
        PoolUpdate::Changed
    );
    assert_eq!(
        store
            .update_pool(&changed_pool, &first_config)
            .await
            .unwrap(),
        PoolUpdate::Updated
    );
    assert_eq!(
        store
            .update_pool(&pool("us-east-1_gone"), "{}")
            .await
            .unwrap(),
        PoolUpdate::Gone
    );
    let (read_client, read_pool, revision) = store
        .get_client_with_pool(&client_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(revision, 2);
    assert_eq!(store.client_revision(&client_id).await.unwrap(), Some(2));
    assert_eq!(read_client.config, client.config);
    assert_eq!(read_pool.config, changed_pool.config);
    assert_eq!(store.client_revision("no-such-client").await.unwrap(), None);

    // A code's outbox message commits with the code, and only if the code is issued.
    let outbox = |username: &str| MessageRecord {
        pool_id: p.clone(),
        username: username.into(),
        medium: "EMAIL".into(),
        destination: "o***@e***".into(),
        subject: None,
        body: Some("code 654321".into()),
        code: Some("654321".into()),
        provider: "outbox".into(),
        provider_message_id: None,
        sent_at: 8,
    };
    store
        .create_user(new_user(user(&p, "Olive"), vec![], None))
        .await
        .unwrap();
    let mut limited = issue(&p, "olive", code(b"o", 9000));
    limited.limit = Some(limit("outbox-resend", 1));
    limited.outbox = Some(outbox("Olive"));
    assert_eq!(
        store.issue_code(limited.clone()).await.unwrap(),
        IssueOutcome::Issued
    );
    assert_eq!(
        store.issue_code(limited).await.unwrap(),
        IssueOutcome::LimitExceeded
    );
    let kept = store
        .list_messages(Some(&p), Some("Olive"), 10)
        .await
        .unwrap();
    assert_eq!(
        kept.len(),
        1,
        "no message for the code refused by the limit"
    );
    assert_eq!(kept[0].code.as_deref(), Some("654321"));
    let mut taken = new_user(user(&p, "olive"), vec![], Some(code(b"t", 100)));
    taken.outbox = Some(outbox("olive-again"));
    assert!(store.create_user(taken).await.is_err());
    assert!(
        store
            .list_messages(Some(&p), Some("olive-again"), 10)
            .await
            .unwrap()
            .is_empty(),
        "a refused sign-up leaves no message"
    );

    // Messages, events, deletion cascades.
    store
        .insert_message(&MessageRecord {
            pool_id: p.clone(),
            username: "Bob".into(),
            medium: "EMAIL".into(),
            destination: "b***@e***".into(),
            subject: Some("s".into()),
            body: Some("b 123456".into()),
            code: Some("123456".into()),
            provider: "outbox".into(),
            provider_message_id: None,
            sent_at: 7,
        })
        .await
        .unwrap();
    let msgs = store
        .list_messages(Some(&p), Some("Bob"), 10)
        .await
        .unwrap();
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].code.as_deref(), Some("123456"));
    let ev = event("ResendConfirmationCode", "Pass");
    let mut with_event = issue(&p, "bob", code(b"b", 100));
    with_event.event = Some(ev.clone());
    store.issue_code(with_event).await.unwrap();
    assert_eq!(store.user_events(&p, "bob").await.unwrap(), vec![ev]);
    assert!(store.delete_user(&p, "bob").await.unwrap());
    assert!(store.user_events(&p, "bob").await.unwrap().is_empty());
    assert!(store.delete_pool(&p).await.unwrap());
    assert!(
        store.get_user(&p, "dee").await.unwrap().is_none(),
        "users go with their pool"
    );
}

/// The sweep deletes expired sign-in rows in batches, and nothing younger than its cutoffs.
async fn sweep_suite(store: &Store) {
    let p = format!(
        "us-east-1_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..9]
    );
    store.insert_pool(&pool(&p)).await.unwrap();
    store
        .create_user(new_user(user(&p, "sam"), vec![], None))
        .await
        .unwrap();
    for (i, expires_at) in [100, 200, 300].into_iter().enumerate() {
        store
            .insert_auth_session(AuthSessionRecord {
                digest: vec![1, i as u8],
                pool_id: p.clone(),
                client_id: "c".into(),
                name_key: "sam".into(),
                challenge: "PASSWORD_VERIFIER".into(),
                state: "{}".into(),
                created_at: 0,
                expires_at,
                used_at: None,
            })
            .await
            .unwrap();
        store
            .insert_refresh_token(RefreshTokenRecord {
                digest: vec![2, i as u8],
                pool_id: p.clone(),
                username_key: "sam".into(),
                client_id: "c".into(),
                origin_jti: format!("o{i}"),
                auth_time: 0,
                issued_at: 0,
                expires_at,
                revoked_at: None,
                scopes: None,
            })
            .await
            .unwrap();
        store
            .record_sign_in_failure(&p, &format!("name{i}"), expires_at)
            .await
            .unwrap();
    }
    // One authorization code expired before the cutoff, one after.
    for (i, expires_at) in [200, 300].into_iter().enumerate() {
        store
            .insert_authorization_code(AuthorizationCodeRecord {
                digest: vec![9, i as u8],
                pool_id: p.clone(),
                client_id: "c".into(),
                username_key: "sam".into(),
                redirect_uri: "https://app.example.com/cb".into(),
                scopes: "openid".into(),
                nonce: None,
                code_challenge: None,
                code_challenge_method: None,
                auth_time: 0,
                created_at: 0,
                expires_at,
                consumed_at: None,
            })
            .await
            .unwrap();
    }
    // Attempt counters: windows begun at 100 (swept) and at 400 (kept), of the user and of
    // names of no user.
    for (action, now) in [("early", 100), ("later", 400)] {
        assert!(store
            .count_attempt(&p, "sam", &limit(action, 1), now)
            .await
            .unwrap());
        assert!(store
            .count_name_attempt(&p, &format!("ghost-{action}"), &limit(action, 1), now)
            .await
            .unwrap());
    }
    let cutoffs = SweepCutoffs {
        sessions_expired_before: 250,
        refresh_expired_before: 150,
        failures_before: 301,
        attempt_windows_before: 300,
    };
    // Batches of one: the first call takes one row of each table that has one to take.
    let first = store.delete_expired(cutoffs, 1).await.unwrap();
    assert_eq!(
        first,
        Swept {
            auth_sessions: 1,
            refresh_tokens: 1,
            sign_in_failures: 1,
            oauth_codes: 1,
            login_sessions: 0,
            attempt_counters: 2,
        }
    );
    let rest = store.delete_expired(cutoffs, 10).await.unwrap();
    assert_eq!(
        rest,
        Swept {
            auth_sessions: 1,
            refresh_tokens: 0,
            sign_in_failures: 2,
            oauth_codes: 0,
            login_sessions: 0,
            attempt_counters: 0,
        }
    );
    assert_eq!(store.delete_expired(cutoffs, 10).await.unwrap().total(), 0);
    // What is left is what the cutoffs keep.
    assert!(matches!(
        store.take_auth_session(&[1, 2], 0).await.unwrap(),
        SessionTake::Taken(_)
    ));
    assert!(store.refresh_token(&[2, 1]).await.unwrap().is_some());
    assert!(store.refresh_token(&[2, 0]).await.unwrap().is_none());
    assert!(store.sign_in_failures(&p, "name2").await.unwrap().is_none());
    // A swept counter starts afresh (its first attempt is within a limit of one); a kept
    // one goes on counting (its second is not).
    assert!(store
        .count_attempt(&p, "sam", &limit("early", 1), 150)
        .await
        .unwrap());
    assert!(store
        .count_name_attempt(&p, "ghost-early", &limit("early", 1), 150)
        .await
        .unwrap());
    assert!(!store
        .count_attempt(&p, "sam", &limit("later", 1), 401)
        .await
        .unwrap());
    assert!(!store
        .count_name_attempt(&p, "ghost-later", &limit("later", 1), 401)
        .await
        .unwrap());
    assert!(store.delete_pool(&p).await.unwrap());
}

/// Authorization codes are taken once, even by racing exchanges; expired and unknown codes
/// are told apart; managed-login sessions expire and are deleted.
async fn oauth_codes_suite(store: &Store) {
    let p = format!(
        "us-east-1_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..9]
    );
    store.insert_pool(&pool(&p)).await.unwrap();
    let code = |digest: u8, expires_at: i64| AuthorizationCodeRecord {
        digest: vec![7, digest],
        pool_id: p.clone(),
        client_id: "c".into(),
        username_key: "sam".into(),
        redirect_uri: "https://app.example.com/cb".into(),
        scopes: "openid email".into(),
        nonce: Some("n".into()),
        code_challenge: Some("x".into()),
        code_challenge_method: Some("S256".into()),
        auth_time: 10,
        created_at: 10,
        expires_at,
        consumed_at: None,
    };
    store.insert_authorization_code(code(1, 310)).await.unwrap();
    store.insert_authorization_code(code(2, 310)).await.unwrap();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.take_authorization_code(&[7, 1], 20).await })
        })
        .collect();
    let mut taken = 0;
    for racer in racers {
        match racer.await.unwrap().unwrap() {
            CodeTake::Taken(c) => {
                taken += 1;
                assert_eq!(c.consumed_at, Some(20));
                assert_eq!(c.nonce.as_deref(), Some("n"));
                assert_eq!(c.scopes, "openid email");
            }
            other => assert_eq!(other, CodeTake::AlreadyUsed),
        }
    }
    assert_eq!(taken, 1);
    assert_eq!(
        store.take_authorization_code(&[7, 2], 310).await.unwrap(),
        CodeTake::Expired
    );
    assert_eq!(
        store.take_authorization_code(&[7, 3], 20).await.unwrap(),
        CodeTake::Unknown
    );
    store
        .insert_login_session(LoginSessionRecord {
            digest: vec![8, 1],
            pool_id: p.clone(),
            username_key: "sam".into(),
            auth_time: 10,
            created_at: 10,
            expires_at: 3610,
        })
        .await
        .unwrap();
    assert!(store.login_session(&[8, 1], 3609).await.unwrap().is_some());
    assert!(store.login_session(&[8, 1], 3610).await.unwrap().is_none());
    store.delete_login_session(&[8, 1]).await.unwrap();
    assert!(store.login_session(&[8, 1], 20).await.unwrap().is_none());
    assert!(store.delete_pool(&p).await.unwrap());
}

#[tokio::test]
async fn sqlite_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url_for_dir(dir.path()), &StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    suite(store.clone()).await;
    sweep_suite(&store).await;
    oauth_codes_suite(&store).await;
    store.close().await;
}

#[tokio::test]
async fn postgres_conforms() {
    let Some(db) = TestDatabase::create("postgres_conforms").await else {
        return;
    };
    let store = Store::open(&db.url, &StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(store.backend(), Backend::Postgres);
    suite(store.clone()).await;
    sweep_suite(&store).await;
    oauth_codes_suite(&store).await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn unknown_database_scheme_is_refused() {
    let err = Store::open("mysql://localhost/x", &StoreOptions::default())
        .await
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("unsupported database URL scheme"),
        "{err}"
    );
}

#[tokio::test]
async fn migrations_are_idempotent_and_concurrent_safe() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url_for_dir(dir.path());
    let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
    assert!(
        store.migrate().await.unwrap().is_empty(),
        "second run applies nothing"
    );
    store.close().await;
    let Some(db) = TestDatabase::create("migrations_concurrent").await else {
        return;
    };
    let opens: Vec<_> = (0..4)
        .map(|_| {
            let url = db.url.clone();
            tokio::spawn(async move { Store::open(&url, &StoreOptions::default()).await })
        })
        .collect();
    for o in opens {
        o.await.unwrap().unwrap().close().await;
    }
    db.drop_database().await;
}
