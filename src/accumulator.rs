//! The accumulator, i.e. *unsent*: per-partition batches that records are encoded into at
//! `produce` time, and the queue of closed batches waiting to be sent (new ones and retries,
//! in order).
//!
//! A record is appended straight into its partition's open batch buffer, so sending only
//! compresses and patches a header. A batch closes when the next record would take it past
//! `batch.size`; it becomes *ready* when closed, or when `linger.ms` has passed since it was
//! opened, or while a flush or close is in progress.
//!
//! Records of a topic whose partitions are not known yet wait in a per-topic queue until
//! metadata arrives (or `max.block.ms` passes).
//!
//! Decisions take `now` as an argument; nothing here does IO.
//!
//! # References
//! - Java `RecordAccumulator` (ready / drain), KIP-98 (sequence numbers per partition)

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kiel_protocol::record::{self, AsRecordHeader, RecordBatchBuilder, RecordHeaderRef};

use crate::buffer_pool::BufferPool;
use crate::delivery::{BatchGuard, Callback, Completion};
use crate::error::Error;
use crate::record::Record;

/// Bytes of a batch header (RecordBatch v2).
pub(crate) const BATCH_HEADER_SIZE: usize = 61;

/// A record that waits for its topic's metadata.
pub(crate) struct PendingRecord {
    pub record: Record,
    pub timestamp: i64,
    pub completion: Arc<Completion>,
    pub reserved: usize,
    pub callback: Option<Callback>,
    pub created_at: Instant,
}

/// A batch that is closed (or being drained): records, their outcome slot and retry state.
pub(crate) struct ProducerBatch {
    pub topic: Arc<str>,
    pub partition: i32,
    /// The records, unfinished until the batch is first drained.
    pub builder: Option<RecordBatchBuilder>,
    /// The finished bytes; retries resend exactly these.
    pub data: Option<Bytes>,
    pub guard: BatchGuard,
    pub created: Instant,
    pub attempts: u32,
    pub retry_at: Option<Instant>,
    /// Base sequence, once assigned (idempotence).
    pub sequence: Option<i32>,
    /// Bytes of `buffer.memory` held by this batch.
    pub reserved: usize,
    pub last_error: Option<Error>,
    /// The last attempt's outcome is unknown (connection lost, timed out): the broker may
    /// have written it. Such a batch must be resolved before sequences are reset.
    pub in_doubt: bool,
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
}

struct OpenBatch {
    builder: RecordBatchBuilder,
    completion: Arc<Completion>,
    count: u32,
    created: Instant,
    reserved: usize,
}

/// One partition's unsent state.
#[derive(Default)]
pub(crate) struct PartitionQueue {
    open: Option<OpenBatch>,
    /// Closed batches, oldest first; retries go back to the front in sequence order.
    pub queue: VecDeque<ProducerBatch>,
    /// Batches of this partition in flight.
    pub in_flight: usize,
    /// The broker the in-flight batches went to. New batches go only there until they are
    /// answered, so a leader change cannot let a later batch overtake an earlier one.
    pub in_flight_leader: Option<i32>,
    /// Next sequence number to assign (idempotence).
    pub next_sequence: i32,
    /// Sequence after the last acknowledged batch; `None` before the first.
    pub acked_sequence: Option<i32>,
}

/// Sizes and times the accumulator needs.
#[derive(Debug, Clone)]
pub(crate) struct AccumulatorConfig {
    pub batch_size: usize,
    pub linger: Duration,
    pub max_request_size: usize,
}

/// Outcome of [`Accumulator::append`].
pub(crate) struct Appended {
    pub completion: Arc<Completion>,
    pub index: u32,
    /// A batch became ready to send (it filled up, or this is a new partition batch).
    pub wake_sender: bool,
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

/// Encoded size of a record in a batch, for its worst-case position (largest deltas).
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

    /// Whether nothing at all is queued (open, closed or pending).
    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
            && self
                .topics
                .values()
                .flatten()
                .all(|p| p.open.is_none() && p.queue.is_empty())
    }

    /// Makes sure `topic` has `partition_count` partition queues.
    pub(crate) fn ensure_topic(&mut self, topic: &Arc<str>, partition_count: usize) {
        let queues = self.topics.entry(Arc::clone(topic)).or_default();
        if queues.len() < partition_count {
            queues.resize_with(partition_count, PartitionQueue::default);
        }
    }

    /// Parks a record until its topic's partitions are known.
    pub(crate) fn add_pending(&mut self, topic: &Arc<str>, pending: PendingRecord) {
        self.unsent_records += 1;
        self.pending_bytes += pending.reserved;
        self.pending
            .entry(Arc::clone(topic))
            .or_default()
            .push_back(pending);
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

    /// Topics with records waiting for metadata.
    pub(crate) fn pending_topics(&self) -> Vec<Arc<str>> {
        self.pending.keys().cloned().collect()
    }

    /// Appends a record to `partition` of `topic` (whose queues must exist).
    pub(crate) fn append(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        record: &Record,
        timestamp: i64,
        reserved: usize,
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
                slot.open.insert(OpenBatch {
                    builder: RecordBatchBuilder::with_buffer(self.buffers.take()),
                    completion: Completion::new(Arc::clone(topic)),
                    count: 0,
                    created: now,
                    reserved: 0,
                })
            }
        };
        open.builder.append(timestamp, key, value, headers)?;
        let index = open.count;
        open.count += 1;
        open.reserved += reserved;
        self.unsent_records += 1;
        let completion = Arc::clone(&open.completion);
        if open.builder.size_in_bytes() >= batch_size {
            close_open(topic, partition, slot);
            wake_sender = true;
        }
        Ok(Appended {
            completion,
            index,
            wake_sender,
        })
    }

    /// The earliest time at which something queued becomes sendable (a linger or a retry
    /// backoff expiring), given `flushing` (linger ignored).
    pub(crate) fn next_ready_at(&self, flushing: bool) -> Option<Instant> {
        let mut earliest: Option<Instant> = None;
        let mut consider = |t: Instant| {
            earliest = Some(earliest.map_or(t, |e| e.min(t)));
        };
        for queue in self.topics.values().flatten() {
            if let Some(front) = queue.queue.front() {
                consider(front.retry_at.unwrap_or(front.created));
            } else if let Some(open) = &queue.open {
                consider(if flushing {
                    open.created
                } else {
                    open.created + self.config.linger
                });
            }
        }
        earliest
    }

    /// Takes sendable batches, at most one per partition, for the partitions `leader_of`
    /// maps to a broker that `take_for` still accepts. `take_for(broker, size)` returns false
    /// once that broker's request is full.
    ///
    /// With `first_batch_alone` (idempotence), a partition whose first batch is not yet
    /// acknowledged has at most one batch in flight: a broker with no state for the producer
    /// accepts any sequence, so a later batch must not arrive before the first one lands.
    ///
    /// With `in_doubt_only` (an epoch bump is waiting), only batches whose last attempt had
    /// an unknown outcome are sent, one per partition at a time, so they resolve under the
    /// epoch and sequence they were written with.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn drain(
        &mut self,
        now: Instant,
        flushing: bool,
        max_in_flight_per_partition: usize,
        first_batch_alone: bool,
        in_doubt_only: bool,
        mut leader_of: impl FnMut(&str, i32) -> Option<i32>,
        mut take_for: impl FnMut(i32, usize) -> bool,
    ) -> Vec<(i32, ProducerBatch)> {
        let linger = self.config.linger;
        let mut out = Vec::new();
        for (topic, queues) in &mut self.topics {
            for (p, slot) in queues.iter_mut().enumerate() {
                let partition = p as i32;
                let limit = if first_batch_alone && slot.acked_sequence.is_none() {
                    1
                } else {
                    max_in_flight_per_partition
                };
                if slot.in_flight >= limit {
                    continue;
                }
                if in_doubt_only {
                    if slot.in_flight > 0 {
                        continue;
                    }
                    let Some(position) = slot.queue.iter().position(|b| b.in_doubt) else {
                        continue;
                    };
                    let due = slot.queue[position].retry_at.is_none_or(|t| t <= now);
                    let Some(leader) = leader_of(topic, partition) else {
                        continue;
                    };
                    if !due || !take_for(leader, slot.queue[position].size()) {
                        continue;
                    }
                    if let Some(batch) = slot.queue.remove(position) {
                        slot.in_flight += 1;
                        slot.in_flight_leader = Some(leader);
                        self.unsent_records -= batch.record_count() as usize;
                        out.push((leader, batch));
                    }
                    continue;
                }
                if slot.queue.is_empty() {
                    let lingered = slot
                        .open
                        .as_ref()
                        .is_some_and(|o| flushing || now >= o.created + linger);
                    if !lingered {
                        continue;
                    }
                    close_open(topic, partition, slot);
                }
                let Some(front) = slot.queue.front() else {
                    continue;
                };
                if front.retry_at.is_some_and(|t| t > now) {
                    continue;
                }
                // A retry goes alone, so it cannot overtake or be overtaken.
                if front.attempts > 0 && slot.in_flight > 0 {
                    continue;
                }
                let Some(leader) = leader_of(topic, partition) else {
                    continue;
                };
                if slot.in_flight > 0 && slot.in_flight_leader != Some(leader) {
                    continue;
                }
                if !take_for(leader, front.size()) {
                    continue;
                }
                let Some(batch) = slot.queue.pop_front() else {
                    continue;
                };
                slot.in_flight += 1;
                slot.in_flight_leader = Some(leader);
                self.unsent_records -= batch.record_count() as usize;
                out.push((leader, batch));
            }
        }
        out
    }

    /// The partition state of `topic`/`partition`.
    pub(crate) fn partition_mut(
        &mut self,
        topic: &str,
        partition: i32,
    ) -> Option<&mut PartitionQueue> {
        self.topics
            .get_mut(topic)?
            .get_mut(usize::try_from(partition).ok()?)
    }

    /// A batch's request finished (answered or failed): it is no longer in flight.
    pub(crate) fn in_flight_done(&mut self, topic: &str, partition: i32) {
        if let Some(slot) = self.partition_mut(topic, partition) {
            slot.in_flight = slot.in_flight.saturating_sub(1);
        }
    }

    /// Puts a batch back to be sent again, ahead of newer batches, in sequence order.
    pub(crate) fn requeue(&mut self, batch: ProducerBatch) {
        self.unsent_records += batch.record_count() as usize;
        let Some(slot) = self.partition_mut(&batch.topic, batch.partition) else {
            // The topic vanished from the accumulator: nothing can send it.
            return;
        };
        let position = slot
            .queue
            .iter()
            .position(|b| match (b.sequence, batch.sequence) {
                (Some(s), Some(mine)) => s > mine,
                (None, _) => true,
                (Some(_), None) => b.attempts == 0,
            })
            .unwrap_or(slot.queue.len());
        slot.queue.insert(position, batch);
    }

    /// Puts a split batch's halves back at the very front (call for the second half first).
    pub(crate) fn requeue_front(&mut self, batch: ProducerBatch) {
        self.unsent_records += batch.record_count() as usize;
        if let Some(slot) = self.partition_mut(&batch.topic, batch.partition) {
            slot.queue.push_front(batch);
        }
    }

    /// Whether any queued batch's last attempt had an unknown outcome.
    pub(crate) fn has_in_doubt(&self) -> bool {
        self.topics
            .values()
            .flatten()
            .any(|p| p.queue.iter().any(|b| b.in_doubt))
    }

    /// Restarts every partition's sequence numbers at 0 under a new producer id or epoch:
    /// queued batches get new sequences in queue order (finished ones are patched and their
    /// CRC recomputed), and the next new batch continues from there. Call only when nothing
    /// is in flight.
    pub(crate) fn resequence(&mut self, producer_id: i64, producer_epoch: i16) {
        for slot in self.topics.values_mut().flatten() {
            let mut next = 0i32;
            for batch in &mut slot.queue {
                let sequence = next;
                next = record::increment_sequence(next, batch.record_count() as i32);
                batch.sequence = Some(sequence);
                batch.in_doubt = false;
                if let Some(data) = batch.data.take() {
                    let mut bytes = data.to_vec();
                    match record::patch_producer_state(
                        &mut bytes,
                        producer_id,
                        producer_epoch,
                        sequence,
                    ) {
                        Ok(()) => batch.data = Some(Bytes::from(bytes)),
                        // Our own batch always parses; keep the old bytes if it somehow does not.
                        Err(_) => batch.data = Some(data),
                    }
                }
            }
            slot.next_sequence = next;
            slot.acked_sequence = None;
        }
    }

    /// The sequence after the last acknowledged batch of a partition.
    pub(crate) fn acked_sequence(&mut self, topic: &str, partition: i32) -> Option<i32> {
        self.partition_mut(topic, partition)?.acked_sequence
    }

    /// Records the sequence after the last acknowledged batch of a partition.
    pub(crate) fn set_acked_sequence(&mut self, topic: &str, partition: i32, next: i32) {
        if let Some(slot) = self.partition_mut(topic, partition) {
            slot.acked_sequence = Some(next);
        }
    }

    /// Removes every queued batch (open and closed) whose delivery deadline passed.
    pub(crate) fn expire(
        &mut self,
        now: Instant,
        delivery_timeout: Duration,
    ) -> Vec<ProducerBatch> {
        let mut expired = Vec::new();
        for (topic, queues) in &mut self.topics {
            for (p, slot) in queues.iter_mut().enumerate() {
                if slot
                    .open
                    .as_ref()
                    .is_some_and(|o| now >= o.created + delivery_timeout)
                {
                    close_open(topic, p as i32, slot);
                }
                // Only never-sent batches and retries waiting their turn expire here; order
                // is kept because the queue is oldest first.
                while slot
                    .queue
                    .front()
                    .is_some_and(|b| now >= b.created + delivery_timeout)
                {
                    if let Some(batch) = slot.queue.pop_front() {
                        self.unsent_records -= batch.record_count() as usize;
                        expired.push(batch);
                    }
                }
            }
        }
        expired
    }

    /// Takes pending records of topics that waited longer than `max_block`.
    pub(crate) fn expire_pending(
        &mut self,
        now: Instant,
        max_block: Duration,
    ) -> Vec<(Arc<str>, PendingRecord)> {
        let mut out = Vec::new();
        for (topic, queue) in &mut self.pending {
            while let Some(front) = queue.front() {
                if now < front.created_at + max_block {
                    break;
                }
                if let Some(p) = queue.pop_front() {
                    out.push((Arc::clone(topic), p));
                }
            }
        }
        self.pending.retain(|_, q| !q.is_empty());
        self.unsent_records -= out.len();
        self.pending_bytes -= out.iter().map(|(_, p)| p.reserved).sum::<usize>();
        out
    }
}

fn close_open(topic: &Arc<str>, partition: i32, slot: &mut PartitionQueue) {
    if let Some(open) = slot.open.take() {
        slot.queue.push_back(ProducerBatch {
            topic: Arc::clone(topic),
            partition,
            guard: BatchGuard::new(open.completion, partition, 0, open.count),
            builder: Some(open.builder),
            data: None,
            created: open.created,
            attempts: 0,
            retry_at: None,
            sequence: None,
            reserved: open.reserved,
            last_error: None,
            in_doubt: false,
        });
    }
}
