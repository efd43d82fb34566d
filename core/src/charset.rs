//! The message's charset: PayPal's names and aliases, mapped onto encoding_rs.
//!
//! The `charset` variable names the encoding of every key and value in the message. Without one,
//! PayPal's default, windows-1252, applies. Names are matched case-insensitively with the WHATWG
//! label table of encoding_rs (which knows `Shift_JIS`, `KOI8_R`, `windows-949`, `x-mac-cyrillic`…),
//! then with `_` read as `-` (`ISO_8859_1`); the encoding the label *resolves to* is then judged:
//! UTF-16 of either byte order (whatever alias named it: `ucs-2`, `unicode`, `csunicode`…),
//! `x-user-defined` (which can never fail) and `replacement` are refused with
//! [`Error::UnsupportedCharset`], as are charsets PayPal lists that encoding_rs does not know
//! (UTF-7, UTF-32, EBCDIC…); anything else is [`Error::UnknownCharset`]. Nothing falls back
//! silently, and a refused charset is refused before any name is decoded with it.

use std::fmt;

use encoding_rs::Encoding;

use crate::error::Error;

/// A charset the message can be decoded with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Charset(&'static Encoding);

impl Charset {
    /// PayPal's default when the message has no `charset` variable.
    pub const DEFAULT: Charset = Charset(encoding_rs::WINDOWS_1252);
    /// UTF-8.
    pub const UTF_8: Charset = Charset(encoding_rs::UTF_8);

    /// Looks a charset up by the name PayPal sends (case-insensitive, surrounding whitespace
    /// ignored).
    ///
    /// ```
    /// use ipnkit::Charset;
    /// assert_eq!(Charset::from_label(b"Shift_JIS")?.name(), "Shift_JIS");
    /// assert_eq!(Charset::from_label(b"KOI8_R")?.name(), "KOI8-R");
    /// assert_eq!(Charset::from_label(b"UTF-7").unwrap_err().code(), "unsupported_charset");
    /// # Ok::<(), ipnkit::Error>(())
    /// ```
    pub fn from_label(label: &[u8]) -> Result<Charset, Error> {
        // The two labels nearly every message carries, before the WHATWG table.
        if label.eq_ignore_ascii_case(b"windows-1252") {
            return Ok(Charset::DEFAULT);
        }
        if label.eq_ignore_ascii_case(b"utf-8") {
            return Ok(Charset::UTF_8);
        }
        let trimmed = label.trim_ascii();
        // Resolve first (WHATWG's label table, then with `_` read as `-`), then judge what the
        // label resolved to: an alias such as `ucs-2` or `csunicode` is refused exactly like
        // `UTF-16`, because it *is* UTF-16.
        let encoding = Encoding::for_label(trimmed).or_else(|| {
            let dashed: Vec<u8> = trimmed
                .iter()
                .map(|&b| if b == b'_' { b'-' } else { b })
                .collect();
            Encoding::for_label(&dashed)
        });
        match encoding {
            Some(e) => Charset::judge(e, trimmed),
            None => match unsupported(trimmed) {
                Some(name) => Err(Error::UnsupportedCharset { charset: name }),
                None => Err(Error::UnknownCharset),
            },
        }
    }

    /// Accepts an encoding that decodes a form body strictly, refuses the others by name.
    fn judge(encoding: &'static Encoding, label: &[u8]) -> Result<Charset, Error> {
        let refused = if encoding == encoding_rs::UTF_16LE {
            Some("UTF-16LE")
        } else if encoding == encoding_rs::UTF_16BE {
            Some("UTF-16BE")
        } else if encoding == encoding_rs::X_USER_DEFINED {
            // Maps every byte to a character: it can never fail, so it proves nothing.
            Some("x-user-defined")
        } else if encoding == encoding_rs::REPLACEMENT {
            // WHATWG's stand-in for ISO-2022-KR, ISO-2022-CN, HZ-GB-2312: decodes to U+FFFD.
            // The label's own name when it is one we list; else WHATWG's name for the stand-in.
            Some(unsupported(label).unwrap_or("replacement"))
        } else {
            None
        };
        match refused {
            Some(name) => Err(Error::UnsupportedCharset { charset: name }),
            None => Ok(Charset(encoding)),
        }
    }

    /// The canonical name (encoding_rs's, e.g. `windows-1252`, `UTF-8`, `Shift_JIS`).
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The underlying encoding_rs encoding.
    pub fn encoding(self) -> &'static Encoding {
        self.0
    }
}

impl Default for Charset {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Debug for Charset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Charset({})", self.name())
    }
}

impl fmt::Display for Charset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Charsets PayPal lists that encoding_rs does not know, as (label, name reported), and the
/// names of the labels WHATWG resolves to its `replacement` encoding.
///
/// Among the labels encoding_rs *does* resolve, UTF-16 (either byte order, and every alias such
/// as `ucs-2`, `unicode`, `csunicode`), `x-user-defined` and `replacement` are refused after
/// resolution ([`Charset::from_label`]). UTF-16 has a decoder, but a form body is a byte stream
/// of ASCII keys and `%XX` escapes, and browsers submit UTF-16 pages as UTF-8 (WHATWG URL
/// standard): guessing how a UTF-16 value was escaped would be a silent fallback.
const UNSUPPORTED: &[(&str, &str)] = &[
    ("utf-7", "UTF-7"),
    ("utf16_platformendian", "UTF-16"),
    ("utf16_oppositeendian", "UTF-16"),
    ("utf-32", "UTF-32"),
    ("utf-32be", "UTF-32BE"),
    ("utf-32le", "UTF-32LE"),
    ("utf32_platformendian", "UTF-32"),
    ("utf32_oppositeendian", "UTF-32"),
    ("ebcdic-cp-us", "ebcdic-cp-us"),
    ("ibm-1047", "ibm-1047"),
    ("ibm-862", "ibm-862"),
    ("euc-tw", "EUC-TW"),
    ("iso-2022-cn", "ISO-2022-CN"),
    ("iso-2022-cn-ext", "ISO-2022-CN-EXT"),
    ("iso-2022-kr", "ISO-2022-KR"),
    ("csiso2022kr", "ISO-2022-KR"),
    ("hz-gb-2312", "HZ-GB-2312"),
    ("x-mac-greek", "x-mac-greek"),
    ("x-mac-turkish", "x-mac-turkish"),
    ("x-mac-centraleurroman", "x-mac-centraleurroman"),
];

/// The name to report for `label`, compared ASCII case-insensitively with `_` read as `-`.
fn unsupported(label: &[u8]) -> Option<&'static str> {
    let fold = |b: &u8| match b.to_ascii_lowercase() {
        b'_' => b'-',
        other => other,
    };
    UNSUPPORTED
        .iter()
        .find(|(l, _)| {
            l.len() == label.len() && l.bytes().map(|b| fold(&b)).eq(label.iter().map(fold))
        })
        .map(|&(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(label: &str) -> Result<&'static str, Error> {
        Charset::from_label(label.as_bytes()).map(Charset::name)
    }

    #[test]
    fn paypal_names_map_case_insensitively() {
        let cases = [
            ("windows-1252", "windows-1252"),
            ("WINDOWS-1252", "windows-1252"),
            ("UTF-8", "UTF-8"),
            ("utf-8", "UTF-8"),
            ("Shift_JIS", "Shift_JIS"),
            ("shift_jis", "Shift_JIS"),
            ("Big5", "Big5"),
            ("KOI8_R", "KOI8-R"),
            ("KOI8-R", "KOI8-R"),
            ("ISO-8859-1", "windows-1252"),
            ("ISO_8859_1", "windows-1252"),
            ("US-ASCII", "windows-1252"),
            ("ISO-8859-2", "ISO-8859-2"),
            ("ISO-8859-15", "ISO-8859-15"),
            ("EUC-JP", "EUC-JP"),
            ("EUC-KR", "EUC-KR"),
            ("windows-949", "EUC-KR"),
            ("gb2312", "GBK"),
            ("GBK", "GBK"),
            ("ISO-2022-JP", "ISO-2022-JP"),
            ("windows-1250", "windows-1250"),
            ("windows-1251", "windows-1251"),
            ("windows-874", "windows-874"),
            ("x-mac-cyrillic", "x-mac-cyrillic"),
            (" utf-8 ", "UTF-8"),
        ];
        for (label, expected) in cases {
            assert_eq!(name(label), Ok(expected), "{label}");
        }
    }

    #[test]
    fn charsets_encoding_rs_lacks_are_unsupported_by_name() {
        for (label, expected) in [
            ("UTF-7", "UTF-7"),
            ("UTF-16", "UTF-16LE"),
            ("UTF16_PlatformEndian", "UTF-16"),
            ("utf-32le", "UTF-32LE"),
            ("ebcdic-cp-us", "ebcdic-cp-us"),
            ("ISO-2022-CN", "ISO-2022-CN"),
            ("HZ-GB-2312", "HZ-GB-2312"),
            ("x-mac-greek", "x-mac-greek"),
        ] {
            assert_eq!(
                name(label),
                Err(Error::UnsupportedCharset { charset: expected }),
                "{label}"
            );
        }
    }

    #[test]
    fn unknown_labels_are_refused_not_guessed() {
        for label in ["", "latin-9000", "utf8mb4", "\u{e9}", "ucs-4"] {
            assert_eq!(name(label), Err(Error::UnknownCharset), "{label:?}");
        }
    }

    #[test]
    fn ucs2_aliases_and_charsets_that_cannot_fail_are_judged_after_resolution() {
        // Every WHATWG label of UTF-16, x-user-defined and replacement, in any case and with `_`.
        for (label, expected) in [
            ("ucs-2", "UTF-16LE"),
            ("UCS-2", "UTF-16LE"),
            ("unicode", "UTF-16LE"),
            ("csunicode", "UTF-16LE"),
            ("iso-10646-ucs-2", "UTF-16LE"),
            ("ISO_10646_UCS_2", "UTF-16LE"),
            ("unicodefeff", "UTF-16LE"),
            ("utf-16le", "UTF-16LE"),
            ("utf-16be", "UTF-16BE"),
            ("unicodefffe", "UTF-16BE"),
            ("x-user-defined", "x-user-defined"),
            ("replacement", "replacement"),
            ("csiso2022kr", "ISO-2022-KR"),
            ("iso-2022-cn-ext", "ISO-2022-CN-EXT"),
            ("HZ_GB_2312", "HZ-GB-2312"),
        ] {
            assert_eq!(
                name(label),
                Err(Error::UnsupportedCharset { charset: expected }),
                "{label}"
            );
        }
    }

    #[test]
    fn a_refused_charset_is_refused_before_any_name_is_decoded() {
        // `%FF%FE` would be a UTF-16 key: the error is about the charset, not a field decoded in it.
        for body in [
            &b"charset=ucs-2&%FF%FEk=v"[..],
            b"%FF%FE=v&charset=csunicode",
            b"charset=x-user-defined&first_name=%80%FF",
        ] {
            let err = crate::Body::parse(body).and_then(|b| b.decode()).err();
            assert_eq!(
                err.as_ref().map(Error::code),
                Some("unsupported_charset"),
                "{body:?}"
            );
            // The only name an error shows is the charset variable's own.
            assert_eq!(err.as_ref().and_then(Error::field), Some("charset"));
        }
    }

    #[test]
    fn default_is_windows_1252() {
        assert_eq!(Charset::default().name(), "windows-1252");
        assert_eq!(format!("{}", Charset::UTF_8), "UTF-8");
        assert_eq!(format!("{:?}", Charset::DEFAULT), "Charset(windows-1252)");
    }
}
