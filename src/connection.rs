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
use std::io::IoSlice;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
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

/// One request frame, size prefix included, as the chunks it was encoded into (written back
/// to back): a whole frame from [`kiel_protocol::frame::encode_request`], or the pieces of
/// `ProduceRequest::encode_frame_chunks`, whose record batches are not copied.
#[derive(Debug, Default)]
pub(crate) struct FrameChunks(Vec<Bytes>);

impl From<BytesMut> for FrameChunks {
    fn from(frame: BytesMut) -> Self {
        Self(vec![frame.freeze()])
    }
}

impl From<Vec<Bytes>> for FrameChunks {
    fn from(chunks: Vec<Bytes>) -> Self {
        Self(chunks)
    }
}

impl From<FrameChunks> for Bytes {
    /// The frame as one buffer, for a reader that wants it whole (the simulated broker):
    /// no copy when it is a single chunk.
    fn from(frame: FrameChunks) -> Self {
        match <[Self; 1]>::try_from(frame.0) {
            Ok([whole]) => whole,
            Err(chunks) => Self::from(chunks.concat()),
        }
    }
}

struct Outgoing {
    correlation_id: i32,
    frame: FrameChunks,
    expect_response: bool,
}

/// The driver's end of a connection.
#[derive(Debug)]
pub(crate) struct ConnectionHandle {
    tx: mpsc::UnboundedSender<Outgoing>,
}

impl ConnectionHandle {
    /// Queues a whole request frame. Returns false if the connection is already gone.
    pub(crate) fn send(
        &self,
        correlation_id: i32,
        frame: impl Into<FrameChunks>,
        expect_response: bool,
    ) -> bool {
        self.tx
            .send(Outgoing {
                correlation_id,
                frame: frame.into(),
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

/// Request frames queued for one vectored write, as the chunks they were encoded into.
///
/// As a [`Buf`] it hands the socket up to [`Buf::chunks_vectored`]'s limit of slices per
/// `writev`, so the record bytes go from the encoded frames to the kernel without another
/// copy into a write buffer.
#[derive(Debug, Default)]
struct ChunkQueue {
    chunks: VecDeque<Bytes>,
    remaining: usize,
}

impl ChunkQueue {
    /// Appends a frame's chunks (empty ones are skipped).
    fn push(&mut self, frame: FrameChunks) {
        for chunk in frame.0 {
            if !chunk.is_empty() {
                self.remaining += chunk.len();
                self.chunks.push_back(chunk);
            }
        }
    }
}

impl Buf for ChunkQueue {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        self.chunks.front().map_or(&[], |c| c)
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut filled = 0;
        for (slot, chunk) in dst.iter_mut().zip(&self.chunks) {
            *slot = IoSlice::new(chunk);
            filled += 1;
        }
        filled
    }

    fn advance(&mut self, mut count: usize) {
        while count > 0 {
            let Some(front) = self.chunks.front_mut() else {
                break;
            };
            if front.len() <= count {
                count -= front.len();
                self.remaining -= front.len();
                self.chunks.pop_front();
            } else {
                front.advance(count);
                self.remaining -= count;
                count = 0;
            }
        }
    }
}

/// Gather at most this many bytes of queued frames into one vectored write.
const MAX_GATHER_BYTES: usize = 1 << 20;

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
    let mut out = ChunkQueue::default();
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
                // Gather what is queued into one vectored write (the frames are not copied).
                let mut written = Vec::new();
                let mut next = Some(first);
                while let Some(o) = next {
                    out.push(o.frame);
                    if o.expect_response {
                        waiting.push_back(o.correlation_id);
                    } else {
                        written.push(o.correlation_id);
                    }
                    next = if out.remaining() < MAX_GATHER_BYTES { rx.try_recv().ok() } else { None };
                }
                write_half
                    .write_all_buf(&mut out)
                    .await
                    .map_err(|e| format!("write failed: {e}"))?;
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

#[cfg(test)]
mod tests {
    use std::io;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::AsyncWrite;

    use super::*;

    /// A vectored writer that takes at most `limit` bytes per call, as a full socket does.
    struct Trickle {
        limit: usize,
        written: Vec<u8>,
        calls: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.limit);
            self.written.extend_from_slice(&buf[..n]);
            self.calls += 1;
            Poll::Ready(Ok(n))
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let mut left = self.limit;
            for buf in bufs {
                let n = buf.len().min(left);
                self.written.extend_from_slice(&buf[..n]);
                left -= n;
                if left == 0 {
                    break;
                }
            }
            self.calls += 1;
            Poll::Ready(Ok(self.limit - left))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// Frames of many chunks (empty ones too) whose bytes count up, so any reordering,
    /// loss or repetition shows.
    fn frames() -> (Vec<FrameChunks>, Vec<u8>) {
        let mut expected = Vec::new();
        let mut frames = Vec::new();
        let mut next = 0u8;
        for frame in 0..40usize {
            let mut chunks = Vec::new();
            for chunk in 0..(frame % 5) {
                let len = (frame * 7 + chunk * 13) % 50;
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        next = next.wrapping_add(1);
                        next
                    })
                    .collect();
                expected.extend_from_slice(&bytes);
                chunks.push(Bytes::from(bytes));
            }
            frames.push(if frame % 3 == 0 {
                FrameChunks::from(BytesMut::from(&chunks.concat()[..]))
            } else {
                FrameChunks::from(chunks)
            });
        }
        (frames, expected)
    }

    #[tokio::test]
    async fn partial_vectored_writes_send_every_byte_once_in_order() {
        for limit in [1, 3, 17, 64, 100_000] {
            let (frames, expected) = frames();
            let mut queue = ChunkQueue::default();
            for frame in frames {
                queue.push(frame);
            }
            assert_eq!(queue.remaining(), expected.len());
            let mut writer = Trickle {
                limit,
                written: Vec::new(),
                calls: 0,
            };
            let written = writer.write_all_buf(&mut queue).await;
            assert!(written.is_ok(), "{written:?}");
            assert_eq!(writer.written, expected, "limit {limit}");
            assert_eq!(queue.remaining(), 0);
            assert!(queue.chunks.is_empty());
            assert!(writer.calls >= expected.len().div_ceil(limit));
        }
    }

    #[tokio::test]
    async fn one_write_call_takes_many_chunks() {
        let (frames, expected) = frames();
        let mut queue = ChunkQueue::default();
        for frame in frames {
            queue.push(frame);
        }
        let queued = queue.chunks.len();
        assert!(queued >= 32, "the test needs many chunks, has {queued}");
        let mut writer = Trickle {
            limit: usize::MAX,
            written: Vec::new(),
            calls: 0,
        };
        let written = writer.write_all_buf(&mut queue).await;
        assert!(written.is_ok(), "{written:?}");
        assert_eq!(writer.written, expected);
        assert!(
            writer.calls <= queued / 8,
            "{} calls for {queued} chunks",
            writer.calls
        );
    }

    #[test]
    fn a_frame_in_chunks_reads_back_whole() {
        let (frames, _) = frames();
        for frame in frames {
            let expected: Vec<u8> = frame.0.concat();
            let single = frame.0.len() == 1;
            let first = frame.0.first().map(|c| c.as_ptr());
            let whole = Bytes::from(frame);
            assert_eq!(whole[..], expected[..]);
            if single {
                // One chunk is handed over as it is, not copied.
                assert_eq!(Some(whole.as_ptr()), first);
            }
        }
    }

    #[test]
    fn empty_chunks_are_not_queued() {
        let mut queue = ChunkQueue::default();
        queue.push(FrameChunks::from(vec![
            Bytes::new(),
            Bytes::from_static(b"ab"),
        ]));
        queue.push(FrameChunks::from(BytesMut::new()));
        assert_eq!(queue.chunks.len(), 1);
        assert_eq!(queue.chunk(), b"ab");
        queue.advance(1);
        assert_eq!(queue.chunk(), b"b");
        assert_eq!(queue.remaining(), 1);
    }
}
