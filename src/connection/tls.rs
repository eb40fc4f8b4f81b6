//! TLS for broker connections: the client configuration built once from [`Tls`] (trusted
//! roots, client certificate, verification), the handshake over a TCP stream, and what a
//! failed handshake means in words a user can act on.
//!
//! Roots: the CA given (`ssl.ca.location` / `ssl.ca.pem`) and nothing else; otherwise the
//! system's trusted roots, and Mozilla's (built in) where the system has none, as in a
//! static binary in an empty container.
//!
//! # References
//! - rustls `ClientConfig`, `danger::ServerCertVerifier`; RFC 8446 (TLS 1.3) alerts
//! - Java `SslFactory` / librdkafka `rdkafka_ssl.c` (which settings mean what)

use std::net::IpAddr;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::{ConnectionError, Transport};
use crate::config::{Pem, Tls};
use crate::error::{Error, Result};

impl Transport for TlsStream<TcpStream> {
    type Read = tokio::io::ReadHalf<Self>;
    type Write = tokio::io::WriteHalf<Self>;

    fn split(self) -> (Self::Read, Self::Write) {
        tokio::io::split(self)
    }
}

/// The TLS client side of every connection of one producer.
#[derive(Clone)]
pub(crate) struct TlsConnector {
    connector: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for TlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConnector").finish_non_exhaustive()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Reads the PEM text a setting names.
fn pem_text(pem: &Pem, setting: &str) -> Result<Vec<u8>> {
    pem.read(setting)
}

fn certificates(pem: &Pem, setting: &str) -> Result<Vec<CertificateDer<'static>>> {
    let text = pem_text(pem, setting)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&text)
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| Error::config(setting, format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(Error::config(
            setting,
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----); JKS and PKCS12 stores are \
             not supported: export them as PEM",
        ));
    }
    Ok(certs)
}

/// The client's private key: PKCS#8 (encrypted with `password` or not), PKCS#1 RSA or SEC1
/// EC, the first key in the PEM text.
fn private_key(pem: &Pem, password: Option<&str>) -> Result<PrivateKeyDer<'static>> {
    let setting = "ssl.key.location";
    let text = pem_text(pem, setting)?;
    let as_str = String::from_utf8_lossy(&text);
    if as_str.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        let Some(password) = password else {
            return Err(Error::config(
                "ssl.key.password",
                "the private key is encrypted: give its password",
            ));
        };
        let start = as_str
            .find("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            .unwrap_or_default();
        let end_marker = "-----END ENCRYPTED PRIVATE KEY-----";
        let end = as_str[start..]
            .find(end_marker)
            .map_or(as_str.len(), |e| start + e + end_marker.len());
        let (_, document) = pkcs8::SecretDocument::from_pem(&as_str[start..end])
            .map_err(|e| Error::config(setting, format!("unreadable encrypted key: {e}")))?;
        let encrypted = pkcs8::EncryptedPrivateKeyInfoRef::try_from(document.as_bytes())
            .map_err(|e| Error::config(setting, format!("unreadable encrypted key: {e}")))?;
        let decrypted = encrypted.decrypt(password).map_err(|e| {
            Error::config(
                "ssl.key.password",
                format!("cannot decrypt the private key (wrong password?): {e}"),
            )
        })?;
        return Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            decrypted.as_bytes().to_vec(),
        )));
    }
    PrivateKeyDer::from_pem_slice(&text).map_err(|e| {
        Error::config(
            setting,
            format!("holds no PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC): {e}"),
        )
    })
}

/// The roots to trust: the CA given, or the system's (Mozilla's where the system has none).
fn roots(tls: &Tls) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    if let Some(ca) = &tls.ca {
        let (added, _ignored) =
            roots.add_parsable_certificates(certificates(ca, "ssl.ca.location")?);
        if added == 0 {
            return Err(Error::config(
                "ssl.ca.location",
                "none of its certificates can be used as a trust anchor",
            ));
        }
        return Ok(roots);
    }
    let system = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(system.certs);
    if added == 0 {
        tracing::debug!("no trusted roots on this system; using Mozilla's, built in");
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    Ok(roots)
}

impl TlsConnector {
    /// Builds the client configuration: every file is read and checked now, so a bad
    /// setting fails `Producer::new` with an error naming it.
    pub(crate) fn new(tls: &Tls) -> Result<Self> {
        let provider = provider();
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::config("security.protocol", format!("TLS: {e}")))?;
        let builder = if !tls.verify_certificate {
            tracing::warn!(
                "enable.ssl.certificate.verification=false: any broker certificate is accepted; \
                 the connection is encrypted, but anyone can pose as the broker"
            );
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
        } else {
            let webpki = WebPkiServerVerifier::builder_with_provider(
                Arc::new(roots(tls)?),
                Arc::clone(&provider),
            )
            .build()
            .map_err(|e| Error::config("ssl.ca.location", format!("TLS roots: {e}")))?;
            if tls.verify_hostname {
                builder.with_webpki_verifier(webpki)
            } else {
                tracing::warn!(
                    "ssl.endpoint.identification.algorithm is empty: a broker certificate for any \
                     host name is accepted (its chain is still checked)"
                );
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyHostName(webpki)))
            }
        };
        let config = match (&tls.certificate, &tls.key) {
            (Some(certificate), Some(key)) => {
                let chain = certificates(certificate, "ssl.certificate.location")?;
                let key = private_key(key, tls.key_password.as_ref().map(|p| p.expose()))?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    Error::config(
                        "ssl.key.location",
                        format!("the private key does not fit the client certificate: {e}"),
                    )
                })?
            }
            _ => builder.with_no_client_auth(),
        };
        Ok(Self {
            connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
        })
    }

    /// Runs the TLS handshake with the broker at `host` over `tcp`.
    pub(crate) async fn connect(
        &self,
        host: &str,
        tcp: TcpStream,
    ) -> std::result::Result<TlsStream<TcpStream>, ConnectionError> {
        let name = match host.parse::<IpAddr>() {
            Ok(ip) => ServerName::IpAddress(ip.into()),
            Err(_) => ServerName::try_from(host.to_owned()).map_err(|e| ConnectionError::Tls {
                reason: format!("`{host}` is not a valid TLS server name: {e}"),
            })?,
        };
        self.connector
            .connect(name, tcp)
            .await
            .map_err(|e| handshake_error(host, &e))
    }
}

/// A TLS failure that surfaced as an IO error after the handshake (with TLS 1.3 a broker
/// that refuses the client certificate says so on the first read), in words a user can act
/// on; `None` if the error is not a TLS one.
pub(crate) fn tls_failure(error: &std::io::Error) -> Option<ConnectionError> {
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())?;
    Some(ConnectionError::Tls {
        reason: describe(None, tls),
    })
}

/// What a failed TLS handshake means, and which setting to look at.
fn handshake_error(host: &str, error: &std::io::Error) -> ConnectionError {
    let tls = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>());
    let reason = match tls {
        Some(tls) => describe(Some(host), tls),
        None if error.kind() == std::io::ErrorKind::UnexpectedEof => {
            return ConnectionError::Io(
                "the broker closed the connection during the TLS handshake: is this a \
                 plaintext listener? (security.protocol PLAINTEXT or SASL_PLAINTEXT)"
                    .to_owned(),
            )
        }
        None => return ConnectionError::io("TLS handshake failed", error),
    };
    ConnectionError::Tls { reason }
}

/// A TLS error in words: what is wrong and which setting to look at.
fn describe(host: Option<&str>, tls: &rustls::Error) -> String {
    let host = host.unwrap_or("the broker's address");
    match tls {
        rustls::Error::InvalidCertificate(cause) => match cause {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
                "the broker's certificate is not signed by a trusted CA ({tls}): set \
                 ssl.ca.location (or ssl.ca.pem) to the CA that signed it"
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                format!(
                    "the broker's certificate is not valid for `{host}` ({tls}): connect by a \
                     name the certificate has, or (not recommended) set \
                     ssl.endpoint.identification.algorithm= to skip the name check"
                )
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                format!("the broker's certificate has expired ({tls})")
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                format!("the broker's certificate is not valid yet ({tls}); is this machine's clock right?")
            }
            other => format!("the broker's certificate was refused: {other:?}"),
        },
        rustls::Error::AlertReceived(alert) => match alert {
            rustls::AlertDescription::CertificateRequired
            | rustls::AlertDescription::HandshakeFailure
            | rustls::AlertDescription::BadCertificate => format!(
                "the broker refused the handshake ({alert:?}): it probably requires a client \
                 certificate (mutual TLS): set ssl.certificate.location and ssl.key.location \
                 (or check the ones given)"
            ),
            rustls::AlertDescription::UnknownCA => format!(
                "the broker does not trust the client certificate's CA ({alert:?}): check \
                 ssl.certificate.location"
            ),
            other => format!("the broker sent TLS alert {other:?}"),
        },
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => {
            "the broker's answer is not TLS: is this a plaintext listener? (security.protocol \
             PLAINTEXT or SASL_PLAINTEXT)"
                .to_owned()
        }
        other => format!("TLS failed: {other}"),
    }
}

/// Checks the chain as usual but accepts any host name
/// (`ssl.endpoint.identification.algorithm=`).
#[derive(Debug)]
struct AnyHostName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// Accepts any certificate (`enable.ssl.certificate.verification=false`); the handshake's
/// signatures are still checked, so the peer holds the key of the certificate it shows.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// Test certificates and keys made once with openssl (`testdata/`): a self-signed RSA
    /// 2048 certificate with its key as PKCS#8, PKCS#1 and encrypted PKCS#8 (AES-256-CBC,
    /// password `kiel-test`), and a self-signed P-256 certificate with its key as PKCS#8 and
    /// SEC1.
    fn testdata(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("src/connection/testdata")
            .join(name)
    }

    fn client(certificate: &str, key: &str) -> Tls {
        Tls::default()
            .ca_file(testdata(certificate))
            .client_certificate_files(testdata(certificate), testdata(key))
    }

    #[test]
    fn rsa_and_ec_client_keys_in_every_pem_form_are_accepted() {
        for (certificate, key) in [
            ("rsa.crt", "rsa-pkcs8.key"),
            ("rsa.crt", "rsa-pkcs1.key"),
            ("ec.crt", "ec-pkcs8.key"),
            ("ec.crt", "ec-sec1.key"),
        ] {
            TlsConnector::new(&client(certificate, key))
                .unwrap_or_else(|e| panic!("{certificate} with {key}: {e}"));
        }
        TlsConnector::new(&client("rsa.crt", "rsa-encrypted.key").key_password("kiel-test"))
            .unwrap_or_else(|e| panic!("encrypted RSA key: {e}"));
    }

    #[test]
    fn key_problems_name_the_setting_to_look_at() {
        let refused = |tls: Tls| match TlsConnector::new(&tls) {
            Err(Error::Config { key, message }) => format!("{key}: {message}"),
            Err(other) => panic!("not a configuration error: {other}"),
            Ok(_) => panic!("accepted"),
        };
        let no_password = refused(client("rsa.crt", "rsa-encrypted.key"));
        assert!(no_password.starts_with("ssl.key.password"), "{no_password}");
        let wrong_password = refused(client("rsa.crt", "rsa-encrypted.key").key_password("not-it"));
        assert!(
            wrong_password.starts_with("ssl.key.password"),
            "{wrong_password}"
        );
        assert!(
            wrong_password.contains("wrong password"),
            "{wrong_password}"
        );
        let mismatched = refused(client("rsa.crt", "ec-pkcs8.key"));
        assert!(mismatched.contains("ssl.key.location"), "{mismatched}");
        let missing = refused(client("rsa.crt", "no-such.key"));
        assert!(missing.starts_with("ssl.key.location"), "{missing}");
        assert!(missing.contains("no-such.key"), "{missing}");
    }
}
