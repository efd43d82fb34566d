//! Any bytes: the typed model never panics; it either names the variable it refuses or keeps
//! every variable and serializes to JSON.
#![no_main]

use ipnkit::{Body, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(body) = Body::parse(data) else { return };
    let Ok(fields) = body.decode() else { return };
    let count = fields.len();
    match Message::from_fields(fields) {
        Ok(message) => {
            assert_eq!(message.variables().len(), count);
            assert!(ipnkit::EVENT_CODES.contains(&message.event().code()));
            let json = message.to_canonical_json();
            assert!(json.starts_with("{\"event\":"), "{json}");
        }
        Err(e) => {
            assert!(e.field().is_some(), "{e:?}");
            assert!(ipnkit::ERROR_CODES.contains(&e.code()));
        }
    }
});
