//! What the stand-in's threads share: what it delivered and what became of each copy, the
//! postbacks under way, the counters.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

use super::express::Express;
use super::faults::Faults;
use super::messages::as_sandbox_message;
use super::run::{LastRun, PAYPAL_USER_AGENT, Report, Schedule};
use crate::local::{Answer, Reply};
use crate::store::now_ms;
use crate::util::{client, lock};

#[derive(Default)]
pub(super) struct Counters {
    pub(super) delivered: AtomicU64,
    pub(super) acknowledged: AtomicU64,
    pub(super) retried: AtomicU64,
    pub(super) abandoned: AtomicU64,
    pub(super) verified: AtomicU64,
    pub(super) invalid: AtomicU64,
    pub(super) faulted: AtomicU64,
    pub(super) postbacks: AtomicU64,
    pub(super) in_flight: AtomicU64,
    /// Webhook deliveries forged on purpose (the `forge` fault).
    pub(super) forged: AtomicU64,
    /// Requests for the run's leaf certificate.
    pub(super) certificate_fetches: AtomicU64,
}

/// What a delivery carries: an IPN body, or a webhook's body and its headers.
#[derive(Debug, Clone, Copy)]
pub(super) enum Payload<'a> {
    Ipn(&'a [u8]),
    Webhook {
        body: &'a [u8],
        headers: &'a [(&'static str, String)],
    },
}

/// The `User-Agent` of webhook deliveries, as PayPal's look.
const WEBHOOK_USER_AGENT: &str = "PayPal/AUHD-214.0-ipnkit-sandbox";

/// What became of one body's copies.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Copies {
    /// Deliveries the listener answered with a 2xx: copies it holds and will post back.
    pub(super) acknowledged: u64,
    /// Deliveries sent whose answer never came: copies it may hold.
    pub(super) unanswered: u64,
    /// Postbacks of this body answered VERIFIED (counted once the answer is written).
    pub(super) verified: u64,
}

impl Copies {
    /// Acknowledged copies no postback has verified.
    pub(super) fn unverified(self) -> u64 {
        self.acknowledged.saturating_sub(self.verified)
    }

    /// Copies the listener may hold beyond those: unanswered deliveries not verified.
    pub(super) fn unconfirmed(self) -> u64 {
        (self.acknowledged + self.unanswered)
            .saturating_sub(self.verified)
            .saturating_sub(self.unverified())
    }
}

/// The stand-in's postback side, for deciding when a run is over: postbacks being answered,
/// and when the last one came or went.
#[derive(Default)]
pub(super) struct Activity {
    /// Postbacks read or being answered, not yet written back.
    pub(super) answering: u64,
    /// When the last postback arrived or was answered (ms since the epoch); 0 before any.
    pub(super) last_ms: i64,
}

pub(super) struct Shared {
    pub(super) faults: Faults,
    pub(super) last_run: Mutex<Option<LastRun>>,
    /// Round trips of acknowledged deliveries, in microseconds.
    pub(super) latencies: Mutex<Vec<u64>>,
    pub(super) delivered_bodies: Mutex<HashSet<Vec<u8>>>,
    /// For each delivered body, what became of its copies (a listener stores each copy it
    /// acknowledges and posts each back).
    pub(super) copies: Mutex<std::collections::HashMap<Vec<u8>, Copies>>,
    pub(super) counters: Counters,
    /// Postbacks under way, and a signal on each change (see [`Sandbox::wait_quiet`]).
    pub(super) activity: Mutex<Activity>,
    pub(super) changed: Condvar,
    /// How long a delivery waits for the listener's answer (milliseconds).
    pub(super) delivery_timeout_ms: AtomicU64,
    pub(super) express: Express,
    /// The run's webhook authority, leaf and signing key.
    pub(super) webhooks: super::webhooks::WebhookSigner,
    /// Webhook transmissions signed, for their ids.
    pub(super) transmissions: AtomicU64,
    /// The transmission ids of the webhooks forged on purpose.
    pub(super) forged_ids: Mutex<HashSet<String>>,
    /// The stand-in's own base URL (its certificate URLs are under it), set once it listens.
    pub(super) url: std::sync::OnceLock<String>,
}

impl Shared {
    /// Signs a webhook now: a transmission id of the run's and the time to the second.
    pub(super) fn sign_webhook(
        &self,
        base: &str,
        body: &[u8],
        webhook_id: &str,
        signing: super::webhooks::Signing,
    ) -> Result<super::webhooks::SignedHeaders, String> {
        let n = self.transmissions.fetch_add(1, Ordering::SeqCst) + 1;
        let id = format!("ipnkit-sandbox-{:x}-{n}", std::process::id());
        let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        self.webhooks
            .sign(base, body, webhook_id, (&id, &time), signing)
    }
    pub(super) fn deliver_one(
        &self,
        agent: &ureq::Agent,
        url: &str,
        payload: Payload<'_>,
        schedule: Schedule,
    ) {
        let c = &self.counters;
        c.in_flight.fetch_add(1, Ordering::SeqCst);
        self.try_delivering(agent, url, payload, schedule);
        c.in_flight.fetch_sub(1, Ordering::SeqCst);
    }

    /// Delivers `payload` until it is acknowledged, or its schedule runs out. An IPN's copies
    /// are counted for [`Sandbox::wait_quiet`](super::Sandbox::wait_quiet) (each is posted
    /// back); a webhook's are not (a listener verifies it offline).
    pub(super) fn try_delivering(
        &self,
        agent: &ureq::Agent,
        url: &str,
        payload: Payload<'_>,
        schedule: Schedule,
    ) {
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
            let sent = match payload {
                Payload::Ipn(body) => agent
                    .post(url)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .header("User-Agent", PAYPAL_USER_AGENT)
                    .send(body),
                Payload::Webhook { body, headers } => {
                    let mut call = agent
                        .post(url)
                        .header("Content-Type", "application/json")
                        .header("User-Agent", WEBHOOK_USER_AGENT);
                    for (name, value) in headers {
                        call = call.header(*name, value);
                    }
                    call.send(body)
                }
            };
            let ipn = match payload {
                Payload::Ipn(body) => Some(body),
                Payload::Webhook { .. } => None,
            };
            match sent {
                Ok(mut response) => {
                    let _ = response.body_mut().read_to_vec();
                    if response.status().is_success() {
                        let micros =
                            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                        lock(&self.latencies).push(micros);
                        c.acknowledged.fetch_add(1, Ordering::SeqCst);
                        if let Some(body) = ipn {
                            self.count(body, |copies| copies.acknowledged += 1);
                        }
                        return;
                    }
                    // A listener that answers anything but a 2xx has not taken the message.
                }
                Err(error) if never_reached(&error) => {}
                Err(_) => {
                    // Sent, and no answer: the listener may have stored it all the same (its
                    // 200 may be what was lost). It may post this copy back too.
                    if let Some(body) = ipn {
                        self.count(body, |copies| copies.unanswered += 1);
                    }
                }
            }
        }
        c.abandoned.fetch_add(1, Ordering::SeqCst);
    }

    /// Updates what became of `body`'s copies, and wakes [`Sandbox::wait_quiet`].
    pub(super) fn count(&self, body: &[u8], update: impl FnOnce(&mut Copies)) {
        update(lock(&self.copies).entry(body.to_vec()).or_default());
        // Under the lock `wait_quiet` checks and waits with, so the wake-up is never lost.
        let _activity = lock(&self.activity);
        self.changed.notify_all();
    }

    /// Whether the run is over (`activity` is the locked [`Shared::activity`]): no postback is
    /// being answered, and every copy the listener holds, or may hold, has been verified.
    pub(super) fn settled(&self, activity: &Activity) -> bool {
        activity.answering == 0
            && lock(&self.copies)
                .values()
                .all(|copies| copies.unverified() == 0 && copies.unconfirmed() == 0)
    }

    pub(super) fn report(&self) -> Report {
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
            forged: get(&c.forged),
            certificate_fetches: get(&c.certificate_fetches),
            unverified: copies.values().map(|c| c.unverified()).sum(),
            unanswered: copies.values().map(|c| c.unanswered).sum(),
            unconfirmed: copies.values().map(|c| c.unconfirmed()).sum(),
        }
    }

    /// Delivers message `n` of the last run again, with `resend=true`.
    pub(super) fn resend(&self, n: usize) -> bool {
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
        self.deliver_one(
            &client(self.delivery_timeout()),
            &url,
            Payload::Ipn(&body),
            schedule,
        );
        true
    }

    pub(super) fn delivery_timeout(&self) -> Duration {
        Duration::from_millis(self.delivery_timeout_ms.load(Ordering::SeqCst))
    }
}

/// A postback being answered: counted from its arrival until this is dropped, once its answer
/// has been taken to be written (or withheld, or its client has gone); `wait_quiet` is woken.
pub(super) struct Answering {
    pub(super) shared: Arc<Shared>,
}

impl Answering {
    pub(super) fn new(shared: &Arc<Shared>) -> Answering {
        let mut activity = lock(&shared.activity);
        activity.answering += 1;
        activity.last_ms = now_ms();
        Answering {
            shared: Arc::clone(shared),
        }
    }

    /// `answer`, this postback counted as answered once the answer is taken to be written.
    pub(super) fn answer(self, answer: Answer) -> Reply {
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
pub(super) fn never_reached(error: &ureq::Error) -> bool {
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
