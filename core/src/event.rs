//! What happened, in one value a back office can dispatch on, and the family of the notification.
//!
//! The mapping, applied in this order (the first row that matches wins):
//!
//! | the message has | family | event |
//! |---|---|---|
//! | `transaction_type=Adaptive Payment PAY` | `adaptive_pay` | `adaptive_payment` |
//! | `transaction_type=Adaptive Payment PREAPPROVAL` | `adaptive_preapproval` | `adaptive_preapproval` |
//! | another `transaction_type` | `adaptive_pay` | `unknown` |
//! | `account_key`, and no `txn_type` | `adaptive_account` | `account_created` |
//! | `txn_type=masspay` | `masspay` | `masspay` |
//! | `txn_type=new_case`, or no `txn_type` and a `case_type` | `dispute` | `dispute_opened` |
//! | `txn_type=adjustment` | `dispute` | `dispute_resolved` |
//! | `txn_type=subscr_signup` / `subscr_payment` / `subscr_failed` / `subscr_cancel` / `subscr_eot` / `subscr_modify` | `subscription` | `subscription_signup` / `subscription_payment` / `subscription_failed` / `subscription_cancel` / `subscription_end_of_term` / `subscription_modify` |
//! | `txn_type=recurring_payment` (and `_outstanding_payment`) | `recurring_payment` | `recurring_payment` |
//! | `txn_type=recurring_payment_profile_created` / `_profile_cancel` / `_expired` / `_suspended` / `_suspended_due_to_max_failed_payment` | `recurring_payment` | `recurring_profile_created` / `recurring_profile_cancel` / `recurring_profile_expired` / `recurring_profile_suspended` / `recurring_profile_suspended` |
//! | `txn_type=recurring_payment_failed` (and `_outstanding_payment_failed`) / `recurring_payment_skipped` | `recurring_payment` | `recurring_payment_failed` / `recurring_payment_skipped` |
//! | `txn_type=mp_signup` / `mp_cancel` | `billing_agreement` | `billing_agreement_created` / `billing_agreement_cancel` |
//! | otherwise, by `payment_status` (family `cart` for `txn_type=cart`, `auction` with `for_auction`, else `payment`): | | |
//! | `Completed` with an `auth_id` | | `capture_completed` (the capture of an authorization: the notification may be the only confirmation when the checkout page died before DoCapture returned) |
//! | `Completed` | | `payment_completed` |
//! | `Pending` with `pending_reason` `authorization` or `order` | | `authorization_created` |
//! | `Pending` | | `payment_pending` (with the reason) |
//! | `Voided` / `Expired` | | `authorization_voided` / `authorization_expired` |
//! | `Denied` / `Failed` / `Refunded` / `Reversed` / `Canceled_Reversal` | | `payment_denied` / `payment_failed` / `payment_refunded` / `payment_reversed` (with the reason) / `reversal_canceled` |
//! | `Processed` / `Created` | | `payment_processed` / `payment_created` |
//! | anything else, or no status | `unknown` when there is no `txn_type` either | `unknown` |
//!
//! Refunds and reversals carry no `txn_type`; they are payments by status, with `parent_txn_id`
//! naming the original transaction.

use serde::{Serialize, Serializer};

use crate::codes::codes;

use crate::vocab::{AdaptiveType, PaymentStatus, PendingReason, ReasonCode, TxnType};

/// What the mapping reads from a message, and nothing else: the input of [`Family::of`] and
/// [`Event::of`], so that the table above is testable without building messages.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Signals<'a> {
    /// `transaction_type` (Adaptive Payments).
    pub(crate) transaction_type: Option<&'a AdaptiveType>,
    /// `txn_type`.
    pub(crate) txn_type: Option<&'a TxnType>,
    /// `payment_status`.
    pub(crate) payment_status: Option<&'a PaymentStatus>,
    /// `pending_reason`.
    pub(crate) pending_reason: Option<&'a PendingReason>,
    /// `reason_code`.
    pub(crate) reason_code: Option<&'a ReasonCode>,
    /// Whether `account_key` is present (Adaptive Accounts).
    pub(crate) account_key: bool,
    /// Whether `case_type` is present (disputes).
    pub(crate) case_type: bool,
    /// Whether `auth_id` is present (the capture of an authorization).
    pub(crate) auth_id: bool,
    /// Whether `for_auction` is `true`.
    pub(crate) for_auction: bool,
}

codes! {
    /// The family of a notification, following the sections of PayPal's IPN guide.
    #[non_exhaustive]
    pub enum Family / FAMILY_CODES {
        /// A single payment (Buy Now, Express Checkout, Send Money, Virtual Terminal…), or a refund
        /// or reversal of one.
        Payment = "payment",
        /// A cart of several items.
        Cart = "cart",
        /// An auction payment.
        Auction = "auction",
        /// A Mass Pay notification.
        Masspay = "masspay",
        /// A subscription (`subscr_*`).
        Subscription = "subscription",
        /// A recurring payments profile (`recurring_payment*`).
        RecurringPayment = "recurring_payment",
        /// A billing agreement (`mp_*`).
        BillingAgreement = "billing_agreement",
        /// A dispute (`new_case`, `adjustment`, chargebacks).
        Dispute = "dispute",
        /// An Adaptive Payments Pay request.
        AdaptivePay = "adaptive_pay",
        /// An Adaptive Payments preapproval.
        AdaptivePreapproval = "adaptive_preapproval",
        /// An Adaptive Accounts notification.
        AdaptiveAccount = "adaptive_account",
        /// Nothing this version recognises.
        Unknown = "unknown",
    }
}

impl Family {
    pub(crate) fn of(m: &Signals<'_>) -> Family {
        match (m.transaction_type, m.txn_type) {
            (Some(AdaptiveType::Preapproval), _) => return Family::AdaptivePreapproval,
            (Some(AdaptiveType::Pay | AdaptiveType::Other(_)), _) => return Family::AdaptivePay,
            (None, None) if m.account_key => return Family::AdaptiveAccount,
            (None, None | Some(_)) => {}
        }
        let Some(txn_type) = m.txn_type else {
            return if m.case_type {
                Family::Dispute
            } else if m.payment_status.is_some() {
                Family::Payment
            } else {
                Family::Unknown
            };
        };
        match txn_type {
            TxnType::Masspay => Family::Masspay,
            TxnType::NewCase | TxnType::Adjustment => Family::Dispute,
            TxnType::SubscrSignup
            | TxnType::SubscrPayment
            | TxnType::SubscrFailed
            | TxnType::SubscrCancel
            | TxnType::SubscrEot
            | TxnType::SubscrModify => Family::Subscription,
            TxnType::RecurringPayment
            | TxnType::RecurringPaymentExpired
            | TxnType::RecurringPaymentFailed
            | TxnType::RecurringPaymentOutstandingPayment
            | TxnType::RecurringPaymentOutstandingPaymentFailed
            | TxnType::RecurringPaymentProfileCancel
            | TxnType::RecurringPaymentProfileCreated
            | TxnType::RecurringPaymentSkipped
            | TxnType::RecurringPaymentSuspended
            | TxnType::RecurringPaymentSuspendedDueToMaxFailedPayment => Family::RecurringPayment,
            TxnType::MpSignup | TxnType::MpCancel => Family::BillingAgreement,
            TxnType::Cart => Family::Cart,
            TxnType::ExpressCheckout
            | TxnType::InvoicePayment
            | TxnType::MerchPmt
            | TxnType::Payout
            | TxnType::ProHosted
            | TxnType::SendMoney
            | TxnType::VirtualTerminal
            | TxnType::WebAccept
            | TxnType::Other(_) => {
                if m.for_auction {
                    Family::Auction
                } else {
                    Family::Payment
                }
            }
        }
    }
}

/// What happened. See the [module docs](crate::event) for the mapping from the message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Event {
    /// A payment completed: the money is in the merchant's balance.
    PaymentCompleted,
    /// A payment is pending; act when it completes.
    PaymentPending {
        /// Why it is pending, when PayPal says.
        reason: Option<PendingReason>,
    },
    /// The merchant denied a pending payment.
    PaymentDenied,
    /// A bank-funded payment failed.
    PaymentFailed,
    /// The merchant refunded a payment (`parent_txn_id` names it).
    PaymentRefunded,
    /// A payment was reversed (chargeback, buyer complaint, PayPal's fraud protection…).
    PaymentReversed {
        /// Why, when PayPal says.
        reason: Option<ReasonCode>,
    },
    /// A reversal was cancelled: the money came back.
    ReversalCanceled,
    /// A Mass Pay payment was accepted (`Processed`).
    PaymentProcessed,
    /// A German ELV payment was created.
    PaymentCreated,
    /// An authorization (or order) was created; the money is not captured yet.
    AuthorizationCreated,
    /// An authorization was voided.
    AuthorizationVoided,
    /// An authorization expired.
    AuthorizationExpired,
    /// An authorization was captured (`auth_id` names it, `txn_id` is the capture).
    CaptureCompleted,
    /// A subscription started.
    SubscriptionSignup,
    /// A subscription payment was made (see `payment_status`).
    SubscriptionPayment,
    /// A subscription payment failed.
    SubscriptionFailed,
    /// A subscription was cancelled.
    SubscriptionCancel,
    /// A subscription reached the end of its term.
    SubscriptionEndOfTerm,
    /// A subscription was modified.
    SubscriptionModify,
    /// A recurring payment was received (see `payment_status`).
    RecurringPayment,
    /// A recurring payment failed.
    RecurringPaymentFailed,
    /// A recurring payment was skipped; PayPal retries it.
    RecurringPaymentSkipped,
    /// A recurring payments profile was created.
    RecurringProfileCreated,
    /// A recurring payments profile was cancelled.
    RecurringProfileCancel,
    /// A recurring payments profile expired.
    RecurringProfileExpired,
    /// A recurring payments profile was suspended (after too many failed payments included).
    RecurringProfileSuspended,
    /// A billing agreement was created.
    BillingAgreementCreated,
    /// A billing agreement was cancelled.
    BillingAgreementCancel,
    /// A Mass Pay notification (see each item's status).
    Masspay,
    /// A dispute was opened (a chargeback included).
    DisputeOpened,
    /// A dispute was resolved and closed.
    DisputeResolved,
    /// An Adaptive Payments Pay request changed (see `status` and the transactions).
    AdaptivePayment,
    /// An Adaptive Payments preapproval changed (see `status`, `approved`).
    AdaptivePreapproval,
    /// An account was created through Adaptive Accounts.
    AccountCreated,
    /// A buyer approved an order (Orders v2); nothing is captured yet. Webhooks only.
    OrderApproved,
    /// An order's payments were all captured (Orders v2). Webhooks only.
    OrderCompleted,
    /// A subscription was created, not yet approved by the buyer (Subscriptions API). Webhooks only.
    SubscriptionCreated,
    /// A subscription was updated (Subscriptions API). Webhooks only.
    SubscriptionUpdated,
    /// A billing plan was created. Webhooks only.
    PlanCreated,
    /// A billing plan was updated. Webhooks only.
    PlanUpdated,
    /// A dispute changed (a message, evidence, a new stage) without being resolved. Webhooks only.
    DisputeUpdated,
    /// Nothing this version recognises: keep the message and look at it.
    Unknown,
}

codes! {
    /// The code of an [`Event`], without its data: what bindings, stores and logs name it by.
    #[non_exhaustive]
    pub enum EventCode / EVENT_CODES {
        PaymentCompleted = "payment_completed" => "A payment completed: the money is in the merchant's balance.",
        PaymentPending = "payment_pending" => "A payment is pending (see the reason); act when it completes.",
        PaymentDenied = "payment_denied" => "The merchant denied a pending payment.",
        PaymentFailed = "payment_failed" => "A bank-funded payment failed.",
        PaymentRefunded = "payment_refunded" => "The merchant refunded a payment (parent_txn_id names it).",
        PaymentReversed = "payment_reversed" => "A payment was reversed: chargeback, buyer complaint, fraud protection.",
        ReversalCanceled = "reversal_canceled" => "A reversal was cancelled: the money came back.",
        PaymentProcessed = "payment_processed" => "A Mass Pay payment was accepted (Processed).",
        PaymentCreated = "payment_created" => "A German ELV payment was created.",
        AuthorizationCreated = "authorization_created" => "An authorization or order was created; nothing is captured yet.",
        AuthorizationVoided = "authorization_voided" => "An authorization was voided.",
        AuthorizationExpired = "authorization_expired" => "An authorization expired.",
        CaptureCompleted = "capture_completed" => "An authorization was captured: paid (auth_id names the authorization).",
        SubscriptionSignup = "subscription_signup" => "A subscription started.",
        SubscriptionPayment = "subscription_payment" => "A subscription payment was made (see payment_status).",
        SubscriptionFailed = "subscription_failed" => "A subscription payment failed.",
        SubscriptionCancel = "subscription_cancel" => "A subscription was cancelled.",
        SubscriptionEndOfTerm = "subscription_end_of_term" => "A subscription reached the end of its term.",
        SubscriptionModify = "subscription_modify" => "A subscription was modified.",
        RecurringPayment = "recurring_payment" => "A recurring payment was received (see payment_status).",
        RecurringPaymentFailed = "recurring_payment_failed" => "A recurring payment failed.",
        RecurringPaymentSkipped = "recurring_payment_skipped" => "A recurring payment was skipped; PayPal retries it.",
        RecurringProfileCreated = "recurring_profile_created" => "A recurring payments profile was created.",
        RecurringProfileCancel = "recurring_profile_cancel" => "A recurring payments profile was cancelled.",
        RecurringProfileExpired = "recurring_profile_expired" => "A recurring payments profile expired.",
        RecurringProfileSuspended = "recurring_profile_suspended" => "A recurring payments profile was suspended.",
        BillingAgreementCreated = "billing_agreement_created" => "A billing agreement was created.",
        BillingAgreementCancel = "billing_agreement_cancel" => "A billing agreement was cancelled.",
        Masspay = "masspay" => "A Mass Pay notification: act on each item's status.",
        DisputeOpened = "dispute_opened" => "A dispute was opened (a chargeback included).",
        DisputeResolved = "dispute_resolved" => "A dispute was resolved and closed.",
        AdaptivePayment = "adaptive_payment" => "An Adaptive Payments Pay request changed (see status and the transactions).",
        AdaptivePreapproval = "adaptive_preapproval" => "An Adaptive Payments preapproval changed (see status, approved).",
        AccountCreated = "account_created" => "An account was created through Adaptive Accounts.",
        OrderApproved = "order_approved" => "A buyer approved an order (Orders v2); nothing is captured yet. Webhooks only.",
        OrderCompleted = "order_completed" => "An order's payments were all captured (Orders v2). Webhooks only.",
        SubscriptionCreated = "subscription_created" => "A subscription was created, not yet approved by the buyer (Subscriptions API). Webhooks only.",
        SubscriptionUpdated = "subscription_updated" => "A subscription was updated (Subscriptions API). Webhooks only.",
        PlanCreated = "plan_created" => "A billing plan was created. Webhooks only.",
        PlanUpdated = "plan_updated" => "A billing plan was updated. Webhooks only.",
        DisputeUpdated = "dispute_updated" => "A dispute changed (a message, evidence, a new stage) without being resolved. Webhooks only.",
        Unknown = "unknown" => "Nothing this version recognises: keep the message and look at it.",
    }
}

impl Event {
    /// The event a code names (without a reason, for the events that carry one), or `None` for
    /// a code that is not one of [`EVENT_CODES`].
    pub fn from_code(code: &str) -> Option<Event> {
        EventCode::from_code(code).map(EventCode::event)
    }
}

impl EventCode {
    /// Whether only a REST webhook tells of this event (IPN has no twin for it).
    pub const fn webhook_only(self) -> bool {
        matches!(
            self,
            EventCode::OrderApproved
                | EventCode::OrderCompleted
                | EventCode::SubscriptionCreated
                | EventCode::SubscriptionUpdated
                | EventCode::PlanCreated
                | EventCode::PlanUpdated
                | EventCode::DisputeUpdated
        )
    }

    /// The event of this code (without a reason, for the events that carry one).
    pub fn event(self) -> Event {
        match self {
            EventCode::PaymentCompleted => Event::PaymentCompleted,
            EventCode::PaymentPending => Event::PaymentPending { reason: None },
            EventCode::PaymentDenied => Event::PaymentDenied,
            EventCode::PaymentFailed => Event::PaymentFailed,
            EventCode::PaymentRefunded => Event::PaymentRefunded,
            EventCode::PaymentReversed => Event::PaymentReversed { reason: None },
            EventCode::ReversalCanceled => Event::ReversalCanceled,
            EventCode::PaymentProcessed => Event::PaymentProcessed,
            EventCode::PaymentCreated => Event::PaymentCreated,
            EventCode::AuthorizationCreated => Event::AuthorizationCreated,
            EventCode::AuthorizationVoided => Event::AuthorizationVoided,
            EventCode::AuthorizationExpired => Event::AuthorizationExpired,
            EventCode::CaptureCompleted => Event::CaptureCompleted,
            EventCode::SubscriptionSignup => Event::SubscriptionSignup,
            EventCode::SubscriptionPayment => Event::SubscriptionPayment,
            EventCode::SubscriptionFailed => Event::SubscriptionFailed,
            EventCode::SubscriptionCancel => Event::SubscriptionCancel,
            EventCode::SubscriptionEndOfTerm => Event::SubscriptionEndOfTerm,
            EventCode::SubscriptionModify => Event::SubscriptionModify,
            EventCode::RecurringPayment => Event::RecurringPayment,
            EventCode::RecurringPaymentFailed => Event::RecurringPaymentFailed,
            EventCode::RecurringPaymentSkipped => Event::RecurringPaymentSkipped,
            EventCode::RecurringProfileCreated => Event::RecurringProfileCreated,
            EventCode::RecurringProfileCancel => Event::RecurringProfileCancel,
            EventCode::RecurringProfileExpired => Event::RecurringProfileExpired,
            EventCode::RecurringProfileSuspended => Event::RecurringProfileSuspended,
            EventCode::BillingAgreementCreated => Event::BillingAgreementCreated,
            EventCode::BillingAgreementCancel => Event::BillingAgreementCancel,
            EventCode::Masspay => Event::Masspay,
            EventCode::DisputeOpened => Event::DisputeOpened,
            EventCode::DisputeResolved => Event::DisputeResolved,
            EventCode::AdaptivePayment => Event::AdaptivePayment,
            EventCode::AdaptivePreapproval => Event::AdaptivePreapproval,
            EventCode::AccountCreated => Event::AccountCreated,
            EventCode::OrderApproved => Event::OrderApproved,
            EventCode::OrderCompleted => Event::OrderCompleted,
            EventCode::SubscriptionCreated => Event::SubscriptionCreated,
            EventCode::SubscriptionUpdated => Event::SubscriptionUpdated,
            EventCode::PlanCreated => Event::PlanCreated,
            EventCode::PlanUpdated => Event::PlanUpdated,
            EventCode::DisputeUpdated => Event::DisputeUpdated,
            EventCode::Unknown => Event::Unknown,
        }
    }
}

impl Event {
    /// The event's code, as its enum.
    pub fn event_code(&self) -> EventCode {
        match self {
            Event::PaymentCompleted => EventCode::PaymentCompleted,
            Event::PaymentPending { .. } => EventCode::PaymentPending,
            Event::PaymentDenied => EventCode::PaymentDenied,
            Event::PaymentFailed => EventCode::PaymentFailed,
            Event::PaymentRefunded => EventCode::PaymentRefunded,
            Event::PaymentReversed { .. } => EventCode::PaymentReversed,
            Event::ReversalCanceled => EventCode::ReversalCanceled,
            Event::PaymentProcessed => EventCode::PaymentProcessed,
            Event::PaymentCreated => EventCode::PaymentCreated,
            Event::AuthorizationCreated => EventCode::AuthorizationCreated,
            Event::AuthorizationVoided => EventCode::AuthorizationVoided,
            Event::AuthorizationExpired => EventCode::AuthorizationExpired,
            Event::CaptureCompleted => EventCode::CaptureCompleted,
            Event::SubscriptionSignup => EventCode::SubscriptionSignup,
            Event::SubscriptionPayment => EventCode::SubscriptionPayment,
            Event::SubscriptionFailed => EventCode::SubscriptionFailed,
            Event::SubscriptionCancel => EventCode::SubscriptionCancel,
            Event::SubscriptionEndOfTerm => EventCode::SubscriptionEndOfTerm,
            Event::SubscriptionModify => EventCode::SubscriptionModify,
            Event::RecurringPayment => EventCode::RecurringPayment,
            Event::RecurringPaymentFailed => EventCode::RecurringPaymentFailed,
            Event::RecurringPaymentSkipped => EventCode::RecurringPaymentSkipped,
            Event::RecurringProfileCreated => EventCode::RecurringProfileCreated,
            Event::RecurringProfileCancel => EventCode::RecurringProfileCancel,
            Event::RecurringProfileExpired => EventCode::RecurringProfileExpired,
            Event::RecurringProfileSuspended => EventCode::RecurringProfileSuspended,
            Event::BillingAgreementCreated => EventCode::BillingAgreementCreated,
            Event::BillingAgreementCancel => EventCode::BillingAgreementCancel,
            Event::Masspay => EventCode::Masspay,
            Event::DisputeOpened => EventCode::DisputeOpened,
            Event::DisputeResolved => EventCode::DisputeResolved,
            Event::AdaptivePayment => EventCode::AdaptivePayment,
            Event::AdaptivePreapproval => EventCode::AdaptivePreapproval,
            Event::AccountCreated => EventCode::AccountCreated,
            Event::OrderApproved => EventCode::OrderApproved,
            Event::OrderCompleted => EventCode::OrderCompleted,
            Event::SubscriptionCreated => EventCode::SubscriptionCreated,
            Event::SubscriptionUpdated => EventCode::SubscriptionUpdated,
            Event::PlanCreated => EventCode::PlanCreated,
            Event::PlanUpdated => EventCode::PlanUpdated,
            Event::DisputeUpdated => EventCode::DisputeUpdated,
            Event::Unknown => EventCode::Unknown,
        }
    }

    /// A stable snake_case code (one of [`EVENT_CODES`]).
    pub fn code(&self) -> &'static str {
        self.event_code().code()
    }

    pub(crate) fn of(m: &Signals<'_>) -> Event {
        match m.transaction_type {
            Some(AdaptiveType::Pay) => return Event::AdaptivePayment,
            Some(AdaptiveType::Preapproval) => return Event::AdaptivePreapproval,
            Some(AdaptiveType::Other(_)) => return Event::Unknown,
            None => {}
        }
        match m.txn_type {
            None if m.account_key => return Event::AccountCreated,
            None if m.case_type => return Event::DisputeOpened,
            Some(t) => {
                if let Some(e) = Self::of_txn_type(t) {
                    return e;
                }
            }
            None => {}
        }
        Self::of_payment(m)
    }

    fn of_txn_type(t: &TxnType) -> Option<Event> {
        Some(match t {
            TxnType::Masspay => Event::Masspay,
            TxnType::NewCase => Event::DisputeOpened,
            TxnType::Adjustment => Event::DisputeResolved,
            TxnType::SubscrSignup => Event::SubscriptionSignup,
            TxnType::SubscrPayment => Event::SubscriptionPayment,
            TxnType::SubscrFailed => Event::SubscriptionFailed,
            TxnType::SubscrCancel => Event::SubscriptionCancel,
            TxnType::SubscrEot => Event::SubscriptionEndOfTerm,
            TxnType::SubscrModify => Event::SubscriptionModify,
            TxnType::RecurringPayment | TxnType::RecurringPaymentOutstandingPayment => {
                Event::RecurringPayment
            }
            TxnType::RecurringPaymentFailed | TxnType::RecurringPaymentOutstandingPaymentFailed => {
                Event::RecurringPaymentFailed
            }
            TxnType::RecurringPaymentSkipped => Event::RecurringPaymentSkipped,
            TxnType::RecurringPaymentProfileCreated => Event::RecurringProfileCreated,
            TxnType::RecurringPaymentProfileCancel => Event::RecurringProfileCancel,
            TxnType::RecurringPaymentExpired => Event::RecurringProfileExpired,
            TxnType::RecurringPaymentSuspended
            | TxnType::RecurringPaymentSuspendedDueToMaxFailedPayment => {
                Event::RecurringProfileSuspended
            }
            TxnType::MpSignup => Event::BillingAgreementCreated,
            TxnType::MpCancel => Event::BillingAgreementCancel,
            // Payments: what happened is their payment_status.
            TxnType::Cart
            | TxnType::ExpressCheckout
            | TxnType::InvoicePayment
            | TxnType::MerchPmt
            | TxnType::Payout
            | TxnType::ProHosted
            | TxnType::SendMoney
            | TxnType::VirtualTerminal
            | TxnType::WebAccept
            | TxnType::Other(_) => return None,
        })
    }

    fn of_payment(m: &Signals<'_>) -> Event {
        let Some(status) = m.payment_status else {
            return Event::Unknown;
        };
        match status {
            PaymentStatus::Completed if m.auth_id => Event::CaptureCompleted,
            PaymentStatus::Completed => Event::PaymentCompleted,
            PaymentStatus::Pending => match m.pending_reason {
                Some(PendingReason::Authorization | PendingReason::Order) => {
                    Event::AuthorizationCreated
                }
                reason => Event::PaymentPending {
                    reason: reason.cloned(),
                },
            },
            PaymentStatus::Voided => Event::AuthorizationVoided,
            PaymentStatus::Expired => Event::AuthorizationExpired,
            PaymentStatus::Denied => Event::PaymentDenied,
            PaymentStatus::Failed => Event::PaymentFailed,
            PaymentStatus::Refunded => Event::PaymentRefunded,
            PaymentStatus::Reversed => Event::PaymentReversed {
                reason: m.reason_code.cloned(),
            },
            PaymentStatus::CanceledReversal => Event::ReversalCanceled,
            PaymentStatus::Processed => Event::PaymentProcessed,
            PaymentStatus::Created => Event::PaymentCreated,
            PaymentStatus::Other(_) => Event::Unknown,
        }
    }
}

impl Serialize for Event {
    /// The event's code.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_and_event_is_listed_once_and_reads_back() {
        let families: std::collections::HashSet<_> = Family::ALL.iter().map(|f| f.code()).collect();
        assert_eq!(families.len(), Family::ALL.len());
        for f in Family::ALL {
            assert_eq!(Family::from_code(f.code()), Some(*f));
        }
        let codes: Vec<&str> = EventCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes, EVENT_CODES);
        for code in EventCode::ALL {
            assert_eq!(code.event().event_code(), *code);
            assert_eq!(
                Event::from_code(code.code()).map(|e| e.code()),
                Some(code.code())
            );
            let meaning = code.meaning();
            assert!(meaning.ends_with('.') && !meaning.contains('\n'), "{code}");
        }
        assert_eq!(Event::from_code("paid"), None);
    }

    use crate::vocab::{AdaptiveType as A, PaymentStatus as P, TxnType as T};

    fn with_status(status: &P) -> Signals<'_> {
        Signals {
            payment_status: Some(status),
            ..Signals::default()
        }
    }

    fn codes(s: &Signals<'_>) -> (&'static str, &'static str) {
        (Event::of(s).code(), Family::of(s).code())
    }

    #[test]
    fn each_txn_type_has_its_event_and_family() {
        let completed = P::Completed;
        let table: &[(T, &str, &str)] = &[
            (T::Masspay, "masspay", "masspay"),
            (T::NewCase, "dispute_opened", "dispute"),
            (T::Adjustment, "dispute_resolved", "dispute"),
            (T::SubscrSignup, "subscription_signup", "subscription"),
            (T::SubscrPayment, "subscription_payment", "subscription"),
            (T::SubscrFailed, "subscription_failed", "subscription"),
            (T::SubscrCancel, "subscription_cancel", "subscription"),
            (T::SubscrEot, "subscription_end_of_term", "subscription"),
            (T::SubscrModify, "subscription_modify", "subscription"),
            (
                T::RecurringPayment,
                "recurring_payment",
                "recurring_payment",
            ),
            (
                T::RecurringPaymentOutstandingPayment,
                "recurring_payment",
                "recurring_payment",
            ),
            (
                T::RecurringPaymentFailed,
                "recurring_payment_failed",
                "recurring_payment",
            ),
            (
                T::RecurringPaymentOutstandingPaymentFailed,
                "recurring_payment_failed",
                "recurring_payment",
            ),
            (
                T::RecurringPaymentSkipped,
                "recurring_payment_skipped",
                "recurring_payment",
            ),
            (
                T::RecurringPaymentProfileCreated,
                "recurring_profile_created",
                "recurring_payment",
            ),
            (
                T::RecurringPaymentProfileCancel,
                "recurring_profile_cancel",
                "recurring_payment",
            ),
            (
                T::RecurringPaymentExpired,
                "recurring_profile_expired",
                "recurring_payment",
            ),
            (
                T::RecurringPaymentSuspended,
                "recurring_profile_suspended",
                "recurring_payment",
            ),
            (
                T::RecurringPaymentSuspendedDueToMaxFailedPayment,
                "recurring_profile_suspended",
                "recurring_payment",
            ),
            (
                T::MpSignup,
                "billing_agreement_created",
                "billing_agreement",
            ),
            (T::MpCancel, "billing_agreement_cancel", "billing_agreement"),
            // A payment's txn_type: the status decides the event.
            (T::WebAccept, "payment_completed", "payment"),
            (T::Cart, "payment_completed", "cart"),
            (
                T::Other("brand_new_type".into()),
                "payment_completed",
                "payment",
            ),
        ];
        for (txn_type, event, family) in table {
            // The status is there in every row: for the non-payment types it must not matter.
            let s = Signals {
                txn_type: Some(txn_type),
                ..with_status(&completed)
            };
            assert_eq!(codes(&s), (*event, *family), "{txn_type:?}");
        }
    }

    #[test]
    fn each_payment_status_has_its_event() {
        let table: &[(P, &str)] = &[
            (P::Completed, "payment_completed"),
            (P::Pending, "payment_pending"),
            (P::Denied, "payment_denied"),
            (P::Failed, "payment_failed"),
            (P::Refunded, "payment_refunded"),
            (P::Reversed, "payment_reversed"),
            (P::CanceledReversal, "reversal_canceled"),
            (P::Processed, "payment_processed"),
            (P::Created, "payment_created"),
            (P::Voided, "authorization_voided"),
            (P::Expired, "authorization_expired"),
            (P::Other("Completed_Funds_Held".into()), "unknown"),
        ];
        for (status, event) in table {
            // Refunds and reversals carry no txn_type: still the payment family.
            assert_eq!(
                codes(&with_status(status)),
                (*event, "payment"),
                "{status:?}"
            );
        }
    }

    #[test]
    fn the_first_matching_row_wins() {
        let (completed, pending) = (P::Completed, P::Pending);
        let (pay, preapproval, refund) = (
            A::Pay,
            A::Preapproval,
            A::Other("Adaptive Payment REFUND".into()),
        );
        let (web, cart, new_case) = (T::WebAccept, T::Cart, T::NewCase);
        let rows: &[(Signals<'_>, (&str, &str))] = &[
            // Adaptive before anything else, even beside a txn_type and an account key.
            (
                Signals {
                    transaction_type: Some(&pay),
                    txn_type: Some(&web),
                    account_key: true,
                    ..with_status(&completed)
                },
                ("adaptive_payment", "adaptive_pay"),
            ),
            (
                Signals {
                    transaction_type: Some(&preapproval),
                    ..Signals::default()
                },
                ("adaptive_preapproval", "adaptive_preapproval"),
            ),
            (
                Signals {
                    transaction_type: Some(&refund),
                    ..Signals::default()
                },
                ("unknown", "adaptive_pay"),
            ),
            // An account key means Adaptive Accounts only without a txn_type.
            (
                Signals {
                    account_key: true,
                    ..Signals::default()
                },
                ("account_created", "adaptive_account"),
            ),
            (
                Signals {
                    account_key: true,
                    txn_type: Some(&web),
                    ..with_status(&completed)
                },
                ("payment_completed", "payment"),
            ),
            // A case type without a txn_type is a dispute (chargebacks come so), even with a status.
            (
                Signals {
                    case_type: true,
                    ..with_status(&completed)
                },
                ("dispute_opened", "dispute"),
            ),
            (
                Signals {
                    case_type: true,
                    txn_type: Some(&new_case),
                    ..Signals::default()
                },
                ("dispute_opened", "dispute"),
            ),
            // The capture of an authorization.
            (
                Signals {
                    auth_id: true,
                    txn_type: Some(&web),
                    ..with_status(&completed)
                },
                ("capture_completed", "payment"),
            ),
            // Pending for an authorization or an order.
            (
                Signals {
                    pending_reason: Some(&PendingReason::Authorization),
                    ..with_status(&pending)
                },
                ("authorization_created", "payment"),
            ),
            (
                Signals {
                    pending_reason: Some(&PendingReason::Order),
                    ..with_status(&pending)
                },
                ("authorization_created", "payment"),
            ),
            // Auction only when not a cart.
            (
                Signals {
                    for_auction: true,
                    txn_type: Some(&web),
                    ..with_status(&completed)
                },
                ("payment_completed", "auction"),
            ),
            (
                Signals {
                    for_auction: true,
                    txn_type: Some(&cart),
                    ..with_status(&completed)
                },
                ("payment_completed", "cart"),
            ),
            // Nothing at all; a txn_type without a status.
            (Signals::default(), ("unknown", "unknown")),
            (
                Signals {
                    txn_type: Some(&web),
                    ..Signals::default()
                },
                ("unknown", "payment"),
            ),
        ];
        for (signals, expected) in rows {
            assert_eq!(codes(signals), *expected, "{signals:?}");
        }
    }

    #[test]
    fn events_carry_their_reason() {
        let (pending, reversed) = (P::Pending, P::Reversed);
        let s = Signals {
            pending_reason: Some(&PendingReason::MultiCurrency),
            ..with_status(&pending)
        };
        assert_eq!(
            Event::of(&s),
            Event::PaymentPending {
                reason: Some(PendingReason::MultiCurrency)
            }
        );
        let s = Signals {
            reason_code: Some(&ReasonCode::BuyerComplaint),
            ..with_status(&reversed)
        };
        assert_eq!(
            Event::of(&s),
            Event::PaymentReversed {
                reason: Some(ReasonCode::BuyerComplaint)
            }
        );
        assert_eq!(
            Event::of(&with_status(&pending)),
            Event::PaymentPending { reason: None }
        );
    }

    #[test]
    fn event_codes_are_unique_snake_case() {
        let mut codes = EVENT_CODES.to_vec();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), EVENT_CODES.len());
        assert!(
            EVENT_CODES
                .iter()
                .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
        assert_eq!(
            serde_json::to_string(&Event::AccountCreated)
                .ok()
                .as_deref(),
            Some("\"account_created\"")
        );
        assert_eq!(
            serde_json::to_string(&Family::AdaptivePay).ok().as_deref(),
            Some("\"adaptive_pay\"")
        );
    }
}
