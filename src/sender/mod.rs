//! The sender, i.e. *sent*: the producer's decisions, as a state machine with no IO.
//!
//! [`Sender`] owns the cluster state ([`ClusterState`]: who leads what), the producer
//! session ([`ProducerSession`]: what is in flight, sequence numbers, what an answer
//! means), the broker connections' states and the requests in flight. The driver feeds it
//! events ([`Sender::handle_event`]) and asks it what to do ([`Sender::poll`], which returns
//! [`Action`]s: connect, send a frame, close a connection). Time is always an argument, so
//! tests can drive it with virtual time. It takes the accumulator's lock only to drain,
//! requeue and expire batches, and to move or fail records waiting for metadata.
//!
//! One Produce request per broker carries every ready partition led by that broker, up to
//! `max.request.size`; up to `max.in.flight.requests.per.connection` are pipelined. What a
//! partition's answer means is the session's one decision (acknowledge, retry in order,
//! split, fail); the sender carries it out.
//!
//! # References
//! - Java `Sender.java` (per-node drain, `completeBatch`, `canRetry`), KIP-580 (backoff),
//!   KIP-98 (sequence numbers), `../shared/design/protocol.md` §4, §7, §8

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use kiel_protocol::messages::add_offsets_to_txn::AddOffsetsToTxnRequest;
use kiel_protocol::messages::add_partitions_to_txn::AddPartitionsToTxnRequest;
use kiel_protocol::messages::api_versions::{self, ApiVersion};
use kiel_protocol::messages::end_txn::EndTxnRequest;
use kiel_protocol::messages::find_coordinator::FindCoordinatorRequest;
use kiel_protocol::messages::init_producer_id::InitProducerIdRequest;
use kiel_protocol::messages::metadata::MetadataRequest;
use kiel_protocol::messages::produce::ProduceRequest;
use kiel_protocol::messages::txn_offset_commit::TxnOffsetCommitRequest;
use kiel_protocol::Request;

use crate::batch::ProducerBatch;
use crate::cluster::ClusterState;
use crate::config::ProducerConfig;
use crate::connection::{ConnectionError, ConnectionId, FrameChunks};
use crate::error::Error;
use crate::session::{ProducerSession, SessionConfig};
use crate::shared::Shared;

mod connections;
mod produce;
mod requests;
mod spans;
mod transaction;

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
    find_coordinator: Option<i16>,
    add_partitions_to_txn: Option<i16>,
    add_offsets_to_txn: Option<i16>,
    txn_offset_commit: Option<i16>,
    end_txn: Option<i16>,
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
            find_coordinator: negotiate(
                api_versions,
                FindCoordinatorRequest::API_KEY.code(),
                FindCoordinatorRequest::VERSIONS,
            ),
            add_partitions_to_txn: negotiate(
                api_versions,
                AddPartitionsToTxnRequest::API_KEY.code(),
                AddPartitionsToTxnRequest::VERSIONS,
            ),
            add_offsets_to_txn: negotiate(
                api_versions,
                AddOffsetsToTxnRequest::API_KEY.code(),
                AddOffsetsToTxnRequest::VERSIONS,
            ),
            txn_offset_commit: negotiate(
                api_versions,
                TxnOffsetCommitRequest::API_KEY.code(),
                TxnOffsetCommitRequest::VERSIONS,
            ),
            end_txn: negotiate(
                api_versions,
                EndTxnRequest::API_KEY.code(),
                EndTxnRequest::VERSIONS,
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
        /// Its `tracing` spans, when a subscriber wants them.
        spans: spans::ProduceSpans,
    },
    Metadata {
        version: i16,
    },
    InitProducerId {
        version: i16,
    },
    /// A transaction manager's request.
    Transaction {
        version: i16,
        request: crate::transaction::TxnRequest,
    },
}

struct InFlight {
    endpoint: Endpoint,
    kind: InFlightKind,
    deadline: Instant,
    /// When it was sent (request latency).
    sent_at: Instant,
}

/// The sans-IO core of the producer.
pub(crate) struct Sender {
    shared: Arc<Shared>,
    config: Arc<ProducerConfig>,
    cluster: ClusterState,
    session: ProducerSession,
    conns: BTreeMap<Endpoint, ConnState>,
    by_id: BTreeMap<ConnectionId, Endpoint>,
    in_flight: BTreeMap<(ConnectionId, i32), InFlight>,
    next_connection_id: ConnectionId,
    next_correlation_id: i32,
    next_bootstrap: usize,
    fatal: Option<Error>,
    /// Why each bootstrap address failed, the latest last: its address and the cause.
    bootstrap_failures: BTreeMap<usize, (String, ConnectionError)>,
    /// The bootstrap address that failed last.
    last_bootstrap_failure: Option<usize>,
    /// Topics with records waiting for their metadata.
    waiting_topics: BTreeSet<Arc<str>>,
    /// Why each broker's last connection ended or failed to open.
    connection_errors: BTreeMap<i32, String>,
    /// Brokers whose last connection failed in a way no retry fixes (not a Kafka broker,
    /// and later: authentication, TLS): records bound for them fail at once.
    unreachable_brokers: BTreeMap<i32, ConnectionError>,
    /// Failed attempts in a row to connect to each endpoint: the reconnect backoff doubles
    /// with each (`reconnect.backoff.ms` up to `reconnect.backoff.max.ms`).
    failed_connects: BTreeMap<Endpoint, u32>,
    /// What the last drain saw of the unsent side.
    unsent: UnsentSummary,
}

/// What [`Sender::poll`] last learnt of the accumulator, for [`Sender::next_wakeup`] and
/// [`Sender::idle`] without taking its lock again. A record produced since can only open a
/// new batch (which wakes the driver) or join a batch already counted.
#[derive(Debug, Clone, Copy, Default)]
struct UnsentSummary {
    /// When a linger or a retry backoff ends next.
    next_ready_at: Option<Instant>,
    /// When a queued record's `delivery.timeout.ms` ends next.
    next_expiry_at: Option<Instant>,
    /// When a record waiting for metadata gives up next (`max.block.ms`).
    next_waiting_expiry_at: Option<Instant>,
    /// Nothing is queued, open or waiting.
    empty: bool,
}

impl Sender {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        let config = Arc::clone(&shared.config);
        Self {
            cluster: ClusterState::new(config.metadata_max_age, config.retry_backoff),
            session: ProducerSession::new(SessionConfig::from(&config)),
            shared,
            config,
            conns: BTreeMap::new(),
            by_id: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            next_connection_id: 1,
            next_correlation_id: 1,
            next_bootstrap: 0,
            fatal: None,
            bootstrap_failures: BTreeMap::new(),
            last_bootstrap_failure: None,
            waiting_topics: BTreeSet::new(),
            connection_errors: BTreeMap::new(),
            unreachable_brokers: BTreeMap::new(),
            failed_connects: BTreeMap::new(),
            unsent: UnsentSummary::default(),
        }
    }

    /// A fatal error that stops the producer (e.g. no bootstrap broker ever answered).
    pub(crate) fn fatal_error(&self) -> Option<&Error> {
        self.fatal.as_ref()
    }

    /// Seeds the backoff jitter (deterministic simulations).
    #[cfg(any(test, feature = "bench-internals"))]
    pub(crate) fn with_seed(mut self, seed: u64) -> Self {
        self.session.seed(seed);
        self
    }

    /// The error to report when every bootstrap broker failed before the cluster was known.
    pub(crate) fn bootstrap_error(&self) -> Option<Error> {
        if self.bootstrapped()
            || self.bootstrap_failures.len() < self.config.bootstrap_servers.len()
        {
            return None;
        }
        let (address, cause) = self
            .last_bootstrap_failure
            .and_then(|i| self.bootstrap_failures.get(&i))?;
        if self
            .bootstrap_failures
            .values()
            .all(|(_, cause)| cause.is_fatal())
        {
            // No retry can fix it (authentication, TLS, not Kafka): say exactly that.
            return Some(Error::Connection {
                broker: address.clone(),
                cause: cause.clone(),
            });
        }
        Some(Error::Bootstrap {
            brokers: self.config.bootstrap_servers.join(","),
            last_error: format!("{address}: {cause}"),
        })
    }

    /// Whether the cluster's brokers are known (the first Metadata answer arrived).
    pub(crate) fn bootstrapped(&self) -> bool {
        self.cluster.broker_ids().next().is_some()
    }

    /// Whether everything has been sent and answered (used to finish a close), as of the
    /// last [`Self::poll`].
    pub(crate) fn idle(&self) -> bool {
        self.session.nothing_in_flight()
            && self.unsent.empty
            && !self.shared.lock_transaction().is_some_and(|t| t.busy())
    }

    /// Fails everything still held with [`Error::Closed`]: requests in flight, queued and
    /// open batches, records waiting for metadata; and marks the producer closed. For when
    /// the producer's task is dropped before it could drain (its runtime shut down).
    fn abandon(&mut self) {
        self.shared.begin_close();
        let in_flight = std::mem::take(&mut self.in_flight);
        for flight in in_flight.into_values() {
            if let InFlightKind::Produce { batches, .. } = flight.kind {
                for batch in batches {
                    self.resolve(batch, Err(Error::Closed));
                }
            }
        }
        let (batches, waiting) = self.shared.lock_accumulator().take_all();
        for batch in batches {
            self.resolve(batch, Err(Error::Closed));
        }
        self.shared.fail_waiting(waiting, &Error::Closed);
        self.shared.finished();
    }

    /// Decides what to do now.
    pub(crate) fn poll(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        self.expire(now);
        self.timeouts(now, &mut actions);
        self.refresh_metadata(now, &mut actions);
        if let Some(bump) = self.session.poll_bump() {
            tracing::debug!(?bump, "sequences restart");
            self.shared.lock_metrics().epoch_bumps += 1;
        }
        self.init_producer_id(now, &mut actions);
        self.transaction_refusals();
        self.send_batches(now, &mut actions);
        self.transaction_requests(now, &mut actions);
        actions
    }

    /// The earliest time something is due (a linger, a retry, an expiry, a timeout, a
    /// refresh, a reconnect).
    pub(crate) fn next_wakeup(&self, now: Instant) -> Option<Instant> {
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
            self.unsent.next_ready_at,
            self.unsent.next_expiry_at,
            self.unsent.next_waiting_expiry_at,
            flights,
            refresh,
            backoffs,
            self.session.next_wakeup(),
            self.shared.lock_transaction().and_then(|t| t.next_wakeup()),
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

impl Drop for Sender {
    /// A sender dropped with work left (its task was dropped with the runtime) fails that
    /// work with [`Error::Closed`], so every record still gets exactly one outcome; after a
    /// drained close there is nothing left and this does nothing.
    fn drop(&mut self) {
        self.abandon();
    }
}
