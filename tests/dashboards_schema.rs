//! The generated Grafana dashboards against Grafana's own schema: tests/js/validate-dashboards.js
//! generates a JSON Schema from the `Dashboard` type of npm `@grafana/schema` (and from each
//! panel plugin's `Options` and `FieldConfig`) and validates with ajv; a panel type is one
//! Grafana ships when the package has a panel config for it. The npm packages are installed by
//! scripts/install-test-deps.sh into tests/js/node_modules.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use support::golden::repo_path;
use support::tempdir::TempDir;

fn node() -> PathBuf {
    support::debian_binary("NODE", "/usr/bin/node", "nodejs")
}

/// Runs the validator on `files`; returns its exit code and JSON report.
fn validate(files: &[PathBuf]) -> (i32, Value) {
    let script = repo_path("tests/js/validate-dashboards.js");
    assert!(
        repo_path("tests/js/node_modules/@grafana/schema/package.json").is_file(),
        "the npm packages of tests/js are missing: run scripts/install-test-deps.sh"
    );
    let out = Command::new(node())
        .arg(&script)
        .args(files)
        .output()
        .expect("run node");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|error| {
        panic!(
            "validator printed no JSON report ({error}); stderr:\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

fn generate(dir: &Path) -> Vec<PathBuf> {
    let out = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(["dashboards", "--out"])
        .arg(dir)
        .output()
        .expect("run backupscope dashboards");
    assert!(
        out.status.success(),
        "backupscope dashboards failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("read the output directory")
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    files
}

#[test]
fn generated_dashboards_validate_against_grafanas_dashboard_schema() {
    let dir = TempDir::new("dashboards");
    let files = generate(dir.path());
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "addon-status.json",
            "backup-health.json",
            "backup-locations.json",
            "backup-operation-status.json"
        ]
    );
    let (code, report) = validate(&files);
    assert_eq!(code, 0, "invalid dashboards:\n{report:#}");
    // The version the package's defaultDashboard carries is the one the model writes.
    assert_eq!(
        report["schemaVersion"],
        backupscope::dashboards::model::SCHEMA_VERSION
    );
    assert!(
        report["package"]
            .as_str()
            .is_some_and(|p| p.starts_with("@grafana/schema@13.")),
        "{report:#}"
    );
    let mut types: Vec<&str> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["panelTypes"].as_array().unwrap())
        .filter_map(Value::as_str)
        .collect();
    types.sort_unstable();
    types.dedup();
    assert_eq!(types, ["barchart", "stat", "table", "timeseries"]);
    for file in report["files"].as_array().unwrap() {
        assert_eq!(file["valid"], true, "{file:#}");
    }
}

#[test]
fn the_validator_rejects_what_grafana_would_not_load() {
    let dir = TempDir::new("dashboards-bad");
    let good: Value = serde_json::from_str(
        &std::fs::read_to_string(&generate(dir.path())[2]).expect("read a generated dashboard"),
    )
    .unwrap();

    // A panel type no Grafana ships, an option its plugin does not have, an old schema version
    // and a dashboard field that does not exist.
    let mut bad = good.clone();
    bad["schemaVersion"] = Value::from(39);
    bad["panels"][0]["type"] = Value::from("piechart3d");
    bad["panels"][1]["options"]["showHeaders"] = Value::from(true);
    bad["dashboardColour"] = Value::from("red");
    // An override that sets a cell type the table does not have, and a unit that is no text.
    bad["panels"][1]["fieldConfig"]["overrides"][0]["properties"][1]["value"]["type"] =
        Value::from("rainbow");
    bad["panels"][1]["fieldConfig"]["overrides"][1]["properties"][0]["value"] = Value::from(7);
    let file = dir.write("bad.json", serde_json::to_string(&bad).unwrap());
    let (code, report) = validate(&[file]);
    assert_eq!(code, 1, "{report:#}");
    let errors: Vec<&str> = report["files"][0]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let has = |needle: &str| errors.iter().any(|e| e.contains(needle));
    assert!(
        has("schemaVersion 39, the package declares 42"),
        "{errors:#?}"
    );
    assert!(
        has("(piechart3d): not a panel type Grafana ships"),
        "{errors:#?}"
    );
    assert!(has("showHeaders"), "{errors:#?}");
    assert!(has("dashboardColour"), "{errors:#?}");
    assert!(
        has("override 0 (\"Phase\").custom/cellOptions"),
        "{errors:#?}"
    );
    assert!(
        has("override 1 (\"Last validated\"): dashboard/panels/0/fieldConfig/defaults/unit"),
        "{errors:#?}"
    );
    // Nothing else is reported (a fault planted once is reported for its place only).
    let planted = [
        "schemaVersion",
        "piechart3d",
        "showHeaders",
        "dashboardColour",
        "override 0 (\"Phase\")",
        "override 1 (\"Last validated\")",
    ];
    for error in &errors {
        assert!(planted.iter().any(|p| error.contains(p)), "{error}");
    }
    assert_eq!(
        errors
            .iter()
            .filter(|e| e.contains("dashboardColour"))
            .count(),
        1,
        "{errors:#?}"
    );

    // Not JSON at all: reported, not a crash.
    let file = dir.write("broken.json", "{ \"panels\": [");
    let (code, report) = validate(&[file]);
    assert_eq!(code, 1);
    assert!(
        report["files"][0]["errors"][0]
            .as_str()
            .is_some_and(|e| e.starts_with("cannot read:")),
        "{report:#}"
    );
}
