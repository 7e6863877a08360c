//! The part of Grafana's dashboard JSON (schemaVersion 42, `@grafana/schema` 13) that
//! backupscope emits. Field names follow Grafana's; what a panel plugin puts in `options` and
//! `fieldConfig.defaults.custom` differs per plugin, so those stay JSON values built next to
//! the panel that needs them. tests/dashboards_schema.rs validates the output against the
//! schema generated from the npm package.

use serde::Serialize;
use serde_json::Value;

/// The dashboard schema version this model follows (`defaultDashboard.schemaVersion` of
/// `@grafana/schema` 13; the schema test reads it from the package and compares).
pub const SCHEMA_VERSION: u32 = 42;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Dashboard {
    pub uid: String,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub editable: bool,
    /// 1: shared crosshair, so a spike in one panel lines up with the others.
    pub graph_tooltip: u8,
    pub refresh: String,
    pub time: TimeRange,
    pub timezone: String,
    pub schema_version: u32,
    pub templating: Templating,
    pub annotations: Annotations,
    pub links: Vec<Link>,
    pub panels: Vec<Panel>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimeRange {
    pub from: String,
    pub to: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Templating {
    pub list: Vec<Variable>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Annotations {
    pub list: Vec<Value>,
}

/// A link to the other backupscope dashboards (by tag), keeping the variables.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub title: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub tags: Vec<String>,
    pub as_dropdown: bool,
    pub include_vars: bool,
    pub keep_time: bool,
    pub icon: String,
    pub target_blank: bool,
    pub tooltip: String,
}

/// A template variable: the datasource picker or a label-values query.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Variable {
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// For a `datasource` variable: the plugin id; for a `query` variable: the query object.
    pub query: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DataSourceRef>,
    /// 2: on time-range change, so names that appear later are offered.
    pub refresh: u8,
    pub include_all: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all_value: Option<String>,
    pub multi: bool,
    /// 1: alphabetical.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<u8>,
    pub current: Current,
    pub options: Vec<Value>,
    pub hide: u8,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Current {
    pub text: Value,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataSourceRef {
    #[serde(rename = "type")]
    pub kind: String,
    pub uid: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Panel {
    pub id: u32,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub description: String,
    pub grid_pos: GridPos,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub datasource: Option<DataSourceRef>,
    pub targets: Vec<Target>,
    pub transformations: Vec<Transformation>,
    pub field_config: FieldConfigSource,
    pub options: Value,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct GridPos {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// A Prometheus query of a panel.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub ref_id: String,
    pub datasource: DataSourceRef,
    pub expr: String,
    /// `table` for tables and bar charts (one row per series), `time_series` for graphs.
    pub format: String,
    pub instant: bool,
    pub range: bool,
    pub legend_format: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Transformation {
    pub id: String,
    pub options: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldConfigSource {
    pub defaults: FieldDefaults,
    pub overrides: Vec<Override>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FieldDefaults {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
}

/// Field options for the fields a matcher selects (by name, usually).
#[derive(Debug, Clone, Serialize)]
pub struct Override {
    pub matcher: Matcher,
    pub properties: Vec<Property>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Matcher {
    pub id: String,
    pub options: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct Property {
    pub id: String,
    pub value: Value,
}

impl Override {
    /// Options for the field called `name` (after the `organize` rename, if any).
    pub fn by_name(name: &str, properties: Vec<Property>) -> Override {
        Override {
            matcher: Matcher {
                id: "byName".into(),
                options: Value::from(name),
            },
            properties,
        }
    }
}

impl Property {
    pub fn new(id: &str, value: Value) -> Property {
        Property {
            id: id.into(),
            value,
        }
    }
}
