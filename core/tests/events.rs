//! The event table end to end: the smallest message that means each event, parsed, gives that
//! event and family (the mapping itself is tested on its own in `ipnkit::event`).

#![allow(clippy::panic)]

use ipnkit::vocab::{PendingReason, ReasonCode};
use ipnkit::{Event, Message};

/// (body, event code, family code): every event, from the smallest message that means it.
const CASES: &[(&str, &str, &str)] = &[
    (
        "txn_type=web_accept&payment_status=Completed",
        "payment_completed",
        "payment",
    ),
    (
        "txn_type=cart&payment_status=Completed",
        "payment_completed",
        "cart",
    ),
    (
        "txn_type=web_accept&for_auction=true&payment_status=Completed",
        "payment_completed",
        "auction",
    ),
    (
        "txn_type=web_accept&payment_status=Pending&pending_reason=echeck",
        "payment_pending",
        "payment",
    ),
    (
        "txn_type=web_accept&payment_status=Pending",
        "payment_pending",
        "payment",
    ),
    (
        "txn_type=web_accept&payment_status=Denied",
        "payment_denied",
        "payment",
    ),
    (
        "txn_type=web_accept&payment_status=Failed",
        "payment_failed",
        "payment",
    ),
    (
        "payment_status=Refunded&parent_txn_id=1",
        "payment_refunded",
        "payment",
    ),
    (
        "payment_status=Reversed&reason_code=chargeback",
        "payment_reversed",
        "payment",
    ),
    (
        "payment_status=Canceled_Reversal",
        "reversal_canceled",
        "payment",
    ),
    (
        "txn_type=web_accept&payment_status=Processed",
        "payment_processed",
        "payment",
    ),
    (
        "txn_type=express_checkout&payment_status=Created",
        "payment_created",
        "payment",
    ),
    (
        "txn_type=express_checkout&payment_status=Pending&pending_reason=authorization",
        "authorization_created",
        "payment",
    ),
    (
        "txn_type=express_checkout&payment_status=Pending&pending_reason=order",
        "authorization_created",
        "payment",
    ),
    (
        "txn_type=express_checkout&payment_status=Voided&auth_id=A",
        "authorization_voided",
        "payment",
    ),
    (
        "txn_type=express_checkout&payment_status=Expired&auth_id=A",
        "authorization_expired",
        "payment",
    ),
    (
        "txn_type=express_checkout&payment_status=Completed&auth_id=A",
        "capture_completed",
        "payment",
    ),
    (
        "txn_type=subscr_signup",
        "subscription_signup",
        "subscription",
    ),
    (
        "txn_type=subscr_payment&payment_status=Completed",
        "subscription_payment",
        "subscription",
    ),
    (
        "txn_type=subscr_failed",
        "subscription_failed",
        "subscription",
    ),
    (
        "txn_type=subscr_cancel",
        "subscription_cancel",
        "subscription",
    ),
    (
        "txn_type=subscr_eot",
        "subscription_end_of_term",
        "subscription",
    ),
    (
        "txn_type=subscr_modify",
        "subscription_modify",
        "subscription",
    ),
    (
        "txn_type=recurring_payment&payment_status=Completed",
        "recurring_payment",
        "recurring_payment",
    ),
    (
        "txn_type=recurring_payment_outstanding_payment",
        "recurring_payment",
        "recurring_payment",
    ),
    (
        "txn_type=recurring_payment_failed",
        "recurring_payment_failed",
        "recurring_payment",
    ),
    (
        "txn_type=recurring_payment_outstanding_payment_failed",
        "recurring_payment_failed",
        "recurring_payment",
    ),
    (
        "txn_type=recurring_payment_skipped",
        "recurring_payment_skipped",
        "recurring_payment",
    ),
    (
        "txn_type=recurring_payment_profile_created",
        "recurring_profile_created",
        "recurring_payment",
    ),
    (
        "txn_type=recurring_payment_profile_cancel",
        "recurring_profile_cancel",
        "recurring_payment",
    ),
    (
        "txn_type=recurring_payment_expired",
        "recurring_profile_expired",
        "recurring_payment",
    ),
    (
        "txn_type=recurring_payment_suspended",
        "recurring_profile_suspended",
        "recurring_payment",
    ),
    (
        "txn_type=recurring_payment_suspended_due_to_max_failed_payment",
        "recurring_profile_suspended",
        "recurring_payment",
    ),
    (
        "txn_type=mp_signup",
        "billing_agreement_created",
        "billing_agreement",
    ),
    (
        "txn_type=mp_cancel",
        "billing_agreement_cancel",
        "billing_agreement",
    ),
    (
        "txn_type=masspay&payment_status=Processed",
        "masspay",
        "masspay",
    ),
    (
        "txn_type=new_case&case_type=complaint",
        "dispute_opened",
        "dispute",
    ),
    ("case_type=chargeback&txn_id=1", "dispute_opened", "dispute"),
    (
        "txn_type=adjustment&payment_status=Completed",
        "dispute_resolved",
        "dispute",
    ),
    (
        "transaction_type=Adaptive+Payment+PAY&status=COMPLETED",
        "adaptive_payment",
        "adaptive_pay",
    ),
    (
        "transaction_type=Adaptive+Payment+PREAPPROVAL&status=ACTIVE",
        "adaptive_preapproval",
        "adaptive_preapproval",
    ),
    (
        "transaction_type=Adaptive+Payment+REFUND",
        "unknown",
        "adaptive_pay",
    ),
    ("account_key=AK-1", "account_created", "adaptive_account"),
    (
        "txn_type=web_accept&payment_status=Completed_Funds_Held",
        "unknown",
        "payment",
    ),
    ("txn_type=web_accept", "unknown", "payment"),
    (
        "txn_type=brand_new_type&payment_status=Completed",
        "payment_completed",
        "payment",
    ),
    ("custom=1", "unknown", "unknown"),
];

#[test]
fn every_event_and_family_has_a_message_that_means_it() {
    let mut seen_events = Vec::new();
    for (body, event, family) in CASES {
        let m = Message::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"));
        assert_eq!(
            (m.event().code(), m.family().code()),
            (*event, *family),
            "{body}"
        );
        seen_events.push(m.event().code());
    }
    // Webhook-only events: core/tests/webhooks.rs has a case for each.
    for code in ipnkit::EventCode::ALL.iter().filter(|c| !c.webhook_only()) {
        assert!(seen_events.contains(&code.code()), "no case for {code}");
    }
}

#[test]
fn events_carry_their_reason() {
    let m = Message::parse(b"payment_status=Pending&pending_reason=multi_currency").ok();
    assert_eq!(
        m.map(|m| m.event().clone()),
        Some(Event::PaymentPending {
            reason: Some(PendingReason::MultiCurrency)
        })
    );
    let m = Message::parse(b"payment_status=Reversed&reason_code=buyer_complaint").ok();
    assert_eq!(
        m.map(|m| m.event().clone()),
        Some(Event::PaymentReversed {
            reason: Some(ReasonCode::BuyerComplaint)
        })
    );
}
