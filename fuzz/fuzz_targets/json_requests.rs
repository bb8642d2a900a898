//! The API's JSON request bodies on any bytes (`KIND\nBODY`, or a body whose first byte picks the
//! kind): no panic, the serde decoder and the API's extractor agree, refusals are 400s in the
//! API's error shape, and an accepted body decodes the same from its canonical re-encoding
//! (`warden_server::fuzz_checks::json_request`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = warden_server::fuzz_checks::json_request(data) {
        panic!("json_requests invariant broken: {broken}");
    }
});
