//! Decoding RecordBatch v2: one batch from the front of a buffer, or every batch of a records
//! blob (a log segment's bytes, or a Fetch/Produce `records` field).
//!
//! A batch is checked in this order: magic 2 (byte 16, the same place in every message
//! format, so older formats are reported as [`DecodeError::UnsupportedMagic`]), a
//! `batchLength` of at least the header, the whole batch present, the CRC-32C, the codec,
//! the record count, then the records themselves: each record's fields, no bytes left inside
//! a record or after the last one, `records_count` records, offset deltas `0..count`, and
//! `lastOffsetDelta == count - 1`.
//!
//! These count checks match what a producer writes and what the broker expects of one. A
//! batch the broker compacted (records removed, offset gaps, possibly zero records with a
//! non-negative `lastOffsetDelta`) is therefore rejected; this codec is for a producer and
//! its tests, not a consumer.
//!
//! # References
//! - `DefaultRecordBatch.java` in apache/kafka (`ensureValid`, the record iterators: the
//!   record count is the number of records, and no bytes may remain after them)
//! - `LogValidator.java` in apache/kafka (what the broker checks on a producer's batch)

use bytes::{Buf, Bytes};

use super::header::{verify_batch, BatchHeader, TimestampType, RECORD_BATCH_OVERHEAD};
use super::record_body::{Record, MIN_RECORD_SIZE};
use crate::compression::{decompress, Compression};
use crate::error::DecodeError;

/// The default bound on a decompressed records section: 64 MiB.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 64 << 20;

/// Limits applied while decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// The largest decompressed records section accepted, in bytes; decompression stops
    /// with an error past it. Default: [`DEFAULT_MAX_DECOMPRESSED_BYTES`] (64 MiB).
    ///
    /// This is an absolute cap rather than a ratio to the compressed size: repetitive
    /// records legitimately compress far beyond 100:1 (zstd of a run of identical records
    /// easily exceeds 1000:1), so a ratio bound would reject valid batches while the cap
    /// alone already bounds memory.
    pub max_decompressed_bytes: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
        }
    }
}

/// A decoded RecordBatch v2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordBatch {
    /// Offset of the first record (0 from a producer; assigned by the broker).
    pub base_offset: i64,
    /// Set by the broker; a producer writes -1.
    pub partition_leader_epoch: i32,
    /// The attributes as on the wire; the fields below interpret them.
    pub attributes: i16,
    /// Offset delta of the last record (`records.len() - 1`).
    pub last_offset_delta: i32,
    /// Timestamp of the first record.
    pub base_timestamp: i64,
    /// Largest record timestamp (or the broker's append time for LogAppendTime).
    pub max_timestamp: i64,
    /// Producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence of the first record, or -1.
    pub base_sequence: i32,
    /// Codec of the records section (attribute bits 0..=2).
    pub compression: Compression,
    /// Transactional bit (attribute bit 4).
    pub is_transactional: bool,
    /// Control bit (attribute bit 5).
    pub is_control: bool,
    /// Timestamp type (attribute bit 3).
    pub timestamp_type: TimestampType,
    /// The records, in order.
    pub records: Vec<Record>,
}

impl RecordBatch {
    /// Decodes the batch at the front of `buf` with the default [`DecodeOptions`] and
    /// advances `buf` past it. On error `buf` is left unchanged.
    pub fn decode(buf: &mut Bytes) -> Result<Self, DecodeError> {
        Self::decode_with(buf, &DecodeOptions::default())
    }

    /// Decodes the batch at the front of `buf` and advances `buf` past it. On error `buf`
    /// is left unchanged.
    pub fn decode_with(buf: &mut Bytes, options: &DecodeOptions) -> Result<Self, DecodeError> {
        let header = BatchHeader::parse(buf)?;
        let size = header.size_in_bytes().ok_or(DecodeError::InvalidLength {
            what: "record batch length",
            length: i64::from(header.batch_length),
        })?;
        if size > buf.remaining() {
            return Err(DecodeError::UnexpectedEnd {
                needed: size,
                remaining: buf.remaining(),
            });
        }
        let batch = Self::decode_exact(buf.slice(..size), options)?;
        buf.advance(size);
        Ok(batch)
    }

    /// Decodes every batch of a records blob (e.g. a log segment's bytes or a Fetch
    /// `records` field), with the default [`DecodeOptions`]. Empty input gives no batches.
    ///
    /// Every byte must belong to a whole batch: a trailing partial batch is an error. (A
    /// broker may end a Fetch response with a partial batch; to tolerate that, call
    /// [`decode`](Self::decode) in a loop and stop at [`DecodeError::UnexpectedEnd`].)
    pub fn decode_all(records: Bytes) -> Result<Vec<Self>, DecodeError> {
        Self::decode_all_with(records, &DecodeOptions::default())
    }

    /// [`decode_all`](Self::decode_all) with explicit options.
    pub fn decode_all_with(
        mut records: Bytes,
        options: &DecodeOptions,
    ) -> Result<Vec<Self>, DecodeError> {
        let mut batches = Vec::new();
        while records.has_remaining() {
            batches.push(Self::decode_with(&mut records, options)?);
        }
        Ok(batches)
    }

    /// Decodes `batch`, which must be exactly one batch.
    fn decode_exact(batch: Bytes, options: &DecodeOptions) -> Result<Self, DecodeError> {
        let header = verify_batch(&batch)?;
        let compression = header.compression()?;
        let count =
            usize::try_from(header.records_count).map_err(|_| DecodeError::InvalidLength {
                what: "record batch records count",
                length: i64::from(header.records_count),
            })?;
        if header.last_offset_delta != header.records_count - 1 {
            return Err(DecodeError::InvalidValue {
                field: "record batch lastOffsetDelta",
                value: format!(
                    "{} with {} records",
                    header.last_offset_delta, header.records_count
                ),
            });
        }

        let stored = batch.slice(RECORD_BATCH_OVERHEAD..);
        let mut section = match compression {
            Compression::None => stored,
            codec => {
                let mut out = Vec::new();
                decompress(codec, &stored, &mut out, options.max_decompressed_bytes)?;
                Bytes::from(out)
            }
        };
        if count > section.remaining() / MIN_RECORD_SIZE {
            return Err(DecodeError::InvalidLength {
                what: "record batch records count",
                length: i64::from(header.records_count),
            });
        }

        let mut records = Vec::with_capacity(count);
        for index in 0..header.records_count {
            let record = Record::decode(&mut section)?;
            if record.offset_delta != index {
                return Err(DecodeError::InvalidValue {
                    field: "record offsetDelta",
                    value: format!("{} for record {index}", record.offset_delta),
                });
            }
            records.push(record);
        }
        if section.has_remaining() {
            return Err(DecodeError::TrailingBytes(section.remaining()));
        }

        Ok(Self {
            base_offset: header.base_offset,
            partition_leader_epoch: header.partition_leader_epoch,
            attributes: header.attributes,
            last_offset_delta: header.last_offset_delta,
            base_timestamp: header.base_timestamp,
            max_timestamp: header.max_timestamp,
            producer_id: header.producer_id,
            producer_epoch: header.producer_epoch,
            base_sequence: header.base_sequence,
            compression,
            is_transactional: header.is_transactional(),
            is_control: header.is_control(),
            timestamp_type: header.timestamp_type(),
            records,
        })
    }

    /// Offset of the last record (`base_offset + last_offset_delta`).
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .wrapping_add(i64::from(self.last_offset_delta))
    }

    /// Sequence of the last record (wrapping), or -1 when the batch has none.
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence < 0 {
            super::header::NO_SEQUENCE
        } else {
            super::increment_sequence(self.base_sequence, self.last_offset_delta)
        }
    }
}
