//! `backupscope manifests`: the install files generated from the code (deploy/ and the
//! generated parts of charts/backupscope).

use anyhow::{Context, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ManifestsArgs {
    /// Write every generated file under DIR, at its path in the repository (deploy/...,
    /// charts/backupscope/...); `--out .` in a checkout regenerates the committed files.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["file", "list"])]
    pub out: Option<PathBuf>,
    /// Print one generated file, by its path in the repository (see --list).
    #[arg(long, value_name = "PATH", conflicts_with = "list")]
    pub file: Option<String>,
    /// List the paths of the generated files.
    #[arg(long)]
    pub list: bool,
}

/// Runs the subcommand; returns what to print on stdout.
pub fn run(args: &ManifestsArgs) -> anyhow::Result<String> {
    let files = crate::deploy::files().context("generate the manifests")?;
    if args.list {
        return Ok(files.iter().map(|g| format!("{}\n", g.path)).collect());
    }
    if let Some(path) = &args.file {
        return match files.into_iter().find(|g| &g.path == path) {
            Some(g) => Ok(g.text),
            None => bail!("no generated file {path:?}; `backupscope manifests --list` names them"),
        };
    }
    let Some(dir) = &args.out else {
        bail!(
            "say what to generate: --out DIR (every file), --file PATH (one, on stdout) or --list"
        );
    };
    let mut written = String::new();
    for g in &files {
        let path = dir.join(&g.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("create the directory {}", parent.display()))?;
        }
        std::fs::write(&path, &g.text).with_context(|| format!("write {}", path.display()))?;
        written.push_str(&format!("wrote {}\n", path.display()));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(out: Option<PathBuf>, file: Option<&str>, list: bool) -> ManifestsArgs {
        ManifestsArgs {
            out,
            file: file.map(str::to_string),
            list,
        }
    }

    #[test]
    fn list_file_and_out_agree() {
        let list = run(&args(None, None, true)).unwrap();
        assert!(
            list.lines().any(|l| l == "deploy/base/kustomization.yaml"),
            "{list}"
        );
        let one = run(&args(None, Some("deploy/base/rbac.yaml"), false)).unwrap();
        assert!(one.contains("kind: ClusterRole\n"), "{one}");
        let unknown = run(&args(None, Some("deploy/nope.yaml"), false))
            .unwrap_err()
            .to_string();
        assert_eq!(
            unknown,
            "no generated file \"deploy/nope.yaml\"; `backupscope manifests --list` names them"
        );
        assert!(
            run(&args(None, None, false))
                .unwrap_err()
                .to_string()
                .starts_with("say what to generate")
        );

        let dir =
            std::env::temp_dir().join(format!("backupscope-manifests-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let said = run(&args(Some(dir.clone()), None, false)).unwrap();
        assert_eq!(said.lines().count(), list.lines().count());
        for path in list.lines() {
            let text = std::fs::read_to_string(dir.join(path)).unwrap();
            assert_eq!(text, run(&args(None, Some(path), false)).unwrap(), "{path}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
