//! The stand-in's webhook side: a certificate authority made at start, a leaf named as PayPal's
//! sandbox webhook certificate and served at a loopback certificate URL, and webhooks signed as
//! PayPal signs them (`transmission_id|transmission_time|webhook_id|crc32(body)`, RSA PKCS#1 v1.5
//! with SHA-256).
//!
//! A listener trusts this authority only through explicit test-only options
//! (`WebhookVerifier::with_trust_anchors` and `with_certificate_base_for_testing`), which the
//! core refuses in live. The authority's key is made at start and never leaves the process; the
//! leaf's RSA key is a fixed test key (`webhook-leaf-key.pem`: ring signs with RSA but cannot
//! make RSA keys), certified anew by each run's authority, so that no certificate outlives its
//! run.

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

/// The leaf's RSA key, PKCS#8 PEM (a test key, generated for this purpose).
const LEAF_KEY: &str = include_str!("webhook-leaf-key.pem");
/// Another RSA key (a test key too): the forgery "signed by another key".
const OTHER_KEY: &str = include_str!("webhook-other-key.pem");

/// The certificate id of the run's expired leaf (the same name and key, dates in the past).
pub const EXPIRED_CERT_ID: &str = "CERT-ipnkit-sandbox-expired";

/// A foreign host's certificate URL: a forgery's (the core refuses it before any fetch).
pub const FOREIGN_CERT_URL: &str =
    "https://certs.example.net/v1/notifications/certs/CERT-ipnkit-sandbox";

/// How a webhook is signed: as PayPal does, or as one of the forgeries a listener must refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// As PayPal signs: the run's leaf, at its loopback certificate URL.
    PayPal,
    /// Signed by another key than the leaf's.
    OtherKey,
    /// Signed by the leaf's key, the certificate URL on a foreign host.
    ForeignHost,
    /// Signed by the leaf's key, the certificate URL naming the run's expired leaf.
    ExpiredLeaf,
}

/// The certificate id the stand-in serves its leaf under.
pub const CERT_ID: &str = "CERT-ipnkit-sandbox";

/// The path the leaf is served at (PayPal's certificate path and [`CERT_ID`]).
pub fn cert_path() -> String {
    format!("{}{CERT_ID}", ipnkit::webhook::CERT_PATH)
}

/// The path the expired leaf is served at.
pub fn expired_cert_path() -> String {
    format!("{}{EXPIRED_CERT_ID}", ipnkit::webhook::CERT_PATH)
}

/// The path the authority's certificate is served at, for a listener's test-only trust option.
pub const CA_PATH: &str = "/sandbox/webhook-ca.pem";

/// The run's authority and leaf, and the key that signs.
pub struct WebhookSigner {
    ca_pem: String,
    leaf_pem: String,
    expired_pem: String,
    key: RsaKeyPair,
    other_key: RsaKeyPair,
}

/// The five headers PayPal sends with a webhook, as the stand-in signs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `(name, value)` pairs, PayPal's names.
    pub pairs: Vec<(&'static str, String)>,
}

impl WebhookSigner {
    /// A new authority (ECDSA P-256, its key made now) and a leaf named
    /// `messageverificationcerts.sandbox.paypal.com`, for TLS server use as PayPal's.
    pub fn new() -> Result<WebhookSigner, String> {
        let fail = |what: &str, e: &dyn std::fmt::Display| format!("webhook signer: {what}: {e}");
        let ca_key = KeyPair::generate().map_err(|e| fail("the authority's key", &e))?;
        let mut ca =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("the authority", &e))?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "ipnkit sandbox webhook authority");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_cert = ca
            .self_signed(&ca_key)
            .map_err(|e| fail("the authority", &e))?;
        let issuer = Issuer::new(ca, ca_key);
        let name = ipnkit::webhook::certificate_name(ipnkit::Environment::Sandbox);
        let leaf_key = KeyPair::from_pkcs8_pem_and_sign_algo(LEAF_KEY, &rcgen::PKCS_RSA_SHA256)
            .map_err(|e| fail("the leaf's key", &e))?;
        let mut leaf =
            CertificateParams::new(vec![name.to_owned()]).map_err(|e| fail("the leaf", &e))?;
        leaf.distinguished_name.push(DnType::CommonName, name);
        leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let leaf_cert = leaf
            .signed_by(&leaf_key, &issuer)
            .map_err(|e| fail("the leaf", &e))?;
        leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
        leaf.not_after = rcgen::date_time_ymd(2021, 1, 1);
        let expired = leaf
            .signed_by(&leaf_key, &issuer)
            .map_err(|e| fail("the expired leaf", &e))?;
        let key = RsaKeyPair::from_pkcs8(&leaf_key.serialize_der())
            .map_err(|e| fail("the leaf's key", &e))?;
        let other = KeyPair::from_pkcs8_pem_and_sign_algo(OTHER_KEY, &rcgen::PKCS_RSA_SHA256)
            .map_err(|e| fail("the other key", &e))?;
        let other_key = RsaKeyPair::from_pkcs8(&other.serialize_der())
            .map_err(|e| fail("the other key", &e))?;
        Ok(WebhookSigner {
            ca_pem: ca_cert.pem(),
            leaf_pem: leaf_cert.pem(),
            expired_pem: expired.pem(),
            key,
            other_key,
        })
    }

    /// The authority's certificate (PEM): what a listener under test trusts.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The leaf (PEM), served at [`cert_path`].
    pub fn leaf_pem(&self) -> &str {
        &self.leaf_pem
    }

    /// The expired leaf (PEM), served at [`expired_cert_path`].
    pub fn expired_pem(&self) -> &str {
        &self.expired_pem
    }

    /// Signs `body` for `webhook_id` as `signing` says (PayPal's way, or a forgery), with the
    /// certificate URL under `base` (the stand-in's URL): the five headers to send with it.
    pub fn sign(
        &self,
        base: &str,
        body: &[u8],
        webhook_id: &str,
        (transmission_id, transmission_time): (&str, &str),
        signing: Signing,
    ) -> Result<SignedHeaders, String> {
        let signed = format!(
            "{transmission_id}|{transmission_time}|{webhook_id}|{}",
            crc32fast::hash(body)
        );
        let key = match signing {
            Signing::OtherKey => &self.other_key,
            Signing::PayPal | Signing::ForeignHost | Signing::ExpiredLeaf => &self.key,
        };
        let base = base.trim_end_matches('/');
        let cert_url = match signing {
            Signing::PayPal | Signing::OtherKey => format!("{base}{}", cert_path()),
            Signing::ForeignHost => FOREIGN_CERT_URL.to_owned(),
            Signing::ExpiredLeaf => format!("{base}{}", expired_cert_path()),
        };
        let mut signature = vec![0; key.public().modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            signed.as_bytes(),
            &mut signature,
        )
        .map_err(|e| format!("webhook signer: signing: {e}"))?;
        Ok(SignedHeaders {
            pairs: vec![
                ("PAYPAL-TRANSMISSION-ID", transmission_id.to_owned()),
                ("PAYPAL-TRANSMISSION-TIME", transmission_time.to_owned()),
                (
                    "PAYPAL-TRANSMISSION-SIG",
                    base64::engine::general_purpose::STANDARD.encode(signature),
                ),
                ("PAYPAL-CERT-URL", cert_url),
                ("PAYPAL-AUTH-ALGO", "SHA256withRSA".to_owned()),
            ],
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::sandbox::{Faults, Sandbox};
    use crate::util::client;

    /// The stand-in's webhooks: its leaf served at a loopback certificate URL, its authority's
    /// certificate beside it, and a webhook it signed verified by the core exactly when a listener
    /// trusts it by the test-only options.
    #[test]
    fn signs_webhooks_that_verify_only_with_its_authority_and_base() {
        use ipnkit::webhook::{
            Certificate, Transmission, WebhookInvalid, WebhookLimits, WebhookVerdict,
            WebhookVerifier,
        };
        let sandbox =
            Sandbox::start("127.0.0.1:0", Faults::default()).unwrap_or_else(|e| panic!("{e}"));
        let get = |path: &str| {
            let mut r = client(Duration::from_secs(2))
                .get(&format!("{}{path}", sandbox.url()))
                .call()
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            (
                r.status().as_u16(),
                r.body_mut().read_to_string().unwrap_or_default(),
            )
        };
        let (status, ca) = get(CA_PATH);
        assert_eq!((status, ca.as_str()), (200, sandbox.webhook_ca_pem()));
        let body = br#"{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"C1","status":"COMPLETED"}}"#;
        let headers = sandbox
            .sign_webhook(body, "WH-TEST")
            .unwrap_or_else(|e| panic!("{e}"));
        let t = Transmission::from_request(body, &headers.pairs, WebhookLimits::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let trusting = WebhookVerifier::new(ipnkit::Environment::Sandbox, "WH-TEST")
            .and_then(|v| v.with_trust_anchors(ca.as_bytes()))
            .and_then(|v| v.with_certificate_base_for_testing(sandbox.url()))
            .unwrap_or_else(|e| panic!("{e}"));
        let request = trusting
            .certificate_request(&t)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let path = request
            .url()
            .strip_prefix(sandbox.url())
            .unwrap_or_else(|| panic!("{}", request.url()))
            .to_owned();
        let (status, pem) = get(&path);
        let certificate = Certificate::from_response(&request, status, pem.as_bytes())
            .unwrap_or_else(|e| panic!("{e:?}"));
        let now = chrono::Utc::now().timestamp();
        assert_eq!(
            trusting.verify(&t, &certificate, now),
            WebhookVerdict::Verified
        );
        // Another body, another webhook id: refused.
        let other =
            Transmission::from_request(&body[1..], &headers.pairs, WebhookLimits::default())
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            trusting.verify(&other, &certificate, now),
            WebhookVerdict::Invalid(WebhookInvalid::SignatureMismatch)
        );
        // A listener without the test-only options neither fetches from the stand-in nor trusts it.
        let plain = WebhookVerifier::new(ipnkit::Environment::Sandbox, "WH-TEST")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            plain.certificate_request(&t),
            Err(WebhookInvalid::CertUrlForm)
        );
        let based = plain
            .with_certificate_base_for_testing(sandbox.url())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            based.verify(&t, &certificate, now),
            WebhookVerdict::Invalid(WebhookInvalid::CertificateChain)
        );
    }
}
