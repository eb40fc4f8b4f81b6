//! `confluent-perf`: ProducerPerformance's workload and summary line with confluent-kafka 1.0
//! (Confluent's Rust client, a translation of the Java client), as a peer in the race.
//!
//! Each record's value is `--record-size` fresh random uppercase letters (`Payloads`); the key
//! is null, or with `--keys N` the ASCII decimal of a Zipf-distributed `k` in `0..N`
//! (`kiel_race::keys`). Records go to `--topic` at `--throughput` records/s (-1: as fast as
//! possible), and at the end one line is printed, as ProducerPerformance prints it.
//!
//! # The fast path
//!
//! `KafkaProducer<Vec<u8>, Vec<u8>>::send(ProducerRecord<&[u8], &[u8]>, Option<Box<dyn
//! Callback>>)`: the crate's byte-slice send, which writes key and value straight into the
//! batch without serializers (the path its C binding uses, and its own producer performance
//! test). Like Java's `send` it returns once the record is appended, waiting while
//! `buffer.memory` is full (up to `max.block.ms`), and it calls the callback when the record
//! has its outcome, as ProducerPerformance's `send(record, callback)` does. The callback notes
//! the latency, from just before `send` to the callback. A multi-thread tokio runtime with 2
//! worker threads: the send loop on one, the producer's sender task on the other.
//!
//! # Warm-up
//!
//! Before the clock starts, `Producer::partitions_for(topic)` (Java's `partitionsFor`) waits
//! for the topic's metadata.
//!
//! # Settings (`-X`, Java names)
//!
//! confluent-kafka takes Java's property names itself, so `acks`, `enable.idempotence`,
//! `linger.ms`, `batch.size`, `buffer.memory`, `compression.type` (none, gzip, snappy, lz4,
//! zstd: the crate's codec features) and `max.in.flight.requests.per.connection` go into its
//! `ProducerConfig` unchanged; anything not given is the client's default (Java's). The crate
//! is built without its TLS features, so plaintext only: `security.protocol=PLAINTEXT` is
//! accepted, any other security setting or other key exits with code 2.
//!
//! Failed records are not counted as sent; the first few are printed on stderr and the exit
//! code is 1. Every record has exactly one outcome: its callback, or, should the producer drop
//! a callback without calling it (a send refused before the record reached a batch), a
//! failure noted when the callback is dropped.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java`
//! - confluent-kafka 1.0.0 `src/producer/{kafka_producer,callback,producer}.rs`

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use confluent_kafka::common::serialization::ByteArraySerializer;
use confluent_kafka::producer::{
    callback, Callback, KafkaProducer, Producer, ProducerConfig, ProducerRecord,
};
use kiel_race::keys::{ZipfKeys, MAX_KEYS};
use kiel_race::payload::Payloads;
use kiel_race::tally::Outcome;
use kiel_race::throttle::Throttle;

/// The program's name, for messages.
const NAME: &str = "confluent-perf";

/// The Java producer properties `-X` takes: the client reads every one under its Java name.
const PROPERTIES: [&str; 7] = [
    "acks",
    "enable.idempotence",
    "linger.ms",
    "batch.size",
    "buffer.memory",
    "compression.type",
    "max.in.flight.requests.per.connection",
];

/// ProducerPerformance's workload with confluent-kafka.
#[derive(Debug, Parser)]
#[command(name = "confluent-perf", version)]
struct Args {
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

    /// A producer property under its Java name (repeatable), e.g. -X linger.ms=5.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    properties: Vec<(String, String)>,

    /// Keyed records: keys are the decimals of a Zipf-distributed k in 0..N (s = 1.1).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=MAX_KEYS))]
    keys: Option<u64>,
}

fn parse_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// The `-X` properties to hand to the client, or why they are refused.
fn producer_properties(properties: &[(String, String)]) -> Result<Vec<(String, String)>, String> {
    let mut accepted = Vec::new();
    for (key, value) in properties {
        match key.as_str() {
            "security.protocol" if value.eq_ignore_ascii_case("PLAINTEXT") => {}
            "compression.type"
                if !["none", "gzip", "snappy", "lz4", "zstd"].contains(&value.as_str()) =>
            {
                return Err(format!("unknown compression.type `{value}`"));
            }
            k if PROPERTIES.contains(&k) => accepted.push((key.clone(), value.clone())),
            k if k.starts_with("security.") || k.starts_with("ssl.") || k.starts_with("sasl.") => {
                return Err(format!(
                    "`{key}={value}`: this program connects over PLAINTEXT only"
                ));
            }
            _ => return Err(format!("unsupported property `{key}`")),
        }
    }
    Ok(accepted)
}

/// What the callbacks add up to, and how many records have their outcome (the main loop
/// waits for all of them).
struct Tally {
    outcomes: kiel_race::tally::Tally,
    /// Records with an outcome.
    finished: AtomicU64,
    expected: u64,
    all_finished: tokio::sync::Notify,
}

impl Tally {
    fn new(args: &Args) -> Self {
        Self {
            outcomes: kiel_race::tally::Tally::new(args.num_records, args.record_size),
            finished: AtomicU64::new(0),
            expected: args.num_records,
            all_finished: tokio::sync::Notify::new(),
        }
    }

    fn acknowledged(&self, latency: Duration) {
        self.outcomes.acknowledged(latency);
        self.finish_one();
    }

    fn fail(&self, reason: String) {
        self.outcomes.fail(reason);
        self.finish_one();
    }

    /// A failure message to list (the record's outcome is counted elsewhere).
    fn note(&self, reason: String) {
        self.outcomes.note(reason);
    }

    fn finish_one(&self) {
        if self.finished.fetch_add(1, Ordering::AcqRel) + 1 == self.expected {
            self.all_finished.notify_one();
        }
    }

    /// Waits until every record has its outcome.
    async fn all_done(&self) {
        while self.finished.load(Ordering::Acquire) < self.expected {
            self.all_finished.notified().await;
        }
    }

    fn outcome(&self, elapsed: Duration) -> Outcome {
        self.outcomes.outcome(elapsed)
    }
}

/// One record handed to the producer and waiting for its callback. Dropped without an
/// outcome (a callback the producer discarded unrun) it counts the record as failed, so
/// every record is counted exactly once.
struct Pending {
    tally: Arc<Tally>,
    sent_at: Instant,
    open: bool,
}

impl Pending {
    fn new(tally: &Arc<Tally>, sent_at: Instant) -> Self {
        Self {
            tally: Arc::clone(tally),
            sent_at,
            open: true,
        }
    }

    fn finish(mut self, error: Option<String>) {
        self.open = false;
        match error {
            None => self.tally.acknowledged(self.sent_at.elapsed()),
            Some(reason) => self.tally.fail(reason),
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if self.open {
            self.tally
                .fail("the record's callback was dropped without an outcome".to_owned());
        }
    }
}

async fn run(args: &Args, properties: Vec<(String, String)>) -> Result<Outcome, String> {
    let mut props = HashMap::from([
        ("bootstrap.servers".to_owned(), args.brokers.clone()),
        ("client.id".to_owned(), NAME.to_owned()),
    ]);
    props.extend(properties);
    let config =
        ProducerConfig::new(&props).map_err(|e| format!("invalid producer config: {e}"))?;
    let producer = KafkaProducer::<Vec<u8>, Vec<u8>>::new(
        config,
        ByteArraySerializer::new(),
        ByteArraySerializer::new(),
    )
    .map_err(|e| format!("cannot create the producer: {e}"))?;
    let result = produce(args, &producer).await;
    if let Err(e) = producer.close().await {
        eprintln!("{NAME}: close: {e}");
    }
    result
}

async fn produce(
    args: &Args,
    producer: &KafkaProducer<Vec<u8>, Vec<u8>>,
) -> Result<Outcome, String> {
    // The warm-up: the topic's metadata in the producer before the clock starts.
    let partitions = producer
        .partitions_for(&args.topic)
        .await
        .map_err(|e| format!("cannot fetch the metadata of `{}`: {e}", args.topic))?;
    if partitions.is_empty() {
        return Err(format!("topic `{}` has no partitions", args.topic));
    }

    let tally = Arc::new(Tally::new(args));
    let mut payloads = Payloads::new(args.record_size as usize);
    let mut keys = args.keys.and_then(ZipfKeys::new);
    let start = Instant::now();
    let throttle = Throttle::new(args.throughput, start);
    for i in 0..args.num_records {
        let sent_at = Instant::now();
        let key = keys.as_mut().map(|keys| keys.next_key());
        let record = ProducerRecord::with_key(args.topic.clone(), key, Some(payloads.next_value()));
        let pending = Pending::new(&tally, sent_at);
        let on_completion: Box<dyn Callback> = Box::new(callback::new(move |_, error| {
            pending.finish(error.map(|e| e.to_string()));
        }));
        if let Err(e) = producer.send(record, Some(on_completion)).await {
            // The callback (or its drop) has counted the record; keep the reason.
            tally.note(format!("send refused: {e}"));
        }
        if let Some(pause) = throttle.pause(i + 1, Instant::now()) {
            tokio::time::sleep(pause).await;
        }
    }
    if let Err(e) = producer.flush().await {
        eprintln!("{NAME}: flush: {e}");
    }
    tally.all_done().await;
    Ok(tally.outcome(start.elapsed()))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let properties = match producer_properties(&args.properties) {
        Ok(properties) => properties,
        Err(e) => {
            eprintln!("{NAME}: {e}");
            return ExitCode::from(2);
        }
    };
    let outcome = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(&args, properties)),
        Err(e) => Err(format!("cannot start the tokio runtime: {e}")),
    };
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("{NAME}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", outcome.summary);
    let failed = outcome.failed;
    if failed == 0 {
        return ExitCode::SUCCESS;
    }
    for reason in &outcome.failures {
        eprintln!("{NAME}: record failed: {reason}");
    }
    eprintln!("{NAME}: {failed} of {} records failed", args.num_records);
    ExitCode::FAILURE
}
