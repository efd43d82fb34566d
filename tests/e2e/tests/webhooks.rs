//! A shop in migration: the same payments arrive by IPN and by webhook, with every fault on
//! (webhook forgeries, redeliveries, out of order, a certificate fetch that fails then hangs) and
//! a listener killed (SIGKILL) mid-run. On SQLite (one listener) and on PostgreSQL (two
//! listeners behind a round robin, one of them killed): each payment is acted on exactly once
//! across both channels, whichever arrives first; no forged webhook is accepted; the
//! certificate is kept in the store and never fetched again once it is there.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use ipnkit_e2e::{
    ListenerProcess, RoundRobin, TestPostgres, crash_while, shop_listener_args,
    wait_settled_and_sent,
};
use ipnkit_server::sandbox::{as_sandbox_message, webhook_for_ipn};
use ipnkit_server::{Db, Faults, Sandbox, Schedule, store};

const PAYMENTS: usize = 40;
/// Payments below this arrive by webhook first (their IPN later); the others by IPN first.
const WEBHOOK_FIRST: usize = PAYMENTS / 2;
const WEBHOOK_ID: &str = "WH-E2E-9XL42937AB123456C";

fn ipn(i: usize) -> Vec<u8> {
    format!(
        "txn_type=web_accept&txn_id=WH{i:015}&payment_status=Completed&mc_gross={i}.50\
         &mc_currency=EUR&receiver_email=shop%40example.net&invoice=inv-{i}&test_ipn=1"
    )
    .into_bytes()
}

fn webhook(i: usize) -> Vec<u8> {
    webhook_for_ipn(&as_sandbox_message(&ipn(i))).unwrap()
}

fn key(i: usize) -> String {
    format!("txn:WH{i:015}:Completed")
}

fn orders(dir: &Path) -> PathBuf {
    let path = dir.join("orders.jsonl");
    let lines: Vec<String> = (0..PAYMENTS)
        .map(|i| format!(r#"{{"invoice": "inv-{i}", "amount": "{i}.50", "currency": "EUR"}}"#))
        .collect();
    std::fs::write(&path, lines.join("\n")).unwrap();
    path
}

/// The shop's listener, taking webhooks too and trusting the stand-in at `sandbox` for them.
fn listener_args(
    db: &str,
    events: &Path,
    orders: &Path,
    sandbox: &str,
    listen: &str,
) -> Vec<String> {
    let mut args = shop_listener_args(db, events, orders, sandbox, listen);
    args.extend(["--webhook-id", WEBHOOK_ID, "--webhook-stand-in", sandbox].map(String::from));
    args
}

/// Delivers `ipns` to `ipn_url` and `webhooks` to `webhook_url` at the same time.
fn deliver_both(
    sandbox: &Sandbox,
    (ipn_url, ipns): (&str, &[Vec<u8>]),
    (webhook_url, webhooks): (&str, &[Vec<u8>]),
) {
    std::thread::scope(|scope| {
        scope.spawn(|| {
            sandbox.deliver_webhooks(
                webhook_url,
                WEBHOOK_ID,
                webhooks,
                Schedule::Compressed,
                4,
                &|_, _| {},
            );
        });
        sandbox.deliver(ipn_url, ipns, Schedule::Compressed, 4, &|_, _| {});
    });
}

/// The run, on the store `db` (its `--db`), with one listener or two behind a round robin.
fn a_shop_in_migration(db: &str, two: bool, dir: &Path) {
    let orders = orders(dir);
    let events: Vec<PathBuf> = ["a", "b"]
        .iter()
        .map(|n| dir.join(format!("events-{n}.jsonl")))
        .collect();
    let sandbox = Sandbox::start("127.0.0.1:0", Faults::all()).unwrap();
    let spawn = |n: usize, listen: &str| {
        ListenerProcess::spawn(&listener_args(
            db,
            &events[n],
            &orders,
            sandbox.url(),
            listen,
        ))
    };
    let victim = spawn(0, "127.0.0.1:0");
    let address = victim.address();
    let other = two.then(|| spawn(1, "127.0.0.1:0"));
    let balancer = other
        .as_ref()
        .map(|b| RoundRobin::start(vec![victim.base(), b.base()]));
    let (ipn_url, webhook_url) = match &balancer {
        Some(balancer) => (balancer.url.clone(), balancer.webhook_url.clone()),
        None => (victim.url.clone(), format!("{}/webhook", victim.base())),
    };
    let ipns: Vec<Vec<u8>> = (0..PAYMENTS).map(ipn).collect();
    let webhooks: Vec<Vec<u8>> = (0..PAYMENTS).map(webhook).collect();

    // First: webhooks for the first half, IPN for the second, with a crash.
    let first = || {
        deliver_both(
            &sandbox,
            (&ipn_url, &ipns[WEBHOOK_FIRST..]),
            (&webhook_url, &webhooks[..WEBHOOK_FIRST]),
        );
    };
    let restarted = crash_while(&sandbox, &first, PAYMENTS as u64, victim, || {
        spawn(0, &address)
    });
    let mut store = store::open(&db.parse::<Db>().unwrap()).unwrap();
    wait_settled_and_sent(store.as_mut());
    let fetched = sandbox.report().certificate_fetches;
    assert!(
        fetched >= 3,
        "the leaf fetched (503, hung, then served): {fetched}"
    );

    // Then: the other channel for each, no crash.
    deliver_both(
        &sandbox,
        (&ipn_url, &ipns[..WEBHOOK_FIRST]),
        (&webhook_url, &webhooks[WEBHOOK_FIRST..]),
    );
    let counts = wait_settled_and_sent(store.as_mut());
    let report = sandbox.report();
    assert_eq!(report.abandoned, 0, "{report:?}");
    assert_eq!(
        report.certificate_fetches, fetched,
        "the certificate, kept in the store, was fetched again"
    );
    assert_eq!(counts.unreadable, 0, "{counts:?}");

    // Each payment acted on once, by the channel that brought it first.
    let lines: Vec<serde_json::Value> = store
        .events()
        .unwrap()
        .iter()
        .map(|(_, _, line)| serde_json::from_str(line).unwrap())
        .collect();
    let accepted: HashMap<String, &str> = lines
        .iter()
        .filter(|e| e["outcome"] == "accepted")
        .map(|e| {
            (
                e["key"].as_str().unwrap().to_owned(),
                e["channel"].as_str().unwrap(),
            )
        })
        .collect();
    let accepted_events = lines.iter().filter(|e| e["outcome"] == "accepted").count();
    assert_eq!(accepted_events, PAYMENTS, "an accepted event per payment");
    for i in 0..PAYMENTS {
        let channel = if i < WEBHOOK_FIRST { "webhook" } else { "ipn" };
        assert_eq!(accepted.get(&key(i)).copied(), Some(channel), "payment {i}");
    }
    assert!(
        lines
            .iter()
            .all(|e| e["ship"] == (e["outcome"] == "accepted")),
        "every accepted payment matched its order"
    );

    // Every webhook copy stored: a forgery (as the stand-in says) refused for its reason, every
    // other one verified (accepted once, or a duplicate).
    let snapshot = store.snapshot().unwrap();
    let genuine: BTreeSet<&[u8]> = webhooks.iter().map(Vec::as_slice).collect();
    let mut refused = BTreeSet::new();
    let mut forged_stored = 0;
    for m in snapshot.messages.iter().filter(|m| m.headers.is_some()) {
        let forged = sandbox.forged_row(m);
        assert!(
            forged.is_some(),
            "stored headers without a transmission id: {m:?}"
        );
        if forged == Some(true) {
            assert_eq!(m.state, "invalid", "a forgery: {m:?}");
            forged_stored += 1;
            refused.insert(m.detail.clone().unwrap());
        } else {
            assert!(
                ["accepted", "duplicate"].contains(&m.state.as_str())
                    && genuine.contains(&m.body[..]),
                "a webhook PayPal signed: {m:?}"
            );
        }
    }
    assert!(
        report.forged > 0 && forged_stored >= report.forged,
        "{report:?}"
    );
    assert_eq!(
        refused.into_iter().collect::<Vec<_>>(),
        ["cert_url_host", "certificate_time", "signature_mismatch"],
        "each forgery refused for its reason"
    );

    if let (Some(other), Some(balancer)) = (other, balancer) {
        assert!(
            balancer.sent().iter().all(|n| *n > 10),
            "{:?}",
            balancer.sent()
        );
        assert!(
            other.terminate(),
            "the second listener did not stop cleanly"
        );
    }
    assert!(restarted.terminate(), "the listener did not stop cleanly");
    sandbox.stop();
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipnkit-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn sqlite_one_listener_acts_once_per_payment_across_both_channels_and_a_crash() {
    let dir = temp_dir("webhooks-sqlite");
    let db = dir.join("listener.sqlite").display().to_string();
    a_shop_in_migration(&db, false, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn postgres_two_listeners_act_once_per_payment_across_both_channels_and_a_crash() {
    let pg = TestPostgres::start();
    let db = pg.database("webhooks");
    let dir = temp_dir("webhooks-pg");
    a_shop_in_migration(&db, true, &dir);
    let _ = std::fs::remove_dir_all(&dir);
}
