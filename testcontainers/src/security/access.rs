//! What a secured [`KafkaCluster`] exposes: its security material, each listener's
//! bootstrap addresses, and complete client configurations.
//!
//! # References
//! - [`crate::security`] (how a secured cluster is set up)

use super::client::{ClientAuth, ClientConfig};
use super::listeners::Listener;
use super::ClusterSecurity;
use crate::cluster::{ClusterKind, KafkaCluster};
use crate::error::{HarnessError, Result};

impl KafkaCluster {
    /// The certificates, keys and SASL users of a cluster started with
    /// [`crate::KafkaClusterBuilder::secured`]; `None` for any other cluster.
    pub fn security(&self) -> Option<&ClusterSecurity> {
        self.security.as_ref()
    }

    /// `127.0.0.1:<port>` of `listener` on every node, comma-separated: what a client's
    /// `bootstrap.servers` takes. [`Listener::Plaintext`] gives [`Self::bootstrap`]; the
    /// others need a secured cluster.
    pub fn bootstrap_for(&self, listener: Listener) -> Result<String> {
        if listener == Listener::Plaintext {
            return Ok(self.bootstrap());
        }
        self.secured_cluster(listener)?;
        let addresses: Vec<String> = self
            .nodes
            .iter()
            .filter_map(|n| n.ports().secured?.port(listener))
            .map(|port| format!("127.0.0.1:{port}"))
            .collect();
        Ok(addresses.join(","))
    }

    /// Everything a client needs to connect to `listener` and authenticate with `auth`:
    /// bootstrap addresses, the CA to trust (TLS listeners), the client certificate
    /// (`MTLS`), the SASL mechanism and user (SASL listeners). SASL listeners need
    /// [`ClientAuth::Sasl`], the others [`ClientAuth::None`].
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), kiel_testcontainers::HarnessError> {
    /// use kiel_testcontainers::{ClientAuth, KafkaCluster, Listener, SaslMechanism};
    ///
    /// let cluster = KafkaCluster::builder().secured().start().await?;
    /// let user = cluster.security().expect("secured").user().clone();
    /// let config = cluster.client_config(
    ///     Listener::SaslSsl,
    ///     ClientAuth::Sasl(SaslMechanism::ScramSha512, user),
    /// )?;
    /// for (key, value) in config.java_properties() {
    ///     println!("{key}={value}");
    /// }
    /// # Ok(()) }
    /// ```
    pub fn client_config(&self, listener: Listener, auth: ClientAuth) -> Result<ClientConfig> {
        let bootstrap = self.bootstrap_for(listener)?;
        let sasl = match (listener.uses_sasl(), auth) {
            (true, ClientAuth::Sasl(mechanism, user)) => Some((mechanism, user)),
            (false, ClientAuth::None) => None,
            (true, ClientAuth::None) => {
                return Err(HarnessError::InvalidArgument(format!(
                    "the {listener} listener needs ClientAuth::Sasl"
                )))
            }
            (false, ClientAuth::Sasl(..)) => {
                return Err(HarnessError::InvalidArgument(format!(
                    "the {listener} listener takes no SASL login (ClientAuth::None)"
                )))
            }
        };
        let security = self.security.as_ref();
        let ca = security
            .filter(|_| listener.uses_tls())
            .map(|s| s.ca_path().to_path_buf());
        let certificate = security
            .filter(|_| listener == Listener::Mtls)
            .map(ClusterSecurity::client_certificate);
        Ok(ClientConfig::new(
            bootstrap,
            listener,
            ca,
            certificate,
            sasl,
        ))
    }

    /// The cluster's security, or an error saying how to get a secured cluster.
    fn secured_cluster(&self, listener: Listener) -> Result<&ClusterSecurity> {
        match (&self.security, self.kind) {
            (Some(security), ClusterKind::Local) => Ok(security),
            _ => Err(HarnessError::InvalidArgument(format!(
                "this cluster has no {listener} listener: start one with \
                 KafkaCluster::builder().secured()"
            ))),
        }
    }
}
