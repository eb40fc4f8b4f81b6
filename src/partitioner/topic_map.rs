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

/// FNV-1a (64-bit), a fast hash for short keys.
///
/// Topic names are chosen by the application, not by a remote peer, and are at most 249 bytes,
/// so the flooding resistance of the standard SipHash is not needed; FNV-1a makes the lookup
/// several times cheaper for typical names.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Self(0xCBF2_9CE4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01B3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` keyed by topic names, hashed with [`Fnv1a`].
pub(crate) type TopicHashMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv1a>>;

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
