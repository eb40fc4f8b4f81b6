//! The dead-letter-queue pattern of the production guide the project started from
//! (`shared/seeds/002_39192eadab028c20.txt`): a record that cannot be written goes to a DLQ
//! topic instead, with why in its headers, so nothing is silently dropped.
//!
//! Two ways a payment fails here: its value breaks the JSON Schema (a negative amount), so
//! it is never queued (`dlq.stage: serialize`, the value as JSON); or the broker refuses it
//! (a note too large for the topic's `max.message.bytes`), which the delivery callback
//! reports (`dlq.stage: deliver`, the value as it was sent). The DLQ record keeps the key
//! and carries `dlq.original.topic`, `dlq.stage` and `dlq.error`.
//!
//! Runs against a local Kafka and registry (kiel-testcontainers: Java 17+ and 21+, Maven),
//! or `KAFKA_BOOTSTRAP` / `SCHEMA_REGISTRY_URL` (the topics `payments`, with
//! `max.message.bytes=2048`, and `payments-dlq` must exist there).
//!
//! ```sh
//! cargo run -p kiel-schema-registry --example dead_letter_queue
//! ```

use std::time::Duration;

use bytes::Bytes;
use kiel::{Producer, Record};
use kiel_schema_registry::{JsonSchemaSerializer, RegistryClient, RegistryConfig};
use serde::Serialize;
use tokio::sync::mpsc;

mod support;
use support::Services;

const TOPIC: &str = "payments";
const DLQ_TOPIC: &str = "payments-dlq";

const PAYMENT_SCHEMA: &str = r#"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "Payment",
  "type": "object",
  "properties": {
    "payment_id": {"type": "string"},
    "amount": {"type": "number", "minimum": 0},
    "note": {"type": "string"}
  },
  "required": ["payment_id", "amount"],
  "additionalProperties": false
}"#;

#[derive(Debug, Serialize)]
struct Payment {
    payment_id: String,
    amount: f64,
    note: String,
}

fn payments() -> impl Iterator<Item = Payment> {
    (0..10).map(|i| Payment {
        payment_id: format!("p-{i}"),
        // Payment 3 is negative: the schema refuses it.
        amount: if i == 3 { -5.0 } else { 10.0 * f64::from(i) },
        // Payment 6 is too large for the topic: the broker refuses it.
        note: if i == 6 {
            "x".repeat(5_000)
        } else {
            format!("payment {i}")
        },
    })
}

/// A record that did not make it, and why.
struct DeadLetter {
    key: Option<Bytes>,
    value: Bytes,
    stage: &'static str,
    error: String,
}

impl DeadLetter {
    fn record(self) -> Record {
        let mut record = Record::value(self.value)
            .with_header("dlq.original.topic", TOPIC)
            .with_header("dlq.stage", self.stage)
            .with_header("dlq.error", self.error);
        record.key = self.key;
        record
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let services = Services::from_env_or_start().await?;
    if let Some(kafka) = &services.local_kafka {
        kafka
            .create_topic(TOPIC, 3, 1, &[("max.message.bytes", "2048")])
            .await?;
        kafka.create_topic(DLQ_TOPIC, 1, 1, &[]).await?;
    }
    let mut settings = vec![("bootstrap.servers", services.bootstrap.clone())];
    settings.extend(services.security_settings());
    let producer = Producer::from_properties(settings).await?;
    let registry = RegistryClient::new(RegistryConfig::from_properties(
        services.registry_settings(),
    )?)?;
    let serializer = JsonSchemaSerializer::<Payment>::new(registry, PAYMENT_SCHEMA)?;
    serializer.prepare(TOPIC).await?;

    // Callbacks stay short: failures go through a channel and are written to the DLQ here.
    let (failures, mut dead_letters) = mpsc::unbounded_channel::<DeadLetter>();
    for payment in payments() {
        let key = Bytes::from(payment.payment_id.clone());
        let value = match serializer.encode(TOPIC, &payment) {
            Ok(value) => value,
            Err(e) => {
                println!("{}: not serializable: {e}", payment.payment_id);
                let _ = failures.send(DeadLetter {
                    key: Some(key),
                    value: Bytes::from(serde_json::to_vec(&payment)?),
                    stage: "serialize",
                    error: e.to_string(),
                });
                continue;
            }
        };
        let record = Record::key_value(key.clone(), value.clone());
        let failures = failures.clone();
        let id = payment.payment_id.clone();
        producer.produce_with_callback(TOPIC, record, move |outcome| match outcome {
            Ok(m) => println!("{id}: {} [{}] @ {}", m.topic, m.partition, m.offset),
            Err(e) => {
                println!("{id}: delivery failed: {e}");
                let _ = failures.send(DeadLetter {
                    key: Some(key),
                    value,
                    stage: "deliver",
                    error: e.to_string(),
                });
            }
        })?;
    }
    drop(failures);
    let remaining = producer.flush(Duration::from_secs(30)).await;
    println!("{remaining} payments unacknowledged after the flush");

    let mut sent_to_dlq = 0;
    while let Some(letter) = dead_letters.recv().await {
        let stage = letter.stage;
        let metadata = producer.send(DLQ_TOPIC, letter.record()).await?;
        sent_to_dlq += 1;
        println!(
            "dead letter ({stage}) -> {} [{}] @ {}",
            metadata.topic, metadata.partition, metadata.offset
        );
    }
    println!("{sent_to_dlq} payments went to {DLQ_TOPIC}");
    producer.close().await;

    // Read the dead letters back with Kafka's console consumer (local cluster only).
    if let Some(kafka) = &services.local_kafka {
        for letter in kafka
            .consume_all(DLQ_TOPIC, sent_to_dlq, Duration::from_secs(30))
            .await?
        {
            let text = |bytes: &Option<Vec<u8>>| {
                bytes
                    .as_deref()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default()
                    .chars()
                    .take(100)
                    .collect::<String>()
            };
            println!("read back: key {}", text(&letter.key));
            for (name, value) in &letter.headers {
                println!("  {name}: {}", text(value));
            }
        }
    }
    Ok(())
}
