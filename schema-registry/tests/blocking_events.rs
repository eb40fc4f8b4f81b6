//! The blocking event producer, with a `#[derive(Event)]` type, against a real broker and registry, from a plain thread:
//! the first event registers the type's schema (one registry request for 100 events), the
//! rest are queued with handles, and confluent-kafka's Python `AvroDeserializer` reads every
//! one back equal, keyed by its order id.

mod common;

use std::collections::HashSet;

use kiel_schema_registry::apache_avro::AvroSchema;
use kiel_schema_registry::{blocking, Error, Event, RegistryClient};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, AvroSchema, Event)]
#[event(topic = "blocking-shipments", key = "shipment_id")]
struct Shipment {
    shipment_id: String,
    order_id: String,
    parcels: i32,
    express: bool,
}

fn shipment(i: i32) -> Shipment {
    Shipment {
        shipment_id: format!("shipment-{i}"),
        order_id: format!("order-{}", i / 3),
        parcels: i % 4 + 1,
        express: i % 5 == 0,
    }
}

#[test]
fn blocking_events_are_registered_once_and_read_back_by_confluent_kafka() {
    // The harness is async: a runtime of the test's own starts (and keeps) the broker and the
    // registry; everything kiel does below runs on this plain thread.
    let harness = tokio::runtime::Runtime::new().unwrap_or_else(|e| panic!("{e}"));
    let (bootstrap, registry_url) = harness.block_on(async {
        let (kafka, registry) = tokio::join!(common::kafka(), common::registry());
        kafka
            .create_topic(Shipment::TOPIC, 3, 1, &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        (kafka.bootstrap(), registry.url())
    });

    let producer = kiel::blocking::Producer::new(&bootstrap).unwrap_or_else(|e| panic!("{e}"));
    let client = RegistryClient::from_url(&registry_url).unwrap_or_else(|e| panic!("{e}"));
    let events = blocking::EventProducer::new(producer, client).unwrap_or_else(|e| panic!("{e}"));

    let early = events.produce_event(&shipment(0));
    assert!(matches!(early, Err(Error::NotPrepared { .. })), "{early:?}");
    let first = events
        .send_event(&shipment(0))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.topic.as_ref(), Shipment::TOPIC);
    let handles: Vec<_> = (1..100)
        .map(|i| {
            events
                .produce_event(&shipment(i))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    for handle in handles {
        handle.wait().unwrap_or_else(|e| panic!("{e}"));
    }
    events.close();

    let read = harness.block_on(async {
        let registry = common::registry().await;
        let requests = common::requests_about(registry, Shipment::TOPIC).await;
        assert_eq!(requests.len(), 1, "registry requests: {requests:?}");
        common::read_with_confluent_kafka(
            &bootstrap,
            Shipment::TOPIC,
            &registry_url,
            100,
            "avro",
            &[],
        )
        .await
    });
    let mut seen = HashSet::new();
    for record in &read {
        let value: Shipment = serde_json::from_value(record["value"].clone())
            .unwrap_or_else(|e| panic!("{e}: {record}"));
        let i: i32 = value
            .shipment_id
            .strip_prefix("shipment-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("foreign record {record}"));
        assert_eq!(value, shipment(i));
        assert_eq!(record["key"], serde_json::json!(value.shipment_id));
        assert!(seen.insert(i), "shipment {i} twice");
    }
    assert_eq!(seen.len(), 100);

    // Dropped inside an async runtime, where nothing may block, it neither panics nor hangs.
    let producer = kiel::blocking::Producer::new(&bootstrap).unwrap_or_else(|e| panic!("{e}"));
    let client = RegistryClient::from_url(&registry_url).unwrap_or_else(|e| panic!("{e}"));
    let events = blocking::EventProducer::new(producer, client).unwrap_or_else(|e| panic!("{e}"));
    harness.block_on(async move { drop(events) });
}
