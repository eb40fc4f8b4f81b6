//! `kiel perf`: Kafka ProducerPerformance's workload and output with the kiel producer.
//!
//! The loop, as ProducerPerformance's: make a payload, note the send time, hand the record
//! to the producer with a callback that records its latency, then ask the throttler whether
//! to sleep. When the producer's buffer is full, the record waits for room
//! (`Producer::enqueue`, bounded by `max.block.ms`, as Java's `send` blocks) and its latency
//! still counts from the first attempt. At the end the producer is closed (every record has
//! its outcome) and the total line is printed. Failed records are not counted as sent (as in
//! ProducerPerformance); the first few are printed on stderr and the exit code is 1. The
//! topic name is checked when the command line is parsed, before a local Kafka starts.
//! With `--transactional-id` / `--transaction-duration-ms` the records go in transactions,
//! each committed once it has been open that long, as ProducerPerformance's do; with
//! `--transaction-records N` (kiel's own) once it holds N records.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java`

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use kiel::{Error, Producer, ProducerConfig, Record, RecordMetadata};
use tokio::task::JoinSet;

use crate::cli::{PerfArgs, TransactionLimits, DEFAULT_PARTITIONS};
use crate::error::CliError;
use crate::interrupt::Interrupt;
use crate::local_kafka::LocalKafka;
use crate::payload::PayloadGenerator;
use crate::perf_keys::ZipfKeys;
use crate::perf_stats::{PerfStats, REPORTING_INTERVAL};
use crate::progress::{spawn_ticker, Progress};
use crate::settings::{producer_config, PERF_CLIENT_ID};
use crate::throttle::Throttler;

/// Failures printed at most.
const MAX_LISTED_FAILURES: usize = 5;

/// What the callbacks share with the loop.
struct Shared {
    stats: Mutex<PerfStats>,
    acknowledged: AtomicU64,
    failed: AtomicU64,
    failures: Mutex<Vec<String>>,
    progress: Progress,
}

impl Shared {
    fn fail(&self, error: &Error) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        let mut listed = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if listed.len() < MAX_LISTED_FAILURES {
            listed.push(error.to_string());
        }
    }

    /// The outcome of a record sent at `sent_at` with a value of `bytes` bytes.
    fn complete(&self, sent_at: Instant, bytes: u64, outcome: kiel::Result<RecordMetadata>) {
        let now = Instant::now();
        match outcome {
            Ok(_) => {
                let window = self
                    .stats
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .record(now.saturating_duration_since(sent_at), bytes, now);
                self.acknowledged.fetch_add(1, Ordering::Relaxed);
                if let Some(line) = window {
                    self.progress.println(&line);
                }
            }
            Err(e) => self.fail(&e),
        }
    }
}

/// ProducerPerformance's transactions: one begins before the first record after a commit,
/// and commits once it has been open for the transaction duration or holds the records
/// asked for (and at the end).
struct Transactions {
    limits: Option<TransactionLimits>,
    open_since: Option<Instant>,
    records_in_open: u64,
    committed: u64,
}

impl Transactions {
    fn new(limits: Option<TransactionLimits>) -> Self {
        Self {
            limits,
            open_since: None,
            records_in_open: 0,
            committed: 0,
        }
    }

    fn before_send(&mut self, producer: &Producer) -> Result<(), CliError> {
        if self.limits.is_some() && self.open_since.is_none() {
            producer
                .begin_transaction()
                .map_err(|e| CliError::failed(format!("begin_transaction: {e}")))?;
            self.open_since = Some(Instant::now());
            self.records_in_open = 0;
        }
        Ok(())
    }

    async fn after_send(&mut self, producer: &Producer) -> Result<(), CliError> {
        let (Some(limits), Some(since)) = (self.limits, self.open_since) else {
            return Ok(());
        };
        self.records_in_open += 1;
        let aged = limits.duration.is_some_and(|d| since.elapsed() >= d);
        let full = limits.records.is_some_and(|n| self.records_in_open >= n);
        if aged || full {
            self.commit(producer).await?;
        }
        Ok(())
    }

    async fn finish(&mut self, producer: &Producer) -> Result<(), CliError> {
        if self.open_since.is_some() {
            self.commit(producer).await?;
        }
        Ok(())
    }

    async fn commit(&mut self, producer: &Producer) -> Result<(), CliError> {
        self.open_since = None;
        producer
            .commit_transaction()
            .await
            .map_err(|e| CliError::failed(format!("commit_transaction: {e}")))?;
        self.committed += 1;
        Ok(())
    }
}

/// Errors after which no later record can succeed either.
fn is_fatal(error: &Error) -> bool {
    matches!(
        error,
        Error::Closed | Error::RecordTooLarge { .. } | Error::InvalidTopic(_)
    )
}

/// Runs `kiel perf`.
pub(crate) async fn run(args: PerfArgs, interrupt: Interrupt) -> Result<(), CliError> {
    // Check the settings before starting anything.
    let placeholder = "127.0.0.1:9092";
    let properties = args.producer_properties();
    producer_config(
        args.brokers.as_deref().unwrap_or(placeholder),
        PERF_CLIENT_ID,
        &properties,
    )?;
    match &args.brokers {
        Some(brokers) => {
            if args.partitions.is_some() {
                eprintln!("kiel perf: --partitions applies to the local Kafka only; ignored with --brokers");
            }
            let config = producer_config(brokers, PERF_CLIENT_ID, &properties)?;
            measure(config, &args, &interrupt).await
        }
        None => {
            let partitions = args.partitions.unwrap_or(DEFAULT_PARTITIONS);
            let local = LocalKafka::start(&args.topic, partitions, &interrupt).await?;
            let result = match producer_config(&local.bootstrap(), PERF_CLIENT_ID, &properties) {
                Ok(config) => measure(config, &args, &interrupt).await,
                Err(e) => Err(e),
            };
            local.stop();
            result
        }
    }
}

async fn measure(
    config: ProducerConfig,
    args: &PerfArgs,
    interrupt: &Interrupt,
) -> Result<(), CliError> {
    let brokers = config.bootstrap_servers().join(",");
    let producer = tokio::select! {
        built = Producer::from_config(config) => built.map_err(|e| {
            CliError::failed(format!("cannot start the producer for {brokers}: {e}"))
        })?,
        () = interrupt.wait() => return Err(CliError::interrupted("interrupted before connecting")),
    };
    if args.warm_metadata {
        tokio::select! {
            count = producer.partition_count(&args.topic) => {
                count.map_err(|e| CliError::failed(format!("metadata of {}: {e}", args.topic)))?;
            }
            () = interrupt.wait() => return Err(CliError::interrupted("interrupted before the first record")),
        }
    }
    let transaction_limits = args.transaction_limits();
    if transaction_limits.is_some() {
        tokio::select! {
            initialized = producer.init_transactions() => initialized.map_err(|e| {
                CliError::failed(format!("init_transactions for {brokers}: {e}"))
            })?,
            () = interrupt.wait() => return Err(CliError::interrupted("interrupted before the first transaction")),
        }
    }
    let mut transactions = Transactions::new(transaction_limits);
    let progress = Progress::new(
        !args.no_progress,
        Some(args.num_records),
        "{bar:30} {pos}/{len} acknowledged {msg} [{elapsed_precise}, eta {eta}]",
    );
    let start = Instant::now();
    let shared = Arc::new(Shared {
        stats: Mutex::new(PerfStats::new(args.num_records, start, REPORTING_INTERVAL)),
        acknowledged: AtomicU64::new(0),
        failed: AtomicU64::new(0),
        failures: Mutex::new(Vec::new()),
        progress: progress.clone(),
    });
    let ticker = {
        let shared = Arc::clone(&shared);
        spawn_ticker(progress.clone(), move || {
            let failed = shared.failed.load(Ordering::Relaxed);
            let message = if failed > 0 {
                format!("({failed} failed)")
            } else {
                String::new()
            };
            (shared.acknowledged.load(Ordering::Relaxed), message)
        })
    };

    let bytes = u64::from(args.record_size);
    let mut payloads = PayloadGenerator::new(args.record_size as usize);
    let mut keys = args.keys.map(ZipfKeys::new);
    let mut throttler = Throttler::new(args.throughput, start);
    let mut stopped: Option<CliError> = None;
    // Tasks awaiting records that had to wait for buffer room; finished ones are reaped as
    // the loop goes, the rest awaited after close (their outcomes are known by then, but
    // the tasks may not have run yet).
    let mut waiting = JoinSet::new();
    let mut attempted = 0u64;
    // ProducerPerformance's first send() blocks until the topic's metadata is known; so does
    // this loop before its first record. The wait counts in the run's time and in the first
    // record's latency, as there. (Errors surface as the records' own outcomes.)
    let first_sent_at = Instant::now();
    tokio::select! {
        _ = producer.partition_count(&args.topic) => {}
        () = interrupt.wait() => {}
    }
    for i in 0..args.num_records {
        while waiting.try_join_next().is_some() {}
        if interrupt.is_set() {
            progress.eprintln(Interrupt::NOTICE);
            stopped = Some(CliError::interrupted(format!(
                "interrupted after sending {i} of {} records",
                args.num_records
            )));
            break;
        }
        if let Err(e) = transactions.before_send(&producer) {
            stopped = Some(e);
            break;
        }
        let mut record = Record::value(payloads.next_value());
        if let Some(keys) = &mut keys {
            record.key = Some(keys.next_key());
        }
        let sent_at = if i == 0 {
            first_sent_at
        } else {
            Instant::now()
        };
        attempted += 1;
        let callback = {
            let shared = Arc::clone(&shared);
            move |outcome| shared.complete(sent_at, bytes, outcome)
        };
        let refused = match producer.produce_with_callback(&args.topic, record.clone(), callback) {
            Ok(()) => None,
            // The buffer is full: wait for room like Java's send() does, then let a task
            // await this one record.
            Err(Error::QueueFull { .. } | Error::MetadataWaitFull { .. }) => {
                match producer.enqueue(&args.topic, record).await {
                    Ok(future) => {
                        let shared = Arc::clone(&shared);
                        waiting.spawn(async move { shared.complete(sent_at, bytes, future.await) });
                        None
                    }
                    Err(e) => Some(e),
                }
            }
            Err(e) => Some(e),
        };
        if let Some(e) = refused {
            shared.fail(&e);
            if is_fatal(&e) {
                stopped = Some(CliError::failed(format!("record {i} was refused: {e}")));
                break;
            }
        }
        if let Err(e) = transactions.after_send(&producer).await {
            stopped = Some(e);
            break;
        }
        if let Some(pause) = throttler.after_send(i, sent_at) {
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = interrupt.wait() => {}
            }
        }
    }
    if stopped.is_none() {
        if let Err(e) = transactions.finish(&producer).await {
            stopped = Some(e);
        }
    }
    producer.close().await;
    while waiting.join_next().await.is_some() {}
    let end = Instant::now();
    if let Some(t) = ticker {
        t.abort();
    }
    progress.finish();
    let total = shared
        .stats
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .total_line(end);
    progress.println(&total);
    if transaction_limits.is_some() {
        eprintln!(
            "kiel perf: {} transactions committed",
            transactions.committed
        );
    }
    for line in crate::metrics_summary::summary("kiel perf: ", &producer.metrics()) {
        eprintln!("{line}");
    }

    let failed = shared.failed.load(Ordering::Relaxed);
    if failed > 0 {
        let listed = shared
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for reason in &listed {
            eprintln!("kiel perf: record failed: {reason}");
        }
        if failed > listed.len() as u64 {
            eprintln!("kiel perf: ... and {} more", failed - listed.len() as u64);
        }
    }
    // Every record handed to the producer must have had its outcome counted.
    let outcomes = shared.acknowledged.load(Ordering::Relaxed) + failed;
    if outcomes != attempted {
        return Err(CliError::failed(format!(
            "{attempted} records were sent but {outcomes} outcomes were counted (a bug: please report it)"
        )));
    }
    if let Some(e) = stopped {
        return Err(e);
    }
    if failed > 0 {
        return Err(CliError::failed(format!(
            "{failed} of {} records failed",
            args.num_records
        )));
    }
    Ok(())
}
