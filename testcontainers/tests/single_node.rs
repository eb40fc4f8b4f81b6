//! A single-node cluster starts, answers Metadata with exactly one broker, and its
//! node can be inspected.

use std::time::Duration;

use kiel_testcontainers::KafkaCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_node_starts_and_lists_itself() {
    let cluster = KafkaCluster::builder()
        .start()
        .await
        .expect("single-node cluster");
    let t = cluster.startup_timings();
    eprintln!("single node started: {t:?}, version {:?}", cluster.version());
    assert_eq!(cluster.node_ids(), vec![1]);
    let metadata = cluster.metadata(&[]).await.expect("metadata");
    assert_eq!(metadata.brokers.len(), 1);
    let broker = &metadata.brokers[0];
    assert_eq!(broker.node_id, 1);
    assert_eq!(format!("{}:{}", broker.host, broker.port), cluster.bootstrap());
    assert_eq!(metadata.controller_id, 1);
    let rss = cluster.rss_bytes(1).unwrap().expect("running node has RSS");
    eprintln!("broker RSS: {} MiB", rss / (1024 * 1024));
    assert!(cluster.log_path(1).unwrap().is_file());
    let _ = Duration::ZERO;
}
