//! The idempotence rules, one test each, on the session alone: no sockets, no simulated
//! cluster, virtual time.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiel_protocol::record::RecordBatchBuilder;
use kiel_protocol::ErrorCode;

use super::*;
use crate::accumulator::QueueView;
use crate::batch::{ProducerBatch, SendState};
use crate::delivery::{BatchGuard, Completion};

const LEADER: i32 = 1;

fn config() -> SessionConfig {
    SessionConfig {
        idempotent: true,
        transactional: false,
        max_in_flight_per_partition: 5,
        retries: u32::MAX,
        acks_none: false,
        retry_backoff: Duration::from_millis(100),
        retry_backoff_max: Duration::from_secs(1),
    }
}

/// A session that has its producer id (7, epoch 0).
fn session() -> ProducerSession {
    let mut session = ProducerSession::new(config());
    session.seed(1);
    assert!(session.wants_identity(Instant::now()));
    session.identity_requested();
    session.identity_received(ProducerIdentity { id: 7, epoch: 0 });
    session
}

fn topic() -> Arc<str> {
    Arc::from("t")
}

/// A closed batch of `records` records for partition 0.
fn batch(records: u32) -> ProducerBatch {
    let mut builder = RecordBatchBuilder::new();
    for i in 0..records {
        let value = i.to_string();
        let appended = builder.append(
            0,
            None,
            Some(value.as_bytes()),
            &[] as &[(&str, Option<&[u8]>)],
        );
        assert!(appended.is_ok());
    }
    let completion = Completion::new(topic());
    completion.close(records);
    ProducerBatch {
        topic: topic(),
        partition: 0,
        builder: Some(builder),
        data: None,
        guard: BatchGuard::new(completion, 0, 0, records),
        produced: crate::batch::ProduceTimes::starting(Instant::now()),
        reserved: 0,
        send: SendState::default(),
    }
}

fn queue(batches: impl IntoIterator<Item = ProducerBatch>) -> VecDeque<ProducerBatch> {
    batches.into_iter().collect()
}

/// What the session would pick from `queue` now.
fn pick(session: &ProducerSession, queue: &VecDeque<ProducerBatch>, now: Instant) -> Option<usize> {
    session.pick(&topic(), 0, &QueueView::of(queue), LEADER, now)
}

/// Picks and sends the front batch; panics if the session refuses.
fn send_front(
    session: &mut ProducerSession,
    queue: &mut VecDeque<ProducerBatch>,
    now: Instant,
) -> (ProducerBatch, Stamp) {
    assert_eq!(
        pick(session, queue, now),
        Some(0),
        "the front batch may not go"
    );
    let mut batch = queue.pop_front().unwrap();
    let stamp = session.sent(&mut batch, LEADER);
    (batch, stamp)
}

fn acked() -> Answer {
    Answer::Acked(Acked {
        base_offset: 0,
        log_append_time: -1,
    })
}

fn refused(code: ErrorCode) -> Answer {
    Answer::Refused {
        code,
        error: Error::Broker {
            code,
            topic: "t".into(),
            partition: 0,
            message: None,
        },
        new_leader_known: false,
    }
}

fn lost() -> Answer {
    Answer::Lost(Error::Connection {
        broker: "b:1".into(),
        cause: crate::ConnectionError::Io("reset".into()),
    })
}

#[test]
fn nothing_is_sent_before_the_producer_id_arrives() {
    let session = ProducerSession::new(config());
    assert!(!session.ready_to_send());
    let mut plain = ProducerSession::new(SessionConfig {
        idempotent: false,
        ..config()
    });
    assert!(plain.ready_to_send());
    assert!(!plain.wants_identity(Instant::now()));
    // Without idempotence a batch goes unstamped.
    let mut b = batch(2);
    assert_eq!(plain.sent(&mut b, LEADER), Stamp::NONE);
}

#[test]
fn a_failed_producer_id_request_is_retried_after_the_backoff() {
    let now = Instant::now();
    let mut session = ProducerSession::new(config());
    session.identity_requested();
    assert!(!session.wants_identity(now));
    session.identity_failed(now);
    assert!(!session.wants_identity(now + Duration::from_millis(99)));
    assert_eq!(
        session.next_wakeup(),
        Some(now + Duration::from_millis(100))
    );
    assert!(session.wants_identity(now + Duration::from_millis(100)));
}

#[test]
fn the_first_batch_of_a_partition_goes_alone() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(3), batch(2)]);
    let (mut first, stamp) = send_front(&mut s, &mut q, now);
    assert_eq!(
        (stamp.producer_id, stamp.producer_epoch, stamp.base_sequence),
        (7, 0, 0)
    );
    // A broker with no state for this producer would take any sequence: wait.
    assert_eq!(pick(&s, &q, now), None);
    assert!(matches!(
        s.judge(&mut first, acked(), now),
        Verdict::Acknowledge(_)
    ));
    let (_, stamp) = send_front(&mut s, &mut q, now);
    assert_eq!(
        stamp.base_sequence, 3,
        "the next batch continues the sequence"
    );
}

#[test]
fn at_most_five_batches_of_a_partition_are_in_flight() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue((0..8).map(|_| batch(1)));
    let (mut first, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut first, acked(), now);
    let mut sequences = Vec::new();
    for _ in 0..5 {
        sequences.push(send_front(&mut s, &mut q, now).1.base_sequence);
    }
    assert_eq!(sequences, [1, 2, 3, 4, 5]);
    assert_eq!(pick(&s, &q, now), None, "a sixth batch went");
}

#[test]
fn batches_in_flight_to_one_leader_hold_back_a_new_leader() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(1), batch(1), batch(1)]);
    let (mut first, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut first, acked(), now);
    let (_in_flight, _) = send_front(&mut s, &mut q, now);
    // Leadership moved: the next batch waits until the one at the old leader is answered.
    assert_eq!(
        s.pick(&topic(), 0, &QueueView::of(&q), LEADER + 1, now),
        None
    );
    assert_eq!(pick(&s, &q, now), Some(0));
}

#[test]
fn a_retry_keeps_its_sequence_goes_after_its_backoff_and_alone() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(2), batch(2), batch(1)]);
    let (mut first, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut first, acked(), now);
    let (mut second, stamp) = send_front(&mut s, &mut q, now);
    assert_eq!(stamp.base_sequence, 2);
    let (mut third, _) = send_front(&mut s, &mut q, now);
    let verdict = s.judge(&mut second, refused(ErrorCode::NotEnoughReplicas), now);
    assert!(
        matches!(
            verdict,
            Verdict::Retry {
                refresh_metadata: false
            }
        ),
        "{verdict:?}"
    );
    assert_eq!(second.send.attempts, 1);
    let retry_at = second.send.retry_at.unwrap();
    assert!(retry_at >= now + Duration::from_millis(80), "no backoff");
    q.push_front(second);
    assert_eq!(pick(&s, &q, now), None, "retried before its backoff");
    // The third is still in flight: the retry waits for it, so neither overtakes the other.
    assert_eq!(
        pick(&s, &q, retry_at),
        None,
        "a retry went beside another batch"
    );
    // It comes back out of order (the second is missing): a plain retry, queued behind.
    s.judge(
        &mut third,
        refused(ErrorCode::OutOfOrderSequenceNumber),
        now,
    );
    q.push_back(third);
    let (_, stamp) = send_front(&mut s, &mut q, retry_at);
    assert_eq!((stamp.base_sequence, stamp.changed), (2, false));
}

#[test]
fn a_refusal_naming_the_new_leader_is_retried_at_once_without_metadata() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(1)]);
    let (mut b, _) = send_front(&mut s, &mut q, now);
    let verdict = s.judge(
        &mut b,
        Answer::Refused {
            code: ErrorCode::NotLeaderOrFollower,
            error: Error::Closed,
            new_leader_known: true,
        },
        now,
    );
    assert!(
        matches!(
            verdict,
            Verdict::Retry {
                refresh_metadata: false
            }
        ),
        "{verdict:?}"
    );
    assert_eq!(b.send.retry_at, Some(now));
    let mut b = send_again(&mut s, b);
    let verdict = s.judge(&mut b, refused(ErrorCode::NotLeaderOrFollower), now);
    assert!(
        matches!(
            verdict,
            Verdict::Retry {
                refresh_metadata: true
            }
        ),
        "{verdict:?}"
    );
}

/// Sends a batch that came back for a retry again.
fn send_again(session: &mut ProducerSession, mut batch: ProducerBatch) -> ProducerBatch {
    session.sent(&mut batch, LEADER);
    batch
}

#[test]
fn a_duplicate_is_answered_as_a_success() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(4), batch(1)]);
    let (mut b, _) = send_front(&mut s, &mut q, now);
    let verdict = s.judge(&mut b, refused(ErrorCode::DuplicateSequenceNumber), now);
    assert!(
        matches!(
            verdict,
            Verdict::Acknowledge(Acked {
                base_offset: -1,
                ..
            })
        ),
        "{verdict:?}"
    );
    // The partition counts it as acknowledged: the next batch may go, after it.
    assert_eq!(send_front(&mut s, &mut q, now).1.base_sequence, 4);
}

#[test]
fn an_out_of_order_answer_for_the_expected_batch_bumps_the_epoch() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(2), batch(3)]);
    let (mut first, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut first, acked(), now);
    let (mut second, stamp) = send_front(&mut s, &mut q, now);
    assert_eq!(stamp.base_sequence, 2);
    // The broker should have expected sequence 2: its state for us is gone.
    let verdict = s.judge(
        &mut second,
        refused(ErrorCode::OutOfOrderSequenceNumber),
        now,
    );
    assert!(matches!(verdict, Verdict::Retry { .. }), "{verdict:?}");
    assert!(s.bump_pending());
    assert_eq!(s.poll_bump(), Some(Bump::Epoch));
    assert_eq!(s.identity(), Some(ProducerIdentity { id: 7, epoch: 1 }));
    // The retried batch is re-sequenced from 0 under the new epoch, alone at first.
    q.push_front(second);
    let at = second_retry_time(&q);
    let (_, stamp) = send_front(&mut s, &mut q, at);
    assert_eq!(
        (stamp.producer_epoch, stamp.base_sequence, stamp.changed),
        (1, 0, true)
    );
}

fn second_retry_time(q: &VecDeque<ProducerBatch>) -> Instant {
    q.front().and_then(|b| b.send.retry_at).unwrap()
}

#[test]
fn an_out_of_order_answer_behind_an_unacknowledged_batch_is_a_plain_retry() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(1), batch(1), batch(1)]);
    let (mut first, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut first, acked(), now);
    let (mut second, _) = send_front(&mut s, &mut q, now);
    let (mut third, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut second, refused(ErrorCode::NotEnoughReplicas), now);
    // The third came with a gap because the second was not written: no bump.
    s.judge(
        &mut third,
        refused(ErrorCode::OutOfOrderSequenceNumber),
        now,
    );
    assert!(!s.bump_pending());
    assert_eq!(s.poll_bump(), None);
}

#[test]
fn a_batch_with_sequence_numbers_that_fails_restarts_the_sequences() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(5), batch(1)]);
    let (mut first, _) = send_front(&mut s, &mut q, now);
    let verdict = s.judge(&mut first, refused(ErrorCode::InvalidRecord), now);
    assert!(matches!(
        verdict,
        Verdict::Fail(Error::Broker {
            code: ErrorCode::InvalidRecord,
            ..
        })
    ));
    // Sequences 0..5 are a gap the broker would trip over.
    assert_eq!(s.poll_bump(), Some(Bump::Epoch));
    let (_, stamp) = send_front(&mut s, &mut q, now);
    assert_eq!((stamp.producer_epoch, stamp.base_sequence), (1, 0));
}

#[test]
fn the_bump_waits_for_in_doubt_batches_which_alone_may_go_meanwhile() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(1), batch(1), batch(1), batch(1)]);
    let (mut first, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut first, acked(), now);
    let (mut lost_batch, _) = send_front(&mut s, &mut q, now);
    let (mut failed, _) = send_front(&mut s, &mut q, now);
    // The connection drops: the first may be in the log. The second fails for good.
    let verdict = s.judge(&mut lost_batch, lost(), now);
    assert!(matches!(
        verdict,
        Verdict::Retry {
            refresh_metadata: true
        }
    ));
    assert!(lost_batch.send.in_doubt);
    assert!(matches!(
        s.judge(&mut failed, refused(ErrorCode::InvalidRecord), now),
        Verdict::Fail(_)
    ));
    assert!(s.bump_pending());
    assert_eq!(s.poll_bump(), None, "bumped with a batch in doubt");
    // Meanwhile only the in-doubt batch goes, under its old epoch and sequence.
    let later = lost_batch.send.retry_at.unwrap();
    q.push_front(lost_batch);
    assert_eq!(pick(&s, &q, later), Some(0));
    let (mut resent, stamp) = send_front(&mut s, &mut q, later);
    assert_eq!((stamp.producer_epoch, stamp.base_sequence), (0, 1));
    assert_eq!(
        pick(&s, &q, later),
        None,
        "a batch not in doubt went before the bump"
    );
    assert_eq!(s.poll_bump(), None, "bumped with a batch in flight");
    // It was written: the broker says duplicate. Now the sequences restart.
    s.judge(
        &mut resent,
        refused(ErrorCode::DuplicateSequenceNumber),
        later,
    );
    assert_eq!(s.poll_bump(), Some(Bump::Epoch));
    let (_, stamp) = send_front(&mut s, &mut q, later);
    assert_eq!((stamp.producer_epoch, stamp.base_sequence), (1, 0));
}

#[test]
fn an_in_doubt_batch_refused_as_out_of_order_is_no_longer_in_doubt() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(1), batch(1), batch(1), batch(1)]);
    let (mut first, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut first, acked(), now);
    let (mut earlier, _) = send_front(&mut s, &mut q, now);
    let (mut later_batch, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut earlier, refused(ErrorCode::NotEnoughReplicas), now);
    s.judge(&mut later_batch, lost(), now);
    let fourth = q.pop_front().unwrap();
    let mut fourth = send_again(&mut s, fourth);
    s.judge(&mut fourth, refused(ErrorCode::InvalidRecord), now);
    assert!(s.bump_pending());
    // The in-doubt batch goes alone; the leader answers out of order (the earlier batch is
    // missing), which proves it was never written: the bump can go ahead.
    let mut resent = send_again(&mut s, later_batch);
    s.judge(
        &mut resent,
        refused(ErrorCode::OutOfOrderSequenceNumber),
        now,
    );
    assert!(!resent.send.in_doubt);
    assert_eq!(s.poll_bump(), Some(Bump::Epoch));
}

#[test]
fn a_fenced_producer_gets_a_new_producer_id_and_starts_over() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(2)]);
    let (mut b, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut b, refused(ErrorCode::ProducerFenced), now);
    assert_eq!(s.poll_bump(), Some(Bump::NewProducerId));
    assert_eq!(s.identity(), None);
    assert!(!s.ready_to_send());
    assert!(s.wants_identity(now));
    s.identity_requested();
    s.identity_received(ProducerIdentity { id: 8, epoch: 0 });
    q.push_front(b);
    let at = second_retry_time(&q);
    let (_, stamp) = send_front(&mut s, &mut q, at);
    assert_eq!(
        (
            stamp.producer_id,
            stamp.producer_epoch,
            stamp.base_sequence,
            stamp.changed
        ),
        (8, 0, 0, true)
    );
}

#[test]
fn an_exhausted_epoch_asks_for_a_new_producer_id() {
    let now = Instant::now();
    let mut s = ProducerSession::new(config());
    s.identity_received(ProducerIdentity {
        id: 7,
        epoch: i16::MAX,
    });
    let mut q = queue([batch(1)]);
    let (mut b, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut b, refused(ErrorCode::InvalidRecord), now);
    assert_eq!(s.poll_bump(), Some(Bump::NewProducerId));
}

#[test]
fn too_large_splits_a_batch_of_many_and_fails_a_single_record() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(4), batch(1)]);
    let (mut many, _) = send_front(&mut s, &mut q, now);
    assert!(matches!(
        s.judge(&mut many, refused(ErrorCode::MessageTooLarge), now),
        Verdict::Split
    ));
    let mut s = session();
    let (mut one, _) = send_front(&mut s, &mut queue([batch(1)]), now);
    assert!(matches!(
        s.judge(&mut one, refused(ErrorCode::MessageTooLarge), now),
        Verdict::Fail(_)
    ));
}

#[test]
fn retries_run_out_and_acks_zero_never_retries() {
    let now = Instant::now();
    let mut s = ProducerSession::new(SessionConfig {
        retries: 1,
        ..config()
    });
    s.identity_received(ProducerIdentity { id: 7, epoch: 0 });
    let mut q = queue([batch(1)]);
    let (mut b, _) = send_front(&mut s, &mut q, now);
    assert!(matches!(
        s.judge(&mut b, lost(), now),
        Verdict::Retry { .. }
    ));
    let mut b = send_again(&mut s, b);
    assert!(matches!(
        s.judge(&mut b, lost(), now),
        Verdict::Fail(Error::Connection { .. })
    ));
    let mut fire_and_forget = ProducerSession::new(SessionConfig {
        idempotent: false,
        acks_none: true,
        ..config()
    });
    let (mut b, _) = send_front(&mut fire_and_forget, &mut queue([batch(1)]), now);
    assert!(matches!(
        fire_and_forget.judge(&mut b, refused(ErrorCode::NotEnoughReplicas), now),
        Verdict::Fail(_)
    ));
}

#[test]
fn the_last_error_of_a_partition_is_kept_for_records_that_never_went() {
    let now = Instant::now();
    let mut s = session();
    let mut q = queue([batch(1)]);
    assert!(s.last_error(&topic(), 0).is_none());
    let (mut b, _) = send_front(&mut s, &mut q, now);
    s.judge(&mut b, lost(), now);
    assert!(matches!(
        s.last_error(&topic(), 0),
        Some(Error::Connection { .. })
    ));
}

#[test]
fn backoff_grows_to_its_maximum_and_forever_does_not_overflow() {
    let mut rng = StdRng::seed_from_u64(1);
    let c = config();
    let first = backoff(&c, 1, &mut rng);
    assert!(first >= Duration::from_millis(80) && first <= Duration::from_millis(120));
    let capped = backoff(&c, 40, &mut rng);
    assert!(capped <= Duration::from_millis(1200), "{capped:?}");
    let forever = SessionConfig {
        retry_backoff: Duration::MAX,
        retry_backoff_max: Duration::MAX,
        ..config()
    };
    assert!(backoff(&forever, 3, &mut rng) > Duration::from_secs(1 << 60));
}
