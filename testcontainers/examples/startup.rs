//! Measures cluster start times and broker memory:
//! `cargo run -p kiel-testcontainers --example startup -- <nodes> <repeats>`.
//! Honours the same environment variables as the harness (`KIEL_KAFKA_VERSION`,
//! `KIEL_KAFKA_CACHE`, `KIEL_KAFKA_JVM_OPTS`, `KIEL_KAFKA_TMP`); `STARTUP_JVM_OPTIONS`
//! replaces the default broker JVM options; `STARTUP_NO_CDS=1` turns class-data sharing off.
//!
//! `startup -- registry <repeats>` measures the Schema Registry instead (start time and RSS
//! after the first answer); `STARTUP_JVM_OPTIONS` then replaces the registry's JVM options
//! and `STARTUP_NO_CDS=1` turns its class-data sharing off.

use kiel_testcontainers::{HarnessError, KafkaCluster, SchemaRegistry};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), HarnessError> {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("registry") {
        args.next();
        let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
        return registry(repeats).await;
    }
    let nodes: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    let repeats: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1);
    for run in 1..=repeats {
        let mut builder = KafkaCluster::builder().nodes(nodes);
        if let Ok(options) = std::env::var("STARTUP_JVM_OPTIONS") {
            builder = builder.jvm_options(options.split_whitespace());
        }
        if std::env::var_os("STARTUP_NO_CDS").is_some() {
            builder = builder.class_data_sharing(false);
        }
        let cluster = builder.start().await?;
        let t = cluster.startup_timings();
        let rss: Vec<u64> = cluster
            .node_ids()
            .iter()
            .map(|id| cluster.rss_bytes(*id).ok().flatten().unwrap_or(0) / (1024 * 1024))
            .collect();
        println!(
            "run {run}: {nodes} node(s) Kafka {} total {:.2}s (distribution {:.2}s, prepare {:.3}s, JVMs to ready {:.2}s), RSS MiB {rss:?}",
            cluster.version().map(ToString::to_string).unwrap_or_default(),
            t.total.as_secs_f64(),
            t.distribution.as_secs_f64(),
            t.prepare.as_secs_f64(),
            t.until_ready.as_secs_f64(),
        );
    }
    Ok(())
}

async fn registry(repeats: usize) -> Result<(), HarnessError> {
    for run in 1..=repeats {
        let mut builder = SchemaRegistry::builder();
        if let Ok(options) = std::env::var("STARTUP_JVM_OPTIONS") {
            builder = builder.jvm_options(options.split_whitespace());
        }
        if std::env::var_os("STARTUP_NO_CDS").is_some() {
            builder = builder.class_data_sharing(false);
        }
        let registry = builder.start().await?;
        let t = registry.startup_timings();
        println!(
            "run {run}: Schema Registry (Apicurio {} on Java {}) total {:.2}s (Java and \
             distribution {:.2}s, JVM to ready {:.2}s), RSS {} MiB",
            registry.version(),
            registry.java().1,
            t.total.as_secs_f64(),
            t.distribution.as_secs_f64(),
            t.until_ready.as_secs_f64(),
            registry.rss_bytes().unwrap_or(0) / (1024 * 1024),
        );
    }
    Ok(())
}
