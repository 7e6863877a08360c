//! What the one-shot commands write to the terminal besides their output: warnings, notes and
//! the final error. What they quote came from a cluster or a bundle, so it is made
//! terminal-safe (no escape sequences, capped length), and no write may panic: a closed
//! stderr pipe or a full disk leaves the exit code to tell.

use std::io::Write;
use std::process::ExitCode;

/// `warning: <message>` on stderr, terminal-safe.
pub fn warn(message: &str) {
    line(&format!("warning: {}", super::output::text(message)));
}

/// A line of our own words on stderr.
pub fn line(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Writes a command's output and turns its outcome into the exit code: failure when the
/// command failed or its output could not be written (`> /dev/full`); a closed pipe
/// (`| head`) is the reader's choice and still success.
pub fn finish(outcome: anyhow::Result<String>) -> ExitCode {
    let out = match outcome {
        Ok(out) => out,
        Err(e) => match e.downcast::<super::Exit>() {
            // A command that reports through its exit status (doctor) prints its own output.
            Ok(exit) => return exit.finish(),
            Err(e) => {
                line(&format!("error: {}", causes(&e)));
                return ExitCode::FAILURE;
            }
        },
    };
    let written = {
        let mut stdout = std::io::stdout().lock();
        stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            line(&format!("error: cannot write the output: {e}"));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `: `-separated like `{:#}`, leaving out a cause whose text the
/// message already holds (many errors quote their source: the same words twice help nobody).
fn causes(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_quoted_is_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let quoted = anyhow::Error::new(io).context("cannot read /x: No such file");
        assert_eq!(causes(&quoted), "cannot read /x: No such file");
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let chained = anyhow::Error::new(io).context("cannot read /x");
        assert_eq!(causes(&chained), "cannot read /x: No such file");
    }
}
