//! Compression codecs for the records section of a RecordBatch v2.
//!
//! Everything after `recordsCount` in a v2 batch is one compressed stream; the codec is the low
//! three bits of the batch attributes. [`compress`] appends a stream to a vector; [`decompress`]
//! appends the decoded bytes and fails, without growing the vector past the limit, once more
//! than `max_output` bytes would come out (a guard against decompression bombs). On error the
//! vector is left as it was.
//!
//! | codec | id | written as | read | levels (Kafka) | default |
//! |---|---|---|---|---|---|
//! | none | 0 | the bytes | the bytes | none | none |
//! | gzip | 1 | one RFC 1952 member (flate2 with zlib-rs) | one or more members | 1..=9, or -1 | -1 (zlib 6) |
//! | snappy | 2 | one raw snappy block | raw, or xerial snappy-java framing | none | none |
//! | lz4 | 3 | LZ4 frame, independent 64 KiB blocks (lz4_flex) | LZ4 frames Java accepts | 1..=17 (same output) | 9 |
//! | zstd | 4 | one zstd frame (ruzstd; libzstd with `zstd-c`) | frames, skippable frames | -131072..=22 | 3 |
//!
//! Each codec module documents its framing and what its levels do. zstd needs Produce v7
//! ([`Compression::min_produce_version`]).
//!
//! # References
//! - Kafka `clients/src/main/java/org/apache/kafka/common/record/CompressionType.java`
//!   (ids, names, level ranges and defaults) and `.../common/compress/` (one class per codec)
//! - Kafka `ProduceRequest.java` (zstd requires Produce v7), KIP-390 (compression levels)
//! - Design notes: `shared/design/protocol.md` sections 6 and 10

mod gzip;
mod lz4;
mod output;
mod snappy;
#[cfg(test)]
mod tests;
mod zstd;

use core::fmt;
use core::ops::RangeInclusive;
use core::str::FromStr;

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
    /// A codec name that is not one of `none`, `gzip`, `snappy`, `lz4`, `zstd`.
    #[error("unknown compression codec name {0:?} (expected none, gzip, snappy, lz4 or zstd)")]
    UnknownName(String),
    /// Compressed data is corrupt.
    #[error("{codec} data is corrupt: {reason}")]
    Corrupt {
        /// The codec.
        codec: Compression,
        /// What was wrong.
        reason: String,
    },
    /// Decompressing would produce more than the allowed number of bytes.
    #[error("{codec} data decompresses to more than the limit of {limit} bytes")]
    OutputTooLarge {
        /// The codec.
        codec: Compression,
        /// The limit that was passed to [`decompress`].
        limit: usize,
    },
    /// A compression level the codec does not accept.
    #[error("{codec} compression level {level} is not allowed: {}", allowed_levels(*.codec))]
    InvalidLevel {
        /// The codec.
        codec: Compression,
        /// The level asked for.
        level: i32,
        /// The contiguous range the codec accepts ([`Compression::level_range`]); `None` when
        /// it takes no level. gzip also accepts -1.
        allowed: Option<RangeInclusive<i32>>,
    },
    /// The compressor failed (for example, input too large for the format).
    #[error("{codec} compression failed: {reason}")]
    CompressFailed {
        /// The codec.
        codec: Compression,
        /// What went wrong.
        reason: String,
    },
}

/// Describes the levels `codec` accepts, for [`CompressionError::InvalidLevel`].
fn allowed_levels(codec: Compression) -> String {
    match (codec.level_range(), codec.default_level()) {
        (Some(range), Some(default)) if !range.contains(&default) => format!(
            "allowed are {}..={} or {default}",
            range.start(),
            range.end()
        ),
        (Some(range), _) => format!("allowed are {}..={}", range.start(), range.end()),
        (None, _) => format!("{codec} takes no level"),
    }
}

impl Compression {
    /// Every codec, in attribute-id order.
    pub const ALL: [Self; 5] = [Self::None, Self::Gzip, Self::Snappy, Self::Lz4, Self::Zstd];

    /// The codec id stored in the low three bits of the batch attributes.
    pub const fn attribute_id(self) -> i16 {
        match self {
            Self::None => 0,
            Self::Gzip => 1,
            Self::Snappy => 2,
            Self::Lz4 => 3,
            Self::Zstd => 4,
        }
    }

    /// The codec for an id (pass `attributes & 0x07`); ids other than 0 to 4 are
    /// [`CompressionError::UnknownCodec`].
    pub const fn from_attribute_id(id: i16) -> Result<Self, CompressionError> {
        match id {
            0 => Ok(Self::None),
            1 => Ok(Self::Gzip),
            2 => Ok(Self::Snappy),
            3 => Ok(Self::Lz4),
            4 => Ok(Self::Zstd),
            other => Err(CompressionError::UnknownCodec(other)),
        }
    }

    /// The name Kafka uses in `compression.type`: `none`, `gzip`, `snappy`, `lz4`, `zstd`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Snappy => "snappy",
            Self::Lz4 => "lz4",
            Self::Zstd => "zstd",
        }
    }

    /// The lowest Produce version that can carry batches with this codec: 3 (the first with
    /// RecordBatch v2), or 7 for zstd.
    pub const fn min_produce_version(self) -> i16 {
        match self {
            Self::Zstd => 7,
            _ => 3,
        }
    }

    /// The contiguous range of levels the Java client accepts: gzip 1..=9 (plus -1, see
    /// [`default_level`](Self::default_level)), lz4 1..=17, zstd -131072..=22; `None` for
    /// codecs without levels.
    pub const fn level_range(self) -> Option<RangeInclusive<i32>> {
        match self {
            Self::Gzip => Some(RangeInclusive::new(1, 9)),
            Self::Lz4 => Some(RangeInclusive::new(1, 17)),
            Self::Zstd => Some(RangeInclusive::new(-131_072, 22)),
            Self::None | Self::Snappy => None,
        }
    }

    /// The Java client's default level: gzip -1 (zlib's default, 6), lz4 9, zstd 3; `None`
    /// for codecs without levels.
    pub const fn default_level(self) -> Option<i32> {
        match self {
            Self::Gzip => Some(-1),
            Self::Lz4 => Some(9),
            Self::Zstd => Some(3),
            Self::None | Self::Snappy => None,
        }
    }

    /// Checks `level` the way the Java client checks `compression.<codec>.level`: inside
    /// [`level_range`](Self::level_range) or equal to the default. Codecs without levels accept
    /// none.
    pub fn validate_level(self, level: i32) -> Result<(), CompressionError> {
        let allowed = self.level_range();
        let ok = match &allowed {
            Some(range) => range.contains(&level) || Some(level) == self.default_level(),
            None => false,
        };
        if ok {
            Ok(())
        } else {
            Err(CompressionError::InvalidLevel {
                codec: self,
                level,
                allowed,
            })
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Compression {
    type Err = CompressionError;

    /// Parses a codec name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|codec| codec.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| CompressionError::UnknownName(s.to_owned()))
    }
}

/// Appends `input` compressed with `codec` (at `level`, or the codec's default) to `out`.
///
/// A level is checked with [`Compression::validate_level`]; passing one to a codec without
/// levels is an error. On error `out` is left as it was.
pub fn compress(
    codec: Compression,
    level: Option<i32>,
    input: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), CompressionError> {
    let level = match level {
        Some(level) => {
            codec.validate_level(level)?;
            level
        }
        None => codec.default_level().unwrap_or(0),
    };
    let start = out.len();
    let result = match codec {
        Compression::None => {
            out.extend_from_slice(input);
            Ok(())
        }
        Compression::Gzip => gzip::compress(level, input, out),
        Compression::Snappy => snappy::compress(input, out),
        Compression::Lz4 => lz4::compress(input, out),
        Compression::Zstd => zstd::compress(level, input, out),
    };
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Appends the decompression of `input` to `out`, failing once more than `max_output` bytes
/// would be produced (a bound against decompression bombs).
///
/// At most `max_output` bytes are appended, and the capacity added to `out` stays within
/// `max_output` plus a small constant. Corrupt input is [`CompressionError::Corrupt`], output
/// beyond the limit [`CompressionError::OutputTooLarge`]; on error `out` is left as it was.
pub fn decompress(
    codec: Compression,
    input: &[u8],
    out: &mut Vec<u8>,
    max_output: usize,
) -> Result<(), CompressionError> {
    let start = out.len();
    let result = match codec {
        Compression::None if input.len() > max_output => Err(CompressionError::OutputTooLarge {
            codec,
            limit: max_output,
        }),
        Compression::None => {
            out.extend_from_slice(input);
            Ok(())
        }
        Compression::Gzip => gzip::decompress(input, out, max_output),
        Compression::Snappy => snappy::decompress(input, out, max_output),
        Compression::Lz4 => lz4::decompress(input, out, max_output),
        Compression::Zstd => zstd::decompress(input, out, max_output),
    };
    if result.is_err() {
        out.truncate(start);
    }
    result
}
