//! The boundary parser, validator and formatter on any text: no panic, every diagnostic and
//! syntax node inside the text, and formatting that keeps the meaning and is idempotent
//! (`warden_policy::fuzz_checks::boundary`).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use warden_engine::Builtin;
use warden_policy::Catalogue;

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    Builtin::load(&[])
        .expect("the built-in content loads")
        .catalogue
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(broken) = warden_policy::fuzz_checks::boundary(&text, &CATALOGUE) {
        panic!("boundary_parser invariant broken: {broken}");
    }
});
