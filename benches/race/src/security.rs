//! How the clients of a race connect: plaintext (the default), or SASL_SSL with
//! SCRAM-SHA-512 on a secured kiel-testcontainers cluster.
//!
//! Over SASL_SSL every client gets the same connection, written in its own names, as
//! kiel-testcontainers' `ClientConfig` gives it: the listener's addresses, trust in the
//! cluster's CA (TLS with host-name checking on), and a SCRAM-SHA-512 login as the cluster's
//! user. kiel takes the Java names with `-X` (it reads `ssl.truststore.location` with type
//! `PEM` and `sasl.jaas.config` as Java does), `rdkafka-perf` the librdkafka names with `-X`,
//! and Java's ProducerPerformance a client config file (`--command-config`, before 4.2
//! `--producer.config`). The race's own topic commands keep using the harness's PLAINTEXT
//! listener.
//!
//! # References
//! - Kafka `tools/.../ProducerPerformance.java` (`--command-config`)
//! - librdkafka `CONFIGURATION.md` (`security.protocol`, `ssl.ca.location`,
//!   `sasl.mechanisms`, `sasl.username`, `sasl.password`)
//! - kiel-testcontainers README, "Secured clusters"

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// How the clients connect to the brokers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Security {
    /// PLAINTEXT, no login.
    #[default]
    Plaintext,
    /// SASL_SSL: TLS trusting the cluster's CA, then a SCRAM-SHA-512 login.
    SaslSslScram512,
}

impl Security {
    /// Every choice, for messages.
    pub const ALL: [Self; 2] = [Self::Plaintext, Self::SaslSslScram512];

    /// The name on the command line and in file names.
    pub fn name(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::SaslSslScram512 => "sasl-ssl-scram512",
        }
    }

    /// What it means, for the report.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::SaslSslScram512 => {
                "SASL_SSL with SCRAM-SHA-512 (TLS trusting the cluster's CA, host names checked)"
            }
        }
    }

    /// What titles add: nothing for plaintext, ` over SASL_SSL (SCRAM-SHA-512)`.
    pub fn title_suffix(self) -> &'static str {
        match self {
            Self::Plaintext => "",
            Self::SaslSslScram512 => " over SASL_SSL (SCRAM-SHA-512)",
        }
    }

    /// What chart titles add (shorter): nothing, `, SASL_SSL + SCRAM-SHA-512`.
    pub fn chart_suffix(self) -> &'static str {
        match self {
            Self::Plaintext => "",
            Self::SaslSslScram512 => ", SASL_SSL + SCRAM-SHA-512",
        }
    }

    /// The security a race's file stamp (`2026-11-23-0521-sasl-ssl-scram512`) names.
    pub fn of_stamp(stamp: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|s| s.is_secured() && stamp.ends_with(&format!("-{}", s.name())))
            .unwrap_or_default()
    }

    /// Whether the brokers must be a secured cluster.
    pub fn is_secured(self) -> bool {
        self != Self::Plaintext
    }
}

impl fmt::Display for Security {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Security {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|s| s.name() == text.trim())
            .ok_or_else(|| format!("unknown security `{text}` (plaintext, sasl-ssl-scram512)"))
    }
}

/// The connection settings a run's clients get besides the bootstrap addresses: nothing
/// for plaintext.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientSecurity {
    /// Java-named properties (`security.protocol`, `ssl.truststore.*`, `sasl.mechanism`,
    /// `sasl.jaas.config`), for kiel's `-X`.
    pub java: Vec<(String, String)>,
    /// The same in librdkafka's names, for `rdkafka-perf`'s `-X`.
    pub librdkafka: Vec<(String, String)>,
    /// The Java client's config file holding `java`, for ProducerPerformance.
    pub java_config_file: Option<PathBuf>,
}

impl ClientSecurity {
    /// Settings from a kiel-testcontainers client config's Java and librdkafka properties;
    /// `bootstrap.servers` is left out (every client gets it by its own option). The Java
    /// config file is `java_config_file`, which the caller writes.
    pub fn from_properties(
        java: Vec<(String, String)>,
        librdkafka: Vec<(String, String)>,
        java_config_file: &Path,
    ) -> Self {
        let without_bootstrap = |props: Vec<(String, String)>| {
            props
                .into_iter()
                .filter(|(k, _)| k != "bootstrap.servers")
                .collect::<Vec<_>>()
        };
        Self {
            java: without_bootstrap(java),
            librdkafka: without_bootstrap(librdkafka),
            java_config_file: Some(java_config_file.to_path_buf()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn security_parses_by_name_and_defaults_to_plaintext() {
        for security in Security::ALL {
            assert_eq!(security.name().parse::<Security>(), Ok(security));
        }
        assert_eq!(Security::default(), Security::Plaintext);
        assert!(!Security::Plaintext.is_secured());
        assert!(Security::SaslSslScram512.is_secured());
        assert!("sasl_ssl".parse::<Security>().is_err());
    }

    #[test]
    fn a_stamp_names_its_security() {
        assert_eq!(
            Security::of_stamp("2026-11-23-0521-sasl-ssl-scram512"),
            Security::SaslSslScram512
        );
        assert_eq!(Security::of_stamp("2026-11-23-0521"), Security::Plaintext);
    }

    #[test]
    fn bootstrap_is_left_to_the_command_line() {
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        let security = ClientSecurity::from_properties(
            vec![
                pair("bootstrap.servers", "127.0.0.1:1"),
                pair("security.protocol", "SASL_SSL"),
            ],
            vec![
                pair("bootstrap.servers", "127.0.0.1:1"),
                pair("security.protocol", "sasl_ssl"),
            ],
            Path::new("/w/java-client.properties"),
        );
        assert_eq!(security.java, vec![pair("security.protocol", "SASL_SSL")]);
        assert_eq!(
            security.librdkafka,
            vec![pair("security.protocol", "sasl_ssl")]
        );
        assert_eq!(
            security.java_config_file.as_deref(),
            Some(Path::new("/w/java-client.properties"))
        );
    }
}
