//! Per-topic state shared by all threads that call a partitioner.
//!
//! Lookups take a read lock and borrow the topic as `&str`, so the common path neither
//! allocates nor serialises threads that produce to different topics. The topic name is copied
//! once, the first time the topic is seen. Entries are never removed: the map holds one small
//! entry per topic the producer has written to, like Java's per-topic partitioner state.
//!
//! # References
//! - Apache Kafka `clients/.../producer/RoundRobinPartitioner.java` (a concurrent map from
//!   topic to counter).

use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{PoisonError, RwLock};

/// A fast hash for topic names: eight bytes at a time, each word mixed in with a rotate,
/// an xor and a multiply (the scheme of rustc's FxHash), the tail byte by byte.
///
/// Topic names are chosen by the application, not by a remote peer, and are at most 249 bytes,
/// so the flooding resistance of the standard SipHash is not needed. Byte-at-a-time FNV-1a,
/// used before, cost one multiply per byte: a 40-byte name showed in profiles of 10 B records,
/// where every record hashes its topic twice.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TopicHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl TopicHasher {
    fn mix(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for TopicHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut eight = [0u8; 8];
            eight.copy_from_slice(word);
            self.mix(u64::from_le_bytes(eight));
        }
        for &byte in words.remainder() {
            self.mix(u64::from(byte));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.mix(u64::from(byte));
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by topic names, hashed with [`TopicHasher`].
pub(crate) type TopicHashMap<K, V> = HashMap<K, V, BuildHasherDefault<TopicHasher>>;

/// A concurrent map from topic name to per-topic state `T`.
pub(super) struct TopicMap<T> {
    entries: RwLock<TopicHashMap<Box<str>, T>>,
}

impl<T> TopicMap<T> {
    /// An empty map.
    pub(super) fn new() -> Self {
        Self {
            entries: RwLock::new(HashMap::default()),
        }
    }

    /// Runs `use_state` on the state of `topic`, creating it with `create` if it is missing.
    ///
    /// `use_state` gets a shared reference: `T` brings its own interior mutability (an atomic
    /// or a mutex) so that threads working on different topics do not block each other.
    pub(super) fn with<R>(
        &self,
        topic: &str,
        create: impl FnOnce() -> T,
        use_state: impl FnOnce(&T) -> R,
    ) -> R {
        {
            // A panic elsewhere cannot leave the map half-updated (insertion is the only write),
            // so a poisoned lock is still safe to use.
            let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(state) = entries.get(topic) {
                return use_state(state);
            }
        }
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        let state = entries.entry(Box::from(topic)).or_insert_with(create);
        use_state(state)
    }

    /// Number of topics seen so far.
    pub(super) fn len(&self) -> usize {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl<T> fmt::Debug for TopicMap<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TopicMap")
            .field("topics", &self.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn the_topic_hasher_tells_names_apart() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<TopicHasher>::default();
        let names: Vec<String> = (0..10_000)
            .map(|i| format!("race-a-throughput-kiel-r{}-{i}", i % 7))
            .chain((0..300).map(|i| "x".repeat(i)))
            .collect();
        let hashes: std::collections::HashSet<u64> =
            names.iter().map(|n| build.hash_one(n.as_str())).collect();
        assert_eq!(
            hashes.len(),
            names.len(),
            "no collisions among similar names"
        );
        assert_eq!(
            build.hash_one("orders"),
            build.hash_one(String::from("orders").as_str())
        );
    }

    #[test]
    fn state_is_created_once_per_topic() {
        let map = TopicMap::new();
        let bump = |topic: &str| {
            map.with(
                topic,
                || AtomicU32::new(10),
                |n| n.fetch_add(1, Ordering::Relaxed),
            )
        };
        assert_eq!(bump("a"), 10);
        assert_eq!(bump("a"), 11);
        assert_eq!(bump("b"), 10);
        assert_eq!(bump("a"), 12);
        assert_eq!(map.len(), 2);
    }
}
