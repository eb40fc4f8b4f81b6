//! The transaction manager's rules, one test each.

use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::*;

const BACKOFF: Duration = Duration::from_millis(100);

fn manager() -> TransactionManager {
    TransactionManager::new(TransactionConfig {
        transactional_id: "tx-1".into(),
        timeout: Duration::from_secs(60),
        retry_backoff: BACKOFF,
    })
}

fn tp(topic: &str, partition: i32) -> TopicPartition {
    (topic.into(), partition)
}

fn identity() -> ProducerIdentity {
    ProducerIdentity { id: 7, epoch: 3 }
}

type Answer = oneshot::Receiver<Result<(), Error>>;

fn waiter() -> (Waiter, Answer) {
    oneshot::channel()
}

fn answer(rx: &mut Answer) -> Option<Result<(), Error>> {
    rx.try_recv().ok()
}

fn expect(m: &mut TransactionManager, now: Instant, done: bool) -> Outgoing {
    m.poll(now, done).expect("a request")
}

/// init_transactions() all the way: FindCoordinator, then InitProducerId to node 2.
fn initialized(now: Instant) -> TransactionManager {
    let mut m = manager();
    let (w, mut rx) = waiter();
    m.init(w);
    let find = expect(&mut m, now, true);
    assert!(matches!(
        find.request,
        TxnRequest::FindCoordinator { key_type: 1, ref key } if key == "tx-1"
    ));
    assert_eq!(find.destination, Destination::AnyBroker);
    m.answered(TxnAnswer::Coordinator(Ok(2)), now);
    let init = expect(&mut m, now, true);
    assert!(matches!(init.request, TxnRequest::InitProducerId));
    assert_eq!(init.destination, Destination::Broker(2));
    let effect = m.answered(TxnAnswer::InitProducerId(Ok(identity())), now);
    assert_eq!(effect.identity, Some(identity()));
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
    assert!(matches!(m.phase(), Phase::Ready));
    m
}

/// An open transaction with partition a-0 added by the coordinator.
fn with_partition_added(now: Instant) -> TransactionManager {
    let mut m = initialized(now);
    m.begin().unwrap();
    assert!(!m.may_send(&tp("a", 0)));
    let add = expect(&mut m, now, false);
    assert!(matches!(add.request, TxnRequest::AddPartitions(_)));
    m.answered(
        TxnAnswer::AddPartitions(vec![(tp("a", 0), ErrorCode::None)]),
        now,
    );
    assert!(m.may_send(&tp("a", 0)));
    m
}

/// `send_offsets_to_transaction` of offset 42 of in-0 for `group`; its answer comes on the
/// returned receiver.
fn send_offset_42(m: &mut TransactionManager, group: ConsumerGroupMetadata) -> Answer {
    let (w, rx) = waiter();
    m.send_offsets(
        OffsetCommit {
            group,
            offsets: vec![PartitionOffset::new("in", 0, 42)],
        },
        w,
    );
    rx
}

fn is_invalid_state(result: Result<(), Error>) -> bool {
    matches!(
        result,
        Err(Error::Transaction(TransactionError::InvalidState { .. }))
    )
}

#[test]
fn produce_needs_an_open_transaction() {
    let now = Instant::now();
    let mut m = manager();
    assert!(matches!(
        m.check_produce(),
        Err(Error::Transaction(TransactionError::NoTransaction { .. }))
    ));
    m = initialized(now);
    assert!(m.check_produce().is_err());
    m.begin().unwrap();
    assert!(m.check_produce().is_ok());
}

#[test]
fn misuse_is_a_typed_error_and_changes_nothing() {
    let now = Instant::now();
    let mut m = manager();
    assert!(is_invalid_state(m.begin()));
    let (w, mut rx) = waiter();
    m.commit(w);
    assert!(is_invalid_state(answer(&mut rx).unwrap()));
    let mut m = initialized(now);
    let (w, mut rx) = waiter();
    m.commit(w);
    assert!(
        is_invalid_state(answer(&mut rx).unwrap()),
        "commit without begin"
    );
    let (w, mut rx) = waiter();
    m.abort(w);
    assert!(
        is_invalid_state(answer(&mut rx).unwrap()),
        "abort without begin"
    );
    m.begin().unwrap();
    assert!(is_invalid_state(m.begin()), "begin twice");
    assert!(matches!(m.phase(), Phase::InTransaction));
    let (w, mut rx) = waiter();
    m.init(w);
    assert!(is_invalid_state(answer(&mut rx).unwrap()), "init twice");
}

#[test]
fn a_partition_is_added_before_its_first_batch_goes() {
    let now = Instant::now();
    let mut m = initialized(now);
    m.begin().unwrap();
    assert!(!m.may_send(&tp("a", 0)));
    assert!(!m.may_send(&tp("b", 1)));
    let add = expect(&mut m, now, false);
    let TxnRequest::AddPartitions(partitions) = add.request else {
        panic!("{add:?}")
    };
    assert_eq!(partitions, vec![tp("a", 0), tp("b", 1)]);
    assert_eq!(add.destination, Destination::Broker(2));
    assert!(m.poll(now, false).is_none(), "one request at a time");
    assert!(!m.may_send(&tp("a", 0)), "not before the answer");
    m.answered(
        TxnAnswer::AddPartitions(vec![
            (tp("a", 0), ErrorCode::None),
            (tp("b", 1), ErrorCode::None),
        ]),
        now,
    );
    assert!(m.may_send(&tp("a", 0)));
    assert!(m.may_send(&tp("b", 1)));
    assert!(m.poll(now, false).is_none(), "nothing more to add");
}

#[test]
fn commit_waits_for_every_record_then_ends_the_transaction() {
    let now = Instant::now();
    let mut m = with_partition_added(now);
    let (w, mut rx) = waiter();
    m.commit(w);
    assert!(m.flushing());
    assert!(m.check_produce().is_err(), "no records while committing");
    assert!(m.poll(now, false).is_none(), "records still in flight");
    let end = expect(&mut m, now, true);
    assert!(matches!(end.request, TxnRequest::EndTxn { commit: true }));
    assert!(
        answer(&mut rx).is_none(),
        "not before the coordinator answers"
    );
    m.answered(TxnAnswer::EndTxn(ErrorCode::None, None), now);
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
    assert!(matches!(m.phase(), Phase::Ready));
    m.begin().unwrap();
    assert!(
        !m.may_send(&tp("a", 0)),
        "each transaction adds its partitions again"
    );
}

#[test]
fn coordinator_errors_retry_after_a_backoff_or_look_it_up_again() {
    let now = Instant::now();
    let mut m = initialized(now);
    m.begin().unwrap();
    m.may_send(&tp("a", 0));
    expect(&mut m, now, false);
    m.answered(
        TxnAnswer::AddPartitions(vec![(tp("a", 0), ErrorCode::ConcurrentTransactions)]),
        now,
    );
    assert!(m.poll(now, false).is_none(), "backing off");
    assert_eq!(m.next_wakeup(), Some(now + BACKOFF));
    let later = now + BACKOFF;
    let again = expect(&mut m, later, false);
    assert!(matches!(again.request, TxnRequest::AddPartitions(_)));
    m.answered(
        TxnAnswer::AddPartitions(vec![(tp("a", 0), ErrorCode::NotCoordinator)]),
        later,
    );
    let find = expect(&mut m, later + BACKOFF, false);
    assert!(matches!(find.request, TxnRequest::FindCoordinator { .. }));
    m.answered(TxnAnswer::Coordinator(Ok(3)), later + BACKOFF);
    let add = expect(&mut m, later + BACKOFF, false);
    assert_eq!(
        add.destination,
        Destination::Broker(3),
        "the new coordinator"
    );
}

#[test]
fn a_lost_end_txn_is_sent_again_after_finding_the_coordinator() {
    let now = Instant::now();
    let mut m = with_partition_added(now);
    let (w, mut rx) = waiter();
    m.commit(w);
    expect(&mut m, now, true);
    m.answered(TxnAnswer::Lost, now);
    let t = now + BACKOFF;
    assert!(matches!(
        expect(&mut m, t, true).request,
        TxnRequest::FindCoordinator { .. }
    ));
    m.answered(TxnAnswer::Coordinator(Ok(2)), t);
    assert!(matches!(
        expect(&mut m, t, true).request,
        TxnRequest::EndTxn { commit: true }
    ));
    m.answered(TxnAnswer::EndTxn(ErrorCode::None, None), t);
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
}

#[test]
fn a_sequence_gap_gets_a_new_epoch_after_a_classic_abort() {
    let now = Instant::now();
    let mut m = with_partition_added(now);
    // A batch with sequence numbers failed: the transaction must be aborted, and the
    // partition refuses later batches of this epoch.
    m.batch_failed(&Error::Broker {
        code: ErrorCode::InvalidRecord,
        topic: "a".into(),
        partition: 0,
        message: None,
    });
    m.sequence_gap_found();
    let (w, mut rx) = waiter();
    m.abort(w);
    let end = expect(&mut m, now, true);
    assert!(matches!(end.request, TxnRequest::EndTxn { commit: false }));
    m.answered(TxnAnswer::EndTxn(ErrorCode::None, None), now);
    assert!(answer(&mut rx).is_none(), "answered before the new epoch");
    // InitProducerId with the current id and epoch (KIP-360).
    let bump = expect(&mut m, now, true);
    assert!(matches!(bump.request, TxnRequest::BumpEpoch(current) if current == identity()));
    assert_eq!(bump.destination, Destination::Broker(2));
    let next = ProducerIdentity { id: 7, epoch: 4 };
    let effect = m.answered(TxnAnswer::InitProducerId(Ok(next)), now);
    assert_eq!(effect.new_epoch, Some(next));
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
    assert_eq!(m.identity(), Some(next));
    // The next transaction needs no bump.
    m.begin().unwrap();
    let (w, mut rx) = waiter();
    m.abort(w);
    assert!(m.poll(now, true).is_none());
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
}

#[test]
fn an_abortable_answer_during_an_abort_does_not_stop_it() {
    let now = Instant::now();
    let mut m = initialized(now);
    m.begin().unwrap();
    assert!(!m.may_send(&tp("a", 0)));
    let add = expect(&mut m, now, false);
    assert!(matches!(add.request, TxnRequest::AddPartitions(_)));
    // The user aborts while the partition is being added; the coordinator refuses it.
    let (w, mut rx) = waiter();
    m.abort(w);
    m.answered(
        TxnAnswer::AddPartitions(vec![(tp("a", 0), ErrorCode::TransactionAbortable)]),
        now,
    );
    assert!(answer(&mut rx).is_none(), "the abort must not fail");
    // Nothing was added: the abort ends without EndTxn.
    assert!(m.poll(now, true).is_none());
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
    assert!(matches!(m.phase(), Phase::Ready));
}

#[test]
fn an_unreachable_coordinator_is_looked_up_again() {
    let now = Instant::now();
    let mut m = with_partition_added(now);
    let (w, mut rx) = waiter();
    m.commit(w);
    let end = expect(&mut m, now, true);
    assert_eq!(end.destination, Destination::Broker(2));
    // No connection to node 2 yet: the request waits for one.
    m.not_sent();
    // Another broker being unreachable changes nothing.
    m.broker_unreachable(3, now);
    assert_eq!(
        expect(&mut m, now, true).destination,
        Destination::Broker(2)
    );
    m.not_sent();
    // Node 2 cannot be reached: ask who coordinates now, after a backoff.
    m.broker_unreachable(2, now);
    assert!(m.poll(now, true).is_none());
    let find = expect(&mut m, now + BACKOFF, true);
    assert!(matches!(find.request, TxnRequest::FindCoordinator { .. }));
    m.answered(TxnAnswer::Coordinator(Ok(1)), now + BACKOFF);
    let end = expect(&mut m, now + BACKOFF, true);
    assert!(matches!(end.request, TxnRequest::EndTxn { commit: true }));
    assert_eq!(end.destination, Destination::Broker(1));
    m.answered(TxnAnswer::EndTxn(ErrorCode::None, None), now + BACKOFF);
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
}

#[test]
fn a_failed_batch_makes_the_transaction_abortable_and_commit_fails() {
    let now = Instant::now();
    let mut m = initialized(now);
    m.begin().unwrap();
    let (w, mut rx) = waiter();
    m.commit(w);
    m.batch_failed(&Error::Broker {
        code: ErrorCode::MessageTooLarge,
        topic: "a".into(),
        partition: 0,
        message: None,
    });
    let err = answer(&mut rx).unwrap().unwrap_err();
    let Error::Transaction(e) = err else {
        panic!("{err:?}")
    };
    assert!(e.is_abortable() && !e.is_fatal(), "{e}");
    assert!(m.refuse_unsent().is_some(), "queued records fail");
    assert!(m.check_produce().is_err());
    assert!(is_invalid_state(m.begin()));
    // Abort: nothing was added, so no EndTxn is needed.
    let (w, mut rx) = waiter();
    m.abort(w);
    assert!(m.poll(now, true).is_none());
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
    m.begin().unwrap();
}

#[test]
fn abort_fails_queued_records_and_ends_what_reached_the_coordinator() {
    let now = Instant::now();
    let mut m = with_partition_added(now);
    m.may_send(&tp("b", 0));
    let (w, mut rx) = waiter();
    m.abort(w);
    assert!(matches!(
        m.refuse_unsent(),
        Some(Error::Transaction(TransactionError::Aborted))
    ));
    assert!(m.poll(now, false).is_none(), "in-flight records first");
    let end = expect(&mut m, now, true);
    assert!(
        matches!(end.request, TxnRequest::EndTxn { commit: false }),
        "b was never added: only the abort goes"
    );
    m.answered(TxnAnswer::EndTxn(ErrorCode::None, None), now);
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
    assert!(m.refuse_unsent().is_none());
}

#[test]
fn fencing_is_fatal_for_every_waiting_call_and_after() {
    let now = Instant::now();
    let mut m = with_partition_added(now);
    let (w, mut rx) = waiter();
    m.commit(w);
    expect(&mut m, now, true);
    m.answered(TxnAnswer::EndTxn(ErrorCode::ProducerFenced, None), now);
    let Err(Error::Transaction(e)) = answer(&mut rx).unwrap() else {
        panic!()
    };
    assert!(e.is_fatal(), "{e}");
    assert!(matches!(
        e,
        TransactionError::Fenced {
            code: ErrorCode::ProducerFenced,
            ..
        }
    ));
    assert!(m.poll(now, true).is_none(), "nothing more is sent");
    let (w, mut rx) = waiter();
    m.abort(w);
    assert!(matches!(
        answer(&mut rx),
        Some(Err(Error::Transaction(TransactionError::Fenced { .. })))
    ));
    assert!(matches!(
        m.begin(),
        Err(Error::Transaction(TransactionError::Fenced { .. }))
    ));
}

#[test]
fn a_fenced_batch_is_fatal() {
    let now = Instant::now();
    let mut m = initialized(now);
    m.begin().unwrap();
    m.batch_failed(&Error::Broker {
        code: ErrorCode::InvalidProducerEpoch,
        topic: "a".into(),
        partition: 0,
        message: None,
    });
    assert!(matches!(
        m.phase(),
        Phase::Fatal(TransactionError::Fenced { .. })
    ));
}

#[test]
fn init_errors_retry_or_are_fatal() {
    let now = Instant::now();
    let mut m = manager();
    let (w, mut rx) = waiter();
    m.init(w);
    expect(&mut m, now, true);
    m.answered(TxnAnswer::Coordinator(Ok(1)), now);
    expect(&mut m, now, true);
    m.answered(
        TxnAnswer::InitProducerId(Err(ErrorCode::CoordinatorLoadInProgress)),
        now,
    );
    assert!(answer(&mut rx).is_none(), "retried, not answered");
    let t = now + BACKOFF;
    assert!(matches!(
        expect(&mut m, t, true).request,
        TxnRequest::InitProducerId
    ));
    m.answered(
        TxnAnswer::InitProducerId(Err(ErrorCode::TransactionalIdAuthorizationFailed)),
        t,
    );
    let Some(Err(Error::Transaction(e))) = answer(&mut rx) else {
        panic!()
    };
    assert!(e.is_fatal());
    assert!(
        e.to_string()
            .contains("TRANSACTIONAL_ID_AUTHORIZATION_FAILED"),
        "{e}"
    );
}

#[test]
fn offsets_are_added_then_committed_to_the_group_coordinator() {
    let now = Instant::now();
    let mut m = initialized(now);
    m.begin().unwrap();
    let mut rx = send_offset_42(&mut m, ConsumerGroupMetadata::new("g"));
    let add = expect(&mut m, now, false);
    assert!(matches!(add.request, TxnRequest::AddOffsets(_)));
    assert_eq!(add.destination, Destination::Broker(2));
    m.answered(TxnAnswer::AddOffsets(ErrorCode::None), now);
    let find = expect(&mut m, now, false);
    assert!(matches!(
        find.request,
        TxnRequest::FindCoordinator { key_type: 0, ref key } if key == "g"
    ));
    m.answered(TxnAnswer::Coordinator(Ok(5)), now);
    let commit = expect(&mut m, now, false);
    assert!(matches!(commit.request, TxnRequest::CommitOffsets(_)));
    assert_eq!(commit.destination, Destination::Broker(5));
    assert!(answer(&mut rx).is_none());
    m.answered(TxnAnswer::CommitOffsets(ErrorCode::None), now);
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
    // The offsets count as work the coordinator must end, even with no records.
    let (w, _rx) = waiter();
    m.abort(w);
    assert!(matches!(
        expect(&mut m, now, true).request,
        TxnRequest::EndTxn { commit: false }
    ));
}

#[test]
fn a_stale_consumer_generation_makes_the_transaction_abortable() {
    let now = Instant::now();
    let mut m = initialized(now);
    m.begin().unwrap();
    let mut rx = send_offset_42(
        &mut m,
        ConsumerGroupMetadata::new("g").with_member(3, "m-1"),
    );
    expect(&mut m, now, false);
    m.answered(TxnAnswer::AddOffsets(ErrorCode::None), now);
    expect(&mut m, now, false);
    m.answered(TxnAnswer::Coordinator(Ok(5)), now);
    expect(&mut m, now, false);
    m.answered(TxnAnswer::CommitOffsets(ErrorCode::IllegalGeneration), now);
    let Some(Err(Error::Transaction(e))) = answer(&mut rx) else {
        panic!()
    };
    assert!(e.is_abortable(), "{e}");
}

#[test]
fn transaction_version_2_adds_partitions_by_producing_and_bumps_the_epoch_at_the_end() {
    let now = Instant::now();
    let mut m = initialized(now);
    m.set_cluster_transaction_version(Some(2));
    m.begin().unwrap();
    assert!(m.v2());
    assert!(
        m.may_send(&tp("a", 0)),
        "no AddPartitionsToTxn under version 2"
    );
    assert!(m.poll(now, false).is_none());
    m.sent(&tp("a", 0));
    let (w, mut rx) = waiter();
    m.commit(w);
    let end = expect(&mut m, now, true);
    assert!(matches!(end.request, TxnRequest::EndTxn { commit: true }));
    let next = ProducerIdentity { id: 7, epoch: 4 };
    let effect = m.answered(TxnAnswer::EndTxn(ErrorCode::None, Some(next)), now);
    assert_eq!(effect.new_epoch, Some(next));
    assert_eq!(m.identity(), Some(next));
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
    // A cluster that goes back to version 1 gets classic transactions from the next begin.
    m.set_cluster_transaction_version(Some(1));
    m.begin().unwrap();
    assert!(!m.v2());
    assert!(!m.may_send(&tp("a", 0)));
}

#[test]
fn an_abort_under_version_2_ends_only_a_transaction_that_produced() {
    let now = Instant::now();
    let mut m = initialized(now);
    m.set_cluster_transaction_version(Some(2));
    m.begin().unwrap();
    assert!(m.may_send(&tp("a", 0)));
    let (w, mut rx) = waiter();
    m.abort(w);
    assert!(
        m.poll(now, true).is_none(),
        "nothing was produced: no EndTxn"
    );
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
    m.begin().unwrap();
    m.sent(&tp("a", 0));
    let (w, _rx) = waiter();
    m.abort(w);
    assert!(matches!(
        expect(&mut m, now, true).request,
        TxnRequest::EndTxn { commit: false }
    ));
}

#[test]
fn offsets_under_version_2_go_straight_to_the_group_coordinator() {
    let now = Instant::now();
    let mut m = initialized(now);
    m.set_cluster_transaction_version(Some(2));
    m.begin().unwrap();
    let mut rx = send_offset_42(&mut m, ConsumerGroupMetadata::new("g"));
    let find = expect(&mut m, now, false);
    assert!(
        matches!(
            find.request,
            TxnRequest::FindCoordinator { key_type: 0, .. }
        ),
        "no AddOffsetsToTxn: {find:?}"
    );
    m.answered(TxnAnswer::Coordinator(Ok(5)), now);
    assert!(matches!(
        expect(&mut m, now, false).request,
        TxnRequest::CommitOffsets(_)
    ));
    m.answered(TxnAnswer::CommitOffsets(ErrorCode::None), now);
    assert!(matches!(answer(&mut rx), Some(Ok(()))));
    let (w, _rx) = waiter();
    m.abort(w);
    assert!(
        matches!(
            expect(&mut m, now, true).request,
            TxnRequest::EndTxn { commit: false }
        ),
        "the offsets are in the transaction: the abort must end it"
    );
}
