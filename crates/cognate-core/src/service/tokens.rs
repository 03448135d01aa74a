//! Tokens: the pool's signing keys (two per pool, for ID and access tokens, created with the
//! pool and kept in the store so every instance signs and verifies with the same keys), the
//! ID and access JWTs with AWS's claims, opaque refresh tokens stored as keyed digests, the
//! JWKS, and access-token checks for the operations that take one.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cognate_crypto::jwt::{self, PrivateKey, PublicKey, TokenError};
use serde_json::{json, Map, Value};

use super::signin::SignIn;
use super::Service;
use crate::error::{DomainError, DomainResult};
use crate::records::{RefreshTokenRecord, SigningKeyRecord, TokenUse, UserRecord};
use crate::settings::{ClientSettings, PoolSettings};

/// The scope of tokens from the API sign-in flows.
pub const ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";
/// Attributes that are JSON booleans in ID tokens; every other attribute is a string.
const BOOLEAN_CLAIMS: &[&str] = &["email_verified", "phone_number_verified"];
/// How long a retired signing key keeps verifying: the longest ID/access token validity.
const RETIRED_KEY_VERIFIES_SECS: i64 = 86_400;
/// Random bytes in a refresh token (it is opaque: clients never parse it).
pub(super) const REFRESH_TOKEN_BYTES: usize = 48;
/// Pools whose parsed keys a thread keeps at most before the cache starts afresh.
const POOLS_PER_THREAD: usize = 256;
/// How long an instance signs and verifies with the keys it read before reading them again:
/// a rotation made elsewhere (another instance, the CLI) signs new tokens here within this
/// time. A token naming a kid the cached keys lack makes the keys be read again at once.
pub const KEYS_REREAD_SECS: i64 = 30;

thread_local! {
    /// A pool's parsed keys and when they were read (by the service clock). Reading and
    /// parsing them (PKCS#8, the public halves) on every token would cost a store read and
    /// far more CPU than the token itself.
    static POOL_KEYS: RefCell<HashMap<String, (i64, Arc<PoolKeys>)>> =
        RefCell::new(HashMap::new());
}

/// A new pair of signing keys (ID and access), as stored. Slow (two RSA key generations):
/// call it off the async threads.
pub fn new_signing_keys(now: i64) -> Result<Vec<SigningKeyRecord>, cognate_crypto::CryptoError> {
    [TokenUse::Id, TokenUse::Access]
        .into_iter()
        .map(|token_use| {
            let key = PrivateKey::generate(uuid::Uuid::new_v4().to_string())?;
            Ok(SigningKeyRecord {
                kid: key.kid().to_string(),
                token_use,
                private_key: key.to_pkcs8_der()?,
                created_at: now,
                retired_at: None,
            })
        })
        .collect()
}

/// A valid access token's claims, and the settings of the client it was issued to and of
/// that client's pool.
pub(super) struct VerifiedAccess {
    pub client: Arc<ClientSettings>,
    pub pool: Arc<PoolSettings>,
    pub claims: Map<String, Value>,
}

/// A valid access token and the user it names.
pub(super) struct TokenUser {
    pub access: VerifiedAccess,
    pub user: UserRecord,
}

/// What an OAuth grant puts in the tokens: its scopes, the authorize request's `nonce`, the
/// sign-in's `auth_time`.
pub(super) struct OAuthGrantClaims<'a> {
    pub scopes: &'a [String],
    pub nonce: Option<&'a str>,
    /// When the user signed in (managed login's session), if not now.
    pub auth_time: Option<i64>,
    /// The grant answers a refresh token (the code grant does, the implicit grant never).
    pub refresh_token: bool,
}

/// What a successful sign-in or refresh answers (`AuthenticationResult`).
#[derive(Clone, Debug)]
pub struct AuthTokens {
    pub access_token: String,
    pub id_token: String,
    /// Only on sign-in; a refresh answers none.
    pub refresh_token: Option<String>,
    pub expires_in: i64,
    /// Whether the token endpoint answers the ID token: the OAuth grant (or the grant the
    /// refreshed token came from) had `openid`, or the tokens are the API sign-in's.
    pub openid: bool,
}

/// A pool's keys: the ones that sign now and every one that still verifies.
struct PoolKeys {
    id: PrivateKey,
    access: PrivateKey,
    verifying: Vec<(TokenUse, PublicKey)>,
}

impl Service {
    /// The issuer of a pool's tokens: the public base URL and the pool id.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!(
            "{}/{}",
            self.settings.public_url.trim_end_matches('/'),
            pool_id
        )
    }

    /// The base URL clients reach this server at (`--public-url`).
    pub fn public_url(&self) -> &str {
        self.settings.public_url.trim_end_matches('/')
    }

    /// The pool's JWKS entries (every key that still verifies).
    pub async fn jwks(&self, pool_id: &str) -> DomainResult<Vec<Value>> {
        self.pool_settings(pool_id).await?;
        let keys = self.pool_keys(pool_id, false).await?;
        Ok(keys.verifying.iter().map(|(_, k)| k.jwk()).collect())
    }

    /// The pool's keys: this thread's copy while it is fresh (unless `reread`), else read
    /// from the store (creating them for a pool that has none: a pool made before keys came
    /// with the pool, or rotated by a CLI that only retired them).
    async fn pool_keys(&self, pool_id: &str, reread: bool) -> DomainResult<Arc<PoolKeys>> {
        let now = self.clock.now();
        if !reread {
            let cached = POOL_KEYS.with_borrow(|cache| {
                cache
                    .get(pool_id)
                    .filter(|(read_at, _)| (*read_at..*read_at + KEYS_REREAD_SECS).contains(&now))
                    .map(|(_, keys)| keys.clone())
            });
            if let Some(keys) = cached {
                return Ok(keys);
            }
        }
        let mut records = self.store.signing_keys(pool_id).await?;
        if !records.iter().any(|k| k.retired_at.is_none()) {
            records = self.create_signing_keys(pool_id).await?;
        }
        let keys = Arc::new(self.parse_keys(&records)?);
        POOL_KEYS.with_borrow_mut(|cache| {
            if cache.len() >= POOLS_PER_THREAD {
                cache.clear();
            }
            cache.insert(pool_id.to_string(), (now, keys.clone()));
        });
        Ok(keys)
    }

    fn parse_keys(&self, records: &[SigningKeyRecord]) -> DomainResult<PoolKeys> {
        let stored = |e| DomainError::internal("stored signing key", e);
        let mut id = None;
        let mut access = None;
        let mut verifying = Vec::new();
        let now = self.clock.now();
        // A retired key verifies (and stays in the JWKS) until every token it signed has
        // expired: ID and access tokens live a day at most.
        let records = records.iter().filter(|k| {
            k.retired_at
                .is_none_or(|at| now - at < RETIRED_KEY_VERIFIES_SECS)
        });
        for record in records {
            let key = PrivateKey::from_pkcs8_der(record.kid.clone(), &record.private_key)
                .map_err(stored)?;
            if record.retired_at.is_none() {
                let slot = match record.token_use {
                    TokenUse::Id => &mut id,
                    TokenUse::Access => &mut access,
                };
                // Newest first: the first live key of each use signs.
                if slot.is_none() {
                    *slot = Some(key.clone());
                }
            }
            verifying.push((record.token_use, key.public().map_err(stored)?));
        }
        match (id, access) {
            (Some(id), Some(access)) => Ok(PoolKeys {
                id,
                access,
                verifying,
            }),
            _ => Err(DomainError::internal(
                "signing keys",
                "the pool has no live key for each token use",
            )),
        }
    }

    /// Generates the pool's two keys (off the async threads: RSA key generation takes a
    /// while) and stores them unless another instance stored its own first.
    async fn create_signing_keys(&self, pool_id: &str) -> DomainResult<Vec<SigningKeyRecord>> {
        let keys = self.generate_signing_keys().await?;
        Ok(self.store.add_signing_keys(pool_id, keys).await?)
    }

    /// `new_signing_keys` on a blocking thread.
    pub(super) async fn generate_signing_keys(&self) -> DomainResult<Vec<SigningKeyRecord>> {
        let now = self.clock.now();
        tokio::task::spawn_blocking(move || new_signing_keys(now))
            .await
            .map_err(|e| DomainError::internal("generating signing keys", e))?
            .map_err(|e| DomainError::internal("generating signing keys", e))
    }

    /// ID and access tokens for `user` (and a new refresh token when `refresh` is None:
    /// a sign-in; a refresh passes the token it refreshes).
    pub(super) async fn issue_tokens(
        &self,
        sign_in: &SignIn<'_>,
        user: &UserRecord,
        refresh: Option<&RefreshTokenRecord>,
        source: &str,
    ) -> DomainResult<AuthTokens> {
        self.issue_tokens_for(sign_in, user, refresh, source, None)
            .await
    }

    /// `issue_tokens`, for an OAuth grant: its scopes (instead of the API's
    /// `aws.cognito.signin.user.admin`) and its `nonce` in the ID token.
    pub(super) async fn issue_tokens_for(
        &self,
        sign_in: &SignIn<'_>,
        user: &UserRecord,
        refresh: Option<&RefreshTokenRecord>,
        source: &str,
        grant: Option<&OAuthGrantClaims<'_>>,
    ) -> DomainResult<AuthTokens> {
        // A grant's scopes; a refresh's are those its refresh token was issued with (an
        // OAuth grant's), else the API sign-in's `aws.cognito.signin.user.admin`.
        let (granted, oauth): (Vec<String>, bool) =
            match (grant, refresh.and_then(|r| r.scopes.as_deref())) {
                (Some(g), _) => (g.scopes.to_vec(), true),
                (None, Some(scopes)) => (
                    scopes.split_whitespace().map(str::to_string).collect(),
                    true,
                ),
                (None, None) => (vec![ADMIN_SCOPE.to_string()], false),
            };
        let (pool, client) = (sign_in.pool, sign_in.client);
        let keys = self.pool_keys(&pool.id, false).await?;
        let now = self.clock.now();
        let (auth_time, origin_jti) = match refresh {
            Some(r) => (r.auth_time, r.origin_jti.clone()),
            None => (
                grant.and_then(|g| g.auth_time).unwrap_or(now),
                uuid::Uuid::new_v4().to_string(),
            ),
        };
        let event_id = uuid::Uuid::new_v4().to_string();
        let issuer = self.issuer(&pool.id);
        let mut common = Map::new();
        common.insert("sub".into(), json!(user.sub));
        common.insert("iss".into(), json!(issuer));
        common.insert("event_id".into(), json!(event_id));
        common.insert("auth_time".into(), json!(auth_time));
        common.insert("iat".into(), json!(now));
        if client.enable_token_revocation {
            common.insert("origin_jti".into(), json!(origin_jti));
        }

        let mut access = common.clone();
        access.insert("client_id".into(), json!(client.client_id));
        access.insert("token_use".into(), json!("access"));
        access.insert("scope".into(), json!(granted.join(" ")));
        access.insert("exp".into(), json!(now + client.access_token_validity_secs));
        access.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        access.insert("username".into(), json!(user.username));

        let mut id = common;
        id.insert("aud".into(), json!(client.client_id));
        id.insert("token_use".into(), json!("id"));
        id.insert("cognito:username".into(), json!(user.username));
        id.insert("exp".into(), json!(now + client.id_token_validity_secs));
        id.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
        if let Some(nonce) = grant.and_then(|g| g.nonce) {
            id.insert("nonce".into(), json!(nonce));
        }
        for (name, value) in readable_attributes(client, &user.attributes) {
            let claim = if BOOLEAN_CLAIMS.contains(&name.as_str()) {
                json!(value == "true")
            } else {
                json!(value)
            };
            id.insert(name, claim);
        }

        // The user's groups as of now (a refresh sees membership changes).
        let groups = super::groups::group_claims(
            &self.store.user_groups(&pool.id, &user.username_key).await?,
        );
        apply_group_override(&mut id, &mut access, &groups);

        // PreTokenGeneration may add, change and suppress claims (never the protected ones,
        // which its answer is refused for), the groups and roles, and scopes.
        let overrides = self
            .pre_token_generation(
                &sign_in.trigger_call(&user.username),
                source,
                &super::signup::trigger_attributes(user, user.attributes.clone(), user.status),
                &groups,
                &granted,
                sign_in.client_metadata,
            )
            .await?;
        apply_claim_changes(&mut id, &overrides.id);
        apply_claim_changes(&mut access, &overrides.access);
        if let Some(groups) = &overrides.groups {
            apply_group_override(&mut id, &mut access, groups);
        }
        if !overrides.scopes_to_add.is_empty() || !overrides.scopes_to_suppress.is_empty() {
            let mut scopes = granted.clone();
            for scope in &overrides.scopes_to_add {
                if !scopes.contains(scope) {
                    scopes.push(scope.clone());
                }
            }
            scopes.retain(|s| !overrides.scopes_to_suppress.contains(s));
            access.insert("scope".into(), json!(scopes.join(" ")));
        }

        let refresh_token = match refresh {
            Some(_) => None,
            None if grant.is_some_and(|g| !g.refresh_token) => None,
            None => {
                let token = cognate_crypto::ids::random_token(REFRESH_TOKEN_BYTES);
                self.store
                    .insert_refresh_token(RefreshTokenRecord {
                        digest: self.refresh_digest(&token),
                        pool_id: pool.id.clone(),
                        username_key: user.username_key.clone(),
                        client_id: client.client_id.clone(),
                        origin_jti,
                        auth_time,
                        issued_at: now,
                        expires_at: now + client.refresh_token_validity_secs,
                        revoked_at: None,
                        scopes: grant.map(|g| g.scopes.join(" ")),
                    })
                    .await?;
                Some(token)
            }
        };
        let signing = |e| DomainError::internal("signing a token", e);
        let access_token = keys.access.sign(&access).map_err(signing)?;
        if oauth {
            // The OAuth endpoints' ID tokens bind the access token issued with them.
            id.insert(
                "at_hash".into(),
                json!(cognate_crypto::codes::at_hash(&access_token)),
            );
        }
        Ok(AuthTokens {
            access_token,
            id_token: keys.id.sign(&id).map_err(signing)?,
            refresh_token,
            expires_in: client.access_token_validity_secs,
            openid: !oauth || granted.iter().any(|s| s == "openid"),
        })
    }

    /// Signs access-token claims with the pool's current access key (the OAuth endpoints'
    /// tokens).
    pub(super) async fn sign_access_claims(
        &self,
        pool_id: &str,
        claims: &Map<String, Value>,
    ) -> DomainResult<String> {
        let keys = self.pool_keys(pool_id, false).await?;
        keys.access
            .sign(claims)
            .map_err(|e| DomainError::internal("signing a token", e))
    }

    /// The keyed digest a refresh token is stored and found by.
    pub(super) fn refresh_digest(&self, token: &str) -> Vec<u8> {
        cognate_crypto::codes::digest(&self.code_key, "refresh_token", "", token)
    }

    /// The claims of a valid access token of one of this server's pools, with the issuing
    /// client's and the pool's settings: signed by the pool's access key, issued by this
    /// server to a client that still exists, unexpired, not revoked.
    pub(super) async fn verify_access_token(&self, token: &str) -> DomainResult<VerifiedAccess> {
        let kid = jwt::key_id(token).map_err(|_| DomainError::InvalidAccessToken)?;
        let claims = unverified_claims(token).ok_or(DomainError::InvalidAccessToken)?;
        // The client names the pool (its settings are cached per revision, the pool's with
        // them); the signature check below is what makes the claim true.
        let client_id = claims
            .get("client_id")
            .and_then(Value::as_str)
            .ok_or(DomainError::InvalidAccessToken)?;
        let (client, pool) = match self.client_context(client_id).await {
            Ok(context) => context,
            Err(DomainError::ClientNotFound { .. }) => return Err(DomainError::InvalidAccessToken),
            Err(e) => return Err(e),
        };
        let find = |keys: &PoolKeys| {
            keys.verifying
                .iter()
                .find(|(token_use, k)| *token_use == TokenUse::Access && k.kid() == kid)
                .map(|(_, k)| k.clone())
        };
        let key = match find(&*self.pool_keys(&pool.id, false).await?) {
            Some(key) => key,
            // Keys rotated since this thread read them (or a forged kid).
            None => find(&*self.pool_keys(&pool.id, true).await?)
                .ok_or(DomainError::InvalidAccessToken)?,
        };
        let claims = jwt::verify(token, &key).map_err(|e| match e {
            TokenError::Malformed
            | TokenError::Algorithm
            | TokenError::UnknownKey
            | TokenError::Signature => DomainError::InvalidAccessToken,
        })?;
        let claim = |name: &str| claims.get(name).and_then(Value::as_str);
        if claim("iss") != Some(self.issuer(&pool.id).as_str())
            || claim("token_use") != Some("access")
            || claim("client_id") != Some(client.client_id.as_str())
        {
            return Err(DomainError::InvalidAccessToken);
        }
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or(DomainError::InvalidAccessToken)?;
        if exp <= self.clock.now() {
            return Err(DomainError::AccessTokenExpired);
        }
        if let Some(origin) = claims.get("origin_jti").and_then(Value::as_str) {
            if self.store.origin_revoked(origin, self.clock.now()).await? == Some(true) {
                return Err(DomainError::AccessTokenRevoked);
            }
        }
        Ok(VerifiedAccess {
            client,
            pool,
            claims,
        })
    }

    /// GetUser: the user an access token was issued to, with the attributes the issuing
    /// client may read.
    pub async fn get_user(
        &self,
        access_token: &str,
    ) -> DomainResult<(UserRecord, Vec<(String, String)>)> {
        let TokenUser { access, user } = self.token_user(access_token).await?;
        let client = access.client;
        let mut attributes = vec![("sub".to_string(), user.sub.clone())];
        attributes.extend(
            readable_attributes(&client, &user.attributes)
                .into_iter()
                .filter(|(name, _)| name != "sub"),
        );
        Ok((user, attributes))
    }
}

/// Adds or overrides, then suppresses (suppression wins for a claim named in both).
fn apply_claim_changes(claims: &mut Map<String, Value>, changes: &crate::events::ClaimChanges) {
    for (name, value) in &changes.add_or_override {
        claims.insert(name.clone(), value.clone());
    }
    for name in &changes.suppress {
        claims.remove(name);
    }
}

/// The groups in both tokens and the roles in the ID token (the user's own, or as the
/// PreTokenGeneration function named them); an empty list or null leaves the claim out.
fn apply_group_override(
    id: &mut Map<String, Value>,
    access: &mut Map<String, Value>,
    groups: &crate::events::GroupOverride,
) {
    for claims in [&mut *id, &mut *access] {
        set_or_remove(claims, "cognito:groups", &groups.groups);
    }
    set_or_remove(id, "cognito:roles", &groups.iam_roles);
    match &groups.preferred_role {
        Some(role) => id.insert("cognito:preferred_role".into(), json!(role)),
        None => id.remove("cognito:preferred_role"),
    };
}

fn set_or_remove(claims: &mut Map<String, Value>, name: &str, values: &[String]) {
    if values.is_empty() {
        claims.remove(name);
    } else {
        claims.insert(name.into(), json!(values));
    }
}

/// A token's claims without checking its signature (only to find which pool's keys to check
/// it with).
fn unverified_claims(token: &str) -> Option<Map<String, Value>> {
    use base64::Engine;
    let claims = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(claims)
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(map) => Some(map),
        _ => None,
    }
}

/// The user's attributes the client may read (`ReadAttributes`; all when the client names
/// none).
fn readable_attributes(
    client: &ClientSettings,
    attributes: &BTreeMap<String, String>,
) -> Vec<(String, String)> {
    attributes
        .iter()
        .filter(|(name, _)| {
            client
                .read_attributes
                .as_ref()
                .is_none_or(|list| list.iter().any(|a| a == *name))
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}
