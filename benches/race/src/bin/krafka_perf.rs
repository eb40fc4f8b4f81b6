//! `krafka-perf`: ProducerPerformance's workload and summary line with krafka 0.28 (a pure-Rust
//! async Kafka client), as a peer in the race.
//!
//! Each record's value is `--record-size` fresh random uppercase letters (`Payloads`); the key
//! is null, or with `--keys N` the ASCII decimal of a Zipf-distributed `k` in `0..N`
//! (`kiel_race::keys`). Records go to `--topic` at `--throughput` records/s (-1: as fast as
//! possible), and at the end one line is printed, as ProducerPerformance prints it.
//!
//! # The fast path
//!
//! krafka documents `Producer::enqueue` as its pipelined send: it returns once the record is
//! queued (waiting while `buffer_memory` is full, up to `max_block`) with a `DeliveryHandle`
//! that resolves to the broker's answer, and its docs collect the handles in a
//! `FuturesUnordered`. This program does that in a collector task: the send loop enqueues and
//! passes each handle with its send time over a channel; the collector awaits the handles in a
//! `FuturesUnordered` and notes each latency, from just before `enqueue` to the handle's
//! resolution, as it resolves. A multi-thread tokio runtime with 2 worker threads.
//!
//! # Warm-up
//!
//! Before the clock starts, `Producer::partitions_for(topic)` fetches the topic's metadata
//! into krafka's cache (Java's `partitionsFor`).
//!
//! # Settings (`-X`, Java names, mapped to krafka's builders)
//!
//! | Java property | krafka |
//! | --- | --- |
//! | `acks` (`all`/`-1`, `1`, `0`) | `ProducerBuilder::acks(Acks::All / Leader / None)` |
//! | `enable.idempotence` | `ProducerBuilder::idempotent` |
//! | `linger.ms` | `ProducerBuilder::linger` |
//! | `batch.size` | `ProducerBuilder::batch_size` |
//! | `buffer.memory` | `ProducerBuilder::buffer_memory` |
//! | `compression.type` (none, gzip, snappy, lz4, zstd) | `ProducerBuilder::compression` (zstd encoding through the crate's `zstd` feature) |
//! | `max.in.flight.requests.per.connection` | `KafkaBuilder::max_in_flight_requests` (krafka's per-connection request cap) |
//!
//! Anything not given is krafka's default. What krafka cannot do: it keeps at most 5 Produce
//! requests in flight per broker and one batch per partition, whatever the connection cap, so
//! `max.in.flight.requests.per.connection` above 5 exits with code 3. Plaintext only:
//! `security.protocol=PLAINTEXT` is accepted, any other security setting or other key exits
//! with code 2, as does a value that does not parse.
//!
//! Failed records are not counted as sent; the first few are printed on stderr and the exit
//! code is 1.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java`
//! - krafka 0.28.1 `src/producer/mod.rs` (`enqueue`, `partitions_for`),
//!   `site/content/docs/{producer,configuration,migrating-from-rdkafka}.md`

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::stream::{FuturesUnordered, StreamExt};
use kiel_race::keys::{ZipfKeys, MAX_KEYS};
use kiel_race::payload::Payloads;
use kiel_race::tally::{Outcome, Tally};
use kiel_race::throttle::Throttle;
use krafka::producer::{Acks, DeliveryHandle, RecordMetadata};
use krafka::{Compression, Kafka, Record};
use tokio::sync::mpsc;

/// The program's name, for messages.
const NAME: &str = "krafka-perf";

/// Produce requests krafka keeps in flight per broker at most (fixed).
const KRAFKA_MAX_PRODUCE_IN_FLIGHT: usize = 5;

/// ProducerPerformance's workload with krafka.
#[derive(Debug, Parser)]
#[command(name = "krafka-perf", version)]
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

/// The `-X` properties in krafka's terms; `None` keeps krafka's default.
#[derive(Debug, Default)]
struct Settings {
    acks: Option<Acks>,
    idempotent: Option<bool>,
    linger: Option<Duration>,
    batch_size: Option<usize>,
    buffer_memory: Option<usize>,
    compression: Option<Compression>,
    max_in_flight: Option<usize>,
}

/// Why the properties are refused: exit code and message.
struct Refused(u8, String);

fn number<T: std::str::FromStr>(key: &str, value: &str) -> Result<T, Refused> {
    value
        .parse()
        .map_err(|_| Refused(2, format!("`{key}={value}`: not a number")))
}

fn settings(properties: &[(String, String)]) -> Result<Settings, Refused> {
    let mut s = Settings::default();
    for (key, value) in properties {
        let unknown_value = || Refused(2, format!("`{key}={value}`: unknown value"));
        match key.as_str() {
            "acks" => {
                s.acks = Some(match value.to_ascii_lowercase().as_str() {
                    "all" | "-1" => Acks::All,
                    "1" => Acks::Leader,
                    "0" => Acks::None,
                    _ => return Err(unknown_value()),
                });
            }
            "enable.idempotence" => {
                s.idempotent = Some(match value.to_ascii_lowercase().as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(unknown_value()),
                });
            }
            "linger.ms" => s.linger = Some(Duration::from_millis(number(key, value)?)),
            "batch.size" => s.batch_size = Some(number(key, value)?),
            "buffer.memory" => s.buffer_memory = Some(number(key, value)?),
            "compression.type" => {
                s.compression = Some(match value.as_str() {
                    "none" => Compression::None,
                    "gzip" => Compression::Gzip,
                    "snappy" => Compression::Snappy,
                    "lz4" => Compression::Lz4,
                    "zstd" => Compression::Zstd,
                    _ => return Err(unknown_value()),
                });
            }
            "max.in.flight.requests.per.connection" => {
                let n: usize = number(key, value)?;
                if n > KRAFKA_MAX_PRODUCE_IN_FLIGHT {
                    return Err(Refused(
                        3,
                        format!(
                            "krafka: no setting for max.in.flight.requests.per.connection={n}: \
                             krafka keeps at most {KRAFKA_MAX_PRODUCE_IN_FLIGHT} Produce \
                             requests in flight per broker"
                        ),
                    ));
                }
                s.max_in_flight = Some(n);
            }
            "security.protocol" if value.eq_ignore_ascii_case("PLAINTEXT") => {}
            k if k.starts_with("security.") || k.starts_with("ssl.") || k.starts_with("sasl.") => {
                return Err(Refused(
                    2,
                    format!("`{key}={value}`: this program connects over PLAINTEXT only"),
                ));
            }
            _ => return Err(Refused(2, format!("unsupported property `{key}`"))),
        }
    }
    Ok(s)
}

/// What the delivery handles add up to.
/// Notes one record's outcome.
fn settled(tally: &Tally, result: krafka::Result<RecordMetadata>, sent_at: Instant) {
    match result {
        Ok(_) => tally.acknowledged(sent_at.elapsed()),
        Err(e) => tally.fail(e.to_string()),
    }
}

/// Awaits every handle the send loop passes on, noting each outcome as it resolves; returns
/// once the send loop has closed the channel and every handle has resolved.
async fn collect(mut handles: mpsc::UnboundedReceiver<(DeliveryHandle, Instant)>, tally: &Tally) {
    let mut acks = FuturesUnordered::new();
    let mut open = true;
    loop {
        tokio::select! {
            biased;
            Some((result, sent_at)) = acks.next(), if !acks.is_empty() => {
                settled(tally, result, sent_at);
            }
            received = handles.recv(), if open => match received {
                Some((handle, sent_at)) => acks.push(async move { (handle.await, sent_at) }),
                None => open = false,
            },
            else => break,
        }
    }
}

async fn run(args: &Args, settings: Settings) -> Result<Outcome, String> {
    let mut kafka = Kafka::builder(args.brokers.as_str()).client_id(NAME);
    if let Some(n) = settings.max_in_flight {
        kafka = kafka.max_in_flight_requests(n);
    }
    let kafka = kafka
        .connect()
        .await
        .map_err(|e| format!("cannot connect: {e}"))?;
    let mut builder = kafka.producer();
    if let Some(acks) = settings.acks {
        builder = builder.acks(acks);
    }
    if let Some(idempotent) = settings.idempotent {
        builder = builder.idempotent(idempotent);
    }
    if let Some(linger) = settings.linger {
        builder = builder.linger(linger);
    }
    if let Some(bytes) = settings.batch_size {
        builder = builder.batch_size(bytes);
    }
    if let Some(bytes) = settings.buffer_memory {
        builder = builder.buffer_memory(bytes);
    }
    if let Some(compression) = settings.compression {
        builder = builder.compression(compression);
    }
    let producer = builder
        .build()
        .await
        .map_err(|e| format!("cannot create the producer: {e}"))?;
    // The warm-up: the topic's metadata in krafka's cache before the clock starts.
    let partitions = producer
        .partitions_for(&args.topic)
        .await
        .map_err(|e| format!("cannot fetch the metadata of `{}`: {e}", args.topic))?;
    if partitions.is_empty() {
        return Err(format!("topic `{}` has no partitions", args.topic));
    }

    let tally = Arc::new(Tally::new(args.num_records, args.record_size));
    let (handles, received) = mpsc::unbounded_channel();
    let collector = {
        let tally = Arc::clone(&tally);
        tokio::spawn(async move { collect(received, &tally).await })
    };
    let mut payloads = Payloads::new(args.record_size as usize);
    let mut keys = args.keys.and_then(ZipfKeys::new);
    let start = Instant::now();
    let throttle = Throttle::new(args.throughput, start);
    for i in 0..args.num_records {
        let sent_at = Instant::now();
        let mut record = Record::new(args.topic.as_str(), payloads.next_value().to_vec());
        if let Some(keys) = keys.as_mut() {
            record = record.key(keys.next_key().to_vec());
        }
        match producer.enqueue(record).await {
            Ok(handle) => {
                if handles.send((handle, sent_at)).is_err() {
                    return Err("the collector task stopped".to_owned());
                }
            }
            Err(e) => tally.fail(format!("enqueue: {e}")),
        }
        if let Some(pause) = throttle.pause(i + 1, Instant::now()) {
            tokio::time::sleep(pause).await;
        }
    }
    drop(handles);
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
    let settings = match settings(&args.properties) {
        Ok(settings) => settings,
        Err(Refused(code, e)) => {
            eprintln!("{NAME}: {e}");
            return ExitCode::from(code);
        }
    };
    let outcome = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(run(&args, settings)),
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
