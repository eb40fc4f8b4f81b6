//! The producer settings a run's clients get, written in each client's own property names.
//!
//! Equal for all in a workload: the acknowledgements (`acks=all` with idempotence, or
//! `acks=1` without), the codec, and, unless the workload runs every client "out of the
//! box", the same `linger.ms` and `batch.size` and a 32 MiB record buffer. The buffer is
//! Java's and kiel's default `buffer.memory`; librdkafka's is `queue.buffering.max.kbytes`,
//! and its message-count cap `queue.buffering.max.messages` (default 100,000) is raised so
//! that, as for the others, the byte limit is the one that holds back a sender running flat
//! out. Out of the box ([`Settings::batching`] `None`), each client keeps its own defaults
//! for all three and gets only the acknowledgements (and a codec other than none).
//!
//! # References
//! - Kafka producer configs: <https://kafka.apache.org/documentation/#producerconfigs>
//! - librdkafka `CONFIGURATION.md`

use std::fmt;
use std::str::FromStr;

/// The record codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Codec {
    /// No compression.
    None,
    /// LZ4 frames.
    Lz4,
    /// Zstandard (librdkafka needs rust-rdkafka's `zstd` feature, on in this crate).
    Zstd,
}

impl Codec {
    /// Every codec, for messages.
    pub const ALL: [Self; 3] = [Self::None, Self::Lz4, Self::Zstd];

    /// The name every client uses for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Lz4 => "lz4",
            Self::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Codec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == text.trim())
            .ok_or_else(|| format!("unknown codec `{}` (none, lz4, zstd)", text.trim()))
    }
}

/// What the producer waits for before a record counts as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Acks {
    /// `acks=all` with idempotence on: the race's default.
    AllIdempotent,
    /// `acks=1` with idempotence off.
    LeaderOnly,
}

impl Acks {
    /// The `acks` value (the same in Java's and librdkafka's names).
    pub fn acks(self) -> &'static str {
        match self {
            Self::AllIdempotent => "all",
            Self::LeaderOnly => "1",
        }
    }

    /// The `enable.idempotence` value.
    pub fn idempotence(self) -> bool {
        self == Self::AllIdempotent
    }

    /// For the report: `acks=all, idempotence on`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::AllIdempotent => "acks=all, idempotence on",
            Self::LeaderOnly => "acks=1, idempotence off",
        }
    }

    /// The name in the CSV of runs: `all` or `1`.
    pub fn name(self) -> &'static str {
        self.acks()
    }
}

impl FromStr for Acks {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim() {
            "all" | "-1" => Ok(Self::AllIdempotent),
            "1" => Ok(Self::LeaderOnly),
            other => Err(format!("unknown acks `{other}` (all, 1)")),
        }
    }
}

/// The batching and buffer settings every client gets in a workload with shared settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Batching {
    /// `linger.ms`.
    pub linger_ms: u32,
    /// `batch.size`, bytes.
    pub batch_size: u32,
    /// Bytes of records a producer holds before a send waits.
    pub buffer_bytes: u64,
}

impl Batching {
    /// The race's shared settings: linger 5 ms, 64 KiB batches, a 32 MiB buffer.
    pub const RACE: Self = Self {
        linger_ms: 5,
        batch_size: 65_536,
        buffer_bytes: 32 * 1024 * 1024,
    };
}

/// Settings of one run, the same for every client of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Acknowledgements and idempotence.
    pub acks: Acks,
    /// Shared batching and buffer; `None`: each client's own defaults ("out of the box").
    pub batching: Option<Batching>,
    /// The codec.
    pub codec: Codec,
}

/// librdkafka's `queue.buffering.max.messages` in the race: high enough that the byte
/// limit holds first.
pub const RDKAFKA_MAX_QUEUED_MESSAGES: u64 = 10_000_000;

impl Settings {
    /// The race's shared settings with `codec`: acks=all, idempotence, [`Batching::RACE`].
    pub fn shared(batching: Batching, codec: Codec) -> Self {
        Self {
            acks: Acks::AllIdempotent,
            batching: Some(batching),
            codec,
        }
    }

    /// The codec property's value, or `None` when out of the box with no compression (the
    /// clients' default is no compression anyway, so nothing is passed).
    fn codec_property(&self) -> Option<String> {
        (self.batching.is_some() || self.codec != Codec::None).then(|| self.codec.name().into())
    }

    /// The properties in the Java client's names (kiel and the peers' programs take the
    /// same).
    pub fn java_properties(&self) -> Vec<(String, String)> {
        let mut props = vec![
            ("acks".into(), self.acks.acks().into()),
            (
                "enable.idempotence".into(),
                self.acks.idempotence().to_string(),
            ),
        ];
        if let Some(b) = self.batching {
            props.push(("linger.ms".into(), b.linger_ms.to_string()));
            props.push(("batch.size".into(), b.batch_size.to_string()));
            props.push(("buffer.memory".into(), b.buffer_bytes.to_string()));
        }
        if let Some(codec) = self.codec_property() {
            props.push(("compression.type".into(), codec));
        }
        props
    }

    /// The properties in librdkafka's names.
    pub fn librdkafka_properties(&self) -> Vec<(String, String)> {
        let mut props = vec![
            ("acks".into(), self.acks.acks().into()),
            (
                "enable.idempotence".into(),
                self.acks.idempotence().to_string(),
            ),
        ];
        if let Some(b) = self.batching {
            props.push(("linger.ms".into(), b.linger_ms.to_string()));
            props.push(("batch.size".into(), b.batch_size.to_string()));
            props.push((
                "queue.buffering.max.kbytes".into(),
                (b.buffer_bytes / 1024).to_string(),
            ));
            props.push((
                "queue.buffering.max.messages".into(),
                RDKAFKA_MAX_QUEUED_MESSAGES.to_string(),
            ));
        }
        if let Some(codec) = self.codec_property() {
            props.push(("compression.codec".into(), codec));
        }
        props
    }

    /// One line naming the settings, for the report.
    pub fn describe(&self) -> String {
        match self.batching {
            Some(b) => format!(
                "{}, linger.ms={}, batch.size={} ({} KiB), buffer {} MiB",
                self.acks.describe(),
                b.linger_ms,
                b.batch_size,
                b.batch_size / 1024,
                b.buffer_bytes / (1024 * 1024)
            ),
            None => format!(
                "{}; linger, batch size and buffer: each client's own defaults",
                self.acks.describe()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(codec: Codec) -> Settings {
        Settings::shared(
            Batching {
                linger_ms: 5,
                batch_size: 65_536,
                buffer_bytes: 32 * 1024 * 1024,
            },
            codec,
        )
    }

    fn get<'a>(props: &'a [(String, String)], key: &str) -> Option<&'a str> {
        props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn both_dialects_say_the_same_thing() {
        let s = settings(Codec::Lz4);
        let java = s.java_properties();
        let rd = s.librdkafka_properties();
        for props in [&java, &rd] {
            assert_eq!(get(props, "acks"), Some("all"));
            assert_eq!(get(props, "enable.idempotence"), Some("true"));
            assert_eq!(get(props, "linger.ms"), Some("5"));
            assert_eq!(get(props, "batch.size"), Some("65536"));
        }
        assert_eq!(get(&java, "compression.type"), Some("lz4"));
        assert_eq!(get(&rd, "compression.codec"), Some("lz4"));
        assert_eq!(get(&java, "buffer.memory"), Some("33554432"));
        assert_eq!(get(&rd, "queue.buffering.max.kbytes"), Some("32768"));
        assert_eq!(
            get(&settings(Codec::None).java_properties(), "compression.type"),
            Some("none")
        );
    }

    #[test]
    fn codecs_parse_by_name() {
        assert_eq!("lz4".parse::<Codec>(), Ok(Codec::Lz4));
        assert_eq!(" none".parse::<Codec>(), Ok(Codec::None));
        assert_eq!("zstd".parse::<Codec>(), Ok(Codec::Zstd));
        assert!("gzip".parse::<Codec>().is_err());
        let s = settings(Codec::Zstd);
        assert_eq!(get(&s.java_properties(), "compression.type"), Some("zstd"));
        assert_eq!(
            get(&s.librdkafka_properties(), "compression.codec"),
            Some("zstd")
        );
    }

    #[test]
    fn acks_one_turns_idempotence_off_in_both_dialects() {
        let s = Settings {
            acks: Acks::LeaderOnly,
            ..settings(Codec::None)
        };
        for props in [s.java_properties(), s.librdkafka_properties()] {
            assert_eq!(get(&props, "acks"), Some("1"));
            assert_eq!(get(&props, "enable.idempotence"), Some("false"));
        }
        assert_eq!("1".parse::<Acks>(), Ok(Acks::LeaderOnly));
        assert_eq!("all".parse::<Acks>(), Ok(Acks::AllIdempotent));
        assert!("0".parse::<Acks>().is_err());
    }

    #[test]
    fn out_of_the_box_passes_only_the_acknowledgements() {
        let s = Settings {
            batching: None,
            ..settings(Codec::None)
        };
        let java = s.java_properties();
        assert_eq!(
            java,
            vec![
                ("acks".to_owned(), "all".to_owned()),
                ("enable.idempotence".to_owned(), "true".to_owned())
            ]
        );
        assert_eq!(s.librdkafka_properties(), java);
        assert!(s.describe().contains("own defaults"), "{}", s.describe());
        // A codec other than none is still the workload's.
        let lz4 = Settings {
            batching: None,
            ..settings(Codec::Lz4)
        };
        assert_eq!(get(&lz4.java_properties(), "compression.type"), Some("lz4"));
    }
}
