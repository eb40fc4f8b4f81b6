//! Tests of node control on real brokers: `pause` returns only once every thread of the
//! JVM is stopped, so a request sent right after gets no answer; two nodes restarted at
//! once both come back; a node restarted on a new port is listed there by every node, its
//! old port refuses connections, and records still flow through it.

use std::time::Duration;

use kiel_testcontainers::{fetch_metadata, KafkaCluster};

const WAIT: Duration = Duration::from_secs(90);

/// How long a start or restart may take here; shorter than the harness's default so that
/// a hang fails the test in reasonable time.
const STARTUP: Duration = Duration::from_secs(90);

async fn cluster_of(nodes: usize) -> KafkaCluster {
    KafkaCluster::builder()
        .nodes(nodes)
        .auto_create_topics(false)
        .replication_factor(nodes.min(3) as u32)
        .min_insync_replicas(nodes.min(2) as u32)
        .startup_timeout(STARTUP)
        .start()
        .await
        .unwrap_or_else(|e| panic!("{nodes}-node cluster: {e}"))
}

/// The state letter of every thread of process `pid`, from `/proc/<pid>/task/*/stat`
/// (read here on its own, not through the harness).
fn thread_states(pid: u32) -> Vec<(String, char)> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the JVM's threads");
    let mut states = Vec::new();
    for entry in tasks.flatten() {
        // A thread that ended between listing and reading has no stat any more.
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let after_name = &stat[stat.rfind(')').expect("stat has a name") + 1..];
        let state = after_name.trim_start().chars().next().expect("a state");
        states.push((entry.file_name().to_string_lossy().into_owned(), state));
    }
    states
}

/// The brokers a node's Metadata lists, as `(id, "host:port")`, sorted.
async fn listed_by(address: &str) -> Vec<(i32, String)> {
    let metadata = fetch_metadata(address, &[], WAIT)
        .await
        .unwrap_or_else(|e| panic!("Metadata from {address}: {e}"));
    let mut brokers: Vec<(i32, String)> = metadata
        .brokers
        .iter()
        .map(|b| (b.node_id, format!("{}:{}", b.host, b.port)))
        .collect();
    brokers.sort_unstable();
    brokers
}

/// What every node should list: each node at its current address.
fn current_addresses(cluster: &KafkaCluster) -> Vec<(i32, String)> {
    cluster
        .node_ids()
        .into_iter()
        .map(|id| (id, cluster.broker_address(id).expect("a local node")))
        .collect()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_returns_once_every_thread_of_the_jvm_is_stopped() {
    let cluster = cluster_of(1).await;
    let address = cluster.broker_address(1).unwrap();
    let pid = cluster.pid(1).unwrap().expect("running");
    // Several rounds: right after SIGSTOP some of the JVM's threads are often still
    // running; each round must find every one stopped (or, for a thread that was ending,
    // dead).
    for round in 0..20 {
        cluster.pause(1).expect("pause");
        let states = thread_states(pid);
        let not_stopped: Vec<&(String, char)> = states
            .iter()
            .filter(|(_, state)| !matches!(state, 'T' | 'Z' | 'X'))
            .collect();
        assert!(
            not_stopped.is_empty(),
            "round {round}: pause returned while threads (tid, state) {not_stopped:?} \
             of {} were not stopped",
            states.len()
        );
        let answer = fetch_metadata(&address, &[], Duration::from_millis(500)).await;
        assert!(
            answer.is_err(),
            "round {round}: the paused node answered Metadata: {answer:?}"
        );
        cluster.resume(1).expect("resume");
        fetch_metadata(&address, &[], WAIT)
            .await
            .unwrap_or_else(|e| panic!("round {round}: the resumed node does not answer: {e}"));
    }
}

/// Restarts nodes 1 and 2 at once and checks that both were restarted and that every
/// node lists all three at their addresses.
async fn restart_two_at_once(cluster: &KafkaCluster, what: &str) {
    let before: Vec<Option<u32>> = [1, 2].iter().map(|&n| cluster.pid(n).unwrap()).collect();
    let (first, second) = tokio::join!(cluster.restart(1), cluster.restart(2));
    first.unwrap_or_else(|e| panic!("{what}: restart node 1: {e}"));
    second.unwrap_or_else(|e| panic!("{what}: restart node 2: {e}"));
    for (node, old) in [1, 2].into_iter().zip(before) {
        let new = cluster.pid(node).unwrap();
        assert!(
            new.is_some() && new != old,
            "{what}: node {node} was not restarted"
        );
    }
    let expected = current_addresses(cluster);
    assert_eq!(expected.len(), 3);
    for id in cluster.node_ids() {
        let address = cluster.broker_address(id).unwrap();
        assert_eq!(
            listed_by(&address).await,
            expected,
            "{what}: as seen by node {id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_restarted_at_once_both_come_back() {
    let cluster = cluster_of(3).await;
    // Running nodes: each restart stops its node first (SIGTERM).
    restart_two_at_once(&cluster, "two running nodes").await;
    // Crashed nodes: neither restart has anything to stop, so both start at once; one
    // of three nodes alone has no quorum, so neither can come back without the other.
    cluster.kill(1).expect("kill node 1");
    cluster.kill(2).expect("kill node 2");
    restart_two_at_once(&cluster, "two crashed nodes").await;
}

/// Moves `node` to a new port and checks what every test of it checks: a new address,
/// listed there by every node, and nothing listening at the old one.
async fn move_and_check(cluster: &KafkaCluster, node: i32) -> String {
    let old = cluster.broker_address(node).unwrap();
    let new = cluster
        .restart_on_new_port(node)
        .await
        .expect("restart on a new port");
    assert_ne!(new, old);
    assert_eq!(cluster.broker_address(node).unwrap(), new);
    assert!(cluster.bootstrap().split(',').any(|a| a == new));
    assert!(!cluster.bootstrap().split(',').any(|a| a == old));
    let expected = current_addresses(cluster);
    assert!(expected.contains(&(node, new.clone())));
    for id in cluster.node_ids() {
        let address = cluster.broker_address(id).unwrap();
        assert_eq!(listed_by(&address).await, expected, "as seen by node {id}");
    }
    let refused = tokio::net::TcpStream::connect(&old).await;
    assert!(
        refused.is_err(),
        "the old address {old} still accepts connections"
    );
    new
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_node_restarted_on_a_new_port_serves_there() {
    let cluster = cluster_of(1).await;
    move_and_check(&cluster, 1).await;
    cluster
        .create_topic("moved", 1, 1, &[])
        .await
        .expect("create topic");
    let perf = cluster
        .run_producer_perf("moved", 500, 50, &[("acks", "all")])
        .await
        .expect("writes to the new port");
    assert_eq!(perf.records, 500);
    let records = cluster
        .consume_all("moved", 500, Duration::from_secs(60))
        .await
        .expect("read back");
    assert_eq!(records.len(), 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_of_three_restarted_on_a_new_port_is_listed_there_and_replicates() {
    let cluster = cluster_of(3).await;
    move_and_check(&cluster, 2).await;
    // Partitions led by node 2 take writes at its new address and the others fetch from
    // it there; acks=all with min.insync.replicas=2 needs that replication.
    cluster
        .create_topic("moved", 3, 3, &[("min.insync.replicas", "2")])
        .await
        .expect("create topic");
    for partition in 0..3 {
        cluster
            .wait_for_partition("moved", partition, WAIT, "three in-sync replicas", |p| {
                p.isr.len() == 3
            })
            .await
            .expect("full ISR");
    }
    let perf = cluster
        .run_producer_perf("moved", 1_000, 50, &[("acks", "all")])
        .await
        .expect("writes with acks=all");
    assert_eq!(perf.records, 1_000);
    let records = cluster
        .consume_all("moved", 1_000, Duration::from_secs(60))
        .await
        .expect("read back");
    assert_eq!(records.len(), 1_000);
}
