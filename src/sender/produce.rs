//! The produce path of the [`Sender`]: draining what the session lets go into one request
//! per broker, finishing batches (sequence numbers, compression, CRC), carrying out the
//! session's verdict on each partition's answer (complete, retry in order, split, fail),
//! and expiring what waited too long.
//!
//! # References
//! - Java `Sender.java` (`sendProduceRequests`, `completeBatch`), KIP-98 (sequence numbers),
//!   KIP-951 (leader hints), `../shared/design/protocol.md` §4, §7, §8

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use kiel_protocol::messages::produce::{
    PartitionProduceData, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    TopicProduceData,
};
use kiel_protocol::record::{patch_producer_state, BatchOptions};
use kiel_protocol::{Compression, ErrorCode};

use super::spans::ProduceSpans;
use super::{Action, ConnState, Endpoint, InFlightKind, Sender};
use crate::batch::{ProducerBatch, Split};
use crate::cluster::LeaderHint;
use crate::delivery::Acked;
use crate::error::Error;
use crate::session::{Answer, Stamp, Verdict};

impl Sender {
    /// Drains what may go now into Produce requests: one per broker per round, and more
    /// rounds while a broker's request filled up (`max.request.size`) and its connection
    /// can take another (`max.in.flight.requests.per.connection`). Nothing else would wake
    /// the sender for those before an answer comes.
    pub(super) fn send_batches(&mut self, now: Instant, actions: &mut Vec<Action>) {
        // Each round fills a request slot of every broker that has one, so a few rounds
        // fill them all; the bound is only a guard.
        for _ in 0..64 {
            if !self.send_batches_once(now, actions) {
                break;
            }
        }
    }

    /// One round of [`Self::send_batches`]; whether a request went out.
    fn send_batches_once(&mut self, now: Instant, actions: &mut Vec<Action>) -> bool {
        let flushing = self.shared.flushing();
        let sending = self.session.ready_to_send();
        // Which brokers can take a request now, and how much.
        let mut room: BTreeMap<i32, usize> = BTreeMap::new();
        let mut ready_brokers: BTreeSet<i32> = BTreeSet::new();
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
        let mut wanted_connections: BTreeSet<i32> = BTreeSet::new();
        let mut first_of_request: BTreeSet<i32> = BTreeSet::new();
        let cluster = &self.cluster;
        let session = &self.session;
        // The transaction manager's lock first, then the accumulator's (as produce takes them).
        let mut transaction = self.shared.lock_transaction();
        let flushing = flushing || transaction.as_ref().is_some_and(|t| t.flushing());
        let drained =
            self.shared
                .lock_accumulator()
                .drain(now, flushing, |topic, partition, view| {
                    if !sending {
                        return None;
                    }
                    if let Some(manager) = transaction.as_mut() {
                        // A partition's batches go once it is in the transaction.
                        if !manager.may_send(&(Arc::clone(topic), partition)) {
                            return None;
                        }
                    }
                    let leader = cluster.leader_for(topic, partition)?;
                    if !ready_brokers.contains(&leader) {
                        wanted_connections.insert(leader);
                    }
                    let index = session.pick(topic, partition, view, leader, now)?;
                    let left = room.get_mut(&leader)?;
                    // The first batch of a request always fits, whatever its size.
                    let size = view.size(index);
                    if size > *left && !first_of_request.insert(leader) {
                        return None;
                    }
                    first_of_request.insert(leader);
                    *left = left.saturating_sub(size + 64);
                    if let Some(manager) = transaction.as_mut() {
                        // Under transaction version 2 this Produce adds the partition.
                        manager.sent(&(Arc::clone(topic), partition));
                    }
                    Some((index, leader))
                });
        drop(transaction);
        self.unsent.next_ready_at = drained.next_ready_at;
        self.unsent.next_expiry_at = drained.next_expiry_at;
        self.unsent.empty = drained.empty;
        for broker in wanted_connections {
            self.connect(Endpoint::Broker(broker), now, actions);
        }
        let mut by_broker: BTreeMap<i32, Vec<ProducerBatch>> = BTreeMap::new();
        for (broker, batch) in drained.batches {
            by_broker.entry(broker).or_default().push(batch);
        }
        let sent = !by_broker.is_empty();
        for (broker, batches) in by_broker {
            self.send_produce(broker, batches, now, actions);
        }
        sent
    }

    /// Finishes a batch the first time it is sent (compression, CRC, the stamp), or
    /// re-stamps its bytes when the session gave it new sequence numbers.
    fn finish_batch(
        &mut self,
        batch: &mut ProducerBatch,
        stamp: Stamp,
        now: Instant,
    ) -> Result<(), Error> {
        if let Some(data) = batch.data.take() {
            if !stamp.changed {
                batch.data = Some(data);
                return Ok(());
            }
            let mut bytes = data.to_vec();
            match patch_producer_state(
                &mut bytes,
                stamp.producer_id,
                stamp.producer_epoch,
                stamp.base_sequence,
            ) {
                Ok(()) => batch.data = Some(bytes.into()),
                // Our own finished batch always parses; keep it as it is if it somehow does
                // not (the broker then refuses it, and the batch fails).
                Err(e) => {
                    tracing::error!(error = %e, "re-stamping a batch failed");
                    batch.data = Some(data);
                }
            }
            return Ok(());
        }
        let Some(builder) = batch.builder.take() else {
            return Err(Error::Closed);
        };
        let before_compression = builder.size_in_bytes() as u64;
        let options = BatchOptions {
            compression: self.config.compression,
            compression_level: self.config.compression_level,
            producer_id: stamp.producer_id,
            producer_epoch: stamp.producer_epoch,
            base_sequence: stamp.base_sequence,
            transactional: self.shared.transaction.is_some(),
            ..BatchOptions::default()
        };
        let (data, spare) = builder.finish_reclaiming(&options)?;
        if let Some(buffer) = spare {
            self.shared.buffers.give(buffer);
        }
        let mut metrics = self.shared.lock_metrics();
        metrics.bytes_before_compression += before_compression;
        metrics.bytes_after_compression += data.len() as u64;
        let topic = metrics.topic(&batch.topic);
        topic.records_sent += u64::from(batch.record_count());
        topic.bytes_before_compression += before_compression;
        topic.bytes_after_compression += data.len() as u64;
        if let Some(first) = batch.produced.first() {
            metrics
                .queue_time
                .record(now.saturating_duration_since(first));
        }
        drop(metrics);
        batch.data = Some(data);
        Ok(())
    }

    fn send_produce(
        &mut self,
        broker: i32,
        batches: Vec<ProducerBatch>,
        now: Instant,
        actions: &mut Vec<Action>,
    ) {
        let endpoint = Endpoint::Broker(broker);
        let Some(ConnState::Ready { id, versions, .. }) = self.conns.get(&endpoint) else {
            // Drained only for brokers with a ready connection.
            self.shared.lock_accumulator().requeue_front(batches);
            return;
        };
        let (id, mut version) = (*id, versions.produce.unwrap_or(3));
        let (transactional_id, v2) = match self.shared.lock_transaction() {
            Some(t) => (Some(t.transactional_id().to_string()), t.v2()),
            None => (None, false),
        };
        if transactional_id.is_some() && !v2 {
            version = version.min(super::transaction::CLASSIC_PRODUCE);
        }
        if self.config.compression == Compression::Zstd && version < 7 {
            // zstd needs Produce v7 (Kafka 2.1); this broker is older.
            let error = Error::UnsupportedBroker {
                broker: self.address(&endpoint).unwrap_or_default(),
                reason: format!("zstd needs Produce v7, the broker speaks up to v{version}"),
            };
            for batch in batches {
                self.session.gave_up(&batch);
                self.resolve(batch, Err(error.clone()));
            }
            return;
        }
        let mut ok = Vec::with_capacity(batches.len());
        for mut batch in batches {
            let stamp = self.session.sent(&mut batch, broker);
            match self.finish_batch(&mut batch, stamp, now) {
                Ok(()) => ok.push(batch),
                Err(e) => {
                    tracing::error!(error = %e, "finishing a batch failed");
                    self.judge(batch, Answer::Unsendable(e), now);
                }
            }
        }
        if ok.is_empty() {
            return;
        }
        {
            let mut metrics = self.shared.lock_metrics();
            metrics.batches_sent += ok.len() as u64;
            metrics.requests_sent += 1;
            metrics.broker(broker).produce_requests += 1;
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
            transactional_id,
            acks: self.config.acks.wire_value(),
            timeout_ms: self
                .config
                .request_timeout
                .as_millis()
                .min(i32::MAX as u128) as i32,
            topics,
        };
        let spans = ProduceSpans::new(
            broker,
            || self.address(&endpoint).unwrap_or_default(),
            &self.config.client_id,
            &ok,
        );
        let kind = InFlightKind::Produce {
            batches: ok,
            version,
            spans,
        };
        if let Err((InFlightKind::Produce { batches, .. }, error)) =
            self.send_produce_request(endpoint, id, &request, version, kind, now, actions)
        {
            for batch in batches {
                self.judge(batch, Answer::Unsendable(error.clone()), now);
            }
        }
    }

    /// Handles a Produce answer: each batch's partition answer goes to the session.
    pub(super) fn handle_produce_response(
        &mut self,
        batches: Vec<ProducerBatch>,
        spans: &ProduceSpans,
        response: &ProduceResponse,
        now: Instant,
    ) {
        for (index, batch) in batches.into_iter().enumerate() {
            let answer = response
                .topics
                .iter()
                .filter(|t| *t.name == *batch.topic)
                .flat_map(|t| t.partitions.iter())
                .find(|p| p.index == batch.partition);
            let answer = match answer {
                None => Answer::Refused {
                    code: ErrorCode::UnknownServerError,
                    error: Error::Broker {
                        code: ErrorCode::UnknownServerError,
                        topic: batch.topic.to_string(),
                        partition: batch.partition,
                        message: Some("the broker's answer did not mention this partition".into()),
                    },
                    new_leader_known: false,
                },
                Some(answer) => self.read_answer(&batch, answer, response),
            };
            if let Answer::Refused { code, .. } = &answer {
                spans.refused(index, code.name());
            }
            self.judge(batch, answer, now);
        }
    }

    /// What one partition's answer says about `batch`; takes a KIP-951 leader hint on the
    /// way.
    fn read_answer(
        &mut self,
        batch: &ProducerBatch,
        answer: &PartitionProduceResponse,
        response: &ProduceResponse,
    ) -> Answer {
        let code = ErrorCode::from_code(answer.error_code);
        if code.is_ok() {
            return Answer::Acked(Acked {
                base_offset: answer.base_offset,
                log_append_time: answer.log_append_time_ms,
            });
        }
        let message = answer.error_message.clone().or_else(|| {
            answer.record_errors.first().and_then(|r| {
                r.batch_index_error_message
                    .as_ref()
                    .map(|m| format!("record {}: {m}", r.batch_index))
            })
        });
        let new_leader_known =
            code.invalidates_metadata() && self.take_leader_hint(batch, answer, response);
        Answer::Refused {
            code,
            error: Error::Broker {
                code,
                topic: batch.topic.to_string(),
                partition: batch.partition,
                message,
            },
            new_leader_known,
        }
    }

    /// Applies the answer's `current_leader` hint for `batch`'s partition (KIP-951);
    /// whether the partition now has a newer leader.
    fn take_leader_hint(
        &mut self,
        batch: &ProducerBatch,
        answer: &PartitionProduceResponse,
        response: &ProduceResponse,
    ) -> bool {
        let Some(hint) = answer.current_leader else {
            return false;
        };
        let applied = self.cluster.apply_leader_hint(
            &batch.topic,
            batch.partition,
            hint.leader_id,
            hint.leader_epoch,
            &response.node_endpoints,
        );
        match applied {
            LeaderHint::Ignored => false,
            LeaderHint::Applied { became_available } => {
                tracing::debug!(topic = %batch.topic, partition = batch.partition, leader = hint.leader_id, epoch = hint.leader_epoch, "leader hint taken");
                if became_available {
                    self.publish_topics(&[Arc::clone(&batch.topic)], Instant::now());
                }
                true
            }
        }
    }

    /// Asks the session what an attempt's answer means for `batch`, and does it.
    pub(super) fn judge(&mut self, mut batch: ProducerBatch, answer: Answer, now: Instant) {
        match self.session.judge(&mut batch, answer, now) {
            Verdict::Acknowledge(acked) => self.resolve(batch, Ok(acked)),
            Verdict::Retry { refresh_metadata } => {
                if refresh_metadata {
                    self.cluster.mark_stale();
                }
                let mut metrics = self.shared.lock_metrics();
                metrics.batches_retried += 1;
                metrics.records_retried += u64::from(batch.record_count());
                metrics.topic(&batch.topic).records_retried += u64::from(batch.record_count());
                drop(metrics);
                self.shared.lock_accumulator().requeue(batch);
            }
            Verdict::Split => self.split(batch, now),
            Verdict::Fail(error) => {
                tracing::warn!(topic = %batch.topic, partition = batch.partition, %error, "batch failed");
                self.resolve(batch, Err(error));
            }
        }
    }

    /// Splits a batch the broker found too large into two halves (keeping the sequence
    /// numbers it covered), and queues them in its place.
    fn split(&mut self, batch: ProducerBatch, now: Instant) {
        let count = batch.record_count();
        tracing::info!(topic = %batch.topic, partition = batch.partition, records = count, "splitting a batch the broker found too large");
        match batch.split_at(count / 2, Some(now)) {
            Split::Parts(head, tail) => self
                .shared
                .lock_accumulator()
                .requeue_front(vec![head, tail]),
            Split::Whole(batch) => {
                let error = Error::Broker {
                    code: ErrorCode::MessageTooLarge,
                    topic: batch.topic.to_string(),
                    partition: batch.partition,
                    message: Some("could not split the batch".into()),
                };
                self.session.gave_up(&batch);
                self.resolve(batch, Err(error));
            }
        }
    }

    /// Resolves a batch's records and returns its memory.
    pub(super) fn resolve(&mut self, mut batch: ProducerBatch, result: Result<Acked, Error>) {
        let count = batch.record_count() as usize;
        let reserved = batch.reserved;
        let data = batch.data.take();
        if let (Err(error), Some(mut manager)) = (&result, self.shared.lock_transaction()) {
            manager.batch_failed(error);
        }
        let error = result.as_ref().err().cloned();
        batch.guard.complete(result);
        if let Some(data) = data {
            self.shared.buffers.give_bytes(data);
        }
        self.shared
            .records_finished(count, reserved, error.as_ref(), Some(&batch.topic));
    }

    /// What a batch that was never sent was waiting for, as an error to report.
    fn why_not_sent(&self, batch: &ProducerBatch) -> Error {
        let (topic, partition) = (&batch.topic, batch.partition);
        let reason = match self.cluster.leader_for(topic, partition) {
            None => match self.cluster.missing(topic) {
                Some(missing) => format!("the brokers answer {} for topic {topic}", missing.error),
                None => format!("no leader is known for {topic}-{partition}"),
            },
            Some(leader) => {
                let endpoint = Endpoint::Broker(leader);
                let address = self.address(&endpoint).unwrap_or_default();
                let last = self
                    .connection_errors
                    .get(&leader)
                    .map(|e| format!(" (last: {e})"))
                    .unwrap_or_default();
                match self.conns.get(&endpoint) {
                    Some(ConnState::Ready { .. }) if !self.session.ready_to_send() => {
                        "waiting for a producer id (InitProducerId)".to_owned()
                    }
                    Some(ConnState::Ready { .. }) => format!(
                        "waiting behind earlier batches of {topic}-{partition} in flight to \
                         broker {leader} at {address}"
                    ),
                    Some(ConnState::Connecting { .. }) => {
                        format!("connecting to broker {leader} at {address}{last}")
                    }
                    Some(ConnState::Backoff { .. }) | None => {
                        format!("no connection to broker {leader} at {address}{last}")
                    }
                }
            }
        };
        let reason = match self.session.last_error(topic, partition) {
            Some(e) => format!("{reason}; the partition's last error: {e}"),
            None => reason,
        };
        Error::NotSent { reason }
    }

    /// Fails what waited too long: queued batches past `delivery.timeout.ms`, and records
    /// that waited `max.block.ms` for their topic's metadata.
    pub(super) fn expire(&mut self, now: Instant) {
        let max_block = self.config.max_block;
        let cluster = &self.cluster;
        let unreachable = &self.unreachable_brokers;
        let (doomed, expired, waiting, next_waiting) = {
            let mut acc = self.shared.lock_accumulator();
            let doomed = if unreachable.is_empty() {
                Vec::new()
            } else {
                acc.take_partitions(|topic, partition| {
                    cluster
                        .leader_for(topic, partition)
                        .is_some_and(|leader| unreachable.contains_key(&leader))
                })
            };
            let expired = acc.expire(now);
            let waiting = acc.expire_pending(now, max_block);
            (doomed, expired, waiting, acc.next_pending_expiry(max_block))
        };
        for batch in doomed {
            let leader = self.cluster.leader_for(&batch.topic, batch.partition);
            let Some((broker, cause)) =
                leader.and_then(|l| self.unreachable_brokers.get(&l).map(|c| (l, c.clone())))
            else {
                continue;
            };
            self.session.gave_up(&batch);
            let error = Error::Connection {
                broker: self.address(&Endpoint::Broker(broker)).unwrap_or_default(),
                cause,
            };
            self.resolve(batch, Err(error));
        }
        self.unsent.next_waiting_expiry_at = next_waiting;
        for batch in expired {
            self.session.gave_up(&batch);
            let last_error = batch
                .send
                .last_error
                .clone()
                .unwrap_or_else(|| self.why_not_sent(&batch));
            let error = Error::DeliveryTimeout {
                timeout_ms: crate::time::millis(self.config.delivery_timeout),
                last_error: Some(Box::new(last_error)),
            };
            self.resolve(batch, Err(error));
        }
        for (topic, record) in waiting.records {
            let missing = self.cluster.missing(&topic);
            let error = Error::TopicNotFound {
                topic: topic.to_string(),
                waited_ms: crate::time::millis(self.config.max_block),
                reason: missing.map_or(ErrorCode::UnknownTopicOrPartition, |m| m.error),
            };
            self.shared.fail_waiting([record], &error);
        }
        for topic in waiting.emptied_topics {
            self.cluster.forget_missing(&topic);
        }
    }
}
