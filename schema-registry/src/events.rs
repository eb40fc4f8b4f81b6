//! Typed events: a Rust type says once which topic it goes to and what its key is, and
//! [`EventProducer`] does the rest (schema registration, the Confluent wire format, the
//! key, produce), as the FlowODM seed's model producer does.
//!
//! ```no_run
//! # async fn demo() -> kiel_schema_registry::Result<()> {
//! use kiel_schema_registry::apache_avro::AvroSchema;
//! use kiel_schema_registry::{Event, EventProducer, RegistryClient};
//!
//! #[derive(serde::Serialize, AvroSchema, Event)]
//! #[event(topic = "orders", key = "order_id")]
//! struct Order {
//!     order_id: String,
//!     amount: f64,
//! }
//!
//! let producer = kiel::Producer::new("127.0.0.1:9092").await?;
//! let events = EventProducer::new(producer, RegistryClient::from_url("http://127.0.0.1:8081")?);
//! let metadata = events.send_event(&Order { order_id: "o-1".into(), amount: 9.5 }).await?;
//! # let _ = metadata;
//! # Ok(())
//! # }
//! ```
//!
//! Without the derive (or the `derive` feature), the same is an `impl Event for Order` with
//! `const TOPIC` and `fn key`. The key field becomes bytes through [`crate::EventKey`]: text
//! as UTF-8, integers in decimal, `None` as no key. The derive refuses, at compile time, a
//! missing topic and a key that names no field:
//!
//! ```compile_fail
//! #[derive(serde::Serialize, kiel_schema_registry::apache_avro::AvroSchema, kiel_schema_registry::Event)]
//! #[event(key = "id")]
//! struct NoTopic { id: String }
//! ```
//!
//! ```compile_fail
//! #[derive(serde::Serialize, kiel_schema_registry::apache_avro::AvroSchema, kiel_schema_registry::Event)]
//! #[event(topic = "t", key = "order_id")]
//! struct WrongKey { id: String }
//! ```
//!
//! # References
//! - `shared/seeds/000_a148cfae46ecb919.txt` (FlowODM: typed models that name their topic
//!   and key field once, the schema id cached per model)

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use apache_avro::AvroSchema;
use bytes::Bytes;
use kiel::{DeliveryFuture, Producer, Record, RecordMetadata};
use serde::Serialize;

use crate::avro::AvroSerializer;
use crate::client::RegistryClient;
use crate::error::{Error, Result};

/// A type that is produced as an event: its topic and its key, said once.
pub trait Event: Serialize + AvroSchema + Send + Sync + 'static {
    /// The topic every event of this type goes to.
    const TOPIC: &'static str;

    /// The record key (`None`: no key).
    fn key(&self) -> Option<Bytes>;
}

/// The Avro serializer of each event type, with its cached schema id: what the async and
/// blocking event producers share.
#[derive(Debug)]
pub(crate) struct EventSerializers {
    registry: RegistryClient,
    /// One `AvroSerializer<E>` per event type (its schema id is cached in it).
    by_type: Mutex<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl EventSerializers {
    pub(crate) fn new(registry: RegistryClient) -> Self {
        Self {
            registry,
            by_type: Mutex::new(HashMap::new()),
        }
    }

    fn serializer<E: Event>(&self) -> Arc<AvroSerializer<E>> {
        let entry = Arc::clone(
            crate::lock(&self.by_type)
                .entry(TypeId::of::<E>())
                .or_insert_with(|| {
                    Arc::new(AvroSerializer::<E>::derived(self.registry.clone()))
                        as Arc<dyn Any + Send + Sync>
                }),
        );
        entry
            .downcast::<AvroSerializer<E>>()
            .unwrap_or_else(|_| unreachable!("the map holds an AvroSerializer<E> under E's TypeId"))
    }

    /// Gets `E`'s schema id from the registry, once per process.
    pub(crate) async fn prepare<E: Event>(&self) -> Result<u32> {
        self.serializer::<E>().prepare(E::TOPIC).await
    }

    /// `event` as a record: its key, its value in the wire format. `E` must be prepared.
    pub(crate) fn record<E: Event>(&self, event: &E) -> Result<Record> {
        let value = self.serializer::<E>().encode(E::TOPIC, event)?;
        let mut record = Record::value(value);
        record.key = event.key();
        Ok(record)
    }
}

/// Produces [`Event`]s as Avro through a Schema Registry.
#[derive(Debug)]
pub struct EventProducer {
    producer: Producer,
    serializers: EventSerializers,
}

impl EventProducer {
    /// Events through `producer`, schemas through `registry`.
    pub fn new(producer: Producer, registry: RegistryClient) -> Self {
        Self {
            producer,
            serializers: EventSerializers::new(registry),
        }
    }

    /// The producer (for flush and close).
    pub fn producer(&self) -> &Producer {
        &self.producer
    }

    /// Gets `E`'s schema id from the registry (once per process), so that
    /// [`Self::produce_event`] can serialize `E` without waiting.
    pub async fn prepare<E: Event>(&self) -> Result<u32> {
        self.serializers.prepare::<E>().await
    }

    /// Serializes and queues `event` (see `kiel::Producer::produce`). `E` must have been
    /// prepared (or sent once); otherwise the error says so and nothing is queued.
    pub fn produce_event<E: Event>(&self, event: &E) -> Result<DeliveryFuture> {
        let record = self.serializers.record(event)?;
        Ok(self.producer.produce(E::TOPIC, record)?)
    }

    /// Serializes and queues `event`; `callback` gets its outcome (see
    /// `kiel::Producer::produce_with_callback`: callbacks of one partition run in produce
    /// order). A serialization error is returned here and the callback is not called.
    pub fn produce_event_with_callback<E, F>(&self, event: &E, callback: F) -> Result<()>
    where
        E: Event,
        F: FnOnce(kiel::Result<RecordMetadata>) + Send + 'static,
    {
        let record = self.serializers.record(event)?;
        Ok(self
            .producer
            .produce_with_callback(E::TOPIC, record, callback)?)
    }

    /// Prepares `E` if needed, serializes `event`, waits for room and for the
    /// acknowledgement.
    pub async fn send_event<E: Event>(&self, event: &E) -> Result<RecordMetadata> {
        self.prepare::<E>().await?;
        let record = self.serializers.record(event)?;
        Ok(self.producer.send(E::TOPIC, record).await?)
    }
}

impl From<kiel::Error> for Error {
    fn from(error: kiel::Error) -> Self {
        Self::Producer(error)
    }
}
