//! Load: the stand-in delivers a few thousand distinct payments with concurrency to the
//! reference listener (SQLite with a synced commit per message), in one run three ways, each on a
//! fresh store:
//! - by IPN (each posted back to the stand-in);
//! - by webhook (each verified offline: the certificate fetched once and kept in the store);
//! - by both, the same payments at once (each acted on once, the other copy a duplicate).
//!
//! Reports, for each, the rate at which deliveries are stored and answered 200, the latency of
//! that answer (p50, p99), and the rate at which they are then verified and settled.
//!
//! `cargo bench -p ipnkit-server --bench listener_load` runs 3,000 payments with 16 senders;
//! `cargo test` runs it as a smoke test with 100.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use ipnkit_server::sandbox::webhook_for_ipn;
use ipnkit_server::{Config, Db, Faults, Listener, Orders, Sandbox, Schedule, Webhooks, store};

const WEBHOOK_ID: &str = "WH-LOAD-1AB23456CD789012E";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Channels {
    Ipn,
    Webhook,
    Both,
}

fn run(channels: Channels, dir: &Path, count: usize, senders: usize) {
    let name = match channels {
        Channels::Ipn => "ipn",
        Channels::Webhook => "webhook",
        Channels::Both => "both",
    };
    let db = dir.join(format!("load-{name}.sqlite"));
    let sandbox = Sandbox::start("127.0.0.1:0", Faults::default()).unwrap();
    // The shop's order book: one order a payment, matched by invoice.
    let orders = dir.join("orders.jsonl");
    let lines: Vec<String> = (0..count)
        .map(|i| format!(r#"{{"invoice": "load-{i}", "amount": "19.95", "currency": "USD"}}"#))
        .collect();
    std::fs::write(&orders, lines.join("\n")).unwrap();
    let base = Config::for_stand_in(sandbox.url(), db.clone(), &["shop@example.net"]).unwrap();
    let verifier = sandbox.webhook_verifier(&base.host, WEBHOOK_ID).unwrap();
    let listener = Listener::start(Config {
        orders: Orders::File(orders),
        postback_timeout: Duration::from_secs(5),
        webhooks: Some(Webhooks::new("/webhook", verifier)),
        ..base
    })
    .unwrap();
    let ipns: Vec<Vec<u8>> = (0..count)
        .map(|i| {
            format!(
                "txn_type=web_accept&txn_id=LOAD{i:013}&payment_status=Completed&mc_gross=19.95\
                 &mc_currency=USD&receiver_email=shop%40example.net&first_name=J%F6rg\
                 &payment_date=20%3A12%3A59+Jan+13%2C+2009+PST&charset=windows-1252&invoice=load-{i}&test_ipn=1"
            )
            .into_bytes()
        })
        .collect();
    let webhooks: Vec<Vec<u8>> = ipns.iter().map(|m| webhook_for_ipn(m).unwrap()).collect();
    let webhook_url = listener.webhook_url().unwrap().to_owned();

    let started = Instant::now();
    std::thread::scope(|scope| {
        if channels != Channels::Ipn {
            scope.spawn(|| {
                let schedule = Schedule::Compressed;
                sandbox.deliver_webhooks(
                    &webhook_url,
                    WEBHOOK_ID,
                    &webhooks,
                    schedule,
                    senders,
                    &|_, _| {},
                );
            });
        }
        if channels != Channels::Webhook {
            sandbox.deliver(
                listener.url(),
                &ipns,
                Schedule::Compressed,
                senders,
                &|_, _| {},
            );
        }
    });
    let answered = started.elapsed();
    let mut store = store::open(&Db::from(db.as_path())).unwrap();
    let counts = store::wait_settled(store.as_mut(), Duration::from_secs(600), &|_| {}).unwrap();
    let settled = started.elapsed();
    assert_eq!(counts.unsettled(), 0, "not settled: {counts:?}");
    assert_eq!(counts.accepted, count as i64, "{counts:?}");
    let deliveries = if channels == Channels::Both {
        2 * count
    } else {
        count
    };
    assert_eq!(
        counts.accepted + counts.duplicate,
        deliveries as i64,
        "{counts:?}"
    );
    assert_eq!(sandbox.report().abandoned, 0);

    let ms = |q: f64| sandbox.latency_quantile(q).as_secs_f64() * 1000.0;
    println!(
        "listener_load {name}: {deliveries} deliveries of {count} payments, {senders} senders\n  \
         stored and answered 200: {:.0} deliveries/s ({:.2} s); latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms\n  \
         verified and settled:    {:.0} deliveries/s ({:.2} s from the first delivery)",
        deliveries as f64 / answered.as_secs_f64(),
        answered.as_secs_f64(),
        ms(0.50),
        ms(0.99),
        ms(1.0),
        deliveries as f64 / settled.as_secs_f64(),
        settled.as_secs_f64(),
    );
    listener.stop();
    sandbox.stop();
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let (count, senders) = if bench { (3000, 16) } else { (100, 4) };
    let dir = std::env::temp_dir().join(format!("ipnkit-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for channels in [Channels::Ipn, Channels::Webhook, Channels::Both] {
        run(channels, &dir, count, senders);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
