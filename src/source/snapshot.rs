//! Snapshot source: Kubernetes objects exported with `kubectl get -o yaml|json` (kind List,
//! multi-document YAML or single objects), from a file, a directory tree or a `.tar.gz`
//! support bundle.
//!
//! One bad file never hides the others: its error is reported with the file (and line where the
//! parser knows it) and loading goes on. Only an input with no object at all is an error.

use crate::dialect::{self, Mapped};
use crate::model::Record;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Larger files are refused: exports of a backup center are megabytes, not gigabytes.
const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// A file (or bundle entry) that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path, line, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// What a load found, for `status` to mention and tests to assert.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct LoadReport {
    pub files_read: usize,
    pub files_skipped: usize,
    pub objects: usize,
    pub records: usize,
    /// Objects of kinds backupscope reads that do not concern the backup center.
    pub irrelevant: usize,
    /// `apiVersion/kind` of objects backupscope does not read, with counts.
    pub unknown_kinds: BTreeMap<String, usize>,
    pub errors: Vec<FileError>,
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no Kubernetes objects found in {path} ({files} files read{errors}); expected files \
         written by `kubectl get <resource> -o yaml` (or -o json), a directory of them, or a .tar.gz"
    )]
    Empty {
        path: PathBuf,
        files: usize,
        errors: String,
    },
}

/// Loads every object under `path`.
pub fn load(path: &Path) -> Result<(Vec<Record>, LoadReport), SnapshotError> {
    let io_err = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    let mut loader = Loader::default();
    if meta.is_dir() {
        loader.walk(path).map_err(io_err)?;
    } else if is_tarball(path) {
        let file = std::fs::File::open(path).map_err(io_err)?;
        loader.tarball(path, file);
    } else {
        loader.file(path);
    }
    let Loader {
        records,
        mut report,
    } = loader;
    if report.objects == 0 {
        let errors = if report.errors.is_empty() {
            String::new()
        } else {
            let list: Vec<String> = report
                .errors
                .iter()
                .take(3)
                .map(|e| e.to_string())
                .collect();
            format!("; errors: {}", list.join("; "))
        };
        return Err(SnapshotError::Empty {
            path: path.to_path_buf(),
            files: report.files_read,
            errors,
        });
    }
    report.records = records.len();
    Ok((records, report))
}

fn is_tarball(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".tar.gz") || name.ends_with(".tgz")
}

fn wanted(path: &Path) -> bool {
    let hidden = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'));
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    !hidden && EXTENSIONS.contains(&ext.as_str())
}

#[derive(Default)]
struct Loader {
    records: Vec<Record>,
    report: LoadReport,
}

impl Loader {
    fn walk(&mut self, dir: &Path) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        // Deterministic order: the same bundle always loads the same way.
        entries.sort();
        for path in entries {
            // Links are not followed: a bundle must not lead the loader out of itself or in
            // circles.
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                if let Err(e) = self.walk(&path) {
                    self.error(&path, None, e.to_string());
                }
            } else if meta.is_file() && is_tarball(&path) {
                match std::fs::File::open(&path) {
                    Ok(f) => self.tarball(&path, f),
                    Err(e) => self.error(&path, None, e.to_string()),
                }
            } else if meta.is_file() && wanted(&path) {
                self.file(&path);
            } else {
                self.report.files_skipped += 1;
            }
        }
        Ok(())
    }

    fn file(&mut self, path: &Path) {
        let read = std::fs::File::open(path).and_then(|f| {
            let mut bytes = Vec::new();
            f.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
            Ok(bytes)
        });
        match read {
            Ok(bytes) => self.bytes(&path.display().to_string(), &bytes),
            Err(e) => self.error(path, None, e.to_string()),
        }
    }

    fn tarball(&mut self, path: &Path, file: std::fs::File) {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        let entries = match archive.entries() {
            Ok(e) => e,
            Err(e) => return self.error(path, None, format!("not a readable .tar.gz: {e}")),
        };
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(e) => return self.error(path, None, format!("broken .tar.gz: {e}")),
            };
            let name = match entry.path() {
                Ok(p) => p.into_owned(),
                Err(e) => {
                    self.error(path, None, format!("entry with unreadable name: {e}"));
                    continue;
                }
            };
            if !entry.header().entry_type().is_file() || !wanted(&name) {
                self.report.files_skipped += 1;
                continue;
            }
            let display = format!("{}!{}", path.display(), name.display());
            if entry.size() > MAX_FILE_BYTES {
                self.error_at(display, None, format!("larger than {MAX_FILE_BYTES} bytes"));
                continue;
            }
            let mut bytes = Vec::new();
            match entry.read_to_end(&mut bytes) {
                Ok(_) => self.bytes(&display, &bytes),
                Err(e) => self.error_at(display, None, format!("broken .tar.gz entry: {e}")),
            }
        }
    }

    fn bytes(&mut self, path: &str, bytes: &[u8]) {
        self.report.files_read += 1;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return self.error_at(
                path.into(),
                None,
                format!("larger than {MAX_FILE_BYTES} bytes"),
            );
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                let line = bytes[..e.valid_up_to()]
                    .iter()
                    .filter(|b| **b == b'\n')
                    .count()
                    + 1;
                return self.error_at(
                    path.into(),
                    Some(line),
                    "not UTF-8 text (binary file?); kubectl exports are UTF-8 YAML or JSON".into(),
                );
            }
        };
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            match serde_json::from_str::<Value>(text) {
                Ok(v) => self.value(path, v),
                Err(e) => self.error_at(path.into(), Some(e.line()), format!("invalid JSON: {e}")),
            }
            return;
        }
        for document in serde_yaml::Deserializer::from_str(text) {
            match Value::deserialize(document) {
                Ok(Value::Null) => {}
                Ok(v) => self.value(path, v),
                Err(e) => {
                    let line = e.location().map(|l| l.line());
                    // The YAML stream cannot be resumed after a syntax error.
                    return self.error_at(path.into(), line, format!("invalid YAML: {e}"));
                }
            }
        }
    }

    /// One parsed document: a List (kubectl's wrapper for several objects) or one object.
    fn value(&mut self, path: &str, v: Value) {
        let is_list = v
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k.ends_with("List"))
            && v.get("items").is_some_and(Value::is_array);
        if let (true, Value::Object(mut map)) = (is_list, v.clone()) {
            if let Some(Value::Array(items)) = map.remove("items") {
                for item in items {
                    self.object(path, item);
                }
            }
            return;
        }
        if let Value::Array(items) = v {
            for item in items {
                self.object(path, item);
            }
            return;
        }
        self.object(path, v);
    }

    fn object(&mut self, path: &str, obj: Value) {
        self.report.objects += 1;
        match dialect::map(&obj) {
            Ok(Mapped::Record(r)) => self.records.push(*r),
            Ok(Mapped::Irrelevant) => self.report.irrelevant += 1,
            Ok(Mapped::UnknownKind) => {
                let api = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("?");
                let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("?");
                let key: String = format!("{api}/{kind}").chars().take(200).collect();
                *self.report.unknown_kinds.entry(key).or_default() += 1;
            }
            Err(e) => {
                let name = obj
                    .pointer("/metadata/name")
                    .and_then(Value::as_str)
                    .map(|n| format!(" ({})", n.chars().take(100).collect::<String>()))
                    .unwrap_or_default();
                self.error_at(
                    path.into(),
                    None,
                    format!("object #{}{name}: {e}", self.report.objects),
                );
            }
        }
    }

    fn error(&mut self, path: &Path, line: Option<usize>, message: String) {
        self.error_at(path.display().to_string(), line, message)
    }

    fn error_at(&mut self, path: String, line: Option<usize>, message: String) {
        self.report.errors.push(FileError {
            path,
            line,
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "backupscope-snapshot-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    const LIST: &str = "apiVersion: v1\nitems:\n- apiVersion: velero.io/v1\n  kind: Backup\n  metadata:\n    name: b1\n    namespace: velero\n  status:\n    phase: Completed\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";

    #[test]
    fn list_multidoc_json_and_unknown_kinds() {
        let d = dir();
        std::fs::write(d.join("backups.yaml"), LIST).unwrap();
        std::fs::create_dir(d.join("nested")).unwrap();
        std::fs::write(
            d.join("nested/two.yml"),
            "apiVersion: velero.io/v1\nkind: Schedule\nmetadata: {name: s}\nspec: {schedule: '@daily'}\n---\n---\napiVersion: velero.io/v1\nkind: Restore\nmetadata: {name: r}\n",
        )
        .unwrap();
        std::fs::write(
            d.join("one.json"),
            r#"{"apiVersion":"velero.io/v1","kind":"BackupStorageLocation","metadata":{"name":"default"}}"#,
        )
        .unwrap();
        std::fs::write(d.join("notes.txt"), "hello").unwrap();
        let (records, report) = load(&d).unwrap();
        assert_eq!(records.len(), 4);
        assert_eq!(report.objects, 5);
        assert_eq!(report.unknown_kinds.get("v1/ConfigMap"), Some(&1));
        assert_eq!(report.files_skipped, 1);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    #[test]
    fn broken_and_binary_files_are_reported_and_the_rest_loads() {
        let d = dir();
        std::fs::write(d.join("a-good.yaml"), LIST).unwrap();
        std::fs::write(
            d.join("b-broken.yaml"),
            "apiVersion: v1\nkind: List\nitems: [\n  {a: b\n",
        )
        .unwrap();
        std::fs::write(d.join("c-binary.yaml"), [0x00u8, 0xff, 0xfe, 0x10]).unwrap();
        std::fs::write(
            d.join("d-bad.json"),
            "{\"apiVersion\": \"v1\",\n \"kind\": ",
        )
        .unwrap();
        std::fs::write(
            d.join("e-nameless.yaml"),
            "apiVersion: velero.io/v1\nkind: Backup\nmetadata: {}\n",
        )
        .unwrap();
        let (records, report) = load(&d).unwrap();
        assert_eq!(records.len(), 1);
        let errs: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errs.len(), 4, "{errs:?}");
        assert!(
            errs[0].contains("b-broken.yaml:") && errs[0].contains("invalid YAML"),
            "{errs:?}"
        );
        assert!(errs[1].contains("c-binary.yaml:1: not UTF-8"), "{errs:?}");
        assert!(errs[2].contains("d-bad.json:2: invalid JSON"), "{errs:?}");
        assert!(errs[3].contains("no metadata.name"), "{errs:?}");
    }

    #[test]
    fn empty_input_is_an_error() {
        let d = dir();
        assert!(matches!(load(&d), Err(SnapshotError::Empty { .. })));
        std::fs::write(d.join("empty.yaml"), "").unwrap();
        let err = load(&d).unwrap_err().to_string();
        assert!(err.contains("no Kubernetes objects found"), "{err}");
        assert!(matches!(
            load(&d.join("missing")),
            Err(SnapshotError::Io { .. })
        ));
    }

    #[test]
    fn tarball_bundle() {
        let d = dir();
        let tgz = d.join("bundle.tar.gz");
        let f = std::fs::File::create(&tgz).unwrap();
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            f,
            flate2::Compression::fast(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_size(LIST.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, "bundle/velero/backups.yaml", LIST.as_bytes())
            .unwrap();
        tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
        let (records, report) = load(&tgz).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(report.files_read, 1);
        // Garbage with a .tar.gz name is an error naming the file, not a panic.
        let bad = d.join("bad.tgz");
        std::fs::write(&bad, b"not gzip at all").unwrap();
        let err = load(&bad).unwrap_err().to_string();
        assert!(err.contains("bad.tgz"), "{err}");
    }
}
