//! Fuzzes the bridge's inbound frame parser (`bridge::frames::parse_request`): any text must
//! give a request or an error message, never a panic, and an accepted request keeps the
//! documented shape (a string or number id, a non-empty trimmed method).
#![no_main]

use libfuzzer_sys::fuzz_target;
use microclaw_gateway::bridge::frames::parse_request;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse_request(&text) {
        Ok(req) => {
            assert!(req.id.is_string() || req.id.is_number(), "id {:?}", req.id);
            assert!(!req.method.is_empty() && req.method.trim() == req.method);
        }
        Err(why) => assert!(!why.is_empty(), "an error must say what was wrong"),
    }
});
