//! How the producer reaches a secured cluster: [`Security`] (`security.protocol`), its TLS
//! settings ([`Tls`]) and its SASL login ([`Sasl`]), and [`Secret`], the string that never
//! shows in `Debug`, `Display` or logs.
//!
//! Set them with [`ProducerBuilder::security`](crate::ProducerBuilder::security), or by the
//! property names Java and librdkafka users already have (`security.protocol`,
//! `sasl.mechanism`, `sasl.username`, `sasl.jaas.config`, `ssl.ca.location`,
//! `ssl.truststore.location`, ...; [`ProducerConfig::settings`](super::ProducerConfig::settings)
//! lists them all).
//!
//! # References
//! - Java `CommonClientConfigs` / `SslConfigs` / `SaslConfigs` (names, defaults)
//! - librdkafka `CONFIGURATION.md` (`ssl.*`, `sasl.*` names)
//! - KIP-43 (SASL mechanisms), KIP-84 (SCRAM), KIP-255 (OAUTHBEARER), KIP-651 (PEM stores)

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::sasl::TokenProvider;

/// A secret: a password, a private key, a token. `Debug` and `Display` print `[hidden]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret string.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for the code that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Self::new(secret)
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Self::new(secret)
    }
}

/// `security.protocol`: how connections to the brokers are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SecurityProtocol {
    /// Plain TCP, no authentication. The default.
    #[default]
    Plaintext,
    /// TLS, authenticated by the client certificate if the listener asks for one.
    Ssl,
    /// SASL authentication over plain TCP.
    SaslPlaintext,
    /// SASL authentication over TLS: what managed cloud clusters use.
    SaslSsl,
}

impl SecurityProtocol {
    /// The name as configured (`PLAINTEXT`, `SSL`, `SASL_PLAINTEXT`, `SASL_SSL`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Plaintext => "PLAINTEXT",
            Self::Ssl => "SSL",
            Self::SaslPlaintext => "SASL_PLAINTEXT",
            Self::SaslSsl => "SASL_SSL",
        }
    }

    /// Whether connections use TLS.
    pub const fn uses_tls(self) -> bool {
        matches!(self, Self::Ssl | Self::SaslSsl)
    }

    /// Whether connections authenticate with SASL.
    pub const fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

impl fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SecurityProtocol {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Ok(Self::Plaintext),
            "SSL" => Ok(Self::Ssl),
            "SASL_PLAINTEXT" => Ok(Self::SaslPlaintext),
            "SASL_SSL" => Ok(Self::SaslSsl),
            _ => Err(Error::config(
                "security.protocol",
                format!("`{s}` is not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"),
            )),
        }
    }
}

/// PEM text, from a file or given inline.
#[derive(Clone, PartialEq, Eq)]
pub enum Pem {
    /// A file holding PEM blocks.
    File(PathBuf),
    /// The PEM text itself (a private key's is a secret).
    Inline(Secret),
}

impl Pem {
    /// The PEM text: the file's content, or the inline text. `setting` names the setting
    /// in the error when the file cannot be read.
    pub(crate) fn read(&self, setting: &str) -> crate::error::Result<Vec<u8>> {
        match self {
            Self::File(path) => std::fs::read(path).map_err(|e| {
                crate::error::Error::config(setting, format!("cannot read {}: {e}", path.display()))
            }),
            Self::Inline(text) => Ok(text.expose().as_bytes().to_vec()),
        }
    }
}

impl fmt::Debug for Pem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File(path) => f.debug_tuple("File").field(path).finish(),
            Self::Inline(_) => f.write_str("Inline([hidden])"),
        }
    }
}

/// TLS settings (`security.protocol` SSL or SASL_SSL).
///
/// The broker's certificate is checked against the system's trusted roots (with Mozilla's
/// roots, built in, where the system has none), or only against the CA given with
/// [`Tls::ca_file`] / [`Tls::ca_pem`], and its name against the broker's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    pub(crate) ca: Option<Pem>,
    pub(crate) certificate: Option<Pem>,
    pub(crate) key: Option<Pem>,
    pub(crate) key_password: Option<Secret>,
    pub(crate) verify_hostname: bool,
    pub(crate) verify_certificate: bool,
}

impl Default for Tls {
    fn default() -> Self {
        Self {
            ca: None,
            certificate: None,
            key: None,
            key_password: None,
            verify_hostname: true,
            verify_certificate: true,
        }
    }
}

impl Tls {
    /// Trust only the CA certificates in this PEM file (`ssl.ca.location`,
    /// `ssl.truststore.location` with type PEM).
    pub fn ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca = Some(Pem::File(path.into()));
        self
    }

    /// Trust only the CA certificates in this PEM text (`ssl.ca.pem`,
    /// `ssl.truststore.certificates`).
    pub fn ca_pem(mut self, pem: impl Into<String>) -> Self {
        self.ca = Some(Pem::Inline(Secret::new(pem)));
        self
    }

    /// A client certificate (chain) and its private key, PEM files, for mutual TLS
    /// (`ssl.certificate.location`, `ssl.key.location`). The key may be PKCS#8 (encrypted
    /// with [`Tls::key_password`] or not), PKCS#1 RSA or SEC1 EC.
    pub fn client_certificate_files(
        mut self,
        certificate: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.certificate = Some(Pem::File(certificate.into()));
        self.key = Some(Pem::File(key.into()));
        self
    }

    /// A client certificate (chain) and its private key as PEM text (`ssl.certificate.pem`,
    /// `ssl.key.pem`).
    pub fn client_certificate_pem(
        mut self,
        certificate: impl Into<String>,
        key: impl Into<Secret>,
    ) -> Self {
        self.certificate = Some(Pem::Inline(Secret::new(certificate)));
        self.key = Some(Pem::Inline(key.into()));
        self
    }

    /// The password of an encrypted PKCS#8 private key (`ssl.key.password`).
    pub fn key_password(mut self, password: impl Into<Secret>) -> Self {
        self.key_password = Some(password.into());
        self
    }

    /// Accept a broker certificate whatever host name it is for
    /// (`ssl.endpoint.identification.algorithm=`). The chain is still checked. Logged as a
    /// warning: anyone with a certificate from the same CA can pose as the broker.
    pub fn skip_hostname_verification(mut self) -> Self {
        self.verify_hostname = false;
        self
    }

    /// Accept any broker certificate at all (`enable.ssl.certificate.verification=false`).
    /// Logged as a warning: the connection is encrypted but anyone can pose as the broker.
    pub fn skip_certificate_verification(mut self) -> Self {
        self.verify_certificate = false;
        self
    }
}

/// A SASL mechanism (`sasl.mechanism`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SaslMechanism {
    /// `PLAIN`: user name and password, in the clear (use it over TLS only).
    Plain,
    /// `SCRAM-SHA-256` (RFC 7677).
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
    /// `OAUTHBEARER` (RFC 7628): a token from a [`TokenProvider`].
    OAuthBearer,
}

impl SaslMechanism {
    /// The mechanism's name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Plain => "PLAIN",
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::OAuthBearer => "OAUTHBEARER",
        }
    }
}

impl fmt::Display for SaslMechanism {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SaslMechanism {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_uppercase().as_str() {
            "PLAIN" => Ok(Self::Plain),
            "SCRAM-SHA-256" => Ok(Self::ScramSha256),
            "SCRAM-SHA-512" => Ok(Self::ScramSha512),
            "OAUTHBEARER" => Ok(Self::OAuthBearer),
            "GSSAPI" => Err(Error::config(
                "sasl.mechanism",
                "GSSAPI (Kerberos) is not supported; use PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER",
            )),
            _ => Err(Error::config(
                "sasl.mechanism",
                format!("`{s}` is not one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER"),
            )),
        }
    }
}

/// A SASL login: the mechanism and what it needs.
#[derive(Clone, Default)]
pub struct Sasl {
    /// `None` only while properties are being read (`sasl.username` before
    /// `sasl.mechanism`); validation insists on one.
    pub(crate) mechanism: Option<SaslMechanism>,
    pub(crate) username: String,
    pub(crate) password: Secret,
    pub(crate) token_provider: Option<Arc<dyn TokenProvider>>,
    /// OAUTHBEARER settings given as properties, from which a provider is built.
    pub(crate) oauth: OAuthSettings,
}

/// The `sasl.oauthbearer.*` properties (and the OAuthBearerLoginModule's JAAS options).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct OAuthSettings {
    /// `sasl.oauthbearer.method`: `default` (an unsecured development token) or `oidc`.
    pub method: Option<String>,
    /// `sasl.oauthbearer.token.endpoint.url`.
    pub token_endpoint: Option<String>,
    /// `sasl.oauthbearer.client.id`.
    pub client_id: Option<String>,
    /// `sasl.oauthbearer.client.secret`.
    pub client_secret: Option<Secret>,
    /// `sasl.oauthbearer.scope`.
    pub scope: Option<String>,
    /// `sasl.oauthbearer.extensions`: `key=value,...` sent with the token.
    pub extensions: Vec<(String, String)>,
    /// The unsecured token's principal (`sasl.oauthbearer.config` `principal=`, or JAAS
    /// `unsecuredLoginStringClaim_sub`).
    pub unsecured_principal: Option<String>,
    /// The unsecured token's scope claim (`scope=` / `unsecuredLoginListClaim_scope`).
    pub unsecured_scope: Vec<String>,
    /// The unsecured token's lifetime in seconds (`lifeSeconds=` /
    /// `unsecuredLoginLifetimeSeconds`).
    pub unsecured_lifetime_secs: Option<u64>,
}

impl fmt::Debug for Sasl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Sasl");
        d.field("mechanism", &self.mechanism);
        if self.mechanism == Some(SaslMechanism::OAuthBearer) {
            d.field("token_provider", &self.token_provider)
                .field("oauth", &self.oauth);
        } else {
            d.field("username", &self.username)
                .field("password", &self.password);
        }
        d.finish()
    }
}

impl PartialEq for Sasl {
    fn eq(&self, other: &Self) -> bool {
        self.mechanism == other.mechanism
            && self.username == other.username
            && self.password == other.password
            && self.oauth == other.oauth
            && match (&self.token_provider, &other.token_provider) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b),
                (None, None) => true,
                _ => false,
            }
    }
}

impl Sasl {
    fn with_password(mechanism: SaslMechanism, username: &str, password: Secret) -> Self {
        Self {
            mechanism: Some(mechanism),
            username: username.to_owned(),
            password,
            ..Self::default()
        }
    }

    /// `PLAIN` with a user name and password (on Confluent Cloud: the API key and secret).
    pub fn plain(username: &str, password: impl Into<Secret>) -> Self {
        Self::with_password(SaslMechanism::Plain, username, password.into())
    }

    /// `SCRAM-SHA-256` with a user name and password.
    pub fn scram_sha256(username: &str, password: impl Into<Secret>) -> Self {
        Self::with_password(SaslMechanism::ScramSha256, username, password.into())
    }

    /// `SCRAM-SHA-512` with a user name and password.
    pub fn scram_sha512(username: &str, password: impl Into<Secret>) -> Self {
        Self::with_password(SaslMechanism::ScramSha512, username, password.into())
    }

    /// `OAUTHBEARER` with tokens from `provider` (called again before each token expires).
    pub fn oauthbearer(provider: Arc<dyn TokenProvider>) -> Self {
        Self {
            mechanism: Some(SaslMechanism::OAuthBearer),
            token_provider: Some(provider),
            ..Self::default()
        }
    }

    /// The mechanism, once set.
    pub fn mechanism(&self) -> Option<SaslMechanism> {
        self.mechanism
    }
}

/// How the producer reaches the brokers: `security.protocol` with its TLS settings and SASL
/// login. The default is plain TCP.
///
/// ```
/// use kiel::config::{Sasl, Security, Tls};
/// // Confluent Cloud: SASL_SSL with PLAIN (API key and secret), the system's CAs.
/// let cloud = Security::sasl_ssl(Sasl::plain("API_KEY", "API_SECRET"));
/// // A self-hosted cluster with its own CA, and SCRAM.
/// let own = Security::sasl_ssl(Sasl::scram_sha512("alice", "secret"))
///     .tls(Tls::default().ca_file("/etc/kafka/ca.pem"));
/// // Mutual TLS.
/// let mtls = Security::ssl(Tls::default().ca_file("ca.pem").client_certificate_files("me.pem", "me.key"));
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Security {
    pub(crate) protocol: SecurityProtocol,
    pub(crate) tls: Tls,
    pub(crate) sasl: Option<Sasl>,
}

impl Security {
    /// Plain TCP, no authentication (`PLAINTEXT`).
    pub fn plaintext() -> Self {
        Self::default()
    }

    /// TLS (`SSL`) with these settings.
    pub fn ssl(tls: Tls) -> Self {
        Self {
            protocol: SecurityProtocol::Ssl,
            tls,
            sasl: None,
        }
    }

    /// SASL over plain TCP (`SASL_PLAINTEXT`).
    pub fn sasl_plaintext(sasl: Sasl) -> Self {
        Self {
            protocol: SecurityProtocol::SaslPlaintext,
            tls: Tls::default(),
            sasl: Some(sasl),
        }
    }

    /// SASL over TLS (`SASL_SSL`), trusting the system's CAs until [`Security::tls`] says
    /// otherwise.
    pub fn sasl_ssl(sasl: Sasl) -> Self {
        Self {
            protocol: SecurityProtocol::SaslSsl,
            tls: Tls::default(),
            sasl: Some(sasl),
        }
    }

    /// Replaces the TLS settings.
    pub fn tls(mut self, tls: Tls) -> Self {
        self.tls = tls;
        self
    }

    /// `security.protocol`.
    pub fn protocol(&self) -> SecurityProtocol {
        self.protocol
    }

    /// The SASL login, if any.
    pub fn sasl(&self) -> Option<&Sasl> {
        self.sasl.as_ref()
    }

    /// Checks that the settings fit together; the error names the setting to fix.
    pub(crate) fn validate(&self) -> Result<()> {
        let protocol = self.protocol;
        match (&self.sasl, protocol.uses_sasl()) {
            (Some(_), false) => {
                return Err(Error::config(
                    "security.protocol",
                    format!(
                        "SASL settings (sasl.*) are given but security.protocol is {protocol}; \
                         use SASL_SSL or SASL_PLAINTEXT, or remove the sasl.* settings"
                    ),
                ))
            }
            (None, true) => {
                return Err(Error::config(
                    "sasl.mechanism",
                    format!("security.protocol is {protocol}, which needs a SASL login: set sasl.mechanism and its credentials"),
                ))
            }
            (Some(sasl), true) => sasl.validate()?,
            (None, false) => {}
        }
        let tls = &self.tls;
        let tls_given = tls.ca.is_some() || tls.certificate.is_some() || tls.key.is_some();
        if tls_given && !protocol.uses_tls() {
            return Err(Error::config(
                "security.protocol",
                format!("TLS settings (ssl.*) are given but security.protocol is {protocol}; use SSL or SASL_SSL"),
            ));
        }
        match (&tls.certificate, &tls.key) {
            (Some(_), None) => {
                return Err(Error::config(
                    "ssl.key.location",
                    "a client certificate is given without its private key",
                ))
            }
            (None, Some(_)) => {
                return Err(Error::config(
                    "ssl.certificate.location",
                    "a private key is given without its client certificate",
                ))
            }
            _ => {}
        }
        if tls.key_password.is_some() && tls.key.is_none() {
            return Err(Error::config(
                "ssl.key.password",
                "a key password is given without a private key",
            ));
        }
        Ok(())
    }
}

impl Default for Secret {
    fn default() -> Self {
        Self::new("")
    }
}

impl Sasl {
    fn validate(&self) -> Result<()> {
        let Some(mechanism) = self.mechanism else {
            return Err(Error::config(
                "sasl.mechanism",
                "SASL settings are given without sasl.mechanism (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER)",
            ));
        };
        if mechanism == SaslMechanism::OAuthBearer {
            return self.validate_oauth();
        }
        if self.username.is_empty() {
            return Err(Error::config(
                "sasl.username",
                format!("{mechanism} needs a user name (sasl.username, or username=\"...\" in sasl.jaas.config)"),
            ));
        }
        if self.password.expose().is_empty() {
            return Err(Error::config(
                "sasl.password",
                format!("{mechanism} needs a password (sasl.password, or password=\"...\" in sasl.jaas.config)"),
            ));
        }
        Ok(())
    }

    fn validate_oauth(&self) -> Result<()> {
        if self.token_provider.is_some() {
            return Ok(());
        }
        let oauth = &self.oauth;
        match oauth
            .method
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("oidc") => {
                if oauth.token_endpoint.is_none() {
                    return Err(Error::config(
                        "sasl.oauthbearer.token.endpoint.url",
                        "sasl.oauthbearer.method=oidc needs the token endpoint's URL",
                    ));
                }
                if oauth.client_id.is_none() || oauth.client_secret.is_none() {
                    return Err(Error::config(
                        "sasl.oauthbearer.client.id",
                        "sasl.oauthbearer.method=oidc needs sasl.oauthbearer.client.id and sasl.oauthbearer.client.secret",
                    ));
                }
                if !cfg!(feature = "oidc") {
                    return Err(Error::config(
                        "sasl.oauthbearer.method",
                        "sasl.oauthbearer.method=oidc needs kiel built with the `oidc` feature",
                    ));
                }
                Ok(())
            }
            None | Some("default") => {
                if oauth.unsecured_principal.is_none() {
                    return Err(Error::config(
                        "sasl.oauthbearer.config",
                        "OAUTHBEARER needs a token: sasl.oauthbearer.method=oidc with a token endpoint, an unsecured development token (sasl.oauthbearer.config=principal=<name>, or unsecuredLoginStringClaim_sub in sasl.jaas.config), or Sasl::oauthbearer(provider)",
                    ));
                }
                Ok(())
            }
            Some(other) => Err(Error::config(
                "sasl.oauthbearer.method",
                format!("`{other}` is not one of default, oidc"),
            )),
        }
    }
}

/// The `key="value"` options of a `sasl.jaas.config` line, e.g.
/// `org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="secret";`.
/// Returns the login module's class name and the options.
pub(crate) fn parse_jaas(text: &str) -> Result<(String, Vec<(String, String)>)> {
    let invalid = |why: &str| Error::config("sasl.jaas.config", why.to_owned());
    let text = text.trim().trim_end_matches(';').trim();
    let mut rest = text;
    let module_end = rest
        .find(char::is_whitespace)
        .ok_or_else(|| invalid("expected `<LoginModule class> required key=\"value\" ...;`"))?;
    let module = rest[..module_end].to_owned();
    rest = rest[module_end..].trim_start();
    let flag_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let flag = &rest[..flag_end];
    if !matches!(flag, "required" | "requisite" | "sufficient" | "optional") {
        return Err(invalid(
            "expected a control flag (`required`) after the login module",
        ));
    }
    rest = rest[flag_end..].trim_start();
    let mut options = Vec::new();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| invalid("expected key=\"value\" options"))?;
        let key = rest[..eq].trim().to_owned();
        rest = rest[eq + 1..].trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            out.push(escaped);
                        }
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    c => out.push(c),
                }
            }
            let end = end.ok_or_else(|| invalid("a quoted value is not closed"))?;
            value = out;
            rest = quoted[end + 1..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            value = rest[..end].to_owned();
            rest = rest[end..].trim_start();
        }
        if key.is_empty() {
            return Err(invalid("an option has no name"));
        }
        options.push((key, value));
    }
    Ok((module, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show() {
        let sasl = Sasl::scram_sha512("alice", "s3cret");
        let security = Security::sasl_ssl(sasl).tls(
            Tls::default()
                .client_certificate_pem("CERT", "-----BEGIN PRIVATE KEY-----xyz")
                .key_password("kp"),
        );
        let shown = format!("{security:?}");
        assert!(!shown.contains("s3cret") && !shown.contains("xyz") && !shown.contains("kp\""));
        assert!(
            shown.contains("alice") && shown.contains("[hidden]"),
            "{shown}"
        );
    }

    #[test]
    fn jaas_lines_of_the_three_login_modules() {
        let (module, options) = parse_jaas(
            r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="api-key" password="p=a\"ss";"#,
        )
        .unwrap();
        assert_eq!(
            module,
            "org.apache.kafka.common.security.plain.PlainLoginModule"
        );
        assert_eq!(
            options,
            [
                ("username".to_owned(), "api-key".to_owned()),
                ("password".to_owned(), "p=a\"ss".to_owned())
            ]
        );
        let (_, options) = parse_jaas(
            "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required unsecuredLoginStringClaim_sub=\"admin\" unsecuredLoginLifetimeSeconds=3600;",
        )
        .unwrap();
        assert_eq!(
            options[1],
            ("unsecuredLoginLifetimeSeconds".into(), "3600".into())
        );
        assert!(parse_jaas("ScramLoginModule username=\"a\"").is_err());
        assert!(parse_jaas("ScramLoginModule required username=\"a").is_err());
    }

    #[test]
    fn contradictions_name_the_setting() {
        let key = |s: Security| match s.validate() {
            Err(Error::Config { key, .. }) => key,
            other => panic!("{other:?}"),
        };
        let mut ssl_with_sasl = Security::ssl(Tls::default());
        ssl_with_sasl.sasl = Some(Sasl::plain("a", "b"));
        assert_eq!(key(ssl_with_sasl), "security.protocol");
        let mut sasl_without_login = Security::sasl_ssl(Sasl::plain("a", "b"));
        sasl_without_login.sasl = None;
        assert_eq!(key(sasl_without_login), "sasl.mechanism");
        let no_mechanism = Security::sasl_ssl(Sasl {
            username: "a".into(),
            password: Secret::new("b"),
            ..Sasl::default()
        });
        assert_eq!(key(no_mechanism), "sasl.mechanism");
        let mut bearer_without_token = Sasl::plain("a", "b");
        bearer_without_token.mechanism = Some(SaslMechanism::OAuthBearer);
        assert_eq!(
            key(Security::sasl_ssl(bearer_without_token)),
            "sasl.oauthbearer.config"
        );
        assert_eq!(
            key(Security::sasl_ssl(Sasl::plain("", "b"))),
            "sasl.username"
        );
        assert_eq!(
            key(Security::sasl_ssl(Sasl::scram_sha256("a", ""))),
            "sasl.password"
        );
        let key_only = Tls {
            key: Some(Pem::File("k.pem".into())),
            ..Tls::default()
        };
        assert_eq!(key(Security::ssl(key_only)), "ssl.certificate.location");
        let plaintext_with_ca = Security {
            tls: Tls::default().ca_file("ca.pem"),
            ..Security::default()
        };
        assert_eq!(key(plaintext_with_ca), "security.protocol");
        assert!(Security::ssl(Tls::default().ca_file("ca.pem"))
            .validate()
            .is_ok());
    }
}
