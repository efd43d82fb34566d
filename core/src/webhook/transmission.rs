//! The transmission: the raw body and PayPal's five headers, read and checked before any work.

use std::borrow::Cow;

use base64::Engine as _;

use crate::date::PayPalDate;
use crate::error::Error;

/// `PAYPAL-TRANSMISSION-ID`: the id of this delivery attempt (a UUID).
pub const TRANSMISSION_ID: &str = "PAYPAL-TRANSMISSION-ID";
/// `PAYPAL-TRANSMISSION-TIME`: when PayPal sent it (RFC 3339), signed as written.
pub const TRANSMISSION_TIME: &str = "PAYPAL-TRANSMISSION-TIME";
/// `PAYPAL-TRANSMISSION-SIG`: the RSA signature, base64.
pub const TRANSMISSION_SIG: &str = "PAYPAL-TRANSMISSION-SIG";
/// `PAYPAL-CERT-URL`: where PayPal says its signing certificate is.
pub const CERT_URL: &str = "PAYPAL-CERT-URL";
/// `PAYPAL-AUTH-ALGO`: the signature algorithm; only `SHA256withRSA` is accepted.
pub const AUTH_ALGO: &str = "PAYPAL-AUTH-ALGO";

/// The five headers, in the order [`Transmission::from_request`] reports a missing one.
pub const HEADERS: [&str; 5] = [
    TRANSMISSION_ID,
    TRANSMISSION_TIME,
    TRANSMISSION_SIG,
    CERT_URL,
    AUTH_ALGO,
];

/// The one algorithm PayPal signs webhooks with, and the only one accepted.
pub const SHA256_WITH_RSA: &str = "SHA256withRSA";

/// A request header as a host has it: `(name, value)` of strings or bytes, owned or borrowed
/// (`("Paypal-Transmission-Id", "…")`, `&(String, String)`, `(&[u8], &[u8])`).
pub trait HeaderPair {
    /// The header's name.
    fn name(&self) -> &[u8];
    /// The header's value.
    fn value(&self) -> &[u8];
}

impl<N: AsRef<[u8]>, V: AsRef<[u8]>> HeaderPair for (N, V) {
    fn name(&self) -> &[u8] {
        self.0.as_ref()
    }

    fn value(&self) -> &[u8] {
        self.1.as_ref()
    }
}

impl<N: AsRef<[u8]>, V: AsRef<[u8]>> HeaderPair for &(N, V) {
    fn name(&self) -> &[u8] {
        self.0.as_ref()
    }

    fn value(&self) -> &[u8] {
        self.1.as_ref()
    }
}

/// Header pairs from a flat list `[name, value, name, value, …]`, the shape JavaScript hosts pass
/// a request's headers across their native boundary in. `None` for a list of odd length: a name
/// without its value, which only a bug in a host's package makes.
///
/// ```
/// use ipnkit::webhook::transmission::pairs_from_flat;
/// let flat = ["Paypal-Auth-Algo", "SHA256withRSA", "Content-Type", "application/json"];
/// assert_eq!(
///     pairs_from_flat(&flat),
///     Some(vec![("Paypal-Auth-Algo", "SHA256withRSA"), ("Content-Type", "application/json")])
/// );
/// assert_eq!(pairs_from_flat(&["Paypal-Auth-Algo"]), None);
/// ```
pub fn pairs_from_flat<S: AsRef<str>>(flat: &[S]) -> Option<Vec<(&str, &str)>> {
    if !flat.len().is_multiple_of(2) {
        return None;
    }
    let names = flat.iter().step_by(2);
    let values = flat.iter().skip(1).step_by(2);
    Some(
        names
            .zip(values)
            .map(|(n, v)| (n.as_ref(), v.as_ref()))
            .collect(),
    )
}

/// Bounds checked before any other work on a webhook request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookLimits {
    /// The largest body accepted, in bytes. Default 1 MiB: PayPal's events are a few KiB, a
    /// dispute with its messages some tens.
    pub max_body_bytes: usize,
    /// The longest value accepted for each of the five headers, in bytes. Default 2,048: an
    /// RSA-4096 signature is 684 base64 characters, a certificate URL about 90.
    pub max_header_bytes: usize,
}

impl Default for WebhookLimits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_header_bytes: 2048,
        }
    }
}

/// What PayPal's headers say of one webhook delivery, with the body as received.
///
/// Built by [`Transmission::from_request`] from the raw body and the request's headers; nothing
/// in it is trusted until a [`WebhookVerifier`](super::WebhookVerifier) says
/// [`Verified`](super::WebhookVerdict::Verified).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmission<'a> {
    body: Cow<'a, [u8]>,
    id: String,
    time: PayPalDate,
    signature: Vec<u8>,
    signature_text: String,
    cert_url: String,
    sha256_with_rsa: bool,
}

impl<'a> Transmission<'a> {
    /// Reads a webhook request: `body` exactly as received (never a parsed and re-serialised
    /// JSON) and the request's headers as `(name, value)` pairs, names in any case, other
    /// headers ignored.
    ///
    /// Errors, each naming the header and never echoing a value: the body over
    /// [`WebhookLimits::max_body_bytes`] (`body_too_large`, checked first); one of the five
    /// headers absent (`missing_header`), given twice (`repeated_header`), longer than
    /// [`WebhookLimits::max_header_bytes`] (`header_too_large`), or not of its form
    /// (`invalid_header`: not visible ASCII, a time that is not RFC 3339, a signature that is
    /// not base64). An algorithm other than `SHA256withRSA` is read, and refused by the
    /// verifier as [`WebhookInvalid::UnsupportedAlgorithm`](super::WebhookInvalid).
    pub fn from_request<I>(body: &'a [u8], headers: I, limits: WebhookLimits) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: HeaderPair,
    {
        if body.len() > limits.max_body_bytes {
            return Err(Error::BodyTooLarge {
                actual: body.len(),
                limit: limits.max_body_bytes,
            });
        }
        let mut values: [Option<String>; 5] = Default::default();
        for header in headers {
            let (name, value) = (header.name(), header.value());
            let Some((slot, header)) = values
                .iter_mut()
                .zip(HEADERS)
                .find(|(_, h)| h.as_bytes().eq_ignore_ascii_case(name))
            else {
                continue;
            };
            if slot.is_some() {
                return Err(Error::RepeatedHeader { header });
            }
            if value.len() > limits.max_header_bytes {
                return Err(Error::HeaderTooLarge {
                    header,
                    len: value.len(),
                    max: limits.max_header_bytes,
                });
            }
            // HTTP allows optional whitespace around a field value; PayPal's values have none
            // inside, and each must be visible ASCII.
            let value = value.trim_ascii();
            let text = match std::str::from_utf8(value) {
                Ok(text) if !text.is_empty() && value.iter().all(u8::is_ascii_graphic) => text,
                _ => return Err(Error::InvalidHeader { header }),
            };
            *slot = Some(text.to_owned());
        }
        let [id, time, sig, cert_url, algo] = values;
        let missing = |header| Error::MissingHeader { header };
        let id = id.ok_or_else(|| missing(TRANSMISSION_ID))?;
        let time = time.ok_or_else(|| missing(TRANSMISSION_TIME))?;
        let sig = sig.ok_or_else(|| missing(TRANSMISSION_SIG))?;
        let cert_url = cert_url.ok_or_else(|| missing(CERT_URL))?;
        let algo = algo.ok_or_else(|| missing(AUTH_ALGO))?;
        let utc = chrono::DateTime::parse_from_rfc3339(&time)
            .map_err(|_| Error::InvalidHeader {
                header: TRANSMISSION_TIME,
            })?
            .with_timezone(&chrono::Utc);
        let time = PayPalDate {
            utc,
            text: time,
            zone_corrected: false,
        };
        let signature = base64::engine::general_purpose::STANDARD
            .decode(sig.as_bytes())
            .map_err(|_| Error::InvalidHeader {
                header: TRANSMISSION_SIG,
            })?;
        Ok(Self {
            body: Cow::Borrowed(body),
            id,
            time,
            signature,
            signature_text: sig,
            cert_url,
            sha256_with_rsa: algo == SHA256_WITH_RSA,
        })
    }

    /// The body, exactly as received.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The transmission with its own copy of the body: for a host that keeps it beyond the
    /// request (a binding's object, a queue).
    pub fn into_owned(self) -> Transmission<'static> {
        Transmission {
            body: Cow::Owned(self.body.into_owned()),
            id: self.id,
            time: self.time,
            signature: self.signature,
            signature_text: self.signature_text,
            cert_url: self.cert_url,
            sha256_with_rsa: self.sha256_with_rsa,
        }
    }

    /// `PAYPAL-TRANSMISSION-ID`.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// `PAYPAL-TRANSMISSION-TIME`: the instant, and the text as signed.
    pub fn time(&self) -> &PayPalDate {
        &self.time
    }

    /// `PAYPAL-CERT-URL`, as received (judged by [`WebhookVerifier::certificate_request`](super::WebhookVerifier::certificate_request)).
    pub fn cert_url(&self) -> &str {
        &self.cert_url
    }

    /// The signature's bytes (`PAYPAL-TRANSMISSION-SIG`, base64-decoded).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// `PAYPAL-TRANSMISSION-SIG` as received (base64).
    pub fn signature_text(&self) -> &str {
        &self.signature_text
    }

    /// Whether `PAYPAL-AUTH-ALGO` is `SHA256withRSA`, the one algorithm accepted.
    pub fn is_sha256_with_rsa(&self) -> bool {
        self.sha256_with_rsa
    }

    /// The CRC-32 of the body, as PayPal signs it: unsigned (a value of 2³¹ or more is never
    /// written negative).
    pub fn body_crc32(&self) -> u32 {
        crc32fast::hash(&self.body)
    }

    /// The string PayPal signs: `transmission_id|transmission_time|webhook_id|crc32(body)`, the
    /// time as received and the CRC in unsigned decimal.
    pub fn signed_string(&self, webhook_id: &str) -> String {
        format!(
            "{}|{}|{}|{}",
            self.id,
            self.time.text,
            webhook_id,
            self.body_crc32()
        )
    }
}
