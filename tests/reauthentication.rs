//! KIP-368 re-authentication against a real broker that limits SASL sessions
//! (`connections.max.reauth.ms` = 10 s on its SASL listeners): kiel produces without a pause
//! over SASL_SSL with SCRAM-SHA-512 and acks=all, and must renew every session on its open
//! connection in time. Without that, the broker closes each connection at its first request
//! after the session ended, and records are retried or fail.
//!
//! Checked: no record fails, every connection kiel opened stays open (none lost, none
//! reopened), sessions were renewed, each partition's offsets follow produce order, and
//! Kafka's console consumer reads every record once, in order.
//!
//! CI runs 25 s of production (at least two renewals per connection); the acceptance run is
//! a minute: `KIEL_FULL=1 cargo test --release -p kiel --test reauthentication -- --nocapture`.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::events::EventCounts;
use common::unique;
use kiel::config::{Sasl, Security, Tls};
use kiel::{Producer, Record};
use kiel_testcontainers::{KafkaCluster, Listener};

const SESSION: Duration = Duration::from_secs(10);
const PARTITIONS: u32 = 3;
/// Records produced every tick of `TICK`: 2,000 records a second.
const PER_TICK: u64 = 20;
const TICK: Duration = Duration::from_millis(10);

fn production_time() -> Duration {
    if std::env::var_os("KIEL_FULL").is_some() {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(25)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_are_renewed_on_open_connections_while_producing() {
    let events = EventCounts::install();
    let cluster = KafkaCluster::builder()
        .sasl_reauthentication(SESSION)
        .start()
        .await
        .unwrap_or_else(|e| {
            panic!("this test needs a secured Kafka cluster (Java 17+ and Maven): {e}")
        });
    let security = cluster.security().unwrap_or_else(|| panic!("secured"));
    let user = security.user();
    let topic = unique("reauth");
    cluster
        .create_topic(&topic, PARTITIONS, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::builder()
        .bootstrap_servers(
            &cluster
                .bootstrap_for(Listener::SaslSsl)
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .security(
            Security::sasl_ssl(Sasl::scram_sha512(user.name(), user.password()))
                .tls(Tls::default().ca_file(security.ca_path())),
        )
        .acks(kiel::Acks::All)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    // The first record opens every connection the run needs; count them after it.
    producer
        .produce(&topic, Record::key_value("warm-up", "warm-up"))
        .unwrap_or_else(|e| panic!("{e}"))
        .await
        .unwrap_or_else(|e| panic!("warm-up: {e}"));
    let opened_before = events.get("connected");
    let renewed_before = events.get("re-authenticated");

    let duration = production_time();
    let start = Instant::now();
    let mut ticks = tokio::time::interval(TICK);
    let mut pending = Vec::new();
    let mut next = 0u64;
    while start.elapsed() < duration {
        ticks.tick().await;
        for _ in 0..PER_TICK {
            let record = Record::key_value(format!("key-{}", next % 7), next.to_string());
            let outcome = producer
                .produce(&topic, record)
                .unwrap_or_else(|e| panic!("produce {next}: {e}"));
            pending.push((next, outcome));
            next += 1;
        }
    }
    let produced = next;
    let mut failed = Vec::new();
    let mut last_offset: HashMap<i32, i64> = HashMap::new();
    for (i, outcome) in pending {
        match outcome.await {
            Ok(metadata) => {
                let previous = last_offset.insert(metadata.partition, metadata.offset);
                assert!(
                    previous.is_none_or(|p| p < metadata.offset),
                    "record {i} at offset {} of partition {} after offset {previous:?}",
                    metadata.offset,
                    metadata.partition
                );
            }
            Err(e) => failed.push((i, e.to_string())),
        }
    }
    // Counted before close(), which ends the connections.
    let opened = events.get("connected") - opened_before;
    let renewed = events.get("re-authenticated") - renewed_before;
    let lost = events.get("connection lost") + events.get("connection closed");
    producer.close().await;
    println!(
        "{produced} records in {:.1} s over SASL_SSL SCRAM-SHA-512, sessions of {SESSION:?}: \
         {} failed, {renewed} sessions renewed, {opened} connections opened after the first \
         record ({opened_before} before), {lost} lost; events: {}",
        duration.as_secs_f64(),
        failed.len(),
        events.summary()
    );
    assert!(
        failed.is_empty(),
        "failed records: {:?}",
        &failed[..failed.len().min(5)]
    );
    assert_eq!(opened, 0, "connections reopened: {}", events.summary());
    assert_eq!(lost, 0, "connections lost: {}", events.summary());
    let least = duration.as_secs() / SESSION.as_secs();
    assert!(
        renewed >= least,
        "only {renewed} renewals in {duration:?} with {SESSION:?} sessions: {}",
        events.summary()
    );

    // Kafka's console consumer: every record once, each partition in produce order.
    let read = cluster
        .consume_all(&topic, produced as usize + 1, Duration::from_secs(120))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len() as u64, produced + 1, "records read back");
    let mut seen = vec![false; produced as usize];
    let mut last_in_partition: HashMap<i32, u64> = HashMap::new();
    for r in read {
        let value = String::from_utf8(r.value.clone().unwrap_or_default()).unwrap_or_default();
        if value == "warm-up" {
            continue;
        }
        let i: u64 = value
            .parse()
            .unwrap_or_else(|_| panic!("foreign record {value}"));
        assert!(
            !std::mem::replace(&mut seen[i as usize], true),
            "record {i} twice"
        );
        assert_eq!(r.key.as_deref(), Some(format!("key-{}", i % 7).as_bytes()));
        if let Some(previous) = last_in_partition.insert(r.partition, i) {
            assert!(
                previous < i,
                "partition {}: record {i} after {previous}",
                r.partition
            );
        }
    }
}
