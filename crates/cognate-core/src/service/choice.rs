//! `USER_AUTH`, choice-based sign-in (spec i.8, ii.4), with the factors this server has:
//! `PASSWORD` and `PASSWORD_SRP`. A preferred factor that is on offer is used at once;
//! otherwise the answer is `SELECT_CHALLENGE` with `AvailableChallenges` and a stored,
//! single-use `Session`, answered by RespondToAuthChallenge with `ANSWER` (and `PASSWORD` or
//! `SRP_A`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::signin::{Challenge, SignIn, SignInStep};
use super::Service;
use crate::error::{DomainError, DomainResult};
use crate::records::AuthSessionRecord;

pub const SELECT_CHALLENGE: &str = "SELECT_CHALLENGE";
/// The first factors this server can offer, in the order AWS lists them.
const FACTORS: &[&str] = &["PASSWORD_SRP", "PASSWORD"];
/// Random bytes in a `Session` (opaque to clients; 20–2048 characters on the wire).
const SESSION_BYTES: usize = 48;

#[derive(Serialize, Deserialize)]
struct SelectState {
    /// The name the sign-in was started with.
    username: String,
}

impl Service {
    pub(super) async fn user_auth(
        &self,
        sign_in: &SignIn<'_>,
        parameters: &BTreeMap<String, String>,
    ) -> DomainResult<SignInStep> {
        let (client, pool) = (sign_in.client, sign_in.pool);
        let username = parameters
            .get("USERNAME")
            .ok_or(DomainError::MissingParameter { name: "USERNAME" })?;
        let secret_hash = parameters.get("SECRET_HASH").map(String::as_str);
        if let Some(preferred) = parameters.get("PREFERRED_CHALLENGE") {
            if FACTORS.contains(&preferred.as_str()) {
                return self
                    .answer_factor(sign_in, username, preferred, parameters, secret_hash)
                    .await;
            }
        }
        let user = self.find_user(pool, username).await?;
        let internal = user
            .as_ref()
            .map(|u| u.username.as_str())
            .unwrap_or(username);
        self.check_secret_hash(client, secret_hash, &[username, internal])?;
        if user.is_none() && !client.hides_user_existence() {
            return Err(DomainError::UserNotFound);
        }
        let session = cognate_crypto::ids::random_token(SESSION_BYTES);
        let now = self.clock.now();
        self.store
            .insert_auth_session(AuthSessionRecord {
                digest: self.session_digest(&session),
                pool_id: pool.id.clone(),
                client_id: client.client_id.clone(),
                name_key: user
                    .as_ref()
                    .map(|u| u.username_key.clone())
                    .unwrap_or_else(|| pool.username_key(username)),
                challenge: SELECT_CHALLENGE.to_string(),
                state: serde_json::to_string(&SelectState {
                    username: username.clone(),
                })
                .map_err(|e| DomainError::internal("session state", e))?,
                created_at: now,
                expires_at: now + client.auth_session_validity_secs,
                used_at: None,
            })
            .await?;
        Ok(SignInStep::Challenge(Challenge {
            name: SELECT_CHALLENGE,
            parameters: BTreeMap::new(),
            session: Some(session),
            available: FACTORS.to_vec(),
        }))
    }

    /// RespondToAuthChallenge `SELECT_CHALLENGE`: the chosen factor, in the same call.
    pub(super) async fn select_challenge_answer(
        &self,
        sign_in: &SignIn<'_>,
        session: Option<&str>,
        responses: &BTreeMap<String, String>,
    ) -> DomainResult<SignInStep> {
        let session = session.ok_or(DomainError::InvalidSession)?;
        let answer = responses
            .get("ANSWER")
            .ok_or(DomainError::MissingParameter { name: "ANSWER" })?;
        let record = self
            .take_session(sign_in, session, SELECT_CHALLENGE)
            .await?;
        if !FACTORS.contains(&answer.as_str()) {
            return Err(DomainError::ChallengeNotOffered);
        }
        let state: SelectState = serde_json::from_str(&record.state)
            .map_err(|e| DomainError::internal("stored session state", e))?;
        let secret_hash = responses.get("SECRET_HASH").map(String::as_str);
        self.answer_factor(sign_in, &state.username, answer, responses, secret_hash)
            .await
    }

    /// A chosen first factor: the password itself, or SRP's first step.
    async fn answer_factor(
        &self,
        sign_in: &SignIn<'_>,
        username: &str,
        factor: &str,
        values: &BTreeMap<String, String>,
        secret_hash: Option<&str>,
    ) -> DomainResult<SignInStep> {
        if factor == "PASSWORD" {
            let password = values
                .get("PASSWORD")
                .ok_or(DomainError::MissingParameter { name: "PASSWORD" })?;
            self.password_sign_in(sign_in, username, password, secret_hash)
                .await
        } else {
            let srp_a = values
                .get("SRP_A")
                .ok_or(DomainError::MissingParameter { name: "SRP_A" })?;
            self.srp_challenge(sign_in, username, srp_a, secret_hash)
                .await
        }
    }
}
