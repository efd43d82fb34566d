//! Decoding: percent-escapes to bytes (`+` is a space), then the message's charset to UTF-8,
//! strictly.
//!
//! Every key and value is decoded into one owned text buffer, so a message costs three
//! allocations however many variables it has, and [`Fields`] borrows nothing from the body.
//! Two paths give the same result: a one-pass decoder over the raw bytes for the bodies PayPal
//! sends (all ASCII, escapes unescaped in place: see `decode/fast.rs`), and the general path for
//! any other body, which also gives every error in its documented order. Nothing is replaced: a
//! malformed escape, a byte sequence invalid in the charset, an unknown charset or a key seen
//! twice is an [`Error`] that names the field and not its value.
//!
//! The percent-decoder is written here rather than taken from `percent-encoding` or
//! `form_urlencoded` because both are lenient by design (a stray `%` passes through unchanged),
//! and a listener must refuse rather than guess.

use std::borrow::Cow;
use std::sync::OnceLock;

use crate::body::{Body, Limits, MAX_BODY_BYTES, RawPair};
use crate::charset::Charset;
use crate::error::{Error, FieldName};
use crate::key::Key;

mod fast;
mod index;

use index::{Duplicate, Index};

/// One decoded variable, borrowed from its [`Fields`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'f> {
    /// 0-based position of the pair in the body.
    pub index: usize,
    /// The decoded name, e.g. `transaction[0].id` (from `transaction%5B0%5D.id`).
    pub key: &'f str,
    /// The decoded value.
    pub value: &'f str,
}

impl<'f> Field<'f> {
    /// The shape of the name (plain, numbered, array), for grouping.
    pub fn key_shape(self) -> Key<'f> {
        Key::parse(self.key)
    }
}

/// Where one decoded variable lies in the text buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    key_start: u32,
    key_end: u32,
    value_start: u32,
    value_end: u32,
    /// Hash of the key (see [`hash`]), for the lookup index.
    hash: u64,
}

impl Span {
    fn key(self) -> std::ops::Range<usize> {
        self.key_start as usize..self.key_end as usize
    }

    fn value(self) -> std::ops::Range<usize> {
        self.value_start as usize..self.value_end as usize
    }
}

/// The decoded variables of a body, in their original order, with fast lookup by name.
///
/// ```
/// let body = ipnkit::Body::parse(b"first_name=J%F6rg&charset=windows-1252&item_name=A+%26+B")?;
/// let fields = body.decode()?;
/// assert_eq!(fields.get("first_name"), Some("Jörg"));
/// assert_eq!(fields.get("item_name"), Some("A & B"));
/// assert_eq!(fields.charset().name(), "windows-1252");
/// # Ok::<(), ipnkit::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Fields {
    charset: Charset,
    charset_given: bool,
    /// Every key and value, decoded; the spans say where (the buffer may hold text no span
    /// covers: what in-place unescaping left behind).
    text: String,
    spans: Vec<Span>,
    /// Lookup by name: built with the variables when they are decoded alone (which also finds
    /// any name given twice), or on the first lookup when a [`Message`](crate::Message) read
    /// them (it checks their names as it files them, and most messages are never looked up by
    /// name).
    index: OnceLock<Index>,
}

/// Two decodings are equal when they read the same: the same charset, the same variables in
/// the same order (however the buffer holds them).
impl PartialEq for Fields {
    fn eq(&self, other: &Fields) -> bool {
        self.charset == other.charset
            && self.charset_given == other.charset_given
            && self.len() == other.len()
            && self.iter().zip(other.iter()).all(|(a, b)| a == b)
    }
}

impl Eq for Fields {}

impl Fields {
    /// The charset the values were decoded with.
    pub fn charset(&self) -> Charset {
        self.charset
    }

    /// Whether the message named its charset (`false`: PayPal's default windows-1252 was used, as
    /// for the IPN simulator's messages).
    pub fn charset_given(&self) -> bool {
        self.charset_given
    }

    /// The value of the variable `key`, if present.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.position_with_hash(key, hash(key))
            .and_then(|i| self.value_at(i))
    }

    /// The value of the first variable named `key`, found by reading every name (no lookup
    /// index): for a reader that has not checked names yet.
    pub(crate) fn scan_for(&self, key: &str) -> Option<&str> {
        let h = hash(key);
        let span = self
            .spans
            .iter()
            .find(|s| s.hash == h && self.text.get(s.key()) == Some(key))?;
        self.text.get(span.value())
    }

    /// The variable `key`, if present.
    pub fn field(&self, key: &str) -> Option<Field<'_>> {
        self.position_with_hash(key, hash(key))
            .and_then(|i| self.at(i))
    }

    /// The position of `key` whose [`hash`] is `h`.
    pub(crate) fn position_with_hash(&self, key: &str, h: u64) -> Option<usize> {
        self.index
            .get_or_init(|| Index::of_distinct(&self.spans, self.text.as_bytes()))
            .candidates(h)
            .find(|&i| self.hash_at(i) == Some(h) && self.key_at(i) == Some(key))
    }

    /// The variable at position `index`.
    pub fn at(&self, index: usize) -> Option<Field<'_>> {
        Some(Field {
            index,
            key: self.key_at(index)?,
            value: self.value_at(index)?,
        })
    }

    /// The key at `index`; `None` past the end.
    pub(crate) fn key_at(&self, index: usize) -> Option<&str> {
        self.text.get(self.spans.get(index)?.key())
    }

    /// The value at `index`; `None` past the end.
    pub(crate) fn value_at(&self, index: usize) -> Option<&str> {
        self.text.get(self.spans.get(index)?.value())
    }

    /// The hash of the key at `index`; `None` past the end.
    pub(crate) fn hash_at(&self, index: usize) -> Option<u64> {
        self.spans.get(index).map(|s| s.hash)
    }

    /// Every variable in its original order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            fields: self,
            next: 0,
        }
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are no variables (never, for fields decoded from a [`Body`]).
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }
}

impl<'f> IntoIterator for &'f Fields {
    type Item = Field<'f>;
    type IntoIter = Iter<'f>;
    fn into_iter(self) -> Iter<'f> {
        self.iter()
    }
}

/// The variables of a [`Fields`], in their original order.
#[derive(Debug, Clone)]
pub struct Iter<'f> {
    fields: &'f Fields,
    next: usize,
}

impl<'f> Iterator for Iter<'f> {
    type Item = Field<'f>;

    fn next(&mut self) -> Option<Field<'f>> {
        let field = self.fields.at(self.next)?;
        self.next += 1;
        Some(field)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        // `next` moves only past a field that was there: it never passes `len`.
        let left = self.fields.len().saturating_sub(self.next);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl Body<'_> {
    /// Decodes every variable in the message's charset. See the [module docs](crate::decode).
    pub fn decode(&self) -> Result<Fields, Error> {
        match fast::decode_fast(self.content(), &self.limits(), Names::Check) {
            Some(fields) => Ok(fields),
            None => decode_body(self),
        }
    }
}

/// Decodes with the general path alone, never the one-pass decoder: what the one-pass decoder
/// must agree with, for property tests and fuzzing. Prefer [`Body::decode`].
#[doc(hidden)]
pub fn decode_general(body: &Body<'_>) -> Result<Fields, Error> {
    decode_body(body)
}

impl Body<'static> {
    /// Tokenizes and decodes an owned body at once (what [`Notification`](crate::Notification)
    /// keeps): the one-pass decoder finds the pairs as it decodes them; an irregular body is
    /// tokenized, then decoded by the general path. Fails only when the body itself is refused
    /// (over the limits, or empty); the variables' own error is the second part.
    pub(crate) fn parse_and_decode(
        raw: Vec<u8>,
        limits: Limits,
    ) -> Result<(Body<'static>, Result<Fields, Error>), Error> {
        limits.check_len(raw.len())?;
        // Sized once, as the decoder sizes its spans (growing it cost 2,000 instructions a
        // message: five reallocations).
        let mut pairs = Vec::with_capacity(fast::expected_fields(raw.len(), &limits));
        let decoded = fast::decode_fast_with(
            crate::body::content_of(&raw),
            &limits,
            Some(&mut pairs),
            Names::Check,
        );
        match decoded {
            Some(fields) => Ok((Body::from_pairs(raw, pairs, limits), Ok(fields))),
            None => {
                let body = Body::parse_owned_with(raw, limits)?;
                let fields = decode_body(&body);
                Ok((body, fields))
            }
        }
    }
}

impl Fields {
    /// Decodes a raw body straight into its variables, without a [`Body`] (whose pair list the
    /// general path then builds only when the body is irregular or refused).
    pub(crate) fn from_raw(raw: &[u8], limits: Limits) -> Result<Fields, Error> {
        limits.check_len(raw.len())?;
        match fast::decode_fast(crate::body::content_of(raw), &limits, Names::Check) {
            Some(fields) => Ok(fields),
            None => decode_body(&Body::parse_with(raw, limits)?),
        }
    }

    /// [`Fields::from_raw`]'s one-pass decoding of a regular body, without checking that names
    /// are distinct: for [`Message::parse`](crate::Message::parse), which checks them as it
    /// files each variable and must fall back to [`Fields::from_raw`] when two are the same
    /// (or when this gives `None`: an irregular body, or one over the limits).
    pub(crate) fn from_raw_unchecked(raw: &[u8], limits: Limits) -> Option<Fields> {
        limits.check_len(raw.len()).ok()?;
        fast::decode_fast(crate::body::content_of(raw), &limits, Names::Unchecked)
    }

    /// Whether the variables at `positions` (ascending) have distinct names: for a caller of
    /// [`Fields::from_raw_unchecked`], over the variables it has not checked itself.
    pub(crate) fn distinct_at(&self, positions: &[u32]) -> bool {
        Index::distinct(&self.spans, self.text.as_bytes(), positions)
    }
}

/// Whether the one-pass decoder checks that names are distinct (building the lookup index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Names {
    /// Checked: a name given twice makes the decoder give way to the general path.
    Check,
    /// Left to the caller (see [`Fields::from_raw_unchecked`]); the index is built on the
    /// first lookup.
    Unchecked,
}

fn decode_body(body: &Body<'_>) -> Result<Fields, Error> {
    // Pass 1: check the pairs' shape and find the charset (its key is ASCII in every charset
    // PayPal uses, so it can be found before the charset is known).
    let mut charset_at: Option<usize> = None;
    for pair in body.pairs() {
        if pair.value.is_none() {
            return Err(Error::MissingSeparator { index: pair.index });
        }
        if pair.key.is_empty() {
            return Err(Error::EmptyKey { index: pair.index });
        }
        // A malformed key is reported by pass 2, in order with the other decoding errors.
        if is_charset_key(pair.key) {
            if let Some(first) = charset_at {
                return Err(Error::DuplicateKey {
                    field: FieldName::new("charset"),
                    first,
                    second: pair.index,
                });
            }
            charset_at = Some(pair.index);
        }
    }

    let charset = match charset_at.and_then(|i| body.pair(i)) {
        Some(RawPair {
            value: Some(raw),
            index,
            ..
        }) => {
            let label = unescape(raw).ok_or_else(|| Error::MalformedEscape {
                field: FieldName::new("charset"),
                index,
            })?;
            Charset::from_label(&label)?
        }
        _ => Charset::DEFAULT,
    };

    // Pass 2: decode keys and values in that charset, into one buffer. Escapes only shrink the
    // text and ASCII stays one byte, so the body's length is the usual size. (Regular bodies
    // are decoded by the one-pass decoder: this path is for the others, and for exact errors.)
    let mut text = String::with_capacity(body.as_bytes().len());
    let mut spans = Vec::with_capacity(body.len());
    let mut scratch = Vec::new();
    for pair in body.pairs() {
        let key_start = text.len();
        if !append_decoded(&mut text, &mut scratch, pair.key, charset) {
            return Err(key_error(pair.key, pair.index, charset));
        }
        let key_end = text.len();
        // A pair without `=` has an empty value: nothing to append.
        if let Some(value) = pair.value
            && !append_decoded(&mut text, &mut scratch, value, charset)
        {
            // The key is what this pair appended before its value.
            text.truncate(key_end);
            let key = FieldName::new(text.split_off(key_start));
            return Err(if unescape(value).is_none() {
                Error::MalformedEscape {
                    field: key,
                    index: pair.index,
                }
            } else {
                Error::InvalidEncoding {
                    field: key,
                    index: pair.index,
                    charset: charset.name(),
                }
            });
        }
        push_span(&mut spans, &text, key_start, key_end).ok_or(Error::BodyTooLarge {
            actual: body.content().len(),
            limit: MAX_BODY_BYTES,
        })?;
    }

    let index = Index::build(&spans, text.as_bytes()).map_err(|Duplicate { first, second }| {
        Error::DuplicateKey {
            // `second` is one of the positions `build` was given (below `spans.len()`), and
            // each span lies in `text`: the name is always found.
            field: FieldName::new(
                spans
                    .get(second)
                    .and_then(|s| text.get(s.key()))
                    .unwrap_or_default(),
            ),
            first,
            second,
        }
    })?;
    Ok(Fields {
        charset,
        charset_given: charset_at.is_some(),
        text,
        spans,
        index: OnceLock::from(index),
    })
}

/// Unescapes `raw` and appends it to `text` decoded from `charset`; `false` (with `text`
/// unchanged in meaning: the caller stops) on a malformed escape or bytes invalid in the charset.
fn append_decoded(text: &mut String, scratch: &mut Vec<u8>, raw: &[u8], charset: Charset) -> bool {
    let bytes: &[u8] = if raw.iter().any(|&b| b == b'%' || b == b'+') {
        scratch.clear();
        if !unescape_into(raw, scratch) {
            return false;
        }
        scratch
    } else {
        raw
    };
    let encoding = charset.encoding();
    if encoding == encoding_rs::UTF_8 || (encoding.is_ascii_compatible() && bytes.is_ascii()) {
        return match std::str::from_utf8(bytes) {
            Ok(s) => {
                text.push_str(s);
                true
            }
            Err(_) => false,
        };
    }
    match encoding.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(decoded) => {
            text.push_str(&decoded);
            true
        }
        None => false,
    }
}

/// Files the variable whose key is `text[key_start..key_end]` and whose value runs from there to
/// the end of `text`; `None` when a position does not fit a span (see [`offset`]; the key's range
/// is one the caller took from `text` itself, so slicing it does not fail).
fn push_span(spans: &mut Vec<Span>, text: &str, key_start: usize, key_end: usize) -> Option<()> {
    spans.push(Span {
        key_start: offset(key_start)?,
        key_end: offset(key_end)?,
        value_start: offset(key_end)?,
        value_end: offset(text.len())?,
        hash: hash(text.get(key_start..key_end)?),
    });
    Some(())
}

/// A position in the text buffer as a span's 32 bits, `None` past them. Unreachable from the
/// crate's entry points, which refuse a body over [`MAX_BODY_BYTES`] (a quarter of `u32::MAX`)
/// before decoding, and decoding at most triples it; checked all the same, so that a span is
/// never silently wrong.
fn offset(i: usize) -> Option<u32> {
    u32::try_from(i).ok()
}

/// The error for a key that cannot be decoded: a malformed escape, or else bytes invalid in the
/// charset. Kept out of line: it is the cold path.
#[cold]
fn key_error(raw: &[u8], index: usize, charset: Charset) -> Error {
    let field = FieldName::from_raw(raw);
    if unescape(raw).is_none() {
        Error::MalformedEscape { field, index }
    } else {
        Error::InvalidEncoding {
            field,
            index,
            charset: charset.name(),
        }
    }
}

/// Whether a raw key decodes to `charset` (only `%` escapes can spell its letters).
fn is_charset_key(raw: &[u8]) -> bool {
    raw == b"charset"
        || (raw.len() > 7
            && raw.contains(&b'%')
            && unescape(raw).is_some_and(|k| &*k == b"charset"))
}

/// A multiply-rotate hash over 8-byte words (the FxHash construction), for lookup indexes.
/// Not a defence against collisions: the indexes stay correct (keys are compared) however many
/// keys collide, and a crafted collision costs no more than sorting by key.
///
/// The words are little-endian; the last, partial one (possibly empty) is mixed in with the key's
/// length in its top byte.
pub(crate) fn hash(key: &str) -> u64 {
    hash_bytes(key.as_bytes())
}

/// [`hash`] of a key still in bytes.
fn hash_bytes(key: &[u8]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |state: u64, word: u64| (state.rotate_left(5) ^ word).wrapping_mul(K);
    let (words, rest) = key.as_chunks::<8>();
    let state = words
        .iter()
        .fold(0, |state, word| mix(state, u64::from_le_bytes(*word)));
    // The last 0 to 7 bytes, in the low bytes of a word: from the key's last eight bytes when it
    // has as many (no copy), else byte by byte.
    let tail = match key.last_chunk::<8>() {
        Some(_) if rest.is_empty() => 0,
        Some(last) => u64::from_le_bytes(*last) >> (8 * (8 - rest.len())),
        None => rest
            .iter()
            .rev()
            .fold(0, |word, &byte| word << 8 | u64::from(byte)),
    };
    #[allow(clippy::cast_possible_truncation)] // the length's low byte is enough for a hash
    let len = u64::from(key.len() as u8) << 56;
    mix(state, tail ^ len)
}

/// Percent-decodes one key or value of an `application/x-www-form-urlencoded` body: `+` is a
/// space, `%XX` (either case) is a byte, everything else stays as it is. `None` when a `%` is not
/// followed by two hexadecimal digits.
///
/// Borrows when there is nothing to decode.
pub fn unescape(raw: &[u8]) -> Option<Cow<'_, [u8]>> {
    if !raw.iter().any(|&b| b == b'%' || b == b'+') {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = Vec::with_capacity(raw.len());
    unescape_into(raw, &mut out).then_some(Cow::Owned(out))
}

/// Appends the percent-decoded `raw` to `out`; `false` on a malformed escape.
fn unescape_into(raw: &[u8], out: &mut Vec<u8>) -> bool {
    let mut bytes = raw.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let Some(hi) = bytes.next().and_then(|&h| hex(h)) else {
                    return false;
                };
                let Some(lo) = bytes.next().and_then(|&l| hex(l)) else {
                    return false;
                };
                out.push(hi << 4 | lo);
            }
            other => out.push(other),
        }
    }
    true
}

#[inline(always)]
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A position past a span's 32 bits is refused, never saturated to a wrong one.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn positions_past_32_bits_are_refused_not_saturated() {
        let last = usize::try_from(u32::MAX).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(offset(last), Some(u32::MAX));
        assert_eq!(offset(last + 1), None);
        let mut spans = Vec::new();
        assert_eq!(push_span(&mut spans, "ab", 0, 1), Some(()));
        assert_eq!(push_span(&mut spans, "ab", last + 1, last + 1), None);
        assert_eq!(spans.len(), 1);
    }

    fn decode(raw: &[u8]) -> Result<Vec<(String, String)>, Error> {
        let body = Body::parse(raw)?;
        let fields = body.decode()?;
        Ok(fields
            .iter()
            .map(|f| (f.key.to_string(), f.value.to_string()))
            .collect())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unescape_handles_plus_and_both_hex_cases() {
        assert_eq!(
            unescape(b"a+b%20c%e9%E9").as_deref(),
            Some(&b"a b c\xe9\xe9"[..])
        );
        assert!(matches!(unescape(b"plain"), Some(Cow::Borrowed(_))));
        for bad in [&b"%"[..], b"%4", b"%G0", b"%u010D", b"a%2"] {
            assert_eq!(unescape(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn windows_1252_is_the_default() -> Result<(), Error> {
        assert_eq!(
            decode(b"first_name=J%F6rg&item_name=+%E0+pr%F6duct&euro=%80")?,
            pairs(&[
                ("first_name", "Jörg"),
                ("item_name", " à pröduct"),
                ("euro", "€")
            ])
        );
        Ok(())
    }

    #[test]
    fn the_charset_field_applies_wherever_it_appears() -> Result<(), Error> {
        assert_eq!(
            decode(b"address_state=H%E1%BB%92+CH%C3%8D+MINH&charset=UTF-8")?,
            pairs(&[("address_state", "HỒ CHÍ MINH"), ("charset", "UTF-8")])
        );
        // Shift_JIS: "日本" is 93 FA 96 7B.
        assert_eq!(
            decode(b"charset=Shift_JIS&address_city=%93%FA%96%7B")?,
            pairs(&[("charset", "Shift_JIS"), ("address_city", "日本")])
        );
        // KOI8-R: "Мир" is ED C9 D2.
        assert_eq!(
            decode(b"charset=KOI8_R&first_name=%ED%C9%D2")?,
            pairs(&[("charset", "KOI8_R"), ("first_name", "Мир")])
        );
        // Big5: "台" is A5 78.
        assert_eq!(
            decode(b"charset=big5&address_city=%A5x")?,
            pairs(&[("charset", "big5"), ("address_city", "台")])
        );
        Ok(())
    }

    #[test]
    fn array_keys_decode_from_either_spelling() -> Result<(), Error> {
        let escaped = decode(b"transaction%5B0%5D.amount=USD+110.00")?;
        let literal = decode(b"transaction[0].amount=USD+110.00")?;
        assert_eq!(escaped, pairs(&[("transaction[0].amount", "USD 110.00")]));
        assert_eq!(escaped, literal);
        Ok(())
    }

    #[test]
    fn raw_bytes_and_crlf_pass_through() -> Result<(), Error> {
        assert_eq!(
            decode(b"business=test@example.com&memo=(hi)+%3A)&address_street=12%0D%0ALe+Loi")?,
            pairs(&[
                ("business", "test@example.com"),
                ("memo", "(hi) :)"),
                ("address_street", "12\r\nLe Loi")
            ])
        );
        Ok(())
    }

    #[test]
    fn malformed_escapes_name_the_field_not_the_value() {
        let err = decode(b"a=1&first_name=J%G6rg").unwrap_err();
        assert_eq!(err.code(), "malformed_escape");
        assert_eq!(err.field(), Some("first_name"));
        assert_eq!(err.index(), Some(1));
        assert!(!err.to_string().contains("J%G6rg") && !err.to_string().contains("rg"));

        let err = decode(b"bad%ZZkey=1").unwrap_err();
        assert_eq!(err.code(), "malformed_escape");
        assert_eq!(err.field(), Some("bad%ZZkey"));

        let err = decode(b"charset=utf%2").unwrap_err();
        assert_eq!(err.code(), "malformed_escape");
        assert_eq!(err.field(), Some("charset"));
    }

    #[test]
    fn bytes_invalid_in_the_charset_are_refused() {
        let err = decode(b"charset=UTF-8&last_name=M%FCller").unwrap_err();
        assert_eq!(
            err,
            Error::InvalidEncoding {
                field: FieldName::new("last_name"),
                index: 1,
                charset: "UTF-8"
            }
        );
        // A raw (unescaped) invalid byte is refused the same way.
        let err = decode(b"charset=UTF-8&last_name=M\xFCller").unwrap_err();
        assert_eq!(err.code(), "invalid_encoding");
        // An invalid byte in a key.
        let err = decode(b"charset=UTF-8&k%FF=1").unwrap_err();
        assert_eq!(
            (err.code(), err.field()),
            ("invalid_encoding", Some("k%FF"))
        );
        // Shift_JIS lead byte without its trail byte.
        let err = decode(b"charset=Shift_JIS&address_city=%93").unwrap_err();
        assert_eq!(err.code(), "invalid_encoding");
    }

    #[test]
    fn unknown_and_unsupported_charsets() {
        assert_eq!(decode(b"charset=klingon&a=1"), Err(Error::UnknownCharset));
        assert_eq!(decode(b"charset=&a=1"), Err(Error::UnknownCharset));
        assert_eq!(
            decode(b"a=1&charset=UTF-7"),
            Err(Error::UnsupportedCharset { charset: "UTF-7" })
        );
        assert_eq!(
            decode(b"charset=utf%2D32"),
            Err(Error::UnsupportedCharset { charset: "UTF-32" })
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let err = decode(b"mc_gross=1.00&a=1&mc_gross=100.00").unwrap_err();
        assert_eq!(
            err,
            Error::DuplicateKey {
                field: FieldName::new("mc_gross"),
                first: 0,
                second: 2
            }
        );
        // Same key in two spellings.
        let err = decode(b"transaction%5B0%5D.id=1&transaction[0].id=2").unwrap_err();
        assert_eq!(
            (err.code(), err.field()),
            ("duplicate_key", Some("transaction[0].id"))
        );
        // Two charsets are refused before either is used.
        let err = decode(b"charset=UTF-8&x=%FF&charset=windows-1252").unwrap_err();
        assert_eq!(
            err,
            Error::DuplicateKey {
                field: FieldName::new("charset"),
                first: 0,
                second: 2
            }
        );
        // Different case is a different variable (`receipt_ID` from the simulator).
        assert!(decode(b"receipt_id=1&receipt_ID=2").is_ok());
    }

    #[test]
    fn pairs_without_separator_or_key() {
        assert_eq!(decode(b"a=1&b"), Err(Error::MissingSeparator { index: 1 }));
        assert_eq!(decode(b"=x&a=1"), Err(Error::EmptyKey { index: 0 }));
    }

    #[test]
    fn lookup_and_accessors() -> Result<(), Error> {
        let body = Body::parse(b"b=2&a=1&c=&mc_gross_1=5")?;
        let fields = body.decode()?;
        assert_eq!(fields.get("a"), Some("1"));
        assert_eq!(fields.get("c"), Some(""));
        assert_eq!(fields.get("d"), None);
        assert_eq!(fields.field("b").map(|f| f.index), Some(0));
        assert!(!fields.charset_given());
        assert_eq!(fields.len(), 4);
        assert!(!fields.is_empty());
        let keys: Vec<_> = (&fields).into_iter().map(|f| f.key).collect();
        assert_eq!(keys, ["b", "a", "c", "mc_gross_1"]);
        assert_eq!(
            fields.field("mc_gross_1").map(Field::key_shape),
            Some(Key::Numbered {
                base: "mc_gross",
                index: 1,
                separator: crate::key::Separator::Underscore
            })
        );
        assert_eq!(fields.at(1).map(|f| f.key), Some("a"));
        assert_eq!(fields.at(4), None);
        Ok(())
    }

    #[test]
    fn lookup_finds_every_key_of_a_large_cart() -> Result<(), Error> {
        let raw: Vec<String> = (1..=2000)
            .map(|i| format!("item_name{i}=n{i}&mc_gross_{i}={i}.00"))
            .collect();
        let raw = raw.join("&");
        let body = Body::parse(raw.as_bytes())?;
        let fields = body.decode()?;
        for i in 1..=2000 {
            assert_eq!(
                fields.get(&format!("item_name{i}")),
                Some(format!("n{i}").as_str())
            );
            assert_eq!(
                fields.get(&format!("mc_gross_{i}")),
                Some(format!("{i}.00").as_str())
            );
        }
        assert_eq!(fields.get("item_name0"), None);
        assert_eq!(fields.get("item_name2001"), None);
        Ok(())
    }

    #[test]
    fn hash_depends_on_every_byte() {
        let keys = [
            "",
            "a",
            "b",
            "ab",
            "ba",
            "item_name1",
            "item_name2",
            "item_name12345678",
        ];
        let mut hashes: Vec<u64> = keys.iter().map(|k| hash(k)).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), keys.len());
    }

    #[test]
    fn fields_outlive_the_body() -> Result<(), Error> {
        let fields = {
            let raw = b"payment_status=Completed&charset=UTF-8&name=a+b".to_vec();
            Body::parse(&raw)?.decode()?
        };
        assert_eq!(fields.get("name"), Some("a b"));
        assert_eq!(fields.iter().len(), 3);
        Ok(())
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn form_encode(bytes: &[u8]) -> String {
            form_urlencoded::byte_serialize(bytes).collect()
        }

        /// Unique keys (the grammar's shapes included) with arbitrary text values.
        fn message() -> impl Strategy<Value = Vec<(String, String)>> {
            let key = prop_oneof![
                "[a-z][a-z_]{0,20}",
                "[a-z]{1,10}[1-9][0-9]{0,2}",
                "[a-z]{1,10}_[1-9]",
                "transaction\\[[0-9]\\]\\.[a-z_]{1,10}",
            ];
            prop::collection::btree_map(key, any::<String>(), 1..24)
                .prop_map(|m| m.into_iter().filter(|(k, _)| k != "charset").collect())
        }

        /// Bodies close to PayPal's, with every irregularity the two decoding paths must agree
        /// on: escapes of every kind (malformed ones too), charsets (given twice, escaped, not
        /// ASCII-compatible, unknown), raw bytes outside ASCII, keys given twice or in two
        /// spellings, pairs without `=` or key, empty segments, long keys, trailing CR/LF.
        fn near_paypal() -> impl Strategy<Value = Vec<u8>> {
            let key = prop_oneof![
                Just(&b"charset"[..]),
                Just(&b"ch%61rset"[..]),
                Just(&b"first_name"[..]),
                Just(&b"mc_gross"[..]),
                Just(&b"a"[..]),
                Just(&b"item_name12"[..]),
                Just(&b"transaction%5B0%5D.id"[..]),
                Just(&b"transaction[0].id"[..]),
                Just(&b"k%E9y"[..]),
                Just(&b"k+y"[..]),
                Just(&b"k%4"[..]),
                Just(&b"fraud_management_pending_filters_10_and_more_x"[..]),
                Just(&b""[..]),
                Just(&b"\xe9"[..]),
            ];
            let value = prop_oneof![
                prop::sample::select(vec![
                    &b"UTF-8"[..],
                    &b"utf%2D8"[..],
                    &b"windows-1252"[..],
                    &b"Shift_JIS"[..],
                    &b"ISO-2022-JP"[..],
                    &b"UTF-16"[..],
                    &b"klingon"[..],
                    &b"%E9"[..],
                    &b"%C3%A9"[..],
                    &b"%93%FA"[..],
                    &b"%80"[..],
                    &b"%1B%24B"[..],
                    &b"+"[..],
                    &b"%20"[..],
                    &b"%"[..],
                    &b"%G1"[..],
                    &b"%4"[..],
                    &b"="[..],
                    &b"%26"[..],
                    &b"\xe9"[..],
                    &b"\x00"[..],
                ])
                .prop_map(<[u8]>::to_vec),
                "[A-Za-z0-9.@_-]{0,20}".prop_map(String::into_bytes),
            ];
            let pair = (
                key,
                prop::option::weighted(0.95, prop::collection::vec(value, 0..4)),
            );
            let sep = prop_oneof![8 => Just(&b"&"[..]), 1 => Just(&b"&&"[..])];
            (
                prop::collection::vec((pair, sep), 1..12),
                prop_oneof![Just(&b""[..]), Just(&b"&"[..]), Just(&b"\r\n"[..])],
            )
                .prop_map(|(pairs, end)| {
                    let mut raw = Vec::new();
                    for (i, ((k, v), sep)) in pairs.into_iter().enumerate() {
                        if i > 0 {
                            raw.extend_from_slice(sep);
                        }
                        raw.extend_from_slice(k);
                        if let Some(v) = v {
                            raw.push(b'=');
                            raw.extend(v.concat());
                        }
                    }
                    raw.extend_from_slice(end);
                    raw
                })
        }

        /// The general path alone, as `Message::parse` falls back to it.
        fn general(raw: &[u8], limits: Limits) -> Result<Fields, Error> {
            decode_general(&Body::parse_with(raw, limits)?)
        }

        /// `value` in `encoding`, by encoding_rs's own encoder (not ipnkit's charset table).
        fn encoded_by(
            encoding: &'static encoding_rs::Encoding,
            value: &str,
        ) -> Result<Vec<u8>, TestCaseError> {
            let (encoded, _, unmappable) = encoding.encode(value);
            prop_assert!(!unmappable, "{} cannot encode {:?}", encoding.name(), value);
            Ok(encoded.into_owned())
        }

        /// A message whose `first_name` is `encoded` (the bytes of `value`) in the charset
        /// `label` decodes to `value`, whether `charset` comes first or last, by both paths.
        fn round_trip(
            label: Option<&str>,
            encoded: &[u8],
            value: &str,
        ) -> Result<(), TestCaseError> {
            let pair = format!("first_name={}&last_name=x", form_encode(encoded));
            let bodies = match label {
                None => vec![pair],
                Some(label) => vec![
                    format!("charset={label}&{pair}"),
                    format!("{pair}&charset={label}"),
                ],
            };
            for raw in bodies {
                let body =
                    Body::parse(raw.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let fields = body
                    .decode()
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(fields.get("first_name"), Some(value), "{}", raw);
                let fast = Fields::from_raw(raw.as_bytes(), Limits::DEFAULT)
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(fast.get("first_name"), Some(value), "{}", raw);
            }
            Ok(())
        }

        fn agree(raw: &[u8], limits: Limits) -> Result<(), TestCaseError> {
            let fast = Fields::from_raw(raw, limits);
            let slow = general(raw, limits);
            prop_assert_eq!(&fast, &slow, "{:?}", String::from_utf8_lossy(raw));
            // And through a tokenized body, as `Body::decode` decodes.
            let via_body = Body::parse_with(raw, limits).and_then(|b| b.decode());
            prop_assert_eq!(&via_body, &slow);
            // And tokenized and decoded at once, as `Notification::new` does: the same body
            // (pair spans included) and the same variables or error.
            let at_once = Body::parse_and_decode(raw.to_vec(), limits);
            let apart = Body::parse_owned_with(raw.to_vec(), limits).map(|b| {
                let fields = decode_general(&b);
                (b, fields)
            });
            prop_assert_eq!(at_once, apart);
            if let Ok(fields) = fast {
                for f in &fields {
                    prop_assert_eq!(fields.field(f.key), Some(f));
                }
            }
            Ok(())
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(1024))]

            #[test]
            fn decoding_never_panics_and_errors_point_at_a_field(raw in any::<Vec<u8>>()) {
                if let Ok(body) = Body::parse(&raw)
                    && let Err(e) = body.decode()
                {
                    prop_assert!(e.field().is_some() || e.index().is_some(), "{e:?}");
                }
            }

            #[test]
            fn utf8_messages_round_trip(pairs in message()) {
                prop_assume!(!pairs.is_empty());
                let mut raw = String::from("charset=UTF-8");
                for (k, v) in &pairs {
                    raw.push('&');
                    raw.push_str(&form_encode(k.as_bytes()));
                    raw.push('=');
                    raw.push_str(&form_encode(v.as_bytes()));
                }
                let body = Body::parse(raw.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let fields = body.decode().map_err(|e| TestCaseError::fail(e.to_string()))?;
                let got: Vec<(&str, &str)> = fields.iter().skip(1).map(|f| (f.key, f.value)).collect();
                let want: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                prop_assert_eq!(got, want);
                for (k, v) in &pairs {
                    prop_assert_eq!(fields.get(k), Some(v.as_str()));
                }
            }

            #[test]
            fn windows_1252_messages_round_trip(value in "[ -~\u{a0}-\u{ff}\u{20ac}\u{2019}]{0,40}") {
                // PayPal's default: no `charset` variable at all.
                round_trip(None, &encoded_by(encoding_rs::WINDOWS_1252, &value)?, &value)?;
            }

            #[test]
            fn shift_jis_messages_round_trip(value in "[ -~\u{3041}-\u{3093}\u{30a1}-\u{30f6}日本語東京都]{0,30}") {
                round_trip(Some("Shift_JIS"), &encoded_by(encoding_rs::SHIFT_JIS, &value)?, &value)?;
            }

            #[test]
            fn big5_messages_round_trip(value in "[ -~中文台灣資料測試電話地址]{0,30}") {
                round_trip(Some("Big5"), &encoded_by(encoding_rs::BIG5, &value)?, &value)?;
            }

            #[test]
            fn koi8_r_messages_round_trip(value in "[ -~\u{410}-\u{44f}\u{401}\u{451}]{0,40}") {
                round_trip(Some("KOI8-R"), &encoded_by(encoding_rs::KOI8_R, &value)?, &value)?;
            }

            #[test]
            fn iso_8859_1_messages_round_trip(value in "[ -~\u{a0}-\u{ff}]{0,40}") {
                // Latin-1 by its definition, each character its code point as one byte: no
                // encoder's table involved (WHATWG reads the label as windows-1252, which agrees
                // on these characters).
                let latin1: Vec<u8> = value.chars().filter_map(|c| u8::try_from(u32::from(c)).ok()).collect();
                prop_assert_eq!(latin1.len(), value.chars().count());
                round_trip(Some("ISO-8859-1"), &latin1, &value)?;
            }

            #[test]
            fn the_one_pass_decoder_agrees_with_the_general_path(raw in near_paypal()) {
                agree(&raw, Limits::DEFAULT)?;
            }

            #[test]
            fn the_paths_agree_under_any_limits(raw in near_paypal(), max in 1usize..40) {
                agree(&raw, Limits { max_body_bytes: max * 8, max_fields: max / 3 + 1, max_key_bytes: max })?;
            }

            #[test]
            fn the_paths_agree_on_any_bytes(raw in any::<Vec<u8>>()) {
                agree(&raw, Limits::DEFAULT)?;
            }

            #[test]
            fn errors_never_echo_the_value(secret in "[A-Za-z]{12}", bad in prop_oneof![Just("%"), Just("%Z1"), Just("%C3")]) {
                let raw = format!("charset=UTF-8&address_street={secret}{bad}{secret}");
                let body = Body::parse(raw.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
                let err = body.decode().err();
                prop_assert!(err.is_some());
                let text = format!("{} {:?}", err.as_ref().map(ToString::to_string).unwrap_or_default(), err);
                prop_assert!(!text.contains(&secret), "{}", text);
                prop_assert_eq!(err.as_ref().and_then(Error::field), Some("address_street"));
            }
        }
    }
}
