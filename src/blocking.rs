//! A blocking facade over [`crate::Producer`] for code without an async runtime.
//!
//! [`Producer`] owns a small tokio runtime (one worker thread) that runs the producer's
//! background task; its methods block the calling thread. Do not call them from inside an
//! async runtime (tokio panics when a runtime blocks inside another).
//!
//! **Dropping** a blocking producer closes it as [`Producer::close`] does, as Java's
//! `close()` without a timeout does: it blocks until every record produced has its outcome
//! (bounded by `delivery.timeout.ms`), callbacks included, then stops. Only when it is
//! dropped inside an async runtime, where it cannot block, do the records still unanswered
//! get [`Error::Closed`] instead (every record still gets exactly one outcome).
//!
//! ```no_run
//! let producer = kiel::blocking::Producer::new("127.0.0.1:9092")?;
//! let metadata = producer.send("events", kiel::Record::value("hello"))?;
//! producer.flush(std::time::Duration::from_secs(5));
//! producer.close();
//! # Ok::<(), kiel::Error>(())
//! ```
//!
//! # References
//! - the `postgres` crate's blocking wrapper over `tokio-postgres` (the same shape)

use std::time::Duration;

use crate::config::ProducerConfig;
use crate::error::{Error, Result};
use crate::record::{Record, RecordMetadata};

/// A record's pending outcome; [`DeliveryHandle::wait`] blocks until it is known.
#[derive(Debug)]
pub struct DeliveryHandle {
    future: crate::DeliveryFuture,
    runtime: std::sync::Arc<OwnedRuntime>,
}

impl DeliveryHandle {
    /// Blocks until the record is acknowledged or fails.
    pub fn wait(self) -> Result<RecordMetadata> {
        self.runtime.block_on(self.future)
    }
}

/// A blocking producer. See the [module documentation](self).
#[derive(Debug)]
pub struct Producer {
    inner: crate::Producer,
    runtime: std::sync::Arc<OwnedRuntime>,
}

impl Producer {
    /// Connects with default settings to the comma-separated `bootstrap` brokers.
    pub fn new(bootstrap: &str) -> Result<Self> {
        let mut config = ProducerConfig::default();
        config.set("bootstrap.servers", bootstrap)?;
        Self::from_config(config)
    }

    /// Connects with a complete configuration.
    pub fn from_config(config: ProducerConfig) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("kiel-producer")
            .enable_all()
            .build()
            .map_err(|e| Error::Runtime(e.to_string()))?;
        let runtime = OwnedRuntime(Some(runtime));
        let inner = runtime.block_on(crate::Producer::from_config(config))?;
        Ok(Self {
            inner,
            runtime: std::sync::Arc::new(runtime),
        })
    }

    /// Connects with Java / librdkafka properties.
    pub fn from_properties<I, K, V>(properties: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        Self::from_config(ProducerConfig::from_properties(properties)?)
    }

    /// Queues a record and returns at once (see [`crate::Producer::produce`]).
    pub fn produce(&self, topic: &str, record: Record) -> Result<DeliveryHandle> {
        let future = self.inner.produce(topic, record)?;
        Ok(DeliveryHandle {
            future,
            runtime: std::sync::Arc::clone(&self.runtime),
        })
    }

    /// Queues a record with a callback (see [`crate::Producer::produce_with_callback`]).
    pub fn produce_with_callback<F>(&self, topic: &str, record: Record, callback: F) -> Result<()>
    where
        F: FnOnce(Result<RecordMetadata>) + Send + 'static,
    {
        self.inner.produce_with_callback(topic, record, callback)
    }

    /// Queues a record (waiting for buffer room) and blocks until it is acknowledged.
    pub fn send(&self, topic: &str, record: Record) -> Result<RecordMetadata> {
        self.runtime.block_on(self.inner.send(topic, record))
    }

    /// The number of partitions of `topic`, blocking up to `max.block.ms` for its metadata
    /// (see [`crate::Producer::partition_count`]).
    pub fn partition_count(&self, topic: &str) -> Result<i32> {
        self.runtime.block_on(self.inner.partition_count(topic))
    }

    /// Blocks until every record has its outcome or `timeout` passes; returns how many
    /// records still have none.
    pub fn flush(&self, timeout: Duration) -> usize {
        self.runtime.block_on(self.inner.flush(timeout))
    }

    /// Records not yet written to a broker.
    pub fn unsent_count(&self) -> usize {
        self.inner.unsent_count()
    }

    /// What the producer has done so far (see [`crate::Producer::metrics`]); does not
    /// block.
    pub fn metrics(&self) -> crate::ProducerMetrics {
        self.inner.metrics()
    }

    /// Blocks until the transactional producer is ready (see
    /// [`crate::Producer::init_transactions`]).
    pub fn init_transactions(&self) -> Result<()> {
        self.runtime.block_on(self.inner.init_transactions())
    }

    /// Opens a transaction (see [`crate::Producer::begin_transaction`]); does not block.
    pub fn begin_transaction(&self) -> Result<()> {
        self.inner.begin_transaction()
    }

    /// Adds a consumer group's offsets to the open transaction and blocks until its
    /// coordinator holds them (see [`crate::Producer::send_offsets_to_transaction`]).
    pub fn send_offsets_to_transaction(
        &self,
        offsets: impl IntoIterator<Item = crate::PartitionOffset>,
        group: &crate::ConsumerGroupMetadata,
    ) -> Result<()> {
        self.runtime
            .block_on(self.inner.send_offsets_to_transaction(offsets, group))
    }

    /// Commits the open transaction and blocks until the coordinator has completed it (see
    /// [`crate::Producer::commit_transaction`]).
    pub fn commit_transaction(&self) -> Result<()> {
        self.runtime.block_on(self.inner.commit_transaction())
    }

    /// Aborts the open transaction and blocks until the coordinator has completed it (see
    /// [`crate::Producer::abort_transaction`]).
    pub fn abort_transaction(&self) -> Result<()> {
        self.runtime.block_on(self.inner.abort_transaction())
    }

    /// Winds down (see [`crate::Producer::close`]) and blocks until done. Dropping the
    /// producer does the same.
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        let (runtime, inner) = (&self.runtime, &self.inner);
        // On a thread of its own: `block_on` panics on a thread that drives async tasks, and
        // a producer may be dropped anywhere. This thread waits for it all the same.
        std::thread::scope(|scope| {
            let closing = scope.spawn(|| runtime.block_on(inner.close()));
            if closing.join().is_err() {
                tracing::error!("closing the blocking producer panicked");
            }
        });
    }
}

/// The producer's runtime. Dropped where nothing may block (inside another runtime), it is
/// shut down in the background instead of waited for, which tokio would refuse.
#[derive(Debug)]
struct OwnedRuntime(Option<tokio::runtime::Runtime>);

impl std::ops::Deref for OwnedRuntime {
    type Target = tokio::runtime::Runtime;

    fn deref(&self) -> &Self::Target {
        match &self.0 {
            Some(runtime) => runtime,
            // Taken only in drop.
            None => unreachable!("the runtime is there until the owner is dropped"),
        }
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            if tokio::runtime::Handle::try_current().is_ok() {
                runtime.shutdown_background();
            }
        }
    }
}
