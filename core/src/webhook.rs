//! PayPal's REST webhooks, verified offline from the raw bytes, without I/O.
//!
//! PayPal signs `transmission_id|transmission_time|webhook_id|crc32(body)` (the CRC-32 of the
//! body's exact bytes, unsigned, in decimal) with RSA PKCS#1 v1.5 and SHA-256, and says in a
//! header where its certificate is. The flow, each step a value the host acts on:
//!
//! ```text
//! raw body + request headers ──► Transmission::from_request        (limits, the five headers)
//! WebhookVerifier::certificate_request ──► the URL to fetch, its cache key   (or Invalid: the URL)
//! the host fetches it (or takes it from its cache) ──► Certificate::from_response
//! WebhookVerifier::verify(transmission, certificate, now) ──► Verified | Invalid | Unexpected
//! ```
//!
//! - The URL is judged before anything is fetched ([`WebhookVerifier::certificate_request`]):
//!   `https`, one of the configured environment's API hosts ([`cert_hosts`]), PayPal's
//!   certificate path, nothing else. A refused URL is [`WebhookInvalid`], never fetched.
//! - The certificate is validated to the trust anchors at the time the host passes (the core
//!   reads no clock), through the intermediate PayPal's SDKs bundle (PayPal serves the leaf
//!   alone), and must be named `messageverificationcerts.paypal.com` (live) or
//!   `messageverificationcerts.sandbox.paypal.com` (sandbox): a sandbox certificate never
//!   verifies a live configuration.
//! - The default anchors are DigiCert's High Assurance EV root, which every webhook certificate
//!   PayPal has served chains to. Mozilla's store, and so `webpki-roots`, no longer lists it for
//!   TLS (it is older than the store's 15-year limit), so it is bundled here with the intermediate,
//!   as PayPal's SDKs bundle them; [`WebhookVerifier::with_trust_anchors`] replaces both.
//! - [`Verified`](WebhookVerdict::Verified) comes only from [`WebhookVerifier::verify`]. A
//!   certificate that could not be fetched or read is [`Unexpected`](WebhookVerdict::Unexpected):
//!   try again later, never "invalid" and never "verified".
//! - A transmission older than the replay window ([`DEFAULT_REPLAY_WINDOW_SECS`], three days:
//!   PayPal retries a failed delivery over three days) or from the future is refused.
//!
//! ```no_run
//! use ipnkit::webhook::{Transmission, WebhookLimits, WebhookVerifier, WebhookVerdict, Certificate};
//! use ipnkit::Environment;
//!
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/webhooks");
//! let name = "paypal2_2024-07-30_payment-sale-refunded";
//! let body = std::fs::read(dir.join(format!("{name}.body"))).unwrap();
//! let facts: serde_json::Value =
//!     serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.json"))).unwrap()).unwrap();
//! let header = |k: &str| facts[k].as_str().unwrap().to_owned();
//! let headers = [
//!     ("Paypal-Transmission-Id", header("transmission_id")),
//!     ("Paypal-Transmission-Time", header("transmission_time")),
//!     ("Paypal-Transmission-Sig", header("transmission_sig")),
//!     ("Paypal-Cert-Url", header("cert_url")),
//!     ("Paypal-Auth-Algo", header("auth_algo")),
//! ];
//!
//! let transmission = Transmission::from_request(&body, headers, WebhookLimits::default())?;
//! let verifier = WebhookVerifier::new(Environment::Live, "WEBHOOK_ID")?;
//! let request = verifier.certificate_request(&transmission).expect("PayPal's URL");
//! // The host GETs request.url() (or finds request.cache_key() in its cache):
//! let served = std::fs::read(dir.join(format!("{name}.pem"))).unwrap();
//! let certificate = Certificate::from_response(&request, 200, &served).expect("a certificate");
//! let at = transmission.time().utc.timestamp(); // the host passes its clock's time
//! assert_eq!(verifier.verify(&transmission, &certificate, at), WebhookVerdict::Verified);
//! # Ok::<(), ipnkit::Error>(())
//! ```

use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use serde::{Serialize, Serializer};

use crate::codes::codes;
use crate::error::{Error, FieldName, Problem};
use crate::verify::{Environment, Unexpected};

mod decide;
pub mod event;
mod json;
mod online;
pub mod transmission;
mod url;

pub use decide::decide;
pub use event::{RESOURCE_KIND_CODES, Resource, ResourceKind, WebhookEvent};
pub use online::OnlineRequest;
pub use transmission::{HeaderPair, Transmission, WebhookLimits};
pub use url::{CERT_PATH, cert_hosts};

/// The default replay window, in seconds: three days, the time over which PayPal retries a
/// delivery that was not answered with a 2xx.
pub const DEFAULT_REPLAY_WINDOW_SECS: u32 = 3 * 24 * 3600;

/// How far in the future a transmission time may be, in seconds (clocks disagree a little).
pub const MAX_CLOCK_SKEW_SECS: u32 = 300;

/// The longest webhook id accepted (PayPal's are 17 characters).
const MAX_WEBHOOK_ID: usize = 64;

/// DigiCert High Assurance EV Root CA (2006–2031), the root of every webhook certificate
/// PayPal has served; the same DER as PayPal's SDKs bundle.
const DIGICERT_EV_ROOT: &[u8] = include_bytes!("webhook/anchors/DigiCertHighAssuranceEVRootCA.pem");

/// DigiCert SHA2 Extended Validation Server CA (2013–2028), the intermediate PayPal's webhook
/// certificates are issued by and which PayPal does not serve with them.
const DIGICERT_EV_SERVER_CA: &[u8] =
    include_bytes!("webhook/anchors/DigiCertSHA2ExtendedValidationServerCA.pem");

/// The signature algorithms a certificate chain may use: RSA PKCS#1 v1.5 (every certificate
/// PayPal's webhooks have chained through) and ECDSA P-256 / P-384 (DigiCert's newer roots).
static CHAIN_ALGORITHMS: &[&dyn rustls_pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
];

/// The name PayPal's webhook certificate carries in an environment.
pub fn certificate_name(environment: Environment) -> &'static str {
    match environment {
        Environment::Live => "messageverificationcerts.paypal.com",
        Environment::Sandbox => "messageverificationcerts.sandbox.paypal.com",
    }
}

codes! {
    /// Why a webhook is not PayPal's: do not act on it.
    #[non_exhaustive]
    pub enum WebhookInvalid / WEBHOOK_INVALID_CODES {
        /// `PAYPAL-AUTH-ALGO` is not `SHA256withRSA`.
        UnsupportedAlgorithm = "unsupported_algorithm",
        /// The certificate URL is not plain `https` (a port, user info, an escape, a query…).
        CertUrlForm = "cert_url_form",
        /// The certificate URL's host is not one of the configured environment's.
        CertUrlHost = "cert_url_host",
        /// The certificate URL is not under PayPal's certificate path.
        CertUrlPath = "cert_url_path",
        /// The certificate handed to the verifier was fetched for another URL.
        CertificateOtherUrl = "certificate_other_url",
        /// The transmission time is older than the replay window, or in the future.
        StaleTransmission = "stale_transmission",
        /// The certificate does not chain to a trust anchor (or is not a server certificate).
        CertificateChain = "certificate_chain",
        /// The certificate, or one in its chain, is expired or not yet valid at the time given.
        CertificateTime = "certificate_time",
        /// The certificate is not PayPal's webhook certificate for the configured environment.
        CertificateName = "certificate_name",
        /// The signature is not over these bytes, this transmission and this webhook id.
        SignatureMismatch = "signature_mismatch",
        /// PayPal's `verify-webhook-signature` API answered `FAILURE`.
        OnlineFailure = "online_failure",
    }
}

/// What the verifier concluded about one webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WebhookVerdict {
    /// PayPal signed these bytes, for this webhook, with its certificate for this environment.
    Verified,
    /// Not PayPal's (or not for this configuration): do not act; log it.
    Invalid(WebhookInvalid),
    /// The certificate could not be had (IPN's reasons: an HTTP status other than 200, an
    /// empty answer, an answer that holds no certificate — `unrecognized_body` —, one cut
    /// short, or none): keep the webhook and verify it again later.
    Unexpected(Unexpected),
}

impl WebhookVerdict {
    /// Whether the webhook was verified.
    pub fn is_verified(self) -> bool {
        self == WebhookVerdict::Verified
    }

    /// `verified`, `invalid` or `unexpected`: the IPN verdict's kinds.
    pub fn kind(self) -> crate::VerdictKind {
        match self {
            WebhookVerdict::Verified => crate::VerdictKind::Verified,
            WebhookVerdict::Invalid(_) => crate::VerdictKind::Invalid,
            WebhookVerdict::Unexpected(_) => crate::VerdictKind::Unexpected,
        }
    }

    /// The reason's code, `None` when verified.
    pub fn reason(self) -> Option<&'static str> {
        match self {
            WebhookVerdict::Verified => None,
            WebhookVerdict::Invalid(why) => Some(why.code()),
            WebhookVerdict::Unexpected(why) => Some(why.code()),
        }
    }
}

impl Serialize for WebhookVerdict {
    /// `{"kind": "invalid", "reason": "signature_mismatch"}` (`reason` is `null` when verified).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("WebhookVerdict", 2)?;
        st.serialize_field("kind", &self.kind())?;
        st.serialize_field("reason", &self.reason())?;
        st.end()
    }
}

/// What the host must fetch: PayPal's certificate, at a URL the verifier accepted.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertificateRequest {
    url: String,
}

impl CertificateRequest {
    /// The URL to GET (no redirects followed, the answer capped).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The key to cache the answer under: a certificate is fetched and read once per key.
    pub fn cache_key(&self) -> &str {
        &self.url
    }
}

/// A certificate as PayPal's URL served it, read (PEM or DER), not yet judged: the verifier
/// judges it against each transmission, at that transmission's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    url: String,
    leaf: CertificateDer<'static>,
    /// Any further certificates served after the leaf, offered as intermediates.
    served_chain: Vec<CertificateDer<'static>>,
}

impl Certificate {
    /// Reads the answer to a [`CertificateRequest`]: status 200 and a PEM bundle whose first
    /// certificate is the leaf (what PayPal serves), or one DER certificate. Anything else is
    /// [`Unexpected`], as an IPN postback's answer would be: keep the webhook and try again
    /// later. A host whose fetch got no answer says so with [`Unexpected::NoAnswer`], one that
    /// could not read it whole with [`Unexpected::BodyUnread`].
    pub fn from_response(
        request: &CertificateRequest,
        status: u16,
        body: &[u8],
    ) -> Result<Certificate, Unexpected> {
        if status != 200 {
            return Err(Unexpected::HttpStatus(status));
        }
        if body.trim_ascii().is_empty() {
            return Err(Unexpected::EmptyBody);
        }
        let mut certs = if body.first() == Some(&0x30) {
            vec![CertificateDer::from(body.to_vec())]
        } else {
            CertificateDer::pem_slice_iter(body)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| Unexpected::UnrecognizedBody)?
        };
        if certs.is_empty() {
            return Err(Unexpected::UnrecognizedBody);
        }
        let leaf = certs.remove(0);
        Ok(Certificate {
            url: request.url.clone(),
            leaf,
            served_chain: certs,
        })
    }

    /// The URL the certificate was served at (its cache key).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The leaf certificate's DER bytes.
    pub fn der(&self) -> &[u8] {
        self.leaf.as_ref()
    }
}

/// A webhook verifier for one webhook (its id) in one environment: the anchors, the
/// intermediates and the replay window, configured once and used for every delivery.
#[derive(Debug, Clone)]
pub struct WebhookVerifier {
    environment: Environment,
    webhook_id: String,
    anchors: Vec<TrustAnchor<'static>>,
    intermediates: Vec<CertificateDer<'static>>,
    replay_window_secs: u32,
    /// A stand-in's base URL whose certificates are also fetched (tests only; never live).
    test_base: Option<String>,
}

impl WebhookVerifier {
    /// A verifier for the webhook `webhook_id` (from PayPal's developer dashboard, or
    /// `WEBHOOK_ID` for the Webhook Simulator's deliveries) in `environment`, trusting
    /// DigiCert's High Assurance EV root through PayPal's intermediate.
    ///
    /// An empty id, one longer than 64 bytes, or one with anything but visible ASCII other than
    /// `|` is `invalid_configuration` naming `webhook_id`.
    pub fn new(environment: Environment, webhook_id: &str) -> Result<Self, Error> {
        let valid = !webhook_id.is_empty()
            && webhook_id.len() <= MAX_WEBHOOK_ID
            && webhook_id
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'|');
        if !valid {
            return Err(Error::InvalidConfiguration {
                field: FieldName::new("webhook_id"),
                problem: Problem::InvalidValue,
            });
        }
        Ok(Self {
            environment,
            webhook_id: webhook_id.to_owned(),
            anchors: anchors_from_pem(DIGICERT_EV_ROOT, "trust_anchors")?,
            intermediates: certificates_from_pem(DIGICERT_EV_SERVER_CA, "intermediates")?,
            replay_window_secs: DEFAULT_REPLAY_WINDOW_SECS,
            test_base: None,
        })
    }

    /// Replaces the trust anchors and the intermediates with those of a PEM bundle: its
    /// self-signed certificates become anchors, the others intermediates. For a private
    /// authority in tests (the stand-in's), or for anchors PayPal moves to.
    ///
    /// A bundle that holds no anchor, or a certificate that cannot be read, is
    /// `invalid_configuration` naming `trust_anchors`.
    pub fn with_trust_anchors(mut self, pem: &[u8]) -> Result<Self, Error> {
        let certs = certificates_from_pem(pem, "trust_anchors")?;
        let mut anchors = Vec::new();
        let mut intermediates = Vec::new();
        for cert in certs {
            if is_self_signed(&cert) {
                anchors.push(anchor(&cert, "trust_anchors")?);
            } else {
                intermediates.push(cert);
            }
        }
        if anchors.is_empty() {
            return Err(invalid("trust_anchors"));
        }
        self.anchors = anchors;
        self.intermediates = intermediates;
        Ok(self)
    }

    /// Sets the replay window: a transmission older than this many seconds is refused as
    /// [`WebhookInvalid::StaleTransmission`]. Zero is `invalid_configuration`.
    pub fn with_replay_window(mut self, seconds: u32) -> Result<Self, Error> {
        if seconds == 0 {
            return Err(invalid("replay_window"));
        }
        self.replay_window_secs = seconds;
        Ok(self)
    }

    /// Also fetches certificates from a local stand-in of PayPal (`ipnkit sandbox`): URLs of
    /// `base` + [`CERT_PATH`] + a certificate id (`http://127.0.0.1:8081`). For tests only: it
    /// needs the stand-in's authority as the trust anchors ([`with_trust_anchors`](Self::with_trust_anchors))
    /// and its leaf named as PayPal's sandbox one, and it is refused in live
    /// (`invalid_configuration` naming `certificate_base_for_testing`), as is a base that is not
    /// `http(s)://host[:port]`.
    pub fn with_certificate_base_for_testing(mut self, base: &str) -> Result<Self, Error> {
        if self.environment == Environment::Live {
            return Err(Error::InvalidConfiguration {
                field: FieldName::new("certificate_base_for_testing"),
                problem: Problem::Conflict,
            });
        }
        let base = base.trim_end_matches('/');
        if !url::is_test_base(base) {
            return Err(invalid("certificate_base_for_testing"));
        }
        self.test_base = Some(base.to_owned());
        Ok(self)
    }

    /// The environment the certificate must belong to.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// The webhook id signed over.
    pub fn webhook_id(&self) -> &str {
        &self.webhook_id
    }

    /// Judges the transmission's certificate URL: the request for the host to fetch, or why
    /// the webhook is refused without fetching anything.
    pub fn certificate_request(
        &self,
        transmission: &Transmission<'_>,
    ) -> Result<CertificateRequest, WebhookInvalid> {
        url::judge(
            transmission.cert_url(),
            self.environment,
            self.test_base.as_deref(),
        )?;
        Ok(CertificateRequest {
            url: transmission.cert_url().to_owned(),
        })
    }

    /// Verifies a transmission with the certificate served at its URL, at `now` (Unix seconds,
    /// the host's clock): the algorithm, the URL, the replay window, the certificate's chain,
    /// dates and name, then the signature over the exact bytes received.
    pub fn verify(
        &self,
        transmission: &Transmission<'_>,
        certificate: &Certificate,
        now: i64,
    ) -> WebhookVerdict {
        match self.check(transmission, certificate, now) {
            Ok(()) => WebhookVerdict::Verified,
            Err(why) => WebhookVerdict::Invalid(why),
        }
    }

    /// The whole verification from what the certificate URL answered, for hosts that do not
    /// cache [`Certificate`]s themselves: the URL judged ([`WebhookVerdict::Invalid`] when it is
    /// refused, whatever the answer), then `answer` (`None`: no answer at all) read as
    /// [`Certificate::from_response`] reads it, then [`verify`](Self::verify) at `now`.
    pub fn verify_answer(
        &self,
        transmission: &Transmission<'_>,
        answer: Option<(u16, &[u8])>,
        now: i64,
    ) -> WebhookVerdict {
        let request = match self.certificate_request(transmission) {
            Ok(request) => request,
            Err(why) => return WebhookVerdict::Invalid(why),
        };
        let Some((status, body)) = answer else {
            return WebhookVerdict::Unexpected(Unexpected::NoAnswer);
        };
        match Certificate::from_response(&request, status, body) {
            Ok(certificate) => self.verify(transmission, &certificate, now),
            Err(why) => WebhookVerdict::Unexpected(why),
        }
    }

    fn check(
        &self,
        transmission: &Transmission<'_>,
        certificate: &Certificate,
        now: i64,
    ) -> Result<(), WebhookInvalid> {
        if !transmission.is_sha256_with_rsa() {
            return Err(WebhookInvalid::UnsupportedAlgorithm);
        }
        let request = self.certificate_request(transmission)?;
        if certificate.url != request.url {
            return Err(WebhookInvalid::CertificateOtherUrl);
        }
        let sent = transmission.time().utc.timestamp();
        let age = now.saturating_sub(sent);
        if age > i64::from(self.replay_window_secs) || age < -i64::from(MAX_CLOCK_SKEW_SECS) {
            return Err(WebhookInvalid::StaleTransmission);
        }
        // A time before 1970 is no time PayPal signs at; it fails as a date would.
        let at = u64::try_from(now).map_err(|_| WebhookInvalid::CertificateTime)?;
        let leaf = webpki::EndEntityCert::try_from(&certificate.leaf)
            .map_err(|_| WebhookInvalid::CertificateChain)?;
        let intermediates: Vec<CertificateDer<'_>> = self
            .intermediates
            .iter()
            .chain(&certificate.served_chain)
            .map(|c| CertificateDer::from(c.as_ref()))
            .collect();
        leaf.verify_for_usage(
            CHAIN_ALGORITHMS,
            &self.anchors,
            &intermediates,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(at)),
            webpki::KeyUsage::server_auth(),
            None,
            None,
        )
        .map_err(|e| match e {
            webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => {
                WebhookInvalid::CertificateTime
            }
            webpki::Error::CertNotValidForName(_) => WebhookInvalid::CertificateName,
            // Every other path-building failure (unknown issuer, bad signature in the chain,
            // not a server certificate, a constraint…) means the chain is not trusted.
            _ => WebhookInvalid::CertificateChain,
        })?;
        let name = ServerName::try_from(certificate_name(self.environment))
            .map_err(|_| WebhookInvalid::CertificateName)?;
        leaf.verify_is_valid_for_subject_name(&name)
            .map_err(|_| WebhookInvalid::CertificateName)?;
        leaf.verify_signature(
            webpki::ring::RSA_PKCS1_2048_8192_SHA256,
            transmission.signed_string(&self.webhook_id).as_bytes(),
            transmission.signature(),
        )
        .map_err(|_| WebhookInvalid::SignatureMismatch)
    }
}

fn invalid(field: &str) -> Error {
    Error::InvalidConfiguration {
        field: FieldName::new(field),
        problem: Problem::InvalidValue,
    }
}

fn certificates_from_pem(pem: &[u8], field: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| invalid(field))?;
    if certs.is_empty() {
        return Err(invalid(field));
    }
    Ok(certs)
}

fn anchor(cert: &CertificateDer<'_>, field: &str) -> Result<TrustAnchor<'static>, Error> {
    webpki::anchor_from_trusted_cert(cert)
        .map(|a| a.to_owned())
        .map_err(|_| invalid(field))
}

fn anchors_from_pem(pem: &[u8], field: &str) -> Result<Vec<TrustAnchor<'static>>, Error> {
    certificates_from_pem(pem, field)?
        .iter()
        .map(|c| anchor(c, field))
        .collect()
}

/// Whether a certificate names itself as its issuer (a root), as webpki parses it.
fn is_self_signed(cert: &CertificateDer<'_>) -> bool {
    webpki::EndEntityCert::try_from(cert).is_ok_and(|parsed| parsed.issuer() == parsed.subject())
}
