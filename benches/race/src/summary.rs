//! The summary line Kafka's `ProducerPerformance` prints at the end of a run, which `kiel
//! perf` and `rdkafka-perf` print too: writing it and reading it back.
//!
//! ```text
//! 1000000 records sent, 291911.479263 records/sec (27.84 MB/sec), 717.63 ms avg latency, 1107.87 ms max latency, 764 ms 50th, 1009 ms 95th, 1053 ms 99th, 1095 ms 99.9th.
//! ```
//!
//! Progress lines printed while a run goes on look the same up to the max latency and have
//! no percentiles, so the summary is the last line that names the 99.9th percentile.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java`
//!   (`Stats.printTotal`)

use std::fmt;

/// What one run of a ProducerPerformance-style client reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerfSummary {
    /// Records acknowledged.
    pub records: u64,
    /// Acknowledged records per second over the whole run.
    pub records_per_sec: f64,
    /// MiB per second (ProducerPerformance's "MB/sec").
    pub mb_per_sec: f64,
    /// Mean latency from send to acknowledgement, ms.
    pub avg_ms: f64,
    /// Largest latency, ms.
    pub max_ms: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 95th percentile latency, ms.
    pub p95_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// 99.9th percentile latency, ms.
    pub p999_ms: f64,
}

/// Why a client's output held no usable summary line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SummaryError {
    /// No line names records sent and a 99.9th percentile.
    NoSummaryLine,
    /// The line was found but a figure in it could not be read.
    Malformed(String),
}

impl fmt::Display for SummaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSummaryLine => f.write_str("no ProducerPerformance summary line in the output"),
            Self::Malformed(line) => write!(f, "unreadable summary line: {line}"),
        }
    }
}

impl std::error::Error for SummaryError {}

impl PerfSummary {
    /// Finds the summary line in a client's standard output and reads it.
    pub fn from_output(stdout: &str) -> Result<Self, SummaryError> {
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.contains("records sent") && l.contains("99.9th"))
            .ok_or(SummaryError::NoSummaryLine)?;
        Self::from_line(line)
    }

    /// Reads one summary line.
    pub fn from_line(line: &str) -> Result<Self, SummaryError> {
        let malformed = || SummaryError::Malformed(line.trim().to_owned());
        let parts: Vec<&str> = line.trim().split(", ").collect();
        let [sent, rate, avg, max, p50, p95, p99, p999] = parts[..] else {
            return Err(malformed());
        };
        // Each part starts with its number and ends with the words that name it.
        let number = |part: &str, suffix: &str| -> Option<f64> {
            let value = part.trim().strip_suffix(suffix)?.trim();
            value.parse::<f64>().ok().filter(|v| v.is_finite())
        };
        let (rate, mb) = rate.split_once(" records/sec (").ok_or_else(malformed)?;
        let summary = Self {
            records: sent
                .strip_suffix(" records sent")
                .and_then(|n| n.trim().parse::<u64>().ok())
                .ok_or_else(malformed)?,
            records_per_sec: number(rate, "").ok_or_else(malformed)?,
            mb_per_sec: number(mb, "MB/sec)").ok_or_else(malformed)?,
            avg_ms: number(avg, "ms avg latency").ok_or_else(malformed)?,
            max_ms: number(max, "ms max latency").ok_or_else(malformed)?,
            p50_ms: number(p50, "ms 50th").ok_or_else(malformed)?,
            p95_ms: number(p95, "ms 95th").ok_or_else(malformed)?,
            p99_ms: number(p99, "ms 99th").ok_or_else(malformed)?,
            p999_ms: number(p999, "ms 99.9th.").ok_or_else(malformed)?,
        };
        Ok(summary)
    }
}

impl fmt::Display for PerfSummary {
    /// The line as ProducerPerformance prints it: six decimals for records/s, two for MB/s
    /// and the mean and max, whole milliseconds for the percentiles.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} records sent, {:.6} records/sec ({:.2} MB/sec), {:.2} ms avg latency, \
             {:.2} ms max latency, {} ms 50th, {} ms 95th, {} ms 99th, {} ms 99.9th.",
            self.records,
            self.records_per_sec,
            self.mb_per_sec,
            self.avg_ms,
            self.max_ms,
            self.p50_ms.floor(),
            self.p95_ms.floor(),
            self.p99_ms.floor(),
            self.p999_ms.floor(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JAVA_OUTPUT: &str = "\
249738 records sent, 49939.9 records/sec (4.76 MB/sec), 21.0 ms avg latency, 194.4 ms max latency.
1000000 records sent, 291911.479263 records/sec (27.84 MB/sec), 717.63 ms avg latency, 1107.87 ms max latency, 764 ms 50th, 1009 ms 95th, 1053 ms 99th, 1095 ms 99.9th.
";

    #[test]
    fn the_last_summary_line_is_read_and_progress_lines_are_skipped() {
        let s = PerfSummary::from_output(JAVA_OUTPUT).unwrap();
        assert_eq!(s.records, 1_000_000);
        assert!((s.records_per_sec - 291_911.479263).abs() < 1e-6);
        assert!((s.mb_per_sec - 27.84).abs() < 1e-9);
        assert!((s.avg_ms - 717.63).abs() < 1e-9);
        assert!((s.max_ms - 1107.87).abs() < 1e-9);
        assert_eq!(
            (s.p50_ms, s.p95_ms, s.p99_ms, s.p999_ms),
            (764.0, 1009.0, 1053.0, 1095.0)
        );
    }

    #[test]
    fn a_written_line_reads_back_with_percentiles_in_whole_milliseconds() {
        let s = PerfSummary {
            records: 20_000,
            records_per_sec: 12_345.678_9,
            mb_per_sec: 1.18,
            avg_ms: 3.456,
            max_ms: 41.0,
            p50_ms: 2.9,
            p95_ms: 7.0,
            p99_ms: 12.5,
            p999_ms: 40.99,
        };
        let line = s.to_string();
        assert!(line.starts_with("20000 records sent, 12345.678900 records/sec (1.18 MB/sec)"));
        let back = PerfSummary::from_line(&line).unwrap();
        assert_eq!(back.records, 20_000);
        assert!((back.avg_ms - 3.46).abs() < 1e-9);
        assert_eq!(
            (back.p50_ms, back.p95_ms, back.p99_ms, back.p999_ms),
            (2.0, 7.0, 12.0, 40.0)
        );
    }

    #[test]
    fn outputs_without_a_readable_summary_are_refused() {
        assert_eq!(
            PerfSummary::from_output("249738 records sent, 49939.9 records/sec (4.76 MB/sec), 21.0 ms avg latency, 194.4 ms max latency.\n"),
            Err(SummaryError::NoSummaryLine)
        );
        assert_eq!(
            PerfSummary::from_output(""),
            Err(SummaryError::NoSummaryLine)
        );
        let missing_part = "10 records sent, 5.0 records/sec (0.00 MB/sec), 1.00 ms avg latency, 2.00 ms max latency, 1 ms 50th, 1 ms 95th, 1 ms 99.9th.";
        assert!(matches!(
            PerfSummary::from_line(missing_part),
            Err(SummaryError::Malformed(_))
        ));
        let not_a_number = "x records sent, 5.0 records/sec (0.00 MB/sec), 1.00 ms avg latency, 2.00 ms max latency, 1 ms 50th, 1 ms 95th, 1 ms 99th, 1 ms 99.9th.";
        assert!(PerfSummary::from_line(not_a_number).is_err());
        let nan_rate = "10 records sent, NaN records/sec (0.00 MB/sec), 1.00 ms avg latency, 2.00 ms max latency, 1 ms 50th, 1 ms 95th, 1 ms 99th, 1 ms 99.9th.";
        assert!(PerfSummary::from_line(nan_rate).is_err());
    }
}
