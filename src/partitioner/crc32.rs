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

/// Lookup tables for slicing-by-8: `TABLES[0][b]` is the CRC of the byte `b`, and
/// `TABLES[k][b]` is the CRC of `b` followed by `k` zero bytes.
const TABLES: [[u32; 256]; 8] = build_tables();

const fn build_tables() -> [[u32; 256]; 8] {
    let mut tables = [[0u32; 256]; 8];
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
        tables[0][byte] = crc;
        byte += 1;
    }
    let mut k = 1;
    while k < 8 {
        let mut byte = 0;
        while byte < 256 {
            let previous = tables[k - 1][byte];
            tables[k][byte] = (previous >> 8) ^ tables[0][(previous & 0xFF) as usize];
            byte += 1;
        }
        k += 1;
    }
    tables
}

/// Feeds one byte into the (pre-inverted) CRC register.
fn update_byte(crc: u32, byte: u8) -> u32 {
    TABLES[0][usize::from((crc as u8) ^ byte)] ^ (crc >> 8)
}

/// CRC-32/IEEE (zlib's `crc32`) of `bytes`.
///
/// librdkafka places a keyed record at `crc32_ieee(key) % partition_count` under its default
/// `consistent_random` partitioner; see
/// [`ConsistentRandomPartitioner`](super::ConsistentRandomPartitioner).
pub fn crc32_ieee(bytes: &[u8]) -> u32 {
    let mut crc = u32::MAX;
    let mut blocks = bytes.chunks_exact(8);
    for block in &mut blocks {
        // Eight bytes at a time: the low four are combined with the register, and each byte
        // is looked up in the table that accounts for the bytes following it in the block.
        let low = crc ^ u32::from_le_bytes([block[0], block[1], block[2], block[3]]);
        crc = TABLES[7][usize::from(low as u8)]
            ^ TABLES[6][usize::from((low >> 8) as u8)]
            ^ TABLES[5][usize::from((low >> 16) as u8)]
            ^ TABLES[4][usize::from((low >> 24) as u8)]
            ^ TABLES[3][usize::from(block[4])]
            ^ TABLES[2][usize::from(block[5])]
            ^ TABLES[1][usize::from(block[6])]
            ^ TABLES[0][usize::from(block[7])];
    }
    !blocks
        .remainder()
        .iter()
        .fold(crc, |crc, &byte| update_byte(crc, byte))
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
