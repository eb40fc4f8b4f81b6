//! Secured listeners of one node (the test binary's shared secured cluster), each checked
//! with Kafka's own Java clients: ProducerPerformance writes through the listener and the
//! console consumer reads the records back through the same listener. SSL, mTLS,
//! SASL_PLAINTEXT with PLAIN, SASL_SSL with SCRAM-SHA-256, SCRAM-SHA-512 and unsecured
//! OAUTHBEARER; and the refusals: a wrong SCRAM password, a client that trusts another
//! CA, an mTLS client without a certificate or with one from another CA, a certificate for
//! another host name.
//!
//! Needs Java 17+ and Maven (or the cache); fails with instructions otherwise.

use std::time::Duration;

use kiel_testcontainers::{
    shared_secured_cluster, ClientAuth, ClientConfig, HarnessError, KafkaCluster, Listener,
    SaslMechanism,
};

const RECORDS: usize = 300;
const RECORD_SIZE: u32 = 64;
const READ_TIMEOUT: Duration = Duration::from_secs(30);

fn unique(prefix: &str) -> String {
    format!("{prefix}-{:08x}", rand::random::<u32>())
}

async fn cluster() -> &'static KafkaCluster {
    shared_secured_cluster()
        .await
        .expect("the shared secured cluster (needs Java 17+ and Maven, see the README)")
}

fn sasl(cluster: &KafkaCluster, mechanism: SaslMechanism) -> ClientAuth {
    let user = cluster.security().expect("secured").user().clone();
    ClientAuth::Sasl(mechanism, user)
}

/// Writes `RECORDS` records through `client` with ProducerPerformance (acks=all) and reads
/// them back through it with the console consumer.
async fn round_trip(cluster: &KafkaCluster, prefix: &str, client: &ClientConfig) {
    let topic = unique(prefix);
    cluster
        .create_topic(&topic, 1, 1, &[])
        .await
        .expect("create topic (PLAINTEXT)");
    assert!(
        !client.bootstrap().contains(&cluster.bootstrap()),
        "{:?} must not use the PLAINTEXT listener {}",
        client,
        cluster.bootstrap()
    );
    let perf = cluster
        .run_producer_perf_through(
            &topic,
            RECORDS as u64,
            RECORD_SIZE,
            &[("acks", "all")],
            client,
        )
        .await
        .unwrap_or_else(|e| panic!("ProducerPerformance through {}: {e}", client.listener()));
    assert_eq!(perf.records, RECORDS as u64, "{}", perf.summary);
    let records = cluster
        .consume_through(&topic, RECORDS, READ_TIMEOUT, client)
        .await
        .unwrap_or_else(|e| panic!("console consumer through {}: {e}", client.listener()));
    assert_eq!(records.len(), RECORDS);
    let offsets: Vec<i64> = records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (0..RECORDS as i64).collect::<Vec<_>>());
    assert!(records
        .iter()
        .all(|r| r.value.as_ref().map(Vec::len) == Some(RECORD_SIZE as usize)));
}

/// Reads through `client` and expects the console consumer to fail; returns what stopped
/// it and its whole stderr.
async fn refused(cluster: &KafkaCluster, prefix: &str, client: &ClientConfig) -> String {
    let topic = unique(prefix);
    cluster
        .create_topic(&topic, 1, 1, &[])
        .await
        .expect("create topic (PLAINTEXT)");
    cluster
        .run_producer_perf(&topic, 1, 10, &[])
        .await
        .expect("one record through PLAINTEXT");
    let started = std::time::Instant::now();
    let result = cluster
        .consume_through(&topic, 1, Duration::from_secs(20), client)
        .await;
    match result {
        Err(HarnessError::ToolFailed { status, output, .. }) => {
            eprintln!("{prefix}: refused after {:?}: {status}", started.elapsed());
            let stderr = std::fs::read_to_string(output.with_extension("err")).unwrap_or_default();
            format!("{status}\n{stderr}")
        }
        other => panic!("{prefix}: expected the console consumer to fail, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_round_trip() {
    let cluster = cluster().await;
    let client = cluster
        .client_config(Listener::Ssl, ClientAuth::None)
        .unwrap();
    assert_eq!(client.ca(), Some(cluster.security().unwrap().ca_path()));
    round_trip(cluster, "ssl", &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_round_trip() {
    let cluster = cluster().await;
    let client = cluster
        .client_config(Listener::Mtls, ClientAuth::None)
        .unwrap();
    assert!(client.client_certificate().is_some());
    round_trip(cluster, "mtls", &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_plaintext_plain_round_trip() {
    let cluster = cluster().await;
    let client = cluster
        .client_config(Listener::SaslPlaintext, sasl(cluster, SaslMechanism::Plain))
        .unwrap();
    round_trip(cluster, "sasl-plain", &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_ssl_scram_sha_256_round_trip() {
    let cluster = cluster().await;
    let client = cluster
        .client_config(Listener::SaslSsl, sasl(cluster, SaslMechanism::ScramSha256))
        .unwrap();
    round_trip(cluster, "scram-256", &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_ssl_scram_sha_512_round_trip() {
    let cluster = cluster().await;
    let client = cluster
        .client_config(Listener::SaslSsl, sasl(cluster, SaslMechanism::ScramSha512))
        .unwrap();
    round_trip(cluster, "scram-512", &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_ssl_oauthbearer_unsecured_round_trip() {
    let cluster = cluster().await;
    let client = cluster
        .client_config(Listener::SaslSsl, sasl(cluster, SaslMechanism::OAuthBearer))
        .unwrap();
    round_trip(cluster, "oauth", &client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_scram_password_is_refused() {
    let cluster = cluster().await;
    let user = cluster.security().unwrap().user();
    let wrong = user.with_password(format!("not-{}", user.password()));
    let client = cluster
        .client_config(
            Listener::SaslSsl,
            ClientAuth::Sasl(SaslMechanism::ScramSha256, wrong),
        )
        .unwrap();
    let stderr = refused(cluster, "wrong-password", &client).await;
    assert!(
        stderr.contains("SaslAuthenticationException") && stderr.contains("invalid credentials"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_refusals_other_ca_no_client_certificate_untrusted_certificate_wrong_host() {
    let cluster = cluster().await;
    let security = cluster.security().unwrap();
    let other_ca = cluster
        .client_config(Listener::Ssl, ClientAuth::None)
        .unwrap()
        .trusting(security.other_ca_path());
    let stderr = refused(cluster, "other-ca", &other_ca).await;
    assert!(
        stderr.contains("SslAuthenticationException")
            && stderr.contains("unable to find valid certification path"),
        "{stderr}"
    );

    let no_certificate = cluster
        .client_config(Listener::Mtls, ClientAuth::None)
        .unwrap()
        .with_client_certificate(None);
    let stderr = refused(cluster, "mtls-no-cert", &no_certificate).await;
    assert!(
        stderr.contains("SslAuthenticationException") && stderr.contains("bad_certificate"),
        "{stderr}"
    );

    let untrusted = cluster
        .client_config(Listener::Mtls, ClientAuth::None)
        .unwrap()
        .with_client_certificate(Some(security.untrusted_client_certificate()));
    let stderr = refused(cluster, "mtls-untrusted-cert", &untrusted).await;
    assert!(
        stderr.contains("SslAuthenticationException") && stderr.contains("bad_certificate"),
        "{stderr}"
    );

    let wrong_host = cluster
        .client_config(Listener::SslWrongHost, ClientAuth::None)
        .unwrap();
    let stderr = refused(cluster, "wrong-host", &wrong_host).await;
    assert!(
        stderr.contains("SslAuthenticationException")
            && stderr.contains("No subject alternative names matching IP address 127.0.0.1"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cluster_exposes_files_and_users_and_debug_shows_no_secret() {
    let cluster = cluster().await;
    let security = cluster.security().expect("secured");
    for path in [
        security.ca_path(),
        security.other_ca_path(),
        security.client_cert_path(),
        security.client_key_path(),
    ] {
        assert!(path.starts_with(cluster.work_dir()), "{}", path.display());
        assert!(path.is_file(), "{}", path.display());
    }
    assert_eq!(
        std::fs::read_to_string(security.client_key_path()).unwrap(),
        security.client_key_pem()
    );
    assert!(security.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    let user = security.user();
    assert_eq!(user.name(), kiel_testcontainers::DEFAULT_SASL_USER);
    for listener in Listener::SECURED {
        let bootstrap = cluster.bootstrap_for(listener).unwrap();
        assert!(
            bootstrap.starts_with("127.0.0.1:"),
            "{listener}: {bootstrap}"
        );
        assert_ne!(bootstrap, cluster.bootstrap(), "{listener}");
    }
    assert_eq!(
        cluster.bootstrap_for(Listener::Plaintext).unwrap(),
        cluster.bootstrap()
    );
    assert!(cluster
        .client_config(Listener::SaslSsl, ClientAuth::None)
        .is_err());
    let client = cluster
        .client_config(Listener::SaslSsl, sasl(cluster, SaslMechanism::ScramSha512))
        .unwrap();
    let debug = format!("{cluster:?} {client:?} {security:?}");
    assert!(!debug.contains(user.password()), "a password in {debug}");
    assert!(!debug.contains("PRIVATE KEY"), "a key in {debug}");
    assert!(
        client
            .java_properties_text()
            .contains(&format!("password=\"{}\"", user.password())),
        "the properties themselves carry the password"
    );
}
