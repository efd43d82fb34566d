//! PayPal's REST webhooks under `Ipnkit\`: `Webhook::receive()` (the raw body and the request's
//! headers), `WebhookVerifier`, `Webhook::verify()`, the event as an array, and
//! `Ipn::decideWebhook()`. Conversions only: every check is the core's.

use ext_php_rs::binary::Binary;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ArrayKey, ZendHashTable};
use ext_php_rs::types::{ZendCallable, Zval};
use ipnkit::webhook::{
    Certificate, Transmission, WebhookEvent, WebhookLimits, WebhookVerdict as CoreVerdict,
    WebhookVerifier as CoreVerifier,
};

use crate::convert::{Raw, array_of, bytes};
use crate::errors::{exception, type_error};
use crate::{Config, Decision, Expected, core};

/// A verifier for one webhook (its id, from PayPal's developer dashboard; `WEBHOOK_ID` for the
/// Webhook Simulator) in a configuration's environment: the certificate URL, its chain to
/// DigiCert's root at the time given, its name, and RSA-SHA256 over the raw bytes.
#[php_class]
#[php(name = "Ipnkit\\WebhookVerifier")]
#[php(flags = ClassFlags::Final)]
pub struct WebhookVerifier {
    pub(crate) inner: CoreVerifier,
}

#[php_impl]
impl WebhookVerifier {
    /// `$trustAnchors` (PEM) replaces the bundled DigiCert certificates; `$replayWindow`
    /// (seconds, default three days) refuses older transmissions; `$certificateBaseForTesting`
    /// (a local stand-in's URL, such as `ipnkit sandbox`'s; sandbox only) also takes its
    /// certificates.
    pub fn __construct(
        config: &Config,
        webhook_id: &str,
        trust_anchors: Option<Binary<u8>>,
        replay_window: Option<i64>,
        certificate_base_for_testing: Option<String>,
    ) -> PhpResult<Self> {
        let mut inner = core(config.inner.webhook_verifier(webhook_id))?;
        if let Some(pem) = trust_anchors {
            inner = core(inner.with_trust_anchors(&pem))?;
        }
        if let Some(seconds) = replay_window {
            let seconds = u32::try_from(seconds).map_err(|_| {
                type_error(format!(
                    "Ipnkit\\WebhookVerifier: the replay window is seconds from 1 to 2^32-1, {seconds} given"
                ))
            })?;
            inner = core(inner.with_replay_window(seconds))?;
        }
        if let Some(base) = certificate_base_for_testing {
            inner = core(inner.with_certificate_base_for_testing(&base))?;
        }
        Ok(Self { inner })
    }
}

/// What the verifier concluded: `verified`, `invalid` (with the reason: `signature_mismatch`,
/// `cert_url_host`…) or `unexpected` (the certificate could not be had: verify again later).
/// Made only by the extension.
#[php_class]
#[php(name = "Ipnkit\\WebhookVerdict")]
#[php(flags = ClassFlags::Final)]
pub struct WebhookVerdict {
    pub(crate) inner: CoreVerdict,
}

#[php_impl]
impl WebhookVerdict {
    /// The certificate URL gave no HTTP answer at all (a timeout, a curl error): unexpected.
    pub fn no_answer() -> WebhookVerdict {
        WebhookVerdict {
            inner: CoreVerdict::Unexpected(ipnkit::Unexpected::NoAnswer),
        }
    }

    /// `verified`, `invalid` or `unexpected`.
    pub fn kind(&self) -> &'static str {
        self.inner.kind().code()
    }

    /// Why it is invalid or unexpected; `null` when verified.
    pub fn reason(&self) -> Option<&'static str> {
        self.inner.reason()
    }

    /// Whether PayPal signed these bytes for this webhook and environment.
    pub fn is_verified(&self) -> bool {
        self.inner.is_verified()
    }

    /// What `var_dump()` and `print_r()` show: the kind and the reason.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut array = ZendHashTable::with_capacity(2);
        array.insert("kind", self.kind())?;
        array.insert("reason", self.reason())?;
        Ok(array)
    }
}

/// What to GET with curl (never `CURLOPT_FOLLOWLOCATION`, the answer capped), and the key to
/// cache the answer under.
#[php_class]
#[php(name = "Ipnkit\\CertificateRequest")]
#[php(flags = ClassFlags::Final)]
pub struct CertificateRequest {
    url: String,
    cache_key: String,
}

#[php_impl]
impl CertificateRequest {
    /// The certificate's URL, judged PayPal's for the configured environment.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The key to cache what the URL served under.
    pub fn cache_key(&self) -> String {
        self.cache_key.clone()
    }
}

/// A received webhook: the raw body and PayPal's five headers.
#[php_class]
#[php(name = "Ipnkit\\Webhook")]
#[php(flags = ClassFlags::Final)]
pub struct Webhook {
    transmission: Transmission<'static>,
    event: Result<WebhookEvent, ipnkit::Error>,
}

impl Webhook {
    pub(crate) fn event_result(&self) -> Result<&WebhookEvent, &ipnkit::Error> {
        self.event.as_ref()
    }
}

/// The request's headers as `(name, value)` pairs: `name => value` (`getallheaders()`), a value
/// that is a list giving one pair per element.
fn header_pairs(headers: &ZendHashTable) -> PhpResult<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut out = Vec::with_capacity(headers.len());
    for (key, value) in headers {
        let name = match key {
            ArrayKey::String(name) => name.into_bytes(),
            ArrayKey::Str(name) => name.as_bytes().to_vec(),
            ArrayKey::ZendString(name) => name.as_bytes().to_vec(),
            ArrayKey::Long(_) => {
                return Err(type_error(
                    "Ipnkit\\Webhook::receive(): the headers are name => value (getallheaders()), \
                     not a list"
                        .into(),
                ));
            }
        };
        let values: Vec<&ext_php_rs::types::Zval> = match value.array() {
            Some(list) => list.values().collect(),
            None => vec![value],
        };
        for value in values {
            let text = value.zend_str().ok_or_else(|| {
                type_error(format!(
                    "Ipnkit\\Webhook::receive(): the header {:?} is not a string",
                    String::from_utf8_lossy(&name)
                ))
            })?;
            out.push((name.clone(), text.as_bytes().to_vec()));
        }
    }
    Ok(out)
}

/// The time now, in Unix seconds.
fn clock() -> PhpResult<i64> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
        .ok_or_else(|| type_error("the clock is not a time".into()))
}

/// `$cache->$method($key)`.
fn call(cache: &Zval, method: &str, key: &str) -> PhpResult<Zval> {
    cache
        .try_call_method(method, vec![&key])
        .map_err(|e| crate::errors::error(format!("{method}: {e}")))
}

#[php_impl]
impl Webhook {
    /// Reads a webhook: the raw body (`file_get_contents('php://input')`, never a decoded
    /// array) and the request's headers (`getallheaders()`, names in any case). Throws
    /// `Ipnkit\HeaderException` when one of PayPal's five headers is missing, repeated or
    /// malformed.
    pub fn receive(raw: Raw<'_>, headers: &ZendHashTable) -> PhpResult<Webhook> {
        let raw = raw.bytes("Ipnkit\\Webhook::receive")?;
        let pairs = header_pairs(headers)?;
        let transmission = core(Transmission::from_request(
            raw,
            &pairs,
            WebhookLimits::default(),
        ))?
        .into_owned();
        let event = WebhookEvent::parse(transmission.body());
        Ok(Webhook {
            transmission,
            event,
        })
    }

    /// One call for a webhook: reads it (as `receive()`), takes PayPal's certificate from
    /// `$certificates` (an `ArrayAccess` that outlives the request, keyed by the certificate's
    /// cache key: an `ArrayObject`, or your cache's adapter) or fetches it with curl from a URL
    /// the core judged PayPal's (no redirect, `$timeout` seconds, 64 KiB) and keeps it there,
    /// verifies offline at `$now` (Unix seconds; default the current time) and returns the
    /// decision, as `Ipn::decideWebhook()` gives it. A certificate that cannot be had is a
    /// `retry` decision. `$send` replaces curl, as for `Ipn::handle()`.
    #[allow(clippy::too_many_arguments)]
    pub fn handle(
        raw: Raw<'_>,
        headers: &ZendHashTable,
        config: &Config,
        verifier: &WebhookVerifier,
        expected: &Expected,
        stored_keys: Vec<String>,
        certificates: Option<&Zval>,
        send: Option<ZendCallable<'_>>,
        timeout: Option<f64>,
        now: Option<i64>,
    ) -> PhpResult<Decision> {
        let webhook = Webhook::receive(raw, headers)?;
        let now = match now {
            Some(now) => now,
            None => clock()?,
        };
        let cache = certificates.filter(|c| !c.is_null());
        if let Some(cache) = cache
            && !cache
                .object()
                .is_some_and(|o| o.instance_of(ext_php_rs::zend::ce::arrayaccess()))
        {
            return Err(type_error(
                "Ipnkit\\Webhook::handle(): $certificates must be an ArrayAccess (an ArrayObject)"
                    .into(),
            ));
        }
        let transmission = &webhook.transmission;
        let verdict = match verifier.inner.certificate_request(transmission) {
            Err(why) => CoreVerdict::Invalid(why),
            Ok(request) => {
                let key = request.cache_key();
                let cached = match cache {
                    Some(cache) if call(cache, "offsetExists", key)?.bool() == Some(true) => {
                        let pem = call(cache, "offsetGet", key)?;
                        Some((
                            200,
                            pem.binary::<u8>().ok_or_else(|| {
                                type_error("a cached certificate must be a string".into())
                            })?,
                        ))
                    }
                    _ => None,
                };
                let answer = match cached {
                    Some(answer) => Some(answer),
                    None => {
                        let fetched = crate::http::exchange(
                            &crate::http::Request {
                                method: "GET",
                                url: request.url(),
                                headers: Vec::new(),
                                body: None,
                            },
                            send.as_ref(),
                            timeout.unwrap_or(crate::http::TIMEOUT),
                        )?;
                        if let (Some(cache), Some((200, pem))) = (cache, &fetched)
                            && Certificate::from_response(&request, 200, pem).is_ok()
                        {
                            cache
                                .try_call_method(
                                    "offsetSet",
                                    vec![&key, &Binary::from(pem.clone()).into_zval(false)?],
                                )
                                .map_err(|e| crate::errors::error(format!("offsetSet: {e}")))?;
                        }
                        fetched
                    }
                };
                match &answer {
                    Some((status, body)) => {
                        verifier
                            .inner
                            .verify_answer(transmission, Some((*status, body)), now)
                    }
                    None => CoreVerdict::Unexpected(ipnkit::Unexpected::NoAnswer),
                }
            }
        };
        let decision = core(ipnkit::webhook::decide(
            verdict,
            webhook.event_result(),
            &config.inner,
            &expected.inner,
            &stored_keys,
        ))?;
        Ok(Decision { inner: decision })
    }

    /// The body exactly as received.
    pub fn body(&self) -> Binary<u8> {
        bytes(self.transmission.body())
    }

    /// What to fetch; `null` when the certificate URL is refused (`verify()` then says why,
    /// without fetching anything).
    pub fn certificate_request(&self, verifier: &WebhookVerifier) -> Option<CertificateRequest> {
        verifier
            .inner
            .certificate_request(&self.transmission)
            .ok()
            .map(|r| CertificateRequest {
                url: r.url().to_owned(),
                cache_key: r.cache_key().to_owned(),
            })
    }

    /// The verdict, given what the certificate URL answered (the HTTP status and the body;
    /// anything for a refused URL), at `$now` (Unix seconds; default the current time).
    pub fn verify(
        &self,
        verifier: &WebhookVerifier,
        status: i64,
        certificate: Binary<u8>,
        now: Option<i64>,
    ) -> PhpResult<WebhookVerdict> {
        let now = match now {
            Some(now) => now,
            None => clock()?,
        };
        let status = u16::try_from(status).map_err(|_| {
            type_error(format!(
                "Ipnkit\\Webhook::verify(): the status must be an HTTP status code, {status} given"
            ))
        })?;
        let inner =
            verifier
                .inner
                .verify_answer(&self.transmission, Some((status, &certificate)), now);
        Ok(WebhookVerdict { inner })
    }

    /// The event as the core's canonical array (`id`, `event_type`, `event`, `family`,
    /// `resource`…); throws the error when the body is not one (`invalid_json`,
    /// `duplicate_key`, `invalid_field`).
    pub fn event(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let event = self.event.as_ref().map_err(exception)?;
        array_of(event)
    }

    /// What `var_dump()` and `print_r()` show: the event's array, or the error's code.
    pub fn __debug_info(&self) -> PhpResult<ZBox<ZendHashTable>> {
        match &self.event {
            Ok(event) => array_of(event),
            Err(e) => {
                let mut array = ZendHashTable::with_capacity(1);
                array.insert("error", e.code())?;
                Ok(array)
            }
        }
    }
}
