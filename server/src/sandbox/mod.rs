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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use crate::local::Server;
use crate::store::now_ms;
use crate::util::{client, lock};
use express::Express;
use state::{Activity, Counters, Shared};

mod answer;
mod express;
mod faults;
mod messages;
mod run;
mod state;
#[cfg(test)]
mod tests;
mod webhook_runs;
pub mod webhooks;

pub use faults::Faults;
pub use messages::{as_sandbox_message, load_messages};
use run::LastRun;
pub use run::{PAYPAL_USER_AGENT, Report, Schedule};
pub use webhook_runs::webhook_for_ipn;

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
            webhooks: webhooks::WebhookSigner::new().map_err(io::Error::other)?,
            transmissions: AtomicU64::new(0),
            forged_ids: Mutex::new(HashSet::new()),
            url: std::sync::OnceLock::new(),
        });
        let answering = Arc::clone(&shared);
        let server = Server::start(listen, move |request| answer::answer(&answering, request))?;
        // The server's own URL, known once it listens: set here, once.
        if shared.url.set(server.url()).is_err() {
            return Err(io::Error::other("the stand-in's URL was set twice"));
        }
        Ok(Sandbox {
            shared,
            url: server.url(),
            server,
        })
    }

    /// The authority this run's webhooks chain to (PEM): what a listener under test trusts,
    /// with the stand-in's URL as its certificate base.
    pub fn webhook_ca_pem(&self) -> &str {
        self.shared.webhooks.ca_pem()
    }

    /// A verifier for `webhook_id` in `host`'s environment that trusts this stand-in: its
    /// authority and its certificate URLs (the core's test-only options, refused in live).
    pub fn webhook_verifier(
        &self,
        host: &ipnkit::host::Config,
        webhook_id: &str,
    ) -> Result<ipnkit::webhook::WebhookVerifier, ipnkit::Error> {
        host.webhook_verifier(webhook_id)?
            .with_trust_anchors(self.webhook_ca_pem().as_bytes())?
            .with_certificate_base_for_testing(&self.url)
    }

    /// Signs `body` for `webhook_id` now, as PayPal does: the five headers to send with it, the
    /// certificate URL under this stand-in's URL.
    pub fn sign_webhook(
        &self,
        body: &[u8],
        webhook_id: &str,
    ) -> Result<webhooks::SignedHeaders, String> {
        self.shared
            .sign_webhook(&self.url, body, webhook_id, webhooks::Signing::PayPal)
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
                        self.shared.deliver_one(
                            &agent,
                            listener_url,
                            state::Payload::Ipn(&body),
                            schedule,
                        );
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
        let quiet_ms = crate::store::ms(quiet);
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
            // Between 1 ms and 1 s: the conversion cannot fail.
            let left = u64::try_from(quiet_ms.saturating_sub(idle).clamp(1, 1_000)).unwrap_or(1);
            let wait = Duration::from_millis(left);
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
