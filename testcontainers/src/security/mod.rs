//! Secured clusters: TLS, mTLS, SASL_PLAINTEXT and SASL_SSL listeners beside the
//! harness's own PLAINTEXT one, with certificates made at start-up and SASL users
//! created when the storage is formatted.
//!
//! [`crate::KafkaClusterBuilder::secured`] turns it on. Starting such a cluster:
//! 1. makes the certificates ([`certs`]) in the cluster's `security/` folder;
//! 2. runs `StorageTool format --add-scram` once into `security/storage-template/`, so the
//!    SCRAM-SHA-256 and SCRAM-SHA-512 credentials of every user are in the bootstrap
//!    metadata (KRaft has no ZooKeeper to put them in), and formats every node by copying
//!    that template;
//! 3. gives every node a port per secured listener ([`listeners`]) and the listener
//!    settings, PLAIN users in the JAAS lines.
//!
//! [`ClusterSecurity`] is what the cluster then exposes: the CA and client files (paths and
//! PEM text), the users, and via [`crate::KafkaCluster::client_config`] everything a
//! client needs for one listener.
//!
//! # References
//! - Kafka security docs: <https://kafka.apache.org/documentation/#security>
//! - KIP-554 / KRaft SCRAM bootstrap: Kafka `core/.../tools/StorageTool.scala`
//!   (`--add-scram`), `metadata/.../storage/ScramParser.java`
//! - `shared/design/kafka-harness/SECURITY-NOTES.md`

mod access;
pub(crate) mod certs;
mod client;
mod listeners;
mod users;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use client::{ClientAuth, ClientCertificate, ClientConfig};
pub use listeners::Listener;
pub use users::{unsecured_jwt, SaslMechanism, SaslUser};

pub(crate) use listeners::{protocol_map_entries, SecuredPorts};

use crate::error::Result;
use crate::java::JvmLauncher;

/// The name of the user a secured cluster has unless the builder names others.
pub const DEFAULT_SASL_USER: &str = "alice";

/// What the builder asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecuritySettings {
    /// SASL users; empty means the default one.
    pub(crate) users: Vec<SaslUser>,
    /// `connections.max.reauth.ms` of the SASL listeners.
    pub(crate) reauthentication: Option<Duration>,
}

/// The security material of a secured cluster: CA and client certificate files, SASL
/// users, and settings. From [`crate::KafkaCluster::security`].
///
/// Every user can log in with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 with its password,
/// and with OAUTHBEARER with an unsecured token whose `sub` is any name (see
/// [`unsecured_jwt`]). `Debug` shows no password and no private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterSecurity {
    dir: PathBuf,
    certs: certs::CertFiles,
    users: Vec<SaslUser>,
    reauthentication: Option<Duration>,
}

impl ClusterSecurity {
    /// Makes the certificates in `dir` and the SCRAM storage template; the users are the
    /// settings' or the default one with a random password.
    pub(crate) fn prepare(
        dir: &Path,
        settings: &SecuritySettings,
        launcher: &JvmLauncher,
        jvm_options: &[String],
    ) -> Result<Self> {
        let certs = certs::generate(dir)?;
        let users = if settings.users.is_empty() {
            vec![SaslUser::with_random_password(DEFAULT_SASL_USER)?]
        } else {
            settings.users.clone()
        };
        let security = Self {
            dir: dir.to_path_buf(),
            certs,
            users,
            reauthentication: settings.reauthentication,
        };
        crate::storage::format_template_with_scram(
            launcher,
            &security.storage_template(),
            dir,
            &users::add_scram_arguments(&security.users),
            jvm_options,
        )?;
        Ok(security)
    }

    /// The storage template with the SCRAM credentials, which the nodes copy.
    pub(crate) fn storage_template(&self) -> PathBuf {
        self.dir.join("storage-template")
    }

    /// The broker properties of the secured listeners (without the listener lines).
    pub(crate) fn server_properties(&self) -> Vec<(String, String)> {
        listeners::server_properties(&self.certs, &self.users, self.reauthentication)
    }

    /// The folder with every file named here (`<cluster folder>/security`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The cluster's CA certificate (PEM file): what a client trusts.
    pub fn ca_path(&self) -> &Path {
        &self.certs.ca.path
    }

    /// The cluster's CA certificate, PEM text.
    pub fn ca_pem(&self) -> &str {
        &self.certs.ca.pem
    }

    /// A second CA that signed nothing the brokers serve (PEM file): a client trusting
    /// only it must fail the TLS handshake.
    pub fn other_ca_path(&self) -> &Path {
        &self.certs.other_ca.path
    }

    /// The second CA, PEM text.
    pub fn other_ca_pem(&self) -> &str {
        &self.certs.other_ca.pem
    }

    /// The mTLS client certificate (PEM file), subject `CN=kiel-client`, signed by the
    /// cluster's CA.
    pub fn client_cert_path(&self) -> &Path {
        &self.certs.client_cert.path
    }

    /// The mTLS client certificate, PEM text.
    pub fn client_cert_pem(&self) -> &str {
        &self.certs.client_cert.pem
    }

    /// The mTLS client's private key (PEM file, PKCS#8, unencrypted).
    pub fn client_key_path(&self) -> &Path {
        &self.certs.client_key.path
    }

    /// The mTLS client's private key, PEM text.
    pub fn client_key_pem(&self) -> &str {
        &self.certs.client_key.pem
    }

    /// The mTLS client's certificate files, as a client config takes them.
    pub fn client_certificate(&self) -> ClientCertificate {
        ClientCertificate {
            cert: self.certs.client_cert.path.clone(),
            key: self.certs.client_key.path.clone(),
            keystore: self.certs.client_keystore.path.clone(),
        }
    }

    /// A client certificate signed by the other CA: the `MTLS` listener must refuse it.
    pub fn untrusted_client_certificate(&self) -> ClientCertificate {
        ClientCertificate {
            cert: self.certs.untrusted_client_cert.path.clone(),
            key: self.certs.untrusted_client_key.path.clone(),
            keystore: self.certs.untrusted_client_keystore.path.clone(),
        }
    }

    /// The host name on the `SSL_WRONG_HOST` listener's certificate (`wrong.example`).
    pub fn wrong_host_name(&self) -> &'static str {
        certs::WRONG_HOST_NAME
    }

    /// Every SASL user.
    pub fn users(&self) -> &[SaslUser] {
        &self.users
    }

    /// The first SASL user (by default `alice`, with a random password).
    pub fn user(&self) -> &SaslUser {
        &self.users[0]
    }

    /// `connections.max.reauth.ms` of the SASL listeners, when set.
    pub fn reauthentication(&self) -> Option<Duration> {
        self.reauthentication
    }
}
