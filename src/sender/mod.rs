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

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiel_protocol::messages::api_versions::{self, ApiVersion};
use kiel_protocol::messages::init_producer_id::InitProducerIdRequest;
use kiel_protocol::messages::metadata::MetadataRequest;
use kiel_protocol::messages::produce::ProduceRequest;
use kiel_protocol::{ErrorCode, Request};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::accumulator::ProducerBatch;
use crate::cluster::ClusterState;
use crate::config::ProducerConfig;
use crate::connection::{ConnectionEvent, ConnectionId, FrameChunks};
use crate::delivery::Acked;
use crate::error::Error;
use crate::shared::Shared;

mod idempotence;
mod produce;
mod requests;

use idempotence::Bump;

/// Something the driver must do.
#[derive(Debug)]
pub(crate) enum Action {
    /// Open connection `id` to `address`.
    Connect { id: ConnectionId, address: String },
    /// Write a request frame on connection `id`.
    Send {
        id: ConnectionId,
        correlation_id: i32,
        frame: FrameChunks,
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
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
    conns: BTreeMap<Endpoint, ConnState>,
    by_id: BTreeMap<ConnectionId, Endpoint>,
    in_flight: BTreeMap<(ConnectionId, i32), InFlight>,
    next_connection_id: ConnectionId,
    next_correlation_id: i32,
    next_bootstrap: usize,
    producer_id: Option<ProducerIdentity>,
    producer_id_in_flight: bool,
    producer_id_retry_at: Option<Instant>,
    fatal: Option<Error>,
    bootstrap_failures: BTreeMap<usize, String>,
    bump: Option<Bump>,
    resequence_on_new_id: bool,
    /// Randomness for backoff jitter; seeded in simulations so runs replay exactly.
    rng: StdRng,
}

fn backoff(config: &ProducerConfig, attempts: u32, rng: &mut StdRng) -> Duration {
    let base = config.retry_backoff.as_secs_f64();
    let max = config.retry_backoff_max.as_secs_f64().max(base);
    let exp = base * 2f64.powi(attempts.saturating_sub(1).min(30) as i32);
    let jitter = 0.8 + rng.random::<f64>() * 0.4;
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
            conns: BTreeMap::new(),
            by_id: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            next_connection_id: 1,
            next_correlation_id: 1,
            next_bootstrap: 0,
            producer_id: None,
            producer_id_in_flight: false,
            producer_id_retry_at: None,
            fatal: None,
            bootstrap_failures: BTreeMap::new(),
            bump: None,
            resequence_on_new_id: false,
            rng: StdRng::from_os_rng(),
        }
    }

    /// A fatal error that stops the producer (e.g. no bootstrap broker ever answered).
    pub(crate) fn fatal_error(&self) -> Option<&Error> {
        self.fatal.as_ref()
    }

    /// Seeds the backoff jitter (deterministic simulations).
    #[cfg(any(test, feature = "bench-internals"))]
    pub(crate) fn with_seed(mut self, seed: u64) -> Self {
        self.rng = StdRng::seed_from_u64(seed);
        self
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

    /// Whether any Produce request is in flight.
    fn produce_in_flight(&self) -> bool {
        self.in_flight
            .values()
            .any(|f| matches!(f.kind, InFlightKind::Produce { .. }))
    }

    /// Whether everything has been sent and answered (used to finish a close).
    pub(crate) fn idle(&self) -> bool {
        !self.produce_in_flight() && self.shared.lock_accumulator().is_empty()
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
                            self.landed(&batch);
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
                    self.landed(&batch);
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

    /// Decides what to do now.
    pub(crate) fn poll(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        self.shared
            .take_pending_into_batches(&mut self.cluster, now);
        self.expire(now);
        self.timeouts(now, &mut actions);
        self.refresh_metadata(now, &mut actions);
        self.maybe_bump();
        self.init_producer_id(now, &mut actions);
        self.send_batches(now, &mut actions);
        actions
    }

    fn timeouts(&mut self, now: Instant, actions: &mut Vec<Action>) {
        let late: Vec<ConnectionId> = self
            .in_flight
            .iter()
            .filter(|(_, f)| f.deadline <= now)
            .map(|((c, _), _)| *c)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        for id in late {
            tracing::warn!(connection = id, "request timed out; closing the connection");
            actions.push(Action::Close { id });
            self.connection_lost(id, "request timed out", now);
        }
    }

    /// The earliest time something is due (a linger, a retry, a timeout, a refresh).
    pub(crate) fn next_wakeup(&self, now: Instant) -> Option<Instant> {
        let acc_next = self
            .shared
            .lock_accumulator()
            .next_ready_at(self.shared.flushing());
        let flights = self.in_flight.values().map(|f| f.deadline).min();
        let refresh = self.cluster.next_refresh_at(now);
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
