//! PayPal's verification protocol, without I/O.
//!
//! The host builds a [`VerificationRequest`] for the environment *it is configured for* (never one
//! read from the message), executes it with any HTTP client, and hands the status and response
//! bytes to [`Verdict::from_response`]:
//!
//! ```
//! use ipnkit::{Body, Environment, Verdict};
//!
//! let body = Body::parse(b"txn_id=61E67681CH3238416&payment_status=Completed")?;
//! let request = Environment::Sandbox.verification_request(&body);
//! assert_eq!(request.url, "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr");
//! assert!(request.body.starts_with(b"cmd=_notify-validate&txn_id="));
//!
//! // ... the host POSTs `request` and reads the answer ...
//! assert_eq!(Verdict::from_response(200, b"VERIFIED"), Verdict::Verified);
//! assert!(Verdict::from_response(200, b"<html>VERIFIED</html>").is_unexpected());
//! # Ok::<(), ipnkit::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::body::Body;
use crate::codes::codes;
use crate::error::Error;

/// Where verification postbacks go. Chosen by the host's configuration only: a message's own
/// `test_ipn` never switches it (a sandbox message verifies as genuine at the sandbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// PayPal's live site.
    Live,
    /// PayPal's sandbox.
    Sandbox,
}

impl Environment {
    /// The verification endpoint of this environment.
    pub fn endpoint(self) -> &'static str {
        match self {
            Environment::Live => "https://ipnpb.paypal.com/cgi-bin/webscr",
            Environment::Sandbox => "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr",
        }
    }

    /// The lowercase name, `live` or `sandbox`.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Live => "live",
            Environment::Sandbox => "sandbox",
        }
    }

    /// The request that verifies `body` in this environment.
    pub fn verification_request(self, body: &Body<'_>) -> VerificationRequest {
        Verifier::new(self).request(body)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = Error;

    /// Parses `live` or `sandbox` (ASCII case-insensitive).
    fn from_str(s: &str) -> Result<Self, Error> {
        if s.eq_ignore_ascii_case("live") {
            Ok(Environment::Live)
        } else if s.eq_ignore_ascii_case("sandbox") {
            Ok(Environment::Sandbox)
        } else {
            Err(Error::UnknownEnvironment)
        }
    }
}

/// The `Content-Type` of a postback.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The `User-Agent` of a postback: this library and its version. PayPal refuses some requests
/// without one.
pub const USER_AGENT: &str = concat!(
    "ipnkit/",
    env!("CARGO_PKG_VERSION"),
    " (PayPal IPN listener)"
);

/// Where postbacks go: the configured environment's endpoint, or — only when the host asks, for
/// tests against a local stand-in such as `ipnkit sandbox` — another base URL.
///
/// ```
/// use ipnkit::{Body, Environment, Verifier};
/// let body = Body::parse(b"txn_id=1&test_ipn=1")?;
/// let live = Verifier::new(Environment::Live);
/// assert_eq!(live.request(&body).url, "https://ipnpb.paypal.com/cgi-bin/webscr");
/// let local = Verifier::new(Environment::Sandbox).with_base_url_for_testing("http://127.0.0.1:8081/");
/// assert_eq!(local.request(&body).url, "http://127.0.0.1:8081/cgi-bin/webscr");
/// # Ok::<(), ipnkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    environment: Environment,
    base_url: Option<String>,
}

impl Verifier {
    /// Postbacks to `environment`'s endpoint.
    pub fn new(environment: Environment) -> Verifier {
        Verifier {
            environment,
            base_url: None,
        }
    }

    /// Sends postbacks to `base_url` + `/cgi-bin/webscr` instead of PayPal: for tests only. The
    /// environment still decides the policy (a stand-in plays the sandbox).
    pub fn with_base_url_for_testing(mut self, base_url: impl Into<String>) -> Verifier {
        self.base_url = Some(base_url.into().trim_end_matches('/').to_owned());
        self
    }

    /// The configured environment.
    pub fn environment(&self) -> Environment {
        self.environment
    }

    /// Whether postbacks go somewhere other than PayPal.
    pub fn is_overridden(&self) -> bool {
        self.base_url.is_some()
    }

    /// The request that verifies `body`.
    pub fn request(&self, body: &Body<'_>) -> VerificationRequest {
        let url = match &self.base_url {
            Some(base) => format!("{base}/cgi-bin/webscr"),
            None => self.environment.endpoint().to_owned(),
        };
        VerificationRequest {
            method: "POST",
            url,
            headers: vec![("Content-Type", CONTENT_TYPE), ("User-Agent", USER_AGENT)],
            body: body.postback(),
        }
    }
}

/// An HTTP request any client can execute: the verification postback.
///
/// The client adds `Content-Length` itself; the body must be sent exactly as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationRequest {
    /// Always `POST`.
    pub method: &'static str,
    /// The endpoint: the environment's, unless a test overrode it ([`Verifier`]).
    pub url: String,
    /// `Content-Type` and `User-Agent`, in that order.
    pub headers: Vec<(&'static str, &'static str)>,
    /// `cmd=_notify-validate&` followed by the original body, byte for byte.
    pub body: Vec<u8>,
}

/// What PayPal's answer to a postback means. Serializes as data:
/// `{"kind": "unexpected", "reason": "http_status"}` (`reason` is `null` unless unexpected).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// HTTP 200 and a body that is exactly `VERIFIED`: PayPal sent this message.
    Verified,
    /// HTTP 200 and a body that is exactly `INVALID`: PayPal did not send these bytes. Do not act;
    /// log it (an attack, or a listener that altered the body).
    Invalid,
    /// Anything else: PayPal's answer could not be read. Never trusted; post back again later.
    Unexpected(Unexpected),
}

/// Why an answer was [`Verdict::Unexpected`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unexpected {
    /// The HTTP status was not 200 (a 5xx, a redirect, a 4xx…).
    HttpStatus(u16),
    /// Status 200 with an empty (or all-whitespace) body.
    EmptyBody,
    /// Status 200 with a body that is neither `VERIFIED` nor `INVALID` (an HTML error page,
    /// `VERIFIED` inside other text, another case…). The body is not kept: log its length only.
    UnrecognizedBody,
    /// An answer whose body could not be read whole (cut short, or over the host's cap).
    BodyUnread,
    /// No answer at all: a timeout, a refused or dropped connection, a TLS failure. The host's
    /// HTTP client knows; it says so with [`Verdict::no_answer`].
    NoAnswer,
}

codes! {
    /// Why an answer was unexpected, without the status ([`Unexpected::reason`]).
    pub enum UnexpectedReason / UNEXPECTED_CODES {
        /// [`Unexpected::HttpStatus`].
        HttpStatus = "http_status",
        /// [`Unexpected::EmptyBody`].
        EmptyBody = "empty_body",
        /// [`Unexpected::UnrecognizedBody`].
        UnrecognizedBody = "unrecognized_body",
        /// [`Unexpected::BodyUnread`].
        BodyUnread = "body_unread",
        /// [`Unexpected::NoAnswer`].
        NoAnswer = "no_answer",
    }
}

codes! {
    /// The kind of a [`Verdict`] ([`Verdict::kind`]).
    pub enum VerdictKind / VERDICT_CODES {
        /// [`Verdict::Verified`].
        Verified = "verified",
        /// [`Verdict::Invalid`].
        Invalid = "invalid",
        /// [`Verdict::Unexpected`].
        Unexpected = "unexpected",
    }
}

impl Unexpected {
    /// The reason, as its enum.
    pub fn reason(self) -> UnexpectedReason {
        match self {
            Unexpected::HttpStatus(_) => UnexpectedReason::HttpStatus,
            Unexpected::EmptyBody => UnexpectedReason::EmptyBody,
            Unexpected::UnrecognizedBody => UnexpectedReason::UnrecognizedBody,
            Unexpected::BodyUnread => UnexpectedReason::BodyUnread,
            Unexpected::NoAnswer => UnexpectedReason::NoAnswer,
        }
    }

    /// A stable snake_case code: `http_status`, `empty_body`, `unrecognized_body`,
    /// `body_unread` or `no_answer`.
    pub fn code(self) -> &'static str {
        self.reason().code()
    }
}

impl Verdict {
    /// Classifies PayPal's answer to a postback.
    ///
    /// `Verified` needs status 200 and a body that is `VERIFIED` once surrounding ASCII whitespace
    /// is removed; `Invalid` likewise with `INVALID`. Everything else is `Unexpected`.
    pub fn from_response(status: u16, body: &[u8]) -> Verdict {
        if status != 200 {
            return Verdict::Unexpected(Unexpected::HttpStatus(status));
        }
        match body.trim_ascii() {
            b"VERIFIED" => Verdict::Verified,
            b"INVALID" => Verdict::Invalid,
            b"" => Verdict::Unexpected(Unexpected::EmptyBody),
            _ => Verdict::Unexpected(Unexpected::UnrecognizedBody),
        }
    }

    /// The verdict when the answer's body could not be read whole: the status, if it is not
    /// 200, else [`Unexpected::BodyUnread`].
    pub fn from_unread_body(status: u16) -> Verdict {
        if status != 200 {
            return Verdict::Unexpected(Unexpected::HttpStatus(status));
        }
        Verdict::Unexpected(Unexpected::BodyUnread)
    }

    /// The verdict when the postback got no HTTP answer at all (timeout, connection refused or
    /// dropped): unexpected, to retry later.
    pub fn no_answer() -> Verdict {
        Verdict::Unexpected(Unexpected::NoAnswer)
    }

    /// The kind, as its enum.
    pub fn kind(self) -> VerdictKind {
        match self {
            Verdict::Verified => VerdictKind::Verified,
            Verdict::Invalid => VerdictKind::Invalid,
            Verdict::Unexpected(_) => VerdictKind::Unexpected,
        }
    }

    /// `verified`, `invalid` or `unexpected`.
    pub fn as_str(self) -> &'static str {
        self.kind().code()
    }

    /// Whether PayPal vouched for the message.
    pub fn is_verified(self) -> bool {
        self == Verdict::Verified
    }

    /// Whether the postback must be tried again later.
    pub fn is_unexpected(self) -> bool {
        matches!(self, Verdict::Unexpected(_))
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Unexpected(why) => write!(f, "unexpected ({})", why.code()),
            other => f.write_str(other.as_str()),
        }
    }
}

impl serde::Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let reason = match self {
            Verdict::Unexpected(why) => Some(why.code()),
            Verdict::Verified | Verdict::Invalid => None,
        };
        let mut data = s.serialize_struct("Verdict", 2)?;
        data.serialize_field("kind", self.as_str())?;
        data.serialize_field("reason", &reason)?;
        data.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_come_from_the_configured_environment() -> Result<(), Error> {
        // A message that says it is a sandbox message still goes to the live endpoint when the
        // host is configured for live.
        let body = Body::parse(b"test_ipn=1&txn_id=1")?;
        let live = Environment::Live.verification_request(&body);
        assert_eq!(live.url, "https://ipnpb.paypal.com/cgi-bin/webscr");
        let sandbox = Environment::Sandbox.verification_request(&body);
        assert_eq!(
            sandbox.url,
            "https://ipnpb.sandbox.paypal.com/cgi-bin/webscr"
        );
        assert_eq!(live.method, "POST");
        assert_eq!(live.body, b"cmd=_notify-validate&test_ipn=1&txn_id=1");
        assert_eq!(
            live.headers.first(),
            Some(&("Content-Type", "application/x-www-form-urlencoded"))
        );
        let ua = live.headers.get(1).map(|h| h.1).unwrap_or_default();
        assert!(ua.starts_with("ipnkit/"), "{ua}");
        Ok(())
    }

    #[test]
    fn environments_parse_and_print() {
        assert_eq!("live".parse(), Ok(Environment::Live));
        assert_eq!("Sandbox".parse(), Ok(Environment::Sandbox));
        assert_eq!(
            "prod".parse::<Environment>(),
            Err(Error::UnknownEnvironment)
        );
        assert_eq!(Environment::Sandbox.to_string(), "sandbox");
    }

    #[test]
    fn only_200_and_exactly_verified_is_verified() {
        for body in [
            &b"VERIFIED"[..],
            b"VERIFIED\n",
            b"  VERIFIED\r\n",
            b"\tVERIFIED ",
        ] {
            assert_eq!(
                Verdict::from_response(200, body),
                Verdict::Verified,
                "{body:?}"
            );
        }
        for (status, body) in [
            (500, &b"VERIFIED"[..]),
            (201, b"VERIFIED"),
            (302, b"VERIFIED"),
            (200, b"verified"),
            (200, b"VERIFIED VERIFIED"),
            (200, b"<html><body>VERIFIED</body></html>"),
            (200, b"NOT VERIFIED"),
            (200, b"VERIFIEDX"),
            (200, b"\xEF\xBB\xBFVERIFIED"),
            (200, b"VERIFIED\0"),
            (200, b""),
            (200, b"   "),
        ] {
            let v = Verdict::from_response(status, body);
            assert!(v.is_unexpected(), "{status} {body:?} gave {v}");
            assert!(!v.is_verified());
        }
    }

    #[test]
    fn invalid_needs_200_too() {
        assert_eq!(
            Verdict::from_response(200, b"INVALID\r\n"),
            Verdict::Invalid
        );
        assert_eq!(
            Verdict::from_response(503, b"INVALID"),
            Verdict::Unexpected(Unexpected::HttpStatus(503))
        );
    }

    #[test]
    fn unexpected_reasons_have_codes() {
        assert_eq!(
            Verdict::from_response(200, b"").to_string(),
            "unexpected (empty_body)"
        );
        assert_eq!(
            Verdict::from_response(200, b"<html>").to_string(),
            "unexpected (unrecognized_body)"
        );
        assert_eq!(
            Verdict::from_response(404, b"").to_string(),
            "unexpected (http_status)"
        );
        assert_eq!(Verdict::no_answer().to_string(), "unexpected (no_answer)");
        assert!(Verdict::no_answer().is_unexpected());
        assert_eq!(Verdict::Verified.to_string(), "verified");
        assert_eq!(Verdict::Invalid.as_str(), "invalid");
    }
}
