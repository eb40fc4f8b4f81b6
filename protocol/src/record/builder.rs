//! Building a RecordBatch v2 on the producer's hot path.
//!
//! The cost model: per record, one append of varint-encoded bytes into a buffer that already
//! holds the (still blank) 61-byte header; per batch, at most one compression pass and one
//! CRC pass. An uncompressed batch is finished in place: the header is patched into the
//! buffer and the buffer becomes the returned [`Bytes`] without a copy.
//!
//! # References
//! - `DefaultRecord.writeTo` / `sizeInBytes` and `DefaultRecordBatch.writeHeader` in
//!   apache/kafka
//! - `MemoryRecordsBuilder.java` in apache/kafka (base timestamp = first record's; an empty
//!   builder builds to no batch at all)
//! - KIP-98 (RecordBatch v2)

use bytes::Bytes;

use super::header::{
    compression_bits, write_header, BatchHeader, LOG_OVERHEAD, MAGIC, NO_PARTITION_LEADER_EPOCH,
    NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE, RECORD_BATCH_OVERHEAD, TRANSACTIONAL_MASK,
};
use super::headers::AsRecordHeader;
use crate::compression::{compress, Compression};
use crate::error::EncodeError;
use crate::primitives::{put_varint, put_varlong, varint_len, varlong_len};

/// The largest record body (and key, value or header) the `length` varint can announce.
const MAX_FIELD_LEN: usize = i32::MAX as usize;

/// The largest whole batch: `batchLength` (an `i32`) counts all but the first 12 bytes.
const MAX_BATCH_SIZE: usize = i32::MAX as usize + LOG_OVERHEAD;

/// Producer fields and codec written into a batch's header by [`RecordBatchBuilder::finish`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// Codec for the records section. Default: none.
    pub compression: Compression,
    /// Codec level, or `None` for the codec's default. Default: `None`.
    pub compression_level: Option<i32>,
    /// Producer id, or -1 when not idempotent. Default: -1.
    pub producer_id: i64,
    /// Producer epoch, or -1 when not idempotent. Default: -1.
    pub producer_epoch: i16,
    /// Sequence of the first record, or -1 when not idempotent. Default: -1.
    pub base_sequence: i32,
    /// Sets the transactional attribute bit. Default: false.
    pub transactional: bool,
    /// Partition leader epoch (the broker overwrites it). Default: -1.
    pub partition_leader_epoch: i32,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            compression: Compression::None,
            compression_level: None,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            transactional: false,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
        }
    }
}

/// Bytes of the length varint for a key, value or header value of `len` bytes (`None` is
/// null, written as -1).
fn nullable_len_size(len: Option<usize>) -> usize {
    match len {
        None => varint_len(-1),
        Some(n) => i32::try_from(n).map_or(5, varint_len).saturating_add(n),
    }
}

/// Bytes of a record body: everything after its `length` varint. Saturates instead of
/// overflowing, so an oversized record shows up as a body above [`MAX_FIELD_LEN`].
fn body_size<H: AsRecordHeader>(
    timestamp_delta: i64,
    offset_delta: i32,
    key_len: Option<usize>,
    value_len: Option<usize>,
    headers: &[H],
) -> usize {
    let count_size = i32::try_from(headers.len()).map_or(5, varint_len);
    let fixed = 1 // attributes
        + varlong_len(timestamp_delta)
        + varint_len(offset_delta)
        + count_size;
    let mut size = fixed
        .saturating_add(nullable_len_size(key_len))
        .saturating_add(nullable_len_size(value_len));
    for header in headers {
        let header = header.as_record_header();
        size = size
            .saturating_add(nullable_len_size(Some(header.key.len())))
            .saturating_add(nullable_len_size(header.value.map(<[u8]>::len)));
    }
    size
}

/// The exact encoded size of one record, its `length` varint included: what appending it
/// adds to [`RecordBatchBuilder::size_in_bytes`].
///
/// `timestamp_delta` is the record's timestamp minus the batch's first one, `offset_delta`
/// its index in the batch, `key_len` / `value_len` `None` for null. See also
/// [`RecordBatchBuilder::next_record_size`], which fills in the deltas.
pub fn record_size<H: AsRecordHeader>(
    timestamp_delta: i64,
    offset_delta: i32,
    key_len: Option<usize>,
    value_len: Option<usize>,
    headers: &[H],
) -> usize {
    let body = body_size(timestamp_delta, offset_delta, key_len, value_len, headers);
    i32::try_from(body)
        .map_or(5, varint_len)
        .saturating_add(body)
}

/// Appends `value` with its varint length, or -1 for null.
fn put_nullable(buf: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        None => put_varint(buf, -1),
        Some(bytes) => {
            // Callers have checked the record body, which holds this, fits in an i32.
            put_varint(buf, i32::try_from(bytes.len()).unwrap_or(i32::MAX));
            buf.extend_from_slice(bytes);
        }
    }
}

/// Accumulates records into one RecordBatch v2 (magic 2).
///
/// The buffer starts with the 61 header bytes reserved; each [`append`](Self::append) writes
/// one record straight after the previous one. [`finish`](Self::finish) fills in the header,
/// compresses the records section if asked, and computes the CRC.
///
/// Timestamps are deltas against the **first** appended record's timestamp and may be
/// negative. Timestamps are not range-checked here (Kafka's client rejects negative ones
/// other than -1; the broker may reject ones too far from its clock): that policy belongs to
/// the caller. Deltas use wrapping arithmetic, which the decoder reverses exactly.
#[derive(Debug, Clone)]
pub struct RecordBatchBuilder {
    /// The whole batch so far: 61 blank header bytes, then the records.
    buf: Vec<u8>,
    /// Records appended; also the next record's offset delta.
    count: i32,
    /// Timestamp of the first record (meaningless while `count == 0`).
    base_timestamp: i64,
    /// Largest timestamp appended (meaningless while `count == 0`).
    max_timestamp: i64,
}

impl Default for RecordBatchBuilder {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl RecordBatchBuilder {
    /// An empty builder whose buffer has room for `capacity` bytes of batch (header
    /// included; at least the 61 header bytes are always reserved).
    ///
    /// The buffer's spare capacity stays with the finished [`Bytes`] of an uncompressed
    /// batch (it is not copied), so a hint near the expected batch size is best.
    pub fn with_capacity(capacity: usize) -> Self {
        let mut buf = Vec::with_capacity(capacity.max(RECORD_BATCH_OVERHEAD));
        buf.resize(RECORD_BATCH_OVERHEAD, 0);
        Self {
            buf,
            count: 0,
            base_timestamp: 0,
            max_timestamp: 0,
        }
    }

    /// An empty builder that writes into `buffer`, reusing its allocation (its contents are
    /// discarded). With [`finish_reclaiming`](Self::finish_reclaiming) a producer can keep a
    /// pool of batch buffers instead of allocating one per batch.
    pub fn with_buffer(mut buffer: Vec<u8>) -> Self {
        buffer.clear();
        buffer.resize(RECORD_BATCH_OVERHEAD, 0);
        Self {
            buf: buffer,
            count: 0,
            base_timestamp: 0,
            max_timestamp: 0,
        }
    }

    /// An empty builder with no capacity hint.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records appended so far.
    pub fn record_count(&self) -> usize {
        usize::try_from(self.count).unwrap_or(0)
    }

    /// Whether no record has been appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The current uncompressed batch size in bytes, the 61-byte header included.
    pub fn size_in_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Same as [`size_in_bytes`](Self::size_in_bytes).
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Timestamp of the first record, once there is one.
    pub fn base_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.base_timestamp)
    }

    /// Largest timestamp appended, once there is a record.
    pub fn max_timestamp(&self) -> Option<i64> {
        (self.count > 0).then_some(self.max_timestamp)
    }

    /// The exact bytes [`append`](Self::append) would add for a record with this timestamp,
    /// key and value lengths (`None` for null) and headers.
    pub fn next_record_size<H: AsRecordHeader>(
        &self,
        timestamp_ms: i64,
        key_len: Option<usize>,
        value_len: Option<usize>,
        headers: &[H],
    ) -> usize {
        record_size(
            timestamp_ms.wrapping_sub(self.base_timestamp_for(timestamp_ms)),
            self.count,
            key_len,
            value_len,
            headers,
        )
    }

    /// The base timestamp a record with `timestamp_ms` would be measured against.
    fn base_timestamp_for(&self, timestamp_ms: i64) -> i64 {
        if self.count == 0 {
            timestamp_ms
        } else {
            self.base_timestamp
        }
    }

    /// Appends one record. `None` key or value is null (length -1), which differs from an
    /// empty one.
    ///
    /// Fails, leaving the builder unchanged, when the batch already holds `i32::MAX`
    /// records, when the record is larger than its `i32` length can say, or when the batch
    /// would outgrow its `i32` `batchLength`.
    pub fn append<H: AsRecordHeader>(
        &mut self,
        timestamp_ms: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[H],
    ) -> Result<(), EncodeError> {
        let offset_delta = self.count;
        if offset_delta == i32::MAX {
            return Err(EncodeError::TooLong {
                what: "record batch record count",
                length: MAX_FIELD_LEN + 1,
                max: MAX_FIELD_LEN,
            });
        }
        let base_timestamp = self.base_timestamp_for(timestamp_ms);
        let timestamp_delta = timestamp_ms.wrapping_sub(base_timestamp);
        let body = body_size(
            timestamp_delta,
            offset_delta,
            key.map(<[u8]>::len),
            value.map(<[u8]>::len),
            headers,
        );
        let Ok(body_i32) = i32::try_from(body) else {
            return Err(EncodeError::TooLong {
                what: "record",
                length: body,
                max: MAX_FIELD_LEN,
            });
        };
        let record = varint_len(body_i32) + body;
        let new_size = self.buf.len().saturating_add(record);
        if new_size > MAX_BATCH_SIZE {
            return Err(EncodeError::TooLong {
                what: "record batch",
                length: new_size,
                max: MAX_BATCH_SIZE,
            });
        }

        let buf = &mut self.buf;
        buf.reserve(record);
        put_varint(buf, body_i32);
        buf.push(0); // record attributes: no bits are defined
        put_varlong(buf, timestamp_delta);
        put_varint(buf, offset_delta);
        put_nullable(buf, key);
        put_nullable(buf, value);
        // The body fits in an i32, and every header takes at least two bytes of it.
        put_varint(buf, i32::try_from(headers.len()).unwrap_or(i32::MAX));
        for header in headers {
            let header = header.as_record_header();
            put_nullable(buf, Some(header.key.as_bytes()));
            put_nullable(buf, header.value);
        }

        if self.count == 0 {
            self.base_timestamp = timestamp_ms;
            self.max_timestamp = timestamp_ms;
        } else {
            self.max_timestamp = self.max_timestamp.max(timestamp_ms);
        }
        self.count += 1;
        Ok(())
    }

    /// Finishes the batch: fills in the header (baseOffset 0, batchLength, magic 2,
    /// attributes with the codec and transactional bits and CreateTime, lastOffsetDelta =
    /// count - 1, base and max timestamps, the producer fields and the record count),
    /// compresses the records section (bytes 61..) when `options.compression` is set, and
    /// stores the CRC-32C of bytes `[21, end)`.
    ///
    /// An uncompressed batch is finished in place, without copying. A compressed one is
    /// written to a new buffer holding the header and the compressed stream.
    ///
    /// **An empty builder finishes to an empty [`Bytes`]**: no batch at all, as Kafka's own
    /// builder does. A producer must not send it; check [`is_empty`](Self::is_empty) first.
    pub fn finish(self, options: &BatchOptions) -> Result<Bytes, EncodeError> {
        self.finish_reclaiming(options).map(|(batch, _)| batch)
    }

    /// [`finish`](Self::finish), also giving back the builder's buffer when the batch was
    /// compressed into a new one (the uncompressed records are no longer needed), so that it
    /// can be reused with [`with_buffer`](Self::with_buffer). Uncompressed, the buffer *is*
    /// the batch, and `None` comes back.
    pub fn finish_reclaiming(
        self,
        options: &BatchOptions,
    ) -> Result<(Bytes, Option<Vec<u8>>), EncodeError> {
        if self.count == 0 {
            return Ok((Bytes::new(), Some(self.buf)));
        }
        let (mut batch, spare) = match options.compression {
            Compression::None => (self.buf, None),
            codec => {
                let records = self.buf.get(RECORD_BATCH_OVERHEAD..).unwrap_or_default();
                let mut out = Vec::with_capacity(RECORD_BATCH_OVERHEAD + records.len() / 2);
                out.resize(RECORD_BATCH_OVERHEAD, 0);
                compress(codec, options.compression_level, records, &mut out)?;
                (out, Some(self.buf))
            }
        };
        let batch_length =
            i32::try_from(batch.len() - LOG_OVERHEAD).map_err(|_| EncodeError::TooLong {
                what: "record batch",
                length: batch.len(),
                max: MAX_BATCH_SIZE,
            })?;
        let mut attributes = compression_bits(options.compression);
        if options.transactional {
            attributes |= TRANSACTIONAL_MASK;
        }
        let header = BatchHeader {
            base_offset: 0,
            batch_length,
            partition_leader_epoch: options.partition_leader_epoch,
            magic: MAGIC,
            crc: 0,
            attributes,
            last_offset_delta: self.count - 1,
            base_timestamp: self.base_timestamp,
            max_timestamp: self.max_timestamp,
            producer_id: options.producer_id,
            producer_epoch: options.producer_epoch,
            base_sequence: options.base_sequence,
            records_count: self.count,
        };
        write_header(&mut batch, &header);
        Ok((Bytes::from(batch), spare))
    }
}

#[cfg(test)]
mod tests {
    use super::{BatchOptions, RecordBatchBuilder};
    use crate::error::EncodeError;
    use crate::record::NO_HEADERS;

    #[test]
    fn a_reused_buffer_gives_the_same_batch_and_comes_back_after_compression() {
        let mut fresh = RecordBatchBuilder::with_capacity(4096);
        let mut garbage = vec![0xAB; 300];
        garbage.reserve(4096);
        let capacity = garbage.capacity();
        let mut reused = RecordBatchBuilder::with_buffer(garbage);
        for (i, value) in [&b"alpha"[..], b"beta", b"gamma"].iter().enumerate() {
            let t = 1_700_000_000_000 + i as i64;
            assert_eq!(fresh.append(t, Some(b"k"), Some(value), NO_HEADERS), Ok(()));
            assert_eq!(
                reused.append(t, Some(b"k"), Some(value), NO_HEADERS),
                Ok(())
            );
        }
        let plain = BatchOptions::default();
        let (batch, spare) = reused.clone().finish_reclaiming(&plain).unwrap_or_default();
        assert_eq!(Ok(batch), fresh.clone().finish(&plain));
        assert!(spare.is_none(), "uncompressed, the buffer is the batch");
        let lz4 = BatchOptions {
            compression: crate::compression::Compression::Lz4,
            ..BatchOptions::default()
        };
        let (batch, spare) = reused.finish_reclaiming(&lz4).unwrap_or_default();
        assert_eq!(Ok(batch), fresh.finish(&lz4));
        assert_eq!(spare.map(|b| b.capacity()), Some(capacity));
    }

    #[test]
    fn a_full_batch_refuses_another_record_and_stays_unchanged() {
        let mut builder = RecordBatchBuilder::new();
        assert_eq!(builder.append(5, None, Some(b"v"), NO_HEADERS), Ok(()));
        builder.count = i32::MAX;
        let size = builder.size_in_bytes();
        let result = builder.append(6, None, Some(b"w"), NO_HEADERS);
        assert!(
            matches!(result, Err(EncodeError::TooLong { .. })),
            "{result:?}"
        );
        assert_eq!(builder.size_in_bytes(), size);
        assert_eq!(builder.max_timestamp(), Some(5));
    }

    #[test]
    fn defaults_match_a_non_idempotent_producer() {
        let options = BatchOptions::default();
        assert_eq!(options.compression, crate::compression::Compression::None);
        assert_eq!(options.compression_level, None);
        assert_eq!(
            (
                options.producer_id,
                options.producer_epoch,
                options.base_sequence
            ),
            (-1, -1, -1)
        );
        assert!(!options.transactional);
        assert_eq!(options.partition_leader_epoch, -1);
    }
}
