//! The business rules a listener must apply before it acts on a verified message.
//!
//! A `VERIFIED` answer only says PayPal sent the message. Before acting, the listener must also
//! know that the notification concerns *this* merchant, in the amount and currency of the order,
//! in the environment the listener runs in, and that what it reports is final. [`Policy`] holds
//! what the host configures once; [`Expected`] what it looks up from its own order;
//! [`Policy::check`] returns every [`Violation`] at once, each with a stable code and the
//! variable concerned, never a value, so that a refusal can be logged as it is.
//!
//! The checks run only on a [`Verified`] message, which only PayPal's answer makes: the HTTP
//! status and the response bytes, as they came ([`Verified::from_response`]). No public path
//! turns a [`Verdict`] value, or anything else, into a verified message:
//!
//! ```compile_fail,E0451
//! # let message = ipnkit::Message::parse(b"txn_id=1").unwrap();
//! // A message that was not verified cannot be checked: there is no way to build `Verified`.
//! let verified = ipnkit::Verified { message };
//! ```
//!
//! ```compile_fail,E0599
//! # let message = ipnkit::Message::parse(b"txn_id=1").unwrap();
//! // Not from a verdict either: `Verdict::Verified` is a value anyone can write.
//! let verified = ipnkit::Verified::new(message, ipnkit::Verdict::Verified);
//! ```
//!
//! ## Which rules apply, by event
//!
//! What "final" means depends on what the notification *is*, never on which variable happens to
//! be present. "Accept" means: the host may act on the event as named. Refunds, reversals and
//! denials are final for what they are — the host acts on them (it cancels, refunds, revokes) —
//! but they are never "ship the goods".
//!
//! | event | receiver | amount and currency | final when |
//! |---|---|---|---|
//! | `payment_completed`, `capture_completed` | `receiver_id` / `receiver_email` / `business` | `mc_gross`, `mc_currency` | `payment_status` is one of the policy's final statuses (default: `Completed`) |
//! | `payment_pending`, `authorization_created` | as above | as above | never by default: `status_not_final` with the pending reason |
//! | `payment_processed`, `payment_created` | as above | as above | only when the policy lists `Processed` / `Created` |
//! | `subscription_payment`, `recurring_payment` | as above | as above | `payment_status` is a final status; a payment without a status is not final (`missing_field`) |
//! | `payment_denied`, `payment_failed`, `authorization_voided`, `authorization_expired` | as above | — | always: cancel or release the order |
//! | `payment_refunded`, `payment_reversed`, `reversal_canceled` | as above | — (partial refunds: `mc_gross` is what moved, negative) | always: adjust the order |
//! | `subscription_signup`, `subscription_modify` | as above | `mc_amount3` (the regular amount: a buyer who edited the button pays less), `mc_currency` | always |
//! | `subscription_cancel`, `subscription_end_of_term`, `subscription_failed` | as above | — | always |
//! | `recurring_profile_*`, `recurring_payment_failed`, `recurring_payment_skipped` | as above | — | always |
//! | `billing_agreement_created`, `billing_agreement_cancel` | as above | — | always |
//! | `dispute_opened`, `dispute_resolved` | as above | — | always |
//! | `order_approved`, `order_completed`, `subscription_created`, `subscription_updated`, `dispute_updated` (webhooks only) | the resource's payee | — | always |
//! | `plan_created`, `plan_updated` (webhooks only) | — | — | always |
//! | `masspay` | the payer (`payer_id` / `payer_email`): Mass Pay is money this merchant *sent* | — | always: act on each item's `status_N` |
//! | `adaptive_payment` | a `transaction[n].receiver` (an e-mail, or an account id) | that transaction's `amount` | `status` is `COMPLETED` and this merchant's `transaction[n].status` is `Completed` |
//! | `adaptive_preapproval`, `account_created` | — (the message names no receiver: look `preapproval_key` / `account_key` up among the ones you created) | — | always |
//! | `unknown` | as for payments | — | never: `missing_field` (`payment_status`) for a payment without a status, `status_not_final` (`other`) for a status PayPal never documented, else `unknown_event` |
//!
//! The environment rule applies to every event: `test_ipn` must agree with the configured
//! environment. Where a rule needs a value, it refuses when the value is absent (`missing_field`)
//! or present but not of its type (`unreadable_field`: the message's notice says why); it never
//! acts on a value it could not read.
//!
//! Receivers: when the policy has account ids and the message carries one (`receiver_id`,
//! `payer_id` for Mass Pay, an Adaptive receiver that is not an e-mail), the id decides, whatever
//! the e-mail fields say; otherwise the e-mails do (`receiver_email` or `business`, compared
//! ASCII case-insensitively).
//!
//! | code | when |
//! |---|---|
//! | `not_verified` | PayPal's answer was not `VERIFIED` ([`Report::not_verified`]; a decision says `refuse` with `not_verified` instead) |
//! | `receiver_not_configured` | the policy names no receiver: nothing can be accepted |
//! | `receiver_mismatch` | the notification is not this merchant's (see above) |
//! | `order_not_found` | the host has no order this payment is for ([`Expected::NoOrder`]); asked of this merchant's messages only |
//! | `amount_mismatch` | the amount differs from the expected one (exact decimal comparison) |
//! | `currency_mismatch` | the currency differs from the expected one |
//! | `environment_mismatch` | `test_ipn` disagrees with the configured environment (a sandbox message verifies as genuine at the sandbox, so it must never reach a live listener's books) |
//! | `status_not_final` | the status is not final for this event (detail: the status or pending reason, PayPal's documented words only, else `other`) |
//! | `missing_field` | a rule needs a variable the message lacks |
//! | `unreadable_field` | a rule needs a variable whose value is not of its type |
//! | `unknown_event` | ipnkit cannot tell what the notification is: keep it and look |

use std::fmt;

use serde::Serialize;

use crate::Decimal;
use crate::codes::codes;
use crate::event::{Event, Family};
use crate::message::Message;
use crate::money::Currency;
use crate::verify::{Environment, Verdict};
use crate::vocab::{AdaptiveStatus, PaymentStatus, PendingReason, TransactionStatus};

mod webhook;

/// A message PayPal vouched for. Only [`Verified::from_response`], given PayPal's HTTP status and
/// response bytes, builds one, so the business rules cannot run on anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    message: Message,
}

/// PayPal's answer was not `VERIFIED`: the message is handed back, with the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotVerified {
    /// The message, unchanged (boxed: an error stays small).
    pub message: Box<Message>,
    /// What PayPal's answer means ([`Verdict::from_response`]).
    pub verdict: Verdict,
}

impl Verified {
    /// Marks `message` verified when PayPal answered its postback with HTTP `status` 200 and a
    /// `response` that is exactly `VERIFIED` ([`Verdict::from_response`]), and only then.
    ///
    /// ```
    /// use ipnkit::{Message, Verified};
    /// let m = Message::parse(b"txn_id=1&payment_status=Completed")?;
    /// assert!(Verified::from_response(m.clone(), 200, b"VERIFIED\r\n").is_ok());
    /// assert!(Verified::from_response(m.clone(), 200, b"<html>VERIFIED</html>").is_err());
    /// assert!(Verified::from_response(m, 503, b"VERIFIED").is_err());
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn from_response(
        message: Message,
        status: u16,
        response: &[u8],
    ) -> Result<Verified, NotVerified> {
        match Verdict::from_response(status, response) {
            Verdict::Verified => Ok(Verified { message }),
            verdict => Err(NotVerified {
                message: Box::new(message),
                verdict,
            }),
        }
    }

    /// The verified message.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// The verified message, by value.
    pub fn into_message(self) -> Message {
        self.message
    }
}

/// What the host configures once: who it is and where it runs.
///
/// ```
/// use ipnkit::{Environment, Policy};
/// let policy = Policy::new(Environment::Live)
///     .receiver_email("Shop@Example.net")      // compared case-insensitively
///     .receiver_id("SHOPID0000001");
/// # let _ = policy;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    environment: Environment,
    receiver_emails: Vec<String>,
    receiver_ids: Vec<String>,
    final_statuses: Vec<PaymentStatus>,
}

/// How an event is judged final (see the table in the [module docs](crate::policy)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finality {
    /// Money received: final when `payment_status` is one of the policy's final statuses.
    Payment,
    /// Final for what it is.
    AsItIs,
    /// Adaptive Payments: `status` and this merchant's transaction.
    Adaptive,
    /// Never final: ipnkit cannot tell what happened.
    Never,
}

/// Where the amount the order is compared with comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AmountRule {
    /// `mc_gross` and `mc_currency`.
    Gross,
    /// `mc_amount3` (the regular subscription amount) and `mc_currency`.
    Regular,
    /// This merchant's Adaptive transaction.
    Transaction,
    /// Not applicable.
    None,
}

/// Who the merchant is in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReceiverRule {
    /// `receiver_id`, `receiver_email`, `business`.
    Receiver,
    /// `payer_id`, `payer_email`: Mass Pay is money the merchant sent.
    Payer,
    /// `transaction[n].receiver`.
    Transactions,
    /// The message names no receiver.
    None,
}

/// The rules of one event: the table in the module docs, as data.
fn rules_of(event: &Event) -> (ReceiverRule, AmountRule, Finality) {
    use AmountRule as A;
    use Finality as F;
    use ReceiverRule as R;
    match event {
        Event::PaymentCompleted
        | Event::CaptureCompleted
        | Event::PaymentPending { .. }
        | Event::AuthorizationCreated
        | Event::PaymentProcessed
        | Event::PaymentCreated
        | Event::SubscriptionPayment
        | Event::RecurringPayment => (R::Receiver, A::Gross, F::Payment),
        Event::PaymentDenied
        | Event::PaymentFailed
        | Event::AuthorizationVoided
        | Event::AuthorizationExpired
        | Event::PaymentRefunded
        | Event::PaymentReversed { .. }
        | Event::ReversalCanceled
        | Event::SubscriptionCancel
        | Event::SubscriptionEndOfTerm
        | Event::SubscriptionFailed
        | Event::RecurringPaymentFailed
        | Event::RecurringPaymentSkipped
        | Event::RecurringProfileCreated
        | Event::RecurringProfileCancel
        | Event::RecurringProfileExpired
        | Event::RecurringProfileSuspended
        | Event::BillingAgreementCreated
        | Event::BillingAgreementCancel
        | Event::DisputeOpened
        | Event::DisputeResolved
        | Event::OrderApproved
        | Event::OrderCompleted
        | Event::SubscriptionCreated
        | Event::SubscriptionUpdated
        | Event::DisputeUpdated => (R::Receiver, A::None, F::AsItIs),
        Event::PlanCreated | Event::PlanUpdated => (R::None, A::None, F::AsItIs),
        Event::SubscriptionSignup | Event::SubscriptionModify => {
            (R::Receiver, A::Regular, F::AsItIs)
        }
        Event::Masspay => (R::Payer, A::None, F::AsItIs),
        Event::AdaptivePayment => (R::Transactions, A::Transaction, F::Adaptive),
        Event::AdaptivePreapproval | Event::AccountCreated => (R::None, A::None, F::AsItIs),
        Event::Unknown => (R::Receiver, A::None, F::Never),
    }
}

/// Whether the rules compare an amount for this event (a payment, a capture, a subscription's
/// sign-up or payment, an Adaptive payment): then the host must know the order it is for, and
/// pass its amount and currency as [`Expected`]. Refunds, reversals, denials, cancellations and
/// the like move no money the host expects, and need no order.
///
/// ```
/// use ipnkit::{Event, expects_amount};
/// assert!(expects_amount(&Event::PaymentCompleted));
/// assert!(expects_amount(&Event::SubscriptionSignup));
/// assert!(!expects_amount(&Event::PaymentRefunded));
/// assert!(!expects_amount(&Event::DisputeOpened));
/// ```
pub fn expects_amount(event: &Event) -> bool {
    !matches!(rules_of(event).1, AmountRule::None)
}

/// The event's rules, for a table or a binding: (receiver, amount, final) as short words.
///
/// `receiver` is `receiver`, `payer`, `transaction` or `none`; `amount` is `mc_gross`,
/// `mc_amount3`, `transaction` or `none`; `final` is `payment_status`, `always`, `adaptive` or
/// `never`.
pub fn rules_for(event: &Event) -> (&'static str, &'static str, &'static str) {
    let (receiver, amount, finality) = rules_of(event);
    (
        match receiver {
            ReceiverRule::Receiver => "receiver",
            ReceiverRule::Payer => "payer",
            ReceiverRule::Transactions => "transaction",
            ReceiverRule::None => "none",
        },
        match amount {
            AmountRule::Gross => "mc_gross",
            AmountRule::Regular => "mc_amount3",
            AmountRule::Transaction => "transaction",
            AmountRule::None => "none",
        },
        match finality {
            Finality::Payment => "payment_status",
            Finality::AsItIs => "always",
            Finality::Adaptive => "adaptive",
            Finality::Never => "never",
        },
    )
}

impl Policy {
    /// A policy for `environment`, with `Completed` as the only final payment status and no
    /// receiver yet (add at least one: a policy without receivers accepts nothing).
    pub fn new(environment: Environment) -> Policy {
        Policy {
            environment,
            receiver_emails: Vec::new(),
            receiver_ids: Vec::new(),
            final_statuses: vec![PaymentStatus::Completed],
        }
    }

    /// Adds an e-mail address of this merchant's account (compared ASCII case-insensitively,
    /// surrounding whitespace ignored).
    pub fn receiver_email(mut self, email: impl AsRef<str>) -> Policy {
        self.receiver_emails
            .push(email.as_ref().trim().to_ascii_lowercase());
        self
    }

    /// Adds this merchant's PayPal account id (`receiver_id`), compared exactly. With at least
    /// one id configured, a message that carries an account id is judged by it alone.
    pub fn receiver_id(mut self, id: impl AsRef<str>) -> Policy {
        self.receiver_ids.push(id.as_ref().trim().to_owned());
        self
    }

    /// Replaces the payment statuses treated as "money received" (default: `Completed` only),
    /// for the events whose finality is their `payment_status` (see the module docs). A merchant
    /// that ships on `Created` (German ELV) or `Processed` says so here.
    pub fn final_statuses(mut self, statuses: impl IntoIterator<Item = PaymentStatus>) -> Policy {
        self.final_statuses = statuses.into_iter().collect();
        self
    }

    /// The environment the policy is for.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Runs every rule that applies to the message's event; an empty report means accept.
    pub fn check(&self, verified: &Verified, expected: &Expected) -> Report {
        match self.check_verified_message(verified.message(), expected) {
            Ok(_) => Report::default(),
            Err(report) => report,
        }
    }

    /// [`check`](Policy::check) for a message the caller has established PayPal verified (the
    /// host API, which holds the verdict beside the message).
    ///
    /// `Ok` with how the amount was judged when every rule holds, else the report (never empty:
    /// a message whose amount could not be judged is refused by a violation that says why).
    pub(crate) fn check_verified_message(
        &self,
        m: &Message,
        expected: &Expected,
    ) -> Result<AmountCheck, Report> {
        let (receiver, amount, finality) = rules_of(m.event());
        let mut report = Report::default();
        self.check_environment(m, &mut report);
        let ours = self.check_receiver(m, receiver, &mut report);
        let judged = check_money(m, expected, amount, ours, &mut report);
        self.check_final(m, finality, ours, &mut report);
        match judged {
            Some(judged) if report.is_accept() => Ok(judged),
            _ => Err(report),
        }
    }

    fn check_environment(&self, m: &Message, report: &mut Report) {
        if m.is_unreadable("test_ipn") {
            report.push(ViolationCode::UnreadableField, Some("test_ipn"));
            return;
        }
        // PayPal sends `test_ipn=1` from the sandbox only: without it, a live message.
        let sandbox_message = m.test_ipn().unwrap_or(false);
        if sandbox_message != (self.environment == Environment::Sandbox) {
            report.push(ViolationCode::EnvironmentMismatch, Some("test_ipn"));
        }
    }

    fn is_our_email(&self, email: &str) -> bool {
        let email = email.trim();
        self.receiver_emails
            .iter()
            .any(|ours| ours.eq_ignore_ascii_case(email))
    }

    fn is_our_id(&self, id: &str) -> bool {
        self.receiver_ids.iter().any(|ours| ours == id.trim())
    }

    /// Judges one party of the message: its account id decides when the policy has ids and the
    /// message carries one; else its e-mails.
    fn check_party(
        &self,
        id: Option<&str>,
        emails: [Option<&str>; 2],
        (id_field, email_field): (&'static str, &'static str),
        report: &mut Report,
    ) {
        let id = id.filter(|i| !i.trim().is_empty());
        if let Some(id) = id.filter(|_| !self.receiver_ids.is_empty()) {
            if !self.is_our_id(id) {
                report.push(ViolationCode::ReceiverMismatch, Some(id_field));
            }
            return;
        }
        let mut emails = emails
            .into_iter()
            .flatten()
            .filter(|e| !e.trim().is_empty())
            .peekable();
        if !self.receiver_emails.is_empty() && emails.peek().is_some() {
            if !emails.any(|e| self.is_our_email(e)) {
                report.push(ViolationCode::ReceiverMismatch, Some(email_field));
            }
            return;
        }
        let missing = if self.receiver_emails.is_empty() {
            id_field
        } else {
            email_field
        };
        report.push(ViolationCode::MissingField, Some(missing));
    }

    /// Checks who the notification is for; returns the Adaptive transaction that paid this
    /// merchant, when there is one.
    fn check_receiver(
        &self,
        m: &Message,
        rule: ReceiverRule,
        report: &mut Report,
    ) -> Option<usize> {
        if rule == ReceiverRule::None {
            return None;
        }
        if self.receiver_emails.is_empty() && self.receiver_ids.is_empty() {
            report.push(ViolationCode::ReceiverNotConfigured, None);
            return None;
        }
        match rule {
            ReceiverRule::Receiver => {
                self.check_party(
                    m.receiver_id(),
                    [m.receiver_email(), m.business()],
                    ("receiver_id", "receiver_email"),
                    report,
                );
                None
            }
            ReceiverRule::Payer => {
                self.check_party(
                    m.payer_id(),
                    [m.payer_email(), None],
                    ("payer_id", "payer_email"),
                    report,
                );
                None
            }
            ReceiverRule::Transactions => {
                // A transaction without a receiver is skipped below, as a blank one is.
                let receivers = m
                    .transactions()
                    .iter()
                    .map(|t| t.receiver.as_deref().map(str::trim).unwrap_or_default());
                let mut any = false;
                let mut ours = None;
                for (i, receiver) in receivers.enumerate() {
                    if receiver.is_empty() {
                        continue;
                    }
                    any = true;
                    // An e-mail is compared with the e-mails, anything else is an account id.
                    let matched = if receiver.contains('@') {
                        self.is_our_email(receiver)
                    } else {
                        self.is_our_id(receiver)
                    };
                    if matched {
                        ours = Some(i);
                        break;
                    }
                }
                let code = if any {
                    ViolationCode::ReceiverMismatch
                } else {
                    ViolationCode::MissingField
                };
                if ours.is_none() {
                    report.push(code, Some("transaction[n].receiver"));
                }
                ours
            }
            ReceiverRule::None => None,
        }
    }

    fn check_final(
        &self,
        m: &Message,
        finality: Finality,
        ours: Option<usize>,
        report: &mut Report,
    ) {
        match finality {
            Finality::AsItIs => {}
            Finality::Payment => match m.payment_status() {
                Some(status) if self.final_statuses.contains(status) => {}
                Some(status) => {
                    report.status_not_final("payment_status", payment_detail(m, status))
                }
                None => report.push(ViolationCode::MissingField, Some("payment_status")),
            },
            Finality::Adaptive => {
                match m.status() {
                    Some(AdaptiveStatus::Completed) => {}
                    Some(status) => report.status_not_final(
                        "status",
                        known_text(status.as_str(), AdaptiveStatus::KNOWN),
                    ),
                    None => report.push(ViolationCode::MissingField, Some("status")),
                }
                // The merchant's own transaction; when none is ours, the receiver rule refused.
                if let Some(t) = ours.and_then(|i| m.transactions().get(i)) {
                    match &t.status {
                        Some(TransactionStatus::Completed) => {}
                        Some(status) => report.status_not_final(
                            "transaction[n].status",
                            known_text(status.as_str(), TransactionStatus::KNOWN),
                        ),
                        None => {
                            report.push(ViolationCode::MissingField, Some("transaction[n].status"))
                        }
                    }
                }
            }
            Finality::Never => match m.payment_status() {
                Some(status) => {
                    report.status_not_final("payment_status", payment_detail(m, status))
                }
                // A payment (or a message that names an empty status) without a status.
                None if matches!(m.family(), Family::Payment | Family::Cart | Family::Auction)
                    || m.variables().get("payment_status").is_some() =>
                {
                    report.push(ViolationCode::MissingField, Some("payment_status"));
                }
                None => {
                    let field = if m.transaction_type().is_some() {
                        Some("transaction_type")
                    } else if m.txn_type().is_some() {
                        Some("txn_type")
                    } else {
                        None
                    };
                    report.push(ViolationCode::UnknownEvent, field);
                }
            },
        }
    }
}

/// The detail of a payment status that is not final: the pending reason, else the status.
fn payment_detail(m: &Message, status: &PaymentStatus) -> &'static str {
    match (status, m.pending_reason()) {
        (PaymentStatus::Pending, Some(reason)) => known_text(reason.as_str(), PendingReason::KNOWN),
        _ => known_text(status.as_str(), PaymentStatus::KNOWN),
    }
}

/// PayPal's documented word, or `other`: details never carry a value PayPal did not document
/// (`other` is the detail's word for "a status PayPal did not document", not a default).
fn known_text(text: &str, known: &'static [&'static str]) -> &'static str {
    known
        .iter()
        .find(|k| **k == text)
        .copied()
        .unwrap_or("other")
}

/// The amount rule: what `expected` says against the money this merchant received. Returns how
/// the amount was judged, or `None` when the message is refused whatever else holds (no order,
/// or not this merchant's).
fn check_money(
    m: &Message,
    expected: &Expected,
    rule: AmountRule,
    ours: Option<usize>,
    report: &mut Report,
) -> Option<AmountCheck> {
    // (amount, currency, the fields named in a violation, the variable read for each).
    let (money, currency, (amount_field, currency_field), (amount_var, currency_var)) = match rule {
        AmountRule::None => return Some(AmountCheck::NotApplicable),
        AmountRule::Gross => (
            m.mc_gross(),
            m.mc_currency(),
            ("mc_gross", "mc_currency"),
            ("mc_gross".to_owned(), "mc_currency".to_owned()),
        ),
        AmountRule::Regular => (
            m.mc_amount3(),
            m.mc_currency(),
            ("mc_amount3", "mc_currency"),
            ("mc_amount3".to_owned(), "mc_currency".to_owned()),
        ),
        AmountRule::Transaction => match ours.and_then(|i| m.transactions().get(i)) {
            Some(t) => {
                let var = format!("transaction[{}].amount", t.index);
                (
                    t.amount,
                    t.amount.and_then(|a| a.currency),
                    ("transaction[n].amount", "transaction[n].amount"),
                    (var.clone(), var),
                )
            }
            // No transaction is this merchant's: the receiver rule refused already.
            None => return None,
        },
    };
    let absent = |var: &str| {
        if m.is_unreadable(var) {
            ViolationCode::UnreadableField
        } else {
            ViolationCode::MissingField
        }
    };
    let carried = Carried {
        amount: money.map(|g| g.amount),
        currency,
        fields: (amount_field, currency_field),
        absent: (absent(&amount_var), absent(&currency_var)),
    };
    judge_money(&carried, expected, report)
}

/// The money a notification carries where its amount rule reads it (an IPN's variables, a
/// webhook resource's `amount`): each part, the field a violation names, and the violation
/// when the part is absent (`missing_field`, or `unreadable_field` when it is there and cannot
/// be read).
pub(crate) struct Carried {
    pub(crate) amount: Option<Decimal>,
    pub(crate) currency: Option<Currency>,
    pub(crate) fields: (&'static str, &'static str),
    pub(crate) absent: (ViolationCode, ViolationCode),
}

/// The amount rule both channels share: the money carried against what the host expects.
/// Returns how the amount was judged, or `None` when the notification is refused whatever else
/// holds (no order).
pub(crate) fn judge_money(
    carried: &Carried,
    expected: &Expected,
    report: &mut Report,
) -> Option<AmountCheck> {
    let (amount_field, currency_field) = carried.fields;
    let check_currency = |wanted: Currency, report: &mut Report| match carried.currency {
        Some(c) if c == wanted => {}
        Some(_) => report.push(ViolationCode::CurrencyMismatch, Some(currency_field)),
        None => report.push(carried.absent.1, Some(currency_field)),
    };
    match *expected {
        Expected::Order {
            amount,
            currency: wanted,
        } => {
            match carried.amount {
                Some(a) if a == amount => {}
                Some(_) => report.push(ViolationCode::AmountMismatch, Some(amount_field)),
                None => report.push(carried.absent.0, Some(amount_field)),
            }
            check_currency(wanted, report);
            Some(AmountCheck::Matched)
        }
        Expected::AnyAmount { currency: wanted } => {
            if let Some(wanted) = wanted {
                check_currency(wanted, report);
            }
            Some(AmountCheck::NotAsked)
        }
        Expected::NoOrder => {
            // Refused: for want of an order when the notification is this merchant's (whether
            // an order exists is asked of its notifications only), else by the receiver's
            // violation.
            if report.is_ours() {
                report.push(ViolationCode::OrderNotFound, None);
            }
            None
        }
    }
}

/// What the host knows of the money a message should carry, from its own order book (looked up
/// by `invoice`, `custom`, `item_number`…): one of three answers, each said explicitly.
///
/// The rules compare it only for the events that carry an amount ([`expects_amount`]: payments,
/// captures, subscription sign-ups and payments, Adaptive payments); every other event (refunds,
/// reversals, disputes…) takes any of the three and ignores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// An order: this gross in this currency, compared exactly (`19.95` equals `19.950`, not
    /// `19.94`). An accepted decision says the amount was [`matched`](AmountCheck::Matched).
    Order {
        /// The gross the order is for.
        amount: Decimal,
        /// The order's currency.
        currency: Currency,
    },
    /// Any amount is welcome (donations, pay what you want), in this currency when one is named.
    /// An accepted decision says the amount was [`not asked`](AmountCheck::NotAsked).
    AnyAmount {
        /// The currency required, if any.
        currency: Option<Currency>,
    },
    /// The host looked and has no order this message pays: a payment is refused
    /// (`order_not_found`).
    NoOrder,
}

impl Serialize for Expected {
    /// The plain data it is read from ([`Expected::from_data`]): `{"amount", "currency"}`,
    /// `{"any_amount": true}` (with its `currency`, if any) or `{"no_order": true}`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        match self {
            Expected::Order { amount, currency } => {
                map.serialize_entry("amount", &amount.to_string())?;
                map.serialize_entry("currency", currency.as_str())?;
            }
            Expected::AnyAmount { currency } => {
                map.serialize_entry("any_amount", &true)?;
                if let Some(currency) = currency {
                    map.serialize_entry("currency", currency.as_str())?;
                }
            }
            Expected::NoOrder => map.serialize_entry("no_order", &true)?,
        }
        map.end()
    }
}

impl Expected {
    /// Expect this amount in this currency.
    pub fn order(amount: Decimal, currency: Currency) -> Expected {
        Expected::Order { amount, currency }
    }

    /// Any amount, in any currency.
    pub fn any_amount() -> Expected {
        Expected::AnyAmount { currency: None }
    }
}

codes! {
    /// How an accepted message's amount was judged: the fact a "ship the goods" consumer needs
    /// without re-reading what it asked.
    pub enum AmountCheck / AMOUNT_CHECK_CODES {
        /// The event carries an amount and it is the order's, in the order's currency.
        Matched = "matched",
        /// The event carries an amount, and the host said any amount will do
        /// ([`Expected::AnyAmount`]; its currency was checked when it named one).
        NotAsked = "not_asked",
        /// The event carries no amount the rules compare (a refund, a reversal, a dispute…).
        NotApplicable = "not_applicable",
    }
}

codes! {
    /// The stable code of a [`Violation`].
    #[non_exhaustive]
    pub enum ViolationCode / VIOLATION_CODES {
        /// PayPal did not answer `VERIFIED`.
        NotVerified = "not_verified",
        /// The policy names no receiver.
        ReceiverNotConfigured = "receiver_not_configured",
        /// The money did not go to this merchant.
        ReceiverMismatch = "receiver_mismatch",
        /// The host has no order this payment is for ([`Expected::NoOrder`]).
        OrderNotFound = "order_not_found",
        /// The amount is not the expected one.
        AmountMismatch = "amount_mismatch",
        /// The currency is not the expected one.
        CurrencyMismatch = "currency_mismatch",
        /// `test_ipn` disagrees with the configured environment.
        EnvironmentMismatch = "environment_mismatch",
        /// The payment is not in a final status.
        StatusNotFinal = "status_not_final",
        /// A rule needs a variable the message lacks.
        MissingField = "missing_field",
        /// A rule needs a variable whose value is not of its type.
        UnreadableField = "unreadable_field",
        /// ipnkit cannot tell what the notification is.
        UnknownEvent = "unknown_event",
    }
}

impl ViolationCode {
    /// Whether a violation with this code says the message is not this merchant's (another
    /// receiver, no receiver configured, the other environment): the shop is not told of it.
    pub const fn is_not_ours(self) -> bool {
        match self {
            ViolationCode::ReceiverNotConfigured
            | ViolationCode::ReceiverMismatch
            | ViolationCode::EnvironmentMismatch => true,
            ViolationCode::NotVerified
            | ViolationCode::OrderNotFound
            | ViolationCode::AmountMismatch
            | ViolationCode::CurrencyMismatch
            | ViolationCode::StatusNotFinal
            | ViolationCode::MissingField
            | ViolationCode::UnreadableField
            | ViolationCode::UnknownEvent => false,
        }
    }
}

/// One broken rule: a code, the variable concerned, and for `status_not_final` the status or
/// pending reason (PayPal's documented words only). Never a value from the message otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// The stable code.
    pub code: ViolationCode,
    /// The variable concerned, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// For `status_not_final`: the status, or the pending reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'static str>,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.code())?;
        if let Some(field) = self.field {
            write!(f, " ({field})")?;
        }
        if let Some(detail) = self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

/// Every violation of a check, in rule order. Empty means accept.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Report {
    /// The violations found.
    pub violations: Vec<Violation>,
}

impl Report {
    fn push(&mut self, code: ViolationCode, field: Option<&'static str>) {
        self.violations.push(Violation {
            code,
            field,
            detail: None,
        });
    }

    fn status_not_final(&mut self, field: &'static str, detail: &'static str) {
        self.violations.push(Violation {
            code: ViolationCode::StatusNotFinal,
            field: Some(field),
            detail: Some(detail),
        });
    }

    /// The report of a message PayPal did not vouch for (its answer was not `VERIFIED`, or there
    /// was none): `not_verified`, alone.
    pub fn not_verified() -> Report {
        let mut report = Report::default();
        report.push(ViolationCode::NotVerified, None);
        report
    }

    /// Whether no rule was broken: the host may act.
    pub fn is_accept(&self) -> bool {
        self.violations.is_empty()
    }

    /// Whether the message is this merchant's: no violation says it was paid to another
    /// receiver, with no receiver configured, or in the other environment
    /// ([`ViolationCode::is_not_ours`]).
    pub fn is_ours(&self) -> bool {
        !self.violations.iter().any(|v| v.code.is_not_ours())
    }

    /// Whether a rule with this code was broken.
    pub fn has(&self, code: ViolationCode) -> bool {
        self.violations.iter().any(|v| v.code == code)
    }
}

impl fmt::Display for Report {
    /// `accept`, or the violations separated by `; ` — safe to log: no personal data.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.violations.is_empty() {
            return f.write_str("accept");
        }
        for (i, v) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "txn_type=web_accept&txn_id=4RT58091KX0312345&payment_status=Completed\
        &mc_gross=24.90&mc_currency=EUR&receiver_email=shop%40example.net&receiver_id=SHOPID0000001\
        &business=shop%40example.net&test_ipn=1&payer_email=buyer%40example.org";

    fn policy() -> Policy {
        Policy::new(Environment::Sandbox)
            .receiver_email("shop@example.net")
            .receiver_id("SHOPID0000001")
    }

    fn expected() -> Expected {
        Expected::order(
            Decimal::new(2490, 2),
            Currency::parse("EUR").unwrap_or(Currency::USD),
        )
    }

    /// The good message with `changes` applied (`key=value` replaces or adds, `key=` with
    /// `-` removes).
    fn message(changes: &[(&str, Option<&str>)]) -> Message {
        let mut pairs: Vec<(String, String)> = GOOD
            .split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        for (key, value) in changes {
            pairs.retain(|(k, _)| k != key);
            if let Some(v) = value {
                pairs.push(((*key).to_owned(), (*v).to_owned()));
            }
        }
        let raw: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Message::parse(raw.join("&").as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn verified(m: Message) -> Verified {
        Verified::from_response(m, 200, b"VERIFIED").unwrap_or_else(|_| panic!("verified"))
    }

    fn check(p: &Policy, m: Message, e: &Expected) -> Vec<(&'static str, Option<&'static str>)> {
        let verified = verified(m);
        p.check(&verified, e)
            .violations
            .iter()
            .map(|v| (v.code.code(), v.field))
            .collect()
    }

    #[test]
    fn a_good_message_is_accepted() {
        assert_eq!(check(&policy(), message(&[]), &expected()), []);
        assert_eq!(check(&policy(), message(&[]), &Expected::any_amount()), []);
    }

    #[test]
    fn only_paypals_verified_answer_lets_checks_run() {
        for (status, answer) in [
            (200, &b"INVALID"[..]),
            (200, b"<html>VERIFIED</html>"),
            (200, b""),
            (503, b"VERIFIED"),
            (302, b"VERIFIED"),
        ] {
            let refused = Verified::from_response(message(&[]), status, answer);
            assert_eq!(
                refused.map_err(|n| n.verdict),
                Err(Verdict::from_response(status, answer))
            );
        }
        let verified = Verified::from_response(message(&[]), 200, b"VERIFIED\n")
            .unwrap_or_else(|_| panic!("VERIFIED"));
        assert!(policy().check(&verified, &expected()).is_accept());
    }

    #[test]
    fn receiver_swapped() {
        let m = message(&[
            ("receiver_email", Some("attacker%40example.com")),
            ("receiver_id", Some("ATTACKER0001")),
            ("business", Some("attacker%40example.com")),
        ]);
        // The policy has an account id and the message carries one: the id decides.
        assert_eq!(
            check(&policy(), m, &expected()),
            [("receiver_mismatch", Some("receiver_id"))]
        );
    }

    #[test]
    fn receivers_match_by_any_identifier_and_emails_ignore_case() {
        let by_id = Policy::new(Environment::Sandbox).receiver_id("SHOPID0000001");
        let m = message(&[
            ("receiver_email", Some("other%40example.net")),
            ("business", None),
        ]);
        assert_eq!(check(&by_id, m, &expected()), []);
        let by_email = Policy::new(Environment::Sandbox).receiver_email(" SHOP@Example.NET ");
        let m = message(&[
            ("receiver_id", None),
            ("receiver_email", Some("Shop%40EXAMPLE.net")),
        ]);
        assert_eq!(check(&by_email, m, &expected()), []);
        // A payment to a secondary address of the account: business is ours.
        let m = message(&[
            ("receiver_id", None),
            ("receiver_email", Some("primary%40example.net")),
        ]);
        assert_eq!(check(&by_email, m, &expected()), []);
    }

    #[test]
    fn amount_lowered_and_currency_swapped() {
        let m = message(&[("mc_gross", Some("0.01"))]);
        assert_eq!(
            check(&policy(), m, &expected()),
            [("amount_mismatch", Some("mc_gross"))]
        );
        let m = message(&[("mc_currency", Some("JPY"))]);
        assert_eq!(
            check(&policy(), m, &expected()),
            [("currency_mismatch", Some("mc_currency"))]
        );
        // Exact decimal comparison: the same number at another scale is equal, a cent is not.
        let m = message(&[("mc_gross", Some("24.9"))]);
        assert_eq!(check(&policy(), m, &expected()), []);
        let m = message(&[("mc_gross", Some("24.899"))]);
        assert_eq!(
            check(&policy(), m, &expected()),
            [("amount_mismatch", Some("mc_gross"))]
        );
    }

    #[test]
    fn environment_must_agree_with_test_ipn() {
        // A sandbox message verifies as genuine at the sandbox: a live listener must refuse it.
        let live = Policy::new(Environment::Live).receiver_email("shop@example.net");
        assert_eq!(
            check(&live, message(&[]), &expected()),
            [("environment_mismatch", Some("test_ipn"))]
        );
        assert_eq!(
            check(&live, message(&[("test_ipn", None)]), &expected()),
            []
        );
        assert_eq!(
            check(&live, message(&[("test_ipn", Some("0"))]), &expected()),
            []
        );
        assert_eq!(
            check(&policy(), message(&[("test_ipn", None)]), &expected()),
            [("environment_mismatch", Some("test_ipn"))]
        );
    }

    #[test]
    fn status_must_be_final() {
        let m = message(&[
            ("payment_status", Some("Pending")),
            ("pending_reason", Some("echeck")),
        ]);
        let report = policy().check(&verified(m), &expected());
        assert_eq!(
            report.violations,
            [Violation {
                code: ViolationCode::StatusNotFinal,
                field: Some("payment_status"),
                detail: Some("echeck")
            }]
        );
        assert_eq!(
            report.to_string(),
            "status_not_final (payment_status): echeck"
        );
        // A refund is final for what it is (the event says what to do: not "ship").
        let m = message(&[("payment_status", Some("Refunded")), ("txn_type", None)]);
        assert_eq!(check(&policy(), m, &expected()), []);
        // A status PayPal never documented is reported as `other`, not echoed.
        let m = message(&[("payment_status", Some("Weird_New_Status"))]);
        assert_eq!(*m.event(), Event::Unknown);
        assert_eq!(
            policy()
                .check(&verified(m), &Expected::any_amount())
                .violations[0]
                .detail,
            Some("other")
        );
        // The host may widen the final statuses.
        let lenient = policy().final_statuses([PaymentStatus::Completed, PaymentStatus::Processed]);
        let m = message(&[("payment_status", Some("Processed"))]);
        assert_eq!(check(&lenient, m, &expected()), []);
        // Notifications without a payment are final for what they are.
        let m = message(&[
            ("payment_status", None),
            ("txn_type", Some("subscr_signup")),
        ]);
        assert_eq!(check(&policy(), m, &Expected::any_amount()), []);
    }

    #[test]
    fn missing_fields_a_rule_needs() {
        let m = message(&[("mc_gross", None)]);
        assert_eq!(
            check(&policy(), m, &expected()),
            [("missing_field", Some("mc_gross"))]
        );
        let m = message(&[("mc_currency", None)]);
        assert_eq!(
            check(&policy(), m, &expected()),
            [("missing_field", Some("mc_currency"))]
        );
        let m = message(&[
            ("receiver_email", None),
            ("receiver_id", None),
            ("business", None),
        ]);
        assert_eq!(
            check(&policy(), m, &expected()),
            [("missing_field", Some("receiver_email"))]
        );
        let by_id = Policy::new(Environment::Sandbox).receiver_id("SHOPID0000001");
        let m = message(&[("receiver_id", None)]);
        assert_eq!(
            check(&by_id, m, &expected()),
            [("missing_field", Some("receiver_id"))]
        );
    }

    #[test]
    fn a_policy_without_receivers_accepts_nothing() {
        let empty = Policy::new(Environment::Sandbox);
        assert_eq!(
            check(&empty, message(&[]), &expected()),
            [("receiver_not_configured", None)]
        );
    }

    #[test]
    fn every_violation_is_reported_at_once_without_personal_data() {
        let live = Policy::new(Environment::Live).receiver_email("shop@example.net");
        let m = message(&[
            ("receiver_email", Some("attacker%40example.com")),
            ("receiver_id", Some("ATTACKER0001")),
            ("business", None),
            ("mc_gross", Some("0.01")),
            ("mc_currency", Some("JPY")),
            ("payment_status", Some("Pending")),
            ("pending_reason", Some("unilateral")),
        ]);
        let report = live.check(&verified(m), &expected());
        let codes: Vec<_> = report.violations.iter().map(|v| v.code.code()).collect();
        assert_eq!(
            codes,
            [
                "environment_mismatch",
                "receiver_mismatch",
                "amount_mismatch",
                "currency_mismatch",
                "status_not_final"
            ]
        );
        let logged = format!(
            "{report} {}",
            serde_json::to_string(&report).unwrap_or_default()
        );
        for secret in ["attacker", "ATTACKER", "0.01", "JPY", "buyer@", "24.90"] {
            assert!(!logged.contains(secret), "{logged}");
        }
    }

    #[test]
    fn adaptive_payments_pay_this_merchant_among_the_receivers() {
        let pay = "transaction_type=Adaptive+Payment+PAY&status=COMPLETED&test_ipn=1\
            &transaction%5B0%5D.receiver=partner%40example.com&transaction%5B0%5D.amount=EUR+20.00\
            &transaction%5B0%5D.status=Completed&transaction%5B1%5D.status=Completed\
            &transaction%5B1%5D.receiver=shop%40example.net&transaction%5B1%5D.amount=EUR+24.90";
        let m = Message::parse(pay.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(check(&policy(), m, &expected()), []);
        let m = Message::parse(pay.replace("shop%40", "other%40").as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            check(&policy(), m, &expected()),
            [("receiver_mismatch", Some("transaction[n].receiver"))]
        );
        let m = Message::parse(pay.replace("EUR+24.90", "EUR+2.49").as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            check(&policy(), m, &expected()),
            [("amount_mismatch", Some("transaction[n].amount"))]
        );
    }

    #[test]
    fn masspay_is_money_this_merchant_sent() {
        let mp = "txn_type=masspay&payment_status=Processed&test_ipn=1&payer_email=shop%40example.net\
            &masspay_txn_id_1=1MP&mc_gross_1=10.00&mc_currency_1=USD";
        // Final for what it is: the host acts on each item's status.
        let p = policy();
        let m = Message::parse(mp.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(check(&p, m, &Expected::any_amount()), []);
        let m = Message::parse(mp.replace("shop%40", "thief%40").as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            check(&p, m, &Expected::any_amount()),
            [("receiver_mismatch", Some("payer_email"))]
        );
    }

    #[test]
    fn a_duplicated_amount_never_reaches_the_checks() {
        // HTTP parameter pollution: PHP would keep the last mc_gross, PayPal verified both.
        let polluted = format!("{GOOD}&mc_gross=0.01");
        assert_eq!(
            Message::parse(polluted.as_bytes())
                .map(|_| ())
                .map_err(|e| e.code()),
            Err("duplicate_key")
        );
    }

    #[test]
    fn violation_codes_are_listed_once_and_read_back() {
        let codes: Vec<_> = ViolationCode::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes, VIOLATION_CODES);
        for code in ViolationCode::ALL {
            assert_eq!(ViolationCode::from_code(code.code()), Some(*code));
        }
    }

    /// The smallest message of each event, paid to this merchant, in the sandbox.
    fn of_event(body: &str) -> Message {
        let full = format!(
            "{body}&receiver_email=shop%40example.net&receiver_id=SHOPID0000001&test_ipn=1"
        );
        Message::parse(full.as_bytes()).unwrap_or_else(|e| panic!("{body}: {e}"))
    }

    /// One row of the module docs' table per event: the message, the rules (receiver, amount,
    /// final), and the report against `expected()` (EUR 24.90).
    /// (body, (receiver, amount, final), violations).
    type Row = (
        &'static str,
        (&'static str, &'static str, &'static str),
        &'static [(&'static str, Option<&'static str>)],
    );

    const ROWS: &[Row] = &[
        (
            "txn_type=web_accept&payment_status=Completed&mc_gross=24.90&mc_currency=EUR",
            ("receiver", "mc_gross", "payment_status"),
            &[],
        ),
        (
            "txn_type=express_checkout&payment_status=Completed&auth_id=A&mc_gross=24.90&mc_currency=EUR",
            ("receiver", "mc_gross", "payment_status"),
            &[],
        ),
        (
            "txn_type=web_accept&payment_status=Pending&pending_reason=echeck&mc_gross=24.90&mc_currency=EUR",
            ("receiver", "mc_gross", "payment_status"),
            &[("status_not_final", Some("payment_status"))],
        ),
        (
            "txn_type=express_checkout&payment_status=Pending&pending_reason=authorization&mc_gross=24.90&mc_currency=EUR",
            ("receiver", "mc_gross", "payment_status"),
            &[("status_not_final", Some("payment_status"))],
        ),
        (
            "txn_type=web_accept&payment_status=Processed&mc_gross=24.90&mc_currency=EUR",
            ("receiver", "mc_gross", "payment_status"),
            &[("status_not_final", Some("payment_status"))],
        ),
        (
            "txn_type=express_checkout&payment_status=Created&mc_gross=1.00&mc_currency=EUR",
            ("receiver", "mc_gross", "payment_status"),
            &[
                ("amount_mismatch", Some("mc_gross")),
                ("status_not_final", Some("payment_status")),
            ],
        ),
        (
            "txn_type=subscr_payment&payment_status=Completed&mc_gross=24.90&mc_currency=EUR",
            ("receiver", "mc_gross", "payment_status"),
            &[],
        ),
        (
            "txn_type=recurring_payment&mc_gross=24.90&mc_currency=EUR",
            ("receiver", "mc_gross", "payment_status"),
            &[("missing_field", Some("payment_status"))],
        ),
        (
            "txn_type=web_accept&payment_status=Denied&mc_gross=1.00&mc_currency=JPY",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=web_accept&payment_status=Failed",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=express_checkout&payment_status=Voided&auth_id=A",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=express_checkout&payment_status=Expired&auth_id=A",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "payment_status=Refunded&mc_gross=-5.00&mc_currency=EUR",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "payment_status=Reversed&reason_code=chargeback&mc_gross=-24.90&mc_currency=EUR",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "payment_status=Canceled_Reversal&mc_gross=24.90&mc_currency=EUR",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=subscr_signup&mc_amount3=24.90&mc_currency=EUR&period3=1+M",
            ("receiver", "mc_amount3", "always"),
            &[],
        ),
        (
            "txn_type=subscr_modify&mc_amount3=0.01&mc_currency=EUR&period3=1+M",
            ("receiver", "mc_amount3", "always"),
            &[("amount_mismatch", Some("mc_amount3"))],
        ),
        (
            "txn_type=subscr_cancel",
            ("receiver", "none", "always"),
            &[],
        ),
        ("txn_type=subscr_eot", ("receiver", "none", "always"), &[]),
        (
            "txn_type=subscr_failed",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=recurring_payment_profile_created",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=recurring_payment_profile_cancel",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=recurring_payment_expired",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=recurring_payment_suspended",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=recurring_payment_failed",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=recurring_payment_skipped",
            ("receiver", "none", "always"),
            &[],
        ),
        ("txn_type=mp_signup", ("receiver", "none", "always"), &[]),
        ("txn_type=mp_cancel", ("receiver", "none", "always"), &[]),
        (
            "txn_type=new_case&case_type=complaint&case_id=C1",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=adjustment&payment_status=Completed&case_id=C1&mc_gross=-24.90&mc_currency=EUR",
            ("receiver", "none", "always"),
            &[],
        ),
        (
            "txn_type=masspay&payment_status=Processed&payer_email=shop%40example.net&payer_id=SHOPID0000001",
            ("payer", "none", "always"),
            &[],
        ),
        (
            "transaction_type=Adaptive+Payment+PAY&status=COMPLETED&transaction%5B0%5D.receiver=shop%40example.net\
             &transaction%5B0%5D.amount=EUR+24.90&transaction%5B0%5D.status=Completed",
            ("transaction", "transaction", "adaptive"),
            &[],
        ),
        (
            "transaction_type=Adaptive+Payment+PREAPPROVAL&status=ACTIVE&approved=true&preapproval_key=PA-1",
            ("none", "none", "always"),
            &[],
        ),
        ("account_key=AK-1", ("none", "none", "always"), &[]),
        (
            "txn_type=web_accept&payment_status=Completed_Funds_Held&mc_gross=24.90&mc_currency=EUR",
            ("receiver", "none", "never"),
            &[("status_not_final", Some("payment_status"))],
        ),
        (
            "transaction_type=Adaptive+Payment+REFUND&status=COMPLETED",
            ("receiver", "none", "never"),
            &[("unknown_event", Some("transaction_type"))],
        ),
    ];

    #[test]
    fn every_event_has_its_row_of_rules() {
        let mut seen = Vec::new();
        for (body, rules, violations) in ROWS {
            let m = of_event(body);
            seen.push(m.event().code());
            assert_eq!(rules_for(m.event()), *rules, "{body}");
            assert_eq!(check(&policy(), m, &expected()), *violations, "{body}");
        }
        // Webhook-only events have no IPN body: core/tests/webhooks.rs judges them.
        for code in crate::EventCode::ALL.iter().filter(|c| !c.webhook_only()) {
            assert!(seen.contains(&code.code()), "no row for {code}");
        }
    }

    #[test]
    fn adaptive_error_status_refused() {
        // The request failed while this merchant's transaction was still pending.
        let m = of_event(
            "transaction_type=Adaptive+Payment+PAY&status=ERROR&transaction%5B0%5D.receiver=shop%40example.net\
             &transaction%5B0%5D.amount=EUR+24.90&transaction%5B0%5D.status=Pending",
        );
        assert_eq!(*m.event(), Event::AdaptivePayment);
        let report = policy().check(&verified(m), &expected());
        let found: Vec<_> = report
            .violations
            .iter()
            .map(|v| (v.code.code(), v.field, v.detail))
            .collect();
        assert_eq!(
            found,
            [
                ("status_not_final", Some("status"), Some("ERROR")),
                (
                    "status_not_final",
                    Some("transaction[n].status"),
                    Some("Pending")
                ),
            ]
        );
        // COMPLETED overall, but this merchant's own transaction is not.
        let m = of_event(
            "transaction_type=Adaptive+Payment+PAY&status=COMPLETED\
             &transaction%5B0%5D.receiver=partner%40example.com&transaction%5B0%5D.status=Completed\
             &transaction%5B1%5D.receiver=shop%40example.net&transaction%5B1%5D.amount=EUR+24.90\
             &transaction%5B1%5D.status=Refunded",
        );
        assert_eq!(
            check(&policy(), m, &expected()),
            [("status_not_final", Some("transaction[n].status"))]
        );
        // No status at all.
        let m = of_event(
            "transaction_type=Adaptive+Payment+PAY&transaction%5B0%5D.receiver=shop%40example.net\
             &transaction%5B0%5D.amount=EUR+24.90",
        );
        assert_eq!(
            check(&policy(), m, &expected()),
            [
                ("missing_field", Some("status")),
                ("missing_field", Some("transaction[n].status"))
            ]
        );
    }

    #[test]
    fn empty_payment_status_refused() {
        for body in [
            "txn_type=web_accept&payment_status=&mc_gross=24.90&mc_currency=EUR",
            "txn_type=web_accept&mc_gross=24.90&mc_currency=EUR",
            "txn_type=cart&payment_status=&mc_gross=24.90&mc_currency=EUR",
            "mc_gross=24.90&mc_currency=EUR&payment_status=",
        ] {
            let m = of_event(body);
            assert_eq!(
                check(&policy(), m, &expected()),
                [("missing_field", Some("payment_status"))],
                "{body}"
            );
        }
        // Nothing says what the notification is.
        let m = of_event("custom=1");
        assert_eq!(
            check(&policy(), m, &Expected::any_amount()),
            [("unknown_event", None)]
        );
    }

    #[test]
    fn configured_receiver_id_decides_whatever_the_emails_say() {
        // The attacker's own account paid, with `business` set to the shop's address.
        let m = message(&[("receiver_id", Some("ATTACKER0001"))]);
        assert_eq!(
            check(&policy(), m, &expected()),
            [("receiver_mismatch", Some("receiver_id"))]
        );
        // Without ids configured, e-mails decide as before.
        let by_email = Policy::new(Environment::Sandbox).receiver_email("shop@example.net");
        let m = message(&[("receiver_id", Some("ATTACKER0001"))]);
        assert_eq!(check(&by_email, m, &expected()), []);
        // Mass Pay: the payer's id.
        let mp = "txn_type=masspay&payment_status=Processed&test_ipn=1&payer_email=shop%40example.net\
            &payer_id=THIEF0000001&masspay_txn_id_1=1MP";
        let m = Message::parse(mp.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            check(&policy(), m, &Expected::any_amount()),
            [("receiver_mismatch", Some("payer_id"))]
        );
    }

    #[test]
    fn adaptive_receivers_by_account_id() {
        let pay = |receiver: &str| {
            of_event(&format!(
                "transaction_type=Adaptive+Payment+PAY&status=COMPLETED&transaction%5B0%5D.receiver={receiver}\
                 &transaction%5B0%5D.amount=EUR+24.90&transaction%5B0%5D.status=Completed"
            ))
        };
        assert_eq!(check(&policy(), pay("SHOPID0000001"), &expected()), []);
        assert_eq!(
            check(&policy(), pay("OTHERID00001"), &expected()),
            [("receiver_mismatch", Some("transaction[n].receiver"))]
        );
        let by_email = Policy::new(Environment::Sandbox).receiver_email("shop@example.net");
        assert_eq!(
            check(&by_email, pay("SHOPID0000001"), &expected()),
            [("receiver_mismatch", Some("transaction[n].receiver"))]
        );
        assert_eq!(check(&by_email, pay("shop%40example.net"), &expected()), []);
    }

    #[test]
    fn values_a_rule_needs_that_cannot_be_read_are_refused_by_name() {
        let m = message(&[("mc_gross", Some("24%2C90"))]);
        assert_eq!(
            check(&policy(), m, &expected()),
            [("unreadable_field", Some("mc_gross"))]
        );
        let m = message(&[("mc_currency", Some("eur"))]);
        assert_eq!(
            check(&policy(), m, &expected()),
            [("unreadable_field", Some("mc_currency"))]
        );
        // A sandbox flag that cannot be read is not "live".
        let live = Policy::new(Environment::Live).receiver_email("shop@example.net");
        let m = message(&[("test_ipn", Some("yes"))]);
        assert_eq!(
            check(&live, m, &Expected::any_amount()),
            [("unreadable_field", Some("test_ipn"))]
        );
        let m = of_event(
            "transaction_type=Adaptive+Payment+PAY&status=COMPLETED&transaction%5B0%5D.receiver=shop%40example.net\
             &transaction%5B0%5D.amount=24.90&transaction%5B0%5D.status=Completed",
        );
        assert_eq!(
            check(&policy(), m, &expected()),
            [
                ("unreadable_field", Some("transaction[n].amount")),
                ("unreadable_field", Some("transaction[n].amount"))
            ]
        );
        // A value no rule needs does not stop the message: a refund whose date PayPal writes in
        // a new way still reaches the host.
        let m =
            of_event("payment_status=Refunded&mc_gross=-24.90&mc_currency=EUR&payment_date=soon");
        assert!(m.is_unreadable("payment_date"));
        assert_eq!(check(&policy(), m, &expected()), []);
    }
}
