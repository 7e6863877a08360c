//! `--config FILE`: the flags of a command, written down once. The file is YAML whose keys are
//! the long flag names, as kube-state-metrics' `--config` reads its options:
//!
//! ```yaml
//! engine: velero            # every command that has --engine
//! serve:                    # only `serve`
//!   listen: 0.0.0.0:9731
//!   remote-write-interval: 1m
//!   disable-metric: [backupcenter_component_pod_info]
//! ```
//!
//! A value becomes the flag on the command line (`--remote-write-interval=1m`), so it passes
//! the same checks as a typed flag; a flag typed or an environment variable set wins over it.
//! The file is checked before anything runs, each error naming its key.

use clap::error::{ContextKind, ContextValue};
use clap::{Arg, ArgAction, Command};
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Bigger than any honest list of flags; bounds what a wrong path (a log file) costs.
const MAX_BYTES: u64 = 1 << 20;

/// The flag that names the file: no file may name another.
pub const FLAG: &str = "config";

const NO_OTHER_FILE: &str = "a config file cannot name another";

/// A config file, read and split into its parts; not yet checked against the commands.
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    /// Top-level keys: apply to every command that has the flag.
    shared: Vec<(String, Value)>,
    /// `command: {flag: value}`: apply to that command only.
    sections: Vec<(String, Vec<(String, Value)>)>,
}

/// Reads `path`. A mapping under a command's name is that command's section; every other key
/// is a flag.
pub fn load(path: &Path, root: &Command) -> Result<ConfigFile, String> {
    let fail = |what: String| format!("config {}: {what}", path.display());
    let len = std::fs::metadata(path)
        .map_err(|e| fail(format!("cannot read: {e}")))?
        .len();
    if len > MAX_BYTES {
        return Err(fail(format!(
            "{len} bytes is too big for a config file (at most {MAX_BYTES})"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let mut options = serde_saphyr::Options::default();
    // `yes` and `on` are strings, so a flag's value is what was written.
    options.strict_booleans = true;
    options.with_snippet = false;
    let document: Value = serde_saphyr::from_str_with_options(&text, options)
        .map_err(|e| fail(format!("not YAML: {e}")))?;
    let entries = match document {
        Value::Null => serde_json::Map::new(),
        Value::Object(map) => map,
        _ => {
            return Err(fail(
                "expected a mapping of flag names to values (see docs/configuration.md)".into(),
            ));
        }
    };
    let mut config = ConfigFile {
        path: path.to_path_buf(),
        shared: Vec::new(),
        sections: Vec::new(),
    };
    for (key, value) in entries {
        match value {
            Value::Object(section) if root.find_subcommand(&key).is_some() => {
                config.sections.push((key, section.into_iter().collect()));
            }
            value => config.shared.push((key, value)),
        }
    }
    Ok(config)
}

impl ConfigFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every mistake in the file, each naming its key: keys no command has, values the flag
    /// would refuse. Shared keys are checked against `running`, the command about to run (the
    /// same key may mean a different range elsewhere); sections against their command.
    pub fn check(&self, root: &Command, running: &Command) -> Vec<String> {
        let mut errors = Vec::new();
        for (key, value) in &self.shared {
            let known = leaves(root).any(|c| flag(c, key).is_some());
            let outcome = if key == FLAG {
                Err(NO_OTHER_FILE.to_string())
            } else if !known {
                Err(format!("unknown: no command has a flag --{key}"))
            } else {
                flag(running, key)
                    .map_or(Ok(Vec::new()), |arg| arguments(running, arg, value))
                    .map(drop)
            };
            if let Err(e) = outcome {
                errors.push(self.error(key, &e));
            }
        }
        for (name, section) in &self.sections {
            let Some(command) = root.find_subcommand(name) else {
                continue;
            };
            for (key, value) in section {
                let dotted = format!("{name}.{key}");
                let outcome = match leaves(command).find_map(|c| flag(c, key).map(|a| (c, a))) {
                    _ if key == FLAG => Err(NO_OTHER_FILE.to_string()),
                    Some((c, arg)) => arguments(c, arg, value).map(drop),
                    None => Err(format!("unknown: {name} has no flag --{key}")),
                };
                if let Err(e) = outcome {
                    errors.push(self.error(&dotted, &e));
                }
            }
        }
        errors
    }

    /// The command-line arguments the file gives `running` (a subcommand of `section`),
    /// leaving out the flags `is_set` says were typed or set in the environment. Section
    /// values win over shared ones. Call after `check` found nothing.
    pub fn arguments_for(
        &self,
        section: &str,
        running: &Command,
        is_set: impl Fn(&Arg) -> bool,
    ) -> Vec<OsString> {
        let own = self
            .sections
            .iter()
            .filter(|(name, _)| name == section)
            .flat_map(|(_, s)| s.iter());
        let shared = self
            .shared
            .iter()
            .filter(|(key, _)| !own.clone().any(|(k, _)| k == key));
        own.clone()
            .chain(shared)
            .filter(|(key, _)| key != FLAG)
            .filter_map(|(key, value)| flag(running, key).map(|arg| (arg, value)))
            .filter(|(arg, _)| !is_set(arg))
            .flat_map(|(arg, value)| arguments(running, arg, value).unwrap_or_default())
            .collect()
    }

    fn error(&self, key: &str, what: &str) -> String {
        format!("config {}: key {key:?}: {what}", self.path.display())
    }
}

/// The global `--config` flag of the built `root`.
pub fn global(root: &Command) -> Option<&Arg> {
    root.get_arguments().find(|a| a.get_long() == Some(FLAG))
}

/// `cmd` and, for a command with subcommands (`plugin install`), the commands that take the
/// flags.
fn leaves(cmd: &Command) -> Box<dyn Iterator<Item = &Command> + '_> {
    if cmd.has_subcommands() {
        Box::new(cmd.get_subcommands().flat_map(leaves))
    } else {
        Box::new(std::iter::once(cmd))
    }
}

/// The flag `--key` of `cmd`, if it has one a file may set.
pub fn flag<'a>(cmd: &'a Command, key: &str) -> Option<&'a Arg> {
    cmd.get_arguments()
        .find(|a| a.get_long() == Some(key) && settable(a))
}

/// A flag that holds a setting: not --help or --version.
pub fn settable(arg: &Arg) -> bool {
    !matches!(
        arg.get_action(),
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
    )
}

/// The command-line arguments that say what `value` says for `arg`, each checked by the
/// flag's own parser; or why `value` is not a value of `arg`.
pub(super) fn arguments(cmd: &Command, arg: &Arg, value: &Value) -> Result<Vec<OsString>, String> {
    let items = match value {
        Value::Null => return Err("has no value".into()),
        Value::Object(_) => return Err("takes a value, got a mapping".into()),
        Value::Array(_) if !matches!(arg.get_action(), ArgAction::Append) => {
            return Err("takes one value, got a list".into());
        }
        Value::Array(items) => items.iter().map(scalar).collect::<Result<Vec<_>, _>>()?,
        other => vec![scalar(other)?],
    };
    let long = arg.get_long().unwrap_or_default();
    let mut out = Vec::new();
    for item in items {
        let parts: Vec<&str> = match arg.get_value_delimiter() {
            Some(d) => item.split(d).collect(),
            None => vec![item.as_str()],
        };
        for part in parts {
            accepts(cmd, arg, part).map_err(|e| format!("invalid value {part:?}: {e}"))?;
        }
        match arg.get_action() {
            ArgAction::SetTrue if item == "true" => out.push(format!("--{long}").into()),
            ArgAction::SetFalse if item == "false" => out.push(format!("--{long}").into()),
            ArgAction::SetTrue | ArgAction::SetFalse => {}
            _ => out.push(format!("--{long}={item}").into()),
        }
    }
    Ok(out)
}

/// Whether the flag's own parser takes `value`, asked through a command holding only a copy
/// of it (so its `requires` and `conflicts_with` do not come into play); else what it said.
fn accepts(cmd: &Command, arg: &Arg, value: &str) -> Result<(), String> {
    let probe = Arg::new("value")
        .long("value")
        .action(ArgAction::Set)
        .value_parser(arg.get_value_parser().clone());
    Command::new(cmd.get_name().to_string())
        .no_binary_name(true)
        .arg(probe)
        .try_get_matches_from([format!("--value={value}")])
        .map(drop)
        .map_err(|e| reason(&e))
}

/// A single value as the command line would hold it.
fn scalar(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("a list item has no value".into()),
        Value::Array(_) | Value::Object(_) => Err("list items must be single values".into()),
    }
}

/// What the flag's parser said, without clap's own framing (`error:`, the usage line).
fn reason(e: &clap::Error) -> String {
    if let Some(source) = std::error::Error::source(e) {
        return source.to_string();
    }
    if let Some(ContextValue::Strings(valid)) = e.get(ContextKind::ValidValue) {
        return format!("expected one of {}", valid.join(", "));
    }
    let text = e.to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// A file under the system temp dir, removed on drop.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(name: &str, text: &str) -> Self {
            use std::sync::atomic::{AtomicUsize, Ordering};
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!(
                "backupscope-config-{}-{n}-{name}",
                std::process::id()
            ));
            std::fs::write(&path, text).expect("write config");
            TempFile(path)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn root() -> Command {
        let mut cmd = crate::cli::Cli::command();
        cmd.build();
        cmd
    }

    fn config(yaml: &str) -> (ConfigFile, TempFile) {
        let file = TempFile::new("config.yaml", yaml);
        let config = load(file.path(), &root()).expect("load");
        (config, file)
    }

    fn errors(yaml: &str, running: &str) -> Vec<String> {
        let (config, file) = config(yaml);
        let root = root();
        let cmd = root.find_subcommand(running).expect("command");
        let prefix = format!("config {}: ", file.path().display());
        config
            .check(&root, cmd)
            .into_iter()
            .map(|e| e.strip_prefix(&prefix).unwrap_or(&e).to_string())
            .collect()
    }

    fn args(yaml: &str, running: &str) -> Vec<String> {
        let (config, _file) = config(yaml);
        let root = root();
        let cmd = root.find_subcommand(running).expect("command");
        config
            .arguments_for(running, cmd, |_| false)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn shared_keys_and_sections_become_flags_of_the_running_command() {
        let yaml = "engine: velero\nlisten: 127.0.0.1:1\nserve:\n  listen: 127.0.0.1:2\n  \
                    disable-metric: [backupcenter_component_pod_info]\n  \
                    velero-namespace: a,b\n";
        assert_eq!(errors(yaml, "serve"), Vec::<String>::new());
        assert_eq!(
            args(yaml, "serve"),
            [
                "--disable-metric=backupcenter_component_pod_info",
                "--listen=127.0.0.1:2",
                "--velero-namespace=a,b",
                "--engine=velero",
            ]
        );
        // `listen` is no flag of status: ignored there, not an error.
        assert_eq!(errors(yaml, "status"), Vec::<String>::new());
        assert_eq!(args(yaml, "status"), ["--engine=velero"]);
    }

    #[test]
    fn booleans_are_the_bare_flag_or_nothing() {
        assert_eq!(args("watch: true\n", "events"), ["--watch"]);
        assert_eq!(args("watch: false\n", "events"), Vec::<String>::new());
        assert_eq!(
            errors("watch: yes\n", "events"),
            [r#"key "watch": invalid value "yes": expected one of true, false"#]
        );
    }

    #[test]
    fn mistakes_name_their_key() {
        let yaml = "listne: 1\nconfig: other.yaml\nengine: [ack]\nserve:\n  \
                    remote-write-interval: 5x\n  tls-cert:\n  page-size: 0\n  nothing: 1\n\
                    status:\n  engine: vlero\n";
        assert_eq!(
            errors(yaml, "serve"),
            [
                r#"key "config": a config file cannot name another"#,
                r#"key "engine": takes one value, got a list"#,
                r#"key "listne": unknown: no command has a flag --listne"#,
                r#"key "serve.nothing": unknown: serve has no flag --nothing"#,
                r#"key "serve.page-size": invalid value "0": 0 is not in 1..=500"#,
                r#"key "serve.remote-write-interval": invalid value "5x": interval "5x" has an unknown unit "x""#,
                r#"key "serve.tls-cert": has no value"#,
                r#"key "status.engine": invalid value "vlero": expected one of auto, ack, velero"#,
            ]
        );
    }

    #[test]
    fn a_file_that_is_no_mapping_is_refused() {
        let file = TempFile::new("config.yaml", "- listen\n");
        let e = load(file.path(), &root()).unwrap_err();
        assert_eq!(
            e,
            format!(
                "config {}: expected a mapping of flag names to values (see docs/configuration.md)",
                file.path().display()
            )
        );
        let missing = Path::new("/nonexistent/backupscope.yaml");
        assert!(
            load(missing, &root())
                .unwrap_err()
                .starts_with("config /nonexistent/backupscope.yaml: cannot read: ")
        );
    }
}
