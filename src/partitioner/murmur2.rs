//! Murmur2, the key hash of the Java producer, and the partitioner built on it alone.
//!
//! A keyed record goes to `to_positive(murmur2(key)) % partition_count`, where the count covers
//! every partition of the topic, with or without a leader, so a key always lands on the same
//! partition as long as the partition count does not change. This is the placement of the Java
//! producer's built-in partitioner and of librdkafka's `murmur2` and `murmur2_random`.
//!
//! The hash is MurmurHash2 (32-bit) with Kafka's seed 0x9747B28C, reading the input as
//! little-endian 4-byte words; all arithmetic wraps and all shifts are logical.
//!
//! # References
//! - Apache Kafka `clients/src/main/java/org/apache/kafka/common/utils/Utils.java`, `murmur2`
//!   and `toPositive` (`number & 0x7fffffff`, not `abs`); vectors in `UtilsTest.testMurmur2`.
//! - Apache Kafka `BuiltInPartitioner.partitionForKey`.
//! - librdkafka `src/rdmurmur2.c` (`unittest_murmur2` vectors) and `src/rdkafka_msg.c`
//!   (`rd_kafka_msg_partitioner_murmur2`, `rd_kafka_msg_partitioner_murmur2_random`).

use super::candidates::Candidates;
use super::{Partitioner, TopicPartitions};

const SEED: u32 = 0x9747_B28C;
const MULTIPLIER: u32 = 0x5BD1_E995;
const SHIFT: u32 = 24;

/// Kafka's 32-bit murmur2 hash of `bytes`, as the signed value Java's `Utils.murmur2` returns.
///
/// `murmur2(b"")` is `0x106E08D9`; librdkafka hashes a NULL key to the same value.
pub fn murmur2(bytes: &[u8]) -> i32 {
    // Java lengths are `int`; a slice longer than that cannot come from Java anyway.
    let mut hash = SEED ^ (bytes.len() as u32);
    let mut words = bytes.chunks_exact(4);
    for word in &mut words {
        let mut k = u32::from_le_bytes([word[0], word[1], word[2], word[3]]);
        k = k.wrapping_mul(MULTIPLIER);
        k ^= k >> SHIFT;
        k = k.wrapping_mul(MULTIPLIER);
        hash = hash.wrapping_mul(MULTIPLIER) ^ k;
    }
    if let [first, rest @ ..] = words.remainder() {
        if let Some(&third) = rest.get(1) {
            hash ^= u32::from(third) << 16;
        }
        if let Some(&second) = rest.first() {
            hash ^= u32::from(second) << 8;
        }
        hash ^= u32::from(*first);
        hash = hash.wrapping_mul(MULTIPLIER);
    }
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(MULTIPLIER);
    hash ^= hash >> 15;
    hash as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (so `i32::MIN` maps to 0, unlike `abs`).
pub fn to_positive(number: i32) -> i32 {
    number & 0x7FFF_FFFF
}

/// The partition the Java producer gives `key` in a topic of `partition_count` partitions:
/// `to_positive(murmur2(key)) % partition_count`.
///
/// Returns 0 when `partition_count` is 0 or negative (no partition exists).
pub fn murmur2_partition(key: &[u8], partition_count: i32) -> i32 {
    if partition_count <= 0 {
        return 0;
    }
    to_positive(murmur2(key)) % partition_count
}

/// What [`Murmur2Partitioner`] does with a record that has no key (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NullKeys {
    /// A random available partition (librdkafka `murmur2_random`).
    Random,
    /// Hashed like the empty key, so all of them go to one partition (librdkafka `murmur2`).
    HashAsEmpty,
}

/// Places every keyed record by murmur2 hash, exactly like the Java producer.
///
/// A non-null key, even an empty one, is hashed over all partitions of the topic. Records
/// without a key go to a random available partition by default (librdkafka's
/// `murmur2_random`, which its documentation calls functionally equivalent to the Java
/// default); [`Murmur2Partitioner::hashing_null_keys`] instead sends them all to the partition
/// of the empty key (librdkafka's `murmur2`).
///
/// Unlike [`DefaultPartitioner`](super::DefaultPartitioner), keyless records are not sticky:
/// each one is placed independently, which makes smaller batches.
#[derive(Debug, Clone)]
pub struct Murmur2Partitioner {
    null_keys: NullKeys,
}

impl Murmur2Partitioner {
    /// Keyed records hashed, keyless records random (librdkafka `murmur2_random`).
    pub fn new() -> Self {
        Self {
            null_keys: NullKeys::Random,
        }
    }

    /// Keyed records hashed, keyless records hashed as the empty key (librdkafka `murmur2`).
    pub fn hashing_null_keys() -> Self {
        Self {
            null_keys: NullKeys::HashAsEmpty,
        }
    }
}

impl Default for Murmur2Partitioner {
    fn default() -> Self {
        Self::new()
    }
}

impl Partitioner for Murmur2Partitioner {
    fn partition(
        &self,
        topics: &TopicPartitions<'_>,
        key: Option<&[u8]>,
        _record_size: usize,
    ) -> i32 {
        match (key, self.null_keys) {
            (Some(key), _) => murmur2_partition(key, topics.partition_count),
            (None, NullKeys::HashAsEmpty) => murmur2_partition(&[], topics.partition_count),
            (None, NullKeys::Random) => Candidates::of(topics).map_or(0, |c| c.random()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apache Kafka `UtilsTest.testMurmur2`: input, Java `int` result.
    const KAFKA_VECTORS: [(&str, i32); 6] = [
        ("21", -973_932_308),
        ("foobar", -790_332_482),
        ("a-little-bit-long-string", -985_981_536),
        ("a-little-bit-longer-string", -1_486_304_829),
        (
            "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
            -58_897_971,
        ),
        ("abc", 479_470_107),
    ];

    /// librdkafka `unittest_murmur2`: input, result as an unsigned 32-bit value.
    const LIBRDKAFKA_VECTORS: [(&str, u32); 11] = [
        ("kafka", 0xD067_CF64),
        ("giberish123456789", 0x8F55_2B0C),
        ("1234", 0x9FC9_7B14),
        ("234", 0xE7C0_09CA),
        ("34", 0x8739_30DA),
        ("4", 0x5A4B_5CA1),
        ("PreAmbleWillBeRemoved,ThePrePartThatIs", 0x7842_4F1C),
        ("reAmbleWillBeRemoved,ThePrePartThatIs", 0x4A62_B377),
        ("eAmbleWillBeRemoved,ThePrePartThatIs", 0xE0E4_E09E),
        ("AmbleWillBeRemoved,ThePrePartThatIs", 0x62B8_B43F),
        ("", 0x106E_08D9),
    ];

    #[test]
    fn kafka_vectors() {
        for (input, expected) in KAFKA_VECTORS {
            assert_eq!(murmur2(input.as_bytes()), expected, "murmur2({input:?})");
        }
    }

    #[test]
    fn librdkafka_vectors() {
        for (input, expected) in LIBRDKAFKA_VECTORS {
            assert_eq!(
                murmur2(input.as_bytes()) as u32,
                expected,
                "murmur2({input:?})"
            );
        }
    }

    #[test]
    fn to_positive_values_of_the_kafka_vectors() {
        let expected = [
            1_173_551_340,
            1_357_151_166,
            1_161_502_112,
            661_178_819,
            2_088_585_677,
            479_470_107,
        ];
        for ((input, _), positive) in KAFKA_VECTORS.into_iter().zip(expected) {
            assert_eq!(
                to_positive(murmur2(input.as_bytes())),
                positive,
                "{input:?}"
            );
        }
    }

    #[test]
    fn to_positive_is_not_abs() {
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(7), 7);
    }

    #[test]
    fn keyed_partition_uses_all_partitions() {
        // toPositive(murmur2("foobar")) = 1357151166 = 7 * 193878738.
        assert_eq!(1_357_151_166 % 7, 0);
        let topics = TopicPartitions {
            topic: "t",
            partition_count: 7,
            available: &[3],
        };
        let partitioner = Murmur2Partitioner::new();
        // Partition 0 has no leader, yet the key still maps to it.
        assert_eq!(partitioner.partition(&topics, Some(b"foobar"), 10), 0);
        assert_eq!(murmur2_partition(b"abc", 10), 479_470_107 % 10);
    }

    #[test]
    fn empty_key_is_hashed_and_null_key_is_random() {
        let empty_partition = to_positive(0x106E_08D9) % 1000;
        let topics = TopicPartitions {
            topic: "t",
            partition_count: 1000,
            available: &[],
        };
        let random = Murmur2Partitioner::new();
        for _ in 0..20 {
            assert_eq!(random.partition(&topics, Some(b""), 0), empty_partition);
        }
        let null_placements: std::collections::HashSet<i32> = (0..50)
            .map(|_| random.partition(&topics, None, 0))
            .collect();
        assert!(null_placements.len() > 1, "null keys should be spread out");

        let hashing = Murmur2Partitioner::hashing_null_keys();
        assert_eq!(hashing.partition(&topics, None, 0), empty_partition);
    }

    #[test]
    fn no_partitions_gives_zero() {
        assert_eq!(murmur2_partition(b"x", 0), 0);
        assert_eq!(murmur2_partition(b"x", -4), 0);
    }
}
