//! Bounded, offline fuzzing of the exposition writer on its own: random label values (any
//! Unicode scalar, control characters, escapes, values past the cap), random sample values
//! (any bit pattern: NaN, infinities, subnormals, -0) and hostile help texts, in both
//! formats. The official Python `prometheus_client` parsers read every case back, and each
//! label value and sample value must round-trip exactly (label values as capped). promtool
//! checks the 0.0.4 text too. `FUZZ_CASES=<n>` runs longer.

mod support;

use backupscope::metrics::exposition::{Format, TextEncoder};
use backupscope::metrics::sink::{Family, MetricSink, capped_label_value};
use serde_json::{Value, json};
use support::{promtool, python, tempdir::TempDir};

#[path = "support/lcg.rs"]
mod lcg;
use lcg::Lcg;

fn cases(default: usize) -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn random_text(rng: &mut Lcg) -> String {
    let specials = [
        '"', '\\', '\n', '\r', '\t', '\0', '\u{1b}', '\u{7f}', '{', '}', '=', ',', '#', ' ',
    ];
    let len = match rng.next(8) {
        0 => 500 + rng.index(1_000),
        _ => rng.index(24),
    };
    (0..len)
        .map(|_| match rng.next(4) {
            0 => specials[rng.index(specials.len())],
            1 => char::from_u32(rng.next(0x11_0000) as u32).unwrap_or('\u{fffd}'),
            _ => (b'a' + rng.next(26) as u8) as char,
        })
        .collect()
}

fn random_value(rng: &mut Lcg) -> f64 {
    match rng.next(6) {
        0 => f64::from_bits(rng.next(1 << 31) | rng.next(1 << 31) << 31 | rng.next(4) << 62),
        1 => [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE / 8.0,
        ][rng.index(6)],
        2 => rng.next(1 << 53) as f64,
        3 => 1_764_000_000.0 + rng.next(1_000_000) as f64 / 1000.0,
        _ => (rng.next(1 << 30) as f64 - (1 << 29) as f64) / 7.0,
    }
}

/// One case: a few families of each type, each with a few series of random label values.
/// Returns the families and, per series, what a parser must read back.
fn write_case(rng: &mut Lcg, format: Format) -> (Vec<u8>, Vec<Value>) {
    let help: &'static str = Box::leak(format!("Help {}", random_text(rng)).into_boxed_str());
    let families = [
        Family::gauge("fuzz_level", help),
        Family::counter("fuzz_events_total", help),
        Family::info("fuzz_thing_info", help),
    ];
    let mut out = Vec::new();
    let mut expected = Vec::new();
    let mut encoder = TextEncoder::new(&mut out, format);
    for family in &families {
        encoder.family(family);
        for series in 0..rng.index(5) {
            // The series index keeps label sets distinct, as the collector guarantees.
            let id = series.to_string();
            let a = random_text(rng);
            let b = random_text(rng);
            let value = if family.name.ends_with("_info") {
                1.0
            } else if family.name.ends_with("_total") && rng.next(4) > 0 {
                random_value(rng).abs()
            } else {
                random_value(rng)
            };
            encoder.sample(&[("id", &id), ("a", &a), ("b", &b)], value);
            if family.name.ends_with("_total") && (value.is_nan() || value < 0.0) {
                // The encoder drops what no counter can be (NaN, negative): see below.
                continue;
            }
            expected.push(json!({
                "family": family.name,
                "labels": {"id": id, "a": capped_label_value(&a), "b": capped_label_value(&b)},
                "bits": value_bits(value),
            }));
        }
    }
    encoder.finish();
    (out, expected)
}

/// NaN has many encodings and every parser picks its own: all NaNs compare as one.
fn value_bits(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v == 0.0 {
        "0".into()
    } else {
        format!("{:016x}", v.to_bits())
    }
}

#[test]
fn fuzz_exposition_round_trips_through_independent_parsers() {
    let dir = TempDir::new("fuzz-exposition");
    let mut rng = Lcg(0x5eed_0006);
    let total = cases(300);
    for case in 0..total {
        for (format, ext) in [
            (Format::Prometheus004, "prom"),
            (Format::OpenMetrics100, "om"),
        ] {
            let (body, expected) = write_case(&mut rng, format);
            if format == Format::Prometheus004
                && let Err(e) = promtool::check_metrics(&body)
            {
                let kept = dir.write(&format!("{case}.{ext}"), &body);
                panic!("case {case} ({}): {e}", kept.display());
            }
            dir.write(&format!("{case}.{ext}"), &body);
            dir.write(
                &format!("{case}.{ext}.expected.json"),
                Value::Array(expected).to_string(),
            );
        }
    }
    let verdict = python::run(
        r#"
import glob, json, math, os, struct, sys
from prometheus_client.parser import text_string_to_metric_families as text_parse
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse

def bits(v):
    if math.isnan(v):
        return "nan"
    if v == 0:
        return "0"
    return struct.pack(">d", v).hex()

checked, failures = 0, []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.prom")) + glob.glob(os.path.join(sys.argv[1], "*.om"))):
    with open(path, encoding="utf-8", newline="") as f:
        body = f.read()
    with open(path + ".expected.json", encoding="utf-8") as f:
        expected = json.load(f)
    try:
        parse = om_parse if path.endswith(".om") else text_parse
        got = []
        for family in parse(body):
            for s in family.samples:
                if s.name.endswith("_created"):
                    continue
                got.append({"family": family.name, "labels": s.labels, "bits": bits(s.value)})
    except Exception as e:
        failures.append(f"{path}: {type(e).__name__}: {e}"[:400])
        continue
    # The parsers name families without their _total/_info suffix in places; compare samples.
    norm = lambda xs: sorted(json.dumps([x["labels"], x["bits"]], sort_keys=True) for x in xs)
    if norm(got) != norm(expected):
        failures.append(f"{path}: read back {norm(got)[:3]} expected {norm(expected)[:3]}"[:800])
    checked += 1
print(checked)
for f in failures[:10]:
    print(f)
sys.exit(1 if failures else 0)
"#,
        &[dir.path().as_os_str()],
    );
    match verdict {
        Ok(out) => assert_eq!(out.trim(), (2 * total).to_string()),
        Err(e) => panic!("prometheus_client read a different exposition back:\n{e}"),
    }
}
