//! A latency histogram with fixed memory: durations in microseconds, in buckets that are
//! exact below 16 µs and then split every power of two into 16 equal parts (a quantile is
//! off by at most 1/16 of its value), up to about 2^40 µs (12 days); longer ones count in
//! the last bucket. Recording is an index computation and three additions.
//!
//! # References
//! - HdrHistogram's log-linear buckets (the idea, not its code)

use std::time::Duration;

/// Sub-buckets per power of two (and the exact range below it), as a power of two.
const SUB_BITS: u32 = 4;
const SUB: u64 = 1 << SUB_BITS;
/// Powers of two covered above the exact range.
const MAGNITUDES: u64 = 37;
const BUCKETS: usize = (SUB + MAGNITUDES * SUB) as usize;

/// Counts of durations by bucket, with their count, sum and largest value.
#[derive(Clone)]
pub(crate) struct Histogram {
    buckets: Box<[u64; BUCKETS]>,
    count: u64,
    sum_us: u128,
    max_us: u64,
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Histogram")
            .field("count", &self.count)
            .field("max_us", &self.max_us)
            .finish_non_exhaustive()
    }
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            buckets: Box::new([0; BUCKETS]),
            count: 0,
            sum_us: 0,
            max_us: 0,
        }
    }
}

/// The bucket of `us` microseconds.
fn bucket_of(us: u64) -> usize {
    if us < SUB {
        return us as usize;
    }
    let magnitude = u64::from(63 - us.leading_zeros()) - u64::from(SUB_BITS) + 1;
    let magnitude = magnitude.min(MAGNITUDES);
    let sub = (us >> (magnitude - 1)).min(2 * SUB - 1) - SUB;
    (SUB + (magnitude - 1) * SUB + sub) as usize
}

/// The largest value bucket `index` holds, in microseconds.
fn bucket_top(index: usize) -> u64 {
    let index = index as u64;
    if index < SUB {
        return index;
    }
    let magnitude = (index - SUB) / SUB + 1;
    let sub = (index - SUB) % SUB;
    ((SUB + sub + 1) << (magnitude - 1)) - 1
}

impl Histogram {
    /// Counts one duration.
    pub(crate) fn record(&mut self, value: Duration) {
        let us = u64::try_from(value.as_micros()).unwrap_or(u64::MAX);
        self.buckets[bucket_of(us)] += 1;
        self.count += 1;
        self.sum_us += u128::from(us);
        self.max_us = self.max_us.max(us);
    }

    /// The summary: count, mean, median, 99th percentile and largest.
    pub(crate) fn summary(&self) -> LatencySummary {
        let us = Duration::from_micros;
        LatencySummary {
            count: self.count,
            mean: if self.count == 0 {
                Duration::ZERO
            } else {
                us(u64::try_from(self.sum_us / u128::from(self.count)).unwrap_or(u64::MAX))
            },
            p50: us(self.quantile_us(0.50)),
            p99: us(self.quantile_us(0.99)),
            max: us(self.max_us),
        }
    }

    /// The value at quantile `q` (0 to 1): the top of its bucket, at most the largest
    /// value seen.
    fn quantile_us(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (index, n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_top(index).min(self.max_us);
            }
        }
        self.max_us
    }
}

/// How long something took, summed up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencySummary {
    /// How many were measured.
    pub count: u64,
    /// Their mean.
    pub mean: Duration,
    /// The median (within 1/16 of the true value).
    pub p50: Duration,
    /// The 99th percentile (within 1/16 of the true value).
    pub p99: Duration,
    /// The largest.
    pub max: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_every_value_in_order_and_tops_bound_them() {
        let mut last = 0;
        for us in (0..100_000u64).chain([u64::MAX / 2, u64::MAX]) {
            let b = bucket_of(us);
            assert!(b < BUCKETS, "{us} -> {b}");
            assert!(b >= last, "buckets are in order: {us}");
            last = b;
            if b < BUCKETS - 1 {
                assert!(bucket_top(b) >= us, "{us} is within its bucket's top");
                // Within 1/16 of the value.
                assert!(
                    bucket_top(b) - us <= us / SUB + 1,
                    "{us}: top {}",
                    bucket_top(b)
                );
            }
        }
    }

    #[test]
    fn quantiles_are_within_a_sixteenth() {
        let mut h = Histogram::default();
        for ms in 1..=1000u64 {
            h.record(Duration::from_millis(ms));
        }
        let s = h.summary();
        assert_eq!(s.count, 1000);
        assert_eq!(s.max, Duration::from_millis(1000));
        assert_eq!(s.mean, Duration::from_micros(500_500));
        let near = |got: Duration, want_ms: f64| {
            let got = got.as_secs_f64() * 1000.0;
            assert!(
                got >= want_ms && got <= want_ms * (1.0 + 1.0 / 16.0),
                "{got} ms for {want_ms}"
            );
        };
        near(s.p50, 500.0);
        near(s.p99, 990.0);
    }

    #[test]
    fn empty_and_extreme_values_do_not_panic() {
        let mut h = Histogram::default();
        assert_eq!(h.summary(), LatencySummary::default());
        h.record(Duration::MAX);
        h.record(Duration::ZERO);
        let s = h.summary();
        assert_eq!(s.count, 2);
        assert_eq!(s.max, Duration::from_micros(u64::MAX));
        assert_eq!(s.p50, Duration::ZERO);
    }
}
