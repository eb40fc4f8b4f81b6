//! Fuzz target `decompress_lz4`: see `kiel_fuzz::decompress_lz4` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decompress_lz4(data);
});
