//! The interface a collector writes metrics to.
//!
//! One collector feeds every output (the text exposition served on `/metrics`, remote write), so
//! the collector only knows families and samples, never formats.

use std::borrow::Cow;

/// How a family is typed on the wire.
///
/// StateSet-shaped families (one series per state, exactly one is 1) are [`MetricType::Gauge`]s
/// with a state label, as kube-state-metrics does: Prometheus ingests OpenMetrics StateSets as
/// plain gauges anyway, and the 0.0.4 format has no such type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Gauge,
    /// The family name ends with `_total`.
    Counter,
    /// The family name ends with `_info`; every sample has the value 1.
    Info,
}

/// A metric family: the static description shared by all its samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    /// The full sample name as users query it, e.g. `backupcenter_backups`,
    /// `backupcenter_backuplocation_info`, `backupcenter_component_pod_restarts_total`.
    pub name: &'static str,
    /// One line of plain text.
    pub help: &'static str,
    pub kind: MetricType,
}

impl Family {
    /// A gauge family; a bad name fails the build when used in a `const`.
    pub const fn gauge(name: &'static str, help: &'static str) -> Family {
        assert!(is_valid_metric_name(name), "invalid metric name");
        Family {
            name,
            help,
            kind: MetricType::Gauge,
        }
    }

    /// A counter family; the name must end with `_total`.
    pub const fn counter(name: &'static str, help: &'static str) -> Family {
        assert!(is_valid_metric_name(name), "invalid metric name");
        assert!(
            ends_with(name, "_total"),
            "a counter name must end with _total"
        );
        Family {
            name,
            help,
            kind: MetricType::Counter,
        }
    }

    /// An info family; the name must end with `_info`.
    pub const fn info(name: &'static str, help: &'static str) -> Family {
        assert!(is_valid_metric_name(name), "invalid metric name");
        assert!(ends_with(name, "_info"), "an info name must end with _info");
        Family {
            name,
            help,
            kind: MetricType::Info,
        }
    }

    /// The name OpenMetrics uses in `# TYPE`/`# HELP`: the sample name without the suffix its
    /// type implies.
    pub fn base_name(&self) -> &'static str {
        let suffix = match self.kind {
            MetricType::Gauge => return self.name,
            MetricType::Counter => "_total",
            MetricType::Info => "_info",
        };
        self.name.strip_suffix(suffix).unwrap_or(self.name)
    }
}

/// Where a collector writes its families.
pub trait MetricSink {
    /// Starts a family; all its samples follow before the next family.
    fn family(&mut self, family: &Family);
    /// Adds one sample to the current family. Label names are static snake_case; label values
    /// are arbitrary user strings (the sink escapes and caps them).
    fn sample(&mut self, labels: &[(&str, &str)], value: f64);
    /// Bytes written so far, for a sink that writes text: the collector then copies units
    /// that did not change since the previous rendering instead of writing their samples again
    /// (see [`super::units`]). `None` (the default): every sample is written.
    fn written(&self) -> Option<usize> {
        None
    }
    /// Appends bytes this kind of sink wrote for `samples` samples of the current family in an
    /// earlier rendering; called only when [`Self::written`] is `Some`.
    fn copy(&mut self, _bytes: &[u8], _samples: u64) {}
}

/// Longest label value, in bytes, before it is capped.
///
/// Label values come from user-named objects and free-text fields; one huge value would bloat
/// every scrape and every TSDB index entry. 512 bytes keeps any Kubernetes name (253 bytes at
/// most) intact.
pub const MAX_LABEL_VALUE_BYTES: usize = 512;

/// Bytes of the suffix a capped value ends with: `~` and 16 hex digits.
const CAP_SUFFIX_BYTES: usize = 17;

/// The label value as exported: unchanged when short enough, otherwise cut on a char boundary
/// and suffixed with `~` and a hash of the whole value, so two long values sharing a prefix
/// never collapse into one series. The result is at most [`MAX_LABEL_VALUE_BYTES`] long.
pub fn capped_label_value(value: &str) -> Cow<'_, str> {
    match split_capped(value) {
        None => Cow::Borrowed(value),
        Some((prefix, hash)) => {
            let mut capped = String::with_capacity(MAX_LABEL_VALUE_BYTES);
            capped.push_str(prefix);
            capped.push('~');
            let mut hex = [0u8; 16];
            capped.extend(
                hex_u64(hash, &mut hex)
                    .iter()
                    .map(|&digit| char::from(digit)),
            );
            Cow::Owned(capped)
        }
    }
}

/// `None` when `value` fits; otherwise the kept prefix and the hash of the full value.
pub(crate) fn split_capped(value: &str) -> Option<(&str, u64)> {
    if value.len() <= MAX_LABEL_VALUE_BYTES {
        return None;
    }
    let mut end = MAX_LABEL_VALUE_BYTES - CAP_SUFFIX_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    Some((&value[..end], fnv1a64(value.as_bytes())))
}

/// Writes `hash` as 16 lowercase hex digits into `out`.
pub(crate) fn hex_u64(hash: u64, out: &mut [u8; 16]) -> &[u8] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = DIGITS[((hash >> (60 - 4 * i)) & 0xf) as usize];
    }
    out
}

/// FNV-1a: stable across Rust versions and platforms (std's hasher is not), so a capped value
/// names the same series after an upgrade.
pub(crate) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

const fn is_valid_metric_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let ok = b.is_ascii_alphabetic() || b == b'_' || b == b':' || (i > 0 && b.is_ascii_digit());
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

const fn ends_with(name: &str, suffix: &str) -> bool {
    let (n, s) = (name.as_bytes(), suffix.as_bytes());
    if n.len() <= s.len() {
        return false;
    }
    let offset = n.len() - s.len();
    let mut i = 0;
    while i < s.len() {
        if n[offset + i] != s[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_name_strips_the_type_suffix() {
        const C: Family = Family::counter("a_restarts_total", "h");
        const I: Family = Family::info("a_backuplocation_info", "h");
        const G: Family = Family::gauge("a_total_bytes", "h");
        assert_eq!(C.base_name(), "a_restarts");
        assert_eq!(I.base_name(), "a_backuplocation");
        assert_eq!(G.base_name(), "a_total_bytes");
    }

    #[test]
    fn short_values_are_borrowed_unchanged() {
        let v = "x".repeat(MAX_LABEL_VALUE_BYTES);
        assert!(matches!(capped_label_value(&v), Cow::Borrowed(s) if s == v));
    }

    #[test]
    fn long_values_are_capped_on_a_char_boundary_with_a_distinguishing_hash() {
        // 3-byte chars so the cut point falls inside a char.
        let a = "€".repeat(400);
        let b = format!("{a}different tail");
        let (ca, cb) = (capped_label_value(&a), capped_label_value(&b));
        assert!(ca.len() <= MAX_LABEL_VALUE_BYTES && cb.len() <= MAX_LABEL_VALUE_BYTES);
        assert_ne!(ca, cb);
        let (prefix, hash) = ca.rsplit_once('~').unwrap();
        assert!(a.starts_with(prefix));
        assert_eq!(hash.len(), 16);
        // Stable: the same input always gives the same output.
        assert_eq!(capped_label_value(&a), ca);
    }

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
