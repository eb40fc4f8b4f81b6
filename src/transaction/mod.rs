//! The transaction manager: a transactional producer's decisions, as a state machine with
//! no IO and no clock (`now` is an argument), owned by the [`Sender`](crate::sender) beside
//! the producer session.
//!
//! It holds where the transaction stands ([`Phase`]), the coordinators it talks to, which
//! partitions the coordinator knows to be in the transaction, and the user's calls waiting
//! for the network. It answers:
//!
//! - **What to ask a coordinator next** ([`TransactionManager::poll`]): one request at a
//!   time, in order: FindCoordinator when the coordinator is unknown, InitProducerId,
//!   AddPartitionsToTxn for partitions with records waiting, AddOffsetsToTxn (not under
//!   transaction version 2) then TxnOffsetCommit (to the group's coordinator), and EndTxn
//!   once every record of the transaction has its outcome.
//! - **Whether a batch may go** ([`TransactionManager::may_send`]): only to a partition the
//!   coordinator has added to the transaction; asking registers the partition to be added.
//! - **What an answer means** ([`TransactionManager::answered`]): done, retry after a backoff,
//!   look the coordinator up again, the transaction must be aborted, or the producer is
//!   fenced / can go no further.
//!
//! The user's calls (`init_transactions`, `begin`, `send_offsets`, `commit`, `abort`) change
//! the phase here, under the lock the producer and the sender share; those that wait for a
//! coordinator leave a [`Waiter`] that is answered when the phase moves on.
//!
//! Classic transactions (KIP-98, transaction version 1): each partition is added with
//! AddPartitionsToTxn before its first batch of a transaction goes, and the epoch stays the
//! same across transactions. Transaction version 2 (KIP-890 part 2), where the cluster has
//! finalized it (Kafka 4.0+): a partition's first Produce (v12) adds it, and EndTxn (v5)
//! answers with the epoch, bumped, that the next transaction uses. Which one a transaction
//! uses is fixed when it begins, from the finalized features the brokers last announced.
//!
//! # References
//! - KIP-98 (transactions), KIP-447 (group metadata in TxnOffsetCommit), KIP-588 (fencing),
//!   KIP-890 (transaction.version 2)
//! - Java `TransactionManager.java` (states, the handlers' error rules), librdkafka
//!   `rdkafka_txnmgr.c`

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiel_protocol::messages::find_coordinator::key_type;
use kiel_protocol::ErrorCode;
use tokio::sync::oneshot;

use crate::error::Error;
use crate::session::ProducerIdentity;
use crate::time::later;

mod error;
mod offsets;
#[cfg(test)]
mod tests;

pub use error::TransactionError;
pub use offsets::{ConsumerGroupMetadata, PartitionOffset};

/// Answers a user's call once the coordinator has answered.
pub(crate) type Waiter = oneshot::Sender<Result<(), Error>>;

/// A topic partition.
pub(crate) type TopicPartition = (Arc<str>, i32);

/// What the manager needs of the configuration.
#[derive(Debug, Clone)]
pub(crate) struct TransactionConfig {
    pub transactional_id: Arc<str>,
    pub timeout: Duration,
    pub retry_backoff: Duration,
}

/// Where the transaction stands.
#[derive(Debug, Clone)]
pub(crate) enum Phase {
    /// `init_transactions()` has not been called.
    Uninitialized,
    /// Waiting for the producer id (InitProducerId, which also ends a predecessor's
    /// transaction and fences it).
    Initializing,
    /// No transaction open; `begin_transaction()` may be called.
    Ready,
    /// A transaction is open: records may be produced.
    InTransaction,
    /// `commit_transaction()`: the records are flushed, then EndTxn(commit).
    Committing,
    /// `abort_transaction()`: queued records are failed, the rest answered, then
    /// EndTxn(abort).
    Aborting,
    /// The transaction failed; only `abort_transaction()` moves on.
    Abortable(TransactionError),
    /// Nothing more can be done.
    Fatal(TransactionError),
}

impl Phase {
    fn name(&self) -> &'static str {
        match self {
            Self::Uninitialized => "not initialized (call init_transactions() first)",
            Self::Initializing => "initializing",
            Self::Ready => "not in a transaction",
            Self::InTransaction => "in a transaction",
            Self::Committing => "committing a transaction",
            Self::Aborting => "aborting a transaction",
            Self::Abortable(_) => "in a failed transaction that must be aborted",
            Self::Fatal(_) => "failed for good",
        }
    }
}

/// Offsets to commit with the transaction, for one consumer group.
#[derive(Debug, Clone)]
pub(crate) struct OffsetCommit {
    pub group: ConsumerGroupMetadata,
    pub offsets: Vec<PartitionOffset>,
}

/// A step that needs a coordinator, in the order the user's calls asked for them.
#[derive(Debug, Clone)]
enum Step {
    InitProducerId,
    /// After an aborted classic transaction left a sequence gap: InitProducerId with the
    /// current id and epoch for the next epoch (KIP-360).
    BumpEpoch,
    AddOffsets(Arc<OffsetCommit>),
    CommitOffsets(Arc<OffsetCommit>),
    EndTxn {
        commit: bool,
    },
}

/// A request for the sender to send.
#[derive(Debug, Clone)]
pub(crate) enum TxnRequest {
    /// Who coordinates `key` (a transactional id or a group id).
    FindCoordinator { key_type: i8, key: String },
    /// A producer id and epoch for the transactional id.
    InitProducerId,
    /// The next epoch for this producer id and epoch (InitProducerId v3+, KIP-360).
    BumpEpoch(ProducerIdentity),
    /// Add these partitions to the transaction.
    AddPartitions(Vec<TopicPartition>),
    /// Add the group's offsets topic to the transaction.
    AddOffsets(Arc<OffsetCommit>),
    /// Commit these offsets with the transaction (to the group's coordinator).
    CommitOffsets(Arc<OffsetCommit>),
    /// End the transaction.
    EndTxn { commit: bool },
}

impl TxnRequest {
    /// The request's name, for logs and errors.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::FindCoordinator { .. } => "FindCoordinator",
            Self::InitProducerId | Self::BumpEpoch(_) => "InitProducerId",
            Self::AddPartitions(_) => "AddPartitionsToTxn",
            Self::AddOffsets(_) => "AddOffsetsToTxn",
            Self::CommitOffsets(_) => "TxnOffsetCommit",
            Self::EndTxn { .. } => "EndTxn",
        }
    }
}

/// Where a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination {
    /// Any broker with a ready connection (FindCoordinator).
    AnyBroker,
    /// This broker (a coordinator).
    Broker(i32),
}

/// A request and where it goes.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub request: TxnRequest,
    pub destination: Destination,
}

/// A coordinator's answer, as the sender read it.
#[derive(Debug, Clone)]
pub(crate) enum TxnAnswer {
    /// FindCoordinator: the coordinator's node id, or the error.
    Coordinator(Result<i32, ErrorCode>),
    /// InitProducerId: the producer id and epoch, or the error.
    InitProducerId(Result<ProducerIdentity, ErrorCode>),
    /// AddPartitionsToTxn: each partition's error code (NONE when added).
    AddPartitions(Vec<(TopicPartition, ErrorCode)>),
    /// AddOffsetsToTxn's error code.
    AddOffsets(ErrorCode),
    /// TxnOffsetCommit: the worst partition error code (NONE when all were committed).
    CommitOffsets(ErrorCode),
    /// EndTxn's error code, and under transaction version 2 the producer id and epoch to
    /// go on with.
    EndTxn(ErrorCode, Option<ProducerIdentity>),
    /// No answer: the connection was lost, the request timed out or could not be read.
    Lost,
}

/// What the sender must do after an answer.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Effect {
    /// The producer now has this id and epoch (sequences start at 0).
    pub identity: Option<ProducerIdentity>,
    /// A transaction ended with this new id and epoch (transaction version 2): sequences
    /// start again at 0.
    pub new_epoch: Option<ProducerIdentity>,
}

/// How a coordinator's error code is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reaction {
    Done,
    Retry,
    FindCoordinator,
    Abortable,
    Fenced,
    Fatal,
}

fn react(code: ErrorCode) -> Reaction {
    use ErrorCode as E;
    match code {
        E::None => Reaction::Done,
        E::NotCoordinator | E::CoordinatorNotAvailable => Reaction::FindCoordinator,
        E::ProducerFenced | E::InvalidProducerEpoch => Reaction::Fenced,
        E::TransactionalIdAuthorizationFailed
        | E::ClusterAuthorizationFailed
        | E::InvalidTxnState
        | E::InvalidTransactionTimeout
        | E::UnsupportedVersion
        | E::UnsupportedForMessageFormat => Reaction::Fatal,
        code if code.is_retriable() || code == E::ConcurrentTransactions => Reaction::Retry,
        _ => Reaction::Abortable,
    }
}

/// Looking up a coordinator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coordinator {
    Unknown,
    Known(i32),
}

/// The transaction manager. See the [module documentation](self).
#[derive(Debug)]
pub(crate) struct TransactionManager {
    config: TransactionConfig,
    phase: Phase,
    identity: Option<ProducerIdentity>,
    coordinator: Coordinator,
    /// The coordinator of the group of the offsets being committed.
    group_coordinator: Option<(String, i32)>,
    steps: VecDeque<Step>,
    /// Partitions the coordinator has added to the open transaction.
    added: BTreeSet<TopicPartition>,
    /// Partitions with records to send that are not added yet.
    to_add: BTreeSet<TopicPartition>,
    /// Offsets were added to the open transaction.
    offsets_added: bool,
    /// A batch with sequence numbers failed in this epoch (the session says so): a classic
    /// transaction's end is followed by an epoch bump, as Java's `epochBumpRequired`.
    sequence_gap: bool,
    /// The cluster's finalized `transaction.version`, as the last broker said.
    cluster_transaction_version: Option<i16>,
    /// The open transaction runs transaction version 2 (fixed when it begins).
    v2: bool,
    /// The request in flight.
    in_flight: Option<TxnRequest>,
    /// No request before this (a backoff).
    retry_at: Option<Instant>,
    init_waiter: Option<Waiter>,
    offsets_waiter: Option<Waiter>,
    end_waiter: Option<Waiter>,
}

impl TransactionManager {
    pub(crate) fn new(config: TransactionConfig) -> Self {
        Self {
            config,
            phase: Phase::Uninitialized,
            identity: None,
            coordinator: Coordinator::Unknown,
            group_coordinator: None,
            steps: VecDeque::new(),
            added: BTreeSet::new(),
            to_add: BTreeSet::new(),
            offsets_added: false,
            sequence_gap: false,
            cluster_transaction_version: None,
            v2: false,
            in_flight: None,
            retry_at: None,
            init_waiter: None,
            offsets_waiter: None,
            end_waiter: None,
        }
    }

    /// The producer's `transactional.id`.
    pub(crate) fn transactional_id(&self) -> &Arc<str> {
        &self.config.transactional_id
    }

    /// `transaction.timeout.ms`.
    pub(crate) fn timeout(&self) -> Duration {
        self.config.timeout
    }

    /// A broker said which `transaction.version` the cluster has finalized. Transactions
    /// that begin from now on use version 2 when it is at least 2.
    pub(crate) fn set_cluster_transaction_version(&mut self, level: Option<i16>) {
        self.cluster_transaction_version = level;
    }

    /// Whether the open transaction runs transaction version 2 (KIP-890 part 2): Produce
    /// v12 adds partitions, EndTxn v5 bumps the epoch.
    pub(crate) fn v2(&self) -> bool {
        self.v2
    }

    /// The producer id and epoch, once initialized.
    pub(crate) fn identity(&self) -> Option<ProducerIdentity> {
        self.identity
    }

    /// Whether the producer was fenced (by a successor with the same transactional id, or
    /// by the coordinator after a transaction timed out).
    #[cfg(test)]
    pub(crate) fn is_fenced(&self) -> bool {
        matches!(self.phase, Phase::Fatal(TransactionError::Fenced { .. }))
    }

    /// Where the transaction stands.
    #[cfg(test)]
    pub(crate) fn phase(&self) -> &Phase {
        &self.phase
    }

    fn misuse(&self, operation: &'static str) -> Error {
        match &self.phase {
            Phase::Fatal(e) => Error::Transaction(e.clone()),
            phase => Error::Transaction(TransactionError::InvalidState {
                operation,
                state: phase.name(),
            }),
        }
    }

    // ---- the user's calls ----

    /// `init_transactions()`: get the producer id (fencing older producers with the same
    /// transactional id and ending their open transaction). `waiter` is answered when done.
    pub(crate) fn init(&mut self, waiter: Waiter) {
        match self.phase {
            Phase::Uninitialized => {
                self.phase = Phase::Initializing;
                self.steps.push_back(Step::InitProducerId);
                self.init_waiter = Some(waiter);
            }
            // A call again after a timeout waits for the same answer.
            Phase::Initializing => self.init_waiter = Some(waiter),
            _ => {
                let _ = waiter.send(Err(self.misuse("init_transactions()")));
            }
        }
    }

    /// `begin_transaction()`: opens a transaction (no request; partitions are added as their
    /// records go).
    pub(crate) fn begin(&mut self) -> Result<(), Error> {
        match &self.phase {
            Phase::Ready => {
                self.phase = Phase::InTransaction;
                self.v2 = self.cluster_transaction_version.is_some_and(|v| v >= 2);
                Ok(())
            }
            _ => Err(self.misuse("begin_transaction()")),
        }
    }

    /// `send_offsets_to_transaction()`: the group's offsets are committed when the
    /// transaction commits. `waiter` is answered once the group's coordinator has them.
    pub(crate) fn send_offsets(&mut self, commit: OffsetCommit, waiter: Waiter) {
        match &self.phase {
            Phase::InTransaction if self.offsets_waiter.is_none() => {
                let commit = Arc::new(commit);
                // Under transaction version 2, TxnOffsetCommit adds the offsets itself.
                self.steps.push_back(if self.v2 {
                    Step::CommitOffsets(commit)
                } else {
                    Step::AddOffsets(commit)
                });
                self.offsets_waiter = Some(waiter);
            }
            Phase::Abortable(e) => {
                let _ = waiter.send(Err(Error::Transaction(e.clone())));
            }
            _ => {
                let _ = waiter.send(Err(self.misuse("send_offsets_to_transaction()")));
            }
        }
    }

    /// `commit_transaction()`: flush, then EndTxn(commit). `waiter` is answered when the
    /// coordinator has completed it, or with the error that made the transaction fail.
    pub(crate) fn commit(&mut self, waiter: Waiter) {
        match &self.phase {
            Phase::InTransaction => {
                self.phase = Phase::Committing;
                self.steps.push_back(Step::EndTxn { commit: true });
                self.end_waiter = Some(waiter);
            }
            Phase::Committing => self.end_waiter = Some(waiter),
            Phase::Abortable(e) => {
                let _ = waiter.send(Err(Error::Transaction(e.clone())));
            }
            _ => {
                let _ = waiter.send(Err(self.misuse("commit_transaction()")));
            }
        }
    }

    /// `abort_transaction()`: queued records fail, the rest get their answers, then
    /// EndTxn(abort). `waiter` is answered when the coordinator has completed it.
    pub(crate) fn abort(&mut self, waiter: Waiter) {
        match &self.phase {
            Phase::InTransaction | Phase::Abortable(_) => {
                self.phase = Phase::Aborting;
                // Steps of the failed transaction (offsets not yet added) are dropped.
                self.steps.retain(|s| matches!(s, Step::InitProducerId));
                if let Some(w) = self.offsets_waiter.take() {
                    let _ = w.send(Err(Error::Transaction(TransactionError::Aborted)));
                }
                self.to_add.clear();
                self.steps.push_back(Step::EndTxn { commit: false });
                self.end_waiter = Some(waiter);
            }
            Phase::Aborting => self.end_waiter = Some(waiter),
            _ => {
                let _ = waiter.send(Err(self.misuse("abort_transaction()")));
            }
        }
    }

    /// The producer is closing: an open (or failed) transaction is aborted, as Java's
    /// producer does, so its partitions are not held until `transaction.timeout.ms`.
    pub(crate) fn closing(&mut self) {
        if matches!(self.phase, Phase::InTransaction | Phase::Abortable(_)) {
            tracing::info!("closing with a transaction open: aborting it");
            let (waiter, _) = oneshot::channel();
            self.abort(waiter);
        }
    }

    /// Whether a request is in flight or a step waits (a close waits for them).
    pub(crate) fn busy(&self) -> bool {
        !matches!(self.phase, Phase::Fatal(_))
            && (self.in_flight.is_some() || !self.steps.is_empty())
    }

    // ---- the sender's questions ----

    /// Whether `produce` may take records now: only inside a transaction.
    pub(crate) fn check_produce(&self) -> Result<(), Error> {
        match &self.phase {
            Phase::InTransaction => Ok(()),
            Phase::Abortable(e) | Phase::Fatal(e) => Err(Error::Transaction(e.clone())),
            _ => Err(Error::Transaction(TransactionError::NoTransaction {
                transactional_id: self.config.transactional_id.to_string(),
            })),
        }
    }

    /// Whether the accumulator should send everything now (a commit waits for it).
    pub(crate) fn flushing(&self) -> bool {
        matches!(self.phase, Phase::Committing)
    }

    /// Whether a batch of `partition` may go now. A partition not yet in the transaction is
    /// registered to be added, and its batches wait for that.
    pub(crate) fn may_send(&mut self, partition: &TopicPartition) -> bool {
        if self.added.contains(partition) {
            return true;
        }
        if self.v2 {
            // Its first Produce adds it (see `sent`).
            return matches!(self.phase, Phase::InTransaction | Phase::Committing);
        }
        if matches!(self.phase, Phase::InTransaction | Phase::Committing)
            && !self.to_add.contains(partition)
        {
            self.to_add.insert(partition.clone());
        }
        false
    }

    /// The session has a sequence gap (a batch with sequence numbers failed in this
    /// epoch): the partition refuses later batches until the epoch changes. A classic
    /// transaction gets the next epoch after it ends; version 2 gets it from EndTxn.
    pub(crate) fn sequence_gap_found(&mut self) {
        self.sequence_gap = true;
    }

    /// A batch of `partition` goes out in a Produce request: under transaction version 2
    /// that adds the partition to the transaction.
    pub(crate) fn sent(&mut self, partition: &TopicPartition) {
        if self.v2 && !self.added.contains(partition) {
            self.added.insert(partition.clone());
        }
    }

    /// Why batches that never left must fail now (the transaction is being aborted, or
    /// failed), or `None` when they may wait to be sent.
    pub(crate) fn refuse_unsent(&self) -> Option<Error> {
        match &self.phase {
            Phase::Aborting => Some(Error::Transaction(TransactionError::Aborted)),
            Phase::Abortable(e) | Phase::Fatal(e) => Some(Error::Transaction(e.clone())),
            _ => None,
        }
    }

    /// A batch of the transaction failed for good with `error`: the transaction must be
    /// aborted (or, if the producer was fenced, nothing more can be done).
    pub(crate) fn batch_failed(&mut self, error: &Error) {
        let fenced = matches!(
            error.error_code(),
            Some(ErrorCode::ProducerFenced | ErrorCode::InvalidProducerEpoch)
        );
        let fatal = matches!(
            error.error_code(),
            Some(ErrorCode::TransactionalIdAuthorizationFailed)
        );
        if fenced {
            self.fail_fatal(TransactionError::Fenced {
                transactional_id: self.config.transactional_id.to_string(),
                code: error.error_code().unwrap_or(ErrorCode::ProducerFenced),
            });
        } else if fatal {
            self.fail_fatal(TransactionError::Fatal {
                cause: Arc::new(error.clone()),
            });
        } else if matches!(self.phase, Phase::InTransaction | Phase::Committing) {
            self.fail_abortable(TransactionError::Abortable {
                cause: Arc::new(error.clone()),
            });
        }
    }

    // ---- requests ----

    /// The next request to send, if one may go now. `records_done` says whether every record
    /// produced so far has its outcome (nothing queued, open or in flight): EndTxn waits for
    /// it.
    pub(crate) fn poll(&mut self, now: Instant, records_done: bool) -> Option<Outgoing> {
        if self.in_flight.is_some() || self.retry_at.is_some_and(|t| t > now) {
            return None;
        }
        self.retry_at = None;
        let request = self.next_request(records_done)?;
        let destination = match (&request, self.coordinator) {
            (TxnRequest::FindCoordinator { .. }, _) => Destination::AnyBroker,
            (TxnRequest::CommitOffsets(_), _) => {
                Destination::Broker(self.group_coordinator.as_ref()?.1)
            }
            (_, Coordinator::Known(node)) => Destination::Broker(node),
            (_, Coordinator::Unknown) => return None,
        };
        self.in_flight = Some(request.clone());
        Some(Outgoing {
            request,
            destination,
        })
    }

    fn next_request(&mut self, records_done: bool) -> Option<TxnRequest> {
        if matches!(self.phase, Phase::Fatal(_)) {
            return None;
        }
        if self.coordinator == Coordinator::Unknown
            && (!self.steps.is_empty() || !self.to_add.is_empty())
        {
            return Some(TxnRequest::FindCoordinator {
                key_type: key_type::TRANSACTION,
                key: self.config.transactional_id.to_string(),
            });
        }
        if self.identity.is_some()
            && !self.to_add.is_empty()
            && matches!(self.phase, Phase::InTransaction | Phase::Committing)
        {
            return Some(TxnRequest::AddPartitions(
                self.to_add.iter().cloned().collect(),
            ));
        }
        match self.steps.front()?.clone() {
            Step::InitProducerId => Some(TxnRequest::InitProducerId),
            Step::BumpEpoch => Some(match self.identity {
                Some(current) => TxnRequest::BumpEpoch(current),
                None => TxnRequest::InitProducerId,
            }),
            Step::AddOffsets(commit) => Some(TxnRequest::AddOffsets(commit)),
            Step::CommitOffsets(commit) => match &self.group_coordinator {
                Some((group, _)) if *group == commit.group.group_id => {
                    Some(TxnRequest::CommitOffsets(commit))
                }
                _ => Some(TxnRequest::FindCoordinator {
                    key_type: key_type::GROUP,
                    key: commit.group.group_id.clone(),
                }),
            },
            Step::EndTxn { commit } => {
                if !records_done || !self.to_add.is_empty() {
                    return None;
                }
                if !commit && self.added.is_empty() && !self.offsets_added {
                    // Nothing reached the coordinator: there is nothing to end there.
                    self.steps.pop_front();
                    self.end_or_bump();
                    return self.next_request(records_done);
                }
                Some(TxnRequest::EndTxn { commit })
            }
        }
    }

    /// The request could not be sent (no connection to its destination yet); it is asked
    /// for again at the next poll.
    pub(crate) fn not_sent(&mut self) {
        self.in_flight = None;
    }

    /// A connection to `broker` could not be made. If it is a coordinator kiel waits to
    /// reach, the coordinator is looked up again after a backoff instead of waiting for
    /// that broker's return: a killed coordinator's successor is found as soon as the
    /// cluster names it (Java does the same when the coordinator is not ready).
    pub(crate) fn broker_unreachable(&mut self, broker: i32, now: Instant) {
        if self.in_flight.is_some() {
            return;
        }
        let mut forgot = false;
        if self.coordinator == Coordinator::Known(broker) {
            self.coordinator = Coordinator::Unknown;
            forgot = true;
        }
        if self
            .group_coordinator
            .as_ref()
            .is_some_and(|(_, node)| *node == broker)
        {
            self.group_coordinator = None;
            forgot = true;
        }
        if forgot {
            tracing::debug!(broker, "coordinator unreachable; looking it up again");
            self.back_off(now);
        }
    }

    /// When the manager next has something to do by itself (a retry after its backoff).
    pub(crate) fn next_wakeup(&self) -> Option<Instant> {
        self.retry_at
    }

    /// Applies the answer to the request in flight.
    pub(crate) fn answered(&mut self, answer: TxnAnswer, now: Instant) -> Effect {
        let Some(request) = self.in_flight.take() else {
            return Effect::default();
        };
        let mut effect = Effect::default();
        match (request, answer) {
            (_, TxnAnswer::Lost) => {
                // The coordinator may have moved; ask again after a backoff.
                self.coordinator = Coordinator::Unknown;
                self.group_coordinator = None;
                self.back_off(now);
            }
            (TxnRequest::FindCoordinator { key_type, key }, TxnAnswer::Coordinator(result)) => {
                match result {
                    Ok(node) if key_type == key_type::GROUP => {
                        self.group_coordinator = Some((key, node));
                    }
                    Ok(node) => self.coordinator = Coordinator::Known(node),
                    Err(code) => self.on_error("FindCoordinator", code, now),
                }
            }
            (TxnRequest::BumpEpoch(_), TxnAnswer::InitProducerId(result)) => match result {
                Ok(next) => {
                    tracing::info!(
                        producer_id = next.id,
                        epoch = next.epoch,
                        "new epoch after a sequence gap"
                    );
                    self.identity = Some(next);
                    effect.new_epoch = Some(next);
                    self.sequence_gap = false;
                    self.steps.pop_front();
                    self.transaction_ended();
                }
                Err(code) => self.on_error("InitProducerId", code, now),
            },
            (TxnRequest::InitProducerId, TxnAnswer::InitProducerId(result)) => match result {
                Ok(identity) => {
                    self.identity = Some(identity);
                    effect.identity = Some(identity);
                    self.steps.pop_front();
                    self.phase = Phase::Ready;
                    if let Some(w) = self.init_waiter.take() {
                        let _ = w.send(Ok(()));
                    }
                }
                Err(code) => self.on_error("InitProducerId", code, now),
            },
            (TxnRequest::AddPartitions(_), TxnAnswer::AddPartitions(results)) => {
                let worst = results
                    .iter()
                    .map(|(_, code)| *code)
                    .filter(|c| *c != ErrorCode::OperationNotAttempted)
                    .find(|c| *c != ErrorCode::None);
                match worst {
                    None => {
                        for (partition, code) in results {
                            if code == ErrorCode::None {
                                self.to_add.remove(&partition);
                                self.added.insert(partition);
                            }
                        }
                    }
                    Some(code) => self.on_error("AddPartitionsToTxn", code, now),
                }
            }
            (TxnRequest::AddOffsets(commit), TxnAnswer::AddOffsets(code)) => {
                if code == ErrorCode::None {
                    self.offsets_added = true;
                    if let Some(front) = self.steps.front_mut() {
                        *front = Step::CommitOffsets(commit);
                    }
                } else {
                    self.on_error("AddOffsetsToTxn", code, now);
                }
            }
            (TxnRequest::CommitOffsets(_), TxnAnswer::CommitOffsets(code)) => {
                if code == ErrorCode::None {
                    self.offsets_added = true;
                    self.steps.pop_front();
                    if let Some(w) = self.offsets_waiter.take() {
                        let _ = w.send(Ok(()));
                    }
                } else {
                    if matches!(react(code), Reaction::FindCoordinator) {
                        self.group_coordinator = None;
                    }
                    self.on_error("TxnOffsetCommit", code, now);
                }
            }
            (TxnRequest::EndTxn { .. }, TxnAnswer::EndTxn(code, next)) => {
                if code == ErrorCode::None {
                    if let Some(next) = next.filter(|n| self.v2 && n.id >= 0 && n.epoch >= 0) {
                        // Transaction version 2: every transaction ends with a new epoch.
                        self.identity = Some(next);
                        effect.new_epoch = Some(next);
                        self.sequence_gap = false;
                    }
                    self.steps.pop_front();
                    self.end_or_bump();
                } else {
                    self.on_error("EndTxn", code, now);
                }
            }
            (request, answer) => {
                tracing::error!(
                    request = request.name(),
                    ?answer,
                    "answer to another request"
                );
                self.back_off(now);
            }
        }
        effect
    }

    /// The transaction ended at the coordinator (or an abort needed no EndTxn): ready for
    /// the next, unless a sequence gap needs a new epoch first (the user's call is answered
    /// once it is there).
    fn end_or_bump(&mut self) {
        if self.sequence_gap && !self.v2 && self.identity.is_some() {
            tracing::debug!("a batch failed with sequence numbers: bumping the epoch");
            self.steps.push_front(Step::BumpEpoch);
        } else {
            self.transaction_ended();
        }
    }

    /// EndTxn completed (or an abort needed none): ready for the next transaction.
    fn transaction_ended(&mut self) {
        self.v2 = false;
        self.added.clear();
        self.to_add.clear();
        self.offsets_added = false;
        self.phase = Phase::Ready;
        if let Some(w) = self.end_waiter.take() {
            let _ = w.send(Ok(()));
        }
    }

    fn back_off(&mut self, now: Instant) {
        self.retry_at = Some(later(now, self.config.retry_backoff));
    }

    fn on_error(&mut self, request: &'static str, code: ErrorCode, now: Instant) {
        let transactional_id = self.config.transactional_id.to_string();
        let cause = || {
            Arc::new(Error::Coordinator {
                request,
                code,
                transactional_id: transactional_id.clone(),
            })
        };
        match react(code) {
            Reaction::Done => {}
            Reaction::Retry => {
                tracing::debug!(request, %code, "coordinator asks to retry");
                self.back_off(now);
            }
            Reaction::FindCoordinator => {
                tracing::debug!(request, %code, "coordinator moved");
                self.coordinator = Coordinator::Unknown;
                self.back_off(now);
            }
            Reaction::Fenced => self.fail_fatal(TransactionError::Fenced {
                transactional_id: self.config.transactional_id.to_string(),
                code,
            }),
            Reaction::Fatal => self.fail_fatal(TransactionError::Fatal { cause: cause() }),
            Reaction::Abortable if request == "InitProducerId" || request == "EndTxn" => {
                if matches!(self.phase, Phase::Committing) && request == "EndTxn" {
                    // The coordinator refused the commit (e.g. TRANSACTION_ABORTABLE): abort.
                    self.steps.pop_front();
                    self.fail_abortable(TransactionError::Abortable { cause: cause() });
                } else {
                    self.fail_fatal(TransactionError::Fatal { cause: cause() });
                }
            }
            Reaction::Abortable => {
                self.fail_abortable(TransactionError::Abortable { cause: cause() })
            }
        }
    }

    fn fail_abortable(&mut self, error: TransactionError) {
        if matches!(self.phase, Phase::Aborting) {
            // Being aborted already (e.g. an AddPartitionsToTxn sent before the abort was
            // refused): the abort goes on.
            tracing::debug!(error = %error, "transaction failed while being aborted");
            return;
        }
        tracing::warn!(error = %error, "transaction failed; it must be aborted");
        self.steps.retain(|s| matches!(s, Step::InitProducerId));
        self.to_add.clear();
        for waiter in [self.offsets_waiter.take(), self.end_waiter.take()]
            .into_iter()
            .flatten()
        {
            let _ = waiter.send(Err(Error::Transaction(error.clone())));
        }
        self.phase = Phase::Abortable(error);
    }

    fn fail_fatal(&mut self, error: TransactionError) {
        tracing::error!(error = %error, "transactional producer failed for good");
        self.steps.clear();
        self.to_add.clear();
        for waiter in [
            self.init_waiter.take(),
            self.offsets_waiter.take(),
            self.end_waiter.take(),
        ]
        .into_iter()
        .flatten()
        {
            let _ = waiter.send(Err(Error::Transaction(error.clone())));
        }
        self.phase = Phase::Fatal(error);
    }
}
