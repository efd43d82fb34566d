//! Golden files: the canonical JSON of every message, committed and compared byte for byte.
//!
//! - `tests/vectors/NAME.json` for each hand-written `tests/vectors/NAME.body`;
//! - `tests/vectors/corpus/FILE.json` for each message of the shared corpus (a `.body` as it is,
//!   a `.fields.json` encoded in its charset).
//!
//! `IPNKIT_BLESS=1 cargo test -p ipnkit --test golden` (or `scripts/bless`) rewrites them from the
//! current code; review the diff before committing it.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;
use std::path::Path;

use ipnkit::{Family, Message};

mod support;

use support::vectors_dir;

fn bless() -> bool {
    std::env::var_os("IPNKIT_BLESS").is_some_and(|v| v == "1")
}

/// Compares (or, when blessing, writes) one golden file; returns a mismatch description.
fn check(golden: &Path, raw: &[u8]) -> Option<String> {
    let message = Message::parse(raw).unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
    let actual = message
        .to_canonical_json_pretty()
        .unwrap_or_else(|e| panic!("{}: {e}", golden.display()))
        + "\n";
    if bless() {
        fs::create_dir_all(golden.parent().unwrap()).unwrap();
        fs::write(golden, &actual).unwrap();
        return None;
    }
    match fs::read_to_string(golden) {
        Ok(expected) if expected == actual => None,
        Ok(_) => Some(format!(
            "{} differs (IPNKIT_BLESS=1 to rewrite, then review)",
            golden.display()
        )),
        Err(e) => Some(format!(
            "{}: {e} (IPNKIT_BLESS=1 to write it)",
            golden.display()
        )),
    }
}

fn stem(path: &Path, suffix: &str) -> String {
    let name = path.file_name().unwrap().to_string_lossy();
    name.strip_suffix(suffix).unwrap().to_owned()
}

#[test]
fn hand_written_vectors_match_their_golden_json() {
    let dir = vectors_dir();
    let mut failures = Vec::new();
    let bodies = support::files_in(&dir, ".body");
    for body in &bodies {
        let golden = dir.join(format!("{}.json", stem(body, ".body")));
        failures.extend(check(&golden, &fs::read(body).unwrap()));
    }
    // Every golden file has its message.
    for golden in support::files_in(&dir, ".json") {
        let name = golden.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".fields.json") {
            continue;
        }
        let body = dir.join(format!("{}.body", stem(&golden, ".json")));
        if !body.is_file() {
            failures.push(format!("{name} has no {}", body.display()));
        }
    }
    assert!(bodies.len() >= 30, "only {} vectors", bodies.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_messages_match_their_golden_json() {
    let corpus = support::corpus_dir();
    let golden_dir = vectors_dir().join("corpus");
    let mut failures = Vec::new();
    let mut count = 0;
    for body in support::files_in(&corpus, ".body") {
        let golden = golden_dir.join(format!("{}.json", stem(&body, ".body")));
        failures.extend(check(&golden, &fs::read(&body).unwrap()));
        count += 1;
    }
    for list in support::files_in(&corpus, ".fields.json") {
        let golden = golden_dir.join(format!("{}.json", stem(&list, ".fields.json")));
        let raw = support::encode_fields(&support::read_fields(&list));
        failures.extend(check(&golden, &raw));
        count += 1;
    }
    let goldens = support::files_in(&golden_dir, ".json").len();
    assert_eq!(
        goldens,
        count,
        "stale golden files in {}",
        golden_dir.display()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn vectors_cover_every_event_and_family() {
    let dir = vectors_dir();
    let mut events = Vec::new();
    let mut families = Vec::new();
    for body in support::files_in(&dir, ".body") {
        let m = Message::parse(&fs::read(&body).unwrap()).unwrap();
        events.push(m.event().code());
        families.push(m.family());
    }
    // Webhook-only events have webhook vectors (core/tests/webhooks.rs).
    for code in ipnkit::EventCode::ALL
        .iter()
        .filter(|&&c| c != ipnkit::EventCode::Unknown && !c.webhook_only())
    {
        assert!(
            events.contains(&code.code()),
            "no vector for the event {code}"
        );
    }
    for family in Family::ALL
        .iter()
        .copied()
        .filter(|&f| f != Family::Unknown)
    {
        assert!(
            families.contains(&family),
            "no vector for the family {}",
            family.code()
        );
    }
}
