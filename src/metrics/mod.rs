//! What the producer did, counted where it is done, and [`ProducerMetrics`], the snapshot
//! [`Producer::metrics`](crate::Producer::metrics) returns.
//!
//! The hot path pays nothing new: records accepted are `produce`'s existing outstanding
//! count plus the outcomes; everything else is counted by the sender once per batch,
//! request, answer or connection event, in `SenderMetrics` behind a lock the sender takes
//! once per such event and a snapshot takes once.
//!
//! Names follow Java's producer metrics where there is one (see the table in the README:
//! `record-send-total`, `record-retry-total`, `record-error-total`, `request-latency-avg`,
//! `batch-size-avg`, `compression-rate-avg`, `record-queue-time-avg`,
//! `produce-throttle-time-avg`, `buffer-available-bytes`, `bufferpool-wait-time-ns-total`,
//! `connection-creation-total`, ...).
//!
//! # References
//! - Java `SenderMetricsRegistry`, `Sender.SenderMetrics`, `RecordAccumulator` and
//!   `Selector` metrics (names and meanings); librdkafka `STATISTICS.md`

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

#[cfg(feature = "metrics")]
mod export;
#[cfg(feature = "metrics")]
pub(crate) use export::operation_duration;
mod histogram;
mod statistics;

pub(crate) use histogram::Histogram;
pub use histogram::LatencySummary;
pub(crate) use statistics::spawn_statistics;

/// A snapshot of what the producer has done since it was created. Counts only grow;
/// `buffer_used_bytes` and `in_flight_requests` are the values at the snapshot.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ProducerMetrics {
    /// The producer's `client.id`.
    pub client_id: String,
    /// Records `produce` accepted (Java `record-send-total` counts sends).
    pub records_sent: u64,
    /// Records the brokers acknowledged.
    pub records_acknowledged: u64,
    /// Records that failed for good (Java `record-error-total`).
    pub records_failed: u64,
    /// Failed records by the error's name (a Kafka error code's name, or the kind of
    /// client error: `delivery timeout`, `transaction aborted`, ...).
    pub records_failed_by_error: BTreeMap<String, u64>,
    /// Records sent again after a retriable error (Java `record-retry-total`).
    pub records_retried: u64,
    /// Records waiting for an outcome now.
    pub records_outstanding: u64,
    /// Batches sent, retries included.
    pub batches_sent: u64,
    /// Batches sent again after a retriable error.
    pub batches_retried: u64,
    /// Produce requests sent.
    pub requests_sent: u64,
    /// Bytes of the batches' records before compression, first sends only.
    pub bytes_before_compression: u64,
    /// Bytes of the batches as sent (after compression), first sends only.
    pub bytes_after_compression: u64,
    /// How long batches waited from their first record to their first send (Java
    /// `record-queue-time-avg` / `-max`).
    pub queue_time: LatencySummary,
    /// Bytes of `buffer.memory` in use.
    pub buffer_used_bytes: u64,
    /// `buffer.memory`.
    pub buffer_total_bytes: u64,
    /// Times a caller waited for buffer room (`enqueue`, the blocking facade's `send`).
    pub buffer_waits: u64,
    /// Total time callers waited for buffer room (Java `bufferpool-wait-time-ns-total`).
    pub buffer_wait_time: Duration,
    /// Metadata requests sent.
    pub metadata_requests: u64,
    /// Times the idempotent producer bumped its epoch (or got a new producer id) to
    /// restart its sequences, and transactions ended with a new epoch.
    pub epoch_bumps: u64,
    /// Per broker (node id).
    pub brokers: BTreeMap<i32, BrokerMetrics>,
    /// Per topic, for the records that went into batches (records that failed while
    /// waiting for their topic's metadata count only in the totals above).
    pub topics: BTreeMap<String, TopicMetrics>,
}

impl ProducerMetrics {
    /// Bytes after compression over bytes before (1.0 when nothing was sent or nothing
    /// compressed; Java `compression-rate-avg`).
    pub fn compression_ratio(&self) -> f64 {
        if self.bytes_before_compression == 0 {
            return 1.0;
        }
        self.bytes_after_compression as f64 / self.bytes_before_compression as f64
    }

    /// Mean records per Produce request, retries included (Java
    /// `records-per-request-avg`).
    pub fn records_per_request(&self) -> f64 {
        if self.requests_sent == 0 {
            return 0.0;
        }
        (self.records_acknowledged + self.records_failed + self.records_retried) as f64
            / self.requests_sent as f64
    }

    /// Bytes of `buffer.memory` free (Java `buffer-available-bytes`).
    pub fn buffer_available_bytes(&self) -> u64 {
        self.buffer_total_bytes
            .saturating_sub(self.buffer_used_bytes)
    }

    /// Produce requests in flight now, over all brokers (Java `requests-in-flight`).
    pub fn in_flight_requests(&self) -> u64 {
        self.brokers.values().map(|b| b.in_flight_requests).sum()
    }
}

/// What the producer did with one broker.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct BrokerMetrics {
    /// Requests of any kind sent to it (Java `request-total` per node).
    pub requests_sent: u64,
    /// Produce requests sent to it.
    pub produce_requests: u64,
    /// Time from sending a Produce request to its answer (Java `request-latency-avg` /
    /// `-max`, per node).
    pub produce_latency: LatencySummary,
    /// Requests in flight now.
    pub in_flight_requests: u64,
    /// Throttle times the broker asked for in Produce answers (Java
    /// `produce-throttle-time-avg` / `-max`).
    pub throttle_time: LatencySummary,
    /// Connections made (the handshake done; Java `connection-creation-total`).
    pub connections_opened: u64,
    /// Ready connections that were lost or closed (Java `connection-close-total`).
    pub connections_closed: u64,
    /// Attempts to connect that failed.
    pub connection_failures: u64,
}

/// What the producer did with one topic's batches (Java's `producer-topic-metrics`).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct TopicMetrics {
    /// Records in batches sent for the first time (Java `record-send-total` per topic).
    pub records_sent: u64,
    /// Records the brokers acknowledged.
    pub records_acknowledged: u64,
    /// Records of its batches that failed for good (Java `record-error-total` per topic).
    pub records_failed: u64,
    /// Records sent again after a retriable error (Java `record-retry-total` per topic).
    pub records_retried: u64,
    /// Bytes of its batches' records before compression, first sends only.
    pub bytes_before_compression: u64,
    /// Bytes of its batches as sent, first sends only (Java `byte-total` per topic).
    pub bytes_after_compression: u64,
}

impl TopicMetrics {
    /// Bytes after compression over bytes before (1.0 when nothing was sent; Java
    /// `compression-rate` per topic).
    pub fn compression_ratio(&self) -> f64 {
        if self.bytes_before_compression == 0 {
            return 1.0;
        }
        self.bytes_after_compression as f64 / self.bytes_before_compression as f64
    }
}

/// The sender's counts (one lock per event).
#[derive(Debug, Default)]
pub(crate) struct SenderMetrics {
    pub records_acknowledged: u64,
    pub records_failed: u64,
    pub records_failed_by_error: BTreeMap<String, u64>,
    pub records_retried: u64,
    pub batches_sent: u64,
    pub batches_retried: u64,
    pub requests_sent: u64,
    pub bytes_before_compression: u64,
    pub bytes_after_compression: u64,
    pub queue_time: Histogram,
    pub metadata_requests: u64,
    pub epoch_bumps: u64,
    pub brokers: BTreeMap<i32, BrokerCounts>,
    pub topics: BTreeMap<Arc<str>, TopicMetrics>,
}

/// The sender's counts for one broker.
#[derive(Debug, Default)]
pub(crate) struct BrokerCounts {
    pub requests_sent: u64,
    pub produce_requests: u64,
    pub produce_latency: Histogram,
    pub in_flight_requests: u64,
    pub throttle_time: Histogram,
    pub connections_opened: u64,
    pub connections_closed: u64,
    pub connection_failures: u64,
    /// The facade's handle for OpenTelemetry's `messaging.client.operation.duration`
    /// with this broker's labels, once a Produce answer came while exporting.
    #[cfg(feature = "metrics")]
    pub operation_duration: Option<::metrics::Histogram>,
}

impl SenderMetrics {
    /// The counts of `broker`.
    pub(crate) fn broker(&mut self, broker: i32) -> &mut BrokerCounts {
        self.brokers.entry(broker).or_default()
    }

    /// The counts of `topic` (its name is copied once, the first time).
    pub(crate) fn topic(&mut self, topic: &Arc<str>) -> &mut TopicMetrics {
        if !self.topics.contains_key(&**topic) {
            self.topics
                .insert(Arc::clone(topic), TopicMetrics::default());
        }
        self.topics.get_mut(&**topic).expect("inserted above")
    }

    /// The snapshot of these counts (the producer-side figures are filled in by the
    /// caller).
    pub(crate) fn snapshot(&self) -> ProducerMetrics {
        ProducerMetrics {
            records_acknowledged: self.records_acknowledged,
            records_failed: self.records_failed,
            records_failed_by_error: self.records_failed_by_error.clone(),
            records_retried: self.records_retried,
            batches_sent: self.batches_sent,
            batches_retried: self.batches_retried,
            requests_sent: self.requests_sent,
            bytes_before_compression: self.bytes_before_compression,
            bytes_after_compression: self.bytes_after_compression,
            queue_time: self.queue_time.summary(),
            metadata_requests: self.metadata_requests,
            epoch_bumps: self.epoch_bumps,
            brokers: self
                .brokers
                .iter()
                .map(|(id, b)| {
                    (
                        *id,
                        BrokerMetrics {
                            requests_sent: b.requests_sent,
                            produce_requests: b.produce_requests,
                            produce_latency: b.produce_latency.summary(),
                            in_flight_requests: b.in_flight_requests,
                            throttle_time: b.throttle_time.summary(),
                            connections_opened: b.connections_opened,
                            connections_closed: b.connections_closed,
                            connection_failures: b.connection_failures,
                        },
                    )
                })
                .collect(),
            topics: self
                .topics
                .iter()
                .map(|(name, t)| (name.to_string(), t.clone()))
                .collect(),
            ..ProducerMetrics::default()
        }
    }
}

/// The name a failed record is counted under: the Kafka error code's name when there is
/// one (a delivery timeout's is `DELIVERY_TIMEOUT`, whatever came before it), else the
/// kind of client error.
pub(crate) fn error_name(error: &crate::Error) -> String {
    use crate::Error as E;
    let kind = match error {
        E::DeliveryTimeout { .. } => "DELIVERY_TIMEOUT",
        E::Transaction(crate::TransactionError::Aborted) => "TRANSACTION_ABORTED",
        _ => match error.error_code() {
            Some(code) => return code.name().to_owned(),
            None => match error {
                E::Config { .. } => "CONFIG",
                E::QueueFull { .. } | E::MetadataWaitFull { .. } => "BUFFER_FULL",
                E::InvalidTimestamp(_) => "INVALID_TIMESTAMP",
                E::RecordTooLarge { .. } => "RECORD_TOO_LARGE",
                E::InvalidPartition { .. } => "INVALID_PARTITION",
                E::InvalidTopic(_) | E::TopicNotFound { .. } => "TOPIC",
                E::NotSent { .. } => "NOT_SENT",
                E::Bootstrap { .. } | E::Connection { .. } => "CONNECTION",
                E::UnsupportedBroker { .. } => "UNSUPPORTED_BROKER",
                E::Protocol { .. } | E::Encode(_) => "PROTOCOL",
                E::Closed => "CLOSED",
                E::Timeout(_) => "TIMEOUT",
                E::Serialization(_) => "SERIALIZATION",
                E::Transaction(_) => "TRANSACTION",
                _ => "OTHER",
            },
        },
    };
    kind.to_owned()
}
