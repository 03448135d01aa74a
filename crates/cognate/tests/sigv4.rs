#![allow(clippy::unwrap_used, clippy::expect_used)]
//! SigV4 on the signed operations (issue "Safe to expose", first part), through the real Rust
//! AWS SDK: configured keys are verified, with AWS's errors for a wrong secret, an unknown key,
//! a skewed clock and a missing signature; keys reload on SIGHUP; without keys a loopback
//! server accepts any signature and another address is refused.

mod common;

use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_sdk_cognitoidentityprovider as cip;
use cip::config::{Credentials, Region};
use common::*;

const KEY: &str = "AKIDCOGNATETEST";
const SECRET: &str = "cognate-test-secret";

/// A clock for the SDK's signer that runs `offset` away from real time.
#[derive(Debug)]
struct ShiftedClock(Duration, bool);

impl aws_smithy_async::time::TimeSource for ShiftedClock {
    fn now(&self) -> SystemTime {
        if self.1 {
            SystemTime::now() + self.0
        } else {
            SystemTime::now() - self.0
        }
    }
}

fn client_with(
    url: &str,
    key: &str,
    secret: &str,
    token: Option<&str>,
    clock: Option<ShiftedClock>,
) -> cip::Client {
    let mut config = cip::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            key,
            secret,
            token.map(str::to_string),
            None,
            "test",
        ));
    if let Some(clock) = clock {
        // Without retries: the SDK would otherwise correct its clock from the error's `Date`
        // header and succeed on the second try (which it does; see below).
        config = config
            .time_source(clock)
            .retry_config(cip::config::retry::RetryConfig::disabled());
    }
    cip::Client::from_conf(config.build())
}

async fn list_pools(c: &cip::Client) -> Result<(), (String, String)> {
    c.list_user_pools()
        .max_results(1)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| err_of::<_, ()>(Err(e)))
}

fn pair(code: &str, message: &str) -> (String, String) {
    (code.to_string(), message.to_string())
}

#[tokio::test]
async fn configured_keys_are_verified_with_aws_errors() {
    let server = Server::builder()
        .env("COGNATE_ACCESS_KEY_ID", KEY)
        .env("COGNATE_SECRET_ACCESS_KEY", SECRET)
        .start()
        .await;
    let good = server.client();
    create_pool(&good, "signed", |b| b, |b| b).await;
    list_pools(&client_with(
        &server.url,
        KEY,
        SECRET,
        Some("session-token"),
        None,
    ))
    .await
    .unwrap();

    assert_eq!(
        list_pools(&client_with(&server.url, KEY, "wrong-secret", None, None)).await,
        Err(pair(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        ))
    );
    assert_eq!(
        list_pools(&client_with(
            &server.url,
            "AKIDSTRANGER",
            SECRET,
            None,
            None
        ))
        .await,
        Err(pair(
            "UnrecognizedClientException",
            "The security token included in the request is invalid."
        ))
    );
    let old = list_pools(&client_with(
        &server.url,
        KEY,
        SECRET,
        None,
        Some(ShiftedClock(Duration::from_secs(600), false)),
    ))
    .await
    .unwrap_err();
    assert_eq!(old.0, "InvalidSignatureException");
    assert!(old.1.starts_with("Signature expired: "), "{}", old.1);
    assert!(old.1.ends_with(" - 5 min.)"), "{}", old.1);
    // With retries on, the SDK reads the server's `Date`, corrects its clock and succeeds.
    let skewed = cip::Client::from_conf(
        cip::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&server.url)
            .credentials_provider(Credentials::new(KEY, SECRET, None, None, "test"))
            .time_source(ShiftedClock(Duration::from_secs(600), false))
            .build(),
    );
    list_pools(&skewed).await.unwrap();
    let future = list_pools(&client_with(
        &server.url,
        KEY,
        SECRET,
        None,
        Some(ShiftedClock(Duration::from_secs(600), true)),
    ))
    .await
    .unwrap_err();
    assert!(
        future.1.starts_with("Signature not yet current: "),
        "{}",
        future.1
    );

    // No signature at all, and a forged one.
    let body = serde_json::json!({"MaxResults": 1}).to_string();
    let (status, _, answer) = server
        .raw(
            Some("AWSCognitoIdentityProviderService.ListUserPools"),
            Some("application/x-amz-json-1.1"),
            body.clone(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(answer["__type"], "MissingAuthenticationTokenException");
    let forged = reqwest::Client::new()
        .post(&server.url)
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "AWSCognitoIdentityProviderService.ListUserPools")
        .header("x-amz-date", "20261206T120000Z")
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={KEY}/20261206/us-east-1/cognito-idp/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    let forged: serde_json::Value = forged.json().await.unwrap();
    assert_eq!(forged["__type"], "InvalidSignatureException");

    // Operations the model leaves unsigned ignore the signature entirely.
    let stranger = client_with(&server.url, "AKIDSTRANGER", "x", None, None);
    let answer = stranger
        .initiate_auth()
        .client_id("nosuchclient")
        .auth_flow(cip::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ann")
        .auth_parameters("PASSWORD", "x")
        .send()
        .await;
    assert_eq!(err_of(answer).0, "ResourceNotFoundException");
}

#[tokio::test]
async fn with_keys_browsers_may_sign_and_the_outbox_is_not_served() {
    let server = Server::builder()
        .env("COGNATE_ACCESS_KEY_ID", KEY)
        .env("COGNATE_SECRET_ACCESS_KEY", SECRET)
        .start()
        .await;
    let preflight = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/", server.url))
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(allowed.contains("authorization"), "{allowed}");
    let outbox = reqwest::get(format!("{}/_cognate/outbox", server.url))
        .await
        .unwrap();
    assert_eq!(outbox.status(), 404);
    assert!(outbox
        .text()
        .await
        .unwrap()
        .contains("loopback listener without admin credentials"));
    let inbox = reqwest::get(format!("{}/_cognate/inbox", server.url))
        .await
        .unwrap();
    assert_eq!(inbox.status(), 404);
}

#[tokio::test]
async fn keys_reload_on_sighup() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("credentials");
    std::fs::write(&file, format!("# admins\n{KEY} {SECRET}\n")).unwrap();
    let server = Server::builder()
        .arg("--credentials-file")
        .arg(file.to_str().unwrap())
        .start()
        .await;
    list_pools(&server.client()).await.unwrap();
    std::fs::write(&file, "AKIDROTATED n3w-secret\n").unwrap();
    let pid = server.pid().to_string();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let rotated = client_with(&server.url, "AKIDROTATED", "n3w-secret", None, None);
    let mut reloaded = false;
    for _ in 0..50 {
        if list_pools(&rotated).await.is_ok() {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reloaded, "the new key works after SIGHUP");
    assert_eq!(
        list_pools(&server.client()).await.unwrap_err().0,
        "UnrecognizedClientException",
        "the old key is gone"
    );
    assert!(!server.log().contains(SECRET) && !server.log().contains("n3w-secret"));
}

#[tokio::test]
async fn without_keys_only_loopback_servers_accept_any_signature() {
    // The usual test server: loopback, no keys.
    let server = Server::start().await;
    list_pools(&client_with(
        &server.url,
        "AKIDANYONE",
        "anything",
        None,
        None,
    ))
    .await
    .unwrap();
    assert!(server
        .log()
        .contains("admin operations accept any well-formed SigV4 signature"));

    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(tempfile::tempdir().unwrap().path())
        .env_remove("COGNATE_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("not a loopback address") && stderr.contains("--credentials-file"),
        "{stderr}"
    );

    // Told to, it starts anyway, and says so loudly.
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let mut insecure = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args([
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--insecure-accept-any-credentials",
        ])
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env_remove("COGNATE_DATABASE_URL")
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut text = String::new();
    for _ in 0..300 {
        text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("cognate is ready") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = insecure.kill();
    let _ = insecure.wait();
    assert!(text.contains("cognate is ready"), "{text}");
    assert!(text.contains("INSECURE"), "{text}");
}
