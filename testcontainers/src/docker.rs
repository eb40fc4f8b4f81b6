//! The `docker` feature: one broker from the official `apache/kafka` image, started through
//! the `testcontainers` crate, for machines that have a Docker engine and no Java.
//!
//! **Status: compiled by CI, never run there.** The project's machines have no Docker
//! engine, so this path has not been exercised against a real container.
//!
//! The host port is chosen first and mapped to the same port number inside the container,
//! so the advertised listener `127.0.0.1:<port>` is right before the broker starts (no
//! rewrite after start). The image turns `KAFKA_FOO_BAR` variables into `foo.bar`
//! properties (`_` in a property name is written `__`, `-` is written `___`). Node control
//! is not available; Metadata, topics and the Kafka tools (from the Maven cache, so they need
//! Java) work as for any other cluster.
//!
//! # References
//! - apache/kafka image documentation: `docker/examples/README.md` in apache/kafka
//! - testcontainers-rs: <https://docs.rs/testcontainers>

use std::sync::atomic::AtomicBool;

use testcontainers::core::{IntoContainerPort, WaitFor};
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, GenericImage, ImageExt};

use crate::builder::KafkaClusterBuilder;
use crate::cluster::{ClusterKind, KafkaCluster, StartupTimings, ToolSource};
use crate::error::{HarnessError, Result};
use crate::rundir::RunDir;
use crate::version::KafkaVersion;

/// The image started by [`KafkaClusterBuilder::start_docker`]; the tag is the Kafka version.
pub const DOCKER_IMAGE: &str = "apache/kafka";

/// The running container of a Docker-backed cluster; removed when dropped.
pub struct DockerBroker {
    container: ContainerAsync<GenericImage>,
}

impl std::fmt::Debug for DockerBroker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerBroker")
            .field("id", &self.container.id())
            .finish()
    }
}

impl DockerBroker {
    /// The container id.
    pub fn id(&self) -> &str {
        self.container.id()
    }
}

/// `foo.bar_baz-x` → `KAFKA_FOO_BAR__BAZ___X`, the image's naming rule.
fn env_name(property: &str) -> String {
    let mut name = String::from("KAFKA_");
    for c in property.chars() {
        match c {
            '.' => name.push('_'),
            '_' => name.push_str("__"),
            '-' => name.push_str("___"),
            other => name.push(other.to_ascii_uppercase()),
        }
    }
    name
}

impl KafkaClusterBuilder {
    /// Starts one broker in a Docker container from `apache/kafka:<version>` and waits
    /// until it answers Metadata. Needs a running Docker engine; only one node.
    pub async fn start_docker(self) -> Result<KafkaCluster> {
        if self.nodes != 1 {
            return Err(HarnessError::InvalidArgument(
                "the Docker backend starts exactly one node".to_owned(),
            ));
        }
        if self.security.is_some() {
            return Err(HarnessError::InvalidArgument(
                "the Docker backend starts no secured listeners; use start()".to_owned(),
            ));
        }
        let version = match &self.version {
            Some(v) => v.clone(),
            None => KafkaVersion::from_env()?,
        };
        let port = crate::ports::free_ports(1)?[0];
        let rf = self.effective_replication_factor();
        let mut settings: Vec<(String, String)> = vec![
            ("node.id".into(), "1".into()),
            ("process.roles".into(), "broker,controller".into()),
            (
                "listeners".into(),
                format!("PLAINTEXT://0.0.0.0:{port},CONTROLLER://0.0.0.0:9093"),
            ),
            (
                "advertised.listeners".into(),
                format!("PLAINTEXT://127.0.0.1:{port}"),
            ),
            ("controller.listener.names".into(), "CONTROLLER".into()),
            (
                "listener.security.protocol.map".into(),
                "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT".into(),
            ),
            ("inter.broker.listener.name".into(), "PLAINTEXT".into()),
            ("controller.quorum.voters".into(), "1@localhost:9093".into()),
            ("offsets.topic.replication.factor".into(), "1".into()),
            ("offsets.topic.num.partitions".into(), "1".into()),
            (
                "transaction.state.log.replication.factor".into(),
                "1".into(),
            ),
            ("transaction.state.log.min.isr".into(), "1".into()),
            ("group.initial.rebalance.delay.ms".into(), "0".into()),
            (
                "auto.create.topics.enable".into(),
                self.auto_create_topics.to_string(),
            ),
            ("num.partitions".into(), self.default_partitions.to_string()),
            ("default.replication.factor".into(), rf.to_string()),
            (
                "min.insync.replicas".into(),
                self.min_insync_replicas.to_string(),
            ),
        ];
        settings.extend(self.broker_properties.iter().cloned());
        let mut request = GenericImage::new(DOCKER_IMAGE.to_owned(), version.to_string())
            .with_exposed_port(port.tcp())
            .with_wait_for(WaitFor::message_on_stdout("Kafka Server started"))
            .with_mapped_port(port, port.tcp())
            .with_startup_timeout(self.startup_timeout);
        for (key, value) in &settings {
            request = request.with_env_var(env_name(key), value.clone());
        }
        let container = request.start().await.map_err(|e| HarnessError::NoBroker {
            reason: format!("cannot start {DOCKER_IMAGE}:{version} with Docker: {e}"),
        })?;
        let bootstrap = format!("127.0.0.1:{port}");
        let cluster = KafkaCluster {
            kind: ClusterKind::Docker,
            bootstrap: bootstrap.clone(),
            nodes: Vec::new(),
            run: RunDir::create()?,
            launch: None,
            tools: tokio::sync::OnceCell::new(),
            tool_source: ToolSource {
                version: Some(version),
                cache_dir: self.effective_cache_dir(),
                java: self.java.clone(),
                maven: self.maven.clone(),
                class_data_sharing: self.class_data_sharing,
            },
            distribution: None,
            failed: AtomicBool::new(false),
            timings: StartupTimings::default(),
            startup_timeout: self.startup_timeout,
            security: None,
            container: Some(DockerBroker { container }),
        };
        cluster.wait_for_brokers(&[1], self.startup_timeout).await?;
        Ok(cluster)
    }
}

impl KafkaCluster {
    /// The container of a Docker-backed cluster.
    pub fn docker_container(&self) -> Option<&DockerBroker> {
        self.container.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn property_names_map_to_the_image_variables() {
        assert_eq!(env_name("node.id"), "KAFKA_NODE_ID");
        assert_eq!(
            env_name("log.retention_ms-x"),
            "KAFKA_LOG_RETENTION__MS___X"
        );
    }
}
