//! Any bytes: the typed model never panics; it either refuses a variable given twice (in one
//! spelling or two), naming it, or keeps every variable, serializes to JSON, and has a delivery
//! key that reads back and fits its column. `Message::parse` (which checks names as it files
//! them, without the lookup index) gives exactly what decoding then `Message::from_fields` give.
#![no_main]

use ipnkit::{Body, DeliveryKey, MAX_KEY_LEN, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let general = Body::parse(data)
        .and_then(|body| body.decode())
        .and_then(Message::from_fields);
    assert_eq!(Message::parse(data), general);
    let Ok(body) = Body::parse(data) else { return };
    let Ok(fields) = body.decode() else { return };
    let count = fields.len();
    match Message::from_fields(fields) {
        Ok(message) => {
            assert_eq!(message.variables().len(), count);
            assert!(ipnkit::EVENT_CODES.contains(&message.event().code()));
            let json = message
                .to_canonical_json()
                .expect("a message always serializes");
            assert!(json.starts_with("{\"event\":"), "{json}");
            let key = DeliveryKey::of(&message);
            assert!(key.as_str().is_ascii() && key.as_str().len() <= MAX_KEY_LEN);
            assert_eq!(DeliveryKey::from_stored(key.as_str()), Ok(key));
        }
        Err(e) => {
            // Values not of their type are notices: only a duplicate stops the typed model.
            assert_eq!(e.code(), "duplicate_key", "{e:?}");
            assert!(e.field().is_some(), "{e:?}");
            assert!(ipnkit::ERROR_CODES.contains(&e.code()));
        }
    }
});
