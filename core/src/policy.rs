//! The business rules a listener must apply before it acts on a verified message.
//!
//! A `VERIFIED` answer only says PayPal sent the message. Before shipping anything, the listener
//! must also know that the money went to *this* merchant, in the amount and currency of the
//! order, in the environment the listener runs in, and that the payment is final. [`Policy`]
//! holds what the host configures once; [`Expected`] what it looks up from its own order;
//! [`Policy::check`] returns every [`Violation`] at once, each with a stable code and the
//! variable concerned, never a value, so that a refusal can be logged as it is.
//!
//! The checks run only on a [`Verified`] message, which only a `Verified` verdict makes:
//!
//! ```compile_fail
//! # let message = ipnkit::Message::parse(b"txn_id=1").unwrap();
//! // A message that was not verified cannot be checked: there is no way to build `Verified`.
//! let verified = ipnkit::Verified { message };
//! ```
//!
//! | code | when |
//! |---|---|
//! | `not_verified` | the verdict was not `Verified` ([`Policy::evaluate`] only) |
//! | `receiver_not_configured` | the policy names no receiver: nothing can be accepted |
//! | `receiver_mismatch` | neither `receiver_id`, `receiver_email` nor `business` is this merchant's (for Adaptive Payments: no `transaction[n].receiver` is; for Mass Pay, sent *by* the merchant: the payer is not) |
//! | `amount_mismatch` | the gross differs from the expected amount (exact decimal comparison) |
//! | `currency_mismatch` | the currency differs from the expected one |
//! | `environment_mismatch` | `test_ipn` disagrees with the configured environment (a sandbox message verifies as genuine at the sandbox, so it must never reach a live listener's books) |
//! | `status_not_final` | `payment_status` is not one the policy treats as final (`Pending`, with its reason as detail) |
//! | `missing_field` | a rule needs a variable the message lacks (no receiver, no gross, no currency) |

use std::fmt;

use serde::Serialize;

use crate::Decimal;
use crate::event::Family;
use crate::message::Message;
use crate::money::Currency;
use crate::verify::{Environment, Verdict};
use crate::vocab::{PaymentStatus, PendingReason};

/// A message PayPal vouched for. Only [`Verified::new`] with a [`Verdict::Verified`] builds one,
/// so the business rules cannot run on anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    message: Message,
}

/// The verdict was not `Verified`: the message is handed back, with the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotVerified {
    /// The message, unchanged (boxed: an error stays small).
    pub message: Box<Message>,
    /// What PayPal answered.
    pub verdict: Verdict,
}

impl Verified {
    /// Marks `message` verified when `verdict` is [`Verdict::Verified`], and only then.
    pub fn new(message: Message, verdict: Verdict) -> Result<Verified, NotVerified> {
        if verdict.is_verified() {
            Ok(Verified { message })
        } else {
            Err(NotVerified {
                message: Box::new(message),
                verdict,
            })
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

impl Policy {
    /// A policy for `environment`, with `Completed` as the only final status and no receiver
    /// yet (add at least one: a policy without receivers accepts nothing).
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

    /// Adds this merchant's PayPal account id (`receiver_id`), compared exactly.
    pub fn receiver_id(mut self, id: impl AsRef<str>) -> Policy {
        self.receiver_ids.push(id.as_ref().trim().to_owned());
        self
    }

    /// Replaces the statuses treated as final (default: `Completed` only). A merchant that ships
    /// on `Processed` Mass Pay or on `Canceled_Reversal` says so here.
    pub fn final_statuses(mut self, statuses: impl IntoIterator<Item = PaymentStatus>) -> Policy {
        self.final_statuses = statuses.into_iter().collect();
        self
    }

    /// The environment the policy is for.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Runs every rule on a verified message; an empty report means accept.
    pub fn check(&self, verified: &Verified, expected: &Expected) -> Report {
        let m = verified.message();
        let mut report = Report::default();
        self.check_environment(m, &mut report);
        let matched = self.check_receiver(m, &mut report);
        check_money(m, expected, matched, &mut report);
        self.check_status(m, &mut report);
        report
    }

    /// The whole decision in one call: `not_verified` when the verdict is not `Verified`, else
    /// [`check`](Policy::check). Returns the report and, when it is empty, the verified message.
    pub fn evaluate(
        &self,
        message: Message,
        verdict: Verdict,
        expected: &Expected,
    ) -> (Report, Option<Verified>) {
        match Verified::new(message, verdict) {
            Ok(verified) => {
                let report = self.check(&verified, expected);
                let accepted = report.is_accept().then_some(verified);
                (report, accepted)
            }
            Err(_) => {
                let mut report = Report::default();
                report.push(ViolationCode::NotVerified, None);
                (report, None)
            }
        }
    }

    fn check_environment(&self, m: &Message, report: &mut Report) {
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

    /// Checks who was paid; returns the Adaptive transaction index that paid this merchant.
    fn check_receiver(&self, m: &Message, report: &mut Report) -> Option<usize> {
        if self.receiver_emails.is_empty() && self.receiver_ids.is_empty() {
            report.push(ViolationCode::ReceiverNotConfigured, None);
            return None;
        }
        match m.family() {
            Family::AdaptivePay | Family::AdaptivePreapproval if !m.transactions().is_empty() => {
                let ours = m
                    .transactions()
                    .iter()
                    .position(|t| t.receiver.as_deref().is_some_and(|r| self.is_our_email(r)));
                if ours.is_none() {
                    report.push(
                        ViolationCode::ReceiverMismatch,
                        Some("transaction[n].receiver"),
                    );
                }
                ours
            }
            // Mass Pay notifications are about money this merchant sent.
            Family::Masspay => {
                let (id, email) = (m.payer_id(), m.payer_email());
                if id.is_none() && email.is_none() {
                    report.push(ViolationCode::MissingField, Some("payer_email"));
                } else if !(id.is_some_and(|i| self.is_our_id(i))
                    || email.is_some_and(|e| self.is_our_email(e)))
                {
                    report.push(ViolationCode::ReceiverMismatch, Some("payer_email"));
                }
                None
            }
            _ => {
                let (id, email, business) = (m.receiver_id(), m.receiver_email(), m.business());
                if id.is_none() && email.is_none() && business.is_none() {
                    report.push(ViolationCode::MissingField, Some("receiver_email"));
                } else if !(id.is_some_and(|i| self.is_our_id(i))
                    || email.is_some_and(|e| self.is_our_email(e))
                    || business.is_some_and(|b| self.is_our_email(b)))
                {
                    report.push(ViolationCode::ReceiverMismatch, Some("receiver_email"));
                }
                None
            }
        }
    }

    fn check_status(&self, m: &Message, report: &mut Report) {
        // Notifications without a payment (sign-ups, profiles, disputes) have no status to judge:
        // the host acts on their event.
        let Some(status) = m.payment_status() else {
            return;
        };
        if !self.final_statuses.contains(status) {
            let detail = match (status, m.pending_reason()) {
                (PaymentStatus::Pending, Some(reason)) => {
                    Some(known_text(reason.as_str(), PendingReason::KNOWN))
                }
                _ => Some(known_text(status.as_str(), PaymentStatus::KNOWN)),
            };
            report.violations.push(Violation {
                code: ViolationCode::StatusNotFinal,
                field: Some("payment_status"),
                detail,
            });
        }
    }
}

/// PayPal's documented word, or `other`: details never carry a value PayPal did not document.
fn known_text(text: &str, known: &'static [&'static str]) -> &'static str {
    known
        .iter()
        .find(|k| **k == text)
        .copied()
        .unwrap_or("other")
}

fn check_money(m: &Message, expected: &Expected, receiver_tx: Option<usize>, report: &mut Report) {
    if expected.amount.is_none() && expected.currency.is_none() {
        return;
    }
    // The money that reached this merchant: its Adaptive transaction, else the gross.
    let (gross, currency, amount_field, currency_field) =
        match receiver_tx.and_then(|i| m.transactions().get(i)) {
            Some(t) => (
                t.amount,
                t.amount.and_then(|a| a.currency),
                "transaction[n].amount",
                "transaction[n].amount",
            ),
            None => (m.mc_gross(), m.mc_currency(), "mc_gross", "mc_currency"),
        };
    if let Some(amount) = expected.amount {
        match gross {
            Some(g) if g.amount == amount => {}
            Some(_) => report.push(ViolationCode::AmountMismatch, Some(amount_field)),
            None => report.push(ViolationCode::MissingField, Some(amount_field)),
        }
    }
    if let Some(expected_currency) = expected.currency {
        match currency {
            Some(c) if c == expected_currency => {}
            Some(_) => report.push(ViolationCode::CurrencyMismatch, Some(currency_field)),
            None => report.push(ViolationCode::MissingField, Some(currency_field)),
        }
    }
}

/// What the host expects of this message, looked up from its own order (by `invoice`, `custom`,
/// `item_number`…). Leave a field `None` to skip its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expected {
    /// The gross the order is for (compared exactly: `19.95` equals `19.950`, not `19.94`).
    pub amount: Option<Decimal>,
    /// The order's currency.
    pub currency: Option<Currency>,
}

impl Expected {
    /// No expectation: only the policy's rules run.
    pub fn none() -> Expected {
        Expected::default()
    }

    /// Expect this amount in this currency.
    pub fn money(amount: Decimal, currency: Currency) -> Expected {
        Expected {
            amount: Some(amount),
            currency: Some(currency),
        }
    }
}

/// The stable code of a [`Violation`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ViolationCode {
    /// PayPal did not answer `VERIFIED`.
    NotVerified,
    /// The policy names no receiver.
    ReceiverNotConfigured,
    /// The money did not go to this merchant.
    ReceiverMismatch,
    /// The amount is not the expected one.
    AmountMismatch,
    /// The currency is not the expected one.
    CurrencyMismatch,
    /// `test_ipn` disagrees with the configured environment.
    EnvironmentMismatch,
    /// The payment is not in a final status.
    StatusNotFinal,
    /// A rule needs a variable the message lacks.
    MissingField,
}

/// Every violation code, for bindings to test against.
pub const VIOLATION_CODES: &[&str] = &[
    "not_verified",
    "receiver_not_configured",
    "receiver_mismatch",
    "amount_mismatch",
    "currency_mismatch",
    "environment_mismatch",
    "status_not_final",
    "missing_field",
];

impl ViolationCode {
    /// The stable snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            ViolationCode::NotVerified => "not_verified",
            ViolationCode::ReceiverNotConfigured => "receiver_not_configured",
            ViolationCode::ReceiverMismatch => "receiver_mismatch",
            ViolationCode::AmountMismatch => "amount_mismatch",
            ViolationCode::CurrencyMismatch => "currency_mismatch",
            ViolationCode::EnvironmentMismatch => "environment_mismatch",
            ViolationCode::StatusNotFinal => "status_not_final",
            ViolationCode::MissingField => "missing_field",
        }
    }
}

impl Serialize for ViolationCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
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
        f.write_str(self.code.as_str())?;
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

    /// Whether no rule was broken: the host may act.
    pub fn is_accept(&self) -> bool {
        self.violations.is_empty()
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
    use crate::verify::Unexpected;

    const GOOD: &str = "txn_type=web_accept&txn_id=4RT58091KX0312345&payment_status=Completed\
        &mc_gross=24.90&mc_currency=EUR&receiver_email=shop%40example.net&receiver_id=SHOPID0000001\
        &business=shop%40example.net&test_ipn=1&payer_email=buyer%40example.org";

    fn policy() -> Policy {
        Policy::new(Environment::Sandbox)
            .receiver_email("shop@example.net")
            .receiver_id("SHOPID0000001")
    }

    fn expected() -> Expected {
        Expected::money(
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

    fn check(p: &Policy, m: Message, e: &Expected) -> Vec<(&'static str, Option<&'static str>)> {
        let verified = Verified::new(m, Verdict::Verified).unwrap_or_else(|_| panic!("verified"));
        p.check(&verified, e)
            .violations
            .iter()
            .map(|v| (v.code.as_str(), v.field))
            .collect()
    }

    #[test]
    fn a_good_message_is_accepted() {
        assert_eq!(check(&policy(), message(&[]), &expected()), []);
        assert_eq!(check(&policy(), message(&[]), &Expected::none()), []);
    }

    #[test]
    fn only_a_verified_verdict_lets_checks_run() {
        for verdict in [
            Verdict::Invalid,
            Verdict::from_response(200, b"<html>VERIFIED</html>"),
            Verdict::Unexpected(Unexpected::HttpStatus(503)),
        ] {
            let (report, accepted) = policy().evaluate(message(&[]), verdict, &expected());
            assert!(accepted.is_none(), "{verdict}");
            assert_eq!(report.violations.len(), 1);
            assert!(report.has(ViolationCode::NotVerified));
            assert!(Verified::new(message(&[]), verdict).is_err());
        }
        let (report, accepted) = policy().evaluate(message(&[]), Verdict::Verified, &expected());
        assert!(report.is_accept() && accepted.is_some());
    }

    #[test]
    fn receiver_swapped() {
        let m = message(&[
            ("receiver_email", Some("attacker%40example.com")),
            ("receiver_id", Some("ATTACKER0001")),
            ("business", Some("attacker%40example.com")),
        ]);
        assert_eq!(
            check(&policy(), m, &expected()),
            [("receiver_mismatch", Some("receiver_email"))]
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
        let verified = Verified::new(m, Verdict::Verified).unwrap_or_else(|_| panic!());
        let report = policy().check(&verified, &expected());
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
        let m = message(&[("payment_status", Some("Refunded"))]);
        assert_eq!(
            check(&policy(), m, &Expected::none()),
            [("status_not_final", Some("payment_status"))]
        );
        // A status PayPal never documented is reported as `other`, not echoed.
        let m = message(&[("payment_status", Some("Weird_New_Status"))]);
        let verified = Verified::new(m, Verdict::Verified).unwrap_or_else(|_| panic!());
        assert_eq!(
            policy().check(&verified, &Expected::none()).violations[0].detail,
            Some("other")
        );
        // The host may widen the final statuses.
        let lenient = policy().final_statuses([PaymentStatus::Completed, PaymentStatus::Processed]);
        let m = message(&[("payment_status", Some("Processed"))]);
        assert_eq!(check(&lenient, m, &expected()), []);
        // Notifications without a payment have no status to judge.
        let m = message(&[
            ("payment_status", None),
            ("txn_type", Some("subscr_signup")),
        ]);
        assert_eq!(check(&policy(), m, &Expected::none()), []);
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
        let verified = Verified::new(m, Verdict::Verified).unwrap_or_else(|_| panic!());
        let report = live.check(&verified, &expected());
        let codes: Vec<_> = report.violations.iter().map(|v| v.code.as_str()).collect();
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
            &transaction%5B1%5D.receiver=shop%40example.net&transaction%5B1%5D.amount=EUR+24.90";
        let m = Message::parse(pay.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(check(&policy(), m, &expected()), []);
        let m = Message::parse(pay.replace("shop%40", "other%40").as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            check(&policy(), m, &expected()),
            [
                ("receiver_mismatch", Some("transaction[n].receiver")),
                ("missing_field", Some("mc_gross")),
                ("missing_field", Some("mc_currency"))
            ]
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
        let p = policy().final_statuses([PaymentStatus::Processed]);
        let m = Message::parse(mp.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(check(&p, m, &Expected::none()), []);
        let m = Message::parse(mp.replace("shop%40", "thief%40").as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            check(&p, m, &Expected::none()),
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
    fn violation_codes_are_listed() {
        let all = [
            ViolationCode::NotVerified,
            ViolationCode::ReceiverNotConfigured,
            ViolationCode::ReceiverMismatch,
            ViolationCode::AmountMismatch,
            ViolationCode::CurrencyMismatch,
            ViolationCode::EnvironmentMismatch,
            ViolationCode::StatusNotFinal,
            ViolationCode::MissingField,
        ];
        let codes: Vec<_> = all.iter().map(|c| c.as_str()).collect();
        assert_eq!(codes, VIOLATION_CODES);
    }
}
