//! `validate_input`: Coral-format validation messages.

use cognate_wire::*;
use serde_json::{json, Value};

fn rejected(shape: ShapeId, body: &Value) -> ApiError {
    match validate_input(shape, body) {
        Ok(()) => panic!("{body} should be rejected"),
        Err(err) => err,
    }
}

fn invalid(shape: ShapeId, body: Value) -> String {
    let err = rejected(shape, &body);
    assert_eq!(err.kind, ErrorKind::InvalidParameterException, "{err}");
    err.message
}

fn serialization(shape: ShapeId, body: Value) -> String {
    let err = rejected(shape, &body);
    assert_eq!(err.kind, ErrorKind::SerializationException, "{err}");
    err.message
}

#[test]
fn valid_bodies_pass() {
    let body = json!({
        "ClientId": "4ohd5e3kkh0n0dlbvak0ns2ipm",
        "Username": "alice@example.com",
        "Password": "Corr3ct-Horse!",
        "UserAttributes": [{"Name": "email", "Value": "alice@example.com"}],
        "ClientMetadata": {"k": "v"},
        "Unknown": {"ignored": [1, 2]}
    });
    assert_eq!(validate_input(ShapeId::SignUpRequest, &body), Ok(()));
    assert_eq!(
        validate_input(ShapeId::ListUserPoolsRequest, &json!({"MaxResults": 60})),
        Ok(())
    );
}

#[test]
fn username_too_long() {
    let body = json!({"ClientId": "abc", "Username": "a".repeat(129)});
    assert_eq!(
        invalid(ShapeId::SignUpRequest, body),
        "1 validation error detected: Value at 'username' failed to satisfy constraint: \
         Member must have length less than or equal to 128"
    );
}

#[test]
fn length_counts_characters_not_bytes() {
    let ok = json!({"ClientId": "abc", "Username": "é".repeat(128)});
    assert_eq!(validate_input(ShapeId::SignUpRequest, &ok), Ok(()));
    let long = json!({"ClientId": "abc", "Username": "é".repeat(129)});
    assert!(invalid(ShapeId::SignUpRequest, long).ends_with("less than or equal to 128"));
}

#[test]
fn missing_required_members() {
    // Sensitive member: the value is not echoed, not even as null.
    assert_eq!(
        invalid(ShapeId::SignUpRequest, json!({"ClientId": "abc"})),
        "1 validation error detected: Value at 'username' failed to satisfy constraint: \
         Member must not be null"
    );
    // `null` counts as absent.
    assert_eq!(
        invalid(
            ShapeId::AdminConfirmSignUpRequest,
            json!({"UserPoolId": null, "Username": "bob"})
        ),
        "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: \
         Member must not be null"
    );
}

#[test]
fn several_errors_in_member_order() {
    // Blank confirmation code as captured from real Cognito
    // (ConfirmForgotPassword): pattern first, then length.
    let body = json!({"ClientId": "abc", "Username": "bob", "ConfirmationCode": "", "Password": "Passw0rd!"});
    assert_eq!(
        invalid(ShapeId::ConfirmForgotPasswordRequest, body),
        "2 validation errors detected: Value '' at 'confirmationCode' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: [\\S]+; Value '' at 'confirmationCode' \
         failed to satisfy constraint: Member must have length greater than or equal to 1"
    );

    let body = json!({"Username": "x".repeat(200), "ConfirmationCode": "12 34"});
    assert_eq!(
        invalid(ShapeId::ConfirmSignUpRequest, body),
        "3 validation errors detected: \
         Value at 'clientId' failed to satisfy constraint: Member must not be null; \
         Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128; \
         Value '12 34' at 'confirmationCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\S]+"
    );
}

#[test]
fn pattern_failures_echo_only_non_sensitive_values() {
    assert_eq!(
        invalid(
            ShapeId::AdminConfirmSignUpRequest,
            json!({"UserPoolId": "no-underscore", "Username": "bob"})
        ),
        "1 validation error detected: Value 'no-underscore' at 'userPoolId' failed to satisfy \
         constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+"
    );
    // ClientIdType is sensitive.
    assert_eq!(
        invalid(
            ShapeId::SignUpRequest,
            json!({"ClientId": "abc-def", "Username": "bob"})
        ),
        "1 validation error detected: Value at 'clientId' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: [\\w+]+"
    );
    // Java's \w is ASCII-only.
    let msg = invalid(
        ShapeId::AdminConfirmSignUpRequest,
        json!({"UserPoolId": "us-éast-1_abc", "Username": "bob"}),
    );
    assert!(
        msg.contains("Value 'us-éast-1_abc' at 'userPoolId'"),
        "{msg}"
    );
}

#[test]
fn enum_failure() {
    let body = json!({"UserPoolId": "us-east-1_abc", "Username": "bob", "MessageAction": "NOPE"});
    assert_eq!(
        invalid(ShapeId::AdminCreateUserRequest, body),
        "1 validation error detected: Value 'NOPE' at 'messageAction' failed to satisfy \
         constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]"
    );
}

#[test]
fn numeric_range() {
    let body = json!({"UserPoolId": "us-east-1_abc", "Limit": 61});
    assert_eq!(
        invalid(ShapeId::ListUsersRequest, body),
        "1 validation error detected: Value '61' at 'limit' failed to satisfy constraint: \
         Member must have value less than or equal to 60"
    );
}

#[test]
fn nested_structures_in_lists() {
    let body = json!({
        "ClientId": "abc",
        "Username": "bob",
        "UserAttributes": [{"Name": "email", "Value": "x"}, {"Value": "y"}, {"Name": ""}]
    });
    assert_eq!(
        invalid(ShapeId::SignUpRequest, body),
        "3 validation errors detected: \
         Value null at 'userAttributes.2.member.name' failed to satisfy constraint: Member must not be null; \
         Value '' at 'userAttributes.3.member.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\t\\n\\r ]+; \
         Value '' at 'userAttributes.3.member.name' failed to satisfy constraint: Member must have length greater than or equal to 1"
    );
}

#[test]
fn lists_of_scalars_use_the_bracketed_form() {
    let body = json!({"UserPoolId": "us-east-1_abc", "AttributesToGet": ["email", ""]});
    assert_eq!(
        invalid(ShapeId::ListUsersRequest, body),
        "1 validation error detected: Value '[email, ]' at 'attributesToGet' failed to satisfy \
         constraint: Member must satisfy constraint: [Member must have length less than or equal \
         to 32, Member must have length greater than or equal to 1, Member must satisfy regular \
         expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\t\\n\\r ]+]"
    );
}

#[test]
fn map_keys_use_the_bracketed_form() {
    let body = json!({"ResourceArn": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc", "Tags": {"": "v"}});
    assert_eq!(
        invalid(ShapeId::TagResourceRequest, body),
        "1 validation error detected: Value '{=v}' at 'tags' failed to satisfy constraint: \
         Map keys must satisfy constraint: [Member must have length less than or equal to 128, \
         Member must have length greater than or equal to 1]"
    );
}

#[test]
fn wrong_json_types_are_serialization_errors() {
    assert_eq!(
        serialization(
            ShapeId::SignUpRequest,
            json!({"ClientId": "abc", "Username": 5})
        ),
        "Unexpected JSON type for member 'Username': expected string"
    );
    assert_eq!(
        serialization(
            ShapeId::SignUpRequest,
            json!({"ClientId": "abc", "Username": "bob", "UserAttributes": "email"})
        ),
        "Unexpected JSON type for member 'UserAttributes': expected list"
    );
    assert_eq!(
        serialization(
            ShapeId::SignUpRequest,
            json!({"ClientId": "abc", "Username": "bob", "UserAttributes": [{"Name": ["email"]}]})
        ),
        "Unexpected JSON type for member 'UserAttributes[0].Name': expected string"
    );
    assert_eq!(
        serialization(
            ShapeId::ListUsersRequest,
            json!({"UserPoolId": "us-east-1_abc", "Limit": 1.5})
        ),
        "Unexpected JSON type for member 'Limit': expected integer"
    );
    assert_eq!(
        serialization(
            ShapeId::ConfirmSignUpRequest,
            json!({"ClientId": "abc", "Username": "bob", "ConfirmationCode": "1", "ForceAliasCreation": "true"})
        ),
        "Unexpected JSON type for member 'ForceAliasCreation': expected boolean"
    );
}

#[test]
fn body_must_be_an_object() {
    for body in [json!([]), json!("x"), json!(1), Value::Null] {
        let msg = serialization(ShapeId::SignUpRequest, body);
        assert!(msg.contains("JSON object"), "{msg}");
    }
}
