//! An unsecured development token (`alg: none` JWT) for clusters that accept them (Kafka's
//! default OAUTHBEARER validator): what Java's `unsecuredLoginStringClaim_sub` and
//! librdkafka's `sasl.oauthbearer.config=principal=...` make. Never for production clusters.
//!
//! # References
//! - RFC 7519 §6 (unsecured JWTs); Kafka `OAuthBearerUnsecuredLoginCallbackHandler`
//!   (claims `sub`, `iat`, `exp`, `scope`)

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::{OAuthToken, TokenFuture, TokenProvider};
use crate::config::Secret;

/// Makes unsecured JWTs for one principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsecuredToken {
    principal: String,
    scope: Vec<String>,
    lifetime: Duration,
    extensions: Vec<(String, String)>,
}

/// A JSON string literal.
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl UnsecuredToken {
    /// Tokens for `principal` (the `sub` claim), valid for an hour.
    pub fn new(principal: impl Into<String>) -> Self {
        Self {
            principal: principal.into(),
            scope: Vec::new(),
            lifetime: Duration::from_secs(3600),
            extensions: Vec::new(),
        }
    }

    /// The `scope` claim.
    pub fn scope(mut self, scope: Vec<String>) -> Self {
        self.scope = scope;
        self
    }

    /// How long each token is valid.
    pub fn lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// SASL extensions sent with each token.
    pub fn extensions(mut self, extensions: Vec<(String, String)>) -> Self {
        self.extensions = extensions;
        self
    }

    /// One token, issued at `now`.
    pub(crate) fn issue(&self, now: SystemTime) -> OAuthToken {
        let issued = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let expires = issued.saturating_add(self.lifetime);
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let mut claims = format!(
            "{{\"sub\":{},\"iat\":{},\"exp\":{}",
            json_string(&self.principal),
            issued.as_secs_f64(),
            expires.as_secs_f64()
        );
        if !self.scope.is_empty() {
            let scope: Vec<String> = self.scope.iter().map(|s| json_string(s)).collect();
            claims.push_str(&format!(",\"scope\":[{}]", scope.join(",")));
        }
        claims.push('}');
        let payload = URL_SAFE_NO_PAD.encode(claims.as_bytes());
        OAuthToken {
            value: Secret::new(format!("{header}.{payload}.")),
            lifetime: self.lifetime,
            extensions: self.extensions.clone(),
        }
    }
}

impl TokenProvider for UnsecuredToken {
    fn token(&self) -> TokenFuture<'_> {
        let token = self.issue(SystemTime::now());
        Box::pin(async move { Ok(token) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsecured_jwt_with_the_claims_kafka_checks() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let token = UnsecuredToken::new("ad\"min")
            .scope(vec!["a".into(), "b".into()])
            .lifetime(Duration::from_secs(60))
            .issue(now);
        let parts: Vec<&str> = token.value.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], "");
        let decode = |part: &str| String::from_utf8(URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
        assert_eq!(decode(parts[0]), r#"{"alg":"none"}"#);
        assert_eq!(
            decode(parts[1]),
            r#"{"sub":"ad\"min","iat":1700000000,"exp":1700000060,"scope":["a","b"]}"#
        );
        assert_eq!(token.lifetime, Duration::from_secs(60));
    }
}
