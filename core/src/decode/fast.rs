//! Decoding in one pass over the raw bytes, for the bodies PayPal sends: all ASCII (PayPal escapes
//! every other byte) in an ASCII-compatible charset.
//!
//! The body is copied once into what becomes the text buffer, and each key and value is
//! unescaped *in place* (unescaping only shrinks), so a variable without escapes costs no copy at
//! all. A value whose escapes stand for bytes outside ASCII waits for the charset (which may come
//! later in the body) and is then decoded to the end of the buffer. Nothing is tokenized first
//! and no intermediate list of pairs is built.
//!
//! The bytes that matter (`&`, `=`, `%`, `+` and any byte outside ASCII) are found 64 at a time as
//! a bitmask ([`Marks`]: SSE2 on x86-64, through `safe_arch` since this crate has no `unsafe`;
//! eight bytes at a time in a `u64` elsewhere), and parsing steps from one to the next: a
//! typical variable is two marks, its `=` and its `&`.
//!
//! Anything irregular — a byte outside ASCII on the wire, a malformed escape, a pair without `=`,
//! an empty or escaped non-ASCII key, a limit reached, a charset that is unknown or not
//! ASCII-compatible, bytes invalid in the charset, a name given twice — makes it return `None`,
//! and the caller decodes with the general path ([`decode_body`](super::decode_body)), which gives
//! the exact error in its documented order. The two paths are checked to agree on any input
//! (property tests and the `decode` fuzz target).

use super::index::Index;
use std::sync::OnceLock;

use super::{Fields, Names, Span, hash_bytes, hex, offset};
use crate::body::{Limits, PairSpan};
use crate::charset::Charset;
use crate::words::{HIGH, others};

/// Decodes `content` (a body without its trailing CR/LF, within its length limit), or `None`
/// when the general path must (see the [module docs](self)).
pub(super) fn decode_fast(content: &[u8], limits: &Limits, names: Names) -> Option<Fields> {
    decode_fast_with(content, limits, None, names)
}

/// [`decode_fast`], filing in `pairs` where each pair lies on the wire (what
/// [`Body`](crate::Body) keeps, so that it need not tokenize again). One function for both, not
/// a generic: the wasm build would carry it twice.
pub(super) fn decode_fast_with(
    content: &[u8],
    limits: &Limits,
    mut pairs: Option<&mut Vec<PairSpan>>,
    names: Names,
) -> Option<Fields> {
    let len = content.len();
    // Every offset below fits a pair's span (the general path answers a body that does not).
    if !crate::body::fits_spans(content) {
        return None;
    }
    let mut marks = Marks::new(content);
    let mut buf = content.to_vec();
    let mut spans: Vec<Span> = Vec::with_capacity(expected_fields(len, limits));
    // Spans whose value holds bytes outside ASCII, undecoded until the charset is known.
    let mut deferred: Vec<usize> = Vec::new();
    let mut charset_at: Option<usize> = None;
    let charset_hash = hash_bytes(b"charset");
    let mut start = 0;
    while let Some(&byte) = content.get(start) {
        if byte == b'&' {
            start += 1; // an empty segment: no variable
            continue;
        }
        // The key, up to its `=`: the first mark decides its shape.
        let first = marks.next(start)?; // no mark left: a pair without `=`
        let (key_end, eq, hash) = match *content.get(first)? {
            b'=' => (first, first, hash_bytes(content.get(start..first)?)),
            b'%' | b'+' => {
                // An escaped key (`transaction%5B0%5D.id`): find its `=`, unescape, hash.
                let mut at = first;
                let eq = loop {
                    match *content.get(at)? {
                        b'=' => break at,
                        b'%' | b'+' => at = marks.next(at + 1)?,
                        _ => return None, // `&` before any `=`, or a byte outside ASCII
                    }
                };
                let (key_end, high, _) = unescape_in_place(&mut buf, first, eq)?;
                if high {
                    return None;
                }
                (key_end, eq, hash_bytes(buf.get(start..key_end)?))
            }
            _ => return None, // `&` before any `=`, or a byte outside ASCII
        };
        if eq == start || eq - start > limits.max_key_bytes {
            return None;
        }
        let index = spans.len();
        if index >= limits.max_fields {
            return None;
        }
        // The value, up to the next `&` or the end.
        let value_start = eq + 1;
        let mut at = value_start;
        let (value_end, high, end) = loop {
            let Some(mark) = marks.next(at) else {
                break (len, false, len);
            };
            match *content.get(mark)? {
                b'&' => break (mark, false, mark),
                b'=' => at = mark + 1, // part of the value
                b'%' | b'+' => break unescape_in_place(&mut buf, mark, len)?,
                _ => return None, // a byte outside ASCII
            }
        };
        if let Some(pairs) = pairs.as_deref_mut() {
            pairs.push(PairSpan::within_checked(start, eq, end));
        }
        if hash == charset_hash && buf.get(start..key_end) == Some(b"charset") {
            if charset_at.is_some() {
                return None;
            }
            charset_at = Some(index);
        }
        if high {
            deferred.push(index);
        }
        spans.push(Span {
            key_start: offset(start)?,
            key_end: offset(key_end)?,
            value_start: offset(value_start)?,
            value_end: offset(value_end)?,
            hash,
        });
        start = end + 1;
    }
    if spans.is_empty() {
        return None;
    }

    let charset = match charset_at {
        None => Charset::DEFAULT,
        Some(i) if deferred.contains(&i) => return None,
        Some(i) => {
            let span = spans.get(i)?;
            let label = buf.get(span.value())?;
            Charset::from_label(label).ok()?
        }
    };
    let encoding = charset.encoding();
    if !encoding.is_ascii_compatible() {
        return None;
    }
    if !deferred.is_empty() {
        // Decoded after the body's bytes; what the escapes stood for is then blanked, so that
        // the buffer stays UTF-8.
        let mut tail = String::new();
        let mut moved: Vec<(usize, usize, usize)> = Vec::with_capacity(deferred.len());
        for &i in &deferred {
            let span = spans.get(i)?;
            let value = span.value();
            let bytes = buf.get(value.clone())?;
            let at = tail.len();
            if encoding == encoding_rs::UTF_8 {
                tail.push_str(std::str::from_utf8(bytes).ok()?);
            } else {
                tail.push_str(
                    &encoding.decode_without_bom_handling_and_without_replacement(bytes)?,
                );
            }
            moved.push((i, at, tail.len()));
            buf.get_mut(value)?.fill(b' ');
        }
        let base = buf.len();
        buf.extend_from_slice(tail.as_bytes());
        for (i, from, to) in moved {
            let span = spans.get_mut(i)?;
            span.value_start = offset(base + from)?;
            span.value_end = offset(base + to)?;
        }
    }
    let text = String::from_utf8(buf).ok()?;
    let index = match names {
        Names::Check => OnceLock::from(Index::build(&spans, text.as_bytes()).ok()?),
        Names::Unchecked => OnceLock::new(),
    };
    Some(Fields {
        charset,
        charset_given: charset_at.is_some(),
        text,
        spans,
        index,
    })
}

/// How many variables a body of `len` bytes is expected to hold, to size lists of them once:
/// about one every 26 bytes in PayPal's messages, so that a typical message's lists stay under
/// 1 KiB, which allocators serve from a per-thread cache.
pub(super) fn expected_fields(len: usize, limits: &Limits) -> usize {
    (len / 28 + 8).min(limits.max_fields)
}

/// The bytes that matter to the decoder (`&`, `=`, `%`, `+`, and any byte outside ASCII), found
/// 64 at a time as a bitmask and handed out in order: parsing steps from one to the next instead
/// of looking at every byte.
struct Marks<'c> {
    content: &'c [u8],
    /// Where the current block of 64 bytes starts.
    block: usize,
    /// The marks of the current block not yet passed (bit `i`: byte `block + i`).
    bits: u64,
}

impl<'c> Marks<'c> {
    fn new(content: &'c [u8]) -> Marks<'c> {
        Marks {
            content,
            block: 0,
            bits: block_marks(content, 0),
        }
    }

    /// The first mark at or after `from`. Parsing only moves forward: `from` is never before the
    /// current block. Inlined where speed is measured; one copy in the wasm build, where size is.
    #[cfg_attr(not(target_arch = "wasm32"), inline(always))]
    fn next(&mut self, from: usize) -> Option<usize> {
        loop {
            // A position before the current block (never asked) reads the block from its start.
            let skip = from.saturating_sub(self.block);
            if skip < 64 {
                let bits = self.bits & (u64::MAX << skip);
                if bits != 0 {
                    self.bits = bits;
                    return Some(self.block + bits.trailing_zeros() as usize);
                }
            }
            self.block = (self.block + 64).max(from & !63);
            if self.block >= self.content.len() {
                return None;
            }
            self.bits = block_marks(self.content, self.block);
        }
    }
}

/// The marks of the 64 bytes of `content` from `at` (bit `i`: byte `at + i`); bytes past the end
/// are not marks.
fn block_marks(content: &[u8], at: usize) -> u64 {
    let mut last = [0u8; 64];
    let block = match content.get(at..).and_then(<[u8]>::first_chunk::<64>) {
        Some(block) => block,
        None => {
            // Past the end there is nothing to copy: the rest of the block stays zero.
            for (to, from) in last.iter_mut().zip(content.get(at..).unwrap_or_default()) {
                *to = *from;
            }
            &last
        }
    };
    marks_of(block)
}

/// The marks of 64 bytes: SSE2 where the processor has it (every x86-64 one), eight bytes at a
/// time in a `u64` elsewhere (the wasm build). Both are tested to agree.
#[inline(always)]
fn marks_of(block: &[u8; 64]) -> u64 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    return marks_sse2(block);
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    return marks_swar(block);
}

/// The marks of 64 bytes, sixteen at a time with SSE2.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn marks_sse2(block: &[u8; 64]) -> u64 {
    use safe_arch::{
        bitor_m128i, cmp_eq_mask_i8_m128i, load_unaligned_m128i, move_mask_i8_m128i,
        set_splat_i8_m128i,
    };
    let splat = |byte: u8| set_splat_i8_m128i(i8::from_ne_bytes([byte]));
    let (amp, eq, pct, plus) = (splat(b'&'), splat(b'='), splat(b'%'), splat(b'+'));
    let mut marks = 0;
    for (i, chunk) in block.as_chunks::<16>().0.iter().enumerate() {
        let v = load_unaligned_m128i(chunk);
        let found = bitor_m128i(
            bitor_m128i(cmp_eq_mask_i8_m128i(v, amp), cmp_eq_mask_i8_m128i(v, eq)),
            bitor_m128i(cmp_eq_mask_i8_m128i(v, pct), cmp_eq_mask_i8_m128i(v, plus)),
        );
        // The high bit of each byte: the bytes found, and those outside ASCII. The mask is in
        // the low 16 bits of a non-negative `i32`.
        let bits = move_mask_i8_m128i(bitor_m128i(found, v)).unsigned_abs();
        marks |= u64::from(bits) << (16 * i);
    }
    marks
}

/// The marks of 64 bytes, eight at a time in a `u64` (see `crate::words`).
#[cfg_attr(all(target_arch = "x86_64", target_feature = "sse2"), allow(dead_code))] // tested
#[inline(always)]
fn marks_swar(block: &[u8; 64]) -> u64 {
    block.as_chunks::<8>().0.iter().fold(0, |marks, word| {
        // The high bit of each marked byte, gathered into the top byte by the multiply; each
        // word's byte of marks enters at the top and moves down as the next ones come.
        let bits = specials(u64::from_le_bytes(*word)).wrapping_mul(0x0002_0408_1020_4081);
        marks >> 8 | (bits & 0xff00_0000_0000_0000)
    })
}

/// The high bit of each byte of `word` that is one of `&`, `=`, `%`, `+`, or is outside ASCII.
#[inline(always)] // see `crate::words`
fn specials(word: u64) -> u64 {
    (!(others(word, b'&') & others(word, b'=') & others(word, b'%') & others(word, b'+')) | word)
        & HIGH
}

/// Unescapes in place from `from` (`+` is a space, `%XX` a byte) up to `end` or the first `&`:
/// where the text now ends, whether a byte outside ASCII came out, and where the input stopped.
/// `None` on a malformed escape or a raw byte outside ASCII.
fn unescape_in_place(buf: &mut [u8], from: usize, end: usize) -> Option<(usize, bool, usize)> {
    let text = buf.get_mut(from..end)?;
    let (mut read, mut write) = (0, 0);
    let mut any = 0u8;
    while let Some(&b) = text.get(read) {
        // Letters, digits and most marks (`,` to DEL) first: one comparison.
        let byte = if b.wrapping_sub(b',') < 0x80 - b',' {
            read += 1;
            b
        } else {
            match b {
                b'&' => break,
                b'+' => {
                    read += 1;
                    b' '
                }
                b'%' => {
                    let hi = hex(*text.get(read + 1)?)?;
                    let lo = hex(*text.get(read + 2)?)?;
                    read += 3;
                    any |= hi << 4 | lo;
                    hi << 4 | lo
                }
                0x80.. => return None,
                other => {
                    read += 1;
                    other
                }
            }
        };
        *text.get_mut(write)? = byte;
        write += 1;
    }
    Some((from + write, any >= 0x80, from + read))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast(raw: &[u8]) -> Option<Fields> {
        decode_fast(raw, &Limits::DEFAULT, Names::Check)
    }

    #[test]
    fn paypal_shaped_bodies_take_the_one_pass_path() {
        for raw in [
            &b"txn_type=web_accept&payment_date=20%3A12%3A59+Jan+13%2C+2009+PST&mc_gross=19.95"[..],
            b"first_name=J%F6rg&last_name=%80uro",
            b"charset=UTF-8&address_street=H%E1%BB%92&custom=a%3Db=c",
            b"address_city=%93%FA%96%7B&charset=Shift_JIS",
            b"transaction%5B0%5D.id=1&transaction%5B0%5D.amount=USD+1.00&&",
            b"transaction[1].id=2&sig=abc==&empty=",
            b"&&a=1&",
        ] {
            let fields = fast(raw).unwrap_or_else(|| panic!("{}", String::from_utf8_lossy(raw)));
            let general = super::super::decode_general(
                &crate::Body::parse(raw).unwrap_or_else(|e| panic!("{e}")),
            );
            assert_eq!(Ok(fields), general);
        }
        let fields =
            fast(b"address_city=%93%FA%96%7B&charset=Shift_JIS").unwrap_or_else(|| panic!());
        assert_eq!(fields.get("address_city"), Some("日本"));
        let fields = fast(b"custom=a%3Db=c&sig=abc==").unwrap_or_else(|| panic!());
        assert_eq!(
            (fields.get("custom"), fields.get("sig")),
            (Some("a=b=c"), Some("abc=="))
        );
    }

    #[test]
    fn irregular_bodies_are_left_to_the_general_path() {
        for raw in [
            &b"first_name=J\xf6rg"[..],
            b"a=%G0",
            b"a=%4",
            b"a",
            b"a=1&b",
            b"=1",
            b"k%E9y=1",
            b"a=1&a=2",
            b"charset=UTF-8&charset=UTF-8",
            b"charset=klingon",
            b"charset=UTF-16&a=1",
            b"charset=UTF-8&a=%FF",
            b"charset=%E9&a=1",
            b"&&",
        ] {
            assert!(fast(raw).is_none(), "{}", String::from_utf8_lossy(raw));
        }
        let tight = Limits {
            max_fields: 1,
            ..Limits::DEFAULT
        };
        assert!(decode_fast(b"a=1&b=2", &tight, Names::Check).is_none());
        let short = Limits {
            max_key_bytes: 2,
            ..Limits::DEFAULT
        };
        assert!(decode_fast(b"abc=1", &short, Names::Check).is_none());
    }

    #[test]
    fn words_find_exactly_the_bytes_that_matter() {
        for (bytes, expected) in [
            (*b"abcdefgh", 0u64),
            (*b"a=b&c%d+", 0x8000_8000_8000_8000),
            (*b"\x80\x00\x24\x27\x2a\x3c\x3e\xff", 0x8000_0000_0000_0080),
        ] {
            assert_eq!(specials(u64::from_le_bytes(bytes)), expected, "{bytes:?}");
        }
    }

    #[test]
    fn both_mark_finders_mark_exactly_the_bytes_that_matter() {
        // Every byte value at every position of a block, against the plain definition.
        for byte in 0..=255u8 {
            let matters = matches!(byte, b'&' | b'=' | b'%' | b'+' | 0x80..);
            for at in 0..64 {
                let mut block = [b'a'; 64];
                if let Some(b) = block.get_mut(at) {
                    *b = byte;
                }
                let expected = if matters { 1u64 << at } else { 0 };
                assert_eq!(marks_swar(&block), expected, "byte {byte:#x} at {at}");
                assert_eq!(marks_of(&block), expected, "byte {byte:#x} at {at}");
            }
        }
        let mut marks = Marks::new(b"a=1&bb=%41+&");
        let found: Vec<usize> = std::iter::from_fn(|| {
            let at = marks.next(0)?;
            marks.bits &= marks.bits - 1;
            Some(at)
        })
        .collect();
        assert_eq!(found, [1, 3, 6, 7, 10, 11]);
        // Across blocks, and from positions past the current block.
        let long = [&[b'x'; 70][..], b"=", &[b'y'; 100], b"&"].concat();
        let mut marks = Marks::new(&long);
        assert_eq!(
            (marks.next(0), marks.next(71), marks.next(172)),
            (Some(70), Some(171), None)
        );
    }
}
