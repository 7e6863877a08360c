//! Generated artefacts are produced by the code and committed; this is the drift check that
//! fails CI when a committed file differs from what the code generates now. Regenerate with
//! `UPDATE_GOLDEN=1 cargo test --test generated` (or the command in each row) and commit.

mod support;

use std::process::Command;

/// (command line of `backupscope`, committed file it produces).
const ARTEFACTS: &[(&[&str], &str)] = &[
    (&["metrics"], "docs/metrics.md"),
    (
        &["dashboards", "--dashboard", "backup-locations"],
        "dashboards/backup-locations.json",
    ),
    (
        &["dashboards", "--dashboard", "backup-operation-status"],
        "dashboards/backup-operation-status.json",
    ),
    (
        &["dashboards", "--dashboard", "addon-status"],
        "dashboards/addon-status.json",
    ),
    (
        &["dashboards", "--dashboard", "backup-health"],
        "dashboards/backup-health.json",
    ),
    (&["rules"], "rules/backupscope.rules.yaml"),
    (&["rules", "--prometheusrule"], "rules/prometheusrule.yaml"),
    (&["doctor", "--explain", "all"], "docs/doctor-rules.txt"),
    // The install files: this list, and each file in it (below).
    (&["manifests", "--list"], "deploy/GENERATED"),
];

#[test]
fn committed_artefacts_match_what_the_code_generates() {
    for (args, file) in ARTEFACTS {
        let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
            .args(*args)
            .output()
            .expect("run backupscope");
        assert!(
            out.status.success(),
            "backupscope {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        support::golden::assert_matches(file, &String::from_utf8_lossy(&out.stdout));
    }
}

/// Every file `manifests --list` names (deploy/GENERATED) is what `manifests --file` prints.
#[test]
fn committed_install_files_match_what_the_code_generates() {
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
            .args(args)
            .output()
            .expect("run backupscope");
        assert!(
            out.status.success(),
            "backupscope {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let list = run(&["manifests", "--list"]);
    assert!(list.lines().count() > 10, "{list}");
    for path in list.lines() {
        support::golden::assert_matches(path, &run(&["manifests", "--file", path]));
    }
}
