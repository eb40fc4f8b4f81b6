//! [`OutcomeOrder`]: checks the order in which a producer reports its records' outcomes.
//!
//! A producer promises that the records of one partition get their outcomes in the order
//! they were produced: callbacks run in that order, and a record's future is never ready
//! while an earlier record of its partition has no outcome. Give each record an index (in
//! produce order, from 0) and a key (its partition, or anything that maps to one partition),
//! report its outcome through [`OutcomeOrder::callback`] or hand its future to
//! [`OutcomeOrder::future`]. Whenever a record's outcome is seen, every earlier record of
//! its key must already have one; a record reported by future counts as having one as soon
//! as the future is ready, which is checked by polling it right then. Anything else is a
//! violation, listed by [`OutcomeOrder::violations`].
//!
//! Independent of any producer: the outcome is any `T`, the future any `Future<Output = T>`.
//!
//! # References
//! - Java `KafkaProducer.send` ("callbacks for records being sent to the same partition are
//!   guaranteed to execute in order")

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

struct State<T> {
    /// Keys of the records registered so far, by index.
    keys: Vec<u64>,
    resolved: Vec<bool>,
    futures: BTreeMap<u64, BoxFuture<T>>,
    /// Outcomes in the order they were seen.
    outcomes: Vec<(u64, T)>,
    violations: Vec<String>,
}

impl<T> State<T> {
    fn register(&mut self, index: u64, key: u64) {
        let next = self.keys.len() as u64;
        if index + 1 == next && !self.resolved[index as usize] {
            // The same record again (its callback was refused, now it has a future).
            self.keys[index as usize] = key;
            return;
        }
        assert_eq!(
            index, next,
            "records must be registered in produce order, from 0"
        );
        self.keys.push(key);
        self.resolved.push(false);
    }

    fn resolve(&mut self, index: u64, outcome: T) {
        let i = index as usize;
        if std::mem::replace(&mut self.resolved[i], true) {
            self.violations
                .push(format!("record {index} got a second outcome"));
            return;
        }
        self.futures.remove(&index);
        let key = self.keys[i];
        let earlier: Vec<u64> = (0..index)
            .rev()
            .filter(|j| self.keys[*j as usize] == key)
            .take_while(|j| !self.resolved[*j as usize])
            .collect();
        // Oldest first, so each earlier record is checked against its own predecessors.
        for j in earlier.into_iter().rev() {
            let ready = self.futures.get_mut(&j).and_then(|f| {
                match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                    Poll::Ready(outcome) => Some(outcome),
                    Poll::Pending => None,
                }
            });
            match ready {
                Some(outcome) => self.resolve(j, outcome),
                None => self.violations.push(format!(
                    "record {index} (key {key}) got its outcome before record {j}"
                )),
            }
        }
        self.outcomes.push((index, outcome));
    }
}

/// Checks that the records of one key (partition) get their outcomes in produce order.
///
/// Give each record an index (in produce order, from 0) and a key, report its outcome
/// through [`OutcomeOrder::callback`] or hand its future to [`OutcomeOrder::future`].
/// Whenever a record's outcome is seen, every earlier record of its key must already have
/// one (a future counts as soon as it is ready, checked by polling it then); anything else
/// is listed by [`OutcomeOrder::violations`]. Shared by a test and the callbacks it hands a
/// producer.
pub struct OutcomeOrder<T> {
    state: Arc<Mutex<State<T>>>,
}

impl<T> Clone for OutcomeOrder<T> {
    fn clone(&self) -> Self {
        Self {
            state: Arc::clone(&self.state),
        }
    }
}

impl<T> Default for OutcomeOrder<T> {
    fn default() -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                keys: Vec::new(),
                resolved: Vec::new(),
                futures: BTreeMap::new(),
                outcomes: Vec::new(),
                violations: Vec::new(),
            })),
        }
    }
}

impl<T> std::fmt::Debug for OutcomeOrder<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("OutcomeOrder")
            .field("records", &state.keys.len())
            .field("outcomes", &state.outcomes.len())
            .field("violations", &state.violations.len())
            .finish()
    }
}

impl<T: Send + 'static> OutcomeOrder<T> {
    /// An empty watch.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers record `index` of `key` and returns the callback that reports its outcome.
    /// Indexes come in produce order from 0; registering the last index again (its callback
    /// was refused and dropped) is allowed.
    pub fn callback(&self, index: u64, key: u64) -> impl FnOnce(T) + Send + 'static {
        self.lock().register(index, key);
        let watch = self.clone();
        move |outcome| watch.lock().resolve(index, outcome)
    }

    /// Registers record `index` of `key`, which reports through `future`.
    pub fn future(&self, index: u64, key: u64, future: impl Future<Output = T> + Send + 'static) {
        let mut state = self.lock();
        state.register(index, key);
        state.futures.insert(index, Box::pin(future));
    }

    /// Registers record `index` of `key`, which got `outcome` at once (it was refused before
    /// anything was sent).
    pub fn resolved_at_once(&self, index: u64, key: u64, outcome: T) {
        let mut state = self.lock();
        state.register(index, key);
        state.resolve(index, outcome);
    }

    /// Polls record `index`'s future with `cx` (so a task can await it); ready once the
    /// record has an outcome (or was never registered with a future).
    pub fn poll_record(&self, index: u64, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        if state.resolved.get(index as usize).is_none_or(|r| *r) {
            return Poll::Ready(());
        }
        let Some(future) = state.futures.get_mut(&index) else {
            // Reported by callback: this task is not woken for it; look again soon.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        };
        match future.as_mut().poll(cx) {
            Poll::Ready(outcome) => {
                state.resolve(index, outcome);
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }

    /// Polls every unresolved future once, in produce order.
    pub fn check_futures(&self) {
        let mut state = self.lock();
        let indexes: Vec<u64> = state.futures.keys().copied().collect();
        for index in indexes {
            let ready = state.futures.get_mut(&index).and_then(|f| {
                match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
                    Poll::Ready(outcome) => Some(outcome),
                    Poll::Pending => None,
                }
            });
            if let Some(outcome) = ready {
                state.resolve(index, outcome);
            }
        }
    }

    /// Records registered that have no outcome yet.
    pub fn unresolved(&self) -> usize {
        self.lock().resolved.iter().filter(|r| !**r).count()
    }

    /// Every out-of-order or repeated outcome seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }

    /// Takes the outcomes seen so far, in the order they were seen.
    pub fn take_outcomes(&self) -> Vec<(u64, T)> {
        std::mem::take(&mut self.lock().outcomes)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    /// A future that is ready once its flag is set.
    struct Flag(Arc<AtomicBool>, u32);

    impl Future for Flag {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u32> {
            if self.0.load(Ordering::SeqCst) {
                Poll::Ready(self.1)
            } else {
                Poll::Pending
            }
        }
    }

    #[test]
    fn in_order_outcomes_pass_and_a_later_record_first_is_a_violation() {
        let watch = OutcomeOrder::<u32>::new();
        let first = Arc::new(AtomicBool::new(false));
        watch.future(0, 1, Flag(Arc::clone(&first), 0));
        let second = watch.callback(1, 1);
        let other_key = watch.callback(2, 2);
        other_key(2);
        assert!(watch.violations().is_empty(), "another key is independent");
        first.store(true, Ordering::SeqCst);
        second(1);
        assert!(watch.violations().is_empty(), "{:?}", watch.violations());
        let seen: Vec<u64> = watch.take_outcomes().iter().map(|(i, _)| *i).collect();
        assert_eq!(seen, [2, 0, 1]);

        let late = watch.callback(3, 1);
        let pending = Arc::new(AtomicBool::new(false));
        watch.future(4, 1, Flag(Arc::clone(&pending), 4));
        let early = watch.callback(5, 1);
        early(5);
        assert_eq!(watch.violations().len(), 2, "{:?}", watch.violations());
        late(3);
        assert_eq!(watch.unresolved(), 1);
    }

    #[test]
    fn a_refused_callback_can_be_replaced_by_a_future() {
        let watch = OutcomeOrder::<u32>::new();
        drop(watch.callback(0, 1));
        let ready = Arc::new(AtomicBool::new(true));
        watch.future(0, 1, Flag(ready, 7));
        watch.check_futures();
        assert_eq!(watch.unresolved(), 0);
        assert_eq!(watch.take_outcomes(), vec![(0, 7)]);
    }
}
