//! `.tar.gz` support bundles, read entry by entry with every header bounded.
//!
//! The `tar` crate reads GNU long-name and PAX headers whole, at the size they declare (a
//! 3 MB archive declaring a 3 GB long name took 6 GB), so those headers are read here, in raw
//! mode, up to [`MAX_HEADER_BYTES`]. Every decompressed byte, skipped entries included, counts
//! against the load's budget.
//!
//! An entry is read once, but the parser may read a file twice (JSON-looking text that is YAML
//! flow style, YAML the fast reader refuses): JSON-looking entries are held whole, YAML ones
//! stream with a copy of what was read kept for a second parse ([`Replay`]), so an entry loads
//! as the same file on disk does, with the same objects and errors.

use super::{
    Budgeted, Loader, MAX_FILE_BYTES, SNIFF_BYTES, Source, is_tarball, looks_like_json, wanted,
};
use std::cell::{Cell, RefCell};
use std::io::Read;
use std::path::Path;
use std::rc::Rc;
use tar::EntryType;

/// Largest GNU long-name or PAX header read: a file name is at most [`PATH_MAX`] bytes, and a
/// PAX header carries a few such records.
pub const MAX_HEADER_BYTES: u64 = 64 * 1024;
/// Longest entry name read (Linux' PATH_MAX): a longer one cannot be a file of a bundle.
pub const PATH_MAX: usize = 4096;

/// Archives inside the bundle, which the loader does not open.
const NESTED_ARCHIVES: &[&str] = &[
    ".tar", ".tar.gz", ".tgz", ".zip", ".gz", ".tar.xz", ".tar.bz2",
];

fn is_nested_archive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    NESTED_ARCHIVES.iter().any(|ext| lower.ends_with(ext))
}

/// The path a PAX header sets, if any.
fn pax_path(data: &[u8]) -> Option<Vec<u8>> {
    tar::PaxExtensions::new(data)
        .filter_map(Result::ok)
        .filter(|e| e.key_bytes() == b"path")
        .last()
        .map(|e| e.value_bytes().to_vec())
}

/// A YAML entry of the bundle, which the parser may open twice although a tar entry can be
/// read only once: YAML the fast reader refuses is parsed again from its start by serde-saphyr
/// (`Loader::parse`), whose answer, errors and line numbers included, must be the one the same
/// file on disk gets.
///
/// Both readers start with the head the loader read to tell JSON from YAML. The first then
/// keeps a copy of every byte it reads from the entry; the second reads that copy, then the
/// rest of the entry. The copy is at most what the fast reader read before it gave up (the
/// whole entry when it did not give up), so at most the entry's size ([`MAX_FILE_BYTES`]), and
/// each of its bytes was decompressed within the load's budget. Replayed, it counts against the
/// budget again, as a file read twice does: the parser gives the first attempt's bytes back,
/// and without this a bundle of entries refused on their last line would decompress without
/// limit. An entry thus costs the budget what the same file on disk costs, plus its tar header.
struct Replay<R> {
    /// The entry's first bytes, read (and counted) before the parser opened it.
    head: Vec<u8>,
    /// The rest of the entry.
    entry: RefCell<R>,
    /// What the first reader read from `entry`; taken by the second.
    copy: RefCell<Vec<u8>>,
    /// Readers opened so far.
    opened: Cell<u8>,
    used: Rc<Cell<u64>>,
    limit: u64,
}

impl<R: Read> Replay<R> {
    fn open(&self) -> std::io::Result<Source<'_>> {
        let opened = self.opened.get();
        self.opened.set(opened.saturating_add(1));
        match opened {
            0 => Ok(Box::new(self.head.as_slice().chain(Recording(self)))),
            1 => Ok(Box::new(
                self.head
                    .as_slice()
                    .chain(Budgeted {
                        inner: std::io::Cursor::new(self.copy.take()),
                        used: self.used.clone(),
                        limit: self.limit,
                    })
                    .chain(Rest(self)),
            )),
            // `Loader::parse` opens a file at most twice (fast reader or JSON, then
            // serde-saphyr); a third copy would have to be kept for nothing.
            _ => Err(std::io::Error::other(
                "a bundle entry is parsed at most twice (a bug in backupscope: please report it)",
            )),
        }
    }
}

/// The entry's bytes after the head, a copy kept of each.
struct Recording<'r, R>(&'r Replay<R>);

impl<R: Read> Read for Recording<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.entry.borrow_mut().read(buf)?;
        self.0.copy.borrow_mut().extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// The entry's bytes after those the first reader read.
struct Rest<'r, R>(&'r Replay<R>);

impl<R: Read> Read for Rest<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.entry.borrow_mut().read(buf)
    }
}

impl Loader {
    pub(super) fn tarball(&mut self, path: &Path, file: std::fs::File) {
        let shown = path.display().to_string();
        let mut archive = tar::Archive::new(self.budgeted(flate2::read::GzDecoder::new(file)));
        let entries = match archive.entries() {
            Ok(e) => e.raw(true),
            Err(e) => return self.error(path, None, format!("not a readable .tar.gz: {e}")),
        };
        // Name given by the GNU long-name or PAX header just before the entry it names.
        let mut long_name: Option<Vec<u8>> = None;
        for entry in entries {
            let mut entry = match entry {
                Ok(e) => e,
                Err(_) if self.spent(&shown) => return,
                Err(e) => return self.error(path, None, format!("broken .tar.gz: {e}")),
            };
            let kind = entry.header().entry_type();
            if matches!(
                kind,
                EntryType::GNULongName | EntryType::XHeader | EntryType::XGlobalHeader
            ) {
                let size = entry.size();
                if size > MAX_HEADER_BYTES {
                    // Skipping it would mean decompressing all it declares: stop here.
                    return self.error(
                        path,
                        None,
                        format!(
                            "a {} header declares {size} bytes (at most {MAX_HEADER_BYTES} are \
                             read); the rest of the archive was not read",
                            if kind == EntryType::GNULongName {
                                "GNU long-name"
                            } else {
                                "PAX"
                            }
                        ),
                    );
                }
                let mut data = Vec::new();
                if let Err(e) = entry.read_to_end(&mut data) {
                    if self.spent(&shown) {
                        return;
                    }
                    return self.error(path, None, format!("broken .tar.gz header: {e}"));
                }
                match kind {
                    EntryType::GNULongName => {
                        while data.last() == Some(&0) {
                            data.pop();
                        }
                        long_name = Some(data);
                    }
                    EntryType::XHeader => long_name = pax_path(&data).or(long_name),
                    _ => {}
                }
                continue;
            }
            if kind == EntryType::GNULongLink {
                // The target of a link: links are not read, and the name is not needed.
                if entry.size() > MAX_HEADER_BYTES {
                    return self.error(
                        path,
                        None,
                        format!(
                            "a GNU long-link header declares {} bytes (at most \
                             {MAX_HEADER_BYTES} are read); the rest of the archive was not read",
                            entry.size()
                        ),
                    );
                }
                continue;
            }
            let name_bytes = long_name
                .take()
                .unwrap_or_else(|| entry.header().path_bytes().into_owned());
            let name = String::from_utf8_lossy(&name_bytes).into_owned();
            if name_bytes.len() > PATH_MAX {
                let start: String = name.chars().take(80).collect();
                self.error(
                    path,
                    None,
                    format!(
                        "entry {start}… skipped: its name is {} bytes, longer than PATH_MAX \
                         ({PATH_MAX})",
                        name_bytes.len()
                    ),
                );
                continue;
            }
            let display = format!("{}!{}", path.display(), name);
            if !kind.is_file() {
                self.report.files_skipped += 1;
                continue;
            }
            if is_tarball(Path::new(&name)) || is_nested_archive(&name) {
                self.error_at(
                    display,
                    None,
                    "an archive inside the bundle is not opened; extract it and pass it to \
                     --snapshot"
                        .into(),
                );
                continue;
            }
            if !wanted(Path::new(&name)) {
                self.report.files_skipped += 1;
                continue;
            }
            if entry.size() > MAX_FILE_BYTES {
                self.error_at(display, None, format!("larger than {MAX_FILE_BYTES} bytes"));
                continue;
            }
            let size = entry.size();
            let mut head = Vec::new();
            if let Err(e) = (&mut entry).take(SNIFF_BYTES).read_to_end(&mut head) {
                if self.spent(&display) {
                    return;
                }
                self.error_at(display, None, format!("broken .tar.gz entry: {e}"));
                continue;
            }
            if looks_like_json(&head) {
                // Held whole: if it is YAML flow style after all, it is parsed again.
                let mut bytes = head;
                bytes.reserve_exact(
                    usize::try_from(size)
                        .unwrap_or(0)
                        .saturating_sub(bytes.len()),
                );
                match entry.read_to_end(&mut bytes) {
                    Ok(_) => self.bytes(&display, &bytes),
                    Err(_) if self.spent(&display) => return,
                    Err(e) => self.error_at(display, None, format!("broken .tar.gz entry: {e}")),
                }
            } else {
                // Streamed from the archive into the parser, with a copy of what the fast
                // reader read kept until it is known whether serde-saphyr must read the entry
                // again: the copy costs at most the entry's size, within the read budget.
                let replay = Replay {
                    head,
                    entry: RefCell::new(&mut entry),
                    copy: RefCell::new(Vec::new()),
                    opened: Cell::new(0),
                    used: self.used.clone(),
                    limit: self.limits.max_total_bytes,
                };
                self.parse(&display, size, &|| replay.open());
            }
            if self.exhausted.is_some() {
                return;
            }
        }
        // The budget may run out while the archive skips an entry.
        self.spent(&shown);
    }
}
