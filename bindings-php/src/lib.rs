//! The `ipnkit` PHP extension: the core's host API ([`ipnkit::host`]) under the `Ipnkit\`
//! namespace. Conversions only: every decision (rules, verdicts, error kinds, configuration)
//! is the core's, and values cross as the core gives them.
//!
//! ```php
//! $m = Ipnkit\Ipn::parse(file_get_contents('php://input'));
//! $m->mc_gross;               // Ipnkit\Money: exact decimal string and currency
//! $m->payment_date->utc;      // DateTimeImmutable in UTC, beside ->text, PayPal's own
//! ```
//!
//! A message keeps the core's parsed notification (one Rust object a message, freed with the
//! PHP object); PayPal's variables are converted when read (`__get`).

#![deny(unsafe_code)]

mod convert;
mod errors;
mod http;
mod webhook;

use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendCallable, ZendHashTable, Zval};
use ipnkit::host::{
    Answer, Config as CoreConfig, Decision as CoreDecision, Notification, Plain, Refusal,
};
use ipnkit::{Expected as CoreExpected, Limits, Lookup, Value};

pub use convert::Raw;
use convert::{array, array_of, bytes, plain};
use errors::{bug, error, exception};
use ext_php_rs::binary::Binary;
use ext_php_rs::boxed::ZBox;

fn core<T>(result: Result<T, ipnkit::Error>) -> PhpResult<T> {
    result.map_err(|e| exception(&e))
}

/// Receives a raw body within the configuration's limits (the defaults without one).
fn receive(raw: &[u8], config: Option<&Config>) -> PhpResult<Notification> {
    core(Notification::copy_of(raw, limits(config)))
}

/// The configuration's limits, or the defaults without one.
fn limits(config: Option<&Config>) -> Limits {
    config.map_or(Limits::DEFAULT, |c| c.inner.limits())
}

/// The entry points: static methods only.
#[php_class]
#[php(name = "Ipnkit\\Ipn")]
#[php(flags = ClassFlags::Final)]
pub struct Ipn;

#[php_impl]
impl Ipn {
    /// Parses the raw body PayPal POSTed (`file_get_contents('php://input')`), within the
    /// configuration's limits (the defaults without one). Throws an `Ipnkit\IpnException`
    /// subclass when the body is refused or its values do not decode.
    pub fn parse(raw: Raw<'_>, config: Option<&Config>) -> PhpResult<Message> {
        let notification = receive(raw.bytes("Ipnkit\\Ipn::parse")?, config)?;
        if let Err(e) = notification.message() {
            return Err(exception(e));
        }
        Ok(Message { notification })
    }

    /// `cmd=_notify-validate&` followed by the body, byte for byte, whether or not its values
    /// decode (they are not decoded).
    pub fn postback(raw: Raw<'_>, config: Option<&Config>) -> PhpResult<Binary<u8>> {
        let raw = raw.bytes("Ipnkit\\Ipn::postback")?;
        let postback = core(ipnkit::host::postback(raw, limits(config)))?;
        Ok(bytes(&postback))
    }

    /// The verification request for the configured environment (for curl), whether or not
    /// the body's values decode (they are not decoded).
    pub fn verification_request(raw: Raw<'_>, config: &Config) -> PhpResult<VerificationRequest> {
        let raw = raw.bytes("Ipnkit\\Ipn::verificationRequest")?;
        Ok(VerificationRequest {
            inner: core(config.inner.verification_request(raw))?,
        })
    }

    /// What PayPal's answer means, from the HTTP status and the response body as they came.
    /// `null` status: no HTTP answer at all (a timeout, a refused connection, a curl error).
    pub fn verdict(status: Option<i64>, body: Raw<'_>) -> PhpResult<Verdict> {
        let body = body.bytes("Ipnkit\\Ipn::verdict")?;
        let status = match status {
            None => None,
            Some(status) => Some(u16::try_from(status).map_err(|_| {
                errors::type_error(format!(
                    "Ipnkit\\Ipn::verdict(): the status must be an HTTP status code, {status} given"
                ))
            })?),
        };
        Ok(Verdict {
            status,
            body: body.to_vec(),
        })
    }

    /// Everything to decide on, in one call: `action` (`act`: do it and store `deliveryKey` in
    /// the same transaction; `skip`: done already; `retry`: keep the body and post back later;
    /// `refuse`: keep it, log the violations, do not act), from the message, PayPal's verdict,
    /// the configuration, the order the shop expects and the delivery keys stored under the
    /// message's `lookupId()`, oldest first.
    pub fn decide(
        message: &Message,
        verdict: &Verdict,
        config: &Config,
        expected: &Expected,
        stored_keys: Vec<String>,
    ) -> PhpResult<Decision> {
        let decision = core(message.notification.decide(
            verdict.answer(),
            &config.inner,
            &expected.inner,
            &stored_keys,
        ))?;
        Ok(Decision { inner: decision })
    }

    /// The decision on a webhook: the same shapes as `decide()`'s, with delivery keys shared
    /// with IPN (the second telling of a payment, by either channel, is a duplicate).
    pub fn decide_webhook(
        webhook: &webhook::Webhook,
        verdict: &webhook::WebhookVerdict,
        config: &Config,
        expected: &Expected,
        stored_keys: Vec<String>,
    ) -> PhpResult<Decision> {
        let decision = core(ipnkit::webhook::decide(
            verdict.inner,
            webhook.event_result(),
            &config.inner,
            &expected.inner,
            &stored_keys,
        ))?;
        Ok(Decision { inner: decision })
    }

    /// One call for an IPN: posts the raw body back to PayPal with curl (the configured
    /// environment's endpoint; no redirect followed, `$timeout` seconds for the whole exchange,
    /// the answer read to 64 KiB) and returns the decision, as `decide()` gives it. No answer,
    /// or an unreadable one, is a `retry` decision, never a verdict. Store the raw body and
    /// answer PayPal 200 before calling it. `$send` replaces curl (a proxy, tests):
    /// `fn(string $method, string $url, array $headers, ?string $body, float $timeout): ?array`
    /// returning `[$status, $body]`, or `null` for no answer.
    pub fn handle(
        raw: Raw<'_>,
        config: &Config,
        expected: &Expected,
        stored_keys: Vec<String>,
        send: Option<ZendCallable<'_>>,
        timeout: Option<f64>,
    ) -> PhpResult<Decision> {
        let raw = raw.bytes("Ipnkit\\Ipn::handle")?;
        let notification = receive(raw, Some(config))?;
        let request = notification.verification_request(&config.inner);
        let answer = http::exchange(
            &http::Request {
                method: "POST",
                url: &request.url,
                headers: http::lines(&request.headers),
                body: Some(&request.body),
            },
            send.as_ref(),
            timeout.unwrap_or(http::TIMEOUT),
        )?;
        let answer = match &answer {
            Some((status, body)) => Answer::Http {
                status: *status,
                body,
            },
            None => Answer::NoAnswer,
        };
        let decision =
            core(notification.decide(answer, &config.inner, &expected.inner, &stored_keys))?;
        Ok(Decision { inner: decision })
    }

    /// Every event: code => what it means.
    pub fn events() -> PhpResult<ZBox<ZendHashTable>> {
        let mut events = ZendHashTable::with_capacity(64);
        for code in ipnkit::EventCode::ALL {
            let (code, meaning) = (code.code(), code.meaning());
            events.insert(code, meaning)?;
        }
        Ok(events)
    }

    /// What the stubs are generated from: variables with their kinds, vocabularies, groups,
    /// events, error kinds and codes (the core's schema).
    pub fn schema() -> PhpResult<ZBox<ZendHashTable>> {
        array(&ipnkit::host::schema())
    }
}

/// A notification PayPal sent, parsed: PayPal's variables under PayPal's names (`$m->mc_gross`,
/// `$m->payment_date`), typed, read-only.
#[php_class]
#[php(name = "Ipnkit\\Message")]
#[php(flags = ClassFlags::Final)]
#[php(implements(ce = errors::json_serializable, stub = "\\JsonSerializable"))]
pub struct Message {
    notification: Notification,
}

impl Message {
    fn message(&self) -> PhpResult<&ipnkit::Message> {
        // Never an error: `Ipn::parse` makes a `Message` only from a notification that has one.
        self.notification.message().map_err(exception)
    }
}

#[php_impl]
impl Message {
    /// A modelled variable of PayPal's guide, typed: a string, an int, a bool, an
    /// `Ipnkit\Money`, an `Ipnkit\PayPalDate` or an `Ipnkit\Period`; `null` when the message
    /// does not carry it. A name ipnkit does not model is an `\Error` (unmodelled variables are
    /// in `extra()` and `variables()`).
    pub fn __get(&self, name: &str) -> PhpResult<Zval> {
        match self.message()?.get(name) {
            Lookup::Value(value) => value_of(value),
            Lookup::Absent => Ok(Zval::new()),
            Lookup::NotModelled => Err(error(format!(
                "Undefined property: Ipnkit\\Message::${name} is not a variable ipnkit models \
                 (see Ipnkit\\Ipn::schema(); unmodelled variables are in extra() and variables())"
            ))),
        }
    }

    /// Whether the message carries the modelled variable `name`.
    pub fn __isset(&self, name: &str) -> PhpResult<bool> {
        Ok(matches!(self.message()?.get(name), Lookup::Value(_)))
    }

    /// Messages are read-only.
    pub fn __set(&self, name: &str, value: &Zval) -> PhpResult<()> {
        let _ = value;
        Err(error(format!(
            "Cannot modify Ipnkit\\Message::${name}: a message is read-only"
        )))
    }

    /// Messages are read-only.
    pub fn __unset(&self, name: &str) -> PhpResult<()> {
        Err(error(format!(
            "Cannot unset Ipnkit\\Message::${name}: a message is read-only"
        )))
    }

    /// What happened: a key of `Ipn::events()` (`payment_completed`, `refund`…).
    pub fn event(&self) -> PhpResult<&'static str> {
        Ok(self.message()?.event().code())
    }

    /// The family of notification (`payment`, `cart`, `subscription`…).
    pub fn family(&self) -> PhpResult<&'static str> {
        Ok(self.message()?.family().code())
    }

    /// The key to store once this notification is acted on.
    pub fn delivery_key(&self) -> PhpResult<String> {
        Ok(ipnkit::DeliveryKey::of(self.message()?).as_str().to_owned())
    }

    /// What to look stored delivery keys up by (a transaction, a subscription, a case…).
    pub fn lookup_id(&self) -> PhpResult<String> {
        Ok(ipnkit::DeliveryKey::of(self.message()?)
            .lookup_id()
            .to_owned())
    }

    /// The body as received, byte for byte.
    pub fn raw(&self) -> Binary<u8> {
        bytes(self.notification.raw())
    }

    /// `cmd=_notify-validate&` followed by the body, byte for byte.
    pub fn postback(&self) -> Binary<u8> {
        bytes(&self.notification.postback())
    }

    /// The verification request for the configured environment (for curl).
    pub fn verification_request(&self, config: &Config) -> VerificationRequest {
        VerificationRequest::of(&self.notification, config)
    }

    /// Every variable as received (decoded), in order: name => value.
    pub fn variables(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let fields = self.message()?.variables();
        let mut array = ZendHashTable::with_capacity(u32::try_from(fields.len()).unwrap_or(0));
        for field in fields.iter() {
            array.insert(field.key, field.value)?;
        }
        Ok(array)
    }

    /// Variables ipnkit does not model, and modelled ones whose value is not of their type (each
    /// with a notice), in order: name => value.
    pub fn extra(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut array = ZendHashTable::new();
        for (key, value) in self.message()?.extra() {
            array.insert(key, value)?;
        }
        Ok(array)
    }

    /// Things worth knowing that are not errors: `[['code' => …, 'field' => …], …]`.
    pub fn notices(&self) -> PhpResult<ZBox<ZendHashTable>> {
        array_of(&self.message()?.notices())
    }

    /// Cart items, by item number, as the canonical JSON has them.
    pub fn items(&self) -> PhpResult<ZBox<ZendHashTable>> {
        array_of(&self.message()?.items())
    }

    /// The options of a Buy Now payment's item, as the canonical JSON has them.
    pub fn options(&self) -> PhpResult<ZBox<ZendHashTable>> {
        array_of(&self.message()?.options())
    }

    /// Mass Pay payments, by item number, as the canonical JSON has them.
    pub fn masspay_items(&self) -> PhpResult<ZBox<ZendHashTable>> {
        array_of(&self.message()?.masspay_items())
    }

    /// Adaptive Payments transactions, by index, as the canonical JSON has them.
    pub fn transactions(&self) -> PhpResult<ZBox<ZendHashTable>> {
        array_of(&self.message()?.transactions())
    }

    /// The fraud filters that held the payment, by number.
    pub fn fraud_filters(&self) -> PhpResult<ZBox<ZendHashTable>> {
        array_of(&self.message()?.fraud_filters())
    }

    /// The canonical JSON as a PHP array: `json_encode($m->toArray())` is the canonical JSON
    /// (amounts `['amount' => '24.90', 'currency' => 'EUR']`, dates `['utc' => …, 'text' => …]`).
    pub fn to_array(&self) -> PhpResult<ZBox<ZendHashTable>> {
        // The message serializes as its canonical JSON; the keys keep their order (serde_json's
        // `preserve_order`).
        array_of(self.message()?)
    }

    /// The canonical JSON text.
    pub fn to_json(&self) -> PhpResult<String> {
        self.message()?
            .to_canonical_json()
            .map_err(|e| bug(&e.to_string()))
    }

    /// `json_encode($message)`: the canonical JSON.
    pub fn json_serialize(&self) -> PhpResult<ZBox<ZendHashTable>> {
        self.to_array()
    }

    /// What `var_dump()` and `print_r()` show: the message's variables, as `toArray()` has
    /// them (your own debugging output; ipnkit's errors never carry a value).
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        self.to_array()
    }
}

fn value_of(value: Value<'_>) -> PhpResult<Zval> {
    Ok(match value {
        Value::Text(text) | Value::Word(text) => text.into_zval(false)?,
        Value::Flag(flag) => flag.into_zval(false)?,
        Value::Count(count) => i64::from(count).into_zval(false)?,
        Value::Decimal(decimal) => decimal.to_string().into_zval(false)?,
        Value::Currency(currency) => currency.as_str().into_zval(false)?,
        Value::Money(money) => Money {
            amount: money.amount.to_string(),
            currency: money.currency.map(|c| c.as_str().to_owned()),
        }
        .into_zval(false)?,
        Value::Date(date) => PayPalDate {
            timestamp: date.utc.timestamp(),
            utc: date.to_rfc3339(),
            text: date.text.clone(),
        }
        .into_zval(false)?,
        Value::Period(period) => Period {
            count: i64::from(period.count),
            unit: period.unit.code(),
        }
        .into_zval(false)?,
        // Members of records only (cart item options, an Adaptive transaction's other
        // variables), and any kind a later core adds: as the canonical JSON has them.
        other => array_of(&other)?.into_zval(false)?,
    })
}

/// An exact amount with its currency: `amount` is PayPal's decimal string (`'24.90'`, for
/// bcmath), never a float.
#[php_class]
#[php(name = "Ipnkit\\Money")]
#[php(flags = ClassFlags::Final)]
#[php(implements(ce = errors::json_serializable, stub = "\\JsonSerializable"))]
pub struct Money {
    amount: String,
    currency: Option<String>,
}

#[php_impl]
impl Money {
    /// The amount, an exact decimal string (`'24.90'`, `'-5.00'`).
    pub fn amount(&self) -> String {
        self.amount.clone()
    }

    /// The ISO 4217 currency code (`'EUR'`); `null` only when the message names no currency
    /// for this amount (`shipping` in a message without `mc_currency`).
    pub fn currency(&self) -> Option<String> {
        self.currency.clone()
    }

    /// `24.90 EUR` (`24.90` without a currency).
    pub fn __to_string(&self) -> String {
        match &self.currency {
            Some(currency) => format!("{} {currency}", self.amount),
            None => self.amount.clone(),
        }
    }

    /// `['amount' => '24.90', 'currency' => 'EUR']`, as the canonical JSON has it.
    pub fn json_serialize(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut array = ZendHashTable::with_capacity(2);
        array.insert("amount", self.amount.as_str())?;
        array.insert("currency", self.currency.as_deref())?;
        Ok(array)
    }

    /// What `var_dump()` and `print_r()` show: the amount and the currency.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        self.json_serialize()
    }
}

/// A date PayPal wrote: the instant in UTC (`utc`, a `DateTimeImmutable`) beside PayPal's own
/// text (`text`, `'09:41:07 Mar 14, 2024 PDT'`).
#[php_class]
#[php(name = "Ipnkit\\PayPalDate")]
#[php(flags = ClassFlags::Final)]
#[php(implements(ce = errors::json_serializable, stub = "\\JsonSerializable"))]
pub struct PayPalDate {
    timestamp: i64,
    utc: String,
    text: String,
}

#[php_impl]
impl PayPalDate {
    /// The instant, a `DateTimeImmutable` in UTC.
    pub fn utc(&self) -> PhpResult<Zval> {
        let call = |name: &str, args: Vec<&dyn ext_php_rs::convert::IntoZvalDyn>| {
            ZendCallable::try_from_name(name)
                .and_then(|f| f.try_call(args))
                .map_err(|e| bug(&format!("{name}(): {e}")))
        };
        let utc = call("timezone_open", vec![&"UTC"])?;
        let instant = call(
            "date_create_immutable",
            vec![&format!("@{}", self.timestamp)],
        )?;
        instant
            .try_call_method("setTimezone", vec![&utc])
            .map_err(|e| bug(&format!("DateTimeImmutable::setTimezone(): {e}")))
    }

    /// The date as PayPal wrote it.
    pub fn text(&self) -> String {
        self.text.clone()
    }

    /// The Unix timestamp of the instant.
    pub fn timestamp(&self) -> i64 {
        self.timestamp
    }

    /// The instant in RFC 3339 (`2024-03-14T16:41:07Z`).
    pub fn __to_string(&self) -> String {
        self.utc.clone()
    }

    /// `['utc' => '2024-03-14T16:41:07Z', 'text' => …]`, as the canonical JSON has it.
    pub fn json_serialize(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut array = ZendHashTable::with_capacity(2);
        array.insert("utc", self.utc.as_str())?;
        array.insert("text", self.text.as_str())?;
        Ok(array)
    }

    /// What `var_dump()` and `print_r()` show: the instant and PayPal's text.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        self.json_serialize()
    }
}

/// A subscription period: `count` units of `D`ays, `W`eeks, `M`onths or `Y`ears.
#[php_class]
#[php(name = "Ipnkit\\Period")]
#[php(flags = ClassFlags::Final)]
pub struct Period {
    count: i64,
    unit: &'static str,
}

#[php_impl]
impl Period {
    /// How many units.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// `D`, `W`, `M` or `Y`, as PayPal writes it.
    pub fn unit(&self) -> &'static str {
        self.unit
    }

    /// `3 M`, as PayPal writes it.
    pub fn __to_string(&self) -> String {
        format!("{} {}", self.count, self.unit)
    }

    /// What `var_dump()` and `print_r()` show: the count and the unit.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut array = ZendHashTable::with_capacity(2);
        array.insert("count", self.count)?;
        array.insert("unit", self.unit)?;
        Ok(array)
    }
}

/// The site's configuration, checked by the core: `new Config(['environment' => 'live',
/// 'receiver_emails' => ['shop@example.net']])`. Keys: `environment` (`live` or `sandbox`,
/// required), `receiver_emails`, `receiver_ids`, `final_statuses` (PayPal's words), `limits`
/// (`max_body_bytes`, `max_fields`, `max_key_bytes`) and, for tests, `verify_url_for_testing`:
/// the same keys in every ipnkit binding.
#[php_class]
#[php(name = "Ipnkit\\Config")]
#[php(flags = ClassFlags::Final)]
pub struct Config {
    inner: CoreConfig,
}

#[php_impl]
impl Config {
    /// Reads the configuration; an `Ipnkit\ConfigurationException` or
    /// `Ipnkit\ArgumentException` names the key that is wrong.
    pub fn __construct(data: &Zval) -> PhpResult<Self> {
        Ok(Config {
            inner: core(CoreConfig::from_plain(&plain(data)))?,
        })
    }

    /// `live` or `sandbox`.
    pub fn environment(&self) -> &'static str {
        self.inner.environment().as_str()
    }

    /// `['max_body_bytes' => …, 'max_fields' => …, 'max_key_bytes' => …]`.
    pub fn limits(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let limits = self.inner.limits();
        let mut array = ZendHashTable::with_capacity(3);
        for (name, value) in [
            ("max_body_bytes", limits.max_body_bytes),
            ("max_fields", limits.max_fields),
            ("max_key_bytes", limits.max_key_bytes),
        ] {
            let value = i64::try_from(value).map_err(|e| bug(&e.to_string()))?;
            array.insert(name, value)?;
        }
        Ok(array)
    }

    /// What `var_dump()` and `print_r()` show: the environment and the limits.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut array = ZendHashTable::with_capacity(2);
        array.insert("environment", self.environment())?;
        array.insert("limits", self.limits()?)?;
        Ok(array)
    }
}

/// What the shop knows of the money a notification should carry: an order,
/// `new Expected(['amount' => '24.90', 'currency' => 'EUR'])` (amounts as strings: a float is
/// refused, it would be rounded); any amount, `Expected::anyAmount()` (donations); or no such
/// order, `Expected::noOrder()` (a payment is then refused `order_not_found`).
#[php_class]
#[php(name = "Ipnkit\\Expected")]
#[php(flags = ClassFlags::Final)]
pub struct Expected {
    pub(crate) inner: CoreExpected,
}

#[php_impl]
impl Expected {
    /// Reads the expected order (`amount` and `currency`, `any_amount => true`, or
    /// `no_order => true`).
    pub fn __construct(data: &Zval) -> PhpResult<Self> {
        Ok(Expected {
            inner: core(CoreExpected::from_plain(&plain(data)))?,
        })
    }

    /// Any amount will do (donations, pay what you want), optionally in a currency.
    pub fn any_amount(currency: Option<String>) -> PhpResult<Expected> {
        let mut data = vec![("any_amount".to_owned(), Plain::Bool(true))];
        if let Some(currency) = currency {
            data.push(("currency".to_owned(), Plain::Text(currency)));
        }
        Ok(Expected {
            inner: core(CoreExpected::from_plain(&Plain::Map(data)))?,
        })
    }

    /// The shop looked and has no order this notification pays: a payment is refused.
    pub fn no_order() -> Expected {
        Expected {
            inner: CoreExpected::NoOrder,
        }
    }

    /// What `var_dump()` and `print_r()` show: the data, as the constructor takes it.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        array_of(&self.inner)
    }
}

/// PayPal's answer to a postback: `kind` is `verified`, `invalid` or `unexpected` (retry
/// later), with the `reason` of an unexpected one. Made by `Ipn::verdict()` or
/// `Verdict::noAnswer()`.
#[php_class]
#[php(name = "Ipnkit\\Verdict")]
#[php(flags = ClassFlags::Final)]
pub struct Verdict {
    /// The HTTP status; `None`: no HTTP answer at all.
    status: Option<u16>,
    body: Vec<u8>,
}

impl Verdict {
    fn answer(&self) -> Answer<'_> {
        Answer::new(self.status, &self.body)
    }
}

#[php_impl]
impl Verdict {
    /// The postback got no HTTP answer at all (a timeout, a refused connection, a curl error).
    pub fn no_answer() -> Verdict {
        Verdict {
            status: None,
            body: Vec::new(),
        }
    }

    /// `verified`, `invalid` or `unexpected`.
    pub fn kind(&self) -> &'static str {
        self.answer().verdict().as_str()
    }

    /// Why an answer is unexpected (`http_status`, `empty_body`, `unrecognized_body`,
    /// `no_answer`); `null` otherwise.
    pub fn reason(&self) -> Option<&'static str> {
        match self.answer().verdict() {
            ipnkit::Verdict::Unexpected(why) => Some(why.code()),
            _ => None,
        }
    }

    /// Whether PayPal vouched for the message.
    pub fn is_verified(&self) -> bool {
        self.answer().verdict().is_verified()
    }

    /// Whether the postback must be tried again later.
    pub fn is_unexpected(&self) -> bool {
        self.answer().verdict().is_unexpected()
    }

    /// What `var_dump()` and `print_r()` show: the kind, the reason and the HTTP status.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut array = ZendHashTable::with_capacity(3);
        array.insert("kind", self.kind())?;
        array.insert("reason", self.reason())?;
        array.insert("status", self.status.map(i64::from))?;
        Ok(array)
    }
}

/// Everything to decide on (`Ipn::decide()`).
#[php_class]
#[php(name = "Ipnkit\\Decision")]
#[php(flags = ClassFlags::Final)]
#[php(implements(ce = errors::json_serializable, stub = "\\JsonSerializable"))]
pub struct Decision {
    pub(crate) inner: CoreDecision,
}

#[php_impl]
impl Decision {
    /// `act`, `skip`, `retry` or `refuse`.
    pub fn action(&self) -> &'static str {
        self.inner.action().code()
    }

    /// Why a notification is refused: `not_verified`, `unreadable` or `rules`; `null` unless
    /// the action is `refuse`.
    pub fn why(&self) -> Option<&'static str> {
        match &self.inner {
            CoreDecision::Refuse(refusal) => Some(refusal.code()),
            CoreDecision::Act(_) | CoreDecision::Skip(_) | CoreDecision::Retry(_) => None,
        }
    }

    /// The event's code; `null` for `retry`, and for a refusal that is not by the rules.
    pub fn event(&self) -> Option<&'static str> {
        self.inner.about().map(|a| a.event)
    }

    /// The family's code; `null` when `event()` is.
    pub fn family(&self) -> Option<&'static str> {
        self.inner.about().map(|a| a.family)
    }

    /// The key to store with the action (or the refusal); `null` when `event()` is.
    pub fn delivery_key(&self) -> Option<String> {
        self.inner.about().map(|a| a.delivery_key.clone())
    }

    /// What to look stored keys up by; `null` when `event()` is.
    pub fn lookup_id(&self) -> Option<String> {
        self.inner.about().map(|a| a.lookup_id.clone())
    }

    /// For `act` and `skip`: `['kind' => 'new'|'duplicate'|'transition'|'stale', 'from' => …,
    /// 'to' => …]`; else `null`.
    pub fn delivery(&self) -> PhpResult<Option<ZBox<ZendHashTable>>> {
        match &self.inner {
            CoreDecision::Act(act) => array_of(&act.delivery).map(Some),
            CoreDecision::Skip(skip) => array_of(&skip.delivery).map(Some),
            CoreDecision::Retry(_) | CoreDecision::Refuse(_) => Ok(None),
        }
    }

    /// For `act`: `matched` (ship the goods), `not_asked` (`Expected::anyAmount()`) or
    /// `not_applicable` (the event carries no amount); else `null`.
    pub fn amount(&self) -> Option<&'static str> {
        match &self.inner {
            CoreDecision::Act(act) => Some(act.amount.code()),
            CoreDecision::Skip(_) | CoreDecision::Retry(_) | CoreDecision::Refuse(_) => None,
        }
    }

    /// For `retry`: why PayPal's answer could not be used (`http_status`, `no_answer`…); else
    /// `null`.
    pub fn reason(&self) -> Option<&'static str> {
        match &self.inner {
            CoreDecision::Retry(retry) => Some(retry.reason.code()),
            CoreDecision::Act(_) | CoreDecision::Skip(_) | CoreDecision::Refuse(_) => None,
        }
    }

    /// For a refusal by the rules, every broken rule: `[['code' => …, 'field' => …, 'detail'
    /// => …], …]`; else `[]`.
    pub fn violations(&self) -> PhpResult<ZBox<ZendHashTable>> {
        match &self.inner {
            CoreDecision::Refuse(Refusal::Rules { violations, .. }) => array_of(violations),
            CoreDecision::Act(_)
            | CoreDecision::Skip(_)
            | CoreDecision::Retry(_)
            | CoreDecision::Refuse(Refusal::NotVerified | Refusal::Unreadable { .. }) => {
                array_of(&Vec::<ipnkit::Violation>::new())
            }
        }
    }

    /// For a refusal by the rules, whether the message is this merchant's (tell the shop);
    /// else `false`.
    pub fn ours(&self) -> bool {
        matches!(
            &self.inner,
            CoreDecision::Refuse(Refusal::Rules { ours: true, .. })
        )
    }

    /// For an unreadable message, the error that stopped it (`['code', 'kind', 'field',
    /// 'message']`); else `null`.
    pub fn error(&self) -> PhpResult<Option<ZBox<ZendHashTable>>> {
        match &self.inner {
            CoreDecision::Refuse(Refusal::Unreadable { error }) => array_of(error).map(Some),
            CoreDecision::Act(_)
            | CoreDecision::Skip(_)
            | CoreDecision::Retry(_)
            | CoreDecision::Refuse(Refusal::NotVerified | Refusal::Rules { .. }) => Ok(None),
        }
    }

    /// The whole decision as an array: `action` beside exactly its fields (snake_case keys, as
    /// every binding serializes it).
    pub fn to_array(&self) -> PhpResult<ZBox<ZendHashTable>> {
        array_of(&self.inner)
    }

    /// `json_encode($decision)`.
    pub fn json_serialize(&self) -> PhpResult<ZBox<ZendHashTable>> {
        self.to_array()
    }

    /// What `var_dump()` and `print_r()` show: the decision's array.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        self.to_array()
    }
}

/// The verification postback, ready for curl: `CURLOPT_POSTFIELDS => $r->body`,
/// `CURLOPT_HTTPHEADER => $r->curlHeaders()`, and never `CURLOPT_FOLLOWLOCATION`.
#[php_class]
#[php(name = "Ipnkit\\VerificationRequest")]
#[php(flags = ClassFlags::Final)]
pub struct VerificationRequest {
    inner: ipnkit::VerificationRequest,
}

impl VerificationRequest {
    fn of(notification: &Notification, config: &Config) -> VerificationRequest {
        VerificationRequest {
            inner: notification.verification_request(&config.inner),
        }
    }
}

#[php_impl]
impl VerificationRequest {
    /// Always `POST`.
    pub fn method(&self) -> &'static str {
        self.inner.method
    }

    /// The endpoint of the configured environment.
    pub fn url(&self) -> String {
        self.inner.url.clone()
    }

    /// `cmd=_notify-validate&` followed by the body, byte for byte: send it as it is.
    pub fn body(&self) -> Binary<u8> {
        bytes(&self.inner.body)
    }

    /// The headers: name => value.
    pub fn headers(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut array = ZendHashTable::with_capacity(2);
        for (name, value) in &self.inner.headers {
            array.insert(*name, *value)?;
        }
        Ok(array)
    }

    /// The headers as curl's `CURLOPT_HTTPHEADER` takes them: `['Name: value', …]`.
    pub fn curl_headers(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut array = ZendHashTable::with_capacity(2);
        for (name, value) in &self.inner.headers {
            array.push(format!("{name}: {value}"))?;
        }
        Ok(array)
    }

    /// What `var_dump()` and `print_r()` show: the method, the URL, the headers and the body.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut array = ZendHashTable::with_capacity(4);
        array.insert("method", self.method())?;
        array.insert("url", self.url())?;
        array.insert("headers", self.headers()?)?;
        array.insert("body", self.body())?;
        Ok(array)
    }
}

extern "C" fn startup(_kind: i32, _module: i32) -> i32 {
    match errors::register() {
        Ok(()) => 0,
        Err(e) => {
            // MINIT has no caller to return an error to: PHP prints that the module failed.
            eprintln!("ipnkit: cannot register the exception classes: {e}");
            -1
        }
    }
}

/// The module: its classes, and the exception classes made at startup.
#[php_module]
pub fn module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .name("ipnkit")
        .version(env!("CARGO_PKG_VERSION"))
        .startup_function(startup)
        .class::<Ipn>()
        .class::<Message>()
        .class::<Money>()
        .class::<PayPalDate>()
        .class::<Period>()
        .class::<Config>()
        .class::<Expected>()
        .class::<Verdict>()
        .class::<Decision>()
        .class::<VerificationRequest>()
        .class::<webhook::WebhookVerifier>()
        .class::<webhook::WebhookVerdict>()
        .class::<webhook::CertificateRequest>()
        .class::<webhook::Webhook>()
}
