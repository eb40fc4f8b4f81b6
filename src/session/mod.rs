//! The producer session: the sent side's decisions, as a state machine with no IO, no locks
//! and no clock (`now` is an argument), owned by the [`Sender`](crate::sender) as it owns the
//! cluster state.
//!
//! It holds the producer's identity (producer id and epoch, idempotence) and, per
//! partition, what is in flight and where, the sequence numbers, and the last error. It
//! answers three questions:
//!
//! - **Which batch may go** ([`ProducerSession::pick`]): at most one batch per partition per
//!   request; up to `max.in.flight` per partition (5 with idempotence), but only one while a
//!   partition's first batch is unacknowledged (a broker with no state for the producer
//!   accepts any sequence, so a later batch must not land first); a retry goes alone; while
//!   batches are in flight to one leader, no batch of the partition goes to another; while
//!   an epoch bump waits, only batches whose outcome is in doubt go, one at a time.
//! - **Which sequence it gets** ([`ProducerSession::sent`]): the partition's next, at its
//!   first send; retries keep theirs; after an epoch bump, batches of the old generation get
//!   new ones, in queue order, when they are next sent.
//! - **What an answer means** ([`ProducerSession::judge`]): one match, one [`Verdict`]:
//!   acknowledge (a duplicate is a success), retry (with backoff, or at once when the new
//!   leader is known), split (too large), or fail; and whether the sequences must restart.
//!
//! **Epoch bumps** (KIP-360, done the librdkafka way): a batch with sequence numbers that
//! fails for good, or an `OUT_OF_ORDER_SEQUENCE_NUMBER` / `UNKNOWN_PRODUCER_ID` for the batch
//! the broker should have expected, leaves a gap every later batch would trip over. The
//! session then first drains every batch whose outcome is in doubt under the old epoch, and
//! only when nothing is in flight or in doubt bumps the epoch (or asks for a new producer id
//! when the epoch is exhausted or the broker fenced this one) and restarts the sequences at
//! 0. So a batch the broker may already have is never re-sequenced and written twice.
//!
//! Transactions will be state here too.
//!
//! # References
//! - KIP-98 (idempotence), KIP-360 (epoch bump); Java `Sender.java` (`canRetry`),
//!   `TransactionManager.java` (`bumpIdempotentEpochAndResetIdIfNeeded`); librdkafka
//!   `rdkafka_idempotence.c` (drain, then bump); `../shared/design/protocol.md` §8

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiel_protocol::record::increment_sequence;
use kiel_protocol::ErrorCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::accumulator::QueueView;
use crate::batch::{ProducerBatch, Sequenced};
use crate::delivery::Acked;
use crate::error::Error;
use crate::time::later;

#[cfg(test)]
mod tests;

/// The producer's id and epoch (idempotence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ProducerIdentity {
    pub id: i64,
    pub epoch: i16,
}

/// What a batch is stamped with when it is sent: its producer id, epoch and first sequence
/// (all -1 without idempotence), and whether they differ from what its bytes already hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    /// The batch was finished before under other values (re-sequenced after a bump).
    pub changed: bool,
}

impl Stamp {
    const NONE: Self = Self {
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
        changed: false,
    };
}

/// Why the sequence numbers must restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bump {
    /// Epoch + 1 on the same producer id.
    Epoch,
    /// A new producer id from InitProducerId.
    NewProducerId,
}

/// What the session needs of the configuration.
#[derive(Debug, Clone)]
pub(crate) struct SessionConfig {
    pub idempotent: bool,
    /// A transactional producer: its epoch is the coordinator's to change, never bumped
    /// here, and fencing fails a batch instead of asking for a new producer id.
    pub transactional: bool,
    /// Batches in flight per partition.
    pub max_in_flight_per_partition: usize,
    pub retries: u32,
    /// acks=0: nothing is answered, so nothing is retried.
    pub acks_none: bool,
    pub retry_backoff: Duration,
    pub retry_backoff_max: Duration,
}

impl SessionConfig {
    pub(crate) fn from(config: &crate::config::ProducerConfig) -> Self {
        let idempotent = config.idempotence();
        Self {
            idempotent,
            transactional: config.transactional_id.is_some(),
            max_in_flight_per_partition: if idempotent {
                config.max_in_flight.min(5)
            } else {
                config.max_in_flight
            },
            retries: config.retries,
            acks_none: config.acks == crate::config::Acks::None,
            retry_backoff: config.retry_backoff,
            retry_backoff_max: config.retry_backoff_max,
        }
    }
}

/// How a batch's attempt ended, as the sender saw it.
#[derive(Debug)]
pub(crate) enum Answer {
    /// Written (a duplicate of a batch the broker already has counts too).
    Acked(Acked),
    /// The partition's leader (or a broker that is no longer its leader) refused it.
    Refused {
        code: ErrorCode,
        /// The error a record gets if this is the end.
        error: Error,
        /// The answer named the partition's new leader and it was taken (KIP-951): retry at
        /// once, no backoff.
        new_leader_known: bool,
    },
    /// No answer: the connection was lost, the request timed out, or the answer could not
    /// be read. The broker may have written it.
    Lost(Error),
    /// It never left: finishing or encoding it failed, and would fail again.
    Unsendable(Error),
}

/// What to do with a batch after an answer: the one decision of [`ProducerSession::judge`].
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Resolve its records with their offsets.
    Acknowledge(Acked),
    /// Queue it again (its send state says when); `refresh_metadata` when leadership may
    /// have moved.
    Retry { refresh_metadata: bool },
    /// Too large for the broker: split it in two, keeping its sequence numbers.
    Split,
    /// Resolve its records with this error.
    Fail(Error),
}

/// One partition's sent side.
#[derive(Debug, Default)]
struct PartitionState {
    /// Batches in flight.
    in_flight: usize,
    /// Where the in-flight batches went; new ones go only there until they are answered, so
    /// a leader change cannot let a later batch overtake an earlier one.
    leader: Option<i32>,
    /// Next sequence number to give out.
    next_sequence: i32,
    /// Sequence after the last acknowledged batch; `None` before the first.
    acked_sequence: Option<i32>,
    /// The last error any batch of the partition met.
    last_error: Option<Error>,
    /// A transactional batch with sequence numbers of this epoch failed: the broker will
    /// refuse every later one (OUT_OF_ORDER_SEQUENCE_NUMBER) until the coordinator gives
    /// the producer a new epoch.
    gap: bool,
}

/// Asking for a producer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdentityRequest {
    Idle,
    InFlight,
    RetryAt(Instant),
}

/// The producer session. See the [module documentation](self).
#[derive(Debug)]
pub(crate) struct ProducerSession {
    config: SessionConfig,
    identity: Option<ProducerIdentity>,
    identity_request: IdentityRequest,
    /// A bump waiting for in-flight and in-doubt batches to resolve.
    bump: Option<Bump>,
    /// Counts bumps: sequences of an older generation are stale.
    generation: u32,
    partitions: HashMap<(Arc<str>, i32), PartitionState>,
    /// Batches in flight, over all partitions.
    in_flight: usize,
    /// Batches whose outcome is in doubt (queued or in flight).
    in_doubt: usize,
    /// Randomness for backoff jitter; seeded in simulations so runs replay exactly.
    rng: StdRng,
}

/// The backoff before attempt `attempts + 1`: exponential from `retry.backoff.ms` up to
/// `retry.backoff.max.ms`, ±20% jitter (KIP-580).
fn backoff(config: &SessionConfig, attempts: u32, rng: &mut StdRng) -> Duration {
    let base = config.retry_backoff.as_secs_f64();
    let max = config.retry_backoff_max.as_secs_f64().max(base);
    let exp = base * 2f64.powi(attempts.saturating_sub(1).min(30) as i32);
    let jitter = 0.8 + rng.random::<f64>() * 0.4;
    Duration::try_from_secs_f64((exp.min(max) * jitter).max(0.0)).unwrap_or(Duration::MAX)
}

impl ProducerSession {
    pub(crate) fn new(config: SessionConfig) -> Self {
        Self {
            config,
            identity: None,
            identity_request: IdentityRequest::Idle,
            bump: None,
            generation: 0,
            partitions: HashMap::new(),
            in_flight: 0,
            in_doubt: 0,
            rng: StdRng::from_os_rng(),
        }
    }

    /// Seeds the backoff jitter (deterministic simulations).
    #[cfg(any(test, feature = "bench-internals"))]
    pub(crate) fn seed(&mut self, seed: u64) {
        self.rng = StdRng::seed_from_u64(seed);
    }

    fn partition(&mut self, batch: &ProducerBatch) -> &mut PartitionState {
        self.partitions
            .entry((Arc::clone(&batch.topic), batch.partition))
            .or_default()
    }

    // ---- identity ----

    /// The producer id and epoch in use.
    #[cfg(test)]
    pub(crate) fn identity(&self) -> Option<ProducerIdentity> {
        self.identity
    }

    /// Whether batches may be sent: without idempotence always, with it once the producer
    /// has an id.
    pub(crate) fn ready_to_send(&self) -> bool {
        !self.config.idempotent || self.identity.is_some()
    }

    /// Whether an InitProducerId request should go out now.
    pub(crate) fn wants_identity(&self, now: Instant) -> bool {
        self.config.idempotent
            && self.identity.is_none()
            && match self.identity_request {
                IdentityRequest::Idle => true,
                IdentityRequest::InFlight => false,
                IdentityRequest::RetryAt(t) => t <= now,
            }
    }

    /// An InitProducerId request went out.
    pub(crate) fn identity_requested(&mut self) {
        self.identity_request = IdentityRequest::InFlight;
    }

    /// The InitProducerId request failed in a way worth retrying.
    pub(crate) fn identity_failed(&mut self, now: Instant) {
        self.identity_request = IdentityRequest::RetryAt(later(now, self.config.retry_backoff));
    }

    /// A producer id arrived. Sequences start at 0 under it.
    pub(crate) fn identity_received(&mut self, identity: ProducerIdentity) {
        self.identity_request = IdentityRequest::Idle;
        self.identity = Some(identity);
    }

    /// The transaction coordinator ended a transaction with a new epoch (transaction
    /// version 2 bumps it at every transaction end): sequences start again at 0 under it.
    /// Nothing of the old epoch is in flight then (a transaction ends when every record
    /// has its outcome).
    pub(crate) fn new_epoch(&mut self, identity: ProducerIdentity) {
        self.generation = self.generation.wrapping_add(1);
        for state in self.partitions.values_mut() {
            state.next_sequence = 0;
            state.acked_sequence = None;
            state.gap = false;
        }
        self.identity_request = IdentityRequest::Idle;
        self.identity = Some(identity);
    }

    /// When the session next has something to do by itself (a producer id retry).
    pub(crate) fn next_wakeup(&self) -> Option<Instant> {
        match self.identity_request {
            IdentityRequest::RetryAt(t) if self.identity.is_none() => Some(t),
            _ => None,
        }
    }

    // ---- which batch may go, and with which sequence ----

    /// Whether nothing is in flight.
    pub(crate) fn nothing_in_flight(&self) -> bool {
        self.in_flight == 0
    }

    /// Which batch of a partition's queue may go to `leader` now, if any: an index into
    /// `view` (see the [module documentation](self) for the rules).
    pub(crate) fn pick(
        &self,
        topic: &Arc<str>,
        partition: i32,
        view: &QueueView<'_>,
        leader: i32,
        now: Instant,
    ) -> Option<usize> {
        let state = self.partitions.get(&(Arc::clone(topic), partition));
        let in_flight = state.map_or(0, |s| s.in_flight);
        let first_unacked = state.is_none_or(|s| s.acked_sequence.is_none());
        let limit = if self.config.idempotent && first_unacked {
            1
        } else {
            self.config.max_in_flight_per_partition
        };
        if in_flight >= limit {
            return None;
        }
        if in_flight > 0 && state.and_then(|s| s.leader) != Some(leader) {
            return None;
        }
        if self.bump.is_some() {
            // Only batches that may already be written go, one at a time, under the epoch
            // and sequence they were written with.
            let candidate = view.first_in_doubt()?;
            return (in_flight == 0 && candidate.due(now)).then_some(candidate.index);
        }
        let front = view.front()?;
        if !front.due(now) || (front.attempts > 0 && in_flight > 0) {
            // A retry goes alone, so it cannot overtake or be overtaken.
            return None;
        }
        Some(front.index)
    }

    /// `batch` goes to `leader`: it counts as in flight, and gets its sequence numbers if it
    /// has none of the current generation. Returns what to stamp it with.
    pub(crate) fn sent(&mut self, batch: &mut ProducerBatch, leader: i32) -> Stamp {
        self.in_flight += 1;
        let identity = self.identity;
        let generation = self.generation;
        let idempotent = self.config.idempotent;
        let count = batch.record_count() as i32;
        let previous = batch.send.sequence;
        let state = self.partition(batch);
        state.in_flight += 1;
        state.leader = Some(leader);
        let (true, Some(identity)) = (idempotent, identity) else {
            return Stamp::NONE;
        };
        let sequence = match previous {
            Some(s) if s.generation == generation => s,
            _ => {
                let base = state.next_sequence;
                state.next_sequence = increment_sequence(base, count);
                Sequenced { base, generation }
            }
        };
        batch.send.sequence = Some(sequence);
        Stamp {
            producer_id: identity.id,
            producer_epoch: identity.epoch,
            base_sequence: sequence.base,
            changed: previous.is_some_and(|p| p != sequence),
        }
    }

    fn landed(&mut self, batch: &ProducerBatch) {
        self.in_flight = self.in_flight.saturating_sub(1);
        let state = self.partition(batch);
        state.in_flight = state.in_flight.saturating_sub(1);
    }

    // ---- what an answer means ----

    /// Decides what an attempt's answer means for `batch`, and updates the batch's send
    /// state and the partition's to match. Call once per attempt of a sent batch.
    pub(crate) fn judge(
        &mut self,
        batch: &mut ProducerBatch,
        answer: Answer,
        now: Instant,
    ) -> Verdict {
        self.landed(batch);
        let sequenced = self.config.idempotent && batch.send.sequence.is_some();
        match answer {
            Answer::Refused {
                code: ErrorCode::DuplicateSequenceNumber,
                ..
            } if sequenced => {
                // Written before: the broker does not say where.
                self.acknowledged(batch);
                Verdict::Acknowledge(Acked {
                    base_offset: -1,
                    log_append_time: -1,
                })
            }
            Answer::Acked(acked) => {
                self.acknowledged(batch);
                Verdict::Acknowledge(acked)
            }
            Answer::Refused { code, .. }
                if code == ErrorCode::MessageTooLarge && batch.record_count() > 1 =>
            {
                // The broker checks the size before anything else: it has not written it.
                self.set_doubt(batch, false);
                Verdict::Split
            }
            Answer::Refused { code, error, .. }
                if sequenced
                    && matches!(
                        code,
                        ErrorCode::OutOfOrderSequenceNumber | ErrorCode::UnknownProducerId
                    ) =>
            {
                // The leader checked the sequence and did not write the batch; a duplicate
                // would have been answered as a success.
                self.set_doubt(batch, false);
                if self.earlier_batch_unacknowledged(batch) && !self.partition(batch).gap {
                    // An earlier batch is being retried: this one came before it.
                    return self.retry(batch, error, false, now);
                }
                if self.config.transactional {
                    // The broker lost this producer's state, or an earlier batch failed
                    // for good: the transaction fails, and only its coordinator can give
                    // the next epoch (after the abort).
                    return self.fail(batch, error);
                }
                // It was the batch the broker should have expected: its state for this
                // producer is gone or different. Restart the sequences.
                self.request_bump(Bump::Epoch, code.name());
                self.retry(batch, error, false, now)
            }
            Answer::Refused { code, error, .. }
                if self.config.transactional
                    && matches!(
                        code,
                        ErrorCode::InvalidProducerEpoch
                            | ErrorCode::ProducerFenced
                            | ErrorCode::TransactionalIdAuthorizationFailed
                            | ErrorCode::OutOfOrderSequenceNumber
                            | ErrorCode::UnknownProducerId
                    ) =>
            {
                // Fenced, or the broker lost this producer's state: the transaction fails
                // (for good when fenced); its coordinator, not this session, moves the epoch.
                self.set_doubt(batch, false);
                self.fail(batch, error)
            }
            Answer::Refused { code, error, .. }
                if sequenced
                    && matches!(
                        code,
                        ErrorCode::InvalidProducerEpoch | ErrorCode::ProducerFenced
                    ) =>
            {
                self.request_bump(Bump::NewProducerId, code.name());
                self.retry(batch, error, false, now)
            }
            Answer::Refused {
                code,
                error,
                new_leader_known,
            } if code.is_retriable() => {
                // Outcomes the broker may have applied although it answered an error.
                if matches!(
                    code,
                    ErrorCode::RequestTimedOut | ErrorCode::NotEnoughReplicasAfterAppend
                ) {
                    self.set_doubt(batch, true);
                }
                let verdict = self.retry(batch, error, !new_leader_known, now);
                match verdict {
                    Verdict::Retry { .. } => Verdict::Retry {
                        refresh_metadata: code.invalidates_metadata() && !new_leader_known,
                    },
                    other => other,
                }
            }
            Answer::Refused { error, .. } | Answer::Unsendable(error) => self.fail(batch, error),
            Answer::Lost(error) => {
                self.set_doubt(batch, true);
                match self.retry(batch, error, true, now) {
                    Verdict::Retry { .. } => Verdict::Retry {
                        refresh_metadata: true,
                    },
                    other => other,
                }
            }
        }
    }

    fn acknowledged(&mut self, batch: &mut ProducerBatch) {
        self.set_doubt(batch, false);
        if let Some(sequence) = batch.send.sequence {
            let next = increment_sequence(sequence.base, batch.record_count() as i32);
            self.partition(batch).acked_sequence = Some(next);
        }
    }

    /// Whether a batch of the partition before `batch` is still unacknowledged.
    fn earlier_batch_unacknowledged(&mut self, batch: &ProducerBatch) -> bool {
        let Some(sequence) = batch.send.sequence else {
            return false;
        };
        // Nothing acknowledged yet means the partition expects sequence 0.
        self.partition(batch).acked_sequence.unwrap_or(0) != sequence.base
    }

    /// Queues the batch again (after a backoff unless `with_backoff` is false) if it has
    /// attempts left; fails it otherwise.
    fn retry(
        &mut self,
        batch: &mut ProducerBatch,
        error: Error,
        with_backoff: bool,
        now: Instant,
    ) -> Verdict {
        self.partition(batch).last_error = Some(error.clone());
        if batch.send.attempts >= self.config.retries || self.config.acks_none {
            return self.fail(batch, error);
        }
        batch.send.attempts += 1;
        let wait = if with_backoff {
            backoff(&self.config, batch.send.attempts, &mut self.rng)
        } else {
            Duration::ZERO
        };
        batch.send.retry_at = Some(later(now, wait));
        tracing::debug!(topic = %batch.topic, partition = batch.partition, attempt = batch.send.attempts, %error, "retrying batch");
        batch.send.last_error = Some(error);
        Verdict::Retry {
            refresh_metadata: false,
        }
    }

    /// The batch fails for good. One that held sequence numbers leaves a gap, so the
    /// sequences restart.
    fn fail(&mut self, batch: &mut ProducerBatch, error: Error) -> Verdict {
        self.gave_up(batch);
        self.partition(batch).last_error = Some(error.clone());
        Verdict::Fail(error)
    }

    /// A batch that was not in flight fails for good (its records expired): like a failed
    /// answer, it leaves a gap if it had sequence numbers.
    pub(crate) fn gave_up(&mut self, batch: &ProducerBatch) {
        self.set_doubt_flag(batch.send.in_doubt, false);
        if self.config.idempotent
            && batch
                .send
                .sequence
                .is_some_and(|s| s.generation == self.generation)
        {
            if self.config.transactional {
                self.partition(batch).gap = true;
            }
            self.request_bump(Bump::Epoch, "a batch with sequence numbers failed");
        }
    }

    /// Whether a transactional batch with sequence numbers of this epoch failed (see
    /// [`PartitionState`]'s `gap`): the transaction manager gets a new epoch once the
    /// transaction is aborted.
    pub(crate) fn sequence_gap(&self) -> bool {
        self.partitions.values().any(|p| p.gap)
    }

    /// The last error a batch of this partition met, for the error of a record that
    /// expires before it was ever sent.
    pub(crate) fn last_error(&self, topic: &Arc<str>, partition: i32) -> Option<&Error> {
        self.partitions
            .get(&(Arc::clone(topic), partition))?
            .last_error
            .as_ref()
    }

    fn set_doubt(&mut self, batch: &mut ProducerBatch, in_doubt: bool) {
        self.set_doubt_flag(batch.send.in_doubt, in_doubt);
        batch.send.in_doubt = in_doubt;
    }

    fn set_doubt_flag(&mut self, was: bool, is: bool) {
        match (was, is) {
            (false, true) => self.in_doubt += 1,
            (true, false) => self.in_doubt = self.in_doubt.saturating_sub(1),
            _ => {}
        }
    }

    // ---- epoch bumps ----

    /// Asks for an epoch bump (or a new producer id) once in-doubt batches are resolved.
    fn request_bump(&mut self, bump: Bump, reason: &str) {
        if !self.config.idempotent {
            return;
        }
        if self.config.transactional {
            // Only the transaction coordinator gives a transactional producer a new epoch.
            tracing::warn!(reason, "sequence gap in a transaction: it must be aborted");
            return;
        }
        tracing::info!(?bump, reason, "producer epoch bump requested");
        self.bump = Some(match (self.bump, bump) {
            (Some(Bump::NewProducerId), _) | (_, Bump::NewProducerId) => Bump::NewProducerId,
            _ => Bump::Epoch,
        });
    }

    /// Whether a bump waits (only in-doubt batches may go meanwhile).
    #[cfg(test)]
    pub(crate) fn bump_pending(&self) -> bool {
        self.bump.is_some()
    }

    /// Carries out a requested bump once nothing is in flight and nothing is in doubt:
    /// epoch + 1 (or no identity until a new producer id arrives), and every partition's
    /// sequences restart at 0 for the batches sent from now on. Returns the bump done.
    pub(crate) fn poll_bump(&mut self) -> Option<Bump> {
        let bump = self.bump?;
        if self.in_flight > 0 || self.in_doubt > 0 {
            return None;
        }
        self.bump = None;
        self.generation = self.generation.wrapping_add(1);
        for state in self.partitions.values_mut() {
            state.next_sequence = 0;
            state.acked_sequence = None;
        }
        match (bump, self.identity) {
            (Bump::Epoch, Some(current)) if current.epoch < i16::MAX => {
                let next = ProducerIdentity {
                    id: current.id,
                    epoch: current.epoch + 1,
                };
                tracing::info!(
                    producer_id = next.id,
                    epoch = next.epoch,
                    "bumped the producer epoch"
                );
                self.identity = Some(next);
                Some(Bump::Epoch)
            }
            _ => {
                tracing::info!("asking for a new producer id");
                self.identity = None;
                self.identity_request = IdentityRequest::Idle;
                Some(Bump::NewProducerId)
            }
        }
    }
}
