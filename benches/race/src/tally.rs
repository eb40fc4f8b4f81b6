//! What a peer's perf program adds up while it runs: every record's latency (ProducerPerformance's
//! sampling, through [`LatencyRecorder`]), the failures (the first few listed), and the run's
//! [`Outcome`]. Shared by every peer program (kacrab-perf, krafka-perf, confluent-perf,
//! rdkafka-perf).
//!
//! # References
//! - Kafka `tools/.../ProducerPerformance.java` (failed records are not counted as sent)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::latency::LatencyRecorder;
use crate::summary::PerfSummary;

/// Failures listed at most.
pub const MAX_LISTED_FAILURES: usize = 5;

/// How a run went.
#[derive(Debug)]
pub struct Outcome {
    /// The summary line's figures.
    pub summary: PerfSummary,
    /// Records that failed.
    pub failed: u64,
    /// The first failures' messages.
    pub failures: Vec<String>,
}

/// What the records' outcomes add up to.
#[derive(Debug)]
pub struct Tally {
    stats: Mutex<LatencyRecorder>,
    failed: AtomicU64,
    failures: Mutex<Vec<String>>,
    bytes_per_record: u64,
}

impl Tally {
    /// A tally for `num_records` records of `record_size` bytes.
    pub fn new(num_records: u64, record_size: u32) -> Self {
        Self {
            stats: Mutex::new(LatencyRecorder::new(num_records)),
            failed: AtomicU64::new(0),
            failures: Mutex::new(Vec::new()),
            bytes_per_record: u64::from(record_size),
        }
    }

    /// A record was acknowledged `latency` after it was handed over.
    pub fn acknowledged(&self, latency: Duration) {
        self.stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(latency, self.bytes_per_record);
    }

    /// A record failed.
    pub fn fail(&self, reason: String) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        self.note(reason);
    }

    /// A failure message to list, when the record's outcome is counted elsewhere.
    pub fn note(&self, reason: String) {
        let mut listed = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if listed.len() < MAX_LISTED_FAILURES {
            listed.push(reason);
        }
    }

    /// The run's outcome after `elapsed`.
    pub fn outcome(&self, elapsed: Duration) -> Outcome {
        Outcome {
            summary: self
                .stats
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .summary(elapsed),
            failed: self.failed.load(Ordering::Relaxed),
            failures: self
                .failures
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }
}
