//! Errors of the codec: what can go wrong turning bytes into messages and back.
//!
//! These are local errors (malformed input, a version a message cannot be written in). The
//! error codes a broker returns inside a valid response are [`crate::ErrorCode`].
//!
//! # References
//! - Kafka protocol guide, "Protocol Primitive Types": <https://kafka.apache.org/protocol#protocol_types>

use thiserror::Error;

/// A response (or any other input) could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before the value was complete.
    #[error("input ended early: needed {needed} more bytes, {remaining} remain")]
    UnexpectedEnd {
        /// Bytes the next value needs.
        needed: usize,
        /// Bytes that were left.
        remaining: usize,
    },
    /// A varint ran past its longest legal length (5 bytes for 32 bits, 10 for 64).
    #[error("varint does not terminate within {max_bytes} bytes")]
    VarintTooLong {
        /// The longest legal encoding.
        max_bytes: usize,
    },
    /// A length or count field holds a value that cannot be right (negative where null is
    /// not allowed, or larger than the input that is left).
    #[error("invalid length {length} for {what}")]
    InvalidLength {
        /// What the length belongs to.
        what: &'static str,
        /// The length read from the wire.
        length: i64,
    },
    /// A string is not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// A field that may not be null was null.
    #[error("{0} must not be null")]
    UnexpectedNull(&'static str),
    /// A field holds a value outside its domain.
    #[error("invalid value for {field}: {value}")]
    InvalidValue {
        /// The field.
        field: &'static str,
        /// The value read, as text.
        value: String,
    },
    /// Bytes were left over after a complete message.
    #[error("{0} trailing bytes after the message")]
    TrailingBytes(usize),
    /// The message does not exist in the requested version.
    #[error("API key {api_key} has no version {version} in this codec")]
    UnsupportedVersion {
        /// The API key.
        api_key: i16,
        /// The version asked for.
        version: i16,
    },
    /// A frame's size prefix exceeds the configured maximum.
    #[error("frame of {actual} bytes exceeds the limit of {limit} bytes")]
    FrameTooLarge {
        /// The configured maximum.
        limit: usize,
        /// The size the frame announced.
        actual: usize,
    },
    /// A response did not carry the expected correlation id.
    #[error("correlation id mismatch: expected {expected}, got {actual}")]
    CorrelationMismatch {
        /// The id of the request.
        expected: i32,
        /// The id in the response.
        actual: i32,
    },
    /// A record batch has a magic byte other than 2.
    #[error("unsupported record batch magic {0}")]
    UnsupportedMagic(i8),
    /// A record batch's CRC-32C does not match its contents.
    #[error(
        "record batch CRC mismatch: header says {expected:#010x}, contents give {actual:#010x}"
    )]
    CrcMismatch {
        /// The CRC stored in the batch header.
        expected: u32,
        /// The CRC computed over the batch.
        actual: u32,
    },
    /// A compressed records section could not be decompressed.
    #[error("decompression failed: {0}")]
    Compression(#[from] crate::compression::CompressionError),
}

/// A message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The message does not exist in the requested version.
    #[error("API key {api_key} has no version {version} in this codec")]
    UnsupportedVersion {
        /// The API key.
        api_key: i16,
        /// The version asked for.
        version: i16,
    },
    /// A field is set that the requested version cannot carry.
    #[error("{field} cannot be sent in version {version}")]
    FieldNotAvailable {
        /// The field.
        field: &'static str,
        /// The version asked for.
        version: i16,
    },
    /// A string, byte string or array is longer than its length prefix can express.
    #[error("{what} is too long: {length} exceeds {max}")]
    TooLong {
        /// What was too long.
        what: &'static str,
        /// Its length.
        length: usize,
        /// The largest length the wire form allows.
        max: usize,
    },
    /// Compressing a records section failed.
    #[error("compression failed: {0}")]
    Compression(#[from] crate::compression::CompressionError),
}
