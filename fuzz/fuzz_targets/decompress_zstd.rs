//! Fuzz target `decompress_zstd`: see `kiel_fuzz::decompress_zstd` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decompress_zstd(data);
});
