//! The order-events producer of the production guide the project started from
//! (`shared/seeds/002_39192eadab028c20.txt`), with kiel: Avro order events registered in a
//! Schema Registry, keyed by `order_id`, the guide's production settings, a delivery
//! callback per event, then a flush with a timeout and the count still unacknowledged.
//!
//! Against a managed cluster (the guide's Confluent Cloud: SASL_SSL with PLAIN and an API
//! key), set `KAFKA_BOOTSTRAP`, `KAFKA_API_KEY`, `KAFKA_API_SECRET`, `SCHEMA_REGISTRY_URL`,
//! `SCHEMA_REGISTRY_API_KEY` and `SCHEMA_REGISTRY_API_SECRET`. Without them it starts a
//! local Kafka and a local registry with kiel-testcontainers (Java 17+ and 21+, Maven).
//!
//! ```sh
//! cargo run -p kiel-schema-registry --example order_events
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use kiel::Producer;
use kiel_schema_registry::apache_avro::AvroSchema;
use kiel_schema_registry::{Event, EventProducer, RegistryClient, RegistryConfig};
use serde::Serialize;

mod support;
use support::Services;

/// The guide's `OrderStatus` Avro enum.
#[derive(Debug, Clone, Copy, Serialize, AvroSchema)]
#[allow(clippy::upper_case_acronyms, dead_code)] // the schema's symbols, as in the guide; the example uses three
enum OrderStatus {
    CREATED,
    CONFIRMED,
    SHIPPED,
    DELIVERED,
    CANCELLED,
}

/// The guide's `com.company.streaming.OrderEvent`.
#[derive(Debug, Clone, Serialize, AvroSchema)]
#[avro(namespace = "com.company.streaming")]
struct OrderEvent {
    order_id: i64,
    customer_id: String,
    order_status: OrderStatus,
    order_total: f64,
    created_at: i64,
}

impl Event for OrderEvent {
    const TOPIC: &'static str = "order-events";

    /// Partition by order id: the events of one order stay in order.
    fn key(&self) -> Option<Bytes> {
        Some(Bytes::from(self.order_id.to_string()))
    }
}

fn generate_order_events(count: i64) -> impl Iterator<Item = OrderEvent> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    (0..count).map(move |i| OrderEvent {
        order_id: 1000 + i,
        customer_id: format!("cust_{}", 1000 + i),
        order_status: [
            OrderStatus::CREATED,
            OrderStatus::CONFIRMED,
            OrderStatus::SHIPPED,
        ][usize::try_from(i % 3).unwrap_or(0)],
        order_total: 50.0 + i as f64 * 10.5,
        created_at: now,
    })
}

/// The guide's production settings, plus SASL_SSL when an API key is given.
fn kafka_settings(services: &Services) -> Vec<(&'static str, String)> {
    let mut settings = vec![
        ("bootstrap.servers", services.bootstrap.clone()),
        ("acks", "all".to_owned()),
        ("retries", "10".to_owned()),
        ("enable.idempotence", "true".to_owned()),
        ("compression.type", "snappy".to_owned()),
        ("linger.ms", "100".to_owned()),
        ("batch.size", "16384".to_owned()),
    ];
    settings.extend(services.security_settings());
    settings
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("starting the order events producer");
    // A local Kafka and registry unless the environment names managed ones.
    let services = Services::from_env_or_start().await?;
    let producer = Producer::from_properties(kafka_settings(&services)).await?;
    let registry = RegistryClient::new(RegistryConfig::from_properties(
        services.registry_settings(),
    )?)?;
    let events = EventProducer::new(producer, registry);

    // One registry call for the type, before the first event (a wrong registry password or
    // an incompatible schema stops here, before anything is produced).
    let schema_id = events.prepare::<OrderEvent>().await?;
    println!("OrderEvent schema id {schema_id}");

    let delivered = Arc::new(AtomicUsize::new(0));
    let mut produced = 0;
    for event in generate_order_events(10) {
        let delivered = Arc::clone(&delivered);
        let order_id = event.order_id;
        let queued = events.produce_event_with_callback(&event, move |outcome| match outcome {
            Ok(m) => {
                delivered.fetch_add(1, Ordering::Relaxed);
                println!(
                    "delivered order {order_id}: {} [{}] @ {}",
                    m.topic, m.partition, m.offset
                );
            }
            Err(e) => eprintln!("delivery of order {order_id} failed: {e}"),
        });
        match queued {
            Ok(()) => produced += 1,
            // The guide's "Handling Serialisation Errors": the event is not queued.
            Err(e) => eprintln!("order {order_id} not produced: {e}"),
        }
    }

    let remaining = events.producer().flush(Duration::from_secs(10)).await;
    if remaining == 0 {
        println!(
            "produced {produced} events, {} delivered",
            delivered.load(Ordering::Relaxed)
        );
    } else {
        eprintln!("{remaining} events still unacknowledged after the flush");
    }
    events.producer().close().await;
    Ok(())
}
