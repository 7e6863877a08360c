//! Snapshot source: Kubernetes objects exported with `kubectl get -o yaml|json` (kind List,
//! multi-document YAML, concatenated JSON or single objects), from a file, a directory tree or
//! a `.tar.gz` support bundle.
//!
//! One bad file never hides the others: its error is reported with the file (and line where the
//! parser knows it) and loading goes on. Only an input with no object that could be read (of
//! any kind) is an error.
//!
//! Bundles come from tickets, so every cost is bounded by what the input is, not by what it
//! declares: a file is read up to [`MAX_FILE_BYTES`], all reads of one load (decompressed
//! bytes included) up to [`Limits::max_total_bytes`], a YAML document expands (aliases) to at
//! most its own size again and nests at most [`MAX_DEPTH`] deep, tar headers are read up to
//! [`archive::MAX_HEADER_BYTES`], and each file reports at most [`MAX_PROBLEMS_PER_FILE`]
//! problems plus a count of the rest.

mod archive;
mod document;
mod fastyaml;
mod text;

use crate::model::Record;
use document::Document;
use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use text::{NotText, PastedLines, TextReader};

/// Larger files are refused: exports of a backup center are megabytes, not gigabytes.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;
/// Default of [`Limits::max_total_bytes`].
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 1024 * 1024 * 1024;
/// Environment variable that sets [`Limits::max_total_bytes`] (bytes).
pub const MAX_TOTAL_BYTES_ENV: &str = "BACKUPSCOPE_SNAPSHOT_MAX_BYTES";
/// Problems (unreadable objects) reported one by one per file; the rest are counted.
pub const MAX_PROBLEMS_PER_FILE: usize = 20;
/// Deepest nesting of mappings and sequences read (serde_json's own limit; Kubernetes objects
/// nest a few tens deep).
pub const MAX_DEPTH: usize = 128;
const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];
/// Bytes looked at to tell JSON from YAML.
const SNIFF_BYTES: u64 = 64 * 1024;

/// A file's bytes, as they stream.
type Source<'a> = Box<dyn Read + 'a>;

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
    /// Kubernetes objects found (mapped, irrelevant, of unknown kinds, or unreadable ones that
    /// still had an apiVersion and kind).
    pub objects: usize,
    pub records: usize,
    /// Objects of kinds backupscope reads that do not concern the backup center.
    pub irrelevant: usize,
    /// `apiVersion/kind` of objects backupscope does not read, with counts.
    pub unknown_kinds: BTreeMap<String, usize>,
    pub errors: Vec<FileError>,
}

/// What one load may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes read in all, files and decompressed archive entries (skipped ones included):
    /// a 6 MB `.tar.gz` can hold gigabytes of zeros.
    pub max_total_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
        }
    }
}

impl Limits {
    /// The defaults, with [`MAX_TOTAL_BYTES_ENV`] applied when set.
    pub fn from_env() -> Result<Limits, SnapshotError> {
        let mut limits = Limits::default();
        if let Ok(v) = std::env::var(MAX_TOTAL_BYTES_ENV) {
            limits.max_total_bytes = v.trim().parse().map_err(|_| SnapshotError::BadLimit {
                value: v.chars().take(40).collect(),
            })?;
        }
        Ok(limits)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "no {}Kubernetes objects found in {path} ({files} files read{}{errors}); expected \
         files written by `kubectl get <resource> -o yaml` (or -o json), a directory of them, \
         or a .tar.gz",
        if *.unreadable > 0 { "readable " } else { "" },
        unreadable_objects(*.unreadable)
    )]
    Empty {
        path: PathBuf,
        files: usize,
        /// Objects found that could not be read (all of them).
        unreadable: usize,
        errors: String,
    },
    #[error(
        "snapshot {path}: stopped in {at} after reading {limit} bytes (decompressed), the \
         budget for one snapshot; a genuine bundle this large can be read with \
         {MAX_TOTAL_BYTES_ENV}=<bytes>"
    )]
    Budget {
        path: PathBuf,
        at: String,
        limit: u64,
    },
    #[error("{MAX_TOTAL_BYTES_ENV}={value:?} is not a number of bytes")]
    BadLimit { value: String },
}

fn unreadable_objects(n: usize) -> String {
    match n {
        0 => String::new(),
        1 => ", 1 object unreadable".into(),
        n => format!(", {n} objects unreadable"),
    }
}

/// Loads every object under `path`, within the limits the environment sets.
pub fn load(path: &Path) -> Result<(Vec<Record>, LoadReport), SnapshotError> {
    load_with(path, Limits::from_env()?)
}

/// Stack of the loading thread: parsing recurses once per nesting level (up to [`MAX_DEPTH`]),
/// and the caller's stack (a tokio worker has 2 MiB) must not decide whether that fits.
const LOADER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Loads every object under `path` within `limits`.
pub fn load_with(path: &Path, limits: Limits) -> Result<(Vec<Record>, LoadReport), SnapshotError> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("snapshot-loader".into())
            .stack_size(LOADER_STACK_BYTES)
            .spawn_scoped(scope, || load_here(path, &mut Loader::new(limits)))
            .map_err(|source| SnapshotError::Io {
                path: path.to_path_buf(),
                source,
            })?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// Loads every object under `path` with `loader`, which is left empty of records.
fn load_here(path: &Path, loader: &mut Loader) -> Result<(Vec<Record>, LoadReport), SnapshotError> {
    let io_err = |source| SnapshotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let limits = loader.limits;
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        loader.walk(path).map_err(io_err)?;
    } else if is_tarball(path) {
        let file = std::fs::File::open(path).map_err(io_err)?;
        loader.tarball(path, file);
    } else {
        loader.file(path);
    }
    let records = std::mem::take(&mut loader.records);
    let mut report = std::mem::take(&mut loader.report);
    let exhausted = loader.exhausted.take();
    if let Some(at) = exhausted {
        return Err(SnapshotError::Budget {
            path: path.to_path_buf(),
            at,
            limit: limits.max_total_bytes,
        });
    }
    // Objects of kinds backupscope does not read were read all the same; an input whose every
    // object was unreadable is no snapshot, though it holds objects.
    let unknown: usize = report.unknown_kinds.values().sum();
    let usable = records.len() + report.irrelevant + unknown;
    if usable == 0 {
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
            unreadable: report.objects - usable,
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

/// Counts every byte read through it against the load's budget, and fails the read that
/// goes past it.
struct Budgeted<R> {
    inner: R,
    used: Rc<Cell<u64>>,
    limit: u64,
}

/// The message of the read error a spent budget causes (recognised by [`Loader::spent`]).
const BUDGET_SPENT: &str = "snapshot read budget spent";

impl<R: Read> Read for Budgeted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.used.get() > self.limit {
            return Err(std::io::Error::other(BUDGET_SPENT));
        }
        let n = self.inner.read(buf)?;
        self.used.set(self.used.get() + n as u64);
        if self.used.get() > self.limit {
            return Err(std::io::Error::other(BUDGET_SPENT));
        }
        Ok(n)
    }
}

/// What one file held, for its own problem count and object numbers.
#[derive(Default)]
struct FileTally {
    /// Elements seen (objects or not), numbering the problems of this file.
    elements: usize,
    problems: usize,
    /// A List was read (even an empty one: a resource with no objects is a real export).
    list: bool,
}

struct Loader {
    records: Vec<Record>,
    report: LoadReport,
    limits: Limits,
    used: Rc<Cell<u64>>,
    /// Where the read budget ran out; nothing is read after that.
    exhausted: Option<String>,
    /// Most bytes of a YAML bundle entry kept for a second parse
    /// ([`archive::REPLAY_COPY_BYTES`]; lower in tests).
    replay_cap: usize,
    /// Largest copy of a bundle entry held at once (its capacity), for tests.
    #[cfg(test)]
    copy_peak: usize,
}

impl Loader {
    fn new(limits: Limits) -> Loader {
        Loader::with_replay_cap(limits, archive::REPLAY_COPY_BYTES)
    }

    fn with_replay_cap(limits: Limits, replay_cap: usize) -> Loader {
        Loader {
            records: Vec::new(),
            report: LoadReport::default(),
            limits,
            used: Rc::new(Cell::new(0)),
            exhausted: None,
            replay_cap,
            #[cfg(test)]
            copy_peak: 0,
        }
    }

    fn budgeted<R: Read>(&self, inner: R) -> Budgeted<R> {
        Budgeted {
            inner,
            used: self.used.clone(),
            limit: self.limits.max_total_bytes,
        }
    }

    /// Whether the budget is spent; records where (once).
    fn spent(&mut self, at: &str) -> bool {
        let spent = self.used.get() > self.limits.max_total_bytes;
        if spent && self.exhausted.is_none() {
            self.exhausted = Some(at.to_string());
        }
        spent
    }

    fn walk(&mut self, dir: &Path) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        // Deterministic order: the same bundle always loads the same way.
        entries.sort();
        for path in entries {
            if self.exhausted.is_some() {
                return Ok(());
            }
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
        let display = path.display().to_string();
        let len = match std::fs::metadata(path) {
            Ok(m) => m.len(),
            Err(e) => return self.error(path, None, e.to_string()),
        };
        let (used, limit) = (self.used.clone(), self.limits.max_total_bytes);
        self.parse(&display, len, &|| {
            Ok(Box::new(Budgeted {
                inner: std::fs::File::open(path)?,
                used: used.clone(),
                limit,
            }))
        });
    }

    fn bytes(&mut self, path: &str, bytes: &[u8]) {
        self.parse(path, bytes.len() as u64, &|| Ok(Box::new(bytes)));
    }

    /// Parses one file as it streams from `open`, which is called again (once at most) when
    /// JSON-looking text turns out to be YAML flow style or the fast reader refuses the YAML.
    fn parse<'a>(&mut self, path: &str, len: u64, open: &dyn Fn() -> std::io::Result<Source<'a>>) {
        self.report.files_read += 1;
        if len > MAX_FILE_BYTES {
            return self.error_at(
                path.into(),
                None,
                format!("larger than {MAX_FILE_BYTES} bytes"),
            );
        }
        let stopped = Rc::new(Cell::new(None));
        let pasted = PastedLines::default();
        let (used, limit) = (self.used.clone(), self.limits.max_total_bytes);
        let read_text = |reader| text(reader, &stopped, &pasted);
        let parsed = open().and_then(|reader| {
            let before = used.get();
            let (mut text, json) = read_text(reader)?;
            if !json {
                if let Ok(documents) = fastyaml::documents(&mut text) {
                    return Ok(Ok(documents));
                }
                // Outside what the fast reader knows (or broken): serde-saphyr reads the whole
                // file again and its answer stands, errors included. The first attempt does
                // not count against the budget unless it spent it.
                drop(text);
                stopped.set(None);
                if used.get() <= limit {
                    used.set(before);
                }
                return Ok(yaml_documents(read_text(open()?)?.0, len));
            }
            Ok(match json_documents(text) {
                Err(json) if json.documents.is_empty() && stopped.get().is_none() => {
                    // YAML flow style looks like JSON (`{kind: List, items: [...]}`), and
                    // kubectl reads it: the JSON error stands only when YAML cannot read the
                    // text either.
                    let again = read_text(open()?)?
                        .0
                        .dropping_trailing_prompt(pasted.clone());
                    yaml_documents(again, len).map_err(|_| json)
                }
                other => other,
            })
        });
        let parsed = match parsed {
            Ok(parsed) => parsed,
            Err(_) if self.spent(path) => return,
            Err(e) => return self.error_at(path.into(), None, e.to_string()),
        };
        if self.spent(path) {
            return;
        }
        let (documents, error) = match parsed {
            Ok(documents) => (documents, None),
            Err(Partial { documents, error }) => (documents, Some(error)),
        };
        // A binary file's parse error is the text check's, with its line.
        let error = match stopped.get() {
            Some(why) => Some((Some(why.line()), why.message().to_string())),
            None => error,
        };
        let mut tally = FileTally::default();
        for document in documents {
            self.document(path, document, &mut tally);
        }
        if tally.problems > MAX_PROBLEMS_PER_FILE {
            self.error_at(
                path.into(),
                None,
                format!(
                    "{} more objects could not be read (the first {MAX_PROBLEMS_PER_FILE} are \
                     listed)",
                    tally.problems - MAX_PROBLEMS_PER_FILE
                ),
            );
        }
        match error {
            Some((line, message)) => self.error_at(path.into(), line, message),
            // Elements that are no objects were reported one by one (and counted).
            None if tally.elements == 0 && !tally.list => {
                self.error_at(path.into(), None, "holds no Kubernetes objects".into())
            }
            None => {}
        }
        for (line, p) in pasted.take() {
            self.error_at(
                path.into(),
                Some(line),
                format!(
                    "{} pasted with the export: `{}` (this line was left out, the rest of the \
                     file read)",
                    p.what, p.text
                ),
            );
        }
    }

    fn document(&mut self, path: &str, document: Document, tally: &mut FileTally) {
        if let Some(ignored) = document.ignored {
            self.error_at(path.into(), None, ignored);
        }
        tally.list |= document.list;
        let objects = document.objects;
        // Problems are numbered within the file, across its documents.
        for (n, name, error) in objects.first_problems {
            tally.problems += 1;
            if tally.problems <= MAX_PROBLEMS_PER_FILE {
                let name = if name.is_empty() {
                    String::new()
                } else {
                    format!(" ({name})")
                };
                self.error_at(
                    path.into(),
                    None,
                    format!("object #{}{name}: {error}", tally.elements + n),
                );
            }
        }
        tally.problems += objects.problems - objects.problems.min(MAX_PROBLEMS_PER_FILE);
        tally.elements += objects.elements;
        self.report.objects += objects.objects;
        self.report.irrelevant += objects.irrelevant;
        for (key, count) in objects.unknown_kinds {
            *self.report.unknown_kinds.entry(key).or_default() += count;
        }
        self.records.extend(objects.records);
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

/// A file's text as it streams from `reader`, and whether it looks like JSON. Its first bytes
/// are read to tell, and passed on with the prompt and command lines pasted before the export
/// blanked (each keeps its line break, so that every line keeps its number) and told to
/// `pasted`. YAML's last line is held back, and dropped when it is a prompt too; JSON reports
/// text after its last value by itself.
fn text<'a>(
    mut reader: Source<'a>,
    stopped: &Rc<Cell<Option<NotText>>>,
    pasted: &PastedLines,
) -> std::io::Result<(TextReader<impl Read + 'a>, bool)> {
    let mut head = Vec::new();
    (&mut reader).take(SNIFF_BYTES).read_to_end(&mut head)?;
    let json = looks_like_json(&head);
    for (bytes, line, p) in text::leading_prompts(&head).into_iter().rev() {
        head.drain(bytes);
        pasted.borrow_mut().insert(line, p);
    }
    let text = TextReader::new(std::io::Cursor::new(head).chain(reader), stopped.clone());
    Ok(if json {
        (text, true)
    } else {
        (text.dropping_trailing_prompt(pasted.clone()), false)
    })
}

/// Whether a file's first bytes start a JSON value (or YAML flow style, which looks alike),
/// after the prompt and command lines pasted before it.
fn looks_like_json(head: &[u8]) -> bool {
    let after = text::leading_prompts(head)
        .last()
        .map_or(0, |(bytes, _, _)| bytes.end);
    head[after..]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'{' || *b == b'[')
}

/// The documents read before a syntax error, and the error (line, message).
struct Partial {
    documents: Vec<Document>,
    error: (Option<usize>, String),
}

/// JSON: one value, or several concatenated (`{...}{...}`, one per line or not), as kubectl
/// reads them.
fn json_documents(text: impl Read) -> Result<Vec<Document>, Partial> {
    let mut documents = Vec::new();
    let mut text = Braces {
        inner: text,
        read: 0,
        last: None,
    };
    // serde_json reads a byte at a time; std's BufReader serves those from its buffer
    // without a call through the reader stack for each.
    let buffered = std::io::BufReader::with_capacity(64 * 1024, &mut text);
    let mut stream = serde_json::Deserializer::from_reader(buffered).into_iter::<Document>();
    while let Some(document) = stream.next() {
        match document {
            Ok(d) => documents.push(d),
            Err(e) => {
                let end = stream.byte_offset() as u64;
                drop(stream);
                let trailing = !documents.is_empty() && e.is_syntax() && no_object_after(text, end);
                return Err(Partial {
                    documents,
                    error: (Some(e.line()), json_error(&e, trailing)),
                });
            }
        }
    }
    Ok(documents)
}

/// The message of a JSON error; `trailing`: the error is in text after the last value read,
/// and that text holds no object.
fn json_error(e: &serde_json::Error, trailing: bool) -> String {
    if trailing {
        format!(
            "ignored text after the last JSON object at line {} (it holds no object: nothing \
             was lost)",
            e.line()
        )
    } else {
        format!("invalid JSON: {e}")
    }
}

/// Text after the last JSON value read more than this is not looked through.
const MAX_TRAILING_BYTES: u64 = 64 * 1024;

/// Counts the bytes read through it and remembers where the last `{` was: text after the
/// last value without one holds no object (a shell prompt pasted after `-o json`), text with
/// one may be an object cut short.
struct Braces<R> {
    inner: R,
    read: u64,
    last: Option<u64>,
}

impl<R: Read> Read for Braces<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(at) = buf[..n].iter().rposition(|b| *b == b'{') {
            self.last = Some(self.read + at as u64);
        }
        self.read += n as u64;
        Ok(n)
    }
}

/// Whether the text from byte `end` (where the last value read ends) to the end of the input
/// holds no `{` and is short: what was read past `end` already, then the rest.
fn no_object_after<R: Read>(mut text: Braces<R>, end: u64) -> bool {
    let past = text.read.saturating_sub(end);
    if text.last.is_some_and(|at| at >= end) || past > MAX_TRAILING_BYTES {
        return false;
    }
    let mut rest = Vec::new();
    let budget = MAX_TRAILING_BYTES - past;
    match (&mut text).take(budget + 1).read_to_end(&mut rest) {
        Ok(n) => n as u64 <= budget && !rest.contains(&b'{'),
        Err(_) => false,
    }
}

/// The YAML parser's budgets for a text of `len` bytes. Without aliases a document holds at
/// most as many nodes and scalar bytes as it has bytes; aliases may repeat content up to that
/// size again, no more (1 MB scalar x 2 000 aliases stops at 2 MB, not 2 GB).
fn yaml_options(len: u64) -> serde_saphyr::Options {
    let len = usize::try_from(len).unwrap_or(usize::MAX).max(4096);
    let mut budget = serde_saphyr::Budget::default();
    budget.max_reader_input_bytes = Some(MAX_FILE_BYTES as usize + 1);
    budget.max_events = 2 * len;
    budget.max_nodes = 2 * len;
    budget.max_aliases = len / 2;
    budget.max_anchors = len / 2;
    budget.max_total_scalar_bytes = 2 * len;
    budget.max_recorded_anchor_bytes = len;
    budget.max_recorded_anchor_events = len;
    budget.max_depth = MAX_DEPTH;
    budget.flow_nesting_limit = MAX_DEPTH;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = len;
    // YAML 1.2 core, as serde_yaml read it: `on`, `yes`, `no` and `1_000` are strings (a Backup
    // named `on` is a Backup named "on").
    options.strict_booleans = true;
    options.underscored_numbers_as_strings = true;
    // YAML requires unique keys. Two objects pasted without `---` between them read as one
    // mapping, and keeping the last of each key silently dropped the first object.
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    // One-line messages: the warning names the file and line already.
    options.with_snippet = false;
    options
}

/// YAML: every document of the stream; a syntax error ends it (the parser cannot resume).
fn yaml_documents(mut text: impl Read, len: u64) -> Result<Vec<Document>, Partial> {
    let mut documents = Vec::new();
    for document in serde_saphyr::read_with_options::<_, Document>(&mut text, yaml_options(len)) {
        match document {
            Ok(d) => documents.push(d),
            Err(e) => {
                let line = e.location().map(|l| l.line() as usize);
                return Err(Partial {
                    documents,
                    error: (line, yaml_error(&e)),
                });
            }
        }
    }
    Ok(documents)
}

/// Keys whose repetition at column 0 means a second object began without `---`.
const OBJECT_KEYS: &[&str] = &["apiVersion", "kind"];

/// The message of a YAML error; a repeated key says which, and what usually causes it (the
/// parser's own words suggest an option of the library).
fn yaml_error(e: &serde_saphyr::Error) -> String {
    let serde_saphyr::Error::DuplicateMappingKey { key, location } = e else {
        return format!("invalid YAML: {e}");
    };
    let object_key = key.as_deref().is_some_and(|k| OBJECT_KEYS.contains(&k));
    let key: String = match key {
        Some(k) => format!("`{}`", k.chars().take(100).collect::<String>()),
        None => "a key".into(),
    };
    // Columns count from 1.
    let hint = if object_key && location.column() <= 1 {
        format!(
            "; two objects without a `---` line between them? Put a line `---` before line {}",
            location.line()
        )
    } else {
        String::new()
    };
    format!("invalid YAML: {key} appears twice in one mapping (YAML keys are unique){hint}")
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
        // Its first byte is a NUL: that is what the file is named for.
        assert!(
            errs[1].contains("c-binary.yaml:1: holds a NUL byte"),
            "{errs:?}"
        );
        assert!(errs[2].contains("d-bad.json:2: invalid JSON"), "{errs:?}");
        assert!(errs[3].contains("no metadata.name"), "{errs:?}");
    }

    fn yaml_error_of(text: &str) -> (Option<usize>, String) {
        match yaml_documents(text.as_bytes(), text.len() as u64) {
            Ok(d) => panic!("read {} documents of {text}", d.len()),
            Err(p) => p.error,
        }
    }

    #[test]
    fn serde_saphyr_refuses_a_repeated_key_and_names_it() {
        let (line, message) = yaml_error_of(
            "apiVersion: velero.io/v1\nkind: Backup\nmetadata:\n  name: b\napiVersion: \
             velero.io/v1\nkind: BackupStorageLocation\n",
        );
        assert_eq!(line, Some(5));
        assert_eq!(
            message,
            "invalid YAML: `apiVersion` appears twice in one mapping (YAML keys are unique); \
             two objects without a `---` line between them? Put a line `---` before line 5"
        );
        // Deeper, or another key: no guess at two objects.
        let (line, message) = yaml_error_of("metadata:\n  name: a\n  labels: {}\n  name: b\n");
        assert_eq!(line, Some(4));
        assert_eq!(
            message,
            "invalid YAML: `name` appears twice in one mapping (YAML keys are unique)"
        );
        let (_, message) = yaml_error_of("spec:\n  kind: a\n  kind: b\n");
        assert!(!message.contains("---"), "{message}");
        // Flow style, which only serde-saphyr reads.
        let (_, message) = yaml_error_of("{kind: Backup, kind: Restore}\n");
        assert!(message.contains("`kind` appears twice"), "{message}");
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

    /// A `.tar.gz` at `path` holding `files` (name, text).
    fn tgz_of(path: &Path, files: &[(&str, &str)]) {
        let f = std::fs::File::create(path).unwrap();
        let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
            f,
            flate2::Compression::fast(),
        ));
        for (name, text) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(text.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, name, text.as_bytes()).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    }

    /// Loads `path` as `load_with` does, copies of bundle entries kept up to `cap` bytes; and
    /// the largest copy held.
    fn load_capped(
        path: &Path,
        limits: Limits,
        cap: usize,
    ) -> (Result<(Vec<Record>, LoadReport), SnapshotError>, usize) {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .stack_size(LOADER_STACK_BYTES)
                .spawn_scoped(scope, || {
                    let mut loader = Loader::with_replay_cap(limits, cap);
                    let loaded = load_here(path, &mut loader);
                    (loaded, loader.copy_peak)
                })
                .unwrap()
                .join()
                .unwrap()
        })
    }

    /// What loading `path` gave (records, report, or the error), with the files' paths cut to
    /// their names: `prefix` is `<dir>/` or `<bundle>!`; bundle entries are kept up to `cap`
    /// bytes for a second parse.
    fn outcome(path: &Path, prefix: &str, cap: usize) -> String {
        let text = match load_capped(path, Limits::default(), cap).0 {
            Ok((records, report)) => {
                let errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
                format!("{records:?}\n{report:?}\nerrors: {errors:?}")
            }
            Err(e) => e.to_string(),
        };
        text.replace(prefix, "")
    }

    /// YAML the fast reader refuses is parsed again by serde-saphyr from its start; a bundle
    /// entry, read once from the archive, gets the same objects and errors as the same file in
    /// a directory (it used to fail with "an archive entry is read once"), whether it is parsed
    /// again from its copy or, its copy dropped past the cap, read again from the archive.
    #[test]
    fn a_bundle_entry_loads_as_the_same_file_in_a_directory() {
        let backup = |name: &str| {
            format!(
                "- apiVersion: velero.io/v1\n  kind: Backup\n  metadata:\n    name: {name}\n    \
                 namespace: velero\n  status:\n    phase: Completed\n"
            )
        };
        // Over SNIFF_BYTES, so that the refusal comes after the first read of the entry.
        let many: String = (0..2000).map(|i| backup(&format!("b{i}"))).collect();
        assert!(many.len() as u64 > 2 * SNIFF_BYTES);
        let cases: Vec<(&str, String, &str)> = vec![
            (
                "flow style",
                "apiVersion: velero.io/v1\nkind: Backup\nmetadata: {name: f, namespace: velero}\n\
                 status: {phase: Completed}\n"
                    .into(),
                "",
            ),
            (
                "flow style that looks like JSON",
                "{apiVersion: velero.io/v1, kind: Backup, metadata: {name: j}}\n".into(),
                "",
            ),
            (
                "a tab after a key",
                "apiVersion: velero.io/v1\nkind:\tBackup\nmetadata:\n  name: t\n".into(),
                "",
            ),
            (
                "tab-indented",
                "apiVersion: velero.io/v1\nkind: Backup\nmetadata:\n\tname: t\n".into(),
                "case.yaml:4: invalid YAML",
            ),
            (
                "a repeated key: two objects pasted without `---`",
                format!(
                    "apiVersion: velero.io/v1\nkind: Backup\nmetadata:\n  name: p\n  namespace: \
                     velero\n{LIST}"
                ),
                "case.yaml:6: invalid YAML: `apiVersion` appears twice in one mapping (YAML keys \
                 are unique); two objects without a `---` line between them? Put a line `---` \
                 before line 6",
            ),
            (
                "flow style after 2 000 objects",
                format!(
                    "apiVersion: v1\nitems:\n{many}- {{apiVersion: v1, kind: Secret}}\nkind: List\n"
                ),
                "",
            ),
            (
                "a key repeated on the last line, after 2 000 objects",
                format!("apiVersion: v1\nitems:\n{many}kind: List\nkind: List\n"),
                "case.yaml:14004: invalid YAML: `kind` appears twice in one mapping",
            ),
        ];
        for (what, text, error) in cases {
            let d = dir();
            let files = [("case.yaml", text.as_str()), ("good.yaml", LIST)];
            let tree = d.join("tree");
            std::fs::create_dir(&tree).unwrap();
            for (name, text) in files {
                std::fs::write(tree.join(name), text).unwrap();
            }
            let bundle = d.join("bundle.tar.gz");
            tgz_of(&bundle, &files);
            let on_disk = outcome(&tree, &format!("{}/", tree.display()), 0);
            for cap in [archive::REPLAY_COPY_BYTES, 16 * 1024, 0] {
                let in_bundle = outcome(&bundle, &format!("{}!", bundle.display()), cap);
                assert_eq!(in_bundle, on_disk, "{what}, copies up to {cap} bytes");
            }
            if error.is_empty() {
                assert!(on_disk.ends_with("errors: []"), "{what}: {on_disk}");
            } else {
                assert!(on_disk.contains(error), "{what}: {on_disk}");
            }
            std::fs::remove_dir_all(&d).unwrap();
        }
    }

    /// A Velero Backup list of `n` items in block style (what the fast reader reads).
    fn block_list(n: usize) -> String {
        let items: String = (0..n)
            .map(|i| {
                format!(
                    "- apiVersion: velero.io/v1\n  kind: Backup\n  metadata:\n    name: b{i}\n    \
                     namespace: velero\n  status:\n    phase: Completed\n"
                )
            })
            .collect();
        format!("apiVersion: v1\nkind: List\nitems:\n{items}")
    }

    /// Bound: a YAML bundle entry the fast reader accepts is kept in memory only up to the cap
    /// while it is parsed (a 100 MB export used to be held whole), and loads all the same.
    #[test]
    fn an_accepted_bundle_entry_is_not_kept_past_the_cap() {
        let d = dir();
        let bundle = d.join("bundle.tar.gz");
        let text = block_list(8_000);
        assert!(text.len() > 700_000, "{}", text.len());
        tgz_of(
            &bundle,
            &[("b/big.yaml", text.as_str()), ("b/good.yaml", LIST)],
        );
        let loads = |cap| {
            let (loaded, peak) = load_capped(&bundle, Limits::default(), cap);
            let (records, report) = loaded.unwrap();
            assert!(report.errors.is_empty(), "{:?}", report.errors);
            assert_eq!((records.len(), report.files_read), (8_001, 2));
            peak
        };
        // The counter measures the copy: with room, the whole entry past its head is kept.
        let whole = loads(archive::REPLAY_COPY_BYTES);
        assert!(whole as u64 >= text.len() as u64 - SNIFF_BYTES, "{whole}");
        for cap in [100_000, 64 * 1024, 1] {
            let peak = loads(cap);
            assert!(peak <= cap, "copy of {peak} bytes, cap {cap}");
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// Bound: an entry refused after its copy was dropped is read again from the archive,
    /// decompressed from the archive's start, and every byte of that counts against the
    /// budget: a bundle of entries refused late fails with the budget error naming the entry
    /// where it ran out, though the same bundle loads within that budget from copies.
    #[test]
    fn an_entry_read_again_from_the_archive_counts_against_the_budget() {
        let d = dir();
        let bundle = d.join("bundle.tar.gz");
        // About 200 KB each, refused on the last line (flow style), loaded by serde-saphyr.
        let text = format!("{}- {{apiVersion: v1, kind: Secret}}\n", block_list(1_700));
        assert!((190_000..230_000).contains(&text.len()), "{}", text.len());
        let names: Vec<String> = (0..6).map(|i| format!("b/e{i}.yaml")).collect();
        let files: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), text.as_str())).collect();
        tgz_of(&bundle, &files);
        let limits = Limits {
            max_total_bytes: 1_500_000,
        };
        // From copies, each entry costs its size once: 1.2 MB in all.
        let (loaded, _) = load_capped(&bundle, limits, archive::REPLAY_COPY_BYTES);
        let (records, report) = loaded.unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!((records.len(), report.files_read), (6 * 1_700, 6));
        assert_eq!(report.unknown_kinds.get("v1/Secret"), Some(&6));
        // Read again from the archive, entry i costs its size, the i entries before it and
        // itself again: 0.4 MB, 0.6 MB, then 0.8 MB (1.8 MB in all, over the budget in e2).
        let (loaded, peak) = load_capped(&bundle, limits, 16 * 1024);
        assert!(peak <= 16 * 1024, "{peak}");
        match loaded {
            Err(SnapshotError::Budget { at, limit, .. }) => {
                assert!(at.ends_with("bundle.tar.gz!b/e2.yaml"), "{at}");
                assert_eq!(limit, 1_500_000);
            }
            other => panic!("{:?}", other.map(|(_, report)| report)),
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// An entry to be read again from an archive that changed on disk meanwhile is an error of
    /// that entry, not another entry's text.
    #[test]
    fn an_entry_read_again_from_a_changed_archive_is_an_error() {
        let d = dir();
        let bundle = d.join("bundle.tar.gz");
        let text = format!("{}kind: List\n", block_list(1_500));
        tgz_of(&bundle, &[("b/a.yaml", text.as_str())]);
        let mut loader = Loader::with_replay_cap(Limits::default(), 0);
        let file = std::fs::File::open(&bundle).unwrap();
        // Another archive in its place, once the original was opened.
        let other = d.join("other.tar.gz");
        tgz_of(&other, &[("b/a.yaml", LIST)]);
        std::fs::rename(&other, &bundle).unwrap();
        loader.tarball(&bundle, file);
        let errors: Vec<String> = loader.report.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].ends_with(
                "bundle.tar.gz!b/a.yaml: the archive changed on disk while it was \
                                 read: this entry could not be read again"
            ),
            "{errors:?}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn tarball_bundle() {
        let d = dir();
        let tgz = d.join("bundle.tar.gz");
        tgz_of(&tgz, &[("bundle/velero/backups.yaml", LIST)]);
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
