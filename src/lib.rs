//! backupscope: observability for Kubernetes backup centers (Alibaba Cloud ACK backup center,
//! upstream Velero). Data flows one way: sources -> inventory -> views.

pub mod alerting;
pub mod center;
pub mod cli;
pub mod dashboards;
pub mod deploy;
pub mod dialect;
pub mod doctor;
pub mod inventory;
pub mod metrics;
pub mod model;
pub mod outbound;
pub mod report;
pub mod source;
pub mod vault;
pub mod web;
