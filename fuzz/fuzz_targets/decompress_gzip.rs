//! Fuzz target `decompress_gzip`: see `kiel_fuzz::decompress_gzip` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decompress_gzip(data);
});
