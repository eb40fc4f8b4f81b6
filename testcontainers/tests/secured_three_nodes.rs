//! A secured cluster of three nodes with SASL re-authentication (KIP-368) every 10 s:
//! every node serves every secured listener; Kafka's Java producer and console consumer
//! write and read a topic led by all three nodes through SASL_SSL with SCRAM-SHA-512; and
//! a hand-made SASL exchange over SASL_PLAINTEXT shows the broker's session lifetime
//! (the listener's `connections.max.reauth.ms`), that a token from
//! [`kiel_testcontainers::unsecured_jwt`] is accepted, and a wrong PLAIN password is not.
//!
//! Its own binary, so that its cluster never runs beside another test binary's shared one.

use std::collections::BTreeSet;
use std::time::Duration;

use kiel_testcontainers::{
    unsecured_jwt, ClientAuth, KafkaCluster, Listener, SaslMechanism, SaslUser,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const REAUTH: Duration = Duration::from_secs(10);

/// Kafka's SASL_AUTHENTICATION_FAILED error code.
const SASL_AUTHENTICATION_FAILED: i16 = 58;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_secured_nodes_serve_every_listener_and_reauthentication_is_announced() {
    let bob = SaslUser::new("bob", "bob-secret-1").unwrap();
    let cluster = KafkaCluster::builder()
        .nodes(3)
        .sasl_user(bob.clone())
        .sasl_reauthentication(REAUTH)
        .start()
        .await
        .expect("a 3-node secured cluster (needs Java 17+ and Maven, see the README)");
    eprintln!("3 secured nodes: {:?}", cluster.startup_timings());
    let security = cluster.security().expect("secured");
    assert_eq!(security.users(), std::slice::from_ref(&bob));
    assert_eq!(security.reauthentication(), Some(REAUTH));
    for listener in Listener::SECURED {
        let addresses: BTreeSet<String> = cluster
            .bootstrap_for(listener)
            .unwrap()
            .split(',')
            .map(str::to_owned)
            .collect();
        assert_eq!(addresses.len(), 3, "{listener} on every node");
    }

    // Java's clients through SASL_SSL, to partitions led by all three nodes.
    let topic = "secured-three";
    cluster
        .create_topic(topic, 3, 3, &[("min.insync.replicas", "2")])
        .await
        .unwrap();
    let mut leaders = BTreeSet::new();
    for partition in 0..3 {
        leaders.insert(cluster.leader_of(topic, partition).await.unwrap());
    }
    assert_eq!(leaders.len(), 3, "each node leads a partition: {leaders:?}");
    let client = cluster
        .client_config(
            Listener::SaslSsl,
            ClientAuth::Sasl(SaslMechanism::ScramSha512, bob.clone()),
        )
        .unwrap();
    // Round robin, so that every partition (and so every node's listener) gets records;
    // ProducerPerformance's records have no key, and the sticky default may skip one.
    let round_robin = "org.apache.kafka.clients.producer.RoundRobinPartitioner";
    let perf = cluster
        .run_producer_perf_through(
            topic,
            3000,
            100,
            &[("acks", "all"), ("partitioner.class", round_robin)],
            &client,
        )
        .await
        .expect("ProducerPerformance through SASL_SSL");
    assert_eq!(perf.records, 3000, "{}", perf.summary);
    let records = cluster
        .consume_through(topic, 3000, Duration::from_secs(30), &client)
        .await
        .expect("console consumer through SASL_SSL");
    let per_partition: BTreeSet<i32> = records.iter().map(|r| r.partition).collect();
    assert_eq!(records.len(), 3000);
    assert_eq!(per_partition.len(), 3, "records in every partition");

    // A SASL exchange by hand on every node's SASL_PLAINTEXT listener.
    for address in cluster
        .bootstrap_for(Listener::SaslPlaintext)
        .unwrap()
        .split(',')
    {
        let plain = format!("\0{}\0{}", bob.name(), bob.password());
        let (error, lifetime) = sasl_exchange(address, "PLAIN", plain.as_bytes()).await;
        assert_eq!(error, 0, "PLAIN at {address}");
        assert!(
            lifetime > 0 && lifetime <= REAUTH.as_millis() as i64,
            "session lifetime {lifetime} ms at {address}"
        );

        let token = unsecured_jwt("carol", Duration::from_secs(3600));
        let oauth = format!("n,,\x01auth=Bearer {token}\x01\x01");
        let (error, lifetime) = sasl_exchange(address, "OAUTHBEARER", oauth.as_bytes()).await;
        assert_eq!(error, 0, "OAUTHBEARER at {address}");
        assert!(
            lifetime > 0 && lifetime <= REAUTH.as_millis() as i64,
            "session lifetime {lifetime} ms at {address}"
        );

        let wrong = format!("\0{}\0not-{}", bob.name(), bob.password());
        let (error, _) = sasl_exchange(address, "PLAIN", wrong.as_bytes()).await;
        assert_eq!(
            error, SASL_AUTHENTICATION_FAILED,
            "wrong password at {address}"
        );
    }
}

/// SaslHandshake v1 for `mechanism`, then one SaslAuthenticate v1 with `auth_bytes`;
/// returns its error code and session lifetime (ms).
async fn sasl_exchange(address: &str, mechanism: &str, auth_bytes: &[u8]) -> (i16, i64) {
    let mut stream = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(address))
        .await
        .expect("connect in time")
        .expect("connect");
    // SaslHandshake (key 17) v1: mechanism.
    let mut body = Vec::new();
    put_string(&mut body, mechanism);
    let mut response = request(&mut stream, 17, 1, &body).await;
    let error = take_i16(&mut response);
    assert_eq!(error, 0, "SaslHandshake {mechanism} at {address}");
    // SaslAuthenticate (key 36) v1: auth_bytes.
    let mut body = Vec::new();
    body.extend_from_slice(&(auth_bytes.len() as i32).to_be_bytes());
    body.extend_from_slice(auth_bytes);
    let mut response = request(&mut stream, 36, 1, &body).await;
    let error = take_i16(&mut response);
    let message_len = take_i16(&mut response);
    if message_len > 0 {
        response.drain(..message_len as usize);
    }
    let bytes_len = take_i32(&mut response);
    if bytes_len > 0 {
        response.drain(..bytes_len as usize);
    }
    let lifetime = i64::from_be_bytes(response[..8].try_into().unwrap());
    (error, lifetime)
}

/// Sends one request (header v1, client id `kiel-test`) and returns the response body
/// after the correlation id.
async fn request(stream: &mut TcpStream, key: i16, version: i16, body: &[u8]) -> Vec<u8> {
    let mut frame = Vec::new();
    frame.extend_from_slice(&key.to_be_bytes());
    frame.extend_from_slice(&version.to_be_bytes());
    frame.extend_from_slice(&7i32.to_be_bytes());
    put_string(&mut frame, "kiel-test");
    frame.extend_from_slice(body);
    let mut out = (frame.len() as i32).to_be_bytes().to_vec();
    out.extend_from_slice(&frame);
    stream.write_all(&out).await.unwrap();
    let read = async {
        let size = stream.read_i32().await.unwrap();
        let mut response = vec![0u8; size as usize];
        stream.read_exact(&mut response).await.unwrap();
        response
    };
    let mut response = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("an answer in time");
    assert_eq!(take_i32(&mut response), 7, "correlation id");
    response
}

fn put_string(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&(text.len() as i16).to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}

fn take_i16(buf: &mut Vec<u8>) -> i16 {
    let value = i16::from_be_bytes([buf[0], buf[1]]);
    buf.drain(..2);
    value
}

fn take_i32(buf: &mut Vec<u8>) -> i32 {
    let value = i32::from_be_bytes(buf[..4].try_into().unwrap());
    buf.drain(..4);
    value
}
