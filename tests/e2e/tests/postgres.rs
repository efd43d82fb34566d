//! Two `ipnkit listen` processes on one PostgreSQL database, behind a round-robin of
//! deliveries from the PayPal stand-in with every fault on; one of them is killed (SIGKILL)
//! mid-run and started again. Every delivered message is stored, verified and settled once,
//! every payment with an order is accepted exactly once, every event in the store reaches a
//! sink, and nothing is lost.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use ipnkit_e2e::{
    ListenerProcess, RoundRobin, TestPostgres, deliver_across_a_crash, shop_listener_args,
    states_by_body, wait_settled_and_sent,
};
use ipnkit_server::sandbox::{as_sandbox_message, load_messages};
use ipnkit_server::{Db, Faults, Sandbox, store};

/// The generated payments (each has an order: each must be accepted exactly once).
const PAYMENTS: usize = 60;

fn payment(i: usize) -> Vec<u8> {
    format!(
        "txn_type=web_accept&txn_id=PG{i:014}&payment_status=Completed&mc_gross={i}.00\
         &mc_currency=USD&receiver_email=shop%40example.net&custom=order-{i}&test_ipn=1"
    )
    .into_bytes()
}

fn messages() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors");
    let mut messages = load_messages(&[dir]).unwrap();
    messages.extend((0..PAYMENTS).map(payment));
    messages
}

fn orders(dir: &Path) -> PathBuf {
    let path = dir.join("orders.jsonl");
    let lines: Vec<String> = (0..PAYMENTS)
        .map(|i| format!(r#"{{"custom": "order-{i}", "amount": "{i}.00", "currency": "USD"}}"#))
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

#[test]
fn two_listeners_on_one_database_process_every_message_once_across_a_crash() {
    let pg = TestPostgres::start();
    let db = pg.database("listeners");
    let dir = std::env::temp_dir().join(format!("ipnkit-e2e-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let orders = orders(&dir);
    let (events_a, events_b) = (dir.join("events-a.jsonl"), dir.join("events-b.jsonl"));

    let sandbox = Sandbox::start("127.0.0.1:0", Faults::all()).unwrap();
    let a = ListenerProcess::spawn(&shop_listener_args(
        &db,
        &events_a,
        &orders,
        sandbox.url(),
        "127.0.0.1:0",
    ));
    let b = ListenerProcess::spawn(&shop_listener_args(
        &db,
        &events_b,
        &orders,
        sandbox.url(),
        "127.0.0.1:0",
    ));
    let address_a = a.address();
    let balancer = RoundRobin::start(vec![a.base(), b.base()]);
    let messages = messages();
    let distinct: HashSet<Vec<u8>> = messages.iter().map(|m| as_sandbox_message(m)).collect();

    let restarted = deliver_across_a_crash(&sandbox, &balancer.url, &messages, a, || {
        ListenerProcess::spawn(&shop_listener_args(
            &db,
            &events_a,
            &orders,
            sandbox.url(),
            &address_a,
        ))
    });
    let sent = balancer.sent();
    assert!(
        sent.iter().all(|n| *n > 10),
        "both listeners received: {sent:?}"
    );

    let mut store = store::open(&Db::Postgres(db.clone())).unwrap();
    let counts = wait_settled_and_sent(store.as_mut());
    assert_eq!(counts.unreadable, 0, "{counts:?}");

    // Every distinct message stored; each settled in one final state per copy.
    let by_body = states_by_body(store.as_mut());
    for body in &distinct {
        let states = by_body
            .get(body)
            .unwrap_or_else(|| panic!("lost: {}", String::from_utf8_lossy(body)));
        let accepted = states.iter().filter(|s| *s == "accepted").count();
        assert!(
            accepted <= 1,
            "{states:?} for {}",
            String::from_utf8_lossy(body)
        );
        if accepted == 1 {
            assert!(
                states.iter().all(|s| s == "accepted" || s == "duplicate"),
                "{states:?}"
            );
        }
    }
    // Each payment with an order: accepted exactly once, every other copy a duplicate.
    for i in 0..PAYMENTS {
        let states = &by_body[&as_sandbox_message(&payment(i))];
        assert_eq!(
            states.iter().filter(|s| *s == "accepted").count(),
            1,
            "payment {i}: {states:?}"
        );
    }

    // The sinks: both files together hold every event in the store, each line as stored. An
    // event is handed over at least once: one written by the killed process just before it could
    // mark it sent is written again by the next leader (at most one: events go one at a time).
    let mut written: Vec<(i64, String)> = Vec::new();
    for file in [&events_a, &events_b] {
        for line in std::fs::read_to_string(file).unwrap_or_default().lines() {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            written.push((event["id"].as_i64().unwrap(), line.to_owned()));
        }
    }
    let stored = store.events().unwrap();
    let lines_by_id: HashMap<i64, &str> =
        stored.iter().map(|(id, _, l)| (*id, l.as_str())).collect();
    for (id, line) in &written {
        assert_eq!(
            lines_by_id.get(id),
            Some(&line.as_str()),
            "event {id} as written"
        );
    }
    let ids: HashSet<i64> = written.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        ids,
        lines_by_id.keys().copied().collect::<HashSet<_>>(),
        "every event, in a sink"
    );
    assert!(
        written.len() - ids.len() <= 1,
        "{} events written twice",
        written.len() - ids.len()
    );
    let accepted_events = stored
        .iter()
        .filter(|(_, _, l)| l.contains(r#""outcome":"accepted""#))
        .count();
    assert_eq!(accepted_events as i64, counts.accepted, "{counts:?}");

    // Each answers its health check from the shared store.
    for listener in [&restarted, &b] {
        assert_eq!(listener.get("/health"), r#"{"status":"ok","unsettled":0}"#);
    }

    // Both stop cleanly on SIGTERM (their connections closed, exit 0).
    assert!(
        restarted.terminate(),
        "the restarted listener did not stop cleanly"
    );
    assert!(b.terminate(), "the second listener did not stop cleanly");
    drop(balancer);
    sandbox.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
