//! A reference IPN listener: the flow of `ipnkit::listener`, run as a service.
//!
//! - The HTTP layer ([`crate::http`], hyper on tokio) reads each request within limits and
//!   timeouts, keeps whatever does not look like PayPal's (no `verify_sign`) apart as junk, and
//!   stores each real body durably in the [`store`] (SQLite, or PostgreSQL shared
//!   by several listener processes) before it answers `200`.
//! - Postback workers (threads, [`Config::workers`]) each claim one due message at a time with a
//!   lease, post it back, and settle it: a slow or hung postback holds one worker until its
//!   deadline, never the others. An unanswered postback (5xx, timeout, an HTML page, a
//!   redirect, a dropped connection) is retried later with backoff, forever: a message is never
//!   dropped. A message PayPal verified is never posted back again.
//! - A verified message is typed, its order looked up ([`Orders`]) when the rules compare an
//!   amount, and [`Notification::decide`] gives the action; the outcome and its event go to the
//!   store in one transaction. Every verified notification for this merchant becomes an event:
//!   accepted (payments, refunds, reversals, disputes…; `ship` only for a payment whose order
//!   was found and matched), refused (with the violations, once per delivery), or unreadable
//!   (with the error's code and field, kept for `--reprocess`).
//! - One thread hands the outbox to the sink (at least once, each event under its stable id;
//!   once for the events file, whose last line is read after a restart) and prunes old bodies.
//!   Store errors back off and are logged, in every loop.
//! - Restarting loses nothing: stored messages not yet settled, and events not yet sent, are
//!   picked up again.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use ipnkit::host::{Answer, Decision, Notification, Refusal};
use ipnkit::signature::{HEADER, Secret, sign};
use ipnkit::{AmountCheck, Expected, Limits, Verdict, expects_amount};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::http::HttpLimits;
use crate::orders::{self, Found, Orders};
use crate::reconnect::on_a_live_connection;
use crate::store::{self, Counts, Db, Pending, Store, StoreError, ms, now_ms};

/// How long handing an event to a URL sink may take, all in.
const SINK_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a message held for an operator (a state the listener will not guess at) waits
/// before it is tried again: an hour.
const HELD_MS: i64 = 3_600_000;

/// Where events go, one JSON line each.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Standard output.
    Stdout,
    /// Appended to a file, synced.
    File(PathBuf),
    /// Written to the standard input of a command (`sh -c`), started once.
    Command(String),
    /// POSTed to a URL, one request per event (any 2xx is success), signed with the secret
    /// when there is one (see [`ipnkit::signature`]).
    Url(String, Option<Secret>),
    /// Kept in the store only.
    None,
}

/// How long to wait before the n-th retry of an unanswered postback or order lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub first: Duration,
    /// The longest wait.
    pub max: Duration,
}

impl Backoff {
    /// For tests and demos: 100 ms doubling to 2 s.
    pub const COMPRESSED: Backoff = Backoff {
        first: Duration::from_millis(100),
        max: Duration::from_secs(2),
    };
    /// For production: 30 s doubling to an hour. PayPal's own resends go on for days.
    pub const PRODUCTION: Backoff = Backoff {
        first: Duration::from_secs(30),
        max: Duration::from_secs(3600),
    };

    /// The wait before retry number `attempts` (from 0).
    pub fn after(self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }
}

/// How long raw bodies are kept once their message is settled (they are personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Settled messages' bodies are erased after this (the row and its outcome stay).
    pub bodies: Duration,
    /// Junk is deleted after this.
    pub junk: Duration,
}

impl Retention {
    /// 30 days for bodies, one day for junk.
    pub const DEFAULT: Retention = Retention {
        bodies: Duration::from_secs(30 * 86_400),
        junk: Duration::from_secs(86_400),
    };
}

/// What the listener needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// The store: a SQLite file, or a PostgreSQL database shared with other listeners.
    pub db: Db,
    /// The environment, the merchant's receivers, the limits, where postbacks go.
    pub host: ipnkit::host::Config,
    /// Where the amount and currency of each payment's order come from.
    pub orders: Orders,
    /// Where events go.
    pub sink: Sink,
    /// How long a postback (or an order lookup) may take, all in.
    pub postback_timeout: Duration,
    /// When to retry an unanswered postback or order lookup.
    pub backoff: Backoff,
    /// Postbacks in flight at most (one worker thread each).
    pub workers: usize,
    /// Threads that write received bodies to the store.
    pub threads: usize,
    /// The HTTP layer's limits and timeouts.
    pub http: HttpLimits,
    /// How long raw bodies are kept.
    pub retention: Retention,
}

impl Config {
    /// A listener on a free loopback port against a local stand-in at `verify_url` (the sandbox
    /// environment), receiving for `receivers`, with quick retries, no order book and no sink:
    /// the starting point of tests, demos and benchmarks, which then set what they need.
    pub fn for_stand_in(
        verify_url: &str,
        db: impl Into<Db>,
        receivers: &[&str],
    ) -> Result<Config, ipnkit::Error> {
        let host = ipnkit::host::Config::from_json(
            &json!({
                "environment": "sandbox",
                "receiver_emails": receivers,
                "verify_url_for_testing": verify_url,
            })
            .to_string(),
        )?;
        Ok(Config {
            listen: "127.0.0.1:0".into(),
            db: db.into(),
            host,
            orders: Orders::None,
            sink: Sink::None,
            postback_timeout: Duration::from_secs(2),
            backoff: Backoff::COMPRESSED,
            workers: 8,
            threads: 4,
            http: HttpLimits::DEFAULT,
            retention: Retention::DEFAULT,
        })
    }
}

/// Counters since the process started (the store holds the rest).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) received: AtomicU64,
    /// Deliveries (POSTs) being read or stored now: a gauge.
    pub(crate) receiving: AtomicU64,
    pub(crate) junk: AtomicU64,
    pub(crate) junk_dropped: AtomicU64,
    pub(crate) too_large: AtomicU64,
    pub(crate) truncated: AtomicU64,
    pub(crate) body_timeouts: AtomicU64,
    pub(crate) store_failures: AtomicU64,
    pub(crate) connections_refused: AtomicU64,
    pub(crate) accept_errors: AtomicU64,
    pub(crate) verified: AtomicU64,
    pub(crate) invalid: AtomicU64,
    pub(crate) unexpected: AtomicU64,
    pub(crate) reconnected: AtomicU64,
    pub(crate) lookups_failed: AtomicU64,
    pub(crate) events_sent: AtomicU64,
    pub(crate) sink_failures: AtomicU64,
}

/// Store connections for the receiving side, opened as needed and reused.
pub(crate) struct Pool {
    db: Db,
    idle: Mutex<Vec<Box<dyn Store>>>,
}

impl Pool {
    pub(crate) fn with<T>(
        &self,
        work: impl FnOnce(&mut dyn Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = lock(&self.idle).pop();
        let mut store = match idle {
            Some(store) => store,
            None => store::connect(&self.db)?,
        };
        let result = work(store.as_mut());
        lock(&self.idle).push(store);
        result
    }
}

/// Wakes sleeping workers when a message arrives.
#[derive(Default)]
pub(crate) struct Wake {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl Wake {
    pub(crate) fn notify(&self) {
        *lock(&self.generation) += 1;
        self.changed.notify_all();
    }

    fn wait(&self, timeout: Duration) {
        let guard = lock(&self.generation);
        let seen = *guard;
        let _ = self
            .changed
            .wait_timeout_while(guard, timeout, |g| *g == seen);
    }
}

/// What the HTTP layer shares with the rest.
pub(crate) struct Shared {
    pub(crate) pool: Pool,
    pub(crate) junk: mpsc::Sender<(i64, &'static str, Bytes)>,
    pub(crate) wake: Arc<Wake>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) limits: Limits,
    pub(crate) http: HttpLimits,
}

impl Shared {
    /// The counters in Prometheus' text format.
    pub(crate) fn render_metrics(&self) -> Result<String, StoreError> {
        let (counts, refusals, oldest, unsent) = self.pool.with(|s| {
            Ok((
                s.counts()?,
                s.refusals()?,
                s.oldest_unsettled_at()?,
                s.unsent_count()?,
            ))
        })?;
        Ok(render(&self.metrics, &counts, &refusals, oldest, unsent))
    }
}

fn render(
    m: &Metrics,
    counts: &Counts,
    refusals: &[(String, i64)],
    oldest: Option<i64>,
    unsent: i64,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, value: &AtomicU64| {
        let _ = writeln!(
            out,
            "# HELP ipnkit_{name} {help}\n# TYPE ipnkit_{name} counter"
        );
        let _ = writeln!(out, "ipnkit_{name} {}", value.load(Ordering::Relaxed));
    };
    counter(
        "received_total",
        "Messages stored (answered 200).",
        &m.received,
    );
    counter(
        "junk_total",
        "Posts without a verify_sign (or not a form body): never posted back.",
        &m.junk,
    );
    counter(
        "junk_dropped_total",
        "Junk not kept because the junk writer was behind.",
        &m.junk_dropped,
    );
    counter(
        "too_large_total",
        "Requests refused with 413.",
        &m.too_large,
    );
    counter(
        "truncated_total",
        "Bodies cut short: never stored.",
        &m.truncated,
    );
    counter(
        "body_timeouts_total",
        "Bodies not received in time (408).",
        &m.body_timeouts,
    );
    counter(
        "store_failures_total",
        "Bodies that could not be stored (500).",
        &m.store_failures,
    );
    counter(
        "connections_refused_total",
        "Connections closed at the connection limit.",
        &m.connections_refused,
    );
    counter(
        "accept_errors_total",
        "Failed accepts (file descriptors).",
        &m.accept_errors,
    );
    counter(
        "verified_total",
        "Postbacks answered VERIFIED.",
        &m.verified,
    );
    counter("invalid_total", "Postbacks answered INVALID.", &m.invalid);
    counter(
        "unexpected_total",
        "Postbacks without a usable answer (retried).",
        &m.unexpected,
    );
    counter(
        "postbacks_sent_again_total",
        "Postbacks that met a connection closed under them and were sent again at once on a new one.",
        &m.reconnected,
    );
    counter(
        "order_lookups_failed_total",
        "Order lookups that could not be answered (retried).",
        &m.lookups_failed,
    );
    counter(
        "events_sent_total",
        "Events handed to the sink.",
        &m.events_sent,
    );
    counter(
        "sink_failures_total",
        "Failed hand-overs to the sink (retried).",
        &m.sink_failures,
    );
    let _ = writeln!(
        out,
        "# HELP ipnkit_messages Stored messages by state.\n# TYPE ipnkit_messages gauge"
    );
    for (state, n) in counts.by_state() {
        let _ = writeln!(out, "ipnkit_messages{{state=\"{state}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP ipnkit_refused Refused and unreadable messages by their codes.\n# TYPE ipnkit_refused gauge"
    );
    for (codes, n) in refusals {
        // Codes are ipnkit's own words (letters, digits, `_`, `,`): no escaping needed.
        let _ = writeln!(out, "ipnkit_refused{{codes=\"{codes}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP ipnkit_queue_depth Messages not settled yet.\n# TYPE ipnkit_queue_depth gauge\nipnkit_queue_depth {}",
        counts.unsettled()
    );
    let age = oldest.map_or(0.0, |at| (now_ms() - at).max(0) as f64 / 1000.0);
    let _ = writeln!(
        out,
        "# HELP ipnkit_oldest_unsettled_seconds Age of the oldest message not settled.\n# TYPE ipnkit_oldest_unsettled_seconds gauge\nipnkit_oldest_unsettled_seconds {age:.3}"
    );
    let _ = writeln!(
        out,
        "# HELP ipnkit_events_unsent Events waiting for the sink.\n# TYPE ipnkit_events_unsent gauge\nipnkit_events_unsent {unsent}"
    );
    let _ = writeln!(
        out,
        "# HELP ipnkit_deliveries_in_flight Deliveries being read or stored now.\n# TYPE ipnkit_deliveries_in_flight gauge\nipnkit_deliveries_in_flight {}",
        m.receiving.load(Ordering::Relaxed)
    );
    out
}

/// A running listener. [`Listener::stop`] shuts it down gracefully; dropping it does too.
pub struct Listener {
    runtime: Option<tokio::runtime::Runtime>,
    server: Option<tokio::task::JoinHandle<()>>,
    shutdown: watch::Sender<bool>,
    url: String,
    db: Db,
    stop: Arc<AtomicBool>,
    wake: Arc<Wake>,
    threads: Vec<thread::JoinHandle<()>>,
    junk_writer: Option<thread::JoinHandle<()>>,
    /// Held until the runtime has stopped: its store connections are closed here, outside any
    /// async task (a PostgreSQL connection closes with a blocking call, which must not run on
    /// the runtime's threads).
    shared: Option<Arc<Shared>>,
}

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The address could not be bound.
    #[error("cannot listen: {0}")]
    Listen(String),
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Listener {
    /// Opens the store (checking that it can be written), binds the address, and starts
    /// receiving and processing.
    pub fn start(config: Config) -> Result<Listener, StartError> {
        // Every connection first: a store that cannot be opened (or a server without room for
        // them all) fails the start before any thread or task runs. The first checks and
        // migrates the store; the others only connect.
        let first = store::open(&config.db)?;
        let junk_store = store::connect(&config.db)?;
        let worker_stores = (0..config.workers.max(1))
            .map(|_| store::connect(&config.db))
            .collect::<Result<Vec<_>, _>>()?;
        let events_store = store::connect(&config.db)?;
        let socket = std::net::TcpListener::bind(&config.listen)
            .map_err(|e| StartError::Listen(e.to_string()))?;
        let addr = socket
            .local_addr()
            .map_err(|e| StartError::Listen(e.to_string()))?;
        socket
            .set_nonblocking(true)
            .map_err(|e| StartError::Listen(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .max_blocking_threads(config.threads.max(1))
            .thread_name("ipnkit-http")
            .enable_all()
            .build()
            .map_err(|e| StartError::Listen(e.to_string()))?;
        let socket = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(socket)
                .map_err(|e| StartError::Listen(e.to_string()))?
        };
        let wake = Arc::new(Wake::default());
        let metrics = Arc::new(Metrics::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (junk, junk_in) = mpsc::channel(1024);
        let shared = Arc::new(Shared {
            pool: Pool {
                db: config.db.clone(),
                idle: Mutex::new(vec![first]),
            },
            junk,
            wake: Arc::clone(&wake),
            metrics: Arc::clone(&metrics),
            limits: config.host.limits(),
            http: config.http,
        });
        let config = Arc::new(config);
        // Were a thread not to start, the ones started stop (the junk writer when `shared`, and
        // with it the channel's sender, is dropped).
        let failed = |e: std::io::Error| {
            stop.store(true, Ordering::SeqCst);
            wake.notify();
            StartError::Listen(e.to_string())
        };
        let junk_writer = thread::Builder::new()
            .name("ipnkit-junk".into())
            .spawn(move || write_junk(junk_store, junk_in))
            .map_err(failed)?;
        let mut threads = Vec::new();
        for (n, store) in worker_stores.into_iter().enumerate() {
            let (config, stop, wake, metrics) = (
                Arc::clone(&config),
                Arc::clone(&stop),
                Arc::clone(&wake),
                Arc::clone(&metrics),
            );
            threads.push(
                thread::Builder::new()
                    .name(format!("ipnkit-postback-{n}"))
                    .spawn(move || work(store, &config, &stop, &wake, &metrics))
                    .map_err(failed)?,
            );
        }
        let (flush_config, flush_stop, flush_wake) =
            (Arc::clone(&config), Arc::clone(&stop), Arc::clone(&wake));
        threads.push(
            thread::Builder::new()
                .name("ipnkit-events".into())
                .spawn(move || {
                    deliver_events(
                        events_store,
                        &flush_config,
                        &flush_stop,
                        &flush_wake,
                        &metrics,
                    )
                })
                .map_err(failed)?,
        );
        // Last, when nothing can fail any more: the server task holds a share of the store
        // connections, which must never be closed on the runtime's threads.
        let (shutdown, shutdown_seen) = watch::channel(false);
        let server = runtime.spawn(crate::http::serve(
            socket,
            Arc::clone(&shared),
            shutdown_seen,
        ));
        Ok(Listener {
            runtime: Some(runtime),
            server: Some(server),
            shutdown,
            url: format!("http://{addr}/ipn"),
            db: config.db.clone(),
            stop,
            wake,
            threads,
            junk_writer: Some(junk_writer),
            shared: Some(shared),
        })
    }

    /// The URL to deliver IPN messages to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Counts of stored messages by state.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        store::connect(&self.db)?.counts()
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully ([`stop`](Listener::stop)).
    pub fn run_until_signal(self) -> std::io::Result<()> {
        if let Some(runtime) = &self.runtime {
            runtime.block_on(async {
                use tokio::signal::unix::{SignalKind, signal};
                let mut term = signal(SignalKind::terminate())?;
                let mut int = signal(SignalKind::interrupt())?;
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
                    _ = int.recv() => tracing::info!("SIGINT: shutting down"),
                }
                Ok::<(), std::io::Error>(())
            })?;
        }
        self.stop();
        Ok(())
    }

    /// Stops accepting, lets requests in flight finish, lets each worker finish its message,
    /// hands what is in the outbox to the sink, and returns.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.runtime.is_none() {
            return; // stopped already (`stop`, then `drop`)
        }
        let _ = self.shutdown.send(true);
        if let (Some(runtime), Some(server)) = (&self.runtime, self.server.take()) {
            let _ = runtime.block_on(server);
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
        drop(self.shared.take());
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(junk) = self.junk_writer.take() {
            let _ = junk.join();
        }
        tracing::info!("stopped");
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Writes junk in batches until every sender is gone.
fn write_junk(mut store: Box<dyn Store>, mut incoming: mpsc::Receiver<(i64, &'static str, Bytes)>) {
    let mut batch = Vec::new();
    while incoming.blocking_recv_many(&mut batch, 256) > 0 {
        let rows: Vec<(i64, &str, &[u8])> = batch
            .iter()
            .map(|(at, reason, body)| (*at, *reason, &body[..]))
            .collect();
        if let Err(error) = store.insert_junk(&rows) {
            tracing::warn!(%error, n = rows.len(), "junk not kept");
            thread::sleep(Duration::from_millis(500));
        }
        batch.clear();
    }
}

/// Failures in a loop (the store's, the sink's): a pause that doubles from 100 ms up to 30 s
/// while they last.
struct Trouble {
    pause: Duration,
}

impl Trouble {
    fn new() -> Trouble {
        Trouble {
            pause: Duration::ZERO,
        }
    }

    /// The pause after one more failure in a row.
    fn next_pause(&mut self) -> Duration {
        self.pause = (self.pause * 2).clamp(Duration::from_millis(100), Duration::from_secs(30));
        self.pause
    }

    /// A store error: logged, and the pause before trying again.
    fn failed(&mut self, what: &str, error: &StoreError) -> Duration {
        let pause = self.next_pause();
        tracing::error!(%error, pause_ms = ms(pause), "{what}");
        pause
    }

    fn ok(&mut self) {
        self.pause = Duration::ZERO;
    }
}

fn work(
    mut store: Box<dyn Store>,
    config: &Config,
    stop: &AtomicBool,
    wake: &Wake,
    metrics: &Metrics,
) {
    // One client (and its connection pool) for postbacks and order lookups.
    let agent = client(config.postback_timeout);
    let work = Work {
        config,
        agent: &agent,
        metrics,
    };
    let mut orders_cache = orders::FileCache::default();
    // While a worker holds a message, it is not due for anyone else; were this process to die,
    // it is due again when the lease ends.
    let lease = config.postback_timeout * 3 + Duration::from_secs(5);
    let mut trouble = Trouble::new();
    while !stop.load(Ordering::SeqCst) {
        match store.claim(now_ms(), lease) {
            Ok(Some(pending)) => {
                trouble.ok();
                let id = pending.id;
                if let Err(error) = process(store.as_mut(), &work, &mut orders_cache, pending) {
                    // Left as it was: due again when its lease ends.
                    let pause = trouble.failed("cannot settle a message", &error);
                    tracing::warn!(message_id = id, "retried when its lease ends");
                    wake.wait(pause);
                }
            }
            Ok(None) => {
                let wait = match store.next_due_at() {
                    Ok(Some(at)) => Duration::from_millis(
                        u64::try_from((at - now_ms()).clamp(5, 1000)).unwrap_or(1000),
                    ),
                    _ => Duration::from_secs(1),
                };
                wake.wait(wait);
            }
            Err(error) => wake.wait(trouble.failed("cannot claim a message", &error)),
        }
    }
}

/// The listener's HTTP client, for postbacks, order lookups and the URL sink: one deadline for
/// the whole exchange, and a redirect is never followed. PayPal's answer is the response to the
/// postback itself (a 3xx is an unexpected answer, retried later, whoever it points to); the
/// shop's answers come from the URLs it configured.
pub(crate) fn client(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

/// PayPal's answer as it came: the status and the body (at most 64 KiB read), the status of a
/// body that could not be read whole, or no answer; and why, when something failed (the HTTP
/// client's error: a timeout, a refused or reset connection; for the log).
///
/// The client keeps connections alive between postbacks, and PayPal closes idle ones on its
/// side: a postback written on a connection closed under it (a reset, a broken pipe, the end of
/// the stream before any answer) had no answer at all, and is sent again at once on a new
/// connection, within what is left of `timeout` (the same deadline, all in). It is never taken
/// as PayPal's answer, nor left to wait for a retry. Posting back twice is harmless: PayPal
/// verifies the same bytes as often as it is asked.
fn post_back(work: &Work<'_>, request: &ipnkit::VerificationRequest) -> (Reply, Option<String>) {
    let sent = on_a_live_connection(
        work.config.postback_timeout,
        |connection| {
            let mut call = connection.apply(work.agent.post(&request.url));
            for (name, value) in &request.headers {
                call = call.header(*name, *value);
            }
            call.send(&request.body[..])
        },
        |error| {
            work.metrics.reconnected.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                failure = %error,
                "the postback met a closed connection: sent again on a new one"
            );
        },
    );
    match sent {
        Ok(mut response) => {
            let status = response.status().as_u16();
            match response
                .body_mut()
                .with_config()
                .limit(64 * 1024)
                .read_to_vec()
            {
                Ok(body) => (Reply::Http(status, body), None),
                Err(e) => (Reply::BodyUnread(status), Some(e.to_string())),
            }
        }
        // Timeouts, refused or dropped connections: no answer at all.
        Err(e) => (Reply::None, Some(e.to_string())),
    }
}

/// What came back from a postback, owned.
enum Reply {
    Http(u16, Vec<u8>),
    /// A body cut short or too long.
    BodyUnread(u16),
    None,
}

impl Reply {
    fn answer(&self) -> Answer<'_> {
        match self {
            Reply::Http(status, body) => Answer::Http {
                status: *status,
                body,
            },
            Reply::BodyUnread(status) => Answer::BodyUnread { status: *status },
            Reply::None => Answer::NoAnswer,
        }
    }
}

fn retry_at(config: &Config, attempts: i64) -> i64 {
    now_ms().saturating_add(ms(config.backoff.after(attempts)))
}

/// What a worker works with.
struct Work<'a> {
    config: &'a Config,
    /// For postbacks and order lookups.
    agent: &'a ureq::Agent,
    metrics: &'a Metrics,
}

fn process(
    store: &mut dyn Store,
    work: &Work<'_>,
    orders_cache: &mut orders::FileCache,
    pending: Pending,
) -> Result<(), StoreError> {
    let (config, metrics) = (work.config, work.metrics);
    let id = pending.id;
    let notification = match Notification::new(pending.body, config.host.limits()) {
        Ok(n) => n,
        Err(error) => {
            // Stored bodies passed these limits when received; a smaller limit since then.
            tracing::warn!(
                message_id = id,
                code = error.code(),
                "body refused by the limits"
            );
            return store.settle(id, "unreadable", error.code(), error.field());
        }
    };
    if !pending.verified {
        let request = notification.verification_request(&config.host);
        let (reply, failure) = post_back(work, &request);
        match reply.answer().verdict() {
            Verdict::Unexpected(why) => {
                metrics.unexpected.fetch_add(1, Ordering::Relaxed);
                tracing::info!(
                    message_id = id,
                    reason = why.code(),
                    failure = failure.as_deref(),
                    attempts = pending.attempts + 1,
                    "no usable answer: retried later"
                );
                return store.retry_later(id, retry_at(config, pending.attempts), why.code());
            }
            Verdict::Invalid => {
                metrics.invalid.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(message_id = id, "INVALID");
                return store.settle(id, "invalid", "invalid", None);
            }
            Verdict::Verified => {
                metrics.verified.fetch_add(1, Ordering::Relaxed);
                store.mark_verified(id)?;
            }
        }
    }
    let attempts = if pending.verified {
        pending.attempts
    } else {
        0
    };
    decide(store, work, orders_cache, id, attempts, &notification)
}

/// How a verified notification ends: the order, the core's decision, the event. `attempts`
/// counts the order lookups tried so far (their own backoff).
fn decide(
    store: &mut dyn Store,
    work: &Work<'_>,
    orders_cache: &mut orders::FileCache,
    id: i64,
    attempts: i64,
    notification: &Notification,
) -> Result<(), StoreError> {
    let (config, metrics) = (work.config, work.metrics);
    // The order, for a readable message whose event carries an amount; every other event
    // ignores what is expected.
    let (expected, order) = match notification.message() {
        Ok(message) if expects_amount(message.event()) => {
            match config
                .orders
                .lookup(message, work.agent, config.postback_timeout, orders_cache)
            {
                Ok(Found::Order(expected)) => (expected, "found"),
                Ok(Found::NotFound) => (Expected::NoOrder, "not_found"),
                Err(why) => {
                    metrics.lookups_failed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        message_id = id,
                        reason = why.code(),
                        "order lookup failed: retried later"
                    );
                    return store.retry_later(id, retry_at(config, attempts), why.code());
                }
            }
        }
        Ok(_) | Err(_) => (Expected::any_amount(), "not_needed"),
    };
    let stored = match notification.delivery_key() {
        Ok(key) => store.keys(key.lookup_id())?,
        Err(_) => Vec::new(),
    };
    // PayPal's VERIFIED, as this listener received it (now, or before a restart: the store
    // records it, and a verified message is never posted back again).
    let decision =
        match notification.decide(Answer::VerifiedEarlier, &config.host, &expected, &stored) {
            Ok(decision) => decision,
            Err(error) => {
                // A stored key this version cannot read: never guess what was acted on. The message
                // waits (and the reason is on its row) until an operator looks.
                tracing::error!(
                    message_id = id,
                    code = error.code(),
                    "a stored delivery key cannot be read: message held"
                );
                return store.retry_later(id, now_ms() + HELD_MS, error.code());
            }
        };
    let line = |outcome: &'static str, ship: bool| {
        let decision = &decision;
        move |event_id: i64| event_line(event_id, id, outcome, ship, order, decision, notification)
    };
    match &decision {
        Decision::Act(act) => {
            let about = &act.about;
            let ship = act.amount == AmountCheck::Matched;
            let accepted = store.accept(
                id,
                &about.delivery_key,
                &about.lookup_id,
                act.delivery.code(),
                &line("accepted", ship),
            )?;
            tracing::info!(
                message_id = id,
                event = about.event,
                outcome = if accepted { "accepted" } else { "duplicate" },
                "settled"
            );
            Ok(())
        }
        Decision::Skip(skip) => {
            // `duplicate`, or `stale` (a later state was acted on already).
            let state = skip.delivery.code();
            tracing::info!(message_id = id, outcome = state, "settled");
            store.settle(id, state, state, None)
        }
        Decision::Refuse(Refusal::Rules {
            about,
            violations,
            ours,
        }) => {
            let detail = codes(violations);
            if !ours {
                tracing::info!(message_id = id, codes = %detail, outcome = "refused", "not this merchant's: no event");
                return store.settle(id, "refused", &detail, None);
            }
            let reported =
                store.refuse(id, &about.delivery_key, &detail, &line("refused", false))?;
            tracing::info!(message_id = id, event = about.event, codes = %detail, outcome = if reported { "refused" } else { "duplicate" }, "settled");
            Ok(())
        }
        Decision::Refuse(Refusal::Unreadable { error }) => {
            tracing::warn!(
                message_id = id,
                code = error.code(),
                field = error.field(),
                "verified, but a value cannot be read: kept for --reprocess"
            );
            store.settle_with_event(
                id,
                "unreadable",
                error.code(),
                error.field(),
                &line("unreadable", false),
            )
        }
        Decision::Retry(_) | Decision::Refuse(Refusal::NotVerified) => {
            // The answer given is ipnkit's own earlier VERIFIED: the core cannot answer these.
            tracing::error!(
                message_id = id,
                action = decision.action().code(),
                "a verified message was decided otherwise: held"
            );
            store.retry_later(id, now_ms() + HELD_MS, "verified_decided_otherwise")
        }
    }
}

/// The violations' codes, comma-separated: what the store and the log keep.
fn codes(violations: &[ipnkit::Violation]) -> String {
    let codes: Vec<&str> = violations.iter().map(|v| v.code.code()).collect();
    codes.join(",")
}

/// An event line: what the application reads. `id` is the event's stable id (a sink may see
/// it more than once, always with this id).
fn event_line(
    id: i64,
    message_id: i64,
    outcome: &str,
    ship: bool,
    order: &str,
    decision: &Decision,
    notification: &Notification,
) -> String {
    let message = match notification.message() {
        Ok(message) => message,
        Err(error) => {
            return json!({
                "id": id,
                "message_id": message_id,
                "outcome": outcome,
                "ship": false,
                "error": error,
            })
            .to_string();
        }
    };
    let about = decision.about();
    let (delivery, violations) = match decision {
        Decision::Act(act) => (Some(&act.delivery), Vec::new()),
        Decision::Skip(skip) => (Some(&skip.delivery), Vec::new()),
        Decision::Refuse(Refusal::Rules { violations, .. }) => {
            (None, violations.iter().map(|v| v.code.code()).collect())
        }
        Decision::Retry(_)
        | Decision::Refuse(Refusal::NotVerified | Refusal::Unreadable { .. }) => (None, Vec::new()),
    };
    json!({
        "id": id,
        "message_id": message_id,
        "outcome": outcome,
        "event": about.map(|a| a.event),
        "family": about.map(|a| a.family),
        "ship": ship,
        "order": order,
        "violations": violations,
        "delivery": delivery,
        "key": about.map(|a| &a.delivery_key),
        "decision": decision,
        "message": message,
    })
    .to_string()
}

/// Hands the outbox to the sink, in order, marking each event sent once the sink has it; prunes
/// old bodies once an hour.
fn deliver_events(
    mut store: Box<dyn Store>,
    config: &Config,
    stop: &AtomicBool,
    wake: &Wake,
    metrics: &Metrics,
) {
    let mut sink = SinkWriter::new(&config.sink);
    let mut trouble = Trouble::new();
    let mut sink_trouble = Trouble::new();
    let mut next_prune = 0;
    let mut leading = false;
    loop {
        let stopping = stop.load(Ordering::SeqCst);
        if now_ms() >= next_prune {
            let now = now_ms();
            match store.prune(
                now - ms(config.retention.bodies),
                now - ms(config.retention.junk),
            ) {
                Ok((0, 0)) => {}
                Ok((bodies, junk)) => tracing::info!(bodies, junk, "pruned"),
                Err(error) => tracing::warn!(%error, "cannot prune"),
            }
            next_prune = now + 3_600_000;
        }
        let mut pause = Duration::from_millis(200);
        // With several processes on one store, one at a time hands the outbox over.
        let leads = match store.lead_events() {
            Ok(leads) => leads,
            Err(error) => {
                pause = trouble.failed("cannot ask for the outbox", &error);
                false
            }
        };
        if leads != leading {
            leading = leads;
            if leading {
                tracing::info!("this process hands the outbox to the sink");
            } else {
                tracing::info!("another process hands the outbox to the sink");
            }
        }
        if !leads {
            if stopping {
                return;
            }
            wake.wait(pause.max(Duration::from_secs(1)));
            continue;
        }
        match store.unsent_events(100) {
            Ok(events) => {
                trouble.ok();
                for (id, line) in events {
                    if let Err(error) = sink.write(id, &line) {
                        metrics.sink_failures.fetch_add(1, Ordering::Relaxed);
                        pause = sink_trouble.next_pause();
                        tracing::warn!(event = id, %error, pause_ms = ms(pause), "sink failed: retried");
                        break;
                    }
                    sink_trouble.ok();
                    metrics.events_sent.fetch_add(1, Ordering::Relaxed);
                    if let Err(error) = store.mark_sent(id) {
                        pause = trouble.failed("cannot mark an event sent", &error);
                        break;
                    }
                }
            }
            Err(error) => pause = trouble.failed("cannot read the outbox", &error),
        }
        if stopping {
            // One last pass after the workers stopped: what they settled is handed over.
            match store.unsent_count() {
                Ok(0) | Err(_) => return,
                Ok(_) if pause > Duration::from_millis(200) => return,
                Ok(_) => continue,
            }
        }
        wake.wait(pause);
    }
}

struct SinkWriter {
    sink: Sink,
    child: Option<(Child, ChildStdin)>,
    agent: ureq::Agent,
    /// The last event this process handed to the sink: if marking it sent failed, it is not
    /// handed over again when the outbox offers it once more.
    written: Option<i64>,
    /// Whether the events file's end must be read before the next line: at the start (a stopped
    /// process may have written the line it could not mark sent) and after a failed write (which
    /// may have written all of the line, or part of it).
    check_tail: bool,
}

impl SinkWriter {
    fn new(sink: &Sink) -> SinkWriter {
        SinkWriter {
            sink: sink.clone(),
            child: None,
            agent: client(SINK_TIMEOUT),
            written: None,
            check_tail: true,
        }
    }

    /// Hands event `id` (its `line`) to the sink, unless this process already did.
    fn write(&mut self, id: i64, line: &str) -> std::io::Result<()> {
        if self.written == Some(id) {
            return Ok(());
        }
        let handed = self.hand_over(line, self.check_tail);
        self.check_tail = handed.is_err();
        handed?;
        self.written = Some(id);
        Ok(())
    }

    /// `check_tail`: see [`SinkWriter::check_tail`].
    fn hand_over(&mut self, line: &str, check_tail: bool) -> std::io::Result<()> {
        match &self.sink {
            Sink::None => Ok(()),
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")?;
                out.flush()
            }
            Sink::File(path) => append_line(path, line, check_tail),
            Sink::Command(command) => {
                if self.child.is_none() {
                    let mut child = Command::new("sh")
                        .arg("-c")
                        .arg(command)
                        .stdin(Stdio::piped())
                        .spawn()?;
                    let stdin = child
                        .stdin
                        .take()
                        .ok_or_else(|| std::io::Error::other("no stdin"))?;
                    self.child = Some((child, stdin));
                }
                let result = match &mut self.child {
                    Some((_, stdin)) => writeln!(stdin, "{line}").and_then(|()| stdin.flush()),
                    None => Ok(()),
                };
                if result.is_err() {
                    self.child = None; // restarted on the next event
                }
                result
            }
            Sink::Url(url, secret) => {
                let signature = secret
                    .as_ref()
                    .map(|secret| sign(secret, now_ms() / 1000, line.as_bytes()));
                let sent = on_a_live_connection(
                    SINK_TIMEOUT,
                    |connection| {
                        let mut call = connection
                            .apply(self.agent.post(url))
                            .header("Content-Type", "application/json");
                        if let Some(signature) = &signature {
                            call = call.header(HEADER, signature);
                        }
                        call.send(line)
                    },
                    |error| {
                        tracing::info!(
                            failure = %error,
                            "an event met a closed connection: sent again on a new one"
                        );
                    },
                );
                match sent {
                    Ok(r) if r.status().is_success() => Ok(()),
                    Ok(r) => Err(std::io::Error::other(format!(
                        "sink answered {}",
                        r.status()
                    ))),
                    Err(e) => Err(std::io::Error::other(e.to_string())),
                }
            }
        }
    }
}

/// Appends `line` to the events file and syncs it. With `check_tail` (the first line since the
/// process started, or after a failed write), the file's end is read first: a line written (by a
/// stopped process, or by a write whose sync failed) but not marked sent is already there,
/// whole, and is not written twice (a line holds its event's unique `id`, so the same line means
/// the same event); a last line cut short (a power loss, a full disk) is ended, so that the next
/// line starts on its own.
fn append_line(path: &Path, line: &str, check_tail: bool) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(path)?;
    let mut start = "";
    if check_tail {
        // The line, its newline, and the byte before it (the previous line's newline).
        let len = file.metadata()?.len();
        let want = (line.len() as u64 + 2).min(len);
        let mut tail = Vec::new();
        file.seek(SeekFrom::Start(len - want))?;
        Read::take(&mut file, want).read_to_end(&mut tail)?;
        let whole = match tail
            .strip_suffix(b"\n")
            .and_then(|t| t.strip_suffix(line.as_bytes()))
        {
            Some([]) => want == len, // the file's only line
            Some(before) => before.ends_with(b"\n"),
            None => false,
        };
        if whole {
            tracing::info!(
                "the first event to send is already the events file's last line: not written again"
            );
            return Ok(());
        }
        if tail.last().is_some_and(|&b| b != b'\n') {
            tracing::warn!("the events file's last line was cut short: ended before the next line");
            start = "\n";
        }
    }
    // One write of the whole line: appends from one process never interleave.
    file.write_all(format!("{start}{line}\n").as_bytes())?;
    file.sync_data()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn file(name: &str, content: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!("ipnkit-sink-{}-{name}", std::process::id()));
        std::fs::write(&path, content).unwrap();
        path
    }

    fn written(path: &Path) -> String {
        let text = std::fs::read_to_string(path).unwrap();
        std::fs::remove_file(path).unwrap();
        text
    }

    /// The file holding `content` after `append_line(line, check_tail)`.
    fn after(name: &str, content: &str, line: &str, check_tail: bool) -> String {
        let path = file(name, content);
        append_line(&path, line, check_tail).unwrap();
        written(&path)
    }

    #[test]
    fn a_restart_does_not_write_again_the_line_already_last_in_the_file() {
        let a = r#"{"id":1}"#;
        let b = r#"{"id":2}"#;
        for (name, content, check_tail, expected) in [
            // Written by the stopped process, not marked sent: offered first again.
            ("resume", format!("{a}\n{b}\n"), true, format!("{a}\n{b}\n")),
            ("only", format!("{b}\n"), true, format!("{b}\n")),
            // Not the last line, or only the end of a longer one: written.
            (
                "other",
                format!("{b}\n{a}\n"),
                true,
                format!("{b}\n{a}\n{b}\n"),
            ),
            ("suffix", format!("x{b}\n"), true, format!("x{b}\n{b}\n")),
            // Only the first line since the start (or a failed write) is checked.
            ("later", format!("{b}\n"), false, format!("{b}\n{b}\n")),
            ("empty", String::new(), true, format!("{b}\n")),
        ] {
            assert_eq!(after(name, &content, b, check_tail), expected, "{name}");
        }
        // A missing file.
        let path = std::env::temp_dir().join(format!("ipnkit-sink-{}-new", std::process::id()));
        let _ = std::fs::remove_file(&path);
        append_line(&path, a, true).unwrap();
        assert_eq!(written(&path), format!("{a}\n"));
    }

    #[test]
    fn a_line_cut_short_is_ended_before_the_next() {
        assert_eq!(
            after("torn", "{\"id\":1}\n{\"id\"", r#"{"id":2}"#, true),
            "{\"id\":1}\n{\"id\"\n{\"id\":2}\n"
        );
    }

    #[test]
    fn after_a_failed_write_the_files_end_is_read_again() {
        let dir = std::env::temp_dir().join(format!("ipnkit-sink-{}-dir", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("events.jsonl");
        let mut sink = SinkWriter::new(&Sink::File(path.clone()));
        sink.write(1, "one").unwrap_err(); // no directory yet
        std::fs::create_dir_all(&dir).unwrap();
        // The directory back, with the start of a line a failed write left.
        std::fs::write(&path, "on").unwrap();
        sink.write(1, "one").unwrap();
        sink.write(2, "two").unwrap();
        assert_eq!(written(&path), "on\none\ntwo\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_event_whose_marking_failed_is_not_handed_over_again() {
        let path = file("marking", "");
        let mut sink = SinkWriter::new(&Sink::File(path.clone()));
        for (id, line) in [(1, "one"), (1, "one"), (2, "two"), (2, "two"), (3, "three")] {
            sink.write(id, line).unwrap();
        }
        assert_eq!(written(&path), "one\ntwo\nthree\n");
    }
}
