//! Ending sessions: RevokeToken (one refresh token and the tokens minted from it),
//! GlobalSignOut and AdminUserGlobalSignOut (every refresh token of the user, and so every
//! access token that names one; spec iii.6, iii.7). Access tokens are checked against their
//! origin on every use (`verify_access_token`), so a sign-out holds on every instance.

use super::Service;
use crate::error::{DomainError, DomainResult};

impl Service {
    /// RevokeToken. An unknown or already revoked token is no error (as the revocation
    /// endpoint answers); another client's token is left alone.
    pub async fn revoke_token(
        &self,
        token: &str,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> DomainResult<()> {
        let (client, _) = match self.client_context(client_id).await {
            Ok(found) => found,
            Err(DomainError::ClientNotFound { .. }) => return Err(DomainError::ClientCredentials),
            Err(e) => return Err(e),
        };
        if let Some(secret) = &client.client_secret {
            let given = client_secret.unwrap_or_default();
            if !cognate_crypto::codes::digests_equal(secret.as_bytes(), given.as_bytes()) {
                return Err(DomainError::ClientCredentials);
            }
        }
        if !client.enable_token_revocation {
            return Err(DomainError::RevocationDisabled);
        }
        let digest = self.refresh_digest(token);
        let Some(record) = self.store.refresh_token(&digest).await? else {
            return Ok(());
        };
        if record.client_id == client.client_id {
            self.store
                .revoke_refresh_family(&record.origin_jti, self.clock.now())
                .await?;
        }
        Ok(())
    }

    /// GlobalSignOut: the access token's user is signed out everywhere.
    pub async fn global_sign_out(&self, access_token: &str) -> DomainResult<()> {
        // GlobalSignOut's model lists no UserNotFoundException: the token of a deleted user
        // is refused as revoked (found by the wire fuzzer, which saw a 500 here).
        let super::tokens::TokenUser { access, user } =
            self.token_user(access_token).await.map_err(|e| match e {
                DomainError::UserNotFound => DomainError::AccessTokenRevoked,
                other => other,
            })?;
        let pool = access.pool;
        self.store
            .revoke_user_refresh_tokens(&pool.id, &user.username_key, self.clock.now())
            .await?;
        Ok(())
    }

    /// AdminUserGlobalSignOut.
    pub async fn admin_user_global_sign_out(
        &self,
        pool_id: &str,
        username: &str,
    ) -> DomainResult<()> {
        let (pool, user) = self.admin_user(pool_id, username).await?;
        self.store
            .revoke_user_refresh_tokens(&pool.id, &user.username_key, self.clock.now())
            .await?;
        Ok(())
    }
}
