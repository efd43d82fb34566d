//! The decision every host gives for the shared cases (`tests/decisions/cases.json`): the core's
//! JSON here is the golden file (`tests/decisions/decisions.json`) that the Python, Node, wasm
//! and PHP suites compare their own decisions with, so that the same input decides the same way
//! in every host. The cases cover every action, every refusal, every delivery kind and every
//! way an amount is judged (checked below).
//!
//! `IPNKIT_BLESS=1 cargo test -p ipnkit --test decisions` rewrites the golden file; review the
//! diff.

#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use ipnkit::host::{Answer, Config, Notification};
use ipnkit::{Expected, Limits};
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/decisions")
}

/// The decision of one case, as the core serializes it.
pub fn decide(case: &Value) -> Value {
    let config = Config::from_data(&case["config"]).unwrap();
    let expected = Expected::from_data(&case["expected"]).unwrap();
    let raw = case["body"].as_str().unwrap().as_bytes().to_vec();
    let stored: Vec<&str> = case["stored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    let status = case["status"].as_u64().map(|s| u16::try_from(s).unwrap());
    let answer = Answer::new(status, case["answer"].as_str().unwrap().as_bytes());
    let notification = Notification::new(raw, Limits::DEFAULT).unwrap();
    let decision = notification
        .decide(answer, &config, &expected, &stored)
        .unwrap();
    serde_json::to_value(&decision).unwrap()
}

#[test]
fn every_case_decides_as_the_golden_file_says_and_the_cases_cover_every_shape() {
    let cases: Value =
        serde_json::from_str(&fs::read_to_string(dir().join("cases.json")).unwrap()).unwrap();
    let decisions: Vec<Value> = cases["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| serde_json::json!({"name": case["name"], "decision": decide(case)}))
        .collect();
    let text = serde_json::to_string_pretty(&decisions).unwrap() + "\n";
    let golden = dir().join("decisions.json");
    if std::env::var_os("IPNKIT_BLESS").is_some_and(|v| v == "1") {
        fs::write(&golden, &text).unwrap();
    }
    let want = fs::read_to_string(&golden)
        .unwrap_or_else(|e| panic!("{}: {e} (IPNKIT_BLESS=1 to write it)", golden.display()));
    assert_eq!(
        text,
        want,
        "{} differs (IPNKIT_BLESS=1 to rewrite, then review)",
        golden.display()
    );
    // Every shape the hosts convert appears at least once.
    let seen = |key: &str| -> BTreeSet<String> {
        decisions
            .iter()
            .filter_map(|d| {
                let value = &d["decision"][key];
                value
                    .as_str()
                    .or_else(|| value["kind"].as_str())
                    .map(str::to_owned)
            })
            .collect()
    };
    let all = |codes: &[&str]| {
        codes
            .iter()
            .map(|c| (*c).to_owned())
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(seen("action"), all(ipnkit::host::ACTION_CODES));
    assert_eq!(seen("why"), all(ipnkit::host::REFUSAL_CODES));
    assert_eq!(seen("amount"), all(ipnkit::policy::AMOUNT_CHECK_CODES));
    assert_eq!(seen("delivery"), all(ipnkit::DELIVERY_CODES));
}
