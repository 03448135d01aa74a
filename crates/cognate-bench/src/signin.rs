//! The sign-in workloads: InitiateAuth USER_PASSWORD_AUTH, the two SRP calls (InitiateAuth
//! USER_SRP_AUTH, then RespondToAuthChallenge PASSWORD_VERIFIER, answered by
//! `cognate_crypto::srp::client`), REFRESH_TOKEN_AUTH and GetUser. Their users, client and
//! tokens are prepared before the timed phase; every answer is checked (tokens present, the
//! ID token's email the user's, GetUser's Username the token's).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use cognate_crypto::srp::client::{PasswordKey, SrpClient};
use serde_json::{json, Map, Value};

use crate::client::{Call, Reply};
use crate::load::{Step, Workload};
use crate::scenario::{join_note, ok_json, user_name, Kind, Target, PASSWORD};
use crate::stats::Outcome;

/// The flows the sign-in client allows.
pub const AUTH_FLOWS: [&str; 3] = [
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
];

/// SRP ephemerals computed before the timed phase and reused in turn: the server's work for
/// a sign-in does not depend on whether it saw an `A` before, and `A = g^a` would otherwise
/// be load-generator CPU taken from the server on the same cores.
const SRP_EPHEMERALS: usize = 256;

/// Most prepared sign-ins whose tokens the refresh and GetUser runs cycle over.
const MAX_SESSIONS: u64 = 1000;

/// A user's SRP password key, with the salt it was derived for.
type KeySlot = Mutex<Option<(String, PasswordKey)>>;

/// One prepared sign-in.
#[derive(Clone, Debug)]
struct Session {
    /// The email the user signed in with (the ID token's `email`).
    email: String,
    /// The internal username (the access token's `username`; the sub in email pools).
    internal: String,
    access: String,
    refresh: String,
}

/// What the sign-in workloads share within one target: the client, the users, the tokens.
#[derive(Default)]
pub struct SignIns {
    client_id: Option<String>,
    /// Confirmed users with [`PASSWORD`], as typed at sign-in.
    password_users: Option<Arc<Vec<String>>>,
    /// Confirmed users with SRP verifiers.
    srp_users: Option<Arc<Vec<String>>>,
    sessions: Option<Arc<Vec<Session>>>,
    /// Whether one sign-in has been answered with tokens (see [`SignIns::warm_up`]).
    warm: bool,
}

/// The payload of a JWT, unverified (the bench checks what was issued to whom, not the
/// signature).
fn jwt_claims(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    match serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// An `AuthenticationResult` with ID and access tokens issued to `email` (and a refresh token
/// when `with_refresh`): the tokens as (access, refresh), else None.
pub fn tokens_for(
    reply: &Reply,
    email: &str,
    with_refresh: bool,
) -> Option<(String, Option<String>)> {
    let v = ok_json(reply)?;
    let r = v.get("AuthenticationResult")?;
    let text = |k: &str| r.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let access = text("AccessToken")?;
    let id = text("IdToken")?;
    if text("TokenType") != Some("Bearer") || !r.get("ExpiresIn").is_some_and(Value::is_i64) {
        return None;
    }
    let refresh = text("RefreshToken").map(str::to_string);
    if with_refresh && refresh.is_none() {
        return None;
    }
    let id_claims = jwt_claims(id)?;
    let access_claims = jwt_claims(access)?;
    let right = id_claims.get("token_use").and_then(Value::as_str) == Some("id")
        && id_claims
            .get("email")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case(email))
        && access_claims.get("token_use").and_then(Value::as_str) == Some("access")
        && access_claims.get("sub") == id_claims.get("sub");
    right.then(|| (access.to_string(), refresh))
}

/// GetUser answered for `internal` with `email`.
pub fn user_is(reply: &Reply, internal: &str, email: &str) -> bool {
    ok_json(reply).is_some_and(|v| {
        v.get("Username").and_then(Value::as_str) == Some(internal)
            && v.get("UserAttributes")
                .and_then(Value::as_array)
                .is_some_and(|attrs| {
                    attrs.iter().any(|a| {
                        a.get("Name").and_then(Value::as_str) == Some("email")
                            && a.get("Value")
                                .and_then(Value::as_str)
                                .is_some_and(|e| e.eq_ignore_ascii_case(email))
                    })
                })
    })
}

/// The PASSWORD_VERIFIER challenge's parameters: (SALT, SRP_B, SECRET_BLOCK, USER_ID_FOR_SRP,
/// Session if any).
fn srp_challenge(reply: &Reply) -> Option<(String, String, String, String, Option<String>)> {
    let v = ok_json(reply)?;
    if v.get("ChallengeName").and_then(Value::as_str) != Some("PASSWORD_VERIFIER") {
        return None;
    }
    let p = v.get("ChallengeParameters")?;
    let text = |k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Some((
        text("SALT")?,
        text("SRP_B")?,
        text("SECRET_BLOCK")?,
        text("USER_ID_FOR_SRP")?,
        v.get("Session").and_then(Value::as_str).map(str::to_string),
    ))
}

fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn password_call(client_id: &str, username: &str) -> Call {
    Call::op(
        "InitiateAuth",
        &json!({
            "AuthFlow": "USER_PASSWORD_AUTH",
            "ClientId": client_id,
            "AuthParameters": {"USERNAME": username, "PASSWORD": PASSWORD},
        }),
    )
}

impl SignIns {
    pub async fn run(&mut self, target: &mut Target, kind: Kind) -> anyhow::Result<Outcome> {
        match kind {
            Kind::SigninPassword => self.run_password(target).await,
            Kind::SigninSrp => self.run_srp(target).await,
            Kind::Refresh => self.run_refresh(target).await,
            Kind::GetUser => self.run_get_user(target).await,
            _ => bail!("{kind:?} is not a sign-in workload"),
        }
    }

    /// A client of the pool that allows the password, SRP and refresh flows.
    async fn client_id(&mut self, target: &Target) -> anyhow::Result<String> {
        if let Some(id) = &self.client_id {
            return Ok(id.clone());
        }
        let mut conn = crate::client::Conn::new(target.opts.endpoint.clone(), target.opts.timeout);
        let reply = conn
            .call(&Call::admin(
                "CreateUserPoolClient",
                &json!({
                    "UserPoolId": target.pool_id,
                    "ClientName": "bench-signin",
                    "ExplicitAuthFlows": AUTH_FLOWS,
                }),
            ))
            .await?;
        let id = ok_json(&reply)
            .and_then(|v| v["UserPoolClient"]["ClientId"].as_str().map(str::to_string))
            .with_context(|| format!("CreateUserPoolClient answered {}", reply.describe()))?;
        eprintln!("  prep: sign-in client {id} ({})", AUTH_FLOWS.join(", "));
        self.client_id = Some(id.clone());
        Ok(id)
    }

    /// `n` CONFIRMED users with [`PASSWORD`]: seeded when a seeder is configured (no SRP
    /// verifier), else (or with `srp`) signed up and confirmed with AdminConfirmSignUp.
    async fn confirmed_users(
        &self,
        target: &mut Target,
        tag: &str,
        n: u64,
        srp: bool,
    ) -> anyhow::Result<Vec<String>> {
        let prefix = target.next_prefix(tag);
        let style = target.opts.style;
        let names: Vec<String> = (0..n).map(|i| user_name(style, &prefix, i)).collect();
        let started = Instant::now();
        if let (Some(seeder), false) = (&target.opts.seeder, srp) {
            let line = seeder.seed_confirmed(&target.pool_id, &prefix, n, PASSWORD)?;
            eprintln!("  prep: {line}");
            return Ok(names);
        }
        let calls = names.iter().map(|u| target.signup_call(u)).collect();
        let (signed, o) = target
            .collect_each(calls, |r| crate::scenario::signup_ok(r).then_some(()))
            .await;
        eprintln!(
            "  prep: signed up {} users ({} failed) in {:.1} s",
            o.expected, o.unexpected, o.seconds
        );
        let names: Vec<String> = names
            .into_iter()
            .zip(signed)
            .filter_map(|(u, ok)| ok.map(|()| u))
            .collect();
        let calls = names
            .iter()
            .map(|u| {
                Call::admin(
                    "AdminConfirmSignUp",
                    &json!({"UserPoolId": target.pool_id, "Username": u}),
                )
            })
            .collect();
        let (confirmed, o) = target
            .collect_each(calls, |r| (r.status.as_u16() == 200).then_some(()))
            .await;
        eprintln!(
            "  prep: confirmed {} users ({} failed) in {:.1} s",
            o.expected, o.unexpected, o.seconds
        );
        let users: Vec<String> = names
            .into_iter()
            .zip(confirmed)
            .filter_map(|(u, ok)| ok.map(|()| u))
            .collect();
        if users.is_empty() {
            bail!("preparing confirmed users failed: none of {n} could be created");
        }
        eprintln!(
            "  prep: {} confirmed users after {:.1} s",
            users.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(users)
    }

    async fn password_users(&mut self, target: &mut Target) -> anyhow::Result<Arc<Vec<String>>> {
        if let Some(u) = &self.password_users {
            return Ok(u.clone());
        }
        let n = target.opts.signin_users.max(1);
        let users = Arc::new(self.confirmed_users(target, "p", n, false).await?);
        self.warm_up(target, &users[0]).await?;
        self.password_users = Some(users.clone());
        Ok(users)
    }

    /// One untimed password sign-in before anything is measured. A pool's signing keys are
    /// made at its first sign-in, and many concurrent first sign-ins each generate a pair of
    /// RSA keys (only one pair is kept), which would be timed as sign-in work.
    async fn warm_up(&mut self, target: &Target, username: &str) -> anyhow::Result<()> {
        if self.warm {
            return Ok(());
        }
        let client_id = self.client_id(target).await?;
        let started = Instant::now();
        let mut conn = crate::client::Conn::new(target.opts.endpoint.clone(), target.opts.timeout);
        let reply = conn.call(&password_call(&client_id, username)).await?;
        if tokens_for(&reply, &target.email_of(username), true).is_none() {
            bail!(
                "the warm-up sign-in of {username} answered {}",
                reply.describe()
            );
        }
        eprintln!(
            "  prep: warm-up sign-in (the pool's signing keys) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        self.warm = true;
        Ok(())
    }

    /// One password sign-in of each of the first users, untimed: the tokens the refresh and
    /// GetUser runs use.
    async fn sessions(&mut self, target: &mut Target) -> anyhow::Result<Arc<Vec<Session>>> {
        if let Some(s) = &self.sessions {
            return Ok(s.clone());
        }
        let client_id = self.client_id(target).await?;
        let users = self.password_users(target).await?;
        let take = (users.len() as u64).min(MAX_SESSIONS) as usize;
        let started = Instant::now();
        let emails: Vec<String> = users[..take].iter().map(|u| target.email_of(u)).collect();
        let calls = users[..take]
            .iter()
            .map(|u| password_call(&client_id, u))
            .collect();
        let (results, _) = target
            .collect_each(calls, |r| {
                // The email is checked below, once the reply is matched with its user.
                let v = ok_json(r)?;
                let id = v["AuthenticationResult"]["IdToken"].as_str()?;
                let email = jwt_claims(id)?.get("email")?.as_str()?.to_string();
                let (access, refresh) = tokens_for(r, &email, true)?;
                Some((access, refresh.unwrap_or_default(), email))
            })
            .await;
        let sessions: Vec<Session> = emails
            .into_iter()
            .zip(results)
            .filter_map(|(email, r)| {
                let (access, refresh, got) = r?;
                if !got.eq_ignore_ascii_case(&email) {
                    return None;
                }
                let internal = jwt_claims(&access)?.get("username")?.as_str()?.to_string();
                Some(Session {
                    email,
                    internal,
                    access,
                    refresh,
                })
            })
            .collect();
        eprintln!(
            "  prep: {} sign-ins (of {take}) with tokens in {:.1} s",
            sessions.len(),
            started.elapsed().as_secs_f64()
        );
        if sessions.is_empty() {
            bail!("no prepared sign-in succeeded");
        }
        let sessions = Arc::new(sessions);
        self.sessions = Some(sessions.clone());
        Ok(sessions)
    }

    async fn run_password(&mut self, target: &mut Target) -> anyhow::Result<Outcome> {
        let client_id = self.client_id(target).await?;
        let users = self.password_users(target).await?;
        let this = target.template();
        let emails: Arc<Vec<String>> = Arc::new(users.iter().map(|u| this.email_of(u)).collect());
        let n = users.len() as u64;
        let w = Workload::new(
            move |i| Some(password_call(&client_id, &users[(i % n) as usize])),
            move |i, r| tokens_for(r, &emails[(i % n) as usize], true).is_some(),
        );
        let o = target.measure(None, Arc::new(w)).await;
        let mut o = target.finish(o, "signin-password");
        o.note = join_note(
            &o.note,
            &format!("InitiateAuth USER_PASSWORD_AUTH over {n} confirmed users"),
        );
        Ok(o)
    }

    async fn run_srp(&mut self, target: &mut Target) -> anyhow::Result<Outcome> {
        let client_id = self.client_id(target).await?;
        let users = match &self.srp_users {
            Some(u) => u.clone(),
            None => {
                let n = target.opts.srp_users.max(1);
                let u = Arc::new(self.confirmed_users(target, "srp", n, true).await?);
                self.warm_up(target, &u[0]).await?;
                self.srp_users = Some(u.clone());
                u
            }
        };
        let started = Instant::now();
        let ephemerals: Arc<Vec<SrpClient>> = Arc::new(
            tokio::task::spawn_blocking(|| {
                (0..SRP_EPHEMERALS)
                    .map(|_| SrpClient::generate())
                    .collect::<Vec<_>>()
            })
            .await?,
        );
        eprintln!(
            "  prep: {} SRP ephemerals in {:.1} s",
            ephemerals.len(),
            started.elapsed().as_secs_f64()
        );
        let this = target.template();
        let pool_name = cognate_crypto::srp::pool_name(&this.pool_id).to_string();
        let emails: Arc<Vec<String>> = Arc::new(users.iter().map(|u| this.email_of(u)).collect());
        // x and k·g^x per user, derived at its first sign-in (the salt comes with the
        // challenge) and kept while the salt stays the same.
        let keys: Arc<Vec<KeySlot>> = Arc::new(users.iter().map(|_| Mutex::new(None)).collect());
        let n = users.len() as u64;
        let make_client = client_id.clone();
        let make_eph = ephemerals.clone();
        let make = move |i: u64| {
            let eph = &make_eph[(i % make_eph.len() as u64) as usize];
            Some(Call::op(
                "InitiateAuth",
                &json!({
                    "AuthFlow": "USER_SRP_AUTH",
                    "ClientId": make_client,
                    "AuthParameters": {
                        "USERNAME": users[(i % n) as usize],
                        "SRP_A": eph.srp_a(),
                    },
                }),
            ))
        };
        let step = move |i: u64, index: usize, r: &Reply| -> Step {
            let user = (i % n) as usize;
            match index {
                0 => {
                    let Some((salt, srp_b, block, user_id, session)) = srp_challenge(r) else {
                        return Step::Done(false);
                    };
                    let key = {
                        let Ok(mut slot) = keys[user].lock() else {
                            return Step::Done(false);
                        };
                        match &*slot {
                            Some((s, k)) if *s == salt && k.user_id_for_srp() == user_id => {
                                k.clone()
                            }
                            _ => {
                                let Ok(k) =
                                    PasswordKey::derive(&pool_name, &user_id, PASSWORD, &salt)
                                else {
                                    return Step::Done(false);
                                };
                                *slot = Some((salt, k.clone()));
                                k
                            }
                        }
                    };
                    let eph = &ephemerals[(i % ephemerals.len() as u64) as usize];
                    let timestamp = cognate_crypto::srp::format_timestamp(now_unix());
                    let Ok(signature) = eph.password_claim(&key, &srp_b, &block, &timestamp) else {
                        return Step::Done(false);
                    };
                    let mut body = json!({
                        "ClientId": client_id,
                        "ChallengeName": "PASSWORD_VERIFIER",
                        "ChallengeResponses": {
                            "USERNAME": user_id,
                            "PASSWORD_CLAIM_SECRET_BLOCK": block,
                            "PASSWORD_CLAIM_SIGNATURE": signature,
                            "TIMESTAMP": timestamp,
                        },
                    });
                    if let Some(session) = session {
                        body["Session"] = json!(session);
                    }
                    Step::Then(Call::op("RespondToAuthChallenge", &body))
                }
                _ => Step::Done(tokens_for(r, &emails[user], true).is_some()),
            }
        };
        let w = Workload::flow(make, step);
        let o = target.measure(None, Arc::new(w)).await;
        let mut o = target.finish(o, "signin-srp");
        o.note = join_note(
            &o.note,
            &format!(
                "InitiateAuth USER_SRP_AUTH + RespondToAuthChallenge PASSWORD_VERIFIER (2 calls per sign-in) over {n} users; {SRP_EPHEMERALS} client ephemerals (256-bit a) reused in turn"
            ),
        );
        Ok(o)
    }

    async fn run_refresh(&mut self, target: &mut Target) -> anyhow::Result<Outcome> {
        let client_id = self.client_id(target).await?;
        let sessions = self.sessions(target).await?;
        let n = sessions.len() as u64;
        let make_sessions = sessions.clone();
        let w = Workload::new(
            move |i| {
                let s = &make_sessions[(i % n) as usize];
                Some(Call::op(
                    "InitiateAuth",
                    &json!({
                        "AuthFlow": "REFRESH_TOKEN_AUTH",
                        "ClientId": client_id,
                        "AuthParameters": {"REFRESH_TOKEN": s.refresh},
                    }),
                ))
            },
            move |i, r| tokens_for(r, &sessions[(i % n) as usize].email, false).is_some(),
        );
        let o = target.measure(None, Arc::new(w)).await;
        let mut o = target.finish(o, "refresh");
        o.note = join_note(
            &o.note,
            &format!("InitiateAuth REFRESH_TOKEN_AUTH over {n} refresh tokens"),
        );
        Ok(o)
    }

    async fn run_get_user(&mut self, target: &mut Target) -> anyhow::Result<Outcome> {
        let sessions = self.sessions(target).await?;
        let n = sessions.len() as u64;
        let make_sessions = sessions.clone();
        let w = Workload::new(
            move |i| {
                let s = &make_sessions[(i % n) as usize];
                Some(Call::op("GetUser", &json!({"AccessToken": s.access})))
            },
            move |i, r| {
                let s = &sessions[(i % n) as usize];
                user_is(r, &s.internal, &s.email)
            },
        );
        let o = target.measure(None, Arc::new(w)).await;
        let mut o = target.finish(o, "get-user");
        o.note = join_note(&o.note, &format!("GetUser over {n} access tokens"));
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use hyper::StatusCode;

    fn reply(status: u16, body: &Value) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            error_type: None,
            body: Bytes::from(body.to_string()),
        }
    }

    fn jwt(claims: &Value) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    fn result(email: &str, refresh: bool) -> Value {
        let mut r = json!({
            "AccessToken": jwt(&json!({"token_use": "access", "sub": "s1", "username": "s1"})),
            "IdToken": jwt(&json!({"token_use": "id", "sub": "s1", "email": email})),
            "TokenType": "Bearer",
            "ExpiresIn": 3600,
        });
        if refresh {
            r["RefreshToken"] = json!("opaque");
        }
        json!({"AuthenticationResult": r, "ChallengeParameters": {}})
    }

    #[test]
    fn token_answers_are_checked_for_the_user() {
        let ok = reply(200, &result("a@example.com", true));
        let (access, refresh) = tokens_for(&ok, "A@example.com", true).unwrap();
        assert_eq!(jwt_claims(&access).unwrap()["username"], "s1");
        assert_eq!(refresh.as_deref(), Some("opaque"));
        assert!(tokens_for(&ok, "b@example.com", true).is_none());
        // A refresh answers no refresh token; a sign-in must.
        let no_refresh = reply(200, &result("a@example.com", false));
        assert!(tokens_for(&no_refresh, "a@example.com", false).is_some());
        assert!(tokens_for(&no_refresh, "a@example.com", true).is_none());
        assert!(tokens_for(
            &reply(400, &json!({"__type": "NotAuthorizedException"})),
            "a@example.com",
            false
        )
        .is_none());
        let mut swapped = result("a@example.com", true);
        let id = swapped["AuthenticationResult"]["IdToken"].clone();
        swapped["AuthenticationResult"]["AccessToken"] = id;
        assert!(tokens_for(&reply(200, &swapped), "a@example.com", true).is_none());
    }

    #[test]
    fn get_user_and_challenges_are_checked() {
        let v = json!({"Username": "s1", "UserAttributes": [
            {"Name": "sub", "Value": "s1"}, {"Name": "email", "Value": "a@example.com"}]});
        assert!(user_is(&reply(200, &v), "s1", "a@example.com"));
        assert!(!user_is(&reply(200, &v), "s2", "a@example.com"));
        assert!(!user_is(&reply(200, &v), "s1", "b@example.com"));
        let c = json!({"ChallengeName": "PASSWORD_VERIFIER", "ChallengeParameters": {
            "SALT": "0a", "SRP_B": "0b", "SECRET_BLOCK": "AAAA", "USER_ID_FOR_SRP": "s1",
            "USERNAME": "s1"}});
        let (salt, b, block, user, session) = srp_challenge(&reply(200, &c)).unwrap();
        assert_eq!(
            (salt.as_str(), b.as_str(), block.as_str(), user.as_str()),
            ("0a", "0b", "AAAA", "s1")
        );
        assert_eq!(session, None);
        let mut other = c.clone();
        other["ChallengeName"] = json!("SMS_MFA");
        assert!(srp_challenge(&reply(200, &other)).is_none());
    }
}
