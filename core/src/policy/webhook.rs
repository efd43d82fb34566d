//! The rules for a verified webhook: the same table as IPN's ([`rules_of`]), read from the
//! resource.
//!
//! - **Receiver**: the resource's payee (`payee.merchant_id`, else `payee.email_address`)
//!   against the configured receivers, as IPN's `receiver_id` / `receiver_email`. A resource
//!   that names no payee (v1 sales, subscriptions, disputes) is this merchant's by the
//!   signature itself: PayPal signs over the webhook id, which belongs to this merchant's app.
//! - **Amount and currency**: the resource's `amount` against the order, for the events that
//!   carry one ([`expects_amount`](super::expects_amount)).
//! - **Environment**: judged by the verification (the certificate's name and the URL's host are
//!   the configured environment's), not by the event.
//! - **Final status**: IPN's `payment_status` for the same state
//!   ([`WebhookEvent::payment_state`]) against the policy's final statuses.

use super::{
    AmountCheck, AmountRule, Carried, Expected, Finality, Policy, ReceiverRule, Report,
    ViolationCode, judge_money, known_text, rules_of,
};
use crate::vocab::{PaymentStatus, PendingReason};
use crate::webhook::WebhookEvent;

const AMOUNT: &str = "resource.amount.value";
const CURRENCY: &str = "resource.amount.currency_code";

impl Policy {
    /// Checks a webhook PayPal's signature vouched for: how the amount was judged, or the
    /// report of every rule broken.
    pub(crate) fn check_webhook(
        &self,
        e: &WebhookEvent,
        expected: &Expected,
    ) -> Result<AmountCheck, Report> {
        let (receiver, amount, finality) = rules_of(&e.event);
        let mut report = Report::default();
        if receiver != ReceiverRule::None {
            self.check_payee(e, &mut report);
        }
        let judged = check_money(e, expected, amount, &mut report);
        self.check_state(e, finality, &mut report);
        match judged {
            Some(judged) if report.is_accept() => Ok(judged),
            _ => Err(report),
        }
    }

    fn check_payee(&self, e: &WebhookEvent, report: &mut Report) {
        let r = &e.resource;
        if r.payee_merchant_id.is_none() && r.payee_email.is_none() {
            return;
        }
        if self.receiver_emails.is_empty() && self.receiver_ids.is_empty() {
            report.push(ViolationCode::ReceiverNotConfigured, None);
            return;
        }
        self.check_party(
            r.payee_merchant_id.as_deref(),
            [r.payee_email.as_deref(), None],
            ("resource.payee.merchant_id", "resource.payee.email_address"),
            report,
        );
    }

    fn check_state(&self, e: &WebhookEvent, finality: Finality, report: &mut Report) {
        match finality {
            // Adaptive Payments have no webhook; their rows are IPN's only.
            Finality::AsItIs | Finality::Adaptive => {}
            Finality::Payment => match e.payment_state() {
                Some((status, _)) if self.final_statuses.contains(&status) => {}
                Some((status, reason)) => {
                    report.status_not_final("event_type", detail(&status, reason));
                }
                None => report.push(ViolationCode::MissingField, Some("resource.status")),
            },
            Finality::Never => report.push(ViolationCode::UnknownEvent, Some("event_type")),
        }
    }
}

/// The detail of a state that is not final: the pending reason, else the status.
fn detail(status: &PaymentStatus, reason: Option<&str>) -> &'static str {
    match (status, reason) {
        (PaymentStatus::Pending, Some(reason)) => known_text(reason, PendingReason::KNOWN),
        _ => known_text(status.as_str(), PaymentStatus::KNOWN),
    }
}

/// The amount rule on the resource's `amount`; `None` when the webhook is refused whatever else
/// holds (no order for this merchant's payment).
fn check_money(
    e: &WebhookEvent,
    expected: &Expected,
    rule: AmountRule,
    report: &mut Report,
) -> Option<AmountCheck> {
    if rule == AmountRule::None {
        return Some(AmountCheck::NotApplicable);
    }
    let money = e.resource.amount;
    // v2 money is `{currency_code, value}`, v1 `{total, currency}`: a notice on either part of
    // `resource.amount` means it was there and unreadable.
    let absent = if e
        .notices
        .iter()
        .any(|n| n.field.starts_with("resource.amount."))
    {
        ViolationCode::UnreadableField
    } else {
        ViolationCode::MissingField
    };
    let carried = Carried {
        amount: money.map(|m| m.amount),
        currency: money.and_then(|m| m.currency),
        fields: (AMOUNT, CURRENCY),
        absent: (absent, absent),
    };
    judge_money(&carried, expected, report)
}
