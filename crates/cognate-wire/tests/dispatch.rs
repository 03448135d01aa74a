//! `dispatch` + the `CognitoIdentityProvider` trait with default methods.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

use cognate_wire::*;
use serde_json::{json, Value};

/// Polls a future to completion on this thread (the test service never
/// waits on anything).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        std::thread::yield_now();
    }
}

#[derive(Default)]
struct TestService {
    sign_ups: AtomicUsize,
    deletes: AtomicUsize,
}

impl CognitoIdentityProvider for TestService {
    async fn sign_up(
        &self,
        ctx: &RequestContext,
        input: SignUpRequest,
    ) -> Result<SignUpResponse, ApiError> {
        self.sign_ups.fetch_add(1, Ordering::SeqCst);
        if input.username == "taken" {
            return Err(ApiError::new(
                ErrorKind::UsernameExistsException,
                "User already exists",
            ));
        }
        Ok(SignUpResponse {
            user_confirmed: false,
            code_delivery_details: None,
            user_sub: format!("{}:{}", ctx.request_id, input.username),
            session: None,
        })
    }

    async fn admin_delete_user(
        &self,
        _ctx: &RequestContext,
        input: AdminDeleteUserRequest,
    ) -> Result<(), ApiError> {
        assert_eq!(input.user_pool_id, "us-east-1_abc");
        self.deletes.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn call(svc: &TestService, op: Operation, body: Value) -> Result<Value, ApiError> {
    let ctx = RequestContext::new("req-1", op);
    block_on(dispatch(svc, &ctx, body))
}

#[test]
fn overridden_method_runs() {
    let svc = TestService::default();
    let out = call(
        &svc,
        Operation::SignUp,
        json!({"ClientId": "abc", "Username": "alice", "Password": "Passw0rd!"}),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"UserConfirmed": false, "UserSub": "req-1:alice"})
    );
    assert_eq!(svc.sign_ups.load(Ordering::SeqCst), 1);

    let err = call(
        &svc,
        Operation::SignUp,
        json!({"ClientId": "abc", "Username": "taken"}),
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::UsernameExistsException);
    assert_eq!(svc.sign_ups.load(Ordering::SeqCst), 2);
}

#[test]
fn unit_output_is_an_empty_object() {
    let svc = TestService::default();
    let out = call(
        &svc,
        Operation::AdminDeleteUser,
        json!({"UserPoolId": "us-east-1_abc", "Username": "bob"}),
    )
    .unwrap();
    assert_eq!(out, json!({}));
    assert_eq!(svc.deletes.load(Ordering::SeqCst), 1);
}

#[test]
fn default_methods_are_not_implemented() {
    let svc = TestService::default();
    let err = call(&svc, Operation::ListUserPools, json!({"MaxResults": 10})).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotImplementedException);
    assert_eq!(
        err.message,
        "Operation ListUserPools is not implemented by Cognate."
    );
    assert_eq!(err.http_status(), 501);
    // A null body is an empty input; validation still runs first.
    let err = call(&svc, Operation::ListUserPools, Value::Null).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidParameterException);
    assert_eq!(
        err.message,
        "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: \
         Member must not be null"
    );
}

#[test]
fn validation_runs_before_the_handler() {
    let svc = TestService::default();
    let err = call(
        &svc,
        Operation::SignUp,
        json!({"ClientId": "abc", "Username": ""}),
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidParameterException);
    assert!(
        err.message.starts_with("2 validation errors detected: "),
        "{}",
        err.message
    );

    let err = call(
        &svc,
        Operation::SignUp,
        json!({"ClientId": 1, "Username": "a"}),
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::SerializationException);

    let err = call(&svc, Operation::SignUp, json!(["not", "an", "object"])).unwrap_err();
    assert_eq!(err.kind, ErrorKind::SerializationException);

    assert_eq!(svc.sign_ups.load(Ordering::SeqCst), 0);
}

#[test]
fn dispatch_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let svc = TestService::default();
    let ctx = RequestContext::new("req-2", Operation::SignUp);
    let fut = dispatch(&svc, &ctx, json!({}));
    assert_send(&fut);
    let err = block_on(fut).unwrap_err();
    assert_eq!(err.kind, ErrorKind::InvalidParameterException);
}
