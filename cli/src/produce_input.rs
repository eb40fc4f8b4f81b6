//! The reading side of `kiel produce`: a thread reads lines (stdin or a file), turns them into
//! records and hands them over in batches through a bounded channel, so reading and parsing
//! run beside producing and memory stays bounded whatever the input's size. A batch is handed
//! over when it is full or when the read buffer is empty (the next read may wait for input).
//!
//! # References
//! - `tokio::sync::mpsc::Sender::blocking_send` (a plain thread feeding async code)

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use kiel::Record;
use tokio::sync::mpsc;

use crate::error::CliError;
use crate::line_format::LineFormat;
use crate::line_reader::{Line, LineReader};
use crate::produce_report::record_bytes;
use crate::schema_format::RecordEncoder;

/// Records per batch handed to the producing side.
const BATCH_RECORDS: usize = 512;
/// Input bytes per batch, at most (a batch closes once it holds this much).
const BATCH_BYTES: u64 = 1024 * 1024;
/// Batches waiting in the channel, at most.
const CHANNEL_BATCHES: usize = 8;
/// Read buffer size.
const READ_BUFFER: usize = 256 * 1024;

/// One input line, parsed.
#[derive(Debug)]
pub(crate) enum Item {
    /// A record to send, from input line `line` (from 1), of `bytes` bytes.
    Record {
        /// The input line number.
        line: u64,
        /// The record.
        record: Record,
        /// Its key, value and header bytes.
        bytes: u64,
    },
    /// A line that cannot become a record.
    Bad {
        /// The input line number.
        line: u64,
        /// Why.
        reason: String,
    },
}

/// What the reading thread sends.
#[derive(Debug)]
pub(crate) enum Message {
    /// Parsed lines, in input order.
    Items(Vec<Item>),
    /// Reading failed; nothing follows.
    ReadError(String),
}

/// The input: a file (with its size, for the progress bar) or stdin.
pub(crate) struct Input {
    reader: Box<dyn Read + Send>,
    /// The file's size, when reading a file.
    pub(crate) size: Option<u64>,
    /// How to name the input in messages.
    pub(crate) name: String,
}

impl Input {
    /// Opens `file`, or stdin when `None`. A file that cannot be opened is a failed run
    /// (exit code 1, like input that cannot be read), not a usage error.
    pub(crate) fn open(file: Option<&Path>) -> Result<Self, CliError> {
        match file {
            Some(path) => {
                let f = File::open(path).map_err(|e| {
                    CliError::failed(format!("cannot open --file {}: {e}", path.display()))
                })?;
                let size = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
                Ok(Self {
                    reader: Box::new(f),
                    size,
                    name: path.display().to_string(),
                })
            }
            None => Ok(Self {
                reader: Box::new(io::stdin()),
                size: None,
                name: "stdin".to_owned(),
            }),
        }
    }
}

/// Starts the reading thread. `bytes_read` counts input bytes consumed (for progress).
pub(crate) fn spawn_reader(
    input: Input,
    format: LineFormat,
    encoder: Option<Arc<RecordEncoder>>,
    max_line_bytes: usize,
    bytes_read: Arc<AtomicU64>,
) -> mpsc::Receiver<Message> {
    let (tx, rx) = mpsc::channel(CHANNEL_BATCHES);
    let name = input.name.clone();
    let spawned = std::thread::Builder::new()
        .name("kiel-input".to_owned())
        .spawn(move || {
            let parse = |line: &[u8]| {
                let mut record = format.parse(line)?;
                if let Some(encoder) = &encoder {
                    encoder.encode(&mut record)?;
                }
                Ok(record)
            };
            read_all(input, &parse, max_line_bytes, &bytes_read, &tx);
        });
    if let Err(e) = spawned {
        // No thread: report through a fresh channel that says why.
        let (tx, rx) = mpsc::channel(1);
        let _ = tx.try_send(Message::ReadError(format!(
            "cannot start a thread to read {name}: {e}"
        )));
        return rx;
    }
    rx
}

fn read_all(
    input: Input,
    parse: &dyn Fn(&[u8]) -> Result<Record, String>,
    max_line_bytes: usize,
    bytes_read: &AtomicU64,
    tx: &mpsc::Sender<Message>,
) {
    let mut lines = LineReader::new(
        BufReader::with_capacity(READ_BUFFER, input.reader),
        max_line_bytes,
    );
    let mut batch = Vec::with_capacity(BATCH_RECORDS);
    let mut batch_bytes = 0u64;
    let mut number = 0u64;
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                if !batch.is_empty() {
                    let _ = tx.blocking_send(Message::Items(std::mem::take(&mut batch)));
                }
                let _ = tx.blocking_send(Message::ReadError(format!(
                    "reading {} after line {number}: {e}",
                    input.name
                )));
                return;
            }
        };
        number += 1;
        let (item, length) = match line {
            Line::Complete(bytes) => {
                let length = bytes.len() as u64;
                let item = match parse(&bytes) {
                    Ok(record) => Item::Record {
                        line: number,
                        bytes: record_bytes(&record),
                        record,
                    },
                    Err(reason) => Item::Bad {
                        line: number,
                        reason,
                    },
                };
                (item, length)
            }
            Line::TooLong(length) => (
                Item::Bad {
                    line: number,
                    reason: format!(
                        "line of {length} bytes is longer than --max-line-bytes ({max_line_bytes})"
                    ),
                },
                length,
            ),
        };
        bytes_read.fetch_add(length + 1, Ordering::Relaxed);
        batch.push(item);
        batch_bytes += length;
        // Hand the batch over when it is full, or when the next read may block (typed or
        // trickling input is sent line by line, not held back until a batch fills up).
        if batch.len() >= BATCH_RECORDS || batch_bytes >= BATCH_BYTES || lines.buffered() == 0 {
            if tx
                .blocking_send(Message::Items(std::mem::take(&mut batch)))
                .is_err()
            {
                return; // The producing side stopped.
            }
            batch = Vec::with_capacity(BATCH_RECORDS);
            batch_bytes = 0;
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Message::Items(batch));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(
        text: &'static [u8],
        format: LineFormat,
        max: usize,
    ) -> (Vec<Item>, Option<String>, u64) {
        let input = Input {
            reader: Box::new(text),
            size: None,
            name: "test".to_owned(),
        };
        let read = Arc::new(AtomicU64::new(0));
        let mut rx = spawn_reader(input, format, None, max, Arc::clone(&read));
        let mut items = Vec::new();
        let mut error = None;
        while let Some(message) = rx.blocking_recv() {
            match message {
                Message::Items(batch) => items.extend(batch),
                Message::ReadError(e) => error = Some(e),
            }
        }
        (items, error, read.load(Ordering::Relaxed))
    }

    #[test]
    fn lines_become_numbered_records_or_bad_items() {
        let format = LineFormat {
            key_separator: Some(b":".to_vec()),
            ..LineFormat::default()
        };
        let (items, error, read) = collect(b"a:1\nnokey\nb:2\n0123456789:x\n", format, 8);
        assert_eq!(error, None);
        assert_eq!(read, 4 + 6 + 4 + 13);
        let summary: Vec<String> = items
            .iter()
            .map(|item| match item {
                Item::Record {
                    line,
                    record,
                    bytes,
                } => format!(
                    "{line} {:?}={:?} {bytes}",
                    record.key.as_deref().map(String::from_utf8_lossy),
                    record.value.as_deref().map(String::from_utf8_lossy)
                ),
                Item::Bad { line, reason } => format!("{line} bad: {reason}"),
            })
            .collect();
        assert_eq!(summary[0], "1 Some(\"a\")=Some(\"1\") 2");
        assert!(
            summary[1].starts_with("2 bad: no key separator"),
            "{}",
            summary[1]
        );
        assert_eq!(summary[2], "3 Some(\"b\")=Some(\"2\") 2");
        assert_eq!(
            summary[3],
            "4 bad: line of 12 bytes is longer than --max-line-bytes (8)"
        );
        assert_eq!(items.len(), 4);
    }

    #[test]
    fn many_lines_arrive_in_order_across_batches() {
        let text: &'static [u8] = Box::leak(
            (0..2000)
                .map(|i| format!("{i}\n"))
                .collect::<String>()
                .into_bytes()
                .into_boxed_slice(),
        );
        let (items, error, _) = collect(text, LineFormat::default(), 100);
        assert_eq!(error, None);
        assert_eq!(items.len(), 2000);
        for (i, item) in items.iter().enumerate() {
            let Item::Record { line, record, .. } = item else {
                panic!("line {i} is bad");
            };
            assert_eq!(*line, i as u64 + 1);
            assert_eq!(record.value.as_deref(), Some(i.to_string().as_bytes()));
        }
    }

    #[test]
    fn a_missing_file_fails_the_run_with_exit_code_1() {
        let err = Input::open(Some(Path::new("/nonexistent/kiel-input.txt")))
            .err()
            .expect("the file does not exist");
        assert_eq!(err.code(), crate::error::EXIT_FAILED);
        let text = err.to_string();
        assert!(
            text.starts_with("cannot open --file /nonexistent/kiel-input.txt: "),
            "{text}"
        );
    }
}
