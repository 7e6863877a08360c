//! Resource types the server serves, and the registry that maps URLs and
//! `apiVersion`/`kind` pairs onto them.

use std::cmp::Ordering;

/// One served resource, as discovery describes it.
///
/// ```
/// use testapiserver::ResourceType;
/// let rt = ResourceType::new(
///     "csdr.alibabacloud.com", "v1beta1", "ApplicationBackup", "applicationbackups", true,
/// );
/// assert_eq!(rt.api_version(), "csdr.alibabacloud.com/v1beta1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// API group, `""` for the core group (served under `/api`).
    pub group: String,
    /// API version inside the group, e.g. `v1`.
    pub version: String,
    /// Kind of a single object, e.g. `Pod`.
    pub kind: String,
    /// Plural resource name used in URLs, e.g. `pods`.
    pub plural: String,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
}

impl ResourceType {
    /// Describes a resource; `group` is `""` for the core group.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        kind: impl Into<String>,
        plural: impl Into<String>,
        namespaced: bool,
    ) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: plural.into(),
            namespaced,
        }
    }

    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Built-in types are served from typed Go structs by the real apiserver, which omits
    /// `apiVersion`/`kind` from list items; custom resources keep them. Clients that rely on
    /// list items carrying their type must be caught here, not on a real cluster.
    pub(crate) fn is_builtin(&self) -> bool {
        self.group.is_empty() || !self.group.contains('.') || self.group.ends_with(".k8s.io")
    }

    /// Whether the real apiserver keeps `metadata.generation` for this type. Custom resources
    /// and the workload controllers' types (apps, batch) get one; the core types and the
    /// events and coordination groups do not: `kubectl get pods -o yaml` on a 1.33 cluster
    /// prints no generation (pods get one only with the PodObservedGenerationTracking feature,
    /// alpha in 1.33).
    pub(crate) fn has_generation(&self) -> bool {
        !(self.group.is_empty()
            || self.group == "events.k8s.io"
            || self.group == "coordination.k8s.io")
    }

    pub(crate) fn singular(&self) -> String {
        self.kind.to_ascii_lowercase()
    }
}

/// The resources a fresh server registers.
pub(crate) fn builtins() -> Vec<ResourceType> {
    vec![
        ResourceType::new("", "v1", "Pod", "pods", true),
        ResourceType::new("", "v1", "Event", "events", true),
        ResourceType::new("", "v1", "Namespace", "namespaces", false),
        ResourceType::new("", "v1", "Secret", "secrets", true),
        ResourceType::new("", "v1", "ConfigMap", "configmaps", true),
        ResourceType::new("apps", "v1", "Deployment", "deployments", true),
        ResourceType::new("apps", "v1", "DaemonSet", "daemonsets", true),
        ResourceType::new("coordination.k8s.io", "v1", "Lease", "leases", true),
        ResourceType::new("events.k8s.io", "v1", "Event", "events", true),
    ]
}

/// Splits `group/version` (or a bare core `version`) into its parts.
pub(crate) fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.split_once('/') {
        Some((group, version)) => (group, version),
        None => ("", api_version),
    }
}

/// Registered resources; an index into `types` identifies a resource for the store.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    types: Vec<ResourceType>,
}

impl Registry {
    /// Adds `rt`, or replaces the entry with the same group/version/plural. Returns its index.
    pub(crate) fn register(&mut self, rt: ResourceType) -> (usize, bool) {
        let existing = self
            .types
            .iter()
            .position(|t| t.group == rt.group && t.version == rt.version && t.plural == rt.plural);
        match existing {
            Some(idx) => {
                self.types[idx] = rt;
                (idx, false)
            }
            None => {
                self.types.push(rt);
                (self.types.len() - 1, true)
            }
        }
    }

    pub(crate) fn get(&self, idx: usize) -> Option<&ResourceType> {
        self.types.get(idx)
    }

    pub(crate) fn by_plural(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        self.types
            .iter()
            .position(|t| t.group == group && t.version == version && t.plural == plural)
    }

    pub(crate) fn by_kind(&self, api_version: &str, kind: &str) -> Option<usize> {
        let (group, version) = split_api_version(api_version);
        self.types
            .iter()
            .position(|t| t.group == group && t.version == version && t.kind == kind)
    }

    /// Whether any resource is served under `group/version`.
    pub(crate) fn serves(&self, group: &str, version: &str) -> bool {
        self.types
            .iter()
            .any(|t| t.group == group && t.version == version)
    }

    /// Non-core groups in registration order, each with its versions, preferred first.
    pub(crate) fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for t in self.types.iter().filter(|t| !t.group.is_empty()) {
            match groups.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) => {
                    if !versions.contains(&t.version) {
                        versions.push(t.version.clone());
                    }
                }
                None => groups.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        for (_, versions) in &mut groups {
            versions.sort_by(|a, b| compare_versions(a, b));
        }
        groups
    }

    /// Versions of the core group, preferred first.
    pub(crate) fn core_versions(&self) -> Vec<String> {
        let mut versions: Vec<String> = Vec::new();
        for t in self.types.iter().filter(|t| t.group.is_empty()) {
            if !versions.contains(&t.version) {
                versions.push(t.version.clone());
            }
        }
        versions.sort_by(|a, b| compare_versions(a, b));
        versions
    }

    /// Resources of one group/version.
    pub(crate) fn in_group_version(&self, group: &str, version: &str) -> Vec<&ResourceType> {
        self.types
            .iter()
            .filter(|t| t.group == group && t.version == version)
            .collect()
    }
}

/// Kubernetes version priority: GA before beta before alpha, higher numbers first, then
/// anything that does not look like a Kubernetes version, alphabetically.
pub(crate) fn compare_versions(a: &str, b: &str) -> Ordering {
    version_rank(b).cmp(&version_rank(a)).then_with(|| a.cmp(b))
}

fn version_rank(v: &str) -> (u8, u64, u64) {
    let Some(rest) = v.strip_prefix('v') else {
        return (0, 0, 0);
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let Ok(major) = digits.parse::<u64>() else {
        return (0, 0, 0);
    };
    let suffix = &rest[digits.len()..];
    if suffix.is_empty() {
        return (3, major, 0);
    }
    let (stage, minor) = if let Some(n) = suffix.strip_prefix("beta") {
        (2, n)
    } else if let Some(n) = suffix.strip_prefix("alpha") {
        (1, n)
    } else {
        return (0, 0, 0);
    };
    match minor.parse::<u64>() {
        Ok(minor) => (stage, major, minor),
        Err(_) => (0, 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_sort_like_kubernetes() {
        let mut v = vec![
            "v1alpha1",
            "v1beta1",
            "foo",
            "v2",
            "v1",
            "v1beta2",
            "v10alpha3",
        ];
        v.sort_by(|a, b| compare_versions(a, b));
        assert_eq!(
            v,
            [
                "v2",
                "v1",
                "v1beta2",
                "v1beta1",
                "v10alpha3",
                "v1alpha1",
                "foo"
            ]
        );
    }

    #[test]
    fn builtin_groups_are_recognised() {
        let core = ResourceType::new("", "v1", "Pod", "pods", true);
        let apps = ResourceType::new("apps", "v1", "Deployment", "deployments", true);
        let events = ResourceType::new("events.k8s.io", "v1", "Event", "events", true);
        let crd = ResourceType::new("velero.io", "v1", "Backup", "backups", true);
        assert!(core.is_builtin() && apps.is_builtin() && events.is_builtin());
        assert!(!crd.is_builtin());
    }

    #[test]
    fn register_replaces_same_plural() {
        let mut r = Registry::default();
        let (a, new_a) = r.register(ResourceType::new("x.io", "v1", "A", "as", true));
        let (b, new_b) = r.register(ResourceType::new("x.io", "v1", "A", "as", false));
        assert_eq!(a, b);
        assert!(new_a && !new_b);
        assert_eq!(r.by_kind("x.io/v1", "A"), Some(a));
        assert_eq!(r.by_plural("x.io", "v1", "as"), Some(a));
        assert_eq!(
            r.groups(),
            vec![("x.io".to_string(), vec!["v1".to_string()])]
        );
    }
}
