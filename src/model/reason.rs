//! The failure reason class of a task: a bounded label (`reason`) derived from the free-text
//! message a controller left (ACK status message or Warning event, Velero `failureReason` or
//! `validationErrors`). The message itself never becomes a label; `describe`/`doctor` show it.

phase_enum! {
    /// Why a task failed, grouped the way the fixes are grouped (ACK FAQ catalogue, Velero's
    /// failure modes).
    ReasonClass {
        VaultError => "VaultError",
        HbrError => "HBRError",
        RestoreError => "RestoreError",
        Timeout => "Timeout",
        ComponentAbnormal => "ComponentAbnormal",
        ServerRestarted => "ServerRestarted",
        ValidationError => "ValidationError",
        NamespaceNotFound => "NamespaceNotFound",
        AlreadyExists => "AlreadyExists",
        StorageError => "StorageError",
        SnapshotError => "SnapshotError",
        PartialFailure => "PartialFailure",
        InternalError => "InternalError",
    }
}

/// Substrings (lower case) that identify a class when the message has no `XxxError:` prefix,
/// most specific first. Sources: ACK FAQ error catalogue, Velero server code paths.
const CATALOGUE: &[(&str, ReasonClass)] = &[
    ("during the server starting", ReasonClass::ServerRestarted),
    ("backup vault is unavailable", ReasonClass::VaultError),
    ("backupstoragelocation", ReasonClass::VaultError),
    ("backup storage location", ReasonClass::VaultError),
    ("timeout", ReasonClass::Timeout),
    ("timed out", ReasonClass::Timeout),
    ("addon status is abnormal", ReasonClass::ComponentAbnormal),
    (
        "get target namespace failed",
        ReasonClass::NamespaceNotFound,
    ),
    ("already exists in oss bucket", ReasonClass::AlreadyExists),
    ("files in oss bucket failed", ReasonClass::StorageError),
    ("files to oss bucket failed", ReasonClass::StorageError),
    ("files from oss bucket failed", ReasonClass::StorageError),
    ("object storage", ReasonClass::StorageError),
    ("hbr", ReasonClass::HbrError),
    ("snapshot", ReasonClass::SnapshotError),
    ("partially completed", ReasonClass::PartialFailure),
    ("internal error", ReasonClass::InternalError),
];

impl ReasonClass {
    /// Classifies a failure message; `Unknown` when nothing matches (and for an empty message).
    pub fn classify(message: &str) -> ReasonClass {
        let message = message.trim();
        if message.is_empty() {
            return ReasonClass::Unknown;
        }
        // ACK writes `<Class>: <detail>`; a known class wins over any substring.
        if let Some((prefix, _)) = message.split_once(':') {
            let class = ReasonClass::parse(prefix.trim());
            if class != ReasonClass::Unknown {
                return class;
            }
        }
        let lower = message.to_lowercase();
        CATALOGUE
            .iter()
            .find(|(needle, _)| lower.contains(needle))
            .map(|(_, class)| *class)
            .unwrap_or(ReasonClass::Unknown)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_prefixes_win() {
        let vault = "VaultError: backup vault is unavailable: oss: service returned error: \
                     StatusCode=403, ErrorCode=AccessDenied";
        assert_eq!(ReasonClass::classify(vault), ReasonClass::VaultError);
        assert_eq!(
            ReasonClass::classify("HBRError: check HBR vault error"),
            ReasonClass::HbrError
        );
        assert_eq!(
            ReasonClass::classify("RestoreError: snapshot cross region request failed"),
            ReasonClass::RestoreError
        );
    }

    #[test]
    fn catalogue_substrings() {
        let cases = [
            ("velero backup process timeout", ReasonClass::Timeout),
            (
                r#"found a backup with status "InProgress" during the server starting, mark it as "Failed""#,
                ReasonClass::ServerRestarted,
            ),
            (
                "PROCESS velero partially completed",
                ReasonClass::PartialFailure,
            ),
            (
                "get target namespace failed",
                ReasonClass::NamespaceNotFound,
            ),
            (
                "upload backup files to OSS bucket failed",
                ReasonClass::StorageError,
            ),
            (
                "hbr task finished with unexpected status: FAILED, errMsg ClientNotExist",
                ReasonClass::HbrError,
            ),
            ("something nobody wrote down", ReasonClass::Unknown),
            ("", ReasonClass::Unknown),
            ("MadeUpError: x", ReasonClass::Unknown),
        ];
        for (msg, want) in cases {
            assert_eq!(ReasonClass::classify(msg), want, "{msg}");
        }
    }
}
