//! The typed message: every variable of PayPal's IPN variable reference, with exact money, real
//! dates and enums, numbered variables grouped into lists, and nothing lost.
//!
//! [`Message::from_fields`] reads decoded [`Fields`] and keeps them. Known variables get a typed
//! getter named as PayPal names them; numbered ones are grouped (`items`, `options`,
//! `masspay_items`, `transactions`, `fraud_filters`); the rest are listed by [`Message::extra`] in
//! their original order, and [`Message::variables`] holds every original pair. A known variable
//! whose value is not of its type is an [`Error`] naming it (an empty value is treated as absent).
//!
//! Money pairs with the currency PayPal documents for it: `mc_*`, `tax`, `shipping`… with
//! `mc_currency`; `payment_gross`/`payment_fee` are US dollars; `settle_amount` with
//! `settle_currency`; recurring-payment amounts with `currency_code` (else `mc_currency`); Mass
//! Pay items with their own `mc_currency_N`; Adaptive amounts carry theirs (`USD 110.00`).
//!
//! ```
//! let m = ipnkit::Message::parse(b"txn_type=web_accept&payment_status=Completed&mc_gross=19.95\
//!     &mc_currency=EUR&payment_date=20%3A12%3A59+Jan+13%2C+2009+PST&custom=order-42")?;
//! assert_eq!(*m.event(), ipnkit::Event::PaymentCompleted);
//! assert_eq!(m.mc_gross().map(|g| g.to_string()).as_deref(), Some("19.95 EUR"));
//! assert_eq!(m.payment_date().map(|d| d.to_rfc3339()).as_deref(), Some("2009-01-14T04:12:59Z"));
//! assert_eq!(m.custom(), Some("order-42"));
//! # Ok::<(), ipnkit::Error>(())
//! ```

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rust_decimal::Decimal;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::body::Body;
use crate::date::PayPalDate;
use crate::decode::{Fields, hash};
use crate::error::{Error, FieldName, VALUE_ERROR_CODES};
use crate::event::{Event, Family, Signals};
use crate::key::Key;
use crate::money::{Currency, Money, amount_of, currency_of, money_with_currency_of};
use crate::vocab::*;

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

/// One option of an item: `option_name1` / `option_selection1` (the single item of a Buy Now
/// payment) or `option_name1_2` / `option_selection1_2` (option 1 of cart item 2).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ItemOption {
    /// The option's number (1 for `option_name1`).
    pub number: u32,
    /// `option_nameN`: the option's name, as the merchant set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `option_selectionN`: the buyer's choice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<String>,
}

/// One item of a cart (`item_nameN`, `quantityN`, `mc_gross_N` or the simulator's `mc_grossN`…).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CartItem {
    /// The item's number in the cart (from 1).
    pub number: u32,
    /// `item_nameN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_name: Option<String>,
    /// `item_numberN`: the merchant's item number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_number: Option<String>,
    /// `quantityN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<u32>,
    /// `mc_gross_N`: the item's gross, in `mc_currency`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_gross: Option<Money>,
    /// `mc_shipping_N` (or `mc_shippingN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_shipping: Option<Money>,
    /// `mc_handling_N` (or `mc_handlingN`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_handling: Option<Money>,
    /// `taxN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax: Option<Money>,
    /// `btn_idN`: the id of the button the item was bought with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub btn_id: Option<String>,
    /// `option_nameM_N` / `option_selectionM_N`, by option number.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ItemOption>,
}

/// One payment of a Mass Pay notification (`masspay_txn_id_N`, `mc_gross_N`, `status_N`…).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct MasspayItem {
    /// The item's number (from 1).
    pub number: u32,
    /// `masspay_txn_id_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub masspay_txn_id: Option<String>,
    /// `receiver_email_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver_email: Option<String>,
    /// `unique_id_N`: the merchant's id for this payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unique_id: Option<String>,
    /// `status_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<MasspayStatus>,
    /// `mc_currency_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_currency: Option<Currency>,
    /// `mc_gross_N`, in `mc_currency_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_gross: Option<Money>,
    /// `mc_fee_N`, in `mc_currency_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_fee: Option<Money>,
    /// `mc_handling_N`, in `mc_currency_N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mc_handling: Option<Money>,
    /// `payment_gross_N`, in US dollars (empty for other currencies).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_gross: Option<Money>,
    /// `payment_fee_N`, in US dollars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_fee: Option<Money>,
}

/// One receiver's transaction of an Adaptive Payments Pay notification (`transaction[n].*`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AdaptiveTransaction {
    /// `n`: 0 for a simple payment, more for chained and parallel ones.
    pub index: u32,
    /// `transaction[n].id`: the receiver's transaction id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `transaction[n].id_for_sender_txn`: the sender's transaction id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_for_sender_txn: Option<String>,
    /// `transaction[n].receiver`: the receiver's e-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// `transaction[n].amount` (`USD 110.00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    /// `transaction[n].is_primary_receiver`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_primary_receiver: Option<bool>,
    /// `transaction[n].status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TransactionStatus>,
    /// `transaction[n].status_for_sender_txn`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_for_sender_txn: Option<SenderTransactionStatus>,
    /// `transaction[n].pending_reason`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_reason: Option<AdaptivePendingReason>,
    /// `transaction[n].paymentType` (`SERVICE`, `GOODS`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_type: Option<String>,
    /// `transaction[n].invoiceId`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<String>,
    /// `transaction[n].refund_id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// `transaction[n].refund_amount` (`USD 10.00`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_amount: Option<Money>,
    /// `transaction[n].refund_account_charged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_account_charged: Option<String>,
    /// Other `transaction[n].*` variables, in order, under their field name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<(String, String)>,
}

/// Something worth knowing about a message that does not stop it: counts that disagree, a date
/// label that had to be corrected, a value that is not of its variable's type.
///
/// | code | meaning |
/// |---|---|
/// | `cart_count_mismatch` | `num_cart_items` differs from the number of items |
/// | `date_zone_corrected` | a `PST`/`PDT` label the calendar contradicts was corrected |
/// | `invalid_amount`, `invalid_currency`, `invalid_date`, `invalid_number`, `invalid_flag`, `invalid_period` | the variable's value is not of its type: its typed getter is `None`, the text stays in [`Message::variables`] and [`Message::extra`], and the rules refuse when they need it |
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// A stable code (one of [`NOTICE_CODES`]).
    pub code: &'static str,
    /// The variable concerned.
    pub field: String,
}

/// Every notice code, for bindings to test against.
pub const NOTICE_CODES: &[&str] = &[
    "cart_count_mismatch",
    "date_zone_corrected",
    "invalid_amount",
    "invalid_currency",
    "invalid_date",
    "invalid_number",
    "invalid_flag",
    "invalid_period",
];

/// How each kind of variable is stored: text as the variable's position in [`Fields`] (no copy),
/// everything else as its typed value.
macro_rules! stored_type {
    (text []) => {
        u32
    };
    (flag []) => {
        bool
    };
    (count []) => {
        u32
    };
    (decimal []) => {
        Decimal
    };
    (currency []) => {
        Currency
    };
    (date []) => {
        PayPalDate
    };
    (money [$($src:tt)*]) => {
        Money
    };
    (usd []) => {
        Money
    };
    (money_cur []) => {
        Money
    };
    (period []) => {
        Period
    };
    (vocab [$t:ident]) => {
        $t
    };
    (vocab_ws [$t:ident]) => {
        $t
    };
}

/// Reads one variable's text (`$v`, at position `$i`, named `$k`) as its kind.
macro_rules! parse_value {
    (text [], $i:expr, $k:expr, $v:expr) => {{
        let _ = ($k, $v);
        Some($i)
    }};
    (flag [], $i:expr, $k:expr, $v:expr) => {
        non_empty($v).map(|v| flag_of($k, v)).transpose()?
    };
    (count [], $i:expr, $k:expr, $v:expr) => {
        non_empty($v).map(|v| count_of($k, v)).transpose()?
    };
    (decimal [], $i:expr, $k:expr, $v:expr) => {
        non_empty($v).map(|v| amount_of($k, v)).transpose()?
    };
    (currency [], $i:expr, $k:expr, $v:expr) => {
        non_empty($v).map(|v| currency_of($k, v)).transpose()?
    };
    (date [], $i:expr, $k:expr, $v:expr) => {
        PayPalDate::parse($k, $v)?
    };
    (money [$($src:tt)*], $i:expr, $k:expr, $v:expr) => {
        money_of($k, $v)?
    };
    (usd [], $i:expr, $k:expr, $v:expr) => {
        money_of($k, $v)?.map(|m| Money {
            currency: Some(Currency::USD),
            ..m
        })
    };
    (money_cur [], $i:expr, $k:expr, $v:expr) => {
        non_empty($v)
            .map(|v| money_with_currency_of($k, v))
            .transpose()?
    };
    (period [], $i:expr, $k:expr, $v:expr) => {
        non_empty($v).map(|v| period_of($k, v)).transpose()?
    };
    (vocab [$t:ident], $i:expr, $k:expr, $v:expr) => {{
        let _ = $k;
        non_empty($v).map($t::parse)
    }};
    // PayPal writes `period_type` with a leading space (`+Regular`).
    (vocab_ws [$t:ident], $i:expr, $k:expr, $v:expr) => {{
        let _ = $k;
        non_empty($v).map(|v| $t::parse(v.trim_start()))
    }};
}

/// The getter of one variable: text borrowed from the message, small values copied, the rest
/// borrowed.
macro_rules! getter {
    ($(#[doc = $doc:literal])*, $name:ident, text []) => {
        $(#[doc = $doc])*
        pub fn $name(&self) -> Option<&str> {
            self.vars.$name.and_then(|i| self.fields.value_at(i as usize))
        }
    };
    ($(#[doc = $doc:literal])*, $name:ident, date []) => {
        $(#[doc = $doc])*
        pub fn $name(&self) -> Option<&PayPalDate> {
            self.vars.$name.as_ref()
        }
    };
    ($(#[doc = $doc:literal])*, $name:ident, vocab [$t:ident]) => {
        $(#[doc = $doc])*
        pub fn $name(&self) -> Option<&$t> {
            self.vars.$name.as_ref()
        }
    };
    ($(#[doc = $doc:literal])*, $name:ident, vocab_ws [$t:ident]) => {
        $(#[doc = $doc])*
        pub fn $name(&self) -> Option<&$t> {
            self.vars.$name.as_ref()
        }
    };
    ($(#[doc = $doc:literal])*, $name:ident, $kind:ident [$($arg:tt)*]) => {
        $(#[doc = $doc])*
        pub fn $name(&self) -> Option<stored_type!($kind [$($arg)*])> {
            self.vars.$name
        }
    };
}

/// The value of a modelled variable, by kind: what [`Message::value`] returns, so that bindings
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
    /// A cart item's options (a member of a [record](Record) only).
    Options(&'m [ItemOption]),
    /// Other variables of an Adaptive transaction, in order (a member of a [record](Record)
    /// only).
    Pairs(&'m [(String, String)]),
}

/// One member of a group (a cart item, an option, a Mass Pay item, an Adaptive transaction) as a
/// binding converts it: the fields present, typed, named and ordered as in the canonical JSON.
pub type Record<'m> = Vec<(&'static str, Value<'m>)>;

/// The members of a group: (field name, kind).
pub type Members = &'static [(&'static str, &'static str)];

/// Every group of numbered variables: (name in the canonical JSON, the Rust type of a member,
/// the members' fields with their kinds, as in [`MODELLED_KINDS`]; `records:options` is a list of
/// options, `pairs` a list of (name, value)). `fraud_filters`, a plain list of text, is not here.
pub const GROUPS: &[(&str, &str, Members)] = &[
    (
        "options",
        "ItemOption",
        &[("number", "count"), ("name", "text"), ("selection", "text")],
    ),
    (
        "items",
        "CartItem",
        &[
            ("number", "count"),
            ("item_name", "text"),
            ("item_number", "text"),
            ("quantity", "count"),
            ("mc_gross", "money"),
            ("mc_shipping", "money"),
            ("mc_handling", "money"),
            ("tax", "money"),
            ("btn_id", "text"),
            ("options", "records:options"),
        ],
    ),
    (
        "masspay_items",
        "MasspayItem",
        &[
            ("number", "count"),
            ("masspay_txn_id", "text"),
            ("receiver_email", "text"),
            ("unique_id", "text"),
            ("status", "vocab:MasspayStatus"),
            ("mc_currency", "currency"),
            ("mc_gross", "money"),
            ("mc_fee", "money"),
            ("mc_handling", "money"),
            ("payment_gross", "money"),
            ("payment_fee", "money"),
        ],
    ),
    (
        "transactions",
        "AdaptiveTransaction",
        &[
            ("index", "count"),
            ("id", "text"),
            ("id_for_sender_txn", "text"),
            ("receiver", "text"),
            ("amount", "money"),
            ("is_primary_receiver", "flag"),
            ("status", "vocab:TransactionStatus"),
            ("status_for_sender_txn", "vocab:SenderTransactionStatus"),
            ("pending_reason", "vocab:AdaptivePendingReason"),
            ("payment_type", "text"),
            ("invoice_id", "text"),
            ("refund_id", "text"),
            ("refund_amount", "money"),
            ("refund_account_charged", "text"),
            ("extra", "pairs"),
        ],
    ),
];

/// Appends `(name, value)` to a record when the value is present.
fn member<'m>(record: &mut Record<'m>, name: &'static str, value: Option<Value<'m>>) {
    if let Some(value) = value {
        record.push((name, value));
    }
}

impl ItemOption {
    /// The option as a [`Record`].
    pub fn record(&self) -> Record<'_> {
        let mut r = vec![("number", Value::Count(self.number))];
        member(&mut r, "name", self.name.as_deref().map(Value::Text));
        member(
            &mut r,
            "selection",
            self.selection.as_deref().map(Value::Text),
        );
        r
    }
}

impl CartItem {
    /// The item as a [`Record`].
    pub fn record(&self) -> Record<'_> {
        let mut r = vec![("number", Value::Count(self.number))];
        member(
            &mut r,
            "item_name",
            self.item_name.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "item_number",
            self.item_number.as_deref().map(Value::Text),
        );
        member(&mut r, "quantity", self.quantity.map(Value::Count));
        member(&mut r, "mc_gross", self.mc_gross.map(Value::Money));
        member(&mut r, "mc_shipping", self.mc_shipping.map(Value::Money));
        member(&mut r, "mc_handling", self.mc_handling.map(Value::Money));
        member(&mut r, "tax", self.tax.map(Value::Money));
        member(&mut r, "btn_id", self.btn_id.as_deref().map(Value::Text));
        if !self.options.is_empty() {
            r.push(("options", Value::Options(&self.options)));
        }
        r
    }
}

impl MasspayItem {
    /// The item as a [`Record`].
    pub fn record(&self) -> Record<'_> {
        let mut r = vec![("number", Value::Count(self.number))];
        member(
            &mut r,
            "masspay_txn_id",
            self.masspay_txn_id.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "receiver_email",
            self.receiver_email.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "unique_id",
            self.unique_id.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "status",
            self.status.as_ref().map(|w| Value::Word(w.as_str())),
        );
        member(&mut r, "mc_currency", self.mc_currency.map(Value::Currency));
        member(&mut r, "mc_gross", self.mc_gross.map(Value::Money));
        member(&mut r, "mc_fee", self.mc_fee.map(Value::Money));
        member(&mut r, "mc_handling", self.mc_handling.map(Value::Money));
        member(
            &mut r,
            "payment_gross",
            self.payment_gross.map(Value::Money),
        );
        member(&mut r, "payment_fee", self.payment_fee.map(Value::Money));
        r
    }
}

impl AdaptiveTransaction {
    /// The transaction as a [`Record`].
    pub fn record(&self) -> Record<'_> {
        let mut r = vec![("index", Value::Count(self.index))];
        member(&mut r, "id", self.id.as_deref().map(Value::Text));
        member(
            &mut r,
            "id_for_sender_txn",
            self.id_for_sender_txn.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "receiver",
            self.receiver.as_deref().map(Value::Text),
        );
        member(&mut r, "amount", self.amount.map(Value::Money));
        member(
            &mut r,
            "is_primary_receiver",
            self.is_primary_receiver.map(Value::Flag),
        );
        member(
            &mut r,
            "status",
            self.status.as_ref().map(|w| Value::Word(w.as_str())),
        );
        member(
            &mut r,
            "status_for_sender_txn",
            self.status_for_sender_txn
                .as_ref()
                .map(|w| Value::Word(w.as_str())),
        );
        member(
            &mut r,
            "pending_reason",
            self.pending_reason
                .as_ref()
                .map(|w| Value::Word(w.as_str())),
        );
        member(
            &mut r,
            "payment_type",
            self.payment_type.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "invoice_id",
            self.invoice_id.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "refund_id",
            self.refund_id.as_deref().map(Value::Text),
        );
        member(
            &mut r,
            "refund_amount",
            self.refund_amount.map(Value::Money),
        );
        member(
            &mut r,
            "refund_account_charged",
            self.refund_account_charged.as_deref().map(Value::Text),
        );
        if !self.extra.is_empty() {
            r.push(("extra", Value::Pairs(&self.extra)));
        }
        r
    }
}

/// What [`Message::get`] finds under a name: it tells a variable the message does not carry from
/// a name that is not a modelled variable at all (a misspelling, most often).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'m> {
    /// The name is not one of [`MODELLED_VARIABLES`].
    NotModelled,
    /// A modelled variable the message does not carry (or carries empty, or not of its type:
    /// see [`Message::is_unreadable`]).
    Absent,
    /// The variable's typed value.
    Value(Value<'m>),
}

/// Wraps a getter's result in a [`Value`] of its kind.
macro_rules! value_of {
    (text, $v:expr) => {
        $v.map(Value::Text)
    };
    (flag, $v:expr) => {
        $v.map(Value::Flag)
    };
    (count, $v:expr) => {
        $v.map(Value::Count)
    };
    (decimal, $v:expr) => {
        $v.map(Value::Decimal)
    };
    (currency, $v:expr) => {
        $v.map(Value::Currency)
    };
    (date, $v:expr) => {
        $v.map(Value::Date)
    };
    (money, $v:expr) => {
        $v.map(Value::Money)
    };
    (usd, $v:expr) => {
        $v.map(Value::Money)
    };
    (money_cur, $v:expr) => {
        $v.map(Value::Money)
    };
    (period, $v:expr) => {
        $v.map(Value::Period)
    };
    (vocab, $v:expr) => {
        $v.map(|w| Value::Word(w.as_str()))
    };
    (vocab_ws, $v:expr) => {
        $v.map(|w| Value::Word(w.as_str()))
    };
}

/// The kind of a variable as bindings see it.
macro_rules! kind_name {
    (vocab [$t:ident]) => {
        concat!("vocab:", stringify!($t))
    };
    (vocab_ws [$t:ident]) => {
        concat!("vocab:", stringify!($t))
    };
    (usd) => {
        "money"
    };
    (money_cur) => {
        "money"
    };
    (money [$($src:tt)*]) => {
        "money"
    };
    ($kind:ident) => {
        stringify!($kind)
    };
}

/// Gives money its currency once every variable is read (the currency may come later).
macro_rules! settle_currency {
    ($v:ident, $name:ident, money [$($src:ident)|+]) => {
        if let Some(money) = &mut $v.$name {
            money.currency = None $(.or($v.$src))+;
        }
    };
    ($v:ident, $name:ident, $($other:tt)*) => {};
}

macro_rules! check_date {
    ($v:ident, $notices:ident, $name:ident, date) => {
        if $v.$name.as_ref().is_some_and(|d| d.zone_corrected) {
            $notices.push(Notice {
                code: "date_zone_corrected",
                field: stringify!($name).to_owned(),
            });
        }
    };
    ($v:ident, $notices:ident, $name:ident, $($other:tt)*) => {};
}

type Setter = fn(&mut Vars, u32, &str, &str) -> Result<(), Error>;

/// Reads one modelled variable of a message.
type Getter = for<'m> fn(&'m Message) -> Option<Value<'m>>;

macro_rules! message {
    ( $( $(#[doc = $doc:literal])* $name:ident : $kind:ident $([$($arg:tt)*])? ; )* ) => {
        /// The modelled variables, as stored.
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        struct Vars {
            $( $name: Option<stored_type!($kind [$($($arg)*)?])>, )*
        }

        /// Every variable name with a typed field, in declaration order.
        pub const MODELLED_VARIABLES: &[&str] = &[$(stringify!($name)),*];

        /// Every modelled variable with its kind (`text`, `flag`, `count`, `decimal`,
        /// `currency`, `date`, `money`, `period`, or `vocab:<Enum>` naming one of
        /// [`VOCABULARIES`](crate::vocab::VOCABULARIES)): what bindings generate their types from.
        pub const MODELLED_KINDS: &[(&str, &str)] = &[$((stringify!($name), kind_name!($kind $([$($arg)*])?))),*];

        /// The setter and the getter of each modelled variable, in an open-addressing table keyed
        /// by name: the one lookup by name, for parsing and for [`Message::get`].
        static VARIABLES: LazyLock<VariableTable> = LazyLock::new(|| {
            VariableTable::new(&[
                $( (stringify!($name), |m: &mut Vars, i: u32, k: &str, v: &str| -> Result<(), Error> {
                    let _ = i; // only text kinds keep the position
                    m.$name = parse_value!($kind [$($($arg)*)?], i, k, v);
                    Ok(())
                }, |m: &Message| value_of!($kind, m.$name())), )*
            ])
        });

        impl Vars {
            fn settle(&mut self, notices: &mut Vec<Notice>) {
                $( settle_currency!(self, $name, $kind $([$($arg)*])?); )*
                $( check_date!(self, notices, $name, $kind); )*
            }
        }

        /// The typed fields, one getter per variable of PayPal's IPN guide.
        impl Message {
            $( getter!($(#[doc = $doc])*, $name, $kind [$($($arg)*)?]); )*

            /// The value of the modelled variable `name` (one of [`MODELLED_VARIABLES`]), or
            /// `None` when the message does not carry it or `name` is not modelled.
            ///
            /// ```
            /// use ipnkit::{Message, Value};
            /// let m = Message::parse(b"mc_gross=19.95&mc_currency=USD&test_ipn=1")?;
            /// assert!(matches!(m.value("mc_gross"), Some(Value::Money(_))));
            /// assert_eq!(m.value("test_ipn"), Some(Value::Flag(true)));
            /// assert_eq!(m.value("txn_id"), None);
            /// # Ok::<(), ipnkit::Error>(())
            /// ```
            pub fn value(&self, name: &str) -> Option<Value<'_>> {
                match self.get(name) {
                    Lookup::Value(value) => Some(value),
                    Lookup::Absent | Lookup::NotModelled => None,
                }
            }

            /// Every modelled variable the message carries, typed, in declaration order: what
            /// the canonical JSON lists, and what a binding converts at once.
            pub fn present(&self) -> impl Iterator<Item = (&'static str, Value<'_>)> + '_ {
                let mut out = Vec::new();
                $( if let Some(value) = value_of!($kind, self.$name()) {
                    out.push((stringify!($name), value));
                } )*
                out.into_iter()
            }
        }

        impl Serialize for Message {
            /// The canonical JSON of DESIGN.md: `event`, `family`, the typed variables present
            /// (PayPal's names, declaration order), the grouped lists, `notices`, then `extra`.
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("event", &self.event)?;
                map.serialize_entry("family", &self.family)?;
                $( if let Some(value) = self.$name() {
                    map.serialize_entry(stringify!($name), &value)?;
                } )*
                if !self.options.is_empty() { map.serialize_entry("options", &self.options)?; }
                if !self.items.is_empty() { map.serialize_entry("items", &self.items)?; }
                if !self.masspay_items.is_empty() { map.serialize_entry("masspay_items", &self.masspay_items)?; }
                if !self.transactions.is_empty() { map.serialize_entry("transactions", &self.transactions)?; }
                if !self.fraud_filters.is_empty() { map.serialize_entry("fraud_filters", &self.fraud_filters)?; }
                if !self.notices.is_empty() { map.serialize_entry("notices", &self.notices)?; }
                if !self.extra.is_empty() {
                    let extra: Vec<(&str, &str)> = self.extra().collect();
                    map.serialize_entry("extra", &extra)?;
                }
                map.end()
            }
        }
    };
}

/// A typed IPN message. See the [module docs](crate::message).
///
/// One getter per variable of PayPal's IPN guide, named as PayPal names it; each is `None` when
/// the message does not carry the variable (or carries it empty, for typed variables: text keeps
/// `""`). Text is borrowed from the decoded variables the message owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    event: Event,
    family: Family,
    fields: Fields,
    /// Boxed: some 170 typed variables would make every move of a message kilobytes long.
    vars: Box<Vars>,
    options: Vec<ItemOption>,
    items: Vec<CartItem>,
    masspay_items: Vec<MasspayItem>,
    transactions: Vec<AdaptiveTransaction>,
    fraud_filters: Vec<String>,
    notices: Vec<Notice>,
    /// Positions of the variables not modelled.
    extra: Vec<u32>,
}

message! {
    // ---- transaction and notification ----
    /// What kind of notification this is.
    txn_type: vocab[TxnType];
    /// The transaction's id (absent from Mass Pay and some recurring-payment notifications).
    txn_id: text;
    /// For a refund, reversal or cancelled reversal: the original transaction's id.
    parent_txn_id: text;
    /// The receipt id shown to the buyer (the simulator spells it `receipt_ID`).
    receipt_id: text;
    /// PayPal's id of this notification, the same across resends.
    ipn_track_id: text;
    /// The message format's version.
    notify_version: text;
    /// PayPal's signature field (not checked: verification is the postback).
    verify_sign: text;
    /// The charset of the message, as PayPal named it.
    charset: text;
    /// `1` for a sandbox (or simulator) message.
    test_ipn: flag;
    /// `true` when the merchant resent this notification from the IPN history.
    resend: flag;
    /// The merchant's e-mail address the payment was sent to.
    business: text;
    /// The merchant's primary e-mail address.
    receiver_email: text;
    /// The merchant's account id.
    receiver_id: text;
    /// The buyer's country of residence (two letters).
    residence_country: text;
    /// The merchant's pass-through value.
    custom: text;
    /// The merchant's invoice number.
    invoice: text;
    /// The buyer's note.
    memo: text;
    /// The subject of the payment.
    transaction_subject: text;

    // ---- buyer ----
    /// The buyer's first name.
    first_name: text;
    /// The buyer's last name.
    last_name: text;
    /// The buyer's e-mail address.
    payer_email: text;
    /// The buyer's account id.
    payer_id: text;
    /// Whether the buyer's account is verified.
    payer_status: vocab[PayerStatus];
    /// The buyer's business name.
    payer_business_name: text;
    /// The buyer's phone number.
    contact_phone: text;
    /// The shipping address: name.
    address_name: text;
    /// The shipping address: street (may hold CR/LF between lines).
    address_street: text;
    /// The shipping address: city.
    address_city: text;
    /// The shipping address: state or province.
    address_state: text;
    /// The shipping address: postal code.
    address_zip: text;
    /// The shipping address: country.
    address_country: text;
    /// The shipping address: country code.
    address_country_code: text;
    /// Whether the address is confirmed.
    address_status: vocab[AddressStatus];

    // ---- payment ----
    /// The payment's status.
    payment_status: vocab[PaymentStatus];
    /// Why a payment is pending.
    pending_reason: vocab[PendingReason];
    /// Why a payment was reversed or refunded, or what a dispute is about.
    reason_code: vocab[ReasonCode];
    /// How the payment was funded.
    payment_type: vocab[PaymentType];
    /// Seller Protection coverage.
    protection_eligibility: vocab[ProtectionEligibility];
    /// When PayPal made the payment.
    payment_date: date;
    /// The currency of `mc_*` amounts.
    mc_currency: currency;
    /// The gross amount, before fees.
    mc_gross: money[mc_currency];
    /// PayPal's fee.
    mc_fee: money[mc_currency];
    /// Handling charged.
    mc_handling: money[mc_currency];
    /// Shipping charged.
    mc_shipping: money[mc_currency];
    /// Tax charged.
    tax: money[mc_currency];
    /// Shipping charged (older name).
    shipping: money[mc_currency];
    /// Handling charged (Express Checkout).
    handling_amount: money[mc_currency];
    /// Discount applied.
    discount: money[mc_currency];
    /// Discount applied to shipping.
    shipping_discount: money[mc_currency];
    /// Insurance charged.
    insurance_amount: money[mc_currency];
    /// The gross in US dollars (empty for other currencies; legacy).
    payment_gross: usd;
    /// The fee in US dollars (legacy).
    payment_fee: usd;
    /// The amount credited after conversion.
    settle_amount: money[settle_currency];
    /// The currency of `settle_amount`.
    settle_currency: currency;
    /// The conversion rate applied.
    exchange_rate: decimal;
    /// When an eCheck cleared.
    echeck_time_processed: date;
    /// The single item's name.
    item_name: text;
    /// The single item's merchant number.
    item_number: text;
    /// The single item's quantity.
    quantity: count;
    /// The shipping method chosen.
    shipping_method: text;
    /// The number of items in a cart.
    num_cart_items: count;
    /// Authorization id.
    auth_id: text;
    /// Authorization status.
    auth_status: vocab[AuthStatus];
    /// Amount authorized.
    auth_amount: money[mc_currency];
    /// When the authorization expires.
    auth_exp: date;
    /// Amount still capturable under the authorization.
    remaining_settle: money[mc_currency];
    /// Which kind of transaction the notification is about.
    transaction_entity: vocab[TransactionEntity];

    // ---- auction ----
    /// Whether the payment is for an auction.
    for_auction: flag;
    /// The buyer's auction id.
    auction_buyer_id: text;
    /// When the auction closed.
    auction_closing_date: date;
    /// The number of items won in a multi-item auction.
    auction_multi_item: count;

    // ---- recurring payments ----
    /// The recurring payments profile's id.
    recurring_payment_id: text;
    /// The merchant's invoice id for the profile.
    rp_invoice_id: text;
    /// The profile's state.
    profile_status: vocab[ProfileStatus];
    /// The product's name.
    product_name: text;
    /// The product's type.
    product_type: text;
    /// Trial or regular period.
    period_type: vocab_ws[PeriodType];
    /// How often payments are made (`Daily`, `Monthly`…).
    payment_cycle: text;
    /// The currency of the profile's amounts.
    currency_code: currency;
    /// The amount of each payment.
    amount: money[currency_code | mc_currency];
    /// The amount of each cycle.
    amount_per_cycle: money[currency_code | mc_currency];
    /// The initial payment's amount.
    initial_payment_amount: money[currency_code | mc_currency];
    /// The initial payment's status.
    initial_payment_status: text;
    /// The initial payment's transaction id.
    initial_payment_txn_id: text;
    /// The amount due and not yet paid.
    outstanding_balance: money[currency_code | mc_currency];
    /// When the next payment is due (`N/A`: none).
    next_payment_date: date;
    /// When the profile was created.
    time_created: date;

    // ---- subscriptions ----
    /// The subscription's id.
    subscr_id: text;
    /// The previous subscription's id (`subscr_modify`).
    old_subscr_id: text;
    /// When the subscription started or changed.
    subscr_date: date;
    /// When a modification takes effect.
    subscr_effective: date;
    /// Trial period 1.
    period1: period;
    /// Trial period 2.
    period2: period;
    /// The regular period.
    period3: period;
    /// Trial amount 1.
    amount1: money[mc_currency];
    /// Trial amount 2.
    amount2: money[mc_currency];
    /// The regular amount.
    amount3: money[mc_currency];
    /// Trial amount 1, in `mc_currency`.
    mc_amount1: money[mc_currency];
    /// Trial amount 2, in `mc_currency`.
    mc_amount2: money[mc_currency];
    /// The regular amount, in `mc_currency`.
    mc_amount3: money[mc_currency];
    /// Whether the subscription recurs.
    recurring: flag;
    /// Whether failed payments are retried.
    reattempt: flag;
    /// When a failed payment is retried.
    retry_at: date;
    /// How many payments the subscription makes.
    recur_times: count;
    /// The subscriber's user name.
    username: text;
    /// The subscriber's password (encrypted).
    password: text;

    // ---- billing agreements ----
    /// The billing agreement's id.
    mp_id: text;
    /// The billing agreement's status (`0` active, `1` inactive).
    mp_status: text;
    /// The billing agreement's description.
    mp_desc: text;
    /// The merchant's pass-through value for the billing agreement.
    mp_custom: text;
    /// The billing agreement's currency.
    mp_currency: currency;
    /// The day of the month the billing cycle starts.
    mp_cycle_start: count;

    // ---- disputes ----
    /// The dispute's id.
    case_id: text;
    /// The kind of dispute.
    case_type: vocab[CaseType];
    /// When the dispute was opened.
    case_creation_date: date;

    // ---- Adaptive Payments: Pay and Preapproval ----
    /// Pay, Preapproval or Adjustment.
    transaction_type: vocab[AdaptiveType];
    /// The request's status.
    status: vocab[AdaptiveStatus];
    /// The sender's e-mail address.
    sender_email: text;
    /// How the Pay request was made.
    action_type: vocab[ActionType];
    /// When the payment was requested.
    payment_request_date: date;
    /// Whether parallel payments are all reversed on error.
    reverse_all_parallel_payments_on_error: flag;
    /// The Pay request's key.
    pay_key: text;
    /// Who pays the fees.
    fees_payer: vocab[FeesPayer];
    /// The merchant's tracking id.
    tracking_id: text;
    /// The preapproval's key.
    preapproval_key: text;
    /// Where the sender went after paying.
    return_url: text;
    /// Where the sender went after cancelling.
    cancel_url: text;
    /// Where this notification was sent.
    ipn_notification_url: text;
    /// Whether the default shipping address was logged.
    log_default_shipping_address_in_transaction: flag;
    /// Whether the preapproval was approved.
    approved: flag;
    /// Payments made under the preapproval.
    current_number_of_payments: count;
    /// Total paid under the preapproval.
    current_total_amount_of_all_payments: money[currency_code];
    /// Attempts in the current period.
    current_period_attempts: count;
    /// Day of the month payments are made.
    date_of_month: count;
    /// Day of the week payments are made.
    day_of_week: text;
    /// When the preapproval starts.
    starting_date: date;
    /// When the preapproval ends.
    ending_date: date;
    /// Most that may be paid in all.
    max_total_amount_of_all_payments: money[currency_code];
    /// Most that may be paid at once.
    max_amount_per_payment: money[currency_code];
    /// Most payments allowed.
    max_number_of_payments: count;
    /// Most payments allowed per period.
    max_number_of_payments_per_period: count;
    /// The preapproval's period.
    payment_period: vocab[PaymentPeriod];
    /// Whether a PIN is needed.
    pin_type: vocab[PinType];

    // ---- Adaptive Accounts ----
    /// The key of an account created with Adaptive Accounts.
    account_key: text;
    /// The confirmation code of a created account.
    confirmation_code: text;
}

/// The documented name of a variable PayPal (or its simulator) has spelled otherwise.
fn alias_of(key: &str) -> Option<&'static str> {
    match key {
        "receipt_ID" => Some("receipt_id"),
        _ => None,
    }
}

/// Name → (setter, getter), by open addressing on the name's [`hash`]: one or two probes and one
/// string comparison a variable (a sorted table's binary search cost several times that).
struct VariableTable {
    slots: Vec<Option<Entry>>,
    shift: u32,
}

/// One slot of the [`VariableTable`].
#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    name: &'static str,
    set: Setter,
    get: Getter,
}

impl VariableTable {
    /// 512 slots: under a third full, so probes are short.
    const BITS: u32 = 9;

    fn new(entries: &[(&'static str, Setter, Getter)]) -> VariableTable {
        let mut table = VariableTable {
            slots: vec![None; 1 << Self::BITS],
            shift: 64 - Self::BITS,
        };
        for &(name, set, get) in entries {
            let h = hash(name);
            let mut i = table.slot(h);
            while table.slots.get(i).is_some_and(Option::is_some) {
                i = (i + 1) & table.mask();
            }
            if let Some(slot) = table.slots.get_mut(i) {
                *slot = Some(Entry {
                    hash: h,
                    name,
                    set,
                    get,
                });
            }
        }
        table
    }

    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The multiply in [`hash`] mixes best into the high bits: the top [`Self::BITS`] bits.
    #[allow(clippy::cast_possible_truncation)] // under 2^BITS: fits any usize
    fn slot(&self, h: u64) -> usize {
        (h >> self.shift) as usize
    }

    fn get(&self, key: &str, h: u64) -> Option<Entry> {
        let mut i = self.slot(h);
        loop {
            match self.slots.get(i)? {
                None => return None,
                Some(entry) if entry.hash == h && entry.name == key => return Some(*entry),
                Some(_) => i = (i + 1) & self.mask(),
            }
        }
    }
}

fn setter(key: &str, h: u64) -> Option<Setter> {
    VARIABLES.get(key, h).map(|entry| entry.set)
}

fn non_empty(v: &str) -> Option<&str> {
    (!v.is_empty()).then_some(v)
}

fn parse_count(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn count_of(field: &str, text: &str) -> Result<u32, Error> {
    parse_count(text).ok_or_else(|| Error::InvalidNumber {
        field: FieldName::new(field),
    })
}

fn flag_of(field: &str, text: &str) -> Result<bool, Error> {
    match text {
        "1" => Ok(true),
        "0" => Ok(false),
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        t if t.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(Error::InvalidFlag {
            field: FieldName::new(field),
        }),
    }
}

fn period_of(field: &str, text: &str) -> Result<Period, Error> {
    Period::parse(text).ok_or_else(|| Error::InvalidPeriod {
        field: FieldName::new(field),
    })
}

/// Per-item variables of a cart, by base name.
const CART_ITEM_BASES: &[&str] = &[
    "btn_id",
    "item_name",
    "item_number",
    "quantity",
    "mc_gross",
    "mc_shipping",
    "mc_handling",
    "tax",
];

/// Per-item variables of a Mass Pay notification, by base name.
const MASSPAY_BASES: &[&str] = &[
    "masspay_txn_id",
    "receiver_email",
    "unique_id",
    "status",
    "mc_currency",
    "mc_gross",
    "mc_fee",
    "mc_handling",
    "payment_gross",
    "payment_fee",
];

/// Lists being filled while the variables are read, keyed by number.
#[derive(Default)]
struct Groups {
    options: BTreeMap<u32, ItemOption>,
    /// Each item with the bits of [`CART_ITEM_BASES`] already filled, whatever their spelling
    /// (`mc_gross_1` and `mc_gross1` fill one slot: both is a duplicate).
    items: BTreeMap<u32, (CartItem, u8)>,
    masspay: BTreeMap<u32, MasspayItem>,
    transactions: BTreeMap<u32, AdaptiveTransaction>,
    fraud_filters: BTreeMap<u32, String>,
}

fn money_of(key: &str, value: &str) -> Result<Option<Money>, Error> {
    Ok(non_empty(value)
        .map(|v| amount_of(key, v))
        .transpose()?
        .map(|amount| Money {
            amount,
            currency: None,
        }))
}

fn option_entry(options: &mut BTreeMap<u32, ItemOption>, number: u32) -> &mut ItemOption {
    options.entry(number).or_insert_with(|| ItemOption {
        number,
        ..ItemOption::default()
    })
}

/// The position of the first variable that fills the same group slot as the one at `second`
/// (another spelling of it): the cold path of a duplicate.
#[cold]
fn first_of_slot(fields: &Fields, second: usize, masspay: bool) -> usize {
    /// The (base, number) a key fills in a group, if it fills one.
    fn slot(key: &str, masspay: bool) -> Option<(&str, u32)> {
        match Key::parse(key) {
            Key::Numbered { base, index, .. } => Groups::default()
                .file(key, "", masspay)
                .ok()
                .filter(|filed| *filed)
                .map(|_| (base, index)),
            _ => None,
        }
    }
    let target = fields.at(second).and_then(|f| slot(f.key, masspay));
    fields
        .iter()
        .take(second)
        .find(|f| target.is_some() && slot(f.key, masspay) == target)
        .map_or(second, |f| f.index)
}

impl Groups {
    /// Files a numbered or array variable into its group; `false` when it belongs to none.
    fn file(&mut self, key: &str, value: &str, masspay: bool) -> Result<bool, Error> {
        match Key::parse(key) {
            Key::Numbered {
                base,
                index,
                separator,
            } => self.numbered(key, value, base, index, separator, masspay),
            Key::DoubleNumbered {
                base,
                first,
                second,
            } if base == "option_name" || base == "option_selection" => {
                let (item, _) = self.items.entry(second).or_insert_with(|| {
                    (
                        CartItem {
                            number: second,
                            ..CartItem::default()
                        },
                        0,
                    )
                });
                let option = match item.options.iter().position(|o| o.number == first) {
                    Some(i) => item.options.get_mut(i),
                    None => {
                        item.options.push(ItemOption {
                            number: first,
                            ..ItemOption::default()
                        });
                        item.options.last_mut()
                    }
                };
                if let Some(option) = option {
                    if base == "option_name" {
                        option.name = Some(value.to_owned());
                    } else {
                        option.selection = Some(value.to_owned());
                    }
                }
                Ok(true)
            }
            Key::Array {
                array: "transaction",
                index,
                field,
            } => {
                let t = self
                    .transactions
                    .entry(index)
                    .or_insert_with(|| AdaptiveTransaction {
                        index,
                        ..AdaptiveTransaction::default()
                    });
                let text = || Some(value.to_owned());
                match field {
                    "id" => t.id = text(),
                    "id_for_sender_txn" => t.id_for_sender_txn = text(),
                    "receiver" => t.receiver = text(),
                    "amount" => t.amount = parse_value!(money_cur [], 0u32, key, value),
                    "is_primary_receiver" => {
                        t.is_primary_receiver = parse_value!(flag [], 0u32, key, value)
                    }
                    "status" => t.status = parse_value!(vocab[TransactionStatus], 0u32, key, value),
                    "status_for_sender_txn" => {
                        t.status_for_sender_txn =
                            parse_value!(vocab[SenderTransactionStatus], 0u32, key, value)
                    }
                    "pending_reason" => {
                        t.pending_reason =
                            parse_value!(vocab[AdaptivePendingReason], 0u32, key, value)
                    }
                    "paymentType" => t.payment_type = text(),
                    "invoiceId" => t.invoice_id = text(),
                    "refund_id" => t.refund_id = text(),
                    "refund_amount" => {
                        t.refund_amount = parse_value!(money_cur [], 0u32, key, value)
                    }
                    "refund_account_charged" => t.refund_account_charged = text(),
                    other => t.extra.push((other.to_owned(), value.to_owned())),
                }
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn numbered(
        &mut self,
        key: &str,
        value: &str,
        base: &str,
        index: u32,
        separator: crate::key::Separator,
        masspay: bool,
    ) -> Result<bool, Error> {
        use crate::key::Separator;
        if base == "fraud_management_pending_filters" {
            if self.fraud_filters.insert(index, value.to_owned()).is_some() {
                return Err(Error::DuplicateKey {
                    field: FieldName::new(key),
                    first: 0, // filled in by the caller, which knows the positions
                    second: 0,
                });
            }
            return Ok(true);
        }
        if (base == "option_name" || base == "option_selection") && separator == Separator::None {
            let option = option_entry(&mut self.options, index);
            if base == "option_name" {
                option.name = Some(value.to_owned());
            } else {
                option.selection = Some(value.to_owned());
            }
            return Ok(true);
        }
        if masspay && separator == Separator::Underscore && MASSPAY_BASES.contains(&base) {
            let item = self.masspay.entry(index).or_insert_with(|| MasspayItem {
                number: index,
                ..MasspayItem::default()
            });
            let text = || Some(value.to_owned());
            match base {
                "masspay_txn_id" => item.masspay_txn_id = text(),
                "receiver_email" => item.receiver_email = text(),
                "unique_id" => item.unique_id = text(),
                "status" => item.status = parse_value!(vocab[MasspayStatus], 0u32, key, value),
                "mc_currency" => item.mc_currency = parse_value!(currency [], 0u32, key, value),
                "mc_gross" => item.mc_gross = money_of(key, value)?,
                "mc_fee" => item.mc_fee = money_of(key, value)?,
                "mc_handling" => item.mc_handling = money_of(key, value)?,
                "payment_gross" => item.payment_gross = parse_value!(usd [], 0u32, key, value),
                _ => item.payment_fee = parse_value!(usd [], 0u32, key, value),
            }
            return Ok(true);
        }
        if let Some(bit) = CART_ITEM_BASES
            .iter()
            .position(|b| *b == base)
            .filter(|_| !masspay)
        {
            let (item, filled) = self.items.entry(index).or_insert_with(|| {
                (
                    CartItem {
                        number: index,
                        ..CartItem::default()
                    },
                    0,
                )
            });
            let bit = 1u8 << bit;
            if *filled & bit != 0 {
                return Err(Error::DuplicateKey {
                    field: FieldName::new(key),
                    first: 0, // filled in by the caller, which knows the positions
                    second: 0,
                });
            }
            *filled |= bit;
            match base {
                "btn_id" => item.btn_id = Some(value.to_owned()),
                "item_name" => item.item_name = Some(value.to_owned()),
                "item_number" => item.item_number = Some(value.to_owned()),
                "quantity" => item.quantity = parse_value!(count [], 0u32, key, value),
                "mc_gross" => item.mc_gross = money_of(key, value)?,
                "mc_shipping" => item.mc_shipping = money_of(key, value)?,
                "mc_handling" => item.mc_handling = money_of(key, value)?,
                _ => item.tax = money_of(key, value)?,
            }
            return Ok(true);
        }
        Ok(false)
    }
}

impl Message {
    /// Parses a raw body with the default limits: [`Body::parse`], [`Body::decode`], then
    /// [`Message::from_fields`].
    pub fn parse(raw: &[u8]) -> Result<Message, Error> {
        let body = Body::parse(raw)?;
        Message::from_fields(body.decode()?)
    }

    /// Builds the typed message from decoded variables, which it keeps (see
    /// [`variables`](Message::variables)).
    pub fn from_fields(fields: Fields) -> Result<Message, Error> {
        let mut vars = Box::<Vars>::default();
        let masspay = fields.get("txn_type") == Some("masspay");
        let mut groups = Groups::default();
        let mut extra = Vec::new();
        let mut notices = Vec::new();
        for f in &fields {
            let (key, value) = (f.key, f.value);
            let position = u32::try_from(f.index).unwrap_or(u32::MAX);
            let found = match alias_of(key) {
                // Two spellings of one variable are the same variable twice.
                Some(name) => match fields.field(name) {
                    Some(documented) => {
                        return Err(Error::DuplicateKey {
                            field: FieldName::new(key),
                            first: documented.index.min(f.index),
                            second: documented.index.max(f.index),
                        });
                    }
                    None => setter(name, hash(name)),
                },
                None => fields.hash_at(f.index).and_then(|h| setter(key, h)),
            };
            let filed = match found {
                Some(set) => set(&mut vars, position, key, value).map(|()| true),
                None => groups.file(key, value, masspay),
            };
            match filed {
                Ok(true) => {}
                Ok(false) => extra.push(position),
                // A value that is not of its type loses nothing: it stays as text among the
                // variables and in `extra`, and a notice names it. The rules refuse when they
                // need it (see `Message::is_unreadable`).
                Err(e) if e.is_value_error() => {
                    notices.push(Notice {
                        code: e.code(),
                        field: key.to_owned(),
                    });
                    extra.push(position);
                }
                Err(Error::DuplicateKey { field, .. }) => {
                    return Err(Error::DuplicateKey {
                        field,
                        first: first_of_slot(&fields, f.index, masspay),
                        second: f.index,
                    });
                }
                Err(e) => return Err(e),
            }
        }
        let mut m = Message {
            event: Event::Unknown,
            family: Family::Unknown,
            fields,
            vars,
            options: groups.options.into_values().collect(),
            items: groups.items.into_values().map(|(item, _)| item).collect(),
            masspay_items: groups.masspay.into_values().collect(),
            transactions: groups.transactions.into_values().collect(),
            fraud_filters: groups.fraud_filters.into_values().collect(),
            notices: Vec::new(),
            extra,
        };
        m.settle_groups(&mut notices);
        m.vars.settle(&mut notices);
        m.notices = notices;
        let signals = Signals {
            transaction_type: m.transaction_type(),
            txn_type: m.txn_type(),
            payment_status: m.payment_status(),
            pending_reason: m.pending_reason(),
            reason_code: m.reason_code(),
            account_key: m.account_key().is_some(),
            case_type: m.case_type().is_some(),
            auth_id: m.auth_id().is_some(),
            for_auction: m.for_auction() == Some(true),
        };
        (m.family, m.event) = (Family::of(&signals), Event::of(&signals));
        Ok(m)
    }

    fn settle_groups(&mut self, notices: &mut Vec<Notice>) {
        let currency = self.vars.mc_currency;
        for item in &mut self.items {
            for money in [
                &mut item.mc_gross,
                &mut item.mc_shipping,
                &mut item.mc_handling,
                &mut item.tax,
            ]
            .into_iter()
            .flatten()
            {
                money.currency = currency;
            }
        }
        for item in &mut self.masspay_items {
            let currency = item.mc_currency;
            for money in [&mut item.mc_gross, &mut item.mc_fee, &mut item.mc_handling]
                .into_iter()
                .flatten()
            {
                money.currency = currency;
            }
        }
        if let Some(declared) = self.vars.num_cart_items
            && usize::try_from(declared).ok() != Some(self.items.len())
        {
            notices.push(Notice {
                code: "cart_count_mismatch",
                field: "num_cart_items".to_owned(),
            });
        }
    }

    /// The modelled variable `name`: its value, [`Lookup::Absent`], or [`Lookup::NotModelled`]
    /// when `name` is not one of [`MODELLED_VARIABLES`].
    ///
    /// ```
    /// use ipnkit::{Lookup, Message, Value};
    /// let m = Message::parse(b"custom=order-42")?;
    /// assert_eq!(m.get("custom"), Lookup::Value(Value::Text("order-42")));
    /// assert_eq!(m.get("txn_id"), Lookup::Absent);
    /// assert_eq!(m.get("txn_idd"), Lookup::NotModelled);
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn get(&self, name: &str) -> Lookup<'_> {
        match VARIABLES.get(name, hash(name)) {
            None => Lookup::NotModelled,
            Some(entry) => (entry.get)(self).map_or(Lookup::Absent, Lookup::Value),
        }
    }

    /// What happened, for a back office to dispatch on.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The family of notification (payment, cart, subscription…).
    pub fn family(&self) -> Family {
        self.family
    }

    /// Options of the single item of a Buy Now payment (`option_name1`, `option_selection1`…).
    pub fn options(&self) -> &[ItemOption] {
        &self.options
    }

    /// Cart items, by item number.
    pub fn items(&self) -> &[CartItem] {
        &self.items
    }

    /// Mass Pay payments, by item number.
    pub fn masspay_items(&self) -> &[MasspayItem] {
        &self.masspay_items
    }

    /// Adaptive Payments transactions, by index.
    pub fn transactions(&self) -> &[AdaptiveTransaction] {
        &self.transactions
    }

    /// `fraud_management_pending_filters_N`, by number.
    pub fn fraud_filters(&self) -> &[String] {
        &self.fraud_filters
    }

    /// The members of the group `name` (one of [`GROUPS`]) as [records](Record), or `None`
    /// when `name` is not a group.
    pub fn records(&self, name: &str) -> Option<Vec<Record<'_>>> {
        Some(match name {
            "options" => self.options.iter().map(ItemOption::record).collect(),
            "items" => self.items.iter().map(CartItem::record).collect(),
            "masspay_items" => self.masspay_items.iter().map(MasspayItem::record).collect(),
            "transactions" => self
                .transactions
                .iter()
                .map(AdaptiveTransaction::record)
                .collect(),
            _ => return None,
        })
    }

    /// Things worth knowing that are not errors.
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Whether the variable `name` is present but its value is not of its type (a notice names
    /// it): a rule that needs it must refuse rather than act on nothing.
    ///
    /// ```
    /// let m = ipnkit::Message::parse(b"txn_type=web_accept&payment_status=Completed&mc_gross=1%2C00")?;
    /// assert_eq!(m.mc_gross(), None);
    /// assert!(m.is_unreadable("mc_gross"));
    /// assert_eq!(m.variables().get("mc_gross"), Some("1,00")); // nothing is lost
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn is_unreadable(&self, name: &str) -> bool {
        self.notices
            .iter()
            .any(|n| n.field == name && VALUE_ERROR_CODES.contains(&n.code))
    }

    /// Variables this version does not model, and modelled ones whose value is not of their type
    /// (each with a [`Notice`]), in their original order.
    pub fn extra(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.extra
            .iter()
            .filter_map(|&i| self.fields.at(i as usize).map(|f| (f.key, f.value)))
    }

    /// Every original variable, in order, decoded: nothing is lost.
    pub fn variables(&self) -> &Fields {
        &self.fields
    }

    /// The canonical JSON of DESIGN.md, compact. Every binding and the CLI print this.
    ///
    /// The message serializes only strings, numbers, lists and maps with string keys, which
    /// serde_json never refuses; the error is serde_json's, passed on rather than hidden.
    pub fn to_canonical_json(&self) -> serde_json::Result<String> {
        serde_json::to_string(self)
    }

    /// The canonical JSON, indented for people (and the golden files).
    pub fn to_canonical_json_pretty(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Message, Error> {
        Message::parse(body.as_bytes())
    }

    fn value_notices(m: &Message) -> Vec<(&'static str, String)> {
        m.notices()
            .iter()
            .filter(|n| VALUE_ERROR_CODES.contains(&n.code))
            .map(|n| (n.code, n.field.clone()))
            .collect()
    }

    fn money(amount: &str, currency: Option<&str>) -> Option<Money> {
        Some(Money {
            amount: amount.parse().ok()?,
            currency: currency.and_then(Currency::parse),
        })
    }

    #[test]
    fn values_not_of_their_type_are_notices_and_nothing_is_lost() {
        let cases = [
            ("mc_gross=abc", "invalid_amount", "mc_gross"),
            ("mc_currency=eur", "invalid_currency", "mc_currency"),
            (
                "payment_date=13%3A00%3A00+Feb+30%2C+2024+PST",
                "invalid_date",
                "payment_date",
            ),
            ("quantity=-1", "invalid_number", "quantity"),
            ("resend=maybe", "invalid_flag", "resend"),
            ("period1=7+days", "invalid_period", "period1"),
            ("quantity2=x", "invalid_number", "quantity2"),
            ("mc_gross_3=1%2C00", "invalid_amount", "mc_gross_3"),
            ("txn_type=masspay&mc_fee_2=x", "invalid_amount", "mc_fee_2"),
            (
                "txn_type=masspay&mc_currency_1=US",
                "invalid_currency",
                "mc_currency_1",
            ),
            (
                "transaction%5B1%5D.amount=110.00",
                "invalid_amount",
                "transaction[1].amount",
            ),
            (
                "transaction[0].is_primary_receiver=yes",
                "invalid_flag",
                "transaction[0].is_primary_receiver",
            ),
            ("receipt_ID=1&test_ipn=2", "invalid_flag", "test_ipn"),
        ];
        for (body, code, field) in cases {
            let m = parse(body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(value_notices(&m), [(code, field.to_owned())], "{body}");
            assert!(m.is_unreadable(field), "{body}");
            // The value is kept as text, in the variables and in `extra`.
            let raw = m.variables().get(field);
            assert!(raw.is_some(), "{body}");
            assert!(
                m.extra().any(|(k, v)| k == field && Some(v) == raw),
                "{body}"
            );
            assert!(
                m.to_canonical_json()
                    .unwrap_or_default()
                    .contains(&format!(r#""code":"{code}","field":"{field}""#))
            );
        }
        // The typed getter is empty, and the event is still what the message says.
        let m =
            parse("txn_type=web_accept&payment_status=Refunded&mc_gross=-1%2C00&payment_date=soon")
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((m.mc_gross(), m.payment_date()), (None, None));
        assert_eq!(*m.event(), Event::PaymentRefunded);
        assert!(!m.is_unreadable("mc_currency"));
    }

    #[test]
    fn value_notice_codes_are_the_value_errors() {
        assert_eq!(
            VALUE_ERROR_CODES,
            [
                "invalid_amount",
                "invalid_currency",
                "invalid_date",
                "invalid_number",
                "invalid_flag",
                "invalid_period"
            ]
        );
        assert!(
            VALUE_ERROR_CODES
                .iter()
                .all(|c| crate::ERROR_CODES.contains(c))
        );
        // Every value error is a notice, after the two notices that are not errors.
        assert_eq!(NOTICE_CODES.split_at(2).1, VALUE_ERROR_CODES);
    }

    #[test]
    fn spelling_collision_is_duplicate_key() {
        // The cart's two spellings of one slot: PHP keeps one, another stack the other.
        for (body, field, first, second) in [
            (
                "txn_type=cart&mc_gross_1=100.00&mc_gross1=0.01",
                "mc_gross1",
                1,
                2,
            ),
            (
                "txn_type=cart&mc_gross1=0.01&x=1&mc_gross_1=100.00",
                "mc_gross_1",
                1,
                3,
            ),
            ("txn_type=cart&tax_1=1.00&tax1=0.00", "tax1", 1, 2),
            (
                "txn_type=cart&quantity_2=1&item_name1=A&quantity2=9",
                "quantity2",
                1,
                3,
            ),
            ("item_name_1=A&item_name1=B", "item_name1", 0, 1),
            ("mc_shipping1=1&mc_shipping_1=", "mc_shipping_1", 0, 1),
            ("mc_handling_3=&mc_handling3=", "mc_handling3", 0, 1),
            ("btn_id1=1&btn_id_1=2", "btn_id_1", 0, 1),
            ("item_number_1=1&item_number1=2", "item_number1", 0, 1),
            // A value of the wrong type in one spelling does not hide the other.
            ("mc_gross_1=abc&mc_gross1=0.01", "mc_gross1", 0, 1),
            (
                "fraud_management_pending_filters_1=A&fraud_management_pending_filters1=B",
                "fraud_management_pending_filters1",
                0,
                1,
            ),
            ("receipt_ID=R1&receipt_id=R2", "receipt_ID", 0, 1),
            ("receipt_id=R2&receipt_ID=R1", "receipt_ID", 0, 1),
        ] {
            match parse(body) {
                Err(Error::DuplicateKey {
                    field: f,
                    first: a,
                    second: b,
                }) => assert_eq!((f.as_str(), a, b), (field, first, second), "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        // Slots that differ are not a collision: another item, Mass Pay's own `_N` items, the
        // single item's options and the simulator's spelling alone.
        for body in [
            "txn_type=cart&mc_gross_1=1.00&mc_gross_2=2.00&mc_gross=3.00",
            "txn_type=masspay&mc_gross_1=1.00&mc_gross1=2.00",
            "option_name1=Size&option_name1_1=Colour",
            "txn_type=cart&mc_gross1=1.00&item_name1=A",
        ] {
            assert!(parse(body).is_ok(), "{body}");
        }
    }

    #[test]
    fn empty_values_are_absent_for_typed_fields_and_kept_for_text() -> Result<(), Error> {
        let m = parse(
            "mc_gross=&payment_date=&quantity=&test_ipn=&payment_status=&custom=&mc_currency=",
        )?;
        assert_eq!(
            (
                m.mc_gross(),
                m.payment_date(),
                m.quantity(),
                m.test_ipn(),
                m.payment_status(),
                m.mc_currency()
            ),
            (None, None, None, None, None, None)
        );
        assert_eq!(m.custom(), Some(""));
        assert_eq!(m.extra().count(), 0);
        Ok(())
    }

    #[test]
    fn money_takes_the_currency_paypal_documents_for_it() -> Result<(), Error> {
        let m = parse(
            "settle_amount=10.40&mc_gross=10.00&payment_gross=&payment_fee=0.30&settle_currency=USD\
             &mc_currency=EUR&tax=0.80&exchange_rate=1.0400&shipping=1.00",
        )?;
        assert_eq!(
            m.mc_gross(),
            money("10.00", Some("EUR")),
            "currency given later"
        );
        assert_eq!(m.tax(), money("0.80", Some("EUR")));
        assert_eq!(m.shipping(), money("1.00", Some("EUR")));
        assert_eq!(m.settle_amount(), money("10.40", Some("USD")));
        assert_eq!(
            m.payment_fee(),
            money("0.30", Some("USD")),
            "legacy USD field"
        );
        assert_eq!(m.payment_gross(), None);
        assert_eq!(
            m.exchange_rate().map(|r| r.to_string()).as_deref(),
            Some("1.0400")
        );

        let m = parse("amount_per_cycle=5.00&mc_currency=EUR&currency_code=USD&mc_gross=5.00")?;
        assert_eq!(
            m.amount_per_cycle(),
            money("5.00", Some("USD")),
            "currency_code first"
        );
        let m = parse("amount_per_cycle=5.00&mc_currency=EUR")?;
        assert_eq!(
            m.amount_per_cycle(),
            money("5.00", Some("EUR")),
            "else mc_currency"
        );
        let m = parse("shipping=1.00")?;
        assert_eq!(m.shipping(), money("1.00", None), "no currency named");
        Ok(())
    }

    #[test]
    fn cart_items_group_from_either_spelling_and_in_number_order() -> Result<(), Error> {
        let m = parse(
            "txn_type=cart&num_cart_items=2&item_name2=B&mc_gross_2=2.00&item_name1=A&mc_gross1=1.00\
             &mc_shipping_1=0.50&mc_handling2=0.25&option_selection1_2=Red&option_name1_2=Colour\
             &mc_currency=USD",
        )?;
        assert_eq!(m.items().len(), 2);
        let (a, b) = (&m.items()[0], &m.items()[1]);
        assert_eq!((a.number, a.item_name.as_deref()), (1, Some("A")));
        assert_eq!(a.mc_gross, money("1.00", Some("USD")));
        assert_eq!(a.mc_shipping, money("0.50", Some("USD")));
        assert_eq!((b.number, b.item_name.as_deref()), (2, Some("B")));
        assert_eq!(b.mc_handling, money("0.25", Some("USD")));
        assert_eq!(
            b.options,
            [ItemOption {
                number: 1,
                name: Some("Colour".into()),
                selection: Some("Red".into())
            }]
        );
        assert!(m.notices().is_empty());
        Ok(())
    }

    #[test]
    fn counts_that_disagree_are_reported() -> Result<(), Error> {
        let m = parse("txn_type=cart&num_cart_items=2&item_name1=A")?;
        assert_eq!(
            m.notices(),
            [Notice {
                code: "cart_count_mismatch",
                field: "num_cart_items".into()
            }]
        );
        Ok(())
    }

    #[test]
    fn masspay_suffixes_are_items_only_in_masspay_messages() -> Result<(), Error> {
        let m = parse("txn_type=masspay&mc_gross_1=1.00&mc_currency_1=GBP&status_1=Unclaimed")?;
        assert!(m.items().is_empty());
        assert_eq!(m.masspay_items()[0].mc_gross, money("1.00", Some("GBP")));
        assert_eq!(m.masspay_items()[0].status, Some(MasspayStatus::Unclaimed));
        let m = parse("txn_type=cart&mc_gross_1=1.00&status_1=x")?;
        assert!(m.masspay_items().is_empty());
        assert_eq!(m.items().len(), 1);
        assert_eq!(
            m.extra()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<Vec<_>>(),
            [("status_1".to_owned(), "x".to_owned())]
        );
        Ok(())
    }

    #[test]
    fn fraud_filters_are_ordered_by_number() -> Result<(), Error> {
        let m = parse(
            "fraud_management_pending_filters_2=Second&fraud_management_pending_filters_1=First",
        )?;
        assert_eq!(m.fraud_filters(), ["First", "Second"]);
        Ok(())
    }

    #[test]
    fn adaptive_transactions_keep_unknown_fields() -> Result<(), Error> {
        let m = parse(
            "transaction%5B1%5D.id=B&transaction%5B0%5D.id=A&transaction%5B0%5D.new_field=x\
             &transaction%5B0%5D.refund_amount=USD+1.00&transaction%5B0%5D.status_for_sender_txn=PENDING",
        )?;
        assert_eq!(m.transactions().len(), 2);
        assert_eq!(m.transactions()[0].id.as_deref(), Some("A"));
        assert_eq!(
            m.transactions()[0].extra,
            [("new_field".to_owned(), "x".to_owned())]
        );
        assert_eq!(
            m.transactions()[0].refund_amount,
            money("1.00", Some("USD"))
        );
        assert_eq!(
            m.transactions()[0].status_for_sender_txn,
            Some(SenderTransactionStatus::Pending)
        );
        assert_eq!(m.transactions()[1].index, 1);
        Ok(())
    }

    #[test]
    fn nothing_is_lost() -> Result<(), Error> {
        let body = "zeta=1&txn_id=T&alpha=2&btn_id1=9&item_name1=A&receipt_ID=R&brand_new=&transaction[0].x=y";
        let m = parse(body)?;
        assert_eq!(
            m.extra()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<Vec<_>>(),
            [
                ("zeta".to_owned(), "1".to_owned()),
                ("alpha".to_owned(), "2".to_owned()),
                ("brand_new".to_owned(), String::new()),
            ]
        );
        assert_eq!(m.receipt_id(), Some("R"), "the simulator's spelling");
        assert!(m.notices().is_empty());
        let keys: Vec<&str> = m.variables().iter().map(|f| f.key).collect();
        assert_eq!(
            keys,
            body.split('&')
                .map(|p| p.split('=').next().unwrap_or_default())
                .collect::<Vec<_>>()
        );
        Ok(())
    }

    #[test]
    fn canonical_json_shape() -> Result<(), Error> {
        let m = parse(
            "txn_type=web_accept&payment_status=Completed&mc_gross=-19.95&mc_currency=USD\
             &payment_date=20%3A12%3A59+Jan+13%2C+2009+PST&test_ipn=1&quantity=2&period3=1+M&zz=1",
        )?;
        let json = m.to_canonical_json().unwrap_or_default();
        assert!(
            json.starts_with(
                r#"{"event":"payment_completed","family":"payment","txn_type":"web_accept""#
            ),
            "{json}"
        );
        assert!(
            json.contains(r#""mc_gross":{"amount":"-19.95","currency":"USD"}"#),
            "{json}"
        );
        assert!(json.contains(r#""payment_date":{"utc":"2009-01-14T04:12:59Z","text":"20:12:59 Jan 13, 2009 PST"}"#), "{json}");
        assert!(
            json.contains(r#""test_ipn":true"#) && json.contains(r#""quantity":2"#),
            "{json}"
        );
        assert!(
            json.contains(r#""period3":{"count":1,"unit":"M"}"#),
            "{json}"
        );
        assert!(json.ends_with(r#""extra":[["zz","1"]]}"#), "{json}");
        assert!(
            !json.contains("null") && !json.contains("txn_id"),
            "absent fields are omitted: {json}"
        );
        assert!(
            m.to_canonical_json_pretty()
                .unwrap_or_default()
                .contains("\n  \"event\": \"payment_completed\"")
        );
        Ok(())
    }

    #[test]
    fn modelled_names_are_unique_and_lookup_finds_each() {
        let mut names = MODELLED_VARIABLES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), MODELLED_VARIABLES.len());
        for name in MODELLED_VARIABLES {
            assert!(setter(name, hash(name)).is_some(), "{name}");
        }
        assert!(setter("not_a_variable", hash("not_a_variable")).is_none());
    }

    #[test]
    fn every_modelled_variable_is_reachable_by_name() -> Result<(), Error> {
        let m = parse(
            "txn_type=subscr_signup&period3=1+M&mc_amount3=5.00&mc_currency=EUR&test_ipn=1\
             &subscr_date=10%3A00%3A00+Jan+02%2C+2024+PST&exchange_rate=1.1&quantity=2&custom=x",
        )?;
        let json: serde_json::Value =
            serde_json::from_str(&m.to_canonical_json().unwrap_or_default())
                .map_err(|_| Error::EmptyBody)?;
        for name in MODELLED_VARIABLES {
            assert_eq!(m.value(name).is_some(), json.get(name).is_some(), "{name}");
        }
        assert_eq!(m.value("txn_type"), Some(Value::Word("subscr_signup")));
        assert_eq!(m.value("quantity"), Some(Value::Count(2)));
        assert_eq!(m.value("custom"), Some(Value::Text("x")));
        assert!(matches!(
            m.value("period3"),
            Some(Value::Period(Period {
                count: 1,
                unit: PeriodUnit::M
            }))
        ));
        assert!(matches!(m.value("subscr_date"), Some(Value::Date(_))));
        assert!(matches!(m.value("exchange_rate"), Some(Value::Decimal(_))));
        assert!(matches!(m.value("mc_currency"), Some(Value::Currency(_))));
        assert_eq!(m.value("not_a_variable"), None);
        Ok(())
    }

    #[test]
    fn kinds_cover_every_variable_and_name_known_vocabularies() {
        let names: Vec<&str> = MODELLED_KINDS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, MODELLED_VARIABLES);
        for (name, kind) in MODELLED_KINDS {
            match kind.strip_prefix("vocab:") {
                Some(vocab) => assert!(
                    crate::vocab::VOCABULARIES.iter().any(|(v, _)| *v == vocab),
                    "{name}: {vocab}"
                ),
                None => assert!(
                    [
                        "text", "flag", "count", "decimal", "currency", "date", "money", "period"
                    ]
                    .contains(kind),
                    "{name}: {kind}"
                ),
            }
        }
        assert!(MODELLED_KINDS.contains(&("mc_gross", "money")));
        assert!(MODELLED_KINDS.contains(&("txn_type", "vocab:TxnType")));
        assert!(MODELLED_KINDS.contains(&("period_type", "vocab:PeriodType")));
    }

    #[test]
    fn periods() {
        assert_eq!(
            Period::parse("3 M"),
            Some(Period {
                count: 3,
                unit: PeriodUnit::M
            })
        );
        assert_eq!(
            Period::parse("1 Y"),
            Some(Period {
                count: 1,
                unit: PeriodUnit::Y
            })
        );
        for bad in ["", "M", "3M", "3 m", "-1 D", "1 D ", "x W"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }
}
