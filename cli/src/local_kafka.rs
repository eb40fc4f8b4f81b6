//! The local Apache Kafka that `kiel perf` starts when no `--brokers` is given: one KRaft
//! node from kiel-testcontainers (Java 17+ and Maven; Kafka's jars are downloaded into a
//! cache on first use), the topic created with the asked partition count, the broker
//! stopped and its files removed when the run ends.
//!
//! # References
//! - kiel-testcontainers `KafkaCluster` (start, `create_topic`, drop stops the node)

use std::time::Instant;

use kiel_testcontainers::{default_cache_dir, KafkaCluster};

use crate::error::CliError;
use crate::interrupt::Interrupt;

/// A running local broker.
pub(crate) struct LocalKafka {
    cluster: KafkaCluster,
}

impl LocalKafka {
    /// Starts the broker and creates `topic` with `partitions` partitions, telling on stderr
    /// what happens.
    pub(crate) async fn start(
        topic: &str,
        partitions: u32,
        interrupt: &Interrupt,
    ) -> Result<Self, CliError> {
        eprintln!(
            "kiel perf: no --brokers given; starting a local Apache Kafka with kiel-testcontainers \
             (needs Java 17+ and Maven; Kafka is cached in {})",
            default_cache_dir().display()
        );
        let began = Instant::now();
        let builder = KafkaCluster::builder().default_partitions(partitions);
        let cluster = tokio::select! {
            started = builder.start() => started.map_err(|e| {
                CliError::failed(format!("could not start a local Kafka: {e}"))
            })?,
            () = interrupt.wait() => {
                return Err(CliError::interrupted("interrupted while starting the local Kafka"));
            }
        };
        let version = cluster
            .version()
            .map_or_else(String::new, |v| format!(" {v}"));
        eprintln!(
            "kiel perf: Apache Kafka{version} is running at {} (started in {:.1} s; files in {})",
            cluster.bootstrap(),
            began.elapsed().as_secs_f64(),
            cluster.work_dir().display()
        );
        eprintln!("kiel perf: creating topic `{topic}` with {partitions} partitions");
        let created = tokio::select! {
            created = cluster.create_topic(topic, partitions, 1, &[]) => created,
            () = interrupt.wait() => {
                return Err(CliError::interrupted("interrupted while creating the topic"));
            }
        };
        created.map_err(|e| CliError::failed(format!("could not create topic `{topic}`: {e}")))?;
        Ok(Self { cluster })
    }

    /// The broker's address.
    pub(crate) fn bootstrap(&self) -> String {
        self.cluster.bootstrap()
    }

    /// Stops the broker and removes its files.
    pub(crate) fn stop(self) {
        eprintln!("kiel perf: stopping the local Kafka");
        drop(self.cluster);
    }
}
