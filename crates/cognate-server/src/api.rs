//! The Cognito API over the domain: `Api` implements the generated `CognitoIdentityProvider`
//! trait, translating each operation's wire input into a domain call and the domain's answer
//! back into the wire output. Every implemented operation is registered once, in the
//! `operations!` table below, with the error kinds it may answer; `IMPLEMENTED`, the README
//! table and `cognate operations` all come from that table.

use std::sync::Arc;

use cognate_core::delivery::Medium;
use cognate_core::records::{
    AuthEventRecord, GroupRecord, ResourceServerRecord, ScopeRecord, UserRecord,
};
use cognate_core::service::{
    attribute_map, visible_attributes, AdminCreateUserInput, AuthFlow, AuthTokens, CodeDelivery,
    ConfirmForgotPasswordInput, ConfirmSignUpInput, DomainDescription, DomainInput,
    ForgotPasswordInput, GroupInput, InitiateAuthInput, MessageAction, ResourceServerInput,
    RespondInput, SignInStep, SignUpInput,
};
use cognate_core::{Caller, DomainError, Service};
use cognate_wire::*;

use crate::errors;

/// The domain service as the wire sees it.
#[derive(Clone)]
pub struct Api {
    service: Arc<Service>,
}

impl Api {
    pub fn new(service: Arc<Service>) -> Self {
        Api { service }
    }

    pub fn service(&self) -> &Service {
        &self.service
    }
}

/// One row per implemented operation: the trait method (with the wire types of its input and
/// output), the error kinds it may answer besides `InternalErrorException`, and its body. The
/// macro emits the trait implementation and `REGISTERED` (each method's name and errors).
macro_rules! operations {
    ($(
        fn $method:ident(&$self:ident, $ctx:ident, $input:ident: $in_ty:ty) -> $out_ty:ty;
            errors [$($err:ident),* $(,)?]
        $body:block
    )*) => {
        impl CognitoIdentityProvider for Api {
            $(
                async fn $method(
                    &$self,
                    $ctx: &RequestContext,
                    $input: $in_ty,
                ) -> Result<$out_ty, ApiError> {
                    let answer: Result<$out_ty, DomainError> = async { $body }.await;
                    answer.map_err(|e| wire_error($ctx, e))
                }
            )*
        }

        /// Each registered method's name and the error kinds it declares.
        pub const REGISTERED: &[(&str, &[ErrorKind])] = &[
            $((stringify!($method), &[$(ErrorKind::$err),*]),)*
        ];
    };
}

/// The wire error for a domain failure of this request's operation. An error kind that the
/// operation does not declare becomes `InternalErrorException` (and an error in the log), so
/// the wire never carries an error the model does not list for the operation.
fn wire_error(ctx: &RequestContext, e: DomainError) -> ApiError {
    let wire = errors::to_wire(e, &ctx.request_id);
    if wire.kind == ErrorKind::InternalErrorException
        || declared_errors(ctx.operation).contains(&wire.kind)
    {
        wire
    } else {
        errors::protocol::unmodelled(ctx.operation, wire.kind, &ctx.request_id)
    }
}

/// The error kinds an implemented operation declares (empty for the others).
pub fn declared_errors(op: Operation) -> &'static [ErrorKind] {
    REGISTERED
        .iter()
        .find(|(method, _)| *method == op.method_name())
        .map(|(_, errors)| *errors)
        .unwrap_or(&[])
}

/// The operations this build implements, in model order (the rest answer
/// `NotImplementedException` through the trait's defaults).
pub fn implemented() -> Vec<Operation> {
    Operation::ALL
        .iter()
        .copied()
        .filter(|op| REGISTERED.iter().any(|(m, _)| *m == op.method_name()))
        .collect()
}

fn caller(
    ctx: &RequestContext,
    context_data: Option<UserContextDataType>,
    analytics: Option<AnalyticsMetadataType>,
) -> Caller {
    let (ip_address, encoded_data) = context_data
        .map(|c| (c.ip_address, c.encoded_data))
        .unwrap_or_default();
    Caller {
        ip_address,
        encoded_data,
        analytics_endpoint_id: analytics.and_then(|a| a.analytics_endpoint_id),
        ..plain_caller(ctx)
    }
}

/// The caller as the request itself tells (no context data or analytics).
pub fn plain_caller(ctx: &RequestContext) -> Caller {
    Caller {
        request_id: ctx.request_id.clone(),
        source_ip: ctx.source_ip.clone(),
        user_agent: ctx.user_agent.clone(),
        started: Some(std::time::Instant::now()),
        ..Caller::default()
    }
}

fn attributes(list: Option<Vec<AttributeType>>) -> std::collections::BTreeMap<String, String> {
    attribute_map(
        list.unwrap_or_default()
            .into_iter()
            .map(|a| (a.name, a.value.unwrap_or_default())),
    )
}

fn delivery_details(d: CodeDelivery) -> CodeDeliveryDetailsType {
    CodeDeliveryDetailsType {
        destination: Some(d.destination),
        delivery_medium: DeliveryMediumType::from_wire(d.medium.as_str()),
        attribute_name: Some(d.attribute.to_string()),
    }
}

fn attribute_types(user: &UserRecord, only: Option<&[String]>) -> Vec<AttributeType> {
    visible_attributes(user, only)
        .into_iter()
        .map(|(name, value)| AttributeType {
            name,
            value: Some(value),
        })
        .collect()
}

fn user_status(user: &UserRecord) -> Option<UserStatusType> {
    UserStatusType::from_wire(user.status.as_str())
}

fn user_type(user: &UserRecord, only: Option<&[String]>) -> UserType {
    UserType {
        username: Some(user.username.clone()),
        attributes: Some(attribute_types(user, only)),
        user_create_date: Some(user.created_at as f64),
        user_last_modified_date: Some(user.updated_at as f64),
        enabled: Some(user.enabled),
        user_status: user_status(user),
        mfa_options: None,
    }
}

fn group_input(
    pool_id: String,
    name: String,
    description: Option<String>,
    role_arn: Option<String>,
    precedence: Option<i32>,
) -> GroupInput {
    GroupInput {
        pool_id,
        name,
        description,
        role_arn,
        precedence: precedence.map(i64::from),
    }
}

/// An event as AdminListUserAuthEvents shows it (Cognate scores no risk: `NoRisk`, `Low`).
fn auth_event_type(e: AuthEventRecord) -> AuthEventType {
    let ev = e.event;
    AuthEventType {
        event_id: Some(ev.event_id),
        event_type: EventType::from_wire(&ev.event_type),
        creation_date: Some(ev.created_at as f64),
        event_response: EventResponseType::from_wire(&ev.outcome),
        event_risk: Some(EventRiskType {
            risk_decision: Some(RiskDecisionType::NoRisk),
            risk_level: Some(RiskLevelType::Low),
            compromised_credentials_detected: Some(false),
        }),
        challenge_responses: Some(Vec::new()),
        event_context_data: Some(EventContextDataType {
            ip_address: ev.ip_address,
            device_name: ev.device_name,
            ..Default::default()
        }),
        event_feedback: e.feedback_value.map(|value| EventFeedbackType {
            feedback_value: FeedbackValueType::from_wire(&value)
                .unwrap_or(FeedbackValueType::Valid),
            provider: e.feedback_provider.unwrap_or_default(),
            feedback_date: e.feedback_at.map(|t| t as f64),
        }),
    }
}

fn domain_input(
    pool_id: String,
    domain: String,
    managed_login_version: Option<i32>,
    custom: Option<CustomDomainConfigType>,
) -> DomainInput {
    let (certificate_arn, security_policy) = custom
        .map(|c| {
            (
                Some(c.certificate_arn),
                c.security_policy.map(|p| p.as_str().to_string()),
            )
        })
        .unwrap_or_default();
    DomainInput {
        pool_id,
        domain,
        managed_login_version,
        certificate_arn,
        security_policy,
    }
}

fn custom_domain_config(d: &DomainDescription) -> Option<CustomDomainConfigType> {
    d.record
        .certificate_arn
        .clone()
        .map(|certificate_arn| CustomDomainConfigType {
            certificate_arn,
            security_policy: d
                .record
                .security_policy
                .as_deref()
                .and_then(SecurityPolicyType::from_wire),
        })
}

fn managed_login_version(d: &DomainDescription) -> Option<i32> {
    i32::try_from(d.record.managed_login_version).ok()
}

/// What Create/UpdateUserPoolDomain answer: the managed-login version, and the CloudFront
/// host only for a custom domain (spec vii.1).
fn domain_answer(d: &DomainDescription) -> (Option<i32>, Option<String>) {
    (
        managed_login_version(d),
        d.record
            .is_custom()
            .then(|| d.cloudfront_distribution.clone()),
    )
}

fn domain_description(d: DomainDescription) -> DomainDescriptionType {
    DomainDescriptionType {
        custom_domain_config: custom_domain_config(&d),
        managed_login_version: managed_login_version(&d),
        user_pool_id: Some(d.record.pool_id),
        aws_account_id: Some(d.account_id),
        domain: Some(d.record.domain),
        cloud_front_distribution: Some(d.cloudfront_distribution),
        version: Some(d.version),
        status: Some(DomainStatusType::Active),
        ..Default::default()
    }
}

fn resource_server_input(
    pool_id: String,
    identifier: String,
    name: String,
    scopes: Option<Vec<ResourceServerScopeType>>,
) -> ResourceServerInput {
    ResourceServerInput {
        pool_id,
        identifier,
        name,
        scopes: scopes
            .unwrap_or_default()
            .into_iter()
            .map(|s| ScopeRecord {
                name: s.scope_name,
                description: s.scope_description,
            })
            .collect(),
    }
}

fn resource_server_type(s: ResourceServerRecord) -> ResourceServerType {
    ResourceServerType {
        user_pool_id: Some(s.pool_id),
        identifier: Some(s.identifier),
        name: Some(s.name),
        scopes: Some(
            s.scopes
                .into_iter()
                .map(|s| ResourceServerScopeType {
                    scope_name: s.name,
                    scope_description: s.description,
                })
                .collect(),
        ),
    }
}

fn group_type(g: GroupRecord) -> GroupType {
    GroupType {
        group_name: Some(g.name),
        user_pool_id: Some(g.pool_id),
        description: g.description,
        role_arn: g.role_arn,
        precedence: g.precedence.and_then(|p| i32::try_from(p).ok()),
        last_modified_date: Some(g.updated_at as f64),
        creation_date: Some(g.created_at as f64),
    }
}

fn authentication_result(tokens: AuthTokens) -> AuthenticationResultType {
    AuthenticationResultType {
        access_token: Some(tokens.access_token),
        expires_in: Some(i32::try_from(tokens.expires_in).unwrap_or(i32::MAX)),
        token_type: Some("Bearer".to_string()),
        refresh_token: tokens.refresh_token,
        id_token: Some(tokens.id_token),
        new_device_metadata: None,
    }
}

/// A sign-in step's answer: `(ChallengeName, Session, ChallengeParameters,
/// AuthenticationResult)`. Token answers carry an empty ChallengeParameters beside the
/// result, as real ones do (spec i.1).
type StepAnswer = (
    Option<ChallengeNameType>,
    Option<String>,
    Option<std::collections::BTreeMap<String, String>>,
    Option<AuthenticationResultType>,
    Option<Vec<ChallengeNameType>>,
);

fn step_answer(step: SignInStep) -> StepAnswer {
    match step {
        SignInStep::Tokens(tokens) => (
            None,
            None,
            Some(Default::default()),
            Some(authentication_result(tokens)),
            None,
        ),
        SignInStep::Challenge(c) => (
            ChallengeNameType::from_wire(c.name),
            c.session,
            Some(c.parameters),
            None,
            (!c.available.is_empty()).then(|| {
                c.available
                    .iter()
                    .filter_map(|name| ChallengeNameType::from_wire(name))
                    .collect()
            }),
        ),
    }
}

/// The domain's flow for a wire `AuthFlow` (the model's enum and the domain's match one to one,
/// legacy names folded).
fn auth_flow(flow: AuthFlowType) -> Result<AuthFlow, DomainError> {
    AuthFlow::parse(flow.as_str()).ok_or(DomainError::InitiateAuthMethodNotSupported)
}

operations! {
    fn create_user_pool(&self, _ctx, input: CreateUserPoolRequest) -> CreateUserPoolResponse;
        errors [InvalidParameterException]
    {
        let pool = self.service.create_user_pool(input).await?;
        Ok(CreateUserPoolResponse { user_pool: Some(pool) })
    }

    fn describe_user_pool(&self, _ctx, input: DescribeUserPoolRequest) -> DescribeUserPoolResponse;
        errors [ResourceNotFoundException]
    {
        let pool = self.service.describe_user_pool(&input.user_pool_id).await?;
        Ok(DescribeUserPoolResponse { user_pool: Some(pool) })
    }

    fn update_user_pool(&self, _ctx, input: UpdateUserPoolRequest) -> UpdateUserPoolResponse;
        errors [ResourceNotFoundException, InvalidParameterException]
    {
        self.service.update_user_pool(input).await?;
        Ok(UpdateUserPoolResponse::default())
    }

    fn delete_user_pool(&self, _ctx, input: DeleteUserPoolRequest) -> ();
        errors [ResourceNotFoundException, InvalidParameterException]
    {
        self.service.delete_user_pool(&input.user_pool_id).await
    }

    fn list_user_pools(&self, _ctx, input: ListUserPoolsRequest) -> ListUserPoolsResponse;
        errors [InvalidParameterException]
    {
        let (pools, next) = self
            .service
            .list_user_pools(input.max_results, input.next_token.as_deref())
            .await?;
        Ok(ListUserPoolsResponse { user_pools: Some(pools), next_token: next })
    }

    fn create_user_pool_client(&self, _ctx, input: CreateUserPoolClientRequest) -> CreateUserPoolClientResponse;
        errors [InvalidParameterException, ResourceNotFoundException, ScopeDoesNotExistException, InvalidOAuthFlowException]
    {
        let client = self.service.create_user_pool_client(input).await?;
        Ok(CreateUserPoolClientResponse { user_pool_client: Some(client) })
    }

    fn describe_user_pool_client(&self, _ctx, input: DescribeUserPoolClientRequest) -> DescribeUserPoolClientResponse;
        errors [ResourceNotFoundException]
    {
        let client = self
            .service
            .describe_user_pool_client(&input.user_pool_id, &input.client_id)
            .await?;
        Ok(DescribeUserPoolClientResponse { user_pool_client: Some(client) })
    }

    fn update_user_pool_client(&self, _ctx, input: UpdateUserPoolClientRequest) -> UpdateUserPoolClientResponse;
        errors [ResourceNotFoundException, InvalidParameterException, ScopeDoesNotExistException, InvalidOAuthFlowException]
    {
        let client = self.service.update_user_pool_client(input).await?;
        Ok(UpdateUserPoolClientResponse { user_pool_client: Some(client) })
    }

    fn delete_user_pool_client(&self, _ctx, input: DeleteUserPoolClientRequest) -> ();
        errors [ResourceNotFoundException]
    {
        self.service
            .delete_user_pool_client(&input.user_pool_id, &input.client_id)
            .await
    }

    fn list_user_pool_clients(&self, _ctx, input: ListUserPoolClientsRequest) -> ListUserPoolClientsResponse;
        errors [InvalidParameterException, ResourceNotFoundException]
    {
        let (clients, next) = self
            .service
            .list_user_pool_clients(&input.user_pool_id, input.max_results, input.next_token.as_deref())
            .await?;
        Ok(ListUserPoolClientsResponse { user_pool_clients: Some(clients), next_token: next })
    }

    fn sign_up(&self, ctx, input: SignUpRequest) -> SignUpResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            InvalidPasswordException, UsernameExistsException, CodeDeliveryFailureException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        let caller = caller(ctx, input.user_context_data, input.analytics_metadata);
        let out = self
            .service
            .sign_up(
                &caller,
                SignUpInput {
                    client_id: input.client_id,
                    secret_hash: input.secret_hash,
                    username: input.username,
                    password: input.password,
                    attributes: attributes(input.user_attributes),
                    validation_data: input.validation_data.map(|v| attributes(Some(v))),
                    client_metadata: input.client_metadata,
                },
            )
            .await?;
        Ok(SignUpResponse {
            user_confirmed: out.confirmed,
            user_sub: out.sub,
            code_delivery_details: out.delivery.map(delivery_details),
            session: None,
        })
    }

    fn confirm_sign_up(&self, ctx, input: ConfirmSignUpRequest) -> ConfirmSignUpResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            CodeMismatchException, ExpiredCodeException, AliasExistsException,
            LimitExceededException, UserNotFoundException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        let caller = caller(ctx, input.user_context_data, input.analytics_metadata);
        self.service
            .confirm_sign_up(
                &caller,
                ConfirmSignUpInput {
                    client_id: input.client_id,
                    secret_hash: input.secret_hash,
                    username: input.username,
                    code: input.confirmation_code,
                    force_alias: input.force_alias_creation.unwrap_or(false),
                    client_metadata: input.client_metadata,
                },
            )
            .await?;
        Ok(ConfirmSignUpResponse::default())
    }

    fn resend_confirmation_code(&self, ctx, input: ResendConfirmationCodeRequest) -> ResendConfirmationCodeResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            LimitExceededException, CodeDeliveryFailureException, UserNotFoundException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        let caller = caller(ctx, input.user_context_data, input.analytics_metadata);
        let details = self
            .service
            .resend_confirmation_code(
                &caller,
                &input.client_id,
                input.secret_hash.as_deref(),
                &input.username,
                input.client_metadata.as_ref(),
            )
            .await?;
        Ok(ResendConfirmationCodeResponse { code_delivery_details: Some(delivery_details(details)) })
    }

    fn admin_confirm_sign_up(&self, ctx, input: AdminConfirmSignUpRequest) -> AdminConfirmSignUpResponse;
        errors [
            ResourceNotFoundException, NotAuthorizedException, UserNotFoundException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        self.service
            .admin_confirm_sign_up(
                &plain_caller(ctx),
                &input.user_pool_id,
                &input.username,
                input.client_metadata.as_ref(),
            )
            .await?;
        Ok(AdminConfirmSignUpResponse::default())
    }

    fn admin_get_user(&self, _ctx, input: AdminGetUserRequest) -> AdminGetUserResponse;
        errors [ResourceNotFoundException, UserNotFoundException]
    {
        let user = self
            .service
            .admin_get_user(&input.user_pool_id, &input.username)
            .await?;
        Ok(AdminGetUserResponse {
            username: user.username.clone(),
            user_attributes: Some(attribute_types(&user, None)),
            user_create_date: Some(user.created_at as f64),
            user_last_modified_date: Some(user.updated_at as f64),
            enabled: Some(user.enabled),
            user_status: user_status(&user),
            mfa_options: None,
            preferred_mfa_setting: None,
            user_mfa_setting_list: None,
        })
    }

    fn admin_delete_user(&self, _ctx, input: AdminDeleteUserRequest) -> ();
        errors [ResourceNotFoundException, UserNotFoundException]
    {
        self.service
            .admin_delete_user(&input.user_pool_id, &input.username)
            .await
    }

    fn initiate_auth(&self, ctx, input: InitiateAuthRequest) -> InitiateAuthResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            PasswordResetRequiredException, UserNotFoundException, UserNotConfirmedException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
            InvalidUserPoolConfigurationException,
        ]
    {
        let caller = caller(ctx, input.user_context_data, input.analytics_metadata);
        let step = self
            .service
            .initiate_auth(
                &caller,
                InitiateAuthInput {
                    admin_pool_id: None,
                    client_id: input.client_id,
                    flow: auth_flow(input.auth_flow)?,
                    parameters: input.auth_parameters.unwrap_or_default(),
                    client_metadata: input.client_metadata,
                },
            )
            .await?;
        let (challenge_name, session, challenge_parameters, authentication_result, available) =
            step_answer(step);
        Ok(InitiateAuthResponse {
            challenge_name,
            session,
            challenge_parameters,
            authentication_result,
            available_challenges: available,
        })
    }

    fn admin_initiate_auth(&self, ctx, input: AdminInitiateAuthRequest) -> AdminInitiateAuthResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            PasswordResetRequiredException, UserNotFoundException, UserNotConfirmedException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
            InvalidUserPoolConfigurationException,
        ]
    {
        let step = self
            .service
            .initiate_auth(
                &plain_caller(ctx),
                InitiateAuthInput {
                    admin_pool_id: Some(input.user_pool_id),
                    client_id: input.client_id,
                    flow: auth_flow(input.auth_flow)?,
                    parameters: input.auth_parameters.unwrap_or_default(),
                    client_metadata: input.client_metadata,
                },
            )
            .await?;
        let (challenge_name, session, challenge_parameters, authentication_result, available) =
            step_answer(step);
        Ok(AdminInitiateAuthResponse {
            challenge_name,
            session,
            challenge_parameters,
            authentication_result,
            available_challenges: available,
        })
    }

    fn respond_to_auth_challenge(&self, ctx, input: RespondToAuthChallengeRequest) -> RespondToAuthChallengeResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            PasswordResetRequiredException, UserNotFoundException, UserNotConfirmedException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
            InvalidUserPoolConfigurationException,
            InvalidPasswordException, PasswordHistoryPolicyViolationException,
        ]
    {
        let caller = caller(ctx, input.user_context_data, input.analytics_metadata);
        let step = self
            .service
            .respond_to_auth_challenge(
                &caller,
                RespondInput {
                    admin_pool_id: None,
                    client_id: input.client_id,
                    challenge: input.challenge_name.as_str().to_string(),
                    session: input.session,
                    responses: input.challenge_responses.unwrap_or_default(),
                    client_metadata: input.client_metadata,
                },
            )
            .await?;
        let (challenge_name, session, challenge_parameters, authentication_result, _) =
            step_answer(step);
        Ok(RespondToAuthChallengeResponse {
            challenge_name,
            session,
            challenge_parameters,
            authentication_result,
        })
    }

    fn admin_respond_to_auth_challenge(&self, ctx, input: AdminRespondToAuthChallengeRequest) -> AdminRespondToAuthChallengeResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            PasswordResetRequiredException, UserNotFoundException, UserNotConfirmedException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
            InvalidUserPoolConfigurationException,
            InvalidPasswordException, PasswordHistoryPolicyViolationException,
        ]
    {
        let step = self
            .service
            .respond_to_auth_challenge(
                &plain_caller(ctx),
                RespondInput {
                    admin_pool_id: Some(input.user_pool_id),
                    client_id: input.client_id,
                    challenge: input.challenge_name.as_str().to_string(),
                    session: input.session,
                    responses: input.challenge_responses.unwrap_or_default(),
                    client_metadata: input.client_metadata,
                },
            )
            .await?;
        let (challenge_name, session, challenge_parameters, authentication_result, _) =
            step_answer(step);
        Ok(AdminRespondToAuthChallengeResponse {
            challenge_name,
            session,
            challenge_parameters,
            authentication_result,
        })
    }

    fn get_user(&self, _ctx, input: GetUserRequest) -> GetUserResponse;
        errors [NotAuthorizedException, UserNotFoundException]
    {
        let (user, attributes) = self.service.get_user(&input.access_token).await?;
        Ok(GetUserResponse {
            username: user.username,
            user_attributes: attributes
                .into_iter()
                .map(|(name, value)| AttributeType { name, value: Some(value) })
                .collect(),
            mfa_options: None,
            preferred_mfa_setting: None,
            user_mfa_setting_list: None,
        })
    }

    fn get_tokens_from_refresh_token(&self, ctx, input: GetTokensFromRefreshTokenRequest) -> GetTokensFromRefreshTokenResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            UserNotFoundException, RefreshTokenReuseException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        let tokens = self
            .service
            .get_tokens_from_refresh_token(
                &plain_caller(ctx),
                &input.refresh_token,
                &input.client_id,
                input.client_secret.as_deref(),
                input.client_metadata.as_ref(),
            )
            .await?;
        Ok(GetTokensFromRefreshTokenResponse {
            authentication_result: Some(authentication_result(tokens)),
        })
    }

    fn change_password(&self, ctx, input: ChangePasswordRequest) -> ChangePasswordResponse;
        errors [
            InvalidParameterException, InvalidPasswordException, NotAuthorizedException,
            UserNotFoundException, PasswordHistoryPolicyViolationException, LimitExceededException,
        ]
    {
        self.service
            .change_password(
                &plain_caller(ctx),
                &input.access_token,
                input.previous_password.as_deref(),
                &input.proposed_password,
            )
            .await?;
        Ok(ChangePasswordResponse::default())
    }

    fn delete_user(&self, _ctx, input: DeleteUserRequest) -> ();
        errors [NotAuthorizedException, UserNotFoundException]
    {
        self.service.delete_user(&input.access_token).await
    }

    fn admin_set_user_password(&self, _ctx, input: AdminSetUserPasswordRequest) -> AdminSetUserPasswordResponse;
        errors [
            ResourceNotFoundException, UserNotFoundException, InvalidParameterException,
            InvalidPasswordException, PasswordHistoryPolicyViolationException,
        ]
    {
        self.service
            .admin_set_user_password(
                &input.user_pool_id,
                &input.username,
                &input.password,
                input.permanent.unwrap_or(false),
            )
            .await?;
        Ok(AdminSetUserPasswordResponse::default())
    }

    fn forgot_password(&self, ctx, input: ForgotPasswordRequest) -> ForgotPasswordResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            LimitExceededException, CodeDeliveryFailureException, UserNotFoundException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        let caller = caller(ctx, input.user_context_data, input.analytics_metadata);
        let details = self
            .service
            .forgot_password(
                &caller,
                ForgotPasswordInput {
                    client_id: input.client_id,
                    secret_hash: input.secret_hash,
                    username: input.username,
                    client_metadata: input.client_metadata,
                },
            )
            .await?;
        Ok(ForgotPasswordResponse { code_delivery_details: Some(delivery_details(details)) })
    }

    fn confirm_forgot_password(&self, ctx, input: ConfirmForgotPasswordRequest) -> ConfirmForgotPasswordResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, InvalidPasswordException,
            PasswordHistoryPolicyViolationException, NotAuthorizedException,
            CodeMismatchException, ExpiredCodeException, LimitExceededException,
            UserNotFoundException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        let caller = caller(ctx, input.user_context_data, input.analytics_metadata);
        self.service
            .confirm_forgot_password(
                &caller,
                ConfirmForgotPasswordInput {
                    client_id: input.client_id,
                    secret_hash: input.secret_hash,
                    username: input.username,
                    code: input.confirmation_code,
                    password: input.password,
                    client_metadata: input.client_metadata,
                },
            )
            .await?;
        Ok(ConfirmForgotPasswordResponse::default())
    }

    fn admin_reset_user_password(&self, ctx, input: AdminResetUserPasswordRequest) -> AdminResetUserPasswordResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            UserNotFoundException, LimitExceededException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        self.service
            .admin_reset_user_password(
                &plain_caller(ctx),
                &input.user_pool_id,
                &input.username,
                input.client_metadata.as_ref(),
            )
            .await?;
        Ok(AdminResetUserPasswordResponse::default())
    }

    fn update_user_attributes(&self, ctx, input: UpdateUserAttributesRequest) -> UpdateUserAttributesResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            AliasExistsException, CodeDeliveryFailureException, UserNotFoundException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        let deliveries = self
            .service
            .update_user_attributes(
                &plain_caller(ctx),
                &input.access_token,
                attributes(Some(input.user_attributes)),
                input.client_metadata.as_ref(),
            )
            .await?;
        Ok(UpdateUserAttributesResponse {
            code_delivery_details_list: (!deliveries.is_empty())
                .then(|| deliveries.into_iter().map(delivery_details).collect()),
        })
    }

    fn admin_update_user_attributes(&self, ctx, input: AdminUpdateUserAttributesRequest) -> AdminUpdateUserAttributesResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            AliasExistsException, UserNotFoundException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        self.service
            .admin_update_user_attributes(
                &plain_caller(ctx),
                &input.user_pool_id,
                &input.username,
                attributes(Some(input.user_attributes)),
                input.client_metadata.as_ref(),
            )
            .await?;
        Ok(AdminUpdateUserAttributesResponse::default())
    }

    fn delete_user_attributes(&self, ctx, input: DeleteUserAttributesRequest) -> DeleteUserAttributesResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            UserNotFoundException,
        ]
    {
        self.service
            .delete_user_attributes(&plain_caller(ctx), &input.access_token, input.user_attribute_names)
            .await?;
        Ok(DeleteUserAttributesResponse::default())
    }

    fn admin_delete_user_attributes(&self, ctx, input: AdminDeleteUserAttributesRequest) -> AdminDeleteUserAttributesResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            UserNotFoundException,
        ]
    {
        self.service
            .admin_delete_user_attributes(
                &plain_caller(ctx),
                &input.user_pool_id,
                &input.username,
                input.user_attribute_names,
            )
            .await?;
        Ok(AdminDeleteUserAttributesResponse::default())
    }

    fn get_user_attribute_verification_code(&self, ctx, input: GetUserAttributeVerificationCodeRequest) -> GetUserAttributeVerificationCodeResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, NotAuthorizedException,
            CodeDeliveryFailureException, LimitExceededException, UserNotFoundException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        let details = self
            .service
            .get_user_attribute_verification_code(
                &plain_caller(ctx),
                &input.access_token,
                &input.attribute_name,
                input.client_metadata.as_ref(),
            )
            .await?;
        Ok(GetUserAttributeVerificationCodeResponse {
            code_delivery_details: Some(delivery_details(details)),
        })
    }

    fn verify_user_attribute(&self, _ctx, input: VerifyUserAttributeRequest) -> VerifyUserAttributeResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, CodeMismatchException,
            ExpiredCodeException, NotAuthorizedException, LimitExceededException,
            UserNotFoundException, AliasExistsException,
        ]
    {
        self.service
            .verify_user_attribute(&input.access_token, &input.attribute_name, &input.code)
            .await?;
        Ok(VerifyUserAttributeResponse::default())
    }

    fn admin_create_user(&self, ctx, input: AdminCreateUserRequest) -> AdminCreateUserResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, UserNotFoundException,
            UsernameExistsException, InvalidPasswordException, CodeDeliveryFailureException,
            UnsupportedUserStateException,
            UnexpectedLambdaException, UserLambdaValidationException, InvalidLambdaResponseException,
        ]
    {
        let mediums = input
            .desired_delivery_mediums
            .unwrap_or_default()
            .into_iter()
            .map(|m| match m {
                DeliveryMediumType::Email => Medium::Email,
                DeliveryMediumType::Sms => Medium::Sms,
            })
            .collect();
        let user = self
            .service
            .admin_create_user(
                &plain_caller(ctx),
                AdminCreateUserInput {
                    pool_id: input.user_pool_id,
                    username: input.username,
                    attributes: attributes(input.user_attributes),
                    validation_data: input.validation_data.map(|v| attributes(Some(v))),
                    temporary_password: input.temporary_password,
                    force_alias: input.force_alias_creation.unwrap_or(false),
                    message_action: input.message_action.map(|a| match a {
                        MessageActionType::Resend => MessageAction::Resend,
                        MessageActionType::Suppress => MessageAction::Suppress,
                    }),
                    mediums,
                    client_metadata: input.client_metadata,
                },
            )
            .await?;
        Ok(AdminCreateUserResponse { user: Some(user_type(&user, None)) })
    }

    fn add_custom_attributes(&self, _ctx, input: AddCustomAttributesRequest) -> AddCustomAttributesResponse;
        errors [ResourceNotFoundException, InvalidParameterException]
    {
        self.service
            .add_custom_attributes(&input.user_pool_id, input.custom_attributes)
            .await?;
        Ok(AddCustomAttributesResponse::default())
    }

    fn admin_list_user_auth_events(&self, _ctx, input: AdminListUserAuthEventsRequest) -> AdminListUserAuthEventsResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, UserNotFoundException,
            UserPoolAddOnNotEnabledException,
        ]
    {
        let (events, next) = self
            .service
            .admin_list_user_auth_events(
                &input.user_pool_id,
                &input.username,
                input.max_results,
                input.next_token.as_deref(),
            )
            .await?;
        Ok(AdminListUserAuthEventsResponse {
            auth_events: Some(events.into_iter().map(auth_event_type).collect()),
            next_token: next,
        })
    }

    fn admin_update_auth_event_feedback(&self, _ctx, input: AdminUpdateAuthEventFeedbackRequest) -> AdminUpdateAuthEventFeedbackResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, UserNotFoundException,
            UserPoolAddOnNotEnabledException,
        ]
    {
        self.service
            .admin_update_auth_event_feedback(
                &input.user_pool_id,
                &input.username,
                &input.event_id,
                input.feedback_value.as_str(),
            )
            .await?;
        Ok(AdminUpdateAuthEventFeedbackResponse::default())
    }

    fn update_auth_event_feedback(&self, _ctx, input: UpdateAuthEventFeedbackRequest) -> UpdateAuthEventFeedbackResponse;
        errors [
            ResourceNotFoundException, InvalidParameterException, UserNotFoundException,
            UserPoolAddOnNotEnabledException, NotAuthorizedException,
        ]
    {
        self.service
            .update_auth_event_feedback(
                &input.user_pool_id,
                &input.username,
                &input.event_id,
                &input.feedback_token,
                input.feedback_value.as_str(),
            )
            .await?;
        Ok(UpdateAuthEventFeedbackResponse::default())
    }

    fn admin_disable_user(&self, _ctx, input: AdminDisableUserRequest) -> AdminDisableUserResponse;
        errors [ResourceNotFoundException, UserNotFoundException]
    {
        self.service
            .admin_set_user_enabled(&input.user_pool_id, &input.username, false)
            .await?;
        Ok(AdminDisableUserResponse::default())
    }

    fn admin_enable_user(&self, _ctx, input: AdminEnableUserRequest) -> AdminEnableUserResponse;
        errors [ResourceNotFoundException, UserNotFoundException]
    {
        self.service
            .admin_set_user_enabled(&input.user_pool_id, &input.username, true)
            .await?;
        Ok(AdminEnableUserResponse::default())
    }

    fn create_group(&self, _ctx, input: CreateGroupRequest) -> CreateGroupResponse;
        errors [ResourceNotFoundException, GroupExistsException, InvalidParameterException]
    {
        let group = self.service.create_group(group_input(
            input.user_pool_id, input.group_name, input.description, input.role_arn, input.precedence,
        )).await?;
        Ok(CreateGroupResponse { group: Some(group_type(group)) })
    }

    fn get_group(&self, _ctx, input: GetGroupRequest) -> GetGroupResponse;
        errors [ResourceNotFoundException]
    {
        let group = self.service.get_group(&input.user_pool_id, &input.group_name).await?;
        Ok(GetGroupResponse { group: Some(group_type(group)) })
    }

    fn update_group(&self, _ctx, input: UpdateGroupRequest) -> UpdateGroupResponse;
        errors [ResourceNotFoundException]
    {
        let group = self.service.update_group(group_input(
            input.user_pool_id, input.group_name, input.description, input.role_arn, input.precedence,
        )).await?;
        Ok(UpdateGroupResponse { group: Some(group_type(group)) })
    }

    fn delete_group(&self, _ctx, input: DeleteGroupRequest) -> ();
        errors [ResourceNotFoundException]
    {
        self.service.delete_group(&input.user_pool_id, &input.group_name).await
    }

    fn list_groups(&self, _ctx, input: ListGroupsRequest) -> ListGroupsResponse;
        errors [ResourceNotFoundException, InvalidParameterException]
    {
        let (groups, next) = self
            .service
            .list_groups(&input.user_pool_id, input.limit, input.next_token.as_deref())
            .await?;
        Ok(ListGroupsResponse {
            groups: Some(groups.into_iter().map(group_type).collect()),
            next_token: next,
        })
    }

    fn admin_add_user_to_group(&self, _ctx, input: AdminAddUserToGroupRequest) -> ();
        errors [ResourceNotFoundException, UserNotFoundException, InvalidParameterException]
    {
        self.service
            .admin_add_user_to_group(&input.user_pool_id, &input.username, &input.group_name)
            .await
    }

    fn admin_remove_user_from_group(&self, _ctx, input: AdminRemoveUserFromGroupRequest) -> ();
        errors [ResourceNotFoundException, UserNotFoundException]
    {
        self.service
            .admin_remove_user_from_group(&input.user_pool_id, &input.username, &input.group_name)
            .await
    }

    fn list_users_in_group(&self, _ctx, input: ListUsersInGroupRequest) -> ListUsersInGroupResponse;
        errors [ResourceNotFoundException, InvalidParameterException]
    {
        let (users, next) = self
            .service
            .list_users_in_group(
                &input.user_pool_id,
                &input.group_name,
                input.limit,
                input.next_token.as_deref(),
            )
            .await?;
        Ok(ListUsersInGroupResponse {
            users: Some(users.iter().map(|u| user_type(u, None)).collect()),
            next_token: next,
        })
    }

    fn admin_list_groups_for_user(&self, _ctx, input: AdminListGroupsForUserRequest) -> AdminListGroupsForUserResponse;
        errors [ResourceNotFoundException, UserNotFoundException, InvalidParameterException]
    {
        let (groups, next) = self
            .service
            .admin_list_groups_for_user(
                &input.user_pool_id,
                &input.username,
                input.limit,
                input.next_token.as_deref(),
            )
            .await?;
        Ok(AdminListGroupsForUserResponse {
            groups: Some(groups.into_iter().map(group_type).collect()),
            next_token: next,
        })
    }

    fn create_user_pool_domain(&self, _ctx, input: CreateUserPoolDomainRequest) -> CreateUserPoolDomainResponse;
        errors [InvalidParameterException, ResourceNotFoundException]
    {
        let d = self.service.create_user_pool_domain(domain_input(
            input.user_pool_id, input.domain, input.managed_login_version, input.custom_domain_config,
        )).await?;
        let (managed_login_version, cloud_front_domain) = domain_answer(&d);
        Ok(CreateUserPoolDomainResponse { managed_login_version, cloud_front_domain, routing: None })
    }

    fn describe_user_pool_domain(&self, _ctx, input: DescribeUserPoolDomainRequest) -> DescribeUserPoolDomainResponse;
        errors []
    {
        // A name no pool holds is described as empty, as AWS does (no error).
        let d = self.service.describe_user_pool_domain(&input.domain).await?;
        Ok(DescribeUserPoolDomainResponse {
            domain_description: Some(d.map(domain_description).unwrap_or_default()),
        })
    }

    fn update_user_pool_domain(&self, _ctx, input: UpdateUserPoolDomainRequest) -> UpdateUserPoolDomainResponse;
        errors [InvalidParameterException]
    {
        let d = self.service.update_user_pool_domain(domain_input(
            input.user_pool_id, input.domain, input.managed_login_version, input.custom_domain_config,
        )).await?;
        let (managed_login_version, cloud_front_domain) = domain_answer(&d);
        Ok(UpdateUserPoolDomainResponse { managed_login_version, cloud_front_domain, routing: None })
    }

    fn delete_user_pool_domain(&self, _ctx, input: DeleteUserPoolDomainRequest) -> DeleteUserPoolDomainResponse;
        errors [InvalidParameterException]
    {
        self.service.delete_user_pool_domain(&input.user_pool_id, &input.domain).await?;
        Ok(DeleteUserPoolDomainResponse::default())
    }

    fn create_resource_server(&self, _ctx, input: CreateResourceServerRequest) -> CreateResourceServerResponse;
        errors [InvalidParameterException, ResourceNotFoundException, LimitExceededException]
    {
        let server = self.service.create_resource_server(resource_server_input(
            input.user_pool_id, input.identifier, input.name, input.scopes,
        )).await?;
        Ok(CreateResourceServerResponse { resource_server: resource_server_type(server) })
    }

    fn describe_resource_server(&self, _ctx, input: DescribeResourceServerRequest) -> DescribeResourceServerResponse;
        errors [ResourceNotFoundException]
    {
        let server = self
            .service
            .describe_resource_server(&input.user_pool_id, &input.identifier)
            .await?;
        Ok(DescribeResourceServerResponse { resource_server: resource_server_type(server) })
    }

    fn update_resource_server(&self, _ctx, input: UpdateResourceServerRequest) -> UpdateResourceServerResponse;
        errors [InvalidParameterException, ResourceNotFoundException]
    {
        let server = self.service.update_resource_server(resource_server_input(
            input.user_pool_id, input.identifier, input.name, input.scopes,
        )).await?;
        Ok(UpdateResourceServerResponse { resource_server: resource_server_type(server) })
    }

    fn delete_resource_server(&self, _ctx, input: DeleteResourceServerRequest) -> ();
        errors [ResourceNotFoundException]
    {
        self.service
            .delete_resource_server(&input.user_pool_id, &input.identifier)
            .await
    }

    fn list_resource_servers(&self, _ctx, input: ListResourceServersRequest) -> ListResourceServersResponse;
        errors [InvalidParameterException, ResourceNotFoundException]
    {
        let (servers, next) = self
            .service
            .list_resource_servers(&input.user_pool_id, input.max_results, input.next_token.as_deref())
            .await?;
        Ok(ListResourceServersResponse {
            resource_servers: servers.into_iter().map(resource_server_type).collect(),
            next_token: next,
        })
    }

    fn revoke_token(&self, _ctx, input: RevokeTokenRequest) -> RevokeTokenResponse;
        errors [UnauthorizedException, UnsupportedOperationException]
    {
        self.service
            .revoke_token(&input.token, &input.client_id, input.client_secret.as_deref())
            .await?;
        Ok(RevokeTokenResponse::default())
    }

    fn global_sign_out(&self, _ctx, input: GlobalSignOutRequest) -> GlobalSignOutResponse;
        errors [NotAuthorizedException]
    {
        self.service.global_sign_out(&input.access_token).await?;
        Ok(GlobalSignOutResponse::default())
    }

    fn admin_user_global_sign_out(&self, _ctx, input: AdminUserGlobalSignOutRequest) -> AdminUserGlobalSignOutResponse;
        errors [ResourceNotFoundException, UserNotFoundException]
    {
        self.service
            .admin_user_global_sign_out(&input.user_pool_id, &input.username)
            .await?;
        Ok(AdminUserGlobalSignOutResponse::default())
    }

    fn list_users(&self, _ctx, input: ListUsersRequest) -> ListUsersResponse;
        errors [InvalidParameterException, ResourceNotFoundException]
    {
        let (users, next) = self
            .service
            .list_users(
                &input.user_pool_id,
                input.filter.as_deref(),
                input.limit,
                input.pagination_token.as_deref(),
            )
            .await?;
        let only = input.attributes_to_get.as_deref();
        Ok(ListUsersResponse {
            users: Some(users.iter().map(|u| user_type(u, only)).collect()),
            pagination_token: next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error-list check: no implemented operation may declare (and so answer) an error
    /// kind that the model does not list for it.
    #[test]
    fn every_declared_error_is_one_the_model_lists_for_the_operation() {
        for op in implemented() {
            let modelled = op.errors();
            for kind in declared_errors(op) {
                assert!(
                    modelled.contains(kind),
                    "{} declares {} but the model does not list it",
                    op.name(),
                    kind.name()
                );
            }
            assert!(
                modelled.contains(&ErrorKind::InternalErrorException),
                "{}",
                op.name()
            );
        }
    }

    #[test]
    fn every_registered_method_is_an_operation_once() {
        for (method, _) in REGISTERED {
            let ops: Vec<_> = Operation::ALL
                .iter()
                .filter(|op| op.method_name() == *method)
                .collect();
            assert_eq!(ops.len(), 1, "{method}");
        }
        assert_eq!(implemented().len(), REGISTERED.len());
    }

    #[test]
    fn an_undeclared_error_kind_becomes_an_internal_error() {
        let ctx = RequestContext::new("r", Operation::DescribeUserPool);
        let e = wire_error(&ctx, DomainError::CodeMismatch);
        assert_eq!(e.kind, ErrorKind::InternalErrorException);
        let e = wire_error(
            &ctx,
            DomainError::PoolNotFound {
                pool_id: "p".into(),
            },
        );
        assert_eq!(e.kind, ErrorKind::ResourceNotFoundException);
    }
}
