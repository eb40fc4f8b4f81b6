//! Bootstrap addresses that are not Kafka brokers: an HTTP server, a listener that accepts
//! and never answers. The producer must say so within seconds, not after `max.block.ms`.
//! The servers here are plain TCP servers started by the test; they do not pretend to be
//! Kafka, which is the point.

use std::time::{Duration, Instant};

use kiel::{Error, Producer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Starts a server that answers every connection with an HTTP 400, as web servers do to
/// bytes they cannot parse, and returns its address.
async fn http_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 512];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n\
                          Content-Length: 11\r\nConnection: close\r\n\r\nBad Request",
                    )
                    .await;
            });
        }
    });
    address
}

/// Starts a server that accepts connections, reads, and never answers.
async fn silent_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let address = listener
        .local_addr()
        .unwrap_or_else(|e| panic!("{e}"))
        .to_string();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut sink = [0u8; 512];
            let _ = socket.read(&mut sink).await;
            held.push(socket);
        }
    });
    address
}

#[tokio::test]
async fn an_http_server_as_bootstrap_fails_at_once_and_says_what_it_is() {
    let address = http_server().await;
    let started = Instant::now();
    let result = Producer::builder()
        .bootstrap_servers(&address)
        .max_block(Duration::from_secs(60))
        .build()
        .await;
    let elapsed = started.elapsed();
    let Err(error) = result else {
        panic!("a producer started against an HTTP server");
    };
    let text = error.to_string();
    // Typed: no retry can fix this address.
    assert!(
        matches!(&error, Error::Connection { cause, .. } if cause.is_fatal()),
        "{text}"
    );
    assert!(
        text.contains("not a Kafka broker") && text.contains("HTTP/1.1 400 Bad Request"),
        "{text}"
    );
    assert!(!text.contains("exceeds the limit"), "{text}");
    assert!(
        elapsed < Duration::from_secs(10),
        "took {elapsed:?}: {text}"
    );
}

#[tokio::test]
async fn a_listener_that_never_answers_fails_within_the_setup_timeout() {
    let address = silent_server().await;
    let started = Instant::now();
    let result = Producer::builder()
        .bootstrap_servers(&address)
        .max_block(Duration::from_secs(60))
        .property("socket.connection.setup.timeout.ms", "1500")
        .build()
        .await;
    let elapsed = started.elapsed();
    let Err(error) = result else {
        panic!("a producer started against a silent listener");
    };
    let text = error.to_string();
    assert!(matches!(error, Error::Bootstrap { .. }), "{text}");
    assert!(
        text.contains("socket.connection.setup.timeout.ms") && text.contains("ApiVersions"),
        "{text}"
    );
    assert!(
        elapsed < Duration::from_secs(10),
        "took {elapsed:?}: {text}"
    );
}
