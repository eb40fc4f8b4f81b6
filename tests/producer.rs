//! The producer against a real single-node Apache Kafka (kiel-testcontainers; or the cluster
//! in `KAFKA_BOOTSTRAP`). What kiel wrote is read back with Kafka's own console consumer,
//! never with kiel's decoder.

mod common;

use common::{base_timestamp, unique};

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kiel::{Acks, Compression, Error, Producer, Record, TimestampType};
use kiel_testcontainers::{shared_cluster, FaultProxies, KafkaCluster};

async fn cluster() -> &'static KafkaCluster {
    shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker: {e}"))
}

const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Records with every shape: keys and null keys, values and null values, headers with null
/// values and repeated keys, explicit timestamps.
fn record(i: u64) -> Record {
    let mut r = Record::value(format!("value-{i}"));
    if !i.is_multiple_of(5) {
        r = r.with_key(format!("key-{}", i % 7));
    }
    if i.is_multiple_of(11) {
        r.value = None;
    }
    if i.is_multiple_of(3) {
        r = r
            .with_header("h", format!("{i}"))
            .with_null_header("n")
            .with_header("h", "again");
    }
    r.with_timestamp(base_timestamp() + i as i64)
}

async fn produce_and_check(producer: &Producer, cluster: &KafkaCluster, topic: &str, n: u64) {
    let mut futures = Vec::new();
    for i in 0..n {
        futures.push((
            i,
            producer
                .produce(topic, record(i))
                .unwrap_or_else(|e| panic!("produce {i}: {e}")),
        ));
    }
    let mut placed: BTreeMap<i32, Vec<(i64, u64)>> = BTreeMap::new();
    for (i, f) in futures {
        let m = f.await.unwrap_or_else(|e| panic!("record {i}: {e}"));
        assert_eq!(&*m.topic, topic);
        assert_eq!(m.timestamp, base_timestamp() + i as i64);
        assert_eq!(m.timestamp_type, TimestampType::CreateTime);
        placed.entry(m.partition).or_default().push((m.offset, i));
    }
    // Offsets grow in produce order within each partition.
    for (p, list) in &placed {
        assert!(
            list.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1),
            "partition {p} out of order"
        );
    }
    let read = cluster
        .consume_all(topic, n as usize, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("reading back {topic}: {e}"));
    assert_eq!(read.len() as u64, n, "read back {} of {n}", read.len());
    let by_position: BTreeMap<(i32, i64), u64> = placed
        .iter()
        .flat_map(|(p, list)| list.iter().map(move |(o, i)| ((*p, *o), *i)))
        .collect();
    for c in &read {
        let i = by_position
            .get(&(c.partition, c.offset))
            .unwrap_or_else(|| panic!("unexpected record at {}-{}", c.partition, c.offset));
        let want = record(*i);
        assert_eq!(c.key.as_deref(), want.key.as_deref(), "key of {i}");
        assert_eq!(c.value.as_deref(), want.value.as_deref(), "value of {i}");
        assert_eq!(
            c.timestamp,
            base_timestamp() + *i as i64,
            "timestamp of {i}"
        );
        let headers: Vec<(String, Option<Vec<u8>>)> = want
            .headers
            .iter()
            .map(|h| (h.key.clone(), h.value.as_ref().map(|v| v.to_vec())))
            .collect();
        assert_eq!(c.headers, headers, "headers of {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_round_trip_through_kafka_with_every_codec() {
    let cluster = cluster().await;
    for codec in Compression::ALL {
        let topic = unique(&format!("codec-{codec}"));
        cluster
            .create_topic(&topic, 3, 1, &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let producer = Producer::builder()
            .bootstrap_servers(&cluster.bootstrap())
            .compression(codec)
            .linger(Duration::from_millis(20))
            .build()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        produce_and_check(&producer, cluster, &topic, 600).await;
        producer.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_topic_is_created_and_healed() {
    let cluster = cluster().await;
    let topic = unique("auto-created");
    let producer = Producer::new(&cluster.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let m = producer
        .send(&topic, Record::value("first"))
        .await
        .unwrap_or_else(|e| panic!("send to a new topic: {e}"));
    assert_eq!((m.partition, m.offset), (0, 0));
    let read = cluster
        .consume_all(&topic, 1, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read[0].value.as_deref(), Some(&b"first"[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_first_bootstrap_broker_is_skipped() {
    let cluster = cluster().await;
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    // Nothing listens there once the listener above is dropped.
    let bootstrap = format!("{dead},{}", cluster.bootstrap());
    let producer = Producer::new(&bootstrap)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let topic = unique("dead-first");
    producer
        .send(&topic, Record::value("ok"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_reachable_bootstrap_broker_is_a_clear_error() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.to_string())
        .unwrap_or_else(|e| panic!("{e}"));
    let err = Producer::builder()
        .bootstrap_servers(&dead)
        .max_block(Duration::from_secs(5))
        .build()
        .await
        .expect_err("no broker listens there");
    assert!(matches!(err, Error::Bootstrap { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_record_and_bad_settings_are_refused_before_sending() {
    let cluster = cluster().await;
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .max_request_size(10_000)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let err = producer
        .produce("any", Record::value(vec![0u8; 20_000]))
        .expect_err("20 kB is over max.request.size");
    assert!(
        matches!(
            err,
            Error::RecordTooLarge {
                setting: "max.request.size",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(producer.outstanding_count(), 0);

    let err = Producer::from_properties([
        ("bootstrap.servers", cluster.bootstrap().as_str()),
        ("linger.msec", "5"),
    ])
    .await
    .expect_err("unknown key");
    assert!(
        matches!(&err, Error::Config { key, .. } if key == "linger.msec"),
        "{err}"
    );
    let err = Producer::from_properties([
        ("bootstrap.servers", cluster.bootstrap().as_str()),
        ("acks", "most"),
    ])
    .await
    .expect_err("bad value");
    assert!(
        matches!(&err, Error::Config { key, .. } if key == "acks"),
        "{err}"
    );
    let err = producer
        .produce("bad topic name!", Record::value("v"))
        .expect_err("invalid topic");
    assert!(matches!(err, Error::InvalidTopic(_)), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_zero_sends_without_answers() {
    let cluster = cluster().await;
    let topic = unique("acks0");
    cluster
        .create_topic(&topic, 2, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .acks(Acks::None)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(!producer.config().idempotence());
    let futures: Vec<_> = (0..100)
        .map(|i| {
            producer
                .produce(&topic, Record::value(format!("{i}")))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for f in futures {
        let m = f.await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.offset, -1, "acks=0 reports no offset");
    }
    let read = cluster
        .consume_all(&topic, 100, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_append_time_is_reported_when_the_topic_uses_it() {
    let cluster = cluster().await;
    let topic = unique("append-time");
    cluster
        .create_topic(&topic, 1, 1, &[("message.timestamp.type", "LogAppendTime")])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::new(&cluster.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let m = producer
        .send(&topic, Record::value("v").with_timestamp(1))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(m.timestamp_type, TimestampType::LogAppendTime);
    assert!(
        m.timestamp > 1_600_000_000_000,
        "broker time, not the record's: {}",
        m.timestamp
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_the_broker_finds_too_large_is_split() {
    let cluster = cluster().await;
    let topic = unique("split");
    // The topic takes batches of at most ~3 kB; the producer builds 16 kB ones.
    cluster
        .create_topic(&topic, 1, 1, &[("max.message.bytes", "3000")])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .linger(Duration::from_millis(200))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let futures: Vec<_> = (0..24)
        .map(|i| {
            producer
                .produce(&topic, Record::value(vec![b'a' + (i % 26) as u8; 500]))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let mut offsets = Vec::new();
    for f in futures {
        offsets.push(
            f.await
                .unwrap_or_else(|e| panic!("split should deliver every record: {e}"))
                .offset,
        );
    }
    assert_eq!(offsets, (0..24).collect::<Vec<i64>>());
    let read = cluster
        .consume_all(&topic, 24, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(read.iter().enumerate().all(|(i, r)| r
        .value
        .as_ref()
        .is_some_and(|v| v[0] == b'a' + (i % 26) as u8)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_reports_what_is_left_when_its_timeout_expires() {
    let cluster = cluster().await;
    // Through fault proxies that hold every byte, records cannot finish before their
    // delivery timeout whatever the machine's speed.
    let proxies = FaultProxies::start(cluster)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let stuck = unique("flush-stuck");
    cluster
        .create_topic(&stuck, 1, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&proxies.bootstrap())
        .request_timeout(Duration::from_secs(2))
        .delivery_timeout(Duration::from_secs(4))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    producer
        .send(&stuck, Record::value("warm"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    proxies.black_hole_all();
    let futures: Vec<_> = (0..10)
        .map(|i| {
            producer
                .produce(&stuck, Record::value(format!("{i}")))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    assert_eq!(producer.flush(Duration::from_millis(500)).await, 10);
    assert_eq!(producer.outstanding_count(), 10);
    // Once the delivery timeout fails them, nothing is left.
    assert_eq!(producer.flush(Duration::from_secs(30)).await, 0);
    for future in futures {
        match future.await {
            Err(Error::DeliveryTimeout { .. }) => {}
            other => panic!("expected a delivery timeout, got {other:?}"),
        }
    }
    producer.close().await;
    proxies.resume_all();

    // Flush ignores linger: records lingering for a minute go at once.
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .linger(Duration::from_secs(60))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let topic = unique("flush");
    cluster
        .create_topic(&topic, 1, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Learn the topic first so the records below go straight into a batch.
    drop(
        producer
            .produce(&topic, Record::value("warm"))
            .unwrap_or_else(|e| panic!("{e}")),
    );
    assert_eq!(producer.flush(Duration::from_secs(30)).await, 0);
    for i in 0..10 {
        drop(
            producer
                .produce(&topic, Record::value(format!("{i}")))
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    assert_eq!(producer.unsent_count(), 10, "linger holds them");
    assert_eq!(producer.flush(Duration::from_secs(30)).await, 0);
    assert_eq!(producer.unsent_count(), 0);
    producer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_get_every_outcome() {
    let cluster = cluster().await;
    let topic = unique("callbacks");
    let producer = Producer::new(&cluster.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let ok = Arc::new(AtomicUsize::new(0));
    for i in 0..50 {
        let ok = Arc::clone(&ok);
        producer
            .produce_with_callback(&topic, Record::value(format!("{i}")), move |r| {
                if r.is_ok() {
                    ok.fetch_add(1, Ordering::SeqCst);
                }
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(producer.flush(Duration::from_secs(60)).await, 0);
    assert_eq!(ok.load(Ordering::SeqCst), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_facade_works_without_a_runtime() {
    let cluster = cluster().await;
    let bootstrap = cluster.bootstrap();
    let topic = unique("blocking");
    let topic2 = topic.clone();
    let offsets = tokio::task::spawn_blocking(move || {
        let producer = kiel::blocking::Producer::new(&bootstrap).unwrap_or_else(|e| panic!("{e}"));
        let first = producer
            .send(&topic2, Record::value("a"))
            .unwrap_or_else(|e| panic!("{e}"));
        let handle = producer
            .produce(&topic2, Record::value(Bytes::from_static(b"b")))
            .unwrap_or_else(|e| panic!("{e}"));
        let second = handle.wait().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(producer.flush(Duration::from_secs(10)), 0);
        producer.close();
        (first.offset, second.offset)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(offsets, (0, 1));
    let read = cluster
        .consume_all(&topic, 2, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_full_is_immediate_and_send_waits_for_room() {
    let cluster = cluster().await;
    let topic = unique("backpressure");
    cluster
        .create_topic(&topic, 1, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .buffer_memory(4_000)
        .linger(Duration::from_secs(60))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // With the topic's partitions known, records go straight into batches: the whole
    // buffer is theirs (while they wait for metadata, only a share of it is).
    assert_eq!(producer.partition_count(&topic).await.ok(), Some(1));
    let mut accepted = Vec::new();
    let err = loop {
        match producer.produce(&topic, Record::value(vec![1u8; 500])) {
            Ok(f) => accepted.push(f),
            Err(e) => break e,
        }
        assert!(accepted.len() < 100, "buffer.memory is never enforced");
    };
    assert!(matches!(err, Error::QueueFull { .. }), "{err}");
    // send() waits for room: the flush below frees it.
    let producer2 = producer.clone();
    let topic2 = topic.clone();
    let waiting =
        tokio::spawn(async move { producer2.send(&topic2, Record::value("after")).await });
    assert_eq!(producer.flush(Duration::from_secs(30)).await, 0);
    waiting
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|e| panic!("{e}"));
    for f in accepted {
        f.await.unwrap_or_else(|e| panic!("{e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partition_count_fetches_metadata_once_and_gives_up_after_max_block() {
    let cluster = cluster().await;
    let topic = unique("partition-count");
    cluster
        .create_topic(&topic, 5, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::new(&cluster.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(
        producer.partition_count("bad topic name").await,
        Err(Error::InvalidTopic(_))
    ));
    assert_eq!(producer.partition_count(&topic).await.ok(), Some(5));
    let future = producer
        .produce(&topic, Record::value("v"))
        .unwrap_or_else(|e| panic!("{e}"));
    let m = future.await.unwrap_or_else(|e| panic!("{e}"));
    assert!((0..5).contains(&m.partition), "{m:?}");
    producer.close().await;

    // Brokers that never answer: the wait ends after max.block.ms with a clear error.
    let proxies = FaultProxies::start(cluster)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&proxies.bootstrap())
        .max_block(Duration::from_secs(1))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    proxies.black_hole_all();
    let started = std::time::Instant::now();
    match producer.partition_count(&unique("never-described")).await {
        Err(Error::TopicNotFound { waited_ms, .. }) => assert_eq!(waited_ms, 1000),
        other => panic!("expected TopicNotFound, got {other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_secs(1));
    proxies.resume_all();
    producer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_before_metadata_fills_its_share_and_enqueue_waits_for_the_topic() {
    let cluster = cluster().await;
    let topic = unique("burst");
    // The broker creates the topic on first use: its metadata takes a moment.
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .buffer_memory(256 * 1024)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut futures = Vec::new();
    let refused = loop {
        match producer.produce(&topic, Record::value("x")) {
            Ok(future) => futures.push(future),
            Err(e) => break e,
        }
        assert!(
            futures.len() < 100_000,
            "the waiting share is never enforced"
        );
    };
    // produce() says it is the wait for metadata that is full, and how to wait instead.
    assert!(
        matches!(&refused, Error::MetadataWaitFull { topic: t, .. } if *t == topic),
        "{refused}"
    );
    assert!(refused.to_string().contains("metadata"), "{refused}");
    assert!(refused.is_retriable());
    // enqueue() in a tight loop waits instead of failing, and every record lands.
    for i in 0..20_000 {
        futures.push(
            producer
                .enqueue(&topic, Record::value(format!("{i}")))
                .await
                .unwrap_or_else(|e| panic!("enqueue {i}: {e}")),
        );
    }
    let count = futures.len();
    for future in futures {
        future.await.unwrap_or_else(|e| panic!("{e}"));
    }
    producer.close().await;
    let read = cluster
        .consume_all(&topic, count, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len(), count);
}
