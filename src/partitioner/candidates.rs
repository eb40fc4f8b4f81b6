//! The partitions a key-independent choice may land on, and uniform picks among them.
//!
//! Like Java's partitioners, kiel prefers the partitions that currently have a leader and falls
//! back to all partitions of the topic when none has one (the record then waits for a leader).
//!
//! # References
//! - Apache Kafka `clients/.../producer/internals/BuiltInPartitioner.java`, `nextPartition`
//!   (random among available partitions, else among all).
//! - Apache Kafka `clients/.../producer/RoundRobinPartitioner.java` (same fallback).

use rand::Rng;

use super::TopicPartitions;

/// Partitions to choose from: the available ones, or `0..count` when none is available.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidates<'a> {
    /// Sorted partitions with a leader; empty means "use all".
    available: &'a [i32],
    /// Number of partitions of the topic, at least 1.
    count: i32,
}

impl<'a> Candidates<'a> {
    /// The candidates of `topics`, or `None` when the topic has no partition at all.
    pub(super) fn of(topics: &TopicPartitions<'a>) -> Option<Self> {
        (topics.partition_count > 0).then_some(Self {
            available: topics.available,
            count: topics.partition_count,
        })
    }

    /// How many partitions there are to choose from (at least 1).
    pub(super) fn len(&self) -> usize {
        if self.available.is_empty() {
            self.count as usize
        } else {
            self.available.len()
        }
    }

    /// The candidate at `index` (below [`len`](Self::len)).
    ///
    /// An available partition outside `0..count` is a caller bug; it is folded into range so the
    /// result is always a partition of the topic.
    fn at(&self, index: usize) -> i32 {
        let partition = match self.available.get(index) {
            Some(&partition) => partition,
            None => index as i32,
        };
        if (0..self.count).contains(&partition) {
            partition
        } else {
            partition.rem_euclid(self.count)
        }
    }

    /// Index of `partition` among the candidates, if it is one.
    fn index_of(&self, partition: i32) -> Option<usize> {
        if !(0..self.count).contains(&partition) {
            return None;
        }
        if self.available.is_empty() {
            Some(partition as usize)
        } else {
            self.available.binary_search(&partition).ok()
        }
    }

    /// Whether `partition` may be chosen.
    pub(super) fn contains(&self, partition: i32) -> bool {
        self.index_of(partition).is_some()
    }

    /// The candidate a counter designates: `counter % len`.
    pub(super) fn by_counter(&self, counter: u64) -> i32 {
        // len <= i32::MAX or the slice length, so the remainder fits in usize.
        self.at((counter % self.len() as u64) as usize)
    }

    /// A uniformly random candidate.
    pub(super) fn random(&self) -> i32 {
        self.at(rand::rng().random_range(0..self.len()))
    }

    /// A uniformly random candidate other than `previous`, unless `previous` is the only one.
    pub(super) fn random_other_than(&self, previous: i32) -> i32 {
        let len = self.len();
        match self.index_of(previous) {
            Some(skipped) if len > 1 => {
                let drawn = rand::rng().random_range(0..len - 1);
                self.at(if drawn >= skipped { drawn + 1 } else { drawn })
            }
            _ => self.random(),
        }
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
    fn no_partitions_means_no_candidates() {
        assert!(Candidates::of(&topic(0, &[])).is_none());
        assert!(Candidates::of(&topic(-3, &[1])).is_none());
    }

    #[test]
    fn available_ones_are_preferred() {
        let candidates = Candidates::of(&topic(8, &[2, 5])).expect("8 partitions");
        assert_eq!(candidates.len(), 2);
        assert!(candidates.contains(5));
        assert!(!candidates.contains(3));
        for _ in 0..200 {
            assert!([2, 5].contains(&candidates.random()));
        }
        assert_eq!(candidates.random_other_than(2), 5);
        assert_eq!(candidates.random_other_than(5), 2);
    }

    #[test]
    fn all_partitions_when_none_is_available() {
        let candidates = Candidates::of(&topic(3, &[])).expect("3 partitions");
        assert_eq!(candidates.len(), 3);
        assert!(candidates.contains(2));
        assert!(!candidates.contains(3));
        assert!(!candidates.contains(-1));
        let picks: Vec<i32> = (0..6).map(|i| candidates.by_counter(i)).collect();
        assert_eq!(picks, [0, 1, 2, 0, 1, 2]);
    }

    #[test]
    fn the_previous_partition_is_never_repeated() {
        let candidates = Candidates::of(&topic(4, &[])).expect("4 partitions");
        let mut seen = [false; 4];
        for _ in 0..400 {
            let next = candidates.random_other_than(1);
            assert_ne!(next, 1);
            seen[next as usize] = true;
        }
        assert_eq!(seen, [true, false, true, true]);
    }

    #[test]
    fn a_single_candidate_is_repeated() {
        let candidates = Candidates::of(&topic(1, &[])).expect("1 partition");
        assert_eq!(candidates.random_other_than(0), 0);
        let candidates = Candidates::of(&topic(6, &[4])).expect("6 partitions");
        assert_eq!(candidates.random_other_than(4), 4);
    }

    #[test]
    fn out_of_range_available_entries_are_folded_into_range() {
        let candidates = Candidates::of(&topic(4, &[-1, 9])).expect("4 partitions");
        for _ in 0..50 {
            assert!((0..4).contains(&candidates.random()));
        }
    }
}
