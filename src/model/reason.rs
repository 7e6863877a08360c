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
    // Go's context timeout, as gRPC plugins and the object-store clients report it.
    ("context deadline exceeded", ReasonClass::Timeout),
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
    // The object store refused the vault's credentials or bucket (S3, OSS, MinIO, GCS): the
    // vault is unusable, not one request. After ACK's own OSS rows, which have their own fix
    // (FAQ #23), and before `snapshot`, which Velero's object keys contain
    // (`<backup>-volumesnapshots.json.gz`). A bare "forbidden" is left out: it is also how the
    // Kubernetes API refuses the server's service account.
    ("accessdenied", ReasonClass::VaultError),
    ("access denied", ReasonClass::VaultError),
    ("status code: 403", ReasonClass::VaultError),
    ("statuscode=403", ReasonClass::VaultError),
    ("error 403", ReasonClass::VaultError),
    ("403 forbidden", ReasonClass::VaultError),
    ("invalidaccesskeyid", ReasonClass::VaultError),
    ("signaturedoesnotmatch", ReasonClass::VaultError),
    ("nosuchbucket", ReasonClass::VaultError),
    ("bucket does not exist", ReasonClass::VaultError),
    // The object store's endpoint cannot be reached (wrong s3Url, DNS, a proxy or firewall).
    ("no such host", ReasonClass::VaultError),
    ("connection refused", ReasonClass::VaultError),
    // Any other failed read or write of an object (Velero's persistence layer wraps them so).
    ("error putting object", ReasonClass::StorageError),
    ("error getting object", ReasonClass::StorageError),
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
            // Velero's object-store failures (failureReason), as OADP and upstream reports show.
            (
                "rpc error: code = Unknown desc = error putting object backups/web-backup/velero-backup.json: \
                 AccessDenied: Access Denied\r\n\tstatus code: 403, request id: 16B4, host id: x=",
                ReasonClass::VaultError,
            ),
            (
                "error putting object backups/b/b-logs.gz: Forbidden: Forbidden\n\tstatus code: 403",
                ReasonClass::VaultError,
            ),
            (
                "googleapi: Error 403: velero@p.iam.gserviceaccount.com does not have \
                 storage.objects.create access, forbidden",
                ReasonClass::VaultError,
            ),
            (
                "error getting object backups/b/velero-backup.json: NoSuchBucket: The specified \
                 bucket does not exist",
                ReasonClass::VaultError,
            ),
            (
                "error putting object backups/b/b.tar.gz: InvalidAccessKeyId: The Access Key Id \
                 you provided does not exist in our records.",
                ReasonClass::VaultError,
            ),
            (
                "error putting object backups/b/b.tar.gz: SignatureDoesNotMatch: The request \
                 signature we calculated does not match the signature you provided.",
                ReasonClass::VaultError,
            ),
            (
                "error putting object backups/b/b.tar.gz: RequestError: send request failed \
                 caused by: Put \"https://minio:9000/b\": dial tcp: lookup minio on 10.96.0.10:53: \
                 no such host",
                ReasonClass::VaultError,
            ),
            (
                "error putting object backups/b/b.tar.gz: dial tcp 10.0.0.7:9000: connect: \
                 connection refused",
                ReasonClass::VaultError,
            ),
            (
                "error putting object backups/b/b-volumesnapshots.json.gz: XMinioStorageFull: \
                 Storage backend has reached its minimum free drive threshold.",
                ReasonClass::StorageError,
            ),
            (
                "error getting object backups/b/b.tar.gz: InternalError: We encountered an \
                 internal error.",
                ReasonClass::StorageError,
            ),
            (
                "rpc error: code = DeadlineExceeded desc = context deadline exceeded",
                ReasonClass::Timeout,
            ),
            (
                "error putting object backups/b/b.tar.gz: dial tcp 10.0.0.7:9000: i/o timeout",
                ReasonClass::Timeout,
            ),
            // The Kubernetes API refusing the server is not the vault's fault.
            (
                "backups.velero.io \"b\" is forbidden: User \"system:serviceaccount:velero:velero\" \
                 cannot patch resource",
                ReasonClass::Unknown,
            ),
            // ACK's own OSS rows keep their class (FAQ #23 has the fix).
            (
                "upload backup files to OSS bucket failed: StatusCode=403, ErrorCode=AccessDenied",
                ReasonClass::StorageError,
            ),
            ("", ReasonClass::Unknown),
            ("MadeUpError: x", ReasonClass::Unknown),
        ];
        for (msg, want) in cases {
            assert_eq!(ReasonClass::classify(msg), want, "{msg}");
        }
    }
}
