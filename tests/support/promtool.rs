//! `promtool check metrics`, the reference linter for the 0.0.4 text format.

use std::{
    io::Write as _,
    path::PathBuf,
    process::{Command, Stdio},
};

/// The promtool binary: `$PROMTOOL` or the Debian package's `/usr/bin/promtool`.
///
/// Panics with instructions when it is missing: a test that silently skipped the reference
/// check would prove nothing.
pub fn promtool() -> PathBuf {
    super::debian_binary("PROMTOOL", "/usr/bin/promtool", "prometheus")
}

/// Runs `promtool check metrics` on a 0.0.4 exposition; `Err` holds its complaints (parse
/// errors and lint problems both fail).
pub fn check_metrics(exposition: &[u8]) -> Result<(), String> {
    let mut child = Command::new(promtool())
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| format!("cannot run promtool: {error}"))?;
    let mut stdin = child.stdin.take().ok_or("promtool has no stdin")?;
    // A writer thread: promtool may answer (and fill its pipes) before reading everything.
    let input = exposition.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child
        .wait_with_output()
        .map_err(|error| format!("promtool failed: {error}"))?;
    let _ = writer.join();
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "promtool check metrics exited with {}:\n{}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// Runs `promtool <args>` in `dir`; `Err` holds its output when it fails.
pub fn run(dir: &std::path::Path, args: &[&std::ffi::OsStr]) -> Result<String, String> {
    let output = Command::new(promtool())
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|error| format!("cannot run promtool: {error}"))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "promtool {args:?} exited with {}:\n{text}",
            output.status
        ))
    }
}
