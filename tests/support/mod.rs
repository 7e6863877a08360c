//! Helpers shared by integration tests: a fixed set of families, real Prometheus processes,
//! promtool, the real `backupscope serve` binary and an HTTP client.
//!
//! Each test crate includes this module with `mod support;` and uses a part of it.
#![allow(dead_code)]

pub mod fixture;
pub mod http;
pub mod prometheus;
pub mod promtool;
pub mod serve;
pub mod tempdir;
