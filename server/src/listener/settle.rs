//! The postback workers: each claims a due message, posts it back, and settles it from the
//! core's decision (the order looked up first when the rules compare an amount).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ipnkit::host::{Answer, Decision, Notification, Refusal};
use ipnkit::webhook::{WebhookEvent, WebhookVerdict};
use ipnkit::{AmountCheck, DeliveryKey, Expected, Verdict, expects_amount};
use serde_json::json;

use super::certificate::{self, Verified};
use super::config::Config;
use super::metrics::Metrics;
use super::postback::{Work, post_back};
use super::state::{Trouble, Wake};
use crate::orders::{self, Found, References};
use crate::store::{Pending, Store, StoreError, ms, now_ms};
use crate::util::client;

/// How long a message held for an operator (a state the listener will not guess at) waits
/// before it is tried again: an hour.
const HELD_MS: i64 = 3_600_000;

pub(super) fn work(
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

fn retry_at(config: &Config, attempts: i64) -> i64 {
    now_ms().saturating_add(ms(config.backoff.after(attempts)))
}

fn process(
    store: &mut dyn Store,
    work: &Work<'_>,
    orders_cache: &mut orders::FileCache,
    pending: Pending,
) -> Result<(), StoreError> {
    let (config, metrics) = (work.config, work.metrics);
    let id = pending.id;
    // The order lookups tried so far, once PayPal (or the signature) has verified the message:
    // counted from none when it is verified now.
    let attempts = if pending.verified {
        pending.attempts
    } else {
        0
    };
    if let Some(headers) = &pending.headers {
        if !pending.verified {
            let verified = certificate::verify(
                store,
                work,
                &pending,
                headers,
                retry_at(config, pending.attempts),
            )?;
            if let Verified::Done = verified {
                return Ok(());
            }
        }
        let event = WebhookEvent::parse(&pending.body);
        return decide(
            store,
            work,
            orders_cache,
            id,
            attempts,
            Subject::Webhook(event.as_ref()),
        );
    }
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
    decide(
        store,
        work,
        orders_cache,
        id,
        attempts,
        Subject::Ipn(&notification),
    )
}

/// What a decision is about: an IPN, or a webhook's event (or the error reading it).
#[derive(Clone, Copy)]
enum Subject<'a> {
    Ipn(&'a Notification),
    Webhook(Result<&'a WebhookEvent, &'a ipnkit::Error>),
}

impl<'a> Subject<'a> {
    /// `ipn` or `webhook`: on every event line.
    fn channel(self) -> &'static str {
        match self {
            Subject::Ipn(_) => "ipn",
            Subject::Webhook(_) => "webhook",
        }
    }

    /// The order's references, when the event carries an amount the rules compare.
    fn references(self) -> Option<References<'a>> {
        match self {
            Subject::Ipn(n) => match n.message() {
                Ok(m) if expects_amount(m.event()) => Some(References::of_message(m)),
                _ => None,
            },
            Subject::Webhook(Ok(e)) if expects_amount(&e.event) => Some(References::of_webhook(e)),
            Subject::Webhook(_) => None,
        }
    }

    /// The lookup id the stored keys are read under.
    fn lookup_id(self) -> Option<String> {
        match self {
            Subject::Ipn(n) => n.delivery_key().ok().map(|k| k.lookup_id().to_owned()),
            Subject::Webhook(Ok(e)) => Some(DeliveryKey::of_webhook(e).lookup_id().to_owned()),
            Subject::Webhook(Err(_)) => None,
        }
    }

    /// The core's decision for a verified notification.
    fn decide(
        self,
        config: &ipnkit::host::Config,
        expected: &Expected,
        stored: &[String],
    ) -> Result<Decision, ipnkit::Error> {
        match self {
            // PayPal's VERIFIED, as this listener received it (now, or before a restart: the
            // store records it, and a verified message is never posted back again).
            Subject::Ipn(n) => n.decide(Answer::VerifiedEarlier, config, expected, stored),
            Subject::Webhook(event) => {
                ipnkit::webhook::decide(WebhookVerdict::Verified, event, config, expected, stored)
            }
        }
    }
}

/// How a verified notification ends: the order, the core's decision, the event. `attempts`
/// counts the order lookups tried so far (their own backoff).
fn decide(
    store: &mut dyn Store,
    work: &Work<'_>,
    orders_cache: &mut orders::FileCache,
    id: i64,
    attempts: i64,
    subject: Subject<'_>,
) -> Result<(), StoreError> {
    let (config, metrics) = (work.config, work.metrics);
    // The order, for a readable message whose event carries an amount; every other event
    // ignores what is expected.
    let (expected, order) = match subject.references() {
        Some(refs) => {
            match config
                .orders
                .lookup(&refs, work.agent, config.postback_timeout, orders_cache)
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
        None => (Expected::any_amount(), "not_needed"),
    };
    let stored = match subject.lookup_id() {
        Some(lookup_id) => store.keys(&lookup_id)?,
        None => Vec::new(),
    };
    let decision = match subject.decide(&config.host, &expected, &stored) {
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
        move |event_id: i64| event_line(event_id, id, outcome, ship, order, decision, subject)
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
    subject: Subject<'_>,
) -> String {
    let message = match subject {
        Subject::Ipn(n) => n.message().map(|m| json!(m)),
        Subject::Webhook(event) => event.map(|e| json!(e.json)),
    };
    let message = match message {
        Ok(message) => message,
        Err(error) => {
            return json!({
                "id": id,
                "message_id": message_id,
                "channel": subject.channel(),
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
        "channel": subject.channel(),
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
