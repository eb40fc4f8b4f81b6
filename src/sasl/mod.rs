//! SASL authentication (KIP-43): the mechanisms as sans-IO exchanges of byte strings, and
//! the tokens of OAUTHBEARER.
//!
//! A mechanism is an exchange (`Exchange`): it produces the client's first message, then takes each
//! server message and answers the next one, until the server's last message has been
//! checked. The connection carries the messages in SaslAuthenticate requests after a
//! SaslHandshake that names the mechanism (see `connection::handshake`).
//!
//! # References
//! - KIP-43 (SASL handshake), KIP-152 (SaslAuthenticate), KIP-84 (SCRAM), KIP-255 (OAUTHBEARER)
//! - RFC 4616 (PLAIN), RFC 5802 and RFC 7677 (SCRAM), RFC 7628 (OAUTHBEARER)

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::config::Secret;

mod login;
mod mechanism;
mod oauthbearer;
#[cfg(feature = "oidc")]
mod oidc;
mod plain;
mod scram;
mod unsecured;

pub(crate) use login::SaslLogin;
pub(crate) use mechanism::{AuthFailure, Exchange, Next};
pub(crate) use oauthbearer::OAuthBearer;
#[cfg(feature = "oidc")]
pub use oidc::ClientCredentials;
pub(crate) use plain::Plain;
pub(crate) use scram::{Scram, ScramHash};
pub use unsecured::UnsecuredToken;

/// An OAuth 2 bearer token, as a [`TokenProvider`] hands it out.
#[derive(Clone)]
pub struct OAuthToken {
    /// The token (a JWT, usually).
    pub value: Secret,
    /// How long it stays valid from now. kiel asks for a new one when 80 % of it has passed.
    pub lifetime: Duration,
    /// SASL extensions sent with it (RFC 7628 §3.1), e.g. Confluent Cloud's
    /// `logicalCluster` and `identityPoolId`.
    pub extensions: Vec<(String, String)>,
}

impl fmt::Debug for OAuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthToken")
            .field("value", &self.value)
            .field("lifetime", &self.lifetime)
            .field("extensions", &self.extensions)
            .finish()
    }
}

/// Why a [`TokenProvider`] has no token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokenError(pub String);

/// The future a [`TokenProvider`] returns.
pub type TokenFuture<'a> =
    Pin<Box<dyn Future<Output = Result<OAuthToken, TokenError>> + Send + 'a>>;

/// Where OAUTHBEARER tokens come from: implement it to fetch tokens your own way. kiel calls
/// it when a connection authenticates and again before the token it has expires.
///
/// ```
/// use std::time::Duration;
/// use kiel::sasl::{OAuthToken, TokenError, TokenFuture, TokenProvider};
///
/// #[derive(Debug)]
/// struct FromEnvironment;
///
/// impl TokenProvider for FromEnvironment {
///     fn token(&self) -> TokenFuture<'_> {
///         Box::pin(async {
///             let value = std::env::var("KAFKA_TOKEN").map_err(|e| TokenError(e.to_string()))?;
///             Ok(OAuthToken { value: value.into(), lifetime: Duration::from_secs(300), extensions: Vec::new() })
///         })
///     }
/// }
/// ```
pub trait TokenProvider: Send + Sync + fmt::Debug + 'static {
    /// A fresh token.
    fn token(&self) -> TokenFuture<'_>;
}
