//! `kiel perf` payloads: each record's value is `--record-size` random uppercase letters
//! `A`..=`Z`, drawn afresh per record from a generator with a fixed seed, as Kafka's
//! ProducerPerformance does since Kafka 3.0 (KAFKA-12611; before, one payload was reused).
//! Fresh payloads keep compression ratios honest.
//!
//! # References
//! - Kafka `tools/.../ProducerPerformance.java` (`generateRandomPayload`)

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

/// Makes record values of a fixed size.
#[derive(Debug, Clone)]
pub(crate) struct PayloadGenerator {
    rng: SmallRng,
    size: usize,
}

impl PayloadGenerator {
    /// Values of `size` bytes, from seed 0 (every run sends the same sequence).
    pub(crate) fn new(size: usize) -> Self {
        Self {
            rng: SmallRng::seed_from_u64(0),
            size,
        }
    }

    /// The next value.
    pub(crate) fn next_value(&mut self) -> Bytes {
        let mut value = vec![0u8; self.size];
        // Four letters per 64-bit draw: each 16-bit slice scaled to 0..26.
        for chunk in value.chunks_mut(4) {
            let mut bits = self.rng.next_u64();
            for byte in chunk {
                let slice = bits & 0xFFFF;
                bits >>= 16;
                *byte = b'A' + ((slice * 26) >> 16) as u8;
            }
        }
        Bytes::from(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_uppercase_letters_of_the_given_size() {
        let mut g = PayloadGenerator::new(1001);
        let mut seen = [0u32; 26];
        for _ in 0..50 {
            let v = g.next_value();
            assert_eq!(v.len(), 1001);
            for b in v.iter() {
                assert!(b.is_ascii_uppercase(), "{b}");
                seen[usize::from(b - b'A')] += 1;
            }
        }
        // 50,050 letters: every letter about 1925 times.
        assert!(seen.iter().all(|&n| (1500..2400).contains(&n)), "{seen:?}");
    }

    #[test]
    fn each_record_gets_a_fresh_value_and_runs_repeat() {
        let mut a = PayloadGenerator::new(100);
        let mut b = PayloadGenerator::new(100);
        let (a1, a2) = (a.next_value(), a.next_value());
        assert_ne!(a1, a2);
        assert_eq!(a1, b.next_value());
        assert_eq!(PayloadGenerator::new(1).next_value().len(), 1);
    }
}
