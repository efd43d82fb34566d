//! A run of deliveries: PayPal's user agent, the retry schedule, and the report of what became
//! of each message.

use std::time::Duration;

use serde::Serialize;

/// The `User-Agent` of deliveries: PayPal's, as listeners see it.
pub const PAYPAL_USER_AGENT: &str = "PayPal IPN ( https://www.paypal.com/ipn )";

/// The retry schedule of deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// 0.2 s, doubling, 8 tries: for tests and demos.
    Compressed,
    /// 1 minute, doubling up to a day, 15 tries: about four days, as PayPal does.
    PayPal,
}

impl Schedule {
    pub(super) fn delays(self) -> Vec<Duration> {
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
    /// Webhook deliveries forged on purpose (fault `forge`): each must be refused.
    pub forged: u64,
    /// Requests for the run's leaf certificate (faulted ones included): a listener that keeps
    /// it fetches it once.
    pub certificate_fetches: u64,
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

/// What the last delivery run was, for resends on demand.
pub(super) struct LastRun {
    pub(super) url: String,
    pub(super) messages: Vec<Vec<u8>>,
    pub(super) schedule: Schedule,
}
