//! A message's values as one string for JavaScript: for hosts where every call and every
//! object across the boundary costs more than the parse itself (N-API, wasm), so that a parse
//! crosses once, as one string, and keeps no native object alive.

use std::fmt::Write as _;

use chrono::{Datelike, Timelike};

use crate::date::PayPalDate;
use crate::delivery::DeliveryKey;
use crate::error::Error;
use crate::message::{MODELLED_KINDS, Message, Value};

/// A message's modelled variables, its summary, its notices and its raw body as one UTF-16
/// string ([`Flat::units`]), which a JavaScript host creates with one call and cuts with
/// `charCodeAt` and `slice`: the host keeps that one string and nothing else.
///
/// The string is a header of numbers, two code units of 15 bits each (high, then low: no unit
/// is a surrogate, so the whole string is well-formed UTF-16 and survives any UTF-16 decoder) —
/// the number of slots, the length of the text, then three numbers a slot: `start`, `mid`,
/// `end` — then the text, then the raw body, one byte a code unit (a `latin1` string of the
/// bytes). Offsets count UTF-16 code units from the start of the text: part A of a slot is `text[start..mid]`, part B
/// `text[mid..end]`; a slot the message does not fill has `start` = [`Flat::ABSENT`]. The slots
/// are, in order:
///
/// 1. one per modelled variable, in the order of [`MODELLED_KINDS`], by kind: text, words,
///    currencies and decimals in A; a count as decimal digits in A; a flag as `1` or `0` in A;
///    money as the amount in A and the currency in B (empty: none); a date as the UTC instant
///    (RFC 3339) in A and PayPal's text in B; a period as the count in A and the unit in B;
/// 2. [`Flat::SUMMARY`] slots: the event code, the family code, the delivery key and the lookup
///    id, in A;
/// 3. one per notice: its code in A and its field in B.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flat {
    units: Vec<u16>,
}

impl Flat {
    /// `start` of a slot the message does not fill: the largest number of 30 bits (a body, and
    /// so any offset, is far smaller).
    pub const ABSENT: u32 = (1 << 30) - 1;

    /// The summary slots after the variables: `event`, `family`, `delivery_key`, `lookup_id`.
    pub const SUMMARY: [&'static str; 4] = ["event", "family", "delivery_key", "lookup_id"];

    /// The largest body a flat form carries: 128 MiB. The string then stays below 2^29 code
    /// units (the text is at most about twice the body, plus the body itself and the header),
    /// which every JavaScript engine can hold, and every offset below [`Flat::ABSENT`].
    pub const MAX_BODY_BYTES: usize = 128 * 1024 * 1024;

    /// The flat form of `message`, parsed from `raw`; a body over [`Flat::MAX_BODY_BYTES`]
    /// (allowed only by raising the limits far above their default) is refused.
    pub fn of(message: &Message, raw: &[u8]) -> Result<Flat, Error> {
        if raw.len() > Flat::MAX_BODY_BYTES {
            return Err(Error::BodyTooLarge {
                actual: raw.len(),
                limit: Flat::MAX_BODY_BYTES,
            });
        }
        let mut w = Writer {
            text: String::with_capacity(message.variables().len() * 32),
            units: 0,
            // Every variable's slot absent until it is written.
            spans: vec![Flat::ABSENT; MODELLED_KINDS.len() * 3],
            slot: 0,
        };
        for (i, slot) in message.slots().enumerate() {
            if let Some(value) = slot {
                w.slot = i;
                w.value(value);
            }
        }
        w.slot = MODELLED_KINDS.len();
        let key = DeliveryKey::of(message);
        for summary in [
            message.event().code(),
            message.family().code(),
            key.as_str(),
            key.lookup_id(),
        ] {
            w.slot(|w| w.push(summary), |_| {});
        }
        for notice in message.notices() {
            w.slot(|w| w.push(notice.code), |w| w.push(&notice.field));
        }
        let slots = u32::try_from(w.spans.len() / 3).unwrap_or(u32::MAX);
        let header = 4 + w.spans.len() * 2;
        let mut units = vec![0u16; header];
        let numbers = [slots, w.units].into_iter().chain(w.spans);
        for (pair, n) in units.chunks_exact_mut(2).zip(numbers) {
            pair.copy_from_slice(&split(n));
        }
        units.reserve_exact(w.units as usize + raw.len());
        if w.text.is_ascii() {
            units.extend(w.text.bytes().map(u16::from));
        } else {
            units.extend(w.text.encode_utf16());
        }
        units.extend(raw.iter().map(|&b| u16::from(b)));
        Ok(Flat { units })
    }

    /// The whole string, in UTF-16 code units.
    pub fn units(&self) -> &[u16] {
        &self.units
    }

    /// The whole string, in UTF-16 code units, owned.
    pub fn into_units(self) -> Vec<u16> {
        self.units
    }

    /// How many slots there are.
    pub fn slots(&self) -> usize {
        self.number(0) as usize
    }

    /// The text after the header.
    pub fn text(&self) -> &[u16] {
        let start = 4 + self.slots() * 6;
        let len = self.number(1) as usize;
        self.units.get(start..start + len).unwrap_or_default()
    }

    /// The raw body, one byte a code unit.
    pub fn raw(&self) -> impl Iterator<Item = u8> + '_ {
        let start = 4 + self.slots() * 6 + self.number(1) as usize;
        // Each unit holds one byte: the low half is the byte.
        self.units
            .get(start..)
            .unwrap_or_default()
            .iter()
            .map(|&u| (u & 0xFF) as u8)
    }

    /// `[start, mid, end]` of slot `i`.
    pub fn span(&self, i: usize) -> [u32; 3] {
        [0, 1, 2].map(|k| self.number(2 + i * 3 + k))
    }

    /// Number `k` of the header (0: the slot count).
    fn number(&self, k: usize) -> u32 {
        match self.units.get(2 * k..2 * k + 2) {
            Some(&[high, low]) => (u32::from(high) << 15) | u32::from(low),
            _ => 0,
        }
    }
}

/// A number below 2^30 as two UTF-16 code units of 15 bits, high then low (larger numbers
/// saturate to [`Flat::ABSENT`]: none occurs, as a body is far smaller).
fn split(n: u32) -> [u16; 2] {
    let n = n.min(Flat::ABSENT);
    [(n >> 15) as u16, (n & 0x7FFF) as u16]
}

struct Writer {
    /// The text, in UTF-8.
    text: String,
    /// The text's length in UTF-16 code units.
    units: u32,
    spans: Vec<u32>,
    /// The slot being written: a variable's place, or the end of `spans` for what follows them.
    slot: usize,
}

impl Writer {
    /// Where the text ends, in UTF-16 code units.
    fn end(&self) -> u32 {
        self.units
    }

    fn push(&mut self, s: &str) {
        let units = if s.is_ascii() {
            s.len()
        } else {
            s.encode_utf16().count()
        };
        self.text.push_str(s);
        // A body is at most `MAX_BODY_BYTES`, far below 2^32 code units.
        self.units = self
            .units
            .saturating_add(u32::try_from(units).unwrap_or(u32::MAX));
    }

    /// Writes what `write!` produces (numbers: ASCII).
    fn push_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        let before = self.text.len();
        // Writing into a `String` cannot fail.
        let _ = self.text.write_fmt(args);
        let added = self.text.len() - before;
        self.units = self
            .units
            .saturating_add(u32::try_from(added).unwrap_or(u32::MAX));
    }

    /// A date's UTC instant as RFC 3339, as [`PayPalDate::to_rfc3339`] writes it.
    fn push_instant(&mut self, date: &PayPalDate) {
        let utc = date.utc;
        let year = utc.year();
        if !(0..=9999).contains(&year) || utc.nanosecond() != 0 {
            return self.push(&date.to_rfc3339()); // outside PayPal's dates: the general path
        }
        let fields = [
            (year.unsigned_abs(), 4, '-'),
            (utc.month(), 2, '-'),
            (utc.day(), 2, 'T'),
            (utc.hour(), 2, ':'),
            (utc.minute(), 2, ':'),
            (utc.second(), 2, 'Z'),
        ];
        for (n, width, after) in fields {
            for k in (0..width).rev() {
                let digit = (n / 10u32.pow(k)) % 10;
                self.text.push(char::from(b'0' + digit as u8));
            }
            self.text.push(after);
        }
        // `YYYY-MM-DDTHH:MM:SSZ`: twenty ASCII characters.
        self.units = self.units.saturating_add(20);
    }

    fn slot(&mut self, a: impl FnOnce(&mut Writer), b: impl FnOnce(&mut Writer)) {
        let start = self.end();
        a(self);
        let mid = self.end();
        b(self);
        let span = [start, mid, self.end()];
        match self.spans.get_mut(self.slot * 3..self.slot * 3 + 3) {
            Some(place) => place.copy_from_slice(&span),
            None => self.spans.extend(span),
        }
        self.slot += 1;
    }

    fn value(&mut self, value: Value<'_>) {
        match value {
            Value::Text(text) | Value::Word(text) => self.slot(|w| w.push(text), |_| {}),
            Value::Flag(flag) => self.slot(|w| w.push(if flag { "1" } else { "0" }), |_| {}),
            Value::Count(count) => self.slot(|w| w.push_fmt(format_args!("{count}")), |_| {}),
            Value::Decimal(decimal) => {
                self.slot(|w| w.push_fmt(format_args!("{decimal}")), |_| {});
            }
            Value::Currency(currency) => self.slot(|w| w.push(currency.as_str()), |_| {}),
            Value::Money(money) => self.slot(
                |w| w.push_fmt(format_args!("{}", money.amount)),
                |w| {
                    if let Some(currency) = &money.currency {
                        w.push(currency.as_str());
                    }
                },
            ),
            Value::Date(date) => self.slot(|w| w.push_instant(date), |w| w.push(&date.text)),
            Value::Period(period) => self.slot(
                |w| w.push_fmt(format_args!("{}", period.count)),
                |w| w.push(period.unit.code()),
            ),
            // Members of records only, never a modelled variable's value: carried as their
            // canonical JSON all the same, so that nothing is ever dropped.
            Value::Options(_) | Value::Pairs(_) => self.slot(
                |w| match serde_json::to_string(&value) {
                    Ok(json) => w.push(&json),
                    Err(e) => w.push_fmt(format_args!("{e}")),
                },
                |_| {},
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Part A and part B of slot `i`, cut by UTF-16 indices as JavaScript would.
    fn parts(flat: &Flat, i: usize) -> Option<(String, String)> {
        let [start, mid, end] = flat.span(i);
        if start == Flat::ABSENT {
            return None;
        }
        let cut = |a: u32, b: u32| String::from_utf16_lossy(&flat.text()[a as usize..b as usize]);
        Some((cut(start, mid), cut(mid, end)))
    }

    fn slot_of(name: &str) -> usize {
        MODELLED_KINDS
            .iter()
            .position(|(n, _)| *n == name)
            .unwrap_or(usize::MAX)
    }

    #[test]
    fn every_kind_is_cut_as_documented_in_utf16_units() -> Result<(), crate::Error> {
        let body: &[u8] =
            "txn_type=web_accept&first_name=J%C3%B6rg+%F0%9F%98%80&mc_gross=-24.90&mc_currency=EUR\
             &payment_date=09%3A41%3A07+Mar+14%2C+2024+PDT&test_ipn=1&quantity=3\
             &period3=1+M&exchange_rate=1.0825&charset=utf-8&txn_id=X1&payment_status=Completed"
                .as_bytes();
        let m = Message::parse(body)?;
        let flat = Flat::of(&m, body)?;
        let part = |name: &str| parts(&flat, slot_of(name));
        assert_eq!(flat.raw().collect::<Vec<u8>>(), body);
        assert!(
            String::from_utf16(flat.units()).is_ok(),
            "well-formed UTF-16: no header unit is a surrogate"
        );
        assert_eq!(part("first_name"), Some(("Jörg 😀".into(), String::new())));
        assert_eq!(part("mc_gross"), Some(("-24.90".into(), "EUR".into())));
        assert_eq!(
            part("payment_date"),
            Some((
                "2024-03-14T16:41:07Z".into(),
                "09:41:07 Mar 14, 2024 PDT".into()
            ))
        );
        assert_eq!(part("test_ipn"), Some(("1".into(), String::new())));
        assert_eq!(part("quantity"), Some(("3".into(), String::new())));
        assert_eq!(part("period3"), Some(("1".into(), "M".into())));
        assert_eq!(
            part("exchange_rate"),
            Some(("1.0825".into(), String::new()))
        );
        assert_eq!(
            part("payment_status"),
            Some(("Completed".into(), String::new()))
        );
        assert_eq!(part("memo"), None);
        let summary = MODELLED_KINDS.len();
        assert_eq!(
            parts(&flat, summary).map(|p| p.0).as_deref(),
            Some("payment_completed")
        );
        assert_eq!(
            parts(&flat, summary + 3).map(|p| p.0).as_deref(),
            Some("txn:X1")
        );
        assert_eq!(flat.slots(), summary + Flat::SUMMARY.len());
        Ok(())
    }

    #[test]
    fn notices_follow_the_summary() -> Result<(), crate::Error> {
        let m = Message::parse(b"txn_type=cart&num_cart_items=2&item_name1=Tea&mc_gross_1=1.00")?;
        let flat = Flat::of(&m, &[0xFF, 0x00])?;
        assert_eq!(flat.raw().collect::<Vec<u8>>(), [0xFF, 0x00]);
        let first = MODELLED_KINDS.len() + Flat::SUMMARY.len();
        assert_eq!(flat.slots(), first + m.notices().len());
        assert_eq!(
            parts(&flat, first),
            Some(("cart_count_mismatch".into(), "num_cart_items".into()))
        );
        Ok(())
    }

    #[test]
    fn money_without_a_currency_has_an_empty_part_b() -> Result<(), crate::Error> {
        let m = Message::parse(b"mc_gross=5.00")?;
        assert_eq!(
            parts(&Flat::of(&m, b"mc_gross=5.00")?, slot_of("mc_gross")),
            Some(("5.00".into(), String::new()))
        );
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn instants_are_written_as_to_rfc3339_writes_them(secs in -70_000_000_000i64..300_000_000_000i64, nanos in proptest::prop_oneof![proptest::strategy::Just(0u32), 0u32..1_000_000_000]) {
            let utc = chrono::DateTime::from_timestamp(secs, nanos).unwrap_or_default();
            let date = PayPalDate { utc, text: String::new(), zone_corrected: false };
            let mut w = Writer { text: String::new(), units: 0, spans: Vec::new(), slot: 0 };
            w.push_instant(&date);
            proptest::prop_assert_eq!(&w.text, &date.to_rfc3339());
        }
    }

    #[test]
    fn a_body_over_the_flat_maximum_is_refused_before_any_work() -> Result<(), crate::Error> {
        let m = Message::parse(b"txn_id=1")?;
        // Zeroed pages: nothing is touched before the refusal.
        let huge = vec![0u8; Flat::MAX_BODY_BYTES + 1];
        assert!(matches!(
            Flat::of(&m, &huge),
            Err(Error::BodyTooLarge { limit, .. }) if limit == Flat::MAX_BODY_BYTES
        ));
        Ok(())
    }
}
