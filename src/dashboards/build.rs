//! What every dashboard shares: the variables, the selector that applies them, the colours of
//! states (from their severity) and the panel skeletons.

use super::model::{
    Annotations, Current, Dashboard, DataSourceRef, FieldConfigSource, FieldDefaults, GridPos,
    Link, Override, Panel, Property, SCHEMA_VERSION, Target, Templating, TimeRange, Transformation,
    Variable,
};
use crate::center::{Graded, Severity};
pub use crate::metrics::contract::CLUSTER_LABEL;
use crate::metrics::contract::{ContractError, Declared, Matcher};
use crate::metrics::families::{BACKUPLOCATION, BACKUPS, NAMESPACE};
use serde_json::{Value, json};

/// Labels Prometheus adds to every scraped series; tables hide them.
const TARGET_LABELS: &[&str] = &["job", "instance"];
/// Columns Grafana adds to an instant table query.
const TIME_COLUMN: &str = "Time";
const NAME_COLUMN: &str = "__name__";
const ALL: &str = ".*";
const TAG: &str = "backupscope";

/// Which filters a dashboard offers besides cluster and namespace.
#[derive(Debug, Clone, Copy)]
pub struct Vars {
    /// Offers `$backuplocation`; queries of families with that label filter on it.
    pub backuplocation: bool,
}

pub fn datasource() -> DataSourceRef {
    DataSourceRef {
        kind: "prometheus".into(),
        uid: "${datasource}".into(),
    }
}

/// `FAMILY{matchers…, namespace=~"$namespace"[, backuplocation=~"$backuplocation"], cluster=~"$cluster"}`,
/// every name checked against the declaration.
pub fn select<const N: usize>(
    family: &Declared<N>,
    matchers: &[Matcher],
    vars: Vars,
) -> Result<String, ContractError> {
    let mut all = matchers.to_vec();
    all.push(Matcher::re(NAMESPACE.name, "$namespace"));
    if vars.backuplocation && family.label(BACKUPLOCATION.name).is_ok() {
        all.push(Matcher::re(BACKUPLOCATION.name, "$backuplocation"));
    }
    let selector = family.select(&all)?;
    // The cluster label is not the family's (the exporter never sets it), so it is appended
    // here rather than checked by `select`.
    let inner = selector.strip_suffix('}').unwrap_or(&selector);
    Ok(format!("{inner}, {CLUSTER_LABEL}=~\"$cluster\"}}"))
}

/// `cluster, namespace, <labels>` for a `by (…)` / `on (…)` clause, every label checked.
pub fn by<const N: usize>(family: &Declared<N>, labels: &[&str]) -> Result<String, ContractError> {
    let mut names = vec![CLUSTER_LABEL, family.label(NAMESPACE.name)?.name];
    for label in labels {
        names.push(family.label(label)?.name);
    }
    Ok(names.join(", "))
}

/// A checked label name.
pub fn label<const N: usize>(
    family: &Declared<N>,
    name: &str,
) -> Result<&'static str, ContractError> {
    Ok(family.label(name)?.name)
}

/// The variables: datasource, cluster, namespace (from `namespace_from`'s series) and, when
/// asked, backuplocation (from the task counts, which also name vaults that do not exist).
pub fn variables(namespace_from: &str, vars: Vars) -> Vec<Variable> {
    let ns = NAMESPACE.name;
    let mut list = vec![
        Variable {
            name: "datasource".into(),
            label: "Data source".into(),
            kind: "datasource".into(),
            query: Value::from("prometheus"),
            datasource: None,
            refresh: 1,
            include_all: false,
            all_value: None,
            multi: false,
            sort: None,
            current: Current {
                text: Value::from("default"),
                value: Value::from("default"),
            },
            options: vec![],
            hide: 0,
            description: "Prometheus, Thanos, Mimir or any PromQL data source that scrapes (or receives remote write from) backupscope.".into(),
        },
        label_values(
            "cluster",
            "Cluster",
            format!(
                "label_values({}, {CLUSTER_LABEL})",
                crate::metrics::families::BUILD_INFO.name()
            ),
            "The `cluster` external label of a fleet's central Prometheus; empty (All) on a single cluster, where the label does not exist.",
        ),
        label_values(
            ns,
            "Namespace",
            format!("label_values({namespace_from}{{{CLUSTER_LABEL}=~\"$cluster\"}}, {ns})"),
            "Namespace of the backup center's objects (csdr for ACK, velero for Velero).",
        ),
    ];
    if vars.backuplocation {
        let bl = BACKUPLOCATION.name;
        list.push(label_values(
            bl,
            "Backup location",
            format!(
                "label_values({}{{{CLUSTER_LABEL}=~\"$cluster\", {ns}=~\"$namespace\"}}, {bl})",
                BACKUPS.name()
            ),
            "Backup vault (ACK BackupLocation, Velero BackupStorageLocation).",
        ));
    }
    list
}

fn label_values(name: &str, title: &str, query: String, description: &str) -> Variable {
    Variable {
        name: name.into(),
        label: title.into(),
        kind: "query".into(),
        query: Value::from(query),
        datasource: Some(datasource()),
        refresh: 2,
        include_all: true,
        // `.*` rather than Grafana's list of every value: it also matches series without the
        // label (no `cluster` on a single cluster) and keeps the query short on a large fleet.
        all_value: Some(ALL.into()),
        multi: true,
        sort: Some(1),
        current: Current {
            text: json!(["All"]),
            value: json!(["$__all"]),
        },
        options: vec![],
        hide: 0,
        description: description.into(),
    }
}

/// Assembles a dashboard: numbers the panels and adds the variables and the links to the
/// other backupscope dashboards.
pub fn dashboard(
    uid: &str,
    title: &str,
    description: &str,
    variables: Vec<Variable>,
    mut panels: Vec<Panel>,
) -> Dashboard {
    for (id, panel) in (1..).zip(panels.iter_mut()) {
        panel.id = id;
    }
    Dashboard {
        uid: uid.into(),
        title: title.into(),
        description: description.into(),
        tags: vec![TAG.into()],
        editable: true,
        graph_tooltip: 1,
        refresh: "1m".into(),
        time: TimeRange {
            from: "now-6h".into(),
            to: "now".into(),
        },
        timezone: "browser".into(),
        schema_version: SCHEMA_VERSION,
        templating: Templating { list: variables },
        annotations: Annotations { list: vec![] },
        links: vec![Link {
            title: "backupscope".into(),
            kind: "dashboards".into(),
            tags: vec![TAG.into()],
            as_dropdown: false,
            include_vars: true,
            keep_time: true,
            icon: "external link".into(),
            target_blank: false,
            tooltip: "The other backupscope dashboards".into(),
        }],
        panels,
    }
}

/// Grafana's colour for a severity; the only place a severity becomes a colour here.
pub fn colour(severity: Severity) -> &'static str {
    match severity {
        Severity::Ok => "green",
        Severity::Unknown => "text",
        Severity::Warning => "orange",
        Severity::Critical => "red",
    }
}

/// The colour of each state of a vocabulary: its severity's, for table cells.
pub fn state_colours<T: Graded>(
    states: &[T],
    name: impl Fn(T) -> &'static str,
) -> Vec<(&'static str, String)> {
    states
        .iter()
        .map(|&state| (name(state), colour(state.severity()).to_string()))
        .collect()
}

/// The colour of each state drawn as its own series (bars, stats, lines): the hue is its
/// severity; states of the same severity get lighter shades in order, so a chart can tell
/// PartiallyFailed from InProgress.
pub fn series_colours<T: Graded>(
    states: &[T],
    name: impl Fn(T) -> &'static str,
) -> Vec<(&'static str, String)> {
    const SHADES: &[&str] = &["", "light-", "super-light-"];
    let mut seen: Vec<Severity> = Vec::new();
    states
        .iter()
        .map(|&state| {
            let severity = state.severity();
            let base = colour(severity);
            let nth = seen.iter().filter(|&&s| s == severity).count();
            seen.push(severity);
            // `text` (Unknown) is the theme's text colour, which has no shades.
            let shade = if severity == Severity::Unknown {
                ""
            } else {
                SHADES[nth.min(SHADES.len() - 1)]
            };
            (name(state), format!("{shade}{base}"))
        })
        .collect()
}

/// One fixed-colour override per state, for a chart or stat whose series are states.
pub fn series_overrides<T: Graded>(
    states: &[T],
    name: impl Fn(T) -> &'static str,
) -> Vec<Override> {
    series_colours(states, name)
        .iter()
        .map(|(state, colour)| fixed_colour(state, colour))
        .collect()
}

/// Value mappings that colour each state word.
pub fn value_mappings(colours: &[(&str, String)]) -> Value {
    let options: serde_json::Map<String, Value> = colours
        .iter()
        .enumerate()
        .map(|(index, (state, colour))| {
            (
                (*state).to_string(),
                json!({ "color": colour, "index": index, "text": state }),
            )
        })
        .collect();
    json!([{ "type": "value", "options": options }])
}

/// A table column of state words, each cell coloured by its state.
pub fn state_column(column: &str, colours: &[(&str, String)]) -> Override {
    Override::by_name(
        column,
        vec![
            Property::new("mappings", value_mappings(colours)),
            Property::new(
                "custom.cellOptions",
                json!({ "type": "color-background", "mode": "basic" }),
            ),
        ],
    )
}

/// A 0/1 column shown as words: 1 as `yes`, 0 as `no`, each coloured by the severity of its
/// word (`center::severity_of_word`).
pub fn flag_column(column: &str, yes: &str, no: &str) -> Override {
    let coloured = |word: &str| {
        colour(crate::center::severity_of_word(word).unwrap_or(Severity::Unknown)).to_string()
    };
    Override::by_name(
        column,
        vec![
            Property::new(
                "mappings",
                json!([{ "type": "value", "options": {
                    "1": { "color": coloured(yes), "index": 0, "text": yes },
                    "0": { "color": coloured(no), "index": 1, "text": no }
                }}]),
            ),
            Property::new(
                "custom.cellOptions",
                json!({ "type": "color-background", "mode": "basic" }),
            ),
        ],
    )
}

/// A numeric column with a unit.
pub fn unit_column(column: &str, unit: &str) -> Override {
    Override::by_name(column, vec![Property::new("unit", Value::from(unit))])
}

/// A series drawn in a fixed colour (bar chart, stat).
fn fixed_colour(series: &str, colour: &str) -> Override {
    Override::by_name(
        series,
        vec![Property::new(
            "color",
            json!({ "mode": "fixed", "fixedColor": colour }),
        )],
    )
}

/// An instant query whose result is a table (one row per series, labels as columns).
pub fn table_query(ref_id: &str, expr: String) -> Target {
    Target {
        ref_id: ref_id.into(),
        datasource: datasource(),
        expr,
        format: "table".into(),
        instant: true,
        range: false,
        legend_format: "__auto".into(),
    }
}

/// An instant query for a stat: one value per series, named by `legend`.
pub fn stat_query(ref_id: &str, expr: String, legend: String) -> Target {
    Target {
        format: "time_series".into(),
        legend_format: legend,
        ..table_query(ref_id, expr)
    }
}

/// A range query for a graph.
pub fn graph_query(ref_id: &str, expr: String, legend: String) -> Target {
    Target {
        instant: false,
        range: true,
        ..stat_query(ref_id, expr, legend)
    }
}

/// `{{label}}` for a legend.
pub fn legend(label: &str) -> String {
    format!("{{{{{label}}}}}")
}

/// A panel of `kind` with no transformation, no override and no options yet.
pub fn panel(
    kind: &str,
    title: &str,
    description: &str,
    (x, y, w, h): (u32, u32, u32, u32),
    targets: Vec<Target>,
) -> Panel {
    Panel {
        id: 0,
        kind: kind.into(),
        title: title.into(),
        description: description.into(),
        grid_pos: GridPos { x, y, w, h },
        datasource: Some(datasource()),
        targets,
        transformations: vec![],
        field_config: FieldConfigSource {
            defaults: FieldDefaults::default(),
            overrides: vec![],
        },
        options: json!({}),
    }
}

/// A table: header shown, sortable columns, a filter per column, footer off.
pub fn table(
    title: &str,
    description: &str,
    grid: (u32, u32, u32, u32),
    targets: Vec<Target>,
    transformations: Vec<Transformation>,
    overrides: Vec<Override>,
) -> Panel {
    let mut p = panel("table", title, description, grid, targets);
    p.transformations = transformations;
    p.field_config.overrides = overrides;
    p.field_config.defaults.custom = Some(json!({
        "align": "auto",
        "filterable": true,
        "cellOptions": { "type": "auto" },
        "inspect": false
    }));
    p.options = json!({
        "showHeader": true,
        "cellHeight": "sm",
        "frameIndex": 0,
        "sortBy": []
    });
    p
}

/// A stat panel: one big number per series, coloured by its override or thresholds.
pub fn stat(
    title: &str,
    description: &str,
    grid: (u32, u32, u32, u32),
    targets: Vec<Target>,
    overrides: Vec<Override>,
) -> Panel {
    let mut p = panel("stat", title, description, grid, targets);
    p.field_config.overrides = overrides;
    p.field_config.defaults.color = Some(json!({ "mode": "fixed", "fixedColor": "text" }));
    p.options = json!({
        "reduceOptions": { "calcs": ["lastNotNull"], "fields": "", "values": false },
        "colorMode": "background",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "textMode": "value_and_name",
        "wideLayout": true,
        "showPercentChange": false,
        "percentChangeColorMode": "standard"
    });
    p
}

/// A stat of how many objects are in each state: `sum by (state) (FAMILY{…})`, one number
/// per state in its colour.
#[allow(clippy::too_many_arguments)]
pub fn state_counts<const N: usize, T: Graded>(
    title: &str,
    description: &str,
    grid: (u32, u32, u32, u32),
    family: &Declared<N>,
    state_label: &str,
    vars: Vars,
    states: &[T],
    name: impl Fn(T) -> &'static str,
) -> Result<Panel, ContractError> {
    let state = label(family, state_label)?;
    Ok(stat(
        title,
        description,
        grid,
        vec![stat_query(
            "A",
            format!("sum by ({state}) ({})", select(family, &[], vars)?),
            legend(state),
        )],
        series_overrides(states, name),
    ))
}

/// A time series panel of one graph query, with `decimals` decimals.
pub fn graph(
    title: &str,
    description: &str,
    grid: (u32, u32, u32, u32),
    target: Target,
    decimals: u8,
) -> Panel {
    let mut p = panel("timeseries", title, description, grid, vec![target]);
    p.field_config.defaults.decimals = Some(decimals);
    p.options = timeseries_options();
    p
}

/// Grafana's `organize` transformation: shows `columns` (field name → title) in that order and
/// hides the rest of what `hide` names, plus Prometheus' own columns.
pub fn organize(columns: &[(&str, &str)], hide: &[&str]) -> Transformation {
    let mut exclude = serde_json::Map::new();
    for name in [TIME_COLUMN, NAME_COLUMN]
        .iter()
        .chain(TARGET_LABELS)
        .chain(hide)
    {
        exclude.insert((*name).to_string(), Value::Bool(true));
    }
    let mut index = serde_json::Map::new();
    let mut rename = serde_json::Map::new();
    for (i, (field, title)) in columns.iter().enumerate() {
        index.insert((*field).to_string(), Value::from(i));
        rename.insert((*field).to_string(), Value::from(*title));
    }
    Transformation {
        id: "organize".into(),
        options: json!({
            "excludeByName": exclude,
            "indexByName": index,
            "renameByName": rename,
            "includeByName": {}
        }),
    }
}

/// Grafana's `merge`: rows of several table queries that agree on their shared columns
/// (cluster, namespace, name) become one row.
pub fn merge() -> Transformation {
    Transformation {
        id: "merge".into(),
        options: json!({}),
    }
}

/// The column Grafana names the value of query `ref_id` when a panel has several.
pub fn value_of(ref_id: &str) -> String {
    format!("Value #{ref_id}")
}

/// The `Value` column of a single-query table.
pub const VALUE: &str = "Value";

/// The cluster column's title; the column exists only where the label does.
pub const CLUSTER_TITLE: &str = "Cluster";

/// Options of a time series panel: a legend table with the last value.
pub fn timeseries_options() -> Value {
    json!({
        "legend": {
            "showLegend": true,
            "displayMode": "table",
            "placement": "right",
            "calcs": ["lastNotNull"]
        },
        "tooltip": { "mode": "multi", "sort": "desc" }
    })
}

/// Options of a bar chart with one group of bars per value of `x_field`, stacked.
pub fn barchart_options(x_field: &str) -> Value {
    json!({
        "xField": x_field,
        "orientation": "auto",
        "stacking": "normal",
        "showValue": "auto",
        "groupWidth": 0.7,
        "barWidth": 0.9,
        "barRadius": 0,
        "fullHighlight": false,
        "xTickLabelRotation": 0,
        "xTickLabelSpacing": 0,
        // Vault names are up to 63 characters (Kubernetes names); show them whole.
        "xTickLabelMaxLength": 63,
        "legend": {
            "showLegend": true,
            "displayMode": "list",
            "placement": "bottom",
            "calcs": []
        },
        "tooltip": { "mode": "multi", "sort": "none" }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::families::{BACKUP_FAILED_INFO, COMPONENT_STATUS};
    use crate::model::{Outcome, VaultPhase};

    #[test]
    fn selectors_apply_the_variables_and_keep_the_declaration_check() {
        let vars = Vars {
            backuplocation: true,
        };
        assert_eq!(
            select(&BACKUPS, &[Matcher::eq("phase", "Failed")], vars).unwrap(),
            r#"backupcenter_backups{phase="Failed", namespace=~"$namespace", backuplocation=~"$backuplocation", cluster=~"$cluster"}"#
        );
        // A family without a vault label is not filtered on one.
        assert_eq!(
            select(&COMPONENT_STATUS, &[], vars).unwrap(),
            r#"backupcenter_component_status{namespace=~"$namespace", cluster=~"$cluster"}"#
        );
        assert!(select(&BACKUPS, &[Matcher::eq("phase", "Exploded")], vars).is_err());
        assert!(select(&BACKUPS, &[Matcher::eq("vault", "x")], vars).is_err());
        assert_eq!(
            by(&BACKUP_FAILED_INFO, &["backup", "reason"]).unwrap(),
            "cluster, namespace, backup, reason"
        );
        assert!(by(&BACKUP_FAILED_INFO, &["message"]).is_err());
    }

    #[test]
    fn colours_come_from_severity() {
        assert_eq!(
            state_colours(VaultPhase::ALL, VaultPhase::as_str),
            [
                ("Available", "green".to_string()),
                ("Unavailable", "red".to_string()),
                ("InProgress", "orange".to_string()),
                ("Unknown", "text".to_string()),
            ]
        );
        // Failed red, Completed green; the two warnings of the Backup Overview told apart.
        assert_eq!(
            series_colours(Outcome::ALL, Outcome::as_str),
            [
                ("Completed", "green".to_string()),
                ("PartiallyFailed", "orange".to_string()),
                ("Failed", "red".to_string()),
                ("InProgress", "light-orange".to_string()),
                ("Unknown", "text".to_string()),
            ]
        );
    }

    #[test]
    fn flag_columns_show_words_in_their_severity() {
        let o = serde_json::to_value(flag_column("Probe", "Available", "Unavailable")).unwrap();
        assert_eq!(
            o["properties"][0]["value"],
            json!([{ "type": "value", "options": {
                "1": { "color": "green", "index": 0, "text": "Available" },
                "0": { "color": "red", "index": 1, "text": "Unavailable" }
            }}])
        );
        // A word no vocabulary grades is Unknown: the theme's text colour.
        let o = serde_json::to_value(flag_column("X", "yes", "no")).unwrap();
        assert_eq!(
            o["properties"][0]["value"][0]["options"]["1"]["color"],
            "text"
        );
    }

    #[test]
    fn value_mappings_colour_each_state_word() {
        let mappings = value_mappings(&[("Available", "green".into())]);
        assert_eq!(
            mappings,
            json!([{ "type": "value", "options": {
                "Available": { "color": "green", "index": 0, "text": "Available" }
            }}])
        );
    }
}
