//! Credentials for a vault, from a file the user names (`--vault-credentials VAULT=FILE`) or
//! from the environment — never from the cluster's Secrets. Values are held in [`Secret`],
//! whose `Debug` and `Display` print nothing of them, so no log line or error can leak one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A credential value; formatting it shows `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The value, for handing to the store builder only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// What a credentials file holds, in the formats Velero's plugins read from their
/// `cloud-credentials` Secret: AWS shared-credentials INI (`aws_access_key_id` under
/// `[default]`), the alibabacloud plugin's `ALIBABA_CLOUD_ACCESS_KEY_ID=` lines, the Azure
/// plugin's `AZURE_*=` lines, or a GCP service-account JSON key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialFile {
    /// `KEY=VALUE` pairs of the chosen section; keys lower-cased.
    Pairs(BTreeMap<String, Secret>),
    /// A JSON key file (GCS service account): the path is handed to the builder.
    Json(PathBuf),
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("cannot read the credentials file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the credentials file {path} holds no KEY=VALUE line (expected e.g. aws_access_key_id=… under [default])"
    )]
    Empty { path: PathBuf },
}

impl CredentialFile {
    pub fn read(path: &Path) -> Result<CredentialFile, CredentialError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialError::Read {
            path: path.to_owned(),
            source,
        })?;
        if text.trim_start().starts_with('{') {
            return Ok(CredentialFile::Json(path.to_owned()));
        }
        let pairs = parse_pairs(&text);
        if pairs.is_empty() {
            return Err(CredentialError::Empty {
                path: path.to_owned(),
            });
        }
        Ok(CredentialFile::Pairs(pairs))
    }

    /// The first of `keys` (lower-case) the file holds.
    pub fn get(&self, keys: &[&str]) -> Option<&Secret> {
        match self {
            CredentialFile::Pairs(pairs) => keys.iter().find_map(|k| pairs.get(*k)),
            CredentialFile::Json(_) => None,
        }
    }
}

/// `KEY=VALUE` / `key = value` lines. With INI sections, `[default]` wins, else the lines
/// before any section, else the first section (Velero's Secrets hold one profile).
fn parse_pairs(text: &str) -> BTreeMap<String, Secret> {
    let mut sections: Vec<(String, BTreeMap<String, Secret>)> =
        vec![(String::new(), BTreeMap::new())];
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push((name.trim().to_string(), BTreeMap::new()));
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"').trim_matches('\'');
            if let Some((_, map)) = sections.last_mut() {
                map.entry(k.trim().to_ascii_lowercase())
                    .or_insert_with(|| Secret::new(v));
            }
        }
    }
    let pick = |name: &str| {
        sections
            .iter()
            .position(|(n, m)| n == name && !m.is_empty())
    };
    let index = pick("default")
        .or_else(|| pick(""))
        .or_else(|| sections.iter().position(|(_, m)| !m.is_empty()));
    index
        .map(|i| std::mem::take(&mut sections[i].1))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_profile_default_section_wins() {
        let p = parse_pairs(
            "[other]\naws_access_key_id = OTHER\n[default]\naws_access_key_id = AKIA1\naws_secret_access_key=s3cr3t\n",
        );
        assert_eq!(p["aws_access_key_id"].expose(), "AKIA1");
        assert_eq!(p["aws_secret_access_key"].expose(), "s3cr3t");
        assert_eq!(p.len(), 2);
    }

    #[test]
    fn env_style_lines_and_comments() {
        let p = parse_pairs(
            "# alibabacloud plugin\nALIBABA_CLOUD_ACCESS_KEY_ID=LTAI1\nexport ALIBABA_CLOUD_ACCESS_KEY_SECRET=\"x=y\"\n",
        );
        assert_eq!(p["alibaba_cloud_access_key_id"].expose(), "LTAI1");
        assert_eq!(p["alibaba_cloud_access_key_secret"].expose(), "x=y");
    }

    #[test]
    fn only_a_section_that_is_not_default() {
        let p = parse_pairs("[prod]\naws_access_key_id=A\n");
        assert_eq!(p["aws_access_key_id"].expose(), "A");
        assert!(parse_pairs("just words\n[x]\n").is_empty());
    }

    #[test]
    fn secrets_never_format() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        let file = CredentialFile::Pairs(parse_pairs("aws_secret_access_key=hunter2"));
        assert!(!format!("{file:?}").contains("hunter2"));
    }
}
