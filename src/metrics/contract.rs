//! The metric contract in code: every family declares its name, type, help and label set once,
//! and where a label is bounded, the values it may take (taken from the model's enums). A
//! declaration is the only way to emit a sample ([`Declared::labels`] takes exactly its values,
//! in its order), and the same declarations generate docs/metrics.md, the alert rules and the
//! dashboards, so no name is typed twice.

use super::sink::{Family, MetricType};
use std::fmt::Write;

/// The label that tells clusters apart in a fleet's Prometheus, Thanos or Mimir (DESIGN.md
/// §8). No family declares it and backupscope never sets it: each instance's `external_labels`
/// (or the remote-write relabelling) does. Dashboards match it with `cluster=~".*"` and rules
/// join on it, both of which also hold for series without the label, so the same queries work
/// on a single-cluster Prometheus.
pub const CLUSTER_LABEL: &str = "cluster";

/// One label of a family: its name, what it means in this family, and its bounded values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    pub name: &'static str,
    /// What the label holds in this family; one line.
    pub help: &'static str,
    /// The only values it takes, when bounded; `None`: a name or text from the cluster.
    pub values: Option<&'static [&'static str]>,
}

impl Label {
    /// A label whose values come from the cluster (object names, free-form fields).
    pub const fn open(name: &'static str, help: &'static str) -> Label {
        Label {
            name,
            help,
            values: None,
        }
    }

    /// A label over a fixed vocabulary.
    pub const fn bounded(
        name: &'static str,
        help: &'static str,
        values: &'static [&'static str],
    ) -> Label {
        Label {
            name,
            help,
            values: Some(values),
        }
    }

    /// The same label with a help text of its own for one family (where `phase` means
    /// another vocabulary, say).
    pub const fn meaning(self, help: &'static str) -> Label {
        Label { help, ..self }
    }

    pub fn allows(&self, value: &str) -> bool {
        self.values.is_none_or(|v| v.contains(&value))
    }
}

/// How a family is used; decides what `--disable-metric` accepts and where docs list it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// A handful of series per vault, schedule or component: always on.
    Core,
    /// Series per task, pod or event reason: a user may turn it off to cut cost.
    PerObject,
    /// backupscope's own health.
    Own,
}

/// A family with its label set of `N` labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Declared<const N: usize> {
    pub family: Family,
    pub labels: [Label; N],
    pub scope: Scope,
    /// Which dashboard or view reads it (docs).
    pub section: Section,
}

/// The view a family belongs to, in the order docs list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    BackupLocations,
    BackupOperations,
    Schedules,
    Restores,
    AddonStatus,
    Events,
    Own,
}

impl Section {
    pub fn title(self) -> &'static str {
        match self {
            Section::BackupLocations => "Backup Locations (vaults)",
            Section::BackupOperations => "Backup Operation Status (tasks)",
            Section::Schedules => "Schedules (RPO)",
            Section::Restores => "Restores",
            Section::AddonStatus => "Addon Status (working components)",
            Section::Events => "Events",
            Section::Own => "backupscope itself",
        }
    }
}

impl<const N: usize> Declared<N> {
    pub const fn new(family: Family, section: Section, scope: Scope, labels: [Label; N]) -> Self {
        Declared {
            family,
            labels,
            scope,
            section,
        }
    }

    pub fn name(&self) -> &'static str {
        self.family.name
    }

    /// Pairs the values with the declared names: the only way to build a sample's label set,
    /// so a sample can carry neither an undeclared label nor one too few. A value outside a
    /// bounded label's vocabulary is a bug in the collector, caught by every debug-build test.
    pub fn labels<'v>(&self, values: [&'v str; N]) -> [(&'static str, &'v str); N] {
        let mut out = [("", ""); N];
        for (i, (label, value)) in self.labels.iter().zip(values).enumerate() {
            debug_assert!(
                label.allows(value),
                "{}: {}={value:?} is not a declared value",
                self.family.name,
                label.name
            );
            out[i] = (label.name, value);
        }
        out
    }

    /// The declared label called `name`, for generators (rules, dashboards) that must not name
    /// a label the family lacks.
    pub fn label(&self, name: &str) -> Result<&Label, ContractError> {
        self.labels
            .iter()
            .find(|l| l.name == name)
            .ok_or_else(|| ContractError::UndeclaredLabel {
                family: self.family.name,
                label: name.to_string(),
            })
    }

    /// A PromQL selector such as `backupcenter_backups{phase="Failed"}`, checked against the
    /// declaration: every matcher names a declared label, and an equality matcher on a bounded
    /// label uses a declared value.
    pub fn select(&self, matchers: &[Matcher]) -> Result<String, ContractError> {
        let mut out = self.family.name.to_string();
        if matchers.is_empty() {
            return Ok(out);
        }
        out.push('{');
        for (i, m) in matchers.iter().enumerate() {
            let label = self.label(m.label)?;
            if m.op == "=" && !label.allows(&m.value) {
                return Err(ContractError::UndeclaredValue {
                    family: self.family.name,
                    label: label.name,
                    value: m.value.clone(),
                });
            }
            if i > 0 {
                out.push_str(", ");
            }
            let _ = write!(out, "{}{}\"{}\"", label.name, m.op, escape_promql(&m.value));
        }
        out.push('}');
        Ok(out)
    }
}

/// One label matcher of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub label: &'static str,
    pub op: &'static str,
    pub value: String,
}

impl Matcher {
    pub fn eq(label: &'static str, value: impl Into<String>) -> Matcher {
        Matcher {
            label,
            op: "=",
            value: value.into(),
        }
    }

    pub fn ne(label: &'static str, value: impl Into<String>) -> Matcher {
        Matcher {
            label,
            op: "!=",
            value: value.into(),
        }
    }

    /// A regular-expression matcher; the value is a RE2 pattern, passed as given.
    pub fn re(label: &'static str, pattern: impl Into<String>) -> Matcher {
        Matcher {
            label,
            op: "=~",
            value: pattern.into(),
        }
    }
}

fn escape_promql(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("{family} has no label {label:?}")]
    UndeclaredLabel { family: &'static str, label: String },
    #[error("{family}: {label}={value:?} is not one of the label's declared values")]
    UndeclaredValue {
        family: &'static str,
        label: &'static str,
        value: String,
    },
}

/// A declaration seen without its arity: what docs and generators iterate over.
pub trait Describe: Sync {
    fn family(&self) -> &Family;
    fn label_set(&self) -> &[Label];
    fn scope(&self) -> Scope;
    fn section(&self) -> Section;
}

impl<const N: usize> Describe for Declared<N> {
    fn family(&self) -> &Family {
        &self.family
    }
    fn label_set(&self) -> &[Label] {
        &self.labels
    }
    fn scope(&self) -> Scope {
        self.scope
    }
    fn section(&self) -> Section {
        self.section
    }
}

fn type_name(kind: MetricType) -> &'static str {
    match kind {
        MetricType::Gauge => "gauge",
        MetricType::Counter => "counter",
        MetricType::Info => "info",
    }
}

/// docs/metrics.md, generated from the declarations (`backupscope metrics`); CI checks that the
/// committed file equals this output.
pub fn reference_markdown(families: &[&dyn Describe], intro: &str, queries: &str) -> String {
    let mut out = String::new();
    out.push_str("<!-- Generated by `backupscope metrics`; do not edit. -->\n");
    out.push_str(intro);
    let mut sections: Vec<Section> = families.iter().map(|f| f.section()).collect();
    sections.sort();
    sections.dedup();
    for section in sections {
        let _ = writeln!(out, "\n## {}\n", section.title());
        for f in families.iter().filter(|f| f.section() == section) {
            let fam = f.family();
            let optional = if f.scope() == Scope::PerObject {
                " · per object, `--disable-metric` can turn it off"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "### `{}`\n\n{} ({}{optional})\n",
                fam.name,
                fam.help,
                type_name(fam.kind)
            );
            if f.label_set().is_empty() {
                out.push_str("No labels.\n\n");
                continue;
            }
            out.push_str("| label | meaning | values |\n| --- | --- | --- |\n");
            for l in f.label_set() {
                let values = match l.values {
                    Some(v) => v
                        .iter()
                        .map(|v| {
                            if v.is_empty() {
                                "`\"\"`".to_string()
                            } else {
                                format!("`{v}`")
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    None => "from the cluster".to_string(),
                };
                let _ = writeln!(out, "| `{}` | {} | {values} |", l.name, l.help);
            }
            out.push('\n');
        }
    }
    out.push_str(queries);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHASE: Label = Label::bounded("phase", "p", &["Completed", "Failed"]);
    const NS: Label = Label::open("namespace", "n");
    const F: Declared<2> = Declared::new(
        Family::gauge("backupcenter_backups", "h"),
        Section::BackupOperations,
        Scope::Core,
        [NS, PHASE],
    );

    #[test]
    fn labels_pair_names_with_values_in_declared_order() {
        assert_eq!(
            F.labels(["csdr", "Failed"]),
            [("namespace", "csdr"), ("phase", "Failed")]
        );
    }

    #[test]
    #[should_panic(expected = "not a declared value")]
    #[cfg(debug_assertions)]
    fn undeclared_values_are_caught_in_debug_builds() {
        let _ = F.labels(["csdr", "Exploded"]);
    }

    #[test]
    fn selectors_are_checked_against_the_declaration() {
        assert_eq!(
            F.select(&[
                Matcher::eq("phase", "Failed"),
                Matcher::re("namespace", "cs.*")
            ])
            .unwrap(),
            r#"backupcenter_backups{phase="Failed", namespace=~"cs.*"}"#
        );
        assert_eq!(F.select(&[]).unwrap(), "backupcenter_backups");
        assert!(matches!(
            F.select(&[Matcher::eq("vault", "x")]),
            Err(ContractError::UndeclaredLabel { .. })
        ));
        assert!(matches!(
            F.select(&[Matcher::eq("phase", "Done")]),
            Err(ContractError::UndeclaredValue { .. })
        ));
        // Values are escaped for PromQL string literals.
        assert_eq!(
            F.select(&[Matcher::ne("namespace", "a\"b\\")]).unwrap(),
            r#"backupcenter_backups{namespace!="a\"b\\"}"#
        );
    }
}
