//! `kiel produce --delivery-report json`: one JSON object per input line on stdout, written
//! when the line's outcome is known, in input order (so, per partition, in produce order,
//! which is offset order).
//!
//! An acknowledged record (field names as in kcat's `-J` envelope):
//!
//! ```text
//! {"topic":"events","partition":2,"offset":41,"tstype":"create","ts":1700000000000,"key":"user-1","line":7}
//! ```
//!
//! A record that failed, or a line that did not become a record:
//!
//! ```text
//! {"topic":"events","partition":-1,"key":null,"line":8,"error":"record of 5084 bytes ...","error_code":"RECORD_TOO_LARGE"}
//! ```
//!
//! - `partition`: where the record went; for a failure the partition it was meant for
//!   (`--partition`, or the one the broker or the error names), else `-1` (as librdkafka's
//!   `RD_KAFKA_PARTITION_UA`).
//! - `offset`: `-1` with `acks=0` (no answer from the broker).
//! - `tstype`: `create` or `logappend` (the topic's `message.timestamp.type`); `ts` is in
//!   milliseconds since the epoch.
//! - `key`: the key as a JSON string (bytes that are not UTF-8 become U+FFFD), `null` for
//!   no key or a line that did not parse.
//! - `line`: the input line number, from 1.
//! - `error_code`: the Kafka error's name when a broker refused the record
//!   (`NOT_ENOUGH_REPLICAS`, ...), else the kind of kiel error ([`error_code`]), or
//!   `BAD_LINE` for a line that does not fit the line format.
//!
//! # References
//! - kcat `-J` (its JSON envelope: `topic`, `partition`, `offset`, `tstype`, `ts`, `key`)
//! - kiel `RecordMetadata`, `Error::error_code`; Kafka's error names (`Errors.java`)

use std::io::{self, BufWriter, Stdout, Write};

use kiel::{Error, RecordMetadata, TimestampType};
use serde_json::Value;

/// `error_code` of a line that does not fit the line format.
pub(crate) const BAD_LINE: &str = "BAD_LINE";

/// Why a record has no acknowledgement, as the report and the failure list show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The message (`kiel::Error`'s text, or why the line did not parse).
    pub(crate) reason: String,
    /// The `error_code` field.
    pub(crate) code: &'static str,
    /// The partition the record was meant for, when known.
    pub(crate) partition: Option<i32>,
}

impl Failure {
    /// A record the producer refused or could not deliver; `partition` is the one asked
    /// for with `--partition`, if any.
    pub(crate) fn from_error(error: &Error, partition: Option<i32>) -> Self {
        let partition = match error {
            Error::Broker { partition, .. } | Error::InvalidPartition { partition, .. } => {
                Some(*partition)
            }
            _ => partition,
        };
        Self {
            reason: error.to_string(),
            code: error_code(error),
            partition,
        }
    }

    /// A line that did not become a record.
    pub(crate) fn bad_line(reason: String, partition: Option<i32>) -> Self {
        Self {
            reason,
            code: BAD_LINE,
            partition,
        }
    }
}

/// The `error_code` of an error: the Kafka error name when a broker gave the code, else
/// the kind of kiel error in the same style.
pub(crate) fn error_code(error: &Error) -> &'static str {
    match error {
        Error::Broker { code, .. } | Error::ProducerId(code) => code.name(),
        Error::Config { .. } => "CONFIG",
        Error::QueueFull { .. } => "QUEUE_FULL",
        Error::MetadataWaitFull { .. } => "METADATA_WAIT_FULL",
        Error::InvalidTimestamp(_) => "INVALID_TIMESTAMP",
        Error::RecordTooLarge { .. } => "RECORD_TOO_LARGE",
        Error::InvalidPartition { .. } => "INVALID_PARTITION",
        Error::InvalidTopic(_) => "INVALID_TOPIC",
        Error::TopicNotFound { .. } => "TOPIC_NOT_FOUND",
        Error::DeliveryTimeout { .. } => "DELIVERY_TIMEOUT",
        Error::Bootstrap { .. } => "BOOTSTRAP",
        Error::UnsupportedBroker { .. } => "UNSUPPORTED_BROKER",
        Error::Connection { .. } => "CONNECTION",
        Error::Protocol { .. } => "PROTOCOL",
        Error::Encode(_) => "ENCODE",
        Error::Closed => "CLOSED",
        Error::Timeout(_) => "TIMEOUT",
        Error::Serialization(_) => "SERIALIZATION",
        _ => "ERROR",
    }
}

/// A JSON string (quoted and escaped).
fn string(text: &str) -> String {
    Value::from(text).to_string()
}

/// The key as a JSON value: a string, or `null`.
fn key_json(key: Option<&[u8]>) -> String {
    key.map_or_else(
        || "null".to_owned(),
        |k| string(&String::from_utf8_lossy(k)),
    )
}

/// The report line of an acknowledged record.
pub(crate) fn acknowledged(line: u64, key: Option<&[u8]>, metadata: &RecordMetadata) -> String {
    let tstype = match metadata.timestamp_type {
        TimestampType::CreateTime => "create",
        TimestampType::LogAppendTime => "logappend",
    };
    format!(
        r#"{{"topic":{},"partition":{},"offset":{},"tstype":"{tstype}","ts":{},"key":{},"line":{line}}}"#,
        string(&metadata.topic),
        metadata.partition,
        metadata.offset,
        metadata.timestamp,
        key_json(key),
    )
}

/// The report line of a failed record or line.
pub(crate) fn failed(line: u64, topic: &str, key: Option<&[u8]>, failure: &Failure) -> String {
    format!(
        r#"{{"topic":{},"partition":{},"key":{},"line":{line},"error":{},"error_code":{}}}"#,
        string(topic),
        failure.partition.unwrap_or(-1),
        key_json(key),
        string(&failure.reason),
        string(failure.code),
    )
}

/// Report lines to stdout, buffered; flushed when the caller is about to wait. After the
/// first write error nothing more is written, and the error is kept for the caller.
pub(crate) struct ReportWriter {
    out: BufWriter<Stdout>,
    error: Option<io::Error>,
}

impl ReportWriter {
    /// A writer to stdout.
    pub(crate) fn stdout() -> Self {
        Self {
            out: BufWriter::with_capacity(64 * 1024, io::stdout()),
            error: None,
        }
    }

    /// Writes one line (a newline is added).
    pub(crate) fn write(&mut self, line: &str) {
        if self.error.is_none() {
            if let Err(e) = writeln!(self.out, "{line}") {
                self.error = Some(e);
            }
        }
    }

    /// Hands what is buffered to stdout.
    pub(crate) fn flush(&mut self) {
        if self.error.is_none() {
            if let Err(e) = self.out.flush() {
                self.error = Some(e);
            }
        }
    }

    /// The first write error, if any.
    pub(crate) fn error(&self) -> Option<&io::Error> {
        self.error.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn parse(line: &str) -> Value {
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    #[test]
    fn an_acknowledged_record_has_kcat_names() {
        let metadata = RecordMetadata {
            topic: Arc::from("events"),
            partition: 2,
            offset: 41,
            timestamp: 1_700_000_000_000,
            timestamp_type: TimestampType::CreateTime,
        };
        assert_eq!(
            acknowledged(7, Some(b"user-1"), &metadata),
            r#"{"topic":"events","partition":2,"offset":41,"tstype":"create","ts":1700000000000,"key":"user-1","line":7}"#
        );
        let appended = RecordMetadata {
            timestamp_type: TimestampType::LogAppendTime,
            offset: -1,
            ..metadata
        };
        let value = parse(&acknowledged(1, None, &appended));
        assert_eq!(value["tstype"], "logappend");
        assert_eq!(value["offset"], -1);
        assert!(value["key"].is_null());
    }

    #[test]
    fn keys_and_messages_are_escaped() {
        let failure = Failure {
            reason: "say \"no\"\\\n\ttab \u{1}".to_owned(),
            code: BAD_LINE,
            partition: None,
        };
        let line = failed(3, "t", Some(b"a\"b\\c\xff"), &failure);
        assert!(!line.contains('\n'), "{line}");
        let value = parse(&line);
        assert_eq!(value["key"], "a\"b\\c\u{fffd}");
        assert_eq!(value["error"], "say \"no\"\\\n\ttab \u{1}");
        assert_eq!(value["error_code"], "BAD_LINE");
        assert_eq!(value["partition"], -1);
        assert_eq!(value["line"], 3);
        assert_eq!(value["topic"], "t");
        assert!(value.get("offset").is_none());
    }

    #[test]
    fn failures_name_the_partition_and_the_error() {
        let too_large = Error::RecordTooLarge {
            size: 5000,
            max: 1000,
            setting: "max.request.size",
        };
        let f = Failure::from_error(&too_large, Some(4));
        assert_eq!(f.code, "RECORD_TOO_LARGE");
        assert_eq!(f.partition, Some(4));
        assert!(f.reason.contains("max.request.size"), "{}", f.reason);
        let broker = Error::Broker {
            code: kiel::protocol::ErrorCode::NotEnoughReplicas,
            topic: "t".to_owned(),
            partition: 1,
            message: None,
        };
        let f = Failure::from_error(&broker, None);
        assert_eq!((f.code, f.partition), ("NOT_ENOUGH_REPLICAS", Some(1)));
        let missing = Error::InvalidPartition {
            topic: "t".to_owned(),
            partition: 9,
            partition_count: 3,
        };
        let f = Failure::from_error(&missing, None);
        assert_eq!((f.code, f.partition), ("INVALID_PARTITION", Some(9)));
        let timeout = Error::DeliveryTimeout {
            timeout_ms: 100,
            last_error: Some(Box::new(broker)),
        };
        assert_eq!(error_code(&timeout), "DELIVERY_TIMEOUT");
        assert_eq!(Failure::from_error(&Error::Closed, None).partition, None);
    }
}
