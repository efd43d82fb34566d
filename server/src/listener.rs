//! A reference IPN listener: the flow of `ipnkit::listener`, run as a service.
//!
//! - Receiving threads store each raw body durably in SQLite and only then answer `200`.
//! - One worker posts each stored message back (to PayPal, or to a stand-in when the host asked
//!   for one), reads the verdict, applies the policy and the duplicate rules, and writes the
//!   accepted event to an outbox in the same transaction; then hands the outbox to the sink.
//! - An `Unexpected` verdict (5xx, timeout, an HTML page, a dropped connection) is retried later
//!   with backoff, forever: a message is never dropped. Restarting loses nothing: stored
//!   messages not yet settled, and events not yet sent, are picked up again.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use ipnkit::{
    Body, Delivery, DeliveryKey, Expected, Limits, Message, Policy, Unexpected, Verdict, Verified,
    Verifier, classify,
};
use serde_json::json;

use crate::sandbox::client;
use crate::store::{Counts, Store, StoreError, now_ms};

/// Where accepted events go, one JSON line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sink {
    /// Standard output.
    Stdout,
    /// Appended to a file, synced.
    File(PathBuf),
    /// Written to the standard input of a command (`sh -c`), started once.
    Command(String),
    /// POSTed to a URL, one request per event (any 2xx is success).
    Url(String),
    /// Kept in the store only.
    None,
}

/// How long to wait before the n-th retry of an unanswered postback.
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

    fn after(self, attempts: i64) -> Duration {
        let doublings = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
        self.first.saturating_mul(1 << doublings).min(self.max)
    }
}

/// What the listener needs to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on (`127.0.0.1:0` picks a free port).
    pub listen: String,
    /// The SQLite file.
    pub db: PathBuf,
    /// Where postbacks go.
    pub verifier: Verifier,
    /// The business rules.
    pub policy: Policy,
    /// Where accepted events go.
    pub sink: Sink,
    /// How long a postback may take.
    pub postback_timeout: Duration,
    /// When to retry an unanswered postback.
    pub backoff: Backoff,
    /// Receiving threads.
    pub threads: usize,
}

/// A running listener. [`Listener::stop`] shuts it down; dropping it does too.
pub struct Listener {
    server: Arc<tiny_http::Server>,
    url: String,
    db: PathBuf,
    stop: Arc<AtomicBool>,
    wake: mpsc::Sender<()>,
    receivers: Vec<thread::JoinHandle<()>>,
    worker: Option<thread::JoinHandle<()>>,
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
    /// Opens the store, binds the address, and starts receiving and processing.
    pub fn start(config: Config) -> Result<Listener, StartError> {
        let store = Store::open(&config.db)?;
        drop(store);
        let server = tiny_http::Server::http(&config.listen)
            .map_err(|e| StartError::Listen(e.to_string()))?;
        let url = match server.server_addr().to_ip() {
            Some(addr) => format!("http://{addr}/ipn"),
            None => return Err(StartError::Listen("not an IP address".into())),
        };
        let server = Arc::new(server);
        let stop = Arc::new(AtomicBool::new(false));
        let (wake, woken) = mpsc::channel();
        let mut receivers = Vec::new();
        for _ in 0..config.threads.max(1) {
            let server = Arc::clone(&server);
            let store = Store::open(&config.db)?;
            let wake = wake.clone();
            receivers.push(thread::spawn(move || {
                for request in server.incoming_requests() {
                    receive(&store, request, &wake);
                }
            }));
        }
        let worker_stores = (0..WORKERS)
            .map(|_| Store::open(&config.db))
            .collect::<Result<Vec<_>, _>>()?;
        let worker_stop = Arc::clone(&stop);
        let db = config.db.clone();
        let worker = thread::spawn(move || work(worker_stores, &config, &worker_stop, &woken));
        Ok(Listener {
            server,
            url,
            db,
            stop,
            wake,
            receivers,
            worker: Some(worker),
        })
    }

    /// The URL to deliver IPN messages to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Counts of stored messages by state.
    pub fn counts(&self) -> Result<Counts, StoreError> {
        Store::open(&self.db)?.counts()
    }

    /// Stops receiving and processing, and waits for the threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.send(());
        for _ in 0..self.receivers.len() {
            self.server.unblock();
        }
        for t in self.receivers.drain(..) {
            let _ = t.join();
        }
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Stores the body, then answers: 200 once it is durable, 500 if it could not be stored (PayPal
/// will deliver it again), 413 past the size limit.
fn receive(store: &Store, mut request: tiny_http::Request, wake: &mpsc::Sender<()>) {
    if *request.method() != tiny_http::Method::Post {
        let _ = request.respond(tiny_http::Response::empty(405));
        return;
    }
    let limit = Limits::DEFAULT.max_body_bytes;
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(u64::try_from(limit).unwrap_or(u64::MAX) + 1)
        .read_to_end(&mut body);
    let status = match read {
        Err(_) => 400,
        Ok(_) if body.len() > limit => 413,
        Ok(_) => match store.insert(&body) {
            Ok(_) => {
                let _ = wake.send(());
                200
            }
            Err(_) => 500,
        },
    };
    let _ = request.respond(tiny_http::Response::empty(status));
}

/// Postbacks run on this many threads. Deduplication stays exact: two copies of a message that
/// race are told apart by the store's unique delivery key, the loser becoming a duplicate.
const WORKERS: usize = 4;

/// The postback client: PayPal's answer is the response to the postback itself, so a redirect
/// is never followed (it comes back as a 3xx: an unexpected answer, retried later), whoever it
/// points to.
fn postback_client(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into()
}

fn work(mut stores: Vec<Store>, config: &Config, stop: &AtomicBool, woken: &mpsc::Receiver<()>) {
    let agent = postback_client(config.postback_timeout);
    let mut sink = SinkWriter::new(&config.sink);
    while !stop.load(Ordering::SeqCst) {
        let Some(first) = stores.first() else { return };
        flush_events(first, &mut sink);
        let due = first.due(now_ms(), 256).unwrap_or_default();
        if due.is_empty() {
            let wait = match first.next_due_at() {
                Ok(Some(at)) => Duration::from_millis(
                    u64::try_from((at - now_ms()).clamp(1, 200)).unwrap_or(200),
                ),
                _ => Duration::from_millis(200),
            };
            let _ = woken.recv_timeout(wait);
            continue;
        }
        let per_worker = due.len().div_ceil(stores.len());
        thread::scope(|scope| {
            for (store, batch) in stores.iter_mut().zip(due.chunks(per_worker)) {
                let agent = &agent;
                scope.spawn(move || {
                    for pending in batch {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        // A store error leaves the message as it was: tried again next pass.
                        let _ = process(store, config, agent, pending);
                    }
                });
            }
        });
    }
    if let Some(first) = stores.first() {
        flush_events(first, &mut sink);
    }
}

/// PayPal's answer as it came (status, body), or why there is none to read.
fn post_back(
    agent: &ureq::Agent,
    config: &Config,
    body: &Body<'_>,
) -> Result<(u16, Vec<u8>), Unexpected> {
    let request = config.verifier.request(body);
    let mut call = agent.post(&request.url);
    for (name, value) in &request.headers {
        call = call.header(*name, *value);
    }
    match call.send(&request.body[..]) {
        Ok(mut response) => {
            let status = response.status().as_u16();
            response
                .body_mut()
                .with_config()
                .limit(64 * 1024)
                .read_to_vec()
                .map(|answer| (status, answer))
                .map_err(|_| Unexpected::UnrecognizedBody)
        }
        // Timeouts, refused or dropped connections: no answer at all.
        Err(_) => Err(Unexpected::NoAnswer),
    }
}

fn process(
    store: &mut Store,
    config: &Config,
    agent: &ureq::Agent,
    pending: &crate::store::Pending,
) -> Result<(), StoreError> {
    let body = match Body::parse(&pending.body) {
        Ok(body) => body,
        Err(e) => return store.settle(pending.id, "unreadable", e.code()),
    };
    // Not an answer (none at all, or not readable): keep the body, post back again later.
    let retry_later = |store: &mut Store, why: Unexpected| {
        let at = now_ms()
            + i64::try_from(config.backoff.after(pending.attempts).as_millis())
                .unwrap_or(i64::MAX / 2);
        store.retry_later(pending.id, at, why.code())
    };
    let (status, response) = match post_back(agent, config, &body) {
        Ok(answer) => answer,
        Err(why) => return retry_later(store, why),
    };
    match Verdict::from_response(status, &response) {
        Verdict::Unexpected(why) => return retry_later(store, why),
        Verdict::Invalid => return store.settle(pending.id, "invalid", "invalid"),
        Verdict::Verified => {}
    }
    let message = match body.decode().and_then(Message::from_fields) {
        Ok(m) => m,
        Err(e) => return store.settle(pending.id, "unreadable", e.code()),
    };
    let Ok(verified) = Verified::from_response(message, status, &response) else {
        return store.settle(pending.id, "invalid", "not_verified");
    };
    let report = config.policy.check(&verified, &Expected::none());
    if !report.is_accept() {
        let codes: Vec<&str> = report.violations.iter().map(|v| v.code.as_str()).collect();
        return store.settle(pending.id, "refused", &codes.join(","));
    }
    let message = verified.message();
    let key = DeliveryKey::of(message);
    let stored: Result<Vec<DeliveryKey>, _> = store
        .keys(key.lookup_id())?
        .iter()
        .map(|k| DeliveryKey::from_stored(k))
        .collect();
    let Ok(stored) = stored else {
        // A stored key this version cannot read: never guess what was acted on. The message
        // waits (and the reason is on its row) until an operator looks.
        let at = now_ms() + 3_600_000;
        return store.retry_later(pending.id, at, "invalid_delivery_key");
    };
    let delivery = classify(message, &stored);
    match delivery {
        Delivery::Duplicate => return store.settle(pending.id, "duplicate", "duplicate"),
        Delivery::Stale { .. } => return store.settle(pending.id, "stale", "stale"),
        _ => {}
    }
    let Ok(canonical) = serde_json::to_value(message) else {
        // A message always serializes (strings, numbers, lists, string-keyed maps); were it
        // ever refused, the row says so rather than emitting an empty event.
        return store.settle(pending.id, "unreadable", "canonical_json");
    };
    let line = json!({
        "id": pending.id,
        "event": message.event().code(),
        "family": message.family().code(),
        "delivery": delivery,
        "key": key.as_str(),
        "message": canonical,
    })
    .to_string();
    store.accept(
        pending.id,
        key.as_str(),
        key.lookup_id(),
        &line,
        delivery.code(),
    )?;
    Ok(())
}

fn flush_events(store: &Store, sink: &mut SinkWriter) {
    let Ok(events) = store.unsent_events() else {
        return;
    };
    for (id, line) in events {
        if sink.write(&line).is_err() || store.mark_sent(id).is_err() {
            return; // tried again on the next pass
        }
    }
}

struct SinkWriter {
    sink: Sink,
    child: Option<(Child, ChildStdin)>,
    agent: ureq::Agent,
}

impl SinkWriter {
    fn new(sink: &Sink) -> SinkWriter {
        SinkWriter {
            sink: sink.clone(),
            child: None,
            agent: client(Duration::from_secs(10)),
        }
    }

    fn write(&mut self, line: &str) -> std::io::Result<()> {
        match &self.sink {
            Sink::None => Ok(()),
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{line}")?;
                out.flush()
            }
            Sink::File(path) => append_line(path, line),
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
            Sink::Url(url) => match self
                .agent
                .post(url)
                .header("Content-Type", "application/json")
                .send(line)
            {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(std::io::Error::other(format!(
                    "sink answered {}",
                    r.status()
                ))),
                Err(e) => Err(std::io::Error::other(e.to_string())),
            },
        }
    }
}

fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{line}")?;
    file.sync_data()
}
