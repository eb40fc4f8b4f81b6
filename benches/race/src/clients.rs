//! The clients of the race and the command line that runs each one.
//!
//! - `kiel`: `kiel perf` (the kiel-cli binary);
//! - `rdkafka-future` / `rdkafka-base`: this crate's `rdkafka-perf --mode future|base`;
//! - `java`: Kafka's Java producer on the JVM, from the jars kiel-testcontainers
//!   downloaded, with the JVM options Kafka's own `kafka-producer-perf-test.sh` uses
//!   (`-Xmx512M`, G1 with a 20 ms pause goal), driven by the race's `java/RacePerf.java`
//!   (ProducerPerformance's workload, options and total line, fetching the topic's metadata
//!   before its clock starts) or, with `--java-tool producer-performance`, by
//!   `org.apache.kafka.tools.ProducerPerformance` itself;
//! - `kacrab`, `krafka`, `confluent-kafka`: this crate's `kacrab-perf`, `krafka-perf`,
//!   `confluent-perf`; `franz-go`: the Go program in `go/franz-perf`. They take
//!   `--brokers --topic --num-records --record-size --throughput [-X key=value ...] [--keys
//!   N]` with Java property names, and exit 2 on a property they do not know, 3 when they
//!   cannot do the workload. Plaintext only, no transactions.
//!
//! Every client gets the same workload (topic, record count and size, target rate, keys),
//! the same settings ([`Settings`]) and the same connection ([`ClientSecurity`]: none for
//! plaintext; over SASL_SSL, `-X` properties for kiel and `rdkafka-perf` and a client config
//! file for Java), and prints ProducerPerformance's summary line.
//!
//! # References
//! - Kafka `bin/kafka-producer-perf-test.sh`, `bin/kafka-run-class.sh` (JVM options)
//! - Kafka `tools/.../ProducerPerformance.java` (options; `--command-property` and
//!   `--command-config` since 4.2, `--producer-props` and `--producer.config` before)

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::security::ClientSecurity;
use crate::settings::Settings;

/// A client in the race.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Client {
    /// `kiel perf`.
    Kiel,
    /// rust-rdkafka's `FutureProducer`.
    RdkafkaFuture,
    /// rust-rdkafka's `BaseProducer`.
    RdkafkaBase,
    /// Kafka's Java producer (RacePerf or ProducerPerformance).
    Java,
    /// kacrab, through `kacrab-perf`.
    Kacrab,
    /// krafka, through `krafka-perf`.
    Krafka,
    /// confluent-kafka, through `confluent-perf`.
    ConfluentKafka,
    /// franz-go, through the Go program `franz-perf`.
    FranzGo,
}

impl Client {
    /// Every client, in the order of the report (the default of `--clients`).
    pub const ALL: [Self; 8] = [
        Self::Kiel,
        Self::RdkafkaFuture,
        Self::RdkafkaBase,
        Self::Java,
        Self::Kacrab,
        Self::Krafka,
        Self::ConfluentKafka,
        Self::FranzGo,
    ];

    /// The peers whose programs take the common command line (`--brokers`, ..., `-X` in
    /// Java names, `--keys`).
    pub const PEER_PROGRAMS: [Self; 4] = [
        Self::Kacrab,
        Self::Krafka,
        Self::ConfluentKafka,
        Self::FranzGo,
    ];

    /// The client's name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kiel => "kiel",
            Self::RdkafkaFuture => "rdkafka-future",
            Self::RdkafkaBase => "rdkafka-base",
            Self::Java => "java",
            Self::Kacrab => "kacrab",
            Self::Krafka => "krafka",
            Self::ConfluentKafka => "confluent-kafka",
            Self::FranzGo => "franz-go",
        }
    }

    /// Whether this is one of the peers' programs with the common command line.
    pub fn is_peer_program(self) -> bool {
        Self::PEER_PROGRAMS.contains(&self)
    }

    /// The program's name: `kiel`, `rdkafka-perf`, `java`, `kacrab-perf`, ...
    pub fn program_name(self) -> &'static str {
        match self {
            Self::Kiel => "kiel",
            Self::RdkafkaFuture | Self::RdkafkaBase => "rdkafka-perf",
            Self::Java => "java",
            Self::Kacrab => "kacrab-perf",
            Self::Krafka => "krafka-perf",
            Self::ConfluentKafka => "confluent-perf",
            Self::FranzGo => "franz-perf",
        }
    }

    /// Whether this is one of the two rdkafka clients.
    pub fn is_rdkafka(self) -> bool {
        matches!(self, Self::RdkafkaFuture | Self::RdkafkaBase)
    }
}

impl fmt::Display for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Client {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == text.trim())
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|c| c.name()).collect();
                format!("unknown client `{text}` ({})", names.join(", "))
            })
    }
}

/// What runs the Java client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JavaTool {
    /// The race's `java/RacePerf.java`: ProducerPerformance's workload, options and total
    /// line; fetches the topic's metadata (`partitionsFor`) before its clock starts; keys
    /// and transactions of N records.
    #[default]
    RacePerf,
    /// Kafka's `ProducerPerformance` as shipped (its first send waits for the metadata
    /// inside its measured time); RacePerf still runs what it cannot (keys, transactions
    /// of N records).
    ProducerPerformance,
}

impl JavaTool {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::RacePerf => "race-perf",
            Self::ProducerPerformance => "producer-performance",
        }
    }
}

impl fmt::Display for JavaTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for JavaTool {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Self::RacePerf, Self::ProducerPerformance]
            .into_iter()
            .find(|t| t.name() == text.trim())
            .ok_or_else(|| format!("unknown Java tool `{text}` (race-perf, producer-performance)"))
    }
}

/// Where the clients' programs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programs {
    /// The `kiel` binary.
    pub kiel: PathBuf,
    /// The `rdkafka-perf` binary.
    pub rdkafka_perf: PathBuf,
    /// The `kacrab-perf` binary.
    pub kacrab_perf: PathBuf,
    /// The `krafka-perf` binary.
    pub krafka_perf: PathBuf,
    /// The `confluent-perf` binary.
    pub confluent_perf: PathBuf,
    /// The `franz-perf` binary (Go).
    pub franz_perf: PathBuf,
    /// The `java` launcher.
    pub java: PathBuf,
    /// The folder with Kafka's jars.
    pub kafka_libs: PathBuf,
    /// The compiled `java/RacePerf.java`: the Java client's program (see [`JavaTool`]).
    pub race_perf_classes: Option<PathBuf>,
    /// What runs the Java client.
    pub java_tool: JavaTool,
    /// A log4j2 configuration for the Java client (warnings to stderr).
    pub log4j2_config: PathBuf,
    /// A log4j 1.x / reload4j configuration, for Kafka 3.9's jars.
    pub log4j_config: PathBuf,
    /// ProducerPerformance's option for producer properties: `--command-property` (Kafka
    /// 4.2 and later) or `--producer-props`.
    pub java_property_option: &'static str,
    /// ProducerPerformance's option for a client config file: `--command-config` (Kafka
    /// 4.2 and later) or `--producer.config`.
    pub java_config_option: &'static str,
    /// Extra `KEY=VALUE` properties for kiel, after the common ones (a later one wins).
    pub kiel_extra: Vec<String>,
    /// Extra librdkafka properties for both rdkafka clients.
    pub rdkafka_extra: Vec<String>,
    /// Extra properties for the Java client.
    pub java_extra: Vec<String>,
}

/// One run's workload.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSpec {
    /// Bootstrap brokers.
    pub bootstrap: String,
    /// The topic (fresh for the run).
    pub topic: String,
    /// Records to send.
    pub records: u64,
    /// Bytes per record value.
    pub record_size: u32,
    /// Target records/s; -1 for as fast as possible.
    pub throughput: f64,
    /// Partitions of the topic (made by the race; for the record, no client is told).
    pub partitions: u32,
    /// Keyed records: `--keys N` (key = decimal of k, k Zipf(1.1) over 0..N).
    pub keys: Option<u32>,
    /// The producer settings.
    pub settings: Settings,
    /// How the client connects besides `bootstrap` (empty for plaintext).
    pub security: ClientSecurity,
    /// Send in transactions committed every this many milliseconds (ProducerPerformance's
    /// `--transaction-duration-ms`, under a `--transactional-id` of the run's own).
    pub transaction_duration_ms: Option<u64>,
    /// Send in transactions of this many records (`--transaction-records`; for Java,
    /// RacePerf).
    pub transaction_records: Option<u64>,
}

impl RunSpec {
    /// Whether the run sends in transactions.
    pub fn transactional(&self) -> bool {
        self.transaction_duration_ms.is_some() || self.transaction_records.is_some()
    }

    /// The target rate as the clients take it: whole records/s, or -1.
    fn throughput_arg(&self) -> String {
        if self.throughput > 0.0 {
            format!("{}", self.throughput.round().max(1.0) as u64)
        } else {
            "-1".to_owned()
        }
    }
}

/// Whether the Java client runs `spec` with RacePerf rather than ProducerPerformance.
fn java_runs_race_perf(programs: &Programs, spec: &RunSpec) -> bool {
    programs.java_tool == JavaTool::RacePerf
        || spec.keys.is_some()
        || spec.transaction_records.is_some()
}

/// Why `client` cannot run `spec` with `programs`, if it cannot (the run is then reported
/// as not run, with this reason, instead of being made).
pub fn unsupported(client: Client, programs: &Programs, spec: &RunSpec) -> Option<String> {
    if client.is_peer_program() {
        if !spec.security.java.is_empty() || spec.security.java_config_file.is_some() {
            return Some(format!(
                "{} connects over plaintext only in this race",
                client.program_name()
            ));
        }
        if spec.transactional() {
            return Some(format!(
                "{} takes no transaction options",
                client.program_name()
            ));
        }
    }
    if client == Client::Java
        && java_runs_race_perf(programs, spec)
        && programs.race_perf_classes.is_none()
    {
        return Some("java/RacePerf.java was not compiled (see the race's output)".to_owned());
    }
    None
}

/// The program and arguments that run `client` on `spec`.
pub fn command_line(client: Client, programs: &Programs, spec: &RunSpec) -> (PathBuf, Vec<String>) {
    let workload = [
        "--topic".to_owned(),
        spec.topic.clone(),
        "--num-records".to_owned(),
        spec.records.to_string(),
        "--record-size".to_owned(),
        spec.record_size.to_string(),
        "--throughput".to_owned(),
        spec.throughput_arg(),
    ]
    .into_iter()
    .chain(
        (spec.transaction_duration_ms.is_some() || spec.transaction_records.is_some())
            .then(|| {
                [
                    "--transactional-id".to_owned(),
                    format!("{}-tx", spec.topic),
                ]
            })
            .into_iter()
            .flatten(),
    )
    .chain(
        spec.transaction_duration_ms
            .into_iter()
            .flat_map(|ms| ["--transaction-duration-ms".to_owned(), ms.to_string()]),
    )
    .chain(
        spec.transaction_records
            .into_iter()
            .flat_map(|n| ["--transaction-records".to_owned(), n.to_string()]),
    )
    .chain(
        spec.keys
            .into_iter()
            .flat_map(|n| ["--keys".to_owned(), n.to_string()]),
    )
    .collect::<Vec<String>>();
    // The connection first, then the shared settings, then the extras (a later -X wins).
    let dash_x =
        |connection: &[(String, String)], props: Vec<(String, String)>, extra: &[String]| {
            connection
                .iter()
                .cloned()
                .chain(props)
                .map(|(k, v)| format!("{k}={v}"))
                .chain(extra.iter().cloned())
                .flat_map(|p| ["-X".to_owned(), p])
                .collect::<Vec<_>>()
        };
    match client {
        Client::Kiel => {
            let mut args = vec!["perf".to_owned()];
            args.extend(workload);
            args.extend(["--brokers".to_owned(), spec.bootstrap.clone()]);
            args.push("--no-progress".to_owned());
            // The topic's metadata before the clock starts, as every client gets.
            args.push("--warm-metadata".to_owned());
            args.extend(dash_x(
                &spec.security.java,
                spec.settings.java_properties(),
                &programs.kiel_extra,
            ));
            (programs.kiel.clone(), args)
        }
        Client::RdkafkaFuture | Client::RdkafkaBase => {
            let mode = if client == Client::RdkafkaFuture {
                "future"
            } else {
                "base"
            };
            let mut args = vec!["--mode".to_owned(), mode.to_owned()];
            args.extend(workload);
            args.extend(["--brokers".to_owned(), spec.bootstrap.clone()]);
            args.extend(dash_x(
                &spec.security.librdkafka,
                spec.settings.librdkafka_properties(),
                &programs.rdkafka_extra,
            ));
            (programs.rdkafka_perf.clone(), args)
        }
        Client::Java => {
            let mut args: Vec<String> = [
                "-Xmx512M",
                "-server",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-XX:InitiatingHeapOccupancyPercent=35",
                "-XX:+ExplicitGCInvokesConcurrent",
                "-Djava.awt.headless=true",
            ]
            .map(str::to_owned)
            .to_vec();
            args.push(format!(
                "-Dlog4j2.configurationFile={}",
                programs.log4j2_config.display()
            ));
            args.push(format!(
                "-Dlog4j.configuration=file:{}",
                programs.log4j_config.display()
            ));
            args.push("-cp".to_owned());
            // RacePerf by default, and for what ProducerPerformance cannot do (keys,
            // transactions of a fixed size).
            match &programs.race_perf_classes {
                Some(classes) if java_runs_race_perf(programs, spec) => {
                    args.push(format!(
                        "{}:{}/*",
                        classes.display(),
                        programs.kafka_libs.display()
                    ));
                    args.push("RacePerf".to_owned());
                }
                _ => {
                    args.push(format!("{}/*", programs.kafka_libs.display()));
                    args.push("org.apache.kafka.tools.ProducerPerformance".to_owned());
                }
            }
            args.extend(workload);
            if let Some(file) = &spec.security.java_config_file {
                args.push(programs.java_config_option.to_owned());
                args.push(file.display().to_string());
            }
            args.push(programs.java_property_option.to_owned());
            args.push(format!("bootstrap.servers={}", spec.bootstrap));
            args.extend(
                spec.settings
                    .java_properties()
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .chain(programs.java_extra.iter().cloned()),
            );
            (programs.java.clone(), args)
        }
        Client::Kacrab | Client::Krafka | Client::ConfluentKafka | Client::FranzGo => {
            let program = match client {
                Client::Kacrab => &programs.kacrab_perf,
                Client::Krafka => &programs.krafka_perf,
                Client::ConfluentKafka => &programs.confluent_perf,
                _ => &programs.franz_perf,
            };
            let mut args = vec!["--brokers".to_owned(), spec.bootstrap.clone()];
            args.extend(workload);
            args.extend(dash_x(&[], spec.settings.java_properties(), &[]));
            (program.clone(), args)
        }
    }
}

/// log4j2 configuration for the Java client: warnings and worse to stderr.
pub const LOG4J2_CONFIG: &str = "\
status = warn
appender.stderr.type = Console
appender.stderr.name = STDERR
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = STDERR
";

/// log4j 1.x configuration for the Java client of Kafka 3.9: warnings and worse to stderr.
pub const LOG4J_CONFIG: &str = "\
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Acks, Batching, Codec};
    use crate::workload::{variants, Brokers, Matrix, Workload, WorkloadName};

    fn programs() -> Programs {
        Programs {
            kiel: "/bin/kiel".into(),
            rdkafka_perf: "/bin/rdkafka-perf".into(),
            kacrab_perf: "/bin/kacrab-perf".into(),
            krafka_perf: "/bin/krafka-perf".into(),
            confluent_perf: "/bin/confluent-perf".into(),
            franz_perf: "/bin/franz-perf".into(),
            java: "/usr/bin/java".into(),
            kafka_libs: "/cache/libs".into(),
            race_perf_classes: Some("/tmp/race-perf".into()),
            // ProducerPerformance unless RacePerf is needed: what these tests were written
            // for; RacePerf's default has its own test.
            java_tool: JavaTool::ProducerPerformance,
            log4j2_config: "/tmp/log4j2.properties".into(),
            log4j_config: "/tmp/log4j.properties".into(),
            java_property_option: "--command-property",
            java_config_option: "--command-config",
            kiel_extra: vec!["max.in.flight=3".into()],
            rdkafka_extra: vec!["debug=eos".into()],
            java_extra: vec!["client.id=j".into()],
        }
    }

    fn spec(throughput: f64) -> RunSpec {
        RunSpec {
            bootstrap: "127.0.0.1:1,127.0.0.1:2".into(),
            topic: "race-t".into(),
            records: 1000,
            record_size: 100,
            throughput,
            partitions: 6,
            keys: None,
            settings: Settings::shared(
                Batching {
                    linger_ms: 5,
                    batch_size: 65_536,
                    buffer_bytes: 33_554_432,
                },
                Codec::Lz4,
            ),
            security: ClientSecurity::default(),
            transaction_duration_ms: None,
            transaction_records: None,
        }
    }

    #[test]
    fn transactional_runs_give_every_client_its_id_and_duration() {
        let transactional = RunSpec {
            transaction_duration_ms: Some(100),
            ..spec(-1.0)
        };
        for client in Client::ALL {
            let (_, args) = command_line(client, &programs(), &transactional);
            assert_eq!(
                after(&args, "--transactional-id"),
                Some("race-t-tx"),
                "{client}"
            );
            assert_eq!(
                after(&args, "--transaction-duration-ms"),
                Some("100"),
                "{client}"
            );
        }
        let (_, plain) = command_line(Client::Kiel, &programs(), &spec(-1.0));
        assert!(!plain.iter().any(|a| a == "--transactional-id"));
        let (_, java) = command_line(Client::Java, &programs(), &transactional);
        assert!(java
            .iter()
            .any(|a| a == "org.apache.kafka.tools.ProducerPerformance"));
    }

    #[test]
    fn transactions_of_a_fixed_size_run_java_through_race_perf() {
        let sized = RunSpec {
            transaction_records: Some(1000),
            ..spec(-1.0)
        };
        for client in Client::ALL {
            let (_, args) = command_line(client, &programs(), &sized);
            assert_eq!(after(&args, "--transactional-id"), Some("race-t-tx"));
            assert_eq!(after(&args, "--transaction-records"), Some("1000"));
            assert!(!args.iter().any(|a| a == "--transaction-duration-ms"));
        }
        let (_, java) = command_line(Client::Java, &programs(), &sized);
        assert!(java.iter().any(|a| a == "RacePerf"), "{java:?}");
        assert_eq!(after(&java, "-cp"), Some("/tmp/race-perf:/cache/libs/*"));
    }

    fn secured_spec() -> RunSpec {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        RunSpec {
            security: ClientSecurity {
                java: vec![
                    pair("security.protocol", "SASL_SSL"),
                    pair("sasl.mechanism", "SCRAM-SHA-512"),
                ],
                librdkafka: vec![
                    pair("security.protocol", "sasl_ssl"),
                    pair("sasl.mechanisms", "SCRAM-SHA-512"),
                ],
                java_config_file: Some("/w/java-client.properties".into()),
            },
            ..spec(-1.0)
        }
    }

    fn after<'a>(args: &'a [String], flag: &str) -> Option<&'a str> {
        let at = args.iter().position(|a| a == flag)?;
        args.get(at + 1).map(String::as_str)
    }

    #[test]
    fn every_client_gets_the_same_workload() {
        for client in Client::ALL {
            let (_, args) = command_line(client, &programs(), &spec(12_345.4));
            assert_eq!(after(&args, "--topic"), Some("race-t"), "{client}");
            assert_eq!(after(&args, "--num-records"), Some("1000"), "{client}");
            assert_eq!(after(&args, "--record-size"), Some("100"), "{client}");
            assert_eq!(after(&args, "--throughput"), Some("12345"), "{client}");
            let joined = args.join(" ");
            assert!(joined.contains("acks=all"), "{client}: {joined}");
            assert!(joined.contains("enable.idempotence=true"), "{client}");
            assert!(joined.contains("linger.ms=5"), "{client}");
            assert!(joined.contains("batch.size=65536"), "{client}");
            assert!(joined.contains("lz4"), "{client}");
        }
        let (_, args) = command_line(Client::Kiel, &programs(), &spec(-1.0));
        assert_eq!(after(&args, "--throughput"), Some("-1"));
    }

    #[test]
    fn extra_properties_come_last_for_their_client_only() {
        let (_, kiel) = command_line(Client::Kiel, &programs(), &spec(-1.0));
        assert_eq!(kiel.last().map(String::as_str), Some("max.in.flight=3"));
        assert_eq!(kiel.get(kiel.len() - 2).map(String::as_str), Some("-X"));
        let (_, base) = command_line(Client::RdkafkaBase, &programs(), &spec(-1.0));
        assert_eq!(base.last().map(String::as_str), Some("debug=eos"));
        let (_, java) = command_line(Client::Java, &programs(), &spec(-1.0));
        assert_eq!(java.last().map(String::as_str), Some("client.id=j"));
        assert!(!java
            .iter()
            .any(|a| a == "debug=eos" || a == "max.in.flight=3"));
    }

    #[test]
    fn each_client_runs_its_own_program() {
        let (program, args) = command_line(Client::RdkafkaBase, &programs(), &spec(-1.0));
        assert_eq!(program, PathBuf::from("/bin/rdkafka-perf"));
        assert_eq!(after(&args, "--mode"), Some("base"));
        assert_eq!(after(&args, "--brokers"), Some("127.0.0.1:1,127.0.0.1:2"));
        let (_, args) = command_line(Client::RdkafkaFuture, &programs(), &spec(-1.0));
        assert_eq!(after(&args, "--mode"), Some("future"));
        let (program, args) = command_line(Client::Kiel, &programs(), &spec(-1.0));
        assert_eq!(program, PathBuf::from("/bin/kiel"));
        assert_eq!(args.first().map(String::as_str), Some("perf"));
        let (program, args) = command_line(Client::Java, &programs(), &spec(-1.0));
        assert_eq!(program, PathBuf::from("/usr/bin/java"));
        assert_eq!(after(&args, "-cp"), Some("/cache/libs/*"));
        assert_eq!(
            after(&args, "--command-property"),
            Some("bootstrap.servers=127.0.0.1:1,127.0.0.1:2")
        );
    }

    #[test]
    fn plaintext_runs_get_no_connection_settings() {
        for client in Client::ALL {
            let (_, args) = command_line(client, &programs(), &spec(-1.0));
            let joined = args.join(" ");
            assert!(!joined.contains("security.protocol"), "{client}: {joined}");
            assert!(!joined.contains("--command-config"), "{client}: {joined}");
        }
    }

    #[test]
    fn secured_runs_connect_each_client_in_its_own_names() {
        let spec = secured_spec();
        let (_, kiel) = command_line(Client::Kiel, &programs(), &spec);
        let kiel = kiel.join(" ");
        assert!(kiel.contains("-X security.protocol=SASL_SSL -X sasl.mechanism=SCRAM-SHA-512"));
        // Connection settings come before the extras, which may override them.
        assert!(kiel.find("security.protocol").unwrap() < kiel.find("max.in.flight=3").unwrap());
        for client in [Client::RdkafkaBase, Client::RdkafkaFuture] {
            let (_, args) = command_line(client, &programs(), &spec);
            let joined = args.join(" ");
            assert!(
                joined.contains("-X security.protocol=sasl_ssl -X sasl.mechanisms=SCRAM-SHA-512")
            );
            assert!(!joined.contains("SASL_SSL"), "{client}: {joined}");
        }
        let (_, java) = command_line(Client::Java, &programs(), &spec);
        assert_eq!(
            after(&java, "--command-config"),
            Some("/w/java-client.properties")
        );
        assert!(!java.iter().any(|a| a.contains("security.protocol")));
        let config_at = java.iter().position(|a| a == "--command-config").unwrap();
        let props_at = java.iter().position(|a| a == "--command-property").unwrap();
        assert!(config_at < props_at);
    }

    #[test]
    fn clients_parse_by_name() {
        for client in Client::ALL {
            assert_eq!(client.name().parse::<Client>(), Ok(client));
        }
        assert!("librdkafka".parse::<Client>().is_err());
    }

    /// The run spec of `workload` as the race makes it.
    fn spec_of(workload: &Workload) -> RunSpec {
        RunSpec {
            partitions: workload.partitions,
            keys: workload.keys,
            record_size: workload.record_size,
            settings: workload.settings(Batching::RACE),
            ..spec(-1.0)
        }
    }

    fn new_workloads() -> Vec<Workload> {
        let matrix = Matrix {
            brokers: vec![Brokers::Local(1)],
            sizes: vec![100],
            codecs: vec![Codec::None],
            partitions: 6,
        };
        variants(&WorkloadName::ALL, &matrix).0
    }

    #[test]
    fn every_client_gets_the_same_workload_in_every_workload() {
        for workload in new_workloads() {
            let spec = spec_of(&workload);
            for client in Client::ALL {
                let (_, args) = command_line(client, &programs(), &spec);
                let joined = args.join(" ");
                let context = format!("{client} in {}: {joined}", workload.label());
                assert_eq!(after(&args, "--topic"), Some("race-t"), "{context}");
                assert_eq!(after(&args, "--num-records"), Some("1000"), "{context}");
                let size = workload.record_size.to_string();
                assert_eq!(
                    after(&args, "--record-size"),
                    Some(size.as_str()),
                    "{context}"
                );
                assert_eq!(after(&args, "--throughput"), Some("-1"), "{context}");
                let keys = workload.keys.map(|k| k.to_string());
                assert_eq!(after(&args, "--keys"), keys.as_deref(), "{context}");
                let acks = workload.acks.acks();
                assert!(joined.contains(&format!("acks={acks}")), "{context}");
                assert!(
                    joined.contains(&format!(
                        "enable.idempotence={}",
                        workload.acks.idempotence()
                    )),
                    "{context}"
                );
                let linger = joined.contains("linger.ms=5");
                assert_eq!(linger, !workload.own_defaults, "{context}");
                assert_eq!(
                    joined.contains("buffer.memory") || joined.contains("queue.buffering"),
                    !workload.own_defaults,
                    "{context}"
                );
                if workload.codec == Codec::Zstd {
                    assert!(joined.contains("=zstd"), "{context}");
                }
                assert_eq!(unsupported(client, &programs(), &spec), None, "{context}");
            }
        }
    }

    #[test]
    fn keys_acks_and_partitions_are_carried_through() {
        let all = new_workloads();
        let c = all.iter().find(|w| w.name == WorkloadName::C).unwrap();
        let spec = spec_of(c);
        assert_eq!((spec.partitions, spec.keys), (64, Some(10_000)));
        let d = all.iter().find(|w| w.name == WorkloadName::D).unwrap();
        assert_eq!(d.acks, Acks::LeaderOnly);
        let (_, rd) = command_line(Client::RdkafkaBase, &programs(), &spec_of(d));
        assert!(rd
            .join(" ")
            .contains("-X acks=1 -X enable.idempotence=false"));
        // Keys need RacePerf on the Java side, whatever the tool chosen.
        let (_, java) = command_line(Client::Java, &programs(), &spec);
        assert!(java.iter().any(|a| a == "RacePerf"), "{java:?}");
        assert_eq!(after(&java, "--keys"), Some("10000"));
    }

    #[test]
    fn the_peers_programs_take_the_common_command_line() {
        let spec = spec(250.0);
        for (client, path) in [
            (Client::Kacrab, "/bin/kacrab-perf"),
            (Client::Krafka, "/bin/krafka-perf"),
            (Client::ConfluentKafka, "/bin/confluent-perf"),
            (Client::FranzGo, "/bin/franz-perf"),
        ] {
            let (program, args) = command_line(client, &programs(), &spec);
            assert_eq!(program, PathBuf::from(path));
            assert_eq!(args[..2], ["--brokers", "127.0.0.1:1,127.0.0.1:2"]);
            assert_eq!(after(&args, "--throughput"), Some("250"));
            assert_eq!(
                args.join(" ").split(" -X ").skip(1).collect::<Vec<_>>(),
                [
                    "acks=all",
                    "enable.idempotence=true",
                    "linger.ms=5",
                    "batch.size=65536",
                    "buffer.memory=33554432",
                    "compression.type=lz4"
                ],
                "{client}"
            );
            // No extras of the other clients.
            assert!(!args
                .iter()
                .any(|a| a.contains("debug=eos") || a == "--mode"));
        }
    }

    #[test]
    fn the_peers_run_plaintext_without_transactions_only() {
        for client in Client::PEER_PROGRAMS {
            let secured = unsupported(client, &programs(), &secured_spec()).unwrap();
            assert!(secured.contains("plaintext only"), "{secured}");
            let transactional = RunSpec {
                transaction_records: Some(10),
                ..spec(-1.0)
            };
            let reason = unsupported(client, &programs(), &transactional).unwrap();
            assert!(reason.contains("no transaction options"), "{reason}");
        }
        for client in [Client::Kiel, Client::RdkafkaBase, Client::Java] {
            assert_eq!(unsupported(client, &programs(), &secured_spec()), None);
        }
    }

    #[test]
    fn race_perf_runs_java_by_default_and_is_needed_for_keys() {
        let default = Programs {
            java_tool: JavaTool::RacePerf,
            ..programs()
        };
        let (_, java) = command_line(Client::Java, &default, &spec(-1.0));
        assert!(java.iter().any(|a| a == "RacePerf"), "{java:?}");
        assert_eq!(after(&java, "-cp"), Some("/tmp/race-perf:/cache/libs/*"));
        assert_eq!(
            after(&java, "--command-property"),
            Some("bootstrap.servers=127.0.0.1:1,127.0.0.1:2")
        );
        let uncompiled = Programs {
            race_perf_classes: None,
            ..default
        };
        assert!(unsupported(Client::Java, &uncompiled, &spec(-1.0)).is_some());
        // ProducerPerformance chosen: only keyed runs need RacePerf.
        let shipped = Programs {
            race_perf_classes: None,
            ..programs()
        };
        assert_eq!(unsupported(Client::Java, &shipped, &spec(-1.0)), None);
        let keyed = RunSpec {
            keys: Some(5),
            ..spec(-1.0)
        };
        assert!(unsupported(Client::Java, &shipped, &keyed).is_some());
        assert_eq!("race-perf".parse::<JavaTool>(), Ok(JavaTool::RacePerf));
        assert_eq!(
            "producer-performance".parse::<JavaTool>(),
            Ok(JavaTool::ProducerPerformance)
        );
    }
}
