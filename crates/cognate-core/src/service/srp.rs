//! `USER_SRP_AUTH` (BEHAV g, spec i.4, ii.2): InitiateAuth answers the `PASSWORD_VERIFIER`
//! challenge, keeping the server's ephemeral `b` and the client's `A` in a stored,
//! single-use session found by the `SECRET_BLOCK` the client echoes back (clients send no
//! `Session` in the second call); RespondToAuthChallenge checks the proof, the lockout and the
//! user's status, then answers tokens.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::signin::{Challenge, SignIn, SignInStep};
use super::Service;
use crate::error::{DomainError, DomainResult};
use crate::records::{AuthSessionRecord, UserStatus};
use crate::rules::lockout;
use crate::settings::PoolSettings;

pub const PASSWORD_VERIFIER: &str = "PASSWORD_VERIFIER";
/// Random bytes in a `SECRET_BLOCK` (a multiple of 3: standard Base64 without padding).
const SECRET_BLOCK_BYTES: usize = 48;
/// How far a proof's `TIMESTAMP` may be from the server's clock (AWS: "a few seconds"; the
/// session's own expiry bounds the exchange anyway).
const TIMESTAMP_SKEW_SECS: i64 = 300;

/// What the second call needs from the first.
#[derive(Serialize, Deserialize)]
struct SrpState {
    /// The server's ephemeral private `b`, hex.
    b: String,
    /// The client's `SRP_A`, as sent.
    a: String,
    user_id_for_srp: String,
    /// Only for a name of no user (a client hiding existence): the verifier of a random
    /// password, so that no proof matches.
    simulated_verifier: Option<String>,
}

impl Service {
    /// Step one: the PASSWORD_VERIFIER challenge for `username`.
    pub(super) async fn srp_challenge(
        &self,
        sign_in: &SignIn<'_>,
        username: &str,
        srp_a: &str,
        secret_hash: Option<&str>,
    ) -> DomainResult<SignInStep> {
        let (client, pool) = (sign_in.client, sign_in.pool);
        let user = self.find_user(pool, username).await?;
        let internal = user
            .as_ref()
            .map(|u| u.username.as_str())
            .unwrap_or(username);
        self.check_secret_hash(client, secret_hash, &[username, internal])?;
        self.run_pre_authentication(sign_in, user.as_ref(), username)
            .await?;
        cognate_crypto::srp::check_client_a(srp_a).map_err(|_| DomainError::InvalidSrpA)?;
        let (name_key, user_id_for_srp, salt, verifier, simulated) = match &user {
            Some(u) => {
                if !u.enabled {
                    return Err(DomainError::UserDisabled);
                }
                if u.status == UserStatus::Unconfirmed {
                    return Err(DomainError::UserNotConfirmed);
                }
                match (&u.srp_salt, &u.srp_verifier) {
                    (Some(salt), Some(verifier)) => (
                        u.username_key.clone(),
                        u.username.clone(),
                        salt.clone(),
                        verifier.clone(),
                        None,
                    ),
                    // A user without an SRP verifier (none was set) cannot prove a password.
                    _ => self.simulated(pool, &u.username_key),
                }
            }
            None if client.hides_user_existence() => {
                self.simulated(pool, &pool.username_key(username))
            }
            None => return Err(DomainError::UserNotFound),
        };
        let verifier_for_b = simulated.as_deref().unwrap_or(&verifier);
        let (b, srp_b) = cognate_crypto::srp::server_ephemeral(verifier_for_b, None)
            .map_err(|e| DomainError::internal("SRP ephemeral", e))?;
        let secret_block = cognate_crypto::ids::random_standard_b64(SECRET_BLOCK_BYTES);
        let now = self.clock.now();
        let state = SrpState {
            b: cognate_crypto::srp::ephemeral_to_hex(&b),
            a: srp_a.to_string(),
            user_id_for_srp: user_id_for_srp.clone(),
            simulated_verifier: simulated,
        };
        self.store
            .insert_auth_session(AuthSessionRecord {
                digest: self.session_digest(&secret_block),
                pool_id: pool.id.clone(),
                client_id: client.client_id.clone(),
                name_key,
                challenge: PASSWORD_VERIFIER.to_string(),
                state: serde_json::to_string(&state)
                    .map_err(|e| DomainError::internal("SRP state", e))?,
                created_at: now,
                expires_at: now + client.auth_session_validity_secs,
                used_at: None,
            })
            .await?;
        Ok(SignInStep::Challenge(Challenge {
            name: PASSWORD_VERIFIER,
            parameters: BTreeMap::from([
                ("SALT".to_string(), salt),
                ("SRP_B".to_string(), srp_b),
                ("SECRET_BLOCK".to_string(), secret_block),
                ("USERNAME".to_string(), user_id_for_srp.clone()),
                ("USER_ID_FOR_SRP".to_string(), user_id_for_srp),
            ]),
            session: None,
            available: Vec::new(),
        }))
    }

    /// A stable salt and `USER_ID_FOR_SRP` for a name of no user, and a verifier no password
    /// matches (spec i.6: the same answers every time for the same pool and name).
    fn simulated(
        &self,
        pool: &PoolSettings,
        name_key: &str,
    ) -> (String, String, String, String, Option<String>) {
        let seed =
            cognate_crypto::codes::digest(&self.code_key, "srp-simulated", &pool.id, name_key);
        let mut id = [0u8; 16];
        id.copy_from_slice(&seed[..16]);
        let user_id = uuid::Builder::from_random_bytes(id).into_uuid().to_string();
        let verifier = cognate_crypto::srp::simulated_verifier(&seed[16..]);
        (
            name_key.to_string(),
            user_id,
            verifier.salt_hex,
            String::new(),
            Some(verifier.verifier_hex),
        )
    }

    /// Step two: the PASSWORD_VERIFIER answer.
    pub(super) async fn srp_answer(
        &self,
        sign_in: &SignIn<'_>,
        responses: &BTreeMap<String, String>,
    ) -> DomainResult<SignInStep> {
        let (client, pool) = (sign_in.client, sign_in.pool);
        let response = |name: &'static str| {
            responses
                .get(name)
                .map(String::as_str)
                .ok_or(DomainError::MissingParameter { name })
        };
        let username = response("USERNAME")?;
        let secret_block = response("PASSWORD_CLAIM_SECRET_BLOCK")?;
        let signature = response("PASSWORD_CLAIM_SIGNATURE")?;
        let timestamp = response("TIMESTAMP")?;
        let now = self.clock.now();
        let session = self
            .take_session(sign_in, secret_block, PASSWORD_VERIFIER)
            .await?;
        let state: SrpState = serde_json::from_str(&session.state)
            .map_err(|e| DomainError::internal("stored SRP state", e))?;
        let user = match state.simulated_verifier {
            Some(_) => None,
            None => self
                .find_user(pool, &session.name_key)
                .await?
                .filter(|u| u.username_key == session.name_key),
        };
        self.check_secret_hash(
            client,
            responses.get("SECRET_HASH").map(String::as_str),
            &[username, &state.user_id_for_srp],
        )?;
        let failures = self
            .store
            .sign_in_failures(&pool.id, &session.name_key)
            .await?;
        if lockout::is_locked(failures.as_ref(), now) {
            return Err(DomainError::PasswordAttemptsExceeded);
        }
        let verifier = match (&user, &state.simulated_verifier) {
            (Some(u), None) => u.srp_verifier.clone(),
            (None, Some(v)) => Some(v.clone()),
            _ => None,
        };
        let fresh = cognate_crypto::srp::parse_timestamp(timestamp)
            .is_some_and(|t| (t - now).abs() <= TIMESTAMP_SKEW_SECS);
        let proven = match verifier {
            Some(verifier) if fresh && state.simulated_verifier.is_none() => {
                let pool_name = cognate_crypto::srp::pool_name(&pool.id).to_string();
                let (secret_block, signature, timestamp) = (
                    secret_block.to_string(),
                    signature.to_string(),
                    timestamp.to_string(),
                );
                // Two 3072-bit exponentiations: off the async threads.
                tokio::task::spawn_blocking(move || {
                    let b = cognate_crypto::srp::ephemeral_from_hex(&state.b)?;
                    cognate_crypto::srp::verify_password_claim(
                        &pool_name,
                        &state.user_id_for_srp,
                        &verifier,
                        &b,
                        &state.a,
                        &secret_block,
                        &timestamp,
                        &signature,
                    )
                })
                .await
                .map_err(|e| DomainError::internal("SRP proof", e))?
                .unwrap_or(false)
            }
            _ => false,
        };
        let Some(user) = user.filter(|_| proven) else {
            self.store
                .record_sign_in_failure(&pool.id, &session.name_key, now)
                .await?;
            self.record_auth_event(sign_in.caller, pool, &session.name_key, "SignIn", "Fail")
                .await?;
            return Err(DomainError::IncorrectCredentials);
        };
        if !user.enabled {
            return Err(DomainError::UserDisabled);
        }
        if failures.is_some() {
            self.store
                .clear_sign_in_failures(&pool.id, &session.name_key)
                .await?;
        }
        self.tokens_for_status(sign_in, &user).await
    }

    /// The keyed digest a challenge session is stored and found by.
    pub(super) fn session_digest(&self, token: &str) -> Vec<u8> {
        cognate_crypto::codes::digest(&self.code_key, "auth_session", "", token)
    }
}
