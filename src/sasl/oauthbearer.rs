//! `OAUTHBEARER` (RFC 7628), client side: one message with the token (and SASL extensions);
//! an empty answer means accepted; a JSON error answer is acknowledged with `%x01`, after
//! which the broker fails the authentication.
//!
//! # References
//! - RFC 7628 §3.1 (client response), §3.2.2 (error response); Kafka KIP-255, KIP-342
//!   (extensions)

use super::mechanism::{AuthFailure, Exchange, Next};
use super::OAuthToken;

/// The separator of RFC 7628's key/value pairs.
const KVSEP: u8 = 0x01;

/// An OAUTHBEARER login with one token.
pub(crate) struct OAuthBearer {
    token: OAuthToken,
    /// The server sent an error: the next message is the failure.
    refused: Option<String>,
}

impl OAuthBearer {
    pub(crate) fn new(token: OAuthToken) -> Self {
        Self {
            token,
            refused: None,
        }
    }
}

impl Exchange for OAuthBearer {
    fn first(&mut self) -> Vec<u8> {
        let mut message = b"n,,".to_vec();
        message.push(KVSEP);
        message.extend_from_slice(b"auth=Bearer ");
        message.extend_from_slice(self.token.value.expose().as_bytes());
        message.push(KVSEP);
        for (key, value) in &self.token.extensions {
            message.extend_from_slice(key.as_bytes());
            message.push(b'=');
            message.extend_from_slice(value.as_bytes());
            message.push(KVSEP);
        }
        message.push(KVSEP);
        message
    }

    fn next(&mut self, server: &[u8]) -> Result<Next, AuthFailure> {
        if let Some(error) = self.refused.take() {
            return Err(AuthFailure(format!(
                "the broker refused the token: {error}"
            )));
        }
        if server.is_empty() {
            return Ok(Next::Done);
        }
        // An error (JSON with status, scope, openid-configuration): acknowledge it; the
        // broker answers with the failure.
        self.refused = Some(String::from_utf8_lossy(server).into_owned());
        Ok(Next::Send(vec![KVSEP]))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn the_client_response_carries_the_token_and_extensions() {
        let mut bearer = OAuthBearer::new(OAuthToken {
            value: "abc.def.".into(),
            lifetime: Duration::from_secs(60),
            extensions: vec![("logicalCluster".into(), "lkc-1".into())],
        });
        assert_eq!(
            bearer.first(),
            b"n,,\x01auth=Bearer abc.def.\x01logicalCluster=lkc-1\x01\x01"
        );
        assert_eq!(bearer.next(b""), Ok(Next::Done));
    }

    #[test]
    fn an_error_is_acknowledged_then_reported() {
        let mut bearer = OAuthBearer::new(OAuthToken {
            value: "x".into(),
            lifetime: Duration::from_secs(60),
            extensions: Vec::new(),
        });
        let _ = bearer.first();
        assert_eq!(
            bearer.next(br#"{"status":"invalid_token"}"#),
            Ok(Next::Send(vec![1]))
        );
        let failed = bearer.next(b"");
        assert!(matches!(&failed, Err(AuthFailure(m)) if m.contains("invalid_token")));
    }
}
