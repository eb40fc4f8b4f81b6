//! Making a connection usable: the ApiVersions exchange, then with a SASL login the SASL
//! exchange (SaslHandshake, SaslAuthenticate rounds driven by the mechanism), and
//! recognising a peer that is not a Kafka broker from the first bytes it sends back.
//!
//! # References
//! - Kafka protocol guide, "Retrieving Supported API versions"; KIP-511 (ApiVersions v3,
//!   client software name); KIP-43 (SASL after ApiVersions), KIP-152 (SaslAuthenticate and
//!   its error messages), KIP-368 (session lifetime, re-authentication)
//! - RFC 9112 §4 (HTTP status line), RFC 8446 §5.1 (TLS record header)

use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kiel_protocol::frame::{decode_response, encode_request, peek_correlation_id, FrameReader};
use kiel_protocol::messages::api_versions::{
    negotiate, ApiVersion, ApiVersionsRequest, ApiVersionsResponse,
};
use kiel_protocol::messages::sasl_authenticate::SaslAuthenticateRequest;
use kiel_protocol::messages::sasl_handshake::SaslHandshakeRequest;
use kiel_protocol::{DecodeError, ErrorCode, Request, VersionRange};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{ConnectionConfig, ConnectionError};
use crate::sasl::{Next, SaslLogin};

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
            "it answered with TLS: this is a TLS listener, and this producer connects without \
             TLS: set security.protocol=SSL (or SASL_SSL)"
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

/// A usable connection's handshake results: the broker's API versions, and for a SASL
/// login how long the session lasts (KIP-368; `None` without a limit).
pub(crate) struct Established {
    pub api_versions: Vec<ApiVersion>,
    /// The cluster's finalized `transaction.version` feature level (KIP-890: 2 means
    /// partitions join a transaction with their first Produce), if the broker says.
    pub transaction_version: Option<i16>,
    pub session_lifetime: Option<Duration>,
}

/// Makes a fresh connection usable: ApiVersions (v3 first; falls back as the broker says),
/// then, with a SASL login, the SASL exchange.
pub(crate) async fn establish<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    config: &ConnectionConfig,
    reader: &FrameReader,
) -> Result<Established, ConnectionError> {
    let (api_versions, transaction_version) = api_versions(stream, buf, config, reader).await?;
    let session_lifetime = match &config.sasl {
        Some(login) => authenticate(stream, buf, config, reader, &api_versions, login).await?,
        None => None,
    };
    Ok(Established {
        api_versions,
        transaction_version,
        session_lifetime,
    })
}

/// Correlation ids of the SASL exchange: the top of the range, which the sender's requests
/// never reach (Java reserves it the same way).
const SASL_CORRELATION_ID: i32 = i32::MAX - 4;

/// Sends one request and reads its response (nothing else is in flight on the connection).
async fn round_trip<S, R>(
    stream: &mut S,
    buf: &mut BytesMut,
    config: &ConnectionConfig,
    reader: &FrameReader,
    request: &R,
    version: i16,
) -> Result<R::Response, ConnectionError>
where
    S: AsyncRead + AsyncWrite + Unpin,
    R: Request,
{
    let mut out = BytesMut::new();
    encode_request(
        request,
        version,
        SASL_CORRELATION_ID,
        Some(&config.client_id),
        &mut out,
    )
    .map_err(|e| ConnectionError::Protocol(e.to_string()))?;
    stream
        .write_all(&out)
        .await
        .map_err(|e| ConnectionError::io("write failed", &e))?;
    let frame = read_frame(stream, buf, reader).await?;
    decode_response::<R>(frame, version, SASL_CORRELATION_ID)
        .map_err(|e| ConnectionError::Protocol(e.to_string()))
}

fn version_of(api_versions: &[ApiVersion], key: i16, ours: VersionRange) -> Option<i16> {
    api_versions
        .iter()
        .find(|v| v.api_key == key)
        .and_then(|theirs| negotiate(ours, theirs))
}

/// Authenticates with `login` (SaslHandshake v1, then SaslAuthenticate rounds); returns how
/// long the session lasts, if the broker limits it. Also used to re-authenticate an open
/// connection (KIP-368), with nothing else in flight.
pub(crate) async fn authenticate<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    config: &ConnectionConfig,
    reader: &FrameReader,
    api_versions: &[ApiVersion],
    login: &SaslLogin,
) -> Result<Option<Duration>, ConnectionError> {
    let mechanism = login.mechanism();
    let failed = |message: String| ConnectionError::Authentication {
        mechanism: mechanism.name().to_owned(),
        message,
    };
    let handshake_version = version_of(
        api_versions,
        SaslHandshakeRequest::API_KEY.code(),
        VersionRange { min: 1, max: 1 },
    )
    .ok_or_else(|| failed("the broker does not offer SaslHandshake v1 (is this a SASL listener? Kafka 1.0 or later?)".into()))?;
    let authenticate_version = version_of(
        api_versions,
        SaslAuthenticateRequest::API_KEY.code(),
        SaslAuthenticateRequest::VERSIONS,
    )
    .ok_or_else(|| failed("the broker does not offer SaslAuthenticate".into()))?;
    let handshake = round_trip(
        stream,
        buf,
        config,
        reader,
        &SaslHandshakeRequest {
            mechanism: mechanism.name().to_owned(),
        },
        handshake_version,
    )
    .await?;
    match ErrorCode::from_code(handshake.error_code) {
        ErrorCode::None => {}
        ErrorCode::UnsupportedSaslMechanism => {
            return Err(failed(format!(
                "the broker does not enable {mechanism} on this listener; it enables [{}] (sasl.mechanism)",
                handshake.mechanisms.join(", ")
            )))
        }
        ErrorCode::IllegalSaslState => {
            return Err(failed(
                "the broker did not expect a SASL handshake: is this a SASL listener? (security.protocol)".into(),
            ))
        }
        code => return Err(failed(format!("SaslHandshake failed: {code}"))),
    }
    let mut exchange = login.exchange().await.map_err(|e| failed(e.0))?;
    let mut message = exchange.first();
    loop {
        let response = round_trip(
            stream,
            buf,
            config,
            reader,
            &SaslAuthenticateRequest {
                auth_bytes: Bytes::from(std::mem::take(&mut message)),
            },
            authenticate_version,
        )
        .await?;
        let code = ErrorCode::from_code(response.error_code);
        if !code.is_ok() {
            let detail = response.error_message.unwrap_or_else(|| code.to_string());
            return Err(failed(format!(
                "{detail} (check the credentials: sasl.username / sasl.password, sasl.jaas.config or the token)"
            )));
        }
        match exchange
            .next(&response.auth_bytes)
            .map_err(|e| failed(e.0))?
        {
            Next::Send(next) => message = next,
            Next::Done => {
                let lifetime = u64::try_from(response.session_lifetime_ms)
                    .ok()
                    .filter(|ms| *ms > 0)
                    .map(Duration::from_millis);
                return Ok(lifetime);
            }
        }
    }
}

/// The finalized feature that says which transaction protocol the cluster runs (KIP-890).
const TRANSACTION_VERSION_FEATURE: &str = "transaction.version";

async fn api_versions<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    config: &ConnectionConfig,
    reader: &FrameReader,
) -> Result<(Vec<ApiVersion>, Option<i16>), ConnectionError> {
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
            0 => {
                let transaction_version = (response.finalized_features_epoch >= 0)
                    .then(|| {
                        response
                            .finalized_features
                            .iter()
                            .find(|f| f.name == TRANSACTION_VERSION_FEATURE)
                            .map(|f| f.max_version_level)
                    })
                    .flatten();
                return Ok((response.api_keys, transaction_version));
            }
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
