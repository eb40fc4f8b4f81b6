//! The blocking event producer, for code without an async runtime, over
//! `kiel::blocking::Producer`: the same [`Event`] types, the same one registry call per type.
//!
//! Its registry calls run on a small runtime of its own (one thread); like
//! `kiel::blocking`, its methods must not be called from inside an async runtime.
//!
//! ```no_run
//! # fn demo() -> kiel_schema_registry::Result<()> {
//! use kiel_schema_registry::apache_avro::AvroSchema;
//! use kiel_schema_registry::{blocking, Event, RegistryClient};
//!
//! #[derive(serde::Serialize, AvroSchema)]
//! struct Order {
//!     order_id: String,
//!     amount: f64,
//! }
//!
//! impl Event for Order {
//!     const TOPIC: &'static str = "orders";
//!     fn key(&self) -> Option<bytes::Bytes> {
//!         Some(self.order_id.clone().into())
//!     }
//! }
//!
//! let producer = kiel::blocking::Producer::new("127.0.0.1:9092")?;
//! let registry = RegistryClient::from_url("http://127.0.0.1:8081")?;
//! let events = blocking::EventProducer::new(producer, registry)?;
//! let metadata = events.send_event(&Order { order_id: "o-1".into(), amount: 9.5 })?;
//! # let _ = metadata;
//! # Ok(())
//! # }
//! ```
//!
//! # References
//! - `kiel::blocking` (the same shape: a runtime owned by the blocking value)

use kiel::blocking::{DeliveryHandle, Producer};
use kiel::RecordMetadata;

use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::events::{Event, EventSerializers};

/// Produces [`Event`]s as Avro through a Schema Registry, blocking the calling thread.
#[derive(Debug)]
pub struct EventProducer {
    producer: Producer,
    serializers: EventSerializers,
    /// Runs the registry calls; taken only on drop.
    runtime: Option<tokio::runtime::Runtime>,
}

impl EventProducer {
    /// Events through `producer`, schemas through `registry`.
    pub fn new(producer: Producer, registry: RegistryClient) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::config("runtime", format!("cannot start a runtime: {e}")))?;
        Ok(Self {
            producer,
            serializers: EventSerializers::new(registry),
            runtime: Some(runtime),
        })
    }

    fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        match &self.runtime {
            Some(runtime) => runtime.block_on(future),
            None => unreachable!("the runtime is there until the producer is dropped"),
        }
    }

    /// The producer (for flush and close).
    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    /// Gets `E`'s schema id from the registry (once per process), so that
    /// [`Self::produce_event`] can serialize `E`.
    pub fn prepare<E: Event>(&self) -> Result<u32> {
        self.block_on(self.serializers.prepare::<E>())
    }

    /// Serializes and queues `event`; the handle waits for its outcome. `E` must have been
    /// prepared (or sent once); otherwise the error says so and nothing is queued.
    pub fn produce_event<E: Event>(&self, event: &E) -> Result<DeliveryHandle> {
        let record = self.serializers.record(event)?;
        Ok(self.producer.produce(E::TOPIC, record)?)
    }

    /// Prepares `E` if needed, serializes `event`, and blocks until it is acknowledged.
    pub fn send_event<E: Event>(&self, event: &E) -> Result<RecordMetadata> {
        self.prepare::<E>()?;
        let record = self.serializers.record(event)?;
        Ok(self.producer.send(E::TOPIC, record)?)
    }

    /// Closes the producer (see `kiel::blocking::Producer::close`): blocks until every
    /// record has its outcome.
    pub fn close(self) {
        drop(self);
    }
}

impl Drop for EventProducer {
    fn drop(&mut self) {
        // Never blocks, so dropping inside an async runtime is fine too; the registry
        // client's idle connections go with it.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
