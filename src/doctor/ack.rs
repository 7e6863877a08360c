//! ACK-only rules: migrate-controller crash-looping (its precheck failed), and the version
//! prerequisites of the backup-center monitoring (migrate-controller v1.7.10+, Kubernetes 1.20+).

use super::components::{benign_end, pod_evidence};
use super::interrupted::component_ref;
use super::{Diagnosis, evidence};
use crate::center::{BackupCenter, Severity};
use crate::model::Engine;
use crate::report::doctor::{Finding, FixStep, ObjectRef};

const MIGRATE_CONTROLLER: &str = "migrate-controller";

/// The cluster's region, from ACK node names (`cn-hangzhou.10.0.3.8`) or, failing that, the
/// region in the ACK image registry (`registry-cn-hangzhou-vpc.ack.aliyuncs.com`).
pub fn cluster_region(c: &BackupCenter) -> Option<String> {
    let from_node = c.inventory.pods.values().find_map(|p| {
        let (region, ip) = p.node.split_once('.')?;
        let ip_like = ip.split('.').count() == 3 && ip.split('.').all(|o| o.parse::<u8>().is_ok());
        (ip_like && is_region(region)).then(|| region.to_string())
    });
    from_node.or_else(|| {
        c.inventory
            .deployments
            .values()
            .chain(c.inventory.daemonsets.values())
            .flat_map(|w| &w.containers)
            .find_map(|ctr| {
                let host = ctr.image.split('/').next()?;
                let rest = host.strip_prefix("registry-")?;
                let region = rest.split('.').next()?.trim_end_matches("-vpc");
                is_region(region).then(|| region.to_string())
            })
    })
}

/// `cn-hangzhou`, `ap-southeast-1`, `us-west-1`: two letters, a dash, then words and digits.
fn is_region(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or_default();
    let rest: Vec<&str> = parts.collect();
    first.len() == 2
        && first.chars().all(|c| c.is_ascii_lowercase())
        && !rest.is_empty()
        && rest.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// `v1.8.4-e3c7a0b-aliyun` → (1, 8, 4); `None` for a tag that is not a version.
pub fn version_triple(tag: &str) -> Option<(u64, u64, u64)> {
    let v = tag.trim().strip_prefix('v').unwrap_or(tag.trim());
    let mut nums = v.split(['.', '-', '+']).map(|p| p.parse::<u64>());
    let major = nums.next()?.ok()?;
    let minor = nums.next()?.ok()?;
    let patch = nums.next().and_then(Result::ok).unwrap_or(0);
    Some((major, minor, patch))
}

/// The tag of an image reference (`repo/name:tag`), ignoring registry ports.
fn image_tag(image: &str) -> Option<&str> {
    let last = image.rsplit('/').next()?;
    let without_digest = last.split('@').next()?;
    without_digest.split_once(':').map(|(_, tag)| tag)
}

pub fn migrate_controller(d: &mut Diagnosis) {
    let c = d.center;
    let Some(view) = c
        .components()
        .into_iter()
        .find(|v| v.spec.engine == Engine::Ack && v.spec.name == MIGRATE_CONTROLLER)
    else {
        return;
    };
    let crashing = view.pods.iter().flat_map(|p| &p.containers).any(|ctr| {
        ctr.waiting_reason == "CrashLoopBackOff"
            || (ctr.restarts > 0
                && ctr
                    .last_termination
                    .as_ref()
                    .is_some_and(|t| !benign_end(&t.reason) && t.reason != "OOMKilled"))
    });
    if !crashing {
        return;
    }
    let object = component_ref(&view);
    let mut ev = vec![evidence(
        view.workload().and_then(|w| w.created),
        &object,
        format!(
            "status {}: {}/{} pods ready, {} restarts",
            view.status,
            view.pods_ready(),
            view.pods_desired(),
            view.restarts()
        ),
    )];
    ev.extend(pod_evidence(d, &view));
    let finding = Finding {
        rule: "ack-migrate-controller-crashloop",
        severity: Severity::Critical,
        summary: "migrate-controller keeps restarting: the cluster failed its precheck".into(),
        evidence: ev,
        affected: vec![],
        cause: "migrate-controller runs a precheck of the cluster before it deploys csdr-controller \
                and csdr-velero; it crash-loops when the cluster uses FlexVolume or is a registered \
                cluster without the required permissions (ACK FAQ #34)."
            .into(),
        fix: vec![
            FixStep {
                text: "Read what the precheck says.".into(),
                commands: vec![
                    "kubectl -n kube-system get pod -l app=migrate-controller".into(),
                    "kubectl -n kube-system logs deploy/migrate-controller --previous".into(),
                ],
            },
            FixStep {
                text: "Migrate FlexVolume volumes to CSI; on a registered cluster grant the \
                       permissions the backup center needs."
                    .into(),
                commands: vec![],
            },
        ],
        object,
    };
    d.push(finding);
}

pub fn versions(d: &mut Diagnosis) {
    let c = d.center;
    if !c.engines().contains(&Engine::Ack) {
        return;
    }
    let mut found = Vec::new();
    if let Some(view) = c
        .components()
        .into_iter()
        .find(|v| v.spec.name == MIGRATE_CONTROLLER && v.spec.engine == Engine::Ack)
    {
        let image = view
            .workload()
            .and_then(|w| {
                w.containers
                    .iter()
                    .find(|ctr| ctr.name == MIGRATE_CONTROLLER)
                    .or(w.containers.first())
            })
            .map(|ctr| ctr.image.clone());
        if let Some((image, (ma, mi, pa))) = image
            .as_deref()
            .and_then(|i| Some((i, version_triple(image_tag(i)?)?)))
            && (ma, mi, pa) < (1, 7, 10)
        {
            let object = component_ref(&view);
            found.push(Finding {
                    rule: "ack-migrate-controller-too-old",
                    severity: Severity::Warning,
                    summary: format!(
                        "migrate-controller is v{ma}.{mi}.{pa}; the backup-center monitoring needs v1.7.10 or later"
                    ),
                    evidence: vec![evidence(None, &object, format!("image {image}"))],
                    affected: vec![],
                    cause: "The Managed Service for Prometheus integration of the backup center \
                            needs migrate-controller v1.7.10 or later."
                        .into(),
                    fix: vec![FixStep {
                        text: "Upgrade migrate-controller in the console (Operations > Add-ons)."
                            .into(),
                        commands: vec![],
                    }],
                    object,
                });
        }
    }
    if let Some(version) = &d.facts.kubernetes_version
        && let Some((ma, mi, _)) = version_triple(version)
        && (ma, mi) < (1, 20)
    {
        let object = ObjectRef::new("", "Cluster", "kubernetes");
        found.push(Finding {
                    rule: "ack-kubernetes-too-old",
                    severity: Severity::Warning,
                    summary: format!(
                        "Kubernetes {version} is older than 1.20: the latest migrate-controller cannot be installed"
                    ),
                    evidence: vec![evidence(None, &object, format!("server version {version}"))],
                    affected: vec![],
                    cause: "The latest migrate-controller, which the backup-center monitoring \
                            needs, cannot be installed on Kubernetes earlier than 1.20."
                        .into(),
                    fix: vec![FixStep {
                        text: "Upgrade the cluster's Kubernetes version (Manually update a cluster), \
                               then migrate-controller."
                            .into(),
                        commands: vec!["kubectl version -o json".into()],
                    }],
                    object,
                });
    }
    d.extend(found);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_tags() {
        assert_eq!(version_triple("v1.8.4-e3c7a0b-aliyun"), Some((1, 8, 4)));
        assert_eq!(version_triple("v1.33.3-aliyun.1"), Some((1, 33, 3)));
        assert_eq!(version_triple("1.7"), Some((1, 7, 0)));
        assert_eq!(version_triple("latest"), None);
        assert_eq!(
            image_tag("registry-cn-hangzhou-vpc.ack.aliyuncs.com/acs/migrate-controller:v1.7.9"),
            Some("v1.7.9")
        );
        assert_eq!(image_tag("localhost:5000/acs/migrate-controller"), None);
    }

    #[test]
    fn regions() {
        assert!(is_region("cn-hangzhou"));
        assert!(is_region("ap-southeast-1"));
        assert!(!is_region("k8s-worker"));
        assert!(!is_region("node"));
    }
}
