//! Producer settings from the command line: `--brokers` plus any number of `-X key=value`
//! (Java or librdkafka names), checked before anything connects.
//!
//! # References
//! - kiel's `ProducerConfig::set` (the keys it knows and their value syntax)
//! - librdkafka's `kcat -X` and Kafka's `--producer-property` (the command-line idea)

use kiel::{Error, ProducerConfig};

use crate::error::CliError;

/// The producer settings `-X` knows, for the help text. Aliases are listed after a `/`.
pub(crate) const SETTINGS_HELP: &str = "\
Producer settings (-X KEY=VALUE, Java or librdkafka names):
  acks / request.required.acks           0, 1, all (-1)                  [all]
  linger.ms / queue.buffering.max.ms     batch wait in ms                [5]
  batch.size                             bytes per partition batch       [16384]
  buffer.memory                          bytes held before backpressure  [33554432]
  queue.buffering.max.kbytes             buffer.memory in KiB
  max.request.size / message.max.bytes   largest request and record      [1048576]
  compression.type / compression.codec   none, gzip, snappy, lz4, zstd   [none]
  compression.level                      codec level (also compression.<codec>.level)
  enable.idempotence                     true, false                     [true]
  retries / message.send.max.retries     retry count                     [2147483647]
  retry.backoff.ms, retry.backoff.max.ms backoff in ms                   [100, 1000]
  request.timeout.ms                     broker answer timeout           [30000]
  delivery.timeout.ms / message.timeout.ms  produce-to-outcome bound     [120000]
  max.in.flight.requests.per.connection / max.in.flight                 [5]
  max.block.ms                           wait for buffer room / topic    [60000]
  metadata.max.age.ms                    metadata refresh interval       [300000]
  socket.connection.setup.timeout.ms     connect timeout                 [10000]
  reconnect.backoff.ms                   reconnect wait                  [50]
  partitioner / partitioner.class        e.g. murmur2_random, consistent_random
  partitioner.ignore.keys                true, false                     [false]
  client.id                              name sent to the brokers";

/// Parses one `-X` argument: `key=value`, split at the first `=`.
pub(crate) fn parse_property(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        Some(_) => Err(format!("`{text}` has no key before `=`")),
        None => Err(format!("`{text}` is not of the form KEY=VALUE")),
    }
}

/// Builds and validates the producer configuration: `client.id` first (a default the user
/// may override), then the brokers, then every `-X` in order (a later one wins).
pub(crate) fn producer_config(
    brokers: &str,
    client_id: &str,
    properties: &[(String, String)],
) -> Result<ProducerConfig, CliError> {
    let mut config = ProducerConfig::default();
    config
        .set("client.id", client_id)
        .map_err(|e| CliError::usage(e.to_string()))?;
    config
        .set("bootstrap.servers", brokers)
        .map_err(|e| CliError::usage(format!("--brokers {brokers}: {}", describe(&e))))?;
    for (key, value) in properties {
        if matches!(key.as_str(), "bootstrap.servers" | "metadata.broker.list") {
            return Err(CliError::usage(format!(
                "-X {key}: give the brokers with --brokers instead"
            )));
        }
        config.set(key, value).map_err(|e| {
            if is_unknown_key(&e) {
                CliError::usage(format!(
                    "-X {key}={value}: unknown producer setting `{key}` \
                     (`kiel produce --help` lists the supported settings)"
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

    fn props(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn properties_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_property("client.id=a=b"),
            Ok(("client.id".to_owned(), "a=b".to_owned()))
        );
        assert_eq!(
            parse_property("acks="),
            Ok(("acks".to_owned(), String::new()))
        );
        assert!(parse_property("acks").is_err());
        assert!(parse_property("=1").is_err());
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
        assert!(
            unknown.to_string().contains("kiel produce --help"),
            "{unknown}"
        );
        let bad_value = producer_config("b:1", "c", &props(&[("linger.ms", "soon")])).unwrap_err();
        assert!(
            bad_value.to_string().contains("-X linger.ms=soon"),
            "{bad_value}"
        );
        assert!(!bad_value.to_string().contains("--help"), "{bad_value}");
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

    #[test]
    fn every_setting_in_the_help_is_accepted() {
        // The first name of each row, with a value of the right kind.
        let samples = [
            ("acks", "all"),
            ("request.required.acks", "1"),
            ("linger.ms", "1"),
            ("queue.buffering.max.ms", "1"),
            ("batch.size", "1000"),
            ("buffer.memory", "1000000"),
            ("queue.buffering.max.kbytes", "1000"),
            ("max.request.size", "2000"),
            ("message.max.bytes", "2000"),
            ("compression.type", "lz4"),
            ("compression.codec", "gzip"),
            ("compression.level", "1"),
            ("enable.idempotence", "false"),
            ("retries", "3"),
            ("message.send.max.retries", "3"),
            ("retry.backoff.ms", "10"),
            ("retry.backoff.max.ms", "100"),
            ("request.timeout.ms", "1000"),
            ("delivery.timeout.ms", "5000"),
            ("message.timeout.ms", "5000"),
            ("max.in.flight.requests.per.connection", "1"),
            ("max.in.flight", "1"),
            ("max.block.ms", "100"),
            ("metadata.max.age.ms", "1000"),
            ("socket.connection.setup.timeout.ms", "1000"),
            ("reconnect.backoff.ms", "10"),
            ("partitioner", "murmur2_random"),
            ("partitioner.ignore.keys", "true"),
            ("client.id", "x"),
        ];
        for (key, value) in samples {
            assert!(SETTINGS_HELP.contains(key), "{key} missing from the help");
            let mut config = ProducerConfig::default();
            config
                .set(key, value)
                .unwrap_or_else(|e| panic!("{key}={value}: {e}"));
        }
    }
}
