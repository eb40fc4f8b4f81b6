//! `rdkafka-perf`: ProducerPerformance's workload and summary line with rust-rdkafka
//! (librdkafka), as the race's rdkafka client.
//!
//! Each record's value is `--record-size` fresh random uppercase letters, no key (with
//! `--keys N`: the ASCII decimal of a Zipf-distributed `k` in `0..N`, from
//! `kiel_race::keys`), sent to `--topic` at `--throughput` records/s (-1: as fast as possible). Latency runs from the
//! moment a record is handed to the producer (when librdkafka's queue is full, from its first
//! attempt) to its delivery report. At the end every record has its report and one line is
//! printed, as ProducerPerformance prints it:
//!
//! ```text
//! 1000000 records sent, 250000.000000 records/sec (23.84 MB/sec), 100.00 ms avg latency, 300.00 ms max latency, 90 ms 50th, 200 ms 95th, 250 ms 99th, 290 ms 99.9th.
//! ```
//!
//! The topic's metadata is fetched before the clock starts (`fetch_metadata`), as the race
//! gives every client.
//!
//! Two modes, the two ways rust-rdkafka offers to produce:
//! - `--mode future`: `FutureProducer` on a tokio runtime. `send_result` queues the record;
//!   a task per record awaits its `DeliveryFuture` and notes the latency. A full queue is
//!   waited out in 1 ms sleeps (rust-rdkafka's own `send` sleeps 100 ms).
//! - `--mode base`: `BaseProducer`, with the send time as the delivery opaque and the
//!   latency noted in the `ProducerContext::delivery` callback; `poll(0)` after every send,
//!   and on a full queue `poll(1 ms)` until there is room.
//!
//! With `--transactional-id` / `--transaction-duration-ms` the records go in transactions,
//! each committed once it has been open that long (librdkafka's `commit_transaction`, which
//! flushes first), as ProducerPerformance's do.
//!
//! Failed records are not counted as sent (as in ProducerPerformance); the first few are
//! printed on stderr and the exit code is 1.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java`
//! - rust-rdkafka `src/producer/{base_producer,future_producer}.rs`
//! - librdkafka `CONFIGURATION.md` (property names)

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use kiel_race::keys::{ZipfKeys, MAX_KEYS};
use kiel_race::payload::Payloads;
use kiel_race::tally::{Outcome, Tally};
use kiel_race::throttle::Throttle;
use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{
    BaseProducer, BaseRecord, DeliveryResult, FutureProducer, FutureRecord, Producer,
    ProducerContext,
};
use rdkafka::util::Timeout;
use rdkafka::ClientContext;

/// How long the future mode waits before retrying a record refused by a full queue.
const QUEUE_FULL_WAIT: Duration = Duration::from_millis(1);

/// Which rust-rdkafka producer to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// `FutureProducer`: a `DeliveryFuture` per record, awaited by a tokio task.
    Future,
    /// `BaseProducer`: a delivery callback, polled by the sending thread.
    Base,
}

/// ProducerPerformance's workload with rust-rdkafka.
#[derive(Debug, Parser)]
#[command(name = "rdkafka-perf", version)]
struct Args {
    /// Which producer: future (FutureProducer) or base (BaseProducer).
    #[arg(long, value_enum)]
    mode: Mode,

    /// Bootstrap brokers.
    #[arg(short, long, value_name = "HOST:PORT[,...]")]
    brokers: String,

    /// Topic to produce to.
    #[arg(short, long)]
    topic: String,

    /// Records to send.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    num_records: u64,

    /// Bytes of each record's value.
    #[arg(long, value_name = "BYTES", value_parser = clap::value_parser!(u32).range(1..=100_000_000))]
    record_size: u32,

    /// Records/s to aim for; -1 for as fast as possible.
    #[arg(long, value_name = "RATE", allow_negative_numbers = true)]
    throughput: f64,

    /// A librdkafka property (repeatable), e.g. -X linger.ms=5.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    properties: Vec<(String, String)>,

    /// Send in transactions under this transactional.id (ProducerPerformance's option).
    #[arg(long, value_name = "ID")]
    transactional_id: Option<String>,

    /// Commit each transaction once it has been open this long (default 3000 with a
    /// transactional id; alone it uses ProducerPerformance's default id).
    #[arg(long, value_name = "MS")]
    transaction_duration_ms: Option<u64>,

    /// Commit each transaction once it holds this many records (kiel perf's option; with
    /// a duration too, whichever comes first).
    #[arg(long, value_name = "N")]
    transaction_records: Option<u64>,

    /// Keyed records: keys are the decimals of a Zipf-distributed k in 0..N (s = 1.1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_KEYS))]
    keys: Option<u64>,
}

impl Args {
    /// The transactional id, how long each transaction stays open and how many records it
    /// holds at most, if transactional.
    fn transactions(&self) -> Option<(String, Option<Duration>, Option<u64>)> {
        if self.transactional_id.is_none()
            && self.transaction_duration_ms.is_none()
            && self.transaction_records.is_none()
        {
            return None;
        }
        let id = self
            .transactional_id
            .clone()
            .unwrap_or_else(|| "performance-producer-default-transactional-id".to_owned());
        let duration = match (self.transaction_duration_ms, self.transaction_records) {
            (Some(ms), _) => Some(ms),
            (None, Some(_)) => None,
            (None, None) => Some(3000),
        };
        Some((
            id,
            duration.map(Duration::from_millis),
            self.transaction_records,
        ))
    }
}

/// ProducerPerformance's transactions: one begins before the first record after a commit
/// and commits once it has been open for the duration or holds the records asked for (and
/// at the end).
struct Transactions {
    enabled: bool,
    duration: Option<Duration>,
    records: Option<u64>,
    open_since: Option<Instant>,
    records_in_open: u64,
}

impl Transactions {
    fn start<P: Producer<C>, C: ProducerContext>(
        args: &Args,
        producer: &P,
    ) -> Result<Self, String> {
        let limits = args.transactions();
        if limits.is_some() {
            producer
                .init_transactions(Timeout::Never)
                .map_err(|e| format!("init_transactions: {e}"))?;
        }
        Ok(Self {
            enabled: limits.is_some(),
            duration: limits.as_ref().and_then(|(_, d, _)| *d),
            records: limits.and_then(|(_, _, n)| n),
            open_since: None,
            records_in_open: 0,
        })
    }

    fn before_send<P: Producer<C>, C: ProducerContext>(
        &mut self,
        producer: &P,
    ) -> Result<(), String> {
        if self.enabled && self.open_since.is_none() {
            producer
                .begin_transaction()
                .map_err(|e| format!("begin_transaction: {e}"))?;
            self.open_since = Some(Instant::now());
            self.records_in_open = 0;
        }
        Ok(())
    }

    /// A record was sent: whether the open transaction is due to commit now.
    fn sent_and_due(&mut self) -> bool {
        let Some(since) = self.open_since else {
            return false;
        };
        self.records_in_open += 1;
        self.duration.is_some_and(|d| since.elapsed() >= d)
            || self.records.is_some_and(|n| self.records_in_open >= n)
    }

    /// Whether a transaction is open (to commit at the end).
    fn open(&self) -> bool {
        self.open_since.is_some()
    }

    fn commit<P: Producer<C>, C: ProducerContext>(&mut self, producer: &P) -> Result<(), String> {
        self.open_since = None;
        producer
            .commit_transaction(Timeout::Never)
            .map_err(|e| format!("commit_transaction: {e}"))
    }
}

fn parse_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

fn is_queue_full(error: &KafkaError) -> bool {
    *error == KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)
}

fn client_config(args: &Args) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &args.brokers)
        .set("client.id", "rdkafka-perf");
    for (key, value) in &args.properties {
        config.set(key, value);
    }
    if let Some((id, _, _)) = args.transactions() {
        config.set("transactional.id", id);
    }
    config
}

/// librdkafka's log lines and errors on stderr, stamped with the seconds since `epoch` (with
/// `-X debug=...` this shows what librdkafka does when).
fn log_line(epoch: Instant, level: RDKafkaLogLevel, facility: &str, message: &str) {
    eprintln!(
        "rdkafka-perf: {:9.3} s {level:?} {facility}: {message}",
        epoch.elapsed().as_secs_f64()
    );
}

/// A client-level error from librdkafka, as a log line on stderr.
fn log_error(epoch: Instant, error: &KafkaError, reason: &str) {
    log_line(
        epoch,
        RDKafkaLogLevel::Error,
        "error",
        &format!("{error}: {reason}"),
    );
}

/// The future mode's context: librdkafka's logs on stderr.
struct StderrLog {
    epoch: Instant,
}

impl ClientContext for StderrLog {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        log_line(self.epoch, level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        log_error(self.epoch, &error, reason);
    }
}

/// The base mode's context: the delivery callback notes each record's latency. The
/// delivery opaque is the send time in nanoseconds after `epoch`. librdkafka's logs go to
/// stderr.
struct BaseContext {
    epoch: Instant,
    tally: Tally,
}

impl ClientContext for BaseContext {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        log_line(self.epoch, level, facility, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        log_error(self.epoch, &error, reason);
    }
}

impl ProducerContext for BaseContext {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, sent_nanos: Self::DeliveryOpaque) {
        match result {
            Ok(_) => {
                let sent_at = self.epoch + Duration::from_nanos(sent_nanos as u64);
                self.tally
                    .acknowledged(Instant::now().saturating_duration_since(sent_at));
            }
            Err((error, _)) => self.tally.fail(error.to_string()),
        }
    }
}

/// Fetches the topic's metadata before the clock starts, as the race gives every client
/// (librdkafka caches it for the producer).
fn warm_metadata<C: ClientContext>(
    client: &rdkafka::client::Client<C>,
    topic: &str,
) -> Result<(), String> {
    client
        .fetch_metadata(Some(topic), Timeout::After(Duration::from_secs(30)))
        .map(|_| ())
        .map_err(|e| format!("metadata of {topic}: {e}"))
}

fn run_base(args: &Args) -> Result<Outcome, String> {
    let context = BaseContext {
        epoch: Instant::now(),
        tally: Tally::new(args.num_records, args.record_size),
    };
    let producer: BaseProducer<BaseContext> = client_config(args)
        .create_with_context(context)
        .map_err(|e| format!("cannot create the BaseProducer: {e}"))?;
    let epoch = producer.context().epoch;
    warm_metadata(producer.client(), &args.topic)?;
    let mut transactions = Transactions::start(args, &producer)?;
    let mut payloads = Payloads::new(args.record_size as usize);
    let mut keys = args.keys.and_then(ZipfKeys::new);
    let start = Instant::now();
    let throttle = Throttle::new(args.throughput, start);
    for i in 0..args.num_records {
        transactions.before_send(&producer)?;
        let sent_at = Instant::now();
        let opaque = usize::try_from(sent_at.duration_since(epoch).as_nanos()).unwrap_or(0);
        let mut record = BaseRecord::<[u8], [u8], usize>::with_opaque_to(&args.topic, opaque)
            .payload(payloads.next_value());
        if let Some(key) = keys.as_mut().map(ZipfKeys::next_key) {
            record = record.key(key);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((e, refused)) if is_queue_full(&e) => {
                    record = refused;
                    producer.poll(QUEUE_FULL_WAIT);
                }
                Err((e, _)) => {
                    producer.context().tally.fail(e.to_string());
                    break;
                }
            }
        }
        producer.poll(Duration::ZERO);
        if transactions.sent_and_due() {
            transactions.commit(&producer)?;
        }
        if let Some(pause) = throttle.pause(i + 1, Instant::now()) {
            // Polling for the pause delivers reports while it waits.
            producer.poll(pause);
        }
    }
    if transactions.open() {
        transactions.commit(&producer)?;
    }
    producer
        .flush(Timeout::Never)
        .map_err(|e| format!("flush failed: {e}"))?;
    Ok(producer.context().tally.outcome(start.elapsed()))
}

/// The future mode's shared state: the tally and a count of finished records.
struct FutureShared {
    tally: Tally,
    finished: AtomicU64,
    progress: tokio::sync::Notify,
}

async fn run_future(args: &Args) -> Result<Outcome, String> {
    let producer: FutureProducer<StderrLog> = client_config(args)
        .create_with_context(StderrLog {
            epoch: Instant::now(),
        })
        .map_err(|e| format!("cannot create the FutureProducer: {e}"))?;
    tokio::task::block_in_place(|| warm_metadata(producer.client(), &args.topic))?;
    let shared = Arc::new(FutureShared {
        tally: Tally::new(args.num_records, args.record_size),
        finished: AtomicU64::new(0),
        progress: tokio::sync::Notify::new(),
    });
    // The transactional calls block: they run on this worker while the others carry on.
    let mut transactions = tokio::task::block_in_place(|| Transactions::start(args, &producer))?;
    let mut payloads = Payloads::new(args.record_size as usize);
    let mut keys = args.keys.and_then(ZipfKeys::new);
    let start = Instant::now();
    let throttle = Throttle::new(args.throughput, start);
    let mut queued = 0u64;
    for i in 0..args.num_records {
        transactions.before_send(&producer)?;
        let sent_at = Instant::now();
        let mut record = FutureRecord::<[u8], [u8]>::to(&args.topic).payload(payloads.next_value());
        if let Some(key) = keys.as_mut().map(ZipfKeys::next_key) {
            record = record.key(key);
        }
        let delivery = loop {
            match producer.send_result(record) {
                Ok(delivery) => break Some(delivery),
                Err((e, refused)) if is_queue_full(&e) => {
                    record = refused;
                    tokio::time::sleep(QUEUE_FULL_WAIT).await;
                }
                Err((e, _)) => {
                    shared.tally.fail(e.to_string());
                    break None;
                }
            }
        };
        if let Some(delivery) = delivery {
            queued += 1;
            let shared = Arc::clone(&shared);
            tokio::spawn(async move {
                match delivery.await {
                    Ok(Ok(_)) => shared.tally.acknowledged(sent_at.elapsed()),
                    Ok(Err((e, _))) => shared.tally.fail(e.to_string()),
                    Err(_) => shared
                        .tally
                        .fail("the delivery report was dropped".to_owned()),
                }
                shared.finished.fetch_add(1, Ordering::AcqRel);
                shared.progress.notify_one();
            });
        }
        if transactions.sent_and_due() {
            tokio::task::block_in_place(|| transactions.commit(&producer))?;
        }
        if let Some(pause) = throttle.pause(i + 1, Instant::now()) {
            tokio::time::sleep(pause).await;
        }
    }
    if transactions.open() {
        tokio::task::block_in_place(|| transactions.commit(&producer))?;
    }
    producer
        .flush(Timeout::Never)
        .map_err(|e| format!("flush failed: {e}"))?;
    // Every report is in; wait until every task has noted its record.
    while shared.finished.load(Ordering::Acquire) < queued {
        shared.progress.notified().await;
    }
    Ok(shared.tally.outcome(start.elapsed()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = match args.mode {
        Mode::Base => run_base(&args),
        Mode::Future => match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(run_future(&args)),
            Err(e) => Err(format!("cannot start the tokio runtime: {e}")),
        },
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("rdkafka-perf: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", outcome.summary);
    let failed = outcome.failed;
    if failed == 0 {
        return ExitCode::SUCCESS;
    }
    for reason in &outcome.failures {
        eprintln!("rdkafka-perf: record failed: {reason}");
    }
    eprintln!(
        "rdkafka-perf: {failed} of {} records failed",
        args.num_records
    );
    ExitCode::FAILURE
}
