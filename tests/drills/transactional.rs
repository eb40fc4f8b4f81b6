//! The transactional drill (issue 14): transactions of 50-500 records over the 12
//! partitions while the transaction coordinator and partition leaders are SIGKILLed and
//! restarted in a loop, then read back with Kafka's console consumer in `read_committed`.
//!
//! Record `k` of transaction `t` has the value `t:k` and goes to partition `(t + k) % 12`.
//! A commit that fails as abortable is followed by an abort; one that fails otherwise (a
//! timeout, a fatal error) leaves the transaction's fate unknown, and the producer is
//! replaced by a new one with the same `transactional.id` (whose `init_transactions` ends
//! the old one's transaction). The verdict: every committed transaction is visible whole,
//! each record once, in order per partition; no record of an aborted transaction is; an
//! unknown one is whole or absent; every commit and abort call returned.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kiel::{Acks, Error, Producer, Record};
use kiel_testcontainers::{KafkaCluster, ReadOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::watch;

use crate::workload::Progress;

/// What became of a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fate {
    Committed,
    Aborted,
    /// The commit call failed without saying (a timeout, a fatal error).
    Unknown,
}

/// One transaction of the drill.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Transaction {
    pub(crate) records: u32,
    pub(crate) fate: Fate,
}

/// What the workload did.
pub(crate) struct Workload {
    pub(crate) transactions: Vec<Transaction>,
    /// How long each commit call (with the abort after it, if any) took.
    pub(crate) calls: Vec<Duration>,
    /// Records of committed transactions whose futures failed (must be 0).
    pub(crate) committed_but_failed: u64,
    /// Producers replaced after a commit failed for good.
    pub(crate) replaced: u32,
    pub(crate) error_samples: Vec<String>,
}

/// Records a transaction has, 50 to 500.
fn size_of(rng: &mut StdRng) -> u32 {
    rng.random_range(50..=500)
}

/// The value of record `k` of transaction `t`.
fn value(t: usize, k: u32) -> String {
    format!("{t}:{k}")
}

async fn producer(bootstrap: &str, id: &str, request_timeout: Duration) -> Producer {
    let producer = Producer::builder()
        .bootstrap_servers(bootstrap)
        .transactional_id(id)
        .acks(Acks::All)
        .linger(Duration::from_millis(5))
        .request_timeout(request_timeout)
        .delivery_timeout(Duration::from_secs(120))
        .max_block(Duration::from_secs(120))
        .build()
        .await
        .unwrap_or_else(|e| panic!("transactional producer: {e}"));
    producer
        .init_transactions()
        .await
        .unwrap_or_else(|e| panic!("init_transactions: {e}"));
    producer
}

/// Runs `count` transactions to `topic`, publishing progress (in records) for the faults.
pub(crate) async fn run(
    cluster: &KafkaCluster,
    topic: &str,
    partitions: u32,
    count: usize,
    request_timeout: Duration,
    progress: &watch::Sender<Progress>,
) -> Workload {
    let id = crate::common::unique("drill-tx");
    let bootstrap = cluster.bootstrap();
    let mut producer = producer(&bootstrap, &id, request_timeout).await;
    let mut rng = StdRng::seed_from_u64(count as u64);
    let mut workload = Workload {
        transactions: Vec::with_capacity(count),
        calls: Vec::with_capacity(count),
        committed_but_failed: 0,
        replaced: 0,
        error_samples: Vec::new(),
    };
    let mut sent = 0u64;
    for t in 0..count {
        let records = size_of(&mut rng);
        producer
            .begin_transaction()
            .unwrap_or_else(|e| panic!("transaction {t}: begin: {e}"));
        let mut futures = Vec::with_capacity(records as usize);
        for k in 0..records {
            let partition = ((t as u32 + k) % partitions) as i32;
            let record = Record::value(value(t, k)).with_partition(partition);
            match producer.enqueue(topic, record).await {
                Ok(future) => futures.push(future),
                Err(e) => panic!("transaction {t}: record {k}: {e}"),
            }
        }
        sent += u64::from(records);
        progress.send_modify(|p| p.enqueued = sent);
        let started = Instant::now();
        let fate = match producer.commit_transaction().await {
            Ok(()) => Fate::Committed,
            Err(Error::Transaction(e)) if e.is_abortable() => {
                sample(
                    &mut workload.error_samples,
                    format!("transaction {t}: commit: {e}"),
                );
                match producer.abort_transaction().await {
                    Ok(()) => Fate::Aborted,
                    Err(e) => {
                        sample(
                            &mut workload.error_samples,
                            format!("transaction {t}: abort: {e}"),
                        );
                        Fate::Unknown
                    }
                }
            }
            Err(e) => {
                sample(
                    &mut workload.error_samples,
                    format!("transaction {t}: commit: {e}"),
                );
                Fate::Unknown
            }
        };
        let took = started.elapsed();
        if took > Duration::from_secs(2) {
            tracing::info!(target: "kiel::drill", transaction = t, ?fate, ?took, "slow commit");
        }
        workload.calls.push(took);
        for future in futures {
            let outcome = future.await;
            if fate == Fate::Committed {
                if let Err(e) = outcome {
                    workload.committed_but_failed += 1;
                    sample(&mut workload.error_samples, format!("transaction {t}: {e}"));
                }
            }
        }
        if fate == Fate::Unknown {
            // Start over under the same transactional.id: its init_transactions ends what
            // the old producer left open.
            producer.close().await;
            producer = self::producer(&bootstrap, &id, request_timeout).await;
            workload.replaced += 1;
        }
        workload.transactions.push(Transaction { records, fate });
    }
    progress.send_modify(|p| p.done = true);
    producer.close().await;
    workload
}

impl Workload {
    /// The `q` quantile (0 to 1) of the commit calls' durations.
    pub(crate) fn call_quantile(&self, q: f64) -> Duration {
        let mut calls = self.calls.clone();
        calls.sort_unstable();
        let Some(last) = calls.len().checked_sub(1) else {
            return Duration::ZERO;
        };
        calls[((last as f64) * q).round() as usize]
    }
}

fn sample(samples: &mut Vec<String>, text: String) {
    if samples.len() < 5 {
        samples.push(text);
    }
}

/// What `read_committed` showed.
#[derive(Debug, Default)]
pub(crate) struct Verdict {
    pub(crate) committed: usize,
    pub(crate) aborted: usize,
    pub(crate) unknown: usize,
    /// Records read back.
    pub(crate) read: usize,
    /// Committed transactions not visible whole (missing records).
    pub(crate) incomplete: usize,
    /// Records seen more than once.
    pub(crate) duplicated: usize,
    /// Records of aborted transactions seen.
    pub(crate) aborted_visible: usize,
    /// Unknown transactions seen in part.
    pub(crate) partial_unknown: usize,
    /// Records out of (transaction, record) order within a partition.
    pub(crate) out_of_order: usize,
    /// Records at a partition their transaction did not write to, or not written at all.
    pub(crate) foreign: usize,
}

/// Reads `topic` back in `read_committed` with Kafka's console consumer and judges it.
pub(crate) async fn judge(cluster: &KafkaCluster, topic: &str, workload: &Workload) -> Verdict {
    let mut verdict = Verdict::default();
    let mut expected = 0usize;
    for txn in &workload.transactions {
        match txn.fate {
            Fate::Committed => {
                verdict.committed += 1;
                expected += txn.records as usize;
            }
            Fate::Aborted => verdict.aborted += 1,
            Fate::Unknown => verdict.unknown += 1,
        }
    }
    let unknown_records: usize = workload
        .transactions
        .iter()
        .filter(|t| t.fate == Fate::Unknown)
        .map(|t| t.records as usize)
        .sum();
    // Ask for more than can be there: hitting the limit would mean extra records.
    let mut options = ReadOptions::new(expected + unknown_records + 1, Duration::from_secs(20));
    options.read_committed = true;
    options.allow_fewer = true;
    let read = cluster
        .consume_with(topic, &options)
        .await
        .unwrap_or_else(|e| panic!("reading {topic} back in read_committed: {e}"));
    verdict.read = read.len();
    let mut seen: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    let mut last_by_partition: BTreeMap<i32, (usize, u32)> = BTreeMap::new();
    for record in &read {
        let parsed = record
            .value
            .as_deref()
            .and_then(|v| std::str::from_utf8(v).ok())
            .and_then(|v| v.split_once(':'))
            .and_then(|(t, k)| Some((t.parse::<usize>().ok()?, k.parse::<u32>().ok()?)));
        let Some((t, k)) = parsed else {
            verdict.foreign += 1;
            continue;
        };
        let Some(txn) = workload.transactions.get(t) else {
            verdict.foreign += 1;
            continue;
        };
        if k >= txn.records || (t as u32 + k) % crate::PARTITIONS != record.partition as u32 {
            verdict.foreign += 1;
        }
        if let Some(last) = last_by_partition.insert(record.partition, (t, k)) {
            if last >= (t, k) {
                verdict.out_of_order += 1;
            }
        }
        seen.entry(t).or_default().push(k);
    }
    for (t, txn) in workload.transactions.iter().enumerate() {
        let mut ks = seen.remove(&t).unwrap_or_default();
        let total = ks.len();
        ks.sort_unstable();
        ks.dedup();
        verdict.duplicated += total - ks.len();
        let whole = ks.len() == txn.records as usize;
        match txn.fate {
            Fate::Committed if !whole => verdict.incomplete += 1,
            Fate::Aborted => verdict.aborted_visible += total,
            Fate::Unknown if !ks.is_empty() && !whole => verdict.partial_unknown += 1,
            _ => {}
        }
    }
    verdict
}
