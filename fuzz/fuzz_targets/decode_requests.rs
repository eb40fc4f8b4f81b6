//! Fuzz target `decode_requests`: see `kiel_fuzz::decode_requests` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decode_requests(data);
});
