//! Delivery drills (issue 5): the producer against a real 3-node cluster (replication
//! factor 3, `min.insync.replicas=2`) while brokers die, freeze and lose connections,
//! read back with Kafka's own console consumer.
//!
//! Each drill produces records `0..n` over 12 partitions (record `i` to partition
//! `i % 12`, value `i`), 5 requests in flight, acks=all, while one fault schedule runs
//! (see `faults.rs`), then counts: acknowledged, lost (acknowledged, not in the log),
//! duplicated (extra copies), out of order (within a partition), unresolved (futures never
//! resolved). With idempotence on, all of these but acknowledged must be 0 and every
//! record acknowledged; with it off, duplicates and reordering are reported, not failed
//! on (that is what idempotence buys); nothing acknowledged may be lost either way.
//!
//! `transactions_while_the_coordinator_and_leaders_are_killed` is the transactional drill
//! (see `transactional.rs`): transactions of 50-500 records while the transaction
//! coordinator and partition leaders are killed in turn; CI runs 60 transactions, the full
//! size 2,000 (`KIEL_DRILL_TRANSACTIONS` picks another count).
//!
//! `kill_leaders_idempotent_over_sasl_ssl` runs the leader-kill drill through the cluster's
//! SASL_SSL listeners (SCRAM-SHA-512 over TLS): every reconnection to a restarted leader is a
//! new TLS handshake and SCRAM exchange.
//!
//! Sizes: CI runs 40,000 records at up to 8,000/s. The full size (1,000,000 records at up
//! to 25,000/s, ~40 s of faults per drill) runs with
//! `KIEL_FULL=1 cargo test --release -p kiel --test drills -- --nocapture --test-threads 1`;
//! `KIEL_DRILL_RECORDS` and `KIEL_DRILL_RATE` pick other sizes. Each drill prints a row of
//! the drill table.
//!
//! # References
//! - `shared/design/protocol.md` §7–8 (idempotence rules the Java client follows)
//! - KIP-98 (idempotent producer), KIP-360 (epoch bump on unknown producer / sequence gaps)

#[path = "../common/mod.rs"]
mod common;
mod faults;
mod transactional;
mod verdict;
mod workload;

use std::time::{Duration, Instant};

use kiel::config::{Sasl, Security, Tls};
use kiel::{Acks, Producer};
use kiel_testcontainers::{FaultProxies, KafkaCluster, Listener};
use tokio::sync::{watch, Mutex};

use faults::Drill;
use verdict::Verdict;
use workload::Progress;

/// Partitions of every drill topic.
const PARTITIONS: u32 = 12;
/// The producer's request timeout (the pause drill freezes a broker for longer).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Long enough that no record expires: a drill counts faults' effects, not timeouts.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(900);

/// With `KIEL_DRILL_LOG=debug` (or another level) kiel's tracing events are printed, with
/// the time, to standard error: what the client did around a slow call.
fn print_client_logs() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    let Some(level) = std::env::var("KIEL_DRILL_LOG")
        .ok()
        .and_then(|v| v.parse::<tracing::Level>().ok())
    else {
        return;
    };
    ONCE.call_once(|| {
        use tracing_subscriber::layer::SubscriberExt;
        let targets = tracing_subscriber::filter::Targets::new().with_target("kiel", level);
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
            .with(targets);
        let _ = tracing::subscriber::set_global_default(subscriber);
    });
}

/// Drills run one at a time: each has a 3-node cluster of its own.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

struct Size {
    records: u64,
    rate: u64,
}

fn size() -> Size {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let full = std::env::var_os("KIEL_FULL").is_some();
    Size {
        records: env("KIEL_DRILL_RECORDS").unwrap_or(if full { 1_000_000 } else { 40_000 }),
        rate: env("KIEL_DRILL_RATE").unwrap_or(if full { 25_000 } else { 8_000 }),
    }
}

/// How the drill's producer reaches the cluster.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// The harness's PLAINTEXT listeners.
    Plaintext,
    /// The SASL_SSL listeners, SCRAM-SHA-512 over TLS with the cluster's CA.
    SaslSsl,
}

async fn three_nodes(access: Access) -> KafkaCluster {
    let builder = KafkaCluster::builder();
    let builder = match access {
        Access::Plaintext => builder,
        Access::SaslSsl => builder.secured(),
    };
    builder
        .nodes(3)
        .auto_create_topics(false)
        .replication_factor(3)
        .min_insync_replicas(2)
        // A frozen follower leaves the ISR after 10 s rather than 30 s, so that acks=all
        // writes resume sooner in the pause drill.
        .broker_property("replica.lag.time.max.ms", "10000")
        .start()
        .await
        .unwrap_or_else(|e| panic!("the drills need a 3-node Kafka cluster: {e}"))
}

async fn run_drill(drill: Drill, idempotence: bool) -> Verdict {
    run_drill_through(drill, idempotence, Access::Plaintext).await
}

async fn run_drill_through(drill: Drill, idempotence: bool, access: Access) -> Verdict {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let size = size();
    let cluster = three_nodes(access).await;
    let topic = common::unique(drill.name());
    cluster
        .create_topic(&topic, PARTITIONS, 3, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let proxies = match drill {
        Drill::CutConnections => Some(
            FaultProxies::start(&cluster)
                .await
                .unwrap_or_else(|e| panic!("{e}")),
        ),
        _ => None,
    };
    let builder = match access {
        Access::Plaintext => Producer::builder().bootstrap_servers(
            &proxies
                .as_ref()
                .map_or_else(|| cluster.bootstrap(), FaultProxies::bootstrap),
        ),
        Access::SaslSsl => {
            assert!(proxies.is_none(), "the fault proxies carry PLAINTEXT only");
            let security = cluster.security().unwrap_or_else(|| panic!("secured"));
            let user = security.user();
            Producer::builder()
                .bootstrap_servers(
                    &cluster
                        .bootstrap_for(Listener::SaslSsl)
                        .unwrap_or_else(|e| panic!("{e}")),
                )
                .security(
                    Security::sasl_ssl(Sasl::scram_sha512(user.name(), user.password()))
                        .tls(Tls::default().ca_file(security.ca_path())),
                )
        }
    };
    let producer = builder
        .idempotence(idempotence)
        .acks(Acks::All)
        .max_in_flight(5)
        .linger(Duration::from_millis(5))
        .batch_size(16 * 1024)
        .request_timeout(REQUEST_TIMEOUT)
        .delivery_timeout(DELIVERY_TIMEOUT)
        .max_block(DELIVERY_TIMEOUT)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let started = Instant::now();
    let (progress, watching) = watch::channel(Progress::default());
    let (collector, faults) = tokio::join!(
        workload::produce_all(
            &producer,
            &topic,
            size.records,
            PARTITIONS,
            size.rate,
            &progress
        ),
        faults::run(
            drill,
            &cluster,
            proxies.as_ref(),
            &topic,
            PARTITIONS,
            size.records,
            watching
        ),
    );
    let left = producer.flush(DELIVERY_TIMEOUT).await;
    producer.close().await;
    let outcomes = collector.finish();
    let elapsed = started.elapsed();
    let verdict = verdict::judge(&cluster, &topic, PARTITIONS, &outcomes).await;

    let mode = if idempotence { "on" } else { "off" };
    let name = match access {
        Access::Plaintext => drill.name().to_owned(),
        Access::SaslSsl => format!("{} (SASL_SSL SCRAM-SHA-512)", drill.name()),
    };
    eprintln!(
        "| drill | idempotence | records | acknowledged | failed | lost | duplicated | out of order | unresolved | time | faults |"
    );
    eprintln!(
        "| {name} | {mode} | {} | {} | {} | {} | {} | {} | {} | {:.0} s | {faults} |",
        verdict.records,
        verdict.acknowledged,
        verdict.failed,
        verdict.lost,
        verdict.duplicated,
        verdict.out_of_order,
        verdict.unresolved,
        elapsed.as_secs_f64(),
    );
    eprintln!(
        "  log holds {} records; {left} left after flush; outcomes out of order {}; misplaced {}, failed but written {}, foreign {}; errors: {:?}",
        verdict.log_records,
        outcomes.order_violations.len(),
        verdict.misplaced,
        verdict.failed_but_written,
        verdict.foreign,
        outcomes.error_samples
    );

    // Whatever the mode: nothing acknowledged is lost, every record gets an outcome, in
    // produce order per partition, the log holds only what was produced, and acknowledged
    // records are where their futures said.
    assert!(
        outcomes.order_violations.is_empty(),
        "{}: {} outcomes out of produce order, e.g. {:?}",
        drill.name(),
        outcomes.order_violations.len(),
        &outcomes.order_violations[..outcomes.order_violations.len().min(3)]
    );
    assert_eq!(
        verdict.lost,
        0,
        "{}: acknowledged records lost",
        drill.name()
    );
    assert_eq!(
        verdict.unresolved,
        0,
        "{}: futures never resolved",
        drill.name()
    );
    assert_eq!(
        verdict.foreign,
        0,
        "{}: records the drill did not write",
        drill.name()
    );
    assert_eq!(
        verdict.misplaced,
        0,
        "{}: records not at their reported offset",
        drill.name()
    );
    if idempotence {
        assert_eq!(verdict.duplicated, 0, "{}: duplicates", drill.name());
        assert_eq!(verdict.out_of_order, 0, "{}: out of order", drill.name());
        assert_eq!(
            verdict.acknowledged,
            verdict.records,
            "{}: not every record acknowledged: {:?}",
            drill.name(),
            outcomes.error_samples
        );
    }
    verdict
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_leaders_idempotent() {
    run_drill(Drill::KillLeaders, true).await;
}

/// The same drill over TLS and SASL: a killed leader's connections come back through a new
/// TLS handshake and SCRAM exchange while records wait and are retried in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_leaders_idempotent_over_sasl_ssl() {
    run_drill_through(Drill::KillLeaders, true, Access::SaslSsl).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_leaders_without_idempotence() {
    run_drill(Drill::KillLeaders, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_broker_idempotent() {
    run_drill(Drill::PauseBroker, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_broker_without_idempotence() {
    run_drill(Drill::PauseBroker, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_connections_idempotent() {
    run_drill(Drill::CutConnections, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cut_connections_without_idempotence() {
    run_drill(Drill::CutConnections, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_cluster_idempotent() {
    run_drill(Drill::RestartCluster, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_cluster_without_idempotence() {
    run_drill(Drill::RestartCluster, false).await;
}

/// Transactions of 50-500 records over 12 partitions while the transaction coordinator and
/// partition leaders are SIGKILLed and restarted in turn: read_committed sees every
/// committed transaction whole, once, in order per partition, and nothing of an aborted one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transactions_while_the_coordinator_and_leaders_are_killed() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    print_client_logs();
    let transactions: usize = std::env::var("KIEL_DRILL_TRANSACTIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if std::env::var_os("KIEL_FULL").is_some() {
            2_000
        } else {
            60
        });
    let cluster = three_nodes(Access::Plaintext).await;
    let drill = Drill::KillCoordinatorAndLeaders;
    let topic = common::unique(drill.name());
    cluster
        .create_topic(&topic, PARTITIONS, 3, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let started = Instant::now();
    let (progress, watching) = watch::channel(Progress::default());
    // About 275 records a transaction: the faults start after a tenth of them.
    let estimated_records = transactions as u64 * 275;
    let (workload, faults) = tokio::join!(
        transactional::run(
            &cluster,
            &topic,
            PARTITIONS,
            transactions,
            REQUEST_TIMEOUT,
            &progress
        ),
        faults::run(
            drill,
            &cluster,
            None,
            &topic,
            PARTITIONS,
            estimated_records,
            watching
        ),
    );
    let elapsed = started.elapsed();
    let verdict = transactional::judge(&cluster, &topic, &workload).await;
    let records: u64 = workload
        .transactions
        .iter()
        .map(|t| u64::from(t.records))
        .sum();
    eprintln!(
        "| drill | transactions | records | committed | aborted | unknown | read (read_committed) | incomplete | duplicated | aborted visible | out of order | commit p50 / p99 / max | time | faults |"
    );
    eprintln!(
        "| {} | {} | {records} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} / {:.1} / {:.1} s | {:.0} s | {faults} |",
        drill.name(),
        workload.transactions.len(),
        verdict.committed,
        verdict.aborted,
        verdict.unknown,
        verdict.read,
        verdict.incomplete,
        verdict.duplicated,
        verdict.aborted_visible,
        verdict.out_of_order,
        workload.call_quantile(0.5).as_secs_f64(),
        workload.call_quantile(0.99).as_secs_f64(),
        workload.call_quantile(1.0).as_secs_f64(),
        elapsed.as_secs_f64(),
    );
    eprintln!(
        "  producers replaced {}, committed records that failed {}, partial unknown {}, foreign {}; errors: {:?}",
        workload.replaced,
        workload.committed_but_failed,
        verdict.partial_unknown,
        verdict.foreign,
        workload.error_samples
    );
    assert!(verdict.committed > 0, "no transaction committed");
    assert_eq!(verdict.incomplete, 0, "committed transactions not whole");
    assert_eq!(verdict.duplicated, 0, "records seen twice");
    assert_eq!(
        verdict.aborted_visible, 0,
        "records of aborted transactions visible"
    );
    assert_eq!(verdict.partial_unknown, 0, "a transaction visible in part");
    assert_eq!(
        verdict.out_of_order, 0,
        "records out of order in a partition"
    );
    assert_eq!(verdict.foreign, 0, "records the drill did not write");
    assert_eq!(
        workload.committed_but_failed, 0,
        "records of committed transactions reported failed"
    );
}
