use std::process::ExitCode;

use authtoken::Settings;
use authtoken::cli::{self, Cli, Command};
use clap::Parser;

fn main() -> ExitCode {
    authtoken::alloc::limit_malloc_arenas();
    let cli = Cli::parse();
    // A missing .env is fine; a broken one is reported like any bad setting.
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!(".env: {e}");
        return ExitCode::from(2);
    }
    let serving = matches!(cli.command, None | Some(Command::Serve));
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    authtoken::logging::init(settings.log_format, if serving { "info" } else { "warn" });
    let result = match cli.command {
        None | Some(Command::Serve) => actix_web::rt::System::new().block_on(cli::serve(settings)),
        Some(command) => cli::run(command, settings, &mut std::io::stdout().lock()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(e.exit_code())
        }
    }
}
