//! The command line: `kiel produce` and `kiel perf`, their options and help texts.
//!
//! # References
//! - clap derive API
//! - kcat (`-X`, `-K`, `-H`) and Kafka's console producer / ProducerPerformance (option
//!   names and line format)

use std::path::PathBuf;

use std::ffi::OsString;

use clap::{ArgMatches, Args, CommandFactory, Parser, Subcommand, ValueEnum};
use kiel::{Header, MAX_TOPIC_NAME_LEN};

use crate::line_format::{parse_fixed_header, parse_separator};
use crate::settings::{parse_property, settings_help, Property, PERF_CLIENT_ID, PRODUCE_CLIENT_ID};

const EXIT_CODES: &str = "\
Exit codes: 0 every record acknowledged; 1 some records failed or the run could not go on;
2 bad arguments or producer settings (nothing sent); 130 interrupted (Ctrl-C).";

const PRODUCE_HELP: &str = "\
Line format: [HEADERS<TAB>][KEY<SEP>]VALUE, one record per line (\\n or \\r\\n endings; bytes
are sent as they are). HEADERS (with --parse-headers) is `k1:v1,k2:v2`; KEY is there only with
--key-separator. These are the defaults of Kafka's console producer (parse.headers,
key.separator, headers.delimiter, headers.separator, headers.key.separator). Separators accept
\\t, \\\\ and \\xHH escapes. Headers from -H come first, then the line's own.

Schema Registry: with --value-format avro|json-schema|protobuf each value is a JSON document
written with --value-schema in the Confluent wire format (as kafka-avro-console-producer does);
the schema is registered (or looked up) at --schema-registry once, before input is read. A line
that does not fit the schema fails on its own. Keys likewise with --key-format and -K.

Examples:
  printf 'user-1:hello\\nuser-2:world\\n' | kiel produce -b 127.0.0.1:9092 -t events -K :
  kiel produce -b 127.0.0.1:9092 -t events --file events.txt -H source=import -X acks=1
  printf 'trace:abc,lang:en\\tk1\\tv1\\n' | kiel produce -b 127.0.0.1:9092 -t events \\
      --parse-headers -K '\\t'
  echo '{\"order_id\":\"o-1\",\"amount\":9.5}' | kiel produce -b 127.0.0.1:9092 -t orders \\
      --schema-registry http://127.0.0.1:8081 --value-format avro --value-schema order.avsc

At the end a summary goes to stdout (to stderr with --delivery-report):
  N records produced to `TOPIC`, F failed: B bytes in S s (R records/s, M MB/s)
and failed records to stderr, as `line L: REASON` (at most --max-errors of them).

--delivery-report json writes one JSON object per input line to stdout, in input order:
  {\"topic\":T,\"partition\":P,\"offset\":O,\"tstype\":\"create\",\"ts\":MS,\"key\":K,\"line\":L}
  {\"topic\":T,\"partition\":P,\"key\":K,\"line\":L,\"error\":E,\"error_code\":C}
(see cli/README.md for the fields).";

const PERF_HELP: &str = "\
Sends NUM-RECORDS records of RECORD-SIZE random uppercase letters (a fresh payload per record,
as Kafka's ProducerPerformance does) and prints, like ProducerPerformance, a progress line every
5 s and a final line:
  N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency,
  P ms 50th, P ms 95th, P ms 99th, P ms 99.9th.
Latency is the time from handing a record to the producer to its acknowledgement.

Without --brokers, a local single-node Apache Kafka is started with kiel-testcontainers
(needs Java 17+ and Maven; the first run downloads Kafka into ~/.cache/kiel/kafka, or
$KIEL_KAFKA_CACHE), the topic is created with --partitions partitions, and the broker is
stopped at the end.

Examples:
  kiel perf --topic perf --num-records 1000000 --record-size 100 --throughput -1
  kiel perf -b 127.0.0.1:9092 --topic perf --num-records 500000 --record-size 1024 \\
      --throughput 50000 -X acks=1 -X linger.ms=10 -X compression.type=lz4";

/// `kiel`: a Kafka producer on the command line, built on the kiel library.
#[derive(Debug, Parser)]
#[command(
    name = "kiel",
    version,
    about = "Produce records to Apache Kafka and measure producer performance (pure Rust).",
    after_help = EXIT_CODES,
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub(crate) struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Produce one record per input line (stdin or --file).
    #[command(after_help = format!(
        "{PRODUCE_HELP}\n\n{}\n{EXIT_CODES}",
        settings_help("kiel produce", PRODUCE_CLIENT_ID)
    ))]
    Produce(Box<ProduceArgs>),
    /// Measure throughput and latency with ProducerPerformance's workload and output.
    #[command(after_help = format!(
        "{PERF_HELP}\n\n{}\n{EXIT_CODES}",
        settings_help("kiel perf", PERF_CLIENT_ID)
    ))]
    Perf(PerfArgs),
}

impl Command {
    /// The `client.id` the subcommand uses unless `-X client.id=...` says otherwise.
    pub(crate) fn client_id(&self) -> &'static str {
        match self {
            Self::Produce(_) => PRODUCE_CLIENT_ID,
            Self::Perf(_) => PERF_CLIENT_ID,
        }
    }

    /// Whether `-X list` was given.
    pub(crate) fn lists_settings(&self) -> bool {
        let properties = match self {
            Self::Produce(args) => &args.properties,
            Self::Perf(args) => &args.properties,
        };
        properties.contains(&Property::List)
    }
}

/// When `args` ask for `-X list`, the `client.id` default of their subcommand; checked with
/// every other option optional, so that `kiel produce -X list` needs no --brokers or
/// --topic (as `kcat -X list` needs nothing else). `None` otherwise, also when the command
/// line has other errors (the normal parse then reports them).
pub(crate) fn settings_list_request<I, T>(args: I) -> Option<&'static str>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let lenient = Cli::command().mut_subcommands(|sub| sub.mut_args(|arg| arg.required(false)));
    let matches = lenient.try_get_matches_from(args).ok()?;
    let (name, sub): (&str, &ArgMatches) = matches.subcommand()?;
    let listed = sub
        .get_many::<Property>("properties")?
        .any(|p| *p == Property::List);
    match name {
        "produce" if listed => Some(PRODUCE_CLIENT_ID),
        "perf" if listed => Some(PERF_CLIENT_ID),
        _ => None,
    }
}

/// A topic name Kafka accepts (checked with `kiel::validate_topic_name` before anything
/// is read or sent).
fn topic_name(text: &str) -> Result<String, String> {
    kiel::validate_topic_name(text)
        .map(|()| text.to_owned())
        .map_err(|e| {
            format!(
                "{e}: a topic name is 1 to {MAX_TOPIC_NAME_LEN} characters of ASCII letters, \
                 digits, `.`, `_` and `-`, other than `.` and `..`"
            )
        })
}

/// Formats of `--delivery-report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ReportFormat {
    /// One JSON object per input line on stdout.
    Json,
}

/// How a line's key or value is written (`--key-format`, `--value-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub(crate) enum SchemaFormat {
    /// The line's bytes as they are.
    #[default]
    Raw,
    /// JSON, written as Avro in the Confluent wire format.
    Avro,
    /// JSON, validated against a JSON Schema, in the Confluent wire format.
    JsonSchema,
    /// JSON in proto3's JSON mapping, written as Protobuf in the Confluent wire format.
    Protobuf,
}

impl SchemaFormat {
    /// The option value that names it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Avro => "avro",
            Self::JsonSchema => "json-schema",
            Self::Protobuf => "protobuf",
        }
    }
}

/// A separator given on the command line (escapes resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Separator(pub(crate) Vec<u8>);

fn separator(text: &str) -> Result<Separator, String> {
    parse_separator(text).map(Separator)
}

/// `kiel produce` options.
#[derive(Debug, Args)]
pub(crate) struct ProduceArgs {
    /// Bootstrap brokers.
    #[arg(short, long, value_name = "HOST:PORT[,...]")]
    pub(crate) brokers: String,

    /// Topic to produce to.
    #[arg(short, long, value_parser = topic_name)]
    pub(crate) topic: String,

    /// Send every record to this partition (as kcat's -p); by default the partitioner
    /// chooses. A partition the topic does not have is refused before any input is read.
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..))]
    pub(crate) partition: Option<i32>,

    /// Write the outcome of every input line to stdout, in input order (the summary then
    /// goes to stderr).
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub(crate) delivery_report: Option<ReportFormat>,

    /// Read lines from this file instead of stdin.
    #[arg(short, long, value_name = "PATH")]
    pub(crate) file: Option<PathBuf>,

    /// Split each line into KEY and VALUE at the first SEP (e.g. `:` or `\t`).
    #[arg(short = 'K', long, value_name = "SEP", value_parser = separator)]
    pub(crate) key_separator: Option<Separator>,

    /// Add this header to every record (repeatable).
    #[arg(short = 'H', long = "header", value_name = "KEY=VALUE", value_parser = parse_fixed_header)]
    pub(crate) headers: Vec<Header>,

    /// Read headers at the start of each line: `k1:v1,k2:v2<TAB>...`.
    #[arg(long)]
    pub(crate) parse_headers: bool,

    /// Ends the header section of a line (with --parse-headers).
    #[arg(long, value_name = "SEP", default_value = "\\t", value_parser = separator)]
    pub(crate) headers_delimiter: Separator,

    /// Separates header pairs (with --parse-headers).
    #[arg(long, value_name = "SEP", default_value = ",", value_parser = separator)]
    pub(crate) header_separator: Separator,

    /// Separates a header's key from its value (with --parse-headers).
    #[arg(long, value_name = "SEP", default_value = ":", value_parser = separator)]
    pub(crate) header_key_separator: Separator,

    /// A key, value or header value equal to TEXT is sent as null (e.g. for tombstones).
    #[arg(long, value_name = "TEXT")]
    pub(crate) null_marker: Option<String>,

    /// Set a producer setting (repeatable; see the list below); `-X list` prints the list.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub(crate) properties: Vec<Property>,

    /// Records awaiting acknowledgement at most (bounds memory on huge inputs).
    #[arg(long, value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1..=10_000_000))]
    pub(crate) max_outstanding: u64,

    /// Failed records listed at most.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(crate) max_errors: usize,

    /// Longer lines fail without being sent (or kept in memory).
    #[arg(long, value_name = "BYTES", default_value_t = 16 * 1024 * 1024,
          value_parser = clap::value_parser!(u64).range(1..=(1 << 31)))]
    pub(crate) max_line_bytes: u64,

    /// Do not draw a progress bar (it is drawn only when stderr is a terminal anyway).
    #[arg(long)]
    pub(crate) no_progress: bool,

    /// At exit, print the producer's metrics on stderr: records, retries and errors,
    /// requests, records per request, compression ratio, latency per broker.
    #[arg(long)]
    pub(crate) stats: bool,

    /// Schema Registry URL (comma-separated for several), for --key-format / --value-format.
    #[arg(long, value_name = "URL", help_heading = "Schema Registry")]
    pub(crate) schema_registry: Option<String>,

    /// A registry client setting by Confluent's name (repeatable), e.g.
    /// basic.auth.user.info=KEY:SECRET, schema.registry.ssl.ca.location=FILE,
    /// auto.register.schemas=false, use.latest.version=true, subject.name.strategy=...
    #[arg(
        long = "registry-property",
        value_name = "KEY=VALUE",
        help_heading = "Schema Registry"
    )]
    pub(crate) registry_properties: Vec<String>,

    /// How each line's value is written: raw bytes, or JSON written with --value-schema.
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = SchemaFormat::Raw,
          help_heading = "Schema Registry")]
    pub(crate) value_format: SchemaFormat,

    /// The value schema: Avro JSON (.avsc), a JSON Schema, or a .proto file.
    #[arg(long, value_name = "FILE", help_heading = "Schema Registry")]
    pub(crate) value_schema: Option<PathBuf>,

    /// Protobuf: the value's message (full name, e.g. shop.Order; default: the file's first).
    #[arg(long, value_name = "NAME", help_heading = "Schema Registry")]
    pub(crate) value_message: Option<String>,

    /// How each line's key is written (needs -K): raw bytes, or JSON written with --key-schema.
    #[arg(long, value_name = "FORMAT", value_enum, default_value_t = SchemaFormat::Raw,
          help_heading = "Schema Registry")]
    pub(crate) key_format: SchemaFormat,

    /// The key schema (as --value-schema).
    #[arg(long, value_name = "FILE", help_heading = "Schema Registry")]
    pub(crate) key_schema: Option<PathBuf>,

    /// Protobuf: the key's message (as --value-message).
    #[arg(long, value_name = "NAME", help_heading = "Schema Registry")]
    pub(crate) key_message: Option<String>,
}

fn throughput(text: &str) -> Result<f64, String> {
    let value: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if !value.is_finite() || value == 0.0 {
        return Err("must be a positive number of records/s, or -1 for no limit".to_owned());
    }
    Ok(value)
}

/// `kiel perf` options.
#[derive(Debug, Args)]
pub(crate) struct PerfArgs {
    /// Topic to produce to.
    #[arg(short, long, value_parser = topic_name)]
    pub(crate) topic: String,

    /// Records to send.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) num_records: u64,

    /// Bytes of each record's value.
    #[arg(long, value_name = "BYTES",
          value_parser = clap::value_parser!(u32).range(1..=(i32::MAX as i64)))]
    pub(crate) record_size: u32,

    /// Records/s to aim for; -1 for as fast as possible.
    #[arg(long, value_name = "RATE", allow_negative_numbers = true, value_parser = throughput)]
    pub(crate) throughput: f64,

    /// Bootstrap brokers; without it a local Kafka is started (see below).
    #[arg(short, long, value_name = "HOST:PORT[,...]")]
    pub(crate) brokers: Option<String>,

    /// Set a producer setting (repeatable; see the list below); `-X list` prints the list.
    #[arg(short = 'X', long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub(crate) properties: Vec<Property>,

    /// Partitions of the topic created on the local Kafka (without --brokers).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub(crate) partitions: Option<u32>,

    /// Do not draw a progress bar (it is drawn only when stderr is a terminal anyway).
    #[arg(long)]
    pub(crate) no_progress: bool,

    /// Keyed records: each key is the decimal text of a number in 0..N drawn by Zipf's
    /// law (exponent 1.1: a few hot keys, a long tail). Without it keys are null.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub(crate) keys: Option<u32>,

    /// Fetch the topic's metadata before the clock starts (as the race gives every
    /// client). Without it the first record waits for the metadata and that wait counts in
    /// the run's time, as in ProducerPerformance.
    #[arg(long)]
    pub(crate) warm_metadata: bool,

    /// Send in transactions under this transactional.id (as ProducerPerformance's
    /// --transactional-id; also `-X transactional.id=...`).
    #[arg(long, value_name = "ID")]
    pub(crate) transactional_id: Option<String>,

    /// Commit each transaction once it has been open this long (default 3000 when
    /// transactional; alone it makes the run transactional with ProducerPerformance's
    /// default id).
    #[arg(long, value_name = "MS", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) transaction_duration_ms: Option<u64>,

    /// Commit each transaction once it holds this many records (a kiel extension:
    /// transactions of a fixed size; with --transaction-duration-ms too, whichever comes
    /// first). Alone it makes the run transactional with ProducerPerformance's default id
    /// and no time limit.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) transaction_records: Option<u64>,
}

/// ProducerPerformance's transactional id when only --transaction-duration-ms is given.
pub(crate) const DEFAULT_PERF_TRANSACTIONAL_ID: &str =
    "performance-producer-default-transactional-id";

/// When a `kiel perf` transaction commits: once it has been open this long, or holds this
/// many records, whichever comes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TransactionLimits {
    pub(crate) duration: Option<std::time::Duration>,
    pub(crate) records: Option<u64>,
}

/// ProducerPerformance's transaction duration when none is given.
pub(crate) const DEFAULT_TRANSACTION_DURATION_MS: u64 = 3000;

impl PerfArgs {
    /// The producer settings: `-X` ones, with `--transactional-id` (or
    /// ProducerPerformance's default id when only `--transaction-duration-ms` is given).
    pub(crate) fn producer_properties(&self) -> Vec<Property> {
        let mut properties = self.properties.clone();
        let id = self.transactional_id.clone().or_else(|| {
            ((self.transaction_duration_ms.is_some() || self.transaction_records.is_some())
                && self.property("transactional.id").is_none())
            .then(|| DEFAULT_PERF_TRANSACTIONAL_ID.to_owned())
        });
        if let Some(id) = id {
            properties.push(Property::Set("transactional.id".into(), id));
        }
        properties
    }

    /// When each transaction commits, if the run is transactional: after how long (none
    /// when only `--transaction-records` is given) and after how many records.
    pub(crate) fn transaction_limits(&self) -> Option<TransactionLimits> {
        let transactional = self.transactional_id.is_some()
            || self.transaction_duration_ms.is_some()
            || self.transaction_records.is_some()
            || self
                .property("transactional.id")
                .is_some_and(|v| !v.trim().is_empty());
        let duration = match (self.transaction_duration_ms, self.transaction_records) {
            (Some(ms), _) => Some(ms),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_TRANSACTION_DURATION_MS),
        };
        transactional.then(|| TransactionLimits {
            duration: duration.map(std::time::Duration::from_millis),
            records: self.transaction_records,
        })
    }

    fn property(&self, key: &str) -> Option<&str> {
        self.properties.iter().rev().find_map(|p| match p {
            Property::Set(k, v) if k == key => Some(v.as_str()),
            _ => None,
        })
    }
}

/// Partitions of the local Kafka's topic unless --partitions says otherwise.
pub(crate) const DEFAULT_PARTITIONS: u32 = 6;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn perf_accepts_minus_one_and_refuses_zero() {
        let parse = |t: &str| {
            Cli::try_parse_from([
                "kiel",
                "perf",
                "--topic",
                "t",
                "--num-records",
                "10",
                "--record-size",
                "5",
                "--throughput",
                t,
            ])
        };
        let Command::Perf(args) = parse("-1").unwrap().command else {
            panic!("not perf");
        };
        assert_eq!(args.throughput, -1.0);
        assert_eq!(args.brokers, None);
        assert_eq!(args.partitions, None);
        assert!(parse("0").is_err());
        assert!(parse("fast").is_err());
        assert!(parse("2.5").is_ok());
    }

    #[test]
    fn produce_options_parse() {
        let cli = Cli::try_parse_from([
            "kiel",
            "produce",
            "-b",
            "h:1",
            "-t",
            "t",
            "-K",
            "\\t",
            "-H",
            "a=b",
            "-H",
            "c=",
            "-X",
            "acks=1",
            "--parse-headers",
        ])
        .unwrap();
        let Command::Produce(args) = cli.command else {
            panic!("not produce");
        };
        assert_eq!(args.key_separator, Some(Separator(b"\t".to_vec())));
        assert_eq!(
            args.headers,
            vec![Header::new("a", "b"), Header::new("c", "")]
        );
        assert_eq!(
            args.properties,
            vec![Property::Set("acks".to_owned(), "1".to_owned())]
        );
        assert_eq!(args.partition, None);
        assert_eq!(args.delivery_report, None);
        assert_eq!(args.headers_delimiter, Separator(b"\t".to_vec()));
        assert!(args.parse_headers);
        assert!(
            Cli::try_parse_from(["kiel", "produce", "-b", "h:1", "-t", "t", "-X", "acks"]).is_err()
        );
        assert!(Cli::try_parse_from(["kiel", "produce", "-t", "t"]).is_err());
    }

    fn produce(extra: &[&str]) -> Result<ProduceArgs, clap::Error> {
        let mut args = vec!["kiel", "produce", "-b", "h:1", "-t", "t"];
        args.extend_from_slice(extra);
        Cli::try_parse_from(args).map(|cli| match cli.command {
            Command::Produce(args) => *args,
            Command::Perf(_) => panic!("not produce"),
        })
    }

    #[test]
    fn topic_names_are_checked_when_parsing() {
        for good in ["t", "orders.v1", "A_b-9", &"x".repeat(249)] {
            let args = Cli::try_parse_from(["kiel", "produce", "-b", "h:1", "-t", good]);
            assert!(args.is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "bad topic!", "a/b", "ä", &"x".repeat(250)] {
            let perf = [
                "kiel",
                "perf",
                "-t",
                bad,
                "--num-records",
                "1",
                "--record-size",
                "1",
                "--throughput",
                "-1",
            ];
            let produce = ["kiel", "produce", "-b", "h:1", "-t", bad];
            for args in [&perf[..], &produce[..]] {
                let err = Cli::try_parse_from(args).unwrap_err();
                assert_eq!(err.kind(), clap::error::ErrorKind::ValueValidation, "{bad}");
                assert_eq!(err.exit_code(), 2);
                let text = err.to_string();
                assert!(text.contains(&format!("`{bad}`")), "{text}");
                assert!(text.contains("1 to 249 characters"), "{text}");
            }
        }
    }

    #[test]
    fn partition_and_delivery_report_parse() {
        let args = produce(&["-p", "3", "--delivery-report", "json"]).unwrap();
        assert_eq!(args.partition, Some(3));
        assert_eq!(args.delivery_report, Some(ReportFormat::Json));
        assert_eq!(produce(&["--partition", "0"]).unwrap().partition, Some(0));
        assert!(produce(&["-p", "-1"]).is_err());
        assert!(produce(&["-p", "x"]).is_err());
        assert!(produce(&["--delivery-report", "text"]).is_err());
    }

    #[test]
    fn x_list_needs_no_other_option() {
        assert_eq!(
            settings_list_request(["kiel", "produce", "-X", "list"]),
            Some(PRODUCE_CLIENT_ID)
        );
        assert_eq!(
            settings_list_request(["kiel", "perf", "--property=list"]),
            Some(PERF_CLIENT_ID)
        );
        assert_eq!(
            settings_list_request(["kiel", "produce", "-t", "t", "-Xacks=1", "-Xlist"]),
            Some(PRODUCE_CLIENT_ID)
        );
        assert_eq!(
            settings_list_request(["kiel", "produce", "-X", "acks=1"]),
            None
        );
        assert_eq!(settings_list_request(["kiel", "produce", "-t", "t"]), None);
        // Other errors are left to the normal parse.
        assert_eq!(
            settings_list_request(["kiel", "produce", "-X", "list", "--nope"]),
            None
        );
        let cli =
            Cli::try_parse_from(["kiel", "produce", "-b", "h:1", "-t", "t", "-X", "list"]).unwrap();
        assert!(cli.command.lists_settings());
        assert_eq!(cli.command.client_id(), PRODUCE_CLIENT_ID);
    }
}
