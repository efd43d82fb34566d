//! Signed event delivery: how an application trusts an event the reference listener POSTs to it.
//!
//! The listener signs each event it POSTs with a secret it shares with the application, in the
//! header [`HEADER`]: `t=<unix seconds>,v1=<hex HMAC-SHA256>`, the MAC taken over the timestamp,
//! a `.`, and the body, byte for byte. The application recomputes it with the same secret and
//! refuses the event when the MAC differs or the timestamp is too old (a replay). Any language
//! with HMAC-SHA256 can check it (PHP: `hash_hmac('sha256', $t . '.' . $body, $secret)` and
//! `hash_equals`); [`verify`] is the check in Rust.
//!
//! ```
//! use ipnkit::signature::{Secret, sign, verify};
//! let secret = Secret::new(b"a shared secret")?;
//! let body = br#"{"id":7,"event":"payment_completed"}"#;
//! let header = sign(&secret, 1_700_000_000, body);
//! assert!(header.starts_with("t=1700000000,v1="));
//! assert_eq!(verify(&secret, &header, body, 1_700_000_030, 300), Ok(()));
//! assert!(verify(&Secret::new(b"another secret")?, &header, body, 1_700_000_030, 300).is_err());
//! assert!(verify(&secret, &header, body, 1_700_001_000, 300).is_err());
//! # Ok::<(), ipnkit::signature::SignatureError>(())
//! ```

use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header that carries the signature.
pub const HEADER: &str = "Ipnkit-Signature";

/// Why a signature is refused: a stable code each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.code())]
pub enum SignatureError {
    /// The header is not `t=<seconds>,v1=<64 hex digits>`.
    Malformed,
    /// The MAC does not match: another secret, or a body changed on the way.
    Mismatch,
    /// The timestamp is further from now than the tolerance: a replay, or a clock far off.
    Expired,
    /// The shared secret is empty: anyone could sign.
    EmptySecret,
}

impl SignatureError {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            SignatureError::Malformed => "signature_malformed",
            SignatureError::Mismatch => "signature_mismatch",
            SignatureError::Expired => "signature_expired",
            SignatureError::EmptySecret => "signature_secret_empty",
        }
    }
}

/// A shared secret, ready to sign with. Not empty.
#[derive(Clone)]
pub struct Secret(Hmac<Sha256>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Secret {
    /// The secret's bytes (any length but zero).
    pub fn new(secret: &[u8]) -> Result<Secret, SignatureError> {
        if secret.is_empty() {
            return Err(SignatureError::EmptySecret);
        }
        Hmac::<Sha256>::new_from_slice(secret)
            .map(Secret)
            .map_err(|_| SignatureError::EmptySecret)
    }

    fn mac(&self, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = self.0.clone();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// The header value signing `body` at `timestamp` (Unix seconds) with `secret`.
pub fn sign(secret: &Secret, timestamp: i64, body: &[u8]) -> String {
    let tag = secret.mac(timestamp, body).finalize().into_bytes();
    let mut header = format!("t={timestamp},v1=");
    for byte in tag {
        // Two lowercase hex digits a byte.
        let _ = write!(header, "{byte:02x}");
    }
    header
}

/// Checks `header` against `body` and `secret`, with the timestamp at most `tolerance` seconds
/// from `now` (Unix seconds). The MAC is compared in constant time.
pub fn verify(
    secret: &Secret,
    header: &str,
    body: &[u8],
    now: i64,
    tolerance: u32,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut tag = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) if timestamp.is_none() => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) if tag.is_none() => tag = unhex(v),
            _ => return Err(SignatureError::Malformed),
        }
    }
    let (Some(timestamp), Some(tag)) = (timestamp, tag) else {
        return Err(SignatureError::Malformed);
    };
    secret
        .mac(timestamp, body)
        .verify_slice(&tag)
        .map_err(|_| SignatureError::Mismatch)?;
    if now.abs_diff(timestamp) > u64::from(tolerance) {
        return Err(SignatureError::Expired);
    }
    Ok(())
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    let digit = |c: u8| {
        char::from(c)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| match pair {
            [hi, lo] => Some(digit(*hi)? << 4 | digit(*lo)?),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_known_vector() {
        // HMAC-SHA256("key", "1.{}") computed independently (Python's hmac module).
        let header = sign(&Secret::new(b"key").unwrap(), 1, b"{}");
        assert_eq!(
            header,
            "t=1,v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }

    #[test]
    fn refusals() {
        let s = &Secret::new(b"s").unwrap();
        assert_eq!(Secret::new(b"").err(), Some(SignatureError::EmptySecret));
        let header = sign(s, 100, b"body");
        assert_eq!(verify(s, &header, b"body", 100, 0), Ok(()));
        assert_eq!(
            verify(s, &header, b"body!", 100, 0),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(s, &header, b"body", 101, 0),
            Err(SignatureError::Expired)
        );
        assert_eq!(verify(s, &header, b"body", 99, 1), Ok(()));
        for bad in [
            "",
            "t=100",
            "v1=00",
            "t=x,v1=00",
            "t=100,v1=zz",
            &format!("{header},t=1"),
        ] {
            assert_eq!(
                verify(s, bad, b"body", 100, 10),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        // A tampered timestamp changes the MAC.
        let moved = header.replacen("t=100", "t=101", 1);
        assert_eq!(
            verify(s, &moved, b"body", 101, 10),
            Err(SignatureError::Mismatch)
        );
    }
}
