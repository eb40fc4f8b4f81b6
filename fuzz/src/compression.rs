//! Checks for the decompressors: arbitrary input, a small output limit.
//!
//! [`kiel_protocol::compression::decompress`] promises to append at most `max_output`
//! bytes, to grow the vector's capacity by at most about that much, to leave the vector as
//! it was on error, and that its limit is exact: output of `n` bytes passes with limit `n`
//! and fails with [`CompressionError::OutputTooLarge`] at `n - 1`.
//!
//! # References
//! - `protocol/src/compression/mod.rs` (the contract checked here)

use kiel_protocol::compression::{decompress, Compression, CompressionError};

/// The output limit the fuzzed decompressions run with.
pub const MAX_OUTPUT: usize = 64 * 1024;

/// Bytes already in the output vector before decompression, which must survive any error.
const PREFIX: &[u8] = b"kiel";

/// How far beyond `PREFIX.len() + MAX_OUTPUT` the capacity may grow (a decoder may ask for a
/// byte past the limit to see that the stream goes on).
const CAPACITY_SLACK: usize = 64;

/// gzip (one or more members).
pub fn decompress_gzip(data: &[u8]) -> bool {
    check_decompress(Compression::Gzip, data)
}

/// snappy (raw blocks and xerial framing).
pub fn decompress_snappy(data: &[u8]) -> bool {
    check_decompress(Compression::Snappy, data)
}

/// lz4 frames.
pub fn decompress_lz4(data: &[u8]) -> bool {
    check_decompress(Compression::Lz4, data)
}

/// zstd frames (and skippable frames).
pub fn decompress_zstd(data: &[u8]) -> bool {
    check_decompress(Compression::Zstd, data)
}

/// Decompresses `data` with `codec` under [`MAX_OUTPUT`] and checks the contract above;
/// returns whether it decompressed.
fn check_decompress(codec: Compression, data: &[u8]) -> bool {
    let mut out = PREFIX.to_vec();
    let result = decompress(codec, data, &mut out, MAX_OUTPUT);
    assert!(
        out.capacity() <= PREFIX.len() + MAX_OUTPUT + CAPACITY_SLACK,
        "{codec}: capacity grew to {} with a limit of {MAX_OUTPUT}",
        out.capacity()
    );
    if result.is_err() {
        assert_eq!(out, PREFIX, "{codec}: output changed by a failed call");
        return false;
    }
    assert!(out.starts_with(PREFIX), "{codec}: existing output changed");
    let produced = &out[PREFIX.len()..];
    assert!(produced.len() <= MAX_OUTPUT, "{codec}: output above limit");

    let mut exact = Vec::new();
    assert_eq!(
        decompress(codec, data, &mut exact, produced.len()),
        Ok(()),
        "{codec}: a limit of exactly the output size must pass"
    );
    assert_eq!(exact, produced, "{codec}: not deterministic");

    if let Some(limit) = produced.len().checked_sub(1) {
        let mut short = Vec::new();
        assert_eq!(
            decompress(codec, data, &mut short, limit),
            Err(CompressionError::OutputTooLarge { codec, limit }),
            "{codec}: a limit one below the output size must fail"
        );
        assert!(short.is_empty(), "{codec}: output left after failing");
    }
    true
}
