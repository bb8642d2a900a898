//! The policy test-file loader and runner on any text: no panic, every reported location inside
//! the text, and a file that loads runs its cases (`warden_engine::fuzz_checks::testfile`).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use warden_engine::Builtin;

static BUILTIN: LazyLock<Builtin> =
    LazyLock::new(|| Builtin::load(&[]).expect("the built-in content loads"));

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(broken) = warden_engine::fuzz_checks::testfile(&text, &BUILTIN) {
        panic!("testfile_loader invariant broken: {broken}");
    }
});
