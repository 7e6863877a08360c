//! Vaults as object storage (DESIGN.md §5): backupscope's own look at the bucket behind each
//! backup location. `client` opens a vault's bucket with `object_store` (S3, OSS through its
//! S3 API, GCS, Azure, local files); `probe` does what Velero's validation does and
//! classifies what went wrong (`classify`); `scan` holds the bucket's backups against the
//! cluster's tasks; `periodic` runs both inside `serve` and posts to the `board` the
//! collector reads.

pub mod board;
pub mod classify;
pub mod client;
pub mod credentials;
pub mod endpoint;
pub mod http;
pub mod periodic;
pub mod probe;
pub mod scan;

pub use board::Board;
pub use classify::ProbeReason;
pub use client::{Access, VaultKey, VaultStore};
pub use probe::ProbeResult;
pub use scan::{FindingKind, ScanResult};
