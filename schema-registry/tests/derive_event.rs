//! `#[derive(Event)]`: the topic and key said once in an attribute.

use bytes::Bytes;
use kiel_schema_registry::apache_avro::AvroSchema;
use kiel_schema_registry::Event;
use serde::Serialize;

#[derive(Serialize, AvroSchema, Event)]
#[event(topic = "orders", key = "order_id")]
struct Order {
    order_id: String,
    amount: f64,
}

/// The production guide's numeric id, keyed as decimal text (`str(order_id)`).
#[derive(Serialize, AvroSchema, Event)]
#[event(topic = "order-events", key = "order_id")]
struct OrderEvent {
    order_id: i64,
}

#[derive(Serialize, AvroSchema, Event)]
#[event(topic = "audit")]
struct AuditEntry {
    text: String,
}

#[derive(Serialize, AvroSchema, Event)]
#[event(key = "tenant", topic = "usage")]
struct Usage {
    tenant: Option<String>,
    units: i32,
}

fn key<E: Event>(event: &E) -> Option<Bytes> {
    event.key()
}

#[test]
fn the_attribute_gives_the_topic_and_the_key_field() {
    let order = Order {
        order_id: "o-1".into(),
        amount: 2.5,
    };
    assert_eq!(Order::TOPIC, "orders");
    assert_eq!(key(&order), Some(Bytes::from("o-1")));
    assert_eq!(order.amount, 2.5);

    assert_eq!(OrderEvent::TOPIC, "order-events");
    assert_eq!(
        key(&OrderEvent { order_id: 1000 }),
        Some(Bytes::from("1000"))
    );

    assert_eq!(AuditEntry::TOPIC, "audit");
    let entry = AuditEntry { text: "x".into() };
    assert_eq!(key(&entry), None);
    assert_eq!(entry.text, "x");

    let anonymous = Usage {
        tenant: None,
        units: 3,
    };
    assert_eq!((Usage::TOPIC, key(&anonymous)), ("usage", None));
    assert_eq!(anonymous.units, 3);
    let known = Usage {
        tenant: Some("acme".into()),
        units: 1,
    };
    assert_eq!(key(&known), Some(Bytes::from("acme")));
}
