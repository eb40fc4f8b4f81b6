//! Fuzz target `decode_add_partitions_to_txn_response`: see `kiel_fuzz::decode_add_partitions_to_txn_response` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decode_add_partitions_to_txn_response(data);
});
