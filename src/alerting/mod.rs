//! Alerting: the Prometheus alert rules generated from the metric declarations.
//!
//! The rules are the only alerting artefact so far; the events writer and the Alertmanager
//! forwarder (issue 8, items 4–7) will live next to them.

pub mod rules;
