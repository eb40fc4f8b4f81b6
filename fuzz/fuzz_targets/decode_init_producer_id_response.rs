//! Fuzz target `decode_init_producer_id_response`: see `kiel_fuzz::decode_init_producer_id_response` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decode_init_producer_id_response(data);
});
