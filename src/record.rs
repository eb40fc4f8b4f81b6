//! What a caller produces ([`Record`]) and what it gets back ([`RecordMetadata`]).
//!
//! # References
//! - KIP-32 (timestamps), KIP-82 (headers)

use std::sync::Arc;

use bytes::Bytes;

/// One record header: a key (never null) and a value (may be null). Order is kept and keys
/// may repeat.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Header {
    /// The header's key.
    pub key: String,
    /// The header's value; `None` is null.
    pub value: Option<Bytes>,
}

impl Header {
    /// A header with a value.
    pub fn new(key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        Self {
            key: key.into(),
            value: Some(value.into()),
        }
    }

    /// A header with a null value.
    pub fn null(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            value: None,
        }
    }
}

/// A record to produce. Build one with [`Record::value`], [`Record::key_value`] or
/// [`Record::tombstone`] and the `with_*` methods.
///
/// ```
/// use kiel::Record;
/// let record = Record::key_value("user-42", "logged in")
///     .with_header("source", "web")
///     .with_timestamp(1_700_000_000_000);
/// assert_eq!(record.key.as_deref(), Some(&b"user-42"[..]));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The key; `None` is null (the partitioner then spreads records, see
    /// [`crate::partitioner`]).
    pub key: Option<Bytes>,
    /// The value; `None` is null (a tombstone on compacted topics).
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: Vec<Header>,
    /// CreateTime in milliseconds since the epoch; `None` means "now" at `produce` time.
    pub timestamp: Option<i64>,
    /// An explicit partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
}

impl Record {
    /// A record with a value and no key.
    pub fn value(value: impl Into<Bytes>) -> Self {
        Self {
            value: Some(value.into()),
            ..Self::default()
        }
    }

    /// A record with a key and a value.
    pub fn key_value(key: impl Into<Bytes>, value: impl Into<Bytes>) -> Self {
        Self {
            key: Some(key.into()),
            value: Some(value.into()),
            ..Self::default()
        }
    }

    /// A record with a key and a null value.
    pub fn tombstone(key: impl Into<Bytes>) -> Self {
        Self {
            key: Some(key.into()),
            ..Self::default()
        }
    }

    /// Sets the key.
    pub fn with_key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Adds a header.
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.push(Header::new(key, value));
        self
    }

    /// Adds a header with a null value.
    pub fn with_null_header(mut self, key: impl Into<String>) -> Self {
        self.headers.push(Header::null(key));
        self
    }

    /// Sets the CreateTime timestamp (milliseconds since the epoch).
    pub fn with_timestamp(mut self, timestamp_ms: i64) -> Self {
        self.timestamp = Some(timestamp_ms);
        self
    }

    /// Sends the record to this partition instead of asking the partitioner.
    pub fn with_partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }
}

/// Which clock a record's timestamp comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampType {
    /// The producer's timestamp (the record's, or the time of `produce`).
    CreateTime,
    /// The broker's append time (the topic has `message.timestamp.type=LogAppendTime`).
    LogAppendTime,
}

/// Where an acknowledged record was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordMetadata {
    /// The topic.
    pub topic: Arc<str>,
    /// The partition.
    pub partition: i32,
    /// The record's offset; `-1` with `acks=0` (no answer), or for a duplicate the broker
    /// reported without an offset.
    pub offset: i64,
    /// The record's timestamp: CreateTime, or the broker's LogAppendTime when the topic uses it.
    pub timestamp: i64,
    /// Which clock `timestamp` comes from.
    pub timestamp_type: TimestampType,
}
