//! The postback workers: each claims a due message, posts it back, and settles it from the
//! core's decision (the order looked up first when the rules compare an amount).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ipnkit::host::{Answer, Decision, Notification, Refusal};
use ipnkit::{AmountCheck, Expected, Verdict, expects_amount};
use serde_json::json;

use super::config::Config;
use super::metrics::Metrics;
use super::postback::{Work, post_back};
use super::state::{Trouble, Wake};
use crate::orders::{self, Found};
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
    let attempts = if pending.verified {
        pending.attempts
    } else {
        0
    };
    decide(store, work, orders_cache, id, attempts, &notification)
}

/// How a verified notification ends: the order, the core's decision, the event. `attempts`
/// counts the order lookups tried so far (their own backoff).
fn decide(
    store: &mut dyn Store,
    work: &Work<'_>,
    orders_cache: &mut orders::FileCache,
    id: i64,
    attempts: i64,
    notification: &Notification,
) -> Result<(), StoreError> {
    let (config, metrics) = (work.config, work.metrics);
    // The order, for a readable message whose event carries an amount; every other event
    // ignores what is expected.
    let (expected, order) = match notification.message() {
        Ok(message) if expects_amount(message.event()) => {
            match config
                .orders
                .lookup(message, work.agent, config.postback_timeout, orders_cache)
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
        Ok(_) | Err(_) => (Expected::any_amount(), "not_needed"),
    };
    let stored = match notification.delivery_key() {
        Ok(key) => store.keys(key.lookup_id())?,
        Err(_) => Vec::new(),
    };
    // PayPal's VERIFIED, as this listener received it (now, or before a restart: the store
    // records it, and a verified message is never posted back again).
    let decision =
        match notification.decide(Answer::VerifiedEarlier, &config.host, &expected, &stored) {
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
        move |event_id: i64| event_line(event_id, id, outcome, ship, order, decision, notification)
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
    notification: &Notification,
) -> String {
    let message = match notification.message() {
        Ok(message) => message,
        Err(error) => {
            return json!({
                "id": id,
                "message_id": message_id,
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
