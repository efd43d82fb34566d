//! Decoding in one pass over the raw bytes, for the bodies PayPal sends: all ASCII (PayPal escapes
//! every other byte) in an ASCII-compatible charset.
//!
//! The body is copied once into what becomes the text buffer, and each key and value is
//! unescaped *in place* (unescaping only shrinks), so a variable without escapes costs no copy at
//! all. A value whose escapes stand for bytes outside ASCII waits for the charset (which may come
//! later in the body) and is then decoded to the end of the buffer. Nothing is tokenized first
//! and no intermediate list of pairs is built.
//!
//! Anything irregular — a byte outside ASCII on the wire, a malformed escape, a pair without `=`,
//! an empty or escaped non-ASCII key, a limit reached, a charset that is unknown or not
//! ASCII-compatible, bytes invalid in the charset, a name given twice — makes it return `None`,
//! and the caller decodes with the general path ([`decode_body`](super::decode_body)), which gives
//! the exact error in its documented order. The two paths are checked to agree on any input
//! (property tests and the `decode` fuzz target).

use memchr::memchr2;

use super::index::Index;
use super::{Fields, HashState, Span, hash_bytes, hex, offset};
use crate::body::{Limits, PairSpan};
use crate::charset::Charset;
use crate::words::{HIGH, first, low_bytes, others, word_at};

/// Decodes `content` (a body without its trailing CR/LF, within its length limit), or `None`
/// when the general path must (see the [module docs](self)).
pub(super) fn decode_fast(content: &[u8], limits: &Limits) -> Option<Fields> {
    decode_fast_with(content, limits, None)
}

/// [`decode_fast`], filing in `pairs` where each pair lies on the wire (what
/// [`Body`](crate::Body) keeps, so that it need not tokenize again). One function for both, not
/// a generic: the wasm build would carry it twice.
pub(super) fn decode_fast_with(
    content: &[u8],
    limits: &Limits,
    mut pairs: Option<&mut Vec<PairSpan>>,
) -> Option<Fields> {
    let mut buf = content.to_vec();
    // About one variable every 26 bytes in PayPal's messages; a typical message's spans then
    // stay under 1 KiB, which allocators serve from a per-thread cache.
    let mut spans: Vec<Span> = Vec::with_capacity((content.len() / 28 + 8).min(limits.max_fields));
    // Spans whose value holds bytes outside ASCII, undecoded until the charset is known.
    let mut deferred: Vec<usize> = Vec::new();
    let mut charset_at: Option<usize> = None;
    let mut start = 0;
    while let Some(&first) = buf.get(start) {
        if first == b'&' {
            start += 1; // an empty segment: no variable
            continue;
        }
        let index = spans.len();
        if index >= limits.max_fields {
            return None;
        }
        let (span, high, eq, end) = pair(&mut buf, start, limits)?;
        if let Some(pairs) = pairs.as_deref_mut() {
            pairs.push(PairSpan::new(start, Some(eq), end));
        }
        if buf.get(span.key()) == Some(b"charset") {
            if charset_at.is_some() {
                return None;
            }
            charset_at = Some(index);
        }
        if high {
            deferred.push(index);
        }
        spans.push(span);
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
            span.value_start = offset(base + from);
            span.value_end = offset(base + to);
        }
    }
    let text = String::from_utf8(buf).ok()?;
    let index = Index::build(&spans, text.as_bytes()).ok()?;
    Some(Fields {
        charset,
        charset_given: charset_at.is_some(),
        text,
        spans,
        index,
    })
}

/// Reads the pair that starts at `start` (not `&`), unescaping its key and value in place: their
/// span, whether the value holds bytes outside ASCII (to be decoded in the charset), and where
/// its `=` and its end (the next `&`, or the end of the body) are on the wire.
///
/// Bytes are scanned eight at a time for the four that matter (`&`, `=`, `%`, `+`) and for bytes
/// outside ASCII; the key is hashed on the way.
fn pair(buf: &mut [u8], start: usize, limits: &Limits) -> Option<(Span, bool, usize, usize)> {
    let len = buf.len();
    // The key, up to its `=`.
    let mut at = start;
    let mut state = HashState::default();
    let (key_end, eq, hash) = loop {
        let word = word_at(buf, at);
        let found = specials(word);
        if found == 0 {
            if at + 8 >= len {
                return None; // no `=` before the end
            }
            state.word(word);
            at += 8;
            continue;
        }
        let k = first(found);
        let special = at + k;
        match *buf.get(special)? {
            b'=' => {
                break (
                    special,
                    special,
                    state.finish(word & low_bytes(k), special - start),
                );
            }
            b'%' | b'+' => {
                // An escaped key (`transaction%5B0%5D.id`): find its end, unescape, hash.
                let eq = special + memchr2(b'=', b'&', buf.get(special..)?)?;
                if buf.get(eq) != Some(&b'=') {
                    return None;
                }
                let (key_end, high, _) = unescape_in_place(buf, special, eq)?;
                if high {
                    return None;
                }
                break (key_end, eq, hash_bytes(buf.get(start..key_end)?));
            }
            _ => return None, // `&` before any `=`, or a byte outside ASCII
        }
    };
    if eq == start || eq - start > limits.max_key_bytes {
        return None;
    }
    // The value, up to the next `&` or the end.
    let value_start = eq + 1;
    let mut at = value_start;
    let (value_end, high, end) = 'value: loop {
        let word = word_at(buf, at);
        let mut found = specials(word);
        while found != 0 {
            let special = at + first(found);
            match *buf.get(special)? {
                b'&' => break 'value (special, false, special),
                b'=' => found &= found - 1, // part of the value
                b'%' | b'+' => {
                    let (value_end, high, stop) = unescape_in_place(buf, special, len)?;
                    break 'value (value_end, high, stop);
                }
                _ => return None, // a byte outside ASCII
            }
        }
        if at + 8 >= len {
            break (len, false, len);
        }
        at += 8;
    };
    let span = Span {
        key_start: offset(start),
        key_end: offset(key_end),
        value_start: offset(value_start),
        value_end: offset(value_end),
        hash,
    };
    Some((span, high, eq, end))
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
        decode_fast(raw, &Limits::DEFAULT)
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
        assert!(decode_fast(b"a=1&b=2", &tight).is_none());
        let short = Limits {
            max_key_bytes: 2,
            ..Limits::DEFAULT
        };
        assert!(decode_fast(b"abc=1", &short).is_none());
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
}
