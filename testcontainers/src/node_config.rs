//! The `server.properties` of one combined broker+controller KRaft node on 127.0.0.1.
//!
//! Static voters (`controller.quorum.voters`) so that formatting needs no
//! `--standalone`/`--initial-controllers` flag on both 3.9 and 4.x. Internal topics get one
//! partition and a replication factor no larger than the cluster; heartbeats are frequent
//! so that a killed node is fenced within seconds.
//!
//! # References
//! - Kafka broker configs: <https://kafka.apache.org/documentation/#brokerconfigs>
//! - `shared/design/kafka-harness/NOTES.md` section 3 (settings that start fast)

use std::path::Path;

use crate::security::{protocol_map_entries, SecuredPorts};

/// The listener ports of one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodePorts {
    /// The PLAINTEXT (client and inter-broker) port.
    pub(crate) broker: u16,
    /// The CONTROLLER (KRaft quorum) port.
    pub(crate) controller: u16,
    /// The ports of the secured listeners (SSL, MTLS, SASL_PLAINTEXT, SASL_SSL,
    /// SSL_WRONG_HOST), on a secured cluster.
    pub(crate) secured: Option<SecuredPorts>,
}

/// Cluster-wide topic settings chosen by the builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicDefaults {
    pub(crate) auto_create_topics: bool,
    pub(crate) default_partitions: u32,
    pub(crate) replication_factor: u32,
    pub(crate) min_insync_replicas: u32,
}

/// Renders node `node_id`'s properties. `voters` lists every node's id and ports (with
/// secured ports, the node gets those listeners too); `security` (the secured listeners'
/// settings) and then `extra` are applied last and replace any key the harness sets.
pub(crate) fn render(
    node_id: i32,
    voters: &[(i32, NodePorts)],
    data_dir: &Path,
    topics: &TopicDefaults,
    share_coordinator: bool,
    security: &[(String, String)],
    extra: &[(String, String)],
) -> String {
    let own = voters
        .iter()
        .find(|(id, _)| *id == node_id)
        .map(|(_, p)| *p)
        .unwrap_or(NodePorts {
            broker: 0,
            controller: 0,
            secured: None,
        });
    let nodes = u32::try_from(voters.len()).unwrap_or(u32::MAX).max(1);
    let internal_rf = nodes.min(3);
    let internal_min_isr = internal_rf.min(2);
    let quorum = voters
        .iter()
        .map(|(id, p)| format!("{id}@127.0.0.1:{}", p.controller))
        .collect::<Vec<_>>()
        .join(",");
    let mut props: Vec<(String, String)> = Vec::new();
    let mut set = |k: &str, v: String| props.push((k.to_owned(), v));
    set("process.roles", "broker,controller".into());
    set("node.id", node_id.to_string());
    set("controller.quorum.voters", quorum);
    let secured = own
        .secured
        .map(|ports| ports.listener_entries())
        .unwrap_or_default();
    let mut advertised = vec![format!("PLAINTEXT://127.0.0.1:{}", own.broker)];
    advertised.extend(secured.iter().cloned());
    let mut listeners = advertised.clone();
    listeners.insert(1, format!("CONTROLLER://127.0.0.1:{}", own.controller));
    let mut protocols = vec![
        "CONTROLLER:PLAINTEXT".to_owned(),
        "PLAINTEXT:PLAINTEXT".to_owned(),
    ];
    if own.secured.is_some() {
        protocols.extend(protocol_map_entries());
    }
    set("listeners", listeners.join(","));
    set("advertised.listeners", advertised.join(","));
    set("inter.broker.listener.name", "PLAINTEXT".into());
    set("controller.listener.names", "CONTROLLER".into());
    set("listener.security.protocol.map", protocols.join(","));
    set("log.dirs", data_dir.display().to_string());
    set(
        "auto.create.topics.enable",
        topics.auto_create_topics.to_string(),
    );
    set("num.partitions", topics.default_partitions.to_string());
    set(
        "default.replication.factor",
        topics.replication_factor.to_string(),
    );
    set(
        "min.insync.replicas",
        topics.min_insync_replicas.to_string(),
    );
    set("offsets.topic.replication.factor", internal_rf.to_string());
    set("offsets.topic.num.partitions", "1".into());
    set(
        "transaction.state.log.replication.factor",
        internal_rf.to_string(),
    );
    set(
        "transaction.state.log.min.isr",
        internal_min_isr.to_string(),
    );
    set("transaction.state.log.num.partitions", "1".into());
    if share_coordinator {
        set(
            "share.coordinator.state.topic.replication.factor",
            internal_rf.to_string(),
        );
        set(
            "share.coordinator.state.topic.min.isr",
            internal_min_isr.to_string(),
        );
    }
    set("group.initial.rebalance.delay.ms", "0".into());
    // Notice a dead node within seconds (defaults 2000 / 9000 ms).
    set("broker.heartbeat.interval.ms", "500".into());
    set("broker.session.timeout.ms", "3000".into());
    // Leaders stay where failures put them until a test moves them.
    set("auto.leader.rebalance.enable", "false".into());
    set("num.network.threads", "2".into());
    set("num.io.threads", "2".into());
    set("num.recovery.threads.per.data.dir", "1".into());
    set("background.threads", "2".into());
    for (key, value) in security.iter().chain(extra) {
        match props.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1.clone_from(value),
            None => props.push((key.clone(), value.clone())),
        }
    }
    let mut text = String::from("# Written by kiel-testcontainers\n");
    for (k, v) in props {
        text.push_str(&escape_properties(&k, true));
        text.push('=');
        text.push_str(&escape_properties(&v, false));
        text.push('\n');
    }
    text
}

/// The properties `text` (as [`render`] writes them) with every listener on port `old` in
/// `listeners` and `advertised.listeners` moved to port `new`; `None` when none is on
/// `old`. The controller listener is on its own port and stays.
pub(crate) fn move_broker_port(text: &str, old: u16, new: u16) -> Option<String> {
    let old_suffix = format!(":{old}");
    let mut moved = false;
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.lines() {
        let listener_line = ["listeners=", "advertised.listeners="]
            .iter()
            .find_map(|key| line.strip_prefix(key).map(|value| (key, value)));
        match listener_line {
            Some((key, value)) => {
                let entries: Vec<String> = value
                    .split(',')
                    .map(|entry| match entry.strip_suffix(&old_suffix) {
                        Some(head) => {
                            moved = true;
                            format!("{head}:{new}")
                        }
                        None => entry.to_owned(),
                    })
                    .collect();
                out.push_str(key);
                out.push_str(&entries.join(","));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    moved.then_some(out)
}

/// Escapes a key or value for a Java `.properties` file: backslash, line breaks, and (in
/// keys) `=`, `:` and spaces; a leading space in a value.
pub(crate) fn escape_properties(text: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '=' | ':' | ' ' | '#' | '!' if is_key => {
                out.push('\\');
                out.push(c);
            }
            ' ' if i == 0 => out.push_str("\\ "),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value_of<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
        text.lines()
            .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .collect()
    }

    #[test]
    fn three_node_config_lists_every_voter_and_caps_internal_rf() {
        let voters = [
            (
                1,
                NodePorts {
                    broker: 1001,
                    controller: 1002,
                    secured: None,
                },
            ),
            (
                2,
                NodePorts {
                    broker: 2001,
                    controller: 2002,
                    secured: None,
                },
            ),
            (
                3,
                NodePorts {
                    broker: 3001,
                    controller: 3002,
                    secured: None,
                },
            ),
        ];
        let topics = TopicDefaults {
            auto_create_topics: false,
            default_partitions: 3,
            replication_factor: 3,
            min_insync_replicas: 2,
        };
        let extra = [
            ("num.partitions".to_owned(), "7".to_owned()),
            ("log.retention.ms".to_owned(), "1000".to_owned()),
        ];
        let text = render(2, &voters, Path::new("/d"), &topics, true, &[], &extra);
        assert_eq!(
            value_of(&text, "controller.quorum.voters"),
            ["1@127.0.0.1:1002,2@127.0.0.1:2002,3@127.0.0.1:3002"]
        );
        assert_eq!(
            value_of(&text, "listeners"),
            ["PLAINTEXT://127.0.0.1:2001,CONTROLLER://127.0.0.1:2002"]
        );
        assert_eq!(value_of(&text, "node.id"), ["2"]);
        assert_eq!(value_of(&text, "auto.create.topics.enable"), ["false"]);
        assert_eq!(value_of(&text, "num.partitions"), ["7"], "extra replaces");
        assert_eq!(
            value_of(&text, "log.retention.ms"),
            ["1000"],
            "extra appends"
        );
        assert_eq!(value_of(&text, "offsets.topic.replication.factor"), ["3"]);
        assert_eq!(value_of(&text, "transaction.state.log.min.isr"), ["2"]);
        assert_eq!(
            value_of(&text, "share.coordinator.state.topic.min.isr"),
            ["2"]
        );
    }

    #[test]
    fn single_node_internal_topics_use_rf_one_and_39_has_no_share_settings() {
        let voters = [(
            1,
            NodePorts {
                broker: 5,
                controller: 6,
                secured: None,
            },
        )];
        let topics = TopicDefaults {
            auto_create_topics: true,
            default_partitions: 1,
            replication_factor: 1,
            min_insync_replicas: 1,
        };
        let text = render(1, &voters, Path::new("/d"), &topics, false, &[], &[]);
        assert_eq!(value_of(&text, "offsets.topic.replication.factor"), ["1"]);
        assert_eq!(value_of(&text, "transaction.state.log.min.isr"), ["1"]);
        assert!(!text.contains("share.coordinator"));
    }

    #[test]
    fn moving_the_broker_port_rewrites_both_listener_lines_only() {
        let voters = [(
            1,
            NodePorts {
                broker: 4001,
                controller: 4002,
                secured: None,
            },
        )];
        let topics = TopicDefaults {
            auto_create_topics: true,
            default_partitions: 1,
            replication_factor: 1,
            min_insync_replicas: 1,
        };
        let extra = [("kiel.note".to_owned(), "port 4001".to_owned())];
        let text = render(1, &voters, Path::new("/d"), &topics, true, &[], &extra);
        let moved = move_broker_port(&text, 4001, 5001).expect("moved");
        assert_eq!(
            value_of(&moved, "listeners"),
            ["PLAINTEXT://127.0.0.1:5001,CONTROLLER://127.0.0.1:4002"]
        );
        assert_eq!(
            value_of(&moved, "advertised.listeners"),
            ["PLAINTEXT://127.0.0.1:5001"]
        );
        assert_eq!(
            value_of(&moved, "controller.quorum.voters"),
            ["1@127.0.0.1:4002"]
        );
        assert_eq!(value_of(&moved, "kiel.note"), ["port 4001"]);
        assert_eq!(moved.lines().count(), text.lines().count());
        assert_eq!(move_broker_port(&text, 4003, 5001), None);
    }

    #[test]
    fn a_secured_node_lists_and_maps_every_listener() {
        let voters = [(
            1,
            NodePorts {
                broker: 10,
                controller: 11,
                secured: Some(SecuredPorts([12, 13, 14, 15, 16])),
            },
        )];
        let topics = TopicDefaults {
            auto_create_topics: true,
            default_partitions: 1,
            replication_factor: 1,
            min_insync_replicas: 1,
        };
        let security = [("sasl.enabled.mechanisms".to_owned(), "PLAIN".to_owned())];
        let extra = [(
            "sasl.enabled.mechanisms".to_owned(),
            "SCRAM-SHA-256".to_owned(),
        )];
        let text = render(
            1,
            &voters,
            Path::new("/d"),
            &topics,
            true,
            &security,
            &extra,
        );
        assert_eq!(
            value_of(&text, "listeners"),
            [
                "PLAINTEXT://127.0.0.1:10,CONTROLLER://127.0.0.1:11,SSL://127.0.0.1:12,\
              MTLS://127.0.0.1:13,SASL_PLAINTEXT://127.0.0.1:14,SASL_SSL://127.0.0.1:15,\
              SSL_WRONG_HOST://127.0.0.1:16"
            ]
        );
        assert_eq!(
            value_of(&text, "advertised.listeners"),
            [
                "PLAINTEXT://127.0.0.1:10,SSL://127.0.0.1:12,MTLS://127.0.0.1:13,\
              SASL_PLAINTEXT://127.0.0.1:14,SASL_SSL://127.0.0.1:15,SSL_WRONG_HOST://127.0.0.1:16"
            ]
        );
        assert!(value_of(&text, "listener.security.protocol.map")[0]
            .starts_with("CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,MTLS:SSL,"));
        assert_eq!(value_of(&text, "inter.broker.listener.name"), ["PLAINTEXT"]);
        assert_eq!(
            value_of(&text, "sasl.enabled.mechanisms"),
            ["SCRAM-SHA-256"],
            "the builder's properties come last"
        );
        let moved = move_broker_port(&text, 10, 20).expect("moved");
        assert!(value_of(&moved, "advertised.listeners")[0]
            .starts_with("PLAINTEXT://127.0.0.1:20,SSL://127.0.0.1:12,"));
    }

    #[test]
    fn properties_escaping() {
        assert_eq!(escape_properties("a=b c", true), "a\\=b\\ c");
        assert_eq!(escape_properties("a=b c", false), "a=b c");
        assert_eq!(escape_properties(" x\\y\n", false), "\\ x\\\\y\\n");
    }
}
