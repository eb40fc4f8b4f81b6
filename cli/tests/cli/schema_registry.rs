//! `kiel produce --value-format avro|json-schema|protobuf` against a real broker and a real
//! Schema Registry (kiel-testcontainers' Apicurio Registry), read back by an independent
//! implementation: confluent-kafka's Python deserializers
//! (`pip install 'confluent-kafka[avro,schemaregistry,json,protobuf]' fastavro grpcio-tools`).

use std::path::PathBuf;

use kiel_testcontainers::{shared_registry, SchemaRegistry};
use serde_json::{json, Value};

use crate::support::{cluster, kiel, kiel_with_open_stdin, unique};

const READER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../schema-registry/tests/read_with_confluent_kafka.py"
);
const SHOP_PROTO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../schema-registry/tests/shop.proto"
);

const ORDER_AVSC: &str = r#"{
  "type": "record", "name": "Order", "namespace": "shop",
  "fields": [
    {"name": "order_id", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "quantity", "type": "int"},
    {"name": "note", "type": ["null", "string"], "default": null}
  ]
}"#;

const ORDER_KEY_AVSC: &str = r#"{"type": "record", "name": "OrderKey", "namespace": "shop",
  "fields": [{"name": "order_id", "type": "string"}]}"#;

const PAYMENT_JSON_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Payment", "type": "object",
  "properties": {
    "payment_id": {"type": "string"},
    "amount": {"type": "number", "minimum": 0}
  },
  "required": ["payment_id", "amount"], "additionalProperties": false
}"#;

async fn registry() -> &'static SchemaRegistry {
    shared_registry()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Schema Registry (Java 21+ and Maven): {e}"))
}

/// `text` in a file of its own.
fn schema_file(name: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(unique(name));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}

/// Reads `count` records of `topic` with confluent-kafka's deserializer for `format`.
async fn read_back(topic: &str, count: usize, format: &str, extra: &[&str]) -> Vec<Value> {
    let (cluster, registry) = (cluster().await, registry().await);
    // As in kiel-schema-registry's tests: a run that hangs (an HTTP call to the registry
    // that never returned, seen once under load) is killed and tried once more.
    let timeout = std::time::Duration::from_secs(150);
    let mut attempt = 0;
    let output = loop {
        attempt += 1;
        let run = tokio::process::Command::new("python3")
            .arg(READER)
            .args([
                &cluster.bootstrap(),
                topic,
                &registry.url(),
                &count.to_string(),
                format,
            ])
            .args(extra)
            .kill_on_drop(true)
            .output();
        match tokio::time::timeout(timeout, run).await {
            Ok(output) => break output.unwrap_or_else(|e| panic!("python3: {e}")),
            Err(_) if attempt < 2 => {
                eprintln!(
                    "the Python reader of {topic} hung for {timeout:?}; killed, trying again"
                );
            }
            Err(_) => panic!("the Python reader of {topic} hung for {timeout:?} twice (killed)"),
        }
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code() != Some(3),
        "confluent-kafka for Python is missing: pip install \
         'confluent-kafka[avro,schemaregistry,json,protobuf]' fastavro grpcio-tools ({stderr})"
    );
    assert!(
        output.status.success(),
        "the Python reader failed: {stderr}"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn order(i: u32) -> Value {
    json!({
        "order_id": format!("o-{i}"),
        "amount": f64::from(i) * 2.5,
        "quantity": i % 4,
        "note": if i.is_multiple_of(3) { json!(format!("gift {i}")) } else { Value::Null },
    })
}

#[tokio::test]
async fn avro_keys_and_values_from_json_lines_are_read_back_by_confluent_kafka() {
    let (cluster, registry) = tokio::join!(cluster(), registry());
    let topic = unique("cli-avro");
    cluster.create_topic(&topic, 3, 1, &[]).await.unwrap();
    let value_schema = schema_file("order.avsc", ORDER_AVSC);
    let key_schema = schema_file("order-key.avsc", ORDER_KEY_AVSC);
    let mut input: String = (0..20)
        .map(|i| format!("{}\t{}\n", json!({"order_id": format!("o-{i}")}), order(i)))
        .collect();
    // Not an order: `quantity` is text. It fails alone; the others go.
    input.push_str(
        "{\"order_id\":\"bad\"}\t{\"order_id\":\"bad\",\"amount\":1,\"quantity\":\"two\"}\n",
    );
    let run = kiel(
        &[
            "produce",
            "-b",
            &cluster.bootstrap(),
            "-t",
            &topic,
            "-K",
            "\\t",
            "--schema-registry",
            &registry.url(),
            "--value-format",
            "avro",
            "--value-schema",
            value_schema.to_str().unwrap(),
            "--key-format",
            "avro",
            "--key-schema",
            key_schema.to_str().unwrap(),
        ],
        input.as_bytes(),
    )
    .await;
    run.expect_code(1);
    assert!(
        run.stdout
            .starts_with(&format!("20 records produced to `{topic}`, 1 failed")),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("line 21: value: Avro serialization failed"),
        "{}",
        run.stderr
    );
    let records = read_back(&topic, 20, "avro", &[]).await;
    assert_eq!(records.len(), 20);
    let mut seen = std::collections::BTreeSet::new();
    for record in &records {
        let id = record["value"]["order_id"].as_str().unwrap_or_default();
        let i: u32 = id.strip_prefix("o-").and_then(|n| n.parse().ok()).unwrap();
        assert_eq!(record["value"], order(i), "{record}");
        assert!(seen.insert(i), "{id} twice");
    }
    // The keys are Avro too: the bytes after the 5-byte header are the string's length
    // (zigzag varint) and the order id.
    let subjects = kiel_schema_registry::RegistryClient::from_url(&registry.url())
        .unwrap()
        .subjects()
        .await
        .unwrap();
    assert!(subjects.contains(&format!("{topic}-key")), "{subjects:?}");
    assert!(subjects.contains(&format!("{topic}-value")), "{subjects:?}");
    let _ = std::fs::remove_file(value_schema);
    let _ = std::fs::remove_file(key_schema);
}

#[tokio::test]
async fn json_schema_and_protobuf_values_are_read_back_by_confluent_kafka() {
    let (cluster, registry) = tokio::join!(cluster(), registry());
    let payments = unique("cli-json");
    let orders = unique("cli-proto");
    cluster.create_topic(&payments, 1, 1, &[]).await.unwrap();
    cluster.create_topic(&orders, 1, 1, &[]).await.unwrap();
    let json_schema = schema_file("payment.json", PAYMENT_JSON_SCHEMA);
    let input: String = (0..10)
        .map(|i| format!("{}\n", json!({"payment_id": format!("p-{i}"), "amount": i})))
        .chain(["{\"payment_id\":\"p-neg\",\"amount\":-1}\n".to_owned()])
        .collect();
    let run = kiel(
        &[
            "produce",
            "-b",
            &cluster.bootstrap(),
            "-t",
            &payments,
            "--schema-registry",
            &registry.url(),
            "--value-format",
            "json-schema",
            "--value-schema",
            json_schema.to_str().unwrap(),
        ],
        input.as_bytes(),
    )
    .await;
    run.expect_code(1);
    assert!(
        run.stderr.contains("line 11: value: JSON Schema"),
        "{}",
        run.stderr
    );
    let records = read_back(&payments, 10, "json", &[]).await;
    let values: Vec<Value> = records.iter().map(|r| r["value"].clone()).collect();
    let expected: Vec<Value> = (0..10)
        .map(|i| json!({"payment_id": format!("p-{i}"), "amount": i}))
        .collect();
    assert_eq!(values, expected);

    let input: String = (0..10)
        .map(|i| {
            format!(
                "{}\n",
                json!({"order_id": format!("o-{i}"), "amount": f64::from(i) + 0.5,
                       "status": "PAID", "lines": [{"sku": "s-1", "count": i}],
                       "created_at": (1_700_000_000_000_i64 + i64::from(i)).to_string()})
            )
        })
        .collect();
    let run = kiel(
        &[
            "produce",
            "-b",
            &cluster.bootstrap(),
            "-t",
            &orders,
            "--schema-registry",
            &registry.url(),
            "--value-format",
            "protobuf",
            "--value-schema",
            SHOP_PROTO,
            "--value-message",
            "shop.Order",
        ],
        input.as_bytes(),
    )
    .await;
    run.expect_code(0);
    let records = read_back(&orders, 10, "protobuf", &[SHOP_PROTO, "shop.Order"]).await;
    assert_eq!(records.len(), 10);
    for (i, record) in records.iter().enumerate() {
        assert_eq!(record["message_indexes"], json!([1]), "{record}");
        assert_eq!(record["schema_matches"], json!(true), "{record}");
        let value = &record["value"];
        assert_eq!(value["order_id"], json!(format!("o-{i}")), "{record}");
        assert_eq!(value["amount"], json!(i as f64 + 0.5), "{record}");
        assert_eq!(value["status"], json!("PAID"), "{record}");
        assert_eq!(
            value["lines"],
            json!([{"sku": "s-1", "count": i}]),
            "{record}"
        );
        assert_eq!(
            value["created_at"],
            json!((1_700_000_000_000_i64 + i as i64).to_string())
        );
    }
    let _ = std::fs::remove_file(json_schema);
}

#[tokio::test]
async fn schema_options_are_checked_before_anything_is_read_or_sent() {
    let schema = schema_file("order.avsc", ORDER_AVSC);
    let schema = schema.to_str().unwrap();
    let cases: [(&[&str], &str); 5] = [
        (
            &["--value-format", "avro", "--value-schema", schema],
            "--key-format / --value-format other than raw need --schema-registry URL",
        ),
        (
            &[
                "--schema-registry",
                "http://127.0.0.1:9",
                "--value-format",
                "avro",
            ],
            "--value-format avro needs --value-schema FILE",
        ),
        (
            &[
                "--schema-registry",
                "http://127.0.0.1:9",
                "--value-format",
                "avro",
                "--value-schema",
                "/nonexistent/order.avsc",
            ],
            "--value-schema /nonexistent/order.avsc: ",
        ),
        (
            &[
                "--schema-registry",
                "http://127.0.0.1:9",
                "--value-format",
                "avro",
                "--value-schema",
                SHOP_PROTO,
            ],
            "not an Avro schema",
        ),
        (
            &[
                "--schema-registry",
                "http://127.0.0.1:9",
                "--key-format",
                "avro",
                "--key-schema",
                schema,
            ],
            "--key-format needs -K",
        ),
    ];
    for (options, message) in cases {
        let mut args = vec!["produce", "-b", "127.0.0.1:9", "-t", "orders"];
        args.extend_from_slice(options);
        let run = kiel_with_open_stdin(&args).await;
        run.expect_code(2);
        assert!(run.stderr.contains(message), "{options:?}: {}", run.stderr);
    }
}

#[tokio::test]
async fn an_unreachable_registry_fails_the_run_before_input_is_read() {
    let cluster = cluster().await;
    let schema = schema_file("order.avsc", ORDER_AVSC);
    let run = kiel_with_open_stdin(&[
        "produce",
        "-b",
        &cluster.bootstrap(),
        "-t",
        &unique("cli-no-registry"),
        "--schema-registry",
        "http://127.0.0.1:9",
        "--registry-property",
        "max.retries=1",
        "--registry-property",
        "retries.wait.ms=10",
        "--value-format",
        "avro",
        "--value-schema",
        schema.to_str().unwrap(),
    ])
    .await;
    run.expect_code(1);
    assert!(
        run.stderr.contains("schema registry http://127.0.0.1:9")
            && run.stderr.contains("unavailable after 2 attempts"),
        "{}",
        run.stderr
    );
    let _ = std::fs::remove_file(schema);
}
