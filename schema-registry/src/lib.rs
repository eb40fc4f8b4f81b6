//! A Confluent Schema Registry client for kiel: register schemas under subjects, look up ids
//! and schemas, check compatibility, and write the Confluent wire format, so that what kiel
//! produces is readable by Java's `KafkaAvroDeserializer`, Kafka Connect and every other
//! registry-aware consumer.
//!
//! ```no_run
//! # async fn demo() -> kiel_schema_registry::Result<()> {
//! use kiel_schema_registry::{RegistryClient, Schema};
//! let registry = RegistryClient::from_url("http://127.0.0.1:8081")?;
//! let id = registry
//!     .register("orders-value", &Schema::avro(r#"{"type":"string"}"#))
//!     .await?;
//! # let _ = id;
//! # Ok(())
//! # }
//! ```
//!
//! Each (subject, schema) costs one request per process: ids and schemas are cached.
//! Connection errors, 429 and 5xx answers are retried with doubling waits
//! (`max.retries`, `retries.wait.ms`, `retries.max.wait.ms`), trying each URL of
//! `schema.registry.url` in turn; every other answer is a typed [`Error`].
//!
//! # References
//! - Confluent Schema Registry API reference and wire format
//! - `shared/design/schema-registry/NOTES.md` (the registry the tests run)

#[cfg(feature = "avro")]
pub mod avro;
#[cfg(feature = "avro")]
mod avro_references;
#[cfg(feature = "avro")]
pub mod blocking;
mod client;
mod config;
mod error;
#[cfg(feature = "avro")]
mod event_key;
#[cfg(feature = "avro")]
mod events;
#[cfg(feature = "json-schema")]
pub mod json_schema;
#[cfg(feature = "protobuf")]
mod message_indexes;
#[cfg(feature = "protobuf")]
pub mod protobuf;
mod schema;
mod subject;
pub mod wire;

#[cfg(feature = "avro")]
pub use apache_avro;
#[cfg(feature = "avro")]
pub use avro::{AvroDeserializer, AvroSerializer};
pub use client::RegistryClient;
pub use config::{Auth, RegistryConfig, Retries};
pub use error::{Error, Result};
#[cfg(feature = "avro")]
pub use event_key::EventKey;
#[cfg(feature = "avro")]
pub use events::{Event, EventProducer};
/// `#[derive(Event)] #[event(topic = "orders", key = "order_id")]`: implements [`Event`]
/// (the `derive` feature; the type also derives `serde::Serialize` and `AvroSchema`).
#[cfg(feature = "derive")]
pub use kiel_schema_registry_derive::Event;

/// What the derive's generated code names; not an API.
#[doc(hidden)]
pub mod __private {
    pub use bytes::Bytes;
}
#[cfg(feature = "json-schema")]
pub use json_schema::{JsonSchemaDeserializer, JsonSchemaSerializer};
#[cfg(feature = "protobuf")]
pub use protobuf::{ProtobufDeserializer, ProtobufJsonSerializer, ProtobufSerializer};
pub use schema::{RegisteredSchema, Schema, SchemaReference, SchemaType};
pub use subject::{Field, SubjectNameStrategy};

/// The guard of a cache's mutex; a panic elsewhere leaves the caches usable (they hold no
/// invariant a half-done update could break).
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
