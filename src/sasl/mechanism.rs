//! The client side of a SASL mechanism as a sans-IO exchange: the first message, then an
//! answer to each server message until the server's last one has been checked.
//!
//! # References
//! - RFC 4422 §3 (the SASL exchange)

use std::fmt;

/// Why authentication failed, as the mechanism or the broker says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuthFailure(pub String);

impl fmt::Display for AuthFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What to do after a server message.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Send this message and wait for the server's next one.
    Send(Vec<u8>),
    /// Authenticated: the server's last message checked out.
    Done,
}

/// One SASL exchange on one connection.
pub(crate) trait Exchange: Send {
    /// The client's first message.
    fn first(&mut self) -> Vec<u8>;
    /// Takes a server message and says what comes next.
    fn next(&mut self, server: &[u8]) -> Result<Next, AuthFailure>;
}
