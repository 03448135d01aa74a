#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One storage conformance suite, run unchanged against SQLite and PostgreSQL: the
//! guarantees the service relies on, including under concurrency (uniqueness, one live code,
//! atomic counters, exactly-once confirmation).

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use cognate::store::*;
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
    }
}

fn confirmation<'a>(pool_id: &'a str, key: &'a str, digest: Option<Vec<u8>>) -> Confirmation<'a> {
    Confirmation {
        pool_id,
        username_key: key,
        purpose: "sign_up",
        code_digest: digest,
        verify_attribute: Some("email"),
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
        .create_user(&new_user(user(&p, "Ann"), vec![], Some(code(b"d1", 100))))
        .await
        .unwrap();
    let dup = store
        .create_user(&new_user(user(&p, "ann"), vec![], None))
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict(Conflict::Username))),
        "{dup:?}"
    );
    store
        .create_user(&new_user(
            user(&p, "Bob"),
            vec![(AliasKind::Email, "shared@example.com".into())],
            None,
        ))
        .await
        .unwrap();
    let alias_dup = store
        .create_user(&new_user(
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
    assert!(store
        .replace_code(&p, "ann", &code(b"d2", 200), None)
        .await
        .unwrap());
    let live = store.get_code(&p, "ann", "sign_up").await.unwrap().unwrap();
    assert_eq!((live.digest.as_slice(), live.expires_at), (&b"d2"[..], 200));
    assert!(!store
        .replace_code(&p, "nobody", &code(b"d", 1), None)
        .await
        .unwrap());

    // A stale digest cannot confirm; the live one confirms exactly once.
    assert!(matches!(
        store
            .confirm_user(&confirmation(&p, "ann", Some(b"d1".to_vec())))
            .await
            .unwrap(),
        ConfirmOutcome::CodeGone
    ));
    match store
        .confirm_user(&confirmation(&p, "ann", Some(b"d2".to_vec())))
        .await
        .unwrap()
    {
        ConfirmOutcome::Confirmed(attrs) => assert_eq!(
            attrs.get("email_verified").map(String::as_str),
            Some("true")
        ),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store
            .confirm_user(&confirmation(&p, "ann", Some(b"d2".to_vec())))
            .await
            .unwrap(),
        ConfirmOutcome::CodeGone
    ));
    assert!(
        matches!(store.confirm_user(&confirmation(&p, "ann", None)).await.unwrap(), ConfirmOutcome::WrongStatus(s) if s == "CONFIRMED")
    );
    assert_eq!(
        store.get_user(&p, "ann").await.unwrap().unwrap().status,
        UserStatus::Confirmed
    );

    // Alias claims at confirmation: refused while held, moved with force.
    store
        .create_user(&new_user(user(&p, "Dee"), vec![], Some(code(b"dd", 100))))
        .await
        .unwrap();
    let mut c = confirmation(&p, "dee", Some(b"dd".to_vec()));
    c.alias = Some((AliasKind::Email, "shared@example.com".into()));
    assert!(matches!(
        store.confirm_user(&c).await.unwrap(),
        ConfirmOutcome::AliasTaken(AliasKind::Email)
    ));
    assert_eq!(
        store.get_user(&p, "dee").await.unwrap().unwrap().status,
        UserStatus::Unconfirmed,
        "rolled back"
    );
    assert!(
        store
            .get_code(&p, "dee", "sign_up")
            .await
            .unwrap()
            .is_some(),
        "the code survives a refused confirm"
    );
    c.force_alias = true;
    assert!(matches!(
        store.confirm_user(&c).await.unwrap(),
        ConfirmOutcome::Confirmed(_)
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

    // Hourly counters: atomic, and reset once the window has passed.
    for expected in 1..=3 {
        assert_eq!(
            store
                .bump_counter(&p, "bob", "confirm", 1000, 3600)
                .await
                .unwrap(),
            expected
        );
    }
    assert_eq!(
        store
            .bump_counter(&p, "bob", "resend", 1000, 3600)
            .await
            .unwrap(),
        1,
        "per action"
    );
    assert_eq!(
        store
            .bump_counter(&p, "bob", "confirm", 1000 + 3600, 3600)
            .await
            .unwrap(),
        1,
        "new window"
    );

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
    let f = UserFilter {
        field: FilterField::Username,
        op: FilterOp::StartsWith,
        value: "D".into(),
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
            s.create_user(&new_user(
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
            matches!(
                s.confirm_user(&confirmation(&p, "racer", Some(b"r".to_vec())))
                    .await
                    .unwrap(),
                ConfirmOutcome::Confirmed(_)
            )
        }));
    }
    let mut confirmed = 0;
    for t in tasks {
        confirmed += usize::from(t.await.unwrap());
    }
    assert_eq!(confirmed, 1);

    // N racing counter bumps → every one counted.
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let s = store.clone();
        let p = p.clone();
        tasks.push(tokio::spawn(async move {
            s.bump_counter(&p, "racer", "hits", 5000, 3600)
                .await
                .unwrap()
        }));
    }
    let mut seen: Vec<i64> = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    seen.sort();
    assert_eq!(seen, (1..=32).collect::<Vec<_>>());

    // Server secrets: the first writer wins, everyone reads the same value.
    let a = store.server_secret("k", vec![1; 32]).await.unwrap();
    let b = store.server_secret("k", vec![2; 32]).await.unwrap();
    assert_eq!(a, b);

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
    let ev = EventRecord {
        event_type: "SignUp".into(),
        outcome: "Pass".into(),
        ip_address: Some("1.2.3.4".into()),
        encoded_data: None,
        analytics_endpoint_id: None,
        created_at: 3,
    };
    store.record_event(&p, "bob", &ev).await.unwrap();
    assert_eq!(store.user_events(&p, "bob").await.unwrap(), vec![ev]);
    assert!(store.delete_user(&p, "bob").await.unwrap());
    assert!(store.user_events(&p, "bob").await.unwrap().is_empty());
    assert!(store.delete_pool(&p).await.unwrap());
    assert!(
        store.get_user(&p, "dee").await.unwrap().is_none(),
        "users go with their pool"
    );
}

#[tokio::test]
async fn sqlite_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&sqlite_url_for_dir(dir.path()), &StoreOptions::default())
        .await
        .unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    suite(store.clone()).await;
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
