//! RecordBatch v2 (magic 2): building batches on the producer's hot path, reading their
//! headers, patching producer fields, and decoding them.
//!
//! ```text
//! offset  field                 type     a producer writes
//!      0  baseOffset            int64    0 (the broker assigns offsets)
//!      8  batchLength           int32    batch size - 12
//!     12  partitionLeaderEpoch  int32    -1 (outside the CRC; the broker sets it)
//!     16  magic                 int8     2
//!     17  crc                   uint32   CRC-32C (Castagnoli) of bytes [21, end)
//!     21  attributes            int16    codec bits 0-2, timestamp type bit 3 (0 = CreateTime),
//!                                        transactional bit 4, control bit 5 (never from a client)
//!     23  lastOffsetDelta       int32    record count - 1
//!     27  baseTimestamp         int64    first record's timestamp
//!     35  maxTimestamp          int64    largest record timestamp
//!     43  producerId            int64    -1 unless idempotent
//!     51  producerEpoch         int16    -1 unless idempotent
//!     53  baseSequence          int32    -1 unless idempotent
//!     57  recordsCount          int32    number of records (never compressed)
//!     61  records               bytes    the records, compressed as one stream if a codec is set
//! ```
//!
//! - [`RecordBatchBuilder`] appends records into one buffer and [`finish`] compresses (if
//!   asked), fills in the header and computes the CRC.
//! - [`BatchHeader`] reads the header of a finished batch without decoding it;
//!   [`patch_producer_state`] rewrites producer id, epoch and base sequence (with a fresh
//!   CRC) after an idempotent epoch bump.
//! - [`RecordBatch::decode`] / [`RecordBatch::decode_all`] decode and validate batches.
//! - [`ControlRecord`] reads the transaction markers of control batches
//!   ([`RecordBatch::control_record`]).
//! - [`increment_sequence`] adds to a producer sequence, wrapping at `i32::MAX` to 0.
//!
//! [`finish`]: RecordBatchBuilder::finish
//!
//! # References
//! - `DefaultRecordBatch.java`, `DefaultRecord.java`, `MemoryRecordsBuilder.java` in
//!   apache/kafka
//! - Kafka documentation, "Record Batch": <https://kafka.apache.org/documentation/#recordbatch>
//! - KIP-98 (RecordBatch v2, idempotent and transactional producer)

mod builder;
mod control;
mod decoder;
mod header;
mod headers;
mod record_body;
mod sequence;

#[cfg(test)]
mod tests;

pub use builder::{record_size, BatchOptions, RecordBatchBuilder};
pub use control::{ControlRecord, ControlRecordType};
pub use decoder::{DecodeOptions, RecordBatch, DEFAULT_MAX_DECOMPRESSED_BYTES};
pub use header::{
    patch_producer_state, verify_batch, BatchHeader, TimestampType, LOG_OVERHEAD, MAGIC,
    NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE,
    RECORD_BATCH_OVERHEAD,
};
pub use headers::{AsRecordHeader, RecordHeader, RecordHeaderRef, NO_HEADERS};
pub use record_body::Record;
pub use sequence::increment_sequence;
