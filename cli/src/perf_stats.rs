//! `kiel perf` statistics, computed and printed as Kafka's `ProducerPerformance` does:
//!
//! - every acknowledged record adds its latency (send to acknowledgement) and size;
//! - when an acknowledgement comes 5 s or more after the current window opened, the window
//!   is printed and a new one opens:
//!   `N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency.`
//! - at the end the total is printed: `N records sent, X records/sec (Y MB/sec), A ms avg
//!   latency, M ms max latency, P ms 50th, P ms 95th, P ms 99th, P ms 99.9th.`
//!   (records/sec with six decimals, MB/sec, avg and max with two; percentiles in whole ms).
//! - percentiles come from a sample of at most ~1,000,000 latencies: every `s`-th
//!   acknowledgement with `s = n / min(n, 500000)`; the value at quantile `q` is the sorted
//!   sample's element at index `floor(q * size)`. MB are MiB (1024 * 1024 bytes).
//!
//! Latencies are measured in microseconds (ProducerPerformance: milliseconds), so averages
//! and maxima are finer; percentiles are printed in whole milliseconds, truncated.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java` (`Stats`)

use std::time::{Duration, Instant};

/// How often a progress line is printed.
pub(crate) const REPORTING_INTERVAL: Duration = Duration::from_secs(5);

/// Records sampled for percentiles at most (about; see the module docs).
const MAX_SAMPLED: u64 = 500_000;

const MIB: f64 = 1024.0 * 1024.0;

/// Counters for one reporting window.
#[derive(Debug, Clone)]
struct Window {
    start: Instant,
    count: u64,
    bytes: u64,
    total_latency_us: u64,
    max_latency_us: u64,
}

impl Window {
    fn new(start: Instant) -> Self {
        Self {
            start,
            count: 0,
            bytes: 0,
            total_latency_us: 0,
            max_latency_us: 0,
        }
    }
}

/// Latency and throughput statistics of one perf run.
#[derive(Debug, Clone)]
pub(crate) struct PerfStats {
    start: Instant,
    sampling: u64,
    samples: Vec<u32>,
    max_samples: usize,
    iteration: u64,
    count: u64,
    bytes: u64,
    total_latency_us: u64,
    max_latency_us: u64,
    window: Window,
    interval: Duration,
}

fn per_second(amount: f64, elapsed: Duration) -> f64 {
    let secs = elapsed.as_secs_f64();
    if secs > 0.0 {
        amount / secs
    } else {
        0.0
    }
}

fn average_ms(total_us: u64, count: u64) -> f64 {
    if count == 0 {
        0.0
    } else {
        total_us as f64 / count as f64 / 1000.0
    }
}

impl PerfStats {
    /// Statistics for a run of `num_records` records starting at `start`, printing a window
    /// every `interval`.
    pub(crate) fn new(num_records: u64, start: Instant, interval: Duration) -> Self {
        let num_records = num_records.max(1);
        let sampling = num_records / num_records.min(MAX_SAMPLED);
        // At most 2 * MAX_SAMPLED entries: the sample count is n / sampling + 1.
        let max_samples = usize::try_from(num_records / sampling + 1).unwrap_or(usize::MAX);
        Self {
            start,
            sampling,
            samples: Vec::with_capacity(max_samples),
            max_samples,
            iteration: 0,
            count: 0,
            bytes: 0,
            total_latency_us: 0,
            max_latency_us: 0,
            window: Window::new(start),
            interval,
        }
    }

    /// Adds an acknowledged record. Returns the window's progress line when the window is
    /// over (the caller prints it).
    pub(crate) fn record(&mut self, latency: Duration, bytes: u64, now: Instant) -> Option<String> {
        let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.count += 1;
        self.bytes += bytes;
        self.total_latency_us = self.total_latency_us.saturating_add(latency_us);
        self.max_latency_us = self.max_latency_us.max(latency_us);
        let w = &mut self.window;
        w.count += 1;
        w.bytes += bytes;
        w.total_latency_us = w.total_latency_us.saturating_add(latency_us);
        w.max_latency_us = w.max_latency_us.max(latency_us);
        if self.iteration.is_multiple_of(self.sampling) && self.samples.len() < self.max_samples {
            self.samples
                .push(u32::try_from(latency_us).unwrap_or(u32::MAX));
        }
        self.iteration += 1;
        if now.saturating_duration_since(self.window.start) >= self.interval {
            let line = self.window_line(now);
            self.window = Window::new(now);
            return Some(line);
        }
        None
    }

    /// The current window's line as of `now`.
    fn window_line(&self, now: Instant) -> String {
        let w = &self.window;
        let elapsed = now.saturating_duration_since(w.start);
        format!(
            "{} records sent, {:.1} records/sec ({:.2} MB/sec), {:.1} ms avg latency, {:.1} ms max latency.",
            w.count,
            per_second(w.count as f64, elapsed),
            per_second(w.bytes as f64, elapsed) / MIB,
            average_ms(w.total_latency_us, w.count),
            w.max_latency_us as f64 / 1000.0,
        )
    }

    /// The final summary line as of `now`.
    pub(crate) fn total_line(&self, now: Instant) -> String {
        let elapsed = now.saturating_duration_since(self.start);
        let [p50, p95, p99, p999] = self.percentiles_ms([0.5, 0.95, 0.99, 0.999]);
        format!(
            "{} records sent, {:.6} records/sec ({:.2} MB/sec), {:.2} ms avg latency, {:.2} ms max latency, {p50} ms 50th, {p95} ms 95th, {p99} ms 99th, {p999} ms 99.9th.",
            self.count,
            per_second(self.count as f64, elapsed),
            per_second(self.bytes as f64, elapsed) / MIB,
            average_ms(self.total_latency_us, self.count),
            self.max_latency_us as f64 / 1000.0,
        )
    }

    /// Latency percentiles of the sample, in whole milliseconds.
    fn percentiles_ms<const N: usize>(&self, quantiles: [f64; N]) -> [u32; N] {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        quantiles.map(|q| {
            let index = (q * sorted.len() as f64) as usize;
            sorted.get(index).map_or(0, |us| us / 1000)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn totals_follow_producer_performance_format() {
        let start = Instant::now();
        let mut stats = PerfStats::new(1000, start, Duration::from_secs(3600));
        // Latencies 1..=1000 ms, 100 bytes each, acknowledged over 2 s.
        for i in 1..=1000u64 {
            assert!(stats.record(ms(i), 100, start + ms(i)).is_none());
        }
        assert_eq!(stats.count, 1000);
        let line = stats.total_line(start + ms(2000));
        assert_eq!(
            line,
            "1000 records sent, 500.000000 records/sec (0.05 MB/sec), 500.50 ms avg latency, \
             1000.00 ms max latency, 501 ms 50th, 951 ms 95th, 991 ms 99th, 1000 ms 99.9th."
        );
    }

    #[test]
    fn percentiles_truncate_to_whole_milliseconds() {
        let start = Instant::now();
        let mut stats = PerfStats::new(4, start, Duration::from_secs(3600));
        for us in [1_999, 250, 3_001, 999] {
            stats.record(Duration::from_micros(us), 10, start);
        }
        // Sorted: 250, 999, 1999, 3001 us; index floor(q * 4): 2, 3, 3, 3.
        assert_eq!(stats.percentiles_ms([0.5, 0.95, 0.0]), [1, 3, 0]);
        assert!(stats
            .total_line(start + ms(1000))
            .ends_with("1.56 ms avg latency, 3.00 ms max latency, 1 ms 50th, 3 ms 95th, 3 ms 99th, 3 ms 99.9th."));
    }

    #[test]
    fn windows_print_after_the_interval_and_restart() {
        let start = Instant::now();
        let mut stats = PerfStats::new(100, start, ms(5000));
        assert!(stats.record(ms(2), 1024 * 1024, start + ms(1000)).is_none());
        assert!(stats.record(ms(4), 1024 * 1024, start + ms(4999)).is_none());
        let line = stats
            .record(ms(9), 1024 * 1024, start + ms(5000))
            .expect("window over");
        assert_eq!(
            line,
            "3 records sent, 0.6 records/sec (0.60 MB/sec), 5.0 ms avg latency, 9.0 ms max latency."
        );
        // The next window starts empty at the time of the last record.
        assert!(stats.record(ms(1), 10, start + ms(9999)).is_none());
        let next = stats
            .record(ms(3), 10, start + ms(10_000))
            .expect("window over");
        assert!(
            next.starts_with("2 records sent, 0.4 records/sec"),
            "{next}"
        );
        assert_eq!(stats.count, 5);
    }

    #[test]
    fn large_runs_sample_a_bounded_number_of_latencies() {
        let start = Instant::now();
        let n = 1_200_000;
        let mut stats = PerfStats::new(n, start, Duration::from_secs(3600));
        for i in 0..n {
            stats.record(Duration::from_micros(i % 1000 * 1000), 1, start);
        }
        // sampling = 1_200_000 / 500_000 = 2, so 600_000 samples.
        assert_eq!(stats.samples.len(), 600_000);
        assert_eq!(stats.percentiles_ms([0.5]), [500]);
        // More acknowledgements than announced (cannot happen, but must not grow memory).
        let mut small = PerfStats::new(3, start, Duration::from_secs(3600));
        for _ in 0..10 {
            small.record(ms(1), 1, start);
        }
        assert!(small.samples.len() <= 4);
    }

    #[test]
    fn an_empty_run_prints_zeros() {
        let start = Instant::now();
        let stats = PerfStats::new(10, start, ms(5000));
        assert_eq!(
            stats.total_line(start),
            "0 records sent, 0.000000 records/sec (0.00 MB/sec), 0.00 ms avg latency, 0.00 ms max latency, 0 ms 50th, 0 ms 95th, 0 ms 99th, 0 ms 99.9th."
        );
    }
}
