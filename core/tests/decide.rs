//! The host API's `Notification::decide` against the rules' own entry point, `Policy::check`,
//! on every corpus body and vector, for every kind of answer: the same violations, and the
//! action follows from them.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs;

use ipnkit::{
    Action, Answer, Config, Decision, Expected, Limits, Notification, Refusal, Violation,
};

mod support;

use support::{corpus_dir, files_in, vectors_dir};

#[test]
fn decide_agrees_with_the_policy_on_every_message_and_answer() {
    let config = Config::from_json(
        r#"{"environment": "sandbox", "receiver_emails": ["seller@example.com"]}"#,
    )
    .unwrap();
    let expectations = [
        Expected::from_json(r#"{"any_amount": true}"#).unwrap(),
        Expected::from_json(r#"{"amount": "10.00", "currency": "USD"}"#).unwrap(),
    ];
    let answers: [(u16, &[u8]); 4] = [
        (200, b"VERIFIED"),
        (200, b"INVALID"),
        (503, b"VERIFIED"),
        (200, b"<html>"),
    ];
    for path in files_in(&corpus_dir(), ".body")
        .into_iter()
        .chain(files_in(&vectors_dir(), ".body"))
    {
        let raw = fs::read(&path).unwrap();
        let n = Notification::new(raw, Limits::DEFAULT).unwrap();
        let message = n
            .message()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for expected in &expectations {
            for (status, body) in answers {
                let decision = n
                    .decide(
                        Answer::Http { status, body },
                        &config,
                        expected,
                        &[] as &[&str],
                    )
                    .unwrap();
                // The rules' own entry point: only PayPal's VERIFIED lets them run.
                let (report, accepted) =
                    match ipnkit::Verified::from_response(message.clone(), status, body) {
                        Ok(verified) => {
                            let report = config.policy().check(&verified, expected);
                            let accepted = report.is_accept();
                            (report, accepted)
                        }
                        Err(_) => (ipnkit::Report::not_verified(), false),
                    };
                let what = format!("{} {status} {body:?}", path.display());
                assert_eq!(violations(&decision), report.violations, "{what}");
                assert_eq!(decision.action() == Action::Act, accepted, "{what}");
            }
        }
    }
}

/// The violations a decision carries: the rules' when they refused, `not_verified` for
/// PayPal's INVALID or an answer that could not be used (the policy's own entry point says that
/// for both), none otherwise.
fn violations(decision: &Decision) -> Vec<Violation> {
    match decision {
        Decision::Refuse(Refusal::Rules { violations, .. }) => violations.clone(),
        Decision::Refuse(Refusal::NotVerified) | Decision::Retry(_) => {
            ipnkit::Report::not_verified().violations
        }
        Decision::Refuse(Refusal::Unreadable { .. }) | Decision::Act(_) | Decision::Skip(_) => {
            Vec::new()
        }
    }
}
