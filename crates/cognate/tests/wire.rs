#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The wire layer with hand-built requests: each malformed-input case gets its documented
//! AWS-style error, never a panic or a 500.

mod common;

use common::*;
use serde_json::json;

const CT: &str = "application/x-amz-json-1.1";

fn target(op: &str) -> String {
    format!("AWSCognitoIdentityProviderService.{op}")
}

#[tokio::test]
async fn malformed_json_is_a_serialization_error() {
    let server = Server::start().await;
    let (status, headers, body) = server
        .raw(Some(&target("SignUp")), Some(CT), "{not json")
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");
    assert_eq!(headers["x-amzn-errortype"], "SerializationException:");
    assert_eq!(headers["content-type"], CT);
    assert!(headers.contains_key("x-amzn-requestid"));
}

#[tokio::test]
async fn body_of_the_wrong_json_type() {
    let server = Server::start().await;
    let (status, _, body) = server.raw(Some(&target("SignUp")), Some(CT), "[1,2]").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");
    let (status, _, body) = server
        .raw(
            Some(&target("SignUp")),
            Some(CT),
            json!({"ClientId": 5, "Username": "x"}).to_string(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "SerializationException");
    assert!(
        body["message"].as_str().unwrap().contains("ClientId"),
        "{body}"
    );
}

#[tokio::test]
async fn missing_required_member_and_bad_pattern() {
    let server = Server::start().await;
    let (status, _, body) = server
        .raw(
            Some(&target("SignUp")),
            Some(CT),
            json!({"ClientId": "abc"}).to_string(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidParameterException");
    assert_eq!(
        body["message"],
        "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must not be null"
    );
    let (_, _, body) = server
        .raw(
            Some(&target("DescribeUserPool")),
            Some(CT),
            json!({"UserPoolId": "no-underscore"}).to_string(),
        )
        .await;
    // Admin operations check the signature class first.
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
}

#[tokio::test]
async fn unknown_and_missing_targets() {
    let server = Server::start().await;
    let (status, _, body) = server
        .raw(Some(&target("NoSuchOperation")), Some(CT), "{}")
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    let (status, _, body) = server
        .raw(Some("SomeOtherService.SignUp"), Some(CT), "{}")
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    let (status, _, body) = server.raw(None, Some(CT), "{}").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
}

#[tokio::test]
async fn wrong_content_type() {
    let server = Server::start().await;
    let (status, _, body) = server
        .raw(Some(&target("SignUp")), Some("text/plain"), "{}")
        .await;
    assert_eq!(status, 415);
    assert_eq!(body["__type"], "UnsupportedMediaTypeException");
}

#[tokio::test]
async fn oversize_body() {
    let server = Server::start().await;
    let big = format!("{{\"ClientId\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let (status, _, body) = server.raw(Some(&target("SignUp")), Some(CT), big).await;
    assert_eq!(status, 413);
    assert_eq!(body["__type"], "RequestEntityTooLargeException");
}

#[tokio::test]
async fn known_but_unimplemented_operation() {
    let server = Server::start().await;
    let (status, _, body) = server
        .raw(
            Some(&target("AssociateSoftwareToken")),
            Some(CT),
            json!({"Session": "x".repeat(20)}).to_string(),
        )
        .await;
    assert_eq!(status, 501);
    assert_eq!(body["__type"], "NotImplementedException");
    assert_eq!(
        body["message"],
        "Operation AssociateSoftwareToken is not implemented by Cognate."
    );
}

#[tokio::test]
async fn empty_body_counts_as_empty_object() {
    let server = Server::start().await;
    let (status, _, body) = server.raw(Some(&target("SignUp")), Some(CT), "").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidParameterException");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("2 validation errors detected: "),
        "{body}"
    );
}

#[tokio::test]
async fn admin_operations_need_a_signature_and_public_ones_do_not() {
    let server = Server::start().await;
    let (status, _, body) = server
        .raw(
            Some(&target("ListUserPools")),
            Some(CT),
            json!({"MaxResults": 5}).to_string(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    let (status, _, body) = server
        .raw(
            Some(&target("SignUp")),
            Some(CT),
            json!({"ClientId": "nosuch", "Username": "u", "Password": "Passw0rd!"}).to_string(),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["__type"], "ResourceNotFoundException",
        "unsigned SignUp reaches the handler"
    );
}

#[tokio::test]
async fn cors_preflight_for_browser_clients() {
    let server = Server::start().await;
    let resp = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, format!("{}/", server.url))
        .header("Origin", "http://localhost:3000")
        .header("Access-Control-Request-Method", "POST")
        .header(
            "Access-Control-Request-Headers",
            "content-type,x-amz-target,x-amz-user-agent",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for needed in [
        "content-type",
        "x-amz-target",
        "x-amz-user-agent",
        "cache-control",
    ] {
        assert!(allowed.contains(needed), "{allowed}");
    }
    // Without admin credentials no page may send a signed request, nor read an admin answer.
    assert!(!allowed.contains("authorization"), "{allowed}");
    assert!(!allowed.contains("x-amz-security-token"), "{allowed}");
    let (_, headers, _) = server.raw(Some(&target("SignUp")), Some(CT), "{}").await;
    assert_eq!(headers["access-control-allow-origin"], "*");
    let (_, headers, _) = server
        .raw(Some(&target("ListUserPools")), Some(CT), "{}")
        .await;
    assert!(headers.get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn an_unknown_target_is_not_echoed_whole() {
    let server = Server::start().await;
    let long = format!("AWSCognitoIdentityProviderService.{}", "X".repeat(5000));
    let (status, headers, body) = server.raw(Some(&long), Some(CT), "{}").await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "UnknownOperationException");
    let message = body["message"].as_str().unwrap();
    assert!(message.len() < 200, "{message}");
    assert!(message.ends_with("…."), "{message}");
    assert!(headers["x-amzn-errormessage"].len() < 200);
}

#[tokio::test]
async fn health_and_operations_listing() {
    let server = Server::start().await;
    let r = reqwest::get(format!("{}/health", server.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let table = cognate::app::operations_table(true);
    assert_eq!(table.lines().count(), 2 + 129);
    assert!(table.contains("| SignUp | no | yes |"));
    assert!(table.contains("| ForgotPassword | no | yes |"));
    assert!(table.contains("| CreateUserImportJob | yes | no |"));
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    assert!(readme.contains(&table), "README's operations table is out of date: run `cargo run -p cognate -- operations --markdown`");
}
