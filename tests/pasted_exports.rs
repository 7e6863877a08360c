//! Exports pasted from bug reports and terminals into a file: two outputs without `---`
//! between them, the command before the output and the prompt after it, an object whose
//! indentation the issue tracker stripped, and text after `-o json`. Each file is written
//! here as kubectl prints the objects, with what the paste added or took away.

use backupscope::source::snapshot::{self, Limits, LoadReport, SnapshotError};
use std::path::Path;

#[path = "support/tempdir.rs"]
mod tempdir;
use tempdir::TempDir;

/// `kubectl -n velero get backup nightly-20230405 -o yaml`: a Failed backup.
const FAILED_BACKUP: &str = "\
apiVersion: velero.io/v1
kind: Backup
metadata:
  creationTimestamp: \"2023-04-05T09:00:00Z\"
  name: nightly-20230405
  namespace: velero
spec:
  storageLocation: default
  ttl: 720h0m0s
status:
  completionTimestamp: \"2023-04-05T09:40:50Z\"
  failureReason: context deadline exceeded
  phase: Failed
  startTimestamp: \"2023-04-05T09:00:01Z\"
";

/// `kubectl -n velero get bsl default -o yaml`.
const BSL: &str = "\
apiVersion: velero.io/v1
kind: BackupStorageLocation
metadata:
  creationTimestamp: \"2023-04-05T08:00:00Z\"
  name: default
  namespace: velero
spec:
  default: true
  objectStorage:
    bucket: velero-backups
  provider: aws
status:
  phase: Available
";

/// `kubectl -n velero get schedule daily -o yaml`.
const SCHEDULE: &str = "\
apiVersion: velero.io/v1
kind: Schedule
metadata:
  name: daily
  namespace: velero
spec:
  schedule: 0 */6 * * *
  template:
    includedNamespaces:
    - shop
    ttl: 720h0m0s
status:
  phase: Enabled
";

fn load(path: &Path) -> Result<(usize, LoadReport), SnapshotError> {
    snapshot::load_with(path, Limits::default()).map(|(records, report)| (records.len(), report))
}

fn messages(report: &LoadReport) -> Vec<String> {
    report.errors.iter().map(|e| e.to_string()).collect()
}

/// D1: `kubectl get backup ...; kubectl get bsl ...` into one file, no `---`.
#[test]
fn two_objects_without_a_separator_are_refused_not_merged() {
    let dir = TempDir::new("pasted-concat");
    let file = dir.write("dump.yaml", format!("{FAILED_BACKUP}{BSL}"));
    let err = load(&file)
        .expect_err("a merged object was loaded")
        .to_string();
    assert!(
        err.contains(&format!(
            "{}:15: invalid YAML: `apiVersion` appears twice in one mapping (YAML keys are \
             unique); two objects without a `---` line between them? Put a line `---` before \
             line 15",
            file.display()
        )),
        "{err}"
    );
    // Next to a good file, the rest loads and the refusal is reported.
    dir.write("schedule.yaml", SCHEDULE);
    let (records, report) = load(dir.path()).expect("the schedule loads");
    assert_eq!(records, 1);
    let errors = messages(&report);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("dump.yaml:15: invalid YAML"),
        "{errors:?}"
    );
    // With the separator, both objects load.
    dir.write("dump.yaml", format!("{FAILED_BACKUP}---\n{BSL}"));
    let (records, report) = load(dir.path()).expect("loads");
    assert_eq!(
        (records, report.errors.len()),
        (3, 0),
        "{:?}",
        report.errors
    );
}

/// D1, deeper: a key repeated inside an object (the fast reader hands the file to serde-saphyr,
/// which names the key).
#[test]
fn a_key_repeated_inside_an_object_is_named() {
    let dir = TempDir::new("pasted-dupkey");
    let text = FAILED_BACKUP.replace("  ttl: 720h0m0s\n", "  ttl: 720h0m0s\n  ttl: 24h0m0s\n");
    let file = dir.write("backup.yaml", text);
    let err = load(&file).expect_err("loaded").to_string();
    assert!(
        err.contains("backup.yaml:10: invalid YAML: `ttl` appears twice in one mapping (YAML keys are unique)"),
        "{err}"
    );
    assert!(!err.contains("`---`"), "{err}");
}

/// D9: the command line before the output, and the prompt after it.
#[test]
fn a_pasted_command_before_and_prompt_after_are_left_out() {
    let dir = TempDir::new("pasted-prompts");
    let file = dir.write(
        "backup.yaml",
        format!("$ kubectl -n velero get backup nightly-20230405 -o yaml\n{FAILED_BACKUP}"),
    );
    let (records, report) = load(&file).expect("loads");
    assert_eq!(records, 1);
    assert_eq!(
        messages(&report),
        [format!(
            "{}:1: a shell command pasted with the export: `$ kubectl -n velero get backup \
             nightly-20230405 -o yaml` (this line was left out, the rest of the file read)",
            file.display()
        )]
    );

    let file = dir.write("schedule.yaml", format!("{SCHEDULE}[root@master ~]# \n"));
    let (records, report) = load(&file).expect("loads");
    assert_eq!(records, 1);
    assert_eq!(
        messages(&report),
        [format!(
            "{}:14: a shell prompt pasted with the export: `[root@master ~]#` (this line was \
             left out, the rest of the file read)",
            file.display()
        )]
    );

    // Both, with a prompt before the command, CRLF line ends (serde-saphyr reads those), and
    // a JSON export after its command.
    let text = format!("[root@master ~]# kubectl get bsl -o yaml\n{BSL}ops@bastion:~$ ")
        .replace('\n', "\r\n");
    let file = dir.write("bsl.yaml", text);
    let (records, report) = load(&file).expect("loads");
    assert_eq!(records, 1);
    let lines: Vec<Option<usize>> = report.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [Some(1), Some(15)], "{:?}", messages(&report));
    let file = dir.write(
        "backup.json",
        "% velero backup get -o json\n{\"apiVersion\": \"velero.io/v1\", \"kind\": \"Backup\",\n\
         \"metadata\": {\"name\": \"b\", \"namespace\": \"velero\"}}\n",
    );
    let (records, report) = load(&file).expect("loads");
    assert_eq!(records, 1);
    assert_eq!(report.errors.len(), 1, "{:?}", messages(&report));
    assert_eq!(report.errors[0].line, Some(1));
}

/// D9: lines that may be YAML are never taken for prompts, and a prompt in the middle of a
/// file is no prompt at its start or end.
#[test]
fn only_prompt_lines_at_the_edges_are_left_out() {
    let dir = TempDir::new("pasted-not-prompts");
    // A comment that looks like a root prompt is a comment: no warning.
    let file = dir.write(
        "a.yaml",
        format!("# kubectl get backup -o yaml\n{FAILED_BACKUP}# \n"),
    );
    let (records, report) = load(&file).expect("loads");
    assert_eq!((records, messages(&report)), (1, vec![]));
    // A command between two outputs is YAML's problem (no guess at a separator).
    let file = dir.write(
        "b.yaml",
        format!("{FAILED_BACKUP}$ kubectl get bsl -o yaml\n{BSL}"),
    );
    let err = load(&file).expect_err("loaded").to_string();
    assert!(err.contains("b.yaml:15: invalid YAML"), "{err}");
}

/// D10: the only object of the snapshot cannot be read: the load fails and says why.
#[test]
fn a_snapshot_whose_objects_are_all_unreadable_is_an_error() {
    let dir = TempDir::new("pasted-indent-lost");
    let flat: String = FAILED_BACKUP
        .lines()
        .map(|l| format!("{}\n", l.trim_start()))
        .collect();
    let file = dir.write("backup.yaml", flat);
    let err = load(&file).expect_err("an unreadable snapshot loaded");
    assert!(
        matches!(err, SnapshotError::Empty { unreadable: 1, .. }),
        "{err:?}"
    );
    let err = err.to_string();
    assert!(
        err.contains(&format!(
            "no readable Kubernetes objects found in {} (1 files read, 1 object unreadable; \
             errors: {}: object #1: Backup object has no metadata.name: its indentation looks \
             lost (name and namespace at the top level, outside metadata))",
            file.display(),
            file.display()
        )),
        "{err}"
    );
    // One readable object is enough to load, and the other is reported.
    dir.write("schedule.yaml", SCHEDULE);
    let (records, report) = load(dir.path()).expect("loads");
    assert_eq!(records, 1);
    assert!(
        messages(&report)[0].contains("its indentation looks lost"),
        "{:?}",
        messages(&report)
    );
    // Objects of kinds backupscope does not read are readable: such a snapshot still loads.
    let only_unknown = TempDir::new("pasted-unknown");
    only_unknown.write(
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n",
    );
    let (records, report) = load(only_unknown.path()).expect("loads");
    assert_eq!((records, report.objects), (0, 1));
}

/// D11: `velero backup get -o json` followed by the next prompt.
#[test]
fn text_after_the_last_json_object_is_ignored_and_said_so() {
    let dir = TempDir::new("pasted-json-tail");
    let backup = "{\n  \"kind\": \"Backup\",\n  \"apiVersion\": \"velero.io/v1\",\n  \
                  \"metadata\": {\"name\": \"probe2\", \"namespace\": \"velero\"},\n  \
                  \"status\": {\"phase\": \"Failed\"}\n}\n";
    for (tail, line) in [
        ("ops@bastion:~$ \n", 7),
        ("[root@master ~]# ", 7),
        ("} trailing text", 7),
    ] {
        let file = dir.write("backup.json", format!("{backup}{tail}"));
        let (records, report) = load(&file).expect("loads");
        assert_eq!(records, 1);
        assert_eq!(
            messages(&report),
            [format!(
                "{}:{line}: ignored text after the last JSON object at line {line} (it holds no \
                 object: nothing was lost)",
                file.display()
            )],
            "{tail:?}"
        );
    }
    // A second object cut short was lost: that stays an error of the JSON.
    let file = dir.write(
        "backup.json",
        format!("{backup}{{\"kind\": \"Backup\", \"metadata\": "),
    );
    let (records, report) = load(&file).expect("loads");
    assert_eq!(records, 1);
    assert!(
        messages(&report)[0].contains("backup.json:7: invalid JSON"),
        "{:?}",
        messages(&report)
    );
}
