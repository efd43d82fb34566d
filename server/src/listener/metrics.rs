//! The listener's counters, and their Prometheus text.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::store::{Counts, now_ms};

/// Counters since the process started (the store holds the rest).
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    pub(crate) received: AtomicU64,
    /// Of those, webhooks.
    pub(crate) webhooks_received: AtomicU64,
    /// Certificates fetched for webhooks (answered or not).
    pub(crate) certificate_fetches: AtomicU64,
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

pub(super) fn render(
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
        "webhooks_received_total",
        "Of those, webhooks (stored with PayPal's headers).",
        &m.webhooks_received,
    );
    counter(
        "certificate_fetches_total",
        "Webhook certificates fetched (each URL's is kept in the store once fetched).",
        &m.certificate_fetches,
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
