//! `CUSTOM_AUTH` (spec iv.4): DefineAuthChallenge decides, CreateAuthChallenge builds a
//! `CUSTOM_CHALLENGE`, the client answers, VerifyAuthChallengeResponse grades, and Define
//! decides again. Each round's state (the rounds so far, the private parameters) is kept in a
//! stored, single-use session, so the next answer may reach any instance; a failed answer
//! ends that session.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::signin::{Challenge, SignIn, SignInStep};
use super::Service;
use crate::error::{DomainError, DomainResult};
use crate::events::{self, ChallengeResult, CreatedChallenge, DefineDecision};
use crate::records::{AuthSessionRecord, UserRecord, UserStatus};
use crate::triggers::TriggerKind;

pub const CUSTOM_CHALLENGE: &str = "CUSTOM_CHALLENGE";
/// Random bytes in a custom-auth `Session`.
const SESSION_BYTES: usize = 48;

#[derive(Serialize, Deserialize)]
struct CustomState {
    /// The internal username, or the name given when no user has it.
    user_name: String,
    user_not_found: bool,
    history: Vec<ChallengeResult>,
    challenge: CreatedChallenge,
}

impl Service {
    pub(super) async fn custom_auth(
        &self,
        sign_in: &SignIn<'_>,
        parameters: &BTreeMap<String, String>,
    ) -> DomainResult<SignInStep> {
        let (client, pool) = (sign_in.client, sign_in.pool);
        let username = parameters
            .get("USERNAME")
            .ok_or(DomainError::MissingParameter { name: "USERNAME" })?;
        if parameters.contains_key("SRP_A") {
            return Err(DomainError::NotSupportedYet {
                what: "SRP inside CUSTOM_AUTH",
            });
        }
        self.check_custom_triggers(sign_in)?;
        let user = self.find_user(pool, username).await?;
        let internal = user
            .as_ref()
            .map(|u| u.username.as_str())
            .unwrap_or(username);
        self.check_secret_hash(
            client,
            parameters.get("SECRET_HASH").map(String::as_str),
            &[username, internal],
        )?;
        if let Some(u) = &user {
            if !u.enabled {
                return Err(DomainError::UserDisabled);
            }
            if u.status == UserStatus::Unconfirmed {
                return Err(DomainError::UserNotConfirmed);
            }
        } else if !client.hides_user_existence() {
            return Err(DomainError::UserNotFound);
        }
        self.run_pre_authentication(sign_in, user.as_ref(), username)
            .await?;
        self.next_custom_round(sign_in, user.as_ref(), username, Vec::new())
            .await
    }

    /// RespondToAuthChallenge `CUSTOM_CHALLENGE`.
    pub(super) async fn custom_answer(
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
            .take_session(sign_in, session, CUSTOM_CHALLENGE)
            .await?;
        let state: CustomState = serde_json::from_str(&record.state)
            .map_err(|e| DomainError::internal("stored custom-auth state", e))?;
        let user = if state.user_not_found {
            None
        } else {
            Some(
                self.find_user(sign_in.pool, &record.name_key)
                    .await?
                    .filter(|u| u.username_key == record.name_key)
                    .ok_or(DomainError::IncorrectCredentials)?,
            )
        };
        let responded_as = responses
            .get("USERNAME")
            .map(String::as_str)
            .unwrap_or_default();
        self.check_secret_hash(
            sign_in.client,
            responses.get("SECRET_HASH").map(String::as_str),
            &[responded_as, &state.user_name],
        )?;
        let correct = self
            .verify_custom_answer(sign_in, user.as_ref(), &state, answer)
            .await?;
        let mut history = state.history;
        history.push(ChallengeResult {
            challenge_name: CUSTOM_CHALLENGE.to_string(),
            challenge_result: correct,
            challenge_metadata: state.challenge.metadata,
        });
        self.next_custom_round(sign_in, user.as_ref(), &state.user_name, history)
            .await
    }

    /// Asks DefineAuthChallenge what comes after `history`, and does it.
    async fn next_custom_round(
        &self,
        sign_in: &SignIn<'_>,
        user: Option<&UserRecord>,
        name: &str,
        history: Vec<ChallengeResult>,
    ) -> DomainResult<SignInStep> {
        let attrs = trigger_attrs(user);
        let user_name = user.map_or(name, |u| u.username.as_str());
        let call = sign_in.trigger_call(user_name);
        let define = self.custom_trigger_arn(sign_in, TriggerKind::DefineAuthChallenge)?;
        let event = events::define_auth_challenge(
            &self.event_context(&call, "DefineAuthChallenge_Authentication"),
            &attrs,
            &history,
            sign_in.client_metadata,
            user.is_none(),
        );
        let output = self
            .invoke(TriggerKind::DefineAuthChallenge, define, &event)
            .await?;
        let decision = events::parse_define_auth_challenge(&output).map_err(|failure| {
            DomainError::Trigger {
                kind: TriggerKind::DefineAuthChallenge,
                failure,
            }
        })?;
        match (decision, user) {
            (DefineDecision::IssueTokens, Some(user)) => {
                self.tokens_for_status(sign_in, user).await
            }
            // A name of no user never signs in, whatever the function says.
            (DefineDecision::IssueTokens, None) | (DefineDecision::Fail, _) => {
                Err(DomainError::IncorrectCredentials)
            }
            (DefineDecision::Challenge(name), _) if name == CUSTOM_CHALLENGE => {
                self.create_custom_challenge(sign_in, user, user_name, history)
                    .await
            }
            (DefineDecision::Challenge(_), _) => Err(DomainError::NotSupportedYet {
                what: "A challenge other than CUSTOM_CHALLENGE in CUSTOM_AUTH",
            }),
        }
    }

    async fn create_custom_challenge(
        &self,
        sign_in: &SignIn<'_>,
        user: Option<&UserRecord>,
        user_name: &str,
        history: Vec<ChallengeResult>,
    ) -> DomainResult<SignInStep> {
        let create = self.custom_trigger_arn(sign_in, TriggerKind::CreateAuthChallenge)?;
        let call = sign_in.trigger_call(user_name);
        let event = events::create_auth_challenge(
            &self.event_context(&call, "CreateAuthChallenge_Authentication"),
            &trigger_attrs(user),
            CUSTOM_CHALLENGE,
            &history,
            sign_in.client_metadata,
            user.is_none(),
        );
        let output = self
            .invoke(TriggerKind::CreateAuthChallenge, create, &event)
            .await?;
        let challenge = events::parse_create_auth_challenge(&output).map_err(|failure| {
            DomainError::Trigger {
                kind: TriggerKind::CreateAuthChallenge,
                failure,
            }
        })?;
        let mut parameters = challenge.public.clone();
        parameters.insert("USERNAME".to_string(), user_name.to_string());
        let session = cognate_crypto::ids::random_token(SESSION_BYTES);
        let now = self.clock.now();
        let pool = sign_in.pool;
        self.store
            .insert_auth_session(AuthSessionRecord {
                digest: self.session_digest(&session),
                pool_id: pool.id.clone(),
                client_id: sign_in.client.client_id.clone(),
                name_key: user
                    .map_or_else(|| pool.username_key(user_name), |u| u.username_key.clone()),
                challenge: CUSTOM_CHALLENGE.to_string(),
                state: serde_json::to_string(&CustomState {
                    user_name: user_name.to_string(),
                    user_not_found: user.is_none(),
                    history,
                    challenge,
                })
                .map_err(|e| DomainError::internal("custom-auth state", e))?,
                created_at: now,
                expires_at: now + sign_in.client.auth_session_validity_secs,
                used_at: None,
            })
            .await?;
        Ok(SignInStep::Challenge(Challenge {
            name: CUSTOM_CHALLENGE,
            parameters,
            session: Some(session),
            available: Vec::new(),
        }))
    }

    async fn verify_custom_answer(
        &self,
        sign_in: &SignIn<'_>,
        user: Option<&UserRecord>,
        state: &CustomState,
        answer: &str,
    ) -> DomainResult<bool> {
        let verify = self.custom_trigger_arn(sign_in, TriggerKind::VerifyAuthChallengeResponse)?;
        let call = sign_in.trigger_call(&state.user_name);
        let event = events::verify_auth_challenge_response(
            &self.event_context(&call, "VerifyAuthChallengeResponse_Authentication"),
            &trigger_attrs(user),
            &state.challenge.private,
            answer,
            sign_in.client_metadata,
            user.is_none(),
        );
        let output = self
            .invoke(TriggerKind::VerifyAuthChallengeResponse, verify, &event)
            .await?;
        events::parse_verify_auth_challenge_response(&output).map_err(|failure| {
            DomainError::Trigger {
                kind: TriggerKind::VerifyAuthChallengeResponse,
                failure,
            }
        })
    }

    /// Custom auth needs all three functions.
    fn check_custom_triggers(&self, sign_in: &SignIn<'_>) -> DomainResult<()> {
        for kind in [
            TriggerKind::DefineAuthChallenge,
            TriggerKind::CreateAuthChallenge,
            TriggerKind::VerifyAuthChallengeResponse,
        ] {
            self.custom_trigger_arn(sign_in, kind)?;
        }
        Ok(())
    }

    fn custom_trigger_arn<'a>(
        &self,
        sign_in: &'a SignIn<'_>,
        kind: TriggerKind,
    ) -> DomainResult<&'a str> {
        sign_in
            .pool
            .lambda_arn(kind)
            .ok_or(DomainError::CustomAuthNotConfigured)
    }
}

/// A trigger's `userAttributes` for the user (none for a name of no user).
fn trigger_attrs(user: Option<&UserRecord>) -> BTreeMap<String, String> {
    user.map(|u| super::signup::trigger_attributes(u, u.attributes.clone(), u.status))
        .unwrap_or_default()
}
