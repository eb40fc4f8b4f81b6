//! `Producer::metrics()` against a real Apache Kafka (kiel-testcontainers' shared
//! single-node cluster, or `KAFKA_BOOTSTRAP`): a known workload counted exactly (records,
//! failures by error, retries forced through a fault proxy) and plausibly (latency above
//! zero, lz4 shrinking repetitive records).

mod common;

use common::unique;

use std::time::{Duration, Instant};

use kiel::{Compression, Producer, Record};
use kiel_testcontainers::{shared_cluster, FaultProxies, KafkaCluster};

async fn cluster() -> &'static KafkaCluster {
    shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker: {e}"))
}

/// Awaits `condition` on the producer's metrics, polling, for at most `limit`.
async fn until(
    producer: &Producer,
    limit: Duration,
    what: &str,
    condition: impl Fn(&kiel::ProducerMetrics) -> bool,
) {
    let deadline = Instant::now() + limit;
    loop {
        let m = producer.metrics();
        if condition(&m) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what} not within {limit:?}: {m:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_known_workload_is_counted_exactly() {
    let cluster = cluster().await;
    let topic = unique("metrics");
    cluster
        .create_topic(&topic, 3, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .compression(Compression::Lz4)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let futures: Vec<_> = (0..1000)
        .map(|i| {
            let value = format!("{:0>200}", i % 10);
            producer
                .produce(&topic, Record::key_value(format!("k{}", i % 30), value))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for f in futures {
        f.await.unwrap_or_else(|e| panic!("{e}"));
    }
    // Outcomes are counted as the records finish, just after their futures resolve.
    assert_eq!(producer.flush(Duration::from_secs(30)).await, 0);
    let m = producer.metrics();
    assert_eq!(m.records_sent, 1000, "{m:#?}");
    assert_eq!(m.records_acknowledged, 1000);
    assert_eq!(m.records_failed, 0);
    assert!(m.records_failed_by_error.is_empty());
    assert_eq!(m.records_retried, 0);
    assert_eq!(m.records_outstanding, 0);
    // Keys over 3 partitions: at least one batch each, and every batch in some request.
    assert!(m.batches_sent >= 3, "{m:#?}");
    assert!(m.requests_sent >= 1 && m.requests_sent <= m.batches_sent);
    assert!(
        m.compression_ratio() < 0.5,
        "lz4 of repetitive values: {}",
        m.compression_ratio()
    );
    assert!(m.records_per_request() > 1.0);
    assert_eq!(
        m.buffer_used_bytes, 0,
        "nothing buffered after every outcome"
    );
    assert!(m.buffer_total_bytes > 0);
    assert!(m.metadata_requests >= 1);
    let broker = m
        .brokers
        .values()
        .find(|b| b.produce_requests > 0)
        .unwrap_or_else(|| panic!("no broker took a Produce request: {m:#?}"));
    assert_eq!(broker.produce_latency.count, broker.produce_requests);
    assert!(broker.produce_latency.p50 > Duration::ZERO, "{broker:#?}");
    assert!(broker.produce_latency.max >= broker.produce_latency.p99);
    assert!(broker.connections_opened >= 1);
    assert_eq!(m.in_flight_requests(), 0);
    assert_eq!(
        m.brokers.values().map(|b| b.produce_requests).sum::<u64>(),
        m.requests_sent
    );
    // The one topic's counts are the totals.
    assert_eq!(m.topics.len(), 1, "{m:#?}");
    let t = &m.topics[&topic];
    assert_eq!(
        (
            t.records_sent,
            t.records_acknowledged,
            t.records_failed,
            t.records_retried
        ),
        (1000, 1000, 0, 0)
    );
    assert_eq!(t.bytes_after_compression, m.bytes_after_compression);
    assert_eq!(t.compression_ratio(), m.compression_ratio());
    producer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_record_is_counted_under_its_error() {
    let cluster = cluster().await;
    let topic = unique("metrics-refused");
    cluster
        .create_topic(&topic, 1, 1, &[("max.message.bytes", "2000")])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    producer
        .send(&topic, Record::value("small"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let refused = producer
        .send(&topic, Record::value(vec![b'x'; 10_000]))
        .await;
    assert!(refused.is_err(), "the broker refuses it: {refused:?}");
    assert_eq!(producer.flush(Duration::from_secs(30)).await, 0);
    let m = producer.metrics();
    assert_eq!(m.records_sent, 2, "{m:#?}");
    assert_eq!(m.records_acknowledged, 1);
    assert_eq!(m.records_failed, 1);
    assert_eq!(
        m.records_failed_by_error.get("MESSAGE_TOO_LARGE"),
        Some(&1),
        "{m:#?}"
    );
    let t = &m.topics[&topic];
    assert_eq!(
        (t.records_sent, t.records_acknowledged, t.records_failed),
        (2, 1, 1),
        "{t:#?}"
    );
    producer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_forced_by_a_fault_proxy_are_counted() {
    let cluster = cluster().await;
    let proxies = FaultProxies::start(cluster)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let topic = unique("metrics-retries");
    cluster
        .create_topic(&topic, 1, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&proxies.bootstrap())
        .request_timeout(Duration::from_secs(2))
        .linger(Duration::from_millis(50))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    producer
        .send(&topic, Record::value("warm"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Every byte held: the ten records' request times out and is sent again.
    proxies.black_hole_all();
    let futures: Vec<_> = (0..10)
        .map(|i| {
            producer
                .produce(&topic, Record::value(format!("{i}")))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    until(&producer, Duration::from_secs(30), "a retry", |m| {
        m.batches_retried >= 1
    })
    .await;
    proxies.resume_all();
    for f in futures {
        f.await.unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(producer.flush(Duration::from_secs(30)).await, 0);
    let m = producer.metrics();
    assert_eq!(m.records_sent, 11, "{m:#?}");
    assert_eq!(m.records_acknowledged, 11);
    assert_eq!(m.records_failed, 0);
    // The ten went in one batch (one partition, within linger); each retry resent all ten.
    assert!(m.batches_retried >= 1);
    assert_eq!(m.records_retried, 10 * m.batches_retried, "{m:#?}");
    let t = &m.topics[&topic];
    assert_eq!(t.records_retried, m.records_retried, "{t:#?}");
    assert_eq!((t.records_sent, t.records_acknowledged), (11, 11));
    let closed: u64 = m.brokers.values().map(|b| b.connections_closed).sum();
    assert!(closed >= 1, "the timed-out connection was closed: {m:#?}");
    producer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_statistics_callback_gets_json_with_librdkafka_names() {
    let cluster = cluster().await;
    let topic = unique("metrics-stats");
    cluster
        .create_topic(&topic, 2, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let producer = {
        let seen = std::sync::Arc::clone(&seen);
        Producer::builder()
            .bootstrap_servers(&cluster.bootstrap())
            .client_id("stats-test")
            .statistics(Duration::from_millis(100), move |m| {
                seen.lock().unwrap().push(m.to_json());
            })
            .build()
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    };
    for i in 0..100 {
        // Fire and forget: the flush below waits for every outcome.
        drop(
            producer
                .produce(&topic, Record::value(format!("{i}")))
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    assert_eq!(producer.flush(Duration::from_secs(30)).await, 0);
    // A snapshot taken after the flush reports all 100.
    let deadline = Instant::now() + Duration::from_secs(10);
    let json = loop {
        let last = seen.lock().unwrap().last().cloned();
        if let Some(json) = last.as_ref().filter(|j| j.contains("\"txmsgs\":100,")) {
            break json.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no snapshot with 100 records: {last:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let parsed: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(parsed["name"], "stats-test");
    assert_eq!(parsed["type"], "producer");
    assert_eq!(parsed["txmsgs"], 100);
    assert_eq!(parsed["msg_cnt"], 0);
    assert!(parsed["tx"].as_u64().is_some_and(|tx| tx >= 1), "{json}");
    let brokers = parsed["brokers"]
        .as_object()
        .unwrap_or_else(|| panic!("{json}"));
    assert!(
        brokers
            .values()
            .any(|b| b["rtt"]["cnt"].as_u64() > Some(0) && b["rtt"]["avg"].as_u64() > Some(0)),
        "a broker with round trips: {json}"
    );
    assert_eq!(parsed["kiel"]["records_acknowledged"], 100);
    assert_eq!(
        parsed["kiel"]["topics"][&topic]["records_acknowledged"], 100,
        "{json}"
    );
    // Closed: no more snapshots.
    producer.close().await;
    let count = seen.lock().unwrap().len();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        seen.lock().unwrap().len() <= count + 1,
        "snapshots after close"
    );
}
