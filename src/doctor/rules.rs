//! The rule table: every rule's id (the `rule` label of `backupcenter_doctor_findings`), which
//! backup system it applies to, and the docs `doctor --explain RULE` prints.

/// A diagnosis rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    /// `ack`, `velero` or `both`.
    pub engines: &'static str,
    pub title: &'static str,
    /// What it looks at, when it fires, what it claims, and where the fix comes from.
    pub doc: &'static str,
}

macro_rules! rules {
    ($($id:literal, $engines:literal, $title:literal, $doc:literal;)+) => {
        /// Every rule, in the order `--explain` lists them.
        pub const RULES: &[Rule] = &[$(Rule { id: $id, engines: $engines, title: $title, doc: $doc },)+];
        /// The rule ids: the bounded values of the metric label `rule`.
        pub const RULE_IDS: &[&str] = &[$($id,)+];
    };
}

rules! {
    "vault-access-denied", "both", "Vault Unavailable: the object store refuses the credentials (403)",
    "Fires for a vault (ACK BackupLocation, Velero BackupStorageLocation) in phase Unavailable whose \
message (the vault's status.message, its velero twin's, or its newest Warning event) says 403, \
AccessDenied, Forbidden, InvalidAccessKeyId or SignatureDoesNotMatch. \"The bucket you access does \
not belong to you\" means the bucket name now belongs to another account (ACK FAQ #10): a vault \
cannot be modified, so it must be recreated under a new name with a bucket of your own. Otherwise \
the cluster lacks OSS/S3 permission (ACK: the AliyunCSManagedBackupRestoreRole token, RAM policy on \
dedicated and registered clusters; Velero: the credentials Secret the BSL names). Critical. The \
finding lists the tasks that failed on the vault with a vault, storage or validation error and \
the schedules that target it (with their RPO), and claims them.";

    "vault-no-such-bucket", "both", "Vault Unavailable: the bucket does not exist",
    "Fires for an Unavailable vault whose message says NoSuchBucket or that the bucket does not \
exist (ACK FAQ #10: bucket missing). Create the bucket under the same name in the vault's region, \
or (ACK) recreate the vault. Critical; claims the tasks and schedules like vault-access-denied.";

    "vault-internal-cross-region", "ack", "Vault Unavailable: internal OSS endpoint across regions",
    "Fires for an Unavailable ACK vault with spec.config.network `internal` whose region differs \
from the cluster's (read from ACK node names `<region>.<ip>`, else the image registry \
`registry-<region>-vpc`). The internal OSS endpoint only works in the bucket's own region (ACK \
docs: cross-region vaults must use `public`). The fix patches /spec/config of both the \
BackupLocation and its velero BackupStorageLocation to {\"network\":\"public\",\"region\":...}. \
Critical.";

    "vault-network", "both", "Vault Unavailable: the object store cannot be reached",
    "Fires for an Unavailable vault whose message shows a network failure (timeout, dial tcp, no \
such host, connection refused, network unreachable, context deadline exceeded). For an ACK vault \
on the `internal` network the fix is the same patch to `public` (ACK FAQ #10); for Velero, check \
the endpoint (s3Url) from inside the cluster. Critical.";

    "vault-invalid-layout", "velero", "Vault Unavailable: foreign top-level folders under the prefix",
    "Fires for an Unavailable vault whose message says \"Backup store contains invalid top-level \
directories\". Velero accepts only backups, restores, metadata, plugins, kopia and restic under \
its prefix; anything else makes the BSL Unavailable (velero objectBackupStore.IsValid). Move the \
listed folders away or point the BSL at a prefix of its own. Critical.";

    "vault-unavailable", "both", "Vault Unavailable for a reason the catalogue does not name",
    "Fires for an Unavailable vault whose message matches none of the classes above (or is empty). \
The fix is to read the controller's words: `kubectl describe` the vault (ACK monitoring doc: \
\"Troubleshoot the issue that the backup vault is in the abnormal state\"). Critical; claims the \
failed tasks and schedules like the other vault rules.";

    "vault-never-validated", "both", "Vault never validated",
    "Fires for a vault with no lastValidationTime that is not Unavailable and was created more than \
15 minutes ago: ACK checks vaults about every 5 minutes and Velero every minute by default, so \
the controller never got to it (not running, or it cannot read the vault's spec). A vault just \
created (InProgress for seconds) does not fire. Warning.";

    "vault-probe-failing", "both", "Vault not Unavailable in the cluster, but its bucket fails the probe",
    "Fires for a vault the cluster calls Available (or InProgress, or an unknown phase) whose \
bucket fails backupscope's own probe: serve's periodic probe (--probe-interval) or `doctor \
--probe`, listing at the prefix root as Velero's validation does, with the endpoint and \
credentials handed to backupscope (--vault-endpoint, --vault-root, --vault-credentials, the \
environment, spec.config). The probe's failure class (access_denied, no_such_bucket, network, \
timeout, tls, invalid_layout, other), provider error code and time are the evidence; the cause \
says what each class means and that backupscope's access may differ from the cluster's. \
invalid_layout is what Velero marks Unavailable at its next validation. Without a probe the rule \
says nothing. Every other vault finding shows the last probe as evidence too. Critical \
(the alert BackupCenterVaultProbeFailing is critical as well).";

    "backup-vault-missing", "both", "Backup tasks name a vault that does not exist",
    "Fires once per (namespace, vault name) that backup tasks name but no vault object has. Velero \
rejects such a backup with FailedValidation; completed backups of a deleted vault cannot be \
restored from this cluster. Lists the tasks, suggests the existing vault with the closest name, \
and claims the tasks. Critical when one of them failed, else Warning.";

    "backup-failed", "both", "Backup task Failed",
    "Fires for a backup task in Failed or FailedValidation that no root-cause rule explains. The \
reason class (VaultError, HBRError, Timeout, NamespaceNotFound, AlreadyExists, StorageError, \
SnapshotError, ComponentAbnormal, InternalError, ValidationError) and the message pick the ACK FAQ \
catalogue row (#2, #7-#13, #16, #18-#23) or the Velero failure mode, which give cause and fix. Evidence: the task's phase and \
completion, its message, its velero twin (ACK), its Warning events and failed PodVolumeBackups. \
Failed runs of one schedule with one reason class are one finding (the newest is its object). \
Critical; Warning when the schedule has succeeded since (the failure is history, its cause may \
recur).";

    "backup-partially-failed", "both", "Backup task PartiallyFailed",
    "Fires for a backup task in PartiallyFailed: some resources or volumes were not backed up \
(ACK FAQ #24 \"PROCESS velero partially completed\", #25 \"PROCESS hbr partially completed\"; \
Velero: errors > 0). Evidence: error and warning counts (ACK: from the velero twin), failed \
PodVolumeBackups. The fix reads the per-resource errors: `velero backup describe --details` and \
`velero backup logs`. Runs of one schedule group like backup-failed. Warning.";

    "restore-failed", "both", "Restore Failed",
    "Fires for a restore in Failed or FailedValidation that no root-cause rule explains; the \
catalogue rows for restores (cross-region snapshot permission #31, non-disk volumes across regions \
#30, access modes #29/#32, HBR) give cause and fix. Critical.";

    "restore-partially-failed", "both", "Restore PartiallyFailed",
    "Fires for a restore in PartiallyFailed: some items were not restored. The fix reads the errors \
(`velero restore describe --details`, `velero restore logs`). Warning.";

    "server-restarted", "both", "Tasks failed because the backup server restarted during them",
    "Fires for backups and restores Failed with \"found a backup/restore with status InProgress \
during the server starting\" (Velero markInProgressBackupsFailed; on ACK the velero twin of a \
task). Tasks marked at one restart are one finding; the restart's cause comes from the server \
pod (last termination OOMKilled with its exit code and time, restart count, memory limit, \
Unhealthy events) and the fix raises the memory limit from the current to a suggested value. \
Claims the tasks and the component's restarts. Critical.";

    "task-stuck", "both", "Backup or restore stuck past its bound",
    "Fires for a backup or restore that is not finished after a bound that fits it: ACK 2 h (twice \
the 60-minute velero subtask timeout after which csdr gives up); Velero 4 h for New, Queued, \
InProgress and WaitingForPluginOperations (the default item-operation and pod-volume timeouts), \
1 h for Finalizing. When a server component (csdr-velero, csdr-controller, velero) restarted \
after the task started, or the task's velero twin was marked Failed at a server start, the \
restart is evidence in the same finding (ACK FAQ #14: csdr-velero OOM leaves tasks InProgress) \
and its fix raises the memory limit; tasks stuck behind one restart are one finding, and so are \
Velero backups queued (New, Queued) behind a stuck running backup, past their own bound or not \
(Velero runs one at a time). On Velero the fix is diagnostic only (`velero backup describe \
--details`, the server log grepped for the task): another backup would queue behind it. An ACK task \
stuck while a Warning event says \"couldn't find key HBR_TOKEN\" is FAQ #15 (hbr-client has no \
token: Cloud Backup not activated or not authorised). Critical \
when a restart explains it, else Warning.";

    "schedule-missed-rpo", "both", "Schedule missed its RPO",
    "Fires for a schedule that is not paused and can run whose newest Completed backup is older \
than its own interval × 2 (the interval from its cron or `6h30m`/`@every` value), or that never \
produced a Completed backup though it exists for longer than that. Evidence: the last success, \
the newest run and the runs since. A schedule whose vault is Unavailable is reported in the vault \
finding instead. Critical.";

    "schedule-failed-validation", "both", "Schedule failed validation",
    "Fires for a schedule in FailedValidation, or whose cron the engine rejects (it never runs, so \
it has no RPO). Evidence: the validation errors or the cron problem. Fix: correct spec.schedule. \
Critical.";

    "schedule-paused", "both", "Schedule paused",
    "Fires for a paused schedule: it makes no backups. Unknown (a note) while its last good backup \
is within interval × 2, Warning once it is older. A paused schedule whose vault is Unavailable is \
reported in the vault finding instead.";

    "component-not-found", "both", "Working component not found",
    "Fires for a required component (ACK migrate-controller, csdr-controller, csdr-velero; Velero \
velero) with neither workload nor pods. ACK: migrate-controller deploys the csdr components after \
its precheck; when they are missing, look at migrate-controller first (monitoring doc: \"working \
component does not exist\"). Critical.";

    "component-unhealthy", "both", "Working component UnHealth",
    "Fires for a component whose ready pods are fewer than desired or whose containers wait in \
CrashLoopBackOff, ImagePullBackOff and the like, unless every unready pod is younger than 5 \
minutes (a rollout). Evidence: replicas, each pod's phase and waiting reason, Warning events. \
The pod cannot start: follow pod troubleshooting (ACK monitoring doc, FAQ #35). Critical.";

    "component-restarting", "both", "Working component Health but restarting",
    "Fires for a component whose containers restarted and last ended OOMKilled or with an error \
(ACK monitoring doc: Health with restarts > 0 is usually csdr-velero running out of memory during \
a backup). OOMKilled gives the memory-limit change (current limit, suggested double) and, on ACK, \
the alternative --disable-informer-cache=true (FAQ #14). A restart that ended `Unknown` or \
`Completed` (node reboot, sandbox change) is not a problem and does not fire. Restarts that \
server-restarted or task-stuck explain are reported there. Warning.";

    "component-leftover-workload", "both", "A second workload runs the same component",
    "Fires for each Deployment or DaemonSet beside the one meant to run a component in the same \
namespace (the one with desired and most ready pods leads; the node agent's node-agent and \
node-agent-windows DaemonSets of Velero 1.16+ belong together and do not fire): a `restic` \
DaemonSet the upgrade to Velero 1.10 should have deleted, or a Helm `<release>-velero` \
Deployment left beside chart 11's `velero`, where two servers reconcile the same backups. Both \
count in the component's pods ready and desired. The fix deletes the leftover once it is \
confirmed not to be the one the installer manages. Warning.";

    "ack-migrate-controller-crashloop", "ack", "migrate-controller crash-looping (precheck failed)",
    "Fires when a migrate-controller pod waits in CrashLoopBackOff or its container restarted \
with an error: the cluster failed migrate-controller's precheck, typically because it uses \
FlexVolume or is a registered cluster without the required permissions (monitoring doc, FAQ \
#34). Critical.";

    "ack-migrate-controller-too-old", "ack", "migrate-controller older than v1.7.10",
    "Fires when the migrate-controller image tag is a version below v1.7.10: the backup-center \
monitoring (Managed Service for Prometheus integration) needs v1.7.10 or later. A tag that is \
not a version says nothing. Warning.";

    "ack-kubernetes-too-old", "ack", "Kubernetes older than 1.20",
    "Fires on an ACK backup center when the cluster runs Kubernetes below 1.20: the latest \
migrate-controller cannot be installed there, so the monitoring cannot be used until the cluster \
is upgraded. The version is read from the live API server, or from a `kubectl version -o json` \
file in a snapshot; without it the rule says nothing. Warning.";
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_documented() {
        let mut ids: Vec<&str> = RULE_IDS.to_vec();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        for r in RULES {
            assert!(r.doc.len() > 80, "{}", r.id);
            assert!(["ack", "velero", "both"].contains(&r.engines), "{}", r.id);
        }
        assert_eq!(rule("task-stuck").map(|r| r.engines), Some("both"));
        assert!(rule("nope").is_none());
    }
}
