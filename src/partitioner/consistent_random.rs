//! librdkafka's default partitioner, `consistent_random`: CRC-32 of the key.
//!
//! # References
//! - librdkafka `src/rdkafka_msg.c`, `rd_kafka_msg_partitioner_consistent` and
//!   `rd_kafka_msg_partitioner_consistent_random` (`keylen == 0` means random).
//! - librdkafka CONFIGURATION.md, `partitioner` (default `consistent_random`) and
//!   `sticky.partitioning.linger.ms`.

use super::candidates::Candidates;
use super::crc32::crc32_ieee;
use super::{Partitioner, TopicPartitions};

/// Places keyed records where librdkafka's default partitioner does: `crc32_ieee(key) %
/// partition_count`, over all partitions, computed on unsigned 32-bit values.
///
/// Use it to keep key placement compatible with producers built on librdkafka (confluent-kafka
/// for Python and Go, rdkafka for Rust, and others) that kept the default. It is **not**
/// compatible with the Java producer, which hashes with murmur2 (see [`DefaultPartitioner`]).
///
/// A record with no key or an empty key goes to a random partition among the available ones
/// (all when none is available). librdkafka by default makes such records sticky for
/// `sticky.partitioning.linger.ms` (10 ms); kiel's version draws for every record.
///
/// [`DefaultPartitioner`]: super::DefaultPartitioner
#[derive(Debug, Clone, Default)]
pub struct ConsistentRandomPartitioner;

impl ConsistentRandomPartitioner {
    /// A `consistent_random` partitioner.
    pub fn new() -> Self {
        Self
    }
}

/// The partition librdkafka's `consistent` hashing gives `key` among `partition_count`
/// partitions; 0 when the count is 0 or negative.
pub fn crc32_partition(key: &[u8], partition_count: i32) -> i32 {
    if partition_count <= 0 {
        return 0;
    }
    // The remainder is below partition_count, so it fits in i32.
    (crc32_ieee(key) % partition_count as u32) as i32
}

impl Partitioner for ConsistentRandomPartitioner {
    fn partition(
        &self,
        topics: &TopicPartitions<'_>,
        key: Option<&[u8]>,
        _record_size: usize,
    ) -> i32 {
        match key {
            Some(key) if !key.is_empty() => crc32_partition(key, topics.partition_count),
            _ => Candidates::of(topics).map_or(0, |candidates| candidates.random()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic(count: i32) -> TopicPartitions<'static> {
        TopicPartitions {
            topic: "t",
            partition_count: count,
            available: &[],
        }
    }

    #[test]
    fn keyed_placement_follows_crc32() {
        let partitioner = ConsistentRandomPartitioner;
        // crc32("123456789") = 0xCBF43926 = 3421780262: the unsigned value is reduced, so a
        // value above i32::MAX is not mistaken for a negative one.
        assert_eq!(crc32_ieee(b"123456789"), 3_421_780_262);
        assert_eq!(partitioner.partition(&topic(10), Some(b"123456789"), 1), 2);
        assert_eq!(partitioner.partition(&topic(7), Some(b"123456789"), 1), 5);
        // crc32("a") = 0xE8B7BE43 = 3904355907.
        assert_eq!(partitioner.partition(&topic(100), Some(b"a"), 1), 7);
        // Availability does not matter for keyed records.
        let unavailable = TopicPartitions {
            available: &[0],
            ..topic(100)
        };
        assert_eq!(partitioner.partition(&unavailable, Some(b"a"), 1), 7);
    }

    #[test]
    fn empty_and_null_keys_are_spread_over_available_partitions() {
        let partitioner = ConsistentRandomPartitioner;
        let topics = TopicPartitions {
            available: &[10, 20, 30],
            ..topic(40)
        };
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            seen.insert(partitioner.partition(&topics, None, 1));
            seen.insert(partitioner.partition(&topics, Some(b""), 1));
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), [10, 20, 30]);
    }
}
