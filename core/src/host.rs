//! The host API: everything a binding needs, so that a binding only converts.
//!
//! A host (Python, Node, wasm, PHP, the CLI) receives bytes, does its own HTTP and storage, and
//! asks ipnkit three things. This module answers each in one call, with plain data in and out:
//!
//! 1. [`Notification::new`]: the raw bytes, kept, parsed once within [`Limits`]; the postback and
//!    the [verification request](Notification::verification_request) are always available,
//!    whether or not the values decode; the typed [`Message`] or the [`Error`] that stopped it.
//! 2. [`Config::from_data`] and [`Expected::from_data`]: the host's configuration and the order it
//!    expects, as the map/object/array its language has (serde), checked here. Amounts are
//!    strings parsed exactly; a float, a string where a list belongs, an unknown key are errors
//!    naming the key ([`Error::WrongType`], [`Error::InvalidConfiguration`]).
//! 3. [`Notification::decide`]: PayPal's answer as it came, the configuration, the expected
//!    order and the host's stored delivery keys in; the [`Decision`] out — verdict, event,
//!    violations, delivery key and classification, and the one [`Action`] to take. It is
//!    [`Serialize`], as are errors (`{code, kind, field, message}`), so a binding converts it
//!    generically.
//!
//! [`schema`] lists what the bindings generate their types and exception classes from.
//!
//! ```
//! use ipnkit::host::{Action, Answer, Config, Notification};
//! use ipnkit::Expected;
//!
//! let config = Config::from_json(r#"{"environment": "sandbox", "receiver_emails": ["shop@example.net"]}"#)?;
//! let raw = b"txn_type=web_accept&txn_id=4RT58091KX0312345&payment_status=Completed\
//!     &mc_gross=24.90&mc_currency=EUR&receiver_email=shop%40example.net&test_ipn=1".to_vec();
//! let notification = Notification::new(raw, config.limits())?;
//! let request = notification.verification_request(&config);
//! assert!(request.body.starts_with(b"cmd=_notify-validate&txn_type=web_accept"));
//!
//! // The host POSTs the request, then hands over PayPal's answer as it came.
//! let expected = Expected::from_json(r#"{"amount": "24.90", "currency": "EUR"}"#)?;
//! let stored: [&str; 0] = [];
//! let decision = notification.decide(Answer::Http { status: 200, body: b"VERIFIED" }, &config, &expected, &stored)?;
//! assert_eq!(decision.action, Action::Act);
//! assert_eq!(decision.event, Some("payment_completed"));
//! // Store `decision.delivery_key` with the action, in one transaction.
//! assert_eq!(decision.delivery_key.as_deref(), Some("txn:4RT58091KX0312345:Completed"));
//! # Ok::<(), ipnkit::Error>(())
//! ```

use serde::{Deserializer, Serialize};
use serde_json::json;

use crate::body::{Body, Limits, MAX_BODY_BYTES};
use crate::delivery::{DELIVERY_CODES, Delivery, DeliveryKey, classify};
use crate::error::{ERROR_KINDS, Error, Problem};
use crate::event::EVENTS;
use crate::message::{GROUPS, MODELLED_KINDS, Message, NOTICE_CODES};
use crate::money::{Currency, parse_amount};
use crate::policy::{Expected, Policy, Report, VIOLATION_CODES, Violation, rules_for};
use crate::verify::{Environment, Verdict, VerificationRequest, Verifier};
use crate::vocab::{PaymentStatus, VOCABULARIES};
use crate::{Decimal, Event, Family};
use plain::invalid;

/// What a host configures once: the environment, who the merchant is, the limits, and (for tests)
/// where postbacks go. Built from plain data with [`Config::from_data`].
///
/// | key | type | default |
/// |---|---|---|
/// | `environment` | `"live"` or `"sandbox"` | required |
/// | `receiver_emails` | list of strings | `[]` |
/// | `receiver_ids` | list of strings | `[]` |
/// | `final_statuses` | list of PayPal's `payment_status` words, exactly as PayPal writes them (`Completed`, `Processed`, `Created`…) | `["Completed"]` |
/// | `limits` | map: `max_body_bytes`, `max_fields`, `max_key_bytes` (positive integers) | [`Limits::DEFAULT`] |
/// | `verify_url_for_testing` | string: a local stand-in's base URL | PayPal |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    policy: Policy,
    verifier: Verifier,
    limits: Limits,
}

/// A configuration as read from plain data, before its values are checked.
struct ConfigData<'p> {
    environment: &'p str,
    receiver_emails: Vec<&'p str>,
    receiver_ids: Vec<&'p str>,
    final_statuses: Option<Vec<&'p str>>,
    limits: [Option<i128>; 3],
    verify_url_for_testing: Option<&'p str>,
}

impl<'p> ConfigData<'p> {
    /// The keys and their types: a key the configuration does not have, a key given twice or a
    /// value of the wrong type is refused here; the values are checked by [`Config::from_parts`].
    fn read(data: &'p Plain) -> Result<ConfigData<'p>, Error> {
        let [environment, emails, ids, statuses, limits, url] = plain::entries(
            data,
            "",
            [
                "environment",
                "receiver_emails",
                "receiver_ids",
                "final_statuses",
                "limits",
                "verify_url_for_testing",
            ],
        )?;
        let environment = match environment {
            None => return Err(invalid("environment", Problem::MissingKey)),
            Some(Plain::Text(text)) => text.as_str(),
            Some(_) => return Err(plain::wrong("environment")),
        };
        let receiver_emails = plain::texts(emails, "receiver_emails", false)?.unwrap_or_default();
        let receiver_ids = plain::texts(ids, "receiver_ids", false)?.unwrap_or_default();
        let final_statuses = plain::texts(statuses, "final_statuses", true)?;
        let limits = match limits {
            None | Some(Plain::Null) => [None; 3],
            Some(limits) => {
                let names = ["max_body_bytes", "max_fields", "max_key_bytes"];
                let values = plain::entries(limits, "limits", names)?;
                let mut read = [None; 3];
                for ((slot, value), name) in read.iter_mut().zip(values).zip(names) {
                    *slot = plain::optional_int(value, &plain::join("limits", name))?;
                }
                read
            }
        };
        Ok(ConfigData {
            environment,
            receiver_emails,
            receiver_ids,
            final_statuses,
            limits,
            verify_url_for_testing: plain::optional_text(url, "verify_url_for_testing")?,
        })
    }
}

fn limit(value: Option<i128>, default: usize, max: usize, field: &str) -> Result<usize, Error> {
    match value {
        None => Ok(default),
        Some(n) => usize::try_from(n)
            .ok()
            .filter(|&n| n > 0 && n <= max)
            .ok_or_else(|| invalid(field, Problem::InvalidValue)),
    }
}

impl Config {
    /// A configuration for `environment` with no receiver yet, the default limits and
    /// `Completed` as the only final payment status.
    pub fn new(environment: Environment) -> Config {
        Config {
            policy: Policy::new(environment),
            verifier: Verifier::new(environment),
            limits: Limits::DEFAULT,
        }
    }

    /// The configuration from a host's plain data (see the table above): a Python dict, a JS
    /// object, a PHP array, JSON — anything with a serde [`Deserializer`].
    pub fn from_data<'de, D: Deserializer<'de>>(data: D) -> Result<Config, Error> {
        Config::from_plain(&plain::from_data(data)?)
    }

    /// The configuration from JSON text.
    pub fn from_json(text: &str) -> Result<Config, Error> {
        Config::from_plain(&plain::from_json(text)?)
    }

    /// The configuration from [`Plain`] data (see the table above).
    pub fn from_plain(data: &Plain) -> Result<Config, Error> {
        Config::from_parts(ConfigData::read(data)?)
    }

    fn from_parts(data: ConfigData<'_>) -> Result<Config, Error> {
        let environment: Environment = data
            .environment
            .parse()
            .map_err(|_| invalid("environment", Problem::InvalidValue))?;
        let mut policy = Policy::new(environment);
        for email in &data.receiver_emails {
            policy = policy.receiver_email(email);
        }
        for id in &data.receiver_ids {
            policy = policy.receiver_id(id);
        }
        if let Some(words) = &data.final_statuses {
            let statuses = words
                .iter()
                .map(|&word| {
                    // Exactly as PayPal writes it: `refunded` would never match a message.
                    if PaymentStatus::KNOWN.contains(&word) {
                        Ok(PaymentStatus::parse(word))
                    } else {
                        Err(invalid("final_statuses", Problem::InvalidValue))
                    }
                })
                .collect::<Result<Vec<_>, _>>()?;
            policy = policy.final_statuses(statuses);
        }
        let [max_body_bytes, max_fields, max_key_bytes] = data.limits;
        let limits = Limits {
            max_body_bytes: limit(
                max_body_bytes,
                Limits::DEFAULT.max_body_bytes,
                MAX_BODY_BYTES,
                "limits.max_body_bytes",
            )?,
            max_fields: limit(
                max_fields,
                Limits::DEFAULT.max_fields,
                MAX_BODY_BYTES,
                "limits.max_fields",
            )?,
            max_key_bytes: limit(
                max_key_bytes,
                Limits::DEFAULT.max_key_bytes,
                MAX_BODY_BYTES,
                "limits.max_key_bytes",
            )?,
        };
        let mut verifier = Verifier::new(environment);
        if let Some(url) = data.verify_url_for_testing {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(invalid("verify_url_for_testing", Problem::InvalidValue));
            }
            verifier = verifier.with_base_url_for_testing(url.to_owned());
        }
        Ok(Config {
            policy,
            verifier,
            limits,
        })
    }

    /// The environment.
    pub fn environment(&self) -> Environment {
        self.policy.environment()
    }

    /// The limits bodies are parsed within.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The request that verifies the body `raw` in the configured environment, once the body
    /// passes the limits; its values are not decoded (see [`postback`]).
    pub fn verification_request(&self, raw: &[u8]) -> Result<VerificationRequest, Error> {
        Ok(self.verifier.request(&Body::parse_with(raw, self.limits)?))
    }

    /// The business rules.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Where postbacks go.
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

impl Expected {
    /// What the host expects, from its plain data: `{"amount": "19.95", "currency": "USD"}`,
    /// or `{"no_amount": true}` (optionally with a `currency`) when the host says explicitly
    /// that no amount is expected. An amount is a string in PayPal's plain decimal form, never a
    /// number (a float would be rounded): anything else is [`Error::WrongType`]. A missing or
    /// `null` amount without `no_amount` is an error, never a silent skip.
    pub fn from_data<'de, D: Deserializer<'de>>(data: D) -> Result<Expected, Error> {
        Expected::from_plain(&plain::from_data(data)?)
    }

    /// What the host expects, from JSON text.
    pub fn from_json(text: &str) -> Result<Expected, Error> {
        Expected::from_plain(&plain::from_json(text)?)
    }

    /// What the host expects, from [`Plain`] data (see [`Expected::from_data`]).
    pub fn from_plain(data: &Plain) -> Result<Expected, Error> {
        let [amount, currency, no_amount] =
            plain::entries(data, "", ["amount", "currency", "no_amount"])?;
        let amount = plain::optional_text(amount, "amount")?;
        let currency = plain::optional_text(currency, "currency")?;
        let amount: Option<Decimal> = match (amount, plain::flag(no_amount, "no_amount")?) {
            (Some(_), true) => return Err(invalid("no_amount", Problem::Conflict)),
            (None, false) => return Err(invalid("amount", Problem::MissingKey)),
            (None, true) => None,
            (Some(text), false) => {
                Some(parse_amount(text).ok_or_else(|| invalid("amount", Problem::InvalidValue))?)
            }
        };
        let currency = match currency {
            None if amount.is_some() => return Err(invalid("currency", Problem::MissingKey)),
            None => None,
            Some(code) => Some(
                Currency::parse(code).ok_or_else(|| invalid("currency", Problem::InvalidValue))?,
            ),
        };
        Ok(Expected { amount, currency })
    }
}

/// PayPal's answer to a postback, as the host's HTTP client got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer<'a> {
    /// An HTTP response: its status and body, untouched.
    Http {
        /// The HTTP status.
        status: u16,
        /// The response body.
        body: &'a [u8],
    },
    /// No HTTP answer at all: a timeout, a refused or dropped connection, a TLS failure.
    NoAnswer,
}

impl<'a> Answer<'a> {
    /// The answer as a host holds it: the HTTP status and the body, or no status when no HTTP
    /// answer came at all (the body is then empty and not read).
    pub fn new(status: Option<u16>, body: &'a [u8]) -> Answer<'a> {
        match status {
            Some(status) => Answer::Http { status, body },
            None => Answer::NoAnswer,
        }
    }

    /// What the answer means.
    pub fn verdict(self) -> Verdict {
        match self {
            Answer::Http { status, body } => Verdict::from_response(status, body),
            Answer::NoAnswer => Verdict::no_answer(),
        }
    }
}

/// One received notification, owned: the raw bytes, parsed once, and the typed message or the
/// error that stopped it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    body: Body<'static>,
    message: Result<Message, Error>,
}

impl Notification {
    /// Takes the raw bytes PayPal POSTed. Fails only when the body itself is refused (empty, or
    /// over `limits`): then there is nothing to post back. A body whose values do not decode is
    /// kept, with its error ([`message`](Notification::message)).
    pub fn new(raw: Vec<u8>, limits: Limits) -> Result<Notification, Error> {
        let (body, fields) = Body::parse_and_decode(raw, limits)?;
        let message = fields.and_then(Message::from_fields);
        Ok(Notification { body, message })
    }

    /// [`new`](Notification::new) from borrowed bytes (a host's buffer): a body over the limits
    /// is refused before it is copied.
    pub fn copy_of(raw: &[u8], limits: Limits) -> Result<Notification, Error> {
        limits.check_len(raw.len())?;
        Notification::new(raw.to_vec(), limits)
    }

    /// The raw body, byte for byte.
    pub fn raw(&self) -> &[u8] {
        self.body.as_bytes()
    }

    /// The parsed body.
    pub fn body(&self) -> &Body<'static> {
        &self.body
    }

    /// The typed message, or the error that stopped it (a charset, an escape, a duplicate).
    pub fn message(&self) -> Result<&Message, &Error> {
        self.message.as_ref()
    }

    /// `cmd=_notify-validate&` followed by the body, byte for byte.
    pub fn postback(&self) -> Vec<u8> {
        self.body.postback()
    }

    /// The request that verifies this notification in the configured environment.
    pub fn verification_request(&self, config: &Config) -> VerificationRequest {
        config.verifier.request(&self.body)
    }

    /// Everything a host decides on, from PayPal's `answer`, the `config`, the `expected` order
    /// and the delivery keys the host stored under this message's lookup id (oldest first).
    /// Fails only when a stored key is not one ipnkit makes ([`Error::InvalidDeliveryKey`]).
    pub fn decide<S: AsRef<str>>(
        &self,
        answer: Answer<'_>,
        config: &Config,
        expected: &Expected,
        stored: &[S],
    ) -> Result<Decision, Error> {
        let verdict = answer.verdict();
        let message = match &self.message {
            Ok(message) => message,
            Err(error) => {
                return Ok(Decision {
                    action: if verdict.is_unexpected() {
                        Action::Retry
                    } else {
                        Action::Refuse
                    },
                    verdict,
                    event: None,
                    family: None,
                    violations: if verdict.is_verified() {
                        Vec::new()
                    } else {
                        Report::not_verified().violations
                    },
                    error: Some(error.clone()),
                    delivery_key: None,
                    lookup_id: None,
                    delivery: None,
                });
            }
        };
        let stored = stored
            .iter()
            .map(|k| DeliveryKey::from_stored(k.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        let report = if verdict.is_verified() {
            config.policy.check_verified_message(message, expected)
        } else {
            Report::not_verified()
        };
        let delivery = classify(message, &stored);
        let action = match verdict {
            Verdict::Unexpected(_) => Action::Retry,
            Verdict::Invalid => Action::Refuse,
            Verdict::Verified if !report.is_accept() => Action::Refuse,
            Verdict::Verified if delivery.is_actionable() => Action::Act,
            Verdict::Verified => Action::Skip,
        };
        let key = DeliveryKey::of(message);
        Ok(Decision {
            action,
            verdict,
            event: Some(message.event().code()),
            family: Some(message.family().code()),
            violations: report.violations,
            error: None,
            lookup_id: Some(key.lookup_id().to_owned()),
            delivery_key: Some(key.as_str().to_owned()),
            delivery: Some(delivery),
        })
    }
}

/// What the host does with a notification: the one switch it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Verified, every rule kept, a new delivery or a later state: act (ship, refund, suspend…)
    /// and store the delivery key in the same transaction.
    Act,
    /// Verified and acceptable, but acted on already (a duplicate, or a later state was stored:
    /// stale). Answer 200 and do nothing.
    Skip,
    /// PayPal's answer could not be read (or there was none): keep the body and post back again
    /// later. Never act, never drop.
    Retry,
    /// PayPal did not vouch for it, a rule is broken, or the message cannot be read: keep it, log
    /// the violations (or the error), do not act.
    Refuse,
}

/// Every action code.
pub const ACTION_CODES: &[&str] = &["act", "skip", "retry", "refuse"];

impl Action {
    /// `act`, `skip`, `retry` or `refuse`.
    pub fn code(self) -> &'static str {
        match self {
            Action::Act => "act",
            Action::Skip => "skip",
            Action::Retry => "retry",
            Action::Refuse => "refuse",
        }
    }
}

/// Everything a host decides on, in one value ([`Notification::decide`]). Serializes as
/// `{"action", "verdict": {"kind", "reason"}, "event", "family", "violations", "error",
/// "delivery_key", "lookup_id", "delivery"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// What to do.
    pub action: Action,
    /// What PayPal's answer means.
    pub verdict: Verdict,
    /// The event's code; `None` when the message cannot be read.
    pub event: Option<&'static str>,
    /// The family's code; `None` when the message cannot be read.
    pub family: Option<&'static str>,
    /// Every broken rule (`not_verified` alone when PayPal did not vouch).
    pub violations: Vec<Violation>,
    /// The error that stopped the typed message, when it did.
    pub error: Option<Error>,
    /// The key to store once acted on.
    pub delivery_key: Option<String>,
    /// What to look stored keys up by.
    pub lookup_id: Option<String>,
    /// The delivery against the stored keys.
    pub delivery: Option<Delivery>,
}

/// Every verdict kind.
pub const VERDICT_CODES: &[&str] = &["verified", "invalid", "unexpected"];

/// Every reason an answer is unexpected.
pub const UNEXPECTED_CODES: &[&str] = &[
    "http_status",
    "empty_body",
    "unrecognized_body",
    "no_answer",
];

/// What bindings generate their types, stubs and exception classes from, as data: every modelled
/// variable with its kind, every vocabulary, every group and its members, every event with its
/// meaning and rules, every error kind with its codes, and the codes of violations, deliveries,
/// notices, verdicts and actions.
pub fn schema() -> serde_json::Value {
    let events: Vec<_> = EVENTS
        .iter()
        .map(|(code, meaning)| {
            let rules = Event::from_code(code).map(|e| rules_for(&e));
            json!({
                "code": code,
                "meaning": meaning,
                "rules": rules.map(|(receiver, amount, finality)| json!({
                    "receiver": receiver, "amount": amount, "final": finality,
                })),
            })
        })
        .collect();
    json!({
        "variables": MODELLED_KINDS
            .iter()
            .map(|(name, kind)| json!({ "name": name, "kind": kind }))
            .collect::<Vec<_>>(),
        "vocabularies": VOCABULARIES
            .iter()
            .map(|(name, words)| json!({ "name": name, "words": words }))
            .collect::<Vec<_>>(),
        "groups": GROUPS
            .iter()
            .map(|(name, record, members)| json!({
                "name": name,
                "record": record,
                "members": members
                    .iter()
                    .map(|(name, kind)| json!({ "name": name, "kind": kind }))
                    .collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>(),
        "lists": [{ "name": "fraud_filters", "kind": "text" }],
        "families": Family::ALL.iter().map(|f| f.code()).collect::<Vec<_>>(),
        "flat": { "summary": Flat::SUMMARY },
        "events": events,
        "errors": ERROR_KINDS
            .iter()
            .map(|(kind, stem, doc, codes)| json!({
                "kind": kind, "class": format!("{stem}Error"), "doc": doc, "codes": codes,
            }))
            .collect::<Vec<_>>(),
        "violations": VIOLATION_CODES,
        "deliveries": DELIVERY_CODES,
        "notices": NOTICE_CODES,
        "verdicts": VERDICT_CODES,
        "unexpected": UNEXPECTED_CODES,
        "actions": ACTION_CODES,
    })
}

mod flat;
mod plain;
pub use flat::Flat;

/// `cmd=_notify-validate&` followed by `raw`, byte for byte, once the body passes `limits`: the
/// body is refused exactly as [`Notification::new`] refuses it (empty, or over a limit), and its
/// values are not decoded, so a body whose values do not decode is still posted back. For hosts
/// that post back without parsing the message.
pub fn postback(raw: &[u8], limits: Limits) -> Result<Vec<u8>, Error> {
    Ok(Body::parse_with(raw, limits)?.postback())
}
pub use plain::Plain;

#[cfg(test)]
mod tests;
