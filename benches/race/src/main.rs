//! `race`: runs kiel and its peers (rdkafka's FutureProducer and BaseProducer, Kafka's Java
//! producer, kacrab, krafka, confluent-kafka, franz-go), each as its own process, against
//! the same brokers with the same settings, in alternating rounds, and reports the medians
//! as a markdown table (and a chart).
//!
//! ```sh
//! cargo run --release --manifest-path benches/race/Cargo.toml -- --runs 3
//! cargo run --release --manifest-path benches/race/Cargo.toml -- --quick
//! cargo run --release --manifest-path benches/race/Cargo.toml -- --quick --workloads a,c
//! ```
//!
//! The race runs the workloads of `--workloads` (default all: the classic matrix and `a`
//! to `f`, see [`kiel_race::workload`]). For every broker count a kiel-testcontainers
//! cluster is started once (or `--bootstrap` is used); for every workload variant, a
//! throughput round (as fast as possible) and then a latency round (at half the slowest
//! client's median rate) are run `--runs` times, the client order rotated each time, each
//! run on a fresh topic with the variant's partitions.
//!
//! A client whose program cannot be built, that refuses a workload (exit 2 or 3) or that
//! cannot run it (the peers' programs over SASL_SSL or with transactions) gets a "not run"
//! row with the reason; the race goes on.
//!
//! `--security sasl-ssl-scram512` starts secured clusters and has every client connect
//! through their SASL_SSL listener with a SCRAM-SHA-512 login ([`kiel_race::security`]).
//!
//! # References
//! - kiel issue 6 (the race)
//! - Kafka `tools/.../ProducerPerformance.java`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::Parser;
use kiel_race::cargo_build;
use kiel_race::chart;
use kiel_race::clients::{
    command_line, unsupported, Client, JavaTool, Programs, RunSpec, LOG4J2_CONFIG, LOG4J_CONFIG,
};
use kiel_race::machine;
use kiel_race::measure::run_measured;
use kiel_race::report::{
    is_not_run, medians, parse_runs_csv, runs_csv, RunFigures, RunRecord, NOT_RUN,
};
use kiel_race::security::{ClientSecurity, Security};
use kiel_race::settings::{Batching, Codec};
use kiel_race::summary::PerfSummary;
use kiel_race::table::{kiel_losses, render_table, thousands};
use kiel_race::workload::{
    by_brokers, latency_rate, latency_records, parse_workloads, rotated, variant_records, variants,
    Brokers, Matrix, Phase, Workload, WorkloadName, DEFAULT_PARTITIONS,
};
use kiel_testcontainers::{ClientAuth, KafkaCluster, KafkaVersion, Listener, SaslMechanism};

/// `--records` when not given, for a full race: the classic 100 B count on one broker.
const DEFAULT_RECORDS: u64 = 1_000_000;

/// `--records` of `--quick`.
const QUICK_RECORDS: u64 = 20_000;

/// The race's command line.
#[derive(Debug, Parser)]
#[command(
    name = "race",
    about = "kiel against rdkafka, Kafka's Java producer, kacrab, krafka, confluent-kafka and franz-go"
)]
struct Cli {
    /// Workloads, comma-separated: classic (the brokers × sizes × codecs matrix), a
    /// (kacrab's published workload: 10 B values, 16 partitions), b (10 KiB values, none and
    /// zstd), c (64 partitions, Zipf keys over 10,000), d (acks=1 without idempotence), e
    /// (each client's own batching defaults), f (a and c on 3 brokers), or all. Default all
    /// (--quick: classic).
    #[arg(long, value_name = "NAME,...")]
    workloads: Option<String>,

    /// Records per throughput run of 100 B values on one broker; every variant scales from
    /// it: values up to 10 B run 2.5 times as many (so 2000000 runs workload a at kacrab's
    /// full 5,000,000), values above 300 B proportionally fewer (1 KiB: 29%, 10 KiB: 2.9%),
    /// and 3-broker variants a third. Default 1000000 (--quick: 20000).
    #[arg(long, value_name = "N")]
    records: Option<u64>,

    /// Rounds per phase; the client order rotates each round. Default 3 (--quick: 1).
    #[arg(long, value_name = "N")]
    runs: Option<usize>,

    /// The classic matrix's broker counts. Default 1,3 (--quick: 1).
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    brokers: Option<Vec<usize>>,

    /// The classic matrix's record sizes in bytes. Default 100,1024 (--quick: 100).
    #[arg(long, value_delimiter = ',', value_name = "BYTES,...")]
    sizes: Option<Vec<u32>>,

    /// The classic matrix's codecs: none, lz4, zstd. Default none,lz4 (--quick: none).
    #[arg(long, value_delimiter = ',', value_name = "CODEC,...")]
    codecs: Option<Vec<Codec>>,

    /// Clients: kiel, rdkafka-future, rdkafka-base, java, kacrab, krafka, confluent-kafka,
    /// franz-go. Default all.
    #[arg(long, value_delimiter = ',', value_name = "CLIENT,...")]
    clients: Option<Vec<Client>>,

    /// A smoke test: 20000 records, 1 round, short latency runs, and unless --workloads
    /// says otherwise the classic matrix on 1 broker, 100 B, no compression (other flags
    /// still override); results in the work folder only.
    #[arg(long)]
    quick: bool,

    /// How the clients connect: plaintext, or sasl-ssl-scram512 (secured clusters; every
    /// client through the SASL_SSL listener, trusting the cluster's CA, logged in with
    /// SCRAM-SHA-512; kacrab, krafka, confluent-kafka and franz-go are then not run).
    #[arg(long, default_value = "plaintext", value_name = "SECURITY")]
    security: Security,

    /// Transactional runs: every client sends in transactions committed every MS
    /// milliseconds (ProducerPerformance's --transaction-duration-ms, each run under a
    /// transactional id of its own). The peers' programs are not run.
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    transaction_duration_ms: Option<u64>,

    /// Transactional runs: every client commits each transaction once it holds N records
    /// (kiel perf's and rdkafka-perf's --transaction-records; Java through RacePerf). The
    /// peers' programs are not run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    transaction_records: Option<u64>,

    /// A check, not a race: with --security sasl-ssl-scram512, every client logs in with a
    /// wrong password, so every run should fail. kiel exits at once; librdkafka retries the
    /// login until message.timeout.ms (add --rdkafka-property message.timeout.ms=15000) and
    /// Java until --run-timeout kills it (add --run-timeout 60).
    #[arg(long)]
    wrong_password: bool,

    /// Use these brokers instead of starting clusters (--brokers is then ignored, and
    /// workload f, which needs 3 brokers of the race's own, is not run).
    #[arg(long, value_name = "HOST:PORT[,...]")]
    bootstrap: Option<String>,

    /// Replication factor of the topics on --bootstrap brokers.
    #[arg(long, default_value_t = 1)]
    replication_factor: u32,

    /// min.insync.replicas of the topics on --bootstrap brokers.
    #[arg(long, default_value_t = 1)]
    min_insync_replicas: u32,

    /// Partitions of the topics of workloads that do not fix their own (classic, b, d, e;
    /// a has 16, c 64).
    #[arg(long, default_value_t = DEFAULT_PARTITIONS)]
    partitions: u32,

    /// linger.ms for every client (all workloads but e).
    #[arg(long, default_value_t = Batching::RACE.linger_ms)]
    linger_ms: u32,

    /// batch.size for every client (all workloads but e).
    #[arg(long, default_value_t = Batching::RACE.batch_size)]
    batch_size: u32,

    /// Record buffer of every client, bytes (buffer.memory; librdkafka:
    /// queue.buffering.max.kbytes; all workloads but e).
    #[arg(long, default_value_t = Batching::RACE.buffer_bytes)]
    buffer_memory: u64,

    /// How long a latency run should last, seconds. Default 3 (--quick: 2).
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

    /// The kacrab-perf binary to use instead of building it.
    #[arg(long, value_name = "PATH")]
    kacrab_bin: Option<PathBuf>,

    /// The krafka-perf binary to use instead of building it.
    #[arg(long, value_name = "PATH")]
    krafka_bin: Option<PathBuf>,

    /// The confluent-perf binary to use instead of building it.
    #[arg(long, value_name = "PATH")]
    confluent_bin: Option<PathBuf>,

    /// The franz-perf binary to use instead of building it (`go build` in go/franz-perf).
    #[arg(long, value_name = "PATH")]
    franz_bin: Option<PathBuf>,

    /// What runs the Java client: race-perf (java/RacePerf.java: ProducerPerformance's
    /// workload, fetching the topic's metadata before its clock starts) or
    /// producer-performance (Kafka's own; RacePerf still runs keyed workloads).
    #[arg(long, default_value = "race-perf", value_name = "TOOL")]
    java_tool: JavaTool,

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
    /// `--records`: the reference count every variant's count scales from.
    records: u64,
    runs: usize,
    /// The workloads asked for.
    workloads: Vec<WorkloadName>,
    /// Their variants, in the race's order.
    variants: Vec<Workload>,
    /// Workloads not run, with the reason.
    skipped: Vec<String>,
    clients: Vec<Client>,
    latency_seconds: f64,
    run_timeout: Duration,
    batching: Batching,
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
        let workloads = match &cli.workloads {
            Some(text) => parse_workloads(text)?,
            None if quick => vec![WorkloadName::Classic],
            None => WorkloadName::ALL.to_vec(),
        };
        let matrix = Matrix {
            brokers,
            sizes: cli
                .sizes
                .clone()
                .unwrap_or_else(|| pick(quick, vec![100], vec![100, 1024])),
            codecs: cli
                .codecs
                .clone()
                .unwrap_or_else(|| pick(quick, vec![Codec::None], vec![Codec::None, Codec::Lz4])),
            partitions: cli.partitions,
        };
        if matrix.brokers.contains(&Brokers::Local(0)) {
            return Err("--brokers: a cluster needs at least 1 node".to_owned());
        }
        if matrix.sizes.contains(&0) {
            return Err("--sizes: records need at least 1 byte".to_owned());
        }
        if workloads.contains(&WorkloadName::Classic)
            && (matrix.brokers.is_empty() || matrix.sizes.is_empty() || matrix.codecs.is_empty())
        {
            return Err("--brokers, --sizes and --codecs must not be empty".to_owned());
        }
        let (variants, skipped) = variants(&workloads, &matrix);
        let plan = Self {
            records: cli
                .records
                .unwrap_or(pick(quick, QUICK_RECORDS, DEFAULT_RECORDS)),
            runs: cli.runs.unwrap_or(pick(quick, 1, 3)),
            workloads,
            variants,
            skipped,
            clients: cli.clients.clone().unwrap_or_else(|| Client::ALL.to_vec()),
            latency_seconds: cli.latency_seconds.unwrap_or(pick(quick, 2.0, 3.0)),
            run_timeout: Duration::from_secs(cli.run_timeout),
            batching: Batching {
                linger_ms: cli.linger_ms,
                batch_size: cli.batch_size,
                buffer_bytes: cli.buffer_memory,
            },
            security: cli.security,
            transaction_duration_ms: cli.transaction_duration_ms,
            transaction_records: cli.transaction_records,
        };
        if plan.runs == 0 || plan.records == 0 || cli.partitions == 0 {
            return Err("--runs, --records and --partitions must be at least 1".to_owned());
        }
        if plan.clients.is_empty() {
            return Err("--clients must not be empty".to_owned());
        }
        if plan.variants.is_empty() {
            return Err(format!("nothing to run: {}", plan.skipped.join("; ")));
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
        if !(plan.latency_seconds.is_finite() && plan.latency_seconds > 0.0) {
            return Err("--latency-seconds must be positive".to_owned());
        }
        Ok(plan)
    }

    fn total_runs(&self) -> usize {
        self.variants.len() * 2 * self.runs * self.clients.len()
    }

    /// Records in a throughput run of `workload`.
    fn records_of(&self, workload: &Workload) -> u64 {
        workload.throughput_records(self.records)
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

/// The first line of `text` that is not empty, trimmed.
fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("no message")
}

/// Everything a run needs besides its own parameters.
struct Race<'a> {
    plan: &'a Plan,
    programs: Programs,
    /// Clients whose program could not be built or found, with the reason.
    unavailable: BTreeMap<Client, String>,
    /// Clients that refused a workload (exit 2 or 3), with their message: not run again in
    /// that workload.
    refused: BTreeMap<(Workload, Client), String>,
    work_dir: PathBuf,
    done: usize,
    topic_seq: usize,
    runs: Vec<RunRecord>,
}

impl Race<'_> {
    /// The run spec of `client`'s run of `workload` on `topic`.
    fn spec(
        &self,
        target: &Target<'_>,
        workload: Workload,
        topic: String,
        records: u64,
        throughput: f64,
    ) -> RunSpec {
        RunSpec {
            bootstrap: target.bootstrap.clone(),
            topic,
            records,
            record_size: workload.record_size,
            throughput,
            partitions: workload.partitions,
            keys: workload.keys,
            settings: workload.settings(self.plan.batching),
            security: target.security.clone(),
            transaction_duration_ms: self.plan.transaction_duration_ms,
            transaction_records: self.plan.transaction_records,
        }
    }

    /// Why `client` is not run on `workload` (its program is missing, it refused the
    /// workload before, or cannot run it), if it is not.
    fn not_run_reason(&self, client: Client, workload: Workload, spec: &RunSpec) -> Option<String> {
        if let Some(reason) = self.unavailable.get(&client) {
            return Some(reason.clone());
        }
        if let Some(reason) = self.refused.get(&(workload, client)) {
            return Some(reason.clone());
        }
        unsupported(client, &self.programs, spec)
    }

    /// Runs `client` once on a fresh topic and returns its figures (an error beginning
    /// with [`NOT_RUN`] when the run was not made, or the client refused the workload).
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
        let spec = self.spec(target, workload, topic.clone(), records, throughput);
        if let Some(reason) = self.not_run_reason(client, workload, &spec) {
            return Err(format!("{NOT_RUN}{reason}"));
        }
        let min_insync = target.min_insync.to_string();
        target
            .cluster
            .create_topic(
                &topic,
                workload.partitions,
                target.replication_factor,
                &[("min.insync.replicas", min_insync.as_str())],
            )
            .await
            .map_err(|e| format!("creating topic {topic}: {e}"))?;
        let (program, args) = command_line(client, &self.programs, &spec);
        let mut command = Command::new(&program);
        command.args(&args);
        let stdout = self.work_dir.join(format!("{topic}.out"));
        let stderr = self.work_dir.join(format!("{topic}.err"));
        std::fs::write(
            self.work_dir.join(format!("{topic}.cmd")),
            format!("{} {}\n", program.display(), args.join(" ")),
        )
        .map_err(|e| format!("writing the command line: {e}"))?;
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
            let errors = std::fs::read_to_string(&stderr).unwrap_or_default();
            if let Some(code @ (2 | 3)) = measured.exit_code {
                // A property it does not know, or a workload it cannot do: not run, here
                // and in the rest of this workload.
                let reason = format!("exit {code}: {}", first_line(&errors));
                self.refused.insert((workload, client), reason.clone());
                // The path on a line of its own: the report shows the first line, the CSV
                // all of it.
                return Err(format!("{NOT_RUN}{reason}\n(see {})", stderr.display()));
            }
            let tail: Vec<&str> = errors.lines().rev().take(3).collect();
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
            // No topic made in this phase (every client not run): nothing to delete.
            Ok(_) if !self.made_topics(workload, phase_name) => {}
            Ok(out) => eprintln!(
                "race: deleting topics {pattern} failed ({}; see {})",
                out.status,
                out.stderr.display()
            ),
            Err(e) => eprintln!("race: deleting topics {pattern} failed: {e}"),
        }
    }

    /// Whether any run of `workload`'s phase was made (so it made a topic).
    fn made_topics(&self, workload: Workload, phase_name: &str) -> bool {
        phase_name == "warmup"
            || self.runs.iter().any(|r| {
                r.workload == workload
                    && r.phase.name() == phase_name
                    && !r.result.as_ref().err().is_some_and(|e| is_not_run(e))
            })
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
                flush_page_cache().await;
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
                    Err(e) if is_not_run(e) => eprintln!("{e}"),
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
        let records = self.plan.records_of(&workload);
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

    /// An unmeasured run of kiel (or the first client that can run) that warms the
    /// brokers' JIT.
    async fn warm_up(&mut self, target: &Target<'_>, brokers: Brokers) {
        let workload = Workload::classic(brokers, 100, Codec::None, DEFAULT_PARTITIONS);
        let records = variant_records(self.plan.records, 100, Brokers::Local(1)) / 2;
        let Some(client) = [Client::Kiel]
            .into_iter()
            .chain(self.plan.clients.iter().copied())
            .find(|c| self.plan.clients.contains(c) && !self.unavailable.contains_key(c))
        else {
            eprintln!("race: no client to warm {brokers} up with");
            return;
        };
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

/// Which programs the race runs and where they come from.
struct Built {
    programs: Programs,
    /// Clients whose program is missing, with the reason.
    unavailable: BTreeMap<Client, String>,
    /// One line per program for the report: its path and who built it.
    origins: Vec<String>,
}

/// `git rev-parse --short HEAD` of the repository, with a note when the working tree has
/// uncommitted changes to tracked files outside `benches/`.
fn repository_commit() -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(repo_root())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "--short", "HEAD"])?;
    // Changes to the race itself (benches/) do not change kiel.
    let dirty = git(&[
        "status",
        "--porcelain",
        "--untracked-files=no",
        "--",
        ".",
        ":(exclude)benches",
    ])
    .is_some_and(|s| !s.is_empty());
    Some(if dirty {
        format!("{commit} with uncommitted changes")
    } else {
        commit
    })
}

/// A program given on the command line, or built by `build`; `None` when no client of
/// the race needs it. The origin line goes into `origins`.
fn program(
    needed: bool,
    given: Option<&PathBuf>,
    option: &str,
    name: &str,
    origins: &mut Vec<String>,
    build: impl FnOnce() -> Result<PathBuf, String>,
) -> Option<Result<PathBuf, String>> {
    if !needed {
        return None;
    }
    let found = match given {
        Some(path) if path.is_file() => {
            origins.push(format!(
                "{name}: `{}` (given with {option}; built outside the race)",
                path.display()
            ));
            Ok(path.clone())
        }
        Some(path) => Err(format!("{option} {}: no such file", path.display())),
        None => {
            eprintln!("race: building {name}");
            build().inspect(|path| {
                origins.push(format!("{name}: `{}` (built by the race)", path.display()));
            })
        }
    };
    if let Err(e) = &found {
        eprintln!("race: no {name}: {e}");
        origins.push(format!("{name}: not available ({e})"));
    }
    Some(found)
}

/// Builds (or takes) the clients' programs. A program that cannot be had makes its clients
/// "not run", with the reason.
fn programs(cli: &Cli, plan: &Plan, work_dir: &Path) -> Result<Built, String> {
    let wants = |client: Client| plan.clients.contains(&client);
    let mut origins = Vec::new();
    let mut unavailable = BTreeMap::new();
    let race_manifest = crate_dir().join("Cargo.toml");
    let mut take = |clients: &[Client], found: Option<Result<PathBuf, String>>| -> PathBuf {
        match found {
            Some(Ok(path)) => path,
            Some(Err(reason)) => {
                for &client in clients {
                    unavailable.insert(client, reason.clone());
                }
                PathBuf::new()
            }
            None => PathBuf::new(),
        }
    };
    let kiel_found = program(
        wants(Client::Kiel),
        cli.kiel_bin.as_ref(),
        "--kiel-bin",
        "kiel",
        &mut origins,
        || {
            cargo_build::build(
                &repo_root().join("Cargo.toml"),
                &["-p", "kiel-cli", "--bin", "kiel"],
                "kiel",
            )
        },
    );
    // Which kiel ran: the repository's commit only when the race built it.
    if cli.kiel_bin.is_none() {
        if let (Some(Ok(_)), Some(line)) = (&kiel_found, origins.last_mut()) {
            let commit = repository_commit().unwrap_or_else(|| "an unknown commit".to_owned());
            *line = line.replace(
                "(built by the race)",
                &format!("(built by the race from kiel commit {commit})"),
            );
        }
    }
    let kiel = take(&[Client::Kiel], kiel_found);
    let cargo_bin = |bin: &'static str| {
        let manifest = race_manifest.clone();
        move || cargo_build::build(&manifest, &["--bin", bin], bin)
    };
    let found = program(
        wants(Client::RdkafkaFuture) || wants(Client::RdkafkaBase),
        cli.rdkafka_bin.as_ref(),
        "--rdkafka-bin",
        "rdkafka-perf",
        &mut origins,
        cargo_bin("rdkafka-perf"),
    );
    let rdkafka_perf = take(&[Client::RdkafkaFuture, Client::RdkafkaBase], found);
    let mut peer = |client: Client, given: Option<&PathBuf>, option: &str| {
        let name = client.program_name();
        if client == Client::FranzGo {
            let output = cargo_build::target_dir(&crate_dir()).join("franz-perf");
            program(wants(client), given, option, name, &mut origins, || {
                cargo_build::go_build(&crate_dir().join("go").join("franz-perf"), &output)
            })
        } else {
            program(
                wants(client),
                given,
                option,
                name,
                &mut origins,
                cargo_bin(name),
            )
        }
    };
    let found = peer(Client::Kacrab, cli.kacrab_bin.as_ref(), "--kacrab-bin");
    let kacrab_perf = take(&[Client::Kacrab], found);
    let found = peer(Client::Krafka, cli.krafka_bin.as_ref(), "--krafka-bin");
    let krafka_perf = take(&[Client::Krafka], found);
    let found = peer(
        Client::ConfluentKafka,
        cli.confluent_bin.as_ref(),
        "--confluent-bin",
    );
    let confluent_perf = take(&[Client::ConfluentKafka], found);
    let found = peer(Client::FranzGo, cli.franz_bin.as_ref(), "--franz-bin");
    let franz_perf = take(&[Client::FranzGo], found);
    let log4j2_config = work_dir.join("java-log4j2.properties");
    let log4j_config = work_dir.join("java-log4j.properties");
    std::fs::write(&log4j2_config, LOG4J2_CONFIG)
        .and_then(|()| std::fs::write(&log4j_config, LOG4J_CONFIG))
        .map_err(|e| format!("writing the Java logging configuration: {e}"))?;
    Ok(Built {
        programs: Programs {
            kiel,
            rdkafka_perf,
            kacrab_perf,
            krafka_perf,
            confluent_perf,
            franz_perf,
            java: java_program(),
            // Filled in once a cluster (and so the jar folder) is known.
            kafka_libs: PathBuf::new(),
            race_perf_classes: None,
            java_tool: cli.java_tool,
            log4j2_config,
            log4j_config,
            java_property_option: "--command-property",
            java_config_option: "--command-config",
            kiel_extra: cli.kiel_property.clone(),
            rdkafka_extra: cli.rdkafka_property.clone(),
            java_extra: cli.java_property.clone(),
        },
        unavailable,
        origins,
    })
}

/// What the report says about the Java client's program and about metadata before the
/// clock.
fn java_and_metadata_lines(plan: &Plan, java_tool: JavaTool) -> Vec<String> {
    let mut lines = Vec::new();
    if plan.clients.contains(&Client::Java) {
        lines.push(match java_tool {
            JavaTool::RacePerf => "Java: Kafka's Java producer driven by the race's java/RacePerf.java for every run: ProducerPerformance's workload (fresh random letters per record), options, latency sampling and total line, plus a metadata fetch before the clock, Zipf keys and transactions of N records".to_owned(),
            JavaTool::ProducerPerformance => "Java: Kafka's ProducerPerformance as shipped (--java-tool producer-performance), except keyed runs and transactions of N records, which need the race's java/RacePerf.java".to_owned(),
        });
    }
    lines.push(match java_tool {
        JavaTool::RacePerf => "Every client fetches the topic's metadata before its clock starts: kiel perf, rdkafka-perf and the peers' programs by the race's contract, Java (RacePerf) with partitionsFor; so no client's time or first latencies include that wait".to_owned(),
        JavaTool::ProducerPerformance => "The topic's metadata: kiel perf, rdkafka-perf and the peers' programs fetch it before their clock starts (the race's contract), RacePerf too; Java's ProducerPerformance does not: its first send waits for it inside its measured time and in its first record's latency".to_owned(),
    });
    lines.push("Before every run the page cache is flushed (`sync`), so no run shares the disk with the write-back of earlier runs' logs".to_owned());
    lines
}

/// Writes the page cache's dirty pages out (`sync`) before a run, outside its clock. The
/// brokers' logs of earlier runs (up to 300 MB each) are otherwise written back by the kernel
/// during later runs: in the race of 2026-12-07 22:25 a client's 1 KiB throughput went from
/// 438,841 records/s in its round's first slot to 171,693 in the last, and every client's
/// rounds spread alike.
async fn flush_page_cache() {
    let synced = tokio::process::Command::new("sync").status().await;
    if !matches!(&synced, Ok(status) if status.success()) {
        eprintln!("race: sync before the run failed ({synced:?}); runs may overlap writeback");
    }
}

/// One line per workload variant: its throughput runs' record count, with the note that
/// workload `a` is scaled down from kacrab's published 5,000,000 when it is.
fn record_count_lines(runs: &[RunRecord]) -> Vec<String> {
    let mut seen: Vec<Workload> = Vec::new();
    let mut lines = Vec::new();
    for run in runs.iter().filter(|r| r.phase == Phase::Throughput) {
        if seen.contains(&run.workload) {
            continue;
        }
        seen.push(run.workload);
        let mut line = format!(
            "{}: {} records per throughput run",
            run.workload.label(),
            thousands(run.records as f64)
        );
        if run.workload.name == WorkloadName::A && run.records < 5_000_000 {
            line.push_str(
                " (scaled down from kacrab's published 5,000,000 to fit the race's hour; `--records 2000000` runs it at full size)",
            );
        }
        lines.push(line);
    }
    lines
}

/// The report: conditions, settings, a section per workload (heading and median table), the
/// chart, kiel's losses, and the runs not made or failed.
fn render_report(
    plan: &Plan,
    java_tool: JavaTool,
    runs: &[RunRecord],
    header: &[String],
    chart: Option<&str>,
) -> String {
    let rows = medians(runs);
    let rounds = runs.iter().map(|r| r.round + 1).max().unwrap_or(0);
    let mut out = format!(
        "# The race: kiel against its peers{}\n\n",
        plan.security.title_suffix()
    );
    for line in header {
        out.push_str(&format!("- {line}\n"));
    }
    let workloads: Vec<&str> = plan.workloads.iter().map(|w| w.name()).collect();
    out.push_str(&format!(
        "- Workloads: {} ({} variants); shared settings for every client (all workloads but `e`): {}\n",
        workloads.join(", "),
        plan.variants.len(),
        plan.batching_description()
    ));
    for line in record_count_lines(runs) {
        out.push_str(&format!("  - {line}\n"));
    }
    for skipped in &plan.skipped {
        out.push_str(&format!("- {skipped}\n"));
    }
    out.push_str(&format!(
        "- Latency runs: about {} s each, at half the slowest client's median rate in the throughput runs of the same variant; every topic fresh per run\n",
        plan.latency_seconds
    ));
    for line in java_and_metadata_lines(plan, java_tool) {
        out.push_str(&format!("- {line}\n"));
    }
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
            "- Transactions of {n} records: every client sends in transactions (its own transactional.id per run), committing each once it holds {n} records (kiel perf and rdkafka-perf --transaction-records; Java: the race's RacePerf.java)\n"
        ));
    }
    out.push_str(&format!(
        "- {rounds} round(s) per phase, client order rotated each round; medians of each figure over the rounds\n",
    ));
    // A section per workload: what its variants share as the heading, the table below.
    let mut sections: Vec<(Workload, Vec<_>)> = Vec::new();
    for row in &rows {
        match sections
            .iter_mut()
            .find(|(w, _)| w.section() == row.workload.section())
        {
            Some((_, list)) => list.push(row.clone()),
            None => sections.push((row.workload, vec![row.clone()])),
        }
    }
    for (workload, section_rows) in &sections {
        out.push_str(&format!(
            "\n## {}\n\n",
            workload.section_title(plan.batching)
        ));
        out.push_str(&render_table(section_rows));
    }
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
    let problems = problem_lines(runs);
    if !problems.is_empty() {
        out.push_str("\n## Runs not made or failed\n\n");
        for problem in problems {
            out.push_str(&format!("- {problem}\n"));
        }
    }
    out
}

/// The report's list of runs not made (one line per client and reason, naming the
/// variants, or "every variant") and of runs that failed (one line each).
fn problem_lines(runs: &[RunRecord]) -> Vec<String> {
    let mut variants: Vec<Workload> = Vec::new();
    for run in runs {
        if !variants.contains(&run.workload) {
            variants.push(run.workload);
        }
    }
    // (client, reason) -> the variants it was not run in.
    let mut not_run: Vec<((Client, String), Vec<Workload>)> = Vec::new();
    let mut failed = Vec::new();
    for run in runs {
        let Err(error) = &run.result else { continue };
        let first = error.lines().next().unwrap_or_default().to_owned();
        if is_not_run(error) {
            let key = (run.client, first);
            match not_run.iter_mut().find(|(k, _)| *k == key) {
                Some((_, list)) => {
                    if !list.contains(&run.workload) {
                        list.push(run.workload);
                    }
                }
                None => not_run.push((key, vec![run.workload])),
            }
        } else {
            failed.push(format!(
                "{}, {}, round {}, {}: {first}",
                run.workload.label(),
                run.phase.name(),
                run.round + 1,
                run.client
            ));
        }
    }
    let mut lines: Vec<String> = not_run
        .into_iter()
        .map(|((client, reason), list)| {
            let reason = reason.strip_prefix(NOT_RUN).unwrap_or(&reason);
            let where_ = if list.len() == variants.len() && variants.len() > 1 {
                "every variant".to_owned()
            } else {
                list.iter()
                    .map(Workload::label)
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            format!("{client} not run ({where_}): {reason}")
        })
        .collect();
    lines.extend(failed);
    lines
}

impl Plan {
    /// The shared batching settings, for the report.
    fn batching_description(&self) -> String {
        let b = self.batching;
        format!(
            "linger.ms={}, batch.size={} ({} KiB), buffer {} MiB (librdkafka: queue.buffering.max.kbytes, and queue.buffering.max.messages raised to 10,000,000)",
            b.linger_ms,
            b.batch_size,
            b.batch_size / 1024,
            b.buffer_bytes / (1024 * 1024)
        )
    }
}

/// Writes the chart `<stamp>.png` and the report `<stamp>.md` into `out_dir` and prints
/// the report. Returns the report's path.
#[allow(clippy::too_many_arguments)]
fn write_report(
    plan: &Plan,
    java_tool: JavaTool,
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
    let report = render_report(plan, java_tool, runs, header, chart);
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
    // The workloads and variants are the CSV's, not the command line's.
    plan.variants = Vec::new();
    plan.workloads = Vec::new();
    plan.skipped = Vec::new();
    for run in &runs {
        if !plan.variants.contains(&run.workload) {
            plan.variants.push(run.workload);
        }
        if !plan.workloads.contains(&run.workload.name) {
            plan.workloads.push(run.workload.name);
        }
    }
    plan.clients = Client::ALL
        .into_iter()
        .filter(|c| runs.iter().any(|r| r.client == *c))
        .collect();
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
        "Redrawn from {name} (see that race's report for its conditions; settings and latency-run lengths below are this command line's)"
    )];
    // The file name says the security.
    let title = format!("kiel vs its peers: medians, redrawn from {name}");
    let path = write_report(
        &plan,
        cli.java_tool,
        &runs,
        &header,
        &out_dir,
        stamp,
        &title,
        &cli.font,
    )?;
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
    for skipped in &plan.skipped {
        eprintln!("race: {skipped}");
    }
    for workload in &plan.variants {
        eprintln!(
            "race: {}: {} records per throughput run",
            workload.label(),
            thousands(plan.records_of(workload) as f64)
        );
    }
    let out_dir = match (&cli.out, cli.quick) {
        (Some(dir), _) => dir.clone(),
        (None, true) => work_dir.clone(),
        (None, false) => crate_dir().join("results"),
    };
    let built = programs(&cli, &plan, &work_dir)?;
    let mut programs = built.programs;
    let mut header = vec![format!(
        "Started {}, load average {}",
        machine::human_time(started),
        machine::load_average().unwrap_or_else(|| "unknown".to_owned())
    )];
    // The repository's commit says which kiel ran only when the race built it: the
    // programs' lines below say that.
    header.extend(
        machine::describe(&programs.java, &repo_root())
            .into_iter()
            .filter(|line| !line.starts_with("kiel commit ")),
    );
    header.extend(built.origins.iter().cloned());
    let mut race = Race {
        plan: &plan,
        programs: programs.clone(),
        unavailable: built.unavailable,
        refused: BTreeMap::new(),
        work_dir: work_dir.clone(),
        done: 0,
        topic_seq: 0,
        runs: Vec::new(),
    };
    let mut compiled_for: Option<PathBuf> = None;
    for (brokers, workloads) in by_brokers(&plan.variants) {
        let (cluster, replication_factor, min_insync) = match cluster_for(&cli, brokers).await {
            Ok(found) => found,
            Err(e) => {
                eprintln!("race: {e}; skipping {brokers}");
                header.push(format!("{brokers}: not run: {e}"));
                continue;
            }
        };
        match cluster.kafka_libs_dir().await {
            Ok(dir) => programs.kafka_libs = dir,
            Err(e) => eprintln!("race: no Kafka jars for the Java client: {e}"),
        }
        if plan.clients.contains(&Client::Java)
            && compiled_for.as_ref() != Some(&programs.kafka_libs)
        {
            match compile_race_perf(&programs, &work_dir) {
                Ok(classes) => {
                    programs.race_perf_classes = Some(classes);
                    compiled_for = Some(programs.kafka_libs.clone());
                }
                Err(e) => {
                    eprintln!("race: RacePerf.java: {e}; the Java runs that need it are not run");
                    programs.race_perf_classes = None;
                }
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
        for workload in workloads {
            race.workload(&target, workload).await;
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
        "kiel vs its peers{}: medians of {} round(s), {}",
        plan.security.chart_suffix(),
        plan.runs,
        machine::human_time(started)
    );
    let report_path = write_report(
        &plan,
        cli.java_tool,
        &race.runs,
        &header,
        &out_dir,
        &stamp,
        &title,
        &cli.font,
    )?;
    eprintln!(
        "race: report in {} (every run: {})",
        report_path.display(),
        csv_path.display()
    );
    let failed = race
        .runs
        .iter()
        .filter(|r| r.result.as_ref().err().is_some_and(|e| !is_not_run(e)))
        .count();
    if failed > 0 {
        return Err(format!(
            "{failed} run(s) failed (see the report's last section)"
        ));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(args: &[&str]) -> Result<Plan, String> {
        let cli = Cli::try_parse_from(std::iter::once("race").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        Plan::from_cli(&cli)
    }

    #[test]
    fn the_default_race_runs_every_workload() {
        let plan = plan(&[]).unwrap();
        assert_eq!(plan.workloads, WorkloadName::ALL);
        assert_eq!(plan.variants.len(), 16);
        assert_eq!(plan.clients, Client::ALL);
        assert_eq!(plan.records, DEFAULT_RECORDS);
        assert_eq!(plan.latency_seconds, 3.0);
        assert_eq!(plan.total_runs(), 16 * 2 * 3 * 8);
        let counts: Vec<(String, u64)> = plan
            .variants
            .iter()
            .map(|w| (w.slug(), plan.records_of(w)))
            .collect();
        let count = |slug: &str| counts.iter().find(|(s, _)| s == slug).unwrap().1;
        assert_eq!(count("b1-s100-none"), 1_000_000);
        assert_eq!(count("b3-s1024-lz4"), 97_656);
        assert_eq!(count("a-b1-s10-none-p16"), 2_500_000);
        assert_eq!(count("b-b1-s10240-zstd-p6"), 29_296);
        assert_eq!(count("f-b3-s100-none-p64-k10000"), 333_333);
    }

    #[test]
    fn quick_runs_the_classic_smoke_test_unless_told_otherwise() {
        let quick = plan(&["--quick"]).unwrap();
        assert_eq!(quick.variants.len(), 1);
        assert_eq!(quick.variants[0].label(), "1 broker, 100 B, none");
        assert_eq!(quick.records, QUICK_RECORDS);
        let chosen = plan(&["--quick", "--workloads", "a,c,d,e", "--records", "5000"]).unwrap();
        let names: Vec<WorkloadName> = chosen.variants.iter().map(|w| w.name).collect();
        assert_eq!(
            names,
            [
                WorkloadName::A,
                WorkloadName::C,
                WorkloadName::D,
                WorkloadName::E
            ]
        );
        assert_eq!(chosen.records_of(&chosen.variants[0]), 12_500);
        assert_eq!(chosen.records_of(&chosen.variants[1]), 5000);
    }

    #[test]
    fn bad_workloads_and_bootstrap_f_are_refused() {
        assert!(plan(&["--workloads", "z"])
            .unwrap_err()
            .contains("unknown workload"));
        let external = plan(&["--bootstrap", "127.0.0.1:9092", "--workloads", "c,f"]).unwrap();
        assert_eq!(external.variants.len(), 1);
        assert_eq!(external.variants[0].brokers, Brokers::External);
        assert_eq!(external.skipped.len(), 1);
        assert!(plan(&["--bootstrap", "127.0.0.1:9092", "--workloads", "f"])
            .unwrap_err()
            .contains("nothing to run"));
        assert!(plan(&["--clients", "kacrab,franz-go"]).is_ok());
        assert!(plan(&["--clients", "kafka-go"]).is_err());
        assert!(plan(&["--codecs", "zstd"]).is_ok());
    }

    fn figures(rate: f64, cpu: f64) -> RunFigures {
        RunFigures {
            summary: PerfSummary {
                records: 1000,
                records_per_sec: rate,
                mb_per_sec: 1.0,
                avg_ms: 1.0,
                max_ms: 9.0,
                p50_ms: 1.0,
                p95_ms: 2.0,
                p99_ms: 3.0,
                p999_ms: 4.0,
            },
            cpu_secs: cpu,
            max_rss_bytes: 10 << 20,
            wall_secs: 1.0,
        }
    }

    #[test]
    fn the_report_has_a_section_per_workload_and_lists_each_loss_once() {
        let plan = plan(&["--workloads", "c,d", "--runs", "2"]).unwrap();
        let mut runs = Vec::new();
        for workload in &plan.variants {
            for round in 0..2 {
                for (client, result) in [
                    (Client::Kiel, Ok(figures(100.0, 5.0))),
                    (Client::RdkafkaFuture, Ok(figures(200.0, 1.0))),
                    (Client::RdkafkaBase, Ok(figures(300.0, 2.0))),
                    (
                        Client::Kacrab,
                        Err(format!("{NOT_RUN}cargo build --release --bin kacrab-perf failed: error: no bin target named `kacrab-perf`")),
                    ),
                ] {
                    runs.push(RunRecord {
                        workload: *workload,
                        phase: Phase::Throughput,
                        target_rate: None,
                        round,
                        client,
                        records: 1000,
                        result,
                    });
                }
            }
        }
        let report = render_report(
            &plan,
            JavaTool::RacePerf,
            &runs,
            &["header".to_owned()],
            None,
        );
        assert!(
            report.contains("\n## `c`: 64 partitions, keyed records"),
            "{report}"
        );
        assert!(
            report.contains("\n## `d`: acks=1 without idempotence"),
            "{report}"
        );
        assert!(
            report.contains("| | | | | kacrab | not run: cargo build"),
            "{report}"
        );
        assert!(report.contains("before its clock starts"), "{report}");
        let losses: Vec<&str> = report
            .split("## Where kiel is behind a peer")
            .nth(1)
            .unwrap()
            .split("\n## ")
            .next()
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("- "))
            .collect();
        // Per variant: records/s and CPU, each once, naming both rdkafka clients.
        assert_eq!(losses.len(), 4, "{losses:#?}");
        let mut unique = losses.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), losses.len(), "{losses:#?}");
        assert!(losses[0].contains("vs rdkafka-future 200 (-50%), rdkafka-base 300 (-67%)"));
        // The not-run reason is listed once, not once per round or variant.
        let not_run: Vec<&str> = report
            .lines()
            .filter(|l| l.starts_with("- kacrab not run"))
            .collect();
        assert_eq!(
            not_run,
            ["- kacrab not run (every variant): cargo build --release --bin kacrab-perf failed: error: no bin target named `kacrab-perf`"],
            "{report}"
        );
    }
}
