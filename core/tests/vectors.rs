//! The cross-language vectors in `tests/vectors/` (hand-written, shared by every binding):
//! each `NAME.body` decodes to the pairs in `NAME.fields.json` (written by Python's standard
//! library, an independent decoder), and each `malformed/CODE--detail.body` is refused — by the
//! decoder or by the typed model — with the error code its name starts with, while its postback
//! stays byte-exact; each `unreadable/CODE--detail.body` parses, with a notice of that code on one
//! variable whose text is kept. `NAME.json`, the golden canonical JSON, is checked by `golden.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;

use ipnkit::{Body, ERROR_CODES, Error, Message};

mod support;

use support::vectors_dir;

use support::files_in;

#[test]
fn each_vector_decodes_to_its_field_list() {
    for path in files_in(&vectors_dir(), ".body") {
        let raw = fs::read(&path).unwrap();
        let expected_path = path.with_extension("fields.json");
        let expected: Vec<(String, String)> = serde_json::from_slice(
            &fs::read(&expected_path)
                .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
        )
        .unwrap();
        let body = Body::parse(&raw).unwrap();
        assert_eq!(
            body.postback(),
            [&b"cmd=_notify-validate&"[..], &raw].concat()
        );
        let fields = body
            .decode()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let got: Vec<(String, String)> = fields
            .iter()
            .map(|f| (f.key.to_string(), f.value.to_string()))
            .collect();
        assert_eq!(got, expected, "{}", path.display());
    }
}

#[test]
fn each_malformed_vector_is_refused_with_its_code() {
    let mut seen = Vec::new();
    for path in files_in(&vectors_dir().join("malformed"), ".body") {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let code = name.split("--").next().unwrap();
        assert!(
            ERROR_CODES.contains(&code),
            "{name}: {code} is not an error code"
        );
        let raw = fs::read(&path).unwrap();
        let result: Result<(), Error> = Body::parse(&raw).and_then(|body| {
            assert_eq!(
                body.postback(),
                [&b"cmd=_notify-validate&"[..], &raw].concat()
            );
            let fields = body.decode()?;
            Message::from_fields(fields).map(|_| ())
        });
        let err = result.expect_err(&name);
        assert_eq!(err.code(), code, "{name}: {err}");
        seen.push(code.to_owned());
    }
    for path in files_in(&vectors_dir().join("unreadable"), ".body") {
        seen.push(unreadable_vector(&path));
    }
    // Every error a message can cause has a vector (limits are configuration, tested elsewhere).
    for code in ERROR_CODES {
        let limit_or_config = matches!(
            *code,
            "body_too_large"
                | "too_many_fields"
                | "key_too_long"
                | "unknown_environment"
                | "invalid_delivery_key"
                | "invalid_configuration"
                | "wrong_type"
        );
        // A webhook's errors are a JSON body's and its headers': core/tests/webhooks.rs.
        let webhook = matches!(
            *code,
            "missing_header"
                | "repeated_header"
                | "header_too_large"
                | "invalid_header"
                | "invalid_json"
                | "invalid_field"
        );
        assert!(
            limit_or_config || webhook || seen.iter().any(|s| s == code),
            "no vector for {code}"
        );
    }
}

/// Checks one `unreadable/CODE--detail.body`: it parses, one notice of CODE names a variable whose
/// text is kept among the variables and in `extra`. Returns CODE.
fn unreadable_vector(path: &std::path::Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let code = name.split("--").next().unwrap().to_owned();
    let raw = fs::read(path).unwrap();
    let m = Message::parse(&raw).unwrap_or_else(|e| panic!("{name}: {e}"));
    let notices: Vec<_> = m
        .notices()
        .iter()
        .filter(|n| ERROR_CODES.contains(&n.code))
        .collect();
    assert_eq!(notices.len(), 1, "{name}: {notices:?}");
    let (notice_code, field) = (notices[0].code, notices[0].field.as_str());
    assert_eq!(notice_code, code, "{name}");
    assert!(m.is_unreadable(field), "{name}");
    let text = m.variables().get(field).unwrap();
    assert!(m.extra().any(|(k, v)| k == field && v == text), "{name}");
    code
}
