//! The Node addon behind the `ipnkit` npm package: the core's host API ([`ipnkit::host`]) seen
//! from JavaScript. Conversions only: every decision (rules, verdicts, error kinds,
//! configuration) is the core's, and values cross as the core serializes them. The package's
//! JavaScript (`package/api.cjs`) gives these objects JavaScript idioms.
//!
//! No native object lives per message: `parse` returns the message's flat form (one string and
//! one array of spans, [`ipnkit::host::Flat`]) and every other function takes the body again,
//! so a parse crosses the boundary once and leaves nothing for the garbage collector to
//! finalize. Only the host's configuration ([`NativeConfig`]) is a native object.
//!
//! A core error is returned, not thrown, as a [`NativeError`] (code, kind, field, message) so
//! that the package throws the `IpnError` subclass of its kind.

#![deny(missing_docs)]

use ipnkit::host::{Answer, Config, Flat, Notification};
use ipnkit::{Expected, Limits};
use napi::bindgen_prelude::{Buffer, Either, Utf16String};
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
    pub fn limits(&self) -> napi::Result<NativeLimits> {
        NativeLimits::try_from(self.inner.limits())
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

impl TryFrom<Limits> for NativeLimits {
    type Error = napi::Error;

    /// A configuration's limits are at most the core's `MAX_BODY_BYTES`, far below 2^32; one
    /// that is not is an error, never a number made up.
    fn try_from(l: Limits) -> napi::Result<NativeLimits> {
        let n = |v: usize| u32::try_from(v).map_err(|e| napi::Error::from_reason(e.to_string()));
        Ok(NativeLimits {
            max_body_bytes: n(l.max_body_bytes)?,
            max_fields: n(l.max_fields)?,
            max_key_bytes: n(l.max_key_bytes)?,
        })
    }
}

/// Reads the host's configuration (plain data, the core's keys).
#[napi]
pub fn config(data: serde_json::Value) -> Outcome<NativeConfig> {
    outcome(Config::from_data(data).map(|inner| NativeConfig { inner }))
}

/// Checks the order the host expects (`{amount, currency}` as strings, `{any_amount: true}` or
/// `{no_order: true}`):
/// `null` when the core accepts it. The package keeps the plain data and passes it to
/// [`decide`], so that no native object outlives a call.
#[napi]
pub fn check_expected(data: serde_json::Value) -> Option<NativeError> {
    Expected::from_data(data)
        .err()
        .map(|e| NativeError::from(&e))
}

/// What PayPal's answer means: `{kind, reason}`. `status` is `null` when the postback got no
/// HTTP answer at all.
#[napi]
pub fn verdict(status: Option<u16>, body: &[u8]) -> napi::Result<serde_json::Value> {
    data(&Answer::new(status, body).verdict())
}

/// Receives a raw body within the configuration's limits (the defaults without one). The bytes
/// are borrowed for the call: no reference to the JavaScript array is kept.
fn receive(body: &[u8], config: Option<&NativeConfig>) -> Result<Notification, ipnkit::Error> {
    Notification::copy_of(body, limits(config))
}

/// The configuration's limits, or the defaults without one.
fn limits(config: Option<&NativeConfig>) -> Limits {
    config.map_or(Limits::DEFAULT, |c| c.inner.limits())
}

/// The parsed message of a body, or the error that refused or stopped it.
fn message_of<T>(
    body: &[u8],
    config: Option<&NativeConfig>,
    f: impl FnOnce(&ipnkit::Message) -> napi::Result<T>,
) -> napi::Result<Outcome<T>> {
    let notification = match receive(body, config) {
        Ok(n) => n,
        Err(e) => return Ok(Either::B(NativeError::from(&e))),
    };
    match notification.message() {
        Ok(m) => f(m).map(Either::A),
        Err(e) => Ok(Either::B(NativeError::from(e))),
    }
}

/// Parses a body into its flat form ([`ipnkit::host::Flat`]): one string, which the package
/// cuts into properties as they are read (it keeps its own copy of the body). Nothing native is
/// kept: every other function takes the body again.
#[napi(ts_return_type = "Outcome<string>")]
pub fn parse(body: &[u8], config: Option<&NativeConfig>) -> napi::Result<Outcome<Utf16String>> {
    match message_of(body, config, |m| Ok(Flat::of(m, body.len())))? {
        Either::A(Ok(flat)) => Ok(Either::A(Utf16String::from(flat.into_units()))),
        Either::A(Err(e)) => Ok(Either::B(NativeError::from(&e))),
        Either::B(e) => Ok(Either::B(e)),
    }
}

/// `cmd=_notify-validate&` followed by the body, whether or not its values decode (they are
/// not decoded).
#[napi]
pub fn postback(body: &[u8], config: Option<&NativeConfig>) -> Outcome<Buffer> {
    outcome(ipnkit::host::postback(body, limits(config)).map(Buffer::from))
}

/// The verification request for the configured environment: `{method, url, headers, body}`,
/// whether or not the body's values decode.
#[napi]
pub fn verification_request(body: &[u8], config: &NativeConfig) -> Outcome<NativeRequest> {
    outcome(config.inner.verification_request(body).map(|request| {
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
    }))
}

/// The members of a group (`items`, `options`, `masspay_items`, `transactions`) or the
/// `fraud_filters`, as the canonical JSON has them.
#[napi]
pub fn group(
    body: &[u8],
    config: Option<&NativeConfig>,
    name: String,
) -> napi::Result<Outcome<serde_json::Value>> {
    message_of(body, config, |m| match m.group(&name) {
        Some(group) => data(&group),
        None => Err(napi::Error::from_reason(format!(
            "ipnkit: {name:?} is not a group"
        ))),
    })
}

/// Unmodelled variables (and modelled ones not of their type), in order: [[name, value]].
#[napi]
pub fn extra(
    body: &[u8],
    config: Option<&NativeConfig>,
) -> napi::Result<Outcome<Vec<Vec<String>>>> {
    message_of(body, config, |m| {
        Ok(m.extra()
            .map(|(k, v)| vec![k.to_owned(), v.to_owned()])
            .collect())
    })
}

/// Every variable as received (decoded), in order: [[name, value]].
#[napi]
pub fn variables(
    body: &[u8],
    config: Option<&NativeConfig>,
) -> napi::Result<Outcome<Vec<Vec<String>>>> {
    message_of(body, config, |m| {
        Ok(m.variables()
            .iter()
            .map(|f| vec![f.key.to_owned(), f.value.to_owned()])
            .collect())
    })
}

/// The canonical JSON text.
#[napi]
pub fn to_json(body: &[u8], config: Option<&NativeConfig>) -> napi::Result<Outcome<String>> {
    message_of(body, config, |m| {
        m.to_canonical_json()
            .map_err(|e| napi::Error::from_reason(e.to_string()))
    })
}

/// The core's decision on a body: `{action, verdict, event, family, violations, error,
/// delivery_key, lookup_id, delivery}`, from PayPal's answer (`status` `null`: none), the
/// configuration, the expected order (plain data, as [`check_expected`] accepted it) and the
/// keys stored under the message's lookup id, oldest first.
#[napi]
pub fn decide(
    body: &[u8],
    status: Option<u16>,
    answer_body: &[u8],
    config: &NativeConfig,
    expected: serde_json::Value,
    stored: Vec<String>,
) -> napi::Result<Outcome<serde_json::Value>> {
    let expected = match Expected::from_data(expected) {
        Ok(expected) => expected,
        Err(e) => return Ok(Either::B(NativeError::from(&e))),
    };
    let notification = match receive(body, Some(config)) {
        Ok(n) => n,
        Err(e) => return Ok(Either::B(NativeError::from(&e))),
    };
    match notification.decide(
        Answer::new(status, answer_body),
        &config.inner,
        &expected,
        &stored,
    ) {
        Ok(decision) => data(&decision).map(Either::A),
        Err(e) => Ok(Either::B(NativeError::from(&e))),
    }
}

/// The delivery of a body against the stored keys: `{kind, from, to}`.
#[napi]
pub fn classify(
    body: &[u8],
    config: Option<&NativeConfig>,
    stored: Vec<String>,
) -> napi::Result<Outcome<serde_json::Value>> {
    match receive(body, config).and_then(|n| n.classify(&stored)) {
        Ok(delivery) => data(&delivery).map(Either::A),
        Err(e) => Ok(Either::B(NativeError::from(&e))),
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

// ---- PayPal REST webhooks ---------------------------------------------------------------

/// A webhook verifier for one webhook id in a configuration's environment (with its anchors and
/// replay window): the one other native object the package keeps, few and long-lived.
#[napi]
pub struct NativeWebhookVerifier {
    inner: ipnkit::webhook::WebhookVerifier,
}

/// Makes a webhook verifier: `config`'s environment, the webhook's id, optionally trust anchors
/// (PEM), a replay window (seconds) and, for tests only, a stand-in's certificate base URL.
#[napi]
pub fn webhook_verifier(
    config: &NativeConfig,
    webhook_id: String,
    trust_anchors: Option<&[u8]>,
    replay_window: Option<u32>,
    certificate_base_for_testing: Option<String>,
) -> Outcome<NativeWebhookVerifier> {
    let made = config.inner.webhook_verifier(&webhook_id).and_then(|v| {
        let v = match trust_anchors {
            Some(pem) => v.with_trust_anchors(pem)?,
            None => v,
        };
        let v = match replay_window {
            Some(seconds) => v.with_replay_window(seconds)?,
            None => v,
        };
        match certificate_base_for_testing {
            Some(base) => v.with_certificate_base_for_testing(&base),
            None => Ok(v),
        }
    });
    outcome(made.map(|inner| NativeWebhookVerifier { inner }))
}

/// The request's headers as pairs, from the list they cross as (`[name, value, name, value…]`).
fn header_pairs(headers: &[String]) -> napi::Result<Vec<(&str, &str)>> {
    ipnkit::webhook::transmission::pairs_from_flat(headers).ok_or_else(|| {
        napi::Error::from_reason(
            "ipnkit: the headers crossed as a list of odd length: a bug of the package",
        )
    })
}

/// The transmission of a body and its headers.
fn transmission<'b>(
    body: &'b [u8],
    headers: &[(&str, &str)],
) -> Result<ipnkit::webhook::Transmission<'b>, ipnkit::Error> {
    ipnkit::webhook::Transmission::from_request(
        body,
        headers,
        ipnkit::webhook::WebhookLimits::default(),
    )
}

/// Checks a webhook's body and headers as the core reads them (the body's size, PayPal's five
/// headers): `null` when they are read.
#[napi]
pub fn webhook_check(body: &[u8], headers: Vec<String>) -> napi::Result<Option<NativeError>> {
    Ok(transmission(body, &header_pairs(&headers)?)
        .err()
        .map(|e| NativeError::from(&e)))
}

/// The string PayPal signs for this body and these headers with `webhook_id`
/// (`transmission_id|transmission_time|webhook_id|crc32`), for an inspector.
#[napi]
pub fn webhook_signed_string(
    body: &[u8],
    headers: Vec<String>,
    webhook_id: String,
) -> napi::Result<Outcome<String>> {
    Ok(outcome(
        transmission(body, &header_pairs(&headers)?).map(|t| t.signed_string(&webhook_id)),
    ))
}

/// What to fetch: `{url, cache_key}`, or `{refused: reason}` when the certificate URL is not
/// PayPal's (nothing to fetch).
#[napi]
pub fn webhook_certificate_request(
    verifier: &NativeWebhookVerifier,
    body: &[u8],
    headers: Vec<String>,
) -> napi::Result<Outcome<serde_json::Value>> {
    let t = match transmission(body, &header_pairs(&headers)?) {
        Ok(t) => t,
        Err(e) => return Ok(Either::B(NativeError::from(&e))),
    };
    Ok(Either::A(match verifier.inner.certificate_request(&t) {
        Ok(r) => serde_json::json!({ "url": r.url(), "cache_key": r.cache_key() }),
        Err(why) => serde_json::json!({ "refused": why.code() }),
    }))
}

/// The verdict `{kind, reason}` on a body and its headers, given what the certificate URL
/// answered (`status` `null`: no answer at all) at `now` (Unix seconds).
#[napi]
pub fn webhook_verify(
    verifier: &NativeWebhookVerifier,
    body: &[u8],
    headers: Vec<String>,
    status: Option<u16>,
    certificate: &[u8],
    now: i64,
) -> napi::Result<Outcome<serde_json::Value>> {
    match webhook_verdict(
        verifier,
        body,
        &header_pairs(&headers)?,
        status,
        certificate,
        now,
    ) {
        Ok(verdict) => data(&verdict).map(Either::A),
        Err(e) => Ok(Either::B(NativeError::from(&e))),
    }
}

fn webhook_verdict(
    verifier: &NativeWebhookVerifier,
    body: &[u8],
    headers: &[(&str, &str)],
    status: Option<u16>,
    certificate: &[u8],
    now: i64,
) -> Result<ipnkit::webhook::WebhookVerdict, ipnkit::Error> {
    let t = transmission(body, headers)?;
    Ok(verifier
        .inner
        .verify_answer(&t, status.map(|s| (s, certificate)), now))
}

/// The webhook's delivery key and lookup id (`[key, lookup_id]`): IPN's where both channels tell
/// of the same state.
#[napi]
pub fn webhook_delivery_key(body: &[u8]) -> Outcome<Vec<String>> {
    outcome(ipnkit::webhook::WebhookEvent::parse(body).map(|event| {
        let key = ipnkit::DeliveryKey::of_webhook(&event);
        vec![key.as_str().to_owned(), key.lookup_id().to_owned()]
    }))
}

/// The webhook's event as its canonical JSON.
#[napi]
pub fn webhook_event(body: &[u8]) -> napi::Result<Outcome<serde_json::Value>> {
    match ipnkit::webhook::WebhookEvent::parse(body) {
        Ok(event) => data(&event).map(Either::A),
        Err(e) => Ok(Either::B(NativeError::from(&e))),
    }
}

/// The core's decision on a webhook, verified again from what the certificate URL answered
/// (the package keeps that answer with the verdict, which JavaScript cannot make up).
#[napi]
#[allow(clippy::too_many_arguments)] // the verdict's inputs and the decision's, as data
pub fn webhook_decide(
    verifier: &NativeWebhookVerifier,
    body: &[u8],
    headers: Vec<String>,
    status: Option<u16>,
    certificate: &[u8],
    now: i64,
    config: &NativeConfig,
    expected: serde_json::Value,
    stored: Vec<String>,
) -> napi::Result<Outcome<serde_json::Value>> {
    let headers = header_pairs(&headers)?;
    let decided = Expected::from_data(expected).and_then(|expected| {
        let verdict = webhook_verdict(verifier, body, &headers, status, certificate, now)?;
        let event = ipnkit::webhook::WebhookEvent::parse(body);
        ipnkit::webhook::decide(verdict, event.as_ref(), &config.inner, &expected, &stored)
    });
    match decided {
        Ok(decision) => data(&decision).map(Either::A),
        Err(e) => Ok(Either::B(NativeError::from(&e))),
    }
}

/// What the package builds its classes and types from: variables with kinds, vocabularies,
/// groups, events, error kinds and codes.
#[napi]
pub fn schema() -> serde_json::Value {
    ipnkit::host::schema()
}
