//! Record headers: the owned form decoding produces, the borrowed form appending takes, and
//! the [`AsRecordHeader`] view that lets [`RecordBatchBuilder::append`] take either without
//! building a temporary `Vec`.
//!
//! A header key is a UTF-8 string that may not be null; a value is bytes or null. Order is
//! kept and keys may repeat.
//!
//! [`RecordBatchBuilder::append`]: super::RecordBatchBuilder::append
//!
//! # References
//! - `DefaultRecord.java` and `RecordHeader.java` in apache/kafka

use bytes::Bytes;

/// A record header as decoded: owned key, shared (zero-copy) value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordHeader {
    /// The header key (UTF-8, never null).
    pub key: String,
    /// The header value; `None` is a null value, distinct from an empty one.
    pub value: Option<Bytes>,
}

impl RecordHeader {
    /// A header with `key` and `value`.
    pub fn new(key: impl Into<String>, value: Option<Bytes>) -> Self {
        Self {
            key: key.into(),
            value,
        }
    }
}

/// A borrowed record header, the form [`RecordBatchBuilder::append`] writes.
///
/// [`RecordBatchBuilder::append`]: super::RecordBatchBuilder::append
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecordHeaderRef<'a> {
    /// The header key (UTF-8, never null).
    pub key: &'a str,
    /// The header value; `None` is a null value, distinct from an empty one.
    pub value: Option<&'a [u8]>,
}

impl<'a> RecordHeaderRef<'a> {
    /// A header with `key` and `value`.
    pub const fn new(key: &'a str, value: Option<&'a [u8]>) -> Self {
        Self { key, value }
    }
}

/// An empty header list, for appending a record without headers
/// (`builder.append(ts, key, value, NO_HEADERS)`).
pub const NO_HEADERS: &[RecordHeaderRef<'static>] = &[];

/// Anything that can be seen as a record header: [`RecordHeader`], [`RecordHeaderRef`], a
/// `(&str, Option<&[u8]>)` pair, or a reference to one of those.
pub trait AsRecordHeader {
    /// This header as a borrowed key and value.
    fn as_record_header(&self) -> RecordHeaderRef<'_>;
}

impl AsRecordHeader for RecordHeaderRef<'_> {
    fn as_record_header(&self) -> RecordHeaderRef<'_> {
        *self
    }
}

impl AsRecordHeader for RecordHeader {
    fn as_record_header(&self) -> RecordHeaderRef<'_> {
        RecordHeaderRef {
            key: &self.key,
            value: self.value.as_deref(),
        }
    }
}

impl AsRecordHeader for (&str, Option<&[u8]>) {
    fn as_record_header(&self) -> RecordHeaderRef<'_> {
        RecordHeaderRef {
            key: self.0,
            value: self.1,
        }
    }
}

impl<T: AsRecordHeader + ?Sized> AsRecordHeader for &T {
    fn as_record_header(&self) -> RecordHeaderRef<'_> {
        (**self).as_record_header()
    }
}
