//! `kacrab-perf`: ProducerPerformance's workload and summary line with kacrab 0.4 (a pure-Rust
//! Kafka client), as a peer in the race.
//!
//! Each record's value is `--record-size` fresh random uppercase letters (`Payloads`); the key
//! is null, or with `--keys N` the ASCII decimal of a Zipf-distributed `k` in `0..N`
//! (`kiel_race::keys`). Records go to `--topic` at `--throughput` records/s (-1: as fast as
//! possible), and at the end one line is printed, as ProducerPerformance prints it.
//!
//! # The fast path
//!
//! `Producer::send`, as kacrab's README shows it: synchronous like Java's `send`, it appends
//! the record inline when its partition resolves from cached metadata (no per-record
//! `.await`), blocking (spinning) while `buffer.memory` is full, up to `max.block.ms`, and
//! returns a `SendFuture` that resolves to the broker's answer. The send loop passes each
//! future with its send time over a channel to a collector task, which awaits them in a
//! `FuturesUnordered` and notes each latency, from just before `send` to the future's
//! resolution, as it resolves. A multi-thread tokio runtime with 2 worker threads (kacrab's
//! own benchmark, `benches/src/bin/producer_kafka_bench.rs` in its repository, also runs on a
//! multi-thread runtime).
//!
//! Not `send_with_callback`, which kacrab's benchmark uses: in kacrab 0.4.0 it appends the
//! record to the accumulator first and registers the callback on the record's delivery
//! afterwards (`ProducerSender::try_bypass_append_callback`: `before_dispatch` runs after
//! `append_for_delivery_with_status_at_compression_ratio`), so when the sender completes the
//! batch in between, the callback is stored on a finished delivery and never runs. This
//! program, built on callbacks first, saw it happen to 2 of 2,000,000 records (all 2,000,000
//! were in the topic). The `SendFuture` checks the delivery's state under its lock and has no
//! such gap.
//!
//! # Warm-up
//!
//! Before the clock starts, `Producer::partitions_for(topic)` fetches the topic's metadata
//! into kacrab's cache. Without it the first records find no cached metadata, take kacrab's
//! slow path (a queue drained by a task) and every record behind them queues too.
//!
//! # Settings (`-X`, Java names)
//!
//! kacrab takes Java's property names itself, so `acks`, `enable.idempotence`, `linger.ms`,
//! `batch.size`, `buffer.memory`, `compression.type` (none, gzip, snappy, lz4, zstd: the
//! crate's `compression` feature) and `max.in.flight.requests.per.connection` are handed to
//! `ProducerBuilder::set` unchanged; anything not given is kacrab's default. Plaintext only:
//! `security.protocol=PLAINTEXT` is accepted, any other security setting or other key exits
//! with code 2.
//!
//! Failed records are not counted as sent; the first few are printed on stderr and the exit
//! code is 1.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java`
//! - kacrab 0.4.0 `README.md`, `src/producer/client.rs` (`send`, `partitions_for`),
//!   `src/producer/record.rs` (`SendFuture`), `src/producer/sender.rs`

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::Parser;
use futures_util::stream::{FuturesUnordered, StreamExt};
use kacrab::producer::{Producer, ProducerRecord, RecordMetadata, SendFuture};
use kiel_race::keys::{ZipfKeys, MAX_KEYS};
use kiel_race::payload::Payloads;
use kiel_race::tally::{Outcome, Tally};
use kiel_race::throttle::Throttle;
use tokio::sync::mpsc;

/// The program's name, for messages.
const NAME: &str = "kacrab-perf";

/// The Java producer properties `-X` takes: kacrab reads every one under its Java name.
const PROPERTIES: [&str; 7] = [
    "acks",
    "enable.idempotence",
    "linger.ms",
    "batch.size",
    "buffer.memory",
    "compression.type",
    "max.in.flight.requests.per.connection",
];

/// ProducerPerformance's workload with kacrab.
#[derive(Debug, Parser)]
#[command(name = "kacrab-perf", version)]
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

/// The `-X` properties to hand to kacrab, or why they are refused.
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

/// Notes one record's outcome.
fn settled(tally: &Tally, result: kacrab::producer::Result<RecordMetadata>, sent_at: Instant) {
    match result {
        Ok(_) => tally.acknowledged(sent_at.elapsed()),
        Err(e) => tally.fail(e.to_string()),
    }
}

/// Awaits every delivery future the send loop passes on, noting each outcome as it
/// resolves; returns once the send loop has closed the channel and every future has
/// resolved.
async fn collect(mut deliveries: mpsc::UnboundedReceiver<(SendFuture, Instant)>, tally: &Tally) {
    let mut acks = FuturesUnordered::new();
    let mut open = true;
    loop {
        tokio::select! {
            biased;
            Some((result, sent_at)) = acks.next(), if !acks.is_empty() => {
                settled(tally, result, sent_at);
            }
            received = deliveries.recv(), if open => match received {
                Some((delivery, sent_at)) => acks.push(async move { (delivery.await, sent_at) }),
                None => open = false,
            },
            else => break,
        }
    }
}

async fn run(args: &Args, properties: Vec<(String, String)>) -> Result<Outcome, String> {
    let mut builder = Producer::builder()
        .set("bootstrap.servers", args.brokers.as_str())
        .set("client.id", NAME);
    for (key, value) in properties {
        builder = builder.set(key, value);
    }
    let producer = builder
        .build()
        .await
        .map_err(|e| format!("cannot create the producer: {e}"))?;
    // The warm-up: the topic's metadata in kacrab's cache before the clock starts.
    let partitions = producer
        .partitions_for(&args.topic)
        .await
        .map_err(|e| format!("cannot fetch the metadata of `{}`: {e}", args.topic))?;
    if partitions.is_empty() {
        return Err(format!("topic `{}` has no partitions", args.topic));
    }

    let tally = Arc::new(Tally::new(args.num_records, args.record_size));
    let (deliveries, received) = mpsc::unbounded_channel();
    let collector = {
        let tally = Arc::clone(&tally);
        tokio::spawn(async move { collect(received, &tally).await })
    };
    let topic: Arc<str> = Arc::from(args.topic.as_str());
    let mut payloads = Payloads::new(args.record_size as usize);
    let mut keys = args.keys.and_then(ZipfKeys::new);
    let start = Instant::now();
    let throttle = Throttle::new(args.throughput, start);
    for i in 0..args.num_records {
        let sent_at = Instant::now();
        let mut record =
            ProducerRecord::unassigned(Arc::clone(&topic)).value(payloads.next_value().to_vec());
        if let Some(keys) = keys.as_mut() {
            record = record.key(keys.next_key().to_vec());
        }
        match producer.send(record) {
            Ok(delivery) => {
                if deliveries.send((delivery, sent_at)).is_err() {
                    return Err("the collector task stopped".to_owned());
                }
            }
            Err(e) => tally.fail(format!("send: {e}")),
        }
        if let Some(pause) = throttle.pause(i + 1, Instant::now()) {
            tokio::time::sleep(pause).await;
        }
    }
    drop(deliveries);
    if let Err(e) = producer.flush().await {
        eprintln!("{NAME}: flush: {e}");
    }
    collector
        .await
        .map_err(|e| format!("the collector task failed: {e}"))?;
    let outcome = tally.outcome(start.elapsed());
    if let Err(e) = producer.close().await {
        eprintln!("{NAME}: close: {e}");
    }
    Ok(outcome)
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
