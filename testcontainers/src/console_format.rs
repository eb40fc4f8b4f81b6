//! Reading the output of Kafka's console consumer back into records, byte for byte.
//!
//! The harness runs `org.apache.kafka.tools.consumer.ConsoleConsumer` with its
//! `DefaultMessageFormatter` configured so that the output can be parsed without loss:
//! - key, value and header values go through `BytesDeserializer`, whose `toString` prints
//!   bytes 0x20..=0x7E except `\` as themselves and every other byte as `\xHH`, so the
//!   printed form is printable ASCII and decodes back to the exact bytes;
//! - fields are separated by the ASCII unit separator (0x1F), header entries by the group
//!   separator (0x1D) and records by the record separator (0x1E); none of them can appear in
//!   the escaped form;
//! - a null key, value or header value prints as the `null.literal`, a random marker chosen
//!   per read (the formatter passes it through the deserializer too, so it must be plain
//!   printable ASCII); a real key equal to the marker would be misread, which no test does
//!   by chance.
//!
//! Restriction: header *keys* are printed as text (UTF-8), followed by `:`. They must not
//! contain `:` or the separator bytes 0x1D..=0x1F. A key with a separator byte breaks the
//! record's structure and is reported as a parse error; a key with `:` is split at its
//! first `:` and so misread, which cannot be detected.
//!
//! One record in the output:
//! `CreateTime:<ms>` 0x1F `Partition:<p>` 0x1F `Offset:<o>` 0x1F `<headers>` 0x1F `<key>` 0x1F
//! `<value>` 0x1E, where `<headers>` is `NO_HEADERS` or `key:value` entries joined by 0x1D.
//!
//! # References
//! - Kafka `tools/.../consumer/DefaultMessageFormatter.java` (field order, prefixes)
//! - Kafka `clients/.../common/utils/Bytes.java` (`toString` escaping)

use crate::error::{HarnessError, Result};

/// Separates the fields of one record.
pub(crate) const FIELD_SEPARATOR: char = '\u{1f}';
/// Separates header entries.
pub(crate) const HEADER_SEPARATOR: char = '\u{1d}';
/// Ends each record.
pub(crate) const RECORD_SEPARATOR: char = '\u{1e}';

/// How a record's timestamp was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimestampType {
    /// Set by the producer (`CreateTime`).
    CreateTime,
    /// Set by the broker when it appended the batch (`LogAppendTime`).
    LogAppendTime,
    /// No timestamp (magic v0 records only).
    NoTimestamp,
}

/// One record as Kafka's own consumer read it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// The partition.
    pub partition: i32,
    /// The offset within the partition.
    pub offset: i64,
    /// The key; `None` for a null key.
    pub key: Option<Vec<u8>>,
    /// The value; `None` for a null value (a tombstone).
    pub value: Option<Vec<u8>>,
    /// The headers in order: key and value (`None` for a null header value).
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// The timestamp in milliseconds since the epoch (`-1` with [`TimestampType::NoTimestamp`]).
    pub timestamp: i64,
    /// What the timestamp means.
    pub timestamp_type: TimestampType,
}

/// Parses the whole output of one console-consumer run. `null_marker` is the
/// `null.literal` that was passed.
pub(crate) fn parse_output(output: &[u8], null_marker: &str) -> Result<Vec<ConsumedRecord>> {
    let text = std::str::from_utf8(output).map_err(|e| HarnessError::Parse {
        what: "console consumer output",
        detail: format!("not UTF-8: {e}"),
    })?;
    let mut records = Vec::new();
    let mut rest = text;
    while let Some(end) = rest.find(RECORD_SEPARATOR) {
        let (line, tail) = rest.split_at(end);
        rest = &tail[RECORD_SEPARATOR.len_utf8()..];
        records.push(parse_record(line, null_marker)?);
    }
    if !rest.trim().is_empty() {
        return Err(parse_error(format!(
            "unterminated record at the end: {rest:?}"
        )));
    }
    Ok(records)
}

fn parse_error(detail: String) -> HarnessError {
    HarnessError::Parse {
        what: "console consumer record",
        detail,
    }
}

fn parse_record(line: &str, null_marker: &str) -> Result<ConsumedRecord> {
    let fields: Vec<&str> = line.split(FIELD_SEPARATOR).collect();
    let [timestamp, partition, offset, headers, key, value] = fields[..] else {
        return Err(parse_error(format!(
            "expected 6 fields, found {} in {line:?} (a header key with a separator byte?)",
            fields.len()
        )));
    };
    let (timestamp_type, timestamp) = parse_timestamp(timestamp)?;
    let partition = number_after(partition, "Partition:")?;
    let offset = number_after(offset, "Offset:")?;
    Ok(ConsumedRecord {
        partition: i32::try_from(partition)
            .map_err(|_| parse_error(format!("partition {partition} out of range")))?,
        offset,
        key: nullable(key, null_marker)?,
        value: nullable(value, null_marker)?,
        headers: parse_headers(headers, null_marker)?,
        timestamp,
        timestamp_type,
    })
}

fn parse_timestamp(field: &str) -> Result<(TimestampType, i64)> {
    if field == "NO_TIMESTAMP" {
        return Ok((TimestampType::NoTimestamp, -1));
    }
    if field.starts_with("CreateTime:") {
        return Ok((
            TimestampType::CreateTime,
            number_after(field, "CreateTime:")?,
        ));
    }
    if field.starts_with("LogAppendTime:") {
        return Ok((
            TimestampType::LogAppendTime,
            number_after(field, "LogAppendTime:")?,
        ));
    }
    Err(parse_error(format!("unknown timestamp field {field:?}")))
}

fn number_after(field: &str, prefix: &str) -> Result<i64> {
    field
        .strip_prefix(prefix)
        .and_then(|n| n.parse::<i64>().ok())
        .ok_or_else(|| parse_error(format!("expected {prefix}<number>, found {field:?}")))
}

fn parse_headers(field: &str, null_marker: &str) -> Result<Vec<(String, Option<Vec<u8>>)>> {
    if field == "NO_HEADERS" {
        return Ok(Vec::new());
    }
    field
        .split(HEADER_SEPARATOR)
        .map(|entry| {
            // The escaped value may contain ':' too; keys must not (see module docs).
            let (key, value) = entry
                .split_once(':')
                .ok_or_else(|| parse_error(format!("header entry without ':' {entry:?}")))?;
            Ok((key.to_owned(), nullable(value, null_marker)?))
        })
        .collect()
}

fn nullable(field: &str, null_marker: &str) -> Result<Option<Vec<u8>>> {
    if field == null_marker {
        Ok(None)
    } else {
        unescape(field).map(Some)
    }
}

/// Reverses `Bytes.toString`: `\xHH` is one byte, any other printable ASCII character
/// is itself.
pub(crate) fn unescape(text: &str) -> Result<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'\\' {
            let hex = bytes
                .get(i + 1..i + 4)
                .filter(|h| h[0] == b'x')
                .and_then(|h| std::str::from_utf8(&h[1..]).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| parse_error(format!("bad escape at byte {i} of {text:?}")))?;
            out.push(hex);
            i += 4;
        } else if (0x20..=0x7e).contains(&b) {
            out.push(b);
            i += 1;
        } else {
            return Err(parse_error(format!(
                "unescaped byte 0x{b:02x} at {i} of {text:?}"
            )));
        }
    }
    Ok(out)
}

/// Kafka's `Bytes.toString` escaping, for tests of the parser.
#[cfg(test)]
pub(crate) fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        if (0x20..=0x7e).contains(&b) && b != b'\\' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NULL: &str = "kiel-null-0123456789abcdef";

    fn line(fields: &[&str]) -> String {
        let mut s = fields.join(&FIELD_SEPARATOR.to_string());
        s.push(RECORD_SEPARATOR);
        s
    }

    #[test]
    fn every_byte_round_trips_through_the_escaping() {
        let all: Vec<u8> = (0..=255u8).collect();
        assert_eq!(unescape(&escape(&all)).unwrap(), all);
        assert_eq!(unescape("a\\x5Cb\\x00").unwrap(), b"a\\b\x00");
        assert!(unescape("\\x4").is_err());
        assert!(unescape("\\y41").is_err());
        assert!(unescape("tab\there").is_err());
    }

    #[test]
    fn records_with_nulls_headers_and_binary_parse() {
        let headers = format!("h1:{}{HEADER_SEPARATOR}h2:{NULL}", escape(b"v\x01:"));
        let mut out = line(&[
            "CreateTime:1700000000000",
            "Partition:2",
            "Offset:41",
            &headers,
            NULL,
            &escape(&[0, 255, b'\\', b'x']),
        ]);
        out.push_str(&line(&[
            "LogAppendTime:5",
            "Partition:0",
            "Offset:0",
            "NO_HEADERS",
            "",
            NULL,
        ]));
        let records = parse_output(out.as_bytes(), NULL).unwrap();
        assert_eq!(records.len(), 2);
        let r = &records[0];
        assert_eq!(
            (r.partition, r.offset, r.timestamp),
            (2, 41, 1_700_000_000_000)
        );
        assert_eq!(r.timestamp_type, TimestampType::CreateTime);
        assert_eq!(r.key, None);
        assert_eq!(r.value.as_deref(), Some(&[0, 255, b'\\', b'x'][..]));
        assert_eq!(
            r.headers,
            vec![
                ("h1".to_owned(), Some(b"v\x01:".to_vec())),
                ("h2".to_owned(), None)
            ]
        );
        let r = &records[1];
        assert_eq!(r.timestamp_type, TimestampType::LogAppendTime);
        assert_eq!(r.key, Some(Vec::new()), "empty key is not null");
        assert_eq!(r.value, None);
        assert!(r.headers.is_empty());
    }

    #[test]
    fn malformed_output_is_an_error() {
        assert!(parse_output(b"", NULL).unwrap().is_empty());
        let short = line(&["CreateTime:1", "Partition:0", "Offset:0"]);
        assert!(parse_output(short.as_bytes(), NULL).is_err());
        let bad_ts = line(&["Soon:1", "Partition:0", "Offset:0", "NO_HEADERS", "", ""]);
        assert!(parse_output(bad_ts.as_bytes(), NULL).is_err());
        let bad_offset = line(&[
            "NO_TIMESTAMP",
            "Partition:0",
            "Offset:x",
            "NO_HEADERS",
            "",
            "",
        ]);
        assert!(parse_output(bad_offset.as_bytes(), NULL).is_err());
        let mut unterminated = line(&[
            "NO_TIMESTAMP",
            "Partition:0",
            "Offset:0",
            "NO_HEADERS",
            "",
            "",
        ]);
        unterminated.push_str("CreateTime:1");
        assert!(parse_output(unterminated.as_bytes(), NULL).is_err());
        assert!(parse_output(&[0xff, 0x1e], NULL).is_err());
    }
}
