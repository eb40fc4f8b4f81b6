//! The certificates of a secured cluster, made at start-up with `rcgen` and written as
//! PEM files into the cluster's `security/` folder.
//!
//! - `ca.pem`: the cluster's CA, which signs everything below except the untrusted pair;
//! - `server-keystore.pem`: the brokers' PKCS#8 key, their certificate (SAN `IP:127.0.0.1`
//!   and `DNS:localhost`, extended key usage server) and the CA: what Kafka's
//!   `ssl.keystore.type=PEM` reads (key first, then the chain); every node uses it;
//! - `server-cert.pem` and `server-key.pem`: the same certificate (with the CA) and key in
//!   files of their own, for servers that read them apart (the Schema Registry's HTTPS);
//! - `wrong-host-keystore.pem`: the same for a certificate whose only name is
//!   `DNS:wrong.example`, served on the `SSL_WRONG_HOST` listener, so a client checking
//!   host names must refuse it;
//! - `client-cert.pem`, `client-key.pem` (PKCS#8) and `client-keystore.pem` (both, for a
//!   Java client's PEM keystore): the mTLS client, subject `CN=kiel-client`;
//! - `other-ca.pem`: a second CA that signed nothing the brokers serve: a client that
//!   trusts only it must fail the handshake;
//! - `untrusted-client-*.pem`: a client certificate signed by the other CA, which the
//!   `MTLS` listener must refuse.
//!
//! Keys are ECDSA P-256 (rcgen's default), which Java's PEM keystore, OpenSSL and rustls
//! all read. Validity is rcgen's default (1975 to 4096): no test runs into expiry.
//!
//! # References
//! - Kafka `clients/.../security/ssl/DefaultSslEngineFactory.java` (`PemStore`: PKCS#8
//!   key followed by the certificate chain; RSA, DSA or EC keys)
//! - RFC 5280 (subjectAltName, key usage, extended key usage)
//! - rcgen: <https://docs.rs/rcgen>

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::error::{HarnessError, Result};

/// The host name on the wrong-host listener's certificate: never 127.0.0.1's.
pub(crate) const WRONG_HOST_NAME: &str = "wrong.example";

/// The subject of the mTLS client certificate; Kafka's principal is `User:CN=kiel-client`.
pub(crate) const CLIENT_COMMON_NAME: &str = "kiel-client";

/// A PEM file the harness wrote and its text.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct PemFile {
    pub(crate) path: PathBuf,
    pub(crate) pem: String,
    /// Whether it holds a private key (then `Debug` does not show the text).
    secret: bool,
}

impl fmt::Debug for PemFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("PemFile");
        s.field("path", &self.path);
        if self.secret {
            s.field("pem", &"<private key redacted>");
        } else {
            s.field("pem", &format!("<{} bytes>", self.pem.len()));
        }
        s.finish()
    }
}

/// Every certificate file of a secured cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CertFiles {
    pub(crate) ca: PemFile,
    pub(crate) other_ca: PemFile,
    pub(crate) server_keystore: PemFile,
    /// The server certificate and the CA (for servers that read key and chain apart).
    pub(crate) server_cert: PemFile,
    /// The server's PKCS#8 key alone.
    pub(crate) server_key: PemFile,
    pub(crate) wrong_host_keystore: PemFile,
    pub(crate) client_cert: PemFile,
    pub(crate) client_key: PemFile,
    pub(crate) client_keystore: PemFile,
    pub(crate) untrusted_client_cert: PemFile,
    pub(crate) untrusted_client_key: PemFile,
    pub(crate) untrusted_client_keystore: PemFile,
}

/// A CA: its certificate in PEM and what signs with it.
struct Authority {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

/// A leaf certificate and its key, in PEM.
struct Leaf {
    cert: String,
    key: String,
}

/// Makes every certificate and writes the files into `dir` (created).
pub(crate) fn generate(dir: &Path) -> Result<CertFiles> {
    std::fs::create_dir_all(dir)
        .map_err(|e| HarnessError::io(format!("creating {}", dir.display()), e))?;
    let ca = authority("kiel-testcontainers CA")?;
    let other_ca = authority("kiel-testcontainers other CA (trusted by no broker)")?;
    let localhost = [
        SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        SanType::DnsName(dns_name("localhost")?),
    ];
    let server = leaf(
        &ca,
        "kiel-broker",
        &localhost,
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    let wrong_host = leaf(
        &ca,
        "kiel-broker-wrong-host",
        &[SanType::DnsName(dns_name(WRONG_HOST_NAME)?)],
        ExtendedKeyUsagePurpose::ServerAuth,
    )?;
    let client = leaf(
        &ca,
        CLIENT_COMMON_NAME,
        &[],
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;
    let untrusted = leaf(
        &other_ca,
        "kiel-untrusted-client",
        &[],
        ExtendedKeyUsagePurpose::ClientAuth,
    )?;
    let keystore = |leaf: &Leaf, ca: &Authority| format!("{}{}{}", leaf.key, leaf.cert, ca.pem);
    Ok(CertFiles {
        ca: write(dir, "ca.pem", ca.pem.clone(), false)?,
        other_ca: write(dir, "other-ca.pem", other_ca.pem.clone(), false)?,
        server_keystore: write(dir, "server-keystore.pem", keystore(&server, &ca), true)?,
        server_cert: write(
            dir,
            "server-cert.pem",
            format!("{}{}", server.cert, ca.pem),
            false,
        )?,
        server_key: write(dir, "server-key.pem", server.key.clone(), true)?,
        wrong_host_keystore: write(
            dir,
            "wrong-host-keystore.pem",
            keystore(&wrong_host, &ca),
            true,
        )?,
        client_cert: write(dir, "client-cert.pem", client.cert.clone(), false)?,
        client_key: write(dir, "client-key.pem", client.key.clone(), true)?,
        client_keystore: write(dir, "client-keystore.pem", keystore(&client, &ca), true)?,
        untrusted_client_cert: write(
            dir,
            "untrusted-client-cert.pem",
            untrusted.cert.clone(),
            false,
        )?,
        untrusted_client_key: write(dir, "untrusted-client-key.pem", untrusted.key.clone(), true)?,
        untrusted_client_keystore: write(
            dir,
            "untrusted-client-keystore.pem",
            keystore(&untrusted, &other_ca),
            true,
        )?,
    })
}

fn authority(common_name: &str) -> Result<Authority> {
    let key = KeyPair::generate().map_err(rcgen_error)?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).map_err(rcgen_error)?;
    Ok(Authority {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    })
}

fn leaf(
    ca: &Authority,
    common_name: &str,
    names: &[SanType],
    usage: ExtendedKeyUsagePurpose,
) -> Result<Leaf> {
    let key = KeyPair::generate().map_err(rcgen_error)?;
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.subject_alt_names = names.to_vec();
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![usage];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&key, &ca.issuer).map_err(rcgen_error)?;
    Ok(Leaf {
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}

fn dns_name(name: &str) -> Result<rcgen::string::Ia5String> {
    name.to_owned().try_into().map_err(rcgen_error)
}

fn write(dir: &Path, name: &str, pem: String, secret: bool) -> Result<PemFile> {
    let path = dir.join(name);
    std::fs::write(&path, &pem)
        .map_err(|e| HarnessError::io(format!("writing {}", path.display()), e))?;
    Ok(PemFile { path, pem, secret })
}

fn rcgen_error(e: rcgen::Error) -> HarnessError {
    HarnessError::io(
        "generating the secured cluster's certificates",
        std::io::Error::other(e.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_hold_pkcs8_keys_and_chains_and_debug_hides_keys() {
        let dir = std::env::temp_dir().join(format!("kiel-certs-test-{}", std::process::id()));
        let files = generate(&dir).unwrap();
        let count = |text: &str, what: &str| text.matches(what).count();
        let ks = &files.server_keystore.pem;
        assert!(ks.starts_with("-----BEGIN PRIVATE KEY-----"), "{ks}");
        assert_eq!(count(ks, "BEGIN CERTIFICATE"), 2, "server and CA");
        assert!(ks.ends_with(&files.ca.pem), "the chain ends with the CA");
        assert_eq!(count(&files.ca.pem, "BEGIN CERTIFICATE"), 1);
        assert_ne!(files.ca.pem, files.other_ca.pem);
        assert!(files
            .client_key
            .pem
            .starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(files
            .untrusted_client_keystore
            .pem
            .ends_with(&files.other_ca.pem));
        for file in [&files.ca, &files.client_key, &files.wrong_host_keystore] {
            assert_eq!(std::fs::read_to_string(&file.path).unwrap(), file.pem);
        }
        let debug = format!("{files:?}");
        assert!(!debug.contains("PRIVATE KEY"), "{debug}");
        assert!(debug.contains("client-key.pem"), "{debug}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
