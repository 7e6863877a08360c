use backupscope::cli::command_line::{self, Refused};
use std::io::IsTerminal;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match command_line::parse(std::env::args_os()) {
        Ok(cli) => cli,
        Err(Refused::Usage(e)) => e.exit(),
        Err(Refused::Settings(errors)) => {
            for e in errors {
                eprintln!("error: {e}");
            }
            return ExitCode::from(2);
        }
    };
    // One-shot commands report problems in their own words on stderr; the log is for `serve`.
    // The kube client logs every failed request itself; backupscope reports those failures
    // once, in its own words (a missing path or exec plugin was printed twice).
    let default_filter = match cli.command {
        backupscope::cli::Command::Serve(_) => "warn,kube_client=off",
        _ => "error,kube_client=off",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BACKUPSCOPE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal: in a file or a log collector they are noise.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    backupscope::cli::terminal::finish(backupscope::cli::run(cli).await)
}
