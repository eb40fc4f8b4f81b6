//! Control records: the transaction markers a transaction coordinator has written into a
//! partition when a transaction ends. A batch whose control bit (attribute bit 5) is set
//! holds exactly one control record; a consumer in `read_committed` uses the markers to
//! hide aborted records, and skips control batches when handing records out.
//!
//! ```text
//! key    version INT16 (0), type INT16 (0 = ABORT, 1 = COMMIT)
//! value  version INT16 (0), coordinator_epoch INT32          (for ABORT and COMMIT)
//! ```
//!
//! A producer never writes these (the broker refuses a client's control batch); this
//! module lets tests and tools read them back.
//!
//! # References
//! - `ControlRecordType.java`, `EndTransactionMarker.java` in apache/kafka
//! - KIP-98 (transactional messaging: control batches and markers)

use bytes::Bytes;

use super::decoder::RecordBatch;
use crate::error::DecodeError;
use crate::primitives::{get_i16, get_i32};

/// What a control record marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlRecordType {
    /// The transaction was aborted: its records before this marker are to be hidden.
    Abort,
    /// The transaction was committed.
    Commit,
    /// Another control type (a newer broker's, e.g. a leader-change marker of KRaft's own
    /// logs), carried as its code.
    Other(i16),
}

impl ControlRecordType {
    /// The type's code as on the wire.
    pub fn code(self) -> i16 {
        match self {
            Self::Abort => 0,
            Self::Commit => 1,
            Self::Other(code) => code,
        }
    }

    fn from_code(code: i16) -> Self {
        match code {
            0 => Self::Abort,
            1 => Self::Commit,
            other => Self::Other(other),
        }
    }
}

/// A decoded control record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlRecord {
    /// What it marks.
    pub kind: ControlRecordType,
    /// The epoch of the coordinator that wrote the marker (ABORT and COMMIT only; -1 for
    /// other types).
    pub coordinator_epoch: i32,
}

impl ControlRecord {
    /// Decodes a control record from its key and value.
    pub fn decode(key: Option<&Bytes>, value: Option<&Bytes>) -> Result<Self, DecodeError> {
        let mut key = key
            .cloned()
            .ok_or(DecodeError::UnexpectedNull("control record key"))?;
        let key_version = get_i16(&mut key)?;
        if key_version < 0 {
            return Err(DecodeError::InvalidValue {
                field: "control record key version",
                value: key_version.to_string(),
            });
        }
        let kind = ControlRecordType::from_code(get_i16(&mut key)?);
        let coordinator_epoch = match kind {
            ControlRecordType::Abort | ControlRecordType::Commit => {
                let mut value = value
                    .cloned()
                    .ok_or(DecodeError::UnexpectedNull("transaction marker value"))?;
                let _version = get_i16(&mut value)?;
                get_i32(&mut value)?
            }
            ControlRecordType::Other(_) => -1,
        };
        Ok(Self {
            kind,
            coordinator_epoch,
        })
    }
}

impl RecordBatch {
    /// The control record of a control batch; `None` for a batch of data records. A control
    /// batch holds exactly one record, else it is an error.
    pub fn control_record(&self) -> Option<Result<ControlRecord, DecodeError>> {
        if !self.is_control {
            return None;
        }
        Some(match self.records.as_slice() {
            [record] => ControlRecord::decode(record.key.as_ref(), record.value.as_ref()),
            records => Err(DecodeError::InvalidValue {
                field: "control batch record count",
                value: records.len().to_string(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marker(kind: i16, epoch: i32) -> (Bytes, Bytes) {
        let mut key = Vec::new();
        key.extend_from_slice(&0i16.to_be_bytes());
        key.extend_from_slice(&kind.to_be_bytes());
        let mut value = Vec::new();
        value.extend_from_slice(&0i16.to_be_bytes());
        value.extend_from_slice(&epoch.to_be_bytes());
        (key.into(), value.into())
    }

    #[test]
    fn commit_and_abort_markers_decode() {
        let (key, value) = marker(1, 7);
        let commit = ControlRecord::decode(Some(&key), Some(&value)).unwrap();
        assert_eq!(commit.kind, ControlRecordType::Commit);
        assert_eq!(commit.coordinator_epoch, 7);
        let (key, value) = marker(0, 0);
        let abort = ControlRecord::decode(Some(&key), Some(&value)).unwrap();
        assert_eq!(abort.kind, ControlRecordType::Abort);
        assert_eq!(abort.kind.code(), 0);
    }

    #[test]
    fn other_types_need_no_value() {
        let (key, _) = marker(5, 0);
        let other = ControlRecord::decode(Some(&key), None).unwrap();
        assert_eq!(other.kind, ControlRecordType::Other(5));
        assert_eq!(other.coordinator_epoch, -1);
    }

    #[test]
    fn truncated_or_missing_parts_are_errors() {
        let (key, value) = marker(1, 7);
        for cut in 0..key.len() {
            assert!(ControlRecord::decode(Some(&key.slice(..cut)), Some(&value)).is_err());
        }
        for cut in 0..value.len() {
            assert!(ControlRecord::decode(Some(&key), Some(&value.slice(..cut))).is_err());
        }
        assert!(ControlRecord::decode(None, Some(&value)).is_err());
        assert!(ControlRecord::decode(Some(&key), None).is_err());
        let negative = Bytes::from_static(&[0xff, 0xff, 0, 1]);
        assert!(ControlRecord::decode(Some(&negative), Some(&value)).is_err());
    }
}
