//! Snapshot source benchmark (issue 7 C.1, issue 13 items 2-5): the real `backupscope` binary,
//! as a child process so that its memory is measured alone.
//!
//! 1. `serve --snapshot F` of an export of 100 000 backup tasks, 1 000 vaults and 1 000
//!    schedules (`benches/support/fixtures.rs`), written as `kubectl get -o yaml` and `-o json`
//!    write a List: load time (spawn until the listen line, which serve prints once the
//!    snapshot is loaded), peak RSS (VmHWM) and steady RSS (VmRSS 3 s later).
//! 2. `status --snapshot F` of hostile inputs: time, peak RSS and input size, and what it said.
//!
//! Run: `cargo bench --bench snapshot` (prints figures; nothing is asserted on time).
//! Optional: `cargo bench --bench snapshot -- [rounds] [--hostile-only|--export-only] [--keep]`
//! (`--keep` leaves the exports in the temp dir it prints, for profiling a load).

#[path = "support/fixtures.rs"]
mod fixtures;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One plain HTTP/1.0 GET of the body.
fn get(addr: SocketAddr, path: &str) -> String {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(5)) else {
        return String::new();
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let _ = write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// The export as `kubectl get -o yaml` writes a List: sorted keys, items indented under `- `.
fn write_yaml(path: &Path, scale: &fixtures::Scale) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create YAML"));
    out.write_all(b"apiVersion: v1\nitems:\n").expect("write");
    fixtures::for_each_object(scale, |o| {
        let text = serde_norway::to_string(&o).expect("YAML of an object");
        for (i, line) in text.lines().enumerate() {
            let prefix = if i == 0 { "- " } else { "  " };
            writeln!(out, "{prefix}{line}").expect("write");
        }
    });
    out.write_all(b"kind: List\nmetadata:\n  resourceVersion: \"\"\n")
        .expect("write");
}

/// The export as `kubectl get -o json` writes a List (pretty, 4-space indent).
fn write_json(path: &Path, scale: &fixtures::Scale) {
    let mut items = Vec::new();
    fixtures::for_each_object(scale, |o| items.push(o));
    let list = serde_json::json!({"apiVersion": "v1", "items": items, "kind": "List",
        "metadata": {"resourceVersion": ""}});
    let out = std::io::BufWriter::new(std::fs::File::create(path).expect("create JSON"));
    let mut ser = serde_json::Serializer::with_formatter(
        out,
        serde_json::ser::PrettyFormatter::with_indent(b"    "),
    );
    serde::Serialize::serialize(&list, &mut ser).expect("write JSON");
}

struct Served {
    load: f64,
    cpu: f64,
    peak: u64,
    steady: u64,
    tasks: f64,
}

fn serve_once(file: &Path) -> Served {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(["serve", "--listen", "127.0.0.1:0", "--snapshot"])
        .arg(file)
        .env("BACKUPSCOPE_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn backupscope serve");
    let pid = child.id().to_string();
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read the listen line");
    let load = started.elapsed().as_secs_f64();
    let cpu = fixtures::cpu_seconds(&pid);
    let addr = fixtures::listen_address(&line);
    std::thread::sleep(Duration::from_secs(3));
    let (peak, steady) = fixtures::rss_of(&pid);
    let tasks = fixtures::metric(
        &get(addr, "/metrics"),
        "backupscope_objects",
        "resource=\"backups\"",
    );
    let _ = child.kill();
    let _ = child.wait();
    Served {
        load,
        cpu,
        peak,
        steady,
        tasks,
    }
}

/// Runs `status --snapshot F` to its end; returns (seconds, peak RSS sampled every 2 ms,
/// exit code, first lines of stderr).
fn status_once(file: &Path) -> (f64, u64, i32, String) {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_backupscope"))
        .args(["status", "--snapshot"])
        .arg(file)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn backupscope status");
    let pid = child.id().to_string();
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let mut peak = 0;
    let code = loop {
        // VmHWM only grows: the last sample before the exit is within 2 ms of the peak.
        peak = peak.max(fixtures::rss_of(&pid).0);
        if let Ok(Some(status)) = child.try_wait() {
            break status.code().unwrap_or(-1);
        }
        assert!(started.elapsed() < Duration::from_secs(300), "status hangs");
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = started.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&reader.join().unwrap_or_default()).into_owned();
    let lines = text.lines().count();
    let head: Vec<String> = text
        .lines()
        .take(2)
        .map(|l| l.chars().take(160).collect())
        .collect();
    (
        elapsed,
        peak,
        code,
        format!("{lines} stderr lines: {}", head.join(" | ")),
    )
}

fn gzip_tar(
    path: &Path,
    entries: &mut dyn FnMut(&mut tar::Builder<flate2::write::GzEncoder<std::fs::File>>),
) {
    let f = std::fs::File::create(path).expect("create tar.gz");
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        f,
        flate2::Compression::default(),
    ));
    entries(&mut tar);
    tar.into_inner()
        .expect("finish tar")
        .finish()
        .expect("finish gzip");
}

/// A reader of `n` copies of one byte, for entries of hundreds of MB without holding them.
struct Repeat(u8, u64);
impl Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1 as usize);
        buf[..n].fill(self.0);
        self.1 -= n as u64;
        Ok(n)
    }
}

fn hostile_inputs(dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut out = Vec::new();

    let alias = dir.join("alias-bomb.yaml");
    let mut text = format!(
        "apiVersion: velero.io/v1\nkind: Backup\nmetadata: {{name: b, namespace: velero}}\nstatus:\n  message: &m {}\n  list:\n",
        "y".repeat(1_000_000)
    );
    for _ in 0..2000 {
        text.push_str("  - *m\n");
    }
    std::fs::write(&alias, text).expect("write");
    out.push(("YAML: 1 MB scalar x 2 000 aliases", alias));

    let nested = dir.join("nested.yaml");
    std::fs::write(&nested, "[".repeat(100_000)).expect("write");
    out.push(("YAML: `[` nested 100 000 deep", nested));

    let tiny = dir.join("tiny-objects.yaml");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&tiny).expect("create"));
    w.write_all(b"apiVersion: v1\nkind: List\nitems:\n")
        .expect("write");
    for i in 0..2_500_000 {
        writeln!(w, "- {{kind: K, apiVersion: v{}}}", i % 10).expect("write");
    }
    drop(w);
    out.push(("List of 2.5 M tiny objects", tiny));

    let zeros = dir.join("zeros.json");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&zeros).expect("create"));
    w.write_all(b"[0").expect("write");
    for _ in 0..10_000_000 {
        w.write_all(b",0").expect("write");
    }
    w.write_all(b"]").expect("write");
    drop(w);
    out.push(("JSON `[0,0,...]` of 10 M items", zeros));

    let longname = dir.join("longname.tar.gz");
    gzip_tar(&longname, &mut |tar| {
        // A GNU long-name header that declares 3 GB, followed by 3 MB of its content.
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::GNULongName);
        header.as_gnu_mut().expect("gnu").name[..13].copy_from_slice(b"././@LongLink");
        header.set_size(3_000_000_000);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append(&header, Repeat(b'a', 3_000_000)).ok();
    });
    out.push(("tar.gz: GNU long-name header declaring 3 GB", longname));

    let big = dir.join("big-entries.tar.gz");
    gzip_tar(&big, &mut |tar| {
        for i in 0..12 {
            let mut header = tar::Header::new_gnu();
            header.set_size(500_000_000);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(
                &mut header,
                format!("bundle/e{i}.yaml"),
                Repeat(b'#', 500_000_000),
            )
            .expect("append");
        }
    });
    out.push(("tar.gz: 12 entries of 500 MB", big));
    out
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rounds = args
        .iter()
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(3)
        .max(1);
    let export = !args.iter().any(|a| a == "--hostile-only");
    let hostile = !args.iter().any(|a| a == "--export-only");
    let dir =
        std::env::temp_dir().join(format!("backupscope-bench-snapshot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");

    if export {
        let scale = fixtures::TARGET;
        let yaml = dir.join("export.yaml");
        let json = dir.join("export.json");
        write_yaml(&yaml, &scale);
        write_json(&json, &scale);
        for file in [yaml, json] {
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            let (mut loads, mut cpus, mut peaks, mut steadies) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for round in 1..=rounds {
                let s = serve_once(&file);
                println!(
                    "{} round {round}: load {:.2} s ({:.2} s CPU), peak RSS {:.1} MiB, steady RSS {:.1} MiB, \
                     {} tasks in the inventory",
                    file.display(),
                    s.load,
                    s.cpu,
                    fixtures::mib(s.peak),
                    fixtures::mib(s.steady),
                    s.tasks
                );
                loads.push(s.load);
                cpus.push(s.cpu);
                peaks.push(fixtures::mib(s.peak));
                steadies.push(fixtures::mib(s.steady));
            }
            println!(
                "serve --snapshot {} ({:.1} MiB; {} tasks, {} vaults, {} schedules), median of \
                 {rounds}: load {:.2} s ({:.2} s CPU; target <= 3 s), peak RSS {:.1} MiB (target <= 250 MB = \
                 238.4 MiB), steady RSS {:.1} MiB (target <= 120 MB = 114.4 MiB)",
                file.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
                fixtures::mib(size),
                scale.tasks,
                scale.vaults,
                scale.schedules,
                fixtures::median(loads),
                fixtures::median(cpus),
                fixtures::median(peaks),
                fixtures::median(steadies)
            );
        }
    }
    if hostile {
        for (what, file) in hostile_inputs(&dir) {
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            let (secs, peak, code, said) = status_once(&file);
            println!(
                "hostile: {what}: input {:.1} MiB, {secs:.2} s, peak RSS {:.1} MiB, exit {code}; {said}",
                fixtures::mib(size),
                fixtures::mib(peak)
            );
            let _ = std::fs::remove_file(&file);
        }
    }
    if args.iter().any(|a| a == "--keep") {
        println!("exports kept in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
