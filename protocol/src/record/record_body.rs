//! One record inside a batch's (decompressed) records section, and its decoder.
//!
//! ```text
//! length varint, attributes int8, timestampDelta varlong, offsetDelta varint,
//! keyLength varint (-1 null), key, valueLength varint (-1 null), value,
//! headerCount varint, headers: [keyLength varint, key UTF-8, valueLength varint (-1 null), value]
//! ```
//!
//! # References
//! - `DefaultRecord.java` in apache/kafka (layout, `readFrom`)

use bytes::{Buf, Bytes};

use super::decoder::RecordBatch;
use super::header::{TimestampType, NO_SEQUENCE};
use super::headers::RecordHeader;
use super::increment_sequence;
use crate::error::DecodeError;
use crate::primitives::{get_i8, get_varint, get_varlong};

/// The fewest bytes a record takes: a one-byte length, then attributes, timestamp delta,
/// offset delta, key length, value length and header count of one byte each.
pub(crate) const MIN_RECORD_SIZE: usize = 7;

/// The fewest bytes a header takes: a key length and a value length of one byte each.
const MIN_HEADER_SIZE: usize = 2;

/// A decoded record. Offsets, timestamps and sequences are deltas against its batch; the
/// methods taking a [`RecordBatch`] give the absolute values.
///
/// The record attributes byte (no bits defined) is read and ignored, as Kafka does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Offset relative to the batch's base offset (the record's index in a producer's batch).
    pub offset_delta: i32,
    /// Timestamp relative to the batch's base timestamp; may be negative.
    pub timestamp_delta: i64,
    /// The key; `None` is null, distinct from empty.
    pub key: Option<Bytes>,
    /// The value; `None` is null (a tombstone), distinct from empty.
    pub value: Option<Bytes>,
    /// Headers, in wire order (keys may repeat).
    pub headers: Vec<RecordHeader>,
}

impl Record {
    /// The record's offset: `batch.base_offset + offset_delta`.
    pub fn offset(&self, batch: &RecordBatch) -> i64 {
        batch.base_offset.wrapping_add(i64::from(self.offset_delta))
    }

    /// The record's timestamp: `base_timestamp + timestamp_delta` for CreateTime, or the
    /// batch's `max_timestamp` for LogAppendTime (as Kafka reads it).
    pub fn timestamp(&self, batch: &RecordBatch) -> i64 {
        match batch.timestamp_type {
            TimestampType::CreateTime => batch.base_timestamp.wrapping_add(self.timestamp_delta),
            TimestampType::LogAppendTime => batch.max_timestamp,
        }
    }

    /// The record's producer sequence (`base_sequence + offset_delta`, wrapping), or -1 when
    /// the batch has none.
    pub fn sequence(&self, batch: &RecordBatch) -> i32 {
        if batch.base_sequence < 0 {
            NO_SEQUENCE
        } else {
            increment_sequence(batch.base_sequence, self.offset_delta)
        }
    }

    /// Reads one record from the front of `section`, consuming exactly its bytes.
    pub(crate) fn decode(section: &mut Bytes) -> Result<Self, DecodeError> {
        let length = get_varint(section)?;
        let length = usize::try_from(length).map_err(|_| DecodeError::InvalidLength {
            what: "record",
            length: i64::from(length),
        })?;
        let mut body = take(section, length)?;
        let _attributes = get_i8(&mut body)?;
        let timestamp_delta = get_varlong(&mut body)?;
        let offset_delta = get_varint(&mut body)?;
        let key = get_nullable(&mut body, "record key")?;
        let value = get_nullable(&mut body, "record value")?;
        let headers = get_headers(&mut body)?;
        if body.has_remaining() {
            return Err(DecodeError::TrailingBytes(body.remaining()));
        }
        Ok(Self {
            offset_delta,
            timestamp_delta,
            key,
            value,
            headers,
        })
    }
}

/// Splits `n` bytes off the front of `buf`, or fails if fewer remain.
fn take(buf: &mut Bytes, n: usize) -> Result<Bytes, DecodeError> {
    if n > buf.remaining() {
        return Err(DecodeError::UnexpectedEnd {
            needed: n,
            remaining: buf.remaining(),
        });
    }
    Ok(buf.split_to(n))
}

/// Reads a varint length (-1 for null) and that many bytes.
fn get_nullable(buf: &mut Bytes, what: &'static str) -> Result<Option<Bytes>, DecodeError> {
    match get_varint(buf)? {
        -1 => Ok(None),
        length => {
            let n = usize::try_from(length).map_err(|_| DecodeError::InvalidLength {
                what,
                length: i64::from(length),
            })?;
            take(buf, n).map(Some)
        }
    }
}

/// Reads the header count and the headers.
fn get_headers(body: &mut Bytes) -> Result<Vec<RecordHeader>, DecodeError> {
    let count = get_varint(body)?;
    let invalid = DecodeError::InvalidLength {
        what: "record header count",
        length: i64::from(count),
    };
    let count = usize::try_from(count).map_err(|_| invalid.clone())?;
    if count.saturating_mul(MIN_HEADER_SIZE) > body.remaining() {
        return Err(invalid);
    }
    let mut headers = Vec::with_capacity(count);
    for _ in 0..count {
        let key = get_nullable(body, "record header key")?
            .ok_or(DecodeError::UnexpectedNull("record header key"))?;
        let key = String::from_utf8(key.to_vec()).map_err(|_| DecodeError::InvalidUtf8)?;
        let value = get_nullable(body, "record header value")?;
        headers.push(RecordHeader { key, value });
    }
    Ok(headers)
}
