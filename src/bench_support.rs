//! Benchmark access to the producer core (only with the `bench-internals` feature; not a
//! stable API). [`CoreBench`] drives the real sans-IO core — `produce()` into the
//! accumulator, the sender's drain / batch finishing / request encoding, and its handling
//! of answers — against the simulated cluster of the unit tests, without sockets, and
//! times each phase separately so that the simulated broker's own work is not counted as
//! the client's.
//!
//! # References
//! - `src/sim.rs` (the simulated cluster), `benches/hot_path.rs` (the benchmarks)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kiel_protocol::Compression;

use crate::config::ProducerConfig;
use crate::partitioner::PartitionerKind;
use crate::record::Record;
use crate::sender::Sender;
use crate::shared::Shared;
use crate::sim::{Faults, SimCluster};

/// Wall-clock time spent in each phase of one [`CoreBench::round`].
#[derive(Debug, Clone, Copy, Default)]
pub struct PhaseTimes {
    /// `produce()` calls: validation, partitioning, appending to open batches.
    pub produce: Duration,
    /// The sender's polls: draining ready batches, finishing them (sequence numbers,
    /// compression, CRC) and encoding Produce requests.
    pub finish: Duration,
    /// The sender's handling of answers: decoding Produce responses and completing every
    /// record's delivery.
    pub responses: Duration,
    /// The simulated broker (decoding requests, checking batches, answering): not the
    /// client's cost, reported for completeness.
    pub broker: Duration,
}

/// The producer core wired to a simulated 3-broker cluster with one topic.
pub struct CoreBench {
    shared: Arc<Shared>,
    sender: Sender,
    sim: SimCluster,
    value: Bytes,
    /// `Some` when every record is produced with a callback (counting its outcomes here)
    /// instead of a future.
    callback_outcomes: Option<Arc<AtomicUsize>>,
}

/// The topic every round produces to.
const TOPIC: &str = "bench";

impl CoreBench {
    /// A core with idempotence on (the default), `compression`, 6 partitions, and records
    /// of `value_size` bytes; metadata and the producer id are fetched before it returns.
    pub fn new(compression: Compression, value_size: usize) -> Self {
        let config = ProducerConfig {
            bootstrap_servers: vec!["broker-1:9092".into()],
            linger: Duration::from_millis(5),
            batch_size: 64 * 1024,
            compression,
            delivery_timeout: Duration::from_secs(600),
            ..ProducerConfig::default()
        };
        let partitioner = PartitionerKind::default().build(config.batch_size);
        let shared = Shared::new(Arc::new(config), partitioner);
        let sender = Sender::new(Arc::clone(&shared)).with_seed(1);
        let mut sim = SimCluster::new(1, 3, Faults::default());
        sim.create_topic(TOPIC, 6);
        let value = Bytes::from(vec![b'x'; value_size]);
        let mut bench = Self {
            shared,
            sender,
            sim,
            value,
            callback_outcomes: None,
        };
        bench.round(1);
        bench
    }

    /// Produces every record with a callback (as `Producer::produce_with_callback` does)
    /// instead of a future, so that callbacks are stored and run in the timed phases.
    pub fn with_callbacks(mut self) -> Self {
        self.callback_outcomes = Some(Arc::new(AtomicUsize::new(0)));
        self
    }

    /// Outcomes the callbacks have seen so far (0 without [`Self::with_callbacks`]).
    pub fn callback_outcomes(&self) -> usize {
        self.callback_outcomes
            .as_ref()
            .map_or(0, |n| n.load(Ordering::Relaxed))
    }

    /// Produces `records` records and drives the core until every one is acknowledged.
    pub fn round(&mut self, records: usize) -> PhaseTimes {
        let mut times = PhaseTimes::default();
        let started = Instant::now();
        for _ in 0..records {
            let record = Record::value(self.value.clone());
            // Without callbacks the future is dropped: the outcome still completes the
            // batch's shared state.
            let callback = self.callback_outcomes.as_ref().map(|outcomes| {
                let outcomes = Arc::clone(outcomes);
                Box::new(move |_| {
                    outcomes.fetch_add(1, Ordering::Relaxed);
                }) as crate::delivery::Callback
            });
            let produced = self
                .shared
                .produce_at(TOPIC, record, callback, self.sim.now);
            if let Err(e) = produced {
                panic!("produce into the simulated core: {e}");
            }
        }
        times.produce = started.elapsed();
        let give_up = self.sim.now + Duration::from_secs(600);
        loop {
            let started = Instant::now();
            let actions = self.sender.poll(self.sim.now);
            times.finish += started.elapsed();
            let started = Instant::now();
            for action in actions {
                self.sim.apply(action);
            }
            times.broker += started.elapsed();
            if self.shared.outstanding() == 0 {
                return times;
            }
            assert!(self.sim.now < give_up, "the simulated core stalled");
            let next = [
                self.sender.next_wakeup(self.sim.now),
                self.sim.next_event_at(),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(give_up);
            self.sim.now = next.max(self.sim.now + Duration::from_micros(100));
            let events = self.sim.due_events();
            let started = Instant::now();
            for event in events {
                self.sender.handle_event(event, self.sim.now);
            }
            times.responses += started.elapsed();
        }
    }
}
