//! The args file ansible-core writes, as raw bytes: parsing, `_ansible_*` keys, option
//! validation and coercion, value checks, the SDK configuration, one canned STS answer.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::run_args_file(data);
});
