//! The snapshot through the [`metrics`] crate facade (feature `metrics`), so whatever
//! exporter the application installed (Prometheus, StatsD, OpenTelemetry, ...) carries it:
//! totals as counters, current values and averages as gauges, named after Java's producer
//! metrics under `kafka.producer.` (an exporter turns `kafka.producer.record-send-total`
//! into `kafka_producer_record_send_total`), labelled `client_id` (Java's `client-id`)
//! and, per broker, `node_id`, per topic, `topic`; the OpenTelemetry messaging convention's
//! `messaging.client.sent.messages` too, and its `messaging.client.operation.duration`
//! histogram, recorded at each Produce answer (one value per request, in seconds).
//!
//! # References
//! - Java producer metrics (`producer-metrics`, `producer-node-metrics` groups)
//! - OpenTelemetry semantic conventions for messaging metrics

use std::time::Duration;

use metrics::{counter, describe_histogram, gauge, histogram, Unit};

use super::ProducerMetrics;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

impl ProducerMetrics {
    /// Publishes this snapshot through the `metrics` facade (see the module
    /// documentation and METRICS.md for the names). A producer built with
    /// [`export_metrics`](crate::ProducerBuilder::export_metrics) does it on its own.
    pub fn export(&self) {
        let client = [("client_id", self.client_id.clone())];
        let total = |name: &'static str, value: u64| {
            counter!(name, &client).absolute(value);
        };
        total("kafka.producer.record-send-total", self.records_sent);
        total("kafka.producer.record-ack-total", self.records_acknowledged);
        total("kafka.producer.record-error-total", self.records_failed);
        total("kafka.producer.record-retry-total", self.records_retried);
        total("kafka.producer.batch-total", self.batches_sent);
        total("kafka.producer.batch-retry-total", self.batches_retried);
        total("kafka.producer.produce-request-total", self.requests_sent);
        total(
            "kafka.producer.record-bytes-before-compression-total",
            self.bytes_before_compression,
        );
        total(
            "kafka.producer.batch-bytes-sent-total",
            self.bytes_after_compression,
        );
        total(
            "kafka.producer.bufferpool-wait-time-ns-total",
            u64::try_from(self.buffer_wait_time.as_nanos()).unwrap_or(u64::MAX),
        );
        total(
            "kafka.producer.metadata-request-total",
            self.metadata_requests,
        );
        total("kafka.producer.epoch-bump-total", self.epoch_bumps);
        let messaging = [
            ("messaging.system", "kafka".to_owned()),
            ("client_id", self.client_id.clone()),
        ];
        counter!("messaging.client.sent.messages", &messaging).absolute(self.records_sent);
        for (error, n) in &self.records_failed_by_error {
            let labels = [
                ("client_id", self.client_id.clone()),
                ("error", error.clone()),
            ];
            counter!("kafka.producer.record-error-total-by-error", &labels).absolute(*n);
        }

        let now = |name: &'static str, value: f64| {
            gauge!(name, &client).set(value);
        };
        now(
            "kafka.producer.buffer-available-bytes",
            self.buffer_available_bytes() as f64,
        );
        now(
            "kafka.producer.buffer-total-bytes",
            self.buffer_total_bytes as f64,
        );
        now(
            "kafka.producer.requests-in-flight",
            self.in_flight_requests() as f64,
        );
        now(
            "kafka.producer.records-outstanding",
            self.records_outstanding as f64,
        );
        now(
            "kafka.producer.compression-rate-avg",
            self.compression_ratio(),
        );
        now(
            "kafka.producer.records-per-request-avg",
            self.records_per_request(),
        );
        now(
            "kafka.producer.record-queue-time-avg",
            ms(self.queue_time.mean),
        );
        now(
            "kafka.producer.record-queue-time-max",
            ms(self.queue_time.max),
        );

        for (node, b) in &self.brokers {
            let labels = [
                ("client_id", self.client_id.clone()),
                ("node_id", node.to_string()),
            ];
            counter!("kafka.producer.request-total", &labels).absolute(b.requests_sent);
            counter!("kafka.producer.connection-creation-total", &labels)
                .absolute(b.connections_opened);
            counter!("kafka.producer.connection-close-total", &labels)
                .absolute(b.connections_closed);
            counter!("kafka.producer.connection-failure-total", &labels)
                .absolute(b.connection_failures);
            gauge!("kafka.producer.request-latency-avg", &labels).set(ms(b.produce_latency.mean));
            gauge!("kafka.producer.request-latency-p99", &labels).set(ms(b.produce_latency.p99));
            gauge!("kafka.producer.request-latency-max", &labels).set(ms(b.produce_latency.max));
            gauge!("kafka.producer.produce-throttle-time-avg", &labels)
                .set(ms(b.throttle_time.mean));
            gauge!("kafka.producer.produce-throttle-time-max", &labels)
                .set(ms(b.throttle_time.max));
            gauge!("kafka.producer.node-requests-in-flight", &labels)
                .set(b.in_flight_requests as f64);
        }

        for (topic, t) in &self.topics {
            let labels = [
                ("client_id", self.client_id.clone()),
                ("topic", topic.clone()),
            ];
            counter!("kafka.producer.topic.record-send-total", &labels).absolute(t.records_sent);
            counter!("kafka.producer.topic.record-ack-total", &labels)
                .absolute(t.records_acknowledged);
            counter!("kafka.producer.topic.record-error-total", &labels).absolute(t.records_failed);
            counter!("kafka.producer.topic.record-retry-total", &labels)
                .absolute(t.records_retried);
            counter!("kafka.producer.topic.byte-total", &labels)
                .absolute(t.bytes_after_compression);
            gauge!("kafka.producer.topic.compression-rate", &labels).set(t.compression_ratio());
        }
    }
}

/// OpenTelemetry's name for the time from sending a request to its answer.
pub(crate) const OPERATION_DURATION: &str = "messaging.client.operation.duration";

/// The facade's histogram of Produce request durations to the broker at `address`
/// (`host:port`), with OpenTelemetry's attributes; the sender records each answer's
/// round trip in it (seconds).
pub(crate) fn operation_duration(
    client_id: &str,
    node_id: i32,
    address: &str,
) -> metrics::Histogram {
    describe_histogram!(
        OPERATION_DURATION,
        Unit::Seconds,
        "Time from sending a Produce request to its answer"
    );
    let (host, port) = address.rsplit_once(':').unwrap_or((address, ""));
    histogram!(
        OPERATION_DURATION,
        "messaging.system" => "kafka",
        "messaging.operation.name" => "produce",
        "messaging.operation.type" => "send",
        "server.address" => host.to_owned(),
        "server.port" => port.to_owned(),
        "client_id" => client_id.to_owned(),
        "node_id" => node_id.to_string(),
    )
}
