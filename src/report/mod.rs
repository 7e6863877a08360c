//! The documents backupscope reports: what `status` and `describe` print, what the web JSON API
//! serves and what `doctor` builds on. They are plain serde types built from the resolved
//! center (`crate::center`); the CLI renders them as tables or serializes them (`-o json|yaml`),
//! the web serves them as JSON. Field names are part of the `-o json` contract (docs/cli.md).

pub mod describe;
pub mod detail;
pub mod doctor;
pub mod events;
pub mod overview;
pub mod probe;
pub mod status;
pub mod tasks;

use crate::model::{Outcome, Timestamp, WarningEvent};
use serde::Serialize;

pub use describe::{BackupDescription, DescribeError, VaultDescription};
pub use status::StatusReport;

/// Task counts by outcome group (the Backup Overview bars).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutcomeCounts {
    pub completed: u64,
    pub partially_failed: u64,
    /// Failed and FailedValidation.
    pub failed: u64,
    /// Not yet finished (New, Queued, InProgress, WaitingForPluginOperations, ...).
    pub in_progress: u64,
    /// Deleting, or a phase neither system documents.
    pub other: u64,
    pub total: u64,
}

impl OutcomeCounts {
    /// From counts indexed by `Outcome as usize`.
    pub fn from_index(by_outcome: &[u64; Outcome::ALL.len()]) -> Self {
        let n = |o: Outcome| by_outcome[o as usize];
        OutcomeCounts {
            completed: n(Outcome::Completed),
            partially_failed: n(Outcome::PartiallyFailed),
            failed: n(Outcome::Failed),
            in_progress: n(Outcome::InProgress),
            other: n(Outcome::Unknown),
            total: by_outcome.iter().sum(),
        }
    }

    /// The groups with their counts, in display order (`Unknown` for `other`).
    pub fn groups(&self) -> [(&'static str, u64); 5] {
        [
            (Outcome::Completed.as_str(), self.completed),
            (Outcome::PartiallyFailed.as_str(), self.partially_failed),
            (Outcome::Failed.as_str(), self.failed),
            (Outcome::InProgress.as_str(), self.in_progress),
            (Outcome::Unknown.as_str(), self.other),
        ]
    }

    pub fn add(&mut self, outcome: Outcome) {
        let slot = match outcome {
            Outcome::Completed => &mut self.completed,
            Outcome::PartiallyFailed => &mut self.partially_failed,
            Outcome::Failed => &mut self.failed,
            Outcome::InProgress => &mut self.in_progress,
            Outcome::Unknown => &mut self.other,
        };
        *slot += 1;
        self.total += 1;
    }
}

/// A non-Normal event as the reports show it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventRow {
    pub event_type: String,
    pub reason: String,
    pub last_timestamp: Option<Timestamp>,
    pub count: u64,
    pub source: String,
    pub message: String,
}

impl From<&WarningEvent> for EventRow {
    fn from(e: &WarningEvent) -> Self {
        EventRow {
            event_type: e.event_type.clone(),
            reason: e.reason.clone(),
            last_timestamp: e.last,
            count: e.count,
            source: e.source.clone(),
            message: e.message.clone(),
        }
    }
}
