//! State shared by the callers of `produce` and the driver task: the accumulator, the
//! partition counts `produce` needs, buffer-memory accounting, and the flush / close flags.
//!
//! `produce` only takes the accumulator's lock for the append itself; everything it needs to
//! decide the partition (the topic's partitions) comes from a read-mostly map.
//!
//! # References
//! - Java `RecordAccumulator` / `BufferPool` (buffer.memory as backpressure)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;

use crate::accumulator::{
    record_size, Accumulator, AccumulatorConfig, PendingRecord, BATCH_HEADER_SIZE,
};
use crate::cluster::{ClusterState, TopicInfo};
use crate::config::ProducerConfig;
use crate::delivery::{Callback, Completion, DeliveryFuture};
use crate::error::Error;
use crate::partitioner::{Partitioner, TopicPartitions};
use crate::record::Record;

/// The producer's shared state.
pub(crate) struct Shared {
    pub config: Arc<ProducerConfig>,
    accumulator: Mutex<Accumulator>,
    topics: RwLock<HashMap<Arc<str>, Arc<TopicInfo>>>,
    partitioner: Arc<dyn Partitioner>,
    memory_used: AtomicUsize,
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
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn valid_topic(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 249
        && topic != "."
        && topic != ".."
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

impl Shared {
    pub(crate) fn new(config: Arc<ProducerConfig>, partitioner: Arc<dyn Partitioner>) -> Arc<Self> {
        let accumulator = Accumulator::new(AccumulatorConfig {
            batch_size: config.batch_size,
            linger: config.linger,
            max_request_size: config.max_request_size,
        });
        Arc::new(Self {
            config,
            accumulator: Mutex::new(accumulator),
            topics: RwLock::new(HashMap::new()),
            partitioner,
            memory_used: AtomicUsize::new(0),
            memory_freed: Notify::new(),
            wake_driver: Notify::new(),
            outstanding: AtomicUsize::new(0),
            progress: Notify::new(),
            flushes: AtomicUsize::new(0),
            closing: AtomicBool::new(false),
            closed: AtomicBool::new(false),
        })
    }

    pub(crate) fn lock_accumulator(&self) -> MutexGuard<'_, Accumulator> {
        self.accumulator.lock().unwrap_or_else(|p| p.into_inner())
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

    /// `count` records got their outcome; `reserved` bytes of buffer are free again.
    pub(crate) fn records_finished(&self, count: usize, reserved: usize) {
        self.outstanding.fetch_sub(count, Ordering::AcqRel);
        self.memory_used.fetch_sub(reserved, Ordering::AcqRel);
        self.memory_freed.notify_waiters();
        self.progress.notify_waiters();
    }

    /// Makes a topic's partitions known to `produce`.
    pub(crate) fn publish_topic(&self, topic: &Arc<str>, info: Arc<TopicInfo>) {
        self.lock_accumulator()
            .ensure_topic(topic, info.partitions.len());
        self.topics
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(Arc::clone(topic), info);
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
        record: Record,
        callback: Option<Callback>,
        now: Instant,
    ) -> Result<Option<DeliveryFuture>, Error> {
        if self.is_closing() {
            return Err(Error::Closed);
        }
        if !valid_topic(topic) {
            return Err(Error::InvalidTopic(topic.to_owned()));
        }
        let size = record_size(&record);
        if size + BATCH_HEADER_SIZE > self.config.max_request_size {
            return Err(Error::RecordTooLarge {
                size: size + BATCH_HEADER_SIZE,
                max: self.config.max_request_size,
                setting: "max.request.size",
            });
        }
        if size > self.config.buffer_memory {
            return Err(Error::RecordTooLarge {
                size,
                max: self.config.buffer_memory,
                setting: "buffer.memory",
            });
        }
        let used = self.memory_used.fetch_add(size, Ordering::AcqRel);
        if used + size > self.config.buffer_memory {
            self.memory_used.fetch_sub(size, Ordering::AcqRel);
            return Err(Error::QueueFull {
                buffer_memory: self.config.buffer_memory,
            });
        }
        let timestamp = record.timestamp.unwrap_or_else(now_ms);
        let info = self
            .topics
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get_key_value(topic)
            .map(|(k, v)| (Arc::clone(k), Arc::clone(v)));
        let mut acc = self.lock_accumulator();
        let result = match info {
            // Records that waited for this topic's metadata go first: while any wait, new
            // ones queue behind them.
            Some((topic, info)) if !acc.has_pending(&topic) => self.append(
                &mut acc, &topic, &info, &record, timestamp, size, callback, now,
            ),
            _ => {
                let topic: Arc<str> = Arc::from(topic);
                let completion = Completion::new(Arc::clone(&topic));
                let future = DeliveryFuture::new(Arc::clone(&completion), 0, timestamp);
                acc.add_pending(
                    &topic,
                    PendingRecord {
                        record,
                        timestamp,
                        completion,
                        reserved: size,
                        callback,
                        created_at: now,
                    },
                );
                self.wake_driver.notify_one();
                Ok(Some(future))
            }
        };
        drop(acc);
        match &result {
            Ok(_) => {
                self.outstanding.fetch_add(1, Ordering::AcqRel);
            }
            Err(_) => {
                self.memory_used.fetch_sub(size, Ordering::AcqRel);
            }
        }
        result
    }

    fn choose_partition(
        &self,
        topic: &Arc<str>,
        info: &TopicInfo,
        record: &Record,
        size: usize,
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
                size,
            )),
        }
    }

    /// Appends to the record's partition; the caller holds the accumulator, so records of
    /// one topic are placed in the order their callers got the lock.
    #[allow(clippy::too_many_arguments)]
    fn append(
        &self,
        acc: &mut Accumulator,
        topic: &Arc<str>,
        info: &TopicInfo,
        record: &Record,
        timestamp: i64,
        size: usize,
        callback: Option<Callback>,
        now: Instant,
    ) -> Result<Option<DeliveryFuture>, Error> {
        let partition = self.choose_partition(topic, info, record, size)?;
        let appended = acc.append(topic, partition, record, timestamp, size, now)?;
        if appended.wake_sender {
            self.wake_driver.notify_one();
        }
        match callback {
            Some(cb) => {
                appended
                    .completion
                    .add_callback(appended.index, timestamp, cb);
                Ok(None)
            }
            None => Ok(Some(DeliveryFuture::new(
                appended.completion,
                appended.index,
                timestamp,
            ))),
        }
    }

    /// Moves records that waited for metadata into batches, now that their topics are known.
    pub(crate) fn take_pending_into_batches(&self, cluster: &mut ClusterState, now: Instant) {
        let pending_topics = self.lock_accumulator().pending_topics();
        for topic in pending_topics {
            let Some(info) = cluster.topic(&topic).cloned() else {
                continue;
            };
            let (topic, info) = match self
                .topics
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get_key_value(&*topic)
            {
                Some((k, v)) => (Arc::clone(k), Arc::clone(v)),
                None => (topic, info),
            };
            // Move every waiting record under one lock, so no new record overtakes them.
            let mut placed = Vec::new();
            {
                let mut acc = self.lock_accumulator();
                let waiting = acc.take_pending(&topic);
                for mut p in waiting {
                    let record = std::mem::take(&mut p.record);
                    let result = self.append(
                        &mut acc,
                        &topic,
                        &info,
                        &record,
                        p.timestamp,
                        p.reserved,
                        None,
                        now,
                    );
                    placed.push((p, result));
                }
            }
            for (p, result) in placed {
                match result {
                    Ok(Some(future)) => {
                        let outer = p.completion;
                        let callback = p.callback;
                        let forward = move |r: Result<crate::record::RecordMetadata, Error>| {
                            let (partition, result) = match &r {
                                Ok(m) => (
                                    m.partition,
                                    Ok(crate::delivery::Acked {
                                        base_offset: m.offset,
                                        log_append_time: if m.timestamp_type
                                            == crate::record::TimestampType::LogAppendTime
                                        {
                                            m.timestamp
                                        } else {
                                            -1
                                        },
                                    }),
                                ),
                                Err(e) => (-1, Err(e.clone())),
                            };
                            outer.resolve(crate::delivery::RangeOutcome {
                                start: 0,
                                end: 1,
                                partition,
                                result,
                            });
                            if let Some(cb) = callback {
                                cb(r);
                            }
                        };
                        future.forward_to(Box::new(forward));
                    }
                    Ok(None) => {}
                    Err(e) => {
                        p.completion.resolve_rest(1, -1, &e);
                        if let Some(cb) = p.callback {
                            cb(Err(e));
                        }
                        self.records_finished(1, p.reserved);
                    }
                }
            }
        }
    }
}
