//! One tokio task per broker connection. It owns the socket, does the ApiVersions handshake,
//! writes whole frames in the order it is given them, and matches responses to requests by
//! order and correlation id (a broker answers requests on one connection in order).
//!
//! Any IO or framing error *poisons* the connection: the task reports
//! [`ConnectionEvent::Closed`] once and ends, and the driver fails over everything that was in
//! flight on it. Dropping the [`ConnectionHandle`] closes the connection.
//!
//! # References
//! - Kafka protocol guide, "Network" (ordering, pipelining) and "Retrieving Supported API
//!   versions"; KIP-511 (ApiVersions v3, client software name)

use std::collections::VecDeque;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kiel_protocol::frame::{encode_request, peek_correlation_id, FrameReader};
use kiel_protocol::messages::api_versions::{ApiVersion, ApiVersionsRequest, ApiVersionsResponse};
use kiel_protocol::Request;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Identifies one connection (not one broker: a broker gets a new id per reconnect).
pub(crate) type ConnectionId = u64;

/// What a connection task tells the driver.
#[derive(Debug)]
pub(crate) enum ConnectionEvent {
    /// Connected and negotiated: the broker's API version ranges.
    Ready {
        id: ConnectionId,
        api_versions: Vec<ApiVersion>,
    },
    /// A response frame (after the size prefix) for `correlation_id`.
    Response {
        id: ConnectionId,
        correlation_id: i32,
        frame: Bytes,
    },
    /// A request that expects no response (acks=0) was written.
    Written {
        id: ConnectionId,
        correlation_id: i32,
    },
    /// The connection failed or closed; nothing more will come from it.
    Closed { id: ConnectionId, reason: String },
}

struct Outgoing {
    correlation_id: i32,
    frame: BytesMut,
    expect_response: bool,
}

/// The driver's end of a connection.
#[derive(Debug)]
pub(crate) struct ConnectionHandle {
    tx: mpsc::UnboundedSender<Outgoing>,
}

impl ConnectionHandle {
    /// Queues a whole request frame. Returns false if the connection is already gone.
    pub(crate) fn send(&self, correlation_id: i32, frame: BytesMut, expect_response: bool) -> bool {
        self.tx
            .send(Outgoing {
                correlation_id,
                frame,
                expect_response,
            })
            .is_ok()
    }
}

/// Settings for a connection task.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionConfig {
    pub client_id: String,
    pub connect_timeout: Duration,
    pub max_frame_size: usize,
}

/// Starts a connection task to `address` and returns its handle.
pub(crate) fn spawn(
    id: ConnectionId,
    address: String,
    config: ConnectionConfig,
    events: mpsc::UnboundedSender<ConnectionEvent>,
) -> ConnectionHandle {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let reason = match run(id, &address, &config, rx, &events).await {
            Ok(()) => "closed by the producer".to_owned(),
            Err(e) => e,
        };
        tracing::debug!(connection = id, %address, %reason, "connection closed");
        let _ = events.send(ConnectionEvent::Closed { id, reason });
    });
    ConnectionHandle { tx }
}

const SOFTWARE_NAME: &str = "kiel";

async fn read_frame(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    reader: &FrameReader,
) -> Result<Bytes, String> {
    loop {
        if let Some(frame) = reader.next_frame(buf).map_err(|e| e.to_string())? {
            return Ok(frame);
        }
        if stream.read_buf(buf).await.map_err(|e| e.to_string())? == 0 {
            return Err("connection closed by the broker".into());
        }
    }
}

/// Sends ApiVersions (v3 first; falls back as the broker says) and returns its ranges.
async fn handshake(
    stream: &mut TcpStream,
    buf: &mut BytesMut,
    config: &ConnectionConfig,
    reader: &FrameReader,
) -> Result<Vec<ApiVersion>, String> {
    let mut version = ApiVersionsRequest::VERSIONS.max;
    for _ in 0..3 {
        let request = ApiVersionsRequest {
            client_software_name: (version >= 3).then(|| SOFTWARE_NAME.to_owned()),
            client_software_version: (version >= 3).then(|| env!("CARGO_PKG_VERSION").to_owned()),
        };
        let mut out = BytesMut::new();
        encode_request(&request, version, 0, Some(&config.client_id), &mut out)
            .map_err(|e| e.to_string())?;
        stream.write_all(&out).await.map_err(|e| e.to_string())?;
        let mut frame = read_frame(stream, buf, reader).await?;
        let correlation = peek_correlation_id(&frame).map_err(|e| e.to_string())?;
        if correlation != 0 {
            return Err(format!(
                "ApiVersions answered with correlation id {correlation}"
            ));
        }
        bytes::Buf::advance(&mut frame, 4);
        let (response, _used) = ApiVersionsResponse::decode_with_fallback(frame, version)
            .map_err(|e| format!("ApiVersions response: {e}"))?;
        match response.error_code {
            0 => return Ok(response.api_keys),
            35 => {
                // UNSUPPORTED_VERSION: retry with the broker's highest ApiVersions version.
                version = response
                    .api_keys
                    .iter()
                    .find(|k| k.api_key == ApiVersionsRequest::API_KEY.code())
                    .map_or(0, |k| k.max_version.min(version - 1));
            }
            code => return Err(format!("ApiVersions failed with error code {code}")),
        }
    }
    Err("ApiVersions negotiation did not converge".into())
}

async fn run(
    id: ConnectionId,
    address: &str,
    config: &ConnectionConfig,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    events: &mpsc::UnboundedSender<ConnectionEvent>,
) -> Result<(), String> {
    let mut stream = tokio::time::timeout(config.connect_timeout, TcpStream::connect(address))
        .await
        .map_err(|_| format!("connect timed out after {:?}", config.connect_timeout))?
        .map_err(|e| format!("connect failed: {e}"))?;
    let _ = stream.set_nodelay(true);
    let reader = FrameReader::new(config.max_frame_size);
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let api_versions = handshake(&mut stream, &mut buf, config, &reader).await?;
    tracing::debug!(connection = id, %address, "connected");
    if events
        .send(ConnectionEvent::Ready { id, api_versions })
        .is_err()
    {
        return Ok(());
    }
    let (mut read_half, mut write_half) = stream.into_split();
    let mut waiting: VecDeque<i32> = VecDeque::new();
    let mut out = BytesMut::new();
    loop {
        // Hand out every complete frame already buffered.
        while let Some(frame) = reader.next_frame(&mut buf).map_err(|e| e.to_string())? {
            let correlation_id = peek_correlation_id(&frame).map_err(|e| e.to_string())?;
            match waiting.pop_front() {
                Some(expected) if expected == correlation_id => {}
                Some(expected) => {
                    return Err(format!(
                        "response correlation id {correlation_id}, expected {expected}"
                    ))
                }
                None => return Err(format!("unexpected response {correlation_id}")),
            }
            if events
                .send(ConnectionEvent::Response {
                    id,
                    correlation_id,
                    frame,
                })
                .is_err()
            {
                return Ok(());
            }
        }
        tokio::select! {
            outgoing = rx.recv() => {
                let Some(first) = outgoing else { return Ok(()) };
                // Gather what is queued into one write.
                out.clear();
                let mut written = Vec::new();
                let mut next = Some(first);
                while let Some(o) = next {
                    out.extend_from_slice(&o.frame);
                    if o.expect_response {
                        waiting.push_back(o.correlation_id);
                    } else {
                        written.push(o.correlation_id);
                    }
                    next = if out.len() < 1 << 20 { rx.try_recv().ok() } else { None };
                }
                write_half.write_all(&out).await.map_err(|e| format!("write failed: {e}"))?;
                for correlation_id in written {
                    let _ = events.send(ConnectionEvent::Written { id, correlation_id });
                }
            }
            read = read_half.read_buf(&mut buf) => {
                match read {
                    Ok(0) => return Err("connection closed by the broker".into()),
                    Ok(_) => {}
                    Err(e) => return Err(format!("read failed: {e}")),
                }
            }
        }
    }
}
