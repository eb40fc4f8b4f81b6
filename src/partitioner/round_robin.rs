//! Round-robin placement, ignoring keys.
//!
//! # References
//! - Apache Kafka `clients/src/main/java/org/apache/kafka/clients/producer/RoundRobinPartitioner.java`
//!   (per-topic counter, index into the available partitions, all partitions if none is
//!   available).

use std::sync::atomic::{AtomicU64, Ordering};

use super::candidates::Candidates;
use super::topic_map::TopicMap;
use super::{Partitioner, TopicPartitions};

/// Sends successive records of a topic to successive partitions, like Java's
/// `RoundRobinPartitioner`.
///
/// Each topic has a counter; record `n` goes to the `n % len`-th available partition (of all
/// partitions when none is available). Keys are ignored. When the set of available partitions
/// changes, the cycle continues from the same counter over the new set.
///
/// Every record starts its own batch on its partition, so this spreads load evenly at the cost
/// of small batches.
#[derive(Debug)]
pub struct RoundRobinPartitioner {
    counters: TopicMap<AtomicU64>,
}

impl RoundRobinPartitioner {
    /// Starts every topic at its first candidate partition.
    pub fn new() -> Self {
        Self {
            counters: TopicMap::new(),
        }
    }
}

impl Default for RoundRobinPartitioner {
    fn default() -> Self {
        Self::new()
    }
}

impl Partitioner for RoundRobinPartitioner {
    fn partition(
        &self,
        topics: &TopicPartitions<'_>,
        _key: Option<&[u8]>,
        _record_size: usize,
    ) -> i32 {
        let Some(candidates) = Candidates::of(topics) else {
            return 0;
        };
        let counter = self.counters.with(
            topics.topic,
            || AtomicU64::new(0),
            |counter| counter.fetch_add(1, Ordering::Relaxed),
        );
        candidates.by_counter(counter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycles_over_available_partitions() {
        let partitioner = RoundRobinPartitioner::new();
        let topics = TopicPartitions {
            topic: "t",
            partition_count: 6,
            available: &[0, 2, 5],
        };
        let placed: Vec<i32> = (0..7)
            .map(|_| partitioner.partition(&topics, Some(b"same key"), 10))
            .collect();
        assert_eq!(placed, [0, 2, 5, 0, 2, 5, 0]);
    }

    #[test]
    fn cycles_over_all_partitions_when_none_is_available() {
        let partitioner = RoundRobinPartitioner::new();
        let topics = TopicPartitions {
            topic: "t",
            partition_count: 3,
            available: &[],
        };
        let placed: Vec<i32> = (0..5)
            .map(|_| partitioner.partition(&topics, None, 1))
            .collect();
        assert_eq!(placed, [0, 1, 2, 0, 1]);
    }

    #[test]
    fn each_topic_has_its_own_counter() {
        let partitioner = RoundRobinPartitioner::new();
        let a = TopicPartitions {
            topic: "a",
            partition_count: 4,
            available: &[],
        };
        let b = TopicPartitions { topic: "b", ..a };
        assert_eq!(partitioner.partition(&a, None, 1), 0);
        assert_eq!(partitioner.partition(&a, None, 1), 1);
        assert_eq!(partitioner.partition(&b, None, 1), 0);
        assert_eq!(partitioner.partition(&a, None, 1), 2);
    }
}
