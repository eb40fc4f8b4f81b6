//! The producer settings every client of the race gets, written in each client's own
//! property names.
//!
//! Equal for all: `acks=all`, idempotence on, the same `linger.ms` and `batch.size`, a
//! 32 MiB record buffer, the same codec. The buffer is Java's and kiel's default
//! `buffer.memory`; librdkafka's is `queue.buffering.max.kbytes`, and its message-count cap
//! `queue.buffering.max.messages` (default 100,000) is raised so that, as for the others,
//! the byte limit is the one that holds back a sender running flat out.
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
}

impl Codec {
    /// The name every client uses for it.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Lz4 => "lz4",
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
        match text.trim() {
            "none" => Ok(Self::None),
            "lz4" => Ok(Self::Lz4),
            other => Err(format!("unknown codec `{other}` (none, lz4)")),
        }
    }
}

/// Settings shared by every client of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `linger.ms`.
    pub linger_ms: u32,
    /// `batch.size`, bytes.
    pub batch_size: u32,
    /// Bytes of records a producer holds before a send waits.
    pub buffer_bytes: u64,
    /// The codec.
    pub codec: Codec,
}

/// librdkafka's `queue.buffering.max.messages` in the race: high enough that the byte
/// limit holds first.
pub const RDKAFKA_MAX_QUEUED_MESSAGES: u64 = 10_000_000;

impl Settings {
    /// The properties in the Java client's names (kiel takes the same).
    pub fn java_properties(&self) -> Vec<(String, String)> {
        vec![
            ("acks".into(), "all".into()),
            ("enable.idempotence".into(), "true".into()),
            ("linger.ms".into(), self.linger_ms.to_string()),
            ("batch.size".into(), self.batch_size.to_string()),
            ("buffer.memory".into(), self.buffer_bytes.to_string()),
            ("compression.type".into(), self.codec.name().into()),
        ]
    }

    /// The properties in librdkafka's names.
    pub fn librdkafka_properties(&self) -> Vec<(String, String)> {
        vec![
            ("acks".into(), "all".into()),
            ("enable.idempotence".into(), "true".into()),
            ("linger.ms".into(), self.linger_ms.to_string()),
            ("batch.size".into(), self.batch_size.to_string()),
            (
                "queue.buffering.max.kbytes".into(),
                (self.buffer_bytes / 1024).to_string(),
            ),
            (
                "queue.buffering.max.messages".into(),
                RDKAFKA_MAX_QUEUED_MESSAGES.to_string(),
            ),
            ("compression.codec".into(), self.codec.name().into()),
        ]
    }

    /// One line naming the settings, for the report.
    pub fn describe(&self) -> String {
        format!(
            "acks=all, idempotence on, linger.ms={}, batch.size={} ({} KiB), buffer {} MiB",
            self.linger_ms,
            self.batch_size,
            self.batch_size / 1024,
            self.buffer_bytes / (1024 * 1024)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(codec: Codec) -> Settings {
        Settings {
            linger_ms: 5,
            batch_size: 65_536,
            buffer_bytes: 32 * 1024 * 1024,
            codec,
        }
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
        assert!("zstd".parse::<Codec>().is_err());
    }
}
