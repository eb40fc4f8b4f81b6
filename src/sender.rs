//! The sender, i.e. *sent*: the producer's decisions, as a state machine with no IO.
//!
//! [`Sender`] owns the cluster state, the broker connections' states and the requests in
//! flight. The driver feeds it events ([`Sender::handle_event`]) and asks it what to do
//! ([`Sender::poll`], which returns [`Action`]s: connect, send a frame, close a connection).
//! Time is always an argument, so tests can drive it with virtual time.
//!
//! One Produce request per broker carries every ready partition led by that broker, up to
//! `max.request.size`; up to `max.in.flight.requests.per.connection` are pipelined. A
//! partition answer of success completes its batch's records; a retriable error puts the
//! batch back into *unsent* ahead of newer batches (with backoff and a metadata refresh
//! when the error says leadership moved); `MESSAGE_TOO_LARGE` splits the batch; any other
//! error fails exactly that batch's records.
//!
//! # References
//! - Java `Sender.java` (per-node drain, `completeBatch`, `canRetry`), KIP-580 (backoff),
//!   KIP-98 (sequence numbers), `../shared/design/protocol.md` §4, §7, §8

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kiel_protocol::frame::{decode_response, encode_request};
use kiel_protocol::messages::api_versions::{self, ApiVersion};
use kiel_protocol::messages::init_producer_id::InitProducerIdRequest;
use kiel_protocol::messages::metadata::{MetadataRequest, MetadataRequestTopic};
use kiel_protocol::messages::produce::{
    PartitionProduceData, ProduceRequest, ProduceResponse, TopicProduceData,
};
use kiel_protocol::record::{
    increment_sequence, BatchOptions, RecordBatch, RecordBatchBuilder, RecordHeaderRef,
};
use kiel_protocol::{Compression, ErrorCode, Request};

use crate::accumulator::ProducerBatch;
use crate::cluster::ClusterState;
use crate::config::{Acks, ProducerConfig};
use crate::connection::{ConnectionEvent, ConnectionId};
use crate::delivery::{Acked, BatchGuard};
use crate::error::Error;
use crate::shared::Shared;

/// Something the driver must do.
#[derive(Debug)]
pub(crate) enum Action {
    /// Open connection `id` to `address`.
    Connect { id: ConnectionId, address: String },
    /// Write a request frame on connection `id`.
    Send {
        id: ConnectionId,
        correlation_id: i32,
        frame: BytesMut,
        expect_response: bool,
    },
    /// Close connection `id` (its in-flight requests are already failed over).
    Close { id: ConnectionId },
}

/// Negotiated versions of one connection.
#[derive(Debug, Clone, Copy)]
struct Versions {
    produce: Option<i16>,
    metadata: Option<i16>,
    init_producer_id: Option<i16>,
}

fn negotiate(
    api_versions: &[ApiVersion],
    key: i16,
    ours: kiel_protocol::VersionRange,
) -> Option<i16> {
    let theirs = api_versions.iter().find(|v| v.api_key == key)?;
    if key == ProduceRequest::API_KEY.code() {
        // Kafka 4.x advertises Produce from v0 although v0-v2 are gone: never pick below v3.
        api_versions::negotiate_produce(ours, theirs).ok()
    } else {
        api_versions::negotiate(ours, theirs)
    }
}

impl Versions {
    fn from(api_versions: &[ApiVersion]) -> Self {
        Self {
            produce: negotiate(
                api_versions,
                ProduceRequest::API_KEY.code(),
                ProduceRequest::VERSIONS,
            ),
            metadata: negotiate(
                api_versions,
                MetadataRequest::API_KEY.code(),
                MetadataRequest::VERSIONS,
            ),
            init_producer_id: negotiate(
                api_versions,
                InitProducerIdRequest::API_KEY.code(),
                InitProducerIdRequest::VERSIONS,
            ),
        }
    }
}

#[derive(Debug)]
enum ConnState {
    Connecting {
        id: ConnectionId,
    },
    Ready {
        id: ConnectionId,
        versions: Versions,
        in_flight: usize,
    },
    Backoff {
        until: Instant,
    },
}

/// Where a connection goes: a known broker, or a bootstrap address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Endpoint {
    Broker(i32),
    Bootstrap(usize),
}

enum InFlightKind {
    Produce {
        batches: Vec<ProducerBatch>,
        version: i16,
    },
    Metadata {
        version: i16,
    },
    InitProducerId {
        version: i16,
    },
}

struct InFlight {
    endpoint: Endpoint,
    kind: InFlightKind,
    deadline: Instant,
}

/// The producer's id and epoch (idempotence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProducerIdentity {
    pub id: i64,
    pub epoch: i16,
}

/// The sans-IO core of the producer.
pub(crate) struct Sender {
    shared: Arc<Shared>,
    config: Arc<ProducerConfig>,
    idempotent: bool,
    cluster: ClusterState,
    conns: HashMap<Endpoint, ConnState>,
    by_id: HashMap<ConnectionId, Endpoint>,
    in_flight: HashMap<(ConnectionId, i32), InFlight>,
    next_connection_id: ConnectionId,
    next_correlation_id: i32,
    next_bootstrap: usize,
    producer_id: Option<ProducerIdentity>,
    producer_id_in_flight: bool,
    producer_id_retry_at: Option<Instant>,
    fatal: Option<Error>,
    bootstrap_failures: HashMap<usize, String>,
}

fn backoff(config: &ProducerConfig, attempts: u32) -> Duration {
    let base = config.retry_backoff.as_secs_f64();
    let max = config.retry_backoff_max.as_secs_f64().max(base);
    let exp = base * 2f64.powi(attempts.saturating_sub(1).min(30) as i32);
    let jitter = 0.8 + rand::random::<f64>() * 0.4;
    Duration::from_secs_f64((exp.min(max) * jitter).max(0.0))
}

impl Sender {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        let config = Arc::clone(&shared.config);
        Self {
            idempotent: config.idempotence(),
            cluster: ClusterState::new(config.metadata_max_age, config.retry_backoff),
            shared,
            config,
            conns: HashMap::new(),
            by_id: HashMap::new(),
            in_flight: HashMap::new(),
            next_connection_id: 1,
            next_correlation_id: 1,
            next_bootstrap: 0,
            producer_id: None,
            producer_id_in_flight: false,
            producer_id_retry_at: None,
            fatal: None,
            bootstrap_failures: HashMap::new(),
        }
    }

    /// A fatal error that stops the producer (e.g. no bootstrap broker ever answered).
    pub(crate) fn fatal_error(&self) -> Option<&Error> {
        self.fatal.as_ref()
    }

    /// The error to report when every bootstrap broker failed before the cluster was known.
    pub(crate) fn bootstrap_error(&self) -> Option<Error> {
        if self.bootstrapped()
            || self.bootstrap_failures.len() < self.config.bootstrap_servers.len()
        {
            return None;
        }
        let last = self
            .bootstrap_failures
            .values()
            .last()
            .cloned()
            .unwrap_or_default();
        Some(Error::Bootstrap {
            brokers: self.config.bootstrap_servers.join(","),
            last_error: last,
        })
    }

    /// Whether the cluster's brokers are known (the first Metadata answer arrived).
    pub(crate) fn bootstrapped(&self) -> bool {
        self.cluster.broker_ids().next().is_some()
    }

    /// Whether everything has been sent and answered (used to finish a close).
    pub(crate) fn idle(&self) -> bool {
        !self
            .in_flight
            .values()
            .any(|f| matches!(f.kind, InFlightKind::Produce { .. }))
            && self.shared.lock_accumulator().is_empty()
    }

    fn correlation_id(&mut self) -> i32 {
        let id = self.next_correlation_id;
        // Wrap before the range Java reserves for SASL; never negative.
        self.next_correlation_id = if id >= i32::MAX - 8 { 1 } else { id + 1 };
        id
    }

    fn address(&self, endpoint: &Endpoint) -> Option<String> {
        match endpoint {
            Endpoint::Broker(id) => self.cluster.broker(*id).map(ToString::to_string),
            Endpoint::Bootstrap(i) => self.config.bootstrap_servers.get(*i).cloned(),
        }
    }

    fn connect(&mut self, endpoint: Endpoint, now: Instant, actions: &mut Vec<Action>) {
        match self.conns.get(&endpoint) {
            Some(ConnState::Connecting { .. } | ConnState::Ready { .. }) => return,
            Some(ConnState::Backoff { until }) if *until > now => return,
            _ => {}
        }
        let Some(address) = self.address(&endpoint) else {
            return;
        };
        let id = self.next_connection_id;
        self.next_connection_id += 1;
        self.conns
            .insert(endpoint.clone(), ConnState::Connecting { id });
        self.by_id.insert(id, endpoint);
        actions.push(Action::Connect { id, address });
    }

    /// A ready connection for a request that can go to any broker.
    fn any_ready(&self) -> Option<(Endpoint, ConnectionId, Versions)> {
        let mut best: Option<(Endpoint, ConnectionId, Versions, usize)> = None;
        for (endpoint, state) in &self.conns {
            if let ConnState::Ready {
                id,
                versions,
                in_flight,
            } = state
            {
                if best.as_ref().is_none_or(|b| *in_flight < b.3) {
                    best = Some((endpoint.clone(), *id, *versions, *in_flight));
                }
            }
        }
        best.map(|(e, id, v, _)| (e, id, v))
    }

    /// Makes sure some connection is being made when nothing is ready.
    fn ensure_some_connection(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if self
            .conns
            .values()
            .any(|s| matches!(s, ConnState::Ready { .. } | ConnState::Connecting { .. }))
        {
            return;
        }
        let mut known: Vec<i32> = self.cluster.broker_ids().collect();
        known.sort_unstable();
        let candidates: Vec<Endpoint> = if known.is_empty() {
            (0..self.config.bootstrap_servers.len())
                .map(Endpoint::Bootstrap)
                .collect()
        } else {
            known.into_iter().map(Endpoint::Broker).collect()
        };
        if candidates.is_empty() {
            return;
        }
        for _ in 0..candidates.len() {
            let endpoint = candidates[self.next_bootstrap % candidates.len()].clone();
            self.next_bootstrap = self.next_bootstrap.wrapping_add(1);
            let before = actions.len();
            self.connect(endpoint, now, actions);
            if actions.len() > before {
                return;
            }
        }
    }

    /// Applies one event from a connection.
    pub(crate) fn handle_event(&mut self, event: ConnectionEvent, now: Instant) {
        match event {
            ConnectionEvent::Ready { id, api_versions } => {
                if let Some(endpoint) = self.by_id.get(&id).cloned() {
                    let versions = Versions::from(&api_versions);
                    if versions.produce.is_none() {
                        let reason =
                            "the broker does not speak Produce v3+ (Kafka 0.11 or later is needed)";
                        tracing::error!(connection = id, reason);
                        if matches!(endpoint, Endpoint::Bootstrap(_)) || !self.bootstrapped() {
                            self.fatal = Some(Error::UnsupportedBroker {
                                broker: self.address(&endpoint).unwrap_or_default(),
                                reason: reason.into(),
                            });
                        }
                    }
                    self.conns.insert(
                        endpoint,
                        ConnState::Ready {
                            id,
                            versions,
                            in_flight: 0,
                        },
                    );
                }
            }
            ConnectionEvent::Closed { id, reason } => self.connection_lost(id, &reason, now),
            ConnectionEvent::Written { id, correlation_id } => {
                if let Some(flight) = self.in_flight.remove(&(id, correlation_id)) {
                    self.request_done(&flight.endpoint);
                    if let InFlightKind::Produce { batches, .. } = flight.kind {
                        for batch in batches {
                            self.complete_batch(
                                batch,
                                Ok(Acked {
                                    base_offset: -1,
                                    log_append_time: -1,
                                }),
                            );
                        }
                    }
                }
            }
            ConnectionEvent::Response {
                id,
                correlation_id,
                frame,
            } => {
                if let Some(flight) = self.in_flight.remove(&(id, correlation_id)) {
                    self.request_done(&flight.endpoint);
                    self.handle_response(id, correlation_id, flight, frame, now);
                }
            }
        }
    }

    fn request_done(&mut self, endpoint: &Endpoint) {
        if let Some(ConnState::Ready { in_flight, .. }) = self.conns.get_mut(endpoint) {
            *in_flight = in_flight.saturating_sub(1);
        }
    }

    fn connection_lost(&mut self, id: ConnectionId, reason: &str, now: Instant) {
        let Some(endpoint) = self.by_id.remove(&id) else {
            return;
        };
        let was_ready = matches!(self.conns.get(&endpoint), Some(ConnState::Ready { .. }));
        if matches!(self.conns.get(&endpoint), Some(ConnState::Connecting { id: c } | ConnState::Ready { id: c, .. }) if *c == id)
        {
            self.conns.insert(
                endpoint.clone(),
                ConnState::Backoff {
                    until: now + self.config.reconnect_backoff,
                },
            );
        }
        if let Endpoint::Bootstrap(i) = endpoint {
            let address = self
                .config
                .bootstrap_servers
                .get(i)
                .cloned()
                .unwrap_or_default();
            self.bootstrap_failures
                .insert(i, format!("{address}: {reason}"));
        }
        if !was_ready {
            tracing::debug!(connection = id, reason, "connect failed");
        } else {
            tracing::info!(connection = id, reason, "connection lost");
        }
        self.cluster.mark_stale();
        let keys: Vec<(ConnectionId, i32)> = self
            .in_flight
            .keys()
            .filter(|(c, _)| *c == id)
            .copied()
            .collect();
        let error = Error::Connection {
            broker: self.address(&endpoint).unwrap_or_default(),
            message: reason.to_owned(),
        };
        for key in keys {
            if let Some(flight) = self.in_flight.remove(&key) {
                self.request_failed(flight, &error, now);
            }
        }
    }

    fn request_failed(&mut self, flight: InFlight, error: &Error, now: Instant) {
        match flight.kind {
            InFlightKind::Produce { batches, .. } => {
                for batch in batches {
                    self.retry_or_fail(batch, ErrorCode::NetworkException, error.clone(), now);
                }
            }
            InFlightKind::Metadata { .. } => self.cluster.refresh_failed(),
            InFlightKind::InitProducerId { .. } => {
                self.producer_id_in_flight = false;
                self.producer_id_retry_at = Some(now + self.config.retry_backoff);
            }
        }
    }

    fn handle_response(
        &mut self,
        id: ConnectionId,
        correlation_id: i32,
        flight: InFlight,
        frame: Bytes,
        now: Instant,
    ) {
        match flight.kind {
            InFlightKind::Metadata { version } => {
                match decode_response::<MetadataRequest>(frame, version, correlation_id) {
                    Ok(response) => {
                        let update = self.cluster.apply_metadata(&response, now);
                        self.publish_topics(&update.changed_topics);
                        for (topic, code) in update.failed_topics {
                            self.fail_pending(
                                &topic,
                                Error::Broker {
                                    code,
                                    topic: topic.to_string(),
                                    partition: -1,
                                    message: None,
                                },
                            );
                        }
                    }
                    Err(e) => {
                        tracing::warn!(connection = id, error = %e, "bad Metadata response");
                        self.cluster.refresh_failed();
                    }
                }
            }
            InFlightKind::InitProducerId { version } => {
                self.producer_id_in_flight = false;
                match decode_response::<InitProducerIdRequest>(frame, version, correlation_id) {
                    Ok(r) if r.error_code == 0 => {
                        tracing::info!(
                            producer_id = r.producer_id,
                            epoch = r.producer_epoch,
                            "producer id"
                        );
                        self.producer_id = Some(ProducerIdentity {
                            id: r.producer_id,
                            epoch: r.producer_epoch,
                        });
                    }
                    Ok(r) => {
                        let code = ErrorCode::from_code(r.error_code);
                        tracing::warn!(%code, "InitProducerId failed");
                        if code.is_retriable() {
                            self.producer_id_retry_at = Some(now + self.config.retry_backoff);
                        } else {
                            self.fatal = Some(Error::ProducerId(code));
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "bad InitProducerId response");
                        self.producer_id_retry_at = Some(now + self.config.retry_backoff);
                    }
                }
            }
            InFlightKind::Produce { batches, version } => {
                match decode_response::<ProduceRequest>(frame, version, correlation_id) {
                    Ok(response) => self.handle_produce_response(batches, &response, now),
                    Err(e) => {
                        tracing::warn!(connection = id, error = %e, "bad Produce response");
                        let error = Error::Protocol {
                            broker: self.address(&flight.endpoint).unwrap_or_default(),
                            source: e,
                        };
                        for batch in batches {
                            self.retry_or_fail(
                                batch,
                                ErrorCode::NetworkException,
                                error.clone(),
                                now,
                            );
                        }
                    }
                }
            }
        }
    }

    fn handle_produce_response(
        &mut self,
        batches: Vec<ProducerBatch>,
        response: &ProduceResponse,
        now: Instant,
    ) {
        for batch in batches {
            let answer = response
                .topics
                .iter()
                .filter(|t| *t.name == *batch.topic)
                .flat_map(|t| t.partitions.iter())
                .find(|p| p.index == batch.partition);
            let Some(answer) = answer else {
                let error = Error::Broker {
                    code: ErrorCode::UnknownServerError,
                    topic: batch.topic.to_string(),
                    partition: batch.partition,
                    message: Some("the broker's answer did not mention this partition".into()),
                };
                self.retry_or_fail(batch, ErrorCode::UnknownServerError, error, now);
                continue;
            };
            let code = ErrorCode::from_code(answer.error_code);
            if code.is_ok() || code == ErrorCode::DuplicateSequenceNumber {
                let acked = if code.is_ok() {
                    Acked {
                        base_offset: answer.base_offset,
                        log_append_time: answer.log_append_time_ms,
                    }
                } else {
                    Acked {
                        base_offset: -1,
                        log_append_time: -1,
                    }
                };
                self.batch_acked(&batch);
                self.complete_batch(batch, Ok(acked));
                continue;
            }
            let message = answer.error_message.clone().or_else(|| {
                answer.record_errors.first().and_then(|r| {
                    r.batch_index_error_message
                        .as_ref()
                        .map(|m| format!("record {}: {m}", r.batch_index))
                })
            });
            let error = Error::Broker {
                code,
                topic: batch.topic.to_string(),
                partition: batch.partition,
                message,
            };
            if code == ErrorCode::MessageTooLarge && batch.record_count() > 1 {
                self.split(batch, now);
                continue;
            }
            if code == ErrorCode::OutOfOrderSequenceNumber && self.earlier_batch_failed(&batch) {
                // An earlier batch of this partition failed, so this one arrived with a gap.
                self.retry_or_fail(batch, ErrorCode::NotLeaderOrFollower, error, now);
                continue;
            }
            self.retry_or_fail(batch, code, error, now);
        }
    }

    /// Whether a batch with a lower sequence than `batch` is still unacknowledged.
    fn earlier_batch_failed(&self, batch: &ProducerBatch) -> bool {
        let Some(seq) = batch.sequence else {
            return false;
        };
        let acked = self
            .shared
            .lock_accumulator()
            .acked_sequence(&batch.topic, batch.partition);
        // Nothing acknowledged yet means the partition expects sequence 0.
        acked.unwrap_or(0) != seq
    }

    fn batch_acked(&mut self, batch: &ProducerBatch) {
        if let Some(seq) = batch.sequence {
            let next = increment_sequence(seq, batch.record_count() as i32);
            self.shared
                .lock_accumulator()
                .set_acked_sequence(&batch.topic, batch.partition, next);
        }
    }

    fn retry_or_fail(
        &mut self,
        mut batch: ProducerBatch,
        code: ErrorCode,
        error: Error,
        now: Instant,
    ) {
        self.shared
            .lock_accumulator()
            .in_flight_done(&batch.topic, batch.partition);
        let retriable = code.is_retriable()
            || matches!(error, Error::Connection { .. } | Error::Protocol { .. });
        if code.invalidates_metadata() || matches!(error, Error::Connection { .. }) {
            self.cluster.mark_stale();
        }
        let deadline = batch.created + self.config.delivery_timeout;
        if retriable
            && batch.attempts < self.config.retries
            && now < deadline
            && self.config.acks != Acks::None
        {
            batch.attempts += 1;
            batch.retry_at = Some((now + backoff(&self.config, batch.attempts)).min(deadline));
            tracing::debug!(topic = %batch.topic, partition = batch.partition, attempt = batch.attempts, %error, "retrying batch");
            batch.last_error = Some(error);
            self.shared.lock_accumulator().requeue(batch);
            return;
        }
        let error = if retriable && now >= deadline {
            Error::DeliveryTimeout {
                timeout_ms: self.config.delivery_timeout.as_millis() as u64,
                last_error: Some(Box::new(error)),
            }
        } else {
            error
        };
        tracing::warn!(topic = %batch.topic, partition = batch.partition, %error, "batch failed");
        self.complete_batch_after_flight(batch, Err(error));
    }

    /// Splits a batch the broker found too large into two halves (keeping the sequence
    /// numbers it covered), and queues them in its place.
    fn split(&mut self, batch: ProducerBatch, now: Instant) {
        self.shared
            .lock_accumulator()
            .in_flight_done(&batch.topic, batch.partition);
        let decoded = batch.data.clone().map(|mut d| RecordBatch::decode(&mut d));
        let Some(Ok(decoded)) = decoded else {
            let error = Error::Broker {
                code: ErrorCode::MessageTooLarge,
                topic: batch.topic.to_string(),
                partition: batch.partition,
                message: Some("could not split the batch".into()),
            };
            self.complete_batch_after_flight(batch, Err(error));
            return;
        };
        let records = &decoded.records;
        let half = records.len() / 2;
        tracing::info!(topic = %batch.topic, partition = batch.partition, records = records.len(), "splitting a batch the broker found too large");
        let mut halves = Vec::new();
        for (offset, part) in [(0usize, &records[..half]), (half, &records[half..])] {
            let mut builder = RecordBatchBuilder::with_capacity(batch.size());
            for r in part {
                let headers: Vec<RecordHeaderRef<'_>> = r
                    .headers
                    .iter()
                    .map(|h| RecordHeaderRef::new(&h.key, h.value.as_deref()))
                    .collect();
                // Cannot fail: these records fitted in one batch before.
                let _ = builder.append(
                    r.timestamp(&decoded),
                    r.key.as_deref(),
                    r.value.as_deref(),
                    &headers,
                );
            }
            let sequence = batch.sequence.map(|s| increment_sequence(s, offset as i32));
            halves.push(ProducerBatch {
                topic: Arc::clone(&batch.topic),
                partition: batch.partition,
                builder: Some(builder),
                data: None,
                guard: BatchGuard::new(
                    Arc::clone(&batch.guard.completion),
                    batch.partition,
                    batch.guard.first_index + offset as u32,
                    part.len() as u32,
                ),
                created: batch.created,
                attempts: batch.attempts,
                retry_at: Some(now),
                sequence,
                reserved: if offset == 0 { batch.reserved } else { 0 },
                last_error: None,
            });
        }
        batch.guard.disarm();
        let mut acc = self.shared.lock_accumulator();
        for half in halves.into_iter().rev() {
            acc.requeue_front(half);
        }
    }

    fn complete_batch_after_flight(&mut self, batch: ProducerBatch, result: Result<Acked, Error>) {
        self.complete_batch(batch, result);
    }

    /// Resolves a batch's records and returns its memory.
    pub(crate) fn complete_batch(&mut self, batch: ProducerBatch, result: Result<Acked, Error>) {
        if result.is_ok() || batch.data.is_some() {
            // Answered or given up after being sent: no longer in flight.
        }
        let count = batch.record_count() as usize;
        let reserved = batch.reserved;
        if result.is_ok() {
            self.shared
                .lock_accumulator()
                .in_flight_done(&batch.topic, batch.partition);
        }
        batch.guard.complete(result);
        self.shared.records_finished(count, reserved);
    }

    fn fail_pending(&mut self, topic: &str, error: Error) {
        let pending = self.shared.lock_accumulator().take_pending(topic);
        self.cluster.forget_missing(topic);
        for p in pending {
            p.completion.resolve_rest(1, -1, &error);
            self.shared.records_finished(1, p.reserved);
        }
    }

    /// Publishes new partition counts to `produce` and moves waiting records into batches.
    fn publish_topics(&mut self, changed: &[Arc<str>]) {
        for topic in changed {
            let Some(info) = self.cluster.topic(topic).cloned() else {
                continue;
            };
            self.shared.publish_topic(topic, info);
        }
    }

    /// Decides what to do now.
    pub(crate) fn poll(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        self.shared
            .take_pending_into_batches(&mut self.cluster, now);
        self.expire(now);
        self.timeouts(now, &mut actions);
        self.refresh_metadata(now, &mut actions);
        self.init_producer_id(now, &mut actions);
        self.send_batches(now, &mut actions);
        actions
    }

    fn expire(&mut self, now: Instant) {
        let (expired, pending) = {
            let mut acc = self.shared.lock_accumulator();
            (
                acc.expire(now, self.config.delivery_timeout),
                acc.expire_pending(now, self.config.max_block),
            )
        };
        for batch in expired {
            let error = Error::DeliveryTimeout {
                timeout_ms: self.config.delivery_timeout.as_millis() as u64,
                last_error: batch.last_error.clone().map(Box::new),
            };
            self.complete_batch(batch, Err(error));
        }
        for (topic, p) in pending {
            let missing = self.cluster.missing(&topic);
            let error = Error::TopicNotFound {
                topic: topic.to_string(),
                waited_ms: self.config.max_block.as_millis() as u64,
                reason: missing.map_or(ErrorCode::UnknownTopicOrPartition, |m| m.error),
            };
            p.completion.resolve_rest(1, -1, &error);
            if let Some(callback) = p.callback {
                callback(Err(error));
            }
            self.shared.records_finished(1, p.reserved);
            if self
                .shared
                .lock_accumulator()
                .pending_topics()
                .iter()
                .all(|t| **t != *topic)
            {
                self.cluster.forget_missing(&topic);
            }
        }
    }

    fn timeouts(&mut self, now: Instant, actions: &mut Vec<Action>) {
        let late: Vec<ConnectionId> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|((c, _), _)| *c)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for id in late {
            tracing::warn!(connection = id, "request timed out; closing the connection");
            actions.push(Action::Close { id });
            self.connection_lost(id, "request timed out", now);
        }
    }

    fn refresh_metadata(&mut self, now: Instant, actions: &mut Vec<Action>) {
        for topic in self.shared.lock_accumulator().pending_topics() {
            self.cluster.want_topic(&topic);
        }
        let Some((endpoint, id, versions)) = self.any_ready() else {
            self.ensure_some_connection(now, actions);
            return;
        };
        let Some(version) = versions.metadata else {
            return;
        };
        let Some(topics) = self.cluster.poll_refresh(now) else {
            return;
        };
        let request = MetadataRequest {
            topics: Some(
                topics
                    .iter()
                    .map(|t| MetadataRequestTopic {
                        topic_id: [0; 16],
                        name: Some(t.to_string()),
                    })
                    .collect(),
            ),
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        };
        self.send_request(
            endpoint,
            id,
            &request,
            version,
            InFlightKind::Metadata { version },
            now,
            actions,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn send_request<R: Request>(
        &mut self,
        endpoint: Endpoint,
        id: ConnectionId,
        request: &R,
        version: i16,
        kind: InFlightKind,
        now: Instant,
        actions: &mut Vec<Action>,
    ) -> bool {
        let correlation_id = self.correlation_id();
        let mut frame = BytesMut::new();
        if let Err(e) = encode_request(
            request,
            version,
            correlation_id,
            Some(&self.config.client_id),
            &mut frame,
        ) {
            tracing::error!(error = %e, "encoding a request failed");
            return false;
        }
        let expect_response =
            !matches!(&kind, InFlightKind::Produce { .. }) || self.config.acks != Acks::None;
        self.in_flight.insert(
            (id, correlation_id),
            InFlight {
                endpoint: endpoint.clone(),
                kind,
                deadline: now + self.config.request_timeout,
            },
        );
        if let Some(ConnState::Ready { in_flight, .. }) = self.conns.get_mut(&endpoint) {
            *in_flight += 1;
        }
        actions.push(Action::Send {
            id,
            correlation_id,
            frame,
            expect_response,
        });
        true
    }

    fn init_producer_id(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if !self.idempotent || self.producer_id.is_some() || self.producer_id_in_flight {
            return;
        }
        if self.producer_id_retry_at.is_some_and(|t| t > now) {
            return;
        }
        let Some((endpoint, id, versions)) = self.any_ready() else {
            return;
        };
        let Some(version) = versions.init_producer_id else {
            self.fatal = Some(Error::UnsupportedBroker {
                broker: self.address(&endpoint).unwrap_or_default(),
                reason: "no InitProducerId (idempotence needs Kafka 0.11+); set enable.idempotence=false".into(),
            });
            return;
        };
        self.producer_id_in_flight = true;
        let request = InitProducerIdRequest::idempotent();
        self.send_request(
            endpoint,
            id,
            &request,
            version,
            InFlightKind::InitProducerId { version },
            now,
            actions,
        );
    }

    fn send_batches(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if self.idempotent && self.producer_id.is_none() {
            return;
        }
        let flushing = self.shared.flushing();
        // Which brokers can take a request now, and how much.
        let mut room: HashMap<i32, usize> = HashMap::new();
        let mut ready_brokers: HashSet<i32> = HashSet::new();
        let mut wanted_connections: HashSet<i32> = HashSet::new();
        for (endpoint, state) in &self.conns {
            if let (
                Endpoint::Broker(b),
                ConnState::Ready {
                    in_flight,
                    versions,
                    ..
                },
            ) = (endpoint, state)
            {
                ready_brokers.insert(*b);
                if *in_flight < self.config.max_in_flight && versions.produce.is_some() {
                    room.insert(*b, self.config.max_request_size);
                }
            }
        }
        let per_partition = if self.idempotent {
            self.config.max_in_flight.min(5)
        } else {
            self.config.max_in_flight
        };
        let cluster = &self.cluster;
        let drained = {
            let mut acc = self.shared.lock_accumulator();
            let mut first: HashSet<i32> = HashSet::new();
            acc.drain(
                now,
                flushing,
                per_partition,
                self.idempotent,
                |topic, partition| {
                    let leader = cluster.leader_for(topic, partition);
                    if let Some(l) = leader {
                        if !ready_brokers.contains(&l) {
                            wanted_connections.insert(l);
                        }
                    }
                    leader
                },
                |broker, size| {
                    let Some(left) = room.get_mut(&broker) else {
                        return false;
                    };
                    let fits = size <= *left || first.insert(broker);
                    if fits {
                        *left = left.saturating_sub(size + 64);
                    }
                    fits
                },
            )
        };
        for broker in wanted_connections {
            self.connect(Endpoint::Broker(broker), now, actions);
        }
        if drained.is_empty() {
            return;
        }
        let mut by_broker: HashMap<i32, Vec<ProducerBatch>> = HashMap::new();
        for (broker, batch) in drained {
            by_broker.entry(broker).or_default().push(batch);
        }
        for (broker, batches) in by_broker {
            self.send_produce(broker, batches, now, actions);
        }
    }

    fn finish_batch(&mut self, batch: &mut ProducerBatch) -> Result<(), Error> {
        if batch.data.is_some() {
            return Ok(());
        }
        let Some(builder) = batch.builder.take() else {
            return Err(Error::Closed);
        };
        let (producer_id, producer_epoch, base_sequence) = match (self.idempotent, self.producer_id)
        {
            (true, Some(p)) => {
                let seq = match batch.sequence {
                    Some(s) => s,
                    None => {
                        let mut acc = self.shared.lock_accumulator();
                        let slot = acc.partition_mut(&batch.topic, batch.partition);
                        match slot {
                            Some(slot) => {
                                let s = slot.next_sequence;
                                slot.next_sequence =
                                    increment_sequence(s, batch.record_count() as i32);
                                s
                            }
                            None => 0,
                        }
                    }
                };
                batch.sequence = Some(seq);
                (p.id, p.epoch, seq)
            }
            _ => (-1, -1, -1),
        };
        let options = BatchOptions {
            compression: self.config.compression,
            compression_level: self.config.compression_level,
            producer_id,
            producer_epoch,
            base_sequence,
            ..BatchOptions::default()
        };
        batch.data = Some(builder.finish(&options)?);
        Ok(())
    }

    fn send_produce(
        &mut self,
        broker: i32,
        mut batches: Vec<ProducerBatch>,
        now: Instant,
        actions: &mut Vec<Action>,
    ) {
        let endpoint = Endpoint::Broker(broker);
        let Some(ConnState::Ready { id, versions, .. }) = self.conns.get(&endpoint) else {
            for b in batches {
                self.shared
                    .lock_accumulator()
                    .in_flight_done(&b.topic, b.partition);
                self.shared.lock_accumulator().requeue(b);
            }
            return;
        };
        let (id, mut version) = (*id, versions.produce.unwrap_or(3));
        if self.config.compression == Compression::Zstd && version < 7 {
            version = version.max(7);
        }
        let mut ok = Vec::with_capacity(batches.len());
        for mut batch in batches.drain(..) {
            match self.finish_batch(&mut batch) {
                Ok(()) => ok.push(batch),
                Err(e) => {
                    tracing::error!(error = %e, "finishing a batch failed");
                    self.shared
                        .lock_accumulator()
                        .in_flight_done(&batch.topic, batch.partition);
                    self.complete_batch(batch, Err(e));
                }
            }
        }
        if ok.is_empty() {
            return;
        }
        let mut topics: Vec<TopicProduceData> = Vec::new();
        for batch in &ok {
            let data = PartitionProduceData {
                index: batch.partition,
                records: batch.data.clone(),
            };
            match topics.iter_mut().find(|t| *t.name == *batch.topic) {
                Some(t) => t.partitions.push(data),
                None => topics.push(TopicProduceData {
                    name: batch.topic.to_string(),
                    partitions: vec![data],
                }),
            }
        }
        let request = ProduceRequest {
            transactional_id: None,
            acks: self.config.acks.wire_value(),
            timeout_ms: self
                .config
                .request_timeout
                .as_millis()
                .min(i32::MAX as u128) as i32,
            topics,
        };
        self.send_request(
            endpoint,
            id,
            &request,
            version,
            InFlightKind::Produce {
                batches: ok,
                version,
            },
            now,
            actions,
        );
    }

    /// The earliest time something is due (a linger, a retry, a timeout, a refresh).
    pub(crate) fn next_wakeup(&self) -> Option<Instant> {
        let acc_next = self
            .shared
            .lock_accumulator()
            .next_ready_at(self.shared.flushing());
        let flights = self.in_flight.values().map(|f| f.deadline).min();
        let refresh = self.cluster.next_refresh_at();
        let backoffs = self
            .conns
            .values()
            .filter_map(|s| match s {
                ConnState::Backoff { until } => Some(*until),
                _ => None,
            })
            .min();
        [
            acc_next,
            flights,
            refresh,
            backoffs,
            self.producer_id_retry_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}
