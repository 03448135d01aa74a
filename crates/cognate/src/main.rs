use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = cognate::config::Cli::parse();
    match cognate::app::run(cli.command).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cognate: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
