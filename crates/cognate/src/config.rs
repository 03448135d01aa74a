//! Command line and environment configuration. Every flag also reads a `COGNATE_*` variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "cognate",
    version,
    about = "A self-hostable Amazon Cognito user-pools API"
)]
pub struct Cli {
    /// A file of `COGNATE_*` / `AWS_*` settings, one `NAME=value` per line (`#` comments).
    /// Flags and variables already in the environment take precedence over it.
    #[arg(long, env = "COGNATE_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// The `--config` / `COGNATE_CONFIG` file named on the command line, if any.
pub fn config_file_from_args(args: &[String]) -> Option<PathBuf> {
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            return it.next().map(PathBuf::from);
        }
        if let Some(p) = a.strip_prefix("--config=") {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os("COGNATE_CONFIG").map(PathBuf::from)
}

/// Parses a settings file into (name, value) pairs; only COGNATE_* and AWS_* names.
pub fn parse_config_file(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: expected NAME=value", n + 1))?;
        let name = name.trim();
        if !(name.starts_with("COGNATE_") || name.starts_with("AWS_")) {
            return Err(format!(
                "line {}: {name} is not a COGNATE_* or AWS_* setting",
                n + 1
            ));
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        out.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_file_lines() {
        let parsed =
            parse_config_file("# c\nCOGNATE_SMTP_URL=smtp://h:25\n\nAWS_REGION = \"eu-west-1\"\n")
                .unwrap();
        assert_eq!(
            parsed,
            vec![
                ("COGNATE_SMTP_URL".to_string(), "smtp://h:25".to_string()),
                ("AWS_REGION".to_string(), "eu-west-1".to_string())
            ]
        );
        assert!(parse_config_file("PATH=/tmp").is_err());
        assert!(parse_config_file("COGNATE_X").is_err());
        let args = vec!["cognate".to_string(), "serve".into(), "--config=/x".into()];
        assert_eq!(config_file_from_args(&args), Some(PathBuf::from("/x")));
    }

    #[test]
    fn redacts_database_credentials() {
        assert_eq!(redact_url("postgres://u:p@h/db"), "postgres://***@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Apply database migrations and exit.
    Migrate(DatabaseArgs),
    /// Print the developer outbox (messages delivered in outbox mode).
    Outbox(OutboxArgs),
    /// List the API operations and whether Cognate implements them.
    Operations {
        /// Print a Markdown table (as in the README).
        #[arg(long)]
        markdown: bool,
    },
    /// Rotate a pool's token-signing keys: new keys replace the current ones, which sign
    /// nothing new (they stay in the pool's JWKS for a day, until every token they signed
    /// has expired). Safe while instances serve: each signs with the new keys within 30 s.
    RotateSigningKeys(RotateArgs),
    /// Put a new master key first in the master key file and seal every secret with it (stop
    /// the instances first; start them again with the new file).
    RotateMasterKey(DatabaseArgs),
    /// Bulk-load users straight into the store (benchmarks).
    #[command(hide = true)]
    SeedUsers(crate::seed::SeedArgs),
}

#[derive(Args, Debug, Clone)]
pub struct RotateArgs {
    /// The user pool whose keys to rotate.
    #[arg(long)]
    pub pool: String,
    #[command(flatten)]
    pub db: DatabaseArgs,
}

#[derive(Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// Directory for the embedded SQLite database (used when no --database-url is given).
    #[arg(long, env = "COGNATE_DATA_DIR", default_value = "cognate-data")]
    pub data_dir: PathBuf,
    /// sqlite://PATH or postgres://USER@HOST/DB; the scheme picks the backend.
    #[arg(long, env = "COGNATE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Maximum database connections of this instance (SQLite: reader connections kept
    /// open; writes always go through the one writer connection).
    #[arg(long, env = "COGNATE_DB_MAX_CONNECTIONS", default_value_t = 8)]
    pub db_max_connections: u32,
    /// The master key file that seals signing keys, client secrets and server secrets at
    /// rest (`KEY_ID BASE64_KEY` lines; the first seals). Default: `master.key` in the data
    /// directory, generated on first start. Every instance sharing a database needs the same
    /// file.
    #[arg(long, env = "COGNATE_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
}

impl DatabaseArgs {
    pub fn url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => cognate_store::sqlite_url_for_dir(&self.data_dir),
        }
    }

    pub fn master_key_path(&self) -> PathBuf {
        self.master_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }

    /// Where the data lives, for the startup log line (credentials stripped).
    pub fn describe(&self) -> String {
        match &self.database_url {
            Some(url) => redact_url(url),
            None => self.data_dir.join("cognate.db").display().to_string(),
        }
    }
}

pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SmsSender {
    None,
    Sns,
    Webhook,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// TLS and the connection bounds that keep slow or oversized clients from exhausting the
/// server.
#[derive(Args, Debug, Clone)]
pub struct TransportArgs {
    /// PEM certificate chain: serve HTTPS (with --tls-key) instead of HTTP.
    #[arg(long, env = "COGNATE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, env = "COGNATE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A request head (and an idle connection's next one, and a TLS handshake) must arrive
    /// within this many milliseconds.
    #[arg(long, env = "COGNATE_HEADER_READ_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_read_timeout_ms: u64,
    /// A request body must arrive whole within this many milliseconds.
    #[arg(long, env = "COGNATE_BODY_READ_TIMEOUT_MS", default_value_t = 30_000)]
    pub body_read_timeout_ms: u64,
    /// Connections served at once; more wait in the listen backlog.
    #[arg(long, env = "COGNATE_MAX_CONNECTIONS", default_value_t = 4096)]
    pub max_connections: usize,
    /// Largest request head in bytes (HTTP/1.1 answers 431 beyond it; at least 8192).
    #[arg(long, env = "COGNATE_MAX_HEADER_BYTES", default_value_t = 32_768)]
    pub max_header_bytes: usize,
    /// On SIGTERM/SIGINT, in-flight requests get this many milliseconds to finish.
    #[arg(long, env = "COGNATE_SHUTDOWN_GRACE_MS", default_value_t = 10_000)]
    pub shutdown_grace_ms: u64,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    #[arg(long, env = "COGNATE_LISTEN", default_value = "127.0.0.1:9229")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// Region used in pool ids, ARNs and token issuers.
    #[arg(long, env = "COGNATE_REGION", default_value = "us-east-1")]
    pub region: String,
    /// AWS account id used in ARNs.
    #[arg(long, env = "COGNATE_ACCOUNT_ID", default_value = "000000000000")]
    pub account_id: String,
    #[arg(long, env = "COGNATE_ARGON2_MEMORY_KIB", default_value_t = 19456)]
    pub argon2_memory_kib: u32,
    #[arg(long, env = "COGNATE_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    #[arg(long, env = "COGNATE_ARGON2_PARALLELISM", default_value_t = 1)]
    pub argon2_parallelism: u32,
    /// ConfirmSignUp calls allowed per user per hour (AWS: 15).
    #[arg(long, env = "COGNATE_CONFIRM_ATTEMPTS_PER_HOUR", default_value_t = 15)]
    pub confirm_attempts_per_hour: i64,
    /// ResendConfirmationCode calls allowed per user per hour (AWS: 5).
    #[arg(long, env = "COGNATE_RESEND_PER_HOUR", default_value_t = 5)]
    pub resend_per_hour: i64,
    /// Seconds between sweeps that delete expired challenge sessions, refresh tokens and
    /// stale failure counts (0: never).
    #[arg(long, env = "COGNATE_SWEEP_INTERVAL_SECS", default_value_t = 600)]
    pub sweep_interval_secs: u64,
    /// Largest accepted request body in bytes.
    #[arg(long, env = "COGNATE_MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,
    /// Access keys for the signed (admin) operations: a file of `ACCESS_KEY_ID SECRET` lines,
    /// read again on SIGHUP.
    #[arg(long, env = "COGNATE_CREDENTIALS_FILE")]
    pub credentials_file: Option<PathBuf>,
    /// One access key for the signed operations (with `--secret-access-key`), beside the file.
    #[arg(long, env = "COGNATE_ACCESS_KEY_ID")]
    pub access_key_id: Option<String>,
    #[arg(long, env = "COGNATE_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_access_key: Option<String>,
    /// Without credentials on a non-loopback address, accept any well-formed signature
    /// anyway (anyone who reaches the port can then administer every pool).
    #[arg(
        long,
        env = "COGNATE_INSECURE_ACCEPT_ANY_CREDENTIALS",
        default_value_t = false
    )]
    pub insecure_accept_any_credentials: bool,
    #[command(flatten)]
    pub transport: TransportArgs,
    /// Request-rate quotas per pool by AWS's categories: `Category=RPS,...`, `aws-defaults`,
    /// or both (explicit items win). Off by default; counted per instance.
    #[arg(long, env = "COGNATE_QUOTAS", value_parser = check_quotas, default_value = "off")]
    pub quotas: String,
    /// TEST ONLY: expose POST /_cognate/test/clock to move the server's clock forward.
    #[arg(long, env = "COGNATE_TEST_CLOCK", default_value_t = false)]
    pub test_clock: bool,
    #[arg(long, env = "COGNATE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// SMTP server in lettre's URL form, e.g. smtp://user:pass@host:587?tls=required.
    /// Setting it makes SMTP the email delivery method.
    #[arg(long, env = "COGNATE_SMTP_URL")]
    pub smtp_url: Option<String>,
    /// File holding the SMTP password (overrides the URL's password).
    #[arg(long, env = "COGNATE_SMTP_PASSWORD_FILE")]
    pub smtp_password_file: Option<PathBuf>,
    /// PEM file of extra CA certificates trusted for SMTP TLS (a private mail CA).
    #[arg(long, env = "COGNATE_SMTP_CA_FILE")]
    pub smtp_ca_file: Option<PathBuf>,
    /// Default sender, "Name <address>" or "address".
    #[arg(long, env = "COGNATE_EMAIL_FROM")]
    pub email_from: Option<String>,
    /// Send email of pools with EmailSendingAccount=DEVELOPER through Amazon SES v2.
    #[arg(long, env = "COGNATE_SES", default_value_t = false)]
    pub ses: bool,
    #[arg(long, env = "COGNATE_SMS_SENDER", value_enum, default_value_t = SmsSender::None)]
    pub sms_sender: SmsSender,
    #[arg(long, env = "COGNATE_SMS_WEBHOOK_URL")]
    pub sms_webhook_url: Option<String>,
    #[arg(long, env = "COGNATE_SMS_WEBHOOK_SECRET", hide_env_values = true)]
    pub sms_webhook_secret: Option<String>,
    /// Timeout for each delivery provider call, in milliseconds.
    #[arg(long, env = "COGNATE_DELIVERY_TIMEOUT_MS", default_value_t = 5000)]
    pub delivery_timeout_ms: u64,
    /// Base URL of confirmation links ({##text##} in EmailMessageByLink).
    #[arg(long, env = "COGNATE_LINK_BASE_URL")]
    pub link_base_url: Option<String>,

    /// Base URL clients reach this server at (scheme, host, port, optional path). Tokens'
    /// issuer is `{public-url}/{userPoolId}`, and the discovery document and JWKS are served
    /// under it. Default: `http://` and the listen address.
    #[arg(long, env = "COGNATE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Map a trigger function ARN (or name) to a webhook URL: ARN=URL. Repeatable.
    #[arg(
        long = "trigger-webhook",
        env = "COGNATE_TRIGGER_WEBHOOKS",
        value_delimiter = ','
    )]
    pub trigger_webhooks: Vec<String>,
    /// Timeout per trigger attempt in milliseconds (AWS: 5 s).
    #[arg(long, env = "COGNATE_TRIGGER_TIMEOUT_MS", default_value_t = 5000)]
    pub trigger_timeout_ms: u64,
}

#[derive(Args, Debug, Clone)]
pub struct OutboxArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    #[arg(long)]
    pub pool: Option<String>,
    #[arg(long)]
    pub username: Option<String>,
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
}

/// Rejects a bad `--quotas` value at parse time; `serve` builds the limiter from it.
fn check_quotas(spec: &str) -> Result<String, String> {
    cognate_server::quota::Quotas::parse_spec(spec)
        .map(|_| spec.to_string())
        .map_err(|e| e.to_string())
}
