//! The generated alert rules, checked by the reference tools: `promtool check rules` on both
//! committed files (the PrometheusRule's spec extracted), `promtool test rules` on
//! tests/alerting_rules/*.yaml, and the coverage those tests must keep: every alert has a
//! history where it fires and one where it must not, and a runbook section its link reaches.

mod support;

use serde_norway::Value;
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use support::tempdir::TempDir;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read_yaml(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
    serde_norway::from_str(&text)
        .unwrap_or_else(|error| panic!("parse {}: {error}", path.display()))
}

fn rule_tests() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/alerting_rules"))
        .expect("list tests/alerting_rules")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension() == Some(OsStr::new("yaml")))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no rule tests in tests/alerting_rules");
    files
}

/// Alert names in rule-file order, each once.
fn alert_names(groups: &Value) -> Vec<String> {
    let mut names = Vec::new();
    for group in groups.as_sequence().expect("groups is a list") {
        for rule in group["rules"].as_sequence().expect("rules is a list") {
            let name = rule["alert"].as_str().expect("alert rule").to_string();
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

#[test]
fn promtool_checks_the_plain_rule_file() {
    let out = support::promtool::run(
        &repo(),
        &[
            OsStr::new("check"),
            OsStr::new("rules"),
            OsStr::new("rules/backupscope.rules.yaml"),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains("SUCCESS: 11 rules found"), "{out}");
}

#[test]
fn the_prometheusrule_holds_the_same_rules_and_promtool_checks_them() {
    let manifest = read_yaml(&repo().join("rules/prometheusrule.yaml"));
    assert_eq!(manifest["apiVersion"], "monitoring.coreos.com/v1");
    assert_eq!(manifest["kind"], "PrometheusRule");
    assert_eq!(manifest["metadata"]["name"], "backupscope");
    let plain = read_yaml(&repo().join("rules/backupscope.rules.yaml"));
    assert_eq!(manifest["spec"], plain, "the two rule files disagree");

    let dir = TempDir::new("prometheusrule");
    let spec = dir.path().join("spec.yaml");
    std::fs::write(&spec, serde_norway::to_string(&manifest["spec"]).unwrap()).unwrap();
    let out = support::promtool::run(
        dir.path(),
        &[OsStr::new("check"), OsStr::new("rules"), spec.as_os_str()],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(out.contains("SUCCESS: 11 rules found"), "{out}");
}

#[test]
fn promtool_rule_tests_pass() {
    let dir = repo().join("tests/alerting_rules");
    let mut args: Vec<&OsStr> = vec![OsStr::new("test"), OsStr::new("rules")];
    let files = rule_tests();
    args.extend(files.iter().map(|f| f.as_os_str()));
    let out = support::promtool::run(&dir, &args).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.matches("SUCCESS").count(), files.len(), "{out}");
}

/// A broken expectation must fail promtool, or the rule tests above prove nothing.
#[test]
fn promtool_rule_tests_fail_on_a_wrong_expectation() {
    let dir = TempDir::new("ruletest");
    let rules = repo().join("rules/backupscope.rules.yaml");
    let test = format!(
        "rule_files: [{rules:?}]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n      \
         - series: 'backupscope_source_up{{source=\"snapshot\"}}'\n        values: '0x20'\n    alert_rule_test:\n      \
         - eval_time: 10m\n        alertname: BackupscopeSourceDown\n        exp_alerts: []\n"
    );
    let path = dir.path().join("wrong.yaml");
    std::fs::write(&path, test).unwrap();
    let result = support::promtool::run(
        dir.path(),
        &[OsStr::new("test"), OsStr::new("rules"), path.as_os_str()],
    );
    let err = result.expect_err("promtool accepted a test whose expectation is wrong");
    assert!(err.contains("BackupscopeSourceDown"), "{err}");
}

#[test]
fn every_alert_has_a_firing_and_a_silent_history_and_a_runbook_section() {
    let plain = read_yaml(&repo().join("rules/backupscope.rules.yaml"));
    let names = alert_names(&plain["groups"]);
    assert_eq!(
        names,
        backupscope::alerting::rules::ALERTS,
        "the committed rules and the generator's alert list differ"
    );
    let (mut fires, mut silent) = (BTreeSet::new(), BTreeSet::new());
    for file in rule_tests() {
        let doc = read_yaml(&file);
        for test in doc["tests"].as_sequence().expect("tests") {
            for case in test["alert_rule_test"]
                .as_sequence()
                .expect("alert_rule_test")
            {
                let name = case["alertname"].as_str().expect("alertname").to_string();
                match case["exp_alerts"].as_sequence() {
                    Some(alerts) if !alerts.is_empty() => {
                        for alert in alerts {
                            assert!(
                                alert["exp_annotations"]["summary"].is_string()
                                    && alert["exp_annotations"]["description"].is_string(),
                                "{}: {name} is asserted without its annotations",
                                file.display()
                            );
                        }
                        fires.insert(name)
                    }
                    _ => silent.insert(name),
                };
            }
        }
    }
    let runbook = std::fs::read_to_string(repo().join("docs/runbook.md")).expect("docs/runbook.md");
    for name in &names {
        assert!(fires.contains(name), "no rule test where {name} fires");
        assert!(
            silent.contains(name),
            "no rule test where {name} must not fire"
        );
        assert!(
            runbook.lines().any(|l| l == format!("## {name}")),
            "docs/runbook.md has no section for {name}"
        );
    }
    // Each rule links its own section.
    for group in plain["groups"].as_sequence().unwrap() {
        for rule in group["rules"].as_sequence().unwrap() {
            let name = rule["alert"].as_str().unwrap();
            assert_eq!(
                rule["annotations"]["runbook_url"].as_str(),
                Some(format!("docs/runbook.md#{}", name.to_lowercase()).as_str())
            );
        }
    }
}
