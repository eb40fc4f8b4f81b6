//! Fuzz target `decode_metadata_response`: see `kiel_fuzz::decode_metadata_response` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decode_metadata_response(data);
});
