//! Wiring: from the command line to a running server, and the small subcommands.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use cognate_core::clock::WallClock;
use cognate_core::service::{Ports, OUTBOX_PROVIDER};
use cognate_core::{Service, ServiceSettings};
use cognate_server::metrics::Metrics;
use cognate_server::{router, AppState, Authenticator, Credentials};
use cognate_store::{Directory, Store, StoreOptions};

use crate::config::{
    Command, DatabaseArgs, LogFormat, OutboxArgs, RotateArgs, ServeArgs, SmsSender,
};
use crate::metered::{MeteredSender, MeteredTriggers};

pub use cognate_server::operations_table;

pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(*args).await,
        Command::Migrate(db) => migrate(db).await,
        Command::Outbox(args) => outbox(args).await,
        Command::RotateSigningKeys(args) => rotate_signing_keys(args).await,
        Command::RotateMasterKey(db) => rotate_master_key(db).await,
        Command::SeedUsers(args) => crate::seed::run(args).await,
        Command::Operations { markdown } => {
            print!("{}", operations_table(markdown));
            Ok(())
        }
    }
}

pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("COGNATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

async fn open_store(db: &DatabaseArgs, migrate: bool) -> anyhow::Result<Store> {
    if db.database_url.is_none() {
        std::fs::create_dir_all(&db.data_dir)
            .with_context(|| format!("creating data directory {}", db.data_dir.display()))?;
    }
    let keys = Arc::new(crate::master_key::load_or_create(&db.master_key_path())?);
    let store = Store::open(
        &db.url(),
        &StoreOptions {
            max_connections: db.db_max_connections,
            migrate,
        },
    )
    .await
    .with_context(|| format!("opening database {}", db.describe()))?
    .with_master_keys(keys);
    if migrate {
        // Secrets from before sealing (or of a retired master key) are sealed now; a value
        // sealed with a key this file lacks stops the start here, naming the key id.
        let sealed = store
            .seal_secrets()
            .await
            .context("sealing secrets with the master key")?;
        if sealed != cognate_store::SealReport::default() {
            tracing::info!(?sealed, "sealed secrets with the current master key");
        }
    }
    Ok(store)
}

fn delivery_config(args: &ServeArgs) -> cognate_delivery::DeliveryConfig {
    cognate_delivery::DeliveryConfig {
        smtp_url: args.smtp_url.clone(),
        smtp_password_file: args.smtp_password_file.clone(),
        smtp_ca_file: args.smtp_ca_file.clone(),
        email_from: args.email_from.clone(),
        ses: args.ses,
        sms_sender: match args.sms_sender {
            SmsSender::None => cognate_delivery::SmsSenderKind::None,
            SmsSender::Sns => cognate_delivery::SmsSenderKind::Sns,
            SmsSender::Webhook => cognate_delivery::SmsSenderKind::Webhook,
        },
        sms_webhook_url: args.sms_webhook_url.clone(),
        sms_webhook_secret: args.sms_webhook_secret.clone(),
        timeout: Duration::from_millis(args.delivery_timeout_ms),
    }
}

fn trigger_config(args: &ServeArgs) -> anyhow::Result<cognate_triggers::TriggerConfig> {
    let mut webhooks = BTreeMap::new();
    for entry in &args.trigger_webhooks {
        let (arn, url) = entry
            .split_once('=')
            .with_context(|| format!("--trigger-webhook wants ARN=URL, got '{entry}'"))?;
        webhooks.insert(arn.to_string(), url.to_string());
    }
    Ok(cognate_triggers::TriggerConfig {
        webhooks,
        timeout: Duration::from_millis(args.trigger_timeout_ms),
        ..Default::default()
    })
}

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(args.log_format);
    let store = open_store(&args.db, true).await?;
    let deliverer = cognate_delivery::Deliverer::new(delivery_config(&args))
        .await
        .context("delivery configuration")?;
    let (email, sms) = (deliverer.has_email(), deliverer.has_sms());
    if args.smtp_url.is_some() && args.email_from.is_none() {
        tracing::warn!(
            "--smtp-url is set without --email-from: email of pools without EmailConfiguration.From will fail"
        );
    }
    let triggers = cognate_triggers::TriggerInvoker::new(trigger_config(&args)?).await;
    let authenticator = Arc::new(authenticator(&args)?);
    let transport = &args.transport;
    let tls = match (&transport.tls_cert, &transport.tls_key) {
        (Some(cert), Some(key)) => Some(
            cognate_server::listen::load_tls(cert, key).map_err(|e| anyhow::anyhow!("TLS: {e}"))?,
        ),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let quotas = cognate_server::quota::Quotas::parse_spec(&args.quotas)
        .map_err(|e| anyhow::anyhow!("--quotas: {e}"))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let local = listener.local_addr()?;
    let settings = ServiceSettings {
        region: args.region.clone(),
        account_id: args.account_id.clone(),
        confirm_attempts_per_hour: args.confirm_attempts_per_hour,
        resend_per_hour: args.resend_per_hour,
        link_base_url: args
            .link_base_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{local}")),
        public_url: args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("{scheme}://{local}")),
    };
    let store = Arc::new(store);
    let clock = WallClock::default();
    let metrics = Arc::new(Metrics::new().context("building the metrics registry")?);
    let service = Service::new(
        Ports {
            directory: store.clone(),
            sender: Arc::new(MeteredSender {
                inner: deliverer,
                metrics: metrics.clone(),
            }),
            triggers: Arc::new(MeteredTriggers {
                inner: triggers,
                metrics: metrics.clone(),
            }),
            clock: Arc::new(clock.clone()),
        },
        settings,
        cognate_crypto::password::Argon2Params {
            memory_kib: args.argon2_memory_kib,
            iterations: args.argon2_iterations,
            parallelism: args.argon2_parallelism,
        },
    )
    .await
    .context("starting the service")?;
    let service = Arc::new(service);
    let state = Arc::new(
        AppState::new(
            service.clone(),
            authenticator.clone(),
            args.region.clone(),
            args.max_body_bytes,
            args.test_clock.then_some(clock),
            local.ip().is_loopback(),
        )
        .with_body_read_timeout(Duration::from_millis(transport.body_read_timeout_ms))
        .with_metrics(metrics)
        .with_quotas(quotas)
        .with_tls(tls.is_some()),
    );
    if args.test_clock {
        tracing::warn!("TEST ONLY: the test clock endpoint is enabled");
    }
    tracing::info!(
        listen = %local,
        scheme,
        quotas = %args.quotas,
        data = %args.db.describe(),
        region = %args.region,
        email = if email { "provider" } else { "outbox" },
        sms = if sms { "provider" } else { "outbox" },
        "cognate is ready"
    );
    #[cfg(unix)]
    if matches!(*authenticator, Authenticator::Verify(_)) {
        tokio::spawn(reload_credentials_on_sighup(
            authenticator.clone(),
            args.clone(),
        ));
    }
    if args.sweep_interval_secs > 0 {
        tokio::spawn(sweep_forever(
            service.clone(),
            std::time::Duration::from_secs(args.sweep_interval_secs),
        ));
    }
    let options = cognate_server::listen::ListenOptions {
        tls,
        header_read_timeout: Duration::from_millis(transport.header_read_timeout_ms),
        max_connections: transport.max_connections,
        max_header_bytes: transport.max_header_bytes,
        shutdown_grace: Duration::from_millis(transport.shutdown_grace_ms),
    };
    cognate_server::listen::serve(listener, router(state.clone()), options, shutdown_signal())
        .await?;
    // Every answered write is committed; this waits for the writer and closes the pools.
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The access keys of the signed operations: the credentials file's and the one given by flag
/// or environment. Secrets go nowhere else (not in logs, not in errors).
fn load_credentials(args: &ServeArgs) -> anyhow::Result<Credentials> {
    let mut credentials = match &args.credentials_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the credentials file {}", path.display()))?;
            Credentials::parse(&text)
                .map_err(|e| anyhow::anyhow!("credentials file {}: {e}", path.display()))?
        }
        None => Credentials::new(),
    };
    match (&args.access_key_id, &args.secret_access_key) {
        (Some(id), Some(secret)) => credentials.insert(id, secret),
        (None, None) => {}
        _ => anyhow::bail!("--access-key-id and --secret-access-key go together"),
    }
    Ok(credentials)
}

/// Secure where it matters, easy where it is safe: configured credentials are verified;
/// without any, a loopback listener accepts any well-formed signature (said once in the log),
/// and another address is refused unless `--insecure-accept-any-credentials` says otherwise.
fn authenticator(args: &ServeArgs) -> anyhow::Result<Authenticator> {
    let credentials = load_credentials(args)?;
    if !credentials.is_empty() {
        tracing::info!(
            access_keys = credentials.len(),
            "admin operations need SigV4 signatures by a configured access key"
        );
        return Ok(Authenticator::verifying(credentials));
    }
    if args.listen.ip().is_loopback() {
        tracing::warn!(
            "no credentials configured: admin operations accept any well-formed SigV4 signature (loopback listener only)"
        );
        return Ok(Authenticator::AcceptAny);
    }
    if args.insecure_accept_any_credentials {
        tracing::error!(
            listen = %args.listen,
            "INSECURE: --insecure-accept-any-credentials: anyone who reaches this address can call every admin operation"
        );
        return Ok(Authenticator::AcceptAny);
    }
    anyhow::bail!(
        "{} is not a loopback address and no credentials are configured, so anyone could call the admin operations. \
         Configure access keys with --credentials-file FILE (lines of `ACCESS_KEY_ID SECRET`) or \
         --access-key-id/--secret-access-key (COGNATE_ACCESS_KEY_ID/COGNATE_SECRET_ACCESS_KEY), \
         or pass --insecure-accept-any-credentials to accept any signature anyway.",
        args.listen
    )
}

/// Reads the credentials again on each SIGHUP; a file that does not parse leaves the current
/// keys in force.
#[cfg(unix)]
async fn reload_credentials_on_sighup(authenticator: Arc<Authenticator>, args: ServeArgs) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangups) = signal(SignalKind::hangup()) else {
        tracing::warn!("cannot listen for SIGHUP: credentials will not be reloaded");
        return;
    };
    while hangups.recv().await.is_some() {
        match load_credentials(&args) {
            Ok(credentials) => {
                let keys = credentials.len();
                authenticator.reload(credentials);
                tracing::info!(access_keys = keys, "credentials reloaded");
            }
            Err(e) => {
                tracing::error!(error = %e, "credentials not reloaded; the previous keys stay")
            }
        }
    }
}

/// Runs the sweep every `interval` (the first one an interval after start). A failed sweep is
/// logged and tried again at the next interval.
async fn sweep_forever(service: Arc<Service>, interval: std::time::Duration) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match service.sweep_expired().await {
            Ok(swept) if swept.total() > 0 => tracing::info!(
                auth_sessions = swept.auth_sessions,
                refresh_tokens = swept.refresh_tokens,
                sign_in_failures = swept.sign_in_failures,
                oauth_codes = swept.oauth_codes,
                login_sessions = swept.login_sessions,
                attempt_counters = swept.attempt_counters,
                "swept expired sign-in rows"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweep failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

async fn migrate(db: DatabaseArgs) -> anyhow::Result<()> {
    init_logging(LogFormat::Text);
    let store = open_store(&db, false).await?;
    let applied = store.migrate().await?;
    if applied.is_empty() {
        println!("database {} is up to date", db.describe());
    } else {
        for v in applied {
            println!("applied {v}");
        }
    }
    store.close().await;
    Ok(())
}

async fn rotate_signing_keys(args: RotateArgs) -> anyhow::Result<()> {
    let store = open_store(&args.db, true).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let keys =
        tokio::task::spawn_blocking(move || cognate_core::service::new_signing_keys(now)).await??;
    let Some(retired) = store.rotate_signing_keys(&args.pool, now, keys).await? else {
        anyhow::bail!("no user pool {}", args.pool);
    };
    println!(
        "retired {retired} signing key(s) of {}: new keys sign new tokens within {} s on every instance",
        args.pool,
        cognate_core::service::KEYS_REREAD_SECS
    );
    store.close().await;
    Ok(())
}

async fn rotate_master_key(db: DatabaseArgs) -> anyhow::Result<()> {
    init_logging(LogFormat::Text);
    let path = db.master_key_path();
    let new_id = crate::master_key::prepend_new_key(&path)?;
    let store = open_store(&db, false).await?;
    let sealed = store.seal_secrets().await?;
    store.close().await;
    println!(
        "master key {new_id} now seals: re-sealed {} server secret(s), {} signing key(s), {} client secret(s); the older keys stay in {} until you remove them",
        sealed.server_secrets,
        sealed.signing_keys,
        sealed.client_secrets,
        path.display()
    );
    Ok(())
}

async fn outbox(args: OutboxArgs) -> anyhow::Result<()> {
    let store = open_store(&args.db, true).await?;
    let messages = store
        .list_messages(args.pool.as_deref(), args.username.as_deref(), args.limit)
        .await?;
    let messages: Vec<_> = messages
        .into_iter()
        .filter(|m| m.provider == OUTBOX_PROVIDER)
        .collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "Messages": messages }))?
        );
    } else if messages.is_empty() {
        println!("(no messages)");
    } else {
        for m in messages {
            println!(
                "{}  {}  {}  {} {}  code {}",
                m.sent_at,
                m.pool_id,
                m.username,
                m.medium,
                m.destination,
                m.code.as_deref().unwrap_or("-")
            );
        }
    }
    store.close().await;
    Ok(())
}
