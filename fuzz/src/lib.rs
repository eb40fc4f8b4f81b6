//! The checks behind kiel's fuzz targets, one function per target.
//!
//! Each function takes the fuzzer's raw input, feeds it to a `kiel-protocol` decoder (or
//! builds something from it), and panics when an invariant breaks: a decoded message that
//! does not re-encode to itself, output beyond a decompression limit, a decoder that changed
//! its input after failing, a record that comes back different. "Returns an error" is
//! always fine; "panics", "allocates without bound" or "gives a wrong answer" is not.
//!
//! The same functions run in two places, so they cannot drift apart:
//! - `fuzz/fuzz_targets/<target>.rs` (cargo-fuzz, nightly), each a one-line `fuzz_target!`;
//! - `protocol/tests/fuzz_corpus.rs` (stable, CI), which includes this file with
//!   `#[path]` and replays every file under `fuzz/corpus/<target>/` through [`TARGETS`].
//!
//! Inputs that need a version take it from their first byte ([`pick_version`]), so the
//! fuzzer reaches every version of every message.
//!
//! # References
//! - cargo-fuzz: <https://rust-fuzz.github.io/book/cargo-fuzz.html>
//! - `fuzz/README.md`: how to run the targets, and what a run found
#![forbid(unsafe_code)]

mod compression;
mod frames;
mod messages;
mod records;

pub use compression::{decompress_gzip, decompress_lz4, decompress_snappy, decompress_zstd};
pub use frames::frame_reader;
pub use messages::{
    decode_add_offsets_to_txn_response, decode_add_partitions_to_txn_response,
    decode_api_versions_response, decode_end_txn_response, decode_find_coordinator_response,
    decode_init_producer_id_response, decode_metadata_response, decode_produce_response,
    decode_requests, decode_sasl_authenticate_response, decode_sasl_handshake_response,
    decode_txn_offset_commit_response,
};
pub use records::{decode_record_batch, round_trip};

use kiel_protocol::VersionRange;

/// A fuzz target's check: panics when an invariant breaks. Returns whether the input was
/// accepted (decoded, or made a batch), i.e. whether the checks past decoding ran.
pub type Check = fn(&[u8]) -> bool;

/// Every target, by the name of its file in `fuzz/fuzz_targets/` and its corpus directory.
pub const TARGETS: &[(&str, Check)] = &[
    ("decode_api_versions_response", decode_api_versions_response),
    ("decode_metadata_response", decode_metadata_response),
    ("decode_produce_response", decode_produce_response),
    (
        "decode_init_producer_id_response",
        decode_init_producer_id_response,
    ),
    (
        "decode_sasl_handshake_response",
        decode_sasl_handshake_response,
    ),
    (
        "decode_sasl_authenticate_response",
        decode_sasl_authenticate_response,
    ),
    (
        "decode_find_coordinator_response",
        decode_find_coordinator_response,
    ),
    (
        "decode_add_partitions_to_txn_response",
        decode_add_partitions_to_txn_response,
    ),
    (
        "decode_add_offsets_to_txn_response",
        decode_add_offsets_to_txn_response,
    ),
    ("decode_end_txn_response", decode_end_txn_response),
    (
        "decode_txn_offset_commit_response",
        decode_txn_offset_commit_response,
    ),
    ("decode_requests", decode_requests),
    ("decode_record_batch", decode_record_batch),
    ("decompress_gzip", decompress_gzip),
    ("decompress_snappy", decompress_snappy),
    ("decompress_lz4", decompress_lz4),
    ("decompress_zstd", decompress_zstd),
    ("frame_reader", frame_reader),
    ("round_trip", round_trip),
];

/// The version in `range` that `selector` picks: `range.min + selector % range size`.
pub fn pick_version(range: VersionRange, selector: u8) -> i16 {
    let count = i32::from(range.max) - i32::from(range.min) + 1;
    let offset = i32::from(selector) % count.max(1);
    i16::try_from(i32::from(range.min) + offset).unwrap_or(range.min)
}

/// The selector byte that makes [`pick_version`] choose `version` (for writing seeds).
pub fn version_selector(range: VersionRange, version: i16) -> u8 {
    u8::try_from(i32::from(version) - i32::from(range.min)).unwrap_or(0)
}
