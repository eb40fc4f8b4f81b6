//! Uniform sticky partitioning (KIP-794): fill one partition with a batch's worth of bytes,
//! then move on to another.
//!
//! Each topic has a current "sticky" partition. Every record placed this way goes to it and
//! adds its size to the bytes produced there; once the producer says that partition's batch
//! is full ([`Partitioner::batch_full`]), or those bytes reach twice `batch_size`, the next
//! record goes to a new partition, drawn uniformly among the available ones (all of them when none is
//! available) and never equal to the previous one when there is a choice. Keyless records thus
//! form full batches, and over time every available partition receives the same share.
//!
//! Differences from the Java producer (3.3+), all deliberate:
//! - Java switches after `batch.size` bytes only once the current batch is ready to send, and
//!   after `2 * batch.size` bytes regardless; kiel switches when the producer closes the
//!   sticky partition's batch because it is full (so the next records do not leave a few
//!   behind in a new batch to wait out `linger.ms`), and after `2 * batch_size` bytes
//!   regardless.
//! - Java's adaptive partitioning (`partitioner.adaptive.partitioning.enable`, on by default)
//!   weights the draw by inverse queue length; kiel draws uniformly among available partitions.
//! - Java 3.3+ may draw the same partition again; kiel, like Java's earlier sticky cache
//!   (KIP-480), always moves to a different partition when more than one is available.
//! - If the sticky partition loses its leader (or disappears), kiel switches away from it at
//!   once instead of finishing the batch's worth of bytes.
//!
//! # References
//! - KIP-794, "Strictly Uniform Sticky Partitioner".
//! - KIP-480, "Sticky Partitioner".
//! - Apache Kafka `clients/.../producer/internals/BuiltInPartitioner.java`
//!   (`updatePartitionInfo`, `nextPartition`) and `StickyPartitionCache.java` (2.4 to 3.2).

use std::sync::{Mutex, PoisonError};

use super::candidates::Candidates;
use super::topic_map::TopicMap;
use super::{Partitioner, TopicPartitions};

/// Sticky state of one topic.
#[derive(Debug)]
struct StickyState {
    /// The partition records currently go to; -1 before the first record.
    partition: i32,
    /// Bytes placed on `partition` since it was chosen.
    produced: u64,
    /// The partition's batch is full: the next record goes to another one.
    leaving: bool,
}

impl StickyState {
    const UNCHOSEN: Self = Self {
        partition: -1,
        produced: 0,
        leaving: false,
    };

    /// Moves on from `partition` if it is the current one (its batch is full).
    fn leave(&mut self, partition: i32) {
        if self.partition == partition {
            self.leaving = true;
        }
    }

    /// Places a record of `record_size` bytes and switches partitions once `batch_size` bytes
    /// went to the current one.
    fn place(&mut self, candidates: Candidates<'_>, record_size: usize, batch_size: u64) -> i32 {
        if self.leaving || !candidates.contains(self.partition) {
            self.partition = candidates.random_other_than(self.partition);
            self.produced = 0;
            self.leaving = false;
        }
        let chosen = self.partition;
        self.produced = self.produced.saturating_add(record_size as u64);
        // Normally the partition's batch fills first and the producer says so
        // (`batch_full`); this bound is for batches that never fill (sent at linger.ms, or a
        // batch that records of varying sizes closed early).
        if self.produced >= batch_size.saturating_mul(2) {
            self.partition = candidates.random_other_than(chosen);
            self.produced = 0;
        }
        chosen
    }
}

/// Per-topic sticky partitions, shared by the partitioners that place records stickily.
#[derive(Debug)]
pub(super) struct StickyPartitions {
    batch_size: u64,
    topics: TopicMap<Mutex<StickyState>>,
}

impl StickyPartitions {
    /// Sticky placement that moves on after `batch_size` bytes.
    pub(super) fn new(batch_size: usize) -> Self {
        Self {
            batch_size: batch_size as u64,
            topics: TopicMap::new(),
        }
    }

    /// The bytes placed on a partition before switching.
    pub(super) fn batch_size(&self) -> usize {
        self.batch_size as usize
    }

    /// The batch of `partition` filled up: if it is the topic's sticky partition, the next
    /// record goes to another one.
    pub(super) fn batch_full(&self, topic: &str, partition: i32) {
        self.topics.with(
            topic,
            || Mutex::new(StickyState::UNCHOSEN),
            |state| {
                let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
                state.leave(partition);
            },
        );
    }

    /// Places a record of `record_size` bytes on the topic's sticky partition.
    pub(super) fn place(&self, topics: &TopicPartitions<'_>, record_size: usize) -> i32 {
        let Some(candidates) = Candidates::of(topics) else {
            return 0;
        };
        self.topics.with(
            topics.topic,
            || Mutex::new(StickyState::UNCHOSEN),
            |state| {
                // `place` cannot panic half-way, so a poisoned state is still consistent.
                let mut state = state.lock().unwrap_or_else(PoisonError::into_inner);
                state.place(candidates, record_size, self.batch_size)
            },
        )
    }
}

/// Places every record stickily, with or without a key (KIP-794 uniform sticky).
///
/// The same as [`DefaultPartitioner`](super::DefaultPartitioner) with `ignore_keys` set, and
/// as Java's built-in partitioner with `partitioner.ignore.keys=true` (Java's older
/// `UniformStickyPartitioner` class, removed in Kafka 4.0, did the same with KIP-480
/// switching). Keys do not influence placement at all, so records with the same key may land
/// on different partitions.
#[derive(Debug)]
pub struct UniformStickyPartitioner {
    sticky: StickyPartitions,
}

impl UniformStickyPartitioner {
    /// Switches to another partition after `batch_size` bytes (the producer's `batch.size`).
    pub fn new(batch_size: usize) -> Self {
        Self {
            sticky: StickyPartitions::new(batch_size),
        }
    }
}

impl Partitioner for UniformStickyPartitioner {
    fn partition(
        &self,
        topics: &TopicPartitions<'_>,
        _key: Option<&[u8]>,
        record_size: usize,
    ) -> i32 {
        self.sticky.place(topics, record_size)
    }

    fn batch_full(&self, topic: &str, partition: i32) {
        self.sticky.batch_full(topic, partition);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn topic<'a>(count: i32, available: &'a [i32]) -> TopicPartitions<'a> {
        TopicPartitions {
            topic: "t",
            partition_count: count,
            available,
        }
    }

    #[test]
    fn switches_after_twice_batch_size_bytes_without_a_full_batch() {
        let sticky = StickyPartitions::new(50);
        let topics = topic(10, &[]);
        for _ in 0..20 {
            let first = sticky.place(&topics, 30);
            assert_eq!(sticky.place(&topics, 30), first); // 60 bytes
            assert_eq!(sticky.place(&topics, 39), first); // 99 bytes
            assert_eq!(sticky.place(&topics, 1), first); // 100 bytes: this one still fits
            let second = sticky.place(&topics, 100);
            assert_ne!(second, first);
            // A single record larger than twice the batch size fills a partition on its own.
            assert_ne!(sticky.place(&topics, 500), second);
        }
    }

    #[test]
    fn a_full_batch_moves_the_sticky_partition_on() {
        let sticky = StickyPartitions::new(1_000_000);
        let topics = topic(10, &[]);
        let first = sticky.place(&topics, 100);
        assert_eq!(sticky.place(&topics, 100), first);
        // Another partition's batch filling up changes nothing.
        sticky.batch_full("t", (first + 1) % 10);
        assert_eq!(sticky.place(&topics, 100), first);
        // Never back to the same partition when it is full (run it often: the draw is random).
        let mut current = first;
        for _ in 0..200 {
            sticky.batch_full("t", current);
            let next = sticky.place(&topics, 100);
            assert_ne!(next, current);
            assert_eq!(sticky.place(&topics, 100), next);
            current = next;
        }
    }

    #[test]
    fn never_repeats_and_stays_on_available_partitions() {
        let sticky = StickyPartitions::new(1);
        let available = [1, 4, 6];
        let topics = topic(8, &available);
        let mut previous = sticky.place(&topics, 2);
        let mut seen = [0u32; 8];
        for _ in 0..600 {
            let next = sticky.place(&topics, 2);
            assert!(available.contains(&next), "{next} is not available");
            assert_ne!(next, previous);
            seen[next as usize] += 1;
            previous = next;
        }
        for partition in available {
            assert!(seen[partition as usize] > 100, "{seen:?}");
        }
    }

    #[test]
    fn leaves_a_partition_that_lost_its_leader() {
        let sticky = StickyPartitions::new(1_000_000);
        let current = sticky.place(&topic(4, &[]), 1);
        let others: Vec<i32> = (0..4).filter(|&p| p != current).collect();
        let moved = sticky.place(&topic(4, &others), 1);
        assert_ne!(moved, current);
        assert!(others.contains(&moved));
        // And stays on the new one.
        assert_eq!(sticky.place(&topic(4, &others), 1), moved);
    }

    #[test]
    fn topics_are_independent() {
        let sticky = StickyPartitions::new(5);
        let a = TopicPartitions {
            topic: "a",
            partition_count: 50,
            available: &[],
        };
        let b = TopicPartitions { topic: "b", ..a };
        let on_a = sticky.place(&a, 5);
        for _ in 0..10 {
            sticky.place(&b, 5);
        }
        // Bytes sent to "b" did not count for "a": 5 more bytes still fit.
        assert_eq!(sticky.place(&a, 5), on_a);
        assert_ne!(sticky.place(&a, 5), on_a);
    }

    #[test]
    fn zero_batch_size_switches_after_every_record() {
        let sticky = StickyPartitions::new(0);
        let topics = topic(3, &[]);
        let mut previous = sticky.place(&topics, 0);
        for _ in 0..50 {
            let next = sticky.place(&topics, 0);
            assert_ne!(next, previous);
            previous = next;
        }
    }

    #[test]
    fn uniform_sticky_ignores_keys() {
        let partitioner = UniformStickyPartitioner::new(1_000);
        let topics = topic(100, &[]);
        let first = partitioner.partition(&topics, Some(b"a"), 10);
        for key in [b"b".as_slice(), b"c", b"", b"a"] {
            assert_eq!(partitioner.partition(&topics, Some(key), 10), first);
        }
        assert_eq!(partitioner.partition(&topics, None, 10), first);
    }
}
