//! Webhook runs: the stand-in delivers webhooks as PayPal does (each signed when it is sent,
//! retried on the run's schedule), with the run's faults, and can make the webhook PayPal sends
//! for the same payment as an IPN message, so that one payment arrives by both channels.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;

use ipnkit::webhook::transmission::TRANSMISSION_ID;
use ipnkit::{Lookup, Message, Value};
use serde_json::json;

use super::Sandbox;
use super::run::Schedule;
use super::state::Payload;
use super::webhooks::Signing;
use crate::store::{MessageRow, read_webhook_headers};
use crate::util::{client, lock};

/// One delivery planned: the bytes signed, the bytes sent (the same, but for a re-formatted
/// forgery) and how it is signed.
struct Planned {
    signed: Vec<u8>,
    sent: Vec<u8>,
    signing: Signing,
}

impl Sandbox {
    /// Whether the stand-in forged the webhook transmission `id` (`PAYPAL-TRANSMISSION-ID`):
    /// what a test or the demo checks a listener's verdicts against.
    pub fn is_forged(&self, transmission_id: &str) -> bool {
        lock(&self.shared.forged_ids).contains(transmission_id)
    }

    /// Whether the webhook a listener stored as `row` is one the stand-in forged, read from its
    /// stored headers; `None` for a row that is not a webhook, or whose headers name no
    /// transmission.
    pub fn forged_row(&self, row: &MessageRow) -> Option<bool> {
        let pairs = read_webhook_headers(row.headers.as_deref()?)?;
        let (_, id) = pairs.iter().find(|(name, _)| name == TRANSMISSION_ID)?;
        Some(self.is_forged(id))
    }

    /// Delivers each webhook body in `events` to `url` (the listener's webhook URL) for
    /// `webhook_id`, each signed as it is sent, with `concurrency` senders, retrying on
    /// `schedule`; returns once each is acknowledged or abandoned. The run's faults apply:
    /// `duplicate` (an event delivered again: a new transmission, the same event id),
    /// `reorder`, and `forge` (see [`Faults::forge`](super::Faults::forge)). `progress` is called
    /// as for [`deliver`](Sandbox::deliver).
    pub fn deliver_webhooks(
        &self,
        url: &str,
        webhook_id: &str,
        events: &[Vec<u8>],
        schedule: Schedule,
        concurrency: usize,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) {
        let faults = self.shared.faults;
        let every = usize::try_from(faults.every()).unwrap_or(4);
        let mut order: Vec<&Vec<u8>> = events.iter().collect();
        if faults.reorder {
            for pair in order.chunks_mut(2) {
                pair.reverse();
            }
        }
        if faults.duplicate {
            let copies: Vec<&Vec<u8>> = order.iter().step_by(every).copied().collect();
            order.extend(copies);
        }
        let mut planned = Vec::new();
        for (i, body) in order.into_iter().enumerate() {
            let plain = |signing| Planned {
                signed: body.clone(),
                sent: body.clone(),
                signing,
            };
            planned.push(plain(Signing::PayPal));
            if faults.forge && i.is_multiple_of(every) {
                planned.push(Planned {
                    signed: body.clone(),
                    sent: reformatted(body),
                    signing: Signing::PayPal,
                });
                planned.extend(
                    [
                        Signing::OtherKey,
                        Signing::ForeignHost,
                        Signing::ExpiredLeaf,
                    ]
                    .map(plain),
                );
            }
        }
        let total = planned.len();
        let (tx, rx) = mpsc::channel::<Planned>();
        let rx = Mutex::new(rx);
        let settled = AtomicU64::new(0);
        let agent = client(self.shared.delivery_timeout());
        let shared = &self.shared;
        thread::scope(|scope| {
            for _ in 0..concurrency.max(1) {
                scope.spawn(|| {
                    loop {
                        let Ok(delivery) = lock(&rx).recv() else {
                            break;
                        };
                        let forged =
                            delivery.signing != Signing::PayPal || delivery.signed != delivery.sent;
                        let signed = shared.sign_webhook(
                            &self.url,
                            &delivery.signed,
                            webhook_id,
                            delivery.signing,
                        );
                        match signed {
                            Ok(headers) => {
                                if forged {
                                    shared.counters.forged.fetch_add(1, Ordering::SeqCst);
                                    if let Some((_, id)) = headers
                                        .pairs
                                        .iter()
                                        .find(|(name, _)| *name == TRANSMISSION_ID)
                                    {
                                        lock(&shared.forged_ids).insert(id.clone());
                                    }
                                }
                                let payload = Payload::Webhook {
                                    body: &delivery.sent,
                                    headers: &headers.pairs,
                                };
                                shared.deliver_one(&agent, url, payload, schedule);
                            }
                            Err(error) => {
                                tracing::error!(%error, "a webhook could not be signed");
                                shared.counters.abandoned.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        let n = settled.fetch_add(1, Ordering::SeqCst) + 1;
                        progress(usize::try_from(n).unwrap_or(usize::MAX), total);
                    }
                });
            }
            for delivery in planned {
                if tx.send(delivery).is_err() {
                    break;
                }
            }
            drop(tx);
        });
    }
}

/// The body as a framework re-serialises it (parsed, then written back pretty): the same JSON,
/// other bytes. A body that is not JSON gets a trailing newline.
fn reformatted(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| serde_json::to_vec_pretty(&v).ok())
    {
        Some(pretty) if pretty != body => pretty,
        _ => [body, b"\n"].concat(),
    }
}

/// The webhook PayPal sends (`PAYMENT.CAPTURE.COMPLETED`, Orders v2) for the payment an IPN
/// message reports completed (its event `payment_completed`): the capture's id is the IPN's `txn_id`, with its amount, its
/// currency, the payee's e-mail address (`receiver_email`), `custom` and `invoice` as
/// `custom_id` and `invoice_id`. `None` for any other message. An IPN and this webhook are one
/// fact: a listener acts on the first to arrive and finds the second a duplicate.
pub fn webhook_for_ipn(raw: &[u8]) -> Option<Vec<u8>> {
    let message = Message::parse(raw).ok()?;
    let text = |name: &str| match message.get(name) {
        Lookup::Value(Value::Text(text) | Value::Word(text)) if !text.trim().is_empty() => {
            Some(text.to_owned())
        }
        _ => None,
    };
    // A payment completed (not a dispute's adjustment, a Mass Pay item or a subscription's
    // payment, which PayPal notifies by other webhooks).
    if message.event().event_code() != ipnkit::EventCode::PaymentCompleted
        || text("payment_status").as_deref() != Some("Completed")
    {
        return None;
    }
    let txn_id = text("txn_id")?;
    let (amount, currency) = match message.get("mc_gross") {
        Lookup::Value(Value::Money(money)) => (money.amount, money.currency?),
        _ => return None,
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut resource = serde_json::Map::new();
    resource.insert("id".into(), txn_id.clone().into());
    resource.insert("status".into(), "COMPLETED".into());
    resource.insert(
        "amount".into(),
        json!({"currency_code": currency.as_str(), "value": amount.to_string()}),
    );
    resource.insert("final_capture".into(), true.into());
    resource.insert("create_time".into(), now.clone().into());
    resource.insert("update_time".into(), now.clone().into());
    for (from, to) in [("custom", "custom_id"), ("invoice", "invoice_id")] {
        if let Some(value) = text(from) {
            resource.insert(to.into(), value.into());
        }
    }
    if let Some(email) = text("receiver_email") {
        resource.insert("payee".into(), json!({ "email_address": email }));
    }
    let event = json!({
        "id": format!("WH-IPNKIT-{txn_id}"),
        "event_version": "1.0",
        "create_time": now,
        "resource_type": "capture",
        "resource_version": "2.0",
        "event_type": "PAYMENT.CAPTURE.COMPLETED",
        "summary": format!("Payment completed for {amount} {}", currency.as_str()),
        "resource": resource,
    });
    serde_json::to_vec(&event).ok()
}
