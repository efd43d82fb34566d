//! The reference listener against the PayPal stand-in, with every fault on and a crash in the
//! middle of the run: every delivered message ends up verified and processed exactly once, none
//! is lost, and a message tampered with after delivery ends INVALID.

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
    ListenerProcess, deliver_across_a_crash, event_keys, states_by_body, wait_settled_and_sent,
};
use ipnkit_server::sandbox::{as_sandbox_message, client, load_messages};
use ipnkit_server::{Db, Faults, Sandbox, store};

fn vectors() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let mut messages = load_messages(&[dir]).unwrap();
    // And enough distinct payments that the crash lands mid-run.
    for i in 0..60 {
        messages.push(
            format!(
                "txn_type=web_accept&txn_id=E2E{i:014}&payment_status=Completed&mc_gross={i}.00\
                 &mc_currency=USD&receiver_email=shop%40example.net&custom=order-{i}&test_ipn=1"
            )
            .into_bytes(),
        );
    }
    messages
}

/// The shop's orders for the generated payments (the vectors' payments name no order of this
/// shop: they are refused with `order_not_found`, and reported).
fn orders(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("orders.jsonl");
    let lines: Vec<String> = (0..60)
        .map(|i| format!(r#"{{"custom": "order-{i}", "amount": "{i}.00", "currency": "USD"}}"#))
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

fn listener_args(db: &Path, events: &Path, sandbox: &str, listen: &str) -> Vec<String> {
    [
        "--listen",
        listen,
        "--env",
        "sandbox",
        "--verify-url",
        sandbox,
        "--receiver-email",
        "shop@example.net",
        "--fast-retry",
        "--postback-timeout",
        "1",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        "--db".to_owned(),
        db.display().to_string(),
        "--events-file".to_owned(),
        events.display().to_string(),
        "--orders-file".to_owned(),
        orders(db.parent().unwrap()).display().to_string(),
    ])
    .collect()
}

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
    let messages = vectors();
    let distinct: HashSet<Vec<u8>> = messages.iter().map(|m| as_sandbox_message(m)).collect();

    // Crash the listener once a third of the messages are in, then start it again on the same
    // address and store.
    let restarted = deliver_across_a_crash(&sandbox, &url, &messages, listener, || {
        ListenerProcess::spawn(&listener_args(&db, &events, sandbox.url(), &address))
    });

    // A message changed after delivery (one byte of its amount): PayPal never sent it.
    let mut tampered = as_sandbox_message(&messages[messages.len() - 1]);
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

    // Every distinct message: stored and settled; acted on (accepted) at most once, every other
    // copy of an accepted message a duplicate. (Refusals are not actions: each copy is refused.)
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
    for body in &distinct {
        let states = by_body
            .get(body)
            .unwrap_or_else(|| panic!("lost: {}", String::from_utf8_lossy(body)));
        let text = String::from_utf8_lossy(body);
        let accepted = states.iter().filter(|s| *s == "accepted").count();
        assert!(accepted <= 1, "{states:?} for {text}");
        if states.iter().any(|s| s == "stale") {
            assert!(
                accepted_lookups.contains(&lookup(body)),
                "stale without a later state acted on: {states:?} for {text}"
            );
        }
        if accepted == 1 {
            assert!(
                states.iter().all(|s| s == "accepted" || s == "duplicate"),
                "{states:?} for {text}"
            );
        } else {
            assert!(
                states
                    .iter()
                    .all(|s| s == "refused" || s == "duplicate" || s == "stale"),
                "{states:?} for {text}"
            );
        }
    }
    assert_eq!(
        by_body.get(&tampered).map(Vec::as_slice),
        Some(&["invalid".to_owned()][..])
    );
    assert!(sandbox.report().invalid >= 1);

    // Each accepted message reached the sink, under its own delivery key.
    let lines = std::fs::read_to_string(&events).unwrap();
    let keys: HashSet<String> = event_keys(&lines).into_iter().collect();
    assert_eq!(keys.len() as i64, counts.accepted, "{counts:?}");
    assert!(counts.accepted >= 60, "{counts:?}");

    drop(restarted);
    sandbox.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
