//! PayPal's closed vocabularies, each an enum with an `Other` fallback, so that a value PayPal
//! adds tomorrow is kept rather than rejected.
//!
//! Each enum parses PayPal's text exactly (values are case-sensitive, as PayPal documents them),
//! prints it back with `as_str`, serializes as that text, and lists its known values in `KNOWN`.

use std::fmt;

use serde::{Serialize, Serializer};

/// What the variable table needs of a vocabulary: one generic setter and getter serve them all.
pub(crate) trait Word {
    /// [`parse`](TxnType::parse).
    fn parse_word(text: &str) -> Self;
    /// [`as_str`](TxnType::as_str).
    fn word(&self) -> &str;
}

macro_rules! vocabulary {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[doc = $vdoc:literal])* $variant:ident = $text:literal $(| $alias:literal)* ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[doc = $vdoc])* $variant, )*
            /// A value this version does not know, kept exactly as PayPal wrote it.
            Other(String),
        }

        impl $name {
            /// Every value this version knows, in PayPal's spelling.
            pub const KNOWN: &'static [&'static str] = &[$($text),*];

            /// Reads PayPal's text; an unknown value becomes `Other`.
            pub fn parse(text: &str) -> Self {
                match text {
                    $( $text $(| $alias)* => Self::$variant, )*
                    other => Self::Other(other.to_owned()),
                }
            }

            /// PayPal's text for this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )*
                    Self::Other(text) => text,
                }
            }
        }

        impl Word for $name {
            fn parse_word(text: &str) -> Self {
                Self::parse(text)
            }

            fn word(&self) -> &str {
                self.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// `txn_type`: what kind of notification this is.
    TxnType {
        /// A dispute has been resolved and closed.
        Adjustment = "adjustment",
        /// Payment for several items (Express Checkout or the PayPal Shopping Cart).
        Cart = "cart",
        /// Payment for one item through Express Checkout.
        ExpressCheckout = "express_checkout",
        /// A payment request paid through PayPal's invoicing.
        InvoicePayment = "invoice_payment",
        /// Payment sent with Mass Pay.
        Masspay = "masspay",
        /// A billing agreement was cancelled.
        MpCancel = "mp_cancel",
        /// A billing agreement was created.
        MpSignup = "mp_signup",
        /// Monthly subscription paid for Website Payments Pro.
        MerchPmt = "merch_pmt",
        /// A new dispute was filed.
        NewCase = "new_case",
        /// A payout related to a global shipping transaction was completed.
        Payout = "payout",
        /// Payment through Website Payments Pro hosted checkout.
        ProHosted = "pro_hosted",
        /// Recurring payment received.
        RecurringPayment = "recurring_payment",
        /// Recurring payments profile expired.
        RecurringPaymentExpired = "recurring_payment_expired",
        /// Recurring payment failed.
        RecurringPaymentFailed = "recurring_payment_failed",
        /// Recurring payment of an outstanding amount received.
        RecurringPaymentOutstandingPayment = "recurring_payment_outstanding_payment",
        /// Recurring payment of an outstanding amount failed.
        RecurringPaymentOutstandingPaymentFailed = "recurring_payment_outstanding_payment_failed",
        /// Recurring payments profile cancelled.
        RecurringPaymentProfileCancel = "recurring_payment_profile_cancel",
        /// Recurring payments profile created.
        RecurringPaymentProfileCreated = "recurring_payment_profile_created",
        /// Recurring payment skipped; PayPal retries it.
        RecurringPaymentSkipped = "recurring_payment_skipped",
        /// Recurring payments profile suspended.
        RecurringPaymentSuspended = "recurring_payment_suspended",
        /// Recurring payments profile suspended after the maximum number of failed payments.
        RecurringPaymentSuspendedDueToMaxFailedPayment = "recurring_payment_suspended_due_to_max_failed_payment",
        /// Payment received through Send Money.
        SendMoney = "send_money",
        /// Subscription cancelled.
        SubscrCancel = "subscr_cancel",
        /// Subscription expired (end of term).
        SubscrEot = "subscr_eot",
        /// Subscription payment failed.
        SubscrFailed = "subscr_failed",
        /// Subscription modified.
        SubscrModify = "subscr_modify",
        /// Subscription payment received.
        SubscrPayment = "subscr_payment",
        /// Subscription started.
        SubscrSignup = "subscr_signup",
        /// Payment received through the Virtual Terminal.
        VirtualTerminal = "virtual_terminal",
        /// Payment for one item through a Buy Now, Donation or Auction Smart Logos button.
        WebAccept = "web_accept",
    }
}

vocabulary! {
    /// `payment_status`.
    PaymentStatus {
        /// A reversal was cancelled: the funds came back to the merchant.
        CanceledReversal = "Canceled_Reversal" | "Canceled-Reversal",
        /// The payment completed and the funds are in the merchant's balance.
        Completed = "Completed",
        /// A German ELV payment was made through Express Checkout.
        Created = "Created",
        /// The merchant denied a pending payment.
        Denied = "Denied",
        /// An authorization expired and can no longer be captured.
        Expired = "Expired",
        /// The payment failed (bank-funded payments only).
        Failed = "Failed",
        /// The payment is pending; see `pending_reason`.
        Pending = "Pending",
        /// The merchant refunded the payment.
        Refunded = "Refunded",
        /// The payment was reversed (chargeback or other reversal); see `reason_code`.
        Reversed = "Reversed",
        /// The payment was accepted (Mass Pay).
        Processed = "Processed",
        /// An authorization was voided.
        Voided = "Voided",
    }
}

vocabulary! {
    /// `pending_reason` (set when `payment_status` is `Pending`).
    PendingReason {
        /// No confirmed shipping address, and the merchant accepts those by hand.
        Address = "address",
        /// An authorization not yet captured.
        Authorization = "authorization",
        /// Funds held until delivery is confirmed.
        DelayedDisbursement = "delayed_disbursement",
        /// An eCheck that has not cleared.
        Echeck = "echeck",
        /// A non-US account without a withdrawal method; the merchant accepts by hand.
        Intl = "intl",
        /// A currency the merchant holds no balance in; the merchant accepts by hand.
        MultiCurrency = "multi_currency" | "multi-currency",
        /// An order not yet captured.
        Order = "order",
        /// Under PayPal's risk review.
        Paymentreview = "paymentreview",
        /// Under regulatory review.
        RegulatoryReview = "regulatory_review",
        /// Sent to an e-mail address not yet registered or confirmed.
        Unilateral = "unilateral",
        /// The merchant must upgrade the account to receive it.
        Upgrade = "upgrade",
        /// The merchant's account is not yet verified.
        Verify = "verify",
        /// Another reason; ask PayPal.
        Other_ = "other",
    }
}

vocabulary! {
    /// `reason_code`: why a payment was reversed, refunded or cancelled, or what a dispute is about.
    ReasonCode {
        /// Reversal of an adjustment.
        AdjustmentReversal = "adjustment_reversal",
        /// PayPal reversed it to protect against fraud.
        AdminFraudReversal = "admin_fraud_reversal",
        /// PayPal reversed it.
        AdminReversal = "admin_reversal",
        /// A buyer complaint.
        BuyerComplaint = "buyer_complaint" | "buyer-complaint",
        /// A chargeback by the buyer's card issuer.
        Chargeback = "chargeback",
        /// Reimbursement of a chargeback.
        ChargebackReimbursement = "chargeback_reimbursement",
        /// Settlement of a chargeback.
        ChargebackSettlement = "chargeback_settlement",
        /// The buyer used money-back guarantee.
        Guarantee = "guarantee",
        /// Dispute: the buyer says the item did not arrive.
        NonReceipt = "non_receipt",
        /// Dispute: the buyer says the item is not as described.
        NotAsDescribed = "not_as_described",
        /// The merchant refunded the buyer.
        Refund = "refund",
        /// Blocked for regulatory reasons.
        RegulatoryBlock = "regulatory_block",
        /// Rejected for regulatory reasons.
        RegulatoryReject = "regulatory_reject",
        /// A regulatory review that took longer than allowed.
        RegulatoryReviewExceedingSla = "regulatory_review_exceeding_sla",
        /// Dispute: the buyer says the payment was not authorised.
        Unauthorized = "unauthorized",
        /// An unauthorised payment claim.
        UnauthorizedClaim = "unauthorized_claim",
        /// A spoofed (unauthorised) payment.
        UnauthorizedSpoof = "unauthorized_spoof",
        /// Another reason.
        Other_ = "other",
    }
}

vocabulary! {
    /// `payment_type`.
    PaymentType {
        /// Funded with an eCheck.
        Echeck = "echeck",
        /// Funded with PayPal balance, a card or Instant Transfer.
        Instant = "instant",
    }
}

vocabulary! {
    /// `payer_status`.
    PayerStatus {
        /// The payer's account is verified.
        Verified = "verified",
        /// The payer's account is not verified.
        Unverified = "unverified",
    }
}

vocabulary! {
    /// `address_status`.
    AddressStatus {
        /// A confirmed address.
        Confirmed = "confirmed",
        /// An unconfirmed address.
        Unconfirmed = "unconfirmed",
    }
}

vocabulary! {
    /// `protection_eligibility`: how far PayPal's Seller Protection covers the payment.
    ProtectionEligibility {
        /// Covered for both unauthorised payments and items not received.
        Eligible = "Eligible",
        /// Covered for items not received only.
        PartiallyEligibleInrOnly = "Partially Eligible - INR Only",
        /// Covered for unauthorised payments only.
        PartiallyEligibleUnauthOnly = "Partially Eligible - Unauth Only",
        /// Not covered.
        Ineligible = "Ineligible",
        /// Covered by Expanded Seller Protection.
        ExpandedSellerProtection = "ExpandedSellerProtection",
        /// Covered by Seller Protection.
        SellerProtection = "SellerProtection",
        /// Not covered (older spelling).
        None = "None",
    }
}

vocabulary! {
    /// `auth_status`.
    AuthStatus {
        /// Captured in full.
        Completed = "Completed",
        /// Open, waiting for capture.
        Pending = "Pending",
        /// Voided.
        Voided = "Voided",
        /// Expired.
        Expired = "Expired",
    }
}

vocabulary! {
    /// `transaction_entity`: which kind of transaction this notification is about.
    TransactionEntity {
        /// An authorization.
        Auth = "auth",
        /// A reauthorization.
        Reauth = "reauth",
        /// An order.
        Order = "order",
        /// A payment (a capture included).
        Payment = "payment",
    }
}

vocabulary! {
    /// `case_type`: the kind of dispute.
    CaseType {
        /// A chargeback by the buyer's card issuer.
        Chargeback = "chargeback",
        /// A complaint.
        Complaint = "complaint",
        /// A dispute.
        Dispute = "dispute",
    }
}

vocabulary! {
    /// `profile_status`: a recurring payments profile's state.
    ProfileStatus {
        /// Active.
        Active = "Active",
        /// Cancelled.
        Cancelled = "Cancelled",
        /// Suspended.
        Suspended = "Suspended",
        /// Expired.
        Expired = "Expired",
        /// Pending.
        Pending = "Pending",
    }
}

vocabulary! {
    /// `period_type` of a recurring payment. PayPal writes it with a leading space
    /// (`+Regular`), which is ignored when reading.
    PeriodType {
        /// A trial period.
        Trial = "Trial",
        /// The regular period.
        Regular = "Regular",
    }
}

vocabulary! {
    /// `status_N` of a Mass Pay item.
    MasspayStatus {
        /// Paid.
        Completed = "Completed",
        /// Failed.
        Failed = "Failed",
        /// Returned to the sender.
        Reversed = "Reversed",
        /// Sent to an address with no account yet; returned after 30 days if unclaimed.
        Unclaimed = "Unclaimed",
        /// Accepted, not yet paid.
        Processed = "Processed",
        /// Pending.
        Pending = "Pending",
    }
}

vocabulary! {
    /// `transaction_type` of an Adaptive Payments notification.
    AdaptiveType {
        /// A Pay request.
        Pay = "Adaptive Payment PAY",
        /// A preapproval.
        Preapproval = "Adaptive Payment PREAPPROVAL",
    }
}

vocabulary! {
    /// `status` of an Adaptive Payments Pay request or preapproval.
    AdaptiveStatus {
        /// The request was received; funds move once it is approved.
        Created = "CREATED",
        /// The payment succeeded.
        Completed = "COMPLETED",
        /// Some transfers succeeded and some failed, or secondary receivers are not yet paid.
        Incomplete = "INCOMPLETE",
        /// The payment failed.
        Error = "ERROR",
        /// A transfer failed while the payment was being reversed.
        ReversalError = "REVERSALERROR",
        /// In progress.
        Processing = "PROCESSING",
        /// Awaiting processing.
        Pending = "PENDING",
        /// A preapproval that can be used.
        Active = "ACTIVE",
        /// A cancelled preapproval.
        Canceled = "CANCELED",
        /// A deactivated preapproval.
        Deactivated = "DEACTIVED",
    }
}

vocabulary! {
    /// `transaction[n].status` of an Adaptive Payments transaction.
    TransactionStatus {
        /// Completed.
        Completed = "Completed",
        /// Pending.
        Pending = "Pending",
        /// Refunded.
        Refunded = "Refunded",
        /// Partially refunded.
        PartiallyRefunded = "Partially_Refunded",
        /// Denied.
        Denied = "Denied",
        /// Failed.
        Failed = "Failed",
        /// Reversed.
        Reversed = "Reversed",
    }
}

vocabulary! {
    /// `transaction[n].status_for_sender_txn` of an Adaptive Payments transaction.
    SenderTransactionStatus {
        /// The sender's transaction completed.
        Completed = "COMPLETED" | "Completed",
        /// Awaiting further processing.
        Pending = "PENDING" | "Pending",
        /// Received; funds move once approved.
        Created = "CREATED",
        /// Partially refunded.
        PartiallyRefunded = "PARTIALLY_REFUNDED",
        /// Rejected by the receiver.
        Denied = "DENIED",
        /// In progress.
        Processing = "PROCESSING",
        /// Returned to the sender.
        Reversed = "REVERSED",
        /// Refunded.
        Refunded = "REFUNDED",
        /// Failed.
        Failed = "FAILED",
    }
}

vocabulary! {
    /// `transaction[n].pending_reason` of an Adaptive Payments transaction.
    AdaptivePendingReason {
        /// Waiting for the address to be confirmed.
        AddressConfirmation = "ADDRESS_CONFIRMATION",
        /// An eCheck that has not cleared.
        Echeck = "ECHECK",
        /// A non-US account without a withdrawal method.
        International = "INTERNATIONAL",
        /// A currency the receiver holds no balance in.
        MultiCurrency = "MULTI_CURRENCY",
        /// An account that must be upgraded.
        Upgrade = "UPGRADE",
        /// An account that is not yet verified.
        Verify = "VERIFY",
        /// Under risk review.
        Risk = "RISK",
        /// Sent to an address with no account yet.
        Unilateral = "UNILATERAL",
        /// Not pending.
        None = "NONE",
        /// Another reason.
        Other_ = "OTHER",
    }
}

vocabulary! {
    /// `action_type` of an Adaptive Payments Pay request.
    ActionType {
        /// Paid at once.
        Pay = "PAY",
        /// Created, to be executed with ExecutePayment.
        Create = "CREATE",
        /// Delayed chained payment: the primary receiver paid first.
        PayPrimary = "PAY_PRIMARY",
    }
}

vocabulary! {
    /// `fees_payer` of an Adaptive Payments Pay request.
    FeesPayer {
        /// The sender pays the fees.
        Sender = "SENDER",
        /// The primary receiver pays the fees.
        PrimaryReceiver = "PRIMARYRECEIVER",
        /// Each receiver pays its own fees.
        EachReceiver = "EACHRECEIVER",
        /// Only the secondary receivers pay fees.
        SecondaryOnly = "SECONDARYONLY",
    }
}

vocabulary! {
    /// `payment_period` of an Adaptive Payments preapproval.
    PaymentPeriod {
        /// No period.
        NoPeriodSpecified = "NO_PERIOD_SPECIFIED",
        /// Daily.
        Daily = "DAILY",
        /// Weekly.
        Weekly = "WEEKLY",
        /// Every two weeks.
        Biweekly = "BIWEEKLY",
        /// Twice a month.
        Semimonthly = "SEMIMONTHLY",
        /// Monthly.
        Monthly = "MONTHLY",
        /// Yearly.
        Annually = "ANNUALLY",
    }
}

vocabulary! {
    /// `pin_type` of an Adaptive Payments preapproval.
    PinType {
        /// No PIN needed.
        NotRequired = "NOT_REQUIRED",
        /// A PIN is needed for each payment.
        Required = "REQUIRED",
    }
}

/// Every vocabulary by name, with its known values: what bindings generate `Literal` types and
/// enums from.
pub const VOCABULARIES: &[(&str, &[&str])] = &[
    ("TxnType", TxnType::KNOWN),
    ("PaymentStatus", PaymentStatus::KNOWN),
    ("PendingReason", PendingReason::KNOWN),
    ("ReasonCode", ReasonCode::KNOWN),
    ("PaymentType", PaymentType::KNOWN),
    ("PayerStatus", PayerStatus::KNOWN),
    ("AddressStatus", AddressStatus::KNOWN),
    ("ProtectionEligibility", ProtectionEligibility::KNOWN),
    ("AuthStatus", AuthStatus::KNOWN),
    ("TransactionEntity", TransactionEntity::KNOWN),
    ("CaseType", CaseType::KNOWN),
    ("ProfileStatus", ProfileStatus::KNOWN),
    ("PeriodType", PeriodType::KNOWN),
    ("MasspayStatus", MasspayStatus::KNOWN),
    ("AdaptiveType", AdaptiveType::KNOWN),
    ("AdaptiveStatus", AdaptiveStatus::KNOWN),
    ("TransactionStatus", TransactionStatus::KNOWN),
    ("SenderTransactionStatus", SenderTransactionStatus::KNOWN),
    ("AdaptivePendingReason", AdaptivePendingReason::KNOWN),
    ("ActionType", ActionType::KNOWN),
    ("FeesPayer", FeesPayer::KNOWN),
    ("PaymentPeriod", PaymentPeriod::KNOWN),
    ("PinType", PinType::KNOWN),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_round_trip_and_unknown_ones_are_kept() {
        for text in PaymentStatus::KNOWN {
            assert_eq!(PaymentStatus::parse(text).as_str(), *text);
            assert!(!matches!(
                PaymentStatus::parse(text),
                PaymentStatus::Other(_)
            ));
        }
        for text in TxnType::KNOWN {
            assert_eq!(TxnType::parse(text).as_str(), *text);
        }
        assert_eq!(
            PaymentStatus::parse("Completed_Funds_Held"),
            PaymentStatus::Other("Completed_Funds_Held".into())
        );
        assert_eq!(PaymentStatus::parse("completed").as_str(), "completed");
        assert!(matches!(
            PaymentStatus::parse("completed"),
            PaymentStatus::Other(_)
        ));
    }

    #[test]
    fn every_vocabulary_round_trips_its_known_values() {
        macro_rules! check {
            ($($t:ident),*) => {$(
                assert!(!$t::KNOWN.is_empty());
                for text in $t::KNOWN {
                    let v = $t::parse(text);
                    assert!(!matches!(v, $t::Other(_)), "{} {text}", stringify!($t));
                    assert_eq!(v.as_str(), *text);
                    assert_eq!(serde_json::to_string(&v).ok(), serde_json::to_string(text).ok());
                }
                assert_eq!($t::parse("tomorrow's value"), $t::Other("tomorrow's value".into()));
            )*};
        }
        check!(
            TxnType,
            PaymentStatus,
            PendingReason,
            ReasonCode,
            PaymentType,
            PayerStatus,
            AddressStatus,
            ProtectionEligibility,
            AuthStatus,
            TransactionEntity,
            CaseType,
            ProfileStatus,
            PeriodType,
            MasspayStatus,
            AdaptiveType,
            AdaptiveStatus,
            TransactionStatus,
            SenderTransactionStatus,
            AdaptivePendingReason,
            ActionType,
            FeesPayer,
            PaymentPeriod,
            PinType
        );
    }

    #[test]
    fn aliases_read_as_the_documented_value() {
        assert_eq!(
            PaymentStatus::parse("Canceled-Reversal"),
            PaymentStatus::CanceledReversal
        );
        assert_eq!(
            PendingReason::parse("multi-currency"),
            PendingReason::MultiCurrency
        );
        assert_eq!(
            ReasonCode::parse("buyer-complaint"),
            ReasonCode::BuyerComplaint
        );
        assert_eq!(ReasonCode::parse("other"), ReasonCode::Other_);
        assert_eq!(ReasonCode::parse("other").as_str(), "other");
    }

    #[test]
    fn serialize_and_display_as_paypal_wrote_them() {
        assert_eq!(
            serde_json::to_string(&AdaptiveType::Pay).ok().as_deref(),
            Some(r#""Adaptive Payment PAY""#)
        );
        assert_eq!(TxnType::Other("new_thing".into()).to_string(), "new_thing");
        assert_eq!(
            ProtectionEligibility::parse("Partially Eligible - INR Only").to_string(),
            "Partially Eligible - INR Only"
        );
    }
}
