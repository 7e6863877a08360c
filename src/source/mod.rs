//! Sources deliver records into the inventory: a snapshot of exported objects, or a live
//! cluster through the Kubernetes API.

pub mod health;
pub mod kube;
mod page;
mod reflector;
pub mod snapshot;
