//! The messages the stand-in delivers, read from files and made the sandbox's.

use std::io;
use std::path::PathBuf;

/// The bytes the sandbox sends for a message: trailing CR/LF (a file artefact) removed,
/// `test_ipn=1` appended when the message has no `test_ipn`, and a `verify_sign` appended when
/// it has none (PayPal signs every notification; test fixtures often drop the signature).
pub fn as_sandbox_message(raw: &[u8]) -> Vec<u8> {
    let end = raw
        .iter()
        .rposition(|&b| b != b'\r' && b != b'\n')
        .map_or(0, |i| i + 1);
    let mut body = raw.get(..end).unwrap_or_default().to_vec();
    let has = |body: &[u8], key: &[u8]| {
        body.split(|&b| b == b'&').any(|pair| {
            pair.strip_prefix(key)
                .is_some_and(|rest| rest.first() == Some(&b'='))
        })
    };
    if !has(&body, b"test_ipn") {
        body.extend_from_slice(b"&test_ipn=1");
    }
    if !has(&body, b"verify_sign") {
        body.extend_from_slice(
            b"&verify_sign=AiPC9BjkCyDFQXbSkoZcgqH3hpacASJcFfmTSabpg.6nZdl-ZvWk2Hz",
        );
    }
    body
}

/// Reads raw IPN bodies: each path a file, or a directory whose `*.body` files are read in name
/// order.
pub fn load_messages(paths: &[PathBuf]) -> io::Result<Vec<Vec<u8>>> {
    let mut messages = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "body"))
                .collect();
            files.sort();
            for file in files {
                messages.push(std::fs::read(file)?);
            }
        } else {
            messages.push(std::fs::read(path)?);
        }
    }
    Ok(messages)
}
