//! Golden text of the exposition in both formats, checked by promtool too.

mod support;

use backupscope::metrics::exposition::{Format, TextEncoder};
use support::{fixture, promtool};

fn encode(format: Format) -> String {
    let mut out = Vec::new();
    let mut encoder = TextEncoder::new(&mut out, format);
    let written = fixture::write(&mut encoder);
    assert_eq!(encoder.finish(), written);
    String::from_utf8(out).expect("the exposition is UTF-8")
}

/// What the two 10 000-byte values keep before their hash: 512 bytes in all with the suffix.
fn long_prefix() -> String {
    "x".repeat(495)
}

/// Compares line by line first, so a mismatch names the line rather than dumping kilobytes.
fn assert_golden(got: &str, expected: &[&str]) {
    let got_lines: Vec<&str> = got.split('\n').collect();
    for (i, (g, e)) in got_lines.iter().zip(expected).enumerate() {
        assert_eq!(g, e, "line {}", i + 1);
    }
    assert_eq!(got, format!("{}\n", expected.join("\n")));
}

#[test]
fn prometheus_004_golden() {
    let long = long_prefix();
    let expected = [
        "# HELP backupcenter_backups Backup tasks by backup location and phase.",
        "# TYPE backupcenter_backups gauge",
        "backupcenter_backups{backuplocation=\"oss-hz\",phase=\"Completed\"} 12",
        "backupcenter_backups{backuplocation=\"oss-hz\",phase=\"Failed\"} 1",
        "# HELP backupcenter_backuplocation_info Backup locations (vaults) with a backslash \\\\ and \"quotes\"\\nacross two lines.",
        "# TYPE backupcenter_backuplocation_info gauge",
        "backupcenter_backuplocation_info{backuplocation=\"quote\\\"inside\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"back\\\\slash\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"trailing backslash\\\\\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"new\\nline\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"tab\there\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"carriage\rreturn\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"controls \u{1}\u{7}\u{1b}[31m\u{7f} end\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"nul \0 byte\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"ユニコード ✓ ë 🙂\",provider=\"alibabacloud\"} 1",
        &format!(
            "backupcenter_backuplocation_info{{backuplocation=\"{long}~8d0178f4b94736ea\",provider=\"alibabacloud\"}} 1"
        ),
        &format!(
            "backupcenter_backuplocation_info{{backuplocation=\"{long}~e7895df24093b38c\",provider=\"alibabacloud\"}} 1"
        ),
        "# HELP backupcenter_component_pod_restarts_total Container restarts of backup-center component pods.",
        "# TYPE backupcenter_component_pod_restarts_total counter",
        "backupcenter_component_pod_restarts_total{component=\"csdr-velero\",pod=\"csdr-velero-7d9f\",container=\"velero\"} 3",
        "# HELP backupcenter_restores Restore tasks by phase.",
        "# TYPE backupcenter_restores gauge",
        "# HELP backupscope_test_value Values of every kind.",
        "# TYPE backupscope_test_value gauge",
        "backupscope_test_value{case=\"zero\"} 0",
        "backupscope_test_value{case=\"negative\"} -3",
        "backupscope_test_value{case=\"timestamp\"} 1764000000",
        "backupscope_test_value{case=\"fraction\"} 0.25",
        "backupscope_test_value{case=\"tiny\"} 1.5e-7",
        "backupscope_test_value{case=\"huge\"} 2.5e300",
        "backupscope_test_value{case=\"nan\"} NaN",
        "backupscope_test_value{case=\"plus_inf\"} +Inf",
        "backupscope_test_value{case=\"minus_inf\"} -Inf",
    ];
    assert_golden(&encode(Format::Prometheus004), &expected);
}

#[test]
fn openmetrics_golden() {
    let long = long_prefix();
    let expected = [
        "# TYPE backupcenter_backups gauge",
        "# HELP backupcenter_backups Backup tasks by backup location and phase.",
        "backupcenter_backups{backuplocation=\"oss-hz\",phase=\"Completed\"} 12",
        "backupcenter_backups{backuplocation=\"oss-hz\",phase=\"Failed\"} 1",
        "# TYPE backupcenter_backuplocation info",
        "# HELP backupcenter_backuplocation Backup locations (vaults) with a backslash \\\\ and \\\"quotes\\\"\\nacross two lines.",
        "backupcenter_backuplocation_info{backuplocation=\"quote\\\"inside\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"back\\\\slash\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"trailing backslash\\\\\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"new\\nline\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"tab\there\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"carriage\rreturn\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"controls \u{1}\u{7}\u{1b}[31m\u{7f} end\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"nul \0 byte\",provider=\"alibabacloud\"} 1",
        "backupcenter_backuplocation_info{backuplocation=\"ユニコード ✓ ë 🙂\",provider=\"alibabacloud\"} 1",
        &format!(
            "backupcenter_backuplocation_info{{backuplocation=\"{long}~8d0178f4b94736ea\",provider=\"alibabacloud\"}} 1"
        ),
        &format!(
            "backupcenter_backuplocation_info{{backuplocation=\"{long}~e7895df24093b38c\",provider=\"alibabacloud\"}} 1"
        ),
        "# TYPE backupcenter_component_pod_restarts counter",
        "# HELP backupcenter_component_pod_restarts Container restarts of backup-center component pods.",
        "backupcenter_component_pod_restarts_total{component=\"csdr-velero\",pod=\"csdr-velero-7d9f\",container=\"velero\"} 3",
        "# TYPE backupcenter_restores gauge",
        "# HELP backupcenter_restores Restore tasks by phase.",
        "# TYPE backupscope_test_value gauge",
        "# HELP backupscope_test_value Values of every kind.",
        "backupscope_test_value{case=\"zero\"} 0",
        "backupscope_test_value{case=\"negative\"} -3",
        "backupscope_test_value{case=\"timestamp\"} 1764000000",
        "backupscope_test_value{case=\"fraction\"} 0.25",
        "backupscope_test_value{case=\"tiny\"} 1.5e-7",
        "backupscope_test_value{case=\"huge\"} 2.5e300",
        "backupscope_test_value{case=\"nan\"} NaN",
        "backupscope_test_value{case=\"plus_inf\"} +Inf",
        "backupscope_test_value{case=\"minus_inf\"} -Inf",
        "# EOF",
    ];
    assert_golden(&encode(Format::OpenMetrics100), &expected);
}

#[test]
fn promtool_accepts_the_004_exposition() {
    if let Err(complaints) = promtool::check_metrics(encode(Format::Prometheus004).as_bytes()) {
        panic!("{complaints}");
    }
}

#[test]
fn promtool_rejects_a_broken_exposition() {
    // Proves the check above can fail: an unescaped quote in a label value.
    let broken = b"# HELP a A.\n# TYPE a gauge\na{b=\"x\"y\"} 1\n";
    assert!(promtool::check_metrics(broken).is_err());
}
