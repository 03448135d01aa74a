#![allow(clippy::unwrap_used, clippy::expect_used)]
//! A database written before secrets were sealed (plaintext signing keys, client secrets and
//! server secrets) is sealed when a store with a master key seals it, reads back the same
//! values, and then cannot be read without the key.

use std::sync::Arc;

use cognate_core::ports::Directory;
use cognate_core::records::{ClientRecord, PoolRecord, SigningKeyRecord, TokenUse};
use cognate_crypto::seal::MasterKeys;
use cognate_store::{sqlite_url_for_dir, SealReport, Store, StoreOptions};

const CONFIG: &str = r#"{"ClientId":"c1","ClientSecret":"plainsecret123","UserPoolId":"p1"}"#;

#[tokio::test]
async fn plaintext_secrets_are_sealed_and_read_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url_for_dir(dir.path());
    let plain = Store::open(&url, &StoreOptions::default()).await.unwrap();
    plain
        .insert_pool(&PoolRecord {
            id: "p1".into(),
            name: "p".into(),
            config: "{}".into(),
            created_at: 1,
            updated_at: 1,
        })
        .await
        .unwrap();
    plain
        .insert_client(&ClientRecord {
            client_id: "c1".into(),
            pool_id: "p1".into(),
            config: CONFIG.into(),
            created_at: 1,
            updated_at: 1,
        })
        .await
        .unwrap();
    let der = vec![0x30, 0x82, 1, 2, 3];
    plain
        .add_signing_keys(
            "p1",
            vec![SigningKeyRecord {
                kid: "k1".into(),
                token_use: TokenUse::Access,
                private_key: der.clone(),
                created_at: 1,
                retired_at: None,
            }],
        )
        .await
        .unwrap();
    let digest_key = plain.server_secret("codes", vec![7; 32]).await.unwrap();
    plain.close().await;

    let keys = Arc::new(MasterKeys::parse(&MasterKeys::generate_line(1)).unwrap());
    let sealed = Store::open(&url, &StoreOptions::default())
        .await
        .unwrap()
        .with_master_keys(keys.clone());
    assert_eq!(
        sealed.seal_secrets().await.unwrap(),
        SealReport {
            server_secrets: 1,
            signing_keys: 1,
            client_secrets: 1
        }
    );
    // Idempotent: nothing left to seal.
    assert_eq!(sealed.seal_secrets().await.unwrap(), SealReport::default());
    assert_eq!(
        sealed.get_client("c1").await.unwrap().unwrap().config,
        CONFIG
    );
    assert_eq!(sealed.signing_keys("p1").await.unwrap()[0].private_key, der);
    assert_eq!(
        sealed.server_secret("codes", vec![9; 32]).await.unwrap(),
        digest_key
    );
    sealed.close().await;

    // The file holds no plaintext secret any more.
    let bytes = std::fs::read(dir.path().join("cognate.db")).unwrap();
    assert!(!bytes.windows(14).any(|w| w == b"plainsecret123"));

    // Without the key, the sealed values are an error, not garbage.
    let keyless = Store::open(&url, &StoreOptions::default()).await.unwrap();
    assert!(keyless.get_client("c1").await.is_err());
    assert!(keyless.signing_keys("p1").await.is_err());
    keyless.close().await;
}
