//! kiel's producer metrics in Prometheus's format: the `metrics` facade's Prometheus
//! exporter is installed as the application's recorder, the producer exports its metrics
//! through the facade every half second, and the scrape text is printed (a service would
//! serve it on `/metrics` instead, e.g. with the exporter's `http-listener` feature).
//!
//! Uses the cluster in `KAFKA_BOOTSTRAP` when set; otherwise starts a local single-node
//! Apache Kafka with kiel-testcontainers (needs Java 17+ and Maven).
//!
//! ```sh
//! cargo run --example prometheus --features metrics
//! ```

use std::time::Duration;

use kiel::{Producer, Record};
use kiel_testcontainers::KafkaCluster;
use metrics_exporter_prometheus::PrometheusBuilder;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let prometheus = PrometheusBuilder::new().install_recorder()?;
    let cluster = KafkaCluster::from_env_or_start(KafkaCluster::builder()).await?;
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .client_id("prometheus-example")
        .export_metrics(Duration::from_millis(500))
        .build()
        .await?;
    for i in 0..1000 {
        // Fire and forget: the flush below waits for every outcome.
        drop(producer.produce("prometheus-example", Record::value(format!("event {i}")))?);
    }
    // Closing waits for every record's outcome and exports one last time.
    producer.close().await;
    println!("{}", prometheus.render());
    Ok(())
}
