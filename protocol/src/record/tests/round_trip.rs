//! Build-then-decode round trips for every codec, builder behaviour, and decode_all.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

use super::{sample_batch, CODECS};
use crate::compression::Compression;
use crate::error::DecodeError;
use crate::record::{
    record_size, verify_batch, BatchHeader, BatchOptions, DecodeOptions, RecordBatch,
    RecordBatchBuilder, RecordHeader, TimestampType, RECORD_BATCH_OVERHEAD,
};

/// One record as the test generates it.
#[derive(Debug, Clone)]
struct Input {
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<RecordHeader>,
}

fn header_strategy() -> impl Strategy<Value = RecordHeader> {
    // A tiny key alphabet makes duplicate keys common; `\PC` adds non-ASCII UTF-8.
    let key = prop_oneof!["[ab]{0,2}", "\\PC{0,6}"];
    let value = proptest::option::of(vec(any::<u8>(), 0..12));
    (key, value).prop_map(|(key, value)| RecordHeader::new(key, value.map(Bytes::from)))
}

fn input_strategy() -> impl Strategy<Value = Input> {
    // Mostly realistic timestamps (so later records are often earlier than the first),
    // sometimes any i64 (so deltas wrap).
    let timestamp = prop_oneof![
        4 => 1_600_000_000_000i64..1_600_000_100_000,
        1 => any::<i64>(),
    ];
    let bytes = || proptest::option::of(vec(any::<u8>(), 0..80));
    (timestamp, bytes(), bytes(), vec(header_strategy(), 0..4)).prop_map(
        |(timestamp, key, value, headers)| Input {
            timestamp,
            key,
            value,
            headers,
        },
    )
}

fn options_strategy() -> impl Strategy<Value = BatchOptions> {
    (
        any::<i64>(),
        any::<i16>(),
        any::<i32>(),
        any::<bool>(),
        any::<i32>(),
    )
        .prop_map(
            |(producer_id, producer_epoch, base_sequence, transactional, ple)| BatchOptions {
                producer_id,
                producer_epoch,
                base_sequence,
                transactional,
                partition_leader_epoch: ple,
                ..BatchOptions::default()
            },
        )
}

/// Builds a batch of `inputs`, checking `record_size` and `next_record_size` on the way.
fn build(inputs: &[Input], options: &BatchOptions) -> Bytes {
    let mut builder = RecordBatchBuilder::with_capacity(64);
    for (index, input) in inputs.iter().enumerate() {
        let before = builder.size_in_bytes();
        let predicted = builder.next_record_size(
            input.timestamp,
            input.key.as_ref().map(Vec::len),
            input.value.as_ref().map(Vec::len),
            &input.headers,
        );
        let result = builder.append(
            input.timestamp,
            input.key.as_deref(),
            input.value.as_deref(),
            &input.headers,
        );
        assert_eq!(result, Ok(()));
        assert_eq!(
            builder.size_in_bytes() - before,
            predicted,
            "record {index}"
        );
        assert_eq!(builder.len(), builder.size_in_bytes());
        assert_eq!(builder.record_count(), index + 1);
        let delta = input.timestamp.wrapping_sub(inputs[0].timestamp);
        let offset_delta = i32::try_from(index).unwrap_or(i32::MAX);
        let sized = record_size(
            delta,
            offset_delta,
            input.key.as_ref().map(Vec::len),
            input.value.as_ref().map(Vec::len),
            &input.headers,
        );
        assert_eq!(sized, predicted);
    }
    let uncompressed = builder.size_in_bytes();
    let bytes = builder
        .finish(options)
        .unwrap_or_else(|e| panic!("finish with {:?}: {e}", options.compression));
    if options.compression == Compression::None {
        assert_eq!(bytes.len(), uncompressed);
    }
    bytes
}

fn check_decoded(inputs: &[Input], options: &BatchOptions, batch: &RecordBatch) {
    let count = i32::try_from(inputs.len()).unwrap_or(i32::MAX);
    let max_timestamp = inputs.iter().map(|i| i.timestamp).max();
    assert_eq!(batch.base_offset, 0);
    assert_eq!(batch.partition_leader_epoch, options.partition_leader_epoch);
    assert_eq!(batch.last_offset_delta, count - 1);
    assert_eq!(batch.base_timestamp, inputs[0].timestamp);
    assert_eq!(Some(batch.max_timestamp), max_timestamp);
    assert_eq!(batch.producer_id, options.producer_id);
    assert_eq!(batch.producer_epoch, options.producer_epoch);
    assert_eq!(batch.base_sequence, options.base_sequence);
    assert_eq!(batch.compression, options.compression);
    assert_eq!(batch.is_transactional, options.transactional);
    assert_eq!(batch.attributes & 0x10 != 0, options.transactional);
    assert!(!batch.is_control);
    assert_eq!(batch.timestamp_type, TimestampType::CreateTime);
    assert_eq!(batch.records.len(), inputs.len());
    for (index, (record, input)) in batch.records.iter().zip(inputs).enumerate() {
        assert_eq!(record.offset(batch), index as i64);
        assert_eq!(record.timestamp(batch), input.timestamp);
        assert_eq!(record.key.as_deref(), input.key.as_deref());
        assert_eq!(record.value.as_deref(), input.value.as_deref());
        assert_eq!(record.headers, input.headers);
    }
}

proptest! {
    #[test]
    fn every_codec_round_trips(
        inputs in vec(input_strategy(), 1..8),
        options in options_strategy(),
    ) {
        for codec in CODECS {
            let options = BatchOptions { compression: codec, ..options };
            let bytes = build(&inputs, &options);
            let header = verify_batch(&bytes).unwrap_or_else(|e| panic!("{codec:?}: {e}"));
            prop_assert_eq!(header.compression(), Ok(codec));
            prop_assert_eq!(header.records_count as usize, inputs.len());
            let mut buf = bytes.clone();
            let batch = RecordBatch::decode(&mut buf)
                .unwrap_or_else(|e| panic!("decode {codec:?}: {e}"));
            prop_assert!(buf.is_empty());
            check_decoded(&inputs, &options, &batch);
        }
    }
}

#[test]
fn empty_builder_finishes_to_no_batch() {
    let builder = RecordBatchBuilder::new();
    assert!(builder.is_empty());
    assert_eq!(builder.size_in_bytes(), RECORD_BATCH_OVERHEAD);
    assert_eq!(builder.base_timestamp(), None);
    for codec in CODECS {
        let options = BatchOptions {
            compression: codec,
            ..BatchOptions::default()
        };
        let bytes = RecordBatchBuilder::new().finish(&options);
        assert_eq!(bytes, Ok(Bytes::new()), "{codec:?}");
        // ...which is a records blob holding no batch.
        assert_eq!(RecordBatch::decode_all(Bytes::new()), Ok(Vec::new()));
    }
}

#[test]
fn builder_tracks_first_and_max_timestamps() {
    let mut builder = RecordBatchBuilder::new();
    let none: &[RecordHeader] = &[];
    assert_eq!(builder.append(500, None, None, none), Ok(()));
    assert_eq!(builder.append(900, None, None, none), Ok(()));
    assert_eq!(builder.append(100, None, None, none), Ok(()));
    assert_eq!(builder.base_timestamp(), Some(500));
    assert_eq!(builder.max_timestamp(), Some(900));
    assert_eq!(builder.record_count(), 3);
}

#[test]
fn compressed_batches_carry_codec_and_compressed_length() {
    for codec in CODECS {
        let bytes = sample_batch(codec);
        let header = BatchHeader::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(header.compression(), Ok(codec));
        assert_eq!(header.attributes & 0x07, codec.attribute_id_for_test());
        assert_eq!(header.size_in_bytes(), Some(bytes.len()));
        assert_eq!(header.records_count, 3);
        assert_eq!(header.last_offset_delta, 2);
    }
}

/// The attribute ids from protocol.md §5.2, written out here rather than taken from the
/// code under test.
trait AttributeIdForTest {
    fn attribute_id_for_test(self) -> i16;
}

impl AttributeIdForTest for Compression {
    fn attribute_id_for_test(self) -> i16 {
        match self {
            Self::None => 0,
            Self::Gzip => 1,
            Self::Snappy => 2,
            Self::Lz4 => 3,
            Self::Zstd => 4,
        }
    }
}

#[test]
fn decompressed_size_is_bounded() {
    for codec in CODECS.into_iter().filter(|c| *c != Compression::None) {
        let bytes = sample_batch(codec);
        let plain = sample_batch(Compression::None);
        let section = plain.len() - RECORD_BATCH_OVERHEAD;
        let tight = DecodeOptions {
            max_decompressed_bytes: section - 1,
        };
        let result = RecordBatch::decode_with(&mut bytes.clone(), &tight);
        assert!(
            matches!(result, Err(DecodeError::Compression(_))),
            "{codec:?}: {result:?}"
        );
        let exact = DecodeOptions {
            max_decompressed_bytes: section,
        };
        let result = RecordBatch::decode_with(&mut bytes.clone(), &exact);
        assert!(result.is_ok(), "{codec:?}: {result:?}");
    }
}

#[test]
fn decode_all_reads_concatenated_batches() {
    let mut blob = Vec::new();
    for codec in CODECS {
        blob.extend_from_slice(&sample_batch(codec));
    }
    let batches =
        RecordBatch::decode_all(Bytes::from(blob.clone())).unwrap_or_else(|e| panic!("{e}"));
    let codecs: Vec<_> = batches.iter().map(|b| b.compression).collect();
    assert_eq!(codecs, CODECS);
    // All five hold the same records.
    for batch in &batches[1..] {
        assert_eq!(batch.records, batches[0].records);
    }
    // A trailing partial batch is an error.
    blob.extend_from_slice(&sample_batch(Compression::None)[..30]);
    let result = RecordBatch::decode_all(Bytes::from(blob));
    assert!(
        matches!(result, Err(DecodeError::UnexpectedEnd { .. })),
        "{result:?}"
    );
}

#[test]
fn transactional_bit_and_levels_are_written() {
    let mut builder = RecordBatchBuilder::new();
    let none: &[RecordHeader] = &[];
    assert_eq!(builder.append(1, Some(b"k"), Some(b"v"), none), Ok(()));
    let options = BatchOptions {
        compression: Compression::Gzip,
        compression_level: Some(9),
        transactional: true,
        ..BatchOptions::default()
    };
    let bytes = builder.finish(&options).unwrap_or_else(|e| panic!("{e}"));
    let header = BatchHeader::parse(&bytes).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(header.attributes, 0x10 | 1);
    assert!(header.is_transactional());
    assert!(!header.is_control());
}
