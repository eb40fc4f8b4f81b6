//! The settings kiel knows by name: one table that [`ProducerConfig::set`] parses through,
//! [`ProducerConfig::get`] prints from, and tools list (`kiel produce -X list`).
//!
//! Each entry has the Java name first, then the librdkafka aliases, the default as text, a
//! one-line description, and how to parse and show its value.
//!
//! # References
//! - Java `ProducerConfig` (names and defaults, Kafka 4.x)
//! - librdkafka `CONFIGURATION.md` (aliases)

use std::time::Duration;

use super::security::{parse_jaas, Pem, Sasl, SaslMechanism, Secret};
use super::{Acks, ProducerConfig};
use crate::error::{Error, Result};

/// One setting kiel knows: its names, default and meaning.
#[derive(Clone, Copy)]
pub struct Setting {
    /// The Java client's name (kiel-only settings have a name of the same style).
    pub name: &'static str,
    /// Other names accepted for it (librdkafka's).
    pub aliases: &'static [&'static str],
    /// The default value, as it would be written in a properties file (empty: none).
    pub default: &'static str,
    /// What it does, in one line.
    pub description: &'static str,
    apply: fn(&mut ProducerConfig, &str, &str) -> Result<()>,
    show: fn(&ProducerConfig) -> String,
}

impl std::fmt::Debug for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Setting")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .field("default", &self.default)
            .finish_non_exhaustive()
    }
}

impl Setting {
    /// Whether `key` names this setting.
    pub fn is_named(&self, key: &str) -> bool {
        self.name == key || self.aliases.contains(&key)
    }

    pub(super) fn apply(&self, config: &mut ProducerConfig, key: &str, value: &str) -> Result<()> {
        (self.apply)(config, key, value)
    }

    pub(super) fn show(&self, config: &ProducerConfig) -> String {
        (self.show)(config)
    }
}

fn parse_ms(key: &str, value: &str) -> Result<Duration> {
    value
        .trim()
        .parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| Error::config(key, format!("`{value}` is not a number of milliseconds")))
}

fn parse_usize(key: &str, value: &str) -> Result<usize> {
    value
        .trim()
        .parse::<usize>()
        .map_err(|_| Error::config(key, format!("`{value}` is not a non-negative integer")))
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::config(
            key,
            format!("`{value}` is not true or false"),
        )),
    }
}

fn parse_level(key: &str, value: &str) -> Result<i32> {
    value
        .trim()
        .parse::<i32>()
        .map_err(|_| Error::config(key, format!("`{value}` is not an integer")))
}

fn parse_share(key: &str, value: &str) -> Result<f64> {
    match value.trim().parse::<f64>() {
        Ok(share) if share > 0.0 && share <= 1.0 => Ok(share),
        _ => Err(Error::config(
            key,
            format!("`{value}` is not a fraction above 0 and at most 1 (e.g. 0.125)"),
        )),
    }
}

fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}

macro_rules! duration_setting {
    ($name:literal, [$($alias:literal),*], $default:literal, $description:literal, $field:ident) => {
        Setting {
            name: $name,
            aliases: &[$($alias),*],
            default: $default,
            description: $description,
            apply: |c, k, v| {
                c.$field = parse_ms(k, v)?;
                Ok(())
            },
            show: |c| ms(c.$field),
        }
    };
}

macro_rules! size_setting {
    ($name:literal, [$($alias:literal),*], $default:literal, $description:literal, $field:ident) => {
        Setting {
            name: $name,
            aliases: &[$($alias),*],
            default: $default,
            description: $description,
            apply: |c, k, v| {
                c.$field = parse_usize(k, v)?;
                Ok(())
            },
            show: |c| c.$field.to_string(),
        }
    };
}

/// Every setting kiel knows, in the order `kiel produce -X list` prints them.
pub(super) const SETTINGS: &[Setting] = &[
    Setting {
        name: "bootstrap.servers",
        aliases: &["metadata.broker.list"],
        default: "",
        description: "brokers to learn the cluster from (host:port, comma-separated)",
        apply: |c, _, v| {
            c.bootstrap_servers = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            Ok(())
        },
        show: |c| c.bootstrap_servers.join(","),
    },
    Setting {
        name: "client.id",
        aliases: &[],
        default: "kiel",
        description: "the name sent to the brokers in every request",
        apply: |c, _, v| {
            c.client_id = v.to_owned();
            Ok(())
        },
        show: |c| c.client_id.clone(),
    },
    Setting {
        name: "acks",
        aliases: &["request.required.acks"],
        default: "all",
        description: "acknowledgements the leader waits for: 0, 1, all (-1)",
        apply: |c, k, v| {
            c.acks = v.parse().map_err(|_| {
                Error::config(k, format!("`{v}` is not one of 0, 1, all, -1"))
            })?;
            Ok(())
        },
        show: |c| {
            match c.acks {
                Acks::None => "0",
                Acks::Leader => "1",
                Acks::All => "all",
            }
            .to_owned()
        },
    },
    duration_setting!(
        "linger.ms",
        ["queue.buffering.max.ms"],
        "5",
        "how long a batch waits for more records before it is sent",
        linger
    ),
    size_setting!(
        "batch.size",
        [],
        "16384",
        "bytes per partition batch; also the sticky partitioner's switch size",
        batch_size
    ),
    size_setting!(
        "buffer.memory",
        [],
        "33554432",
        "bytes of records held before produce answers QueueFull (send waits)",
        buffer_memory
    ),
    Setting {
        name: "queue.buffering.max.kbytes",
        aliases: &[],
        default: "32768",
        description: "buffer.memory in KiB (librdkafka's name)",
        apply: |c, k, v| {
            c.buffer_memory = parse_usize(k, v)?.saturating_mul(1024);
            Ok(())
        },
        show: |c| (c.buffer_memory / 1024).to_string(),
    },
    Setting {
        name: "buffer.memory.metadata.wait.share",
        aliases: &[],
        default: "0.125",
        description: "share of buffer.memory records waiting for their topic's metadata may hold",
        apply: |c, k, v| {
            c.metadata_wait_share = parse_share(k, v)?;
            Ok(())
        },
        show: |c| c.metadata_wait_share.to_string(),
    },
    size_setting!(
        "max.request.size",
        ["message.max.bytes"],
        "1048576",
        "largest request kiel sends, and so the largest record",
        max_request_size
    ),
    Setting {
        name: "compression.type",
        aliases: &["compression.codec"],
        default: "none",
        description: "none, gzip, snappy, lz4, zstd",
        apply: |c, k, v| {
            c.compression = v
                .trim()
                .parse()
                .map_err(|e| Error::config(k, format!("{e}")))?;
            Ok(())
        },
        show: |c| c.compression.to_string(),
    },
    Setting {
        name: "compression.level",
        aliases: &[
            "compression.gzip.level",
            "compression.lz4.level",
            "compression.zstd.level",
        ],
        default: "",
        description: "the codec's level (empty: the codec's default)",
        apply: |c, k, v| {
            c.compression_level = Some(parse_level(k, v)?);
            Ok(())
        },
        show: |c| c.compression_level.map(|l| l.to_string()).unwrap_or_default(),
    },
    Setting {
        name: "enable.idempotence",
        aliases: &[],
        default: "true",
        description: "exactly-once per partition; turns off quietly with acks other than all unless set",
        apply: |c, k, v| {
            c.enable_idempotence = Some(parse_bool(k, v)?);
            Ok(())
        },
        show: |c| c.idempotence().to_string(),
    },
    Setting {
        name: "transactional.id",
        aliases: &[],
        default: "",
        description: "makes the producer transactional under this id (init_transactions, begin, commit)",
        apply: |c, k, v| {
            let id = v.trim();
            if id.is_empty() {
                c.transactional_id = None;
            } else if id.len() > i16::MAX as usize {
                return Err(Error::config(k, "longer than 32767 bytes"));
            } else {
                c.transactional_id = Some(id.to_owned());
            }
            Ok(())
        },
        show: |c| c.transactional_id.clone().unwrap_or_default(),
    },
    duration_setting!(
        "transaction.timeout.ms",
        [],
        "60000",
        "how long the coordinator lets a transaction stay open before aborting it",
        transaction_timeout
    ),
    Setting {
        name: "retries",
        aliases: &["message.send.max.retries"],
        default: "2147483647",
        description: "how often a batch is retried (delivery.timeout.ms is the real bound)",
        apply: |c, k, v| {
            let n = v
                .trim()
                .parse::<i64>()
                .map_err(|_| Error::config(k, format!("`{v}` is not an integer")))?;
            if n < 0 {
                return Err(Error::config(k, "must not be negative"));
            }
            c.retries = n.min(i64::from(u32::MAX)) as u32;
            Ok(())
        },
        show: |c| c.retries.to_string(),
    },
    duration_setting!(
        "retry.backoff.ms",
        [],
        "100",
        "first wait before a retry",
        retry_backoff
    ),
    duration_setting!(
        "retry.backoff.max.ms",
        [],
        "1000",
        "the retry wait doubles up to this (with 20% jitter)",
        retry_backoff_max
    ),
    duration_setting!(
        "request.timeout.ms",
        [],
        "30000",
        "how long to wait for a broker's answer",
        request_timeout
    ),
    duration_setting!(
        "delivery.timeout.ms",
        ["message.timeout.ms"],
        "120000",
        "upper bound from produce to a record's outcome; at least linger.ms + request.timeout.ms",
        delivery_timeout
    ),
    size_setting!(
        "max.in.flight.requests.per.connection",
        ["max.in.flight"],
        "5",
        "unanswered requests per broker connection (at most 5 with idempotence)",
        max_in_flight
    ),
    duration_setting!(
        "max.block.ms",
        [],
        "60000",
        "how long send waits for buffer room and records wait for their topic's metadata",
        max_block
    ),
    duration_setting!(
        "metadata.max.age.ms",
        [],
        "300000",
        "metadata is refreshed at least this often",
        metadata_max_age
    ),
    duration_setting!(
        "socket.connection.setup.timeout.ms",
        [],
        "10000",
        "connect timeout, ApiVersions handshake included",
        connect_timeout
    ),
    duration_setting!(
        "reconnect.backoff.ms",
        [],
        "50",
        "wait before reconnecting to a broker",
        reconnect_backoff
    ),
    duration_setting!(
        "statistics.interval.ms",
        [],
        "0",
        "how often the statistics callback gets a metrics snapshot (0: never)",
        statistics_interval
    ),
    duration_setting!(
        "reconnect.backoff.max.ms",
        [],
        "1000",
        "the reconnect wait doubles per failed attempt up to this",
        reconnect_backoff_max
    ),
    Setting {
        name: "partitioner.class",
        aliases: &["partitioner"],
        default: "default",
        description: "default, murmur2, murmur2_random, consistent_random, random, round_robin, uniform_sticky",
        apply: |c, k, v| {
            c.partitioner = v
                .trim()
                .parse()
                .map_err(|e| Error::config(k, format!("{e}")))?;
            Ok(())
        },
        show: |c| c.partitioner.to_string(),
    },
    Setting {
        name: "partitioner.ignore.keys",
        aliases: &[],
        default: "false",
        description: "place keyed records like keyless ones",
        apply: |c, k, v| {
            c.partitioner_ignore_keys = parse_bool(k, v)?;
            Ok(())
        },
        show: |c| c.partitioner_ignore_keys.to_string(),
    },
    Setting {
        name: "client.dns.lookup",
        aliases: &[],
        default: "use_all_dns_ips",
        description: "every address a host name resolves to is tried (the only way kiel resolves)",
        apply: |_, k, v| match v.trim() {
            "use_all_dns_ips" | "default" => Ok(()),
            other => Err(Error::config(
                k,
                format!("`{other}` is not supported; kiel tries every address of a host (use_all_dns_ips)"),
            )),
        },
        show: |_| "use_all_dns_ips".to_owned(),
    },
    Setting {
        name: "security.protocol",
        aliases: &[],
        default: "PLAINTEXT",
        description: "PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL",
        apply: |c, _, v| {
            c.security.protocol = v.parse()?;
            Ok(())
        },
        show: |c| c.security.protocol.name().to_owned(),
    },
    Setting {
        name: "sasl.mechanism",
        aliases: &["sasl.mechanisms"],
        default: "",
        description: "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER",
        apply: |c, _, v| {
            sasl(c).mechanism = Some(v.parse::<SaslMechanism>()?);
            Ok(())
        },
        show: |c| {
            c.security
                .sasl
                .as_ref()
                .and_then(|s| s.mechanism)
                .map(|m| m.name().to_owned())
                .unwrap_or_default()
        },
    },
    Setting {
        name: "sasl.username",
        aliases: &[],
        default: "",
        description: "the SASL user name (PLAIN, SCRAM); on Confluent Cloud the API key",
        apply: |c, _, v| {
            sasl(c).username = v.to_owned();
            Ok(())
        },
        show: |c| c.security.sasl.as_ref().map(|s| s.username.clone()).unwrap_or_default(),
    },
    Setting {
        name: "sasl.password",
        aliases: &[],
        default: "",
        description: "the SASL password (PLAIN, SCRAM); on Confluent Cloud the API secret",
        apply: |c, _, v| {
            sasl(c).password = Secret::new(v);
            Ok(())
        },
        show: |c| hidden(c.security.sasl.as_ref().is_some_and(|s| !s.password.expose().is_empty())),
    },
    Setting {
        name: "sasl.jaas.config",
        aliases: &[],
        default: "",
        description: "Java's login line: PlainLoginModule / ScramLoginModule username=\"..\" password=\"..\", or OAuthBearerLoginModule unsecuredLoginStringClaim_sub=\"..\"",
        apply: |c, k, v| apply_jaas(c, k, v),
        show: |c| hidden(c.security.sasl.as_ref().is_some_and(|s| !s.password.expose().is_empty())),
    },
    Setting {
        name: "sasl.oauthbearer.method",
        aliases: &[],
        default: "default",
        description: "default (an unsecured development token from sasl.oauthbearer.config) or oidc (client credentials)",
        apply: |c, k, v| match v.trim().to_ascii_lowercase().as_str() {
            method @ ("default" | "oidc") => {
                sasl(c).oauth.method = Some(method.to_owned());
                Ok(())
            }
            _ => Err(Error::config(k, format!("`{v}` is not one of default, oidc"))),
        },
        show: |c| {
            c.security
                .sasl
                .as_ref()
                .and_then(|s| s.oauth.method.clone())
                .unwrap_or_else(|| "default".to_owned())
        },
    },
    Setting {
        name: "sasl.oauthbearer.token.endpoint.url",
        aliases: &[],
        default: "",
        description: "the OIDC token endpoint (client credentials grant)",
        apply: |c, _, v| {
            sasl(c).oauth.token_endpoint = Some(v.trim().to_owned());
            Ok(())
        },
        show: |c| oauth_field(c, |o| o.token_endpoint.clone()),
    },
    Setting {
        name: "sasl.oauthbearer.client.id",
        aliases: &[],
        default: "",
        description: "the OIDC client id",
        apply: |c, _, v| {
            sasl(c).oauth.client_id = Some(v.trim().to_owned());
            Ok(())
        },
        show: |c| oauth_field(c, |o| o.client_id.clone()),
    },
    Setting {
        name: "sasl.oauthbearer.client.secret",
        aliases: &[],
        default: "",
        description: "the OIDC client secret",
        apply: |c, _, v| {
            sasl(c).oauth.client_secret = Some(Secret::new(v));
            Ok(())
        },
        show: |c| hidden(c.security.sasl.as_ref().is_some_and(|s| s.oauth.client_secret.is_some())),
    },
    Setting {
        name: "sasl.oauthbearer.scope",
        aliases: &[],
        default: "",
        description: "the scope asked of the OIDC token endpoint",
        apply: |c, _, v| {
            sasl(c).oauth.scope = Some(v.trim().to_owned());
            Ok(())
        },
        show: |c| oauth_field(c, |o| o.scope.clone()),
    },
    Setting {
        name: "sasl.oauthbearer.extensions",
        aliases: &[],
        default: "",
        description: "SASL extensions sent with the token: key=value,key=value",
        apply: |c, k, v| {
            sasl(c).oauth.extensions = parse_pairs(k, v, ',')?;
            Ok(())
        },
        show: |c| oauth_field(c, |o| Some(join_pairs(&o.extensions, ","))),
    },
    Setting {
        name: "sasl.oauthbearer.config",
        aliases: &[],
        default: "",
        description: "an unsecured development token: principal=<sub> [scope=a,b] [lifeSeconds=3600] [extension_<k>=<v>]",
        apply: |c, k, v| apply_unsecured_token_config(c, k, v),
        show: |c| oauth_field(c, |o| o.unsecured_principal.clone().map(|p| format!("principal={p}"))),
    },
    Setting {
        name: "enable.sasl.oauthbearer.unsecure.jwt",
        aliases: &[],
        default: "false",
        description: "librdkafka's switch for unsecured development tokens; kiel makes one whenever sasl.oauthbearer.config names a principal",
        apply: |_, k, v| parse_bool(k, v).map(drop),
        show: |c| {
            c.security
                .sasl
                .as_ref()
                .is_some_and(|s| s.oauth.unsecured_principal.is_some())
                .to_string()
        },
    },
    Setting {
        name: "ssl.ca.location",
        aliases: &["ssl.truststore.location"],
        default: "",
        description: "PEM file of the CAs to trust (default: the system's, or Mozilla's built in)",
        apply: |c, _, v| {
            c.security.tls.ca = Some(Pem::File(v.trim().into()));
            Ok(())
        },
        show: |c| pem_shown(c.security.tls.ca.as_ref()),
    },
    Setting {
        name: "ssl.ca.pem",
        aliases: &["ssl.truststore.certificates"],
        default: "",
        description: "PEM text of the CAs to trust",
        apply: |c, _, v| {
            c.security.tls.ca = Some(Pem::Inline(Secret::new(v)));
            Ok(())
        },
        show: |c| pem_shown(c.security.tls.ca.as_ref()),
    },
    Setting {
        name: "ssl.truststore.type",
        aliases: &[],
        default: "PEM",
        description: "PEM only (JKS and PKCS12 stores: export them as PEM)",
        apply: |_, k, v| pem_only(k, v, "the CA certificates (keytool -exportcert -rfc), then ssl.ca.location"),
        show: |_| "PEM".to_owned(),
    },
    Setting {
        name: "ssl.keystore.location",
        aliases: &[],
        default: "",
        description: "one PEM file with the client's private key and certificate chain (mutual TLS)",
        apply: |c, _, v| {
            let path: std::path::PathBuf = v.trim().into();
            c.security.tls.certificate = Some(Pem::File(path.clone()));
            c.security.tls.key = Some(Pem::File(path));
            Ok(())
        },
        show: |c| pem_shown(c.security.tls.key.as_ref()),
    },
    Setting {
        name: "ssl.keystore.type",
        aliases: &[],
        default: "PEM",
        description: "PEM only (JKS and PKCS12 stores: export them as PEM)",
        apply: |_, k, v| pem_only(k, v, "the key and certificate (openssl pkcs12 -nodes), then ssl.keystore.location"),
        show: |_| "PEM".to_owned(),
    },
    Setting {
        name: "ssl.certificate.location",
        aliases: &[],
        default: "",
        description: "PEM file of the client certificate (chain), for mutual TLS",
        apply: |c, _, v| {
            c.security.tls.certificate = Some(Pem::File(v.trim().into()));
            Ok(())
        },
        show: |c| pem_shown(c.security.tls.certificate.as_ref()),
    },
    Setting {
        name: "ssl.key.location",
        aliases: &[],
        default: "",
        description: "PEM file of the client's private key (PKCS#8, PKCS#1 RSA or SEC1 EC)",
        apply: |c, _, v| {
            c.security.tls.key = Some(Pem::File(v.trim().into()));
            Ok(())
        },
        show: |c| pem_shown(c.security.tls.key.as_ref()),
    },
    Setting {
        name: "ssl.certificate.pem",
        aliases: &["ssl.keystore.certificate.chain"],
        default: "",
        description: "PEM text of the client certificate (chain)",
        apply: |c, _, v| {
            c.security.tls.certificate = Some(Pem::Inline(Secret::new(v)));
            Ok(())
        },
        show: |c| pem_shown(c.security.tls.certificate.as_ref()),
    },
    Setting {
        name: "ssl.key.pem",
        aliases: &["ssl.keystore.key"],
        default: "",
        description: "PEM text of the client's private key",
        apply: |c, _, v| {
            c.security.tls.key = Some(Pem::Inline(Secret::new(v)));
            Ok(())
        },
        show: |c| pem_shown(c.security.tls.key.as_ref()),
    },
    Setting {
        name: "ssl.key.password",
        aliases: &["ssl.keystore.password"],
        default: "",
        description: "the password of an encrypted PKCS#8 private key",
        apply: |c, _, v| {
            c.security.tls.key_password = Some(Secret::new(v));
            Ok(())
        },
        show: |c| hidden(c.security.tls.key_password.is_some()),
    },
    Setting {
        name: "ssl.endpoint.identification.algorithm",
        aliases: &[],
        default: "https",
        description: "https: the broker's certificate must name its host; empty: any name (logged as a warning)",
        apply: |c, k, v| {
            c.security.tls.verify_hostname = match v.trim().to_ascii_lowercase().as_str() {
                "https" => true,
                "" | "none" => false,
                _ => return Err(Error::config(k, format!("`{v}` is not https or empty"))),
            };
            Ok(())
        },
        show: |c| if c.security.tls.verify_hostname { "https" } else { "" }.to_owned(),
    },
    Setting {
        name: "enable.ssl.certificate.verification",
        aliases: &[],
        default: "true",
        description: "false accepts any broker certificate (logged as a warning)",
        apply: |c, k, v| {
            c.security.tls.verify_certificate = parse_bool(k, v)?;
            Ok(())
        },
        show: |c| c.security.tls.verify_certificate.to_string(),
    },
];

/// The SASL settings being filled in, made if there are none yet.
fn sasl(config: &mut ProducerConfig) -> &mut Sasl {
    config.security.sasl.get_or_insert_with(Sasl::default)
}

/// How a secret setting shows: `[hidden]` when set.
fn hidden(set: bool) -> String {
    if set { "[hidden]" } else { "" }.to_owned()
}

fn pem_shown(pem: Option<&Pem>) -> String {
    match pem {
        Some(Pem::File(path)) => path.display().to_string(),
        Some(Pem::Inline(_)) => "[PEM text]".to_owned(),
        None => String::new(),
    }
}

fn oauth_field(
    config: &ProducerConfig,
    field: impl Fn(&super::security::OAuthSettings) -> Option<String>,
) -> String {
    config
        .security
        .sasl
        .as_ref()
        .and_then(|s| field(&s.oauth))
        .unwrap_or_default()
}

fn pem_only(key: &str, value: &str, how: &str) -> Result<()> {
    match value.trim().to_ascii_uppercase().as_str() {
        "PEM" => Ok(()),
        other => Err(Error::config(
            key,
            format!("{other} stores are not supported; export {how} as PEM"),
        )),
    }
}

fn parse_pairs(key: &str, value: &str, separator: char) -> Result<Vec<(String, String)>> {
    value
        .split(separator)
        .map(str::trim)
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.trim().to_owned())),
            _ => Err(Error::config(key, format!("`{pair}` is not key=value"))),
        })
        .collect()
}

fn join_pairs(pairs: &[(String, String)], separator: &str) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(separator)
}

/// librdkafka's `sasl.oauthbearer.config` for its unsecured token:
/// `principal=<sub> scope=<a,b> lifeSeconds=<n> extension_<key>=<value>`.
fn apply_unsecured_token_config(config: &mut ProducerConfig, key: &str, value: &str) -> Result<()> {
    let oauth = &mut sasl(config).oauth;
    for (name, v) in parse_pairs(key, value, ' ')? {
        match name.as_str() {
            "principal" => oauth.unsecured_principal = Some(v),
            "scope" => {
                oauth.unsecured_scope = v.split(',').map(str::to_owned).collect();
            }
            "lifeSeconds" => {
                oauth.unsecured_lifetime_secs = Some(v.parse().map_err(|_| {
                    Error::config(key, format!("lifeSeconds `{v}` is not a number"))
                })?);
            }
            other => match other.strip_prefix("extension_") {
                Some(extension) => oauth.extensions.push((extension.to_owned(), v)),
                None => {
                    return Err(Error::config(
                        key,
                        format!(
                        "`{other}` is not one of principal, scope, lifeSeconds, extension_<name>"
                    ),
                    ))
                }
            },
        }
    }
    Ok(())
}

/// Java's `sasl.jaas.config`: the login module says the mechanism family, its options the
/// credentials.
fn apply_jaas(config: &mut ProducerConfig, key: &str, value: &str) -> Result<()> {
    let (module, options) = parse_jaas(value)?;
    let class = module.rsplit('.').next().unwrap_or(&module).to_owned();
    let sasl = sasl(config);
    match class.as_str() {
        "PlainLoginModule" | "ScramLoginModule" => {
            for (name, v) in options {
                match name.as_str() {
                    "username" => sasl.username = v,
                    "password" => sasl.password = Secret::new(v),
                    // Token authentication for delegation tokens: not needed by kiel.
                    _ => {}
                }
            }
            if class == "PlainLoginModule" && sasl.mechanism.is_none() {
                sasl.mechanism = Some(SaslMechanism::Plain);
            }
            Ok(())
        }
        "OAuthBearerLoginModule" => {
            let oauth = &mut sasl.oauth;
            for (name, v) in options {
                match name.as_str() {
                    "unsecuredLoginStringClaim_sub" => oauth.unsecured_principal = Some(v),
                    "unsecuredLoginListClaim_scope" => {
                        oauth.unsecured_scope = v.split(',').map(str::to_owned).collect();
                    }
                    "unsecuredLoginLifetimeSeconds" => {
                        oauth.unsecured_lifetime_secs = v.parse().ok();
                    }
                    "clientId" => oauth.client_id = Some(v),
                    "clientSecret" => oauth.client_secret = Some(Secret::new(v)),
                    "scope" => oauth.scope = Some(v),
                    other => {
                        if let Some(extension) = other.strip_prefix("unsecuredLoginExtension_") {
                            oauth.extensions.push((extension.to_owned(), v));
                        } else if let Some(extension) = other.strip_prefix("extension_") {
                            oauth.extensions.push((extension.to_owned(), v));
                        }
                    }
                }
            }
            if sasl.mechanism.is_none() {
                sasl.mechanism = Some(SaslMechanism::OAuthBearer);
            }
            Ok(())
        }
        _ => Err(Error::config(
            key,
            format!("login module {module} is not supported (PlainLoginModule, ScramLoginModule, OAuthBearerLoginModule are)"),
        )),
    }
}
