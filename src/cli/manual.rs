//! Shell completions and man pages, generated from the clap definition (the same one `--help`
//! reads), so they cannot fall behind a flag.

use super::command_line;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in. bash: `source <(backupscope completions bash)` in ~/.bashrc.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write one page per command (backupscope.1, backupscope-serve.1, ...) to this directory
    /// instead of printing backupscope.1; docs/man/ is this output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs) -> String {
    let mut cmd = command_line::command("backupscope");
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "backupscope", &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

pub fn man(args: &ManArgs) -> anyhow::Result<String> {
    // As clap_mangen's generate_to prepares it, so the printed page is docs/man/backupscope.1.
    let mut cmd = command_line::command("backupscope").disable_help_subcommand(true);
    cmd.build();
    match &args.out {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .context("render the man page")?;
            Ok(String::from_utf8_lossy(&out).into_owned())
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("create the directory {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("write man pages to {}", dir.display()))?;
            Ok(format!("wrote man pages to {}\n", dir.display()))
        }
    }
}
