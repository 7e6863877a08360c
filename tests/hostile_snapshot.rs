//! Hostile snapshots (issue 13, items 2-5, 9 and 13): each input is what an attacker (or a
//! broken support bundle) hands the loader, and each test names the bound that stops it.
//! Peak memory and time for the large versions are measured by `cargo bench --bench snapshot`
//! (docs/BENCHMARKS.md); these tests assert what the loader says and loads.

use backupscope::source::snapshot::{
    self, FileError, Limits, LoadReport, MAX_PROBLEMS_PER_FILE, SnapshotError,
};
use std::io::Write;
use std::path::Path;

#[path = "support/tempdir.rs"]
mod tempdir;
use tempdir::TempDir;

const BACKUP: &str = "apiVersion: velero.io/v1\nkind: Backup\nmetadata:\n  name: b1\n  namespace: velero\nstatus:\n  phase: Completed\n";

fn load(path: &Path) -> (usize, LoadReport) {
    let (records, report) = snapshot::load_with(path, Limits::default())
        .unwrap_or_else(|e| panic!("load {}: {e}", path.display()));
    (records.len(), report)
}

fn messages(errors: &[FileError]) -> Vec<String> {
    errors.iter().map(|e| e.to_string()).collect()
}

fn tar_gz(
    path: &Path,
    add: impl FnOnce(&mut tar::Builder<flate2::write::GzEncoder<std::fs::File>>),
) {
    let f = std::fs::File::create(path).expect("create tar.gz");
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::fast(),
    ));
    add(&mut tar);
    tar.into_inner()
        .expect("tar")
        .finish()
        .expect("gzip")
        .flush()
        .expect("flush");
}

fn file_header(size: usize) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size as u64);
    header.set_mode(0o644);
    header.set_cksum();
    header
}

/// Bound: a YAML document expands (through aliases) to at most twice its own size in scalar
/// bytes. serde_yaml expanded 1 MB x 2 000 aliases to 2 GB and loaded it.
#[test]
fn alias_bomb_stops_at_the_expansion_budget() {
    let dir = TempDir::new("hostile-alias");
    let mut text = format!("{BACKUP}  message: &m {}\n  list:\n", "y".repeat(1_000_000));
    for _ in 0..2000 {
        text.push_str("  - *m\n");
    }
    dir.write("bomb.yaml", &text);
    dir.write("good.yaml", BACKUP.replace("b1", "b2"));
    let (records, report) = load(dir.path());
    assert_eq!(records, 1, "only the good file loads");
    let errs = messages(&report.errors);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].contains("bomb.yaml:") && errs[0].contains("invalid YAML: budget breached"),
        "{errs:?}"
    );
}

/// Bound: nesting depth 128 (`MAX_DEPTH`) for YAML block, flow and JSON alike; the parser
/// stops at the 129th level instead of parsing 100 000 (serde_yaml: 49 s).
#[test]
fn deep_nesting_stops_at_the_depth_limit() {
    let dir = TempDir::new("hostile-nesting");
    dir.write("flow.yaml", format!("a: {}", "[".repeat(100_000)));
    dir.write("flow.json", "[".repeat(100_000));
    // Exactly at the limit still loads: a Backup at depth 1 inside 127 more levels.
    dir.write(
        "ok.yaml",
        format!("{BACKUP}  deep: {}{}\n", "[".repeat(120), "]".repeat(120)),
    );
    let (records, report) = load(dir.path());
    assert_eq!(records, 1);
    let errs = messages(&report.errors);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].contains("flow.json:1: invalid JSON: recursion limit exceeded"),
        "{errs:?}"
    );
    assert!(errs[1].contains("flow.yaml:1: invalid YAML"), "{errs:?}");
}

/// Bound: GNU long-name and PAX headers are read up to 64 KiB (`MAX_HEADER_BYTES`); one that
/// declares 3 GB ends the archive with an error instead of allocating 3 GB.
#[test]
fn tar_long_name_header_declaring_3_gb_is_refused() {
    let dir = TempDir::new("hostile-longname");
    let tgz = dir.path().join("bundle.tar.gz");
    tar_gz(&tgz, |tar| {
        tar.append_data(
            &mut file_header(BACKUP.len()),
            "a/backups.yaml",
            BACKUP.as_bytes(),
        )
        .expect("append");
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::GNULongName);
        header.as_gnu_mut().expect("gnu").name[..13].copy_from_slice(b"././@LongLink");
        header.set_size(3_000_000_000);
        header.set_cksum();
        // The declared content is not there: the archive ends after 1 MB of it.
        let _ = tar.append(&header, std::io::repeat(b'a').take_bytes(1 << 20));
    });
    let (records, report) = load(&tgz);
    assert_eq!(records, 1, "entries before the bad header load");
    let errs = messages(&report.errors);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0]
            .contains("a GNU long-name header declares 3000000000 bytes (at most 65536 are read)"),
        "{errs:?}"
    );
}

trait TakeBytes: std::io::Read + Sized {
    fn take_bytes(self, n: u64) -> std::io::Take<Self> {
        self.take(n)
    }
}
impl<R: std::io::Read> TakeBytes for R {}

/// Long names that are real (GNU long-name for paths over 100 bytes) still load; names past
/// PATH_MAX (4096) and archives inside the bundle are reported, not dropped without a word.
#[test]
fn tar_long_names_nested_archives_and_path_max() {
    let dir = TempDir::new("hostile-names");
    let tgz = dir.path().join("bundle.tar.gz");
    let long = format!("{}/backups.yaml", "d".repeat(300));
    let too_long = format!("{}/backups.yaml", "e".repeat(5000));
    tar_gz(&tgz, |tar| {
        tar.append_data(&mut file_header(BACKUP.len()), &long, BACKUP.as_bytes())
            .expect("append long name");
        tar.append_data(&mut file_header(BACKUP.len()), &too_long, BACKUP.as_bytes())
            .expect("append too long name");
        tar.append_data(&mut file_header(4), "inner/more.tar.gz", &b"gzip"[..])
            .expect("append nested");
        // JSON-looking YAML flow style in an entry: held, and parsed again as YAML.
        let flow = b"{apiVersion: velero.io/v1, kind: Backup, metadata: {name: f, namespace: v}}";
        tar.append_data(&mut file_header(flow.len()), "flow/one.yaml", &flow[..])
            .expect("append flow");
    });
    let (records, report) = load(&tgz);
    assert_eq!(records, 2, "{:?}", report.errors);
    let errs = messages(&report.errors);
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert!(
        errs[0].contains("skipped: its name is 5013 bytes, longer than PATH_MAX (4096)"),
        "{errs:?}"
    );
    assert!(
        errs[1].ends_with(
            "bundle.tar.gz!inner/more.tar.gz: an archive inside the bundle is not opened; \
             extract it and pass it to --snapshot"
        ),
        "{errs:?}"
    );
}

/// Bound: all bytes read in one load, decompressed ones included, up to
/// `Limits::max_total_bytes` (default 1 GiB, `BACKUPSCOPE_SNAPSHOT_MAX_BYTES`); past it the
/// load fails with an error naming the budget.
#[test]
fn decompressed_bytes_budget_fails_the_load_and_names_itself() {
    let dir = TempDir::new("hostile-budget");
    let tgz = dir.path().join("bundle.tar.gz");
    let padding = format!("{BACKUP}# {}\n", "x".repeat(400_000));
    tar_gz(&tgz, |tar| {
        for i in 0..12 {
            tar.append_data(
                &mut file_header(padding.len()),
                format!("b/e{i}.yaml"),
                padding.as_bytes(),
            )
            .expect("append");
        }
    });
    let limits = Limits {
        max_total_bytes: 1_000_000,
    };
    let err = snapshot::load_with(&tgz, limits).expect_err("over budget");
    assert!(
        matches!(
            err,
            SnapshotError::Budget {
                limit: 1_000_000,
                ..
            }
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("after reading 1000000 bytes (decompressed), the budget for one snapshot")
            && text.contains("BACKUPSCOPE_SNAPSHOT_MAX_BYTES=<bytes>"),
        "{text}"
    );
    // Under a budget that fits, the same bundle loads (every entry holds the same Backup).
    let (records, report) = load(&tgz);
    assert_eq!((records, report.files_read), (12, 12));
}

/// `n` Velero Backups as the items of a block-style List (what the fast YAML reader reads).
fn block_items(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "- apiVersion: velero.io/v1\n  kind: Backup\n  metadata:\n    name: b{i}\n    \
                 namespace: velero\n"
            )
        })
        .collect()
}

/// Bound: a YAML bundle entry the fast reader refuses is parsed again from a copy of what it
/// read (a tar entry is read once), and that copy is bounded by the load's budget: an entry
/// larger than what is left of it fails the load with the budget error, whether the fast
/// reader refuses it at its start (flow style) or on its last line (a repeated key).
#[test]
fn a_refused_yaml_entry_over_the_budget_fails_the_load() {
    let flow: String = std::iter::once("apiVersion: v1\nkind: List\nitems:\n".to_string())
        .chain((0..25_000).map(|i| {
            format!("- {{apiVersion: velero.io/v1, kind: Backup, metadata: {{name: b{i}}}}}\n")
        }))
        .collect();
    let repeated = format!(
        "apiVersion: v1\nitems:\n{}kind: List\nkind: List\n",
        block_items(20_000)
    );
    for (what, text) in [("flow style", flow), ("a repeated key", repeated)] {
        assert!(text.len() > 1_500_000, "{what}: {}", text.len());
        let dir = TempDir::new("hostile-refused-budget");
        let tgz = dir.path().join("bundle.tar.gz");
        tar_gz(&tgz, |tar| {
            for (name, text) in [("b/a-good.yaml", BACKUP), ("b/big.yaml", text.as_str())] {
                tar.append_data(&mut file_header(text.len()), name, text.as_bytes())
                    .expect("append");
            }
        });
        let limits = Limits {
            max_total_bytes: 1_000_000,
        };
        let err = snapshot::load_with(&tgz, limits).expect_err("over budget");
        match &err {
            SnapshotError::Budget { at, limit, .. } => {
                assert!(at.ends_with("bundle.tar.gz!b/big.yaml"), "{what}: {err}");
                assert_eq!(*limit, 1_000_000, "{what}");
            }
            _ => panic!("{what}: {err}"),
        }
    }
}

/// Bound: each YAML bundle entry the fast reader refuses counts its size against the budget,
/// as a file on disk read twice does. The parser gives back the bytes of the fast reader's
/// attempt; a replayed copy that did not count again would let entries refused on their last
/// line decompress without limit.
#[test]
fn refused_yaml_entries_count_against_the_budget() {
    let dir = TempDir::new("hostile-refused-many");
    let tgz = dir.path().join("bundle.tar.gz");
    // About 200 KB each, refused on the last line (flow style), loaded by serde-saphyr.
    let text = format!(
        "apiVersion: v1\nitems:\n{}- {{apiVersion: v1, kind: Secret}}\nkind: List\n",
        block_items(2_200)
    );
    assert!((190_000..230_000).contains(&text.len()), "{}", text.len());
    tar_gz(&tgz, |tar| {
        for i in 0..6 {
            tar.append_data(
                &mut file_header(text.len()),
                format!("b/e{i}.yaml"),
                text.as_bytes(),
            )
            .expect("append");
        }
    });
    // Four entries are more than 700 000 bytes.
    let limits = Limits {
        max_total_bytes: 700_000,
    };
    let err = snapshot::load_with(&tgz, limits).expect_err("over budget");
    assert!(
        matches!(&err, SnapshotError::Budget { at, .. } if at.ends_with("!b/e3.yaml")),
        "{err}"
    );
    // Within the default budget every entry loads, as the same files would from a directory.
    let (records, report) = load(&tgz);
    assert_eq!((records, report.files_read), (6 * 2_200, 6));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.unknown_kinds.get("v1/Secret"), Some(&6));
}

/// Bound: a YAML bundle entry is kept in memory for a second parse only up to 8 MiB; past
/// that, an entry the fast reader refuses is read again from the archive on disk, and its bytes
/// count against the budget as often as they are decompressed: refused on its last line, it
/// costs about twice its size, and fails a budget of 1.6 times its size (which a copy would
/// fit). (That it then loads as from a copy is tested in the library, with a lower cap:
/// serde-saphyr reads 9 MB slowly in a debug build.)
#[test]
fn a_refused_yaml_entry_past_the_copy_cap_is_read_again_from_the_archive() {
    let dir = TempDir::new("hostile-refused-reread");
    let tgz = dir.path().join("bundle.tar.gz");
    // About 9.3 MB (over 8 MiB) of comments, which the fast reader passes over quickly, refused
    // on the last line (flow style).
    let comments = format!("# {}\n", "x".repeat(97)).repeat(93_000);
    let text = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}{comments}- {{apiVersion: v1, kind: Secret}}\n",
        block_items(10)
    );
    assert!(
        (8_500_000..10_000_000).contains(&text.len()),
        "{}",
        text.len()
    );
    tar_gz(&tgz, |tar| {
        for (name, text) in [("b/a-good.yaml", BACKUP), ("b/big.yaml", text.as_str())] {
            tar.append_data(&mut file_header(text.len()), name, text.as_bytes())
                .expect("append");
        }
    });
    let limits = Limits {
        max_total_bytes: text.len() as u64 * 8 / 5,
    };
    let err = snapshot::load_with(&tgz, limits).expect_err("over budget");
    assert!(
        matches!(&err, SnapshotError::Budget { at, .. } if at.ends_with("!b/big.yaml")),
        "{err}"
    );
}

/// Bound: at most `MAX_PROBLEMS_PER_FILE` (20) problems per file are listed, then one line
/// counting the rest (a 20 MB `[0,0,...]` printed one warning per item).
#[test]
fn problems_are_capped_per_file_and_numbered_per_file() {
    let dir = TempDir::new("hostile-warnings");
    let zeros = format!("[{}0]", "0,".repeat(999));
    dir.write("a-zeros.json", &zeros);
    let nameless = "apiVersion: velero.io/v1\nkind: Backup\nmetadata: {}\n";
    for f in ["b-one.yaml", "c-two.yaml"] {
        dir.write(f, format!("{BACKUP}---\n{nameless}"));
    }
    let (records, report) = load(dir.path());
    assert_eq!(records, 2);
    let errs = messages(&report.errors);
    assert_eq!(errs.len(), MAX_PROBLEMS_PER_FILE + 3, "{errs:?}");
    assert!(errs[0].ends_with("a-zeros.json: object #1: not a Kubernetes object (expected a mapping with apiVersion and kind)"), "{errs:?}");
    assert!(
        errs[19].contains("a-zeros.json: object #20: not a Kubernetes object"),
        "{errs:?}"
    );
    assert!(
        errs[20].ends_with(
            "a-zeros.json: 980 more objects could not be read (the first 20 are listed)"
        ),
        "{errs:?}"
    );
    // Numbered within each file: both files' nameless Backup is their object #2.
    assert!(
        errs[21].ends_with("b-one.yaml: object #2: Backup object has no metadata.name"),
        "{errs:?}"
    );
    assert!(
        errs[22].ends_with("c-two.yaml: object #2: Backup object has no metadata.name"),
        "{errs:?}"
    );
    // Only `[0,...]`: no object at all is an error, not an empty success.
    let only = TempDir::new("hostile-warnings-only");
    only.write("zeros.json", &zeros);
    let err = snapshot::load_with(only.path(), Limits::default()).expect_err("no objects");
    assert!(
        err.to_string().contains("no Kubernetes objects found"),
        "{err}"
    );
}

/// A List whose `items` is a mapping, a string or null says what was ignored; a file with
/// no objects says so (both used to load nothing without a word).
#[test]
fn lists_without_a_sequence_and_files_without_objects_say_so() {
    let dir = TempDir::new("hostile-items");
    let inner = BACKUP.replace('\n', "\n    ");
    dir.write(
        "a-map.yaml",
        format!("apiVersion: v1\nkind: List\nitems:\n  backup:\n    {inner}\n"),
    );
    dir.write(
        "b-string.yaml",
        "apiVersion: v1\nkind: List\nitems: hello\n",
    );
    dir.write("c-null.yaml", "apiVersion: v1\nkind: List\nitems:\n");
    dir.write("d-comments.yaml", "# nothing here\n---\n");
    dir.write(
        "e-empty-list.yaml",
        "apiVersion: v1\nitems: []\nkind: List\n",
    );
    dir.write("f-good.yaml", BACKUP);
    let (records, report) = load(dir.path());
    assert_eq!(records, 1);
    let errs = messages(&report.errors);
    let expected = [
        "a-map.yaml: a List whose `items` is a mapping, not a sequence of objects: its content was ignored",
        "b-string.yaml: a List whose `items` is a string, not a sequence of objects: its content was ignored",
        "c-null.yaml: a List whose `items` is null, not a sequence of objects: its content was ignored",
        "d-comments.yaml: holds no Kubernetes objects",
    ];
    assert_eq!(errs.len(), expected.len(), "{errs:?}");
    for (err, want) in errs.iter().zip(expected) {
        assert!(err.ends_with(want), "{err:?} should end with {want:?}");
    }
}

/// kubectl reads YAML flow documents that start with `{` and concatenated JSON objects.
#[test]
fn yaml_flow_documents_and_concatenated_json_load() {
    let dir = TempDir::new("hostile-formats");
    dir.write(
        "flow.yaml",
        "{apiVersion: velero.io/v1, kind: Backup, metadata: {name: f1, namespace: velero}}\n",
    );
    let json = |name: &str| {
        format!(
            r#"{{"apiVersion":"velero.io/v1","kind":"Backup","metadata":{{"name":"{name}","namespace":"velero"}}}}"#
        )
    };
    dir.write(
        "stream.json",
        format!("{}{}\n{}", json("j1"), json("j2"), json("j3")),
    );
    let (records, report) = load(dir.path());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(records, 4);
}

/// The NUL-byte error names the line of the NUL, not line 1.
#[test]
fn nul_byte_error_names_its_line() {
    let dir = TempDir::new("hostile-nul");
    dir.write("nul.yaml", format!("{BACKUP}# fine\nbad: \0\n"));
    dir.write("good.yaml", BACKUP);
    let (_, report) = load(dir.path());
    let errs = messages(&report.errors);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].ends_with(
            "nul.yaml:9: holds a NUL byte (binary file?); kubectl exports are YAML or JSON text"
        ),
        "{errs:?}"
    );
}

/// YAML 1.2 core scalars, as serde_yaml read them: `on`, `yes` and `no` are strings, so a
/// Backup named `on` in namespace `no` loads under those names.
#[test]
fn yaml_1_1_booleans_stay_strings() {
    let dir = TempDir::new("hostile-booleans");
    dir.write(
        "b.yaml",
        "apiVersion: velero.io/v1\nkind: Backup\nmetadata:\n  name: on\n  namespace: no\n  labels:\n    velero.io/schedule-name: yes\n",
    );
    let (records, report) = snapshot::load_with(dir.path(), Limits::default()).expect("load");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let key = records[0].key();
    assert_eq!((key.namespace.as_str(), key.name.as_str()), ("no", "on"));
}
