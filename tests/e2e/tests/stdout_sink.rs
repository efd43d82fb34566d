//! `ipnkit listen` without an events option writes one JSON line per event to its standard
//! output (refunds need no order: both are accepted).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Stdio;
use std::time::Duration;

use ipnkit_e2e::{ListenerProcess, event_keys, test_listener_args, wait_for};
use ipnkit_server::{Faults, Sandbox, Schedule};

#[test]
fn accepted_events_go_to_standard_output_by_default() {
    let dir = std::env::temp_dir().join(format!("ipnkit-e2e-stdout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("stdout.jsonl");
    let sandbox = Sandbox::start("127.0.0.1:0", Faults::default()).unwrap();
    let args = test_listener_args(sandbox.url(), &dir.join("db.sqlite"));
    let listener = ListenerProcess::spawn_with_stdout(
        &args,
        Stdio::from(std::fs::File::create(&out).unwrap()),
    );
    let messages: Vec<Vec<u8>> = ["A", "B"]
        .iter()
        .map(|t| {
            format!(
                "txn_type=web_accept&txn_id=STDOUT{t}&parent_txn_id=PARENT{t}\
                 &payment_status=Refunded&reason_code=refund&mc_gross=-1.00&mc_currency=USD\
                 &receiver_email=shop%40example.net&test_ipn=1"
            )
            .into_bytes()
        })
        .collect();
    sandbox.deliver(
        &listener.url,
        &messages,
        Schedule::Compressed,
        1,
        &|_, _| {},
    );
    let text = wait_for(Duration::from_secs(30), "two events on stdout", || {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        (text.lines().count() >= 2).then_some(text)
    });
    let mut keys = event_keys(&text);
    keys.sort();
    assert_eq!(
        keys,
        ["txn:STDOUTA:Refunded/refund", "txn:STDOUTB:Refunded/refund"]
    );
    drop(listener);
    sandbox.stop();
    let _ = std::fs::remove_dir_all(&dir);
}
