//! The fixed 61-byte header of a RecordBatch v2: field offsets, attribute bits, reading the
//! header of a finished batch without decoding its records, and rewriting the producer fields
//! of a finished batch (with a fresh CRC) after an idempotent epoch bump.
//!
//! # References
//! - `DefaultRecordBatch.java` in apache/kafka (the header layout and attribute masks)
//! - KIP-98 (RecordBatch v2, idempotent producer)

use bytes::Buf;

use crate::compression::{Compression, CompressionError};
use crate::error::DecodeError;

/// Bytes in a batch header: everything before the records section.
pub const RECORD_BATCH_OVERHEAD: usize = 61;

/// Bytes before `partitionLeaderEpoch` (baseOffset and batchLength), which `batchLength` does
/// not count.
pub const LOG_OVERHEAD: usize = 12;

/// The only magic this codec reads and writes.
pub const MAGIC: i8 = 2;

/// `producerId` of a batch from a producer that is not idempotent.
pub const NO_PRODUCER_ID: i64 = -1;
/// `producerEpoch` of a batch from a producer that is not idempotent.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// `baseSequence` of a batch from a producer that is not idempotent.
pub const NO_SEQUENCE: i32 = -1;
/// `partitionLeaderEpoch` a producer writes (the broker fills in the real one).
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;

// Byte offsets of the header fields.
pub(crate) const BASE_OFFSET_AT: usize = 0;
pub(crate) const BATCH_LENGTH_AT: usize = 8;
pub(crate) const PARTITION_LEADER_EPOCH_AT: usize = 12;
pub(crate) const MAGIC_AT: usize = 16;
pub(crate) const CRC_AT: usize = 17;
/// The CRC covers `[ATTRIBUTES_AT, end)`.
pub(crate) const ATTRIBUTES_AT: usize = 21;
pub(crate) const LAST_OFFSET_DELTA_AT: usize = 23;
pub(crate) const BASE_TIMESTAMP_AT: usize = 27;
pub(crate) const MAX_TIMESTAMP_AT: usize = 35;
pub(crate) const PRODUCER_ID_AT: usize = 43;
pub(crate) const PRODUCER_EPOCH_AT: usize = 51;
pub(crate) const BASE_SEQUENCE_AT: usize = 53;
pub(crate) const RECORDS_COUNT_AT: usize = 57;

// Attribute bits (only the low byte is used).
const COMPRESSION_MASK: i16 = 0x07;
const TIMESTAMP_TYPE_MASK: i16 = 0x08;
pub(crate) const TRANSACTIONAL_MASK: i16 = 0x10;
const CONTROL_MASK: i16 = 0x20;

/// Where a record's timestamp comes from (attribute bit 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampType {
    /// The producer's timestamp (bit clear). Producers always write this.
    #[default]
    CreateTime,
    /// The broker's append time (bit set); every record's timestamp is the batch's
    /// `maxTimestamp`.
    LogAppendTime,
}

/// The attribute bits 0..=2 for `codec`.
///
/// Kept here (not on [`Compression`]) so the record module owns the wire mapping.
pub(crate) const fn compression_bits(codec: Compression) -> i16 {
    match codec {
        Compression::None => 0,
        Compression::Gzip => 1,
        Compression::Snappy => 2,
        Compression::Lz4 => 3,
        Compression::Zstd => 4,
    }
}

/// The codec named by the attribute bits 0..=2 of `attributes`.
pub(crate) fn compression_from_attributes(attributes: i16) -> Result<Compression, DecodeError> {
    match attributes & COMPRESSION_MASK {
        0 => Ok(Compression::None),
        1 => Ok(Compression::Gzip),
        2 => Ok(Compression::Snappy),
        3 => Ok(Compression::Lz4),
        4 => Ok(Compression::Zstd),
        other => Err(CompressionError::UnknownCodec(other).into()),
    }
}

/// CRC-32C (Castagnoli) of `[21, end)` of a whole batch, as the header's `crc` field holds it.
///
/// `batch` must be at least [`RECORD_BATCH_OVERHEAD`] bytes long (callers check).
pub(crate) fn batch_crc(batch: &[u8]) -> u32 {
    crc32c::crc32c(batch.get(ATTRIBUTES_AT..).unwrap_or_default())
}

/// Stores `batch_crc(batch)` in the header's `crc` field.
pub(crate) fn write_crc(batch: &mut [u8]) {
    let crc = batch_crc(batch);
    put_at(batch, CRC_AT, &crc.to_be_bytes());
}

/// Copies `bytes` to `batch[at..]`; callers have checked that the header is present.
pub(crate) fn put_at(batch: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(slot) = batch.get_mut(at..at + bytes.len()) {
        slot.copy_from_slice(bytes);
    }
}

/// The header fields of a batch, read without decoding (or decompressing) its records.
///
/// Every field is as it is on the wire; the derived questions ([`compression`],
/// [`is_transactional`], ...) interpret [`attributes`].
///
/// [`compression`]: Self::compression
/// [`is_transactional`]: Self::is_transactional
/// [`attributes`]: Self::attributes
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record (0 from a producer; assigned by the broker).
    pub base_offset: i64,
    /// Bytes of the batch after this field: the batch's size minus [`LOG_OVERHEAD`].
    pub batch_length: i32,
    /// Set by the broker; a producer writes -1.
    pub partition_leader_epoch: i32,
    /// Always [`MAGIC`] (2); [`BatchHeader::parse`] rejects any other.
    pub magic: i8,
    /// CRC-32C of bytes `[21, end)`, as stored (not verified by [`BatchHeader::parse`]).
    pub crc: u32,
    /// Codec, timestamp type, transactional and control bits.
    pub attributes: i16,
    /// Offset delta of the last record (record count - 1 in a producer's batch).
    pub last_offset_delta: i32,
    /// Timestamp of the first record.
    pub base_timestamp: i64,
    /// Largest record timestamp.
    pub max_timestamp: i64,
    /// Producer id, or -1.
    pub producer_id: i64,
    /// Producer epoch, or -1.
    pub producer_epoch: i16,
    /// Sequence of the first record, or -1.
    pub base_sequence: i32,
    /// Number of records (never compressed).
    pub records_count: i32,
}

impl BatchHeader {
    /// Reads the header at the start of `batch`.
    ///
    /// Checks that the 61 header bytes are there and that the magic is 2; it does not check
    /// the CRC or that the whole batch is present (see [`Self::size_in_bytes`]).
    pub fn parse(batch: &[u8]) -> Result<Self, DecodeError> {
        check_magic(batch)?;
        let Some(mut h) = batch.get(..RECORD_BATCH_OVERHEAD) else {
            return Err(DecodeError::UnexpectedEnd {
                needed: RECORD_BATCH_OVERHEAD,
                remaining: batch.len(),
            });
        };
        // `h` holds exactly the 61 bytes the reads below consume.
        Ok(Self {
            base_offset: h.get_i64(),
            batch_length: h.get_i32(),
            partition_leader_epoch: h.get_i32(),
            magic: h.get_i8(),
            crc: h.get_u32(),
            attributes: h.get_i16(),
            last_offset_delta: h.get_i32(),
            base_timestamp: h.get_i64(),
            max_timestamp: h.get_i64(),
            producer_id: h.get_i64(),
            producer_epoch: h.get_i16(),
            base_sequence: h.get_i32(),
            records_count: h.get_i32(),
        })
    }

    /// The whole batch's size in bytes as the header announces it (`batchLength + 12`), or
    /// `None` when `batchLength` is too small to hold the header.
    pub fn size_in_bytes(&self) -> Option<usize> {
        let length = usize::try_from(self.batch_length).ok()?;
        (length >= RECORD_BATCH_OVERHEAD - LOG_OVERHEAD).then_some(length + LOG_OVERHEAD)
    }

    /// The codec of the records section.
    pub fn compression(&self) -> Result<Compression, DecodeError> {
        compression_from_attributes(self.attributes)
    }

    /// Where record timestamps come from.
    pub fn timestamp_type(&self) -> TimestampType {
        if self.attributes & TIMESTAMP_TYPE_MASK == 0 {
            TimestampType::CreateTime
        } else {
            TimestampType::LogAppendTime
        }
    }

    /// Whether the batch belongs to a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes & TRANSACTIONAL_MASK != 0
    }

    /// Whether the batch holds control records (transaction markers; never from a client).
    pub fn is_control(&self) -> bool {
        self.attributes & CONTROL_MASK != 0
    }

    /// Sequence of the last record (`baseSequence + lastOffsetDelta`, wrapping as Kafka
    /// does), or -1 when the batch has no sequence.
    pub fn last_sequence(&self) -> i32 {
        if self.base_sequence < 0 {
            NO_SEQUENCE
        } else {
            super::increment_sequence(self.base_sequence, self.last_offset_delta)
        }
    }

    /// Offset of the last record (`baseOffset + lastOffsetDelta`).
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .wrapping_add(i64::from(self.last_offset_delta))
    }
}

/// Fails unless byte 16 of `batch` (the magic in every message format) is 2.
pub(crate) fn check_magic(batch: &[u8]) -> Result<(), DecodeError> {
    match batch.get(MAGIC_AT) {
        None => Err(DecodeError::UnexpectedEnd {
            needed: MAGIC_AT + 1,
            remaining: batch.len(),
        }),
        Some(&m) if m as i8 == MAGIC => Ok(()),
        Some(&m) => Err(DecodeError::UnsupportedMagic(m as i8)),
    }
}

/// Checks that `batch` is exactly one whole batch (the length it announces) with a valid CRC,
/// and returns its header.
pub fn verify_batch(batch: &[u8]) -> Result<BatchHeader, DecodeError> {
    let header = BatchHeader::parse(batch)?;
    let size = header.size_in_bytes().ok_or(DecodeError::InvalidLength {
        what: "record batch length",
        length: i64::from(header.batch_length),
    })?;
    if size > batch.len() {
        return Err(DecodeError::UnexpectedEnd {
            needed: size,
            remaining: batch.len(),
        });
    }
    if size < batch.len() {
        return Err(DecodeError::TrailingBytes(batch.len() - size));
    }
    let actual = batch_crc(batch);
    if actual != header.crc {
        return Err(DecodeError::CrcMismatch {
            expected: header.crc,
            actual,
        });
    }
    Ok(header)
}

/// Rewrites the producer id, epoch and base sequence of a finished batch and recomputes its
/// CRC, as needed when an idempotent producer bumps its epoch and resends batches that were
/// never acknowledged.
///
/// `batch` must be exactly one whole batch with a valid CRC (checked first, so a corrupt
/// batch is reported rather than given a fresh, valid-looking CRC). On error `batch` is left
/// unchanged.
pub fn patch_producer_state(
    batch: &mut [u8],
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
) -> Result<(), DecodeError> {
    verify_batch(batch)?;
    put_at(batch, PRODUCER_ID_AT, &producer_id.to_be_bytes());
    put_at(batch, PRODUCER_EPOCH_AT, &producer_epoch.to_be_bytes());
    put_at(batch, BASE_SEQUENCE_AT, &base_sequence.to_be_bytes());
    write_crc(batch);
    Ok(())
}

/// Writes every field of `header` except `crc` into the first 61 bytes of `batch`, then
/// computes the CRC over `[21, end)` and stores it. `batch` must be the whole, final batch
/// (records section included), since the CRC covers it.
pub(crate) fn write_header(batch: &mut [u8], header: &BatchHeader) {
    put_at(batch, BASE_OFFSET_AT, &header.base_offset.to_be_bytes());
    put_at(batch, BATCH_LENGTH_AT, &header.batch_length.to_be_bytes());
    put_at(
        batch,
        PARTITION_LEADER_EPOCH_AT,
        &header.partition_leader_epoch.to_be_bytes(),
    );
    put_at(batch, MAGIC_AT, &header.magic.to_be_bytes());
    put_at(batch, ATTRIBUTES_AT, &header.attributes.to_be_bytes());
    put_at(
        batch,
        LAST_OFFSET_DELTA_AT,
        &header.last_offset_delta.to_be_bytes(),
    );
    put_at(
        batch,
        BASE_TIMESTAMP_AT,
        &header.base_timestamp.to_be_bytes(),
    );
    put_at(batch, MAX_TIMESTAMP_AT, &header.max_timestamp.to_be_bytes());
    put_at(batch, PRODUCER_ID_AT, &header.producer_id.to_be_bytes());
    put_at(
        batch,
        PRODUCER_EPOCH_AT,
        &header.producer_epoch.to_be_bytes(),
    );
    put_at(batch, BASE_SEQUENCE_AT, &header.base_sequence.to_be_bytes());
    put_at(batch, RECORDS_COUNT_AT, &header.records_count.to_be_bytes());
    write_crc(batch);
}
