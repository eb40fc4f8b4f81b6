//! Producer settings from the command line: `--brokers` plus any number of `-X key=value`
//! (Java or librdkafka names), checked before anything connects; and `-X list`, the list of
//! every setting kiel knows, generated from `ProducerConfig::settings()` like the list in
//! `--help`, so neither can drift from what `-X` accepts.
//!
//! # References
//! - kiel's `ProducerConfig::set` / `ProducerConfig::settings` (the keys it knows, their
//!   defaults and value syntax)
//! - librdkafka's `kcat -X` and Kafka's `--producer-property` (the command-line idea)

use kiel::{Error, ProducerConfig};

use crate::error::CliError;

/// `client.id` of `kiel produce` unless `-X client.id=...` says otherwise.
pub(crate) const PRODUCE_CLIENT_ID: &str = "kiel-cli";
/// `client.id` of `kiel perf` unless `-X client.id=...` says otherwise.
pub(crate) const PERF_CLIENT_ID: &str = "kiel-perf";

/// One `-X` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Property {
    /// `-X KEY=VALUE`: set a producer setting.
    Set(String, String),
    /// `-X list`: print the settings kiel knows and exit.
    List,
}

/// Parses one `-X` argument: `list`, or `key=value` split at the first `=`.
pub(crate) fn parse_property(text: &str) -> Result<Property, String> {
    match text.split_once('=') {
        _ if text == "list" => Ok(Property::List),
        Some((key, value)) if !key.trim().is_empty() => {
            Ok(Property::Set(key.trim().to_owned(), value.to_owned()))
        }
        Some(_) => Err(format!("`{text}` has no key before `=`")),
        None => Err(format!(
            "`{text}` is not of the form KEY=VALUE (`-X list` lists the settings)"
        )),
    }
}

/// Every setting kiel knows, from `ProducerConfig::settings()`, two lines each:
///
/// ```text
///   NAME = DEFAULT  (also ALIAS, ALIAS)
///       DESCRIPTION
/// ```
///
/// (`= DEFAULT` only when there is one, `(also ...)` only when there are aliases).
/// `client.id`'s default is the command's own (`client_id`); `bootstrap.servers` has none
/// and is given with `--brokers`.
pub(crate) fn settings_list(client_id: &str) -> String {
    let mut out = String::new();
    for setting in ProducerConfig::settings() {
        let (default, note) = match setting.name {
            "client.id" => (client_id, ""),
            "bootstrap.servers" => ("", "; give it with --brokers, not -X"),
            _ => (setting.default, ""),
        };
        out.push_str("  ");
        out.push_str(setting.name);
        if !default.is_empty() {
            out.push_str(" = ");
            out.push_str(default);
        }
        if !setting.aliases.is_empty() {
            out.push_str("  (also ");
            out.push_str(&setting.aliases.join(", "));
            out.push(')');
        }
        out.push_str("\n      ");
        out.push_str(setting.description);
        out.push_str(note);
        out.push('\n');
    }
    out
}

/// The settings block of `COMMAND --help`: a heading that names `-X list`, then
/// [`settings_list`].
pub(crate) fn settings_help(command: &str, client_id: &str) -> String {
    format!(
        "Producer settings (-X KEY=VALUE, by name or alias; `{command} -X list` prints this list):\n{}",
        settings_list(client_id)
    )
}

/// What `-X list` prints: a heading and [`settings_list`].
pub(crate) fn settings_list_output(client_id: &str) -> String {
    format!(
        "Producer settings kiel knows (-X KEY=VALUE, by name or alias):\n{}",
        settings_list(client_id)
    )
}

/// Builds and validates the producer configuration: `client.id` first (a default the user
/// may override), then the brokers, then every `-X` in order (a later one wins).
pub(crate) fn producer_config(
    brokers: &str,
    client_id: &str,
    properties: &[Property],
) -> Result<ProducerConfig, CliError> {
    let mut config = ProducerConfig::default();
    config
        .set("client.id", client_id)
        .map_err(|e| CliError::usage(e.to_string()))?;
    config
        .set("bootstrap.servers", brokers)
        .map_err(|e| CliError::usage(format!("--brokers {brokers}: {}", describe(&e))))?;
    for property in properties {
        let Property::Set(key, value) = property else {
            continue; // `-X list` was handled before.
        };
        if matches!(key.as_str(), "bootstrap.servers" | "metadata.broker.list") {
            return Err(CliError::usage(format!(
                "-X {key}: give the brokers with --brokers instead"
            )));
        }
        config.set(key, value).map_err(|e| {
            if is_unknown_key(&e) {
                CliError::usage(format!(
                    "-X {key}={value}: unknown producer setting `{key}` \
                     (`-X list` lists the settings kiel knows)"
                ))
            } else {
                CliError::usage(format!("-X {key}={value}: {}", describe(&e)))
            }
        })?;
    }
    if config.bootstrap_servers().is_empty() {
        return Err(CliError::usage(format!(
            "--brokers `{brokers}` names no broker (expected host:port[,host:port...])"
        )));
    }
    config
        .validate()
        .map_err(|e| CliError::usage(format!("invalid producer settings: {e}")))?;
    Ok(config)
}

/// The error's own message, without repeating the key the caller already names.
fn describe(error: &Error) -> String {
    match error {
        Error::Config { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

fn is_unknown_key(error: &Error) -> bool {
    matches!(error, Error::Config { message, .. } if message.starts_with("unknown producer setting"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn props(list: &[(&str, &str)]) -> Vec<Property> {
        list.iter()
            .map(|(k, v)| Property::Set((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn properties_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_property("client.id=a=b"),
            Ok(Property::Set("client.id".to_owned(), "a=b".to_owned()))
        );
        assert_eq!(
            parse_property("acks="),
            Ok(Property::Set("acks".to_owned(), String::new()))
        );
        assert_eq!(parse_property("list"), Ok(Property::List));
        assert!(parse_property("acks").is_err());
        assert!(parse_property("=1").is_err());
        // `list` is skipped by producer_config (it was acted on before).
        let config = producer_config("b:1", "c", &[Property::List]).unwrap();
        assert_eq!(config.client_id(), "c");
    }

    #[test]
    fn settings_apply_in_order_after_the_defaults() {
        let config = producer_config(
            "127.0.0.1:9092, 127.0.0.1:9093",
            "kiel-cli",
            &props(&[("linger.ms", "20"), ("acks", "1"), ("linger.ms", "7")]),
        )
        .unwrap();
        assert_eq!(
            config.bootstrap_servers(),
            vec!["127.0.0.1:9092", "127.0.0.1:9093"]
        );
        assert_eq!(config.linger(), Duration::from_millis(7));
        assert_eq!(config.acks(), kiel::Acks::Leader);
        assert_eq!(config.client_id(), "kiel-cli");
        let renamed = producer_config("b:1", "kiel-cli", &props(&[("client.id", "mine")])).unwrap();
        assert_eq!(renamed.client_id(), "mine");
    }

    #[test]
    fn errors_name_the_bad_key() {
        let unknown = producer_config("b:1", "c", &props(&[("no.such.key", "1")])).unwrap_err();
        assert!(
            unknown.to_string().contains("-X no.such.key=1"),
            "{unknown}"
        );
        assert!(unknown.to_string().contains("-X list"), "{unknown}");
        let bad_value = producer_config("b:1", "c", &props(&[("linger.ms", "soon")])).unwrap_err();
        assert!(
            bad_value.to_string().contains("-X linger.ms=soon"),
            "{bad_value}"
        );
        assert!(!bad_value.to_string().contains("-X list"), "{bad_value}");
        let conflict = producer_config(
            "b:1",
            "c",
            &props(&[("enable.idempotence", "true"), ("acks", "1")]),
        )
        .unwrap_err();
        assert!(
            conflict.to_string().contains("enable.idempotence"),
            "{conflict}"
        );
        let brokers =
            producer_config("b:1", "c", &props(&[("bootstrap.servers", "x:1")])).unwrap_err();
        assert!(brokers.to_string().contains("--brokers"), "{brokers}");
        assert!(producer_config(" , ", "c", &[]).is_err());
    }

    /// The `settings_list` entry of `name`: its first line and its description line.
    fn entry<'a>(list: &'a str, name: &str) -> (&'a str, &'a str) {
        let mut lines = list.lines();
        while let Some(line) = lines.next() {
            let head = line.strip_prefix("  ").unwrap_or("");
            if head == name || head.starts_with(&format!("{name} ")) {
                return (head, lines.next().unwrap_or("").trim_start());
            }
        }
        panic!("{name} missing from\n{list}");
    }

    #[test]
    fn the_list_shows_every_setting_with_the_defaults_the_command_uses() {
        let list = settings_list("kiel-cli");
        let settings = ProducerConfig::settings();
        assert_eq!(list.lines().count(), 2 * settings.len(), "{list}");
        // The defaults shown are the values a command with no -X runs with.
        let config = producer_config("b:1", "kiel-cli", &[]).unwrap();
        for setting in settings {
            let (head, description) = entry(&list, setting.name);
            assert!(
                description.starts_with(setting.description),
                "{description}"
            );
            for alias in setting.aliases {
                assert!(head.contains(alias), "{alias} missing from {head}");
            }
            if setting.name == "bootstrap.servers" {
                assert_eq!(head, "bootstrap.servers  (also metadata.broker.list)");
                assert!(description.ends_with("give it with --brokers, not -X"));
                continue;
            }
            let value = config.get(setting.name).unwrap();
            let expected = if value.is_empty() {
                setting.name.to_owned()
            } else {
                format!("{} = {value}", setting.name)
            };
            assert!(
                head == expected || head.starts_with(&format!("{expected}  (also ")),
                "{head:?} should show {expected:?}"
            );
        }
        assert_eq!(
            entry(&settings_list("kiel-perf"), "client.id").0,
            "client.id = kiel-perf"
        );
        let help = settings_help("kiel perf", "kiel-perf");
        assert!(help.contains("`kiel perf -X list`"), "{help}");
        assert!(help.ends_with(&settings_list("kiel-perf")));
    }

    #[test]
    fn every_listed_name_is_accepted() {
        // Every name and alias the list shows, with a value of the right kind for it.
        let sample = |name: &str| match name {
            "bootstrap.servers" | "metadata.broker.list" => "h:1",
            "client.id" => "x",
            "acks" | "request.required.acks" => "1",
            "compression.type" | "compression.codec" => "lz4",
            "enable.idempotence" => "false",
            "partitioner.ignore.keys" => "true",
            "partitioner.class" | "partitioner" => "murmur2_random",
            "buffer.memory.metadata.wait.share" => "0.5",
            "client.dns.lookup" => "use_all_dns_ips",
            "security.protocol" => "SASL_SSL",
            "sasl.mechanism" | "sasl.mechanisms" => "SCRAM-SHA-512",
            "sasl.jaas.config" => {
                "org.apache.kafka.common.security.scram.ScramLoginModule required \
                 username=\"u\" password=\"p\";"
            }
            "sasl.oauthbearer.method" => "default",
            "sasl.oauthbearer.token.endpoint.url" => "https://login.example.com/token",
            "sasl.oauthbearer.extensions" => "a=b",
            "sasl.oauthbearer.config" => "principal=alice",
            "enable.sasl.oauthbearer.unsecure.jwt" | "enable.ssl.certificate.verification" => {
                "true"
            }
            "ssl.truststore.type" | "ssl.keystore.type" => "PEM",
            "ssl.endpoint.identification.algorithm" => "https",
            n if n.starts_with("sasl.") || n.starts_with("ssl.") => "x",
            _ => "1000",
        };
        for setting in ProducerConfig::settings() {
            for name in std::iter::once(&setting.name).chain(setting.aliases) {
                let mut config = ProducerConfig::default();
                config
                    .set(name, sample(name))
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
    }
}
