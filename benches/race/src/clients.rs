//! The four clients of the race and the command line that runs each one.
//!
//! - `kiel`: `kiel perf` (the kiel-cli binary);
//! - `rdkafka-future` / `rdkafka-base`: this crate's `rdkafka-perf --mode future|base`;
//! - `java`: Kafka's `org.apache.kafka.tools.ProducerPerformance` on the JVM, from the jars
//!   kiel-testcontainers downloaded, with the JVM options Kafka's own
//!   `kafka-producer-perf-test.sh` uses (`-Xmx512M`, G1 with a 20 ms pause goal).
//!
//! Every client gets the same workload (topic, record count and size, target rate), the
//! same settings ([`Settings`]) and the same connection ([`ClientSecurity`]: none for
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
    /// Kafka's Java ProducerPerformance.
    Java,
}

impl Client {
    /// Every client, in the order of the report.
    pub const ALL: [Self; 4] = [
        Self::Kiel,
        Self::RdkafkaFuture,
        Self::RdkafkaBase,
        Self::Java,
    ];

    /// The client's name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Self::Kiel => "kiel",
            Self::RdkafkaFuture => "rdkafka-future",
            Self::RdkafkaBase => "rdkafka-base",
            Self::Java => "java",
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
                format!("unknown client `{text}` (kiel, rdkafka-future, rdkafka-base, java)")
            })
    }
}

/// Where the clients' programs are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Programs {
    /// The `kiel` binary.
    pub kiel: PathBuf,
    /// The `rdkafka-perf` binary.
    pub rdkafka_perf: PathBuf,
    /// The `java` launcher.
    pub java: PathBuf,
    /// The folder with Kafka's jars.
    pub kafka_libs: PathBuf,
    /// The compiled `java/RacePerf.java`, for the Java client's runs of workloads
    /// ProducerPerformance cannot run (transactions of a fixed number of records).
    pub race_perf_classes: Option<PathBuf>,
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
    /// The target rate as the clients take it: whole records/s, or -1.
    fn throughput_arg(&self) -> String {
        if self.throughput > 0.0 {
            format!("{}", self.throughput.round().max(1.0) as u64)
        } else {
            "-1".to_owned()
        }
    }
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
            // Transactions of a fixed size: the race's RacePerf (ProducerPerformance
            // commits by time only).
            match (&programs.race_perf_classes, spec.transaction_records) {
                (Some(classes), Some(_)) => {
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
    use crate::settings::Codec;

    fn programs() -> Programs {
        Programs {
            kiel: "/bin/kiel".into(),
            rdkafka_perf: "/bin/rdkafka-perf".into(),
            java: "/usr/bin/java".into(),
            kafka_libs: "/cache/libs".into(),
            race_perf_classes: Some("/tmp/race-perf".into()),
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
            settings: Settings {
                linger_ms: 5,
                batch_size: 65_536,
                buffer_bytes: 33_554_432,
                codec: Codec::Lz4,
            },
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
}
