//! Partitioners: which partition a record goes to when it does not name one.
//!
//! | partitioner | keyed records | keyless records | matches |
//! |---|---|---|---|
//! | [`DefaultPartitioner`] (default) | murmur2 over all partitions | sticky, switching after `batch.size` bytes | Java producer 3.3+ built-in (KIP-794), minus adaptive weighting |
//! | [`Murmur2Partitioner`] | murmur2 over all partitions | random (or one fixed partition) | librdkafka `murmur2_random` (`murmur2`) |
//! | [`UniformStickyPartitioner`] | sticky | sticky | Java with `partitioner.ignore.keys=true` |
//! | [`RoundRobinPartitioner`] | next partition in turn | next partition in turn | Java `RoundRobinPartitioner` |
//! | [`RandomPartitioner`] | random | random | librdkafka `random` |
//! | [`ConsistentRandomPartitioner`] | CRC-32 over all partitions | random (also for empty keys) | librdkafka `consistent_random` (its default) |
//!
//! Key hashing always counts every partition of the topic, so a key keeps its partition while
//! leaders come and go; key-independent choices prefer partitions that have a leader and use
//! all partitions only when none has one. Use the same partitioner as the other producers of a
//! topic if records with equal keys must meet on one partition: Java and librdkafka's default
//! disagree ([`murmur2`] versus [`crc32_ieee`]).
//!
//! [`PartitionerKind`] names the built-in partitioners for configuration.
//!
//! # Examples
//!
//! ```
//! use kiel::partitioner::{murmur2_partition, DefaultPartitioner, Partitioner, TopicPartitions};
//!
//! let partitioner = DefaultPartitioner::new(16_384);
//! let topics = TopicPartitions { topic: "events", partition_count: 6, available: &[0, 1, 2, 3, 4, 5] };
//! let partition = partitioner.partition(&topics, Some(b"user-42"), 120);
//! assert_eq!(partition, murmur2_partition(b"user-42", 6));
//! ```
//!
//! # References
//! - Apache Kafka `clients/.../producer/internals/BuiltInPartitioner.java`,
//!   `clients/.../producer/RoundRobinPartitioner.java`, `clients/.../common/utils/Utils.java`.
//! - KIP-480 (sticky partitioner) and KIP-794 (strictly uniform sticky partitioner).
//! - librdkafka `src/rdkafka_msg.c` (built-in partitioners), `src/rdmurmur2.c`,
//!   `src/rdcrc32.h`, CONFIGURATION.md (`partitioner`).

mod candidates;
mod consistent_random;
mod crc32;
mod default;
mod kind;
mod murmur2;
mod random;
mod round_robin;
mod sticky;
mod topic_map;
pub(crate) use topic_map::TopicHashMap;

pub use consistent_random::{crc32_partition, ConsistentRandomPartitioner};
pub use crc32::crc32_ieee;
pub use default::DefaultPartitioner;
pub use kind::{PartitionerKind, UnknownPartitionerError};
pub use murmur2::{murmur2, murmur2_partition, to_positive, Murmur2Partitioner};
pub use random::RandomPartitioner;
pub use round_robin::RoundRobinPartitioner;
pub use sticky::UniformStickyPartitioner;

/// What a partitioner sees about the record's topic.
#[derive(Debug, Clone, Copy)]
pub struct TopicPartitions<'a> {
    /// The topic's name.
    pub topic: &'a str,
    /// Number of partitions of the topic (all of them, available or not).
    pub partition_count: i32,
    /// Partitions that currently have a leader (sorted); may be empty when none does.
    pub available: &'a [i32],
}

/// Chooses the partition of records that do not name one.
///
/// The producer calls it from many threads at once through `&self`; implementations keep any
/// state (sticky partitions, counters) behind their own synchronisation.
///
/// `partition_count` is at least 1 whenever the producer asks. Given 0 or a negative count,
/// where no valid answer exists, kiel's partitioners return 0.
pub trait Partitioner: Send + Sync + std::fmt::Debug + 'static {
    /// Picks a partition in 0..partition_count for a record with this key and encoded size
    /// (what it will add to a batch: a typical position's varints, not the worst case).
    fn partition(
        &self,
        topics: &TopicPartitions<'_>,
        key: Option<&[u8]>,
        record_size: usize,
    ) -> i32;

    /// The open batch of `partition` of `topic` is full and goes out now; a record this
    /// partitioner placed there filled it. Sticky partitioners move on here, so that the
    /// next records start a batch elsewhere instead of leaving a few behind to wait out
    /// `linger.ms`. Does nothing unless overridden.
    fn batch_full(&self, topic: &str, partition: i32) {
        let _ = (topic, partition);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One of every built-in partitioner, with a small batch size so sticky ones switch often.
    fn all_partitioners() -> Vec<std::sync::Arc<dyn Partitioner>> {
        let mut all: Vec<std::sync::Arc<dyn Partitioner>> = PartitionerKind::ALL
            .iter()
            .map(|kind| kind.build(64))
            .collect();
        all.push(std::sync::Arc::new(
            DefaultPartitioner::new(64).ignore_keys(true),
        ));
        all
    }

    /// A partition count and a sorted, duplicate-free subset of its partitions.
    fn topic_shape() -> impl Strategy<Value = (i32, Vec<i32>)> {
        prop_oneof![Just(1), 1..8i32, 1..100_000i32].prop_flat_map(|count| {
            let bound = count.min(64);
            (
                Just(count),
                proptest::collection::btree_set(0..bound, 0..=bound as usize)
                    .prop_map(|set| set.into_iter().collect::<Vec<_>>()),
            )
        })
    }

    proptest! {
        #[test]
        fn partitions_are_always_in_range(
            (count, available) in topic_shape(),
            records in proptest::collection::vec(
                (proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40)), 0..200usize),
                1..40,
            ),
            topic in "[a-c]",
        ) {
            let topics = TopicPartitions { topic: &topic, partition_count: count, available: &available };
            for partitioner in all_partitioners() {
                for (key, size) in &records {
                    let partition = partitioner.partition(&topics, key.as_deref(), *size);
                    prop_assert!((0..count).contains(&partition), "{partitioner:?} gave {partition} of {count}");
                }
            }
        }

        #[test]
        fn keyless_choices_respect_availability(
            (count, available) in topic_shape(),
            sizes in proptest::collection::vec(0..200usize, 1..40),
        ) {
            let topics = TopicPartitions { topic: "t", partition_count: count, available: &available };
            let keyless: [Box<dyn Partitioner>; 4] = [
                Box::new(DefaultPartitioner::new(64)),
                Box::new(RandomPartitioner),
                Box::new(RoundRobinPartitioner::new()),
                Box::new(ConsistentRandomPartitioner),
            ];
            for partitioner in &keyless {
                for &size in &sizes {
                    let partition = partitioner.partition(&topics, None, size);
                    prop_assert!(available.is_empty() || available.contains(&partition));
                }
            }
        }

        #[test]
        fn arbitrary_available_lists_stay_in_range(
            count in 1..10i32,
            available in proptest::collection::vec(any::<i32>(), 0..10),
        ) {
            let topics = TopicPartitions { topic: "t", partition_count: count, available: &available };
            for partitioner in all_partitioners() {
                for _ in 0..20 {
                    let partition = partitioner.partition(&topics, None, 50);
                    prop_assert!((0..count).contains(&partition));
                }
            }
        }

        #[test]
        fn keyed_placement_is_deterministic(key in proptest::collection::vec(any::<u8>(), 0..64), count in 1..10_000i32) {
            let topics = TopicPartitions { topic: "t", partition_count: count, available: &[] };
            let default = DefaultPartitioner::new(64);
            let expected = murmur2_partition(&key, count);
            prop_assert_eq!(default.partition(&topics, Some(&key), 1), expected);
            prop_assert_eq!(default.partition(&topics, Some(&key), 1), expected);
            if !key.is_empty() {
                prop_assert_eq!(
                    ConsistentRandomPartitioner.partition(&topics, Some(&key), 1),
                    (crc32_ieee(&key) % count as u32) as i32
                );
            }
        }
    }

    #[test]
    fn no_partitions_gives_zero() {
        let topics = TopicPartitions {
            topic: "t",
            partition_count: 0,
            available: &[],
        };
        for partitioner in all_partitioners() {
            assert_eq!(partitioner.partition(&topics, Some(b"k"), 1), 0);
            assert_eq!(partitioner.partition(&topics, None, 1), 0);
        }
    }

    #[test]
    fn partitioners_are_shareable_across_threads() {
        let partitioner: std::sync::Arc<dyn Partitioner> = PartitionerKind::Default.build(100);
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let partitioner = std::sync::Arc::clone(&partitioner);
                std::thread::spawn(move || {
                    let topics = TopicPartitions {
                        topic: "shared",
                        partition_count: 5,
                        available: &[1, 2, 3],
                    };
                    (0..1_000)
                        .all(|_| [1, 2, 3].contains(&partitioner.partition(&topics, None, 10)))
                })
            })
            .collect();
        for handle in handles {
            assert!(matches!(handle.join(), Ok(true)));
        }
    }
}
