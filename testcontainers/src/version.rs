//! Which Apache Kafka release to run: the default, the `KIEL_KAFKA_VERSION` override, and
//! the facts that differ between the 3.9 and 4.x lines (logging backend, Java needed).
//!
//! # References
//! - Kafka 4.0 upgrade notes (Java 17 for brokers, log4j2):
//!   <https://kafka.apache.org/40/documentation.html#upgrade_4_0_0>
//! - `shared/design/kafka-harness/NOTES.md` section 1 (artifacts, logging binding)

use std::fmt;

use crate::error::{HarnessError, Result};

/// The environment variable that selects the Kafka version, e.g. `KIEL_KAFKA_VERSION=3.9.1`.
pub const VERSION_ENV: &str = "KIEL_KAFKA_VERSION";

/// The release started when nothing else is asked for: the newest 4.x release whose broker
/// and tools jars are both on Maven Central and that passes this harness's tests (4.4.0,
/// fetched with Maven in December 2026). See the README.
pub const DEFAULT_VERSION: &str = "4.4.0";

/// The 3.9 release known to work; select it with `KIEL_KAFKA_VERSION=3.9.1`.
pub const KNOWN_3_9_VERSION: &str = "3.9.1";

/// Which logging backend a release's broker binds slf4j to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoggingBackend {
    /// Kafka 3.x: slf4j 1.7 on reload4j (the log4j 1.2 API), configured by a
    /// `log4j.properties` file passed as `-Dlog4j.configuration=file:...`.
    Reload4j,
    /// Kafka 4.x: slf4j 1.7 on log4j2, configured by `-Dlog4j2.configurationFile=...`.
    Log4j2,
}

/// A Kafka release number such as `4.1.1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KafkaVersion {
    major: u32,
    minor: u32,
    patch: u32,
}

impl KafkaVersion {
    /// Parses `major.minor.patch`. Only 3.9.x and 4.x are accepted: older releases still
    /// need ZooKeeper or lack the tools this harness runs.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let invalid = || {
            HarnessError::InvalidArgument(format!(
                "Kafka version {text:?} is not of the form MAJOR.MINOR.PATCH (e.g. {DEFAULT_VERSION})"
            ))
        };
        let mut parts = text.split('.');
        let mut next = || -> Result<u32> {
            parts
                .next()
                .and_then(|p| p.parse::<u32>().ok())
                .ok_or_else(invalid)
        };
        let (major, minor, patch) = (next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(invalid());
        }
        let version = Self {
            major,
            minor,
            patch,
        };
        if !(major == 4 || (major == 3 && minor == 9)) {
            return Err(HarnessError::InvalidArgument(format!(
                "Kafka {version} is not supported: use 3.9.x or 4.x (default {DEFAULT_VERSION})"
            )));
        }
        Ok(version)
    }

    /// The version named by `KIEL_KAFKA_VERSION`, or [`DEFAULT_VERSION`] when it is unset
    /// or empty.
    pub fn from_env() -> Result<Self> {
        match std::env::var(VERSION_ENV) {
            Ok(v) if !v.trim().is_empty() => Self::parse(&v),
            _ => Self::default_version(),
        }
    }

    /// [`DEFAULT_VERSION`].
    pub fn default_version() -> Result<Self> {
        Self::parse(DEFAULT_VERSION)
    }

    /// The major version.
    pub const fn major(&self) -> u32 {
        self.major
    }

    /// The minor version.
    pub const fn minor(&self) -> u32 {
        self.minor
    }

    /// The logging backend this release's broker binds to.
    pub const fn logging(&self) -> LoggingBackend {
        if self.major >= 4 {
            LoggingBackend::Log4j2
        } else {
            LoggingBackend::Reload4j
        }
    }

    /// Whether the release knows the share-coordinator settings (4.x); 3.9 only warns
    /// about them, so the harness leaves them out there.
    pub const fn has_share_coordinator(&self) -> bool {
        self.major >= 4
    }
}

impl fmt::Display for KafkaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_supported_versions_and_rejects_others() {
        let v = KafkaVersion::parse(" 4.1.1 ").unwrap();
        assert_eq!(v.to_string(), "4.1.1");
        assert_eq!(v.logging(), LoggingBackend::Log4j2);
        let old = KafkaVersion::parse("3.9.1").unwrap();
        assert_eq!(old.logging(), LoggingBackend::Reload4j);
        assert!(!old.has_share_coordinator());
        assert!(old < v);
        for bad in ["3.8.1", "2.8.0", "4.1", "4.1.1.1", "4.x.1", "", "5.0.0"] {
            assert!(KafkaVersion::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(KafkaVersion::parse(DEFAULT_VERSION).is_ok());
        assert!(KafkaVersion::parse(KNOWN_3_9_VERSION).is_ok());
    }
}
