//! The registry client: HTTP requests to the Confluent Schema Registry API, retried on
//! connection errors and 5xx answers, with caches so that each schema costs one request per
//! process.
//!
//! # References
//! - Confluent Schema Registry API reference (`/subjects`, `/schemas/ids`, `/compatibility`)

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::config::{Auth, RegistryConfig};
use crate::error::{Error, Result};
use crate::lock;
use crate::schema::{RegisteredSchema, Schema, SchemaReference, SchemaType};

const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// A Schema Registry client. Cheap to clone: clones share the connection pool and caches.
#[derive(Clone, Debug)]
pub struct RegistryClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: RegistryConfig,
    http: reqwest::Client,
    /// (subject, schema) → id, filled by registrations and look-ups.
    ids: Mutex<HashMap<(String, Schema), RegisteredId>>,
    /// id → schema.
    schemas: Mutex<HashMap<u32, Schema>>,
    requests: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct RegisteredId {
    id: u32,
    version: Option<i32>,
}

/// What a request was about, to name it in errors.
#[derive(Default)]
struct About<'a> {
    subject: Option<&'a str>,
    version: Option<&'a str>,
    id: Option<u32>,
}

#[derive(Deserialize)]
struct IdAnswer {
    id: u32,
}

#[derive(Deserialize)]
struct SubjectVersionAnswer {
    subject: String,
    id: u32,
    version: i32,
    schema: String,
    #[serde(rename = "schemaType", default)]
    schema_type: SchemaType,
    #[serde(default)]
    references: Vec<SchemaReference>,
}

impl From<SubjectVersionAnswer> for RegisteredSchema {
    fn from(answer: SubjectVersionAnswer) -> Self {
        Self {
            subject: answer.subject,
            id: answer.id,
            version: answer.version,
            schema: Schema {
                text: answer.schema,
                schema_type: answer.schema_type,
                references: answer.references,
            },
        }
    }
}

#[derive(Deserialize)]
struct CompatibilityAnswer {
    is_compatible: bool,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error_code: Option<i64>,
    message: Option<String>,
}

impl RegistryClient {
    /// A client for the registry `config` names. Reads the CA file, if any, now.
    pub fn new(config: RegistryConfig) -> Result<Self> {
        let mut http = reqwest::Client::builder().timeout(config.request_timeout);
        if let Some(path) = &config.ca_location {
            let pem = std::fs::read(path).map_err(|e| {
                Error::config(
                    "schema.registry.ssl.ca.location",
                    format!("cannot read {}: {e}", path.display()),
                )
            })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::config("schema.registry.ssl.ca.location", e.to_string()))?;
            http = http.tls_certs_merge(certificates);
        }
        let http = http
            .build()
            .map_err(|e| Error::config("schema.registry.url", e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                http,
                ids: Mutex::new(HashMap::new()),
                schemas: Mutex::new(HashMap::new()),
                requests: AtomicU64::new(0),
            }),
        })
    }

    /// A client for the registry at `url` with default settings.
    pub fn from_url(url: &str) -> Result<Self> {
        Self::new(RegistryConfig::new(url)?)
    }

    /// The settings.
    pub fn config(&self) -> &RegistryConfig {
        &self.inner.config
    }

    /// How many HTTP requests this client (and its clones) sent, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// Registers `schema` under `subject` (a new version if the subject does not have it
    /// yet) and returns its id. Cached: the same schema again costs no request.
    pub async fn register(&self, subject: &str, schema: &Schema) -> Result<u32> {
        if let Some(known) = self.cached_id(subject, schema) {
            return Ok(known.id);
        }
        let answer: IdAnswer = self
            .call(
                Method::POST,
                &["subjects", subject, "versions"],
                Some(schema),
                About {
                    subject: Some(subject),
                    ..About::default()
                },
            )
            .await?;
        self.remember(subject, schema, answer.id, None);
        Ok(answer.id)
    }

    /// Looks up `schema` under `subject` without registering it: its id and version.
    pub async fn lookup(&self, subject: &str, schema: &Schema) -> Result<RegisteredSchema> {
        if let Some(RegisteredId {
            id,
            version: Some(version),
        }) = self.cached_id(subject, schema)
        {
            return Ok(RegisteredSchema {
                subject: subject.to_owned(),
                id,
                version,
                schema: schema.clone(),
            });
        }
        let answer: SubjectVersionAnswer = self
            .call(
                Method::POST,
                &["subjects", subject],
                Some(schema),
                About {
                    subject: Some(subject),
                    ..About::default()
                },
            )
            .await?;
        let registered = RegisteredSchema::from(answer);
        self.remember(subject, schema, registered.id, Some(registered.version));
        Ok(registered)
    }

    /// The id to write for `schema` under `subject`: registered if `auto.register.schemas`
    /// is on, else looked up (an unregistered schema is then an error).
    pub async fn id_for(&self, subject: &str, schema: &Schema) -> Result<u32> {
        if self.inner.config.auto_register {
            self.register(subject, schema).await
        } else {
            Ok(self.lookup(subject, schema).await?.id)
        }
    }

    /// The schema with this id. Cached.
    pub async fn schema_by_id(&self, id: u32) -> Result<Schema> {
        if let Some(schema) = lock(&self.inner.schemas).get(&id) {
            return Ok(schema.clone());
        }
        let id_text = id.to_string();
        let schema: Schema = self
            .call::<Schema, ()>(
                Method::GET,
                &["schemas", "ids", &id_text],
                None,
                About {
                    id: Some(id),
                    ..About::default()
                },
            )
            .await?;
        lock(&self.inner.schemas).insert(id, schema.clone());
        Ok(schema)
    }

    /// The subject's latest version (not cached: it changes when a version is registered).
    pub async fn latest(&self, subject: &str) -> Result<RegisteredSchema> {
        self.version_named(subject, "latest").await
    }

    /// A version of the subject.
    pub async fn version(&self, subject: &str, version: i32) -> Result<RegisteredSchema> {
        self.version_named(subject, &version.to_string()).await
    }

    async fn version_named(&self, subject: &str, version: &str) -> Result<RegisteredSchema> {
        let answer: SubjectVersionAnswer = self
            .call::<_, ()>(
                Method::GET,
                &["subjects", subject, "versions", version],
                None,
                About {
                    subject: Some(subject),
                    version: Some(version),
                    ..About::default()
                },
            )
            .await?;
        let registered = RegisteredSchema::from(answer);
        self.remember(
            subject,
            &registered.schema,
            registered.id,
            Some(registered.version),
        );
        lock(&self.inner.schemas).insert(registered.id, registered.schema.clone());
        Ok(registered)
    }

    /// Whether `schema` is compatible with the subject's latest version under the subject's
    /// compatibility rule.
    pub async fn is_compatible(&self, subject: &str, schema: &Schema) -> Result<bool> {
        let answer: CompatibilityAnswer = self
            .call(
                Method::POST,
                &["compatibility", "subjects", subject, "versions", "latest"],
                Some(schema),
                About {
                    subject: Some(subject),
                    version: Some("latest"),
                    ..About::default()
                },
            )
            .await?;
        Ok(answer.is_compatible)
    }

    /// Sets the subject's compatibility rule (`BACKWARD`, `FORWARD`, `FULL`, `NONE`, and
    /// their `_TRANSITIVE` forms).
    pub async fn set_compatibility(&self, subject: &str, level: &str) -> Result<()> {
        let body = serde_json::json!({ "compatibility": level });
        let _: serde_json::Value = self
            .call(
                Method::PUT,
                &["config", subject],
                Some(&body),
                About {
                    subject: Some(subject),
                    ..About::default()
                },
            )
            .await?;
        Ok(())
    }

    /// Every subject.
    pub async fn subjects(&self) -> Result<Vec<String>> {
        self.call::<_, ()>(Method::GET, &["subjects"], None, About::default())
            .await
    }

    fn cached_id(&self, subject: &str, schema: &Schema) -> Option<RegisteredId> {
        lock(&self.inner.ids)
            .get(&(subject.to_owned(), schema.clone()))
            .copied()
    }

    fn remember(&self, subject: &str, schema: &Schema, id: u32, version: Option<i32>) {
        let mut ids = lock(&self.inner.ids);
        let entry = ids
            .entry((subject.to_owned(), schema.clone()))
            .or_insert(RegisteredId { id, version });
        entry.id = id;
        entry.version = version.or(entry.version);
        drop(ids);
        lock(&self.inner.schemas)
            .entry(id)
            .or_insert_with(|| schema.clone());
    }

    /// Sends one API call, trying each URL and retrying connection errors, 429 and 5xx with
    /// doubling waits; other answers are final.
    async fn call<T: DeserializeOwned, B: serde::Serialize>(
        &self,
        method: Method,
        path: &[&str],
        body: Option<&B>,
        about: About<'_>,
    ) -> Result<T> {
        let config = &self.inner.config;
        let started = Instant::now();
        let mut attempts = 0;
        let mut last = String::new();
        let mut last_url = String::new();
        for retry in 0..=config.retries.max {
            if retry > 0 {
                tokio::time::sleep(config.retries.wait(retry)).await;
            }
            for base in &config.urls {
                let url = endpoint(base, path, config.normalize && method == Method::POST)?;
                last_url = url.to_string();
                attempts += 1;
                self.inner.requests.fetch_add(1, Ordering::Relaxed);
                let mut request = self
                    .inner
                    .http
                    .request(method.clone(), url)
                    .header("Accept", format!("{CONTENT_TYPE}, application/json"));
                if let Some(body) = body {
                    request = request.header("Content-Type", CONTENT_TYPE).json(body);
                }
                request = authorize(request, &config.auth);
                let response = match request.send().await {
                    Ok(response) => response,
                    Err(e) => {
                        if let Some(refused) = certificate_refused(&e) {
                            return Err(Error::Tls {
                                url: last_url,
                                message: refused,
                            });
                        }
                        last = chain(&e);
                        tracing::debug!(url = %last_url, error = %last, "schema registry unreachable");
                        continue;
                    }
                };
                let status = response.status();
                let text = match response.text().await {
                    Ok(text) => text,
                    Err(e) => {
                        last = chain(&e);
                        continue;
                    }
                };
                if status.is_success() {
                    return serde_json::from_str(&text).map_err(|e| Error::Unexpected {
                        status: status.as_u16(),
                        message: format!("{e}: {}", excerpt(&text)),
                    });
                }
                if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                    last = format!("{status}: {}", excerpt(&text));
                    tracing::debug!(url = %last_url, error = %last, "schema registry failed");
                    continue;
                }
                return Err(answer_error(status, &text, &about));
            }
        }
        Err(Error::Unavailable {
            url: last_url,
            attempts,
            elapsed: started.elapsed(),
            last,
        })
    }
}

/// `request` with the credentials `auth` says.
fn authorize(request: reqwest::RequestBuilder, auth: &Auth) -> reqwest::RequestBuilder {
    match auth {
        Auth::None => request,
        Auth::Basic { user, password } => request.basic_auth(user, Some(password)),
        Auth::Bearer(token) => request.bearer_auth(token),
    }
}

/// `base` + the path segments (each percent-encoded), with `?normalize=true` if asked.
fn endpoint(base: &str, path: &[&str], normalize: bool) -> Result<Url> {
    let mut url = Url::parse(base)
        .map_err(|e| Error::config("schema.registry.url", format!("`{base}`: {e}")))?;
    url.path_segments_mut()
        .map_err(|()| Error::config("schema.registry.url", format!("`{base}` has no path")))?
        .pop_if_empty()
        .extend(path);
    if normalize {
        url.query_pairs_mut().append_pair("normalize", "true");
    }
    Ok(url)
}

/// The typed error for a final (not retried) answer.
fn answer_error(status: StatusCode, body: &str, about: &About<'_>) -> Error {
    let parsed: Option<ErrorAnswer> = serde_json::from_str(body).ok();
    let code = parsed
        .as_ref()
        .and_then(|a| a.error_code)
        .unwrap_or(i64::from(status.as_u16()));
    let message = parsed
        .and_then(|a| a.message)
        .unwrap_or_else(|| excerpt(body));
    let message = if message.trim().is_empty() {
        status.canonical_reason().unwrap_or("no message").to_owned()
    } else {
        message
    };
    let subject = about.subject.unwrap_or_default().to_owned();
    match status.as_u16() {
        401 => Error::Unauthorized { message },
        403 => Error::Forbidden { message },
        409 => Error::Incompatible { subject, message },
        422 => Error::InvalidSchema { code, message },
        404 => match (code, about.id) {
            (40401, _) => Error::SubjectNotFound { subject },
            (40402, _) => Error::VersionNotFound {
                subject,
                version: about.version.unwrap_or_default().to_owned(),
            },
            (40403, Some(id)) => Error::SchemaNotFound { id },
            _ => Error::NotFound { code, message },
        },
        other => Error::Unexpected {
            status: other,
            message,
        },
    }
}

/// What rustls said when the handshake failed on the certificate (a failure no retry
/// fixes), found in `error`'s chain of causes.
fn certificate_refused(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut source = Some(error);
    while let Some(cause) = source {
        // An io::Error's own `source` skips the error it wraps (which may be another
        // io::Error): go through `get_ref` instead.
        let (cause, next) = match cause.downcast_ref::<std::io::Error>() {
            Some(io) => match io.get_ref() {
                Some(inner) => (
                    inner as &(dyn std::error::Error + 'static),
                    Some(inner as _),
                ),
                None => (cause, None),
            },
            None => (cause, cause.source()),
        };
        if let Some(tls) = cause.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            )
            .then(|| tls.to_string());
        }
        source = next;
    }
    None
}

fn excerpt(text: &str) -> String {
    text.chars().take(300).collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_go_in_the_authorization_header() {
        let header = |auth: &Auth| {
            let request = authorize(reqwest::Client::new().get("http://127.0.0.1:9/"), auth)
                .build()
                .unwrap_or_else(|e| panic!("{e}"));
            request
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(header(&Auth::None), None);
        assert_eq!(
            header(&Auth::Bearer("tok-123".into())).as_deref(),
            Some("Bearer tok-123")
        );
        // "alice:s3cret" in base64.
        let basic = Auth::Basic {
            user: "alice".into(),
            password: "s3cret".into(),
        };
        assert_eq!(header(&basic).as_deref(), Some("Basic YWxpY2U6czNjcmV0"));
    }

    #[test]
    fn paths_are_appended_and_encoded() {
        let url = endpoint(
            "http://127.0.0.1:8080/apis/ccompat/v7",
            &["subjects", "a/b c-value", "versions"],
            true,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/apis/ccompat/v7/subjects/a%2Fb%20c-value/versions?normalize=true"
        );
        let root = endpoint("http://r:8081", &["schemas", "ids", "7"], false)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(root.as_str(), "http://r:8081/schemas/ids/7");
    }

    #[test]
    fn answers_become_typed_errors() {
        let about = About {
            subject: Some("orders-value"),
            version: Some("3"),
            id: None,
        };
        let error = |status: u16, body: &str| {
            answer_error(
                StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
                body,
                &about,
            )
        };
        assert!(matches!(error(401, ""), Error::Unauthorized { .. }));
        assert!(matches!(error(403, "{}"), Error::Forbidden { .. }));
        assert!(matches!(
            error(409, r#"{"error_code":409,"message":"incompatible"}"#),
            Error::Incompatible { subject, message } if subject == "orders-value" && message == "incompatible"
        ));
        assert!(matches!(
            error(422, r#"{"error_code":42201,"message":"bad"}"#),
            Error::InvalidSchema { code: 42201, .. }
        ));
        assert!(matches!(
            error(404, r#"{"error_code":40401}"#),
            Error::SubjectNotFound { .. }
        ));
        assert!(matches!(
            error(404, r#"{"error_code":40402}"#),
            Error::VersionNotFound { version, .. } if version == "3"
        ));
        assert!(matches!(
            error(404, r#"{"error_code":40403}"#),
            Error::NotFound { code: 40403, .. }
        ));
        let by_id = About {
            id: Some(9),
            ..About::default()
        };
        assert!(matches!(
            answer_error(StatusCode::NOT_FOUND, r#"{"error_code":40403}"#, &by_id),
            Error::SchemaNotFound { id: 9 }
        ));
    }
}
