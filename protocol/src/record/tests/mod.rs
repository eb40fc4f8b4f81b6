//! Tests of the record module as a whole: CRC vectors and golden bytes, round trips for
//! every codec, truncation and corruption, and producer-state patching.

mod corruption;
mod golden;
mod round_trip;

use bytes::Bytes;

use super::{BatchOptions, RecordBatchBuilder, RecordHeaderRef, NO_HEADERS};
use crate::compression::Compression;

/// Every codec; the compressed-path tests run for each.
pub(super) const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

/// A small batch with null and non-null keys, values and headers, finished with `codec`.
pub(super) fn sample_batch(codec: Compression) -> Bytes {
    let mut builder = RecordBatchBuilder::with_capacity(256);
    let headers = [
        RecordHeaderRef::new("trace", Some(b"abc")),
        RecordHeaderRef::new("trace", None),
    ];
    let appended = [
        builder.append(1_000, None, Some(b"first value"), NO_HEADERS),
        builder.append(990, Some(b"key"), None, &headers),
        builder.append(
            1_020,
            Some(b""),
            Some(b"third value, third value"),
            NO_HEADERS,
        ),
    ];
    assert!(appended.iter().all(Result::is_ok), "{appended:?}");
    let options = BatchOptions {
        compression: codec,
        producer_id: 9,
        producer_epoch: 2,
        base_sequence: 17,
        ..BatchOptions::default()
    };
    match builder.finish(&options) {
        Ok(bytes) => bytes,
        Err(e) => panic!("finish with {codec:?} failed: {e}"),
    }
}
