//! What an operator configures: the store, the sink, the backoff, the retention.

use std::path::PathBuf;
use std::time::Duration;

use crate::orders::Orders;
use crate::store::Db;
use ipnkit::signature::Secret;
use serde_json::json;

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
    /// Webhooks, when this listener takes them too.
    pub webhooks: Option<Webhooks>,
}

/// Where webhooks arrive and how they are verified.
#[derive(Debug, Clone)]
pub struct Webhooks {
    /// The path they are POSTed to (`/webhook`); IPN messages arrive on every other path.
    pub path: String,
    /// The verifier for this listener's environment and webhook id
    /// ([`ipnkit::host::Config::webhook_verifier`]).
    pub verifier: ipnkit::webhook::WebhookVerifier,
    /// The body's and each header's bounds, checked while the request is read.
    pub limits: ipnkit::webhook::WebhookLimits,
}

impl Webhooks {
    /// Webhooks at `path`, verified by `verifier`, within the default limits.
    pub fn new(path: &str, verifier: ipnkit::webhook::WebhookVerifier) -> Webhooks {
        Webhooks {
            path: path.to_owned(),
            verifier,
            limits: ipnkit::webhook::WebhookLimits::default(),
        }
    }
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
            webhooks: None,
        })
    }
}

/// The HTTP layer's limits and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Most bytes of the request line and headers together.
    pub header_bytes: usize,
    /// Most header fields.
    pub max_headers: usize,
    /// Time to receive the whole head of a request; also how long a connection may sit idle.
    pub header_timeout: Duration,
    /// Time to receive the whole body once the head is in.
    pub body_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// On shutdown, how long requests in flight may take to finish.
    pub shutdown_grace: Duration,
}

impl HttpLimits {
    /// Generous for PayPal (a few hundred bytes of headers, a body of a few KB sent at once),
    /// small for anyone holding connections open.
    pub const DEFAULT: HttpLimits = HttpLimits {
        header_bytes: 16 * 1024,
        max_headers: 64,
        header_timeout: Duration::from_secs(10),
        body_timeout: Duration::from_secs(10),
        max_connections: 1024,
        shutdown_grace: Duration::from_secs(10),
    };
}
