//! Watches the order in which records get their outcomes: callbacks as they run, futures as
//! they are first seen ready. Records of one key go to one partition, so when one of them is
//! resolved every earlier record of its key must already be resolved (a batch resolves all
//! its records at once, and its callbacks run in produce order).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::delivery::Callback;
use crate::{DeliveryFuture, Error, RecordMetadata};

/// One record's outcome and the record's index.
pub(super) type Outcome = (u64, Result<RecordMetadata, Error>);

#[derive(Default)]
struct State {
    /// Keys of the records produced so far, by index.
    keys: Vec<u64>,
    resolved: Vec<bool>,
    futures: BTreeMap<u64, DeliveryFuture>,
    /// Outcomes in the order they were seen.
    outcomes: Vec<Outcome>,
    violations: Vec<String>,
    /// Records without an outcome at the last look at the futures.
    outstanding_at_last_check: Option<usize>,
}

/// Shared by the test and the callbacks it hands the producer.
#[derive(Clone, Default)]
pub(super) struct OrderWatch {
    state: Arc<Mutex<State>>,
}

fn poll_once(future: &mut DeliveryFuture) -> Option<Result<RecordMetadata, Error>> {
    match std::pin::Pin::new(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => Some(r),
        Poll::Pending => None,
    }
}

impl State {
    fn resolve(&mut self, index: u64, result: Result<RecordMetadata, Error>) {
        let i = index as usize;
        if std::mem::replace(&mut self.resolved[i], true) {
            self.violations
                .push(format!("record {index} resolved twice"));
        }
        self.outcomes.push((index, result));
        let key = self.keys[i];
        for earlier in (0..index).rev().filter(|j| self.keys[*j as usize] == key) {
            if self.resolved[earlier as usize] {
                // Everything before `earlier` was checked when `earlier` was resolved.
                break;
            }
            match self.futures.get_mut(&earlier).and_then(poll_once) {
                Some(r) => {
                    self.futures.remove(&earlier);
                    self.resolve(earlier, r);
                    break;
                }
                None => self.violations.push(format!(
                    "record {index} (key {key}) resolved before record {earlier}"
                )),
            }
        }
    }
}

impl OrderWatch {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers record `index` of `key` (indexes must come in order, from 0) and returns
    /// the callback that reports it, for a record produced with one.
    pub(super) fn callback(&self, index: u64, key: u64) -> Callback {
        self.register(index, key);
        let watch = self.clone();
        Box::new(move |r| watch.lock().resolve(index, r))
    }

    /// Registers record `index` of `key`, which reports through `future`.
    pub(super) fn future(&self, index: u64, key: u64, future: DeliveryFuture) {
        self.register(index, key);
        self.lock().futures.insert(index, future);
    }

    fn register(&self, index: u64, key: u64) {
        let mut state = self.lock();
        assert_eq!(
            state.keys.len() as u64,
            index,
            "records registered out of order"
        );
        state.keys.push(key);
        state.resolved.push(false);
    }

    /// Polls every unresolved future once, in produce order, if records got outcomes since
    /// the last look (`outstanding` is the producer's count of records without one).
    pub(super) fn check_futures_if_changed(&self, outstanding: usize) {
        let mut state = self.lock();
        if state.outstanding_at_last_check == Some(outstanding) {
            return;
        }
        state.outstanding_at_last_check = Some(outstanding);
        drop(state);
        self.check_futures();
    }

    /// Polls every unresolved future once, in produce order.
    pub(super) fn check_futures(&self) {
        let mut state = self.lock();
        let indexes: Vec<u64> = state.futures.keys().copied().collect();
        for index in indexes {
            let Some(result) = state.futures.get_mut(&index).and_then(poll_once) else {
                continue;
            };
            state.futures.remove(&index);
            if !state.resolved[index as usize] {
                state.resolve(index, result);
            }
        }
    }

    /// Outcomes in the order they were seen, after a last look at the futures.
    pub(super) fn outcomes(&self) -> Vec<Outcome> {
        self.check_futures();
        self.lock().outcomes.clone()
    }

    /// Every out-of-order resolution seen.
    pub(super) fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }
}

#[test]
fn the_watch_sees_a_record_resolved_before_an_earlier_one() {
    use crate::delivery::{Acked, BatchGuard, Completion};
    let watch = OrderWatch::default();
    // Records 0 and 1 of one key in two batches that are not chained, so nothing holds
    // back the later one, which is resolved first.
    let first = Completion::new("t".into());
    let second = Completion::new("t".into());
    watch.future(0, 7, DeliveryFuture::new(Arc::clone(&first), 0, 0));
    second.add_callback(0, 0, watch.callback(1, 7));
    let ok = || {
        Ok(Acked {
            base_offset: 0,
            log_append_time: -1,
        })
    };
    BatchGuard::new(Arc::clone(&second), 0, 0, 1).complete(ok());
    BatchGuard::new(Arc::clone(&first), 0, 0, 1).complete(ok());
    watch.check_futures();
    assert_eq!(watch.violations().len(), 1, "{:?}", watch.violations());
    assert_eq!(watch.outcomes().len(), 2);
}
