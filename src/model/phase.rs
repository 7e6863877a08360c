//! The phase vocabularies of both backup systems, decided in one place.
//!
//! Every enum has an `Unknown` fallback so label values stay bounded; the raw string the
//! object carried is kept next to it in the record (for `describe` and `doctor`).

macro_rules! phase_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        pub enum $name {
            $($variant,)+
            /// A value neither system documents; the raw string is kept on the record.
            Unknown,
        }

        impl $name {
            /// Every known state, in display order, `Unknown` last.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+ $name::Unknown];

            /// The text of every state in [`Self::ALL`] order: the bounded values of a
            /// metric label that carries this vocabulary.
            pub const NAMES: &'static [&'static str] = &[$($text,)+ "Unknown"];

            /// [`Self::NAMES`] without `Unknown`, for labels that never carry it.
            pub const KNOWN: &'static [&'static str] = &[$($text,)+];

            /// Case-sensitive, as the controllers write them; anything else is `Unknown`.
            pub fn parse(raw: &str) -> Self {
                match raw {
                    $($text => $name::$variant,)+
                    _ => $name::Unknown,
                }
            }

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Unknown => "Unknown",
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

phase_enum! {
    /// Phase of a backup vault (ACK BackupLocation, Velero BackupStorageLocation).
    VaultPhase {
        Available => "Available",
        Unavailable => "Unavailable",
        InProgress => "InProgress",
    }
}

phase_enum! {
    /// Phase of a backup or restore task: the union of ACK's four job phases and Velero's
    /// Backup/Restore enums up to v1.18 (`Queued`, `ReadyToStart`).
    TaskPhase {
        New => "New",
        Queued => "Queued",
        ReadyToStart => "ReadyToStart",
        InProgress => "InProgress",
        WaitingForPluginOperations => "WaitingForPluginOperations",
        WaitingForPluginOperationsPartiallyFailed => "WaitingForPluginOperationsPartiallyFailed",
        Finalizing => "Finalizing",
        FinalizingPartiallyFailed => "FinalizingPartiallyFailed",
        Completed => "Completed",
        PartiallyFailed => "PartiallyFailed",
        Failed => "Failed",
        FailedValidation => "FailedValidation",
        Deleting => "Deleting",
    }
}

/// Phases of older releases under the name their meaning has now: Velero 1.10's `Uploading`
/// and `UploadingPartialFailure` (data movers uploading snapshot data after the backup
/// proper) became `WaitingForPluginOperations*` in 1.11. The raw string stays on the record.
const RENAMED_TASK_PHASES: &[(&str, TaskPhase)] = &[
    ("Uploading", TaskPhase::WaitingForPluginOperations),
    (
        "UploadingPartialFailure",
        TaskPhase::WaitingForPluginOperationsPartiallyFailed,
    ),
];

impl TaskPhase {
    /// A task without a phase has not been picked up by its controller yet; Velero calls that
    /// `New`, ACK documents no initial value, so both read as `New`. Renamed phases of older
    /// releases read as their current name.
    pub fn parse_or_new(raw: Option<&str>) -> Self {
        match raw.map(str::trim) {
            None | Some("") => TaskPhase::New,
            Some(s) => match TaskPhase::parse(s) {
                TaskPhase::Unknown => RENAMED_TASK_PHASES
                    .iter()
                    .find(|(old, _)| *old == s)
                    .map_or(TaskPhase::Unknown, |(_, now)| *now),
                known => known,
            },
        }
    }

    /// The phase as a report names it to a person: the model's word, followed by the string
    /// the object carries when that differs and is not empty, so an undocumented phase reads
    /// `Unknown ("Exploding")`, a Velero 1.10 one `WaitingForPluginOperations ("Uploading")`
    /// and a Completed backup being deleted `Deleting ("Completed")`; no phase at all is `New`.
    pub fn shown(self, raw: &str) -> String {
        let raw = raw.trim();
        if raw.is_empty() || raw == self.as_str() {
            self.as_str().to_string()
        } else {
            format!("{self} ({raw:?})")
        }
    }

    /// The task will not change any more (Deleting is transient; Unknown is not trusted to be
    /// final, so it counts as still running and can surface as stuck).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskPhase::Completed
                | TaskPhase::PartiallyFailed
                | TaskPhase::Failed
                | TaskPhase::FailedValidation
        )
    }

    /// A terminal phase that needs a human: these get a Failed Backup Detail row.
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            TaskPhase::PartiallyFailed | TaskPhase::Failed | TaskPhase::FailedValidation
        )
    }

    /// Not finished and not merely being deleted: the tasks stuck detection looks at.
    pub fn is_active(self) -> bool {
        !self.is_terminal() && self != TaskPhase::Deleting
    }
}

phase_enum! {
    /// The outcome groups dashboards count tasks by (Backup Overview: Completed and Failed
    /// bars): a small fixed set whatever phases the engine has.
    Outcome {
        Completed => "Completed",
        PartiallyFailed => "PartiallyFailed",
        Failed => "Failed",
        InProgress => "InProgress",
    }
}

impl TaskPhase {
    /// Velero's many in-flight phases are all "in progress"; FailedValidation is a failure;
    /// Deleting and undocumented phases are `Unknown`.
    pub fn outcome(self) -> Outcome {
        match self {
            TaskPhase::Completed => Outcome::Completed,
            TaskPhase::PartiallyFailed => Outcome::PartiallyFailed,
            TaskPhase::Failed | TaskPhase::FailedValidation => Outcome::Failed,
            TaskPhase::Deleting | TaskPhase::Unknown => Outcome::Unknown,
            _ => Outcome::InProgress,
        }
    }
}

phase_enum! {
    /// Health of a working component, spelled exactly as the ACK Addon Status dashboard does.
    ComponentStatus {
        Health => "Health",
        UnHealth => "UnHealth",
        NotFound => "NotFound",
    }
}

phase_enum! {
    /// Phase of a schedule (Velero `Schedule.status.phase`; ACK mirrors it where present).
    /// A schedule in FailedValidation never runs.
    SchedulePhase {
        New => "New",
        Enabled => "Enabled",
        FailedValidation => "FailedValidation",
    }
}

phase_enum! {
    /// Phase of a Kubernetes Pod (`status.phase`), as the kubelet reports it.
    PodPhase {
        Pending => "Pending",
        Running => "Running",
        Succeeded => "Succeeded",
        Failed => "Failed",
    }
}

phase_enum! {
    /// What a backup task copies: only the applications' YAML, or YAML plus volume data.
    BackupType {
        AppBackup => "AppBackup",
        AppAndPvBackup => "AppAndPvBackup",
    }
}

phase_enum! {
    /// Where the volume data of a backup went (ACK's DataType column). File-system volumes go
    /// to Cloud Backup on ACK (`hbr`) and to Velero's file-system backup (kopia/restic) on
    /// Velero (`fs`). `NotApplicable` is an `AppBackup`, which copies no volume data at all.
    DataType {
        Snapshot => "snapshot",
        Hbr => "hbr",
        FileSystem => "fs",
        All => "all",
        None => "none",
        NotApplicable => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_phases_are_bounded_and_case_sensitive() {
        assert_eq!(VaultPhase::parse("Available"), VaultPhase::Available);
        assert_eq!(VaultPhase::parse("available"), VaultPhase::Unknown);
        assert_eq!(VaultPhase::parse(&"x".repeat(10_000)), VaultPhase::Unknown);
        assert_eq!(TaskPhase::parse("Exploded"), TaskPhase::Unknown);
        assert_eq!(TaskPhase::Unknown.as_str(), "Unknown");
    }

    #[test]
    fn missing_task_phase_is_new() {
        assert_eq!(TaskPhase::parse_or_new(None), TaskPhase::New);
        assert_eq!(TaskPhase::parse_or_new(Some(" ")), TaskPhase::New);
        assert_eq!(TaskPhase::parse_or_new(Some("Queued")), TaskPhase::Queued);
    }

    #[test]
    fn velero_1_10_phases_read_as_their_1_11_names() {
        assert_eq!(
            TaskPhase::parse_or_new(Some("Uploading")),
            TaskPhase::WaitingForPluginOperations
        );
        assert_eq!(
            TaskPhase::parse_or_new(Some("UploadingPartialFailure")),
            TaskPhase::WaitingForPluginOperationsPartiallyFailed
        );
        assert!(TaskPhase::parse_or_new(Some("Uploading")).is_active());
        // Case-sensitive like every other phase.
        assert_eq!(
            TaskPhase::parse_or_new(Some("uploading")),
            TaskPhase::Unknown
        );
    }

    #[test]
    fn shown_phase_keeps_what_the_object_says() {
        assert_eq!(
            TaskPhase::Unknown.shown("Exploding"),
            r#"Unknown ("Exploding")"#
        );
        assert_eq!(TaskPhase::New.shown(""), "New");
        assert_eq!(TaskPhase::InProgress.shown("InProgress"), "InProgress");
        assert_eq!(
            TaskPhase::WaitingForPluginOperations.shown("Uploading"),
            r#"WaitingForPluginOperations ("Uploading")"#
        );
        assert_eq!(
            TaskPhase::Deleting.shown("Completed"),
            r#"Deleting ("Completed")"#
        );
    }

    #[test]
    fn terminal_failure_and_active_partition_the_phases() {
        for p in TaskPhase::ALL {
            if p.is_failure() {
                assert!(p.is_terminal(), "{p}");
            }
            assert!(!(p.is_active() && p.is_terminal()), "{p}");
        }
        assert!(TaskPhase::Unknown.is_active());
        assert!(!TaskPhase::Deleting.is_active());
        assert!(TaskPhase::WaitingForPluginOperations.is_active());
    }

    #[test]
    fn outcomes_follow_the_phase_predicates() {
        for p in TaskPhase::ALL {
            let o = p.outcome();
            assert_eq!(
                o == Outcome::InProgress,
                p.is_active() && *p != TaskPhase::Unknown,
                "{p}"
            );
            assert_eq!(
                matches!(o, Outcome::Failed | Outcome::PartiallyFailed),
                p.is_failure(),
                "{p}"
            );
        }
    }

    #[test]
    fn every_variant_round_trips_through_its_text() {
        for p in TaskPhase::ALL.iter().filter(|p| **p != TaskPhase::Unknown) {
            assert_eq!(TaskPhase::parse(p.as_str()), *p);
        }
        for d in DataType::ALL.iter().filter(|d| **d != DataType::Unknown) {
            assert_eq!(DataType::parse(d.as_str()), *d);
        }
    }
}
