//! The produce path of the [`Sender`]: draining ready batches into one request per broker,
//! finishing batches (sequence numbers, compression, CRC), and handling each partition's
//! answer: complete, retry in order, split, or fail.
//!
//! # References
//! - Java `Sender.java` (`sendProduceRequests`, `completeBatch`, `canRetry`), KIP-98
//!   (sequence numbers), `../shared/design/protocol.md` §4, §7, §8

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use kiel_protocol::messages::produce::{
    PartitionProduceData, PartitionProduceResponse, ProduceRequest, ProduceResponse,
    TopicProduceData,
};
use kiel_protocol::record::{
    increment_sequence, BatchOptions, RecordBatch, RecordBatchBuilder, RecordHeaderRef,
};
use kiel_protocol::{Compression, ErrorCode};

use super::{backoff, Action, Bump, ConnState, Endpoint, InFlightKind, Sender};
use crate::accumulator::ProducerBatch;
use crate::cluster::LeaderHint;
use crate::config::Acks;
use crate::delivery::{Acked, BatchGuard};
use crate::error::Error;

impl Sender {
    pub(super) fn handle_produce_response(
        &mut self,
        batches: Vec<ProducerBatch>,
        response: &ProduceResponse,
        now: Instant,
    ) {
        for batch in batches {
            self.landed(&batch);
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
            if self.idempotent && batch.sequence.is_some() {
                match code {
                    ErrorCode::OutOfOrderSequenceNumber | ErrorCode::UnknownProducerId => {
                        if !self.earlier_batch_failed(&batch) {
                            // The broker should have expected exactly this batch: its state
                            // for us is gone or different. Restart the sequences.
                            self.request_bump(Bump::Epoch, code.name());
                        }
                        // Otherwise an earlier batch failed and this one arrived with a gap.
                        self.retry(batch, error, false, now);
                        continue;
                    }
                    ErrorCode::InvalidProducerEpoch | ErrorCode::ProducerFenced => {
                        self.request_bump(Bump::NewProducerId, code.name());
                        self.retry(batch, error, false, now);
                        continue;
                    }
                    _ => {}
                }
            }
            if code.invalidates_metadata() && self.take_leader_hint(&batch, answer, response) {
                // KIP-951: the new leader is known; go there at once, no Metadata needed.
                self.retry_now(batch, error, now);
                continue;
            }
            self.retry_or_fail(batch, code, error, now);
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
                    self.publish_topics(&[Arc::clone(&batch.topic)]);
                }
                true
            }
        }
    }

    /// Whether a batch with a lower sequence than `batch` is still unacknowledged.
    pub(super) fn earlier_batch_failed(&self, batch: &ProducerBatch) -> bool {
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

    pub(super) fn batch_acked(&mut self, batch: &ProducerBatch) {
        if let Some(seq) = batch.sequence {
            let next = increment_sequence(seq, batch.record_count() as i32);
            self.shared
                .lock_accumulator()
                .set_acked_sequence(&batch.topic, batch.partition, next);
        }
    }

    /// Retries a batch after `error` when the error is retriable and the batch has attempts
    /// and time left; fails its records otherwise.
    pub(super) fn retry_or_fail(
        &mut self,
        batch: ProducerBatch,
        code: ErrorCode,
        error: Error,
        now: Instant,
    ) {
        let connection = matches!(error, Error::Connection { .. } | Error::Protocol { .. });
        if code.invalidates_metadata() || connection {
            self.cluster.mark_stale();
        }
        // Outcomes the broker may have applied although we saw no success.
        let in_doubt = connection
            || matches!(
                code,
                ErrorCode::RequestTimedOut | ErrorCode::NotEnoughReplicasAfterAppend
            );
        if code.is_retriable() || connection {
            self.retry(batch, error, in_doubt, now);
        } else {
            self.fail(batch, error);
        }
    }

    /// Puts a batch back (in sequence order, with backoff) unless its retries or delivery
    /// time ran out, in which case its records fail.
    pub(super) fn retry(
        &mut self,
        batch: ProducerBatch,
        error: Error,
        in_doubt: bool,
        now: Instant,
    ) {
        self.retry_after_backoff(batch, error, in_doubt, true, now);
    }

    /// Retries a batch refused by a leader that has since been replaced by a known newer
    /// one: without backoff (KIP-951), still within the retry and delivery limits.
    fn retry_now(&mut self, batch: ProducerBatch, error: Error, now: Instant) {
        self.retry_after_backoff(batch, error, false, false, now);
    }

    fn retry_after_backoff(
        &mut self,
        mut batch: ProducerBatch,
        error: Error,
        in_doubt: bool,
        with_backoff: bool,
        now: Instant,
    ) {
        let deadline = batch.created + self.config.delivery_timeout;
        if batch.attempts >= self.config.retries
            || now >= deadline
            || self.config.acks == Acks::None
        {
            let error = if now >= deadline {
                Error::DeliveryTimeout {
                    timeout_ms: self.config.delivery_timeout.as_millis() as u64,
                    last_error: Some(Box::new(error)),
                }
            } else {
                error
            };
            self.fail(batch, error);
            return;
        }
        batch.attempts += 1;
        // Once an attempt's outcome was unknown, the batch may be in the log whatever later
        // attempts say, until one of them succeeds (a duplicate is answered as success).
        batch.in_doubt |= in_doubt;
        let wait = if with_backoff {
            backoff(&self.config, batch.attempts, &mut self.rng)
        } else {
            std::time::Duration::ZERO
        };
        batch.retry_at = Some((now + wait).min(deadline));
        tracing::debug!(topic = %batch.topic, partition = batch.partition, attempt = batch.attempts, %error, "retrying batch");
        batch.last_error = Some(error);
        self.shared.lock_accumulator().requeue(batch);
    }

    /// Fails a batch's records for good. A batch that held sequence numbers leaves a gap,
    /// so the idempotent producer restarts its sequences.
    pub(super) fn fail(&mut self, batch: ProducerBatch, error: Error) {
        tracing::warn!(topic = %batch.topic, partition = batch.partition, %error, "batch failed");
        if batch.sequence.is_some() {
            self.request_bump(Bump::Epoch, "a batch with sequence numbers failed");
        }
        self.complete_batch(batch, Err(error));
    }

    /// Splits a batch the broker found too large into two halves (keeping the sequence
    /// numbers it covered), and queues them in its place.
    pub(super) fn split(&mut self, batch: ProducerBatch, now: Instant) {
        let decoded = batch.data.clone().map(|mut d| RecordBatch::decode(&mut d));
        let Some(Ok(decoded)) = decoded else {
            let error = Error::Broker {
                code: ErrorCode::MessageTooLarge,
                topic: batch.topic.to_string(),
                partition: batch.partition,
                message: Some("could not split the batch".into()),
            };
            self.complete_batch(batch, Err(error));
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
                in_doubt: false,
            });
        }
        batch.guard.disarm();
        let mut acc = self.shared.lock_accumulator();
        for half in halves.into_iter().rev() {
            acc.requeue_front(half);
        }
    }

    /// A drained batch's request is over (answered, failed or never sent): it no longer
    /// counts against its partition's in-flight limit. Called exactly once per drained batch,
    /// before its outcome is decided.
    pub(super) fn landed(&mut self, batch: &ProducerBatch) {
        self.shared
            .lock_accumulator()
            .in_flight_done(&batch.topic, batch.partition);
    }

    /// Resolves a batch's records and returns its memory.
    pub(crate) fn complete_batch(
        &mut self,
        mut batch: ProducerBatch,
        result: Result<Acked, Error>,
    ) {
        let count = batch.record_count() as usize;
        let reserved = batch.reserved;
        let data = batch.data.take();
        batch.guard.complete(result);
        if let Some(data) = data {
            self.shared.buffers.give_bytes(data);
        }
        self.shared.records_finished(count, reserved);
    }

    pub(super) fn expire(&mut self, now: Instant) {
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
            self.fail(batch, error);
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

    pub(super) fn send_batches(&mut self, now: Instant, actions: &mut Vec<Action>) {
        if self.idempotent && self.producer_id.is_none() {
            return;
        }
        let flushing = self.shared.flushing();
        let bump_pending = self.bump_pending();
        // Which brokers can take a request now, and how much.
        let mut room: BTreeMap<i32, usize> = BTreeMap::new();
        let mut ready_brokers: BTreeSet<i32> = BTreeSet::new();
        let mut wanted_connections: BTreeSet<i32> = BTreeSet::new();
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
            let mut first: BTreeSet<i32> = BTreeSet::new();
            acc.drain(
                now,
                flushing,
                per_partition,
                self.idempotent,
                bump_pending,
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
        let mut by_broker: BTreeMap<i32, Vec<ProducerBatch>> = BTreeMap::new();
        for (broker, batch) in drained {
            by_broker.entry(broker).or_default().push(batch);
        }
        for (broker, batches) in by_broker {
            self.send_produce(broker, batches, now, actions);
        }
    }

    pub(super) fn finish_batch(&mut self, batch: &mut ProducerBatch) -> Result<(), Error> {
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
        let (data, spare) = builder.finish_reclaiming(&options)?;
        if let Some(buffer) = spare {
            self.shared.buffers.give(buffer);
        }
        batch.data = Some(data);
        Ok(())
    }

    pub(super) fn send_produce(
        &mut self,
        broker: i32,
        mut batches: Vec<ProducerBatch>,
        now: Instant,
        actions: &mut Vec<Action>,
    ) {
        let endpoint = Endpoint::Broker(broker);
        let Some(ConnState::Ready { id, versions, .. }) = self.conns.get(&endpoint) else {
            for b in batches {
                self.landed(&b);
                self.shared.lock_accumulator().requeue(b);
            }
            return;
        };
        let (id, version) = (*id, versions.produce.unwrap_or(3));
        if self.config.compression == Compression::Zstd && version < 7 {
            // zstd needs Produce v7 (Kafka 2.1); this broker is older.
            let error = Error::UnsupportedBroker {
                broker: self.address(&endpoint).unwrap_or_default(),
                reason: format!("zstd needs Produce v7, the broker speaks up to v{version}"),
            };
            for b in batches {
                self.landed(&b);
                self.complete_batch(b, Err(error.clone()));
            }
            return;
        }
        let mut ok = Vec::with_capacity(batches.len());
        for mut batch in batches.drain(..) {
            match self.finish_batch(&mut batch) {
                Ok(()) => ok.push(batch),
                Err(e) => {
                    tracing::error!(error = %e, "finishing a batch failed");
                    self.landed(&batch);
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
        self.send_produce_request(
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
}
