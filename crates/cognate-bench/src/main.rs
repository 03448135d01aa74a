//! `cognate-bench`: a load generator for Cognito-compatible endpoints (Cognate, moto,
//! cognito-local, …) and the measurements that put its figures in context. See
//! BENCHMARKS.md for how the published figures were made.

mod bounds;
mod client;
mod ladder;
mod load;
mod machine;
mod scenario;
mod signin;
mod stats;
mod table;

use std::io::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::client::Endpoint;
use crate::scenario::{CodeSource, Kind, Options, Seeder, Style};
use crate::stats::Outcome;

#[derive(Parser, Debug)]
#[command(
    name = "cognate-bench",
    about = "Load generator for Cognito user-pools endpoints"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// Seconds per timed run.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Append one JSON line per result to this file (input of `table`).
    #[arg(long)]
    json: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
struct FlowArgs {
    /// Workloads, run in the order given (resend and confirm-wrong share users and run together).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = vec![Kind::Signup, Kind::Resend, Kind::ConfirmWrong, Kind::ConfirmCorrect])]
    workloads: Vec<Kind>,
    /// After each resend/confirm run at peak, run it again open-loop at half the peak rate.
    #[arg(long)]
    half_rate: bool,
    /// email: UsernameAttributes=[email] (the only kind cognito-local supports); plain: usernames.
    #[arg(long, value_enum, default_value_t = Style::Email)]
    style: Style,
    /// Users that ResendConfirmationCode and wrong-code confirmations cycle over.
    #[arg(long, default_value_t = 2000)]
    spread_users: u64,
    /// Most users prepared for one confirm-correct run.
    #[arg(long, default_value_t = 300_000)]
    max_prep_users: u64,
    /// Longest (untimed) preparation of one set of users, in seconds.
    #[arg(long, default_value_t = 180.0)]
    prep_seconds: f64,
    /// Printed with every result: how the server was started (e.g. raised limits).
    #[arg(long, default_value = "")]
    note: String,
    /// Confirmed users the password sign-ins cycle over (seeded with --seed-bin, else signed
    /// up and confirmed); refresh and get-user use one sign-in of each of the first 1,000.
    #[arg(long, default_value_t = 2000)]
    signin_users: u64,
    /// Users the SRP sign-ins cycle over (always signed up through the API, for their SRP
    /// verifiers, and confirmed with AdminConfirmSignUp).
    #[arg(long, default_value_t = 200)]
    srp_users: u64,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the sign-up flow and sign-in workloads against one endpoint.
    Run {
        /// http://127.0.0.1:PORT (loopback only).
        #[arg(long)]
        endpoint: String,
        /// Name in the results (e.g. cognate, moto, cognito-local).
        #[arg(long, default_value = "cognate")]
        name: String,
        /// Where confirmation codes come from: outbox (Cognate), fixed=CODE (cognito-local's
        /// CODE variable) or any (moto does not check codes).
        #[arg(long, default_value = "outbox")]
        code_source: String,
        /// Cognate binary used to bulk-load prepared users (`cognate seed-users`) instead of
        /// signing them up one Argon2id hash at a time. Needs --seed-data-dir or --seed-database-url.
        #[arg(long)]
        seed_bin: Option<PathBuf>,
        #[arg(long)]
        seed_data_dir: Option<PathBuf>,
        #[arg(long)]
        seed_database_url: Option<String>,
        /// The server's process id: its resident memory is read after each run.
        #[arg(long)]
        pid: Option<u32>,
        #[command(flatten)]
        flow: FlowArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Measure a no-work endpoint with the same client: the built-in trivial axum server
    /// (default), or GET PATH on --endpoint.
    Ceiling {
        #[arg(long)]
        endpoint: Option<String>,
        #[arg(long, default_value = "/health")]
        path: String,
        #[command(flatten)]
        common: Common,
    },
    /// Hash rate of the Argon2id parameters alone on all cores (SignUp's bound), and of what
    /// SignUp computes (Argon2id PHC hash + SRP verifier).
    Argon2 {
        #[arg(long, default_value_t = 19456)]
        memory_kib: u32,
        #[arg(long, default_value_t = 2)]
        iterations: u32,
        #[arg(long, default_value_t = 1)]
        parallelism: u32,
        /// Threads (default: the number of cores).
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        #[arg(long)]
        json: Option<PathBuf>,
        /// Measure Argon2id alone, not also what SignUp computes (a second reference run).
        #[arg(long)]
        argon2id_only: bool,
    },
    /// The sign-in workloads' bounds, in-process on one thread per core with the server's
    /// own crypto code: Argon2id verification (signin-password), the server's SRP
    /// big-number work (signin-srp), two RS256 signatures (refresh).
    Bounds {
        #[arg(long, value_enum, value_delimiter = ',', default_values_t = vec![bounds::Bound::Argon2idVerify, bounds::Bound::SrpServer, bounds::Bound::Rs256Pair])]
        which: Vec<bounds::Bound>,
        /// Threads (default: the number of cores).
        #[arg(long)]
        threads: Option<usize>,
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Start Cognate, bulk-fill its pool to each size, run the workloads at each step and
    /// report the server's resident memory.
    Ladder {
        #[arg(long, default_value = "target/release/cognate")]
        cognate_bin: PathBuf,
        /// Fresh data directory for the SQLite store (removed first if it exists).
        #[arg(long, default_value = "/tmp/cognate-bench-ladder")]
        data_dir: PathBuf,
        /// Use PostgreSQL instead (the database should be empty).
        #[arg(long)]
        database_url: Option<String>,
        #[arg(long, value_delimiter = ',', default_values_t = vec![10_000u64, 100_000, 1_000_000])]
        sizes: Vec<u64>,
        /// Per-user hourly limits given to the server, raised so the spread workloads measure
        /// the server, not the limiter.
        #[arg(long, default_value_t = 1_000_000_000)]
        raised_limit: i64,
        /// Append the server's log to this file (otherwise it is discarded).
        #[arg(long)]
        server_log: Option<PathBuf>,
        /// The server's log filter (its COGNATE_LOG). With
        /// `warn,cognate_store::sqlite=debug` the SQLite writer reports every 10 s where its
        /// time went.
        #[arg(long, default_value = "warn")]
        server_log_filter: String,
        /// Start every step on a new server and an empty SQLite store, so each step's pool
        /// holds only its size in users, without what earlier steps' workloads left.
        #[arg(long)]
        fresh_each_step: bool,
        #[command(flatten)]
        flow: FlowArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Render the Markdown tables from JSON lines written with --json.
    Table {
        #[arg(long)]
        input: PathBuf,
        /// The target the ratios are computed for.
        #[arg(long, default_value = "cognate")]
        baseline: String,
        /// Render the pool-size ladder instead of the comparison.
        #[arg(long)]
        ladder: bool,
        /// Render the sign-in workloads beside their bounds (from `run` and `bounds` and
        /// `ceiling` lines in the same file) instead of the comparison.
        #[arg(long)]
        signin: bool,
    },
    /// (internal) serve the trivial endpoint for `ceiling`.
    #[command(hide = true)]
    CeilingServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
}

fn record(json: &Option<PathBuf>, o: &Outcome) -> anyhow::Result<()> {
    println!("{}", o.line());
    if let Some(path) = json {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        writeln!(f, "{}", o.to_json())?;
    }
    Ok(())
}

fn options(
    name: String,
    endpoint: Endpoint,
    code_source: CodeSource,
    seeder: Option<Seeder>,
    pid: Option<u32>,
    flow: &FlowArgs,
    common: &Common,
) -> Options {
    Options {
        name,
        endpoint,
        connections: common.connections,
        duration: Duration::from_secs_f64(common.duration),
        half_rate: flow.half_rate,
        style: flow.style,
        code_source,
        seeder,
        pid,
        note: flow.note.clone(),
        spread_users: flow.spread_users.max(1),
        max_prep_users: flow.max_prep_users,
        prep_limit: Duration::from_secs_f64(flow.prep_seconds),
        timeout: Duration::from_secs(30),
        signin_users: flow.signin_users,
        srp_users: flow.srp_users,
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Cmd::Run {
            endpoint,
            name,
            code_source,
            seed_bin,
            seed_data_dir,
            seed_database_url,
            pid,
            flow,
            common,
        } => {
            let endpoint = Endpoint::parse(&endpoint)?;
            let seeder = match (seed_bin, seed_data_dir, seed_database_url) {
                (Some(bin), _, Some(url)) => Some(Seeder {
                    bin,
                    db_args: vec!["--database-url".into(), url],
                }),
                (Some(bin), Some(dir), None) => Some(Seeder {
                    bin,
                    db_args: vec!["--data-dir".into(), dir.display().to_string()],
                }),
                (Some(_), None, None) => {
                    anyhow::bail!("--seed-bin needs --seed-data-dir or --seed-database-url")
                }
                _ => None,
            };
            let code_source = CodeSource::parse(&code_source)?;
            println!("# {name}: {}", code_source.describe());
            if !flow.note.is_empty() {
                println!("# {name}: {}", flow.note);
            }
            let opts = options(name, endpoint, code_source, seeder, pid, &flow, &common);
            for o in scenario::run_target(opts, &flow.workloads).await? {
                record(&common.json, &o)?;
            }
        }
        Cmd::Ceiling {
            endpoint,
            path,
            common,
        } => {
            let duration = Duration::from_secs_f64(common.duration);
            let o = match endpoint {
                Some(url) => {
                    let e = Endpoint::parse(&url)?;
                    machine::ceiling(e, Some(path), common.connections, duration, "machine").await
                }
                None => {
                    let (mut child, e) = machine::spawn_ceiling().await?;
                    let pid = child.id();
                    let before = pid.and_then(stats::cpu_seconds);
                    let mut o =
                        machine::ceiling(e, None, common.connections, duration, "machine").await;
                    if let (Some(b), Some(a)) = (before, pid.and_then(stats::cpu_seconds)) {
                        o.server_cpu_s = Some(a - b);
                    }
                    o.note =
                        "built-in trivial axum endpoint (separate process, POST / → {})".into();
                    let _ = child.start_kill();
                    let _ = child.wait().await;
                    o
                }
            };
            record(&common.json, &o)?;
        }
        Cmd::Argon2 {
            memory_kib,
            iterations,
            parallelism,
            threads,
            duration,
            json,
            argon2id_only,
        } => {
            let threads = threads.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            });
            let params = machine::Argon2Params {
                memory_kib,
                iterations,
                parallelism,
            };
            let d = Duration::from_secs_f64(duration);
            let o =
                tokio::task::spawn_blocking(move || machine::hash_rate(params, threads, d, false))
                    .await??;
            record(&json, &o)?;
            if !argon2id_only {
                let o = tokio::task::spawn_blocking(move || {
                    machine::hash_rate(params, threads, d, true)
                })
                .await??;
                record(&json, &o)?;
            }
        }
        Cmd::Bounds {
            which,
            threads,
            duration,
            json,
        } => {
            let threads = threads.unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(2)
            });
            let d = Duration::from_secs_f64(duration);
            for bound in which {
                let o = tokio::task::spawn_blocking(move || bounds::measure(bound, threads, d))
                    .await??;
                record(&json, &o)?;
            }
        }
        Cmd::Ladder {
            cognate_bin,
            data_dir,
            database_url,
            sizes,
            raised_limit,
            server_log,
            server_log_filter,
            fresh_each_step,
            flow,
            common,
        } => {
            if database_url.is_none() && data_dir.exists() {
                std::fs::remove_dir_all(&data_dir)
                    .with_context(|| format!("removing {}", data_dir.display()))?;
            }
            let limit = raised_limit.to_string();
            let serve_args = vec![
                "--resend-per-hour".to_string(),
                limit.clone(),
                "--confirm-attempts-per-hour".to_string(),
                limit,
            ];
            let mut flow = flow;
            flow.note = format!("cognate serve {}", serve_args.join(" "));
            println!("# ladder: {}", flow.note);
            let template = options(
                "cognate".into(),
                Endpoint::parse("http://127.0.0.1:1")?,
                CodeSource::Outbox,
                None,
                None,
                &flow,
                &common,
            );
            let ladder = ladder::Ladder {
                cognate_bin,
                data_dir,
                database_url,
                sizes,
                kinds: flow.workloads.clone(),
                serve_args,
                server_log,
                server_log_filter,
                fresh_each_step,
                template,
            };
            let json = common.json.clone();
            let mut failed = None;
            ladder
                .run(|o| {
                    if let Err(e) = record(&json, o) {
                        failed = Some(e);
                    }
                })
                .await?;
            if let Some(e) = failed {
                return Err(e);
            }
        }
        Cmd::Table {
            input,
            baseline,
            ladder,
            signin,
        } => {
            let text = std::fs::read_to_string(&input)
                .with_context(|| format!("reading {}", input.display()))?;
            let results: Vec<Outcome> = text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).map(|v| Outcome::from_json(&v))
                })
                .collect::<Result<_, _>>()
                .context("parsing the results")?;
            if signin {
                print!("{}", table::signin(&results));
            } else if ladder {
                print!("{}", table::ladder(&results));
            } else {
                print!("{}", table::compare(&results, &baseline));
            }
        }
        Cmd::CeilingServer { listen } => machine::serve_ceiling(listen).await?,
    }
    Ok(())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cognate-bench: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
