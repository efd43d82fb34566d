//! The wasm module behind the `ipnkit-wasm` npm package: the core's host API
//! ([`ipnkit::host`]) for edge workers, browsers and Node. Conversions only: every decision
//! (rules, verdicts, error kinds, configuration) is the core's.
//!
//! Values cross as text, which the package's adapter (`package/native.cjs`) turns into the same
//! interface the Node addon offers, so that one JavaScript API (`api.cjs`) serves both builds:
//! plain data out as JSON, a parsed message as the core's flat form ([`Flat`], one well-formed
//! UTF-16 string), bytes as bytes. The configuration and the expected order cross as the plain
//! data the host gave, converted to the core's [`Plain`], so that the module links no
//! deserializer (serde's generated code and serde_json's parser cost 19 KB of the gzipped
//! module). A configuration is read once and kept in the module ([`Configuration`], the one
//! object it holds between calls, few and long-lived: the glue frees it when it is collected);
//! nothing else outlives a call.
//!
//! The core's schema is not in the module: `build.rs` writes it at build time and the package
//! ships it as JavaScript (`schema.cjs`, `schema.mjs`), which the size budget does not count.
//!
//! A core error is thrown as the JSON text of `{code, kind, field, message}` (a string, never an
//! `Error`): the adapter returns it as a `NativeError`. Anything else thrown (a trap) is a bug.

#![deny(missing_docs)]

use ipnkit::host::{Answer, Config, Flat, Notification, Plain};
use ipnkit::{Expected, Limits};
use js_sys::{Array, Object};
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::{JsError, JsValue, wasm_bindgen};

/// A core error as the adapter reads it.
#[derive(Serialize)]
struct ErrorData<'a> {
    code: &'a str,
    kind: &'a str,
    field: Option<&'a str>,
    message: String,
}

/// What a call throws: a core error as its JSON text (a string), or a bug as an `Error`.
type Thrown = JsValue;

/// The thrown form of a core error: its JSON text.
fn thrown(e: &ipnkit::Error) -> Thrown {
    let data = ErrorData {
        code: e.code(),
        kind: e.kind().code(),
        field: e.field(),
        message: e.to_string(),
    };
    match serde_json::to_string(&data) {
        Ok(text) => JsValue::from_str(&text),
        Err(e) => bug(&e),
    }
}

/// A failure that is not a core error (the adapter sent what it never sends, or a value did
/// not serialize): thrown as an `Error`, never hidden.
fn bug(e: &dyn std::fmt::Display) -> Thrown {
    JsError::new(&format!("ipnkit-wasm: {e}")).into()
}

/// JSON text of a core value (the core's types serialize to strings, numbers, lists and maps).
fn json<T: Serialize>(value: &T) -> Result<String, Thrown> {
    serde_json::to_string(value).map_err(|e| bug(&e))
}

/// Plain data from what the adapter passes (a `JSON.parse` result: null, booleans, numbers,
/// strings, arrays and objects only). JavaScript has one kind of number: a whole one within the
/// exact integers is an integer, any other a float (which the core never takes as a count).
fn plain(value: &JsValue) -> Result<Plain, Thrown> {
    const EXACT: f64 = 9_007_199_254_740_991.0; // 2^53 - 1
    if value.is_null() || value.is_undefined() {
        Ok(Plain::Null)
    } else if let Some(b) = value.as_bool() {
        Ok(Plain::Bool(b))
    } else if let Some(n) = value.as_f64() {
        #[allow(clippy::cast_possible_truncation)] // kept only when whole and within ±2^53: exact
        let whole = (n.fract() == 0.0 && n.abs() <= EXACT).then_some(n as i128);
        Ok(whole.map_or(Plain::Float(n), Plain::Int))
    } else if let Some(text) = value.as_string() {
        Ok(Plain::Text(text))
    } else if Array::is_array(value) {
        let items = Array::from(value);
        let items = items.iter().map(|item| plain(&item));
        Ok(Plain::List(items.collect::<Result<_, _>>()?))
    } else if let Some(object) = value.dyn_ref::<Object>() {
        let entries = Object::entries(object);
        let entries = entries.iter().map(|entry| {
            let pair = Array::from(&entry);
            let key = pair
                .get(0)
                .as_string()
                .ok_or_else(|| bug(&"a key that is not a string"))?;
            Ok((key, plain(&pair.get(1))?))
        });
        Ok(Plain::Map(entries.collect::<Result<_, Thrown>>()?))
    } else {
        Err(bug(&"a value that is not plain data"))
    }
}

fn config_of(data: &JsValue) -> Result<Config, Thrown> {
    Config::from_plain(&plain(data)?).map_err(|e| thrown(&e))
}

/// A configuration the core accepted, kept in the module: converted once, then used by every
/// call that names it (the only object the module keeps; the package makes one a `Config`).
#[wasm_bindgen]
pub struct Configuration {
    inner: Config,
}

fn receive(body: &[u8], limits: Limits) -> Result<Notification, Thrown> {
    Notification::copy_of(body, limits).map_err(|e| thrown(&e))
}

/// The limits a configuration's `info` gave (`[max_body_bytes, max_fields, max_key_bytes]`),
/// passed back by the functions that need only them; none: the defaults.
fn limits_of(limits: Option<Vec<u32>>) -> Result<Limits, Thrown> {
    match limits.as_deref() {
        None => Ok(Limits::DEFAULT),
        Some(&[max_body_bytes, max_fields, max_key_bytes]) => Limits::new(
            max_body_bytes.into(),
            max_fields.into(),
            max_key_bytes.into(),
        )
        .map_err(|e| thrown(&e)),
        Some(_) => Err(bug(&"limits are three numbers")),
    }
}

/// Runs `f` on the body's message, received within `limits` (see [`limits_of`]).
fn with_message<T>(
    body: &[u8],
    limits: Option<Vec<u32>>,
    f: impl FnOnce(&ipnkit::Message) -> Result<T, Thrown>,
) -> Result<T, Thrown> {
    let notification = receive(body, limits_of(limits)?)?;
    f(notification.message().map_err(thrown)?)
}

/// What the package shows of a configuration.
#[derive(Serialize)]
struct ConfigInfo {
    environment: &'static str,
    limits: LimitsInfo,
}

/// The limits, under the core's keys.
#[derive(Serialize)]
struct LimitsInfo {
    max_body_bytes: usize,
    max_fields: usize,
    max_key_bytes: usize,
}

/// A configuration from plain data (the core's keys), when the core accepts it.
#[wasm_bindgen]
pub fn config(data: JsValue) -> Result<Configuration, Thrown> {
    config_of(&data).map(|inner| Configuration { inner })
}

#[wasm_bindgen]
impl Configuration {
    /// `{environment, limits}` (JSON): what the package shows of the configuration.
    pub fn info(&self) -> Result<String, Thrown> {
        let limits = self.inner.limits();
        json(&ConfigInfo {
            environment: self.inner.environment().as_str(),
            limits: LimitsInfo {
                max_body_bytes: limits.max_body_bytes,
                max_fields: limits.max_fields,
                max_key_bytes: limits.max_key_bytes,
            },
        })
    }
}

/// Checks an expected order (plain data: `{amount, currency}` as strings, `{any_amount:
/// true}` or `{no_order: true}`).
#[wasm_bindgen]
pub fn check_expected(data: JsValue) -> Result<(), Thrown> {
    Expected::from_plain(&plain(&data)?)
        .map(|_| ())
        .map_err(|e| thrown(&e))
}

/// What PayPal's answer means, `{kind, reason}` (JSON); `status` absent: no answer at all.
#[wasm_bindgen]
pub fn verdict(status: Option<u16>, body: &[u8]) -> Result<String, Thrown> {
    json(&Answer::new(status, body).verdict())
}

thread_local! {
    /// The last [`parse`]'s flat form, kept in the module until the next call, so that the
    /// adapter reads it where it is (a view of the module's memory at [`parsed_units`]) instead of
    /// the glue copying it out: the copy and its free were a tenth of a `parse`.
    static PARSED: std::cell::RefCell<Vec<u16>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Parses a body into its flat form ([`Flat`]) and returns its length in UTF-16 code units; the
/// units are at [`parsed_units`] until the next call of `parse`. The body is the module's own
/// copy (the glue copied it in), so the notification takes it without copying it again.
#[wasm_bindgen]
pub fn parse(body: Vec<u8>, limits: Option<Vec<u32>>) -> Result<u32, Thrown> {
    let len = body.len();
    let notification = Notification::new(body, limits_of(limits)?).map_err(|e| thrown(&e))?;
    let message = notification.message().map_err(thrown)?;
    let units = Flat::of(message, len).map_err(|e| thrown(&e))?.into_units();
    // A body is at most `Limits`' size (a few MiB), far below what u32 counts.
    let count =
        u32::try_from(units.len()).map_err(|_| JsError::new("flat form past 4 Gi units"))?;
    PARSED.with(|parsed| *parsed.borrow_mut() = units);
    Ok(count)
}

/// Where the last [`parse`]'s units are in the module's memory (a byte offset, 2-aligned).
#[wasm_bindgen]
pub fn parsed_units() -> u32 {
    // wasm32's pointers are 32 bits.
    PARSED.with(|parsed| parsed.borrow().as_ptr() as u32)
}

/// The module's memory, for the adapter's views of it ([`parsed_units`]).
#[wasm_bindgen]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// `cmd=_notify-validate&` followed by the body, whether or not its values decode (they are
/// not decoded).
#[wasm_bindgen]
pub fn postback(body: &[u8], limits: Option<Vec<u32>>) -> Result<Vec<u8>, Thrown> {
    ipnkit::host::postback(body, limits_of(limits)?).map_err(|e| thrown(&e))
}

/// A verification request as the adapter reads it.
#[derive(Serialize)]
struct Request<'a> {
    method: &'a str,
    url: &'a str,
    headers: &'a [(&'a str, &'a str)],
    /// The body's bytes, one character each (U+0000 to U+00FF): JSON carries no bytes.
    body: String,
}

/// The verification request for the configured environment (JSON: `{method, url, headers,
/// body}`, headers as `[[name, value]]`, the body one character a byte), whether or not the
/// body's values decode.
#[wasm_bindgen]
pub fn verification_request(body: &[u8], config: &Configuration) -> Result<String, Thrown> {
    let request = config
        .inner
        .verification_request(body)
        .map_err(|e| thrown(&e))?;
    json(&Request {
        method: request.method,
        url: &request.url,
        headers: &request.headers,
        body: request.body.iter().map(|&b| char::from(b)).collect(),
    })
}

/// A group's members (`items`, `options`, `masspay_items`, `transactions`) or the
/// `fraud_filters`, as the canonical JSON has them (JSON).
#[wasm_bindgen]
pub fn group(body: &[u8], limits: Option<Vec<u32>>, name: &str) -> Result<String, Thrown> {
    with_message(body, limits, |m| match m.group(name) {
        Some(group) => json(&group),
        None => Err(bug(&format!("\"{name}\" is not a group"))),
    })
}

/// Unmodelled variables (and modelled ones not of their type), in order: `[[name, value]]`
/// (JSON).
#[wasm_bindgen]
pub fn extra(body: &[u8], limits: Option<Vec<u32>>) -> Result<String, Thrown> {
    with_message(body, limits, |m| json(&m.extra().collect::<Vec<_>>()))
}

/// Every variable as received (decoded), in order: `[[name, value]]` (JSON).
#[wasm_bindgen]
pub fn variables(body: &[u8], limits: Option<Vec<u32>>) -> Result<String, Thrown> {
    with_message(body, limits, |m| {
        json(
            &m.variables()
                .iter()
                .map(|f| (f.key, f.value))
                .collect::<Vec<_>>(),
        )
    })
}

/// The canonical JSON text.
#[wasm_bindgen]
pub fn to_json(body: &[u8], limits: Option<Vec<u32>>) -> Result<String, Thrown> {
    with_message(body, limits, |m| m.to_canonical_json().map_err(|e| bug(&e)))
}

/// The core's decision on a body (JSON): from PayPal's answer (`status` absent: none), the
/// configuration and the expected order (plain data), and the keys stored under the message's
/// lookup id, oldest first.
#[wasm_bindgen]
pub fn decide(
    body: &[u8],
    status: Option<u16>,
    answer_body: &[u8],
    config: &Configuration,
    expected: JsValue,
    stored: Vec<String>,
) -> Result<String, Thrown> {
    let expected = Expected::from_plain(&plain(&expected)?).map_err(|e| thrown(&e))?;
    let notification = receive(body, config.inner.limits())?;
    let decision = notification
        .decide(
            Answer::new(status, answer_body),
            &config.inner,
            &expected,
            &stored,
        )
        .map_err(|e| thrown(&e))?;
    json(&decision)
}

/// The delivery of a body against the stored keys (oldest first): `{kind, from, to}` (JSON).
#[wasm_bindgen]
pub fn classify(
    body: &[u8],
    limits: Option<Vec<u32>>,
    stored: Vec<String>,
) -> Result<String, Thrown> {
    let notification = receive(body, limits_of(limits)?)?;
    json(&notification.classify(&stored).map_err(|e| thrown(&e))?)
}

// ---- PayPal REST webhooks -----------------------------------------------------------------

/// A webhook verifier for one webhook id in a configuration's environment, kept in the module
/// like a [`Configuration`] (few and long-lived).
#[wasm_bindgen]
pub struct WebhookVerifier {
    inner: ipnkit::webhook::WebhookVerifier,
}

/// Makes a webhook verifier: the configuration's environment, the webhook's id, optionally trust
/// anchors (PEM), a replay window (seconds) and, for tests only, a stand-in's certificate base URL.
#[wasm_bindgen]
pub fn webhook_verifier(
    config: &Configuration,
    webhook_id: &str,
    trust_anchors: Option<Vec<u8>>,
    replay_window: Option<u32>,
    certificate_base_for_testing: Option<String>,
) -> Result<WebhookVerifier, Thrown> {
    let mut inner = config
        .inner
        .webhook_verifier(webhook_id)
        .map_err(|e| thrown(&e))?;
    if let Some(pem) = trust_anchors {
        inner = inner.with_trust_anchors(&pem).map_err(|e| thrown(&e))?;
    }
    if let Some(seconds) = replay_window {
        inner = inner.with_replay_window(seconds).map_err(|e| thrown(&e))?;
    }
    if let Some(base) = certificate_base_for_testing {
        inner = inner
            .with_certificate_base_for_testing(&base)
            .map_err(|e| thrown(&e))?;
    }
    Ok(WebhookVerifier { inner })
}

/// The request's headers as pairs, from the list they cross as (`[name, value, name, value…]`).
fn header_pairs(headers: &[String]) -> Result<Vec<(&str, &str)>, Thrown> {
    ipnkit::webhook::transmission::pairs_from_flat(headers)
        .ok_or_else(|| bug(&"the headers crossed as a list of odd length"))
}

fn transmission<'b>(
    body: &'b [u8],
    headers: &[(&str, &str)],
) -> Result<ipnkit::webhook::Transmission<'b>, Thrown> {
    ipnkit::webhook::Transmission::from_request(
        body,
        headers,
        ipnkit::webhook::WebhookLimits::default(),
    )
    .map_err(|e| thrown(&e))
}

/// Checks a webhook's body and headers as the core reads them (the body's size, PayPal's five
/// headers); throws the core's error.
#[wasm_bindgen]
pub fn webhook_check(body: &[u8], headers: Vec<String>) -> Result<(), Thrown> {
    transmission(body, &header_pairs(&headers)?).map(|_| ())
}

/// The string PayPal signs for this body and these headers with `webhook_id`
/// (`transmission_id|transmission_time|webhook_id|crc32`), for an inspector.
#[wasm_bindgen]
pub fn webhook_signed_string(
    body: &[u8],
    headers: Vec<String>,
    webhook_id: &str,
) -> Result<String, Thrown> {
    Ok(transmission(body, &header_pairs(&headers)?)?.signed_string(webhook_id))
}

/// What to fetch, `{url, cache_key}`, or `{refused: reason}` (JSON).
#[wasm_bindgen]
pub fn webhook_certificate_request(
    verifier: &WebhookVerifier,
    body: &[u8],
    headers: Vec<String>,
) -> Result<String, Thrown> {
    #[derive(Serialize)]
    struct Request<'a> {
        url: &'a str,
        cache_key: &'a str,
    }
    #[derive(Serialize)]
    struct Refused {
        refused: &'static str,
    }
    let t = transmission(body, &header_pairs(&headers)?)?;
    match verifier.inner.certificate_request(&t) {
        Ok(r) => json(&Request {
            url: r.url(),
            cache_key: r.cache_key(),
        }),
        Err(why) => json(&Refused {
            refused: why.code(),
        }),
    }
}

fn webhook_verdict(
    verifier: &WebhookVerifier,
    body: &[u8],
    headers: &[(&str, &str)],
    status: Option<u16>,
    certificate: &[u8],
    now: f64,
) -> Result<ipnkit::webhook::WebhookVerdict, Thrown> {
    const EXACT: f64 = 9_007_199_254_740_991.0; // 2^53 - 1
    if now.fract() != 0.0 || now.abs() > EXACT {
        return Err(bug(&"the time is whole seconds"));
    }
    #[allow(clippy::cast_possible_truncation)] // whole and within ±2^53: exact
    let now = now as i64;
    let t = transmission(body, headers)?;
    Ok(verifier
        .inner
        .verify_answer(&t, status.map(|s| (s, certificate)), now))
}

/// The verdict `{kind, reason}` (JSON), given what the certificate URL answered (`status`
/// absent: no answer at all) at `now` (Unix seconds).
#[wasm_bindgen]
pub fn webhook_verify(
    verifier: &WebhookVerifier,
    body: &[u8],
    headers: Vec<String>,
    status: Option<u16>,
    certificate: &[u8],
    now: f64,
) -> Result<String, Thrown> {
    json(&webhook_verdict(
        verifier,
        body,
        &header_pairs(&headers)?,
        status,
        certificate,
        now,
    )?)
}

/// The webhook's delivery key and lookup id (`[key, lookup_id]`): IPN's where both channels tell
/// of the same state.
#[wasm_bindgen]
pub fn webhook_delivery_key(body: &[u8]) -> Result<Vec<String>, Thrown> {
    let event = ipnkit::webhook::WebhookEvent::parse(body).map_err(|e| thrown(&e))?;
    let key = ipnkit::DeliveryKey::of_webhook(&event);
    Ok(vec![key.as_str().to_owned(), key.lookup_id().to_owned()])
}

/// The webhook's event as its canonical JSON.
#[wasm_bindgen]
pub fn webhook_event(body: &[u8]) -> Result<String, Thrown> {
    json(&ipnkit::webhook::WebhookEvent::parse(body).map_err(|e| thrown(&e))?)
}

/// The core's decision on a webhook (JSON), verified again from what the certificate URL
/// answered.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)] // the verdict's inputs and the decision's, as data
pub fn webhook_decide(
    verifier: &WebhookVerifier,
    body: &[u8],
    headers: Vec<String>,
    status: Option<u16>,
    certificate: &[u8],
    now: f64,
    config: &Configuration,
    expected: JsValue,
    stored: Vec<String>,
) -> Result<String, Thrown> {
    let expected = Expected::from_plain(&plain(&expected)?).map_err(|e| thrown(&e))?;
    let verdict = webhook_verdict(
        verifier,
        body,
        &header_pairs(&headers)?,
        status,
        certificate,
        now,
    )?;
    let event = ipnkit::webhook::WebhookEvent::parse(body);
    let decision =
        ipnkit::webhook::decide(verdict, event.as_ref(), &config.inner, &expected, &stored)
            .map_err(|e| thrown(&e))?;
    json(&decision)
}
