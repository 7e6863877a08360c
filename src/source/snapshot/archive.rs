//! `.tar.gz` support bundles, read entry by entry with every header bounded.
//!
//! The `tar` crate reads GNU long-name and PAX headers whole, at the size they declare (a
//! 3 MB archive declaring a 3 GB long name took 6 GB), so those headers are read here, in raw
//! mode, up to [`MAX_HEADER_BYTES`]. Every decompressed byte, skipped entries included, counts
//! against the load's budget.
//!
//! An entry is read once, but the parser may read a file twice (JSON-looking text that is YAML
//! flow style, YAML the fast reader refuses): JSON-looking entries are held whole, YAML ones
//! stream with a copy of what was read kept for a second parse, up to [`REPLAY_COPY_BYTES`],
//! past which a refused entry is read again from the archive on disk ([`Replay`]), so an entry
//! loads as the same file on disk does, with the same objects and errors.

use super::{
    BUDGET_SPENT, Budgeted, Loader, MAX_FILE_BYTES, SNIFF_BYTES, Source, is_tarball,
    looks_like_json, wanted,
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

/// Most bytes of a YAML bundle entry kept in memory in case serde-saphyr must parse it again.
///
/// Entries the fast reader refuses are mostly small (pasted into a ticket, edited by hand,
/// flow style); within this many bytes they are parsed again from the copy, at no cost. Large
/// entries are exports, which the fast reader exists for and nearly always accepts: a copy of
/// each would add its size to the load's peak (a 100 MB export loads at ~126 MiB peak, see
/// docs/BENCHMARKS.md, and a bundle of 500 MB entries would peak ~500 MB higher). Past this
/// many bytes the copy is dropped, and an entry refused after all is read again from the
/// archive on disk. 8 MiB is a few percent of that peak, and a few times the largest hand-made
/// file of a bundle.
pub(super) const REPLAY_COPY_BYTES: usize = 8 * 1024 * 1024;

/// Where an entry is in its archive, to find it again when its copy was dropped.
struct Place<'p> {
    archive: &'p Path,
    /// The entry's tar header block, which must be the same when it is read again.
    header: [u8; 512],
    /// Offsets in the decompressed archive of the header block and of the entry's data.
    header_pos: u64,
    file_pos: u64,
    size: u64,
}

/// A YAML entry of the bundle, which the parser may open twice although a tar entry can be
/// read only once: YAML the fast reader refuses is parsed again from its start by serde-saphyr
/// (`Loader::parse`), whose answer, errors and line numbers included, must be the one the same
/// file on disk gets.
///
/// Both readers start with the head the loader read to tell JSON from YAML. The first then
/// keeps a copy of what it reads from the entry, up to `cap` bytes ([`REPLAY_COPY_BYTES`]);
/// the second reads that copy, then the rest of the entry. An entry that grows past `cap`
/// drops its copy, and if the fast reader refuses it after all, the second reader opens the
/// archive again, decompresses it up to the entry, checks that the entry is the one read
/// (header and head), and streams it whole ([`Replay::reopen`]).
///
/// Every byte counts against the load's budget as often as it is decompressed or replayed.
/// The parser gives the first attempt's bytes back, as a file on disk read twice costs its size
/// once; a replayed copy counts them again (without this a bundle of entries refused on their
/// last line would decompress without limit), and an entry read again from the archive counts
/// them, the archive up to the entry and the entry once more: a bundle of many entries refused
/// late costs what it decompresses, and fails with the budget error naming the entry.
struct Replay<'p, R> {
    /// The entry's first bytes, read (and counted) before the parser opened it.
    head: Vec<u8>,
    /// The rest of the entry.
    entry: RefCell<R>,
    /// What the first reader read from `entry`, taken by the second; `None` once it grew past
    /// `cap`.
    copy: RefCell<Option<Vec<u8>>>,
    /// Bytes the first reader read from `entry`.
    recorded: Cell<u64>,
    cap: usize,
    /// Largest capacity the copy had.
    peak: Cell<usize>,
    place: Place<'p>,
    /// Readers opened so far.
    opened: Cell<u8>,
    used: Rc<Cell<u64>>,
    limit: u64,
}

impl<R: Read> Replay<'_, R> {
    fn open(&self) -> std::io::Result<Source<'_>> {
        let opened = self.opened.get();
        self.opened.set(opened.saturating_add(1));
        match opened {
            0 => Ok(Box::new(self.head.as_slice().chain(Recording(self)))),
            1 => match self.copy.take() {
                Some(copy) => Ok(Box::new(
                    self.head
                        .as_slice()
                        .chain(Budgeted {
                            inner: std::io::Cursor::new(copy),
                            used: self.used.clone(),
                            limit: self.limit,
                        })
                        .chain(Rest(self)),
                )),
                None => self.reopen(),
            },
            // `Loader::parse` opens a file at most twice (fast reader or JSON, then
            // serde-saphyr); a third copy would have to be kept for nothing.
            _ => Err(std::io::Error::other(
                "a bundle entry is parsed at most twice (a bug in backupscope: please report it)",
            )),
        }
    }

    /// The entry read again from the archive on disk, all of whose bytes up to the entry's
    /// end are decompressed again and count against the budget.
    fn reopen(&self) -> std::io::Result<Source<'_>> {
        // Decompressed, given back by the parser, and replayed from no copy: they count here.
        self.used.set(self.used.get() + self.recorded.get());
        if self.used.get() > self.limit {
            return Err(std::io::Error::other(BUDGET_SPENT));
        }
        let place = &self.place;
        let mut archive = Budgeted {
            inner: flate2::read::GzDecoder::new(std::fs::File::open(place.archive)?),
            used: self.used.clone(),
            limit: self.limit,
        };
        let changed = || {
            std::io::Error::other(
                "the archive changed on disk while it was read: this entry could not be read \
                 again",
            )
        };
        let skipped = std::io::copy(
            &mut (&mut archive).take(place.header_pos),
            &mut std::io::sink(),
        )?;
        let mut header = [0; 512];
        if skipped < place.header_pos || archive.read_exact(&mut header).is_err() {
            // A spent budget is the error to report.
            if self.used.get() > self.limit {
                return Err(std::io::Error::other(BUDGET_SPENT));
            }
            return Err(changed());
        }
        if header != place.header {
            return Err(changed());
        }
        let gap = place.file_pos.saturating_sub(place.header_pos + 512);
        std::io::copy(&mut (&mut archive).take(gap), &mut std::io::sink())?;
        let mut entry = archive.take(place.size);
        let mut head = vec![0; self.head.len()];
        entry.read_exact(&mut head)?;
        if head != self.head {
            return Err(changed());
        }
        Ok(Box::new(self.head.as_slice().chain(entry)))
    }
}

/// The entry's bytes after the head, a copy kept of each until there are too many.
struct Recording<'r, 'p, R>(&'r Replay<'p, R>);

impl<R: Read> Read for Recording<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let replay = self.0;
        let n = replay.entry.borrow_mut().read(buf)?;
        replay.recorded.set(replay.recorded.get() + n as u64);
        let mut copy = replay.copy.borrow_mut();
        if let Some(kept) = copy.as_mut() {
            let len = kept.len() + n;
            if len > replay.cap {
                // Freed now: the entry is read again from the archive if it must be.
                *copy = None;
            } else {
                if len > kept.capacity() {
                    // Doubling, but never past the cap.
                    let grown = (2 * kept.capacity()).max(len).min(replay.cap);
                    kept.reserve_exact(grown - kept.len());
                }
                kept.extend_from_slice(&buf[..n]);
                replay.peak.set(replay.peak.get().max(kept.capacity()));
            }
        }
        Ok(n)
    }
}

/// The entry's bytes after those the first reader read.
struct Rest<'r, 'p, R>(&'r Replay<'p, R>);

impl<R: Read> Read for Rest<'_, '_, R> {
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
                // reader read kept (up to the cap) until it is known whether serde-saphyr must
                // read the entry again.
                let place = Place {
                    archive: path,
                    header: *entry.header().as_bytes(),
                    header_pos: entry.raw_header_position(),
                    file_pos: entry.raw_file_position(),
                    size,
                };
                let replay = Replay {
                    head,
                    entry: RefCell::new(&mut entry),
                    copy: RefCell::new(Some(Vec::new())),
                    recorded: Cell::new(0),
                    cap: self.replay_cap,
                    peak: Cell::new(0),
                    place,
                    opened: Cell::new(0),
                    used: self.used.clone(),
                    limit: self.limits.max_total_bytes,
                };
                self.parse(&display, size, &|| replay.open());
                debug_assert!(replay.peak.get() <= self.replay_cap);
                #[cfg(test)]
                {
                    self.copy_peak = self.copy_peak.max(replay.peak.get());
                }
            }
            if self.exhausted.is_some() {
                return;
            }
        }
        // The budget may run out while the archive skips an entry.
        self.spent(&shown);
    }
}
