//! kiel against secured listeners of a real Apache Kafka (kiel-testcontainers' secured
//! cluster: certificates made at start-up, SCRAM users created at format time, PLAIN users in
//! the JAAS line, Kafka's unsecured OAUTHBEARER validator). Configured the way users do: from
//! the Java or librdkafka properties the harness prints for each listener, or with kiel's
//! typed `Security`. What kiel wrote is read back with Kafka's own console consumer, keys,
//! headers and timestamps included.
//!
//! Then the refusals: each must be a typed error naming its cause within 30 s although
//! `delivery.timeout.ms` is 120 s.

mod common;

use std::time::{Duration, Instant};

use common::{base_timestamp, unique};
use kiel::config::{Sasl, Security, Tls};
use kiel::{Compression, ConnectionError, Error, Producer, ProducerConfig, Record};
use kiel_testcontainers::{
    shared_secured_cluster, ClientAuth, ClientConfig, KafkaCluster, Listener, SaslMechanism,
};

const RECORDS: u64 = 200;
const READ_TIMEOUT: Duration = Duration::from_secs(60);

async fn cluster() -> &'static KafkaCluster {
    shared_secured_cluster().await.unwrap_or_else(|e| {
        panic!("this test needs a secured Kafka cluster (Java 17+ and Maven): {e}")
    })
}

fn sasl(cluster: &KafkaCluster, mechanism: SaslMechanism) -> ClientAuth {
    let user = cluster
        .security()
        .unwrap_or_else(|| panic!("not a secured cluster"))
        .user()
        .clone();
    ClientAuth::Sasl(mechanism, user)
}

fn client(cluster: &KafkaCluster, listener: Listener, auth: ClientAuth) -> ClientConfig {
    cluster
        .client_config(listener, auth)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Record `i`: a key, a value, two headers (one null), a timestamp.
fn record(i: u64) -> Record {
    Record::key_value(format!("key-{}", i % 5), format!("value-{i}"))
        .with_header("n", i.to_string())
        .with_null_header("null")
        .with_timestamp(base_timestamp() + i as i64)
}

/// Produces `RECORDS` records through `producer` and reads them back with the console
/// consumer (through the harness's own PLAINTEXT listener): every one once, intact.
async fn round_trip(cluster: &KafkaCluster, producer: Producer, topic: &str) {
    cluster
        .create_topic(topic, 3, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let futures: Vec<_> = (0..RECORDS)
        .map(|i| {
            producer
                .produce(topic, record(i))
                .unwrap_or_else(|e| panic!("produce {i}: {e}"))
        })
        .collect();
    for (i, future) in futures.into_iter().enumerate() {
        future.await.unwrap_or_else(|e| panic!("record {i}: {e}"));
    }
    producer.close().await;
    let read = cluster
        .consume_all(topic, RECORDS as usize, READ_TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len() as u64, RECORDS);
    let mut seen = vec![false; RECORDS as usize];
    for r in read {
        let value = String::from_utf8(r.value.clone().unwrap_or_default()).unwrap_or_default();
        let i: u64 = value
            .strip_prefix("value-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("foreign record {value}"));
        assert!(
            !std::mem::replace(&mut seen[i as usize], true),
            "record {i} twice"
        );
        assert_eq!(r.key.as_deref(), Some(format!("key-{}", i % 5).as_bytes()));
        assert_eq!(r.timestamp, base_timestamp() + i as i64);
        let headers: Vec<(String, Option<Vec<u8>>)> = r.headers.clone();
        assert_eq!(
            headers,
            vec![
                ("n".to_owned(), Some(i.to_string().into_bytes())),
                ("null".to_owned(), None)
            ],
            "record {i}"
        );
    }
}

/// A producer from a listener's Java properties, with `compression`.
async fn from_java(client: &ClientConfig, compression: Compression) -> kiel::Result<Producer> {
    let mut properties = client.java_properties();
    properties.push(("compression.type".into(), compression.to_string()));
    Producer::from_properties(properties).await
}

/// A producer from a listener's librdkafka properties.
async fn from_librdkafka(client: &ClientConfig) -> kiel::Result<Producer> {
    Producer::from_properties(client.librdkafka_properties()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ssl_by_java_properties() {
    let cluster = cluster().await;
    let config = client(cluster, Listener::Ssl, ClientAuth::None);
    let producer = from_java(&config, Compression::Gzip)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    round_trip(cluster, producer, &unique("ssl")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_by_java_and_librdkafka_properties() {
    let cluster = cluster().await;
    let config = client(cluster, Listener::Mtls, ClientAuth::None);
    let producer = from_java(&config, Compression::Snappy)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    round_trip(cluster, producer, &unique("mtls-java")).await;
    let producer = from_librdkafka(&config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    round_trip(cluster, producer, &unique("mtls-librdkafka")).await;
}

/// The PKCS#8 key in `pem`, encrypted with `password` (PBES2: PBKDF2-SHA256 and
/// AES-256-CBC), as `openssl pkcs8 -topk8 -v2 aes256` writes it.
fn encrypted(pem: &str, password: &str) -> String {
    use pkcs8::der::pem::LineEnding;
    use pkcs8::der::{Decode, EncodePem};
    let (_, document) = pkcs8::SecretDocument::from_pem(pem).unwrap_or_else(|e| panic!("{e}"));
    let info =
        pkcs8::PrivateKeyInfoRef::from_der(document.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let salt: [u8; 16] = rand::random();
    let iv: [u8; 16] = rand::random();
    let params =
        pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(10_000, &salt, iv)
            .unwrap_or_else(|e| panic!("{e}"));
    let secret = info
        .encrypt_with_params(params, password)
        .unwrap_or_else(|e| panic!("{e}"));
    let encrypted = pkcs8::EncryptedPrivateKeyInfoRef::from_der(secret.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let text = encrypted
        .to_pem(LineEnding::LF)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(text.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_with_pem_text_and_an_encrypted_key_from_the_typed_builder() {
    let cluster = cluster().await;
    let security = cluster.security().unwrap_or_else(|| panic!("secured"));
    let tls = Tls::default()
        .ca_pem(security.ca_pem())
        .client_certificate_pem(
            security.client_cert_pem(),
            encrypted(security.client_key_pem(), "kp"),
        )
        .key_password("kp");
    let producer = Producer::builder()
        .bootstrap_servers(
            &cluster
                .bootstrap_for(Listener::Mtls)
                .unwrap_or_else(|e| panic!("{e}")),
        )
        .security(Security::ssl(tls))
        .compression(Compression::Zstd)
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    round_trip(cluster, producer, &unique("mtls-pem")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_plaintext_plain_scram_sha256_and_scram_sha512_by_librdkafka_properties() {
    let cluster = cluster().await;
    for mechanism in [
        SaslMechanism::Plain,
        SaslMechanism::ScramSha256,
        SaslMechanism::ScramSha512,
    ] {
        let config = client(cluster, Listener::SaslPlaintext, sasl(cluster, mechanism));
        let producer = from_librdkafka(&config)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", mechanism.name()));
        round_trip(
            cluster,
            producer,
            &unique(&format!("sasl-plaintext-{}", mechanism.name())),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_ssl_plain_scram_sha256_and_scram_sha512_by_java_properties() {
    let cluster = cluster().await;
    for (mechanism, compression) in [
        (SaslMechanism::Plain, Compression::None),
        (SaslMechanism::ScramSha256, Compression::Lz4),
        (SaslMechanism::ScramSha512, Compression::Zstd),
    ] {
        let config = client(cluster, Listener::SaslSsl, sasl(cluster, mechanism));
        let producer = from_java(&config, compression)
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", mechanism.name()));
        round_trip(
            cluster,
            producer,
            &unique(&format!("sasl-ssl-{}", compression)),
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_ssl_scram_sha512_from_the_typed_builder() {
    let cluster = cluster().await;
    let security = cluster.security().unwrap_or_else(|| panic!("secured"));
    let user = security.user();
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
        .build()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    round_trip(cluster, producer, &unique("scram-typed")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauthbearer_unsecured_token_by_java_and_librdkafka_properties() {
    let cluster = cluster().await;
    let config = client(
        cluster,
        Listener::SaslSsl,
        sasl(cluster, SaslMechanism::OAuthBearer),
    );
    let producer = from_java(&config, Compression::Snappy)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    round_trip(cluster, producer, &unique("oauth-java")).await;
    let producer = from_librdkafka(&config)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    round_trip(cluster, producer, &unique("oauth-librdkafka")).await;
}

/// Starts a producer from `properties` that must fail; returns the error and how long it
/// took. `delivery.timeout.ms` stays at its 120 s default: the failure must not wait for it.
async fn refused(properties: Vec<(String, String)>) -> (Error, Duration) {
    let config = ProducerConfig::from_properties(properties).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.delivery_timeout(), Duration::from_secs(120));
    let started = Instant::now();
    match Producer::from_config(config).await {
        Ok(_) => panic!("a producer started with settings that must be refused"),
        Err(e) => (e, started.elapsed()),
    }
}

/// Checks a refusal: typed as `expected`, fast, and its message names `words`.
fn check(
    what: &str,
    (error, took): (Error, Duration),
    expected: fn(&ConnectionError) -> bool,
    words: &[&str],
) {
    let text = error.to_string();
    eprintln!("{what}: {text} ({took:.1?})");
    assert!(
        took < Duration::from_secs(30),
        "{what}: took {took:?}: {text}"
    );
    match &error {
        Error::Connection { cause, .. } => {
            assert!(cause.is_fatal(), "{what}: {text}");
            assert!(expected(cause), "{what}: {cause:?}");
        }
        other => panic!("{what}: expected a typed connection error, got {other:?}"),
    }
    for word in words {
        assert!(text.contains(word), "{what}: `{word}` not in: {text}");
    }
}

fn set(mut properties: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
    properties.retain(|(k, _)| k != key);
    properties.push((key.to_owned(), value.to_owned()));
    properties
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_typed_fast_and_name_their_cause() {
    let cluster = cluster().await;
    let security = cluster.security().unwrap_or_else(|| panic!("secured"));
    let authentication = |c: &ConnectionError| matches!(c, ConnectionError::Authentication { .. });
    let tls = |c: &ConnectionError| matches!(c, ConnectionError::Tls { .. });

    let user = security.user().with_password("not-the-password");
    let config = client(
        cluster,
        Listener::SaslSsl,
        ClientAuth::Sasl(SaslMechanism::ScramSha512, user),
    );
    check(
        "wrong password",
        refused(config.librdkafka_properties()).await,
        authentication,
        &["SCRAM-SHA-512", "sasl.password"],
    );

    let stranger = kiel_testcontainers::SaslUser::new("nobody-here", "whatever")
        .unwrap_or_else(|e| panic!("{e}"));
    let config = client(
        cluster,
        Listener::SaslSsl,
        ClientAuth::Sasl(SaslMechanism::ScramSha256, stranger),
    );
    check(
        "unknown user",
        refused(config.librdkafka_properties()).await,
        authentication,
        &["SCRAM-SHA-256"],
    );

    let config = client(cluster, Listener::Ssl, ClientAuth::None);
    let untrusting = set(
        config.librdkafka_properties(),
        "ssl.ca.location",
        &security.other_ca_path().display().to_string(),
    );
    check(
        "untrusted CA",
        refused(untrusting).await,
        tls,
        &["not signed by a trusted CA", "ssl.ca.location"],
    );

    let config = client(cluster, Listener::SslWrongHost, ClientAuth::None);
    check(
        "wrong host name",
        refused(config.librdkafka_properties()).await,
        tls,
        &["not valid for", "ssl.endpoint.identification.algorithm"],
    );

    let config = client(cluster, Listener::Mtls, ClientAuth::None);
    let no_certificate: Vec<(String, String)> = config
        .librdkafka_properties()
        .into_iter()
        .filter(|(k, _)| !k.starts_with("ssl.certificate") && !k.starts_with("ssl.key"))
        .collect();
    check(
        "missing client certificate",
        refused(no_certificate).await,
        tls,
        &["client certificate", "ssl.certificate.location"],
    );

    let tls_port = cluster
        .bootstrap_for(Listener::Ssl)
        .unwrap_or_else(|e| panic!("{e}"));
    check(
        "plaintext to a TLS port",
        refused(vec![("bootstrap.servers".into(), tls_port)]).await,
        |c| matches!(c, ConnectionError::NotKafka { .. }),
        &["TLS listener"],
    );

    let plaintext_port = cluster.bootstrap();
    let (error, took) = refused(vec![
        ("bootstrap.servers".into(), plaintext_port),
        ("security.protocol".into(), "SSL".into()),
        (
            "ssl.ca.location".into(),
            security.ca_path().display().to_string(),
        ),
    ])
    .await;
    let text = error.to_string();
    eprintln!("TLS to a plaintext port: {text} ({took:.1?})");
    assert!(took < Duration::from_secs(30), "took {took:?}: {text}");
    assert!(text.contains("plaintext listener"), "{text}");
}
