//! The race: kiel against rdkafka (`FutureProducer`, `BaseProducer`) and Kafka's Java
//! ProducerPerformance, each as its own process against the same brokers with the same
//! settings. This library holds the parts the `race` orchestrator and the `rdkafka-perf`
//! client share, and the pure parts that have unit tests.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/ProducerPerformance.java`
//!   (summary line, latency sampling, payloads)

pub mod cargo_build;
pub mod chart;
pub mod clients;
pub mod keys;
pub mod latency;
pub mod machine;
pub mod measure;
pub mod payload;
pub mod report;
pub mod security;
pub mod settings;
pub mod stats;
pub mod summary;
pub mod table;
pub mod tally;
pub mod throttle;
pub mod workload;
