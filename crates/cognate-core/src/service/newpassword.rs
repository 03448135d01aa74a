//! The `NEW_PASSWORD_REQUIRED` challenge (spec ii.3): a `FORCE_CHANGE_PASSWORD` user who
//! proved the temporary password chooses a new one, supplying the pool's required attributes
//! it lacks, in the same call that signs it in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::signin::{Challenge, SignIn, SignInStep};
use super::Service;
use crate::error::{DomainError, DomainResult, Invalid};
use crate::records::{AuthSessionRecord, PasswordChange, UserRecord, UserStatus};
use crate::settings::PoolSettings;

pub const NEW_PASSWORD_REQUIRED: &str = "NEW_PASSWORD_REQUIRED";
/// Trigger source of the tokens issued by this challenge.
const TOKENS_FOR_NEW_PASSWORD: &str = "TokenGeneration_NewPasswordChallenge";
/// Responses name attributes as `userAttributes.<name>`.
pub(super) const ATTRIBUTE_PREFIX: &str = "userAttributes.";
/// Attributes only the server writes.
const SERVER_OWNED: &[&str] = &[
    "sub",
    "email_verified",
    "phone_number_verified",
    "identities",
];
const SESSION_BYTES: usize = 48;

#[derive(Serialize, Deserialize)]
struct NewPasswordState {
    username: String,
}

impl Service {
    /// The challenge, with the required attributes the user lacks and the ones it has.
    pub(super) async fn new_password_challenge(
        &self,
        sign_in: &SignIn<'_>,
        user: &UserRecord,
    ) -> DomainResult<SignInStep> {
        let pool = sign_in.pool;
        let required: Vec<String> = missing_required(sign_in, &user.attributes)
            .into_iter()
            .map(|name| format!("{ATTRIBUTE_PREFIX}{name}"))
            .collect();
        let session = cognate_crypto::ids::random_token(SESSION_BYTES);
        let now = self.clock.now();
        self.store
            .insert_auth_session(AuthSessionRecord {
                digest: self.session_digest(&session),
                pool_id: pool.id.clone(),
                client_id: sign_in.client.client_id.clone(),
                name_key: user.username_key.clone(),
                challenge: NEW_PASSWORD_REQUIRED.to_string(),
                state: serde_json::to_string(&NewPasswordState {
                    username: user.username.clone(),
                })
                .map_err(|e| DomainError::internal("session state", e))?,
                created_at: now,
                expires_at: now + sign_in.client.auth_session_validity_secs,
                used_at: None,
            })
            .await?;
        let json = |v: serde_json::Value| v.to_string();
        Ok(SignInStep::Challenge(Challenge {
            name: NEW_PASSWORD_REQUIRED,
            parameters: BTreeMap::from([
                ("USER_ID_FOR_SRP".to_string(), user.username.clone()),
                (
                    "requiredAttributes".to_string(),
                    json(serde_json::json!(required)),
                ),
                (
                    "userAttributes".to_string(),
                    json(serde_json::json!(user.attributes)),
                ),
            ]),
            session: Some(session),
            available: Vec::new(),
        }))
    }

    /// RespondToAuthChallenge `NEW_PASSWORD_REQUIRED`.
    pub(super) async fn new_password_answer(
        &self,
        sign_in: &SignIn<'_>,
        session: Option<&str>,
        responses: &BTreeMap<String, String>,
    ) -> DomainResult<SignInStep> {
        let user = self.set_new_password(sign_in, session, responses).await?;
        self.authenticated(sign_in, &user, TOKENS_FOR_NEW_PASSWORD)
            .await
            .map(SignInStep::Tokens)
    }

    /// The challenge's answer checked and the new password stored: the session taken, the
    /// SecretHash, the attributes given, the pool's required ones, the password policy.
    /// Answers the user as it now is (CONFIRMED); the caller finishes the sign-in.
    pub(super) async fn set_new_password(
        &self,
        sign_in: &SignIn<'_>,
        session: Option<&str>,
        responses: &BTreeMap<String, String>,
    ) -> DomainResult<UserRecord> {
        let session = session.ok_or(DomainError::InvalidSession)?;
        let new_password = responses
            .get("NEW_PASSWORD")
            .ok_or(DomainError::MissingParameter {
                name: "NEW_PASSWORD",
            })?;
        let record = self
            .take_session(sign_in, session, NEW_PASSWORD_REQUIRED)
            .await?;
        let pool = sign_in.pool;
        let user = self
            .find_user(pool, &record.name_key)
            .await?
            .filter(|u| {
                u.username_key == record.name_key && u.status == UserStatus::ForceChangePassword
            })
            .ok_or(DomainError::InvalidSession)?;
        let state: NewPasswordState = serde_json::from_str(&record.state)
            .map_err(|e| DomainError::internal("stored session state", e))?;
        self.check_secret_hash(
            sign_in.client,
            responses.get("SECRET_HASH").map(String::as_str),
            &[
                responses
                    .get("USERNAME")
                    .map(String::as_str)
                    .unwrap_or_default(),
                &state.username,
            ],
        )?;
        let mut attributes = user.attributes.clone();
        let mut given = BTreeMap::new();
        for (key, value) in responses {
            let Some(name) = key.strip_prefix(ATTRIBUTE_PREFIX) else {
                continue;
            };
            if SERVER_OWNED.contains(&name) {
                return Err(DomainError::Invalid(Invalid::NonMutableAttribute {
                    name: name.to_string(),
                }));
            }
            // A required attribute that already has a value is changed afterwards, with
            // UpdateUserAttributes, not here.
            if user.attributes.get(name).is_some_and(|v| !v.is_empty())
                && pool.schema_attribute(name).is_some_and(|a| a.required)
            {
                continue;
            }
            given.insert(name.to_string(), value.clone());
        }
        super::attributes::check_client_writable(sign_in.client, &given)?;
        attributes.extend(given);
        if let Some(missing) = missing_required(sign_in, &attributes).into_iter().next() {
            return Err(DomainError::Invalid(Invalid::RequiredAttributeMissing {
                name: missing,
            }));
        }
        super::attributes::check_schema(pool, &attributes)?;
        self.store_password(
            pool,
            &user,
            new_password,
            Some(UserStatus::Confirmed),
            Some(attributes.clone()),
        )
        .await?;
        Ok(UserRecord {
            status: UserStatus::Confirmed,
            attributes,
            ..user
        })
    }

    /// AdminSetUserPassword: `permanent` confirms the user with it; otherwise it is a
    /// temporary password that the next sign-in must replace (`NEW_PASSWORD_REQUIRED`).
    pub async fn admin_set_user_password(
        &self,
        pool_id: &str,
        username: &str,
        password: &str,
        permanent: bool,
    ) -> DomainResult<()> {
        let (pool, user) = self.admin_user(pool_id, username).await?;
        let status = if permanent {
            UserStatus::Confirmed
        } else {
            UserStatus::ForceChangePassword
        };
        self.store_password(&pool, &user, password, Some(status), None)
            .await
    }

    /// Checks `password` against the pool's policy and password history, hashes it (Argon2id and the SRP
    /// verifier) and stores it as the user's, with the status and attributes it leaves the
    /// user in (None: unchanged). Every way a password is set goes through here.
    pub(super) async fn store_password(
        &self,
        pool: &PoolSettings,
        user: &UserRecord,
        password: &str,
        status: Option<UserStatus>,
        attributes: Option<BTreeMap<String, String>>,
    ) -> DomainResult<()> {
        super::attributes::check_password(&pool.password_policy, password)?;
        if self.password_reused(pool, user, password).await? {
            return Err(DomainError::PasswordReused);
        }
        let (password_hash, verifier) = self
            .hash_password(&pool.id, &user.username, password)
            .await?;
        self.store
            .set_password(PasswordChange {
                pool_id: pool.id.clone(),
                username_key: user.username_key.clone(),
                password_hash,
                srp_salt: verifier.salt_hex,
                srp_verifier: verifier.verifier_hex,
                status,
                attributes,
                history_keep: super::recovery::history_keep(pool),
                now: self.clock.now(),
            })
            .await?;
        Ok(())
    }
}

/// The pool's required attributes that `attributes` lacks (`sub` is the server's).
pub(super) fn missing_required(
    sign_in: &SignIn<'_>,
    attributes: &BTreeMap<String, String>,
) -> Vec<String> {
    sign_in
        .pool
        .schema_attributes
        .iter()
        .filter(|a| a.required && a.name != "sub")
        .filter(|a| attributes.get(&a.name).is_none_or(|v| v.is_empty()))
        .map(|a| a.name.clone())
        .collect()
}
