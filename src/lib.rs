//! kiel: a pure-Rust Apache Kafka producer.
//!
//! ```no_run
//! # async fn example() -> kiel::Result<()> {
//! let producer = kiel::Producer::new("127.0.0.1:9092").await?;
//! let metadata = producer.produce("events", kiel::Record::key_value("k", "v"))?.await?;
//! println!("written to partition {} at offset {}", metadata.partition, metadata.offset);
//! producer.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! Layers, bottom up: the sans-IO wire codec (the `kiel-protocol` crate; what users need of
//! it is in [`protocol`]), the cluster state (leaders per
//! partition, healed on errors), the accumulator (*unsent*: per-partition batches), the sender
//! (*sent*: one request per broker, retries in order), one task per connection, and the
//! public [`Producer`]. See [`producer`] for when bytes leave and how outcomes are reported.
//!
//! # References
//! - `../shared/design/architecture.md` in the project's steering repository
//! - Kafka protocol guide: <https://kafka.apache.org/protocol>

/// What a producer's user needs of the wire codec: Kafka's error codes (in
/// [`Error::Broker`]), the compression codecs, and the codec errors some [`Error`]s carry.
/// The whole codec is the `kiel-protocol` crate.
pub mod protocol {
    pub use kiel_protocol::{Compression, CompressionError, DecodeError, EncodeError, ErrorCode};
}

mod accumulator;
mod batch;
pub mod blocking;
mod buffer_pool;
mod cluster;
pub mod config;
mod connection;
mod delivery;
mod driver;
mod error;
pub mod metrics;
pub mod partitioner;
pub mod producer;
mod record;
pub mod sasl;
mod sender;
pub mod serialize;
mod session;
mod shared;
mod time;
mod topic;
#[cfg(feature = "opentelemetry")]
mod trace_context;
mod transaction;
mod wall_clock;

pub use config::{Acks, ProducerConfig};
pub use delivery::DeliveryFuture;
pub use error::{ConnectionError, Error, Result};
pub use kiel_protocol::Compression;
pub use metrics::{BrokerMetrics, LatencySummary, ProducerMetrics, TopicMetrics};
pub use producer::{Producer, ProducerBuilder};
pub use record::{Header, Record, RecordMetadata, TimestampType};
pub use topic::{validate_topic_name, MAX_TOPIC_NAME_LEN};
pub use transaction::{ConsumerGroupMetadata, PartitionOffset, TransactionError};

#[cfg(feature = "bench-internals")]
#[doc(hidden)]
pub mod bench_support;
#[cfg(any(test, feature = "bench-internals"))]
#[cfg_attr(not(test), allow(dead_code))]
mod sim;
#[cfg(test)]
mod sim_tests;
