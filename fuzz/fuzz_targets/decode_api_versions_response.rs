//! Fuzz target `decode_api_versions_response`: see `kiel_fuzz::decode_api_versions_response` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decode_api_versions_response(data);
});
