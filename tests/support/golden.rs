//! The one golden comparer: what users read (CLI output, a full scrape, generated artefacts) is
//! compared with a committed file. `UPDATE_GOLDEN=1` rewrites the files instead; review the
//! diff before committing it.

use std::path::{Path, PathBuf};

/// A path inside the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Asserts that `actual` equals the committed file `relative` (to the repository root), naming
/// the first differing line; with `UPDATE_GOLDEN` set, writes `actual` there instead.
pub fn assert_matches(relative: &str, actual: &str) {
    let path = repo_path(relative);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create the golden's directory");
        }
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    if actual == want {
        return;
    }
    for (i, (a, b)) in actual.lines().zip(want.lines()).enumerate() {
        if a != b {
            panic!(
                "{relative} differs at line {} (UPDATE_GOLDEN=1 regenerates it):\n got: {a}\nwant: {b}",
                i + 1
            );
        }
    }
    panic!(
        "{relative} differs in length: got {} lines, want {} (UPDATE_GOLDEN=1 regenerates it)",
        actual.lines().count(),
        want.lines().count()
    );
}
