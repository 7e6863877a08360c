//! The probe: what Velero's own validation does (`IsValid`: one delimited list at the prefix
//! root, every top-level folder must be one Velero knows), bounded by a timeout, and
//! optionally a canary object written, read back and deleted (`--probe-write`).

use super::classify::{Failure, ProbeReason, classify, clip};
use super::client::{VaultKey, VaultStore};
use crate::model::Timestamp;
use bytes::Bytes;
use object_store::{ObjectStoreExt, PutPayload};
use serde::Serialize;
use std::time::{Duration, Instant};

/// The top-level folders Velero accepts under a vault's prefix
/// (`pkg/persistence/object_store_layout.go`); any other makes it mark the vault Unavailable.
pub const VALID_TOP_LEVEL: &[&str] = &[
    "backups", "restores", "restic", "kopia", "metadata", "plugins",
];

/// Velero shows at most this many invalid folders in its message; so do we.
const SHOWN_INVALID: usize = 3;

/// The last probe of one vault.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeResult {
    pub namespace: String,
    pub backup_location: String,
    /// Where the probe looked (`s3://bucket/prefix (endpoint)`), never a credential.
    pub location: String,
    pub success: bool,
    /// Why it failed; `None` on success.
    pub reason: Option<ProbeReason>,
    /// The provider's error code, when it sent one.
    pub code: String,
    pub message: String,
    pub duration_seconds: f64,
    pub at: Timestamp,
    /// The top-level folders found under the prefix.
    pub folders: Vec<String>,
    /// Those Velero does not allow.
    pub invalid_folders: Vec<String>,
    /// The canary put/get/delete, when `--probe-write` asked for it.
    pub write: Option<WriteCheck>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteCheck {
    pub ok: bool,
    /// `put`, `get`, `compare` or `delete`: the step that failed.
    pub failed_step: Option<&'static str>,
    pub message: String,
}

impl ProbeResult {
    /// A vault that could not even be opened (unsupported provider, bad region, unreadable
    /// credentials file): nothing was sent.
    pub fn not_opened(key: &VaultKey, error: &super::client::OpenError) -> Self {
        ProbeResult {
            namespace: key.namespace.clone(),
            backup_location: key.name.clone(),
            location: String::new(),
            success: false,
            reason: Some(error.reason()),
            code: String::new(),
            message: clip(&error.to_string()),
            duration_seconds: 0.0,
            at: Timestamp::now(),
            folders: Vec::new(),
            invalid_folders: Vec::new(),
            write: None,
        }
    }
}

/// Probes one vault; never takes longer than `timeout` (plus the time to notice it).
pub async fn probe(
    key: &VaultKey,
    store: &VaultStore,
    timeout: Duration,
    write: bool,
) -> ProbeResult {
    let started = Instant::now();
    let at = Timestamp::now();
    let mut result = ProbeResult {
        namespace: key.namespace.clone(),
        backup_location: key.name.clone(),
        location: store.location.clone(),
        success: false,
        reason: None,
        code: String::new(),
        message: String::new(),
        duration_seconds: 0.0,
        at,
        folders: Vec::new(),
        invalid_folders: Vec::new(),
        write: None,
    };
    let work = async {
        let listed = store
            .store
            .list_with_delimiter(Some(&store.prefix))
            .await
            .map_err(|e| classify(&e))?;
        let folders: Vec<String> = listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_string))
            .collect();
        let check = if write {
            Some(canary(store).await)
        } else {
            None
        };
        Ok::<_, Failure>((folders, check))
    };
    match tokio::time::timeout(timeout, work).await {
        Err(_) => {
            result.reason = Some(ProbeReason::Timeout);
            result.message = format!("no answer within {}s", timeout.as_secs_f64());
        }
        Ok(Err(f)) => {
            result.reason = Some(f.reason);
            result.code = f.code;
            result.message = f.message;
        }
        Ok(Ok((folders, check))) => {
            let invalid: Vec<String> = folders
                .iter()
                .filter(|f| !VALID_TOP_LEVEL.contains(&f.as_str()))
                .cloned()
                .collect();
            result.folders = folders;
            if !invalid.is_empty() {
                result.reason = Some(ProbeReason::InvalidLayout);
                let shown: Vec<&str> = invalid
                    .iter()
                    .take(SHOWN_INVALID)
                    .map(String::as_str)
                    .collect();
                result.message = format!(
                    "the prefix holds top-level folders Velero does not allow: {}; Velero marks the vault Unavailable until they are moved",
                    shown.join(", ")
                );
            } else if let Some(c) = check.as_ref().filter(|c| !c.ok) {
                result.reason = Some(ProbeReason::AccessDenied);
                result.message = format!("canary write failed: {}", c.message);
            }
            result.invalid_folders = invalid;
            result.success = result.reason.is_none();
            result.write = check;
        }
    }
    result.duration_seconds = started.elapsed().as_secs_f64();
    result
}

/// Writes a canary under `metadata/` (a folder Velero allows and no longer uses, so the vault
/// never shows an invalid folder, even for a moment), reads it back and deletes it.
async fn canary(store: &VaultStore) -> WriteCheck {
    let name = format!("backupscope-canary-{}", Timestamp::now().as_millisecond());
    let path = store.path(&["metadata", &name]);
    let body = Bytes::from(format!("backupscope probe {name}\n"));
    let fail = |step, e: &object_store::Error| WriteCheck {
        ok: false,
        failed_step: Some(step),
        message: classify(e).message,
    };
    if let Err(e) = store.store.put(&path, PutPayload::from(body.clone())).await {
        return fail("put", &e);
    }
    let read = match store.store.get(&path).await {
        Ok(r) => r.bytes().await,
        Err(e) => Err(e),
    };
    let compare = match read {
        Ok(got) if got == body => None,
        Ok(_) => Some("the object read back differs from the one written"),
        Err(e) => {
            let _ = store.store.delete(&path).await;
            return fail("get", &e);
        }
    };
    if let Err(e) = store.store.delete(&path).await {
        return fail("delete", &e);
    }
    match compare {
        Some(m) => WriteCheck {
            ok: false,
            failed_step: Some("compare"),
            message: m.to_string(),
        },
        None => WriteCheck {
            ok: true,
            failed_step: None,
            message: String::new(),
        },
    }
}
