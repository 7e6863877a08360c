//! A child process that sees none of the caller's settings for backupscope (no `BACKUPSCOPE_*`
//! variable, no KUBECONFIG, no NO_COLOR), so what a test asserts does not depend on the shell
//! it was started from.

use std::process::Command;

pub fn clean(cmd: &mut Command) -> &mut Command {
    cmd.env_remove("NO_COLOR").env_remove("KUBECONFIG");
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BACKUPSCOPE_") {
            cmd.env_remove(name);
        }
    }
    cmd
}
