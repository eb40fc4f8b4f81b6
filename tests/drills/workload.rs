//! The drill's workload: records `0..n`, record `i` to partition `i % partitions` with the
//! value `i`, paced to a target rate, half of them reporting through callbacks and half
//! through futures; the order of their outcomes is checked as they come, and a record that
//! never gets one is counted rather than waited for forever.

use std::time::Duration;

use kiel::{Error, Producer, Record, RecordMetadata};
use kiel_testcontainers::OutcomeOrder;
use tokio::sync::watch;
use tokio::time::Instant;

/// What happened to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// No answer yet.
    Unresolved,
    /// Acknowledged at (partition, offset).
    Acked { partition: i32, offset: i64 },
    /// Failed for good.
    Failed,
}

/// Every record's outcome, a sample of the errors, and every outcome that came before an
/// earlier record's of its partition.
#[derive(Debug)]
pub(crate) struct Outcomes {
    pub(crate) by_record: Vec<Outcome>,
    pub(crate) error_samples: Vec<String>,
    pub(crate) order_violations: Vec<String>,
}

/// The value of record `i`.
pub(crate) fn value_of(i: u64) -> String {
    format!("{i:010}")
}

/// Reads a record index back from a value.
pub(crate) fn index_of(value: &[u8]) -> Option<u64> {
    std::str::from_utf8(value).ok()?.parse().ok()
}

/// How far the workload is, for the fault schedule.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Progress {
    /// Records handed to the producer so far.
    pub(crate) enqueued: u64,
    /// Every record has been handed to the producer.
    pub(crate) done: bool,
}

/// The outcome a record reports.
type Reported = kiel::Result<RecordMetadata>;

/// Produces `records` records to `topic` over `partitions` partitions at no more than
/// `rate` records/s, publishing progress every 1,000 records and at the end. Even records
/// report through their futures, odd ones through callbacks (a callback the full buffer
/// refuses is replaced by a future from `enqueue`, which waits for room). Every outcome goes
/// to an [`OutcomeOrder`] keyed by partition, which checks that the records of a partition
/// get their outcomes in produce order. Finish with [`Collector::finish`] after the
/// producer is closed.
pub(crate) async fn produce_all(
    producer: &Producer,
    topic: &str,
    records: u64,
    partitions: u32,
    rate: u64,
    progress: &watch::Sender<Progress>,
) -> Collector {
    let order = OutcomeOrder::<Reported>::new();
    let started = Instant::now();
    for i in 0..records {
        if i % 1000 == 0 {
            progress.send_modify(|p| p.enqueued = i);
            // Pacing: record i is not sent before started + i / rate.
            let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
            tokio::time::sleep_until(due).await;
        }
        let partition = i % u64::from(partitions);
        let record = || Record::value(value_of(i)).with_partition(partition as i32);
        if i % 2 == 1 {
            match producer.produce_with_callback(topic, record(), order.callback(i, partition)) {
                Ok(()) => continue,
                Err(Error::QueueFull { .. } | Error::MetadataWaitFull { .. }) => {}
                Err(e) => {
                    order.resolved_at_once(i, partition, Err(e));
                    continue;
                }
            }
        }
        match producer.enqueue(topic, record()).await {
            Ok(future) => order.future(i, partition, future),
            Err(e) => order.resolved_at_once(i, partition, Err(e)),
        }
    }
    progress.send_modify(|p| {
        p.enqueued = records;
        p.done = true;
    });
    Collector { order, records }
}

/// The outcomes of a drill's records, and the order they came in.
pub(crate) struct Collector {
    order: OutcomeOrder<Reported>,
    records: u64,
}

impl Collector {
    /// Takes every outcome there is once the producer is closed (it waits for all of them):
    /// a record still without one counts as unresolved.
    pub(crate) fn finish(self) -> Outcomes {
        self.order.check_futures();
        let mut outcomes = Outcomes {
            by_record: vec![Outcome::Unresolved; self.records as usize],
            error_samples: Vec::new(),
            order_violations: self.order.violations(),
        };
        for (i, result) in self.order.take_outcomes() {
            outcomes.by_record[i as usize] = match result {
                Ok(m) => Outcome::Acked {
                    partition: m.partition,
                    offset: m.offset,
                },
                Err(e) => {
                    if outcomes.error_samples.len() < 5 {
                        outcomes.error_samples.push(format!("record {i}: {e}"));
                    }
                    Outcome::Failed
                }
            };
        }
        outcomes
    }
}
