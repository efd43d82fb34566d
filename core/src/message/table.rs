//! The variable table: how each kind of variable is stored, parsed and read back, and the one
//! lookup by name ([`VariableTable`]) that parsing and [`Message::get`](super::Message::get) share.
//!
//! The `message!` macro, invoked once in the parent module with every variable of PayPal's
//! guide, generates from these: the stored fields, the typed getters, [`MODELLED_VARIABLES`],
//! [`MODELLED_KINDS`] and the table.
//!
//! [`MODELLED_VARIABLES`]: super::MODELLED_VARIABLES
//! [`MODELLED_KINDS`]: super::MODELLED_KINDS

use crate::date::PayPalDate;
use crate::decode::hash;
use crate::error::{Error, FieldName};
use crate::money::{Currency, Money, amount_of, currency_of, money_with_currency_of};
use crate::vocab::Word;
use rust_decimal::Decimal;

use super::{Message, Period, Value, Vars};

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

/// Stores one variable's value through the one function of its kind (each variable's setter
/// only picks its field: the parsing is shared, so the table costs a few bytes a variable).
macro_rules! set_kind {
    (text [], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_text($slot, $i, $k, $v)
    };
    (vocab [$t:ident], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_word::<$t>($slot, $i, $k, $v)
    };
    (vocab_ws [$t:ident], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_word_trimmed::<$t>($slot, $i, $k, $v)
    };
    (flag [], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_flag($slot, $i, $k, $v)
    };
    (count [], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_count($slot, $i, $k, $v)
    };
    (decimal [], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_decimal($slot, $i, $k, $v)
    };
    (currency [], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_currency($slot, $i, $k, $v)
    };
    (date [], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_date($slot, $i, $k, $v)
    };
    (money [$($src:tt)*], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_money($slot, $i, $k, $v)
    };
    (usd [], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_usd($slot, $i, $k, $v)
    };
    (money_cur [], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_money_cur($slot, $i, $k, $v)
    };
    (period [], $slot:expr, $i:expr, $k:expr, $v:expr) => {
        $crate::message::table::set_period($slot, $i, $k, $v)
    };
}

/// Reads one variable back as a [`Value`] through the one function of its kind.
macro_rules! get_kind {
    (text [], $m:expr, $slot:expr) => {
        $crate::message::table::text_value($m, $slot)
    };
    (vocab [$t:ident], $m:expr, $slot:expr) => {
        $crate::message::table::word_value::<$t>($slot)
    };
    (vocab_ws [$t:ident], $m:expr, $slot:expr) => {
        $crate::message::table::word_value::<$t>($slot)
    };
    (flag [], $m:expr, $slot:expr) => {
        $slot.map(Value::Flag)
    };
    (count [], $m:expr, $slot:expr) => {
        $slot.map(Value::Count)
    };
    (decimal [], $m:expr, $slot:expr) => {
        $crate::message::table::decimal_value($slot)
    };
    (currency [], $m:expr, $slot:expr) => {
        $slot.map(Value::Currency)
    };
    (date [], $m:expr, $slot:expr) => {
        $slot.as_ref().map(Value::Date)
    };
    (period [], $m:expr, $slot:expr) => {
        $slot.map(Value::Period)
    };
    ($money:ident [$($src:tt)*], $m:expr, $slot:expr) => {
        $crate::message::table::money_value($slot)
    };
}

/// Stores one variable's value, read from its text, position and name.
pub(super) type Setter = fn(&mut Vars, u32, &str, &str) -> Result<(), Error>;

/// Reads one modelled variable of a message.
pub(super) type Getter = for<'m> fn(&'m Message) -> Option<Value<'m>>;

macro_rules! message {
    ( $( $(#[doc = $doc:literal])* $name:ident : $kind:ident $([$($arg:tt)*])? ; )* ) => {
        /// The modelled variables, as stored.
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        struct Vars {
            $( $name: Option<stored_type!($kind [$($($arg)*)?])>, )*
            /// Which of the above were set, so that readers need not try every one.
            carried: Carried,
        }

        /// Every variable name with a typed field, in declaration order.
        pub const MODELLED_VARIABLES: &[&str] = &[$(stringify!($name)),*];

        /// Every modelled variable with its kind (`text`, `flag`, `count`, `decimal`,
        /// `currency`, `date`, `money`, `period`, or `vocab:<Enum>` naming one of
        /// [`VOCABULARIES`](crate::vocab::VOCABULARIES)): what bindings generate their types from.
        pub const MODELLED_KINDS: &[(&str, &str)] = &[$((stringify!($name), kind_name!($kind $([$($arg)*])?))),*];

        /// Every modelled variable with its setter and its getter, in declaration order: the
        /// one list both parsing (through [`VARIABLES`]) and [`Message::present`] read.
        const VARIABLE_LIST: &[(&str, Setter, Getter)] = &[
            $( (stringify!($name),
                |m: &mut Vars, i: u32, k: &str, v: &str| set_kind!($kind [$($($arg)*)?], &mut m.$name, i, k, v),
                |m: &Message| get_kind!($kind [$($($arg)*)?], m, &m.vars.$name)), )*
        ];

        /// [`VARIABLE_LIST`] in an open-addressing table keyed by name: the one lookup by name,
        /// for parsing and for [`Message::get`].
        static VARIABLES: LazyLock<VariableTable> =
            LazyLock::new(|| VariableTable::new(VARIABLE_LIST));

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
                self.slots().filter_map(|(i, value)| {
                    VARIABLE_LIST.get(i).map(|&(name, _, _)| (name, value))
                })
            }

            /// The modelled variables the message carries, each with its place in declaration
            /// order (in [`MODELLED_KINDS`]), ascending: only those whose setter ran are read.
            pub(crate) fn slots(&self) -> impl Iterator<Item = (usize, Value<'_>)> + '_ {
                self.vars.carried.iter().filter_map(move |i| {
                    let &(_, _, get) = VARIABLE_LIST.get(i)?;
                    get(self).map(|value| (i, value))
                })
            }
        }
    };
}

/// The documented name of a variable PayPal (or its simulator) has spelled otherwise.
pub(super) fn alias_of(key: &str) -> Option<&'static str> {
    match key {
        "receipt_ID" => Some("receipt_id"),
        _ => None,
    }
}

/// Name → (setter, getter), by open addressing on the name's [`hash`]: one or two probes and one
/// string comparison a variable (a sorted table's binary search cost several times that).
pub(super) struct VariableTable {
    slots: Vec<Option<Entry>>,
    shift: u32,
}

/// One slot of the [`VariableTable`].
#[derive(Clone, Copy)]
pub(super) struct Entry {
    hash: u64,
    name: &'static str,
    /// The variable's place in declaration order (in [`MODELLED_KINDS`](super::MODELLED_KINDS)).
    pub(super) index: u16,
    pub(super) set: Setter,
    pub(super) get: Getter,
}

impl VariableTable {
    /// 512 slots: under a third full, so probes are short.
    const BITS: u32 = 9;

    pub(super) fn new(entries: &[(&'static str, Setter, Getter)]) -> VariableTable {
        let mut table = VariableTable {
            slots: vec![None; 1 << Self::BITS],
            shift: 64 - Self::BITS,
        };
        for (index, &(name, set, get)) in (0u16..).zip(entries) {
            let h = hash(name);
            let mut i = table.slot(h);
            while table.slots.get(i).is_some_and(Option::is_some) {
                i = (i + 1) & table.mask();
            }
            if let Some(slot) = table.slots.get_mut(i) {
                *slot = Some(Entry {
                    hash: h,
                    name,
                    index,
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

    pub(super) fn get(&self, key: &str, h: u64) -> Option<Entry> {
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

/// The setter of the modelled variable `key` (hashed `h`), with its place in declaration order.
pub(super) fn setter(key: &str, h: u64) -> Option<(Setter, u16)> {
    super::VARIABLES
        .get(key, h)
        .map(|entry| (entry.set, entry.index))
}

/// The modelled variables a message may carry, by their place in declaration order: a set bit
/// is a variable whose setter ran (its value may still be absent: empty, or not of its type), a
/// clear bit one the message does not carry. Readers walk the set bits instead of every
/// variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Carried([u64; CARRIED_WORDS]);

/// Words of [`Carried`]: one bit a modelled variable.
const CARRIED_WORDS: usize = super::MODELLED_VARIABLES.len().div_ceil(64);

impl Carried {
    /// Marks the variable at `index` (one below the number of modelled variables): `false` when
    /// it was marked already.
    pub(super) fn insert(&mut self, index: u16) -> bool {
        match self.0.get_mut(usize::from(index / 64)) {
            Some(word) => {
                let bit = 1 << (index % 64);
                let new = *word & bit == 0;
                *word |= bit;
                new
            }
            None => false,
        }
    }

    /// The marked places, in ascending order.
    pub(super) fn iter(self) -> impl Iterator<Item = usize> {
        (0..CARRIED_WORDS).zip(self.0).flat_map(|(w, mut bits)| {
            std::iter::from_fn(move || {
                let bit = bits.trailing_zeros();
                (bit < 64).then(|| {
                    bits &= bits - 1;
                    w * 64 + bit as usize
                })
            })
        })
    }
}

pub(super) fn non_empty(v: &str) -> Option<&str> {
    (!v.is_empty()).then_some(v)
}

pub(super) fn parse_count(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

pub(super) fn count_of(field: &str, text: &str) -> Result<u32, Error> {
    parse_count(text).ok_or_else(|| Error::InvalidNumber {
        field: FieldName::new(field),
    })
}

pub(super) fn flag_of(field: &str, text: &str) -> Result<bool, Error> {
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

pub(super) fn period_of(field: &str, text: &str) -> Result<Period, Error> {
    Period::parse(text).ok_or_else(|| Error::InvalidPeriod {
        field: FieldName::new(field),
    })
}

pub(super) fn money_of(key: &str, value: &str) -> Result<Option<Money>, Error> {
    Ok(non_empty(value)
        .map(|v| amount_of(key, v))
        .transpose()?
        .map(|amount| Money {
            amount,
            currency: None,
        }))
}

// One function a kind, never inlined into the variable table's closures: each closure only
// finds its field (see `set_kind!` and `get_kind!`).

#[inline(never)]
pub(super) fn set_text(
    slot: &mut Option<u32>,
    position: u32,
    _: &str,
    _: &str,
) -> Result<(), Error> {
    *slot = Some(position);
    Ok(())
}

#[inline(never)]
pub(super) fn set_word<T: Word>(
    slot: &mut Option<T>,
    _: u32,
    _: &str,
    v: &str,
) -> Result<(), Error> {
    *slot = non_empty(v).map(T::parse_word);
    Ok(())
}

/// PayPal writes `period_type` with a leading space (`+Regular`).
#[inline(never)]
pub(super) fn set_word_trimmed<T: Word>(
    slot: &mut Option<T>,
    _: u32,
    _: &str,
    v: &str,
) -> Result<(), Error> {
    *slot = non_empty(v).map(|v| T::parse_word(v.trim_start()));
    Ok(())
}

/// One setter a kind whose value `parse` reads from non-empty text (empty text is absent).
macro_rules! non_empty_setters {
    ($($name:ident: $t:ty = $parse:path;)*) => {$(
        #[inline(never)]
        pub(super) fn $name(slot: &mut Option<$t>, _: u32, k: &str, v: &str) -> Result<(), Error> {
            *slot = non_empty(v).map(|v| $parse(k, v)).transpose()?;
            Ok(())
        }
    )*};
}

non_empty_setters! {
    set_flag: bool = flag_of;
    set_count: u32 = count_of;
    set_decimal: Decimal = amount_of;
    set_currency: Currency = currency_of;
    set_money_cur: Money = money_with_currency_of;
    set_period: Period = period_of;
}

#[inline(never)]
pub(super) fn set_date(
    slot: &mut Option<PayPalDate>,
    _: u32,
    k: &str,
    v: &str,
) -> Result<(), Error> {
    *slot = PayPalDate::parse(k, v)?;
    Ok(())
}

#[inline(never)]
pub(super) fn set_money(slot: &mut Option<Money>, _: u32, k: &str, v: &str) -> Result<(), Error> {
    *slot = money_of(k, v)?;
    Ok(())
}

#[inline(never)]
pub(super) fn set_usd(slot: &mut Option<Money>, _: u32, k: &str, v: &str) -> Result<(), Error> {
    *slot = money_of(k, v)?.map(|m| Money {
        currency: Some(Currency::USD),
        ..m
    });
    Ok(())
}

#[inline(never)]
pub(super) fn text_value<'m>(m: &'m Message, slot: &Option<u32>) -> Option<Value<'m>> {
    slot.and_then(|i| m.fields.value_at(i as usize))
        .map(Value::Text)
}

#[inline(never)]
pub(super) fn word_value<T: Word>(slot: &Option<T>) -> Option<Value<'_>> {
    slot.as_ref().map(|w| Value::Word(w.word()))
}

#[inline(never)]
pub(super) fn decimal_value(slot: &Option<Decimal>) -> Option<Value<'_>> {
    slot.map(Value::Decimal)
}

#[inline(never)]
pub(super) fn money_value(slot: &Option<Money>) -> Option<Value<'_>> {
    slot.map(Value::Money)
}
