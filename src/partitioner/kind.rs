//! Choosing a partitioner by name, for configuration.
//!
//! The names are librdkafka's `partitioner` values that kiel implements, plus `default`,
//! `round_robin` and `uniform_sticky` for the Java behaviours.
//!
//! # References
//! - librdkafka CONFIGURATION.md, `partitioner`.
//! - Apache Kafka `ProducerConfig.java`, `partitioner.class`, `partitioner.ignore.keys`.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use super::{
    ConsistentRandomPartitioner, DefaultPartitioner, Murmur2Partitioner, Partitioner,
    RandomPartitioner, RoundRobinPartitioner, UniformStickyPartitioner,
};

/// A built-in partitioner, as named in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PartitionerKind {
    /// `default`: [`DefaultPartitioner`], the Java producer's built-in behaviour.
    #[default]
    Default,
    /// `murmur2`: [`Murmur2Partitioner::hashing_null_keys`]; keyless records all go to one
    /// partition (librdkafka `murmur2`).
    Murmur2,
    /// `murmur2_random`: [`Murmur2Partitioner::new`]; keyless records go to random partitions
    /// (librdkafka `murmur2_random`).
    Murmur2Random,
    /// `consistent_random`: [`ConsistentRandomPartitioner`], librdkafka's default.
    ConsistentRandom,
    /// `random`: [`RandomPartitioner`].
    Random,
    /// `round_robin`: [`RoundRobinPartitioner`].
    RoundRobin,
    /// `uniform_sticky`: [`UniformStickyPartitioner`].
    UniformSticky,
}

impl PartitionerKind {
    /// Every kind, in documentation order.
    pub const ALL: [Self; 7] = [
        Self::Default,
        Self::Murmur2,
        Self::Murmur2Random,
        Self::ConsistentRandom,
        Self::Random,
        Self::RoundRobin,
        Self::UniformSticky,
    ];

    /// The configuration name of this kind.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Murmur2 => "murmur2",
            Self::Murmur2Random => "murmur2_random",
            Self::ConsistentRandom => "consistent_random",
            Self::Random => "random",
            Self::RoundRobin => "round_robin",
            Self::UniformSticky => "uniform_sticky",
        }
    }

    /// A new partitioner of this kind; `batch_size` is the producer's `batch.size`, used by the
    /// sticky ones to decide when to switch partitions.
    pub fn build(self, batch_size: usize) -> Arc<dyn Partitioner> {
        match self {
            Self::Default => Arc::new(DefaultPartitioner::new(batch_size)),
            Self::Murmur2 => Arc::new(Murmur2Partitioner::hashing_null_keys()),
            Self::Murmur2Random => Arc::new(Murmur2Partitioner::new()),
            Self::ConsistentRandom => Arc::new(ConsistentRandomPartitioner::new()),
            Self::Random => Arc::new(RandomPartitioner::new()),
            Self::RoundRobin => Arc::new(RoundRobinPartitioner::new()),
            Self::UniformSticky => Arc::new(UniformStickyPartitioner::new(batch_size)),
        }
    }
}

impl fmt::Display for PartitionerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A partitioner name that is not one of [`PartitionerKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown partitioner {name:?}; expected one of: default, murmur2, murmur2_random, \
     consistent_random, random, round_robin, uniform_sticky"
)]
pub struct UnknownPartitionerError {
    name: String,
}

impl UnknownPartitionerError {
    /// The name that was not recognised.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl FromStr for PartitionerKind {
    type Err = UnknownPartitionerError;

    /// Parses a configuration name; ASCII case and surrounding whitespace are ignored.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let trimmed = name.trim();
        Self::ALL
            .into_iter()
            .find(|kind| kind.name().eq_ignore_ascii_case(trimmed))
            .ok_or_else(|| UnknownPartitionerError {
                name: name.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partitioner::TopicPartitions;

    #[test]
    fn every_name_parses_back_to_its_kind() {
        for kind in PartitionerKind::ALL {
            assert_eq!(kind.name().parse::<PartitionerKind>(), Ok(kind));
            assert_eq!(kind.to_string(), kind.name());
        }
        assert_eq!(
            " Murmur2_Random ".parse::<PartitionerKind>(),
            Ok(PartitionerKind::Murmur2Random)
        );
    }

    #[test]
    fn error_message_lists_every_name() {
        let error = "crc32".parse::<PartitionerKind>().err();
        let error = error.as_ref().map(|e| (e.name(), e.to_string()));
        let Some((name, message)) = error else {
            panic!("\"crc32\" must not parse");
        };
        assert_eq!(name, "crc32");
        assert!(message.contains("\"crc32\""), "{message}");
        for kind in PartitionerKind::ALL {
            assert!(message.contains(kind.name()), "{message} lacks {kind}");
        }
    }

    #[test]
    fn built_partitioners_behave_like_their_kind() {
        let topics = TopicPartitions {
            topic: "t",
            partition_count: 1_000,
            available: &[],
        };
        let key = Some(b"kafka".as_slice());
        // 0xd067cf64 & 0x7fffffff = 1348980580; crc32("kafka") = 0x5BBC7517 = 1539077399
        // (Python's zlib.crc32).
        let murmur_partition = 580;
        let crc_partition = 399;
        for kind in [
            PartitionerKind::Default,
            PartitionerKind::Murmur2,
            PartitionerKind::Murmur2Random,
        ] {
            assert_eq!(
                kind.build(16_384).partition(&topics, key, 1),
                murmur_partition,
                "{kind}"
            );
        }
        let consistent = PartitionerKind::ConsistentRandom.build(16_384);
        assert_eq!(consistent.partition(&topics, key, 1), crc_partition);

        // murmur2 hashes a null key like the empty one; murmur2_random does not.
        let null_partition = (0x106E_08D9 & 0x7FFF_FFFF) % 1_000;
        let murmur2 = PartitionerKind::Murmur2.build(16_384);
        for _ in 0..10 {
            assert_eq!(murmur2.partition(&topics, None, 1), null_partition);
        }
        let round_robin = PartitionerKind::RoundRobin.build(16_384);
        assert_eq!(round_robin.partition(&topics, key, 1), 0);
        assert_eq!(round_robin.partition(&topics, key, 1), 1);
    }
}
