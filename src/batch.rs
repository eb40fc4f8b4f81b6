//! A closed batch of one partition: its records (unfinished until first sent, then the exact
//! bytes every retry resends), when they were produced ([`ProduceTimes`]), the slot their
//! outcomes go to, and how sending it has gone so far ([`SendState`], which only the
//! [`ProducerSession`](crate::session) changes). A batch can be split in two
//! ([`ProducerBatch::split_at`]): when the broker finds it too large, and when its oldest
//! records reach `delivery.timeout.ms` before the others.
//!
//! # References
//! - Java `ProducerBatch` (attempts, retry time, in-doubt sequence handling, `split`)

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kiel_protocol::record::{
    increment_sequence, BatchOptions, RecordBatch, RecordBatchBuilder, RecordHeaderRef,
};

use crate::delivery::BatchGuard;
use crate::error::Error;
use crate::time::later;

/// How finely [`ProduceTimes`] tells records apart: records produced within this much of
/// each other share one time.
pub(crate) const PRODUCE_TIME_GRANULARITY: Duration = Duration::from_millis(1);

/// When a batch's records were produced, compactly: a list of `(first record index, time)`
/// marks, a new one whenever a record comes [`PRODUCE_TIME_GRANULARITY`] or more after the
/// last mark. A record was produced at or after its mark's time and less than the
/// granularity after it, so its `delivery.timeout.ms` is over at its mark's time plus the
/// granularity plus the timeout: never early, at most the granularity late. A batch filled
/// within a millisecond has one mark; one filled slowly has a mark per record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProduceTimes {
    marks: Vec<(u32, Instant)>,
}

impl ProduceTimes {
    /// The times of a batch whose first record came at `first`.
    pub(crate) fn starting(first: Instant) -> Self {
        Self {
            marks: vec![(0, first)],
        }
    }

    /// Record `index` (the next one) was produced at `now`.
    pub(crate) fn record(&mut self, index: u32, now: Instant) {
        let last = self.marks.last().map(|m| m.1);
        if last.is_none_or(|t| now >= t + PRODUCE_TIME_GRANULARITY) {
            self.marks.push((index, now));
        }
    }

    /// When the first record was produced.
    pub(crate) fn first(&self) -> Option<Instant> {
        self.marks.first().map(|m| m.1)
    }

    /// How many records, from the first, are past `timeout` at `now`.
    pub(crate) fn expired(&self, now: Instant, timeout: Duration, count: u32) -> u32 {
        let over = |t: Instant| now >= later(t + PRODUCE_TIME_GRANULARITY, timeout);
        match self.marks.iter().position(|m| !over(m.1)) {
            Some(i) => self.marks[i].0,
            None => count,
        }
    }

    /// When the next record's `timeout` is over, if any is not yet.
    pub(crate) fn next_expiry(&self, now: Instant, timeout: Duration) -> Option<Instant> {
        self.marks
            .iter()
            .map(|m| later(m.1 + PRODUCE_TIME_GRANULARITY, timeout))
            .find(|t| *t > now)
    }

    /// When the last record's `timeout` is over.
    pub(crate) fn last_expiry(&self, timeout: Duration) -> Option<Instant> {
        self.marks
            .last()
            .map(|m| later(m.1 + PRODUCE_TIME_GRANULARITY, timeout))
    }

    /// The times of records `..at` and of `at..` (renumbered from 0).
    fn split_at(&self, at: u32) -> (Self, Self) {
        let head: Vec<(u32, Instant)> = self.marks.iter().copied().filter(|m| m.0 < at).collect();
        let mut tail: Vec<(u32, Instant)> = self
            .marks
            .iter()
            .filter(|m| m.0 >= at)
            .map(|m| (m.0 - at, m.1))
            .collect();
        if tail.first().is_none_or(|m| m.0 != 0) {
            // Record `at` shares the mark of the last head group.
            if let Some(&(_, time)) = head.last() {
                tail.insert(0, (0, time));
            }
        }
        (Self { marks: head }, Self { marks: tail })
    }
}

/// A batch's sequence numbers (idempotence): the first, and the session generation they
/// belong to. An epoch bump starts a new generation; a batch of an older one gets new
/// numbers when it is next sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sequenced {
    pub base: i32,
    pub generation: u32,
}

/// How sending a batch has gone. Written by the session's decisions only.
#[derive(Debug, Default)]
pub(crate) struct SendState {
    /// Attempts that ended without an acknowledgement.
    pub attempts: u32,
    /// Not to be sent again before this time (retry backoff).
    pub retry_at: Option<Instant>,
    /// Its sequence numbers, once it was first sent by an idempotent producer.
    pub sequence: Option<Sequenced>,
    /// The last attempt's outcome is unknown (connection lost, timed out): the broker may
    /// have written it. Such a batch must be resolved before sequences are reset.
    pub in_doubt: bool,
    /// What went wrong last, for the error a record gets if it finally fails.
    pub last_error: Option<Error>,
}

/// What [`ProducerBatch::split_at`] made.
// Splits are rare and their batches are moved on at once; boxing would cost allocations.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Split {
    /// The records before the split, and those from it on.
    Parts(ProducerBatch, ProducerBatch),
    /// The batch as it was: it could not be split.
    Whole(ProducerBatch),
}

/// A batch that is closed (or being drained).
pub(crate) struct ProducerBatch {
    pub topic: Arc<str>,
    pub partition: i32,
    /// The records, unfinished until the batch is first sent.
    pub builder: Option<RecordBatchBuilder>,
    /// The finished bytes; retries resend exactly these.
    pub data: Option<Bytes>,
    pub guard: BatchGuard,
    /// When its records were produced.
    pub produced: ProduceTimes,
    /// Bytes of `buffer.memory` held by this batch.
    pub reserved: usize,
    pub send: SendState,
}

impl ProducerBatch {
    pub(crate) fn record_count(&self) -> u32 {
        self.guard.count
    }

    /// Encoded size of the batch as it will be (or was) sent.
    pub(crate) fn size(&self) -> usize {
        match (&self.data, &self.builder) {
            (Some(d), _) => d.len(),
            (None, Some(b)) => b.size_in_bytes(),
            (None, None) => 0,
        }
    }

    /// Splits the batch into records `..at` and `at..` (`0 < at < count`), both to go no
    /// earlier than `retry_at`: two batches with the same outcome slot, sequence numbers (the second's
    /// continue the first's), attempts and doubt. Its records are read back from its bytes
    /// (unfinished ones are finished without compression first) and appended anew, so this
    /// costs a decode; it happens only on the rare paths. Gives the batch back unchanged if
    /// its records cannot be read.
    pub(crate) fn split_at(mut self, at: u32, retry_at: Option<Instant>) -> Split {
        let count = self.record_count();
        if at == 0 || at >= count {
            return Split::Whole(self);
        }
        let bytes = match (&self.data, self.builder.take()) {
            (Some(data), builder) => {
                self.builder = builder;
                data.clone()
            }
            (None, Some(builder)) => match builder.finish(&BatchOptions::default()) {
                Ok(bytes) => bytes,
                // Cannot happen for our own records; the batch then stays unfinished... but
                // its builder is gone, so it can only fail.
                Err(_) => return Split::Whole(self),
            },
            (None, None) => return Split::Whole(self),
        };
        let Ok(decoded) = RecordBatch::decode(&mut bytes.clone()) else {
            if self.data.is_none() {
                self.data = Some(bytes);
            }
            return Split::Whole(self);
        };
        if decoded.records.len() != count as usize {
            if self.data.is_none() {
                self.data = Some(bytes);
            }
            return Split::Whole(self);
        }
        let (head_times, tail_times) = self.produced.split_at(at);
        let head_reserved = (self.reserved as u128 * u128::from(at) / u128::from(count)) as usize;
        let part = |offset: u32, records: &[kiel_protocol::record::Record], produced, reserved| {
            let mut builder = RecordBatchBuilder::with_capacity(bytes.len());
            for r in records {
                let headers: Vec<RecordHeaderRef<'_>> = r
                    .headers
                    .iter()
                    .map(|h| RecordHeaderRef::new(&h.key, h.value.as_deref()))
                    .collect();
                // Cannot fail: these records fitted in one batch before.
                let _ = builder.append(
                    r.timestamp(&decoded),
                    r.key.as_deref(),
                    r.value.as_deref(),
                    &headers,
                );
            }
            Self {
                topic: Arc::clone(&self.topic),
                partition: self.partition,
                builder: Some(builder),
                data: None,
                guard: BatchGuard::new(
                    Arc::clone(&self.guard.completion),
                    self.partition,
                    self.guard.first_index + offset,
                    records.len() as u32,
                ),
                produced,
                reserved,
                send: SendState {
                    attempts: self.send.attempts,
                    retry_at,
                    sequence: self.send.sequence.map(|mut s| {
                        s.base = increment_sequence(s.base, offset as i32);
                        s
                    }),
                    in_doubt: self.send.in_doubt,
                    last_error: self.send.last_error.clone(),
                },
            }
        };
        let (head_records, tail_records) = decoded.records.split_at(at as usize);
        let head = part(0, head_records, head_times, head_reserved);
        let tail = part(at, tail_records, tail_times, self.reserved - head_reserved);
        self.guard.disarm();
        Split::Parts(head, tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::{Acked, Completion, DeliveryFuture};

    fn batch(values: &[&str], produced: ProduceTimes) -> ProducerBatch {
        let mut builder = RecordBatchBuilder::new();
        for v in values {
            let appended = builder.append(
                7,
                Some(b"k".as_slice()),
                Some(v.as_bytes()),
                &[] as &[(&str, Option<&[u8]>)],
            );
            assert!(appended.is_ok());
        }
        let completion = Completion::new(Arc::from("t"));
        completion.close(values.len() as u32);
        ProducerBatch {
            topic: Arc::from("t"),
            partition: 3,
            builder: Some(builder),
            data: None,
            guard: BatchGuard::new(completion, 3, 0, values.len() as u32),
            produced,
            reserved: 1000,
            send: SendState::default(),
        }
    }

    #[test]
    fn records_expire_by_their_own_produce_time_never_early() {
        let t0 = Instant::now();
        let timeout = Duration::from_secs(10);
        let mut times = ProduceTimes::starting(t0);
        times.record(1, t0 + Duration::from_micros(300)); // shares the first mark
        times.record(2, t0 + Duration::from_secs(3));
        times.record(3, t0 + Duration::from_secs(6));
        let grain = PRODUCE_TIME_GRANULARITY;
        assert_eq!(times.expired(t0 + timeout, timeout, 4), 0, "early");
        assert_eq!(times.expired(t0 + timeout + grain, timeout, 4), 2);
        assert_eq!(
            times.expired(t0 + Duration::from_secs(13) + grain, timeout, 4),
            3
        );
        assert_eq!(times.expired(t0 + Duration::from_secs(20), timeout, 4), 4);
        assert_eq!(
            times.next_expiry(t0 + timeout + grain, timeout),
            Some(t0 + Duration::from_secs(13) + grain)
        );
        assert_eq!(
            times.last_expiry(timeout),
            Some(t0 + Duration::from_secs(16) + grain)
        );
        // Forever never comes, and does not overflow.
        assert_eq!(
            times.expired(t0 + Duration::from_secs(3600), Duration::MAX, 4),
            0
        );
    }

    #[test]
    fn a_split_keeps_order_sequences_times_and_memory() {
        let t0 = Instant::now();
        let mut times = ProduceTimes::starting(t0);
        times.record(2, t0 + Duration::from_secs(1));
        let mut b = batch(&["a", "b", "c", "d", "e"], times);
        b.send.sequence = Some(crate::batch::Sequenced {
            base: 10,
            generation: 0,
        });
        let completion = Arc::clone(&b.guard.completion);
        let futures: Vec<_> = (0..5)
            .map(|i| DeliveryFuture::new(Arc::clone(&completion), i, 0))
            .collect();
        let Split::Parts(head, tail) = b.split_at(3, Some(t0)) else {
            panic!("no split");
        };
        assert_eq!((head.record_count(), tail.record_count()), (3, 2));
        assert_eq!(head.reserved + tail.reserved, 1000);
        assert_eq!(head.send.sequence.map(|s| s.base), Some(10));
        assert_eq!(tail.send.sequence.map(|s| s.base), Some(13));
        assert_eq!(head.produced.first(), Some(t0));
        // Record 3 came after the second mark (index 2).
        assert_eq!(tail.produced.first(), Some(t0 + Duration::from_secs(1)));
        // The parts resolve the original records: the tail's first is record 3.
        let ok = |base| {
            Ok(Acked {
                base_offset: base,
                log_append_time: -1,
            })
        };
        tail.guard.complete(ok(103));
        head.guard.complete(ok(100));
        let offsets: Vec<i64> = futures
            .into_iter()
            .map(|f| {
                tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap()
                    .block_on(f)
                    .unwrap()
                    .offset
            })
            .collect();
        assert_eq!(offsets, [100, 101, 102, 103, 104]);
    }

    #[test]
    fn a_finished_compressed_batch_splits_too() {
        let mut b = batch(
            &["a", "b", "c", "d"],
            ProduceTimes::starting(Instant::now()),
        );
        let builder = b.builder.take().unwrap();
        b.data = Some(
            builder
                .finish(&BatchOptions {
                    compression: kiel_protocol::Compression::Lz4,
                    ..BatchOptions::default()
                })
                .unwrap(),
        );
        let Split::Parts(head, tail) = b.split_at(1, None) else {
            panic!("no split");
        };
        assert_eq!((head.record_count(), tail.record_count()), (1, 3));
        let bytes = tail
            .builder
            .unwrap()
            .finish(&BatchOptions::default())
            .unwrap();
        let decoded = RecordBatch::decode(&mut bytes.clone()).unwrap();
        let values: Vec<_> = decoded
            .records
            .iter()
            .map(|r| r.value.clone().unwrap())
            .collect();
        assert_eq!(values, ["b", "c", "d"]);
        assert_eq!(decoded.records[0].timestamp(&decoded), 7);
    }
}
