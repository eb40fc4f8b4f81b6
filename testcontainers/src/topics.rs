//! Topics on a [`KafkaCluster`]: creating them with Kafka's `TopicCommand`, and reading
//! partition leadership and ISR from Metadata, once or until a condition holds.
//!
//! # References
//! - Kafka `tools/src/main/java/org/apache/kafka/tools/TopicCommand.java` (options)
//! - Kafka protocol guide, Metadata response (leader id, ISR, offline replicas)

use std::ffi::OsString;
use std::time::{Duration, Instant};

use kiel_protocol::messages::metadata::MetadataResponse;

use crate::cluster::{KafkaCluster, POLL_INTERVAL};
use crate::error::{HarnessError, Result};

/// How long a topic's creation, including every partition getting a leader, may take.
pub const TOPIC_TIMEOUT: Duration = Duration::from_secs(60);

/// One partition as Metadata describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The topic.
    pub topic: String,
    /// The partition index.
    pub partition: i32,
    /// The partition-level error code (0 when fine; e.g. 5 LEADER_NOT_AVAILABLE).
    pub error_code: i16,
    /// The leader's node id, `None` when there is none.
    pub leader: Option<i32>,
    /// The leader epoch.
    pub leader_epoch: i32,
    /// All replicas, preferred leader first.
    pub replicas: Vec<i32>,
    /// The in-sync replicas.
    pub isr: Vec<i32>,
    /// Replicas that are offline.
    pub offline_replicas: Vec<i32>,
}

impl KafkaCluster {
    /// Creates `name` with `partitions` partitions, replication factor `replication_factor`
    /// and the topic configs given (e.g. `("min.insync.replicas", "2")`), using Kafka's
    /// `TopicCommand`, then waits until every serving node reports a leader for every
    /// partition.
    pub async fn create_topic(
        &self,
        name: &str,
        partitions: u32,
        replication_factor: u32,
        configs: &[(&str, &str)],
    ) -> Result<()> {
        let result = self
            .create_topic_inner(name, partitions, replication_factor, configs)
            .await;
        self.note(result)
    }

    async fn create_topic_inner(
        &self,
        name: &str,
        partitions: u32,
        replication_factor: u32,
        configs: &[(&str, &str)],
    ) -> Result<()> {
        if name.is_empty() || partitions == 0 || replication_factor == 0 {
            return Err(HarnessError::InvalidArgument(format!(
                "topic {name:?} with {partitions} partitions and replication factor {replication_factor}"
            )));
        }
        let mut args: Vec<OsString> = vec![
            "--bootstrap-server".into(),
            self.live_addresses().join(",").into(),
            "--create".into(),
            "--topic".into(),
            name.into(),
            "--partitions".into(),
            partitions.to_string().into(),
            "--replication-factor".into(),
            replication_factor.to_string().into(),
        ];
        for (k, v) in configs {
            args.push("--config".into());
            args.push(format!("{k}={v}").into());
        }
        let tools = self.tool_runner().await?;
        tools
            .run(
                "org.apache.kafka.tools.TopicCommand",
                args,
                &crate::tools::tool_jvm_options(),
                &format!("create-topic-{}", sanitize(name)),
                TOPIC_TIMEOUT,
            )
            .await?
            .check("TopicCommand --create")?;
        self.wait_for_topic_leaders(name, partitions, TOPIC_TIMEOUT)
            .await
    }

    /// Waits until every serving node's Metadata shows `topic` with `partitions`
    /// partitions, each with a leader.
    pub async fn wait_for_topic_leaders(
        &self,
        topic: &str,
        partitions: u32,
        timeout: Duration,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let expected = usize::try_from(partitions).unwrap_or(usize::MAX);
        let mut last = String::from("no answer yet");
        loop {
            let mut ready = true;
            for address in self.live_addresses() {
                match crate::wire::fetch_metadata(
                    &address,
                    &[topic],
                    crate::cluster::METADATA_ATTEMPT_TIMEOUT,
                )
                .await
                {
                    Ok(response) => {
                        let infos = partitions_of(&response, topic);
                        let led = infos.iter().filter(|p| p.leader.is_some()).count();
                        if infos.len() != expected || led != expected {
                            ready = false;
                            last = format!(
                                "{address} shows {} partitions, {led} with a leader",
                                infos.len()
                            );
                            break;
                        }
                    }
                    Err(e) => {
                        ready = false;
                        last = e.to_string();
                        break;
                    }
                }
            }
            if ready {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return self.note(Err(HarnessError::Timeout {
                    what: format!("leaders for all {partitions} partitions of {topic:?}"),
                    waited: timeout,
                    details: last,
                }));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// The current state of one partition, from the first node that answers.
    pub async fn partition_info(&self, topic: &str, partition: i32) -> Result<PartitionInfo> {
        let result = async {
            let response = self.metadata_inner(&[topic]).await?;
            find_partition(&response, topic, partition)
        }
        .await;
        self.note(result)
    }

    /// The node id leading `topic`/`partition` now; an error when it has no leader.
    pub async fn leader_of(&self, topic: &str, partition: i32) -> Result<i32> {
        let info = self.partition_info(topic, partition).await?;
        self.note(info.leader.ok_or_else(|| HarnessError::BadNodeState {
            operation: "find the leader of",
            node: -1,
            state: format!("{topic}-{partition} has no leader: {info:?}"),
        }))
    }

    /// Waits until `topic`/`partition` has a leader and returns it.
    pub async fn wait_for_leader(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
    ) -> Result<i32> {
        let info = self
            .wait_for_partition(topic, partition, timeout, "a leader", |p| {
                p.leader.is_some()
            })
            .await?;
        self.note(info.leader.ok_or_else(|| HarnessError::Parse {
            what: "partition state",
            detail: "leader vanished".to_owned(),
        }))
    }

    /// Waits until `condition` holds for `topic`/`partition` as seen by every serving
    /// node (so that a node that has not caught up cannot mislead a test), and returns the
    /// state the first node reported. `what` describes the condition in the timeout error.
    pub async fn wait_for_partition<F>(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
        what: &str,
        condition: F,
    ) -> Result<PartitionInfo>
    where
        F: Fn(&PartitionInfo) -> bool,
    {
        let deadline = Instant::now() + timeout;
        let mut last = String::from("no answer yet");
        loop {
            let mut agreed: Option<PartitionInfo> = None;
            let mut all = true;
            for address in self.live_addresses() {
                let seen = crate::wire::fetch_metadata(
                    &address,
                    &[topic],
                    crate::cluster::METADATA_ATTEMPT_TIMEOUT,
                )
                .await
                .and_then(|r| find_partition(&r, topic, partition));
                match seen {
                    Ok(info) if condition(&info) => {
                        agreed.get_or_insert(info);
                    }
                    Ok(info) => {
                        all = false;
                        last = format!("{address} reports {info:?}");
                        break;
                    }
                    Err(e) => {
                        all = false;
                        last = e.to_string();
                        break;
                    }
                }
            }
            if let (true, Some(info)) = (all, agreed) {
                return Ok(info);
            }
            if Instant::now() >= deadline {
                return self.note(Err(HarnessError::Timeout {
                    what: format!("{topic}-{partition} to have {what}"),
                    waited: timeout,
                    details: format!("last: {last}; {}", self.node_report()),
                }));
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }
}

/// Every partition of `topic` in a Metadata response, in partition order.
pub(crate) fn partitions_of(response: &MetadataResponse, topic: &str) -> Vec<PartitionInfo> {
    let mut out: Vec<PartitionInfo> = response
        .topics
        .iter()
        .filter(|t| t.error_code == 0 && t.name.as_deref() == Some(topic))
        .flat_map(|t| t.partitions.iter())
        .map(|p| PartitionInfo {
            topic: topic.to_owned(),
            partition: p.partition_index,
            error_code: p.error_code,
            leader: (p.leader_id >= 0).then_some(p.leader_id),
            leader_epoch: p.leader_epoch,
            replicas: p.replica_nodes.clone(),
            isr: p.isr_nodes.clone(),
            offline_replicas: p.offline_replicas.clone(),
        })
        .collect();
    out.sort_by_key(|p| p.partition);
    out
}

fn find_partition(
    response: &MetadataResponse,
    topic: &str,
    partition: i32,
) -> Result<PartitionInfo> {
    if let Some(t) = response
        .topics
        .iter()
        .find(|t| t.name.as_deref() == Some(topic))
    {
        if t.error_code != 0 {
            return Err(HarnessError::BadNodeState {
                operation: "describe",
                node: -1,
                state: format!("topic {topic:?} has error code {}", t.error_code),
            });
        }
    }
    partitions_of(response, topic)
        .into_iter()
        .find(|p| p.partition == partition)
        .ok_or_else(|| HarnessError::BadNodeState {
            operation: "describe",
            node: -1,
            state: format!("Metadata has no partition {topic}-{partition}"),
        })
}

/// A file-name-safe form of a topic name.
pub(crate) fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect()
}
