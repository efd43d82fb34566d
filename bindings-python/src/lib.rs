//! `ipnkit._native`: the core, seen from Python. Conversions only; the Python package `ipnkit`
//! wraps these in Python idioms (exceptions, named tuples, frozen objects).

use ipnkit::{Body, Environment, Report, Value, Verdict, Verifier};
use pyo3::exceptions::{PyAttributeError, PyException, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyString};

pyo3::create_exception!(
    _native,
    NativeError,
    PyException,
    "An ipnkit error: args are (code, field, message)."
);

fn error(e: ipnkit::Error) -> PyErr {
    NativeError::new_err((e.code(), e.field().map(str::to_owned), e.to_string()))
}

/// A violation as Python sees it: (code, field, detail).
type ViolationTuple = (String, Option<String>, Option<String>);

/// A verification request as Python sees it: (url, [(header, value)], body).
type RequestTuple<'py> = (String, Vec<(String, String)>, Bound<'py, PyBytes>);

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

/// PayPal's answer to a postback, as it came (status and bytes), or none at all. Python cannot
/// build one from a kind it writes: only `verdict(status, body)` and `no_answer()` make one.
#[pyclass(frozen, name = "NativeVerdict", module = "ipnkit._native")]
struct NativeVerdict {
    /// `None`: the postback got no HTTP answer.
    answer: Option<(u16, Vec<u8>)>,
    verdict: Verdict,
}

#[pymethods]
impl NativeVerdict {
    /// `verified`, `invalid` or `unexpected`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.verdict.as_str()
    }

    /// Why an answer was unexpected, else None.
    #[getter]
    fn reason(&self) -> Option<&'static str> {
        match self.verdict {
            Verdict::Unexpected(why) => Some(why.code()),
            _ => None,
        }
    }
}

/// A parsed message.
#[pyclass(frozen, name = "NativeMessage", module = "ipnkit._native")]
struct NativeMessage {
    inner: ipnkit::Message,
}

#[pymethods]
impl NativeMessage {
    /// The value of a modelled variable, converted: str, bool, int, Decimal, datetime (UTC),
    /// (Decimal, currency) for money, (count, unit) for a period; None when absent.
    fn get(&self, py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
        if !ipnkit::MODELLED_VARIABLES.contains(&name) {
            return Err(PyAttributeError::new_err(name.to_owned()));
        }
        let value = match self.inner.value(name) {
            None => py.None(),
            Some(Value::Text(t) | Value::Word(t)) => t.into_pyobject(py)?.into_any().unbind(),
            Some(Value::Flag(b)) => pyo3::types::PyBool::new(py, b)
                .to_owned()
                .into_any()
                .unbind(),
            Some(Value::Count(n)) => n.into_pyobject(py)?.into_any().unbind(),
            Some(Value::Decimal(d)) => d.into_pyobject(py)?.into_any().unbind(),
            Some(Value::Currency(c)) => c.as_str().into_pyobject(py)?.into_any().unbind(),
            Some(Value::Money(m)) => (m.amount, m.currency.map(|c| c.as_str().to_owned()))
                .into_pyobject(py)?
                .into_any()
                .unbind(),
            Some(Value::Date(d)) => (d.utc, d.text.as_str())
                .into_pyobject(py)?
                .into_any()
                .unbind(),
            Some(Value::Period(p)) => (p.count, format!("{:?}", p.unit))
                .into_pyobject(py)?
                .into_any()
                .unbind(),
            Some(_) => py.None(),
        };
        Ok(value)
    }

    /// The event's code.
    #[getter]
    fn event(&self) -> &'static str {
        self.inner.event().code()
    }

    /// The family's code.
    #[getter]
    fn family(&self) -> &'static str {
        self.inner.family().code()
    }

    /// Unmodelled variables, in order.
    fn extra(&self) -> Vec<(String, String)> {
        self.inner
            .extra()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// Every variable, in order.
    fn variables(&self) -> Vec<(String, String)> {
        self.inner
            .variables()
            .iter()
            .map(|f| (f.key.to_owned(), f.value.to_owned()))
            .collect()
    }

    /// The canonical JSON.
    fn to_json(&self) -> String {
        self.inner.to_canonical_json()
    }

    /// (delivery key, lookup id).
    fn delivery_key(&self) -> (String, String) {
        let key = ipnkit::DeliveryKey::of(&self.inner);
        (key.as_str().to_owned(), key.lookup_id().to_owned())
    }

    /// The policy check: [(code, field, detail)], from PayPal's answer as it came.
    #[pyo3(signature = (verdict, environment, receiver_emails, receiver_ids, amount=None, currency=None, final_statuses=None))]
    #[allow(clippy::too_many_arguments)]
    fn check(
        &self,
        verdict: &NativeVerdict,
        environment: &str,
        receiver_emails: Vec<String>,
        receiver_ids: Vec<String>,
        amount: Option<ipnkit::Decimal>,
        currency: Option<&str>,
        final_statuses: Option<Vec<String>>,
    ) -> PyResult<Vec<ViolationTuple>> {
        let environment: Environment = environment.parse().map_err(error)?;
        let mut policy = ipnkit::Policy::new(environment);
        for e in &receiver_emails {
            policy = policy.receiver_email(e);
        }
        for i in &receiver_ids {
            policy = policy.receiver_id(i);
        }
        if let Some(statuses) = final_statuses {
            policy = policy.final_statuses(
                statuses
                    .iter()
                    .map(|s| ipnkit::vocab::PaymentStatus::parse(s)),
            );
        }
        let currency = match currency {
            Some(c) => Some(c.parse::<ipnkit::Currency>().map_err(error)?),
            None => None,
        };
        let expected = ipnkit::Expected { amount, currency };
        let report = match &verdict.answer {
            Some((status, response)) => {
                policy
                    .evaluate(self.inner.clone(), *status, response, &expected)
                    .0
            }
            None => Report::not_verified(),
        };
        Ok(report
            .violations
            .iter()
            .map(|v| {
                (
                    v.code.as_str().to_owned(),
                    v.field.map(str::to_owned),
                    v.detail.map(str::to_owned),
                )
            })
            .collect())
    }

    /// The delivery's classification against stored keys: (kind, from, to); for `stale`, from is
    /// the latest state stored and to this delivery's.
    fn classify(&self, stored: Vec<String>) -> PyResult<(String, Option<String>, Option<String>)> {
        let stored = stored
            .iter()
            .map(|k| ipnkit::DeliveryKey::from_stored(k))
            .collect::<Result<Vec<_>, _>>()
            .map_err(error)?;
        Ok(match ipnkit::classify(&self.inner, &stored) {
            ipnkit::Delivery::Transition { from, to } => {
                ("transition".into(), Some(from), Some(to))
            }
            ipnkit::Delivery::Stale { latest, this } => ("stale".into(), Some(latest), Some(this)),
            other => (other.code().into(), None, None),
        })
    }
}

/// Parses a raw body into a message.
#[pyfunction]
fn parse(body: &Bound<'_, PyAny>) -> PyResult<NativeMessage> {
    let raw = raw_body(body)?;
    let inner = ipnkit::Message::parse(&raw).map_err(error)?;
    Ok(NativeMessage { inner })
}

/// The verification postback of a raw body.
#[pyfunction]
fn postback<'py>(py: Python<'py>, body: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyBytes>> {
    let raw = raw_body(body)?;
    let parsed = Body::parse(&raw).map_err(error)?;
    Ok(PyBytes::new(py, &parsed.postback()))
}

/// (url, [(header, value)], body) of the verification request.
#[pyfunction]
#[pyo3(signature = (body, environment, base_url_for_testing=None))]
fn verification_request<'py>(
    py: Python<'py>,
    body: &Bound<'py, PyAny>,
    environment: &str,
    base_url_for_testing: Option<&str>,
) -> PyResult<RequestTuple<'py>> {
    let raw = raw_body(body)?;
    let parsed = Body::parse(&raw).map_err(error)?;
    let mut verifier = Verifier::new(environment.parse().map_err(error)?);
    if let Some(url) = base_url_for_testing {
        verifier = verifier.with_base_url_for_testing(url);
    }
    let request = verifier.request(&parsed);
    let headers = request
        .headers
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Ok((request.url, headers, PyBytes::new(py, &request.body)))
}

/// PayPal's answer to a postback, kept as it came.
#[pyfunction]
fn verdict(status: u16, body: &Bound<'_, PyAny>) -> PyResult<NativeVerdict> {
    let raw = raw_body(body)?;
    Ok(NativeVerdict {
        verdict: Verdict::from_response(status, &raw),
        answer: Some((status, raw)),
    })
}

/// The postback got no HTTP answer at all.
#[pyfunction]
fn no_answer() -> NativeVerdict {
    NativeVerdict {
        answer: None,
        verdict: Verdict::no_answer(),
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("NativeError", m.py().get_type::<NativeError>())?;
    m.add("ERROR_CODES", ipnkit::ERROR_CODES.to_vec())?;
    m.add("EVENT_CODES", ipnkit::EVENT_CODES.to_vec())?;
    m.add("VIOLATION_CODES", ipnkit::VIOLATION_CODES.to_vec())?;
    m.add("MODELLED_VARIABLES", ipnkit::MODELLED_VARIABLES.to_vec())?;
    m.add("MODELLED_KINDS", ipnkit::MODELLED_KINDS.to_vec())?;
    m.add(
        "VOCABULARIES",
        ipnkit::vocab::VOCABULARIES
            .iter()
            .map(|(name, known)| (*name, known.to_vec()))
            .collect::<Vec<_>>(),
    )?;
    m.add_class::<NativeMessage>()?;
    m.add_class::<NativeVerdict>()?;
    m.add_function(wrap_pyfunction!(parse, m)?)?;
    m.add_function(wrap_pyfunction!(postback, m)?)?;
    m.add_function(wrap_pyfunction!(verification_request, m)?)?;
    m.add_function(wrap_pyfunction!(verdict, m)?)?;
    m.add_function(wrap_pyfunction!(no_answer, m)?)?;
    Ok(())
}
