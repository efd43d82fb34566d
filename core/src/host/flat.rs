//! A message's values as one string for JavaScript: for hosts where every call and every
//! object across the boundary costs more than the parse itself (N-API, wasm), so that a parse
//! crosses once, as one string, and keeps no native object alive.

use std::fmt::Write as _;

use chrono::{Datelike, Timelike};

use crate::date::PayPalDate;
use crate::delivery::DeliveryKey;
use crate::error::Error;
use crate::message::{MODELLED_KINDS, Message, Value};
use rust_decimal::Decimal;

/// A message's modelled variables, its summary and its notices as one UTF-16 string
/// ([`Flat::units`]), which a JavaScript host creates with one call and cuts with `charCodeAt`
/// and `slice`: the host keeps that string and its own copy of the raw body, and no native
/// object.
///
/// The string is a header of numbers, two code units of 15 bits each (high, then low: no unit
/// is a surrogate, so the whole string is well-formed UTF-16 and survives any UTF-16 decoder) —
/// the number of entries, then four numbers an entry: `slot`, `start`, `mid`, `end`, in
/// ascending order of `slot` — then the text, to the end of the string. Offsets count UTF-16 code units
/// from the start of the text: part A of an entry is `text[start..mid]`, part B
/// `text[mid..end]`. Only what the message carries has an entry (a slot without one is
/// absent), so a host finds a slot by a binary search over the entries. The slots are numbered:
///
/// 1. one per modelled variable, in the order of [`MODELLED_KINDS`], by kind: text, words,
///    currencies and decimals in A; a count as decimal digits in A; a flag as `1` or `0` in A;
///    money as the amount in A and the currency in B (empty: none); a date as the UTC instant
///    (RFC 3339) in A and PayPal's text in B; a period as the count in A and the unit in B;
/// 2. [`Flat::SUMMARY`] slots, always present: the event code, the family code, the delivery key
///    and the lookup id, in A;
/// 3. one per notice, in order: its code in A and its field in B.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flat {
    units: Vec<u16>,
}

impl Flat {
    /// The summary slots after the variables: `event`, `family`, `delivery_key`, `lookup_id`.
    pub const SUMMARY: [&'static str; 4] = ["event", "family", "delivery_key", "lookup_id"];

    /// The largest body whose message has a flat form: 128 MiB. The string then stays below
    /// 2^29 code units (the text is at most about three code units a byte of the body), which
    /// every JavaScript engine can hold, and every number of the header below 2^30.
    pub const MAX_BODY_BYTES: usize = 128 * 1024 * 1024;

    /// The flat form of `message`, parsed from a body of `body_len` bytes; a body over
    /// [`Flat::MAX_BODY_BYTES`] (allowed only by raising the limits far above their default) is
    /// refused before any work.
    pub fn of(message: &Message, body_len: usize) -> Result<Flat, Error> {
        let too_large = || Error::BodyTooLarge {
            actual: body_len,
            limit: Flat::MAX_BODY_BYTES,
        };
        if body_len > Flat::MAX_BODY_BYTES {
            return Err(too_large());
        }
        let mut w = Writer {
            text: String::with_capacity(body_len),
            entries: Vec::with_capacity(4 * 48),
        };
        for (slot, value) in message.slots() {
            w.value(slot, value);
        }
        let mut slot = MODELLED_KINDS.len();
        let key = DeliveryKey::of(message);
        for summary in [
            message.event().code(),
            message.family().code(),
            key.as_str(),
            key.lookup_id(),
        ] {
            w.entry(slot, |w| w.push(summary), |_| {});
            slot += 1;
        }
        for notice in message.notices() {
            w.entry(slot, |w| w.push(notice.code), |w| w.push(&notice.field));
            slot += 1;
        }
        let Writer { text, mut entries } = w;
        // The offsets were written in bytes of UTF-8: in UTF-16 code units they are the same
        // for ASCII text (almost every message), and converted in one pass otherwise.
        let ascii = text.is_ascii();
        let text_units = if ascii {
            text.len()
        } else {
            utf16_offsets(&text, &mut entries)
        };
        // Every number of the header is at most the last slot or the text's length (at most
        // about three code units a byte of a body of at most `MAX_BODY_BYTES`: below 2^29).
        if slot.max(text_units) >= 1 << 30 {
            return Err(too_large());
        }
        let header = 2 * (1 + entries.len());
        let mut units = vec![0; header];
        units.reserve(text_units);
        let numbers = std::iter::once(entries.len() / 4).chain(entries);
        for (pair, n) in units.as_chunks_mut::<2>().0.iter_mut().zip(numbers) {
            *pair = split(n);
        }
        if ascii {
            units.extend(text.bytes().map(u16::from));
        } else {
            units.extend(text.encode_utf16());
        }
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

    /// How many entries there are.
    pub fn entries(&self) -> usize {
        number(&self.units, 0)
    }

    /// The text after the header.
    pub fn text(&self) -> &[u16] {
        let units = self.units.as_slice();
        let start = 2 + number(units, 0) * 8;
        // The header is written by `Flat::new` with its own length: a flat made here always has
        // its text after it (an empty text when the header is all there is).
        units.get(start..).unwrap_or_default()
    }

    /// The slots that have an entry, in ascending order.
    pub fn slots(&self) -> Vec<usize> {
        let units = self.units.as_slice();
        (0..number(units, 0))
            .map(|k| number(units, 1 + 4 * k))
            .collect()
    }

    /// `[start, mid, end]` of slot `slot`, in UTF-16 code units of the text, or `None` when it
    /// has no entry (absent): a binary search over the entries, as a host does.
    pub fn span(&self, slot: usize) -> Option<[usize; 3]> {
        let units = self.units.as_slice();
        let (mut low, mut high) = (0, number(units, 0));
        while low < high {
            let k = low + (high - low) / 2;
            match number(units, 1 + 4 * k).cmp(&slot) {
                std::cmp::Ordering::Less => low = k + 1,
                std::cmp::Ordering::Greater => high = k,
                std::cmp::Ordering::Equal => {
                    return Some([2, 3, 4].map(|i| number(units, i + 4 * k)));
                }
            }
        }
        None
    }
}

/// Number `k` of a flat string's header (0: the number of entries).
fn number(units: &[u16], k: usize) -> usize {
    match units.get(2 * k..2 * k + 2) {
        Some(&[high, low]) => (usize::from(high) << 15) | usize::from(low),
        _ => 0,
    }
}

/// A number below 2^30 (checked by the caller) as two UTF-16 code units of 15 bits (never a
/// surrogate), high then low.
fn split(n: usize) -> [u16; 2] {
    #[allow(clippy::cast_possible_truncation)] // masked to 15 bits
    let part = |bits: usize| (bits & 0x7FFF) as u16;
    [part(n >> 15), part(n)]
}

/// Converts the offsets of `entries` (four numbers an entry: slot, then three offsets) from
/// bytes of `text` to UTF-16 code units; returns the text's length in code units. The writer
/// appends, so the offsets ascend and lie within the text: each is reached by counting the code
/// units of the bytes since the one before.
fn utf16_offsets(text: &str, entries: &mut [usize]) -> usize {
    let mut rest = text.as_bytes();
    let mut units = 0;
    for [_, start, mid, end] in entries.as_chunks_mut::<4>().0 {
        for offset in [start, mid, end] {
            let byte = text.len() - rest.len();
            // Offsets are ascending positions in `text` (the spans of its fields): the split is
            // at or after the current byte, and never past the end.
            let (part, after) = rest.split_at(offset.saturating_sub(byte).min(rest.len()));
            units += utf16_len(part);
            rest = after;
            *offset = units;
        }
    }
    units + utf16_len(rest)
}

/// The UTF-16 code units of whole UTF-8 characters: one for each byte that starts a character
/// (any byte but `0x80..=0xBF`), and one more for each that starts a four-byte one (`0xF0..`).
/// Counted byte by byte without branches, which compilers turn into vector code.
fn utf16_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| usize::from(!(0x80..0xC0).contains(&b)) + usize::from(b >= 0xF0))
        .sum()
}

struct Writer {
    /// The text, in UTF-8.
    text: String,
    /// Four numbers an entry: slot, then where parts A and B start and where B ends, in bytes
    /// of `text` (converted to UTF-16 code units at the end).
    entries: Vec<usize>,
}

impl Writer {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
    }

    /// A whole number in decimal digits.
    fn push_integer(&mut self, n: impl itoa::Integer) {
        self.push(itoa::Buffer::new().format(n));
    }

    /// A decimal as its `Display` writes it (`-` for a negative one, zero included; every digit
    /// of its scale, `0.05`), read from its mantissa when that fits 64 bits (every amount
    /// PayPal writes), else through `Display` itself.
    fn push_decimal(&mut self, d: Decimal) {
        let Ok(mantissa) = u64::try_from(d.mantissa().unsigned_abs()) else {
            return self.push_fmt(format_args!("{d}"));
        };
        let mut buffer = itoa::Buffer::new();
        let digits = buffer.format(mantissa);
        let scale = d.scale() as usize;
        if d.is_sign_negative() {
            self.push("-");
        }
        match digits
            .len()
            .checked_sub(scale)
            .filter(|&whole| whole > 0)
            .and_then(|whole| digits.split_at_checked(whole))
        {
            Some((whole, "")) => self.push(whole),
            Some((whole, fraction)) => {
                self.push(whole);
                self.push(".");
                self.push(fraction);
            }
            // Every digit is in the fraction: `0.` and the zeros before them.
            None => {
                self.push("0.");
                for _ in digits.len()..scale {
                    self.push("0");
                }
                self.push(digits);
            }
        }
    }

    /// Writes what `write!` produces (numbers: ASCII).
    fn push_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        // Writing into a `String` cannot fail.
        let _ = self.text.write_fmt(args);
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
    }

    /// The entry of `slot`: part A written by `a`, part B by `b`.
    fn entry(&mut self, slot: usize, a: impl FnOnce(&mut Writer), b: impl FnOnce(&mut Writer)) {
        let start = self.text.len();
        a(self);
        let mid = self.text.len();
        b(self);
        self.entries.extend([slot, start, mid, self.text.len()]);
    }

    fn value(&mut self, slot: usize, value: Value<'_>) {
        match value {
            Value::Text(text) | Value::Word(text) => self.entry(slot, |w| w.push(text), |_| {}),
            Value::Flag(flag) => self.entry(slot, |w| w.push(if flag { "1" } else { "0" }), |_| {}),
            Value::Count(count) => self.entry(slot, |w| w.push_integer(count), |_| {}),
            Value::Decimal(decimal) => {
                self.entry(slot, |w| w.push_decimal(decimal), |_| {});
            }
            Value::Currency(currency) => self.entry(slot, |w| w.push(currency.as_str()), |_| {}),
            Value::Money(money) => self.entry(
                slot,
                |w| w.push_decimal(money.amount),
                |w| {
                    if let Some(currency) = &money.currency {
                        w.push(currency.as_str());
                    }
                },
            ),
            Value::Date(date) => self.entry(slot, |w| w.push_instant(date), |w| w.push(&date.text)),
            Value::Period(period) => self.entry(
                slot,
                |w| w.push_integer(period.count),
                |w| w.push(period.unit.code()),
            ),
            // Members of records only, never a modelled variable's value: carried as their
            // canonical JSON all the same, so that nothing is ever dropped.
            Value::Options(_) | Value::Pairs(_) => self.entry(
                slot,
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
        let [start, mid, end] = flat.span(i)?;
        let text = flat.text();
        let cut = |a: usize, b: usize| String::from_utf16_lossy(&text[a..b]);
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
        let flat = Flat::of(&m, body.len())?;
        let part = |name: &str| parts(&flat, slot_of(name));
        let last = flat.slots().last().copied().unwrap_or_default();
        assert_eq!(
            flat.span(last).map(|[_, _, end]| end),
            Some(flat.text().len()),
            "the header, then the text, and nothing after it"
        );
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
        // Only what the message carries has an entry, in ascending order of slot.
        let slots = flat.slots();
        let carried: Vec<usize> = MODELLED_KINDS
            .iter()
            .enumerate()
            .filter(|(_, (name, _))| m.value(name).is_some())
            .map(|(i, _)| i)
            .chain(summary..summary + Flat::SUMMARY.len())
            .collect();
        assert_eq!(slots, carried);
        assert_eq!(
            flat.entries(),
            12 + Flat::SUMMARY.len(),
            "twelve variables, each modelled"
        );
        Ok(())
    }

    #[test]
    fn notices_follow_the_summary() -> Result<(), crate::Error> {
        let body = b"txn_type=cart&num_cart_items=2&item_name1=Tea&mc_gross_1=1.00";
        let m = Message::parse(body)?;
        let flat = Flat::of(&m, body.len())?;
        let first = MODELLED_KINDS.len() + Flat::SUMMARY.len();
        assert_eq!(flat.slots().last(), Some(&(first + m.notices().len() - 1)));
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
            parts(&Flat::of(&m, 13)?, slot_of("mc_gross")),
            Some(("5.00".into(), String::new()))
        );
        Ok(())
    }

    proptest::proptest! {
        #[test]
        fn decimals_are_written_as_display_writes_them(
            mantissa in proptest::prop_oneof![
                -1_000_000i128..1_000_000,
                proptest::strategy::Strategy::prop_map(proptest::num::i64::ANY, i128::from),
                -(1i128 << 95)..(1i128 << 95),
            ],
            scale in 0u32..=28,
            negative_zero in proptest::bool::ANY,
        ) {
            let mut d = Decimal::from_i128_with_scale(mantissa, scale);
            if negative_zero && mantissa == 0 {
                d.set_sign_negative(true);
            }
            let mut w = Writer { text: String::new(), entries: Vec::new() };
            w.push_decimal(d);
            proptest::prop_assert_eq!(&w.text, &d.to_string());
        }

        #[test]
        fn instants_are_written_as_to_rfc3339_writes_them(secs in -70_000_000_000i64..300_000_000_000i64, nanos in proptest::prop_oneof![proptest::strategy::Just(0u32), 0u32..1_000_000_000]) {
            let utc = chrono::DateTime::from_timestamp(secs, nanos).unwrap_or_default();
            let date = PayPalDate { utc, text: String::new(), zone_corrected: false };
            let mut w = Writer { text: String::new(), entries: Vec::new() };
            w.push_instant(&date);
            proptest::prop_assert_eq!(&w.text, &date.to_rfc3339());
        }

        /// Offsets written in bytes come out in UTF-16 code units, as counting the code units
        /// of each part written would give (any text: ASCII, two-, three- and four-byte
        /// characters, empty parts, parts at the very end).
        #[test]
        fn byte_offsets_become_utf16_offsets(parts in proptest::collection::vec(("\\PC{0,6}", "\\PC{0,6}"), 0..12)) {
            let mut w = Writer { text: String::new(), entries: Vec::new() };
            let mut expected = Vec::new();
            let mut units = 0;
            for (slot, (a, b)) in parts.iter().enumerate() {
                let start = units;
                units += a.encode_utf16().count();
                let mid = units;
                units += b.encode_utf16().count();
                expected.extend([slot, start, mid, units]);
                w.entry(slot, |w| w.push(a), |w| w.push(b));
            }
            let Writer { text, mut entries } = w;
            proptest::prop_assert_eq!(utf16_offsets(&text, &mut entries), units);
            proptest::prop_assert_eq!(entries, expected);
        }
    }

    #[test]
    fn a_body_over_the_flat_maximum_is_refused_before_any_work() -> Result<(), crate::Error> {
        let m = Message::parse(b"txn_id=1")?;
        assert!(matches!(
            Flat::of(&m, Flat::MAX_BODY_BYTES + 1),
            Err(Error::BodyTooLarge { limit, .. }) if limit == Flat::MAX_BODY_BYTES
        ));
        Ok(())
    }

    #[test]
    fn offsets_past_15_bits_use_the_high_unit() -> Result<(), crate::Error> {
        let body = format!(
            "memo={}&txn_id=X9&payment_status=Completed",
            "a".repeat(40_000)
        );
        let m = Message::parse(body.as_bytes())?;
        let flat = Flat::of(&m, body.len())?;
        // Entries are written in slot order: `payment_status` comes after `memo`.
        let [start, ..] = flat.span(slot_of("payment_status")).unwrap_or_default();
        assert!(start > 1 << 15, "the offset {start} needs the high unit");
        assert_eq!(
            parts(&flat, slot_of("payment_status")),
            Some(("Completed".into(), String::new()))
        );
        assert_eq!(
            parts(&flat, slot_of("txn_id")),
            Some(("X9".into(), String::new()))
        );
        assert!(
            flat.units()
                .iter()
                .take(2 + 8 * flat.entries())
                .all(|&u| u < 0x8000)
        );
        Ok(())
    }

    #[test]
    fn numbers_split_into_two_15_bit_characters_below_2_to_the_30() {
        // (Larger numbers are refused by `Flat::of` before any is split.)
        assert_eq!(split(0), [0, 0]);
        assert_eq!(split((1 << 30) - 1), [0x7FFF, 0x7FFF]);
        assert_eq!(split((5 << 15) | 7), [5, 7]);
    }
}
