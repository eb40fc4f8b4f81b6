//! A registry that stops answering (its JVM SIGSTOPped): each request times out after
//! `request.timeout.ms`, the retries end in the typed `Unavailable` in bounded time, and the
//! registry is used again once it is resumed. Its own test binary: the registry it starts and
//! pauses must not compete for the CPU with tests that time the shared one.

use std::time::{Duration, Instant};

use kiel_schema_registry::apache_avro::AvroSchema;
use kiel_schema_registry::{AvroSerializer, Error, RegistryClient, RegistryConfig};
use kiel_testcontainers::SchemaRegistry;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, AvroSchema)]
struct Reading {
    sensor: String,
    celsius: f64,
}

fn reading(i: u32) -> Reading {
    Reading {
        sensor: format!("sensor-{}", i % 4),
        celsius: f64::from(i) / 10.0,
    }
}

fn client_with(url: &str, settings: &[(&str, &str)]) -> RegistryClient {
    let mut properties = vec![("schema.registry.url", url)];
    properties.extend_from_slice(settings);
    let config = RegistryConfig::from_properties(properties).unwrap_or_else(|e| panic!("{e}"));
    RegistryClient::new(config).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_stops_answering_times_out_and_is_used_again_when_it_is_back() {
    // Its own registry: pausing the shared one would stall the other tests.
    let registry = SchemaRegistry::start()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Schema Registry (Java 21+ and Maven): {e}"));
    let client = client_with(
        &registry.url(),
        &[
            ("request.timeout.ms", "400"),
            ("max.retries", "2"),
            ("retries.wait.ms", "50"),
        ],
    );
    let serializer = AvroSerializer::<Reading>::derived(client.clone());
    registry.pause().unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let result = serializer.prepare("readings-paused").await;
    let elapsed = started.elapsed();
    println!("paused registry: {elapsed:?}: {result:?}");
    match &result {
        Err(Error::Unavailable { attempts, .. }) => assert_eq!(*attempts, 3),
        other => panic!("expected Unavailable, got {other:?}"),
    }
    // Three 400 ms timeouts and 50 + 100 ms of waits; never the default 30 s.
    assert!(
        elapsed >= Duration::from_millis(1_200) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    registry.resume().unwrap_or_else(|e| panic!("{e}"));
    let id = serializer
        .prepare("readings-paused")
        .await
        .unwrap_or_else(|e| panic!("the resumed registry: {e}"));
    println!("resumed: schema id {id}");
    assert!(serializer.encode("readings-paused", &reading(2)).is_ok());
}
