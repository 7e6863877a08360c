//! The text exposition served on `/metrics`: Prometheus text format 0.0.4 and OpenMetrics 1.0.
//!
//! A scrape renders every family again, so the encoder writes bytes straight into a reusable
//! buffer: no allocation per sample and no `format!` on the integer path, which is nearly every
//! value we export (counts, 0/1 states, Unix-second timestamps).
//!
//! One invalid line makes Prometheus drop the whole scrape, so every label value is escaped and
//! capped here, whatever the collector hands over.

use std::io::Write as _;

use flate2::{Compression, write::GzEncoder};

use super::sink::{Family, MetricSink, MetricType, hex_u64, split_capped};

/// A text exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `text/plain; version=0.0.4`, the format every scraper understands.
    Prometheus004,
    /// OpenMetrics 1.0.0 text.
    OpenMetrics100,
}

impl Format {
    /// Picks the format for a scrape from its `Accept` header: OpenMetrics only when the client
    /// names `application/openmetrics-text` (version 1.x or unversioned) with a q-value at least
    /// as high as any text format it accepts; otherwise 0.0.4.
    ///
    /// Prometheus 2.x sends
    /// `application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`;
    /// Prometheus 3 orders the types by its `scrape_protocols` setting through q-values.
    pub fn negotiate(accept_header: Option<&str>) -> Format {
        let Some(accept) = accept_header else {
            return Format::Prometheus004;
        };
        let mut openmetrics_q = 0.0_f32;
        let mut text_q = 0.0_f32;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let media_type = parts.next().unwrap_or_default().trim();
            let mut q = 1.0_f32;
            let mut version: Option<&str> = None;
            for param in parts {
                let Some((key, value)) = param.split_once('=') else {
                    continue;
                };
                let value = value.trim().trim_matches('"');
                match key.trim() {
                    k if k.eq_ignore_ascii_case("q") => q = parse_q(value),
                    k if k.eq_ignore_ascii_case("version") => version = Some(value),
                    _ => {}
                }
            }
            if media_type.eq_ignore_ascii_case("application/openmetrics-text") {
                if version.is_none_or(|v| v.starts_with("1.")) {
                    openmetrics_q = openmetrics_q.max(q);
                }
            } else if ["text/plain", "text/*", "*/*"]
                .iter()
                .any(|t| media_type.eq_ignore_ascii_case(t))
            {
                text_q = text_q.max(q);
            }
        }
        if openmetrics_q > 0.0 && openmetrics_q >= text_q {
            Format::OpenMetrics100
        } else {
            Format::Prometheus004
        }
    }

    /// The exact `Content-Type` to serve with this format (Prometheus 3 fails a scrape whose
    /// content type it cannot parse).
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus004 => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics100 => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// A q-value that does not parse counts as 0 (not acceptable), per RFC 9110.
fn parse_q(value: &str) -> f32 {
    value
        .parse::<f32>()
        .ok()
        .filter(|q| q.is_finite())
        .map_or(0.0, |q| q.clamp(0.0, 1.0))
}

/// Whether an `Accept-Encoding` header allows a gzip response.
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(header) = accept_encoding else {
        return false;
    };
    header.split(',').any(|coding| {
        let mut parts = coding.split(';');
        let name = parts.next().unwrap_or_default().trim();
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(1.0, |(_, v)| parse_q(v.trim()));
        q > 0.0
            && ["gzip", "x-gzip", "*"]
                .iter()
                .any(|c| name.eq_ignore_ascii_case(c))
    })
}

/// Compresses a response body with gzip at the fast level: scrapes are frequent and the body is
/// highly repetitive, so the fast level already gets most of the gain.
pub fn gzip(parts: &[&[u8]]) -> std::io::Result<Vec<u8>> {
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut encoder = GzEncoder::new(Vec::with_capacity(len / 8 + 64), Compression::fast());
    for part in parts {
        encoder.write_all(part)?;
    }
    encoder.finish()
}

/// Encodes families as text into a caller-owned buffer, which it appends to.
///
/// Keep the buffer between scrapes (clear it first) so its capacity is reused.
///
/// ```
/// use backupscope::metrics::exposition::{Format, TextEncoder};
/// use backupscope::metrics::sink::{Family, MetricSink};
///
/// const BACKUPS: Family = Family::gauge("backupcenter_backups", "Backup tasks by phase.");
/// let mut buf = Vec::new();
/// let mut encoder = TextEncoder::new(&mut buf, Format::Prometheus004);
/// encoder.family(&BACKUPS);
/// encoder.sample(&[("phase", "Completed")], 3.0);
/// encoder.finish();
/// let text = String::from_utf8(buf).unwrap();
/// let lines: Vec<&str> = text.lines().collect();
/// assert_eq!(lines, [
///     "# HELP backupcenter_backups Backup tasks by phase.",
///     "# TYPE backupcenter_backups gauge",
///     "backupcenter_backups{phase=\"Completed\"} 3",
/// ]);
/// ```
pub struct TextEncoder<'a> {
    out: &'a mut Vec<u8>,
    format: Format,
    /// The sample name of the current family; `None` before the first family.
    sample_name: Option<&'static str>,
    counter: bool,
    samples: usize,
}

impl<'a> TextEncoder<'a> {
    pub fn new(out: &'a mut Vec<u8>, format: Format) -> Self {
        TextEncoder {
            out,
            format,
            sample_name: None,
            counter: false,
            samples: 0,
        }
    }

    /// Ends the exposition (OpenMetrics requires a final `# EOF`) and returns the number of
    /// samples written.
    pub fn finish(self) -> usize {
        if self.format == Format::OpenMetrics100 {
            self.out.extend_from_slice(b"# EOF\n");
        }
        self.samples
    }
}

impl MetricSink for TextEncoder<'_> {
    fn family(&mut self, family: &Family) {
        let out = &mut *self.out;
        match self.format {
            Format::Prometheus004 => {
                // 0.0.4 has no info type, and its TYPE/HELP name the samples themselves.
                let kind: &[u8] = match family.kind {
                    MetricType::Gauge | MetricType::Info => b"gauge",
                    MetricType::Counter => b"counter",
                };
                out.extend_from_slice(b"# HELP ");
                out.extend_from_slice(family.name.as_bytes());
                out.push(b' ');
                escape_into(out, family.help.as_bytes(), Escape::Help004);
                out.extend_from_slice(b"\n# TYPE ");
                out.extend_from_slice(family.name.as_bytes());
                out.push(b' ');
                out.extend_from_slice(kind);
                out.push(b'\n');
            }
            Format::OpenMetrics100 => {
                let kind: &[u8] = match family.kind {
                    MetricType::Gauge => b"gauge",
                    MetricType::Counter => b"counter",
                    MetricType::Info => b"info",
                };
                let base = family.base_name().as_bytes();
                out.extend_from_slice(b"# TYPE ");
                out.extend_from_slice(base);
                out.push(b' ');
                out.extend_from_slice(kind);
                out.extend_from_slice(b"\n# HELP ");
                out.extend_from_slice(base);
                out.push(b' ');
                escape_into(out, family.help.as_bytes(), Escape::Quoted);
                out.push(b'\n');
            }
        }
        self.sample_name = Some(family.name);
        self.counter = family.kind == MetricType::Counter;
    }

    fn sample(&mut self, labels: &[(&str, &str)], value: f64) {
        let Some(name) = self.sample_name else {
            debug_assert!(false, "sample written before any family");
            return;
        };
        // OpenMetrics forbids a NaN or negative counter (its parsers reject the whole scrape);
        // such a value means "not known", which Prometheus says by leaving the sample out.
        // Both formats drop it, so they never disagree.
        if self.counter && (value.is_nan() || value < 0.0) {
            return;
        }
        let out = &mut *self.out;
        out.extend_from_slice(name.as_bytes());
        if let Some(((first_name, first_value), rest)) = labels.split_first() {
            out.push(b'{');
            write_label(out, first_name, first_value);
            for (label_name, label_value) in rest {
                out.push(b',');
                write_label(out, label_name, label_value);
            }
            out.push(b'}');
        }
        out.push(b' ');
        write_value(out, value);
        out.push(b'\n');
        self.samples += 1;
    }

    fn written(&self) -> Option<usize> {
        Some(self.out.len())
    }

    fn copy(&mut self, bytes: &[u8], samples: u64) {
        self.out.extend_from_slice(bytes);
        self.samples += samples as usize;
    }
}

#[inline]
fn write_label(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"=\"");
    match split_capped(value) {
        None => escape_into(out, value.as_bytes(), Escape::Quoted),
        Some((prefix, hash)) => {
            escape_into(out, prefix.as_bytes(), Escape::Quoted);
            out.push(b'~');
            out.extend_from_slice(hex_u64(hash, &mut [0; 16]));
        }
    }
    out.push(b'"');
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Escape {
    /// Label values (both formats) and OpenMetrics HELP: `\`, `"` and line feed.
    Quoted,
    /// 0.0.4 HELP: `\` and line feed only; `\"` is an invalid escape there (promtool rejects it).
    Help004,
}

/// Copies `bytes`, escaping as `mode` requires.
///
/// Other control characters (tab, CR, NUL, ...) pass through: both formats allow them inside
/// quoted label values and HELP text, neither defines an escape for them, and Prometheus reads
/// them back unchanged.
#[inline]
fn escape_into(out: &mut Vec<u8>, bytes: &[u8], mode: Escape) {
    // Nearly every value needs no escaping: find that out 8 bytes at a time, copy in one go.
    let Some(first) = first_special(bytes, mode) else {
        out.extend_from_slice(bytes);
        return;
    };
    let mut plain_from = 0;
    for (i, &b) in bytes.iter().enumerate().skip(first) {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'"' if mode == Escape::Quoted => b"\\\"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[plain_from..i]);
        out.extend_from_slice(escaped);
        plain_from = i + 1;
    }
    out.extend_from_slice(&bytes[plain_from..]);
}

/// The index of the first byte `mode` escapes, if any.
#[inline]
fn first_special(bytes: &[u8], mode: Escape) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Non-zero iff some byte of `word` is zero (the classic SWAR test; exact as a yes/no).
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS;
    let is_special = |b: u8| b == b'\\' || b == b'\n' || (b == b'"' && mode == Escape::Quoted);
    let (words, tail) = bytes.as_chunks::<8>();
    for (index, word) in words.iter().enumerate() {
        let w = u64::from_le_bytes(*word);
        let mut hit =
            has_zero(w ^ (ONES * u64::from(b'\\'))) | has_zero(w ^ (ONES * u64::from(b'\n')));
        if mode == Escape::Quoted {
            hit |= has_zero(w ^ (ONES * u64::from(b'"')));
        }
        if hit != 0 {
            let offset = word.iter().position(|&b| is_special(b)).unwrap_or(0);
            return Some(index * 8 + offset);
        }
    }
    let offset = tail.iter().position(|&b| is_special(b))?;
    Some(words.len() * 8 + offset)
}

/// Integers below 2^53 are exact in an f64 and print without a fraction; other finite values
/// print as the shortest decimal that parses back to the same f64.
const MAX_EXACT_INTEGER: f64 = 9_007_199_254_740_992.0;

fn write_value(out: &mut Vec<u8>, value: f64) {
    if value.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if value.is_infinite() {
        out.extend_from_slice(if value > 0.0 { b"+Inf" } else { b"-Inf" });
    } else if value.fract() == 0.0 && value.abs() < MAX_EXACT_INTEGER {
        // Exact: the value is an integer well inside i64.
        write_i64(out, value as i64);
    } else {
        // Rare (durations, ratios): std's float formatting is shortest round-trip. Plain notation
        // within a readable range, exponent notation outside so 1e-300 stays short.
        let magnitude = value.abs();
        let _ = if (1e-4..1e21).contains(&magnitude) {
            write!(out, "{value}")
        } else {
            write!(out, "{value:e}")
        };
    }
}

fn write_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    let mut n = value.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(v: f64) -> String {
        let mut out = Vec::new();
        write_value(&mut out, v);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_are_spelled_as_both_formats_require() {
        assert_eq!(value(0.0), "0");
        assert_eq!(value(-0.0), "0");
        assert_eq!(value(1.0), "1");
        assert_eq!(value(-17.0), "-17");
        assert_eq!(value(1_764_000_000.0), "1764000000");
        assert_eq!(value(9_007_199_254_740_991.0), "9007199254740991");
        assert_eq!(value(9_007_199_254_740_992.0), "9007199254740992");
        assert_eq!(value(1e21), "1e21");
        assert_eq!(value(0.1), "0.1");
        assert_eq!(value(1.5), "1.5");
        assert_eq!(value(-2.25), "-2.25");
        assert_eq!(value(1e-7), "1e-7");
        assert_eq!(value(1.5e300), "1.5e300");
        assert_eq!(value(f64::NAN), "NaN");
        assert_eq!(value(f64::INFINITY), "+Inf");
        assert_eq!(value(f64::NEG_INFINITY), "-Inf");
        for v in [
            0.1,
            1.0 / 3.0,
            123.456e-9,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            assert_eq!(value(v).parse::<f64>().unwrap(), v, "round trip of {v}");
        }
    }

    /// Found by tests/fuzz_exposition.rs: Python's OpenMetrics parser rejected a scrape with a
    /// NaN counter. Gauges keep every value.
    #[test]
    fn a_counter_that_is_nan_or_negative_is_left_out_in_both_formats() {
        const C: Family = Family::counter("x_total", "X.");
        const G: Family = Family::gauge("y", "Y.");
        for format in [Format::Prometheus004, Format::OpenMetrics100] {
            let mut out = Vec::new();
            let mut encoder = TextEncoder::new(&mut out, format);
            encoder.family(&C);
            for v in [f64::NAN, -1.0, -0.0, 2.0, f64::INFINITY] {
                encoder.sample(&[], v);
            }
            encoder.family(&G);
            encoder.sample(&[], f64::NAN);
            encoder.sample(&[], -1.0);
            assert_eq!(encoder.finish(), 5);
            let text = String::from_utf8(out).unwrap();
            let samples: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
            assert_eq!(
                samples,
                ["x_total 0", "x_total 2", "x_total +Inf", "y NaN", "y -1"]
            );
        }
    }

    #[test]
    fn escaping_follows_each_context() {
        let mut out = Vec::new();
        escape_into(&mut out, b"a\\b\"c\nd\te", Escape::Quoted);
        assert_eq!(out, b"a\\\\b\\\"c\\nd\te");
        out.clear();
        escape_into(&mut out, b"a\\b\"c\nd", Escape::Help004);
        assert_eq!(out, b"a\\\\b\"c\\nd");
    }

    #[test]
    fn the_word_at_a_time_scan_matches_a_byte_at_a_time_escape() {
        fn naive(bytes: &[u8], mode: Escape) -> Vec<u8> {
            let mut out = Vec::new();
            for &b in bytes {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    b'"' if mode == Escape::Quoted => out.extend_from_slice(b"\\\""),
                    _ => out.push(b),
                }
            }
            out
        }
        // Every special at every offset around the 8-byte word boundaries, next to bytes that
        // sit one above or below a special (where a sloppy word test gives false hits).
        let filler = [b'a', 0x5b, 0x5d, b'!', b'#', 0x0b, 0x09, 0x80, 0xff, 0x00];
        let mut inputs = Vec::new();
        for len in 0..26 {
            for &fill in &filler {
                for special in [b'\\', b'\n', b'"'] {
                    for at in 0..len {
                        let mut input = vec![fill; len];
                        input[at] = special;
                        inputs.push(input);
                    }
                }
                inputs.push(vec![fill; len]);
            }
        }
        for input in &inputs {
            for mode in [Escape::Quoted, Escape::Help004] {
                let mut out = Vec::new();
                escape_into(&mut out, input, mode);
                assert_eq!(out, naive(input, mode), "input {input:?}");
            }
        }
    }

    #[test]
    fn negotiation_prefers_openmetrics_only_when_asked() {
        use Format::*;
        assert_eq!(Format::negotiate(None), Prometheus004);
        assert_eq!(Format::negotiate(Some("*/*")), Prometheus004);
        assert_eq!(Format::negotiate(Some("text/plain")), Prometheus004);
        assert_eq!(Format::negotiate(Some("application/json")), Prometheus004);
        // Prometheus 2.x default.
        let prom2 = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                     version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prom2)), OpenMetrics100);
        // Prometheus 3 with scrape_protocols putting 0.0.4 first.
        let text_first = "text/plain;version=0.0.4;q=0.5,application/openmetrics-text;\
                          version=1.0.0;escaping=allow-utf-8;q=0.4,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(text_first)), Prometheus004);
        let om_first = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,\
                        text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(om_first)), OpenMetrics100);
        assert_eq!(
            Format::negotiate(Some("Application/OpenMetrics-Text")),
            OpenMetrics100
        );
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text; q=0")),
            Prometheus004
        );
        // Only an OpenMetrics version we do not speak.
        assert_eq!(
            Format::negotiate(Some("application/openmetrics-text;version=0.0.1")),
            Prometheus004
        );
        assert_eq!(
            Format::negotiate(Some(
                "application/openmetrics-text;q=bogus,text/plain;q=0.1"
            )),
            Prometheus004
        );
    }

    #[test]
    fn content_types_are_exact() {
        assert_eq!(
            Format::Prometheus004.content_type(),
            "text/plain; version=0.0.4; charset=utf-8"
        );
        assert_eq!(
            Format::OpenMetrics100.content_type(),
            "application/openmetrics-text; version=1.0.0; charset=utf-8"
        );
    }

    #[test]
    fn gzip_is_accepted_unless_refused() {
        assert!(!accepts_gzip(None));
        assert!(accepts_gzip(Some("gzip")));
        assert!(accepts_gzip(Some("deflate, GZIP;q=0.5")));
        assert!(accepts_gzip(Some("identity, *")));
        assert!(!accepts_gzip(Some("gzip;q=0")));
        assert!(!accepts_gzip(Some("identity")));
        assert!(!accepts_gzip(Some("gzipx")));
    }

    #[test]
    fn gzip_round_trips() {
        use std::io::Read as _;
        let body = b"backupcenter_backups{phase=\"Completed\"} 3\n".repeat(100);
        let (head, tail) = body.split_at(100);
        let compressed = gzip(&[head, tail]).unwrap();
        assert!(compressed.len() < body.len() / 10);
        let mut decoded = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_end(&mut decoded)
            .unwrap();
        assert_eq!(decoded, body);
    }

    #[test]
    fn a_family_without_samples_keeps_its_metadata() {
        const RESTORES: Family = Family::gauge("backupcenter_restores", "Restore tasks.");
        let mut out = Vec::new();
        let mut encoder = TextEncoder::new(&mut out, Format::OpenMetrics100);
        encoder.family(&RESTORES);
        assert_eq!(encoder.finish(), 0);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# TYPE backupcenter_restores gauge\n# HELP backupcenter_restores Restore tasks.\n# EOF\n"
        );
    }

    #[test]
    fn long_label_values_are_capped_in_the_output() {
        const F: Family = Family::gauge("f", "h");
        let long = "y".repeat(10_000);
        let mut out = Vec::new();
        let mut encoder = TextEncoder::new(&mut out, Format::Prometheus004);
        encoder.family(&F);
        encoder.sample(&[("v", &long)], 1.0);
        encoder.finish();
        let text = String::from_utf8(out).unwrap();
        let line = text.lines().nth(2).unwrap();
        let capped = super::super::sink::capped_label_value(&long);
        assert_eq!(line, format!("f{{v=\"{capped}\"}} 1"));
    }
}
