//! A producer's life at its edges, against a real single-node Apache Kafka: "forever" as a
//! timeout, and every way a producer can go away (dropped, closed, its runtime shut down),
//! each of which must leave every record with exactly one outcome.

mod common;

use common::unique;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use kiel::{Error, Producer, Record};
use kiel_testcontainers::{shared_cluster, KafkaCluster};

async fn cluster() -> &'static KafkaCluster {
    shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a Kafka broker: {e}"))
}

const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// How many records each drop test produces (the outside report used 5,000).
const RECORDS: usize = 5_000;

/// Counts callback outcomes: acknowledged, closed, other errors, and calls in all.
#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    closed: AtomicUsize,
    other: AtomicUsize,
}

impl Tally {
    fn callback(self: &Arc<Self>) -> impl FnOnce(kiel::Result<kiel::RecordMetadata>) + Send {
        let tally = Arc::clone(self);
        move |outcome| {
            let counter = match outcome {
                Ok(_) => &tally.ok,
                Err(Error::Closed) => &tally.closed,
                Err(_) => &tally.other,
            };
            counter.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn calls(&self) -> usize {
        self.ok.load(Ordering::SeqCst)
            + self.closed.load(Ordering::SeqCst)
            + self.other.load(Ordering::SeqCst)
    }
}

/// Polls a future once: resolved or not.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    match std::pin::Pin::new(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forever_means_forever() {
    let cluster = cluster().await;
    let topic = unique("forever");
    let producer = Producer::builder()
        .bootstrap_servers(&cluster.bootstrap())
        .max_block(Duration::MAX)
        .delivery_timeout(Duration::MAX)
        .request_timeout(Duration::MAX)
        .linger(Duration::MAX)
        // A backoff of forever would never ask twice for the new topic's metadata; its
        // ceiling may be forever.
        .retry_backoff(Duration::from_millis(100), Duration::MAX)
        .metadata_max_age(Duration::MAX)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(producer.partition_count(&topic).await.ok(), Some(1));
    let futures: Vec<_> = (0..100)
        .map(|i| {
            producer
                .produce(&topic, Record::value(format!("{i}")))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let queued = producer
        .enqueue(&topic, Record::value("enqueued"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // linger.ms is forever: only the flush sends them.
    assert_eq!(producer.flush(Duration::MAX).await, 0);
    for future in futures {
        future.await.unwrap_or_else(|e| panic!("{e}"));
    }
    queued.await.unwrap_or_else(|e| panic!("{e}"));
    let sent = tokio::time::timeout(Duration::from_secs(30), async {
        let sending = producer.send(&topic, Record::value("sent"));
        tokio::pin!(sending);
        loop {
            tokio::select! {
                sent = &mut sending => break sent,
                // send() waits for its acknowledgement, its batch for a flush.
                _ = producer.flush(Duration::from_millis(100)) => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("send with forever timeouts never finished"));
    assert!(sent.is_ok(), "{sent:?}");
    producer.close().await;
    let read = cluster
        .consume_all(&topic, 102, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len(), 102);

    // The same by the names users configure, in milliseconds.
    let forever = u64::MAX.to_string();
    let producer = Producer::from_properties([
        ("bootstrap.servers", cluster.bootstrap().as_str()),
        ("max.block.ms", &forever),
        ("delivery.timeout.ms", &forever),
        ("request.timeout.ms", &forever),
        ("retry.backoff.max.ms", &forever),
        ("metadata.max.age.ms", &forever),
        ("socket.connection.setup.timeout.ms", &forever),
        ("reconnect.backoff.ms", &forever),
    ])
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    producer
        .send(&topic, Record::value("by properties"))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    producer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_blocking_producer_waits_for_every_outcome() {
    let cluster = cluster().await;
    let bootstrap = cluster.bootstrap();
    let topic = unique("drop-blocking");
    let tally = Arc::new(Tally::default());
    let (topic2, tally2) = (topic.clone(), Arc::clone(&tally));
    tokio::task::spawn_blocking(move || {
        let producer = kiel::blocking::Producer::new(&bootstrap).unwrap_or_else(|e| panic!("{e}"));
        for i in 0..RECORDS {
            producer
                .produce_with_callback(&topic2, Record::value(format!("{i}")), tally2.callback())
                .unwrap_or_else(|e| panic!("record {i}: {e}"));
        }
        // No close(), no flush(): just gone.
        drop(producer);
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tally.calls(), RECORDS, "callbacks that never ran");
    assert_eq!(
        tally.ok.load(Ordering::SeqCst),
        RECORDS,
        "not every record acknowledged"
    );
    let read = cluster
        .consume_all(&topic, RECORDS, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len(), RECORDS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_async_producer_drains_in_the_background() {
    let cluster = cluster().await;
    let topic = unique("drop-async");
    let producer = Producer::new(&cluster.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let tally = Arc::new(Tally::default());
    let mut futures = Vec::new();
    for i in 0..RECORDS {
        let record = Record::value(format!("{i}"));
        if i % 2 == 0 {
            futures.push(
                producer
                    .produce(&topic, record)
                    .unwrap_or_else(|e| panic!("{e}")),
            );
        } else {
            producer
                .produce_with_callback(&topic, record, tally.callback())
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    drop(producer);
    for future in futures {
        future.await.unwrap_or_else(|e| panic!("{e}"));
    }
    let read = cluster
        .consume_all(&topic, RECORDS, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len(), RECORDS);
    // The callbacks ran before the last future was ready: their records came earlier or in
    // the same batches.
    assert_eq!(tally.ok.load(Ordering::SeqCst), RECORDS / 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_shut_down_under_the_producer_leaves_no_record_without_an_outcome() {
    let cluster = cluster().await;
    let bootstrap = cluster.bootstrap();
    let topic = unique("drop-runtime");
    let tally = Arc::new(Tally::default());
    let (topic2, tally2) = (topic.clone(), Arc::clone(&tally));
    let (producer, futures) = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let producer = runtime
            .block_on(Producer::new(&bootstrap))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut futures = Vec::new();
        for i in 0..RECORDS {
            let record = Record::value(format!("{i}"));
            if i % 2 == 0 {
                futures.push(
                    producer
                        .produce(&topic2, record)
                        .unwrap_or_else(|e| panic!("{e}")),
                );
            } else {
                producer
                    .produce_with_callback(&topic2, record, tally2.callback())
                    .unwrap_or_else(|e| panic!("{e}"));
            }
        }
        // The runtime goes away with the producer's task, without close().
        drop(runtime);
        (producer, futures)
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(tally.calls(), RECORDS / 2, "callbacks that never ran");
    assert_eq!(tally.other.load(Ordering::SeqCst), 0);
    let mut acknowledged = tally.ok.load(Ordering::SeqCst);
    for (i, mut future) in futures.into_iter().enumerate() {
        match poll_once(&mut future) {
            Some(Ok(_)) => acknowledged += 1,
            Some(Err(Error::Closed)) => {}
            Some(Err(e)) => panic!("record {}: {e}", 2 * i),
            None => panic!("record {} will never get an outcome", 2 * i),
        }
    }
    // The handle outlived its runtime: it takes no more records.
    assert!(matches!(
        producer.produce(&topic, Record::value("late")).map(drop),
        Err(Error::Closed)
    ));
    drop(producer);
    // What was acknowledged is in the log (more may be: written, but the answer was lost).
    let read = cluster
        .consume_all(&topic, acknowledged, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        read.len() >= acknowledged,
        "{} < {acknowledged}",
        read.len()
    );
}
