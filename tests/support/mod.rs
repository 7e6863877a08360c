//! Helpers shared by integration tests: a fixed set of families, real Prometheus processes,
//! promtool, the real `backupscope serve` binary and an HTTP client.
//!
//! Each test crate includes this module with `mod support;` and uses a part of it.
#![allow(dead_code)]

pub mod alertmanager;
pub mod builders;
pub mod clean_env;
pub mod fixture;
pub mod golden;
pub mod http;
pub mod pki;
pub mod prometheus;
pub mod promtool;
pub mod python;
pub mod serve;
pub mod tempdir;

/// A tool the tests run: `$env_var`, else the path the Debian `package` installs it to.
/// Panics with instructions when it is missing: a test that silently skipped the real part
/// would prove nothing.
pub fn debian_binary(env_var: &str, default: &str, package: &str) -> std::path::PathBuf {
    let path = std::env::var_os(env_var).map_or_else(|| default.into(), std::path::PathBuf::from);
    let tool = default.rsplit('/').next().unwrap_or(default);
    assert!(
        path.is_file(),
        "{tool} not found at {}: install the Debian package `{package}` \
         (apt-get install {package}) or set {env_var} to its path",
        path.display()
    );
    path
}
