//! Duplicates and status transitions, without storage: the host keeps a little state per
//! transaction and asks [`classify`] what a new delivery is.
//!
//! PayPal delivers a notification until the listener answers 200, retries for days, and sends
//! it again when the merchant clicks "resend" in the IPN history (with `resend=true` and a new
//! `verify_sign`). A transaction also changes status over several notifications (`Pending` →
//! `Completed`), and a refund or reversal arrives as a notification of its own, with its own
//! `txn_id` and the original's in `parent_txn_id`. So a listener must tell:
//!
//! | [`Delivery`] | when | what to do |
//! |---|---|---|
//! | `New` | nothing stored under this message's [`lookup_id`](DeliveryKey::lookup_id) | act, then store the key |
//! | `Duplicate` | this very [`DeliveryKey`] is stored | answer 200, do nothing else |
//! | `Transition { from, to }` | the transaction is stored, with another status | act on the new status, then store the key |
//!
//! ## What the host stores
//!
//! For each delivery it has acted on: the key's [`lookup_id`](DeliveryKey::lookup_id) (indexed)
//! and the key itself ([`as_str`](DeliveryKey::as_str), unique), and optionally the raw body.
//! Before acting on a new message it loads the keys stored under the same `lookup_id`, oldest
//! first, and passes them to [`classify`]. Storing the key in the same database transaction as
//! the action makes a crash between the two harmless: PayPal's retry is then a duplicate.
//!
//! ## Keys
//!
//! - With a `txn_id`: `txn:<txn_id>:<payment_status>` (`Pending` and `Completed` are two
//!   deliveries of one transaction); without a status, the event stands in for it
//!   (`txn:<txn_id>:event=dispute_opened`), so that opening and resolving a dispute on the same
//!   transaction are two deliveries.
//! - Without `txn_id` (Mass Pay, subscription sign-ups, recurring profiles…): `ipn:<ipn_track_id>`,
//!   which PayPal keeps across retries and resends.
//! - With neither (old or hand-made messages): `sum:<hex>`, a fingerprint of every variable but
//!   `verify_sign` and `resend`, which differ between a message and its resend.

use std::fmt;

use serde::Serialize;

use crate::decode::hash;
use crate::message::Message;

/// The identity of one delivery, stable across PayPal's retries and resends.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct DeliveryKey {
    key: String,
    lookup_len: usize,
}

impl DeliveryKey {
    /// The key of `message`'s delivery.
    ///
    /// ```
    /// let m = ipnkit::Message::parse(b"txn_id=61E67681CH3238416&payment_status=Completed")?;
    /// let key = ipnkit::DeliveryKey::of(&m);
    /// assert_eq!(key.as_str(), "txn:61E67681CH3238416:Completed");
    /// assert_eq!(key.lookup_id(), "txn:61E67681CH3238416");
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn of(m: &Message) -> DeliveryKey {
        if let Some(txn_id) = m.txn_id().filter(|t| !t.is_empty()) {
            let lookup = format!("txn:{txn_id}");
            let state = match m.payment_status() {
                Some(status) => status.as_str().to_owned(),
                None => format!("event={}", m.event().code()),
            };
            return DeliveryKey::new(lookup, Some(&state));
        }
        if let Some(track) = m.ipn_track_id().filter(|t| !t.is_empty()) {
            return DeliveryKey::new(format!("ipn:{track}"), None);
        }
        let mut sum: u64 = 0;
        for f in m.variables() {
            if f.key != "verify_sign" && f.key != "resend" {
                // Order-sensitive: mix each pair into the running value.
                sum = hash(&format!("{sum:016x}{}={}", f.key, f.value));
            }
        }
        DeliveryKey::new(format!("sum:{sum:016x}"), None)
    }

    fn new(lookup: String, state: Option<&str>) -> DeliveryKey {
        let lookup_len = lookup.len();
        let key = match state {
            Some(state) => format!("{lookup}:{state}"),
            None => lookup,
        };
        DeliveryKey { key, lookup_len }
    }

    /// Rebuilds a key the host stored (from [`as_str`](DeliveryKey::as_str)).
    pub fn from_stored(text: &str) -> DeliveryKey {
        let lookup_len = match text.strip_prefix("txn:") {
            Some(rest) => rest.find(':').map_or(text.len(), |i| i + 4),
            None => text.len(),
        };
        DeliveryKey {
            key: text.to_owned(),
            lookup_len,
        }
    }

    /// The whole key: unique per delivery.
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// What the host looks stored keys up by: the transaction (`txn:<txn_id>`), or the key
    /// itself when there is no transaction.
    pub fn lookup_id(&self) -> &str {
        self.key.get(..self.lookup_len).unwrap_or(&self.key)
    }

    /// The status part of a transaction's key (`Completed`, `event=dispute_opened`), if any.
    pub fn state(&self) -> Option<&str> {
        self.key.get(self.lookup_len..)?.strip_prefix(':')
    }
}

impl fmt::Display for DeliveryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key)
    }
}

/// What a delivery is, given what the host stored. See the [module docs](crate::delivery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivery {
    /// Never seen: act on it.
    New,
    /// Seen already (a retry, or a resend): answer 200 and do nothing else.
    Duplicate,
    /// A known transaction in a new status: act on the new status.
    Transition {
        /// The status stored last.
        from: String,
        /// The status of this delivery.
        to: String,
    },
}

impl Delivery {
    /// `new`, `duplicate` or `transition`.
    pub fn code(&self) -> &'static str {
        match self {
            Delivery::New => "new",
            Delivery::Duplicate => "duplicate",
            Delivery::Transition { .. } => "transition",
        }
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
///     Delivery::Transition { from: "Pending".into(), to: "Completed".into() }
/// );
/// # Ok::<(), ipnkit::Error>(())
/// ```
pub fn classify(message: &Message, stored: &[DeliveryKey]) -> Delivery {
    let key = DeliveryKey::of(message);
    if stored.iter().any(|s| s.as_str() == key.as_str()) {
        return Delivery::Duplicate;
    }
    let last = stored
        .iter()
        .rev()
        .find(|s| s.lookup_id() == key.lookup_id());
    match (last, key.state()) {
        (Some(last), Some(to)) => Delivery::Transition {
            from: last.state().unwrap_or_default().to_owned(),
            to: to.to_owned(),
        },
        _ => Delivery::New,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(body: &str) -> Message {
        Message::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    const COMPLETED: &str =
        "txn_id=T1&payment_status=Completed&mc_gross=5.00&verify_sign=A1&ipn_track_id=aa1";

    #[test]
    fn the_same_delivery_again_is_a_duplicate() {
        let stored = vec![DeliveryKey::of(&m(COMPLETED))];
        assert_eq!(classify(&m(COMPLETED), &stored), Delivery::Duplicate);
        // A resend from the IPN history: resend=true and a new verify_sign.
        let resent = COMPLETED.replace("verify_sign=A1", "verify_sign=B2") + "&resend=true";
        assert_eq!(classify(&m(&resent), &stored), Delivery::Duplicate);
    }

    #[test]
    fn a_replayed_old_transaction_is_a_duplicate() {
        let stored = vec![
            DeliveryKey::of(&m("txn_id=T1&payment_status=Pending&pending_reason=echeck")),
            DeliveryKey::of(&m(COMPLETED)),
        ];
        let replay = m("txn_id=T1&payment_status=Pending&pending_reason=echeck&verify_sign=OLD");
        assert_eq!(classify(&replay, &stored), Delivery::Duplicate);
    }

    #[test]
    fn pending_then_completed_is_a_transition() {
        let stored = vec![DeliveryKey::of(&m("txn_id=T1&payment_status=Pending"))];
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
    fn a_refund_is_its_own_new_transaction() {
        let stored = vec![DeliveryKey::of(&m(COMPLETED))];
        let refund = m("txn_id=R9&parent_txn_id=T1&payment_status=Refunded&mc_gross=-5.00");
        assert_eq!(classify(&refund, &stored), Delivery::New);
        assert_eq!(refund.parent_txn_id(), Some("T1"));
        // Stored under the original's lookup id, it is not confused with the original either.
        assert_eq!(DeliveryKey::of(&refund).lookup_id(), "txn:R9");
    }

    #[test]
    fn notifications_without_a_status_are_keyed_by_event() {
        let opened = m("txn_type=new_case&txn_id=T1&case_id=C1&case_type=complaint");
        let key = DeliveryKey::of(&opened);
        assert_eq!(key.as_str(), "txn:T1:event=dispute_opened");
        let stored = vec![DeliveryKey::of(&m(COMPLETED))];
        assert_eq!(
            classify(&opened, &stored),
            Delivery::Transition {
                from: "Completed".into(),
                to: "event=dispute_opened".into()
            }
        );
    }

    #[test]
    fn masspay_and_others_without_txn_id_are_keyed_by_track_id() {
        let mp = m(
            "txn_type=masspay&payment_status=Processed&ipn_track_id=89f7ff244947f&masspay_txn_id_1=X",
        );
        let key = DeliveryKey::of(&mp);
        assert_eq!(
            (key.as_str(), key.lookup_id(), key.state()),
            ("ipn:89f7ff244947f", "ipn:89f7ff244947f", None)
        );
        assert_eq!(
            classify(&mp, std::slice::from_ref(&key)),
            Delivery::Duplicate
        );
        assert_eq!(classify(&mp, &[]), Delivery::New);
    }

    #[test]
    fn without_txn_id_or_track_id_the_content_is_the_key() {
        let a = m("txn_type=subscr_signup&subscr_id=S1&verify_sign=A");
        let resent = m("txn_type=subscr_signup&subscr_id=S1&verify_sign=B&resend=true");
        let other = m("txn_type=subscr_cancel&subscr_id=S1&verify_sign=A");
        let key = DeliveryKey::of(&a);
        assert!(key.as_str().starts_with("sum:"));
        assert_eq!(key, DeliveryKey::of(&resent));
        assert_ne!(key, DeliveryKey::of(&other));
        assert_eq!(classify(&resent, &[key]), Delivery::Duplicate);
    }

    #[test]
    fn stored_keys_round_trip() {
        for body in [
            COMPLETED,
            "txn_type=masspay&ipn_track_id=t",
            "txn_type=new_case&txn_id=T1",
        ] {
            let key = DeliveryKey::of(&m(body));
            let back = DeliveryKey::from_stored(key.as_str());
            assert_eq!(back, key);
            assert_eq!(back.lookup_id(), key.lookup_id());
        }
        assert_eq!(Delivery::Duplicate.code(), "duplicate");
        assert_eq!(
            serde_json::to_string(&Delivery::Transition {
                from: "Pending".into(),
                to: "Completed".into()
            })
            .ok()
            .as_deref(),
            Some(r#"{"kind":"transition","from":"Pending","to":"Completed"}"#)
        );
    }
}
