//! PayPal REST webhooks: every signed delivery in `../shared/webhooks` verifies at its
//! transmission time and is refused with each change that must break it; a certificate
//! authority made here covers what public vectors cannot (names, chains, dates).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;

use base64::Engine as _;
use ipnkit::webhook::{
    Certificate, Transmission, WebhookInvalid, WebhookLimits, WebhookVerdict, WebhookVerifier,
};
use ipnkit::{Environment, ErrorCode, Unexpected};
use proptest::prelude::*;
use serde_json::Value;

mod support;

/// One signed delivery from `../shared/webhooks`.
struct Vector {
    name: String,
    facts: Value,
    body: Vec<u8>,
    pem: Vec<u8>,
}

impl Vector {
    fn header(&self, key: &str) -> String {
        self.facts[key].as_str().unwrap().to_owned()
    }

    /// The published headers, except the Java SDK test's placeholder certificate URL, which is
    /// replaced by a URL of PayPal's form (the URL is not signed): see
    /// `the_java_test_s_placeholder_url_is_refused_with_its_own_code`.
    fn headers(&self) -> Vec<(String, String)> {
        let mut out = self.published_headers();
        if self.name == PLACEHOLDER {
            out = set(
                &out,
                "PAYPAL-CERT-URL",
                "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-placeholder",
            );
        }
        out
    }

    fn published_headers(&self) -> Vec<(String, String)> {
        [
            ("PAYPAL-TRANSMISSION-ID", "transmission_id"),
            ("PAYPAL-TRANSMISSION-TIME", "transmission_time"),
            ("PAYPAL-TRANSMISSION-SIG", "transmission_sig"),
            ("PAYPAL-CERT-URL", "cert_url"),
            ("PAYPAL-AUTH-ALGO", "auth_algo"),
        ]
        .into_iter()
        .map(|(name, key)| (name.to_owned(), self.header(key)))
        .collect()
    }

    fn environment(&self) -> Environment {
        if self.header("cert_url").contains(".sandbox.") {
            Environment::Sandbox
        } else {
            Environment::Live
        }
    }

    fn sent_at(&self) -> i64 {
        chrono::DateTime::parse_from_rfc3339(&self.header("transmission_time"))
            .unwrap()
            .timestamp()
    }

    fn not_after(&self) -> i64 {
        let text = self.facts["python_check"]["certificate"]["not_after"]
            .as_str()
            .unwrap();
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp()
    }

    fn verifier(&self) -> WebhookVerifier {
        WebhookVerifier::new(self.environment(), &self.header("webhook_id")).unwrap()
    }

    /// The verdict on this vector with a changed body and headers, at `at`.
    fn verdict_with(
        &self,
        verifier: &WebhookVerifier,
        body: &[u8],
        headers: &[(String, String)],
        at: i64,
    ) -> Result<WebhookVerdict, WebhookInvalid> {
        let t = Transmission::from_request(body, headers.iter().cloned(), WebhookLimits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        let request = verifier.certificate_request(&t)?;
        let cert = Certificate::from_response(&request, 200, &self.pem)
            .unwrap_or_else(|e| panic!("{}: {e:?}", self.name));
        Ok(verifier.verify(&t, &cert, at))
    }

    fn verdict(&self) -> Result<WebhookVerdict, WebhookInvalid> {
        self.verdict_with(
            &self.verifier(),
            &self.body,
            &self.headers(),
            self.sent_at(),
        )
    }
}

fn set(headers: &[(String, String)], name: &str, value: &str) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            if n == name {
                (n.clone(), value.to_owned())
            } else {
                (n.clone(), v.clone())
            }
        })
        .collect()
}

fn url_of(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .find(|(n, _)| n == "PAYPAL-CERT-URL")
        .unwrap()
        .1
        .clone()
}

fn vectors() -> Vec<Vector> {
    let dir = support::webhooks_dir();
    let out: Vec<Vector> = support::files_in(&dir, ".json")
        .into_iter()
        .map(|path| {
            let facts: Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let body = fs::read(dir.join(facts["body_file"].as_str().unwrap())).unwrap();
            let pem = fs::read(dir.join(facts["cert_file"].as_str().unwrap())).unwrap();
            Vector {
                name,
                facts,
                body,
                pem,
            }
        })
        .collect();
    assert_eq!(out.len(), 19, "SOURCES.md lists 19 complete signed vectors");
    out
}

/// The Java SDK test's certificate URL is a placeholder outside PayPal's certificate path.
const PLACEHOLDER: &str = "sdk-java-test_2017-03-30_billing-plan-created";

#[test]
fn every_vector_verifies_at_its_transmission_time() {
    for v in vectors() {
        assert_eq!(v.verdict(), Ok(WebhookVerdict::Verified), "{}", v.name);
        assert_eq!(
            v.facts["expected"]["valid"],
            Value::Bool(true),
            "{}: its source asserts it is valid",
            v.name
        );
    }
}

#[test]
fn the_java_test_s_placeholder_url_is_refused_with_its_own_code() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name == PLACEHOLDER)
        .unwrap();
    assert_eq!(
        v.verdict_with(&v.verifier(), &v.body, &v.published_headers(), v.sent_at()),
        Err(WebhookInvalid::CertUrlPath)
    );
}

#[test]
fn the_signed_string_is_the_one_the_independent_check_computed() {
    for v in vectors() {
        let t = Transmission::from_request(&v.body, v.headers(), WebhookLimits::default()).unwrap();
        let check = &v.facts["python_check"];
        assert_eq!(
            u64::from(t.body_crc32()),
            check["crc32"].as_u64().unwrap(),
            "{}",
            v.name
        );
        assert_eq!(
            t.signed_string(&v.header("webhook_id")),
            check["signed_string"].as_str().unwrap(),
            "{}",
            v.name
        );
    }
}

#[test]
fn a_certificate_is_refused_one_second_after_its_not_after_and_accepted_at_it() {
    for v in vectors() {
        // The replay window is opened wide so that the certificate's dates are what is judged.
        let verifier = v.verifier().with_replay_window(u32::MAX).unwrap();
        let (body, headers) = (&v.body, &v.headers());
        assert_eq!(
            v.verdict_with(&verifier, body, headers, v.not_after()),
            Ok(WebhookVerdict::Verified),
            "{}",
            v.name
        );
        assert_eq!(
            v.verdict_with(&verifier, body, headers, v.not_after() + 1),
            Ok(WebhookVerdict::Invalid(WebhookInvalid::CertificateTime)),
            "{}",
            v.name
        );
    }
}

#[test]
fn the_source_asserted_negative_cases_are_refused() {
    let dir = support::webhooks_dir();
    let mut cases = 0;
    for v in vectors() {
        let Some(negatives) = v.facts["source_negative_cases"].as_array() else {
            continue;
        };
        for case in negatives {
            cases += 1;
            let mut body = v.body.clone();
            let mut headers = v.headers();
            let mut webhook_id = v.header("webhook_id");
            for (key, value) in case["change"].as_object().unwrap() {
                match key.as_str() {
                    "body_file" => body = fs::read(dir.join(value.as_str().unwrap())).unwrap(),
                    "body" => {
                        body = value
                            .as_str()
                            .map(|s| s.as_bytes().to_vec())
                            .unwrap_or_default()
                    }
                    "webhook_id" => webhook_id = value.as_str().unwrap().to_owned(),
                    "transmission_sig" => {
                        headers = set(&headers, "PAYPAL-TRANSMISSION-SIG", value.as_str().unwrap())
                    }
                    "transmission_id" => {
                        headers = set(&headers, "PAYPAL-TRANSMISSION-ID", value.as_str().unwrap())
                    }
                    "auth_algo" => {
                        headers = set(&headers, "PAYPAL-AUTH-ALGO", value.as_str().unwrap())
                    }
                    other => panic!(
                        "{}: a negative case changes {other}, which this test does not know",
                        v.name
                    ),
                }
            }
            let verifier = WebhookVerifier::new(v.environment(), &webhook_id).unwrap();
            let verdict = v.verdict_with(&verifier, &body, &headers, v.sent_at());
            let refused = match verdict {
                Ok(WebhookVerdict::Invalid(_)) | Err(_) => true,
                Ok(WebhookVerdict::Verified | WebhookVerdict::Unexpected(_)) => false,
            };
            assert!(refused, "{}: {} gave {verdict:?}", v.name, case["case"]);
            let expected = if case["change"].get("auth_algo").is_some() {
                WebhookInvalid::UnsupportedAlgorithm
            } else {
                WebhookInvalid::SignatureMismatch
            };
            assert_eq!(
                verdict,
                Ok(WebhookVerdict::Invalid(expected)),
                "{}: {}",
                v.name,
                case["case"]
            );
        }
    }
    assert_eq!(
        cases, 9,
        "SOURCES.md lists 9 source-asserted negative cases"
    );
}

#[test]
fn the_body_re_formatted_another_webhook_id_another_environment_or_host_are_refused() {
    for v in vectors() {
        let at = v.sent_at();
        let headers = v.headers();
        let verifier = v.verifier();
        let mismatch = Ok(WebhookVerdict::Invalid(WebhookInvalid::SignatureMismatch));

        let parsed: Value = serde_json::from_slice(&v.body).unwrap();
        let pretty = serde_json::to_vec_pretty(&parsed).unwrap();
        assert_eq!(
            v.verdict_with(&verifier, &pretty, &headers, at),
            mismatch,
            "{}",
            v.name
        );
        let mut newline = v.body.clone();
        newline.push(b'\n');
        assert_eq!(
            v.verdict_with(&verifier, &newline, &headers, at),
            mismatch,
            "{}",
            v.name
        );

        let other = WebhookVerifier::new(v.environment(), "WRONG").unwrap();
        assert_eq!(
            v.verdict_with(&other, &v.body, &headers, at),
            mismatch,
            "{}",
            v.name
        );

        let (other_env, other_url) = match v.environment() {
            Environment::Live => (
                Environment::Sandbox,
                url_of(&headers).replace("api.paypal.com", "api.sandbox.paypal.com"),
            ),
            Environment::Sandbox => (
                Environment::Live,
                url_of(&headers).replace("api.sandbox.paypal.com", "api.paypal.com"),
            ),
        };
        let elsewhere = WebhookVerifier::new(other_env, &v.header("webhook_id")).unwrap();
        assert_eq!(
            v.verdict_with(&elsewhere, &v.body, &headers, at),
            Err(WebhookInvalid::CertUrlHost),
            "{}: the URL names the other environment's host",
            v.name
        );
        // The other environment's host in the URL, the certificate served all the same: the
        // certificate's name refuses it (a sandbox certificate never verifies a live one).
        let moved = set(&headers, "PAYPAL-CERT-URL", &other_url);
        assert_eq!(
            v.verdict_with(&elsewhere, &v.body, &moved, at),
            Ok(WebhookVerdict::Invalid(WebhookInvalid::CertificateName)),
            "{}",
            v.name
        );

        let evil = url_of(&headers).replace(".paypal.com/", ".paypal.com.evil/");
        let evil = set(&headers, "PAYPAL-CERT-URL", &evil);
        assert_eq!(
            v.verdict_with(&verifier, &v.body, &evil, at),
            Err(WebhookInvalid::CertUrlHost),
            "{}",
            v.name
        );
    }
}

#[test]
fn old_and_future_transmissions_are_refused_by_the_replay_window() {
    let v = vectors()
        .into_iter()
        .find(|v| v.name.starts_with("paypal2_"))
        .unwrap();
    let verifier = v.verifier().with_replay_window(600).unwrap();
    let (body, headers) = (&v.body, &v.headers());
    let stale = Ok(WebhookVerdict::Invalid(WebhookInvalid::StaleTransmission));
    assert_eq!(
        v.verdict_with(&verifier, body, headers, v.sent_at() + 600),
        Ok(WebhookVerdict::Verified)
    );
    assert_eq!(
        v.verdict_with(&verifier, body, headers, v.sent_at() + 601),
        stale
    );
    assert_eq!(
        v.verdict_with(&verifier, body, headers, v.sent_at() - 300),
        Ok(WebhookVerdict::Verified)
    );
    assert_eq!(
        v.verdict_with(&verifier, body, headers, v.sent_at() - 301),
        stale
    );
    // The default window is three days.
    let default = v.verifier();
    assert_eq!(
        v.verdict_with(&default, body, headers, v.sent_at() + 3 * 86_400),
        Ok(WebhookVerdict::Verified)
    );
    assert_eq!(
        v.verdict_with(&default, body, headers, v.sent_at() + 3 * 86_400 + 1),
        stale
    );
    assert_eq!(
        WebhookVerifier::new(Environment::Live, "X")
            .unwrap()
            .with_replay_window(0)
            .unwrap_err()
            .error_code(),
        ErrorCode::InvalidConfiguration
    );
}

#[test]
fn headers_are_read_strictly_and_errors_name_the_header_without_its_value() {
    let v = vectors().into_iter().next().unwrap();
    let read = |body: &[u8], headers: Vec<(String, String)>| {
        Transmission::from_request(body, headers, WebhookLimits::default()).map(|_| ())
    };
    // Names in any case.
    let lower: Vec<_> = v
        .headers()
        .into_iter()
        .map(|(n, val)| (n.to_lowercase(), val))
        .collect();
    assert_eq!(read(&v.body, lower), Ok(()));
    for (i, (name, value)) in v.headers().into_iter().enumerate() {
        let mut missing = v.headers();
        missing.remove(i);
        let e = read(&v.body, missing).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("missing_header", Some(name.as_str()))
        );

        let mut twice = v.headers();
        twice.push((name.to_lowercase(), value.clone()));
        let e = read(&v.body, twice).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("repeated_header", Some(name.as_str()))
        );

        let long = set(&v.headers(), &name, &"A".repeat(2049));
        let e = read(&v.body, long).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("header_too_large", Some(name.as_str()))
        );
        assert!(!e.to_string().contains("AAAA"), "{e}");

        for bad in ["", "a b", "caf\u{e9}", "a\u{0}b"] {
            let e = read(&v.body, set(&v.headers(), &name, bad)).unwrap_err();
            assert_eq!(
                (e.code(), e.field()),
                ("invalid_header", Some(name.as_str())),
                "{bad:?}"
            );
        }
        for e in [
            read(&v.body, set(&v.headers(), &name, "caf\u{e9}")).unwrap_err(),
            read(&v.body, twice_of(&v, &name)).unwrap_err(),
        ] {
            assert!(!e.to_string().contains(&value), "{e}");
        }
    }
    for bad_time in [
        "2024-07-30 15:49:56",
        "15:49:56 Jul 30, 2024 PDT",
        "yesterday",
    ] {
        let e = read(
            &v.body,
            set(&v.headers(), "PAYPAL-TRANSMISSION-TIME", bad_time),
        )
        .unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("invalid_header", Some("PAYPAL-TRANSMISSION-TIME"))
        );
    }
    let e = read(
        &v.body,
        set(&v.headers(), "PAYPAL-TRANSMISSION-SIG", "not*base64"),
    )
    .unwrap_err();
    assert_eq!(
        (e.code(), e.field()),
        ("invalid_header", Some("PAYPAL-TRANSMISSION-SIG"))
    );
    // The body's limit is checked before any header.
    let small = WebhookLimits {
        max_body_bytes: 10,
        ..WebhookLimits::default()
    };
    let e = Transmission::from_request(&v.body, Vec::<(String, String)>::new(), small).unwrap_err();
    assert_eq!(e.code(), "body_too_large");
}

fn twice_of(v: &Vector, name: &str) -> Vec<(String, String)> {
    let mut out = v.headers();
    let value = out.iter().find(|(n, _)| n == name).unwrap().1.clone();
    out.push((name.to_ascii_lowercase(), value));
    out
}

#[test]
fn a_certificate_that_cannot_be_had_is_retry_later_never_a_verdict() {
    let v = vectors().into_iter().next().unwrap();
    let t = Transmission::from_request(&v.body, v.headers(), WebhookLimits::default()).unwrap();
    let request = v.verifier().certificate_request(&t).unwrap();
    assert_eq!(request.cache_key(), request.url());
    for (status, body, why) in [
        (500, v.pem.as_slice(), Unexpected::HttpStatus(500)),
        (301, b"".as_slice(), Unexpected::HttpStatus(301)),
        (200, b"".as_slice(), Unexpected::EmptyBody),
        (200, b"\r\n".as_slice(), Unexpected::EmptyBody),
        (
            200,
            b"<html>Service Unavailable</html>".as_slice(),
            Unexpected::UnrecognizedBody,
        ),
        (
            200,
            b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n".as_slice(),
            Unexpected::UnrecognizedBody,
        ),
    ] {
        assert_eq!(
            Certificate::from_response(&request, status, body),
            Err(why),
            "{status}"
        );
        assert_eq!(WebhookVerdict::Unexpected(why).kind().code(), "unexpected");
    }
    // The same, in one call.
    let verifier = v.verifier();
    assert_eq!(
        verifier.verify_answer(&t, None, v.sent_at()),
        WebhookVerdict::Unexpected(Unexpected::NoAnswer)
    );
    assert_eq!(
        verifier.verify_answer(&t, Some((500, &v.pem)), v.sent_at()),
        WebhookVerdict::Unexpected(Unexpected::HttpStatus(500))
    );
    assert_eq!(
        verifier.verify_answer(&t, Some((200, &v.pem)), v.sent_at()),
        WebhookVerdict::Verified
    );
    // Bytes that look like a certificate but are not one: the chain refuses it, never retried
    // into a verdict.
    let junk = Certificate::from_response(&request, 200, &[0x30, 0x03, 0x02, 0x01, 0x00]).unwrap();
    assert_eq!(
        v.verifier().verify(&t, &junk, v.sent_at()),
        WebhookVerdict::Invalid(WebhookInvalid::CertificateChain)
    );
    // A certificate fetched for another URL is not this transmission's.
    let other = vectors()
        .into_iter()
        .find(|o| {
            o.header("cert_url") != v.header("cert_url") && o.environment() == v.environment()
        })
        .unwrap();
    let ot =
        Transmission::from_request(&other.body, other.headers(), WebhookLimits::default()).unwrap();
    let other_cert = Certificate::from_response(
        &v.verifier().certificate_request(&ot).unwrap(),
        200,
        &other.pem,
    )
    .unwrap();
    assert_eq!(
        v.verifier().verify(&t, &other_cert, v.sent_at()),
        WebhookVerdict::Invalid(WebhookInvalid::CertificateOtherUrl)
    );
    let json =
        serde_json::to_string(&WebhookVerdict::Invalid(WebhookInvalid::SignatureMismatch)).unwrap();
    assert_eq!(json, r#"{"kind":"invalid","reason":"signature_mismatch"}"#);
    assert_eq!(
        serde_json::to_string(&WebhookVerdict::Verified).unwrap(),
        r#"{"kind":"verified","reason":null}"#
    );
}

#[test]
fn the_bundled_anchors_are_the_ones_paypal_s_sdks_bundle() {
    let dir = support::webhooks_dir().join("chain");
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/webhook/anchors");
    for name in [
        "DigiCertHighAssuranceEVRootCA.pem",
        "DigiCertSHA2ExtendedValidationServerCA.pem",
    ] {
        let der = |p: std::path::PathBuf| {
            use rustls_pki_types::pem::PemObject as _;
            rustls_pki_types::CertificateDer::from_pem_slice(&fs::read(p).unwrap())
                .unwrap()
                .to_vec()
        };
        assert_eq!(der(dir.join(name)), der(here.join(name)), "{name}");
    }
}

#[test]
fn webhook_ids_are_checked() {
    for bad in ["", "a|b", "a b", &"x".repeat(65)] {
        let e = WebhookVerifier::new(Environment::Live, bad).unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            ("invalid_configuration", Some("webhook_id")),
            "{bad:?}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any one byte of the body changed fails verification.
    #[test]
    fn any_change_to_the_body_fails(index in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let v = vectors().into_iter().find(|v| v.name.starts_with("paypal-rs")).unwrap();
        let mut body = v.body.clone();
        let i = index.index(body.len());
        body[i] ^= flip;
        let verdict = v.verdict_with(&v.verifier(), &body, &v.headers(), v.sent_at());
        prop_assert_eq!(verdict, Ok(WebhookVerdict::Invalid(WebhookInvalid::SignatureMismatch)));
    }
}

/// A certificate authority made here: what the public vectors cannot cover.
mod authority {
    use super::*;
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose, SigningKey as _, date_time_ymd,
    };

    const URL: &str = "https://api.paypal.com/v1/notifications/certs/CERT-test-0001";
    const LIVE: &str = "messageverificationcerts.paypal.com";
    /// 2025-06-01T00:00:00Z, inside every certificate's dates below unless a test says not.
    const AT: i64 = 1_748_736_000;

    fn ca_params(name: &str, years: (i32, i32)) -> CertificateParams {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        p.not_before = date_time_ymd(years.0, 1, 1);
        p.not_after = date_time_ymd(years.1, 1, 1);
        p
    }

    fn leaf_key() -> KeyPair {
        KeyPair::from_pkcs8_pem_and_sign_algo(
            include_str!("keys/leaf-a.pem"),
            &rcgen::PKCS_RSA_SHA256,
        )
        .unwrap()
    }

    struct Made {
        anchors_pem: String,
        leaf_pem: String,
    }

    /// Root → intermediate → leaf named `name`, the leaf valid in `leaf_years`, the
    /// intermediate in `mid_years`.
    fn make(name: &str, mid_years: (i32, i32), leaf_years: (i32, i32)) -> Made {
        let root_key = KeyPair::generate().unwrap();
        let root_params = ca_params("ipnkit test root", (2020, 2040));
        let root = root_params.self_signed(&root_key).unwrap();
        let root_issuer = Issuer::new(root_params, root_key);
        let mid_key = KeyPair::generate().unwrap();
        let mid_params = ca_params("ipnkit test intermediate", mid_years);
        let mid = mid_params.signed_by(&mid_key, &root_issuer).unwrap();
        let mid_issuer = Issuer::new(mid_params, mid_key);
        let mut leaf_params = CertificateParams::new(vec![name.to_owned()]).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, name);
        leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        leaf_params.not_before = date_time_ymd(leaf_years.0, 1, 1);
        leaf_params.not_after = date_time_ymd(leaf_years.1, 1, 1);
        let leaf = leaf_params.signed_by(&leaf_key(), &mid_issuer).unwrap();
        Made {
            anchors_pem: root.pem() + &mid.pem(),
            leaf_pem: leaf.pem(),
        }
    }

    /// A delivery signed with the leaf's key, verified with `anchors_pem` trusted.
    fn verdict(
        made: &Made,
        anchors_pem: &str,
        url: &str,
    ) -> Result<WebhookVerdict, WebhookInvalid> {
        let body = br#"{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{}}"#;
        signed_verdict(made, anchors_pem, url, body)
    }

    /// `body` signed with the leaf's key as PayPal signs, verified with `anchors_pem` trusted.
    fn signed_verdict(
        made: &Made,
        anchors_pem: &str,
        url: &str,
        body: &[u8],
    ) -> Result<WebhookVerdict, WebhookInvalid> {
        let time = "2025-06-01T00:00:00Z";
        let signed = format!("tid-1|{time}|WH-ID|{}", crc32fast::hash(body));
        let sig = leaf_key().sign(signed.as_bytes()).unwrap();
        let headers = [
            ("PAYPAL-TRANSMISSION-ID", "tid-1".to_owned()),
            ("PAYPAL-TRANSMISSION-TIME", time.to_owned()),
            (
                "PAYPAL-TRANSMISSION-SIG",
                base64::engine::general_purpose::STANDARD.encode(sig),
            ),
            ("PAYPAL-CERT-URL", url.to_owned()),
            ("PAYPAL-AUTH-ALGO", "SHA256withRSA".to_owned()),
        ];
        let t = Transmission::from_request(body, headers, WebhookLimits::default()).unwrap();
        let verifier = WebhookVerifier::new(Environment::Live, "WH-ID")
            .unwrap()
            .with_trust_anchors(anchors_pem.as_bytes())
            .unwrap();
        let request = verifier.certificate_request(&t)?;
        let cert = Certificate::from_response(&request, 200, made.leaf_pem.as_bytes()).unwrap();
        Ok(verifier.verify(&t, &cert, AT))
    }

    #[test]
    fn a_leaf_of_paypal_s_name_chained_to_the_trusted_root_verifies() {
        let made = make(LIVE, (2020, 2035), (2025, 2026));
        assert_eq!(
            verdict(&made, &made.anchors_pem, URL),
            Ok(WebhookVerdict::Verified)
        );
    }

    /// Bytes that are not ASCII (PayPal's Python SDK crashed on them, Ruby's forced an
    /// encoding) are signed and checked as bytes.
    #[test]
    fn a_body_that_is_not_ascii_verifies_as_its_bytes() {
        let made = make(LIVE, (2020, 2035), (2025, 2026));
        let body = "{\"id\":\"WH-2\",\"event_type\":\"PAYMENT.CAPTURE.COMPLETED\",\"summary\":\"Zahlung von Jörg – 日本\",\"resource\":{}}";
        assert_eq!(
            signed_verdict(&made, &made.anchors_pem, URL, body.as_bytes()),
            Ok(WebhookVerdict::Verified)
        );
        let event = ipnkit::webhook::WebhookEvent::parse(body.as_bytes()).unwrap();
        assert_eq!(event.summary.as_deref(), Some("Zahlung von Jörg – 日本"));
        // Not valid UTF-8 at all: verified as bytes all the same (the event then does not parse).
        let latin1 = b"{\"id\":\"WH-3\",\"summary\":\"J\xf6rg\"}";
        assert_eq!(
            signed_verdict(&made, &made.anchors_pem, URL, latin1),
            Ok(WebhookVerdict::Verified)
        );
        assert_eq!(
            ipnkit::webhook::WebhookEvent::parse(latin1)
                .unwrap_err()
                .code(),
            "invalid_json"
        );
    }

    /// A local stand-in of PayPal: its authority trusted, its loopback certificate URL accepted
    /// by an explicit test-only option, in sandbox only.
    #[test]
    fn a_stand_in_s_loopback_certificate_verifies_only_where_the_test_option_says() {
        let made = make(
            "messageverificationcerts.sandbox.paypal.com",
            (2020, 2035),
            (2025, 2026),
        );
        let url = "http://127.0.0.1:8081/v1/notifications/certs/CERT-ipnkit-sandbox";
        let body = br#"{"id":"WH-9","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{}}"#;
        let time = "2025-06-01T00:00:00Z";
        let signed = format!("tid-9|{time}|WH-ID|{}", crc32fast::hash(body));
        let sig = leaf_key().sign(signed.as_bytes()).unwrap();
        let headers = [
            ("PAYPAL-TRANSMISSION-ID", "tid-9".to_owned()),
            ("PAYPAL-TRANSMISSION-TIME", time.to_owned()),
            (
                "PAYPAL-TRANSMISSION-SIG",
                base64::engine::general_purpose::STANDARD.encode(sig),
            ),
            ("PAYPAL-CERT-URL", url.to_owned()),
            ("PAYPAL-AUTH-ALGO", "SHA256withRSA".to_owned()),
        ];
        let t = Transmission::from_request(body, headers, WebhookLimits::default()).unwrap();
        let sandbox = WebhookVerifier::new(Environment::Sandbox, "WH-ID")
            .unwrap()
            .with_trust_anchors(made.anchors_pem.as_bytes())
            .unwrap();
        assert_eq!(
            sandbox.certificate_request(&t),
            Err(WebhookInvalid::CertUrlForm)
        );
        let local = sandbox
            .with_certificate_base_for_testing("http://127.0.0.1:8081/")
            .unwrap();
        let request = local.certificate_request(&t).unwrap();
        assert_eq!(request.url(), url);
        let cert = Certificate::from_response(&request, 200, made.leaf_pem.as_bytes()).unwrap();
        assert_eq!(local.verify(&t, &cert, AT), WebhookVerdict::Verified);
        // Never in live, and only a base URL.
        let live = WebhookVerifier::new(Environment::Live, "WH-ID").unwrap();
        let e = live
            .with_certificate_base_for_testing("http://127.0.0.1:8081")
            .unwrap_err();
        assert_eq!(
            (e.code(), e.field()),
            (
                "invalid_configuration",
                Some("certificate_base_for_testing")
            )
        );
        for bad in [
            "127.0.0.1:8081",
            "http://127.0.0.1:8081/v1",
            "http://user@127.0.0.1",
        ] {
            let v = WebhookVerifier::new(Environment::Sandbox, "WH-ID").unwrap();
            assert!(v.with_certificate_base_for_testing(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_leaf_of_another_name_is_refused() {
        for name in [
            "messageverificationcerts.sandbox.paypal.com",
            "evil.example",
            "messageverificationcerts.paypal.com.evil",
        ] {
            let made = make(name, (2020, 2035), (2025, 2026));
            assert_eq!(
                verdict(&made, &made.anchors_pem, URL),
                Ok(WebhookVerdict::Invalid(WebhookInvalid::CertificateName)),
                "{name}"
            );
        }
    }

    #[test]
    fn a_chain_to_another_root_is_refused() {
        let made = make(LIVE, (2020, 2035), (2025, 2026));
        let other = make(LIVE, (2020, 2035), (2025, 2026));
        assert_eq!(
            verdict(&made, &other.anchors_pem, URL),
            Ok(WebhookVerdict::Invalid(WebhookInvalid::CertificateChain))
        );
        // PayPal's real anchors do not trust a private authority.
        let digicert = concat!(
            include_str!("../src/webhook/anchors/DigiCertHighAssuranceEVRootCA.pem"),
            include_str!("../src/webhook/anchors/DigiCertSHA2ExtendedValidationServerCA.pem")
        );
        assert_eq!(
            verdict(&made, digicert, URL),
            Ok(WebhookVerdict::Invalid(WebhookInvalid::CertificateChain))
        );
    }

    #[test]
    fn an_expired_intermediate_or_a_leaf_not_yet_valid_is_refused() {
        let expired_mid = make(LIVE, (2020, 2024), (2025, 2026));
        assert_eq!(
            verdict(&expired_mid, &expired_mid.anchors_pem, URL),
            Ok(WebhookVerdict::Invalid(WebhookInvalid::CertificateTime))
        );
        let future_leaf = make(LIVE, (2020, 2035), (2026, 2027));
        assert_eq!(
            verdict(&future_leaf, &future_leaf.anchors_pem, URL),
            Ok(WebhookVerdict::Invalid(WebhookInvalid::CertificateTime))
        );
    }

    #[test]
    fn a_certificate_url_of_any_lookalike_form_is_refused_before_any_fetch() {
        let made = make(LIVE, (2020, 2035), (2025, 2026));
        for url in [
            "https://api.paypal.com.evil/v1/notifications/certs/CERT-test-0001",
            "https://api.paypal.com@evil.example/v1/notifications/certs/CERT-test-0001",
            "https://api.paypal.com:444/v1/notifications/certs/CERT-test-0001",
            "https://api.paypal%2ecom/v1/notifications/certs/CERT-test-0001",
            "https://xn--pypal-4ve.com/v1/notifications/certs/CERT-test-0001",
            "http://api.paypal.com/v1/notifications/certs/CERT-test-0001",
            "https://api.paypal.com/v1/notifications/certs/CERT-test-0001?u=https://evil",
            "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-test-0001",
            "https://api.paypal.com/v1/notifications/test",
        ] {
            assert!(verdict(&made, &made.anchors_pem, url).is_err(), "{url}");
        }
        assert!(
            WebhookVerifier::new(Environment::Live, "WH-ID")
                .unwrap()
                .with_trust_anchors(made.leaf_pem.as_bytes())
                .is_err(),
            "a bundle with no self-signed certificate holds no anchor"
        );
    }
}

/// The typed event: golden canonical JSON per vector, the mapping table row by row, strict
/// reading.
mod events {
    use super::*;
    use ipnkit::EventCode;
    use ipnkit::webhook::{ResourceKind, WebhookEvent};
    use std::path::{Path, PathBuf};

    fn golden_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/webhooks")
    }

    #[test]
    fn every_vector_s_event_matches_its_golden_json() {
        let bless = std::env::var_os("IPNKIT_BLESS").is_some_and(|v| v == "1");
        let mut failures = Vec::new();
        let vectors = vectors();
        for v in &vectors {
            let event = WebhookEvent::parse(&v.body).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            let actual = serde_json::to_string_pretty(&event).unwrap() + "\n";
            let golden = golden_dir().join(format!("{}.json", v.name));
            if bless {
                fs::create_dir_all(golden_dir()).unwrap();
                fs::write(&golden, &actual).unwrap();
                continue;
            }
            match fs::read_to_string(&golden) {
                Ok(expected) if expected == actual => {}
                Ok(_) => failures.push(format!(
                    "{} differs (scripts/bless rewrites it)",
                    golden.display()
                )),
                Err(e) => failures.push(format!(
                    "{}: {e} (scripts/bless writes it)",
                    golden.display()
                )),
            }
        }
        assert_eq!(
            support::files_in(&golden_dir(), ".json").len(),
            vectors.len(),
            "a golden file per vector, no other"
        );
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn the_vectors_events_are_ipn_s_events_for_the_same_facts() {
        let expected = [
            (
                "PAYMENT.CAPTURE.COMPLETED",
                "payment_completed",
                ResourceKind::Capture,
            ),
            (
                "PAYMENT.SALE.COMPLETED",
                "payment_completed",
                ResourceKind::Sale,
            ),
            (
                "PAYMENT.SALE.REFUNDED",
                "payment_refunded",
                ResourceKind::Refund,
            ),
            (
                "PAYMENT.SALE.REVERSED",
                "payment_reversed",
                ResourceKind::Refund,
            ),
            (
                "BILLING.SUBSCRIPTION.CREATED",
                "subscription_created",
                ResourceKind::Subscription,
            ),
            (
                "BILLING.SUBSCRIPTION.CANCELLED",
                "recurring_profile_cancel",
                ResourceKind::Subscription,
            ),
            (
                "BILLING.SUBSCRIPTION.EXPIRED",
                "recurring_profile_expired",
                ResourceKind::Subscription,
            ),
            (
                "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
                "recurring_payment_failed",
                ResourceKind::Subscription,
            ),
            ("BILLING.PLAN.CREATED", "plan_created", ResourceKind::Plan),
            ("BILLING.PLAN.UPDATED", "plan_updated", ResourceKind::Plan),
        ];
        for v in vectors() {
            let event = WebhookEvent::parse(&v.body).unwrap();
            let (_, code, kind) = expected
                .iter()
                .find(|(t, _, _)| *t == event.event_type)
                .unwrap_or_else(|| panic!("{}: no expectation for {}", v.name, event.event_type));
            assert_eq!(
                (event.event.code(), event.resource.kind),
                (*code, *kind),
                "{}",
                v.name
            );
            assert!(event.id.starts_with("WH-"), "{}", v.name);
            assert_eq!(
                event.json.get("id").and_then(Value::as_str),
                Some(event.id.as_str())
            );
        }
    }

    /// A minimal event of `event_type` around `resource`.
    fn event(event_type: &str, resource: &str) -> WebhookEvent {
        let body = format!(r#"{{"id":"WH-1","event_type":"{event_type}","resource":{resource}}}"#);
        WebhookEvent::parse(body.as_bytes()).unwrap_or_else(|e| panic!("{event_type}: {e}"))
    }

    /// Every row of the table in `ipnkit::webhook::event`'s docs.
    #[test]
    fn the_mapping_table_row_by_row() {
        let capture = r#"{"id":"5O190127TN364715T","status":"COMPLETED","amount":{"currency_code":"USD","value":"100.00"}}"#;
        let rows: &[(&str, &str, &str)] = &[
            ("PAYMENT.CAPTURE.COMPLETED", capture, "payment_completed"),
            (
                "PAYMENT.SALE.COMPLETED",
                r#"{"id":"S1","state":"completed","amount":{"total":"1.00","currency":"USD"}}"#,
                "payment_completed",
            ),
            (
                "PAYMENT.SALE.COMPLETED",
                r#"{"id":"S1","state":"completed","billing_agreement_id":"I-1"}"#,
                "recurring_payment",
            ),
            (
                "PAYMENT.CAPTURE.PENDING",
                r#"{"id":"C1","status":"PENDING","status_details":{"reason":"ECHECK"}}"#,
                "payment_pending",
            ),
            (
                "PAYMENT.SALE.PENDING",
                r#"{"id":"S1","state":"pending","reason_code":"UNILATERAL"}"#,
                "payment_pending",
            ),
            ("PAYMENT.CAPTURE.DENIED", capture, "payment_denied"),
            ("PAYMENT.SALE.DENIED", r#"{"id":"S1"}"#, "payment_denied"),
            ("PAYMENT.CAPTURE.DECLINED", capture, "payment_failed"),
            (
                "PAYMENT.CAPTURE.REFUNDED",
                r#"{"id":"R1","status":"COMPLETED"}"#,
                "payment_refunded",
            ),
            (
                "PAYMENT.SALE.REFUNDED",
                r#"{"id":"R1","sale_id":"S1"}"#,
                "payment_refunded",
            ),
            (
                "PAYMENT.CAPTURE.REVERSED",
                r#"{"id":"R1"}"#,
                "payment_reversed",
            ),
            (
                "PAYMENT.SALE.REVERSED",
                r#"{"id":"R1"}"#,
                "payment_reversed",
            ),
            (
                "PAYMENT.AUTHORIZATION.CREATED",
                r#"{"id":"A1"}"#,
                "authorization_created",
            ),
            (
                "PAYMENT.AUTHORIZATION.VOIDED",
                r#"{"id":"A1"}"#,
                "authorization_voided",
            ),
            (
                "BILLING.SUBSCRIPTION.ACTIVATED",
                r#"{"id":"I-1"}"#,
                "recurring_profile_created",
            ),
            (
                "BILLING.SUBSCRIPTION.CANCELLED",
                r#"{"id":"I-1"}"#,
                "recurring_profile_cancel",
            ),
            (
                "BILLING.SUBSCRIPTION.EXPIRED",
                r#"{"id":"I-1"}"#,
                "recurring_profile_expired",
            ),
            (
                "BILLING.SUBSCRIPTION.SUSPENDED",
                r#"{"id":"I-1"}"#,
                "recurring_profile_suspended",
            ),
            (
                "BILLING.SUBSCRIPTION.PAYMENT.FAILED",
                r#"{"id":"I-1"}"#,
                "recurring_payment_failed",
            ),
            (
                "CUSTOMER.DISPUTE.CREATED",
                r#"{"dispute_id":"PP-D-1"}"#,
                "dispute_opened",
            ),
            (
                "CUSTOMER.DISPUTE.RESOLVED",
                r#"{"dispute_id":"PP-D-1"}"#,
                "dispute_resolved",
            ),
            (
                "CHECKOUT.ORDER.APPROVED",
                r#"{"id":"O1"}"#,
                "order_approved",
            ),
            (
                "CHECKOUT.ORDER.COMPLETED",
                r#"{"id":"O1"}"#,
                "order_completed",
            ),
            (
                "BILLING.SUBSCRIPTION.CREATED",
                r#"{"id":"I-1"}"#,
                "subscription_created",
            ),
            (
                "BILLING.SUBSCRIPTION.UPDATED",
                r#"{"id":"I-1"}"#,
                "subscription_updated",
            ),
            ("BILLING.PLAN.CREATED", r#"{"id":"P-1"}"#, "plan_created"),
            ("BILLING.PLAN.UPDATED", r#"{"id":"P-1"}"#, "plan_updated"),
            (
                "CUSTOMER.DISPUTE.UPDATED",
                r#"{"dispute_id":"PP-D-1"}"#,
                "dispute_updated",
            ),
            ("MERCHANT.ONBOARDING.COMPLETED", r#"{"x":1}"#, "unknown"),
        ];
        for (event_type, resource, code) in rows {
            assert_eq!(
                event(event_type, resource).event.code(),
                *code,
                "{event_type} {resource}"
            );
        }
        // Every webhook-only event has its row.
        for c in EventCode::ALL.iter().filter(|c| c.webhook_only()) {
            assert!(
                rows.iter().any(|(_, _, code)| *code == c.code()),
                "no row for {c}"
            );
        }
        // Pending reasons in IPN's words.
        let reason = |r: &str| match event(
            "PAYMENT.CAPTURE.PENDING",
            &format!(r#"{{"id":"C1","status_details":{{"reason":"{r}"}}}}"#),
        )
        .event
        {
            ipnkit::Event::PaymentPending { reason } => reason.map(|r| r.as_str().to_owned()),
            other => panic!("{other:?}"),
        };
        assert_eq!(reason("ECHECK").as_deref(), Some("echeck"));
        assert_eq!(reason("PENDING_REVIEW").as_deref(), Some("paymentreview"));
        assert_eq!(reason("VERIFICATION_REQUIRED").as_deref(), Some("verify"));
        assert_eq!(
            reason("RECEIVING_PREFERENCE_MANDATES_MANUAL_ACTION").as_deref(),
            Some("RECEIVING_PREFERENCE_MANDATES_MANUAL_ACTION")
        );
    }

    #[test]
    fn money_is_exact_times_are_instants_and_nothing_is_lost() {
        let e = event(
            "PAYMENT.CAPTURE.COMPLETED",
            r#"{"id":"C1","amount":{"currency_code":"JPY","value":"1000"},"create_time":"2024-07-30T10:29:03.071Z",
               "payee":{"merchant_id":"MID1","email_address":"shop@example.com"},"custom_id":"order-7",
               "supplementary_data":{"related_ids":{"order_id":"O1"}},"future_field":{"n":1.0,"big":12345678901234567890}}"#,
        );
        let money = e.resource.amount.unwrap();
        assert_eq!(
            (
                money.amount.to_string().as_str(),
                money.currency.unwrap().as_str()
            ),
            ("1000", "JPY")
        );
        let t = e.resource.create_time.as_ref().unwrap();
        assert_eq!(
            (t.text.as_str(), t.utc.timestamp_millis()),
            ("2024-07-30T10:29:03.071Z", 1_722_335_343_071)
        );
        assert_eq!(e.resource.payee_merchant_id.as_deref(), Some("MID1"));
        assert_eq!(e.resource.payee_email.as_deref(), Some("shop@example.com"));
        assert_eq!(e.resource.custom_id.as_deref(), Some("order-7"));
        assert_eq!(e.resource.order_id.as_deref(), Some("O1"));
        let kept = &e.json["resource"]["future_field"];
        assert_eq!(kept["n"].to_string(), "1.0");
        assert_eq!(kept["big"].to_string(), "12345678901234567890");
        // A v2 refund names its capture in its `up` link.
        let r = event(
            "PAYMENT.CAPTURE.REFUNDED",
            r#"{"id":"R1","links":[{"rel":"self","href":"https://api.paypal.com/v2/payments/refunds/R1"},{"rel":"up","href":"https://api.paypal.com/v2/payments/captures/C1"}]}"#,
        );
        assert_eq!(r.resource.parent_id.as_deref(), Some("C1"));
        let d = event(
            "CUSTOMER.DISPUTE.CREATED",
            r#"{"dispute_id":"PP-D-1","reason":"MERCHANDISE_OR_SERVICE_NOT_RECEIVED","dispute_amount":{"currency_code":"USD","value":"3.00"},"disputed_transactions":[{"seller_transaction_id":"C1"}]}"#,
        );
        assert_eq!(d.resource.id.as_deref(), Some("PP-D-1"));
        assert_eq!(d.resource.disputed_transactions, ["C1"]);
        assert_eq!(d.resource.amount.unwrap().to_string(), "3.00 USD");
    }

    #[test]
    fn bodies_are_read_strictly_and_errors_name_the_field_never_the_value() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            (
                r#"{"id":"WH-1","id":"WH-2","event_type":"X","resource":{}}"#,
                "duplicate_key",
                Some("id"),
            ),
            (
                r#"{"id":"WH-1","event_type":"X","resource":{"amount":{"value":"1","value":"9","currency_code":"USD"}}}"#,
                "duplicate_key",
                Some("resource.amount.value"),
            ),
            (
                r#"{"event_type":"X","resource":{}}"#,
                "invalid_field",
                Some("id"),
            ),
            (
                r#"{"id":"WH-1","resource":{}}"#,
                "invalid_field",
                Some("event_type"),
            ),
            (
                r#"{"id":"WH-1","event_type":"X"}"#,
                "invalid_field",
                Some("resource"),
            ),
            (
                r#"{"id":"WH-1","event_type":"X","resource":[]}"#,
                "invalid_field",
                Some("resource"),
            ),
            (
                r#"{"id":7,"event_type":"X","resource":{}}"#,
                "invalid_field",
                Some("id"),
            ),
            (
                r#"{"id":"WH-1","event_type":"X","resource":{"id":5}}"#,
                "invalid_field",
                Some("resource.id"),
            ),
            ("{\"id\":\"WH-1\",", "invalid_json", None),
        ];
        for (body, code, field) in cases {
            let e = WebhookEvent::parse(body.as_bytes()).unwrap_err();
            assert_eq!((e.code(), e.field()), (*code, *field), "{body}");
            assert!(!e.to_string().contains("secret"), "{e}");
        }
        // Values not of their type are notices, as in IPN: the field `None`, the text kept.
        let notices: &[(&str, &str, &str)] = &[
            (
                r#"{"amount":{"currency_code":"USD","value":10.5}}"#,
                "invalid_amount",
                "resource.amount.value",
            ),
            (
                r#"{"amount":{"currency_code":"USD","value":"1e3"}}"#,
                "invalid_amount",
                "resource.amount.value",
            ),
            (
                r#"{"amount":{"currency_code":"usd!","value":"1.00"}}"#,
                "invalid_currency",
                "resource.amount.currency_code",
            ),
            (
                r#"{"create_time":"2018-19-12T22:20:32.000Z"}"#,
                "invalid_date",
                "resource.create_time",
            ),
        ];
        for (resource, code, field) in notices {
            let e = event("PAYMENT.CAPTURE.COMPLETED", resource);
            assert_eq!(e.notices.len(), 1, "{resource}");
            assert_eq!(
                (e.notices[0].code, e.notices[0].field.as_str()),
                (*code, *field),
                "{resource}"
            );
            assert!(e.resource.amount.is_none() && e.resource.create_time.is_none());
        }
    }
}

/// The same decision as IPN's, on the same delivery keys: a shop receiving both channels acts
/// once per fact.
mod decisions {
    use super::*;
    use ipnkit::host::{Answer, Config, Decision, Notification, Refusal};
    use ipnkit::webhook::{WebhookEvent, decide};
    use ipnkit::{Delivery, Expected, Limits};

    fn config() -> Config {
        Config::from_json(r#"{"environment":"live","receiver_emails":["shop@example.com"],"receiver_ids":["MERCHANT1"]}"#).unwrap()
    }

    fn order(amount: &str, currency: &str) -> Expected {
        Expected::from_json(&format!(
            r#"{{"amount":"{amount}","currency":"{currency}"}}"#
        ))
        .unwrap()
    }

    fn webhook(event_type: &str, resource: &str) -> WebhookEvent {
        let body = format!(
            r#"{{"id":"WH-{}","event_type":"{event_type}","resource":{resource}}}"#,
            event_type.len()
        );
        WebhookEvent::parse(body.as_bytes()).unwrap()
    }

    fn by_webhook(e: &WebhookEvent, expected: &Expected, stored: &[String]) -> Decision {
        decide(WebhookVerdict::Verified, Ok(e), &config(), expected, stored).unwrap()
    }

    fn by_ipn(body: &str, expected: &Expected, stored: &[String]) -> Decision {
        let n = Notification::copy_of(body.as_bytes(), Limits::default()).unwrap();
        let answer = Answer::Http {
            status: 200,
            body: b"VERIFIED",
        };
        n.decide(answer, &config(), expected, stored).unwrap()
    }

    fn key(d: &Decision) -> String {
        d.about().unwrap().delivery_key.clone()
    }

    fn delivery(d: &Decision) -> Option<&Delivery> {
        match d {
            Decision::Act(a) => Some(&a.delivery),
            Decision::Skip(s) => Some(&s.delivery),
            Decision::Retry(_) | Decision::Refuse(_) => None,
        }
    }

    const CAPTURE: &str = r#"{"id":"8MC585209K746392H","status":"COMPLETED","amount":{"currency_code":"USD","value":"100.00"},"payee":{"merchant_id":"MERCHANT1","email_address":"shop@example.com"}}"#;
    const IPN_COMPLETED: &str = "txn_id=8MC585209K746392H&payment_status=Completed&mc_gross=100.00&mc_currency=USD&receiver_email=shop%40example.com&txn_type=express_checkout";

    #[test]
    fn a_capture_told_by_both_channels_is_acted_on_once_in_either_order() {
        let expected = order("100.00", "USD");
        let w = webhook("PAYMENT.CAPTURE.COMPLETED", CAPTURE);
        let first = by_webhook(&w, &expected, &[]);
        assert!(matches!(first, Decision::Act(_)), "{first:?}");
        assert_eq!(key(&first), "txn:8MC585209K746392H:Completed");
        let second = by_ipn(IPN_COMPLETED, &expected, &[key(&first)]);
        assert_eq!(delivery(&second), Some(&Delivery::Duplicate), "{second:?}");
        assert!(matches!(second, Decision::Skip(_)));

        let first = by_ipn(IPN_COMPLETED, &expected, &[]);
        assert!(matches!(first, Decision::Act(_)), "{first:?}");
        let second = by_webhook(&w, &expected, &[key(&first)]);
        assert!(matches!(second, Decision::Skip(_)), "{second:?}");
    }

    #[test]
    fn pending_then_completed_across_channels_is_a_transition() {
        let expected = order("100.00", "USD");
        let pending = webhook(
            "PAYMENT.CAPTURE.PENDING",
            &CAPTURE.replace(
                r#""status":"COMPLETED""#,
                r#""status":"PENDING","status_details":{"reason":"ECHECK"}"#,
            ),
        );
        let d = by_webhook(&pending, &expected, &[]);
        // Pending is not final: refused by the rules, keyed as IPN keys it.
        assert_eq!(key(&d), "txn:8MC585209K746392H:Pending/echeck");
        match &d {
            Decision::Refuse(Refusal::Rules {
                violations, ours, ..
            }) => {
                assert!(ours);
                assert_eq!(violations[0].code.code(), "status_not_final");
                assert_eq!(violations[0].detail, Some("echeck"));
            }
            other => panic!("{other:?}"),
        }
        let ipn_pending = "txn_id=8MC585209K746392H&payment_status=Pending&pending_reason=echeck&mc_gross=100.00&mc_currency=USD&receiver_email=shop%40example.com";
        let n = Notification::copy_of(ipn_pending.as_bytes(), Limits::default()).unwrap();
        assert_eq!(n.delivery_key().unwrap().as_str(), key(&d));

        let completed = by_ipn(IPN_COMPLETED, &expected, &[key(&d)]);
        assert!(
            matches!(delivery(&completed), Some(Delivery::Transition { .. })),
            "{completed:?}"
        );
    }

    const ANY: Expected = Expected::AnyAmount { currency: None };

    #[test]
    fn a_refund_and_a_dispute_have_ipn_s_keys() {
        let refund = webhook(
            "PAYMENT.CAPTURE.REFUNDED",
            r#"{"id":"1JU08902781691411","status":"COMPLETED","amount":{"currency_code":"USD","value":"10.00"},"links":[{"rel":"up","href":"https://api.paypal.com/v2/payments/captures/8MC585209K746392H"}]}"#,
        );
        let ipn = "txn_id=1JU08902781691411&parent_txn_id=8MC585209K746392H&payment_status=Refunded&mc_gross=-10.00&mc_currency=USD&receiver_email=shop%40example.com";
        let d = by_webhook(&refund, &ANY, &[]);
        assert!(matches!(d, Decision::Act(_)), "{d:?}");
        assert_eq!(key(&d), "txn:1JU08902781691411:Refunded");
        assert!(matches!(by_ipn(ipn, &ANY, &[key(&d)]), Decision::Skip(_)));

        let dispute = webhook(
            "CUSTOMER.DISPUTE.CREATED",
            r#"{"dispute_id":"PP-D-4012","dispute_life_cycle_stage":"CHARGEBACK","dispute_channel":"EXTERNAL","dispute_amount":{"currency_code":"USD","value":"100.00"}}"#,
        );
        let d = by_webhook(&dispute, &ANY, &[]);
        assert_eq!(key(&d), "case:PP-D-4012:dispute_opened/chargeback");
        let ipn = "txn_type=new_case&case_id=PP-D-4012&case_type=chargeback&txn_id=8MC585209K746392H&receiver_email=shop%40example.com";
        let n = Notification::copy_of(ipn.as_bytes(), Limits::default()).unwrap();
        assert_eq!(n.delivery_key().unwrap().as_str(), key(&d));
    }

    #[test]
    fn a_redelivered_event_is_a_duplicate() {
        let plan = webhook("BILLING.PLAN.CREATED", r#"{"id":"P-1"}"#);
        let d = by_webhook(&plan, &ANY, &[]);
        assert!(matches!(d, Decision::Act(_)), "{d:?}");
        assert!(key(&d).starts_with("wh:WH-"), "{}", key(&d));
        assert!(matches!(
            by_webhook(&plan, &ANY, &[key(&d)]),
            Decision::Skip(_)
        ));
    }

    #[test]
    fn the_rules_refuse_another_payee_another_amount_and_an_order_not_found() {
        let w = webhook("PAYMENT.CAPTURE.COMPLETED", CAPTURE);
        let rules = |d: Decision| match d {
            Decision::Refuse(Refusal::Rules {
                violations, ours, ..
            }) => (
                violations.iter().map(|v| v.code.code()).collect::<Vec<_>>(),
                ours,
            ),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            rules(by_webhook(&w, &order("99.00", "USD"), &[])),
            (vec!["amount_mismatch"], true)
        );
        assert_eq!(
            rules(by_webhook(&w, &order("100.00", "EUR"), &[])),
            (vec!["currency_mismatch"], true)
        );
        assert_eq!(
            rules(by_webhook(&w, &Expected::NoOrder, &[])),
            (vec!["order_not_found"], true)
        );
        let elsewhere = webhook(
            "PAYMENT.CAPTURE.COMPLETED",
            &CAPTURE.replace("MERCHANT1", "SOMEONE_ELSE"),
        );
        assert_eq!(
            rules(by_webhook(&elsewhere, &order("100.00", "USD"), &[])),
            (vec!["receiver_mismatch"], false)
        );
        match by_webhook(&w, &ANY, &[]) {
            Decision::Act(a) => assert_eq!(a.amount.code(), "not_asked"),
            other => panic!("{other:?}"),
        }
        match by_webhook(&w, &order("100.0", "USD"), &[]) {
            Decision::Act(a) => assert_eq!(a.amount.code(), "matched"),
            other => panic!("{other:?}"),
        }
        let unknown = webhook("MERCHANT.ONBOARDING.COMPLETED", "{}");
        assert_eq!(
            rules(by_webhook(&unknown, &ANY, &[])),
            (vec!["unknown_event"], true)
        );
    }

    #[test]
    fn only_a_verified_readable_webhook_is_decided_on() {
        let w = webhook("PAYMENT.CAPTURE.COMPLETED", CAPTURE);
        let invalid = WebhookVerdict::Invalid(WebhookInvalid::SignatureMismatch);
        let d = decide(invalid, Ok(&w), &config(), &ANY, &[] as &[&str]).unwrap();
        assert!(matches!(d, Decision::Refuse(Refusal::NotVerified)));
        let later = WebhookVerdict::Unexpected(Unexpected::NoAnswer);
        let d = decide(later, Ok(&w), &config(), &ANY, &[] as &[&str]).unwrap();
        assert!(matches!(d, Decision::Retry(_)));
        let e = WebhookEvent::parse(b"{\"id\":1}").unwrap_err();
        let d = decide(
            WebhookVerdict::Verified,
            Err(&e),
            &config(),
            &ANY,
            &[] as &[&str],
        )
        .unwrap();
        assert!(matches!(d, Decision::Refuse(Refusal::Unreadable { .. })));
        let e = decide(
            WebhookVerdict::Verified,
            Ok(&w),
            &config(),
            &ANY,
            &["not a key"],
        )
        .unwrap_err();
        assert_eq!(e.code(), "invalid_delivery_key");
    }

    #[test]
    fn every_shared_vector_is_decided_after_its_verification() {
        for v in vectors() {
            let event = WebhookEvent::parse(&v.body).unwrap();
            let config = Config::from_json(&format!(
                r#"{{"environment":"{}","receiver_emails":["shop@example.com"]}}"#,
                v.environment().as_str()
            ))
            .unwrap();
            let verdict = v.verdict().unwrap();
            let expected = match event.resource.amount {
                Some(m) => Expected::Order {
                    amount: m.amount,
                    currency: m.currency.unwrap(),
                },
                None => ANY,
            };
            let d = decide(verdict, Ok(&event), &config, &expected, &[] as &[&str]).unwrap();
            assert!(matches!(d, Decision::Act(_)), "{}: {d:?}", v.name);
            let again = decide(verdict, Ok(&event), &config, &expected, &[key(&d)]).unwrap();
            assert!(matches!(again, Decision::Skip(_)), "{}: {again:?}", v.name);
        }
    }
}

/// PayPal's `verify-webhook-signature` API: the event's bytes spliced in, the answer read strictly.
mod online {
    use super::*;
    use ipnkit::webhook::WebhookEvent;

    #[test]
    fn the_request_carries_the_event_s_exact_bytes() {
        for v in vectors() {
            let t =
                Transmission::from_request(&v.body, v.headers(), WebhookLimits::default()).unwrap();
            let event = WebhookEvent::parse(&v.body).unwrap();
            let request = v.verifier().online_request(&t, &event).unwrap();
            assert!(
                request
                    .url
                    .ends_with("/v1/notifications/verify-webhook-signature")
            );
            assert_eq!(
                request.url.contains("sandbox"),
                v.environment() == Environment::Sandbox
            );
            assert!(
                request.body.ends_with(&[&v.body[..], b"}"].concat()),
                "{}",
                v.name
            );
            let json: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(json["webhook_id"], v.facts["webhook_id"]);
            assert_eq!(json["transmission_sig"], v.facts["transmission_sig"]);
            assert_eq!(json["auth_algo"], "SHA256withRSA");
            assert_eq!(
                json["webhook_event"]["id"],
                serde_json::from_slice::<Value>(&v.body).unwrap()["id"]
            );
        }
        // `1.0` stays `1.0` (the Node SDK re-serialised it to `1`), key order and spacing kept.
        let v = vectors().into_iter().next().unwrap();
        let body = br#"{ "id":"WH-1", "event_type":"X", "resource":{"future":1.0} }"#;
        let t = Transmission::from_request(body, v.headers(), WebhookLimits::default()).unwrap();
        let event = WebhookEvent::parse(body).unwrap();
        let request = v.verifier().online_request(&t, &event).unwrap();
        assert!(request.body.ends_with(
            br#""webhook_event":{ "id":"WH-1", "event_type":"X", "resource":{"future":1.0} }}"#
        ));
        let sha1 = set(&v.headers(), "PAYPAL-AUTH-ALGO", "SHA1withRSA");
        let t = Transmission::from_request(body, sha1, WebhookLimits::default()).unwrap();
        assert_eq!(
            v.verifier().online_request(&t, &event),
            Err(WebhookInvalid::UnsupportedAlgorithm)
        );
    }

    #[test]
    fn the_answer_is_read_strictly() {
        let verifier = WebhookVerifier::new(Environment::Live, "WH").unwrap();
        let cases: &[(u16, &[u8], WebhookVerdict)] = &[
            (
                200,
                br#"{"verification_status":"SUCCESS"}"#,
                WebhookVerdict::Verified,
            ),
            (
                200,
                b" {\"verification_status\" : \"SUCCESS\"}\n",
                WebhookVerdict::Verified,
            ),
            (
                200,
                br#"{"verification_status":"FAILURE"}"#,
                WebhookVerdict::Invalid(WebhookInvalid::OnlineFailure),
            ),
            (
                200,
                br#"{"verification_status":"success"}"#,
                WebhookVerdict::Unexpected(Unexpected::UnrecognizedBody),
            ),
            (
                200,
                br#"{"verification_status":"FAILURE","verification_status":"SUCCESS"}"#,
                WebhookVerdict::Unexpected(Unexpected::UnrecognizedBody),
            ),
            (
                200,
                br#"{"status":"SUCCESS"}"#,
                WebhookVerdict::Unexpected(Unexpected::UnrecognizedBody),
            ),
            (
                200,
                b"SUCCESS",
                WebhookVerdict::Unexpected(Unexpected::UnrecognizedBody),
            ),
            (
                200,
                b"<html>SUCCESS</html>",
                WebhookVerdict::Unexpected(Unexpected::UnrecognizedBody),
            ),
            (200, b"", WebhookVerdict::Unexpected(Unexpected::EmptyBody)),
            (
                401,
                br#"{"verification_status":"SUCCESS"}"#,
                WebhookVerdict::Unexpected(Unexpected::HttpStatus(401)),
            ),
            (
                500,
                b"",
                WebhookVerdict::Unexpected(Unexpected::HttpStatus(500)),
            ),
        ];
        for (status, body, verdict) in cases {
            assert_eq!(
                verifier.online_verdict(*status, body),
                *verdict,
                "{status} {}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
