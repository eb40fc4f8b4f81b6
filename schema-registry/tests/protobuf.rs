//! Protobuf through a real Schema Registry (kiel-testcontainers' Apicurio Registry) into a
//! real Kafka broker, read back by an independent implementation: Python's confluent-kafka
//! `ProtobufDeserializer` against the same registry, with a message class protoc
//! (grpcio-tools) compiled from the same `tests/shop.proto`
//! (`pip install 'confluent-kafka[protobuf]' grpcio-tools`; see `read_with_confluent_kafka.py`
//! for the one adaptation to Apicurio's answer).
//!
//! Checked: every field of every record equal (proto3's JSON mapping on both sides), the
//! schema id in each record the registry's, the message indexes naming the message written
//! (a top-level one that is not the file's first, and a nested one), the registry's schema
//! text the `.proto` file, and one registry request per subject for the whole run.

mod common;

use std::collections::HashMap;

use bytes::Bytes;
use kiel::serialize::TypedProducer;
use kiel::Producer;
use kiel_schema_registry::protobuf::Decoded;
use kiel_schema_registry::{ProtobufDeserializer, ProtobufSerializer, RegistryClient, Schema};
use serde_json::json;

use common::{kafka, registry, unique};

const SHOP_PROTO: &str = include_str!("shop.proto");
const SHOP_PROTO_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/shop.proto");

/// `shop.Order`, as prost-build would generate it from `shop.proto`.
#[derive(Clone, PartialEq, prost::Message)]
struct Order {
    #[prost(string, tag = "1")]
    order_id: String,
    #[prost(string, tag = "2")]
    customer_id: String,
    #[prost(double, tag = "3")]
    amount: f64,
    #[prost(int32, tag = "4")]
    quantity: i32,
    #[prost(enumeration = "Status", tag = "5")]
    status: i32,
    #[prost(string, optional, tag = "6")]
    note: Option<String>,
    #[prost(int64, tag = "7")]
    created_at: i64,
    #[prost(message, repeated, tag = "8")]
    lines: Vec<Line>,
    #[prost(map = "string, string", tag = "9")]
    attributes: HashMap<String, String>,
}

/// `shop.Order.Line`.
#[derive(Clone, PartialEq, prost::Message)]
struct Line {
    #[prost(string, tag = "1")]
    sku: String,
    #[prost(uint32, tag = "2")]
    count: u32,
}

/// `shop.Status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
enum Status {
    Unspecified = 0,
    New = 1,
    Paid = 2,
}

fn line(i: u32) -> Line {
    Line {
        sku: format!("sku-{}", i % 11),
        count: i % 4,
    }
}

fn order(i: u32) -> Order {
    Order {
        order_id: format!("order-{i}"),
        customer_id: format!("customer-{}", i % 7),
        amount: f64::from(i) * 1.25,
        quantity: i32::try_from(i % 5).unwrap_or(0) - 1,
        status: [Status::Unspecified, Status::New, Status::Paid][(i % 3) as usize] as i32,
        note: i.is_multiple_of(4).then(|| format!("note {i} ✓")),
        created_at: 1_700_000_000_000 + i64::from(i),
        lines: (0..i % 3).map(|j| line(i + j)).collect(),
        attributes: (0..i % 2)
            .map(|j| (format!("k{j}"), format!("v{i}")))
            .collect(),
    }
}

/// What proto3's JSON mapping makes of a line (every field printed, names as in the file).
fn line_json(line: &Line) -> serde_json::Value {
    json!({ "sku": line.sku, "count": line.count })
}

/// What proto3's JSON mapping makes of an order: int64 as a string, enums by name, an
/// unset optional field left out.
fn order_json(order: &Order) -> serde_json::Value {
    let status = Status::try_from(order.status).map_or("?", |s| match s {
        Status::Unspecified => "STATUS_UNSPECIFIED",
        Status::New => "NEW",
        Status::Paid => "PAID",
    });
    let mut value = json!({
        "order_id": order.order_id,
        "customer_id": order.customer_id,
        "amount": order.amount,
        "quantity": order.quantity,
        "status": status,
        "created_at": order.created_at.to_string(),
        "lines": order.lines.iter().map(line_json).collect::<Vec<_>>(),
        "attributes": order.attributes,
    });
    if let Some(note) = &order.note {
        value["note"] = json!(note);
    }
    value
}

/// Produces `values` (keyed by `key`) to a new topic through `serializer`, then reads them
/// with confluent-kafka: the topic, the schema id, and each record as the script prints it.
async fn round_trip<T: prost::Message + 'static>(
    serializer: ProtobufSerializer<T>,
    name: &str,
    values: &[T],
    key: fn(&T) -> String,
) -> (String, u32, Vec<serde_json::Value>) {
    let (kafka, registry) = tokio::join!(kafka(), registry());
    let topic = unique(name);
    kafka
        .create_topic(&topic, 3, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let message = serializer.message_name().to_owned();
    let id = serializer
        .prepare(&topic)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::new(&kafka.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let typed = TypedProducer::new(producer.clone(), serializer)
        .with_key_maker(move |v: &T| Some(Bytes::from(key(v))));
    common::produce_all(&typed, &topic, values).await;
    producer.close().await;

    let ours = common::requests_about(registry, &topic).await;
    println!("{message}: schema id {id}, registry requests {ours:?}");
    assert_eq!(
        ours.len(),
        1,
        "one registry request for {} records",
        values.len()
    );

    let read = common::read_with_confluent_kafka(
        &kafka.bootstrap(),
        &topic,
        &registry.url(),
        values.len(),
        "protobuf",
        &[SHOP_PROTO_PATH, &message],
    )
    .await;
    assert_eq!(read.len(), values.len());
    for record in &read {
        assert_eq!(record["schema_id"], json!(id), "{record}");
        assert_eq!(record["message"], json!(message), "{record}");
        assert_eq!(
            record["schema_matches"],
            json!(true),
            "the registry's schema {id} is not shop.proto: {record}"
        );
    }
    (topic, id, read)
}

/// Checks that `read` holds each of `values` once, equal field by field.
fn assert_read_back<T>(
    read: &[serde_json::Value],
    values: &[T],
    key: fn(&T) -> String,
    to_json: fn(&T) -> serde_json::Value,
) {
    let mut expected: HashMap<String, serde_json::Value> =
        values.iter().map(|v| (key(v), to_json(v))).collect();
    for record in read {
        let key = record["key"].as_str().unwrap_or_default();
        let value = expected
            .remove(key)
            .unwrap_or_else(|| panic!("a record not written, or read twice: {record}"));
        assert_eq!(record["value"], value, "record {key}");
    }
    assert!(expected.is_empty(), "not read: {:?}", expected.keys());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protobuf_records_are_read_by_confluent_kafka_field_by_field() {
    let registry = registry().await;
    let client = RegistryClient::from_url(&registry.url()).unwrap_or_else(|e| panic!("{e}"));
    let new_serializer = || {
        ProtobufSerializer::<Order>::new(client.clone(), SHOP_PROTO, "shop.Order")
            .unwrap_or_else(|e| panic!("{e}"))
    };
    let serializer = new_serializer();
    // The second top-level message: its index list is [1], not the one-byte [0].
    assert_eq!(serializer.message_indexes(), &[1]);
    let orders: Vec<Order> = (0..200).map(order).collect();
    let order_key = |o: &Order| o.order_id.clone();
    let (topic, id, read) = round_trip(serializer, "proto-orders", &orders, order_key).await;
    for record in &read {
        assert_eq!(record["message_indexes"], json!([1]), "{record}");
    }
    assert_read_back(&read, &orders, order_key, order_json);

    // The registry has the .proto under that id for the subject, and kiel's own
    // deserializer, fetching the writer schema by id, names the message.
    let registered = client
        .lookup(&format!("{topic}-value"), &Schema::protobuf(SHOP_PROTO))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(registered.id, id);
    let serializer = new_serializer();
    assert_eq!(serializer.prepare(&topic).await.ok(), Some(id));
    let bytes = serializer
        .encode(&topic, &order(7))
        .unwrap_or_else(|e| panic!("{e}"));
    let decoded: Decoded<Order> = ProtobufDeserializer::new(client)
        .deserialize(&bytes)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        decoded,
        Decoded {
            schema_id: id,
            message: "shop.Order".to_owned(),
            value: order(7),
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_messages_carry_their_path_of_indexes() {
    let registry = registry().await;
    let client = RegistryClient::from_url(&registry.url()).unwrap_or_else(|e| panic!("{e}"));
    let serializer = ProtobufSerializer::<Line>::new(client, SHOP_PROTO, "shop.Order.Line")
        .unwrap_or_else(|e| panic!("{e}"));
    // Order's nested messages: the map field's AttributesEntry (declared first), then Line.
    assert_eq!(serializer.message_indexes(), &[1, 1]);
    // (sku, count) is unique for the first 44 lines.
    let lines: Vec<Line> = (0..20).map(line).collect();
    let line_key = |l: &Line| format!("{}/{}", l.sku, l.count);
    let (_, _, read) = round_trip(serializer, "proto-lines", &lines, line_key).await;
    for record in &read {
        assert_eq!(record["message_indexes"], json!([1, 1]), "{record}");
    }
    assert_read_back(&read, &lines, line_key, line_json);
}
