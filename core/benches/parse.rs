//! Throughput over the shared corpus (`../shared/corpus`, or `$IPNKIT_CORPUS`): every `.body`
//! file as it is, and every `.fields.json` encoded in its charset, one iteration = the whole set.
//!
//! - `tokenize_postback`: `Body::parse` + `Body::postback` (what verification needs).
//! - `decode`: `Body::parse` + `Body::decode` (every variable to UTF-8, strictly).
//! - `message`: `Message::parse`: the above, then the typed message (money, dates, enums, groups,
//!   event) with every original variable kept.
//! - `baseline_form_urlencoded`: `form_urlencoded::parse` collected into owned `(String, String)`
//!   pairs, the usual way a listener reads a body (lenient, UTF-8 only).
//!
//! The same three over a synthetic 500-item cart show the large-message case.
//! `scripts/bench-report` turns criterion's estimates into the table in BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnkit::{Body, Message};

#[path = "../tests/support/mod.rs"]
mod support;

fn corpus() -> Vec<Vec<u8>> {
    let out = support::bench_corpus();
    assert!(out.len() >= 30, "corpus has {} messages", out.len());
    out
}

fn cart(items: usize) -> Vec<u8> {
    let mut raw = String::from(
        "txn_type=cart&payment_status=Completed&charset=windows-1252&mc_currency=EUR&first_name=J%F6rg",
    );
    for i in 1..=items {
        raw.push_str(&format!(
            "&item_name{i}=Deluxe+widget+%23{i}&item_number{i}=SKU-{i:06}&quantity{i}=1\
             &mc_gross_{i}=19.95&mc_shipping{i}=0.00&tax{i}=0.00\
             &option_name1_{i}=Colour&option_selection1_{i}=Midnight+blue"
        ));
    }
    raw.into_bytes()
}

fn bench_set(c: &mut Criterion, group_name: &str, messages: &[Vec<u8>]) {
    let bytes: usize = messages.iter().map(Vec::len).sum();
    let mut group = c.benchmark_group(group_name);
    group.throughput(Throughput::Bytes(bytes as u64));

    group.bench_function("tokenize_postback", |b| {
        b.iter(|| {
            for raw in messages {
                let body = Body::parse(black_box(raw)).unwrap();
                black_box(body.postback());
            }
        })
    });
    group.bench_function("decode", |b| {
        b.iter(|| {
            for raw in messages {
                let body = Body::parse(black_box(raw)).unwrap();
                black_box(body.decode().unwrap());
            }
        })
    });
    group.bench_function("message", |b| {
        b.iter(|| {
            for raw in messages {
                black_box(Message::parse(black_box(raw)).unwrap());
            }
        })
    });
    group.bench_function("baseline_form_urlencoded", |b| {
        b.iter(|| {
            for raw in messages {
                let pairs: Vec<(String, String)> = form_urlencoded::parse(black_box(raw))
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                black_box(pairs);
            }
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let messages = corpus();
    // Every message must decode, or the decode benchmark would measure error paths.
    for m in &messages {
        Message::parse(m).unwrap();
    }
    bench_set(c, "corpus", &messages);
    bench_set(c, "cart500", &[cart(500)]);
}

criterion_group!(parse, benches);
criterion_main!(parse);
