use clap::Parser;

fn main() -> std::process::ExitCode {
    // The optional settings file feeds the environment before flags are parsed, so its values
    // behave exactly like COGNATE_* variables (flags and real variables still win). This runs
    // before any other thread exists.
    let args: Vec<String> = std::env::args().collect();
    if let Some(path) = cognate::config::config_file_from_args(&args) {
        let loaded = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| cognate::config::parse_config_file(&text));
        match loaded {
            Ok(settings) => {
                for (name, value) in settings {
                    if std::env::var_os(&name).is_none() {
                        std::env::set_var(name, value);
                    }
                }
            }
            Err(e) => {
                eprintln!("cognate: config file {}: {e}", path.display());
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    let cli = cognate::config::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cognate: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cognate::app::run(cli.command)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cognate: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
