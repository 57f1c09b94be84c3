//! Options, aliases, `_ansible_*` keys, environment fallbacks and the STS answer, decoded
//! from the bytes (every input decodes), so the fuzzer spends its time on option handling
//! rather than on JSON syntax.
#![no_main]

#[path = "../harness.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = harness::run_options(data);
});
