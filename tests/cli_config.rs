//! `--config FILE` and the `BACKUPSCOPE_*` variables, through the real binary: each is the
//! same as typing the flag, flag > environment > file > default, and every mistake is refused
//! before anything runs with a message naming the key or variable.

mod support;

use std::process::Command;
use std::time::Duration;
use support::serve::{Serve, example};
use support::tempdir::TempDir;

/// The instant both example snapshots were taken (examples/README.md).
const NOW: &str = "2026-11-25T09:00:00Z";

struct Run {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// `backupscope <args>` with exactly the `BACKUPSCOPE_*` variables given.
fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_backupscope"));
    cmd.args(args).current_dir(env!("CARGO_MANIFEST_DIR"));
    let out = support::clean_env::clean(&mut cmd)
        .envs(env.iter().copied())
        .output()
        .expect("run backupscope");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

fn ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(args, env);
    assert_eq!(out.code, Some(0), "{args:?} {env:?}: {}", out.stderr);
    out.stdout
}

/// `command` on the ACK example at its instant, with `-o format`.
fn on_example<'a>(command: &'a str, format: &'a str) -> [&'a str; 7] {
    [
        command,
        "--snapshot",
        "examples/ack-cluster",
        "--now",
        NOW,
        "-o",
        format,
    ]
}

fn status(format: &str) -> String {
    ok(&on_example("status", format), &[])
}

#[test]
fn flag_beats_environment_beats_file_beats_default() {
    let dir = TempDir::new("cli-config");
    let file = dir.write(
        "backupscope.yaml",
        format!("snapshot: examples/ack-cluster\nnow: {NOW}\noutput: json\n"),
    );
    let file = file.to_str().expect("utf-8 path");
    let (table, json, yaml) = (status("table"), status("json"), status("yaml"));
    assert_ne!(json, yaml);

    // The file alone: every value is the flag.
    assert_eq!(ok(&["status", "--config", file], &[]), json);
    // `--config` may come before the command too, and from the environment.
    assert_eq!(ok(&["--config", file, "status"], &[]), json);
    assert_eq!(ok(&["status"], &[("BACKUPSCOPE_CONFIG", file)]), json);
    // The environment beats the file...
    let env = [("BACKUPSCOPE_OUTPUT", "yaml")];
    assert_eq!(ok(&["status", "--config", file], &env), yaml);
    // ...and the flag beats both.
    assert_eq!(
        ok(&["status", "--config", file, "-o", "table"], &env),
        table
    );
    // Without any of them, the default (a table).
    assert_eq!(
        ok(
            &["status", "--config", file],
            &[("BACKUPSCOPE_OUTPUT", "table")]
        ),
        table
    );
    // The environment alone stands for every flag.
    let env = [
        ("BACKUPSCOPE_SNAPSHOT", "examples/ack-cluster"),
        ("BACKUPSCOPE_NOW", NOW),
        ("BACKUPSCOPE_OUTPUT", "yaml"),
    ];
    assert_eq!(ok(&["status"], &env), yaml);
}

#[test]
fn a_command_section_beats_a_shared_key_and_other_commands_keys_are_skipped() {
    let dir = TempDir::new("cli-config");
    let file = dir.write(
        "backupscope.yaml",
        format!(
            "snapshot: examples/ack-cluster\nnow: {NOW}\noutput: json\nlisten: 127.0.0.1:1\n\
             status:\n  output: yaml\n"
        ),
    );
    let file = file.to_str().expect("utf-8 path");
    // `listen` is serve's: status skips it; status's own section wins over `output: json`.
    assert_eq!(ok(&["status", "--config", file], &[]), status("yaml"));
    // doctor has no section: the shared `output: json` applies.
    let doctor = run(&["doctor", "--config", file], &[]);
    let typed = run(&on_example("doctor", "json"), &[]);
    assert_eq!(doctor.code, typed.code);
    assert_eq!(doctor.stdout, typed.stdout);
    assert!(doctor.stdout.starts_with('{'), "{}", doctor.stdout);
}

#[test]
fn mistakes_in_the_file_are_refused_naming_each_key() {
    let dir = TempDir::new("cli-config");
    let file = dir.write(
        "backupscope.yaml",
        "listne: 0.0.0.0:9731\nserve:\n  remote-write-interval: 5x\n  snapshot: [a, b]\n\
         events:\n  watch: yes\n",
    );
    let path = file.display().to_string();
    let out = run(&["serve", "--config", &path], &[]);
    assert_eq!(out.code, Some(2));
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        format!(
            "error: config {path}: key \"listne\": unknown: no command has a flag --listne\n\
             error: config {path}: key \"events.watch\": invalid value \"yes\": \
             expected one of true, false\n\
             error: config {path}: key \"serve.remote-write-interval\": invalid value \"5x\": \
             interval \"5x\" has an unknown unit \"x\"\n\
             error: config {path}: key \"serve.snapshot\": takes one value, got a list\n"
        )
    );
    // A file that is not there, or not a mapping.
    let missing = dir.path().join("missing.yaml").display().to_string();
    let out = run(&["status", "--config", &missing], &[]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr
            .starts_with(&format!("error: config {missing}: cannot read: ")),
        "{}",
        out.stderr
    );
    let list = dir.write("list.yaml", "- snapshot\n").display().to_string();
    assert_eq!(
        run(&["status", "--config", &list], &[]).stderr,
        format!(
            "error: config {list}: expected a mapping of flag names to values \
             (see docs/configuration.md)\n"
        )
    );
}

#[test]
fn a_bad_environment_value_names_the_variable() {
    let out = run(
        &["serve", "--snapshot", "examples/ack-cluster"],
        &[
            ("BACKUPSCOPE_REMOTE_WRITE_INTERVAL", "5x"),
            ("BACKUPSCOPE_PAGE_SIZE", "0"),
        ],
    );
    assert_eq!(out.code, Some(2));
    assert_eq!(
        out.stderr,
        "error: environment BACKUPSCOPE_PAGE_SIZE (--page-size): invalid value \"0\": \
         0 is not in 1..=500\n\
         error: environment BACKUPSCOPE_REMOTE_WRITE_INTERVAL (--remote-write-interval): \
         invalid value \"5x\": interval \"5x\" has an unknown unit \"x\"\n"
    );
    // A typed flag wins over the variable, so its bad value does not matter then.
    let typed = run(
        &on_example("status", "json"),
        &[("BACKUPSCOPE_OUTPUT", "xml")],
    );
    assert_eq!(typed.code, Some(0), "{}", typed.stderr);
    assert_eq!(typed.stdout, status("json"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_listens_where_the_environment_or_the_file_says() {
    let snapshot = example("ack-cluster");
    let snapshot = snapshot.to_str().expect("utf-8 path");
    let serve = Serve::start_with_env(
        &["--now", NOW],
        &[
            ("BACKUPSCOPE_LISTEN", "127.0.0.1:0"),
            ("BACKUPSCOPE_SNAPSHOT", snapshot),
        ],
    );
    assert!(
        serve.address().starts_with("127.0.0.1:"),
        "{}",
        serve.address()
    );
    serve.wait_ready(Duration::from_secs(30)).await;
    let metrics = support::http::get(&serve.url("/metrics"), &[]).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .text()
            .contains("backupcenter_backuplocation_phase{namespace=\"csdr\",backuplocation=\"shared-oss-vault\",phase=\"Unavailable\"} 1"),
        "{}",
        metrics.text()
    );
    drop(serve);

    let dir = TempDir::new("cli-config-serve");
    let file = dir.write(
        "backupscope.yaml",
        format!("serve:\n  listen: 127.0.0.1:0\n  snapshot: {snapshot}\n  now: {NOW}\n"),
    );
    let file = file.to_str().expect("utf-8 path");
    let serve = Serve::start_with_env(&["--config", file], &[]);
    assert!(
        serve.address().starts_with("127.0.0.1:"),
        "{}",
        serve.address()
    );
    serve.wait_ready(Duration::from_secs(30)).await;
    assert_eq!(
        support::http::get(&serve.url("/healthz"), &[]).await.status,
        200
    );
}

#[test]
fn the_configuration_reference_lists_every_flag() {
    let doc = ok(&["configuration"], &[]);
    for line in [
        "| `--listen <LISTEN>` | `BACKUPSCOPE_LISTEN` | `serve.listen` | `0.0.0.0:9731` |",
        "| `--identity <NAME>` | `POD_NAME` | `serve.identity` |  |",
        "| `--remote-write-interval <DURATION>` | `BACKUPSCOPE_REMOTE_WRITE_INTERVAL` | \
         `serve.remote-write-interval` | `30s` |",
    ] {
        assert!(doc.contains(line), "missing {line}");
    }
}

#[test]
fn a_flag_the_command_requires_may_come_from_the_file() {
    let dir = TempDir::new("cli-config");
    let missing = dir.path().join("no-kubeconfig").display().to_string();
    let file = dir.write(
        "backupscope.yaml",
        format!(
            "snapshot:\n  out: {}\n  kubeconfig: {missing}\n",
            dir.path().join("bundle").display()
        ),
    );
    let file = file.to_str().expect("utf-8 path");
    // Without the file, clap asks for --out; with it, snapshot gets as far as the kubeconfig.
    let bare = run(&["snapshot"], &[]);
    assert_eq!(bare.code, Some(2));
    assert!(
        bare.stderr.starts_with(
            "error: the following required arguments were not provided:\n  --out <DIR>\n"
        ),
        "{}",
        bare.stderr
    );
    let out = run(&["snapshot", "--config", file], &[]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        format!(
            "error: cannot read kubeconfig {missing}: failed to read kubeconfig from \
             '{missing:?}': No such file or directory (os error 2)\n"
        )
    );
}

#[test]
fn help_and_version_answer_whatever_the_file_and_environment_hold() {
    let env = [("BACKUPSCOPE_OUTPUT", "xml")];
    let help = run(&["--config", "/nonexistent.yaml", "status", "--help"], &env);
    assert_eq!(help.code, Some(0), "{}", help.stderr);
    assert!(
        help.stdout.contains("Usage: backupscope status [OPTIONS]"),
        "{}",
        help.stdout
    );
    // Every flag shows its variable; values from the environment are never shown.
    assert!(
        help.stdout.contains("[env: BACKUPSCOPE_OUTPUT]"),
        "{}",
        help.stdout
    );
    assert!(!help.stdout.contains("xml"), "{}", help.stdout);
    let version = run(&["--version"], &env);
    assert_eq!(
        version.stdout,
        format!("backupscope {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn values_from_the_file_meet_the_same_requirements_as_typed_flags() {
    let dir = TempDir::new("cli-config");
    let cert = dir.write("cert.pem", "not used");
    let file = dir.write(
        "backupscope.yaml",
        format!(
            "serve:\n  snapshot: examples/ack-cluster\n  tls-cert: {}\n",
            cert.display()
        ),
    );
    let file = file.to_str().expect("utf-8 path");
    let out = run(&["serve", "--config", file, "--listen", "127.0.0.1:0"], &[]);
    assert_eq!(out.code, Some(2));
    assert!(
        out.stderr.starts_with(
            "error: the following required arguments were not provided:\n  --tls-key <PATH>\n"
        ),
        "{}",
        out.stderr
    );
}
