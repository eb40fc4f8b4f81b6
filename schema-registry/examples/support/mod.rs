//! What the examples share: the cluster and registry they run against, from the
//! environment (a managed cluster and registry) or started locally with kiel-testcontainers.

// Each example uses a part of it.
#![allow(dead_code)]

use kiel_testcontainers::{KafkaCluster, SchemaRegistry};

/// The Kafka cluster and registry an example uses; local ones stop when this is dropped.
pub(crate) struct Services {
    /// `bootstrap.servers`.
    pub(crate) bootstrap: String,
    /// `schema.registry.url`.
    pub(crate) registry_url: String,
    /// The local cluster, when `KAFKA_BOOTSTRAP` is not set.
    pub(crate) local_kafka: Option<KafkaCluster>,
    /// The local registry, when `SCHEMA_REGISTRY_URL` is not set.
    pub(crate) local_registry: Option<SchemaRegistry>,
}

impl Services {
    /// `KAFKA_BOOTSTRAP` and `SCHEMA_REGISTRY_URL`, or local ones started for the example.
    pub(crate) async fn from_env_or_start() -> Result<Self, Box<dyn std::error::Error>> {
        let (bootstrap, local_kafka) = match std::env::var("KAFKA_BOOTSTRAP") {
            Ok(bootstrap) => (bootstrap, None),
            Err(_) => {
                let cluster = KafkaCluster::builder().start().await?;
                (cluster.bootstrap(), Some(cluster))
            }
        };
        let (registry_url, local_registry) = match std::env::var("SCHEMA_REGISTRY_URL") {
            Ok(url) => (url, None),
            Err(_) => {
                let registry = SchemaRegistry::start().await?;
                (registry.url(), Some(registry))
            }
        };
        Ok(Self {
            bootstrap,
            registry_url,
            local_kafka,
            local_registry,
        })
    }

    /// The registry settings: the URL, and `basic.auth.user.info` from
    /// `SCHEMA_REGISTRY_API_KEY` / `SCHEMA_REGISTRY_API_SECRET` when they are set.
    pub(crate) fn registry_settings(&self) -> Vec<(&'static str, String)> {
        let mut settings = vec![("schema.registry.url", self.registry_url.clone())];
        if let (Ok(key), Ok(secret)) = (
            std::env::var("SCHEMA_REGISTRY_API_KEY"),
            std::env::var("SCHEMA_REGISTRY_API_SECRET"),
        ) {
            settings.push(("basic.auth.user.info", format!("{key}:{secret}")));
        }
        settings
    }

    /// SASL_SSL with PLAIN (Confluent Cloud's API key) when `KAFKA_API_KEY` and
    /// `KAFKA_API_SECRET` are set; nothing otherwise.
    pub(crate) fn security_settings(&self) -> Vec<(&'static str, String)> {
        match (
            std::env::var("KAFKA_API_KEY"),
            std::env::var("KAFKA_API_SECRET"),
        ) {
            (Ok(key), Ok(secret)) => vec![
                ("security.protocol", "SASL_SSL".to_owned()),
                ("sasl.mechanisms", "PLAIN".to_owned()),
                ("sasl.username", key),
                ("sasl.password", secret),
            ],
            _ => Vec::new(),
        }
    }
}
