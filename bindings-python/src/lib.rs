//! `ipnkit._native`: the core's host API ([`ipnkit::host`]), seen from Python. Conversions only:
//! every decision (rules, verdicts, error kinds, configuration) is the core's. The Python package
//! `ipnkit` gives these objects Python idioms.

use ipnkit::host::{Answer, Config, Notification};
use ipnkit::webhook::{Transmission, WebhookEvent, WebhookLimits, WebhookVerdict, WebhookVerifier};
use ipnkit::{Expected, Limits, Lookup, Message, Value};
use pyo3::exceptions::{PyAttributeError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType,
};

/// The Python classes values are converted into, looked up once in the `ipnkit` package.
static MONEY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DATE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static PERIOD: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static PACKAGE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();

/// The Python exception for a core error: the class of its kind (`ipnkit.<Stem>Error`, named by
/// the core's `ErrorKind::stem`), with the code, the field and the message.
fn error(py: Python<'_>, e: &ipnkit::Error) -> PyErr {
    let class = format!("{}Error", e.kind().stem());
    let made = py.import("ipnkit").and_then(|package| {
        package
            .getattr(class.as_str())?
            .call1((e.code(), e.field(), e.to_string()))
    });
    match made {
        Ok(instance) => PyErr::from_value(instance),
        Err(failure) => failure,
    }
}

/// The raw body as bytes; a helpful `TypeError` for `str`.
fn raw_body(body: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = body.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = body.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if body.is_instance_of::<PyString>() {
        return Err(PyTypeError::new_err(
            "the raw IPN body must be bytes, not str: decoding and re-encoding it breaks \
             verification. Pass the request's raw bytes: request.body in Django, \
             request.get_data() in Flask, await request.body() in FastAPI",
        ));
    }
    Err(PyTypeError::new_err(format!(
        "the raw IPN body must be bytes, not {}",
        body.get_type().name()?
    )))
}

/// A Python value as plain data for the core's deserializers: dict, list/tuple, str, int, float,
/// bool, None, and `decimal.Decimal` as its exact text. The core decides what is valid.
fn plain(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    use serde_json::Value as J;
    if value.is_none() {
        return Ok(J::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(J::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        return Ok(J::from(value.extract::<i64>()?));
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        // A float is passed on (the core refuses it where an exact amount belongs); NaN and the
        // infinities have no plain-data form.
        return serde_json::Number::from_f64(f.value())
            .map(J::Number)
            .ok_or_else(|| PyTypeError::new_err("a float that is not finite is not plain data"));
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(J::String(s.to_cow()?.into_owned()));
    }
    if value.is_instance(DECIMAL.import(py, "decimal", "Decimal")?)? {
        return Ok(J::String(value.str()?.to_cow()?.into_owned()));
    }
    if let Ok(d) = value.cast::<PyDict>() {
        let mut map = serde_json::Map::new();
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("configuration keys must be str"))?;
            map.insert(key.to_cow()?.into_owned(), plain(py, &v)?);
        }
        return Ok(J::Object(map));
    }
    if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        return value
            .try_iter()?
            .map(|item| plain(py, &item?))
            .collect::<PyResult<Vec<_>>>()
            .map(J::Array);
    }
    Err(PyTypeError::new_err(format!(
        "{} is not plain data (dict, list, str, int, Decimal, bool, None)",
        value.get_type().name()?
    )))
}

/// A verification request as Python sees it: (url, [(header, value)], body).
type RequestTuple<'py> = (
    String,
    Vec<(&'static str, &'static str)>,
    Bound<'py, PyBytes>,
);

/// The host's configuration, checked by the core.
#[pyclass(frozen, name = "NativeConfig", module = "ipnkit._native")]
struct NativeConfig {
    inner: Config,
}

#[pymethods]
impl NativeConfig {
    #[new]
    fn new(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let inner = Config::from_data(plain(py, data)?).map_err(|e| error(py, &e))?;
        Ok(NativeConfig { inner })
    }

    /// (max_body_bytes, max_fields, max_key_bytes).
    #[getter]
    fn limits(&self) -> (usize, usize, usize) {
        let l = self.inner.limits();
        (l.max_body_bytes, l.max_fields, l.max_key_bytes)
    }

    /// `live` or `sandbox`.
    #[getter]
    fn environment(&self) -> &'static str {
        self.inner.environment().as_str()
    }
}

/// The order the host expects, checked by the core.
#[pyclass(frozen, name = "NativeExpected", module = "ipnkit._native")]
struct NativeExpected {
    inner: Expected,
}

#[pymethods]
impl NativeExpected {
    #[new]
    fn new(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let inner = Expected::from_data(plain(py, data)?).map_err(|e| error(py, &e))?;
        Ok(NativeExpected { inner })
    }
}

/// PayPal's answer to a postback, as it came (status and bytes), or none at all.
#[pyclass(frozen, name = "NativeVerdict", module = "ipnkit._native")]
struct NativeVerdict {
    /// `None`: the postback got no HTTP answer.
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

#[pymethods]
impl NativeVerdict {
    /// `verified`, `invalid` or `unexpected`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.answer().verdict().as_str()
    }

    /// Why an answer was unexpected, else None.
    #[getter]
    fn reason(&self) -> Option<&'static str> {
        match self.answer().verdict() {
            ipnkit::Verdict::Unexpected(why) => Some(why.code()),
            _ => None,
        }
    }
}

/// One received notification: the raw bytes, parsed once, and the message or its error.
#[pyclass(frozen, name = "NativeNotification", module = "ipnkit._native")]
struct NativeNotification {
    inner: Notification,
    limits: Limits,
}

impl NativeNotification {
    fn message(&self, py: Python<'_>) -> PyResult<&Message> {
        self.inner.message().map_err(|e| error(py, e))
    }
}

/// A value converted: str, bool, int, Decimal, `ipnkit.Money`, `ipnkit.PayPalDate`,
/// `ipnkit.Period`; options and pairs as lists.
fn convert<'py>(
    py: Python<'py>,
    value: Value<'_>,
    record: &Bound<'py, PyAny>,
    path: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Text(t) | Value::Word(t) => PyString::new(py, t).into_any(),
        Value::Flag(b) => PyBool::new(py, b).to_owned().into_any(),
        Value::Count(n) => n.into_pyobject(py)?.into_any(),
        Value::Decimal(d) => d.into_pyobject(py)?.into_any(),
        Value::Currency(c) => PyString::new(py, c.as_str()).into_any(),
        Value::Money(m) => MONEY
            .import(py, "ipnkit", "Money")?
            .call1((m.amount, m.currency.as_ref().map(|c| c.as_str())))?,
        Value::Date(d) => DATE
            .import(py, "ipnkit", "PayPalDate")?
            .call1((d.utc, d.text.as_str()))?,
        Value::Period(p) => PERIOD
            .import(py, "ipnkit", "Period")?
            .call1((p.count, p.unit.code()))?,
        Value::Options(options) => {
            let list = PyList::empty(py);
            for (i, option) in options.iter().enumerate() {
                let sub = path_with(
                    py,
                    path,
                    &[
                        &"options".into_pyobject(py)?.into_any(),
                        &i.into_pyobject(py)?.into_any(),
                    ],
                )?;
                list.append(make_record(
                    py,
                    "ItemOption",
                    option.record(),
                    record,
                    &sub,
                )?)?;
            }
            list.into_any()
        }
        Value::Pairs(pairs) => {
            PyList::new(py, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?.into_any()
        }
        // `Value` is non-exhaustive: a kind this binding does not know yet is a bug to report,
        // never a silent None.
        other => {
            return Err(PyRuntimeError::new_err(format!(
                "ipnkit: no Python conversion for {other:?}"
            )));
        }
    })
}

fn path_with<'py>(
    py: Python<'py>,
    path: &Bound<'py, PyTuple>,
    more: &[&Bound<'py, PyAny>],
) -> PyResult<Bound<'py, PyTuple>> {
    let mut items: Vec<Bound<'py, PyAny>> = path.iter().collect();
    items.extend(more.iter().map(|b| (*b).clone()));
    PyTuple::new(py, items)
}

/// A record object: `ipnkit.<Type>._of({...fields, "_native": notification, "_path": path})`.
fn make_record<'py>(
    py: Python<'py>,
    class: &str,
    record: ipnkit::Record<'_>,
    native: &Bound<'py, PyAny>,
    path: &Bound<'py, PyTuple>,
) -> PyResult<Bound<'py, PyAny>> {
    let dict = PyDict::new(py);
    for (name, value) in record {
        dict.set_item(name, convert(py, value, native, path)?)?;
    }
    dict.set_item("_native", native)?;
    dict.set_item("_path", path)?;
    let package = PACKAGE.get_or_try_init(py, || py.import("ipnkit").map(Bound::unbind))?;
    package
        .bind(py)
        .getattr(class)?
        .call_method1("_of", (dict,))
}

#[pymethods]
impl NativeNotification {
    /// The raw body, byte for byte.
    #[getter]
    fn raw<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.inner.raw())
    }

    /// The limits it was parsed within: (max_body_bytes, max_fields, max_key_bytes).
    #[getter]
    fn limits(&self) -> (usize, usize, usize) {
        (
            self.limits.max_body_bytes,
            self.limits.max_fields,
            self.limits.max_key_bytes,
        )
    }

    /// One attribute of the Python message, converted when it is first read: a modelled
    /// variable (`None` when absent), a group as a list of record objects, or `fraud_filters`.
    /// Any other name is an `AttributeError` (the package only asks for these).
    fn attribute<'py>(slf: &Bound<'py, Self>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        let m = slf.get().message(py)?;
        let native = slf.as_any();
        match m.get(name) {
            Lookup::Value(value) => return convert(py, value, native, &PyTuple::empty(py)),
            Lookup::Absent => return Ok(py.None().into_bound(py)),
            Lookup::NotModelled => {}
        }
        if name == "fraud_filters" {
            return Ok(PyList::new(py, m.fraud_filters())?.into_any());
        }
        let group = ipnkit::GROUPS.iter().find(|(group, ..)| *group == name);
        let (Some((group, class, _)), Some(records)) = (group, m.records(name)) else {
            return Err(PyAttributeError::new_err(format!(
                "ipnkit: no attribute {name:?}"
            )));
        };
        let list = PyList::empty(py);
        for (i, record) in records.into_iter().enumerate() {
            let path = PyTuple::new(
                py,
                [
                    group.into_pyobject(py)?.into_any(),
                    i.into_pyobject(py)?.into_any(),
                ],
            )?;
            list.append(make_record(py, class, record, native, &path)?)?;
        }
        Ok(list.into_any())
    }

    /// The event's code.
    #[getter]
    fn event(&self, py: Python<'_>) -> PyResult<&'static str> {
        Ok(self.message(py)?.event().code())
    }

    /// The family's code.
    #[getter]
    fn family(&self, py: Python<'_>) -> PyResult<&'static str> {
        Ok(self.message(py)?.family().code())
    }

    /// Unmodelled variables (and modelled ones not of their type), in order.
    fn extra(&self, py: Python<'_>) -> PyResult<Vec<(String, String)>> {
        Ok(self
            .message(py)?
            .extra()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect())
    }

    /// Every variable, in order.
    fn variables(&self, py: Python<'_>) -> PyResult<Vec<(String, String)>> {
        Ok(self
            .message(py)?
            .variables()
            .iter()
            .map(|f| (f.key.to_owned(), f.value.to_owned()))
            .collect())
    }

    /// Notices: [(code, field)].
    fn notices(&self, py: Python<'_>) -> PyResult<Vec<(&'static str, String)>> {
        Ok(self
            .message(py)?
            .notices()
            .iter()
            .map(|n| (n.code, n.field.clone()))
            .collect())
    }

    /// The canonical JSON.
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        self.message(py)?
            .to_canonical_json()
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The canonical JSON of one record, by its path (`("items", 0, "options", 1)`): the
    /// member serialized as the message serializes it.
    fn record_json(&self, py: Python<'_>, path: &Bound<'_, PyTuple>) -> PyResult<String> {
        let m = self.message(py)?;
        let steps: (String, usize, Option<(String, usize)>) = match path.len() {
            2 => (
                path.get_item(0)?.extract()?,
                path.get_item(1)?.extract()?,
                None,
            ),
            4 => (
                path.get_item(0)?.extract()?,
                path.get_item(1)?.extract()?,
                Some((path.get_item(2)?.extract()?, path.get_item(3)?.extract()?)),
            ),
            _ => {
                return Err(PyTypeError::new_err(
                    "ipnkit: a record path has 2 or 4 steps",
                ));
            }
        };
        let missing = || PyRuntimeError::new_err("ipnkit: no record at this path");
        let record = m
            .group(&steps.0)
            .and_then(|g| g.member(steps.1))
            .ok_or_else(missing)?;
        let record = match &steps.2 {
            None => record,
            Some((sub, j)) => record
                .group(sub)
                .and_then(|g| g.member(*j))
                .ok_or_else(missing)?,
        };
        serde_json::to_string(&record).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// (delivery key, lookup id).
    fn delivery_key(&self, py: Python<'_>) -> PyResult<(String, String)> {
        let key = ipnkit::DeliveryKey::of(self.message(py)?);
        Ok((key.as_str().to_owned(), key.lookup_id().to_owned()))
    }

    /// The postback.
    fn postback<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.postback())
    }

    /// (url, [(header, value)], body) of the verification request.
    fn verification_request<'py>(
        &self,
        py: Python<'py>,
        config: &NativeConfig,
    ) -> PyResult<RequestTuple<'py>> {
        let request = self.inner.verification_request(&config.inner);
        Ok((
            request.url,
            request.headers,
            PyBytes::new(py, &request.body),
        ))
    }

    /// The core's decision, as its JSON.
    fn decide(
        &self,
        py: Python<'_>,
        verdict: &NativeVerdict,
        config: &NativeConfig,
        expected: &NativeExpected,
        stored: Vec<String>,
    ) -> PyResult<String> {
        let decision = self
            .inner
            .decide(verdict.answer(), &config.inner, &expected.inner, &stored)
            .map_err(|e| error(py, &e))?;
        serde_json::to_string(&decision).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The delivery against stored keys, as its JSON.
    fn classify(&self, py: Python<'_>, stored: Vec<String>) -> PyResult<String> {
        let delivery = self.inner.classify(&stored).map_err(|e| error(py, &e))?;
        serde_json::to_string(&delivery).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }
}

/// Receives a raw body within `limits` ((max_body_bytes, max_fields, max_key_bytes), default
/// limits when None). Raises only when the body itself is refused.
#[pyfunction]
#[pyo3(signature = (body, limits=None))]
fn receive(
    py: Python<'_>,
    body: &Bound<'_, PyAny>,
    limits: Option<(u64, u64, u64)>,
) -> PyResult<NativeNotification> {
    let raw = raw_body(body)?;
    let limits = match limits {
        Some((max_body_bytes, max_fields, max_key_bytes)) => {
            Limits::new(max_body_bytes, max_fields, max_key_bytes).map_err(|e| error(py, &e))?
        }
        None => Limits::DEFAULT,
    };
    let inner = Notification::new(raw, limits).map_err(|e| error(py, &e))?;
    Ok(NativeNotification { inner, limits })
}

/// PayPal's answer to a postback, kept as it came.
#[pyfunction]
fn verdict(status: u16, body: &Bound<'_, PyAny>) -> PyResult<NativeVerdict> {
    Ok(NativeVerdict {
        answer: Some((status, raw_body(body)?)),
    })
}

/// The postback got no HTTP answer at all.
#[pyfunction]
fn no_answer() -> NativeVerdict {
    NativeVerdict { answer: None }
}

/// What the package generates its types and exception classes from, as JSON.
#[pyfunction]
fn schema() -> String {
    ipnkit::host::schema().to_string()
}

/// A header name or value as bytes: `str` (as UTF-8) or `bytes`.
fn header_bytes(value: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(b) = value.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    Err(PyTypeError::new_err(format!(
        "a header's name and value are str or bytes, not {}",
        value.get_type().name()?
    )))
}

/// `(url, body, None)` of an online verification request, or `(None, None, verdict)`.
type OnlineTuple<'py> = (
    Option<&'static str>,
    Option<Bound<'py, PyBytes>>,
    Option<NativeWebhookVerdict>,
);

/// A verifier for one webhook id in a configuration's environment.
#[pyclass(frozen, name = "NativeWebhookVerifier", module = "ipnkit._native")]
struct NativeWebhookVerifier {
    inner: WebhookVerifier,
}

#[pymethods]
impl NativeWebhookVerifier {
    #[new]
    #[pyo3(signature = (config, webhook_id, trust_anchors=None, replay_window=None, certificate_base_for_testing=None))]
    fn new(
        py: Python<'_>,
        config: &NativeConfig,
        webhook_id: &str,
        trust_anchors: Option<Vec<u8>>,
        replay_window: Option<u32>,
        certificate_base_for_testing: Option<&str>,
    ) -> PyResult<Self> {
        let mut inner = config
            .inner
            .webhook_verifier(webhook_id)
            .map_err(|e| error(py, &e))?;
        if let Some(pem) = trust_anchors {
            inner = inner.with_trust_anchors(&pem).map_err(|e| error(py, &e))?;
        }
        if let Some(seconds) = replay_window {
            inner = inner
                .with_replay_window(seconds)
                .map_err(|e| error(py, &e))?;
        }
        if let Some(base) = certificate_base_for_testing {
            inner = inner
                .with_certificate_base_for_testing(base)
                .map_err(|e| error(py, &e))?;
        }
        Ok(Self { inner })
    }
}

/// What the verifier concluded: made only by the core.
#[pyclass(frozen, name = "NativeWebhookVerdict", module = "ipnkit._native")]
struct NativeWebhookVerdict {
    inner: WebhookVerdict,
}

#[pymethods]
impl NativeWebhookVerdict {
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind().code()
    }

    #[getter]
    fn reason(&self) -> Option<&'static str> {
        self.inner.reason()
    }
}

/// A received webhook: the transmission (the body and PayPal's five headers) and its event.
#[pyclass(frozen, name = "NativeWebhook", module = "ipnkit._native")]
struct NativeWebhook {
    transmission: Transmission<'static>,
    event: Result<WebhookEvent, ipnkit::Error>,
}

#[pymethods]
impl NativeWebhook {
    /// `(url, cache_key, None)` to fetch, or `(None, None, verdict)` when the URL is refused.
    fn certificate_request(
        &self,
        verifier: &NativeWebhookVerifier,
    ) -> (Option<String>, Option<String>, Option<NativeWebhookVerdict>) {
        match verifier.inner.certificate_request(&self.transmission) {
            Ok(request) => (
                Some(request.url().to_owned()),
                Some(request.cache_key().to_owned()),
                None,
            ),
            Err(why) => (
                None,
                None,
                Some(NativeWebhookVerdict {
                    inner: WebhookVerdict::Invalid(why),
                }),
            ),
        }
    }

    /// The verdict with what the certificate URL answered (`status`, `body`), at `now` (Unix
    /// seconds).
    fn verify(
        &self,
        verifier: &NativeWebhookVerifier,
        status: u16,
        body: Vec<u8>,
        now: i64,
    ) -> NativeWebhookVerdict {
        let inner = verifier
            .inner
            .verify_answer(&self.transmission, Some((status, &body)), now);
        NativeWebhookVerdict { inner }
    }

    /// `(url, body, None)` of PayPal's `verify-webhook-signature` request, or raises the
    /// event's error; `(None, None, verdict)` when the algorithm is refused.
    fn online_request<'py>(
        &self,
        py: Python<'py>,
        verifier: &NativeWebhookVerifier,
    ) -> PyResult<OnlineTuple<'py>> {
        let event = self.event.as_ref().map_err(|e| error(py, e))?;
        Ok(
            match verifier.inner.online_request(&self.transmission, event) {
                Ok(request) => (
                    Some(request.url),
                    Some(PyBytes::new(py, &request.body)),
                    None,
                ),
                Err(why) => (
                    None,
                    None,
                    Some(NativeWebhookVerdict {
                        inner: WebhookVerdict::Invalid(why),
                    }),
                ),
            },
        )
    }

    /// The event as its canonical JSON; raises its error when the body is not one.
    fn event_json(&self, py: Python<'_>) -> PyResult<String> {
        let event = self.event.as_ref().map_err(|e| error(py, e))?;
        serde_json::to_string(event).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }

    /// The body as received.
    fn body<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.transmission.body())
    }

    /// The core's decision, as its JSON.
    fn decide(
        &self,
        py: Python<'_>,
        verdict: &NativeWebhookVerdict,
        config: &NativeConfig,
        expected: &NativeExpected,
        stored: Vec<String>,
    ) -> PyResult<String> {
        let decision = ipnkit::webhook::decide(
            verdict.inner,
            self.event.as_ref(),
            &config.inner,
            &expected.inner,
            &stored,
        )
        .map_err(|e| error(py, &e))?;
        serde_json::to_string(&decision).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }
}

/// Receives a webhook: the raw body and the request's headers as `(name, value)` pairs.
#[pyfunction]
fn receive_webhook(
    py: Python<'_>,
    body: &Bound<'_, PyAny>,
    headers: Vec<(Bound<'_, PyAny>, Bound<'_, PyAny>)>,
) -> PyResult<NativeWebhook> {
    let raw = raw_body(body)?;
    let headers = headers
        .iter()
        .map(|(n, v)| Ok((header_bytes(n)?, header_bytes(v)?)))
        .collect::<PyResult<Vec<_>>>()?;
    let transmission = Transmission::from_request(&raw, &headers, WebhookLimits::default())
        .map_err(|e| error(py, &e))?
        .into_owned();
    let event = WebhookEvent::parse(transmission.body());
    Ok(NativeWebhook {
        transmission,
        event,
    })
}

/// The certificate (or PayPal's online API) got no HTTP answer at all.
#[pyfunction]
fn webhook_no_answer() -> NativeWebhookVerdict {
    NativeWebhookVerdict {
        inner: WebhookVerdict::Unexpected(ipnkit::Unexpected::NoAnswer),
    }
}

/// PayPal's answer to an online verification request.
#[pyfunction]
fn online_verdict(
    verifier: &NativeWebhookVerifier,
    status: u16,
    body: Vec<u8>,
) -> NativeWebhookVerdict {
    NativeWebhookVerdict {
        inner: verifier.inner.online_verdict(status, &body),
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<NativeWebhookVerifier>()?;
    m.add_class::<NativeWebhookVerdict>()?;
    m.add_class::<NativeWebhook>()?;
    m.add_function(wrap_pyfunction!(receive_webhook, m)?)?;
    m.add_function(wrap_pyfunction!(webhook_no_answer, m)?)?;
    m.add_function(wrap_pyfunction!(online_verdict, m)?)?;
    m.add_class::<NativeNotification>()?;
    m.add_class::<NativeVerdict>()?;
    m.add_class::<NativeConfig>()?;
    m.add_class::<NativeExpected>()?;
    m.add_function(wrap_pyfunction!(receive, m)?)?;
    m.add_function(wrap_pyfunction!(verdict, m)?)?;
    m.add_function(wrap_pyfunction!(no_answer, m)?)?;
    m.add_function(wrap_pyfunction!(schema, m)?)?;
    Ok(())
}
