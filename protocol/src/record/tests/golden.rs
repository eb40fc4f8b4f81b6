//! CRC-32C check values and a hand-written golden batch.

use bytes::Bytes;

use crate::compression::Compression;
use crate::record::{
    BatchHeader, BatchOptions, RecordBatch, RecordBatchBuilder, RecordHeaderRef, TimestampType,
    NO_HEADERS,
};

/// A bit-at-a-time CRC-32C (reflected polynomial 0x82F63B78, init and xorout 0xFFFFFFFF),
/// written independently of the `crc32c` crate the codec uses.
fn reference_crc32c(data: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn crc32c_check_values() {
    // The standard CRC-32C check value.
    assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
    assert_eq!(reference_crc32c(b"123456789"), 0xE306_9283);
    // Kafka's own vector (Crc32CTest.java).
    assert_eq!(crc32c::crc32c(b"Some String"), 608_512_271);
    assert_eq!(reference_crc32c(b"Some String"), 608_512_271);
}

/// Two records, the first with a null key, the second with a key and one header, in an
/// idempotent, uncompressed batch. Every byte is written out by hand.
fn golden_bytes() -> Vec<u8> {
    let mut b: Vec<u8> = Vec::new();
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // baseOffset = 0
    b.extend_from_slice(&[0x00, 0x00, 0x00, 0x4d]); // batchLength = 89 - 12 = 77
    b.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]); // partitionLeaderEpoch = -1
    b.push(0x02); // magic = 2
    b.extend_from_slice(&[0x20, 0xff, 0x8a, 0x07]); // crc (independent Python CRC-32C of [21, 89))
    b.extend_from_slice(&[0x00, 0x00]); // attributes: no codec, CreateTime, not transactional
    b.extend_from_slice(&[0x00, 0x00, 0x00, 0x01]); // lastOffsetDelta = 1
    b.extend_from_slice(&[0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00]); // baseTimestamp = 1_700_000_000_000
    b.extend_from_slice(&[0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x69, 0x2c]); // maxTimestamp = 1_700_000_000_300
    b.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x03, 0xe8]); // producerId = 1000
    b.extend_from_slice(&[0x00, 0x03]); // producerEpoch = 3
    b.extend_from_slice(&[0x00, 0x00, 0x00, 0x2a]); // baseSequence = 42
    b.extend_from_slice(&[0x00, 0x00, 0x00, 0x02]); // recordsCount = 2
    assert_eq!(b.len(), 61);
    // Record 0.
    b.push(0x10); // length = 8 (zig-zag 16)
    b.push(0x00); // attributes
    b.push(0x00); // timestampDelta = 0
    b.push(0x00); // offsetDelta = 0
    b.push(0x01); // keyLength = -1 (null)
    b.push(0x04); // valueLength = 2
    b.extend_from_slice(b"v0"); // value
    b.push(0x00); // headerCount = 0
                  // Record 1.
    b.push(0x24); // length = 18 (zig-zag 36)
    b.push(0x00); // attributes
    b.extend_from_slice(&[0xd8, 0x04]); // timestampDelta = 300 (zig-zag 600, two bytes)
    b.push(0x02); // offsetDelta = 1
    b.push(0x04); // keyLength = 2
    b.extend_from_slice(b"k1"); // key
    b.push(0x0a); // valueLength = 5
    b.extend_from_slice(b"hello"); // value
    b.push(0x02); // headerCount = 1
    b.push(0x02); // header keyLength = 1
    b.extend_from_slice(b"h"); // header key
    b.push(0x02); // header valueLength = 1
    b.extend_from_slice(b"x"); // header value
    assert_eq!(b.len(), 89);
    b
}

fn golden_options() -> BatchOptions {
    BatchOptions {
        producer_id: 1000,
        producer_epoch: 3,
        base_sequence: 42,
        ..BatchOptions::default()
    }
}

#[test]
fn golden_crc_agrees_with_reference_crc() {
    let bytes = golden_bytes();
    let stored = u32::from_be_bytes([bytes[17], bytes[18], bytes[19], bytes[20]]);
    assert_eq!(reference_crc32c(&bytes[21..]), stored);
}

#[test]
fn builder_writes_the_golden_batch() {
    let mut builder = RecordBatchBuilder::with_capacity(128);
    assert_eq!(
        builder.append(1_700_000_000_000, None, Some(b"v0"), NO_HEADERS),
        Ok(())
    );
    let header = [RecordHeaderRef::new("h", Some(b"x"))];
    assert_eq!(
        builder.append(1_700_000_000_300, Some(b"k1"), Some(b"hello"), &header),
        Ok(())
    );
    assert_eq!(builder.size_in_bytes(), 89);
    let bytes = builder.finish(&golden_options());
    assert_eq!(bytes.as_deref(), Ok(&golden_bytes()[..]));
}

#[test]
fn decoder_reads_the_golden_batch() {
    let mut buf = Bytes::from(golden_bytes());
    let batch = RecordBatch::decode(&mut buf).unwrap_or_else(|e| panic!("{e}"));
    assert!(buf.is_empty());
    assert_eq!(batch.base_offset, 0);
    assert_eq!(batch.partition_leader_epoch, -1);
    assert_eq!(batch.attributes, 0);
    assert_eq!(batch.last_offset_delta, 1);
    assert_eq!(batch.base_timestamp, 1_700_000_000_000);
    assert_eq!(batch.max_timestamp, 1_700_000_000_300);
    assert_eq!(batch.producer_id, 1000);
    assert_eq!(batch.producer_epoch, 3);
    assert_eq!(batch.base_sequence, 42);
    assert_eq!(batch.last_sequence(), 43);
    assert_eq!(batch.compression, Compression::None);
    assert!(!batch.is_transactional && !batch.is_control);
    assert_eq!(batch.timestamp_type, TimestampType::CreateTime);
    let [first, second] = &batch.records[..] else {
        panic!("expected two records, got {:?}", batch.records);
    };
    assert_eq!(first.key, None);
    assert_eq!(first.value.as_deref(), Some(&b"v0"[..]));
    assert!(first.headers.is_empty());
    assert_eq!(first.offset(&batch), 0);
    assert_eq!(first.timestamp(&batch), 1_700_000_000_000);
    assert_eq!(first.sequence(&batch), 42);
    assert_eq!(second.key.as_deref(), Some(&b"k1"[..]));
    assert_eq!(second.value.as_deref(), Some(&b"hello"[..]));
    assert_eq!(second.headers.len(), 1);
    assert_eq!(second.headers[0].key, "h");
    assert_eq!(second.headers[0].value.as_deref(), Some(&b"x"[..]));
    assert_eq!(second.timestamp_delta, 300);
    assert_eq!(second.offset(&batch), 1);
    assert_eq!(second.timestamp(&batch), 1_700_000_000_300);
    assert_eq!(second.sequence(&batch), 43);
}

#[test]
fn header_accessors_read_the_golden_batch() {
    let bytes = golden_bytes();
    let header = BatchHeader::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(header.size_in_bytes(), Some(89));
    assert_eq!(header.records_count, 2);
    assert_eq!(header.last_offset_delta, 1);
    assert_eq!(header.producer_id, 1000);
    assert_eq!(header.producer_epoch, 3);
    assert_eq!(header.base_sequence, 42);
    assert_eq!(header.last_sequence(), 43);
    assert_eq!(header.crc, 0x20ff_8a07);
    assert_eq!(header.compression(), Ok(Compression::None));
    assert!(!header.is_transactional());
    assert_eq!(header.timestamp_type(), TimestampType::CreateTime);
}
