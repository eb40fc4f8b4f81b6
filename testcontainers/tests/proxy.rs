//! The fault proxy in front of a real broker: Metadata rewritten to the proxy, Kafka's own
//! Java producer working through it, and each fault (latency, black hole, cut) doing what
//! it says.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use kiel_protocol::frame::{decode_response, encode_request, FrameReader};
use kiel_protocol::messages::metadata::{MetadataRequest, MetadataResponse};
use kiel_testcontainers::{shared_cluster, FaultProxies, KafkaCluster};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const VERSION: i16 = 12;

async fn cluster() -> &'static KafkaCluster {
    shared_cluster()
        .await
        .unwrap_or_else(|e| panic!("the proxy tests need a broker: {e}"))
}

async fn send_metadata_request(stream: &mut TcpStream, correlation_id: i32) {
    let mut out = BytesMut::new();
    encode_request(
        &MetadataRequest::for_topics(std::iter::empty::<&str>()),
        VERSION,
        correlation_id,
        Some("proxy-test"),
        &mut out,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    stream
        .write_all(&out)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Reads one Metadata response; `Err` when the connection ends first.
async fn read_metadata_response(
    stream: &mut TcpStream,
    correlation_id: i32,
) -> Result<MetadataResponse, String> {
    let reader = FrameReader::default();
    let mut buf = BytesMut::new();
    loop {
        if let Some(frame) = reader.next_frame(&mut buf).map_err(|e| e.to_string())? {
            return decode_response::<MetadataRequest>(frame, VERSION, correlation_id)
                .map_err(|e| e.to_string());
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) => return Err("closed".to_owned()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Polls a proxy counter (they have no change notification) for up to 10 s.
async fn wait_until(condition: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn connect(address: &str) -> TcpStream {
    TcpStream::connect(address)
        .await
        .unwrap_or_else(|e| panic!("connecting to {address}: {e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_through_a_proxy_names_the_proxy() {
    let cluster = cluster().await;
    let proxies = FaultProxies::start(cluster)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let proxy = proxies.iter().next().unwrap_or_else(|| panic!("no proxy"));
    assert_ne!(proxy.address(), proxy.upstream());
    let mut stream = connect(proxy.address()).await;
    send_metadata_request(&mut stream, 7).await;
    let response = read_metadata_response(&mut stream, 7)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let listed: Vec<String> = response
        .brokers
        .iter()
        .map(|b| format!("{}:{}", b.host, b.port))
        .collect();
    assert_eq!(listed, vec![proxy.address().to_owned()]);
    let stats = proxies.stats();
    assert_eq!(stats.metadata_rewritten, 1);
    assert_eq!(stats.rewrite_failures, 0);
    assert_eq!(stats.connections_accepted, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_java_producer_works_through_the_proxies_only() {
    let cluster = cluster().await;
    let topic = format!("through-proxy-{:x}", rand::random::<u32>());
    cluster
        .create_topic(&topic, 3, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let proxies = FaultProxies::start(cluster)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let bootstrap = format!("bootstrap.servers={}", proxies.bootstrap());
    let output = cluster
        .run_tool(
            "org.apache.kafka.tools.ProducerPerformance",
            &[
                "--topic",
                &topic,
                "--num-records",
                "5000",
                "--record-size",
                "100",
                "--throughput",
                "-1",
                "--producer-props",
                &bootstrap,
                "acks=all",
            ],
            Duration::from_secs(120),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(output.success, "ProducerPerformance failed: {output:?}");
    let read = cluster
        .consume_all(&topic, 5000, Duration::from_secs(60))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len(), 5000);
    let stats = proxies.stats();
    // One bootstrap connection, then at least one to the broker by its rewritten address.
    assert!(stats.connections_accepted >= 2, "{stats:?}");
    assert!(stats.metadata_rewritten >= 1, "{stats:?}");
    assert_eq!(
        stats.rewrite_failures + stats.protocol_errors,
        0,
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_delays_both_directions() {
    let cluster = cluster().await;
    let proxies = FaultProxies::start(cluster)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let latency = Duration::from_millis(300);
    proxies.set_latency_all(latency);
    let proxy = proxies.iter().next().unwrap_or_else(|| panic!("no proxy"));
    let mut stream = connect(proxy.address()).await;
    let started = Instant::now();
    send_metadata_request(&mut stream, 1).await;
    read_metadata_response(&mut stream, 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let took = started.elapsed();
    assert!(took >= 2 * latency, "round trip took {took:?}");
    proxy.resume();
    let started = Instant::now();
    send_metadata_request(&mut stream, 2).await;
    read_metadata_response(&mut stream, 2)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "with 300 ms each way: {took:?}; after resume: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_black_hole_holds_everything_until_resumed() {
    let cluster = cluster().await;
    let proxies = FaultProxies::start(cluster)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let proxy = proxies.iter().next().unwrap_or_else(|| panic!("no proxy"));
    let mut open_before = connect(proxy.address()).await;
    proxy.black_hole();
    let mut opened_during = connect(proxy.address()).await;
    send_metadata_request(&mut open_before, 1).await;
    send_metadata_request(&mut opened_during, 2).await;
    let held = tokio::time::timeout(
        Duration::from_secs(2),
        read_metadata_response(&mut open_before, 1),
    )
    .await;
    assert!(
        held.is_err(),
        "an answer came through a black hole: {held:?}"
    );
    let held = tokio::time::timeout(
        Duration::from_millis(500),
        read_metadata_response(&mut opened_during, 2),
    )
    .await;
    assert!(
        held.is_err(),
        "an answer came through a black hole: {held:?}"
    );
    proxy.resume();
    for (stream, id) in [(&mut open_before, 1), (&mut opened_during, 2)] {
        tokio::time::timeout(Duration::from_secs(10), read_metadata_response(stream, id))
            .await
            .unwrap_or_else(|_| panic!("no answer {id} after resume"))
            .unwrap_or_else(|e| panic!("answer {id}: {e}"));
    }
    assert_eq!(proxies.stats().connections_accepted, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_resets_connections_with_requests_in_flight() {
    let cluster = cluster().await;
    let proxies = FaultProxies::start(cluster)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let proxy = proxies.iter().next().unwrap_or_else(|| panic!("no proxy"));
    let mut stream = connect(proxy.address()).await;
    send_metadata_request(&mut stream, 1).await;
    read_metadata_response(&mut stream, 1)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Hold the next request so that it is in flight when the cut comes.
    proxy.black_hole();
    send_metadata_request(&mut stream, 2).await;
    wait_until(
        || proxy.stats().requests == 2,
        "the proxy to read request 2",
    )
    .await;
    let stats_before = proxy.stats();
    proxy.cut();
    let after_cut = tokio::time::timeout(
        Duration::from_secs(10),
        read_metadata_response(&mut stream, 2),
    )
    .await
    .unwrap_or_else(|_| panic!("the cut connection stayed open"));
    assert!(after_cut.is_err(), "an answer after the cut: {after_cut:?}");
    proxy.resume();
    // The cut is counted once the connection's task has ended.
    wait_until(
        || proxy.stats().connections_cut > stats_before.connections_cut,
        "the cut to be counted",
    )
    .await;
    let stats = proxy.stats();
    assert_eq!(stats.connections_cut, 1, "{stats:?}");
    assert_eq!(stats.cuts_with_requests_in_flight, 1, "{stats:?}");
    assert_eq!(stats.requests_in_flight_at_cuts, 1, "{stats:?}");
    // New connections are served again.
    let mut fresh = connect(proxy.address()).await;
    send_metadata_request(&mut fresh, 3).await;
    read_metadata_response(&mut fresh, 3)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}
