//! Any bytes: tokenizing never panics, and the postback is the prefix followed by the exact bytes.
#![no_main]

use ipnkit::{Body, Error, Limits, POSTBACK_PREFIX};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match Body::parse(data) {
        Ok(body) => {
            let postback = body.postback();
            assert_eq!(postback.get(..POSTBACK_PREFIX.len()), Some(POSTBACK_PREFIX));
            assert_eq!(postback.get(POSTBACK_PREFIX.len()..), Some(data));
            assert_eq!(body.as_bytes(), data);
            assert!(body.len() <= Limits::DEFAULT.max_fields);
            // Every pair's bytes lie inside the body, in order, without overlap.
            let mut end = 0usize;
            for pair in body.pairs() {
                let start = pair.key.as_ptr() as usize - data.as_ptr() as usize;
                assert!(start >= end);
                end = start + pair.key.len() + pair.value.map_or(0, |v| v.len() + 1);
                assert!(end <= data.len());
            }
        }
        Err(
            Error::EmptyBody
            | Error::BodyTooLarge { .. }
            | Error::KeyTooLong { .. }
            | Error::TooManyFields { .. },
        ) => {}
        Err(other) => panic!("tokenizing gave {other:?}"),
    }
});
