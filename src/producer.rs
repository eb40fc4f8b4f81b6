//! The public producer: [`Producer`] and [`ProducerBuilder`].
//!
//! # Behavior
//!
//! ```text
//!  produce() ──► partitioner ──► unsent: per-partition batch buffer ──┐
//!     │ (returns a DeliveryFuture at once)                            │ batch.size reached,
//!     ▼                                                               │ linger.ms passed,
//!  DeliveryFuture ◄── offsets / errors ◄── sent: one ProduceRequest ◄─┘ or flush / close
//!                                           per broker, pipelined
//! ```
//!
//! - `produce` encodes the record into its partition's batch and returns at once. Bytes leave
//!   when the batch is full (`batch.size`), when `linger.ms` has passed since the batch was
//!   opened, or during [`Producer::flush`] and [`Producer::close`].
//! - Records of one partition are acknowledged in the order they were produced. With
//!   idempotence (the default) this holds across retries too.
//! - Every record gets exactly one outcome: its offset, or an error (refused by the broker,
//!   `delivery.timeout.ms` passed, or the producer shut down). The records of one partition
//!   get theirs in the order they were produced: callbacks run in that order, and a
//!   record's future is never ready before an earlier record's of the same partition (a
//!   batch that fails while an earlier one still retries waits for it).
//!
//! # Dropping
//!
//! Dropping means closing, as Java's `close()` without a timeout: nothing produced is lost
//! or left without an outcome.
//! - Dropping every handle of a producer without calling [`Producer::close`]: the background
//!   task keeps sending what was produced (bounded by `delivery.timeout.ms`), then stops;
//!   futures resolve and callbacks run as usual.
//! - Dropping a [`blocking::Producer`](crate::blocking::Producer) blocks until that is done.
//! - If the tokio runtime shuts down first (the background task is dropped with it), every
//!   record still without an outcome gets [`Error::Closed`] at once, even one that may have
//!   been written: its answer can no longer be read.
//!
//! # References
//! - Java `KafkaProducer` (send / flush / close semantics)

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiel_protocol::Compression;
use tokio::sync::oneshot;

use crate::config::{Acks, ProducerConfig};
use crate::connection::ConnectionConfig;
use crate::delivery::DeliveryFuture;
use crate::error::{Error, Result};
use crate::partitioner::{Partitioner, PartitionerKind};
use crate::record::{Record, RecordMetadata};
use crate::shared::{Shared, TopicInterest};
use crate::time::later;
use crate::transaction::{
    ConsumerGroupMetadata, OffsetCommit, PartitionOffset, TransactionError, TransactionManager,
    Waiter,
};

struct Inner {
    shared: Arc<Shared>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Stop taking records; the driver drains what is queued, then ends.
        self.shared.begin_close();
    }
}

/// An Apache Kafka producer. Cheap to clone; all clones share one set of connections and
/// buffers. See the [module documentation](self) for when records are sent.
#[derive(Clone)]
pub struct Producer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("config", &self.inner.shared.config)
            .finish_non_exhaustive()
    }
}

impl Producer {
    /// Connects to a cluster with default settings. `bootstrap` is a comma-separated list of
    /// `host:port`; the first broker that answers is used to learn the cluster.
    ///
    /// Must be called inside a tokio runtime.
    pub async fn new(bootstrap: &str) -> Result<Self> {
        Self::builder().bootstrap_servers(bootstrap).build().await
    }

    /// A builder with every setting at its default.
    pub fn builder() -> ProducerBuilder {
        ProducerBuilder::default()
    }

    /// Starts a producer from a complete configuration.
    pub async fn from_config(config: ProducerConfig) -> Result<Self> {
        config.validate()?;
        let partitioner: Arc<dyn Partitioner> = match &config.custom_partitioner {
            Some(p) => Arc::clone(p),
            // Java's partitioner.ignore.keys makes every record sticky.
            None if config.partitioner_ignore_keys => {
                PartitionerKind::UniformSticky.build(config.batch_size)
            }
            None => config.partitioner.build(config.batch_size),
        };
        let connections = ConnectionConfig::from(&config)?;
        let shared = Shared::new(Arc::new(config), partitioner);
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(crate::driver::run(
            Arc::clone(&shared),
            connections,
            ready_tx,
        ));
        match ready_rx.await {
            Ok(Ok(())) => {
                crate::metrics::spawn_statistics(&shared);
                Ok(Self {
                    inner: Arc::new(Inner { shared }),
                })
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::Closed),
        }
    }

    /// Starts a producer from Java / librdkafka properties (see
    /// [`ProducerConfig::from_properties`]).
    pub async fn from_properties<I, K, V>(properties: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self::from_config(ProducerConfig::from_properties(properties)?).await
    }

    /// The settings in use.
    pub fn config(&self) -> &ProducerConfig {
        &self.inner.shared.config
    }

    /// Queues a record for `topic` and returns at once. Await the future for the record's
    /// [`RecordMetadata`] or error.
    ///
    /// Fails at once, sending nothing, when the buffer is full ([`Error::QueueFull`]), when
    /// records waiting for the topic's metadata fill their share of it
    /// ([`Error::MetadataWaitFull`]: see [`ProducerConfig::metadata_wait_share`] and
    /// [`Producer::partition_count`]), the
    /// record can never be sent ([`Error::RecordTooLarge`], [`Error::InvalidTopic`],
    /// [`Error::InvalidPartition`]) or the producer is closed.
    pub fn produce(&self, topic: &str, record: Record) -> Result<DeliveryFuture> {
        self.inner
            .shared
            .produce(topic, record, None)?
            .ok_or(Error::Closed)
    }

    /// Queues a record and calls `callback` with its outcome (on the producer's background
    /// task: keep it short). Fails at once as [`Producer::produce`] does; then the callback is
    /// not called.
    pub fn produce_with_callback<F>(&self, topic: &str, record: Record, callback: F) -> Result<()>
    where
        F: FnOnce(Result<RecordMetadata>) + Send + 'static,
    {
        self.inner
            .shared
            .produce(topic, record, Some(Box::new(callback)))
            .map(|_| ())
    }

    /// Queues a record, waiting up to `max.block.ms` for buffer room, then waits for its
    /// acknowledgement.
    pub async fn send(&self, topic: &str, record: Record) -> Result<RecordMetadata> {
        self.enqueue(topic, record).await?.await
    }

    /// Queues a record, waiting up to `max.block.ms` for buffer room; returns the record's
    /// future without waiting for the acknowledgement.
    pub async fn enqueue(&self, topic: &str, record: Record) -> Result<DeliveryFuture> {
        let shared = &self.inner.shared;
        let deadline = later(Instant::now(), shared.config.max_block);
        let mut record = Some(record);
        let mut waiting_since: Option<Instant> = None;
        let count_wait = |since: Option<Instant>| {
            if let Some(since) = since {
                shared.count_buffer_wait(since.elapsed());
            }
        };
        loop {
            let freed = shared.memory_freed.notified();
            tokio::pin!(freed);
            freed.as_mut().enable();
            let Some(r) = record.take() else {
                return Err(Error::Closed);
            };
            match shared.produce(topic, r.clone(), None) {
                Ok(Some(future)) => {
                    count_wait(waiting_since);
                    return Ok(future);
                }
                Ok(None) => return Err(Error::Closed),
                Err(Error::QueueFull { .. } | Error::MetadataWaitFull { .. }) => {
                    record = Some(r);
                    waiting_since.get_or_insert_with(Instant::now);
                    if tokio::time::timeout_at(deadline.into(), freed)
                        .await
                        .is_err()
                    {
                        count_wait(waiting_since);
                        return Err(Error::Timeout(shared.config.max_block));
                    }
                }
                Err(e) => {
                    count_wait(waiting_since);
                    return Err(e);
                }
            }
        }
    }

    /// The number of partitions of `topic`, fetching its metadata if the producer does not
    /// know it yet (Java's `partitionsFor`). Waits up to `max.block.ms`; a topic that does
    /// not exist by then (or may not be described) is [`Error::TopicNotFound`].
    ///
    /// Calling it before producing to a topic makes the first records go out at once
    /// instead of waiting for metadata.
    pub async fn partition_count(&self, topic: &str) -> Result<i32> {
        let shared = &self.inner.shared;
        crate::topic::validate_topic_name(topic)?;
        let max_block = shared.config.max_block;
        let deadline = later(Instant::now(), max_block);
        let mut asked = false;
        loop {
            let published = shared.topics_published.notified();
            tokio::pin!(published);
            published.as_mut().enable();
            if let Some(count) = shared.partition_count(topic) {
                return Ok(count);
            }
            if shared.is_closing() {
                return Err(Error::Closed);
            }
            if !asked {
                shared.topic_interest(topic, TopicInterest::Asked);
                asked = true;
            }
            if tokio::time::timeout_at(deadline.into(), published)
                .await
                .is_err()
            {
                shared.topic_interest(topic, TopicInterest::GaveUp);
                return Err(Error::TopicNotFound {
                    topic: topic.to_owned(),
                    waited_ms: crate::time::millis(max_block),
                    reason: kiel_protocol::ErrorCode::UnknownTopicOrPartition,
                });
            }
        }
    }

    /// Sends everything queued now (ignoring `linger.ms`) and waits until every record
    /// produced so far has its outcome, or `timeout` passes. Returns how many records still
    /// have no outcome (0 means all are done).
    pub async fn flush(&self, timeout: Duration) -> usize {
        let shared = &self.inner.shared;
        shared.begin_flush();
        let deadline = later(Instant::now(), timeout);
        let remaining = loop {
            let progress = shared.progress.notified();
            tokio::pin!(progress);
            progress.as_mut().enable();
            let outstanding = shared.outstanding();
            if outstanding == 0 || shared.closed.load(Ordering::Acquire) {
                break outstanding;
            }
            if tokio::time::timeout_at(deadline.into(), progress)
                .await
                .is_err()
            {
                break shared.outstanding();
            }
        };
        shared.end_flush();
        remaining
    }

    /// Records queued that have not been written to a broker yet (including retries waiting
    /// to be resent and records waiting for their topic's metadata).
    pub fn unsent_count(&self) -> usize {
        self.inner.shared.lock_accumulator().unsent_records()
    }

    /// What the producer has done so far: records, errors, retries, requests, bytes and
    /// compression, queue time, request latency and connections per broker, buffer use.
    /// Cheap enough to call every second; the figures are read one after another, not
    /// atomically together.
    pub fn metrics(&self) -> crate::ProducerMetrics {
        self.inner.shared.metrics()
    }

    /// Records accepted that have no outcome yet (unsent plus in flight).
    pub fn outstanding_count(&self) -> usize {
        self.inner.shared.outstanding()
    }

    // ---- transactions ----

    /// Prepares a transactional producer (`transactional.id` set): finds the transaction
    /// coordinator and gets the producer id and epoch. This fences any older producer with
    /// the same `transactional.id` and ends its open transaction (committing one it had
    /// asked to commit, aborting the rest). Call once, before the first transaction; waits
    /// up to `max.block.ms` ([`Error::Timeout`]; calling it again waits for the same
    /// answer).
    ///
    /// Errors: [`TransactionError::NotTransactional`] without `transactional.id`; a fatal
    /// [`TransactionError`] when the coordinator refuses for good (authorization, an invalid
    /// `transaction.timeout.ms`).
    pub async fn init_transactions(&self) -> Result<()> {
        self.transaction_call(|manager, waiter| manager.init(waiter))
            .await
    }

    /// Opens a transaction: records produced from now until
    /// [`Producer::commit_transaction`] or [`Producer::abort_transaction`] are written
    /// atomically. Sends nothing by itself. Misuse (before `init_transactions`, or with a
    /// transaction already open) is [`TransactionError::InvalidState`].
    pub fn begin_transaction(&self) -> Result<()> {
        self.inner
            .shared
            .lock_transaction()
            .ok_or(Error::Transaction(TransactionError::NotTransactional))?
            .begin()
    }

    /// Adds a consumer group's offsets to the open transaction (consume-transform-produce):
    /// they are committed to the group exactly when the transaction commits, and never if
    /// it aborts. `offsets` are the next offsets to read (the last processed + 1). Returns
    /// once the group's coordinator holds them.
    pub async fn send_offsets_to_transaction(
        &self,
        offsets: impl IntoIterator<Item = PartitionOffset>,
        group: &ConsumerGroupMetadata,
    ) -> Result<()> {
        let offsets: Vec<PartitionOffset> = offsets.into_iter().collect();
        if group.group_id.is_empty() {
            return Err(Error::config("group_id", "the consumer group id is empty"));
        }
        if let Some(bad) = offsets.iter().find(|o| o.offset < 0 || o.partition < 0) {
            return Err(Error::config(
                "offsets",
                format!(
                    "{}-{} offset {}: partitions and offsets are never negative",
                    bad.topic, bad.partition, bad.offset
                ),
            ));
        }
        for offset in &offsets {
            crate::topic::validate_topic_name(&offset.topic)?;
        }
        if offsets.is_empty() {
            return Ok(());
        }
        let commit = OffsetCommit {
            group: group.clone(),
            offsets,
        };
        self.transaction_call(move |manager, waiter| manager.send_offsets(commit, waiter))
            .await
    }

    /// Commits the open transaction: sends every record produced in it (ignoring
    /// `linger.ms`), waits for their acknowledgements, then has the coordinator commit.
    /// Returns once the commit is complete; records and offsets then become visible to
    /// `read_committed` consumers. Waits up to `max.block.ms` ([`Error::Timeout`]: the commit
    /// goes on; call it again to wait for it).
    ///
    /// If a record of the transaction failed, the transaction cannot commit: the error is
    /// an abortable [`TransactionError`]; call [`Producer::abort_transaction`].
    pub async fn commit_transaction(&self) -> Result<()> {
        self.transaction_call(|manager, waiter| manager.commit(waiter))
            .await
    }

    /// Aborts the open (or failed) transaction: records not sent yet fail with
    /// [`TransactionError::Aborted`], those sent get their answers, then the coordinator
    /// aborts, and nothing of the transaction is visible to `read_committed` consumers.
    /// Waits up to `max.block.ms`.
    pub async fn abort_transaction(&self) -> Result<()> {
        self.transaction_call(|manager, waiter| manager.abort(waiter))
            .await
    }

    /// Hands a call to the transaction manager and waits (up to `max.block.ms`) for its
    /// answer.
    async fn transaction_call(
        &self,
        call: impl FnOnce(&mut TransactionManager, Waiter),
    ) -> Result<()> {
        let shared = &self.inner.shared;
        let (waiter, answer) = oneshot::channel();
        {
            let mut manager = shared
                .lock_transaction()
                .ok_or(Error::Transaction(TransactionError::NotTransactional))?;
            call(&mut manager, waiter);
        }
        shared.wake_driver.notify_one();
        let max_block = shared.config.max_block;
        match tokio::time::timeout_at(later(Instant::now(), max_block).into(), answer).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(Error::Closed),
            Err(_) => Err(Error::Timeout(max_block)),
        }
    }

    /// Winds down: stops accepting records, sends everything queued, waits for every
    /// outcome (bounded by `delivery.timeout.ms`), then closes the connections. Other clones
    /// of this producer are closed too.
    pub async fn close(&self) {
        let shared = &self.inner.shared;
        shared.begin_close();
        loop {
            let progress = shared.progress.notified();
            tokio::pin!(progress);
            progress.as_mut().enable();
            if shared.closed.load(Ordering::Acquire) {
                return;
            }
            progress.await;
        }
    }
}

/// Builds a [`Producer`]. Every setter documents its default (the Java client's).
#[derive(Debug, Default)]
pub struct ProducerBuilder {
    config: ProducerConfig,
    error: Option<Error>,
}

impl ProducerBuilder {
    /// `bootstrap.servers`: comma-separated `host:port` list. Required.
    pub fn bootstrap_servers(mut self, servers: &str) -> Self {
        if let Err(e) = self.config.set("bootstrap.servers", servers) {
            self.error.get_or_insert(e);
        }
        self
    }

    /// `client.id`. Default `kiel`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.config.client_id = id.into();
        self
    }

    /// `acks`. Default [`Acks::All`].
    pub fn acks(mut self, acks: Acks) -> Self {
        self.config.acks = acks;
        self
    }

    /// `linger.ms`: the longest a batch that is not full waits for more records. Default
    /// 5 ms. The driver aims a fifth of it early (at most 1 ms) to make up for its
    /// millisecond timer, so a batch goes out close to `linger` rather than after it.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.config.linger = linger;
        self
    }

    /// `batch.size` in bytes. Default 16384.
    pub fn batch_size(mut self, bytes: usize) -> Self {
        self.config.batch_size = bytes;
        self
    }

    /// `buffer.memory` in bytes. Default 32 MiB.
    pub fn buffer_memory(mut self, bytes: usize) -> Self {
        self.config.buffer_memory = bytes;
        self
    }

    /// `max.request.size` in bytes. Default 1 MiB.
    pub fn max_request_size(mut self, bytes: usize) -> Self {
        self.config.max_request_size = bytes;
        self
    }

    /// `compression.type`. Default none.
    pub fn compression(mut self, compression: Compression) -> Self {
        self.config.compression = compression;
        self
    }

    /// `compression.level`. Default: the codec's own default.
    pub fn compression_level(mut self, level: i32) -> Self {
        self.config.compression_level = Some(level);
        self
    }

    /// `retries`. Default `i32::MAX` (`delivery.timeout.ms` bounds retrying).
    pub fn retries(mut self, retries: u32) -> Self {
        self.config.retries = retries;
        self
    }

    /// `retry.backoff.ms` and `retry.backoff.max.ms`. Default 100 ms and 1 s.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.config.retry_backoff = initial;
        self.config.retry_backoff_max = max;
        self
    }

    /// `request.timeout.ms`. Default 30 s.
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.config.request_timeout = timeout;
        self
    }

    /// `delivery.timeout.ms`. Default 120 s.
    pub fn delivery_timeout(mut self, timeout: Duration) -> Self {
        self.config.delivery_timeout = timeout;
        self
    }

    /// `max.in.flight.requests.per.connection`. Default 5.
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.config.max_in_flight = requests;
        self
    }

    /// `enable.idempotence`. Default on (turned off quietly when `acks` is not `all`, unless
    /// set explicitly, in which case conflicting settings are an error).
    pub fn idempotence(mut self, enabled: bool) -> Self {
        self.config.enable_idempotence = Some(enabled);
        self
    }

    /// `transactional.id`: makes the producer transactional (and idempotent). Default: none.
    pub fn transactional_id(mut self, id: impl Into<String>) -> Self {
        self.config.transactional_id = Some(id.into());
        self
    }

    /// `transaction.timeout.ms`: how long the coordinator lets a transaction stay open.
    /// Default 60 s.
    pub fn transaction_timeout(mut self, timeout: Duration) -> Self {
        self.config.transaction_timeout = timeout;
        self
    }

    /// `max.block.ms`. Default 60 s.
    pub fn max_block(mut self, timeout: Duration) -> Self {
        self.config.max_block = timeout;
        self
    }

    /// `metadata.max.age.ms`. Default 5 min.
    pub fn metadata_max_age(mut self, age: Duration) -> Self {
        self.config.metadata_max_age = age;
        self
    }

    /// A built-in partitioner. Default [`PartitionerKind::default`] (Java's).
    pub fn partitioner(mut self, kind: PartitionerKind) -> Self {
        self.config.partitioner = kind;
        self
    }

    /// Calls `callback` with a [`crate::ProducerMetrics`] snapshot every `interval`
    /// (librdkafka's `statistics.interval.ms` and `stats_cb`; the snapshot's
    /// [`to_json`](crate::ProducerMetrics::to_json) uses librdkafka's statistics names).
    /// The callback runs on a task of its own, never on the producer's; it stops when the
    /// producer is closed.
    pub fn statistics<F>(mut self, interval: Duration, callback: F) -> Self
    where
        F: Fn(&crate::ProducerMetrics) + Send + Sync + 'static,
    {
        self.config.statistics_interval = interval;
        self.config.statistics_callback = Some(Arc::new(callback));
        self
    }

    /// Publishes the producer's metrics through the [`metrics`](https://docs.rs/metrics)
    /// facade every `interval` (feature `metrics`), for the exporter the application
    /// installed (Prometheus, StatsD, OpenTelemetry): names after Java's producer metrics,
    /// listed in METRICS.md.
    #[cfg(feature = "metrics")]
    pub fn export_metrics(mut self, interval: Duration) -> Self {
        self.config.metrics_export_interval = interval;
        self
    }

    /// Writes the OpenTelemetry context of the caller's current span into every record as
    /// W3C `traceparent` (and `tracestate`) headers, so consumers continue the trace
    /// (feature `opentelemetry`; off by default). The context comes from the current
    /// `tracing` span through `tracing-opentelemetry`'s layer, or else from
    /// `opentelemetry::Context::current()`; records produced outside any traced span get
    /// no header. The header bytes count toward the record's size and the buffer.
    #[cfg(feature = "opentelemetry")]
    pub fn propagate_trace_context(mut self, on: bool) -> Self {
        self.config.propagate_trace_context = on;
        self
    }

    /// A custom partitioner.
    pub fn custom_partitioner(mut self, partitioner: Arc<dyn Partitioner>) -> Self {
        self.config.custom_partitioner = Some(partitioner);
        self
    }

    /// `security.protocol` with its TLS settings and SASL login. Default: plain TCP. See
    /// [`Security`](crate::config::Security) for examples (Confluent Cloud, SCRAM, mTLS).
    pub fn security(mut self, security: crate::config::Security) -> Self {
        self.config.security = security;
        self
    }

    /// Sets any property by its Java or librdkafka name.
    pub fn property(mut self, key: &str, value: &str) -> Self {
        if let Err(e) = self.config.set(key, value) {
            self.error.get_or_insert(e);
        }
        self
    }

    /// The configuration as built so far.
    pub fn config(&self) -> &ProducerConfig {
        &self.config
    }

    /// Connects and returns the producer.
    pub async fn build(self) -> Result<Producer> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Producer::from_config(self.config).await
    }
}
