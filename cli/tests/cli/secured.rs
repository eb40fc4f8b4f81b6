//! `kiel produce` and `kiel perf` against the secured listeners of a real broker
//! (kiel-testcontainers' shared secured cluster), with nothing but `-X` settings: SASL_SSL
//! with SCRAM-SHA-512, mutual TLS, and the refusals a user with a wrong password or the
//! wrong CA sees. What kiel wrote is read back through the same listener with Kafka's console
//! consumer, and counted by the broker (end offsets).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kiel_testcontainers::{
    shared_secured_cluster, ClientAuth, ClusterSecurity, KafkaCluster, Listener, SaslMechanism,
};

use crate::perf::parse_output;
use crate::produce::summary;
use crate::support::{kiel, kiel_with_open_stdin, unique, READ_TIMEOUT};

/// A refusal must come this fast, with `delivery.timeout.ms` at 120 s (issue 12).
const REFUSAL_WITHIN: Duration = Duration::from_secs(30);

/// The shared secured cluster; fails the test with the harness's explanation if it does
/// not start.
async fn cluster() -> &'static KafkaCluster {
    shared_secured_cluster()
        .await
        .unwrap_or_else(|e| panic!("this test needs a secured Kafka broker: {e}"))
}

fn security(cluster: &KafkaCluster) -> &ClusterSecurity {
    cluster
        .security()
        .expect("the shared secured cluster has security")
}

fn path(p: &std::path::Path) -> String {
    p.to_str().expect("UTF-8 path").to_owned()
}

/// The `-X` arguments of a SASL_SSL login with SCRAM-SHA-512, trusting `ca`.
fn scram_512(user: &str, password: &str, ca: &std::path::Path) -> Vec<String> {
    [
        "security.protocol=SASL_SSL".to_owned(),
        "sasl.mechanism=SCRAM-SHA-512".to_owned(),
        format!("sasl.username={user}"),
        format!("sasl.password={password}"),
        format!("ssl.ca.location={}", path(ca)),
    ]
    .into_iter()
    .flat_map(|setting| ["-X".to_owned(), setting])
    .collect()
}

fn args(list: &[String]) -> Vec<&str> {
    list.iter().map(String::as_str).collect()
}

/// Creates `topic` through the harness's PLAINTEXT listener.
async fn create_topic(cluster: &KafkaCluster, topic: &str, partitions: u32) {
    cluster
        .create_topic(topic, partitions, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("creating {topic}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_keyed_lines_over_sasl_ssl_scram_sha_512() {
    let cluster = cluster().await;
    let security = security(cluster);
    let alice = security.user();
    let bootstrap = cluster.bootstrap_for(Listener::SaslSsl).unwrap();
    assert_ne!(bootstrap, cluster.bootstrap(), "not the PLAINTEXT listener");
    let topic = unique("cli-sasl-ssl");
    create_topic(cluster, &topic, 3).await;

    // 40 lines, 5 keys: each key's records must land in one partition, in line order.
    let n = 40usize;
    let input: String = (0..n)
        .map(|i| format!("user-{}:event {i}\n", i % 5))
        .collect();
    let mut command: Vec<String> = [
        "produce",
        "-b",
        &bootstrap,
        "-t",
        &topic,
        "-K",
        ":",
        "-H",
        "via=sasl_ssl",
    ]
    .map(str::to_owned)
    .to_vec();
    command.extend(scram_512(
        alice.name(),
        alice.password(),
        security.ca_path(),
    ));
    let run = kiel(&args(&command), input.as_bytes()).await;
    run.expect_code(0);
    // Key and value bytes (the line without its `:`), plus "via" + "sasl_ssl" per record.
    let bytes: u64 = input.lines().map(|l| l.len() as u64 - 1).sum::<u64>() + n as u64 * 11;
    assert_eq!(summary(&run.stdout, &topic), (n as u64, 0, bytes));

    // Read back through the same listener, logged in the same way, by Java's consumer.
    let client = cluster
        .client_config(
            Listener::SaslSsl,
            ClientAuth::Sasl(SaslMechanism::ScramSha512, alice.clone()),
        )
        .unwrap();
    let records = cluster
        .consume_through(&topic, n, READ_TIMEOUT, &client)
        .await
        .unwrap_or_else(|e| panic!("reading {topic} back over SASL_SSL: {e}"));
    assert_eq!(records.len(), n);
    let ends = cluster.end_offsets(&topic).await.unwrap();
    assert_eq!(
        ends.iter().map(|(_, o)| *o).sum::<i64>(),
        n as i64,
        "{ends:?}"
    );

    // Per key: (partition, offset, line number), as read (partition, then offset order).
    let mut by_key: BTreeMap<String, Vec<(i32, i64, usize)>> = BTreeMap::new();
    for record in &records {
        let key = String::from_utf8(record.key.clone().expect("every record has a key")).unwrap();
        let value = String::from_utf8(record.value.clone().expect("a value")).unwrap();
        let line: usize = value
            .strip_prefix("event ")
            .and_then(|i| i.parse().ok())
            .unwrap_or_else(|| panic!("unexpected value {value:?}"));
        assert_eq!(key, format!("user-{}", line % 5), "key of line {line}");
        assert_eq!(
            record.headers,
            vec![("via".to_owned(), Some(b"sasl_ssl".to_vec()))],
            "{record:?}"
        );
        by_key
            .entry(key)
            .or_default()
            .push((record.partition, record.offset, line));
    }
    assert_eq!(by_key.len(), 5, "{by_key:?}");
    for (key, seen) in &by_key {
        assert!(
            seen.iter().all(|(p, _, _)| *p == seen[0].0),
            "{key} spread over partitions: {seen:?}"
        );
        let lines: Vec<usize> = seen.iter().map(|(_, _, line)| *line).collect();
        let expected: Vec<usize> = (0..n)
            .filter(|i| format!("user-{}", i % 5) == *key)
            .collect();
        assert_eq!(lines, expected, "{key}: lines in offset order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn perf_over_mutual_tls() {
    let cluster = cluster().await;
    let security = security(cluster);
    let bootstrap = cluster.bootstrap_for(Listener::Mtls).unwrap();
    let topic = unique("cli-perf-mtls");
    create_topic(cluster, &topic, 3).await;
    let records = 20_000u64;
    let run = kiel(
        &[
            "perf",
            "--brokers",
            &bootstrap,
            "--topic",
            &topic,
            "--num-records",
            &records.to_string(),
            "--record-size",
            "100",
            "--throughput",
            "-1",
            "-X",
            "security.protocol=SSL",
            "-X",
            &format!("ssl.ca.location={}", path(security.ca_path())),
            "-X",
            &format!(
                "ssl.certificate.location={}",
                path(security.client_cert_path())
            ),
            "-X",
            &format!("ssl.key.location={}", path(security.client_key_path())),
        ],
        b"",
    )
    .await;
    run.expect_code(0);
    let (_, total) = parse_output(&run.stdout, 100);
    assert_eq!(total.records, records, "{}", run.stdout);
    // Counted by the broker: every record arrived, once.
    let ends = cluster.end_offsets(&topic).await.unwrap();
    assert_eq!(
        ends.iter().map(|(_, o)| *o).sum::<i64>(),
        records as i64,
        "{ends:?}"
    );
    // And the records are ProducerPerformance's: read a few back through the mTLS listener.
    let client = cluster
        .client_config(Listener::Mtls, ClientAuth::None)
        .unwrap();
    let sample = cluster
        .consume_through(&topic, 10, READ_TIMEOUT, &client)
        .await
        .unwrap_or_else(|e| panic!("reading {topic} back over mTLS: {e}"));
    for record in &sample {
        assert_eq!(record.key, None, "{record:?}");
        let value = record.value.as_deref().expect("a value");
        assert_eq!(value.len(), 100, "{record:?}");
        assert!(value.iter().all(u8::is_ascii_uppercase), "{record:?}");
    }
}

/// Runs `kiel produce` to `topic` with `settings`, with a standard input that stays open:
/// the login is refused before any input is read. Returns the run and how long it took.
async fn refused_produce(
    bootstrap: &str,
    topic: &str,
    settings: &[String],
) -> (crate::support::Run, Duration) {
    let mut command: Vec<String> = ["produce", "-b", bootstrap, "-t", topic, "-K", ":"]
        .map(str::to_owned)
        .to_vec();
    command.extend(settings.iter().cloned());
    // The default, said out loud: the refusal must not wait for it.
    command.extend(["-X".to_owned(), "delivery.timeout.ms=120000".to_owned()]);
    let started = Instant::now();
    let run = kiel_with_open_stdin(&args(&command)).await;
    (run, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_refused_fast_and_named() {
    let cluster = cluster().await;
    let security = security(cluster);
    let alice = security.user();
    let bootstrap = cluster.bootstrap_for(Listener::SaslSsl).unwrap();
    let topic = unique("cli-wrong-password");
    create_topic(cluster, &topic, 1).await;

    let wrong = format!("not-{}", alice.password());
    let (run, took) = refused_produce(
        &bootstrap,
        &topic,
        &scram_512(alice.name(), &wrong, security.ca_path()),
    )
    .await;
    eprintln!("wrong password: {took:.1?}: {}", run.stderr.trim_end());
    run.expect_code(1);
    assert!(took < REFUSAL_WITHIN, "took {took:?}");
    assert_eq!(run.stdout, "", "nothing was produced");
    let stderr = run.stderr.trim_end();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("kiel: error: "), "{stderr}");
    for words in [
        "SASL SCRAM-SHA-512 authentication failed",
        "invalid credentials",
        "sasl.password",
    ] {
        assert!(stderr.contains(words), "`{words}` not in: {stderr}");
    }
    assert!(!stderr.contains(&wrong), "the password is shown: {stderr}");
    let ends = cluster.end_offsets(&topic).await.unwrap();
    assert_eq!(ends, vec![(0, 0)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_ca_is_refused_fast_and_named() {
    let cluster = cluster().await;
    let security = security(cluster);
    let alice = security.user();
    let bootstrap = cluster.bootstrap_for(Listener::SaslSsl).unwrap();
    let topic = unique("cli-untrusted-ca");
    create_topic(cluster, &topic, 1).await;

    // The right login, but trusting a CA that signed nothing the broker serves.
    let (run, took) = refused_produce(
        &bootstrap,
        &topic,
        &scram_512(alice.name(), alice.password(), security.other_ca_path()),
    )
    .await;
    eprintln!("untrusted CA: {took:.1?}: {}", run.stderr.trim_end());
    run.expect_code(1);
    assert!(took < REFUSAL_WITHIN, "took {took:?}");
    assert_eq!(run.stdout, "");
    for words in ["not signed by a trusted CA", "ssl.ca.location"] {
        assert!(
            run.stderr.contains(words),
            "`{words}` not in: {}",
            run.stderr
        );
    }
    let ends = cluster.end_offsets(&topic).await.unwrap();
    assert_eq!(ends, vec![(0, 0)]);
}
