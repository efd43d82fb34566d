//! A webhook's verification: its transmission read again from the store, the certificate
//! URL judged by the core, the certificate taken from the store or fetched once (then kept for
//! every process sharing the store), and the signature checked at the time it was received.

use std::sync::atomic::Ordering;

use ipnkit::webhook::{Certificate, Transmission, WebhookVerdict};

use super::postback::{Reply, Work, exchange};
use crate::store::{Pending, Store, StoreError, read_webhook_headers};

/// What became of a webhook's verification.
pub(super) enum Verified {
    /// PayPal signed these bytes: go on to the rules.
    Yes,
    /// Settled (refused, unreadable) or put back for a retry: nothing more to do now.
    Done,
}

/// Verifies webhook `pending` (its `headers` as the store keeps them), settling it when it
/// cannot be verified: `invalid` with the core's reason, `unreadable` when the stored headers
/// or body are no longer a transmission (limits made smaller since), a retry with backoff when
/// the certificate could not be had.
pub(super) fn verify(
    store: &mut dyn Store,
    work: &Work<'_>,
    pending: &Pending,
    headers: &str,
    retry_at: i64,
) -> Result<Verified, StoreError> {
    let (id, metrics) = (pending.id, work.metrics);
    let Some(webhooks) = &work.config.webhooks else {
        // Stored by a listener that took webhooks; this one was started without them.
        tracing::error!(
            message_id = id,
            "a webhook is stored but webhooks are not configured: held"
        );
        store.retry_later(id, retry_at, "webhooks_not_configured")?;
        return Ok(Verified::Done);
    };
    let Some(pairs) = read_webhook_headers(headers) else {
        tracing::error!(
            message_id = id,
            "a webhook's stored headers cannot be read: held"
        );
        store.retry_later(id, retry_at, "stored_headers_unreadable")?;
        return Ok(Verified::Done);
    };
    let transmission = match Transmission::from_request(&pending.body, &pairs, webhooks.limits) {
        Ok(t) => t,
        Err(error) => {
            tracing::warn!(
                message_id = id,
                code = error.code(),
                "webhook refused by the limits"
            );
            store.settle(id, "unreadable", error.code(), error.field())?;
            return Ok(Verified::Done);
        }
    };
    let verifier = &webhooks.verifier;
    let request = match verifier.certificate_request(&transmission) {
        Ok(request) => request,
        Err(why) => return invalid(store, work, id, why.code()),
    };
    // Verified as of its arrival: a delivery stored in time stays in time while it waits.
    let at = pending.received_at.div_euclid(1000);
    let verdict = match store.certificate(request.cache_key())? {
        Some(pem) => verifier.verify_answer(&transmission, Some((200, &pem)), at),
        None => {
            let (reply, failure) = fetch(work, request.url());
            if let Reply::Http(200, body) = &reply
                && Certificate::from_response(&request, 200, body).is_ok()
            {
                store.keep_certificate(request.cache_key(), body)?;
            }
            if let Some(failure) = failure {
                tracing::info!(message_id = id, %failure, "certificate fetch failed");
            }
            let answer = match &reply {
                Reply::Http(status, body) => Some((*status, &body[..])),
                Reply::BodyUnread(_) | Reply::None => None,
            };
            verifier.verify_answer(&transmission, answer, at)
        }
    };
    match verdict {
        WebhookVerdict::Verified => {
            metrics.verified.fetch_add(1, Ordering::Relaxed);
            store.mark_verified(id)?;
            Ok(Verified::Yes)
        }
        WebhookVerdict::Invalid(why) => invalid(store, work, id, why.code()),
        WebhookVerdict::Unexpected(why) => {
            metrics.unexpected.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                message_id = id,
                reason = why.code(),
                attempts = pending.attempts + 1,
                "no usable certificate: retried later"
            );
            store.retry_later(id, retry_at, why.code())?;
            Ok(Verified::Done)
        }
    }
}

fn invalid(
    store: &mut dyn Store,
    work: &Work<'_>,
    id: i64,
    why: &str,
) -> Result<Verified, StoreError> {
    work.metrics.invalid.fetch_add(1, Ordering::Relaxed);
    tracing::warn!(message_id = id, reason = why, "webhook not verified");
    store.settle(id, "invalid", why, None)?;
    Ok(Verified::Done)
}

/// `GET url` with the postback's discipline: one deadline, no redirect, the answer capped.
fn fetch(work: &Work<'_>, url: &str) -> (Reply, Option<String>) {
    work.metrics
        .certificate_fetches
        .fetch_add(1, Ordering::Relaxed);
    exchange(work, "a certificate fetch", |connection| {
        connection.apply(work.agent.get(url)).call()
    })
}
