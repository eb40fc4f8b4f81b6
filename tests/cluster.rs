//! The producer against a real 3-node Apache Kafka cluster (replication factor 3,
//! `min.insync.replicas=2`, automatic topic creation off), read back with Kafka's own
//! console consumer.
//!
//! Sizes: CI runs small ones. The full sizes of issue 4 (1,000,000 records over 12
//! partitions, once per codec) run with
//! `KIEL_FULL=1 cargo test --release -p kiel --test cluster -- --nocapture`.

mod common;

use common::{base_timestamp, unique};

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use kiel::{Compression, Error, Producer, Record};
use kiel_testcontainers::KafkaCluster;
use tokio::sync::OnceCell;

static CLUSTER: OnceCell<KafkaCluster> = OnceCell::const_new();

async fn cluster() -> &'static KafkaCluster {
    CLUSTER
        .get_or_init(|| async {
            KafkaCluster::builder()
                .nodes(3)
                .auto_create_topics(false)
                .replication_factor(3)
                .min_insync_replicas(2)
                .start()
                .await
                .unwrap_or_else(|e| panic!("this test needs a 3-node Kafka cluster: {e}"))
        })
        .await
}

fn full_size() -> bool {
    std::env::var_os("KIEL_FULL").is_some()
}

fn value(i: u64) -> String {
    format!("{i:012}")
}

/// Produces `n` records (key = i % 1000, value = i, header = i) as fast as the buffer
/// allows, and returns (partition, offset) per record.
async fn produce_n(producer: &Producer, topic: &str, n: u64) -> Vec<(i32, i64)> {
    let mut out = vec![(0, 0); n as usize];
    let mut pending = Vec::with_capacity(50_000);
    let mut i = 0;
    while i < n {
        let record = Record::key_value(format!("k{}", i % 1000), value(i))
            .with_header("i", i.to_string())
            .with_timestamp(base_timestamp() + i as i64);
        let future = producer
            .enqueue(topic, record)
            .await
            .unwrap_or_else(|e| panic!("produce {i}: {e}"));
        pending.push((i, future));
        if pending.len() == 50_000 {
            for (j, f) in pending.drain(..) {
                let m = f.await.unwrap_or_else(|e| panic!("record {j}: {e}"));
                out[j as usize] = (m.partition, m.offset);
            }
        }
        i += 1;
    }
    for (j, f) in pending {
        let m = f.await.unwrap_or_else(|e| panic!("record {j}: {e}"));
        out[j as usize] = (m.partition, m.offset);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_arrives_once_in_order_with_every_codec() {
    let cluster = cluster().await;
    let n: u64 = if full_size() { 1_000_000 } else { 20_000 };
    for codec in Compression::ALL {
        let topic = unique(&format!("big-{codec}"));
        cluster
            .create_topic(&topic, 12, 3, &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let producer = Producer::builder()
            .bootstrap_servers(&cluster.bootstrap())
            .compression(codec)
            .linger(Duration::from_millis(10))
            .batch_size(64 * 1024)
            .build()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        let placed = produce_n(&producer, &topic, n).await;
        let produce_time = started.elapsed();
        producer.close().await;
        let read = cluster
            .consume_all(&topic, n as usize, Duration::from_secs(120))
            .await
            .unwrap_or_else(|e| panic!("reading back {topic}: {e}"));
        assert_eq!(
            read.len() as u64,
            n,
            "{codec}: read back {} of {n}",
            read.len()
        );
        let mut seen = HashSet::with_capacity(n as usize);
        let mut last_per_partition: BTreeMap<i32, u64> = BTreeMap::new();
        for r in &read {
            let i: u64 = r
                .value
                .as_deref()
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| {
                    panic!("{codec}: unreadable value at {}-{}", r.partition, r.offset)
                });
            assert!(seen.insert(i), "{codec}: record {i} twice");
            assert_eq!(
                placed[i as usize],
                (r.partition, r.offset),
                "{codec}: record {i} not where its future said"
            );
            assert_eq!(
                r.key.as_deref(),
                Some(format!("k{}", i % 1000).as_bytes()),
                "{codec}: key of {i}"
            );
            assert_eq!(
                r.headers,
                vec![("i".to_owned(), Some(i.to_string().into_bytes()))],
                "{codec}: headers of {i}"
            );
            assert_eq!(
                r.timestamp,
                base_timestamp() + i as i64,
                "{codec}: timestamp of {i}"
            );
            if let Some(prev) = last_per_partition.insert(r.partition, i) {
                assert!(
                    prev < i,
                    "{codec}: partition {} has {i} after {prev}",
                    r.partition
                );
            }
        }
        eprintln!(
            "{codec}: {n} records over 12 partitions in {:.2?} ({:.0} records/s); read back all, once, in order",
            produce_time,
            n as f64 / produce_time.as_secs_f64()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_topic_with_auto_creation_off_fails_clearly() {
    let cluster = cluster().await;
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .max_block(Duration::from_secs(3))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let topic = unique("does-not-exist");
    let err = producer
        .send(&topic, Record::value("v"))
        .await
        .expect_err("the topic does not exist and the brokers do not create topics");
    match &err {
        Error::TopicNotFound {
            topic: t, reason, ..
        } => {
            assert_eq!(t, &topic);
            assert_eq!(*reason, kiel::protocol::ErrorCode::UnknownTopicOrPartition);
        }
        other => panic!("expected TopicNotFound, got {other}"),
    }
    assert!(err.to_string().contains(&topic), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_leader_mid_stream_loses_nothing_acknowledged() {
    let cluster = cluster().await;
    let topic = unique("kill-leader");
    cluster
        .create_topic(&topic, 6, 3, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .request_timeout(Duration::from_secs(10))
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let n: u64 = if full_size() { 200_000 } else { 30_000 };
    let victim = cluster
        .leader_of(&topic, 0)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut futures = Vec::with_capacity(n as usize);
    for i in 0..n {
        if i == n / 3 {
            cluster.kill(victim).unwrap_or_else(|e| panic!("{e}"));
        }
        let record = Record::key_value(format!("k{}", i % 100), value(i));
        futures.push(
            producer
                .enqueue(&topic, record)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        );
    }
    let mut acked = HashSet::new();
    let mut failed = 0;
    for (i, f) in futures.into_iter().enumerate() {
        match tokio::time::timeout(Duration::from_secs(180), f).await {
            Ok(Ok(_)) => {
                acked.insert(i as u64);
            }
            Ok(Err(e)) => {
                failed += 1;
                eprintln!("record {i}: {e}");
            }
            Err(_) => panic!("record {i}'s future never resolved"),
        }
    }
    cluster
        .restart(victim)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let read = cluster
        .consume_all(&topic, acked.len(), Duration::from_secs(120))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let read_values: HashSet<u64> = read
        .iter()
        .filter_map(|r| std::str::from_utf8(r.value.as_deref()?).ok()?.parse().ok())
        .collect();
    let lost: Vec<&u64> = acked
        .iter()
        .filter(|i| !read_values.contains(i))
        .take(5)
        .collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    assert_eq!(read.len(), read_values.len(), "duplicates in the log");
    eprintln!(
        "killed node {victim}: {} acknowledged, {failed} failed, 0 lost, 0 duplicated",
        acked.len()
    );
}
