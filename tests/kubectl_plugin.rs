//! `kubectl backupscope ...` through the real kubectl: `backupscope plugin install` links the
//! plugin into a directory put on PATH, and kubectl runs it against the in-repo test API
//! server with exactly the output, errors and exit status of `backupscope` itself, reading the
//! cluster from KUBECONFIG, `--kubeconfig` or `--context` as kubectl users give them. Also the
//! bash completion script, loaded in a real bash.

#[path = "support/clean_env.rs"]
mod clean_env;
#[path = "support/cluster.rs"]
mod cluster;
#[path = "support/tempdir.rs"]
mod tempdir;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempdir::TempDir;
use testapiserver::TestApiServer;

/// The instant both example snapshots were taken (examples/README.md).
const NOW: &str = "2026-11-25T09:00:00Z";

#[derive(Debug, PartialEq)]
struct Output {
    stdout: String,
    stderr: String,
    code: Option<i32>,
}

/// Runs `program args` off the async workers (the in-process server must keep answering),
/// with `env` and none of the caller's BACKUPSCOPE_* or KUBECONFIG.
async fn run(program: PathBuf, args: Vec<String>, env: Vec<(String, OsString)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(&program);
        cmd.args(&args).current_dir(env!("CARGO_MANIFEST_DIR"));
        let out = clean_env::clean(&mut cmd)
            .envs(env)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "run {}: {e} (kubectl: install the Debian package kubernetes-client)",
                    program.display()
                )
            });
        Output {
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            code: out.status.code(),
        }
    })
    .await
    .expect("join command")
}

fn strings(parts: &[&str]) -> Vec<String> {
    parts.iter().map(|s| s.to_string()).collect()
}

fn backupscope() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_backupscope"))
}

fn kubectl() -> PathBuf {
    std::env::var_os("KUBECTL").map_or_else(|| "kubectl".into(), PathBuf::from)
}

/// PATH with `dir` first, so kubectl finds the plugin there.
fn path_with(dir: &Path) -> OsString {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&rest)))
        .expect("join PATH")
}

struct Cluster {
    server: TestApiServer,
    dir: TempDir,
    bin: PathBuf,
    kubeconfig: PathBuf,
    /// A kubeconfig whose current context is a server that is not there.
    dead: PathBuf,
}

async fn cluster(example: &str) -> Cluster {
    let server = TestApiServer::start().await.expect("start server");
    cluster::load_example(&server, example);
    let dir = TempDir::new("kubectl-plugin");
    let kubeconfig = dir.write("live.yaml", server.kubeconfig_yaml("live"));
    let nobody = "127.0.0.1:9".parse().expect("address");
    let dead = dir.write("dead.yaml", TestApiServer::kubeconfig_for(nobody, "dead"));
    let bin = dir.path().join("bin");
    Cluster {
        server,
        dir,
        bin,
        kubeconfig,
        dead,
    }
}

/// `kubectl backupscope <command>` with `env`, and `backupscope <command> <direct>`: the same
/// output, errors and exit status.
async fn same(c: &Cluster, command: &[&str], env: &[(&str, &Path)], direct: &[&str]) {
    let mut plugin_env: Vec<(String, OsString)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_os_str().to_owned()))
        .collect();
    plugin_env.push(("PATH".into(), path_with(&c.bin)));
    let mut args = strings(&["backupscope"]);
    args.extend(strings(command));
    let via_kubectl = run(kubectl(), args, plugin_env).await;
    let mut args = strings(command);
    args.extend(strings(direct));
    let direct = run(backupscope(), args, Vec::new()).await;
    assert!(
        !via_kubectl.stdout.is_empty(),
        "{command:?} printed nothing: {}",
        via_kubectl.stderr
    );
    assert_eq!(via_kubectl, direct, "{command:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_runs_the_installed_plugin_like_backupscope() {
    let c = cluster("ack-cluster").await;
    let kc = c.kubeconfig.to_str().expect("utf-8 path");

    // The install step, as documented.
    let dir = c.bin.to_str().expect("utf-8 path");
    let installed = run(
        backupscope(),
        strings(&["plugin", "install", "--dir", dir]),
        vec![("PATH".into(), "/usr/bin:/bin".into())],
    )
    .await;
    let target = backupscope().canonicalize().expect("binary path");
    assert_eq!(
        installed.stdout,
        format!(
            "installed {dir}/kubectl-backupscope -> {}\n\
             note: {dir} is not on PATH; kubectl finds plugins only on PATH\n",
            target.display()
        ),
        "{}",
        installed.stderr
    );
    let listed = run(
        kubectl(),
        strings(&["plugin", "list"]),
        vec![("PATH".into(), path_with(&c.bin))],
    )
    .await;
    assert!(
        listed
            .stdout
            .contains(&format!("{dir}/kubectl-backupscope")),
        "{listed:?}"
    );

    // KUBECONFIG, as kubectl itself reads it.
    let env = [("KUBECONFIG", c.kubeconfig.as_path())];
    let direct = ["--kubeconfig", kc];
    for command in [
        &["status", "--now", NOW][..],
        &["status", "-o", "json", "--now", NOW],
        &["doctor", "--now", NOW],
        &[
            "describe",
            "backup",
            "orders-hotfix-1124",
            "-n",
            "csdr",
            "--now",
            NOW,
        ],
        &[
            "describe",
            "backuplocation",
            "shared-oss-vault",
            "--now",
            NOW,
        ],
        &["events", "--now", NOW],
    ] {
        same(&c, command, &env, &direct).await;
    }
    // doctor's exit status comes through kubectl too: the example has findings.
    let doctor = run(
        kubectl(),
        strings(&["backupscope", "doctor", "--now", NOW]),
        vec![
            ("PATH".into(), path_with(&c.bin)),
            ("KUBECONFIG".into(), c.kubeconfig.clone().into()),
        ],
    )
    .await;
    assert_eq!(doctor.code, Some(1), "{}", doctor.stderr);

    // --kubeconfig after the plugin's name wins over KUBECONFIG, as in kubectl.
    let dead = [("KUBECONFIG", c.dead.as_path())];
    same(
        &c,
        &["status", "--kubeconfig", kc, "--now", NOW],
        &dead,
        &[],
    )
    .await;

    // --context picks a context of the merged KUBECONFIG list (the first file's current
    // context is the dead server).
    let both = std::env::join_paths([&c.dead, &c.kubeconfig]).expect("join");
    let both = PathBuf::from(both);
    let merged = [("KUBECONFIG", both.as_path())];
    same(
        &c,
        &["status", "--context", "live", "--now", NOW],
        &merged,
        &["--kubeconfig", kc],
    )
    .await;

    // Usage lines name what a kubectl user types.
    let help = run(
        kubectl(),
        strings(&["backupscope", "status", "--help"]),
        vec![("PATH".into(), path_with(&c.bin))],
    )
    .await;
    assert!(
        help.stdout
            .contains("Usage: kubectl backupscope status [OPTIONS]"),
        "{}",
        help.stdout
    );
    let wrong = run(
        kubectl(),
        strings(&["backupscope", "status", "--bogus"]),
        vec![("PATH".into(), path_with(&c.bin))],
    )
    .await;
    assert_eq!(wrong.code, Some(2));
    assert_eq!(
        wrong.stderr,
        "error: unexpected argument '--bogus' found\n\n\
         Usage: kubectl backupscope status [OPTIONS]\n\n\
         For more information, try '--help'.\n"
    );
    drop(c.dir);
    c.server.shutdown().await;
}

/// The first `sh` block after the test's name in a document of the repository.
fn documented_block(file: &str, marker: &str) -> String {
    let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    let after = doc
        .split_once(marker)
        .unwrap_or_else(|| panic!("marker {marker} in {file}"))
        .1;
    let block = after.split_once("```sh\n").expect("sh block").1;
    block.split_once("```").expect("end of block").0.to_string()
}

/// Runs a documented `sh` block as written, in bash, as a user whose HOME is new and whose
/// KUBECONFIG names the test cluster; returns its output and the line `plugin install` prints.
async fn run_as_a_new_user(c: &Cluster, file: &str, marker: &str) -> (Output, String) {
    let home = c.dir.path().join("home");
    std::fs::create_dir_all(&home).expect("create home");
    let binary_dir = backupscope().parent().expect("binary dir").to_path_buf();
    let ran = run(
        "bash".into(),
        strings(&[
            "--norc",
            "--noprofile",
            "-euo",
            "pipefail",
            "-c",
            &documented_block(file, marker),
        ]),
        vec![
            ("HOME".into(), home.clone().into()),
            ("PATH".into(), path_with(&binary_dir)),
            ("KUBECONFIG".into(), c.kubeconfig.clone().into()),
            // The example's instant, so the ages are those of the direct runs.
            ("BACKUPSCOPE_NOW".into(), NOW.into()),
        ],
    )
    .await;
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    let installed = format!(
        "installed {}/.local/bin/kubectl-backupscope -> {}\n",
        home.display(),
        backupscope().canonicalize().expect("binary path").display()
    );
    (ran, installed)
}

/// docs/plugin.md's install block, run as written in bash by a user whose HOME is new and
/// whose KUBECONFIG names the test cluster: it installs the plugin and kubectl prints what
/// backupscope prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docs_install_block_works_as_written() {
    let c = cluster("ack-cluster").await;
    let kc = c.kubeconfig.to_str().expect("utf-8 path");
    let (ran, mut want) =
        run_as_a_new_user(&c, "docs/plugin.md", "docs_install_block_works_as_written").await;
    for command in [
        &["status"][..],
        &["describe", "backuplocation", "shared-oss-vault"],
    ] {
        let mut args = strings(command);
        args.extend(strings(&["--kubeconfig", kc, "--now", NOW]));
        let direct = run(backupscope(), args, Vec::new()).await;
        assert_eq!(direct.code, Some(0), "{}", direct.stderr);
        want.push_str(&direct.stdout);
    }
    assert_eq!(ran.stdout, want);
    assert_eq!(ran.stderr, "");
    drop(c.dir);
    c.server.shutdown().await;
}

/// The README's laptop block, as written: the plugin through kubectl, then `serve
/// --kubeconfig` answering `/readyz` and exporting the cluster's vaults.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_block_works_as_written() {
    let c = cluster("ack-cluster").await;
    let kc = c.kubeconfig.to_str().expect("utf-8 path");
    let (ran, mut want) = run_as_a_new_user(&c, "README.md", "readme_block_works_as_written").await;
    for (command, code) in [("status", 0), ("doctor", 1)] {
        let args = strings(&[command, "--kubeconfig", kc, "--now", NOW]);
        let direct = run(backupscope(), args, Vec::new()).await;
        assert_eq!(direct.code, Some(code), "{}", direct.stderr);
        want.push_str(&direct.stdout);
    }
    want.push_str("doctor: findings (exit 1)\n");
    want.push_str("backupscope listening on http://127.0.0.1:9731\nready\n4\n");
    assert_eq!(ran.stdout, want);
    drop(c.dir);
    c.server.shutdown().await;
}

/// The bash completion script loads in bash and completes subcommands and flags.
#[test]
fn bash_completion_completes_commands_and_flags() {
    let script = Command::new(backupscope())
        .args(["completions", "bash"])
        .output()
        .expect("run backupscope");
    assert!(script.status.success());
    let dir = TempDir::new("completions");
    let file = dir.write("backupscope.bash", &script.stdout);
    // What bash's programmable completion would offer after `backupscope <words>`.
    let complete = |words: &str| {
        let program = format!(
            "source {}\ncomplete -p backupscope\nCOMP_WORDS=(backupscope {words})\n\
             COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\n\
             COMP_POINT=${{#COMP_LINE}}\n\
             _backupscope backupscope \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
             printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
            file.display()
        );
        let out = Command::new("bash")
            .args(["--norc", "--noprofile", "-c", &program])
            .output()
            .expect("run bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut lines = text.lines();
        let registered = lines.next().unwrap_or_default().to_string();
        let mut offered: Vec<String> = lines.map(str::to_string).collect();
        offered.sort();
        (registered, offered)
    };
    let (registered, offered) = complete("st");
    assert_eq!(
        registered,
        "complete -o bashdefault -o default -o nosort -F _backupscope backupscope"
    );
    assert_eq!(offered, ["status"]);
    let (_, offered) = complete("serve --remote-write-i");
    assert_eq!(offered, ["--remote-write-interval"]);
    let (_, offered) = complete("status --engine ''");
    assert_eq!(offered, ["ack", "auto", "velero"]);
}
