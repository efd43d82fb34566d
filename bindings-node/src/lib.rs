//! The Node addon behind the `ipnkit` npm package: the core's host API ([`ipnkit::host`]) seen
//! from JavaScript. Conversions only: every decision (rules, verdicts, error kinds,
//! configuration) is the core's, and values cross as the core serializes them. The package's
//! JavaScript (`package/api.cjs`) gives these objects JavaScript idioms.
//!
//! A core error is returned, not thrown, as a [`NativeError`] (code, kind, field, message) so
//! that the package throws the `IpnError` subclass of its kind.

#![deny(missing_docs)]

use ipnkit::host::{Answer, Config, Notification};
use ipnkit::{Expected, Limits, Lookup};
use napi::bindgen_prelude::{Buffer, Either, Uint8Array};
use napi_derive::napi;

/// A core error as data: the stable code, its kind, the field it names (never its value) and
/// the message.
#[napi]
pub struct NativeError {
    /// The stable code (`duplicate_key`…).
    #[napi(readonly)]
    pub code: String,
    /// The kind (`body`, `limit`, `format`…), which names the JavaScript class.
    #[napi(readonly)]
    pub kind: String,
    /// The field, when there is one.
    #[napi(readonly)]
    pub field: Option<String>,
    /// The message: what happened and what to do, without the value.
    #[napi(readonly)]
    pub message: String,
}

impl From<&ipnkit::Error> for NativeError {
    fn from(e: &ipnkit::Error) -> NativeError {
        NativeError {
            code: e.code().to_owned(),
            kind: e.kind().code().to_owned(),
            field: e.field().map(str::to_owned),
            message: e.to_string(),
        }
    }
}

/// A value of the core's, or the error that stopped it (`T | NativeError` in JavaScript).
pub type Outcome<T> = Either<T, NativeError>;

fn outcome<T>(result: Result<T, ipnkit::Error>) -> Outcome<T> {
    match result {
        Ok(value) => Either::A(value),
        Err(e) => Either::B(NativeError::from(&e)),
    }
}

/// Serializes a core value for JavaScript. The core's types serialize to strings, numbers,
/// lists and maps only; a failure would be a bug, reported as a thrown error, never hidden.
fn data<T: serde::Serialize>(value: &T) -> napi::Result<serde_json::Value> {
    serde_json::to_value(value).map_err(|e| napi::Error::from_reason(e.to_string()))
}

/// The host's configuration, checked by the core.
#[napi]
pub struct NativeConfig {
    inner: Config,
}

#[napi]
impl NativeConfig {
    /// `live` or `sandbox`.
    #[napi(getter)]
    pub fn environment(&self) -> &'static str {
        self.inner.environment().as_str()
    }

    /// The limits: `{max_body_bytes, max_fields, max_key_bytes}`.
    #[napi(getter)]
    pub fn limits(&self) -> NativeLimits {
        NativeLimits::from(self.inner.limits())
    }
}

/// Limits on a body, as numbers.
#[napi(object)]
pub struct NativeLimits {
    /// Bytes in the body.
    #[napi(js_name = "max_body_bytes")]
    pub max_body_bytes: u32,
    /// Variables in the body.
    #[napi(js_name = "max_fields")]
    pub max_fields: u32,
    /// Bytes in one variable's name.
    #[napi(js_name = "max_key_bytes")]
    pub max_key_bytes: u32,
}

impl From<Limits> for NativeLimits {
    fn from(l: Limits) -> NativeLimits {
        // The core's limits are far below 2^32 (a body's spans are 32-bit); saturate rather
        // than wrap should a host configure more.
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        NativeLimits {
            max_body_bytes: n(l.max_body_bytes),
            max_fields: n(l.max_fields),
            max_key_bytes: n(l.max_key_bytes),
        }
    }
}

/// Reads the host's configuration (plain data, the core's keys).
#[napi]
pub fn config(data: serde_json::Value) -> Outcome<NativeConfig> {
    outcome(Config::from_data(data).map(|inner| NativeConfig { inner }))
}

/// The order the host expects, checked by the core.
#[napi]
pub struct NativeExpected {
    inner: Expected,
}

/// Reads the expected order (`{amount, currency}` as strings, or `{no_amount: true}`).
#[napi]
pub fn expected(data: serde_json::Value) -> Outcome<NativeExpected> {
    outcome(Expected::from_data(data).map(|inner| NativeExpected { inner }))
}

/// PayPal's answer to a postback, kept as it came.
#[napi]
pub struct NativeVerdict {
    answer: Option<(u16, Vec<u8>)>,
}

impl NativeVerdict {
    fn answer(&self) -> Answer<'_> {
        match &self.answer {
            Some((status, body)) => Answer::Http {
                status: *status,
                body,
            },
            None => Answer::NoAnswer,
        }
    }
}

#[napi]
impl NativeVerdict {
    /// `{kind, reason}`: what the answer means.
    #[napi]
    pub fn meaning(&self) -> napi::Result<serde_json::Value> {
        data(&self.answer().verdict())
    }
}

/// PayPal's answer, from the HTTP status and the response body as they came.
#[napi]
pub fn verdict(status: u16, body: Uint8Array) -> NativeVerdict {
    NativeVerdict {
        answer: Some((status, body.to_vec())),
    }
}

/// The postback got no HTTP answer at all.
#[napi]
pub fn no_answer() -> NativeVerdict {
    NativeVerdict { answer: None }
}

/// One received notification: the raw bytes, parsed once, and the message or its error.
#[napi]
pub struct NativeNotification {
    inner: Notification,
}

/// Receives a raw body within `limits` (the defaults when absent). Only a refused body (empty,
/// over the limits) is an error here; a body whose values do not decode is received, and its
/// error is [`NativeNotification::error`].
#[napi]
pub fn receive(body: Uint8Array, limits: Option<&NativeConfig>) -> Outcome<NativeNotification> {
    let limits = limits.map_or(Limits::DEFAULT, |c| c.inner.limits());
    outcome(Notification::copy_of(&body, limits).map(|inner| NativeNotification { inner }))
}

#[napi]
impl NativeNotification {
    /// The raw body, byte for byte.
    #[napi(getter)]
    pub fn raw(&self) -> Buffer {
        Buffer::from(self.inner.raw())
    }

    /// The error that stopped the message, if its values do not decode.
    #[napi(getter)]
    pub fn error(&self) -> Option<NativeError> {
        self.inner.message().err().map(NativeError::from)
    }

    /// `cmd=_notify-validate&` followed by the body.
    #[napi]
    pub fn postback(&self) -> Buffer {
        Buffer::from(self.inner.postback())
    }

    /// The verification request for the configured environment: `{method, url, headers, body}`.
    #[napi]
    pub fn verification_request(&self, config: &NativeConfig) -> NativeRequest {
        let request = self.inner.verification_request(&config.inner);
        NativeRequest {
            method: request.method.to_owned(),
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|(k, v)| vec![k.to_owned(), v.to_owned()])
                .collect(),
            body: Buffer::from(request.body),
        }
    }

    /// One modelled variable as the canonical JSON has it, `null` when absent. A name that
    /// is not modelled is thrown (the package asks only for the core's names).
    #[napi]
    pub fn get(&self, name: String) -> napi::Result<Outcome<Option<serde_json::Value>>> {
        self.with_message(|m| match m.get(&name) {
            Lookup::Value(value) => data(&value).map(Some),
            Lookup::Absent => Ok(None),
            Lookup::NotModelled => Err(napi::Error::from_reason(format!(
                "ipnkit: {name:?} is not a modelled variable"
            ))),
        })
    }

    /// The members of a group (`items`, `options`, `masspay_items`, `transactions`) or the
    /// `fraud_filters`, as the canonical JSON has them.
    #[napi]
    pub fn group(&self, name: String) -> napi::Result<Outcome<serde_json::Value>> {
        self.with_message(|m| match name.as_str() {
            "fraud_filters" => data(&m.fraud_filters()),
            "options" => data(&m.options()),
            "items" => data(&m.items()),
            "masspay_items" => data(&m.masspay_items()),
            "transactions" => data(&m.transactions()),
            other => Err(napi::Error::from_reason(format!(
                "ipnkit: {other:?} is not a group"
            ))),
        })
    }

    /// `event`, `family`, `delivery_key`, `lookup_id`, `notices` ([{code, field}]), `extra`
    /// and `variables` ([[name, value]]): what the package's `Message` holds besides the
    /// variables.
    #[napi]
    pub fn summary(&self) -> napi::Result<Outcome<serde_json::Value>> {
        self.with_message(|m| {
            let key = ipnkit::DeliveryKey::of(m);
            Ok(serde_json::json!({
                "event": m.event().code(),
                "family": m.family().code(),
                "delivery_key": key.as_str(),
                "lookup_id": key.lookup_id(),
                "notices": m.notices(),
            }))
        })
    }

    /// Unmodelled variables (and modelled ones not of their type), in order: [[name, value]].
    #[napi]
    pub fn extra(&self) -> napi::Result<Outcome<Vec<Vec<String>>>> {
        self.with_message(|m| {
            Ok(m.extra()
                .map(|(k, v)| vec![k.to_owned(), v.to_owned()])
                .collect())
        })
    }

    /// Every variable as received (decoded), in order: [[name, value]].
    #[napi]
    pub fn variables(&self) -> napi::Result<Outcome<Vec<Vec<String>>>> {
        self.with_message(|m| {
            Ok(m.variables()
                .iter()
                .map(|f| vec![f.key.to_owned(), f.value.to_owned()])
                .collect())
        })
    }

    /// The canonical JSON text.
    #[napi]
    pub fn to_json(&self) -> napi::Result<Outcome<String>> {
        self.with_message(|m| {
            m.to_canonical_json()
                .map_err(|e| napi::Error::from_reason(e.to_string()))
        })
    }

    /// The core's decision: `{action, verdict, event, family, violations, error, delivery_key,
    /// lookup_id, delivery}`.
    #[napi]
    pub fn decide(
        &self,
        verdict: &NativeVerdict,
        config: &NativeConfig,
        expected: &NativeExpected,
        stored: Vec<String>,
    ) -> napi::Result<Outcome<serde_json::Value>> {
        match self
            .inner
            .decide(verdict.answer(), &config.inner, &expected.inner, &stored)
        {
            Ok(decision) => data(&decision).map(Either::A),
            Err(e) => Ok(Either::B(NativeError::from(&e))),
        }
    }

    /// The delivery against the stored keys: `{kind, from, to}`.
    #[napi]
    pub fn classify(&self, stored: Vec<String>) -> napi::Result<Outcome<serde_json::Value>> {
        let stored = match stored
            .iter()
            .map(|k| ipnkit::DeliveryKey::from_stored(k))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(stored) => stored,
            Err(e) => return Ok(Either::B(NativeError::from(&e))),
        };
        self.with_message(|m| data(&ipnkit::classify(m, &stored)))
    }
}

impl NativeNotification {
    /// Runs `f` on the message, or returns the error that stopped it. A failure of `f` itself
    /// (a bug, or a name the package should never ask for) is thrown, never returned as a value.
    fn with_message<T>(
        &self,
        f: impl FnOnce(&ipnkit::Message) -> napi::Result<T>,
    ) -> napi::Result<Outcome<T>> {
        match self.inner.message() {
            Ok(m) => f(m).map(Either::A),
            Err(e) => Ok(Either::B(NativeError::from(e))),
        }
    }
}

/// A verification request: what to `fetch`.
#[napi(object)]
pub struct NativeRequest {
    /// Always `POST`.
    pub method: String,
    /// The endpoint.
    pub url: String,
    /// [[name, value]].
    pub headers: Vec<Vec<String>>,
    /// `cmd=_notify-validate&` followed by the body.
    pub body: Buffer,
}

/// What the package builds its classes and types from: variables with kinds, vocabularies,
/// groups, events, error kinds and codes.
#[napi]
pub fn schema() -> serde_json::Value {
    ipnkit::host::schema()
}
