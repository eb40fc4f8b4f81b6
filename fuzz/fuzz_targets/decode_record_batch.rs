//! Fuzz target `decode_record_batch`: see `kiel_fuzz::decode_record_batch` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decode_record_batch(data);
});
