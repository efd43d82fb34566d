//! PayPal REST webhooks over the 19 signed deliveries of `../shared/webhooks` (or
//! `$IPNKIT_WEBHOOKS`), one iteration = the whole set, each verified at its transmission time
//! (the Java SDK test's placeholder certificate URL replaced by one of PayPal's form: the URL is
//! not signed).
//!
//! - `verify_cached`: `Transmission::from_request` + `WebhookVerifier::verify` with the
//!   certificate read once per URL, as a host with a certificate cache runs it: the headers, the
//!   URL, the chain to DigiCert's root at the transmission time, the name, RSA-SHA256.
//! - `verify_uncached`: the same, the certificate read from its PEM every time.
//! - `parse`: `WebhookEvent::parse`: strict JSON, the typed resource, the event.
//! - `verify_cached_and_parse`: both, what a listener does per webhook.
//!
//! `scripts/bench-webhooks` runs this and `bindings-node/bench/webhook.mjs` (Node's
//! `crypto.verify` + `zlib.crc32` + `JSON.parse` on the same deliveries) and prints the ratios.

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ipnkit::Environment;
use ipnkit::webhook::{
    Certificate, Transmission, WebhookEvent, WebhookLimits, WebhookVerdict, WebhookVerifier,
};
use serde_json::Value;

#[path = "../tests/support/mod.rs"]
mod support;

struct Delivery {
    body: Vec<u8>,
    headers: Vec<(String, String)>,
    pem: Vec<u8>,
    verifier: WebhookVerifier,
    at: i64,
}

fn deliveries() -> Vec<Delivery> {
    let dir = support::webhooks_dir();
    let out: Vec<Delivery> = support::files_in(&dir, ".json")
        .iter()
        .map(|path| {
            let facts: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            let s = |k: &str| facts[k].as_str().unwrap().to_owned();
            let mut url = s("cert_url");
            if url.ends_with("/v1/notifications/test") {
                url =
                    "https://api.sandbox.paypal.com/v1/notifications/certs/CERT-placeholder".into();
            }
            let environment = if url.contains(".sandbox.") {
                Environment::Sandbox
            } else {
                Environment::Live
            };
            let at = chrono::DateTime::parse_from_rfc3339(&s("transmission_time"))
                .unwrap()
                .timestamp();
            Delivery {
                body: std::fs::read(dir.join(s("body_file"))).unwrap(),
                pem: std::fs::read(dir.join(s("cert_file"))).unwrap(),
                verifier: WebhookVerifier::new(environment, &s("webhook_id")).unwrap(),
                headers: vec![
                    ("PAYPAL-TRANSMISSION-ID".into(), s("transmission_id")),
                    ("PAYPAL-TRANSMISSION-TIME".into(), s("transmission_time")),
                    ("PAYPAL-TRANSMISSION-SIG".into(), s("transmission_sig")),
                    ("PAYPAL-CERT-URL".into(), url),
                    ("PAYPAL-AUTH-ALGO".into(), s("auth_algo")),
                ],
                at,
            }
        })
        .collect();
    assert_eq!(out.len(), 19);
    out
}

fn verify(d: &Delivery, certificate: Option<&Certificate>) -> WebhookVerdict {
    let t = Transmission::from_request(
        &d.body,
        d.headers.iter().map(|(n, v)| (n, v)),
        WebhookLimits::default(),
    )
    .unwrap();
    let request = d.verifier.certificate_request(&t).unwrap();
    let read;
    let certificate = match certificate {
        Some(c) => c,
        None => {
            read = Certificate::from_response(&request, 200, &d.pem).unwrap();
            &read
        }
    };
    d.verifier.verify(&t, certificate, d.at)
}

fn bench(c: &mut Criterion) {
    let set = deliveries();
    let cached: Vec<Certificate> = set
        .iter()
        .map(|d| {
            let t = Transmission::from_request(
                &d.body,
                d.headers.iter().map(|(n, v)| (n, v)),
                WebhookLimits::default(),
            )
            .unwrap();
            let request = d.verifier.certificate_request(&t).unwrap();
            Certificate::from_response(&request, 200, &d.pem).unwrap()
        })
        .collect();
    for (d, c) in set.iter().zip(&cached) {
        assert_eq!(verify(d, Some(c)), WebhookVerdict::Verified);
    }
    let mut g = c.benchmark_group("webhook");
    g.bench_function("verify_cached", |b| {
        b.iter(|| {
            for (d, c) in set.iter().zip(&cached) {
                black_box(verify(d, Some(c)));
            }
        });
    });
    g.bench_function("verify_uncached", |b| {
        b.iter(|| {
            for d in &set {
                black_box(verify(d, None));
            }
        });
    });
    g.bench_function("parse", |b| {
        b.iter(|| {
            for d in &set {
                black_box(WebhookEvent::parse(&d.body).unwrap());
            }
        });
    });
    g.bench_function("verify_cached_and_parse", |b| {
        b.iter(|| {
            for (d, c) in set.iter().zip(&cached) {
                black_box(verify(d, Some(c)));
                black_box(WebhookEvent::parse(&d.body).unwrap());
            }
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
