//! Producer settings: [`ProducerConfig`] with the Java client's defaults, set through
//! [`ProducerBuilder`](crate::ProducerBuilder) or parsed from Java / librdkafka property names
//! with [`ProducerConfig::from_properties`].
//!
//! # References
//! - Java `ProducerConfig` (Kafka 4.x defaults; `linger.ms` became 5 in 4.0)
//! - librdkafka `CONFIGURATION.md` (alias names)
//! - KIP-580 (exponential retry backoff), KIP-679 (idempotence on by default)

use std::sync::Arc;
use std::time::Duration;

use kiel_protocol::Compression;

use crate::error::{Error, Result};
use crate::partitioner::{Partitioner, PartitionerKind};

/// How many acknowledgements the leader waits for before it answers a Produce request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Acks {
    /// `acks=0`: the broker sends no answer; offsets are reported as `-1`.
    None,
    /// `acks=1`: the leader answers once it has written the batch.
    Leader,
    /// `acks=all` (`-1`): the leader answers once every in-sync replica has the batch.
    #[default]
    All,
}

impl Acks {
    /// The value sent in the Produce request.
    pub const fn wire_value(self) -> i16 {
        match self {
            Self::None => 0,
            Self::Leader => 1,
            Self::All => -1,
        }
    }
}

impl std::str::FromStr for Acks {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "0" => Ok(Self::None),
            "1" => Ok(Self::Leader),
            "all" | "-1" => Ok(Self::All),
            _ => Err(Error::config(
                "acks",
                format!("`{s}` is not one of 0, 1, all, -1"),
            )),
        }
    }
}

/// Every producer setting. Defaults equal the Java client's (Kafka 4.x).
#[derive(Clone)]
pub struct ProducerConfig {
    /// `bootstrap.servers`: brokers to learn the cluster from, tried in order. No default.
    pub bootstrap_servers: Vec<String>,
    /// `client.id`: the name sent in every request header. Default `kiel`.
    pub client_id: String,
    /// `acks`. Default [`Acks::All`].
    pub acks: Acks,
    /// `linger.ms`: how long a batch waits for more records before it is sent. Default 5 ms.
    pub linger: Duration,
    /// `batch.size`: a partition's batch is sent once it holds this many bytes; also the
    /// sticky partitioner's switch size. Default 16384.
    pub batch_size: usize,
    /// `buffer.memory`: bytes of records the producer holds before `produce` answers
    /// [`Error::QueueFull`] (and `send` / `enqueue` wait). Default 32 MiB.
    ///
    /// Counted from a record's `produce` until its outcome: its encoded bytes, its callback
    /// (closure and slot), and while its topic's metadata is unknown its waiting entry;
    /// records waiting for metadata may hold at most an eighth of it. Batch buffers are
    /// reused rather than freed, so the process's peak memory stays near this bound plus
    /// a constant (see `benches/README.md`).
    pub buffer_memory: usize,
    /// `max.request.size`: the largest request kiel sends, and so the largest record.
    /// Default 1 MiB.
    pub max_request_size: usize,
    /// `compression.type`. Default none.
    pub compression: Compression,
    /// `compression.level` (or `compression.<codec>.level`); `None` uses the codec's default.
    pub compression_level: Option<i32>,
    /// `retries`: how often a batch is retried after a retriable error. Default `i32::MAX`;
    /// `delivery.timeout.ms` is the real bound.
    pub retries: u32,
    /// `retry.backoff.ms`: first backoff after a failed attempt. Default 100 ms.
    pub retry_backoff: Duration,
    /// `retry.backoff.max.ms`: the backoff doubles per attempt up to this, with ±20% jitter.
    /// Default 1000 ms.
    pub retry_backoff_max: Duration,
    /// `request.timeout.ms`: how long to wait for a broker's answer; also sent to the broker
    /// as the Produce timeout. Default 30 s.
    pub request_timeout: Duration,
    /// `delivery.timeout.ms`: upper bound on the time from `produce` to the record's outcome.
    /// Default 120 s.
    pub delivery_timeout: Duration,
    /// `max.in.flight.requests.per.connection`: unanswered requests per broker connection.
    /// Default 5 (at most 5 with idempotence).
    pub max_in_flight: usize,
    /// `enable.idempotence`: `None` means the default (on, unless `acks` is not `all` or
    /// `max.in.flight` is over 5, in which case it turns off quietly, as in Java);
    /// `Some(true)` with conflicting settings is a configuration error.
    pub enable_idempotence: Option<bool>,
    /// `metadata.max.age.ms`: metadata is refreshed at least this often. Default 5 min.
    pub metadata_max_age: Duration,
    /// `max.block.ms`: how long `send` waits for buffer room, and how long records of an
    /// unknown topic wait for it to appear. Default 60 s.
    pub max_block: Duration,
    /// `socket.connection.setup.timeout.ms`: connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// `reconnect.backoff.ms`: wait before reconnecting to a broker. Default 50 ms.
    pub reconnect_backoff: Duration,
    /// `partitioner` (librdkafka names) or `partitioner.class` (Java class names). Default:
    /// Java's built-in (murmur2 for keys, KIP-794 uniform sticky for null keys).
    pub partitioner: PartitionerKind,
    /// `partitioner.ignore.keys`: treat keyed records like null-keyed ones. Default false.
    pub partitioner_ignore_keys: bool,
    /// A custom partitioner; overrides `partitioner`.
    pub custom_partitioner: Option<Arc<dyn Partitioner>>,
}

impl std::fmt::Debug for ProducerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProducerConfig")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .field("client_id", &self.client_id)
            .field("acks", &self.acks)
            .field("linger", &self.linger)
            .field("batch_size", &self.batch_size)
            .field("buffer_memory", &self.buffer_memory)
            .field("max_request_size", &self.max_request_size)
            .field("compression", &self.compression)
            .field("compression_level", &self.compression_level)
            .field("retries", &self.retries)
            .field("request_timeout", &self.request_timeout)
            .field("delivery_timeout", &self.delivery_timeout)
            .field("max_in_flight", &self.max_in_flight)
            .field("enable_idempotence", &self.enable_idempotence)
            .field("partitioner", &self.partitioner)
            .finish_non_exhaustive()
    }
}

impl Default for ProducerConfig {
    fn default() -> Self {
        Self {
            bootstrap_servers: Vec::new(),
            client_id: "kiel".to_owned(),
            acks: Acks::All,
            linger: Duration::from_millis(5),
            batch_size: 16_384,
            buffer_memory: 32 * 1024 * 1024,
            max_request_size: 1024 * 1024,
            compression: Compression::None,
            compression_level: None,
            retries: i32::MAX as u32,
            retry_backoff: Duration::from_millis(100),
            retry_backoff_max: Duration::from_millis(1000),
            request_timeout: Duration::from_secs(30),
            delivery_timeout: Duration::from_secs(120),
            max_in_flight: 5,
            enable_idempotence: None,
            metadata_max_age: Duration::from_secs(300),
            max_block: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            reconnect_backoff: Duration::from_millis(50),
            partitioner: PartitionerKind::default(),
            partitioner_ignore_keys: false,
            custom_partitioner: None,
        }
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

impl ProducerConfig {
    /// Builds a configuration from Java or librdkafka property names, e.g.
    /// `[("bootstrap.servers", "b1:9092"), ("acks", "all"), ("linger.ms", "5")]`.
    /// An unknown key or a bad value is an [`Error::Config`] that names it. The result is
    /// validated as by [`ProducerConfig::validate`].
    pub fn from_properties<I, K, V>(properties: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let mut config = Self::default();
        for (key, value) in properties {
            config.set(key.as_ref(), value.as_ref())?;
        }
        config.validate()?;
        Ok(config)
    }

    /// Sets one property by its Java or librdkafka name.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "bootstrap.servers" | "metadata.broker.list" => {
                self.bootstrap_servers = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "client.id" => self.client_id = value.to_owned(),
            "acks" | "request.required.acks" => {
                self.acks = value.parse().map_err(|_| {
                    Error::config(key, format!("`{value}` is not one of 0, 1, all, -1"))
                })?;
            }
            "linger.ms" | "queue.buffering.max.ms" => self.linger = parse_ms(key, value)?,
            "batch.size" => self.batch_size = parse_usize(key, value)?,
            "buffer.memory" => self.buffer_memory = parse_usize(key, value)?,
            "queue.buffering.max.kbytes" => {
                self.buffer_memory = parse_usize(key, value)?.saturating_mul(1024);
            }
            "max.request.size" | "message.max.bytes" => {
                self.max_request_size = parse_usize(key, value)?;
            }
            "compression.type" | "compression.codec" => {
                self.compression = value
                    .trim()
                    .parse()
                    .map_err(|e| Error::config(key, format!("{e}")))?;
            }
            "compression.level"
            | "compression.gzip.level"
            | "compression.lz4.level"
            | "compression.zstd.level" => {
                self.compression_level = Some(parse_level(key, value)?);
            }
            "retries" | "message.send.max.retries" => {
                let n = value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| Error::config(key, format!("`{value}` is not an integer")))?;
                if n < 0 {
                    return Err(Error::config(key, "must not be negative"));
                }
                self.retries = n.min(i64::from(u32::MAX)) as u32;
            }
            "retry.backoff.ms" => self.retry_backoff = parse_ms(key, value)?,
            "retry.backoff.max.ms" => self.retry_backoff_max = parse_ms(key, value)?,
            "request.timeout.ms" => self.request_timeout = parse_ms(key, value)?,
            "delivery.timeout.ms" | "message.timeout.ms" => {
                self.delivery_timeout = parse_ms(key, value)?;
            }
            "max.in.flight.requests.per.connection" | "max.in.flight" => {
                self.max_in_flight = parse_usize(key, value)?;
            }
            "enable.idempotence" => self.enable_idempotence = Some(parse_bool(key, value)?),
            "metadata.max.age.ms" => self.metadata_max_age = parse_ms(key, value)?,
            "max.block.ms" => self.max_block = parse_ms(key, value)?,
            "socket.connection.setup.timeout.ms" => self.connect_timeout = parse_ms(key, value)?,
            "reconnect.backoff.ms" => self.reconnect_backoff = parse_ms(key, value)?,
            "partitioner" | "partitioner.class" => {
                self.partitioner = value
                    .trim()
                    .parse()
                    .map_err(|e| Error::config(key, format!("{e}")))?;
            }
            "partitioner.ignore.keys" => self.partitioner_ignore_keys = parse_bool(key, value)?,
            _ => {
                return Err(Error::config(
                    key,
                    "unknown producer setting (see kiel::ProducerConfig for the supported keys)",
                ))
            }
        }
        Ok(())
    }

    /// Whether the producer will be idempotent, after applying the defaults.
    pub fn idempotence(&self) -> bool {
        match self.enable_idempotence {
            Some(explicit) => explicit,
            None => self.acks == Acks::All && self.max_in_flight <= 5 && self.retries > 0,
        }
    }

    /// Checks the settings against each other. Called by `build` and `from_properties`.
    pub fn validate(&self) -> Result<()> {
        if self.bootstrap_servers.is_empty() {
            return Err(Error::config("bootstrap.servers", "no broker given"));
        }
        if self.batch_size == 0 {
            return Err(Error::config("batch.size", "must be at least 1"));
        }
        if self.max_in_flight == 0 {
            return Err(Error::config(
                "max.in.flight.requests.per.connection",
                "must be at least 1",
            ));
        }
        if self.max_request_size < 128 {
            return Err(Error::config(
                "max.request.size",
                "must be at least 128 bytes",
            ));
        }
        if self.request_timeout.is_zero() {
            return Err(Error::config("request.timeout.ms", "must be positive"));
        }
        if let Some(level) = self.compression_level {
            self.compression
                .validate_level(level)
                .map_err(|e| Error::config("compression.level", e.to_string()))?;
        }
        if self.enable_idempotence == Some(true) {
            if self.acks != Acks::All {
                return Err(Error::config(
                    "enable.idempotence",
                    "idempotence needs acks=all; set acks=all or enable.idempotence=false",
                ));
            }
            if self.max_in_flight > 5 {
                return Err(Error::config(
                    "max.in.flight.requests.per.connection",
                    "must be at most 5 with enable.idempotence=true",
                ));
            }
            if self.retries == 0 {
                return Err(Error::config(
                    "retries",
                    "must be above 0 with enable.idempotence=true",
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_java_clients() {
        let c = ProducerConfig::default();
        assert_eq!(c.acks, Acks::All);
        assert_eq!(c.linger, Duration::from_millis(5));
        assert_eq!(c.batch_size, 16_384);
        assert_eq!(c.buffer_memory, 33_554_432);
        assert_eq!(c.max_request_size, 1_048_576);
        assert_eq!(c.delivery_timeout, Duration::from_secs(120));
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.max_in_flight, 5);
        assert!(c.idempotence());
    }

    #[test]
    fn properties_with_java_and_librdkafka_names() {
        let c = ProducerConfig::from_properties([
            ("bootstrap.servers", "a:9092, b:9092"),
            ("acks", "1"),
            ("queue.buffering.max.ms", "20"),
            ("compression.codec", "lz4"),
            ("message.timeout.ms", "5000"),
            ("partitioner", "consistent_random"),
        ])
        .unwrap();
        assert_eq!(c.bootstrap_servers, vec!["a:9092", "b:9092"]);
        assert_eq!(c.acks, Acks::Leader);
        assert_eq!(c.linger, Duration::from_millis(20));
        assert_eq!(c.compression, Compression::Lz4);
        assert_eq!(c.delivery_timeout, Duration::from_secs(5));
        // acks=1 without an explicit idempotence setting turns idempotence off quietly.
        assert!(!c.idempotence());
    }

    #[test]
    fn unknown_key_and_bad_value_name_the_key() {
        let err =
            ProducerConfig::from_properties([("bootstrap.servers", "a:1"), ("lingr.ms", "5")])
                .unwrap_err();
        assert!(
            matches!(&err, Error::Config { key, .. } if key == "lingr.ms"),
            "{err}"
        );
        let err =
            ProducerConfig::from_properties([("bootstrap.servers", "a:1"), ("linger.ms", "soon")])
                .unwrap_err();
        assert!(
            matches!(&err, Error::Config { key, .. } if key == "linger.ms"),
            "{err}"
        );
        let err = ProducerConfig::from_properties([("bootstrap.servers", "a:1"), ("acks", "2")])
            .unwrap_err();
        assert!(
            matches!(&err, Error::Config { key, .. } if key == "acks"),
            "{err}"
        );
    }

    #[test]
    fn explicit_idempotence_with_acks_one_is_refused() {
        let err = ProducerConfig::from_properties([
            ("bootstrap.servers", "a:1"),
            ("acks", "1"),
            ("enable.idempotence", "true"),
        ])
        .unwrap_err();
        assert!(matches!(&err, Error::Config { key, .. } if key == "enable.idempotence"));
    }
}
