//! Generated metadata: operations, errors, shapes, enums and serde types.

use cognate_wire::*;
use serde_json::json;

#[test]
fn operation_counts_and_sigv4() {
    assert_eq!(Operation::ALL.len(), 129);
    let exempt: Vec<_> = Operation::ALL
        .iter()
        .filter(|op| !op.requires_sigv4())
        .collect();
    assert_eq!(exempt.len(), 32);
    for op in [
        Operation::SignUp,
        Operation::ConfirmSignUp,
        Operation::ResendConfirmationCode,
        Operation::InitiateAuth,
        Operation::ForgotPassword,
        Operation::RespondToAuthChallenge,
    ] {
        assert!(!op.requires_sigv4(), "{op} should be exempt");
    }
    for op in [
        Operation::CreateUserPool,
        Operation::AdminConfirmSignUp,
        Operation::AdminInitiateAuth,
        Operation::ListUsers,
    ] {
        assert!(op.requires_sigv4(), "{op} should need SigV4");
    }
}

#[test]
fn operation_names_round_trip() {
    for op in Operation::ALL {
        assert_eq!(Operation::from_name(op.name()), Some(*op));
        let target = format!("AWSCognitoIdentityProviderService.{}", op.name());
        assert_eq!(Operation::from_target(&target), Some(*op));
        assert!(op.input_shape().is_some(), "{op} has an input shape");
    }
    assert_eq!(Operation::SignUp.name(), "SignUp");
    assert_eq!(Operation::from_name("signUp"), None);
    assert_eq!(Operation::from_target("SignUp"), None);
    assert_eq!(Operation::from_target("Other.SignUp"), None);
    assert_eq!(
        Operation::from_target("AWSCognitoIdentityProviderServiceSignUp"),
        None
    );
    assert_eq!(
        Operation::SignUp.input_shape(),
        Some(ShapeId::SignUpRequest)
    );
    assert_eq!(
        Operation::SignUp.output_shape(),
        Some(ShapeId::SignUpResponse)
    );
    assert_eq!(Operation::AdminDeleteUser.output_shape(), None);
}

#[test]
fn operation_errors_follow_the_model() {
    let errors = Operation::SignUp.errors();
    assert!(errors.contains(&ErrorKind::UsernameExistsException));
    assert!(errors.contains(&ErrorKind::InvalidPasswordException));
    assert!(!errors.contains(&ErrorKind::UserNotFoundException));
    assert!(!errors.contains(&ErrorKind::NotImplementedException));
    // Model order.
    assert_eq!(errors.first(), Some(&ErrorKind::ResourceNotFoundException));
    assert!(Operation::ConfirmSignUp
        .errors()
        .contains(&ErrorKind::CodeMismatchException));
    for op in Operation::ALL {
        assert!(op.errors().iter().all(ErrorKind::is_modeled), "{op}");
    }
}

#[test]
fn error_kinds() {
    assert_eq!(ErrorKind::ALL.len(), 59 + 9);
    assert_eq!(ErrorKind::ALL.iter().filter(|k| k.is_modeled()).count(), 59);
    for kind in ErrorKind::ALL {
        assert_eq!(ErrorKind::from_name(kind.name()), Some(*kind));
        assert_eq!(kind.to_string(), kind.name());
    }
    assert_eq!(
        ErrorKind::InvalidParameterException.name(),
        "InvalidParameterException"
    );
    for (kind, status) in [
        (ErrorKind::InvalidParameterException, 400),
        (ErrorKind::NotAuthorizedException, 400),
        (ErrorKind::ResourceNotFoundException, 400),
        (ErrorKind::UserNotFoundException, 400),
        (ErrorKind::TooManyRequestsException, 400),
        (ErrorKind::SerializationException, 400),
        (ErrorKind::UnknownOperationException, 400),
        (ErrorKind::InvalidSignatureException, 400),
        (ErrorKind::RequestTimeoutException, 408),
        (ErrorKind::InternalErrorException, 500),
        (ErrorKind::InternalServerException, 500),
        (ErrorKind::RequestEntityTooLargeException, 413),
        (ErrorKind::UnsupportedMediaTypeException, 415),
        (ErrorKind::NotImplementedException, 501),
    ] {
        assert_eq!(kind.http_status(), status, "{kind}");
    }
    assert!(ErrorKind::InternalErrorException.is_fault());
    assert!(!ErrorKind::NotAuthorizedException.is_fault());
    assert!(!ErrorKind::NotImplementedException.is_modeled());
    assert_eq!(ErrorKind::from_name("Nope"), None);
}

#[test]
fn api_error() {
    let e = ApiError::not_implemented(Operation::AdminCreateUser);
    assert_eq!(e.kind, ErrorKind::NotImplementedException);
    assert_eq!(
        e.message,
        "Operation AdminCreateUser is not implemented by Cognate."
    );
    assert_eq!(e.http_status(), 501);
    assert_eq!(
        e.to_string(),
        "NotImplementedException: Operation AdminCreateUser is not implemented by Cognate."
    );
    assert_eq!(
        ApiError::new(
            ErrorKind::NotAuthorizedException,
            "Incorrect username or password."
        )
        .to_json(),
        json!({"__type": "NotAuthorizedException", "message": "Incorrect username or password."})
    );
}

#[test]
fn shape_table_is_consistent() {
    let ids: Vec<ShapeId> = ShapeId::all().collect();
    assert_eq!(ids.len(), 629);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(*id as usize, i);
        assert_eq!(id.meta().id, *id);
        assert_eq!(ShapeId::from_name(id.name()), Some(*id));
    }
    assert_eq!(ShapeId::from_name("NoSuchShape"), None);
    let username = ShapeId::UsernameType.meta();
    assert_eq!(username.kind, ShapeKind::String);
    assert_eq!((username.min, username.max), (Some(1), Some(128)));
    assert!(username.sensitive);
    assert_eq!(
        username.pattern().map(|p| p.java),
        Some(r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+")
    );
    assert!(!ShapeId::UserPoolIdType.meta().sensitive);
    let sign_up = ShapeId::SignUpRequest.meta();
    let names: Vec<_> = sign_up.members.iter().map(|m| m.name).collect();
    assert_eq!(
        names,
        [
            "ClientId",
            "SecretHash",
            "Username",
            "Password",
            "UserAttributes",
            "ValidationData",
            "AnalyticsMetadata",
            "UserContextData",
            "ClientMetadata"
        ]
    );
    let required: Vec<_> = sign_up
        .members
        .iter()
        .filter(|m| m.required)
        .map(|m| m.path_name)
        .collect();
    assert_eq!(required, ["clientId", "username"]);
    assert_eq!(
        ShapeId::MessageActionType.meta().enum_values,
        &["RESEND", "SUPPRESS"]
    );
}

#[test]
fn every_translated_pattern_compiles() {
    assert_eq!(PATTERNS.len(), PATTERN_COUNT);
    for p in PATTERNS.iter() {
        match p.rust {
            Some(src) => {
                assert!(
                    regex::Regex::new(&format!("^(?:{src})$")).is_ok(),
                    "{}",
                    p.java
                );
            }
            // Only look-around is beyond the regex crate here.
            None => assert!(p.java.contains("(?<"), "{}", p.java),
        }
    }
}

#[test]
fn enums() {
    assert_eq!(
        ExplicitAuthFlowsType::AllowUserSrpAuth.as_str(),
        "ALLOW_USER_SRP_AUTH"
    );
    assert_eq!(
        ExplicitAuthFlowsType::from_wire("ALLOW_USER_SRP_AUTH"),
        Some(ExplicitAuthFlowsType::AllowUserSrpAuth)
    );
    assert_eq!(
        ExplicitAuthFlowsType::from_wire("allow_user_srp_auth"),
        None
    );
    assert_eq!(UserStatusType::Unconfirmed.as_str(), "UNCONFIRMED");
    assert_eq!(VerifiedAttributeType::Email.as_str(), "email");
    assert_eq!(DeliveryMediumType::VALUES, &["SMS", "EMAIL"]);
    for (value, variant) in DeliveryMediumType::VALUES
        .iter()
        .zip(DeliveryMediumType::ALL)
    {
        assert_eq!(variant.as_str(), *value);
        assert_eq!(DeliveryMediumType::from_wire(value), Some(*variant));
    }
    assert_eq!(
        serde_json::to_value(UserStatusType::ForceChangePassword).unwrap(),
        json!("FORCE_CHANGE_PASSWORD")
    );
    assert_eq!(
        serde_json::from_value::<DeliveryMediumType>(json!("EMAIL")).unwrap(),
        DeliveryMediumType::Email
    );
    assert!(serde_json::from_value::<DeliveryMediumType>(json!("email")).is_err());
}

#[test]
fn sign_up_request_round_trip() {
    // As botocore sends it.
    let wire = json!({
        "ClientId": "4ohd5e3kkh0n0dlbvak0ns2ipm",
        "SecretHash": "q3Qd1QjzT6cE1qLkP0xVq4n9l0r3cV3X8w8d3oYk9xA=",
        "Username": "alice@example.com",
        "Password": "Corr3ct-Horse!",
        "UserAttributes": [
            {"Name": "email", "Value": "alice@example.com"},
            {"Name": "custom:team", "Value": "blue"}
        ],
        "ClientMetadata": {"source": "web"}
    });
    let req: SignUpRequest = serde_json::from_value(wire.clone()).unwrap();
    assert_eq!(req.client_id, "4ohd5e3kkh0n0dlbvak0ns2ipm");
    assert_eq!(req.username, "alice@example.com");
    assert_eq!(req.password.as_deref(), Some("Corr3ct-Horse!"));
    let attrs = req.user_attributes.as_ref().unwrap();
    assert_eq!(attrs.len(), 2);
    assert_eq!(attrs[1].name, "custom:team");
    assert_eq!(attrs[1].value.as_deref(), Some("blue"));
    assert_eq!(req.validation_data, None);
    assert_eq!(
        req.client_metadata
            .as_ref()
            .and_then(|m| m.get("source"))
            .map(String::as_str),
        Some("web")
    );
    // Absent members are not serialised; the rest comes back unchanged.
    assert_eq!(serde_json::to_value(&req).unwrap(), wire);

    // Unknown members are ignored.
    let mut extra = wire.clone();
    extra["Unknown"] = json!(1);
    assert_eq!(serde_json::from_value::<SignUpRequest>(extra).unwrap(), req);
}

#[test]
fn outputs_serialise_with_model_names() {
    let out = SignUpResponse {
        user_confirmed: false,
        code_delivery_details: Some(CodeDeliveryDetailsType {
            destination: Some("a***@e***".to_owned()),
            delivery_medium: Some(DeliveryMediumType::Email),
            attribute_name: Some("email".to_owned()),
        }),
        user_sub: "5f0c2c3e-0000-4000-8000-000000000000".to_owned(),
        session: None,
    };
    assert_eq!(
        serde_json::to_value(&out).unwrap(),
        json!({
            "UserConfirmed": false,
            "CodeDeliveryDetails": {
                "Destination": "a***@e***",
                "DeliveryMedium": "EMAIL",
                "AttributeName": "email"
            },
            "UserSub": "5f0c2c3e-0000-4000-8000-000000000000"
        })
    );
    // Structures whose members are all optional implement Default.
    assert_eq!(
        serde_json::to_value(UserType::default()).unwrap(),
        json!({})
    );
}

#[test]
fn debug_redacts_sensitive_members() {
    let req: SignUpRequest = serde_json::from_value(json!({
        "ClientId": "clientid123",
        "Username": "alice",
        "Password": "hunter2hunter2",
        "UserAttributes": [{"Name": "email", "Value": "alice@example.com"}]
    }))
    .unwrap();
    let debug = format!("{req:?}");
    assert!(debug.contains("*** Sensitive Data Redacted ***"));
    assert!(!debug.contains("hunter2hunter2"));
    assert!(!debug.contains("clientid123"));
    // AttributeType.Value is sensitive too; the attribute name is not.
    assert!(!debug.contains("alice@example.com"));
    assert!(debug.contains("email"));
    // Non-sensitive structures derive Debug.
    let details = CodeDeliveryDetailsType {
        destination: Some("a***".to_owned()),
        ..Default::default()
    };
    assert!(format!("{details:?}").contains("a***"));
}
