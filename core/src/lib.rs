//! # ipnkit
//!
//! Byte-exact parsing and sans-IO verification of PayPal Instant Payment Notifications (IPN)
//! and REST webhooks.
//!
//! PayPal POSTs an `application/x-www-form-urlencoded` body to a listener. To trust it, the
//! listener sends the *same bytes* back, prefixed with `cmd=_notify-validate&`, and PayPal answers
//! `VERIFIED` or `INVALID`. ipnkit keeps the body exactly as received, builds the postback from
//! it, decodes the variables in the message's charset, and classifies PayPal's answer. It does no
//! I/O: the host does its own HTTP.
//!
//! ```
//! use ipnkit::{Body, Environment, Verdict};
//!
//! let raw = b"mc_gross=19.95&payment_status=Completed&first_name=J%F6rg&charset=windows-1252";
//! let body = Body::parse(raw)?;                         // limits checked, spans recorded
//! let request = Environment::Live.verification_request(&body);
//! assert_eq!(request.body, [&b"cmd=_notify-validate&"[..], raw].concat());
//!
//! let fields = body.decode()?;                         // percent-decoding, then the charset
//! assert_eq!(fields.get("first_name"), Some("Jörg"));
//!
//! // The host POSTs `request` with its own HTTP client, then:
//! let verdict = Verdict::from_response(200, b"VERIFIED\n");
//! assert!(verdict.is_verified());
//! # Ok::<(), ipnkit::Error>(())
//! ```
//!
//! ## Modules, in the order data flows through them
//!
//! | module | what it does |
//! |---|---|
//! | [`body`] | [`Body`]: the raw bytes and the span of each pair; [`Limits`]; the postback |
//! | [`decode`] | [`Fields`]: percent-decoding and the charset, strictly; duplicate keys refused |
//! | [`charset`] | [`Charset`]: PayPal's charset names mapped onto encoding_rs |
//! | [`key`] | [`Key`]: the grammar of variable names (`item_name1`, `mc_gross_1`, `transaction[0].id`) |
//! | [`message`] | [`Message`]: every variable of the IPN guide typed, numbered ones grouped, nothing lost; canonical JSON |
//! | [`money`], [`date`], [`vocab`] | [`Money`] (exact decimals), [`PayPalDate`] (UTC + original text), PayPal's enums with `Other` |
//! | [`event`] | [`Event`] and [`Family`]: what happened, in one value |
//! | [`policy`] | [`Policy`], [`Expected`], [`Verified`], [`Report`]: the business rules before acting |
//! | [`delivery`] | [`DeliveryKey`], [`classify`]: duplicates, status transitions and stale deliveries, sans-IO |
//! | [`signature`] | [`signature::sign`], [`signature::verify`]: HMAC-SHA256 signatures of the reference listener's events, for the application that receives them |
//! | [`host`] | [`Notification`], [`Config`], [`Expected`], [`Decision`]: **the** path from received bytes to what to do, the one API every binding converts; the whole listener flow, in order |
//! | [`verify`] | [`Environment`], [`VerificationRequest`], [`Verdict`]: the protocol, without I/O |
//! | [`webhook`] | PayPal's REST webhooks: [`webhook::Transmission`] (the raw body and the five headers), [`webhook::WebhookVerifier`] (the certificate URL, chain, name, dates and RSA-SHA256 signature, offline, at the host's time), [`webhook::WebhookEvent`] (typed, on IPN's events), [`webhook::decide`] (the same [`Decision`], delivery keys shared with IPN) |
//! | [`error`] | [`Error`]: one enum, a stable code per kind, field names but never values |
//!
//! ## Invariants
//!
//! - The postback is `cmd=_notify-validate&` followed by the body, byte for byte, for every body
//!   within the limits, whether or not its values can be decoded.
//! - Nothing panics on any input; limits are checked before any other work.
//! - A key seen twice, a malformed escape, bytes invalid in the charset and an unknown charset are
//!   errors naming the field, never echoing the value (values are buyers' personal data).
//! - `Verified` needs HTTP 200 and a body that is exactly `VERIFIED`.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod body;
pub mod charset;
mod codes;
pub mod date;
pub mod decode;
pub mod delivery;
pub mod error;
pub mod event;
pub mod host;
pub mod key;
pub mod message;
pub mod money;
pub mod policy;
pub mod signature;
pub mod verify;
pub mod vocab;
pub mod webhook;
mod words;

pub use body::{Body, Limits, MAX_BODY_BYTES, POSTBACK_PREFIX, RawPair};
pub use charset::Charset;
pub use date::PayPalDate;
pub use decode::{Field, Fields, Iter, unescape};
pub use delivery::{DELIVERY_CODES, Delivery, DeliveryKey, DeliveryKind, MAX_KEY_LEN, classify};
pub use error::{ERROR_CODES, ERROR_KIND_CODES, Error, ErrorCode, ErrorKind, FieldName, Problem};
pub use event::{EVENT_CODES, Event, EventCode, FAMILY_CODES, Family};
pub use host::{Action, Answer, Config, Decision, Notification, Refusal, postback};
pub use key::{Key, Separator};
pub use message::{
    AdaptiveTransaction, CartItem, GROUPS, Group, ItemOption, Lookup, MODELLED_KINDS,
    MODELLED_VARIABLES, MasspayItem, Member, Message, NOTICE_CODES, Notice, Period, PeriodUnit,
    Record, Value,
};
pub use money::{Currency, Money};
pub use policy::{
    AmountCheck, Expected, NotVerified, Policy, Report, VIOLATION_CODES, Verified, Violation,
    ViolationCode, expects_amount, rules_for,
};
/// The exact decimal type of every amount, re-exported so that callers need not depend on the same
/// `rust_decimal` version.
pub use rust_decimal::Decimal;
pub use verify::{
    CONTENT_TYPE, Environment, UNEXPECTED_CODES, USER_AGENT, Unexpected, UnexpectedReason,
    VERDICT_CODES, Verdict, VerdictKind, VerificationRequest, Verifier,
};

/// The README's examples, run as doctests so that the quickstart cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
