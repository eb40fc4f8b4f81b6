//! `kiel produce`: one record per input line, with backpressure and bounded memory.
//!
//! Records are queued with `Producer::enqueue`, which waits while the producer's buffer
//! (`buffer.memory`) is full. Their delivery futures wait in a FIFO of at most
//! `--max-outstanding`; when it is full the oldest is awaited first. Futures that are already
//! resolved are collected after every input batch, so failures and the progress bar stay
//! current. Every line ends as acknowledged or failed (with its line number).
//!
//! # References
//! - kiel `Producer::enqueue` / `DeliveryFuture`
//! - kcat `-P`, Kafka's console producer (the command's shape)

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use kiel::{DeliveryFuture, Error, Producer, RecordMetadata};

use crate::cli::ProduceArgs;
use crate::error::CliError;
use crate::interrupt::Interrupt;
use crate::line_format::{HeaderSyntax, LineFormat};
use crate::produce_input::{spawn_reader, Input, Item, Message};
use crate::produce_report::Tally;
use crate::progress::{human_bytes, spawn_ticker, Progress};
use crate::settings::producer_config;

/// A record sent and not yet settled.
struct Pending {
    line: u64,
    bytes: u64,
    future: DeliveryFuture,
}

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
    pending: VecDeque<Pending>,
    max_outstanding: usize,
    tally: Arc<Mutex<Tally>>,
}

impl Run {
    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn settle(&self, line: u64, bytes: u64, outcome: kiel::Result<RecordMetadata>) {
        match outcome {
            Ok(_) => self.tally().acknowledged(bytes),
            Err(e) => self.tally().failed(line, e.to_string()),
        }
    }

    /// Settles the oldest pending records that already have an outcome.
    fn settle_ready(&mut self) {
        while let Some(front) = self.pending.front_mut() {
            let Some(outcome) = ready_now(&mut front.future) else {
                return;
            };
            let (line, bytes) = (front.line, front.bytes);
            self.pending.pop_front();
            self.settle(line, bytes, outcome);
        }
    }

    /// Awaits the oldest pending record.
    async fn settle_oldest(&mut self) {
        if let Some(p) = self.pending.pop_front() {
            let outcome = p.future.await;
            self.settle(p.line, p.bytes, outcome);
        }
    }

    /// Sends one item. `Err` only when the producer cannot take any more records.
    async fn send(&mut self, item: Item) -> Result<(), CliError> {
        let (line, record, bytes) = match item {
            Item::Bad { line, reason } => {
                self.tally().failed(line, reason);
                return Ok(());
            }
            Item::Record {
                line,
                record,
                bytes,
            } => (line, record, bytes),
        };
        match self.producer.enqueue(&self.topic, record).await {
            Ok(future) => {
                self.pending.push_back(Pending {
                    line,
                    bytes,
                    future,
                });
                while self.pending.len() >= self.max_outstanding {
                    self.settle_oldest().await;
                }
                Ok(())
            }
            Err(Error::Closed) => Err(CliError::failed(format!(
                "the producer closed before line {line} could be sent"
            ))),
            Err(e) => {
                self.tally().failed(line, e.to_string());
                Ok(())
            }
        }
    }
}

/// Runs `kiel produce`.
pub(crate) async fn run(args: ProduceArgs, interrupt: Interrupt) -> Result<(), CliError> {
    let config = producer_config(&args.brokers, "kiel-cli", &args.properties)?;
    let format = line_format(&args);
    let input = Input::open(args.file.as_deref())?;
    let input_size = input.size;
    let max_line_bytes = usize::try_from(args.max_line_bytes).unwrap_or(usize::MAX);
    let max_outstanding = usize::try_from(args.max_outstanding).unwrap_or(usize::MAX);

    let producer = tokio::select! {
        built = Producer::from_config(config) => built.map_err(|e| {
            CliError::failed(format!("cannot start the producer for {}: {e}", args.brokers))
        })?,
        () = interrupt.wait() => return Err(CliError::failed("interrupted before connecting")),
    };
    let started = Instant::now();
    let bytes_read = Arc::new(AtomicU64::new(0));
    let mut messages = spawn_reader(input, format, max_line_bytes, Arc::clone(&bytes_read));

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
        pending: VecDeque::new(),
        max_outstanding,
        tally: Arc::clone(&tally),
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
    run.producer.close().await;
    let elapsed = started.elapsed();
    if let Some(t) = ticker {
        t.abort();
    }
    progress.finish();

    let tally = tally.lock().unwrap_or_else(PoisonError::into_inner).clone();
    progress.println(&tally.summary(&args.topic, elapsed));
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
    if let Some(e) = stopped {
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
