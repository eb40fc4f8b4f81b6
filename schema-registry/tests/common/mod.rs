//! What the registry tests share: the broker and registry they run against, unique names,
//! and the independent reader (Python's confluent-kafka).

#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use kiel_testcontainers::{shared_cluster, shared_registry, KafkaCluster, SchemaRegistry};

/// How to get the independent reader.
pub(crate) const PYTHON_PACKAGES: &str =
    "pip install 'confluent-kafka[avro,schemaregistry,json,protobuf]' fastavro grpcio-tools";

/// `name` with a suffix no other run has.
pub(crate) fn unique(name: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{name}-{nanos:x}")
}

/// The broker the tests share.
pub(crate) async fn kafka() -> &'static KafkaCluster {
    shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker (Java 17+ and Maven): {e}"))
}

/// The registry the tests share.
pub(crate) async fn registry() -> &'static SchemaRegistry {
    shared_registry()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Schema Registry (Java 21+ and Maven): {e}"))
}

/// How long one run of the Python reader may take.
const READER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(150);

/// Reads `count` records of `topic` with confluent-kafka's Python client and its
/// deserializer for `format` (`avro`, `json`, or `protobuf` followed by the `.proto` file
/// and the message name in `extra`): one JSON object per record, as the script prints.
pub(crate) async fn read_with_confluent_kafka(
    bootstrap: &str,
    topic: &str,
    registry_url: &str,
    count: usize,
    format: &str,
    extra: &[&str],
) -> Vec<serde_json::Value> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/read_with_confluent_kafka.py"
    );
    let count = count.to_string();
    // The reader gives up on its own after 60 s without the records; a run that hangs
    // anyway (seen once under load: an HTTP call to the registry that never returned) is
    // killed and tried once more, so it can never hold a test run up.
    let mut attempt = 0;
    let output = loop {
        attempt += 1;
        let run = tokio::process::Command::new("python3")
            .args([script, bootstrap, topic, registry_url, &count, format])
            .args(extra)
            .kill_on_drop(true)
            .output();
        match tokio::time::timeout(READER_TIMEOUT, run).await {
            Ok(output) => break output.unwrap_or_else(|e| panic!("python3: {e}")),
            Err(_) if attempt < 2 => eprintln!(
                "the Python reader of {topic} hung for {READER_TIMEOUT:?}; killed, trying again"
            ),
            Err(_) => {
                panic!("the Python reader of {topic} hung for {READER_TIMEOUT:?} twice (killed)")
            }
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code() != Some(3),
        "a Python package the independent reader needs is missing: {PYTHON_PACKAGES} ({stderr})"
    );
    assert!(
        output.status.success(),
        "the Python reader failed: {stderr}"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// Produces each of `values` to `topic` and waits for every acknowledgement.
pub(crate) async fn produce_all<'a, T: 'static>(
    typed: &kiel::serialize::TypedProducer<T>,
    topic: &str,
    values: impl IntoIterator<Item = &'a T>,
) {
    let futures: Vec<_> = values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            typed
                .produce(topic, value)
                .unwrap_or_else(|e| panic!("produce #{i}: {e}"))
        })
        .collect();
    for future in futures {
        future.await.unwrap_or_else(|e| panic!("{e}"));
    }
}

/// The registry's requests (from its access log) whose path names `topic`.
pub(crate) async fn requests_about(
    registry: &SchemaRegistry,
    topic: &str,
) -> Vec<kiel_testcontainers::RegistryRequest> {
    let requests = registry.requests().await.unwrap_or_else(|e| panic!("{e}"));
    requests
        .into_iter()
        .filter(|r| r.path().contains(topic))
        .collect()
}
