//! kiel's metrics through the `metrics` facade (feature `metrics`), rendered by the facade's
//! Prometheus exporter after a run against a real broker (kiel-testcontainers' shared
//! cluster, or `KAFKA_BOOTSTRAP`): the documented series are there, with non-zero values,
//! per client, broker and topic, and OpenTelemetry's duration histogram.

mod common;

use common::unique;

use std::time::{Duration, Instant};

use kiel::{Producer, Record};
use kiel_testcontainers::shared_cluster;
use metrics_exporter_prometheus::PrometheusBuilder;

/// The value of the series whose line starts with `series` (name and labels), if present.
fn value(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scrape_has_the_documented_series() {
    let prometheus = PrometheusBuilder::new()
        .install_recorder()
        .unwrap_or_else(|e| panic!("installing the Prometheus recorder: {e}"));
    let cluster = shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker: {e}"));
    let topic = unique("prometheus");
    cluster
        .create_topic(&topic, 2, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .client_id("prom-test")
        .export_metrics(Duration::from_millis(100))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    for i in 0..500 {
        // Fire and forget: the flush below waits for every outcome.
        drop(
            producer
                .produce(&topic, Record::value(format!("{i}")))
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    assert_eq!(producer.flush(Duration::from_secs(30)).await, 0);
    // An export after the flush: every record acknowledged.
    let acknowledged = "kafka_producer_record_ack_total{client_id=\"prom-test\"}";
    let deadline = Instant::now() + Duration::from_secs(10);
    let scrape = loop {
        let scrape = prometheus.render();
        if value(&scrape, acknowledged) == Some(500.0) {
            break scrape;
        }
        assert!(
            Instant::now() < deadline,
            "no export with 500 acknowledged:\n{scrape}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let client = "{client_id=\"prom-test\"}";
    for name in [
        "kafka_producer_record_send_total",
        "kafka_producer_produce_request_total",
        "kafka_producer_batch_total",
        "kafka_producer_batch_bytes_sent_total",
        "kafka_producer_buffer_total_bytes",
        "kafka_producer_buffer_available_bytes",
        "kafka_producer_records_per_request_avg",
        "kafka_producer_compression_rate_avg",
    ] {
        let series = format!("{name}{client}");
        let v = value(&scrape, &series).unwrap_or_else(|| panic!("no {series} in:\n{scrape}"));
        assert!(v > 0.0, "{series} is {v} in:\n{scrape}");
    }
    assert_eq!(
        value(
            &scrape,
            &format!("kafka_producer_record_send_total{client}")
        ),
        Some(500.0)
    );
    assert_eq!(
        value(
            &scrape,
            &format!("kafka_producer_record_error_total{client}")
        ),
        Some(0.0)
    );
    // Per broker: requests and their latency.
    let latency = scrape
        .lines()
        .find(|l| l.starts_with("kafka_producer_request_latency_avg{") && l.contains("prom-test"))
        .unwrap_or_else(|| panic!("no request latency in:\n{scrape}"));
    let ms: f64 = latency.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(ms > 0.0, "{latency}");
    assert!(scrape.contains("node_id=\""), "node labels:\n{scrape}");
    // The OpenTelemetry messaging convention's name.
    assert!(
        scrape
            .lines()
            .any(|l| l.starts_with("messaging_client_sent_messages{")
                && l.contains("messaging_system=\"kafka\"")
                && l.ends_with(" 500")),
        "messaging.client.sent.messages:\n{scrape}"
    );
    // Per topic.
    let of_topic = format!("{{client_id=\"prom-test\",topic=\"{topic}\"}}");
    for (name, expected) in [
        ("kafka_producer_topic_record_send_total", Some(500.0)),
        ("kafka_producer_topic_record_ack_total", Some(500.0)),
        ("kafka_producer_topic_record_error_total", Some(0.0)),
        ("kafka_producer_topic_byte_total", None),
        ("kafka_producer_topic_compression_rate", Some(1.0)),
    ] {
        let series = format!("{name}{of_topic}");
        let v = value(&scrape, &series).unwrap_or_else(|| panic!("no {series} in:\n{scrape}"));
        match expected {
            Some(expected) => assert_eq!(v, expected, "{series}"),
            None => assert!(v > 500.0, "{series} is {v}"),
        }
    }
    // OpenTelemetry's duration histogram: one observation per Produce request, in
    // seconds (the exporter renders a histogram without buckets as a summary).
    let requests = value(
        &scrape,
        &format!("kafka_producer_produce_request_total{client}"),
    )
    .unwrap();
    let durations: f64 = scrape
        .lines()
        .filter(|l| {
            l.starts_with("messaging_client_operation_duration_count{")
                && l.contains("client_id=\"prom-test\"")
                && l.contains("messaging_operation_name=\"produce\"")
                && l.contains("server_address=\"")
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(durations, requests, "a duration per request:\n{scrape}");
    let longest = scrape
        .lines()
        .find(|l| {
            l.starts_with("messaging_client_operation_duration{") && l.contains("quantile=\"1\"")
        })
        .unwrap_or_else(|| panic!("no duration quantiles in:\n{scrape}"));
    let seconds: f64 = longest.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(seconds > 0.0 && seconds < 30.0, "{longest}");

    // Closing exports one last time: a record produced just before it is counted.
    drop(producer.produce(&topic, Record::value("last")).unwrap());
    producer.close().await;
    let scrape = prometheus.render();
    assert_eq!(
        value(
            &scrape,
            &format!("kafka_producer_topic_record_ack_total{of_topic}")
        ),
        Some(501.0),
        "{scrape}"
    );
}
