//! The settings kiel knows by name: one table that [`ProducerConfig::set`] parses through,
//! [`ProducerConfig::get`] prints from, and tools list (`kiel produce -X list`).
//!
//! Each entry has the Java name first, then the librdkafka aliases, the default as text, a
//! one-line description, and how to parse and show its value.
//!
//! # References
//! - Java `ProducerConfig` (names and defaults, Kafka 4.x)
//! - librdkafka `CONFIGURATION.md` (aliases)

use std::time::Duration;

use super::{Acks, ProducerConfig};
use crate::error::{Error, Result};

/// One setting kiel knows: its names, default and meaning.
#[derive(Clone, Copy)]
pub struct Setting {
    /// The Java client's name (kiel-only settings have a name of the same style).
    pub name: &'static str,
    /// Other names accepted for it (librdkafka's).
    pub aliases: &'static [&'static str],
    /// The default value, as it would be written in a properties file (empty: none).
    pub default: &'static str,
    /// What it does, in one line.
    pub description: &'static str,
    apply: fn(&mut ProducerConfig, &str, &str) -> Result<()>,
    show: fn(&ProducerConfig) -> String,
}

impl std::fmt::Debug for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setting")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .field("default", &self.default)
            .finish_non_exhaustive()
    }
}

impl Setting {
    /// Whether `key` names this setting.
    pub fn is_named(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }

    pub(super) fn apply(&self, config: &mut ProducerConfig, key: &str, value: &str) -> Result<()> {
        (self.apply)(config, key, value)
    }

    pub(super) fn show(&self, config: &ProducerConfig) -> String {
        (self.show)(config)
    }
}

fn parse_ms(key: &str, value: &str) -> Result<Duration> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| Error::config(key, format!("`{value}` is not a number of milliseconds")))
}

fn parse_usize(key: &str, value: &str) -> Result<usize> {
    value
        .trim()
        .parse::<usize>()
        .map_err(|_| Error::config(key, format!("`{value}` is not a non-negative integer")))
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::config(
            key,
            format!("`{value}` is not true or false"),
        )),
    }
}

fn parse_level(key: &str, value: &str) -> Result<i32> {
    value
        .trim()
        .parse::<i32>()
        .map_err(|_| Error::config(key, format!("`{value}` is not an integer")))
}

fn parse_share(key: &str, value: &str) -> Result<f64> {
    match value.trim().parse::<f64>() {
        Ok(share) if share > 0.0 && share <= 1.0 => Ok(share),
        _ => Err(Error::config(
            key,
            format!("`{value}` is not a fraction above 0 and at most 1 (e.g. 0.125)"),
        )),
    }
}

fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}

macro_rules! duration_setting {
    ($name:literal, [$($alias:literal),*], $default:literal, $description:literal, $field:ident) => {
        Setting {
            name: $name,
            aliases: &[$($alias),*],
            default: $default,
            description: $description,
            apply: |c, k, v| {
                c.$field = parse_ms(k, v)?;
                Ok(())
            },
            show: |c| ms(c.$field),
        }
    };
}

macro_rules! size_setting {
    ($name:literal, [$($alias:literal),*], $default:literal, $description:literal, $field:ident) => {
        Setting {
            name: $name,
            aliases: &[$($alias),*],
            default: $default,
            description: $description,
            apply: |c, k, v| {
                c.$field = parse_usize(k, v)?;
                Ok(())
            },
            show: |c| c.$field.to_string(),
        }
    };
}

/// Every setting kiel knows, in the order `kiel produce -X list` prints them.
pub(super) const SETTINGS: &[Setting] = &[
    Setting {
        name: "bootstrap.servers",
        aliases: &["metadata.broker.list"],
        default: "",
        description: "brokers to learn the cluster from (host:port, comma-separated)",
        apply: |c, _, v| {
            c.bootstrap_servers = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            Ok(())
        },
        show: |c| c.bootstrap_servers.join(","),
    },
    Setting {
        name: "client.id",
        aliases: &[],
        default: "kiel",
        description: "the name sent to the brokers in every request",
        apply: |c, _, v| {
            c.client_id = v.to_owned();
            Ok(())
        },
        show: |c| c.client_id.clone(),
    },
    Setting {
        name: "acks",
        aliases: &["request.required.acks"],
        default: "all",
        description: "acknowledgements the leader waits for: 0, 1, all (-1)",
        apply: |c, k, v| {
            c.acks = v.parse().map_err(|_| {
                Error::config(k, format!("`{v}` is not one of 0, 1, all, -1"))
            })?;
            Ok(())
        },
        show: |c| {
            match c.acks {
                Acks::None => "0",
                Acks::Leader => "1",
                Acks::All => "all",
            }
            .to_owned()
        },
    },
    duration_setting!(
        "linger.ms",
        ["queue.buffering.max.ms"],
        "5",
        "how long a batch waits for more records before it is sent",
        linger
    ),
    size_setting!(
        "batch.size",
        [],
        "16384",
        "bytes per partition batch; also the sticky partitioner's switch size",
        batch_size
    ),
    size_setting!(
        "buffer.memory",
        [],
        "33554432",
        "bytes of records held before produce answers QueueFull (send waits)",
        buffer_memory
    ),
    Setting {
        name: "queue.buffering.max.kbytes",
        aliases: &[],
        default: "32768",
        description: "buffer.memory in KiB (librdkafka's name)",
        apply: |c, k, v| {
            c.buffer_memory = parse_usize(k, v)?.saturating_mul(1024);
            Ok(())
        },
        show: |c| (c.buffer_memory / 1024).to_string(),
    },
    Setting {
        name: "buffer.memory.metadata.wait.share",
        aliases: &[],
        default: "0.125",
        description: "share of buffer.memory records waiting for their topic's metadata may hold",
        apply: |c, k, v| {
            c.metadata_wait_share = parse_share(k, v)?;
            Ok(())
        },
        show: |c| c.metadata_wait_share.to_string(),
    },
    size_setting!(
        "max.request.size",
        ["message.max.bytes"],
        "1048576",
        "largest request kiel sends, and so the largest record",
        max_request_size
    ),
    Setting {
        name: "compression.type",
        aliases: &["compression.codec"],
        default: "none",
        description: "none, gzip, snappy, lz4, zstd",
        apply: |c, k, v| {
            c.compression = v
                .trim()
                .parse()
                .map_err(|e| Error::config(k, format!("{e}")))?;
            Ok(())
        },
        show: |c| c.compression.to_string(),
    },
    Setting {
        name: "compression.level",
        aliases: &[
            "compression.gzip.level",
            "compression.lz4.level",
            "compression.zstd.level",
        ],
        default: "",
        description: "the codec's level (empty: the codec's default)",
        apply: |c, k, v| {
            c.compression_level = Some(parse_level(k, v)?);
            Ok(())
        },
        show: |c| c.compression_level.map(|l| l.to_string()).unwrap_or_default(),
    },
    Setting {
        name: "enable.idempotence",
        aliases: &[],
        default: "true",
        description: "exactly-once per partition; turns off quietly with acks other than all unless set",
        apply: |c, k, v| {
            c.enable_idempotence = Some(parse_bool(k, v)?);
            Ok(())
        },
        show: |c| c.idempotence().to_string(),
    },
    Setting {
        name: "retries",
        aliases: &["message.send.max.retries"],
        default: "2147483647",
        description: "how often a batch is retried (delivery.timeout.ms is the real bound)",
        apply: |c, k, v| {
            let n = v
                .trim()
                .parse::<i64>()
                .map_err(|_| Error::config(k, format!("`{v}` is not an integer")))?;
            if n < 0 {
                return Err(Error::config(k, "must not be negative"));
            }
            c.retries = n.min(i64::from(u32::MAX)) as u32;
            Ok(())
        },
        show: |c| c.retries.to_string(),
    },
    duration_setting!(
        "retry.backoff.ms",
        [],
        "100",
        "first wait before a retry",
        retry_backoff
    ),
    duration_setting!(
        "retry.backoff.max.ms",
        [],
        "1000",
        "the retry wait doubles up to this (with 20% jitter)",
        retry_backoff_max
    ),
    duration_setting!(
        "request.timeout.ms",
        [],
        "30000",
        "how long to wait for a broker's answer",
        request_timeout
    ),
    duration_setting!(
        "delivery.timeout.ms",
        ["message.timeout.ms"],
        "120000",
        "upper bound from produce to a record's outcome; at least linger.ms + request.timeout.ms",
        delivery_timeout
    ),
    size_setting!(
        "max.in.flight.requests.per.connection",
        ["max.in.flight"],
        "5",
        "unanswered requests per broker connection (at most 5 with idempotence)",
        max_in_flight
    ),
    duration_setting!(
        "max.block.ms",
        [],
        "60000",
        "how long send waits for buffer room and records wait for their topic's metadata",
        max_block
    ),
    duration_setting!(
        "metadata.max.age.ms",
        [],
        "300000",
        "metadata is refreshed at least this often",
        metadata_max_age
    ),
    duration_setting!(
        "socket.connection.setup.timeout.ms",
        [],
        "10000",
        "connect timeout, ApiVersions handshake included",
        connect_timeout
    ),
    duration_setting!(
        "reconnect.backoff.ms",
        [],
        "50",
        "wait before reconnecting to a broker",
        reconnect_backoff
    ),
    Setting {
        name: "partitioner.class",
        aliases: &["partitioner"],
        default: "default",
        description: "default, murmur2, murmur2_random, consistent_random, random, round_robin, uniform_sticky",
        apply: |c, k, v| {
            c.partitioner = v
                .trim()
                .parse()
                .map_err(|e| Error::config(k, format!("{e}")))?;
            Ok(())
        },
        show: |c| c.partitioner.to_string(),
    },
    Setting {
        name: "partitioner.ignore.keys",
        aliases: &[],
        default: "false",
        description: "place keyed records like keyless ones",
        apply: |c, k, v| {
            c.partitioner_ignore_keys = parse_bool(k, v)?;
            Ok(())
        },
        show: |c| c.partitioner_ignore_keys.to_string(),
    },
];
