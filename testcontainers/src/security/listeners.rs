//! The named listeners of a secured cluster and the broker properties that set them up.
//!
//! Beside the `PLAINTEXT` listener the harness uses itself (readiness, topics, the reader by
//! default, replication) and the `CONTROLLER` listener, every node of a secured cluster
//! gets one port for each of:
//!
//! | listener | protocol | what it checks |
//! | --- | --- | --- |
//! | `SSL` | SSL | the server's certificate (client auth off) |
//! | `MTLS` | SSL | both: `ssl.client.auth=required` |
//! | `SASL_PLAINTEXT` | SASL_PLAINTEXT | PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER |
//! | `SASL_SSL` | SASL_SSL | the same mechanisms over TLS |
//! | `SSL_WRONG_HOST` | SSL | a certificate for `wrong.example` only: host-name checks fail |
//!
//! Key and trust stores are PEM files (`ssl.keystore.type=PEM`), so no keytool is needed.
//! Per-listener settings use Kafka's prefix `listener.name.<lower-case name>.`, which also
//! carries `connections.max.reauth.ms` (KIP-368) for the SASL listeners when asked for.
//!
//! # References
//! - Kafka broker configs `listeners`, `listener.security.protocol.map`,
//!   `ssl.keystore.type`, `sasl.enabled.mechanisms`, `connections.max.reauth.ms`:
//!   <https://kafka.apache.org/documentation/#brokerconfigs>
//! - Kafka `clients/.../network/ChannelBuilders.java` (listener-prefixed settings override
//!   the broker's), `SaslChannelBuilder.java` (`connections.max.reauth.ms`, also per
//!   mechanism)
//! - `shared/design/kafka-harness/SECURITY-NOTES.md` (what was checked to work)

use std::fmt;
use std::time::Duration;

use super::certs::CertFiles;
use super::users::{broker_jaas_line, SaslMechanism, SaslUser};

/// A listener of a cluster: where a client connects and how it must authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listener {
    /// `PLAINTEXT`: no TLS, no authentication ([`crate::KafkaCluster::bootstrap`]).
    Plaintext,
    /// `SSL`: TLS with the cluster's CA; no client certificate asked for.
    Ssl,
    /// `MTLS`: TLS, and the client must show a certificate signed by the cluster's CA.
    Mtls,
    /// `SASL_PLAINTEXT`: SASL without TLS.
    SaslPlaintext,
    /// `SASL_SSL`: SASL over TLS.
    SaslSsl,
    /// `SSL_WRONG_HOST`: TLS with a certificate (signed by the cluster's CA) for
    /// `wrong.example` only, so a client that checks host names must refuse it.
    SslWrongHost,
}

impl Listener {
    /// The listeners a secured cluster adds beside [`Listener::Plaintext`].
    pub const SECURED: [Self; 5] = [
        Self::Ssl,
        Self::Mtls,
        Self::SaslPlaintext,
        Self::SaslSsl,
        Self::SslWrongHost,
    ];

    /// The listener's name in `server.properties` (`SASL_SSL`, `MTLS`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl => "SSL",
            Self::Mtls => "MTLS",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
            Self::SslWrongHost => "SSL_WRONG_HOST",
        }
    }

    /// The security protocol a client sets (`security.protocol`).
    pub fn security_protocol(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl | Self::Mtls | Self::SslWrongHost => "SSL",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether a client speaks TLS to it.
    pub fn uses_tls(self) -> bool {
        matches!(
            self,
            Self::Ssl | Self::Mtls | Self::SaslSsl | Self::SslWrongHost
        )
    }

    /// Whether a client authenticates with SASL on it.
    pub fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }

    /// The prefix of this listener's own broker settings.
    fn prefix(self) -> String {
        format!("listener.name.{}.", self.name().to_ascii_lowercase())
    }

    fn index(self) -> Option<usize> {
        Self::SECURED.iter().position(|l| *l == self)
    }
}

impl fmt::Display for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One node's ports of the secured listeners, in [`Listener::SECURED`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SecuredPorts(pub(crate) [u16; 5]);

impl SecuredPorts {
    /// The port of `listener`; `None` for [`Listener::Plaintext`].
    pub(crate) fn port(&self, listener: Listener) -> Option<u16> {
        listener.index().map(|i| self.0[i])
    }

    /// `NAME://127.0.0.1:<port>` of every secured listener.
    pub(crate) fn listener_entries(&self) -> Vec<String> {
        Listener::SECURED
            .iter()
            .zip(self.0)
            .map(|(l, port)| format!("{}://127.0.0.1:{port}", l.name()))
            .collect()
    }
}

/// `NAME:PROTOCOL` of every secured listener, for `listener.security.protocol.map`.
pub(crate) fn protocol_map_entries() -> Vec<String> {
    Listener::SECURED
        .iter()
        .map(|l| format!("{}:{}", l.name(), l.security_protocol()))
        .collect()
}

/// The broker properties of the secured listeners (the listener lines themselves are
/// rendered with the node's ports in [`crate::node_config`]).
pub(crate) fn server_properties(
    certs: &CertFiles,
    users: &[SaslUser],
    reauthentication: Option<Duration>,
) -> Vec<(String, String)> {
    let path = |p: &std::path::Path| p.display().to_string();
    let mut props = vec![
        ("ssl.keystore.type".to_owned(), "PEM".to_owned()),
        (
            "ssl.keystore.location".to_owned(),
            path(&certs.server_keystore.path),
        ),
        ("ssl.truststore.type".to_owned(), "PEM".to_owned()),
        ("ssl.truststore.location".to_owned(), path(&certs.ca.path)),
        (
            format!("{}ssl.client.auth", Listener::Mtls.prefix()),
            "required".to_owned(),
        ),
        (
            format!("{}ssl.keystore.location", Listener::SslWrongHost.prefix()),
            path(&certs.wrong_host_keystore.path),
        ),
        (
            "sasl.enabled.mechanisms".to_owned(),
            SaslMechanism::ALL.map(SaslMechanism::name).join(","),
        ),
    ];
    for listener in [Listener::SaslPlaintext, Listener::SaslSsl] {
        for mechanism in SaslMechanism::ALL {
            props.push((
                format!(
                    "{}{}.sasl.jaas.config",
                    listener.prefix(),
                    mechanism.name().to_ascii_lowercase()
                ),
                broker_jaas_line(mechanism, users),
            ));
        }
        if let Some(every) = reauthentication {
            props.push((
                format!("{}connections.max.reauth.ms", listener.prefix()),
                every.as_millis().max(1).to_string(),
            ));
        }
    }
    props
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_protocols_and_ports() {
        let ports = SecuredPorts([11, 12, 13, 14, 15]);
        assert_eq!(ports.port(Listener::Plaintext), None);
        assert_eq!(ports.port(Listener::SaslSsl), Some(14));
        assert_eq!(
            ports.listener_entries(),
            [
                "SSL://127.0.0.1:11",
                "MTLS://127.0.0.1:12",
                "SASL_PLAINTEXT://127.0.0.1:13",
                "SASL_SSL://127.0.0.1:14",
                "SSL_WRONG_HOST://127.0.0.1:15",
            ]
        );
        assert_eq!(
            protocol_map_entries().join(","),
            "SSL:SSL,MTLS:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,SSL_WRONG_HOST:SSL"
        );
        assert!(Listener::SaslSsl.uses_tls() && Listener::SaslSsl.uses_sasl());
        assert!(!Listener::Mtls.uses_sasl() && !Listener::SaslPlaintext.uses_tls());
        assert_eq!(
            Listener::SslWrongHost.prefix(),
            "listener.name.ssl_wrong_host."
        );
    }

    #[test]
    fn server_properties_name_every_listener_setting() {
        let dir = std::env::temp_dir().join(format!("kiel-listeners-test-{}", std::process::id()));
        let certs = super::super::certs::generate(&dir).unwrap();
        let users = [SaslUser::new("alice", "pw").unwrap()];
        let props = server_properties(&certs, &users, Some(Duration::from_secs(10)));
        let get = |k: &str| {
            props
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("listener.name.mtls.ssl.client.auth"), Some("required"));
        assert_eq!(
            get("sasl.enabled.mechanisms"),
            Some("PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER")
        );
        assert!(get("listener.name.sasl_ssl.plain.sasl.jaas.config")
            .unwrap()
            .contains("user_alice=\"pw\""));
        assert!(get("listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config").is_some());
        assert_eq!(
            get("listener.name.sasl_ssl.connections.max.reauth.ms"),
            Some("10000")
        );
        assert!(get("listener.name.ssl_wrong_host.ssl.keystore.location")
            .unwrap()
            .ends_with("wrong-host-keystore.pem"));
        let without = server_properties(&certs, &users, None);
        assert!(!without.iter().any(|(k, _)| k.contains("reauth")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
