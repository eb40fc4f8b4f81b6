//! The [`Sender`]'s part in transactions: it carries the
//! [`TransactionManager`](crate::transaction::TransactionManager)'s requests to the right
//! broker, reads their answers back into [`TxnAnswer`]s, and fails the records an aborted
//! transaction must not send. What to ask and what an answer means is the manager's.
//!
//! A classic transaction (transaction version 1) sends AddPartitionsToTxn up to v3, EndTxn
//! up to v4 and Produce up to v11, so that a Kafka 4 broker does not take it for a
//! transaction-version-2 client (TxnOffsetCommit up to v4 too); a version-2 transaction
//! (where the cluster finalized it) sends Produce v12, which adds the partitions,
//! TxnOffsetCommit v5 without AddOffsetsToTxn, and EndTxn v5, which bumps the epoch. These
//! are the versions Java's 3.9 and 4.0 clients send (`protocol/tests/golden/`).
//!
//! # References
//! - Java `Sender.java` (`maybeSendAndPollTransactionalRequest`), `TransactionManager.java`;
//!   KIP-98, KIP-447, KIP-890

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use kiel_protocol::frame::decode_response;
use kiel_protocol::messages::add_offsets_to_txn::AddOffsetsToTxnRequest;
use kiel_protocol::messages::add_partitions_to_txn::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnTopic, NEWEST_CLIENT_VERSION,
};
use kiel_protocol::messages::end_txn::EndTxnRequest;
use kiel_protocol::messages::find_coordinator::FindCoordinatorRequest;
use kiel_protocol::messages::init_producer_id::InitProducerIdRequest;
use kiel_protocol::messages::txn_offset_commit::{
    TxnOffsetCommitPartition, TxnOffsetCommitRequest, TxnOffsetCommitTopic,
};
use kiel_protocol::ErrorCode;

use super::{Action, ConnState, Endpoint, InFlightKind, Sender, Versions};
use crate::connection::ConnectionId;
use crate::session::ProducerIdentity;
use crate::transaction::{Destination, OffsetCommit, TxnAnswer, TxnRequest};

/// The newest EndTxn a classic-transaction client sends (v5 is transaction version 2).
pub(super) const CLASSIC_END_TXN: i16 = 4;

/// The newest TxnOffsetCommit a classic-transaction client sends (v5 adds the offsets to the
/// transaction itself, transaction version 2).
const CLASSIC_TXN_OFFSET_COMMIT: i16 = 4;

/// The newest Produce a classic-transaction client sends (v12 is transaction version 2).
pub(super) const CLASSIC_PRODUCE: i16 = 11;

impl Sender {
    /// Fails what an aborted (or failed) transaction must not send (before the batches are
    /// drained), and on close aborts an open transaction.
    pub(super) fn transaction_refusals(&mut self) {
        let refused = match self.shared.lock_transaction() {
            Some(mut manager) => {
                if self.shared.is_closing() {
                    manager.closing();
                }
                manager.refuse_unsent()
            }
            None => return,
        };
        if let Some(error) = refused {
            let (batches, waiting) = self.shared.lock_accumulator().take_never_sent();
            for batch in batches {
                self.session.gave_up(&batch);
                self.resolve(batch, Err(error.clone()));
            }
            self.shared.fail_waiting(waiting, &error);
        }
    }

    /// Sends the transaction manager's next request, if one may go. Called after the
    /// batches were drained, so partitions they found not yet in the transaction are added
    /// in the same round.
    pub(super) fn transaction_requests(&mut self, now: Instant, actions: &mut Vec<Action>) {
        let shared = Arc::clone(&self.shared);
        if shared.transaction.is_none() {
            return;
        }
        let Some(mut manager) = shared.lock_transaction() else {
            return;
        };
        // Counted under the manager's lock, which `produce` holds until its record is
        // counted: a commit asked for after this point finds every record it must wait
        // for. (Counted before the lock, a whole transaction could be produced and
        // committed in between, and its EndTxn go before its records.)
        let records_done = self.shared.outstanding() == 0;
        if self.session.sequence_gap() {
            manager.sequence_gap_found();
        }
        let Some(outgoing) = manager.poll(now, records_done) else {
            return;
        };
        let target = match outgoing.destination {
            Destination::AnyBroker => self.any_ready(),
            Destination::Broker(node) => match self.conns.get(&Endpoint::Broker(node)) {
                Some(ConnState::Ready { id, versions, .. }) => {
                    Some((Endpoint::Broker(node), *id, *versions))
                }
                _ => None,
            },
        };
        let Some((endpoint, id, versions)) = target else {
            manager.not_sent();
            drop(manager);
            match outgoing.destination {
                Destination::AnyBroker => self.ensure_some_connection(now, actions),
                Destination::Broker(node) => self.connect(Endpoint::Broker(node), now, actions),
            }
            return;
        };
        let identity = manager
            .identity()
            .unwrap_or(ProducerIdentity { id: -1, epoch: -1 });
        let transactional_id = manager.transactional_id().to_string();
        let timeout_ms = manager.timeout().as_millis().min(i32::MAX as u128) as i32;
        let request = outgoing.request;
        let Some(version) = transaction_version(&versions, &request, manager.v2()) else {
            let code = ErrorCode::UnsupportedVersion;
            tracing::error!(request = request.name(), "the broker does not support it");
            let effect = manager.answered(refusal(&request, code), now);
            debug_assert!(effect.identity.is_none());
            return;
        };
        drop(manager);
        let kind = InFlightKind::Transaction {
            version,
            request: request.clone(),
        };
        let sent = match &request {
            TxnRequest::FindCoordinator { key_type, key } => {
                let r = FindCoordinatorRequest::for_keys(*key_type, &[key.as_str()], version);
                self.send_request(endpoint, id, &r, version, kind, now, actions)
            }
            TxnRequest::InitProducerId => {
                let r = InitProducerIdRequest {
                    transactional_id: Some(transactional_id),
                    transaction_timeout_ms: timeout_ms,
                    producer_id: -1,
                    producer_epoch: -1,
                };
                self.send_request(endpoint, id, &r, version, kind, now, actions)
            }
            TxnRequest::BumpEpoch(current) => {
                // Before v3 the request has no id and epoch: a plain InitProducerId, which
                // bumps the epoch too.
                let r = InitProducerIdRequest {
                    transactional_id: Some(transactional_id),
                    transaction_timeout_ms: timeout_ms,
                    producer_id: current.id,
                    producer_epoch: current.epoch,
                };
                self.send_request(endpoint, id, &r, version, kind, now, actions)
            }
            TxnRequest::AddPartitions(partitions) => {
                let mut topics: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
                for (topic, partition) in partitions {
                    topics.entry(topic).or_default().push(*partition);
                }
                let r = AddPartitionsToTxnRequest {
                    transactional_id,
                    producer_id: identity.id,
                    producer_epoch: identity.epoch,
                    topics: topics
                        .into_iter()
                        .map(|(name, partitions)| AddPartitionsToTxnTopic {
                            name: name.to_owned(),
                            partitions,
                        })
                        .collect(),
                    transactions: Vec::new(),
                };
                self.send_request(endpoint, id, &r, version, kind, now, actions)
            }
            TxnRequest::AddOffsets(commit) => {
                let r = AddOffsetsToTxnRequest {
                    transactional_id,
                    producer_id: identity.id,
                    producer_epoch: identity.epoch,
                    group_id: commit.group.group_id.clone(),
                };
                self.send_request(endpoint, id, &r, version, kind, now, actions)
            }
            TxnRequest::CommitOffsets(commit) => {
                let r = txn_offset_commit(commit, transactional_id, identity, version);
                self.send_request(endpoint, id, &r, version, kind, now, actions)
            }
            TxnRequest::EndTxn { commit } => {
                let r = EndTxnRequest {
                    transactional_id,
                    producer_id: identity.id,
                    producer_epoch: identity.epoch,
                    committed: *commit,
                };
                self.send_request(endpoint, id, &r, version, kind, now, actions)
            }
        };
        if let Err((_, error)) = sent {
            tracing::error!(request = request.name(), %error, "encoding failed");
            if let Some(mut manager) = shared.lock_transaction() {
                manager.answered(refusal(&request, ErrorCode::InvalidRequest), now);
            }
        }
    }

    /// Reads a coordinator's answer and hands it to the transaction manager.
    pub(super) fn handle_transaction_response(
        &mut self,
        id: ConnectionId,
        correlation_id: i32,
        version: i16,
        request: TxnRequest,
        frame: Bytes,
        now: Instant,
    ) {
        let answer = read_answer(&request, version, correlation_id, frame).unwrap_or_else(|e| {
            tracing::warn!(connection = id, request = request.name(), error = %e, "bad answer");
            TxnAnswer::Lost
        });
        self.transaction_answered(answer, now);
    }

    /// Hands an answer (or [`TxnAnswer::Lost`]) to the transaction manager and carries out
    /// its effect.
    pub(super) fn transaction_answered(&mut self, answer: TxnAnswer, now: Instant) {
        let shared = Arc::clone(&self.shared);
        let Some(mut manager) = shared.lock_transaction() else {
            return;
        };
        let effect = manager.answered(answer, now);
        drop(manager);
        if let Some(identity) = effect.identity {
            tracing::info!(
                producer_id = identity.id,
                epoch = identity.epoch,
                "transactional producer id"
            );
            self.session.identity_received(identity);
        }
        if let Some(next) = effect.new_epoch {
            tracing::debug!(
                producer_id = next.id,
                epoch = next.epoch,
                "transaction ended with a new epoch"
            );
            self.session.new_epoch(next);
            self.shared.lock_metrics().epoch_bumps += 1;
        }
    }
}

/// The version to send `request` in, if the broker has one kiel can send.
fn transaction_version(versions: &Versions, request: &TxnRequest, v2: bool) -> Option<i16> {
    match request {
        TxnRequest::FindCoordinator { .. } => versions.find_coordinator,
        TxnRequest::InitProducerId | TxnRequest::BumpEpoch(_) => versions.init_producer_id,
        TxnRequest::AddPartitions(_) => versions
            .add_partitions_to_txn
            .map(|v| v.min(NEWEST_CLIENT_VERSION)),
        TxnRequest::AddOffsets(_) => versions.add_offsets_to_txn,
        TxnRequest::CommitOffsets(_) if v2 => versions.txn_offset_commit,
        TxnRequest::CommitOffsets(_) => versions
            .txn_offset_commit
            .map(|v| v.min(CLASSIC_TXN_OFFSET_COMMIT)),
        TxnRequest::EndTxn { .. } if v2 => versions.end_txn,
        TxnRequest::EndTxn { .. } => versions.end_txn.map(|v| v.min(CLASSIC_END_TXN)),
    }
}

/// The answer `request` would get if a coordinator refused it with `code`.
fn refusal(request: &TxnRequest, code: ErrorCode) -> TxnAnswer {
    match request {
        TxnRequest::FindCoordinator { .. } => TxnAnswer::Coordinator(Err(code)),
        TxnRequest::InitProducerId | TxnRequest::BumpEpoch(_) => {
            TxnAnswer::InitProducerId(Err(code))
        }
        TxnRequest::AddPartitions(partitions) => {
            TxnAnswer::AddPartitions(partitions.iter().map(|p| (p.clone(), code)).collect())
        }
        TxnRequest::AddOffsets(_) => TxnAnswer::AddOffsets(code),
        TxnRequest::CommitOffsets(_) => TxnAnswer::CommitOffsets(code),
        TxnRequest::EndTxn { .. } => TxnAnswer::EndTxn(code, None),
    }
}

fn txn_offset_commit(
    commit: &OffsetCommit,
    transactional_id: String,
    identity: ProducerIdentity,
    version: i16,
) -> TxnOffsetCommitRequest {
    let mut topics: BTreeMap<&str, Vec<TxnOffsetCommitPartition>> = BTreeMap::new();
    for offset in &commit.offsets {
        topics
            .entry(&offset.topic)
            .or_default()
            .push(TxnOffsetCommitPartition {
                partition_index: offset.partition,
                committed_offset: offset.offset,
                committed_leader_epoch: if version >= 2 {
                    offset.leader_epoch.unwrap_or(-1)
                } else {
                    -1
                },
                committed_metadata: offset.metadata.clone(),
            });
    }
    // Before v3 the request has no member fields: a group known by id alone.
    let group = if version >= 3 {
        commit.group.clone()
    } else {
        crate::transaction::ConsumerGroupMetadata::new(commit.group.group_id.clone())
    };
    TxnOffsetCommitRequest {
        transactional_id,
        group_id: group.group_id,
        producer_id: identity.id,
        producer_epoch: identity.epoch,
        generation_id: group.generation_id,
        member_id: group.member_id,
        group_instance_id: group.group_instance_id,
        topics: topics
            .into_iter()
            .map(|(name, partitions)| TxnOffsetCommitTopic {
                name: name.to_owned(),
                partitions,
            })
            .collect(),
    }
}

fn code(raw: i16) -> ErrorCode {
    ErrorCode::from_code(raw)
}

/// Decodes a coordinator's answer to `request`.
fn read_answer(
    request: &TxnRequest,
    version: i16,
    correlation_id: i32,
    frame: Bytes,
) -> Result<TxnAnswer, kiel_protocol::DecodeError> {
    Ok(match request {
        TxnRequest::FindCoordinator { key, .. } => {
            let r = decode_response::<FindCoordinatorRequest>(frame, version, correlation_id)?;
            let found = r
                .coordinators(version, key)
                .into_iter()
                .find(|c| c.key == *key);
            TxnAnswer::Coordinator(match found {
                Some(c) if c.error_code == 0 => Ok(c.node_id),
                Some(c) => Err(code(c.error_code)),
                None => Err(ErrorCode::CoordinatorNotAvailable),
            })
        }
        TxnRequest::InitProducerId | TxnRequest::BumpEpoch(_) => {
            let r = decode_response::<InitProducerIdRequest>(frame, version, correlation_id)?;
            TxnAnswer::InitProducerId(if r.error_code == 0 {
                Ok(ProducerIdentity {
                    id: r.producer_id,
                    epoch: r.producer_epoch,
                })
            } else {
                Err(code(r.error_code))
            })
        }
        TxnRequest::AddPartitions(asked) => {
            let r = decode_response::<AddPartitionsToTxnRequest>(frame, version, correlation_id)?;
            let mut results = Vec::new();
            for topic in &r.results_by_topic {
                let name: Arc<str> = Arc::from(topic.name.as_str());
                for p in &topic.results_by_partition {
                    results.push((
                        (Arc::clone(&name), p.partition_index),
                        code(p.partition_error_code),
                    ));
                }
            }
            // A partition the answer does not mention was not added.
            for partition in asked {
                if !results.iter().any(|(p, _)| p == partition) {
                    results.push((partition.clone(), ErrorCode::UnknownServerError));
                }
            }
            TxnAnswer::AddPartitions(results)
        }
        TxnRequest::AddOffsets(_) => {
            let r = decode_response::<AddOffsetsToTxnRequest>(frame, version, correlation_id)?;
            TxnAnswer::AddOffsets(code(r.error_code))
        }
        TxnRequest::CommitOffsets(_) => {
            let r = decode_response::<TxnOffsetCommitRequest>(frame, version, correlation_id)?;
            let worst = r
                .topics
                .iter()
                .flat_map(|t| &t.partitions)
                .map(|p| code(p.error_code))
                .find(|c| *c != ErrorCode::None)
                .unwrap_or(ErrorCode::None);
            TxnAnswer::CommitOffsets(worst)
        }
        TxnRequest::EndTxn { .. } => {
            let r = decode_response::<EndTxnRequest>(frame, version, correlation_id)?;
            let next = (version > CLASSIC_END_TXN).then_some(ProducerIdentity {
                id: r.producer_id,
                epoch: r.producer_epoch,
            });
            TxnAnswer::EndTxn(code(r.error_code), next)
        }
    })
}
