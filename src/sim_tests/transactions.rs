//! Transactions against the simulated coordinator, in virtual time, on thousands of seeds:
//! the coordinator moves, loads and is busy, responses (EndTxn's too) are lost, leaders move
//! and brokers refuse for a while. After every commit or abort each record of the
//! transaction has its outcome, and at the end a `read_committed` reader of every partition
//! sees exactly the records of the committed transactions, once each, in produce order.
//! Classic transactions (version 1) and version 2 (KIP-890: epoch bumped by every EndTxn).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::oneshot;

use super::{config, faulty, record_index, seeds, setup, Run};
use crate::delivery::DeliveryFuture;
use crate::record::Record;
use crate::Error;

const PARTITIONS: usize = 4;

fn transactional_faults() -> crate::sim::Faults {
    crate::sim::Faults {
        coordinator_error: 0.1,
        ..faulty()
    }
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
    let mut run = setup(seed, transactional_faults(), c, PARTITIONS);
    run.sim.transaction_version = transaction_version;
    let mut rng = StdRng::seed_from_u64(seed ^ 0x7478);
    call(&mut run, "init_transactions", |m, w| m.init(w))
        .map_err(|e| format!("init_transactions: {e}"))?;
    let mut expected: Vec<Vec<u64>> = vec![Vec::new(); PARTITIONS];
    let mut next = 0u64;
    for txn in 0..transactions {
        run.shared
            .lock_transaction()
            .expect("transactional")
            .begin()
            .map_err(|e| format!("transaction {txn}: begin: {e}"))?;
        let mut futures = Vec::new();
        for _ in 0..rng.random_range(1..60) {
            let i = next;
            next += 1;
            let record = Record::key_value(format!("key-{}", i % 7), i.to_string());
            let future = run
                .shared
                .produce_at("t", record, None, run.sim.now)
                .map_err(|e| format!("produce {i}: {e}"))?
                .ok_or("no future")?;
            futures.push((i, future));
            if rng.random_bool(0.1) {
                run.sim.run(
                    &mut run.sender,
                    Duration::from_millis(rng.random_range(1..10)),
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
                call(&mut run, "abort after a failed commit", |m, w| m.abort(w))
                    .map_err(|e| format!("transaction {txn}: abort: {e}"))?;
                false
            }
            Err(e) => {
                return Err(format!(
                    "transaction {txn}: {}: {e}",
                    if commit { "commit" } else { "abort" }
                ))
            }
        };
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
    }
    totals.coordinator_faults += run.sim.coordinator_faults;
    totals.end_txn_retries += run.sim.end_txn_retries;
    totals.aborts_ended += run.sim.transactions_ended.1;
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
