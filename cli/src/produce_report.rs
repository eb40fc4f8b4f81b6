//! What `kiel produce` counts and prints at the end.
//!
//! stdout gets one summary line:
//! `N records produced to `TOPIC`, F failed: B bytes in S s (R records/s, M MB/s)`
//! where B counts the key, value and header bytes of acknowledged records, S has three
//! decimals, and MB are MiB. stderr gets the first failures, one per line as
//! `line L: REASON`, in line order.
//!
//! # References
//! - Kafka's ProducerPerformance (MB = MiB in its rates)

use std::time::Duration;

use kiel::Record;

/// Bytes of a record's key, value and headers.
pub(crate) fn record_bytes(record: &Record) -> u64 {
    let key = record.key.as_ref().map_or(0, |k| k.len());
    let value = record.value.as_ref().map_or(0, |v| v.len());
    let headers: usize = record
        .headers
        .iter()
        .map(|h| h.key.len() + h.value.as_ref().map_or(0, |v| v.len()))
        .sum();
    (key + value + headers) as u64
}

/// Outcomes of a produce run.
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    produced: u64,
    bytes: u64,
    failed: u64,
    listed: Vec<(u64, String)>,
    max_listed: usize,
}

impl Tally {
    /// An empty tally that keeps at most `max_listed` failures for the report.
    pub(crate) fn new(max_listed: usize) -> Self {
        Self {
            produced: 0,
            bytes: 0,
            failed: 0,
            listed: Vec::new(),
            max_listed,
        }
    }

    /// A record of `bytes` bytes was acknowledged.
    pub(crate) fn acknowledged(&mut self, bytes: u64) {
        self.produced += 1;
        self.bytes += bytes;
    }

    /// The record of input line `line` failed.
    pub(crate) fn failed(&mut self, line: u64, reason: String) {
        self.failed += 1;
        if self.listed.len() < self.max_listed {
            self.listed.push((line, reason));
        }
    }

    /// Records acknowledged.
    pub(crate) fn produced(&self) -> u64 {
        self.produced
    }

    /// Records failed.
    pub(crate) fn failed_count(&self) -> u64 {
        self.failed
    }

    /// The summary line.
    pub(crate) fn summary(&self, topic: &str, elapsed: Duration) -> String {
        let secs = elapsed.as_secs_f64();
        let rate = |amount: f64| if secs > 0.0 { amount / secs } else { 0.0 };
        format!(
            "{} records produced to `{topic}`, {} failed: {} bytes in {secs:.3} s ({:.2} records/s, {:.2} MB/s)",
            self.produced,
            self.failed,
            self.bytes,
            rate(self.produced as f64),
            rate(self.bytes as f64) / (1024.0 * 1024.0),
        )
    }

    /// The failure report: listed failures in line order, then how many were left out.
    pub(crate) fn failure_report(&self) -> Vec<String> {
        let mut listed = self.listed.clone();
        listed.sort_by_key(|(line, _)| *line);
        let mut out: Vec<String> = listed
            .into_iter()
            .map(|(line, reason)| format!("line {line}: {reason}"))
            .collect();
        let unlisted = self.failed - out.len() as u64;
        if unlisted > 0 {
            out.push(format!(
                "... and {unlisted} more failed record{} (--max-errors lists more)",
                if unlisted == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_bytes_count_key_value_and_headers() {
        let r = Record::key_value("ab", "cde")
            .with_header("h", "12")
            .with_null_header("nn");
        assert_eq!(record_bytes(&r), 2 + 3 + 1 + 2 + 2);
        assert_eq!(record_bytes(&Record::default()), 0);
    }

    #[test]
    fn the_summary_has_counts_bytes_and_rates() {
        let mut t = Tally::new(10);
        t.acknowledged(1024 * 1024);
        t.acknowledged(1024 * 1024);
        t.failed(7, "too large".into());
        assert_eq!(
            t.summary("events", Duration::from_millis(500)),
            "2 records produced to `events`, 1 failed: 2097152 bytes in 0.500 s (4.00 records/s, 4.00 MB/s)"
        );
        assert_eq!(
            Tally::new(1).summary("t", Duration::ZERO),
            "0 records produced to `t`, 0 failed: 0 bytes in 0.000 s (0.00 records/s, 0.00 MB/s)"
        );
    }

    #[test]
    fn failures_are_listed_in_line_order_up_to_the_limit() {
        let mut t = Tally::new(2);
        t.failed(9, "b".into());
        t.failed(3, "a".into());
        t.failed(12, "c".into());
        t.failed(13, "d".into());
        assert_eq!(t.failed_count(), 4);
        assert_eq!(
            t.failure_report(),
            vec![
                "line 3: a".to_owned(),
                "line 9: b".to_owned(),
                "... and 2 more failed records (--max-errors lists more)".to_owned()
            ]
        );
        let mut one = Tally::new(0);
        one.failed(1, "x".into());
        assert_eq!(
            one.failure_report(),
            vec!["... and 1 more failed record (--max-errors lists more)".to_owned()]
        );
        assert!(Tally::new(5).failure_report().is_empty());
    }
}
