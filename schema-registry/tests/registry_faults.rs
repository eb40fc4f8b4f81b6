//! A registry that fails with 5xx answers (a fault front in front of the real registry
//! answers 503 for the first connections, then passes everything through; a registry that
//! stops answering is `registry_paused.rs`). Each is retried as documented and ends in an id or
//! a typed error in bounded time, never a hang; records are queued only once the schema id
//! is known, so none is lost: every one produced after recovery is acknowledged.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiel::serialize::TypedProducer;
use kiel::Producer;
use kiel_schema_registry::apache_avro::AvroSchema;
use kiel_schema_registry::{AvroSerializer, Error, RegistryClient, RegistryConfig};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use common::{kafka, registry, unique};

#[derive(Debug, Clone, Serialize, AvroSchema)]
struct Reading {
    sensor: String,
    celsius: f64,
}

/// A TCP front for the registry: the first `failures` connections each get one
/// `503 Service Unavailable` (after their request was read whole), later ones are piped to
/// the registry untouched.
struct FaultFront {
    url: String,
    failed: Arc<AtomicUsize>,
}

impl FaultFront {
    async fn start(registry_url: &str, failures: usize) -> Self {
        let (authority, path) = registry_url
            .strip_prefix("http://")
            .and_then(|rest| rest.split_once('/'))
            .unwrap_or_else(|| panic!("unexpected registry URL {registry_url}"));
        let upstream = authority.to_owned();
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let port = listener.local_addr().map_or(0, |a| a.port());
        let failed = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&failed);
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let fail = counter
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                        (n < failures).then_some(n + 1)
                    })
                    .is_ok();
                tokio::spawn(async move {
                    if fail {
                        answer_503(client).await;
                    } else {
                        pipe(client, &upstream).await;
                    }
                });
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/{path}"),
            failed,
        }
    }

    fn failed(&self) -> usize {
        self.failed.load(Ordering::SeqCst)
    }
}

/// Reads one request (headers, then `Content-Length` bytes of body) and answers 503.
async fn answer_503(mut client: TcpStream) {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let Ok(n) = client.read(&mut buffer).await else {
            return;
        };
        if n == 0 {
            return;
        }
        request.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&request);
        if let Some(end) = text.find("\r\n\r\n") {
            let body_length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if request.len() >= end + 4 + body_length {
                break;
            }
        }
    }
    let body = r#"{"error_code":50301,"message":"registry warming up (fault front)"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(answer.as_bytes()).await;
    let _ = client.shutdown().await;
}

async fn pipe(mut client: TcpStream, upstream: &str) {
    if let Ok(mut registry) = TcpStream::connect(upstream).await {
        let _ = tokio::io::copy_bidirectional(&mut client, &mut registry).await;
    }
}

fn client_with(url: &str, settings: &[(&str, &str)]) -> RegistryClient {
    let mut properties = vec![("schema.registry.url", url)];
    properties.extend_from_slice(settings);
    let config = RegistryConfig::from_properties(properties).unwrap_or_else(|e| panic!("{e}"));
    RegistryClient::new(config).unwrap_or_else(|e| panic!("{e}"))
}

fn reading(i: u32) -> Reading {
    Reading {
        sensor: format!("sensor-{}", i % 4),
        celsius: f64::from(i) / 10.0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registry_5xx_answers_are_retried_and_the_records_then_all_acknowledged() {
    let (kafka, registry) = tokio::join!(kafka(), registry());
    let front = FaultFront::start(&registry.url(), 3).await;
    let client = client_with(
        &front.url,
        &[("max.retries", "5"), ("retries.wait.ms", "50")],
    );
    let topic = unique("readings-5xx");
    kafka
        .create_topic(&topic, 2, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let serializer = AvroSerializer::<Reading>::derived(client.clone());
    let started = Instant::now();
    let id = serializer
        .prepare(&topic)
        .await
        .unwrap_or_else(|e| panic!("three 503s then the registry: {e}"));
    println!(
        "schema id {id} after {} 503s and {} requests in {:?}",
        front.failed(),
        client.requests_sent(),
        started.elapsed()
    );
    assert_eq!(front.failed(), 3);
    assert_eq!(
        client.requests_sent(),
        4,
        "three 503s, then the one that worked"
    );
    // Only the request that got through reached the registry.
    assert_eq!(common::requests_about(registry, &topic).await.len(), 1);

    let producer = Producer::new(&kafka.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let typed = TypedProducer::new(producer.clone(), serializer);
    let readings: Vec<Reading> = (0..50).map(reading).collect();
    common::produce_all(&typed, &topic, &readings).await;
    producer.close().await;
    let ends = kafka
        .end_offsets(&topic)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let written: i64 = ends.iter().map(|(_, end)| end).sum();
    assert_eq!(written, 50, "end offsets {ends:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_keeps_answering_5xx_is_a_typed_error_after_the_retries() {
    let registry = registry().await;
    let front = FaultFront::start(&registry.url(), usize::MAX).await;
    let client = client_with(
        &front.url,
        &[("max.retries", "3"), ("retries.wait.ms", "20")],
    );
    let serializer = AvroSerializer::<Reading>::derived(client.clone());
    let started = Instant::now();
    let result = serializer.prepare(&unique("readings-down")).await;
    let elapsed = started.elapsed();
    println!("{elapsed:?}: {result:?}");
    match &result {
        Err(Error::Unavailable { attempts, last, .. }) => {
            assert_eq!(*attempts, 4, "the first try and 3 retries");
            assert!(last.contains("503"), "{last}");
            assert!(
                last.contains("warming up"),
                "the registry's message: {last}"
            );
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert_eq!(front.failed(), 4);
    // 20 + 40 + 80 ms of waits and four quick answers.
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    // Nothing can be serialized without the id: the typed error, nothing queued.
    let early = serializer.encode("readings-down", &reading(1));
    assert!(matches!(early, Err(Error::NotPrepared { .. })), "{early:?}");
}
