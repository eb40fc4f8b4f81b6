//! A producer's SASL login, shared by all its connections: which mechanism, its credentials,
//! and for OAUTHBEARER the token in use, fetched again once 80 % of its lifetime has passed.
//!
//! # References
//! - Java `ExpiringCredentialRefreshingLogin` (refresh at 80 % of the lifetime, the default
//!   `sasl.login.refresh.window.factor`)

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{AuthFailure, Exchange, OAuthBearer, OAuthToken, Plain, Scram, ScramHash};
use super::{TokenProvider, UnsecuredToken};
use crate::config::{Pem, Sasl, SaslMechanism, Secret};
use crate::error::{Error, Result};

/// The share of a token's lifetime after which a new one is fetched.
const REFRESH_AT: f64 = 0.8;
/// A token is also renewed this long before it expires, so that a session started with it
/// (which ends when the token does) leaves time to re-authenticate: brokers refuse a
/// re-authentication less than a second after the previous one.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(3);

/// How long after it was fetched a token of `lifetime` is renewed: at 80 % of its lifetime,
/// or `REFRESH_BEFORE_EXPIRY` before it ends if that is sooner, but not before half of it.
fn refresh_after(lifetime: Duration) -> Duration {
    lifetime
        .mul_f64(REFRESH_AT)
        .min(lifetime.saturating_sub(REFRESH_BEFORE_EXPIRY))
        .max(lifetime / 2)
}

/// Tokens from a provider, kept while fresh.
#[derive(Debug)]
struct TokenCache {
    provider: Arc<dyn TokenProvider>,
    current: tokio::sync::Mutex<Option<(OAuthToken, Instant)>>,
}

impl TokenCache {
    /// The current token, or a new one if it is (nearly) expired.
    async fn token(&self) -> std::result::Result<OAuthToken, AuthFailure> {
        let mut current = self.current.lock().await;
        if let Some((token, refresh_at)) = current.as_ref() {
            if Instant::now() < *refresh_at {
                return Ok(token.clone());
            }
        }
        let token = self
            .provider
            .token()
            .await
            .map_err(|e| AuthFailure(format!("no OAUTHBEARER token: {e}")))?;
        let refresh_at = Instant::now()
            .checked_add(refresh_after(token.lifetime))
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        *current = Some((token.clone(), refresh_at));
        Ok(token)
    }
}

/// The SASL login of a producer's connections.
#[derive(Debug)]
pub(crate) struct SaslLogin {
    mechanism: SaslMechanism,
    username: String,
    password: Secret,
    tokens: Option<TokenCache>,
}

impl SaslLogin {
    /// The login the settings describe; OAUTHBEARER settings become a token provider.
    /// `ca` is the CA of the brokers' certificates (`ssl.ca.location` / `ssl.ca.pem`), also
    /// trusted for an OIDC token endpoint.
    pub(crate) fn new(sasl: &Sasl, ca: Option<&Pem>) -> Result<Self> {
        let mechanism = sasl
            .mechanism
            .ok_or_else(|| Error::config("sasl.mechanism", "not set"))?;
        let tokens = if mechanism == SaslMechanism::OAuthBearer {
            Some(TokenCache {
                provider: token_provider(sasl, ca)?,
                current: tokio::sync::Mutex::new(None),
            })
        } else {
            None
        };
        Ok(Self {
            mechanism,
            username: sasl.username.clone(),
            password: sasl.password.clone(),
            tokens,
        })
    }

    /// The mechanism.
    pub(crate) fn mechanism(&self) -> SaslMechanism {
        self.mechanism
    }

    /// A fresh exchange for one authentication (fetching a token first if it needs one).
    pub(crate) async fn exchange(&self) -> std::result::Result<Box<dyn Exchange>, AuthFailure> {
        Ok(match self.mechanism {
            SaslMechanism::Plain => Box::new(Plain::new(&self.username, &self.password)),
            SaslMechanism::ScramSha256 => Box::new(Scram::new(
                ScramHash::Sha256,
                &self.username,
                &self.password,
            )),
            SaslMechanism::ScramSha512 => Box::new(Scram::new(
                ScramHash::Sha512,
                &self.username,
                &self.password,
            )),
            SaslMechanism::OAuthBearer => {
                let Some(tokens) = &self.tokens else {
                    return Err(AuthFailure("no OAUTHBEARER token provider".into()));
                };
                Box::new(OAuthBearer::new(tokens.token().await?))
            }
        })
    }
}

/// The token provider OAUTHBEARER settings describe.
fn token_provider(sasl: &Sasl, ca: Option<&Pem>) -> Result<Arc<dyn TokenProvider>> {
    if let Some(provider) = &sasl.token_provider {
        return Ok(Arc::clone(provider));
    }
    let oauth = &sasl.oauth;
    if oauth
        .method
        .as_deref()
        .is_some_and(|m| m.eq_ignore_ascii_case("oidc"))
    {
        return oidc_provider(sasl, ca);
    }
    let Some(principal) = &oauth.unsecured_principal else {
        return Err(Error::config(
            "sasl.oauthbearer.config",
            "OAUTHBEARER needs a token provider (see sasl.oauthbearer.method)",
        ));
    };
    tracing::warn!(
        principal = %principal,
        "OAUTHBEARER with an unsecured (alg: none) token: for development clusters only"
    );
    let mut token = UnsecuredToken::new(principal.clone())
        .scope(oauth.unsecured_scope.clone())
        .extensions(oauth.extensions.clone());
    if let Some(seconds) = oauth.unsecured_lifetime_secs {
        token = token.lifetime(Duration::from_secs(seconds));
    }
    Ok(Arc::new(token))
}

#[cfg(feature = "oidc")]
fn oidc_provider(sasl: &Sasl, ca: Option<&Pem>) -> Result<Arc<dyn TokenProvider>> {
    let ca = ca.map(|pem| pem.read("ssl.ca.location")).transpose()?;
    Ok(Arc::new(super::oidc::ClientCredentials::from_settings(
        &sasl.oauth,
        ca.as_deref(),
    )?))
}

#[cfg(not(feature = "oidc"))]
fn oidc_provider(_: &Sasl, _: Option<&Pem>) -> Result<Arc<dyn TokenProvider>> {
    Err(Error::config(
        "sasl.oauthbearer.method",
        "sasl.oauthbearer.method=oidc needs kiel built with the `oidc` feature",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_at_80_percent_or_3_s_before_they_end_but_not_before_half() {
        let s = Duration::from_secs;
        assert_eq!(refresh_after(s(3600)), s(2880));
        assert_eq!(refresh_after(s(10)), s(7));
        assert_eq!(refresh_after(s(8)), s(5));
        assert_eq!(refresh_after(s(4)), s(2));
        assert_eq!(refresh_after(Duration::ZERO), Duration::ZERO);
        assert_eq!(refresh_after(Duration::MAX), Duration::MAX.mul_f64(0.8));
    }
}
