//! A real Alertmanager (Debian `prometheus-alertmanager`) for end-to-end tests, whose only
//! receiver is a webhook listener inside the test: every notification it sends arrives on a
//! channel as the parsed JSON body. Both are stopped on drop.

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    net::TcpListener,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use super::{prometheus::free_port, tempdir::TempDir};

const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A webhook receiver: an HTTP/1.1 listener on a loopback port that answers 200 to every POST
/// and hands each body, parsed as JSON, to [`Webhook::recv`].
pub struct Webhook {
    address: String,
    bodies: mpsc::Receiver<serde_json::Value>,
}

impl Webhook {
    pub fn start() -> Webhook {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the webhook listener");
        let address = listener.local_addr().expect("webhook address").to_string();
        let (tx, bodies) = mpsc::channel();
        // The thread ends when the receiver is dropped (the next send fails) or the listener
        // errors; it holds nothing the test waits for.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { break };
                let Some(body) = read_request(&stream) else {
                    continue;
                };
                let mut out = &stream;
                let _ = out.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
                let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
                if tx.send(json).is_err() {
                    break;
                }
            }
        });
        Webhook { address, bodies }
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.address)
    }

    /// The next notification, or `None` after `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<serde_json::Value> {
        self.bodies.recv_timeout(timeout).ok()
    }
}

/// Reads one request's body (by Content-Length); `None` on a malformed request.
fn read_request(stream: &std::net::TcpStream) -> Option<Vec<u8>> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

pub struct Alertmanager {
    child: Child,
    dir: TempDir,
    address: String,
}

impl Alertmanager {
    /// The binary: `$ALERTMANAGER` or the Debian package's.
    pub fn binary() -> PathBuf {
        super::debian_binary(
            "ALERTMANAGER",
            "/usr/bin/prometheus-alertmanager",
            "prometheus-alertmanager",
        )
    }

    /// Starts Alertmanager routing every alert, ungrouped and at once, to `webhook`; waits
    /// until `/-/ready` answers.
    pub fn start(webhook: &Webhook) -> Alertmanager {
        let dir = TempDir::new("alertmanager");
        let config = dir.path().join("alertmanager.yml");
        // group_by '...': one notification per alert, so a test sees each alert's labels.
        let yaml = format!(
            "route:\n  receiver: test\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: 1s\n  \
             repeat_interval: 1h\nreceivers:\n  - name: test\n    webhook_configs:\n      - url: {}\n        \
             send_resolved: true\n",
            serde_json::Value::from(webhook.url())
        );
        std::fs::write(&config, yaml).expect("write alertmanager.yml");
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).expect("log file");
        let port = free_port();
        let child = Command::new(Self::binary())
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // No gossip: a lone Alertmanager would otherwise wait for peers before sending.
            .arg("--cluster.listen-address=")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn alertmanager");
        let mut am = Alertmanager {
            child,
            dir,
            address: format!("127.0.0.1:{port}"),
        };
        am.wait_ready();
        am
    }

    /// `127.0.0.1:<port>`, as Prometheus' `alertmanagers` targets take it.
    pub fn address(&self) -> &str {
        &self.address
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "alertmanager exited during startup ({status}):\n{}",
                    self.log()
                );
            }
            if ready(&self.address) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "alertmanager not ready after {READY_TIMEOUT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// `GET /-/ready` answers 200.
fn ready(address: &str) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(address) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream
        .write_all(
            format!("GET /-/ready HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        )
        .is_err()
    {
        return false;
    }
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.starts_with("HTTP/1.1 200")
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("alertmanager log:\n{}", self.log());
        }
    }
}
