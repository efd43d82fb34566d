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
//!    order and the host's stored delivery keys in; the [`Decision`] out, one variant per
//!    action, each with exactly what that action needs: act (the delivery, its key, and how the
//!    amount was judged), skip (why), retry (why), refuse (the violations, or the error). It is
//!    [`Serialize`], as are errors (`{code, kind, field, message}`), so a binding converts it
//!    generically.
//!
//! [`schema`] lists what the bindings generate their types and exception classes from.
//!
//! # The listener flow, in order
//!
//! Every step is the host's (ipnkit does no I/O); the order is what keeps money and messages
//! from being lost.
//!
//! 1. **Store the raw body durably**, byte for byte, before anything else (a table row, a file).
//!    Everything after this can be redone from it.
//! 2. **Answer PayPal 200 at once**, with an empty body. PayPal resends a message until it gets
//!    a 2xx, for days; a slow or failing listener only multiplies deliveries. Do the rest after
//!    answering (a queue, a background task), never before.
//! 3. **Post back** the [verification request](Notification::verification_request) for the
//!    environment *you* configured — never one chosen from the message's `test_ipn`. Never
//!    follow a redirect; give the exchange one deadline.
//! 4. **Look up the order** the message pays, when its event carries an amount
//!    ([`crate::expects_amount`]): an [`Expected::Order`], [`Expected::AnyAmount`] for a
//!    donation, or [`Expected::NoOrder`].
//! 5. **Decide** with PayPal's [`Answer`] as it came and the keys you stored under the message's
//!    lookup id, and do what the [`Decision`] says:
//!    - `Act`: act on the event (ship only when the amount was [`AmountCheck::Matched`]) and
//!      store the delivery key in the same transaction as the action.
//!    - `Skip`: a duplicate, or a later state was acted on already. Nothing to do.
//!    - `Retry`: PayPal's answer was **not an answer** (5xx, timeout, an HTML page, `VERIFIED`
//!      inside other text). Keep the body and post back again later with backoff (minutes,
//!      then hours); PayPal's own resends give you days. Never act, never drop it.
//!    - `Refuse`: PayPal answered `INVALID` (an attack, or a body your stack altered), a value
//!      cannot be read, or a rule is broken. Keep the body and log the refusal — codes and
//!      variable names, no personal data — and tell the shop only when it is `ours`.
//!
//! ```
//! use ipnkit::host::{Act, Answer, Config, Decision, Notification};
//! use ipnkit::{AmountCheck, Expected};
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
//! let Decision::Act(Act { about, amount, .. }) = decision else { panic!("not act: {decision:?}") };
//! assert_eq!(about.event, "payment_completed");
//! assert_eq!(amount, AmountCheck::Matched); // ship the goods
//! // Store `about.delivery_key` with the action, in one transaction.
//! assert_eq!(about.delivery_key, "txn:4RT58091KX0312345:Completed");
//! # Ok::<(), ipnkit::Error>(())
//! ```

use serde::{Deserializer, Serialize};
use serde_json::json;

use crate::body::{Body, Limits};
use crate::codes::codes;
use crate::delivery::{DELIVERY_CODES, Delivery, DeliveryKey, classify, classify_key};
use crate::error::{Error, ErrorKind, Problem};
use crate::event::EventCode;
use crate::message::{GROUPS, MODELLED_KINDS, Message, NOTICE_CODES};
use crate::money::{Currency, parse_amount};
use crate::policy::{
    AMOUNT_CHECK_CODES, AmountCheck, Expected, Policy, Report, VIOLATION_CODES, Violation,
    rules_for,
};
use crate::verify::{
    Environment, UNEXPECTED_CODES, Unexpected, VERDICT_CODES, Verdict, VerificationRequest,
    Verifier,
};
use crate::vocab::{PaymentStatus, VOCABULARIES};
use crate::{Event, Family};
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
        // Absent (or null): no receiver of that kind, as the table above says (`[]`).
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

fn limit(value: Option<i128>, default: usize, field: &str) -> Result<usize, Error> {
    match value {
        None => Ok(default),
        Some(n) => Limits::one(n, field),
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
                "limits.max_body_bytes",
            )?,
            max_fields: limit(max_fields, Limits::DEFAULT.max_fields, "limits.max_fields")?,
            max_key_bytes: limit(
                max_key_bytes,
                Limits::DEFAULT.max_key_bytes,
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

    /// A webhook verifier for this configuration's environment and the webhook `webhook_id`:
    /// the one whose verdicts [`webhook::decide`](crate::webhook::decide) takes with this
    /// configuration. `invalid_configuration` naming `webhook_id` for an id that is not one.
    pub fn webhook_verifier(
        &self,
        webhook_id: &str,
    ) -> Result<crate::webhook::WebhookVerifier, Error> {
        crate::webhook::WebhookVerifier::new(self.environment(), webhook_id)
    }
}

impl Expected {
    /// What the host expects, from its plain data, one of:
    ///
    /// | data | [`Expected`] |
    /// |---|---|
    /// | `{"amount": "19.95", "currency": "USD"}` | [`Expected::Order`] |
    /// | `{"any_amount": true}`, optionally with a `"currency"` | [`Expected::AnyAmount`] |
    /// | `{"no_order": true}` | [`Expected::NoOrder`] |
    ///
    /// An amount is a string in PayPal's plain decimal form, never a number (a float would be
    /// rounded): anything else is [`Error::WrongType`]. Nothing said (no amount, no flag) is an
    /// error naming `amount`, never a silent skip; two answers at once are a conflict.
    pub fn from_data<'de, D: Deserializer<'de>>(data: D) -> Result<Expected, Error> {
        Expected::from_plain(&plain::from_data(data)?)
    }

    /// What the host expects, from JSON text.
    pub fn from_json(text: &str) -> Result<Expected, Error> {
        Expected::from_plain(&plain::from_json(text)?)
    }

    /// What the host expects, from [`Plain`] data (see [`Expected::from_data`]).
    pub fn from_plain(data: &Plain) -> Result<Expected, Error> {
        let [amount, currency, any_amount, no_order] =
            plain::entries(data, "", ["amount", "currency", "any_amount", "no_order"])?;
        let amount = plain::optional_text(amount, "amount")?;
        let currency = plain::optional_text(currency, "currency")?
            .map(|code| {
                Currency::parse(code).ok_or_else(|| invalid("currency", Problem::InvalidValue))
            })
            .transpose()?;
        let any_amount = plain::flag(any_amount, "any_amount")?;
        let no_order = plain::flag(no_order, "no_order")?;
        match (amount, any_amount, no_order) {
            (Some(text), false, false) => Ok(Expected::Order {
                amount: parse_amount(text)
                    .ok_or_else(|| invalid("amount", Problem::InvalidValue))?,
                currency: currency.ok_or_else(|| invalid("currency", Problem::MissingKey))?,
            }),
            (None, true, false) => Ok(Expected::AnyAmount { currency }),
            (None, false, true) if currency.is_none() => Ok(Expected::NoOrder),
            (None, false, true) => Err(invalid("currency", Problem::Conflict)),
            (None, false, false) => Err(invalid("amount", Problem::MissingKey)),
            (Some(_), true, _) => Err(invalid("any_amount", Problem::Conflict)),
            (_, _, true) => Err(invalid("no_order", Problem::Conflict)),
        }
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
    /// An HTTP response whose body could not be read whole (cut short, or over the host's
    /// cap): not an answer to trust.
    BodyUnread {
        /// The HTTP status.
        status: u16,
    },
    /// No HTTP answer at all: a timeout, a refused or dropped connection, a TLS failure.
    NoAnswer,
    /// ipnkit's own [`Verdict::Verified`] for this body, given earlier and recorded by the host
    /// (a listener that stored it before a restart, and never posts the body back again).
    VerifiedEarlier,
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
            Answer::BodyUnread { status } => Verdict::from_unread_body(status),
            Answer::NoAnswer => Verdict::no_answer(),
            Answer::VerifiedEarlier => Verdict::Verified,
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

    /// The key to store once acted on, and its lookup id ([`DeliveryKey::lookup_id`]: what the
    /// host looks its stored keys up by before [`decide`](Notification::decide)), or the error
    /// that stopped the typed message.
    pub fn delivery_key(&self) -> Result<DeliveryKey, &Error> {
        self.message().map(DeliveryKey::of)
    }

    /// The delivery against the keys the host stored under this message's lookup id (oldest
    /// first): stored texts are read back ([`Error::InvalidDeliveryKey`] for one ipnkit did not
    /// make), and a message that cannot be read gives its error.
    pub fn classify<S: AsRef<str>>(&self, stored: &[S]) -> Result<Delivery, Error> {
        let stored = stored
            .iter()
            .map(|k| DeliveryKey::from_stored(k.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(classify(self.message().map_err(Clone::clone)?, &stored))
    }

    /// `cmd=_notify-validate&` followed by the body, byte for byte.
    pub fn postback(&self) -> Vec<u8> {
        self.body.postback()
    }

    /// The request that verifies this notification in the configured environment.
    pub fn verification_request(&self, config: &Config) -> VerificationRequest {
        config.verifier.request(&self.body)
    }

    /// What the host does, from PayPal's `answer`, the `config`, the `expected` order and the
    /// delivery keys the host stored under this message's lookup id (oldest first). Fails only
    /// when a stored key is not one ipnkit makes ([`Error::InvalidDeliveryKey`]): what was acted
    /// on is then unknown, and nothing is guessed.
    pub fn decide<S: AsRef<str>>(
        &self,
        answer: Answer<'_>,
        config: &Config,
        expected: &Expected,
        stored: &[S],
    ) -> Result<Decision, Error> {
        match answer.verdict() {
            Verdict::Unexpected(why) => return Ok(Decision::Retry(Retry { reason: why })),
            Verdict::Invalid => return Ok(Decision::Refuse(Refusal::NotVerified)),
            Verdict::Verified => {}
        }
        let message = match &self.message {
            Ok(message) => message,
            Err(error) => {
                return Ok(Decision::Refuse(Refusal::Unreadable {
                    error: error.clone(),
                }));
            }
        };
        decide_delivery(
            message.event(),
            message.family(),
            DeliveryKey::of(message),
            stored,
            config.policy.check_verified_message(message, expected),
        )
    }
}

/// The decision on a verified, readable notification of either channel, keyed `key`: refused
/// by the `rules` (the policy's judgement), else acted on or skipped by its delivery against the
/// `stored` keys. `invalid_delivery_key` when a stored key is not one ipnkit makes.
pub(crate) fn decide_delivery<S: AsRef<str>>(
    event: &Event,
    family: Family,
    key: DeliveryKey,
    stored: &[S],
    rules: Result<AmountCheck, Report>,
) -> Result<Decision, Error> {
    let stored = stored
        .iter()
        .map(|k| DeliveryKey::from_stored(k.as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    let delivery = classify_key(&key, &stored);
    let about = About {
        event: event.code(),
        family: family.code(),
        delivery_key: key.as_str().to_owned(),
        lookup_id: key.lookup_id().to_owned(),
    };
    Ok(match (rules, delivery) {
        (Err(report), _) => Decision::Refuse(Refusal::Rules {
            ours: report.is_ours(),
            violations: report.violations,
            about,
        }),
        (Ok(amount), delivery @ (Delivery::New | Delivery::Transition { .. })) => {
            Decision::Act(Act {
                about,
                delivery,
                amount,
            })
        }
        (Ok(_), delivery @ (Delivery::Duplicate | Delivery::Stale { .. })) => {
            Decision::Skip(Skip { about, delivery })
        }
    })
}

codes! {
    /// What the host does with a notification: the one switch it needs ([`Decision::action`]).
    pub enum Action / ACTION_CODES {
        /// Verified, every rule kept, a new delivery or a later state: act (ship, refund,
        /// suspend…) and store the delivery key in the same transaction.
        Act = "act",
        /// Verified and acceptable, but acted on already (a duplicate, or a later state was
        /// stored: stale). Answer 200 and do nothing.
        Skip = "skip",
        /// PayPal's answer could not be read (or there was none): keep the body and post back
        /// again later. Never act, never drop.
        Retry = "retry",
        /// PayPal did not vouch for it, a rule is broken, or the message cannot be read: keep
        /// it, log the violations (or the error), do not act.
        Refuse = "refuse",
    }
}

/// What a readable, verified message is about: its event and family, and the delivery key the
/// host stores once it acted (or refused), looked up by `lookup_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct About {
    /// The event's code ([`crate::EventCode`]).
    pub event: &'static str,
    /// The family's code.
    pub family: &'static str,
    /// The key to store with the action, in the same transaction.
    pub delivery_key: String,
    /// What stored keys are looked up by.
    pub lookup_id: String,
}

/// Act: a verified message of this merchant's, every rule kept, not acted on before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Act {
    /// The event, and the key to store.
    pub about: About,
    /// [`Delivery::New`] or [`Delivery::Transition`].
    pub delivery: Delivery,
    /// Whether the amount matched an order, was not asked (any amount), or is not one the
    /// event carries: ship the goods only on [`AmountCheck::Matched`].
    pub amount: AmountCheck,
}

/// Skip: verified and acceptable, but acted on already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// The event, and its key (stored already).
    pub about: About,
    /// Why: [`Delivery::Duplicate`], or [`Delivery::Stale`] (a later state was acted on).
    pub delivery: Delivery,
}

/// Retry: PayPal's answer could not be used; post the body back again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Why the answer could not be used.
    pub reason: Unexpected,
}

/// Why a notification is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// PayPal answered `INVALID`: it did not send these bytes (an attack, or a body altered on
    /// the way). Keep it and log it.
    NotVerified,
    /// Verified, but a value cannot be read (a charset, an escape, a key given twice): keep the
    /// body for a later version to read.
    Unreadable {
        /// What stopped it.
        error: Error,
    },
    /// Verified and readable, and a rule is broken.
    Rules {
        /// The event, and its key: store it with the refusal, so that a redelivery of the same
        /// message is known.
        about: About,
        /// Every broken rule, in rule order (never empty).
        violations: Vec<Violation>,
        /// Whether the message is this merchant's (its receiver and environment are the
        /// configured ones): tell the shop of the refusal (an underpayment for its order).
        /// Another merchant's message, or the other environment's, is only logged.
        ours: bool,
    },
}

codes! {
    /// Why a notification is refused, without the details ([`Refusal::why`]).
    pub enum Why / REFUSAL_CODES {
        /// [`Refusal::NotVerified`].
        NotVerified = "not_verified",
        /// [`Refusal::Unreadable`].
        Unreadable = "unreadable",
        /// [`Refusal::Rules`].
        Rules = "rules",
    }
}

impl Refusal {
    /// Why, as its enum.
    pub fn why(&self) -> Why {
        match self {
            Refusal::NotVerified => Why::NotVerified,
            Refusal::Unreadable { .. } => Why::Unreadable,
            Refusal::Rules { .. } => Why::Rules,
        }
    }

    /// `not_verified`, `unreadable` or `rules`.
    pub fn code(&self) -> &'static str {
        self.why().code()
    }
}

/// What the host does, and exactly what that needs ([`Notification::decide`]). Serializes with
/// its `action` beside the variant's fields:
///
/// | `action` | fields |
/// |---|---|
/// | `act` | `event`, `family`, `delivery_key`, `lookup_id`, `delivery`, `amount` |
/// | `skip` | `event`, `family`, `delivery_key`, `lookup_id`, `delivery` |
/// | `retry` | `reason` |
/// | `refuse` | `why`: `not_verified`; `unreadable` with `error`; `rules` with `event`, `family`, `delivery_key`, `lookup_id`, `violations`, `ours` |
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Act, and store the delivery key in the same transaction.
    Act(Act),
    /// Acted on already: answer 200, do nothing.
    Skip(Skip),
    /// Post back again later.
    Retry(Retry),
    /// Do not act.
    Refuse(Refusal),
}

impl Serialize for Decision {
    /// `action`, then exactly the variant's fields (the table above). Written out rather than
    /// derived: serde's flattening would weigh on the wasm build.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        fn about<M: SerializeMap>(map: &mut M, about: &About) -> Result<(), M::Error> {
            map.serialize_entry("event", about.event)?;
            map.serialize_entry("family", about.family)?;
            map.serialize_entry("delivery_key", &about.delivery_key)?;
            map.serialize_entry("lookup_id", &about.lookup_id)
        }
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("action", self.action().code())?;
        match self {
            Decision::Act(act) => {
                about(&mut map, &act.about)?;
                map.serialize_entry("delivery", &act.delivery)?;
                map.serialize_entry("amount", &act.amount)?;
            }
            Decision::Skip(skip) => {
                about(&mut map, &skip.about)?;
                map.serialize_entry("delivery", &skip.delivery)?;
            }
            Decision::Retry(retry) => map.serialize_entry("reason", retry.reason.code())?,
            Decision::Refuse(refusal) => {
                map.serialize_entry("why", refusal.code())?;
                match refusal {
                    Refusal::NotVerified => {}
                    Refusal::Unreadable { error } => map.serialize_entry("error", error)?,
                    Refusal::Rules {
                        about: a,
                        violations,
                        ours,
                    } => {
                        about(&mut map, a)?;
                        map.serialize_entry("violations", violations)?;
                        map.serialize_entry("ours", ours)?;
                    }
                }
            }
        }
        map.end()
    }
}

impl Decision {
    /// The action, for a `match` that needs no data.
    pub fn action(&self) -> Action {
        match self {
            Decision::Act(_) => Action::Act,
            Decision::Skip(_) => Action::Skip,
            Decision::Retry(_) => Action::Retry,
            Decision::Refuse(_) => Action::Refuse,
        }
    }

    /// What the message is about, when it was verified and read.
    pub fn about(&self) -> Option<&About> {
        match self {
            Decision::Act(Act { about, .. })
            | Decision::Skip(Skip { about, .. })
            | Decision::Refuse(Refusal::Rules { about, .. }) => Some(about),
            Decision::Retry(_)
            | Decision::Refuse(Refusal::NotVerified | Refusal::Unreadable { .. }) => None,
        }
    }
}

/// Which answers of [`Expected`] the rules accept for `event` (`order`, `any_amount`,
/// `no_order`): an event that carries an amount refuses `no_order` (`order_not_found`); any
/// other takes all three and ignores them.
pub fn accepted_expectations(event: &Event) -> &'static [&'static str] {
    if crate::expects_amount(event) {
        &["order", "any_amount"]
    } else {
        &["order", "any_amount", "no_order"]
    }
}

/// What bindings generate their types, stubs and exception classes from, as data: every modelled
/// variable with its kind, every vocabulary, every group and its members, every event with its
/// meaning and rules, every error kind with its codes, and the codes of violations, deliveries,
/// notices, verdicts and actions, and of webhooks' refusals and resource kinds.
pub fn schema() -> serde_json::Value {
    let events: Vec<_> = EventCode::ALL
        .iter()
        .map(|code| {
            let event = code.event();
            let (receiver, amount, finality) = rules_for(&event);
            json!({
                "code": code.code(),
                "meaning": code.meaning(),
                "rules": {
                    "receiver": receiver, "amount": amount, "final": finality,
                    "accepts": accepted_expectations(&event),
                },
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
        "errors": ErrorKind::ALL
            .iter()
            .map(|kind| json!({
                "kind": kind.code(),
                "class": format!("{}Error", kind.stem()),
                "doc": kind.doc(),
                "codes": kind.codes().map(|c| c.code()).collect::<Vec<_>>(),
            }))
            .collect::<Vec<_>>(),
        "violations": VIOLATION_CODES,
        "deliveries": DELIVERY_CODES,
        "notices": NOTICE_CODES,
        "verdicts": VERDICT_CODES,
        "unexpected": UNEXPECTED_CODES,
        "actions": ACTION_CODES,
        "refusals": REFUSAL_CODES,
        "amount_checks": AMOUNT_CHECK_CODES,
        "webhook_invalid": crate::webhook::WEBHOOK_INVALID_CODES,
        "resource_kinds": crate::webhook::RESOURCE_KIND_CODES,
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
