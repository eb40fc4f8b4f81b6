//! The producer's error type.
//!
//! One error type for everything a caller can see: configuration mistakes, records refused
//! before anything is sent, and outcomes of records that were sent. It is `Clone` because one
//! broker answer can fail every record of a batch. Ask it questions ([`Error::is_retriable`])
//! rather than matching on text.
//!
//! # References
//! - Kafka error codes: [`kiel_protocol::ErrorCode`]

use std::sync::Arc;

use kiel_protocol::ErrorCode;
use thiserror::Error;

pub use crate::connection::ConnectionError;

/// Everything that can go wrong in the producer.
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration key is unknown or its value is invalid.
    #[error("invalid configuration `{key}`: {message}")]
    Config {
        /// The key (Java / librdkafka name, or the builder setting).
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// The producer's buffer (`buffer.memory`) is full; try again later, or use
    /// [`Producer::send`](crate::Producer::send), which waits for room.
    #[error("the producer's buffer is full (buffer.memory = {buffer_memory} bytes)")]
    QueueFull {
        /// The configured buffer size.
        buffer_memory: usize,
    },
    /// Records waiting for their topic's metadata hold their whole share of the buffer
    /// (`buffer.memory.metadata.wait.share`); try again once the topic is known, use
    /// [`Producer::send`](crate::Producer::send) / [`Producer::enqueue`](crate::Producer::enqueue),
    /// which wait up to `max.block.ms`, or call
    /// [`Producer::partition_count`](crate::Producer::partition_count) before producing.
    #[error(
        "the records waiting for metadata of topic `{topic}` hold their whole share of the buffer \
         ({share_bytes} bytes: buffer.memory.metadata.wait.share of buffer.memory); \
         send/enqueue wait for the topic instead, or call partition_count(topic) first"
    )]
    MetadataWaitFull {
        /// The topic whose metadata is awaited.
        topic: String,
        /// Bytes that waiting records may hold.
        share_bytes: usize,
    },
    /// A record's timestamp is negative (Kafka stores -1 as "no timestamp").
    #[error("invalid record timestamp {0}: a timestamp is milliseconds since the Unix epoch, not negative")]
    InvalidTimestamp(i64),
    /// A record is larger than `max.request.size` (or `buffer.memory`) and can never be sent.
    #[error("record of {size} bytes exceeds the limit of {max} bytes ({setting})")]
    RecordTooLarge {
        /// The record's encoded size.
        size: usize,
        /// The limit.
        max: usize,
        /// The setting that sets the limit.
        setting: &'static str,
    },
    /// A record names a partition the topic does not have.
    #[error(
        "topic `{topic}` has {partition_count} partitions; partition {partition} does not exist"
    )]
    InvalidPartition {
        /// The topic.
        topic: String,
        /// The partition asked for.
        partition: i32,
        /// How many partitions the topic has.
        partition_count: i32,
    },
    /// A topic name is not valid.
    #[error("invalid topic name `{0}`")]
    InvalidTopic(String),
    /// The topic does not exist (and was not created) within `max.block.ms`.
    #[error("topic `{topic}` not present in metadata after {waited_ms} ms: {reason}")]
    TopicNotFound {
        /// The topic.
        topic: String,
        /// How long the producer waited.
        waited_ms: u64,
        /// The last error the brokers gave for it.
        reason: ErrorCode,
    },
    /// The broker refused the record (a non-retriable error, or a retriable one whose retries
    /// ran out).
    #[error("broker error {code} for {topic}-{partition}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Broker {
        /// The Kafka error code.
        code: ErrorCode,
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The broker's message, if any.
        message: Option<String>,
    },
    /// The record was not acknowledged within `delivery.timeout.ms`.
    #[error("record not acknowledged within delivery.timeout.ms ({timeout_ms} ms){}", last_error.as_ref().map(|e| format!("; last error: {e}")).unwrap_or_default())]
    DeliveryTimeout {
        /// The configured delivery timeout.
        timeout_ms: u64,
        /// The last error seen for the record's batch, if any.
        last_error: Option<Box<Self>>,
    },
    /// Why a record was never sent: only as the `last_error` of a
    /// [`Error::DeliveryTimeout`], when no attempt was made that could have failed.
    #[error("never sent: {reason}")]
    NotSent {
        /// What it was waiting for (a leader, a connection, earlier batches, ...).
        reason: String,
    },
    /// No broker of the bootstrap list could be reached.
    #[error("no bootstrap broker reachable ({brokers}): {last_error}")]
    Bootstrap {
        /// The bootstrap list.
        brokers: String,
        /// The error from the last broker tried.
        last_error: String,
    },
    /// A broker does not support what kiel needs (e.g. Produce v3, i.e. Kafka older than 0.11).
    #[error("broker {broker} is not supported: {reason}")]
    UnsupportedBroker {
        /// The broker address.
        broker: String,
        /// Why.
        reason: String,
    },
    /// A network or connection failure.
    #[error("connection to {broker} failed: {cause}")]
    Connection {
        /// The broker address.
        broker: String,
        /// What happened.
        cause: ConnectionError,
    },
    /// The producer's own runtime (of the blocking facade) could not be started.
    #[error("cannot start the producer's runtime: {0}")]
    Runtime(String),
    /// A broker's answer could not be decoded.
    #[error("protocol error from {broker}: {source}")]
    Protocol {
        /// The broker address.
        broker: String,
        /// The decoding error.
        #[source]
        source: kiel_protocol::DecodeError,
    },
    /// Encoding a request or batch failed.
    #[error("encoding failed: {0}")]
    Encode(#[from] kiel_protocol::EncodeError),
    /// Obtaining a producer id for idempotence failed.
    #[error("InitProducerId failed: {0}")]
    ProducerId(ErrorCode),
    /// The producer is closed (or closing) and takes no new records; or it was dropped or its
    /// runtime shut down before this record had an outcome.
    #[error("the producer is closed")]
    Closed,
    /// `flush` or `send` waited longer than allowed.
    #[error("timed out after {0:?}")]
    Timeout(std::time::Duration),
    /// A serializer refused a value.
    #[error("serialization failed: {0}")]
    Serialization(Arc<dyn std::error::Error + Send + Sync>),
    /// A transaction failed, or a transaction call did not fit its state: ask
    /// [`TransactionError::is_abortable`](crate::TransactionError::is_abortable) and
    /// [`is_fatal`](crate::TransactionError::is_fatal).
    #[error(transparent)]
    Transaction(#[from] crate::TransactionError),
    /// A transaction coordinator (or a consumer group's coordinator) refused a request.
    #[error(
        "{request} for transactional.id `{transactional_id}` refused by the coordinator: {code}"
    )]
    Coordinator {
        /// The request (AddPartitionsToTxn, EndTxn, ...).
        request: &'static str,
        /// The coordinator's error code.
        code: ErrorCode,
        /// The producer's `transactional.id`.
        transactional_id: String,
    },
}

impl Error {
    /// Whether trying the same thing again later may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Self::QueueFull { .. } | Self::MetadataWaitFull { .. } | Self::Timeout(_) => true,
            Self::Connection { cause, .. } => !cause.is_fatal(),
            Self::Broker { code, .. } => code.is_retriable(),
            Self::DeliveryTimeout { .. } => true,
            _ => false,
        }
    }

    /// The Kafka error code behind this error, if a broker gave one.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            Self::Broker { code, .. } | Self::ProducerId(code) | Self::Coordinator { code, .. } => {
                Some(*code)
            }
            Self::Transaction(e) => e.error_code(),
            Self::TopicNotFound { reason, .. } => Some(*reason),
            Self::DeliveryTimeout {
                last_error: Some(e),
                ..
            } => e.error_code(),
            _ => None,
        }
    }

    pub(crate) fn config(key: &str, message: impl Into<String>) -> Self {
        Self::Config {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}

/// A `Result` with kiel's [`enum@Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
