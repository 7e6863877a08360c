//! Metrics output: the sink interface collectors write to, the text exposition served on
//! `/metrics`, and the Prometheus remote-write sender.

pub mod collector;
pub mod contract;
pub mod exposition;
pub mod families;
pub mod remote_write;
pub mod sink;
pub mod units;
