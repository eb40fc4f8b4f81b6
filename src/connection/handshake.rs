//! Making a connection usable: the ApiVersions exchange (and, with a secured listener, the
//! SASL exchange that follows it), and recognising a peer that is not a Kafka broker from
//! the first bytes it sends back.
//!
//! # References
//! - Kafka protocol guide, "Retrieving Supported API versions"; KIP-511 (ApiVersions v3,
//!   client software name); KIP-43 (SASL after ApiVersions)
//! - RFC 9112 §4 (HTTP status line), RFC 8446 §5.1 (TLS record header)

use bytes::{Buf, Bytes, BytesMut};
use kiel_protocol::frame::{encode_request, peek_correlation_id, FrameReader};
use kiel_protocol::messages::api_versions::{ApiVersion, ApiVersionsRequest, ApiVersionsResponse};
use kiel_protocol::{DecodeError, Request};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{ConnectionConfig, ConnectionError};

const SOFTWARE_NAME: &str = "kiel";

/// What the first bytes of an answer look like when they are not a Kafka frame, if they
/// are recognisably something else.
pub(crate) fn not_kafka(first: &[u8]) -> Option<String> {
    if first.starts_with(b"HTTP/") {
        let line = first
            .split(|b| *b == b'\r' || *b == b'\n')
            .next()
            .unwrap_or_default();
        return Some(format!(
            "it answered like an HTTP server ({:?})",
            String::from_utf8_lossy(line)
        ));
    }
    match first {
        // A TLS record: content type 21 (alert) or 22 (handshake), protocol version 3.x.
        [21 | 22, 3, ..] => Some(
            "it answered with TLS: this is a TLS listener (kiel speaks plaintext; TLS comes \
             with security.protocol=SSL)"
                .to_owned(),
        ),
        [b'S', b'S', b'H', b'-', ..] => Some("it answered like an SSH server".to_owned()),
        _ => None,
    }
}

/// Reads one frame; before the handshake is done, an answer that is not a Kafka frame is
/// recognised and named.
async fn read_frame<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    reader: &FrameReader,
) -> Result<Bytes, ConnectionError> {
    loop {
        if let Some(answer) = (buf.len() >= 4).then(|| not_kafka(buf)).flatten() {
            return Err(ConnectionError::NotKafka { answer });
        }
        match reader.next_frame(buf) {
            Ok(Some(frame)) => return Ok(frame),
            Ok(None) => {}
            Err(DecodeError::FrameTooLarge {
                actual: size,
                limit,
            }) => {
                return Err(ConnectionError::NotKafka {
                    answer: format!(
                        "its first answer announced {size} bytes (the limit is {limit}); \
                         first bytes {:02x?}",
                        &buf[..buf.len().min(8)]
                    ),
                })
            }
            Err(e) => return Err(ConnectionError::Protocol(e.to_string())),
        }
        match stream.read_buf(buf).await {
            Ok(0) => return Err(ConnectionError::ClosedByBroker),
            Ok(_) => {}
            Err(e) => return Err(ConnectionError::io("read failed", &e)),
        }
    }
}

/// Makes a fresh connection usable: ApiVersions (v3 first; falls back as the broker says),
/// then — the place for it — the SASL exchange of a secured listener. Returns the broker's
/// API version ranges.
pub(crate) async fn establish<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    config: &ConnectionConfig,
    reader: &FrameReader,
) -> Result<Vec<ApiVersion>, ConnectionError> {
    let api_versions = api_versions(stream, buf, config, reader).await?;
    // A SASL step (SaslHandshake, SaslAuthenticate) goes here, once the broker's versions
    // are known.
    Ok(api_versions)
}

async fn api_versions<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    config: &ConnectionConfig,
    reader: &FrameReader,
) -> Result<Vec<ApiVersion>, ConnectionError> {
    let mut version = ApiVersionsRequest::VERSIONS.max;
    for _ in 0..3 {
        let request = ApiVersionsRequest {
            client_software_name: (version >= 3).then(|| SOFTWARE_NAME.to_owned()),
            client_software_version: (version >= 3).then(|| env!("CARGO_PKG_VERSION").to_owned()),
        };
        let mut out = BytesMut::new();
        encode_request(&request, version, 0, Some(&config.client_id), &mut out)
            .map_err(|e| ConnectionError::Protocol(e.to_string()))?;
        stream
            .write_all(&out)
            .await
            .map_err(|e| ConnectionError::io("write failed", &e))?;
        let mut frame = read_frame(stream, buf, reader).await?;
        let correlation =
            peek_correlation_id(&frame).map_err(|e| ConnectionError::Protocol(e.to_string()))?;
        if correlation != 0 {
            return Err(ConnectionError::Protocol(format!(
                "ApiVersions answered with correlation id {correlation}"
            )));
        }
        frame.advance(4);
        let (response, _used) = ApiVersionsResponse::decode_with_fallback(frame, version)
            .map_err(|e| ConnectionError::Protocol(format!("ApiVersions response: {e}")))?;
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
            code => {
                return Err(ConnectionError::Handshake(format!(
                    "error code {code} ({})",
                    kiel_protocol::ErrorCode::from_code(code)
                )))
            }
        }
    }
    Err(ConnectionError::Handshake(
        "the version negotiation did not converge".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_that_are_not_kafka_are_named() {
        let http = not_kafka(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n");
        assert!(http.is_some_and(|a| a.contains("HTTP server") && a.contains("400 Bad Request")));
        // A TLS alert (protocol version) and a TLS ServerHello.
        assert!(not_kafka(&[21, 3, 3, 0, 2, 2, 70]).is_some_and(|a| a.contains("TLS")));
        assert!(not_kafka(&[22, 3, 3, 0, 90]).is_some_and(|a| a.contains("TLS")));
        assert!(not_kafka(b"SSH-2.0-OpenSSH_9.2").is_some());
        // A Kafka frame: a small size, then a correlation id.
        assert_eq!(not_kafka(&[0, 0, 1, 2, 0, 0, 0, 0]), None);
    }
}
