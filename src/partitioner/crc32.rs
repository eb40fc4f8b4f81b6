//! CRC-32 (IEEE 802.3, as in zlib and Ethernet), the key hash of librdkafka's
//! `consistent` and `consistent_random` partitioners.
//!
//! Parameters: polynomial 0x04C11DB7 processed bit-reflected (0xEDB88320), initial value
//! 0xFFFFFFFF, reflected input and output, final XOR 0xFFFFFFFF. The standard check value is
//! `crc32_ieee(b"123456789") == 0xCBF4_3926`.
//!
//! This is not the CRC-32C (Castagnoli) used by Kafka record batches.
//!
//! # References
//! - librdkafka `src/rdcrc32.h` (pycrc configuration: Width 32, Poly 0x04c11db7, XorIn and
//!   XorOut 0xffffffff, ReflectIn and ReflectOut true; zlib's `crc32()` when built with zlib).
//! - librdkafka `src/rdkafka_msg.c`, `rd_kafka_msg_partitioner_consistent`.

/// The reflected form of the IEEE polynomial 0x04C11DB7.
const REFLECTED_POLYNOMIAL: u32 = 0xEDB8_8320;

/// CRC of every byte value, for byte-at-a-time processing.
const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut byte = 0;
    while byte < 256 {
        let mut crc = byte as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ REFLECTED_POLYNOMIAL
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[byte] = crc;
        byte += 1;
    }
    table
}

/// CRC-32/IEEE (zlib's `crc32`) of `bytes`.
///
/// librdkafka places a keyed record at `crc32_ieee(key) % partition_count` under its default
/// `consistent_random` partitioner; see
/// [`ConsistentRandomPartitioner`](super::ConsistentRandomPartitioner).
pub fn crc32_ieee(bytes: &[u8]) -> u32 {
    let crc = bytes.iter().fold(u32::MAX, |crc, &byte| {
        TABLE[usize::from((crc as u8) ^ byte)] ^ (crc >> 8)
    });
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time CRC straight from the definition, to check the table-driven one.
    fn crc32_bitwise(bytes: &[u8]) -> u32 {
        let mut crc = u32::MAX;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                let mask = (crc & 1).wrapping_neg();
                crc = (crc >> 1) ^ (REFLECTED_POLYNOMIAL & mask);
            }
        }
        !crc
    }

    #[test]
    fn standard_check_value() {
        assert_eq!(crc32_ieee(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn known_values() {
        assert_eq!(crc32_ieee(b""), 0);
        // zlib.crc32(b"a") and zlib.crc32(b"The quick brown fox jumps over the lazy dog").
        assert_eq!(crc32_ieee(b"a"), 0xE8B7_BE43);
        assert_eq!(
            crc32_ieee(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    #[test]
    fn table_matches_bitwise_definition() {
        let data: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        for end in 0..data.len() {
            assert_eq!(crc32_ieee(&data[..end]), crc32_bitwise(&data[..end]));
        }
    }
}
