//! `kiel perf --keys N`: keyed records whose keys follow a skewed (Zipf) distribution, as
//! real keys do (a few hot users or devices, a long tail). Key `k` is the decimal text of
//! `k` in `0..N`, drawn with probability proportional to `1 / (k + 1)^s`, s = 1.1; the
//! race's peers draw theirs by the same rule. Keys are made once, so a draw allocates
//! nothing.
//!
//! # References
//! - Zipf's law; the race's workload (c) in `benches/race/README.md`

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The Zipf exponent every race client uses.
pub(crate) const ZIPF_EXPONENT: f64 = 1.1;

/// Draws keys from `0..N` by Zipf's law.
#[derive(Debug, Clone)]
pub(crate) struct ZipfKeys {
    /// Cumulative probabilities, the last one 1.
    cdf: Vec<f64>,
    keys: Vec<Bytes>,
    rng: SmallRng,
}

impl ZipfKeys {
    /// Keys `0..count` (count ≥ 1), from seed 1 (every run draws the same sequence).
    pub(crate) fn new(count: u32) -> Self {
        let count = count.max(1);
        let weights: Vec<f64> = (1..=count)
            .map(|rank| f64::from(rank).powf(-ZIPF_EXPONENT))
            .collect();
        let total: f64 = weights.iter().sum();
        let mut running = 0.0;
        let mut cdf: Vec<f64> = weights
            .iter()
            .map(|w| {
                running += w / total;
                running
            })
            .collect();
        if let Some(last) = cdf.last_mut() {
            *last = 1.0;
        }
        Self {
            cdf,
            keys: (0..count).map(|k| Bytes::from(k.to_string())).collect(),
            rng: SmallRng::seed_from_u64(1),
        }
    }

    /// The next key.
    pub(crate) fn next_key(&mut self) -> Bytes {
        let u: f64 = self.rng.random();
        let index = self
            .cdf
            .partition_point(|p| *p < u)
            .min(self.keys.len() - 1);
        self.keys[index].clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_skewed_toward_the_first_ones() {
        let mut keys = ZipfKeys::new(1000);
        let mut counts = vec![0u32; 1000];
        for _ in 0..100_000 {
            let key = keys.next_key();
            let k: usize = std::str::from_utf8(&key).unwrap().parse().unwrap();
            counts[k] += 1;
        }
        // P(0) = 1 / H(1000, 1.1) ≈ 0.16; P(1) ≈ P(0) / 2.14.
        assert!((14_000..18_500).contains(&counts[0]), "{}", counts[0]);
        let ratio = f64::from(counts[0]) / f64::from(counts[1]);
        assert!((1.8..2.5).contains(&ratio), "{ratio}");
        assert!(
            counts.iter().filter(|c| **c > 0).count() > 500,
            "a long tail"
        );
    }

    #[test]
    fn one_key_is_always_that_key() {
        let mut keys = ZipfKeys::new(1);
        assert!((0..100).all(|_| keys.next_key() == "0"));
    }
}
