//! Any bytes: decoding never panics, and an error always points at a field (a name or a position).
#![no_main]

use ipnkit::Body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = Body::parse(data) else { return };
    match body.decode() {
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
        }
    }
});
