//! One Metadata request over a plain TCP connection, encoded and decoded by `kiel-protocol`.
//! The harness uses it to decide readiness (every broker listed) and to find partition
//! leaders. Version 12 is spoken by both 3.9 (max 12) and 4.x (max 13) brokers, so no
//! ApiVersions round trip is needed first.
//!
//! # References
//! - Kafka protocol guide, Metadata API (key 3): <https://kafka.apache.org/protocol#The_Messages_Metadata>

use std::time::Duration;

use bytes::BytesMut;
use kiel_protocol::frame::{decode_response, encode_request, FrameReader};
use kiel_protocol::messages::metadata::{MetadataRequest, MetadataResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::{HarnessError, Result};

/// The Metadata version the harness sends.
pub(crate) const METADATA_VERSION: i16 = 12;

/// The largest Metadata response accepted (a test cluster's is a few KiB).
const MAX_RESPONSE: usize = 16 * 1024 * 1024;

/// Asks the broker at `address` (`host:port`) for metadata (v12) on a new connection: the
/// brokers only when `topics` is empty, else those topics (never creating them). Fails
/// with [`HarnessError::Protocol`] when there is no answer within `timeout`, e.g. from a
/// paused node, or when the connection is refused.
pub async fn fetch_metadata(
    address: &str,
    topics: &[&str],
    timeout: Duration,
) -> Result<MetadataResponse> {
    let failed = |detail: String| HarnessError::Protocol {
        address: address.to_owned(),
        detail,
    };
    match tokio::time::timeout(timeout, exchange(address, topics)).await {
        Ok(result) => result.map_err(failed),
        Err(_) => Err(failed(format!("no response within {timeout:?}"))),
    }
}

async fn exchange(address: &str, topics: &[&str]) -> Result<MetadataResponse, String> {
    let mut request = MetadataRequest::for_topics(topics.iter().copied());
    request.allow_auto_topic_creation = false;
    let correlation_id: i32 = rand::random::<i32>() & 0x7fff_ffff;
    let mut out = BytesMut::new();
    encode_request(
        &request,
        METADATA_VERSION,
        correlation_id,
        Some("kiel-testcontainers"),
        &mut out,
    )
    .map_err(|e| format!("encoding: {e}"))?;
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("connecting: {e}"))?;
    stream
        .set_nodelay(true)
        .map_err(|e| format!("TCP_NODELAY: {e}"))?;
    stream
        .write_all(&out)
        .await
        .map_err(|e| format!("sending: {e}"))?;
    let reader = FrameReader::new(MAX_RESPONSE);
    let mut buf = BytesMut::with_capacity(4096);
    loop {
        if let Some(frame) = reader
            .next_frame(&mut buf)
            .map_err(|e| format!("framing: {e}"))?
        {
            return decode_response::<MetadataRequest>(frame, METADATA_VERSION, correlation_id)
                .map_err(|e| format!("decoding: {e}"));
        }
        let read = stream
            .read_buf(&mut buf)
            .await
            .map_err(|e| format!("receiving: {e}"))?;
        if read == 0 {
            return Err("connection closed before a whole response arrived".to_owned());
        }
    }
}
