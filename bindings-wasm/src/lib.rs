//! The wasm module behind the `ipnkit-wasm` npm package: the core's host API
//! ([`ipnkit::host`]) for edge workers, browsers and Node. Conversions only: every decision
//! (rules, verdicts, error kinds, configuration) is the core's.
//!
//! Values cross as text, which the package's adapter (`package/native.cjs`) turns into the same
//! interface the Node addon offers, so that one JavaScript API (`api.cjs`) serves both builds:
//! plain data as JSON, a parsed message as the core's flat form ([`Flat`], one well-formed
//! UTF-16 string), bytes as bytes. The configuration and the expected order cross as the JSON
//! the host gave (the core reads it again each call), so that no object lives in the module's
//! memory between calls and nothing has to be freed.
//!
//! The core's schema is not in the module: `build.rs` writes it at build time and the package
//! ships it as JavaScript (`schema.cjs`, `schema.mjs`), which the size budget does not count.
//!
//! A core error is thrown as the JSON text of `{code, kind, field, message}` (a string, never an
//! `Error`): the adapter returns it as a `NativeError`. Anything else thrown (a trap) is a bug.

#![deny(missing_docs)]

use ipnkit::host::{Answer, Config, Flat, Notification};
use ipnkit::{Expected, Limits};
use serde::Serialize;
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

fn config_of(text: &str) -> Result<Config, Thrown> {
    Config::from_json(text).map_err(|e| thrown(&e))
}

fn receive(body: &[u8], config: Option<&Config>) -> Result<Notification, Thrown> {
    let limits = config.map_or(Limits::DEFAULT, Config::limits);
    Notification::copy_of(body, limits).map_err(|e| thrown(&e))
}

/// Runs `f` on the body's message, received within the configuration's limits.
fn with_message<T>(
    body: &[u8],
    config: Option<String>,
    f: impl FnOnce(&ipnkit::Message) -> Result<T, Thrown>,
) -> Result<T, Thrown> {
    let config = config.as_deref().map(config_of).transpose()?;
    let notification = receive(body, config.as_ref())?;
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

/// Checks a configuration (JSON, the core's keys): `{environment, limits}` (JSON) when the core
/// accepts it.
#[wasm_bindgen]
pub fn config(text: &str) -> Result<String, Thrown> {
    let config = config_of(text)?;
    let limits = config.limits();
    json(&ConfigInfo {
        environment: config.environment().as_str(),
        limits: LimitsInfo {
            max_body_bytes: limits.max_body_bytes,
            max_fields: limits.max_fields,
            max_key_bytes: limits.max_key_bytes,
        },
    })
}

/// Checks an expected order (JSON: `{amount, currency}` as strings, or `{no_amount: true}`).
#[wasm_bindgen]
pub fn check_expected(text: &str) -> Result<(), Thrown> {
    Expected::from_json(text)
        .map(|_| ())
        .map_err(|e| thrown(&e))
}

/// What PayPal's answer means, `{kind, reason}` (JSON); `status` absent: no answer at all.
#[wasm_bindgen]
pub fn verdict(status: Option<u16>, body: &[u8]) -> Result<String, Thrown> {
    json(&Answer::new(status, body).verdict())
}

/// A body's flat form ([`Flat`]), as UTF-16 code units.
#[wasm_bindgen]
pub fn parse(body: &[u8], config: Option<String>) -> Result<Vec<u16>, Thrown> {
    with_message(body, config, |m| {
        Flat::of(m, body)
            .map(Flat::into_units)
            .map_err(|e| thrown(&e))
    })
}

/// `cmd=_notify-validate&` followed by the body, whether or not its values decode.
#[wasm_bindgen]
pub fn postback(body: &[u8], config: Option<String>) -> Result<Vec<u8>, Thrown> {
    let config = config.as_deref().map(config_of).transpose()?;
    Ok(receive(body, config.as_ref())?.postback())
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
pub fn verification_request(body: &[u8], config: &str) -> Result<String, Thrown> {
    let config = config_of(config)?;
    let request = receive(body, Some(&config))?.verification_request(&config);
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
pub fn group(body: &[u8], config: Option<String>, name: &str) -> Result<String, Thrown> {
    with_message(body, config, |m| match name {
        "fraud_filters" => json(&m.fraud_filters()),
        "options" => json(&m.options()),
        "items" => json(&m.items()),
        "masspay_items" => json(&m.masspay_items()),
        "transactions" => json(&m.transactions()),
        other => Err(bug(&format!("{other:?} is not a group"))),
    })
}

/// Unmodelled variables (and modelled ones not of their type), in order: `[[name, value]]`
/// (JSON).
#[wasm_bindgen]
pub fn extra(body: &[u8], config: Option<String>) -> Result<String, Thrown> {
    with_message(body, config, |m| json(&m.extra().collect::<Vec<_>>()))
}

/// Every variable as received (decoded), in order: `[[name, value]]` (JSON).
#[wasm_bindgen]
pub fn variables(body: &[u8], config: Option<String>) -> Result<String, Thrown> {
    with_message(body, config, |m| {
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
pub fn to_json(body: &[u8], config: Option<String>) -> Result<String, Thrown> {
    with_message(body, config, |m| m.to_canonical_json().map_err(|e| bug(&e)))
}

/// The core's decision on a body (JSON): from PayPal's answer (`status` absent: none), the
/// configuration, the expected order and the keys stored under the message's lookup id, oldest
/// first (JSON lists of strings).
#[wasm_bindgen]
pub fn decide(
    body: &[u8],
    status: Option<u16>,
    answer_body: &[u8],
    config: &str,
    expected: &str,
    stored: &str,
) -> Result<String, Thrown> {
    let config = config_of(config)?;
    let expected = Expected::from_json(expected).map_err(|e| thrown(&e))?;
    let stored: Vec<String> = serde_json::from_str(stored).map_err(|e| bug(&e))?;
    let notification = receive(body, Some(&config))?;
    let decision = notification
        .decide(
            Answer::new(status, answer_body),
            &config,
            &expected,
            &stored,
        )
        .map_err(|e| thrown(&e))?;
    json(&decision)
}

/// The delivery of a body against the stored keys (JSON list, oldest first): `{kind, from, to}`
/// (JSON).
#[wasm_bindgen]
pub fn classify(body: &[u8], config: Option<String>, stored: &str) -> Result<String, Thrown> {
    let stored: Vec<String> = serde_json::from_str(stored).map_err(|e| bug(&e))?;
    let stored = stored
        .iter()
        .map(|k| ipnkit::DeliveryKey::from_stored(k))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| thrown(&e))?;
    with_message(body, config, |m| json(&ipnkit::classify(m, &stored)))
}
