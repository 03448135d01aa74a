//! The Cognito API as Cognate implements it: one `Service` holding the application state,
//! implementing the generated `CognitoIdentityProvider` trait. Operations it does not
//! override answer `NotImplementedException` through the trait's defaults.

mod attributes;
mod hashing;
mod hooks;
mod messaging;
mod pools;
mod settings;
mod signup;
mod users;

use std::collections::BTreeMap;
use std::sync::Arc;

use cognate_wire::*;
use serde_json::{json, Value};

pub use settings::{ClientSettings, PoolSettings};
pub use signup::SIGN_UP_PURPOSE;

use crate::clock::Clock;
use crate::errors;
use crate::store::Store;
use pools::wire;
pub use signup::Caller;
use signup::SignUpInput;

/// The operations this build implements (the rest answer NotImplementedException).
pub const IMPLEMENTED: &[Operation] = &[
    Operation::CreateUserPool,
    Operation::DescribeUserPool,
    Operation::UpdateUserPool,
    Operation::DeleteUserPool,
    Operation::ListUserPools,
    Operation::CreateUserPoolClient,
    Operation::DescribeUserPoolClient,
    Operation::UpdateUserPoolClient,
    Operation::DeleteUserPoolClient,
    Operation::ListUserPoolClients,
    Operation::SignUp,
    Operation::ConfirmSignUp,
    Operation::ResendConfirmationCode,
    Operation::AdminConfirmSignUp,
    Operation::AdminGetUser,
    Operation::AdminDeleteUser,
    Operation::ListUsers,
];

#[derive(Clone, Debug)]
pub struct Settings {
    pub region: String,
    pub account_id: String,
    pub confirm_attempts_per_hour: i64,
    pub resend_per_hour: i64,
    pub link_base_url: String,
}

pub struct Service {
    pub store: Store,
    pub settings: Settings,
    pub clock: Clock,
    hashers: hashing::HashWorkers,
    code_key: cognate_crypto::codes::CodeKey,
    deliverer: Arc<cognate_delivery::Deliverer>,
    triggers: Arc<cognate_triggers::TriggerInvoker>,
}

impl Service {
    pub async fn new(
        store: Store,
        settings: Settings,
        clock: Clock,
        argon2: cognate_crypto::password::Argon2Params,
        deliverer: cognate_delivery::Deliverer,
        triggers: cognate_triggers::TriggerInvoker,
    ) -> anyhow::Result<Self> {
        let hasher = cognate_crypto::password::PasswordHasher::new(argon2)?;
        // Shared by every instance on the same database, so codes issued by one instance
        // verify on another.
        let key = store
            .server_secret(
                "code_digest_key",
                cognate_crypto::codes::CodeKey::generate()
                    .as_bytes()
                    .to_vec(),
            )
            .await?;
        let key: [u8; 32] = key
            .try_into()
            .map_err(|_| anyhow::anyhow!("stored code key has the wrong length"))?;
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        Ok(Self {
            store,
            settings,
            clock,
            hashers: hashing::HashWorkers::start(hasher, cores)?,
            code_key: cognate_crypto::codes::CodeKey::from_bytes(key),
            deliverer: Arc::new(deliverer),
            triggers: Arc::new(triggers),
        })
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| errors::internal("reading the request", e))
}

fn attribute_map(list: Option<Vec<AttributeType>>) -> BTreeMap<String, String> {
    list.unwrap_or_default()
        .into_iter()
        .map(|a| (a.name, a.value.unwrap_or_default()))
        .collect()
}

fn caller<'a>(
    ctx: &'a RequestContext,
    context_data: Option<UserContextDataType>,
    analytics: Option<AnalyticsMetadataType>,
) -> Caller<'a> {
    let (ip_address, encoded_data) = context_data
        .map(|c| (c.ip_address, c.encoded_data))
        .unwrap_or_default();
    Caller {
        ctx,
        ip_address,
        encoded_data,
        analytics_endpoint_id: analytics.and_then(|a| a.analytics_endpoint_id),
        from_link: false,
    }
}

impl CognitoIdentityProvider for Service {
    async fn create_user_pool(
        &self,
        _ctx: &RequestContext,
        input: CreateUserPoolRequest,
    ) -> Result<CreateUserPoolResponse, ApiError> {
        let pool = self.create_pool(to_value(&input)?).await?;
        wire(json!({ "UserPool": pool }))
    }

    async fn describe_user_pool(
        &self,
        _ctx: &RequestContext,
        input: DescribeUserPoolRequest,
    ) -> Result<DescribeUserPoolResponse, ApiError> {
        let pool = self.describe_pool(&input.user_pool_id).await?;
        wire(json!({ "UserPool": pool }))
    }

    async fn update_user_pool(
        &self,
        _ctx: &RequestContext,
        input: UpdateUserPoolRequest,
    ) -> Result<UpdateUserPoolResponse, ApiError> {
        self.update_pool(to_value(&input)?).await?;
        wire(json!({}))
    }

    async fn delete_user_pool(
        &self,
        _ctx: &RequestContext,
        input: DeleteUserPoolRequest,
    ) -> Result<(), ApiError> {
        self.delete_pool(&input.user_pool_id).await
    }

    async fn list_user_pools(
        &self,
        _ctx: &RequestContext,
        input: ListUserPoolsRequest,
    ) -> Result<ListUserPoolsResponse, ApiError> {
        let (pools, next) = self
            .list_pools(input.max_results, input.next_token.as_deref())
            .await?;
        wire(json!({ "UserPools": pools, "NextToken": next }))
    }

    async fn create_user_pool_client(
        &self,
        _ctx: &RequestContext,
        input: CreateUserPoolClientRequest,
    ) -> Result<CreateUserPoolClientResponse, ApiError> {
        let client = self.create_client(to_value(&input)?).await?;
        wire(json!({ "UserPoolClient": client }))
    }

    async fn describe_user_pool_client(
        &self,
        _ctx: &RequestContext,
        input: DescribeUserPoolClientRequest,
    ) -> Result<DescribeUserPoolClientResponse, ApiError> {
        let (_, client) = self
            .load_client(&input.user_pool_id, &input.client_id)
            .await?;
        wire(json!({ "UserPoolClient": client }))
    }

    async fn update_user_pool_client(
        &self,
        _ctx: &RequestContext,
        input: UpdateUserPoolClientRequest,
    ) -> Result<UpdateUserPoolClientResponse, ApiError> {
        let client = self.update_client(to_value(&input)?).await?;
        wire(json!({ "UserPoolClient": client }))
    }

    async fn delete_user_pool_client(
        &self,
        _ctx: &RequestContext,
        input: DeleteUserPoolClientRequest,
    ) -> Result<(), ApiError> {
        self.delete_client(&input.user_pool_id, &input.client_id)
            .await
    }

    async fn list_user_pool_clients(
        &self,
        _ctx: &RequestContext,
        input: ListUserPoolClientsRequest,
    ) -> Result<ListUserPoolClientsResponse, ApiError> {
        let (clients, next) = self
            .list_clients(
                &input.user_pool_id,
                input.max_results,
                input.next_token.as_deref(),
            )
            .await?;
        wire(json!({ "UserPoolClients": clients, "NextToken": next }))
    }

    async fn sign_up(
        &self,
        ctx: &RequestContext,
        input: SignUpRequest,
    ) -> Result<SignUpResponse, ApiError> {
        let caller = caller(ctx, input.user_context_data, input.analytics_metadata);
        let out = self
            .sign_up_flow(
                &caller,
                SignUpInput {
                    client_id: input.client_id,
                    secret_hash: input.secret_hash,
                    username: input.username,
                    password: input.password,
                    attributes: attribute_map(input.user_attributes),
                    validation_data: input.validation_data.map(|v| attribute_map(Some(v))),
                    client_metadata: input.client_metadata,
                },
            )
            .await?;
        wire(json!({
            "UserConfirmed": out.confirmed,
            "UserSub": out.sub,
            "CodeDeliveryDetails": out.delivery,
        }))
    }

    async fn confirm_sign_up(
        &self,
        ctx: &RequestContext,
        input: ConfirmSignUpRequest,
    ) -> Result<ConfirmSignUpResponse, ApiError> {
        let caller = caller(ctx, input.user_context_data, input.analytics_metadata);
        self.confirm_sign_up_flow(
            &caller,
            &input.client_id,
            input.secret_hash.as_deref(),
            &input.username,
            &input.confirmation_code,
            input.force_alias_creation.unwrap_or(false),
            input.client_metadata.as_ref(),
        )
        .await?;
        wire(json!({}))
    }

    async fn resend_confirmation_code(
        &self,
        ctx: &RequestContext,
        input: ResendConfirmationCodeRequest,
    ) -> Result<ResendConfirmationCodeResponse, ApiError> {
        let caller = caller(ctx, input.user_context_data, input.analytics_metadata);
        let details = self
            .resend_code_flow(
                &caller,
                &input.client_id,
                input.secret_hash.as_deref(),
                &input.username,
                input.client_metadata.as_ref(),
            )
            .await?;
        wire(json!({ "CodeDeliveryDetails": details }))
    }

    async fn admin_confirm_sign_up(
        &self,
        ctx: &RequestContext,
        input: AdminConfirmSignUpRequest,
    ) -> Result<AdminConfirmSignUpResponse, ApiError> {
        self.admin_confirm_flow(
            ctx,
            &input.user_pool_id,
            &input.username,
            input.client_metadata.as_ref(),
        )
        .await?;
        wire(json!({}))
    }

    async fn admin_get_user(
        &self,
        _ctx: &RequestContext,
        input: AdminGetUserRequest,
    ) -> Result<AdminGetUserResponse, ApiError> {
        wire(
            self.admin_get_user_flow(&input.user_pool_id, &input.username)
                .await?,
        )
    }

    async fn admin_delete_user(
        &self,
        _ctx: &RequestContext,
        input: AdminDeleteUserRequest,
    ) -> Result<(), ApiError> {
        self.admin_delete_user_flow(&input.user_pool_id, &input.username)
            .await
    }

    async fn list_users(
        &self,
        _ctx: &RequestContext,
        input: ListUsersRequest,
    ) -> Result<ListUsersResponse, ApiError> {
        let (users, next) = self
            .list_users_flow(
                &input.user_pool_id,
                input.filter.as_deref(),
                input.attributes_to_get.as_deref(),
                input.limit,
                input.pagination_token.as_deref(),
            )
            .await?;
        wire(json!({ "Users": users, "PaginationToken": next }))
    }
}

/// The caller of a `/confirmUser` link click (no context data or analytics).
pub fn link_caller(ctx: &RequestContext) -> Caller<'_> {
    Caller {
        ctx,
        ip_address: None,
        encoded_data: None,
        analytics_endpoint_id: None,
        from_link: true,
    }
}

impl Service {
    pub fn has_email_provider(&self) -> bool {
        self.deliverer.has_email()
    }

    pub fn has_sms_provider(&self) -> bool {
        self.deliverer.has_sms()
    }
}
