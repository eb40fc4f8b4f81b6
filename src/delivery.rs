//! Delivery outcomes: one [`Completion`] shared by every record of a batch, a
//! [`DeliveryFuture`] per record (a pointer and an index, no channel per record), and
//! callbacks for fire-and-forget callers.
//!
//! A batch that is split (after `MESSAGE_TOO_LARGE`) resolves its records in ranges, so a
//! completion holds a short list of resolved ranges rather than one result.
//!
//! Every record gets exactly one outcome: when the last holder of an unresolved batch drops
//! it (the producer was dropped with its runtime, say), [`BatchGuard`] resolves the rest with
//! [`Error::Closed`].
//!
//! # References
//! - Java `ProduceRequestResult` / `FutureRecordMetadata` (the same sharing idea)

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::error::Error;
use crate::record::{RecordMetadata, TimestampType};

/// A callback run once with a record's outcome.
pub(crate) type Callback = Box<dyn FnOnce(Result<RecordMetadata, Error>) + Send + 'static>;

/// Bytes a stored callback takes besides its closure: its slot in the batch's list (twice,
/// for the list's spare capacity) and the allocator's header of the closure's box.
pub(crate) const CALLBACK_SLOT_SIZE: usize = 2 * std::mem::size_of::<(u32, i64, Callback)>() + 16;

/// The outcome of a range of records of a batch.
#[derive(Debug, Clone)]
pub(crate) struct RangeOutcome {
    /// First record index (in the original batch) of the range.
    pub start: u32,
    /// One past the last record index.
    pub end: u32,
    /// The partition the range was written to (or was meant for).
    pub partition: i32,
    /// Offset of the record at `start`, or the error for the whole range.
    pub result: Result<Acked, Error>,
}

/// What the broker said about an acknowledged range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Acked {
    /// Offset of the range's first record; `-1` when unknown (acks=0).
    pub base_offset: i64,
    /// The broker's append time, or -1 when the topic uses CreateTime.
    pub log_append_time: i64,
}

#[derive(Default)]
struct State {
    outcomes: Vec<RangeOutcome>,
    resolved: u32,
    wakers: Vec<Waker>,
    callbacks: Vec<(u32, i64, Callback)>,
}

/// The shared completion slot of one batch.
pub(crate) struct Completion {
    topic: Arc<str>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

fn metadata(
    topic: &Arc<str>,
    outcome: &RangeOutcome,
    index: u32,
    timestamp: i64,
) -> Result<RecordMetadata, Error> {
    match &outcome.result {
        Ok(acked) => {
            let offset = if acked.base_offset < 0 {
                -1
            } else {
                acked.base_offset + i64::from(index - outcome.start)
            };
            let (timestamp, timestamp_type) = if acked.log_append_time >= 0 {
                (acked.log_append_time, TimestampType::LogAppendTime)
            } else {
                (timestamp, TimestampType::CreateTime)
            };
            Ok(RecordMetadata {
                topic: Arc::clone(topic),
                partition: outcome.partition,
                offset,
                timestamp,
                timestamp_type,
            })
        }
        Err(e) => Err(e.clone()),
    }
}

impl Completion {
    pub(crate) fn new(topic: Arc<str>) -> Arc<Self> {
        Arc::new(Self {
            topic,
            state: Mutex::new(State::default()),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in a user callback runs outside the lock, so poisoning cannot hide state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a callback for record `index` (with its CreateTime).
    pub(crate) fn add_callback(&self, index: u32, timestamp: i64, callback: Callback) {
        let mut state = self.lock();
        let done = state
            .outcomes
            .iter()
            .find(|o| o.start <= index && index < o.end)
            .cloned();
        match done {
            // Resolved already (the batch can be answered before the caller gets here).
            Some(outcome) => {
                drop(state);
                callback(metadata(&self.topic, &outcome, index, timestamp));
            }
            None => state.callbacks.push((index, timestamp, callback)),
        }
    }

    /// Resolves records `start..end`. Runs their callbacks and wakes their futures.
    pub(crate) fn resolve(&self, outcome: RangeOutcome) {
        let mut due;
        let wakers;
        {
            let mut state = self.lock();
            if state
                .outcomes
                .iter()
                .any(|o| o.start < outcome.end && outcome.start < o.end)
            {
                // Already resolved: exactly one outcome per record.
                return;
            }
            // Keep the callbacks' order: they run in the order their records were produced.
            let in_range = |index: u32| outcome.start <= index && index < outcome.end;
            due = std::mem::take(&mut state.callbacks);
            if !due.iter().all(|(index, _, _)| in_range(*index)) {
                let later;
                (due, later) = due.into_iter().partition(|(index, _, _)| in_range(*index));
                state.callbacks = later;
            }
            due.sort_by_key(|(index, _, _)| *index);
            state.resolved += outcome.end - outcome.start;
            state.outcomes.push(outcome.clone());
            wakers = std::mem::take(&mut state.wakers);
        }
        for (index, timestamp, callback) in due {
            callback(metadata(&self.topic, &outcome, index, timestamp));
        }
        for waker in wakers {
            waker.wake();
        }
    }

    /// Resolves every record of `0..count` that has no outcome yet with `error`.
    pub(crate) fn resolve_rest(&self, count: u32, partition: i32, error: &Error) {
        let gaps = {
            let state = self.lock();
            let mut ranges: Vec<(u32, u32)> =
                state.outcomes.iter().map(|o| (o.start, o.end)).collect();
            ranges.sort_unstable();
            let mut gaps = Vec::new();
            let mut next = 0;
            for (s, e) in ranges {
                if s > next {
                    gaps.push((next, s));
                }
                next = next.max(e);
            }
            if next < count {
                gaps.push((next, count));
            }
            gaps
        };
        for (start, end) in gaps {
            self.resolve(RangeOutcome {
                start,
                end,
                partition,
                result: Err(error.clone()),
            });
        }
    }

    fn poll_record(
        &self,
        index: u32,
        timestamp: i64,
        cx: &mut Context<'_>,
    ) -> Poll<Result<RecordMetadata, Error>> {
        let mut state = self.lock();
        if let Some(outcome) = state
            .outcomes
            .iter()
            .find(|o| o.start <= index && index < o.end)
        {
            return Poll::Ready(metadata(&self.topic, outcome, index, timestamp));
        }
        if !state.wakers.iter().any(|w| w.will_wake(cx.waker())) {
            state.wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Resolves a record's outcome: `await` it for [`RecordMetadata`] or the record's error.
///
/// Dropping the future does not cancel the record; it is still sent.
#[must_use = "a DeliveryFuture does nothing unless awaited; drop it to fire and forget"]
#[derive(Debug)]
pub struct DeliveryFuture {
    completion: Arc<Completion>,
    index: u32,
    timestamp: i64,
}

impl DeliveryFuture {
    pub(crate) fn new(completion: Arc<Completion>, index: u32, timestamp: i64) -> Self {
        Self {
            completion,
            index,
            timestamp,
        }
    }
}

impl DeliveryFuture {
    /// Hands this record's outcome to `callback` instead of a poll.
    pub(crate) fn forward_to(self, callback: Callback) {
        self.completion
            .add_callback(self.index, self.timestamp, callback);
    }
}

impl Future for DeliveryFuture {
    type Output = Result<RecordMetadata, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.completion.poll_record(self.index, self.timestamp, cx)
    }
}

/// Owns a batch's right to resolve its records; resolves whatever is left with
/// [`Error::Closed`] when dropped unresolved.
#[derive(Debug)]
pub(crate) struct BatchGuard {
    pub completion: Arc<Completion>,
    /// The partition the batch is for.
    pub partition: i32,
    /// Index (in the completion) of this batch's first record.
    pub first_index: u32,
    /// Number of records of this batch.
    pub count: u32,
    done: bool,
}

impl BatchGuard {
    pub(crate) fn new(
        completion: Arc<Completion>,
        partition: i32,
        first_index: u32,
        count: u32,
    ) -> Self {
        Self {
            completion,
            partition,
            first_index,
            count,
            done: false,
        }
    }

    /// Resolves all of this batch's records.
    pub(crate) fn complete(mut self, result: Result<Acked, Error>) {
        self.done = true;
        self.completion.resolve(RangeOutcome {
            start: self.first_index,
            end: self.first_index + self.count,
            partition: self.partition,
            result,
        });
    }

    /// Gives up this guard's duty without resolving (the records moved to other guards).
    pub(crate) fn disarm(mut self) {
        self.done = true;
    }
}

impl Drop for BatchGuard {
    fn drop(&mut self) {
        if !self.done {
            self.completion.resolve(RangeOutcome {
                start: self.first_index,
                end: self.first_index + self.count,
                partition: self.partition,
                result: Err(Error::Closed),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap_or_else(|e| panic!("runtime: {e}"))
            .block_on(f)
    }

    #[test]
    fn futures_resolve_by_range_with_offsets() {
        let c = Completion::new("t".into());
        let f0 = DeliveryFuture::new(Arc::clone(&c), 0, 10);
        let f2 = DeliveryFuture::new(Arc::clone(&c), 2, 12);
        let guard = BatchGuard::new(Arc::clone(&c), 3, 0, 3);
        guard.complete(Ok(Acked {
            base_offset: 100,
            log_append_time: -1,
        }));
        let m0 = block_on(f0).unwrap();
        let m2 = block_on(f2).unwrap();
        assert_eq!((m0.partition, m0.offset, m0.timestamp), (3, 100, 10));
        assert_eq!(
            (m2.offset, m2.timestamp_type),
            (102, TimestampType::CreateTime)
        );
    }

    #[test]
    fn dropped_guard_resolves_closed_and_callbacks_run_once() {
        let c = Completion::new("t".into());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = Arc::clone(&seen);
        c.add_callback(1, 5, Box::new(move |r| s.lock().unwrap().push(r.is_err())));
        drop(BatchGuard::new(Arc::clone(&c), 0, 0, 2));
        c.resolve_rest(2, 0, &Error::Closed); // no effect: already resolved
        assert_eq!(*seen.lock().unwrap(), vec![true]);
        assert!(matches!(
            block_on(DeliveryFuture::new(c, 0, 0)),
            Err(Error::Closed)
        ));
    }

    #[test]
    fn log_append_time_is_reported() {
        let c = Completion::new("t".into());
        BatchGuard::new(Arc::clone(&c), 0, 0, 1).complete(Ok(Acked {
            base_offset: 7,
            log_append_time: 999,
        }));
        let m = block_on(DeliveryFuture::new(c, 0, 1)).unwrap();
        assert_eq!(
            (m.timestamp, m.timestamp_type),
            (999, TimestampType::LogAppendTime)
        );
    }

    #[test]
    fn callbacks_of_a_batch_run_in_produce_order() {
        let c = Completion::new("t".into());
        let order = Arc::new(Mutex::new(Vec::new()));
        for index in 0..6 {
            let order = Arc::clone(&order);
            c.add_callback(
                index,
                0,
                Box::new(move |r| {
                    assert!(r.is_ok());
                    order.lock().unwrap().push(index);
                }),
            );
        }
        BatchGuard::new(Arc::clone(&c), 0, 0, 6).complete(Ok(Acked {
            base_offset: 0,
            log_append_time: -1,
        }));
        assert_eq!(*order.lock().unwrap(), vec![0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn callbacks_of_split_halves_run_in_order_within_each_half() {
        let c = Completion::new("t".into());
        let order = Arc::new(Mutex::new(Vec::new()));
        for index in 0..8 {
            let order = Arc::clone(&order);
            c.add_callback(
                index,
                0,
                Box::new(move |_| order.lock().unwrap().push(index)),
            );
        }
        for (start, count) in [(0, 4), (4, 4)] {
            BatchGuard::new(Arc::clone(&c), 0, start, count).complete(Ok(Acked {
                base_offset: 0,
                log_append_time: -1,
            }));
        }
        assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
    }
}
