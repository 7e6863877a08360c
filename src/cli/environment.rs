//! `BACKUPSCOPE_*` environment fallbacks for every flag, derived from the flag's long name
//! (`--remote-write-interval` → `BACKUPSCOPE_REMOTE_WRITE_INTERVAL`) when the command line is
//! built, so a new flag cannot lack one and no variable name is typed by hand.

use clap::{Arg, Command};
use serde_json::Value;

/// The prefix of every derived variable.
pub const PREFIX: &str = "BACKUPSCOPE_";

/// The variable that stands in for `--long`.
pub fn variable(long: &str) -> String {
    format!("{PREFIX}{}", long.to_ascii_uppercase().replace('-', "_"))
}

/// `cmd` and all its subcommands with an environment fallback on every flag that has a long
/// name. A flag that already names its own variable keeps it (`--identity` reads `POD_NAME`,
/// what the downward API is conventionally mapped to). Values are never shown in `--help`: a
/// URL in the environment may carry a password.
pub fn with_fallbacks(cmd: Command) -> Command {
    cmd.mut_args(fallback).mut_subcommands(with_fallbacks)
}

/// Every variable of `running`'s flags whose value the flag would refuse, named (clap names
/// only the flag, which the user never typed). `typed` says which flags were given on the
/// command line, where the variable does not count.
pub fn check(running: &Command, typed: impl Fn(&Arg) -> bool) -> Vec<String> {
    let mut errors = Vec::new();
    for arg in running.get_arguments().filter(|a| !typed(a)) {
        let Some(name) = arg.get_env() else { continue };
        let Some(value) = std::env::var_os(name) else {
            continue;
        };
        let name = name.to_string_lossy();
        let long = arg.get_long().unwrap_or_default();
        let Some(value) = value.to_str() else {
            errors.push(format!("environment {name} (--{long}): not UTF-8"));
            continue;
        };
        let value = Value::String(value.to_string());
        if let Err(e) = super::config::arguments(running, arg, &value) {
            errors.push(format!("environment {name} (--{long}): {e}"));
        }
    }
    errors
}

fn fallback(arg: Arg) -> Arg {
    let settable = super::config::settable(&arg);
    let Some(name) = arg.get_long().filter(|_| settable).map(variable) else {
        return arg;
    };
    let arg = arg.hide_env_values(true);
    if arg.get_env().is_some() {
        return arg;
    }
    arg.env(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ArgAction;

    #[test]
    fn variable_names_follow_the_flag() {
        assert_eq!(
            variable("remote-write-interval"),
            "BACKUPSCOPE_REMOTE_WRITE_INTERVAL"
        );
        assert_eq!(variable("listen"), "BACKUPSCOPE_LISTEN");
    }

    #[test]
    fn every_long_flag_of_every_command_gets_a_variable() {
        let cmd = with_fallbacks(
            Command::new("t")
                .arg(Arg::new("a-b").long("a-b"))
                .arg(Arg::new("pos"))
                .arg(Arg::new("own").long("own").env("OWN"))
                .subcommand(
                    Command::new("s").arg(Arg::new("x").long("x").action(ArgAction::SetTrue)),
                ),
        );
        let env = |c: &Command, id: &str| {
            c.get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(|a| a.get_env())
                .map(|e| e.to_string_lossy().into_owned())
        };
        assert_eq!(env(&cmd, "a-b").as_deref(), Some("BACKUPSCOPE_A_B"));
        assert_eq!(env(&cmd, "pos"), None);
        assert_eq!(env(&cmd, "own").as_deref(), Some("OWN"));
        let sub = cmd.find_subcommand("s").expect("subcommand");
        assert_eq!(env(sub, "x").as_deref(), Some("BACKUPSCOPE_X"));
    }
}
