//! The producer core (cluster state, unsent, sent, idempotence) driven against the simulated
//! cluster in virtual time: no sockets, no sleeps. Each faulty run is seeded; a failing seed
//! is printed and replays exactly with `KIEL_SIM_SEED=<seed>`.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use crate::config::{Acks, ProducerConfig};
use crate::partitioner::PartitionerKind;
use crate::record::Record;
use crate::sender::Sender;
use crate::shared::Shared;
use crate::sim::{Faults, Outcomes, SimCluster};

use crate::Error;
use kiel_testcontainers::OutcomeOrder;

mod transactions;

/// The order watch of the simulation's records.
type OrderWatch = OutcomeOrder<Result<crate::RecordMetadata, Error>>;

fn config(idempotent: bool) -> ProducerConfig {
    let mut c = ProducerConfig {
        bootstrap_servers: vec!["broker-1:9092".into()],
        linger: Duration::from_millis(5),
        batch_size: 512,
        request_timeout: Duration::from_secs(5),
        delivery_timeout: Duration::from_secs(600),
        ..ProducerConfig::default()
    };
    if !idempotent {
        c.enable_idempotence = Some(false);
        c.acks = Acks::Leader;
    }
    c
}

struct Run {
    shared: Arc<Shared>,
    sender: Sender,
    sim: SimCluster,
    /// Outcomes of the records `produce_all` produced, and the order they came in.
    watch: OrderWatch,
    /// Outcomes of records produced by hand in single tests.
    outcomes: Outcomes,
}

fn setup(seed: u64, faults: Faults, config: ProducerConfig, partitions: usize) -> Run {
    let partitioner = PartitionerKind::default().build(config.batch_size);
    let shared = Shared::new(Arc::new(config), partitioner);
    let sender = Sender::new(Arc::clone(&shared)).with_seed(seed);
    let mut sim = SimCluster::new(seed, 3, faults);
    sim.create_topic("t", partitions);
    Run {
        shared,
        sender,
        sim,
        watch: OrderWatch::default(),
        outcomes: Arc::new(Mutex::new(Vec::new())),
    }
}

/// Runs the simulation until every record has its outcome, for at most `limit` of virtual
/// time; false if some are still outstanding then. The futures of `produce_all`'s records
/// are looked at after every step, so the order they become ready in is checked.
fn run_until_idle(run: &mut Run, limit: Duration) -> bool {
    let shared = Arc::clone(&run.shared);
    let watch = run.watch.clone();
    let mut outstanding = None;
    run.sim.run(&mut run.sender, limit, || {
        check_futures_if_changed(&watch, &shared, &mut outstanding);
        shared.outstanding() == 0
    })
}

/// Polls the futures of `produce_all`'s records when records got outcomes since the last
/// look (`outstanding` remembers the producer's count then).
fn check_futures_if_changed(watch: &OrderWatch, shared: &Shared, outstanding: &mut Option<usize>) {
    let now = shared.outstanding();
    if *outstanding != Some(now) {
        *outstanding = Some(now);
        watch.check_futures();
    }
}

/// Produces `n` keyed records whose values are their index, in bursts over virtual time.
/// Every third record reports through its future, the others through callbacks.
fn produce_all(run: &mut Run, n: u64) {
    let mut produced = 0;
    while produced < n {
        let burst = 50.min(n - produced);
        for i in produced..produced + burst {
            let key = i % 17;
            let record = Record::key_value(format!("key-{key}"), i.to_string())
                .with_timestamp(1_700_000_000_000 + i as i64);
            let by_future = i % 3 == 1;
            let callback = (!by_future)
                .then(|| Box::new(run.watch.callback(i, key)) as crate::delivery::Callback);
            let future = run
                .shared
                .produce_at("t", record, callback, run.sim.now)
                .unwrap_or_else(|e| panic!("produce {i}: {e}"));
            if let Some(future) = future {
                run.watch.future(i, key, future);
            }
        }
        produced += burst;
        let shared = Arc::clone(&run.shared);
        let watch = run.watch.clone();
        // Let some virtual time pass between bursts.
        let mut ticks = 0;
        let mut outstanding = None;
        run.sim.run(&mut run.sender, Duration::from_millis(3), || {
            check_futures_if_changed(&watch, &shared, &mut outstanding);
            ticks += 1;
            ticks > 1 && shared.outstanding() == 0
        });
    }
    assert!(
        run_until_idle(run, Duration::from_secs(3600)),
        "records still outstanding after an hour of virtual time: {}",
        run.shared.outstanding()
    );
}

/// Checks: every record has exactly one outcome; each partition's log holds every
/// acknowledged record once, in produce order, at the offset its outcome reported; records
/// reported failed are not in the log (unless `allow_failures` is false, when any failure is
/// an error). Returns how many failed.
/// The index a simulated record carries as its value (`u64::MAX` if it carries none).
fn record_index(record: &(Option<Bytes>, Option<Bytes>)) -> u64 {
    record
        .1
        .as_ref()
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX)
}

fn check_exactly_once_in_order(run: &Run, n: u64) -> Result<(), String> {
    check_outcomes(run, n, false).map(|_| ())
}

fn check_outcomes(run: &Run, n: u64, allow_failures: bool) -> Result<usize, String> {
    let violations = run.watch.violations();
    if let Some(first) = violations.first() {
        return Err(format!(
            "{} outcomes out of produce order, the first: {first}",
            violations.len()
        ));
    }
    run.watch.check_futures();
    let outcomes = run.watch.take_outcomes();
    if outcomes.len() as u64 != n {
        return Err(format!("{} outcomes for {n} records", outcomes.len()));
    }
    let mut seen = vec![false; n as usize];
    let mut failed = HashSet::new();
    for (i, r) in outcomes.iter() {
        if std::mem::replace(&mut seen[*i as usize], true) {
            return Err(format!("record {i} has two outcomes"));
        }
        let m = match r {
            Ok(m) => m,
            Err(e) if allow_failures => {
                failed.insert(*i);
                let _ = e;
                continue;
            }
            Err(e) => return Err(format!("record {i} failed: {e}")),
        };
        let log = &run.sim.topics["t"][m.partition as usize].log;
        let at = log
            .get(m.offset as usize)
            .ok_or_else(|| format!("record {i}: offset {} beyond the log", m.offset))?;
        if at.1.as_deref() != Some(i.to_string().as_bytes()) {
            return Err(format!("record {i}: offset {} holds {:?}", m.offset, at.1));
        }
    }
    for (p, partition) in run.sim.topics["t"].iter().enumerate() {
        let values: Vec<u64> = partition.log.iter().map(record_index).collect();
        if let Some(v) = values.iter().find(|v| failed.contains(v)) {
            return Err(format!(
                "record {v} was reported failed but is in partition {p}"
            ));
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != values.len() {
            return Err(format!("partition {p} holds duplicates"));
        }
        if sorted != values {
            let at = values.windows(2).position(|w| w[0] > w[1]).unwrap_or(0);
            return Err(format!(
                "partition {p} is out of produce order at offset {}: {:?}",
                at + 1,
                &values[at.saturating_sub(3)..(at + 4).min(values.len())]
            ));
        }
    }
    let total: usize = run.sim.topics["t"].iter().map(|p| p.log.len()).sum();
    if total as u64 + failed.len() as u64 != n {
        return Err(format!(
            "the logs hold {total} records, {n} were produced and {} failed",
            failed.len()
        ));
    }
    Ok(failed.len())
}

#[test]
fn every_record_lands_once_in_order_without_faults() {
    let mut run = setup(1, Faults::default(), config(true), 6);
    produce_all(&mut run, 2_000);
    check_exactly_once_in_order(&run, 2_000).unwrap_or_else(|e| panic!("{e}"));
    // One request per broker carries many partitions: far fewer batches than records.
    assert!(
        run.sim.appended_batches < 400,
        "{} batches",
        run.sim.appended_batches
    );
}

#[test]
fn a_lone_record_waits_for_linger() {
    let mut run = setup(2, Faults::default(), config(true), 1);
    // Let the producer learn the cluster and its producer id first.
    run.shared
        .produce_at("t", Record::value("warm-up"), None, run.sim.now)
        .map(drop)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(run_until_idle(&mut run, Duration::from_secs(5)));
    let start = run.sim.now;
    run.shared
        .produce_at("t", Record::value("x"), None, start)
        .map(drop)
        .unwrap_or_else(|e| panic!("{e}"));
    run.sim
        .run(&mut run.sender, Duration::from_millis(4), || false);
    assert_eq!(
        run.sim.topics["t"][0].log.len(),
        1,
        "sent before linger.ms passed"
    );
    assert!(run_until_idle(&mut run, Duration::from_millis(50)));
    assert_eq!(run.sim.topics["t"][0].log.len(), 2);
}

#[test]
fn unknown_topic_fails_after_max_block_with_a_clear_error() {
    let mut c = config(true);
    c.max_block = Duration::from_secs(2);
    let mut run = setup(3, Faults::default(), c, 1);
    let outcomes = Arc::clone(&run.outcomes);
    run.shared
        .produce_at(
            "missing",
            Record::value("v"),
            Some(Box::new(move |r| {
                outcomes
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((0, r))
            })),
            run.sim.now,
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(run_until_idle(&mut run, Duration::from_secs(10)));
    let outcomes = run.outcomes.lock().unwrap_or_else(|p| p.into_inner());
    assert!(
        matches!(&outcomes[..], [(0, Err(Error::TopicNotFound { topic, .. }))] if topic == "missing"),
        "{outcomes:?}"
    );
}

/// Polls a delivery future once (the simulation has run, so it is resolved or never will be).
fn poll_once(future: &mut crate::DeliveryFuture) -> Option<Result<crate::RecordMetadata, Error>> {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};
    match std::pin::Pin::new(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => Some(r),
        Poll::Pending => None,
    }
}

#[test]
fn a_forbidden_topic_fails_every_waiting_record_through_its_callback_or_future() {
    let mut run = setup(4, Faults::default(), config(true), 1);
    run.sim.forbid_topic("secret");
    let mut futures = Vec::new();
    for i in 0..4u64 {
        let outcomes = Arc::clone(&run.outcomes);
        let callback: crate::delivery::Callback = Box::new(move |r| {
            outcomes
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push((i, r))
        });
        // Even records get callbacks, odd ones futures.
        let produced = run
            .shared
            .produce_at(
                "secret",
                Record::value("v"),
                (i % 2 == 0).then_some(callback),
                run.sim.now,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(produced.is_some(), i % 2 == 1, "record {i}");
        futures.extend(produced);
    }
    assert!(run_until_idle(&mut run, Duration::from_secs(10)));
    let refused = |r: &Result<crate::RecordMetadata, Error>| matches!(r, Err(Error::Broker { code: kiel_protocol::ErrorCode::TopicAuthorizationFailed, topic, .. }) if topic == "secret");
    let outcomes = run.outcomes.lock().unwrap_or_else(|p| p.into_inner());
    let indexes: Vec<u64> = outcomes.iter().map(|(i, _)| *i).collect();
    assert_eq!(indexes, [0, 2], "{outcomes:?}");
    assert!(outcomes.iter().all(|(_, r)| refused(r)), "{outcomes:?}");
    for mut future in futures {
        let outcome = poll_once(&mut future);
        assert!(outcome.as_ref().is_some_and(refused), "{outcome:?}");
    }
    assert_eq!(run.shared.memory_used(), 0);
}

#[test]
fn records_waiting_for_metadata_hold_a_share_of_buffer_memory_bookkeeping_included() {
    let mut c = config(true);
    c.buffer_memory = 64 * 1024;
    let mut run = setup(5, Faults::default(), c, 3);
    let value = Bytes::from(vec![b'x'; 100]);
    let size = crate::accumulator::record_size(&Record::value(value.clone()));
    let mut futures = Vec::new();
    let refused = loop {
        match run
            .shared
            .produce_at("t", Record::value(value.clone()), None, run.sim.now)
        {
            Ok(future) => futures.extend(future),
            Err(e) => break e,
        }
    };
    assert!(
        matches!(&refused, Error::MetadataWaitFull { topic, .. } if topic == "t"),
        "{refused}"
    );
    let waiting = futures.len();
    // Each waiting record holds its bytes and its waiting entry, and all of them together
    // at most their share of the buffer.
    let share = run.shared.metadata_wait_bytes();
    assert_eq!(share, 8 * 1024);
    let charged = waiting * (size + crate::shared::WAITING_COST);
    assert!(
        charged <= share,
        "{waiting} records of {size} B charged {charged} B"
    );
    assert!(
        charged + size + crate::shared::WAITING_COST > share,
        "{waiting} records"
    );
    assert_eq!(run.shared.memory_used(), charged);
    // Once the topic is known, the records sit in batches and the waiting entries are free.
    assert!(run_until_idle(&mut run, Duration::from_secs(10)));
    for mut future in futures {
        let outcome = poll_once(&mut future);
        assert!(matches!(outcome, Some(Ok(_))), "{outcome:?}");
    }
    assert_eq!(run.shared.memory_used(), 0);
    // Produced into known partitions, the same buffer takes more of the same records.
    let mut in_batches = 0;
    while run
        .shared
        .produce_at("t", Record::value(value.clone()), None, run.sim.now)
        .is_ok()
    {
        in_batches += 1;
    }
    assert_eq!(in_batches, 64 * 1024 / size, "waiting: {waiting}");
}

fn faulty() -> Faults {
    Faults {
        lose_response: 0.03,
        drop_request: 0.02,
        swallow_response: 0.005,
        retriable_error: 0.05,
        fatal_error: 0.0,
        leader_move: 0.01,
        connect_failure: 0.05,
        max_extra_latency_ms: 20,
        coordinator_error: 0.0,
        transaction_abortable: 0.0,
    }
}

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("KIEL_SIM_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let count = std::env::var("KIEL_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000u64);
    (0..count).collect()
}

#[test]
fn idempotent_producer_survives_seeded_faults_without_loss_duplicates_or_reordering() {
    for seed in seeds() {
        let mut run = setup(seed, faulty(), config(true), 4);
        produce_all(&mut run, 300);
        if let Err(e) = check_exactly_once_in_order(&run, 300) {
            panic!("seed {seed} failed: {e}\nreplay: KIEL_SIM_SEED={seed} cargo test -p kiel idempotent_producer_survives");
        }
    }
}

#[test]
fn batches_that_fail_for_good_restart_the_sequences_and_the_rest_stay_exactly_once() {
    let faults = Faults {
        fatal_error: 0.02,
        ..faulty()
    };
    let mut total_failed = 0;
    let seeds: Vec<u64> = seeds().into_iter().take(500).collect();
    for &seed in &seeds {
        let mut run = setup(seed, faults, config(true), 4);
        produce_all(&mut run, 300);
        match check_outcomes(&run, 300, true) {
            Ok(failed) => total_failed += failed,
            Err(e) => panic!(
                "seed {seed} failed: {e}\nreplay: KIEL_SIM_SEED={seed} cargo test -p kiel batches_that_fail_for_good"
            ),
        }
    }
    assert!(
        total_failed > 0,
        "the fault never fired: the test would test nothing"
    );
}

#[test]
fn without_idempotence_every_record_still_gets_one_outcome() {
    let mut duplicated_runs = 0;
    let mut injected = 0;
    for seed in 0..50 {
        let mut run = setup(seed, faulty(), config(false), 4);
        produce_all(&mut run, 200);
        run.watch.check_futures();
        assert_eq!(run.watch.take_outcomes().len(), 200, "seed {seed}");
        // Without idempotence a retried batch may land after a later one: order is not
        // promised, so only the count is checked.
        let total: usize = run.sim.topics["t"].iter().map(|p| p.log.len()).sum();
        if total > 200 {
            duplicated_runs += 1;
        }
        injected += run.sim.errors.values().sum::<usize>();
    }
    // Lost responses make a plain producer write some batches twice: that is what
    // idempotence buys. The count is reported, not hidden.
    eprintln!("runs with duplicates without idempotence: {duplicated_runs}/50");
    assert!(
        injected > 0,
        "no broker error was injected: the test would test nothing"
    );
    let _ = Bytes::new();
}

#[test]
fn a_negative_timestamp_is_refused_before_anything_is_sent() {
    let mut run = setup(6, Faults::default(), config(true), 1);
    let refused = run
        .shared
        .produce_at(
            "t",
            Record::value("v").with_timestamp(-5),
            None,
            run.sim.now,
        )
        .map(drop);
    assert!(
        matches!(refused, Err(Error::InvalidTimestamp(-5))),
        "{refused:?}"
    );
    assert_eq!(run.shared.outstanding(), 0);
    assert_eq!(run.shared.memory_used(), 0);
    assert!(run_until_idle(&mut run, Duration::from_secs(5)));
    assert!(run.sim.topics["t"][0].log.is_empty());
}

#[test]
fn records_for_a_broker_that_is_not_kafka_fail_at_once_and_the_rest_are_delivered() {
    let mut run = setup(7, Faults::default(), config(true), 3);
    // Broker 2 leads partition 1; its address now answers as an HTTP server.
    run.sim.replace_with_not_kafka(2);
    let watch = run.watch.clone();
    for i in 0..30u64 {
        let record = Record::value(i.to_string()).with_partition((i % 3) as i32);
        let callback = Box::new(watch.callback(i, i % 3)) as crate::delivery::Callback;
        run.shared
            .produce_at("t", record, Some(callback), run.sim.now)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // Far less than delivery.timeout.ms (600 s in these tests).
    assert!(run_until_idle(&mut run, Duration::from_secs(5)));
    let outcomes = watch.take_outcomes();
    assert_eq!(outcomes.len(), 30);
    for (i, outcome) in outcomes {
        match (i % 3, outcome) {
            (1, Err(Error::Connection { cause, .. })) => {
                assert!(cause.is_fatal(), "record {i}: {cause}");
            }
            (1, other) => panic!("record {i} for the broker that is not Kafka: {other:?}"),
            (_, outcome) => assert!(outcome.is_ok(), "record {i}: {outcome:?}"),
        }
    }
    assert!(watch.violations().is_empty(), "{:?}", watch.violations());
}
