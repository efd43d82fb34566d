//! Exact money: a decimal amount with its currency, never a float.
//!
//! Amounts are [`rust_decimal::Decimal`], which keeps the scale it was written with (`19.95`,
//! `-1.00`, `140` for a zero-decimal currency such as JPY), so printing an amount gives back
//! PayPal's text. Refunds and reversals stay negative.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use tinystr::TinyAsciiStr;

use crate::error::{Error, FieldName};

/// A currency code: three upper-case ASCII letters (`USD`, `EUR`, `JPY`).
///
/// Held as a [`TinyAsciiStr`]: text that is ASCII by construction, so reading it back cannot fail.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(TinyAsciiStr<3>);

impl Currency {
    /// US dollars, the currency of PayPal's legacy `payment_gross` and `payment_fee`.
    pub const USD: Currency = Currency(tinystr::tinystr!(3, "USD"));

    /// Parses a code; `None` unless it is exactly three upper-case ASCII letters.
    pub fn parse(code: &str) -> Option<Currency> {
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        TinyAsciiStr::try_from_str(code).ok().map(Currency)
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An amount with its currency. The currency is `None` only when the message names none for
/// this amount (e.g. `shipping` in a message without `mc_currency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    /// The exact amount, scale as written, sign kept.
    pub amount: Decimal,
    /// The currency the amount is in.
    pub currency: Option<Currency>,
}

impl Money {
    /// Parses an Adaptive Payments amount, `CUR 0.00` (e.g. `USD 110.00`).
    pub fn parse_with_currency(text: &str) -> Option<Money> {
        let (code, amount) = text.split_once(' ')?;
        Some(Money {
            amount: parse_amount(amount)?,
            currency: Some(Currency::parse(code)?),
        })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.currency {
            Some(c) => write!(f, "{} {c}", self.amount),
            None => write!(f, "{}", self.amount),
        }
    }
}

impl Serialize for Money {
    /// `{"amount": "19.95", "currency": "USD"}`: the amount as a decimal string, never a float.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Money", 2)?;
        st.serialize_field("amount", &self.amount.to_string())?;
        st.serialize_field("currency", &self.currency)?;
        st.end()
    }
}

/// Parses a plain decimal amount: an optional `-`, digits, and optionally `.` and digits.
/// Anything else (`1,000.00`, `1e3`, ` 5`, `+5`, `.5`, `5.`) is refused.
pub fn parse_amount(text: &str) -> Option<Decimal> {
    let bytes = text.as_bytes();
    let (negative, digits) = match bytes {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, bytes),
    };
    // One pass: the digits into a mantissa (wrapping: kept only when 18 digits or fewer, which
    // cannot wrap) and where the point is.
    let mut mantissa = 0u64;
    let mut point = None;
    for (i, &b) in digits.iter().enumerate() {
        match b {
            b'0'..=b'9' => mantissa = mantissa.wrapping_mul(10).wrapping_add(u64::from(b - b'0')),
            b'.' if point.is_none() && i > 0 => point = Some(i),
            _ => return None,
        }
    }
    let scale = match point {
        None if digits.is_empty() => return None,
        None => 0,
        Some(p) if p + 1 == digits.len() => return None, // `5.`
        Some(p) => digits.len() - p - 1,
    };
    // Up to 18 digits fit a u64 mantissa: PayPal's amounts, read without a second pass. Longer
    // ones, and a negative zero (whose sign `Decimal` keeps), go through `rust_decimal`'s parser.
    let count = digits.len() - usize::from(point.is_some());
    if count <= 18 && !(negative && mantissa == 0) {
        let signed = i64::try_from(mantissa).ok()?;
        let signed = if negative { -signed } else { signed };
        return Some(Decimal::new(signed, u32::try_from(scale).ok()?));
    }
    Decimal::from_str_exact(text).ok()
}

/// Parses an amount or names the field.
pub(crate) fn amount_of(field: &str, text: &str) -> Result<Decimal, Error> {
    parse_amount(text).ok_or_else(|| Error::InvalidAmount {
        field: FieldName::new(field),
    })
}

/// Parses a currency or names the field.
pub(crate) fn currency_of(field: &str, text: &str) -> Result<Currency, Error> {
    Currency::parse(text).ok_or_else(|| Error::InvalidCurrency {
        field: FieldName::new(field),
    })
}

/// Parses an Adaptive Payments `CUR 0.00` amount or names the field.
pub(crate) fn money_with_currency_of(field: &str, text: &str) -> Result<Money, Error> {
    Money::parse_with_currency(text).ok_or_else(|| Error::InvalidAmount {
        field: FieldName::new(field),
    })
}

impl FromStr for Currency {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        currency_of("currency", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_keep_their_scale_and_sign() {
        for text in ["19.95", "-4.00", "-1.00", "140", "0", "0.00", "1000000.01"] {
            assert_eq!(
                parse_amount(text).map(|d| d.to_string()).as_deref(),
                Some(text)
            );
        }
        assert_eq!(parse_amount("-0.12"), Some(Decimal::new(-12, 2)));
    }

    #[test]
    fn negative_zero_and_long_amounts_read_as_rust_decimal_reads_them() {
        for text in [
            "-0",
            "-0.00",
            "1234567890123456789.5",
            "0.0000000000000000000000000001",
        ] {
            let ours = parse_amount(text);
            let theirs = Decimal::from_str_exact(text).ok();
            let seen =
                |d: Option<Decimal>| d.map(|d| (d, d.scale(), d.is_sign_negative(), d.to_string()));
            assert_eq!(seen(ours), seen(theirs), "{text}");
            assert!(ours.is_some(), "{text}");
        }
    }

    proptest::proptest! {
        /// The one-pass reading gives exactly what `rust_decimal`'s own parser gives (value,
        /// scale and sign), for every amount it accepts.
        #[test]
        fn amounts_read_as_rust_decimal_reads_them(text in "-?[0-9]{1,20}(\\.[0-9]{0,12})?") {
            let ours = parse_amount(&text);
            if !text.ends_with('.') {
                let theirs = Decimal::from_str_exact(&text).ok();
                let seen = |d: Option<Decimal>| d.map(|d| (d, d.scale(), d.is_sign_negative(), d.to_string()));
                proptest::prop_assert_eq!(seen(ours), seen(theirs));
            } else {
                proptest::prop_assert_eq!(ours, None);
            }
        }
    }

    #[test]
    fn malformed_amounts_are_refused() {
        for text in [
            "", "-", "1,000.00", "1e3", " 5", "5 ", "+5", ".5", "5.", "1.2.3", "USD 5", "--1",
            "0x10", "٣",
        ] {
            assert_eq!(parse_amount(text), None, "{text:?}");
        }
        assert_eq!(
            amount_of("mc_gross", "abc"),
            Err(Error::InvalidAmount {
                field: FieldName::new("mc_gross")
            })
        );
    }

    #[test]
    fn adaptive_amounts_split_into_currency_and_amount() {
        let m = Money::parse_with_currency("USD 110.00");
        assert_eq!(
            m,
            Some(Money {
                amount: Decimal::new(11000, 2),
                currency: Currency::parse("USD")
            })
        );
        assert_eq!(m.map(|m| m.to_string()).as_deref(), Some("110.00 USD"));
        for bad in [
            "110.00",
            "USD",
            "usd 1.00",
            "USD  1.00",
            "USD 1,00",
            "US 1.00",
        ] {
            assert_eq!(Money::parse_with_currency(bad), None, "{bad}");
        }
    }

    #[test]
    fn currencies_are_three_upper_case_letters() {
        assert_eq!(
            Currency::parse("JPY").map(|c| c.to_string()).as_deref(),
            Some("JPY")
        );
        for bad in ["", "usd", "US", "USDD", "U$D", "ÉUR"] {
            assert_eq!(Currency::parse(bad), None, "{bad}");
        }
        assert_eq!(
            "EUR".parse::<Currency>().map(|c| c.to_string()),
            Ok("EUR".into())
        );
        assert_eq!(format!("{:?}", Currency::USD), "Currency(USD)");
    }

    #[test]
    fn money_serializes_the_amount_as_a_string() {
        let m = Money {
            amount: Decimal::new(-400, 2),
            currency: Some(Currency::USD),
        };
        assert_eq!(
            serde_json::to_string(&m).ok().as_deref(),
            Some(r#"{"amount":"-4.00","currency":"USD"}"#)
        );
        let no_currency = Money {
            amount: Decimal::new(5, 0),
            currency: None,
        };
        assert_eq!(
            serde_json::to_string(&no_currency).ok().as_deref(),
            Some(r#"{"amount":"5","currency":null}"#)
        );
        assert_eq!(no_currency.to_string(), "5");
    }
}
