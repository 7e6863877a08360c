//! `backupscope events`: the backup center's Warning events with the task, vault or component
//! each belongs to — the one-command answer to
//! `kubectl -n csdr get events --field-selector type!=Normal`, for ACK and Velero alike.

use super::SourceArgs;
use super::output::{self, Format, Table, cell};
use crate::center::BackupCenter;
use crate::inventory::Inventory;
use crate::model::Timestamp;
use crate::report::events::{EventEntry, EventsReport};
use crate::source::health::SourceHealth;
use crate::source::kube as live;
use clap::Args;
use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, RwLock};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format; with --watch, json prints one event per line.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Keep watching a live cluster and print every new or recurring Warning event as it
    /// arrives (stop with Ctrl-C).
    #[arg(short, long)]
    pub watch: bool,
}

const HEADERS: &[&str] = &[
    "LAST SEEN",
    "NAMESPACE",
    "TYPE",
    "REASON",
    "OBJECT",
    "BELONGS TO",
    "VAULT",
    "PHASE",
    "CLASS",
    "COUNT",
    "MESSAGE",
];

fn row(now: Timestamp, e: &EventEntry) -> Vec<String> {
    let owner = e.belongs_to.as_ref();
    vec![
        output::age(now, e.last_timestamp),
        cell(&e.namespace),
        cell(&e.event_type),
        cell(&e.reason),
        cell(&format!(
            "{}/{}",
            e.involved_object.kind.to_lowercase(),
            e.involved_object.name
        )),
        owner.map_or_else(
            || "<gone>".to_string(),
            |o| cell(&format!("{}/{}", o.kind.as_str(), o.name)),
        ),
        cell(owner.map_or("", |o| o.vault.as_str())),
        cell(owner.map_or("", |o| o.phase.as_str())),
        cell(owner.and_then(|o| o.reason_class.as_deref()).unwrap_or("")),
        e.count.to_string(),
        cell(&e.message),
    ]
}

impl EventsReport {
    pub fn render(&self, now: Timestamp, format: Format, colour: bool) -> anyhow::Result<String> {
        if format != Format::Table {
            return output::serialize(self, format);
        }
        if self.events.is_empty() {
            return Ok("No Warning events of the backup center.\n".to_string());
        }
        let mut t = Table::new(HEADERS, colour);
        for e in &self.events {
            t.row(row(now, e));
        }
        Ok(t.render())
    }
}

/// How long `--watch` waits for the first complete list before printing what it has.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(500);

/// `--watch`: watches the cluster like `serve` does and prints each event the first time it is
/// seen and again whenever its count or last time changes.
pub async fn watch(args: &EventsArgs) -> anyhow::Result<String> {
    if args.source.snapshot.is_some() {
        anyhow::bail!("--watch needs a live cluster; a snapshot does not change");
    }
    let kube = &args.source.kube;
    let client = live::client(kube).await?;
    let targets = live::plan(&client, kube).await?.targets;
    let inventory = Arc::new(RwLock::new(Inventory::new()));
    let health = Arc::new(SourceHealth::new());
    let tasks = live::spawn_watches(
        &client,
        targets,
        kube.page_size,
        inventory.clone(),
        health.clone(),
    );
    let settle = tokio::time::Instant::now() + SETTLE_TIMEOUT;
    while !health.all_settled() && tokio::time::Instant::now() < settle {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut seen: HashMap<(String, String), (u64, Option<Timestamp>)> = HashMap::new();
    let mut header = args.output == Format::Table;
    let colour = output::colour_enabled();
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    loop {
        let now = args.source.now.unwrap_or_else(Timestamp::now);
        let fresh: Vec<EventEntry> = {
            let inv = inventory
                .read()
                .map_err(|_| anyhow::anyhow!("the inventory lock is poisoned"))?;
            let center = BackupCenter::for_engine(&inv, now, args.source.engine.engine());
            EventsReport::build(&center)
                .events
                .into_iter()
                .filter(|e| {
                    let key = (e.namespace.clone(), e.name.clone());
                    let state = (e.count, e.last_timestamp);
                    seen.insert(key, state) != Some(state)
                })
                .collect()
        };
        if !fresh.is_empty() {
            let text = match args.output {
                Format::Table => {
                    let mut t = Table::new(HEADERS, colour);
                    for e in &fresh {
                        t.row(row(now, e));
                    }
                    let rendered = t.render();
                    if header {
                        header = false;
                        rendered
                    } else {
                        rendered
                            .split_once('\n')
                            .map_or(String::new(), |(_, rows)| rows.to_string())
                    }
                }
                Format::Json => fresh
                    .iter()
                    .map(|e| serde_json::to_string(e).map(|s| s + "\n"))
                    .collect::<Result<String, _>>()?,
                Format::Yaml => fresh
                    .iter()
                    .map(|e| serde_norway::to_string(e).map(|s| format!("---\n{s}")))
                    .collect::<Result<String, _>>()?,
            };
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = &mut ctrl_c => break,
        }
    }
    for t in tasks {
        t.abort();
    }
    Ok(String::new())
}
