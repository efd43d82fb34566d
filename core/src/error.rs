//! Errors: one enum, a stable snake_case code per kind, the field it concerns, never its value.
//!
//! | code | raised by | meaning |
//! |---|---|---|
//! | `empty_body` | [`Body`](crate::Body) | no variable at all |
//! | `body_too_large`, `too_many_fields`, `key_too_long` | [`Body`](crate::Body) | a [`Limits`](crate::Limits) bound was passed |
//! | `empty_key`, `missing_separator`, `malformed_escape` | [`Body::decode`](crate::Body::decode) | the form encoding is broken |
//! | `invalid_encoding`, `unknown_charset`, `unsupported_charset` | [`Body::decode`](crate::Body::decode) | the charset is unknown or the bytes are not in it |
//! | `duplicate_key` | [`Body::decode`](crate::Body::decode), [`Message`](crate::Message) | the same variable twice, or two spellings of one (`mc_gross_1` and `mc_gross1`) |
//! | `invalid_amount`, `invalid_currency`, `invalid_date`, `invalid_number`, `invalid_flag`, `invalid_period` | the value parsers ([`PayPalDate::parse`](crate::PayPalDate::parse), [`money`](crate::money)…); [`Message`](crate::Message) reports them as [notices](crate::Notice) | a known variable's value is not of its type |
//! | `unknown_environment` | [`Environment`](crate::Environment) | not `live` or `sandbox` |
//! | `invalid_delivery_key` | [`DeliveryKey::from_stored`](crate::DeliveryKey::from_stored) | a stored text is not a key this version makes |
//! | `invalid_configuration` | [`Config`](crate::Config), [`Expected`](crate::Expected) from a host's data | a key is unknown, missing, or its value is not valid |
//! | `wrong_type` | [`Config`](crate::Config), [`Expected`](crate::Expected) from a host's data | a value of the wrong type: a string where a list belongs, a float for an amount |
//! | `missing_header`, `repeated_header`, `invalid_header`, `header_too_large` | [`Transmission`](crate::webhook::Transmission) | one of PayPal's five webhook headers is absent, given twice, not of its form, or too long |
//! | `invalid_json`, `duplicate_key`, `invalid_field` | [`WebhookEvent`](crate::webhook::WebhookEvent) | the webhook body is not a JSON object, has a key twice in one object, or lacks a field its event needs |
//!
//! Each code belongs to one [`ErrorKind`] ([`Error::kind`]); bindings generate one exception
//! class per kind from [`ErrorKind::ALL`], so that a host can catch a whole kind at once.
//!
//! IPN values are buyers' personal data (names, addresses, e-mails), so no error ever carries a
//! value. Field *names* are carried, escaped for a single log line. Sizes and positions are carried
//! because they help an operator and reveal nothing about the buyer.

use std::fmt;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::codes::codes;

/// A field name as carried by an [`Error`]: the decoded key where it could be decoded, otherwise
/// the raw key bytes with anything outside printable ASCII escaped.
///
/// Its [`Display`](fmt::Display) form escapes control characters and quotes so that an attacker's
/// key cannot forge log lines.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldName(String);

impl FieldName {
    /// A field name from a decoded key.
    pub fn new(name: impl Into<String>) -> Self {
        Self(name.into())
    }

    /// A field name from raw key bytes that could not be decoded: printable ASCII is kept, every
    /// other byte is written as `\xNN`.
    pub fn from_raw(raw: &[u8]) -> Self {
        let mut s = String::with_capacity(raw.len());
        for &b in raw {
            if b.is_ascii_graphic() || b == b' ' {
                s.push(char::from(b));
            } else {
                s.push_str(&format!("\\x{b:02X}"));
            }
        }
        Self(s)
    }

    /// The name as text (unescaped).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.0.escape_debug())
    }
}

/// Everything that can go wrong while reading an IPN body or decoding its variables.
///
/// Each variant has a stable [`code`](Error::code); the list of all codes is [`ERROR_CODES`], each with its kind ([`ErrorCode`]).
/// `index` fields are the 0-based position of the pair in the body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body holds no `key=value` pair at all (zero bytes, or only `&` and a trailing newline).
    #[error("empty_body: the IPN body holds no variables")]
    EmptyBody,

    /// The body is longer than [`Limits::max_body_bytes`](crate::Limits::max_body_bytes).
    #[error("body_too_large: the body is {actual} bytes, over the limit of {limit}")]
    BodyTooLarge {
        /// The body's length in bytes.
        actual: usize,
        /// The configured limit.
        limit: usize,
    },

    /// The body has more pairs than [`Limits::max_fields`](crate::Limits::max_fields).
    #[error("too_many_fields: the body has more than {limit} variables")]
    TooManyFields {
        /// The configured limit.
        limit: usize,
    },

    /// A key is longer than [`Limits::max_key_bytes`](crate::Limits::max_key_bytes).
    #[error(
        "key_too_long: the key of variable #{index} is {actual} bytes, over the limit of {limit}"
    )]
    KeyTooLong {
        /// Position of the pair.
        index: usize,
        /// The raw key's length in bytes.
        actual: usize,
        /// The configured limit.
        limit: usize,
    },

    /// A pair with an `=` but nothing before it.
    #[error("empty_key: variable #{index} has an empty name")]
    EmptyKey {
        /// Position of the pair.
        index: usize,
    },

    /// A pair with no `=`: neither a name nor a value can be told apart, so nothing is echoed.
    #[error("missing_separator: variable #{index} has no '='")]
    MissingSeparator {
        /// Position of the pair.
        index: usize,
    },

    /// A `%` not followed by two hexadecimal digits, in the key or the value of `field`.
    #[error("malformed_escape: variable {field} (#{index}) has a malformed percent-escape")]
    MalformedEscape {
        /// The variable's name.
        field: FieldName,
        /// Position of the pair.
        index: usize,
    },

    /// Bytes that are not valid in the message's charset, in the key or the value of `field`.
    #[error("invalid_encoding: variable {field} (#{index}) is not valid {charset}")]
    InvalidEncoding {
        /// The variable's name.
        field: FieldName,
        /// Position of the pair.
        index: usize,
        /// The charset's canonical name.
        charset: &'static str,
    },

    /// The `charset` variable names no encoding we know. Its value is not echoed.
    #[error("unknown_charset: the charset variable names no known encoding")]
    UnknownCharset,

    /// The `charset` variable names an encoding PayPal may use but this library cannot decode
    /// (UTF-7, UTF-16, UTF-32, EBCDIC, some Mac code pages). The postback is unaffected.
    #[error("unsupported_charset: the message's charset {charset} cannot be decoded")]
    UnsupportedCharset {
        /// PayPal's name for the charset.
        charset: &'static str,
    },

    /// The same variable twice (HTTP parameter pollution; two `charset` fields included), or in
    /// two spellings that name one slot (`mc_gross_1` and `mc_gross1`, `receipt_id` and
    /// `receipt_ID`): PHP would keep one copy, another stack the other, and PayPal verified both.
    #[error(
        "duplicate_key: variable {field} appears twice (#{first} and #{second}: the same name, or another spelling of it)"
    )]
    DuplicateKey {
        /// The variable's name.
        field: FieldName,
        /// Position of the first copy.
        first: usize,
        /// Position of the second copy.
        second: usize,
    },

    /// An amount that is not a plain decimal (`19.95`, `-4.00`, `140`), or an Adaptive Payments
    /// amount that is not `CUR 0.00`.
    #[error("invalid_amount: variable {field} is not a decimal amount")]
    InvalidAmount {
        /// The variable's name.
        field: FieldName,
    },

    /// A currency that is not three upper-case letters (ISO 4217 form).
    #[error("invalid_currency: variable {field} is not a currency code")]
    InvalidCurrency {
        /// The variable's name.
        field: FieldName,
    },

    /// A date in none of PayPal's formats, or naming an unknown time zone.
    #[error("invalid_date: variable {field} is not a date PayPal writes")]
    InvalidDate {
        /// The variable's name.
        field: FieldName,
    },

    /// A count (quantity, number of items…) that is not a non-negative integer.
    #[error("invalid_number: variable {field} is not a whole number")]
    InvalidNumber {
        /// The variable's name.
        field: FieldName,
    },

    /// A flag that is none of `1`, `0`, `true`, `false`.
    #[error("invalid_flag: variable {field} is not a flag")]
    InvalidFlag {
        /// The variable's name.
        field: FieldName,
    },

    /// A subscription period that is not `N U` with `U` one of `D`, `W`, `M`, `Y`.
    #[error("invalid_period: variable {field} is not a subscription period")]
    InvalidPeriod {
        /// The variable's name.
        field: FieldName,
    },

    /// An environment name other than `live` or `sandbox`.
    #[error("unknown_environment: the environment must be 'live' or 'sandbox'")]
    UnknownEnvironment,

    /// A stored delivery key that is not one [`DeliveryKey::of`](crate::DeliveryKey::of) makes
    /// (altered, or written by something else). Its text is not echoed.
    #[error("invalid_delivery_key: a stored delivery key is not one ipnkit makes")]
    InvalidDeliveryKey,

    /// A key of a host's configuration or expected order is unknown or missing, or its value is
    /// not valid (an amount that is not a plain decimal, a status PayPal does not write). The
    /// value is not echoed.
    #[error("invalid_configuration: {field} {problem}")]
    InvalidConfiguration {
        /// The key, as a dotted path (`limits.max_fields`, `final_statuses.0`).
        field: FieldName,
        /// What is wrong with it.
        problem: Problem,
    },

    /// A value of a host's configuration or expected order has the wrong type: a string where a
    /// list belongs, a number or a float where an exact decimal string belongs (never rounded).
    #[error("wrong_type: {field} has the wrong type{}", wrong_type_fix(field))]
    WrongType {
        /// The key, as a dotted path.
        field: FieldName,
    },

    /// A webhook request lacks one of PayPal's five transmission headers.
    #[error("missing_header: the request has no {header} header")]
    MissingHeader {
        /// The header's name, as PayPal documents it (`PAYPAL-TRANSMISSION-ID`…).
        header: &'static str,
    },

    /// A webhook request carries one of PayPal's transmission headers twice: which copy was
    /// signed cannot be known.
    #[error("repeated_header: the request has the {header} header more than once")]
    RepeatedHeader {
        /// The header's name.
        header: &'static str,
    },

    /// A transmission header's value is longer than the limit.
    #[error("header_too_large: the {header} header is {len} bytes, over the limit of {max}")]
    HeaderTooLarge {
        /// The header's name.
        header: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },

    /// A transmission header's value is not of its form: a time that is not RFC 3339, a
    /// signature that is not base64, bytes that are not visible ASCII.
    #[error("invalid_header: the {header} header is not of its form")]
    InvalidHeader {
        /// The header's name.
        header: &'static str,
    },

    /// A webhook body that is not JSON (or not a JSON object). The position helps find it; the
    /// text is not echoed.
    #[error("invalid_json: the body is not a JSON object (line {line}, column {column})")]
    InvalidJson {
        /// 1-based line of the first fault.
        line: usize,
        /// 1-based column of the first fault.
        column: usize,
    },

    /// The same key twice in one JSON object of a webhook body: parsers disagree on which copy
    /// wins, and PayPal signed both.
    #[error("duplicate_key: key {field} appears twice in one JSON object")]
    DuplicateJsonKey {
        /// The key's path (`resource.amount.value`).
        field: FieldName,
    },

    /// A field every webhook event of its kind carries is absent, or not of its JSON type.
    #[error("invalid_field: {field} is missing or not of its type")]
    InvalidField {
        /// The field's path (`resource.id`).
        field: FieldName,
    },
}

/// What to write instead, for the keys whose wrong type has one usual cause (the message names
/// the fix, never the value given).
fn wrong_type_fix(field: &FieldName) -> &'static str {
    match field.as_str() {
        "amount" => r#": pass amounts as strings, e.g. "24.90" (a float would be rounded)"#,
        "receiver_emails" | "receiver_ids" | "final_statuses" => {
            ": a list of strings, even for one"
        }
        _ => "",
    }
}

/// What is wrong with a key of a host's configuration ([`Error::InvalidConfiguration`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Problem {
    /// The key is not one the configuration has (a misspelling, most often).
    UnknownKey,
    /// A required key is absent.
    MissingKey,
    /// The value is of the right type but not valid.
    InvalidValue,
    /// Two keys contradict each other (an amount *and* `no_amount`).
    Conflict,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::UnknownKey => "is not a known key",
            Problem::MissingKey => "is required",
            Problem::InvalidValue => "is not a valid value",
            Problem::Conflict => "contradicts another key",
        })
    }
}

codes! {
    /// The kind of an [`Error`]: what bindings make one exception class of.
    #[non_exhaustive]
    pub enum ErrorKind / ERROR_KIND_CODES {
        /// The body holds no variable.
        Body = "body",
        /// A size limit was passed.
        Limit = "limit",
        /// The form encoding is broken.
        Format = "format",
        /// The charset is unknown, unsupported, or the bytes are not in it.
        Charset = "charset",
        /// The same variable twice.
        Duplicate = "duplicate",
        /// A value is not of its variable's type.
        Value = "value",
        /// A configuration value, or a stored value, is not valid.
        Configuration = "configuration",
        /// A host passed a value of the wrong type.
        Argument = "argument",
        /// A webhook's transmission header is missing, repeated or not of its form.
        Header = "header",
    }
}

impl ErrorKind {
    /// The stem bindings name the kind's exception class with (`DuplicateKey` →
    /// `DuplicateKeyError` in Python, `Ipnkit\DuplicateKeyException` in PHP).
    pub const fn stem(self) -> &'static str {
        match self {
            ErrorKind::Body => "Body",
            ErrorKind::Limit => "Limit",
            ErrorKind::Format => "Format",
            ErrorKind::Charset => "Charset",
            ErrorKind::Duplicate => "DuplicateKey",
            ErrorKind::Value => "ValueFormat",
            ErrorKind::Configuration => "Configuration",
            ErrorKind::Argument => "Argument",
            ErrorKind::Header => "Header",
        }
    }

    /// A one-line description, for the bindings' exception classes.
    pub const fn doc(self) -> &'static str {
        match self {
            ErrorKind::Body => "The body holds no variable.",
            ErrorKind::Limit => "A size limit was passed.",
            ErrorKind::Format => "The form encoding is broken.",
            ErrorKind::Charset => {
                "The charset is unknown or unsupported, or the bytes are not in it."
            }
            ErrorKind::Duplicate => {
                "The same variable twice, or two spellings of one: HTTP parameter pollution."
            }
            ErrorKind::Value => "A known variable's value is not of its type.",
            ErrorKind::Configuration => "A configuration value, or a stored value, is not valid.",
            ErrorKind::Argument => {
                "A value of the wrong type was passed (a string where a list belongs, a float for an amount)."
            }
            ErrorKind::Header => {
                "A webhook's transmission header is missing, repeated or not of its form."
            }
        }
    }

    /// The codes of this kind, in [`ERROR_CODES`] order.
    pub fn codes(self) -> impl Iterator<Item = ErrorCode> {
        ErrorCode::ALL
            .iter()
            .copied()
            .filter(move |c| c.kind() == self)
    }
}

codes! {
    /// The stable code of an [`Error`]: it never changes between versions.
    #[non_exhaustive]
    pub enum ErrorCode / ERROR_CODES {
        /// [`Error::EmptyBody`].
        EmptyBody = "empty_body",
        /// [`Error::BodyTooLarge`].
        BodyTooLarge = "body_too_large",
        /// [`Error::TooManyFields`].
        TooManyFields = "too_many_fields",
        /// [`Error::KeyTooLong`].
        KeyTooLong = "key_too_long",
        /// [`Error::EmptyKey`].
        EmptyKey = "empty_key",
        /// [`Error::MissingSeparator`].
        MissingSeparator = "missing_separator",
        /// [`Error::MalformedEscape`].
        MalformedEscape = "malformed_escape",
        /// [`Error::InvalidEncoding`].
        InvalidEncoding = "invalid_encoding",
        /// [`Error::UnknownCharset`].
        UnknownCharset = "unknown_charset",
        /// [`Error::UnsupportedCharset`].
        UnsupportedCharset = "unsupported_charset",
        /// [`Error::DuplicateKey`].
        DuplicateKey = "duplicate_key",
        /// [`Error::InvalidAmount`].
        InvalidAmount = "invalid_amount",
        /// [`Error::InvalidCurrency`].
        InvalidCurrency = "invalid_currency",
        /// [`Error::InvalidDate`].
        InvalidDate = "invalid_date",
        /// [`Error::InvalidNumber`].
        InvalidNumber = "invalid_number",
        /// [`Error::InvalidFlag`].
        InvalidFlag = "invalid_flag",
        /// [`Error::InvalidPeriod`].
        InvalidPeriod = "invalid_period",
        /// [`Error::UnknownEnvironment`].
        UnknownEnvironment = "unknown_environment",
        /// [`Error::InvalidDeliveryKey`].
        InvalidDeliveryKey = "invalid_delivery_key",
        /// [`Error::InvalidConfiguration`].
        InvalidConfiguration = "invalid_configuration",
        /// [`Error::WrongType`].
        WrongType = "wrong_type",
        /// [`Error::MissingHeader`].
        MissingHeader = "missing_header",
        /// [`Error::RepeatedHeader`].
        RepeatedHeader = "repeated_header",
        /// [`Error::HeaderTooLarge`].
        HeaderTooLarge = "header_too_large",
        /// [`Error::InvalidHeader`].
        InvalidHeader = "invalid_header",
        /// [`Error::InvalidJson`].
        InvalidJson = "invalid_json",
        /// [`Error::InvalidField`].
        InvalidField = "invalid_field",
    }
}

impl ErrorCode {
    /// The kind the code is of.
    pub const fn kind(self) -> ErrorKind {
        match self {
            ErrorCode::EmptyBody => ErrorKind::Body,
            ErrorCode::BodyTooLarge
            | ErrorCode::TooManyFields
            | ErrorCode::KeyTooLong
            | ErrorCode::HeaderTooLarge => ErrorKind::Limit,
            ErrorCode::EmptyKey
            | ErrorCode::MissingSeparator
            | ErrorCode::MalformedEscape
            | ErrorCode::InvalidJson
            | ErrorCode::InvalidField => ErrorKind::Format,
            ErrorCode::InvalidEncoding
            | ErrorCode::UnknownCharset
            | ErrorCode::UnsupportedCharset => ErrorKind::Charset,
            ErrorCode::DuplicateKey => ErrorKind::Duplicate,
            ErrorCode::InvalidAmount
            | ErrorCode::InvalidCurrency
            | ErrorCode::InvalidDate
            | ErrorCode::InvalidNumber
            | ErrorCode::InvalidFlag
            | ErrorCode::InvalidPeriod => ErrorKind::Value,
            ErrorCode::UnknownEnvironment
            | ErrorCode::InvalidDeliveryKey
            | ErrorCode::InvalidConfiguration => ErrorKind::Configuration,
            ErrorCode::WrongType => ErrorKind::Argument,
            ErrorCode::MissingHeader | ErrorCode::RepeatedHeader | ErrorCode::InvalidHeader => {
                ErrorKind::Header
            }
        }
    }
}

impl Serialize for Error {
    /// `{"code", "kind", "field", "message"}`: what every binding's exception carries. The
    /// message is the [`Display`](fmt::Display) text: codes, names, sizes, never a value.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(4))?;
        map.serialize_entry("code", self.code())?;
        map.serialize_entry("kind", &self.kind())?;
        map.serialize_entry("field", &self.field())?;
        map.serialize_entry("message", &self.to_string())?;
        map.end()
    }
}

impl Error {
    /// The stable snake_case code of this kind of error; it never changes between versions.
    pub fn code(&self) -> &'static str {
        self.error_code().code()
    }

    /// The code, as its enum.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            Error::EmptyBody => ErrorCode::EmptyBody,
            Error::BodyTooLarge { .. } => ErrorCode::BodyTooLarge,
            Error::TooManyFields { .. } => ErrorCode::TooManyFields,
            Error::KeyTooLong { .. } => ErrorCode::KeyTooLong,
            Error::EmptyKey { .. } => ErrorCode::EmptyKey,
            Error::MissingSeparator { .. } => ErrorCode::MissingSeparator,
            Error::MalformedEscape { .. } => ErrorCode::MalformedEscape,
            Error::InvalidEncoding { .. } => ErrorCode::InvalidEncoding,
            Error::UnknownCharset => ErrorCode::UnknownCharset,
            Error::UnsupportedCharset { .. } => ErrorCode::UnsupportedCharset,
            Error::DuplicateKey { .. } => ErrorCode::DuplicateKey,
            Error::InvalidAmount { .. } => ErrorCode::InvalidAmount,
            Error::InvalidCurrency { .. } => ErrorCode::InvalidCurrency,
            Error::InvalidDate { .. } => ErrorCode::InvalidDate,
            Error::InvalidNumber { .. } => ErrorCode::InvalidNumber,
            Error::InvalidFlag { .. } => ErrorCode::InvalidFlag,
            Error::InvalidPeriod { .. } => ErrorCode::InvalidPeriod,
            Error::UnknownEnvironment => ErrorCode::UnknownEnvironment,
            Error::InvalidDeliveryKey => ErrorCode::InvalidDeliveryKey,
            Error::InvalidConfiguration { .. } => ErrorCode::InvalidConfiguration,
            Error::WrongType { .. } => ErrorCode::WrongType,
            Error::MissingHeader { .. } => ErrorCode::MissingHeader,
            Error::RepeatedHeader { .. } => ErrorCode::RepeatedHeader,
            Error::HeaderTooLarge { .. } => ErrorCode::HeaderTooLarge,
            Error::InvalidHeader { .. } => ErrorCode::InvalidHeader,
            Error::InvalidJson { .. } => ErrorCode::InvalidJson,
            Error::DuplicateJsonKey { .. } => ErrorCode::DuplicateKey,
            Error::InvalidField { .. } => ErrorCode::InvalidField,
        }
    }

    /// The kind of error, which bindings make one exception class of ([`ErrorKind::ALL`]).
    pub fn kind(&self) -> ErrorKind {
        self.error_code().kind()
    }

    /// Whether the error is about one value that is not of its variable's type (the
    /// [`ErrorKind::Value`] kind: `invalid_amount`, `invalid_currency`, `invalid_date`,
    /// `invalid_number`, `invalid_flag`, `invalid_period`). [`Message`](crate::Message) turns
    /// these into notices rather than failing: the value is kept as text, and the rules refuse
    /// when they need it.
    pub fn is_value_error(&self) -> bool {
        self.kind() == ErrorKind::Value
    }

    /// The name of the variable concerned, where the error concerns one.
    ///
    /// Charset errors name `charset`.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::MalformedEscape { field, .. }
            | Error::InvalidEncoding { field, .. }
            | Error::DuplicateKey { field, .. }
            | Error::InvalidAmount { field }
            | Error::InvalidCurrency { field }
            | Error::InvalidDate { field }
            | Error::InvalidNumber { field }
            | Error::InvalidFlag { field }
            | Error::InvalidPeriod { field }
            | Error::InvalidConfiguration { field, .. }
            | Error::WrongType { field }
            | Error::DuplicateJsonKey { field }
            | Error::InvalidField { field } => Some(field.as_str()),
            Error::MissingHeader { header }
            | Error::RepeatedHeader { header }
            | Error::HeaderTooLarge { header, .. }
            | Error::InvalidHeader { header } => Some(header),
            Error::UnknownCharset | Error::UnsupportedCharset { .. } => Some("charset"),
            _ => None,
        }
    }

    /// The 0-based position of the pair concerned, where there is one (the second copy for a
    /// duplicate).
    pub fn index(&self) -> Option<usize> {
        match self {
            Error::KeyTooLong { index, .. }
            | Error::EmptyKey { index }
            | Error::MissingSeparator { index }
            | Error::MalformedEscape { index, .. }
            | Error::InvalidEncoding { index, .. } => Some(*index),
            Error::DuplicateKey { second, .. } => Some(*second),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_of_each() -> Vec<Error> {
        let f = || FieldName::new("first_name");
        vec![
            Error::EmptyBody,
            Error::BodyTooLarge {
                actual: 2,
                limit: 1,
            },
            Error::TooManyFields { limit: 1 },
            Error::KeyTooLong {
                index: 0,
                actual: 2,
                limit: 1,
            },
            Error::EmptyKey { index: 0 },
            Error::MissingSeparator { index: 0 },
            Error::MalformedEscape {
                field: f(),
                index: 0,
            },
            Error::InvalidEncoding {
                field: f(),
                index: 0,
                charset: "UTF-8",
            },
            Error::UnknownCharset,
            Error::UnsupportedCharset { charset: "UTF-7" },
            Error::DuplicateKey {
                field: f(),
                first: 0,
                second: 1,
            },
            Error::InvalidAmount { field: f() },
            Error::InvalidCurrency { field: f() },
            Error::InvalidDate { field: f() },
            Error::InvalidNumber { field: f() },
            Error::InvalidFlag { field: f() },
            Error::InvalidPeriod { field: f() },
            Error::UnknownEnvironment,
            Error::InvalidDeliveryKey,
            Error::InvalidConfiguration {
                field: FieldName::new("limits.max_fields"),
                problem: Problem::InvalidValue,
            },
            Error::WrongType {
                field: FieldName::new("receiver_emails"),
            },
            Error::MissingHeader {
                header: "PAYPAL-TRANSMISSION-ID",
            },
            Error::RepeatedHeader {
                header: "PAYPAL-CERT-URL",
            },
            Error::HeaderTooLarge {
                header: "PAYPAL-TRANSMISSION-SIG",
                len: 4000,
                max: 2048,
            },
            Error::InvalidHeader {
                header: "PAYPAL-TRANSMISSION-TIME",
            },
            Error::InvalidJson { line: 1, column: 7 },
            Error::InvalidField {
                field: FieldName::new("resource.id"),
            },
        ]
    }

    #[test]
    fn a_key_twice_in_a_webhook_s_json_is_ipn_s_duplicate_key() {
        let e = Error::DuplicateJsonKey {
            field: FieldName::new("resource.amount.value"),
        };
        assert_eq!(e.error_code(), ErrorCode::DuplicateKey);
        assert_eq!(e.field(), Some("resource.amount.value"));
        assert!(e.to_string().starts_with("duplicate_key: "), "{e}");
    }

    #[test]
    fn every_code_has_one_kind_and_each_error_its_code() {
        for e in one_of_each() {
            assert_eq!(ErrorCode::from_code(e.code()), Some(e.error_code()));
            assert!(
                e.kind().codes().any(|c| c == e.error_code()),
                "{}",
                e.code()
            );
        }
        let mut listed: Vec<&str> = ErrorKind::ALL
            .iter()
            .flat_map(|k| k.codes().map(ErrorCode::code))
            .collect();
        for kind in ErrorKind::ALL {
            assert!(kind.stem().bytes().all(|b| b.is_ascii_alphabetic()));
        }
        let mut expected = ERROR_CODES.to_vec();
        expected.sort_unstable();
        listed.sort_unstable();
        assert_eq!(listed, expected, "every code under exactly one kind");
    }

    #[test]
    fn errors_serialize_as_code_kind_field_message() {
        let e = Error::WrongType {
            field: FieldName::new("expected.amount"),
        };
        let json = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "code": "wrong_type",
                "kind": "argument",
                "field": "expected.amount",
                "message": "wrong_type: \"expected.amount\" has the wrong type",
            })
        );
    }

    #[test]
    fn codes_are_listed_once_in_declaration_order() {
        let codes: Vec<_> = one_of_each().iter().map(Error::code).collect();
        assert_eq!(codes, ERROR_CODES);
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), codes.len(), "codes must be unique");
    }

    #[test]
    fn codes_are_snake_case() {
        for code in ERROR_CODES {
            assert!(
                code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{code} is not snake_case"
            );
        }
    }

    #[test]
    fn messages_start_with_their_code_and_stay_on_one_line() {
        for e in one_of_each() {
            let msg = e.to_string();
            assert!(msg.starts_with(e.code()), "{msg}");
            assert!(!msg.contains('\n'));
        }
    }

    #[test]
    fn field_names_are_escaped_for_logs() {
        let e = Error::MalformedEscape {
            field: FieldName::new("evil\nkey\""),
            index: 3,
        };
        let msg = e.to_string();
        assert!(!msg.contains('\n'), "{msg}");
        assert!(msg.contains(r#""evil\nkey\"""#), "{msg}");
        assert_eq!(e.field(), Some("evil\nkey\""));
        assert_eq!(e.index(), Some(3));
    }

    #[test]
    fn raw_field_names_escape_non_printable_bytes() {
        assert_eq!(
            FieldName::from_raw(b"a%ZZ\xE9\r").as_str(),
            "a%ZZ\\xE9\\x0D"
        );
    }

    #[test]
    fn charset_errors_name_the_charset_field() {
        assert_eq!(Error::UnknownCharset.field(), Some("charset"));
        assert_eq!(
            Error::UnsupportedCharset { charset: "UTF-7" }.field(),
            Some("charset")
        );
        assert_eq!(Error::EmptyBody.field(), None);
    }
}
