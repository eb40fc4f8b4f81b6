//! Fuzz target `decompress_snappy`: see `kiel_fuzz::decompress_snappy` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decompress_snappy(data);
});
