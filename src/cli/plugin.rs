//! backupscope as a kubectl plugin: kubectl runs `kubectl-backupscope` from PATH for
//! `kubectl backupscope ...`, passing the words after the plugin's name unchanged and its own
//! environment (KUBECONFIG included); it refuses flags placed before the plugin's name. So the
//! plugin is this binary under another name, and `--kubeconfig`, `--context` and `-n` go after
//! the command, as with every kubectl plugin.

use anyhow::Context;
use clap::{Args, Subcommand};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// The executable name kubectl looks for on PATH.
pub const EXECUTABLE: &str = "kubectl-backupscope";

/// How usage lines name the program: `kubectl backupscope` when run as the plugin, so the
/// help a kubectl user reads shows what they type.
pub fn bin_name(argv0: Option<&OsStr>) -> String {
    let invoked = argv0
        .map(Path::new)
        .and_then(Path::file_stem)
        .and_then(OsStr::to_str);
    match invoked {
        Some(EXECUTABLE) => "kubectl backupscope".to_string(),
        _ => "backupscope".to_string(),
    }
}

#[derive(Debug, Args)]
pub struct PluginArgs {
    #[command(subcommand)]
    pub action: PluginAction,
}

#[derive(Debug, Subcommand)]
pub enum PluginAction {
    /// Link kubectl-backupscope in DIR to this binary, so `kubectl backupscope status` works
    /// when DIR is on PATH.
    Install(InstallArgs),
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Directory on PATH to put kubectl-backupscope in (e.g. ~/.local/bin or /usr/local/bin).
    #[arg(long, value_name = "DIR")]
    pub dir: PathBuf,
}

pub fn run(args: &PluginArgs) -> anyhow::Result<String> {
    match &args.action {
        PluginAction::Install(install) => {
            let binary = std::env::current_exe()
                .and_then(|p| p.canonicalize())
                .context("find this binary")?;
            let link = self::install(&binary, &install.dir)?;
            let mut out = format!("installed {} -> {}\n", link.display(), binary.display());
            if !on_path(&install.dir, std::env::var_os("PATH").as_deref()) {
                out.push_str(&format!(
                    "note: {} is not on PATH; kubectl finds plugins only on PATH\n",
                    install.dir.display()
                ));
            }
            Ok(out)
        }
    }
}

/// Creates `dir/kubectl-backupscope` pointing at `binary` (a symbolic link, so an upgrade of
/// the binary upgrades the plugin; a copy where links are not available). An existing link to
/// the same binary is left as it is; anything else there is the user's and is not replaced.
pub fn install(binary: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("create the directory {}", dir.display()))?;
    let link = dir.join(EXECUTABLE);
    if let Ok(existing) = std::fs::read_link(&link)
        && existing == binary
    {
        return Ok(link);
    }
    if link.symlink_metadata().is_ok() {
        anyhow::bail!(
            "{} already exists and is not a link to {}; remove it first",
            link.display(),
            binary.display()
        );
    }
    #[cfg(unix)]
    std::os::unix::fs::symlink(binary, &link)
        .with_context(|| format!("link {} to {}", link.display(), binary.display()))?;
    #[cfg(not(unix))]
    std::fs::copy(binary, &link)
        .with_context(|| format!("copy {} to {}", binary.display(), link.display()))?;
    Ok(link)
}

fn on_path(dir: &Path, path: Option<&OsStr>) -> bool {
    let wanted = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    path.map(std::env::split_paths)
        .into_iter()
        .flatten()
        .any(|p| p.canonicalize().unwrap_or(p) == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plugin_name_shows_as_kubectl_backupscope() {
        let name = |s: &str| bin_name(Some(OsStr::new(s)));
        assert_eq!(
            name("/home/u/bin/kubectl-backupscope"),
            "kubectl backupscope"
        );
        assert_eq!(name("kubectl-backupscope.exe"), "kubectl backupscope");
        assert_eq!(name("/usr/bin/backupscope"), "backupscope");
        assert_eq!(name("kubectl-backupscope-old"), "backupscope");
        assert_eq!(bin_name(None), "backupscope");
    }

    #[test]
    fn install_links_once_and_never_replaces_a_stranger() {
        let dir = std::env::temp_dir().join(format!("backupscope-plugin-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let binary = dir.join("backupscope");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&binary, "#!/bin/sh\n").unwrap();
        let bin = dir.join("bin");
        let link = install(&binary, &bin).unwrap();
        assert_eq!(link, bin.join(EXECUTABLE));
        assert_eq!(std::fs::read_link(&link).unwrap(), binary);
        // Again: nothing to do.
        assert_eq!(install(&binary, &bin).unwrap(), link);
        // Someone else's file: refused, left alone.
        let other = dir.join("other");
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join(EXECUTABLE), "mine").unwrap();
        let e = install(&binary, &other).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{} already exists and is not a link to {}; remove it first",
                other.join(EXECUTABLE).display(),
                binary.display()
            )
        );
        assert_eq!(
            std::fs::read_to_string(other.join(EXECUTABLE)).unwrap(),
            "mine"
        );
        assert!(on_path(&bin, Some(bin.as_os_str())));
        assert!(!on_path(&other, Some(bin.as_os_str())));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
