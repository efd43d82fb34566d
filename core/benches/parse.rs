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
//! The same over a synthetic 500-item cart show the large-message case.
//!
//! `growth/message/N`: `Message::parse` of one cart of about N bytes, from 200 bytes to just
//! under the default 256 KiB limit, for time per byte against size; `growth/refused/N`: a body
//! over the limit (257 KiB and 64 MiB), refused before any work, for a cost that does not grow.
//!
//! `scripts/bench-report` turns criterion's estimates into the tables in BENCHMARKS.md.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnkit::{Body, Limits, Message};

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

/// The smallest synthetic cart of at least `bytes` bytes, with longer item names than
/// [`cart`]'s (about 35 bytes a variable), so that 256 KiB stays within the default 8,192
/// variables.
fn cart_of_size(bytes: usize) -> Vec<u8> {
    let mut raw = cart(0);
    let mut i = 0;
    while raw.len() < bytes {
        i += 1;
        raw.extend_from_slice(
            format!(
                "&item_name{i}=Deluxe+widget+%23{i}%2C+hand-finished+walnut%2C+with+its+fitted+case%2C+a+spare+key+and+a+cleaning+cloth\
                 &item_number{i}=SKU-{i:06}&quantity{i}=1&mc_gross_{i}=19.95&mc_shipping{i}=0.00\
                 &tax{i}=0.00&option_name1_{i}=Colour&option_selection1_{i}=Midnight+blue"
            )
            .as_bytes(),
        );
    }
    raw
}

fn bench_growth(c: &mut Criterion) {
    let mut group = c.benchmark_group("growth");
    for size in [200, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 255 << 10] {
        let raw = cart_of_size(size);
        assert!(raw.len() <= Limits::DEFAULT.max_body_bytes);
        Message::parse(&raw).unwrap();
        group.throughput(Throughput::Bytes(raw.len() as u64));
        group.bench_function(format!("message/{}", raw.len()), |b| {
            b.iter(|| black_box(Message::parse(black_box(&raw)).unwrap()))
        });
    }
    for size in [257 << 10, 64 << 20] {
        let raw = vec![b'a'; size];
        assert!(matches!(
            Message::parse(&raw),
            Err(ipnkit::Error::BodyTooLarge { .. })
        ));
        group.bench_function(format!("refused/{size}"), |b| {
            b.iter(|| black_box(Message::parse(black_box(&raw)).is_err()))
        });
    }
    group.finish();
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
    bench_growth(c);
}

criterion_group!(parse, benches);
criterion_main!(parse);
