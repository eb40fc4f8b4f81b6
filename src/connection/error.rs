//! [`ConnectionError`]: why a broker connection could not be made or ended, with the
//! question the sender asks of it: can trying again help ([`ConnectionError::is_fatal`])?
//!
//! # References
//! - h2 `error.rs` and tokio-postgres `Error` (opaque causes with `is_*` questions)

use std::time::Duration;

use thiserror::Error;

/// Why a connection to a broker could not be made, or ended.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConnectionError {
    /// The address could not be resolved.
    #[error("cannot resolve the address: {0}")]
    Resolve(String),
    /// Nothing listens there (or a firewall said no).
    #[error("connection refused")]
    Refused,
    /// The TCP connection could not be opened for another reason.
    #[error("connect failed: {0}")]
    Connect(String),
    /// Connecting and the handshake (ApiVersions) took longer than
    /// `socket.connection.setup.timeout.ms`.
    #[error("no usable connection within socket.connection.setup.timeout.ms ({timeout:?}){}", if *opened { "; the TCP connection opened, but ApiVersions was never answered (a broker that stopped answering, or not a Kafka listener)" } else { "" })]
    SetupTimeout {
        /// The setting.
        timeout: Duration,
        /// The TCP connection itself opened (what hung was the handshake).
        opened: bool,
    },
    /// The peer answered, but not as a Kafka broker does: `answer` says what it looked like.
    /// No retry can fix this: check `bootstrap.servers` (and, for a TLS listener,
    /// `security.protocol`).
    #[error("not a Kafka broker: {answer}")]
    NotKafka {
        /// What the answer looked like, e.g. the status line of an HTTP server.
        answer: String,
    },
    /// The TLS handshake failed: `reason` says why and which setting to look at. No retry
    /// can fix it.
    #[error("TLS: {reason}")]
    Tls {
        /// What went wrong, in words a user can act on.
        reason: String,
    },
    /// SASL authentication failed (wrong credentials, a mechanism the listener does not
    /// enable, a refused token). No retry can fix it.
    #[error("SASL {mechanism} authentication failed: {message}")]
    Authentication {
        /// The mechanism tried.
        mechanism: String,
        /// The broker's message, or what the mechanism found wrong.
        message: String,
    },
    /// The broker refused the ApiVersions handshake.
    #[error("ApiVersions failed: {0}")]
    Handshake(String),
    /// The broker closed the connection.
    #[error("connection closed by the broker")]
    ClosedByBroker,
    /// Reading or writing failed (reset, broken pipe, ...).
    #[error("{0}")]
    Io(String),
    /// A frame announced more bytes than the limit.
    #[error("frame of {size} bytes exceeds the limit of {limit} bytes")]
    FrameTooLarge {
        /// The announced size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The broker's bytes broke the protocol (wrong correlation id, undecodable frame).
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// A request got no answer within `request.timeout.ms`.
    #[error("request timed out (request.timeout.ms)")]
    RequestTimeout,
    /// The producer closed it.
    #[error("closed by the producer")]
    ClosedByProducer,
}

impl ConnectionError {
    /// Whether no retry can fix it: the same address will answer the same way. Records
    /// bound for it fail at once instead of at `delivery.timeout.ms`.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            Self::NotKafka { .. } | Self::Tls { .. } | Self::Authentication { .. }
        )
    }

    /// Whether the connection never became usable (as opposed to one that was lost).
    pub fn is_setup(&self) -> bool {
        matches!(
            self,
            Self::Resolve(_)
                | Self::Refused
                | Self::Connect(_)
                | Self::SetupTimeout { .. }
                | Self::NotKafka { .. }
                | Self::Tls { .. }
                | Self::Authentication { .. }
                | Self::Handshake(_)
        )
    }

    /// An IO error on a connection that was usable: never fatal (a broker restarting can
    /// break a TLS stream too), described as a TLS failure where it is one.
    pub(crate) fn io_established(context: &str, error: &std::io::Error) -> Self {
        match Self::io(context, error) {
            Self::Tls { reason } => Self::Io(format!("{context}: TLS: {reason}")),
            other => other,
        }
    }

    /// An IO error while a connection is made usable: a TLS failure then (the broker refusing
    /// the client certificate after a TLS 1.3 handshake, say) is fatal.
    pub(crate) fn io(context: &str, error: &std::io::Error) -> Self {
        if let Some(tls) = super::tls::tls_failure(error) {
            return tls;
        }
        match error.kind() {
            std::io::ErrorKind::ConnectionRefused => Self::Refused,
            _ => Self::Io(format!("{context}: {error}")),
        }
    }
}
