//! Record keys for the peer programs' `--keys N`: each record's key is the ASCII decimal of
//! `k`, with `k` drawn from a Zipf distribution over `0..N` with exponent
//! [`ZIPF_EXPONENT`] (1.1): `P(k) = (k + 1)^-s / H(N, s)`, where `H(N, s)` is the sum of
//! `(i + 1)^-s` over `0..N`. Key 0 is the hottest; with N = 1000 it carries about 18 % of
//! the records, the ten hottest keys about 48 % and the hundred hottest about 77 %.
//!
//! The sampler precomputes the cumulative distribution once (one `f64` per key) and draws
//! each key with one uniform number and a binary search over it, so a draw costs O(log N)
//! and allocates nothing. The uniform numbers come from a fixed seed ([`SEED`]), so every
//! run of every Rust program sends the same key sequence. The Go program
//! (`go/franz-perf`) draws from the same distribution the same way with its own generator.

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// The Zipf exponent `s`.
pub const ZIPF_EXPONENT: f64 = 1.1;

/// The seed of the uniform draws.
pub const SEED: u64 = 0x6b65_7973;

/// The largest `--keys` accepted (the table takes 8 bytes per key: 80 MB at this size).
pub const MAX_KEYS: u64 = 10_000_000;

/// Longest decimal of a `u64`.
const MAX_DIGITS: usize = 20;

/// Draws Zipf-distributed keys over `0..n` and writes them as ASCII decimals.
#[derive(Debug, Clone)]
pub struct ZipfKeys {
    cdf: Vec<f64>,
    rng: SmallRng,
    digits: [u8; MAX_DIGITS],
}

impl ZipfKeys {
    /// A sampler over `0..n` with exponent [`ZIPF_EXPONENT`] and seed [`SEED`]; `None`
    /// unless `1 <= n <= MAX_KEYS`.
    pub fn new(n: u64) -> Option<Self> {
        Self::with_exponent(n, ZIPF_EXPONENT, SEED)
    }

    /// A sampler over `0..n` with exponent `s` (finite, positive) and the given seed.
    pub fn with_exponent(n: u64, s: f64, seed: u64) -> Option<Self> {
        if !(1..=MAX_KEYS).contains(&n) || !s.is_finite() || s <= 0.0 {
            return None;
        }
        let n = usize::try_from(n).ok()?;
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0f64;
        for k in 0..n {
            total += ((k + 1) as f64).powf(-s);
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        // Rounding must not leave a gap at the top: a uniform draw below 1 always finds a key.
        if let Some(last) = cdf.last_mut() {
            *last = 1.0;
        }
        Some(Self {
            cdf,
            rng: SmallRng::seed_from_u64(seed),
            digits: [0; MAX_DIGITS],
        })
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.cdf.len()
    }

    /// Whether there are no keys (never: a sampler has at least one).
    pub fn is_empty(&self) -> bool {
        self.cdf.is_empty()
    }

    /// The next `k`.
    pub fn next_index(&mut self) -> u64 {
        let u: f64 = self.rng.random();
        // The first k whose cumulative probability exceeds u.
        let k = self.cdf.partition_point(|&c| c <= u);
        k.min(self.cdf.len() - 1) as u64
    }

    /// The next key: the ASCII decimal of the next `k` (valid until the next call).
    pub fn next_key(&mut self) -> &[u8] {
        let k = self.next_index();
        write_decimal(k, &mut self.digits)
    }
}

/// Writes `value` in ASCII decimal at the end of `buffer` and returns those bytes.
pub fn write_decimal(mut value: u64, buffer: &mut [u8; MAX_DIGITS]) -> &[u8] {
    let mut start = MAX_DIGITS;
    loop {
        start -= 1;
        buffer[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    &buffer[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_without_padding() {
        let mut buffer = [0; MAX_DIGITS];
        assert_eq!(write_decimal(0, &mut buffer), b"0");
        assert_eq!(write_decimal(7, &mut buffer), b"7");
        assert_eq!(write_decimal(1000, &mut buffer), b"1000");
        assert_eq!(
            write_decimal(u64::MAX, &mut buffer),
            u64::MAX.to_string().as_bytes()
        );
    }

    #[test]
    fn sizes_out_of_range_are_refused() {
        assert!(ZipfKeys::new(0).is_none());
        assert!(ZipfKeys::new(MAX_KEYS + 1).is_none());
        assert!(ZipfKeys::with_exponent(10, 0.0, 1).is_none());
        assert!(ZipfKeys::with_exponent(10, f64::NAN, 1).is_none());
        let one = ZipfKeys::new(1).unwrap();
        assert_eq!(one.len(), 1);
        assert!(!one.is_empty());
    }

    #[test]
    fn the_same_seed_gives_the_same_keys() {
        let mut a = ZipfKeys::new(1000).unwrap();
        let mut b = ZipfKeys::new(1000).unwrap();
        for _ in 0..1000 {
            assert_eq!(a.next_key(), b.next_key());
        }
    }

    #[test]
    fn keys_follow_the_zipf_distribution() {
        let n = 1000u64;
        let draws = 400_000u64;
        let mut keys = ZipfKeys::new(n).unwrap();
        let mut counts = vec![0u64; n as usize];
        for _ in 0..draws {
            let key = keys.next_key();
            let k: usize = std::str::from_utf8(key).unwrap().parse().unwrap();
            counts[k] += 1;
        }
        let h: f64 = (1..=n).map(|i| (i as f64).powf(-ZIPF_EXPONENT)).sum();
        for k in [0usize, 1, 2, 9, 99] {
            let expected = ((k + 1) as f64).powf(-ZIPF_EXPONENT) / h * draws as f64;
            let seen = counts[k] as f64;
            // Within 5 standard deviations of a binomial count.
            let sd = expected.sqrt();
            assert!(
                (seen - expected).abs() < 5.0 * sd + 1.0,
                "key {k}: seen {seen}, expected {expected:.0}"
            );
        }
        // The hottest key of 1000 carries about 18 % of the records.
        let share = counts[0] as f64 / draws as f64;
        assert!((0.17..0.19).contains(&share), "{share}");
        // The tail is reached.
        assert!(counts[500..].iter().sum::<u64>() > 0);
    }
}
