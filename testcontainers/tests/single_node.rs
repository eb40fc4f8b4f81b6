//! Tests of the harness on one node: starting, the shared cluster, Kafka's own
//! ProducerPerformance read back by the independent reader, byte-exact reading of keys,
//! values and headers, the `KAFKA_BOOTSTRAP` path, and the error when no broker can be had.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kiel_protocol::frame::{decode_response, encode_request, FrameReader};
use kiel_protocol::messages::produce::{PartitionProduceData, ProduceRequest, TopicProduceData};
use kiel_protocol::record::{BatchOptions, RecordBatchBuilder, RecordHeader};
use kiel_testcontainers::{shared_cluster, ClusterKind, HarnessError, KafkaCluster, TimestampType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const READ_TIMEOUT: Duration = Duration::from_secs(60);

fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand_suffix())
}

fn rand_suffix() -> u32 {
    // The clock's nanoseconds are unique enough to keep topics of one run apart.
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() ^ (d.as_secs() as u32).rotate_left(16))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_node_starts_and_metadata_lists_it() {
    let cluster = KafkaCluster::builder()
        .start()
        .await
        .expect("single-node cluster");
    eprintln!(
        "single node: {:?}, Kafka {:?}",
        cluster.startup_timings(),
        cluster.version().map(ToString::to_string)
    );
    assert_eq!(cluster.kind(), ClusterKind::Local);
    assert_eq!(cluster.node_ids(), vec![1]);
    let metadata = cluster.metadata(&[]).await.expect("metadata");
    assert_eq!(metadata.brokers.len(), 1);
    let broker = &metadata.brokers[0];
    assert_eq!(broker.node_id, 1);
    assert_eq!(
        format!("{}:{}", broker.host, broker.port),
        cluster.bootstrap()
    );
    assert_eq!(metadata.controller_id, 1);
    let rss = cluster
        .rss_bytes(1)
        .unwrap()
        .expect("a running node has an RSS");
    eprintln!("single node broker RSS: {} MiB", rss / (1024 * 1024));
    assert!(rss > 0);
    let log = cluster.log_path(1).unwrap();
    let text = std::fs::read_to_string(&log).expect("broker log");
    assert!(
        text.contains("Kafka Server started"),
        "no start line in {}",
        log.display()
    );
    let dir = cluster.work_dir().to_path_buf();
    drop(cluster);
    assert!(!dir.exists(), "a passing test's folder is removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn producer_performance_records_are_all_read_back() {
    const N: usize = 10_000;
    let cluster = shared_cluster().await.expect("shared cluster");
    let topic = unique("perf");
    cluster
        .create_topic(&topic, 3, 1, &[])
        .await
        .expect("create topic");
    let perf = cluster
        .run_producer_perf(
            &topic,
            N as u64,
            100,
            &[("acks", "all"), ("linger.ms", "5")],
        )
        .await
        .expect("ProducerPerformance");
    eprintln!("ProducerPerformance: {}", perf.summary);
    assert_eq!(perf.records, N as u64);

    let records = cluster
        .consume_all(&topic, N, READ_TIMEOUT)
        .await
        .expect("read back");
    assert_eq!(records.len(), N);
    let end = cluster.end_offsets(&topic).await.expect("end offsets");
    assert_eq!(end.len(), 3);
    assert_eq!(
        end.iter().map(|(_, o)| *o as usize).sum::<usize>(),
        N,
        "no extra records"
    );
    for (partition, end_offset) in end {
        let offsets: Vec<i64> = records
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| r.offset)
            .collect();
        let expected: Vec<i64> = (0..end_offset).collect();
        assert_eq!(offsets, expected, "partition {partition} offsets");
    }
    for r in &records {
        assert_eq!(r.key, None);
        assert_eq!(r.value.as_ref().map(Vec::len), Some(100));
        assert!(r.headers.is_empty());
        assert_eq!(r.timestamp_type, TimestampType::CreateTime);
        assert!(r.timestamp > 1_600_000_000_000);
    }
}

/// Writes one batch with a hand-built Produce request (v9, acks=1) to the leader.
async fn produce_batch(address: &str, topic: &str, batch: Bytes) {
    let request = ProduceRequest {
        transactional_id: None,
        acks: 1,
        timeout_ms: 30_000,
        topics: vec![TopicProduceData {
            name: topic.to_owned(),
            partitions: vec![PartitionProduceData {
                index: 0,
                records: Some(batch),
            }],
        }],
    };
    let mut out = BytesMut::new();
    encode_request(&request, 9, 7, Some("harness-test"), &mut out).unwrap();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(&out).await.unwrap();
    let reader = FrameReader::new(1 << 20);
    let mut buf = BytesMut::new();
    let frame = loop {
        if let Some(frame) = reader.next_frame(&mut buf).unwrap() {
            break frame;
        }
        assert_ne!(
            stream.read_buf(&mut buf).await.unwrap(),
            0,
            "connection closed"
        );
    };
    let response = decode_response::<ProduceRequest>(frame, 9, 7).unwrap();
    let partition = &response.topics[0].partitions[0];
    assert_eq!(partition.error_code, 0, "produce failed: {response:?}");
}

/// Key, value, headers and timestamp of one record written by the test.
type Written<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, Vec<RecordHeader>, i64);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_keys_values_and_headers_are_read_back_exactly() {
    let cluster = shared_cluster().await.expect("shared cluster");
    let topic = unique("binary");
    cluster
        .create_topic(&topic, 1, 1, &[])
        .await
        .expect("create topic");
    let every_byte: Vec<u8> = (0..=255u8).collect();
    let tricky: &[u8] = b"\\x41 not an escape \x1e\x1f\x1d\n\t:,kiel-null-";
    let written: Vec<Written<'_>> = vec![
        (
            Some(&every_byte[..]),
            Some(tricky),
            vec![
                RecordHeader::new("h-bytes", Some(Bytes::from(every_byte.clone()))),
                RecordHeader::new("h-null", None),
                RecordHeader::new("h-empty", Some(Bytes::new())),
            ],
            1_700_000_000_001,
        ),
        (None, None, Vec::new(), 1_700_000_000_002),
        (
            Some(b""),
            Some(b"null"),
            vec![RecordHeader::new("é ü", Some(Bytes::from_static(b"\xff")))],
            1_700_000_000_003,
        ),
    ];
    let mut builder = RecordBatchBuilder::new();
    for (key, value, headers, ts) in &written {
        builder.append(*ts, *key, *value, headers).unwrap();
    }
    let batch = builder.finish(&BatchOptions::default()).unwrap();
    let leader = cluster.leader_of(&topic, 0).await.expect("leader");
    let address = match cluster.kind() {
        ClusterKind::Local => cluster.broker_address(leader).unwrap(),
        _ => cluster.bootstrap().split(',').next().unwrap().to_owned(),
    };
    produce_batch(&address, &topic, batch).await;

    let records = cluster
        .consume_all(&topic, written.len(), READ_TIMEOUT)
        .await
        .expect("read back");
    assert_eq!(records.len(), written.len());
    for (i, (record, (key, value, headers, ts))) in records.iter().zip(&written).enumerate() {
        assert_eq!(record.partition, 0);
        assert_eq!(record.offset, i as i64);
        assert_eq!(record.key.as_deref(), *key, "key of record {i}");
        assert_eq!(record.value.as_deref(), *value, "value of record {i}");
        assert_eq!(record.timestamp, *ts);
        assert_eq!(record.timestamp_type, TimestampType::CreateTime);
        let expected: Vec<(String, Option<Vec<u8>>)> = headers
            .iter()
            .map(|h| (h.key.clone(), h.value.as_ref().map(|v| v.to_vec())))
            .collect();
        assert_eq!(record.headers, expected, "headers of record {i}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_cluster_is_used_but_its_nodes_cannot_be_controlled() {
    let shared = shared_cluster().await.expect("shared cluster");
    let external = KafkaCluster::connect(&shared.bootstrap())
        .await
        .expect("connect to a running cluster");
    assert_eq!(external.kind(), ClusterKind::External);
    assert!(!external.metadata(&[]).await.unwrap().brokers.is_empty());
    for err in [
        external.kill(1).unwrap_err(),
        external.pause(1).unwrap_err(),
        external.resume(1).unwrap_err(),
        external.stop(1).await.unwrap_err(),
        external.restart(1).await.unwrap_err(),
    ] {
        assert!(
            matches!(err, HarnessError::NodeControlUnsupported { .. }),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(text.contains("KAFKA_BOOTSTRAP"), "{text}");
        assert!(text.contains("cannot be controlled"), "{text}");
    }
    external.keep_logs();
    let dir = external.work_dir().to_path_buf();
    drop(external);
    assert!(dir.exists(), "keep_logs keeps the folder");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn nothing_listening_at_kafka_bootstrap_says_how_to_provide_a_broker() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is closed again, so nothing answers on that port.
    let err = KafkaCluster::connect(&format!("127.0.0.1:{port}"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, HarnessError::NoBroker { .. }), "{err:?}");
    assert!(text.contains("does not answer"), "{text}");
    assert!(text.contains("Java 17+"), "{text}");
}

#[tokio::test]
async fn a_machine_without_java_or_maven_gets_a_clear_error() {
    let empty_cache = std::env::temp_dir().join(format!("kiel-empty-cache-{}", std::process::id()));
    let no_java = KafkaCluster::builder()
        .java("/nonexistent/kiel/java")
        .cache_dir(&empty_cache)
        .start()
        .await
        .unwrap_err();
    let text = no_java.to_string();
    assert!(
        matches!(no_java, HarnessError::NoBroker { .. }),
        "{no_java:?}"
    );
    for needle in [
        "/nonexistent/kiel/java",
        "Java 17+",
        "Maven",
        "KAFKA_BOOTSTRAP=host:port",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }

    let no_maven = KafkaCluster::builder()
        .maven("/nonexistent/kiel/mvn")
        .cache_dir(&empty_cache)
        .start()
        .await
        .unwrap_err();
    let text = no_maven.to_string();
    assert!(
        matches!(no_maven, HarnessError::NoBroker { .. }),
        "{no_maven:?}"
    );
    for needle in [
        "/nonexistent/kiel/mvn",
        "Maven Central",
        "KAFKA_BOOTSTRAP=host:port",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
    let _ = std::fs::remove_dir_all(&empty_cache);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_kafka_tool_runs_from_the_cached_jars() {
    let cluster = shared_cluster().await.expect("shared cluster");
    let topic = unique("listed");
    cluster
        .create_topic(&topic, 2, 1, &[])
        .await
        .expect("create topic");
    let libs = cluster.kafka_libs_dir().await.expect("libs");
    assert!(std::fs::read_dir(&libs).unwrap().flatten().any(|e| e
        .file_name()
        .to_string_lossy()
        .starts_with("kafka-clients-")));
    let bootstrap = cluster.bootstrap();
    let out = cluster
        .run_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--bootstrap-server", &bootstrap, "--list"],
            Duration::from_secs(120),
        )
        .await
        .expect("TopicCommand runs");
    assert!(out.success, "{}", out.status);
    let listed = std::fs::read_to_string(&out.stdout).unwrap();
    assert!(
        listed.lines().any(|l| l == topic),
        "{topic} not in:\n{listed}"
    );
    let failed = cluster
        .run_tool(
            "org.apache.kafka.tools.TopicCommand",
            &["--no-such-option"],
            Duration::from_secs(120),
        )
        .await
        .expect("a failing tool still returns its output");
    assert!(!failed.success);
}
