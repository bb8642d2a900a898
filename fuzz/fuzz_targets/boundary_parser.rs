//! The boundary parser never panics, and formatting a valid boundary is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_policy::{format_boundary, parse_boundary};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = parse_boundary(text);
    if !parsed.has_errors() {
        let once = format_boundary(text).expect("valid text formats");
        assert_eq!(parse_boundary(&once).ast, parsed.ast, "formatting changed the meaning");
        assert_eq!(format_boundary(&once).expect("formats"), once, "format is not idempotent");
    }
});
