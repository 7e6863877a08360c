//! `backupscope snapshot --out DIR`: exports what backupscope reads from a live cluster as
//! `kubectl get -o yaml` files, a support bundle that `--snapshot DIR` reads back.
//! Secrets are never read, so they can never be exported.

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
        let file = format!("{}-{}{}.yaml", t.namespace, t.resource.plural, group);
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
        let path = out.join(file);
        std::fs::write(&path, serde_norway::to_string(&list)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    }
    Ok((per_file.len(), count))
}
