//! The policy parser never panics, every diagnostic lies inside the input, and for every text
//! that parses, formatting is idempotent and keeps the meaning.
#![no_main]

use libfuzzer_sys::fuzz_target;
use warden_policy::{format_policy, parse_policy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parsed = parse_policy(text);
    for diagnostic in &parsed.diagnostics {
        assert!(diagnostic.span.end <= text.len());
        let _ = diagnostic.located(text);
    }
    if !parsed.has_errors() {
        let once = format_policy(text).expect("valid text formats");
        let reparsed = parse_policy(&once);
        assert!(!reparsed.has_errors(), "formatted text must parse: {once:?}");
        assert_eq!(reparsed.ast, parsed.ast, "formatting changed the meaning");
        assert_eq!(format_policy(&once).expect("formats"), once, "format is not idempotent");
    }
});
