//! Cluster state: brokers, and for each topic its partitions' leaders and leader epochs.
//!
//! A sans-IO state machine: it applies Metadata responses, answers "who leads this
//! partition", and decides when the next Metadata request is due. It never reads a clock;
//! `now` is an argument.
//!
//! Healing: an unknown topic, `NOT_LEADER_OR_FOLLOWER`, `UNKNOWN_TOPIC_OR_PARTITION` or a lost
//! connection calls [`ClusterState::mark_stale`], which asks for *one* refresh however many
//! errors arrive before it is sent. A partial answer never erases what is known about the
//! topics it did not mention, and a leader epoch older than the known one is ignored.
//!
//! Leader hints (KIP-951): a Produce answer refusing a partition may name the new leader
//! and its epoch (and the new leader's address). [`ClusterState::apply_leader_hint`] takes
//! such a hint when its epoch is newer than the known one, so the batch can go to the new
//! leader without waiting for a Metadata round trip.
//!
//! # References
//! - Java `Metadata.java` (epoch checks, `requestUpdate`), librdkafka PR #4677 and sarama
//!   PR #372 (do not cache "topic missing" forever, do not wipe on partial refresh)
//! - KIP-951, leader discovery optimisations for the client:
//!   <https://cwiki.apache.org/confluence/display/KAFKA/KIP-951%3A+Leader+discovery+optimisations+for+the+client>

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiel_protocol::messages::metadata::MetadataResponse;
use kiel_protocol::messages::produce::NodeEndpoint;
use kiel_protocol::ErrorCode;

use crate::time::later;

/// A broker's address as Metadata gives it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct BrokerAddress {
    pub host: String,
    pub port: i32,
}

impl std::fmt::Display for BrokerAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// One partition's leadership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartitionInfo {
    /// The leader's node id, or `None` while there is no leader.
    pub leader: Option<i32>,
    /// The leader epoch (-1 when the broker does not report it).
    pub leader_epoch: i32,
}

/// What is known about one topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicInfo {
    pub partitions: Vec<PartitionInfo>,
    /// Partitions that have a leader, sorted.
    pub available: Vec<i32>,
}

impl TopicInfo {
    fn new(partitions: Vec<PartitionInfo>) -> Self {
        let available = partitions
            .iter()
            .enumerate()
            .filter(|(_, p)| p.leader.is_some())
            .map(|(i, _)| i as i32)
            .collect();
        Self {
            partitions,
            available,
        }
    }

    pub(crate) fn partition_count(&self) -> i32 {
        self.partitions.len() as i32
    }
}

/// A topic the brokers say does not exist (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MissingTopic {
    pub first_seen: Instant,
    pub error: ErrorCode,
}

/// The outcome of applying a Metadata response, for the caller to act on.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct MetadataUpdate {
    /// Topics whose partitions became known or changed.
    pub changed_topics: Vec<Arc<str>>,
    /// Topics reported with a fatal error (invalid name, not authorized).
    pub failed_topics: Vec<(Arc<str>, ErrorCode)>,
}

/// What [`ClusterState::apply_leader_hint`] did with a hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeaderHint {
    /// Not newer than what is known, or unusable (no address for the leader): ask Metadata.
    Ignored,
    /// The partition now has this leader.
    Applied {
        /// The partition had no leader before (the topic's available partitions changed).
        became_available: bool,
    },
}

/// The cluster as the producer knows it.
#[derive(Debug)]
pub(crate) struct ClusterState {
    brokers: BTreeMap<i32, BrokerAddress>,
    topics: BTreeMap<Arc<str>, Arc<TopicInfo>>,
    missing: BTreeMap<Arc<str>, MissingTopic>,
    wanted: BTreeSet<Arc<str>>,
    max_age: Duration,
    backoff: Duration,
    last_refresh: Option<Instant>,
    last_attempt: Option<Instant>,
    stale: bool,
    /// A topic never asked about was added: the next refresh need not wait out the backoff.
    new_topic: bool,
    in_flight: bool,
}

impl ClusterState {
    pub(crate) fn new(max_age: Duration, backoff: Duration) -> Self {
        Self {
            brokers: BTreeMap::new(),
            topics: BTreeMap::new(),
            missing: BTreeMap::new(),
            wanted: BTreeSet::new(),
            max_age,
            backoff,
            last_refresh: None,
            last_attempt: None,
            stale: true,
            new_topic: false,
            in_flight: false,
        }
    }

    pub(crate) fn broker(&self, id: i32) -> Option<&BrokerAddress> {
        self.brokers.get(&id)
    }

    pub(crate) fn broker_ids(&self) -> impl Iterator<Item = i32> + '_ {
        self.brokers.keys().copied()
    }

    pub(crate) fn topic(&self, topic: &str) -> Option<&Arc<TopicInfo>> {
        self.topics.get(topic)
    }

    pub(crate) fn missing(&self, topic: &str) -> Option<MissingTopic> {
        self.missing.get(topic).copied()
    }

    /// The leader of `partition` of `topic`, when known.
    pub(crate) fn leader_for(&self, topic: &str, partition: i32) -> Option<i32> {
        self.topics
            .get(topic)?
            .partitions
            .get(usize::try_from(partition).ok()?)?
            .leader
    }

    /// Adds a topic to the set the producer asks about. A new one makes a refresh due at
    /// once, without waiting out the backoff of the last refresh (as Java's
    /// `requestUpdateForNewTopics`): the backoff is there to space out retries, not to delay
    /// a question never asked.
    pub(crate) fn want_topic(&mut self, topic: &Arc<str>) {
        if self.wanted.insert(Arc::clone(topic)) && !self.topics.contains_key(topic) {
            self.stale = true;
            self.new_topic = true;
        }
    }

    /// Stops asking about a topic (nothing is waiting for it any more).
    pub(crate) fn forget_missing(&mut self, topic: &str) {
        if self.missing.remove(topic).is_some() {
            self.wanted.remove(topic);
        }
    }

    /// Something is out of date (a leader moved, a connection broke): ask for a refresh.
    /// However often this is called before the refresh is sent, one refresh is sent.
    pub(crate) fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Whether a Metadata request should be sent now; if so, marks one as in flight and
    /// returns the topics to ask about.
    pub(crate) fn poll_refresh(&mut self, now: Instant) -> Option<Vec<Arc<str>>> {
        if self.in_flight {
            return None;
        }
        let aged = self
            .last_refresh
            .is_none_or(|t| now.saturating_duration_since(t) >= self.max_age);
        let backed_off = self.new_topic
            || self
                .last_attempt
                .is_none_or(|t| now.saturating_duration_since(t) >= self.backoff);
        if (self.stale || aged) && backed_off {
            self.in_flight = true;
            self.last_attempt = Some(now);
            self.stale = false;
            self.new_topic = false;
            let mut topics: Vec<Arc<str>> = self.wanted.iter().cloned().collect();
            topics.sort();
            return Some(topics);
        }
        None
    }

    /// When [`Self::poll_refresh`] may next have something to do.
    pub(crate) fn next_refresh_at(&self, now: Instant) -> Option<Instant> {
        if self.in_flight {
            return None;
        }
        let due_by_age = self.last_refresh.map(|t| later(t, self.max_age));
        let due_by_stale = if self.new_topic {
            Some(now)
        } else if self.stale {
            Some(self.last_attempt.map_or(now, |t| later(t, self.backoff)))
        } else {
            None
        };
        match (due_by_age, due_by_stale) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The Metadata request failed (no answer): allow another after the backoff.
    pub(crate) fn refresh_failed(&mut self) {
        self.in_flight = false;
        self.stale = true;
    }

    /// Takes a leader hint from a Produce answer (KIP-951): `leader_id` leads `partition`
    /// of `topic` at `leader_epoch`. Applied only when the epoch is newer than the known
    /// one and the leader's address is known or among `endpoints`.
    pub(crate) fn apply_leader_hint(
        &mut self,
        topic: &str,
        partition: i32,
        leader_id: i32,
        leader_epoch: i32,
        endpoints: &[NodeEndpoint],
    ) -> LeaderHint {
        if leader_id < 0 || leader_epoch < 0 {
            return LeaderHint::Ignored;
        }
        let Some(info) = self.topics.get(topic) else {
            return LeaderHint::Ignored;
        };
        let Some(known) = usize::try_from(partition)
            .ok()
            .and_then(|i| info.partitions.get(i))
        else {
            return LeaderHint::Ignored;
        };
        if leader_epoch <= known.leader_epoch {
            return LeaderHint::Ignored;
        }
        if let std::collections::btree_map::Entry::Vacant(slot) = self.brokers.entry(leader_id) {
            let Some(endpoint) = endpoints.iter().find(|e| e.node_id == leader_id) else {
                return LeaderHint::Ignored;
            };
            slot.insert(BrokerAddress {
                host: endpoint.host.clone(),
                port: endpoint.port,
            });
        }
        let became_available = known.leader.is_none();
        let mut partitions = info.partitions.clone();
        partitions[partition as usize] = PartitionInfo {
            leader: Some(leader_id),
            leader_epoch,
        };
        if let Some(slot) = self.topics.get_mut(topic) {
            *slot = Arc::new(TopicInfo::new(partitions));
        }
        LeaderHint::Applied { became_available }
    }

    /// Applies a Metadata response.
    pub(crate) fn apply_metadata(
        &mut self,
        response: &MetadataResponse,
        now: Instant,
    ) -> MetadataUpdate {
        self.in_flight = false;
        self.last_refresh = Some(now);
        let mut update = MetadataUpdate::default();
        if !response.brokers.is_empty() {
            self.brokers = response
                .brokers
                .iter()
                .map(|b| {
                    (
                        b.node_id,
                        BrokerAddress {
                            host: b.host.clone(),
                            port: b.port,
                        },
                    )
                })
                .collect();
        }
        for topic in &response.topics {
            let Some(name) = topic.name.as_deref() else {
                continue;
            };
            let name: Arc<str> = self
                .wanted
                .get(name)
                .cloned()
                .unwrap_or_else(|| Arc::from(name));
            let code = ErrorCode::from_code(topic.error_code);
            if code.is_ok() {
                self.missing.remove(&name);
                let mut partitions = vec![
                    PartitionInfo {
                        leader: None,
                        leader_epoch: -1
                    };
                    topic.partitions.len()
                ];
                let mut complete = true;
                for p in &topic.partitions {
                    let Some(slot) = usize::try_from(p.partition_index)
                        .ok()
                        .and_then(|i| partitions.get_mut(i))
                    else {
                        complete = false;
                        continue;
                    };
                    let leader = (p.leader_id >= 0 && self.brokers.contains_key(&p.leader_id))
                        .then_some(p.leader_id);
                    *slot = PartitionInfo {
                        leader: if ErrorCode::from_code(p.error_code).is_ok()
                            || ErrorCode::from_code(p.error_code) == ErrorCode::ReplicaNotAvailable
                        {
                            leader
                        } else {
                            None
                        },
                        leader_epoch: p.leader_epoch,
                    };
                }
                if !complete || partitions.is_empty() {
                    self.stale = true;
                    continue;
                }
                // Never go back to an older leader epoch for the same partition count.
                if let Some(old) = self.topics.get(&name) {
                    if old.partitions.len() == partitions.len() {
                        for (new, old) in partitions.iter_mut().zip(&old.partitions) {
                            if new.leader_epoch >= 0 && new.leader_epoch < old.leader_epoch {
                                *new = *old;
                            }
                        }
                    }
                }
                if partitions.iter().any(|p| p.leader.is_none()) {
                    self.stale = true;
                }
                let info = TopicInfo::new(partitions);
                if self.topics.get(&name).map(|t| t.as_ref()) != Some(&info) {
                    self.topics.insert(Arc::clone(&name), Arc::new(info));
                    update.changed_topics.push(name);
                }
            } else if matches!(
                code,
                ErrorCode::InvalidTopicException | ErrorCode::TopicAuthorizationFailed
            ) {
                update.failed_topics.push((name, code));
            } else {
                // Unknown topic (maybe being auto-created) or no leader yet: retry.
                self.stale = true;
                if !self.topics.contains_key(&name) {
                    self.missing
                        .entry(name)
                        .or_insert(MissingTopic {
                            first_seen: now,
                            error: code,
                        })
                        .error = code;
                }
            }
        }
        update
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiel_protocol::messages::metadata::{MetadataBroker, MetadataPartition, MetadataTopic};

    fn response(topics: Vec<MetadataTopic>) -> MetadataResponse {
        MetadataResponse {
            brokers: vec![
                MetadataBroker {
                    node_id: 1,
                    host: "h1".into(),
                    port: 1,
                    rack: None,
                },
                MetadataBroker {
                    node_id: 2,
                    host: "h2".into(),
                    port: 2,
                    rack: None,
                },
            ],
            topics,
            ..MetadataResponse::default()
        }
    }

    fn topic(name: &str, error: i16, leaders: &[(i32, i32)]) -> MetadataTopic {
        MetadataTopic {
            error_code: error,
            name: Some(name.into()),
            partitions: leaders
                .iter()
                .enumerate()
                .map(|(i, &(leader, epoch))| MetadataPartition {
                    partition_index: i as i32,
                    leader_id: leader,
                    leader_epoch: epoch,
                    ..MetadataPartition::default()
                })
                .collect(),
            ..MetadataTopic::default()
        }
    }

    #[test]
    fn many_stale_marks_make_one_refresh() {
        let t0 = Instant::now();
        let mut c = ClusterState::new(Duration::from_secs(300), Duration::from_millis(100));
        c.want_topic(&Arc::from("a"));
        assert_eq!(c.poll_refresh(t0).as_deref(), Some(&[Arc::from("a")][..]));
        for _ in 0..10 {
            c.mark_stale();
        }
        assert_eq!(c.poll_refresh(t0), None, "one refresh in flight at a time");
        c.apply_metadata(&response(vec![topic("a", 0, &[(1, 0)])]), t0);
        assert_eq!(c.poll_refresh(t0), None, "backoff first");
        let t1 = t0 + Duration::from_millis(100);
        assert!(
            c.poll_refresh(t1).is_some(),
            "the stale marks asked for one more"
        );
        c.apply_metadata(&response(vec![topic("a", 0, &[(1, 0)])]), t1);
        assert_eq!(c.poll_refresh(t1 + Duration::from_secs(1)), None);
        assert!(
            c.poll_refresh(t0 + Duration::from_secs(301)).is_some(),
            "max age"
        );
    }

    #[test]
    fn a_new_topic_is_asked_about_at_once_but_a_missing_one_is_retried_after_the_backoff() {
        let t0 = Instant::now();
        let mut c = ClusterState::new(Duration::from_secs(300), Duration::from_millis(100));
        // The bootstrap refresh, with no topic yet.
        assert!(c.poll_refresh(t0).is_some());
        c.apply_metadata(&response(vec![]), t0);
        // A first record for a new topic comes right after: no 100 ms wait for it.
        let t1 = t0 + Duration::from_millis(1);
        c.want_topic(&Arc::from("new"));
        assert_eq!(c.next_refresh_at(t1), Some(t1));
        assert_eq!(c.poll_refresh(t1).as_deref(), Some(&[Arc::from("new")][..]));
        // It does not exist yet: asking again waits the backoff.
        c.apply_metadata(&response(vec![topic("new", 3, &[])]), t1);
        c.mark_stale();
        assert_eq!(c.poll_refresh(t1 + Duration::from_millis(50)), None);
        assert!(c.poll_refresh(t1 + Duration::from_millis(100)).is_some());
    }

    #[test]
    fn forever_as_max_age_and_backoff_does_not_overflow() {
        let t0 = Instant::now();
        let mut c = ClusterState::new(Duration::MAX, Duration::MAX);
        assert!(c.poll_refresh(t0).is_some());
        c.apply_metadata(&response(vec![]), t0);
        c.mark_stale();
        assert!(c.next_refresh_at(t0).is_some_and(|t| t > t0));
        assert_eq!(c.poll_refresh(t0 + Duration::from_secs(3600)), None);
    }

    #[test]
    fn partial_refresh_keeps_other_topics_and_old_epochs_are_ignored() {
        let t0 = Instant::now();
        let mut c = ClusterState::new(Duration::from_secs(300), Duration::ZERO);
        c.apply_metadata(
            &response(vec![topic("a", 0, &[(1, 5)]), topic("b", 0, &[(2, 1)])]),
            t0,
        );
        c.apply_metadata(&response(vec![topic("a", 0, &[(2, 4)])]), t0);
        assert_eq!(c.leader_for("a", 0), Some(1), "epoch 4 is older than 5");
        assert_eq!(c.leader_for("b", 0), Some(2), "b kept");
        c.apply_metadata(&response(vec![topic("a", 0, &[(2, 6)])]), t0);
        assert_eq!(c.leader_for("a", 0), Some(2));
    }

    #[test]
    fn unknown_topic_is_missing_until_it_appears() {
        let t0 = Instant::now();
        let mut c = ClusterState::new(Duration::from_secs(300), Duration::ZERO);
        let name: Arc<str> = Arc::from("new");
        c.want_topic(&name);
        c.poll_refresh(t0);
        c.apply_metadata(&response(vec![topic("new", 3, &[])]), t0);
        assert_eq!(
            c.missing("new").map(|m| m.error),
            Some(ErrorCode::UnknownTopicOrPartition)
        );
        assert!(c.poll_refresh(t0).is_some(), "missing topic asks again");
        let update = c.apply_metadata(&response(vec![topic("new", 0, &[(1, 0), (2, 0)])]), t0);
        assert_eq!(update.changed_topics, vec![name]);
        assert_eq!(c.missing("new"), None);
        assert_eq!(c.topic("new").map(|t| t.partition_count()), Some(2));
    }

    #[test]
    fn leaderless_partition_is_unavailable_and_asks_again() {
        let t0 = Instant::now();
        let mut c = ClusterState::new(Duration::from_secs(300), Duration::ZERO);
        c.apply_metadata(&response(vec![topic("a", 0, &[(1, 0), (-1, 0)])]), t0);
        assert_eq!(c.topic("a").map(|t| t.available.clone()), Some(vec![0]));
        assert!(c.poll_refresh(t0).is_some());
    }

    #[test]
    fn leader_hints_apply_only_when_newer_and_reachable() {
        let t0 = Instant::now();
        let mut c = ClusterState::new(Duration::from_secs(300), Duration::ZERO);
        c.apply_metadata(&response(vec![topic("a", 0, &[(1, 4), (-1, 2)])]), t0);
        // Same or older epoch: nothing new.
        assert_eq!(c.apply_leader_hint("a", 0, 2, 4, &[]), LeaderHint::Ignored);
        assert_eq!(c.apply_leader_hint("a", 0, 2, 3, &[]), LeaderHint::Ignored);
        assert_eq!(c.leader_for("a", 0), Some(1));
        // Newer epoch, known broker.
        assert_eq!(
            c.apply_leader_hint("a", 0, 2, 5, &[]),
            LeaderHint::Applied {
                became_available: false
            }
        );
        assert_eq!(c.leader_for("a", 0), Some(2));
        // An unknown broker needs its endpoint.
        assert_eq!(c.apply_leader_hint("a", 1, 3, 3, &[]), LeaderHint::Ignored);
        let endpoint = NodeEndpoint {
            node_id: 3,
            host: "h3".into(),
            port: 3,
            rack: None,
        };
        assert_eq!(
            c.apply_leader_hint("a", 1, 3, 3, &[endpoint]),
            LeaderHint::Applied {
                became_available: true
            }
        );
        assert_eq!(c.leader_for("a", 1), Some(3));
        assert_eq!(c.broker(3).map(ToString::to_string), Some("h3:3".into()));
        assert_eq!(c.topic("a").map(|t| t.available.clone()), Some(vec![0, 1]));
        // Unknown topics, partitions and negative ids are ignored.
        assert_eq!(c.apply_leader_hint("b", 0, 1, 9, &[]), LeaderHint::Ignored);
        assert_eq!(c.apply_leader_hint("a", 7, 1, 9, &[]), LeaderHint::Ignored);
        assert_eq!(c.apply_leader_hint("a", -1, 1, 9, &[]), LeaderHint::Ignored);
        assert_eq!(c.apply_leader_hint("a", 0, -1, 9, &[]), LeaderHint::Ignored);
    }
}
