//! Fuzz target `frame_reader`: see `kiel_fuzz::frame_reader` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::frame_reader(data);
});
