//! Parses the benchmark's corpus (every `.body` of the shared corpus and every `.fields.json`
//! put on the wire) `N` times, for instruction counts under callgrind
//! (`scripts/bench-instructions` runs it with two `N` and takes the difference, so that reading
//! the files and starting the process cancel out).
//!
//!   cargo run --release -p ipnkit --example parse_corpus -- N [message|decode|tokenize|flat]
//!
//! `flat` is what the Node and wasm packages' `parse` asks of the core: the notification, then
//! its flat form (`host::Flat`).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use ipnkit::host::{Flat, Notification};
use ipnkit::{Body, Limits, Message};

#[path = "../tests/support/mod.rs"]
mod support;

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .expect("usage: parse_corpus N [message|decode|tokenize|flat]");
    let what = args.next().unwrap_or_else(|| "message".to_owned());
    let messages = support::bench_corpus();
    let bytes: usize = messages.iter().map(Vec::len).sum();
    let mut ok = 0usize;
    for _ in 0..rounds {
        for raw in &messages {
            ok += match what.as_str() {
                "message" => usize::from(Message::parse(black_box(raw)).is_ok()),
                "decode" => {
                    usize::from(Body::parse(black_box(raw)).and_then(|b| b.decode()).is_ok())
                }
                "flat" => {
                    let n = Notification::copy_of(black_box(raw), Limits::DEFAULT).unwrap();
                    usize::from(
                        n.message()
                            .ok()
                            .and_then(|m| Flat::of(m, raw.len()).ok())
                            .is_some(),
                    )
                }
                "notification" => {
                    let n = Notification::copy_of(black_box(raw), Limits::DEFAULT).unwrap();
                    usize::from(n.message().is_ok())
                }
                "tokenize" => {
                    usize::from(Body::parse(black_box(raw)).map(|b| b.postback()).is_ok())
                }
                other => panic!("unknown stage {other:?}: message, decode, tokenize or flat"),
            };
        }
    }
    println!(
        "{} messages, {bytes} bytes, {rounds} rounds, {ok} parsed",
        messages.len()
    );
}
