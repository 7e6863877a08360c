//! `.tar.gz` support bundles, read entry by entry with every header bounded.
//!
//! The `tar` crate reads GNU long-name and PAX headers whole, at the size they declare (a
//! 3 MB archive declaring a 3 GB long name took 6 GB), so those headers are read here, in raw
//! mode, up to [`MAX_HEADER_BYTES`]. Every decompressed byte, skipped entries included, counts
//! against the load's budget.

use super::{Loader, MAX_FILE_BYTES, SNIFF_BYTES, Source, is_tarball, looks_like_json, wanted};
use std::cell::RefCell;
use std::io::Read;
use std::path::Path;
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
                // Streamed from the archive into the parser: a 500 MB entry is never held.
                let source: RefCell<Option<Source>> =
                    RefCell::new(Some(Box::new(std::io::Cursor::new(head).chain(&mut entry))));
                self.parse(&display, size, &|| {
                    source
                        .borrow_mut()
                        .take()
                        .ok_or_else(|| std::io::Error::other("an archive entry is read once"))
                });
            }
            if self.exhausted.is_some() {
                return;
            }
        }
        // The budget may run out while the archive skips an entry.
        self.spent(&shown);
    }
}
