//! The registry over HTTPS (kiel-testcontainers' registry with `tls()`: a certificate for
//! localhost signed by a CA made at start): trusted through `schema.registry.ssl.ca.location`
//! it works, and records go through it; without that CA, the untrusted certificate is a
//! typed error at once, naming the setting, not retried.

mod common;

use std::time::{Duration, Instant};

use kiel_schema_registry::apache_avro::AvroSchema;
use kiel_schema_registry::{AvroSerializer, Error, RegistryClient, RegistryConfig, Schema};
use kiel_testcontainers::SchemaRegistry;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, AvroSchema)]
struct Ping {
    n: i32,
}

fn client(settings: &[(&str, &str)]) -> RegistryClient {
    RegistryConfig::from_properties(settings.iter().copied())
        .and_then(RegistryClient::new)
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_registry_is_trusted_through_its_ca_and_refused_without_it() {
    let registry = SchemaRegistry::builder()
        .tls()
        .start()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Schema Registry (Java 21+ and Maven): {e}"));
    let url = registry
        .https_url()
        .unwrap_or_else(|| panic!("no HTTPS URL"));
    let ca = registry
        .ca_path()
        .unwrap_or_else(|| panic!("no CA"))
        .display()
        .to_string();
    println!("{url}, CA {ca}");

    let trusted = client(&[
        ("schema.registry.url", &url),
        ("schema.registry.ssl.ca.location", &ca),
    ]);
    let serializer = AvroSerializer::<Ping>::derived(trusted.clone());
    let id = serializer
        .prepare("pings")
        .await
        .unwrap_or_else(|e| panic!("over HTTPS with the CA: {e}"));
    assert!(serializer.encode("pings", &Ping { n: 1 }).is_ok());
    assert_eq!(
        trusted
            .schema_by_id(id)
            .await
            .ok()
            .map(|s| s.text.contains("Ping")),
        Some(true)
    );

    // The same registry without its CA: the system roots do not know it.
    let untrusting = client(&[
        ("schema.registry.url", &url),
        ("max.retries", "5"),
        ("retries.wait.ms", "500"),
    ]);
    let started = Instant::now();
    let schema = Schema::avro(Ping::get_schema().canonical_form());
    let refused = untrusting.register("pings-value", &schema).await;
    let elapsed = started.elapsed();
    println!("{elapsed:?}: {refused:?}");
    match &refused {
        Err(e @ Error::Tls { .. }) => {
            let text = e.to_string();
            assert!(text.contains("schema.registry.ssl.ca.location"), "{text}");
            assert!(text.to_lowercase().contains("certificate"), "{text}");
        }
        other => panic!("expected the typed TLS error, got {other:?}"),
    }
    assert_eq!(untrusting.requests_sent(), 1, "not retried");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
}
