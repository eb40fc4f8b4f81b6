//! Uniformly random placement, ignoring keys.
//!
//! # References
//! - librdkafka `src/rdkafka_msg.c`, `rd_kafka_msg_partitioner_random`; CONFIGURATION.md,
//!   `partitioner` = `random`.

use super::candidates::Candidates;
use super::{Partitioner, TopicPartitions};

/// Sends each record to a uniformly random partition, ignoring keys (librdkafka's `random`).
///
/// The draw is among the available partitions, or among all when none is available.
/// librdkafka draws among all partitions and draws once more if the first pick has no leader,
/// so it may still land on an unavailable one; kiel never does while one is available.
#[derive(Debug, Clone, Default)]
pub struct RandomPartitioner;

impl RandomPartitioner {
    /// A random partitioner.
    pub fn new() -> Self {
        Self
    }
}

impl Partitioner for RandomPartitioner {
    fn partition(
        &self,
        topics: &TopicPartitions<'_>,
        _key: Option<&[u8]>,
        _record_size: usize,
    ) -> i32 {
        Candidates::of(topics).map_or(0, |candidates| candidates.random())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_only_available_partitions_and_all_of_them() {
        let available = [1, 3, 4];
        let topics = TopicPartitions {
            topic: "t",
            partition_count: 5,
            available: &available,
        };
        let mut seen = [0u32; 5];
        for _ in 0..600 {
            seen[RandomPartitioner.partition(&topics, Some(b"k"), 1) as usize] += 1;
        }
        assert_eq!((seen[0], seen[2]), (0, 0));
        for partition in available {
            assert!(seen[partition as usize] > 100, "{seen:?}");
        }
    }
}
