//! Transactions against a real Apache Kafka (kiel-testcontainers' shared single-node
//! cluster, or the one in `KAFKA_BOOTSTRAP`), read back with Kafka's console consumer in
//! `read_committed` and `read_uncommitted`, and offsets checked with Kafka's consumer-groups
//! tool: never with kiel's own decoder.

mod common;

use common::events::EventCounts;
use common::unique;

use std::collections::BTreeMap;
use std::time::Duration;

use kiel::{ConsumerGroupMetadata, Error, PartitionOffset, Producer, Record, TransactionError};
use kiel_testcontainers::{shared_cluster, KafkaCluster, ReadOptions};

async fn cluster() -> &'static KafkaCluster {
    shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker: {e}"))
}

const READ_TIMEOUT: Duration = Duration::from_secs(20);

async fn transactional(cluster: &KafkaCluster, id: &str) -> Producer {
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .transactional_id(id)
        .build()
        .await
        .unwrap_or_else(|e| panic!("transactional producer: {e}"));
    producer
        .init_transactions()
        .await
        .unwrap_or_else(|e| panic!("init_transactions: {e}"));
    producer
}

async fn topics(cluster: &KafkaCluster, name: &str, count: usize, partitions: u32) -> Vec<String> {
    let mut names = Vec::new();
    for i in 0..count {
        let topic = unique(&format!("{name}-{i}"));
        cluster
            .create_topic(&topic, partitions, 1, &[])
            .await
            .unwrap_or_else(|e| panic!("creating {topic}: {e}"));
        names.push(topic);
    }
    names
}

/// Values read from `topic`, as text, by (partition, offset) order.
async fn read(
    cluster: &KafkaCluster,
    topic: &str,
    expected: usize,
    committed: bool,
) -> Vec<String> {
    let mut options = ReadOptions::new(expected, READ_TIMEOUT);
    options.read_committed = committed;
    cluster
        .consume_with(topic, &options)
        .await
        .unwrap_or_else(|e| panic!("reading {topic} (read_committed {committed}): {e}"))
        .into_iter()
        .map(|r| String::from_utf8(r.value.unwrap_or_default()).unwrap())
        .collect()
}

/// Records keyed so that each topic's partitions all get some.
fn record(txn: &str, i: usize) -> Record {
    Record::key_value(format!("k{}", i % 17), format!("{txn}-{i}"))
}

/// Committed transactions across 3 topics x 4 partitions are visible exactly once;
/// aborted ones are invisible to read_committed and visible to read_uncommitted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn committed_records_are_visible_once_and_aborted_ones_never() {
    let events = EventCounts::install();
    let cluster = cluster().await;
    let topics = topics(cluster, "txn", 3, 4).await;
    let producer = transactional(cluster, &unique("txn-commit")).await;
    let per_topic = 60;
    let mut expected: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (txn, commit) in [("a", true), ("b", false), ("c", true)] {
        producer.begin_transaction().unwrap();
        let mut futures = Vec::new();
        for topic in &topics {
            for i in 0..per_topic {
                let r = record(txn, i);
                if commit {
                    expected
                        .entry(topic.clone())
                        .or_default()
                        .push(format!("{txn}-{i}"));
                }
                futures.push(producer.produce(topic, r).unwrap());
            }
        }
        if commit {
            producer.commit_transaction().await.unwrap_or_else(|e| {
                panic!("commit {txn}: {e}; kiel's events: {}", events.summary())
            });
            for f in futures {
                f.await.unwrap_or_else(|e| panic!("record of {txn}: {e}"));
            }
        } else {
            // Let some records reach the brokers first, so the abort has something to end.
            producer.flush(Duration::from_secs(30)).await;
            producer.abort_transaction().await.unwrap_or_else(|e| {
                panic!("abort {txn}: {e}; kiel's events: {}", events.summary())
            });
            for f in futures {
                // Written and aborted, or never sent: never lost without an outcome.
                let _ = f.await;
            }
        }
    }
    for topic in &topics {
        let want = &expected[topic];
        let mut got = read(cluster, topic, want.len(), true).await;
        got.sort();
        let mut sorted = want.clone();
        sorted.sort();
        assert_eq!(
            got, sorted,
            "{topic}: read_committed sees exactly the committed records"
        );
        let ends: i64 = cluster
            .end_offsets(topic)
            .await
            .unwrap()
            .iter()
            .map(|(_, o)| o)
            .sum();
        // Three transactions of records plus a marker per partition and transaction.
        assert_eq!(ends as usize, 3 * per_topic + 3 * 4, "{topic}: end offsets");
        let everything = read(cluster, topic, 3 * per_topic, false).await;
        assert_eq!(
            everything.iter().filter(|v| v.starts_with("b-")).count(),
            per_topic,
            "{topic}: read_uncommitted sees the aborted records too"
        );
    }
    producer.close().await;
}

/// Offsets sent with the transaction are committed to the group exactly when it commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_are_committed_with_the_transaction_and_not_with_an_abort() {
    let cluster = cluster().await;
    let topics = topics(cluster, "txn-offsets", 2, 2).await;
    let (input, output) = (&topics[0], &topics[1]);
    let group = ConsumerGroupMetadata::new(unique("txn-group"));
    let producer = transactional(cluster, &unique("txn-offsets")).await;

    producer.begin_transaction().unwrap();
    let written = producer.produce(output, record("x", 0)).unwrap();
    producer
        .send_offsets_to_transaction(
            [
                PartitionOffset::new(input.as_str(), 0, 17),
                PartitionOffset::new(input.as_str(), 1, 5),
            ],
            &group,
        )
        .await
        .unwrap_or_else(|e| panic!("send_offsets_to_transaction: {e}"));
    let before = cluster.committed_offsets(&group.group_id).await.unwrap();
    assert!(
        before.is_empty(),
        "not committed before the transaction: {before:?}"
    );
    producer.commit_transaction().await.unwrap();
    written.await.unwrap();
    let after = cluster.committed_offsets(&group.group_id).await.unwrap();
    assert_eq!(after.get(&(input.clone(), 0)), Some(&17), "{after:?}");
    assert_eq!(after.get(&(input.clone(), 1)), Some(&5), "{after:?}");

    producer.begin_transaction().unwrap();
    producer
        .send_offsets_to_transaction([PartitionOffset::new(input.as_str(), 0, 99)], &group)
        .await
        .unwrap();
    producer.abort_transaction().await.unwrap();
    let aborted = cluster.committed_offsets(&group.group_id).await.unwrap();
    assert_eq!(
        aborted.get(&(input.clone(), 0)),
        Some(&17),
        "the abort commits nothing"
    );
    producer.close().await;
}

/// A second producer with the same transactional.id fences the first: the first gets the
/// fatal error, and nothing it wrote after that is visible to read_committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_producer_with_the_same_id_fences_the_old_one() {
    let cluster = cluster().await;
    let topic = &topics(cluster, "txn-fence", 1, 3).await[0];
    let id = unique("txn-fence");
    let zombie = transactional(cluster, &id).await;
    zombie.begin_transaction().unwrap();
    let mut zombie_records = Vec::new();
    for i in 0..20 {
        zombie_records.push(zombie.produce(topic, record("zombie", i)).unwrap());
    }
    zombie.flush(Duration::from_secs(30)).await;

    // The successor's init_transactions fences the zombie and aborts its open transaction.
    let successor = transactional(cluster, &id).await;
    successor.begin_transaction().unwrap();
    let successor_records: Vec<_> = (0..10)
        .map(|i| successor.produce(topic, record("successor", i)).unwrap())
        .collect();

    let late = zombie.produce(topic, record("zombie-late", 0)).unwrap();
    let outcome = zombie.commit_transaction().await;
    let Err(Error::Transaction(error)) = &outcome else {
        panic!("the zombie's commit must fail: {outcome:?}");
    };
    assert!(error.is_fatal(), "fenced is fatal: {error}");
    assert!(
        matches!(error, TransactionError::Fenced { .. }),
        "the error names fencing: {error}"
    );
    assert!(late.await.is_err(), "the zombie's late record fails");
    assert!(
        zombie.begin_transaction().is_err(),
        "a fenced producer stays fenced"
    );

    successor.commit_transaction().await.unwrap();
    for r in successor_records {
        r.await.unwrap();
    }
    let committed = read(cluster, topic, 10, true).await;
    assert!(
        committed.iter().all(|v| v.starts_with("successor-")),
        "read_committed sees only the successor: {committed:?}"
    );
    assert_eq!(committed.len(), 10);
    zombie.close().await;
    successor.close().await;
}

/// A record the broker refuses for good leaves a gap in the partition's sequence numbers:
/// the transaction fails (abortable), and after the abort the producer gets on with the
/// same partition — by an epoch bump from InitProducerId with its id and epoch on a classic
/// cluster (KIP-360), from EndTxn's new epoch under transaction version 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_refused_for_good_fails_the_transaction_and_the_next_one_commits() {
    let cluster = cluster().await;
    let topic = unique("txn-gap");
    cluster
        .create_topic(&topic, 1, 1, &[("max.message.bytes", "2000")])
        .await
        .unwrap_or_else(|e| panic!("creating {topic}: {e}"));
    let id = unique("txn-gap");
    let producer = transactional(cluster, &id).await;

    producer.begin_transaction().unwrap();
    let before = producer.produce(&topic, Record::value("gap-0")).unwrap();
    let too_large = producer
        .produce(&topic, Record::value(vec![b'x'; 10_000]))
        .unwrap();
    let after = producer.produce(&topic, Record::value("gap-2")).unwrap();
    let outcome = producer.commit_transaction().await;
    let Err(Error::Transaction(error)) = &outcome else {
        panic!("a transaction with a refused record must not commit: {outcome:?}");
    };
    assert!(error.is_abortable(), "abortable: {error}");
    let refused = too_large.await;
    assert!(refused.is_err(), "the record over max.message.bytes fails");
    let _ = (before.await, after.await);
    producer.abort_transaction().await.unwrap();

    producer.begin_transaction().unwrap();
    let next: Vec<_> = (0..5)
        .map(|i| {
            producer
                .produce(&topic, Record::value(format!("next-{i}")))
                .unwrap()
        })
        .collect();
    producer
        .commit_transaction()
        .await
        .unwrap_or_else(|e| panic!("the transaction after the abort must commit: {e}"));
    for r in next {
        r.await.unwrap();
    }
    let committed = read(cluster, &topic, 5, true).await;
    assert_eq!(
        committed,
        (0..5).map(|i| format!("next-{i}")).collect::<Vec<_>>(),
        "read_committed sees the second transaction only"
    );
    producer.close().await;
}

/// Records outside begin/commit and misuse of the state machine are typed errors; nothing
/// is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misuse_is_a_typed_error() {
    let cluster = cluster().await;
    let topic = &topics(cluster, "txn-misuse", 1, 1).await[0];
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .transactional_id(unique("txn-misuse"))
        .build()
        .await
        .unwrap();
    let before_init = producer.begin_transaction();
    assert!(
        matches!(
            before_init,
            Err(Error::Transaction(TransactionError::InvalidState { .. }))
        ),
        "{before_init:?}"
    );
    producer.init_transactions().await.unwrap();
    let outside = producer.produce(topic, record("outside", 0));
    assert!(
        matches!(
            outside,
            Err(Error::Transaction(TransactionError::NoTransaction { .. }))
        ),
        "{outside:?}"
    );
    let commit = producer.commit_transaction().await;
    assert!(
        matches!(
            commit,
            Err(Error::Transaction(TransactionError::InvalidState { .. }))
        ),
        "{commit:?}"
    );
    producer.begin_transaction().unwrap();
    let twice = producer.begin_transaction();
    assert!(
        matches!(
            twice,
            Err(Error::Transaction(TransactionError::InvalidState { .. }))
        ),
        "{twice:?}"
    );
    producer.abort_transaction().await.unwrap();
    assert_eq!(
        cluster.end_offsets(topic).await.unwrap(),
        vec![(0, 0)],
        "nothing was written"
    );
    let plain = Producer::new(&cluster.bootstrap()).await.unwrap();
    let not_transactional = plain.begin_transaction();
    assert!(
        matches!(
            not_transactional,
            Err(Error::Transaction(TransactionError::NotTransactional))
        ),
        "{not_transactional:?}"
    );
    producer.close().await;
    plain.close().await;
}

/// Kafka 4 clusters finalize transaction.version 2: kiel then lets Produce add the
/// partitions and takes the bumped epoch from every EndTxn; Kafka 3.9 gets classic
/// transactions. Counted from kiel's own events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transaction_protocol_follows_the_cluster() {
    let events = EventCounts::install();
    let cluster = cluster().await;
    let topic = &topics(cluster, "txn-version", 1, 2).await[0];
    let producer = transactional(cluster, &unique("txn-version")).await;
    for txn in ["one", "two"] {
        producer.begin_transaction().unwrap();
        let records: Vec<_> = (0..10)
            .map(|i| producer.produce(topic, record(txn, i)).unwrap())
            .collect();
        producer.commit_transaction().await.unwrap();
        for r in records {
            r.await.unwrap();
        }
    }
    let committed = read(cluster, topic, 20, true).await;
    assert_eq!(committed.len(), 20);
    let bumps = events.get("transaction ended with a new epoch");
    match cluster.version().map(|v| v.to_string()) {
        Some(v) if v.starts_with("3.") => {
            assert_eq!(bumps, 0, "Kafka {v}: classic transactions keep their epoch");
        }
        Some(v) => assert!(
            bumps >= 2,
            "Kafka {v}: each transaction ends with a new epoch ({bumps}); events: {}",
            events.summary()
        ),
        None => println!("an external cluster: {bumps} epoch bumps at transaction ends"),
    }
    producer.close().await;
}

/// The blocking facade's transactions, from a plain thread: a committed and an aborted one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_blocking_producer_commits_and_aborts() {
    let cluster = cluster().await;
    let topic = topics(cluster, "txn-blocking", 1, 2).await.remove(0);
    let bootstrap = cluster.bootstrap();
    let id = unique("txn-blocking");
    let writer_topic = topic.clone();
    tokio::task::spawn_blocking(move || {
        let producer = kiel::blocking::Producer::from_properties([
            ("bootstrap.servers", bootstrap.as_str()),
            ("transactional.id", id.as_str()),
        ])
        .unwrap();
        producer.init_transactions().unwrap();
        for (txn, commit) in [("kept", true), ("dropped", false)] {
            producer.begin_transaction().unwrap();
            let handles: Vec<_> = (0..10)
                .map(|i| producer.produce(&writer_topic, record(txn, i)).unwrap())
                .collect();
            if commit {
                producer.commit_transaction().unwrap();
                for h in handles {
                    h.wait().unwrap();
                }
            } else {
                producer.flush(Duration::from_secs(30));
                producer.abort_transaction().unwrap();
            }
        }
        producer.close();
    })
    .await
    .unwrap();
    let committed = read(cluster, &topic, 10, true).await;
    assert!(
        committed.iter().all(|v| v.starts_with("kept-")),
        "{committed:?}"
    );
    assert_eq!(committed.len(), 10);
}
