//! Bounded, offline fuzzing of the snapshot loader (YAML, JSON, tar.gz) and of cron/interval
//! parsing: inputs derived from the bundled examples by random byte-level and token-level
//! mutations, replayed the same way on every run (fixed seeds). What must hold: no panic, a
//! load that ends, and a loader verdict that is either records or a named error. Each target
//! runs 80 to 5 000 cases (seconds in a debug build); `FUZZ_CASES=<n>` runs longer.
//! Crashing inputs found this way belong in tests/hostile_snapshot.rs as regression tests.

use backupscope::model::cadence;
use backupscope::source::snapshot::{self, Limits};
use std::io::Write;
use std::path::{Path, PathBuf};

#[path = "support/lcg.rs"]
mod lcg;
use lcg::Lcg;
#[path = "support/tempdir.rs"]
mod tempdir;
use tempdir::TempDir;

fn cases(default: usize) -> usize {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn example_files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in ["examples/ack-cluster", "examples/velero-cluster"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
            .expect("examples")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
            })
            .collect();
        files.sort();
        out.extend(files);
    }
    assert!(!out.is_empty(), "no example files");
    out
}

/// Tokens that stress YAML and JSON parsers: anchors and aliases, flow openers, document
/// markers, tags, quotes, control and non-UTF-8 bytes.
const TOKENS: &[&[u8]] = &[
    b"&a ",
    b"*a",
    b"[",
    b"{",
    b"]",
    b"}",
    b"\n---\n",
    b"\n...\n",
    b"!!binary ",
    b"!Tag ",
    b"\"",
    b"'",
    b"\\",
    b": ",
    b"- ",
    b"\t",
    b"\0",
    b"\xff",
    b"\xc3",
    b"<<: *a\n",
    b"? ",
    b"|\n",
    b">-\n",
    b"%YAML 1.2\n",
    b"items: ",
    b"kind: List\n",
    b"{\"kind\":\"List\",\"items\":",
];

fn mutate(rng: &mut Lcg, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.next(6) {
        let at = rng.index(out.len() + 1);
        match rng.next(5) {
            0 => out.truncate(at),
            1 => {
                let token = TOKENS[rng.index(TOKENS.len())];
                out.splice(at..at, token.iter().copied());
            }
            2 if at < out.len() => out[at] = rng.next(256) as u8,
            3 => {
                let end = (at + rng.index(64)).min(out.len());
                out.drain(at..end);
            }
            _ => {
                // Repeat a slice: lengthens structures (deeper nesting, more items).
                let end = (at + rng.index(200)).min(out.len());
                let piece = out[at..end].to_vec();
                for _ in 0..rng.next(8) {
                    out.splice(at..at, piece.iter().copied());
                }
            }
        }
    }
    out
}

/// Loads one directory; the verdict must be records or a named error, never a panic.
fn load_ok(path: &Path) {
    match snapshot::load_with(path, Limits::default()) {
        Ok((_, report)) => assert!(report.objects > 0, "a load with no objects is an error"),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

#[test]
fn fuzz_yaml_and_json_files() {
    let files = example_files();
    let inputs: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| {
            let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("x.yaml");
            (name.to_string(), std::fs::read(f).expect("read example"))
        })
        .collect();
    let dir = TempDir::new("fuzz-files");
    let mut rng = Lcg(0x5eed_0001);
    for case in 0..cases(150) {
        let (name, input) = &inputs[rng.index(inputs.len())];
        let mutated = mutate(&mut rng, input);
        // As JSON too: the same object, the other parser.
        let json_name = format!("{case}-{name}.json");
        let as_json = serde_norway::from_slice::<serde_json::Value>(input)
            .ok()
            .and_then(|v| serde_json::to_vec(&v).ok())
            .map(|j| mutate(&mut rng, &j));
        let case_dir = dir.path().join(case.to_string());
        std::fs::create_dir_all(&case_dir).expect("case dir");
        std::fs::write(case_dir.join(name), &mutated).expect("write case");
        if let Some(j) = &as_json {
            std::fs::write(case_dir.join(&json_name), j).expect("write case");
        }
        load_ok(&case_dir);
        let _ = std::fs::remove_dir_all(&case_dir);
    }
}

#[test]
fn fuzz_tar_gz_bundles() {
    let files = example_files();
    let dir = TempDir::new("fuzz-tar");
    let mut rng = Lcg(0x5eed_0002);
    for case in 0..cases(80) {
        let mut tgz = Vec::new();
        {
            let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
                &mut tgz,
                flate2::Compression::fast(),
            ));
            for _ in 0..1 + rng.next(3) {
                let f = &files[rng.index(files.len())];
                let body = std::fs::read(f).expect("read example");
                let body = if rng.next(2) == 0 {
                    mutate(&mut rng, &body)
                } else {
                    body
                };
                let mut header = tar::Header::new_gnu();
                header.set_size(body.len() as u64);
                header.set_mode(0o644);
                header.set_cksum();
                let name = format!("b/{}{}", "n".repeat(rng.index(300)), f.display());
                let name = name.replace("//", "/");
                let _ = tar.append_data(&mut header, name.trim_start_matches('/'), &body[..]);
            }
            let _ = tar.into_inner().and_then(|gz| gz.finish()).map(|_| ());
        }
        // Damage the archive itself: its compressed bytes, or the tar inside.
        let damaged = match rng.next(3) {
            0 => tgz,
            1 => mutate(&mut rng, &tgz),
            _ => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                let mut plain = Vec::new();
                let _ = std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(&tgz[..]),
                    &mut plain,
                );
                let _ = gz.write_all(&mutate(&mut rng, &plain));
                gz.finish().unwrap_or_default()
            }
        };
        let path = dir.write(&format!("{case}.tar.gz"), damaged);
        load_ok(&path);
        let _ = std::fs::remove_file(&path);
    }
}

#[test]
fn fuzz_cron_and_interval_parsing() {
    let seeds = [
        "0 2 * * *",
        "*/15 * * * *",
        "30 1 * * 1-5",
        "0 3 * * 6",
        "@daily",
        "@every 6h",
        "@every 1h30m",
        "0 0 1 */2 *",
        "5,35 */2 * * MON-FRI",
        "CRON_TZ=Asia/Shanghai 0 2 * * *",
        "72h0m0s",
        "1.5h",
        "300ms",
        "-1h",
        "0s",
    ];
    let pieces = [
        "*",
        "/",
        "-",
        ",",
        "0",
        "59",
        "60",
        "99999999999999999999",
        "@every ",
        "@",
        "h",
        "m",
        "s",
        "ns",
        "µs",
        ".",
        " ",
        "\t",
        "?",
        "L",
        "W",
        "#",
        "JAN",
        "SUN",
        "1e308",
        "-0",
    ];
    let mut rng = Lcg(0x5eed_0003);
    for _ in 0..cases(5000) {
        let mut s: String = seeds[rng.index(seeds.len())].to_string();
        for _ in 0..rng.next(5) {
            let mut at = rng.index(s.len() + 1);
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            if rng.next(3) == 0 {
                let end = (at + rng.index(4)).min(s.len());
                if s.is_char_boundary(end) {
                    s.replace_range(at..end, "");
                }
            } else {
                s.insert_str(at, pieces[rng.index(pieces.len())]);
            }
        }
        // Either a positive finite interval or an error; never a panic, NaN or infinity.
        for syntax in [
            cadence::Syntax::Standard,
            cadence::Syntax::StandardOrInterval,
        ] {
            if let Ok(v) = cadence::expected_interval_seconds(&s, syntax) {
                assert!(v.is_finite() && v > 0.0, "{s:?} -> {v}");
            }
        }
        if let Ok(v) = cadence::go_duration_seconds(&s) {
            assert!(v.is_finite(), "{s:?} -> {v}");
        }
    }
}
