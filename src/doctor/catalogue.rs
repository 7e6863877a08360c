//! Cause and fix of a failed task, from its reason class and message: the rows of the ACK
//! backup-center FAQ whose symptom is visible in cluster state (reference/ack-backup-center.md
//! §5, row numbers in the texts) and Velero's failure modes (reference/velero.md).

use crate::model::{Engine, ReasonClass};
use crate::report::doctor::FixStep;

pub struct Explanation {
    pub cause: String,
    pub steps: Vec<FixStep>,
}

fn step(text: &str, commands: &[&str]) -> FixStep {
    FixStep {
        text: text.to_string(),
        commands: commands.iter().map(|c| c.to_string()).collect(),
    }
}

fn explained(cause: &str, steps: Vec<FixStep>) -> Explanation {
    Explanation {
        cause: cause.to_string(),
        steps,
    }
}

/// Cause and fix for a failed backup or restore task. `message` is the controller's words.
pub fn explain(engine: Engine, class: ReasonClass, message: &str, restore: bool) -> Explanation {
    let m = message.to_lowercase();
    match (engine, class) {
        (Engine::Ack, _) if m.contains("deleterequests") && m.contains("already exists") => {
            explained(
                "A DeleteRequest left over from a failed or incorrect deletion holds the name \
                 (ACK FAQ #2).",
                vec![step(
                    "Delete the leftover DeleteRequest the message names, or use a new name.",
                    &["kubectl -n csdr get deleterequests"],
                )],
            )
        }
        (Engine::Ack, ReasonClass::Timeout) if m.contains("create cluster resources") => explained(
            "Temporary pods, PVCs or PVs never became ready: short resources, a missing \
             StorageClass, a disk type the zone does not offer, or Immediate binding in a \
             multi-zone cluster (ACK FAQ #8).",
            vec![step(
                "Describe the PVC the task's events name and fix its storage.",
                &["kubectl get pvc -A --field-selector status.phase=Pending"],
            )],
        ),
        (Engine::Ack, ReasonClass::Timeout) => explained(
            "The velero subtask ran longer than its timeout (60 minutes by default since \
             migrate-controller 1.7.7), or the bucket's storage class is Archive, Cold Archive or \
             Deep Cold Archive (ACK FAQ #20).",
            vec![
                step(
                    "If the task is legitimately large, raise velero_timeout_minutes in ConfigMap \
                     csdr-config and restart csdr-controller.",
                    &[
                        "kubectl -n csdr edit configmap csdr-config",
                        "kubectl -n csdr delete pod -l control-plane=csdr-controller",
                    ],
                ),
                step(
                    "Make sure the vault's bucket uses the Standard storage class.",
                    &[],
                ),
            ],
        ),
        (Engine::Velero, ReasonClass::Timeout) => explained(
            "An operation of the backup timed out (CSI snapshot, item operation or pod volume \
             backup).",
            vec![step(
                "Find the operation in the logs; raise the timeout that expired \
                 (--csi-snapshot-timeout or --item-operation-timeout on the backup or schedule, \
                 --fs-backup-timeout on the server) or fix what blocked it.",
                &[],
            )],
        ),
        (Engine::Ack, ReasonClass::HbrError) if m.contains("illegal request") => explained(
            "The region's ack-backup-data Cloud Backup vault was deleted; backups in it are lost \
             (ACK FAQ #12).",
            vec![step(
                "In every cluster of the region, delete the vaults so a new Cloud Backup vault is \
                 created, then back up again.",
                &[
                    "kubectl -n csdr delete backuplocation --all",
                    "kubectl -n csdr delete backupstoragelocation.velero.io --all",
                ],
            )],
        ),
        (Engine::Ack, ReasonClass::HbrError) if m.contains("clientnotexist") => explained(
            "The hbr-client pod on the node of the volume is abnormal (ACK FAQ #13).",
            vec![step(
                "Check the hbr-client pods (IP, CPU, memory) and their logs; \
                 MagpieBridgeSlrNotExist means Cloud Backup needs access to API Gateway.",
                &["kubectl -n csdr get pod -l app=hbr-client -o wide"],
            )],
        ),
        (Engine::Ack, ReasonClass::HbrError) if m.contains("source_not_exist") => explained(
            "The kubelet root directory is not /var/lib/kubelet, or the volume is HostPath \
             (ACK FAQ #22).",
            vec![step(
                "Set KUBELET_ROOT_PATH=<kubelet root>/pods on the csdr-controller Deployment.",
                &[
                    "kubectl -n csdr set env deployment/csdr-controller KUBELET_ROOT_PATH=<kubelet-root>/pods",
                ],
            )],
        ),
        (Engine::Ack, ReasonClass::HbrError) if m.contains("backup request failed") => explained(
            "An incompatible storage plug-in, a Block-mode volume, or an abnormal Cloud Backup \
             client (ACK FAQ #21).",
            vec![step(
                "Look up the job <backup-name>-hbr in the Cloud Backup console; back up Block \
                 volumes with CSI disk snapshots instead.",
                &[],
            )],
        ),
        (Engine::Ack, ReasonClass::HbrError) => explained(
            "Cloud Backup (HBR), which backs up the file-system volumes (NAS, OSS, HostPath), is \
             not activated or not authorised; in some regions it also needs API Gateway access \
             (ACK FAQ #11).",
            vec![step(
                "Activate Cloud Backup and authorise it (and for API Gateway where required); on \
                 dedicated and registered clusters grant the HBR RAM permissions. Then run the \
                 backup again.",
                &["kubectl -n csdr get pod -l app=hbr-client"],
            )],
        ),
        (_, ReasonClass::VaultError) => explained(
            "The vault was unavailable when the task ran: the bucket was missing, the cluster had \
             no permission on it, or it could not be reached (ACK FAQ #10).",
            vec![step(
                "Check that the vault is Available now, then run the task again.",
                &[],
            )],
        ),
        (Engine::Ack, ReasonClass::ComponentAbnormal) => explained(
            "The working components in csdr were abnormal when the task ran (ACK FAQ #9).",
            vec![step(
                "Check csdr-controller and csdr-velero, then run the task again.",
                &["kubectl -n csdr get pod"],
            )],
        ),
        (Engine::Ack, ReasonClass::NamespaceNotFound) => explained(
            "The plan's included or excluded namespaces no longer match any namespace (ACK FAQ \
             #19).",
            vec![step("Edit the backup plan's namespace selection.", &[])],
        ),
        (Engine::Ack, ReasonClass::AlreadyExists) => explained(
            "A backup of the same name is already in the bucket but not visible in this cluster \
             (ACK FAQ #18).",
            vec![step(
                "Create a backup vault with a new name and back up to it.",
                &[],
            )],
        ),
        (Engine::Ack, ReasonClass::StorageError) => explained(
            "OSS returned an error: KMS encryption without KMS permission, missing RAM read/write \
             permission, or a revoked AccessKey (ACK FAQ #23).",
            vec![step(
                "Grant the KMS actions (kms:List*, DescribeKey, GenerateDataKey, Decrypt) and the \
                 OSS RAM permissions; if the AccessKey was revoked, update Secret \
                 csdr/alibaba-addon-secret and restart migrate-controller.",
                &["kubectl -n kube-system delete pod -l app=migrate-controller"],
            )],
        ),
        (Engine::Velero, ReasonClass::StorageError) => explained(
            "The object store refused or failed a request while the task ran.",
            vec![step(
                "Check the location's credentials and reachability, then run the task again.",
                &[],
            )],
        ),
        (_, ReasonClass::SnapshotError) => explained(
            "Volume snapshots did not become ready: the snapshot service is not activated, the \
             CSI snapshotter is unhealthy, or snapshot permissions are missing (ACK FAQ #16).",
            vec![step(
                "Check the VolumeSnapshots of the task and the CSI provisioner.",
                &[
                    "kubectl get volumesnapshot -A",
                    "kubectl -n kube-system get pod -l app=csi-provisioner",
                ],
            )],
        ),
        (Engine::Ack, ReasonClass::RestoreError)
            if m.contains("cross region") && m.contains("snapshot") =>
        {
            explained(
                "Restoring disk snapshots across regions needs ECS snapshot permissions the cluster \
             lacks (ACK FAQ #31).",
                vec![step(
                    "Grant the ECS snapshot permissions (on dedicated clusters and clusters registered \
                 on ECS), then run the restore again.",
                    &[],
                )],
            )
        }
        (Engine::Ack, ReasonClass::RestoreError) if m.contains("only disk type") => explained(
            "Only disk volumes restore across regions (ACK FAQ #30).",
            vec![step(
                "Use a static OSS PV/PVC for the non-disk volumes.",
                &[],
            )],
        ),
        (Engine::Ack, ReasonClass::RestoreError) if m.contains("multi-node writing") => explained(
            "A ReadWriteMany/ReadOnlyMany volume is restored as a disk (ACK FAQ #29).",
            vec![step(
                "Upgrade migrate-controller to 1.8.4 or later, create a StorageClass of the same \
                 name, or set convertToAccessModes: [ReadWriteOnce].",
                &[],
            )],
        ),
        (Engine::Ack, ReasonClass::RestoreError) if m.contains("accessmode") => explained(
            "A disk PV with ReadOnlyMany/ReadWriteMany cannot be attached that way (ACK FAQ #32).",
            vec![step("Convert it to alibabacloud-cnfs-nas instead.", &[])],
        ),
        (_, ReasonClass::InternalError) => explained(
            "An unexpected exception in the component or the cloud service, e.g. a service missing \
             in the region (ACK FAQ #7).",
            vec![step(
                "Check in the Cloud Backup console that container backup is available in the \
                 region.",
                &[],
            )],
        ),
        (Engine::Ack, ReasonClass::PartialFailure) if m.contains("hbr") => explained(
            "Some volumes were not backed up by Cloud Backup: an unsupported plug-in, or files \
             changed or deleted during the backup (ACK FAQ #25).",
            vec![step(
                "Check the job <backup-name>-hbr in the Cloud Backup console.",
                &[],
            )],
        ),
        (_, ReasonClass::PartialFailure) => explained(
            if engine == Engine::Ack {
                "Velero failed on some resources or volumes (ACK FAQ #24)."
            } else {
                "Some items or volumes could not be processed; the task's errors list them."
            },
            vec![step(
                "Read the per-resource errors and warnings and fix them; the next run retries.",
                &[],
            )],
        ),
        (_, ReasonClass::ValidationError) => explained(
            "The controller rejected the task's spec before running it.",
            vec![step(
                "Correct what the validation errors name and create the task again.",
                &[],
            )],
        ),
        _ if restore => explained(
            "The controller left no reason the catalogue knows.",
            vec![step("Read the restore's errors and logs.", &[])],
        ),
        _ => explained(
            "The controller left no reason the catalogue knows.",
            vec![step("Read the task's errors and logs.", &[])],
        ),
    }
}
