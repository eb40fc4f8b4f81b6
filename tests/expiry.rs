//! `delivery.timeout.ms` counts from each record's own `produce`, and the error says what
//! was tried last. Checked against a real broker that stops answering: a single-node
//! Apache Kafka of this test's own (kiel-testcontainers), frozen with SIGSTOP.

mod common;

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use kiel::{Error, Producer, Record};
use kiel_testcontainers::KafkaCluster;

const DELIVERY_TIMEOUT: Duration = Duration::from_secs(4);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

/// One record's life: when it was produced, when its outcome came, and what it was.
struct Seen {
    produced: Instant,
    outcome: Option<(Instant, kiel::Result<kiel::RecordMetadata>)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_time_out_by_their_own_produce_time_and_say_why() {
    let cluster = KafkaCluster::builder()
        .nodes(1)
        .start()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker of its own: {e}"));
    let topic = common::unique("expiry");
    cluster
        .create_topic(&topic, 1, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .delivery_timeout(DELIVERY_TIMEOUT)
        .request_timeout(REQUEST_TIMEOUT)
        .property("socket.connection.setup.timeout.ms", "1000")
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    producer
        .send(&topic, Record::value("warm-up"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let node = cluster.node_ids()[0];
    cluster.pause(node).unwrap_or_else(|e| panic!("{e}"));
    // Records keep coming while nothing answers: 3 s of them, one every 25 ms, so the
    // partition's batches hold records produced seconds apart.
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::new(Mutex::new(Vec::new()));
    let mut pace = tokio::time::interval(Duration::from_millis(25));
    for i in 0..120 {
        pace.tick().await;
        let index = {
            let mut seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
            seen.push(Seen {
                produced: Instant::now(),
                outcome: None,
            });
            seen.len() - 1
        };
        let seen2 = Arc::clone(&seen);
        producer
            .produce_with_callback(&topic, Record::value(format!("{i}")), move |outcome| {
                let mut seen = seen2.lock().unwrap_or_else(PoisonError::into_inner);
                seen[index].outcome = Some((Instant::now(), outcome));
            })
            .unwrap_or_else(|e| panic!("record {i}: {e}"));
    }
    let left = producer.flush(Duration::from_secs(60)).await;
    cluster.resume(node).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(left, 0, "records without an outcome");

    let seen = seen.lock().unwrap_or_else(PoisonError::into_inner);
    let mut early = Vec::new();
    let mut late = Vec::new();
    let mut waits = Vec::new();
    let mut causes = std::collections::BTreeSet::new();
    for (i, record) in seen.iter().enumerate() {
        let Some((at, outcome)) = &record.outcome else {
            panic!("record {i} has no outcome");
        };
        let waited = at.duration_since(record.produced);
        waits.push(waited);
        let Err(Error::DeliveryTimeout {
            last_error: Some(cause),
            ..
        }) = outcome
        else {
            panic!("record {i}: expected a delivery timeout with its cause, got {outcome:?}");
        };
        // What was tried last: the request that timed out, the connection that could not be
        // made again, or what the record waited for.
        let cause = cause.to_string();
        causes.insert(cause.clone());
        assert!(
            cause.contains("timed out")
                || cause.contains("ApiVersions")
                || cause.contains("never sent"),
            "record {i}: {cause}"
        );
        if waited < DELIVERY_TIMEOUT {
            early.push((i, waited));
        }
        // A record in flight when its time is up waits for its request's timeout at most.
        if waited > DELIVERY_TIMEOUT + REQUEST_TIMEOUT + Duration::from_secs(1) {
            late.push((i, waited));
        }
    }
    assert!(
        early.is_empty(),
        "records failed before their own timeout: {early:?}"
    );
    assert!(
        late.is_empty(),
        "records failed long after their timeout: {late:?}"
    );
    eprintln!(
        "waits from produce to failure: min {:?}, max {:?}; causes: {causes:#?}",
        waits.iter().min(),
        waits.iter().max()
    );
}
