//! Compression codecs for the records section of a RecordBatch v2.
//!
//! (Contract fixed; codec implementations being written.)

use thiserror::Error;

/// A record batch compression codec (the low three bits of the batch attributes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// No compression (0).
    #[default]
    None,
    /// gzip (1).
    Gzip,
    /// snappy (2).
    Snappy,
    /// lz4 frame format (3).
    Lz4,
    /// zstd (4); needs Produce v7 or later.
    Zstd,
}

/// A codec failed, or a codec or level is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CompressionError {
    /// The attribute bits name no codec.
    #[error("unknown compression codec id {0}")]
    UnknownCodec(i16),
    /// Compressed data is corrupt.
    #[error("{codec:?} data is corrupt: {reason}")]
    Corrupt {
        /// The codec.
        codec: Compression,
        /// What was wrong.
        reason: String,
    },
}

/// Appends `input` compressed with `codec` (at `level`, or the codec's default) to `out`.
pub fn compress(
    codec: Compression,
    level: Option<i32>,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    let _ = level;
    match codec {
        Compression::None => {
            out.extend_from_slice(input);
            Ok(())
        }
        other => Err(CompressionError::Corrupt {
            codec: other,
            reason: "not implemented yet".into(),
        }),
    }
}

/// Appends the decompression of `input` to `out`, failing once more than `max_output` bytes
/// would be produced (a bound against decompression bombs).
pub fn decompress(
    codec: Compression,
    input: &[u8],
    out: &mut Vec<u8>,
    max_output: usize,
) -> Result<(), CompressionError> {
    match codec {
        Compression::None if input.len() <= max_output => {
            out.extend_from_slice(input);
            Ok(())
        }
        other => Err(CompressionError::Corrupt {
            codec: other,
            reason: "not implemented yet".into(),
        }),
    }
}
