//! Each event sink of the reference listener receives one JSON line per accepted message: a
//! command's standard input, a URL (each POST signed when a secret is set), a file (the
//! end-to-end suite covers files too).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipnkit::signature::{HEADER, Secret, verify};
use ipnkit_server::local::{Answer, Reply, Server};
use ipnkit_server::{Config, Faults, Listener, Orders, Sandbox, Schedule, Sink};

fn messages() -> Vec<Vec<u8>> {
    (1..=3)
        .map(|i| {
            format!(
                "txn_type=web_accept&txn_id=SINK{i:013}&payment_status=Completed&mc_gross={i}.00\
                 &mc_currency=USD&receiver_email=shop%40example.net&invoice=sink-{i}&test_ipn=1"
            )
            .into_bytes()
        })
        .collect()
}

fn run(sink: Sink, db: &Path, until: impl Fn() -> bool) {
    let orders = db.with_extension("orders.jsonl");
    let lines: Vec<String> = (1..=3)
        .map(|i| format!(r#"{{"invoice": "sink-{i}", "amount": "{i}.00", "currency": "USD"}}"#))
        .collect();
    std::fs::write(&orders, lines.join("\n")).unwrap();
    let sandbox = Sandbox::start("127.0.0.1:0", Faults::default()).unwrap();
    let listener = Listener::start(Config {
        sink,
        orders: Orders::File(orders),
        ..Config::for_stand_in(sandbox.url(), db.to_path_buf(), &["shop@example.net"]).unwrap()
    })
    .unwrap();
    sandbox.deliver(
        listener.url(),
        &messages(),
        Schedule::Compressed,
        2,
        &|_, _| {},
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !until() {
        assert!(
            Instant::now() < deadline,
            "the sink did not get every event"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    listener.stop();
    sandbox.stop();
}

fn keys(lines: &str) -> Vec<String> {
    let mut keys: Vec<String> = lines
        .lines()
        .map(|l| {
            let event = serde_json::from_str::<serde_json::Value>(l).unwrap();
            assert_eq!(event["outcome"], "accepted", "{l}");
            assert_eq!(event["ship"], true, "{l}");
            event["key"].as_str().unwrap().to_owned()
        })
        .collect();
    keys.sort();
    keys
}

fn expected_keys() -> Vec<String> {
    (1..=3)
        .map(|i| format!("txn:SINK{i:013}:Completed"))
        .collect()
}

#[test]
fn a_command_gets_one_line_per_accepted_event() {
    let dir = std::env::temp_dir().join(format!("ipnkit-sink-cmd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("events.jsonl");
    let command = format!("cat >> '{}'", out.display());
    let read = || std::fs::read_to_string(&out).unwrap_or_default();
    run(Sink::Command(command), &dir.join("db.sqlite"), || {
        read().lines().count() >= 3
    });
    assert_eq!(keys(&read()), expected_keys());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_url_gets_one_signed_post_per_accepted_event() {
    let dir = std::env::temp_dir().join(format!("ipnkit-sink-url-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let received = Arc::new(Mutex::new(Vec::<(String, Option<String>)>::new()));
    let got = Arc::clone(&received);
    let server = Server::start("127.0.0.1:0", move |request| {
        assert_eq!(request.target, "/events");
        let signature = request
            .headers
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = String::from_utf8(request.body).unwrap();
        got.lock().unwrap().push((body, signature));
        Reply::Answer(Answer::new(204, ""))
    })
    .unwrap();
    let url = format!("{}/events", server.url());
    let secret = Secret::new(b"shared with the shop").unwrap();
    run(
        Sink::Url(url, Some(secret.clone())),
        &dir.join("db.sqlite"),
        || received.lock().unwrap().len() >= 3,
    );
    let received = received.lock().unwrap().clone();
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    for (body, signature) in &received {
        let signature = signature.as_deref().expect("every POST is signed");
        assert_eq!(
            verify(&secret, signature, body.as_bytes(), now, 300),
            Ok(())
        );
        // Another secret, or a body changed on the way, is refused.
        let other = Secret::new(b"not the shop's").unwrap();
        assert!(verify(&other, signature, body.as_bytes(), now, 300).is_err());
        assert!(verify(&secret, signature, format!("{body} ").as_bytes(), now, 300).is_err());
    }
    let lines: Vec<&str> = received.iter().map(|(b, _)| b.as_str()).collect();
    assert_eq!(keys(&lines.join("\n")), expected_keys());
    server.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
