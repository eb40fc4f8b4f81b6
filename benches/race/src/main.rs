//! `race`: runs kiel and its peers (rdkafka's FutureProducer and BaseProducer, Kafka's Java
//! ProducerPerformance), each as its own process, against the same brokers with the same
//! settings, in alternating rounds, and reports the medians as a markdown table (and a
//! chart).
//!
//! ```sh
//! cargo run --release --manifest-path benches/race/Cargo.toml -- --records 1000000 --runs 3
//! cargo run --release --manifest-path benches/race/Cargo.toml -- --quick
//! ```
//!
//! For every broker count a kiel-testcontainers cluster is started (or `--bootstrap` is
//! used); for every record size and codec, a throughput round (as fast as possible) and
//! then a latency round (at half the slowest client's median rate) are run `--runs` times,
//! the client order rotated each time, each run on a fresh 6-partition topic.
//!
//! `--security sasl-ssl-scram512` starts secured clusters and has every client connect
//! through their SASL_SSL listener with a SCRAM-SHA-512 login ([`kiel_race::security`]).
//!
//! # References
//! - kiel issue 6 (the race)
//! - Kafka `tools/.../ProducerPerformance.java`

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Parser;
use kiel_race::cargo_build;
use kiel_race::chart;
use kiel_race::clients::{command_line, Client, Programs, RunSpec, LOG4J2_CONFIG, LOG4J_CONFIG};
use kiel_race::machine;
use kiel_race::measure::run_measured;
use kiel_race::report::{medians, parse_runs_csv, runs_csv, RunFigures, RunRecord};
use kiel_race::security::{ClientSecurity, Security};
use kiel_race::settings::{Codec, Settings};
use kiel_race::summary::PerfSummary;
use kiel_race::table::{kiel_losses, render_table, thousands};
use kiel_race::workload::{
    latency_rate, latency_records, rotated, throughput_records, Brokers, Phase, Workload,
};
use kiel_testcontainers::{ClientAuth, KafkaCluster, KafkaVersion, Listener, SaslMechanism};

/// The race's command line.
#[derive(Debug, Parser)]
#[command(
    name = "race",
    about = "kiel against rdkafka and Kafka's Java producer"
)]
struct Cli {
    /// Records per throughput run for records up to 300 B; larger records run
    /// proportionally fewer (1 KiB: 29%). Default 2000000 (--quick: 20000).
    #[arg(long, value_name = "N")]
    records: Option<u64>,

    /// Rounds per phase; the client order rotates each round. Default 3 (--quick: 1).
    #[arg(long, value_name = "N")]
    runs: Option<usize>,

    /// Broker counts to start clusters of. Default 1,3 (--quick: 1).
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    brokers: Option<Vec<usize>>,

    /// Record sizes in bytes. Default 100,1024 (--quick: 100).
    #[arg(long, value_delimiter = ',', value_name = "BYTES,...")]
    sizes: Option<Vec<u32>>,

    /// Codecs: none, lz4. Default none,lz4 (--quick: none).
    #[arg(long, value_delimiter = ',', value_name = "CODEC,...")]
    codecs: Option<Vec<Codec>>,

    /// Clients: kiel, rdkafka-future, rdkafka-base, java. Default all four.
    #[arg(long, value_delimiter = ',', value_name = "CLIENT,...")]
    clients: Option<Vec<Client>>,

    /// A smoke test: 20000 records, 1 round, 1 broker, 100 B, no compression, short latency
    /// runs (other flags still override), results in the work folder only.
    #[arg(long)]
    quick: bool,

    /// How the clients connect: plaintext, or sasl-ssl-scram512 (secured clusters; every
    /// client through the SASL_SSL listener, trusting the cluster's CA, logged in with
    /// SCRAM-SHA-512).
    #[arg(long, default_value = "plaintext", value_name = "SECURITY")]
    security: Security,

    /// Transactional runs: every client sends in transactions committed every MS
    /// milliseconds (ProducerPerformance's --transaction-duration-ms, each run under a
    /// transactional id of its own).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    transaction_duration_ms: Option<u64>,

    /// Transactional runs: every client commits each transaction once it holds N records
    /// (kiel perf's and rdkafka-perf's --transaction-records; for Java the race's own
    /// RacePerf.java, compiled with the JDK's javac, since ProducerPerformance commits by
    /// time only).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    transaction_records: Option<u64>,

    /// A check, not a race: with --security sasl-ssl-scram512, every client logs in with a
    /// wrong password, so every run should fail. kiel exits at once; librdkafka retries the
    /// login until message.timeout.ms (add --rdkafka-property message.timeout.ms=15000) and
    /// Java's ProducerPerformance until --run-timeout kills it (add --run-timeout 60).
    #[arg(long)]
    wrong_password: bool,

    /// Use these brokers instead of starting clusters (--brokers is then ignored).
    #[arg(long, value_name = "HOST:PORT[,...]")]
    bootstrap: Option<String>,

    /// Replication factor of the topics on --bootstrap brokers.
    #[arg(long, default_value_t = 1)]
    replication_factor: u32,

    /// min.insync.replicas of the topics on --bootstrap brokers.
    #[arg(long, default_value_t = 1)]
    min_insync_replicas: u32,

    /// Partitions of every topic.
    #[arg(long, default_value_t = 6)]
    partitions: u32,

    /// linger.ms for every client.
    #[arg(long, default_value_t = 5)]
    linger_ms: u32,

    /// batch.size for every client.
    #[arg(long, default_value_t = 65_536)]
    batch_size: u32,

    /// Record buffer of every client, bytes (buffer.memory; librdkafka:
    /// queue.buffering.max.kbytes).
    #[arg(long, default_value_t = 32 * 1024 * 1024)]
    buffer_memory: u64,

    /// How long a latency run should last, seconds. Default 10 (--quick: 2).
    #[arg(long, value_name = "SECONDS")]
    latency_seconds: Option<f64>,

    /// No unmeasured warm-up run on a fresh cluster.
    #[arg(long)]
    no_warmup: bool,

    /// A run taking longer than this is killed and counted as failed, seconds.
    #[arg(long, default_value_t = 600)]
    run_timeout: u64,

    /// The kiel binary to use instead of building it (`cargo build --release -p kiel-cli`).
    #[arg(long, value_name = "PATH")]
    kiel_bin: Option<PathBuf>,

    /// The rdkafka-perf binary to use instead of building it.
    #[arg(long, value_name = "PATH")]
    rdkafka_bin: Option<PathBuf>,

    /// Where the report goes. Default benches/race/results (--quick: the work folder).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,

    /// An extra kiel property KEY=VALUE for experiments (repeatable; a later one wins).
    #[arg(long, value_name = "KEY=VALUE")]
    kiel_property: Vec<String>,

    /// An extra librdkafka property for both rdkafka clients (repeatable), e.g.
    /// debug=eos,broker to see librdkafka's log in the run's stderr file.
    #[arg(long, value_name = "KEY=VALUE")]
    rdkafka_property: Vec<String>,

    /// An extra property for the Java client (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    java_property: Vec<String>,

    /// Redraw the report and chart from a race's `<stamp>-runs.csv` instead of racing
    /// (written next to it unless --out says otherwise).
    #[arg(long, value_name = "CSV")]
    replot: Option<PathBuf>,

    /// A TrueType font for the chart's text.
    #[arg(
        long,
        value_name = "TTF",
        default_value = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    )]
    font: PathBuf,
}

/// The race to run, with every default resolved.
#[derive(Debug)]
struct Plan {
    records: u64,
    runs: usize,
    brokers: Vec<Brokers>,
    sizes: Vec<u32>,
    codecs: Vec<Codec>,
    clients: Vec<Client>,
    latency_seconds: f64,
    run_timeout: Duration,
    partitions: u32,
    settings: Settings,
    security: Security,
    transaction_duration_ms: Option<u64>,
    transaction_records: Option<u64>,
}

impl Plan {
    fn from_cli(cli: &Cli) -> Result<Self, String> {
        let quick = cli.quick;
        fn pick<T>(quick: bool, quick_value: T, full_value: T) -> T {
            if quick {
                quick_value
            } else {
                full_value
            }
        }
        let brokers = match &cli.bootstrap {
            Some(_) => vec![Brokers::External],
            None => cli
                .brokers
                .clone()
                .unwrap_or_else(|| pick(quick, vec![1], vec![1, 3]))
                .into_iter()
                .map(Brokers::Local)
                .collect(),
        };
        let plan = Self {
            records: cli.records.unwrap_or(pick(quick, 20_000, 2_000_000)),
            runs: cli.runs.unwrap_or(pick(quick, 1, 3)),
            brokers,
            sizes: cli
                .sizes
                .clone()
                .unwrap_or_else(|| pick(quick, vec![100], vec![100, 1024])),
            codecs: cli
                .codecs
                .clone()
                .unwrap_or_else(|| pick(quick, vec![Codec::None], vec![Codec::None, Codec::Lz4])),
            clients: cli.clients.clone().unwrap_or_else(|| Client::ALL.to_vec()),
            latency_seconds: cli.latency_seconds.unwrap_or(pick(quick, 2.0, 10.0)),
            run_timeout: Duration::from_secs(cli.run_timeout),
            partitions: cli.partitions,
            settings: Settings {
                linger_ms: cli.linger_ms,
                batch_size: cli.batch_size,
                buffer_bytes: cli.buffer_memory,
                codec: Codec::None,
            },
            security: cli.security,
            transaction_duration_ms: cli.transaction_duration_ms,
            transaction_records: cli.transaction_records,
        };
        if plan.runs == 0 || plan.records == 0 || plan.partitions == 0 {
            return Err("--runs, --records and --partitions must be at least 1".to_owned());
        }
        if plan.brokers.contains(&Brokers::Local(0)) {
            return Err("--brokers: a cluster needs at least 1 node".to_owned());
        }
        if plan.sizes.is_empty() || plan.codecs.is_empty() || plan.clients.is_empty() {
            return Err("--sizes, --codecs and --clients must not be empty".to_owned());
        }
        if plan.security.is_secured() && cli.bootstrap.is_some() {
            return Err(format!(
                "--security {} needs the secured clusters the race starts, not --bootstrap",
                plan.security
            ));
        }
        if cli.wrong_password && !plan.security.is_secured() {
            return Err("--wrong-password needs --security sasl-ssl-scram512".to_owned());
        }
        if plan.sizes.contains(&0) {
            return Err("--sizes: records need at least 1 byte".to_owned());
        }
        if !(plan.latency_seconds.is_finite() && plan.latency_seconds > 0.0) {
            return Err("--latency-seconds must be positive".to_owned());
        }
        Ok(plan)
    }

    fn total_runs(&self) -> usize {
        self.brokers.len()
            * self.sizes.len()
            * self.codecs.len()
            * 2
            * self.runs
            * self.clients.len()
    }
}

/// The crate's folder (benches/race) and the kiel repository root.
fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn repo_root() -> PathBuf {
    crate_dir().join("..").join("..")
}

fn java_program() -> PathBuf {
    match std::env::var_os("JAVA_HOME") {
        Some(home) if !home.is_empty() => Path::new(&home).join("bin").join("java"),
        _ => PathBuf::from("java"),
    }
}

/// Compiles `java/RacePerf.java` against the Kafka jars into `work_dir` with the JDK's
/// javac (beside the `java` launcher); returns the classes' folder.
fn compile_race_perf(programs: &Programs, work_dir: &Path) -> Result<PathBuf, String> {
    let javac = programs.java.with_file_name("javac");
    let javac = if programs
        .java
        .parent()
        .is_some_and(|p| !p.as_os_str().is_empty())
    {
        javac
    } else {
        PathBuf::from("javac")
    };
    let classes = work_dir.join("race-perf-classes");
    let source = crate_dir().join("java").join("RacePerf.java");
    let output = std::process::Command::new(&javac)
        .arg("-d")
        .arg(&classes)
        .arg("-cp")
        .arg(format!("{}/*", programs.kafka_libs.display()))
        .arg(&source)
        .output()
        .map_err(|e| format!("running {}: {e}", javac.display()))?;
    if !output.status.success() {
        return Err(format!(
            "{} failed: {}",
            javac.display(),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(classes)
}

/// ProducerPerformance's producer-property option for `version`.
fn java_property_option(version: Option<&KafkaVersion>) -> &'static str {
    match version {
        Some(v) if (v.major(), v.minor()) < (4, 2) => "--producer-props",
        _ => "--command-property",
    }
}

/// ProducerPerformance's client-config-file option for `version`.
fn java_config_option(version: Option<&KafkaVersion>) -> &'static str {
    match version {
        Some(v) if (v.major(), v.minor()) < (4, 2) => "--producer.config",
        _ => "--command-config",
    }
}

/// Where a workload's topics live and how they are made, and how clients reach them.
struct Target<'a> {
    cluster: &'a KafkaCluster,
    replication_factor: u32,
    min_insync: u32,
    /// The clients' bootstrap addresses (the SASL_SSL listener's on a secured cluster;
    /// topics are made through the harness's PLAINTEXT listener either way).
    bootstrap: String,
    /// The clients' connection settings.
    security: ClientSecurity,
}

/// Everything a run needs besides its own parameters.
struct Race<'a> {
    plan: &'a Plan,
    programs: Programs,
    work_dir: PathBuf,
    done: usize,
    topic_seq: usize,
    runs: Vec<RunRecord>,
}

impl Race<'_> {
    /// Runs `client` once on a fresh topic and returns its figures.
    async fn run_client(
        &mut self,
        target: &Target<'_>,
        workload: Workload,
        phase_name: &str,
        client: Client,
        records: u64,
        throughput: f64,
    ) -> Result<RunFigures, String> {
        self.topic_seq += 1;
        let topic = format!(
            "race-{}-{phase_name}-{}-{}",
            workload.slug(),
            client,
            self.topic_seq
        );
        let min_insync = target.min_insync.to_string();
        target
            .cluster
            .create_topic(
                &topic,
                self.plan.partitions,
                target.replication_factor,
                &[("min.insync.replicas", min_insync.as_str())],
            )
            .await
            .map_err(|e| format!("creating topic {topic}: {e}"))?;
        let spec = RunSpec {
            bootstrap: target.bootstrap.clone(),
            topic: topic.clone(),
            records,
            record_size: workload.record_size,
            throughput,
            settings: Settings {
                codec: workload.codec,
                ..self.plan.settings
            },
            security: target.security.clone(),
            transaction_duration_ms: self.plan.transaction_duration_ms,
            transaction_records: self.plan.transaction_records,
        };
        let (program, args) = command_line(client, &self.programs, &spec);
        let mut command = Command::new(&program);
        command.args(&args);
        let stdout = self.work_dir.join(format!("{topic}.out"));
        let stderr = self.work_dir.join(format!("{topic}.err"));
        let timeout = self.plan.run_timeout;
        let measured = {
            let (stdout, stderr) = (stdout.clone(), stderr.clone());
            tokio::task::spawn_blocking(move || run_measured(command, &stdout, &stderr, timeout))
                .await
                .map_err(|e| format!("the run's thread failed: {e}"))?
                .map_err(|e| format!("cannot run {}: {e}", program.display()))?
        };
        let output = std::fs::read_to_string(&stdout).unwrap_or_default();
        if !measured.success {
            let tail = std::fs::read_to_string(&stderr).unwrap_or_default();
            let tail: Vec<&str> = tail.lines().rev().take(3).collect();
            return Err(format!(
                "{client} {} ({}; stderr: {})",
                measured.status,
                stdout.display(),
                tail.into_iter().rev().collect::<Vec<_>>().join(" / ")
            ));
        }
        let summary = PerfSummary::from_output(&output)
            .map_err(|e| format!("{client}: {e} ({})", stdout.display()))?;
        if summary.records != records {
            return Err(format!(
                "{client} reported {} of {records} records ({})",
                summary.records,
                stdout.display()
            ));
        }
        Ok(RunFigures {
            summary,
            cpu_secs: measured.cpu().as_secs_f64(),
            max_rss_bytes: measured.max_rss_bytes,
            wall_secs: measured.wall.as_secs_f64(),
        })
    }

    /// Deletes the topics of one phase of a workload (a regular expression on their names).
    async fn delete_topics(&self, cluster: &KafkaCluster, workload: Workload, phase_name: &str) {
        let pattern = format!("race-{}-{phase_name}-.*", workload.slug());
        let bootstrap = cluster.bootstrap();
        let args = [
            "--bootstrap-server",
            bootstrap.as_str(),
            "--delete",
            "--topic",
            pattern.as_str(),
        ];
        match cluster
            .run_tool(
                "org.apache.kafka.tools.TopicCommand",
                &args,
                Duration::from_secs(120),
            )
            .await
        {
            Ok(out) if out.success => {}
            Ok(out) => eprintln!(
                "race: deleting topics {pattern} failed ({}; see {})",
                out.status,
                out.stderr.display()
            ),
            Err(e) => eprintln!("race: deleting topics {pattern} failed: {e}"),
        }
    }

    /// One phase of a workload: `runs` rounds of every client, rotated.
    async fn phase(
        &mut self,
        target: &Target<'_>,
        workload: Workload,
        phase: Phase,
        target_rate: Option<f64>,
        records: u64,
    ) {
        let total = self.plan.total_runs();
        let clients = self.plan.clients.clone();
        for round in 0..self.plan.runs {
            for client in rotated(&clients, round) {
                self.done += 1;
                eprint!(
                    "race: [{}/{total}] {}, {}{}, round {}: {client} ... ",
                    self.done,
                    workload.label(),
                    phase.name(),
                    target_rate.map_or(String::new(), |r| format!(" at {}/s", thousands(r))),
                    round + 1
                );
                let result = self
                    .run_client(
                        target,
                        workload,
                        phase.name(),
                        client,
                        records,
                        target_rate.unwrap_or(-1.0),
                    )
                    .await;
                match &result {
                    Ok(f) => eprintln!(
                        "{} records/s, {:.2} MB/s, CPU {:.2} s ({:.2} s/M), RSS {:.0} MiB, p50 {} ms, p99 {} ms",
                        thousands(f.summary.records_per_sec),
                        f.summary.mb_per_sec,
                        f.cpu_secs,
                        f.cpu_per_million(),
                        f.rss_mib(),
                        f.summary.p50_ms,
                        f.summary.p99_ms
                    ),
                    Err(e) => eprintln!("FAILED: {e}"),
                }
                self.runs.push(RunRecord {
                    workload,
                    phase,
                    target_rate,
                    round,
                    client,
                    records,
                    result,
                });
            }
        }
        self.delete_topics(target.cluster, workload, phase.name())
            .await;
    }

    /// Both phases of a workload.
    async fn workload(&mut self, target: &Target<'_>, workload: Workload) {
        let records = throughput_records(self.plan.records, workload.record_size);
        self.phase(target, workload, Phase::Throughput, None, records)
            .await;
        let rates: Vec<f64> = medians(&self.runs)
            .iter()
            .filter(|r| r.workload == workload && r.phase == Phase::Throughput)
            .map(|r| r.records_per_sec.unwrap_or(f64::NAN))
            .collect();
        let Some(rate) = latency_rate(&rates) else {
            eprintln!(
                "race: {}: no client finished the throughput run; no latency run",
                workload.label()
            );
            return;
        };
        let latency_count = latency_records(rate, self.plan.latency_seconds, records);
        self.phase(target, workload, Phase::Latency, Some(rate), latency_count)
            .await;
    }

    /// An unmeasured kiel run that warms the brokers' JIT.
    async fn warm_up(&mut self, target: &Target<'_>, brokers: Brokers) {
        let workload = Workload {
            brokers,
            record_size: 100,
            codec: Codec::None,
        };
        let records = throughput_records(self.plan.records, 100) / 2;
        let client = self.plan.clients.first().copied().unwrap_or(Client::Kiel);
        eprint!("race: warm-up on {brokers}: {client}, {records} records ... ");
        match self
            .run_client(target, workload, "warmup", client, records.max(1000), -1.0)
            .await
        {
            Ok(f) => eprintln!("{} records/s", thousands(f.summary.records_per_sec)),
            Err(e) => eprintln!("failed: {e}"),
        }
        self.delete_topics(target.cluster, workload, "warmup").await;
    }
}

/// Starts (or connects to) the brokers of `brokers`.
async fn cluster_for(cli: &Cli, brokers: Brokers) -> Result<(KafkaCluster, u32, u32), String> {
    match brokers {
        Brokers::External => {
            let bootstrap = cli.bootstrap.as_deref().unwrap_or_default();
            let cluster = KafkaCluster::connect(bootstrap)
                .await
                .map_err(|e| format!("cannot use --bootstrap {bootstrap}: {e}"))?;
            Ok((cluster, cli.replication_factor, cli.min_insync_replicas))
        }
        Brokers::Local(nodes) => {
            let replication = u32::try_from(nodes.min(3)).unwrap_or(3);
            let min_insync = if replication >= 3 { 2 } else { 1 };
            eprintln!("race: starting {brokers} (replication factor {replication}, min.insync.replicas {min_insync})");
            let mut builder = KafkaCluster::builder();
            if cli.security.is_secured() {
                // SASL_SSL (and the other secured listeners) beside the harness's PLAINTEXT
                // one, with a SCRAM user created at format time.
                builder = builder.secured();
            }
            let cluster = builder
                .nodes(nodes)
                .auto_create_topics(false)
                .replication_factor(replication)
                .min_insync_replicas(min_insync)
                // Benchmark brokers: full JIT and G1 rather than the harness's fast-start
                // defaults (C1 only, serial GC).
                .jvm_options(["-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20"])
                .heap_mb(512, 1024)
                .start()
                .await
                .map_err(|e| format!("cannot start {brokers}: {e}"))?;
            eprintln!("race: {brokers} at {}", cluster.bootstrap());
            Ok((cluster, replication, min_insync))
        }
    }
}

/// How the clients reach `cluster`: its PLAINTEXT listener, or its SASL_SSL listener with
/// a SCRAM-SHA-512 login as the cluster's user (with `wrong_password`, a password the
/// broker must refuse). The Java client's config file goes into `work_dir`.
fn client_access(
    cluster: &KafkaCluster,
    security: Security,
    wrong_password: bool,
    work_dir: &Path,
) -> Result<(String, ClientSecurity), String> {
    match security {
        Security::Plaintext => Ok((cluster.bootstrap(), ClientSecurity::default())),
        Security::SaslSslScram512 => {
            let user = cluster
                .security()
                .ok_or("the cluster is not secured")?
                .user()
                .clone();
            let user = if wrong_password {
                user.with_password("not-the-password")
            } else {
                user
            };
            let config = cluster
                .client_config(
                    Listener::SaslSsl,
                    ClientAuth::Sasl(SaslMechanism::ScramSha512, user),
                )
                .map_err(|e| format!("no SASL_SSL client config: {e}"))?;
            let file = work_dir.join("java-client-sasl-ssl.properties");
            std::fs::write(&file, config.java_properties_text())
                .map_err(|e| format!("writing {}: {e}", file.display()))?;
            Ok((
                config.bootstrap().to_owned(),
                ClientSecurity::from_properties(
                    config.java_properties(),
                    config.librdkafka_properties(),
                    &file,
                ),
            ))
        }
    }
}

/// Builds (or takes) the clients' programs.
fn programs(cli: &Cli, work_dir: &Path) -> Result<Programs, String> {
    let kiel = match &cli.kiel_bin {
        Some(path) => path.clone(),
        None => {
            eprintln!("race: building kiel (cargo build --release -p kiel-cli)");
            cargo_build::build(
                &repo_root().join("Cargo.toml"),
                &["-p", "kiel-cli", "--bin", "kiel"],
                "kiel",
            )?
        }
    };
    let rdkafka_perf = match &cli.rdkafka_bin {
        Some(path) => path.clone(),
        None => {
            eprintln!("race: building rdkafka-perf");
            cargo_build::build(
                &crate_dir().join("Cargo.toml"),
                &["--bin", "rdkafka-perf"],
                "rdkafka-perf",
            )?
        }
    };
    let log4j2_config = work_dir.join("java-log4j2.properties");
    let log4j_config = work_dir.join("java-log4j.properties");
    std::fs::write(&log4j2_config, LOG4J2_CONFIG)
        .and_then(|()| std::fs::write(&log4j_config, LOG4J_CONFIG))
        .map_err(|e| format!("writing the Java logging configuration: {e}"))?;
    Ok(Programs {
        kiel,
        rdkafka_perf,
        java: java_program(),
        // Filled in once a cluster (and so the jar folder) is known.
        kafka_libs: PathBuf::new(),
        race_perf_classes: None,
        log4j2_config,
        log4j_config,
        java_property_option: "--command-property",
        java_config_option: "--command-config",
        kiel_extra: cli.kiel_property.clone(),
        rdkafka_extra: cli.rdkafka_property.clone(),
        java_extra: cli.java_property.clone(),
    })
}

/// The report: conditions, settings, the median table, the chart and kiel's losses.
fn render_report(
    plan: &Plan,
    runs: &[RunRecord],
    header: &[String],
    chart: Option<&str>,
) -> String {
    let rows = medians(runs);
    let rounds = runs.iter().map(|r| r.round + 1).max().unwrap_or(0);
    let mut out = format!(
        "# The race: kiel against rdkafka and Kafka's Java producer{}\n\n",
        plan.security.title_suffix()
    );
    for line in header {
        out.push_str(&format!("- {line}\n"));
    }
    out.push_str(&format!(
        "- Settings for every client: {}; topics of {} partitions, fresh per run\n",
        plan.settings.describe(),
        plan.partitions
    ));
    out.push_str(&format!(
        "- Connection for every client: {}\n",
        plan.security.describe()
    ));
    if let Some(ms) = plan.transaction_duration_ms {
        out.push_str(&format!(
            "- Transactions: every client sends in transactions (its own transactional.id per run), committing each once it has been open {ms} ms (ProducerPerformance's --transaction-duration-ms)\n"
        ));
    }
    if let Some(n) = plan.transaction_records {
        out.push_str(&format!(
            "- Transactions of {n} records: every client sends in transactions (its own transactional.id per run), committing each once it holds {n} records (kiel perf and rdkafka-perf --transaction-records; Java: the race's RacePerf.java with the same workload and total line as ProducerPerformance, which commits by time only)\n"
        ));
    }
    out.push_str(&format!(
        "- {rounds} round(s) per phase, client order rotated each round; medians of each figure over the rounds\n\n",
    ));
    out.push_str(&render_table(&rows));
    if let Some(chart) = chart {
        out.push_str(&format!("\n![the race, medians]({chart})\n"));
    }
    let losses = kiel_losses(&rows);
    out.push_str("\n## Where kiel is behind a peer\n\n");
    if losses.is_empty() {
        out.push_str("Nowhere in this race.\n");
    } else {
        for loss in losses {
            out.push_str(&format!("- {loss}\n"));
        }
    }
    out
}

/// Writes the chart `<stamp>.png` and the report `<stamp>.md` into `out_dir` and prints
/// the report. Returns the report's path.
fn write_report(
    plan: &Plan,
    runs: &[RunRecord],
    header: &[String],
    out_dir: &Path,
    stamp: &str,
    title: &str,
    font: &Path,
) -> Result<PathBuf, String> {
    std::fs::create_dir_all(out_dir).map_err(|e| format!("creating {}: {e}", out_dir.display()))?;
    let chart_name = format!("{stamp}.png");
    let chart = match chart::render_png(&medians(runs), &out_dir.join(&chart_name), font, title) {
        Ok(()) => Some(chart_name.as_str()),
        Err(e) => {
            eprintln!("race: no chart: {e}");
            None
        }
    };
    let report = render_report(plan, runs, header, chart);
    let report_path = out_dir.join(format!("{stamp}.md"));
    std::fs::write(&report_path, &report)
        .map_err(|e| format!("writing {}: {e}", report_path.display()))?;
    println!("{report}");
    Ok(report_path)
}

/// `--replot`: the report and chart again from a race's CSV of runs.
fn replot(cli: &Cli, csv: &Path) -> Result<(), String> {
    let mut plan = Plan::from_cli(cli)?;
    let text =
        std::fs::read_to_string(csv).map_err(|e| format!("reading {}: {e}", csv.display()))?;
    let runs = parse_runs_csv(&text)?;
    let name = csv
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("race-runs.csv");
    let stamp = name.strip_suffix("-runs.csv").unwrap_or(name);
    if plan.security == Security::Plaintext {
        plan.security = Security::of_stamp(stamp);
    }
    let out_dir = cli
        .out
        .clone()
        .or_else(|| csv.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let header = vec![format!(
        "Redrawn from {name} (see that race's report for its conditions)"
    )];
    // The file name says the security.
    let title = format!("kiel vs rdkafka vs Java: medians, redrawn from {name}");
    let path = write_report(&plan, &runs, &header, &out_dir, stamp, &title, &cli.font)?;
    eprintln!("race: report in {}", path.display());
    Ok(())
}

async fn run(cli: Cli) -> Result<(), String> {
    let plan = Plan::from_cli(&cli)?;
    let started = machine::now_secs();
    let mut stamp = match plan.security {
        Security::Plaintext => machine::stamp(started),
        secured => format!("{}-{secured}", machine::stamp(started)),
    };
    if let Some(ms) = plan.transaction_duration_ms {
        stamp.push_str(&format!("-transactions-{ms}ms"));
    }
    if let Some(n) = plan.transaction_records {
        stamp.push_str(&format!("-transactions-of-{n}"));
    }
    let work_dir = std::env::temp_dir().join("kiel-race").join(&stamp);
    std::fs::create_dir_all(&work_dir)
        .map_err(|e| format!("creating {}: {e}", work_dir.display()))?;
    eprintln!("race: client output goes to {}", work_dir.display());
    let out_dir = match (&cli.out, cli.quick) {
        (Some(dir), _) => dir.clone(),
        (None, true) => work_dir.clone(),
        (None, false) => crate_dir().join("results"),
    };
    let mut programs = programs(&cli, &work_dir)?;
    let mut header = vec![format!(
        "Started {}, load average {}",
        machine::human_time(started),
        machine::load_average().unwrap_or_else(|| "unknown".to_owned())
    )];
    header.extend(machine::describe(&programs.java, &repo_root()));
    let mut race = Race {
        plan: &plan,
        programs: programs.clone(),
        work_dir: work_dir.clone(),
        done: 0,
        topic_seq: 0,
        runs: Vec::new(),
    };
    for &brokers in &plan.brokers {
        let (cluster, replication_factor, min_insync) = match cluster_for(&cli, brokers).await {
            Ok(found) => found,
            Err(e) => {
                eprintln!("race: {e}; skipping {brokers}");
                continue;
            }
        };
        match cluster.kafka_libs_dir().await {
            Ok(dir) => programs.kafka_libs = dir,
            Err(e) => eprintln!("race: no Kafka jars for the Java client: {e}"),
        }
        if plan.transaction_records.is_some() && plan.clients.contains(&Client::Java) {
            match compile_race_perf(&programs, &work_dir) {
                Ok(classes) => programs.race_perf_classes = Some(classes),
                Err(e) => eprintln!("race: RacePerf.java: {e}; the Java runs will fail"),
            }
        }
        let version = cluster
            .version()
            .cloned()
            .or_else(|| KafkaVersion::from_env().ok());
        programs.java_property_option = java_property_option(version.as_ref());
        programs.java_config_option = java_config_option(version.as_ref());
        let (bootstrap, security) =
            match client_access(&cluster, plan.security, cli.wrong_password, &work_dir) {
                Ok(access) => access,
                Err(e) => {
                    eprintln!("race: {e}; skipping {brokers}");
                    continue;
                }
            };
        if plan.security.is_secured() {
            eprintln!(
                "race: clients connect to {bootstrap} ({}{})",
                plan.security.describe(),
                if cli.wrong_password {
                    ", with a WRONG password"
                } else {
                    ""
                }
            );
        }
        if let Some(version) = cluster.version() {
            let line = format!("Apache Kafka {version} brokers from kiel-testcontainers");
            if !header.contains(&line) {
                header.push(line);
            }
        }
        race.programs = programs.clone();
        let target = Target {
            cluster: &cluster,
            replication_factor,
            min_insync,
            bootstrap,
            security,
        };
        if !cli.no_warmup {
            race.warm_up(&target, brokers).await;
        }
        for &record_size in &plan.sizes {
            for &codec in &plan.codecs {
                let workload = Workload {
                    brokers,
                    record_size,
                    codec,
                };
                race.workload(&target, workload).await;
            }
        }
        eprintln!("race: stopping {brokers}");
        drop(cluster);
    }
    let finished = machine::now_secs();
    header.push(format!(
        "Finished {} ({} min), load average {}",
        machine::human_time(finished),
        finished.saturating_sub(started) / 60,
        machine::load_average().unwrap_or_else(|| "unknown".to_owned())
    ));
    let csv_path = out_dir.join(format!("{stamp}-runs.csv"));
    std::fs::create_dir_all(&out_dir)
        .and_then(|()| std::fs::write(&csv_path, runs_csv(&race.runs)))
        .map_err(|e| format!("writing {}: {e}", csv_path.display()))?;
    let title = format!(
        "kiel vs rdkafka vs Java{}: medians of {} round(s), {}",
        plan.security.chart_suffix(),
        plan.runs,
        machine::human_time(started)
    );
    let report_path = write_report(
        &plan, &race.runs, &header, &out_dir, &stamp, &title, &cli.font,
    )?;
    eprintln!(
        "race: report in {} (every run: {})",
        report_path.display(),
        csv_path.display()
    );
    if race.runs.iter().any(|r| r.result.is_err()) {
        return Err("some runs failed (see the table's runs column)".to_owned());
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.replot {
        Some(csv) => replot(&cli, csv),
        None => run(cli).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("race: {e}");
            ExitCode::FAILURE
        }
    }
}
