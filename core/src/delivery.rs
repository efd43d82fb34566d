//! Duplicates, status transitions and stale deliveries, without storage: the host keeps a little
//! state per notification and asks [`classify`] what a new delivery is.
//!
//! PayPal delivers a notification until the listener answers 200, retries for days, and sends
//! it again when the merchant clicks "resend" in the IPN history (with `resend=true` and a new
//! `verify_sign`). Deliveries also arrive out of order. A transaction changes status over several
//! notifications (`Pending` → `Completed`), a refund or reversal arrives as a notification of its
//! own (its own `txn_id`, the original's in `parent_txn_id`), a dispute is opened and resolved.
//! So a listener must tell:
//!
//! | [`Delivery`] | when | what to do |
//! |---|---|---|
//! | `New` | nothing stored under this message's [`lookup_id`](DeliveryKey::lookup_id) | act, then store the key |
//! | `Duplicate` | this very [`DeliveryKey`] is stored | answer 200, do nothing else |
//! | `Transition { from, to }` | the same thing is stored in another state, no later than this one | act on the new state, then store the key |
//! | `Stale { from, to }` | the same thing is stored in a *later* state (a `Pending` that arrives after `Completed`) | do not act (store the key if its retries should be duplicates) |
//!
//! ## What the host stores
//!
//! For each delivery it has acted on: the key's [`lookup_id`](DeliveryKey::lookup_id) (indexed)
//! and the key itself ([`as_str`](DeliveryKey::as_str), unique), and optionally the raw body.
//! Before acting on a new message it loads the keys stored under the same `lookup_id`, oldest
//! first, reads them back with [`DeliveryKey::from_stored`], and passes them to [`classify`].
//! Storing the key in the same database transaction as the action makes a crash between the two
//! harmless: PayPal's retry is then a duplicate.
//!
//! A key is ASCII, at most [`MAX_KEY_LEN`] (206) bytes: a `VARCHAR(255)` holds every key.
//!
//! ## Keys
//!
//! `<kind>:<id>` is the lookup id; notifications that change state add `:<state>`, the state's
//! words joined by `/`. In order of precedence:
//!
//! | notification | key | states, earliest first |
//! |---|---|---|
//! | a dispute with a `case_id` | `case:<case_id>:<event>[/<case_type>]` (a second case on the same transaction is another key) | `dispute_opened`, `dispute_resolved` |
//! | Adaptive Payments Pay with a `pay_key` and a `status` | `pay:<pay_key>:<status>[/<transaction[n].status>,…]` (`-` for a transaction without a status) | `CREATED`, `PENDING`/`PROCESSING`, `INCOMPLETE`, `COMPLETED`/`ERROR`, `REVERSALERROR` |
//! | Adaptive preapproval with a `preapproval_key` and a `status` | `preapproval:<preapproval_key>:<status>[/approved\|not_approved]` | `ACTIVE`, `CANCELED`/`DEACTIVED` |
//! | anything with a `txn_id` | `txn:<txn_id>:<payment_status>[/<pending_reason or reason_code>]`, or `txn:<txn_id>:event.<event>` without a status | `Pending`/`Created`, `Completed`/`Processed`/`Denied`/`Failed`/`Voided`/`Expired`, `Refunded`/`Reversed`, `Canceled_Reversal` |
//! | anything with an `ipn_track_id` (Mass Pay, sign-ups, profiles…) | `ipn:<ipn_track_id>` (PayPal keeps it across retries and resends) | — |
//! | a webhook about no state IPN shares ([`DeliveryKey::of_webhook`]) | `wh:<event id>` (PayPal keeps it across redeliveries) | — |
//! | anything else | `sum:v1-<SHA-256>`: a fingerprint of every variable but `verify_sign` and `resend` (which differ between a message and its resend), in order, each key and value framed by its length | — |
//!
//! A new pending reason or reason code under the same status is a new state (a transition), not
//! a duplicate. A state word PayPal never documented has no place in the order: it is never
//! stale. An id or state word that is not made of ASCII letters, digits and `.` `_` `-` `,`, or is
//! longer than 64 bytes, is written `~` followed by 32 hex digits of its SHA-256, so that every key
//! reads back with [`DeliveryKey::from_stored`] and fits its column.

use std::fmt;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::codes::codes;

use crate::error::Error;
use crate::event::Family;
use crate::message::Message;
use crate::webhook::{ResourceKind, WebhookEvent};

/// The longest key [`DeliveryKey::of`] makes, in bytes (all ASCII): `preapproval:` (12), an id
/// (64), `:` and two state words of 64 joined by `/` (130).
pub const MAX_KEY_LEN: usize = 12 + MAX_PART + 1 + MAX_PART + 1 + MAX_PART;

/// The longest id or state word kept as it is.
const MAX_PART: usize = 64;

/// The identity of one delivery, stable across PayPal's retries and resends.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DeliveryKey {
    key: String,
    /// The start of `key` the host looks stored keys up by: up to the state, or all of it.
    lookup: String,
}

/// The kinds of key, by prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Case,
    Pay,
    Preapproval,
    Txn,
    Ipn,
    Sum,
    /// A webhook about no state IPN shares: its event id.
    Webhook,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Case,
        Kind::Pay,
        Kind::Preapproval,
        Kind::Txn,
        Kind::Ipn,
        Kind::Sum,
        Kind::Webhook,
    ];

    fn prefix(self) -> &'static str {
        match self {
            Kind::Case => "case",
            Kind::Pay => "pay",
            Kind::Preapproval => "preapproval",
            Kind::Txn => "txn",
            Kind::Ipn => "ipn",
            Kind::Sum => "sum",
            Kind::Webhook => "wh",
        }
    }

    fn of_prefix(prefix: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.prefix() == prefix)
    }

    /// Whether keys of this kind carry a state.
    fn has_state(self) -> bool {
        matches!(self, Kind::Case | Kind::Pay | Kind::Preapproval | Kind::Txn)
    }

    /// Where a state's first word stands in the order of its kind; `None`: no place.
    fn rank(self, first_word: &str) -> Option<u8> {
        let rank = match (self, first_word) {
            (Kind::Txn, "Pending" | "Created") => 1,
            (Kind::Txn, "Completed" | "Processed" | "Denied" | "Failed" | "Voided" | "Expired") => {
                2
            }
            (Kind::Txn, "Refunded" | "Reversed") => 3,
            (Kind::Txn, "Canceled_Reversal") => 4,
            (Kind::Case, "dispute_opened") => 1,
            (Kind::Case, "dispute_resolved") => 2,
            (Kind::Pay, "CREATED") => 1,
            (Kind::Pay, "PENDING" | "PROCESSING") => 2,
            (Kind::Pay, "INCOMPLETE") => 3,
            (Kind::Pay, "COMPLETED" | "ERROR") => 4,
            (Kind::Pay, "REVERSALERROR") => 5,
            (Kind::Preapproval, "CREATED" | "ACTIVE") => 1,
            (Kind::Preapproval, "CANCELED" | "DEACTIVED") => 2,
            _ => return None,
        };
        Some(rank)
    }
}

/// How a key writes a transaction PayPal sent without a status, in a Pay notification's list of
/// transaction statuses: a word of its own, which no status of PayPal's is.
const NO_STATUS: &str = "-";

/// The bytes a part of a key is kept with as it is.
fn is_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b',')
}

/// Appends a part of a key: kept when it is short and made of safe characters, else `~` and 32
/// hex digits of its SHA-256.
fn push_part(out: &mut String, text: &str) {
    if !text.is_empty() && text.len() <= MAX_PART && text.bytes().all(is_safe) {
        out.push_str(text);
        return;
    }
    let digest = Sha256::digest(text.as_bytes());
    out.push('~');
    out.push_str(&hex(digest.iter().take(16)));
}

/// Lower-case hex of `bytes`.
fn hex<'b>(bytes: impl ExactSizeIterator<Item = &'b u8>) -> String {
    // A nibble is 0..=15 by construction (`>> 4`, `& 0x0f`): each maps to one digit.
    let digit = |nibble: u8| {
        char::from(if nibble < 10 {
            b'0' + nibble
        } else {
            b'a' + nibble - 10
        })
    };
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(digit(b >> 4));
        out.push(digit(b & 0x0f));
    }
    out
}

/// A non-empty value, for ids.
fn id(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.is_empty())
}

impl DeliveryKey {
    /// The key of `message`'s delivery. See the [module docs](crate::delivery).
    ///
    /// ```
    /// let m = ipnkit::Message::parse(b"txn_id=61E67681CH3238416&payment_status=Completed")?;
    /// let key = ipnkit::DeliveryKey::of(&m);
    /// assert_eq!(key.as_str(), "txn:61E67681CH3238416:Completed");
    /// assert_eq!(key.lookup_id(), "txn:61E67681CH3238416");
    /// assert_eq!(ipnkit::DeliveryKey::from_stored(key.as_str()), Ok(key));
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn of(m: &Message) -> DeliveryKey {
        match m.family() {
            Family::Dispute => {
                if let Some(case) = id(m.case_id()) {
                    let case_type = m.case_type().map(|t| t.as_str());
                    return DeliveryKey::stateful(Kind::Case, case, m.event().code(), case_type);
                }
            }
            // Without its status, a Pay or preapproval notification's state cannot be told: it
            // is keyed as any other message, below.
            Family::AdaptivePay => {
                if let (Some(pay_key), Some(status)) = (id(m.pay_key()), m.status()) {
                    let status = status.as_str();
                    let mut statuses = String::new();
                    for (i, t) in m.transactions().iter().enumerate() {
                        if i > 0 {
                            statuses.push(',');
                        }
                        statuses.push_str(t.status.as_ref().map_or(NO_STATUS, |s| s.as_str()));
                    }
                    let statuses = (!statuses.is_empty()).then_some(statuses.as_str());
                    return DeliveryKey::stateful(Kind::Pay, pay_key, status, statuses);
                }
            }
            Family::AdaptivePreapproval => {
                if let (Some(key), Some(status)) = (id(m.preapproval_key()), m.status()) {
                    let status = status.as_str();
                    let approved = m
                        .approved()
                        .map(|approved| if approved { "approved" } else { "not_approved" });
                    return DeliveryKey::stateful(Kind::Preapproval, key, status, approved);
                }
            }
            _ => {}
        }
        if let Some(txn_id) = id(m.txn_id()) {
            return match m.payment_status() {
                Some(status) => {
                    let reason = match (status.as_str(), m.pending_reason(), m.reason_code()) {
                        ("Pending", Some(reason), _) => Some(reason.as_str()),
                        (_, _, Some(code)) => Some(code.as_str()),
                        _ => None,
                    };
                    DeliveryKey::stateful(Kind::Txn, txn_id, status.as_str(), reason)
                }
                None => {
                    let event = format!("event.{}", m.event().code());
                    DeliveryKey::stateful(Kind::Txn, txn_id, &event, None)
                }
            };
        }
        if let Some(track) = id(m.ipn_track_id()) {
            let mut key = String::with_capacity(4 + 33);
            push_part(&mut key, track);
            return DeliveryKey::stateless(Kind::Ipn, &key);
        }
        DeliveryKey::stateless(Kind::Sum, &fingerprint(m))
    }

    /// The key of a webhook's delivery: IPN's key wherever both channels tell of the same
    /// state (see [the table](crate::webhook::event#delivery-keys-shared-with-ipn)), else
    /// `wh:<event id>`, which PayPal keeps across its redeliveries of the event.
    ///
    /// ```
    /// let body = br#"{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"61E67681CH3238416","status":"COMPLETED"}}"#;
    /// let event = ipnkit::webhook::WebhookEvent::parse(body)?;
    /// let ipn = ipnkit::Message::parse(b"txn_id=61E67681CH3238416&payment_status=Completed")?;
    /// assert_eq!(ipnkit::DeliveryKey::of_webhook(&event), ipnkit::DeliveryKey::of(&ipn));
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn of_webhook(e: &WebhookEvent) -> DeliveryKey {
        let r = &e.resource;
        match (r.kind, id(r.id.as_deref())) {
            (
                ResourceKind::Capture
                | ResourceKind::Sale
                | ResourceKind::Refund
                | ResourceKind::Authorization,
                Some(txn_id),
            ) => {
                if let Some((status, reason)) = e.payment_state() {
                    return DeliveryKey::stateful(Kind::Txn, txn_id, status.as_str(), reason);
                }
            }
            (ResourceKind::Dispute, Some(case)) => {
                return DeliveryKey::stateful(
                    Kind::Case,
                    case,
                    e.event.code(),
                    r.case_type.as_ref().map(|t| t.as_str()),
                );
            }
            _ => {}
        }
        let mut key = String::with_capacity(40);
        push_part(&mut key, &e.id);
        DeliveryKey::stateless(Kind::Webhook, &key)
    }

    /// `kind:id:first[/second]`, each part written by [`push_part`], in one string.
    fn stateful(kind: Kind, id: &str, first: &str, second: Option<&str>) -> DeliveryKey {
        let mut key = String::with_capacity(64);
        key.push_str(kind.prefix());
        key.push(':');
        push_part(&mut key, id);
        let lookup = key.clone();
        key.push(':');
        push_part(&mut key, first);
        if let Some(second) = second {
            key.push('/');
            push_part(&mut key, second);
        }
        DeliveryKey { key, lookup }
    }

    fn stateless(kind: Kind, id: &str) -> DeliveryKey {
        let key = format!("{}:{id}", kind.prefix());
        DeliveryKey {
            lookup: key.clone(),
            key,
        }
    }

    /// Reads back a key the host stored (from [`as_str`](DeliveryKey::as_str)).
    /// `invalid_delivery_key` when the text is not a key this version makes: a stored value that
    /// was altered, or written by something else, is never guessed at.
    pub fn from_stored(text: &str) -> Result<DeliveryKey, Error> {
        let invalid = || Error::InvalidDeliveryKey;
        if text.len() > MAX_KEY_LEN {
            return Err(invalid());
        }
        let (prefix, rest) = text.split_once(':').ok_or_else(invalid)?;
        let kind = Kind::of_prefix(prefix).ok_or_else(invalid)?;
        let word = |w: &str| {
            let plain = w.bytes().all(is_safe);
            let hashed = w
                .strip_prefix('~')
                .is_some_and(|h| h.len() == 32 && h.bytes().all(|b| b.is_ascii_hexdigit()));
            !w.is_empty() && w.len() <= MAX_PART && (plain || hashed)
        };
        if !kind.has_state() {
            let valid = match kind {
                Kind::Sum => rest.strip_prefix("v1-").is_some_and(|h| {
                    h.len() == 64 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                }),
                _ => word(rest),
            };
            return if valid {
                Ok(DeliveryKey {
                    key: text.to_owned(),
                    lookup: text.to_owned(),
                })
            } else {
                Err(invalid())
            };
        }
        let (id, state) = rest.split_once(':').ok_or_else(invalid)?;
        let words: Vec<&str> = state.split('/').collect();
        if !word(id) || words.len() > 2 || !words.iter().all(|w| word(w)) {
            return Err(invalid());
        }
        Ok(DeliveryKey {
            key: text.to_owned(),
            lookup: format!("{prefix}:{id}"),
        })
    }

    /// The whole key: unique per delivery.
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// What the host looks stored keys up by: the transaction, case, payment or preapproval
    /// (`txn:<txn_id>`, `case:<case_id>`…), or the key itself when it has no state.
    pub fn lookup_id(&self) -> &str {
        &self.lookup
    }

    /// The state part of the key (`Completed`, `Pending/echeck`, `dispute_opened/chargeback`),
    /// if any.
    pub fn state(&self) -> Option<&str> {
        self.key
            .strip_prefix(self.lookup.as_str())?
            .strip_prefix(':')
    }

    fn kind(&self) -> Option<Kind> {
        let prefix = self.key.split(':').next()?;
        Kind::of_prefix(prefix)
    }

    /// Where the state stands in its kind's order; `None` when it has no place there.
    fn rank(&self) -> Option<u8> {
        let first = self.state()?.split('/').next()?;
        self.kind()?.rank(first)
    }
}

impl fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

/// The fingerprint of a message nothing else identifies: SHA-256 over a version tag and every
/// variable but `verify_sign` and `resend`, in order, each key and value preceded by its length
/// (so that `a%3Db=c` and `a=b%3Dc` differ).
///
/// The bytes are written into one buffer and hashed in one call: the same digest as feeding
/// them piece by piece, without a call into the hasher's buffering for each of the ~160 pieces
/// of a message (a third of a subscription message's `parse` in the wasm build).
fn fingerprint(m: &Message) -> String {
    const TAG: &[u8] = b"ipnkit delivery fingerprint v1\n";
    let mut preimage = Vec::with_capacity(2048); // a message is rarely longer
    preimage.extend_from_slice(TAG);
    for f in m.variables() {
        if f.key == "verify_sign" || f.key == "resend" {
            continue;
        }
        for text in [f.key, f.value] {
            preimage.extend_from_slice(&(text.len() as u64).to_be_bytes());
            preimage.extend_from_slice(text.as_bytes());
        }
    }
    format!("v1-{}", hex(Sha256::digest(&preimage).iter()))
}

/// What a delivery is, given what the host stored. See the [module docs](crate::delivery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Delivery {
    /// Never seen: act on it.
    New,
    /// Seen already (a retry, or a resend): answer 200 and do nothing else.
    Duplicate,
    /// Known, in another state no later than this one: act on the new state.
    Transition {
        /// The latest state stored.
        from: String,
        /// The state of this delivery.
        to: String,
    },
    /// Known, in a later state already: this delivery is out of date. Do not act.
    Stale {
        /// The latest state stored.
        from: String,
        /// The state of this delivery (earlier than `from`).
        to: String,
    },
}

codes! {
    /// The kind of a [`Delivery`], without its states.
    pub enum DeliveryKind / DELIVERY_CODES {
        /// [`Delivery::New`].
        New = "new",
        /// [`Delivery::Duplicate`].
        Duplicate = "duplicate",
        /// [`Delivery::Transition`].
        Transition = "transition",
        /// [`Delivery::Stale`].
        Stale = "stale",
    }
}

impl Delivery {
    /// The kind, as its enum.
    pub fn kind(&self) -> DeliveryKind {
        match self {
            Delivery::New => DeliveryKind::New,
            Delivery::Duplicate => DeliveryKind::Duplicate,
            Delivery::Transition { .. } => DeliveryKind::Transition,
            Delivery::Stale { .. } => DeliveryKind::Stale,
        }
    }

    /// `new`, `duplicate`, `transition` or `stale`.
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// Whether the host acts on this delivery (`New` or `Transition`).
    pub fn is_actionable(&self) -> bool {
        matches!(self, Delivery::New | Delivery::Transition { .. })
    }
}

/// Classifies `message`'s delivery against the keys the host stored under the same
/// [`lookup_id`](DeliveryKey::lookup_id), oldest first.
///
/// ```
/// use ipnkit::{Delivery, DeliveryKey, Message, classify};
/// let pending = Message::parse(b"txn_id=T1&payment_status=Pending&pending_reason=echeck")?;
/// let completed = Message::parse(b"txn_id=T1&payment_status=Completed")?;
/// let stored = vec![DeliveryKey::of(&pending)];
/// assert_eq!(classify(&pending, &stored), Delivery::Duplicate);
/// assert_eq!(
///     classify(&completed, &stored),
///     Delivery::Transition { from: "Pending/echeck".into(), to: "Completed".into() }
/// );
/// // The pending notification delivered late, after the completion.
/// let late = Message::parse(b"txn_id=T1&payment_status=Pending&pending_reason=paymentreview")?;
/// assert_eq!(
///     classify(&late, &[DeliveryKey::of(&completed)]),
///     Delivery::Stale { from: "Completed".into(), to: "Pending/paymentreview".into() }
/// );
/// # Ok::<(), ipnkit::Error>(())
/// ```
pub fn classify(message: &Message, stored: &[DeliveryKey]) -> Delivery {
    classify_key(&DeliveryKey::of(message), stored)
}

/// What a delivery with this key is, given the keys stored under its lookup id (either
/// channel's: an IPN and a webhook about the same state have the same key).
pub(crate) fn classify_key(key: &DeliveryKey, stored: &[DeliveryKey]) -> Delivery {
    if stored.iter().any(|s| s.as_str() == key.as_str()) {
        return Delivery::Duplicate;
    }
    let same = || stored.iter().filter(|s| s.lookup_id() == key.lookup_id());
    // The latest state stored: the highest in the order, the last stored among equals (and the
    // last stored when no state has a place in the order).
    let Some(latest) = same()
        .enumerate()
        .max_by_key(|(i, s)| (s.rank(), *i))
        .map(|(_, s)| s)
    else {
        return Delivery::New;
    };
    let (Some(this), Some(from)) = (key.state(), latest.state()) else {
        return Delivery::New;
    };
    match (key.rank(), latest.rank()) {
        (Some(this_rank), Some(latest_rank)) if this_rank < latest_rank => Delivery::Stale {
            from: from.to_owned(),
            to: this.to_owned(),
        },
        _ => Delivery::Transition {
            from: from.to_owned(),
            to: this.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(body: &str) -> Message {
        Message::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    fn key(body: &str) -> DeliveryKey {
        DeliveryKey::of(&m(body))
    }

    const COMPLETED: &str =
        "txn_id=T1&payment_status=Completed&mc_gross=5.00&verify_sign=A1&ipn_track_id=aa1";

    #[test]
    fn the_same_delivery_again_is_a_duplicate() {
        let stored = vec![key(COMPLETED)];
        assert_eq!(classify(&m(COMPLETED), &stored), Delivery::Duplicate);
        // A resend from the IPN history: resend=true and a new verify_sign.
        let resent = COMPLETED.replace("verify_sign=A1", "verify_sign=B2") + "&resend=true";
        assert_eq!(classify(&m(&resent), &stored), Delivery::Duplicate);
    }

    #[test]
    fn a_replayed_old_transaction_is_a_duplicate() {
        let stored = vec![
            key("txn_id=T1&payment_status=Pending&pending_reason=echeck"),
            key(COMPLETED),
        ];
        let replay = m("txn_id=T1&payment_status=Pending&pending_reason=echeck&verify_sign=OLD");
        assert_eq!(classify(&replay, &stored), Delivery::Duplicate);
    }

    #[test]
    fn pending_then_completed_is_a_transition() {
        let stored = vec![key("txn_id=T1&payment_status=Pending")];
        assert_eq!(
            classify(&m(COMPLETED), &stored),
            Delivery::Transition {
                from: "Pending".into(),
                to: "Completed".into()
            }
        );
        assert_eq!(classify(&m(COMPLETED), &[]), Delivery::New);
    }

    #[test]
    fn a_new_pending_reason_is_a_transition_not_a_duplicate() {
        let stored = vec![key(
            "txn_id=T1&payment_status=Pending&pending_reason=paymentreview",
        )];
        let echeck = m("txn_id=T1&payment_status=Pending&pending_reason=echeck");
        assert_eq!(
            classify(&echeck, &stored),
            Delivery::Transition {
                from: "Pending/paymentreview".into(),
                to: "Pending/echeck".into()
            }
        );
        // A reason code under the same status, likewise.
        let stored = vec![key(
            "txn_id=R1&payment_status=Reversed&reason_code=chargeback",
        )];
        let other = m("txn_id=R1&payment_status=Reversed&reason_code=buyer_complaint");
        assert_eq!(classify(&other, &stored).code(), "transition");
    }

    #[test]
    fn pending_after_completed_is_stale() {
        let stored = vec![
            key("txn_id=T1&payment_status=Pending&pending_reason=echeck"),
            key(COMPLETED),
        ];
        let late = m("txn_id=T1&payment_status=Pending&pending_reason=paymentreview");
        let delivery = classify(&late, &stored);
        assert_eq!(
            delivery,
            Delivery::Stale {
                from: "Completed".into(),
                to: "Pending/paymentreview".into()
            }
        );
        assert!(!delivery.is_actionable());
        // Stored out of order, the order of states still decides.
        let stored = vec![key(COMPLETED), key("txn_id=T1&payment_status=Pending")];
        assert_eq!(
            classify(&m("txn_id=T1&payment_status=Refunded"), &stored),
            Delivery::Transition {
                from: "Completed".into(),
                to: "Refunded".into()
            }
        );
        // A status PayPal never documented has no place in the order: never stale.
        assert_eq!(
            classify(&m("txn_id=T1&payment_status=Completed_Funds_Held"), &stored).code(),
            "transition"
        );
    }

    #[test]
    fn a_refund_is_its_own_new_transaction() {
        let stored = vec![key(COMPLETED)];
        let refund = m("txn_id=R9&parent_txn_id=T1&payment_status=Refunded&mc_gross=-5.00");
        assert_eq!(classify(&refund, &stored), Delivery::New);
        assert_eq!(DeliveryKey::of(&refund).lookup_id(), "txn:R9");
    }

    #[test]
    fn disputes_are_keyed_by_case() {
        let first = m("txn_type=new_case&txn_id=T1&case_id=C1&case_type=complaint");
        let second = m("txn_type=new_case&txn_id=T1&case_id=C2&case_type=chargeback");
        let k1 = DeliveryKey::of(&first);
        assert_eq!(k1.as_str(), "case:C1:dispute_opened/complaint");
        // A second case on the same transaction is not a duplicate of the first.
        assert_eq!(classify(&second, std::slice::from_ref(&k1)), Delivery::New);
        // Nor is a dispute a transition of the payment it is about.
        assert_eq!(classify(&first, &[key(COMPLETED)]), Delivery::New);
        // Resolved after opened: a transition; opened after resolved: stale.
        let resolved = m(
            "txn_type=adjustment&txn_id=A1&case_id=C1&case_type=complaint&payment_status=Completed",
        );
        assert_eq!(
            classify(&resolved, std::slice::from_ref(&k1)),
            Delivery::Transition {
                from: "dispute_opened/complaint".into(),
                to: "dispute_resolved/complaint".into()
            }
        );
        assert_eq!(
            classify(&first, &[DeliveryKey::of(&resolved)]).code(),
            "stale"
        );
        // A chargeback notification without txn_type is a dispute too.
        assert_eq!(
            key("case_type=chargeback&case_id=C3&txn_id=T1").as_str(),
            "case:C3:dispute_opened/chargeback"
        );
    }

    #[test]
    fn adaptive_payments_are_keyed_by_pay_key_and_status() {
        let pay = |status: &str, tx: &str| {
            m(&format!(
                "transaction_type=Adaptive+Payment+PAY&pay_key=AP-1&status={status}\
                 &transaction%5B0%5D.status={tx}&transaction%5B1%5D.status=Completed"
            ))
        };
        let created = DeliveryKey::of(&pay("CREATED", "Pending"));
        assert_eq!(created.as_str(), "pay:AP-1:CREATED/Pending,Completed");
        let completed = pay("COMPLETED", "Completed");
        assert_eq!(
            classify(&completed, std::slice::from_ref(&created)).code(),
            "transition"
        );
        assert_eq!(
            classify(&pay("CREATED", "Pending"), &[DeliveryKey::of(&completed)]).code(),
            "stale"
        );
        // The same Pay request with other content is still the same key: not a content hash.
        let again = m(
            "transaction_type=Adaptive+Payment+PAY&pay_key=AP-1&status=COMPLETED\
             &transaction%5B0%5D.status=Completed&transaction%5B1%5D.status=Completed&memo=x",
        );
        assert_eq!(
            classify(&again, &[DeliveryKey::of(&completed)]),
            Delivery::Duplicate
        );
        let pre = key(
            "transaction_type=Adaptive+Payment+PREAPPROVAL&preapproval_key=PA-1&status=ACTIVE&approved=true",
        );
        assert_eq!(pre.as_str(), "preapproval:PA-1:ACTIVE/approved");
        // A transaction without a status says so in the list; a Pay request or preapproval
        // without its own status cannot be placed in its order: keyed as any other message.
        let partial = key(
            "transaction_type=Adaptive+Payment+PAY&pay_key=AP-1&status=COMPLETED\
             &transaction%5B0%5D.status=Completed&transaction%5B1%5D.receiver=a%40b.c",
        );
        assert_eq!(partial.as_str(), "pay:AP-1:COMPLETED/Completed,-");
        for body in [
            "transaction_type=Adaptive+Payment+PAY&pay_key=AP-1&ipn_track_id=t1",
            "transaction_type=Adaptive+Payment+PREAPPROVAL&preapproval_key=PA-1&ipn_track_id=t1",
        ] {
            assert_eq!(key(body).as_str(), "ipn:t1", "{body}");
        }
    }

    #[test]
    fn notifications_without_a_status_are_keyed_by_event() {
        let k = key("txn_type=new_case&txn_id=T1");
        assert_eq!(k.as_str(), "txn:T1:event.dispute_opened");
    }

    #[test]
    fn masspay_and_others_without_txn_id_are_keyed_by_track_id() {
        let mp = m(
            "txn_type=masspay&payment_status=Processed&ipn_track_id=89f7ff244947f&masspay_txn_id_1=X",
        );
        let k = DeliveryKey::of(&mp);
        assert_eq!(
            (k.as_str(), k.lookup_id(), k.state()),
            ("ipn:89f7ff244947f", "ipn:89f7ff244947f", None)
        );
        assert_eq!(classify(&mp, std::slice::from_ref(&k)), Delivery::Duplicate);
        assert_eq!(classify(&mp, &[]), Delivery::New);
    }

    #[test]
    fn without_txn_id_or_track_id_the_content_is_the_key() {
        let a = m("txn_type=subscr_signup&subscr_id=S1&verify_sign=A");
        let resent = m("txn_type=subscr_signup&subscr_id=S1&verify_sign=B&resend=true");
        let other = m("txn_type=subscr_cancel&subscr_id=S1&verify_sign=A");
        let k = DeliveryKey::of(&a);
        assert!(k.as_str().starts_with("sum:v1-"), "{k}");
        assert_eq!(k.as_str().len(), 71);
        assert_eq!(k, DeliveryKey::of(&resent));
        assert_ne!(k, DeliveryKey::of(&other));
        assert_eq!(classify(&resent, &[k]), Delivery::Duplicate);
    }

    #[test]
    fn the_fingerprint_is_framed_and_fixed() {
        // `a%3Db=c` is (a=b, c); `a=b%3Dc` is (a, b=c): joined without framing they would agree.
        assert_ne!(key("a%3Db=c"), key("a=b%3Dc"));
        assert_ne!(key("ab=c"), key("a=bc"));
        // The fingerprint is SHA-256 of a documented framing, not a speed hash that may change:
        // this value is a promise to every stored key. Computed independently with Python:
        // hashlib.sha256(b"ipnkit delivery fingerprint v1\n" + for each of "custom", "1":
        // struct.pack(">Q", len) + bytes).hexdigest()
        assert_eq!(
            key("custom=1").as_str(),
            "sum:v1-800bf7b7aedf605c60cb434712b4ac4e5db5a64420e200269b3b7a954c8fd764"
        );
    }

    #[test]
    fn odd_ids_are_hashed_and_still_round_trip() {
        for body in [
            "txn_id=A%3AB&payment_status=Completed",
            "txn_id=A%2FB&payment_status=Completed",
            "txn_id=A+B&payment_status=Pending&pending_reason=Weird+Reason",
            "txn_id=%C3%A9&payment_status=Completed&charset=UTF-8",
            "ipn_track_id=x%3Ay",
        ] {
            let k = key(body);
            assert!(k.as_str().contains('~'), "{k}");
            assert_eq!(
                DeliveryKey::from_stored(k.as_str()),
                Ok(k.clone()),
                "{body}"
            );
        }
        // Two ids that differ only where a `:` was are two keys.
        assert_ne!(
            key("txn_id=A%3AB&payment_status=Completed"),
            key("txn_id=A%3AC&payment_status=Completed")
        );
        let long = format!("txn_id={}&payment_status=Completed", "X".repeat(65));
        assert!(key(&long).as_str().len() < MAX_KEY_LEN);
    }

    #[test]
    fn stored_text_that_is_not_a_key_is_refused() {
        for text in [
            "",
            "txn",
            "txn:T1",
            "txn:T1:",
            "txn::Completed",
            "txn:T1:Completed/a/b",
            "txn:T:1:Completed",
            "txn:T1:event=dispute_opened",
            "card:T1:Completed",
            "ipn:",
            "ipn:a:b",
            "sum:0123",
            "sum:v1-XYZ",
            "txn:~abc:Completed",
        ] {
            assert_eq!(
                DeliveryKey::from_stored(text),
                Err(Error::InvalidDeliveryKey),
                "{text:?}"
            );
        }
        let long = format!("ipn:{}", "a".repeat(MAX_KEY_LEN));
        assert_eq!(
            DeliveryKey::from_stored(&long),
            Err(Error::InvalidDeliveryKey)
        );
    }

    #[test]
    fn codes_and_serde() {
        assert_eq!(Delivery::Duplicate.code(), "duplicate");
        let all = [
            Delivery::New,
            Delivery::Duplicate,
            Delivery::Transition {
                from: String::new(),
                to: String::new(),
            },
            Delivery::Stale {
                from: String::new(),
                to: String::new(),
            },
        ];
        let codes: Vec<_> = all.iter().map(Delivery::code).collect();
        assert_eq!(codes, DELIVERY_CODES);
        assert_eq!(
            serde_json::to_string(&Delivery::Stale {
                from: "Completed".into(),
                to: "Pending".into()
            })
            .ok()
            .as_deref(),
            // The same names as a transition's, in every host (Node and PHP read `from` and
            // `to`; a stale delivery once said `latest` and `this`, and read as nulls there).
            Some(r#"{"kind":"stale","from":"Completed","to":"Pending"}"#)
        );
    }

    /// Any text, biased toward what breaks framing: `:` `/` `~` `%` `=` `&`, spaces, non-ASCII.
    fn text() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[A-Za-z0-9:/~%=&. _,\\-é€]{0,80}")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn escape(s: &str) -> String {
        s.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn every_key_reads_back_and_fits_its_column(
            family in 0usize..6,
            ident in text(),
            status in text(),
            reason in text(),
            extra in text(),
        ) {
            let (ident, status, reason, extra) =
                (escape(&ident), escape(&status), escape(&reason), escape(&extra));
            let body = match family {
                0 => format!("txn_id={ident}&payment_status={status}&pending_reason={reason}&reason_code={extra}"),
                1 => format!("txn_type=new_case&txn_id=T&case_id={ident}&case_type={status}"),
                2 => format!("transaction_type=Adaptive+Payment+PAY&pay_key={ident}&status={status}\
                              &transaction%5B0%5D.status={reason}&transaction%5B3%5D.status={extra}"),
                3 => format!("transaction_type=Adaptive+Payment+PREAPPROVAL&preapproval_key={ident}&status={status}"),
                4 => format!("txn_type=masspay&ipn_track_id={ident}&x={status}"),
                _ => format!("custom={ident}&{}={status}", if reason.is_empty() { "y".into() } else { reason }),
            };
            let body = format!("charset=UTF-8&{body}");
            let m = Message::parse(body.as_bytes());
            prop_assume!(m.is_ok());
            let m = m.unwrap_or_else(|e| panic!("{e}"));
            let k = DeliveryKey::of(&m);
            prop_assert_eq!(DeliveryKey::from_stored(k.as_str()), Ok(k.clone()));
            prop_assert!(k.as_str().len() <= MAX_KEY_LEN, "{}", k);
            prop_assert!(k.as_str().is_ascii());
            prop_assert_eq!(classify(&m, std::slice::from_ref(&k)), Delivery::Duplicate);
        }
    }
}
