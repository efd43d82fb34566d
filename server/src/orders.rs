//! The shop's orders: what amount and currency a payment must have.
//!
//! A verified payment is only "ship the goods" when its amount and currency are those of the
//! order it pays for, and only the shop knows its orders. The listener asks the shop, with the
//! message's `invoice`, `custom` and `item_number`:
//!
//! - [`Orders::Url`]: `GET URL?invoice=…&custom=…&item_number=…` (the ones the message has). A
//!   `200` answers `{"amount": "19.95", "currency": "USD"}` (the amount a string: exact);
//!   `404` says there is no such order. Anything else (no answer, a 5xx, a redirect, a body that
//!   is not that JSON) is "unreachable": the lookup is retried later, never skipped.
//! - [`Orders::File`]: JSON lines, each `{"invoice": …, "amount": …, "currency": …}` or with
//!   `custom` instead of `invoice`, read again whenever it changes (a small shop appends to it;
//!   a later line for the same reference replaces an earlier one).
//!
//! With neither, no order is known: payments are reported with `order_not_found` and never
//! shipped.

use std::path::PathBuf;
use std::time::Duration;

use ipnkit::webhook::WebhookEvent;
use ipnkit::{Expected, Lookup as Variable, Message, Value};
use serde::Deserialize;

/// Where the listener finds the order a payment is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Orders {
    /// No order book: no payment is shipped.
    None,
    /// JSON lines with `invoice` or `custom`, `amount`, `currency`.
    File(PathBuf),
    /// Asked over HTTP (see the module docs).
    Url(String),
}

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The order, with the amount and currency the payment must have.
    Order(Expected),
    /// The shop has no such order (or the message names none).
    NotFound,
}

/// Why a lookup could not be answered (retried later): a stable code, never a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.code())]
pub enum Unreachable {
    /// No HTTP answer (refused, timed out, dropped).
    NoAnswer,
    /// An HTTP status other than 200 or 404.
    HttpStatus,
    /// A 200 whose body is not an order.
    BadAnswer,
    /// The orders file cannot be read.
    FileUnreadable,
    /// A line of the orders file is not an order.
    FileInvalid,
}

impl Unreachable {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Unreachable::NoAnswer => "orders_no_answer",
            Unreachable::HttpStatus => "orders_http_status",
            Unreachable::BadAnswer => "orders_bad_answer",
            Unreachable::FileUnreadable => "orders_file_unreadable",
            Unreachable::FileInvalid => "orders_file_invalid",
        }
    }
}

/// A notification's references to the shop's order: an IPN's `invoice`, `custom` and
/// `item_number`, a webhook resource's `invoice_id` and `custom_id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References<'m> {
    invoice: Option<&'m str>,
    custom: Option<&'m str>,
    item_number: Option<&'m str>,
}

fn text<'m>(message: &'m Message, name: &str) -> Option<&'m str> {
    match message.get(name) {
        Variable::Value(Value::Text(text)) if !text.trim().is_empty() => Some(text),
        _ => None,
    }
}

impl<'m> References<'m> {
    /// An IPN's: `invoice`, `custom`, `item_number`.
    pub fn of_message(message: &'m Message) -> References<'m> {
        References {
            invoice: text(message, "invoice"),
            custom: text(message, "custom"),
            item_number: text(message, "item_number"),
        }
    }

    /// A webhook's: its resource's `invoice_id` (v1 `invoice_number`) and `custom_id` (v1
    /// `custom`), which a shop sets as it sets an IPN's `invoice` and `custom`.
    pub fn of_webhook(event: &'m WebhookEvent) -> References<'m> {
        let present = |v: &'m Option<String>| v.as_deref().filter(|t| !t.trim().is_empty());
        References {
            invoice: present(&event.resource.invoice_id),
            custom: present(&event.resource.custom_id),
            item_number: None,
        }
    }

    fn is_empty(&self) -> bool {
        self.invoice.is_none() && self.custom.is_none() && self.item_number.is_none()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderLine {
    invoice: Option<String>,
    custom: Option<String>,
    amount: String,
    currency: String,
}

#[derive(Deserialize)]
struct Answer {
    amount: String,
    currency: String,
}

/// The expected money, read exactly by the core (a string amount, a known currency).
fn expected(amount: &str, currency: &str) -> Option<Expected> {
    Expected::from_data(serde_json::json!({"amount": amount, "currency": currency})).ok()
}

/// The orders file as last read, each order's money read once: re-read only when the file's
/// length or modification time changes.
#[derive(Debug, Default)]
pub struct FileCache {
    seen: Option<(u64, Option<std::time::SystemTime>)>,
    /// `None` for a line whose money cannot be read: a lookup that finds it fails.
    by_invoice: std::collections::HashMap<String, Option<Expected>>,
    by_custom: std::collections::HashMap<String, Option<Expected>>,
}

impl FileCache {
    fn refresh(&mut self, path: &std::path::Path) -> Result<(), Unreachable> {
        let meta = std::fs::metadata(path).map_err(|_| Unreachable::FileUnreadable)?;
        let seen = (meta.len(), meta.modified().ok());
        if self.seen == Some(seen) && seen.1.is_some() {
            return Ok(());
        }
        let text = std::fs::read_to_string(path).map_err(|_| Unreachable::FileUnreadable)?;
        let mut by_invoice = std::collections::HashMap::new();
        let mut by_custom = std::collections::HashMap::new();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let order: OrderLine =
                serde_json::from_str(line).map_err(|_| Unreachable::FileInvalid)?;
            // A later line for the same reference replaces an earlier one.
            let money = expected(&order.amount, &order.currency);
            match (order.invoice, order.custom) {
                (Some(invoice), _) => by_invoice.insert(invoice, money),
                (None, Some(custom)) => by_custom.insert(custom, money),
                (None, None) => return Err(Unreachable::FileInvalid),
            };
        }
        (self.by_invoice, self.by_custom) = (by_invoice, by_custom);
        self.seen = Some(seen);
        Ok(())
    }
}

impl Orders {
    /// The order a notification pays for, by its references, asked with `agent` within
    /// `timeout` (a shop's URL); `cache` keeps the orders file between lookups.
    pub fn lookup(
        &self,
        refs: &References<'_>,
        agent: &ureq::Agent,
        timeout: Duration,
        cache: &mut FileCache,
    ) -> Result<Found, Unreachable> {
        match self {
            Orders::None => Ok(Found::NotFound),
            _ if refs.is_empty() => Ok(Found::NotFound),
            Orders::File(path) => {
                cache.refresh(path)?;
                let order = refs
                    .invoice
                    .and_then(|i| cache.by_invoice.get(i))
                    .or_else(|| refs.custom.and_then(|c| cache.by_custom.get(c)));
                match order {
                    None => Ok(Found::NotFound),
                    Some(money) => money.map(Found::Order).ok_or(Unreachable::FileInvalid),
                }
            }
            Orders::Url(url) => {
                let asked = crate::reconnect::on_a_live_connection(
                    timeout,
                    |connection| {
                        let mut call = connection.apply(agent.get(url));
                        for (name, value) in [
                            ("invoice", refs.invoice),
                            ("custom", refs.custom),
                            ("item_number", refs.item_number),
                        ] {
                            if let Some(value) = value {
                                call = call.query(name, value);
                            }
                        }
                        call.call()
                    },
                    |error| {
                        tracing::info!(
                            failure = %error,
                            "an order lookup met a closed connection: made again on a new one"
                        );
                    },
                );
                let mut response = asked.map_err(|_| Unreachable::NoAnswer)?;
                match response.status().as_u16() {
                    200 => {}
                    404 => return Ok(Found::NotFound),
                    _ => return Err(Unreachable::HttpStatus),
                }
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_vec()
                    .map_err(|_| Unreachable::NoAnswer)?;
                let answer: Answer =
                    serde_json::from_slice(&body).map_err(|_| Unreachable::BadAnswer)?;
                expected(&answer.amount, &answer.currency)
                    .map(Found::Order)
                    .ok_or(Unreachable::BadAnswer)
            }
        }
    }
}
