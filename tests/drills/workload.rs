//! The drill's workload: records `0..n`, record `i` to partition `i % partitions` with the
//! value `i`, paced to a target rate, every outcome collected by a separate task so that a
//! future that never resolves is counted rather than waited for forever.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kiel::{DeliveryFuture, Producer, Record};
use tokio::sync::{mpsc, watch};
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

/// Every record's outcome, and a sample of the errors.
#[derive(Debug)]
pub(crate) struct Outcomes {
    pub(crate) by_record: Vec<Outcome>,
    pub(crate) error_samples: Vec<String>,
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

/// Produces `records` records to `topic` over `partitions` partitions at no more than
/// `rate` records/s, publishing progress every 1,000 records and at the end. Returns the
/// outcome collector, to be finished with [`Collector::finish`] after the producer is
/// flushed.
pub(crate) async fn produce_all(
    producer: &Producer,
    topic: &str,
    records: u64,
    partitions: u32,
    rate: u64,
    progress: &watch::Sender<Progress>,
) -> Collector {
    let collector = Collector::start(records);
    let started = Instant::now();
    for i in 0..records {
        if i % 1000 == 0 {
            progress.send_modify(|p| p.enqueued = i);
            // Pacing: record i is not sent before started + i / rate.
            let due = started + Duration::from_secs_f64(i as f64 / rate as f64);
            tokio::time::sleep_until(due).await;
        }
        let record = Record::value(value_of(i)).with_partition((i % u64::from(partitions)) as i32);
        match producer.enqueue(topic, record).await {
            Ok(future) => collector.track(i, future),
            Err(e) => collector.failed_at_once(i, &e.to_string()),
        }
    }
    progress.send_modify(|p| {
        p.enqueued = records;
        p.done = true;
    });
    collector
}

/// Awaits every record's future on its own task.
pub(crate) struct Collector {
    queue: mpsc::UnboundedSender<(u64, DeliveryFuture)>,
    outcomes: Arc<Mutex<Outcomes>>,
    give_up: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Collector {
    fn start(records: u64) -> Self {
        let outcomes = Arc::new(Mutex::new(Outcomes {
            by_record: vec![Outcome::Unresolved; records as usize],
            error_samples: Vec::new(),
        }));
        let (queue, mut queued) = mpsc::unbounded_channel::<(u64, DeliveryFuture)>();
        let (give_up, mut giving_up) = watch::channel(false);
        let shared = Arc::clone(&outcomes);
        let task = tokio::spawn(async move {
            while let Some((i, future)) = queued.recv().await {
                tokio::pin!(future);
                let result = if *giving_up.borrow() {
                    None
                } else {
                    tokio::select! {
                        result = &mut future => Some(result),
                        _ = giving_up.wait_for(|g| *g) => None,
                    }
                };
                // After giving up, a future is only polled once: resolved or not.
                let result = match result {
                    Some(r) => Some(r),
                    None => tokio::time::timeout(Duration::ZERO, &mut future).await.ok(),
                };
                let mut outcomes = shared.lock().unwrap_or_else(PoisonError::into_inner);
                match result {
                    Some(Ok(m)) => {
                        outcomes.by_record[i as usize] = Outcome::Acked {
                            partition: m.partition,
                            offset: m.offset,
                        }
                    }
                    Some(Err(e)) => {
                        outcomes.by_record[i as usize] = Outcome::Failed;
                        if outcomes.error_samples.len() < 5 {
                            outcomes.error_samples.push(format!("record {i}: {e}"));
                        }
                    }
                    None => {}
                }
            }
        });
        Self {
            queue,
            outcomes,
            give_up,
            task,
        }
    }

    fn track(&self, i: u64, future: DeliveryFuture) {
        if self.queue.send((i, future)).is_err() {
            self.failed_at_once(i, "the collector stopped");
        }
    }

    fn failed_at_once(&self, i: u64, error: &str) {
        let mut outcomes = self.outcomes.lock().unwrap_or_else(PoisonError::into_inner);
        outcomes.by_record[i as usize] = Outcome::Failed;
        if outcomes.error_samples.len() < 5 {
            outcomes
                .error_samples
                .push(format!("record {i} (at enqueue): {error}"));
        }
    }

    /// Waits up to `patience` for every future, then counts the rest as unresolved.
    pub(crate) async fn finish(self, patience: Duration) -> Outcomes {
        let Self {
            queue,
            outcomes,
            give_up,
            mut task,
        } = self;
        drop(queue);
        if tokio::time::timeout(patience, &mut task).await.is_err() {
            let _ = give_up.send(true);
            let _ = task.await;
        }
        let mut outcomes = outcomes.lock().unwrap_or_else(PoisonError::into_inner);
        Outcomes {
            by_record: std::mem::take(&mut outcomes.by_record),
            error_samples: std::mem::take(&mut outcomes.error_samples),
        }
    }
}
