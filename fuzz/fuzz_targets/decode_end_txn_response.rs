//! Fuzz target `decode_end_txn_response`: see `kiel_fuzz::decode_end_txn_response` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decode_end_txn_response(data);
});
