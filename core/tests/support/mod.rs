//! Test support shared by the core's integration tests, its benchmark and the CLI's tests
//! (included with `#[path]`): where the shared corpus is, and how to put a decoded field list on
//! the wire.

// Each includer uses a different part of this module.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

/// The shared corpus: `$IPNKIT_CORPUS`, or `../shared/corpus` beside the repository. Fails with a
/// message saying what is missing rather than skipping.
pub(crate) fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("IPNKIT_CORPUS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus"),
        PathBuf::from,
    );
    assert!(
        dir.join("SOURCES.md").is_file(),
        "the IPN corpus is missing: expected {} (set IPNKIT_CORPUS to its path)",
        dir.display()
    );
    dir
}

/// The signed webhook deliveries, `$IPNKIT_WEBHOOKS` or `../shared/webhooks` beside the
/// repository (described in its `SOURCES.md`).
#[allow(dead_code)] // not every test crate that shares this module reads the webhooks
pub(crate) fn webhooks_dir() -> PathBuf {
    let dir = std::env::var_os("IPNKIT_WEBHOOKS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/webhooks"),
        PathBuf::from,
    );
    assert!(
        dir.join("SOURCES.md").is_file(),
        "the webhook vectors are missing: expected {} (set IPNKIT_WEBHOOKS to its path)",
        dir.display()
    );
    dir
}

/// The cross-language vectors, `tests/vectors` at the repository root.
pub(crate) fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// The files of `dir` whose name ends with `suffix`, sorted; fails when there is none.
pub(crate) fn files_in(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no *{suffix} file in {}", dir.display());
    out
}

/// Reads a `*.fields.json` list of `[key, value]` pairs.
pub(crate) fn read_fields(path: &Path) -> Vec<(String, String)> {
    serde_json::from_slice(
        &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Puts decoded pairs on the wire as PayPal would: each key and value in the message's charset
/// (its `charset` pair, windows-1252 without one), then form-encoded. The label is resolved by
/// encoding_rs itself, not by ipnkit's charset table: a round trip through this does not take
/// the decoder's reading of a label for granted.
pub(crate) fn encode_fields(pairs: &[(String, String)]) -> Vec<u8> {
    let label = pairs
        .iter()
        .find(|(k, _)| k == "charset")
        .map_or("windows-1252", |(_, v)| v.as_str());
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes())
        .unwrap_or_else(|| panic!("encoding_rs knows no charset {label:?}"));
    let enc = |s: &str| -> String {
        let (bytes, _, unmappable) = encoding.encode(s);
        assert!(!unmappable, "{s:?} is not representable in {label}");
        form_urlencoded::byte_serialize(&bytes).collect()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

/// The benchmarks' messages: every `.body` of the corpus as it is, then every `.fields.json` put
/// on the wire in its charset.
pub(crate) fn bench_corpus() -> Vec<Vec<u8>> {
    let dir = corpus_dir();
    let mut out: Vec<Vec<u8>> = files_in(&dir, ".body")
        .iter()
        .map(|p| std::fs::read(p).unwrap())
        .collect();
    for p in files_in(&dir, ".fields.json") {
        out.push(encode_fields(&read_fields(&p)));
    }
    out
}
