//! Sources deliver records into the inventory: a snapshot of exported objects, or (later) a
//! live cluster.

pub mod snapshot;
