//! Helpers shared by integration tests: a fixed set of families, real Prometheus processes and
//! promtool.
//!
//! Each test crate includes this module with `mod support;` and uses a part of it.
#![allow(dead_code)]

pub mod fixture;
pub mod prometheus;
pub mod promtool;
