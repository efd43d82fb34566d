//! The certificate URL, judged before anything is fetched.
//!
//! The only URLs accepted are `https://HOST/v1/notifications/certs/CERT-…` with `HOST` one of the
//! configured environment's API hosts, written exactly (lowercase, no trailing dot), and the
//! certificate id made of ASCII letters, digits and `-`. Nothing is normalised: a URL that would
//! mean the same after percent-decoding, IDNA or case folding is refused, because the host's
//! HTTP client might not read it the way this check did.

use crate::verify::Environment;

use super::WebhookInvalid;

/// PayPal's certificate path, before the certificate's id.
pub const CERT_PATH: &str = "/v1/notifications/certs/";

/// The longest certificate id accepted (PayPal's are `CERT-` and 26 more characters).
const MAX_CERT_ID: usize = 128;

/// The API hosts PayPal serves webhook certificates from, per environment.
pub fn cert_hosts(environment: Environment) -> &'static [&'static str] {
    match environment {
        Environment::Live => &["api.paypal.com", "api-m.paypal.com"],
        Environment::Sandbox => &["api.sandbox.paypal.com", "api-m.sandbox.paypal.com"],
    }
}

/// Judges a certificate URL for `environment` (and, for tests, a stand-in's base URL): `Ok` when
/// it may be fetched, or why it is refused.
pub(super) fn judge(
    url: &str,
    environment: Environment,
    test_base: Option<&str>,
) -> Result<(), WebhookInvalid> {
    if let Some(id) = test_base
        .and_then(|base| url.strip_prefix(base))
        .and_then(|rest| rest.strip_prefix(CERT_PATH))
    {
        return cert_id(id);
    }
    let rest = url
        .strip_prefix("https://")
        .ok_or(WebhookInvalid::CertUrlForm)?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    // User info, a port, an escape or anything outside lowercase host characters is a form
    // this check does not read the way every HTTP client would.
    if !authority
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(WebhookInvalid::CertUrlForm);
    }
    if !cert_hosts(environment).contains(&authority) {
        return Err(WebhookInvalid::CertUrlHost);
    }
    if tail.contains(['?', '#', '%', '\\']) {
        return Err(WebhookInvalid::CertUrlForm);
    }
    let id = tail
        .strip_prefix(CERT_PATH)
        .ok_or(WebhookInvalid::CertUrlPath)?;
    cert_id(id)
}

/// A certificate's id: `CERT-` and ASCII letters, digits and `-`, at most 128 bytes.
fn cert_id(id: &str) -> Result<(), WebhookInvalid> {
    let well_formed = id.starts_with("CERT-")
        && id.len() <= MAX_CERT_ID
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if well_formed {
        Ok(())
    } else {
        Err(WebhookInvalid::CertUrlPath)
    }
}

/// Whether `base` is a stand-in's base URL: `http://` or `https://`, a host of lowercase
/// letters, digits, `.` and `-` (or `127.0.0.1`, `[::1]`), an optional port, nothing else.
pub(super) fn is_test_base(base: &str) -> bool {
    let Some(authority) = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"))
    else {
        return false;
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(':') => (host, Some(port)),
        _ => (authority, None),
    };
    let host_ok = host == "[::1]"
        || (!host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-'));
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stand_in_s_base_url_takes_its_certificates_and_nothing_else() {
        let base = Some("http://127.0.0.1:8081");
        let local = "http://127.0.0.1:8081/v1/notifications/certs/CERT-ipnkit-sandbox";
        assert_eq!(judge(local, Environment::Sandbox, base), Ok(()));
        assert_eq!(
            judge(local, Environment::Sandbox, None),
            Err(WebhookInvalid::CertUrlForm)
        );
        for other in [
            "http://127.0.0.1:8082/v1/notifications/certs/CERT-ipnkit-sandbox",
            "http://127.0.0.1:8081/v1/notifications/certs/../x",
            "http://127.0.0.1:8081/elsewhere",
        ] {
            assert!(judge(other, Environment::Sandbox, base).is_err(), "{other}");
        }
        // PayPal's own URLs still pass beside it.
        let sandbox = GOOD.replace("api.paypal", "api.sandbox.paypal");
        assert_eq!(judge(&sandbox, Environment::Sandbox, base), Ok(()));
        for ok in [
            "http://127.0.0.1:8081",
            "https://localhost",
            "http://[::1]:9000",
            "http://sandbox.test:1",
        ] {
            assert!(is_test_base(ok), "{ok}");
        }
        for bad in [
            "",
            "127.0.0.1:8081",
            "ftp://x",
            "http://",
            "http://a/b",
            "http://user@a",
            "http://a:",
            "http://a:123456",
            "http://A",
        ] {
            assert!(!is_test_base(bad), "{bad}");
        }
    }

    const GOOD: &str =
        "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb";

    #[test]
    fn paypal_s_own_urls_are_accepted_in_their_environment_only() {
        assert_eq!(judge(GOOD, Environment::Live, None), Ok(()));
        let m = GOOD.replace("api.", "api-m.");
        assert_eq!(judge(&m, Environment::Live, None), Ok(()));
        let sandbox = GOOD.replace("api.paypal", "api.sandbox.paypal");
        assert_eq!(judge(&sandbox, Environment::Sandbox, None), Ok(()));
        assert_eq!(
            judge(&sandbox, Environment::Live, None),
            Err(WebhookInvalid::CertUrlHost)
        );
        assert_eq!(
            judge(GOOD, Environment::Sandbox, None),
            Err(WebhookInvalid::CertUrlHost)
        );
    }

    #[test]
    fn every_lookalike_is_refused_with_what_is_wrong() {
        use WebhookInvalid::{CertUrlForm as Form, CertUrlHost as Host, CertUrlPath as Path};
        let id = "/v1/notifications/certs/CERT-360caa42-fca2a594-1a5f47cb";
        let cases: &[(String, WebhookInvalid)] = &[
            (format!("http://api.paypal.com{id}"), Form),
            (format!("HTTPS://api.paypal.com{id}"), Form),
            (format!("https://API.PAYPAL.COM{id}"), Form),
            (format!("https://api.paypal.com.evil{id}"), Host),
            (format!("https://api.paypal.com.{id}"), Host),
            (format!("https://evil.com{id}"), Host),
            (format!("https://api.paypal.co{id}"), Host),
            (format!("https://xn--pypal-4ve.com{id}"), Host),
            (format!("https://apі.paypal.com{id}"), Form), // Cyrillic і
            (format!("https://api.paypal%2ecom{id}"), Form),
            (format!("https://api%2epaypal.com{id}"), Form),
            (format!("https://evil@api.paypal.com{id}"), Form),
            (format!("https://api.paypal.com@evil.com{id}"), Form),
            (format!("https://api.paypal.com:443{id}"), Form),
            (format!("https://api.paypal.com:8443{id}"), Form),
            (format!("https://api.paypal.com{id}?x=1"), Form),
            (format!("https://api.paypal.com{id}#x"), Form),
            (format!("https://api.paypal.com{id}%2f..%2fx"), Form),
            (format!("https://api.paypal.com\\{id}"), Form),
            (
                "https://api.paypal.com/v1/notifications/test".to_owned(),
                Path,
            ),
            (
                "https://api.paypal.com/v1/notifications/certs/".to_owned(),
                Path,
            ),
            (
                "https://api.paypal.com/v1/notifications/certs/CERT-a/../b".to_owned(),
                Path,
            ),
            (
                "https://api.paypal.com/v1/notifications/certs/x".to_owned(),
                Path,
            ),
            (
                "https://api.paypal.com/V1/notifications/certs/CERT-a".to_owned(),
                Path,
            ),
            (format!("https://api.paypal.com/{id}"), Path),
            ("https://api.paypal.com".to_owned(), Path),
            (
                format!(
                    "https://api.paypal.com{}",
                    "/v1/notifications/certs/CERT-".to_owned() + &"a".repeat(200)
                ),
                Path,
            ),
            ("".to_owned(), Form),
            (format!(" https://api.paypal.com{id}"), Form),
        ];
        for (url, why) in cases {
            assert_eq!(judge(url, Environment::Live, None), Err(*why), "{url}");
        }
    }
}
