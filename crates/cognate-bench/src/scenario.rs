//! The sign-up flow workloads against one endpoint: pool and client setup, preparation of
//! users and codes (untimed), then the timed runs.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::client::{Call, Conn, Endpoint, Reply};
use crate::load::{drive, run_all, Drive, Workload};
use crate::stats::{cpu_seconds, rss_kib, Outcome};

pub const PASSWORD: &str = "Bench-Passw0rd!1";
pub const EMAIL_DOMAIN: &str = "example.com";
/// Sent as the wrong code. Cognate's codes are random six-digit numbers, so a user whose real
/// code is 000000 (one in a million) would make one "wrong" confirmation succeed.
pub const WRONG_CODE: &str = "000000";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Style {
    /// UsernameAttributes = [email]: the username is an email (cognito-local supports only this).
    Email,
    /// Plain usernames with an email attribute.
    Plain,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeSource {
    /// Read each code from Cognate's developer outbox (GET /_cognate/outbox).
    Outbox,
    /// The endpoint issues this code to everyone (cognito-local's CODE variable).
    Fixed(String),
    /// The endpoint accepts any code (moto: ConfirmSignUp does not check it).
    Any,
    /// Read each code from fakecloud's introspection endpoint
    /// (GET /_fakecloud/cognito/confirmation-codes/POOL/USERNAME).
    Fakecloud,
}

impl CodeSource {
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        match s {
            "outbox" => Ok(CodeSource::Outbox),
            "any" => Ok(CodeSource::Any),
            "fakecloud" => Ok(CodeSource::Fakecloud),
            _ => match s.strip_prefix("fixed=") {
                Some(code) if !code.is_empty() => Ok(CodeSource::Fixed(code.to_string())),
                _ => bail!("--code-source wants outbox, fakecloud, any or fixed=CODE, got {s}"),
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            CodeSource::Outbox => "codes read from the outbox before the timed phase".into(),
            CodeSource::Fixed(c) => {
                format!("the endpoint pins every code to {c} (its CODE setting)")
            }
            CodeSource::Any => {
                "the endpoint accepts ANY code (it does not check ConfirmationCode)".into()
            }
            CodeSource::Fakecloud => {
                "codes read from fakecloud's /_fakecloud/cognito/confirmation-codes before the timed phase".into()
            }
        }
    }
}

/// Loads users straight into Cognate's store with `cognate seed-users` (no password hashing).
#[derive(Clone, Debug)]
pub struct Seeder {
    pub bin: PathBuf,
    /// `--data-dir DIR` or `--database-url URL`.
    pub db_args: Vec<String>,
}

impl Seeder {
    pub fn seed(
        &self,
        pool_id: &str,
        prefix: &str,
        start: u64,
        count: u64,
        unconfirmed: bool,
    ) -> anyhow::Result<String> {
        self.seed_with(pool_id, prefix, start, count, unconfirmed, None)
    }

    /// `count` CONFIRMED users (email verified) who sign in with `password` (USER_PASSWORD_AUTH
    /// only: seeded users have no SRP verifier).
    pub fn seed_confirmed(
        &self,
        pool_id: &str,
        prefix: &str,
        count: u64,
        password: &str,
    ) -> anyhow::Result<String> {
        self.seed_with(pool_id, prefix, 0, count, false, Some(password))
    }

    fn seed_with(
        &self,
        pool_id: &str,
        prefix: &str,
        start: u64,
        count: u64,
        unconfirmed: bool,
        password: Option<&str>,
    ) -> anyhow::Result<String> {
        let mut cmd = std::process::Command::new(&self.bin);
        cmd.arg("seed-users")
            .args(&self.db_args)
            .args([
                "--pool-id",
                pool_id,
                "--prefix",
                prefix,
                "--email-domain",
                EMAIL_DOMAIN,
            ])
            .args(["--start", &start.to_string(), "--count", &count.to_string()]);
        if unconfirmed {
            cmd.arg("--unconfirmed");
        }
        if let Some(password) = password {
            cmd.args(["--password", password]);
        }
        let out = cmd
            .output()
            .with_context(|| format!("running {} seed-users", self.bin.display()))?;
        if !out.status.success() {
            bail!(
                "seed-users failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

#[derive(Clone, Debug)]
pub struct Options {
    pub name: String,
    pub endpoint: Endpoint,
    pub connections: usize,
    pub duration: Duration,
    pub half_rate: bool,
    pub style: Style,
    pub code_source: CodeSource,
    pub seeder: Option<Seeder>,
    pub pid: Option<u32>,
    pub note: String,
    /// Users that ResendConfirmationCode and the wrong-code confirmations cycle over.
    pub spread_users: u64,
    /// Upper bound on users prepared for one confirm-correct run.
    pub max_prep_users: u64,
    /// Upper bound on the (untimed) preparation of one set of users.
    pub prep_limit: Duration,
    pub timeout: Duration,
    /// Users the password sign-ins cycle over; the refresh and GetUser workloads use the
    /// tokens of one sign-in of each.
    pub signin_users: u64,
    /// Users (signed up through the API, for their SRP verifiers) the SRP sign-ins cycle over.
    pub srp_users: u64,
}

/// Pool and client the workloads run in.
pub struct Target {
    pub opts: Options,
    pub pool_id: String,
    pub client_id: String,
    run_id: String,
    sets: u32,
}

pub(crate) fn user_name(style: Style, prefix: &str, i: u64) -> String {
    // Same shape as `cognate seed-users`: PREFIX + zero-padded index (+ @domain).
    match style {
        Style::Email => format!("{prefix}{i:09}@{EMAIL_DOMAIN}"),
        Style::Plain => format!("{prefix}{i:09}"),
    }
}

fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn ok_json(reply: &Reply) -> Option<Value> {
    (reply.status.as_u16() == 200)
        .then(|| reply.json())
        .flatten()
}

/// SignUp answered: a sub and an unconfirmed user.
pub fn signup_ok(reply: &Reply) -> bool {
    ok_json(reply).is_some_and(|v| {
        v.get("UserSub")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
            && v.get("UserConfirmed") == Some(&Value::Bool(false))
    })
}

/// ResendConfirmationCode answered with delivery details.
pub fn resend_ok(reply: &Reply) -> bool {
    ok_json(reply).is_some_and(|v| v.get("CodeDeliveryDetails").is_some_and(Value::is_object))
}

/// ConfirmSignUp succeeded: 200 and an empty JSON object.
pub fn confirm_ok(reply: &Reply) -> bool {
    ok_json(reply).is_some_and(|v| v.as_object().is_some_and(|m| m.is_empty()))
}

pub fn code_mismatch(reply: &Reply) -> bool {
    reply.status.as_u16() == 400 && reply.error_name().as_deref() == Some("CodeMismatchException")
}

/// Responses that say "this endpoint does not implement the operation".
pub fn unsupported(reply: &Reply) -> bool {
    let name = reply.error_name().unwrap_or_default();
    name.contains("Unsupported")
        || name.contains("NotImplemented")
        // moto raises NotImplementedError, which its server turns into a bare HTML 500.
        || (reply.status.as_u16() == 500 && reply.body.starts_with(b"<!doctype html>"))
}

impl Target {
    pub async fn setup(opts: Options) -> anyhow::Result<Self> {
        let run_id = uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
        let mut conn = Conn::new(opts.endpoint.clone(), opts.timeout);
        let mut pool = json!({
            "PoolName": format!("bench-{run_id}"),
            "AutoVerifiedAttributes": ["email"],
        });
        if opts.style == Style::Email {
            pool["UsernameAttributes"] = json!(["email"]);
        }
        let reply = conn.call(&Call::admin("CreateUserPool", &pool)).await?;
        let pool_id = ok_json(&reply)
            .and_then(|v| v["UserPool"]["Id"].as_str().map(str::to_string))
            .with_context(|| format!("CreateUserPool answered {}", reply.describe()))?;
        let reply = conn
            .call(&Call::admin(
                "CreateUserPoolClient",
                &json!({"UserPoolId": pool_id, "ClientName": "bench"}),
            ))
            .await?;
        let client_id = ok_json(&reply)
            .and_then(|v| v["UserPoolClient"]["ClientId"].as_str().map(str::to_string))
            .with_context(|| format!("CreateUserPoolClient answered {}", reply.describe()))?;
        Ok(Self {
            opts,
            pool_id,
            client_id,
            run_id,
            sets: 0,
        })
    }

    pub(crate) fn drive_spec(&self, rate: Option<f64>) -> Drive {
        Drive {
            endpoint: self.opts.endpoint.clone(),
            connections: self.opts.connections,
            duration: self.opts.duration,
            rate,
            timeout: self.opts.timeout,
        }
    }

    /// Drives `w`, and with a known server pid also counts the server's CPU time (and always
    /// this load generator's own).
    pub(crate) async fn measure(&self, rate: Option<f64>, w: Arc<Workload>) -> Outcome {
        let before = self.opts.pid.and_then(cpu_seconds);
        let client_before = cpu_seconds(std::process::id());
        let mut o = drive(&self.drive_spec(rate), w).await;
        if let (Some(b), Some(a)) = (before, self.opts.pid.and_then(cpu_seconds)) {
            o.server_cpu_s = Some(a - b);
        }
        if let (Some(b), Some(a)) = (client_before, cpu_seconds(std::process::id())) {
            o.client_cpu_s = Some(a - b);
        }
        o
    }

    pub(crate) fn finish(&self, mut o: Outcome, workload: &str) -> Outcome {
        o.target = self.opts.name.clone();
        o.workload = workload.to_string();
        if let Some(pid) = self.opts.pid {
            o.rss_kib = rss_kib(pid).map(|(rss, _)| rss);
        }
        if o.expected == 0 && o.requests > 0 {
            // Not implemented if every answer says so.
            let all_unsupported = o.unexpected_kinds.keys().all(|k| {
                k.contains("Unsupported")
                    || k.contains("NotImplemented")
                    || k.starts_with("500 <!doctype")
            });
            if all_unsupported {
                o.unsupported = true;
                o.note = o
                    .unexpected_kinds
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ");
            }
        }
        o
    }

    pub(crate) fn email_of(&self, username: &str) -> String {
        match self.opts.style {
            Style::Email => username.to_string(),
            Style::Plain => format!("{username}@{EMAIL_DOMAIN}"),
        }
    }

    pub(crate) fn signup_call(&self, username: &str) -> Call {
        let email = match self.opts.style {
            Style::Email => username.to_string(),
            Style::Plain => format!("{username}@{EMAIL_DOMAIN}"),
        };
        Call::op(
            "SignUp",
            &json!({
                "ClientId": self.client_id,
                "Username": username,
                "Password": PASSWORD,
                "UserAttributes": [{"Name": "email", "Value": email}],
            }),
        )
    }

    fn resend_call(&self, username: &str) -> Call {
        Call::op(
            "ResendConfirmationCode",
            &json!({"ClientId": self.client_id, "Username": username}),
        )
    }

    fn confirm_call(&self, username: &str, code: &str) -> Call {
        Call::op(
            "ConfirmSignUp",
            &json!({"ClientId": self.client_id, "Username": username, "ConfirmationCode": code}),
        )
    }

    pub(crate) fn next_prefix(&mut self, tag: &str) -> String {
        self.sets += 1;
        format!("b{}{}{}-", self.run_id, tag, self.sets)
    }

    /// `n` fresh UNCONFIRMED users, each holding a live code. Seeded (and given a code with
    /// one ResendConfirmationCode each) when a seeder is configured, else signed up.
    async fn prepare_users(&mut self, tag: &str, n: u64) -> anyhow::Result<Vec<String>> {
        let prefix = self.next_prefix(tag);
        let style = self.opts.style;
        let names: Vec<String> = (0..n).map(|i| user_name(style, &prefix, i)).collect();
        let started = Instant::now();
        let ok = if let Some(seeder) = &self.opts.seeder {
            let line = seeder.seed(&self.pool_id, &prefix, 0, n, true)?;
            eprintln!("  prep: {line}");
            // A code for each (ResendConfirmationCode, through the API).
            let calls = names.iter().map(|u| self.resend_call(u)).collect();
            let (ok, o) = self
                .collect_each(calls, |r| resend_ok(r).then_some(()))
                .await;
            eprintln!(
                "  prep: issued {} codes ({} failed) in {:.1} s",
                o.expected, o.unexpected, o.seconds
            );
            ok
        } else {
            let calls = names.iter().map(|u| self.signup_call(u)).collect();
            let (ok, o) = self
                .collect_each(calls, |r| signup_ok(r).then_some(()))
                .await;
            eprintln!(
                "  prep: signed up {} users ({} failed) in {:.1} s",
                o.expected, o.unexpected, o.seconds
            );
            ok
        };
        let users: Vec<String> = names
            .into_iter()
            .zip(ok)
            .filter_map(|(u, ok)| ok.map(|()| u))
            .collect();
        if users.is_empty() && n > 0 {
            bail!("preparing users failed: none of {n} could be created");
        }
        eprintln!(
            "  prep: {} users ready after {:.1} s",
            users.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(users)
    }

    /// Users with the code that confirms them.
    async fn prepare_codes(&mut self, users: Vec<String>) -> anyhow::Result<Vec<(String, String)>> {
        match &self.opts.code_source {
            CodeSource::Fixed(code) => Ok(users.into_iter().map(|u| (u, code.clone())).collect()),
            CodeSource::Any => Ok(users
                .into_iter()
                .map(|u| (u, "123456".to_string()))
                .collect()),
            CodeSource::Outbox => {
                // The outbox is keyed by the internal username (the sub in email pools).
                let internal: Vec<String> = if self.opts.style == Style::Email {
                    let calls: Vec<Call> = users
                        .iter()
                        .map(|u| {
                            Call::admin(
                                "AdminGetUser",
                                &json!({"UserPoolId": self.pool_id, "Username": u}),
                            )
                        })
                        .collect();
                    let (names, _) = self
                        .collect_each(calls, |r| {
                            ok_json(r).and_then(|v| v["Username"].as_str().map(str::to_string))
                        })
                        .await;
                    // A user not found gets no code below.
                    names.into_iter().map(Option::unwrap_or_default).collect()
                } else {
                    users.clone()
                };
                self.fetch_codes(
                    users,
                    &internal,
                    "the outbox",
                    |pool, name| format!("/_cognate/outbox?pool={pool}&username={name}&limit=1"),
                    |r| {
                        ok_json(r)?["Messages"]
                            .as_array()
                            .and_then(|m| m.last())
                            .and_then(|m| m["Code"].as_str().map(str::to_string))
                    },
                )
                .await
            }
            CodeSource::Fakecloud => {
                let names = users.clone();
                self.fetch_codes(
                    users,
                    &names,
                    "fakecloud's introspection endpoint",
                    |pool, name| format!("/_fakecloud/cognito/confirmation-codes/{pool}/{name}"),
                    |r| ok_json(r)?["confirmationCode"].as_str().map(str::to_string),
                )
                .await
            }
        }
    }

    /// Runs `calls` as a bounded preparation and keeps what `pick` finds in each reply (None
    /// where the reply is not the one wanted), with the run's counts.
    pub(crate) async fn collect_each<T: Clone + Send + 'static>(
        &self,
        calls: Vec<Call>,
        pick: fn(&Reply) -> Option<T>,
    ) -> (Vec<Option<T>>, Outcome) {
        let found = Arc::new(Mutex::new(vec![None; calls.len()]));
        let sink = found.clone();
        let o = run_all(
            &self.opts.endpoint,
            self.opts.connections,
            self.opts.prep_limit,
            Workload::new(
                move |i| calls.get(i as usize).cloned(),
                move |i, r| {
                    let value = pick(r);
                    let good = value.is_some();
                    if let Ok(mut f) = sink.lock() {
                        f[i as usize] = value;
                    }
                    good
                },
            ),
        )
        .await;
        let values = found.lock().map(|f| f.clone()).unwrap_or_default();
        (values, o)
    }

    /// GETs `path(pool, names[i])` (both escaped) for `users[i]` and keeps the users whose
    /// reply holds a code.
    async fn fetch_codes(
        &self,
        users: Vec<String>,
        names: &[String],
        from: &str,
        path: fn(&str, &str) -> String,
        code_in: fn(&Reply) -> Option<String>,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let started = Instant::now();
        let pool = query_escape(&self.pool_id);
        let calls: Vec<Call> = names
            .iter()
            .map(|name| Call::Get {
                path: path(&pool, &query_escape(name)),
            })
            .collect();
        let (codes, _) = self.collect_each(calls, code_in).await;
        let pairs: Vec<(String, String)> = users
            .into_iter()
            .zip(codes)
            .filter_map(|(u, code)| Some((u, code.filter(|c| !c.is_empty())?)))
            .collect();
        eprintln!(
            "  prep: read {} codes from {from} in {:.1} s",
            pairs.len(),
            started.elapsed().as_secs_f64()
        );
        if pairs.is_empty() {
            bail!("no codes could be read from {from}");
        }
        Ok(pairs)
    }

    pub async fn run_signup(&mut self) -> Outcome {
        let prefix = self.next_prefix("s");
        let style = self.opts.style;
        let this = self.template();
        let w = Workload::new(
            move |i| Some(this.signup_call(&user_name(style, &prefix, i))),
            |_, r| signup_ok(r),
        );
        let o = self.measure(None, Arc::new(w)).await;
        self.finish(o, "sign-up")
    }

    /// A copy holding only what request builders need (closures must be 'static).
    pub(crate) fn template(&self) -> Arc<Target> {
        Arc::new(Target {
            opts: self.opts.clone(),
            pool_id: self.pool_id.clone(),
            client_id: self.client_id.clone(),
            run_id: self.run_id.clone(),
            sets: 0,
        })
    }

    async fn probe(&self, call: &Call) -> Option<Reply> {
        let mut conn = Conn::new(self.opts.endpoint.clone(), self.opts.timeout);
        conn.call(call).await.ok()
    }

    fn unsupported_outcome(&self, workload: &str, reply: &Reply) -> Outcome {
        Outcome {
            target: self.opts.name.clone(),
            workload: workload.to_string(),
            unsupported: true,
            note: reply.describe(),
            ..Default::default()
        }
    }

    /// ResendConfirmationCode and wrong-code ConfirmSignUp over a set of users; with
    /// `half_rate`, each again open-loop at half the peak rate.
    pub async fn run_spread(&mut self, resend: bool, wrong: bool) -> anyhow::Result<Vec<Outcome>> {
        let mut out = Vec::new();
        let users = Arc::new(self.prepare_users("r", self.opts.spread_users).await?);
        let this = self.template();
        if resend {
            let probe = self.probe(&self.resend_call(&users[0])).await;
            match probe {
                Some(r) if unsupported(&r) => out.push(self.unsupported_outcome("resend", &r)),
                _ => {
                    let make = |this: Arc<Target>, users: Arc<Vec<String>>| {
                        Workload::new(
                            move |i| {
                                Some(this.resend_call(&users[(i % users.len() as u64) as usize]))
                            },
                            |_, r| resend_ok(r),
                        )
                    };
                    let peak = self
                        .measure(None, Arc::new(make(this.clone(), users.clone())))
                        .await;
                    let peak = self.finish(peak, "resend");
                    progress(&peak);
                    let rate = peak.ok_rate();
                    out.push(peak);
                    if self.opts.half_rate && rate > 0.0 {
                        let half = self
                            .measure(
                                Some(rate / 2.0),
                                Arc::new(make(this.clone(), users.clone())),
                            )
                            .await;
                        let half = self.finish(half, "resend@50%");
                        progress(&half);
                        out.push(half);
                    }
                }
            }
        }
        if wrong {
            let probe = self.probe(&self.confirm_call(&users[0], WRONG_CODE)).await;
            match probe {
                Some(r) if unsupported(&r) => {
                    out.push(self.unsupported_outcome("confirm-wrong", &r))
                }
                _ => {
                    let make = |this: Arc<Target>, users: Arc<Vec<String>>| {
                        Workload::new(
                            move |i| {
                                Some(this.confirm_call(
                                    &users[(i % users.len() as u64) as usize],
                                    WRONG_CODE,
                                ))
                            },
                            |_, r| code_mismatch(r),
                        )
                    };
                    let peak = self
                        .measure(None, Arc::new(make(this.clone(), users.clone())))
                        .await;
                    let mut peak = self.finish(peak, "confirm-wrong");
                    if self.opts.code_source == CodeSource::Any {
                        peak.note = join_note(
                            &peak.note,
                            "this endpoint accepts any code, so a wrong code is not refused",
                        );
                    }
                    progress(&peak);
                    let rate = peak.ok_rate();
                    out.push(peak);
                    if self.opts.half_rate && rate > 0.0 {
                        let half = self
                            .measure(
                                Some(rate / 2.0),
                                Arc::new(make(this.clone(), users.clone())),
                            )
                            .await;
                        let half = self.finish(half, "confirm-wrong@50%");
                        progress(&half);
                        out.push(half);
                    }
                }
            }
        }
        Ok(out)
    }

    /// ConfirmSignUp with the right code; `estimate` (requests/s) sizes the prepared supply.
    pub async fn run_confirm(&mut self, estimate: f64) -> anyhow::Result<Vec<Outcome>> {
        let mut out = Vec::new();
        let secs = self.opts.duration.as_secs_f64();
        let size = |rate: f64, max: u64| ((rate * secs * 1.3).ceil() as u64).clamp(200, max);
        let users = self
            .prepare_users("c", size(estimate, self.opts.max_prep_users))
            .await?;
        let pairs = Arc::new(self.prepare_codes(users).await?);
        let this = self.template();
        let make = |this: Arc<Target>, pairs: Arc<Vec<(String, String)>>| {
            Workload::new(
                move |i| pairs.get(i as usize).map(|(u, c)| this.confirm_call(u, c)),
                |_, r| confirm_ok(r),
            )
        };
        let peak = self
            .measure(None, Arc::new(make(this.clone(), pairs)))
            .await;
        let mut peak = self.finish(peak, "confirm-correct");
        peak.note = join_note(&peak.note, &self.opts.code_source.describe());
        progress(&peak);
        let rate = peak.ok_rate();
        out.push(peak);
        if self.opts.half_rate && rate > 0.0 {
            let users = self
                .prepare_users("h", size(rate / 2.0, self.opts.max_prep_users))
                .await?;
            let pairs = Arc::new(self.prepare_codes(users).await?);
            let half = self
                .measure(Some(rate / 2.0), Arc::new(make(this, pairs)))
                .await;
            let half = self.finish(half, "confirm-correct@50%");
            progress(&half);
            out.push(half);
        }
        Ok(out)
    }
}

/// A short progress line on stderr (the full result goes to stdout when recorded).
pub(crate) fn progress(o: &Outcome) {
    eprintln!(
        "  done: {} {} {}: {:.0} ok/s, {} unexpected",
        o.target,
        o.workload,
        o.mode,
        o.ok_rate(),
        o.unexpected
    );
}

pub(crate) fn join_note(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_string(),
        (_, true) => a.to_string(),
        _ => format!("{a}; {b}"),
    }
}

/// The workloads (run in the order given; resend and confirm-wrong together).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    Signup,
    Resend,
    ConfirmWrong,
    ConfirmCorrect,
    /// InitiateAuth USER_PASSWORD_AUTH of confirmed users.
    SigninPassword,
    /// InitiateAuth USER_SRP_AUTH, then RespondToAuthChallenge PASSWORD_VERIFIER.
    SigninSrp,
    /// InitiateAuth REFRESH_TOKEN_AUTH with prepared refresh tokens.
    Refresh,
    /// GetUser with prepared access tokens.
    GetUser,
}

/// Runs the chosen workloads against one endpoint.
pub async fn run_target(opts: Options, kinds: &[Kind]) -> anyhow::Result<Vec<Outcome>> {
    let mut target = Target::setup(opts).await?;
    run_workloads(&mut target, kinds).await
}

/// Runs the chosen workloads in `target`'s pool.
pub async fn run_workloads(target: &mut Target, kinds: &[Kind]) -> anyhow::Result<Vec<Outcome>> {
    eprintln!(
        "{}: pool {} client {} ({} connections, {:.0} s per run)",
        target.opts.name,
        target.pool_id,
        target.client_id,
        target.opts.connections,
        target.opts.duration.as_secs_f64()
    );
    let mut out = Vec::new();
    let mut spread_done = false;
    let mut signin = crate::signin::SignIns::default();
    // In the order given; resend and confirm-wrong share their users and run together.
    for kind in kinds {
        match kind {
            Kind::Signup => {
                let o = target.run_signup().await;
                progress(&o);
                out.push(o);
            }
            Kind::Resend | Kind::ConfirmWrong => {
                if !spread_done {
                    spread_done = true;
                    let resend = kinds.contains(&Kind::Resend);
                    let wrong = kinds.contains(&Kind::ConfirmWrong);
                    out.extend(target.run_spread(resend, wrong).await?);
                }
            }
            Kind::ConfirmCorrect => {
                // Size the supply from the fastest request rate seen so far (ConfirmSignUp
                // costs about what a wrong-code confirmation or a resend costs), else a guess.
                let seen = out
                    .iter()
                    .filter(|o| o.mode == "peak" && o.workload != "sign-up" && o.seconds > 0.0)
                    .map(|o| o.requests as f64 / o.seconds)
                    .fold(0.0, f64::max);
                let estimate = if seen > 0.0 { seen } else { 2000.0 };
                out.extend(target.run_confirm(estimate).await?);
            }
            Kind::SigninPassword | Kind::SigninSrp | Kind::Refresh | Kind::GetUser => {
                let o = signin.run(target, *kind).await?;
                progress(&o);
                out.push(o);
            }
        }
    }
    if !target.opts.note.is_empty() {
        for o in &mut out {
            o.setup = target.opts.note.clone();
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use hyper::StatusCode;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap(),
            error_type: None,
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn checks_accept_only_what_the_workload_expects() {
        assert!(signup_ok(&reply(
            200,
            r#"{"UserConfirmed":false,"UserSub":"abc"}"#
        )));
        assert!(!signup_ok(&reply(
            200,
            r#"{"UserConfirmed":true,"UserSub":"abc"}"#
        )));
        assert!(!signup_ok(&reply(
            400,
            r#"{"__type":"UsernameExistsException"}"#
        )));
        assert!(confirm_ok(&reply(200, "{}")));
        assert!(!confirm_ok(&reply(200, r#"{"x":1}"#)));
        assert!(!confirm_ok(&reply(
            400,
            r#"{"__type":"CodeMismatchException"}"#
        )));
        assert!(code_mismatch(&reply(
            400,
            r#"{"__type":"CodeMismatchException","message":"m"}"#
        )));
        assert!(!code_mismatch(&reply(200, "{}")));
        assert!(!code_mismatch(&reply(
            400,
            r#"{"__type":"LimitExceededException"}"#
        )));
        assert!(resend_ok(&reply(
            200,
            r#"{"CodeDeliveryDetails":{"DeliveryMedium":"EMAIL"}}"#
        )));
        assert!(!resend_ok(&reply(200, "{}")));
    }

    #[test]
    fn recognises_unimplemented_operations() {
        assert!(unsupported(&reply(
            500,
            r#"{"__type":"CognitoLocal#Unsupported","message":"x"}"#
        )));
        assert!(unsupported(&reply(
            500,
            "<!doctype html>\n<title>500 Internal Server Error</title>"
        )));
        assert!(!unsupported(&reply(
            400,
            r#"{"__type":"CodeMismatchException"}"#
        )));
    }

    #[test]
    fn names_match_the_seeder_and_escape_for_queries() {
        assert_eq!(user_name(Style::Plain, "bx-", 7), "bx-000000007");
        assert_eq!(
            user_name(Style::Email, "bx-", 7),
            "bx-000000007@example.com"
        );
        assert_eq!(query_escape("a@b.c/d"), "a%40b.c%2Fd");
        assert_eq!(
            CodeSource::parse("fixed=123456").unwrap(),
            CodeSource::Fixed("123456".into())
        );
        assert!(CodeSource::parse("fixed=").is_err());
        assert_eq!(
            CodeSource::parse("fakecloud").unwrap(),
            CodeSource::Fakecloud
        );
        assert!(CodeSource::parse("introspection").is_err());
    }
}
