//! The simulated cluster's transaction coordinator: FindCoordinator, InitProducerId with a
//! transactional id, AddPartitionsToTxn, EndTxn, and the partition side of transactions
//! (which records a transaction wrote, hidden when it aborts). With seeded faults: the
//! coordinator moves (NOT_COORDINATOR), is loading (COORDINATOR_LOAD_IN_PROGRESS) or busy
//! (CONCURRENT_TRANSACTIONS); lost responses come from the cluster's generic faults, so a
//! retried EndTxn meets a transaction that already ended, as on Kafka. A request of an open
//! transaction may be answered TRANSACTION_ABORTABLE. A transaction open longer than the
//! producer's `transaction.timeout.ms` is aborted by the coordinator, which bumps the epoch
//! (fencing the producer, as Kafka's `abortTimedOutTransactions` does), and a successor's
//! InitProducerId ([`SimCluster::fence`]) does the same at a moment the test picks.
//!
//! Transaction version 1 (classic: a partition must be added before a transactional batch
//! is written to it) or 2 (`SimCluster::transaction_version`: Produce adds it, and EndTxn
//! bumps the epoch and answers with it).
//!
//! # References
//! - `TransactionCoordinator.scala` / `TransactionMetadata.scala` (apache/kafka): the
//!   state checks, fencing by epoch, a retried EndTxn answered NONE

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kiel_protocol::header::RequestHeader;
use kiel_protocol::messages::add_partitions_to_txn::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse,
    AddPartitionsToTxnTopicResult,
};
use kiel_protocol::messages::end_txn::{EndTxnRequest, EndTxnResponse};
use kiel_protocol::messages::find_coordinator::{
    Coordinator, FindCoordinatorRequest, FindCoordinatorResponse,
};
use kiel_protocol::messages::init_producer_id::{InitProducerIdRequest, InitProducerIdResponse};
use kiel_protocol::{Decode, ErrorCode, Request};
use rand::Rng;

use super::{encode_response, SimCluster};

/// A transactional id's state on the coordinator.
#[derive(Debug, Clone)]
pub(crate) struct SimTransaction {
    pub producer_id: i64,
    pub epoch: i16,
    /// Partitions in the open transaction.
    pub partitions: BTreeSet<(String, i32)>,
    /// How the last transaction ended and under which epoch, so a retried EndTxn is
    /// answered NONE.
    last_end: Option<(bool, i16)>,
    /// The producer's `transaction.timeout.ms`.
    timeout: Duration,
    /// When the open transaction got its first partition.
    started_at: Option<Instant>,
    /// The epoch the producer asked to bump from (InitProducerId with its id and epoch),
    /// so a retry of that request is answered with the epoch it got.
    bumped_from: Option<i16>,
}

impl SimTransaction {
    /// Adds a partition to the open transaction (its clock starts with the first).
    fn add(&mut self, partition: (String, i32), now: Instant) {
        if self.partitions.is_empty() {
            self.started_at = Some(now);
        }
        self.partitions.insert(partition);
    }
}

/// The decoded body of a request, after its header.
fn request<R: Request + Decode>(mut body: Bytes, version: i16) -> Option<R> {
    RequestHeader::decode(&mut body, R::request_header_version(version)).ok()?;
    R::decode(&mut body, version).ok()
}

impl SimCluster {
    /// A coordinator fault, if the dice say so: the coordinator moves to another broker,
    /// is loading, or (for requests that change a transaction) is still busy.
    fn coordinator_fault(&mut self, busy_allowed: bool) -> Option<ErrorCode> {
        if !self.chance(self.faults.coordinator_error) {
            return None;
        }
        self.coordinator_faults += 1;
        Some(match self.rng.random_range(0..3) {
            0 => {
                let brokers = self.brokers.clone();
                self.coordinator = brokers[self.rng.random_range(0..brokers.len())];
                ErrorCode::NotCoordinator
            }
            1 => ErrorCode::CoordinatorLoadInProgress,
            _ if busy_allowed => ErrorCode::ConcurrentTransactions,
            _ => ErrorCode::CoordinatorLoadInProgress,
        })
    }

    /// Answers the transaction coordinator's requests (API keys 10, 22 with a transactional
    /// id, 24 and 26); `None` for other requests.
    pub(super) fn handle_transactional(
        &mut self,
        broker: i32,
        api_key: i16,
        version: i16,
        body: Bytes,
        correlation_id: i32,
    ) -> Option<Option<Bytes>> {
        if matches!(api_key, 22 | 24 | 26) {
            self.expire_transactions();
        }
        Some(match api_key {
            10 => {
                let r: FindCoordinatorRequest = request(body, version)?;
                let keys = if r.coordinator_keys.is_empty() {
                    vec![r.key.clone()]
                } else {
                    r.coordinator_keys.clone()
                };
                let code = if self.chance(self.faults.coordinator_error) {
                    self.coordinator_faults += 1;
                    ErrorCode::CoordinatorNotAvailable
                } else {
                    ErrorCode::None
                };
                let node = self.coordinator;
                let coordinators: Vec<Coordinator> = keys
                    .into_iter()
                    .map(|key| Coordinator {
                        key,
                        node_id: node,
                        host: format!("broker-{node}"),
                        port: 9092,
                        error_code: code.code(),
                        error_message: None,
                    })
                    .collect();
                let response = if version >= 4 {
                    FindCoordinatorResponse {
                        coordinators,
                        ..FindCoordinatorResponse::default()
                    }
                } else {
                    let c = &coordinators[0];
                    FindCoordinatorResponse {
                        error_code: c.error_code,
                        node_id: c.node_id,
                        host: c.host.clone(),
                        port: c.port,
                        ..FindCoordinatorResponse::default()
                    }
                };
                Some(encode_response::<FindCoordinatorRequest>(
                    &response,
                    version,
                    correlation_id,
                ))
            }
            22 => {
                let r: InitProducerIdRequest = request(body.clone(), version)?;
                let id = r.transactional_id?;
                let current = (r.producer_id >= 0).then_some((r.producer_id, r.producer_epoch));
                let (code, producer_id, epoch) =
                    self.init_transactional(broker, &id, r.transaction_timeout_ms, current);
                let response = InitProducerIdResponse {
                    throttle_time_ms: 0,
                    error_code: code.code(),
                    producer_id,
                    producer_epoch: epoch,
                };
                Some(encode_response::<InitProducerIdRequest>(
                    &response,
                    version,
                    correlation_id,
                ))
            }
            24 => {
                let r: AddPartitionsToTxnRequest = request(body, version)?;
                let code = self.add_partitions(broker, &r);
                let response = AddPartitionsToTxnResponse {
                    results_by_topic: r
                        .topics
                        .iter()
                        .map(|t| AddPartitionsToTxnTopicResult {
                            name: t.name.clone(),
                            results_by_partition: t
                                .partitions
                                .iter()
                                .map(|p| AddPartitionsToTxnPartitionResult {
                                    partition_index: *p,
                                    partition_error_code: code.code(),
                                })
                                .collect(),
                        })
                        .collect(),
                    ..AddPartitionsToTxnResponse::default()
                };
                Some(encode_response::<AddPartitionsToTxnRequest>(
                    &response,
                    version,
                    correlation_id,
                ))
            }
            26 => {
                let r: EndTxnRequest = request(body, version)?;
                let (code, producer_id, epoch) = self.end_transaction(broker, &r, version);
                let response = EndTxnResponse {
                    throttle_time_ms: 0,
                    error_code: code.code(),
                    producer_id,
                    producer_epoch: epoch,
                };
                Some(encode_response::<EndTxnRequest>(
                    &response,
                    version,
                    correlation_id,
                ))
            }
            _ => return None,
        })
    }

    /// InitProducerId for `id`: fences the previous epoch and aborts its open transaction.
    /// With the producer's `current` id and epoch (v3+, KIP-360) only that producer may
    /// bump: another epoch is fenced, and a retry of a bump already made gets its answer.
    fn init_transactional(
        &mut self,
        broker: i32,
        id: &str,
        timeout_ms: i32,
        current: Option<(i64, i16)>,
    ) -> (ErrorCode, i64, i16) {
        if broker != self.coordinator {
            return (ErrorCode::NotCoordinator, -1, -1);
        }
        if let Some(code) = self.coordinator_fault(false) {
            return (code, -1, -1);
        }
        if let (Some((producer_id, epoch)), Some(txn)) = (current, self.transactions.get(id)) {
            if producer_id != txn.producer_id {
                return (ErrorCode::InvalidProducerIdMapping, -1, -1);
            }
            if txn.bumped_from == Some(epoch) && txn.epoch == epoch + 1 && txn.partitions.is_empty()
            {
                self.end_txn_retries += 1;
                return (ErrorCode::None, txn.producer_id, txn.epoch);
            }
            if epoch != txn.epoch {
                return (ErrorCode::ProducerFenced, -1, -1);
            }
            self.epoch_bumps += 1;
        }
        let (producer_id, epoch) = self.bump_epoch(id);
        if let Some(txn) = self.transactions.get_mut(id) {
            txn.bumped_from = current.map(|(_, epoch)| epoch);
        }
        if let Some(txn) = self.transactions.get_mut(id) {
            txn.timeout = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
        }
        (ErrorCode::None, producer_id, epoch)
    }

    /// A successor with the same transactional id called InitProducerId (at once, no
    /// faults): the epoch is bumped and the open transaction aborted, so the producer
    /// that held `id` is fenced.
    pub(crate) fn fence(&mut self, id: &str) {
        self.fenced += 1;
        self.bump_epoch(id);
    }

    /// Bumps `id`'s epoch (a new producer id the first time) and aborts its open
    /// transaction.
    fn bump_epoch(&mut self, id: &str) -> (i64, i16) {
        let next_id = self.next_producer_id + 1;
        let txn = self
            .transactions
            .entry(id.to_owned())
            .or_insert(SimTransaction {
                producer_id: next_id,
                epoch: -1,
                partitions: BTreeSet::new(),
                last_end: None,
                timeout: Duration::from_secs(60),
                started_at: None,
                bumped_from: None,
            });
        if txn.producer_id == next_id {
            self.next_producer_id = next_id;
        }
        txn.epoch += 1;
        let open: Vec<(String, i32)> = std::mem::take(&mut txn.partitions).into_iter().collect();
        let (producer_id, epoch) = (txn.producer_id, txn.epoch);
        txn.last_end = None;
        txn.started_at = None;
        txn.bumped_from = None;
        self.write_markers(producer_id, &open, false);
        (producer_id, epoch)
    }

    /// Aborts, with an epoch bump, every transaction open longer than its timeout.
    fn expire_transactions(&mut self) {
        let now = self.now;
        let expired: Vec<String> = self
            .transactions
            .iter()
            .filter(|(_, t)| t.started_at.is_some_and(|s| now >= s + t.timeout))
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired {
            self.transactions_timed_out += 1;
            self.bump_epoch(&id);
        }
    }

    /// TRANSACTION_ABORTABLE, if the dice say so.
    fn abortable_fault(&mut self) -> Option<ErrorCode> {
        if !self.chance(self.faults.transaction_abortable) {
            return None;
        }
        self.abortable_answers += 1;
        Some(ErrorCode::TransactionAbortable)
    }

    /// Checks a request's producer id and epoch against the coordinator's.
    fn check_epoch(&self, id: &str, producer_id: i64, epoch: i16) -> Result<(), ErrorCode> {
        match self.transactions.get(id) {
            None => Err(ErrorCode::InvalidProducerIdMapping),
            Some(t) if t.producer_id != producer_id => Err(ErrorCode::InvalidProducerIdMapping),
            Some(t) if epoch < t.epoch => Err(ErrorCode::ProducerFenced),
            Some(t) if epoch > t.epoch => Err(ErrorCode::InvalidProducerEpoch),
            Some(_) => Ok(()),
        }
    }

    fn add_partitions(&mut self, broker: i32, r: &AddPartitionsToTxnRequest) -> ErrorCode {
        if broker != self.coordinator {
            return ErrorCode::NotCoordinator;
        }
        if let Err(code) = self.check_epoch(&r.transactional_id, r.producer_id, r.producer_epoch) {
            return code;
        }
        if let Some(code) = self.coordinator_fault(true) {
            return code;
        }
        if let Some(code) = self.abortable_fault() {
            return code;
        }
        let now = self.now;
        let Some(txn) = self.transactions.get_mut(&r.transactional_id) else {
            return ErrorCode::InvalidProducerIdMapping;
        };
        for topic in &r.topics {
            for p in &topic.partitions {
                txn.add((topic.name.clone(), *p), now);
            }
        }
        ErrorCode::None
    }

    fn end_transaction(
        &mut self,
        broker: i32,
        r: &EndTxnRequest,
        version: i16,
    ) -> (ErrorCode, i64, i16) {
        let none = (-1, -1);
        let answer = |code: ErrorCode, ids: (i64, i16)| (code, ids.0, ids.1);
        if broker != self.coordinator {
            return answer(ErrorCode::NotCoordinator, none);
        }
        let Some(txn) = self.transactions.get(&r.transactional_id).cloned() else {
            return answer(ErrorCode::InvalidProducerIdMapping, none);
        };
        let bumped = self.transaction_version.is_some_and(|v| v >= 2) && version >= 5;
        // A retry of an EndTxn that was applied (its answer was lost): the same outcome
        // again is NONE (under version 2 the epoch it ended with is the one before the
        // bump).
        let retried_epoch = if bumped { txn.epoch - 1 } else { txn.epoch };
        if txn.partitions.is_empty()
            && txn.last_end == Some((r.committed, r.producer_epoch))
            && r.producer_epoch == retried_epoch
        {
            let ids = if bumped {
                (txn.producer_id, txn.epoch)
            } else {
                none
            };
            self.end_txn_retries += 1;
            return answer(ErrorCode::None, ids);
        }
        if let Err(code) = self.check_epoch(&r.transactional_id, r.producer_id, r.producer_epoch) {
            return answer(code, none);
        }
        if let Some(code) = self.coordinator_fault(true) {
            return answer(code, none);
        }
        if r.committed {
            if let Some(code) = self.abortable_fault() {
                return answer(code, none);
            }
        }
        if txn.partitions.is_empty() && !bumped {
            // Nothing was added: a classic coordinator has no transaction to end.
            return answer(ErrorCode::InvalidTxnState, none);
        }
        let partitions: Vec<(String, i32)> = txn.partitions.iter().cloned().collect();
        self.write_markers(txn.producer_id, &partitions, r.committed);
        let Some(t) = self.transactions.get_mut(&r.transactional_id) else {
            return answer(ErrorCode::InvalidProducerIdMapping, none);
        };
        t.partitions.clear();
        t.started_at = None;
        t.last_end = Some((r.committed, r.producer_epoch));
        if r.committed {
            self.transactions_ended.0 += 1;
        } else {
            self.transactions_ended.1 += 1;
        }
        let Some(t) = self.transactions.get_mut(&r.transactional_id) else {
            return answer(ErrorCode::InvalidProducerIdMapping, none);
        };
        if bumped {
            t.epoch += 1;
            return answer(ErrorCode::None, (t.producer_id, t.epoch));
        }
        answer(ErrorCode::None, none)
    }

    /// Ends `producer_id`'s open transaction on `partitions`: its records become visible
    /// (commit) or are hidden for good (abort).
    fn write_markers(&mut self, producer_id: i64, partitions: &[(String, i32)], commit: bool) {
        for (topic, index) in partitions {
            let Some(partition) = self
                .topics
                .get_mut(topic)
                .and_then(|t| t.get_mut(usize::try_from(*index).ok()?))
            else {
                continue;
            };
            let open = partition
                .open_transactions
                .remove(&producer_id)
                .unwrap_or_default();
            if !commit {
                partition.aborted.extend(open);
            }
            partition.markers += 1;
        }
    }

    /// Whether a transactional batch of `producer_id` and `epoch` may be written to
    /// `topic`-`index`: the partition is in its open transaction (version 1), or joins it
    /// now (version 2, Produce v12+); an older epoch than the coordinator's is fenced.
    pub(super) fn transactional_write_allowed(
        &mut self,
        producer_id: i64,
        epoch: i16,
        topic: &str,
        index: i32,
        produce_version: i16,
    ) -> Result<(), ErrorCode> {
        self.expire_transactions();
        let implicit = self.transaction_version.is_some_and(|v| v >= 2) && produce_version >= 12;
        let key = (topic.to_owned(), index);
        let now = self.now;
        let Some(txn) = self
            .transactions
            .values()
            .find(|t| t.producer_id == producer_id)
        else {
            return Err(ErrorCode::InvalidTxnState);
        };
        if epoch < txn.epoch {
            return Err(ErrorCode::InvalidProducerEpoch);
        }
        if !txn.partitions.contains(&key) {
            if !implicit {
                return Err(ErrorCode::InvalidTxnState);
            }
            // Joining the transaction: the coordinator may refuse (as verification does).
            if let Some(code) = self.abortable_fault() {
                return Err(code);
            }
        }
        if let Some(txn) = self
            .transactions
            .values_mut()
            .find(|t| t.producer_id == producer_id)
        {
            txn.add(key, now);
        }
        Ok(())
    }

    /// Forgets every connection and undelivered event: the producer that had them is gone
    /// (a successor starts with connections of its own).
    pub(crate) fn forget_connections(&mut self) {
        self.conns.clear();
        self.queue.clear();
    }
}
