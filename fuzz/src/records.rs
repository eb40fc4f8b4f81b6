//! Checks for RecordBatch v2: decoding arbitrary bytes, and building batches from fuzz-made
//! records with every codec and reading them back.
//!
//! # References
//! - `protocol/src/record/` (builder, decoder, header, producer-state patch)
//! - `DefaultRecordBatch.java` in apache/kafka

use bytes::{Bytes, BytesMut};
use kiel_protocol::api::decode_exact;
use kiel_protocol::compression::{compress, decompress, Compression};
use kiel_protocol::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use kiel_protocol::record::{
    patch_producer_state, verify_batch, BatchHeader, BatchOptions, RecordBatch, RecordBatchBuilder,
    RecordHeader, NO_PARTITION_LEADER_EPOCH, RECORD_BATCH_OVERHEAD,
};
use kiel_protocol::{Encode, Request};

use super::pick_version;

/// The producer fields [`decode_record_batch`] patches into a copy of its input.
const PATCH: (i64, i16, i32) = (0x0123_4567_89ab, 42, 1000);

/// Byte ranges of the header that [`patch_producer_state`] may change: the CRC, and
/// producer id, epoch and base sequence.
const PATCHED: [std::ops::Range<usize>; 2] = [17..21, 43..57];

/// Input: one or more record batches, as in a Produce request's `records` or a log segment.
///
/// Checks [`RecordBatch::decode`] (consumes exactly the announced size on success and
/// nothing on error; agrees with [`BatchHeader::parse`]), [`RecordBatch::decode_all`]
/// (agrees with repeated `decode`), and [`patch_producer_state`] on a copy (changes only the
/// producer fields and the CRC, leaves a failed copy untouched, and the patched batch decodes
/// to the same records).
pub fn decode_record_batch(data: &[u8]) -> bool {
    let input = Bytes::copy_from_slice(data);
    let header = BatchHeader::parse(data);

    let mut buf = input.clone();
    let first = RecordBatch::decode(&mut buf);
    match &first {
        Ok(batch) => {
            let header = header.unwrap_or_else(|e| panic!("decoded, yet the header fails: {e}"));
            let size = header.size_in_bytes();
            assert_eq!(Some(input.len() - buf.len()), size, "bytes consumed");
            assert_eq!(
                (batch.base_offset, batch.producer_id, batch.base_sequence),
                (header.base_offset, header.producer_id, header.base_sequence)
            );
            assert_eq!(batch.records.len(), header.records_count as usize);
            assert_eq!(verify_batch(&data[..input.len() - buf.len()]), Ok(header));
            // A control batch's marker decodes or is an error, never a panic.
            assert_eq!(batch.control_record().is_some(), batch.is_control);
        }
        Err(_) => assert_eq!(buf, input, "a failed decode consumed input"),
    }

    match RecordBatch::decode_all(input.clone()) {
        Ok(batches) => {
            if let Some(batch) = batches.first() {
                assert_eq!(Ok(batch), first.as_ref(), "decode_all and decode disagree");
            } else {
                assert!(input.is_empty(), "no batches out of {} bytes", input.len());
            }
        }
        Err(_) => assert!(first.is_err() || !buf.is_empty(), "decode_all failed alone"),
    }

    let mut patched = data.to_vec();
    let (producer_id, producer_epoch, base_sequence) = PATCH;
    match patch_producer_state(&mut patched, producer_id, producer_epoch, base_sequence) {
        Err(_) => assert_eq!(patched, data, "a failed patch changed the batch"),
        Ok(()) => {
            for (at, (old, new)) in data.iter().zip(&patched).enumerate() {
                if old != new {
                    assert!(PATCHED.iter().any(|r| r.contains(&at)), "byte {at} changed");
                }
            }
            let header = verify_batch(&patched)
                .unwrap_or_else(|e| panic!("patched batch does not verify: {e}"));
            assert_eq!(
                (
                    header.producer_id,
                    header.producer_epoch,
                    header.base_sequence
                ),
                PATCH
            );
            if let Ok(original) = &first {
                let again = RecordBatch::decode(&mut Bytes::from(patched))
                    .unwrap_or_else(|e| panic!("patched batch does not decode: {e}"));
                assert_eq!(again.records, original.records, "patching changed records");
            }
        }
    }
    first.is_ok()
}

/// A cursor over the fuzzer's bytes; reads past the end give zeros and empty slices.
struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    fn byte(&mut self) -> u8 {
        let (&first, rest) = self.data.split_first().unwrap_or((&0, &[]));
        self.data = rest;
        first
    }

    fn bytes(&mut self, len: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        taken
    }

    fn i64(&mut self) -> i64 {
        let mut bytes = [0u8; 8];
        let taken = self.bytes(8);
        bytes[..taken.len()].copy_from_slice(taken);
        i64::from_be_bytes(bytes)
    }

    /// `None` (null) for 255, otherwise up to `max` bytes.
    fn nullable(&mut self, max: usize) -> Option<&'a [u8]> {
        match self.byte() {
            255 => None,
            len => Some(self.bytes(usize::from(len) % (max + 1))),
        }
    }
}

/// One record as appended.
struct Appended {
    timestamp: i64,
    key: Option<Bytes>,
    value: Option<Bytes>,
    headers: Vec<RecordHeader>,
}

/// The batch options a round trip uses: codec, level, producer fields, transactional bit.
fn batch_options(input: &mut Input<'_>) -> BatchOptions {
    let codec = Compression::ALL[usize::from(input.byte()) % Compression::ALL.len()];
    let level_selector = input.byte();
    let compression_level = match codec.level_range() {
        Some(range) if level_selector & 1 == 1 => {
            let span = i64::from(*range.end()) - i64::from(*range.start()) + 1;
            let offset = i64::from(level_selector >> 1) % span;
            i32::try_from(i64::from(*range.end()) - offset).ok()
        }
        _ => None,
    };
    let flags = input.byte();
    let idempotent = flags & 1 == 1;
    BatchOptions {
        compression: codec,
        compression_level,
        producer_id: if idempotent {
            input.i64() & i64::MAX
        } else {
            -1
        },
        producer_epoch: if idempotent {
            i16::from(input.byte())
        } else {
            -1
        },
        base_sequence: if idempotent {
            i32::from(input.byte()) << 20
        } else {
            -1
        },
        transactional: flags & 2 == 2,
        ..BatchOptions::default()
    }
}

/// Input: batch options, a Produce version selector, then records (timestamp step, key,
/// value, headers) until the bytes run out.
///
/// Builds the batch, then checks: `next_record_size` predicted each append exactly;
/// uncompressed size; the batch decodes (alone and inside a Produce request) to the same
/// header fields and records; patching the producer state keeps the records; and the
/// records section compresses and decompresses to itself with the same codec.
pub fn round_trip(data: &[u8]) -> bool {
    let mut input = Input { data };
    let options = batch_options(&mut input);
    let version_selector = input.byte();
    let first_timestamp = input.i64();

    let mut builder = RecordBatchBuilder::with_capacity(usize::from(input.byte()) * 16);
    let mut appended = Vec::new();
    let mut timestamp = first_timestamp;
    while !input.is_empty() && appended.len() < 200 {
        let step = i64::from(input.byte() as i8);
        timestamp = timestamp.wrapping_add(step * step * step);
        let key = input.nullable(64);
        let value = input.nullable(255);
        let mut headers = Vec::new();
        for _ in 0..input.byte() % 4 {
            let key_len = usize::from(input.byte() % 16);
            let key = String::from_utf8_lossy(input.bytes(key_len));
            let value = input.nullable(32).map(Bytes::copy_from_slice);
            headers.push(RecordHeader::new(key, value));
        }
        let before = builder.size_in_bytes();
        let predicted = builder.next_record_size(
            timestamp,
            key.map(<[u8]>::len),
            value.map(<[u8]>::len),
            &headers,
        );
        if let Err(e) = builder.append(timestamp, key, value, &headers) {
            panic!("append failed: {e}");
        }
        assert_eq!(
            builder.size_in_bytes() - before,
            predicted,
            "next_record_size"
        );
        appended.push(Appended {
            timestamp,
            key: key.map(Bytes::copy_from_slice),
            value: value.map(Bytes::copy_from_slice),
            headers,
        });
    }

    let uncompressed = builder.size_in_bytes();
    let batch = match builder.finish(&options) {
        Ok(batch) => batch,
        Err(e) => panic!("finish failed: {e}"),
    };
    if appended.is_empty() {
        assert!(batch.is_empty(), "an empty builder made a batch");
        return false;
    }
    if options.compression == Compression::None {
        assert_eq!(batch.len(), uncompressed, "uncompressed batch size");
    }

    let decoded = match RecordBatch::decode_all(batch.clone()) {
        Ok(mut batches) if batches.len() == 1 => batches.remove(0),
        other => panic!("built batch does not decode as one batch: {other:?}"),
    };
    check_decoded(&decoded, &options, &appended);

    let mut patched = batch.to_vec();
    if let Err(e) = patch_producer_state(&mut patched, 7, 3, 99) {
        panic!("patching a built batch failed: {e}");
    }
    let patched = RecordBatch::decode(&mut Bytes::from(patched))
        .unwrap_or_else(|e| panic!("patched batch does not decode: {e}"));
    assert_eq!(
        (
            patched.producer_id,
            patched.producer_epoch,
            patched.base_sequence
        ),
        (7, 3, 99)
    );
    assert_eq!(patched.records, decoded.records);

    check_in_produce_request(&batch, &options, version_selector);
    check_codec_round_trip(&batch, &options, uncompressed);
    true
}

/// Compares a decoded batch with what was appended and the options it was finished with.
fn check_decoded(decoded: &RecordBatch, options: &BatchOptions, appended: &[Appended]) {
    let count = appended.len();
    assert_eq!(decoded.base_offset, 0);
    assert_eq!(decoded.partition_leader_epoch, NO_PARTITION_LEADER_EPOCH);
    assert_eq!(decoded.compression, options.compression);
    assert_eq!(decoded.is_transactional, options.transactional);
    assert!(!decoded.is_control);
    assert_eq!(
        (
            decoded.producer_id,
            decoded.producer_epoch,
            decoded.base_sequence
        ),
        (
            options.producer_id,
            options.producer_epoch,
            options.base_sequence
        )
    );
    assert_eq!(decoded.last_offset_delta as usize, count - 1);
    assert_eq!(decoded.base_timestamp, appended[0].timestamp);
    let max = appended.iter().map(|r| r.timestamp).max();
    assert_eq!(Some(decoded.max_timestamp), max);
    assert_eq!(decoded.records.len(), count);
    for (i, (record, expected)) in decoded.records.iter().zip(appended).enumerate() {
        assert_eq!(record.offset_delta as usize, i);
        assert_eq!(record.timestamp(decoded), expected.timestamp, "record {i}");
        assert_eq!(record.key, expected.key, "record {i} key");
        assert_eq!(record.value, expected.value, "record {i} value");
        assert_eq!(record.headers, expected.headers, "record {i} headers");
    }
}

/// Sends the batch through a Produce request of a version that can carry its codec.
fn check_in_produce_request(batch: &Bytes, options: &BatchOptions, selector: u8) {
    let version = pick_version(ProduceRequest::VERSIONS, selector)
        .max(options.compression.min_produce_version());
    let request = ProduceRequest {
        transactional_id: options.transactional.then(|| "fuzz-tx".to_owned()),
        acks: -1,
        timeout_ms: 30_000,
        topics: vec![TopicProduceData {
            name: "fuzz".to_owned(),
            partitions: vec![PartitionProduceData {
                index: 0,
                records: Some(batch.clone()),
            }],
        }],
    };
    let mut buf = BytesMut::new();
    if let Err(e) = request.encode(&mut buf, version) {
        panic!("Produce v{version} with a built batch does not encode: {e}");
    }
    match decode_exact::<ProduceRequest>(buf.freeze(), version) {
        Ok(again) => assert_eq!(again, request, "Produce v{version} round trip"),
        Err(e) => panic!("Produce v{version} does not decode: {e}"),
    }
}

/// Compresses the records section of the uncompressed form again with the batch's codec
/// and decompresses it under an exact limit.
fn check_codec_round_trip(batch: &Bytes, options: &BatchOptions, uncompressed: usize) {
    let decoded_section = match options.compression {
        Compression::None => batch[RECORD_BATCH_OVERHEAD..].to_vec(),
        codec => {
            let mut section = Vec::new();
            let limit = uncompressed - RECORD_BATCH_OVERHEAD;
            if let Err(e) = decompress(codec, &batch[RECORD_BATCH_OVERHEAD..], &mut section, limit)
            {
                panic!("{codec}: records section does not decompress: {e}");
            }
            section
        }
    };
    assert_eq!(
        decoded_section.len(),
        uncompressed - RECORD_BATCH_OVERHEAD,
        "records section size"
    );
    let mut compressed = Vec::new();
    let codec = options.compression;
    if let Err(e) = compress(
        codec,
        options.compression_level,
        &decoded_section,
        &mut compressed,
    ) {
        panic!("{codec}: compress failed: {e}");
    }
    let mut again = Vec::new();
    if let Err(e) = decompress(codec, &compressed, &mut again, decoded_section.len()) {
        panic!("{codec}: own output does not decompress: {e}");
    }
    assert_eq!(again, decoded_section, "{codec}: round trip");
}
