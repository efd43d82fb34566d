//! The one-call path's HTTP: one exchange made with PHP's own curl (or the sender the caller
//! gives), with the listener's discipline: one deadline for the whole exchange, no redirect
//! followed, the answer read to 64 KiB at most, and any failure (a timeout, a refused
//! connection, an answer over the cap) "no answer", which the core turns into a retry, never
//! a verdict. What the answer means is the core's.

use std::cell::RefCell;
use std::rc::Rc;

use ext_php_rs::binary::Binary;
use ext_php_rs::closure::Closure;
use ext_php_rs::convert::{FromZval, IntoZval};
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendCallable, ZendHashTable, Zval};

use crate::errors::{error, type_error};

/// The most of an answer read: PayPal's answers are a word, or a certificate of about 3 KiB.
const ANSWER_CAP: usize = 64 * 1024;

/// The deadline of an exchange when the caller gives none, in seconds.
pub(crate) const TIMEOUT: f64 = 30.0;

/// `Name: value` lines, as curl's `CURLOPT_HTTPHEADER` takes them.
pub(crate) fn lines(headers: &[(&str, &str)]) -> Vec<String> {
    headers.iter().map(|(n, v)| format!("{n}: {v}")).collect()
}

/// One request.
pub(crate) struct Request<'a> {
    /// `GET` or `POST`.
    pub(crate) method: &'static str,
    pub(crate) url: &'a str,
    /// `Name: value` lines.
    pub(crate) headers: Vec<String>,
    pub(crate) body: Option<&'a [u8]>,
}

/// The answer's status and body, or `None` when there is no whole answer.
pub(crate) type Answer = Option<(u16, Vec<u8>)>;

/// Makes `request` with `send` (`fn(string $method, string $url, array $headers, ?string
/// $body, float $timeout): ?array` returning `[$status, $body]`, or `null` for no answer) or,
/// without one, with curl, within `timeout` seconds.
pub(crate) fn exchange(
    request: &Request<'_>,
    send: Option<&ZendCallable<'_>>,
    timeout: f64,
) -> PhpResult<Answer> {
    if !(timeout.is_finite() && timeout > 0.0) {
        return Err(type_error(format!(
            "the timeout must be a positive number of seconds, {timeout} given"
        )));
    }
    match send {
        Some(send) => with_sender(request, send, timeout),
        None => with_curl(request, timeout),
    }
}

fn with_sender(
    request: &Request<'_>,
    callable: &ZendCallable<'_>,
    timeout: f64,
) -> PhpResult<Answer> {
    let body = match request.body {
        Some(b) => Binary::from(b.to_vec()).into_zval(false)?,
        None => Zval::null(),
    };
    let answer = callable
        .try_call(vec![
            &request.method,
            &request.url,
            &request.headers,
            &body,
            &timeout,
        ])
        .map_err(|e| error(format!("the sender failed: {e}")))?;
    if answer.is_null() {
        return Ok(None);
    }
    let wrong = || type_error("the sender must return [int $status, string $body] or null".into());
    let pair = answer.array().ok_or_else(wrong)?;
    let (Some(status), Some(body)) = (pair.get_index(0), pair.get_index(1)) else {
        return Err(wrong());
    };
    let status = status
        .long()
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(wrong)?;
    let body: Vec<u8> = body.binary().ok_or_else(wrong)?;
    // Over the cap: not an answer the core reads (as with curl).
    Ok((body.len() <= ANSWER_CAP).then_some((status, body)))
}

/// PHP's `constant($name)`: curl's option numbers, as this PHP's curl defines them.
fn constant(name: &str) -> PhpResult<i64> {
    ZendCallable::try_from_name("constant")
        .and_then(|c| c.try_call(vec![&name]))
        .ok()
        .and_then(|v| v.long())
        .ok_or_else(|| {
            error(format!(
                "curl is not loaded ({name} is not defined): load ext-curl, or give a sender"
            ))
        })
}

fn call(function: &str, args: Vec<&dyn ext_php_rs::convert::IntoZvalDyn>) -> PhpResult<Zval> {
    ZendCallable::try_from_name(function)
        .and_then(|c| c.try_call(args))
        .map_err(|e| error(format!("{function}: {e}")))
}

/// The first argument of curl's write callback, the handle: taken, not read.
struct CurlHandle;

impl FromZval<'_> for CurlHandle {
    const TYPE: DataType = DataType::Mixed;

    fn from_zval(_: &Zval) -> Option<Self> {
        Some(CurlHandle)
    }
}

fn with_curl(request: &Request<'_>, timeout: f64) -> PhpResult<Answer> {
    let handle = call("curl_init", vec![])?;
    // Whole milliseconds, at least one: the deadline for everything, connecting included.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ms = (timeout * 1000.0).ceil().clamp(1.0, 86_400_000.0) as i64;
    let received = Rc::new(RefCell::new(Vec::<u8>::new()));
    let kept = Rc::clone(&received);
    // curl's write callback: the bytes kept up to the cap; past it, fewer bytes "handled"
    // than given, which makes curl end the transfer (CURLE_WRITE_ERROR).
    // The first argument is the CurlHandle, not read (an object: `None` as an integer).
    let write = Closure::wrap(Box::new(move |_: CurlHandle, data: Binary<u8>| -> i64 {
        let mut kept = kept.borrow_mut();
        if kept.len() + data.len() > ANSWER_CAP {
            return 0;
        }
        kept.extend_from_slice(&data);
        // At most the cap (64 KiB): the length is an i64; were it not, 0 ends the transfer.
        i64::try_from(data.len()).unwrap_or(0)
    }) as Box<dyn Fn(CurlHandle, Binary<u8>) -> i64>);
    let mut options = ZendHashTable::new();
    options.insert_at_index(constant("CURLOPT_URL")?, request.url)?;
    options.insert_at_index(constant("CURLOPT_CUSTOMREQUEST")?, request.method)?;
    if let Some(body) = request.body {
        options.insert_at_index(constant("CURLOPT_POSTFIELDS")?, Binary::from(body.to_vec()))?;
    }
    options.insert_at_index(constant("CURLOPT_HTTPHEADER")?, request.headers.clone())?;
    options.insert_at_index(constant("CURLOPT_FOLLOWLOCATION")?, false)?;
    options.insert_at_index(constant("CURLOPT_TIMEOUT_MS")?, ms)?;
    options.insert_at_index(constant("CURLOPT_CONNECTTIMEOUT_MS")?, ms)?;
    options.insert_at_index(
        constant("CURLOPT_PROTOCOLS")?,
        constant("CURLPROTO_HTTPS")? | constant("CURLPROTO_HTTP")?,
    )?;
    options.insert_at_index(constant("CURLOPT_WRITEFUNCTION")?, write.into_zval(false)?)?;
    let set = call("curl_setopt_array", vec![&handle, &options])?;
    if set.bool() != Some(true) {
        return Err(error("curl_setopt_array refused the options".into()));
    }
    let done = call("curl_exec", vec![&handle])?;
    if done.bool() != Some(true) {
        // A timeout, a refused or dropped connection, a TLS failure, an answer over the cap.
        return Ok(None);
    }
    let status = call(
        "curl_getinfo",
        vec![&handle, &constant("CURLINFO_RESPONSE_CODE")?],
    )?
    .long()
    .and_then(|s| u16::try_from(s).ok());
    let body = received.borrow().clone();
    Ok(status.map(|status| (status, body)))
}
