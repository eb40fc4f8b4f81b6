//! Using a cluster that is already running: `KAFKA_BOOTSTRAP=host:port[,host:port]`.
//! Topics, Metadata and the Kafka tools work against it (the tools' jars are downloaded
//! on first use); node control fails with [`HarnessError::NodeControlUnsupported`].
//!
//! # References
//! - The harness README, "Using an existing cluster"

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::builder::KafkaClusterBuilder;
use crate::cluster::{ClusterKind, KafkaCluster, StartupTimings, ToolSource};
use crate::error::{HarnessError, Result};
use crate::rundir::RunDir;
use crate::wire;

/// The environment variable naming an existing cluster to use instead of starting one.
pub const BOOTSTRAP_ENV: &str = "KAFKA_BOOTSTRAP";

/// How long the first Metadata request to an existing cluster may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

impl KafkaCluster {
    /// Uses the cluster at `bootstrap` (`host:port`, comma-separated for several), after
    /// checking that it answers a Metadata request.
    pub async fn connect(bootstrap: &str) -> Result<Self> {
        Self::connect_with(bootstrap, &KafkaClusterBuilder::default()).await
    }

    async fn connect_with(bootstrap: &str, builder: &KafkaClusterBuilder) -> Result<Self> {
        let addresses: Vec<&str> = bootstrap
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        if addresses.is_empty() || addresses.iter().any(|a| !a.contains(':')) {
            return Err(HarnessError::InvalidArgument(format!(
                "{BOOTSTRAP_ENV}={bootstrap:?} is not a list of host:port"
            )));
        }
        let mut last = None;
        for address in &addresses {
            match wire::fetch_metadata(address, &[], CONNECT_TIMEOUT).await {
                Ok(_) => {
                    last = None;
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        if let Some(e) = last {
            return Err(HarnessError::NoBroker {
                reason: format!("{BOOTSTRAP_ENV}={bootstrap} does not answer: {e}"),
            });
        }
        Ok(Self {
            kind: ClusterKind::External,
            bootstrap: addresses.join(","),
            nodes: Vec::new(),
            run: RunDir::create()?,
            launch: None,
            tools: tokio::sync::OnceCell::new(),
            tool_source: ToolSource {
                version: builder.version.clone(),
                cache_dir: builder.effective_cache_dir(),
                java: builder.java.clone(),
                maven: builder.maven.clone(),
                class_data_sharing: builder.class_data_sharing,
            },
            distribution: None,
            failed: AtomicBool::new(false),
            timings: StartupTimings::default(),
            startup_timeout: builder.startup_timeout,
            security: None,
            #[cfg(feature = "docker")]
            container: None,
        })
    }

    /// Uses the cluster named by `KAFKA_BOOTSTRAP` if that is set (the builder's topic and
    /// node settings then do not apply), else starts one from `builder`.
    pub async fn from_env_or_start(builder: KafkaClusterBuilder) -> Result<Self> {
        match bootstrap_from_env() {
            Some(bootstrap) => Self::connect_with(&bootstrap, &builder).await,
            None => builder.start().await,
        }
    }
}

/// `KAFKA_BOOTSTRAP`, if set and not blank.
pub fn bootstrap_from_env() -> Option<String> {
    std::env::var(BOOTSTRAP_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
}
