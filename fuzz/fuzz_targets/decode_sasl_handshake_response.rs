//! Fuzz target `decode_sasl_handshake_response`: see `kiel_fuzz::decode_sasl_handshake_response` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiel_fuzz::decode_sasl_handshake_response(data);
});
