//! From `argv` to a parsed [`Cli`]: the clap definition with an environment fallback on every
//! flag, the config file's values for the flags neither typed nor in the environment, and the
//! name kubectl runs the plugin by. Precedence: flag > environment > config file > default.

use super::{Cli, config, environment, plugin};
use clap::error::ErrorKind;
use clap::parser::ValueSource;
use clap::{ArgMatches, Command, CommandFactory, FromArgMatches};
use std::ffi::OsString;
use std::path::PathBuf;

/// Why the command line was refused.
#[derive(Debug)]
pub enum Refused {
    /// clap's own: usage errors, and `--help`/`--version` (which exit 0).
    Usage(clap::Error),
    /// The config file or the environment, one line per mistake, each naming its key or
    /// variable.
    Settings(Vec<String>),
}

/// The whole definition, as `--help`, completions, the man page and docs/configuration.md
/// show it. `bin_name` is how the user invoked it (`kubectl backupscope` for the plugin).
pub fn command(bin_name: &str) -> Command {
    environment::with_fallbacks(Cli::command()).bin_name(bin_name.to_string())
}

/// Parses `argv` (its first item the program's path).
pub fn parse<I, T>(argv: I) -> Result<Cli, Refused>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let mut argv: Vec<OsString> = argv.into_iter().map(Into::into).collect();
    let bin_name = plugin::bin_name(argv.first().map(|s| s.as_os_str()));
    let mut root = command(&bin_name);
    root.build();
    // `--help` and `--version` answer whatever the file or the environment hold.
    if let Err(e) = root.clone().try_get_matches_from(&argv)
        && matches!(
            e.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        )
    {
        return Err(Refused::Usage(e));
    }
    // Read far enough to know the command and the file; a missing `--out` the file may give
    // is no error yet.
    let lenient = root.clone().ignore_errors(true).try_get_matches_from(&argv);
    if let Ok(matches) = &lenient {
        let run = running(&root, matches)?;
        let errors = environment::check(run.command, |arg| typed(run.matches, arg));
        if !errors.is_empty() {
            return Err(Refused::Settings(errors));
        }
        if let Some(path) = config_path(matches) {
            let extra = from_file(&root, &run, &path)?;
            let at = after(&argv, &run.names);
            argv.splice(at..at, extra);
        }
    }
    let matches = root.try_get_matches_from(&argv).map_err(Refused::Usage)?;
    Cli::from_arg_matches(&matches).map_err(Refused::Usage)
}

/// The command about to run: the names that lead to it, its definition and its matches.
struct Running<'a, 'm> {
    names: Vec<String>,
    command: &'a Command,
    matches: &'m ArgMatches,
}

fn running<'a, 'm>(root: &'a Command, matches: &'m ArgMatches) -> Result<Running<'a, 'm>, Refused> {
    let mut run = Running {
        names: Vec::new(),
        command: root,
        matches,
    };
    while let Some((name, sub)) = run.matches.subcommand() {
        run.command = run
            .command
            .find_subcommand(name)
            .ok_or_else(|| Refused::Settings(vec![format!("no command {name}")]))?;
        run.names.push(name.to_string());
        run.matches = sub;
    }
    Ok(run)
}

/// Whether `arg` was given on the command line.
fn typed(matches: &ArgMatches, arg: &clap::Arg) -> bool {
    matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine)
}

/// The file `--config` (or `BACKUPSCOPE_CONFIG`) names, wherever on the line it was given.
fn config_path(matches: &ArgMatches) -> Option<PathBuf> {
    let mut m = matches;
    loop {
        if let Ok(Some(path)) = m.try_get_one::<PathBuf>(config::FLAG) {
            return Some(path.clone());
        }
        m = m.subcommand()?.1;
    }
}

/// What the file says for the flags of the running command that were neither typed nor in
/// the environment, as command-line arguments.
fn from_file(
    root: &Command,
    run: &Running<'_, '_>,
    path: &std::path::Path,
) -> Result<Vec<OsString>, Refused> {
    let file = config::load(path, root).map_err(|e| Refused::Settings(vec![e]))?;
    let Some(section) = run.names.first() else {
        return Ok(Vec::new());
    };
    let errors = file.check(root, run.command);
    if !errors.is_empty() {
        return Err(Refused::Settings(errors));
    }
    Ok(file.arguments_for(section, run.command, |arg| {
        typed(run.matches, arg)
            || run.matches.value_source(arg.get_id().as_str()) == Some(ValueSource::EnvVariable)
    }))
}

/// The index just after the last subcommand name in `argv`: only `--config FILE` (the one
/// global flag with a value) may come before a subcommand's name.
fn after(argv: &[OsString], names: &[String]) -> usize {
    let mut i = 1;
    for name in names {
        while i < argv.len() {
            let token = argv[i].to_string_lossy();
            i += 1;
            if token == "--config" {
                i += 1;
            } else if token == name.as_str() {
                break;
            }
        }
    }
    i.min(argv.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_values_go_after_the_command_name() {
        let argv: Vec<OsString> = ["backupscope", "--config", "serve", "serve", "--listen", "x"]
            .into_iter()
            .map(Into::into)
            .collect();
        assert_eq!(after(&argv, &["serve".to_string()]), 4);
        let nested: Vec<OsString> = ["b", "plugin", "install", "--dir", "d"]
            .into_iter()
            .map(Into::into)
            .collect();
        assert_eq!(after(&nested, &["plugin".into(), "install".into()]), 3);
    }
}
