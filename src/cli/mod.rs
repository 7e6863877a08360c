//! The command line: one file per subcommand. Raw arguments are only validated here; the
//! source is opened once and handed to the subcommand.

pub mod command_line;
pub mod config;
pub mod dashboards;
pub mod describe;
pub mod doctor;
pub mod duration;
pub mod environment;
pub mod events;
pub mod manifests;
pub mod manual;
pub mod output;
pub mod plugin;
pub mod probe;
pub mod reference;
pub mod rules;
pub mod scan;
pub mod serve;
pub mod snapshot;
pub mod status;
pub mod terminal;

use crate::center::BackupCenter;
use crate::inventory::{Coverage, Inventory};
use crate::model::{Engine, Timestamp};
use crate::source::health::SourceHealth;
use crate::source::{kube as live, snapshot as export};
use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use output::Format;
use std::path::PathBuf;
use terminal::warn;

/// Observability for Kubernetes backup centers: Alibaba Cloud ACK backup center
/// (csdr.alibabacloud.com) and upstream Velero (velero.io).
#[derive(Debug, Parser)]
#[command(name = "backupscope", version, propagate_version = true)]
pub struct Cli {
    /// Read flag values from this YAML file (keys are the long flag names; see
    /// docs/configuration.md). A flag typed or set in the environment wins over the file.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the three dashboards: Backup Locations, Backup Operation Status, Addon Status.
    Status(StatusArgs),
    /// Show one backup location or backup task in detail, with related tasks and events.
    Describe(DescribeArgs),
    /// Export what backupscope reads from the cluster as kubectl-style YAML (a support bundle;
    /// never Secrets).
    Snapshot(SnapshotArgs),
    /// Serve Prometheus metrics (/metrics, /healthz, /readyz) for a live cluster or a snapshot.
    Serve(serve::ServeArgs),
    /// Check each vault's bucket the way Velero validates it (list at the prefix root, only
    /// Velero's top-level folders), with backupscope's own credentials; classify failures.
    Probe(probe::ProbeCmdArgs),
    /// Compare what each vault's bucket holds under backups/ with the cluster's tasks: missing
    /// tarballs or metadata, orphans in the bucket, Completed tasks with nothing stored,
    /// phase disagreements.
    Scan(scan::ScanArgs),
    /// Find what is broken: one finding per root cause with its evidence, cause and fix.
    /// Exit status 0: nothing at warning or above, 1: findings, 2: could not run.
    Doctor(doctor::DoctorArgs),
    /// Print the metric reference (every family, its labels and their values) as Markdown;
    /// docs/metrics.md is this output.
    Metrics,
    /// Write the Grafana dashboards (Backup Locations, Backup Operation Status, Addon Status,
    /// Backup Health), generated from the metric declarations; dashboards/ is this output.
    Dashboards(dashboards::DashboardsArgs),
    /// Print the Prometheus alert rules generated from the metric declarations (a plain rule
    /// file, or a PrometheusRule with --prometheusrule); rules/ holds the defaults' output.
    Rules(rules::RulesArgs),
    /// List the backup center's Warning events with the task, vault or component each belongs
    /// to, its phase and reason class (`kubectl get events --field-selector type!=Normal`,
    /// enriched); --watch follows a live cluster.
    Events(events::EventsArgs),
    /// Write the install files generated from the code: the kustomize base and overlays
    /// (deploy/) and the generated parts of the Helm chart (charts/backupscope), with RBAC
    /// rules exactly for the API calls backupscope makes.
    Manifests(manifests::ManifestsArgs),
    /// Install backupscope as a kubectl plugin (`kubectl backupscope status`).
    Plugin(plugin::PluginArgs),
    /// Print a shell completion script generated from the command-line definition.
    Completions(manual::CompletionsArgs),
    /// Print the man page (roff), or write one page per command with --out; docs/man/ is this
    /// output.
    Man(manual::ManArgs),
    /// Print the configuration reference (every flag with its environment variable,
    /// config-file key and default) as Markdown; docs/configuration.md is this output.
    Configuration,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Directory to write the export to (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    #[command(flatten)]
    pub kube: live::KubeArgs,
}

/// Where the backup center's state comes from.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// Read objects exported with `kubectl get -o yaml|json`: a file, a directory (recursive)
    /// or a .tar.gz support bundle, e.g. examples/ack-cluster.
    #[arg(long, value_name = "PATH")]
    pub snapshot: Option<PathBuf>,
    /// Which backup system to look at.
    #[arg(long, value_enum, default_value_t = EngineArg::Auto)]
    pub engine: EngineArg,
    /// Evaluate ages and durations at this instant (RFC 3339) instead of the current time;
    /// useful to read a support bundle as of the moment it was taken.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<Timestamp>,
    #[command(flatten)]
    pub kube: live::KubeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// Every backup system found.
    Auto,
    /// ACK backup center (csdr.alibabacloud.com).
    Ack,
    /// Upstream Velero (velero.io).
    Velero,
}

impl EngineArg {
    pub fn engine(self) -> Option<Engine> {
        match self {
            EngineArg::Auto => None,
            EngineArg::Ack => Some(Engine::Ack),
            EngineArg::Velero => Some(Engine::Velero),
        }
    }
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

#[derive(Debug, Args)]
pub struct DescribeArgs {
    /// What to describe.
    #[arg(value_enum)]
    pub kind: describe::Kind,
    /// Its name.
    pub name: String,
    /// Namespace, when the name exists in several.
    #[arg(short, long)]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// backuplocation: also probe its bucket now and show the result (see `probe`).
    #[arg(long)]
    pub probe: bool,
    /// backuplocation: also scan its bucket's backups against the cluster (see `scan`).
    #[arg(long)]
    pub scan: bool,
    #[command(flatten)]
    pub vault: probe::VaultArgs,
}

/// The opened source: the inventory and the instant to evaluate it at.
pub struct Loaded {
    pub inventory: Inventory,
    pub now: Timestamp,
    pub engine: Option<Engine>,
}

impl Loaded {
    pub fn center(&self) -> BackupCenter<'_> {
        BackupCenter::for_engine(&self.inventory, self.now, self.engine)
    }
}

/// Opens the source the arguments name: the snapshot when given, else the live cluster.
pub async fn load(args: &SourceArgs) -> anyhow::Result<Loaded> {
    let inventory = match &args.snapshot {
        Some(path) => {
            let (records, report) = export::load(path)?;
            // A `kubectl version -o json` file in a bundle is no Kubernetes object, but no
            // mistake either: doctor reads it.
            for e in report
                .errors
                .iter()
                .filter(|e| !doctor::is_version_file(std::path::Path::new(&e.path)))
            {
                warn(&format!("skipped {e}"));
            }
            if !report.unknown_kinds.is_empty() {
                tracing::debug!(kinds = ?report.unknown_kinds, "skipped objects of kinds backupscope does not read");
            }
            let mut inventory: Inventory = records.into_iter().collect();
            inventory.workload_coverage = Coverage::Exported;
            inventory
        }
        None => {
            let (targets, objects) = list_cluster(&args.kube).await?;
            live::inventory_from_list(&targets, &objects)
        }
    };
    Ok(Loaded {
        inventory,
        now: args.now.unwrap_or_else(Timestamp::now),
        engine: args.engine.engine(),
    })
}

/// Empty dashboards deserve a reason: the cluster serves neither backup system's CRDs.
fn note_if_nothing_installed(plan: &live::Plan) {
    if plan.unavailable.is_empty() && plan.targets.iter().all(|t| t.engine.is_none()) {
        terminal::line(&format!(
            "note: neither the ACK backup center ({}) nor Velero ({}) is installed in this cluster",
            crate::dialect::ack::GROUP,
            crate::dialect::velero::GROUP
        ));
    }
}

/// Reads everything backupscope needs from the cluster once, telling the user on stderr what
/// could not be read.
async fn list_cluster(
    kube: &live::KubeArgs,
) -> anyhow::Result<(Vec<live::Target>, Vec<(usize, serde_json::Value)>)> {
    let client = live::client(kube).await?;
    let plan = live::plan(&client, kube).await?;
    note_if_nothing_installed(&plan);
    for (group, e) in &plan.unavailable {
        warn(&format!("API group {group} not read: {e}"));
    }
    let health = SourceHealth::new();
    let objects = live::list_all(&client, &plan.targets, kube.page_size, &health).await;
    warn_down(&health);
    Ok((plan.targets, objects))
}

/// Tells the user which parts of the cluster could not be read (and so are missing).
fn warn_down(health: &SourceHealth) {
    for (source, state) in health.snapshot() {
        if !state.up {
            warn(&format!("{source} not read: {}", state.last_error));
        }
    }
}

/// A command that ran to its end but asks for a non-zero exit status, with what it printed
/// (`doctor`: 1 = findings, 2 = could not run). Returned as an error so `run` keeps one shape.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub stdout: String,
    pub error: Option<anyhow::Error>,
}

impl Exit {
    pub fn with_output(code: u8, stdout: String) -> Self {
        Exit {
            code,
            stdout,
            error: None,
        }
    }

    pub fn failed(code: u8, error: anyhow::Error) -> Self {
        Exit {
            code,
            stdout: String::new(),
            error: Some(error),
        }
    }

    /// Prints what the command produced and gives its exit status.
    pub fn finish(self) -> std::process::ExitCode {
        use std::io::Write;
        // A closed pipe (`| head`) is not an error worth a message.
        let _ = std::io::stdout().write_all(self.stdout.as_bytes());
        if let Some(e) = &self.error {
            eprintln!("error: {e:#}");
        }
        std::process::ExitCode::from(self.code)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error {
            Some(e) => write!(f, "{e:#}"),
            None => write!(f, "exit status {}", self.code),
        }
    }
}

impl std::error::Error for Exit {}

/// Runs a parsed command line; returns what to print on stdout.
pub async fn run(cli: Cli) -> anyhow::Result<String> {
    match cli.command {
        Command::Status(args) => {
            let loaded = load(&args.source).await?;
            crate::report::StatusReport::build(&loaded.center())
                .render(args.output, output::colour_enabled())
        }
        Command::Describe(args) => {
            let loaded = load(&args.source).await?;
            let center = loaded.center();
            let ns = args.namespace.as_deref();
            match args.kind {
                describe::Kind::Backuplocation => {
                    let mut d = crate::report::describe::describe_vault(&center, &args.name, ns)
                        .context("describe backuplocation")?;
                    if args.probe {
                        let key = crate::vault::VaultKey::of(&d.vault);
                        d.probe = probe::probe_one(&key, &loaded, &args.vault).await?;
                    }
                    if args.scan {
                        let vaults =
                            probe::select(&loaded, Some(&d.vault.name), Some(&d.vault.namespace))?;
                        d.scan = scan::scan_all(
                            &loaded,
                            &vaults,
                            &args.vault,
                            std::time::Duration::from_secs(300),
                        )
                        .await?
                        .into_iter()
                        .next();
                    }
                    d.render(loaded.now, args.output)
                }
                describe::Kind::Backup => {
                    crate::report::describe::describe_backup(&center, &args.name, ns)
                        .context("describe backup")?
                        .render(loaded.now, args.output)
                }
            }
        }
        Command::Doctor(args) => doctor::run(args).await,
        Command::Serve(args) => serve::run(args).await,
        Command::Probe(args) => probe::run(args).await,
        Command::Scan(args) => scan::run(args).await,
        Command::Metrics => Ok(crate::metrics::families::reference()),
        Command::Dashboards(args) => dashboards::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Manifests(args) => manifests::run(&args),
        Command::Events(args) if args.watch => events::watch(&args).await,
        Command::Events(args) => {
            let loaded = load(&args.source).await?;
            crate::report::events::EventsReport::build(&loaded.center()).render(
                loaded.now,
                args.output,
                output::colour_enabled(),
            )
        }
        Command::Plugin(args) => plugin::run(&args),
        Command::Completions(args) => Ok(manual::completions(&args)),
        Command::Man(args) => manual::man(&args),
        Command::Configuration => Ok(reference::markdown()),
        Command::Snapshot(args) => {
            let (targets, objects) = list_cluster(&args.kube).await?;
            let (files, count) = snapshot::write(&args.out, &targets, objects)?;
            Ok(format!(
                "wrote {count} objects in {files} files to {}\n",
                args.out.display()
            ))
        }
    }
}
