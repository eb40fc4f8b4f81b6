//! Produce a few records and print where they landed.
//!
//! Uses the cluster in `KAFKA_BOOTSTRAP` (e.g. `127.0.0.1:9092`) when set; otherwise starts
//! a local single-node Apache Kafka with kiel-testcontainers (needs Java 17+ and Maven; the
//! first run downloads Kafka from Maven Central into a cache).
//!
//! ```sh
//! cargo run --example quickstart
//! ```

use std::time::Duration;

use kiel::{Producer, Record};
use kiel_testcontainers::KafkaCluster;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cluster = KafkaCluster::from_env_or_start(KafkaCluster::builder()).await?;
    let bootstrap = cluster.bootstrap();
    println!("brokers: {bootstrap}");

    let producer = Producer::new(&bootstrap).await?;
    let mut futures = Vec::new();
    for i in 0..10 {
        let record = Record::key_value(format!("user-{}", i % 3), format!("event {i}"))
            .with_header("source", "quickstart");
        futures.push(producer.produce("quickstart", record)?);
    }
    for future in futures {
        let m = future.await?;
        println!("{}-{} @ offset {}", m.topic, m.partition, m.offset);
    }
    let remaining = producer.flush(Duration::from_secs(10)).await;
    println!("unacknowledged after flush: {remaining}");
    producer.close().await;
    Ok(())
}
