//! `backupscope doctor`: renders the doctor document (`crate::report::doctor`) as a summary
//! table followed by each finding's evidence, cause and fix; `-o json|yaml` serializes it.
//! Exit status: 0 nothing at warning or above, 1 findings, 2 could not run.

use super::output::{self, Format, Table, cell, text};
use super::{Exit, SourceArgs};
use crate::center::Severity;
use crate::report::doctor::{ClusterFacts, DoctorReport};
use clap::Args;
use std::path::Path;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Print what a rule checks, when it fires and where its fix comes from, then exit
    /// (`all` lists every rule).
    #[arg(long, value_name = "RULE")]
    pub explain: Option<String>,
    /// Also probe every vault's bucket (as `backupscope probe` does, with the same options)
    /// and use the results as evidence: a vault the cluster calls Available whose bucket fails
    /// the probe becomes a finding (vault-probe-failing).
    #[arg(long)]
    pub probe: bool,
    #[command(flatten)]
    pub vault: super::probe::VaultArgs,
    /// Vaults probed at once (with --probe).
    #[arg(long, default_value_t = 16)]
    pub probe_concurrency: usize,
}

pub async fn run(args: DoctorArgs) -> anyhow::Result<String> {
    if let Some(id) = &args.explain {
        return explain(id).map_err(|e| Exit::failed(2, e).into());
    }
    let loaded = super::load(&args.source)
        .await
        .map_err(|e| Exit::failed(2, e.context("doctor could not read the backup center")))?;
    let probes = if args.probe {
        let vaults: Vec<_> = loaded.center().vaults().cloned().collect();
        super::probe::probe_all(&vaults, &args.vault, args.probe_concurrency)
            .await
            .map_err(|e| Exit::failed(2, e.context("doctor --probe could not probe the vaults")))?
    } else {
        Vec::new()
    };
    let facts = ClusterFacts {
        kubernetes_version: kubernetes_version(&args.source).await,
        ..ClusterFacts::default()
    }
    .with_probes(probes);
    let report = DoctorReport::build(&loaded.center(), &facts);
    let out = report.render(args.output).map_err(|e| Exit::failed(2, e))?;
    if report.worst() >= Severity::Warning {
        return Err(Exit::with_output(1, out).into());
    }
    Ok(out)
}

/// The docs of one rule, or of all.
pub fn explain(id: &str) -> anyhow::Result<String> {
    let rules: Vec<&crate::doctor::Rule> = if id == "all" {
        crate::doctor::RULES.iter().collect()
    } else {
        match crate::doctor::rule(id) {
            Some(r) => vec![r],
            None => anyhow::bail!(
                "no rule {id:?}; the rules are: {}",
                crate::doctor::RULE_IDS.join(", ")
            ),
        }
    };
    let mut out = String::new();
    for r in rules {
        out.push_str(&format!("{} ({}): {}\n\n", r.id, r.engines, r.title));
        out.push_str(&wrap(r.doc, 96, ""));
        out.push('\n');
    }
    Ok(out)
}

/// Wraps text at word boundaries, each line indented.
fn wrap(s: &str, width: usize, indent: &str) -> String {
    hanging(s, width, indent, indent)
}

/// Wraps text at word boundaries: the first line after `first`, the others after `rest`.
fn hanging(s: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(if out.is_empty() { first } else { rest });
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(if out.is_empty() { first } else { rest });
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The cluster's Kubernetes version: the live API server's, or a `kubectl version -o json`
/// file in a snapshot directory; `None` when neither is at hand.
async fn kubernetes_version(source: &SourceArgs) -> Option<String> {
    match &source.snapshot {
        Some(path) => snapshot_version(path),
        None => {
            let client = crate::source::kube::client(&source.kube).await.ok()?;
            client.apiserver_version().await.ok().map(|v| v.git_version)
        }
    }
}

/// Whether a file holds `kubectl version -o json|yaml` output (`serverVersion.gitVersion`).
pub fn is_version_file(path: &Path) -> bool {
    version_in(path).is_some()
}

/// `serverVersion.gitVersion` of a `*version*.json|yaml|yml` file.
fn version_in(path: &Path) -> Option<String> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let ext_ok = [".json", ".yaml", ".yml"].iter().any(|e| name.ends_with(e));
    if !name.contains("version") || !ext_ok || !path.is_file() {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() > 1 << 20 {
        return None;
    }
    // `kubectl version -o json` or `-o yaml`; the file is small and bounded above.
    let v: serde_json::Value = serde_json::from_slice(&bytes)
        .ok()
        .or_else(|| serde_saphyr::from_str(std::str::from_utf8(&bytes).ok()?).ok())?;
    v.pointer("/serverVersion/gitVersion")
        .and_then(|g| g.as_str())
        .map(str::to_string)
}

/// Looks for `*version*.json|yaml|yml` files at the top of a snapshot directory and one level
/// down, holding `serverVersion.gitVersion` as `kubectl version -o json|yaml` prints it.
pub fn snapshot_version(dir: &Path) -> Option<String> {
    let mut candidates = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    if let Ok(entries) = std::fs::read_dir(dir) {
        dirs.extend(entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    for d in dirs {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        candidates.extend(entries.flatten().map(|e| e.path()));
    }
    candidates.sort();
    candidates.iter().find_map(|p| version_in(p))
}

impl DoctorReport {
    pub fn render(&self, format: Format) -> anyhow::Result<String> {
        if format != Format::Table {
            return output::serialize(self, format);
        }
        if self.findings.is_empty() {
            return Ok(format!(
                "No problems found ({} at {}).\n",
                if self.engines.is_empty() {
                    "no backup center".to_string()
                } else {
                    self.engines.join(", ")
                },
                self.now
            ));
        }
        let mut t = Table::new(&["#", "SEVERITY", "RULE", "OBJECT", "SUMMARY"], false);
        for (i, f) in self.findings.iter().enumerate() {
            t.row(vec![
                (i + 1).to_string(),
                f.severity.as_str().into(),
                f.rule.into(),
                cell(&f.object.to_string()),
                cell(&f.summary),
            ]);
        }
        let mut out = t.render();
        let totals: Vec<String> = self
            .totals()
            .iter()
            .map(|(s, n)| format!("{n} {}", s.as_str()))
            .collect();
        out.push_str(&format!(
            "\n{} finding(s): {}\n",
            self.findings.len(),
            totals.join(", ")
        ));
        for (i, f) in self.findings.iter().enumerate() {
            out.push_str(&format!(
                "\n{}. [{}] {} {}\n",
                i + 1,
                f.severity.as_str(),
                f.rule,
                text(&f.object.to_string())
            ));
            out.push_str(&wrap(&text(&f.summary), 100, "   "));
            out.push_str("   Evidence:\n");
            for e in &f.evidence {
                let when = e.time.map_or("-".to_string(), |t| t.to_string());
                out.push_str(&format!("     {when}  {}\n", text(&e.object.to_string())));
                out.push_str(&wrap(&text(&e.fact), 94, "       "));
            }
            if !f.affected.is_empty() {
                let names: Vec<String> = f.affected.iter().map(|a| a.to_string()).collect();
                out.push_str("   Affected:\n");
                out.push_str(&wrap(&text(&names.join(", ")), 96, "     "));
            }
            out.push_str("   Cause:\n");
            out.push_str(&wrap(&text(&f.cause), 96, "     "));
            out.push_str("   Fix:\n");
            for step in &f.fix {
                out.push_str(&hanging(&text(&step.text), 94, "     - ", "       "));
                for c in &step.commands {
                    out.push_str(&format!("       $ {}\n", text(c)));
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_knows_every_rule_and_refuses_others() {
        for id in crate::doctor::RULE_IDS {
            assert!(explain(id).unwrap().starts_with(id));
        }
        let err = explain("vault-typo").unwrap_err().to_string();
        assert!(err.contains("vault-access-denied"), "{err}");
        assert_eq!(
            explain("all").unwrap().matches("\n\n").count(),
            2 * crate::doctor::RULES.len()
        );
    }

    #[test]
    fn wraps_at_words() {
        assert_eq!(wrap("aaa bbb ccc", 7, "  "), "  aaa bbb\n  ccc\n");
        assert_eq!(wrap("", 7, "  "), "");
    }
}
