//! One tokio task per broker connection. It owns the stream, makes the connection usable
//! ([`handshake`]: ApiVersions, later SASL), writes whole frames in the order it is given
//! them, and matches responses to requests by order and correlation id (a broker answers
//! requests on one connection in order).
//!
//! The task is generic over its [`Transport`]: a TCP stream today, a TLS stream wrapping one
//! tomorrow, with no second copy of the task.
//!
//! Any IO or framing error *poisons* the connection: the task reports
//! [`ConnectionEvent::Closed`] once, with a typed [`ConnectionError`], and ends, and the
//! driver fails over everything that was in flight on it. Dropping the
//! [`ConnectionHandle`] closes the connection.
//!
//! # References
//! - Kafka protocol guide, "Network" (ordering, pipelining)
//! - rskafka `messenger.rs`, tokio-postgres `connection.rs` (the task shape)

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kiel_protocol::frame::{peek_correlation_id, FrameReader};
use kiel_protocol::messages::api_versions::ApiVersion;
use kiel_protocol::DecodeError;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::sasl::SaslLogin;
use crate::time::later;

mod duplex;
mod error;
mod handshake;
mod tls;

pub use error::ConnectionError;
pub(crate) use tls::TlsConnector;

/// Identifies one connection (not one broker: a broker gets a new id per reconnect).
pub(crate) type ConnectionId = u64;

/// What a connection task tells the driver.
#[derive(Debug)]
pub(crate) enum ConnectionEvent {
    /// Connected and negotiated: the broker's API version ranges.
    Ready {
        id: ConnectionId,
        api_versions: Vec<ApiVersion>,
        /// The cluster's finalized `transaction.version`, if the broker said.
        transaction_version: Option<i16>,
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
    Closed {
        id: ConnectionId,
        error: ConnectionError,
    },
}

/// A byte stream a connection runs over, split into halves that read and write
/// independently.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Unpin + Send + 'static {
    /// The reading half.
    type Read: AsyncRead + Unpin + Send;
    /// The writing half.
    type Write: AsyncWrite + Unpin + Send;
    /// Splits the stream.
    fn split(self) -> (Self::Read, Self::Write);
}

impl Transport for TcpStream {
    type Read = tokio::net::tcp::OwnedReadHalf;
    type Write = tokio::net::tcp::OwnedWriteHalf;

    fn split(self) -> (Self::Read, Self::Write) {
        self.into_split()
    }
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
    /// TLS, for `security.protocol` SSL and SASL_SSL.
    pub tls: Option<TlsConnector>,
    /// The SASL login, for `security.protocol` SASL_PLAINTEXT and SASL_SSL.
    pub sasl: Option<Arc<SaslLogin>>,
}

impl ConnectionConfig {
    /// The connection settings of a producer; TLS files are read and checked here.
    pub(crate) fn from(config: &crate::config::ProducerConfig) -> crate::error::Result<Self> {
        let security = config.security();
        let tls = if security.protocol().uses_tls() {
            Some(TlsConnector::new(&security.tls)?)
        } else {
            None
        };
        let sasl = match (security.protocol().uses_sasl(), security.sasl()) {
            (true, Some(sasl)) => {
                // The CA that signs the brokers' certificates is trusted for the OIDC token
                // endpoint too (as Java does with its ssl.* settings).
                let ca = security
                    .tls
                    .ca
                    .as_ref()
                    .filter(|_| security.protocol().uses_tls());
                Some(Arc::new(SaslLogin::new(sasl, ca)?))
            }
            _ => None,
        };
        Ok(Self {
            client_id: config.client_id().to_owned(),
            connect_timeout: config.connect_timeout(),
            max_frame_size: config.max_request_size().max(100 * 1024 * 1024),
            tls,
            sasl,
        })
    }
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
        let error = match run(id, &address, &config, rx, &events).await {
            Ok(()) => ConnectionError::ClosedByProducer,
            Err(e) => e,
        };
        tracing::debug!(connection = id, %address, %error, "connection closed");
        let _ = events.send(ConnectionEvent::Closed { id, error });
    });
    ConnectionHandle { tx }
}

/// Opens a TCP connection to `address`.
async fn connect(address: &str) -> Result<TcpStream, ConnectionError> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::ConnectionRefused => ConnectionError::Refused,
            _ if e.to_string().contains("lookup") || e.to_string().contains("resolve") => {
                ConnectionError::Resolve(e.to_string())
            }
            _ => ConnectionError::Connect(e.to_string()),
        })?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

async fn run(
    id: ConnectionId,
    address: &str,
    config: &ConnectionConfig,
    rx: mpsc::UnboundedReceiver<Outgoing>,
    events: &mpsc::UnboundedSender<ConnectionEvent>,
) -> Result<(), ConnectionError> {
    // Connecting, TLS and the handshake together may take socket.connection.setup.timeout.ms.
    let deadline =
        tokio::time::Instant::from_std(later(std::time::Instant::now(), config.connect_timeout));
    let timed_out = |opened: bool| ConnectionError::SetupTimeout {
        timeout: config.connect_timeout,
        opened,
    };
    let tcp = tokio::time::timeout_at(deadline, connect(address))
        .await
        .map_err(|_| timed_out(false))??;
    let setup = Setup {
        id,
        address,
        config,
        deadline,
    };
    match &config.tls {
        None => setup.finish(tcp, rx, events).await,
        Some(tls) => {
            let stream = tokio::time::timeout_at(deadline, tls.connect(host_of(address), tcp))
                .await
                .map_err(|_| timed_out(true))??;
            setup.finish(stream, rx, events).await
        }
    }
}

/// The host part of `host:port` (`[::1]:9092` gives `::1`).
fn host_of(address: &str) -> &str {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    host.trim_start_matches('[').trim_end_matches(']')
}

/// What making a connection usable needs, whatever its transport.
struct Setup<'a> {
    id: ConnectionId,
    address: &'a str,
    config: &'a ConnectionConfig,
    deadline: tokio::time::Instant,
}

impl Setup<'_> {
    /// Runs the handshake on an open stream (within the setup deadline), reports the
    /// connection ready, then serves it.
    async fn finish<T: Transport>(
        self,
        mut stream: T,
        rx: mpsc::UnboundedReceiver<Outgoing>,
        events: &mpsc::UnboundedSender<ConnectionEvent>,
    ) -> Result<(), ConnectionError> {
        let reader = FrameReader::new(self.config.max_frame_size);
        let mut buf = BytesMut::with_capacity(64 * 1024);
        let handshake = handshake::establish(&mut stream, &mut buf, self.config, &reader);
        let established = tokio::time::timeout_at(self.deadline, handshake)
            .await
            .map_err(|_| ConnectionError::SetupTimeout {
                timeout: self.config.connect_timeout,
                opened: true,
            })??;
        let id = self.id;
        tracing::debug!(connection = id, address = self.address, "connected");
        let session = match (&self.config.sasl, established.session_lifetime) {
            (Some(login), Some(lifetime)) => Some(Session {
                login: login.as_ref(),
                config: self.config,
                api_versions: established.api_versions.clone(),
                reauthenticate_at: reauthentication_time(lifetime),
            }),
            _ => None,
        };
        if events
            .send(ConnectionEvent::Ready {
                id,
                api_versions: established.api_versions,
                transaction_version: established.transaction_version,
            })
            .is_err()
        {
            return Ok(());
        }
        serve(id, stream, buf, &reader, rx, events, session).await
    }
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

/// A SASL session the broker limits in time (KIP-368): re-authenticate before it ends.
struct Session<'a> {
    login: &'a SaslLogin,
    config: &'a ConnectionConfig,
    api_versions: Vec<ApiVersion>,
    reauthenticate_at: tokio::time::Instant,
}

/// Brokers refuse a re-authentication that starts less than a second after the previous
/// one (`KafkaChannel`'s minimum interval); a little more, to be safe.
const MIN_REAUTHENTICATION_INTERVAL: Duration = Duration::from_millis(1100);

/// When to re-authenticate a session of `lifetime`: at a random point between 85 % and
/// 95 % of it (as Java does), so that a client's connections do not all do it at once.
fn reauthentication_time(lifetime: Duration) -> tokio::time::Instant {
    let share = 0.85 + rand::random::<f64>() * 0.10;
    tokio::time::Instant::from_std(later(std::time::Instant::now(), lifetime.mul_f64(share)))
}

/// Carries requests and responses over a usable connection until it fails or the driver
/// drops its handle. With a time-limited SASL session, it re-authenticates in time: it stops
/// writing new requests, lets the ones in flight be answered, runs the SASL exchange on the
/// same connection, then goes on; the requests that waited meanwhile go out in order.
async fn serve<T: Transport>(
    id: ConnectionId,
    stream: T,
    mut buf: BytesMut,
    reader: &FrameReader,
    mut rx: mpsc::UnboundedReceiver<Outgoing>,
    events: &mpsc::UnboundedSender<ConnectionEvent>,
    mut session: Option<Session<'_>>,
) -> Result<(), ConnectionError> {
    let (mut read_half, mut write_half) = stream.split();
    let mut waiting: VecDeque<i32> = VecDeque::new();
    let mut out = ChunkQueue::default();
    // The session must be renewed: no new requests until it is.
    let mut renewing = false;
    loop {
        // Hand out every complete frame already buffered.
        while let Some(frame) = reader.next_frame(&mut buf).map_err(frame_error)? {
            let correlation_id = peek_correlation_id(&frame)
                .map_err(|e| ConnectionError::Protocol(e.to_string()))?;
            match waiting.pop_front() {
                Some(expected) if expected == correlation_id => {}
                Some(expected) => {
                    return Err(ConnectionError::Protocol(format!(
                        "response correlation id {correlation_id}, expected {expected}"
                    )))
                }
                None => {
                    return Err(ConnectionError::Protocol(format!(
                        "unexpected response {correlation_id}"
                    )))
                }
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
        if renewing && waiting.is_empty() {
            if let Some(current) = session.as_mut() {
                let mut stream = duplex::Duplex {
                    read: &mut read_half,
                    write: &mut write_half,
                };
                let renewal = handshake::authenticate(
                    &mut stream,
                    &mut buf,
                    current.config,
                    reader,
                    &current.api_versions,
                    current.login,
                );
                // A broker that does not answer the renewal must not hold the requests
                // waiting behind it: give up on the connection as on a setup that hangs.
                // A renewal that fails closes the connection, and the records go out on a
                // new one, which authenticates from the start: if the credentials no longer
                // work, that is where it shows, as a failure no retry can fix.
                let started = tokio::time::Instant::now();
                let timeout = current.config.connect_timeout;
                let lifetime = match tokio::time::timeout(timeout, renewal).await {
                    Ok(Ok(lifetime)) => lifetime,
                    Ok(Err(error)) => {
                        return Err(ConnectionError::Protocol(format!(
                            "re-authentication (KIP-368) failed, so the connection is \
                             replaced: {error}"
                        )))
                    }
                    Err(_) => {
                        return Err(ConnectionError::Protocol(format!(
                            "re-authentication (KIP-368) not answered within \
                             socket.connection.setup.timeout.ms ({timeout:?})"
                        )))
                    }
                };
                tracing::debug!(connection = id, ?lifetime, "re-authenticated");
                match lifetime {
                    Some(lifetime) => {
                        // Brokers refuse a renewal less than a second after the last one.
                        current.reauthenticate_at = reauthentication_time(lifetime)
                            .max(started + MIN_REAUTHENTICATION_INTERVAL);
                    }
                    None => session = None,
                }
            }
            renewing = false;
        }
        let renew_at = session.as_ref().map(|s| s.reauthenticate_at);
        tokio::select! {
            _ = async {
                if let Some(at) = renew_at {
                    tokio::time::sleep_until(at).await;
                }
            }, if renew_at.is_some() && !renewing => {
                renewing = true;
            }
            outgoing = rx.recv(), if !renewing => {
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
                    .map_err(|e| ConnectionError::io_established("write failed", &e))?;
                for correlation_id in written {
                    let _ = events.send(ConnectionEvent::Written { id, correlation_id });
                }
            }
            read = read_half.read_buf(&mut buf) => {
                match read {
                    Ok(0) => return Err(ConnectionError::ClosedByBroker),
                    Ok(_) => {}
                    Err(e) => return Err(ConnectionError::io_established("read failed", &e)),
                }
            }
        }
    }
}

fn frame_error(error: DecodeError) -> ConnectionError {
    match error {
        DecodeError::FrameTooLarge { actual, limit } => ConnectionError::FrameTooLarge {
            size: actual,
            limit,
        },
        other => ConnectionError::Protocol(other.to_string()),
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
