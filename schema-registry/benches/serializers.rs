//! Criterion benchmarks of the registry serializers: the encode of a 10-field record in
//! each format (Avro, JSON Schema with its validation, Protobuf), and the whole typed
//! produce path (`TypedProducer::produce` with the Avro serializer) beside the core's plain
//! `produce()` of the same record already serialized, both into a real producer.
//!
//! Run: `cargo bench -p kiel-schema-registry --bench serializers`. It starts a Kafka broker
//! and a Schema Registry with kiel-testcontainers (Java 17+ and 21+, Maven), so the schema
//! ids come from a real registry once, as in production. Numbers: `schema-registry/README.md`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiel::serialize::TypedProducer;
use kiel::{Producer, Record};
use kiel_schema_registry::apache_avro::AvroSchema;
use kiel_schema_registry::{
    AvroSerializer, JsonSchemaSerializer, ProtobufSerializer, RegistryClient,
};
use kiel_testcontainers::{shared_cluster, shared_registry};
use serde::Serialize;

/// A 10-field event, the same fields in every format.
#[derive(Clone, PartialEq, Serialize, AvroSchema, prost::Message)]
struct Measurement {
    #[prost(string, tag = "1")]
    event_id: String,
    #[prost(string, tag = "2")]
    device: String,
    #[prost(int64, tag = "3")]
    timestamp_ms: i64,
    #[prost(double, tag = "4")]
    temperature: f64,
    #[prost(double, tag = "5")]
    humidity: f64,
    #[prost(int32, tag = "6")]
    battery_percent: i32,
    #[prost(bool, tag = "7")]
    healthy: bool,
    #[prost(string, optional, tag = "8")]
    note: Option<String>,
    #[prost(string, tag = "9")]
    firmware: String,
    #[prost(int64, tag = "10")]
    sequence: i64,
}

const MEASUREMENT_PROTO: &str = r#"syntax = "proto3";
package bench;
message Measurement {
  string event_id = 1;
  string device = 2;
  int64 timestamp_ms = 3;
  double temperature = 4;
  double humidity = 5;
  int32 battery_percent = 6;
  bool healthy = 7;
  optional string note = 8;
  string firmware = 9;
  int64 sequence = 10;
}
"#;

const MEASUREMENT_JSON_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Measurement",
  "type": "object",
  "properties": {
    "event_id": {"type": "string"},
    "device": {"type": "string"},
    "timestamp_ms": {"type": "integer"},
    "temperature": {"type": "number"},
    "humidity": {"type": "number", "minimum": 0, "maximum": 100},
    "battery_percent": {"type": "integer", "minimum": 0, "maximum": 100},
    "healthy": {"type": "boolean"},
    "note": {"type": ["string", "null"]},
    "firmware": {"type": "string"},
    "sequence": {"type": "integer"}
  },
  "required": ["event_id", "device", "timestamp_ms", "temperature", "humidity",
               "battery_percent", "healthy", "firmware", "sequence"],
  "additionalProperties": false
}"#;

fn measurement(i: i64) -> Measurement {
    Measurement {
        event_id: format!("evt-{i:08}"),
        device: format!("device-{}", i % 64),
        timestamp_ms: 1_765_000_000_000 + i,
        temperature: 21.5 + (i % 10) as f64 / 10.0,
        humidity: 40.0 + (i % 20) as f64,
        battery_percent: i32::try_from(i % 100).unwrap_or(0),
        healthy: i % 7 != 0,
        note: (i % 5 == 0).then(|| "recalibrated".to_owned()),
        firmware: "2.4.1".to_owned(),
        sequence: i,
    }
}

const RECORDS_PER_ROUND: u64 = 10_000;

struct Setup {
    runtime: tokio::runtime::Runtime,
    producer: Producer,
    registry: RegistryClient,
    topic: String,
}

fn setup() -> Setup {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let (producer, registry, topic) = runtime.block_on(async {
        let kafka = shared_cluster()
            .await
            .unwrap_or_else(|e| panic!("the bench needs a Kafka broker (Java 17+, Maven): {e}"));
        let registry = shared_registry()
            .await
            .unwrap_or_else(|e| panic!("the bench needs a Schema Registry (Java 21+, Maven): {e}"));
        let topic = format!("bench-measurements-{}", std::process::id());
        kafka
            .create_topic(&topic, 6, 1, &[])
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let producer = Producer::new(&kafka.bootstrap())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let client = RegistryClient::from_url(&registry.url()).unwrap_or_else(|e| panic!("{e}"));
        (producer, client, topic)
    });
    Setup {
        runtime,
        producer,
        registry,
        topic,
    }
}

fn encode(c: &mut Criterion, setup: &Setup) {
    let topic = &setup.topic;
    let avro = AvroSerializer::<Measurement>::derived(setup.registry.clone());
    let json =
        JsonSchemaSerializer::<Measurement>::new(setup.registry.clone(), MEASUREMENT_JSON_SCHEMA)
            .unwrap_or_else(|e| panic!("{e}"));
    let protobuf = ProtobufSerializer::<Measurement>::new(
        setup.registry.clone(),
        MEASUREMENT_PROTO,
        "bench.Measurement",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    setup.runtime.block_on(async {
        // Each format under its own subject (TopicNameStrategy would put all three under
        // one subject, whose compatibility rules differ by format).
        for (serializer_topic, result) in [
            (
                format!("{topic}-avro"),
                avro.prepare(&format!("{topic}-avro")).await,
            ),
            (
                format!("{topic}-json"),
                json.prepare(&format!("{topic}-json")).await,
            ),
            (
                format!("{topic}-protobuf"),
                protobuf.prepare(&format!("{topic}-protobuf")).await,
            ),
        ] {
            result.unwrap_or_else(|e| panic!("{serializer_topic}: {e}"));
        }
    });
    let value = measurement(12_345);
    let mut group = c.benchmark_group("encode_10_fields");
    group.throughput(Throughput::Elements(1));
    let avro_topic = format!("{topic}-avro");
    let json_topic = format!("{topic}-json");
    let protobuf_topic = format!("{topic}-protobuf");
    let mut sizes = HashMap::new();
    group.bench_function("avro", |b| {
        b.iter(|| avro.encode(&avro_topic, &value).map(|v| v.len()))
    });
    group.bench_function("json_schema", |b| {
        b.iter(|| json.encode(&json_topic, &value).map(|v| v.len()))
    });
    group.bench_function("protobuf", |b| {
        b.iter(|| protobuf.encode(&protobuf_topic, &value).map(|v| v.len()))
    });
    group.finish();
    for (name, bytes) in [
        ("avro", avro.encode(&avro_topic, &value).map(|v| v.len())),
        (
            "json_schema",
            json.encode(&json_topic, &value).map(|v| v.len()),
        ),
        (
            "protobuf",
            protobuf.encode(&protobuf_topic, &value).map(|v| v.len()),
        ),
    ] {
        sizes.insert(name, bytes.unwrap_or_else(|e| panic!("{name}: {e}")));
    }
    eprintln!("encoded sizes of the 10-field record (header included): {sizes:?}");
}

/// Times `produce` calls only, `RECORDS_PER_ROUND` a round; the producer is flushed
/// between rounds, outside the timing, so the buffer never fills.
fn timed_rounds(setup: &Setup, rounds: u64, mut produce: impl FnMut(i64)) -> Duration {
    let mut total = Duration::ZERO;
    for round in 0..rounds {
        let base = i64::try_from(round * RECORDS_PER_ROUND).unwrap_or(0);
        let started = Instant::now();
        for i in 0..i64::try_from(RECORDS_PER_ROUND).unwrap_or(0) {
            produce(base + i);
        }
        total += started.elapsed();
        let unsent = setup
            .runtime
            .block_on(setup.producer.flush(Duration::from_secs(60)));
        assert_eq!(unsent, 0, "records left after the flush");
    }
    total
}

fn produce_path(c: &mut Criterion, setup: &Setup) {
    let topic = &setup.topic;
    let avro = AvroSerializer::<Measurement>::derived(setup.registry.clone());
    setup
        .runtime
        .block_on(avro.prepare(topic))
        .unwrap_or_else(|e| panic!("{e}"));
    // The same records, serialized once up front, for the plain path.
    let values: Vec<Measurement> = (0..1_000).map(measurement).collect();
    let encoded: Vec<bytes::Bytes> = values
        .iter()
        .map(|v| avro.encode(topic, v).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let typed = TypedProducer::new(setup.producer.clone(), avro);

    let mut group = c.benchmark_group("produce_path");
    group.throughput(Throughput::Elements(RECORDS_PER_ROUND));
    group.sample_size(10);
    group.bench_function(
        BenchmarkId::from_parameter("plain_produce_serialized"),
        |b| {
            b.iter_custom(|rounds| {
                timed_rounds(setup, rounds, |i| {
                    let value = encoded[usize::try_from(i).unwrap_or(0) % encoded.len()].clone();
                    let delivery = setup.producer.produce(topic, Record::value(value));
                    drop(delivery.unwrap_or_else(|e| panic!("{e}")));
                })
            })
        },
    );
    group.bench_function(BenchmarkId::from_parameter("typed_avro_produce"), |b| {
        b.iter_custom(|rounds| {
            timed_rounds(setup, rounds, |i| {
                let value = &values[usize::try_from(i).unwrap_or(0) % values.len()];
                drop(
                    typed
                        .produce(topic, value)
                        .unwrap_or_else(|e| panic!("{e}")),
                );
            })
        })
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    let setup = setup();
    encode(c, &setup);
    produce_path(c, &setup);
    setup.runtime.block_on(setup.producer.close());
}

criterion_group! {
    name = serializers;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = benches
}
criterion_main!(serializers);
