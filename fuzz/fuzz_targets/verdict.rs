//! Any status and response: Verified only for 200 and a body that is exactly VERIFIED.
#![no_main]

use ipnkit::Verdict;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (u16, &[u8])| {
    let (status, body) = input;
    let verdict = Verdict::from_response(status, body);
    if verdict.is_verified() {
        assert_eq!(status, 200);
        assert_eq!(body.trim_ascii(), b"VERIFIED");
    }
    if verdict == Verdict::Invalid {
        assert_eq!(status, 200);
        assert_eq!(body.trim_ascii(), b"INVALID");
    }
});
