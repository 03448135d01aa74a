//! User pools and app clients: create, describe, update, delete, list. Their settings are the
//! model's typed `UserPoolType` / `UserPoolClientType`, built by `crate::config` with AWS's
//! defaults, so every setting the model defines is stored and returned faithfully even where
//! Cognate does not act on it yet.

use cognate_wire::{
    CreateUserPoolClientRequest, CreateUserPoolRequest, DeletionProtectionType,
    UpdateUserPoolClientRequest, UpdateUserPoolRequest, UserPoolClientDescription,
    UserPoolClientType, UserPoolDescriptionType, UserPoolType,
};

use super::signup::pool_not_found;
use super::Service;
use crate::config;
use crate::error::{DomainError, DomainResult, Invalid};
use crate::records::{ClientRecord, PoolRecord, PoolUpdate};

/// Most items a list page holds.
const MAX_PAGE: i64 = 60;

impl Service {
    fn pool_arn(&self, pool_id: &str) -> String {
        format!(
            "arn:aws:cognito-idp:{}:{}:userpool/{}",
            self.settings.region, self.settings.account_id, pool_id
        )
    }

    pub async fn create_user_pool(
        &self,
        input: CreateUserPoolRequest,
    ) -> DomainResult<UserPoolType> {
        let now = self.clock.now();
        let id = cognate_crypto::ids::user_pool_id(&self.settings.region);
        let mut pool = config::new_pool(input, id.clone(), self.pool_arn(&id), now)?;
        // The keys come with the pool, so that its first sign-ins (often many at once) do
        // not each generate a pair. They are made first: a failure leaves no pool behind.
        let keys = self.generate_signing_keys().await?;
        self.store
            .insert_pool(&PoolRecord {
                id: id.clone(),
                name: pool.name.clone().unwrap_or_default(),
                config: config::encode_pool(&pool),
                created_at: now,
                updated_at: now,
            })
            .await?;
        self.store.add_signing_keys(&id, keys).await?;
        pool.estimated_number_of_users = Some(0);
        Ok(pool)
    }

    async fn load_pool(&self, pool_id: &str) -> DomainResult<(PoolRecord, UserPoolType)> {
        let record = self
            .store
            .get_pool(pool_id)
            .await?
            .ok_or_else(|| pool_not_found(pool_id))?;
        let pool = config::decode_pool(&record.config)
            .map_err(|e| DomainError::internal("stored pool", e))?;
        Ok((record, pool))
    }

    pub async fn describe_user_pool(&self, pool_id: &str) -> DomainResult<UserPoolType> {
        let (_, mut pool) = self.load_pool(pool_id).await?;
        let users = self.store.count_users(pool_id).await?;
        pool.estimated_number_of_users = Some(i32::try_from(users).unwrap_or(i32::MAX));
        // The domains live in their own table (unique across pools), not in the settings.
        for domain in self.store.pool_domains(pool_id).await? {
            if domain.is_custom() {
                pool.custom_domain = Some(domain.domain);
            } else {
                pool.domain = Some(domain.domain);
            }
        }
        Ok(pool)
    }

    /// AddCustomAttributes: the new attributes join the schema; the pool's clients see them
    /// from their next request (the update raises their revisions).
    pub async fn add_custom_attributes(
        &self,
        pool_id: &str,
        attributes: Vec<cognate_wire::SchemaAttributeType>,
    ) -> DomainResult<()> {
        self.change_pool(pool_id, |pool, now| {
            config::with_custom_attributes(pool, attributes.clone(), now)
        })
        .await
    }

    pub async fn update_user_pool(&self, input: UpdateUserPoolRequest) -> DomainResult<()> {
        let pool_id = input.user_pool_id.clone();
        self.change_pool(&pool_id, |pool, now| {
            config::updated_pool(pool, input.clone(), now)
        })
        .await
    }

    /// Applies `change` to the pool's settings as stored, and stores the result only if no
    /// other change was stored in between (else it is computed again on the new settings):
    /// two AddCustomAttributes calls at once both add their attributes.
    async fn change_pool(
        &self,
        pool_id: &str,
        change: impl Fn(UserPoolType, i64) -> DomainResult<UserPoolType>,
    ) -> DomainResult<()> {
        const ATTEMPTS: usize = 16;
        for _ in 0..ATTEMPTS {
            let (mut record, pool) = self.load_pool(pool_id).await?;
            let now = self.clock.now();
            let pool = change(pool, now)?;
            let read = std::mem::replace(&mut record.config, config::encode_pool(&pool));
            record.name = pool.name.clone().unwrap_or_default();
            record.updated_at = now;
            match self.store.update_pool(&record, &read).await? {
                PoolUpdate::Updated => return Ok(()),
                PoolUpdate::Gone => return Err(pool_not_found(pool_id)),
                PoolUpdate::Changed => continue,
            }
        }
        Err(DomainError::internal(
            "pool settings",
            format!("changed concurrently {ATTEMPTS} times in a row"),
        ))
    }

    pub async fn delete_user_pool(&self, pool_id: &str) -> DomainResult<()> {
        let (_, pool) = self.load_pool(pool_id).await?;
        if pool.deletion_protection == Some(DeletionProtectionType::Active) {
            return Err(DomainError::Invalid(Invalid::DeletionProtected));
        }
        if !self.store.delete_pool(pool_id).await? {
            return Err(pool_not_found(pool_id));
        }
        Ok(())
    }

    pub async fn list_user_pools(
        &self,
        max_results: i32,
        next_token: Option<&str>,
    ) -> DomainResult<(Vec<UserPoolDescriptionType>, Option<String>)> {
        let after = next_token.map(decode_token).transpose()?;
        let limit = i64::from(max_results).clamp(1, MAX_PAGE);
        let mut pools = self.store.list_pools(after.as_deref(), limit + 1).await?;
        let next = page_token(&mut pools, limit, |p| p.id.clone());
        let items = pools
            .iter()
            .map(|p| UserPoolDescriptionType {
                id: Some(p.id.clone()),
                name: Some(p.name.clone()),
                lambda_config: Some(
                    config::decode_pool(&p.config)
                        .map(|pool| config::lambda_config_of(&pool))
                        .unwrap_or_default(),
                ),
                creation_date: Some(p.created_at as f64),
                last_modified_date: Some(p.updated_at as f64),
                ..Default::default()
            })
            .collect();
        Ok((items, next))
    }

    // ------------------------------------------------------------------ app clients

    pub async fn create_user_pool_client(
        &self,
        input: CreateUserPoolClientRequest,
    ) -> DomainResult<UserPoolClientType> {
        let pool_id = input.user_pool_id.clone();
        self.load_pool(&pool_id).await?;
        let now = self.clock.now();
        let client_id = cognate_crypto::ids::client_id();
        let client = config::new_client(
            input,
            client_id.clone(),
            cognate_crypto::ids::client_secret,
            now,
        )?;
        self.check_client_oauth(&pool_id, &client).await?;
        self.store
            .insert_client(&ClientRecord {
                client_id,
                pool_id,
                config: config::encode_client(&client),
                created_at: now,
                updated_at: now,
            })
            .await?;
        Ok(client)
    }

    async fn load_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> DomainResult<(ClientRecord, UserPoolClientType)> {
        self.load_pool(pool_id).await?;
        let record = self
            .store
            .get_client(client_id)
            .await?
            .filter(|c| c.pool_id == pool_id)
            .ok_or_else(|| DomainError::ClientNotFound {
                client_id: client_id.to_string(),
            })?;
        let client = config::decode_client(&record.config)
            .map_err(|e| DomainError::internal("stored client", e))?;
        Ok((record, client))
    }

    pub async fn describe_user_pool_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> DomainResult<UserPoolClientType> {
        Ok(self.load_client(pool_id, client_id).await?.1)
    }

    pub async fn update_user_pool_client(
        &self,
        input: UpdateUserPoolClientRequest,
    ) -> DomainResult<UserPoolClientType> {
        let (mut record, old) = self
            .load_client(&input.user_pool_id, &input.client_id)
            .await?;
        let now = self.clock.now();
        let client = config::updated_client(old, input, now)?;
        self.check_client_oauth(&record.pool_id, &client).await?;
        record.config = config::encode_client(&client);
        record.updated_at = now;
        if !self.store.update_client(&record).await? {
            return Err(DomainError::ClientNotFound {
                client_id: record.client_id,
            });
        }
        Ok(client)
    }

    pub async fn delete_user_pool_client(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> DomainResult<()> {
        self.load_client(pool_id, client_id).await?;
        if !self.store.delete_client(pool_id, client_id).await? {
            return Err(DomainError::ClientNotFound {
                client_id: client_id.to_string(),
            });
        }
        Ok(())
    }

    pub async fn list_user_pool_clients(
        &self,
        pool_id: &str,
        max_results: Option<i32>,
        next_token: Option<&str>,
    ) -> DomainResult<(Vec<UserPoolClientDescription>, Option<String>)> {
        self.load_pool(pool_id).await?;
        let after = next_token.map(decode_token).transpose()?;
        let limit = i64::from(max_results.unwrap_or(60)).clamp(1, MAX_PAGE);
        let mut clients = self
            .store
            .list_clients(pool_id, after.as_deref(), limit + 1)
            .await?;
        let next = page_token(&mut clients, limit, |c| c.client_id.clone());
        let items = clients
            .iter()
            .map(|c| UserPoolClientDescription {
                client_id: Some(c.client_id.clone()),
                user_pool_id: Some(c.pool_id.clone()),
                client_name: Some(
                    config::decode_client(&c.config)
                        .ok()
                        .and_then(|client| client.client_name)
                        .unwrap_or_default(),
                ),
            })
            .collect();
        Ok((items, next))
    }
}

/// Pagination tokens are opaque base64 of the last key returned.
/// A listing's page size: at most 60, and 60 when absent or 0 (the model's `Limit`).
pub(super) fn page_limit(limit: Option<i32>) -> i64 {
    const MAX_PAGE: i32 = 60;
    i64::from(limit.filter(|l| *l > 0).unwrap_or(MAX_PAGE).min(MAX_PAGE))
}

pub(super) fn page_token<T>(
    items: &mut Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> String,
) -> Option<String> {
    if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|last| encode_token(&key(last)))
    } else {
        None
    }
}

fn encode_token(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(key.as_bytes())
}

pub(super) fn decode_token(token: &str) -> DomainResult<String> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or(DomainError::Invalid(Invalid::PaginationToken))
}
