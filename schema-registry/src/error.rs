//! Registry errors, typed by what the caller can do about them.
//!
//! # References
//! - Confluent Schema Registry API reference, "Errors" (`error_code` values such as 40401,
//!   40403, 42201, 409)

use std::time::Duration;

/// A registry client result.
pub type Result<T> = std::result::Result<T, Error>;

/// What went wrong talking to the registry, or with what it holds.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting is missing or wrong; `key` names it.
    #[error("invalid schema registry setting `{key}`: {message}")]
    Config {
        /// The setting.
        key: String,
        /// What is wrong with it.
        message: String,
    },
    /// 401: the registry wants other credentials.
    #[error("the schema registry refused the credentials (401): {message} (check basic.auth.user.info / bearer.auth.token)")]
    Unauthorized {
        /// The registry's message.
        message: String,
    },
    /// 403: the credentials are known but not allowed this.
    #[error("the schema registry forbids this (403): {message} (the credentials' permissions)")]
    Forbidden {
        /// The registry's message.
        message: String,
    },
    /// 409: the schema is not compatible with the subject's earlier versions.
    #[error("schema incompatible with subject `{subject}` (409): {message}")]
    Incompatible {
        /// The subject.
        subject: String,
        /// The registry's message (which versions, which rule).
        message: String,
    },
    /// 422: the registry does not accept the schema text (or a reference).
    #[error("invalid schema (422, error code {code}): {message}")]
    InvalidSchema {
        /// The registry's error code (42201 invalid schema, 42202 invalid version, ...).
        code: i64,
        /// The registry's message.
        message: String,
    },
    /// 404 40401: no such subject.
    #[error("subject `{subject}` not found (40401)")]
    SubjectNotFound {
        /// The subject.
        subject: String,
    },
    /// 404 40402: the subject has no such version.
    #[error("subject `{subject}` has no version {version} (40402)")]
    VersionNotFound {
        /// The subject.
        subject: String,
        /// The version asked for.
        version: String,
    },
    /// 404 40403: no schema has this id.
    #[error("no schema with id {id} (40403)")]
    SchemaNotFound {
        /// The id.
        id: u32,
    },
    /// 404 (other): the schema is not registered under the subject (or the URL is wrong).
    #[error("not found (404, error code {code}): {message}")]
    NotFound {
        /// The registry's error code.
        code: i64,
        /// The registry's message.
        message: String,
    },
    /// The registry could not be reached, or kept failing (5xx), for every try.
    #[error(
        "schema registry at {url} unavailable after {attempts} attempts over {elapsed:?}: {last} (check schema.registry.url; retries: max.retries, retries.wait.ms; each request: request.timeout.ms)"
    )]
    Unavailable {
        /// The URL tried last.
        url: String,
        /// How many requests were tried.
        attempts: u32,
        /// How long it went on.
        elapsed: Duration,
        /// The last failure.
        last: String,
    },
    /// The TLS handshake with the registry failed in a way no retry fixes: its certificate
    /// is not trusted, names another host, or has expired.
    #[error("TLS with the schema registry at {url} failed: {message} (check schema.registry.ssl.ca.location, and that the URL's host is a name on the registry's certificate)")]
    Tls {
        /// The URL.
        url: String,
        /// What rustls said.
        message: String,
    },
    /// The registry answered something this client cannot use.
    #[error("unexpected schema registry answer ({status}): {message}")]
    Unexpected {
        /// The HTTP status.
        status: u16,
        /// What was unexpected.
        message: String,
    },
    /// A value could not be written or read with its schema.
    #[error("{format} serialization failed: {message}")]
    Serialization {
        /// The format (Avro, Protobuf, JSON Schema).
        format: &'static str,
        /// What failed.
        message: String,
    },
    /// `serialize` was called for a topic whose schema id is not known yet: the id comes
    /// from the registry, which `serialize` (synchronous) cannot ask.
    #[error("the schema id for topic `{topic}` is not known yet: await the serializer's prepare(\"{topic}\") once before producing (or use send_event)")]
    NotPrepared {
        /// The topic.
        topic: String,
    },
    /// The producer refused or failed the record.
    #[error(transparent)]
    Producer(kiel::Error),
    /// A value does not have the Confluent wire format's header.
    #[error("not in the Confluent wire format: {0}")]
    WireFormat(String),
}

impl Error {
    pub(crate) fn config(key: &str, message: impl Into<String>) -> Self {
        Self::Config {
            key: key.to_owned(),
            message: message.into(),
        }
    }
}
