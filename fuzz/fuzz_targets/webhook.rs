//! A webhook's headers, body and certificate, arbitrary: never a panic, never `Verified` for
//! anything but PayPal's own bytes. One real delivery (from `../shared/webhooks`) is verified
//! with the fuzzed body, and must verify exactly when the body is the one PayPal signed.
#![no_main]

use ipnkit::Environment;
use ipnkit::webhook::{
    Certificate, Transmission, WebhookEvent, WebhookLimits, WebhookVerdict, WebhookVerifier,
};
use libfuzzer_sys::fuzz_target;

const BODY: &[u8] =
    include_bytes!("../../../shared/webhooks/paypal2_2024-07-30_payment-sale-refunded.body");
const PEM: &[u8] =
    include_bytes!("../../../shared/webhooks/paypal2_2024-07-30_payment-sale-refunded.pem");
/// Its headers (`NAME.json` in `../shared/webhooks`).
const HEADERS: [(&str, &str); 5] = [
    (
        "PAYPAL-TRANSMISSION-ID",
        "5e7ee590-4e8b-11ef-bc13-fd5b69793a44",
    ),
    ("PAYPAL-TRANSMISSION-TIME", "2024-07-30T15:49:56Z"),
    (
        "PAYPAL-TRANSMISSION-SIG",
        "UEbqoqrTs2SgWwaNF1IJbbDDfJmwWKw3Cj0DC40eI5RQOWbRlEivkOzjke8U50MUckFDvGLIBRKWJxfE8jGYNv2roaRgM4EMwlyT+2lOOVFbkFc6O7xwr5QcYWGOPK2PQ4ZuGl3VOmjNdOUcLxt2A0l8tktXWeMP3rY5Fh4+UqhfqoX0RTjKUkBZDHZxt+jzr43v0+Oe6c8Yp8s2aGaSgUCNXO5b5tcDlxhI2DNzysndnQfolzHuyAVo4K7u9PNbwJg835T2ne7bzUNB6QvgzP3Y7CcyR9w3sqjpn87dF9wEATDr2tj34ASIAOere1RSowrp91k8b6chcOSKtVCcUg==",
    ),
    (
        "PAYPAL-CERT-URL",
        "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb",
    ),
    ("PAYPAL-AUTH-ALGO", "SHA256withRSA"),
];
/// Its transmission time, as Unix seconds.
const AT: i64 = 1_722_354_596;

fn verdict(
    body: &[u8],
    headers: &[(&[u8], &[u8])],
    cert: &[u8],
    at: i64,
) -> Option<(WebhookVerdict, Vec<u8>)> {
    let verifier = WebhookVerifier::new(Environment::Live, "WEBHOOK_ID").ok()?;
    let t =
        Transmission::from_request(body, headers.iter().copied(), WebhookLimits::default()).ok()?;
    let request = verifier.certificate_request(&t).ok()?;
    let certificate = Certificate::from_response(&request, 200, cert).ok()?;
    Some((
        verifier.verify(&t, &certificate, at),
        certificate.der().to_vec(),
    ))
}

fn real_headers() -> Vec<(&'static [u8], &'static [u8])> {
    HEADERS
        .iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect()
}

fuzz_target!(|input: (Vec<(Vec<u8>, Vec<u8>)>, &[u8], Vec<u8>, i64)| {
    let (headers, body, cert, at) = input;
    let _ = WebhookEvent::parse(body);
    let real = real_headers();
    let (_, paypal_leaf) = verdict(BODY, &real, PEM, AT).expect("PayPal's delivery is read");
    // Everything arbitrary: a certificate that is not PayPal's never verifies.
    let fuzzed: Vec<(&[u8], &[u8])> = headers
        .iter()
        .map(|(n, v)| (n.as_slice(), v.as_slice()))
        .collect();
    if let Some((v, der)) = verdict(body, &fuzzed, &cert, at) {
        assert!(
            !v.is_verified() || der == paypal_leaf,
            "verified with a certificate that is not PayPal's"
        );
    }
    // PayPal's delivery with the fuzzed body: verified exactly when the body is PayPal's.
    let (v, _) = verdict(body, &real, PEM, AT).expect("PayPal's headers and certificate are read");
    assert_eq!(v.is_verified(), body == BODY, "{v:?}");
    // At a fuzzed time: never verified outside the replay window.
    if let Some((v, _)) = verdict(BODY, &real, PEM, at) {
        if v.is_verified() {
            assert!(at.abs_diff(AT) <= 3 * 24 * 3600, "verified at {at}");
        }
    }
});
