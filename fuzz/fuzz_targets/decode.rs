//! Any bytes: decoding never panics, an error always points at a field (a name or a position),
//! and the one-pass decoder (`Body::decode`, `Message::parse`) agrees with the general path.
#![no_main]

use ipnkit::Body;
use ipnkit::decode::decode_general;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = Body::parse(data) else { return };
    let decoded = body.decode();
    assert_eq!(decoded, decode_general(&body));
    match decoded {
        Ok(fields) => {
            assert_eq!(fields.len(), body.len());
            for f in &fields {
                // Keys are unique, so looking a key up finds this very variable.
                assert_eq!(fields.field(f.key).map(|g| g.index), Some(f.index));
            }
        }
        Err(e) => {
            assert!(e.field().is_some() || e.index().is_some(), "{e:?}");
            assert!(ipnkit::ERROR_CODES.contains(&e.code()));
            // Message::parse decodes without a Body, and must refuse with the same error.
            assert_eq!(ipnkit::Message::parse(data).err(), Some(e));
        }
    }
});
