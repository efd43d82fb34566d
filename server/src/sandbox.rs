//! A local stand-in for PayPal's side of IPN: it delivers messages to a listener as PayPal does,
//! answers their verification postbacks, and injects the faults a listener must survive.
//!
//! - Delivery: `POST` with `Content-Type: application/x-www-form-urlencoded` and a PayPal-like
//!   `User-Agent`, to the listener's URL. A delivery not answered with a 2xx in time is retried
//!   with backoff: a compressed schedule by default (0.2 s doubling, 8 tries), PayPal's when
//!   asked (1 minute doubling to a day, 15 tries over about four days). Each message is sent with
//!   `test_ipn=1` (appended when absent): the sandbox plays PayPal's sandbox.
//! - Verification: `POST /cgi-bin/webscr` answers `VERIFIED` only when the body is
//!   `cmd=_notify-validate&` followed by the exact bytes of a message it delivered, else
//!   `INVALID`.
//! - Faults, chosen per run, each on every `every`-th occasion: slow postback answers, 503
//!   answers, an HTML page with `VERIFIED` in it, no answer at all (the connection stays open and
//!   silent until the client gives up, as a hung endpoint does); duplicate deliveries and
//!   out-of-order deliveries.
//! - `resend`: delivers a message again with `resend=true`, as PayPal's IPN history does.
//! - Express Checkout, authorize and capture: `POST /nvp` answers `SetExpressCheckout`,
//!   `DoExpressCheckoutPayment` and `DoCapture`, `GET /cgi-bin/webscr?cmd=_express-checkout`
//!   approves a checkout, and each payment, authorization and capture is notified to the shop's
//!   `NOTIFYURL` (see the `express` module's table). Fault `lost`: a capture's answer is lost.

use std::collections::HashSet;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use serde::Serialize;

use hyper::Method;

use crate::express::{Express, Notification};
use crate::local::{Answer, Reply, Request, Server, Withheld};

/// The `User-Agent` of deliveries: PayPal's, as listeners see it.
pub const PAYPAL_USER_AGENT: &str = "PayPal IPN ( https://www.paypal.com/ipn )";

/// Which faults to inject, each on every `every`-th occasion (postbacks for the first four,
/// deliveries for the next two, `DoCapture` calls for the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Faults {
    /// Answer a postback only after [`Faults::SLOW`].
    pub slow: bool,
    /// Answer a postback `503 Service Unavailable`.
    pub server_error: bool,
    /// Answer a postback 200 with an HTML page that contains `VERIFIED`.
    pub html: bool,
    /// Never answer a postback: its connection stays open and silent until the client gives up
    /// (a hung endpoint; the client's own timeout decides how long that is).
    pub drop: bool,
    /// Deliver a message twice.
    pub duplicate: bool,
    /// Deliver messages out of order.
    pub reorder: bool,
    /// Capture (`DoCapture`) and notify, but never answer: the connection stays silent until the
    /// shop's request gives up, and the shop never reads the capture's id.
    pub lost: bool,
    /// How often a fault strikes (every n-th occasion); 0 means 4.
    pub every: u32,
}

impl Faults {
    /// How long a slow answer waits.
    pub const SLOW: Duration = Duration::from_millis(300);

    /// Every fault on.
    pub fn all() -> Faults {
        Faults {
            slow: true,
            server_error: true,
            html: true,
            drop: true,
            duplicate: true,
            reorder: true,
            lost: true,
            every: 4,
        }
    }

    /// Parses a comma-separated list: `slow,5xx,html,drop,duplicate,reorder,lost`, or `all`,
    /// `none`.
    pub fn parse(list: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match item {
                "all" => f = Faults::all(),
                "none" => f = Faults::default(),
                "slow" => f.slow = true,
                "5xx" => f.server_error = true,
                "html" => f.html = true,
                "drop" => f.drop = true,
                "duplicate" => f.duplicate = true,
                "reorder" => f.reorder = true,
                "lost" => f.lost = true,
                other => return Err(format!("unknown fault {other:?}")),
            }
        }
        Ok(f)
    }

    pub(crate) fn every(self) -> u64 {
        if self.every == 0 {
            4
        } else {
            u64::from(self.every)
        }
    }
}

/// The retry schedule of deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// 0.2 s, doubling, 8 tries: for tests and demos.
    Compressed,
    /// 1 minute, doubling up to a day, 15 tries: about four days, as PayPal does.
    PayPal,
}

impl Schedule {
    fn delays(self) -> Vec<Duration> {
        let (first, cap, tries) = match self {
            Schedule::Compressed => (Duration::from_millis(200), Duration::from_secs(10), 8),
            Schedule::PayPal => (Duration::from_secs(60), Duration::from_secs(86_400), 15),
        };
        let mut d = first;
        (0..tries)
            .map(|_| {
                let now = d;
                d = (d * 2).min(cap);
                now
            })
            .collect()
    }
}

/// What the sandbox did, for the report at the end of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Report {
    /// Delivery attempts made (first tries, retries and duplicates).
    pub delivered: u64,
    /// Deliveries answered with a 2xx.
    pub acknowledged: u64,
    /// Retries after a delivery was not acknowledged.
    pub retried: u64,
    /// Messages given up on after the last retry.
    pub abandoned: u64,
    /// Postbacks answered `VERIFIED`.
    pub verified: u64,
    /// Postbacks answered `INVALID`.
    pub invalid: u64,
    /// Postbacks answered with an injected fault instead.
    pub faulted: u64,
    /// Deliveries under way (not yet acknowledged or abandoned), notifications of Express
    /// Checkout calls included.
    pub in_flight: u64,
    /// Copies the listener acknowledged beyond the postbacks answered VERIFIED for their body:
    /// messages a listener holds but has not verified (yet).
    pub unverified: u64,
    /// Deliveries whose answer never came after the request went out (the stand-in's own
    /// timeout, or the connection closed before an answer): the listener may hold these copies
    /// too, as PayPal cannot tell either; each was retried.
    pub unanswered: u64,
    /// Of those, copies beyond the acknowledged ones that no postback has verified (yet): a
    /// listener that stored them has still to post them back.
    pub unconfirmed: u64,
}

#[derive(Default)]
struct Counters {
    delivered: AtomicU64,
    acknowledged: AtomicU64,
    retried: AtomicU64,
    abandoned: AtomicU64,
    verified: AtomicU64,
    invalid: AtomicU64,
    faulted: AtomicU64,
    postbacks: AtomicU64,
    in_flight: AtomicU64,
}

/// What became of one body's copies.
#[derive(Debug, Clone, Copy, Default)]
struct Copies {
    /// Deliveries the listener answered with a 2xx: copies it holds and will post back.
    acknowledged: u64,
    /// Deliveries sent whose answer never came: copies it may hold.
    unanswered: u64,
    /// Postbacks of this body answered VERIFIED (counted once the answer is written).
    verified: u64,
}

impl Copies {
    /// Acknowledged copies no postback has verified.
    fn unverified(self) -> u64 {
        self.acknowledged.saturating_sub(self.verified)
    }

    /// Copies the listener may hold beyond those: unanswered deliveries not verified.
    fn unconfirmed(self) -> u64 {
        (self.acknowledged + self.unanswered)
            .saturating_sub(self.verified)
            .saturating_sub(self.unverified())
    }
}

/// The stand-in's postback side, for deciding when a run is over: postbacks being answered,
/// and when the last one came or went.
#[derive(Default)]
struct Activity {
    /// Postbacks read or being answered, not yet written back.
    answering: u64,
    /// When the last postback arrived or was answered (ms since the epoch); 0 before any.
    last_ms: u64,
}

struct Shared {
    faults: Faults,
    last_run: Mutex<Option<LastRun>>,
    /// Round trips of acknowledged deliveries, in microseconds.
    latencies: Mutex<Vec<u64>>,
    delivered_bodies: Mutex<HashSet<Vec<u8>>>,
    /// For each delivered body, what became of its copies (a listener stores each copy it
    /// acknowledges and posts each back).
    copies: Mutex<std::collections::HashMap<Vec<u8>, Copies>>,
    counters: Counters,
    /// Postbacks under way, and a signal on each change (see [`Sandbox::wait_quiet`]).
    activity: Mutex<Activity>,
    changed: Condvar,
    /// How long a delivery waits for the listener's answer (milliseconds).
    delivery_timeout_ms: AtomicU64,
    express: Express,
}

impl Shared {
    fn deliver_one(&self, agent: &ureq::Agent, url: &str, body: &[u8], schedule: Schedule) {
        let c = &self.counters;
        c.in_flight.fetch_add(1, Ordering::SeqCst);
        self.try_delivering(agent, url, body, schedule);
        c.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    fn try_delivering(&self, agent: &ureq::Agent, url: &str, body: &[u8], schedule: Schedule) {
        let c = &self.counters;
        for (attempt, delay) in std::iter::once(Duration::ZERO)
            .chain(schedule.delays())
            .enumerate()
        {
            if attempt > 0 {
                c.retried.fetch_add(1, Ordering::SeqCst);
                thread::sleep(delay);
            }
            c.delivered.fetch_add(1, Ordering::SeqCst);
            let started = std::time::Instant::now();
            let sent = agent
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("User-Agent", PAYPAL_USER_AGENT)
                .send(body);
            match sent {
                Ok(mut response) => {
                    let _ = response.body_mut().read_to_vec();
                    if response.status().is_success() {
                        let micros =
                            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                        lock(&self.latencies).push(micros);
                        c.acknowledged.fetch_add(1, Ordering::SeqCst);
                        self.count(body, |copies| copies.acknowledged += 1);
                        return;
                    }
                    // A listener that answers anything but a 2xx has not taken the message.
                }
                Err(error) if never_reached(&error) => {}
                Err(_) => {
                    // Sent, and no answer: the listener may have stored it all the same (its
                    // 200 may be what was lost). It may post this copy back too.
                    self.count(body, |copies| copies.unanswered += 1);
                }
            }
        }
        c.abandoned.fetch_add(1, Ordering::SeqCst);
    }

    /// Updates what became of `body`'s copies, and wakes [`Sandbox::wait_quiet`].
    fn count(&self, body: &[u8], update: impl FnOnce(&mut Copies)) {
        update(lock(&self.copies).entry(body.to_vec()).or_default());
        // Under the lock `wait_quiet` checks and waits with, so the wake-up is never lost.
        let _activity = lock(&self.activity);
        self.changed.notify_all();
    }

    /// Whether the run is over (`activity` is the locked [`Shared::activity`]): no postback is
    /// being answered, and every copy the listener holds, or may hold, has been verified.
    fn settled(&self, activity: &Activity) -> bool {
        activity.answering == 0
            && lock(&self.copies)
                .values()
                .all(|copies| copies.unverified() == 0 && copies.unconfirmed() == 0)
    }

    fn report(&self) -> Report {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::SeqCst);
        let copies = lock(&self.copies);
        Report {
            delivered: get(&c.delivered),
            acknowledged: get(&c.acknowledged),
            retried: get(&c.retried),
            abandoned: get(&c.abandoned),
            verified: get(&c.verified),
            invalid: get(&c.invalid),
            faulted: get(&c.faulted),
            in_flight: get(&c.in_flight),
            unverified: copies.values().map(|c| c.unverified()).sum(),
            unanswered: copies.values().map(|c| c.unanswered).sum(),
            unconfirmed: copies.values().map(|c| c.unconfirmed()).sum(),
        }
    }

    /// Delivers message `n` of the last run again, with `resend=true`.
    fn resend(&self, n: usize) -> bool {
        let Some((url, message, schedule)) = lock(&self.last_run).as_ref().and_then(|run| {
            run.messages
                .get(n)
                .map(|m| (run.url.clone(), m.clone(), run.schedule))
        }) else {
            return false;
        };
        let mut body = as_sandbox_message(&message);
        body.extend_from_slice(b"&resend=true");
        lock(&self.delivered_bodies).insert(body.clone());
        self.deliver_one(&client(self.delivery_timeout()), &url, &body, schedule);
        true
    }

    fn delivery_timeout(&self) -> Duration {
        Duration::from_millis(self.delivery_timeout_ms.load(Ordering::SeqCst))
    }
}

/// A postback being answered: counted from its arrival until this is dropped, once its answer
/// has been taken to be written (or withheld, or its client has gone); `wait_quiet` is woken.
struct Answering {
    shared: Arc<Shared>,
}

impl Answering {
    fn new(shared: &Arc<Shared>) -> Answering {
        let mut activity = lock(&shared.activity);
        activity.answering += 1;
        activity.last_ms = now_ms();
        Answering {
            shared: Arc::clone(shared),
        }
    }

    /// `answer`, this postback counted as answered once the answer is taken to be written.
    fn answer(self, answer: Answer) -> Reply {
        Reply::Answer(answer.on_taken(move || drop(self)))
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        let mut activity = lock(&self.shared.activity);
        activity.answering = activity.answering.saturating_sub(1);
        activity.last_ms = now_ms();
        drop(activity);
        self.shared.changed.notify_all();
    }
}

/// Whether a delivery's error shows that the request never reached the listener (no
/// connection was made), as opposed to one whose answer was lost.
fn never_reached(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Io(e) => matches!(
            e.kind(),
            io::ErrorKind::ConnectionRefused
                | io::ErrorKind::AddrNotAvailable
                | io::ErrorKind::NotFound
        ),
        ureq::Error::HostNotFound | ureq::Error::ConnectionFailed | ureq::Error::BadUri(_) => true,
        _ => false,
    }
}

/// What the last delivery run was, for resends on demand.
struct LastRun {
    url: String,
    messages: Vec<Vec<u8>>,
    schedule: Schedule,
}

/// A running stand-in for PayPal. Dropping it stops its HTTP server (see [`Sandbox::stop`]).
pub struct Sandbox {
    shared: Arc<Shared>,
    server: Server,
    url: String,
}

impl Sandbox {
    /// Starts the verification endpoint on `listen` (`127.0.0.1:0` picks a free port).
    pub fn start(listen: &str, faults: Faults) -> io::Result<Sandbox> {
        let shared = Arc::new(Shared {
            faults,
            delivered_bodies: Mutex::new(HashSet::new()),
            copies: Mutex::new(std::collections::HashMap::new()),
            latencies: Mutex::new(Vec::new()),
            last_run: Mutex::new(None),
            counters: Counters::default(),
            activity: Mutex::new(Activity::default()),
            changed: Condvar::new(),
            delivery_timeout_ms: AtomicU64::new(5_000),
            express: Express::new(),
        });
        let answering = Arc::clone(&shared);
        let server = Server::start(listen, move |request| answer(&answering, request))?;
        Ok(Sandbox {
            shared,
            url: server.url(),
            server,
        })
    }

    /// The base URL of the verification endpoint (give it to the listener's
    /// `Verifier::with_base_url_for_testing`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How long each delivery waits for the listener's answer before it counts as unanswered
    /// and is retried (5 s unless set).
    pub fn set_delivery_timeout(&self, timeout: Duration) {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        self.shared.delivery_timeout_ms.store(ms, Ordering::SeqCst);
    }

    /// Delivers every message to `listener_url` with `concurrency` senders, retrying on
    /// `schedule`; returns once each is acknowledged or abandoned. `progress` is called after
    /// each delivery is settled, with the number settled so far and the number planned
    /// (duplicate deliveries included).
    pub fn deliver(
        &self,
        listener_url: &str,
        messages: &[Vec<u8>],
        schedule: Schedule,
        concurrency: usize,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) {
        *lock(&self.shared.last_run) = Some(LastRun {
            url: listener_url.to_owned(),
            messages: messages.to_vec(),
            schedule,
        });
        let faults = self.shared.faults;
        let mut order: Vec<Vec<u8>> = messages.iter().map(|m| as_sandbox_message(m)).collect();
        if faults.reorder {
            // Swap neighbours: the second of each pair arrives first.
            for pair in order.chunks_mut(2) {
                pair.reverse();
            }
        }
        if faults.duplicate {
            let every = usize::try_from(faults.every()).unwrap_or(4);
            let copies: Vec<Vec<u8>> = order.iter().step_by(every).cloned().collect();
            order.extend(copies);
        }
        {
            let mut delivered = lock(&self.shared.delivered_bodies);
            delivered.extend(order.iter().cloned());
        }
        let planned = order.len();
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let rx = Mutex::new(rx);
        let settled = AtomicU64::new(0);
        let agent = client(self.shared.delivery_timeout());
        thread::scope(|scope| {
            for _ in 0..concurrency.max(1) {
                scope.spawn(|| {
                    loop {
                        let Ok(body) = lock(&rx).recv() else { break };
                        self.shared
                            .deliver_one(&agent, listener_url, &body, schedule);
                        let n = settled.fetch_add(1, Ordering::SeqCst) + 1;
                        progress(usize::try_from(n).unwrap_or(usize::MAX), planned);
                    }
                });
            }
            for body in order {
                if tx.send(body).is_err() {
                    break;
                }
            }
            drop(tx);
        });
    }

    /// Delivers message `n` (0-based) of the last [`deliver`](Sandbox::deliver) run again, with
    /// `resend=true`, as PayPal's IPN history does; `false` when there is no such message. Also
    /// on demand over HTTP: `POST /sandbox/resend?n=N`.
    pub fn resend(&self, n: usize) -> bool {
        self.shared.resend(n)
    }

    /// Waits, after a run of deliveries, until the listener is done with them: every copy it
    /// acknowledged, and every copy whose answer was lost (it may hold those too), verified by
    /// a postback, and no postback still being answered. A listener that stops posting back is
    /// given up on once `quiet` passes with no postback under way, counted from the later of
    /// this call and the last postback's arrival or end (so a listener that has not posted back
    /// *yet* is waited for). A postback held silent (the `drop` fault) is under way until its
    /// client gives up, or [`crate::local::WITHHOLD_LIMIT`] passes: `quiet` need only outlast
    /// the listener's retry delay, not its timeout as well.
    pub fn wait_quiet(&self, quiet: Duration) {
        let shared = &self.shared;
        let since = now_ms();
        let quiet_ms = u64::try_from(quiet.as_millis()).unwrap_or(u64::MAX);
        let mut activity = lock(&shared.activity);
        loop {
            if shared.settled(&activity) {
                return;
            }
            // Quiet: nothing under way (answered or held silent), for `quiet` since the last
            // postback came or went.
            let idle = now_ms().saturating_sub(activity.last_ms.max(since));
            if activity.answering == 0 && idle >= quiet_ms {
                return;
            }
            // Woken by each delivery acknowledged and each postback arriving or answered.
            let wait = Duration::from_millis(quiet_ms.saturating_sub(idle).clamp(1, 1_000));
            activity = shared
                .changed
                .wait_timeout(activity, wait)
                .map_or_else(|e| e.into_inner().0, |(guard, _)| guard);
        }
    }

    /// Whether every copy the listener acknowledged has been verified by a postback (copies
    /// whose answer was lost aside: see [`Report::unconfirmed`]).
    pub fn all_verified(&self) -> bool {
        self.shared.report().unverified == 0
    }

    /// The `q`-quantile (0.5 the median, 1.0 the slowest) of the round trips of the deliveries
    /// acknowledged so far: how long the listener took to answer 2xx (the nearest rank; zero
    /// before any).
    pub fn latency_quantile(&self, q: f64) -> Duration {
        let mut micros = lock(&self.shared.latencies).clone();
        micros.sort_unstable();
        // A rank is a position: rounding a float to it is the intent.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rank = ((micros.len() as f64 - 1.0) * q.clamp(0.0, 1.0)).round() as usize;
        Duration::from_micros(micros.get(rank).copied().unwrap_or_default())
    }

    /// What the sandbox has done so far.
    pub fn report(&self) -> Report {
        self.shared.report()
    }

    /// Stops the HTTP server: no new connection is taken, answers already made finish
    /// writing, postbacks held silent (the `drop` fault) end unanswered.
    pub fn stop(self) {
        self.server.stop();
    }
}

/// The bytes the sandbox sends for a message: trailing CR/LF (a file artefact) removed,
/// `test_ipn=1` appended when the message has no `test_ipn`, and a `verify_sign` appended when
/// it has none (PayPal signs every notification; test fixtures often drop the signature).
pub fn as_sandbox_message(raw: &[u8]) -> Vec<u8> {
    let end = raw
        .iter()
        .rposition(|&b| b != b'\r' && b != b'\n')
        .map_or(0, |i| i + 1);
    let mut body = raw.get(..end).unwrap_or_default().to_vec();
    let has = |body: &[u8], key: &[u8]| {
        body.split(|&b| b == b'&').any(|pair| {
            pair.strip_prefix(key)
                .is_some_and(|rest| rest.first() == Some(&b'='))
        })
    };
    if !has(&body, b"test_ipn") {
        body.extend_from_slice(b"&test_ipn=1");
    }
    if !has(&body, b"verify_sign") {
        body.extend_from_slice(
            b"&verify_sign=AiPC9BjkCyDFQXbSkoZcgqH3hpacASJcFfmTSabpg.6nZdl-ZvWk2Hz",
        );
    }
    body
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Reads raw IPN bodies: each path a file, or a directory whose `*.body` files are read in name
/// order.
pub fn load_messages(paths: &[PathBuf]) -> io::Result<Vec<Vec<u8>>> {
    let mut messages = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "body"))
                .collect();
            files.sort();
            for file in files {
                messages.push(std::fs::read(file)?);
            }
        } else {
            messages.push(std::fs::read(path)?);
        }
    }
    Ok(messages)
}

/// An HTTP client with a global timeout that reports every status as a response.
pub fn client(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into()
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn plain(status: u16, body: &str) -> Reply {
    Reply::Answer(Answer::text(status, body))
}

/// Control endpoints: `GET /sandbox/report`, `POST /sandbox/resend?n=N`.
fn control(shared: &Shared, request: &Request) -> Reply {
    if request.target == "/sandbox/report" {
        return match serde_json::to_string(&shared.report()) {
            Ok(json) => {
                Reply::Answer(Answer::new(200, json).header("content-type", "application/json"))
            }
            Err(_) => plain(500, "the report could not be written"),
        };
    }
    let n = request
        .target
        .strip_prefix("/sandbox/resend?n=")
        .and_then(|n| n.parse::<usize>().ok());
    match n {
        Some(n) if request.method == Method::POST => {
            if shared.resend(n) {
                plain(200, "resent")
            } else {
                plain(404, "no such message")
            }
        }
        _ => plain(404, "not found"),
    }
}

/// Express Checkout: `POST /nvp` (the API) and `GET /cgi-bin/webscr?cmd=_express-checkout`
/// (the buyer's approval).
fn express(shared: &Arc<Shared>, request: &Request) -> Reply {
    if request.method == Method::GET {
        let query = request.target.split_once('?').map_or("", |(_, q)| q);
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let token = pairs.iter().find(|(k, _)| k == "token").map(|(_, v)| v);
        return match token.and_then(|t| shared.express.approve(t)) {
            Some(back) if hyper::header::HeaderValue::from_str(&back).is_ok() => {
                Reply::Answer(Answer::new(302, "").header("location", back))
            }
            Some(_) => plain(400, "RETURNURL is not a URL"),
            None => plain(404, "no such checkout"),
        };
    }
    let pairs: Vec<(String, String)> = form_urlencoded::parse(&request.body).into_owned().collect();
    let outcome = shared.express.call(&pairs, shared.faults);
    if let Some(notification) = outcome.notify {
        notify(shared, notification);
    }
    if outcome.lost {
        // The capture is made and notified; its answer never arrives (the client times out).
        return Reply::Withhold(Withheld::new());
    }
    plain(200, &outcome.answer)
}

/// Delivers an Express Checkout notification in the background, as PayPal does.
fn notify(shared: &Arc<Shared>, n: Notification) {
    lock(&shared.delivered_bodies).insert(n.body.clone());
    let shared = Arc::clone(shared);
    // Every copy counted from now, so that the report never shows a notification neither sent
    // nor under way; each leaves the count when it is acknowledged or abandoned.
    shared
        .counters
        .in_flight
        .fetch_add(n.copies, Ordering::SeqCst);
    thread::spawn(move || {
        let agent = client(shared.delivery_timeout());
        for _ in 0..n.copies {
            shared.try_delivering(&agent, &n.url, &n.body, Schedule::Compressed);
            shared.counters.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    });
}

fn answer(shared: &Arc<Shared>, request: Request) -> Reply {
    let (method, target) = (&request.method, request.target.as_str());
    if target.starts_with("/sandbox/") {
        return control(shared, &request);
    }
    let checkout_page =
        *method == Method::GET && target.starts_with("/cgi-bin/webscr?cmd=_express-checkout&");
    if target == "/nvp" && *method == Method::POST || checkout_page {
        return express(shared, &request);
    }
    if target != "/cgi-bin/webscr" || *method != Method::POST {
        return plain(404, "not found");
    }
    // Until its answer is taken to be written, the run is not over (`wait_quiet`).
    let answering = Answering::new(shared);
    let c = &shared.counters;
    let n = c.postbacks.fetch_add(1, Ordering::SeqCst) + 1;
    let f = shared.faults;
    let every = f.every();
    // Faults take turns, so that each kind strikes during a run.
    let turn = (n / every) % 4;
    if n.is_multiple_of(every) {
        let fault = match turn {
            0 if f.server_error => Some("5xx"),
            1 if f.html => Some("html"),
            2 if f.drop => Some("drop"),
            3 if f.slow => Some("slow"),
            _ => [
                (f.server_error, "5xx"),
                (f.html, "html"),
                (f.drop, "drop"),
                (f.slow, "slow"),
            ]
            .iter()
            .find(|(on, _)| *on)
            .map(|(_, name)| *name),
        };
        match fault {
            Some("5xx") => {
                c.faulted.fetch_add(1, Ordering::SeqCst);
                return answering.answer(Answer::text(503, "Service Unavailable"));
            }
            Some("html") => {
                c.faulted.fetch_add(1, Ordering::SeqCst);
                let page = "<html><body><h1>Maintenance</h1><p>VERIFIED</p></body></html>";
                return answering.answer(
                    Answer::new(200, page).header("content-type", "text/html; charset=utf-8"),
                );
            }
            Some("drop") => {
                c.faulted.fetch_add(1, Ordering::SeqCst);
                // Never answered: the client waits for its own timeout, as with an endpoint
                // that hangs. Under way until the client gives up: the run is not quiet while a
                // listener still waits on it (it posts back again after its own timeout).
                return Reply::Withhold(Withheld::on_end(move || drop(answering)));
            }
            Some(_) => thread::sleep(Faults::SLOW),
            None => {}
        }
    }
    let known = request
        .body
        .strip_prefix(ipnkit::POSTBACK_PREFIX)
        .filter(|original| lock(&shared.delivered_bodies).contains(*original))
        .map(<[u8]>::to_vec);
    match known {
        Some(original) => {
            // Counted once the answer is taken to be written, not before: `wait_quiet` ends the
            // run (and `ipnkit sandbox` its process) as soon as every copy counts as verified,
            // and the server's stop then lets what it has taken finish writing.
            let shared = Arc::clone(shared);
            Reply::Answer(Answer::text(200, "VERIFIED").on_taken(move || {
                shared.counters.verified.fetch_add(1, Ordering::SeqCst);
                shared.count(&original, |copies| copies.verified += 1);
                drop(answering);
            }))
        }
        None => {
            c.invalid.fetch_add(1, Ordering::SeqCst);
            answering.answer(Answer::text(200, "INVALID"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(url: &str, body: &[u8]) -> (u16, String) {
        match client(Duration::from_secs(2)).post(url).send(body) {
            Ok(mut r) => (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            ),
            Err(_) => (0, String::new()),
        }
    }

    #[test]
    fn verifies_only_the_exact_bytes_it_delivered() {
        let sandbox =
            Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}"));
        let message = b"txn_id=1&mc_gross=1.00".to_vec();
        // Deliver to the sandbox itself (it answers 200 INVALID to anything but a postback).
        let url = format!("{}/cgi-bin/webscr", sandbox.url());
        sandbox.deliver(
            &url,
            std::slice::from_ref(&message),
            Schedule::Compressed,
            1,
            &|_, _| {},
        );
        assert_eq!(sandbox.report().acknowledged, 1);
        let sent = as_sandbox_message(&message);
        assert!(sent.starts_with(b"txn_id=1&mc_gross=1.00&test_ipn=1&verify_sign="));
        let postback = [ipnkit::POSTBACK_PREFIX, &sent].concat();
        assert_eq!(post(&url, &postback), (200, "VERIFIED".into()));
        let mut tampered = postback.clone();
        if let Some(b) = tampered.last_mut() {
            *b = b'2';
        }
        assert_eq!(post(&url, &tampered), (200, "INVALID".into()));
        assert_eq!(post(&url, &sent), (200, "INVALID".into()), "no prefix");
        assert_eq!(post(&format!("{}/other", sandbox.url()), &postback).0, 404);
        let report = sandbox.report();
        assert_eq!(
            (report.verified, report.invalid, report.abandoned),
            (1, 3, 0)
        );
        sandbox.stop();
    }

    /// A listener (or a shop) played by the test: each request it receives is handed over
    /// with a way to answer it, whenever the test chooses.
    struct Holding {
        server: Server,
        received: Mutex<mpsc::Receiver<(Vec<u8>, mpsc::Sender<Reply>)>>,
    }

    impl Holding {
        fn start() -> Holding {
            let (tx, received) = mpsc::channel();
            let tx = Mutex::new(tx);
            let server = Server::start("127.0.0.1:0", move |request| {
                let (answer, answered) = mpsc::channel();
                let _ = lock(&tx).send((request.body, answer));
                // The test's answer; none (the test is over) closes the connection unanswered.
                answered
                    .recv()
                    .unwrap_or_else(|_| Reply::Withhold(Withheld::new()))
            })
            .unwrap_or_else(|e| panic!("{e}"));
            Holding {
                server,
                received: Mutex::new(received),
            }
        }

        fn url(&self) -> String {
            format!("{}/ipn", self.server.url())
        }

        /// The next request's body, and where its answer goes.
        fn next(&self) -> (Vec<u8>, mpsc::Sender<Reply>) {
            lock(&self.received)
                .recv_timeout(Duration::from_secs(10))
                .unwrap_or_else(|e| panic!("nothing received: {e}"))
        }
    }

    fn ok() -> Reply {
        Reply::Answer(Answer::new(200, ""))
    }

    /// Delivers `message` on its own thread (returned); the test plays the listener.
    fn deliver_in_background(
        sandbox: &Arc<Sandbox>,
        url: &str,
        message: &[u8],
    ) -> thread::JoinHandle<()> {
        let (sandbox, url, message) = (Arc::clone(sandbox), url.to_owned(), message.to_vec());
        thread::spawn(move || {
            sandbox.deliver(
                &url,
                std::slice::from_ref(&message),
                Schedule::Compressed,
                1,
                &|_, _| {},
            );
        })
    }

    fn verify(sandbox: &Sandbox, copy: &[u8]) {
        let postback = [ipnkit::POSTBACK_PREFIX, copy].concat();
        let url = format!("{}/cgi-bin/webscr", sandbox.url());
        assert_eq!(post(&url, &postback), (200, "VERIFIED".into()));
    }

    /// Asserts that the run is not over: `wait_quiet` waits its whole quiet time.
    fn assert_not_over(sandbox: &Sandbox, why: &str) {
        let quiet = Duration::from_millis(600);
        let started = std::time::Instant::now();
        sandbox.wait_quiet(quiet);
        assert!(
            started.elapsed() >= quiet,
            "left after {:?} {why}",
            started.elapsed()
        );
    }

    /// Verifies `copy` while `wait_quiet` (a long quiet time) runs: it must end then, as every
    /// copy is verified; returns the report it ended with.
    fn verify_last(sandbox: &Arc<Sandbox>, copy: &[u8]) -> Report {
        let (tx, rx) = mpsc::channel();
        let waiting = Arc::clone(sandbox);
        thread::spawn(move || {
            waiting.wait_quiet(Duration::from_secs(60));
            let _ = tx.send(waiting.report());
        });
        verify(sandbox, copy);
        rx.recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("still waiting after every copy was verified: {e}"))
    }

    #[test]
    fn a_listener_that_has_not_posted_back_yet_is_waited_for() {
        // Issue 35: `ipnkit sandbox --linger 4` left within milliseconds of the last delivery
        // when no postback had come in yet (the quiet was counted from the epoch), and the
        // listener's postbacks then met a closed connection.
        let sandbox = Arc::new(
            Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}")),
        );
        let listener = Holding::start();
        let delivering = deliver_in_background(&sandbox, &listener.url(), b"txn_id=1");
        let (copy, answer) = listener.next();
        let _ = answer.send(ok());
        let _ = delivering.join();
        assert_eq!(sandbox.report().acknowledged, 1);

        // No postback comes: the stand-in waits the whole quiet time, counted from now.
        assert_not_over(&sandbox, "before any postback");

        // The postback comes late: the stand-in is still there, and leaves once it is answered.
        let report = verify_last(&sandbox, &copy);
        assert_eq!((report.verified, report.unverified), (1, 0), "{report:?}");
    }

    #[test]
    fn a_delivery_whose_answer_was_lost_is_waited_for_too() {
        // The listener stored the first delivery but its 200 came after the stand-in's
        // timeout, so the stand-in delivered again: the listener holds two copies and posts
        // both back. The stand-in must not leave after verifying the one it saw acknowledged.
        let sandbox = Arc::new(
            Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}")),
        );
        sandbox.set_delivery_timeout(Duration::from_millis(200));
        let listener = Holding::start();
        let delivering = deliver_in_background(&sandbox, &listener.url(), b"txn_id=2");
        let (first, late) = listener.next();
        // Answered only once the retry has come, when the stand-in has given up on it.
        let (second, answer) = listener.next();
        assert_eq!(first, second);
        let _ = answer.send(ok());
        let _ = late.send(ok());
        let _ = delivering.join();
        let report = sandbox.report();
        assert_eq!(
            (report.acknowledged, report.unanswered, report.unconfirmed),
            (1, 1, 1),
            "{report:?}"
        );

        verify(&sandbox, &first);
        assert_eq!(sandbox.report().unconfirmed, 1);
        assert_not_over(&sandbox, "with a copy the listener holds unverified");

        let report = verify_last(&sandbox, &second);
        assert_eq!(
            (report.verified, report.unverified, report.unconfirmed),
            (2, 0, 0),
            "{report:?}"
        );
    }

    #[test]
    fn a_postback_being_answered_holds_the_run_open() {
        // Every copy verified but one postback still being answered (a slow answer): the run
        // is over only once that answer is written.
        let faults = Faults {
            slow: true,
            every: 1,
            ..Faults::default()
        };
        let sandbox =
            Arc::new(Sandbox::start("127.0.0.1:0", faults).unwrap_or_else(|e| panic!("{e}")));
        let url = format!("{}/cgi-bin/webscr", sandbox.url());
        let answered = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let poster = {
            let (url, answered) = (url.clone(), Arc::clone(&answered));
            thread::spawn(move || {
                let answer = post(&url, b"cmd=_notify-validate&unknown=1");
                answered.store(true, Ordering::SeqCst);
                answer
            })
        };
        // Waits for the postback to be under way (an event: the stand-in counts it).
        while sandbox.shared.counters.postbacks.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        sandbox.wait_quiet(Duration::from_secs(60));
        let report = sandbox.report();
        assert_eq!(
            report.invalid, 1,
            "left before the answer was written: {report:?}"
        );
        assert_eq!(poster.join().ok(), Some((200, "INVALID".to_owned())));
        assert!(answered.load(Ordering::SeqCst));
    }

    #[test]
    fn a_postback_held_silent_keeps_the_run_open_until_its_client_gives_up() {
        // The `drop` fault: a postback never answered. Its client (here with a 1 s timeout)
        // posts back again only after giving up, so the run's quiet counts from then: a
        // `--linger` shorter than the listener's timeout must not end the run under it.
        let faults = Faults {
            drop: true,
            every: 1,
            ..Faults::default()
        };
        let sandbox =
            Arc::new(Sandbox::start("127.0.0.1:0", faults).unwrap_or_else(|e| panic!("{e}")));
        let url = format!("{}/cgi-bin/webscr", sandbox.url());
        let timeout = Duration::from_secs(1);
        let started = std::time::Instant::now();
        let poster = thread::spawn(move || {
            client(timeout)
                .post(&url)
                .send(&b"cmd=_notify-validate&x=1"[..])
                .map(|r| r.status().as_u16())
        });
        // Waits for the postback to be under way (an event: the stand-in counts it).
        while sandbox.shared.counters.postbacks.load(Ordering::SeqCst) == 0 {
            thread::yield_now();
        }
        sandbox.wait_quiet(Duration::from_millis(300));
        assert!(
            started.elapsed() > timeout,
            "the run ended after {:?}, before its client gave up",
            started.elapsed()
        );
        assert!(poster.join().is_ok_and(|r| r.is_err()), "answered");
        assert_eq!(sandbox.report().faulted, 1);
    }

    /// Opens `n` connections to the stand-in at once, sends a postback on each, keeps them all
    /// open, and reads each one's answer (at most 5 s each); panics naming one left unanswered.
    fn burst(sandbox: &Sandbox, n: usize) {
        let address = sandbox.url().trim_start_matches("http://").to_owned();
        let mut connections: Vec<std::net::TcpStream> = (0..n)
            .map(|_| std::net::TcpStream::connect(&address).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        let postback = "cmd=_notify-validate&txn_id=1";
        let request = format!(
            "POST /cgi-bin/webscr HTTP/1.1\r\nHost: {address}\r\nContent-Length: {}\r\n\r\n{postback}",
            postback.len()
        );
        for connection in &mut connections {
            io::Write::write_all(connection, request.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        }
        for (i, connection) in connections.iter_mut().enumerate() {
            let _ = connection.set_read_timeout(Some(Duration::from_secs(5)));
            let mut answer = [0u8; 12];
            let read = io::Read::read_exact(connection, &mut answer);
            assert!(
                read.is_ok() && answer.starts_with(b"HTTP/1.1 200"),
                "connection {i} of {n} got no answer: {read:?}"
            );
        }
    }

    #[test]
    fn every_postback_of_a_burst_of_new_connections_is_answered() {
        // Issue 35: on tiny_http's thread pool, a connection accepted while idle threads were
        // still waking up was queued with its wake-up lost, and served only once another
        // connection closed: against clients that keep theirs alive (a listener's workers), one
        // of the first postbacks of a run waited its client's whole timeout. Here a first
        // burst leaves idle threads behind it (a pool's case), then a larger one comes: every
        // connection is kept open, and each must be answered while the others stay open.
        let sandbox =
            Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}"));
        burst(&sandbox, 8);
        burst(&sandbox, 64);
        assert_eq!(sandbox.report().invalid, 72);
    }

    #[test]
    fn resends_on_demand_with_resend_true() {
        let sandbox =
            Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}"));
        let url = format!("{}/cgi-bin/webscr", sandbox.url());
        assert!(!sandbox.resend(0), "nothing delivered yet");
        sandbox.deliver(
            &url,
            &[b"txn_id=9".to_vec()],
            Schedule::Compressed,
            1,
            &|_, _| {},
        );
        let (status, _) = post(&format!("{}/sandbox/resend?n=0", sandbox.url()), b"");
        assert_eq!(status, 200);
        assert_eq!(
            post(&format!("{}/sandbox/resend?n=5", sandbox.url()), b"").0,
            404
        );
        let postback = [
            ipnkit::POSTBACK_PREFIX,
            &as_sandbox_message(b"txn_id=9"),
            b"&resend=true",
        ]
        .concat();
        assert_eq!(post(&url, &postback), (200, "VERIFIED".into()));
        let report: serde_json::Value = client(Duration::from_secs(2))
            .get(format!("{}/sandbox/report", sandbox.url()))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok())
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        assert_eq!(report["acknowledged"], 2);
        sandbox.stop();
    }

    #[test]
    fn faults_take_turns() {
        let faults = Faults {
            every: 1,
            ..Faults::all()
        };
        let sandbox = Sandbox::start("127.0.0.1:0", faults).unwrap_or_else(|e| panic!("{e}"));
        let url = format!("{}/cgi-bin/webscr", sandbox.url());
        let answers: Vec<(u16, String)> = (0..4)
            .map(|_| post(&url, b"cmd=_notify-validate&x=1"))
            .collect();
        assert!(
            answers.contains(&(503, "Service Unavailable".into())),
            "{answers:?}"
        );
        assert!(
            answers
                .iter()
                .any(|(s, b)| *s == 200 && b.contains("<html>")),
            "{answers:?}"
        );
        assert!(
            answers.iter().any(|(s, _)| *s == 0),
            "a postback never answered: {answers:?}"
        );
        assert!(
            answers.contains(&(200, "INVALID".into())),
            "the slow one still answers: {answers:?}"
        );
        assert_eq!(sandbox.report().faulted, 3);
        sandbox.stop();
    }

    /// The NVP answer of `pairs` as a map; `None` when the connection closed without one.
    fn nvp(
        sandbox: &Sandbox,
        pairs: &[(&str, &str)],
    ) -> Option<std::collections::HashMap<String, String>> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("USER", "shop_api1.example.net");
        for (k, v) in pairs {
            form.append_pair(k, v);
        }
        let (status, text) = post(&format!("{}/nvp", sandbox.url()), form.finish().as_bytes());
        (status == 200).then(|| {
            form_urlencoded::parse(text.as_bytes())
                .into_owned()
                .collect()
        })
    }

    #[test]
    fn express_checkout_authorizes_captures_and_notifies_each_step() {
        let faults = Faults {
            lost: true,
            every: 2,
            ..Faults::default()
        };
        let sandbox = Sandbox::start("127.0.0.1:0", faults).unwrap_or_else(|e| panic!("{e}"));
        let shop = Holding::start();
        let notify_url = shop.url();
        let next_notification = || {
            let (body, answer) = shop.next();
            let _ = answer.send(ok());
            let message = ipnkit::Message::parse(&body).unwrap_or_else(|e| panic!("{e}"));
            let postback = [ipnkit::POSTBACK_PREFIX, &body].concat();
            let url = format!("{}/cgi-bin/webscr", sandbox.url());
            assert_eq!(post(&url, &postback), (200, "VERIFIED".into()));
            message
        };

        let set = nvp(
            &sandbox,
            &[
                ("METHOD", "SetExpressCheckout"),
                ("PAYMENTREQUEST_0_AMT", "24.90"),
                ("PAYMENTREQUEST_0_CURRENCYCODE", "EUR"),
                ("PAYMENTREQUEST_0_PAYMENTACTION", "Authorization"),
                ("PAYMENTREQUEST_0_INVNUM", "order-7"),
                ("PAYMENTREQUEST_0_NOTIFYURL", &notify_url),
                ("RETURNURL", "http://shop.example/return?lang=de"),
                ("CANCELURL", "http://shop.example/cancel"),
            ],
        )
        .unwrap_or_else(|| panic!("no answer"));
        assert_eq!(set["ACK"], "Success", "{set:?}");
        let token = set["TOKEN"].clone();

        // The buyer approves on the checkout page and is sent back with a PayerID.
        let page = format!(
            "{}/cgi-bin/webscr?cmd=_express-checkout&token={token}",
            sandbox.url()
        );
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .into();
        let approved = agent.get(&page).call().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(approved.status(), 302);
        let back = approved
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let prefix = format!("http://shop.example/return?lang=de&token={token}&PayerID=");
        let payer = back
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("{back}"))
            .to_owned();
        assert_eq!(payer.len(), 13);

        let early = nvp(
            &sandbox,
            &[
                ("METHOD", "DoExpressCheckoutPayment"),
                ("TOKEN", &token),
                ("PAYERID", "SOMEONEELSE"),
                ("PAYMENTREQUEST_0_AMT", "24.90"),
                ("PAYMENTREQUEST_0_CURRENCYCODE", "EUR"),
            ],
        )
        .unwrap_or_default();
        assert_eq!(early.get("L_ERRORCODE0").map(String::as_str), Some("10419"));
        let pay = nvp(
            &sandbox,
            &[
                ("METHOD", "DoExpressCheckoutPayment"),
                ("TOKEN", &token),
                ("PAYERID", &payer),
                ("PAYMENTREQUEST_0_AMT", "24.90"),
                ("PAYMENTREQUEST_0_CURRENCYCODE", "EUR"),
                ("PAYMENTREQUEST_0_PAYMENTACTION", "Authorization"),
            ],
        )
        .unwrap_or_else(|| panic!("no answer"));
        assert_eq!(pay["PAYMENTINFO_0_PAYMENTSTATUS"], "Pending", "{pay:?}");
        let auth_id = pay["PAYMENTINFO_0_TRANSACTIONID"].clone();
        let authorized = next_notification();
        assert_eq!(authorized.event().code(), "authorization_created");
        assert_eq!(authorized.auth_id(), Some(auth_id.as_str()));
        assert_eq!(authorized.txn_id(), Some(auth_id.as_str()));
        assert_eq!(authorized.invoice(), Some("order-7"));
        assert_eq!(authorized.receiver_email(), Some("shop@example.net"));

        // DoCapture: more than authorized is refused (the first call); the second is made,
        // notified, and its answer lost (every 2nd); a third finds it done.
        let capture = |amount: &str| {
            nvp(
                &sandbox,
                &[
                    ("METHOD", "DoCapture"),
                    ("AUTHORIZATIONID", &auth_id),
                    ("AMT", amount),
                    ("CURRENCYCODE", "EUR"),
                    ("COMPLETETYPE", "Complete"),
                ],
            )
        };
        let too_much = capture("25.00").unwrap_or_default();
        assert_eq!(
            too_much.get("L_ERRORCODE0").map(String::as_str),
            Some("10610")
        );
        assert_eq!(capture("24.90"), None, "the lost answer");
        let captured = next_notification();
        assert_eq!(captured.event().code(), "capture_completed");
        assert_eq!(captured.auth_id(), Some(auth_id.as_str()));
        assert_eq!(captured.parent_txn_id(), Some(auth_id.as_str()));
        assert_ne!(captured.txn_id(), Some(auth_id.as_str()));
        assert_eq!(
            captured.mc_gross().map(|m| m.amount.to_string()),
            Some("24.90".into())
        );
        let again = capture("24.90").unwrap_or_default();
        assert_eq!(again.get("L_ERRORCODE0").map(String::as_str), Some("10602"));

        // Bad calls are failures with PayPal's codes, never a crash.
        assert_eq!(
            nvp(&sandbox, &[("METHOD", "Refund")]).unwrap_or_default()["L_ERRORCODE0"],
            "81002"
        );
        let (_, anonymous) = post(&format!("{}/nvp", sandbox.url()), b"METHOD=DoCapture");
        assert!(anonymous.contains("L_ERRORCODE0=10002"), "{anonymous}");
        let bad_amount = nvp(
            &sandbox,
            &[
                ("METHOD", "SetExpressCheckout"),
                ("PAYMENTREQUEST_0_AMT", "1e3"),
                ("RETURNURL", "http://a/"),
                ("CANCELURL", "http://a/"),
            ],
        )
        .unwrap_or_default();
        assert_eq!(
            bad_amount.get("L_ERRORCODE0").map(String::as_str),
            Some("10004"),
            "{bad_amount:?}"
        );
        assert!(bad_amount["L_LONGMESSAGE0"].starts_with("PAYMENTREQUEST_0_AMT"));
        let report = sandbox.report();
        assert_eq!(
            (report.acknowledged, report.in_flight),
            (2, 0),
            "{report:?}"
        );
        sandbox.stop();
    }

    #[test]
    fn messages_get_test_ipn_and_a_signature_and_lose_trailing_newlines() {
        let signed = |body: &str| {
            format!("{body}&verify_sign=AiPC9BjkCyDFQXbSkoZcgqH3hpacASJcFfmTSabpg.6nZdl-ZvWk2Hz")
        };
        assert_eq!(
            as_sandbox_message(b"a=1\n\n"),
            signed("a=1&test_ipn=1").as_bytes()
        );
        assert_eq!(
            as_sandbox_message(b"test_ipn=1&a=1"),
            signed("test_ipn=1&a=1").as_bytes()
        );
        // `test_ipnx` is not `test_ipn`; a message that has both keeps them as they are.
        assert_eq!(
            as_sandbox_message(b"test_ipnx=1"),
            signed("test_ipnx=1&test_ipn=1").as_bytes()
        );
        assert_eq!(
            as_sandbox_message(b"test_ipn=0&verify_sign=X"),
            b"test_ipn=0&verify_sign=X"
        );
        assert_eq!(
            Faults::parse("5xx,drop"),
            Ok(Faults {
                server_error: true,
                drop: true,
                ..Faults::default()
            })
        );
        assert!(Faults::parse("fire").is_err());
        assert!(Faults::parse("lost").is_ok_and(|f| f.lost) && Faults::all().lost);
        assert_eq!(Schedule::Compressed.delays().len(), 8);
        assert_eq!(Schedule::PayPal.delays().len(), 15);
    }
}
