//! Grafana dashboards, generated from the metric declarations: every metric and label name in
//! a query comes from `families` (`Declared::select`, `::label`, `::name`), and every colour
//! from the severity the center grades a state with. `backupscope dashboards` writes them;
//! dashboards/ holds the committed output and tests/generated.rs checks it for drift.

mod addon_status;
mod backup_health;
mod backup_locations;
mod backup_operations;
mod build;
pub mod model;

pub use build::CLUSTER_LABEL;
use model::Dashboard;

use crate::metrics::contract::ContractError;

/// One generated dashboard: the file stem it is written to and its JSON model.
pub struct Generated {
    pub name: &'static str,
    pub dashboard: Dashboard,
}

/// Builds one dashboard; fails only when a query names what the declarations lack.
type Builder = fn() -> Result<Dashboard, ContractError>;

/// Every dashboard by file stem, in the order the ACK documentation lists them, Backup Health
/// last.
const DASHBOARDS: &[(&str, Builder)] = &[
    ("backup-locations", backup_locations::dashboard),
    ("backup-operation-status", backup_operations::dashboard),
    ("addon-status", addon_status::dashboard),
    ("backup-health", backup_health::dashboard),
];

/// Every dashboard, built.
pub fn all() -> Result<Vec<Generated>, ContractError> {
    DASHBOARDS
        .iter()
        .map(|(name, build)| {
            Ok(Generated {
                name,
                dashboard: build()?,
            })
        })
        .collect()
}

/// The names [`all`] knows, for `--dashboard` and its error message.
pub fn names() -> Vec<&'static str> {
    DASHBOARDS.iter().map(|(name, _)| *name).collect()
}

/// The file content: pretty JSON with a final newline (what Grafana's "Export" writes, and what
/// a diff reads well).
pub fn render(dashboard: &Dashboard) -> String {
    let mut text = serde_json::to_string_pretty(dashboard)
        .unwrap_or_else(|error| unreachable!("a dashboard model always serializes: {error}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_dashboard_builds_and_names_match_the_list() {
        let all = all().expect("every query is checked against the declarations");
        let built: Vec<&str> = all.iter().map(|g| g.name).collect();
        assert_eq!(
            built,
            [
                "backup-locations",
                "backup-operation-status",
                "addon-status",
                "backup-health"
            ]
        );
        assert_eq!(built, names());
        let uids: HashSet<&str> = all.iter().map(|g| g.dashboard.uid.as_str()).collect();
        assert_eq!(uids.len(), all.len(), "dashboard uids are unique");
        for g in &all {
            assert!(g.dashboard.uid.len() <= 40, "Grafana caps uids at 40");
            let ids: HashSet<u32> = g.dashboard.panels.iter().map(|p| p.id).collect();
            assert_eq!(ids.len(), g.dashboard.panels.len(), "{}: panel ids", g.name);
        }
    }

    #[test]
    fn every_query_filters_on_the_cluster_and_namespace_variables() {
        for g in all().unwrap() {
            for panel in &g.dashboard.panels {
                for target in &panel.targets {
                    assert!(
                        target.expr.contains(r#"cluster=~"$cluster""#),
                        "{} / {}: {}",
                        g.name,
                        panel.title,
                        target.expr
                    );
                    assert!(
                        target.expr.contains(r#"namespace=~"$namespace""#),
                        "{} / {}: {}",
                        g.name,
                        panel.title,
                        target.expr
                    );
                }
            }
        }
    }

    #[test]
    fn variables_work_without_a_cluster_label_and_offer_all() {
        for g in all().unwrap() {
            let vars = &g.dashboard.templating.list;
            let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
            // Addon Status has no vault filter: no component series names a vault.
            let want: &[&str] = if g.name == "addon-status" {
                &["datasource", "cluster", "namespace"]
            } else {
                &["datasource", "cluster", "namespace", "backuplocation"]
            };
            assert_eq!(names, want, "{}", g.name);
            assert_eq!(vars[0].kind, "datasource");
            assert_eq!(vars[0].query, "prometheus");
            for v in &vars[1..] {
                assert_eq!(v.kind, "query", "{}", v.name);
                assert!(v.include_all && v.multi, "{}", v.name);
                // `.*` also matches series that lack the label (no `cluster` on one cluster).
                assert_eq!(v.all_value.as_deref(), Some(".*"), "{}", v.name);
                assert_eq!(
                    v.datasource.as_ref().map(|d| d.uid.as_str()),
                    Some("${datasource}")
                );
            }
            for panel in &g.dashboard.panels {
                for target in &panel.targets {
                    assert_eq!(target.datasource.uid, "${datasource}", "{}", panel.title);
                }
            }
        }
    }

    #[test]
    fn rendering_is_pretty_json_ending_in_a_newline() {
        let all = all().unwrap();
        let text = render(&all[0].dashboard);
        assert!(text.ends_with("}\n"));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["schemaVersion"], model::SCHEMA_VERSION);
    }
}
