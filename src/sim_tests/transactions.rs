//! Transactions against the simulated coordinator, in virtual time, on thousands of seeds:
//! the coordinator moves, loads and is busy, responses (EndTxn's too) are lost, leaders move
//! and brokers refuse for a while. After every commit or abort each record of the
//! transaction has its outcome, and at the end a `read_committed` reader of every partition
//! sees exactly the records of the committed transactions, once each, in produce order.
//! Classic transactions (version 1) and version 2 (KIP-890: epoch bumped by every EndTxn).
//!
//! Besides the coordinator's faults, the coordinator answers TRANSACTION_ABORTABLE now and
//! then (the transaction is aborted and the producer goes on), and some transactions end
//! badly on purpose: a successor with the same `transactional.id` fences the producer
//! mid-transaction, or the producer idles past `transaction.timeout.ms` and the coordinator
//! aborts the transaction with an epoch bump. Either way the producer's commit or abort (or
//! the next one's) is the fatal fenced error, none of the transaction's records is visible,
//! and a new producer with the same id takes over.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::oneshot;

use super::{config, faulty, record_index, seeds, setup, Run};
use crate::config::ProducerConfig;
use crate::delivery::DeliveryFuture;
use crate::partitioner::PartitionerKind;
use crate::record::Record;
use crate::sender::Sender;
use crate::shared::Shared;
use crate::transaction::TransactionError;
use crate::Error;
use std::sync::Arc;

const PARTITIONS: usize = 4;

/// The producer's `transaction.timeout.ms` (virtual time).
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(20);

fn transactional_faults() -> crate::sim::Faults {
    crate::sim::Faults {
        coordinator_error: 0.1,
        transaction_abortable: 0.01,
        fatal_error: 0.003,
        ..faulty()
    }
}

/// A transactional producer (its shared side and sender) for the simulated cluster, as
/// `setup` makes one: a successor with the same configuration after a fence.
fn producer(config: &ProducerConfig, seed: u64) -> (Arc<Shared>, Sender) {
    let partitioner = PartitionerKind::default().build(config.batch_size);
    let shared = Shared::new(Arc::new(config.clone()), partitioner);
    let sender = Sender::new(Arc::clone(&shared)).with_seed(seed);
    (shared, sender)
}

/// What a transaction is put through besides the seeded faults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ordeal {
    None,
    /// A successor's InitProducerId fences the producer before it commits or aborts.
    Fenced,
    /// The producer idles past `transaction.timeout.ms` before it commits or aborts.
    TimedOut,
}

type Answer = oneshot::Receiver<Result<(), Error>>;

/// Runs the simulation until the transaction manager answers `answer`; `None` if it has
/// not within an hour of virtual time.
fn until_answered(run: &mut Run, answer: &mut Answer) -> Option<Result<(), Error>> {
    let mut got = None;
    run.sim.run(&mut run.sender, Duration::from_secs(3600), || {
        match answer.try_recv() {
            Ok(result) => got = Some(result),
            Err(oneshot::error::TryRecvError::Closed) => got = Some(Err(Error::Closed)),
            Err(oneshot::error::TryRecvError::Empty) => {}
        }
        got.is_some()
    });
    got
}

/// Calls the transaction manager and runs until it answers.
fn call(
    run: &mut Run,
    what: &str,
    f: impl FnOnce(&mut crate::transaction::TransactionManager, crate::transaction::Waiter),
) -> Result<(), Error> {
    let (waiter, mut answer) = oneshot::channel();
    {
        let mut manager = run.shared.lock_transaction().expect("transactional");
        f(&mut manager, waiter);
    }
    until_answered(run, &mut answer)
        .unwrap_or_else(|| panic!("{what}: no answer within an hour of virtual time"))
}

fn outcome(future: &mut DeliveryFuture) -> Option<Result<crate::RecordMetadata, Error>> {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(future).poll(&mut cx) {
        Poll::Ready(result) => Some(result),
        Poll::Pending => None,
    }
}

use std::time::Duration;

/// What the seeded runs went through, summed.
#[derive(Debug, Default)]
struct Totals {
    committed: usize,
    coordinator_faults: usize,
    end_txn_retries: usize,
    aborts_ended: usize,
    /// Producers fenced by a successor, transactions timed out, TRANSACTION_ABORTABLE
    /// answers, and producers replaced after the fatal fenced error.
    fenced: usize,
    timed_out: usize,
    abortable_answers: usize,
    replaced: usize,
    /// Epoch bumps after a classic transaction left a sequence gap (KIP-360).
    epoch_bumps: usize,
}

/// One seeded run: `transactions` transactions of random sizes, each committed or aborted
/// at random.
fn transactions_run(
    seed: u64,
    transaction_version: Option<i16>,
    transactions: usize,
    totals: &mut Totals,
) -> Result<(), String> {
    let mut c = config(true);
    c.transactional_id = Some("tx-sim".into());
    c.transaction_timeout = TRANSACTION_TIMEOUT;
    let mut run = setup(seed, transactional_faults(), c.clone(), PARTITIONS);
    run.sim.transaction_version = transaction_version;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x7478);
    call(&mut run, "init_transactions", |m, w| m.init(w))
        .map_err(|e| format!("init_transactions: {e}"))?;
    // Fences and timeouts the coordinator had dealt when this producer initialized.
    let mut fences_before = 0;
    let mut planned_timeouts = 0;
    let mut expected: Vec<Vec<u64>> = vec![Vec::new(); PARTITIONS];
    let mut next = 0u64;
    for txn in 0..transactions {
        if let Err(e) = run
            .shared
            .lock_transaction()
            .expect("transactional")
            .begin()
        {
            return Err(format!("transaction {txn}: begin: {e}"));
        }
        let mut futures = Vec::new();
        for _ in 0..rng.random_range(1..60) {
            let i = next;
            next += 1;
            let record = Record::key_value(format!("key-{}", i % 7), i.to_string());
            let future = match run.shared.produce_at("t", record, None, run.sim.now) {
                Ok(future) => future.ok_or("no future")?,
                // The transaction failed already (its commit will say so too).
                Err(Error::Transaction(e)) if e.is_abortable() || e.is_fatal() => break,
                Err(e) => return Err(format!("produce {i}: {e}")),
            };
            futures.push((i, future));
            if rng.random_bool(0.1) {
                run.sim.run(
                    &mut run.sender,
                    Duration::from_millis(rng.random_range(1..10)),
                    || false,
                );
            }
        }
        let ordeal = match rng.random_range(0..100) {
            0..4 => Ordeal::Fenced,
            4..7 => Ordeal::TimedOut,
            _ => Ordeal::None,
        };
        match ordeal {
            Ordeal::None => {}
            Ordeal::Fenced => {
                run.sim.run(
                    &mut run.sender,
                    Duration::from_millis(rng.random_range(0..50)),
                    || false,
                );
                run.sim.fence("tx-sim");
            }
            Ordeal::TimedOut => {
                planned_timeouts += 1;
                run.sim.run(
                    &mut run.sender,
                    TRANSACTION_TIMEOUT + Duration::from_secs(1),
                    || false,
                );
            }
        }
        let commit = rng.random_bool(0.7);
        let answer = if commit {
            call(&mut run, "commit", |m, w| m.commit(w))
        } else {
            call(&mut run, "abort", |m, w| m.abort(w))
        };
        let committed = match answer {
            Ok(()) => commit,
            Err(Error::Transaction(e)) if e.is_abortable() && commit => {
                match call(&mut run, "abort after a failed commit", |m, w| m.abort(w)) {
                    Ok(()) => false,
                    Err(Error::Transaction(TransactionError::Fenced { .. })) => false,
                    Err(e) => return Err(format!("transaction {txn}: abort: {e}")),
                }
            }
            Err(Error::Transaction(TransactionError::Fenced { .. })) => false,
            Err(e) => {
                return Err(format!(
                    "transaction {txn}: {}: {e}",
                    if commit { "commit" } else { "abort" }
                ))
            }
        };
        let fenced_now = run.sim.fenced + run.sim.transactions_timed_out;
        let is_fenced = run
            .shared
            .lock_transaction()
            .expect("transactional")
            .is_fenced();
        if is_fenced {
            if fenced_now == fences_before {
                return Err(format!(
                    "transaction {txn}: the producer is fenced, but nobody fenced it"
                ));
            }
            // In-flight records get their answers after the fatal error: wait for them.
            let shared = Arc::clone(&run.shared);
            run.sim.run(&mut run.sender, Duration::from_secs(3600), || {
                shared.outstanding() == 0
            });
        } else if ordeal != Ordeal::None && commit && committed {
            return Err(format!(
                "transaction {txn} committed although it was {ordeal:?}"
            ));
        }
        for (i, mut future) in futures {
            let Some(result) = outcome(&mut future) else {
                return Err(format!(
                    "transaction {txn}: record {i} has no outcome after it ended"
                ));
            };
            match (committed, result) {
                (true, Ok(m)) => expected[m.partition as usize].push(i),
                (true, Err(e)) => {
                    return Err(format!(
                        "record {i} of committed transaction {txn} failed: {e}"
                    ))
                }
                (false, _) => {}
            }
        }
        totals.committed += usize::from(committed);
        if run.sim.transactions_timed_out > planned_timeouts {
            return Err(format!(
                "transaction {txn}: a transaction timed out that was not kept open on purpose \
                 (the producer could not get on)"
            ));
        }
        if is_fenced {
            // A successor with the same transactional.id takes over.
            totals.replaced += 1;
            run.sim.forget_connections();
            let (shared, sender) = producer(&c, seed.wrapping_add(totals.replaced as u64));
            run.shared = shared;
            run.sender = sender;
            call(&mut run, "init_transactions of a successor", |m, w| {
                m.init(w)
            })
            .map_err(|e| format!("transaction {txn}: successor's init_transactions: {e}"))?;
            fences_before = run.sim.fenced + run.sim.transactions_timed_out;
        }
    }
    totals.coordinator_faults += run.sim.coordinator_faults;
    totals.end_txn_retries += run.sim.end_txn_retries;
    totals.aborts_ended += run.sim.transactions_ended.1;
    totals.fenced += run.sim.fenced;
    totals.timed_out += run.sim.transactions_timed_out;
    totals.abortable_answers += run.sim.abortable_answers;
    totals.epoch_bumps += run.sim.epoch_bumps;
    for (p, want) in expected.iter().enumerate() {
        let seen: Vec<u64> = run.sim.topics["t"][p]
            .committed()
            .into_iter()
            .map(record_index)
            .collect();
        if &seen != want {
            return Err(format!(
                "partition {p}: read_committed sees {} records, {} committed; first difference at {:?}",
                seen.len(),
                want.len(),
                seen.iter().zip(want).position(|(a, b)| a != b)
            ));
        }
    }
    Ok(())
}

fn transaction_seeds() -> Vec<u64> {
    // A transactional run is several idempotent runs long: a tenth of the seeds.
    let all = seeds();
    if all.len() == 1 {
        return all;
    }
    all.into_iter().step_by(10).collect()
}

fn check_seeds(transaction_version: Option<i16>, name: &str) {
    let mut totals = Totals::default();
    let seeds = transaction_seeds();
    for &seed in &seeds {
        transactions_run(seed, transaction_version, 6, &mut totals).unwrap_or_else(|e| {
            panic!(
                "seed {seed} failed: {e}\nreplay: KIEL_SIM_SEED={seed} cargo test -p kiel {name}"
            )
        });
    }
    println!("{name}: {} seeds, {totals:?}", seeds.len());
    if seeds.len() >= 100 {
        // The faults this test is about did happen.
        assert!(
            totals.committed > 0 && totals.aborts_ended > 0,
            "{totals:?}"
        );
        assert!(totals.coordinator_faults > 0, "{totals:?}");
        assert!(
            totals.end_txn_retries > 0,
            "no EndTxn answer was lost: {totals:?}"
        );
        assert!(
            totals.fenced > 0 && totals.timed_out > 0 && totals.abortable_answers > 0,
            "no fence, timeout or TRANSACTION_ABORTABLE: {totals:?}"
        );
        assert!(totals.replaced >= totals.fenced, "{totals:?}");
        if transaction_version.is_none() {
            assert!(
                totals.epoch_bumps > 0,
                "no epoch bump after a gap: {totals:?}"
            );
        }
    }
}

#[test]
fn classic_transactions_are_exactly_once_under_seeded_faults() {
    check_seeds(None, "classic_transactions");
}

#[test]
fn version_2_transactions_are_exactly_once_under_seeded_faults() {
    check_seeds(Some(2), "version_2_transactions");
}
