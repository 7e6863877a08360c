//! Addon Status: the working components of the backup center (migrate-controller,
//! csdr-controller, csdr-velero, hbr-client; velero and node-agent for Velero): status, age,
//! pods, resources, restarts and why a container last ended.

use super::build::{
    self, CLUSTER_LABEL, CLUSTER_TITLE, VALUE, Vars, by, graph_query, label, legend, organize,
    select, state_colours, state_column, table, table_query, unit_column, value_of,
};
use super::model::{Dashboard, Override, Property};
use crate::metrics::contract::{ContractError, Matcher};
use crate::metrics::families::{
    COMPONENT_CREATED as CREATED, COMPONENT_LIMITS as LIMITS, COMPONENT_POD_INFO as POD_INFO,
    COMPONENT_POD_LAST_TERMINATION as TERMINATION, COMPONENT_POD_RESTARTS as RESTARTS,
    COMPONENT_REPLICAS as REPLICAS, COMPONENT_REQUESTS as REQUESTS, COMPONENT_STATUS as STATUS,
};
use crate::model::{ComponentStatus, PodPhase};
use serde_json::Value;

const VARS: Vars = Vars {
    backuplocation: false,
};
const CPU_UNIT: &str = "suffix: cores";

pub fn dashboard() -> Result<Dashboard, ContractError> {
    let status = label(&STATUS, "status")?;
    let component = label(&STATUS, "component")?;
    let status_colours = state_colours(ComponentStatus::ALL, ComponentStatus::as_str);

    let totals = build::state_counts(
        "Components by status",
        "Working components by status. Health: every desired pod ready and none crash-looping.",
        (0, 0, 24, 4),
        &STATUS,
        "status",
        VARS,
        ComponentStatus::ALL,
        ComponentStatus::as_str,
    )?;

    // One row per component, one query per column, merged on cluster, namespace and
    // component. Resources are per pod: the sum over the pod's containers.
    let key = by(&STATUS, &["component"])?;
    let resource = |family: &crate::metrics::contract::Declared<5>, kind: &str| {
        let resource = label(family, "resource")?;
        Ok::<_, ContractError>(format!(
            "sum by ({}) (max by ({}) ({}))",
            by(family, &["component"])?,
            by(family, &["component", "container"])?,
            select(family, &[Matcher::eq(resource, kind.to_string())], VARS)?
        ))
    };
    let replicas = |state: &str| {
        Ok::<_, ContractError>(format!(
            "max by ({}) ({})",
            by(&REPLICAS, &["component"])?,
            select(
                &REPLICAS,
                &[Matcher::eq(label(&REPLICAS, "state")?, state.to_string())],
                VARS
            )?
        ))
    };
    let (memory, cpu) = ("memory", "cpu");
    let targets = vec![
        table_query(
            "A",
            format!(
                "max by ({key}, {status}) ({} == 1)",
                select(&STATUS, &[], VARS)?
            ),
        ),
        table_query(
            "B",
            format!(
                "max by ({}) (time() - {})",
                by(&CREATED, &["component"])?,
                select(&CREATED, &[], VARS)?
            ),
        ),
        table_query("C", replicas("ready")?),
        table_query("D", replicas("desired")?),
        table_query("E", resource(&REQUESTS, memory)?),
        table_query("F", resource(&REQUESTS, cpu)?),
        table_query("G", resource(&LIMITS, memory)?),
        table_query("H", resource(&LIMITS, cpu)?),
        table_query(
            "I",
            format!(
                "sum by ({}) (max by ({}) ({}))",
                by(&RESTARTS, &["component"])?,
                by(&RESTARTS, &["component", "pod", "container"])?,
                select(&RESTARTS, &[], VARS)?
            ),
        ),
        table_query(
            "J",
            format!(
                "max by ({}) ({})",
                by(&TERMINATION, &["component", "reason"])?,
                select(&TERMINATION, &[], VARS)?
            ),
        ),
    ];
    let titles = [
        ("B", "Age"),
        ("C", "Pods ready"),
        ("D", "Pods desired"),
        ("E", "Memory Request"),
        ("F", "CPU Request"),
        ("G", "Memory Limit"),
        ("H", "CPU Limit"),
        ("I", "Restarts"),
    ];
    let value_names: Vec<(String, &str)> =
        titles.iter().map(|(id, t)| (value_of(id), *t)).collect();
    let mut columns: Vec<(&str, &str)> = vec![(component, "Component"), (status, "Status")];
    columns.extend(value_names.iter().map(|(f, t)| (f.as_str(), *t)));
    columns.extend([
        (label(&TERMINATION, "reason")?, "Last termination"),
        (label(&STATUS, "namespace")?, "Namespace"),
        (CLUSTER_LABEL, CLUSTER_TITLE),
    ]);
    let mut overrides = vec![
        state_column("Status", &status_colours),
        unit_column("Age", "dtdurations"),
        unit_column("Memory Request", "bytes"),
        unit_column("Memory Limit", "bytes"),
        unit_column("CPU Request", CPU_UNIT),
        unit_column("CPU Limit", CPU_UNIT),
    ];
    // Any restart deserves a look (the ACK docs: Health with restarts > 0 is csdr-velero
    // running out of memory mid-backup).
    overrides.push(attention_above_zero("Restarts"));
    let components = table(
        "Components",
        "Age: time since the workload was created. Pods: ready and desired. Requests and limits per pod (the sum of its containers). Restarts: container restarts of all its pods. Last termination: why a container last ended (OOMKilled: raise the memory limit).",
        (0, 4, 24, 8),
        targets,
        vec![
            build::merge(),
            organize(&columns, &[&value_of("A"), &value_of("J"), VALUE]),
        ],
        overrides,
    );

    let pod_key = ["component", "pod"];
    let pod_colours = state_colours(PodPhase::ALL, PodPhase::as_str);
    let pods = table(
        "Pods",
        "Each pod of a working component: node, phase, restarts and its last termination with the exit code (137: killed, often OOMKilled).",
        (0, 12, 24, 8),
        vec![
            table_query(
                "A",
                format!(
                    "max by ({}) ({})",
                    by(&POD_INFO, &["component", "pod", "node", "phase"])?,
                    select(&POD_INFO, &[], VARS)?
                ),
            ),
            table_query(
                "B",
                format!(
                    "sum by ({}) (max by ({}) ({}))",
                    by(&RESTARTS, &pod_key)?,
                    by(&RESTARTS, &["component", "pod", "container"])?,
                    select(&RESTARTS, &[], VARS)?
                ),
            ),
            table_query(
                "C",
                format!(
                    "max by ({}) ({})",
                    by(&TERMINATION, &["component", "pod", "reason", "exit_code"])?,
                    select(&TERMINATION, &[], VARS)?
                ),
            ),
        ],
        vec![
            build::merge(),
            organize(
                &[
                    (label(&POD_INFO, "component")?, "Component"),
                    (label(&POD_INFO, "pod")?, "Pod"),
                    (label(&POD_INFO, "node")?, "Node"),
                    (label(&POD_INFO, "phase")?, "Phase"),
                    (&value_of("B"), "Restarts"),
                    (label(&TERMINATION, "reason")?, "Last termination"),
                    (label(&TERMINATION, "exit_code")?, "Exit code"),
                    (label(&POD_INFO, "namespace")?, "Namespace"),
                    (CLUSTER_LABEL, CLUSTER_TITLE),
                ],
                &[&value_of("A"), &value_of("C"), VALUE],
            ),
        ],
        vec![
            state_column("Phase", &pod_colours),
            attention_above_zero("Restarts"),
        ],
    );

    let restarts = build::graph(
        "Container restarts",
        "Container restarts per component over time: a step is a crash or an OOM kill.",
        (0, 20, 24, 8),
        graph_query(
            "A",
            format!("sum by ({component}) ({})", select(&RESTARTS, &[], VARS)?),
            legend(component),
        ),
        0,
    );

    Ok(build::dashboard(
        "backupscope-addon-status",
        "Addon Status",
        "Working components of the backup center: status, age, pods, requests and limits, restarts, last termination. Generated by `backupscope dashboards`.",
        build::variables(STATUS.name(), VARS),
        vec![totals, components, pods, restarts],
    ))
}

/// A count column that turns to the warning colour above zero.
fn attention_above_zero(column: &str) -> Override {
    use crate::center::Severity;
    Override::by_name(
        column,
        vec![
            Property::new(
                "thresholds",
                serde_json::json!({
                    "mode": "absolute",
                    "steps": [
                        { "color": build::colour(Severity::Ok), "value": Value::Null },
                        { "color": build::colour(Severity::Warning), "value": 1 }
                    ]
                }),
            ),
            Property::new(
                "custom.cellOptions",
                serde_json::json!({ "type": "color-text" }),
            ),
        ],
    )
}
