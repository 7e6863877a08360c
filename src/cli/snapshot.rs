//! `backupscope snapshot --out DIR`: exports what backupscope reads from a live cluster as
//! `kubectl get -o yaml` files, a support bundle that `--snapshot DIR` reads back.
//! Secrets are never read, so they can never be exported.
//!
//! The directory may be shared or prepared by someone else: a file name never leaves it
//! (names are made of safe characters only) and a symlink planted at a file's path is replaced,
//! never followed (each file is written new beside it, then renamed over it).

use crate::source::kube::Target;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;

/// Writes one `<namespace>-<resource>.yaml` List per target; returns (files, objects).
pub fn write(
    out: &Path,
    targets: &[Target],
    objects: Vec<(usize, Value)>,
) -> anyhow::Result<(usize, usize)> {
    std::fs::create_dir_all(out)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", out.display()))?;
    let mut per_file: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut count = 0;
    for (i, obj) in objects {
        if obj.get("kind").and_then(Value::as_str) == Some("Secret") {
            continue;
        }
        let Some(t) = targets.get(i) else { continue };
        let group = if t.resource.group.is_empty() {
            String::new()
        } else {
            format!(".{}", t.resource.group)
        };
        let file = safe_file_name(&format!(
            "{}-{}{}.yaml",
            t.namespace, t.resource.plural, group
        ));
        per_file.entry(file).or_default().push(obj);
        count += 1;
    }
    for (file, mut items) in per_file.iter_mut().map(|(f, i)| (f, std::mem::take(i))) {
        items.sort_by_key(|o| {
            o.pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        });
        // The same wrapper kubectl prints for `get -o yaml` of several objects.
        let list = json!({"apiVersion": "v1", "items": items, "kind": "List",
                          "metadata": {"resourceVersion": ""}});
        write_new(out, file, serde_norway::to_string(&list)?.as_bytes())?;
    }
    Ok((per_file.len(), count))
}

/// Keeps letters, digits, `.`, `-` and `_`; anything else (`/`, `\\`, control characters)
/// becomes `_`, and a leading `.` too, so the name stays one plain entry of the directory.
fn safe_file_name(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| match c {
            '.' if i == 0 => '_',
            c if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') => c,
            _ => '_',
        })
        .collect()
}

/// Writes `dir/name` without following a link at that path: the content goes to a new file
/// (created exclusively, so not through a link either), which then replaces the entry.
fn write_new(dir: &Path, name: &str, content: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let path = dir.join(name);
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp)
        .and_then(|mut f| f.write_all(content).and_then(|()| f.sync_all()))
        .and_then(|()| std::fs::rename(&temp, &path));
    written.map_err(|e| {
        // Only a file this call created is removed; an existing entry at `temp` is not ours.
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            let _ = std::fs::remove_file(&temp);
        }
        anyhow::anyhow!("cannot write {}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_stay_inside_the_directory() {
        assert_eq!(
            safe_file_name("csdr-applicationbackups.csdr.alibabacloud.com.yaml"),
            "csdr-applicationbackups.csdr.alibabacloud.com.yaml"
        );
        assert_eq!(safe_file_name("../x-backups.yaml"), "_._x-backups.yaml");
        assert_eq!(safe_file_name("a/b\\c\u{1b}[2J.yaml"), "a_b_c__2J.yaml");
    }
}
