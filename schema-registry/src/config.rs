//! Registry settings, by the names Confluent's serializers use.
//!
//! # References
//! - Confluent Schema Registry client configuration (`schema.registry.url`,
//!   `basic.auth.credentials.source`, `basic.auth.user.info`, `bearer.auth.token`,
//!   `auto.register.schemas`, `use.latest.version`, `normalize.schemas`,
//!   `subject.name.strategy`, `max.retries`, `retries.wait.ms`, `retries.max.wait.ms`)

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::subject::SubjectNameStrategy;

/// How the client proves who it is.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// HTTP Basic (`basic.auth.user.info` = `user:password`).
    Basic {
        /// The user (for Confluent Cloud: the registry API key).
        user: String,
        /// The password (the API secret).
        password: String,
    },
    /// A bearer token (`bearer.auth.token`).
    Bearer(String),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::None => f.write_str("None"),
            Self::Basic { user, .. } => write!(f, "Basic {{ user: {user:?}, password: [hidden] }}"),
            Self::Bearer(_) => f.write_str("Bearer([hidden])"),
        }
    }
}

/// Retries of requests that failed for want of a connection or with a 5xx answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retries {
    /// Retries after the first try (`max.retries`).
    pub max: u32,
    /// The wait before the first retry (`retries.wait.ms`); it doubles each time.
    pub initial_wait: Duration,
    /// The longest wait (`retries.max.wait.ms`).
    pub max_wait: Duration,
}

impl Default for Retries {
    fn default() -> Self {
        Self {
            max: 3,
            initial_wait: Duration::from_secs(1),
            max_wait: Duration::from_secs(20),
        }
    }
}

impl Retries {
    /// The wait before retry number `retry` (1 for the first retry), without jitter.
    pub fn wait(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(31);
        self.initial_wait
            .saturating_mul(1 << doublings)
            .min(self.max_wait)
    }
}

/// Settings of a registry client and of the serializers that use it.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// The registry's base URLs (`schema.registry.url`, comma-separated; the next is tried
    /// when one cannot be reached).
    pub urls: Vec<String>,
    /// Credentials.
    pub auth: Auth,
    /// A CA certificate (PEM file) trusted besides the system's roots.
    pub ca_location: Option<PathBuf>,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Retries on connection errors and 5xx answers.
    pub retries: Retries,
    /// Register a serializer's schema if the subject does not have it (`auto.register.schemas`).
    pub auto_register: bool,
    /// Serialize with the subject's latest schema instead of the type's own
    /// (`use.latest.version`).
    pub use_latest_version: bool,
    /// Ask the registry to normalize schemas (`normalize.schemas`).
    pub normalize: bool,
    /// How subjects are named (`subject.name.strategy`).
    pub subject_name_strategy: SubjectNameStrategy,
}

impl RegistryConfig {
    /// Settings for the registry at `url` (comma-separated URLs allowed), the rest default.
    pub fn new(url: &str) -> Result<Self> {
        let mut config = Self {
            urls: Vec::new(),
            auth: Auth::None,
            ca_location: None,
            request_timeout: Duration::from_secs(30),
            retries: Retries::default(),
            auto_register: true,
            use_latest_version: false,
            normalize: false,
            subject_name_strategy: SubjectNameStrategy::TopicName,
        };
        config.set("schema.registry.url", url)?;
        Ok(config)
    }

    /// Settings from `key = value` pairs by Confluent's names (`url` and `schema.registry.url`
    /// both name the URL, as in confluent-kafka's Python and Java clients).
    pub fn from_properties<I, K, V>(properties: I) -> Result<Self>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let properties: Vec<(String, String)> = properties
            .into_iter()
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        let url = properties
            .iter()
            .find(|(k, _)| k == "schema.registry.url" || k == "url")
            .map(|(_, v)| v.clone())
            .ok_or_else(|| Error::config("schema.registry.url", "not set"))?;
        let mut config = Self::new(&url)?;
        let source = properties
            .iter()
            .find(|(k, _)| k == "basic.auth.credentials.source")
            .map_or("USER_INFO", |(_, v)| v.as_str());
        if !matches!(source, "USER_INFO" | "URL") {
            return Err(Error::config(
                "basic.auth.credentials.source",
                format!("`{source}`: kiel supports USER_INFO and URL"),
            ));
        }
        for (key, value) in &properties {
            config.set(key, value)?;
        }
        Ok(config)
    }

    /// Applies one setting.
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let flag = |value: &str| match value {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(Error::config(
                key,
                format!("`{value}` is not true or false"),
            )),
        };
        let millis = |value: &str| {
            value
                .parse::<u64>()
                .map(Duration::from_millis)
                .map_err(|_| Error::config(key, format!("`{value}` is not milliseconds")))
        };
        match key {
            "schema.registry.url" | "url" => self.set_urls(value)?,
            "basic.auth.credentials.source" => {}
            "basic.auth.user.info" => {
                let (user, password) = value.split_once(':').ok_or_else(|| {
                    Error::config(
                        key,
                        "expected user:password (for Confluent Cloud: key:secret)",
                    )
                })?;
                self.auth = Auth::Basic {
                    user: user.to_owned(),
                    password: password.to_owned(),
                };
            }
            "bearer.auth.credentials.source" if value == "STATIC_TOKEN" => {}
            "bearer.auth.credentials.source" => {
                return Err(Error::config(
                    key,
                    format!("`{value}`: kiel supports STATIC_TOKEN (with bearer.auth.token)"),
                ))
            }
            "bearer.auth.token" => self.auth = Auth::Bearer(value.to_owned()),
            "schema.registry.ssl.ca.location" | "ssl.ca.location" => {
                self.ca_location = Some(PathBuf::from(value));
            }
            "http.read.timeout.ms" | "request.timeout.ms" => self.request_timeout = millis(value)?,
            "timeout" => {
                self.request_timeout = value
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s > 0.0)
                    .map(Duration::from_secs_f64)
                    .ok_or_else(|| Error::config(key, format!("`{value}` is not seconds")))?;
            }
            "max.retries" => {
                self.retries.max = value
                    .parse()
                    .map_err(|_| Error::config(key, format!("`{value}` is not a count")))?;
            }
            "retries.wait.ms" => self.retries.initial_wait = millis(value)?,
            "retries.max.wait.ms" => self.retries.max_wait = millis(value)?,
            "auto.register.schemas" => self.auto_register = flag(value)?,
            "use.latest.version" => self.use_latest_version = flag(value)?,
            "normalize.schemas" => self.normalize = flag(value)?,
            "subject.name.strategy" | "value.subject.name.strategy" => {
                self.subject_name_strategy = SubjectNameStrategy::from_setting(value)?;
            }
            _ => {
                return Err(Error::config(
                    key,
                    "not a schema registry setting kiel knows",
                ))
            }
        }
        Ok(())
    }

    fn set_urls(&mut self, value: &str) -> Result<()> {
        let mut urls = Vec::new();
        for url in value.split(',').map(str::trim).filter(|u| !u.is_empty()) {
            let parsed = reqwest::Url::parse(url).map_err(|e| {
                Error::config("schema.registry.url", format!("`{url}` is not a URL: {e}"))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(Error::config(
                    "schema.registry.url",
                    format!("`{url}`: only http and https URLs"),
                ));
            }
            if !parsed.username().is_empty() {
                // basic.auth.credentials.source=URL: the credentials ride in the URL.
                self.auth = Auth::Basic {
                    user: parsed.username().to_owned(),
                    password: parsed.password().unwrap_or_default().to_owned(),
                };
            }
            let mut clean = parsed;
            let _ = clean.set_username("");
            let _ = clean.set_password(None);
            urls.push(clean.as_str().trim_end_matches('/').to_owned());
        }
        if urls.is_empty() {
            return Err(Error::config("schema.registry.url", "no URL given"));
        }
        self.urls = urls;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confluent_names_are_understood() {
        let config = RegistryConfig::from_properties([
            (
                "schema.registry.url",
                "https://a.example.com/, https://b.example.com/apis/ccompat/v7",
            ),
            ("basic.auth.credentials.source", "USER_INFO"),
            ("basic.auth.user.info", "KEY:se:cret"),
            ("auto.register.schemas", "false"),
            ("use.latest.version", "true"),
            (
                "subject.name.strategy",
                "io.confluent.kafka.serializers.subject.RecordNameStrategy",
            ),
            ("max.retries", "5"),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            config.urls,
            [
                "https://a.example.com",
                "https://b.example.com/apis/ccompat/v7"
            ]
        );
        assert_eq!(
            config.auth,
            Auth::Basic {
                user: "KEY".into(),
                password: "se:cret".into()
            }
        );
        assert!(!config.auto_register && config.use_latest_version);
        assert_eq!(
            config.subject_name_strategy,
            SubjectNameStrategy::RecordName
        );
        assert_eq!(config.retries.max, 5);
        assert!(!format!("{config:?}").contains("se:cret"), "{config:?}");
    }

    #[test]
    fn credentials_in_the_url_are_taken_out_of_it() {
        let config = RegistryConfig::new("https://user:pw@registry.example.com:8081")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.urls, ["https://registry.example.com:8081"]);
        assert_eq!(
            config.auth,
            Auth::Basic {
                user: "user".into(),
                password: "pw".into()
            }
        );
    }

    #[test]
    fn bad_settings_name_their_key() {
        let key = |e: Error| match e {
            Error::Config { key, .. } => key,
            other => panic!("{other}"),
        };
        let refused = |pairs: &[(&str, &str)]| {
            key(RegistryConfig::from_properties(pairs.iter().copied())
                .err()
                .unwrap_or_else(|| panic!("accepted {pairs:?}")))
        };
        assert_eq!(
            refused(&[("basic.auth.user.info", "x:y")]),
            "schema.registry.url"
        );
        assert_eq!(refused(&[("url", "ftp://x")]), "schema.registry.url");
        assert_eq!(
            refused(&[("url", "http://x"), ("basic.auth.user.info", "nocolon")]),
            "basic.auth.user.info"
        );
        assert_eq!(
            refused(&[
                ("url", "http://x"),
                ("basic.auth.credentials.source", "SASL_INHERIT")
            ]),
            "basic.auth.credentials.source"
        );
        assert_eq!(
            refused(&[("url", "http://x"), ("auto.register.schemas", "yes")]),
            "auto.register.schemas"
        );
        assert_eq!(
            refused(&[("url", "http://x"), ("schema.registry.typo", "1")]),
            "schema.registry.typo"
        );
    }

    #[test]
    fn retry_waits_double_up_to_the_maximum() {
        let retries = Retries::default();
        let waits: Vec<u64> = (1..=7).map(|r| retries.wait(r).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 20, 20]);
        assert_eq!(retries.wait(u32::MAX), Duration::from_secs(20));
    }
}
