//! The `ipnkit` binary, run as a user would: on every corpus body, on arbitrary bytes, on each
//! class of malformed message, and on PayPal's possible answers.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use proptest::prelude::*;
use serde_json::Value;

#[path = "../../core/tests/support/mod.rs"]
mod support;

use support::corpus_dir;

fn bodies() -> Vec<PathBuf> {
    support::files_in(&corpus_dir(), ".body")
}

/// Runs `ipnkit ARGS` with `stdin` on its standard input.
fn ipnkit(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ipnkit"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    // The child may exit before reading everything (an oversized body): ignore a broken pipe.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn postback_is_byte_exact_on_every_corpus_body() {
    for path in bodies() {
        let raw = std::fs::read(&path).unwrap();
        let out = ipnkit(&["postback", path.to_str().unwrap()], b"");
        assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
        assert_eq!(
            out.stdout,
            [&b"cmd=_notify-validate&"[..], &raw].concat(),
            "{}",
            path.display()
        );
        // Same through stdin.
        let out = ipnkit(&["postback", "-"], &raw);
        assert_eq!(out.stdout, [&b"cmd=_notify-validate&"[..], &raw].concat());
    }
}

#[test]
fn parse_prints_canonical_json_for_every_corpus_body() {
    for path in bodies() {
        let out = ipnkit(&["parse", path.to_str().unwrap()], b"");
        assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(json["event"].is_string(), "{}", path.display());
        assert_ne!(json["family"], "unknown", "{}", path.display());
        // The same bytes the core's golden file holds.
        let name = path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".body", ".json");
        let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/vectors/corpus")
            .join(name);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(&golden).unwrap()
        );
    }
}

#[test]
fn parse_variables_prints_decoded_values_in_order() {
    let path = corpus_dir().join("example_vn--cart--resend_utf8_crlf.body");
    let out = ipnkit(&["parse", "--variables", path.to_str().unwrap()], b"");
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["charset"], "UTF-8");
    assert_eq!(json["charset_given"], true);
    let vars = json["variables"].as_array().unwrap();
    assert_eq!(vars.len(), 44);
    assert_eq!(vars[0]["key"], "mc_gross_1");
    let state = vars.iter().find(|v| v["key"] == "address_state").unwrap();
    assert_eq!(state["value"], "HỒ CHÍ MINH");
    let street = vars.iter().find(|v| v["key"] == "address_street").unwrap();
    assert_eq!(street["value"], "12\r\nLe Loi");
}

#[test]
fn parse_gives_one_line_with_a_code_for_each_malformed_class() {
    let cases: &[(&[u8], &[&str], &str)] = &[
        (b"", &[], "empty_body"),
        (b"a=123456789", &["--max-body-bytes", "8"], "body_too_large"),
        (b"a=1&b=2&c=3", &["--max-fields", "2"], "too_many_fields"),
        (b"abcd=1", &["--max-key-bytes", "3"], "key_too_long"),
        (b"=secret", &[], "empty_key"),
        (b"a=1&secret", &[], "missing_separator"),
        (b"first_name=J%G6rg", &[], "malformed_escape"),
        (b"charset=UTF-8&first_name=J%F6rg", &[], "invalid_encoding"),
        (b"charset=klingon&a=1", &[], "unknown_charset"),
        (b"charset=UTF-7&a=1", &[], "unsupported_charset"),
        (b"mc_gross=1.00&mc_gross=100.00", &[], "duplicate_key"),
        (
            b"charset=UTF-8&a=1&charset=windows-1252",
            &[],
            "duplicate_key",
        ),
    ];
    for (body, flags, code) in cases {
        let mut args = vec!["parse"];
        args.extend_from_slice(flags);
        args.push("-");
        let out = ipnkit(&args, body);
        assert_eq!(out.status.code(), Some(1), "{code}");
        assert!(out.stdout.is_empty(), "{code}");
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("ipnkit: {code}: ")),
            "{code}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
        for secret in [
            "secret",
            "J%G6rg",
            "Jörg",
            "100.00",
            "klingon",
            "1,000",
            "usd",
            "yesterday",
            "two",
            "yes",
            "1 Q",
        ] {
            assert!(!err.contains(secret), "{code} echoed a value: {err}");
        }
    }
}

#[test]
fn postback_refuses_what_the_limits_refuse_but_not_undecodable_values() {
    let out = ipnkit(&["postback", "--max-body-bytes", "4", "-"], b"a=12345");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("ipnkit: body_too_large"));
    // Verification never depends on decoding.
    let raw = b"charset=klingon&first_name=J%G6rg&x=%FF";
    let out = ipnkit(&["postback"], raw);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, [&b"cmd=_notify-validate&"[..], raw].concat());
}

#[test]
fn verdict_says_verified_only_for_200_and_verified() {
    let cases: &[(&str, &[u8], i32, &str)] = &[
        ("200", b"VERIFIED", 0, "verified"),
        ("200", b"VERIFIED\r\n", 0, "verified"),
        ("200", b"INVALID", 1, "invalid"),
        ("500", b"VERIFIED", 3, "unexpected"),
        (
            "200",
            b"<html><body>VERIFIED</body></html>",
            3,
            "unexpected",
        ),
        ("200", b"", 3, "unexpected"),
        ("503", b"<h1>Service Unavailable</h1>", 3, "unexpected"),
    ];
    for (status, body, exit, verdict) in cases {
        let out = ipnkit(&["verdict", "--status", status, "-"], body);
        assert_eq!(out.status.code(), Some(*exit), "{status} {body:?}");
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["verdict"], *verdict, "{status} {body:?}");
    }
}

#[test]
fn unreadable_input_and_bad_usage_have_their_own_exit_codes() {
    let out = ipnkit(&["parse", "/nonexistent/ipn.body"], b"");
    assert_eq!(out.status.code(), Some(4));
    assert!(stderr(&out).starts_with("ipnkit: io: "));
    let out = ipnkit(&["verdict", "-"], b"VERIFIED");
    assert_eq!(out.status.code(), Some(2), "--status is required");
}

#[test]
fn listen_refuses_a_test_verification_url_with_live_payments() {
    // Refused before anything is opened: no store file, no port.
    let db = std::env::temp_dir().join(format!("ipnkit-live-verify-{}.sqlite", std::process::id()));
    let args = [
        "listen",
        "--env",
        "live",
        "--verify-url",
        "http://127.0.0.1:9",
        "--listen",
        "127.0.0.1:0",
    ];
    let out = ipnkit(
        &[&args[..], &["--db", &db.display().to_string()]].concat(),
        b"",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "ipnkit: --verify-url is for tests against `ipnkit sandbox`: it cannot be used with --env live\n"
    );
    assert!(!db.exists(), "the store was created");
}

#[test]
fn listen_refuses_the_webhook_stand_in_with_live_payments() {
    // The stand-in's throwaway authority is trusted only outside live, and the refusal comes
    // before anything is opened or fetched.
    let db = std::env::temp_dir().join(format!("ipnkit-live-wh-{}.sqlite", std::process::id()));
    let base = [
        "listen",
        "--listen",
        "127.0.0.1:0",
        "--webhook-id",
        "WH-1",
        "--db",
        &db.display().to_string(),
    ]
    .map(String::from)
    .to_vec();
    let with = |extra: &[&str]| {
        [
            &base[..],
            &extra.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        ]
        .concat()
    };
    let live = with(&["--env", "live", "--webhook-stand-in", "http://127.0.0.1:9"]);
    let out = ipnkit(&live.iter().map(String::as_str).collect::<Vec<_>>(), b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "ipnkit: --webhook-stand-in is for tests against `ipnkit sandbox`: it cannot be used with --env live\n"
    );
    let path = with(&["--env", "sandbox", "--webhook-path", "webhook"]);
    let out = ipnkit(&path.iter().map(String::as_str).collect::<Vec<_>>(), b"");
    assert_eq!(
        (out.status.code(), stderr(&out).as_str()),
        (Some(2), "ipnkit: --webhook-path must start with /\n")
    );
    // A stand-in that is not there: the start fails, saying where it looked.
    let absent = with(&[
        "--env",
        "sandbox",
        "--webhook-stand-in",
        "http://127.0.0.1:9",
    ]);
    let out = ipnkit(&absent.iter().map(String::as_str).collect::<Vec<_>>(), b"");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains(
            "--webhook-stand-in: no authority at http://127.0.0.1:9/sandbox/webhook-ca.pem"
        ),
        "{}",
        stderr(&out)
    );
    // And no webhook options without a webhook id.
    let out = ipnkit(&["listen", "--env", "sandbox", "--webhook-path", "/w"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!db.exists(), "the store was created");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn postback_is_byte_exact_on_arbitrary_bytes(raw in prop::collection::vec(any::<u8>(), 1..512)) {
        let out = ipnkit(&["postback"], &raw);
        if out.status.success() {
            prop_assert_eq!(out.stdout, [&b"cmd=_notify-validate&"[..], &raw].concat());
        } else {
            let err = stderr(&out);
            prop_assert!(err.starts_with("ipnkit: empty_body") || err.starts_with("ipnkit: key_too_long"), "{}", err);
        }
    }
}

fn vector(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// Runs `ipnkit check` on a vector; returns (exit code, violation codes).
fn check(name: &str, extra: &[&str]) -> (Option<i32>, Vec<String>) {
    let file = vector(name);
    let mut args = vec!["check", file.as_str()];
    args.extend_from_slice(extra);
    let out = ipnkit(&args, b"");
    let json: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    let codes = json["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(json["accept"], out.status.success());
    (out.status.code(), codes)
}

#[test]
fn check_explains_why_an_ipn_was_refused() {
    let good = "web_accept--multi_currency_settled.body";
    let base = ["--env", "sandbox", "--receiver-email", "SHOP@example.net"];
    fn with<'a>(base: &[&'a str], more: &[&'a str]) -> Vec<&'a str> {
        base.iter().chain(more).copied().collect()
    }

    let (code, violations) = check(
        good,
        &with(
            &base,
            &["--verified", "--amount", "100.00", "--currency", "EUR"],
        ),
    );
    assert_eq!((code, violations.len()), (Some(0), 0));

    let (code, violations) = check(
        good,
        &with(
            &base,
            &["--verified", "--amount", "99.99", "--currency", "USD"],
        ),
    );
    assert_eq!(code, Some(1));
    assert_eq!(violations, ["amount_mismatch", "currency_mismatch"]);

    let (_, violations) = check(
        good,
        &["--env", "live", "--receiver-id", "NOTUS", "--verified"],
    );
    assert_eq!(violations, ["environment_mismatch", "receiver_mismatch"]);

    let (_, violations) = check(
        "web_accept--pending_echeck.body",
        &with(&base, &["--verified"]),
    );
    assert_eq!(violations, ["status_not_final"]);

    let response = std::env::temp_dir().join(format!("ipnkit-response-{}", std::process::id()));
    std::fs::write(&response, "<html><body>VERIFIED</body></html>").unwrap();
    let response = response.to_string_lossy().into_owned();
    let (code, violations) = check(
        good,
        &with(&base, &["--status", "200", "--response", &response]),
    );
    assert_eq!(
        (code, violations),
        (Some(1), vec!["not_verified".to_owned()])
    );
    std::fs::write(&response, "VERIFIED\r\n").unwrap();
    let (code, _) = check(
        good,
        &with(&base, &["--status", "200", "--response", &response]),
    );
    assert_eq!(code, Some(0));
    let _ = std::fs::remove_file(&response);
}

#[test]
fn check_prints_event_and_delivery_key_and_refuses_bad_usage() {
    let file = vector("masspay--unclaimed.body");
    let out = ipnkit(
        &[
            "check",
            &file,
            "--verified",
            "--env",
            "sandbox",
            "--receiver-email",
            "payouts@example.net",
            "--final-status",
            "Processed",
        ],
        b"",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["event"], "masspay");
    assert_eq!(json["delivery_key"], "ipn:c3d4e5f6a7b82");
    // No verdict given, an unknown environment, a malformed amount: usage errors.
    for args in [
        vec!["check", file.as_str(), "--env", "sandbox"],
        vec!["check", file.as_str(), "--verified", "--env", "prod"],
        vec![
            "check",
            file.as_str(),
            "--verified",
            "--env",
            "live",
            "--amount",
            "1,00",
        ],
    ] {
        assert_eq!(ipnkit(&args, b"").status.code(), Some(2), "{args:?}");
    }
    // A message that cannot be read is refused with its code.
    let out = ipnkit(
        &["check", "-", "--verified", "--env", "live"],
        b"mc_gross=1&mc_gross=2",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).starts_with("ipnkit: duplicate_key"));
}

#[test]
fn copy_store_refuses_what_it_cannot_copy_and_never_shows_a_password() {
    let dir = std::env::temp_dir().join(format!("ipnkit-cli-copy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("typo.sqlite").display().to_string();
    let target = dir.join("target.sqlite").display().to_string();

    let out = ipnkit(&["copy-store", "--from", &missing, "--to", &target], b"");
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("no SQLite store at"),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.join("typo.sqlite").exists(),
        "a missing store was created"
    );

    let out = ipnkit(&["copy-store", "--from", &target, "--to", &target], b"");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("the same store"));

    // A URL that is not PostgreSQL's, and one that cannot be read: usage errors, no password.
    for to in ["mysql://u:hunter2@h/db", "postgres://u:hunter2@h:port/db"] {
        let out = ipnkit(&["copy-store", "--from", &target, "--to", to], b"");
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(!stderr(&out).contains("hunter2"), "{}", stderr(&out));
        let out = ipnkit(&["listen", "--env", "sandbox", "--db", to], b"");
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("store:"), "{}", stderr(&out));
        assert!(!stderr(&out).contains("hunter2"), "{}", stderr(&out));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `ipnkit webhook verify` on a shared vector: its files written as a user has them (the
/// headers as `curl -D` writes a request's).
mod webhook {
    use super::*;

    /// A directory of its own, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Self {
            static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("ipnkit-cli-webhook-{}-{n}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    struct Files {
        dir: Scratch,
        facts: Value,
    }

    fn files(name: &str) -> Files {
        let shared = support::webhooks_dir();
        let facts: Value =
            serde_json::from_slice(&std::fs::read(shared.join(format!("{name}.json"))).unwrap())
                .unwrap();
        let dir = Scratch::new();
        std::fs::copy(shared.join(format!("{name}.body")), dir.path().join("body")).unwrap();
        std::fs::copy(
            shared.join(format!("{name}.pem")),
            dir.path().join("cert.pem"),
        )
        .unwrap();
        let h = |k: &str| facts[k].as_str().unwrap().to_owned();
        let headers = format!(
            "POST /webhook HTTP/1.1\r\nHost: shop.example\r\nContent-Type: application/json\r\n\
             Paypal-Transmission-Id: {}\r\nPaypal-Transmission-Time: {}\r\n\
             Paypal-Transmission-Sig: {}\r\nPaypal-Cert-Url: {}\r\nPaypal-Auth-Algo: {}\r\n\r\n",
            h("transmission_id"),
            h("transmission_time"),
            h("transmission_sig"),
            h("cert_url"),
            h("auth_algo")
        );
        std::fs::write(dir.path().join("headers"), headers).unwrap();
        Files { dir, facts }
    }

    fn verify(f: &Files, webhook_id: &str, extra: &[&str]) -> (Option<i32>, Value, String) {
        let path = |n: &str| f.dir.path().join(n).to_str().unwrap().to_owned();
        let at = f.facts["transmission_time"].as_str().unwrap().to_owned();
        let (body, headers, cert) = (path("body"), path("headers"), path("cert.pem"));
        let mut args = vec![
            "webhook",
            "verify",
            "--body",
            &body,
            "--headers",
            &headers,
            "--cert",
            &cert,
            "--webhook-id",
            webhook_id,
        ];
        if !extra.contains(&"--at") {
            args.extend_from_slice(&["--at", &at]);
        }
        args.extend_from_slice(extra);
        let out = ipnkit(&args, b"");
        let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code(), json, stderr(&out))
    }

    const NAME: &str = "paypal2_2024-07-30_payment-sale-refunded";

    #[test]
    fn verify_exits_0_for_paypal_s_webhook_and_1_with_the_code_for_another_id_or_env() {
        let f = files(NAME);
        let (code, json, err) = verify(&f, "WEBHOOK_ID", &[]);
        assert_eq!(code, Some(0), "{err}");
        assert_eq!(json, serde_json::json!({"verdict": "verified"}));

        let (code, json, err) = verify(&f, "ANOTHER", &[]);
        assert_eq!(code, Some(1));
        assert_eq!(json["reason"], "signature_mismatch");
        assert!(err.starts_with("ipnkit: signature_mismatch"), "{err}");

        let (code, json, _) = verify(&f, "WEBHOOK_ID", &["--env", "sandbox"]);
        assert_eq!(
            (code, json["reason"].as_str()),
            (Some(1), Some("cert_url_host"))
        );

        // Verified at its time; refused long after (the replay window, the certificate's dates).
        let (code, json, _) = verify(&f, "WEBHOOK_ID", &["--at", "2026-12-07T00:00:00Z"]);
        assert_eq!(
            (code, json["reason"].as_str()),
            (Some(1), Some("stale_transmission"))
        );
    }

    #[test]
    fn verify_retries_an_unreadable_certificate_and_refuses_bad_input_with_its_code() {
        let f = files(NAME);
        std::fs::write(f.dir.path().join("cert.pem"), "<html>503</html>").unwrap();
        let (code, json, _) = verify(&f, "WEBHOOK_ID", &[]);
        assert_eq!(
            (code, json["reason"].as_str()),
            (Some(3), Some("unrecognized_body"))
        );

        let f = files(NAME);
        let headers = std::fs::read_to_string(f.dir.path().join("headers")).unwrap();
        let without: String = headers
            .lines()
            .filter(|l| !l.starts_with("Paypal-Cert-Url"))
            .map(|l| format!("{l}\n"))
            .collect();
        std::fs::write(f.dir.path().join("headers"), without).unwrap();
        let (code, _, err) = verify(&f, "WEBHOOK_ID", &[]);
        assert_eq!(code, Some(1));
        assert!(err.starts_with("ipnkit: missing_header"), "{err}");
        assert!(err.contains("PAYPAL-CERT-URL"), "{err}");

        let f = files(NAME);
        let (code, _, _) = verify(&f, "WEBHOOK_ID", &["--at", "yesterday"]);
        assert_eq!(code, Some(2));
        let (code, _, _) = verify(&f, "a|b", &[]);
        assert_eq!(code, Some(2));
        std::fs::write(
            f.dir.path().join("headers"),
            "POST / HTTP/1.1\nnot a header\n",
        )
        .unwrap();
        let (code, _, _) = verify(&f, "WEBHOOK_ID", &[]);
        assert_eq!(code, Some(4));
    }

    #[test]
    fn parse_prints_the_event_s_canonical_json() {
        let body = support::webhooks_dir().join(format!("{NAME}.body"));
        let out = ipnkit(&["webhook", "parse", "--body", body.to_str().unwrap()], b"");
        assert!(out.status.success(), "{}", stderr(&out));
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(json["event"], "payment_refunded");
        assert_eq!(
            json["resource"]["amount"],
            serde_json::json!({"amount": "-0.01", "currency": "USD"})
        );
        let out = ipnkit(
            &["webhook", "parse", "--body", "-"],
            br#"{"id":"a","id":"b"}"#,
        );
        assert_eq!(out.status.code(), Some(1));
        assert!(
            stderr(&out).starts_with("ipnkit: duplicate_key"),
            "{}",
            stderr(&out)
        );
    }
}
