//! Delivery outcomes: one [`Completion`] shared by every record of a batch, a
//! [`DeliveryFuture`] per record (a pointer and an index, no channel per record), and
//! callbacks for fire-and-forget callers.
//!
//! A batch that is split (after `MESSAGE_TOO_LARGE`, or when some of its records expire)
//! resolves its records in ranges, so a completion holds a short list of resolved ranges
//! rather than one result.
//!
//! **Order.** Outcomes are *released* (callbacks run, futures become ready) in produce order
//! per partition, whatever order the answers come in: a completion releases its ranges in
//! record order, and only once the previous batch of its partition has released every
//! record. The batches of a partition form a chain ([`Completion::chain_after`]); a batch
//! that fails for good while an earlier one still retries waits for it.
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
    /// Resolved ranges, released or not.
    outcomes: Vec<RangeOutcome>,
    /// Records `0..released` have been released: their callbacks ran, their futures are
    /// ready.
    released: u32,
    /// Whether the previous batch of the partition has released every record (or there is
    /// none); until then nothing of this one is released.
    previous_done: bool,
    /// The batch's record count, once it is closed to new records.
    total: Option<u32>,
    /// The next batch of the partition, to be told when this one is done.
    next: Option<Arc<Completion>>,
    wakers: Vec<Waker>,
    callbacks: Vec<(u32, i64, Callback)>,
}

impl State {
    fn done(&self) -> bool {
        self.total == Some(self.released)
    }
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

/// Callbacks to run and futures to wake, gathered under a completion's lock and carried
/// out after it is released (a callback may produce, or poll another future).
#[derive(Default)]
struct Released {
    callbacks: Vec<(u32, i64, Callback, RangeOutcome)>,
    wakers: Vec<Waker>,
}

impl Released {
    fn deliver(self, topic: &Arc<str>) {
        for (index, timestamp, callback, outcome) in self.callbacks {
            callback(metadata(topic, &outcome, index, timestamp));
        }
        for waker in self.wakers {
            waker.wake();
        }
    }
}

impl Completion {
    /// The completion of a batch that follows no other (the first of its partition, or a
    /// record waiting for metadata).
    pub(crate) fn new(topic: Arc<str>) -> Arc<Self> {
        Arc::new(Self {
            topic,
            state: Mutex::new(State {
                previous_done: true,
                ..State::default()
            }),
        })
    }

    /// The completion of a batch that follows `previous` in its partition: its records are
    /// released only after all of `previous`'s.
    pub(crate) fn chain_after(previous: &Arc<Self>) -> Arc<Self> {
        let next = Arc::new(Self {
            topic: Arc::clone(&previous.topic),
            state: Mutex::new(State::default()),
        });
        let mut state = previous.lock();
        if state.done() {
            drop(state);
            next.lock().previous_done = true;
        } else {
            state.next = Some(Arc::clone(&next));
        }
        next
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic in a user callback runs outside the lock, so poisoning cannot hide state.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The batch holds `count` records and takes no more.
    #[cfg(test)]
    pub(crate) fn close(&self, count: u32) {
        self.close_with_callbacks(count, Vec::new());
    }

    /// The batch holds `count` records and takes no more; `callbacks` are those its
    /// records' producers registered while it was open (kept by its [`BatchGuard`], so a
    /// record costs no lock of this completion).
    pub(crate) fn close_with_callbacks(&self, count: u32, callbacks: Vec<(u32, i64, Callback)>) {
        let mut state = self.lock();
        let mut early = Vec::new();
        for (index, timestamp, callback) in callbacks {
            if index < state.released {
                early.push((index, timestamp, callback));
            } else {
                state.callbacks.push((index, timestamp, callback));
            }
        }
        state.total = Some(count);
        if early.is_empty() {
            self.release_in_order(state);
            return;
        }
        // Records released while their batch was still open (not something the producer
        // does today): their callbacks run now, in order.
        let early: Vec<_> = early
            .into_iter()
            .filter_map(|(index, timestamp, callback)| {
                let outcome = state
                    .outcomes
                    .iter()
                    .find(|o| o.start <= index && index < o.end)
                    .cloned()?;
                Some((index, timestamp, callback, outcome))
            })
            .collect();
        self.release_in_order(state);
        Released {
            callbacks: early,
            wakers: Vec::new(),
        }
        .deliver(&self.topic);
    }

    /// Registers a callback for record `index` (with its CreateTime).
    pub(crate) fn add_callback(&self, index: u32, timestamp: i64, callback: Callback) {
        let mut state = self.lock();
        if index < state.released {
            // Released already (the batch can be answered before the caller gets here).
            let outcome = state
                .outcomes
                .iter()
                .find(|o| o.start <= index && index < o.end)
                .cloned();
            drop(state);
            if let Some(outcome) = outcome {
                callback(metadata(&self.topic, &outcome, index, timestamp));
            }
            return;
        }
        state.callbacks.push((index, timestamp, callback));
    }

    /// Resolves records `start..end`. Their callbacks run and their futures wake once every
    /// earlier record of the partition is released.
    pub(crate) fn resolve(&self, outcome: RangeOutcome) {
        let mut state = self.lock();
        if state
            .outcomes
            .iter()
            .any(|o| o.start < outcome.end && outcome.start < o.end)
        {
            // Already resolved: exactly one outcome per record.
            return;
        }
        state.outcomes.push(outcome);
        self.release_in_order(state);
    }

    /// Releases the resolved ranges that are next in record order (if the previous batch is
    /// done), then, when this batch is done, tells the next one; the callbacks run after
    /// each lock is let go.
    fn release_in_order(&self, mut state: std::sync::MutexGuard<'_, State>) {
        let mut released = Released::default();
        let next = self.take_released(&mut state, &mut released);
        drop(state);
        released.deliver(&self.topic);
        // Walk down the chain without recursion: each done batch frees the next.
        let mut next = next;
        while let Some(completion) = next {
            let mut state = completion.lock();
            state.previous_done = true;
            let mut released = Released::default();
            next = completion.take_released(&mut state, &mut released);
            drop(state);
            released.deliver(&completion.topic);
        }
    }

    /// Moves what may be released now into `released`; returns the next batch when this
    /// one has become done.
    fn take_released(&self, state: &mut State, released: &mut Released) -> Option<Arc<Self>> {
        if !state.previous_done {
            return None;
        }
        let before = state.released;
        while let Some(outcome) = state
            .outcomes
            .iter()
            .find(|o| o.start == state.released)
            .cloned()
        {
            state.released = outcome.end;
            let in_range = |index: u32| outcome.start <= index && index < outcome.end;
            let mut due = std::mem::take(&mut state.callbacks);
            if !due.iter().all(|(index, _, _)| in_range(*index)) {
                let later;
                (due, later) = due.into_iter().partition(|(index, _, _)| in_range(*index));
                state.callbacks = later;
            }
            // Keep the callbacks' order: they run in the order their records were produced.
            due.sort_by_key(|(index, _, _)| *index);
            released.callbacks.extend(
                due.into_iter().map(|(index, timestamp, callback)| {
                    (index, timestamp, callback, outcome.clone())
                }),
            );
        }
        if state.released != before {
            released.wakers.append(&mut state.wakers);
        }
        if state.done() {
            state.next.take()
        } else {
            None
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
        if index < state.released {
            if let Some(outcome) = state
                .outcomes
                .iter()
                .find(|o| o.start <= index && index < o.end)
            {
                return Poll::Ready(metadata(&self.topic, outcome, index, timestamp));
            }
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

/// The outcome slot of a record that waits for its topic's metadata: its own completion
/// (which its future, if any, watches) and its callback. Dropped without being used, it
/// resolves the record with [`Error::Closed`], so a record never goes without an outcome.
pub(crate) struct WaitingOutcome {
    parts: Option<(Arc<Completion>, Option<Callback>)>,
}

impl WaitingOutcome {
    pub(crate) fn new(completion: Arc<Completion>, callback: Option<Callback>) -> Self {
        Self {
            parts: Some((completion, callback)),
        }
    }

    /// Resolves the record with `error`.
    pub(crate) fn fail(mut self, error: &Error) {
        if let Some((completion, callback)) = self.parts.take() {
            fail_waiting(&completion, callback, error);
        }
    }

    /// Hands over the completion and the callback (the record moves into a batch); the
    /// caller now answers for the record's outcome.
    pub(crate) fn into_parts(mut self) -> Option<(Arc<Completion>, Option<Callback>)> {
        self.parts.take()
    }
}

fn fail_waiting(completion: &Completion, callback: Option<Callback>, error: &Error) {
    completion.resolve_rest(1, -1, error);
    if let Some(callback) = callback {
        callback(Err(error.clone()));
    }
}

impl Drop for WaitingOutcome {
    fn drop(&mut self) {
        if let Some((completion, callback)) = self.parts.take() {
            fail_waiting(&completion, callback, &Error::Closed);
        }
    }
}

/// Owns a batch's right to resolve its records; resolves whatever is left with
/// [`Error::Closed`] when dropped unresolved.
pub(crate) struct BatchGuard {
    pub completion: Arc<Completion>,
    /// The partition the batch is for.
    pub partition: i32,
    /// Index (in the completion) of this batch's first record.
    pub first_index: u32,
    /// Number of records of this batch.
    pub count: u32,
    /// Callbacks registered while the batch is open, handed to the completion when it
    /// closes ([`Self::close`]) or, if it never does, when the guard is dropped.
    callbacks: Vec<(u32, i64, Callback)>,
    done: bool,
}

impl std::fmt::Debug for BatchGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchGuard")
            .field("completion", &self.completion)
            .field("partition", &self.partition)
            .field("first_index", &self.first_index)
            .field("count", &self.count)
            .field("callbacks", &self.callbacks.len())
            .field("done", &self.done)
            .finish()
    }
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
            callbacks: Vec::new(),
            done: false,
        }
    }

    /// Keeps `callback` for record `index` until the batch closes.
    pub(crate) fn add_callback(&mut self, index: u32, timestamp: i64, callback: Callback) {
        self.callbacks.push((index, timestamp, callback));
    }

    /// The batch takes no more records: its count and callbacks go to the completion.
    pub(crate) fn close(&mut self) {
        let callbacks = std::mem::take(&mut self.callbacks);
        self.completion.close_with_callbacks(self.count, callbacks);
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
        if !self.callbacks.is_empty() {
            // Dropped open (the producer went away): the callbacks get their outcome below.
            for (index, timestamp, callback) in std::mem::take(&mut self.callbacks) {
                self.completion.add_callback(index, timestamp, callback);
            }
        }
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

    fn ok() -> Result<Acked, Error> {
        Ok(Acked {
            base_offset: 0,
            log_append_time: -1,
        })
    }

    type Order = Arc<Mutex<Vec<(u32, u32)>>>;

    /// Records the order callbacks run in, as `(batch, index)`.
    fn recorder() -> (Order, impl Fn(u32, u32) -> Callback) {
        let order = Arc::new(Mutex::new(Vec::new()));
        let o = Arc::clone(&order);
        let make = move |batch: u32, index: u32| -> Callback {
            let o = Arc::clone(&o);
            Box::new(move |_| o.lock().unwrap().push((batch, index)))
        };
        (order, make)
    }

    #[test]
    fn a_later_batch_of_the_partition_waits_for_the_earlier_one() {
        let (order, callback) = recorder();
        let first = Completion::new("t".into());
        let second = Completion::chain_after(&first);
        let third = Completion::chain_after(&second);
        for (batch, c) in [(0, &first), (1, &second), (2, &third)] {
            for index in 0..2 {
                c.add_callback(index, 0, callback(batch, index));
            }
            c.close(2);
        }
        let future = DeliveryFuture::new(Arc::clone(&third), 1, 0);
        // The answers come in the wrong order: third, second, then first.
        BatchGuard::new(Arc::clone(&third), 0, 0, 2).complete(ok());
        BatchGuard::new(Arc::clone(&second), 0, 0, 2).complete(Err(Error::Closed));
        assert!(
            order.lock().unwrap().is_empty(),
            "released before the first batch"
        );
        let mut future = future;
        let waker = Waker::noop();
        assert!(Pin::new(&mut future)
            .poll(&mut Context::from_waker(waker))
            .is_pending());
        BatchGuard::new(Arc::clone(&first), 0, 0, 2).complete(ok());
        assert_eq!(
            *order.lock().unwrap(),
            vec![(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]
        );
        assert!(block_on(future).is_ok());
    }

    #[test]
    fn a_batch_chained_after_a_done_one_releases_at_once() {
        let (order, callback) = recorder();
        let first = Completion::new("t".into());
        first.close(1);
        BatchGuard::new(Arc::clone(&first), 0, 0, 1).complete(ok());
        let second = Completion::chain_after(&first);
        second.add_callback(0, 0, callback(1, 0));
        BatchGuard::new(Arc::clone(&second), 0, 0, 1).complete(ok());
        assert_eq!(*order.lock().unwrap(), vec![(1, 0)]);
    }

    #[test]
    fn an_open_batch_holds_back_the_next_until_closed_and_done() {
        let (order, callback) = recorder();
        let first = Completion::new("t".into());
        let second = Completion::chain_after(&first);
        second.add_callback(0, 0, callback(1, 0));
        BatchGuard::new(Arc::clone(&first), 0, 0, 3).complete(ok());
        BatchGuard::new(Arc::clone(&second), 0, 0, 1).complete(ok());
        // The first batch's three records are released, but it could still take more.
        assert!(order.lock().unwrap().is_empty());
        first.close(3);
        assert_eq!(*order.lock().unwrap(), vec![(1, 0)]);
    }

    #[test]
    fn a_long_chain_is_released_without_deep_recursion() {
        let first = Completion::new("t".into());
        let mut chain = vec![Arc::clone(&first)];
        for _ in 0..100_000 {
            let next = Completion::chain_after(chain.last().unwrap());
            next.close(1);
            BatchGuard::new(Arc::clone(&next), 0, 0, 1).complete(ok());
            chain.push(next);
        }
        let last = DeliveryFuture::new(Arc::clone(chain.last().unwrap()), 0, 0);
        first.close(1);
        BatchGuard::new(first, 0, 0, 1).complete(ok());
        assert!(block_on(last).is_ok());
    }
}
