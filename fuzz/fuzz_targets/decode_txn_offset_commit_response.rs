//! Fuzz target `decode_txn_offset_commit_response`: see `kiel_fuzz::decode_txn_offset_commit_response` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decode_txn_offset_commit_response(data);
});
