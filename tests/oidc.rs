//! OAUTHBEARER with tokens from an OIDC token endpoint (the `oidc` feature), against a real
//! broker: the test serves the endpoint itself over HTTPS, with a certificate from the
//! cluster's private CA that kiel must trust through `ssl.ca.location` (client credentials
//! grant, HTTP Basic client authentication, RFC 6749 §4.4), and hands out unsecured JWTs that Kafka's unsecured
//! validator accepts, each good for a few seconds. The broker limits sessions
//! (`connections.max.reauth.ms` = 10 s, and a session never outlives its token), so while
//! kiel produces it must fetch new tokens before the old ones expire and renew its sessions
//! with them on the open connections.
//!
//! Run: `cargo test -p kiel --features oidc --test oidc -- --nocapture`.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use common::events::EventCounts;
use common::unique;
use kiel::{Error, Producer, Record};
use kiel_testcontainers::{KafkaCluster, Listener};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

const CLIENT_ID: &str = "kiel-test-client";
const CLIENT_SECRET: &str = "s3cret-for-the-test";
const SCOPE: &str = "kafka-produce";
/// How long each token the endpoint issues is good for.
const TOKEN_LIFETIME: Duration = Duration::from_secs(8);
const SESSION: Duration = Duration::from_secs(10);
const PRODUCTION: Duration = Duration::from_secs(20);

/// What the token endpoint saw.
#[derive(Default)]
struct Endpoint {
    issued: Mutex<Vec<Instant>>,
    refused: Mutex<Vec<String>>,
}

/// An unsecured JWT (`alg: none`, empty signature) for `subject`, valid for `lifetime` (the
/// times in seconds with milliseconds, which JWT's NumericDate allows).
fn unsecured_jwt(subject: &str, lifetime: Duration) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
    let claims = format!(
        r#"{{"sub":"{subject}","iat":{:.3},"exp":{:.3},"scope":"{SCOPE}"}}"#,
        now.saturating_sub(Duration::from_secs(1)).as_secs_f64(),
        (now + lifetime).as_secs_f64()
    );
    format!("{header}.{}.", URL_SAFE_NO_PAD.encode(claims))
}

/// The token endpoint: a client credentials grant for `CLIENT_ID` with its secret in HTTP
/// Basic authentication and `SCOPE`; anything else is refused as RFC 6749 §5.2 says.
async fn token(
    State(endpoint): State<Arc<Endpoint>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> (StatusCode, String) {
    let expected = format!(
        "Basic {}",
        STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let problem = if authorization != expected {
        Some((StatusCode::UNAUTHORIZED, "invalid_client"))
    } else if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        Some((StatusCode::BAD_REQUEST, "unsupported_grant_type"))
    } else if form.get("scope").map(String::as_str) != Some(SCOPE) {
        Some((StatusCode::BAD_REQUEST, "invalid_scope"))
    } else {
        None
    };
    if let Some((status, error)) = problem {
        let mut refused = endpoint.refused.lock().unwrap_or_else(|e| e.into_inner());
        refused.push(format!("{error}: {form:?}"));
        return (status, format!(r#"{{"error":"{error}"}}"#));
    }
    endpoint
        .issued
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Instant::now());
    let body = format!(
        r#"{{"access_token":"{}","token_type":"Bearer","expires_in":{}}}"#,
        unsecured_jwt(CLIENT_ID, TOKEN_LIFETIME),
        TOKEN_LIFETIME.as_secs()
    );
    (StatusCode::OK, body)
}

/// A TLS listener for axum: accepts TCP connections and completes their TLS handshakes.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, address)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, address);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Serves the token endpoint over HTTPS on a free local port, with the certificate the
/// cluster's brokers have (signed by the cluster's private CA, which no system trusts);
/// returns its URL.
async fn serve_token_endpoint(cluster: &KafkaCluster, endpoint: Arc<Endpoint>) -> String {
    let security = cluster.security().unwrap_or_else(|| panic!("secured"));
    let keystore = security.dir().join("server-keystore.pem");
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&keystore)
        .and_then(|certificates| certificates.collect())
        .unwrap_or_else(|e| panic!("{}: {e}", keystore.display()));
    let key = PrivateKeyDer::from_pem_file(&keystore)
        .unwrap_or_else(|e| panic!("{}: {e}", keystore.display()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_no_client_auth().with_single_cert(chain, key))
        .unwrap_or_else(|e| panic!("token endpoint TLS: {e}"));
    let tcp = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap_or_else(|e| panic!("token endpoint: {e}"));
    let address = tcp
        .local_addr()
        .unwrap_or_else(|e| panic!("token endpoint: {e}"));
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(tls)),
    };
    let app = Router::new()
        .route("/oauth2/token", post(token))
        .with_state(endpoint);
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("https://{address}/oauth2/token")
}

/// The settings a user would write for this cluster and endpoint.
fn properties(cluster: &KafkaCluster, url: &str, secret: &str) -> Vec<(String, String)> {
    let security = cluster.security().unwrap_or_else(|| panic!("secured"));
    let bootstrap = cluster
        .bootstrap_for(Listener::SaslSsl)
        .unwrap_or_else(|e| panic!("{e}"));
    [
        ("bootstrap.servers", bootstrap.as_str()),
        ("security.protocol", "SASL_SSL"),
        ("ssl.ca.location", &security.ca_path().display().to_string()),
        ("sasl.mechanism", "OAUTHBEARER"),
        ("sasl.oauthbearer.method", "oidc"),
        ("sasl.oauthbearer.token.endpoint.url", url),
        ("sasl.oauthbearer.client.id", CLIENT_ID),
        ("sasl.oauthbearer.client.secret", secret),
        ("sasl.oauthbearer.scope", SCOPE),
        ("acks", "all"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_an_oidc_endpoint_keep_sessions_alive_and_a_wrong_secret_fails_fast() {
    let events = EventCounts::install();
    let cluster = KafkaCluster::builder()
        .sasl_reauthentication(SESSION)
        .start()
        .await
        .unwrap_or_else(|e| {
            panic!("this test needs a secured Kafka cluster (Java 17+ and Maven): {e}")
        });
    let endpoint = Arc::new(Endpoint::default());
    let url = serve_token_endpoint(&cluster, endpoint.clone()).await;

    // A secret the endpoint refuses: a typed error naming the endpoint's answer, at once.
    let started = Instant::now();
    let error = Producer::from_properties(properties(&cluster, &url, "not-the-secret"))
        .await
        .err()
        .unwrap_or_else(|| panic!("a refused client secret built a producer"));
    let took = started.elapsed();
    println!("wrong client secret: after {took:?}: {error}");
    assert!(
        matches!(error, Error::Connection { .. }),
        "not a connection error: {error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("401") && message.contains("OAUTHBEARER"),
        "the message names neither the endpoint's answer nor the mechanism: {message}"
    );
    assert!(
        message.contains("sasl.oauthbearer"),
        "the message names no setting: {message}"
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
    assert!(
        !endpoint
            .refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty(),
        "the endpoint was never asked"
    );
    endpoint
        .refused
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();

    // The right secret: production across several token lifetimes.
    let topic = unique("oidc");
    cluster
        .create_topic(&topic, 3, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let producer = Producer::from_properties(properties(&cluster, &url, CLIENT_SECRET))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    producer
        .produce(&topic, Record::key_value("warm-up", "warm-up"))
        .unwrap_or_else(|e| panic!("{e}"))
        .await
        .unwrap_or_else(|e| panic!("warm-up: {e}"));
    let opened_before = events.get("connected");
    let renewed_before = events.get("re-authenticated");
    let lost_before = events.get("connection lost") + events.get("connection closed");

    let start = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_millis(10));
    let mut pending = Vec::new();
    while start.elapsed() < PRODUCTION {
        ticks.tick().await;
        for _ in 0..5 {
            let i = pending.len();
            let outcome = producer
                .produce(
                    &topic,
                    Record::key_value(format!("key-{}", i % 3), i.to_string()),
                )
                .unwrap_or_else(|e| panic!("produce {i}: {e}"));
            pending.push(outcome);
        }
    }
    let produced = pending.len();
    let mut failed = Vec::new();
    for (i, outcome) in pending.into_iter().enumerate() {
        if let Err(e) = outcome.await {
            failed.push((i, e.to_string()));
        }
    }
    let opened = events.get("connected") - opened_before;
    let renewed = events.get("re-authenticated") - renewed_before;
    let lost = events.get("connection lost") + events.get("connection closed") - lost_before;
    producer.close().await;
    let issued = endpoint
        .issued
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let refused = endpoint
        .refused
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    println!(
        "{produced} records in {PRODUCTION:?} over SASL_SSL OAUTHBEARER (OIDC, tokens of \
         {TOKEN_LIFETIME:?}, sessions of at most {SESSION:?}): {} failed, {} tokens issued \
         (at {:?} s), {} requests refused, {renewed} sessions renewed, {opened} connections \
         opened after the first record, {lost} lost; events: {}",
        failed.len(),
        issued.len(),
        issued
            .iter()
            .map(|t| (t.duration_since(start).as_secs_f64() * 10.0).round() / 10.0)
            .collect::<Vec<_>>(),
        refused.len(),
        events.summary()
    );
    assert!(
        failed.is_empty(),
        "failed records: {:?}",
        &failed[..failed.len().min(5)]
    );
    assert!(refused.is_empty(), "malformed token requests: {refused:?}");
    assert_eq!(opened, 0, "connections reopened: {}", events.summary());
    assert_eq!(lost, 0, "connections lost: {}", events.summary());
    let lifetimes = (PRODUCTION.as_secs() / TOKEN_LIFETIME.as_secs()) as usize;
    assert!(
        issued.len() > lifetimes,
        "{} tokens for {PRODUCTION:?} of tokens that last {TOKEN_LIFETIME:?}",
        issued.len()
    );
    assert!(
        renewed >= lifetimes as u64,
        "only {renewed} sessions renewed"
    );

    let read = cluster
        .consume_all(&topic, produced + 1, Duration::from_secs(120))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(read.len(), produced + 1, "records read back");
}
