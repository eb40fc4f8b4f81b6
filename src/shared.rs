//! State shared by the callers of `produce` and the driver task: the accumulator, the
//! partition counts `produce` needs, buffer-memory accounting, and the flush / close flags.
//!
//! `produce` only takes the accumulator's lock for the append itself; everything it needs to
//! decide the partition (the topic's partitions) comes from a read-mostly map. A
//! transactional producer's `produce` also holds the transaction manager's lock (taken
//! before the accumulator's, as the sender takes them), so no record slips in while a
//! commit or abort begins.
//!
//! # References
//! - Java `RecordAccumulator` / `BufferPool` (buffer.memory as backpressure)

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::accumulator::{
    likely_record_size, record_size, Accumulator, AccumulatorConfig, PendingRecord,
    BATCH_HEADER_SIZE,
};
use crate::buffer_pool::BufferPool;
use crate::cluster::TopicInfo;
use crate::config::ProducerConfig;
use crate::delivery::{
    Acked, Callback, Completion, DeliveryFuture, RangeOutcome, WaitingOutcome, CALLBACK_SLOT_SIZE,
};
use crate::error::Error;
use crate::metrics::{error_name, ProducerMetrics, SenderMetrics};
use crate::partitioner::{Partitioner, TopicHashMap, TopicPartitions};
use crate::record::{Record, RecordMetadata, TimestampType};
use crate::transaction::{TransactionConfig, TransactionManager};
use crate::wall_clock::WallClock;

/// Why the sender should (or need no longer) fetch a topic's metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopicInterest {
    /// A first record waits for it.
    RecordsWaiting,
    /// `partition_count` asks for it.
    Asked,
    /// `partition_count` gave up on it.
    GaveUp,
}

/// The producer's shared state.
pub(crate) struct Shared {
    pub config: Arc<ProducerConfig>,
    accumulator: Mutex<Accumulator>,
    /// Hashed with the partitioner's `TopicHasher`: topic names are the application's,
    /// and SipHash showed in profiles of 10 B records.
    topics: RwLock<TopicHashMap<Arc<str>, Arc<TopicInfo>>>,
    partitioner: Arc<dyn Partitioner>,
    memory_used: AtomicUsize,
    /// Topics whose metadata is wanted (or no longer), for the sender.
    topic_interest: Mutex<Vec<(Arc<str>, TopicInterest)>>,
    /// Notified whenever partition counts are published.
    pub topics_published: Notify,
    /// Batch buffers for reuse (shared with the accumulator).
    pub buffers: Arc<BufferPool>,
    /// Wakes `send` callers waiting for buffer room.
    pub memory_freed: Notify,
    /// Wakes the driver.
    pub wake_driver: Notify,
    /// Records accepted that have no outcome yet.
    outstanding: AtomicUsize,
    /// Wakes `flush` callers.
    pub progress: Notify,
    flushes: AtomicUsize,
    closing: AtomicBool,
    /// Set by the driver when it has finished.
    pub closed: AtomicBool,
    /// The transaction manager of a transactional producer (`transactional.id`). Lock it
    /// before the accumulator, never after.
    pub transaction: Option<Mutex<TransactionManager>>,
    /// What the sender counted (taken once per batch, request, answer or connection
    /// event, and by a snapshot; never with another lock held after it).
    metrics: Mutex<SenderMetrics>,
    /// Times a caller waited for buffer room, and for how long in all (ns).
    buffer_waits: AtomicU64,
    buffer_wait_ns: AtomicU64,
    /// Record timestamps from the `Instant` `produce` reads anyway.
    wall_clock: WallClock,
}

impl Shared {
    pub(crate) fn new(config: Arc<ProducerConfig>, partitioner: Arc<dyn Partitioner>) -> Arc<Self> {
        let buffers = Arc::new(BufferPool::new(
            config.batch_size.min(config.max_request_size),
            config.buffer_memory,
        ));
        let accumulator = Accumulator::new(
            AccumulatorConfig {
                batch_size: config.batch_size,
                linger: config.linger,
                max_request_size: config.max_request_size,
                delivery_timeout: config.delivery_timeout,
            },
            Arc::clone(&buffers),
        );
        Arc::new(Self {
            buffers,
            topic_interest: Mutex::new(Vec::new()),
            topics_published: Notify::new(),
            accumulator: Mutex::new(accumulator),
            topics: RwLock::new(TopicHashMap::default()),
            partitioner,
            memory_used: AtomicUsize::new(0),
            memory_freed: Notify::new(),
            wake_driver: Notify::new(),
            outstanding: AtomicUsize::new(0),
            progress: Notify::new(),
            flushes: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            metrics: Mutex::new(SenderMetrics::default()),
            buffer_waits: AtomicU64::new(0),
            buffer_wait_ns: AtomicU64::new(0),
            wall_clock: WallClock::new(),
            transaction: config.transactional_id.as_ref().map(|id| {
                Mutex::new(TransactionManager::new(TransactionConfig {
                    transactional_id: id.as_str().into(),
                    timeout: config.transaction_timeout,
                    retry_backoff: config.retry_backoff,
                }))
            }),
            config,
        })
    }

    /// The transaction manager, locked; `None` for a producer without `transactional.id`.
    pub(crate) fn lock_transaction(&self) -> Option<MutexGuard<'_, TransactionManager>> {
        self.transaction
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn lock_accumulator(&self) -> MutexGuard<'_, Accumulator> {
        self.accumulator.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The sender's counts, locked.
    pub(crate) fn lock_metrics(&self) -> MutexGuard<'_, SenderMetrics> {
        self.metrics.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A caller waited `waited` for buffer room.
    pub(crate) fn count_buffer_wait(&self, waited: Duration) {
        self.buffer_waits.fetch_add(1, Ordering::Relaxed);
        let ns = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        self.buffer_wait_ns.fetch_add(ns, Ordering::Relaxed);
    }

    /// The snapshot [`crate::Producer::metrics`] returns.
    pub(crate) fn metrics(&self) -> ProducerMetrics {
        let metrics = self.lock_metrics();
        let mut m = metrics.snapshot();
        // Read under the lock records finish under: each record counts once.
        m.records_outstanding = self.outstanding() as u64;
        drop(metrics);
        m.client_id = self.config.client_id.clone();
        m.records_sent = m.records_acknowledged + m.records_failed + m.records_outstanding;
        m.buffer_used_bytes = self.memory_used.load(Ordering::Acquire) as u64;
        m.buffer_total_bytes = self.config.buffer_memory as u64;
        m.buffer_waits = self.buffer_waits.load(Ordering::Relaxed);
        m.buffer_wait_time = Duration::from_nanos(self.buffer_wait_ns.load(Ordering::Relaxed));
        m
    }

    /// Records accepted that have no outcome yet.
    pub(crate) fn outstanding(&self) -> usize {
        self.outstanding.load(Ordering::Acquire)
    }

    /// Whether linger should be ignored (a flush or close is in progress).
    pub(crate) fn flushing(&self) -> bool {
        self.flushes.load(Ordering::Acquire) > 0 || self.closing.load(Ordering::Acquire)
    }

    pub(crate) fn begin_flush(&self) {
        self.flushes.fetch_add(1, Ordering::AcqRel);
        self.wake_driver.notify_one();
    }

    pub(crate) fn end_flush(&self) {
        self.flushes.fetch_sub(1, Ordering::AcqRel);
    }

    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    pub(crate) fn begin_close(&self) {
        self.closing.store(true, Ordering::Release);
        self.wake_driver.notify_one();
    }

    /// The producer's task has ended: nothing more will be sent.
    pub(crate) fn finished(&self) {
        // The last export carries every record's outcome (the periodic one stops now).
        #[cfg(feature = "metrics")]
        if !self.config.metrics_export_interval.is_zero() {
            self.metrics().export();
        }
        self.closed.store(true, Ordering::Release);
        self.progress.notify_waiters();
    }

    /// `count` records got their outcome (failed with `error`, if given); `reserved` bytes
    /// of buffer are free again. Counted in the metrics under their lock, with the
    /// outstanding count, so a snapshot sees each record once; per topic too when they
    /// were a batch of `topic`.
    pub(crate) fn records_finished(
        &self,
        count: usize,
        reserved: usize,
        error: Option<&Error>,
        topic: Option<&Arc<str>>,
    ) {
        {
            let mut metrics = self.lock_metrics();
            let n = count as u64;
            if let Some(topic) = topic {
                let counts = metrics.topic(topic);
                match error {
                    None => counts.records_acknowledged += n,
                    Some(_) => counts.records_failed += n,
                }
            }
            match error {
                None => metrics.records_acknowledged += n,
                Some(e) => {
                    metrics.records_failed += n;
                    *metrics
                        .records_failed_by_error
                        .entry(error_name(e))
                        .or_default() += n;
                }
            }
            // Memory first: once nothing is outstanding (what `flush` waits for), the
            // buffer of every finished record is free.
            self.memory_used.fetch_sub(reserved, Ordering::AcqRel);
            self.outstanding.fetch_sub(count, Ordering::AcqRel);
        }
        self.memory_freed.notify_waiters();
        self.progress.notify_waiters();
    }

    /// Bytes of `buffer.memory` in use.
    #[cfg(test)]
    pub(crate) fn memory_used(&self) -> usize {
        self.memory_used.load(Ordering::Acquire)
    }

    /// Bytes records waiting for metadata may hold (`buffer.memory.metadata.wait.share`).
    ///
    /// Waiting records are the caller's own allocations, interleaved with their small
    /// bookkeeping; the batches they are copied into later are allocated elsewhere, while
    /// the holes they leave are too fragmented to be reused. A full buffer of them at
    /// start-up cost a second buffer's worth of resident memory (measured: peak RSS 66 MB
    /// for a 32 MiB buffer and 35 MB of live heap, 1 KiB records), hence the share.
    pub(crate) fn metadata_wait_bytes(&self) -> usize {
        (self.config.buffer_memory as f64 * self.config.metadata_wait_share) as usize
    }

    /// Takes `bytes` of `buffer.memory`, if that many are free.
    fn reserve(&self, bytes: usize) -> bool {
        let used = self.memory_used.fetch_add(bytes, Ordering::AcqRel);
        if used + bytes > self.config.buffer_memory {
            self.memory_used.fetch_sub(bytes, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Returns `bytes` of `buffer.memory` without finishing a record.
    fn release(&self, bytes: usize) {
        self.memory_used.fetch_sub(bytes, Ordering::AcqRel);
        self.memory_freed.notify_waiters();
    }

    /// Makes a topic's partitions known to `produce`.
    pub(crate) fn publish_topic(&self, topic: &Arc<str>, info: Arc<TopicInfo>) {
        self.lock_accumulator()
            .ensure_topic(topic, info.partitions.len());
        self.topics
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(Arc::clone(topic), info);
        self.topics_published.notify_waiters();
    }

    /// The partition count of `topic`, if its metadata is known.
    pub(crate) fn partition_count(&self, topic: &str) -> Option<i32> {
        self.topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(topic)
            .map(|info| info.partition_count())
    }

    /// Tells the sender about a topic whose metadata is wanted, or no longer.
    pub(crate) fn topic_interest(&self, topic: &str, interest: TopicInterest) {
        self.topic_interest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((Arc::from(topic), interest));
        self.wake_driver.notify_one();
    }

    /// What [`Self::topic_interest`] collected since the last call.
    pub(crate) fn take_topic_interest(&self) -> Vec<(Arc<str>, TopicInterest)> {
        std::mem::take(
            &mut *self
                .topic_interest
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        )
    }

    /// Queues a record. Returns at once; the record's outcome comes through the returned
    /// future (and `callback`, if given).
    pub(crate) fn produce(
        &self,
        topic: &str,
        record: Record,
        callback: Option<Callback>,
    ) -> Result<Option<DeliveryFuture>, Error> {
        self.produce_at(topic, record, callback, Instant::now())
    }

    /// [`Self::produce`] at a given time (virtual time in tests).
    pub(crate) fn produce_at(
        &self,
        topic: &str,
        #[cfg_attr(not(feature = "opentelemetry"), allow(unused_mut))] mut record: Record,
        callback: Option<Callback>,
        now: Instant,
    ) -> Result<Option<DeliveryFuture>, Error> {
        if self.is_closing() {
            return Err(Error::Closed);
        }
        #[cfg(feature = "opentelemetry")]
        if self.config.propagate_trace_context {
            crate::trace_context::inject_current(&mut record.headers);
        }
        // Held until the record is counted in `outstanding` (the end of this function): the
        // sender counts outstanding records under this lock before it lets EndTxn go.
        let transaction = self.lock_transaction();
        if let Some(manager) = &transaction {
            manager.check_produce()?;
        }
        if !crate::topic::is_valid(topic) {
            return Err(Error::InvalidTopic(topic.to_owned()));
        }
        if let Some(timestamp) = record.timestamp.filter(|t| *t < 0) {
            return Err(Error::InvalidTimestamp(timestamp));
        }
        let size = record_size(&record);
        if size + BATCH_HEADER_SIZE > self.config.max_request_size {
            return Err(Error::RecordTooLarge {
                size: size + BATCH_HEADER_SIZE,
                max: self.config.max_request_size,
                setting: "max.request.size",
            });
        }
        // What the record holds while it is buffered: its bytes in a batch, its callback,
        // and, if it has to wait for metadata, its waiting entry.
        let charge = size + callback.as_ref().map_or(0, callback_cost);
        if charge + WAITING_COST > self.config.buffer_memory {
            return Err(Error::RecordTooLarge {
                size: charge + WAITING_COST,
                max: self.config.buffer_memory,
                setting: "buffer.memory",
            });
        }
        if !self.reserve(charge) {
            return Err(Error::QueueFull {
                buffer_memory: self.config.buffer_memory,
            });
        }
        let timestamp = record
            .timestamp
            .unwrap_or_else(|| self.wall_clock.millis_at(now));
        // The topics are read-locked until the record is placed (no reference count is
        // touched per record). Lock order: topics, then the accumulator; `publish_topic`
        // never holds both.
        let topics = self.topics.read().unwrap_or_else(|p| p.into_inner());
        let info = topics.get_key_value(topic);
        let mut acc = self.lock_accumulator();
        let result = match info {
            // Records that waited for this topic's metadata go first: while any wait, new
            // ones queue behind them.
            Some((topic, info)) if !acc.has_pending(topic) => {
                let mut callback = callback;
                self.append(
                    &mut acc,
                    topic,
                    info,
                    &record,
                    timestamp,
                    charge,
                    &mut callback,
                    now,
                )
            }
            // Waiting records may take only a share of the buffer (but one always fits).
            _ if acc.pending_bytes() > 0
                && acc.pending_bytes() + charge + WAITING_COST > self.metadata_wait_bytes() =>
            {
                Err(Error::MetadataWaitFull {
                    topic: topic.to_owned(),
                    share_bytes: self.metadata_wait_bytes(),
                })
            }
            _ if !self.reserve(WAITING_COST) => Err(Error::QueueFull {
                buffer_memory: self.config.buffer_memory,
            }),
            _ => {
                let topic: Arc<str> = Arc::from(topic);
                let completion = Completion::new(Arc::clone(&topic));
                // A record with a callback reports through it; only others get a future.
                let future = callback
                    .is_none()
                    .then(|| DeliveryFuture::new(Arc::clone(&completion), 0, timestamp));
                let first = acc.add_pending(
                    &topic,
                    PendingRecord {
                        record,
                        timestamp,
                        outcome: WaitingOutcome::new(completion, callback),
                        reserved: charge + WAITING_COST,
                        created_at: now,
                    },
                );
                if first {
                    self.topic_interest(&topic, TopicInterest::RecordsWaiting);
                } else {
                    self.wake_driver.notify_one();
                }
                Ok(future)
            }
        };
        drop(acc);
        drop(topics);
        match &result {
            Ok(_) => {
                self.outstanding.fetch_add(1, Ordering::AcqRel);
            }
            Err(_) => {
                self.memory_used.fetch_sub(charge, Ordering::AcqRel);
            }
        }
        result
    }

    fn choose_partition(
        &self,
        topic: &Arc<str>,
        info: &TopicInfo,
        record: &Record,
    ) -> Result<i32, Error> {
        let count = info.partition_count();
        match record.partition {
            Some(p) if (0..count).contains(&p) => Ok(p),
            Some(p) => Err(Error::InvalidPartition {
                topic: topic.to_string(),
                partition: p,
                partition_count: count,
            }),
            None => Ok(self.partitioner.partition(
                &TopicPartitions {
                    topic,
                    partition_count: count,
                    available: &info.available,
                },
                record.key.as_deref(),
                likely_record_size(record),
            )),
        }
    }

    /// Appends to the record's partition; the caller holds the accumulator, so records of
    /// one topic are placed in the order their callers got the lock. The callback is taken
    /// only when the record was appended; on an error the caller still has it.
    #[allow(clippy::too_many_arguments)]
    fn append(
        &self,
        acc: &mut Accumulator,
        topic: &Arc<str>,
        info: &TopicInfo,
        record: &Record,
        timestamp: i64,
        reserved: usize,
        callback: &mut Option<Callback>,
        now: Instant,
    ) -> Result<Option<DeliveryFuture>, Error> {
        let partition = self.choose_partition(topic, info, record)?;
        let appended = acc.append(topic, partition, record, timestamp, reserved, callback, now)?;
        if appended.full && record.partition.is_none() {
            self.partitioner.batch_full(topic, partition);
        }
        if appended.wake_sender {
            self.wake_driver.notify_one();
        }
        Ok(appended
            .completion
            .map(|completion| DeliveryFuture::new(completion, appended.index, timestamp)))
    }

    /// Moves the records that wait for `topic` into batches, now that its partitions are
    /// known (`info`, already published).
    pub(crate) fn move_waiting_into_batches(
        &self,
        topic: &Arc<str>,
        info: &TopicInfo,
        now: Instant,
    ) {
        // Move every waiting record under one lock, so no new record overtakes them. Each
        // record is dropped as soon as it is copied into a batch, so the waiting records
        // and their batches never both hold the whole buffer.
        let mut refused = Vec::new();
        let mut released = 0;
        {
            let mut acc = self.lock_accumulator();
            for waiting in acc.take_pending(topic) {
                let PendingRecord {
                    record,
                    timestamp,
                    outcome,
                    reserved,
                    created_at,
                } = waiting;
                let Some((completion, mut callback)) = outcome.into_parts() else {
                    continue;
                };
                // The waiting entry is gone; the batch holds the rest.
                released += WAITING_COST;
                let reserved = reserved - WAITING_COST;
                let appended = self.append(
                    &mut acc,
                    topic,
                    info,
                    &record,
                    timestamp,
                    reserved,
                    &mut callback,
                    // Its delivery timeout counts from its produce(), not from now (and its
                    // batch has lingered since then too).
                    created_at.min(now),
                );
                match appended {
                    // The record's future watches the completion it got while waiting.
                    Ok(Some(future)) => {
                        future.forward_to(Box::new(move |r| resolve_waited(&completion, &r)));
                    }
                    // Its callback went with it into the batch.
                    Ok(None) => {}
                    Err(e) => {
                        refused.push((WaitingOutcome::new(completion, callback), reserved, e))
                    }
                }
            }
        }
        self.release(released);
        for (outcome, reserved, e) in refused {
            outcome.fail(&e);
            self.records_finished(1, reserved, Some(&e), None);
        }
    }

    /// Fails the records that wait for `topic` with `error` (its metadata says it cannot
    /// be written, or they waited `max.block.ms`).
    pub(crate) fn fail_waiting(
        &self,
        waiting: impl IntoIterator<Item = PendingRecord>,
        error: &Error,
    ) {
        for p in waiting {
            p.outcome.fail(error);
            self.records_finished(1, p.reserved, Some(error), None);
        }
    }
}

/// Bytes of `buffer.memory` a record's waiting entry holds while its topic's metadata is
/// unknown: the entry itself and the completion its future or callback is tied to.
pub(crate) const WAITING_COST: usize = std::mem::size_of::<PendingRecord>() + 128;

/// Bytes of `buffer.memory` a callback holds until it runs: its slot in the batch and its
/// boxed closure.
fn callback_cost(callback: &Callback) -> usize {
    CALLBACK_SLOT_SIZE + std::mem::size_of_val(&**callback)
}

/// Resolves the completion a record got while it waited for metadata with the outcome of
/// the batch it was later appended to.
fn resolve_waited(completion: &Completion, outcome: &Result<RecordMetadata, Error>) {
    let (partition, result) = match outcome {
        Ok(m) => (
            m.partition,
            Ok(Acked {
                base_offset: m.offset,
                log_append_time: if m.timestamp_type == TimestampType::LogAppendTime {
                    m.timestamp
                } else {
                    -1
                },
            }),
        ),
        Err(e) => (-1, Err(e.clone())),
    };
    completion.resolve(RangeOutcome {
        start: 0,
        end: 1,
        partition,
        result,
    });
}
