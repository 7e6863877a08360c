//! Discovery documents: the legacy per-group JSON and the aggregated (apidiscovery.k8s.io/v2)
//! form that clients request with a special `Accept` header.

use crate::resource::{Registry, ResourceType};
use serde_json::{Value, json};

/// Content type of an aggregated discovery answer, which clients check before parsing.
pub(crate) const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Whether the client asked for aggregated discovery (kube's `run_aggregated`, kubectl).
pub(crate) fn wants_aggregated(accept: &str) -> bool {
    accept.contains("as=APIGroupDiscoveryList")
}

/// `/api`
pub(crate) fn core_versions(reg: &Registry, server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": reg.core_versions(),
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group_json(group: &str, versions: &[String]) -> Value {
    let gv = |v: &String| json!({"groupVersion": format!("{group}/{v}"), "version": v});
    json!({
        "name": group,
        "versions": versions.iter().map(gv).collect::<Vec<_>>(),
        "preferredVersion": versions.first().map(gv),
    })
}

/// `/apis`
pub(crate) fn group_list(reg: &Registry) -> Value {
    let groups: Vec<Value> = reg
        .groups()
        .iter()
        .map(|(g, vs)| group_json(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/{group}`, if the group is served.
pub(crate) fn group(reg: &Registry, name: &str) -> Option<Value> {
    let groups = reg.groups();
    let (g, vs) = groups.iter().find(|(g, _)| g == name)?;
    let mut doc = group_json(g, vs);
    doc["kind"] = json!("APIGroup");
    doc["apiVersion"] = json!("v1");
    Some(doc)
}

/// `/api/{version}` or `/apis/{group}/{version}`, if served.
pub(crate) fn resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    if !reg.serves(group, version) {
        return None;
    }
    let resources: Vec<Value> = reg
        .in_group_version(group, version)
        .into_iter()
        .map(|rt| {
            json!({
                "name": rt.plural,
                "singularName": rt.singular(),
                "namespaced": rt.namespaced,
                "kind": rt.kind,
                "verbs": VERBS,
            })
        })
        .collect();
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }))
}

fn aggregated_resource(rt: &ResourceType) -> Value {
    json!({
        "resource": rt.plural,
        "responseKind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
        "scope": if rt.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": rt.singular(),
        "verbs": VERBS,
    })
}

fn aggregated_group(reg: &Registry, group: &str, versions: &[String]) -> Value {
    let versions: Vec<Value> = versions
        .iter()
        .map(|v| {
            let resources: Vec<Value> = reg
                .in_group_version(group, v)
                .into_iter()
                .map(aggregated_resource)
                .collect();
            json!({"version": v, "resources": resources, "freshness": "Current"})
        })
        .collect();
    let metadata = if group.is_empty() {
        json!({})
    } else {
        json!({"name": group})
    };
    json!({"metadata": metadata, "versions": versions})
}

fn aggregated_list(items: Vec<Value>) -> Value {
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    })
}

/// Aggregated `/api`: the core group alone.
pub(crate) fn aggregated_core(reg: &Registry) -> Value {
    let versions = reg.core_versions();
    let items = if versions.is_empty() {
        Vec::new()
    } else {
        vec![aggregated_group(reg, "", &versions)]
    };
    aggregated_list(items)
}

/// Aggregated `/apis`: every named group.
pub(crate) fn aggregated_groups(reg: &Registry) -> Value {
    let items = reg
        .groups()
        .iter()
        .map(|(g, vs)| aggregated_group(reg, g, vs))
        .collect();
    aggregated_list(items)
}

/// `/version`, as `version.Info`.
pub(crate) fn version_info(git_version: &str) -> Value {
    let numbers = git_version.trim_start_matches('v');
    let mut parts = numbers.split(['.', '-', '+']);
    let major = parts.next().unwrap_or("").to_string();
    let minor = parts.next().unwrap_or("").to_string();
    json!({
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2025-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::builtins;

    #[test]
    fn version_numbers() {
        let v = version_info("v1.30.4-aliyun.1");
        assert_eq!(
            (v["major"].as_str(), v["minor"].as_str()),
            (Some("1"), Some("30"))
        );
    }

    #[test]
    fn group_docs() {
        let mut reg = Registry::default();
        for rt in builtins() {
            reg.register(rt);
        }
        reg.register(ResourceType::new("x.io", "v1beta1", "A", "as", true));
        reg.register(ResourceType::new("x.io", "v1", "A", "as", true));
        let g = group(&reg, "x.io").unwrap();
        assert_eq!(g["preferredVersion"]["version"], json!("v1"));
        assert_eq!(g["versions"].as_array().map(Vec::len), Some(2));
        let core = resource_list(&reg, "", "v1").unwrap();
        assert_eq!(core["resources"].as_array().map(Vec::len), Some(5));
        assert!(resource_list(&reg, "nope", "v1").is_none());
        assert!(group(&reg, "nope").is_none());
        let agg = aggregated_groups(&reg);
        assert_eq!(agg["items"].as_array().map(Vec::len), Some(4));
    }
}
