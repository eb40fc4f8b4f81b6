//! Record values as ProducerPerformance makes them (since Kafka 3.0): `size` random
//! uppercase letters, drawn afresh for every record, so compression sees realistic input
//! rather than one repeated value.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java`
//!   (`generateRandomPayload`)

use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

/// Refills one buffer with a new value per record.
#[derive(Debug, Clone)]
pub struct Payloads {
    rng: SmallRng,
    value: Vec<u8>,
}

impl Payloads {
    /// Values of `size` bytes, from a fixed seed (every run sends the same sequence).
    pub fn new(size: usize) -> Self {
        Self {
            rng: SmallRng::seed_from_u64(0x6b69_656c),
            value: vec![0; size],
        }
    }

    /// The next value (valid until the next call).
    pub fn next_value(&mut self) -> &[u8] {
        for chunk in self.value.chunks_mut(8) {
            let draw = self.rng.next_u64().to_le_bytes();
            for (byte, random) in chunk.iter_mut().zip(draw) {
                // 0..=255 scaled to 0..26.
                *byte = b'A' + ((u16::from(random) * 26) >> 8) as u8;
            }
        }
        &self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_fresh_uppercase_letters_of_the_size_asked() {
        let mut p = Payloads::new(1001);
        let first = p.next_value().to_vec();
        let second = p.next_value().to_vec();
        assert_eq!(first.len(), 1001);
        assert_ne!(first, second);
        let mut seen = [false; 26];
        for b in first.iter().chain(&second) {
            assert!(b.is_ascii_uppercase(), "{b}");
            seen[usize::from(b - b'A')] = true;
        }
        assert!(
            seen.iter().all(|s| *s),
            "every letter appears in 2002 draws"
        );
        assert!(Payloads::new(0).next_value().is_empty());
    }
}
