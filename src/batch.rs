//! A closed batch of one partition: its records (unfinished until first sent, then the exact
//! bytes every retry resends), the slot its records' outcomes go to, and how sending it has
//! gone so far ([`SendState`], which only the [`ProducerSession`](crate::session) changes).
//!
//! # References
//! - Java `ProducerBatch` (attempts, retry time, in-doubt sequence handling)

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use kiel_protocol::record::RecordBatchBuilder;

use crate::delivery::BatchGuard;
use crate::error::Error;

/// A batch's sequence numbers (idempotence): the first, and the session generation they
/// belong to. An epoch bump starts a new generation; a batch of an older one gets new
/// numbers when it is next sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sequenced {
    pub base: i32,
    pub generation: u32,
}

/// How sending a batch has gone. Written by the session's decisions only.
#[derive(Debug, Default)]
pub(crate) struct SendState {
    /// Attempts that ended without an acknowledgement.
    pub attempts: u32,
    /// Not to be sent again before this time (retry backoff).
    pub retry_at: Option<Instant>,
    /// Its sequence numbers, once it was first sent by an idempotent producer.
    pub sequence: Option<Sequenced>,
    /// The last attempt's outcome is unknown (connection lost, timed out): the broker may
    /// have written it. Such a batch must be resolved before sequences are reset.
    pub in_doubt: bool,
    /// What went wrong last, for the error a record gets if it finally fails.
    pub last_error: Option<Error>,
}

/// A batch that is closed (or being drained).
pub(crate) struct ProducerBatch {
    pub topic: Arc<str>,
    pub partition: i32,
    /// The records, unfinished until the batch is first sent.
    pub builder: Option<RecordBatchBuilder>,
    /// The finished bytes; retries resend exactly these.
    pub data: Option<Bytes>,
    pub guard: BatchGuard,
    /// When its first record was produced.
    pub created: Instant,
    /// Bytes of `buffer.memory` held by this batch.
    pub reserved: usize,
    pub send: SendState,
}

impl ProducerBatch {
    pub(crate) fn record_count(&self) -> u32 {
        self.guard.count
    }

    /// Encoded size of the batch as it will be (or was) sent.
    pub(crate) fn size(&self) -> usize {
        match (&self.data, &self.builder) {
            (Some(d), _) => d.len(),
            (None, Some(b)) => b.size_in_bytes(),
            (None, None) => 0,
        }
    }
}
