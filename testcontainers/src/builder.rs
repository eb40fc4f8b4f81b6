//! [`KafkaClusterBuilder`]: how many nodes, which release, topic defaults, broker
//! properties, JVM settings; `start()` downloads (once), formats and starts the nodes and
//! waits until every broker is listed in Metadata.
//!
//! # References
//! - `shared/design/kafka-harness/NOTES.md` sections 2-4 (launch, settings, readiness)

use std::path::PathBuf;
use std::time::Duration;

use crate::cache;
use crate::cluster::KafkaCluster;
use crate::error::{HarnessError, Result};
use crate::java::HeapSize;
use crate::security::{SaslUser, SecuritySettings};
use crate::version::KafkaVersion;

/// The environment variable with extra JVM options for every broker, split on whitespace
/// and appended after the harness's own (e.g. `KIEL_KAFKA_JVM_OPTS=-XX:+UseG1GC`).
pub const JVM_OPTS_ENV: &str = "KIEL_KAFKA_JVM_OPTS";

/// The default time a start or restart may take before it fails. Generous, because three
/// JVMs starting on two busy cores can take half a minute.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(180);

/// The JVM options brokers get unless [`KafkaClusterBuilder::jvm_options`] replaces them.
///
/// - `-XX:TieredStopAtLevel=1`: compile with C1 only. Brokers start faster and use less
///   CPU during the first seconds; peak throughput is lower, so a benchmark that measures
///   the broker should replace this list (see the README).
/// - `-XX:+UseSerialGC`: one GC thread and a small footprint; test brokers have small heaps.
/// - `-XX:-UsePerfData`: no `/tmp/hsperfdata_*` file per JVM.
/// - `-XX:+ExitOnOutOfMemoryError`: fail loudly instead of limping.
pub fn default_broker_jvm_options() -> Vec<String> {
    [
        "-XX:TieredStopAtLevel=1",
        "-XX:+UseSerialGC",
        "-XX:-UsePerfData",
        "-XX:+ExitOnOutOfMemoryError",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect()
}

/// Settings for a cluster of combined broker+controller KRaft nodes on 127.0.0.1.
#[derive(Debug, Clone)]
pub struct KafkaClusterBuilder {
    pub(crate) nodes: usize,
    pub(crate) version: Option<KafkaVersion>,
    pub(crate) auto_create_topics: bool,
    pub(crate) default_partitions: u32,
    pub(crate) replication_factor: Option<u32>,
    pub(crate) min_insync_replicas: u32,
    pub(crate) broker_properties: Vec<(String, String)>,
    pub(crate) heap: HeapSize,
    pub(crate) jvm_options: Option<Vec<String>>,
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) java: Option<PathBuf>,
    pub(crate) maven: Option<PathBuf>,
    pub(crate) class_data_sharing: bool,
    pub(crate) startup_timeout: Duration,
    pub(crate) security: Option<SecuritySettings>,
}

impl Default for KafkaClusterBuilder {
    fn default() -> Self {
        Self {
            nodes: 1,
            version: None,
            auto_create_topics: true,
            default_partitions: 1,
            replication_factor: None,
            min_insync_replicas: 1,
            broker_properties: Vec::new(),
            heap: HeapSize {
                initial_mb: 64,
                max_mb: 512,
            },
            jvm_options: None,
            cache_dir: None,
            java: None,
            maven: None,
            class_data_sharing: true,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            security: None,
        }
    }
}

impl KafkaClusterBuilder {
    /// Number of nodes, each a broker and a controller (default 1).
    pub fn nodes(mut self, nodes: usize) -> Self {
        self.nodes = nodes;
        self
    }

    /// The Kafka release (default: `KIEL_KAFKA_VERSION`, else
    /// [`DEFAULT_VERSION`](crate::DEFAULT_VERSION)).
    pub fn version(mut self, version: KafkaVersion) -> Self {
        self.version = Some(version);
        self
    }

    /// `auto.create.topics.enable` (default true).
    pub fn auto_create_topics(mut self, enabled: bool) -> Self {
        self.auto_create_topics = enabled;
        self
    }

    /// `num.partitions`, the partition count of auto-created topics (default 1).
    pub fn default_partitions(mut self, partitions: u32) -> Self {
        self.default_partitions = partitions;
        self
    }

    /// `default.replication.factor` (default: the number of nodes, at most 3).
    pub fn replication_factor(mut self, factor: u32) -> Self {
        self.replication_factor = Some(factor);
        self
    }

    /// `min.insync.replicas` (default 1).
    pub fn min_insync_replicas(mut self, replicas: u32) -> Self {
        self.min_insync_replicas = replicas;
        self
    }

    /// Any broker property, applied after (and replacing) the harness's own settings.
    pub fn broker_property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.broker_properties.push((key.into(), value.into()));
        self
    }

    /// Broker heap: `-Xms` and `-Xmx` in MiB (default 64 and 512).
    pub fn heap_mb(mut self, initial: u32, max: u32) -> Self {
        self.heap = HeapSize {
            initial_mb: initial,
            max_mb: max,
        };
        self
    }

    /// Replaces [`default_broker_jvm_options`] (heap and logging flags are always set).
    pub fn jvm_options<I, S>(mut self, options: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.jvm_options = Some(options.into_iter().map(Into::into).collect());
        self
    }

    /// The download cache (default: `KIEL_KAFKA_CACHE`, else `~/.cache/kiel/kafka`).
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// The `java` launcher (default: `$JAVA_HOME/bin/java`, else `java` on `PATH`).
    pub fn java(mut self, program: impl Into<PathBuf>) -> Self {
        self.java = Some(program.into());
        self
    }

    /// The `mvn` program used for the first download (default: `KIEL_MVN`, else `mvn` on
    /// `PATH`).
    pub fn maven(mut self, program: impl Into<PathBuf>) -> Self {
        self.maven = Some(program.into());
        self
    }

    /// Whether broker and tool JVMs map a class-data-sharing archive of the broker's
    /// classes (default true; made once per release and Java runtime, which costs one extra
    /// broker start the first time). About 40% faster starts.
    pub fn class_data_sharing(mut self, enabled: bool) -> Self {
        self.class_data_sharing = enabled;
        self
    }

    /// How long starting (and each restart) may take (default
    /// [`DEFAULT_STARTUP_TIMEOUT`]).
    pub fn startup_timeout(mut self, timeout: Duration) -> Self {
        self.startup_timeout = timeout;
        self
    }

    /// Adds the secured listeners to every node: `SSL`, `MTLS`, `SASL_PLAINTEXT`,
    /// `SASL_SSL` and `SSL_WRONG_HOST` (see [`crate::Listener`]), each on its own free
    /// port, beside the `PLAINTEXT` listener the harness uses itself. Certificates are
    /// made at start-up; SASL users (by default `alice` with a random password) can log in
    /// with PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, and OAUTHBEARER takes unsecured tokens.
    /// The cluster then exposes all of it: [`KafkaCluster::security`],
    /// [`KafkaCluster::bootstrap_for`], [`KafkaCluster::client_config`].
    ///
    /// Starting takes one more JVM run (StorageTool, for the SCRAM credentials), about
    /// a second or two.
    pub fn secured(mut self) -> Self {
        self.security.get_or_insert_with(|| SecuritySettings {
            users: Vec::new(),
            reauthentication: None,
        });
        self
    }

    /// Adds a SASL user (and turns on [`Self::secured`]). When any user is added, the
    /// default `alice` is not created.
    pub fn sasl_user(self, user: SaslUser) -> Self {
        let mut this = self.secured();
        if let Some(settings) = this.security.as_mut() {
            settings.users.push(user);
        }
        this
    }

    /// Sets `connections.max.reauth.ms` on the `SASL_PLAINTEXT` and `SASL_SSL`
    /// listeners (and turns on [`Self::secured`]): the broker tells SASL clients (KIP-368)
    /// to re-authenticate within `every` and closes connections that do not. Set per
    /// listener (`listener.name.<name>.connections.max.reauth.ms`), so the harness's own
    /// PLAINTEXT connections are not affected. Whole milliseconds, at least 1.
    pub fn sasl_reauthentication(self, every: Duration) -> Self {
        let mut this = self.secured();
        if let Some(settings) = this.security.as_mut() {
            settings.reauthentication = Some(every);
        }
        this
    }

    /// Downloads the release if needed, starts the nodes, and waits until a Metadata
    /// request to every node lists all of them.
    pub async fn start(self) -> Result<KafkaCluster> {
        self.validate()?;
        KafkaCluster::start_local(self).await
    }

    pub(crate) fn effective_replication_factor(&self) -> u32 {
        let nodes = u32::try_from(self.nodes).unwrap_or(u32::MAX);
        self.replication_factor.unwrap_or(nodes.min(3))
    }

    pub(crate) fn effective_cache_dir(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(cache::default_cache_dir)
    }

    pub(crate) fn effective_jvm_options(&self) -> Vec<String> {
        let mut options = self
            .jvm_options
            .clone()
            .unwrap_or_else(default_broker_jvm_options);
        if let Ok(extra) = std::env::var(JVM_OPTS_ENV) {
            options.extend(extra.split_whitespace().map(str::to_owned));
        }
        options
    }

    fn validate(&self) -> Result<()> {
        let invalid = |m: String| Err(HarnessError::InvalidArgument(m));
        if !(1..=9).contains(&self.nodes) {
            return invalid(format!("nodes must be 1..=9, not {}", self.nodes));
        }
        let nodes = self.nodes as u32;
        let rf = self.effective_replication_factor();
        if rf == 0 || rf > nodes {
            return invalid(format!("replication factor {rf} with {nodes} node(s)"));
        }
        if self.min_insync_replicas == 0 || self.min_insync_replicas > nodes {
            return invalid(format!(
                "min.insync.replicas {} with {nodes} node(s)",
                self.min_insync_replicas
            ));
        }
        if self.default_partitions == 0 {
            return invalid("default partitions must be at least 1".to_owned());
        }
        if self.heap.initial_mb == 0 || self.heap.initial_mb > self.heap.max_mb {
            return invalid(format!(
                "heap -Xms{}m -Xmx{}m",
                self.heap.initial_mb, self.heap.max_mb
            ));
        }
        if self
            .broker_properties
            .iter()
            .any(|(k, v)| k.trim().is_empty() || k.contains('\n') || v.contains('\n'))
        {
            return invalid("broker property keys must be non-empty; no line breaks".to_owned());
        }
        if let Some(settings) = &self.security {
            let mut names: Vec<&str> = settings.users.iter().map(SaslUser::name).collect();
            names.sort_unstable();
            if names.windows(2).any(|w| w[0] == w[1]) {
                return invalid("each SASL user name may be added once".to_owned());
            }
            if settings.reauthentication.is_some_and(|d| d.is_zero()) {
                return invalid("SASL re-authentication needs a positive interval".to_owned());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_impossible_clusters() {
        let b = KafkaClusterBuilder::default;
        assert!(b().validate().is_ok());
        assert_eq!(b().nodes(3).effective_replication_factor(), 3);
        assert_eq!(b().nodes(5).effective_replication_factor(), 3);
        assert_eq!(b().effective_replication_factor(), 1);
        assert!(b().nodes(0).validate().is_err());
        assert!(b().nodes(10).validate().is_err());
        assert!(b().replication_factor(2).validate().is_err());
        assert!(b().nodes(3).min_insync_replicas(4).validate().is_err());
        assert!(b().default_partitions(0).validate().is_err());
        assert!(b().heap_mb(512, 256).validate().is_err());
        assert!(b().broker_property("", "x").validate().is_err());
        assert!(b()
            .nodes(3)
            .replication_factor(3)
            .min_insync_replicas(2)
            .validate()
            .is_ok());
    }

    #[test]
    fn security_settings() {
        let b = KafkaClusterBuilder::default;
        let alice = || SaslUser::new("alice", "pw").unwrap();
        assert!(b().security.is_none());
        assert_eq!(b().secured().security.unwrap().users.len(), 0);
        let s = b().sasl_user(alice()).secured().security.unwrap();
        assert_eq!(s.users.len(), 1, "secured() keeps users");
        assert!(b()
            .sasl_user(alice())
            .sasl_user(alice())
            .validate()
            .is_err());
        assert!(b()
            .sasl_reauthentication(Duration::ZERO)
            .validate()
            .is_err());
        let s = b()
            .sasl_reauthentication(Duration::from_secs(10))
            .security
            .unwrap();
        assert_eq!(s.reauthentication, Some(Duration::from_secs(10)));
        let debug = format!("{:?}", b().sasl_user(alice()));
        assert!(!debug.contains("\"pw\""), "{debug}");
    }
}
