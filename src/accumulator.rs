//! The accumulator, i.e. *unsent*: per-partition batches that records are encoded into at
//! `produce` time, the queue of closed batches waiting to be sent (new ones and retries, in
//! order), and the records that wait for their topic's metadata.
//!
//! A record is appended straight into its partition's open batch buffer, so sending only
//! compresses and patches a header. A batch closes when the next record would take it past
//! `batch.size`. What may be sent, and when, the sender decides through
//! [`Accumulator::drain`]: for every partition with something to send it sees a
//! [`QueueView`] (the queued batches, and the open batch once `linger.ms` has passed or a
//! flush is on) and picks one.
//!
//! Nothing here knows about requests in flight, sequence numbers or leaders: that is the
//! [`ProducerSession`](crate::session)'s. Decisions take `now` as an argument; nothing here
//! does IO.
//!
//! # References
//! - Java `RecordAccumulator` (ready / drain)

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kiel_protocol::record::{self, AsRecordHeader, RecordBatchBuilder, RecordHeaderRef};

use crate::batch::{ProduceTimes, ProducerBatch, SendState, Split};
use crate::buffer_pool::BufferPool;
use crate::delivery::{BatchGuard, Callback, Completion, WaitingOutcome};
use crate::error::Error;
use crate::record::Record;
use crate::time::later;

/// Bytes of a batch header (RecordBatch v2).
pub(crate) const BATCH_HEADER_SIZE: usize = 61;

/// A record that waits for its topic's metadata.
pub(crate) struct PendingRecord {
    pub record: Record,
    pub timestamp: i64,
    /// Where its outcome goes; resolved with [`Error::Closed`] if it is dropped unmoved.
    pub outcome: WaitingOutcome,
    pub reserved: usize,
    pub created_at: Instant,
}

struct OpenBatch {
    builder: RecordBatchBuilder,
    /// Resolves the records appended so far with [`Error::Closed`] if the batch is dropped
    /// unsent (the producer's runtime went away).
    guard: BatchGuard,
    /// When its first record came (its linger counts from there).
    created: Instant,
    produced: ProduceTimes,
    reserved: usize,
}

/// One partition's unsent state.
#[derive(Default)]
struct PartitionQueue {
    open: Option<OpenBatch>,
    /// Closed batches, oldest first; retries go back to the front in sequence order.
    queue: VecDeque<ProducerBatch>,
    /// The completion of the partition's newest batch: the next batch's outcomes are
    /// released after its own.
    last_completion: Option<Arc<Completion>>,
}

/// Sizes and times the accumulator needs.
#[derive(Debug, Clone)]
pub(crate) struct AccumulatorConfig {
    pub batch_size: usize,
    pub linger: Duration,
    pub max_request_size: usize,
    pub delivery_timeout: Duration,
}

/// Outcome of [`Accumulator::append`].
pub(crate) struct Appended {
    /// The batch's completion, for a record without a callback (whose future needs it).
    pub completion: Option<Arc<Completion>>,
    pub index: u32,
    /// A batch became ready to send (it filled up, or this is a new partition batch).
    pub wake_sender: bool,
    /// The record filled its batch, which closed.
    pub full: bool,
}

/// One batch a [`QueueView`] offers: where it is and what decides whether it may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Candidate {
    /// Its index in the view (the open batch comes after the queued ones).
    pub index: usize,
    pub attempts: u32,
    pub in_doubt: bool,
    pub retry_at: Option<Instant>,
}

impl Candidate {
    /// Whether its retry backoff has passed.
    pub(crate) fn due(&self, now: Instant) -> bool {
        self.retry_at.is_none_or(|t| t <= now)
    }
}

/// What one partition could send: its queued batches, oldest first, and after them the open
/// batch when it may go (`linger.ms` passed, or a flush is on) and nothing is queued.
pub(crate) struct QueueView<'a> {
    queue: &'a VecDeque<ProducerBatch>,
    open_size: Option<usize>,
}

impl<'a> QueueView<'a> {
    /// A view of `queue` alone (no open batch), for tests of the session's picks.
    #[cfg(test)]
    pub(crate) fn of(queue: &'a VecDeque<ProducerBatch>) -> Self {
        Self {
            queue,
            open_size: None,
        }
    }

    fn candidate(index: usize, batch: &ProducerBatch) -> Candidate {
        Candidate {
            index,
            attempts: batch.send.attempts,
            in_doubt: batch.send.in_doubt,
            retry_at: batch.send.retry_at,
        }
    }

    /// The batch that goes next in order.
    pub(crate) fn front(&self) -> Option<Candidate> {
        match self.queue.front() {
            Some(batch) => Some(Self::candidate(0, batch)),
            None => self.open_size.map(|_| Candidate {
                index: 0,
                attempts: 0,
                in_doubt: false,
                retry_at: None,
            }),
        }
    }

    /// The first queued batch whose last attempt's outcome is unknown.
    pub(crate) fn first_in_doubt(&self) -> Option<Candidate> {
        self.queue
            .iter()
            .position(|b| b.send.in_doubt)
            .map(|i| Self::candidate(i, &self.queue[i]))
    }

    /// The encoded size of the batch at `index`.
    pub(crate) fn size(&self, index: usize) -> usize {
        match self.queue.get(index) {
            Some(batch) => batch.size(),
            None => self.open_size.unwrap_or(0),
        }
    }
}

/// What [`Accumulator::drain`] took and saw.
pub(crate) struct Drained<T> {
    /// The batches picked, with what the picker returned for each.
    pub batches: Vec<(T, ProducerBatch)>,
    /// The earliest future time at which a linger or a retry backoff ends.
    pub next_ready_at: Option<Instant>,
    /// The earliest time a queued record's `delivery.timeout.ms` ends.
    pub next_expiry_at: Option<Instant>,
    /// Whether nothing at all is left (open, queued or waiting for metadata).
    pub empty: bool,
}

/// What [`Accumulator::expire_pending`] took.
pub(crate) struct ExpiredWaiting {
    /// Records that waited `max.block.ms`, with their topics.
    pub records: Vec<(Arc<str>, PendingRecord)>,
    /// Topics that no record waits for any more.
    pub emptied_topics: Vec<Arc<str>>,
}

/// All unsent records.
pub(crate) struct Accumulator {
    config: AccumulatorConfig,
    /// Where new batches get their buffers.
    buffers: Arc<BufferPool>,
    topics: BTreeMap<Arc<str>, Vec<PartitionQueue>>,
    pending: BTreeMap<Arc<str>, VecDeque<PendingRecord>>,
    /// Records not yet written to a broker (queued or waiting for metadata).
    unsent_records: usize,
    /// Bytes of `buffer.memory` held by records waiting for metadata.
    pending_bytes: usize,
}

impl AsRecordHeader for crate::record::Header {
    fn as_record_header(&self) -> RecordHeaderRef<'_> {
        RecordHeaderRef::new(&self.key, self.value.as_deref())
    }
}

/// What a record will most likely add to a batch: its timestamp within a few milliseconds
/// of the batch's first (a 1-byte delta) and an offset delta of 64 to 8191 (2 bytes), as in
/// a batch of more than 64 records. Within a byte of the truth; for the partitioner, which
/// must not count records bigger than they are.
pub(crate) fn likely_record_size(record: &Record) -> usize {
    record::record_size(
        0,
        64,
        record.key.as_ref().map(Bytes::len),
        record.value.as_ref().map(Bytes::len),
        &record.headers,
    )
}

/// How long an open batch waits before it may go: `linger.ms`, less what the driver's timer
/// adds. The driver sleeps on a timer of millisecond granularity that fires on the first
/// tick at or after its deadline, and its task then has to be scheduled: measured at 1.6 ms
/// past the deadline on average on a busy 2-core machine (queue time 6.8 ms at linger.ms=5),
/// which every record of the batch pays. Aiming a fifth of the linger early, at most 1 ms,
/// brings the batch out close to `linger.ms`, never later than the timer alone would, and
/// keeps a linger of 1 ms at 0.8 ms rather than sending at once.
fn lingers_until(linger: Duration) -> Duration {
    linger - (linger / 5).min(TIMER_SLACK)
}

/// The granularity of the driver's timer (tokio's timer wheel ticks every millisecond).
const TIMER_SLACK: Duration = Duration::from_millis(1);

/// Encoded size of a record in a batch, for its worst-case position (largest deltas): an
/// upper bound, for limits and memory accounting.
pub(crate) fn record_size(record: &Record) -> usize {
    record::record_size(
        i64::MAX,
        i32::MAX,
        record.key.as_ref().map(Bytes::len),
        record.value.as_ref().map(Bytes::len),
        &record.headers,
    )
}

impl Accumulator {
    pub(crate) fn new(config: AccumulatorConfig, buffers: Arc<BufferPool>) -> Self {
        Self {
            config,
            buffers,
            topics: BTreeMap::new(),
            pending: BTreeMap::new(),
            unsent_records: 0,
            pending_bytes: 0,
        }
    }

    /// Records not yet written to a broker.
    pub(crate) fn unsent_records(&self) -> usize {
        self.unsent_records
    }

    /// Makes sure `topic` has `partition_count` partition queues.
    pub(crate) fn ensure_topic(&mut self, topic: &Arc<str>, partition_count: usize) {
        let queues = self.topics.entry(Arc::clone(topic)).or_default();
        if queues.len() < partition_count {
            queues.resize_with(partition_count, PartitionQueue::default);
        }
    }

    /// Parks a record until its topic's partitions are known. Returns true if it is the
    /// first to wait for this topic.
    pub(crate) fn add_pending(&mut self, topic: &Arc<str>, pending: PendingRecord) -> bool {
        self.unsent_records += 1;
        self.pending_bytes += pending.reserved;
        let queue = self.pending.entry(Arc::clone(topic)).or_default();
        queue.push_back(pending);
        queue.len() == 1
    }

    /// Whether records wait for `topic`'s metadata.
    pub(crate) fn has_pending(&self, topic: &str) -> bool {
        self.pending.contains_key(topic)
    }

    /// Takes every record waiting for `topic`.
    pub(crate) fn take_pending(&mut self, topic: &str) -> VecDeque<PendingRecord> {
        let taken = self.pending.remove(topic).unwrap_or_default();
        self.unsent_records -= taken.len();
        self.pending_bytes -= taken.iter().map(|p| p.reserved).sum::<usize>();
        taken
    }

    /// Bytes of `buffer.memory` held by records waiting for metadata.
    pub(crate) fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Appends a record to `partition` of `topic` (whose queues must exist), taking its
    /// callback, if any, once it is appended.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn append(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        record: &Record,
        timestamp: i64,
        reserved: usize,
        callback: &mut Option<Callback>,
        now: Instant,
    ) -> Result<Appended, Error> {
        let batch_size = self.config.batch_size;
        let max_request_size = self.config.max_request_size;
        let queues = self
            .topics
            .get_mut(topic)
            .ok_or_else(|| Error::InvalidTopic(topic.to_string()))?;
        let slot = usize::try_from(partition)
            .ok()
            .and_then(|p| queues.get_mut(p))
            .ok_or_else(|| Error::InvalidPartition {
                topic: topic.to_string(),
                partition,
                partition_count: 0,
            })?;
        let headers = &record.headers;
        let key = record.key.as_deref();
        let value = record.value.as_deref();
        let mut wake_sender = false;
        // Close the open batch when this record would take it past batch.size.
        if let Some(open) = &slot.open {
            let size = open.builder.next_record_size(
                timestamp,
                key.map(<[u8]>::len),
                value.map(<[u8]>::len),
                headers,
            );
            if open.builder.size_in_bytes() + size > batch_size.max(BATCH_HEADER_SIZE + size)
                || open.builder.size_in_bytes() + size > max_request_size
            {
                close_open(topic, partition, slot);
                wake_sender = true;
            }
        }
        let open = match &mut slot.open {
            Some(open) => open,
            None => {
                wake_sender = true;
                let completion = match &slot.last_completion {
                    Some(previous) => Completion::chain_after(previous),
                    None => Completion::new(Arc::clone(topic)),
                };
                slot.last_completion = Some(Arc::clone(&completion));
                slot.open.insert(OpenBatch {
                    builder: RecordBatchBuilder::with_buffer(self.buffers.take()),
                    guard: BatchGuard::new(completion, partition, 0, 0),
                    created: now,
                    produced: ProduceTimes::starting(now),
                    reserved: 0,
                })
            }
        };
        let before = open.builder.size_in_bytes();
        open.builder.append(timestamp, key, value, headers)?;
        let added = open.builder.size_in_bytes() - before;
        let index = open.guard.count;
        open.guard.count += 1;
        open.produced.record(index, now);
        open.reserved += reserved;
        self.unsent_records += 1;
        // A callback waits in the open batch's guard (no lock of the completion per
        // record); a future needs the completion itself.
        let completion = match callback.take() {
            Some(callback) => {
                open.guard.add_callback(index, timestamp, callback);
                None
            }
            None => Some(Arc::clone(&open.guard.completion)),
        };
        // Full when another record like this one would not fit: it goes out now rather than
        // after linger.ms, and a sticky partitioner moves on.
        let full = open.builder.size_in_bytes() + added > batch_size;
        if full {
            close_open(topic, partition, slot);
            wake_sender = true;
        }
        Ok(Appended {
            completion,
            index,
            wake_sender,
            full,
        })
    }

    /// Offers every partition with something to send to `pick`, which answers with the
    /// index of the batch to take (see [`QueueView`]) and a value to keep with it, or
    /// `None`. At most one batch per partition is taken; a picked open batch is closed.
    /// `flushing` makes open batches sendable before `linger.ms`.
    pub(crate) fn drain<T>(
        &mut self,
        now: Instant,
        flushing: bool,
        mut pick: impl FnMut(&Arc<str>, i32, &QueueView<'_>) -> Option<(usize, T)>,
    ) -> Drained<T> {
        let linger = lingers_until(self.config.linger);
        let delivery_timeout = self.config.delivery_timeout;
        let mut drained = Drained {
            batches: Vec::new(),
            next_ready_at: None,
            next_expiry_at: None,
            empty: self.pending.is_empty(),
        };
        let mut ready_at = |t: Instant| {
            if t > now {
                drained.next_ready_at = Some(drained.next_ready_at.map_or(t, |e| e.min(t)));
            }
        };
        let mut expiry_at: Option<Instant> = None;
        for (topic, queues) in &mut self.topics {
            for (p, slot) in queues.iter_mut().enumerate() {
                let partition = p as i32;
                let open_ready_at = slot.open.as_ref().map(|o| {
                    if flushing {
                        o.created
                    } else {
                        later(o.created, linger)
                    }
                });
                let open_size = match (&slot.open, open_ready_at) {
                    (Some(open), Some(at)) if at <= now && slot.queue.is_empty() => {
                        Some(open.builder.size_in_bytes())
                    }
                    _ => None,
                };
                if !slot.queue.is_empty() || open_size.is_some() {
                    let view = QueueView {
                        queue: &slot.queue,
                        open_size,
                    };
                    if let Some((index, value)) = pick(topic, partition, &view) {
                        if slot.queue.is_empty() {
                            close_open(topic, partition, slot);
                        }
                        if let Some(batch) = slot.queue.remove(index) {
                            self.unsent_records -= batch.record_count() as usize;
                            drained.batches.push((value, batch));
                        }
                    }
                }
                // When this partition next has something to do by time alone.
                if let Some(front) = slot.queue.front() {
                    if let Some(t) = front.send.retry_at {
                        ready_at(t);
                    }
                } else if let Some(at) = open_ready_at {
                    ready_at(at);
                }
                let next_expiry = match slot.queue.front() {
                    Some(front) if front.send.in_doubt => {
                        front.produced.last_expiry(delivery_timeout)
                    }
                    Some(front) => front.produced.next_expiry(now, delivery_timeout),
                    None => slot
                        .open
                        .as_ref()
                        .and_then(|o| o.produced.next_expiry(now, delivery_timeout)),
                };
                if let Some(t) = next_expiry {
                    expiry_at = Some(expiry_at.map_or(t, |e| e.min(t)));
                }
                drained.empty &= slot.open.is_none() && slot.queue.is_empty();
            }
        }
        drained.next_expiry_at = expiry_at;
        drained
    }

    fn queue_of(&mut self, topic: &str, partition: i32) -> Option<&mut PartitionQueue> {
        self.topics
            .get_mut(topic)?
            .get_mut(usize::try_from(partition).ok()?)
    }

    /// Puts a batch back to be sent again, ahead of newer batches, in sequence order.
    pub(crate) fn requeue(&mut self, batch: ProducerBatch) {
        self.unsent_records += batch.record_count() as usize;
        let Some(slot) = self.queue_of(&batch.topic, batch.partition) else {
            // The topic vanished from the accumulator: nothing can send it.
            return;
        };
        let mine = batch.send.sequence.map(|s| s.base);
        let position = slot
            .queue
            .iter()
            .position(|b| match (b.send.sequence.map(|s| s.base), mine) {
                (Some(s), Some(mine)) => s > mine,
                (None, _) => true,
                (Some(_), None) => b.send.attempts == 0,
            })
            .unwrap_or(slot.queue.len());
        slot.queue.insert(position, batch);
    }

    /// Puts the parts of a split batch back at the very front, in order.
    pub(crate) fn requeue_front(&mut self, parts: Vec<ProducerBatch>) {
        for batch in parts.into_iter().rev() {
            self.unsent_records += batch.record_count() as usize;
            if let Some(slot) = self.queue_of(&batch.topic, batch.partition) {
                slot.queue.push_front(batch);
            }
        }
    }

    /// Takes out the records whose `delivery.timeout.ms`, counted from each one's own
    /// `produce`, is over. Expired records at the front of a batch are split off, and the
    /// rest stays queued; a batch whose outcome is in doubt is never split (its records
    /// may be written together) and expires once its last record does.
    pub(crate) fn expire(&mut self, now: Instant) -> Vec<ProducerBatch> {
        let timeout = self.config.delivery_timeout;
        let mut expired = Vec::new();
        for (topic, queues) in &mut self.topics {
            for (p, slot) in queues.iter_mut().enumerate() {
                if slot
                    .open
                    .as_ref()
                    .is_some_and(|o| o.produced.expired(now, timeout, o.guard.count) > 0)
                {
                    close_open(topic, p as i32, slot);
                }
                // Oldest first: once a batch has nothing expired, the later ones have not.
                while let Some(front) = slot.queue.pop_front() {
                    let count = front.record_count();
                    let over = if front.send.in_doubt {
                        if front
                            .produced
                            .last_expiry(timeout)
                            .is_some_and(|t| now >= t)
                        {
                            count
                        } else {
                            0
                        }
                    } else {
                        front.produced.expired(now, timeout, count)
                    };
                    if over == 0 {
                        slot.queue.push_front(front);
                        break;
                    }
                    if over >= count {
                        self.unsent_records -= count as usize;
                        expired.push(front);
                        continue;
                    }
                    let retry_at = front.send.retry_at;
                    match front.split_at(over, retry_at) {
                        Split::Parts(head, tail) => {
                            self.unsent_records -= over as usize;
                            expired.push(head);
                            slot.queue.push_front(tail);
                        }
                        // Unreadable (cannot happen to our own batches): it goes whole,
                        // when its last record expires.
                        Split::Whole(front) => slot.queue.push_front(front),
                    }
                    break;
                }
            }
        }
        expired
    }

    /// Takes every batch (open ones closed) of the partitions `doomed` picks, oldest first:
    /// they can never be sent.
    pub(crate) fn take_partitions(
        &mut self,
        mut doomed: impl FnMut(&str, i32) -> bool,
    ) -> Vec<ProducerBatch> {
        let mut taken = Vec::new();
        for (topic, queues) in &mut self.topics {
            for (p, slot) in queues.iter_mut().enumerate() {
                if (slot.open.is_some() || !slot.queue.is_empty()) && doomed(topic, p as i32) {
                    close_open(topic, p as i32, slot);
                    for batch in slot.queue.drain(..) {
                        self.unsent_records -= batch.record_count() as usize;
                        taken.push(batch);
                    }
                }
            }
        }
        taken
    }

    /// Takes pending records of topics that waited longer than `max_block`, and says which
    /// of those topics have no records waiting any more.
    pub(crate) fn expire_pending(&mut self, now: Instant, max_block: Duration) -> ExpiredWaiting {
        let mut out = Vec::new();
        for (topic, queue) in &mut self.pending {
            while let Some(front) = queue.front() {
                if now < later(front.created_at, max_block) {
                    break;
                }
                if let Some(p) = queue.pop_front() {
                    out.push((Arc::clone(topic), p));
                }
            }
        }
        let mut emptied = Vec::new();
        self.pending.retain(|topic, q| {
            if q.is_empty() {
                emptied.push(Arc::clone(topic));
            }
            !q.is_empty()
        });
        self.unsent_records -= out.len();
        self.pending_bytes -= out.iter().map(|(_, p)| p.reserved).sum::<usize>();
        ExpiredWaiting {
            records: out,
            emptied_topics: emptied,
        }
    }

    /// Takes what never left: every batch not sent before (open ones closed), oldest first
    /// per partition, and every record waiting for metadata. Batches sent before (waiting to
    /// be retried) stay: the broker may have written them. For an aborted transaction.
    pub(crate) fn take_never_sent(&mut self) -> (Vec<ProducerBatch>, Vec<PendingRecord>) {
        let mut batches = Vec::new();
        for (topic, queues) in &mut self.topics {
            for (p, slot) in queues.iter_mut().enumerate() {
                close_open(topic, p as i32, slot);
                // Sent batches come first: sequence numbers are given in queue order.
                let sent_before = slot
                    .queue
                    .iter()
                    .take_while(|b| b.send.sequence.is_some() || b.send.attempts > 0)
                    .count();
                for batch in slot.queue.drain(sent_before..) {
                    self.unsent_records -= batch.record_count() as usize;
                    batches.push(batch);
                }
            }
        }
        let waiting: Vec<PendingRecord> = std::mem::take(&mut self.pending)
            .into_values()
            .flatten()
            .collect();
        self.unsent_records -= waiting.len();
        self.pending_bytes = 0;
        (batches, waiting)
    }

    /// Takes everything: every batch (open ones closed), oldest first per partition, and
    /// every record waiting for metadata. For a producer that is going away.
    pub(crate) fn take_all(&mut self) -> (Vec<ProducerBatch>, Vec<PendingRecord>) {
        let mut batches = Vec::new();
        for (topic, queues) in &mut self.topics {
            for (p, slot) in queues.iter_mut().enumerate() {
                close_open(topic, p as i32, slot);
                batches.extend(slot.queue.drain(..));
            }
        }
        let waiting = std::mem::take(&mut self.pending)
            .into_values()
            .flatten()
            .collect();
        self.unsent_records = 0;
        self.pending_bytes = 0;
        (batches, waiting)
    }

    /// When the oldest record waiting for metadata gives up (`max.block.ms`).
    pub(crate) fn next_pending_expiry(&self, max_block: Duration) -> Option<Instant> {
        self.pending
            .values()
            .filter_map(|q| q.front())
            .map(|p| later(p.created_at, max_block))
            .min()
    }
}

fn close_open(topic: &Arc<str>, partition: i32, slot: &mut PartitionQueue) {
    if let Some(mut open) = slot.open.take() {
        open.guard.close();
        slot.queue.push_back(ProducerBatch {
            topic: Arc::clone(topic),
            partition,
            guard: open.guard,
            builder: Some(open.builder),
            data: None,
            produced: open.produced,
            reserved: open.reserved,
            send: SendState::default(),
        });
    }
}
