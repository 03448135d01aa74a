//! Black-box harness: starts the real `cognate serve` binary on a free loopback port with a
//! temporary data directory, waits for /health, and hands out real AWS SDK clients.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider as cip;
use cip::config::{BehaviorVersion, Credentials, Region};
use serde_json::Value;

pub struct Server {
    pub url: String,
    pub data_dir: tempfile::TempDir,
    pub log_path: PathBuf,
    child: Child,
    extra_args: Vec<String>,
    envs: Vec<(String, String)>,
    port: u16,
    pub database_url: Option<String>,
}

/// Servers sharing a PostgreSQL database must share a master key (each would otherwise
/// generate its own in its data directory): unless the environment names one, they use one
/// file beside every suite (the Python suite uses the same path).
fn shared_master_key(args: &[String]) -> Vec<(String, std::ffi::OsString)> {
    let on_postgres = args.iter().any(|a| a.starts_with("postgres"));
    if !on_postgres || std::env::var_os("COGNATE_MASTER_KEY_FILE").is_some() {
        return Vec::new();
    }
    vec![(
        "COGNATE_MASTER_KEY_FILE".into(),
        shared_master_key_path().into_os_string(),
    )]
}

fn shared_master_key_path() -> PathBuf {
    std::env::var_os("COGNATE_MASTER_KEY_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("cognate-test-master.key"))
}

/// A database a server uses, opened beside it with one connection and no migrations.
pub async fn open_store_at(url: &str) -> cognate_store::Store {
    cognate_store::Store::open(
        url,
        &cognate_store::StoreOptions {
            max_connections: 1,
            migrate: false,
        },
    )
    .await
    .expect("open the server's store")
}

/// The port a server launched with `--listen 127.0.0.1:0` bound, read from its ready line
/// (`cognate is ready listen=127.0.0.1:PORT …`, possibly with ANSI styling around the field).
async fn bound_port(child: &mut Child, log_path: &std::path::Path) -> u16 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = std::fs::read_to_string(log_path).unwrap_or_default();
        if let Some(port) = log
            .lines()
            .filter(|l| l.contains("cognate is ready"))
            .find_map(|l| {
                let rest = &l[l.find("127.0.0.1:")? + "127.0.0.1:".len()..];
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                digits.parse().ok()
            })
        {
            return port;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited ({status}) before it was ready; log:\n{log}");
        }
        if Instant::now() > deadline {
            panic!("server did not report its port; log:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub struct ServerBuilder {
    args: Vec<String>,
    envs: Vec<(String, String)>,
    database_url: Option<String>,
}

impl ServerBuilder {
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.envs.push((k.into(), v.into()));
        self
    }
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }
    pub async fn start(self) -> Server {
        let data_dir = tempfile::tempdir().expect("tempdir");
        let mut args = self.args;
        // An explicit empty URL forces the embedded SQLite default.
        let url = match self.database_url {
            Some(u) if u.is_empty() => None,
            Some(u) => Some(u),
            None => std::env::var("COGNATE_TEST_DATABASE_URL").ok(),
        };
        if let Some(url) = &url {
            args.push("--database-url".into());
            args.push(url.clone());
        }
        Server::spawn(data_dir, args, self.envs, url).await
    }
}

impl Server {
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            // Cheap password hashing keeps the suite fast; the parameters are still argon2id.
            args: vec![
                "--test-clock".into(),
                "--argon2-memory-kib".into(),
                "1024".into(),
                "--argon2-iterations".into(),
                "1".into(),
            ],
            envs: vec![],
            database_url: None,
        }
    }

    pub async fn start() -> Server {
        Self::builder().start().await
    }

    async fn spawn(
        data_dir: tempfile::TempDir,
        extra_args: Vec<String>,
        envs: Vec<(String, String)>,
        database_url: Option<String>,
    ) -> Server {
        let log_path = data_dir.path().join("server.log");
        // Port 0: the server binds a port of the kernel's choosing and names it in its ready
        // line. Picking a free port here and passing it on would race with every other listener
        // the parallel tests open (a fake Lambda once took such a port between the two steps).
        let mut child = Self::launch(data_dir.path(), 0, &extra_args, &envs, &log_path);
        let port = bound_port(&mut child, &log_path).await;
        let server = Server {
            url: format!("http://127.0.0.1:{port}"),
            data_dir,
            log_path,
            child,
            extra_args,
            envs,
            port,
            database_url,
        };
        server.wait_ready().await;
        server
    }

    fn launch(
        dir: &std::path::Path,
        port: u16,
        args: &[String],
        envs: &[(String, String)],
        log: &std::path::Path,
    ) -> Child {
        let log_file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
        cmd.arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(args)
            .env_remove("COGNATE_DATABASE_URL")
            .envs(shared_master_key(args))
            .env("COGNATE_LOG", "info")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("log clone"))
            .stderr(log_file);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        cmd.spawn().expect("spawn cognate")
    }

    async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = reqwest::Client::new();
        loop {
            if let Ok(r) = http.get(format!("{}/health", self.url)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            if Instant::now() > deadline {
                panic!("server did not become ready; log:\n{}", self.log());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// The server process's id (to signal it).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the process (SIGKILL) and starts it again on the same port and data.
    pub async fn kill_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Self::launch(
            self.data_dir.path(),
            self.port,
            &self.extra_args,
            &self.envs,
            &self.log_path,
        );
        self.wait_ready().await;
    }

    /// The database the server uses (for tests that inspect what was stored).
    pub fn store_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| self.sqlite_url())
    }

    /// The server's database, opened beside it (no migrations), for tests that read what
    /// was stored.
    pub async fn open_store(&self) -> cognate_store::Store {
        let text = std::fs::read_to_string(self.master_key_file()).expect("master key file");
        let keys = cognate_crypto::seal::MasterKeys::parse(&text).expect("master key");
        open_store_at(&self.store_url())
            .await
            .with_master_keys(std::sync::Arc::new(keys))
    }

    /// The master key file the server seals its secrets with (for tools run beside it).
    pub fn master_key_file(&self) -> PathBuf {
        if self.database_url.is_some() {
            shared_master_key_path()
        } else {
            self.data_dir.path().join("data").join("master.key")
        }
    }

    pub fn sqlite_url(&self) -> String {
        format!(
            "sqlite://{}?mode=rw",
            self.data_dir
                .path()
                .join("data")
                .join("cognate.db")
                .display()
        )
    }

    pub fn client(&self) -> cip::Client {
        sdk_client(&self.url)
    }

    pub async fn advance_clock(&self, secs: i64) {
        let r = reqwest::Client::new()
            .post(format!("{}/_cognate/test/clock", self.url))
            .json(&serde_json::json!({ "AdvanceSeconds": secs }))
            .send()
            .await
            .expect("clock");
        assert!(r.status().is_success());
    }

    pub async fn outbox(&self, pool: &str, username: &str) -> Vec<Value> {
        let r: Value = reqwest::Client::new()
            .get(format!("{}/_cognate/outbox", self.url))
            .query(&[("pool", pool), ("username", username)])
            .send()
            .await
            .expect("outbox")
            .json()
            .await
            .expect("outbox json");
        r["Messages"].as_array().cloned().unwrap_or_default()
    }

    /// The code of the newest outbox message for a user.
    pub async fn last_code(&self, pool: &str, username: &str) -> String {
        let msgs = self.outbox(pool, username).await;
        msgs.last()
            .and_then(|m| m["Code"].as_str())
            .unwrap_or_else(|| panic!("no code in outbox for {username}: {msgs:?}"))
            .to_string()
    }

    /// A raw AWS JSON 1.1 request (for malformed-input tests).
    pub async fn raw(
        &self,
        target: Option<&str>,
        content_type: Option<&str>,
        body: impl Into<reqwest::Body>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = reqwest::Client::new()
            .post(format!("{}/", self.url))
            .body(body);
        if let Some(t) = target {
            req = req.header("X-Amz-Target", t);
        }
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        let resp = req.send().await.expect("raw request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn sdk_client(url: &str) -> cip::Client {
    let config = cip::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new(
            "AKIDCOGNATETEST",
            "cognate-test-secret",
            None,
            None,
            "test",
        ))
        .build();
    cip::Client::from_conf(config)
}

/// The AWS error code and message of a failed SDK call.
pub fn err_of<E, R>(
    result: Result<R, cip::error::SdkError<E, cip::config::http::HttpResponse>>,
) -> (String, String)
where
    E: cip::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match result {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => {
            let meta = cip::error::ProvideErrorMetadata::meta(&e);
            (
                meta.code().unwrap_or("<none>").to_string(),
                meta.message().unwrap_or("<none>").to_string(),
            )
        }
    }
}

pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    cognate_crypto::secret_hash::compute(secret, username, client_id)
}

pub fn attr(name: &str, value: &str) -> cip::types::AttributeType {
    cip::types::AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .expect("attribute")
}

/// A fresh PostgreSQL database for one test, or None (with a printed SKIPPED line) when
/// PostgreSQL is unreachable and `COGNATE_REQUIRE_POSTGRES` is not set. CI sets it, so
/// there a missing PostgreSQL fails the run.
pub struct TestDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    pub async fn create(test: &str) -> Option<TestDatabase> {
        use sqlx::Connection;
        let admin_url = std::env::var("COGNATE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let required = std::env::var("COGNATE_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        let mut conn = match sqlx::PgConnection::connect(&admin_url).await {
            Ok(c) => c,
            Err(e) if !required => {
                eprintln!("SKIPPED: {test}: PostgreSQL unreachable at {admin_url} ({e}); set COGNATE_REQUIRE_POSTGRES=1 to make this a failure");
                return None;
            }
            Err(e) => {
                panic!("PostgreSQL is required (COGNATE_REQUIRE_POSTGRES=1) but unreachable: {e}")
            }
        };
        let name = format!("cognate_t_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
        let _ = conn.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(&admin_url);
        Some(TestDatabase {
            url: format!("{base}/{name}"),
            admin_url,
            name,
        })
    }

    pub async fn drop_database(self) {
        use sqlx::Connection;
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
            let _ = conn.close().await;
        }
    }
}

/// The password the suites sign users up with.
pub const PASSWORD: &str = "Passw0rd!";

pub type PoolBuilder = cip::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
pub type ClientBuilder =
    cip::operation::create_user_pool_client::builders::CreateUserPoolClientFluentBuilder;
pub type SignUpResult = Result<
    cip::operation::sign_up::SignUpOutput,
    cip::error::SdkError<cip::operation::sign_up::SignUpError, cip::config::http::HttpResponse>,
>;

/// A user pool and its app client.
pub struct Pool {
    pub id: String,
    pub client_id: String,
    /// The client's secret, when it was created with one.
    pub secret: Option<String>,
}

/// Creates the pool `name`, shaped by `configure`, and its client "app" (which `client` may
/// shape further, e.g. with a secret or another name).
pub async fn create_pool(
    c: &cip::Client,
    name: &str,
    configure: impl FnOnce(PoolBuilder) -> PoolBuilder,
    client: impl FnOnce(ClientBuilder) -> ClientBuilder,
) -> Pool {
    let pool = configure(c.create_user_pool().pool_name(name))
        .send()
        .await
        .unwrap();
    let id = pool.user_pool().unwrap().id().unwrap().to_string();
    let created = client(
        c.create_user_pool_client()
            .user_pool_id(&id)
            .client_name("app"),
    )
    .send()
    .await
    .unwrap();
    let created = created.user_pool_client().unwrap();
    Pool {
        id,
        client_id: created.client_id().unwrap().to_string(),
        secret: created.client_secret().map(str::to_string),
    }
}

/// SignUp through the pool's client with [`PASSWORD`] and one attribute.
pub async fn try_sign_up(
    c: &cip::Client,
    p: &Pool,
    username: &str,
    attribute: cip::types::AttributeType,
) -> SignUpResult {
    c.sign_up()
        .client_id(&p.client_id)
        .username(username)
        .password(PASSWORD)
        .user_attributes(attribute)
        .send()
        .await
}

/// SignUp with an email address, which must succeed.
pub async fn sign_up(
    c: &cip::Client,
    p: &Pool,
    username: &str,
    email: &str,
) -> cip::operation::sign_up::SignUpOutput {
    try_sign_up(c, p, username, attr("email", email))
        .await
        .unwrap()
}

/// A user of the pool, through AdminGetUser.
pub async fn user(
    c: &cip::Client,
    p: &Pool,
    username: &str,
) -> cip::operation::admin_get_user::AdminGetUserOutput {
    c.admin_get_user()
        .user_pool_id(&p.id)
        .username(username)
        .send()
        .await
        .expect("AdminGetUser")
}

/// A user's status in the pool.
pub async fn status(c: &cip::Client, p: &Pool, username: &str) -> cip::types::UserStatusType {
    user(c, p, username)
        .await
        .user_status()
        .cloned()
        .expect("status")
}

/// One attribute of a user in the pool.
pub async fn attribute(c: &cip::Client, p: &Pool, username: &str, name: &str) -> Option<String> {
    user(c, p, username)
        .await
        .user_attributes()
        .iter()
        .find(|a| a.name() == name)
        .and_then(|a| a.value().map(str::to_string))
}

/// A settings change made through `writer` applies to the very next request through `reader`
/// (the same server, or another instance on the same database), although `reader` has
/// already parsed and kept the old settings: a client change (PreventUserExistenceErrors) and
/// a pool change (the password policy).
pub async fn settings_changes_apply_to_the_next_request(
    writer: &cip::Client,
    reader: &cip::Client,
) {
    use cip::types::{PasswordPolicyType, PreventUserExistenceErrorTypes, UserPoolPolicyType};
    let Pool {
        id: pool,
        client_id: client,
        ..
    } = create_pool(
        writer,
        "changing",
        |b| b,
        |b| {
            b.client_name("c")
                .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Legacy)
        },
    )
    .await;
    let confirm_nobody = || {
        reader
            .confirm_sign_up()
            .client_id(&client)
            .username("nobody")
            .confirmation_code("123456")
            .send()
    };
    let sign_up = |name: &'static str| {
        reader
            .sign_up()
            .client_id(&client)
            .username(name)
            .password(PASSWORD)
            .send()
    };
    assert_eq!(err_of(confirm_nobody().await).0, "UserNotFoundException");
    sign_up("before").await.unwrap();

    writer
        .update_user_pool_client()
        .user_pool_id(&pool)
        .client_id(&client)
        .client_name("c")
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .send()
        .await
        .unwrap();
    assert_eq!(err_of(confirm_nobody().await).0, "CodeMismatchException");

    writer
        .update_user_pool()
        .user_pool_id(&pool)
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(PasswordPolicyType::builder().minimum_length(12).build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let (code, message) = err_of(sign_up("after").await);
    assert_eq!(code, "InvalidPasswordException", "{message}");
    // The client change survives the pool change (a pool change re-reads both).
    assert_eq!(err_of(confirm_nobody().await).0, "CodeMismatchException");
}
