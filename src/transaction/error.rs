//! The errors of a transactional producer, split the way a caller must react to them:
//! *abortable* (abort the transaction and carry on), *fatal* (close the producer) and
//! *misuse* (a call that does not fit the transaction's state; nothing changed).
//!
//! # References
//! - Java `TransactionManager.java` (abortable and fatal errors), KIP-98, KIP-588

use std::sync::Arc;

use kiel_protocol::ErrorCode;
use thiserror::Error;

/// What went wrong with a transaction. See [`TransactionError::is_abortable`] and
/// [`TransactionError::is_fatal`].
#[derive(Debug, Clone, Error)]
#[non_exhaustive]
pub enum TransactionError {
    /// A transaction method was called on a producer without `transactional.id`.
    #[error("this producer is not transactional: set transactional.id to use transactions")]
    NotTransactional,
    /// A record was produced on a transactional producer outside `begin_transaction()` ..
    /// `commit_transaction()`; it was not sent.
    #[error(
        "record produced outside a transaction (transactional.id `{transactional_id}`): \
         call begin_transaction() first"
    )]
    NoTransaction {
        /// The producer's `transactional.id`.
        transactional_id: String,
    },
    /// A call that does not fit the transaction's state (commit without begin, begin twice,
    /// begin before `init_transactions()`); nothing changed.
    #[error("{operation} is not allowed now: the producer is {state}")]
    InvalidState {
        /// The call.
        operation: &'static str,
        /// The state it found.
        state: &'static str,
    },
    /// The transaction failed and must be aborted with `abort_transaction()`; the producer can
    /// then start a new one.
    #[error("the transaction must be aborted: {cause}")]
    Abortable {
        /// What failed.
        cause: Arc<crate::Error>,
    },
    /// A newer producer with the same `transactional.id` has started (zombie fencing): this
    /// producer can do nothing more and should be closed.
    #[error(
        "fenced: another producer with transactional.id `{transactional_id}` has started \
         ({code}); this producer must be closed"
    )]
    Fenced {
        /// The producer's `transactional.id`.
        transactional_id: String,
        /// The broker's answer (PRODUCER_FENCED or INVALID_PRODUCER_EPOCH).
        code: ErrorCode,
    },
    /// An error no abort can mend (authorization, an unsupported broker, an invalid
    /// `transaction.timeout.ms`): this producer must be closed.
    #[error("the transactional producer cannot go on: {cause}")]
    Fatal {
        /// What failed.
        cause: Arc<crate::Error>,
    },
    /// The record was still queued when its transaction was aborted, so it was never sent.
    #[error("the record's transaction was aborted before it was sent")]
    Aborted,
}

impl TransactionError {
    /// Whether aborting the transaction lets the producer go on.
    pub fn is_abortable(&self) -> bool {
        matches!(self, Self::Abortable { .. } | Self::Aborted)
    }

    /// Whether the producer can do nothing more and must be closed.
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::Fenced { .. } | Self::Fatal { .. })
    }

    /// The Kafka error code behind this error, if a broker gave one.
    pub fn error_code(&self) -> Option<ErrorCode> {
        match self {
            Self::Fenced { code, .. } => Some(*code),
            Self::Abortable { cause } | Self::Fatal { cause } => cause.error_code(),
            _ => None,
        }
    }
}
