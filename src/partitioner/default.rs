//! kiel's default partitioner: the Java producer's built-in placement.
//!
//! Keyed records are hashed with murmur2 over all partitions, so they land where a Java
//! producer (or librdkafka with `murmur2_random`) would put them. Keyless records follow the
//! KIP-794 uniform sticky scheme described in the `sticky` module.
//!
//! # References
//! - Apache Kafka `clients/.../producer/KafkaProducer.java` (`partition`: a key is hashed unless
//!   `partitioner.ignore.keys`; otherwise the accumulator uses the sticky partition).
//! - Apache Kafka `clients/.../producer/internals/BuiltInPartitioner.java`.
//! - Apache Kafka `ProducerConfig.java`, `partitioner.ignore.keys` (default `false`).

use super::murmur2::murmur2_partition;
use super::sticky::StickyPartitions;
use super::{Partitioner, TopicPartitions};

/// The Java producer's built-in partitioner (used when `partitioner.class` is unset), and
/// kiel's default.
///
/// - A record with a key, even an empty one, goes to
///   `to_positive(murmur2(key)) % partition_count`, counting all partitions of the topic,
///   with a leader or not.
/// - A record without a key (or any record, with [`ignore_keys`](Self::ignore_keys)) goes to
///   the topic's sticky partition, which changes after `batch_size` bytes were placed on it, to
///   a random available partition other than the previous one (see [`UniformStickyPartitioner`]
///   for how this differs in detail from Java).
///
/// Java's adaptive partitioning, which favours partitions with shorter queues, is not
/// implemented: kiel picks uniformly among the available partitions. Bytes of keyed records do
/// not count towards the sticky partition's share, as in Java.
///
/// [`UniformStickyPartitioner`]: super::UniformStickyPartitioner
#[derive(Debug)]
pub struct DefaultPartitioner {
    sticky: StickyPartitions,
    ignore_keys: bool,
}

impl DefaultPartitioner {
    /// Hashes keys, and moves keyless records to another partition after `batch_size` bytes
    /// (the producer's `batch.size`).
    pub fn new(batch_size: usize) -> Self {
        Self {
            sticky: StickyPartitions::new(batch_size),
            ignore_keys: false,
        }
    }

    /// With `true`, keys are not used for placement: every record is placed stickily (Java's
    /// `partitioner.ignore.keys`, default `false`).
    pub fn ignore_keys(mut self, ignore_keys: bool) -> Self {
        self.ignore_keys = ignore_keys;
        self
    }

    /// Whether keys are ignored.
    pub fn ignores_keys(&self) -> bool {
        self.ignore_keys
    }

    /// Bytes placed on a sticky partition before switching.
    pub fn batch_size(&self) -> usize {
        self.sticky.batch_size()
    }
}

impl Partitioner for DefaultPartitioner {
    fn partition(
        &self,
        topics: &TopicPartitions<'_>,
        key: Option<&[u8]>,
        record_size: usize,
    ) -> i32 {
        match key {
            Some(key) if !self.ignore_keys => murmur2_partition(key, topics.partition_count),
            _ => self.sticky.place(topics, record_size),
        }
    }

    fn batch_full(&self, topic: &str, partition: i32) {
        self.sticky.batch_full(topic, partition);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partitioner::murmur2::{murmur2, to_positive};

    fn topic<'a>(count: i32, available: &'a [i32]) -> TopicPartitions<'a> {
        TopicPartitions {
            topic: "t",
            partition_count: count,
            available,
        }
    }

    #[test]
    fn keyed_records_are_hashed_over_all_partitions() {
        let partitioner = DefaultPartitioner::new(16_384);
        let topics = topic(12, &[5]);
        for key in [b"kafka".as_slice(), b"foobar", b"21", b""] {
            let expected = to_positive(murmur2(key)) % 12;
            assert_eq!(partitioner.partition(&topics, Some(key), 100), expected);
        }
    }

    #[test]
    fn keyless_records_are_sticky_and_keyed_bytes_do_not_count() {
        // Without a full batch, sticky placement moves on after twice 50 bytes.
        let partitioner = DefaultPartitioner::new(50);
        let topics = topic(50, &[]);
        let sticky = partitioner.partition(&topics, None, 60);
        for _ in 0..10 {
            partitioner.partition(&topics, Some(b"key"), 1_000);
        }
        assert_eq!(partitioner.partition(&topics, None, 40), sticky);
        assert_ne!(partitioner.partition(&topics, None, 1), sticky);
    }

    #[test]
    fn ignore_keys_places_keyed_records_stickily() {
        let partitioner = DefaultPartitioner::new(1_000).ignore_keys(true);
        assert!(partitioner.ignores_keys());
        let topics = topic(1_000, &[]);
        let first = partitioner.partition(&topics, Some(b"x"), 1);
        for key in [b"y".as_slice(), b"z", b"kafka"] {
            assert_eq!(partitioner.partition(&topics, Some(key), 1), first);
        }
    }
}
