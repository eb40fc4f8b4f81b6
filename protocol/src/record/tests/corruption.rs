//! Truncation, corruption and arbitrary input never decode silently or panic; patching the
//! producer fields keeps a batch valid.

use bytes::Bytes;
use proptest::collection::vec;
use proptest::prelude::*;

use super::{sample_batch, CODECS};
use crate::compression::{compress, Compression, CompressionError};
use crate::error::DecodeError;
use crate::record::{
    patch_producer_state, verify_batch, BatchHeader, RecordBatch, RECORD_BATCH_OVERHEAD,
};

/// Recomputes the CRC of a batch a test has tampered with.
fn fix_crc(batch: &mut [u8]) {
    let crc = crc32c::crc32c(&batch[21..]);
    batch[17..21].copy_from_slice(&crc.to_be_bytes());
}

fn decode(bytes: &[u8]) -> Result<RecordBatch, DecodeError> {
    RecordBatch::decode(&mut Bytes::copy_from_slice(bytes))
}

#[test]
fn every_proper_prefix_fails() {
    for codec in CODECS {
        let bytes = sample_batch(codec);
        assert!(decode(&bytes).is_ok());
        for n in 0..bytes.len() {
            let mut prefix = bytes.slice(..n);
            let result = RecordBatch::decode(&mut prefix);
            assert!(result.is_err(), "{codec:?}: prefix {n} decoded");
            assert_eq!(prefix.len(), n, "a failed decode must not consume input");
            if n > 0 {
                assert!(RecordBatch::decode_all(bytes.slice(..n)).is_err());
            }
        }
    }
}

#[test]
fn any_single_byte_change_in_the_crc_range_is_a_crc_mismatch() {
    for codec in CODECS {
        let bytes = sample_batch(codec);
        for at in 21..bytes.len() {
            for mask in [0x01u8, 0x80, 0xff] {
                let mut corrupt = bytes.to_vec();
                corrupt[at] ^= mask;
                let result = decode(&corrupt);
                assert!(
                    matches!(result, Err(DecodeError::CrcMismatch { .. })),
                    "{codec:?}: byte {at} ^ {mask:#x}: {result:?}"
                );
            }
        }
    }
}

#[test]
fn changes_before_the_crc_range() {
    let bytes = sample_batch(Compression::None).to_vec();
    // The partition leader epoch and base offset are outside the CRC (the broker sets them).
    let mut moved = bytes.clone();
    moved[0..8].copy_from_slice(&1000i64.to_be_bytes());
    moved[12..16].copy_from_slice(&7i32.to_be_bytes());
    let batch = decode(&moved).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(batch.base_offset, 1000);
    assert_eq!(batch.partition_leader_epoch, 7);
    assert_eq!(batch.records[2].offset(&batch), 1002);
    // The stored CRC itself.
    let mut crc = bytes.clone();
    crc[20] ^= 1;
    assert!(matches!(decode(&crc), Err(DecodeError::CrcMismatch { .. })));
    // The magic is checked first.
    let mut magic = bytes.clone();
    magic[16] = 1;
    assert_eq!(decode(&magic).err(), Some(DecodeError::UnsupportedMagic(1)));
    // A batch length too small for the header.
    let mut short = bytes.clone();
    short[8..12].copy_from_slice(&48i32.to_be_bytes());
    assert!(matches!(
        decode(&short),
        Err(DecodeError::InvalidLength { .. })
    ));
    // A batch length longer than the input.
    let mut long = bytes;
    long[11] += 1;
    assert!(matches!(
        decode(&long),
        Err(DecodeError::UnexpectedEnd { .. })
    ));
}

/// Sets `recordsCount` and `lastOffsetDelta`, then fixes the CRC.
fn with_counts(bytes: &[u8], count: i32, last_offset_delta: i32) -> Vec<u8> {
    let mut tampered = bytes.to_vec();
    tampered[57..61].copy_from_slice(&count.to_be_bytes());
    tampered[23..27].copy_from_slice(&last_offset_delta.to_be_bytes());
    fix_crc(&mut tampered);
    tampered
}

#[test]
fn record_counts_must_agree() {
    for codec in CODECS {
        let bytes = sample_batch(codec); // three records
        let result = decode(&with_counts(&bytes, 3, 1));
        assert!(
            matches!(result, Err(DecodeError::InvalidValue { .. })),
            "{codec:?} lastOffsetDelta: {result:?}"
        );
        let result = decode(&with_counts(&bytes, 2, 1));
        assert!(
            matches!(result, Err(DecodeError::TrailingBytes(_))),
            "{codec:?} fewer: {result:?}"
        );
        let result = decode(&with_counts(&bytes, 4, 3));
        assert!(
            matches!(
                result,
                Err(DecodeError::UnexpectedEnd { .. } | DecodeError::InvalidLength { .. })
            ),
            "{codec:?} more: {result:?}"
        );
        let result = decode(&with_counts(&bytes, -1, -2));
        assert!(
            matches!(result, Err(DecodeError::InvalidLength { .. })),
            "{codec:?} negative: {result:?}"
        );
        let result = decode(&with_counts(&bytes, i32::MAX, i32::MAX - 1));
        assert!(
            matches!(result, Err(DecodeError::InvalidLength { .. })),
            "{codec:?} huge: {result:?}"
        );
    }
}

#[test]
fn offset_deltas_must_run_from_zero() {
    let mut bytes = sample_batch(Compression::None).to_vec();
    // Record 0: length, attributes, timestampDelta 0, then offsetDelta at 61 + 3.
    assert_eq!(bytes[RECORD_BATCH_OVERHEAD + 3], 0x00);
    bytes[RECORD_BATCH_OVERHEAD + 3] = 0x02; // offsetDelta = 1
    fix_crc(&mut bytes);
    let result = decode(&bytes);
    assert!(
        matches!(result, Err(DecodeError::InvalidValue { .. })),
        "{result:?}"
    );
}

#[test]
fn unknown_codec_bits_are_rejected() {
    for id in 5..=7u8 {
        let mut bytes = sample_batch(Compression::None).to_vec();
        bytes[22] = id;
        fix_crc(&mut bytes);
        assert_eq!(
            decode(&bytes).err(),
            Some(DecodeError::Compression(CompressionError::UnknownCodec(
                i16::from(id)
            )))
        );
    }
}

#[test]
fn patch_producer_state_rewrites_fields_and_crc() {
    for codec in CODECS {
        let original = sample_batch(codec);
        let mut patched = original.to_vec();
        assert_eq!(patch_producer_state(&mut patched, 77, 4, 1_000), Ok(()));
        let header = verify_batch(&patched).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (
                header.producer_id,
                header.producer_epoch,
                header.base_sequence
            ),
            (77, 4, 1_000)
        );
        let before = decode(&original).unwrap_or_else(|e| panic!("{e}"));
        let after = decode(&patched).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(after.producer_id, 77);
        assert_eq!(after.producer_epoch, 4);
        assert_eq!(after.base_sequence, 1_000);
        assert_eq!(after.last_sequence(), 1_002);
        assert_eq!(after.records, before.records);
        assert_eq!(after.max_timestamp, before.max_timestamp);
        // Only the producer fields and the CRC changed.
        for (at, (a, b)) in original.iter().zip(&patched).enumerate() {
            if a != b {
                assert!(
                    (17..21).contains(&at) || (43..57).contains(&at),
                    "byte {at}"
                );
            }
        }
    }
}

#[test]
fn patch_producer_state_refuses_bad_batches_and_leaves_them_alone() {
    let bytes = sample_batch(Compression::None).to_vec();
    let mut corrupt = bytes.clone();
    corrupt[70] ^= 0x10;
    let copy = corrupt.clone();
    assert!(matches!(
        patch_producer_state(&mut corrupt, 1, 1, 1),
        Err(DecodeError::CrcMismatch { .. })
    ));
    assert_eq!(corrupt, copy);
    let mut extra = bytes.clone();
    extra.push(0);
    assert_eq!(
        patch_producer_state(&mut extra, 1, 1, 1),
        Err(DecodeError::TrailingBytes(1))
    );
    let mut short = bytes[..60].to_vec();
    assert!(patch_producer_state(&mut short, 1, 1, 1).is_err());
    let mut legacy = bytes;
    legacy[16] = 1;
    assert_eq!(
        patch_producer_state(&mut legacy, 1, 1, 1),
        Err(DecodeError::UnsupportedMagic(1))
    );
}

/// A batch with the given header fields around `section` (stored as is), with a correct
/// batch length and CRC: random input that gets past the CRC into record parsing.
fn envelope(attributes: i16, count: i32, last_offset_delta: i32, section: &[u8]) -> Vec<u8> {
    let mut batch = vec![0u8; RECORD_BATCH_OVERHEAD];
    batch.extend_from_slice(section);
    let length = i32::try_from(batch.len() - 12).unwrap_or(i32::MAX);
    batch[8..12].copy_from_slice(&length.to_be_bytes());
    batch[16] = 2;
    batch[21..23].copy_from_slice(&attributes.to_be_bytes());
    batch[23..27].copy_from_slice(&last_offset_delta.to_be_bytes());
    batch[57..61].copy_from_slice(&count.to_be_bytes());
    fix_crc(&mut batch);
    batch
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..300)) {
        let _ = RecordBatch::decode(&mut Bytes::from(bytes.clone()));
        let _ = RecordBatch::decode_all(Bytes::from(bytes.clone()));
        let _ = BatchHeader::parse(&bytes);
        let _ = verify_batch(&bytes);
        let mut patched = bytes;
        let _ = patch_producer_state(&mut patched, 1, 2, 3);
    }

    #[test]
    fn arbitrary_records_sections_never_panic(
        attributes in any::<i16>(),
        count in -2i32..12,
        skew in prop_oneof![4 => Just(0i32), 1 => any::<i32>()],
        section in vec(any::<u8>(), 0..200),
    ) {
        let batch = envelope(attributes, count, (count - 1).wrapping_add(skew), &section);
        if let Ok(decoded) = decode(&batch) {
            prop_assert_eq!(decoded.records.len() as i64, i64::from(count));
        }
    }

    #[test]
    fn arbitrary_compressed_records_never_panic(
        codec_index in 0usize..5,
        count in 0i32..12,
        plain in vec(any::<u8>(), 0..200),
    ) {
        let codec = CODECS[codec_index];
        let mut section = Vec::new();
        compress(codec, None, &plain, &mut section)
            .unwrap_or_else(|e| panic!("{codec:?}: {e}"));
        let attributes = i16::from(codec_index as u8);
        let _ = decode(&envelope(attributes, count, count - 1, &section));
    }
}
