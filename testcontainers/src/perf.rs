//! The summary Kafka's `ProducerPerformance` prints when it finishes, parsed.
//!
//! The last line looks like: `10000 records sent, 9066.18 records/sec (0.86 MB/sec), 266.35
//! ms avg latency, 812.00 ms max latency, 258 ms 50th, 341 ms 95th, 350 ms 99th, 351 ms
//! 99.9th.` Progress lines printed while it runs have no percentiles.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java` (`Stats.printTotal`)

use crate::error::{HarnessError, Result};

/// What one ProducerPerformance run reported.
#[derive(Debug, Clone, PartialEq)]
pub struct PerfResult {
    /// Records acknowledged.
    pub records: u64,
    /// Records per second.
    pub records_per_sec: f64,
    /// MiB per second (Kafka's "MB/sec").
    pub mb_per_sec: f64,
    /// Mean send-to-acknowledgement latency, ms.
    pub avg_latency_ms: f64,
    /// Largest latency, ms.
    pub max_latency_ms: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 95th percentile latency, ms.
    pub p95_ms: f64,
    /// 99th percentile latency, ms.
    pub p99_ms: f64,
    /// 99.9th percentile latency, ms.
    pub p999_ms: f64,
    /// The summary line as printed.
    pub summary: String,
}

/// Finds and parses the summary line in ProducerPerformance's standard output.
pub(crate) fn parse_summary(stdout: &str) -> Result<PerfResult> {
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.contains("records sent") && l.contains("99.9th"))
        .ok_or_else(|| HarnessError::Parse {
            what: "ProducerPerformance output",
            detail: format!(
                "no summary line in:\n{}",
                crate::logs::tail_lines(stdout, 5)
            ),
        })?;
    let bad = || HarnessError::Parse {
        what: "ProducerPerformance summary",
        detail: line.to_owned(),
    };
    // Comma-separated parts; each starts with its number ("258 ms 50th"), and the MB/s
    // figure is in the parentheses of the second part.
    let first_number =
        |part: &str| -> Option<f64> { part.split_whitespace().next()?.parse::<f64>().ok() };
    let parts: Vec<&str> = line.split(',').map(str::trim).collect();
    let [sent, rate, avg, max, p50, p95, p99, p999] = parts[..] else {
        return Err(bad());
    };
    let mbps = rate
        .split_once('(')
        .and_then(|(_, inner)| first_number(inner));
    let numbers = [sent, rate, avg, max, p50, p95, p99, p999].map(first_number);
    let [Some(records), Some(rps), Some(avg), Some(max), Some(p50), Some(p95), Some(p99), Some(p999)] =
        numbers
    else {
        return Err(bad());
    };
    let mbps = mbps.ok_or_else(bad)?;
    if records < 0.0 || records.fract() != 0.0 {
        return Err(bad());
    }
    Ok(PerfResult {
        records: records as u64,
        records_per_sec: rps,
        mb_per_sec: mbps,
        avg_latency_ms: avg,
        max_latency_ms: max,
        p50_ms: p50,
        p95_ms: p95,
        p99_ms: p99,
        p999_ms: p999,
        summary: line.trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_is_found_and_parsed() {
        let out = "5000 records sent, 999.8 records/sec (0.10 MB/sec), 3.1 ms avg latency, 90.0 ms max latency.\n\
                   10000 records sent, 9066.183137 records/sec (0.86 MB/sec), 266.35 ms avg latency, \
                   812.00 ms max latency, 258 ms 50th, 341 ms 95th, 350 ms 99th, 351 ms 99.9th.\n";
        let r = parse_summary(out).unwrap();
        assert_eq!(r.records, 10_000);
        assert!((r.records_per_sec - 9066.183137).abs() < 1e-9);
        assert!((r.mb_per_sec - 0.86).abs() < 1e-9);
        assert!((r.avg_latency_ms - 266.35).abs() < 1e-9);
        assert!((r.max_latency_ms - 812.0).abs() < 1e-9);
        assert_eq!(
            (r.p50_ms, r.p95_ms, r.p99_ms, r.p999_ms),
            (258.0, 341.0, 350.0, 351.0)
        );
        assert!(parse_summary("5000 records sent, 1 records/sec").is_err());
        assert!(parse_summary("").is_err());
    }
}
