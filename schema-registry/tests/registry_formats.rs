//! Avro and JSON Schema through a real Schema Registry (kiel-testcontainers' Apicurio
//! Registry, the Confluent-compatible API) into a real Kafka broker, read back by an
//! independent implementation: Python's confluent-kafka `AvroDeserializer` and
//! `JSONDeserializer` against the same registry
//! (`pip install 'confluent-kafka[avro,schemaregistry,json,protobuf]' fastavro grpcio-tools`).
//!
//! Checked: every field of every record equal, the schema id in each record the one the
//! registry gives the subject, one registry request for the whole run, schema evolution
//! (a backward-compatible change is a new version, an incompatible one the typed 409 before
//! anything is sent), and an unreachable registry a typed error, not a hang.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kiel::serialize::TypedProducer;
use kiel::Producer;
use kiel_schema_registry::apache_avro::AvroSchema;
use kiel_schema_registry::{
    AvroSerializer, Error, Event, EventProducer, JsonSchemaSerializer, RegistryClient,
    RegistryConfig, Schema,
};
mod common;

use common::{kafka, registry, unique};
use kiel_testcontainers::SchemaRegistry;
use serde::{Deserialize, Serialize};

/// The seed's order event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
struct Order {
    order_id: String,
    customer_id: String,
    amount: f64,
    quantity: i32,
    status: String,
    note: Option<String>,
    created_at: i64,
}

fn order(i: u32) -> Order {
    Order {
        order_id: format!("order-{i}"),
        customer_id: format!("customer-{}", i % 7),
        amount: f64::from(i) * 1.25,
        quantity: i32::try_from(i % 5).unwrap_or(0) + 1,
        status: if i.is_multiple_of(2) { "NEW" } else { "PAID" }.to_owned(),
        note: i.is_multiple_of(3).then(|| format!("note {i} ✓")),
        created_at: 1_700_000_000_000 + i64::from(i),
    }
}

/// Reads `count` records of `topic` with confluent-kafka's Python client and its
/// deserializer for `format` (`avro` or `json`): (key, schema id, value as JSON).
async fn read_format_with_confluent_kafka(
    bootstrap: &str,
    topic: &str,
    registry_url: &str,
    count: usize,
    format: &str,
) -> Vec<(String, u32, serde_json::Value)> {
    common::read_with_confluent_kafka(bootstrap, topic, registry_url, count, format, &[])
        .await
        .into_iter()
        .map(|record| {
            (
                record["key"].as_str().unwrap_or_default().to_owned(),
                u32::try_from(record["schema_id"].as_u64().unwrap_or_default()).unwrap_or(0),
                record["value"].clone(),
            )
        })
        .collect()
}

/// The same with confluent-kafka's Avro deserializer.
async fn read_with_confluent_kafka(
    bootstrap: &str,
    topic: &str,
    registry_url: &str,
    count: usize,
) -> Vec<(String, u32, serde_json::Value)> {
    read_format_with_confluent_kafka(bootstrap, topic, registry_url, count, "avro").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_records_are_read_by_confluent_kafka_field_by_field() {
    let (kafka, registry) = tokio::join!(kafka(), registry());
    let topic = unique("avro-orders");
    kafka
        .create_topic(&topic, 3, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = RegistryClient::from_url(&registry.url()).unwrap_or_else(|e| panic!("{e}"));
    let subject = format!("{topic}-value");

    let serializer = AvroSerializer::<Order>::derived(client.clone());
    let id = serializer
        .prepare(&topic)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Again: cached, no request.
    assert_eq!(serializer.prepare(&topic).await.ok(), Some(id));
    let producer = Producer::new(&kafka.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let typed = TypedProducer::new(producer.clone(), serializer)
        .with_key_maker(|o: &Order| Some(Bytes::from(o.order_id.clone())));
    const RECORDS: u32 = 200;
    let orders: Vec<Order> = (0..RECORDS).map(order).collect();
    common::produce_all(&typed, &topic, &orders).await;
    producer.close().await;

    let ours = common::requests_about(registry, &topic).await;
    println!("registry requests for {subject}: {ours:?}");
    assert_eq!(
        ours.len(),
        1,
        "one registry request for {RECORDS} records: {ours:?}"
    );

    // Looked up by the canonical form: the registry matches it to what was registered.
    let registered = client
        .lookup(
            &subject,
            &Schema::avro(Order::get_schema().canonical_form()),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(registered.id, id);

    let read = read_with_confluent_kafka(
        &kafka.bootstrap(),
        &topic,
        &registry.url(),
        RECORDS as usize,
    )
    .await;
    assert_eq!(read.len(), RECORDS as usize);
    let mut seen = HashMap::new();
    for (key, schema_id, value) in read {
        assert_eq!(schema_id, id, "record {key}");
        let decoded: Order =
            serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"));
        let i: u32 = decoded
            .order_id
            .strip_prefix("order-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("foreign record {value}"));
        assert_eq!(decoded, order(i), "record {i}");
        assert_eq!(key, decoded.order_id);
        assert!(seen.insert(i, ()).is_none(), "record {i} twice");
    }
}

/// A later version of the order event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[serde(rename = "Order")]
struct OrderWithCurrency {
    order_id: String,
    customer_id: String,
    amount: f64,
    quantity: i32,
    status: String,
    note: Option<String>,
    created_at: i64,
    #[avro(default = "\"EUR\"")]
    currency: String,
}

/// An incompatible one: `amount` became a string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema)]
#[serde(rename = "Order")]
struct OrderWithTextAmount {
    order_id: String,
    amount: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compatible_changes_are_new_versions_and_incompatible_ones_a_typed_409() {
    let registry = registry().await;
    let client = RegistryClient::from_url(&registry.url()).unwrap_or_else(|e| panic!("{e}"));
    let topic = unique("evolving");
    // Confluent's registry defaults to BACKWARD; Apicurio has no rule until one is set.
    client
        .set_compatibility(&format!("{topic}-value"), "BACKWARD")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let first = AvroSerializer::<Order>::derived(client.clone())
        .prepare(&topic)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let second = AvroSerializer::<OrderWithCurrency>::derived(client.clone())
        .prepare(&topic)
        .await
        .unwrap_or_else(|e| panic!("a backward-compatible change: {e}"));
    assert_ne!(first, second);
    let latest = client
        .latest(&format!("{topic}-value"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((latest.id, latest.version), (second, 2));

    let incompatible = AvroSerializer::<OrderWithTextAmount>::derived(client.clone());
    let error = incompatible
        .prepare(&topic)
        .await
        .err()
        .unwrap_or_else(|| panic!("an incompatible schema was registered"));
    println!("incompatible: {error}");
    assert!(matches!(error, Error::Incompatible { .. }), "{error:?}");
    let refused = incompatible.encode(
        &topic,
        &OrderWithTextAmount {
            order_id: "x".into(),
            amount: "1".into(),
        },
    );
    assert!(
        matches!(refused, Err(Error::NotPrepared { .. })),
        "{refused:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_registry_is_a_typed_error_after_the_retries() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map_or(1, |a| a.port());
    drop(listener);
    let config = RegistryConfig::from_properties([
        ("schema.registry.url", format!("http://127.0.0.1:{port}")),
        ("max.retries", "2".to_owned()),
        ("retries.wait.ms", "100".to_owned()),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let client = RegistryClient::new(config).unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let error = AvroSerializer::<Order>::derived(client.clone())
        .prepare("anything")
        .await
        .err()
        .unwrap_or_else(|| panic!("no registry, but an id"));
    let took = started.elapsed();
    println!("unreachable after {took:?}: {error}");
    assert!(
        matches!(error, Error::Unavailable { attempts: 3, .. }),
        "{error:?}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
    assert_eq!(client.requests_sent(), 3);
}

impl Event for Order {
    const TOPIC: &'static str = "kiel-typed-orders";

    fn key(&self) -> Option<Bytes> {
        Some(Bytes::from(self.order_id.clone()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_events_name_their_topic_and_key_once() {
    let (kafka, registry) = tokio::join!(kafka(), registry());
    kafka
        .create_topic(Order::TOPIC, 3, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::new(&kafka.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = RegistryClient::from_url(&registry.url()).unwrap_or_else(|e| panic!("{e}"));
    let events = EventProducer::new(producer.clone(), client);

    // Before the type's schema id is known, the synchronous form says what to do.
    let early = events.produce_event(&order(0));
    assert!(matches!(early, Err(Error::NotPrepared { .. })), "{early:?}");

    let first = events
        .send_event(&order(0))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.topic.as_ref(), Order::TOPIC);
    let futures: Vec<_> = (1..100)
        .map(|i| {
            events
                .produce_event(&order(i))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for future in futures {
        future.await.unwrap_or_else(|e| panic!("{e}"));
    }
    producer.close().await;
    let requests = registry.requests().await.unwrap_or_else(|e| panic!("{e}"));
    let ours = requests
        .iter()
        .filter(|r| r.path().contains(Order::TOPIC))
        .count();
    assert_eq!(
        ours, 1,
        "registry requests for the event type: {requests:?}"
    );

    let read =
        read_with_confluent_kafka(&kafka.bootstrap(), Order::TOPIC, &registry.url(), 100).await;
    assert_eq!(read.len(), 100);
    for (key, _, value) in read {
        let decoded: Order =
            serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"));
        assert_eq!(key, decoded.order_id, "the key is the order id");
    }
}

const PAYMENT_SCHEMA: &str = r#"{
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Payment",
    "type": "object",
    "properties": {
        "payment_id": {"type": "string"},
        "amount": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD"]},
        "tags": {"type": "array", "items": {"type": "string"}}
    },
    "required": ["payment_id", "amount", "currency"],
    "additionalProperties": false
}"#;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Payment {
    payment_id: String,
    amount: f64,
    currency: String,
    tags: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_schema_records_are_validated_and_read_by_confluent_kafka() {
    let (kafka, registry) = tokio::join!(kafka(), registry());
    let topic = unique("json-payments");
    kafka
        .create_topic(&topic, 3, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let client = RegistryClient::from_url(&registry.url()).unwrap_or_else(|e| panic!("{e}"));
    let serializer = JsonSchemaSerializer::<Payment>::new(client.clone(), PAYMENT_SCHEMA)
        .unwrap_or_else(|e| panic!("{e}"));
    let id = serializer
        .prepare(&topic)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::new(&kafka.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let typed = TypedProducer::new(producer.clone(), serializer)
        .with_key_maker(|p: &Payment| Some(Bytes::from(p.payment_id.clone())));
    let payment = |i: u32| Payment {
        payment_id: format!("pay-{i}"),
        amount: f64::from(i) / 4.0,
        currency: if i.is_multiple_of(2) { "EUR" } else { "USD" }.to_owned(),
        tags: (0..i % 3).map(|t| format!("tag-{t}")).collect(),
    };
    // A value the schema refuses never reaches the producer.
    let invalid = Payment {
        currency: "GBP".into(),
        ..payment(0)
    };
    let refused = typed.produce(&topic, &invalid).err();
    println!("refused: {refused:?}");
    assert!(
        matches!(&refused, Some(kiel::Error::Serialization(e)) if e.to_string().contains("/currency")),
        "{refused:?}"
    );
    let futures: Vec<_> = (0..50)
        .map(|i| {
            typed
                .produce(&topic, &payment(i))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for future in futures {
        future.await.unwrap_or_else(|e| panic!("{e}"));
    }
    producer.close().await;

    let read =
        read_format_with_confluent_kafka(&kafka.bootstrap(), &topic, &registry.url(), 50, "json")
            .await;
    assert_eq!(read.len(), 50, "the invalid value was not written");
    for (key, schema_id, value) in read {
        assert_eq!(schema_id, id);
        let decoded: Payment =
            serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("{e}: {value}"));
        let i: u32 = decoded
            .payment_id
            .strip_prefix("pay-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("foreign record {value}"));
        assert_eq!(decoded, payment(i));
        assert_eq!(key, decoded.payment_id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_credentials_are_used_and_wrong_ones_are_a_typed_401() {
    let registry = SchemaRegistry::builder()
        .basic_auth("kiel-user", "kiel-secret")
        .start()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Schema Registry (Java 21+ and Maven): {e}"));
    let user_info = registry
        .basic_auth_user_info()
        .unwrap_or_else(|| panic!("no credentials"));
    let login = |user_info: &str| {
        RegistryConfig::from_properties([
            ("schema.registry.url", registry.url()),
            ("basic.auth.credentials.source", "USER_INFO".to_owned()),
            ("basic.auth.user.info", user_info.to_owned()),
        ])
        .and_then(RegistryClient::new)
        .unwrap_or_else(|e| panic!("{e}"))
    };
    let topic = unique("authenticated");
    let id = AvroSerializer::<Order>::derived(login(&user_info))
        .prepare(&topic)
        .await
        .unwrap_or_else(|e| panic!("the right credentials: {e}"));
    let latest = login(&user_info)
        .latest(&format!("{topic}-value"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(latest.id, id);

    let wrong = login("kiel-user:not-the-secret");
    let started = Instant::now();
    let error = AvroSerializer::<Order>::derived(wrong.clone())
        .prepare(&topic)
        .await
        .err()
        .unwrap_or_else(|| panic!("a wrong password was accepted"));
    println!(
        "wrong registry password after {:?}: {error}",
        started.elapsed()
    );
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert!(
        error.to_string().contains("basic.auth.user.info"),
        "{error}"
    );
    assert_eq!(wrong.requests_sent(), 1, "a 401 is not retried");
}
