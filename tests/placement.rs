//! Key placement compatibility: the same keys produced by kiel and by another client into two
//! topics with the same partition count must land on the same partitions.
//!
//! - kiel's default partitioner against Kafka's own Java console producer (murmur2);
//! - kiel's `consistent_random` against Debian's kcat (librdkafka's `consistent_random`).
//!
//! Both peers' records are read back with Kafka's console consumer. Needs Java + Maven (or
//! `KAFKA_BOOTSTRAP`) and `kcat` (`apt-get install kcat`).

mod common;

use common::unique;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use kiel::partitioner::PartitionerKind;
use kiel::{Producer, Record};
use kiel_testcontainers::{shared_cluster, KafkaCluster};

const PARTITIONS: u32 = 7;

async fn cluster() -> &'static KafkaCluster {
    shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker: {e}"))
}

fn keys() -> Vec<String> {
    let mut keys: Vec<String> = (0..200).map(|i| format!("key-{i}")).collect();
    keys.extend(
        [
            "a",
            "abc",
            "21",
            "foobar",
            "a-little-bit-long-string",
            "kafka",
            "ü-ñ-∂",
        ]
        .map(String::from),
    );
    keys
}

/// Feeds `key:value` lines to a producer process and waits for it.
fn feed(mut command: Command, lines: &[String]) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {command:?}: {e}"));
    {
        let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
        for line in lines {
            writeln!(stdin, "{line}").unwrap_or_else(|e| panic!("writing to the producer: {e}"));
        }
    }
    let output = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Where each key landed, read back with the console consumer.
async fn placement_read_back(
    cluster: &KafkaCluster,
    topic: &str,
    n: usize,
) -> BTreeMap<String, i32> {
    cluster
        .consume_all(topic, n, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("reading back {topic}: {e}"))
        .into_iter()
        .map(|r| {
            (
                String::from_utf8(r.key.unwrap_or_default()).unwrap_or_default(),
                r.partition,
            )
        })
        .collect()
}

async fn kiel_placement(
    cluster: &KafkaCluster,
    kind: PartitionerKind,
    keys: &[String],
) -> BTreeMap<String, i32> {
    let topic = unique(&format!("kiel-{kind}"));
    cluster
        .create_topic(&topic, PARTITIONS, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .partitioner(kind)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut placed = BTreeMap::new();
    for key in keys {
        let m = producer
            .send(&topic, Record::key_value(key.clone(), format!("v-{key}")))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        placed.insert(key.clone(), m.partition);
    }
    producer.close().await;
    placed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_records_land_where_the_java_client_puts_them() {
    let cluster = cluster().await;
    let keys = keys();
    let java_topic = unique("java-keys");
    cluster
        .create_topic(&java_topic, PARTITIONS, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let libs = cluster
        .kafka_libs_dir()
        .await
        .unwrap_or_else(|e| panic!("Kafka's jars: {e}"));
    let mut java = Command::new("java");
    java.arg("-cp")
        .arg(format!("{}/*", libs.display()))
        .arg(
            if cluster
                .version()
                .is_some_and(|v| v.to_string().starts_with('3'))
            {
                "kafka.tools.ConsoleProducer"
            } else {
                "org.apache.kafka.tools.ConsoleProducer"
            },
        )
        .args([
            "--bootstrap-server",
            &cluster.bootstrap(),
            "--topic",
            &java_topic,
        ])
        .args([
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ]);
    let lines: Vec<String> = keys.iter().map(|k| format!("{k}:v-{k}")).collect();
    feed(java, &lines);
    let by_java = placement_read_back(cluster, &java_topic, keys.len()).await;
    let by_kiel = kiel_placement(cluster, PartitionerKind::Default, &keys).await;
    assert_eq!(by_java.len(), keys.len());
    let spread: std::collections::BTreeSet<i32> = by_kiel.values().copied().collect();
    assert!(
        spread.len() > 1,
        "all keys on one partition: the comparison would prove little"
    );
    for key in &keys {
        assert_eq!(by_kiel.get(key), by_java.get(key), "key {key:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consistent_random_matches_kcat() {
    let cluster = cluster().await;
    let found = Command::new("kcat").arg("-V").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "this test needs Debian's kcat as an independent librdkafka client: apt-get install kcat"
    );
    let keys = keys();
    let kcat_topic = unique("kcat-keys");
    cluster
        .create_topic(&kcat_topic, PARTITIONS, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut kcat = Command::new("kcat");
    kcat.args([
        "-P",
        "-b",
        &cluster.bootstrap(),
        "-t",
        &kcat_topic,
        "-K",
        ":",
    ])
    .args(["-X", "partitioner=consistent_random"]);
    let lines: Vec<String> = keys.iter().map(|k| format!("{k}:v-{k}")).collect();
    feed(kcat, &lines);
    let by_kcat = placement_read_back(cluster, &kcat_topic, keys.len()).await;
    let by_kiel = kiel_placement(cluster, PartitionerKind::ConsistentRandom, &keys).await;
    assert_eq!(by_kcat.len(), keys.len());
    for key in &keys {
        assert_eq!(by_kiel.get(key), by_kcat.get(key), "key {key:?}");
    }
}
