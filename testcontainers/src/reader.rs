//! Kafka's own tools against a [`KafkaCluster`]: reading records back with the console
//! consumer (an independent reader: kiel's decoder is not involved), end offsets with
//! GetOffsetShell, and load with ProducerPerformance.
//!
//! # References
//! - Kafka `tools/.../consumer/ConsoleConsumer.java`, `ConsoleConsumerOptions.java`
//! - Kafka `tools/.../GetOffsetShell.java`, `ProducerPerformance.java`

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use crate::cache::KafkaDistribution;
use crate::cluster::KafkaCluster;
use crate::console_format::{
    self, ConsumedRecord, FIELD_SEPARATOR, HEADER_SEPARATOR, RECORD_SEPARATOR,
};
use crate::error::{HarnessError, Result};
use crate::java::JavaRuntime;
use crate::perf::{self, PerfResult};
use crate::security::ClientConfig;
use crate::tools::{tool_jvm_options, ToolOutput, ToolRunner};
use crate::topics::sanitize;
use crate::version::KafkaVersion;

/// Extra time a tool gets on top of the caller's timeout, for its JVM to start and join.
const TOOL_STARTUP_ALLOWANCE: Duration = Duration::from_secs(90);

/// How [`KafkaCluster::consume_with`] reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// Stop after this many records.
    pub expected: usize,
    /// Give up when no record arrives for this long (the console consumer's
    /// `--timeout-ms`).
    pub idle_timeout: Duration,
    /// Read with `isolation.level=read_committed` (records of aborted or open
    /// transactions are skipped).
    pub read_committed: bool,
    /// Read through this listener and login (from [`KafkaCluster::client_config`])
    /// instead of the cluster's PLAINTEXT listener.
    pub client: Option<ClientConfig>,
    /// Fewer than `expected` records by the idle timeout is not an error: what arrived is
    /// returned (to check that a topic holds no more than it should, ask for more).
    pub allow_fewer: bool,
}

impl ReadOptions {
    /// Read `expected` records, waiting at most `idle_timeout` for each, read-uncommitted,
    /// through the PLAINTEXT listener.
    pub fn new(expected: usize, idle_timeout: Duration) -> Self {
        Self {
            expected,
            idle_timeout,
            read_committed: false,
            client: None,
            allow_fewer: false,
        }
    }

    /// Reads through `client`'s listener, logged in as it says (TLS, mTLS, SASL).
    pub fn through(mut self, client: ClientConfig) -> Self {
        self.client = Some(client);
        self
    }
}

impl KafkaCluster {
    /// Reads `topic` from the beginning with Kafka's console consumer until `expected`
    /// records arrived, and returns them ordered by partition and offset. Fails with
    /// [`HarnessError::TooFewRecords`] when no record arrives for `timeout` before that.
    /// It stops at `expected`: use [`Self::end_offsets`] to check that there are no more.
    pub async fn consume_all(
        &self,
        topic: &str,
        expected: usize,
        timeout: Duration,
    ) -> Result<Vec<ConsumedRecord>> {
        self.consume_with(topic, &ReadOptions::new(expected, timeout))
            .await
    }

    /// [`Self::consume_all`] through a secured listener: the console consumer connects
    /// and logs in as `client` says. A refused login or TLS handshake makes it exit with
    /// an error, returned as [`HarnessError::ToolFailed`] (its stderr names the cause).
    pub async fn consume_through(
        &self,
        topic: &str,
        expected: usize,
        timeout: Duration,
        client: &ClientConfig,
    ) -> Result<Vec<ConsumedRecord>> {
        self.consume_with(
            topic,
            &ReadOptions::new(expected, timeout).through(client.clone()),
        )
        .await
    }

    /// [`Self::consume_all`] with all options.
    pub async fn consume_with(
        &self,
        topic: &str,
        options: &ReadOptions,
    ) -> Result<Vec<ConsumedRecord>> {
        let result = self.consume_inner(topic, options).await;
        self.note(result)
    }

    async fn consume_inner(
        &self,
        topic: &str,
        options: &ReadOptions,
    ) -> Result<Vec<ConsumedRecord>> {
        if options.expected == 0 {
            return Ok(Vec::new());
        }
        let null_marker = format!(
            "kiel-null-{:016x}{:016x}",
            rand::random::<u64>(),
            rand::random::<u64>()
        );
        let tools = self.tool_runner().await?;
        // A file rather than `--property`: 4.2+ prints a deprecation notice for that
        // option on stdout, where it would mix with the records.
        let formatter_config =
            tools.scratch_file(&format!("formatter-{}.properties", sanitize(topic)))?;
        let bytes = "org.apache.kafka.common.serialization.BytesDeserializer";
        let settings = [
            ("print.timestamp", "true".to_owned()),
            ("print.partition", "true".to_owned()),
            ("print.offset", "true".to_owned()),
            ("print.headers", "true".to_owned()),
            ("print.key", "true".to_owned()),
            ("print.value", "true".to_owned()),
            ("key.separator", java_escape(FIELD_SEPARATOR)),
            ("headers.separator", java_escape(HEADER_SEPARATOR)),
            ("line.separator", java_escape(RECORD_SEPARATOR)),
            ("null.literal", null_marker.clone()),
            ("key.deserializer", bytes.to_owned()),
            ("value.deserializer", bytes.to_owned()),
            ("headers.deserializer", bytes.to_owned()),
        ];
        let text: String = settings.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        std::fs::write(&formatter_config, text)
            .map_err(|e| HarnessError::io(format!("writing {}", formatter_config.display()), e))?;
        let idle_ms = options.idle_timeout.as_millis().max(1).to_string();
        let bootstrap = match &options.client {
            Some(client) => client.bootstrap().to_owned(),
            None => self.live_addresses().join(","),
        };
        let mut args: Vec<OsString> = vec![
            "--bootstrap-server".into(),
            bootstrap.into(),
            "--topic".into(),
            topic.into(),
            "--from-beginning".into(),
            "--max-messages".into(),
            options.expected.to_string().into(),
            "--timeout-ms".into(),
            idle_ms.into(),
            "--formatter-config".into(),
            formatter_config.into(),
        ];
        if options.read_committed {
            args.push("--isolation-level".into());
            args.push("read_committed".into());
        }
        if let Some(client) = &options.client {
            let file =
                write_client_config(tools, client, &format!("consumer-{}", sanitize(topic)))?;
            args.push(client_config_option(&tools.version, "--consumer.config").into());
            args.push(file.into());
        }
        let output = tools
            .run(
                "org.apache.kafka.tools.consumer.ConsoleConsumer",
                args,
                &tool_jvm_options(),
                &format!("consume-{}", sanitize(topic)),
                options.idle_timeout + TOOL_STARTUP_ALLOWANCE,
            )
            .await?;
        let raw = std::fs::read(&output.stdout)
            .map_err(|e| HarnessError::io(format!("reading {}", output.stdout.display()), e))?;
        let mut records = console_format::parse_output(&raw, &null_marker)?;
        // Running out of time is a normal exit for the console consumer; anything else
        // that failed is a tool failure. It exits with status 0 after most errors (a
        // refused login or TLS handshake among them), logging what stopped it.
        if records.len() < options.expected {
            let stderr = std::fs::read_to_string(&output.stderr).unwrap_or_default();
            if !output.success && !stderr.contains("TimeoutException") {
                return Err(output.failure("ConsoleConsumer"));
            }
            if options.allow_fewer && consumer_error(&stderr).is_none() {
                records.sort_by_key(|r| (r.partition, r.offset));
                return Ok(records);
            }
            if let Some(error) = consumer_error(&stderr) {
                let mut failure = output.failure("ConsoleConsumer");
                if let HarnessError::ToolFailed { status, .. } = &mut failure {
                    *status = format!("{status}, stopped by {error}");
                }
                return Err(failure);
            }
            return Err(HarnessError::TooFewRecords {
                topic: topic.to_owned(),
                expected: options.expected,
                got: records.len(),
                output: output.stdout,
            });
        }
        records.sort_by_key(|r| (r.partition, r.offset));
        Ok(records)
    }

    /// The log end offset of every partition of `topic` (from Kafka's GetOffsetShell), in
    /// partition order.
    pub async fn end_offsets(&self, topic: &str) -> Result<Vec<(i32, i64)>> {
        let result = async {
            let args: Vec<OsString> = vec![
                "--bootstrap-server".into(),
                self.live_addresses().join(",").into(),
                "--topic".into(),
                topic.into(),
                "--time".into(),
                "-1".into(),
            ];
            let tools = self.tool_runner().await?;
            let output = tools
                .run(
                    "org.apache.kafka.tools.GetOffsetShell",
                    args,
                    &tool_jvm_options(),
                    &format!("end-offsets-{}", sanitize(topic)),
                    TOOL_STARTUP_ALLOWANCE,
                )
                .await?
                .check("GetOffsetShell")?;
            let text = std::fs::read_to_string(&output.stdout)
                .map_err(|e| HarnessError::io(format!("reading {}", output.stdout.display()), e))?;
            parse_offsets(&text, topic)
        }
        .await;
        self.note(result)
    }

    /// The offsets consumer group `group` has committed, by topic and partition, read with
    /// Kafka's consumer-groups tool (`kafka-consumer-groups.sh --describe --offsets`). A
    /// partition without a committed offset is left out; a group that does not exist gives
    /// an empty map.
    pub async fn committed_offsets(
        &self,
        group: &str,
    ) -> Result<std::collections::BTreeMap<(String, i32), i64>> {
        let result = async {
            let args: Vec<OsString> = vec![
                "--bootstrap-server".into(),
                self.live_addresses().join(",").into(),
                "--describe".into(),
                "--offsets".into(),
                "--group".into(),
                group.into(),
            ];
            let tools = self.tool_runner().await?;
            let output = tools
                .run(
                    "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
                    args,
                    &tool_jvm_options(),
                    &format!("group-offsets-{}", sanitize(group)),
                    TOOL_STARTUP_ALLOWANCE,
                )
                .await?;
            let text = std::fs::read_to_string(&output.stdout)
                .map_err(|e| HarnessError::io(format!("reading {}", output.stdout.display()), e))?;
            let stderr = std::fs::read_to_string(&output.stderr).unwrap_or_default();
            if stderr.contains("does not exist") || text.contains("does not exist") {
                return Ok(std::collections::BTreeMap::new());
            }
            output.check("ConsumerGroupCommand")?;
            Ok(parse_group_offsets(&text, group))
        }
        .await;
        self.note(result)
    }

    /// Runs Kafka's `ProducerPerformance`: `records` records of `record_size` random bytes
    /// to `topic` as fast as possible, with the producer properties given (e.g.
    /// `("acks", "all")`; `bootstrap.servers` is set by the harness). The tool runs with
    /// the JVM's default JIT and GC, as a benchmark peer should.
    pub async fn run_producer_perf(
        &self,
        topic: &str,
        records: u64,
        record_size: u32,
        producer_properties: &[(&str, &str)],
    ) -> Result<PerfResult> {
        let result = self
            .producer_perf_inner(topic, records, record_size, producer_properties, None)
            .await;
        self.note(result)
    }

    /// [`Self::run_producer_perf`] through a secured listener: the producer connects and
    /// logs in as `client` says (its properties go in a config file, as
    /// `--producer.config` or `--command-config`). `producer_properties` are added after
    /// them and must each hold one `=` (ProducerPerformance's rule for `key=value`).
    pub async fn run_producer_perf_through(
        &self,
        topic: &str,
        records: u64,
        record_size: u32,
        producer_properties: &[(&str, &str)],
        client: &ClientConfig,
    ) -> Result<PerfResult> {
        let result = self
            .producer_perf_inner(
                topic,
                records,
                record_size,
                producer_properties,
                Some(client),
            )
            .await;
        self.note(result)
    }

    async fn producer_perf_inner(
        &self,
        topic: &str,
        records: u64,
        record_size: u32,
        producer_properties: &[(&str, &str)],
        client: Option<&ClientConfig>,
    ) -> Result<PerfResult> {
        let tools = self.tool_runner().await?;
        let mut args: Vec<OsString> = vec![
            "--topic".into(),
            topic.into(),
            "--num-records".into(),
            records.to_string().into(),
            "--record-size".into(),
            record_size.to_string().into(),
            "--throughput".into(),
            "-1".into(),
        ];
        if let Some(client) = client {
            let file =
                write_client_config(tools, client, &format!("producer-{}", sanitize(topic)))?;
            args.push(client_config_option(&tools.version, "--producer.config").into());
            args.push(file.into());
        }
        args.push(producer_property_option(&tools.version).into());
        if client.is_none() {
            args.push(format!("bootstrap.servers={}", self.live_addresses().join(",")).into());
        } else if producer_properties.is_empty() {
            // The option needs at least one property.
            args.push("client.id=kiel-producer-perf".into());
        }
        args.extend(
            producer_properties
                .iter()
                .map(|(k, v)| OsString::from(format!("{k}={v}"))),
        );
        let output = tools
            .run(
                "org.apache.kafka.tools.ProducerPerformance",
                args,
                &[],
                &format!("producer-perf-{}", sanitize(topic)),
                Duration::from_secs(600),
            )
            .await?
            .check("ProducerPerformance")?;
        let text = std::fs::read_to_string(&output.stdout)
            .map_err(|e| HarnessError::io(format!("reading {}", output.stdout.display()), e))?;
        perf::parse_summary(&text)
    }

    /// The folder holding every jar of the Kafka release in use (broker, tools, clients),
    /// e.g. to run a Java program against the cluster. Downloads the release first if this
    /// cluster was not started by the harness.
    pub async fn kafka_libs_dir(&self) -> Result<PathBuf> {
        let result = self.tool_runner().await.map(|t| t.libs_dir().to_path_buf());
        self.note(result)
    }

    /// Runs any Kafka command-line class (e.g. `org.apache.kafka.tools.TopicCommand`) from
    /// the release's jars with `args`, killing it after `timeout`. Its output is in files in
    /// the cluster's `tools/` folder; a non-zero exit is reported in
    /// [`ToolOutput::success`], not as an error.
    pub async fn run_tool(
        &self,
        main_class: &str,
        args: &[&str],
        timeout: Duration,
    ) -> Result<ToolOutput> {
        let result = async {
            let tools = self.tool_runner().await?;
            let label: String = main_class
                .rsplit('.')
                .next()
                .unwrap_or("tool")
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            tools
                .run(
                    main_class,
                    args.iter().map(OsString::from).collect(),
                    &tool_jvm_options(),
                    &label,
                    timeout,
                )
                .await
        }
        .await;
        self.note(result)
    }

    /// The tool runner: made at start for local clusters, on first use (which may
    /// download the jars) for the others.
    pub(crate) async fn tool_runner(&self) -> Result<&ToolRunner> {
        self.tools
            .get_or_try_init(|| async {
                let source = self.tool_source.clone();
                let dir = self.run.path().to_path_buf();
                tokio::task::spawn_blocking(move || -> Result<ToolRunner> {
                    let version = match source.version {
                        Some(v) => v,
                        None => KafkaVersion::from_env()?,
                    };
                    let java = JavaRuntime::locate(source.java.as_deref(), &version)?;
                    let dist = KafkaDistribution::ensure(
                        &version,
                        &source.cache_dir,
                        &java,
                        source.maven.as_deref(),
                    )?;
                    let log_config = dir.join("tools-log.properties");
                    std::fs::write(
                        &log_config,
                        crate::resources::tools_log_config(version.logging()),
                    )
                    .map_err(|e| {
                        HarnessError::io(format!("writing {}", log_config.display()), e)
                    })?;
                    let archive = if source.class_data_sharing {
                        crate::cds::ensure_archive(&dist)
                    } else {
                        None
                    };
                    Ok(ToolRunner::new(
                        version,
                        dist.launcher().clone(),
                        log_config,
                        dir.join("tools"),
                        archive
                            .iter()
                            .map(|a| format!("-XX:SharedArchiveFile={}", a.display()))
                            .collect(),
                    ))
                })
                .await
                .map_err(|e| HarnessError::io("preparing Kafka tools", std::io::Error::other(e)))?
            })
            .await
    }
}

/// The error that stopped the console consumer, other than running out of time: the
/// exception line after its "terminating consumer process" log line.
fn consumer_error(stderr: &str) -> Option<String> {
    let (_, after) = stderr.rsplit_once("terminating consumer process")?;
    let exception = after
        .lines()
        .skip(1)
        .map(str::trim)
        .find(|l| !l.is_empty())?;
    (!exception.contains("TimeoutException")).then(|| exception.to_owned())
}

/// `\uXXXX`, the Java properties escape of `c`.
fn java_escape(c: char) -> String {
    format!("\\u{:04x}", u32::from(c))
}

/// The option naming a client config file: `--command-config` from 4.2 on (where the
/// tools' own `old` option, `--consumer.config` or `--producer.config`, is deprecated),
/// `old` before.
fn client_config_option(version: &KafkaVersion, old: &'static str) -> &'static str {
    if (version.major(), version.minor()) >= (4, 2) {
        "--command-config"
    } else {
        old
    }
}

/// Writes `client`'s Java properties into a fresh file of the tools folder.
fn write_client_config(tools: &ToolRunner, client: &ClientConfig, label: &str) -> Result<PathBuf> {
    let file = tools.scratch_file(&format!("{label}.properties"))?;
    std::fs::write(&file, client.java_properties_text())
        .map_err(|e| HarnessError::io(format!("writing {}", file.display()), e))?;
    Ok(file)
}

/// ProducerPerformance's option for producer properties: `--command-property` from 4.2
/// on (where `--producer-props` is deprecated), `--producer-props` before.
fn producer_property_option(version: &KafkaVersion) -> &'static str {
    if (version.major(), version.minor()) >= (4, 2) {
        "--command-property"
    } else {
        "--producer-props"
    }
}

/// Parses GetOffsetShell lines `topic:partition:offset` for `topic`.
fn parse_offsets(text: &str, topic: &str) -> Result<Vec<(i32, i64)>> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        // The topic name may itself hold ':' only in theory (Kafka forbids it), so split
        // from the right.
        let mut parts = line.rsplitn(3, ':');
        let (Some(offset), Some(partition), Some(name)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(HarnessError::Parse {
                what: "GetOffsetShell output",
                detail: line.to_owned(),
            });
        };
        if name != topic {
            continue;
        }
        let parsed = partition
            .parse::<i32>()
            .ok()
            .zip(offset.parse::<i64>().ok());
        out.push(parsed.ok_or_else(|| HarnessError::Parse {
            what: "GetOffsetShell output",
            detail: line.to_owned(),
        })?);
    }
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_parsed_per_partition() {
        let text = "t:1:20\nt:0:10\nother:0:5\n\n";
        assert_eq!(parse_offsets(text, "t").unwrap(), vec![(0, 10), (1, 20)]);
        assert!(parse_offsets("garbage\n", "t").is_err());
        assert!(parse_offsets("t:x:1\n", "t").is_err());
    }

    #[test]
    fn consumer_errors_other_than_timeouts_are_found() {
        let timeout = "[x] ERROR Error processing message, terminating consumer process:  (c)\n\
                       org.apache.kafka.common.errors.TimeoutException\n\
                       Processed a total of 0 messages\n";
        assert_eq!(consumer_error(timeout), None);
        let refused = "[x] ERROR Error processing message, terminating consumer process:  (c)\n\
                       org.apache.kafka.common.errors.SaslAuthenticationException: invalid\n";
        assert_eq!(
            consumer_error(refused).as_deref(),
            Some("org.apache.kafka.common.errors.SaslAuthenticationException: invalid")
        );
        assert_eq!(consumer_error("Processed a total of 3 messages\n"), None);
    }

    #[test]
    fn option_names_follow_the_tools_release() {
        let v = |s: &str| KafkaVersion::parse(s).unwrap();
        assert_eq!(producer_property_option(&v("3.9.1")), "--producer-props");
        assert_eq!(producer_property_option(&v("4.1.2")), "--producer-props");
        assert_eq!(producer_property_option(&v("4.2.0")), "--command-property");
        assert_eq!(producer_property_option(&v("4.3.1")), "--command-property");
        assert_eq!(producer_property_option(&v("4.4.0")), "--command-property");
        assert_eq!(java_escape('\u{1f}'), "\\u001f");
        let old = "--consumer.config";
        assert_eq!(client_config_option(&v("3.9.1"), old), old);
        assert_eq!(client_config_option(&v("4.1.2"), old), old);
        assert_eq!(client_config_option(&v("4.2.0"), old), "--command-config");
        assert_eq!(client_config_option(&v("4.4.0"), old), "--command-config");
    }
}

/// The committed offsets in ConsumerGroupCommand's `--describe --offsets` table: rows of
/// `GROUP TOPIC PARTITION CURRENT-OFFSET ...`, where `-` is no committed offset.
fn parse_group_offsets(text: &str, group: &str) -> std::collections::BTreeMap<(String, i32), i64> {
    let mut offsets = std::collections::BTreeMap::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let [g, topic, partition, current, ..] = fields.as_slice() {
            if *g != group {
                continue;
            }
            if let (Ok(partition), Ok(current)) = (partition.parse::<i32>(), current.parse::<i64>())
            {
                offsets.insert(((*topic).to_owned(), partition), current);
            }
        }
    }
    offsets
}

#[cfg(test)]
mod group_offsets_tests {
    use super::parse_group_offsets;

    #[test]
    fn reads_committed_offsets_and_skips_the_rest() {
        let text = "\nConsumer group 'g' has no active members.\n\n\
            GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID\n\
            g     in    0         42             100            58  -           -    -\n\
            g     in    1         -              7              -   -           -    -\n\
            other in    2         5              9              4   -           -    -\n";
        let offsets = parse_group_offsets(text, "g");
        assert_eq!(offsets.len(), 1);
        assert_eq!(offsets[&("in".to_owned(), 0)], 42);
    }
}
