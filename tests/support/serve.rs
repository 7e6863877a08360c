//! `backupscope serve` as a child process: the real binary, started on a free loopback port
//! whose address is read from the line it prints, killed on drop.

use std::{
    ffi::{OsStr, OsString},
    fs::File,
    io::{BufRead as _, BufReader},
    path::PathBuf,
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc::{self, RecvTimeoutError},
    time::{Duration, Instant},
};

use super::tempdir::TempDir;

const START_TIMEOUT: Duration = Duration::from_secs(30);
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);
const LISTENING: &str = "backupscope listening on ";

/// A bundled example snapshot, e.g. `example("ack-cluster")`.
pub fn example(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// A running `backupscope serve`.
pub struct Serve {
    child: Child,
    scheme: String,
    address: String,
    dir: TempDir,
}

/// Why `serve` did not come up: it exited (with this status) or never printed its address.
#[derive(Debug)]
pub struct StartFailure {
    pub status: Option<ExitStatus>,
    pub stderr: String,
}

impl Serve {
    /// Starts `backupscope serve <args>` (with `--listen 127.0.0.1:0` unless `args` name a
    /// listen address) and waits for its address; panics with its stderr if it does not start.
    pub fn start<S: AsRef<OsStr>>(args: &[S]) -> Serve {
        Self::try_start(args).unwrap_or_else(|failure| {
            panic!(
                "backupscope serve did not start (exit status {:?}):\n{}",
                failure.status, failure.stderr
            )
        })
    }

    /// Like [`Serve::start`], with the process limited to `fd_limit` open files
    /// (`ulimit -n`), to see what happens when descriptors run out.
    pub fn start_with_fd_limit<S: AsRef<OsStr>>(fd_limit: u32, args: &[S]) -> Serve {
        Self::try_start_with(Some(fd_limit), args).unwrap_or_else(|failure| {
            panic!(
                "backupscope serve did not start (exit status {:?}):\n{}",
                failure.status, failure.stderr
            )
        })
    }

    /// Like [`Serve::start`], for tests that expect a refusal.
    pub fn try_start<S: AsRef<OsStr>>(args: &[S]) -> Result<Serve, StartFailure> {
        Self::try_start_with(None, args)
    }

    /// Like [`Serve::start`] with these environment variables set. No `--listen` is added
    /// when the variables or a `--config` file may name the address.
    pub fn start_with_env<S: AsRef<OsStr>>(args: &[S], env: &[(&str, &str)]) -> Serve {
        Self::try_start_in(None, args, env).unwrap_or_else(|failure| {
            panic!(
                "backupscope serve did not start (exit status {:?}):\n{}",
                failure.status, failure.stderr
            )
        })
    }

    fn try_start_with<S: AsRef<OsStr>>(
        fd_limit: Option<u32>,
        args: &[S],
    ) -> Result<Serve, StartFailure> {
        Self::try_start_in(fd_limit, args, &[])
    }

    fn try_start_in<S: AsRef<OsStr>>(
        fd_limit: Option<u32>,
        args: &[S],
        env: &[(&str, &str)],
    ) -> Result<Serve, StartFailure> {
        let dir = TempDir::new("serve");
        let log_path = dir.path().join("stderr.log");
        let log = File::create(&log_path).expect("create the serve stderr log");
        let mut args: Vec<OsString> = args.iter().map(|a| a.as_ref().to_owned()).collect();
        let named = args.iter().any(|a| {
            let a = a.to_string_lossy();
            a.starts_with("--listen") || a.starts_with("--config")
        }) || env.iter().any(|(k, _)| *k == "BACKUPSCOPE_LISTEN");
        if !named {
            args.extend(["--listen".into(), "127.0.0.1:0".into()]);
        }
        let binary = env!("CARGO_BIN_EXE_backupscope");
        let mut command = match fd_limit {
            None => Command::new(binary),
            Some(limit) => {
                // exec: the pid is backupscope's own, so signals and kill reach it.
                let mut sh = Command::new("sh");
                sh.args([
                    "-c",
                    &format!("ulimit -n {limit} && exec \"$0\" \"$@\""),
                    binary,
                ]);
                sh
            }
        };
        command
            .arg("serve")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log);
        // The caller's environment must not change what is served.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("BACKUPSCOPE_") {
                command.env_remove(name);
            }
        }
        command.envs(env.iter().copied());
        let mut child = command.spawn().expect("spawn backupscope serve");
        let stdout = child.stdout.take().expect("serve stdout is piped");
        let (lines_tx, lines) = mpsc::channel();
        // Drains stdout until the process ends, so a chatty child never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if lines_tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + START_TIMEOUT;
        let mut serve = Serve {
            child,
            scheme: String::new(),
            address: String::new(),
            dir,
        };
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    let Some(url) = line.strip_prefix(LISTENING) else {
                        continue;
                    };
                    let Some((scheme, address)) = url.trim().split_once("://") else {
                        continue;
                    };
                    serve.scheme = scheme.to_owned();
                    serve.address = address.to_owned();
                    return Ok(serve);
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // stdout closed before the address line: the process is ending.
                    let status = serve.wait_exit();
                    return Err(StartFailure {
                        status,
                        stderr: serve.stderr(),
                    });
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(StartFailure {
                        status: None,
                        stderr: format!(
                            "no address line after {START_TIMEOUT:?}; stderr:\n{}",
                            serve.stderr()
                        ),
                    });
                }
            }
        }
    }

    /// Polls `/readyz` until it answers 200; panics with serve's stderr after `within`.
    pub async fn wait_ready(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while super::http::get(&self.url("/readyz"), &[]).await.status != 200 {
            assert!(
                Instant::now() < deadline,
                "not ready within {within:?}:\n{}",
                self.stderr()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The process id (for its /proc figures).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http` or `https`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// `<scheme>://<address><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.address)
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit; `None` if it did not.
    pub fn terminate(&mut self, within: Duration) -> Option<ExitStatus> {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        self.wait_exit_within(within)
    }

    /// Waits a bounded time for the process to exit; kills it if it does not.
    fn wait_exit(&mut self) -> Option<ExitStatus> {
        self.wait_exit_within(EXIT_TIMEOUT)
    }

    fn wait_exit_within(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("backupscope serve stderr:\n{}", self.stderr());
        }
    }
}
