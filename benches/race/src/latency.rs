//! Latency bookkeeping for `rdkafka-perf`, kept like ProducerPerformance keeps it: every
//! acknowledgement adds to the count, bytes, latency sum and maximum, and every n-th one is
//! kept as a sample for the percentiles, n chosen so that at most 500,000 samples are kept
//! whatever the record count (so memory, and with it the RSS the race measures, stays
//! bounded). ProducerPerformance samples by record number; this samples by acknowledgement
//! number, which for a run where every record is acknowledged keeps as many, equally spread.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java`
//!   (`Stats`: sampling, `percentiles`)

use std::time::Duration;

use crate::summary::PerfSummary;

/// Samples kept at most.
pub const MAX_SAMPLES: u64 = 500_000;

/// Bytes in ProducerPerformance's "MB".
const MIB: f64 = 1024.0 * 1024.0;

/// Counts acknowledgements and samples their latencies.
#[derive(Debug, Clone)]
pub struct LatencyRecorder {
    step: u64,
    count: u64,
    bytes: u64,
    total_us: u128,
    max_us: u64,
    samples_us: Vec<u64>,
}

impl LatencyRecorder {
    /// A recorder for a run of `expected_records` records.
    pub fn new(expected_records: u64) -> Self {
        let step = expected_records.div_ceil(MAX_SAMPLES).max(1);
        let capacity = expected_records / step + 1;
        Self {
            step,
            count: 0,
            bytes: 0,
            total_us: 0,
            max_us: 0,
            samples_us: Vec::with_capacity(usize::try_from(capacity).unwrap_or(0)),
        }
    }

    /// One acknowledged record of `bytes` bytes, `latency` after it was sent.
    pub fn record(&mut self, latency: Duration, bytes: u64) {
        let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        if self.count.is_multiple_of(self.step) {
            self.samples_us.push(us);
        }
        self.count += 1;
        self.bytes = self.bytes.saturating_add(bytes);
        self.total_us += u128::from(us);
        self.max_us = self.max_us.max(us);
    }

    /// Records acknowledged so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The summary of a run that took `elapsed`.
    pub fn summary(&self, elapsed: Duration) -> PerfSummary {
        let seconds = elapsed.as_secs_f64();
        let per_second = |n: f64| if seconds > 0.0 { n / seconds } else { 0.0 };
        let mut sorted = self.samples_us.clone();
        sorted.sort_unstable();
        let percentile_ms = |p: f64| -> f64 {
            // The sample at index floor(p * n), as ProducerPerformance picks it.
            let index = ((sorted.len() as f64) * p) as usize;
            sorted
                .get(index.min(sorted.len().saturating_sub(1)))
                .map_or(0.0, |&us| us as f64 / 1000.0)
        };
        let avg_ms = if self.count == 0 {
            0.0
        } else {
            self.total_us as f64 / self.count as f64 / 1000.0
        };
        PerfSummary {
            records: self.count,
            records_per_sec: per_second(self.count as f64),
            mb_per_sec: per_second(self.bytes as f64 / MIB),
            avg_ms,
            max_ms: self.max_us as f64 / 1000.0,
            p50_ms: percentile_ms(0.5),
            p95_ms: percentile_ms(0.95),
            p99_ms: percentile_ms(0.99),
            p999_ms: percentile_ms(0.999),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_and_percentiles_come_from_what_was_recorded() {
        let mut r = LatencyRecorder::new(1000);
        // Latencies 1..=1000 ms, 100 bytes each, in a scrambled order.
        for i in 0..1000u64 {
            let ms = (i * 7919) % 1000 + 1;
            r.record(Duration::from_millis(ms), 100);
        }
        assert_eq!(r.count(), 1000);
        let s = r.summary(Duration::from_secs(2));
        assert_eq!(s.records, 1000);
        assert!((s.records_per_sec - 500.0).abs() < 1e-9);
        assert!((s.mb_per_sec - 100_000.0 / MIB / 2.0).abs() < 1e-12);
        assert!((s.avg_ms - 500.5).abs() < 1e-9);
        assert!((s.max_ms - 1000.0).abs() < 1e-9);
        assert_eq!(s.p50_ms, 501.0);
        assert_eq!(s.p95_ms, 951.0);
        assert_eq!(s.p99_ms, 991.0);
        assert_eq!(s.p999_ms, 1000.0);
    }

    #[test]
    fn large_runs_keep_a_bounded_sample() {
        let records = 3 * MAX_SAMPLES + 5;
        let mut r = LatencyRecorder::new(records);
        for i in 0..records {
            r.record(Duration::from_micros(i % 10), 1);
        }
        let kept = r.samples_us.len() as u64;
        assert!(kept <= MAX_SAMPLES, "{kept}");
        assert!(kept >= MAX_SAMPLES / 2, "{kept}");
        assert_eq!(r.summary(Duration::from_secs(1)).records, records);
    }

    #[test]
    fn an_empty_run_reports_zeros() {
        let s = LatencyRecorder::new(0).summary(Duration::ZERO);
        assert_eq!(s.records, 0);
        assert_eq!((s.records_per_sec, s.avg_ms, s.p99_ms), (0.0, 0.0, 0.0));
    }
}
