//! What a client needs to connect to one listener of a secured cluster, as Java client
//! properties (Kafka's own tools, the reference) and as librdkafka properties.
//!
//! A [`ClientConfig`] is made by [`crate::KafkaCluster::client_config`] and can be bent for
//! refusal tests: trust another CA, show another client certificate or none, log in with a
//! wrong password ([`crate::SaslUser::with_password`]), or add any Java property.
//!
//! # References
//! - Kafka client configs `security.protocol`, `ssl.truststore.type=PEM`,
//!   `ssl.keystore.type=PEM`, `sasl.mechanism`, `sasl.jaas.config`:
//!   <https://kafka.apache.org/documentation/#producerconfigs>
//! - librdkafka `CONFIGURATION.md` (`ssl.ca.location`, `ssl.certificate.location`,
//!   `ssl.key.location`, `sasl.mechanisms`, `sasl.username`, `sasl.password`,
//!   `enable.sasl.oauthbearer.unsecure.jwt`, `sasl.oauthbearer.config`)

use std::fmt;
use std::path::{Path, PathBuf};

use super::listeners::Listener;
use super::users::{client_jaas_line, SaslMechanism, SaslUser};

/// How a client authenticates on a listener, beyond TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// No SASL: for `PLAINTEXT`, `SSL`, `SSL_WRONG_HOST` and `MTLS` (whose client
    /// certificate the config carries by itself).
    None,
    /// SASL with this mechanism as this user (OAUTHBEARER: a token whose `sub` is the
    /// user's name; the password is not used).
    Sasl(SaslMechanism, SaslUser),
}

/// A client certificate: the certificate, its PKCS#8 key, and both in one file (the form
/// of a Java client's `ssl.keystore.type=PEM` keystore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientCertificate {
    /// The certificate (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM, PKCS#8, unencrypted).
    pub key: PathBuf,
    /// Key, certificate and CA in one PEM file.
    pub keystore: PathBuf,
}

/// Where and how a client connects to one listener. `Debug` shows no password.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientConfig {
    bootstrap: String,
    listener: Listener,
    ca: Option<PathBuf>,
    certificate: Option<ClientCertificate>,
    sasl: Option<(SaslMechanism, SaslUser)>,
    extra: Vec<(String, String)>,
}

impl ClientConfig {
    pub(crate) fn new(
        bootstrap: String,
        listener: Listener,
        ca: Option<PathBuf>,
        certificate: Option<ClientCertificate>,
        sasl: Option<(SaslMechanism, SaslUser)>,
    ) -> Self {
        Self {
            bootstrap,
            listener,
            ca,
            certificate,
            sasl,
            extra: Vec::new(),
        }
    }

    /// `host:port` of every node's listener, comma-separated (`bootstrap.servers`).
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// The listener this config connects to.
    pub fn listener(&self) -> Listener {
        self.listener
    }

    /// The CA file the client trusts (TLS listeners).
    pub fn ca(&self) -> Option<&Path> {
        self.ca.as_deref()
    }

    /// The client certificate it shows (the `MTLS` listener).
    pub fn client_certificate(&self) -> Option<&ClientCertificate> {
        self.certificate.as_ref()
    }

    /// The SASL mechanism and user (SASL listeners).
    pub fn sasl(&self) -> Option<(SaslMechanism, &SaslUser)> {
        self.sasl.as_ref().map(|(m, u)| (*m, u))
    }

    /// Trusts this CA file instead (e.g. [`crate::ClusterSecurity::other_ca_path`], which
    /// signed nothing the brokers serve).
    pub fn trusting(mut self, ca: impl Into<PathBuf>) -> Self {
        self.ca = Some(ca.into());
        self
    }

    /// Shows this client certificate instead, or none.
    pub fn with_client_certificate(mut self, certificate: Option<ClientCertificate>) -> Self {
        self.certificate = certificate;
        self
    }

    /// Adds a Java client property, after (and replacing) the config's own.
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((key.into(), value.into()));
        self
    }

    /// The Java client properties (Kafka's producer, consumer and tools), with
    /// `bootstrap.servers`. They hold the password in `sasl.jaas.config`.
    pub fn java_properties(&self) -> Vec<(String, String)> {
        let mut props = vec![
            ("bootstrap.servers".to_owned(), self.bootstrap.clone()),
            (
                "security.protocol".to_owned(),
                self.listener.security_protocol().to_owned(),
            ),
        ];
        if let Some(ca) = &self.ca {
            props.push(("ssl.truststore.type".to_owned(), "PEM".to_owned()));
            props.push(("ssl.truststore.location".to_owned(), display(ca)));
        }
        if let Some(cert) = &self.certificate {
            props.push(("ssl.keystore.type".to_owned(), "PEM".to_owned()));
            props.push(("ssl.keystore.location".to_owned(), display(&cert.keystore)));
        }
        if let Some((mechanism, user)) = &self.sasl {
            props.push(("sasl.mechanism".to_owned(), mechanism.name().to_owned()));
            props.push((
                "sasl.jaas.config".to_owned(),
                client_jaas_line(*mechanism, user),
            ));
        }
        for (key, value) in &self.extra {
            match props.iter_mut().find(|(k, _)| k == key) {
                Some(slot) => slot.1.clone_from(value),
                None => props.push((key.clone(), value.clone())),
            }
        }
        props
    }

    /// [`Self::java_properties`] as the text of a `.properties` file.
    pub fn java_properties_text(&self) -> String {
        self.java_properties()
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}\n",
                    crate::node_config::escape_properties(k, true),
                    crate::node_config::escape_properties(v, false)
                )
            })
            .collect()
    }

    /// The same connection as librdkafka properties (kcat `-X`, rust-rdkafka
    /// `ClientConfig::set`). Properties added with [`Self::property`] are Java's and are
    /// not carried over. Note that librdkafka 2.0.2 (Debian's kcat) failed SCRAM logins
    /// that Java's client made against the same broker.
    pub fn librdkafka_properties(&self) -> Vec<(String, String)> {
        let mut props = vec![
            ("bootstrap.servers".to_owned(), self.bootstrap.clone()),
            (
                "security.protocol".to_owned(),
                self.listener.security_protocol().to_ascii_lowercase(),
            ),
        ];
        if let Some(ca) = &self.ca {
            props.push(("ssl.ca.location".to_owned(), display(ca)));
        }
        if let Some(cert) = &self.certificate {
            props.push(("ssl.certificate.location".to_owned(), display(&cert.cert)));
            props.push(("ssl.key.location".to_owned(), display(&cert.key)));
        }
        if let Some((mechanism, user)) = &self.sasl {
            props.push(("sasl.mechanisms".to_owned(), mechanism.name().to_owned()));
            if *mechanism == SaslMechanism::OAuthBearer {
                props.push((
                    "enable.sasl.oauthbearer.unsecure.jwt".to_owned(),
                    "true".to_owned(),
                ));
                props.push((
                    "sasl.oauthbearer.config".to_owned(),
                    format!("principal={}", user.name()),
                ));
            } else {
                props.push(("sasl.username".to_owned(), user.name().to_owned()));
                props.push(("sasl.password".to_owned(), user.password().to_owned()));
            }
        }
        props
    }
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extra: Vec<(&str, &str)> = self
            .extra
            .iter()
            .map(|(k, v)| {
                let key = k.to_ascii_lowercase();
                let secret = ["password", "jaas", "secret", "token", "key"]
                    .iter()
                    .any(|s| key.contains(s));
                (k.as_str(), if secret { "<redacted>" } else { v.as_str() })
            })
            .collect();
        f.debug_struct("ClientConfig")
            .field("bootstrap", &self.bootstrap)
            .field("listener", &self.listener)
            .field("ca", &self.ca)
            .field("certificate", &self.certificate)
            .field("sasl", &self.sasl)
            .field("extra", &extra)
            .finish()
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scram_config() -> ClientConfig {
        ClientConfig::new(
            "127.0.0.1:1,127.0.0.1:2".to_owned(),
            Listener::SaslSsl,
            Some(PathBuf::from("/s/ca.pem")),
            None,
            Some((
                SaslMechanism::ScramSha512,
                SaslUser::new("alice", "pw-42").unwrap(),
            )),
        )
    }

    #[test]
    fn java_and_librdkafka_forms() {
        let config = scram_config().property("ssl.truststore.password", "tspw-9");
        let java = config.java_properties();
        let get = |props: &[(String, String)], k: &str| {
            props
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get(&java, "security.protocol").unwrap(), "SASL_SSL");
        assert_eq!(get(&java, "ssl.truststore.type").unwrap(), "PEM");
        assert_eq!(get(&java, "sasl.mechanism").unwrap(), "SCRAM-SHA-512");
        assert!(get(&java, "sasl.jaas.config")
            .unwrap()
            .contains("username=\"alice\" password=\"pw-42\""));
        assert_eq!(get(&java, "ssl.truststore.password").unwrap(), "tspw-9");
        let text = config.java_properties_text();
        assert!(
            text.contains("bootstrap.servers=127.0.0.1:1,127.0.0.1:2\n"),
            "{text}"
        );
        let rd = config.librdkafka_properties();
        assert_eq!(get(&rd, "security.protocol").unwrap(), "sasl_ssl");
        assert_eq!(get(&rd, "ssl.ca.location").unwrap(), "/s/ca.pem");
        assert_eq!(get(&rd, "sasl.password").unwrap(), "pw-42");
    }

    #[test]
    fn debug_shows_no_secret() {
        let config = scram_config().property("ssl.key.password", "kpw-7");
        let debug = format!("{config:?}");
        assert!(
            debug.contains("alice") && debug.contains("SaslSsl"),
            "{debug}"
        );
        assert!(
            !debug.contains("pw-42") && !debug.contains("kpw-7"),
            "{debug}"
        );
    }

    #[test]
    fn oauthbearer_and_mtls_forms() {
        let cert = ClientCertificate {
            cert: PathBuf::from("/s/c.pem"),
            key: PathBuf::from("/s/k.pem"),
            keystore: PathBuf::from("/s/ks.pem"),
        };
        let mtls = ClientConfig::new(
            "h:1".to_owned(),
            Listener::Mtls,
            Some(PathBuf::from("/s/ca.pem")),
            Some(cert),
            None,
        );
        let java = mtls.java_properties();
        assert!(java.contains(&("ssl.keystore.location".to_owned(), "/s/ks.pem".to_owned())));
        assert!(java.contains(&("security.protocol".to_owned(), "SSL".to_owned())));
        let rd = mtls.librdkafka_properties();
        assert!(rd.contains(&("ssl.key.location".to_owned(), "/s/k.pem".to_owned())));
        let oauth = ClientConfig::new(
            "h:1".to_owned(),
            Listener::SaslPlaintext,
            None,
            None,
            Some((
                SaslMechanism::OAuthBearer,
                SaslUser::new("bob", "unused").unwrap(),
            )),
        );
        let rd = oauth.librdkafka_properties();
        assert!(rd.contains(&(
            "sasl.oauthbearer.config".to_owned(),
            "principal=bob".to_owned()
        )));
        assert!(!oauth.java_properties_text().contains("ssl."));
    }
}
