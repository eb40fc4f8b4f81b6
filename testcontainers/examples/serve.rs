//! Runs a Kafka cluster until stdin closes or the process is stopped, for experiments by hand:
//! `cargo run -p kiel-testcontainers --example serve -- [nodes] [partitions]`.
//!
//! Prints the bootstrap address on stdout. Topics are created on first use with
//! `partitions` partitions (default 6) and replication factor `min(nodes, 3)`. Honours the
//! harness's environment variables (`KIEL_KAFKA_VERSION`, `KIEL_KAFKA_JVM_OPTS`, ...).

use kiel_testcontainers::{HarnessError, KafkaCluster};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), HarnessError> {
    let mut args = std::env::args().skip(1);
    let nodes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let partitions: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(6);
    let cluster = KafkaCluster::builder()
        .nodes(nodes)
        .default_partitions(partitions)
        .replication_factor(nodes.min(3) as u32)
        .start()
        .await?;
    println!("{}", cluster.bootstrap());
    eprintln!("serving; close stdin or press Ctrl-C to stop (the brokers stop with this process)");
    let _ =
        tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink()))
            .await;
    Ok(())
}
