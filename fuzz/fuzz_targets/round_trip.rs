//! Fuzz target `round_trip`: see `kiel_fuzz::round_trip` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::round_trip(data);
});
