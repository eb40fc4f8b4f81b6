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

mod security;
mod settings;

#[cfg(feature = "oidc")]
pub(crate) use security::OAuthSettings;
pub use security::{Pem, Sasl, SaslMechanism, Secret, Security, SecurityProtocol, Tls};
pub use settings::Setting;
use settings::SETTINGS;

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

/// Receives a metrics snapshot every `statistics.interval.ms` (see
/// [`crate::ProducerBuilder::statistics`]).
pub type StatisticsCallback = Arc<dyn Fn(&crate::ProducerMetrics) + Send + Sync>;

/// Every producer setting. Defaults equal the Java client's (Kafka 4.x).
///
/// Set through [`ProducerBuilder`](crate::ProducerBuilder), [`ProducerConfig::set`] or
/// [`ProducerConfig::from_properties`]; read through the methods of the same names as the
/// settings. [`ProducerConfig::settings`] lists every key with its default.
#[derive(Clone)]
pub struct ProducerConfig {
    pub(crate) bootstrap_servers: Vec<String>,
    pub(crate) client_id: String,
    pub(crate) acks: Acks,
    pub(crate) linger: Duration,
    pub(crate) batch_size: usize,
    pub(crate) buffer_memory: usize,
    pub(crate) metadata_wait_share: f64,
    pub(crate) max_request_size: usize,
    pub(crate) compression: Compression,
    pub(crate) compression_level: Option<i32>,
    pub(crate) retries: u32,
    pub(crate) retry_backoff: Duration,
    pub(crate) retry_backoff_max: Duration,
    pub(crate) request_timeout: Duration,
    pub(crate) delivery_timeout: Duration,
    pub(crate) max_in_flight: usize,
    pub(crate) enable_idempotence: Option<bool>,
    pub(crate) transactional_id: Option<String>,
    pub(crate) transaction_timeout: Duration,
    pub(crate) metadata_max_age: Duration,
    pub(crate) max_block: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) reconnect_backoff: Duration,
    pub(crate) reconnect_backoff_max: Duration,
    pub(crate) partitioner: PartitionerKind,
    pub(crate) partitioner_ignore_keys: bool,
    pub(crate) custom_partitioner: Option<Arc<dyn Partitioner>>,
    pub(crate) statistics_interval: Duration,
    pub(crate) statistics_callback: Option<StatisticsCallback>,
    /// How often the metrics go out through the `metrics` facade (feature `metrics`;
    /// zero: never).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) metrics_export_interval: Duration,
    /// Whether `produce` writes the caller's trace context into records (feature
    /// `opentelemetry`).
    #[cfg_attr(not(feature = "opentelemetry"), allow(dead_code))]
    pub(crate) propagate_trace_context: bool,
    pub(crate) security: Security,
}

impl std::fmt::Debug for ProducerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut map = f.debug_map();
        for setting in SETTINGS {
            map.entry(&setting.name, &setting.show(self));
        }
        if self.statistics_callback.is_some() {
            map.entry(&"statistics_callback", &"set");
        }
        if self.custom_partitioner.is_some() {
            map.entry(&"custom_partitioner", &"set");
        }
        if self.propagate_trace_context {
            map.entry(&"propagate_trace_context", &true);
        }
        map.finish()
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
            metadata_wait_share: 0.125,
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
            transactional_id: None,
            transaction_timeout: Duration::from_secs(60),
            metadata_max_age: Duration::from_secs(300),
            max_block: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            reconnect_backoff: Duration::from_millis(50),
            reconnect_backoff_max: Duration::from_millis(1000),
            partitioner: PartitionerKind::default(),
            partitioner_ignore_keys: false,
            custom_partitioner: None,
            statistics_interval: Duration::ZERO,
            statistics_callback: None,
            metrics_export_interval: Duration::ZERO,
            propagate_trace_context: false,
            security: Security::default(),
        }
    }
}

/// The smallest `buffer.memory` kiel accepts: room for a small record and its bookkeeping.
pub(crate) const MIN_BUFFER_MEMORY: usize = 1024;

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

    /// Every setting kiel knows by name, with its aliases, default and meaning.
    pub fn settings() -> &'static [Setting] {
        SETTINGS
    }

    fn setting(key: &str) -> Result<&'static Setting> {
        SETTINGS.iter().find(|s| s.is_named(key)).ok_or_else(|| {
            Error::config(
                key,
                "unknown producer setting (ProducerConfig::settings() lists the supported keys)",
            )
        })
    }

    /// Sets one property by its Java or librdkafka name.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        Self::setting(key)?.apply(self, key, value)
    }

    /// The current value of a property (by any of its names) as it would be written in a
    /// properties file; `None` for an unknown key.
    pub fn get(&self, key: &str) -> Option<String> {
        Self::setting(key).ok().map(|s| s.show(self))
    }

    /// `bootstrap.servers`: brokers to learn the cluster from, tried in order. No default.
    pub fn bootstrap_servers(&self) -> &[String] {
        &self.bootstrap_servers
    }

    /// `client.id`: the name sent in every request header. Default `kiel`.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// `acks`. Default [`Acks::All`].
    pub fn acks(&self) -> Acks {
        self.acks
    }

    /// `linger.ms`: how long a batch waits for more records before it is sent. Default 5 ms.
    pub fn linger(&self) -> Duration {
        self.linger
    }

    /// `batch.size`: a partition's batch is sent once it holds this many bytes; also the
    /// sticky partitioner's switch size. Default 16384.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// `buffer.memory`: bytes of records the producer holds before `produce` answers
    /// [`Error::QueueFull`] (and `send` / `enqueue` wait). Default 32 MiB, at least 1 KiB.
    ///
    /// Counted from a record's `produce` until its outcome: its encoded bytes, its callback
    /// (closure and slot), and while its topic's metadata is unknown its waiting entry.
    /// Batch buffers are reused rather than freed, so the process's peak memory stays near
    /// this bound plus a constant (see `benches/README.md`).
    pub fn buffer_memory(&self) -> usize {
        self.buffer_memory
    }

    /// `buffer.memory.metadata.wait.share` (kiel's own): the share of `buffer.memory` that
    /// records waiting for their topic's metadata may hold; beyond it `produce` answers
    /// [`Error::MetadataWaitFull`], and `send` / `enqueue` wait
    /// (up to `max.block.ms`), as Java's `send` blocks for metadata. Default 0.125.
    ///
    /// Waiting records are the caller's own allocations; a whole buffer of them at
    /// start-up, copied into batches later, leaves memory too fragmented to reuse
    /// (measured: peak RSS 66 MB for a 32 MiB buffer, 1 KiB records).
    pub fn metadata_wait_share(&self) -> f64 {
        self.metadata_wait_share
    }

    /// `max.request.size`: the largest request kiel sends, and so the largest record.
    /// Default 1 MiB.
    pub fn max_request_size(&self) -> usize {
        self.max_request_size
    }

    /// `compression.type`. Default none.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// `compression.level` (or `compression.<codec>.level`); `None` uses the codec's default.
    pub fn compression_level(&self) -> Option<i32> {
        self.compression_level
    }

    /// `retries`: how often a batch is retried after a retriable error. Default `i32::MAX`;
    /// `delivery.timeout.ms` is the real bound.
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// `retry.backoff.ms`: first backoff after a failed attempt. Default 100 ms.
    pub fn retry_backoff(&self) -> Duration {
        self.retry_backoff
    }

    /// `retry.backoff.max.ms`: the backoff doubles per attempt up to this, with ±20% jitter.
    /// Default 1000 ms.
    pub fn retry_backoff_max(&self) -> Duration {
        self.retry_backoff_max
    }

    /// `request.timeout.ms`: how long to wait for a broker's answer; also sent to the broker
    /// as the Produce timeout. Default 30 s.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// `delivery.timeout.ms`: upper bound on the time from a record's `produce` to its
    /// outcome, counted per record. Default 120 s; at least `linger.ms +
    /// request.timeout.ms`.
    pub fn delivery_timeout(&self) -> Duration {
        self.delivery_timeout
    }

    /// `max.in.flight.requests.per.connection`: unanswered requests per broker connection.
    /// Default 5 (at most 5 with idempotence).
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// `enable.idempotence` as set: `None` means the default (on, unless `acks` is not
    /// `all` or `max.in.flight` is over 5, in which case it turns off quietly, as in Java);
    /// `Some(true)` with conflicting settings is a configuration error. See
    /// [`Self::idempotence`] for the outcome.
    pub fn enable_idempotence(&self) -> Option<bool> {
        self.enable_idempotence
    }

    /// `transactional.id`: makes the producer transactional (see
    /// [`Producer::init_transactions`](crate::Producer::init_transactions)). Default: none.
    pub fn transactional_id(&self) -> Option<&str> {
        self.transactional_id.as_deref()
    }

    /// `transaction.timeout.ms`: how long the coordinator lets a transaction stay open
    /// before it aborts it. Default 60 s.
    pub fn transaction_timeout(&self) -> Duration {
        self.transaction_timeout
    }

    /// `metadata.max.age.ms`: metadata is refreshed at least this often. Default 5 min.
    pub fn metadata_max_age(&self) -> Duration {
        self.metadata_max_age
    }

    /// `max.block.ms`: how long `send` waits for buffer room, and how long records of an
    /// unknown topic wait for it to appear. Default 60 s; `Duration::MAX` waits forever.
    pub fn max_block(&self) -> Duration {
        self.max_block
    }

    /// `socket.connection.setup.timeout.ms`: how long connecting to a broker may take, its
    /// ApiVersions handshake included. Default 10 s.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }

    /// `reconnect.backoff.ms`: wait before reconnecting to a broker. Default 50 ms.
    pub fn reconnect_backoff(&self) -> Duration {
        self.reconnect_backoff
    }

    /// `reconnect.backoff.max.ms`: the wait doubles with each failed attempt to connect to
    /// the same broker, up to this. Default 1 s.
    pub fn reconnect_backoff_max(&self) -> Duration {
        self.reconnect_backoff_max
    }

    /// `partitioner` (librdkafka names) or `partitioner.class` (Java class names). Default:
    /// Java's built-in (murmur2 for keys, KIP-794 uniform sticky for null keys).
    pub fn partitioner(&self) -> PartitionerKind {
        self.partitioner
    }

    /// `partitioner.ignore.keys`: treat keyed records like null-keyed ones. Default false.
    pub fn partitioner_ignore_keys(&self) -> bool {
        self.partitioner_ignore_keys
    }

    /// The custom partitioner, if one was set; it overrides `partitioner`.
    pub fn custom_partitioner(&self) -> Option<&Arc<dyn Partitioner>> {
        self.custom_partitioner.as_ref()
    }

    /// `statistics.interval.ms`: how often the statistics callback gets a
    /// [`crate::ProducerMetrics`] snapshot (librdkafka's setting; 0, the default: never).
    pub fn statistics_interval(&self) -> Duration {
        self.statistics_interval
    }

    /// `security.protocol` and its TLS and SASL settings. Default: plain TCP.
    pub fn security(&self) -> &Security {
        &self.security
    }

    /// Whether the producer will be idempotent, after applying the defaults.
    pub fn idempotence(&self) -> bool {
        match self.enable_idempotence {
            Some(explicit) => explicit,
            None if self.transactional_id.is_some() => true,
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
        if self.buffer_memory < MIN_BUFFER_MEMORY {
            return Err(Error::config(
                "buffer.memory",
                format!(
                    "{} bytes cannot hold a single record; give at least {MIN_BUFFER_MEMORY}",
                    self.buffer_memory
                ),
            ));
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
        if self.connect_timeout.is_zero() {
            return Err(Error::config(
                "socket.connection.setup.timeout.ms",
                "must be positive",
            ));
        }
        // Anything from about 30 years on is forever: two of them are not more than one.
        let one_attempt = self
            .linger
            .saturating_add(self.request_timeout)
            .min(crate::time::FOREVER);
        if self.delivery_timeout < one_attempt {
            return Err(Error::config(
                "delivery.timeout.ms",
                format!(
                    "{} ms is less than linger.ms + request.timeout.ms ({} ms + {} ms): a record \
                     could time out before one attempt is answered; raise delivery.timeout.ms \
                     or lower the other two",
                    self.delivery_timeout.as_millis(),
                    self.linger.as_millis(),
                    self.request_timeout.as_millis()
                ),
            ));
        }
        if !(self.metadata_wait_share > 0.0 && self.metadata_wait_share <= 1.0) {
            return Err(Error::config(
                "buffer.memory.metadata.wait.share",
                "must be above 0 and at most 1",
            ));
        }
        self.security.validate()?;
        if let Some(level) = self.compression_level {
            self.compression
                .validate_level(level)
                .map_err(|e| Error::config("compression.level", e.to_string()))?;
        }
        if self.transactional_id.is_some() {
            if self.enable_idempotence == Some(false) {
                return Err(Error::config(
                    "enable.idempotence",
                    "a transactional producer is idempotent; remove enable.idempotence=false \
                     or transactional.id",
                ));
            }
            let ms = self.transaction_timeout.as_millis();
            if ms == 0 || ms > i32::MAX as u128 {
                return Err(Error::config(
                    "transaction.timeout.ms",
                    "must be between 1 and 2147483647 ms",
                ));
            }
        }
        if self.enable_idempotence == Some(true) || self.transactional_id.is_some() {
            if self.acks != Acks::All {
                return Err(Error::config(
                    "enable.idempotence",
                    "idempotence (and transactions) need acks=all; set acks=all or \
                     enable.idempotence=false",
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
            ("request.timeout.ms", "4000"),
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

    #[test]
    fn every_listed_default_is_the_default_configs_value() {
        let c = ProducerConfig::default();
        for setting in ProducerConfig::settings() {
            assert_eq!(
                c.get(setting.name).as_deref(),
                Some(setting.default),
                "{}",
                setting.name
            );
            for alias in setting.aliases {
                assert!(c.get(alias).is_some(), "{alias}");
            }
        }
        assert_eq!(c.get("no.such.key"), None);
    }

    #[test]
    fn a_value_set_reads_back_by_any_name() {
        let mut c = ProducerConfig::default();
        c.set("queue.buffering.max.ms", "20").unwrap();
        assert_eq!(c.get("linger.ms").as_deref(), Some("20"));
        c.set("compression.codec", "lz4").unwrap();
        assert_eq!(c.get("compression.type").as_deref(), Some("lz4"));
        c.set("buffer.memory.metadata.wait.share", "0.5").unwrap();
        assert_eq!(c.metadata_wait_share(), 0.5);
        assert!(c.set("buffer.memory.metadata.wait.share", "0").is_err());
        assert!(c.set("buffer.memory.metadata.wait.share", "1.5").is_err());
    }

    fn refused(properties: &[(&str, &str)]) -> String {
        let mut all = vec![("bootstrap.servers", "a:1")];
        all.extend_from_slice(properties);
        match ProducerConfig::from_properties(all) {
            Err(Error::Config { key, .. }) => key,
            other => panic!("{properties:?} gave {other:?}"),
        }
    }

    #[test]
    fn settings_that_cannot_work_are_refused_by_name() {
        // Java refuses a delivery timeout shorter than one linger plus one request.
        assert_eq!(
            refused(&[
                ("delivery.timeout.ms", "1000"),
                ("request.timeout.ms", "2000")
            ]),
            "delivery.timeout.ms"
        );
        assert_eq!(
            refused(&[
                ("delivery.timeout.ms", "30004"),
                ("linger.ms", "5"),
                ("request.timeout.ms", "30000")
            ]),
            "delivery.timeout.ms"
        );
        assert_eq!(refused(&[("buffer.memory", "0")]), "buffer.memory");
        assert_eq!(
            refused(&[("queue.buffering.max.kbytes", "0")]),
            "buffer.memory"
        );
        assert_eq!(
            refused(&[("socket.connection.setup.timeout.ms", "0")]),
            "socket.connection.setup.timeout.ms"
        );
        // Exactly linger + request timeout is enough; "forever" is too.
        assert!(ProducerConfig::from_properties([
            ("bootstrap.servers", "a:1"),
            ("delivery.timeout.ms", "30005"),
        ])
        .is_ok());
        assert!(ProducerConfig::from_properties([
            ("bootstrap.servers", "a:1"),
            ("delivery.timeout.ms", &u64::MAX.to_string()),
            ("request.timeout.ms", &u64::MAX.to_string()),
            ("max.block.ms", &u64::MAX.to_string()),
        ])
        .is_ok());
    }
}
