//! `kiel-protocol`: a sans-IO codec for the parts of the Apache Kafka wire protocol a
//! producer needs. Bytes in, bytes out: no sockets, no tokio, no clock.
//!
//! - [`primitives`]: integers, varints, (compact) strings, bytes, arrays, tagged fields
//! - [`header`], [`frame`]: request/response headers and size-prefixed frames
//! - [`messages`]: one module per API (ApiVersions, Metadata, Produce, InitProducerId,
//!   SaslHandshake, SaslAuthenticate)
//! - [`record`]: RecordBatch v2 (magic 2): builder and decoder
//! - [`compression`]: gzip, snappy, lz4, zstd
//! - [`ErrorCode`]: the Kafka error-code table
//!
//! Nothing in this crate panics on input from the network: every decoder returns a
//! [`DecodeError`], bounds every allocation by the input it was given, and rejects trailing
//! bytes.
//!
//! # References
//! - Kafka protocol guide: <https://kafka.apache.org/protocol>
//! - KIP-98 (RecordBatch v2), KIP-482 (flexible versions), KIP-511 (ApiVersions v3)
#![forbid(unsafe_code)]

pub mod api;
pub mod compression;
mod error;
pub mod error_code;
pub mod frame;
pub mod header;
pub mod messages;
pub mod primitives;
pub mod record;

pub use api::{ApiKey, Decode, Encode, Request, VersionRange};
pub use compression::{Compression, CompressionError};
pub use error::{DecodeError, EncodeError};
pub use error_code::ErrorCode;
