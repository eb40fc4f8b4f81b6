//! [`KafkaCluster`]: a running cluster (started here, or an existing one named by
//! `KAFKA_BOOTSTRAP`), its addresses, and control of its nodes.
//!
//! Every node of a local cluster is a combined broker+controller KRaft JVM on 127.0.0.1
//! with free ports and its own folder. Dropping the cluster kills the JVMs (SIGKILL) and
//! removes the folder, except when the test is failing (a panic is unwinding, or a harness
//! call returned an error): then the folder is kept and the broker logs' paths are printed.
//!
//! # References
//! - `shared/design/kafka-harness/NOTES.md` section 4 (start all nodes at once, readiness)

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kiel_protocol::messages::metadata::MetadataResponse;

use crate::builder::KafkaClusterBuilder;
use crate::cache::KafkaDistribution;
use crate::error::{HarnessError, Result};
use crate::java::JavaRuntime;
use crate::node::{LaunchSpec, Node, PAUSE_TIMEOUT, STOP_GRACE};
use crate::node_config::{self, NodePorts, TopicDefaults};
use crate::rundir::RunDir;
use crate::security::{ClusterSecurity, Listener, SecuredPorts};
use crate::tools::ToolRunner;
use crate::version::KafkaVersion;
use crate::{ports, resources, storage, wire};

/// How long one Metadata exchange may take before the harness tries elsewhere.
pub(crate) const METADATA_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(3);

/// How many times a start is tried with fresh ports when one was taken meanwhile.
const PORT_ATTEMPTS: u32 = 3;

/// How often readiness and partition state are polled.
pub(crate) const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Which nodes a wait for Metadata asks, and which brokers they must list.
#[derive(Debug, Clone, Copy)]
enum Listing<'a> {
    /// Each node in `via` lists exactly the brokers `expected`.
    Exactly { expected: &'a [i32], via: &'a [i32] },
    /// Node `node` serves, and every serving node lists exactly the serving nodes. Which
    /// nodes serve is asked again in every round, so that nodes stopped or started
    /// meanwhile (by a concurrent restart, say) are waited for as they are now.
    ServingWith { node: i32 },
}

/// Which kind of cluster this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusterKind {
    /// JVMs started by this harness from the Maven Central jars; nodes can be controlled.
    Local,
    /// A cluster that was already running (`KAFKA_BOOTSTRAP`); nodes cannot be controlled.
    External,
    /// One broker in a Docker container (the `docker` feature); nodes cannot be controlled.
    Docker,
}

/// How long the phases of [`KafkaClusterBuilder::start`] took.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StartupTimings {
    /// Finding Java and making sure the release is in the cache (includes the Maven
    /// download when it was not).
    pub distribution: Duration,
    /// Writing configurations and formatting the data folders.
    pub prepare: Duration,
    /// From launching the JVMs until every node listed every broker.
    pub until_ready: Duration,
    /// All of it.
    pub total: Duration,
}

/// Where to get the Kafka tools for a cluster the harness did not start.
#[derive(Debug, Clone)]
pub(crate) struct ToolSource {
    pub(crate) version: Option<KafkaVersion>,
    pub(crate) cache_dir: PathBuf,
    pub(crate) java: Option<PathBuf>,
    pub(crate) maven: Option<PathBuf>,
    pub(crate) class_data_sharing: bool,
}

/// A running Kafka cluster. See the crate documentation for an example.
#[derive(Debug)]
pub struct KafkaCluster {
    pub(crate) kind: ClusterKind,
    pub(crate) bootstrap: String,
    pub(crate) nodes: Vec<Node>,
    pub(crate) run: RunDir,
    pub(crate) launch: Option<LaunchSpec>,
    pub(crate) tools: tokio::sync::OnceCell<ToolRunner>,
    pub(crate) tool_source: ToolSource,
    pub(crate) distribution: Option<KafkaDistribution>,
    pub(crate) failed: AtomicBool,
    pub(crate) timings: StartupTimings,
    pub(crate) startup_timeout: Duration,
    /// Certificates and users of a secured cluster.
    pub(crate) security: Option<ClusterSecurity>,
    #[cfg(feature = "docker")]
    pub(crate) container: Option<crate::docker::DockerBroker>,
}

impl KafkaCluster {
    /// A builder with the defaults: one node, auto topic creation on, one partition.
    pub fn builder() -> KafkaClusterBuilder {
        KafkaClusterBuilder::default()
    }

    pub(crate) async fn start_local(builder: KafkaClusterBuilder) -> Result<Self> {
        let began = Instant::now();
        let version = match &builder.version {
            Some(v) => v.clone(),
            None => KafkaVersion::from_env()?,
        };
        let cache_dir = builder.effective_cache_dir();
        let (distribution, archive) = {
            let (version, cache_dir, java, maven) = (
                version.clone(),
                cache_dir.clone(),
                builder.java.clone(),
                builder.maven.clone(),
            );
            let cds = builder.class_data_sharing;
            tokio::task::spawn_blocking(move || {
                let java = JavaRuntime::locate(java.as_deref(), &version)?;
                let dist =
                    KafkaDistribution::ensure(&version, &cache_dir, &java, maven.as_deref())?;
                let archive = if cds {
                    crate::cds::ensure_archive(&dist)
                } else {
                    None
                };
                Ok::<_, HarnessError>((dist, archive))
            })
            .await
            .map_err(|e| HarnessError::io("preparing Kafka", std::io::Error::other(e)))??
        };
        let after_distribution = Instant::now();

        // A port picked free can be taken by someone else before the broker binds it;
        // then start again with new ports.
        let mut attempt = 1;
        loop {
            let started = Self::start_nodes(
                &builder,
                &version,
                &cache_dir,
                &distribution,
                archive.as_deref(),
            )
            .await;
            match started {
                Err(HarnessError::StartRace(cluster)) if attempt < PORT_ATTEMPTS => {
                    attempt += 1;
                    drop(cluster);
                }
                Err(HarnessError::StartRace(cluster)) => {
                    cluster.failed.store(true, Ordering::SeqCst);
                    return Err(HarnessError::NoBroker {
                        reason: format!(
                            "the brokers' ports were taken {PORT_ATTEMPTS} times in a row; \
                             last attempt: {}",
                            cluster.node_report()
                        ),
                    });
                }
                Err(e) => return Err(e),
                Ok((mut cluster, after_prepare)) => {
                    let done = Instant::now();
                    cluster.timings = StartupTimings {
                        distribution: after_distribution - began,
                        prepare: after_prepare - after_distribution,
                        until_ready: done - after_prepare,
                        total: done - began,
                    };
                    return Ok(cluster);
                }
            }
        }
    }

    /// Writes the cluster's folder and starts its nodes once. A bind failure comes back as
    /// [`HarnessError::StartRace`] so that the caller can try other ports.
    async fn start_nodes(
        builder: &KafkaClusterBuilder,
        version: &KafkaVersion,
        cache_dir: &Path,
        distribution: &KafkaDistribution,
        archive: Option<&Path>,
    ) -> Result<(Self, Instant)> {
        let run = RunDir::create()?;
        let launcher = distribution.launcher().clone();
        let broker_log_config = run.path().join("broker-log.properties");
        let tools_log_config = run.path().join("tools-log.properties");
        write(
            &broker_log_config,
            resources::broker_log_config(launcher.logging),
        )?;
        write(
            &tools_log_config,
            resources::tools_log_config(launcher.logging),
        )?;

        let per_node = if builder.security.is_some() {
            2 + Listener::SECURED.len()
        } else {
            2
        };
        let port_list = ports::free_ports(builder.nodes * per_node)?;
        let voters: Vec<(i32, NodePorts)> = port_list
            .chunks_exact(per_node)
            .zip(1..)
            .map(|(ports, id)| {
                let secured = <[u16; 5]>::try_from(&ports[2..]).ok().map(SecuredPorts);
                (
                    id,
                    NodePorts {
                        broker: ports[0],
                        controller: ports[1],
                        secured,
                    },
                )
            })
            .collect();
        let shared_classes: Vec<String> = archive
            .iter()
            .map(|a| format!("-XX:SharedArchiveFile={}", a.display()))
            .collect();
        let security = match &builder.security {
            Some(settings) => {
                let (dir, settings, launcher, options) = (
                    run.path().join("security"),
                    settings.clone(),
                    launcher.clone(),
                    shared_classes.clone(),
                );
                let prepared = tokio::task::spawn_blocking(move || {
                    ClusterSecurity::prepare(&dir, &settings, &launcher, &options)
                })
                .await
                .map_err(|e| {
                    HarnessError::io("preparing a secured cluster", std::io::Error::other(e))
                })?;
                Some(prepared?)
            }
            None => None,
        };
        let template = security
            .as_ref()
            .map_or_else(|| distribution.storage_template(), |s| s.storage_template());
        let security_properties = security
            .as_ref()
            .map(ClusterSecurity::server_properties)
            .unwrap_or_default();
        let topics = TopicDefaults {
            auto_create_topics: builder.auto_create_topics,
            default_partitions: builder.default_partitions,
            replication_factor: builder.effective_replication_factor(),
            min_insync_replicas: builder.min_insync_replicas,
        };
        let cluster_id = storage::random_kafka_uuid();
        let mut nodes = Vec::with_capacity(voters.len());
        for (id, ports) in &voters {
            let dir = run.path().join(format!("node-{id}"));
            let data = Node::data_dir(&dir);
            storage::format_node(&template, &data, &cluster_id, *id)?;
            let text = node_config::render(
                *id,
                &voters,
                &data,
                &topics,
                version.has_share_coordinator(),
                &security_properties,
                &builder.broker_properties,
            );
            let node = Node::new(*id, *ports, dir);
            write(&node.config_path(), &text)?;
            nodes.push(node);
        }
        let bootstrap = nodes
            .iter()
            .map(Node::address)
            .collect::<Vec<_>>()
            .join(",");
        let mut jvm_options = builder.effective_jvm_options();
        jvm_options.extend(shared_classes.iter().cloned());
        let launch = LaunchSpec {
            launcher: launcher.clone(),
            heap: builder.heap,
            jvm_options,
            log_config: broker_log_config,
        };
        let tools = ToolRunner::new(
            version.clone(),
            launcher,
            tools_log_config,
            run.path().join("tools"),
            shared_classes,
        );
        let cluster = Self {
            kind: ClusterKind::Local,
            bootstrap,
            nodes,
            run,
            launch: Some(launch.clone()),
            tools: tokio::sync::OnceCell::new_with(Some(tools)),
            tool_source: ToolSource {
                version: Some(version.clone()),
                cache_dir: cache_dir.to_path_buf(),
                java: builder.java.clone(),
                maven: builder.maven.clone(),
                class_data_sharing: builder.class_data_sharing,
            },
            distribution: Some(distribution.clone()),
            failed: AtomicBool::new(false),
            timings: StartupTimings::default(),
            startup_timeout: builder.startup_timeout,
            security,
            #[cfg(feature = "docker")]
            container: None,
        };
        let after_prepare = Instant::now();

        // All at once: a broker opens its port only after the controller quorum (a
        // majority of the nodes) has elected a leader.
        for node in &cluster.nodes {
            cluster.note(node.start(&launch))?;
        }
        let all: Vec<i32> = cluster.node_ids();
        let ready = cluster
            .wait_until_listed(&all, &all, builder.startup_timeout)
            .await;
        match ready {
            Ok(()) => Ok((cluster, after_prepare)),
            Err(HarnessError::NodeExited { log, .. })
                if crate::logs::tail_file(&log, 1000).contains("Address already in use") =>
            {
                Err(HarnessError::StartRace(Box::new(cluster)))
            }
            Err(e) => cluster.note(Err(e)),
        }
    }

    /// Records that a harness call failed, so the logs are kept when the cluster is
    /// dropped, and passes the result on.
    ///
    /// Misuse that a test may provoke on purpose (controlling a node that cannot be
    /// controlled, or is in the wrong state) does not count.
    pub(crate) fn note<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            let misuse = matches!(
                e,
                HarnessError::NodeControlUnsupported { .. }
                    | HarnessError::BadNodeState { .. }
                    | HarnessError::UnknownNode { .. }
                    | HarnessError::InvalidArgument(_)
            );
            if !misuse {
                self.failed.store(true, Ordering::SeqCst);
            }
        }
        result
    }

    /// `host:port` of every broker, comma-separated: what a client's `bootstrap.servers`
    /// takes. For a local cluster these are the nodes' addresses now, so after
    /// [`Self::restart_on_new_port`] the moved node's new address.
    pub fn bootstrap(&self) -> String {
        if self.kind == ClusterKind::Local {
            self.nodes
                .iter()
                .map(Node::address)
                .collect::<Vec<_>>()
                .join(",")
        } else {
            self.bootstrap.clone()
        }
    }

    /// Whether the harness started this cluster (and can control its nodes).
    pub fn kind(&self) -> ClusterKind {
        self.kind
    }

    /// The Kafka release, when the harness started the cluster.
    pub fn version(&self) -> Option<&KafkaVersion> {
        self.distribution.as_ref().map(KafkaDistribution::version)
    }

    /// How long starting took (zero for clusters the harness did not start).
    pub fn startup_timings(&self) -> StartupTimings {
        self.timings
    }

    /// The cluster's temporary folder (node folders, tool output).
    pub fn work_dir(&self) -> &Path {
        self.run.path()
    }

    /// The node ids (`node.id`, 1..=N) of a local cluster; for other clusters, the brokers
    /// that Metadata lists are in [`Self::metadata`].
    pub fn node_ids(&self) -> Vec<i32> {
        self.nodes.iter().map(|n| n.id).collect()
    }

    pub(crate) fn node(&self, id: i32, operation: &'static str) -> Result<&Node> {
        if self.kind != ClusterKind::Local {
            return self.note(Err(HarnessError::NodeControlUnsupported {
                operation,
                node: id,
                backend: self.describe_kind(),
            }));
        }
        let found = self.nodes.iter().find(|n| n.id == id);
        self.note(found.ok_or_else(|| HarnessError::UnknownNode {
            node: id,
            known: self.node_ids(),
        }))
    }

    fn describe_kind(&self) -> String {
        match self.kind {
            ClusterKind::Local => "started by kiel-testcontainers".to_owned(),
            ClusterKind::External => {
                format!("existing cluster at {} (KAFKA_BOOTSTRAP)", self.bootstrap)
            }
            ClusterKind::Docker => format!("Docker container at {}", self.bootstrap),
        }
    }

    /// `127.0.0.1:<port>` of one node's broker listener.
    pub fn broker_address(&self, node: i32) -> Result<String> {
        Ok(self.node(node, "address")?.address())
    }

    /// The file with node `node`'s broker output (its log; appended to across restarts).
    pub fn log_path(&self, node: i32) -> Result<PathBuf> {
        Ok(self.node(node, "read the log of")?.log_path())
    }

    /// The JVM process id of a running node.
    pub fn pid(&self, node: i32) -> Result<Option<u32>> {
        Ok(self.node(node, "find the process of")?.pid())
    }

    /// The resident memory of a running node's JVM, in bytes (Linux `VmRSS`).
    pub fn rss_bytes(&self, node: i32) -> Result<Option<u64>> {
        Ok(self.node(node, "measure")?.rss_bytes())
    }

    /// Kills node `node` with SIGKILL: no shutdown, as in a crash. Its data stays.
    pub fn kill(&self, node: i32) -> Result<()> {
        let n = self.node(node, "kill")?;
        self.note(n.kill())
    }

    /// Freezes node `node` with SIGSTOP: connections stay open, nothing answers. Returns
    /// once every thread of the JVM has stopped (on Linux, as `/proc/<pid>/task/*/stat`
    /// shows), so a request sent afterwards gets no answer; fails with
    /// [`HarnessError::Timeout`] if that takes more than 10 s. Blocks the calling thread
    /// meanwhile, normally for a few milliseconds at most.
    pub fn pause(&self, node: i32) -> Result<()> {
        let n = self.node(node, "pause")?;
        self.note(n.pause(PAUSE_TIMEOUT))
    }

    /// Thaws a paused node with SIGCONT.
    pub fn resume(&self, node: i32) -> Result<()> {
        let n = self.node(node, "resume")?;
        self.note(n.resume())
    }

    /// Stops node `node` with SIGTERM (a controlled shutdown: leadership moves away
    /// first), and SIGKILL if it has not exited after 30 s.
    pub async fn stop(&self, node: i32) -> Result<()> {
        let n = self.node(node, "stop")?;
        self.note(n.stop(STOP_GRACE).await)
    }

    /// Starts node `node` again on the same data and ports (stopping it first if it
    /// runs), and waits until it serves and every serving node (running, not paused, not
    /// being stopped) lists exactly the serving nodes at their addresses.
    ///
    /// Several restarts may run at once (`tokio::join!(c.restart(1), c.restart(2))`):
    /// which nodes serve is looked at anew while waiting, so each restart also waits for
    /// the nodes the others have started by then, and none for a node that is down.
    pub async fn restart(&self, node: i32) -> Result<()> {
        let n = self.node(node, "restart")?;
        let launch = self.launch_spec()?;
        if n.pid().is_some() {
            self.note(n.stop(STOP_GRACE).await)?;
        }
        self.note(n.start(launch))?;
        let result = self
            .wait_for_listing(Listing::ServingWith { node }, self.startup_timeout)
            .await;
        self.note(result)
    }

    /// Stops node `node` (SIGTERM, as [`Self::stop`], if it runs), moves its client
    /// listener (`PLAINTEXT`, for clients and replication) to a new free port, starts it
    /// on the same data, and waits as [`Self::restart`] does, until every serving node
    /// lists it at the new address. Returns that address (`127.0.0.1:<port>`); from now
    /// on [`Self::broker_address`] and [`Self::bootstrap`] give it too, and nothing
    /// listens on the old port.
    ///
    /// For tests of clients that must find a cluster again after its brokers moved
    /// (re-bootstrapping). The node's controller (KRaft quorum) port stays: the other
    /// nodes know their voters by it. [`crate::FaultProxies`] started before still
    /// forward to the old port.
    pub async fn restart_on_new_port(&self, node: i32) -> Result<String> {
        let n = self.node(node, "restart on a new port")?;
        let launch = self.launch_spec()?;
        if n.pid().is_some() {
            self.note(n.stop(STOP_GRACE).await)?;
        }
        let port = self.note(ports::free_port_except(n.ports().broker))?;
        self.note(n.move_broker_port(port))?;
        self.note(n.start(launch))?;
        let result = self
            .wait_for_listing(Listing::ServingWith { node }, self.startup_timeout)
            .await;
        self.note(result)?;
        Ok(n.address())
    }

    /// How to launch nodes; an error for clusters the harness did not start.
    fn launch_spec(&self) -> Result<&LaunchSpec> {
        self.note(self.launch.as_ref().ok_or_else(|| {
            HarnessError::InvalidArgument("this cluster cannot start nodes".to_owned())
        }))
    }

    /// Crashes the whole cluster and brings it back: SIGKILL to every running node, then
    /// all nodes started again on the same data and ports, and a wait until every node
    /// lists every broker. A whole-cluster restart cannot go node by node: a lone
    /// controller of three has no quorum and never becomes ready.
    pub async fn restart_all(&self) -> Result<()> {
        let ids = self.node_ids();
        for &id in &ids {
            let n = self.node(id, "restart")?;
            if n.pid().is_some() {
                // A paused node dies of SIGKILL just the same.
                self.note(n.kill())?;
            }
        }
        let launch = self.launch_spec()?;
        for &id in &ids {
            let n = self.node(id, "restart")?;
            self.note(n.start(launch))?;
        }
        let result = self
            .wait_until_listed(&ids, &ids, self.startup_timeout)
            .await;
        self.note(result)
    }

    /// Waits until a Metadata request to every serving node (running, not paused) lists
    /// exactly the brokers `expected`, e.g. after a pause until the paused node is fenced.
    pub async fn wait_for_brokers(&self, expected: &[i32], timeout: Duration) -> Result<()> {
        let via: Vec<i32> = if self.kind == ClusterKind::Local {
            self.nodes
                .iter()
                .filter(|n| n.is_serving())
                .map(|n| n.id)
                .collect()
        } else {
            Vec::new()
        };
        if via.is_empty() {
            let mut want = expected.to_vec();
            want.sort_unstable();
            let deadline = Instant::now() + timeout;
            loop {
                let listed = self.metadata_inner(&[]).await.map(|r| {
                    let mut ids: Vec<i32> = r.brokers.iter().map(|b| b.node_id).collect();
                    ids.sort_unstable();
                    ids
                });
                match listed {
                    Ok(ids) if ids == want => return Ok(()),
                    _ if Instant::now() >= deadline => {
                        return self.note(Err(HarnessError::Timeout {
                            what: format!("Metadata to list brokers {want:?}"),
                            waited: timeout,
                            details: format!("last: {listed:?}"),
                        }))
                    }
                    _ => tokio::time::sleep(POLL_INTERVAL).await,
                }
            }
        }
        let result = self.wait_until_listed(expected, &via, timeout).await;
        self.note(result)
    }

    /// Waits until a Metadata request to each node in `via` lists exactly the brokers in
    /// `expected`, each at its node's address. Fails early when a node exits by itself.
    pub(crate) async fn wait_until_listed(
        &self,
        expected: &[i32],
        via: &[i32],
        timeout: Duration,
    ) -> Result<()> {
        self.wait_for_listing(Listing::Exactly { expected, via }, timeout)
            .await
    }

    /// Waits until `listing` holds; asks every `POLL_INTERVAL`. Fails early when a node
    /// exits by itself.
    async fn wait_for_listing(&self, listing: Listing<'_>, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let Err(last) = self.listing_holds(listing).await? else {
                return Ok(());
            };
            if Instant::now() >= deadline {
                return Err(HarnessError::Timeout {
                    what: describe_listing(listing),
                    waited: timeout,
                    details: format!("last: {last}; {}", self.node_report()),
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// One round of [`Self::wait_for_listing`]: `Ok(Err(why))` when the listing does not
    /// hold yet, an error when a node exited by itself.
    async fn listing_holds(&self, listing: Listing<'_>) -> Result<std::result::Result<(), String>> {
        let (expected, via) = match listing {
            Listing::Exactly { expected, via } => {
                for node in self.nodes.iter().filter(|n| via.contains(&n.id)) {
                    if !node.check_alive()? {
                        return Ok(Err(format!("node {} is {}", node.id, node.describe())));
                    }
                }
                (expected.to_vec(), via.to_vec())
            }
            Listing::ServingWith { node } => {
                let mut serving = Vec::new();
                for n in &self.nodes {
                    if n.check_alive()? {
                        serving.push(n.id);
                    }
                }
                if !serving.contains(&node) {
                    let described = self.nodes.iter().find(|n| n.id == node);
                    let state = described.map_or_else(String::new, Node::describe);
                    return Ok(Err(format!("node {node} is {state}")));
                }
                (serving.clone(), serving)
            }
        };
        let want = self.addresses_of(&expected);
        for node in self.nodes.iter().filter(|n| via.contains(&n.id)) {
            let response =
                match wire::fetch_metadata(&node.address(), &[], METADATA_ATTEMPT_TIMEOUT).await {
                    Ok(response) => response,
                    Err(e) => return Ok(Err(e.to_string())),
                };
            let mut listed: Vec<(i32, String)> = response
                .brokers
                .iter()
                .map(|b| (b.node_id, format!("{}:{}", b.host, b.port)))
                .collect();
            listed.sort_unstable();
            if listed != want {
                return Ok(Err(format!("node {} lists brokers {listed:?}", node.id)));
            }
        }
        Ok(Ok(()))
    }

    /// `(id, address)` of the nodes `ids`, sorted, as Metadata should list them.
    fn addresses_of(&self, ids: &[i32]) -> Vec<(i32, String)> {
        let mut addresses: Vec<(i32, String)> = self
            .nodes
            .iter()
            .filter(|n| ids.contains(&n.id))
            .map(|n| (n.id, n.address()))
            .collect();
        addresses.sort_unstable();
        addresses
    }

    /// One line per node: state and log file.
    pub(crate) fn node_report(&self) -> String {
        self.nodes
            .iter()
            .map(|n| {
                format!(
                    "node {} {} log {}",
                    n.id,
                    n.describe(),
                    n.log_path().display()
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The addresses Metadata and tools should use now: serving nodes of a local cluster,
    /// else the bootstrap list.
    pub(crate) fn live_addresses(&self) -> Vec<String> {
        if self.kind == ClusterKind::Local {
            self.nodes
                .iter()
                .filter(|n| n.is_serving())
                .map(Node::address)
                .collect()
        } else {
            self.bootstrap.split(',').map(str::to_owned).collect()
        }
    }

    /// A Metadata (v12) response from the first node that answers: brokers only when
    /// `topics` is empty, else those topics (never auto-created).
    pub async fn metadata(&self, topics: &[&str]) -> Result<MetadataResponse> {
        let result = self.metadata_inner(topics).await;
        self.note(result)
    }

    pub(crate) async fn metadata_inner(&self, topics: &[&str]) -> Result<MetadataResponse> {
        let mut last = None;
        for address in self.live_addresses() {
            match wire::fetch_metadata(&address, topics, METADATA_ATTEMPT_TIMEOUT).await {
                Ok(r) => return Ok(r),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| HarnessError::BadNodeState {
            operation: "query",
            node: -1,
            state: format!("no node is serving ({})", self.node_report()),
        }))
    }

    /// Prints where the logs are and keeps the folder.
    pub(crate) fn keep_and_report(&self, why: &str) {
        self.run.keep(why);
        eprintln!(
            "kiel-testcontainers: {why}; Kafka logs kept in {}",
            self.run.path().display()
        );
        for node in &self.nodes {
            eprintln!(
                "  node {} ({}): {}",
                node.id,
                node.describe(),
                node.log_path().display()
            );
        }
        eprintln!("  tool output: {}", self.run.path().join("tools").display());
    }

    /// Keeps the cluster's folder after it is dropped, even if the test passes.
    pub fn keep_logs(&self) {
        self.run.keep("kept on request");
    }
}

impl Drop for KafkaCluster {
    fn drop(&mut self) {
        for node in &self.nodes {
            node.kill_quietly();
        }
        if std::thread::panicking() {
            self.keep_and_report("the test panicked");
        } else if self.failed.load(Ordering::SeqCst) {
            self.keep_and_report("a harness call failed");
        }
        self.run.remove_unless_kept();
    }
}

/// What a wait for `listing` waits for, for its timeout error.
fn describe_listing(listing: Listing<'_>) -> String {
    match listing {
        Listing::Exactly { expected, via } => {
            let mut want = expected.to_vec();
            want.sort_unstable();
            format!("Metadata from nodes {via:?} to list brokers {want:?} at their addresses")
        }
        Listing::ServingWith { node } => format!(
            "node {node} to serve and every serving node's Metadata to list exactly the \
             serving nodes at their addresses"
        ),
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text)
        .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))
}
