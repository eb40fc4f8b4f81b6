//! `kiel-testcontainers`: real Apache Kafka brokers for tests, started by `cargo test`.
//!
//! The harness downloads a runnable Apache Kafka from Maven Central with `mvn` into a cache
//! folder (once; later runs reuse it), starts 1 or N combined broker+controller KRaft
//! nodes on 127.0.0.1 with free ports and temporary data folders, and waits until a
//! Metadata request to every node lists all N brokers. Tests can then kill (SIGKILL), pause
//! (SIGSTOP), resume (SIGCONT), stop (SIGTERM) and restart nodes (also several at once, or
//! on a new port with [`KafkaCluster::restart_on_new_port`]), create topics and find
//! partition leaders, run Kafka's own `ProducerPerformance`, and read back what was written
//! with Kafka's own console consumer, an independent reader.
//!
//! [`KafkaClusterBuilder::secured`] adds SSL, mTLS, SASL_PLAINTEXT and SASL_SSL listeners
//! (PLAIN, SCRAM-SHA-256/512, unsecured OAUTHBEARER) with certificates made at start-up;
//! the cluster then exposes the CA, the client certificate and key, the SASL users and
//! complete client settings ([`KafkaCluster::security`], [`KafkaCluster::client_config`]),
//! and the reader works through those listeners too ([`KafkaCluster::consume_through`]).
//!
//! [`SchemaRegistry`] starts a real Confluent-compatible Schema Registry the same way (Apicurio
//! Registry 3.3.3 from Maven Central, the Confluent API under `/apis/ccompat/v7`, in-memory
//! storage, Java 21+), and counts the requests it answered from its own access log;
//! [`shared_registry`] shares one per test binary.
//!
//! Needs Java 17+ and Maven (for the first download). `KAFKA_BOOTSTRAP=host:port` uses an
//! existing cluster instead; `KIEL_KAFKA_VERSION` picks the release (default
//! [`DEFAULT_VERSION`]; 3.9.x also works). Broker JVMs never outlive the test process:
//! `Drop` kills them, and on Linux the kernel kills them when the test process dies
//! (`PR_SET_PDEATHSIG`), even by SIGKILL.
//!
//! ```no_run
//! # async fn demo() -> Result<(), kiel_testcontainers::HarnessError> {
//! use std::time::Duration;
//! use kiel_testcontainers::KafkaCluster;
//!
//! let cluster = KafkaCluster::builder()
//!     .nodes(3)
//!     .auto_create_topics(false)
//!     .min_insync_replicas(2)
//!     .start()
//!     .await?;
//! cluster.create_topic("orders", 3, 3, &[]).await?;
//! let leader = cluster.leader_of("orders", 0).await?;
//! cluster.kill(leader)?;
//! let new_leader = cluster.wait_for_leader("orders", 0, Duration::from_secs(30)).await?;
//! assert_ne!(new_leader, leader);
//! cluster.restart(leader).await?;
//! let perf = cluster.run_producer_perf("orders", 1000, 100, &[("acks", "all")]).await?;
//! let records = cluster.consume_all("orders", 1000, Duration::from_secs(30)).await?;
//! assert_eq!(records.len() as u64, perf.records);
//! # Ok(()) }
//! ```
//!
//! The unsafe code of this crate is confined to [`libc`] calls: signals, `prctl`,
//! `flock` and `atexit`. The producer crates stay free of unsafe code.
//!
//! # References
//! - `shared/design/kafka-harness/NOTES.md` (artifacts, logging binding, storage format,
//!   KRaft configuration, readiness)
//! - Kafka KRaft operations: <https://kafka.apache.org/documentation/#kraft>
//! - Kafka security: <https://kafka.apache.org/documentation/#security>

mod builder;
mod cache;
mod cds;
mod cluster;
mod console_format;
#[cfg(feature = "docker")]
mod docker;
mod error;
mod external;
mod java;
mod lock;
mod logs;
mod node;
mod node_config;
mod order;
mod perf;
mod ports;
mod proxy;
mod reader;
mod registry;
mod resources;
mod rundir;
mod security;
mod shared;
mod spawner;
mod storage;
mod tools;
mod topics;
mod version;
mod wire;

pub use builder::{
    default_broker_jvm_options, KafkaClusterBuilder, DEFAULT_STARTUP_TIMEOUT, JVM_OPTS_ENV,
};
pub use cache::{default_cache_dir, KafkaDistribution, CACHE_ENV, MAVEN_ENV};
pub use cluster::{ClusterKind, KafkaCluster, StartupTimings};
pub use console_format::{ConsumedRecord, TimestampType};
#[cfg(feature = "docker")]
pub use docker::{DockerBroker, DOCKER_IMAGE};
pub use error::{HarnessError, Result, HOW_TO_PROVIDE_A_BROKER, HOW_TO_PROVIDE_A_REGISTRY};
pub use external::{bootstrap_from_env, BOOTSTRAP_ENV};
pub use java::{HeapSize, REGISTRY_JAVA_ENV, REGISTRY_MIN_JAVA};
pub use order::OutcomeOrder;
pub use perf::PerfResult;
pub use proxy::{FaultProxies, FaultProxy, ProxyStats};
pub use reader::ReadOptions;
pub use registry::{
    default_registry_jvm_options, RegistryRequest, RegistryStartupTimings, SchemaRegistry,
    SchemaRegistryBuilder, APICURIO_VERSION, CCOMPAT_PATH,
};
pub use rundir::{tmp_root, TMP_ENV};
pub use security::{
    unsecured_jwt, ClientAuth, ClientCertificate, ClientConfig, ClusterSecurity, Listener,
    SaslMechanism, SaslUser, DEFAULT_SASL_USER,
};
pub use shared::{shared_cluster, shared_registry, shared_secured_cluster};
pub use spawner::process_is_alive;
pub use tools::ToolOutput;
pub use topics::{PartitionInfo, TOPIC_TIMEOUT};
pub use version::{KafkaVersion, LoggingBackend, DEFAULT_VERSION, KNOWN_3_9_VERSION, VERSION_ENV};
pub use wire::fetch_metadata;
