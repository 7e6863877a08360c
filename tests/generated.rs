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
    (&["configuration"], "docs/configuration.md"),
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

/// `backupscope man --out DIR` writes one page per command; docs/man/ holds exactly those.
#[test]
fn committed_man_pages_match_what_the_code_generates() {
    let dir = support::tempdir::TempDir::new("man");
    let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(["man", "--out"])
        .arg(dir.path())
        .output()
        .expect("run backupscope");
    assert!(
        out.status.success(),
        "backupscope man failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let names = |d: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    let generated = names(dir.path());
    assert!(
        generated.contains(&"backupscope-serve.1".to_string()),
        "{generated:?}"
    );
    for name in &generated {
        let text = std::fs::read_to_string(dir.path().join(name)).expect("read page");
        support::golden::assert_matches(&format!("docs/man/{name}"), &text);
    }
    let committed = names(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/man"
    )));
    assert_eq!(committed, generated, "docs/man/ holds pages no command has");
}
