//! `kiel produce`: one record per input line, with backpressure and bounded memory.
//!
//! The topic name is checked when the command line is parsed; with `--partition`, the
//! topic's partition count is asked for after connecting, before any input is read.
//! Records are queued with `Producer::enqueue`, which waits while the producer's buffer
//! (`buffer.memory`) is full. Every input line then waits in a FIFO of at most
//! `--max-outstanding` entries, with its delivery future or, for a line that did not parse
//! or a record the producer refused at once, its outcome; when the FIFO is full the oldest
//! is awaited first. Entries whose outcome is known are settled from the front after every
//! input batch, so failures, the progress bar and the delivery report stay current, and
//! the delivery report (`--delivery-report json`) comes out in input order. Every line
//! ends as acknowledged or failed (with its line number).
//!
//! # References
//! - kiel `Producer::enqueue` / `DeliveryFuture` / `Producer::partition_count`
//! - kcat `-P` and `-p`, Kafka's console producer (the command's shape)

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use kiel::{DeliveryFuture, Error, Producer, RecordMetadata};

use crate::cli::{ProduceArgs, ReportFormat};
use crate::delivery_report::{self, Failure, ReportWriter};
use crate::error::CliError;
use crate::interrupt::Interrupt;
use crate::line_format::{HeaderSyntax, LineFormat};
use crate::produce_input::{spawn_reader, Input, Item, Message};
use crate::produce_report::Tally;
use crate::progress::{human_bytes, spawn_ticker, Progress};
use crate::schema_format::SchemaOptions;
use crate::settings::{producer_config, PRODUCE_CLIENT_ID};

/// An input line not yet settled: a record awaiting its outcome, or one whose outcome is
/// known but waits for the lines before it (so outcomes are reported in input order).
struct Pending {
    line: u64,
    bytes: u64,
    /// The record's key, kept for the delivery report only.
    key: Option<Bytes>,
    state: State,
}

/// Where a pending line stands.
enum State {
    /// Sent; the outcome comes through the future.
    Waiting(DeliveryFuture),
    /// The outcome is known (a line that did not parse, a record refused at once).
    Known(Outcome),
}

/// How a line ended.
type Outcome = Result<RecordMetadata, Failure>;

/// Builds the line format from the options.
fn line_format(args: &ProduceArgs) -> LineFormat {
    LineFormat {
        key_separator: args.key_separator.as_ref().map(|s| s.0.clone()),
        headers: args.parse_headers.then(|| HeaderSyntax {
            delimiter: args.headers_delimiter.0.clone(),
            separator: args.header_separator.0.clone(),
            key_separator: args.header_key_separator.0.clone(),
        }),
        fixed_headers: args.headers.clone(),
        null_marker: args.null_marker.as_ref().map(|m| m.as_bytes().to_vec()),
    }
}

/// Polls a future once without a real waker: its outcome if it is already known.
fn ready_now(future: &mut DeliveryFuture) -> Option<kiel::Result<RecordMetadata>> {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(future).poll(&mut cx) {
        Poll::Ready(outcome) => Some(outcome),
        Poll::Pending => None,
    }
}

/// The produce loop's state.
struct Run {
    producer: Producer,
    topic: String,
    /// `--partition`: every record goes there.
    partition: Option<i32>,
    pending: VecDeque<Pending>,
    max_outstanding: usize,
    tally: Arc<Mutex<Tally>>,
    /// `--delivery-report json`.
    report: Option<ReportWriter>,
}

impl Run {
    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn settle(&mut self, pending: &Pending, outcome: &Outcome) {
        let key = pending.key.as_deref();
        match outcome {
            Ok(metadata) => {
                self.tally().acknowledged(pending.bytes);
                if let Some(report) = &mut self.report {
                    report.write(&delivery_report::acknowledged(pending.line, key, metadata));
                }
            }
            Err(failure) => {
                self.tally().failed(pending.line, failure.reason.clone());
                if let Some(report) = &mut self.report {
                    report.write(&delivery_report::failed(
                        pending.line,
                        &self.topic,
                        key,
                        failure,
                    ));
                }
            }
        }
    }

    /// The outcome of `pending` if it is known now.
    fn known_outcome(&self, pending: &mut Pending) -> Option<Outcome> {
        match &mut pending.state {
            State::Known(outcome) => Some(outcome.clone()),
            State::Waiting(future) => ready_now(future)
                .map(|outcome| outcome.map_err(|e| Failure::from_error(&e, self.partition))),
        }
    }

    /// Settles the oldest pending lines that already have an outcome, then hands the
    /// delivery report written so far to stdout.
    fn settle_ready(&mut self) {
        while let Some(mut front) = self.pending.pop_front() {
            let Some(outcome) = self.known_outcome(&mut front) else {
                self.pending.push_front(front);
                break;
            };
            self.settle(&front, &outcome);
        }
        if let Some(report) = &mut self.report {
            report.flush();
        }
    }

    /// Awaits the oldest pending line (the report written so far goes out before waiting).
    async fn settle_oldest(&mut self) {
        let Some(mut oldest) = self.pending.pop_front() else {
            return;
        };
        let outcome = match self.known_outcome(&mut oldest) {
            Some(outcome) => outcome,
            None => {
                if let Some(report) = &mut self.report {
                    report.flush();
                }
                let State::Waiting(future) = &mut oldest.state else {
                    unreachable!("a known outcome was returned above");
                };
                future
                    .await
                    .map_err(|e| Failure::from_error(&e, self.partition))
            }
        };
        self.settle(&oldest, &outcome);
    }

    /// Sends one item. `Err` only when the producer cannot take any more records.
    async fn send(&mut self, item: Item) -> Result<(), CliError> {
        let (line, mut record, bytes) = match item {
            Item::Bad { line, reason } => {
                let failure = Failure::bad_line(reason, self.partition);
                self.push(line, 0, None, State::Known(Err(failure))).await;
                return Ok(());
            }
            Item::Record {
                line,
                record,
                bytes,
            } => (line, record, bytes),
        };
        record.partition = self.partition;
        let key = self.report.as_ref().and(record.key.clone());
        let state = match self.producer.enqueue(&self.topic, record).await {
            Ok(future) => State::Waiting(future),
            Err(Error::Closed) => {
                return Err(CliError::failed(format!(
                    "the producer closed before line {line} could be sent"
                )))
            }
            Err(e) => State::Known(Err(Failure::from_error(&e, self.partition))),
        };
        self.push(line, bytes, key, state).await;
        Ok(())
    }

    /// Queues a line behind the others, first making room when the FIFO is full.
    async fn push(&mut self, line: u64, bytes: u64, key: Option<Bytes>, state: State) {
        self.pending.push_back(Pending {
            line,
            bytes,
            key,
            state,
        });
        while self.pending.len() >= self.max_outstanding {
            self.settle_oldest().await;
        }
    }

    /// Why the delivery report could not be written, if it could not.
    fn report_error(&self) -> Option<CliError> {
        let e = self.report.as_ref()?.error()?;
        Some(CliError::failed(format!(
            "writing the delivery report to stdout: {e}"
        )))
    }
}

/// `partition` exists in a topic of `count` partitions; otherwise the usage error to exit
/// with.
fn check_partition(topic: &str, partition: i32, count: i32) -> Result<(), CliError> {
    if partition < count {
        return Ok(());
    }
    let range = match count {
        1 => "1 partition (0)".to_owned(),
        n => format!("{n} partitions (0 to {})", n - 1),
    };
    Err(CliError::usage(format!(
        "--partition {partition}: topic `{topic}` has {range}"
    )))
}

/// Runs `kiel produce`.
pub(crate) async fn run(args: ProduceArgs, interrupt: Interrupt) -> Result<(), CliError> {
    let config = producer_config(&args.brokers, PRODUCE_CLIENT_ID, &args.properties)?;
    let format = line_format(&args);
    let schemas = SchemaOptions::from_args(&args)?;
    let input = Input::open(args.file.as_deref())?;
    let input_size = input.size;
    let max_line_bytes = usize::try_from(args.max_line_bytes).unwrap_or(usize::MAX);
    let max_outstanding = usize::try_from(args.max_outstanding).unwrap_or(usize::MAX);

    let producer = tokio::select! {
        built = Producer::from_config(config) => built.map_err(|e| {
            CliError::failed(format!("cannot start the producer for {}: {e}", args.brokers))
        })?,
        () = interrupt.wait() => return Err(CliError::interrupted("interrupted before connecting")),
    };
    if let Some(partition) = args.partition {
        // Before any input is read: a partition the topic lacks fails every record.
        let count = tokio::select! {
            count = producer.partition_count(&args.topic) => count,
            () = interrupt.wait() => {
                producer.close().await;
                return Err(CliError::interrupted("interrupted while looking up the topic"));
            }
        };
        let checked = count
            .map_err(|e| {
                CliError::failed(format!(
                    "cannot learn the partitions of topic `{}`: {e}",
                    args.topic
                ))
            })
            .and_then(|count| check_partition(&args.topic, partition, count));
        if let Err(e) = checked {
            producer.close().await;
            return Err(e);
        }
    }
    let encoder = match schemas {
        None => None,
        Some(schemas) => {
            // The schema ids, once, before any input is read.
            let prepared = tokio::select! {
                prepared = schemas.prepare(&args.topic) => prepared,
                () = interrupt.wait() => {
                    Err(CliError::interrupted("interrupted while asking the schema registry"))
                }
            };
            match prepared {
                Ok(encoder) => Some(Arc::new(encoder)),
                Err(e) => {
                    producer.close().await;
                    return Err(e);
                }
            }
        }
    };
    let started = Instant::now();
    let bytes_read = Arc::new(AtomicU64::new(0));
    let mut messages = spawn_reader(
        input,
        format,
        encoder,
        max_line_bytes,
        Arc::clone(&bytes_read),
    );

    let tally = Arc::new(Mutex::new(Tally::new(args.max_errors)));
    let progress = match input_size {
        Some(size) => Progress::new(
            !args.no_progress,
            Some(size),
            "{bar:30} {bytes}/{total_bytes} read, {msg} [{elapsed_precise}, {bytes_per_sec}]",
        ),
        None => Progress::new(
            !args.no_progress,
            None,
            "{spinner} {bytes} read, {msg} [{elapsed_precise}, {bytes_per_sec}]",
        ),
    };
    let ticker = {
        let (tally, bytes_read) = (Arc::clone(&tally), Arc::clone(&bytes_read));
        spawn_ticker(progress.clone(), move || {
            let t = tally.lock().unwrap_or_else(PoisonError::into_inner);
            (
                bytes_read.load(Ordering::Relaxed),
                format!("{} acknowledged, {} failed", t.produced(), t.failed_count()),
            )
        })
    };

    let mut run = Run {
        producer,
        topic: args.topic.clone(),
        partition: args.partition,
        pending: VecDeque::new(),
        max_outstanding,
        tally: Arc::clone(&tally),
        report: args
            .delivery_report
            .map(|ReportFormat::Json| ReportWriter::stdout()),
    };
    let mut stopped: Option<CliError> = None;
    let mut interrupted = false;
    'input: loop {
        let message = tokio::select! {
            m = messages.recv() => m,
            () = interrupt.wait() => { interrupted = true; break 'input; }
        };
        match message {
            None => break,
            Some(Message::ReadError(e)) => {
                stopped = Some(CliError::failed(e));
                break;
            }
            Some(Message::Items(items)) => {
                for item in items {
                    if interrupt.is_set() {
                        interrupted = true;
                        break 'input;
                    }
                    if let Err(e) = run.send(item).await {
                        stopped = Some(e);
                        break 'input;
                    }
                }
                run.settle_ready();
                if let Some(e) = run.report_error() {
                    stopped = Some(e);
                    break;
                }
            }
        }
    }
    drop(messages);
    if interrupted {
        progress.eprintln(Interrupt::NOTICE);
    }
    while !run.pending.is_empty() {
        run.settle_oldest().await;
    }
    run.settle_ready(); // flushes the delivery report
    run.producer.close().await;
    if args.stats {
        for line in crate::metrics_summary::summary("kiel: ", &run.producer.metrics()) {
            progress.eprintln(&line);
        }
    }
    let elapsed = started.elapsed();
    if let Some(t) = ticker {
        t.abort();
    }
    progress.finish();

    let tally = tally.lock().unwrap_or_else(PoisonError::into_inner).clone();
    // With a delivery report, stdout is the report only.
    let summary = tally.summary(&args.topic, elapsed);
    if run.report.is_some() {
        progress.eprintln(&summary);
    } else {
        progress.println(&summary);
    }
    for line in tally.failure_report() {
        progress.eprintln(&format!("kiel: {line}"));
    }
    if interrupted {
        return Err(CliError::interrupted(format!(
            "interrupted after {} of the input ({} records acknowledged, {} failed)",
            human_bytes(bytes_read.load(Ordering::Relaxed)),
            tally.produced(),
            tally.failed_count()
        )));
    }
    if let Some(e) = stopped.or_else(|| run.report_error()) {
        return Err(e);
    }
    match tally.failed_count() {
        0 => Ok(()),
        failed => Err(CliError::failed(format!(
            "{failed} of {} records failed",
            failed + tally.produced()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partition_must_be_below_the_count() {
        assert!(check_partition("t", 0, 1).is_ok());
        assert!(check_partition("t", 2, 3).is_ok());
        let one = check_partition("t", 1, 1).unwrap_err();
        assert_eq!(
            one.to_string(),
            "--partition 1: topic `t` has 1 partition (0)"
        );
        assert_eq!(one.code(), crate::error::EXIT_USAGE);
        assert_eq!(
            check_partition("orders", 7, 3).unwrap_err().to_string(),
            "--partition 7: topic `orders` has 3 partitions (0 to 2)"
        );
    }
}
