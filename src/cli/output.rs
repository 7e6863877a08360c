//! Rendering for people: aligned tables, kubectl-style ages, optional colour.
//! Machine formats (`-o json|yaml`) serialize the report structs directly.

use crate::center::{Severity, severity_of_word};
use crate::model::Timestamp;
use std::io::IsTerminal;

/// Output format chosen with `-o`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

/// Table cells longer than this are shortened (the JSON/YAML output keeps every character).
const MAX_CELL_CHARS: usize = 80;

/// Whether to colour output: only on a terminal, and never when NO_COLOR is set
/// (https://no-color.org).
pub fn colour_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Serializes a report as JSON or YAML.
pub fn serialize<T: serde::Serialize>(value: &T, format: Format) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(value)? + "\n",
        Format::Yaml => serde_norway::to_string(value)?,
        Format::Table => anyhow::bail!("a table is rendered by its command, not serialized"),
    })
}

/// Makes a user-controlled string safe for a terminal: control characters (which could move the
/// cursor or inject escape sequences) become `?`, and very long values are shortened.
pub fn cell(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(MAX_CELL_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if s.chars().nth(MAX_CELL_CHARS).is_some() {
        out.pop();
        out.push('…');
    }
    if out.is_empty() { "<none>".into() } else { out }
}

/// A free-text field (a message) for a detail view: terminal-safe like [`cell`], but only
/// shortened when absurdly long, since the message is what the user came for.
pub fn text(s: &str) -> String {
    const MAX_TEXT_CHARS: usize = 4096;
    let mut out: String = s
        .chars()
        .take(MAX_TEXT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if s.chars().nth(MAX_TEXT_CHARS).is_some() {
        out.push('…');
    }
    if out.is_empty() { "<none>".into() } else { out }
}

/// A text table in kubectl's style: upper-case headers, columns separated by three spaces.
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    colour: bool,
}

impl Table {
    pub fn new(headers: &[&str], colour: bool) -> Self {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            colour,
        }
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .chain([&self.headers[i]])
                    .map(|c| c.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        let line = |cells: &[String], out: &mut String, colour: bool| {
            let last = cells.len().saturating_sub(1);
            for (i, c) in cells.iter().enumerate() {
                let painted = if colour { paint(c) } else { c.clone() };
                out.push_str(&painted);
                if i < last {
                    let pad = widths[i] - c.chars().count() + 3;
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push('\n');
        };
        line(&self.headers, &mut out, false);
        for r in &self.rows {
            line(r, &mut out, self.colour);
        }
        out
    }
}

/// Colours the words that carry a verdict, by the severity the center gives them; everything
/// else stays plain.
fn paint(cell: &str) -> String {
    let code = match severity_of_word(cell) {
        Some(Severity::Ok) => "32",
        Some(Severity::Critical) => "31",
        Some(Severity::Warning | Severity::Unknown) => "33",
        None => return cell.to_string(),
    };
    format!("\x1b[{code}m{cell}\x1b[0m")
}

/// kubectl's human duration (k8s.io/apimachinery `duration.HumanDuration`).
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    let s = seconds.max(0);
    let (m, h) = (s / 60, s / 3600);
    let d = h / 24;
    if s < 120 {
        format!("{s}s")
    } else if m < 10 {
        match s % 60 {
            0 => format!("{m}m"),
            rest => format!("{m}m{rest}s"),
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        match m % 60 {
            0 => format!("{h}h"),
            rest => format!("{h}h{rest}m"),
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        match h % 24 {
            0 => format!("{d}d"),
            rest => format!("{d}d{rest}h"),
        }
    } else if h < 24 * 365 * 2 {
        format!("{d}d")
    } else if h < 24 * 365 * 8 {
        let y = d / 365;
        match d % 365 {
            0 => format!("{y}y"),
            rest => format!("{y}y{rest}d"),
        }
    } else {
        format!("{}y", d / 365)
    }
}

/// Age of a timestamp at `now`, or `<unknown>`.
pub fn age(now: Timestamp, then: Option<Timestamp>) -> String {
    match then {
        Some(t) => human_duration(now.as_second() - t.as_second()),
        None => "<unknown>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_match_kubectl() {
        let cases = [
            (5, "5s"),
            (119, "119s"),
            (150, "2m30s"),
            (600, "10m"),
            (3 * 3600 + 5 * 60, "3h5m"),
            (10 * 3600, "10h"),
            (3 * 86400 + 3600, "3d1h"),
            (40 * 86400, "40d"),
            (3 * 365 * 86400 + 86400, "3y1d"),
            (-5, "<invalid>"),
        ];
        for (s, want) in cases {
            assert_eq!(human_duration(s), want, "{s}");
        }
    }

    #[test]
    fn cells_are_terminal_safe() {
        assert_eq!(cell("a\x1b[31mb\nc"), "a?[31mb?c");
        assert_eq!(cell(""), "<none>");
        let long = cell(&"x".repeat(10_000));
        assert_eq!(long.chars().count(), MAX_CELL_CHARS);
        assert!(long.ends_with('…'));
    }

    #[test]
    fn verdict_words_are_coloured_by_severity() {
        assert_eq!(paint("Available"), "\x1b[32mAvailable\x1b[0m");
        assert_eq!(paint("FailedValidation"), "\x1b[31mFailedValidation\x1b[0m");
        assert_eq!(paint("NotFound"), "\x1b[31mNotFound\x1b[0m");
        assert_eq!(paint("PartiallyFailed"), "\x1b[33mPartiallyFailed\x1b[0m");
        assert_eq!(paint("Enabled"), "\x1b[32mEnabled\x1b[0m");
        assert_eq!(paint("Unknown"), "\x1b[33mUnknown\x1b[0m");
        assert_eq!(paint("shared-oss-vault"), "shared-oss-vault");
    }

    #[test]
    fn table_aligns_on_characters_not_bytes() {
        let mut t = Table::new(&["NAME", "PHASE"], false);
        t.row(vec!["äöü".into(), "Available".into()]);
        t.row(vec!["longer-name".into(), "Failed".into()]);
        assert_eq!(
            t.render(),
            "NAME          PHASE\näöü           Available\nlonger-name   Failed\n"
        );
    }
}
