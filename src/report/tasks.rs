//! A page of backup tasks: the one task list the web API serves, filtered, sorted and
//! paginated on the server, so a backup center of 100 000 tasks is never sent in one response.
//!
//! Failed and unfinished tasks come from the inventory's task index (a few thousand at most);
//! only a query over every task walks them all. Reason class, data type and the failure
//! message cost an event lookup each, so they are decided for the rows of the page only.

use crate::center::{BackupCenter, Graded, Severity};
use crate::model::{BackupTask, Timestamp};
use serde::Serialize;
use std::cmp::Ordering;

/// The most rows one page may hold.
pub const MAX_LIMIT: usize = 500;
/// Rows per page when the query names no limit.
pub const DEFAULT_LIMIT: usize = 50;

/// Which tasks a query starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSet {
    All,
    /// Failed, PartiallyFailed and FailedValidation (Failed Backup Detail).
    Failed,
    /// Not finished yet (stuck detection).
    Unfinished,
}

impl TaskSet {
    pub const NAMES: &'static [&'static str] = &["all", "failed", "unfinished"];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "all" => Some(TaskSet::All),
            "failed" => Some(TaskSet::Failed),
            "unfinished" => Some(TaskSet::Unfinished),
            _ => None,
        }
    }
}

/// A column a page can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSort {
    Name,
    Namespace,
    BackupLocation,
    Schedule,
    Phase,
    Created,
    /// Start time, else creation time (a New task has not started).
    Started,
    Completed,
}

impl TaskSort {
    pub const NAMES: &'static [&'static str] = &[
        "name",
        "namespace",
        "backupLocation",
        "schedule",
        "phase",
        "created",
        "started",
        "completed",
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "name" => TaskSort::Name,
            "namespace" => TaskSort::Namespace,
            "backupLocation" => TaskSort::BackupLocation,
            "schedule" => TaskSort::Schedule,
            "phase" => TaskSort::Phase,
            "created" => TaskSort::Created,
            "started" => TaskSort::Started,
            "completed" => TaskSort::Completed,
            _ => return None,
        })
    }

    fn compare(self, a: &BackupTask, b: &BackupTask) -> Ordering {
        let started = |t: &BackupTask| t.started.or(t.created);
        match self {
            TaskSort::Name => a.name.cmp(&b.name),
            TaskSort::Namespace => a.namespace.cmp(&b.namespace),
            TaskSort::BackupLocation => a.vault.cmp(&b.vault),
            TaskSort::Schedule => a.schedule.cmp(&b.schedule),
            TaskSort::Phase => a.phase.as_str().cmp(b.phase.as_str()),
            TaskSort::Created => a.created.cmp(&b.created),
            TaskSort::Started => started(a).cmp(&started(b)),
            TaskSort::Completed => a.completed.cmp(&b.completed),
        }
    }
}

/// What a client asks for: a set, filters, an order and a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    pub set: TaskSet,
    pub namespace: Option<String>,
    pub backup_location: Option<String>,
    /// `Some("")`: manual tasks only.
    pub schedule: Option<String>,
    /// A task phase (`Failed`, `InProgress`, ...) or an outcome group (`Completed`, ...).
    pub phase: Option<String>,
    /// Case-insensitive substring of the name, vault, schedule, phase or message.
    pub text: String,
    pub sort: TaskSort,
    pub descending: bool,
    pub offset: usize,
    pub limit: usize,
}

/// A query parameter the task list does not accept.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("query parameter {name}={value:?}: {expected}")]
pub struct QueryError {
    pub name: String,
    pub value: String,
    pub expected: String,
}

impl TaskQuery {
    /// The default order of a set: newest failure first, longest-running first, newest first.
    pub fn new(set: TaskSet) -> Self {
        let (sort, descending) = match set {
            TaskSet::Failed => (TaskSort::Completed, true),
            TaskSet::Unfinished => (TaskSort::Started, false),
            TaskSet::All => (TaskSort::Started, true),
        };
        TaskQuery {
            set,
            namespace: None,
            backup_location: None,
            schedule: None,
            phase: None,
            text: String::new(),
            sort,
            descending,
            offset: 0,
            limit: DEFAULT_LIMIT,
        }
    }

    /// From URL query pairs (`set`, `namespace`, `backupLocation`, `schedule`, `phase`, `q`,
    /// `sort`, `order`, `offset`, `limit`); unknown names are an error, so a typo is not
    /// silently a query for everything.
    pub fn from_params<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, QueryError> {
        let params: Vec<(&str, &str)> = params.into_iter().collect();
        let bad = |name: &str, value: &str, expected: String| QueryError {
            name: name.to_string(),
            value: value.to_string(),
            expected,
        };
        let one_of = |names: &[&str]| format!("one of {}", names.join(", "));
        let set = match params.iter().rev().find(|(k, _)| *k == "set") {
            Some((k, v)) => TaskSet::parse(v).ok_or_else(|| bad(k, v, one_of(TaskSet::NAMES)))?,
            None => TaskSet::All,
        };
        let mut query = TaskQuery::new(set);
        for (name, value) in params {
            match name {
                "set" => {}
                "namespace" => query.namespace = Some(value.to_string()),
                "backupLocation" => query.backup_location = Some(value.to_string()),
                "schedule" => query.schedule = Some(value.to_string()),
                "phase" => query.phase = Some(value.to_string()),
                "q" => query.text = value.to_lowercase(),
                "sort" => {
                    query.sort = TaskSort::parse(value)
                        .ok_or_else(|| bad(name, value, one_of(TaskSort::NAMES)))?
                }
                "order" => {
                    query.descending = match value {
                        "asc" => false,
                        "desc" => true,
                        _ => return Err(bad(name, value, "asc or desc".into())),
                    }
                }
                "offset" => {
                    query.offset = value
                        .parse()
                        .map_err(|_| bad(name, value, "a number of rows to skip".into()))?
                }
                "limit" => {
                    query.limit = value
                        .parse()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| {
                            bad(name, value, format!("a number from 1 to {MAX_LIMIT}"))
                        })?
                }
                _ => {
                    return Err(bad(
                        name,
                        value,
                        "not a parameter of the task list (set, namespace, backupLocation, \
                         schedule, phase, q, sort, order, offset, limit)"
                            .into(),
                    ));
                }
            }
        }
        Ok(query)
    }

    fn matches(&self, t: &BackupTask) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        eq(&self.namespace, &t.namespace)
            && eq(&self.backup_location, &t.vault)
            && eq(&self.schedule, &t.schedule)
            && self
                .phase
                .as_deref()
                .is_none_or(|p| p == t.phase.as_str() || p == t.phase.outcome().as_str())
            && (self.text.is_empty()
                || [
                    &t.name,
                    &t.vault,
                    &t.schedule,
                    t.phase.as_str(),
                    &t.raw_phase,
                    &t.message,
                ]
                .iter()
                .any(|f| f.to_lowercase().contains(&self.text)))
    }
}

/// One backup task as the task tables show it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRow {
    pub name: String,
    pub namespace: String,
    pub engine: &'static str,
    pub backup_location: String,
    pub backup_location_exists: bool,
    pub backup_type: &'static str,
    pub data_type: &'static str,
    pub from_schedule: String,
    pub phase: &'static str,
    pub raw_phase: String,
    /// The outcome group of the phase (the Backup Overview bar it counts in).
    pub outcome: &'static str,
    pub severity: Severity,
    /// Reason class of a failed task; empty otherwise.
    pub reason: &'static str,
    /// Why a failed task failed (its message, its twin's or the newest event's); the
    /// controller's own message otherwise.
    pub message: String,
    pub created: Option<Timestamp>,
    pub started: Option<Timestamp>,
    pub completed: Option<Timestamp>,
    /// How long an unfinished task has been running.
    pub running_seconds: Option<f64>,
}

/// A window of the tasks matching a query, with how many match in all.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskPage {
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub items: Vec<TaskRow>,
}

pub fn task_page(center: &BackupCenter, query: &TaskQuery) -> TaskPage {
    let mut matching: Vec<&BackupTask> = match query.set {
        TaskSet::All => center.tasks().filter(|t| query.matches(t)).collect(),
        TaskSet::Failed => center
            .flagged_tasks()
            .filter(|t| t.phase.is_failure() && query.matches(t))
            .collect(),
        TaskSet::Unfinished => center
            .flagged_tasks()
            .filter(|t| t.phase.is_active() && query.matches(t))
            .collect(),
    };
    let total = matching.len();
    let order = |a: &&BackupTask, b: &&BackupTask| {
        let by = query.sort.compare(a, b);
        let by = if query.descending { by.reverse() } else { by };
        // A stable order for ties, so pages never overlap.
        by.then_with(|| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)))
    };
    let end = query.offset.saturating_add(query.limit).min(total);
    if query.offset < total {
        // Only the window needs full order: partition around its end, then sort the head.
        if end < total {
            matching.select_nth_unstable_by(end, order);
            matching.truncate(end);
        }
        matching.sort_unstable_by(order);
    }
    let items = matching
        .get(query.offset.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|t| row(center, t))
        .collect();
    TaskPage {
        total,
        offset: query.offset,
        limit: query.limit,
        items,
    }
}

fn row(center: &BackupCenter, t: &BackupTask) -> TaskRow {
    let view = center.view(t);
    let failed = t.phase.is_failure();
    let (reason, data_type) = center.detail(&view);
    TaskRow {
        name: t.name.to_string(),
        namespace: t.namespace.to_string(),
        engine: t.engine.as_str(),
        backup_location: t.vault.to_string(),
        backup_location_exists: center.task_vault(t).is_some(),
        backup_type: t.backup_type.as_str(),
        data_type: data_type.as_str(),
        from_schedule: t.schedule.to_string(),
        phase: t.phase.as_str(),
        raw_phase: t.raw_phase.to_string(),
        outcome: t.phase.outcome().as_str(),
        severity: t.phase.severity(),
        reason: if failed { reason.as_str() } else { "" },
        message: if failed {
            center.failure_message(&view)
        } else {
            t.message.to_string()
        },
        created: t.created,
        started: t.started,
        completed: t.completed,
        running_seconds: t
            .phase
            .is_active()
            .then(|| center.running_seconds(t))
            .flatten(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::center::tests::{inventory, now};
    use serde_json::json;

    fn task(name: &str, vault: &str, phase: &str, started: &str) -> serde_json::Value {
        json!({"apiVersion": "velero.io/v1", "kind": "Backup",
            "metadata": {"name": name, "namespace": "velero",
                         "creationTimestamp": started},
            "spec": {"storageLocation": vault},
            "status": {"phase": phase, "startTimestamp": started}})
    }

    fn names(page: &TaskPage) -> Vec<&str> {
        page.items.iter().map(|r| r.name.as_str()).collect()
    }

    fn query(params: &[(&str, &str)]) -> TaskQuery {
        TaskQuery::from_params(params.iter().copied()).unwrap()
    }

    #[test]
    fn pages_are_windows_of_one_stable_order() {
        let inv = inventory(
            (0..7)
                .map(|i| {
                    task(
                        &format!("t{i}"),
                        "v",
                        "Completed",
                        // t3 and t4 start together: the name breaks the tie.
                        &format!("2026-11-2{}T00:00:00Z", [1, 2, 3, 4, 4, 5, 6][i]),
                    )
                })
                .collect(),
        );
        let c = BackupCenter::new(&inv, now());
        let first = task_page(&c, &query(&[("limit", "3")]));
        assert_eq!(first.total, 7);
        assert_eq!(names(&first), ["t6", "t5", "t3"]);
        let second = task_page(&c, &query(&[("limit", "3"), ("offset", "3")]));
        assert_eq!(names(&second), ["t4", "t2", "t1"]);
        let last = task_page(&c, &query(&[("limit", "3"), ("offset", "6")]));
        assert_eq!(names(&last), ["t0"]);
        let past = task_page(&c, &query(&[("offset", "99")]));
        assert_eq!((past.total, past.items.len()), (7, 0));
        let by_name = task_page(&c, &query(&[("sort", "name"), ("order", "asc")]));
        assert_eq!(names(&by_name), ["t0", "t1", "t2", "t3", "t4", "t5", "t6"]);
    }

    #[test]
    fn sets_and_filters() {
        let inv = inventory(vec![
            task("ok", "a", "Completed", "2026-11-24T00:00:00Z"),
            task("broken", "a", "Failed", "2026-11-24T01:00:00Z"),
            task("partial", "b", "PartiallyFailed", "2026-11-24T02:00:00Z"),
            task("invalid", "b", "FailedValidation", "2026-11-24T03:00:00Z"),
            task("running", "a", "InProgress", "2026-11-25T08:00:00Z"),
            task(
                "waiting",
                "a",
                "WaitingForPluginOperations",
                "2026-11-25T07:00:00Z",
            ),
        ]);
        let c = BackupCenter::new(&inv, now());
        let failed = task_page(&c, &query(&[("set", "failed"), ("sort", "name")]));
        assert_eq!(names(&failed), ["partial", "invalid", "broken"]);
        assert_eq!(failed.items[2].severity, Severity::Critical);
        assert_eq!(failed.items[0].reason, "PartialFailure");
        let unfinished = task_page(&c, &query(&[("set", "unfinished")]));
        // Longest running first.
        assert_eq!(names(&unfinished), ["waiting", "running"]);
        assert_eq!(unfinished.items[1].running_seconds, Some(3600.0));
        assert_eq!(unfinished.items[1].reason, "");
        let in_a = task_page(&c, &query(&[("backupLocation", "a"), ("sort", "name")]));
        assert_eq!(in_a.total, 4);
        // An outcome group matches every phase in it; a phase only itself.
        let group = task_page(&c, &query(&[("phase", "Failed")]));
        assert_eq!(group.total, 2);
        let exact = task_page(&c, &query(&[("phase", "FailedValidation")]));
        assert_eq!(names(&exact), ["invalid"]);
        let text = task_page(&c, &query(&[("q", "PART")]));
        assert_eq!(names(&text), ["partial"]);
        let none = task_page(&c, &query(&[("namespace", "elsewhere")]));
        assert_eq!((none.total, none.items.len()), (0, 0));
    }

    #[test]
    fn bad_parameters_say_what_is_accepted() {
        let err = |params: &[(&str, &str)]| {
            TaskQuery::from_params(params.iter().copied())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(&[("limit", "0")]),
            "query parameter limit=\"0\": a number from 1 to 500"
        );
        assert_eq!(
            err(&[("limit", "501")]),
            "query parameter limit=\"501\": a number from 1 to 500"
        );
        assert_eq!(
            err(&[("sort", "reason")]),
            "query parameter sort=\"reason\": one of name, namespace, backupLocation, \
             schedule, phase, created, started, completed"
        );
        assert_eq!(
            err(&[("set", "broken")]),
            "query parameter set=\"broken\": one of all, failed, unfinished"
        );
        assert!(err(&[("offset", "-1")]).contains("a number of rows to skip"));
        assert!(err(&[("vault", "x")]).contains("not a parameter of the task list"));
        // An empty schedule means manual tasks, not "any schedule".
        assert_eq!(query(&[("schedule", "")]).schedule, Some(String::new()));
    }
}
