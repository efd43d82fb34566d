//! The raw body: PayPal's bytes, kept exactly, with the span of every key and value.
//!
//! Tokenizing never changes, trims or re-encodes a byte. It only records where each pair's key
//! and value lie, so the postback can be the original bytes and decoding can happen later (or not
//! at all: a body whose values cannot be decoded can still be verified).

use std::borrow::Cow;
use std::ops::Range;

use crate::error::Error;
use crate::words::{HIGH, first, others, word_at};

/// The prefix PayPal expects in front of the original body when it is posted back for verification.
pub const POSTBACK_PREFIX: &[u8] = b"cmd=_notify-validate&";

/// The largest body any [`Limits`] can admit, 1 GiB − 1 byte: spans into the body and into its
/// decoded text are 32-bit, and decoding can triple a body (a raw windows-1252 byte becomes up to
/// three bytes of UTF-8).
pub const MAX_BODY_BYTES: usize = (u32::MAX / 4) as usize;

/// Size limits, checked before any other work so that a hostile body costs little.
///
/// The defaults are generous for real messages (a cart item has a name, number, quantity, gross,
/// shipping, handling, tax and one or more option pairs: 9 or more variables of some 25 bytes) and
/// small enough that an attacker cannot make a listener hold megabytes per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest body accepted, in bytes. Default: 256 KiB (a 500-item cart is about 110 KiB).
    pub max_body_bytes: usize,
    /// Most `key=value` pairs accepted. Default: 8,192 (500 items with two options each are 5,500).
    pub max_fields: usize,
    /// Longest raw key accepted, in bytes (escapes counted as written). Default: 128; PayPal's
    /// longest names (`fraud_management_pending_filters_10`, `transaction%5B10%5D.id_for_sender_txn`)
    /// are under 50.
    pub max_key_bytes: usize,
}

impl Limits {
    /// The default limits, as a constant.
    pub const DEFAULT: Limits = Limits {
        max_body_bytes: 256 * 1024,
        max_fields: 8192,
        max_key_bytes: 128,
    };

    /// Limits from a host's numbers, checked as a configuration's `limits` are: each a whole
    /// number from 1 to [`MAX_BODY_BYTES`], else [`Error::InvalidConfiguration`] naming it
    /// (`limits.max_fields`…). The one way a binding turns numbers into limits.
    pub fn new(max_body_bytes: u64, max_fields: u64, max_key_bytes: u64) -> Result<Limits, Error> {
        Ok(Limits {
            max_body_bytes: Limits::one(max_body_bytes.into(), "limits.max_body_bytes")?,
            max_fields: Limits::one(max_fields.into(), "limits.max_fields")?,
            max_key_bytes: Limits::one(max_key_bytes.into(), "limits.max_key_bytes")?,
        })
    }

    /// One limit, checked: from 1 to [`MAX_BODY_BYTES`].
    pub(crate) fn one(n: i128, field: &str) -> Result<usize, Error> {
        usize::try_from(n)
            .ok()
            .filter(|&n| n > 0 && n <= MAX_BODY_BYTES)
            .ok_or_else(|| Error::InvalidConfiguration {
                field: crate::error::FieldName::new(field),
                problem: crate::error::Problem::InvalidValue,
            })
    }

    /// Refuses a body of `len` bytes over [`max_body_bytes`](Limits::max_body_bytes) (or over
    /// [`MAX_BODY_BYTES`], whatever the limits say), before any work or copy.
    pub fn check_len(&self, len: usize) -> Result<(), Error> {
        // Spans are 32-bit: no limit can admit a body whose decoded text could pass 4 GiB.
        let limit = self.max_body_bytes.min(MAX_BODY_BYTES);
        if len > limit {
            return Err(Error::BodyTooLarge { actual: len, limit });
        }
        Ok(())
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Where one pair lies in the body: 12 bytes, so that tokenizing writes little.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PairSpan {
    /// First byte of the key.
    start: u32,
    /// The first `=`, or [`NO_EQ`] when the pair has none.
    eq: u32,
    /// One past the last byte of the value.
    end: u32,
}

/// [`PairSpan::eq`] of a pair without `=`.
const NO_EQ: u32 = u32::MAX;

/// Whether every offset in `content` fits a [`PairSpan`] below [`NO_EQ`]: the condition of
/// [`PairSpan::within_checked`].
pub(crate) fn fits_spans(content: &[u8]) -> bool {
    u32::try_from(content.len()).is_ok_and(|len| len < NO_EQ)
}

impl PairSpan {
    /// The pair from `start` to `end` (exclusive) with its first `=` at `eq`. Offsets are under
    /// [`MAX_BODY_BYTES`] once the body passed its limits; one that does not fit the span's
    /// 32 bits is [`Error::BodyTooLarge`], never a position made up.
    pub(crate) fn new(start: usize, eq: Option<usize>, end: usize) -> Result<PairSpan, Error> {
        let offset = |i: usize| {
            u32::try_from(i)
                .ok()
                .filter(|&o| o != NO_EQ)
                .ok_or(Error::BodyTooLarge {
                    actual: end,
                    limit: MAX_BODY_BYTES,
                })
        };
        Ok(PairSpan {
            start: offset(start)?,
            eq: match eq {
                Some(eq) => offset(eq)?,
                None => NO_EQ,
            },
            end: offset(end)?,
        })
    }

    /// The pair, for a caller that has checked that the content it reads is shorter than
    /// `u32::MAX` bytes (see [`fits_spans`]): every offset is then at most its length and fits.
    /// The one-pass decoder's hot loop, where [`new`](PairSpan::new)'s three checks cost.
    #[allow(clippy::cast_possible_truncation)] // each offset ≤ the content's length < u32::MAX
    pub(crate) fn within_checked(start: usize, eq: usize, end: usize) -> PairSpan {
        PairSpan {
            start: start as u32,
            eq: eq as u32,
            end: end as u32,
        }
    }

    fn key(self) -> Range<usize> {
        let key_end = if self.eq == NO_EQ { self.end } else { self.eq };
        self.start as usize..key_end as usize
    }

    fn value(self) -> Option<Range<usize>> {
        (self.eq != NO_EQ).then(|| self.eq as usize + 1..self.end as usize)
    }
}

/// One `key=value` pair as it appears on the wire: raw bytes, not decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawPair<'b> {
    /// 0-based position among the body's pairs.
    pub index: usize,
    /// The key's raw bytes (escapes not decoded).
    pub key: &'b [u8],
    /// The value's raw bytes, `None` when the pair has no `=`.
    pub value: Option<&'b [u8]>,
}

/// An IPN body: the exact bytes PayPal sent, and the span of every pair in order.
///
/// It borrows the caller's buffer ([`Body::parse`]) or owns it ([`Body::parse_owned`]); either way
/// [`as_bytes`](Body::as_bytes) returns the bytes unchanged.
///
/// Empty segments (`&&`) hold no variable and are skipped; trailing CR and LF bytes after the last
/// pair (a file or proxy artefact, never part of a value, since PayPal escapes CR/LF as `%0D%0A`)
/// are kept as the [`trailer`](Body::trailer). Both stay in the postback.
///
/// ```
/// let body = ipnkit::Body::parse(b"payment_status=Completed&mc_gross=19.95")?;
/// assert_eq!(body.len(), 2);
/// assert_eq!(body.postback(), b"cmd=_notify-validate&payment_status=Completed&mc_gross=19.95");
/// # Ok::<(), ipnkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body<'a> {
    raw: Cow<'a, [u8]>,
    pairs: Vec<PairSpan>,
    limits: Limits,
}

impl<'a> Body<'a> {
    /// Tokenizes a borrowed body with the [default limits](Limits::DEFAULT).
    pub fn parse(raw: &'a [u8]) -> Result<Self, Error> {
        Self::parse_with(raw, Limits::DEFAULT)
    }

    /// Tokenizes a borrowed body with the given limits.
    pub fn parse_with(raw: &'a [u8], limits: Limits) -> Result<Self, Error> {
        Self::from_cow(Cow::Borrowed(raw), limits)
    }

    fn from_cow(raw: Cow<'a, [u8]>, limits: Limits) -> Result<Self, Error> {
        limits.check_len(raw.len())?;
        let pairs = tokenize(content_of(&raw), &limits)?;
        if pairs.is_empty() {
            return Err(Error::EmptyBody);
        }
        Ok(Body { raw, pairs, limits })
    }

    /// Whether the body carries a non-empty `verify_sign`: every notification PayPal sends does
    /// (it is PayPal's signature over the message). A listener posts back only bodies that carry
    /// one; anything else posted to its URL is not PayPal's and is kept apart as junk.
    ///
    /// ```
    /// assert!(ipnkit::Body::parse(b"txn_id=1&verify_sign=AFcWxV21C7fd0v3bYYYRCpSSRl31A")?.has_verify_sign());
    /// assert!(!ipnkit::Body::parse(b"txn_id=1&verify_sign=")?.has_verify_sign());
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn has_verify_sign(&self) -> bool {
        self.pairs()
            .any(|p| p.key == b"verify_sign" && p.value.is_some_and(|v| !v.is_empty()))
    }

    /// The exact bytes received.
    pub fn as_bytes(&self) -> &[u8] {
        &self.raw
    }

    /// Number of pairs (variables) in the body.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Always `false`: a body without pairs is [`Error::EmptyBody`]. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The limits this body was checked against.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The bytes without the [`trailer`](Body::trailer): what the pairs are read from.
    pub(crate) fn content(&self) -> &[u8] {
        split_trailer(&self.raw).0
    }

    /// Trailing CR/LF bytes after the last pair (usually empty).
    pub fn trailer(&self) -> &[u8] {
        split_trailer(&self.raw).1
    }

    /// The pairs as they appear on the wire, in order.
    pub fn pairs(&self) -> impl ExactSizeIterator<Item = RawPair<'_>> + '_ {
        self.pairs
            .iter()
            .enumerate()
            .map(|(index, &span)| self.raw_pair(index, span))
    }

    fn raw_pair(&self, index: usize, span: PairSpan) -> RawPair<'_> {
        RawPair {
            index,
            key: self.slice(span.key()),
            value: span.value().map(|v| self.slice(v)),
        }
    }

    /// The pair at `index`, if there is one.
    pub fn pair(&self, index: usize) -> Option<RawPair<'_>> {
        self.pairs
            .get(index)
            .map(|&span| self.raw_pair(index, span))
    }

    fn slice(&self, r: Range<usize>) -> &[u8] {
        // Every span was cut from these very bytes by `tokenize` (or the one-pass decoder, over
        // the same content), and neither changes afterwards (private, set together, never
        // mutated): `get` always finds the range. An empty slice here is unreachable.
        self.raw.get(r).unwrap_or_default()
    }

    /// The verification postback: [`POSTBACK_PREFIX`] followed by the body, byte for byte.
    pub fn postback(&self) -> Vec<u8> {
        postback(&self.raw)
    }

    /// Appends the verification postback to `out` (for callers that reuse a buffer).
    pub fn write_postback(&self, out: &mut Vec<u8>) {
        out.reserve(POSTBACK_PREFIX.len() + self.raw.len());
        out.extend_from_slice(POSTBACK_PREFIX);
        out.extend_from_slice(&self.raw);
    }

    /// Length of the postback in bytes (for a `Content-Length` header).
    pub fn postback_len(&self) -> usize {
        POSTBACK_PREFIX.len() + self.raw.len()
    }

    /// Converts into a body that owns its bytes.
    pub fn into_owned(self) -> Body<'static> {
        Body {
            raw: Cow::Owned(self.raw.into_owned()),
            pairs: self.pairs,
            limits: self.limits,
        }
    }
}

impl Body<'static> {
    /// An owned body whose pairs were found by the one-pass decoder, with the same limits
    /// checked (so that it need not be tokenized again).
    pub(crate) fn from_pairs(raw: Vec<u8>, pairs: Vec<PairSpan>, limits: Limits) -> Self {
        Body {
            raw: Cow::Owned(raw),
            pairs,
            limits,
        }
    }

    /// Tokenizes an owned body with the [default limits](Limits::DEFAULT).
    pub fn parse_owned(raw: Vec<u8>) -> Result<Self, Error> {
        Self::parse_owned_with(raw, Limits::DEFAULT)
    }

    /// Tokenizes an owned body with the given limits.
    pub fn parse_owned_with(raw: Vec<u8>, limits: Limits) -> Result<Self, Error> {
        Self::from_cow(Cow::Owned(raw), limits)
    }
}

/// The verification postback for any bytes: [`POSTBACK_PREFIX`] followed by `raw`, unchanged.
///
/// [`Body::postback`] is the same, after the body has passed its limits; prefer it for bytes that
/// came from the network.
pub(crate) fn postback(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(POSTBACK_PREFIX.len() + raw.len());
    out.extend_from_slice(POSTBACK_PREFIX);
    out.extend_from_slice(raw);
    out
}

/// The body without its trailing CR/LF bytes (see [`Body::trailer`]).
pub(crate) fn content_of(raw: &[u8]) -> &[u8] {
    split_trailer(raw).0
}

/// The body split before its trailing CR/LF bytes: (content, trailer).
fn split_trailer(raw: &[u8]) -> (&[u8], &[u8]) {
    let trailer = raw
        .iter()
        .rev()
        .take_while(|&&b| b == b'\r' || b == b'\n')
        .count();
    // `trailer` counts bytes of `raw`: the subtraction cannot underflow, the split is in range.
    raw.split_at(raw.len() - trailer)
}

/// Splits `content` at `&`, and each pair at its first `=`, checking the field and key limits as
/// it goes so that it stops early on a hostile body. `content` is at most [`MAX_BODY_BYTES`] long.
///
/// The bytes are read eight at a time, looking for `&` and `=` together (see `crate::words`).
fn tokenize(content: &[u8], limits: &Limits) -> Result<Vec<PairSpan>, Error> {
    // A typical message has 30-60 pairs; counting `&` first would read the body twice.
    let mut pairs = Vec::with_capacity(64.min(limits.max_fields));
    let mut push = |start: usize, eq: Option<usize>, end: usize| -> Result<(), Error> {
        if end == start {
            return Ok(()); // empty segment: no variable
        }
        let index = pairs.len();
        if index >= limits.max_fields {
            return Err(Error::TooManyFields {
                limit: limits.max_fields,
            });
        }
        // Without `=`, the whole pair is its key.
        let key_len = eq.unwrap_or(end) - start;
        if key_len > limits.max_key_bytes {
            return Err(Error::KeyTooLong {
                index,
                actual: key_len,
                limit: limits.max_key_bytes,
            });
        }
        pairs.push(PairSpan::new(start, eq, end)?);
        Ok(())
    };
    let (mut start, mut eq) = (0, None);
    let mut at = 0;
    while at < content.len() {
        let word = word_at(content, at);
        let mut found = !(others(word, b'&') & others(word, b'=')) & HIGH;
        while found != 0 {
            let position = at + first(found);
            if content.get(position) == Some(&b'&') {
                push(start, eq, position)?;
                (start, eq) = (position + 1, None);
            } else if eq.is_none() {
                eq = Some(position);
            }
            found &= found - 1;
        }
        at += 8;
    }
    push(start, eq, content.len())?;
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw_pairs(body: &Body<'_>) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        body.pairs()
            .map(|p| (p.key.to_vec(), p.value.map(<[u8]>::to_vec)))
            .collect()
    }

    #[test]
    fn limits_from_numbers_are_checked_as_a_configurations_are() {
        assert_eq!(Limits::new(256 * 1024, 8192, 128), Ok(Limits::DEFAULT));
        for (numbers, field) in [
            ((0, 1, 1), "limits.max_body_bytes"),
            ((1, 0, 1), "limits.max_fields"),
            ((1, 1, u64::MAX), "limits.max_key_bytes"),
        ] {
            let (body, fields, key) = numbers;
            assert_eq!(
                Limits::new(body, fields, key).map_err(|e| e.field().map(str::to_owned)),
                Err(Some(field.to_owned()))
            );
        }
    }

    #[test]
    fn splits_pairs_at_the_first_equals_sign() -> Result<(), Error> {
        let body = Body::parse(b"a=1&custom=x=y&b=")?;
        assert_eq!(
            raw_pairs(&body),
            vec![
                (b"a".to_vec(), Some(b"1".to_vec())),
                (b"custom".to_vec(), Some(b"x=y".to_vec())),
                (b"b".to_vec(), Some(Vec::new())),
            ]
        );
        Ok(())
    }

    #[test]
    fn keeps_pairs_without_equals_and_skips_empty_segments() -> Result<(), Error> {
        let body = Body::parse(b"&&a&=v&&")?;
        assert_eq!(
            raw_pairs(&body),
            vec![(b"a".to_vec(), None), (Vec::new(), Some(b"v".to_vec())),]
        );
        assert_eq!(body.pair(1).map(|p| p.index), Some(1));
        assert_eq!(body.pair(2), None);
        Ok(())
    }

    #[test]
    fn trailing_newlines_are_a_trailer_not_part_of_the_last_value() -> Result<(), Error> {
        let raw = b"ipn_track_id=924c4eb589c62\n\n";
        let body = Body::parse(raw)?;
        assert_eq!(body.trailer(), b"\n\n");
        assert_eq!(
            body.pair(0).and_then(|p| p.value),
            Some(&b"924c4eb589c62"[..])
        );
        assert_eq!(body.as_bytes(), raw);
        assert!(body.postback().ends_with(b"924c4eb589c62\n\n"));
        Ok(())
    }

    #[test]
    fn empty_bodies_are_refused() {
        for raw in [&b""[..], b"&", b"&&&", b"\r\n", b"\n"] {
            assert_eq!(Body::parse(raw), Err(Error::EmptyBody), "{raw:?}");
        }
    }

    #[test]
    fn body_size_is_checked_first() {
        let limits = Limits {
            max_body_bytes: 8,
            ..Limits::DEFAULT
        };
        assert_eq!(
            Body::parse_with(b"a=123456789", limits),
            Err(Error::BodyTooLarge {
                actual: 11,
                limit: 8
            })
        );
        assert!(Body::parse_with(b"a=123456", limits).is_ok());
    }

    #[test]
    fn field_count_is_limited() {
        let limits = Limits {
            max_fields: 2,
            ..Limits::DEFAULT
        };
        assert!(Body::parse_with(b"a=1&b=2", limits).is_ok());
        assert!(Body::parse_with(b"a=1&&b=2&", limits).is_ok());
        assert_eq!(
            Body::parse_with(b"a=1&b=2&c=3", limits),
            Err(Error::TooManyFields { limit: 2 })
        );
    }

    #[test]
    fn key_length_is_limited_including_keys_without_values() {
        let limits = Limits {
            max_key_bytes: 3,
            ..Limits::DEFAULT
        };
        assert!(Body::parse_with(b"abc=long value", limits).is_ok());
        assert_eq!(
            Body::parse_with(b"abc=1&abcd=2", limits),
            Err(Error::KeyTooLong {
                index: 1,
                actual: 4,
                limit: 3
            })
        );
        assert_eq!(
            Body::parse_with(b"abcd", limits).map(|b| b.len()),
            Err(Error::KeyTooLong {
                index: 0,
                actual: 4,
                limit: 3
            })
        );
    }

    #[test]
    fn default_limits_take_a_500_item_cart() -> Result<(), Error> {
        let mut raw = String::from("txn_type=cart&num_cart_items=500&charset=windows-1252");
        for i in 1..=500 {
            raw.push_str(&format!(
                "&item_name{i}=Deluxe+widget+number+{i}&item_number{i}=SKU-{i:06}&quantity{i}=1\
                 &mc_gross_{i}=19.95&mc_shipping{i}=0.00&mc_handling{i}=0.00&tax{i}=0.00\
                 &option_name1_{i}=Colour&option_selection1_{i}=Midnight+blue"
            ));
        }
        for i in 1..=500 {
            raw.push_str(&format!("&option_name2_{i}=Size&option_selection2_{i}=XL"));
        }
        assert!(
            raw.len() < Limits::DEFAULT.max_body_bytes / 2,
            "{}",
            raw.len()
        );
        let body = Body::parse(raw.as_bytes())?;
        assert_eq!(body.len(), 3 + 500 * 11);
        Ok(())
    }

    #[test]
    fn postback_is_prefix_plus_exact_bytes() -> Result<(), Error> {
        let raw = b"a=%e9+%20&b[0].c=\xff\r\n&&x";
        let body = Body::parse(raw)?;
        let mut expected = b"cmd=_notify-validate&".to_vec();
        expected.extend_from_slice(raw);
        assert_eq!(body.postback(), expected);
        assert_eq!(body.postback_len(), expected.len());
        let mut buf = b"reused".to_vec();
        body.write_postback(&mut buf);
        assert_eq!(buf.get(6..), Some(&expected[..]));
        assert_eq!(postback(raw), expected);
        Ok(())
    }

    #[test]
    fn owned_and_borrowed_bodies_agree() -> Result<(), Error> {
        let raw = b"a=1&b=2\n".to_vec();
        let borrowed = Body::parse(&raw)?;
        let owned = Body::parse_owned(raw.clone())?;
        assert_eq!(borrowed.clone().into_owned(), owned);
        assert_eq!(owned.as_bytes(), &raw[..]);
        assert_eq!(owned.limits(), Limits::default());
        assert!(!owned.is_empty());
        Ok(())
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// Bytes biased towards what breaks re-encoding listeners: `+`, `%20`, lowercase and
        /// malformed escapes, literal brackets, high bytes, CR/LF, empty pairs, pairs without `=`.
        fn wire_bytes() -> impl Strategy<Value = Vec<u8>> {
            let token = prop_oneof![
                any::<u8>().prop_map(|b| vec![b]),
                Just(b"+".to_vec()),
                Just(b"%20".to_vec()),
                Just(b"%e9".to_vec()),
                Just(b"%C3%A9".to_vec()),
                Just(b"%".to_vec()),
                Just(b"%G".to_vec()),
                Just(b"[0].".to_vec()),
                Just(b"%5B1%5D.".to_vec()),
                Just(b"\r\n".to_vec()),
                Just(b"&".to_vec()),
                Just(b"&&".to_vec()),
                Just(b"=".to_vec()),
                Just(b"charset=".to_vec()),
                Just(b"UTF-8".to_vec()),
                Just(b"\xF6\x80\xFF".to_vec()),
                "[a-z_]{1,12}".prop_map(String::into_bytes),
            ];
            prop::collection::vec(token, 0..48).prop_map(|t| t.concat())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2048))]

            #[test]
            fn postback_is_prefix_plus_body_byte_for_byte(raw in wire_bytes()) {
                let has_pair = raw
                    .split(|&b| b == b'&')
                    .any(|seg| seg.iter().any(|&b| b != b'\r' && b != b'\n'));
                match Body::parse(&raw) {
                    Ok(body) => {
                        let mut expected = POSTBACK_PREFIX.to_vec();
                        expected.extend_from_slice(&raw);
                        prop_assert_eq!(body.postback(), expected.clone());
                        prop_assert_eq!(postback(&raw), expected);
                        prop_assert_eq!(body.as_bytes(), &raw[..]);
                    }
                    Err(Error::EmptyBody) => prop_assert!(!has_pair),
                    Err(Error::KeyTooLong { actual, .. }) => {
                        prop_assert!(actual > Limits::DEFAULT.max_key_bytes);
                    }
                    Err(other) => prop_assert!(false, "unexpected error {other:?}"),
                }
            }

            #[test]
            fn spans_cover_every_non_empty_segment_in_order(raw in wire_bytes()) {
                if let Ok(body) = Body::parse(&raw) {
                    let content = &raw[..raw.len() - body.trailer().len()];
                    let expected: Vec<&[u8]> =
                        content.split(|&b| b == b'&').filter(|s| !s.is_empty()).collect();
                    let rebuilt: Vec<Vec<u8>> = body
                        .pairs()
                        .map(|p| match p.value {
                            Some(v) => [p.key, b"=", v].concat(),
                            None => p.key.to_vec(),
                        })
                        .collect();
                    prop_assert_eq!(rebuilt.len(), expected.len());
                    for (r, e) in rebuilt.iter().zip(expected) {
                        prop_assert_eq!(&r[..], e);
                    }
                    prop_assert!(body.trailer().iter().all(|&b| b == b'\r' || b == b'\n'));
                }
            }

            #[test]
            fn limits_are_enforced_for_any_input(raw in wire_bytes(), max in 0usize..64) {
                let limits = Limits { max_body_bytes: max * 4, max_fields: max, max_key_bytes: max };
                match Body::parse_with(&raw, limits) {
                    Ok(body) => {
                        prop_assert!(raw.len() <= limits.max_body_bytes);
                        prop_assert!(body.len() <= max);
                        prop_assert!(body.pairs().all(|p| p.key.len() <= max));
                    }
                    Err(Error::BodyTooLarge { actual, limit }) => {
                        prop_assert!(actual > limit);
                    }
                    Err(Error::TooManyFields { .. } | Error::KeyTooLong { .. } | Error::EmptyBody) => {}
                    Err(other) => prop_assert!(false, "unexpected error {other:?}"),
                }
            }
        }
    }
}
