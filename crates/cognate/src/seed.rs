//! `cognate seed-users` (hidden): bulk-loads users straight into the store, for benchmarks
//! (the pool-size ladder in `cognate-bench`). Not a request path and not an API: users are
//! written in large transactions through `Store::insert_users_bulk`, without trigger calls,
//! codes, messages or history events.
//!
//! Every seeded user gets the same Argon2id hash of `--password` (computed once with the
//! server's default parameters: hashing a million passwords would take hours) and no SRP
//! verifier, so seeded users can sign in with USER_PASSWORD_AUTH but not with SRP.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{bail, Context};
use clap::Args;

use crate::config::DatabaseArgs;
use cognate_core::ports::Clock as _;
use cognate_core::records::{AliasKind, NewUser, UserRecord, UserStatus};
use cognate_core::settings::PoolSettings;
use cognate_store::{Directory, Store, StoreOptions};

#[derive(Args, Debug, Clone)]
pub struct SeedArgs {
    #[command(flatten)]
    pub db: DatabaseArgs,
    /// The (existing) pool to fill.
    #[arg(long)]
    pub pool_id: String,
    /// How many users to add.
    #[arg(long)]
    pub count: u64,
    /// Usernames are PREFIX followed by a zero-padded index.
    #[arg(long, default_value = "seed-")]
    pub prefix: String,
    /// First index (to add more users to a pool seeded before with the same prefix).
    #[arg(long, default_value_t = 0)]
    pub start: u64,
    /// Leave the users UNCONFIRMED (with an unverified email and no code) instead of CONFIRMED.
    #[arg(long)]
    pub unconfirmed: bool,
    /// Each user's email is USERNAME@DOMAIN.
    #[arg(long, default_value = "example.com")]
    pub email_domain: String,
    /// The password every seeded user gets.
    #[arg(long, default_value = "Bench-Passw0rd!")]
    pub password: String,
    /// Users per transaction.
    #[arg(long, default_value_t = 50_000)]
    pub batch: usize,
}

/// The username and email of the user with index `i`.
pub fn seeded_name(prefix: &str, i: u64) -> String {
    format!("{prefix}{i:09}")
}

pub async fn run(args: SeedArgs) -> anyhow::Result<()> {
    if args.batch == 0 {
        bail!("--batch must be at least 1");
    }
    let store = Store::open(
        &args.db.url(),
        &StoreOptions {
            max_connections: 2,
            migrate: true,
        },
    )
    .await
    .with_context(|| format!("opening database {}", args.db.describe()))?;
    let record = store
        .get_pool(&args.pool_id)
        .await?
        .with_context(|| format!("no user pool {}", args.pool_id))?;
    let pool = PoolSettings::parse(&record.config).context("reading the pool's settings")?;
    let email_is_username = pool.is_username_attribute(AliasKind::Email);
    if !email_is_username && pool.is_username_attribute(AliasKind::PhoneNumber) {
        bail!("seed-users fills pools with usernames or email sign-in, not phone-number sign-in");
    }

    let hash =
        cognate_crypto::password::PasswordHasher::new(Default::default())?.hash(&args.password)?;
    let now = cognate_core::clock::WallClock::default().now();
    let status = if args.unconfirmed {
        UserStatus::Unconfirmed
    } else {
        UserStatus::Confirmed
    };
    let started = Instant::now();
    let mut done = 0u64;
    let end = args.start + args.count;
    let mut next = args.start;
    while next < end {
        let upto = end.min(next + args.batch as u64);
        let mut batch = Vec::with_capacity((upto - next) as usize);
        for i in next..upto {
            let name = seeded_name(&args.prefix, i);
            let email = format!("{name}@{}", args.email_domain);
            let sub = uuid::Uuid::new_v4().to_string();
            let mut attributes = BTreeMap::new();
            attributes.insert("email".to_string(), email.clone());
            if !args.unconfirmed {
                attributes.insert("email_verified".to_string(), "true".to_string());
            }
            let mut aliases = Vec::new();
            let username = if email_is_username {
                aliases.push((AliasKind::Email, email.to_lowercase()));
                sub.clone()
            } else {
                if !args.unconfirmed && pool.is_alias(AliasKind::Email) {
                    aliases.push((AliasKind::Email, email.to_lowercase()));
                }
                name
            };
            batch.push(NewUser {
                user: UserRecord {
                    pool_id: pool.id.clone(),
                    username_key: pool.username_key(&username),
                    username,
                    sub,
                    status,
                    enabled: true,
                    attributes,
                    password_hash: Some(hash.clone()),
                    srp_salt: None,
                    srp_verifier: None,
                    created_at: now,
                    updated_at: now,
                    password_set_at: Some(now),
                    signed_out_at: None,
                    pending_attributes: BTreeMap::new(),
                },
                aliases,
                moved_aliases: vec![],
                code: None,
                event: None,
                outbox: None,
            });
        }
        done += store
            .insert_users_bulk(&batch)
            .await
            .with_context(|| format!("inserting users {next}..{upto}"))?;
        next = upto;
    }
    store.close().await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "seeded {done} {} users into {} ({}..{}) in {secs:.1} s ({:.0} users/s)",
        status.as_str(),
        pool.id,
        seeded_name(&args.prefix, args.start),
        seeded_name(&args.prefix, end.saturating_sub(1)),
        done as f64 / secs.max(1e-9)
    );
    Ok(())
}
