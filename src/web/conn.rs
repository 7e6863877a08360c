//! Accepting and serving connections so that no client can lock others out: a cap on open
//! connections, a deadline for request headers, idle connections closed (at once when
//! descriptors or slots run short), an accept loop that backs off when the process is out of
//! file descriptors instead of spinning, and a bounded graceful shutdown.
//!
//! HTTP/1.1 only. Prometheus scrapes over HTTP/1.1, and HTTP/2 (which the auto-detecting
//! hyper builder served as cleartext h2c to anyone who sent its preface, undocumented) would
//! add a second protocol with its own per-connection stream limits to keep safe.

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt;

/// The bounds every connection is held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open connections at most; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// A request's headers must arrive within this (slow-loris clients).
    pub header_read: Duration,
    /// A connection with no request in flight and no bytes moving is closed after this.
    pub idle: Duration,
    /// ... or after this, while connections or file descriptors run short.
    pub idle_under_pressure: Duration,
    /// TLS handshakes must finish within this.
    pub handshake: Duration,
    /// On shutdown, connections still open after this are dropped.
    pub shutdown_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 512,
            header_read: Duration::from_secs(10),
            // Above the usual 60 s scrape interval, so Prometheus keeps its connection.
            idle: Duration::from_secs(120),
            idle_under_pressure: Duration::from_secs(1),
            handshake: Duration::from_secs(10),
            // Well inside Kubernetes' default 30 s termination grace period.
            shutdown_deadline: Duration::from_secs(5),
        }
    }
}

/// How often a connection checks whether it has been idle too long.
const IDLE_CHECK: Duration = Duration::from_millis(250);
/// After running out of descriptors, idle connections are shed for this long.
const PRESSURE_WINDOW: Duration = Duration::from_secs(5);
/// A repeated accept failure is logged at most once per this interval (with a count).
const ACCEPT_LOG_INTERVAL: Duration = Duration::from_secs(10);
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(10);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// State shared by the accept loop and every connection.
struct Shared {
    slots: Arc<Semaphore>,
    limits: Limits,
    /// [`now_ms`] until which idle connections are shed quickly.
    pressure_until: AtomicU64,
}

impl Shared {
    fn now_ms(&self) -> u64 {
        now_ms()
    }

    fn mark_pressure(&self) {
        let until = self.now_ms() + PRESSURE_WINDOW.as_millis() as u64;
        self.pressure_until.fetch_max(until, Ordering::Relaxed);
    }

    fn under_pressure(&self) -> bool {
        self.now_ms() < self.pressure_until.load(Ordering::Relaxed)
            || self.slots.available_permits() < self.limits.max_connections / 8
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, over TLS when `tls` is given.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let shared = Arc::new(Shared {
        slots: Arc::new(Semaphore::new(limits.max_connections)),
        limits,
        pressure_until: AtomicU64::new(0),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut failures = AcceptFailures::new();
    tokio::pin!(shutdown);
    loop {
        let permit = match shared.slots.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                // Full: shed idle connections, and wait for a slot (or the end).
                shared.mark_pressure();
                tokio::select! {
                    _ = &mut shutdown => break,
                    p = shared.slots.clone().acquire_owned() => match p {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                }
            }
        };
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (tcp, peer) = match accepted {
            Ok(a) => {
                failures.reset();
                a
            }
            Err(e) => {
                if out_of_descriptors(&e) {
                    shared.mark_pressure();
                }
                if let Some(pause) = failures.record(&e) {
                    tokio::select! {
                        _ = &mut shutdown => break,
                        _ = tokio::time::sleep(pause) => {},
                    }
                }
                continue;
            }
        };
        let shared = shared.clone();
        let app = app.clone();
        let tls = tls.clone();
        let stop = stop_rx.clone();
        tokio::spawn(async move {
            let _slot = permit;
            match tls {
                None => connection(Tracked::new(tcp), app, &shared, stop).await,
                Some(acceptor) => {
                    // A client that connects and never finishes the handshake must not hold
                    // a slot, nor a descriptor the server runs short of.
                    let tcp = Tracked::new(tcp);
                    let activity = tcp.activity();
                    let handshake = tokio::time::timeout(
                        shared.limits.handshake,
                        until_shed(&shared, &activity, acceptor.accept(tcp)),
                    );
                    match handshake.await {
                        Ok(Some(Ok(stream))) => connection(stream, app, &shared, stop).await,
                        Ok(Some(Err(e))) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed")
                        }
                        Ok(None) => tracing::debug!(%peer, "silent TLS client shed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    // Ask every connection to finish its request and close; drop the rest at the deadline.
    let _ = stop_tx.send(true);
    let deadline = Instant::now() + limits.shutdown_deadline;
    while shared.slots.available_permits() < limits.max_connections && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let open = limits.max_connections - shared.slots.available_permits();
    if open > 0 {
        tracing::warn!(
            open,
            deadline = ?limits.shutdown_deadline,
            "connections still open at the shutdown deadline are dropped"
        );
    }
    Ok(())
}

/// Out of file descriptors (process or system) or kernel memory: retrying at once cannot work.
fn out_of_descriptors(e: &io::Error) -> bool {
    // EMFILE, ENFILE, ENOBUFS, ENOMEM on Linux and the BSDs.
    matches!(e.raw_os_error(), Some(24 | 23 | 105 | 12 | 55))
}

/// Backoff and rate-limited logging of accept failures.
struct AcceptFailures {
    pause: Duration,
    last_log: Option<Instant>,
    suppressed: u64,
}

impl AcceptFailures {
    fn new() -> Self {
        AcceptFailures {
            pause: ACCEPT_BACKOFF_MIN,
            last_log: None,
            suppressed: 0,
        }
    }

    fn reset(&mut self) {
        self.pause = ACCEPT_BACKOFF_MIN;
    }

    /// Logs the failure (once per interval) and says how long to pause before the next
    /// accept: none for a connection the client already gave up, a growing pause otherwise.
    fn record(&mut self, e: &io::Error) -> Option<Duration> {
        let per_connection = matches!(
            e.kind(),
            io::ErrorKind::ConnectionAborted
                | io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionRefused
        );
        if per_connection {
            return None;
        }
        let due = self
            .last_log
            .is_none_or(|t| t.elapsed() >= ACCEPT_LOG_INTERVAL);
        if due {
            tracing::warn!(
                error = %e,
                repeated = self.suppressed,
                "accepting a connection failed; pausing accepts (logged at most every {}s)",
                ACCEPT_LOG_INTERVAL.as_secs()
            );
            self.last_log = Some(Instant::now());
            self.suppressed = 0;
        } else {
            self.suppressed += 1;
        }
        let pause = self.pause;
        self.pause = (self.pause * 2).min(ACCEPT_BACKOFF_MAX);
        Some(pause)
    }
}

/// Serves one connection with HTTP/1.1 until the client closes it, it idles too long, or the
/// server stops (then at most until the shutdown deadline, when the task is dropped).
async fn connection<I>(io: I, app: Router, shared: &Shared, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static + Activity,
{
    let activity = io.activity();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let counted = in_flight.clone();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let app = app.clone();
        let guard = InFlight::new(counted.clone());
        async move {
            let response = app.oneshot(request).await;
            drop(guard);
            response
        }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_read)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let mut check = tokio::time::interval(IDLE_CHECK);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut closing = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            changed = stop.changed(), if !closing => {
                let _ = changed;
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = check.tick(), if !closing => {
                let limit = if shared.under_pressure() {
                    shared.limits.idle_under_pressure
                } else {
                    shared.limits.idle
                };
                let quiet = Duration::from_millis(shared.now_ms().saturating_sub(activity.last()));
                if in_flight.load(Ordering::Relaxed) == 0 && quiet >= limit {
                    conn.as_mut().graceful_shutdown();
                    closing = true;
                }
            }
        }
    }
}

/// Runs `fut`, unless the server runs short of connections or descriptors while the client
/// sends nothing: then `None`, and the connection is dropped.
async fn until_shed<T>(
    shared: &Shared,
    activity: &LastActivity,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::pin!(fut);
    let mut check = tokio::time::interval(IDLE_CHECK);
    loop {
        tokio::select! {
            out = &mut fut => return Some(out),
            _ = check.tick() => {
                let quiet = Duration::from_millis(now_ms().saturating_sub(activity.last()));
                if shared.under_pressure() && quiet >= shared.limits.idle_under_pressure {
                    return None;
                }
            }
        }
    }
}

/// Counts a request as in flight while its response is being produced.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(n: Arc<AtomicUsize>) -> Self {
        n.fetch_add(1, Ordering::Relaxed);
        InFlight(n)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// When bytes last moved on a connection, in [`now_ms`].
#[derive(Clone, Default)]
pub(crate) struct LastActivity(Arc<AtomicU64>);

impl LastActivity {
    fn touch(&self) {
        self.0.store(now_ms(), Ordering::Relaxed);
    }

    fn last(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Milliseconds since the first call: one cheap clock for every connection's stamps.
fn now_ms() -> u64 {
    static BASE: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// A stream whose reads and writes are stamped.
pub(crate) trait Activity {
    fn activity(&self) -> LastActivity;
}

/// A TCP stream that records when bytes last moved.
pub(crate) struct Tracked {
    inner: TcpStream,
    activity: LastActivity,
}

impl Tracked {
    fn new(inner: TcpStream) -> Self {
        let activity = LastActivity::default();
        activity.touch();
        Tracked { inner, activity }
    }
}

impl Activity for Tracked {
    fn activity(&self) -> LastActivity {
        self.activity.clone()
    }
}

impl Activity for tokio_rustls::server::TlsStream<Tracked> {
    fn activity(&self) -> LastActivity {
        self.get_ref().0.activity.clone()
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_failures_back_off_and_per_connection_ones_do_not() {
        let mut f = AcceptFailures::new();
        let emfile = io::Error::from_raw_os_error(24);
        assert!(out_of_descriptors(&emfile));
        let pauses: Vec<u128> = (0..9)
            .filter_map(|_| f.record(&emfile))
            .map(|d| d.as_millis())
            .collect();
        assert_eq!(pauses, [10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
        // Logged once in the interval, the other eight counted.
        assert_eq!(f.suppressed, 8);
        let aborted = io::Error::from(io::ErrorKind::ConnectionAborted);
        assert!(!out_of_descriptors(&aborted));
        assert_eq!(f.record(&aborted), None);
        f.reset();
        assert_eq!(f.record(&emfile), Some(ACCEPT_BACKOFF_MIN));
    }
}
