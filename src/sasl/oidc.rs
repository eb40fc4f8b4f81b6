//! OAUTHBEARER tokens from an OIDC token endpoint with the client credentials grant (the
//! `oidc` feature): `sasl.oauthbearer.method=oidc`, `sasl.oauthbearer.token.endpoint.url`,
//! `sasl.oauthbearer.client.id`, `sasl.oauthbearer.client.secret`, `sasl.oauthbearer.scope`.
//!
//! # References
//! - RFC 6749 §4.4 (client credentials grant), §2.3.1 (client authentication with HTTP Basic)
//! - KIP-768 (Kafka's OIDC login)

use std::time::Duration;

use super::{OAuthToken, TokenError, TokenFuture, TokenProvider};
use crate::config::{OAuthSettings, Secret};
use crate::error::{Error, Result};

/// When the endpoint does not say how long a token lasts.
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);

/// Fetches tokens with the client credentials grant.
#[derive(Debug)]
pub struct ClientCredentials {
    endpoint: String,
    client_id: String,
    client_secret: Secret,
    scope: Option<String>,
    extensions: Vec<(String, String)>,
    http: reqwest::Client,
}

/// The token endpoint's answer (RFC 6749 §5.1).
#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: Option<u64>,
}

impl ClientCredentials {
    /// Tokens from `endpoint` for this client.
    pub fn new(endpoint: &str, client_id: &str, client_secret: impl Into<Secret>) -> Result<Self> {
        Self::trusting(endpoint, client_id, client_secret, None)
    }

    /// Tokens from `endpoint` for this client, trusting the CA certificates in `ca_pem`
    /// (PEM text) besides the system's roots for an `https` endpoint.
    pub fn trusting(
        endpoint: &str,
        client_id: &str,
        client_secret: impl Into<Secret>,
        ca_pem: Option<&[u8]>,
    ) -> Result<Self> {
        let mut http = reqwest::Client::builder().timeout(Duration::from_secs(30));
        if let Some(pem) = ca_pem {
            let certificates = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::config("ssl.ca.location", chain(&e)))?;
            http = http.tls_certs_merge(certificates);
        }
        let http = http
            .build()
            .map_err(|e| Error::config("sasl.oauthbearer.token.endpoint.url", chain(&e)))?;
        Ok(Self {
            endpoint: endpoint.to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.into(),
            scope: None,
            extensions: Vec::new(),
            http,
        })
    }

    /// The scope to ask for.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }

    /// SASL extensions sent with each token.
    pub fn extensions(mut self, extensions: Vec<(String, String)>) -> Self {
        self.extensions = extensions;
        self
    }

    pub(crate) fn from_settings(oauth: &OAuthSettings, ca_pem: Option<&[u8]>) -> Result<Self> {
        let endpoint = oauth
            .token_endpoint
            .as_deref()
            .ok_or_else(|| Error::config("sasl.oauthbearer.token.endpoint.url", "not set"))?;
        let client_id = oauth
            .client_id
            .as_deref()
            .ok_or_else(|| Error::config("sasl.oauthbearer.client.id", "not set"))?;
        let secret = oauth
            .client_secret
            .clone()
            .ok_or_else(|| Error::config("sasl.oauthbearer.client.secret", "not set"))?;
        let mut provider = Self::trusting(endpoint, client_id, secret, ca_pem)?
            .extensions(oauth.extensions.clone());
        if let Some(scope) = &oauth.scope {
            provider = provider.scope(scope.clone());
        }
        Ok(provider)
    }

    async fn fetch(&self) -> std::result::Result<OAuthToken, TokenError> {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.scope {
            form.push(("scope", scope));
        }
        let response = self
            .http
            .post(&self.endpoint)
            .basic_auth(&self.client_id, Some(self.client_secret.expose()))
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                TokenError(format!(
                    "token endpoint {}: {} (check sasl.oauthbearer.token.endpoint.url)",
                    self.endpoint,
                    chain(&e)
                ))
            })?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            let check = match status.as_u16() {
                401 | 403 => "sasl.oauthbearer.client.id and sasl.oauthbearer.client.secret",
                400 => "sasl.oauthbearer.scope and sasl.oauthbearer.client.id",
                _ => "sasl.oauthbearer.token.endpoint.url",
            };
            return Err(TokenError(format!(
                "token endpoint {} answered {status}: {} (check {check})",
                self.endpoint,
                body.chars().take(300).collect::<String>()
            )));
        }
        let token: TokenResponse = response.json().await.map_err(|e| {
            TokenError(format!(
                "token endpoint {} did not answer with a token: {e} \
                     (check sasl.oauthbearer.token.endpoint.url)",
                self.endpoint
            ))
        })?;
        Ok(OAuthToken {
            value: Secret::new(token.access_token),
            lifetime: token
                .expires_in
                .map_or(DEFAULT_LIFETIME, Duration::from_secs),
            extensions: self.extensions.clone(),
        })
    }
}

/// An error with its causes, `outer: inner: innermost` (reqwest's own message alone says
/// only that sending failed, not why).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

impl TokenProvider for ClientCredentials {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.fetch())
    }
}
