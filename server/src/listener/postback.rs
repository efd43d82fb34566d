//! The postback: the verification request sent to PayPal, and its answer as it came.

use std::sync::atomic::Ordering;

use ipnkit::host::Answer;

use super::config::Config;
use super::metrics::Metrics;
use crate::reconnect::{Connection, on_a_live_connection};

/// What a worker works with.
pub(super) struct Work<'a> {
    pub(super) config: &'a Config,
    /// For postbacks and order lookups.
    pub(super) agent: &'a ureq::Agent,
    pub(super) metrics: &'a Metrics,
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
pub(super) fn post_back(
    work: &Work<'_>,
    request: &ipnkit::VerificationRequest,
) -> (Reply, Option<String>) {
    exchange(work, "the postback", |connection| {
        let mut call = connection.apply(work.agent.post(&request.url));
        for (name, value) in &request.headers {
            call = call.header(*name, *value);
        }
        call.send(&request.body[..])
    })
}

/// The most bytes of an answer read (a postback's, a certificate URL's): PayPal's answers are a
/// word, or a PEM chain of about 5 KiB.
const ANSWER_BYTES: u64 = 64 * 1024;

/// One exchange with PayPal made by `send` with the listener's discipline: on a live connection
/// (made again at once on a new one when the kept-alive one was closed under it, within the
/// same deadline), the answer read to [`ANSWER_BYTES`]. `what` names it in the log.
pub(super) fn exchange(
    work: &Work<'_>,
    what: &'static str,
    send: impl Fn(Connection) -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> (Reply, Option<String>) {
    let sent = on_a_live_connection(work.config.postback_timeout, send, |error| {
        work.metrics.reconnected.fetch_add(1, Ordering::Relaxed);
        tracing::info!(
            failure = %error,
            "{what} met a closed connection: sent again on a new one"
        );
    });
    match sent {
        Ok(mut response) => {
            let status = response.status().as_u16();
            match response
                .body_mut()
                .with_config()
                .limit(ANSWER_BYTES)
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
pub(super) enum Reply {
    Http(u16, Vec<u8>),
    /// A body cut short or too long.
    BodyUnread(u16),
    None,
}

impl Reply {
    pub(super) fn answer(&self) -> Answer<'_> {
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
