//! A simulated cluster for deterministic tests of the producer core.
//!
//! It plays the other side of the [`Sender`]: it answers its connection, Metadata,
//! InitProducerId and Produce requests in virtual time, keeps a log per partition and the
//! broker's idempotence checks (sequence numbers per producer and partition, the last five
//! batches remembered for duplicates), and injects seeded faults: lost responses (the request
//! is applied, then the connection drops), delayed responses, retriable broker errors,
//! leader moves and connections that fail to open. The same seed replays the same run.
//!
//! This is not a stand-in for Kafka in integration tests (those use real brokers); it tests
//! the producer's decisions without sockets or sleeps.
//!
//! # References
//! - Broker idempotence rules: `ProducerAppendInfo.java`, `ProducerStateEntry.java`
//!   (apache/kafka); quinn's `tests/util.rs` `Pair` (driving a sans-IO core in virtual time)

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::{Buf, Bytes, BytesMut};
use kiel_protocol::header::{RequestHeader, ResponseHeader};
use kiel_protocol::messages::api_versions::ApiVersion;
use kiel_protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use kiel_protocol::messages::metadata::{
    MetadataBroker, MetadataPartition, MetadataRequest, MetadataResponse, MetadataTopic,
};
use kiel_protocol::messages::produce::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    TopicProduceResponse,
};
use kiel_protocol::record::{increment_sequence, RecordBatch};
use kiel_protocol::{Decode, Encode, ErrorCode, Request};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::connection::{ConnectionError, ConnectionEvent, ConnectionId};
use crate::sender::{Action, Sender};

mod transactions;

/// Probabilities of the faults the simulation injects, per request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Faults {
    /// The request is applied but its response never comes: the connection drops.
    pub lose_response: f64,
    /// The connection drops before the request is applied.
    pub drop_request: f64,
    /// The request is applied but the answer never comes and the connection stays open:
    /// only the producer's request timeout gets it going again.
    pub swallow_response: f64,
    /// A partition answers a retriable error (nothing written).
    pub retriable_error: f64,
    /// A partition answers a non-retriable error (nothing written): the batch fails.
    pub fatal_error: f64,
    /// A partition's leader moves to another broker.
    pub leader_move: f64,
    /// A connection fails to open.
    pub connect_failure: f64,
    /// Extra response latency, up to this many milliseconds.
    pub max_extra_latency_ms: u64,
    /// The transaction coordinator moves, is loading or is busy (per coordinator request).
    pub coordinator_error: f64,
    /// A request of an open transaction (AddPartitionsToTxn, EndTxn(commit), a
    /// transactional Produce) is answered TRANSACTION_ABORTABLE: the client must abort.
    pub transaction_abortable: f64,
}

#[derive(Debug, Default)]
struct ProducerState {
    epoch: i16,
    last_sequence: i32,
    /// (first sequence, last sequence, base offset) of recent batches.
    recent: VecDeque<(i32, i32, i64)>,
}

/// One partition's log on the simulated cluster.
#[derive(Debug, Default)]
pub(crate) struct SimPartition {
    pub leader: i32,
    pub epoch: i32,
    /// (key, value) of every record, in offset order.
    pub log: Vec<(Option<Bytes>, Option<Bytes>)>,
    producers: HashMap<i64, ProducerState>,
    /// Offsets written by each producer's open transaction.
    open_transactions: HashMap<i64, Vec<usize>>,
    /// Offsets of records whose transaction aborted.
    aborted: BTreeSet<usize>,
    /// Transaction markers written (commits and aborts).
    pub markers: usize,
}

impl SimPartition {
    /// What a `read_committed` consumer sees: the records of committed transactions and
    /// those written outside transactions, in offset order.
    pub(crate) fn committed(&self) -> Vec<&(Option<Bytes>, Option<Bytes>)> {
        let open: BTreeSet<usize> = self.open_transactions.values().flatten().copied().collect();
        self.log
            .iter()
            .enumerate()
            .filter(|(offset, _)| !self.aborted.contains(offset) && !open.contains(offset))
            .map(|(_, record)| record)
            .collect()
    }
}

struct SimConnection {
    broker: i32,
    /// Responses on a connection come back in request order: none before this time.
    last_response_at: Instant,
    /// The network swallowed an answer: nothing more gets through until it is closed.
    black_holed: bool,
}

/// The simulated cluster.
pub(crate) struct SimCluster {
    pub now: Instant,
    rng: StdRng,
    faults: Faults,
    brokers: Vec<i32>,
    pub topics: BTreeMap<String, Vec<SimPartition>>,
    /// Topics this client may not write: Metadata answers TOPIC_AUTHORIZATION_FAILED.
    forbidden_topics: BTreeSet<String>,
    /// Brokers whose address answers as something other than Kafka (an HTTP server, say).
    not_kafka: BTreeSet<i32>,
    conns: HashMap<ConnectionId, SimConnection>,
    /// Events to deliver, by time (a Vec kept sorted; ties keep insertion order).
    queue: Vec<(Instant, u64, ConnectionEvent)>,
    seq: u64,
    next_producer_id: i64,
    /// Batches appended to the logs.
    pub appended_batches: usize,
    /// Produce answers per error code, for reports.
    pub errors: BTreeMap<i16, usize>,
    /// The broker that coordinates transactions (it moves with NOT_COORDINATOR faults).
    coordinator: i32,
    /// Transactional ids known to the coordinator.
    transactions: HashMap<String, transactions::SimTransaction>,
    /// The finalized `transaction.version` the brokers announce (None: classic).
    pub transaction_version: Option<i16>,
    /// Coordinator faults injected (NOT_COORDINATOR, loading, busy, not available).
    pub coordinator_faults: usize,
    /// EndTxn requests that arrived after their transaction had ended (a lost answer).
    pub end_txn_retries: usize,
    /// Transactions the coordinator ended: (commits, aborts).
    pub transactions_ended: (usize, usize),
    /// Transactions the coordinator aborted because they outlived their timeout.
    pub transactions_timed_out: usize,
    /// Producers fenced by a successor's InitProducerId ([`Self::fence`]).
    pub fenced: usize,
    /// TRANSACTION_ABORTABLE answers injected.
    pub abortable_answers: usize,
    /// InitProducerId requests with the producer's id and epoch that bumped it (KIP-360).
    pub epoch_bumps: usize,
}

fn encode_response<R: Request>(body: &R::Response, version: i16, correlation_id: i32) -> Bytes
where
    R::Response: Encode,
{
    let mut buf = BytesMut::new();
    let header = ResponseHeader {
        correlation_id,
        tagged_fields: Vec::new(),
    };
    // The simulation only encodes what it decoded, so these cannot fail.
    let _ = header.encode(&mut buf, R::response_header_version(version));
    let _ = body.encode(&mut buf, version);
    buf.freeze()
}

impl SimCluster {
    pub(crate) fn new(seed: u64, brokers: usize, faults: Faults) -> Self {
        Self {
            now: Instant::now(),
            rng: StdRng::seed_from_u64(seed),
            faults,
            brokers: (1..=brokers as i32).collect(),
            topics: BTreeMap::new(),
            forbidden_topics: BTreeSet::new(),
            not_kafka: BTreeSet::new(),
            conns: HashMap::new(),
            queue: Vec::new(),
            seq: 0,
            next_producer_id: 1000,
            appended_batches: 0,
            errors: BTreeMap::new(),
            coordinator: 1,
            transactions: HashMap::new(),
            transaction_version: None,
            coordinator_faults: 0,
            end_txn_retries: 0,
            transactions_ended: (0, 0),
            transactions_timed_out: 0,
            fenced: 0,
            abortable_answers: 0,
            epoch_bumps: 0,
        }
    }

    /// Makes Metadata refuse `name` for good (TOPIC_AUTHORIZATION_FAILED), as a broker
    /// with ACLs does.
    pub(crate) fn forbid_topic(&mut self, name: &str) {
        self.forbidden_topics.insert(name.to_owned());
    }

    /// Makes connections to `broker` fail as to an address where no Kafka broker answers.
    pub(crate) fn replace_with_not_kafka(&mut self, broker: i32) {
        self.not_kafka.insert(broker);
    }

    /// Creates a topic with leaders spread over the brokers.
    pub(crate) fn create_topic(&mut self, name: &str, partitions: usize) {
        let brokers = self.brokers.clone();
        self.topics.insert(
            name.to_owned(),
            (0..partitions)
                .map(|p| SimPartition {
                    leader: brokers[p % brokers.len()],
                    ..SimPartition::default()
                })
                .collect(),
        );
    }

    fn schedule(&mut self, at: Instant, event: ConnectionEvent) {
        self.seq += 1;
        let position = self
            .queue
            .partition_point(|(t, s, _)| (*t, *s) <= (at, self.seq));
        self.queue.insert(position, (at, self.seq, event));
    }

    fn latency(&mut self) -> Duration {
        let extra = if self.faults.max_extra_latency_ms > 0 {
            self.rng.random_range(0..=self.faults.max_extra_latency_ms)
        } else {
            0
        };
        Duration::from_millis(1 + extra)
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.rng.random_bool(p.min(1.0))
    }

    fn close(&mut self, id: ConnectionId, reason: &str) {
        if self.conns.remove(&id).is_some() {
            let at = self.now + Duration::from_millis(1);
            self.schedule(
                at,
                ConnectionEvent::Closed {
                    id,
                    error: ConnectionError::Io(reason.to_owned()),
                },
            );
        }
    }

    /// When the next event is due.
    pub(crate) fn next_event_at(&self) -> Option<Instant> {
        self.queue.first().map(|(t, _, _)| *t)
    }

    /// Takes the events due at or before `now`.
    pub(crate) fn due_events(&mut self) -> Vec<ConnectionEvent> {
        let n = self.queue.partition_point(|(t, _, _)| *t <= self.now);
        self.queue.drain(..n).map(|(_, _, e)| e).collect()
    }

    /// Carries out one of the sender's actions.
    pub(crate) fn apply(&mut self, action: Action) {
        match action {
            Action::Connect { id, address } => {
                if self.chance(self.faults.connect_failure) {
                    let at = self.now + Duration::from_millis(5);
                    self.schedule(
                        at,
                        ConnectionEvent::Closed {
                            id,
                            error: ConnectionError::Refused,
                        },
                    );
                    return;
                }
                let broker = address
                    .strip_prefix("broker-")
                    .and_then(|rest| rest.split(':').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(self.brokers[0]);
                if self.not_kafka.contains(&broker) {
                    let at = self.now + Duration::from_millis(2);
                    let answer = "it answered like an HTTP server".to_owned();
                    let error = ConnectionError::NotKafka { answer };
                    self.schedule(at, ConnectionEvent::Closed { id, error });
                    return;
                }
                self.conns.insert(
                    id,
                    SimConnection {
                        broker,
                        last_response_at: self.now,
                        black_holed: false,
                    },
                );
                let api_versions = vec![
                    ApiVersion {
                        api_key: 0,
                        min_version: 0,
                        max_version: 12,
                    },
                    ApiVersion {
                        api_key: 3,
                        min_version: 0,
                        max_version: 13,
                    },
                    ApiVersion {
                        api_key: 18,
                        min_version: 0,
                        max_version: 4,
                    },
                    ApiVersion {
                        api_key: 22,
                        min_version: 0,
                        max_version: 5,
                    },
                    ApiVersion {
                        api_key: 10,
                        min_version: 0,
                        max_version: 6,
                    },
                    ApiVersion {
                        api_key: 24,
                        min_version: 0,
                        max_version: 5,
                    },
                    ApiVersion {
                        api_key: 26,
                        min_version: 0,
                        max_version: 5,
                    },
                ];
                let at = self.now + Duration::from_millis(2);
                self.schedule(
                    at,
                    ConnectionEvent::Ready {
                        id,
                        api_versions,
                        transaction_version: self.transaction_version,
                    },
                );
            }
            Action::Close { id } => {
                self.conns.remove(&id);
            }
            Action::Send {
                id,
                correlation_id,
                frame,
                expect_response,
            } => {
                let Some((broker, black_holed)) =
                    self.conns.get(&id).map(|c| (c.broker, c.black_holed))
                else {
                    return;
                };
                if black_holed {
                    return;
                }
                if self.chance(self.faults.drop_request) {
                    self.close(id, "dropped before the request arrived");
                    return;
                }
                let mut body = Bytes::from(frame);
                body.advance(4);
                let response = self.handle(broker, body, correlation_id);
                if !expect_response {
                    let at = self.now + Duration::from_millis(1);
                    self.schedule(at, ConnectionEvent::Written { id, correlation_id });
                    return;
                }
                if self.chance(self.faults.lose_response) {
                    self.close(id, "connection lost after the request was applied");
                    return;
                }
                if self.chance(self.faults.swallow_response) {
                    if let Some(conn) = self.conns.get_mut(&id) {
                        conn.black_holed = true;
                    }
                    return;
                }
                if let Some(frame) = response {
                    let latency = self.latency();
                    let Some(conn) = self.conns.get_mut(&id) else {
                        return;
                    };
                    let at = (self.now + latency).max(conn.last_response_at);
                    conn.last_response_at = at;
                    self.schedule(
                        at,
                        ConnectionEvent::Response {
                            id,
                            correlation_id,
                            frame,
                        },
                    );
                }
            }
        }
    }

    fn handle(&mut self, broker: i32, mut body: Bytes, correlation_id: i32) -> Option<Bytes> {
        let api_key = i16::from_be_bytes([*body.first()?, *body.get(1)?]);
        let version = i16::from_be_bytes([*body.get(2)?, *body.get(3)?]);
        if let Some(answer) =
            self.handle_transactional(broker, api_key, version, body.clone(), correlation_id)
        {
            return answer;
        }
        match api_key {
            3 => {
                RequestHeader::decode(&mut body, MetadataRequest::request_header_version(version))
                    .ok()?;
                let request = MetadataRequest::decode(&mut body, version).ok()?;
                let response = self.metadata(&request);
                Some(encode_response::<MetadataRequest>(
                    &response,
                    version,
                    correlation_id,
                ))
            }
            22 => {
                RequestHeader::decode(
                    &mut body,
                    InitProducerIdRequest::request_header_version(version),
                )
                .ok()?;
                InitProducerIdRequest::decode(&mut body, version).ok()?;
                self.next_producer_id += 1;
                let response = InitProducerIdResponse {
                    throttle_time_ms: 0,
                    error_code: 0,
                    producer_id: self.next_producer_id,
                    producer_epoch: 0,
                };
                Some(encode_response::<InitProducerIdRequest>(
                    &response,
                    version,
                    correlation_id,
                ))
            }
            0 => {
                RequestHeader::decode(&mut body, ProduceRequest::request_header_version(version))
                    .ok()?;
                let request = ProduceRequest::decode(&mut body, version).ok()?;
                // KIP-951 leader hints exist from Produce v10.
                let response = self.produce(broker, &request, version);
                Some(encode_response::<ProduceRequest>(
                    &response,
                    version,
                    correlation_id,
                ))
            }
            _ => None,
        }
    }

    fn metadata(&mut self, request: &MetadataRequest) -> MetadataResponse {
        let names: Vec<String> = match &request.topics {
            Some(topics) => topics.iter().filter_map(|t| t.name.clone()).collect(),
            None => self.topics.keys().cloned().collect(),
        };
        let topics = names
            .into_iter()
            .map(|name| match self.topics.get(&name) {
                _ if self.forbidden_topics.contains(&name) => MetadataTopic {
                    error_code: ErrorCode::TopicAuthorizationFailed.code(),
                    name: Some(name),
                    ..MetadataTopic::default()
                },
                Some(partitions) => MetadataTopic {
                    error_code: 0,
                    name: Some(name),
                    partitions: partitions
                        .iter()
                        .enumerate()
                        .map(|(i, p)| MetadataPartition {
                            partition_index: i as i32,
                            leader_id: p.leader,
                            leader_epoch: p.epoch,
                            replica_nodes: self.brokers.clone(),
                            isr_nodes: self.brokers.clone(),
                            ..MetadataPartition::default()
                        })
                        .collect(),
                    ..MetadataTopic::default()
                },
                None => MetadataTopic {
                    error_code: ErrorCode::UnknownTopicOrPartition.code(),
                    name: Some(name),
                    ..MetadataTopic::default()
                },
            })
            .collect();
        MetadataResponse {
            brokers: self
                .brokers
                .iter()
                .map(|&b| MetadataBroker {
                    node_id: b,
                    host: format!("broker-{b}"),
                    port: 9092,
                    rack: None,
                })
                .collect(),
            controller_id: self.brokers[0],
            topics,
            ..MetadataResponse::default()
        }
    }

    fn produce(&mut self, broker: i32, request: &ProduceRequest, version: i16) -> ProduceResponse {
        // KIP-951 leader hints exist from Produce v10.
        let hints_allowed = version >= 10;
        let mut topics = Vec::new();
        let mut node_endpoints: Vec<NodeEndpoint> = Vec::new();
        for topic in &request.topics {
            let mut partitions = Vec::new();
            for data in &topic.partitions {
                let (code, base_offset) = self.append(
                    broker,
                    &topic.name,
                    data.index,
                    data.records.clone(),
                    version,
                );
                if !code.is_ok() {
                    *self.errors.entry(code.code()).or_default() += 1;
                }
                if std::env::var_os("KIEL_SIM_TRACE").is_some() {
                    let header = data
                        .records
                        .as_deref()
                        .and_then(|r| kiel_protocol::record::BatchHeader::parse(r).ok());
                    eprintln!(
                        "  -> {}-{} epoch {:?} seq {:?}: {code} at {base_offset}",
                        topic.name,
                        data.index,
                        header.map(|h| h.producer_epoch),
                        header.map(|h| h.base_sequence)
                    );
                }
                // Half the refusals name the current leader, as KIP-951 brokers do.
                let current_leader = if code == ErrorCode::NotLeaderOrFollower
                    && hints_allowed
                    && self.chance(0.5)
                {
                    self.leader_hint(&topic.name, data.index, &mut node_endpoints)
                } else {
                    None
                };
                partitions.push(PartitionProduceResponse {
                    index: data.index,
                    error_code: code.code(),
                    base_offset,
                    log_append_time_ms: -1,
                    log_start_offset: 0,
                    current_leader,
                    ..PartitionProduceResponse::default()
                });
            }
            topics.push(TopicProduceResponse {
                name: topic.name.clone(),
                partitions,
            });
        }
        ProduceResponse {
            topics,
            node_endpoints,
            ..ProduceResponse::default()
        }
    }

    /// The current leader of a partition as a KIP-951 hint, its address added to
    /// `endpoints` once.
    fn leader_hint(
        &self,
        topic: &str,
        index: i32,
        endpoints: &mut Vec<NodeEndpoint>,
    ) -> Option<LeaderIdAndEpoch> {
        let partition = self.topics.get(topic)?.get(usize::try_from(index).ok()?)?;
        if !endpoints.iter().any(|e| e.node_id == partition.leader) {
            endpoints.push(NodeEndpoint {
                node_id: partition.leader,
                host: format!("broker-{}", partition.leader),
                port: 9092,
                rack: None,
            });
        }
        Some(LeaderIdAndEpoch {
            leader_id: partition.leader,
            leader_epoch: partition.epoch,
        })
    }

    fn append(
        &mut self,
        broker: i32,
        topic: &str,
        index: i32,
        records: Option<Bytes>,
        version: i16,
    ) -> (ErrorCode, i64) {
        let transactional = records
            .as_deref()
            .and_then(|r| kiel_protocol::record::BatchHeader::parse(r).ok())
            .filter(|h| h.is_transactional())
            .map(|h| (h.producer_id, h.producer_epoch));
        if let Some((producer_id, epoch)) = transactional {
            if let Err(code) =
                self.transactional_write_allowed(producer_id, epoch, topic, index, version)
            {
                return (code, -1);
            }
        }
        let transactional = transactional.map(|(producer_id, _)| producer_id);
        let brokers = self.brokers.clone();
        let move_leader = self.chance(self.faults.leader_move);
        let transient = self.chance(self.faults.retriable_error);
        let fatal = self.chance(self.faults.fatal_error);
        let new_leader = brokers[self.rng.random_range(0..brokers.len())];
        let Some(partition) = self
            .topics
            .get_mut(topic)
            .and_then(|t| t.get_mut(usize::try_from(index).ok()?))
        else {
            return (ErrorCode::UnknownTopicOrPartition, -1);
        };
        if partition.leader != broker {
            return (ErrorCode::NotLeaderOrFollower, -1);
        }
        if move_leader && new_leader != broker {
            partition.leader = new_leader;
            partition.epoch += 1;
            return (ErrorCode::NotLeaderOrFollower, -1);
        }
        if transient {
            return (ErrorCode::NotEnoughReplicas, -1);
        }
        let Some(mut bytes) = records else {
            return (ErrorCode::CorruptMessage, -1);
        };
        let Ok(batch) = RecordBatch::decode(&mut bytes) else {
            return (ErrorCode::CorruptMessage, -1);
        };
        let count = batch.records.len() as i32;
        let last_sequence = increment_sequence(batch.base_sequence, count - 1);
        if std::env::var_os("KIEL_SIM_TRACE").is_some() {
            let state = partition.producers.get(&batch.producer_id);
            eprintln!(
                "[{:?}] broker {broker} {topic}-{index}: pid {} epoch {} seq {}..={} (state: {:?})",
                self.now,
                batch.producer_id,
                batch.producer_epoch,
                batch.base_sequence,
                last_sequence,
                state.map(|s| (s.epoch, s.last_sequence))
            );
        }
        if batch.producer_id >= 0 {
            let state = partition
                .producers
                .entry(batch.producer_id)
                .or_insert(ProducerState {
                    epoch: batch.producer_epoch,
                    last_sequence: -1,
                    recent: VecDeque::new(),
                });
            if batch.producer_epoch < state.epoch {
                return (ErrorCode::InvalidProducerEpoch, -1);
            }
            if batch.producer_epoch > state.epoch {
                if batch.base_sequence != 0 {
                    return (ErrorCode::OutOfOrderSequenceNumber, -1);
                }
                state.epoch = batch.producer_epoch;
                state.last_sequence = -1;
                state.recent.clear();
            }
            if let Some(&(_, _, offset)) = state
                .recent
                .iter()
                .find(|(first, last, _)| *first == batch.base_sequence && *last == last_sequence)
            {
                return (ErrorCode::None, offset);
            }
            // Validation failures are properties of a new batch: a duplicate of a batch the
            // broker already took would have passed them the first time.
            if fatal {
                return (ErrorCode::InvalidRecord, -1);
            }
            let expected = if state.last_sequence < 0 {
                0
            } else {
                increment_sequence(state.last_sequence, 1)
            };
            if batch.base_sequence != expected && state.last_sequence >= 0 {
                return (ErrorCode::OutOfOrderSequenceNumber, -1);
            }
            state.last_sequence = last_sequence;
            let base_offset = partition.log.len() as i64;
            state
                .recent
                .push_back((batch.base_sequence, last_sequence, base_offset));
            if state.recent.len() > 5 {
                state.recent.pop_front();
            }
        }
        if fatal && batch.producer_id < 0 {
            return (ErrorCode::InvalidRecord, -1);
        }
        let base_offset = partition.log.len() as i64;
        for r in batch.records {
            if let Some(producer_id) = transactional {
                let offset = partition.log.len();
                partition
                    .open_transactions
                    .entry(producer_id)
                    .or_default()
                    .push(offset);
            }
            partition.log.push((r.key, r.value));
        }
        self.appended_batches += 1;
        (ErrorCode::None, base_offset)
    }

    /// Runs the sender against this cluster until `done()` or `limit` of virtual time.
    pub(crate) fn run(
        &mut self,
        sender: &mut Sender,
        limit: Duration,
        mut done: impl FnMut() -> bool,
    ) -> bool {
        let end = self.now + limit;
        while self.now < end {
            for action in sender.poll(self.now) {
                self.apply(action);
            }
            if done() {
                return true;
            }
            let next = [sender.next_wakeup(self.now), self.next_event_at()]
                .into_iter()
                .flatten()
                .min()
                .unwrap_or(end);
            self.now = next.max(self.now + Duration::from_micros(100)).min(end);
            for event in self.due_events() {
                sender.handle_event(event, self.now);
            }
        }
        done()
    }
}

/// Collects outcomes delivered to callbacks.
pub(crate) type Outcomes = Arc<Mutex<Vec<(u64, Result<crate::RecordMetadata, crate::Error>)>>>;
