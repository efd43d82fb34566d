//! The grammar of IPN variable names, so that the typed model can group numbered variables.
//!
//! | shape | examples | [`Key`] |
//! |---|---|---|
//! | plain | `payment_status`, `period3`, `mc_amount1` | [`Key::Plain`] |
//! | numbered, no separator | `item_name1`, `quantity12`, `mc_gross1` (IPN simulator) | [`Key::Numbered`] with [`Separator::None`] |
//! | numbered with `_N` | `mc_gross_1`, `masspay_txn_id_2`, `fraud_management_pending_filters_1` | [`Key::Numbered`] with [`Separator::Underscore`] |
//! | two numbers | `option_name1_1`, `option_selection2_10` | [`Key::DoubleNumbered`] |
//! | array (Adaptive Payments) | `transaction[0].id`, escaped as `transaction%5B0%5D.id` on the wire | [`Key::Array`] |
//!
//! The grammar is syntactic: it says where the numbers are, not what they mean. A few of PayPal's
//! subscription names end in a digit that is part of the name (`period1`–`period3`, `amount1`–
//! `amount3`, `mc_amount1`–`mc_amount3`); they are [`Key::Plain`]. Numbers are canonical decimal
//! (no leading zero, fitting in `u32`), so `item_name01` is plain rather than a second spelling of
//! `item_name1`. Keys are classified after decoding, so both array spellings are the same key.

/// How a numbered key joins its base name and its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Separator {
    /// `item_name1`
    None,
    /// `mc_gross_1`
    Underscore,
}

/// The shape of a decoded variable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key<'k> {
    /// A name with no index.
    Plain(&'k str),
    /// A base name followed by one number.
    Numbered {
        /// The name without the number (and without the `_`), e.g. `mc_gross`.
        base: &'k str,
        /// The number.
        index: u32,
        /// How the number is attached.
        separator: Separator,
    },
    /// A base name followed by `N_M`, e.g. `option_name1_2` (base `option_name`, 1, 2).
    DoubleNumbered {
        /// The name without the numbers.
        base: &'k str,
        /// The number right after the base.
        first: u32,
        /// The number after the `_`.
        second: u32,
    },
    /// An Adaptive Payments array element, `array[index].field`.
    Array {
        /// The array's name, e.g. `transaction`.
        array: &'k str,
        /// The element's index.
        index: u32,
        /// The field within the element, e.g. `id_for_sender_txn`.
        field: &'k str,
    },
}

/// Subscription variables whose trailing digit is part of the name (PayPal's period 1–3 of a
/// subscription, trial periods included).
fn is_digit_name(key: &str) -> bool {
    matches!(
        key,
        "period1"
            | "period2"
            | "period3"
            | "amount1"
            | "amount2"
            | "amount3"
            | "mc_amount1"
            | "mc_amount2"
            | "mc_amount3"
    )
}

impl<'k> Key<'k> {
    /// Classifies a decoded key.
    ///
    /// ```
    /// use ipnkit::{Key, Separator};
    /// assert_eq!(Key::parse("mc_gross_1"), Key::Numbered { base: "mc_gross", index: 1, separator: Separator::Underscore });
    /// assert_eq!(Key::parse("transaction[0].amount"), Key::Array { array: "transaction", index: 0, field: "amount" });
    /// assert_eq!(Key::parse("period3"), Key::Plain("period3"));
    /// ```
    pub fn parse(key: &'k str) -> Key<'k> {
        let bytes = key.as_bytes();
        // Most names end in a letter and hold no `[`: plain, at the cost of one short scan.
        // A byte loop: keys are short, and `contains` calls `memchr`, which costs more than it
        // saves here (measured with callgrind).
        #[allow(clippy::manual_contains)]
        if bytes.iter().any(|&b| b == b'[')
            && let Some(k) = parse_array(key)
        {
            return k;
        }
        if !bytes.last().is_some_and(u8::is_ascii_digit) || is_digit_name(key) {
            return Key::Plain(key);
        }
        let Some((rest, last)) = split_number(key) else {
            return Key::Plain(key);
        };
        if let Some(before) = rest.strip_suffix('_') {
            if let Some((base, first)) = split_number(before)
                && is_base(base)
            {
                return Key::DoubleNumbered {
                    base,
                    first,
                    second: last,
                };
            }
            if is_base(before) {
                return Key::Numbered {
                    base: before,
                    index: last,
                    separator: Separator::Underscore,
                };
            }
            return Key::Plain(key);
        }
        if is_base(rest) {
            Key::Numbered {
                base: rest,
                index: last,
                separator: Separator::None,
            }
        } else {
            Key::Plain(key)
        }
    }

    /// The name the key is grouped under: the base of a numbered key, the array of an array
    /// key, the whole name of a plain one.
    pub fn base(&self) -> &'k str {
        match *self {
            Key::Plain(name) => name,
            Key::Numbered { base, .. } | Key::DoubleNumbered { base, .. } => base,
            Key::Array { array, .. } => array,
        }
    }
}

/// A base name: starts with a letter, ends with a letter (so `a_1_` is not a base).
fn is_base(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && s.as_bytes().last().is_some_and(u8::is_ascii_alphabetic)
}

/// Splits a trailing canonical decimal number off `s`.
fn split_number(s: &str) -> Option<(&str, u32)> {
    let digits = s.bytes().rev().take_while(u8::is_ascii_digit).count();
    let (rest, number) = s.split_at_checked(s.len() - digits)?;
    parse_index(number).map(|n| (rest, n))
}

/// A canonical decimal index: no sign, no leading zero (but `0` itself), fits in `u32`.
fn parse_index(s: &str) -> Option<u32> {
    match s.as_bytes() {
        [] => None,
        [b'0', _, ..] => None,
        digits => digits.iter().try_fold(0u32, |n, &b| {
            if !b.is_ascii_digit() {
                return None;
            }
            n.checked_mul(10)?.checked_add(u32::from(b - b'0'))
        }),
    }
}

fn parse_array(key: &str) -> Option<Key<'_>> {
    let open = key.bytes().position(|b| b == b'[')?;
    let (array, rest) = key.split_at_checked(open)?;
    let rest = rest.strip_prefix('[')?;
    let close = rest.bytes().position(|b| b == b']')?;
    let (number, rest) = rest.split_at_checked(close)?;
    let field = rest.strip_prefix("].")?;
    let valid_name =
        |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !valid_name(array) || !valid_name(field) {
        return None;
    }
    Some(Key::Array {
        array,
        index: parse_index(number)?,
        field,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(base: &str, index: u32, separator: Separator) -> Key<'_> {
        Key::Numbered {
            base,
            index,
            separator,
        }
    }

    #[test]
    fn plain_keys() {
        for k in [
            "payment_status",
            "txn_id",
            "receipt_ID",
            "period1",
            "mc_amount3",
            "amount2",
            "item_name01",
            "x_01",
            "1",
            "_1",
            "a_1_",
            "item_name99999999999",
            "",
        ] {
            assert_eq!(Key::parse(k), Key::Plain(k), "{k}");
        }
    }

    #[test]
    fn numbered_keys_without_separator() {
        assert_eq!(
            Key::parse("item_name1"),
            numbered("item_name", 1, Separator::None)
        );
        assert_eq!(
            Key::parse("quantity12"),
            numbered("quantity", 12, Separator::None)
        );
        assert_eq!(
            Key::parse("mc_gross1"),
            numbered("mc_gross", 1, Separator::None)
        );
        assert_eq!(Key::parse("tax1"), numbered("tax", 1, Separator::None));
        assert_eq!(
            Key::parse("option_name1"),
            numbered("option_name", 1, Separator::None)
        );
    }

    #[test]
    fn numbered_keys_with_underscore() {
        for (k, base, i) in [
            ("mc_gross_1", "mc_gross", 1),
            ("masspay_txn_id_2", "masspay_txn_id", 2),
            ("status_1", "status", 1),
            ("unique_id_3", "unique_id", 3),
            ("receiver_email_10", "receiver_email", 10),
            (
                "fraud_management_pending_filters_1",
                "fraud_management_pending_filters",
                1,
            ),
        ] {
            assert_eq!(
                Key::parse(k),
                numbered(base, i, Separator::Underscore),
                "{k}"
            );
        }
    }

    #[test]
    fn double_numbered_keys() {
        assert_eq!(
            Key::parse("option_name1_1"),
            Key::DoubleNumbered {
                base: "option_name",
                first: 1,
                second: 1
            }
        );
        assert_eq!(
            Key::parse("option_selection2_10"),
            Key::DoubleNumbered {
                base: "option_selection",
                first: 2,
                second: 10
            }
        );
    }

    #[test]
    fn array_keys() {
        assert_eq!(
            Key::parse("transaction[0].id_for_sender_txn"),
            Key::Array {
                array: "transaction",
                index: 0,
                field: "id_for_sender_txn"
            }
        );
        assert_eq!(
            Key::parse("transaction[12].paymentType"),
            Key::Array {
                array: "transaction",
                index: 12,
                field: "paymentType"
            }
        );
        for k in [
            "transaction[].id",
            "transaction[01].id",
            "transaction[0]id",
            "transaction[0].",
            "[0].id",
            "transaction[-1].id",
            "transaction[0].a.b",
            "transaction[0",
        ] {
            assert_eq!(Key::parse(k), Key::Plain(k), "{k}");
        }
    }

    #[test]
    fn base_names_the_group() {
        assert_eq!(Key::parse("mc_gross_1").base(), "mc_gross");
        assert_eq!(Key::parse("transaction[0].id").base(), "transaction");
        assert_eq!(Key::parse("option_name1_1").base(), "option_name");
        assert_eq!(Key::parse("txn_id").base(), "txn_id");
    }
}
