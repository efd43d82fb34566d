//! What a binding reads: a modelled variable's [`Value`] by kind, the [`Lookup`] by name, and the
//! subscription [`Period`].

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::date::PayPalDate;
use crate::money::{Currency, Money};

use super::ItemOption;
use super::table::parse_count;

/// A subscription period: `3 M` is three months.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Period {
    /// How many units.
    pub count: u32,
    /// `D`ays, `W`eeks, `M`onths or `Y`ears.
    pub unit: PeriodUnit,
}

/// The unit of a subscription [`Period`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PeriodUnit {
    /// Days.
    D,
    /// Weeks.
    W,
    /// Months.
    M,
    /// Years.
    Y,
}

impl PeriodUnit {
    /// `D`, `W`, `M` or `Y`, as PayPal writes it.
    pub fn code(self) -> &'static str {
        match self {
            PeriodUnit::D => "D",
            PeriodUnit::W => "W",
            PeriodUnit::M => "M",
            PeriodUnit::Y => "Y",
        }
    }
}

impl Period {
    /// Parses `N U` with `U` one of `D`, `W`, `M`, `Y`.
    pub fn parse(text: &str) -> Option<Period> {
        let (count, unit) = text.split_once(' ')?;
        let unit = match unit {
            "D" => PeriodUnit::D,
            "W" => PeriodUnit::W,
            "M" => PeriodUnit::M,
            "Y" => PeriodUnit::Y,
            _ => return None,
        };
        Some(Period {
            count: parse_count(count)?,
            unit,
        })
    }
}

/// The value of a modelled variable, by kind: what [`Message::value`](super::Message::value) returns, so that bindings
/// can offer every variable by name without a getter each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value<'m> {
    /// Text, as decoded.
    Text(&'m str),
    /// A flag (`1`/`0`, `true`/`false`).
    Flag(bool),
    /// A whole number.
    Count(u32),
    /// An exact decimal without currency (`exchange_rate`).
    Decimal(Decimal),
    /// A currency code.
    Currency(Currency),
    /// An amount with its currency.
    Money(Money),
    /// A date: UTC instant and original text.
    Date(&'m PayPalDate),
    /// A subscription period.
    Period(Period),
    /// A word from one of PayPal's vocabularies, as PayPal wrote it.
    Word(&'m str),
    /// A cart item's options (a member of a [record](super::Record) only).
    Options(&'m [ItemOption]),
    /// Other variables of an Adaptive transaction, in order (a member of a [record](super::Record)
    /// only).
    Pairs(&'m [(String, String)]),
}

impl Serialize for Value<'_> {
    /// As the canonical JSON writes the variable: text and words as strings, amounts as
    /// `{"amount", "currency"}`, dates as `{"utc", "text"}`, and so on.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Text(text) | Value::Word(text) => s.serialize_str(text),
            Value::Flag(flag) => s.serialize_bool(*flag),
            Value::Count(count) => s.serialize_u32(*count),
            Value::Decimal(decimal) => Serialize::serialize(decimal, s),
            Value::Currency(currency) => currency.serialize(s),
            Value::Money(money) => money.serialize(s),
            Value::Date(date) => date.serialize(s),
            Value::Period(period) => period.serialize(s),
            Value::Options(options) => options.serialize(s),
            Value::Pairs(pairs) => pairs.serialize(s),
        }
    }
}

/// What [`Message::get`](super::Message::get) finds under a name: it tells a variable the message does not carry from
/// a name that is not a modelled variable at all (a misspelling, most often).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'m> {
    /// The name is not one of [`MODELLED_VARIABLES`](super::MODELLED_VARIABLES).
    NotModelled,
    /// A modelled variable the message does not carry (or carries empty, or not of its type:
    /// see [`Message::is_unreadable`](super::Message::is_unreadable)).
    Absent,
    /// The variable's typed value.
    Value(Value<'m>),
}
