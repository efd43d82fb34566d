//! The reference listener against the PayPal stand-in, with every fault on and a crash in the
//! middle of the run: every delivered message ends up verified and settled, none is lost; the
//! messages that must be acted on are accepted exactly once (the list is in this file), the
//! others never; the events file is the store's outbox line for line, each event once (the one
//! the crash interrupted included); and a message tampered with after delivery ends INVALID.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use ipnkit_e2e::{
    ListenerProcess, deliver_across_a_crash, event_keys, shop_listener_args, states_by_body,
    wait_settled_and_sent,
};
use ipnkit_server::client;
use ipnkit_server::sandbox::as_sandbox_message;
use ipnkit_server::{Db, Faults, Sandbox, store};

/// The messages delivered, each with its name: the vectors (`tests/vectors/*.body`, by file
/// name) and enough distinct payments (`payment-N`) that the crash lands mid-run.
fn messages() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| n.strip_suffix(".body").map(str::to_owned))
        .collect();
    names.sort();
    let mut messages: Vec<(String, Vec<u8>)> = names
        .into_iter()
        .map(|n| {
            let body = std::fs::read(dir.join(format!("{n}.body"))).unwrap();
            (n, body)
        })
        .collect();
    for i in 0..PAYMENTS {
        messages.push((
            format!("payment-{i}"),
            format!(
                "txn_type=web_accept&txn_id=E2E{i:014}&payment_status=Completed&mc_gross={i}.00\
                 &mc_currency=USD&receiver_email=shop%40example.net&custom=order-{i}&test_ipn=1"
            )
            .into_bytes(),
        ));
    }
    messages
}

const PAYMENTS: usize = 60;

/// The shop's orders for the generated payments (the vectors' payments name no order of this
/// shop: they are refused with `order_not_found`, and reported).
fn orders(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("orders.jsonl");
    let lines: Vec<String> = (0..PAYMENTS)
        .map(|i| format!(r#"{{"custom": "order-{i}", "amount": "{i}.00", "currency": "USD"}}"#))
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

fn listener_args(db: &Path, events: &Path, sandbox: &str, listen: &str) -> Vec<String> {
    let orders = orders(db.parent().unwrap());
    shop_listener_args(&db.display().to_string(), events, &orders, sandbox, listen)
}

/// The vectors the listener must accept (act on) exactly once each, with the generated
/// payments, whatever the faults and the crash: notifications that need no order (accounts,
/// agreements, profiles, disputes, refunds, reversals, denials…). Every other vector is refused
/// (its payment names no order of this shop, or is not final, or is not for this merchant).
const ACCEPTED_VECTORS: &[&str] = &[
    "adaptive_account--created",
    "adaptive_preapproval--active",
    "adjustment--dispute_resolved",
    "chargeback--no_txn_type",
    "express_checkout--authorization_expired",
    "express_checkout--authorization_voided",
    "mp_cancel--billing_agreement",
    "mp_signup--billing_agreement",
    "new_case--complaint",
    "recurring_payment_expired",
    "recurring_payment_failed",
    "recurring_payment_profile_cancel",
    "recurring_payment_profile_created--trial",
    "recurring_payment_skipped",
    "recurring_payment_suspended",
    "subscr_cancel--by_buyer",
    "subscr_eot--end_of_term",
    "subscr_failed--retry",
    "web_accept--canceled_reversal",
    "web_accept--denied",
    "web_accept--echeck_failed",
    "web_accept--refunded",
    "web_accept--reversed_chargeback",
];

/// The opening of the dispute `adjustment--dispute_resolved` resolves: accepted once when it is
/// processed first, stale (an earlier state of a case already acted on) when the resolution is.
const OPENING_OF_A_RESOLVED_CASE: &str = "new_case--chargeback";

#[test]
fn every_message_is_processed_exactly_once_across_a_crash() {
    let dir = std::env::temp_dir().join(format!("ipnkit-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (db, events) = (dir.join("listener.sqlite"), dir.join("events.jsonl"));

    let sandbox = Sandbox::start("127.0.0.1:0", Faults::all()).unwrap();
    let listener =
        ListenerProcess::spawn(&listener_args(&db, &events, sandbox.url(), "127.0.0.1:0"));
    let (url, address) = (listener.url.clone(), listener.address());
    let messages = messages();
    let bodies: Vec<Vec<u8>> = messages.iter().map(|(_, body)| body.clone()).collect();
    let distinct: HashSet<Vec<u8>> = bodies.iter().map(|m| as_sandbox_message(m)).collect();
    assert_eq!(distinct.len(), messages.len(), "two messages with one body");

    // Crash the listener once a third of the messages are in, then start it again on the same
    // address and store.
    let restarted = deliver_across_a_crash(&sandbox, &url, &bodies, listener, || {
        ListenerProcess::spawn(&listener_args(&db, &events, sandbox.url(), &address))
    });

    // A message changed after delivery (one byte of its amount): PayPal never sent it.
    let mut tampered = as_sandbox_message(&bodies[bodies.len() - 1]);
    let at = tampered.windows(9).position(|w| w == b"mc_gross=").unwrap() + 9;
    tampered[at] = if tampered[at] == b'9' { b'1' } else { b'9' };
    let answer = client(Duration::from_secs(5))
        .post(&restarted.url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(&tampered[..])
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);

    let mut store = store::open(&Db::from(db.as_path())).unwrap();
    let counts = wait_settled_and_sent(store.as_mut());
    assert_eq!(counts.unreadable, 0, "{counts:?}");

    // Every message: stored and settled. Those that must be accepted, accepted exactly once,
    // every other copy a duplicate; the others never accepted (each copy refused, or a duplicate
    // of a refusal already reported, or stale).
    let by_body = states_by_body(store.as_mut());
    // The lookup ids of the accepted messages: a message may be stale only when a later state of
    // the same thing (a resolved dispute delivered before its opening) was acted on.
    let lookup = |body: &[u8]| {
        let m = ipnkit::Message::parse(body).unwrap();
        ipnkit::DeliveryKey::of(&m).lookup_id().to_owned()
    };
    let accepted_lookups: HashSet<String> = by_body
        .iter()
        .filter(|(_, states)| states.iter().any(|s| s == "accepted"))
        .map(|(body, _)| lookup(body))
        .collect();
    let mut accepted_names = Vec::new();
    for (name, body) in &messages {
        let states = by_body
            .get(&as_sandbox_message(body))
            .unwrap_or_else(|| panic!("lost: {name}"));
        let accepted = states.iter().filter(|s| *s == "accepted").count();
        if accepted > 0 {
            accepted_names.push(name.as_str());
        }
        if name == OPENING_OF_A_RESOLVED_CASE {
            assert!(accepted <= 1, "{name}: {states:?}");
            assert!(
                states
                    .iter()
                    .all(|s| s == "accepted" || s == "duplicate" || s == "stale"),
                "{name}: {states:?}"
            );
            assert!(accepted == 1 || states.iter().any(|s| s == "stale"));
        } else if name.starts_with("payment-") || ACCEPTED_VECTORS.contains(&name.as_str()) {
            assert_eq!(accepted, 1, "{name}: {states:?}");
            assert!(
                states.iter().all(|s| s == "accepted" || s == "duplicate"),
                "{name}: {states:?}"
            );
        } else {
            assert!(
                states
                    .iter()
                    .all(|s| s == "refused" || s == "duplicate" || s == "stale"),
                "{name}: {states:?}"
            );
        }
        if states.iter().any(|s| s == "stale") {
            assert!(
                accepted_lookups.contains(&lookup(body)),
                "{name}: stale without a later state acted on: {states:?}"
            );
        }
    }
    let expected_accepted = PAYMENTS
        + ACCEPTED_VECTORS.len()
        + usize::from(accepted_names.contains(&OPENING_OF_A_RESOLVED_CASE));
    assert_eq!(
        (accepted_names.len(), counts.accepted),
        (expected_accepted, i64::try_from(expected_accepted).unwrap()),
        "accepted: {accepted_names:?}"
    );
    assert_eq!(
        by_body.get(&tampered).map(Vec::as_slice),
        Some(&["invalid".to_owned()][..])
    );
    assert!(sandbox.report().invalid >= 1);

    // The events file, line by line, is the store's outbox in order: each event written once,
    // the one the crash interrupted included (not written again by the restarted process).
    let written = std::fs::read_to_string(&events).unwrap();
    let written: Vec<&str> = written.lines().collect();
    let stored = store.events().unwrap();
    let stored: Vec<&str> = stored.iter().map(|(_, _, line)| line.as_str()).collect();
    if written != stored {
        let repeated: Vec<&&str> = written
            .iter()
            .enumerate()
            .filter(|(i, line)| written[..*i].contains(line))
            .map(|(_, line)| line)
            .collect();
        panic!(
            "the events file ({} lines) is not the outbox ({} events): written again: {repeated:?}",
            written.len(),
            stored.len()
        );
    }
    // Each accepted message's event under its own delivery key.
    let keys = event_keys(&written.join("\n"));
    assert_eq!(keys.len(), expected_accepted, "{keys:?}");
    assert_eq!(
        keys.iter().collect::<HashSet<_>>().len(),
        keys.len(),
        "a delivery key twice: {keys:?}"
    );

    drop(restarted);
    sandbox.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
