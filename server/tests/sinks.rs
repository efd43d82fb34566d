//! Each event sink of the reference listener receives one JSON line per accepted message: a
//! command's standard input, a URL, a file (the end-to-end suite covers files too).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ipnkit::{Environment, Policy, Verifier};
use ipnkit_server::{Backoff, Config, Faults, Listener, Sandbox, Schedule, Sink};

fn messages() -> Vec<Vec<u8>> {
    (1..=3)
        .map(|i| {
            format!(
                "txn_type=web_accept&txn_id=SINK{i:013}&payment_status=Completed&mc_gross={i}.00\
                 &mc_currency=USD&receiver_email=shop%40example.net&test_ipn=1"
            )
            .into_bytes()
        })
        .collect()
}

fn run(sink: Sink, db: &Path, until: impl Fn() -> bool) {
    let sandbox = Sandbox::start("127.0.0.1:0", Faults::default()).unwrap();
    let listener = Listener::start(Config {
        listen: "127.0.0.1:0".into(),
        db: db.to_path_buf(),
        verifier: Verifier::new(Environment::Sandbox).with_base_url_for_testing(sandbox.url()),
        policy: Policy::new(Environment::Sandbox).receiver_email("shop@example.net"),
        sink,
        postback_timeout: Duration::from_secs(2),
        backoff: Backoff::COMPRESSED,
        threads: 2,
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
            serde_json::from_str::<serde_json::Value>(l).unwrap()["key"]
                .as_str()
                .unwrap()
                .to_owned()
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
fn a_url_gets_one_post_per_accepted_event() {
    let dir = std::env::temp_dir().join(format!("ipnkit-sink-url-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let url = format!("http://{}/events", server.server_addr().to_ip().unwrap());
    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let (srv, got) = (Arc::clone(&server), Arc::clone(&received));
    let collector = std::thread::spawn(move || {
        for mut request in srv.incoming_requests() {
            let mut body = String::new();
            std::io::Read::read_to_string(request.as_reader(), &mut body).unwrap();
            assert_eq!(request.url(), "/events");
            got.lock().unwrap().push(body);
            let _ = request.respond(tiny_http::Response::empty(204));
        }
    });
    run(Sink::Url(url), &dir.join("db.sqlite"), || {
        received.lock().unwrap().len() >= 3
    });
    let lines = received.lock().unwrap().join("\n");
    assert_eq!(keys(&lines), expected_keys());
    server.unblock();
    let _ = collector.join();
    let _ = std::fs::remove_dir_all(&dir);
}
