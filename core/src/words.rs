//! Bytes eight at a time in a `u64` ("SIMD within a register"), for the scanners that look for a
//! few separator bytes: the body's tokenizer and the one-pass decoder. Portable (the wasm build
//! included) and without `unsafe`; every function is inlined even where the build optimizes for
//! size (the wasm package), since a call per word would cost more than the word's work.

/// `0x01` in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every byte.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit set in each byte of `word` that is *not* `byte` (exact: no borrow crosses
/// bytes). A byte is found where the high bit is clear: `!others(w, b) & HIGH`.
#[inline(always)]
pub(crate) fn others(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    ((x & !HIGH) + !HIGH) | x
}

/// The 8 bytes of `buf` from `at`, little-endian, zeros past the end.
#[inline(always)]
pub(crate) fn word_at(buf: &[u8], at: usize) -> u64 {
    match buf.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        Some(bytes) => u64::from_le_bytes(*bytes),
        None => last_word(buf, at),
    }
}

#[cold]
fn last_word(buf: &[u8], at: usize) -> u64 {
    let mut bytes = [0u8; 8];
    // Past the end there is nothing to copy: the word's rest stays zero, as documented.
    for (to, from) in bytes.iter_mut().zip(buf.get(at..).unwrap_or_default()) {
        *to = *from;
    }
    u64::from_le_bytes(bytes)
}

/// The position in `word` (0 to 7) of the lowest byte a mask of high bits marks.
#[inline(always)]
pub(crate) fn first(mask: u64) -> usize {
    mask.trailing_zeros() as usize / 8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_found_exactly() {
        let word = u64::from_le_bytes(*b"a=b&\x80\x00=\xff");
        assert_eq!(!others(word, b'=') & HIGH, 0x0080_0000_0000_8000);
        assert_eq!(first(!others(word, b'&') & HIGH), 3);
        assert_eq!(!others(word, 0) & HIGH, 0x0000_8000_0000_0000);
        assert_eq!(word_at(b"abc", 1), u64::from_le_bytes(*b"bc\0\0\0\0\0\0"));
        assert_eq!(word_at(b"abc", 3), 0);
    }
}
