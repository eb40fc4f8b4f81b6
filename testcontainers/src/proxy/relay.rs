//! One proxied connection: client ⇄ proxy ⇄ broker, each direction a reader and a writer
//! joined by a short queue so that added latency delays bytes without slowing the stream.
//!
//! Client-to-broker bytes are forwarded as they arrive (a cut can land inside a request);
//! broker-to-client bytes are forwarded whole frame by whole frame, because Metadata
//! responses are rewritten on the way. A cut closes both sockets with a reset.
//!
//! # References
//! - Kafka protocol guide, "Common Request and Response Structure":
//!   <https://kafka.apache.org/protocol#protocol_common>

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use bytes::{Bytes, BytesMut};
use kiel_protocol::frame::{peek_correlation_id, FrameReader};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::requests::RequestTracker;
use super::rewrite::{rewrite_metadata, AddressBook};
use super::{Control, Counters};

/// The Metadata api key: its responses are rewritten.
const METADATA_API_KEY: i16 = 3;
/// Largest frame forwarded either way (the broker's own default request limit).
const MAX_FRAME: usize = 100 * 1024 * 1024;
/// Chunks or frames queued per direction before the reader waits.
const QUEUE_DEPTH: usize = 64;
/// Read size per call.
const READ_SIZE: usize = 64 * 1024;

/// What one connection shares between its two directions.
struct Connection {
    counters: Arc<Counters>,
    /// Metadata requests on their way: correlation id → version.
    pending_metadata: Mutex<HashMap<i32, i16>>,
    requests_seen: AtomicU64,
    responses_written: AtomicU64,
}

/// Something to write, and when.
struct Delivery {
    not_before: Instant,
    parts: Vec<Bytes>,
    /// Whether this completes a response (for the in-flight count).
    is_response: bool,
}

enum End {
    Closed,
    Cut,
}

/// Serves one accepted client connection until either side closes, a cut, or shutdown.
pub(crate) async fn serve(
    mut client: TcpStream,
    upstream: String,
    mut control: watch::Receiver<Control>,
    counters: Arc<Counters>,
    book: Arc<AddressBook>,
) {
    let generation = control.borrow().cuts;
    // In a black hole the connection is accepted and held; nothing goes to the broker.
    let go_on = control
        .wait_for(|c| c.shut_down || c.cuts != generation || !c.black_hole)
        .await
        .map(|c| !c.shut_down && c.cuts == generation)
        .ok();
    if go_on != Some(true) {
        if go_on == Some(false) {
            counters.cuts.fetch_add(1, Ordering::Relaxed);
        }
        let _ = client.set_zero_linger();
        return;
    }
    let Ok(mut broker) = TcpStream::connect(&upstream).await else {
        counters.upstream_failures.fetch_add(1, Ordering::Relaxed);
        let _ = client.set_zero_linger();
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = broker.set_nodelay(true);
    let connection = Connection {
        counters,
        pending_metadata: Mutex::new(HashMap::new()),
        requests_seen: AtomicU64::new(0),
        responses_written: AtomicU64::new(0),
    };
    let end = {
        let (client_read, client_write) = client.split();
        let (broker_read, broker_write) = broker.split();
        let mut cut = control.clone();
        tokio::select! {
            () = forward_requests(client_read, broker_write, &connection, &control) => End::Closed,
            () = forward_responses(broker_read, client_write, &connection, &control, &book) => {
                End::Closed
            }
            () = cut_signal(&mut cut, generation) => End::Cut,
        }
    };
    if let End::Cut = end {
        let counters = &connection.counters;
        counters.cuts.fetch_add(1, Ordering::Relaxed);
        let seen = connection.requests_seen.load(Ordering::Relaxed);
        let answered = connection.responses_written.load(Ordering::Relaxed);
        let in_flight = seen.saturating_sub(answered);
        if in_flight > 0 {
            counters
                .cuts_with_requests_in_flight
                .fetch_add(1, Ordering::Relaxed);
            counters
                .requests_in_flight_at_cuts
                .fetch_add(in_flight, Ordering::Relaxed);
        }
        let _ = client.set_zero_linger();
        let _ = broker.set_zero_linger();
    }
}

/// Resolves when the proxy is cut (or shut down) after `generation`.
async fn cut_signal(control: &mut watch::Receiver<Control>, generation: u64) {
    let _ = control
        .wait_for(|c| c.shut_down || c.cuts != generation)
        .await;
}

/// Client → broker: bytes pass as they arrive; requests are counted and Metadata requests
/// remembered so that their answers can be rewritten.
async fn forward_requests<R, W>(
    mut from: R,
    to: W,
    connection: &Connection,
    control: &watch::Receiver<Control>,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (queue, queued) = mpsc::channel(QUEUE_DEPTH);
    let reader = async move {
        let mut tracker = RequestTracker::new(MAX_FRAME);
        let mut buf = BytesMut::new();
        loop {
            buf.reserve(READ_SIZE);
            match from.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let chunk = buf.split().freeze();
            let fed = tracker.feed(&chunk, |seen| {
                connection.requests_seen.fetch_add(1, Ordering::Relaxed);
                connection.counters.requests.fetch_add(1, Ordering::Relaxed);
                if seen.api_key == METADATA_API_KEY {
                    connection
                        .pending_metadata
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(seen.correlation_id, seen.api_version);
                }
            });
            if fed.is_err() {
                connection
                    .counters
                    .protocol_errors
                    .fetch_add(1, Ordering::Relaxed);
                return;
            }
            let delivery = Delivery {
                not_before: Instant::now() + control.borrow().latency,
                parts: vec![chunk],
                is_response: false,
            };
            if queue.send(delivery).await.is_err() {
                return;
            }
        }
    };
    write_queue(reader, queued, to, connection, control).await;
}

/// Broker → client: whole frames; Metadata answers point at the proxies.
async fn forward_responses<R, W>(
    mut from: R,
    to: W,
    connection: &Connection,
    control: &watch::Receiver<Control>,
    book: &AddressBook,
) where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let (queue, queued) = mpsc::channel(QUEUE_DEPTH);
    let reader = async move {
        let frames = FrameReader::new(MAX_FRAME);
        let mut buf = BytesMut::with_capacity(READ_SIZE);
        loop {
            loop {
                let frame = match frames.next_frame(&mut buf) {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(_) => {
                        connection
                            .counters
                            .protocol_errors
                            .fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                };
                let Some(parts) = response_parts(frame, connection, book) else {
                    return;
                };
                let delivery = Delivery {
                    not_before: Instant::now() + control.borrow().latency,
                    parts,
                    is_response: true,
                };
                if queue.send(delivery).await.is_err() {
                    return;
                }
            }
            buf.reserve(READ_SIZE);
            match from.read_buf(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    write_queue(reader, queued, to, connection, control).await;
}

/// The bytes to send the client for one response frame (`None`: give up the connection).
fn response_parts(frame: Bytes, connection: &Connection, book: &AddressBook) -> Option<Vec<Bytes>> {
    let counters = &connection.counters;
    let metadata_version = peek_correlation_id(&frame).ok().and_then(|id| {
        connection
            .pending_metadata
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id)
    });
    let Some(version) = metadata_version else {
        let size = u32::try_from(frame.len()).ok()?;
        return Some(vec![Bytes::copy_from_slice(&size.to_be_bytes()), frame]);
    };
    match rewrite_metadata(frame, version, book) {
        Ok(whole) => {
            counters.metadata_rewritten.fetch_add(1, Ordering::Relaxed);
            Some(vec![whole])
        }
        Err(_) => {
            // Forwarding it unchanged would send the client around the proxy.
            counters.rewrite_failures.fetch_add(1, Ordering::Relaxed);
            None
        }
    }
}

/// Runs `reader` (which fills the queue) beside a writer that empties the queue into `to`,
/// holding deliveries during a black hole and until their time. When the reader ends,
/// what it queued is still written.
async fn write_queue<F, W>(
    reader: F,
    mut queued: mpsc::Receiver<Delivery>,
    mut to: W,
    connection: &Connection,
    control: &watch::Receiver<Control>,
) where
    F: std::future::Future<Output = ()>,
    W: AsyncWrite + Unpin,
{
    let mut control = control.clone();
    let writer = async {
        while let Some(delivery) = queued.recv().await {
            let open = control
                .wait_for(|c| c.shut_down || !c.black_hole)
                .await
                .map(|c| !c.shut_down)
                .ok();
            if open != Some(true) {
                return;
            }
            tokio::time::sleep_until(delivery.not_before).await;
            for part in &delivery.parts {
                if to.write_all(part).await.is_err() {
                    return;
                }
            }
            if delivery.is_response {
                connection.responses_written.fetch_add(1, Ordering::Relaxed);
            }
        }
    };
    tokio::pin!(reader);
    tokio::pin!(writer);
    tokio::select! {
        () = &mut writer => {}
        () = &mut reader => writer.await,
    }
}
