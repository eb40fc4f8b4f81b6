//! Idempotence decisions of the [`Sender`]: when a sequence problem needs a fresh epoch,
//! and the bump itself.
//!
//! kiel bumps the epoch locally, as the Java client does for a non-transactional producer
//! (KIP-360), and takes librdkafka's care in doing it: before the bump, every batch whose
//! last attempt had an unknown outcome (a lost connection, a timeout) is resolved under its
//! old epoch and sequence, and nothing else is sent; then every partition restarts at
//! sequence 0 under epoch + 1 (or a new producer id when the epoch is exhausted or the
//! broker fenced this one). So a batch the broker may already have is never re-sequenced
//! and written twice.
//!
//! What asks for a bump:
//! - `OUT_OF_ORDER_SEQUENCE_NUMBER` or `UNKNOWN_PRODUCER_ID` for the batch the broker should
//!   have expected next (the broker lost or never had the earlier state);
//! - a batch with a sequence that fails for good (fatal error or `delivery.timeout.ms`),
//!   which would leave a gap every later batch of its partition would trip over;
//! - `INVALID_PRODUCER_EPOCH` / `PRODUCER_FENCED`: a new producer id.
//!
//! # References
//! - KIP-360; Java `TransactionManager.java` (`bumpIdempotentEpochAndResetIdIfNeeded`,
//!   `canRetry`); librdkafka `rdkafka_idempotence.c` (drain, then bump)

use super::{ProducerIdentity, Sender};

/// Why the sequence numbers must restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bump {
    /// Epoch + 1 on the same producer id.
    Epoch,
    /// A new producer id from InitProducerId.
    NewProducerId,
}

impl Sender {
    /// Asks for an epoch bump (or a new producer id) once in-doubt batches are resolved.
    pub(super) fn request_bump(&mut self, bump: Bump, reason: &str) {
        if !self.idempotent {
            return;
        }
        tracing::info!(?bump, reason, "producer epoch bump requested");
        self.bump = Some(match (self.bump, bump) {
            (Some(Bump::NewProducerId), _) | (_, Bump::NewProducerId) => Bump::NewProducerId,
            _ => Bump::Epoch,
        });
    }

    /// Whether only in-doubt batches may be sent (a bump is waiting).
    pub(super) fn bump_pending(&self) -> bool {
        self.bump.is_some()
    }

    /// Carries out a requested bump once nothing is in flight and nothing is in doubt.
    pub(super) fn maybe_bump(&mut self) {
        let Some(bump) = self.bump else {
            return;
        };
        if self.produce_in_flight() || self.shared.lock_accumulator().has_in_doubt() {
            return;
        }
        self.bump = None;
        match (bump, self.producer_id) {
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
                self.producer_id = Some(next);
                self.shared
                    .lock_accumulator()
                    .resequence(next.id, next.epoch);
            }
            _ => {
                // A new producer id; sequences restart when it arrives.
                tracing::info!("asking for a new producer id");
                self.producer_id = None;
                self.resequence_on_new_id = true;
            }
        }
    }

    /// Applies a new producer id from InitProducerId.
    pub(super) fn new_producer_identity(&mut self, identity: ProducerIdentity) {
        self.producer_id = Some(identity);
        if std::mem::take(&mut self.resequence_on_new_id) {
            self.shared
                .lock_accumulator()
                .resequence(identity.id, identity.epoch);
        }
    }
}
