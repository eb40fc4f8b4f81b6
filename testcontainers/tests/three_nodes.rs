//! Tests of the harness on three nodes: the cluster starts and every node lists every
//! broker; a paused node is fenced and comes back when resumed; killing a partition
//! leader moves leadership, writes with acks=all still succeed with two in-sync replicas,
//! and a restart on the same data brings the node back into Metadata and the ISR;
//! restarting every node at once keeps what was written.

use std::time::Duration;

use kiel_testcontainers::KafkaCluster;

const WAIT: Duration = Duration::from_secs(90);

async fn three_nodes() -> KafkaCluster {
    let cluster = KafkaCluster::builder()
        .nodes(3)
        .auto_create_topics(false)
        .replication_factor(3)
        .min_insync_replicas(2)
        .start()
        .await
        .expect("three-node cluster");
    eprintln!("three nodes: {:?}", cluster.startup_timings());
    for id in cluster.node_ids() {
        let rss = cluster.rss_bytes(id).unwrap().unwrap_or(0);
        eprintln!("node {id} RSS: {} MiB", rss / (1024 * 1024));
    }
    cluster
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_start_and_a_paused_node_is_fenced_until_resumed() {
    let cluster = three_nodes().await;
    assert_eq!(cluster.node_ids(), vec![1, 2, 3]);
    for id in cluster.node_ids() {
        // Each node answers for itself and knows all three.
        let address = cluster.broker_address(id).unwrap();
        let single = KafkaCluster::connect(&address).await.expect("node answers");
        let mut listed: Vec<i32> = single
            .metadata(&[])
            .await
            .unwrap()
            .brokers
            .iter()
            .map(|b| b.node_id)
            .collect();
        listed.sort_unstable();
        assert_eq!(listed, vec![1, 2, 3], "as seen by node {id}");
    }
    assert_eq!(cluster.bootstrap().split(',').count(), 3);

    cluster.pause(3).expect("pause");
    assert!(cluster.pause(3).is_err(), "pausing twice is an error");
    cluster
        .wait_for_brokers(&[1, 2], WAIT)
        .await
        .expect("the paused node is fenced");
    cluster.resume(3).expect("resume");
    cluster
        .wait_for_brokers(&[1, 2, 3], WAIT)
        .await
        .expect("the resumed node is back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_leader_moves_leadership_and_a_restart_brings_it_back() {
    let cluster = three_nodes().await;
    let topic = "failover";
    cluster
        .create_topic(topic, 1, 3, &[("min.insync.replicas", "2")])
        .await
        .expect("create topic");
    let before = cluster
        .wait_for_partition(topic, 0, WAIT, "three in-sync replicas", |p| {
            p.isr.len() == 3
        })
        .await
        .expect("full ISR");
    let old_leader = before.leader.expect("a leader");
    assert_eq!(cluster.leader_of(topic, 0).await.unwrap(), old_leader);

    let old_pid = cluster.pid(old_leader).unwrap().expect("running");
    cluster.kill(old_leader).expect("kill");
    assert!(!kiel_testcontainers::process_is_alive(old_pid));
    assert!(
        cluster.kill(old_leader).is_err(),
        "killing a dead node is an error"
    );
    let after = cluster
        .wait_for_partition(topic, 0, WAIT, "a new leader and a shrunk ISR", |p| {
            p.leader.is_some_and(|l| l != old_leader) && !p.isr.contains(&old_leader)
        })
        .await
        .expect("leadership moved");
    let new_leader = after.leader.unwrap_or(-1);
    eprintln!(
        "leader {old_leader} killed; new leader {new_leader}, ISR {:?}",
        after.isr
    );
    assert_ne!(new_leader, old_leader);
    assert!(after.leader_epoch > before.leader_epoch);

    // Two in-sync replicas satisfy min.insync.replicas=2: acks=all writes succeed.
    let perf = cluster
        .run_producer_perf(topic, 1_000, 50, &[("acks", "all")])
        .await
        .expect("writes with one node down");
    assert_eq!(perf.records, 1_000);

    cluster.restart(old_leader).await.expect("restart");
    assert_ne!(cluster.pid(old_leader).unwrap(), Some(old_pid));
    cluster
        .wait_for_brokers(&[1, 2, 3], WAIT)
        .await
        .expect("the node is listed again");
    let rejoined = cluster
        .wait_for_partition(topic, 0, WAIT, "the restarted node in the ISR", |p| {
            p.isr.contains(&old_leader) && p.isr.len() == 3
        })
        .await
        .expect("ISR rejoined");
    eprintln!("after restart: {rejoined:?}");

    let records = cluster
        .consume_all(topic, 1_000, Duration::from_secs(60))
        .await
        .expect("read back");
    assert_eq!(records.len(), 1_000);
    assert!(records
        .iter()
        .enumerate()
        .all(|(i, r)| r.offset == i as i64));
    let log = std::fs::read_to_string(cluster.log_path(old_leader).unwrap()).unwrap();
    assert_eq!(
        log.matches("kiel-testcontainers: starting node").count(),
        2,
        "the log keeps both runs"
    );

    // The whole cluster crashes and comes back on the same data.
    let pids: Vec<Option<u32>> = cluster
        .node_ids()
        .iter()
        .map(|&n| cluster.pid(n).unwrap())
        .collect();
    cluster.restart_all().await.expect("restart all");
    for (&node, old) in cluster.node_ids().iter().zip(&pids) {
        let new = cluster.pid(node).unwrap();
        assert!(
            new.is_some() && new != *old,
            "node {node} was not restarted"
        );
    }
    let records = cluster
        .consume_all(topic, 1_000, Duration::from_secs(60))
        .await
        .expect("read back after restarting every node");
    assert_eq!(records.len(), 1_000);
}
