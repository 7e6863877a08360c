//! The Python interpreter of the virtualenv `scripts/install-test-deps.sh` makes, with the
//! official `prometheus_client` in it: an exposition parser written by other people.

use std::{ffi::OsStr, path::PathBuf, process::Command};

/// `$BACKUPSCOPE_PYTHON`, else `/opt/backupscope-py/bin/python`. Panics with instructions when
/// it is missing: a skipped independent check would prove nothing.
pub fn python() -> PathBuf {
    let path = std::env::var_os("BACKUPSCOPE_PYTHON")
        .map_or_else(|| "/opt/backupscope-py/bin/python".into(), PathBuf::from);
    assert!(
        path.is_file(),
        "{} not found: run scripts/install-test-deps.sh (it installs prometheus-client from \
         PyPI into /opt/backupscope-py) or set BACKUPSCOPE_PYTHON",
        path.display()
    );
    path
}

/// Runs `script` with `args`; `Ok` is its stdout, `Err` its stdout and stderr when it fails.
pub fn run(script: &str, args: &[&OsStr]) -> Result<String, String> {
    let output = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .map_err(|error| format!("cannot run python: {error}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        Err(format!(
            "python exited with {}:\n{stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
