//! Fuzz target `decode_find_coordinator_response`: see `kiel_fuzz::decode_find_coordinator_response` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decode_find_coordinator_response(data);
});
